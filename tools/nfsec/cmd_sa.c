// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec sa add|update|del|get|list|flush|alloc-spi
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

const char *const lifetime_names[NFSEC_LT_A_MAX + 1] = {
	[NFSEC_LT_A_SOFT_BYTES] = "soft-bytes",
	[NFSEC_LT_A_HARD_BYTES] = "hard-bytes",
	[NFSEC_LT_A_SOFT_PACKETS] = "soft-packets",
	[NFSEC_LT_A_HARD_PACKETS] = "hard-packets",
	[NFSEC_LT_A_SOFT_SECONDS] = "soft-seconds",
	[NFSEC_LT_A_HARD_SECONDS] = "hard-seconds",
	[NFSEC_LT_A_SOFT_USE_SECONDS] = "soft-use-seconds",
	[NFSEC_LT_A_HARD_USE_SECONDS] = "hard-use-seconds",
};

static int parse_lifetime(struct args *a, const char *kw, struct sa_spec *sa,
			  bool *matched)
{
	const char *val;
	unsigned int i;

	for (i = 1; i <= NFSEC_LT_A_MAX; i++) {
		if (!lifetime_names[i] || !streq(kw, lifetime_names[i]))
			continue;
		*matched = true;
		if (parse_once(&sa->lt_have, i, a, kw))
			return -1;
		val = args_value(a, kw);
		return val ? parse_u64(val, kw, UINT64_MAX, &sa->lifetime[i])
			   : -1;
	}
	*matched = false;
	return 0;
}

static int parse_alg_kw(struct args *a, const char *kw, uint16_t kind,
			struct alg_spec *alg, struct alg_spec **last)
{
	const char *val;

	if (alg->set)
		return error("%s: \"%s\" given twice", a->cmd, kw);
	val = args_value(a, kw);
	if (!val || parse_alg(a, val, kind, alg))
		return -1;
	*last = alg;
	return 0;
}

/*
 * encap udp, and the keywords that go with it, anywhere among the others
 * (check_encap makes sure encap is there).
 */
static int parse_encap_kw(struct args *a, const char *kw, struct sa_spec *sa,
			  bool *matched)
{
	struct encap_spec *e = &sa->encap;
	const char *val;

	*matched = true;
	if (streq(kw, "encap")) {
		if (parse_once(&sa->have, NFSEC_SA_A_ENCAP, a, kw))
			return -1;
		val = args_value(a, kw);
		if (!val || parse_word(val, kw, encap_names,
				       ARRAY_SIZE(encap_names), &e->type))
			return -1;
		e->have |= HAVE(NFSEC_ENCAP_A_TYPE);
		return 0;
	}
	if (streq(kw, "sport") || streq(kw, "dport")) {
		bool src = kw[0] == 's';

		if (parse_once(&e->have, src ? NFSEC_ENCAP_A_SPORT :
			       NFSEC_ENCAP_A_DPORT, a, kw))
			return -1;
		val = args_value(a, kw);
		return val ? parse_port(val, kw, src ? &e->sport : &e->dport)
			   : -1;
	}
	if (streq(kw, "follow")) {
		if (parse_once(&e->have, NFSEC_ENCAP_A_FLAGS, a, kw))
			return -1;
		e->flags |= NFSEC_ENCAP_F_FOLLOW;
		return 0;
	}
	if (streq(kw, "keepalive")) {
		if (parse_once(&e->have, NFSEC_ENCAP_A_KEEPALIVE, a, kw))
			return -1;
		val = args_value(a, kw);
		return val ? parse_u32(val, kw, &e->keepalive) : -1;
	}
	*matched = false;
	return 0;
}

/* Once the whole command is read: both ports go, 4500 unless given. */
static int check_encap(const struct args *a, struct sa_spec *sa)
{
	struct encap_spec *e = &sa->encap;

	if (!(sa->have & HAVE(NFSEC_SA_A_ENCAP)))
		return e->have ? missing_keyword(a, "encap") : 0;
	if (!(e->have & HAVE(NFSEC_ENCAP_A_SPORT)))
		e->sport = NFSEC_ENCAP_PORT_DEFAULT;
	if (!(e->have & HAVE(NFSEC_ENCAP_A_DPORT)))
		e->dport = NFSEC_ENCAP_PORT_DEFAULT;
	e->have |= HAVE(NFSEC_ENCAP_A_SPORT) | HAVE(NFSEC_ENCAP_A_DPORT);
	return 0;
}

/* The keywords every SA command takes: the SA's identity. */
static int parse_id_kw(struct args *a, const char *kw, struct sa_spec *sa,
		       uint16_t *dst_family, bool *matched)
{
	const char *val;

	*matched = true;
	if (streq(kw, "dst")) {
		if (parse_once(&sa->have, NFSEC_SA_A_DST, a, kw))
			return -1;
		val = args_value(a, kw);
		return val ? parse_addr(val, &sa->dst, dst_family) : -1;
	}
	if (streq(kw, "spi")) {
		if (parse_once(&sa->have, NFSEC_SA_A_SPI, a, kw))
			return -1;
		val = args_value(a, kw);
		return val ? parse_spi(val, &sa->spi) : -1;
	}
	if (streq(kw, "proto")) {
		if (parse_once(&sa->have, NFSEC_SA_A_PROTO, a, kw))
			return -1;
		val = args_value(a, kw);
		return val ? parse_xfrm_proto(val, &sa->proto) : -1;
	}
	*matched = false;
	return 0;
}

/* One keyword of sa add/update beyond the identity. */
static int parse_sa_kw(struct args *a, const char *kw, struct sa_spec *sa,
		       uint16_t *src_family, struct alg_spec **last)
{
	const char *val;
	bool matched;

	if (parse_lifetime(a, kw, sa, &matched))
		return -1;
	if (matched)
		return 0;
	if (parse_encap_kw(a, kw, sa, &matched))
		return -1;
	if (matched)
		return 0;
	if (streq(kw, "aead"))
		return parse_alg_kw(a, kw, NFSEC_SA_A_AEAD, &sa->aead, last);
	if (streq(kw, "enc"))
		return parse_alg_kw(a, kw, NFSEC_SA_A_ENC, &sa->enc, last);
	if (streq(kw, "auth"))
		return parse_alg_kw(a, kw, NFSEC_SA_A_AUTH, &sa->auth, last);
	if (streq(kw, "key")) {
		if (!*last)
			return error("%s: \"key\" must follow aead, enc or auth",
				     a->cmd);
		if ((*last)->has_key)
			return error("%s: \"key\" given twice", a->cmd);
		val = args_value(a, kw);
		return val ? parse_key(val, *last) : -1;
	}
	if (streq(kw, "icv") || streq(kw, "trunc")) {
		struct alg_spec *alg = kw[0] == 'i' ? &sa->aead : &sa->auth;

		if (alg->has_bits)
			return error("%s: \"%s\" given twice", a->cmd, kw);
		val = args_value(a, kw);
		if (!val || parse_u32(val, kw, &alg->bits))
			return -1;
		alg->has_bits = true;
		return 0;
	}
	if (streq(kw, "esn")) {
		if (parse_once(&sa->have, NFSEC_SA_A_FLAGS, a, kw))
			return -1;
		sa->flags |= NFSEC_SA_F_ESN;
		return 0;
	}
	if (streq(kw, "src")) {
		if (parse_once(&sa->have, NFSEC_SA_A_SRC, a, kw))
			return -1;
		val = args_value(a, kw);
		return val ? parse_addr(val, &sa->src, src_family) : -1;
	}
	if (streq(kw, "dir")) {
		if (parse_once(&sa->have, NFSEC_SA_A_DIR, a, kw))
			return -1;
		val = args_value(a, kw);
		/* Policies only have fwd. */
		return val ? parse_word(val, kw, dir_names, NFSEC_DIR_OUT + 1,
					&sa->dir) : -1;
	}
	if (streq(kw, "mode")) {
		if (parse_once(&sa->have, NFSEC_SA_A_MODE, a, kw))
			return -1;
		val = args_value(a, kw);
		return val ? parse_word(val, kw, mode_names,
					ARRAY_SIZE(mode_names), &sa->mode) : -1;
	}
	if (streq(kw, "df")) {
		if (parse_once(&sa->have, NFSEC_SA_A_DF, a, kw))
			return -1;
		val = args_value(a, kw);
		return val ? parse_word(val, kw, df_names, ARRAY_SIZE(df_names),
					&sa->df) : -1;
	}
	if (streq(kw, "replay-window")) {
		if (parse_once(&sa->have, NFSEC_SA_A_REPLAY_WINDOW, a, kw))
			return -1;
		val = args_value(a, kw);
		return val ? parse_u32(val, kw, &sa->replay_window) : -1;
	}
	if (streq(kw, "reqid")) {
		if (parse_once(&sa->have, NFSEC_SA_A_REQID, a, kw))
			return -1;
		val = args_value(a, kw);
		return val ? parse_u32(val, kw, &sa->reqid) : -1;
	}
	if (streq(kw, "seq")) {
		if (parse_once(&sa->have, NFSEC_SA_A_SEQ, a, kw))
			return -1;
		val = args_value(a, kw);
		return val ? parse_u64(val, kw, UINT64_MAX, &sa->seq) : -1;
	}
	return error("%s: unknown keyword \"%s\"", a->cmd, kw);
}

/*
 * Read an SA from the words of a command. With full, everything sa add
 * takes; without, the identity (dst, spi, proto) alone.
 */
static int parse_sa(struct args *a, struct sa_spec *sa, bool full)
{
	static const struct {
		unsigned int attr;
		const char *kw;
	} required[] = {
		{ NFSEC_SA_A_DIR, "dir" },
		{ NFSEC_SA_A_SRC, "src" },
		{ NFSEC_SA_A_DST, "dst" },
		{ NFSEC_SA_A_SPI, "spi" },
		{ NFSEC_SA_A_PROTO, "proto" },
		{ NFSEC_SA_A_MODE, "mode" },
	};
	uint16_t src_family = 0, dst_family = 0;
	struct alg_spec *last = NULL;
	const char *kw;
	unsigned int i;
	bool matched;

	memset(sa, 0, sizeof(*sa));
	while ((kw = args_next(a))) {
		if (parse_id_kw(a, kw, sa, &dst_family, &matched))
			return -1;
		if (matched)
			continue;
		if (!full)
			return error("%s: unknown keyword \"%s\"", a->cmd, kw);
		if (parse_sa_kw(a, kw, sa, &src_family, &last))
			return -1;
	}
	for (i = 0; i < ARRAY_SIZE(required); i++) {
		if (!full && required[i].attr != NFSEC_SA_A_DST &&
		    required[i].attr != NFSEC_SA_A_SPI &&
		    required[i].attr != NFSEC_SA_A_PROTO)
			continue;
		if (!(sa->have & HAVE(required[i].attr)))
			return missing_keyword(a, required[i].kw);
	}
	if (merge_family(a, &sa->family, src_family) ||
	    merge_family(a, &sa->family, dst_family))
		return -1;
	sa->have |= HAVE(NFSEC_SA_A_FAMILY);
	if (!full)
		return 0;
	if (check_alg(a, NFSEC_SA_A_AEAD, &sa->aead) ||
	    check_alg(a, NFSEC_SA_A_ENC, &sa->enc) ||
	    check_alg(a, NFSEC_SA_A_AUTH, &sa->auth))
		return -1;
	return check_encap(a, sa);
}

static int sa_set(struct args *a, uint8_t cmd)
{
	struct sa_spec sa;
	int ret;

	ret = parse_sa(a, &sa, true);
	if (!ret)
		ret = nl_sa_request(cmd, &sa);
	explicit_bzero(&sa, sizeof(sa));
	return ret;
}

static int sa_add(struct args *a)
{
	return sa_set(a, NFSEC_CMD_SA_ADD);
}

static int sa_update(struct args *a)
{
	return sa_set(a, NFSEC_CMD_SA_UPDATE);
}

static int sa_del(struct args *a)
{
	struct sa_spec sa;

	if (parse_sa(a, &sa, false))
		return -1;
	return nl_sa_request(NFSEC_CMD_SA_DEL, &sa);
}

/* The SPI alone (to use in a script), or the larval entry as JSON. */
static int print_spi(const struct sa_spec *sa, void *data)
{
	(void)data;
	if (opts.json)
		print_sa(sa);
	else
		printf("0x%08x\n", sa->spi);
	return 0;
}

/* sa alloc-spi src ADDR dst ADDR proto esp|ah [min N] [max N] [timeout S] */
static int sa_alloc_spi(struct args *a)
{
	static const struct {
		unsigned int attr;
		const char *kw;
	} numbers[] = {
		{ NFSEC_SA_A_SPI_MIN, "min" },
		{ NFSEC_SA_A_SPI_MAX, "max" },
		{ NFSEC_SA_A_TIMEOUT, "timeout" },
	};
	uint16_t src_family = 0, dst_family = 0;
	struct sa_spec sa;
	const char *kw, *val;
	unsigned int i;
	bool matched;

	memset(&sa, 0, sizeof(sa));
	while ((kw = args_next(a))) {
		if (streq(kw, "spi"))
			return error("%s: the kernel chooses the spi; give min and max",
				     a->cmd);
		if (parse_id_kw(a, kw, &sa, &dst_family, &matched))
			return -1;
		if (matched)
			continue;
		if (streq(kw, "src")) {
			if (parse_once(&sa.have, NFSEC_SA_A_SRC, a, kw))
				return -1;
			val = args_value(a, kw);
			if (!val || parse_addr(val, &sa.src, &src_family))
				return -1;
			continue;
		}
		for (i = 0; i < ARRAY_SIZE(numbers); i++)
			if (streq(kw, numbers[i].kw))
				break;
		if (i == ARRAY_SIZE(numbers))
			return error("%s: unknown keyword \"%s\"", a->cmd, kw);
		if (parse_once(&sa.have, numbers[i].attr, a, kw))
			return -1;
		val = args_value(a, kw);
		if (!val || parse_u32(val, kw, i == 0 ? &sa.spi_min :
				      i == 1 ? &sa.spi_max : &sa.timeout))
			return -1;
	}
	if (!(sa.have & HAVE(NFSEC_SA_A_SRC)))
		return missing_keyword(a, "src");
	if (!(sa.have & HAVE(NFSEC_SA_A_DST)))
		return missing_keyword(a, "dst");
	if (!(sa.have & HAVE(NFSEC_SA_A_PROTO)))
		return missing_keyword(a, "proto");
	if (merge_family(a, &sa.family, src_family) ||
	    merge_family(a, &sa.family, dst_family))
		return -1;
	sa.have |= HAVE(NFSEC_SA_A_FAMILY);
	return nl_sa_alloc_spi(&sa, print_spi, NULL);
}

static int print_one(const struct sa_spec *sa, void *data)
{
	(void)data;
	print_sa(sa);
	return 0;
}

static int sa_get(struct args *a)
{
	struct sa_spec sa;

	if (parse_sa(a, &sa, false))
		return -1;
	return nl_sa_get(&sa, print_one, NULL);
}

/* Print SAs as a list: blank lines between them, or a JSON array. */
int sa_list_cb(const struct sa_spec *sa, void *data)
{
	unsigned int *count = data;

	if ((*count)++ && !opts.json)
		putchar('\n');
	print_sa(sa);
	return 0;
}

static int sa_list(struct args *a)
{
	unsigned int count = 0;
	int ret;

	if (no_args(a->cmd, a->argc, a->argv))
		return -1;
	json_begin('[', NULL);
	ret = nl_sa_dump(opts.show_keys, sa_list_cb, &count);
	json_end();
	return ret;
}

static int sa_flush(struct args *a)
{
	if (no_args(a->cmd, a->argc, a->argv))
		return -1;
	return nl_flush(NFSEC_CMD_SA_FLUSH);
}

static const struct subcmd sa_cmds[] = {
	{ "add", sa_add },
	{ "update", sa_update },
	{ "del", sa_del },
	{ "get", sa_get },
	{ "list", sa_list },
	{ "flush", sa_flush },
	{ "alloc-spi", sa_alloc_spi },
	{ NULL, NULL }
};

int sa_main(int argc, char **argv)
{
	return run_subcmd(sa_cmds, argc, argv);
}
