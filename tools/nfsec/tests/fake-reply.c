// SPDX-License-Identifier: GPL-2.0
/*
 * Host-only check of what the tool does with replies: build the attributes
 * a kernel reply would carry (with nla_put_u64_64bit's PAD attributes),
 * parse them with genl.c's own code and print them in one form.
 *
 *   fake-reply sa|larval|encap|policy|stats|acquire|mapping human|json|conf
 *              [show-keys]
 */
#include "../genl.c"

#include <stdlib.h>

static void put_padded_u64(struct nlmsghdr *nlh, uint16_t type, uint64_t v,
			   uint16_t pad)
{
	/* Like the kernel: a PAD attribute when the u64 would be misaligned. */
	if (!((uintptr_t)mnl_nlmsg_get_payload_tail(nlh) & 7))
		mnl_attr_put(nlh, pad, 0, NULL);
	mnl_attr_put_u64(nlh, type, v);
}

static void reply_sa(struct nlmsghdr *nlh, bool keys)
{
	struct sa_spec sa = { 0 };
	struct nlattr *nest, *st;
	unsigned int i;

	sa.have = HAVE(NFSEC_SA_A_DIR) | HAVE(NFSEC_SA_A_FAMILY) |
		  HAVE(NFSEC_SA_A_SRC) | HAVE(NFSEC_SA_A_DST) |
		  HAVE(NFSEC_SA_A_SPI) | HAVE(NFSEC_SA_A_PROTO) |
		  HAVE(NFSEC_SA_A_MODE) | HAVE(NFSEC_SA_A_FLAGS) |
		  HAVE(NFSEC_SA_A_SEQ) | HAVE(NFSEC_SA_A_DF) |
		  HAVE(NFSEC_SA_A_REQID);
	sa.dir = NFSEC_DIR_OUT;
	sa.family = AF_INET;
	inet_pton(AF_INET, "10.0.0.1", &sa.src);
	inet_pton(AF_INET, "10.0.0.2", &sa.dst);
	sa.spi = 0x1000;
	sa.proto = IPPROTO_ESP;
	sa.mode = NFSEC_MODE_TUNNEL;
	sa.flags = NFSEC_SA_F_ESN;
	sa.seq = 41;
	sa.df = NFSEC_DF_SET;
	sa.reqid = 7;
	sa.enc.set = true;
	sa.auth.set = true;
	strcpy(sa.enc.name, "cbc(aes)");
	strcpy(sa.auth.name, "hmac(sha256)");
	sa.auth.has_bits = true;
	sa.auth.bits = 128;
	if (keys) {
		sa.enc.has_key = true;
		sa.auth.has_key = true;
		sa.enc.key_len = 16;
		sa.auth.key_len = 32;
		for (i = 0; i < 32; i++) {
			sa.enc.key[i % 16] = i;
			sa.auth.key[i] = i;
		}
	}
	sa.lt_have = HAVE(NFSEC_LT_A_SOFT_BYTES) |
		     HAVE(NFSEC_LT_A_HARD_SECONDS) |
		     HAVE(NFSEC_LT_A_HARD_USE_SECONDS);
	sa.lifetime[NFSEC_LT_A_HARD_USE_SECONDS] = 600;
	sa.lifetime[NFSEC_LT_A_SOFT_BYTES] = 1000000;
	sa.lifetime[NFSEC_LT_A_HARD_SECONDS] = 3600;
	put_sa(nlh, &sa);

	/* What only replies carry, appended to the nest put_sa closed. */
	nest = (struct nlattr *)((uint8_t *)nlh + sizeof(*nlh) +
				 sizeof(struct genlmsghdr));
	put_padded_u64(nlh, NFSEC_SA_A_ADD_TIME, 0, NFSEC_SA_A_PAD);
	put_padded_u64(nlh, NFSEC_SA_A_FIRST_USE_TIME, 0, NFSEC_SA_A_PAD);
	put_padded_u64(nlh, NFSEC_SA_A_USE_TIME, 65, NFSEC_SA_A_PAD);
	st = mnl_attr_nest_start(nlh, NFSEC_SA_A_STATS);
	for (i = 1; i < NFSEC_SA_STATS_A_PAD; i++)
		put_padded_u64(nlh, i, i == NFSEC_SA_STATS_A_BYTES ?
			       1234567 : i, NFSEC_SA_STATS_A_PAD);
	mnl_attr_nest_end(nlh, st);
	nest->nla_len = (uint8_t *)mnl_nlmsg_get_payload_tail(nlh) -
			(uint8_t *)nest;
}

/*
 * ESP in UDP SAs: 0 outbound, its peer's port moved; 1 inbound with
 * follow, its peer's address moved; 2 outbound IPv6 as configured; 3
 * inbound IPv6 transport mode with follow, its peer's port moved.
 */
static void reply_encap(struct nlmsghdr *nlh, int which, bool keys)
{
	struct sa_spec sa = { 0 };
	struct encap_spec *e = &sa.encap;
	const char *peer = "198.51.100.1", *us = "10.0.0.1";

	sa.have = HAVE(NFSEC_SA_A_DIR) | HAVE(NFSEC_SA_A_FAMILY) |
		  HAVE(NFSEC_SA_A_SRC) | HAVE(NFSEC_SA_A_DST) |
		  HAVE(NFSEC_SA_A_SPI) | HAVE(NFSEC_SA_A_PROTO) |
		  HAVE(NFSEC_SA_A_MODE) | HAVE(NFSEC_SA_A_ENCAP);
	sa.family = AF_INET;
	sa.spi = 0x3000 + which;
	sa.proto = IPPROTO_ESP;
	sa.mode = NFSEC_MODE_TUNNEL;
	sa.aead.set = true;
	strcpy(sa.aead.name, "rfc4106(gcm(aes))");
	if (keys) {
		sa.aead.has_key = true;
		sa.aead.key_len = 20;
		memset(sa.aead.key, 0x11 * (which + 1), 20);
	}
	e->have = HAVE(NFSEC_ENCAP_A_TYPE) | HAVE(NFSEC_ENCAP_A_SPORT) |
		  HAVE(NFSEC_ENCAP_A_DPORT) | HAVE(NFSEC_ENCAP_A_PEER) |
		  HAVE(NFSEC_ENCAP_A_PEER_PORT);
	e->type = NFSEC_ENCAP_UDP;
	if (which == 0) {
		sa.dir = NFSEC_DIR_OUT;
		inet_pton(AF_INET, us, &sa.src);
		inet_pton(AF_INET, peer, &sa.dst);
		e->sport = 4500;
		e->dport = 4600;
		e->have |= HAVE(NFSEC_ENCAP_A_KEEPALIVE);
		e->keepalive = 20;
		inet_pton(AF_INET, peer, &e->peer);
		e->peer_port = 4700;
	} else if (which == 1) {
		sa.dir = NFSEC_DIR_IN;
		inet_pton(AF_INET, peer, &sa.src);
		inet_pton(AF_INET, us, &sa.dst);
		e->sport = 4600;
		e->dport = 4500;
		e->have |= HAVE(NFSEC_ENCAP_A_FLAGS);
		e->flags = NFSEC_ENCAP_F_FOLLOW;
		inet_pton(AF_INET, "203.0.113.9", &e->peer);
		e->peer_port = 4600;
	} else if (which == 2) {
		sa.dir = NFSEC_DIR_OUT;
		sa.family = AF_INET6;
		sa.mode = NFSEC_MODE_TRANSPORT;
		inet_pton(AF_INET6, "2001:db8::1", &sa.src);
		inet_pton(AF_INET6, "2001:db8::2", &sa.dst);
		e->sport = 4500;
		e->dport = 4500;
		e->peer = sa.dst;
		e->peer_port = 4500;
	} else {
		sa.dir = NFSEC_DIR_IN;
		sa.family = AF_INET6;
		sa.mode = NFSEC_MODE_TRANSPORT;
		inet_pton(AF_INET6, "2001:db8::2", &sa.src);
		inet_pton(AF_INET6, "2001:db8::1", &sa.dst);
		e->sport = 4500;
		e->dport = 4500;
		e->have |= HAVE(NFSEC_ENCAP_A_FLAGS);
		e->flags = NFSEC_ENCAP_F_FOLLOW;
		e->peer = sa.src;
		e->peer_port = 61000;
	}
	put_sa(nlh, &sa);
}

/* A mapping event's NFSEC_A_MAPPING, after reply_encap()'s SA. */
static void reply_mapping(struct nlmsghdr *nlh, uint16_t family,
			  const char *old, uint16_t old_port, const char *new,
			  uint16_t new_port, uint32_t followed)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, NFSEC_A_MAPPING);
	size_t len = family == AF_INET6 ? 16 : 4;
	union ip_addr a;

	inet_pton(family, old, &a);
	mnl_attr_put(nlh, NFSEC_MAP_A_OLD_ADDR, len, &a);
	mnl_attr_put_u16(nlh, NFSEC_MAP_A_OLD_PORT, old_port);
	inet_pton(family, new, &a);
	mnl_attr_put(nlh, NFSEC_MAP_A_NEW_ADDR, len, &a);
	mnl_attr_put_u16(nlh, NFSEC_MAP_A_NEW_PORT, new_port);
	mnl_attr_put_u32(nlh, NFSEC_MAP_A_FOLLOWED, followed);
	mnl_attr_nest_end(nlh, nest);
}

static void reply_policy(struct nlmsghdr *nlh, int which)
{
	struct policy_spec pol = { 0 };

	pol.have = HAVE(NFSEC_POL_A_INDEX) | HAVE(NFSEC_POL_A_DIR) |
		   HAVE(NFSEC_POL_A_FAMILY) | HAVE(NFSEC_POL_A_SRC) |
		   HAVE(NFSEC_POL_A_SRC_PLEN) | HAVE(NFSEC_POL_A_DST) |
		   HAVE(NFSEC_POL_A_DST_PLEN) | HAVE(NFSEC_POL_A_PROTO) |
		   HAVE(NFSEC_POL_A_SPORT) | HAVE(NFSEC_POL_A_DPORT) |
		   HAVE(NFSEC_POL_A_PRIORITY) | HAVE(NFSEC_POL_A_ACTION) |
		   HAVE(NFSEC_POL_A_MATCHES);
	pol.index = which + 1;
	pol.matches = 7;
	pol.priority = NFSEC_POLICY_PRIORITY_DEFAULT;
	if (which == 0) {
		pol.dir = NFSEC_DIR_OUT;
		pol.family = AF_INET;
		inet_pton(AF_INET, "192.168.1.0", &pol.src);
		inet_pton(AF_INET, "192.168.2.0", &pol.dst);
		pol.src_plen = 24;
		pol.dst_plen = 24;
		pol.action = NFSEC_ACTION_PROTECT;
		pol.have |= HAVE(NFSEC_POL_A_SA_SPI) |
			    HAVE(NFSEC_POL_A_SA_DST) |
			    HAVE(NFSEC_POL_A_SA_PROTO);
		pol.sa_spi = 0x1000;
		inet_pton(AF_INET, "10.0.0.2", &pol.sa_dst);
		pol.sa_proto = IPPROTO_ESP;
	} else if (which == 2) {
		pol.dir = NFSEC_DIR_FWD;
		pol.family = AF_INET;
		inet_pton(AF_INET, "192.168.2.0", &pol.src);
		inet_pton(AF_INET, "192.168.1.0", &pol.dst);
		pol.src_plen = 24;
		pol.dst_plen = 24;
		pol.action = NFSEC_ACTION_PROTECT;
		pol.have |= HAVE(NFSEC_POL_A_SA_REQID) |
			    HAVE(NFSEC_POL_A_SA_MODE) |
			    HAVE(NFSEC_POL_A_SA_DST) |
			    HAVE(NFSEC_POL_A_SA_FAMILY) |
			    HAVE(NFSEC_POL_A_SA_PROTO);
		pol.sa_reqid = 7;
		pol.sa_mode = NFSEC_MODE_TUNNEL;
		inet_pton(AF_INET6, "2001:db8::1", &pol.sa_dst);
		pol.sa_family = AF_INET6;
		pol.sa_proto = IPPROTO_AH;
	} else {
		pol.dir = NFSEC_DIR_IN;
		pol.family = AF_INET6;
		inet_pton(AF_INET6, "2001:db8::", &pol.dst);
		pol.dst_plen = 32;
		pol.proto = IPPROTO_TCP;
		pol.dport = 22;
		pol.priority = 10;
		pol.action = NFSEC_ACTION_BYPASS;
	}
	put_policy(nlh, &pol);
}

static struct nlmsghdr *reply(uint8_t cmd)
{
	struct nlmsghdr *nlh = request(family_id, cmd, 0);

	nlh->nlmsg_flags = 0;
	return nlh;
}

static int sa_out(const struct sa_spec *sa, void *data)
{
	if (data)
		print_sa_conf(sa);
	else
		print_sa(sa);
	return 0;
}

static int policy_out(const struct policy_spec *pol, void *data)
{
	if (data)
		print_policy_conf(pol);
	else
		print_policy(pol);
	return 0;
}

/* A larval entry, as the kernel describes one. */
static void reply_larval(struct nlmsghdr *nlh)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, NFSEC_A_SA);
	struct in_addr a;

	mnl_attr_put_u8(nlh, NFSEC_SA_A_STATE, NFSEC_SA_STATE_LARVAL);
	mnl_attr_put_u16(nlh, NFSEC_SA_A_FAMILY, AF_INET);
	inet_pton(AF_INET, "10.0.0.2", &a);
	mnl_attr_put(nlh, NFSEC_SA_A_SRC, 4, &a);
	inet_pton(AF_INET, "10.0.0.1", &a);
	mnl_attr_put(nlh, NFSEC_SA_A_DST, 4, &a);
	mnl_attr_put_u32(nlh, NFSEC_SA_A_SPI, htonl(0xc0000123));
	mnl_attr_put_u8(nlh, NFSEC_SA_A_PROTO, IPPROTO_ESP);
	put_padded_u64(nlh, NFSEC_SA_A_ADD_TIME, 0, NFSEC_SA_A_PAD);
	mnl_attr_put_u32(nlh, NFSEC_SA_A_TIMEOUT, 3725);
	mnl_attr_nest_end(nlh, nest);
}

int main(int argc, char **argv)
{
	struct stats_reply st = { 0 };
	struct nlmsghdr *nlh;
	bool conf;
	int i;

	if (argc < 3)
		return 2;
	opts.json = !strcmp(argv[2], "json");
	conf = !strcmp(argv[2], "conf");
	family_id = GENL_ID_CTRL + 1;
	if (!strcmp(argv[1], "sa")) {
		struct sa_reply r = { sa_out, conf ? &r : NULL };

		nlh = reply(NFSEC_CMD_SA_GET);
		reply_sa(nlh, argc > 3);
		sa_reply_cb(nlh, &r);
	} else if (!strcmp(argv[1], "larval")) {
		struct sa_reply r = { sa_out, conf ? &r : NULL };

		nlh = reply(NFSEC_CMD_SA_ALLOC_SPI);
		reply_larval(nlh);
		sa_reply_cb(nlh, &r);
	} else if (!strcmp(argv[1], "encap")) {
		unsigned int count = 0;
		struct sa_reply r = { conf ? sa_out : sa_list_cb, &count };

		json_begin('[', NULL);
		for (i = 0; i < 3; i++) {
			nlh = reply(NFSEC_CMD_SA_GET);
			reply_encap(nlh, i, argc > 3);
			sa_reply_cb(nlh, &r);
		}
		json_end();
	} else if (!strcmp(argv[1], "mapping")) {
		struct event_reply r = { print_event, NULL };

		/* the SA as after the change: FOLLOW took the new peer */
		json_oneline(true);
		nlh = reply(NFSEC_CMD_MAPPING);
		reply_encap(nlh, 1, false);
		reply_mapping(nlh, AF_INET, "198.51.100.1", 4600, "203.0.113.9",
			      4600, 2);
		event_data_cb(nlh, &r);
		nlh = reply(NFSEC_CMD_MAPPING);
		reply_encap(nlh, 3, false);
		reply_mapping(nlh, AF_INET6, "2001:db8::2", 4500, "2001:db8::2",
			      61000, 1);
		event_data_cb(nlh, &r);
	} else if (!strcmp(argv[1], "policy")) {
		struct policy_reply r = { policy_out, conf ? &r : NULL };

		json_begin('[', NULL);
		for (i = 0; i < 3; i++) {
			nlh = reply(NFSEC_CMD_POLICY_GET);
			reply_policy(nlh, i);
			policy_reply_cb(nlh, &r);
		}
		json_end();
	} else if (!strcmp(argv[1], "acquire")) {
		struct event_reply r = { print_event, NULL };
		union ip_addr a;
		struct nlattr *nest;

		json_oneline(true);
		nlh = reply(NFSEC_CMD_ACQUIRE);
		reply_policy(nlh, 2);
		nest = mnl_attr_nest_start(nlh, NFSEC_A_FLOW);
		mnl_attr_put_u16(nlh, NFSEC_FLOW_A_FAMILY, AF_INET);
		inet_pton(AF_INET, "192.168.2.7", &a);
		mnl_attr_put(nlh, NFSEC_FLOW_A_SRC, 4, &a);
		inet_pton(AF_INET, "192.168.1.9", &a);
		mnl_attr_put(nlh, NFSEC_FLOW_A_DST, 4, &a);
		mnl_attr_put_u8(nlh, NFSEC_FLOW_A_PROTO, IPPROTO_TCP);
		mnl_attr_put_u16(nlh, NFSEC_FLOW_A_SPORT, 40000);
		mnl_attr_put_u16(nlh, NFSEC_FLOW_A_DPORT, 22);
		mnl_attr_nest_end(nlh, nest);
		event_data_cb(nlh, &r);
		/* and an SA event after it, on a line of its own */
		nlh = reply(NFSEC_CMD_SA_EXPIRE);
		reply_sa(nlh, false);
		nest = (struct nlattr *)((uint8_t *)nlh + sizeof(*nlh) +
					 sizeof(struct genlmsghdr));
		mnl_attr_put_u8(nlh, NFSEC_SA_A_EXPIRE, NFSEC_EXPIRE_SOFT);
		nest->nla_len = (uint8_t *)mnl_nlmsg_get_payload_tail(nlh) -
				(uint8_t *)nest;
		event_data_cb(nlh, &r);
	} else {
		struct nlattr *nest;

		nlh = reply(NFSEC_CMD_STATS_GET);
		nest = mnl_attr_nest_start(nlh, NFSEC_A_STATS);
		mnl_attr_put_u32(nlh, NFSEC_STATS_A_SA_COUNT, 2);
		mnl_attr_put_u32(nlh, NFSEC_STATS_A_POLICY_COUNT, 4);
		mnl_attr_put_u32(nlh, NFSEC_STATS_A_LARVAL_COUNT, 1);
		for (i = NFSEC_STATS_A_NO_SA; i <= NFSEC_STATS_A_MAX; i++)
			if (i != NFSEC_STATS_A_PAD &&
			    i != NFSEC_STATS_A_LARVAL_COUNT)
				put_padded_u64(nlh, i, 100 + i,
					       NFSEC_STATS_A_PAD);
		mnl_attr_nest_end(nlh, nest);
		stats_cb(nlh, &st);
		print_stats(&st, NULL);
	}
	return 0;
}
