// SPDX-License-Identifier: GPL-2.0
/*
 * kernel-nfsec: charon's kernel_ipsec_t over nfsec's generic netlink (the
 * files: kernel_nfsec.h). This one: SPIs (larval entries), SAs and the
 * requests every file sends.
 *
 * charon negotiates; kernel-nfsec installs what it negotiated and hands
 * nfsec's events back. Translation only: charon's transform IDs to crypto
 * API names, lifetimes to nfsec's soft and hard limits, UDP encapsulation
 * to nfsec's ENCAP nest.
 */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/genetlink.h>

#include "kernel_nfsec.h"

/* Larval entries last as long as XFRM's acquire state. */
#define SPI_TIMEOUT		165

const char *nfsec_err_text(int err, const char *msg)
{
	return msg[0] ? msg : strerror(-err);
}

/* --- requests -------------------------------------------------------------- */

int nfsec_request(private_kernel_nfsec_ipsec_t *this, struct nlmsghdr *nlh,
		   mnl_cb_t cb, void *data, char *msg, size_t len)
{
	return nfsec_genl_request(&this->nl, nlh, cb, data, msg, len);
}

void nfsec_put_host(struct nlmsghdr *nlh, uint16_t type, host_t *host)
{
	chunk_t a = host->get_address(host);

	mnl_attr_put(nlh, type, a.len, a.ptr);
}

host_t *nfsec_get_host(int family, const struct nlattr *attr, uint16_t port)
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
	nfsec_put_host(nlh, NFSEC_SA_A_DST, dst);
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
	nfsec_put_host(nlh, NFSEC_SA_A_SRC, src);
	nfsec_put_host(nlh, NFSEC_SA_A_DST, dst);
	mnl_attr_put_u8(nlh, NFSEC_SA_A_PROTO, protocol);
	mnl_attr_put_u32(nlh, NFSEC_SA_A_SPI_MIN, this->spi_min);
	mnl_attr_put_u32(nlh, NFSEC_SA_A_SPI_MAX, this->spi_max);
	mnl_attr_put_u32(nlh, NFSEC_SA_A_TIMEOUT, SPI_TIMEOUT);
	mnl_attr_nest_end(nlh, nest);
	err = nfsec_request(this, nlh, spi_cb, spi, msg, sizeof(msg));
	this->mutex->unlock(this->mutex);
	if (err || !*spi) {
		DBG1(DBG_KNL, "kernel-nfsec: unable to get an SPI: %s",
		     nfsec_err_text(err, msg));
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
	nfsec_put_host(nlh, NFSEC_SA_A_SRC, id->src);
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
	err = nfsec_request(this, nlh, NULL, NULL, msg, sizeof(msg));
	this->mutex->unlock(this->mutex);
	memwipe(buf, sizeof(buf));
	if (err) {
		DBG1(DBG_KNL, "kernel-nfsec: unable to add SA with SPI %.8x "
		     "(%N): %s", ntohl(id->spi), encryption_algorithm_names,
		     data->enc_alg, nfsec_err_text(err, msg));
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
	err = nfsec_request(this, nlh, sa_get_cb, r, msg, len);
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
	nfsec_put_host(nlh, NFSEC_SA_A_SRC, data->new_src);
	nfsec_put_host(nlh, NFSEC_SA_A_DST, data->new_dst);
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
	err = nfsec_request(this, nlh, NULL, NULL, msg, sizeof(msg));
	memwipe(buf, sizeof(buf));
	if (!err && moved) {
		nlh = nfsec_genl_msg(&this->nl, buf, NFSEC_CMD_SA_DEL);
		nest = mnl_attr_nest_start(nlh, NFSEC_A_SA);
		put_sa_id(nlh, id->dst, id->spi, id->proto);
		mnl_attr_nest_end(nlh, nest);
		nfsec_request(this, nlh, NULL, NULL, NULL, 0);
	}
out:
	this->mutex->unlock(this->mutex);
	memwipe(r, sizeof(*r));
	free(r);
	if (err) {
		DBG1(DBG_KNL, "kernel-nfsec: unable to update SA with SPI %.8x: "
		     "%s", ntohl(id->spi), nfsec_err_text(err, msg));
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
		     "%s", ntohl(id->spi), nfsec_err_text(err, msg));
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
	err = nfsec_request(this, nlh, NULL, NULL, msg, sizeof(msg));
	this->mutex->unlock(this->mutex);
	if (err == -ENOENT) {
		/* a hard expiry deletes it in nfsec first */
		DBG2(DBG_KNL, "kernel-nfsec: SA with SPI %.8x already gone",
		     ntohl(id->spi));
		return NOT_FOUND;
	}
	if (err) {
		DBG1(DBG_KNL, "kernel-nfsec: unable to delete SA with SPI %.8x: "
		     "%s", ntohl(id->spi), nfsec_err_text(err, msg));
		return FAILED;
	}
	DBG2(DBG_KNL, "kernel-nfsec: deleted SA with SPI %.8x", ntohl(id->spi));
	return SUCCESS;
}

status_t nfsec_flush(private_kernel_nfsec_ipsec_t *this, uint8_t cmd)
{
	uint8_t buf[NFSEC_GENL_BUF];
	char msg[256];
	int err;

	err = nfsec_request(this, nfsec_genl_msg(&this->nl, buf, cmd), NULL, NULL,
		      msg, sizeof(msg));
	if (err) {
		DBG1(DBG_KNL, "kernel-nfsec: unable to flush: %s",
		     nfsec_err_text(err, msg));
		return FAILED;
	}
	return SUCCESS;
}

METHOD(kernel_ipsec_t, flush_sas, status_t,
	private_kernel_nfsec_ipsec_t *this)
{
	status_t status;

	this->mutex->lock(this->mutex);
	status = nfsec_flush(this, NFSEC_CMD_SA_FLUSH);
	this->mutex->unlock(this->mutex);
	return status;
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
	if (this->events.sock) {
		lib->watcher->remove(lib->watcher,
				     mnl_socket_get_fd(this->events.sock));
		nfsec_genl_close(&this->events);
	}
	kernel_nfsec_policy_uninit(this);
	nfsec_genl_close(&this->nl);
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
				.destroy = _destroy,
			},
		},
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	kernel_nfsec_policy_init(this);

	spi_min = lib->settings->get_int(lib->settings, "%s.spi_min",
					 KERNEL_SPI_MIN, lib->ns);
	spi_max = lib->settings->get_int(lib->settings, "%s.spi_max",
					 KERNEL_SPI_MAX, lib->ns);
	this->spi_min = max(min(spi_min, spi_max), (uint32_t)NFSEC_SPI_ALLOC_MIN);
	this->spi_max = max(spi_min, spi_max);

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
			  WATCHER_READ, kernel_nfsec_events_receive, this);
	DBG1(DBG_KNL, "kernel-nfsec: IPsec SAs and policies go to nfsec");
	return &this->public;
}
