// SPDX-License-Identifier: GPL-2.0-only
/*
 * The per-host root object: what is attached to every VM interface and to
 * the uplink. It owns no state of its own beyond a counter; it tail-calls
 * the active instance's program of its kind. Promotion is one write to
 * `active`, and both directions switch at once because both roots read the
 * same entry.
 *
 * Everything placed in `progs` must be loaded like these programs
 * (BPF_PROG_TYPE_XDP, expected_attach_type BPF_XDP, no frags), or the
 * kernel refuses the update.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "hadp/maps.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, HADP_NR_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} progs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hadp_active);
} active SEC(".maps");

/* Read by the control plane only; lives here so every instance finds it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HADP_MAX_INSTANCES);
	__type(key, __u32);
	__type(value, struct hadp_instance);
} instances SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hadp_root_stats);
} root_stats SEC(".maps");

static __always_inline struct hadp_root_stats *root_counters(void)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&root_stats, &k);
}

/* Tail-call the active instance's program of @kind; returns only when
 * there is none (no active instance, or its slot is empty). */
static __always_inline void run_active(struct xdp_md *ctx, __u32 kind)
{
	__u32 k = 0;
	struct hadp_active *a;
	__u32 inst;

	a = bpf_map_lookup_elem(&active, &k);
	if (!a)
		return;
	inst = a->instance;
	if (inst >= HADP_MAX_INSTANCES)
		return;
	bpf_tail_call(ctx, &progs, HADP_SLOT(inst, kind));
}

SEC("xdp")
int root_vm(struct xdp_md *ctx)
{
	struct hadp_root_stats *st = root_counters();

	if (st)
		st->vm_runs++;
	run_active(ctx, HADP_KIND_VM);
	/* No datapath: a VM's packet must never reach the host stack. */
	if (st)
		st->vm_empty_slot++;
	return XDP_DROP;
}

SEC("xdp")
int root_uplink(struct xdp_md *ctx)
{
	struct hadp_root_stats *st = root_counters();

	if (st)
		st->uplink_runs++;
	run_active(ctx, HADP_KIND_UPLINK);
	/* No datapath: the hypervisor's own traffic must keep flowing. */
	if (st)
		st->uplink_empty_slot++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
