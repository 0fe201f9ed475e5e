// SPDX-License-Identifier: GPL-2.0
/*
 * kernel-nfsec: charon's kernel_ipsec_t over nfsec's generic netlink.
 *
 * charon negotiates; this file installs what it negotiated: SPIs (larval
 * entries), SAs, policies, and hands nfsec's events (expire, acquire,
 * mapping) back to charon. Translation only: charon's transform IDs to
 * crypto API names, its traffic selectors to prefixes and ports, its
 * policy priority classes to nfsec priorities.
 *
 * Policies. charon installs the same policy several times: a CHILD_SA and
 * its rekeyed successor, a trap policy and the CHILD_SA it triggered, each
 * IN, OUT and FWD. nfsec keeps one policy per direction, selector and
 * priority; this file keeps, for each of those, the list of charon's
 * installs (users), newest first. The newest user is what nfsec has; the
 * nfsec policy goes when the last user does. Protect policies name their
 * SAs by reqid (charon keeps the reqid across rekeys), so a rekey changes
 * no policy: nfsec switches to the newest SA of the reqid by itself.
 *
 * Locking: one mutex serialises the request socket and the policy table.
 * Events arrive on a second socket, read from charon's watcher thread.
 */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <daemon.h>
#include <threading/mutex.h>
#include <collections/linked_list.h>
#include <processing/watcher.h>

#include "kernel_nfsec_ipsec.h"
#include "kernel_nfsec_genl.h"

/* Priorities: as kernel-netlink computes them (lower is tried first). */
#define PRIO_BASE		200000
/* The IKE bypass policies come before every other. */
#define PRIO_IKE_BYPASS		1
/* Larval entries last as long as XFRM's acquire state. */
#define SPI_TIMEOUT		165

typedef struct private_kernel_nfsec_ipsec_t private_kernel_nfsec_ipsec_t;

struct private_kernel_nfsec_ipsec_t {
	kernel_nfsec_ipsec_t public;

	/* requests (under mutex) and events (the watcher's) */
	struct nfsec_genl nl;
	struct nfsec_genl events;
	mutex_t *mutex;

	/* policy_entry_t, under mutex */
	linked_list_t *policies;
	/* bypass_entry_t, the IKE sockets' bypass policies, under mutex */
	linked_list_t *bypass;

	uint32_t spi_min, spi_max;
	/* charon.install_routes: source routes for tunnels, as XFRM gets */
	bool install_routes;
};

/* What one add_policy asked for. */
typedef struct {
	policy_type_t type;
	uint32_t reqid;
	ipsec_mode_t mode;
	uint8_t proto;		/* IPPROTO_ESP or IPPROTO_AH */
	host_t *src, *dst;	/* the SAs' addresses */
} policy_user_t;

/* A route installed through kernel-net (kernel-netlink: table 220). */
typedef struct {
	chunk_t dst_net;
	uint8_t prefixlen;
	host_t *gateway, *src_ip;
	char *if_name;
	bool pass;
} route_entry_t;

/* One nfsec policy: a direction, a selector and a priority. */
typedef struct {
	policy_dir_t dir;
	traffic_selector_t *src_ts, *dst_ts;
	uint32_t priority;
	linked_list_t *users;	/* policy_user_t, newest first */
	route_entry_t *route;	/* OUT only, with install_routes */
} policy_entry_t;

typedef struct {
	int family;
	uint16_t port;
} bypass_entry_t;

static const char *err_text(int err, const char *msg)
{
	return msg[0] ? msg : strerror(-err);
}

/* --- requests -------------------------------------------------------------- */

/*
 * One request and its reply, under this->mutex (every caller holds it),
 * which also guards the socket's sequence numbers.
 */
static int request(private_kernel_nfsec_ipsec_t *this, struct nlmsghdr *nlh,
		   mnl_cb_t cb, void *data, char *msg, size_t len)
{
	return nfsec_genl_request(&this->nl, nlh, cb, data, msg, len);
}

static void put_host(struct nlmsghdr *nlh, uint16_t type, host_t *host)
{
	chunk_t a = host->get_address(host);

	mnl_attr_put(nlh, type, a.len, a.ptr);
}

static host_t *get_host(int family, const struct nlattr *attr, uint16_t port)
{
	chunk_t a;

	if (!attr)
		return NULL;
	a = chunk_create(mnl_attr_get_payload(attr),
			 mnl_attr_get_payload_len(attr));
	return host_create_from_chunk(family, a, port);
}

/* FAMILY, DST, SPI and PROTO: an SA's identity. */
static void put_sa_id(struct nlmsghdr *nlh, host_t *dst, uint32_t spi,
		      uint8_t proto)
{
	mnl_attr_put_u16(nlh, NFSEC_SA_A_FAMILY, dst->get_family(dst));
	put_host(nlh, NFSEC_SA_A_DST, dst);
	mnl_attr_put_u32(nlh, NFSEC_SA_A_SPI, spi);	/* network order both */
	mnl_attr_put_u8(nlh, NFSEC_SA_A_PROTO, proto);
}

/* --- SPIs -------------------------------------------------------------------- */

static int spi_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFSEC_A_MAX + 1], *sa[NFSEC_SA_A_MAX + 1];

	nfsec_genl_attrs(nlh, tb, NFSEC_A_MAX);
	nfsec_genl_nest(tb[NFSEC_A_SA], sa, NFSEC_SA_A_MAX);
	if (sa[NFSEC_SA_A_SPI])
		*(uint32_t *)data = mnl_attr_get_u32(sa[NFSEC_SA_A_SPI]);
	return MNL_CB_OK;
}

METHOD(kernel_ipsec_t, get_spi, status_t,
	private_kernel_nfsec_ipsec_t *this, host_t *src, host_t *dst,
	uint8_t protocol, uint32_t *spi)
{
	uint8_t buf[NFSEC_GENL_BUF];
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	char msg[256];
	int err;

	*spi = 0;
	this->mutex->lock(this->mutex);
	nlh = nfsec_genl_msg(&this->nl, buf, NFSEC_CMD_SA_ALLOC_SPI);
	nest = mnl_attr_nest_start(nlh, NFSEC_A_SA);
	mnl_attr_put_u16(nlh, NFSEC_SA_A_FAMILY, dst->get_family(dst));
	put_host(nlh, NFSEC_SA_A_SRC, src);
	put_host(nlh, NFSEC_SA_A_DST, dst);
	mnl_attr_put_u8(nlh, NFSEC_SA_A_PROTO, protocol);
	mnl_attr_put_u32(nlh, NFSEC_SA_A_SPI_MIN, this->spi_min);
	mnl_attr_put_u32(nlh, NFSEC_SA_A_SPI_MAX, this->spi_max);
	mnl_attr_put_u32(nlh, NFSEC_SA_A_TIMEOUT, SPI_TIMEOUT);
	mnl_attr_nest_end(nlh, nest);
	err = request(this, nlh, spi_cb, spi, msg, sizeof(msg));
	this->mutex->unlock(this->mutex);
	if (err || !*spi) {
		DBG1(DBG_KNL, "kernel-nfsec: unable to get an SPI: %s",
		     err_text(err, msg));
		return FAILED;
	}
	DBG2(DBG_KNL, "kernel-nfsec: got SPI %.8x", ntohl(*spi));
	return SUCCESS;
}

METHOD(kernel_ipsec_t, get_cpi, status_t,
	private_kernel_nfsec_ipsec_t *this, host_t *src, host_t *dst,
	uint16_t *cpi)
{
	DBG1(DBG_KNL, "kernel-nfsec: IPComp is not supported by nfsec");
	return NOT_SUPPORTED;
}

/* --- SAs ----------------------------------------------------------------------- */

/* charon's transform IDs as the crypto API names nfsec takes. */
static bool put_enc(struct nlmsghdr *nlh, uint16_t alg, chunk_t key)
{
	const char *name = NULL;
	uint32_t icv_bits = 0;
	uint16_t type = NFSEC_SA_A_ENC;
	struct nlattr *nest;

	switch (alg) {
	case ENCR_AES_GCM_ICV16:
	case ENCR_AES_GCM_ICV12:
	case ENCR_AES_GCM_ICV8:
		name = "rfc4106(gcm(aes))";
		icv_bits = alg == ENCR_AES_GCM_ICV16 ? 128 :
			   alg == ENCR_AES_GCM_ICV12 ? 96 : 64;
		type = NFSEC_SA_A_AEAD;
		break;
	case ENCR_NULL_AUTH_AES_GMAC:
		name = "rfc4543(gcm(aes))";
		icv_bits = 128;
		type = NFSEC_SA_A_AEAD;
		break;
	case ENCR_CHACHA20_POLY1305:
		name = "rfc7539esp(chacha20,poly1305)";
		icv_bits = 128;
		type = NFSEC_SA_A_AEAD;
		break;
	case ENCR_AES_CBC:
		name = "cbc(aes)";
		break;
	case ENCR_AES_CTR:
		name = "rfc3686(ctr(aes))";
		break;
	case ENCR_NULL:
		name = "ecb(cipher_null)";
		break;
	default:
		DBG1(DBG_KNL, "kernel-nfsec: encryption algorithm %N is not "
		     "supported by nfsec", encryption_algorithm_names, alg);
		return FALSE;
	}
	nest = mnl_attr_nest_start(nlh, type);
	mnl_attr_put_strz(nlh, NFSEC_ALG_A_NAME, name);
	mnl_attr_put(nlh, NFSEC_ALG_A_KEY, key.len, key.ptr);
	if (icv_bits)
		mnl_attr_put_u32(nlh, NFSEC_ALG_A_ICV_BITS, icv_bits);
	mnl_attr_nest_end(nlh, nest);
	return TRUE;
}

static bool put_auth(struct nlmsghdr *nlh, uint16_t alg, chunk_t key)
{
	const char *name;
	uint32_t trunc;
	struct nlattr *nest;

	switch (alg) {
	case AUTH_HMAC_SHA1_96:
		name = "hmac(sha1)";
		trunc = 96;
		break;
	case AUTH_HMAC_SHA2_256_128:
		name = "hmac(sha256)";
		trunc = 128;
		break;
	case AUTH_HMAC_SHA2_384_192:
		name = "hmac(sha384)";
		trunc = 192;
		break;
	case AUTH_HMAC_SHA2_512_256:
		name = "hmac(sha512)";
		trunc = 256;
		break;
	default:
		DBG1(DBG_KNL, "kernel-nfsec: integrity algorithm %N is not "
		     "supported by nfsec", integrity_algorithm_names, alg);
		return FALSE;
	}
	nest = mnl_attr_nest_start(nlh, NFSEC_SA_A_AUTH);
	mnl_attr_put_strz(nlh, NFSEC_ALG_A_NAME, name);
	mnl_attr_put(nlh, NFSEC_ALG_A_KEY, key.len, key.ptr);
	mnl_attr_put_u32(nlh, NFSEC_ALG_A_TRUNC_BITS, trunc);
	mnl_attr_nest_end(nlh, nest);
	return TRUE;
}

static void put_lifetime(struct nlmsghdr *nlh, lifetime_cfg_t *lt)
{
	struct { uint16_t type; uint64_t val; } v[] = {
		{ NFSEC_LT_A_SOFT_BYTES, lt->bytes.rekey },
		{ NFSEC_LT_A_HARD_BYTES, lt->bytes.life },
		{ NFSEC_LT_A_SOFT_PACKETS, lt->packets.rekey },
		{ NFSEC_LT_A_HARD_PACKETS, lt->packets.life },
		{ NFSEC_LT_A_SOFT_SECONDS, lt->time.rekey },
		{ NFSEC_LT_A_HARD_SECONDS, lt->time.life },
	};
	struct nlattr *nest;
	unsigned int i;

	nest = mnl_attr_nest_start(nlh, NFSEC_SA_A_LIFETIME);
	for (i = 0; i < countof(v); i++)
		if (v[i].val)
			mnl_attr_put_u64(nlh, v[i].type, v[i].val);
	mnl_attr_nest_end(nlh, nest);
}

static void put_encap(struct nlmsghdr *nlh, host_t *src, host_t *dst)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, NFSEC_SA_A_ENCAP);

	mnl_attr_put_u8(nlh, NFSEC_ENCAP_A_TYPE, NFSEC_ENCAP_UDP);
	mnl_attr_put_u16(nlh, NFSEC_ENCAP_A_SPORT, src->get_port(src));
	mnl_attr_put_u16(nlh, NFSEC_ENCAP_A_DPORT, dst->get_port(dst));
	mnl_attr_nest_end(nlh, nest);
}

/* What nfsec cannot do, refused with the reason in charon's log. */
static bool sa_supported(kernel_ipsec_sa_id_t *id, kernel_ipsec_add_sa_t *data)
{
	const char *what = NULL;

	if (data->ipcomp != IPCOMP_NONE)
		what = "IPComp";
	else if (id->mark.value || id->mark.mask || data->mark.value ||
		 data->mark.mask)
		what = "marks";
	else if (id->if_id)
		what = "interface IDs (XFRM interfaces)";
	else if (data->label)
		what = "security labels";
	else if (data->hw_offload == HW_OFFLOAD_YES)
		what = "hardware offload";
	else if (data->mode != MODE_TUNNEL && data->mode != MODE_TRANSPORT)
		what = "modes other than tunnel and transport";
	else if (data->tfc)
		what = "TFC padding";
	else if (data->replay_window > NFSEC_REPLAY_WINDOW_MAX)
		what = "replay windows above 4096 packets";
	if (what)
		DBG1(DBG_KNL, "kernel-nfsec: SA with SPI %.8x refused: nfsec "
		     "does not support %s", ntohl(id->spi), what);
	return !what;
}

METHOD(kernel_ipsec_t, add_sa, status_t,
	private_kernel_nfsec_ipsec_t *this, kernel_ipsec_sa_id_t *id,
	kernel_ipsec_add_sa_t *data)
{
	uint8_t buf[NFSEC_GENL_BUF];
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	char msg[256];
	bool aead;
	int err;

	if (!sa_supported(id, data))
		return NOT_SUPPORTED;
	if (!data->copy_ecn)
		DBG1(DBG_KNL, "kernel-nfsec: copy_ecn=no ignored, nfsec "
		     "always follows RFC 6040");

	nlh = nfsec_genl_msg(&this->nl, buf, NFSEC_CMD_SA_ADD);
	nest = mnl_attr_nest_start(nlh, NFSEC_A_SA);
	mnl_attr_put_u8(nlh, NFSEC_SA_A_DIR,
			data->inbound ? NFSEC_DIR_IN : NFSEC_DIR_OUT);
	put_sa_id(nlh, id->dst, id->spi, id->proto);
	put_host(nlh, NFSEC_SA_A_SRC, id->src);
	mnl_attr_put_u8(nlh, NFSEC_SA_A_MODE, data->mode == MODE_TUNNEL ?
			NFSEC_MODE_TUNNEL : NFSEC_MODE_TRANSPORT);

	aead = encryption_algorithm_is_aead(data->enc_alg);
	if (id->proto == IPPROTO_AH) {
		if (!put_auth(nlh, data->int_alg, data->int_key))
			goto refused;
	} else {
		if (!put_enc(nlh, data->enc_alg, data->enc_key))
			goto refused;
		if (!aead && data->int_alg != AUTH_UNDEFINED &&
		    !put_auth(nlh, data->int_alg, data->int_key))
			goto refused;
	}
	if (data->inbound)
		mnl_attr_put_u32(nlh, NFSEC_SA_A_REPLAY_WINDOW,
				 data->replay_window);
	if (data->esn)
		mnl_attr_put_u32(nlh, NFSEC_SA_A_FLAGS, NFSEC_SA_F_ESN);
	if (data->lifetime)
		put_lifetime(nlh, data->lifetime);
	if (!data->inbound && data->mode == MODE_TUNNEL && !data->copy_df)
		mnl_attr_put_u8(nlh, NFSEC_SA_A_DF, NFSEC_DF_CLEAR);
	if (data->reqid)
		mnl_attr_put_u32(nlh, NFSEC_SA_A_REQID, data->reqid);
	if (data->encap)
		put_encap(nlh, id->src, id->dst);
	mnl_attr_nest_end(nlh, nest);

	this->mutex->lock(this->mutex);
	err = request(this, nlh, NULL, NULL, msg, sizeof(msg));
	this->mutex->unlock(this->mutex);
	memwipe(buf, sizeof(buf));
	if (err) {
		DBG1(DBG_KNL, "kernel-nfsec: unable to add SA with SPI %.8x "
		     "(%N): %s", ntohl(id->spi), encryption_algorithm_names,
		     data->enc_alg, err_text(err, msg));
		return FAILED;
	}
	DBG2(DBG_KNL, "kernel-nfsec: added %s SA with SPI %.8x reqid %u",
	     data->inbound ? "inbound" : "outbound", ntohl(id->spi),
	     data->reqid);
	return SUCCESS;

refused:
	memwipe(buf, sizeof(buf));
	DBG1(DBG_KNL, "kernel-nfsec: SA with SPI %.8x refused: algorithm not "
	     "supported by nfsec", ntohl(id->spi));
	return NOT_SUPPORTED;
}

/* An SA as SA_GET replies with it (keys included), kept for update_sa. */
typedef struct {
	uint8_t buf[NFSEC_GENL_BUF];
	const struct nlattr *sa[NFSEC_SA_A_MAX + 1];
	bool found;
} sa_reply_t;

static int sa_get_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFSEC_A_MAX + 1];
	sa_reply_t *r = data;

	if (nlh->nlmsg_len > sizeof(r->buf))
		return MNL_CB_ERROR;
	memcpy(r->buf, nlh, nlh->nlmsg_len);
	nfsec_genl_attrs((struct nlmsghdr *)r->buf, tb, NFSEC_A_MAX);
	nfsec_genl_nest(tb[NFSEC_A_SA], r->sa, NFSEC_SA_A_MAX);
	r->found = tb[NFSEC_A_SA] != NULL;
	return MNL_CB_OK;
}

static int sa_get(private_kernel_nfsec_ipsec_t *this, kernel_ipsec_sa_id_t *id,
		  bool keys, sa_reply_t *r, char *msg, size_t len)
{
	uint8_t buf[NFSEC_GENL_BUF];
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	int err;

	nlh = nfsec_genl_msg(&this->nl, buf, NFSEC_CMD_SA_GET);
	nest = mnl_attr_nest_start(nlh, NFSEC_A_SA);
	put_sa_id(nlh, id->dst, id->spi, id->proto);
	mnl_attr_nest_end(nlh, nest);
	if (keys)
		mnl_attr_put_u32(nlh, NFSEC_A_FLAGS, NFSEC_FLAG_SHOW_KEYS);
	r->found = FALSE;
	err = request(this, nlh, sa_get_cb, r, msg, len);
	if (!err && !r->found)
		err = -ENOENT;
	return err;
}

/* Copy a nest, leaving out the attribute types of the mask (reply only). */
static void copy_nest(struct nlmsghdr *nlh, const struct nlattr *nest,
		      uint32_t skip)
{
	const struct nlattr *a;
	struct nlattr *out;

	if (!nest)
		return;
	out = mnl_attr_nest_start(nlh, mnl_attr_get_type(nest));
	mnl_attr_for_each_nested(a, nest) {
		uint16_t type = mnl_attr_get_type(a);

		if (type < 32 && (skip & (1U << type)))
			continue;
		mnl_attr_put(nlh, type, mnl_attr_get_payload_len(a),
			     mnl_attr_get_payload(a));
	}
	mnl_attr_nest_end(nlh, out);
}

static void copy_attr(struct nlmsghdr *nlh, const struct nlattr *a)
{
	if (a)
		mnl_attr_put(nlh, mnl_attr_get_type(a),
			     mnl_attr_get_payload_len(a),
			     mnl_attr_get_payload(a));
}

/*
 * New addresses or encapsulation (NAT mapping changes, MOBIKE): nfsec
 * updates an SA in place (sequence numbers and replay window carry over)
 * as long as its destination, part of its identity, stays; otherwise the
 * SA is added anew with the next sequence number and the old one deleted.
 */
METHOD(kernel_ipsec_t, update_sa, status_t,
	private_kernel_nfsec_ipsec_t *this, kernel_ipsec_sa_id_t *id,
	kernel_ipsec_update_sa_t *data)
{
	uint8_t buf[NFSEC_GENL_BUF];
	static const uint16_t same[] = {
		NFSEC_SA_A_DIR, NFSEC_SA_A_SPI, NFSEC_SA_A_PROTO,
		NFSEC_SA_A_MODE, NFSEC_SA_A_FLAGS,
	};
	sa_reply_t *r;
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	bool moved, out;
	char msg[256];
	unsigned int i;
	int err;

	moved = !id->dst->ip_equals(id->dst, data->new_dst);
	r = malloc(sizeof(*r));
	this->mutex->lock(this->mutex);
	err = sa_get(this, id, TRUE, r, msg, sizeof(msg));
	if (err)
		goto out;
	out = r->sa[NFSEC_SA_A_DIR] &&
	      mnl_attr_get_u8(r->sa[NFSEC_SA_A_DIR]) == NFSEC_DIR_OUT;

	nlh = nfsec_genl_msg(&this->nl, buf, moved ? NFSEC_CMD_SA_ADD :
						     NFSEC_CMD_SA_UPDATE);
	nest = mnl_attr_nest_start(nlh, NFSEC_A_SA);
	mnl_attr_put_u16(nlh, NFSEC_SA_A_FAMILY,
			 data->new_dst->get_family(data->new_dst));
	put_host(nlh, NFSEC_SA_A_SRC, data->new_src);
	put_host(nlh, NFSEC_SA_A_DST, data->new_dst);
	for (i = 0; i < countof(same); i++)
		copy_attr(nlh, r->sa[same[i]]);
	/* replies carry both; requests take DF for outbound tunnel SAs,
	 * the replay window for inbound SAs only */
	if (!out)
		copy_attr(nlh, r->sa[NFSEC_SA_A_REPLAY_WINDOW]);
	else if (r->sa[NFSEC_SA_A_MODE] &&
		 mnl_attr_get_u8(r->sa[NFSEC_SA_A_MODE]) == NFSEC_MODE_TUNNEL)
		copy_attr(nlh, r->sa[NFSEC_SA_A_DF]);
	copy_nest(nlh, r->sa[NFSEC_SA_A_AEAD], 0);
	copy_nest(nlh, r->sa[NFSEC_SA_A_ENC], 0);
	copy_nest(nlh, r->sa[NFSEC_SA_A_AUTH], 0);
	copy_nest(nlh, r->sa[NFSEC_SA_A_LIFETIME], 1U << NFSEC_LT_A_PAD);
	if (data->new_reqid)
		mnl_attr_put_u32(nlh, NFSEC_SA_A_REQID, data->new_reqid);
	else
		copy_attr(nlh, r->sa[NFSEC_SA_A_REQID]);
	if (data->new_encap)
		put_encap(nlh, data->new_src, data->new_dst);
	if (moved && out && r->sa[NFSEC_SA_A_SEQ])
		copy_attr(nlh, r->sa[NFSEC_SA_A_SEQ]);
	mnl_attr_nest_end(nlh, nest);
	err = request(this, nlh, NULL, NULL, msg, sizeof(msg));
	memwipe(buf, sizeof(buf));
	if (!err && moved) {
		nlh = nfsec_genl_msg(&this->nl, buf, NFSEC_CMD_SA_DEL);
		nest = mnl_attr_nest_start(nlh, NFSEC_A_SA);
		put_sa_id(nlh, id->dst, id->spi, id->proto);
		mnl_attr_nest_end(nlh, nest);
		request(this, nlh, NULL, NULL, NULL, 0);
	}
out:
	this->mutex->unlock(this->mutex);
	memwipe(r, sizeof(*r));
	free(r);
	if (err) {
		DBG1(DBG_KNL, "kernel-nfsec: unable to update SA with SPI %.8x: "
		     "%s", ntohl(id->spi), err_text(err, msg));
		return err == -ENOENT ? NOT_FOUND : FAILED;
	}
	DBG2(DBG_KNL, "kernel-nfsec: updated SA with SPI %.8x to %H == %H%s",
	     ntohl(id->spi), data->new_src, data->new_dst,
	     data->new_encap ? " (UDP)" : "");
	return SUCCESS;
}

METHOD(kernel_ipsec_t, query_sa, status_t,
	private_kernel_nfsec_ipsec_t *this, kernel_ipsec_sa_id_t *id,
	kernel_ipsec_query_sa_t *data, uint64_t *bytes, uint64_t *packets,
	time_t *time)
{
	const struct nlattr *st[NFSEC_SA_STATS_A_MAX + 1];
	sa_reply_t *r;
	char msg[256];
	int err;

	r = malloc(sizeof(*r));
	this->mutex->lock(this->mutex);
	err = sa_get(this, id, FALSE, r, msg, sizeof(msg));
	this->mutex->unlock(this->mutex);
	if (err) {
		free(r);
		DBG1(DBG_KNL, "kernel-nfsec: unable to query SA with SPI %.8x: "
		     "%s", ntohl(id->spi), err_text(err, msg));
		return err == -ENOENT ? NOT_FOUND : FAILED;
	}
	nfsec_genl_nest(r->sa[NFSEC_SA_A_STATS], st, NFSEC_SA_STATS_A_MAX);
	if (bytes)
		*bytes = st[NFSEC_SA_STATS_A_BYTES] ?
			 mnl_attr_get_u64(st[NFSEC_SA_STATS_A_BYTES]) : 0;
	if (packets)
		*packets = st[NFSEC_SA_STATS_A_PACKETS] ?
			   mnl_attr_get_u64(st[NFSEC_SA_STATS_A_PACKETS]) : 0;
	if (time) {
		/* USE_TIME is seconds idle; absent while the SA carried nothing */
		*time = 0;
		if (r->sa[NFSEC_SA_A_USE_TIME])
			*time = time_monotonic(NULL) -
				mnl_attr_get_u64(r->sa[NFSEC_SA_A_USE_TIME]);
	}
	free(r);
	return SUCCESS;
}

METHOD(kernel_ipsec_t, del_sa, status_t,
	private_kernel_nfsec_ipsec_t *this, kernel_ipsec_sa_id_t *id,
	kernel_ipsec_del_sa_t *data)
{
	uint8_t buf[NFSEC_GENL_BUF];
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	char msg[256];
	int err;

	this->mutex->lock(this->mutex);
	nlh = nfsec_genl_msg(&this->nl, buf, NFSEC_CMD_SA_DEL);
	nest = mnl_attr_nest_start(nlh, NFSEC_A_SA);
	put_sa_id(nlh, id->dst, id->spi, id->proto);
	mnl_attr_nest_end(nlh, nest);
	err = request(this, nlh, NULL, NULL, msg, sizeof(msg));
	this->mutex->unlock(this->mutex);
	if (err == -ENOENT) {
		/* a hard expiry deletes it in nfsec first */
		DBG2(DBG_KNL, "kernel-nfsec: SA with SPI %.8x already gone",
		     ntohl(id->spi));
		return NOT_FOUND;
	}
	if (err) {
		DBG1(DBG_KNL, "kernel-nfsec: unable to delete SA with SPI %.8x: "
		     "%s", ntohl(id->spi), err_text(err, msg));
		return FAILED;
	}
	DBG2(DBG_KNL, "kernel-nfsec: deleted SA with SPI %.8x", ntohl(id->spi));
	return SUCCESS;
}

static status_t flush(private_kernel_nfsec_ipsec_t *this, uint8_t cmd)
{
	uint8_t buf[NFSEC_GENL_BUF];
	char msg[256];
	int err;

	err = request(this, nfsec_genl_msg(&this->nl, buf, cmd), NULL, NULL,
		      msg, sizeof(msg));
	if (err) {
		DBG1(DBG_KNL, "kernel-nfsec: unable to flush: %s",
		     err_text(err, msg));
		return FAILED;
	}
	return SUCCESS;
}

METHOD(kernel_ipsec_t, flush_sas, status_t,
	private_kernel_nfsec_ipsec_t *this)
{
	status_t status;

	this->mutex->lock(this->mutex);
	status = flush(this, NFSEC_CMD_SA_FLUSH);
	this->mutex->unlock(this->mutex);
	return status;
}

/* --- policies -------------------------------------------------------------- */

static void user_destroy(policy_user_t *user)
{
	user->src->destroy(user->src);
	user->dst->destroy(user->dst);
	free(user);
}

static void route_destroy(route_entry_t *route)
{
	if (!route)
		return;
	chunk_free(&route->dst_net);
	DESTROY_IF(route->gateway);
	DESTROY_IF(route->src_ip);
	free(route->if_name);
	free(route);
}

static bool route_equals(route_entry_t *a, route_entry_t *b)
{
	return chunk_equals(a->dst_net, b->dst_net) &&
	       a->prefixlen == b->prefixlen && a->pass == b->pass &&
	       streq(a->if_name, b->if_name) &&
	       a->src_ip->ip_equals(a->src_ip, b->src_ip) &&
	       (a->gateway == b->gateway ||
		(a->gateway && b->gateway &&
		 a->gateway->ip_equals(a->gateway, b->gateway)));
}

static void route_del(policy_entry_t *entry)
{
	route_entry_t *r = entry->route;

	if (!r)
		return;
	if (charon->kernel->del_route(charon->kernel, r->dst_net, r->prefixlen,
				      r->gateway, r->src_ip, r->if_name,
				      r->pass) != SUCCESS)
		DBG1(DBG_KNL, "kernel-nfsec: unable to remove the route to %R",
		     entry->dst_ts);
	route_destroy(r);
	entry->route = NULL;
}

/*
 * What kernel-netlink does for XFRM: an outbound tunnel (or bypass)
 * policy without protocol or ports gets a route to its destination with
 * a source address of its local selector (a virtual IP, or the
 * gateway's LAN address), so that traffic this host sends itself leaves
 * with an address the policy covers.
 */
static void route_update(private_kernel_nfsec_ipsec_t *this,
			 policy_entry_t *entry, policy_user_t *user)
{
	traffic_selector_t *src = entry->src_ts, *dst = entry->dst_ts;
	route_entry_t *route;
	host_t *net;

	if (!this->install_routes || entry->dir != POLICY_OUT ||
	    src->get_protocol(src) || dst->get_protocol(dst) ||
	    !(user->type == POLICY_PASS ||
	      (user->type == POLICY_IPSEC && user->mode == MODE_TUNNEL)))
		return;
	INIT(route, .pass = user->type == POLICY_PASS);
	if (charon->kernel->get_address_by_ts(charon->kernel, src,
					      &route->src_ip, NULL) != SUCCESS) {
		if (!route->pass) {
			free(route);
			route_del(entry);
			return;
		}
		route->src_ip = host_create_any(dst->get_type(dst) ==
						TS_IPV4_ADDR_RANGE ?
						AF_INET : AF_INET6);
	}
	dst->to_subnet(dst, &net, &route->prefixlen);
	route->dst_net = chunk_clone(net->get_address(net));
	if (!user->dst->is_anyaddr(user->dst))
		route->gateway = charon->kernel->get_nexthop(charon->kernel,
				user->dst, -1, user->src, &route->if_name);
	else
		route->gateway = charon->kernel->get_nexthop(charon->kernel,
				net, route->prefixlen, route->src_ip,
				&route->if_name);
	net->destroy(net);
	if (!route->if_name &&
	    !charon->kernel->get_interface(charon->kernel,
			user->src->is_anyaddr(user->src) ? route->src_ip :
			user->src, &route->if_name) && !route->pass) {
		route_destroy(route);
		route_del(entry);
		return;
	}
	if (entry->route && route_equals(entry->route, route)) {
		route_destroy(route);
		return;
	}
	route_del(entry);
	DBG2(DBG_KNL, "kernel-nfsec: route to %R via %H src %H dev %s", dst,
	     route->gateway, route->src_ip, route->if_name);
	switch (charon->kernel->add_route(charon->kernel, route->dst_net,
					  route->prefixlen, route->gateway,
					  route->src_ip, route->if_name,
					  route->pass)) {
	case SUCCESS:
		entry->route = route;
		break;
	case ALREADY_DONE:	/* someone else's: not ours to remove */
		route_destroy(route);
		break;
	default:
		DBG1(DBG_KNL, "kernel-nfsec: unable to install the route to %R "
		     "with source %H", dst, route->src_ip);
		route_destroy(route);
		break;
	}
}

static void entry_destroy(policy_entry_t *entry)
{
	route_destroy(entry->route);
	entry->src_ts->destroy(entry->src_ts);
	entry->dst_ts->destroy(entry->dst_ts);
	entry->users->destroy_function(entry->users, (void *)user_destroy);
	free(entry);
}

static bool user_equals(policy_user_t *a, policy_user_t *b)
{
	return a->type == b->type && a->reqid == b->reqid &&
	       a->mode == b->mode && a->proto == b->proto &&
	       a->src->ip_equals(a->src, b->src) &&
	       a->dst->ip_equals(a->dst, b->dst);
}

static uint8_t port_bits(uint16_t from, uint16_t to)
{
	return from == to ? 16 : 0;
}

/* kernel-netlink's priorities, so that both order policies alike. */
static uint32_t priority(kernel_ipsec_policy_id_t *id,
			 kernel_ipsec_manage_policy_t *data, uint8_t splen,
			 uint8_t dplen)
{
	traffic_selector_t *s = id->src_ts, *d = id->dst_ts;
	uint32_t prio = PRIO_BASE;

	if (data->manual_prio)
		return data->manual_prio;
	switch (data->prio) {
	case POLICY_PRIORITY_FALLBACK:
		prio += PRIO_BASE;
		/* fall through */
	case POLICY_PRIORITY_ROUTED:
	case POLICY_PRIORITY_DEFAULT:
		prio += PRIO_BASE;
		/* fall through */
	case POLICY_PRIORITY_PASS:
		break;
	}
	prio -= (splen + dplen) * 512;
	prio -= max(s->get_protocol(s), d->get_protocol(d)) ? 256 : 0;
	prio -= (port_bits(s->get_from_port(s), s->get_to_port(s)) +
		 port_bits(d->get_from_port(d), d->get_to_port(d))) * 4;
	prio -= data->prio != POLICY_PRIORITY_ROUTED;
	return prio;
}

static bool ts_port(traffic_selector_t *ts, uint16_t *port)
{
	uint16_t from = ts->get_from_port(ts), to = ts->get_to_port(ts);

	*port = from == to ? from : 0;
	return from == to || (from == 0 && to == 0xffff);
}

/* The selector of a policy request; FALSE (logged) if nfsec cannot. */
static bool put_selector(struct nlmsghdr *nlh, kernel_ipsec_policy_id_t *id,
			 uint8_t *splen, uint8_t *dplen)
{
	traffic_selector_t *s = id->src_ts, *d = id->dst_ts;
	uint8_t proto = max(s->get_protocol(s), d->get_protocol(d));
	uint16_t sport, dport;
	host_t *net;
	uint8_t dir;

	if (!ts_port(s, &sport) || !ts_port(d, &dport)) {
		DBG1(DBG_KNL, "kernel-nfsec: policy %R === %R refused: nfsec "
		     "takes one port or any, not port ranges", s, d);
		return FALSE;
	}
	if ((sport || dport) && proto != IPPROTO_TCP && proto != IPPROTO_UDP &&
	    proto != IPPROTO_SCTP && proto != IPPROTO_UDPLITE) {
		DBG1(DBG_KNL, "kernel-nfsec: policy %R === %R refused: nfsec "
		     "takes ports only with TCP, UDP, SCTP and UDP-Lite", s, d);
		return FALSE;
	}
	dir = id->dir == POLICY_IN ? NFSEC_DIR_IN :
	      id->dir == POLICY_OUT ? NFSEC_DIR_OUT : NFSEC_DIR_FWD;
	mnl_attr_put_u8(nlh, NFSEC_POL_A_DIR, dir);
	mnl_attr_put_u16(nlh, NFSEC_POL_A_FAMILY,
			 s->get_type(s) == TS_IPV4_ADDR_RANGE ? AF_INET : AF_INET6);
	s->to_subnet(s, &net, splen);
	put_host(nlh, NFSEC_POL_A_SRC, net);
	net->destroy(net);
	mnl_attr_put_u8(nlh, NFSEC_POL_A_SRC_PLEN, *splen);
	d->to_subnet(d, &net, dplen);
	put_host(nlh, NFSEC_POL_A_DST, net);
	net->destroy(net);
	mnl_attr_put_u8(nlh, NFSEC_POL_A_DST_PLEN, *dplen);
	if (proto)
		mnl_attr_put_u8(nlh, NFSEC_POL_A_PROTO, proto);
	if (sport)
		mnl_attr_put_u16(nlh, NFSEC_POL_A_SPORT, sport);
	if (dport)
		mnl_attr_put_u16(nlh, NFSEC_POL_A_DPORT, dport);
	return TRUE;
}

static void put_action(struct nlmsghdr *nlh, policy_user_t *user)
{
	switch (user->type) {
	case POLICY_PASS:
		mnl_attr_put_u8(nlh, NFSEC_POL_A_ACTION, NFSEC_ACTION_BYPASS);
		return;
	case POLICY_DROP:
		mnl_attr_put_u8(nlh, NFSEC_POL_A_ACTION, NFSEC_ACTION_DISCARD);
		return;
	case POLICY_IPSEC:
		break;
	}
	/*
	 * An IPsec policy without a reqid (charon's FWD policies with
	 * policies_fwd_out) lets traffic pass, as XFRM's template-less
	 * ALLOW does.
	 */
	if (!user->reqid) {
		mnl_attr_put_u8(nlh, NFSEC_POL_A_ACTION, NFSEC_ACTION_BYPASS);
		return;
	}
	mnl_attr_put_u8(nlh, NFSEC_POL_A_ACTION, NFSEC_ACTION_PROTECT);
	mnl_attr_put_u32(nlh, NFSEC_POL_A_SA_REQID, user->reqid);
	mnl_attr_put_u8(nlh, NFSEC_POL_A_SA_PROTO, user->proto);
	mnl_attr_put_u8(nlh, NFSEC_POL_A_SA_MODE, user->mode == MODE_TUNNEL ?
			NFSEC_MODE_TUNNEL : NFSEC_MODE_TRANSPORT);
	/* (a wildcard trap policy, peer %any, names no address) */
	if (user->dst->is_anyaddr(user->dst))
		return;
	mnl_attr_put_u16(nlh, NFSEC_POL_A_SA_FAMILY,
			 user->dst->get_family(user->dst));
	put_host(nlh, NFSEC_POL_A_SA_DST, user->dst);
	if (!user->src->is_anyaddr(user->src))
		put_host(nlh, NFSEC_POL_A_SA_SRC, user->src);
}

/* POLICY_ADD, _UPDATE (with USER) or _DEL (without) for an entry. */
static int policy_request(private_kernel_nfsec_ipsec_t *this, uint8_t cmd,
			  kernel_ipsec_policy_id_t *id, uint32_t prio,
			  policy_user_t *user)
{
	uint8_t buf[NFSEC_GENL_BUF];
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	uint8_t splen, dplen;
	char msg[256];
	int err;

	nlh = nfsec_genl_msg(&this->nl, buf, cmd);
	nest = mnl_attr_nest_start(nlh, NFSEC_A_POLICY);
	if (!put_selector(nlh, id, &splen, &dplen))
		return -EOPNOTSUPP;
	mnl_attr_put_u32(nlh, NFSEC_POL_A_PRIORITY, prio);
	if (user)
		put_action(nlh, user);
	mnl_attr_nest_end(nlh, nest);
	err = request(this, nlh, NULL, NULL, msg, sizeof(msg));
	if (err)
		DBG1(DBG_KNL, "kernel-nfsec: unable to %s policy %R === %R %N: %s",
		     cmd == NFSEC_CMD_POLICY_DEL ? "delete" :
		     cmd == NFSEC_CMD_POLICY_ADD ? "add" : "update",
		     id->src_ts, id->dst_ts, policy_dir_names, id->dir,
		     err_text(err, msg));
	return err;
}

static bool policy_supported(kernel_ipsec_policy_id_t *id,
			     kernel_ipsec_manage_policy_t *data)
{
	const char *what = NULL;

	if (id->mark.value || id->mark.mask)
		what = "marks";
	else if (id->if_id)
		what = "interface IDs (XFRM interfaces)";
	else if (id->interface)
		what = "policies bound to an interface";
	else if (id->label)
		what = "security labels";
	else if (data->type == POLICY_IPSEC && data->sa->ipcomp.transform)
		what = "IPComp";
	else if (data->type == POLICY_IPSEC && data->sa->esp.use &&
		 data->sa->ah.use)
		what = "AH and ESP bundles";
	else if (data->type == POLICY_IPSEC && data->sa->mode != MODE_TUNNEL &&
		 data->sa->mode != MODE_TRANSPORT)
		what = "modes other than tunnel and transport";
	if (what)
		DBG1(DBG_KNL, "kernel-nfsec: policy %R === %R %N refused: nfsec "
		     "does not support %s", id->src_ts, id->dst_ts,
		     policy_dir_names, id->dir, what);
	return !what;
}

static bool entry_match(policy_entry_t *entry, kernel_ipsec_policy_id_t *id,
			uint32_t prio)
{
	return entry->dir == id->dir && entry->priority == prio &&
	       entry->src_ts->equals(entry->src_ts, id->src_ts) &&
	       entry->dst_ts->equals(entry->dst_ts, id->dst_ts);
}

static policy_entry_t *entry_find(private_kernel_nfsec_ipsec_t *this,
				  kernel_ipsec_policy_id_t *id, uint32_t prio)
{
	enumerator_t *e;
	policy_entry_t *entry, *found = NULL;

	e = this->policies->create_enumerator(this->policies);
	while (e->enumerate(e, &entry)) {
		if (entry_match(entry, id, prio)) {
			found = entry;
			break;
		}
	}
	e->destroy(e);
	return found;
}

static uint32_t id_priority(kernel_ipsec_policy_id_t *id,
			    kernel_ipsec_manage_policy_t *data)
{
	host_t *net;
	uint8_t splen, dplen;

	id->src_ts->to_subnet(id->src_ts, &net, &splen);
	net->destroy(net);
	id->dst_ts->to_subnet(id->dst_ts, &net, &dplen);
	net->destroy(net);
	return priority(id, data, splen, dplen);
}

METHOD(kernel_ipsec_t, add_policy, status_t,
	private_kernel_nfsec_ipsec_t *this, kernel_ipsec_policy_id_t *id,
	kernel_ipsec_manage_policy_t *data)
{
	policy_entry_t *entry;
	policy_user_t *user, *top;
	uint32_t prio;
	int err = 0, users = 0;

	if (!policy_supported(id, data))
		return NOT_SUPPORTED;
	prio = id_priority(id, data);
	INIT(user,
		.type = data->type,
		.reqid = data->sa->reqid,
		.mode = data->sa->mode,
		.proto = data->sa->ah.use ? IPPROTO_AH : IPPROTO_ESP,
		.src = data->src->clone(data->src),
		.dst = data->dst->clone(data->dst),
	);

	this->mutex->lock(this->mutex);
	entry = entry_find(this, id, prio);
	if (!entry) {
		err = policy_request(this, NFSEC_CMD_POLICY_ADD, id, prio, user);
		/* left by an earlier charon (killed): take it over */
		if (err == -EEXIST)
			err = policy_request(this, NFSEC_CMD_POLICY_UPDATE, id,
					     prio, user);
		if (!err) {
			INIT(entry,
				.dir = id->dir,
				.src_ts = id->src_ts->clone(id->src_ts),
				.dst_ts = id->dst_ts->clone(id->dst_ts),
				.priority = prio,
				.users = linked_list_create(),
			);
			this->policies->insert_last(this->policies, entry);
		}
	} else if (entry->users->get_first(entry->users, (void **)&top) ==
		   SUCCESS && !user_equals(top, user)) {
		err = policy_request(this, NFSEC_CMD_POLICY_UPDATE, id, prio,
				     user);
	}
	if (!err) {
		entry->users->insert_first(entry->users, user);
		users = entry->users->get_count(entry->users);
		route_update(this, entry, user);
	}
	this->mutex->unlock(this->mutex);
	if (err) {
		user_destroy(user);
		return FAILED;
	}
	DBG2(DBG_KNL, "kernel-nfsec: policy %R === %R %N reqid %u priority %u, "
	     "%d users", id->src_ts, id->dst_ts, policy_dir_names, id->dir,
	     data->sa->reqid, prio, users);
	return SUCCESS;
}

METHOD(kernel_ipsec_t, query_policy, status_t,
	private_kernel_nfsec_ipsec_t *this, kernel_ipsec_policy_id_t *id,
	kernel_ipsec_query_policy_t *data, time_t *use_time)
{
	/* nfsec keeps no last-use time per policy: charon then asks the SAs */
	return NOT_SUPPORTED;
}

METHOD(kernel_ipsec_t, del_policy, status_t,
	private_kernel_nfsec_ipsec_t *this, kernel_ipsec_policy_id_t *id,
	kernel_ipsec_manage_policy_t *data)
{
	policy_user_t want = {
		.type = data->type,
		.reqid = data->sa->reqid,
		.mode = data->sa->mode,
		.proto = data->sa->ah.use ? IPPROTO_AH : IPPROTO_ESP,
		.src = data->src,
		.dst = data->dst,
	};
	policy_entry_t *entry;
	policy_user_t *user, *top;
	enumerator_t *e;
	bool was_top = TRUE, found = FALSE;
	uint32_t prio;
	int err = 0;

	if (!policy_supported(id, data))
		return NOT_SUPPORTED;
	prio = id_priority(id, data);
	this->mutex->lock(this->mutex);
	entry = entry_find(this, id, prio);
	if (!entry) {
		this->mutex->unlock(this->mutex);
		DBG1(DBG_KNL, "kernel-nfsec: policy %R === %R %N not found",
		     id->src_ts, id->dst_ts, policy_dir_names, id->dir);
		return NOT_FOUND;
	}
	e = entry->users->create_enumerator(entry->users);
	while (e->enumerate(e, &user)) {
		if (user_equals(user, &want)) {
			entry->users->remove_at(entry->users, e);
			user_destroy(user);
			found = TRUE;
			break;
		}
		was_top = FALSE;
	}
	e->destroy(e);
	if (!found) {
		/*
		 * charon deletes the policies of a CHILD_SA whose install
		 * failed half way: those it never installed belong to others
		 * (kernel-netlink, too, leaves them alone).
		 */
		this->mutex->unlock(this->mutex);
		DBG2(DBG_KNL, "kernel-nfsec: policy %R === %R %N not installed "
		     "for reqid %u, kept", id->src_ts, id->dst_ts,
		     policy_dir_names, id->dir, data->sa->reqid);
		return SUCCESS;
	}
	if (entry->users->get_count(entry->users) == 0) {
		err = policy_request(this, NFSEC_CMD_POLICY_DEL, id, prio, NULL);
		route_del(entry);
		this->policies->remove(this->policies, entry, NULL);
		entry_destroy(entry);
	} else if (was_top &&
		   entry->users->get_first(entry->users, (void **)&top) ==
		   SUCCESS && !user_equals(top, &want)) {
		err = policy_request(this, NFSEC_CMD_POLICY_UPDATE, id, prio,
				     top);
		route_update(this, entry, top);
	}
	this->mutex->unlock(this->mutex);
	return err && err != -ENOENT ? FAILED : SUCCESS;
}

static int bypass_request(private_kernel_nfsec_ipsec_t *this, uint8_t cmd,
			  int family, uint16_t port, uint8_t dir);

METHOD(kernel_ipsec_t, flush_policies, status_t,
	private_kernel_nfsec_ipsec_t *this)
{
	policy_entry_t *entry;
	bypass_entry_t *b;
	enumerator_t *e;
	status_t status;

	this->mutex->lock(this->mutex);
	status = flush(this, NFSEC_CMD_POLICY_FLUSH);
	while (this->policies->remove_first(this->policies,
					    (void **)&entry) == SUCCESS) {
		route_del(entry);
		entry_destroy(entry);
	}
	/* IKE keeps its bypass, as XFRM's socket policies survive a flush */
	e = this->bypass->create_enumerator(this->bypass);
	while (e->enumerate(e, &b)) {
		bypass_request(this, NFSEC_CMD_POLICY_ADD, b->family, b->port,
			       NFSEC_DIR_OUT);
		bypass_request(this, NFSEC_CMD_POLICY_ADD, b->family, b->port,
			       NFSEC_DIR_IN);
	}
	e->destroy(e);
	this->mutex->unlock(this->mutex);
	return status;
}

/* --- IKE sockets --------------------------------------------------------- */

/*
 * nfsec has no per-socket policies: IKE passes by port. Outbound from our
 * port, inbound to it, before every other policy (see Documentation/
 * netlink.md, "Bypass for the key-exchange daemon").
 */
static int bypass_request(private_kernel_nfsec_ipsec_t *this, uint8_t cmd,
			  int family, uint16_t port, uint8_t dir)
{
	uint8_t buf[NFSEC_GENL_BUF], any[16] = {};
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	char msg[256];
	int err;

	nlh = nfsec_genl_msg(&this->nl, buf, cmd);
	nest = mnl_attr_nest_start(nlh, NFSEC_A_POLICY);
	mnl_attr_put_u8(nlh, NFSEC_POL_A_DIR, dir);
	mnl_attr_put_u16(nlh, NFSEC_POL_A_FAMILY, family);
	mnl_attr_put(nlh, NFSEC_POL_A_SRC, family == AF_INET ? 4 : 16, any);
	mnl_attr_put_u8(nlh, NFSEC_POL_A_SRC_PLEN, 0);
	mnl_attr_put(nlh, NFSEC_POL_A_DST, family == AF_INET ? 4 : 16, any);
	mnl_attr_put_u8(nlh, NFSEC_POL_A_DST_PLEN, 0);
	mnl_attr_put_u8(nlh, NFSEC_POL_A_PROTO, IPPROTO_UDP);
	mnl_attr_put_u16(nlh, dir == NFSEC_DIR_OUT ? NFSEC_POL_A_SPORT :
			 NFSEC_POL_A_DPORT, port);
	mnl_attr_put_u32(nlh, NFSEC_POL_A_PRIORITY, PRIO_IKE_BYPASS);
	if (cmd == NFSEC_CMD_POLICY_ADD)
		mnl_attr_put_u8(nlh, NFSEC_POL_A_ACTION, NFSEC_ACTION_BYPASS);
	mnl_attr_nest_end(nlh, nest);
	err = request(this, nlh, NULL, NULL, msg, sizeof(msg));
	if (err == -EEXIST)
		err = 0;
	if (err)
		DBG1(DBG_KNL, "kernel-nfsec: unable to %s the bypass policy for "
		     "UDP port %u: %s", cmd == NFSEC_CMD_POLICY_ADD ? "add" :
		     "delete", port, err_text(err, msg));
	return err;
}

METHOD(kernel_ipsec_t, bypass_socket, bool,
	private_kernel_nfsec_ipsec_t *this, int fd, int family)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	bypass_entry_t *b;
	uint16_t port;
	int err;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		DBG1(DBG_KNL, "kernel-nfsec: unable to read the IKE socket's "
		     "port: %s", strerror(errno));
		return FALSE;
	}
	port = ntohs(family == AF_INET ?
		     ((struct sockaddr_in *)&ss)->sin_port :
		     ((struct sockaddr_in6 *)&ss)->sin6_port);
	this->mutex->lock(this->mutex);
	err = bypass_request(this, NFSEC_CMD_POLICY_ADD, family, port,
			     NFSEC_DIR_OUT);
	if (!err)
		err = bypass_request(this, NFSEC_CMD_POLICY_ADD, family, port,
				     NFSEC_DIR_IN);
	if (!err) {
		INIT(b, .family = family, .port = port);
		this->bypass->insert_last(this->bypass, b);
	}
	this->mutex->unlock(this->mutex);
	if (!err)
		DBG2(DBG_KNL, "kernel-nfsec: IKE on UDP port %u (%s) bypasses "
		     "IPsec", port, family == AF_INET ? "IPv4" : "IPv6");
	return !err;
}

METHOD(kernel_ipsec_t, enable_udp_decap, bool,
	private_kernel_nfsec_ipsec_t *this, int fd, int family, uint16_t port)
{
	/*
	 * nfsec takes ESP in UDP for the port of each inbound ENCAP SA ahead
	 * of the socket, which keeps receiving IKE (non-ESP marker): the
	 * socket needs no UDP_ENCAP option.
	 */
	DBG2(DBG_KNL, "kernel-nfsec: ESP in UDP on port %u is nfsec's", port);
	return TRUE;
}

/* --- events ----------------------------------------------------------------- */

static void event_expire(const struct nlattr **tb)
{
	const struct nlattr *sa[NFSEC_SA_A_MAX + 1];
	uint8_t kind, proto;
	uint32_t spi;
	host_t *dst;
	int family;

	nfsec_genl_nest(tb[NFSEC_A_SA], sa, NFSEC_SA_A_MAX);
	if (!sa[NFSEC_SA_A_FAMILY] || !sa[NFSEC_SA_A_SPI] ||
	    !sa[NFSEC_SA_A_PROTO] || !sa[NFSEC_SA_A_EXPIRE])
		return;
	family = mnl_attr_get_u16(sa[NFSEC_SA_A_FAMILY]);
	dst = get_host(family, sa[NFSEC_SA_A_DST], 0);
	if (!dst)
		return;
	spi = mnl_attr_get_u32(sa[NFSEC_SA_A_SPI]);
	proto = mnl_attr_get_u8(sa[NFSEC_SA_A_PROTO]);
	kind = mnl_attr_get_u8(sa[NFSEC_SA_A_EXPIRE]);
	/* out of sequence numbers: the SA sends no more, a rekey helps */
	DBG1(DBG_KNL, "kernel-nfsec: %s expire for SA with SPI %.8x",
	     kind == NFSEC_EXPIRE_HARD ? "hard" :
	     kind == NFSEC_EXPIRE_SOFT ? "soft" : "sequence", ntohl(spi));
	charon->kernel->expire(charon->kernel, proto, spi, dst,
			       kind == NFSEC_EXPIRE_HARD);
	dst->destroy(dst);
}

static traffic_selector_t *flow_ts(const struct nlattr **flow, uint16_t a,
				   uint16_t p, int family)
{
	uint16_t port = flow[p] ? mnl_attr_get_u16(flow[p]) : 0;
	uint8_t proto = flow[NFSEC_FLOW_A_PROTO] ?
			mnl_attr_get_u8(flow[NFSEC_FLOW_A_PROTO]) : 0;
	chunk_t addr = chunk_create(mnl_attr_get_payload(flow[a]),
				    mnl_attr_get_payload_len(flow[a]));

	return traffic_selector_create_from_bytes(proto,
			family == AF_INET ? TS_IPV4_ADDR_RANGE : TS_IPV6_ADDR_RANGE,
			addr, port ? port : 0, addr, port ? port : 0xffff);
}

static void event_acquire(const struct nlattr **tb)
{
	const struct nlattr *pol[NFSEC_POL_A_MAX + 1];
	const struct nlattr *flow[NFSEC_FLOW_A_MAX + 1];
	kernel_acquire_data_t data = {};
	uint32_t reqid;
	int family;

	nfsec_genl_nest(tb[NFSEC_A_POLICY], pol, NFSEC_POL_A_MAX);
	nfsec_genl_nest(tb[NFSEC_A_FLOW], flow, NFSEC_FLOW_A_MAX);
	if (!pol[NFSEC_POL_A_SA_REQID] || !flow[NFSEC_FLOW_A_FAMILY] ||
	    !flow[NFSEC_FLOW_A_SRC] || !flow[NFSEC_FLOW_A_DST])
		return;
	reqid = mnl_attr_get_u32(pol[NFSEC_POL_A_SA_REQID]);
	family = mnl_attr_get_u16(flow[NFSEC_FLOW_A_FAMILY]);
	data.src = flow_ts(flow, NFSEC_FLOW_A_SRC, NFSEC_FLOW_A_SPORT, family);
	data.dst = flow_ts(flow, NFSEC_FLOW_A_DST, NFSEC_FLOW_A_DPORT, family);
	if (!data.src || !data.dst) {
		DESTROY_IF(data.src);
		DESTROY_IF(data.dst);
		return;
	}
	DBG1(DBG_KNL, "kernel-nfsec: acquire for reqid %u, %R === %R", reqid,
	     data.src, data.dst);
	charon->kernel->acquire(charon->kernel, reqid, &data);
	DESTROY_IF(data.src);
	DESTROY_IF(data.dst);
}

static void event_mapping(const struct nlattr **tb)
{
	const struct nlattr *sa[NFSEC_SA_A_MAX + 1];
	const struct nlattr *map[NFSEC_MAP_A_MAX + 1];
	host_t *dst, *remote;
	uint32_t spi;
	int family;

	nfsec_genl_nest(tb[NFSEC_A_SA], sa, NFSEC_SA_A_MAX);
	nfsec_genl_nest(tb[NFSEC_A_MAPPING], map, NFSEC_MAP_A_MAX);
	if (!sa[NFSEC_SA_A_FAMILY] || !sa[NFSEC_SA_A_SPI] ||
	    !sa[NFSEC_SA_A_PROTO] || !map[NFSEC_MAP_A_NEW_PORT])
		return;
	family = mnl_attr_get_u16(sa[NFSEC_SA_A_FAMILY]);
	spi = mnl_attr_get_u32(sa[NFSEC_SA_A_SPI]);
	dst = get_host(family, sa[NFSEC_SA_A_DST], 0);
	remote = get_host(family, map[NFSEC_MAP_A_NEW_ADDR],
			  mnl_attr_get_u16(map[NFSEC_MAP_A_NEW_PORT]));
	if (dst && remote) {
		DBG1(DBG_KNL, "kernel-nfsec: NAT mapping of SA with SPI %.8x "
		     "changed to %#H", ntohl(spi), remote);
		charon->kernel->mapping(charon->kernel,
					mnl_attr_get_u8(sa[NFSEC_SA_A_PROTO]),
					spi, dst, remote);
	}
	DESTROY_IF(dst);
	DESTROY_IF(remote);
}

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	private_kernel_nfsec_ipsec_t *this = data;
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[NFSEC_A_MAX + 1];

	/* nfsec's events only, whole headers */
	if (nlh->nlmsg_type != this->events.family ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*genl))
		return MNL_CB_OK;
	nfsec_genl_attrs(nlh, tb, NFSEC_A_MAX);
	switch (genl->cmd) {
	case NFSEC_CMD_SA_EXPIRE:
		event_expire(tb);
		break;
	case NFSEC_CMD_ACQUIRE:
		event_acquire(tb);
		break;
	case NFSEC_CMD_MAPPING:
		event_mapping(tb);
		break;
	default:	/* SA and policy changes: our own doing */
		break;
	}
	return MNL_CB_OK;
}

CALLBACK(receive_events, bool,
	private_kernel_nfsec_ipsec_t *this, int fd, watcher_event_t event)
{
	uint8_t buf[NFSEC_GENL_BUF * 2];
	struct sockaddr_nl from = {};
	socklen_t from_len = sizeof(from);
	ssize_t len;

	len = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
		       (struct sockaddr *)&from, &from_len);
	if (len >= 0 && from.nl_pid) {	/* not the kernel's */
		explicit_bzero(buf, sizeof(buf));
		return TRUE;
	}
	if (len < 0) {
		if (errno == ENOBUFS)
			DBG1(DBG_KNL, "kernel-nfsec: events lost (socket buffer "
			     "full), consider a larger rmem_max");
		else if (errno != EAGAIN && errno != EINTR)
			DBG1(DBG_KNL, "kernel-nfsec: unable to read events: %s",
			     strerror(errno));
		return TRUE;
	}
	mnl_cb_run(buf, len, 0, 0, event_cb, this);
	explicit_bzero(buf, sizeof(buf));
	return TRUE;
}

/* --- life -------------------------------------------------------------------- */

METHOD(kernel_ipsec_t, get_features, kernel_feature_t,
	private_kernel_nfsec_ipsec_t *this)
{
	/*
	 * Not ESP_V3_TFC: charon then tells peers not to pad. Not
	 * NO_POLICY_UPDATES: policies name their SAs' addresses. Not
	 * POLICY_SPI: policies name SAs by reqid.
	 */
	return 0;
}

METHOD(kernel_ipsec_t, destroy, void,
	private_kernel_nfsec_ipsec_t *this)
{
	bypass_entry_t *b;

	if (this->events.sock) {
		lib->watcher->remove(lib->watcher,
				     mnl_socket_get_fd(this->events.sock));
		nfsec_genl_close(&this->events);
	}
	if (this->nl.sock) {
		while (this->bypass->remove_first(this->bypass, (void **)&b) ==
		       SUCCESS) {
			bypass_request(this, NFSEC_CMD_POLICY_DEL, b->family,
				       b->port, NFSEC_DIR_OUT);
			bypass_request(this, NFSEC_CMD_POLICY_DEL, b->family,
				       b->port, NFSEC_DIR_IN);
			free(b);
		}
		nfsec_genl_close(&this->nl);
	}
	this->policies->destroy_function(this->policies, (void *)entry_destroy);
	this->bypass->destroy_function(this->bypass, free);
	this->mutex->destroy(this->mutex);
	free(this);
}

kernel_nfsec_ipsec_t *kernel_nfsec_ipsec_create(void)
{
	private_kernel_nfsec_ipsec_t *this;
	uint32_t spi_min, spi_max;
	int err;

	INIT(this,
		.public = {
			.interface = {
				.get_features = _get_features,
				.get_spi = _get_spi,
				.get_cpi = _get_cpi,
				.add_sa = _add_sa,
				.update_sa = _update_sa,
				.query_sa = _query_sa,
				.del_sa = _del_sa,
				.flush_sas = _flush_sas,
				.add_policy = _add_policy,
				.query_policy = _query_policy,
				.del_policy = _del_policy,
				.flush_policies = _flush_policies,
				.bypass_socket = _bypass_socket,
				.enable_udp_decap = _enable_udp_decap,
				.destroy = _destroy,
			},
		},
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.policies = linked_list_create(),
		.bypass = linked_list_create(),
	);

	spi_min = lib->settings->get_int(lib->settings, "%s.spi_min",
					 KERNEL_SPI_MIN, lib->ns);
	spi_max = lib->settings->get_int(lib->settings, "%s.spi_max",
					 KERNEL_SPI_MAX, lib->ns);
	this->spi_min = max(min(spi_min, spi_max), (uint32_t)NFSEC_SPI_ALLOC_MIN);
	this->spi_max = max(spi_min, spi_max);
	this->install_routes = lib->settings->get_bool(lib->settings,
				"%s.install_routes", TRUE, lib->ns);

	err = nfsec_genl_open(&this->nl, FALSE);
	if (!err)
		err = nfsec_genl_open(&this->events, TRUE);
	if (err) {
		DBG1(DBG_KNL, "kernel-nfsec: unable to reach the nfsec module "
		     "(generic netlink family \"%s\"): %s", NFSEC_GENL_NAME,
		     strerror(-err));
		destroy(this);
		return NULL;
	}
	lib->watcher->add(lib->watcher, mnl_socket_get_fd(this->events.sock),
			  WATCHER_READ, receive_events, this);
	DBG1(DBG_KNL, "kernel-nfsec: IPsec SAs and policies go to nfsec");
	return &this->public;
}
