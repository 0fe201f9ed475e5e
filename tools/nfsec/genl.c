// SPDX-License-Identifier: GPL-2.0
/*
 * Every netlink exchange of the tool with the nfsec module: resolving the
 * generic netlink family, requests and their acks (with the kernel's extended
 * ack message), dumps, events. SAs and policies cross this file as structs;
 * attributes do not leave it. One socket serves a whole batch.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "cli.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static struct mnl_socket *sock;
static uint16_t family_id;
static uint32_t events_group;
static unsigned int seq;
static uint8_t tx[8192] __aligned(8);
static uint8_t rx[32768] __aligned(8);

/* What a batch file gathers (see Batches below). */
#define BATCH_BYTES	65535	/* NFSEC_A_BATCH's nla_len is 16 bits */
#define BATCH_ENTRY_MAX	4096	/* more than an SA request can take */

struct batch {
	uint8_t buf[BATCH_BYTES + 256] __aligned(8);
	struct nlmsghdr *nlh;		/* NULL: nothing gathered */
	struct nlattr *nest;		/* NFSEC_A_BATCH */
	unsigned int n;
	uint32_t start[NFSEC_BATCH_MAX];	/* each request's offset */
	unsigned int line[NFSEC_BATCH_MAX];	/* and its line */
	/* once sent: its sequence number, the kernel's answer (an ack) */
	uint32_t seq;
	uint8_t answer[8192] __aligned(8);	/* or answer_len -1, err */
	ssize_t answer_len;
	int err;
};

/* One batch gathers while the other is with the kernel (Batches below). */
static struct batch batches[2];
static struct batch *pending = &batches[0];
static struct batch *sent;
/*
 * Requests in the next batch: the first few batches are small, so that the
 * kernel has work while the tool parses on, then they double to the most
 * a message takes.
 */
#define BATCH_FIRST	32
static unsigned int batch_cap = BATCH_FIRST;

/*
 * Scalar attributes and the struct members they fill, per attribute space.
 * An address is 4 or 16 bytes long, after the object's family.
 */
/* F_SA_ADDR: an address of the SA's family, which may differ (a policy's) */
enum ftype { F_NONE, F_U8, F_U16, F_U32, F_U64, F_BE32, F_ADDR, F_SA_ADDR };

struct field {
	uint8_t type;
	uint16_t off;
};

#define SA_FIELD(t, m)	{ t, offsetof(struct sa_spec, m) }
#define POL_FIELD(t, m)	{ t, offsetof(struct policy_spec, m) }
#define FLOW_FIELD(t, m) { t, offsetof(struct flow_spec, m) }
#define ENCAP_FIELD(t, m) { t, offsetof(struct encap_spec, m) }
#define MAP_FIELD(t, m)	{ t, offsetof(struct mapping_spec, m) }

static const struct field sa_fields[NFSEC_SA_A_MAX + 1] = {
	[NFSEC_SA_A_DIR] = SA_FIELD(F_U8, dir),
	[NFSEC_SA_A_FAMILY] = SA_FIELD(F_U16, family),
	[NFSEC_SA_A_SRC] = SA_FIELD(F_ADDR, src),
	[NFSEC_SA_A_DST] = SA_FIELD(F_ADDR, dst),
	[NFSEC_SA_A_SPI] = SA_FIELD(F_BE32, spi),
	[NFSEC_SA_A_PROTO] = SA_FIELD(F_U8, proto),
	[NFSEC_SA_A_MODE] = SA_FIELD(F_U8, mode),
	[NFSEC_SA_A_REPLAY_WINDOW] = SA_FIELD(F_U32, replay_window),
	[NFSEC_SA_A_FLAGS] = SA_FIELD(F_U32, flags),
	[NFSEC_SA_A_SEQ] = SA_FIELD(F_U64, seq),
	[NFSEC_SA_A_DF] = SA_FIELD(F_U8, df),
	[NFSEC_SA_A_ADD_TIME] = SA_FIELD(F_U64, add_time),
	[NFSEC_SA_A_EXPIRE] = SA_FIELD(F_U8, expire),
	[NFSEC_SA_A_PMTU] = SA_FIELD(F_U32, pmtu),
	[NFSEC_SA_A_REQID] = SA_FIELD(F_U32, reqid),
	[NFSEC_SA_A_STATE] = SA_FIELD(F_U8, state),
	[NFSEC_SA_A_SPI_MIN] = SA_FIELD(F_U32, spi_min),
	[NFSEC_SA_A_SPI_MAX] = SA_FIELD(F_U32, spi_max),
	[NFSEC_SA_A_TIMEOUT] = SA_FIELD(F_U32, timeout),
	[NFSEC_SA_A_USE_TIME] = SA_FIELD(F_U64, use_time),
	[NFSEC_SA_A_FIRST_USE_TIME] = SA_FIELD(F_U64, first_use_time),
};

static const struct field pol_fields[NFSEC_POL_A_MAX + 1] = {
	[NFSEC_POL_A_INDEX] = POL_FIELD(F_U32, index),
	[NFSEC_POL_A_DIR] = POL_FIELD(F_U8, dir),
	[NFSEC_POL_A_FAMILY] = POL_FIELD(F_U16, family),
	[NFSEC_POL_A_SRC] = POL_FIELD(F_ADDR, src),
	[NFSEC_POL_A_SRC_PLEN] = POL_FIELD(F_U8, src_plen),
	[NFSEC_POL_A_DST] = POL_FIELD(F_ADDR, dst),
	[NFSEC_POL_A_DST_PLEN] = POL_FIELD(F_U8, dst_plen),
	[NFSEC_POL_A_PROTO] = POL_FIELD(F_U8, proto),
	[NFSEC_POL_A_SPORT] = POL_FIELD(F_U16, sport),
	[NFSEC_POL_A_DPORT] = POL_FIELD(F_U16, dport),
	[NFSEC_POL_A_PRIORITY] = POL_FIELD(F_U32, priority),
	[NFSEC_POL_A_ACTION] = POL_FIELD(F_U8, action),
	[NFSEC_POL_A_SA_SPI] = POL_FIELD(F_BE32, sa_spi),
	[NFSEC_POL_A_SA_DST] = POL_FIELD(F_SA_ADDR, sa_dst),
	[NFSEC_POL_A_SA_PROTO] = POL_FIELD(F_U8, sa_proto),
	[NFSEC_POL_A_MATCHES] = POL_FIELD(F_U64, matches),
	[NFSEC_POL_A_SA_FAMILY] = POL_FIELD(F_U16, sa_family),
	[NFSEC_POL_A_SA_REQID] = POL_FIELD(F_U32, sa_reqid),
	[NFSEC_POL_A_SA_MODE] = POL_FIELD(F_U8, sa_mode),
	[NFSEC_POL_A_SA_SRC] = POL_FIELD(F_SA_ADDR, sa_src),
};

static const struct field flow_fields[NFSEC_FLOW_A_MAX + 1] = {
	[NFSEC_FLOW_A_FAMILY] = FLOW_FIELD(F_U16, family),
	[NFSEC_FLOW_A_SRC] = FLOW_FIELD(F_ADDR, src),
	[NFSEC_FLOW_A_DST] = FLOW_FIELD(F_ADDR, dst),
	[NFSEC_FLOW_A_PROTO] = FLOW_FIELD(F_U8, proto),
	[NFSEC_FLOW_A_SPORT] = FLOW_FIELD(F_U16, sport),
	[NFSEC_FLOW_A_DPORT] = FLOW_FIELD(F_U16, dport),
};

static const struct field encap_fields[NFSEC_ENCAP_A_MAX + 1] = {
	[NFSEC_ENCAP_A_TYPE] = ENCAP_FIELD(F_U8, type),
	[NFSEC_ENCAP_A_SPORT] = ENCAP_FIELD(F_U16, sport),
	[NFSEC_ENCAP_A_DPORT] = ENCAP_FIELD(F_U16, dport),
	[NFSEC_ENCAP_A_FLAGS] = ENCAP_FIELD(F_U32, flags),
	[NFSEC_ENCAP_A_KEEPALIVE] = ENCAP_FIELD(F_U32, keepalive),
	[NFSEC_ENCAP_A_PEER] = ENCAP_FIELD(F_ADDR, peer),
	[NFSEC_ENCAP_A_PEER_PORT] = ENCAP_FIELD(F_U16, peer_port),
};

static const struct field mapping_fields[NFSEC_MAP_A_MAX + 1] = {
	[NFSEC_MAP_A_OLD_ADDR] = MAP_FIELD(F_ADDR, old_addr),
	[NFSEC_MAP_A_OLD_PORT] = MAP_FIELD(F_U16, old_port),
	[NFSEC_MAP_A_NEW_ADDR] = MAP_FIELD(F_ADDR, new_addr),
	[NFSEC_MAP_A_NEW_PORT] = MAP_FIELD(F_U16, new_port),
	[NFSEC_MAP_A_FOLLOWED] = MAP_FIELD(F_U32, followed),
};

static size_t addr_len(uint16_t family)
{
	return family == AF_INET6 ? 16 : 4;
}

static void put_fields(struct nlmsghdr *nlh, const struct field *fields,
		       unsigned int max, const void *obj, uint64_t have,
		       uint16_t family, uint16_t sa_family)
{
	unsigned int attr;

	for (attr = 1; attr <= max; attr++) {
		const void *p = (const uint8_t *)obj + fields[attr].off;
		uint32_t be;

		if (!(have & HAVE(attr)))
			continue;
		switch (fields[attr].type) {
		case F_U8:
			mnl_attr_put_u8(nlh, attr, *(const uint8_t *)p);
			break;
		case F_U16:
			mnl_attr_put_u16(nlh, attr, *(const uint16_t *)p);
			break;
		case F_U32:
			mnl_attr_put_u32(nlh, attr, *(const uint32_t *)p);
			break;
		case F_U64:
			mnl_attr_put_u64(nlh, attr, *(const uint64_t *)p);
			break;
		case F_BE32:
			be = htonl(*(const uint32_t *)p);
			mnl_attr_put_u32(nlh, attr, be);
			break;
		case F_ADDR:
			mnl_attr_put(nlh, attr, addr_len(family), p);
			break;
		case F_SA_ADDR:
			mnl_attr_put(nlh, attr, addr_len(sa_family), p);
			break;
		}
	}
}

/* Counters are u64, but take a u32 where the kernel sends one. */
static bool get_number(const struct nlattr *attr, uint64_t *val)
{
	switch (mnl_attr_get_payload_len(attr)) {
	case 1:
		*val = mnl_attr_get_u8(attr);
		return true;
	case 2:
		*val = mnl_attr_get_u16(attr);
		return true;
	case 4:
		*val = mnl_attr_get_u32(attr);
		return true;
	case 8:
		*val = mnl_attr_get_u64(attr);
		return true;
	}
	return false;
}

/* Fill the member for a scalar attribute; false if it is not one. */
static bool get_field(const struct nlattr *attr, const struct field *fields,
		      unsigned int max, void *obj, uint64_t *have)
{
	uint16_t type = mnl_attr_get_type(attr);
	size_t len = mnl_attr_get_payload_len(attr);
	void *p;
	uint64_t v;

	if (type > max || fields[type].type == F_NONE)
		return false;
	p = (uint8_t *)obj + fields[type].off;
	if (fields[type].type == F_ADDR || fields[type].type == F_SA_ADDR) {
		if (len != 4 && len != 16)
			return true;
		memset(p, 0, sizeof(union ip_addr));
		memcpy(p, mnl_attr_get_payload(attr), len);
	} else if (fields[type].type == F_BE32) {
		if (len != 4)
			return true;
		*(uint32_t *)p = ntohl(mnl_attr_get_u32(attr));
	} else {
		if (!get_number(attr, &v))
			return true;
		switch (fields[type].type) {
		case F_U8:
			*(uint8_t *)p = v;
			break;
		case F_U16:
			*(uint16_t *)p = v;
			break;
		case F_U32:
			*(uint32_t *)p = v;
			break;
		default:
			*(uint64_t *)p = v;
			break;
		}
	}
	*have |= HAVE(type);
	return true;
}

/* A nest of numbers indexed by attribute type: lifetimes, counters. */
static void get_numbers(const struct nlattr *nest, uint64_t *vals,
			unsigned int max, uint64_t *have)
{
	const struct nlattr *attr;

	mnl_attr_for_each_nested(attr, nest) {
		uint16_t type = mnl_attr_get_type(attr);

		if (type && type <= max && get_number(attr, &vals[type]))
			*have |= HAVE(type);
	}
}

static void put_alg(struct nlmsghdr *nlh, uint16_t type,
		    const struct alg_spec *alg)
{
	struct nlattr *nest;

	if (!alg->set)
		return;
	nest = mnl_attr_nest_start(nlh, type);
	mnl_attr_put_strz(nlh, NFSEC_ALG_A_NAME, alg->name);
	if (alg->has_key)
		mnl_attr_put(nlh, NFSEC_ALG_A_KEY, alg->key_len, alg->key);
	if (alg->has_bits)
		mnl_attr_put_u32(nlh, type == NFSEC_SA_A_AEAD ?
				 NFSEC_ALG_A_ICV_BITS : NFSEC_ALG_A_TRUNC_BITS,
				 alg->bits);
	mnl_attr_nest_end(nlh, nest);
}

static void get_alg(const struct nlattr *nest, struct alg_spec *alg)
{
	const struct nlattr *attr;

	alg->set = true;
	mnl_attr_for_each_nested(attr, nest) {
		size_t len = mnl_attr_get_payload_len(attr);

		switch (mnl_attr_get_type(attr)) {
		case NFSEC_ALG_A_NAME:
			if (len > sizeof(alg->name))
				len = sizeof(alg->name);
			memcpy(alg->name, mnl_attr_get_payload(attr), len);
			alg->name[sizeof(alg->name) - 1] = '\0';
			break;
		case NFSEC_ALG_A_KEY:
			if (len > sizeof(alg->key))
				break;
			memcpy(alg->key, mnl_attr_get_payload(attr), len);
			alg->key_len = len;
			alg->has_key = true;
			break;
		case NFSEC_ALG_A_ICV_BITS:
		case NFSEC_ALG_A_TRUNC_BITS:
			if (len != 4)
				break;
			alg->bits = mnl_attr_get_u32(attr);
			alg->has_bits = true;
			break;
		}
	}
}

static void put_sa(struct nlmsghdr *nlh, const struct sa_spec *sa)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, NFSEC_A_SA);
	unsigned int i;

	put_fields(nlh, sa_fields, NFSEC_SA_A_MAX, sa, sa->have, sa->family,
		   sa->family);
	put_alg(nlh, NFSEC_SA_A_AEAD, &sa->aead);
	put_alg(nlh, NFSEC_SA_A_ENC, &sa->enc);
	put_alg(nlh, NFSEC_SA_A_AUTH, &sa->auth);
	if (sa->lt_have) {
		struct nlattr *lt = mnl_attr_nest_start(nlh,
							NFSEC_SA_A_LIFETIME);

		for (i = 1; i <= NFSEC_LT_A_MAX; i++)
			if (sa->lt_have & HAVE(i))
				mnl_attr_put_u64(nlh, i, sa->lifetime[i]);
		mnl_attr_nest_end(nlh, lt);
	}
	if (sa->have & HAVE(NFSEC_SA_A_ENCAP)) {
		struct nlattr *encap = mnl_attr_nest_start(nlh,
							   NFSEC_SA_A_ENCAP);

		put_fields(nlh, encap_fields, NFSEC_ENCAP_A_MAX, &sa->encap,
			   sa->encap.have, sa->family, sa->family);
		mnl_attr_nest_end(nlh, encap);
	}
	mnl_attr_nest_end(nlh, nest);
}

static void get_sa(const struct nlattr *nest, struct sa_spec *sa)
{
	const struct nlattr *attr, *a;

	memset(sa, 0, sizeof(*sa));
	mnl_attr_for_each_nested(attr, nest) {
		if (get_field(attr, sa_fields, NFSEC_SA_A_MAX, sa, &sa->have))
			continue;
		switch (mnl_attr_get_type(attr)) {
		case NFSEC_SA_A_AEAD:
			get_alg(attr, &sa->aead);
			break;
		case NFSEC_SA_A_ENC:
			get_alg(attr, &sa->enc);
			break;
		case NFSEC_SA_A_AUTH:
			get_alg(attr, &sa->auth);
			break;
		case NFSEC_SA_A_LIFETIME:
			get_numbers(attr, sa->lifetime, NFSEC_LT_A_MAX,
				    &sa->lt_have);
			break;
		case NFSEC_SA_A_STATS:
			get_numbers(attr, sa->stats, NFSEC_SA_STATS_A_MAX,
				    &sa->stats_have);
			break;
		case NFSEC_SA_A_ENCAP:
			sa->have |= HAVE(NFSEC_SA_A_ENCAP);
			mnl_attr_for_each_nested(a, attr)
				get_field(a, encap_fields, NFSEC_ENCAP_A_MAX,
					  &sa->encap, &sa->encap.have);
			break;
		}
	}
}

static void put_policy(struct nlmsghdr *nlh, const struct policy_spec *pol)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, NFSEC_A_POLICY);

	put_fields(nlh, pol_fields, NFSEC_POL_A_MAX, pol, pol->have,
		   pol->family, pol->have & HAVE(NFSEC_POL_A_SA_FAMILY) ?
		   pol->sa_family : pol->family);
	mnl_attr_nest_end(nlh, nest);
}

static void get_policy(const struct nlattr *nest, struct policy_spec *pol)
{
	const struct nlattr *attr;

	memset(pol, 0, sizeof(*pol));
	mnl_attr_for_each_nested(attr, nest)
		get_field(attr, pol_fields, NFSEC_POL_A_MAX, pol, &pol->have);
}

/* Requests and their answers */

struct exchange {
	const char *context;	/* message prefix, or NULL */
	const struct batch *batch;	/* a batch's lines, or NULL */
	int (*cb)(const struct nlmsghdr *nlh, void *data);
	void *data;
	int ret;		/* 0, or -1 once an error is reported */
	bool interrupted;	/* a dump saw the tables change */
};

static void batch_blame(const struct batch *b, uint32_t offset);

static int report(struct exchange *ex, int err, const struct nlmsghdr *nlh,
		  size_t tlv_offset)
{
	const char *msg = NULL;
	const struct nlattr *attr;
	char missing[64] = "";
	uint32_t offset = 0;

	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		mnl_attr_for_each(attr, nlh, tlv_offset) {
			switch (mnl_attr_get_type(attr)) {
			case NLMSGERR_ATTR_MSG:
				if (!mnl_attr_validate(attr, MNL_TYPE_NUL_STRING))
					msg = mnl_attr_get_str(attr);
				break;
			case NLMSGERR_ATTR_MISS_TYPE:
				if (!mnl_attr_validate(attr, MNL_TYPE_U32))
					snprintf(missing, sizeof(missing),
						 "missing attribute %u",
						 mnl_attr_get_u32(attr));
				break;
			case NLMSGERR_ATTR_OFFS:
				if (!mnl_attr_validate(attr, MNL_TYPE_U32))
					offset = mnl_attr_get_u32(attr);
				break;
			}
		}
	}
	if (!msg && *missing)
		msg = missing;
	if (ex->batch)
		batch_blame(ex->batch, offset);
	if (ex->context && msg)
		error("%s: %s (%s)", ex->context, msg, strerror(err));
	else if (ex->context)
		error("%s: %s", ex->context, strerror(err));
	else if (msg)
		error("%s (%s)", msg, strerror(err));
	else
		error("%s", strerror(err));
	ex->ret = -1;
	return MNL_CB_STOP;
}

static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return report(data, EBADMSG, nlh, 0);
	if (!e->error)
		return MNL_CB_STOP;	/* the ack */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	return report(data, -e->error, nlh, off);
}

static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	int err = 0;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err))
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
	if (err < 0)
		return report(data, -err, nlh, sizeof(err));
	return MNL_CB_STOP;
}

/* Replies: run the caller's callback, but read on to the end whatever. */
static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct exchange *ex = data;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		ex->interrupted = true;
	if (ex->cb && !ex->ret && ex->cb(nlh, ex->data))
		ex->ret = -1;
	return MNL_CB_OK;
}

static mnl_cb_t ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR] = error_cb,
	[NLMSG_DONE] = done_cb,
};

/*
 * Send a request and read until its ack (or, for a dump, NLMSG_DONE),
 * handing every reply to ex->cb. The request is wiped once sent: it may
 * carry keys, and so may the replies.
 */
static int read_answers(struct exchange *ex, uint32_t rseq,
			const uint8_t *first, ssize_t first_len);

static int exchange(struct nlmsghdr *nlh, struct exchange *ex)
{
	uint32_t rseq = nlh->nlmsg_seq;
	size_t nlen = nlh->nlmsg_len;
	int ret;

	if (opts.dry_run) {
		dryrun_print(nlh);
		explicit_bzero(nlh, nlen);
		return 0;
	}
	/* What a batch holds comes first: its lines are the earlier ones. */
	if (!ex->batch && nl_batch_flush()) {
		explicit_bzero(nlh, nlen);
		return -1;
	}
	ret = mnl_socket_sendto(sock, nlh, nlen);
	explicit_bzero(nlh, nlen);
	if (ret < 0)
		return error("netlink: %m");
	return read_answers(ex, rseq, NULL, 0);
}

/*
 * The answers to request @rseq, up to its ack or NLMSG_DONE: @first_len
 * bytes already read into @first (a sent batch's), then the socket's.
 */
static int read_answers(struct exchange *ex, uint32_t rseq,
			const uint8_t *first, ssize_t first_len)
{
	uint32_t portid = mnl_socket_get_portid(sock);
	ssize_t len;
	int ret;

	do {
		if (first_len) {
			memcpy(rx, first, first_len);
			len = first_len;
			first_len = 0;
		} else {
			len = mnl_socket_recvfrom(sock, rx, sizeof(rx));
		}
		if (len < 0) {
			error("netlink: %m");
			return -1;
		}
		ret = mnl_cb_run2(rx, len, rseq, portid, data_cb, ex, ctl_cbs,
				  ARRAY_SIZE(ctl_cbs));
		explicit_bzero(rx, len);
		if (ret < 0 && !ex->ret)
			ex->ret = error("netlink: %m");
	} while (ret > MNL_CB_STOP);
	if (ex->interrupted && !ex->ret)
		ex->ret = error("the SAs or policies changed during the dump; "
				"run it again");
	return ex->ret;
}

static struct nlmsghdr *request_in(void *buf, uint16_t type, uint8_t cmd,
				   uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = type == GENL_ID_CTRL ? 1 : NFSEC_GENL_VERSION;
	return nlh;
}

static struct nlmsghdr *request(uint16_t type, uint8_t cmd, uint16_t flags)
{
	return request_in(tx, type, cmd, flags);
}

/* Family resolution */

static int group_cb(const struct nlattr *grp)
{
	const struct nlattr *attr;
	const char *name = NULL;
	uint32_t id = 0;

	mnl_attr_for_each_nested(attr, grp) {
		switch (mnl_attr_get_type(attr)) {
		case CTRL_ATTR_MCAST_GRP_NAME:
			if (!mnl_attr_validate(attr, MNL_TYPE_NUL_STRING))
				name = mnl_attr_get_str(attr);
			break;
		case CTRL_ATTR_MCAST_GRP_ID:
			if (!mnl_attr_validate(attr, MNL_TYPE_U32))
				id = mnl_attr_get_u32(attr);
			break;
		}
	}
	if (name && !strcmp(name, NFSEC_MCGRP_EVENTS))
		events_group = id;
	return 0;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *attr, *grp;

	(void)data;
	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(attr)) {
		case CTRL_ATTR_FAMILY_ID:
			if (!mnl_attr_validate(attr, MNL_TYPE_U16))
				family_id = mnl_attr_get_u16(attr);
			break;
		case CTRL_ATTR_MCAST_GROUPS:
			mnl_attr_for_each_nested(grp, attr)
				group_cb(grp);
			break;
		}
	}
	return 0;
}

/*
 * Asking for the family makes the kernel load the module (it carries
 * MODULE_ALIAS_GENL_FAMILY) if it is not loaded yet.
 */
static int open_family(void)
{
	static const int one = 1;
	struct exchange ex = {
		.context = "cannot find the nfsec kernel module (generic netlink family \""
			   NFSEC_GENL_NAME "\")",
		.cb = family_cb,
	};
	struct nlmsghdr *nlh;

	if (sock || opts.dry_run)
		return 0;
	sock = mnl_socket_open(NETLINK_GENERIC);
	if (!sock)
		return error("netlink socket: %m");
	/* Older kernels lack these; their errors are then just shorter. */
	mnl_socket_setsockopt(sock, NETLINK_EXT_ACK, (void *)&one, sizeof(one));
	mnl_socket_setsockopt(sock, NETLINK_CAP_ACK, (void *)&one, sizeof(one));
	if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		error("netlink bind: %m");
		goto fail;
	}
	nlh = request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_ACK);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, NFSEC_GENL_NAME);
	if (exchange(nlh, &ex))
		goto fail;
	if (!family_id) {
		error("%s: no family id in the reply", ex.context);
		goto fail;
	}
	return 0;
fail:
	nl_close();
	return -1;
}

void nl_close(void)
{
	explicit_bzero(batches, sizeof(batches));
	pending = &batches[0];
	sent = NULL;
	batch_cap = BATCH_FIRST;
	if (sock)
		mnl_socket_close(sock);
	sock = NULL;
	family_id = 0;
	events_group = 0;
}

static struct nlmsghdr *genl_request(uint8_t cmd, uint16_t flags)
{
	return request(family_id, cmd, flags);
}

static void put_flags(struct nlmsghdr *nlh, bool show_keys)
{
	if (show_keys)
		mnl_attr_put_u32(nlh, NFSEC_A_FLAGS, NFSEC_FLAG_SHOW_KEYS);
}

/*
 * Batches. In a batch file, the adds, updates and deletes of SAs and
 * policies are not sent one message each but gathered into NFSEC_CMD_BATCH
 * messages, each request a nest whose type is its command. The kernel runs
 * them in order and stops at the first that fails, pointing its error's
 * offset into that request: the lines before it are done, it and the ones
 * after it change nothing, as if each line had gone alone and the batch
 * had stopped there. Anything else the file asks (a get, a list, an
 * error of its own) sends what is gathered first.
 */

/* The line of the request that the error's offset points into. */
static void batch_blame(const struct batch *b, uint32_t offset)
{
	unsigned int i = 0;

	while (i + 1 < b->n && offset >= b->start[i + 1])
		i++;
	opts.batch_line = b->line[i];
}

/*
 * A batch goes to the kernel from a thread of its own, which waits in
 * sendmsg while the kernel runs it: the file's next lines are parsed
 * meanwhile, into the other buffer. One batch at a time is with the
 * kernel, and only the sender uses the socket then; the answer is read
 * here (batch_wait()), where the lines and errors are.
 */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct batch *job;	/* to send; NULL once answered */
	bool started;
} sender = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

static void transmit(struct batch *b)
{
	size_t len = b->nlh->nlmsg_len;

	b->answer_len = mnl_socket_sendto(sock, b->nlh, len);
	if (b->answer_len >= 0)
		b->answer_len = mnl_socket_recvfrom(sock, b->answer,
						    sizeof(b->answer));
	b->err = errno;
	explicit_bzero(b->buf, len);	/* keys */
}

static void *sender_main(void *unused)
{
	struct batch *b;

	(void)unused;
	pthread_mutex_lock(&sender.lock);
	for (;;) {
		while (!sender.job)
			pthread_cond_wait(&sender.cond, &sender.lock);
		b = sender.job;
		pthread_mutex_unlock(&sender.lock);
		transmit(b);
		pthread_mutex_lock(&sender.lock);
		sender.job = NULL;
		pthread_cond_broadcast(&sender.cond);
	}
	return NULL;
}

/* The sent batch's answer; an error in it discards what gathered since. */
static int batch_wait(void)
{
	struct batch *b = sent;
	struct exchange ex = { .batch = b };
	struct nlmsghdr *held = pending->nlh;
	unsigned int line = opts.batch_line;
	int ret;

	if (!b)
		return 0;
	pthread_mutex_lock(&sender.lock);
	while (sender.job)
		pthread_cond_wait(&sender.cond, &sender.lock);
	pthread_mutex_unlock(&sender.lock);
	sent = NULL;
	pending->nlh = NULL;	/* an error printed now must not send it */
	if (b->answer_len < 0) {
		errno = b->err;
		ret = error("netlink: %m");
	} else {
		ret = read_answers(&ex, b->seq, b->answer,
				   b->answer_len);
		explicit_bzero(b->answer, b->answer_len);
	}
	b->nlh = NULL;
	if (ret) {
		explicit_bzero(pending->buf, sizeof(pending->buf));
		return ret;
	}
	pending->nlh = held;
	opts.batch_line = line;
	return 0;
}

/* Hand what is gathered to the sender, once the last batch is answered. */
static int batch_send(void)
{
	struct batch *b = pending;

	if (batch_wait())
		return -1;
	if (!b->nlh)
		return 0;
	mnl_attr_nest_end(b->nlh, b->nest);
	b->seq = ++seq;
	b->nlh->nlmsg_seq = b->seq;
	sent = b;
	pending = b == &batches[0] ? &batches[1] : &batches[0];
	batch_cap = batch_cap > NFSEC_BATCH_MAX / 2 ? NFSEC_BATCH_MAX :
						      batch_cap * 2;
	if (!sender.started) {
		pthread_t t;

		sender.started = !pthread_create(&t, NULL, sender_main, NULL);
		if (!sender.started) {	/* then it goes from here */
			transmit(b);
			return 0;
		}
		pthread_detach(t);
	}
	pthread_mutex_lock(&sender.lock);
	sender.job = b;
	pthread_cond_broadcast(&sender.cond);
	pthread_mutex_unlock(&sender.lock);
	return 0;
}

int nl_batch_flush(void)
{
	return batch_send() ?: batch_wait();
}

static bool batched(uint8_t cmd)
{
	return opts.batch_file && !opts.dry_run &&
	       (cmd == NFSEC_CMD_SA_ADD || cmd == NFSEC_CMD_SA_UPDATE ||
		cmd == NFSEC_CMD_SA_DEL || cmd == NFSEC_CMD_POLICY_ADD ||
		cmd == NFSEC_CMD_POLICY_UPDATE || cmd == NFSEC_CMD_POLICY_DEL);
}

/* Where the next request of the batch goes; NULL after an error. */
static struct nlmsghdr *batch_room(void)
{
	struct nlmsghdr *nlh = pending->nlh;
	struct batch *b;

	if (nlh && (pending->n == batch_cap ||
		    nlh->nlmsg_len + BATCH_ENTRY_MAX > BATCH_BYTES)) {
		if (batch_send())
			return NULL;
		nlh = NULL;
	}
	b = pending;
	if (!nlh) {
		nlh = request_in(b->buf, family_id, NFSEC_CMD_BATCH, NLM_F_ACK);
		b->nest = mnl_attr_nest_start(nlh, NFSEC_A_BATCH);
		b->n = 0;
		b->nlh = nlh;
	}
	b->start[b->n] = nlh->nlmsg_len;
	b->line[b->n] = opts.batch_line;
	return nlh;
}

static int batch_sa(uint8_t cmd, const struct sa_spec *sa)
{
	struct nlmsghdr *nlh = batch_room();
	struct nlattr *req;

	if (!nlh)
		return -1;
	req = mnl_attr_nest_start(nlh, cmd);
	put_sa(nlh, sa);
	mnl_attr_nest_end(nlh, req);
	pending->n++;
	return 0;
}

static int batch_policy(uint8_t cmd, const struct policy_spec *pol)
{
	struct nlmsghdr *nlh = batch_room();
	struct nlattr *req;

	if (!nlh)
		return -1;
	req = mnl_attr_nest_start(nlh, cmd);
	put_policy(nlh, pol);
	mnl_attr_nest_end(nlh, req);
	pending->n++;
	return 0;
}

/* Commands */

int nl_sa_request(uint8_t cmd, const struct sa_spec *sa)
{
	struct exchange ex = { 0 };
	struct nlmsghdr *nlh;

	if (open_family())
		return -1;
	if (batched(cmd))
		return batch_sa(cmd, sa);
	nlh = genl_request(cmd, NLM_F_ACK);
	put_sa(nlh, sa);
	return exchange(nlh, &ex);
}

struct sa_reply {
	sa_cb cb;
	void *data;
};

static int sa_reply_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sa_reply *r = data;
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	struct sa_spec sa;
	int ret = 0;

	if (nlh->nlmsg_type != family_id)
		return 0;
	mnl_attr_for_each(attr, nlh, sizeof(*genl)) {
		if (mnl_attr_get_type(attr) != NFSEC_A_SA)
			continue;
		get_sa(attr, &sa);
		ret = r->cb(&sa, r->data);
		explicit_bzero(&sa, sizeof(sa));
		break;
	}
	return ret;
}

/* A request about one SA whose reply is that SA: get, alloc-spi. */
static int sa_query(uint8_t cmd, const struct sa_spec *sa, sa_cb cb,
		    void *data)
{
	struct sa_reply r = { cb, data };
	struct exchange ex = { .cb = sa_reply_cb, .data = &r };
	struct nlmsghdr *nlh;

	if (open_family())
		return -1;
	nlh = genl_request(cmd, NLM_F_ACK);
	put_sa(nlh, sa);
	put_flags(nlh, cmd == NFSEC_CMD_SA_GET && opts.show_keys);
	return exchange(nlh, &ex);
}

int nl_sa_get(const struct sa_spec *id, sa_cb cb, void *data)
{
	return sa_query(NFSEC_CMD_SA_GET, id, cb, data);
}

int nl_sa_alloc_spi(const struct sa_spec *req, sa_cb cb, void *data)
{
	return sa_query(NFSEC_CMD_SA_ALLOC_SPI, req, cb, data);
}

int nl_sa_dump(bool show_keys, sa_cb cb, void *data)
{
	struct sa_reply r = { cb, data };
	struct exchange ex = { .cb = sa_reply_cb, .data = &r };
	struct nlmsghdr *nlh;

	if (open_family())
		return -1;
	nlh = genl_request(NFSEC_CMD_SA_GET, NLM_F_DUMP);
	put_flags(nlh, show_keys);
	return exchange(nlh, &ex);
}

int nl_policy_request(uint8_t cmd, const struct policy_spec *pol)
{
	struct exchange ex = { 0 };
	struct nlmsghdr *nlh;

	if (open_family())
		return -1;
	if (batched(cmd))
		return batch_policy(cmd, pol);
	nlh = genl_request(cmd, NLM_F_ACK);
	put_policy(nlh, pol);
	return exchange(nlh, &ex);
}

struct policy_reply {
	policy_cb cb;
	void *data;
};

static int policy_reply_cb(const struct nlmsghdr *nlh, void *data)
{
	struct policy_reply *r = data;
	const struct nlattr *attr;
	struct policy_spec pol;

	if (nlh->nlmsg_type != family_id)
		return 0;
	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(attr) != NFSEC_A_POLICY)
			continue;
		get_policy(attr, &pol);
		return r->cb(&pol, r->data);
	}
	return 0;
}

int nl_policy_dump(policy_cb cb, void *data)
{
	struct policy_reply r = { cb, data };
	struct exchange ex = { .cb = policy_reply_cb, .data = &r };
	struct nlmsghdr *nlh;

	if (open_family())
		return -1;
	nlh = genl_request(NFSEC_CMD_POLICY_GET, NLM_F_DUMP);
	return exchange(nlh, &ex);
}

int nl_flush(uint8_t cmd)
{
	struct exchange ex = { 0 };

	if (open_family())
		return -1;
	return exchange(genl_request(cmd, NLM_F_ACK), &ex);
}

static int stats_cb(const struct nlmsghdr *nlh, void *data)
{
	struct stats_reply *st = data;
	const struct nlattr *attr;

	if (nlh->nlmsg_type != family_id)
		return 0;
	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(attr) == NFSEC_A_STATS)
			get_numbers(attr, st->val, NFSEC_STATS_A_MAX,
				    &st->have);
	return 0;
}

int nl_stats_get(struct stats_reply *st)
{
	struct exchange ex = { .cb = stats_cb, .data = st };

	memset(st, 0, sizeof(*st));
	if (open_family())
		return -1;
	return exchange(genl_request(NFSEC_CMD_STATS_GET, NLM_F_ACK), &ex);
}

/* Events */

struct event_reply {
	event_cb cb;
	void *data;
};

static int event_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct event_reply *r = data;
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr, *a;
	struct event_spec ev;

	if (nlh->nlmsg_type != family_id ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*genl))
		return MNL_CB_OK;
	memset(&ev, 0, sizeof(ev));
	mnl_attr_for_each(attr, nlh, sizeof(*genl)) {
		switch (mnl_attr_get_type(attr)) {
		case NFSEC_A_SA:
			get_sa(attr, &ev.sa);
			break;
		case NFSEC_A_POLICY:
			get_policy(attr, &ev.pol);
			break;
		case NFSEC_A_FLOW:
			mnl_attr_for_each_nested(a, attr)
				get_field(a, flow_fields, NFSEC_FLOW_A_MAX,
					  &ev.flow, &ev.flow.have);
			break;
		case NFSEC_A_MAPPING:
			mnl_attr_for_each_nested(a, attr)
				get_field(a, mapping_fields, NFSEC_MAP_A_MAX,
					  &ev.map, &ev.map.have);
			break;
		}
	}
	return r->cb(genl->cmd, &ev, r->data) ? MNL_CB_ERROR : MNL_CB_OK;
}

/* Print events until the callback fails; a lost event gives cmd 0. */
int nl_monitor(event_cb cb, void *data)
{
	struct event_reply r = { cb, data };
	uint32_t group;
	ssize_t len;
	int ret;

	if (open_family() || opts.dry_run)
		return opts.dry_run ? 0 : -1;
	/* the lines gathered before it go first: monitor does not return */
	if (nl_batch_flush())
		return -1;
	if (!events_group)
		return error("the nfsec module has no \"%s\" multicast group",
			     NFSEC_MCGRP_EVENTS);
	group = events_group;
	if (mnl_socket_setsockopt(sock, NETLINK_ADD_MEMBERSHIP, &group,
				  sizeof(group)) < 0)
		return error("joining the events group: %m");
	for (;;) {
		len = mnl_socket_recvfrom(sock, rx, sizeof(rx));
		if (len < 0 && errno == ENOBUFS) {
			if (cb(0, NULL, data))
				return -1;
			continue;
		}
		if (len < 0)
			return error("netlink: %m");
		ret = mnl_cb_run2(rx, len, 0, 0, event_data_cb, &r, NULL, 0);
		if (ret < 0)
			return -1;
	}
}
