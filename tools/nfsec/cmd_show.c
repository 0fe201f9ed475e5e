// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec show, stats and showconf: the whole state of a namespace.
 */
#include <stdio.h>

#include "cli.h"

/* SAs, policies and counters, for people or as one JSON object. */
int show_main(int argc, char **argv)
{
	struct stats_reply st;
	unsigned int count = 0;
	int ret;

	if (no_args(argv[0], argc - 1, argv + 1) || nl_stats_get(&st))
		return -1;
	json_begin('{', NULL);
	json_begin('[', "sas");
	if (!opts.json)
		print_heading("SAs: %llu", (unsigned long long)
			      st.val[NFSEC_STATS_A_SA_COUNT]);
	ret = nl_sa_dump(opts.show_keys, sa_list_cb, &count);
	json_end();
	json_begin('[', "policies");
	if (!opts.json && !ret)
		print_heading("%spolicies: %llu", count ? "\n" : "",
			      (unsigned long long)
			      st.val[NFSEC_STATS_A_POLICY_COUNT]);
	if (!ret)
		ret = nl_policy_dump(policy_list_cb, NULL);
	json_end();
	if (!opts.json && !ret)
		print_heading("\ncounters:");
	if (!ret)
		print_stats(&st, "stats");
	json_end();
	return ret;
}

int stats_main(int argc, char **argv)
{
	struct stats_reply st;

	if (no_args(argv[0], argc - 1, argv + 1) || nl_stats_get(&st))
		return -1;
	print_stats(&st, NULL);
	return 0;
}

/* (A larval entry is a reservation of the moment, no configuration.) */
static int sa_conf_cb(const struct sa_spec *sa, void *data)
{
	(void)data;
	if (!sa_larval(sa))
		print_sa_conf(sa);
	return 0;
}

static int policy_conf_cb(const struct policy_spec *pol, void *data)
{
	(void)data;
	print_policy_conf(pol);
	return 0;
}

/*
 * A batch file that makes the same SAs and policies again: SAs first, as
 * protect policies name them; policies in the order the kernel tries them,
 * which adding them in that order keeps.
 */
int showconf_main(int argc, char **argv)
{
	if (no_args(argv[0], argc - 1, argv + 1))
		return -1;
	printf("# nfsec -b FILE reads this back; it holds keys.\n");
	if (nl_sa_dump(true, sa_conf_cb, NULL))
		return -1;
	return nl_policy_dump(policy_conf_cb, NULL);
}
