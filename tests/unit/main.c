// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of libhadp: parsing, printing, maps and the datapath objects
 * against the running kernel (as root). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "util.h"

char log_last[1024];
int log_count;

static void capture(enum hadp_log_level level, const char *msg)
{
	if (level == HADP_LOG_DEBUG)
		return;
	snprintf(log_last, sizeof(log_last), "%s", msg);
	log_count++;
}

void log_capture(void)
{
	log_last[0] = '\0';
	log_count = 0;
	hadp_set_log(capture);
}

int main(void)
{
	SRunner *sr = srunner_create(parse_suite());
	int failed;

	hadp_libs_log_init();
	srunner_add_suite(sr, print_suite());
	srunner_add_suite(sr, nat_suite());
	srunner_add_suite(sr, maps_suite());
	srunner_add_suite(sr, dp_suite());
	srunner_add_suite(sr, wire_suite());
	srunner_add_suite(sr, mirror_suite());
	srunner_add_suite(sr, mirror_trust_suite());
	srunner_add_suite(sr, mirror_maps_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
