// SPDX-License-Identifier: GPL-2.0-only
/*
 * The maps store's connections (mirror.h): a peer's entries written into
 * an instance's conns and conns_rev. The dump and the learned MACs are
 * mirror_store.c's.
 *
 * Owned (a standby: only its agent writes its maps), the store keeps a
 * copy of both maps in memory (shadow.h), read in one batched walk when
 * it is first used after own(true), and answers every lookup from it;
 * writes change the copy and are queued until flush, which the engine
 * calls once per packet: a packet of 32 entries costs a few batched
 * calls, not six calls an entry. Not owned (promotion's reconcile, while
 * the datapath runs), every lookup and write goes to the maps at once.
 * Either way the rules below are the same code.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "bpfmap.h"
#include "mirror_priv.h"
#include "shadow.h"

#define NSEC	1000000000ull
/* The interfaces' owners are read again at least this often. */
#define OWNERS_NS	NSEC

/* An interface that may own connections: its number, VNI and IPv4
 * address, and where its whole entry is (hadp_iface_owns() decides). */
struct owner {
	__u32 vni;
	__be32 ipv4;
	__u32 ifindex;
	__u32 i;
};

struct hadp_mirror_apply {
	struct shadow *conns, *rev;
	bool loaded;		/* the copies are the maps' */
	struct hadp_iface *ifcs;
	struct owner *by_ifindex, *by_addr;
	size_t nowners;
	__u64 owners_ns;	/* read then (0: never) */
	bool owners_missed;	/* read again on a miss since the last flush */
};

/* ---------------------------------------------------------------------- */
/* The interfaces' owners                                                 */
/* ---------------------------------------------------------------------- */

static int cmp_ifindex(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	if (x->vni != y->vni)
		return x->vni < y->vni ? -1 : 1;
	if (x->ipv4 != y->ipv4)
		return x->ipv4 < y->ipv4 ? -1 : 1;
	return cmp_ifindex(a, b);
}

static void owners_free(struct hadp_mirror_apply *ap)
{
	free(ap->ifcs);
	free(ap->by_ifindex);
	free(ap->by_addr);
	ap->ifcs = NULL;
	ap->by_ifindex = ap->by_addr = NULL;
	ap->nowners = 0;
}

/* The ifaces map in one batched read, indexed by number and by VNI and
 * address. */
static int owners_read(struct hadp_mirror_maps *mm, __u64 now_ns)
{
	struct hadp_mirror_apply *ap = mm->apply;
	struct hadp_ifindex *keys;
	struct hadp_iface *vals;
	size_t i, n;
	int rc;

	rc = hadp_map_entries(mm->ifaces, (void **)&keys, (void **)&vals, &n);
	if (rc)
		return rc;
	owners_free(ap);
	ap->ifcs = vals;
	ap->by_ifindex = malloc((n ? n : 1) * sizeof(struct owner));
	ap->by_addr = malloc((n ? n : 1) * sizeof(struct owner));
	if (!ap->by_ifindex || !ap->by_addr) {
		free(keys);
		owners_free(ap);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		ap->by_ifindex[i] = (struct owner){ vals[i].vni, vals[i].ipv4,
						    keys[i].ifindex, i };
	free(keys);
	memcpy(ap->by_addr, ap->by_ifindex, n * sizeof(struct owner));
	qsort(ap->by_ifindex, n, sizeof(struct owner), cmp_ifindex);
	qsort(ap->by_addr, n, sizeof(struct owner), cmp_addr);
	ap->nowners = n;
	ap->owners_ns = now_ns;
	mm->counts.owner_reads++;
	return 0;
}

/* The interface of the read that owns @key: the sender's @ifindex if it
 * does (a pair on one host numbers alike), else the first by number of
 * those with its VNI and address. */
static int owner_find(const struct hadp_mirror_apply *ap, __u32 ifindex,
		      const struct hadp_conn_key *key)
{
	struct owner k = { .vni = key->vni, .ipv4 = key->src, .ifindex = ifindex };
	const struct owner *o;
	size_t lo = 0, hi = ap->nowners, mid;

	o = bsearch(&k, ap->by_ifindex, ap->nowners, sizeof(k), cmp_ifindex);
	if (o && hadp_iface_owns(&ap->ifcs[o->i], key))
		return o->ifindex;
	while (lo < hi) {	/* the first with key's VNI and address */
		mid = (lo + hi) / 2;
		k.ifindex = 0;
		if (cmp_addr(&ap->by_addr[mid], &k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < ap->nowners && ap->by_addr[lo].vni == key->vni &&
	       ap->by_addr[lo].ipv4 == key->src; lo++)
		if (hadp_iface_owns(&ap->ifcs[ap->by_addr[lo].i], key))
			return ap->by_addr[lo].ifindex;
	return -1;
}

/*
 * The sender's ifindex is ours on one host; a peer on another host
 * numbers its interfaces its own way, and the VM's VNI and address name
 * the interface here (the VM side of the key). -EADDRNOTAVAIL when no
 * interface owns them: the sender's number may be another tenant's
 * interface here.
 *
 * The owners are a read of the ifaces map, at most a second old, read
 * again on a miss (once a packet: a flood of unowned entries costs one
 * read). A read that is out of date can only refuse: the datapath
 * delivers a connection only to an interface that owns it
 * (nat_deliver_iface() drops it as conn_not_owned otherwise), so an
 * entry written with a number since given to another VM is dropped,
 * never delivered to that VM, and the next write of the entry, at the
 * latest the active's refresh, names the owner again.
 */
static int local_ifindex(struct hadp_mirror_maps *mm,
			 const struct hadp_wire_conn *c, __u64 now_ns,
			 __u32 *ifindex)
{
	struct hadp_mirror_apply *ap = mm->apply;
	int rc, i;

	*ifindex = c->ifindex;
	if (!mm->ifaces)
		return 0;
	if (!ap->owners_ns || now_ns - ap->owners_ns >= OWNERS_NS) {
		rc = owners_read(mm, now_ns);
		if (rc)
			return rc;
	}
	i = owner_find(ap, c->ifindex, &c->key);
	if (i < 0 && !ap->owners_missed && ap->owners_ns != now_ns) {
		ap->owners_missed = true;
		rc = owners_read(mm, now_ns);
		if (rc)
			return rc;
		i = owner_find(ap, c->ifindex, &c->key);
	}
	if (i < 0)
		return -EADDRNOTAVAIL;
	*ifindex = i;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* The tables: the copy when owned, the maps when not                     */
/* ---------------------------------------------------------------------- */

/* Allocated at first use; owned, the copies read. */
static int ready(struct hadp_mirror_maps *mm)
{
	struct hadp_mirror_apply *ap = mm->apply;
	int rc;

	if (!ap) {
		ap = mm->apply = calloc(1, sizeof(*ap));
		if (!ap)
			return -ENOMEM;
	}
	if (!mm->alone || ap->loaded)
		return 0;
	if (!ap->conns)
		ap->conns = shadow_new(mm->conns);
	if (!ap->rev)
		ap->rev = shadow_new(mm->conns_rev);
	if (!ap->conns || !ap->rev)
		return -ENOMEM;
	rc = shadow_load(ap->conns);
	rc = rc ?: shadow_load(ap->rev);
	if (rc)
		return rc;
	ap->loaded = true;
	mm->counts.loads++;
	return 0;
}

static struct shadow *copy_of(const struct hadp_mirror_maps *mm,
			      const struct hadp_map *m)
{
	if (!mm->alone)
		return NULL;
	return m == mm->conns ? mm->apply->conns : mm->apply->rev;
}

static int tget(const struct hadp_mirror_maps *mm, const struct hadp_map *m,
		const void *key, void *val)
{
	struct shadow *s = copy_of(mm, m);
	const void *v;

	if (!s)
		return hadp_map_lookup(m, key, val);
	v = shadow_get(s, key);
	if (!v)
		return -ENOENT;
	memcpy(val, v, m->value_size);
	return 0;
}

static int tput(const struct hadp_mirror_maps *mm, const struct hadp_map *m,
		const void *key, const void *val)
{
	struct shadow *s = copy_of(mm, m);

	if (s)
		return shadow_put(s, key, val);
	return bpf_map_update_elem(m->fd, key, val, BPF_ANY) ? -errno : 0;
}

static int tdel(const struct hadp_mirror_maps *mm, const struct hadp_map *m,
		const void *key)
{
	struct shadow *s = copy_of(mm, m);

	if (s)
		return shadow_del(s, key);
	return bpf_map_delete_elem(m->fd, key) && errno != ENOENT ? -errno : 0;
}

/* ---------------------------------------------------------------------- */
/* The rules                                                              */
/* ---------------------------------------------------------------------- */

static void rkey_of(const struct hadp_conn_key *key, const struct hadp_conn *val,
		    struct hadp_conn_key *rkey)
{
	struct hadp_wire_conn c = { .key = *key, .nat_ip = val->nat_ip,
				    .nat_port = val->nat_port };

	hadp_wire_conn_rkey(&c, rkey);
}

/* Delete @rkey from conns_rev if it still names @key: a reverse entry
 * that names another connection is that one's. */
static int rev_del(const struct hadp_mirror_maps *mm,
		   const struct hadp_conn_key *rkey, const struct hadp_conn_key *key)
{
	struct hadp_conn_key back;
	int rc = tget(mm, mm->conns_rev, rkey, &back);

	if (rc)
		return rc == -ENOENT ? 0 : rc;
	if (memcmp(&back, key, sizeof(back)))
		return 0;
	return tdel(mm, mm->conns_rev, rkey);
}

/* The other connection that holds public key @rkey (its reverse entry
 * names it, and its own NAT address and port make @rkey): 1 with it in
 * mm->displaced, 0 for none (a reverse entry left dangling is no
 * holder), or -errno. */
static int rkey_holder(struct hadp_mirror_maps *mm, const struct hadp_conn_key *key,
		       const struct hadp_conn_key *rkey)
{
	struct hadp_conn_key other, oth_r;
	int rc = tget(mm, mm->conns_rev, rkey, &other);

	if (rc == -ENOENT || (!rc && !memcmp(&other, key, sizeof(other))))
		return 0;
	if (!rc)
		rc = tget(mm, mm->conns, &other, &mm->displaced_val);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	rkey_of(&other, &mm->displaced_val, &oth_r);
	if (memcmp(&oth_r, rkey, sizeof(oth_r)))
		return 0;
	mm->displaced = other;
	return 1;
}

int mirror_maps_conn_version(void *ctx, const struct hadp_conn_key *key,
			     __u32 *version)
{
	struct hadp_mirror_maps *mm = ctx;
	struct hadp_conn val;
	int rc = ready(mm);

	rc = rc ?: tget(mm, mm->conns, key, &val);
	if (!rc)
		*version = val.version;
	return rc;
}

/*
 * Public-side key first, as the datapath claims a port: a packet from
 * outside that finds it finds its connection. (Owned, a flush writes all
 * deletes, then conns_rev, then conns, each key in its final state.)
 *
 * A NAT port clash (another connection holds the entry's public key) is
 * won by the entry being set: it comes from the side the outside talks
 * to (the active, or at promotion the old active's maps), and the one
 * held here is what a delete not received yet left behind. The loser
 * goes whole, both its keys, so that no later delete of it can take the
 * winner's reverse entry.
 */
int mirror_maps_conn_set(void *ctx, const struct hadp_wire_conn *c, __u64 now_ns)
{
	struct hadp_mirror_maps *mm = ctx;
	struct hadp_conn val = {
		.last_seen = now_ns, .version = c->version,
		.nat_ip = c->nat_ip, .nat_port = c->nat_port, .state = c->state,
		.flags = c->flags,
	};
	struct hadp_conn old;
	struct hadp_conn_key rkey, oldr;
	bool had;
	int clash, rc = ready(mm);

	rc = rc ?: local_ifindex(mm, c, now_ns, &val.ifindex);
	if (rc)
		return rc;
	had = !tget(mm, mm->conns, &c->key, &old);
	hadp_wire_conn_rkey(c, &rkey);
	clash = rkey_holder(mm, &c->key, &rkey);
	if (clash < 0)
		return clash;
	if (clash && (rc = tdel(mm, mm->conns, &mm->displaced)))
		return rc;
	rc = tput(mm, mm->conns_rev, &rkey, &c->key);
	rc = rc ?: tput(mm, mm->conns, &c->key, &val);
	if (rc)
		return rc;
	/* NAT address and port never change on the active; should one
	 * come, the old public key must not stay behind. */
	if (had) {
		rkey_of(&c->key, &old, &oldr);
		if (memcmp(&oldr, &rkey, sizeof(rkey)))
			rev_del(mm, &oldr, &c->key);
	}
	return clash;
}

int mirror_maps_conn_del(void *ctx, const struct hadp_conn_key *key)
{
	struct hadp_mirror_maps *mm = ctx;
	struct hadp_conn_key rkey;
	struct hadp_conn val;
	int rc = ready(mm);

	rc = rc ?: tget(mm, mm->conns, key, &val);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	rkey_of(key, &val, &rkey);
	rc = tdel(mm, mm->conns, key);
	return rc ?: rev_del(mm, &rkey, key);
}

/* Only a standby sweeps, owned: its copy is the table, no read needed. */
int mirror_maps_conn_sweep(void *ctx, __u64 before_ns)
{
	struct hadp_mirror_maps *mm = ctx;
	const struct hadp_conn *val;
	const void *key;
	size_t pos = 0;
	int rc = ready(mm), gone = 0;

	if (!rc && !mm->alone)
		rc = -EPERM;
	while (!rc && (key = shadow_next(mm->apply->conns, &pos, (const void **)&val))) {
		if (val->last_seen >= before_ns)
			continue;
		rc = mirror_maps_conn_del(mm, key);
		gone++;
	}
	if (!rc && (rc = mirror_maps_flush(mm)) > 0)
		rc = -EIO;
	return rc ? rc : gone;
}

/* Deletes first (conns, then conns_rev, as conn_del goes), then the
 * public keys, then conns: the order conn_set writes in. A delete that
 * found no key, or a write the map refused, leaves the copy wrong about
 * it: it is read afresh at its next use. */
int mirror_maps_flush(void *ctx)
{
	struct hadp_mirror_maps *mm = ctx;
	struct hadp_mirror_apply *ap = mm->apply;
	struct shadow_counts c = { 0 };
	unsigned int failed;

	if (ap)
		ap->owners_missed = false;
	if (!mm->alone || !ap || !ap->loaded ||
	    !(shadow_queued(ap->conns) + shadow_queued(ap->rev)))
		return 0;
	failed = shadow_commit_deletes(ap->conns, &c);
	failed += shadow_commit_deletes(ap->rev, &c);
	failed += shadow_commit_updates(ap->rev, &c);
	failed += shadow_commit_updates(ap->conns, &c);
	shadow_settle(ap->conns);
	shadow_settle(ap->rev);
	mm->counts.flushes++;
	mm->counts.batches += c.batches;
	mm->counts.missing += c.missing;
	mm->counts.failed += c.failed;
	if (c.missing || c.failed)
		ap->loaded = false;
	return failed;
}

void mirror_maps_own(void *ctx, bool alone)
{
	struct hadp_mirror_maps *mm = ctx;
	struct hadp_mirror_apply *ap = mm->apply;

	mirror_maps_flush(mm);
	mm->alone = alone;
	if (!ap)
		return;
	ap->loaded = false;
	if (!alone) {
		shadow_free(ap->conns);
		shadow_free(ap->rev);
		ap->conns = ap->rev = NULL;
	}
}

void mirror_maps_apply_free(struct hadp_mirror_maps *mm)
{
	if (!mm->apply || mm->alone)
		return;
	owners_free(mm->apply);
	free(mm->apply);
	mm->apply = NULL;
}
