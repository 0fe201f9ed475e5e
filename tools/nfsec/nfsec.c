// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec(8): configure the nfsec IPsec module. Global options, the command
 * table, errors and batch files.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct cli_opts opts;

static int help_main(int argc, char **argv);

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "sa", sa_main,
	  "add, update, delete, get, list and flush SAs; allocate SPIs" },
	{ "policy", policy_main,
	  "add, update, delete, list and flush policies" },
	{ "show", show_main, "SAs, policies and counters, for people" },
	{ "stats", stats_main, "the namespace's counters" },
	{ "showconf", showconf_main, "the configuration as a batch file" },
	{ "monitor", monitor_main, "print SA, acquire and mapping events as they come" },
	{ "help", help_main, "this text" },
};

static const char synopsis[] =
"Usage: nfsec [-j] [--show-keys] [-b FILE] OBJECT COMMAND [ARGS]\n"
"\n"
"  nfsec sa add dir in|out src ADDR dst ADDR spi SPI proto esp|ah\n"
"           mode transport|tunnel\n"
"           { aead ALG key HEX [icv BITS]\n"
"           | [enc ALG [key HEX]] [auth ALG key HEX [trunc BITS]] }\n"
"           [replay-window N] [esn] [seq N] [df copy|clear|set]\n"
"           [soft-bytes N] [hard-bytes N] [soft-packets N] [hard-packets N]\n"
"           [soft-seconds N] [hard-seconds N]\n"
"           [soft-use-seconds N] [hard-use-seconds N] [reqid N]\n"
"           [encap udp [sport N] [dport N] [follow] [keepalive SECONDS]]\n"
"  nfsec sa update ...                 same arguments as add\n"
"  nfsec sa del|get dst ADDR spi SPI proto esp|ah\n"
"  nfsec sa list|flush\n"
"  nfsec sa alloc-spi src ADDR dst ADDR proto esp|ah [min N] [max N]\n"
"           [timeout SECONDS]\n"
"  nfsec policy add dir in|out|fwd src PREFIX dst PREFIX\n"
"           [proto tcp|udp|icmp|ipv6-icmp|sctp|udplite|NUM [sport N] [dport N]]\n"
"           [priority N]\n"
"           { protect { spi SPI | reqid N [mode transport|tunnel] [src ADDR] }\n"
"                     [dst ADDR] [proto esp|ah]\n"
"           | bypass | discard }\n"
"  nfsec policy update [index N] ...   same arguments as add\n"
"  nfsec policy del index N\n"
"  nfsec policy del dir in|out|fwd src PREFIX dst PREFIX [proto P]\n"
"           [sport N] [dport N] [priority N]\n"
"  nfsec policy list|flush\n"
"  nfsec show | stats | showconf | monitor\n"
"\n"
"  -j, --json       JSON output for sa get/list, policy list, show, stats\n"
"      --show-keys  print keys (hidden by default)\n"
"  -b FILE          run the commands of FILE, one a line (\"-\": stdin)\n"
"  -h, --help       this text\n"
"\n"
"Objects and commands:\n";

static void usage(FILE *f)
{
	unsigned int i;

	fputs(synopsis, f);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fputs("\nSee nfsec(8).\n", f);
}

static int help_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
}

int error(const char *fmt, ...)
{
	int saved = errno;	/* for the caller's %m, past the flush's I/O */
	va_list ap;

	/*
	 * The lines gathered for the kernel come before this one: their
	 * error, if any, is the batch's (and has been printed).
	 */
	if (opts.batch_file && nl_batch_flush())
		return -1;
	errno = saved;
	fflush(stdout);
	fputs("nfsec: ", stderr);
	if (opts.batch_file)
		fprintf(stderr, "%s:%u: ", opts.batch_file, opts.batch_line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* argv[0] is the object: "sa", "policy", "show", ... */
int run_command(int argc, char **argv)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (streq(argv[0], commands[i].name))
			return commands[i].main(argc, argv);
	return error("unknown object \"%s\" (try nfsec help)", argv[0]);
}

int run_subcmd(const struct subcmd *cmds, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "list";
	const struct subcmd *c;
	size_t n0, n1;
	char name[32];
	struct args a;

	for (c = cmds; c->name && !streq(sub, c->name); c++)
		;
	if (!c->name)
		return error("%s: unknown command \"%s\"", argv[0], sub);
	/* "OBJECT COMMAND", without printf: a batch file's every line */
	n0 = strlen(argv[0]);
	n1 = strlen(sub);
	if (n0 + 1 + n1 >= sizeof(name))
		return error("%s: command name too long", argv[0]);
	memcpy(name, argv[0], n0);
	name[n0] = ' ';
	memcpy(name + n0 + 1, sub, n1 + 1);
	a.cmd = name;
	a.argc = argc > 1 ? argc - 2 : 0;
	a.argv = argv + 2;
	return c->fn(&a);
}

/* For commands that take no arguments: argv holds what follows them. */
int no_args(const char *cmd, int argc, char **argv)
{
	if (argc > 0)
		return error("%s: unknown keyword \"%s\"", cmd, argv[0]);
	return 0;
}

/*
 * Read one command of a batch file into *buf: a line, and the lines after
 * it while one ends in a backslash. Returns its length, or -1 at the end.
 */
static ssize_t read_command(FILE *f, char **buf, size_t *cap)
{
	size_t len = 0, more_cap = 0;
	char *more = NULL;
	ssize_t n;

	n = getline(buf, cap, f);
	if (n < 0)
		return -1;
	opts.batch_line++;
	len = n;
	while (len && (*buf)[len - 1] == '\n')
		(*buf)[--len] = '\0';
	while (len && (*buf)[len - 1] == '\\') {
		(*buf)[len - 1] = ' ';
		n = getline(&more, &more_cap, f);
		if (n < 0)
			break;
		opts.batch_line++;
		if (len + n + 1 > *cap) {
			char *p = malloc(len + n + 1);

			if (!p)
				break;
			memcpy(p, *buf, len);
			explicit_bzero(*buf, *cap);
			free(*buf);
			*buf = p;
			*cap = len + n + 1;
		}
		memcpy(*buf + len, more, n + 1);
		len += n;
		while (len && (*buf)[len - 1] == '\n')
			(*buf)[--len] = '\0';
	}
	if (more) {
		explicit_bzero(more, more_cap);
		free(more);
	}
	return len;
}

static int run_batch(const char *file)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	size_t cap = 0;
	char *line = NULL;
	char *argv[256];
	int argc, ret = 0;

	if (!f)
		return error("%s: %m", file);
	/* only this thread reads it: no lock taken per line */
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	opts.batch_file = file;
	while (read_command(f, &line, &cap) >= 0) {
		argc = tokenize(line, argv, ARRAY_SIZE(argv));
		if (argc > 0)
			ret = run_command(argc, argv);
		else
			ret = argc;
		/* Lines carry keys. */
		explicit_bzero(line, cap);
		if (ret)
			break;
	}
	if (!ret && ferror(f))
		ret = error("%m");
	/* what was gathered came before any failing line: it goes */
	if (nl_batch_flush())
		ret = -1;
	opts.batch_file = NULL;
	free(line);
	if (f != stdin)
		fclose(f);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "show-keys", no_argument, NULL, 'k' },
		{ "batch", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ "dry-run", no_argument, NULL, 'n' },	/* for testing */
		{ NULL, 0, NULL, 0 }
	};
	const char *batch = NULL;
	const char *no_color = getenv("NO_COLOR");
	int c, ret;

	while ((c = getopt_long(argc, argv, "+jb:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			opts.json = true;
			break;
		case 'k':
			opts.show_keys = true;
			break;
		case 'b':
			batch = optarg;
			break;
		case 'n':
			opts.dry_run = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	argc -= optind;
	argv += optind;
	opts.color = isatty(STDOUT_FILENO) && !(no_color && *no_color);

	if (batch && argc) {
		ret = error("-b takes no command on the command line");
	} else if (batch) {
		ret = run_batch(batch);
	} else if (argc) {
		ret = run_command(argc, argv);
	} else {
		usage(stderr);
		ret = -1;
	}
	nl_close();
	if (fflush(stdout) && !ret)
		ret = error("stdout: %m");
	return ret ? 1 : 0;
}
