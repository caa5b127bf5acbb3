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
# Every C file is compiled to an object on its own, and the compiler writes
# the headers it read beside the object (-MMD: build/x.o -> build/x.d; -MP:
# a removed header is no error); the .d files are read at the end. Headers
# that are generated (skeletons, vmlinux.h) are order-only prerequisites:
# they exist before the first compile, and the .d files track them after.
DEPFLAGS := -MMD -MP

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS    := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

LIB_SRCS := $(wildcard user/lib/*.c)
LIB_OBJS := $(patsubst user/lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRCS))
# The HA wire codec (include/hadp/*.c) is shared with hadp.ko; userspace
# gets it through libhadp.a.
WIRE_SRCS := include/hadp/wire.c include/hadp/blake2s.c
WIRE_OBJS := $(patsubst include/hadp/%.c,$(BUILD)/wire/%.o,$(WIRE_SRCS))
CLI_SRCS := $(wildcard user/hadp/*.c)
CLI_OBJS := $(patsubst user/hadp/%.c,$(BUILD)/cli/%.o,$(CLI_SRCS))
# The agent also serves HTTP probes through libmicrohttpd.
HADPD_SRCS := $(wildcard user/hadpd/*.c)
HADPD_OBJS := $(patsubst user/hadpd/%.c,$(BUILD)/agent/%.o,$(HADPD_SRCS))
HADPD_PKGS := libmicrohttpd

TEST_BINS := $(BUILD)/tests/unit $(BUILD)/tests/bpf $(BUILD)/tests/fuzz_wire \
             $(BUILD)/tests/haagent
UNIT_OBJS := $(patsubst tests/unit/%.c,$(BUILD)/tests/obj/unit/%.o,$(wildcard tests/unit/*.c))
BPFT_OBJS := $(patsubst tests/bpf/%.c,$(BUILD)/tests/obj/bpf/%.o,$(wildcard tests/bpf/*.c))
# libFuzzer target over the wire codec (tests/fuzz/run.sh runs it), built
# with its own flags, the codec too.
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=undefined -Wall -Wextra -Werror -Iinclude
FUZZ_OBJS := $(patsubst %.c,$(BUILD)/tests/obj/fuzz/%.o,fuzz_wire.c $(notdir $(WIRE_SRCS)))

.PHONY: all bpf user kmod tests check install clean
all: bpf user tests kmod

bpf: $(BPF_OBJS) $(SKELS)
user: $(BUILD)/hadp $(BUILD)/hadpd
tests: $(TEST_BINS)

$(BUILD)/vmlinux.h:
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c | $(BUILD)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# Userspace objects may include libhadp's headers, and some of those the
# skeletons: every one waits for the skeletons.
$(BUILD)/lib/%.o: user/lib/%.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(WIRE_OBJS): $(BUILD)/wire/%.o: include/hadp/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/libhadp.a: $(LIB_OBJS) $(WIRE_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/cli/%.o: user/hadp/%.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/hadp: $(CLI_OBJS) $(BUILD)/libhadp.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/agent/%.o: user/hadpd/%.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) $(shell pkg-config --cflags $(HADPD_PKGS)) -c $< -o $@

$(BUILD)/hadpd: $(HADPD_OBJS) $(BUILD)/libhadp.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs $(HADPD_PKGS)) -lpthread

# The test agent hadp.ko's suite runs in the VM (tests/vm/module.sh).
$(BUILD)/tests/obj/haagent.o: tests/vm/haagent.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/tests/haagent: $(BUILD)/tests/obj/haagent.o $(BUILD)/libhadp.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/obj/unit/%.o: tests/unit/%.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -Itests/unit -c $< -o $@

$(BUILD)/tests/unit: $(UNIT_OBJS) $(BUILD)/libhadp.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs check) -lpthread

$(BUILD)/tests/obj/bpf/%.o: tests/bpf/%.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -Itests/bpf -c $< -o $@

$(BUILD)/tests/bpf: $(BPFT_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs check) -lpthread

$(BUILD)/tests/obj/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/tests/obj/fuzz/%.o: include/hadp/%.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/tests/fuzz_wire: $(FUZZ_OBJS)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $^

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
BENCH_OBJS := $(patsubst %,$(BUILD)/bench/%.o,cost.bpf meter cost scale applybench)

.PHONY: bench
bench: bpf user $(BENCH_BINS)

$(BUILD)/bench/cost.bpf.o: bench/cost/cost.bpf.c | $(BUILD)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -Ibench/cost -c $< -o $@

$(BUILD)/bench/cost.skel.h: $(BUILD)/bench/cost.bpf.o
	$(BPFTOOL) gen skeleton $< name cost_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/bench/meter.o: bench/cost/meter.c | $(BUILD)/bench/cost.skel.h
	$(CC) $(BENCH_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/bench/cost.o: bench/cost/cost.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/bench/scale.o: bench/scale/scale.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/bench/applybench.o: bench/sync/applybench.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -Itests/unit -c $< -o $@

$(BENCH_BINS): $(BUILD)/bench/%: $(BUILD)/bench/%.o
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/cost $(BUILD)/bench/scale: $(BUILD)/bench/meter.o
# The active side's store is the tests' one in memory (not in libhadp).
$(BUILD)/bench/applybench: $(BUILD)/tests/obj/unit/mirror_mem.o $(BUILD)/libhadp.a

# ---- header dependencies (DEPFLAGS) -----------------------------------------
-include $(patsubst %.o,%.d,$(BPF_OBJS) $(LIB_OBJS) $(WIRE_OBJS) $(CLI_OBJS) \
	$(HADPD_OBJS) $(UNIT_OBJS) $(BPFT_OBJS) $(FUZZ_OBJS) $(BENCH_OBJS) \
	$(BUILD)/tests/obj/haagent.o)
