/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared between root.c, attach.c and inst.c only. */
#ifndef HADP_DP_PRIV_H
#define HADP_DP_PRIV_H

#include "root.skel.h"
#include "dp.h"

int root_load(struct hadp_host *h, struct root_bpf **out,
	      bool reused[HADP_ROOT_MAP_MAX], bool need_all);
struct bpf_program *root_skel_prog(struct root_bpf *skel, int kind);
void root_close(struct hadp_host *h);
/* <bpffs>/hadp/_root/<name> */
void root_path(const struct hadp_host *h, char *buf, size_t len,
	       const char *name);

#endif /* HADP_DP_PRIV_H */
