/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hadp.ko internals shared between the module's files.
 */
#ifndef HADP_KMOD_H
#define HADP_KMOD_H

#define HADP_MOD_VERSION	"0.1.0"

/* hadp_genl.c: the generic netlink family "hadp". */
int hadp_genl_init(void);
void hadp_genl_exit(void);

#endif /* HADP_KMOD_H */
