/* SPDX-License-Identifier: GPL-2.0-only */
/* The walk of an instance's maps for dumps and repairs (mirror_walk.c):
 * dump_start and dump_next of hadp_mirror_maps_store (mirror.h). */
#ifndef HADP_MIRROR_WALK_H
#define HADP_MIRROR_WALK_H

#include "mirror.h"

int mirror_maps_dump_start(void *ctx, __u64 since_ns, __u32 *count);
int mirror_maps_dump_next(void *ctx, struct hadp_wire_entry *e, __u64 now_ns);

#endif /* HADP_MIRROR_WALK_H */
