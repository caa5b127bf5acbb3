/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * BLAKE2s (RFC 7693), plain and keyed, written from the RFC: the keyed
 * MAC of the HA sync protocol (include/hadp/wire.h) in userspace, where
 * libc has none. No allocation, no libc beyond memcpy/memset and
 * explicit_bzero. hadp.ko never compiles it: it uses the kernel's
 * <crypto/blake2s.h> (include/hadp/wire.c chooses).
 */
#ifndef HADP_BLAKE2S_H
#define HADP_BLAKE2S_H

#include <stddef.h>
#include <linux/types.h>

#define HADP_BLAKE2S_BLOCK	64
#define HADP_BLAKE2S_OUT_MAX	32
#define HADP_BLAKE2S_KEY_MAX	32

struct hadp_blake2s {
	__u32 h[8];		/* chained state */
	__u32 t[2];		/* byte counter, low word first */
	__u8 buf[HADP_BLAKE2S_BLOCK];
	__u32 buflen;		/* bytes in buf, 0..64 */
	__u32 outlen;		/* digest bytes, 1..32 */
};

/* outlen 1..32, keylen 0..32 (key may be NULL when 0): 0, or -1 on a bad
 * length (the state is then unusable). */
int hadp_blake2s_init(struct hadp_blake2s *s, size_t outlen, const void *key, size_t keylen);
void hadp_blake2s_update(struct hadp_blake2s *s, const void *in, size_t inlen);
/* Writes outlen bytes and wipes the state. */
void hadp_blake2s_final(struct hadp_blake2s *s, void *out);
/* One call: 0 or -1 as hadp_blake2s_init. */
int hadp_blake2s(void *out, size_t outlen, const void *key, size_t keylen,
		 const void *in, size_t inlen);

#endif /* HADP_BLAKE2S_H */
