// SPDX-License-Identifier: GPL-2.0-only
/*
 * The maps store of the mirroring engine (mirror.h): an instance's maps
 * (the dump and learned MACs; the connections applied are mirror_maps.c's).
 * The store in memory the tests use is tests/unit/mirror_mem.c.
 *
 * Synced entries carry an age, never a clock: a store sets last_seen to
 * its own "now", as a promoted standby treats every entry as just seen
 * (docs/nat.md). The maps' dump walk is mirror_walk.c's.
 */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>

#include "bpfmap.h"
#include "mirror_priv.h"
#include "mirror_walk.h"

static int maps_mac_version(void *ctx, __u32 ifindex, __u32 *version)
{
	struct hadp_mirror_maps *mm = ctx;
	struct hadp_ifindex key = { ifindex };
	struct hadp_iface ifc;
	int rc = hadp_map_lookup(mm->ifaces, &key, &ifc);

	if (rc)
		return rc;
	if (ifc.mac_state != HADP_MAC_KNOWN)
		return -ENOENT;
	*version = ifc.mac_version;
	return 0;
}

/* The standby's datapath runs no program, so nothing races the write;
 * a MAC the operator configured is configuration and stays. */
static int maps_mac_set(void *ctx, const struct hadp_wire_mac_entry *mac)
{
	struct hadp_mirror_maps *mm = ctx;
	struct hadp_ifindex key = { mac->ifindex };
	struct hadp_iface ifc;
	int rc = hadp_map_lookup(mm->ifaces, &key, &ifc);

	if (rc)
		return rc;
	if (ifc.flags & HADP_IFACE_MAC_STATIC)
		return 0;
	memcpy(ifc.mac, mac->mac, sizeof(ifc.mac));
	ifc.mac_state = HADP_MAC_KNOWN;
	ifc.mac_version = mac->version;
	if (bpf_map_update_elem(mm->ifaces->fd, &key, &ifc, BPF_EXIST))
		return -errno;
	return 0;
}

static const struct hadp_mirror_store_ops maps_ops = {
	.conn_version	= mirror_maps_conn_version,
	.conn_set	= mirror_maps_conn_set,
	.conn_del	= mirror_maps_conn_del,
	.mac_version	= maps_mac_version,
	.mac_set	= maps_mac_set,
	.dump_start	= mirror_maps_dump_start,
	.dump_next	= mirror_maps_dump_next,
	.conn_sweep	= mirror_maps_conn_sweep,
	.flush		= mirror_maps_flush,
	.own		= mirror_maps_own,
};

struct hadp_mirror_store hadp_mirror_maps_store(struct hadp_mirror_maps *mm)
{
	return (struct hadp_mirror_store){ &maps_ops, mm };
}
