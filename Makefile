# SPDX-License-Identifier: GPL-2.0-only
#
# make            BPF objects, skeletons, libhadp, hadp, tests, hadp.ko
# make bpf        BPF objects and skeletons only
# make user       libhadp and the hadp CLI
# make kmod       hadp.ko through Kbuild (KDIR=... to pick the headers)
# make check      every test suite (as root); same as tests/run
# make install    binaries, module and man pages under $(DESTDIR)$(PREFIX)

BUILD    ?= build
CLANG    ?= clang
BPFTOOL  ?= bpftool
CC       ?= gcc
PREFIX   ?= /usr/local
# Debian's linux-headers-amd64 pulls in the newest headers; the running
# kernel may be another one (it is in CI), so look them up, not uname -r.
KDIR     ?= $(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64)))
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

PKGS     := libbpf libxdp libmnl
CFLAGS   ?= -O2 -g
CFLAGS   += -Wall -Wextra -Werror -Wno-unused-parameter -std=gnu11 \
            -Iinclude -Iuser/lib -I$(BUILD) $(shell pkg-config --cflags $(PKGS))
LDLIBS   += $(shell pkg-config --libs $(PKGS)) -lelf -lz
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 \
              -Wall -Werror -Iinclude -I$(BUILD)

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS    := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

LIB_SRCS := $(wildcard user/lib/*.c)
LIB_OBJS := $(patsubst user/lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRCS))
# The HA wire codec (include/hadp/*.c) is shared with hadp.ko; userspace
# gets it through libhadp.a.
WIRE_SRCS := include/hadp/wire.c include/hadp/blake2s.c
WIRE_OBJS := $(patsubst include/hadp/%.c,$(BUILD)/wire/%.o,$(WIRE_SRCS))
WIRE_HDRS := include/hadp/wire.h include/hadp/blake2s.h include/hadp/maps.h
# What every userspace object may include from include/: a change to a
# map layout, the wire codec or the module's uapi rebuilds them all.
SHARED_HDRS := $(WIRE_HDRS) $(wildcard include/uapi/linux/*.h)
CLI_SRCS := $(wildcard user/hadp/*.c)
CLI_OBJS := $(patsubst user/hadp/%.c,$(BUILD)/cli/%.o,$(CLI_SRCS))
# The agent also serves HTTP probes through libmicrohttpd.
HADPD_SRCS := $(wildcard user/hadpd/*.c)
HADPD_OBJS := $(patsubst user/hadpd/%.c,$(BUILD)/agent/%.o,$(HADPD_SRCS))
HADPD_PKGS := libmicrohttpd

TEST_BINS := $(BUILD)/tests/unit $(BUILD)/tests/bpf $(BUILD)/tests/fuzz_wire \
             $(BUILD)/tests/haagent
# libFuzzer target over the wire codec (tests/fuzz/run.sh runs it).
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=undefined -Wall -Wextra -Werror -Iinclude

.PHONY: all bpf user kmod tests check install clean
all: bpf user tests kmod

bpf: $(BPF_OBJS) $(SKELS)
user: $(BUILD)/hadp $(BUILD)/hadpd
tests: $(TEST_BINS)

$(BUILD)/vmlinux.h:
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) include/hadp/maps.h $(BUILD)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/lib/%.o: user/lib/%.c $(wildcard user/lib/*.h) $(SHARED_HDRS) $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(WIRE_OBJS): $(BUILD)/wire/%.o: include/hadp/%.c $(WIRE_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libhadp.a: $(LIB_OBJS) $(WIRE_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/cli/%.o: user/hadp/%.c $(wildcard user/hadp/*.h) $(wildcard user/lib/*.h) \
                  $(SHARED_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/hadp: $(CLI_OBJS) $(BUILD)/libhadp.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/agent/%.o: user/hadpd/%.c $(wildcard user/hadpd/*.h) $(wildcard user/lib/*.h) \
                    $(SHARED_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags $(HADPD_PKGS)) -c $< -o $@

$(BUILD)/hadpd: $(HADPD_OBJS) $(BUILD)/libhadp.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs $(HADPD_PKGS)) -lpthread

# The test agent hadp.ko's suite runs in the VM (tests/vm/module.sh).
$(BUILD)/tests/haagent: tests/vm/haagent.c $(BUILD)/libhadp.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libhadp.a $(LDLIBS)

$(BUILD)/tests/unit: $(wildcard tests/unit/*.c) $(wildcard tests/unit/*.h) $(BUILD)/libhadp.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $(wildcard tests/unit/*.c) $(BUILD)/libhadp.a \
		$(LDLIBS) $(shell pkg-config --libs check) -lpthread

$(BUILD)/tests/bpf: $(wildcard tests/bpf/*.c) $(wildcard tests/bpf/*.h) $(SKELS) include/hadp/maps.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/bpf -o $@ $(wildcard tests/bpf/*.c) \
		$(LDLIBS) $(shell pkg-config --libs check) -lpthread

$(BUILD)/tests/fuzz_wire: tests/fuzz/fuzz_wire.c $(WIRE_SRCS) $(WIRE_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_wire.c $(WIRE_SRCS)

kmod:
	@test -n "$(KDIR)" || { echo "no kernel headers: install linux-headers-amd64 or set KDIR" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

check: all
	tests/run

install: all
	install -D -m 0755 $(BUILD)/hadp $(DESTDIR)$(PREFIX)/sbin/hadp
	install -D -m 0644 user/hadp/hadp.8 $(DESTDIR)$(PREFIX)/share/man/man8/hadp.8
	install -D -m 0755 $(BUILD)/hadpd $(DESTDIR)$(PREFIX)/sbin/hadpd
	install -D -m 0644 user/hadpd/hadpd.8 $(DESTDIR)$(PREFIX)/share/man/man8/hadpd.8
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

clean:
	rm -rf $(BUILD)
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean

# ---- benchmarks (bench/, run by bench/run) ---------------------------------
# The cost wrapper is built like the datapath (same flags, its own skeleton);
# the loaders use libbpf only: they drive what `hadp` loaded and configured.
BENCH_BINS := $(BUILD)/bench/cost $(BUILD)/bench/scale $(BUILD)/bench/applybench
BENCH_CFLAGS := $(CFLAGS) -Ibench/cost -I$(BUILD)/bench

.PHONY: bench
bench: bpf user $(BENCH_BINS)

$(BUILD)/bench/cost.bpf.o: bench/cost/cost.bpf.c bench/cost/wrap.h $(BUILD)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -Ibench/cost -c $< -o $@

$(BUILD)/bench/cost.skel.h: $(BUILD)/bench/cost.bpf.o
	$(BPFTOOL) gen skeleton $< name cost_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/bench/meter.o: bench/cost/meter.c bench/cost/meter.h bench/cost/wrap.h \
		include/hadp/maps.h $(BUILD)/bench/cost.skel.h
	$(CC) $(BENCH_CFLAGS) -c $< -o $@

$(BUILD)/bench/cost: bench/cost/cost.c $(BUILD)/bench/meter.o
	$(CC) $(BENCH_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/scale: bench/scale/scale.c $(BUILD)/bench/meter.o
	$(CC) $(BENCH_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/applybench: bench/sync/applybench.c $(BUILD)/libhadp.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
