// SPDX-License-Identifier: GPL-2.0
/*
 * --dry-run (not in the man page: a testing aid): instead of sending a
 * request, print its attribute tree as it would reach the kernel, with the
 * width of every number as actually encoded.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "cli.h"

enum dtype { D_NUM, D_BE32, D_ADDR, D_STR, D_BIN, D_NEST };

struct desc {
	const char *name;
	enum dtype type;
	const struct desc *nest;
	unsigned int max;
};

#define A(n, t)		{ .name = n, .type = t }
#define NEST(n, d)	{ n, D_NEST, d, ARRAY_SIZE(d) - 1 }

static const struct desc alg_desc[] = {
	[NFSEC_ALG_A_NAME] = A("NAME", D_STR),
	[NFSEC_ALG_A_KEY] = A("KEY", D_BIN),
	[NFSEC_ALG_A_ICV_BITS] = A("ICV_BITS", D_NUM),
	[NFSEC_ALG_A_TRUNC_BITS] = A("TRUNC_BITS", D_NUM),
};

static const struct desc lt_desc[] = {
	[NFSEC_LT_A_SOFT_BYTES] = A("SOFT_BYTES", D_NUM),
	[NFSEC_LT_A_HARD_BYTES] = A("HARD_BYTES", D_NUM),
	[NFSEC_LT_A_SOFT_PACKETS] = A("SOFT_PACKETS", D_NUM),
	[NFSEC_LT_A_HARD_PACKETS] = A("HARD_PACKETS", D_NUM),
	[NFSEC_LT_A_SOFT_SECONDS] = A("SOFT_SECONDS", D_NUM),
	[NFSEC_LT_A_HARD_SECONDS] = A("HARD_SECONDS", D_NUM),
	[NFSEC_LT_A_PAD] = A(NULL, D_BIN),
	[NFSEC_LT_A_SOFT_USE_SECONDS] = A("SOFT_USE_SECONDS", D_NUM),
	[NFSEC_LT_A_HARD_USE_SECONDS] = A("HARD_USE_SECONDS", D_NUM),
};

static const struct desc encap_desc[] = {
	[NFSEC_ENCAP_A_TYPE] = A("TYPE", D_NUM),
	[NFSEC_ENCAP_A_SPORT] = A("SPORT", D_NUM),
	[NFSEC_ENCAP_A_DPORT] = A("DPORT", D_NUM),
	[NFSEC_ENCAP_A_FLAGS] = A("FLAGS", D_NUM),
	[NFSEC_ENCAP_A_KEEPALIVE] = A("KEEPALIVE", D_NUM),
	[NFSEC_ENCAP_A_PEER] = A("PEER", D_ADDR),
	[NFSEC_ENCAP_A_PEER_PORT] = A("PEER_PORT", D_NUM),
};

static const struct desc sa_desc[] = {
	[NFSEC_SA_A_DIR] = A("DIR", D_NUM),
	[NFSEC_SA_A_FAMILY] = A("FAMILY", D_NUM),
	[NFSEC_SA_A_SRC] = A("SRC", D_ADDR),
	[NFSEC_SA_A_DST] = A("DST", D_ADDR),
	[NFSEC_SA_A_SPI] = A("SPI", D_BE32),
	[NFSEC_SA_A_PROTO] = A("PROTO", D_NUM),
	[NFSEC_SA_A_MODE] = A("MODE", D_NUM),
	[NFSEC_SA_A_AEAD] = NEST("AEAD", alg_desc),
	[NFSEC_SA_A_ENC] = NEST("ENC", alg_desc),
	[NFSEC_SA_A_AUTH] = NEST("AUTH", alg_desc),
	[NFSEC_SA_A_REPLAY_WINDOW] = A("REPLAY_WINDOW", D_NUM),
	[NFSEC_SA_A_FLAGS] = A("FLAGS", D_NUM),
	[NFSEC_SA_A_SEQ] = A("SEQ", D_NUM),
	[NFSEC_SA_A_LIFETIME] = NEST("LIFETIME", lt_desc),
	[NFSEC_SA_A_DF] = A("DF", D_NUM),
	[NFSEC_SA_A_ADD_TIME] = A("ADD_TIME", D_NUM),
	[NFSEC_SA_A_STATS] = A("STATS", D_BIN),
	[NFSEC_SA_A_EXPIRE] = A("EXPIRE", D_NUM),
	[NFSEC_SA_A_PMTU] = A("PMTU", D_NUM),
	[NFSEC_SA_A_REQID] = A("REQID", D_NUM),
	[NFSEC_SA_A_STATE] = A("STATE", D_NUM),
	[NFSEC_SA_A_SPI_MIN] = A("SPI_MIN", D_NUM),
	[NFSEC_SA_A_SPI_MAX] = A("SPI_MAX", D_NUM),
	[NFSEC_SA_A_TIMEOUT] = A("TIMEOUT", D_NUM),
	[NFSEC_SA_A_USE_TIME] = A("USE_TIME", D_NUM),
	[NFSEC_SA_A_FIRST_USE_TIME] = A("FIRST_USE_TIME", D_NUM),
	[NFSEC_SA_A_ENCAP] = NEST("ENCAP", encap_desc),
	[NFSEC_SA_A_PAD] = A(NULL, D_BIN),
};

static const struct desc pol_desc[] = {
	[NFSEC_POL_A_INDEX] = A("INDEX", D_NUM),
	[NFSEC_POL_A_DIR] = A("DIR", D_NUM),
	[NFSEC_POL_A_FAMILY] = A("FAMILY", D_NUM),
	[NFSEC_POL_A_SRC] = A("SRC", D_ADDR),
	[NFSEC_POL_A_SRC_PLEN] = A("SRC_PLEN", D_NUM),
	[NFSEC_POL_A_DST] = A("DST", D_ADDR),
	[NFSEC_POL_A_DST_PLEN] = A("DST_PLEN", D_NUM),
	[NFSEC_POL_A_PROTO] = A("PROTO", D_NUM),
	[NFSEC_POL_A_SPORT] = A("SPORT", D_NUM),
	[NFSEC_POL_A_DPORT] = A("DPORT", D_NUM),
	[NFSEC_POL_A_PRIORITY] = A("PRIORITY", D_NUM),
	[NFSEC_POL_A_ACTION] = A("ACTION", D_NUM),
	[NFSEC_POL_A_SA_SPI] = A("SA_SPI", D_BE32),
	[NFSEC_POL_A_SA_DST] = A("SA_DST", D_ADDR),
	[NFSEC_POL_A_SA_PROTO] = A("SA_PROTO", D_NUM),
	[NFSEC_POL_A_SA_FAMILY] = A("SA_FAMILY", D_NUM),
	[NFSEC_POL_A_SA_REQID] = A("SA_REQID", D_NUM),
	[NFSEC_POL_A_SA_MODE] = A("SA_MODE", D_NUM),
	[NFSEC_POL_A_SA_SRC] = A("SA_SRC", D_ADDR),
	[NFSEC_POL_A_MATCHES] = A("MATCHES", D_NUM),
	[NFSEC_POL_A_PAD] = A(NULL, D_BIN),
};

static const struct desc top_desc[] = {
	[NFSEC_A_SA] = NEST("SA", sa_desc),
	[NFSEC_A_POLICY] = NEST("POLICY", pol_desc),
	[NFSEC_A_STATS] = A("STATS", D_BIN),
	[NFSEC_A_FLAGS] = A("FLAGS", D_NUM),
};

static const char *const cmd_names[] = {
	[NFSEC_CMD_SA_ADD] = "SA_ADD",
	[NFSEC_CMD_SA_UPDATE] = "SA_UPDATE",
	[NFSEC_CMD_SA_DEL] = "SA_DEL",
	[NFSEC_CMD_SA_GET] = "SA_GET",
	[NFSEC_CMD_SA_FLUSH] = "SA_FLUSH",
	[NFSEC_CMD_SA_EXPIRE] = "SA_EXPIRE",
	[NFSEC_CMD_POLICY_ADD] = "POLICY_ADD",
	[NFSEC_CMD_POLICY_DEL] = "POLICY_DEL",
	[NFSEC_CMD_POLICY_GET] = "POLICY_GET",
	[NFSEC_CMD_POLICY_FLUSH] = "POLICY_FLUSH",
	[NFSEC_CMD_STATS_GET] = "STATS_GET",
	[NFSEC_CMD_POLICY_UPDATE] = "POLICY_UPDATE",
	[NFSEC_CMD_SA_ALLOC_SPI] = "SA_ALLOC_SPI",
};

static void print_hex(const uint8_t *p, size_t len)
{
	size_t i;

	printf("0x");
	for (i = 0; i < len; i++)
		printf("%02x", p[i]);
}

static void print_attr(const struct nlattr *attr, const struct desc *descs,
		       unsigned int max, int depth)
{
	uint16_t type = mnl_attr_get_type(attr) & NLA_TYPE_MASK;
	const struct desc *d = type <= max ? &descs[type] : NULL;
	const uint8_t *p = mnl_attr_get_payload(attr);
	size_t len = mnl_attr_get_payload_len(attr);
	const struct nlattr *sub;
	uint64_t v = 0;

	if (d && !d->name && type)
		return;		/* padding */
	printf("%*s", 2 * depth, "");
	if (!d || !d->name) {
		printf("attr %u: %zu bytes ", type, len);
		print_hex(p, len);
		putchar('\n');
		return;
	}
	printf("%s%s", d->name, d->type == D_NEST ? "" : " ");
	switch (d->type) {
	case D_NUM:
		if (len == 1)
			v = mnl_attr_get_u8(attr);
		else if (len == 2)
			v = mnl_attr_get_u16(attr);
		else if (len == 4)
			v = mnl_attr_get_u32(attr);
		else if (len == 8)
			v = mnl_attr_get_u64(attr);
		if (len == 1 || len == 2 || len == 4 || len == 8)
			printf("u%zu %llu\n", 8 * len, (unsigned long long)v);
		else
			printf("bad length %zu\n", len);
		break;
	case D_BE32:
		if (len == 4)
			printf("be32 0x%08x\n", ntohl(mnl_attr_get_u32(attr)));
		else
			printf("bad length %zu\n", len);
		break;
	case D_ADDR:
		if (len == 4)
			printf("inet %s\n", addr_str(AF_INET, (const void *)p));
		else if (len == 16)
			printf("inet6 %s\n",
			       addr_str(AF_INET6, (const void *)p));
		else
			printf("bad length %zu\n", len);
		break;
	case D_STR:
		printf("\"%.*s\"%s\n", (int)len, p,
		       len && !p[len - 1] ? "" : " (no NUL)");
		break;
	case D_BIN:
		printf("%zu bytes ", len);
		print_hex(p, len);
		putchar('\n');
		break;
	case D_NEST:
		putchar('\n');
		mnl_attr_for_each_nested(sub, attr)
			print_attr(sub, d->nest, d->max, depth + 1);
		break;
	}
}

void dryrun_print(const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;

	printf("request %s", genl->cmd < ARRAY_SIZE(cmd_names) &&
	       cmd_names[genl->cmd] ? cmd_names[genl->cmd] : "?");
	if (nlh->nlmsg_flags & NLM_F_DUMP)
		printf(" dump");
	if (nlh->nlmsg_flags & NLM_F_ACK)
		printf(" ack");
	putchar('\n');
	mnl_attr_for_each(attr, nlh, sizeof(*genl))
		print_attr(attr, top_desc, ARRAY_SIZE(top_desc) - 1, 1);
}
