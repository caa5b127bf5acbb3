/* SPDX-License-Identifier: ((GPL-2.0-only WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * uapi of the generic netlink family "hadp" (hadp.ko).
 *
 * Kept by hand in the shape that the kernel's ynl-gen renders from
 * kmod/hadp.yaml: change both together. Userspace includes it as
 * "uapi/linux/hadp.h" (with -Iinclude); the module as <linux/hadp.h>.
 */
#ifndef _UAPI_LINUX_HADP_H
#define _UAPI_LINUX_HADP_H

#define HADP_FAMILY_NAME	"hadp"
#define HADP_FAMILY_VERSION	1

/* Longest version string the module reports, NUL included. */
#define HADP_VERSION_LEN	32

enum {
	HADP_A_INFO_VERSION = 1,
	HADP_A_INFO_FAMILY_VERSION,
	HADP_A_INFO_MAX_INSTANCES,

	__HADP_A_INFO_MAX,
	HADP_A_INFO_MAX = (__HADP_A_INFO_MAX - 1)
};

enum {
	HADP_CMD_INFO_GET = 1,

	__HADP_CMD_MAX,
	HADP_CMD_MAX = (__HADP_CMD_MAX - 1)
};

#endif /* _UAPI_LINUX_HADP_H */
