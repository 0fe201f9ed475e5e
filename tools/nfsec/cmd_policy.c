// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec policy add|update|del|list|flush
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct families {
	uint16_t src, dst, sa_dst, sa_src;
};

/* after "protect": the SA (spi) or SAs (reqid) the policy uses */
static bool is_sa_kw(const char *kw)
{
	return streq(kw, "spi") || streq(kw, "reqid") ||
	       streq(kw, "dst") || streq(kw, "src") ||
	       streq(kw, "proto") || streq(kw, "mode");
}

static int parse_sa_kw(struct args *a, const char *kw,
		       struct policy_spec *pol, struct families *fam)
{
	const char *val;

	if (streq(kw, "reqid")) {
		if (parse_once(&pol->have, NFSEC_POL_A_SA_REQID, a, kw))
			return -1;
		val = args_value(a, kw);
		return val ? parse_u32(val, kw, &pol->sa_reqid) : -1;
	}
	if (streq(kw, "mode")) {
		if (parse_once(&pol->have, NFSEC_POL_A_SA_MODE, a, kw))
			return -1;
		val = args_value(a, kw);
		return val ? parse_word(val, kw, mode_names,
					ARRAY_SIZE(mode_names),
					&pol->sa_mode) : -1;
	}
	if (streq(kw, "spi")) {
		if (parse_once(&pol->have, NFSEC_POL_A_SA_SPI, a, kw))
			return -1;
		val = args_value(a, kw);
		return val ? parse_spi(val, &pol->sa_spi) : -1;
	}
	if (streq(kw, "dst")) {
		if (parse_once(&pol->have, NFSEC_POL_A_SA_DST, a, kw))
			return -1;
		val = args_value(a, kw);
		return val ? parse_addr(val, &pol->sa_dst, &fam->sa_dst) : -1;
	}
	if (streq(kw, "src")) {
		if (parse_once(&pol->have, NFSEC_POL_A_SA_SRC, a, kw))
			return -1;
		val = args_value(a, kw);
		return val ? parse_addr(val, &pol->sa_src, &fam->sa_src) : -1;
	}
	if (parse_once(&pol->have, NFSEC_POL_A_SA_PROTO, a, kw))
		return -1;
	val = args_value(a, kw);
	return val ? parse_xfrm_proto(val, &pol->sa_proto) : -1;
}

static int parse_action(struct args *a, const char *kw,
			struct policy_spec *pol)
{
	if (pol->have & HAVE(NFSEC_POL_A_ACTION))
		return error("%s: \"%s\" after \"%s\"", a->cmd, kw,
			     action_names[pol->action]);
	pol->have |= HAVE(NFSEC_POL_A_ACTION);
	return parse_word(kw, "action", action_names,
			  ARRAY_SIZE(action_names), &pol->action);
}

static int parse_index(struct args *a, const char *kw,
		       struct policy_spec *pol)
{
	const char *val;

	if (parse_once(&pol->have, NFSEC_POL_A_INDEX, a, kw))
		return -1;
	val = args_value(a, kw);
	return val ? parse_u32(val, kw, &pol->index) : -1;
}

static int parse_selector_kw(struct args *a, const char *kw,
			     struct policy_spec *pol, struct families *fam)
{
	const char *val;

	if (streq(kw, "src") || streq(kw, "dst")) {
		bool src = kw[0] == 's';

		if (parse_once(&pol->have, src ? NFSEC_POL_A_SRC :
			       NFSEC_POL_A_DST, a, kw))
			return -1;
		pol->have |= HAVE(src ? NFSEC_POL_A_SRC_PLEN :
				  NFSEC_POL_A_DST_PLEN);
		val = args_value(a, kw);
		if (!val)
			return -1;
		return src ? parse_prefix(val, &pol->src, &pol->src_plen,
					  &fam->src)
			   : parse_prefix(val, &pol->dst, &pol->dst_plen,
					  &fam->dst);
	}
	if (streq(kw, "dir")) {
		if (parse_once(&pol->have, NFSEC_POL_A_DIR, a, kw))
			return -1;
		val = args_value(a, kw);
		return val ? parse_word(val, kw, dir_names,
					ARRAY_SIZE(dir_names), &pol->dir) : -1;
	}
	if (streq(kw, "proto")) {
		if (parse_once(&pol->have, NFSEC_POL_A_PROTO, a, kw))
			return -1;
		val = args_value(a, kw);
		return val ? parse_ipproto(val, &pol->proto) : -1;
	}
	/* Ports without a protocol that has them: the kernel refuses. */
	if (streq(kw, "sport") || streq(kw, "dport")) {
		bool sport = kw[0] == 's';

		if (parse_once(&pol->have, sport ? NFSEC_POL_A_SPORT :
			       NFSEC_POL_A_DPORT, a, kw))
			return -1;
		val = args_value(a, kw);
		if (!val)
			return -1;
		return parse_u16(val, kw, sport ? &pol->sport : &pol->dport);
	}
	if (streq(kw, "priority")) {
		if (parse_once(&pol->have, NFSEC_POL_A_PRIORITY, a, kw))
			return -1;
		val = args_value(a, kw);
		return val ? parse_u32(val, kw, &pol->priority) : -1;
	}
	return error("%s: unknown keyword \"%s\"", a->cmd, kw);
}

static int check_policy(struct args *a, struct policy_spec *pol,
			struct families *fam)
{
	static const struct {
		unsigned int attr;
		const char *kw;
	} required[] = {
		{ NFSEC_POL_A_DIR, "dir" },
		{ NFSEC_POL_A_SRC, "src" },
		{ NFSEC_POL_A_DST, "dst" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(required); i++)
		if (!(pol->have & HAVE(required[i].attr)))
			return missing_keyword(a, required[i].kw);
	if (merge_family(a, &pol->family, fam->src) ||
	    merge_family(a, &pol->family, fam->dst))
		return -1;
	if (!pol->family)
		return error("%s: no address tells the family: write %s rather than \"any\"",
			     a->cmd, "0.0.0.0/0 or ::/0");
	pol->have |= HAVE(NFSEC_POL_A_FAMILY);
	if (merge_family(a, &fam->sa_dst, fam->sa_src))
		return -1;
	/* an SA of the other family: a tunnel across families */
	if (fam->sa_dst && fam->sa_dst != pol->family) {
		pol->sa_family = fam->sa_dst;
		pol->have |= HAVE(NFSEC_POL_A_SA_FAMILY);
	}
	return 0;
}

/*
 * policy add and update: the same words. Naming both an spi and a reqid,
 * or reqid 0, is the kernel's to refuse.
 */
static int policy_set(struct args *a, uint8_t cmd)
{
	struct policy_spec pol = { 0 };
	struct families fam = { 0 };
	const char *kw;

	while ((kw = args_next(a))) {
		int ret;

		if (pol.action == NFSEC_ACTION_PROTECT && is_sa_kw(kw))
			ret = parse_sa_kw(a, kw, &pol, &fam);
		else if (streq(kw, "protect") || streq(kw, "bypass") ||
			 streq(kw, "discard"))
			ret = parse_action(a, kw, &pol);
		else if (streq(kw, "index"))	/* update: the kernel checks */
			ret = parse_index(a, kw, &pol);
		else
			ret = parse_selector_kw(a, kw, &pol, &fam);
		if (ret)
			return -1;
	}
	if (!(pol.have & HAVE(NFSEC_POL_A_ACTION)))
		return error("%s: missing \"protect\", \"bypass\" or \"discard\"",
			     a->cmd);
	if (pol.action == NFSEC_ACTION_PROTECT &&
	    !(pol.have & (HAVE(NFSEC_POL_A_SA_SPI) |
			  HAVE(NFSEC_POL_A_SA_REQID))))
		return missing_keyword(a, "spi");
	if (check_policy(a, &pol, &fam))
		return -1;
	return nl_policy_request(cmd, &pol);
}

static int policy_add(struct args *a)
{
	return policy_set(a, NFSEC_CMD_POLICY_ADD);
}

static int policy_update(struct args *a)
{
	return policy_set(a, NFSEC_CMD_POLICY_UPDATE);
}

static int policy_del(struct args *a)
{
	struct policy_spec pol = { 0 };
	struct families fam = { 0 };
	const char *kw;

	if (a->argc && streq(a->argv[0], "index")) {
		kw = args_next(a);
		kw = args_value(a, kw);
		if (!kw || parse_u32(kw, "index", &pol.index))
			return -1;
		if (a->argc)
			return error("%s: \"index\" takes no other keyword, not \"%s\"",
				     a->cmd, a->argv[0]);
		pol.have = HAVE(NFSEC_POL_A_INDEX);
		return nl_policy_request(NFSEC_CMD_POLICY_DEL, &pol);
	}
	while ((kw = args_next(a)))
		if (parse_selector_kw(a, kw, &pol, &fam))
			return -1;
	if (check_policy(a, &pol, &fam))
		return -1;
	return nl_policy_request(NFSEC_CMD_POLICY_DEL, &pol);
}

/* Print policies as a list: one line each, or a JSON array. */
int policy_list_cb(const struct policy_spec *pol, void *data)
{
	(void)data;
	print_policy(pol);
	return 0;
}

static int policy_list(struct args *a)
{
	int ret;

	if (no_args(a->cmd, a->argc, a->argv))
		return -1;
	json_begin('[', NULL);
	ret = nl_policy_dump(policy_list_cb, NULL);
	json_end();
	return ret;
}

static int policy_flush(struct args *a)
{
	if (no_args(a->cmd, a->argc, a->argv))
		return -1;
	return nl_flush(NFSEC_CMD_POLICY_FLUSH);
}

static const struct subcmd policy_cmds[] = {
	{ "add", policy_add },
	{ "update", policy_update },
	{ "del", policy_del },
	{ "list", policy_list },
	{ "flush", policy_flush },
	{ NULL, NULL }
};

int policy_main(int argc, char **argv)
{
	return run_subcmd(policy_cmds, argc, argv);
}
