// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfmap.h"
#include "util.h"

int hadp_possible_cpus(void)
{
	static int n;

	if (!n)
		n = libbpf_num_possible_cpus();
	return n;
}

static bool is_percpu(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

int hadp_map_from_fd(int fd, struct hadp_map *m)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int err;

	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		hadp_err("reading map info: %s", strerror(-err));
		close(fd);
		m->fd = -1;
		return err;
	}
	m->fd = fd;
	m->type = info.type;
	m->key_size = info.key_size;
	m->value_size = info.value_size;
	m->buf_size = info.value_size;
	if (is_percpu(info.type))
		m->buf_size = ((info.value_size + 7) & ~7u) *
			      hadp_possible_cpus();
	m->max_entries = info.max_entries;
	m->id = info.id;
	snprintf(m->name, sizeof(m->name), "%s", info.name);
	return 0;
}

int hadp_map_open(const char *path, struct hadp_map *m)
{
	int fd = bpf_obj_get(path);

	if (fd < 0) {
		int err = -errno;

		m->fd = -1;
		if (err != -ENOENT)
			hadp_err("opening %s: %s", path, strerror(-err));
		return err;
	}
	return hadp_map_from_fd(fd, m);
}

void hadp_map_close(struct hadp_map *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

int hadp_map_lookup(const struct hadp_map *m, const void *key, void *val)
{
	if (bpf_map_lookup_elem(m->fd, key, val))
		return -errno;
	return 0;
}

int hadp_map_keys(const struct hadp_map *m, void **keys, size_t *n)
{
	size_t cap = 64, cnt = 0;
	char *buf;
	int err;

	buf = malloc(cap * m->key_size);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (cnt == cap) {
			char *nb = realloc(buf, 2 * cap * m->key_size);

			if (!nb) {
				err = -ENOMEM;
				goto err;
			}
			buf = nb;
			cap *= 2;
		}
		if (bpf_map_get_next_key(m->fd, cnt ? buf + (cnt - 1) *
					 m->key_size : NULL,
					 buf + cnt * m->key_size)) {
			if (errno == ENOENT)
				break;
			err = -errno;
			hadp_err("walking %s: %s", m->name, strerror(-err));
			goto err;
		}
		cnt++;
	}
	*keys = buf;
	*n = cnt;
	return 0;
err:
	free(buf);
	return err;
}

int hadp_map_key_cmp(const void *a, const void *b, void *key_size)
{
	return memcmp(a, b, *(const __u32 *)key_size);
}

/* The walk of hadp_map_entries() for map types without batch lookups. */
static int entries_by_key(const struct hadp_map *m, char **kb, char **vb,
			  size_t *n)
{
	size_t i, cnt, kept = 0;
	void *keys;
	char *vals;
	int err;

	err = hadp_map_keys(m, &keys, &cnt);
	if (err)
		return err;
	vals = malloc((cnt ? cnt : 1) * m->buf_size);
	if (!vals) {
		free(keys);
		return -ENOMEM;
	}
	for (i = 0; i < cnt; i++) {
		err = hadp_map_lookup(m, (char *)keys + i * m->key_size,
				      vals + kept * m->buf_size);
		if (err == -ENOENT)
			continue;	/* deleted meanwhile */
		if (err) {
			hadp_err("reading %s: %s", m->name, strerror(-err));
			free(keys);
			free(vals);
			return err;
		}
		if (kept != i)
			memmove((char *)keys + kept * m->key_size,
				(char *)keys + i * m->key_size, m->key_size);
		kept++;
	}
	*kb = keys;
	*vb = vals;
	*n = kept;
	return 0;
}

#define BATCH_CHUNK	4096

int hadp_map_entries(const struct hadp_map *m, void **keys, void **vals,
		     size_t *n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t cap = BATCH_CHUNK, cnt = 0;
	__u64 token[8];		/* a bucket index for hash maps */
	char *kb, *vb, *p;
	bool first = true;
	__u32 chunk;
	int err;

	kb = malloc(cap * m->key_size);
	vb = malloc(cap * m->buf_size);
	if (!kb || !vb) {
		err = -ENOMEM;
		goto err;
	}
	for (;;) {
		if (cap - cnt < BATCH_CHUNK) {
			cap *= 2;
			p = realloc(kb, cap * m->key_size);
			if (!p) {
				err = -ENOMEM;
				goto err;
			}
			kb = p;
			p = realloc(vb, cap * m->buf_size);
			if (!p) {
				err = -ENOMEM;
				goto err;
			}
			vb = p;
		}
		chunk = BATCH_CHUNK;
		err = bpf_map_lookup_batch(m->fd, first ? NULL : token, token,
					   kb + cnt * m->key_size,
					   vb + cnt * m->buf_size, &chunk, &opts);
		err = err ? -errno : 0;
		if (err && err != -ENOENT && first) {
			/* no batch lookups for this map type */
			free(kb);
			free(vb);
			err = entries_by_key(m, &kb, &vb, &cnt);
			if (err)
				return err;
			break;
		}
		cnt += chunk;
		first = false;
		if (err == -ENOENT)
			break;
		if (err) {
			hadp_err("walking %s: %s", m->name, strerror(-err));
			goto err;
		}
	}
	*keys = kb;
	*vals = vb;
	*n = cnt;
	return 0;
err:
	free(kb);
	free(vb);
	return err;
}

long long hadp_map_count(const struct hadp_map *m)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u64 token[8];
	char *kb, *vb;
	long long n = 0;
	bool first = true;
	__u32 chunk;
	int err;

	kb = malloc((size_t)BATCH_CHUNK * m->key_size);
	vb = malloc((size_t)BATCH_CHUNK * m->buf_size);
	err = kb && vb ? 0 : -ENOMEM;
	while (!err) {
		chunk = BATCH_CHUNK;
		err = bpf_map_lookup_batch(m->fd, first ? NULL : token, token,
					   kb, vb, &chunk, &opts) ? -errno : 0;
		if (err && err != -ENOENT && first) {
			/* no batch lookups for this map type */
			size_t k;
			void *keys;

			err = hadp_map_keys(m, &keys, &k);
			if (!err) {
				free(keys);
				n = k;
			}
			break;
		}
		n += chunk;
		first = false;
	}
	free(kb);
	free(vb);
	return err == -ENOENT || !err ? n : err;
}

int hadp_map_has_key(const struct hadp_map *m, const void *key)
{
	void *keys, *val;
	size_t i, n;
	int err;

	if (m->type != BPF_MAP_TYPE_LPM_TRIE) {
		val = hadp_map_zero_value(m);
		if (!val)
			return -ENOMEM;
		err = hadp_map_lookup(m, key, val);
		free(val);
		return err == -ENOENT ? 0 : err ? err : 1;
	}
	err = hadp_map_keys(m, &keys, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++)
		if (!memcmp((char *)keys + i * m->key_size, key, m->key_size))
			break;
	free(keys);
	return i < n;
}

void *hadp_map_zero_value(const struct hadp_map *m)
{
	return calloc(1, m->buf_size ? m->buf_size : 1);
}

int hadp_map_sum_u64(const struct hadp_map *m, const void *key, void *out)
{
	__u32 stride = (m->value_size + 7) & ~7u;
	__u64 *sum = out;
	char *buf;
	int cpu, err;
	__u32 i;

	buf = hadp_map_zero_value(m);
	if (!buf)
		return -ENOMEM;
	err = hadp_map_lookup(m, key, buf);
	if (err)
		goto out;
	if (!is_percpu(m->type)) {
		memcpy(out, buf, m->value_size);
		goto out;
	}
	memset(out, 0, m->value_size);
	for (cpu = 0; cpu < hadp_possible_cpus(); cpu++) {
		const __u64 *v = (const __u64 *)(buf + cpu * stride);

		for (i = 0; i < m->value_size / 8; i++)
			sum[i] += v[i];
	}
out:
	free(buf);
	return err;
}
