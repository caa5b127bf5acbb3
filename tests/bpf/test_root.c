// SPDX-License-Identifier: GPL-2.0-only
/* The per-host root: program array, active entry, empty slots. */
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "harness.h"
#include "root.skel.h"

static struct root_bpf *root;
static struct hadp_bpf *second;	/* instance 1; E.skel is instance 0 */

static void root_setup(void)
{
	env_setup();
	root = root_bpf__open_and_load();
	ck_assert_ptr_nonnull(root);
	second = hadp_bpf__open_and_load();
	ck_assert_ptr_nonnull(second);
}

static void root_teardown(void)
{
	hadp_bpf__destroy(second);
	root_bpf__destroy(root);
	env_teardown();
}

static int slot_set(uint32_t slot, int prog_fd)
{
	return bpf_map_update_elem(bpf_map__fd(root->maps.progs), &slot,
				   &prog_fd, BPF_ANY);
}

static void fill_slots(void)
{
	ck_assert_int_eq(slot_set(HADP_SLOT(0, HADP_KIND_VM), E.vm_fd), 0);
	ck_assert_int_eq(slot_set(HADP_SLOT(0, HADP_KIND_UPLINK), E.ul_fd), 0);
	ck_assert_int_eq(slot_set(HADP_SLOT(1, HADP_KIND_VM),
			 bpf_program__fd(second->progs.hadp_vm)), 0);
	ck_assert_int_eq(slot_set(HADP_SLOT(1, HADP_KIND_UPLINK),
			 bpf_program__fd(second->progs.hadp_uplink)), 0);
}

static void set_active(uint32_t inst)
{
	struct hadp_active a = { .instance = inst };
	uint32_t zero = 0;

	ck_assert_int_eq(bpf_map_update_elem(bpf_map__fd(root->maps.active),
					     &zero, &a, BPF_ANY), 0);
}

static struct hadp_root_stats root_counters(void)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	struct hadp_root_stats v[ncpu], sum = { 0 };
	uint32_t zero = 0;

	ck_assert_int_eq(bpf_map_lookup_elem(bpf_map__fd(root->maps.root_stats),
					     &zero, v), 0);
	for (i = 0; i < ncpu; i++) {
		sum.vm_runs += v[i].vm_runs;
		sum.uplink_runs += v[i].uplink_runs;
		sum.vm_empty_slot += v[i].vm_empty_slot;
		sum.uplink_empty_slot += v[i].uplink_empty_slot;
	}
	return sum;
}

static void arp_for_gateway(struct pkt *p)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[6];

	pkt_eth(p, bcast, MAC[VM1], 0x0806);
	pkt_arp(p, 1, MAC[VM1], V4[VM1], zero, GW4);
}

START_TEST(every_kind_of_every_instance_accepted)
{
	uint32_t slot;
	int fd;

	fill_slots();
	for (slot = 0; slot < 4; slot++)
		ck_assert_int_eq(bpf_map_lookup_elem(bpf_map__fd(root->maps.progs),
						     &slot, &fd), 0);
	/* The kernel checks the program type of what goes in. */
	ck_assert_int_ne(slot_set(HADP_SLOT(2, HADP_KIND_VM),
				  bpf_map__fd(E.skel->maps.stats)), 0);
}
END_TEST

START_TEST(no_active_instance)
{
	struct pkt in, out;
	struct hadp_root_stats s;

	fill_slots();
	set_active(HADP_NO_INSTANCE);
	arp_for_gateway(&in);
	ck_assert_int_eq(run(bpf_program__fd(root->progs.root_vm),
			     E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_int_eq(run(bpf_program__fd(root->progs.root_uplink),
			     E.ifindex[UL0], &in, &out), XDP_PASS);
	s = root_counters();
	ck_assert_uint_eq(s.vm_empty_slot, 1);
	ck_assert_uint_eq(s.uplink_empty_slot, 1);
}
END_TEST

START_TEST(runs_active_instance)
{
	struct pkt in, out;
	struct hadp_root_stats s;

	fill_slots();
	set_active(0);
	arp_for_gateway(&in);
	ck_assert_int_eq(run(bpf_program__fd(root->progs.root_vm),
			     E.ifindex[VM1], &in, &out), XDP_REDIRECT);
	ck_assert_uint_eq(STAT(VM1, arp_replies), 1);

	/* One write switches to instance 1, which has no configuration. */
	set_active(1);
	ck_assert_int_eq(run(bpf_program__fd(root->progs.root_vm),
			     E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(STAT(VM1, arp_replies), 1);
	s = root_counters();
	ck_assert_uint_eq(s.vm_runs, 2);
	ck_assert_uint_eq(s.vm_empty_slot, 0);
}
END_TEST

START_TEST(empty_slot_of_active_instance)
{
	struct pkt in, out;
	struct hadp_root_stats s;
	uint32_t slot;

	fill_slots();
	set_active(0);
	slot = HADP_SLOT(0, HADP_KIND_VM);
	ck_assert_int_eq(bpf_map_delete_elem(bpf_map__fd(root->maps.progs),
					     &slot), 0);
	slot = HADP_SLOT(0, HADP_KIND_UPLINK);
	ck_assert_int_eq(bpf_map_delete_elem(bpf_map__fd(root->maps.progs),
					     &slot), 0);
	arp_for_gateway(&in);
	ck_assert_int_eq(run(bpf_program__fd(root->progs.root_vm),
			     E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_int_eq(run(bpf_program__fd(root->progs.root_uplink),
			     E.ifindex[UL0], &in, &out), XDP_PASS);
	ck_assert_pkt_eq(&out, &in);
	s = root_counters();
	ck_assert_uint_eq(s.vm_empty_slot, 1);
	ck_assert_uint_eq(s.uplink_empty_slot, 1);
	ck_assert_uint_eq(STAT(VM1, arp_replies), 0);
}
END_TEST

TCase *tcase_root(void)
{
	TCase *tc = tcase_create("root");

	tcase_add_checked_fixture(tc, root_setup, root_teardown);
	tcase_add_test(tc, every_kind_of_every_instance_accepted);
	tcase_add_test(tc, no_active_instance);
	tcase_add_test(tc, runs_active_instance);
	tcase_add_test(tc, empty_slot_of_active_instance);
	return tc;
}
