/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Typed access to pinned BPF maps, and a journal that undoes a composite
 * change (several maps, several instances) when a later step fails.
 */
#ifndef HADP_BPFMAP_H
#define HADP_BPFMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct hadp_map {
	int fd;			/* -1 when not open */
	__u32 type;		/* enum bpf_map_type */
	__u32 key_size;
	__u32 value_size;	/* one value, as the program sees it */
	__u32 buf_size;		/* what a lookup writes: all CPUs' values */
	__u32 max_entries;
	__u32 id;
	char name[16];		/* the kernel's name: "ifaces", "stats" */
};

/* Open by path (silent on -ENOENT) or adopt an fd (the map takes it). */
int hadp_map_open(const char *path, struct hadp_map *m);
int hadp_map_from_fd(int fd, struct hadp_map *m);
void hadp_map_close(struct hadp_map *m);

/* 0, or -ENOENT silently, or another -errno. val holds buf_size bytes. */
int hadp_map_lookup(const struct hadp_map *m, const void *key, void *val);
/* Exact key match, also for LPM tries (whose lookup is longest match). */
int hadp_map_has_key(const struct hadp_map *m, const void *key);
/* Every key, in a malloc()ed array of *n keys. Taking them all first
 * makes deleting while walking safe. */
int hadp_map_keys(const struct hadp_map *m, void **keys, size_t *n);
/* A qsort_r() comparator for keys of *(const __u32 *)key_size bytes (a
 * map's key_size): sorted, two maps' keys compare in one pass. */
int hadp_map_key_cmp(const void *a, const void *b, void *key_size);

/* Every entry: keys and values (buf_size bytes each) in malloc()ed
 * arrays of *n. Batched (a syscall per few thousand entries) where the
 * map type allows it, a lookup per key where it does not. As a walk, it
 * may miss an entry added or see one deleted while it runs. */
int hadp_map_entries(const struct hadp_map *m, void **keys, void **vals,
		     size_t *n);

/* The number of entries (or -errno), read as hadp_map_entries() reads
 * them but keeping nothing. */
long long hadp_map_count(const struct hadp_map *m);

/* Sum of a per-CPU array of __u64 counters (value_size / 8 of them) into
 * out; a plain map's value is copied. */
int hadp_map_sum_u64(const struct hadp_map *m, const void *key, void *out);

/* A zero value big enough for any lookup in m (calloc()ed). */
void *hadp_map_zero_value(const struct hadp_map *m);

int hadp_possible_cpus(void);

/* The journal. Each operation remembers what it replaced; rollback undoes
 * them newest first. For maps whose values are program fds (read back as
 * ids) the journal cannot restore the old value: not for those. */
struct hadp_txn {
	struct hadp_txn_op *ops;
	size_t n, cap;
};

#define HADP_TXN_INIT	{ NULL, 0, 0 }

/* flags: BPF_ANY, BPF_NOEXIST or BPF_EXIST; val holds buf_size bytes.
 * Errors are reported (naming what) except -EEXIST/-ENOENT that the
 * flags asked for, which the caller words better. */
int hadp_txn_update(struct hadp_txn *t, const struct hadp_map *m,
		    const void *key, const void *val, __u64 flags);
int hadp_txn_delete(struct hadp_txn *t, const struct hadp_map *m,
		    const void *key);
/* Undo everything (best effort, failures reported) and empty the journal. */
void hadp_txn_rollback(struct hadp_txn *t);
/* Keep everything and empty the journal. */
void hadp_txn_commit(struct hadp_txn *t);

#endif /* HADP_BPFMAP_H */
