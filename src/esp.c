// SPDX-License-Identifier: GPL-2.0
/*
 * ESP (RFC 4303) pieces shared by both directions: the per-packet crypto
 * request, and its associated data.
 *
 * Every ESP algorithm nfsec speaks is an AEAD transform of the crypto API
 * (the RFC 4106, 4543 and 7634 modes directly, encryption plus HMAC through
 * authenc or authencesn). The request's scatterlist is
 *
 *   sg[0]      SPI | [seq high, ESN only] | seq low      (our buffer)
 *   sg[1..]    IV | payload | padding | pad length | next header | ICV
 *              (the packet, in place)
 *
 * with assoclen = AAD + IV: the counter modes take the IV as the tail of the
 * associated data and leave it out of the authentication; authenc
 * authenticates it, as RFC 4303 2.3 wants for CBC and CTR with HMAC. With
 * ESN the 12-byte AAD is the layout both rfc4106-style transforms and
 * authencesn expect (RFC 4303 2.2.1, RFC 4106 5).
 */

#include "nfsec.h"

#include <crypto/aead.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>

/* Where a request's parts lie in its space (request.c), and its length. */
struct esp_layout {
	unsigned int reqoff, ivoff, ivmask, sgoff, len;
};

static void esp_layout(struct crypto_aead *tfm, int nfrags,
		       struct esp_layout *l)
{
	/* the IV as the transform wants it aligned, and at least for a u64 */
	l->ivmask = max_t(unsigned int, crypto_aead_alignmask(tfm),
			  __alignof__(u64) - 1);
	l->reqoff = ALIGN(sizeof(struct nfsec_crypt),
			  crypto_tfm_ctx_alignment());
	l->ivoff = l->reqoff + sizeof(struct aead_request) +
		   crypto_aead_reqsize(tfm);
	l->sgoff = ALIGN(l->ivoff + l->ivmask +
			 max_t(unsigned int, crypto_aead_ivsize(tfm),
			       sizeof(u64)),
			 __alignof__(struct scatterlist));
	l->len = l->sgoff + (nfrags + 1) * sizeof(struct scatterlist);
}

unsigned int nfsec_esp_req_len(const struct nfsec_sa *sa, int nfrags)
{
	struct esp_layout l;

	esp_layout(sa->aead_tfm, nfrags, &l);
	return l.len;
}

struct aead_request *nfsec_esp_req_alloc(struct nfsec_sa *sa,
					 struct nfsec_crypt **cp, int nfrags)
{
	struct crypto_aead *tfm = sa->aead_tfm;
	struct nfsec_crypt *c;
	struct esp_layout l;

	esp_layout(tfm, nfrags, &l);
	c = nfsec_req_alloc(sa, l.len);
	if (!c)
		return NULL;
	c->req = (void *)c + l.reqoff;
	c->iv = PTR_ALIGN((u8 *)c + l.ivoff, l.ivmask + 1);
	c->sg = (void *)c + l.sgoff;
	c->put_n = 0;
	aead_request_set_tfm(c->req, tfm);
	sg_init_table(c->sg, nfrags + 1);
	*cp = c;
	return c->req;
}

/* RFC 4303 2.2.1: the AAD is SPI and sequence number, 64 bits of it with ESN */
static unsigned int aad_len(bool esn)
{
	return esn ? NFSEC_ESP_AAD_ESN_BYTES : NFSEC_ESP_AAD_BYTES;
}

/* Fills the AAD and points @sg at it. */
void nfsec_esp_aad(struct nfsec_crypt *c, struct scatterlist *sg,
		   __be32 spi, u64 seq, bool esn)
{
	__be32 *aad = c->aad;

	aad[0] = spi;
	if (esn) {
		aad[1] = htonl(upper_32_bits(seq));
		aad[2] = htonl(lower_32_bits(seq));
	} else {
		aad[1] = htonl(lower_32_bits(seq));
	}
	sg_set_buf(sg, aad, aad_len(esn));
}

/*
 * Fills the AAD and maps the packet from @offset (the IV) for @len bytes
 * into the request. Returns the number of packet scatterlist entries or an
 * error.
 */
static int req_map(struct nfsec_crypt *c, struct sk_buff *skb, __be32 spi,
		   u64 seq, bool esn, int offset, int len)
{
	int n;

	nfsec_esp_aad(c, c->sg, spi, seq, esn);
	n = skb_to_sgvec(skb, c->sg + 1, offset, len);
	if (n < 0)
		return n;
	sg_mark_end(c->sg + n);
	return n;
}

/*
 * Maps the packet from @offset (its IV) into the request and runs it: the
 * ciphertext is @clen bytes, the ICV follows. c->finish gets the result,
 * here or from the completion callback. Returns false, having run
 * nothing, when the packet cannot be mapped.
 */
bool nfsec_esp_crypt(struct nfsec_crypt *c, __be32 spi, int offset,
		     unsigned int clen, bool encrypt)
{
	struct nfsec_sa *sa = c->sa;
	int err;

	err = req_map(c, c->skb, spi, c->seq, sa->flags & NFSEC_SA_F_ESN,
		      offset, sa->ivlen + clen + sa->icvlen);
	if (err < 0)
		return false;
	nfsec_esp_submit(c, c->sg, clen, encrypt);
	return true;
}

/*
 * Crypto completion for either direction, ESP's or AH's: c->finish does
 * the rest.
 */
void nfsec_crypt_done(struct crypto_async_request *base, int err)
{
	struct nfsec_crypt *c = base->data;

	if (err == -EINPROGRESS)
		return;		/* a notice, not the result (a layer's backlog) */
	/*
	 * An asynchronous driver completes outside the hook that submitted
	 * the request, in a worker (cryptd, pcrypt's serial worker) or in
	 * another context: not in the hook's RCU read-side section. The
	 * finish functions look up the SPD and the SA table, and send on:
	 * they need both that section and bottom halves off, as in a hook.
	 */
	local_bh_disable();
	rcu_read_lock();
	c->finish(c, err);
	rcu_read_unlock();
	local_bh_enable();
}

/*
 * Runs the request from c->sg (AAD | IV | data) into @dst, in place when
 * @dst is c->sg: @clen bytes of ciphertext, the ICV after them. c->finish
 * gets the result, here or from the completion callback.
 */
void nfsec_esp_submit(struct nfsec_crypt *c, struct scatterlist *dst,
		      unsigned int clen, bool encrypt)
{
	struct nfsec_sa *sa = c->sa;
	struct aead_request *req = c->req;
	int err;

	/*
	 * No backlog: a full crypto queue drops the packet (-ENOSPC, or
	 * -EBUSY from a driver that says so), counted no_buffer, as IPsec
	 * does under overload; ESP carries datagrams that may be lost. A
	 * backlogged request would also be seen twice by pcrypt's ordering.
	 */
	aead_request_set_callback(req, 0, nfsec_crypt_done, c);
	aead_request_set_ad(req,
			    aad_len(sa->flags & NFSEC_SA_F_ESN) + sa->ivlen);
	aead_request_set_crypt(req, c->sg, dst,
			       encrypt ? clen : clen + sa->icvlen, c->iv);
	err = encrypt ? crypto_aead_encrypt(req) : crypto_aead_decrypt(req);
	if (err != -EINPROGRESS)
		c->finish(c, err);
}

/* Frees the request and the page references its source list held. */
void nfsec_esp_req_free(struct nfsec_crypt *c)
{
	unsigned int i;

	for (i = 0; i < c->put_n; i++)
		put_page(sg_page(&c->sg[c->put_first + i]));
	nfsec_req_free(c);
}

static unsigned int sa_inflight_max = NFSEC_SA_INFLIGHT_DEFAULT;
module_param(sa_inflight_max, uint, 0644);
MODULE_PARM_DESC(sa_inflight_max, "packets of one SA in crypto at once");

static unsigned int net_inflight_max = NFSEC_NET_INFLIGHT_DEFAULT;
module_param(net_inflight_max, uint, 0644);
MODULE_PARM_DESC(net_inflight_max, "packets of one namespace in crypto at once");

bool nfsec_inflight_get(struct nfsec_sa *sa)
{
	struct nfsec_net *nn = sa->nn;

	if (atomic_inc_return(&sa->inflight) > READ_ONCE(sa_inflight_max))
		goto sa_full;
	if (atomic_inc_return(&nn->inflight) > READ_ONCE(net_inflight_max))
		goto net_full;
	return true;
net_full:
	atomic_dec(&nn->inflight);
sa_full:
	atomic_dec(&sa->inflight);
	return false;
}

static void net_inflight_put(struct nfsec_net *nn)
{
	/* (only the address is used once it is 0: exit may free nn) */
	if (atomic_dec_and_test(&nn->inflight))
		wake_up_var(&nn->inflight);
}

void nfsec_inflight_put(struct nfsec_sa *sa)
{
	atomic_dec(&sa->inflight);
	net_inflight_put(sa->nn);
}

/*
 * The end of a packet's crypto: its SA reference goes before the
 * namespace's count does, so that namespace (and module) exit, which waits
 * for the count, comes after the SA's release queued its free.
 */
void nfsec_crypt_end(struct nfsec_sa *sa)
{
	struct nfsec_net *nn = sa->nn;

	atomic_dec(&sa->inflight);
	nfsec_sa_put(sa);
	net_inflight_put(nn);
}

/*
 * Namespace exit, after the hooks are gone (no new packets): waits until
 * no completion can still touch the namespace, its device or the module.
 */
void nfsec_inflight_wait(struct nfsec_net *nn)
{
	wait_var_event(&nn->inflight, !atomic_read(&nn->inflight));
}

/* Drops a packet of @sa, counted under @why. */
void nfsec_sa_drop(struct nfsec_sa *sa, struct sk_buff *skb, int why)
{
	nfsec_counter_inc(sa->counters, why);
	kfree_skb(skb);
}
