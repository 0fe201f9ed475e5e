// SPDX-License-Identifier: GPL-2.0
/*
 * AH (RFC 4302) pieces shared by both directions: the per-packet hash
 * request and what its ICV covers.
 *
 * The ICV is an HMAC (ahash transform, truncated) over
 *
 *   sg[0]      a copy of the IP header, IPv6's extension headers before
 *              AH, and the AH header, mutable fields zeroed (our buffer)
 *   sg[1..]    what follows the AH header (the packet, read only)
 *   sg[last]   ESN only: the high 32 bits of the sequence number
 *              (RFC 4302 3.3.3.1, appendix B)
 *
 * Zeroed in the copy, so that the ICV survives what routers may change
 * (RFC 4302 3.3.3.1, appendix A): IPv4's TOS, flags and fragment offset,
 * TTL and header checksum, and its mutable options whole (all but EOL,
 * NOP, the security options, router alert and SDMDD; a source route is
 * seen as at its destination: the destination address is the route's
 * last); IPv6's traffic class, flow label and hop limit, and the data of
 * each option whose type says it may change en route (0x20); a routing
 * header (types 0 and 2) as its destination will see it; and the ICV
 * field itself. AH's padding (IPv6: to 64 bits) is covered as sent.
 */

#include "nfsec.h"

#include <crypto/algapi.h>
#include <crypto/hash.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/scatterlist.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <net/ip.h>
#include <net/ipv6.h>

/* Where a request's parts lie in its space (request.c), and its length. */
struct ah_layout {
	unsigned int reqoff, icvoff, sgoff, len;
};

static void ah_layout(struct crypto_ahash *tfm, int nfrags,
		      unsigned int hdr_len, struct ah_layout *l)
{
	unsigned int hdroff;

	l->reqoff = ALIGN(sizeof(struct nfsec_crypt),
			  crypto_tfm_ctx_alignment());
	l->icvoff = ALIGN(l->reqoff + sizeof(struct ahash_request) +
			  crypto_ahash_reqsize(tfm),
			  crypto_tfm_ctx_alignment());
	hdroff = l->icvoff + max_t(unsigned int, crypto_ahash_digestsize(tfm),
				   NFSEC_AH_ICV_MAX_BYTES);
	l->sgoff = ALIGN(hdroff + hdr_len, __alignof__(struct scatterlist));
	l->len = l->sgoff + (nfrags + 2) * sizeof(struct scatterlist);
}

unsigned int nfsec_ah_req_len(const struct nfsec_sa *sa, int nfrags,
			      unsigned int hdr_len)
{
	struct ah_layout l;

	ah_layout(sa->ahash_tfm, nfrags, hdr_len, &l);
	return l.len;
}

/*
 * The request, its digest and the header copy in one space, with @nfrags
 * scatterlist entries for the packet, one for the copy and one for an
 * ESN's high half. @hdr_len: the IP headers and the AH header.
 */
struct nfsec_crypt *nfsec_ah_req_alloc(struct nfsec_sa *sa, int nfrags,
				       unsigned int hdr_len)
{
	struct nfsec_crypt *c;
	struct ah_layout l;

	ah_layout(sa->ahash_tfm, nfrags, hdr_len, &l);
	c = nfsec_req_alloc(sa, l.len);
	if (!c)
		return NULL;
	c->hreq = (void *)c + l.reqoff;
	c->iv = (u8 *)c + l.icvoff;
	c->sg = (void *)c + l.sgoff;
	c->put_n = 0;
	c->clen = hdr_len;
	ahash_request_set_tfm(c->hreq, sa->ahash_tfm);
	sg_init_table(c->sg, nfrags + 2);
	return c;
}

/* The header copy: after it in the allocation, before the scatterlist. */
static u8 *hdr_copy(const struct nfsec_crypt *c)
{
	return (u8 *)c->iv + max_t(unsigned int,
				   crypto_ahash_digestsize(c->sa->ahash_tfm),
				   NFSEC_AH_ICV_MAX_BYTES);
}

/* IPv4 options that no router changes (RFC 4302 A.1); others are zeroed. */
static bool opt4_immutable(u8 type)
{
	switch (type) {
	case IPOPT_END:
	case IPOPT_NOOP:
	case IPOPT_SEC:
	case 133:		/* extended security */
	case 134:		/* commercial security */
	case IPOPT_RA:
	case 149:		/* sender directed multi-destination delivery */
		return true;
	}
	return false;
}

/*
 * The length of the option at @i of a type-length-value list that ends
 * at @end (IPv4's options, whose length byte counts the whole option;
 * IPv6's, whose counts its data: @hdr 0 or 2), @pad the one-byte option;
 * 0 when it overruns the list.
 */
static unsigned int opt_len(const u8 *h, unsigned int i, unsigned int end,
			    u8 pad, unsigned int hdr)
{
	unsigned int len;

	if (h[i] == pad)
		return 1;
	if (i + 1 >= end)
		return 0;
	len = h[i + 1] + hdr;
	return len < 2 || len > end - i ? 0 : len;
}

/*
 * IPv4: the header @h of @ihl bytes as AH sees it. @out: a source route's
 * last address is the destination the receiver's header will show.
 */
static bool mutable4(u8 *h, unsigned int ihl, bool out)
{
	struct iphdr *iph = (struct iphdr *)h;
	unsigned int i, len;

	iph->tos = 0;
	iph->frag_off = 0;
	iph->ttl = 0;
	iph->check = 0;
	for (i = sizeof(*iph); i < ihl && h[i] != IPOPT_END; i += len) {
		len = opt_len(h, i, ihl, IPOPT_NOOP, 0);
		if (!len)
			return false;
		if (opt4_immutable(h[i]))
			continue;
		if (out && (h[i] == IPOPT_LSRR || h[i] == IPOPT_SSRR) &&
		    len >= 3 + 4)
			memcpy(&iph->daddr, h + i + len - 4, 4);
		memset(h + i, 0, len);
	}
	return true;
}

/* IPv6 options (RFC 8200 4.2): the data of those that may change zeroed. */
static bool mutable6_opts(u8 *h, unsigned int end)
{
	unsigned int i, len;

	for (i = 2; i < end; i += len) {
		len = opt_len(h, i, end, IPV6_TLV_PAD1, 2);
		if (!len)
			return false;
		if (len > 1 && h[i] & 0x20)	/* may change en route */
			memset(h + i + 2, 0, len - 2);
	}
	return true;
}

/*
 * A routing header of type 0 or 2 (RFC 8200 4.4, RFC 6275 6.4) as its
 * destination will see it: segments left 0, the destination the last
 * address, the addresses visited in its place. Another type with
 * segments left cannot be predicted: false.
 */
static bool final_route6(u8 *h, struct ipv6hdr *ip6)
{
	struct in6_addr *a = (struct in6_addr *)(h + 8), dst;
	unsigned int n = h[1] / 2, left = h[3], i;

	if (!left)
		return true;
	if ((h[2] != 0 && h[2] != 2) || left > n)
		return false;
	dst = a[n - 1];
	for (i = n - 1; i > n - left; i--)
		a[i] = a[i - 1];
	a[n - left] = ip6->daddr;
	ip6->daddr = dst;
	h[3] = 0;
	return true;
}

/* IPv6: the header and extension headers @h of @ihl bytes as AH sees them */
static bool mutable6(u8 *h, unsigned int ihl, bool out)
{
	struct ipv6hdr *ip6 = (struct ipv6hdr *)h;
	unsigned int off = sizeof(*ip6), n, len;
	u8 next = ip6->nexthdr;

	ip6_flow_hdr(ip6, 0, 0);
	ip6->hop_limit = 0;
	for (n = 0; off < ihl && n < NFSEC_EXTHDR_MAX; n++) {
		if (off + 2 > ihl)
			return false;
		len = ipv6_optlen((struct ipv6_opt_hdr *)(h + off));
		if (off + len > ihl)
			return false;
		switch (next) {
		case NEXTHDR_HOP:
		case NEXTHDR_DEST:
			if (!mutable6_opts(h + off, len))
				return false;
			break;
		case NEXTHDR_ROUTING:
			/* (inbound, a routing header always has none left) */
			if (out && !final_route6(h + off, ip6))
				return false;
			break;
		default:
			return false;
		}
		next = h[off];
		off += len;
	}
	return off == ihl && next == IPPROTO_AH;
}

/*
 * Hashes the packet as RFC 4302 3.3.3 says, from the header copy and the
 * packet: the digest goes to c->iv and c->finish gets the result, here or
 * from the completion callback. @out: the packet is ours, on its way out
 * (a source route is then seen from its end). Returns false, having run
 * nothing, when the headers cannot be read or mapped.
 */
bool nfsec_ah_crypt(struct nfsec_crypt *c, bool out)
{
	struct sk_buff *skb = c->skb;
	struct nfsec_sa *sa = c->sa;
	unsigned int ihl = c->esp_off, hlen = c->clen;
	struct scatterlist *sg = c->sg;
	u8 *h = hdr_copy(c);
	int n, err;
	bool ok;

	if (skb_copy_bits(skb, 0, h, hlen))
		return false;
	ok = sa->id.family == AF_INET ? mutable4(h, ihl, out) :
					mutable6(h, ihl, out);
	if (!ok)
		return false;
	memset(h + ihl + NFSEC_AH_FIXED_BYTES, 0, sa->icvlen);
	sg_set_buf(sg, h, hlen);
	n = skb_to_sgvec(skb, sg + 1, hlen, skb->len - hlen);
	if (n < 0)
		return false;
	if (sa->flags & NFSEC_SA_F_ESN) {
		if (n)
			sg_unmark_end(&sg[n]);
		c->aad[0] = htonl(upper_32_bits(c->seq));
		sg_set_buf(&sg[++n], c->aad, sizeof(c->aad[0]));
	}
	sg_mark_end(&sg[n]);

	/* (no backlog, as for ESP: nfsec_esp_submit() says why) */
	ahash_request_set_callback(c->hreq, 0, nfsec_crypt_done, c);
	ahash_request_set_crypt(c->hreq, sg, c->iv,
				skb->len + (sa->flags & NFSEC_SA_F_ESN ?
					    sizeof(c->aad[0]) : 0));
	err = crypto_ahash_digest(c->hreq);
	if (err != -EINPROGRESS)
		c->finish(c, err);
	return true;
}

static u8 *icv_field(const struct nfsec_crypt *c)
{
	return c->skb->data + c->esp_off + NFSEC_AH_FIXED_BYTES;
}

/* Outbound: the ICV, truncated, into the AH header. */
void nfsec_ah_icv_put(struct nfsec_crypt *c)
{
	memcpy(icv_field(c), c->iv, c->sa->icvlen);
}

/* Inbound: does the packet's ICV match the one computed? */
bool nfsec_ah_icv_ok(const struct nfsec_crypt *c)
{
	return !crypto_memneq(icv_field(c), c->iv, c->sa->icvlen);
}
