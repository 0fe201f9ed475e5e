// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec monitor: one line per event, until interrupted; with -j, one JSON
 * object per line.
 */
#include <stdio.h>

#include "cli.h"

int print_event(uint8_t cmd, const struct event_spec *ev, void *data)
{
	static const char *const names[] = {
		[NFSEC_CMD_SA_ADD] = "add",
		[NFSEC_CMD_SA_UPDATE] = "update",
		[NFSEC_CMD_SA_DEL] = "del",
		[NFSEC_CMD_SA_FLUSH] = "flush",
		[NFSEC_CMD_SA_EXPIRE] = "expire",
		[NFSEC_CMD_ACQUIRE] = "acquire",
		[NFSEC_CMD_MAPPING] = "mapping",
	};
	const char *name = cmd < ARRAY_SIZE(names) ? names[cmd] : NULL;

	(void)data;
	if (!ev) {
		if (opts.json)
			print_sa_event("lost", NULL);
		else
			printf("events lost: the monitor did not keep up\n");
	} else if (!name) {
		if (opts.json)
			print_sa_event("unknown", NULL);
		else
			printf("unknown event %u\n", cmd);
	} else if (cmd == NFSEC_CMD_ACQUIRE) {
		print_acquire(&ev->pol, &ev->flow);
	} else if (cmd == NFSEC_CMD_MAPPING) {
		print_mapping(&ev->sa, &ev->map);
	} else if (opts.json) {
		print_sa_event(name, cmd == NFSEC_CMD_SA_FLUSH ? NULL :
				     &ev->sa);
	} else if (cmd == NFSEC_CMD_SA_FLUSH) {
		printf("sa flush\n");
	} else {
		printf("sa %s ", name);
		print_sa_id(&ev->sa);
		if (cmd == NFSEC_CMD_SA_EXPIRE)
			printf(" reason %s", ev->sa.expire < 4 &&
			       expire_names[ev->sa.expire] ?
			       expire_names[ev->sa.expire] : "?");
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
	json_oneline(true);
	return nl_monitor(print_event, NULL);
}
