/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef HADP_UNIT_H
#define HADP_UNIT_H

#include <check.h>
#include <linux/types.h>

#include "bpfmap.h"

Suite *parse_suite(void);
Suite *print_suite(void);
Suite *maps_suite(void);
Suite *dp_suite(void);
Suite *nat_suite(void);
Suite *wire_suite(void);
Suite *mirror_suite(void);
Suite *mirror_trust_suite(void);
Suite *mirror_maps_suite(void);

/* A BPF hash map of 64 entries, made for the test (tests/unit/test_mirror.c). */
struct hadp_map unit_hash_map(__u32 key_size, __u32 value_size);

/* The last message libhadp reported and how many there were since
 * log_capture() started capturing. */
void log_capture(void);
extern char log_last[1024];
extern int log_count;

#endif /* HADP_UNIT_H */
