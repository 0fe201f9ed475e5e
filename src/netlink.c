// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "nfsec": SAs, policies, counters and events.
 * include/uapi/linux/nfsec.h is the specification of every command.
 */

#include "nfsec.h"

#include <linux/in.h>
#include <linux/ipv6.h>
#include <linux/memcontrol.h>
#include <linux/sched/mm.h>
#include <linux/stringify.h>
#include <net/genetlink.h>
#include <net/sock.h>

static struct genl_family nfsec_family;

/* Attribute policies, one per nesting level. */

static const struct nla_policy alg_policy[NFSEC_ALG_A_MAX + 1] = {
	[NFSEC_ALG_A_NAME] = { .type = NLA_NUL_STRING,
			       .len = NFSEC_ALG_NAME_MAX - 1 },
	[NFSEC_ALG_A_KEY] = { .type = NLA_BINARY, .len = NFSEC_KEY_MAX },
	[NFSEC_ALG_A_ICV_BITS] = { .type = NLA_U32 },
	[NFSEC_ALG_A_TRUNC_BITS] = { .type = NLA_U32 },
};

static const struct nla_policy lifetime_policy[NFSEC_LT_A_MAX + 1] = {
	[NFSEC_LT_A_SOFT_BYTES] = { .type = NLA_U64 },
	[NFSEC_LT_A_HARD_BYTES] = { .type = NLA_U64 },
	[NFSEC_LT_A_SOFT_PACKETS] = { .type = NLA_U64 },
	[NFSEC_LT_A_HARD_PACKETS] = { .type = NLA_U64 },
	[NFSEC_LT_A_SOFT_SECONDS] = { .type = NLA_U64 },
	[NFSEC_LT_A_HARD_SECONDS] = { .type = NLA_U64 },
	[NFSEC_LT_A_SOFT_USE_SECONDS] = { .type = NLA_U64 },
	[NFSEC_LT_A_HARD_USE_SECONDS] = { .type = NLA_U64 },
};

/*
 * The replay window's range, checked here and nowhere else. A u32 with a
 * message of its own: NLA_POLICY_MAX would say only "integer out of
 * range", and a validation function on an NLA_U32 is not dumpable (its
 * pointer overlays the range a policy dump reads), so the attribute is
 * checked as 4 bytes of binary, as act_mpls checks its MPLS label.
 */
static int replay_window_valid(const struct nlattr *attr,
			       struct netlink_ext_ack *extack)
{
	if (nla_len(attr) != sizeof(u32)) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "invalid attribute length");
		return -EINVAL;
	}
	if (nla_get_u32(attr) > NFSEC_REPLAY_WINDOW_MAX) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "replay window out of range (0-"
				    __stringify(NFSEC_REPLAY_WINDOW_MAX) ")");
		return -EINVAL;
	}
	return 0;
}

#define ADDR_POLICY NLA_POLICY_RANGE(NLA_BINARY, 4, 16)
#define REPLY_ONLY { .type = NLA_REJECT, \
		     .reject_message = "attribute is only in replies" }

static const struct nla_policy encap_policy[NFSEC_ENCAP_A_MAX + 1] = {
	[NFSEC_ENCAP_A_TYPE] = { .type = NLA_U8 },
	[NFSEC_ENCAP_A_SPORT] = { .type = NLA_U16 },
	[NFSEC_ENCAP_A_DPORT] = { .type = NLA_U16 },
	[NFSEC_ENCAP_A_FLAGS] = { .type = NLA_U32 },
	[NFSEC_ENCAP_A_KEEPALIVE] = { .type = NLA_U32 },
	[NFSEC_ENCAP_A_PEER] = REPLY_ONLY,
	[NFSEC_ENCAP_A_PEER_PORT] = REPLY_ONLY,
};

static const struct nla_policy sa_policy[NFSEC_SA_A_MAX + 1] = {
	[NFSEC_SA_A_DIR] = NLA_POLICY_RANGE(NLA_U8, NFSEC_DIR_IN,
					    NFSEC_DIR_OUT),
	[NFSEC_SA_A_FAMILY] = { .type = NLA_U16 },
	[NFSEC_SA_A_SRC] = ADDR_POLICY,
	[NFSEC_SA_A_DST] = ADDR_POLICY,
	[NFSEC_SA_A_SPI] = { .type = NLA_BE32 },
	[NFSEC_SA_A_PROTO] = NLA_POLICY_RANGE(NLA_U8, IPPROTO_ESP, IPPROTO_AH),
	[NFSEC_SA_A_MODE] = NLA_POLICY_RANGE(NLA_U8, NFSEC_MODE_TRANSPORT,
					     NFSEC_MODE_TUNNEL),
	[NFSEC_SA_A_AEAD] = NLA_POLICY_NESTED(alg_policy),
	[NFSEC_SA_A_ENC] = NLA_POLICY_NESTED(alg_policy),
	[NFSEC_SA_A_AUTH] = NLA_POLICY_NESTED(alg_policy),
	[NFSEC_SA_A_REPLAY_WINDOW] = NLA_POLICY_VALIDATE_FN(NLA_BINARY,
							    replay_window_valid),
	[NFSEC_SA_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, NFSEC_SA_F_ALL),
	[NFSEC_SA_A_SEQ] = { .type = NLA_U64 },
	[NFSEC_SA_A_LIFETIME] = NLA_POLICY_NESTED(lifetime_policy),
	[NFSEC_SA_A_DF] = NLA_POLICY_MAX(NLA_U8, NFSEC_DF_SET),
	[NFSEC_SA_A_ADD_TIME] = REPLY_ONLY,
	[NFSEC_SA_A_STATS] = REPLY_ONLY,
	[NFSEC_SA_A_EXPIRE] = REPLY_ONLY,
	[NFSEC_SA_A_PMTU] = REPLY_ONLY,
	[NFSEC_SA_A_REQID] = { .type = NLA_U32 },
	[NFSEC_SA_A_STATE] = REPLY_ONLY,
	[NFSEC_SA_A_SPI_MIN] = { .type = NLA_U32 },
	[NFSEC_SA_A_SPI_MAX] = { .type = NLA_U32 },
	[NFSEC_SA_A_TIMEOUT] = { .type = NLA_U32 },
	[NFSEC_SA_A_USE_TIME] = REPLY_ONLY,
	[NFSEC_SA_A_FIRST_USE_TIME] = REPLY_ONLY,
	[NFSEC_SA_A_ENCAP] = NLA_POLICY_NESTED(encap_policy),
};

static const struct nla_policy pol_policy[NFSEC_POL_A_MAX + 1] = {
	[NFSEC_POL_A_INDEX] = NLA_POLICY_MIN(NLA_U32, 1),
	[NFSEC_POL_A_DIR] = NLA_POLICY_RANGE(NLA_U8, NFSEC_DIR_IN,
					     NFSEC_DIR_FWD),
	[NFSEC_POL_A_FAMILY] = { .type = NLA_U16 },
	[NFSEC_POL_A_SRC] = ADDR_POLICY,
	[NFSEC_POL_A_SRC_PLEN] = { .type = NLA_U8 },
	[NFSEC_POL_A_DST] = ADDR_POLICY,
	[NFSEC_POL_A_DST_PLEN] = { .type = NLA_U8 },
	[NFSEC_POL_A_PROTO] = { .type = NLA_U8 },
	[NFSEC_POL_A_SPORT] = { .type = NLA_U16 },
	[NFSEC_POL_A_DPORT] = { .type = NLA_U16 },
	[NFSEC_POL_A_PRIORITY] = { .type = NLA_U32 },
	[NFSEC_POL_A_ACTION] = NLA_POLICY_RANGE(NLA_U8, NFSEC_ACTION_PROTECT,
						NFSEC_ACTION_DISCARD),
	[NFSEC_POL_A_SA_SPI] = { .type = NLA_BE32 },
	[NFSEC_POL_A_SA_DST] = ADDR_POLICY,
	[NFSEC_POL_A_SA_PROTO] = NLA_POLICY_RANGE(NLA_U8, IPPROTO_ESP,
						  IPPROTO_AH),
	[NFSEC_POL_A_MATCHES] = REPLY_ONLY,
	[NFSEC_POL_A_SA_FAMILY] = { .type = NLA_U16 },
	[NFSEC_POL_A_SA_REQID] = { .type = NLA_U32 },
	[NFSEC_POL_A_SA_MODE] = NLA_POLICY_RANGE(NLA_U8, NFSEC_MODE_TRANSPORT,
						 NFSEC_MODE_TUNNEL),
	[NFSEC_POL_A_SA_SRC] = ADDR_POLICY,
};

static const struct nla_policy nfsec_policy[NFSEC_A_MAX + 1] = {
	[NFSEC_A_SA] = NLA_POLICY_NESTED(sa_policy),
	[NFSEC_A_POLICY] = NLA_POLICY_NESTED(pol_policy),
	[NFSEC_A_STATS] = REPLY_ONLY,
	[NFSEC_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, NFSEC_FLAG_SHOW_KEYS),
	[NFSEC_A_FLOW] = { .type = NLA_REJECT,
			   .reject_message = "attribute is only in events" },
	[NFSEC_A_MAPPING] = { .type = NLA_REJECT,
			      .reject_message = "attribute is only in events" },
	[NFSEC_A_BATCH] = { .type = NLA_NESTED },
};

/* Request parsing */

static u8 get_u8(const struct nlattr *a, u8 def)
{
	return a ? nla_get_u8(a) : def;
}

static u16 get_u16(const struct nlattr *a, u16 def)
{
	return a ? nla_get_u16(a) : def;
}

static u32 get_u32(const struct nlattr *a, u32 def)
{
	return a ? nla_get_u32(a) : def;
}

/*
 * The attributes of @nest into @tb, not validated again. Every nest of a
 * request is validated whole, down to the innermost, when the request's
 * attributes are: by genl for a message, by batch_sub() for a batch's
 * request (NLA_POLICY_NESTED all the way, from nfsec_policy). A second
 * validation, and a third for an algorithm's, took about a third of the
 * time a request's attributes cost (Documentation/performance.md, "Bulk
 * install").
 */
static void nest_attrs(struct nlattr **tb, int max, const struct nlattr *nest)
{
	/* (no policy given: only @tb filled; a type above @max was refused) */
	__nla_parse(tb, max, nla_data(nest), nla_len(nest), NULL,
		    NL_VALIDATE_LIBERAL, NULL);
}

static struct nlattr *nest_parse(struct genl_info *info, int type,
				 struct nlattr **tb, int max)
{
	struct nlattr *nest = info->attrs[type];

	if (!nest) {
		nfsec_extack_msg(info->extack, type == NFSEC_A_SA ?
			"missing SA attributes (NFSEC_A_SA)" :
			"missing policy attributes (NFSEC_A_POLICY)");
		NL_SET_ERR_ATTR_MISS(info->extack, NULL, type);
		return ERR_PTR(-EINVAL);
	}
	nest_attrs(tb, max, nest);
	return nest;
}

static int require(struct genl_info *info, struct nlattr *nest,
		   struct nlattr **tb, int type, const char *msg)
{
	if (tb[type])
		return 0;
	nfsec_extack_msg(info->extack, msg);
	NL_SET_ERR_ATTR_MISS(info->extack, nest, type);
	return -EINVAL;
}

static int parse_family(struct nlattr *attr, u8 *family,
			struct netlink_ext_ack *extack)
{
	u16 f = nla_get_u16(attr);

	if (f != AF_INET && f != AF_INET6) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "family must be AF_INET or AF_INET6");
		return -EAFNOSUPPORT;
	}
	/* (booted with ipv6.disable=1: no IPv6 routing to send with) */
	if (f == AF_INET6 && !ipv6_mod_enabled()) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "IPv6 is disabled on this host");
		return -EAFNOSUPPORT;
	}
	*family = f;
	return 0;
}

static int parse_addr(struct nlattr *attr, u8 family, union nfsec_addr *addr,
		      struct netlink_ext_ack *extack)
{
	int len = family == AF_INET ? 4 : 16;

	memset(addr, 0, sizeof(*addr));
	if (!attr)
		return 0;
	if (nla_len(attr) != len) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "address length does not match the family");
		return -EINVAL;
	}
	memcpy(addr, nla_data(attr), len);
	return 0;
}

static int parse_alg(struct nlattr *attr, struct nfsec_alg *alg, bool *has,
		     int bits_type, struct netlink_ext_ack *extack)
{
	struct nlattr *tb[NFSEC_ALG_A_MAX + 1];

	*has = !!attr;
	if (!attr)
		return 0;
	nest_attrs(tb, NFSEC_ALG_A_MAX, attr);
	if (!tb[NFSEC_ALG_A_NAME]) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "algorithm without a name");
		return -EINVAL;
	}
	nla_strscpy(alg->name, tb[NFSEC_ALG_A_NAME], sizeof(alg->name));
	if (tb[NFSEC_ALG_A_KEY]) {
		alg->key = nla_data(tb[NFSEC_ALG_A_KEY]);
		alg->key_len = nla_len(tb[NFSEC_ALG_A_KEY]);
	}
	if ((tb[NFSEC_ALG_A_ICV_BITS] && bits_type != NFSEC_ALG_A_ICV_BITS) ||
	    (tb[NFSEC_ALG_A_TRUNC_BITS] &&
	     bits_type != NFSEC_ALG_A_TRUNC_BITS)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "ICV length is for aead, truncation length for auth");
		return -EINVAL;
	}
	if (bits_type && tb[bits_type]) {
		u32 bits = nla_get_u32(tb[bits_type]);

		if (bits > U16_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, tb[bits_type],
					    "ICV length or truncation length out of range");
			return -EINVAL;
		}
		alg->bits = bits;
		if (!alg->bits) {
			NL_SET_ERR_MSG_ATTR(extack, tb[bits_type],
					    "ICV length or truncation length of 0 not allowed");
			return -EINVAL;
		}
	}
	return 0;
}

static void wipe_keys(struct nfsec_sa_params *p)
{
	if (p->aead.key)
		memzero_explicit(p->aead.key, p->aead.key_len);
	if (p->enc.key)
		memzero_explicit(p->enc.key, p->enc.key_len);
	if (p->auth.key)
		memzero_explicit(p->auth.key, p->auth.key_len);
}

/*
 * The SA's identity: family, destination, SPI, protocol; without @spi
 * (alloc-spi, which chooses it) all but the SPI.
 */
static int parse_sa_id(struct genl_info *info, struct nlattr *nest,
		       struct nlattr **tb, struct nfsec_sa_id *id, bool spi)
{
	int err;

	memset(id, 0, sizeof(*id));
	err = require(info, nest, tb, NFSEC_SA_A_FAMILY,
		      "missing SA attribute: family") ?:
	      require(info, nest, tb, NFSEC_SA_A_DST,
		      "missing SA attribute: dst") ?:
	      (spi ? require(info, nest, tb, NFSEC_SA_A_SPI,
			     "missing SA attribute: spi") : 0) ?:
	      require(info, nest, tb, NFSEC_SA_A_PROTO,
		      "missing SA attribute: proto");
	if (err)
		return err;
	err = parse_family(tb[NFSEC_SA_A_FAMILY], &id->family, info->extack);
	if (err)
		return err;
	if (spi)
		id->spi = nla_get_be32(tb[NFSEC_SA_A_SPI]);
	id->proto = nla_get_u8(tb[NFSEC_SA_A_PROTO]);
	return parse_addr(tb[NFSEC_SA_A_DST], id->family, &id->daddr,
			  info->extack);
}

static int parse_lifetime(struct nlattr *attr, struct nfsec_lifetime *lt,
			  struct netlink_ext_ack *extack)
{
	struct nlattr *tb[NFSEC_LT_A_MAX + 1];
	u64 *v[NFSEC_LT_A_MAX + 1] = {
		[NFSEC_LT_A_SOFT_BYTES] = &lt->soft_bytes,
		[NFSEC_LT_A_HARD_BYTES] = &lt->hard_bytes,
		[NFSEC_LT_A_SOFT_PACKETS] = &lt->soft_packets,
		[NFSEC_LT_A_HARD_PACKETS] = &lt->hard_packets,
		[NFSEC_LT_A_SOFT_SECONDS] = &lt->soft_seconds,
		[NFSEC_LT_A_HARD_SECONDS] = &lt->hard_seconds,
		[NFSEC_LT_A_SOFT_USE_SECONDS] = &lt->soft_use_seconds,
		[NFSEC_LT_A_HARD_USE_SECONDS] = &lt->hard_use_seconds,
	};
	int i;

	memset(lt, 0, sizeof(*lt));
	if (!attr)
		return 0;
	nest_attrs(tb, NFSEC_LT_A_MAX, attr);
	for (i = 0; i <= NFSEC_LT_A_MAX; i++)
		if (v[i] && tb[i])
			*v[i] = nla_get_u64(tb[i]);
	if ((lt->hard_bytes && lt->soft_bytes > lt->hard_bytes) ||
	    (lt->hard_packets && lt->soft_packets > lt->hard_packets) ||
	    (lt->hard_seconds && lt->soft_seconds > lt->hard_seconds) ||
	    (lt->hard_use_seconds &&
	     lt->soft_use_seconds > lt->hard_use_seconds)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "a soft lifetime limit exceeds its hard limit");
		return -EINVAL;
	}
	return 0;
}

/* A UDP port of ENCAP: given, 1-65535; absent, the default. */
static int parse_port(struct nlattr *attr, u16 *port,
		      struct netlink_ext_ack *extack)
{
	*port = get_u16(attr, NFSEC_ENCAP_PORT_DEFAULT);
	if (*port)
		return 0;
	NL_SET_ERR_MSG_ATTR(extack, attr, "encap port must be 1-65535");
	return -EINVAL;
}

/* ESP in UDP (RFC 3948), after DIR and PROTO were found. */
static int parse_encap(struct nlattr *attr, struct nfsec_sa_params *p,
		       struct netlink_ext_ack *extack)
{
	struct nlattr *tb[NFSEC_ENCAP_A_MAX + 1];
	struct nfsec_encap *e = &p->encap;
	int err;

	if (!attr)
		return 0;
	nest_attrs(tb, NFSEC_ENCAP_A_MAX, attr);
	if (p->id.proto != IPPROTO_ESP) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "encapsulation in UDP is for ESP only (RFC 3948)");
		return -EINVAL;
	}
	if (get_u8(tb[NFSEC_ENCAP_A_TYPE], 0) != NFSEC_ENCAP_UDP) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "encap type must be udp");
		return -EINVAL;
	}
	e->type = NFSEC_ENCAP_UDP;
	err = parse_port(tb[NFSEC_ENCAP_A_SPORT], &e->sport, extack) ?:
	      parse_port(tb[NFSEC_ENCAP_A_DPORT], &e->dport, extack);
	if (err)
		return err;
	e->flags = get_u32(tb[NFSEC_ENCAP_A_FLAGS], 0);
	if (e->flags & ~NFSEC_ENCAP_F_ALL) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_ENCAP_A_FLAGS],
				    "unknown encap flags");
		return -EINVAL;
	}
	if ((e->flags & NFSEC_ENCAP_F_FOLLOW) && p->dir != NFSEC_DIR_IN) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_ENCAP_A_FLAGS],
				    "follow is for inbound SAs");
		return -EINVAL;
	}
	if ((e->flags & NFSEC_ENCAP_F_FOLLOW) && !p->reqid) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_ENCAP_A_FLAGS],
				    "follow needs a reqid: it moves the outbound SAs of the same reqid");
		return -EINVAL;
	}
	/* (an update keeps the SA's window: sa.c checks that one) */
	if ((e->flags & NFSEC_ENCAP_F_FOLLOW) && !p->replay_window) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_ENCAP_A_FLAGS],
				    NFSEC_FOLLOW_NEEDS_WINDOW);
		return -EINVAL;
	}
	if (!tb[NFSEC_ENCAP_A_KEEPALIVE])
		return 0;
	if (p->dir != NFSEC_DIR_OUT) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_ENCAP_A_KEEPALIVE],
				    "keepalive is for outbound SAs");
		return -EINVAL;
	}
	e->keepalive = nla_get_u32(tb[NFSEC_ENCAP_A_KEEPALIVE]);
	if (e->keepalive > NFSEC_ENCAP_KEEPALIVE_MAX) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_ENCAP_A_KEEPALIVE],
				    "keepalive is 0-"
				    __stringify(NFSEC_ENCAP_KEEPALIVE_MAX)
				    " seconds");
		return -EINVAL;
	}
	return 0;
}

static int parse_sa(struct genl_info *info, struct nfsec_sa_params *p)
{
	struct nlattr *tb[NFSEC_SA_A_MAX + 1], *nest;
	struct netlink_ext_ack *extack = info->extack;
	int err;

	memset(p, 0, sizeof(*p));
	nest = nest_parse(info, NFSEC_A_SA, tb, NFSEC_SA_A_MAX);
	if (IS_ERR(nest))
		return PTR_ERR(nest);
	/* The keys are found before any check, so every exit wipes them. */
	err = parse_alg(tb[NFSEC_SA_A_AEAD], &p->aead, &p->has_aead,
			NFSEC_ALG_A_ICV_BITS, extack) ?:
	      parse_alg(tb[NFSEC_SA_A_ENC], &p->enc, &p->has_enc, 0, extack) ?:
	      parse_alg(tb[NFSEC_SA_A_AUTH], &p->auth, &p->has_auth,
			NFSEC_ALG_A_TRUNC_BITS, extack) ?:
	      parse_sa_id(info, nest, tb, &p->id, true) ?:
	      require(info, nest, tb, NFSEC_SA_A_DIR,
		      "missing SA attribute: dir") ?:
	      require(info, nest, tb, NFSEC_SA_A_SRC,
		      "missing SA attribute: src") ?:
	      require(info, nest, tb, NFSEC_SA_A_MODE,
		      "missing SA attribute: mode") ?:
	      parse_addr(tb[NFSEC_SA_A_SRC], p->id.family, &p->saddr, extack) ?:
	      parse_lifetime(tb[NFSEC_SA_A_LIFETIME], &p->lifetime, extack);
	if (err)
		return err;

	p->dir = nla_get_u8(tb[NFSEC_SA_A_DIR]);
	p->mode = nla_get_u8(tb[NFSEC_SA_A_MODE]);
	p->replay_window = get_u32(tb[NFSEC_SA_A_REPLAY_WINDOW],
				   NFSEC_REPLAY_WINDOW_DEFAULT);
	p->flags = get_u32(tb[NFSEC_SA_A_FLAGS], 0);
	p->reqid = get_u32(tb[NFSEC_SA_A_REQID], 0);
	p->seq = tb[NFSEC_SA_A_SEQ] ? nla_get_u64(tb[NFSEC_SA_A_SEQ]) : 0;
	p->has_replay_window = tb[NFSEC_SA_A_REPLAY_WINDOW];
	p->has_seq = tb[NFSEC_SA_A_SEQ];
	if (tb[NFSEC_SA_A_SPI_MIN] || tb[NFSEC_SA_A_SPI_MAX] ||
	    tb[NFSEC_SA_A_TIMEOUT]) {
		NL_SET_ERR_MSG(extack,
			       "spi-min, spi-max and timeout are for alloc-spi");
		return -EINVAL;
	}
	if (tb[NFSEC_SA_A_DF]) {
		if (p->mode != NFSEC_MODE_TUNNEL || p->dir != NFSEC_DIR_OUT) {
			NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_SA_A_DF],
					    "DF applies to outbound tunnel SAs only");
			return -EINVAL;
		}
		p->df = nla_get_u8(tb[NFSEC_SA_A_DF]);
	}
	return parse_encap(tb[NFSEC_SA_A_ENCAP], p, extack);
}

/* Replies */

static int put_addr(struct sk_buff *skb, int type, u8 family,
		    const union nfsec_addr *a)
{
	return nla_put(skb, type, family == AF_INET ? 4 : 16, a);
}

static int put_alg(struct sk_buff *skb, int type, const struct nfsec_alg *a,
		   int bits_type, bool keys)
{
	struct nlattr *nest;

	if (!a->name[0])
		return 0;
	nest = nla_nest_start(skb, type);
	if (!nest ||
	    nla_put_string(skb, NFSEC_ALG_A_NAME, a->name) ||
	    (bits_type && nla_put_u32(skb, bits_type, a->bits)) ||
	    (keys && nla_put(skb, NFSEC_ALG_A_KEY, a->key_len, a->key)))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int put_u64s(struct sk_buff *skb, int type, const u64 *v, int n,
		    int first, int pad)
{
	struct nlattr *nest = nla_nest_start(skb, type);
	int i;

	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < n; i++)
		if (nla_put_u64_64bit(skb, first + i, v[i], pad))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* A larval entry: its identity, its source, its age and time left. */
static int put_larval(struct sk_buff *skb, const struct nfsec_sa *sa)
{
	struct nlattr *nest = nla_nest_start(skb, NFSEC_A_SA);

	if (!nest ||
	    nla_put_u8(skb, NFSEC_SA_A_STATE, NFSEC_SA_STATE_LARVAL) ||
	    nla_put_u16(skb, NFSEC_SA_A_FAMILY, sa->id.family) ||
	    put_addr(skb, NFSEC_SA_A_SRC, sa->id.family, &sa->saddr) ||
	    put_addr(skb, NFSEC_SA_A_DST, sa->id.family, &sa->id.daddr) ||
	    nla_put_be32(skb, NFSEC_SA_A_SPI, sa->id.spi) ||
	    nla_put_u8(skb, NFSEC_SA_A_PROTO, sa->id.proto) ||
	    nla_put_u64_64bit(skb, NFSEC_SA_A_ADD_TIME, sa->add_time,
			      NFSEC_SA_A_PAD) ||
	    nla_put_u32(skb, NFSEC_SA_A_TIMEOUT, nfsec_larval_left(sa)))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* ESP in UDP: as given, and where the peer is now. */
static int put_encap(struct sk_buff *skb, const struct nfsec_sa *sa)
{
	const struct nfsec_encap *e = &sa->encap;
	const struct nfsec_peer *peer;
	struct nlattr *nest;
	int err = -EMSGSIZE;

	if (!e->type)
		return 0;
	nest = nla_nest_start(skb, NFSEC_SA_A_ENCAP);
	if (!nest)
		return -EMSGSIZE;
	rcu_read_lock();
	peer = rcu_dereference(sa->peer);
	if (!nla_put_u8(skb, NFSEC_ENCAP_A_TYPE, e->type) &&
	    !nla_put_u16(skb, NFSEC_ENCAP_A_SPORT, e->sport) &&
	    !nla_put_u16(skb, NFSEC_ENCAP_A_DPORT, e->dport) &&
	    !nla_put_u32(skb, NFSEC_ENCAP_A_FLAGS, e->flags) &&
	    !nla_put_u32(skb, NFSEC_ENCAP_A_KEEPALIVE, e->keepalive) &&
	    !put_addr(skb, NFSEC_ENCAP_A_PEER, sa->id.family, &peer->addr) &&
	    !nla_put_u16(skb, NFSEC_ENCAP_A_PEER_PORT, ntohs(peer->port)))
		err = 0;
	rcu_read_unlock();
	if (!err)
		nla_nest_end(skb, nest);
	return err;
}

/* The limits from SOFT_BYTES on, then those appended after PAD. */
static int put_lifetime(struct sk_buff *skb, const u64 *v, int n,
			const u64 *use, int n_use)
{
	struct nlattr *nest = nla_nest_start(skb, NFSEC_SA_A_LIFETIME);
	int i;

	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < n; i++)
		if (nla_put_u64_64bit(skb, NFSEC_LT_A_SOFT_BYTES + i, v[i],
				      NFSEC_LT_A_PAD))
			return -EMSGSIZE;
	for (i = 0; i < n_use; i++)
		if (nla_put_u64_64bit(skb, NFSEC_LT_A_SOFT_USE_SECONDS + i,
				      use[i], NFSEC_LT_A_PAD))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int put_sa(struct sk_buff *skb, const struct nfsec_sa *sa, bool keys,
		  u8 expire)
{
	const struct nfsec_lifetime *lt = &sa->lifetime;
	u64 lifetime[] = { lt->soft_bytes, lt->hard_bytes, lt->soft_packets,
			   lt->hard_packets, lt->soft_seconds,
			   lt->hard_seconds };
	u64 use_lifetime[] = { lt->soft_use_seconds, lt->hard_use_seconds };
	unsigned int pmtu = nfsec_sa_pmtu(sa);
	u64 first_use = READ_ONCE(sa->first_use), idle = 0;
	u64 stats[NFSEC_SA_COUNTERS];
	struct nlattr *nest;

	BUILD_BUG_ON(NFSEC_SA_STATS_A_LOOP - NFSEC_SA_STATS_A_PACKETS + 1 !=
		     NFSEC_SA_COUNTERS);
	if (sa->larval)
		return put_larval(skb, sa);
	nfsec_counters_read(sa->counters, stats, NFSEC_SA_COUNTERS);
	if (first_use) {
		smp_rmb();	/* last_use was stored before first_use */
		idle = (u64)(jiffies - READ_ONCE(sa->last_use)) / HZ;
	}
	nest = nla_nest_start(skb, NFSEC_A_SA);
	if (!nest ||
	    nla_put_u8(skb, NFSEC_SA_A_STATE, NFSEC_SA_STATE_VALID) ||
	    nla_put_u8(skb, NFSEC_SA_A_DIR, sa->dir) ||
	    nla_put_u16(skb, NFSEC_SA_A_FAMILY, sa->id.family) ||
	    put_addr(skb, NFSEC_SA_A_SRC, sa->id.family, &sa->saddr) ||
	    put_addr(skb, NFSEC_SA_A_DST, sa->id.family, &sa->id.daddr) ||
	    nla_put_be32(skb, NFSEC_SA_A_SPI, sa->id.spi) ||
	    nla_put_u8(skb, NFSEC_SA_A_PROTO, sa->id.proto) ||
	    nla_put_u8(skb, NFSEC_SA_A_MODE, sa->mode) ||
	    put_alg(skb, NFSEC_SA_A_AEAD, &sa->aead, NFSEC_ALG_A_ICV_BITS,
		    keys) ||
	    put_alg(skb, NFSEC_SA_A_ENC, &sa->enc, 0, keys) ||
	    put_alg(skb, NFSEC_SA_A_AUTH, &sa->auth, NFSEC_ALG_A_TRUNC_BITS,
		    keys) ||
	    nla_put_u32(skb, NFSEC_SA_A_REPLAY_WINDOW, sa->replay_window) ||
	    nla_put_u32(skb, NFSEC_SA_A_FLAGS, sa->flags) ||
	    nla_put_u64_64bit(skb, NFSEC_SA_A_SEQ, sa->dir == NFSEC_DIR_OUT ?
			      (u64)atomic64_read(&sa->oseq) :
			      nfsec_replay_top(sa->replay), NFSEC_SA_A_PAD) ||
	    put_lifetime(skb, lifetime, ARRAY_SIZE(lifetime), use_lifetime,
			 ARRAY_SIZE(use_lifetime)) ||
	    nla_put_u8(skb, NFSEC_SA_A_DF, sa->df) ||
	    nla_put_u32(skb, NFSEC_SA_A_REQID, sa->reqid) ||
	    nla_put_u64_64bit(skb, NFSEC_SA_A_ADD_TIME, sa->add_time,
			      NFSEC_SA_A_PAD) ||
	    put_u64s(skb, NFSEC_SA_A_STATS, stats, NFSEC_SA_COUNTERS,
		     NFSEC_SA_STATS_A_PACKETS, NFSEC_SA_STATS_A_PAD) ||
	    (pmtu && nla_put_u32(skb, NFSEC_SA_A_PMTU, pmtu)) ||
	    (first_use &&
	     (nla_put_u64_64bit(skb, NFSEC_SA_A_FIRST_USE_TIME, first_use,
				NFSEC_SA_A_PAD) ||
	      nla_put_u64_64bit(skb, NFSEC_SA_A_USE_TIME, idle,
				NFSEC_SA_A_PAD))) ||
	    put_encap(skb, sa) ||
	    (expire && nla_put_u8(skb, NFSEC_SA_A_EXPIRE, expire)))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* By SPI: the SA's identity; by reqid: the reqid and what was given. */
static int put_sa_ref(struct sk_buff *skb, const struct nfsec_sa_ref *ref)
{
	bool dst = !ref->reqid || ref->has_dst;

	if (nla_put_u8(skb, NFSEC_POL_A_SA_PROTO, ref->id.proto) ||
	    ((dst || ref->has_src) &&
	     nla_put_u16(skb, NFSEC_POL_A_SA_FAMILY, ref->id.family)) ||
	    (dst && put_addr(skb, NFSEC_POL_A_SA_DST, ref->id.family,
			     &ref->id.daddr)) ||
	    (ref->has_src && put_addr(skb, NFSEC_POL_A_SA_SRC, ref->id.family,
				      &ref->saddr)))
		return -EMSGSIZE;
	if (!ref->reqid)
		return nla_put_be32(skb, NFSEC_POL_A_SA_SPI, ref->id.spi);
	if (ref->mode && nla_put_u8(skb, NFSEC_POL_A_SA_MODE, ref->mode))
		return -EMSGSIZE;
	return nla_put_u32(skb, NFSEC_POL_A_SA_REQID, ref->reqid);
}

static int put_policy(struct sk_buff *skb, const struct nfsec_policy *pol)
{
	const struct nfsec_selector *sel = &pol->sel;
	struct nlattr *nest = nla_nest_start(skb, NFSEC_A_POLICY);

	if (!nest ||
	    nla_put_u32(skb, NFSEC_POL_A_INDEX, pol->index) ||
	    nla_put_u8(skb, NFSEC_POL_A_DIR, pol->dir) ||
	    nla_put_u16(skb, NFSEC_POL_A_FAMILY, sel->family) ||
	    put_addr(skb, NFSEC_POL_A_SRC, sel->family, &sel->src) ||
	    nla_put_u8(skb, NFSEC_POL_A_SRC_PLEN, sel->src_plen) ||
	    put_addr(skb, NFSEC_POL_A_DST, sel->family, &sel->dst) ||
	    nla_put_u8(skb, NFSEC_POL_A_DST_PLEN, sel->dst_plen) ||
	    nla_put_u8(skb, NFSEC_POL_A_PROTO, sel->proto) ||
	    nla_put_u16(skb, NFSEC_POL_A_SPORT, sel->sport) ||
	    nla_put_u16(skb, NFSEC_POL_A_DPORT, sel->dport) ||
	    nla_put_u32(skb, NFSEC_POL_A_PRIORITY, pol->priority) ||
	    nla_put_u8(skb, NFSEC_POL_A_ACTION, pol->action) ||
	    nla_put_u64_64bit(skb, NFSEC_POL_A_MATCHES,
			      nfsec_policy_matches(pol), NFSEC_POL_A_PAD))
		return -EMSGSIZE;
	if (pol->action == NFSEC_ACTION_PROTECT && put_sa_ref(skb, &pol->ref))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/*
 * Writes one message: a generic netlink header for @cmd, then @put.
 * Returns -EMSGSIZE, with nothing left in @skb, when it does not fit.
 */
static int put_msg(struct sk_buff *skb, u32 portid, u32 seq, int flags,
		   u8 cmd, struct netlink_callback *cb,
		   int (*put)(struct sk_buff *skb, const void *obj, bool keys),
		   const void *obj, bool keys)
{
	void *hdr = genlmsg_put(skb, portid, seq, &nfsec_family, flags, cmd);

	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);
	if (put && put(skb, obj, keys)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int put_sa_cb(struct sk_buff *skb, const void *sa, bool keys)
{
	return put_sa(skb, sa, keys, 0);
}

static int put_policy_cb(struct sk_buff *skb, const void *pol, bool keys)
{
	return put_policy(skb, pol);
}

static int reply(struct genl_info *info, u8 cmd,
		 int (*put)(struct sk_buff *skb, const void *obj, bool keys),
		 const void *obj, bool keys)
{
	struct sk_buff *skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	int err;

	if (!skb)
		return -ENOMEM;
	err = put_msg(skb, info->snd_portid, info->snd_seq, 0, cmd, NULL, put,
		      obj, keys);
	if (err) {
		nlmsg_free(skb);
		return err;
	}
	return genlmsg_reply(skb, info);
}

/*
 * A request of an NFSEC_CMD_BATCH runs with a genl_info of its own (see
 * batch_one()), marked by this in user_ptr[0], which the family's ops, having
 * no pre_doit, leave unused otherwise.
 */
static const char batch_marker;

static bool in_batch(const struct genl_info *info)
{
	return info->user_ptr[0] == &batch_marker;
}

static bool want_keys(struct nlattr **attrs)
{
	return attrs[NFSEC_A_FLAGS] &&
	       (nla_get_u32(attrs[NFSEC_A_FLAGS]) & NFSEC_FLAG_SHOW_KEYS);
}

/* Events */

static void notify(struct nfsec_net *nn, u8 cmd,
		   int (*put)(struct sk_buff *skb, const void *obj, bool keys),
		   const void *obj, gfp_t gfp)
{
	struct sk_buff *skb;

	if (!genl_has_listeners(&nfsec_family, nn->net, 0))
		return;
	skb = genlmsg_new(NLMSG_GOODSIZE, gfp);
	if (!skb)
		return;
	if (put_msg(skb, 0, 0, 0, cmd, NULL, put, obj, false)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_multicast_netns(&nfsec_family, nn->net, skb, 0, 0, gfp);
}

struct expire_event {
	const struct nfsec_sa *sa;
	u8 expire;
};

static int put_expire_cb(struct sk_buff *skb, const void *obj, bool keys)
{
	const struct expire_event *ev = obj;

	return put_sa(skb, ev->sa, false, ev->expire);
}

void nfsec_netlink_notify_sa(struct nfsec_net *nn, const struct nfsec_sa *sa,
			     u8 cmd, u8 expire, gfp_t gfp)
{
	struct expire_event ev = { sa, expire };

	notify(nn, cmd, put_expire_cb, &ev, gfp);
}

bool nfsec_netlink_listening(const struct nfsec_net *nn)
{
	return genl_has_listeners(&nfsec_family, nn->net, 0);
}

static int put_flow(struct sk_buff *skb, const struct nfsec_flow *flow)
{
	struct nlattr *nest = nla_nest_start(skb, NFSEC_A_FLOW);

	if (!nest ||
	    nla_put_u16(skb, NFSEC_FLOW_A_FAMILY, flow->family) ||
	    put_addr(skb, NFSEC_FLOW_A_SRC, flow->family, &flow->src) ||
	    put_addr(skb, NFSEC_FLOW_A_DST, flow->family, &flow->dst) ||
	    nla_put_u8(skb, NFSEC_FLOW_A_PROTO, flow->proto) ||
	    nla_put_u16(skb, NFSEC_FLOW_A_SPORT, flow->sport) ||
	    nla_put_u16(skb, NFSEC_FLOW_A_DPORT, flow->dport))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* The largest acquire event: a policy of IPv6 and a flow of IPv6. */
#define ACQUIRE_EVENT_BYTES	512

/*
 * On the packet path (softirq or with BH on, under RCU): 0 once sent,
 * -ENOMEM or the multicast's error otherwise.
 */
int nfsec_netlink_notify_acquire(struct nfsec_net *nn,
				 const struct nfsec_policy *pol,
				 const struct nfsec_flow *flow)
{
	struct sk_buff *skb = genlmsg_new(ACQUIRE_EVENT_BYTES, GFP_ATOMIC);
	void *hdr;

	if (!skb)
		return -ENOMEM;
	hdr = genlmsg_put(skb, 0, 0, &nfsec_family, 0, NFSEC_CMD_ACQUIRE);
	if (!hdr || put_policy(skb, pol) || put_flow(skb, flow)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return genlmsg_multicast_netns(&nfsec_family, nn->net, skb, 0, 0,
				       GFP_ATOMIC);
}

static int put_mapping_cb(struct sk_buff *skb, const void *obj, bool keys)
{
	const struct nfsec_mapping_event *ev = obj;
	u8 family = ev->sa->id.family;
	struct nlattr *nest;

	if (put_sa(skb, ev->sa, false, 0))
		return -EMSGSIZE;
	nest = nla_nest_start(skb, NFSEC_A_MAPPING);
	if (!nest ||
	    put_addr(skb, NFSEC_MAP_A_OLD_ADDR, family, &ev->old_addr) ||
	    nla_put_u16(skb, NFSEC_MAP_A_OLD_PORT, ntohs(ev->old_port)) ||
	    put_addr(skb, NFSEC_MAP_A_NEW_ADDR, family, &ev->new_addr) ||
	    nla_put_u16(skb, NFSEC_MAP_A_NEW_PORT, ntohs(ev->new_port)) ||
	    nla_put_u32(skb, NFSEC_MAP_A_FOLLOWED, ev->followed))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* Process context, under nfsec_net.lock (encap.c's mapping work). */
void nfsec_netlink_notify_mapping(struct nfsec_net *nn,
				  const struct nfsec_mapping_event *ev)
{
	notify(nn, NFSEC_CMD_MAPPING, put_mapping_cb, ev, GFP_KERNEL);
}

/* SA commands */

/*
 * Puts @sa in the table (in place of the SA of its identity for an update,
 * and in place of a larval entry of its identity for either) and points
 * the protect policies that name it at it; the SA it replaced goes only
 * then, so that no policy points at an SA out of the table. No policy
 * points at a larval entry: filling one in binds as an add does.
 */
static int sa_install(struct nfsec_net *nn, struct nfsec_sa *sa,
		      const struct nfsec_sa_params *p, bool update,
		      struct netlink_ext_ack *extack)
{
	struct nfsec_sa *old = NULL, *cur;
	int err;

	lockdep_assert_held(&nn->lock);
	cur = update ? NULL : nfsec_sa_lookup_locked(nn, &sa->id);
	if (cur && !cur->larval) {	/* before the limit: it says why */
		NL_SET_ERR_MSG(extack, "SA already exists");
		return -EEXIST;
	}
	if (update || cur) {
		old = nfsec_sa_replace(nn, sa, p, extack);
		err = PTR_ERR_OR_ZERO(old);
	} else {
		err = nfsec_sa_insert(nn, sa, extack);
	}
	if (err)
		return err;
	nfsec_spd_bind(nn, old && !old->larval ? old : NULL, sa);
	if (old)
		nfsec_sa_put(old);
	return 0;
}

/* @sa, made from @p, into the table (add or update), and the news out. */
static int sa_commit(struct nfsec_net *nn, u8 cmd, struct nfsec_sa *sa,
		     const struct nfsec_sa_params *p,
		     struct netlink_ext_ack *extack)
{
	int err;

	mutex_lock(&nn->lock);
	err = sa_install(nn, sa, p, cmd == NFSEC_CMD_SA_UPDATE, extack);
	if (!err) {
		nfsec_netlink_notify_sa(nn, sa, cmd, 0, GFP_KERNEL);
		/* its limits by the clock, or an update's new ones */
		if (nfsec_lifetime_timed(&sa->lifetime) ||
		    cmd == NFSEC_CMD_SA_UPDATE)
			nfsec_lifetime_kick(nn);
	}
	mutex_unlock(&nn->lock);
	if (err)
		nfsec_sa_destroy(sa);
	return err;
}

static int sa_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nfsec_net *nn = nfsec_pernet(genl_info_net(info));
	struct nfsec_sa_params p;
	struct nfsec_sa *sa;
	int err;

	err = parse_sa(info, &p);
	if (!err) {
		/* Allocating the transform may load modules: before the lock. */
		sa = nfsec_sa_create(nn, &p, info->extack);
		err = IS_ERR(sa) ? PTR_ERR(sa) :
		      sa_commit(nn, info->genlhdr->cmd, sa, &p, info->extack);
	}
	wipe_keys(&p);
	return err;
}

static int sa_id_from(struct genl_info *info, struct nfsec_sa_id *id)
{
	struct nlattr *tb[NFSEC_SA_A_MAX + 1], *nest;

	nest = nest_parse(info, NFSEC_A_SA, tb, NFSEC_SA_A_MAX);
	if (IS_ERR(nest))
		return PTR_ERR(nest);
	return parse_sa_id(info, nest, tb, id, true);
}

void nfsec_sa_delete(struct nfsec_net *nn, struct nfsec_sa *sa)
{
	lockdep_assert_held(&nn->lock);
	/* Unhash and unbind, so no new packet finds it; then drop. */
	nfsec_sa_unhash(nn, sa);
	nfsec_spd_bind(nn, sa, NULL);
	nfsec_sa_put(sa);
}

/* SA_DEL and SA_GET: one SA by id. */
static int sa_del_get(struct sk_buff *skb, struct genl_info *info)
{
	struct nfsec_net *nn = nfsec_pernet(genl_info_net(info));
	struct nfsec_sa_id id;
	struct nfsec_sa *sa;
	int err;

	err = sa_id_from(info, &id);
	if (err)
		return err;
	mutex_lock(&nn->lock);
	sa = nfsec_sa_lookup_locked(nn, &id);
	if (!sa) {
		NL_SET_ERR_MSG(info->extack, "no such SA");
		err = -ENOENT;
	} else if (info->genlhdr->cmd == NFSEC_CMD_SA_GET) {
		err = reply(info, NFSEC_CMD_SA_GET, put_sa_cb, sa,
			    want_keys(info->attrs));
	} else {
		nfsec_netlink_notify_sa(nn, sa, NFSEC_CMD_SA_DEL, 0,
					GFP_KERNEL);
		nfsec_sa_delete(nn, sa);
	}
	mutex_unlock(&nn->lock);
	return err;
}

/*
 * SA_ALLOC_SPI: a larval entry with a free SPI of the range. The entry is
 * made before the lock (it may sleep); the SPI is chosen under it.
 */
static int sa_alloc_spi(struct sk_buff *skb, struct genl_info *info)
{
	struct nfsec_net *nn = nfsec_pernet(genl_info_net(info));
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *tb[NFSEC_SA_A_MAX + 1], *nest;
	u32 min, max, timeout;
	union nfsec_addr saddr;
	struct nfsec_sa_id id;
	struct nfsec_sa *sa;
	int i, err;

	nest = nest_parse(info, NFSEC_A_SA, tb, NFSEC_SA_A_MAX);
	if (IS_ERR(nest))
		return PTR_ERR(nest);
	for (i = 1; i <= NFSEC_SA_A_MAX; i++) {
		if (!tb[i] || i == NFSEC_SA_A_FAMILY || i == NFSEC_SA_A_SRC ||
		    i == NFSEC_SA_A_DST || i == NFSEC_SA_A_PROTO ||
		    i == NFSEC_SA_A_SPI_MIN || i == NFSEC_SA_A_SPI_MAX ||
		    i == NFSEC_SA_A_TIMEOUT)
			continue;
		nfsec_extack_msg(extack, i == NFSEC_SA_A_SPI ?
			"alloc-spi chooses the SPI: give a range (spi-min, spi-max)" :
			"alloc-spi takes only family, src, dst, proto, spi-min, spi-max and timeout");
		NL_SET_BAD_ATTR(extack, tb[i]);
		return -EINVAL;
	}
	err = parse_sa_id(info, nest, tb, &id, false) ?:
	      require(info, nest, tb, NFSEC_SA_A_SRC,
		      "missing SA attribute: src") ?:
	      parse_addr(tb[NFSEC_SA_A_SRC], id.family, &saddr, extack);
	if (err)
		return err;
	min = get_u32(tb[NFSEC_SA_A_SPI_MIN], NFSEC_SPI_ALLOC_MIN);
	max = get_u32(tb[NFSEC_SA_A_SPI_MAX], U32_MAX);
	timeout = get_u32(tb[NFSEC_SA_A_TIMEOUT],
			  NFSEC_SPI_ALLOC_TIMEOUT_DEFAULT);
	if (min < NFSEC_SPI_ALLOC_MIN) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_SA_A_SPI_MIN],
				    "spi-min below 256 (SPIs 0-255 are reserved, RFC 4303 2.1)");
		return -EINVAL;
	}
	if (min > max) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_SA_A_SPI_MAX],
				    "spi-min above spi-max");
		return -EINVAL;
	}
	if (!timeout || timeout > NFSEC_SPI_ALLOC_TIMEOUT_MAX) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_SA_A_TIMEOUT],
				    "timeout out of range (1-"
				    __stringify(NFSEC_SPI_ALLOC_TIMEOUT_MAX)
				    " seconds)");
		return -EINVAL;
	}

	sa = nfsec_sa_larval_create(nn, &id, &saddr);
	if (!sa)
		return -ENOMEM;
	mutex_lock(&nn->lock);
	err = nfsec_spi_alloc(nn, sa, min, max, timeout, extack);
	/* Once in the table, the entry stands even if the reply cannot go. */
	if (!err)
		reply(info, NFSEC_CMD_SA_ALLOC_SPI, put_sa_cb, sa, false);
	mutex_unlock(&nn->lock);
	if (err)
		nfsec_sa_destroy(sa);
	return err;
}

/* cb->args[0]: the index of the next SA to send. */
static int sa_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct nfsec_net *nn = nfsec_pernet(sock_net(skb->sk));
	bool keys = want_keys(genl_dumpit_info(cb)->attrs);
	unsigned long index;
	struct nfsec_sa *sa;
	int err = 0;

	mutex_lock(&nn->lock);
	cb->seq = nn->sa_gen;
	xa_for_each_start(&nn->sa_index, index, sa, cb->args[0]) {
		err = put_msg(skb, NETLINK_CB(cb->skb).portid,
			      cb->nlh->nlmsg_seq, NLM_F_MULTI,
			      NFSEC_CMD_SA_GET, cb, put_sa_cb, sa, keys);
		if (err)
			break;
		cb->args[0] = index + 1;
	}
	mutex_unlock(&nn->lock);
	/* An SA that does not fit an empty message is an error. */
	if (err && !skb->len)
		return err;
	return skb->len;
}

static int sa_flush(struct sk_buff *skb, struct genl_info *info)
{
	struct nfsec_net *nn = nfsec_pernet(genl_info_net(info));

	mutex_lock(&nn->lock);
	nfsec_spd_bind(nn, NULL, NULL);
	nfsec_sa_flush(nn);
	notify(nn, NFSEC_CMD_SA_FLUSH, NULL, NULL, GFP_KERNEL);
	mutex_unlock(&nn->lock);
	return 0;
}

/* Policy commands */

static int parse_selector(struct genl_info *info, struct nlattr *nest,
			  struct nlattr **tb, struct nfsec_selector *sel)
{
	struct netlink_ext_ack *extack = info->extack;
	int err;

	memset(sel, 0, sizeof(*sel));
	err = require(info, nest, tb, NFSEC_POL_A_FAMILY,
		      "missing policy attribute: family") ?:
	      require(info, nest, tb, NFSEC_POL_A_DIR,
		      "missing policy attribute: dir") ?:
	      parse_family(tb[NFSEC_POL_A_FAMILY], &sel->family, extack) ?:
	      parse_addr(tb[NFSEC_POL_A_SRC], sel->family, &sel->src, extack) ?:
	      parse_addr(tb[NFSEC_POL_A_DST], sel->family, &sel->dst, extack);
	if (err)
		return err;
	sel->src_plen = get_u8(tb[NFSEC_POL_A_SRC_PLEN], 0);
	sel->dst_plen = get_u8(tb[NFSEC_POL_A_DST_PLEN], 0);
	sel->proto = get_u8(tb[NFSEC_POL_A_PROTO], 0);
	sel->sport = get_u16(tb[NFSEC_POL_A_SPORT], 0);
	sel->dport = get_u16(tb[NFSEC_POL_A_DPORT], 0);
	return nfsec_selector_valid(sel, extack) ? 0 : -EINVAL;
}

/* A protect policy's SA by SPI: its identity, the dst defaulted. */
static int parse_sa_spi(struct genl_info *info, struct nlattr **tb,
			const struct nfsec_selector *sel,
			struct nfsec_sa_ref *ref)
{
	struct nlattr *narrow = tb[NFSEC_POL_A_SA_MODE] ?:
				tb[NFSEC_POL_A_SA_SRC];

	if (narrow) {
		NL_SET_ERR_MSG_ATTR(info->extack, narrow,
				    "the SA's mode and src narrow a reqid: an spi names one SA");
		return -EINVAL;
	}
	ref->id.spi = nla_get_be32(tb[NFSEC_POL_A_SA_SPI]);
	if (tb[NFSEC_POL_A_SA_DST])
		return parse_addr(tb[NFSEC_POL_A_SA_DST], ref->id.family,
				  &ref->id.daddr, info->extack);
	if (ref->id.family == sel->family &&
	    sel->dst_plen == (sel->family == AF_INET ? 32 : 128)) {
		ref->id.daddr = sel->dst;
		return 0;
	}
	NL_SET_ERR_MSG(info->extack,
		       "a protect policy for a prefix needs the SA's dst");
	return -EINVAL;
}

/* A protect policy's SAs by reqid: the reqid and what narrows it. */
static int parse_sa_reqid(struct genl_info *info, struct nlattr **tb,
			  struct nfsec_sa_ref *ref)
{
	struct nlattr *reqid = tb[NFSEC_POL_A_SA_REQID];

	if (tb[NFSEC_POL_A_SA_SPI]) {
		NL_SET_ERR_MSG_ATTR(info->extack, reqid,
				    "a policy names its SA by spi or by reqid, not both");
		return -EINVAL;
	}
	ref->reqid = nla_get_u32(reqid);
	if (!ref->reqid) {
		NL_SET_ERR_MSG_ATTR(info->extack, reqid,
				    "reqid 0 names no SA (it means none)");
		return -EINVAL;
	}
	/* by reqid the family is the SA's addresses', and only with one */
	if (tb[NFSEC_POL_A_SA_FAMILY] && !tb[NFSEC_POL_A_SA_DST] &&
	    !tb[NFSEC_POL_A_SA_SRC]) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[NFSEC_POL_A_SA_FAMILY],
				    "the SA's family goes with the SA's dst or src");
		return -EINVAL;
	}
	ref->mode = get_u8(tb[NFSEC_POL_A_SA_MODE], 0);
	ref->has_dst = tb[NFSEC_POL_A_SA_DST];
	ref->has_src = tb[NFSEC_POL_A_SA_SRC];
	return parse_addr(tb[NFSEC_POL_A_SA_DST], ref->id.family,
			  &ref->id.daddr, info->extack) ?:
	       parse_addr(tb[NFSEC_POL_A_SA_SRC], ref->id.family,
			  &ref->saddr, info->extack);
}

/* What a policy of @action names: for protect, its SA or SAs. */
static int parse_sa_ref(struct genl_info *info, struct nlattr *nest,
			struct nlattr **tb, const struct nfsec_selector *sel,
			u8 action, struct nfsec_sa_ref *ref)
{
	int err;

	memset(ref, 0, sizeof(*ref));
	if (action != NFSEC_ACTION_PROTECT) {
		if (tb[NFSEC_POL_A_SA_SPI] || tb[NFSEC_POL_A_SA_DST] ||
		    tb[NFSEC_POL_A_SA_PROTO] || tb[NFSEC_POL_A_SA_FAMILY] ||
		    tb[NFSEC_POL_A_SA_REQID] || tb[NFSEC_POL_A_SA_MODE] ||
		    tb[NFSEC_POL_A_SA_SRC]) {
			NL_SET_ERR_MSG(info->extack,
				       "only protect policies name an SA");
			return -EINVAL;
		}
		return 0;
	}
	ref->id.family = sel->family;
	if (tb[NFSEC_POL_A_SA_FAMILY]) {
		err = parse_family(tb[NFSEC_POL_A_SA_FAMILY], &ref->id.family,
				   info->extack);
		if (err)
			return err;
	}
	ref->id.proto = get_u8(tb[NFSEC_POL_A_SA_PROTO], IPPROTO_ESP);
	if (tb[NFSEC_POL_A_SA_REQID])
		return parse_sa_reqid(info, tb, ref);
	return require(info, nest, tb, NFSEC_POL_A_SA_SPI,
		       "a protect policy needs the SA's spi") ?:
	       parse_sa_spi(info, tb, sel, ref);
}

/* POLICY_ADD and POLICY_UPDATE: the same attributes, the same rules. */
static int policy_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nfsec_net *nn = nfsec_pernet(genl_info_net(info));
	struct nlattr *tb[NFSEC_POL_A_MAX + 1], *nest;
	struct netlink_ext_ack *extack = info->extack;
	u8 cmd = info->genlhdr->cmd;
	struct nfsec_selector sel;
	struct nfsec_policy *pol;
	struct nfsec_sa_ref ref;
	u8 action;
	int err;

	nest = nest_parse(info, NFSEC_A_POLICY, tb, NFSEC_POL_A_MAX);
	if (IS_ERR(nest))
		return PTR_ERR(nest);
	if (tb[NFSEC_POL_A_INDEX] && cmd != NFSEC_CMD_POLICY_UPDATE) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_POL_A_INDEX],
				    "the kernel assigns policy indexes");
		return -EINVAL;
	}
	err = parse_selector(info, nest, tb, &sel) ?:
	      require(info, nest, tb, NFSEC_POL_A_ACTION,
		      "missing policy attribute: action");
	if (err)
		return err;
	action = nla_get_u8(tb[NFSEC_POL_A_ACTION]);
	err = parse_sa_ref(info, nest, tb, &sel, action, &ref);
	if (err)
		return err;

	pol = nfsec_policy_create(nn, nla_get_u8(tb[NFSEC_POL_A_DIR]), action,
				  get_u32(tb[NFSEC_POL_A_PRIORITY],
					  NFSEC_POLICY_PRIORITY_DEFAULT),
				  &sel, &ref, extack);
	if (IS_ERR(pol))
		return PTR_ERR(pol);
	pol->index = get_u32(tb[NFSEC_POL_A_INDEX], 0);
	mutex_lock(&nn->lock);
	err = cmd == NFSEC_CMD_POLICY_UPDATE ?
	      nfsec_policy_replace(nn, pol, extack) :
	      nfsec_policy_insert(nn, pol, extack);
	/* Once in the table, the policy stands even if the reply cannot go. */
	if (!err && !in_batch(info))
		reply(info, cmd, put_policy_cb, pol, false);
	mutex_unlock(&nn->lock);
	if (err)
		nfsec_policy_free(pol);
	return err;
}

static int policy_del(struct sk_buff *skb, struct genl_info *info)
{
	struct nfsec_net *nn = nfsec_pernet(genl_info_net(info));
	struct nlattr *tb[NFSEC_POL_A_MAX + 1], *nest;
	struct nfsec_selector sel = {};
	u32 index = 0;
	u8 dir = 0;
	int err;

	nest = nest_parse(info, NFSEC_A_POLICY, tb, NFSEC_POL_A_MAX);
	if (IS_ERR(nest))
		return PTR_ERR(nest);
	if (tb[NFSEC_POL_A_INDEX]) {
		index = nla_get_u32(tb[NFSEC_POL_A_INDEX]);
	} else {
		err = parse_selector(info, nest, tb, &sel);
		if (err)
			return err;
		dir = nla_get_u8(tb[NFSEC_POL_A_DIR]);
	}
	mutex_lock(&nn->lock);
	err = nfsec_policy_remove(nn, index, dir, &sel,
				  get_u32(tb[NFSEC_POL_A_PRIORITY],
					  NFSEC_POLICY_PRIORITY_DEFAULT));
	mutex_unlock(&nn->lock);
	if (err)
		NL_SET_ERR_MSG(info->extack, "no such policy");
	return err;
}

/* cb->args[0]: direction - 1; cb->args[1]: position within it. */
static int policy_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct nfsec_net *nn = nfsec_pernet(sock_net(skb->sk));
	struct nfsec_policy *pol;
	int err = 0;

	mutex_lock(&nn->lock);
	cb->seq = nn->policy_gen;
	for (; cb->args[0] < NFSEC_DIRS; cb->args[0]++, cb->args[1] = 0) {
		unsigned long pos = 0;

		list_for_each_entry(pol, &nn->spd[cb->args[0]], node) {
			if (pos++ < cb->args[1])
				continue;
			err = put_msg(skb, NETLINK_CB(cb->skb).portid,
				      cb->nlh->nlmsg_seq, NLM_F_MULTI,
				      NFSEC_CMD_POLICY_GET, cb, put_policy_cb,
				      pol, false);
			if (err)
				goto out;
			cb->args[1] = pos;
		}
	}
out:
	mutex_unlock(&nn->lock);
	if (err && !skb->len)
		return err;
	return skb->len;
}

static int policy_flush(struct sk_buff *skb, struct genl_info *info)
{
	struct nfsec_net *nn = nfsec_pernet(genl_info_net(info));

	mutex_lock(&nn->lock);
	nfsec_spd_flush(nn);
	mutex_unlock(&nn->lock);
	return 0;
}

/* Counters */

struct net_stats {
	u32 sa_count, policy_count, larval_count;
	u64 c[NFSEC_NET_COUNTERS];
};

/* The attribute of namespace counter @i: three runs of them. */
static int stats_attr(int i)
{
	if (i < NFSEC_NET_ACQUIRE)
		return NFSEC_STATS_A_NO_SA + i;
	if (i < NFSEC_NET_ENCAP_IN)
		return NFSEC_STATS_A_ACQUIRE + i - NFSEC_NET_ACQUIRE;
	return NFSEC_STATS_A_ENCAP_IN + i - NFSEC_NET_ENCAP_IN;
}

static int put_stats_cb(struct sk_buff *skb, const void *obj, bool keys)
{
	const struct net_stats *s = obj;
	struct nlattr *nest = nla_nest_start(skb, NFSEC_A_STATS);
	int i;

	/* runs of counters: before NFSEC_STATS_A_PAD, after it, after LARVAL */
	BUILD_BUG_ON(NFSEC_STATS_A_CONNTRACK - NFSEC_STATS_A_NO_SA !=
		     NFSEC_NET_CONNTRACK);
	BUILD_BUG_ON(NFSEC_STATS_A_ACQUIRE_FAILED - NFSEC_STATS_A_ACQUIRE !=
		     NFSEC_NET_ACQUIRE_FAILED - NFSEC_NET_ACQUIRE);
	BUILD_BUG_ON(NFSEC_STATS_A_REQ_HEAP - NFSEC_STATS_A_ENCAP_IN !=
		     NFSEC_NET_REQ_HEAP - NFSEC_NET_ENCAP_IN);
	BUILD_BUG_ON(NFSEC_NET_REQ_HEAP + 1 != NFSEC_NET_COUNTERS);
	if (!nest ||
	    nla_put_u32(skb, NFSEC_STATS_A_SA_COUNT, s->sa_count) ||
	    nla_put_u32(skb, NFSEC_STATS_A_POLICY_COUNT, s->policy_count) ||
	    nla_put_u32(skb, NFSEC_STATS_A_LARVAL_COUNT, s->larval_count))
		return -EMSGSIZE;
	for (i = 0; i < NFSEC_NET_COUNTERS; i++)
		if (nla_put_u64_64bit(skb, stats_attr(i), s->c[i],
				      NFSEC_STATS_A_PAD))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int stats_get(struct sk_buff *skb, struct genl_info *info)
{
	struct nfsec_net *nn = nfsec_pernet(genl_info_net(info));
	struct net_stats s;

	mutex_lock(&nn->lock);
	s.sa_count = nn->sa_count;
	s.policy_count = nn->policy_count;
	s.larval_count = nn->larval_count;
	mutex_unlock(&nn->lock);
	nfsec_counters_read(nn->counters, s.c, NFSEC_NET_COUNTERS);
	return reply(info, NFSEC_CMD_STATS_GET, put_stats_cb, &s, false);
}

/* Batches */

static bool batchable(int cmd)
{
	switch (cmd) {
	case NFSEC_CMD_SA_ADD:
	case NFSEC_CMD_SA_UPDATE:
	case NFSEC_CMD_SA_DEL:
	case NFSEC_CMD_POLICY_ADD:
	case NFSEC_CMD_POLICY_UPDATE:
	case NFSEC_CMD_POLICY_DEL:
		return true;
	}
	return false;
}

static bool makes_sa(int cmd)
{
	return cmd == NFSEC_CMD_SA_ADD || cmd == NFSEC_CMD_SA_UPDATE;
}

/* The whole batch's shape, before any request runs; its SA adds in @nsa. */
static int batch_check(struct genl_info *info, const struct nlattr *batch,
		       unsigned int *nsa)
{
	struct netlink_ext_ack *extack = info->extack;
	const struct nlattr *req;
	int i, rem, n = 0;

	for (i = 1; i <= NFSEC_A_MAX; i++) {
		if (i != NFSEC_A_BATCH && info->attrs[i]) {
			NL_SET_ERR_MSG_ATTR(extack, info->attrs[i],
					    "attribute not allowed beside a batch");
			return -EINVAL;
		}
	}
	*nsa = 0;
	nla_for_each_nested(req, batch, rem) {
		if (!batchable(nla_type(req))) {
			NL_SET_ERR_MSG_ATTR(extack, req,
					    "command not allowed in a batch");
			return -EINVAL;
		}
		if (++n > NFSEC_BATCH_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, req,
					    "too many requests in a batch (at most "
					    __stringify(NFSEC_BATCH_MAX) ")");
			return -EINVAL;
		}
		*nsa += makes_sa(nla_type(req));
	}
	if (rem) {
		NL_SET_ERR_MSG_ATTR(extack, batch,
				    "batch has trailing bytes");
		return -EINVAL;
	}
	return 0;
}

/* The genl_info @sub of one request @req of a batch, its attributes in @tb. */
static int batch_sub(struct genl_info *info, struct nlattr *req,
		     struct nlattr **tb, struct genl_info *sub,
		     struct genlmsghdr *hdr)
{
	int err;

	err = nla_parse_nested(tb, NFSEC_A_MAX, req, nfsec_policy,
			       info->extack);
	if (err)
		return err;
	if (tb[NFSEC_A_BATCH] || tb[NFSEC_A_FLAGS]) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[NFSEC_A_BATCH] ?:
				    tb[NFSEC_A_FLAGS],
				    "attribute not allowed in a batch's request");
		return -EINVAL;
	}
	*hdr = *info->genlhdr;
	hdr->cmd = nla_type(req);
	*sub = *info;
	sub->genlhdr = hdr;
	sub->attrs = tb;
	sub->user_ptr[0] = (void *)&batch_marker;
	return 0;
}

/*
 * A batch's SA adds and updates are made ahead: parsed, and their
 * transforms allocated and keyed, which is nearly all of an add's time.
 * Helpers on the other CPUs make them from the start, each taking the
 * next one not taken; they charge what they allocate to the requester's
 * memory cgroup. The requester runs the batch in order meanwhile: each
 * SA, once made, goes into the table, or the request fails with the
 * error its making had; while the SA it needs is still being made, the
 * requester makes the next one not taken. Making an SA touches no table,
 * so making it early changes nothing that the requests before it see;
 * the SAs of requests after a failure are freed unused.
 */
struct sa_made {
	struct nlattr *req;
	struct nfsec_sa *sa;		/* NULL once installed, or on error */
	bool made;			/* sa and err set (release) */
	int err;
	struct nfsec_sa_params p;	/* (its keys wiped once made) */
	struct netlink_ext_ack extack;
};

#define BATCH_HELPERS_MAX	7
#define BATCH_SAS_PER_HELPER	16	/* fewer are not worth a wake-up */

struct sa_making;

struct sa_helper {
	struct work_struct work;
	struct sa_making *mk;
};

struct sa_making {
	struct genl_info *info;
	unsigned int n;
	unsigned int helpers;		/* started; waited for at the end */
	atomic_t next;			/* the next SA to make */
	atomic_t helping;		/* helpers not done */
	struct completion done;
	wait_queue_head_t made_wq;	/* an SA was made */
	struct mem_cgroup *memcg;
	struct sa_helper helper[BATCH_HELPERS_MAX];
	struct sa_made made[];
};

static void make_sa(struct genl_info *info, struct sa_made *m)
{
	struct nlattr *tb[NFSEC_A_MAX + 1];
	struct genl_info batch_info = *info;
	struct genlmsghdr hdr;
	struct genl_info sub;
	struct nfsec_sa *sa;

	batch_info.extack = &m->extack;
	m->err = batch_sub(&batch_info, m->req, tb, &sub, &hdr);
	if (m->err)
		return;
	m->err = parse_sa(&sub, &m->p);
	if (!m->err) {
		sa = nfsec_sa_create(nfsec_pernet(genl_info_net(info)), &m->p,
				     sub.extack);
		if (IS_ERR(sa))
			m->err = PTR_ERR(sa);
		else
			m->sa = sa;
	}
	wipe_keys(&m->p);
}

/* The next SA not taken, made; false when none is left. */
static bool make_next(struct sa_making *mk)
{
	unsigned int i = atomic_inc_return(&mk->next) - 1;

	if (i >= mk->n)
		return false;
	make_sa(mk->info, &mk->made[i]);
	/* pairs with batch_made()'s acquire: the entry is whole */
	smp_store_release(&mk->made[i].made, true);
	wake_up_all(&mk->made_wq);
	cond_resched();
	return true;
}

/*
 * Entry @m, made: by the requester itself, while others are left. The
 * acquires pair with make_next()'s release: the entry is read whole.
 */
static void batch_made(struct sa_making *mk, struct sa_made *m)
{
	while (!smp_load_acquire(&m->made)) /* see above */
		if (!make_next(mk))
			wait_event(mk->made_wq,
				   smp_load_acquire(&m->made)); /* see above */
}

static void sa_helper(struct work_struct *work)
{
	struct sa_making *mk = container_of(work, struct sa_helper, work)->mk;
	struct mem_cgroup *old = set_active_memcg(mk->memcg);

	while (make_next(mk))
		;
	set_active_memcg(old);
	if (atomic_dec_and_test(&mk->helping))
		complete(&mk->done);
}

/*
 * The @nsa SA adds and updates of @batch, to be made, helpers started;
 * NULL without memory.
 */
static struct sa_making *batch_make_sas(struct genl_info *info,
					struct nlattr *batch, unsigned int nsa)
{
	unsigned int i = 0, helpers;
	struct sa_making *mk;
	struct nlattr *req;
	int rem;

	mk = kvzalloc(struct_size(mk, made, nsa), GFP_KERNEL_ACCOUNT);
	if (!mk)
		return NULL;
	mk->info = info;
	mk->n = nsa;
	nla_for_each_nested(req, batch, rem)
		if (makes_sa(nla_type(req)))
			mk->made[i++].req = req;
	helpers = min3(num_online_cpus() - 1, nsa / BATCH_SAS_PER_HELPER,
		       (unsigned int)BATCH_HELPERS_MAX);
	mk->helpers = helpers;
	atomic_set(&mk->helping, helpers);
	init_completion(&mk->done);
	init_waitqueue_head(&mk->made_wq);
	if (helpers)
		mk->memcg = get_mem_cgroup_from_mm(current->mm);
	for (i = 0; i < helpers; i++) {
		mk->helper[i].mk = mk;
		INIT_WORK(&mk->helper[i].work, sa_helper);
		queue_work(system_unbound_wq, &mk->helper[i].work);
	}
	return mk;
}

/*
 * Once the batch has run, or stopped: nothing more is made, the helpers
 * are waited for, and what was made and not installed is freed.
 */
static void batch_free_sas(struct sa_making *mk)
{
	unsigned int i;

	atomic_set(&mk->next, mk->n);
	if (mk->helpers) {
		wait_for_completion(&mk->done);
		mem_cgroup_put(mk->memcg);
	}
	for (i = 0; i < mk->n; i++)
		if (mk->made[i].sa)
			nfsec_sa_destroy(mk->made[i].sa);
	kvfree(mk);
}

/* A made SA of a batch into the table; or its making's error. */
static int batch_sa(struct genl_info *info, struct sa_making *mk,
		    struct sa_made *m)
{
	struct nfsec_sa *sa;

	batch_made(mk, m);
	sa = m->sa;
	if (m->err) {
		*info->extack = m->extack;
		return m->err;
	}
	m->sa = NULL;
	return sa_commit(nfsec_pernet(genl_info_net(info)), nla_type(m->req),
			 sa, &m->p, info->extack);
}

/* One request of a batch, as its own message would run. */
static int batch_one(struct sk_buff *skb, struct genl_info *info,
		     struct nlattr *req)
{
	struct nlattr *tb[NFSEC_A_MAX + 1];
	struct genlmsghdr hdr;
	struct genl_info sub;
	int err;

	err = batch_sub(info, req, tb, &sub, &hdr);
	if (err)
		return err;
	switch (hdr.cmd) {
	case NFSEC_CMD_SA_DEL:
		return sa_del_get(skb, &sub);
	case NFSEC_CMD_POLICY_ADD:
	case NFSEC_CMD_POLICY_UPDATE:
		return policy_set(skb, &sub);
	default:
		return policy_del(skb, &sub);
	}
}

/*
 * BATCH: its requests in order, up to the first that fails. The error's
 * offset then points into that request, which is how the caller learns
 * where the batch stopped: the request's own attribute at fault, or else
 * the request's nest.
 */
static int batch_run(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *b = info->attrs[NFSEC_A_BATCH], *req;
	struct sa_making *mk = NULL;
	unsigned int nsa, i = 0;
	int rem, err;

	if (!b) {
		NL_SET_ERR_MSG(info->extack,
			       "missing batch attribute (NFSEC_A_BATCH)");
		NL_SET_ERR_ATTR_MISS(info->extack, NULL, NFSEC_A_BATCH);
		return -EINVAL;
	}
	err = batch_check(info, b, &nsa);
	if (err)
		return err;
	if (nsa) {
		mk = batch_make_sas(info, b, nsa);
		if (!mk)
			return -ENOMEM;
	}
	nla_for_each_nested(req, b, rem) {
		err = makes_sa(nla_type(req)) ?
		      batch_sa(info, mk, &mk->made[i++]) :
		      batch_one(skb, info, req);
		if (err) {
			if (!info->extack->bad_attr)
				info->extack->bad_attr = req;
			break;
		}
		cond_resched();
	}
	if (mk)
		batch_free_sas(mk);
	return err;
}

#define ADMIN GENL_UNS_ADMIN_PERM

static const struct genl_small_ops nfsec_ops[] = {
	{ .cmd = NFSEC_CMD_SA_ADD, .doit = sa_set, .flags = ADMIN },
	{ .cmd = NFSEC_CMD_SA_UPDATE, .doit = sa_set, .flags = ADMIN },
	{ .cmd = NFSEC_CMD_SA_DEL, .doit = sa_del_get, .flags = ADMIN },
	{ .cmd = NFSEC_CMD_SA_GET, .doit = sa_del_get, .dumpit = sa_dump,
	  .flags = ADMIN },
	{ .cmd = NFSEC_CMD_SA_FLUSH, .doit = sa_flush, .flags = ADMIN },
	{ .cmd = NFSEC_CMD_POLICY_ADD, .doit = policy_set, .flags = ADMIN },
	{ .cmd = NFSEC_CMD_POLICY_UPDATE, .doit = policy_set, .flags = ADMIN },
	{ .cmd = NFSEC_CMD_POLICY_DEL, .doit = policy_del, .flags = ADMIN },
	{ .cmd = NFSEC_CMD_POLICY_GET, .dumpit = policy_dump,
	  .flags = ADMIN },
	{ .cmd = NFSEC_CMD_POLICY_FLUSH, .doit = policy_flush,
	  .flags = ADMIN },
	{ .cmd = NFSEC_CMD_STATS_GET, .doit = stats_get, .flags = ADMIN },
	{ .cmd = NFSEC_CMD_SA_ALLOC_SPI, .doit = sa_alloc_spi,
	  .flags = ADMIN },
	{ .cmd = NFSEC_CMD_BATCH, .doit = batch_run, .flags = ADMIN },
};

static const struct genl_multicast_group nfsec_mcgrps[] = {
	{ .name = NFSEC_MCGRP_EVENTS, .flags = GENL_UNS_ADMIN_PERM },
};

static struct genl_family nfsec_family __ro_after_init = {
	.name = NFSEC_GENL_NAME,
	.version = NFSEC_GENL_VERSION,
	.maxattr = NFSEC_A_MAX,
	.policy = nfsec_policy,
	.netnsok = true,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.small_ops = nfsec_ops,
	.n_small_ops = ARRAY_SIZE(nfsec_ops),
	.resv_start_op = NFSEC_CMD_SA_ADD,
	.mcgrps = nfsec_mcgrps,
	.n_mcgrps = ARRAY_SIZE(nfsec_mcgrps),
};

int __init nfsec_netlink_init(void)
{
	return genl_register_family(&nfsec_family);
}

void nfsec_netlink_uninit(void)
{
	genl_unregister_family(&nfsec_family);
}
