// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * BLAKE2s, written from RFC 7693 (sections 2 and 3): 32-bit words, 64-byte
 * blocks, 10 rounds, rotations 16, 12, 8, 7, the SHA-256 IV. Keyed mode
 * puts the key, zero-padded to a block, in front of the data and the key
 * length in the parameter block; that is the MAC (RFC 7693 section 3.2,
 * "BLAKE2 is a keyed hash ... a MAC"), safe against length extension
 * because the last block is marked by the finalisation flag.
 */
#include <string.h>

#include "blake2s.h"

static const __u32 hadp_blake2s_iv[8] = {
	0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
	0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
};

/* RFC 7693 section 2.7: message word schedule SIGMA, rounds 0..9. */
static const __u8 hadp_blake2s_sigma[10][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
	{ 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
	{ 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
	{ 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
	{ 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
	{ 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
	{ 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
	{ 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
	{ 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
};

static inline __u32 hadp_blake2s_ror(__u32 x, unsigned int n)
{
	return (x >> n) | (x << (32 - n));
}

static inline __u32 hadp_blake2s_le32(const __u8 *p)
{
	return (__u32)p[0] | (__u32)p[1] << 8 | (__u32)p[2] << 16 | (__u32)p[3] << 24;
}

/* RFC 7693 section 3.1: the mixing function G. */
#define HADP_B2S_G(v, a, b, c, d, x, y)					\
	do {								\
		v[a] = v[a] + v[b] + (x);				\
		v[d] = hadp_blake2s_ror(v[d] ^ v[a], 16);		\
		v[c] = v[c] + v[d];					\
		v[b] = hadp_blake2s_ror(v[b] ^ v[c], 12);		\
		v[a] = v[a] + v[b] + (y);				\
		v[d] = hadp_blake2s_ror(v[d] ^ v[a], 8);		\
		v[c] = v[c] + v[d];					\
		v[b] = hadp_blake2s_ror(v[b] ^ v[c], 7);		\
	} while (0)

/* RFC 7693 section 3.2: the compression function F. */
static void hadp_blake2s_compress(struct hadp_blake2s *s, const __u8 *block, int last)
{
	__u32 m[16], v[16];
	unsigned int i;

	for (i = 0; i < 16; i++)
		m[i] = hadp_blake2s_le32(block + 4 * i);
	for (i = 0; i < 8; i++) {
		v[i] = s->h[i];
		v[i + 8] = hadp_blake2s_iv[i];
	}
	v[12] ^= s->t[0];
	v[13] ^= s->t[1];
	if (last)
		v[14] = ~v[14];
	for (i = 0; i < 10; i++) {
		const __u8 *sg = hadp_blake2s_sigma[i];

		HADP_B2S_G(v, 0, 4, 8, 12, m[sg[0]], m[sg[1]]);
		HADP_B2S_G(v, 1, 5, 9, 13, m[sg[2]], m[sg[3]]);
		HADP_B2S_G(v, 2, 6, 10, 14, m[sg[4]], m[sg[5]]);
		HADP_B2S_G(v, 3, 7, 11, 15, m[sg[6]], m[sg[7]]);
		HADP_B2S_G(v, 0, 5, 10, 15, m[sg[8]], m[sg[9]]);
		HADP_B2S_G(v, 1, 6, 11, 12, m[sg[10]], m[sg[11]]);
		HADP_B2S_G(v, 2, 7, 8, 13, m[sg[12]], m[sg[13]]);
		HADP_B2S_G(v, 3, 4, 9, 14, m[sg[14]], m[sg[15]]);
	}
	for (i = 0; i < 8; i++)
		s->h[i] ^= v[i] ^ v[i + 8];
}

static void hadp_blake2s_count(struct hadp_blake2s *s, __u32 n)
{
	s->t[0] += n;
	if (s->t[0] < n)
		s->t[1]++;
}

int hadp_blake2s_init(struct hadp_blake2s *s, size_t outlen, const void *key, size_t keylen)
{
	unsigned int i;

	if (outlen < 1 || outlen > HADP_BLAKE2S_OUT_MAX || keylen > HADP_BLAKE2S_KEY_MAX ||
	    (keylen && !key))
		return -1;
	for (i = 0; i < 8; i++)
		s->h[i] = hadp_blake2s_iv[i];
	/* Parameter block word 0: digest length, key length, fanout 1, depth 1. */
	s->h[0] ^= 0x01010000 ^ ((__u32)keylen << 8) ^ (__u32)outlen;
	s->t[0] = s->t[1] = 0;
	s->buflen = 0;
	s->outlen = (__u32)outlen;
	memset(s->buf, 0, sizeof(s->buf));
	if (keylen) {
		/* The key, padded with zeros, is the first block. */
		memcpy(s->buf, key, keylen);
		s->buflen = HADP_BLAKE2S_BLOCK;
	}
	return 0;
}

void hadp_blake2s_update(struct hadp_blake2s *s, const void *in, size_t inlen)
{
	const __u8 *p = in;

	while (inlen > 0) {
		size_t take;

		/* A full buffer is compressed only once more input follows:
		 * the last block must wait for the finalisation flag. */
		if (s->buflen == HADP_BLAKE2S_BLOCK) {
			hadp_blake2s_count(s, HADP_BLAKE2S_BLOCK);
			hadp_blake2s_compress(s, s->buf, 0);
			s->buflen = 0;
		}
		take = HADP_BLAKE2S_BLOCK - s->buflen;
		if (take > inlen)
			take = inlen;
		memcpy(s->buf + s->buflen, p, take);
		s->buflen += (__u32)take;
		p += take;
		inlen -= take;
	}
}

void hadp_blake2s_final(struct hadp_blake2s *s, void *out)
{
	__u8 *o = out;
	unsigned int i;

	hadp_blake2s_count(s, s->buflen);
	memset(s->buf + s->buflen, 0, HADP_BLAKE2S_BLOCK - s->buflen);
	hadp_blake2s_compress(s, s->buf, 1);
	for (i = 0; i < s->outlen; i++)
		o[i] = (__u8)(s->h[i / 4] >> (8 * (i % 4)));
	explicit_bzero(s, sizeof(*s));	/* the key block too */
}

int hadp_blake2s(void *out, size_t outlen, const void *key, size_t keylen,
		 const void *in, size_t inlen)
{
	struct hadp_blake2s s;

	if (hadp_blake2s_init(&s, outlen, key, keylen))
		return -1;
	hadp_blake2s_update(&s, in, inlen);
	hadp_blake2s_final(&s, out);
	return 0;
}
