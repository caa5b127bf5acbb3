// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fast-path tests: crafted packets through the real programs with
 * BPF_PROG_TEST_RUN on the running kernel, exact bytes and verdicts out.
 * Needs root (BPF, a private network namespace).
 */
#include <stdlib.h>
#include "harness.h"

int main(void)
{
	Suite *s = suite_create("fastpath");
	SRunner *sr;
	int failed;

	env_init();
	suite_add_tcase(s, tcase_vm());
	suite_add_tcase(s, tcase_ndisc());
	suite_add_tcase(s, tcase_encap());
	suite_add_tcase(s, tcase_uplink());
	suite_add_tcase(s, tcase_root());
	suite_add_tcase(s, tcase_nat());
	suite_add_tcase(s, tcase_nat_table());
	suite_add_tcase(s, tcase_tenant());
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
