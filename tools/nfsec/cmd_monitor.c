// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec monitor: one line per SA event, until interrupted.
 */
#include <stdio.h>

#include "cli.h"

static int print_event(uint8_t cmd, const struct sa_spec *sa, void *data)
{
	static const char *const names[] = {
		[NFSEC_CMD_SA_ADD] = "add",
		[NFSEC_CMD_SA_UPDATE] = "update",
		[NFSEC_CMD_SA_DEL] = "del",
		[NFSEC_CMD_SA_FLUSH] = "flush",
		[NFSEC_CMD_SA_EXPIRE] = "expire",
	};

	(void)data;
	if (!sa) {
		printf("events lost: the monitor did not keep up\n");
	} else if (cmd >= ARRAY_SIZE(names) || !names[cmd]) {
		printf("unknown event %u\n", cmd);
	} else if (cmd == NFSEC_CMD_SA_FLUSH) {
		printf("sa flush\n");
	} else {
		printf("sa %s ", names[cmd]);
		print_sa_id(sa);
		if (cmd == NFSEC_CMD_SA_EXPIRE)
			printf(" reason %s", sa->expire < 4 &&
			       expire_names[sa->expire] ?
			       expire_names[sa->expire] : "?");
		putchar('\n');
	}
	if (fflush(stdout))
		return error("stdout: %m");
	return 0;
}

int monitor_main(int argc, char **argv)
{
	if (no_args(argv[0], argc - 1, argv + 1))
		return -1;
	return nl_monitor(print_event, NULL);
}
