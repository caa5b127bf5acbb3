/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HA wire codec (include/hadp/wire.h) as the module uses it, and the
 * module's own defaults.
 */
#ifndef HADP_KMOD_WIRE_H
#define HADP_KMOD_WIRE_H

#include <hadp/wire.h>

/* Messages per packet a new group accepts (max-coalesce) unless told. */
#define HADP_DEFAULT_MAX_COALESCE	64
/* Messages per packet we send until the peer advertises or the agent
 * says more: never more than a receiver said. */
#define HADP_DEFAULT_PEER_MAX_COALESCE	1
#define HADP_DEFAULT_MTU		1500

#endif /* HADP_KMOD_WIRE_H */
