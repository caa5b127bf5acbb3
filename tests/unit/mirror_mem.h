// SPDX-License-Identifier: GPL-2.0-only
/* The mirroring engine's store in memory (mirror_mem.c), a test double. */
#ifndef HADP_TESTS_MIRROR_MEM_H
#define HADP_TESTS_MIRROR_MEM_H

#include "mirror.h"

/* Up to max conns, any ifindex below 4096 for MACs. Its entries can be
 * compared and walked. */
struct mirror_mem;
struct mirror_mem *mirror_mem_new(unsigned int max);
void mirror_mem_free(struct mirror_mem *mm);
struct hadp_mirror_store mirror_mem_store(struct mirror_mem *mm);
/* 0 and *c filled (last_seen of its own clock in *last_seen), or -ENOENT. */
int mirror_mem_conn(const struct mirror_mem *mm,
		    const struct hadp_conn_key *key, struct hadp_wire_conn *c,
		    __u64 *last_seen);
unsigned int mirror_mem_count(const struct mirror_mem *mm);
/* Same conns (key, version, nat, state, flags, ifindex) and MACs. */
bool mirror_mem_equal(const struct mirror_mem *a, const struct mirror_mem *b);
int mirror_mem_mac(const struct mirror_mem *mm, __u32 ifindex, __u8 mac[6]);

#endif /* HADP_TESTS_MIRROR_MEM_H */
