// SPDX-License-Identifier: GPL-2.0
/*
 * The inbound path. A LOCAL_IN hook per family (after reassembly, which for
 * IPv6 nf_defrag_ipv6 does before routing, and after the filter table, so
 * INPUT rules see the ESP packet) takes ESP addressed to this host
 * for SPIs nfsec owns: replay pre-check, decrypt and verify, replay commit,
 * trailer check, decapsulation, the inbound policy check, and the packet
 * enters the stack again on nfsec0. ESP for other SPIs is left to the rest of
 * the stack (XFRM may run beside nfsec).
 *
 * ESP in UDP (RFC 3948) comes the same way: a UDP datagram to a port that
 * an inbound ENCAP SA takes is examined before any socket sees it. A NAT
 * keepalive is consumed, IKE (the non-ESP marker) goes on to its socket,
 * and ESP loses its UDP header and is then plain ESP, its source port
 * remembered: once it authenticates, encap.c hears where it came from.
 *
 * The same hook, and one at FORWARD, drop cleartext that an IN or FWD
 * protect policy says must have arrived protected (RFC 4301 5.2).
 */

#include "nfsec.h"

#include <crypto/aead.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/udp.h>
#include <net/addrconf.h>
#include <net/dsfield.h>
#include <net/esp.h>
#include <net/inet_ecn.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/netfilter/ipv6/nf_defrag_ipv6.h>
#include <net/route.h>

static u8 family_of(const struct sk_buff *skb)
{
	return skb->protocol == htons(ETH_P_IP) ? AF_INET : AF_INET6;
}

/*
 * RFC 6040 4.2: the inner ECN field after decapsulation from an outer
 * header whose DS field was @outer, either family; false to drop.
 */
static bool ecn_decap(u8 outer, struct sk_buff *skb)
{
	bool v4 = family_of(skb) == AF_INET;
	u8 inner = v4 ? ipv4_get_dsfield(ip_hdr(skb)) :
			ipv6_get_dsfield(ipv6_hdr(skb));

	if (!INET_ECN_is_ce(outer))
		return true;
	if (INET_ECN_is_not_ect(inner))
		return false;
	if (v4)
		IP_ECN_set_ce(ip_hdr(skb));
	else
		IP6_ECN_set_ce(skb, ipv6_hdr(skb));
	return true;
}

/* Is the packet's destination this host (IN), or will it be routed (FWD)? */
static u8 inbound_dir(struct net *net, const struct nfsec_flow *flow)
{
	if (flow->family == AF_INET)
		return inet_addr_type(net, flow->dst.ip) == RTN_UNICAST ?
		       NFSEC_DIR_FWD : NFSEC_DIR_IN;
	return ipv6_addr_is_multicast(&flow->dst.ip6) ||
	       ipv6_chk_addr(net, &flow->dst.ip6, NULL, 0) ?
	       NFSEC_DIR_IN : NFSEC_DIR_FWD;
}

/*
 * The decapsulated packet must match the selector of an inbound policy
 * (IN when it is for this host, FWD when it will be forwarded) that names
 * the SA it came through, by SPI or by reqid (RFC 4301 5.2 step 4).
 */
static bool policy_ok(struct nfsec_sa *sa, struct sk_buff *skb)
{
	struct nfsec_net *nn = sa->nn;
	struct nfsec_policy *pol;
	struct nfsec_flow flow;

	if (!nfsec_flow_from_skb(skb, family_of(skb), &flow))
		return false;
	pol = nfsec_spd_lookup(nn, inbound_dir(nn->net, &flow), &flow);
	return pol && pol->action == NFSEC_ACTION_PROTECT &&
	       nfsec_policy_accepts(pol, sa);
}

/* The counter for a replay verdict other than OK. */
static int replay_drop_reason(enum nfsec_replay_verdict v)
{
	return v == NFSEC_REPLAY_OLD ? NFSEC_SA_REPLAY_OLD : NFSEC_SA_REPLAY;
}

/*
 * One decrypted packet on its way through input_finish()'s stages. A
 * stage that fails has dropped the packet and counted why.
 */
struct esp_in {
	struct nfsec_sa *sa;
	struct sk_buff *skb;
	unsigned int ihl;	/* the headers in front of ESP */
	unsigned int clen;	/* ciphertext: payload, padding, trailer */
	u8 proto;		/* the trailer's next header */
};

static bool in_drop(struct esp_in *in, int why)
{
	nfsec_sa_drop(in->sa, in->skb, why);
	return false;
}

static bool in_malformed(struct esp_in *in)
{
	nfsec_counter_inc(in->sa->nn->counters, NFSEC_NET_MALFORMED);
	kfree_skb(in->skb);
	return false;
}

/* The length of the AH header at @ihl by its own word (RFC 4302 2.2). */
static unsigned int ah_hlen(const struct sk_buff *skb, unsigned int ihl)
{
	return (skb->data[ihl + 1] + 2) * 4;
}

/*
 * Bytes in front of the payload: outer IP headers, ESP header and IV, or
 * the AH header.
 */
static unsigned int in_hlen(const struct esp_in *in)
{
	if (in->sa->id.proto == IPPROTO_AH)
		return in->ihl + ah_hlen(in->skb, in->ihl);
	return in->ihl + sizeof(struct ip_esp_hdr) + in->sa->ivlen;
}

/*
 * Stage 1, the crypto's verdict, then the replay window: the sequence
 * number is committed only now that the ICV verified (RFC 4303 3.4.3).
 */
static bool in_verified(struct esp_in *in, int err, u64 seq)
{
	enum nfsec_replay_verdict v;

	if (err == -EBADMSG)
		return in_drop(in, NFSEC_SA_ICV_FAIL);
	if (err)
		return in_drop(in, nfsec_crypto_drop_reason(err));
	v = nfsec_replay_commit(in->sa->replay, seq);
	if (v != NFSEC_REPLAY_OK)
		return in_drop(in, replay_drop_reason(v));
	return true;
}

/*
 * Stage 2, the trailer (RFC 4303 2.4-2.6): pad length within the payload,
 * pad bytes 1, 2, 3..., next header; a dummy packet ends here. Then the
 * trailer and the ICV are cut off.
 */
static bool in_trailer(struct esp_in *in)
{
	struct sk_buff *skb = in->skb;
	u8 trailer[NFSEC_ESP_TRAILER_BYTES], pad[NFSEC_ESP_PAD_MAX_BYTES];
	unsigned int tail = skb->len - in->sa->icvlen - sizeof(trailer);
	u8 padlen;
	int i;

	if (skb_copy_bits(skb, tail, trailer, sizeof(trailer)))
		return in_drop(in, NFSEC_SA_BAD_TRAILER);
	padlen = trailer[0];
	in->proto = trailer[1];
	if (padlen + sizeof(trailer) > in->clen ||
	    skb_copy_bits(skb, tail - padlen, pad, padlen))
		return in_drop(in, NFSEC_SA_BAD_TRAILER);
	for (i = 0; i < padlen; i++)
		if (pad[i] != i + 1)
			return in_drop(in, NFSEC_SA_BAD_TRAILER);
	if (in->proto == IPPROTO_NONE)	/* RFC 4303 2.6: dummy packet */
		return in_drop(in, NFSEC_SA_DUMMY);
	if (pskb_trim(skb, tail - padlen))
		return in_drop(in, NFSEC_SA_NO_BUFFER);
	return true;
}

/*
 * Stage 2: what the packet carries, as ESP's trailer or AH's header says
 * (AH's was pulled into the linear part before the ICV was computed).
 */
static bool in_payload(struct esp_in *in)
{
	if (in->sa->id.proto == IPPROTO_ESP)
		return in_trailer(in);
	in->proto = ((struct ip_auth_hdr *)(in->skb->data + in->ihl))->nexthdr;
	return true;
}

/* The inner packet's length by its IPv4 header, 0 if malformed. */
static unsigned int inner_len4(struct sk_buff *skb)
{
	const struct iphdr *iph;

	if (!pskb_may_pull(skb, sizeof(*iph)))
		return 0;
	iph = ip_hdr(skb);
	if (iph->version != 4 || iph->ihl < 5 ||
	    ntohs(iph->tot_len) > skb->len ||
	    ntohs(iph->tot_len) < iph->ihl * 4 ||
	    !pskb_may_pull(skb, iph->ihl * 4))
		return 0;
	return ntohs(ip_hdr(skb)->tot_len);
}

/* The same by its IPv6 header (a jumbogram has no place in a tunnel). */
static unsigned int inner_len6(struct sk_buff *skb)
{
	const struct ipv6hdr *ip6;
	unsigned int len;

	if (!pskb_may_pull(skb, sizeof(*ip6)))
		return 0;
	ip6 = ipv6_hdr(skb);
	len = sizeof(*ip6) + ntohs(ip6->payload_len);
	if (ip6->version != 6 || !ip6->payload_len || len > skb->len)
		return 0;
	return len;
}

/*
 * Tunnel mode: the inner packet, a whole IPv4 or IPv6 packet as the
 * trailer's next header says, is what remains.
 */
static bool tunnel_decap(struct esp_in *in)
{
	struct sk_buff *skb = in->skb;
	u8 outer = in->sa->id.family == AF_INET ?
		   ipv4_get_dsfield(ip_hdr(skb)) :
		   ipv6_get_dsfield(ipv6_hdr(skb));
	unsigned int len;

	if (in->proto != IPPROTO_IPIP && in->proto != IPPROTO_IPV6)
		return in_drop(in, NFSEC_SA_BAD_TRAILER);
	skb_pull(skb, in_hlen(in));
	skb_reset_network_header(skb);
	if (in->proto == IPPROTO_IPIP) {
		skb->protocol = htons(ETH_P_IP);
		len = inner_len4(skb);
	} else {
		skb->protocol = htons(ETH_P_IPV6);
		len = inner_len6(skb);
	}
	if (!len)
		return in_malformed(in);
	if (pskb_trim(skb, len))
		return in_drop(in, NFSEC_SA_NO_BUFFER);
	if (!ecn_decap(outer, skb))
		return in_malformed(in);
	return true;
}

/*
 * Transport mode: the headers in front of ESP move up over ESP header and
 * IV, and the last of them names what ESP carried.
 */
static bool transport_decap(struct esp_in *in)
{
	struct sk_buff *skb = in->skb;
	unsigned int gap = in_hlen(in) - in->ihl;
	struct nfsec_ip6_walk w;
	struct iphdr *iph;

	if (in->sa->id.family == AF_INET6 && !nfsec_ip6_walk(skb, &w))
		return in_malformed(in);	/* (ipsec_rcv() walked it) */
	memmove(skb->data + gap, skb->data, in->ihl);
	skb_pull(skb, gap);
	skb_reset_network_header(skb);
	if (in->sa->id.family == AF_INET6) {
		skb_network_header(skb)[w.nhoff] = in->proto;
		ipv6_hdr(skb)->payload_len =
			htons(skb->len - sizeof(struct ipv6hdr));
		return true;
	}
	iph = ip_hdr(skb);
	iph->protocol = in->proto;
	iph->tot_len = htons(skb->len);
	ip_send_check(iph);
	return true;
}

/* Stage 3, decapsulation by mode. */
static bool in_decap(struct esp_in *in)
{
	if (in->sa->mode == NFSEC_MODE_TUNNEL)
		return tunnel_decap(in);
	return transport_decap(in);
}

/*
 * Stage 4, the inbound policy (RFC 4301 5.2), and the SA's lifetime, which
 * the packet counts against.
 */
static bool in_policy(struct esp_in *in)
{
	if (!policy_ok(in->sa, in->skb))
		return in_drop(in, NFSEC_SA_POLICY);
	if (!nfsec_sa_account(in->sa, in->skb->len)) {
		kfree_skb(in->skb);	/* counted as expired */
		return false;
	}
	return true;
}

/* Stage 5, delivery: the packet enters the stack again on nfsec0. */
static void deliver(struct esp_in *in)
{
	struct sk_buff *skb = in->skb;

	/* (skb->protocol: the outer family's, or tunnel_decap()'s) */
	skb_scrub_packet(skb, false);
	/*
	 * The ICV covered the inner packet as its sender made it: its
	 * checksums need no second check (WireGuard does the same).
	 */
	skb->ip_summed = CHECKSUM_UNNECESSARY;
	skb->csum_level = ~0;
	nfsec_device_receive(in->sa->nn, skb);
}

/*
 * ESP in UDP that authenticated and was no replay: where it came from, its
 * outer source and @sport, is where the peer is now (encap.c).
 */
static void peer_seen(struct esp_in *in, __be16 sport)
{
	union nfsec_addr saddr = {};

	if (in->sa->id.family == AF_INET)
		saddr.ip = ip_hdr(in->skb)->saddr;
	else
		saddr.ip6 = ipv6_hdr(in->skb)->saddr;
	nfsec_encap_seen(in->sa, &saddr, sport);
}

/*
 * After decryption (AH: the hash), here, from the completion, or back from
 * the next CPU (spread.c): verify, strip, deliver.
 */
void nfsec_input_finish(struct nfsec_crypt *c, int err)
{
	struct esp_in in = {
		.sa = c->sa,
		.skb = c->skb,
		.ihl = c->esp_off,
		.clen = c->clen,
	};
	__be16 sport = c->encap_sport;
	u64 seq = c->seq;

	if (!err && in.sa->id.proto == IPPROTO_AH && !nfsec_ah_icv_ok(c))
		err = -EBADMSG;
	nfsec_esp_req_free(c);		/* c is gone: only the copies above */
	if (!in_verified(&in, err, seq))
		goto out;
	if (sport)
		peer_seen(&in, sport);
	if (in_payload(&in) && in_decap(&in) && in_policy(&in))
		deliver(&in);
out:
	nfsec_crypt_end(in.sa);
}

/* ESP: the request that decrypts the packet, its ESP header at @ihl. */
static struct nfsec_crypt *esp_request(struct nfsec_sa *sa,
				       struct sk_buff *skb, unsigned int ihl,
				       int nfrags)
{
	struct ip_esp_hdr *esph = (struct ip_esp_hdr *)(skb->data + ihl);
	struct nfsec_crypt *c;

	if (!nfsec_esp_req_alloc(sa, &c, nfrags))
		return NULL;
	c->clen = skb->len - ihl - sizeof(*esph) - sa->ivlen - sa->icvlen;
	memcpy(c->iv, esph->enc_data, sa->ivlen);
	return c;
}

/* Runs the request: ESP's decryption, or AH's hash. */
static bool in_crypt(struct nfsec_crypt *c)
{
	unsigned int off = c->esp_off;

	if (c->sa->id.proto == IPPROTO_AH)
		return nfsec_ah_crypt(c, false);
	return nfsec_esp_crypt(c, ((struct ip_esp_hdr *)(c->skb->data + off))->spi,
			       off + sizeof(struct ip_esp_hdr), c->clen, false);
}

/*
 * Runs a made request, here or on the next CPU (spread.c); consumes it, its
 * packet and its SA reference. False: it could not run, and was dropped
 * here; true: c->finish() has it, now or later.
 */
bool nfsec_input_crypt(struct nfsec_crypt *c)
{
	struct nfsec_sa *sa = c->sa;
	struct sk_buff *skb = c->skb;

	if (in_crypt(c))
		return true;
	nfsec_esp_req_free(c);
	if (sa->id.proto == IPPROTO_AH) {
		/* (AH: the headers the ICV covers could not be read) */
		nfsec_counter_inc(sa->nn->counters, NFSEC_NET_MALFORMED);
		kfree_skb(skb);
	} else {
		nfsec_sa_drop(sa, skb, NFSEC_SA_NO_BUFFER);
	}
	/* (last: on the next CPU, only the count holds the namespace) */
	nfsec_crypt_end(sa);
	return false;
}

/*
 * Decrypts one ESP packet of @sa, or hashes one AH packet, its ESP or AH
 * header at @ihl (ESP that came in UDP: from @sport, else 0); consumes the
 * packet and the reference. @shared: the packet was a clone when the hook
 * got it (a pull since may have made its head private, not its pages).
 */
static void esp_input(struct nfsec_sa *sa, struct sk_buff *skb, u64 seq,
		      unsigned int ihl, __be16 sport, bool shared)
{
	struct sk_buff *trailer;
	struct nfsec_crypt *c;
	int nfrags, why = NFSEC_SA_NO_BUFFER;

	/*
	 * Decrypted (or hashed) in place: a packet of our own, whose pages
	 * nobody shares, as it is; anything else first made private by
	 * skb_cow_data(): decapsulation writes the headers.
	 */
	if (!shared && !skb_cloned(skb) && !skb_has_frag_list(skb) &&
	    !skb_has_shared_frag(skb))
		nfrags = 1 + skb_shinfo(skb)->nr_frags;
	else
		nfrags = skb_cow_data(skb, 0, &trailer);
	/* Crypto may complete later: the route must outlive this hook. */
	if (nfrags < 0 || !skb_dst_force(skb))
		goto drop;
	why = NFSEC_SA_BACKLOG;
	if (!nfsec_inflight_get(sa))
		goto drop;
	why = NFSEC_SA_NO_BUFFER;
	c = sa->id.proto == IPPROTO_AH ?
	    nfsec_ah_req_alloc(sa, nfrags, ihl + ah_hlen(skb, ihl)) :
	    esp_request(sa, skb, ihl, nfrags);
	if (!c)
		goto drop_inflight;
	c->finish = nfsec_input_finish;
	c->skb = skb;
	c->sa = sa;
	c->seq = seq;
	c->esp_off = ihl;
	c->encap_sport = sport;
	if (!nfsec_spread(c))
		nfsec_input_crypt(c);
	return;
drop_inflight:
	nfsec_inflight_put(sa);
drop:
	nfsec_sa_drop(sa, skb, why);
	nfsec_sa_put(sa);
}

/* The packet's outer addresses, in an SA id and @saddr. */
static void outer_addrs(const struct sk_buff *skb, struct nfsec_sa_id *id,
			union nfsec_addr *saddr)
{
	if (id->family == AF_INET) {
		id->daddr.ip = ip_hdr(skb)->daddr;
		saddr->ip = ip_hdr(skb)->saddr;
	} else {
		id->daddr.ip6 = ipv6_hdr(skb)->daddr;
		saddr->ip6 = ipv6_hdr(skb)->saddr;
	}
}

/*
 * Does the packet hold its SA's whole header? ESP: header, IV, and
 * ciphertext of whole blocks (RFC 4303 2.4); AH: the header as long as
 * the SA's ICV makes it (RFC 4302 2.2), in the linear part. Over IPv4
 * AH may also come padded to 64 bits, as Linux XFRM sends it unless
 * told otherwise (its "align4" flag); the padding is covered as it came.
 */
static bool whole(const struct nfsec_sa *sa, struct sk_buff *skb,
		  unsigned int ihl)
{
	unsigned int len;
	int payload;

	if (sa->id.proto == IPPROTO_AH) {
		len = ah_hlen(skb, ihl);
		return (len == nfsec_ah_len(sa) ||
			(sa->id.family == AF_INET &&
			 len == ALIGN(NFSEC_AH_FIXED_BYTES + sa->icvlen, 8))) &&
		       pskb_may_pull(skb, ihl + len);
	}
	payload = skb->len - ihl - sizeof(struct ip_esp_hdr) - sa->ivlen -
		  sa->icvlen;
	return payload >= 2 && !(payload % sa->blksize) &&
	       pskb_may_pull(skb, ihl + sizeof(struct ip_esp_hdr) + sa->ivlen);
}

/* ESP in UDP on its way in: where its UDP header is, and its ports. */
struct encap_rx {
	unsigned int off;	/* the UDP header */
	unsigned int nhoff;	/* IPv6: the next-header byte that names it */
	__be16 sport, dport;
};

/*
 * Takes the UDP header out (RFC 3948 3.1.2, 3.2.2): the headers in front
 * of it move up, and the packet is plain ESP from here on.
 */
static bool udp_strip(struct sk_buff *skb, u8 family,
		      const struct encap_rx *rx)
{
	struct iphdr *iph;

	if (skb_ensure_writable(skb, rx->off + NFSEC_UDP_BYTES))
		return false;
	memmove(skb->data + NFSEC_UDP_BYTES, skb->data, rx->off);
	__skb_pull(skb, NFSEC_UDP_BYTES);
	skb_reset_network_header(skb);
	skb_set_transport_header(skb, rx->off);
	if (family == AF_INET6) {
		skb_network_header(skb)[rx->nhoff] = IPPROTO_ESP;
		ipv6_hdr(skb)->payload_len =
			htons(skb->len - sizeof(struct ipv6hdr));
		return true;
	}
	iph = ip_hdr(skb);
	iph->protocol = IPPROTO_ESP;
	iph->tot_len = htons(skb->len);
	ip_send_check(iph);
	return true;
}

/*
 * ESP with or without UDP (@rx) must meet an SA that has it alike, on the
 * SA's port.
 */
static bool encap_fits(const struct nfsec_sa *sa, const struct encap_rx *rx)
{
	if (!rx)
		return !sa->encap.type;
	return sa->encap.type == NFSEC_ENCAP_UDP &&
	       sa->encap.dport == ntohs(rx->dport);
}

/*
 * An ESP or AH (@proto) packet for this host, of @family, its ESP or AH
 * header at @ihl; ESP in UDP with @rx. Returns NF_STOLEN when nfsec took
 * it, NF_ACCEPT when it is not for one of our SAs, NF_DROP when malformed.
 */
static unsigned int ipsec_rcv(struct nfsec_net *nn, struct sk_buff *skb,
			      u8 family, unsigned int ihl, u8 proto,
			      const struct encap_rx *rx)
{
	/* the SPI and the sequence number: ESP's first, AH's behind 4 bytes */
	unsigned int off = ihl + (proto == IPPROTO_AH ?
				  NFSEC_AH_SPI_OFF_BYTES : 0);
	bool shared = skb_cloned(skb);	/* before any pull */
	enum nfsec_replay_verdict verdict;
	struct nfsec_sa_id id = {};
	union nfsec_addr saddr;
	struct nfsec_sa *sa;
	const __be32 *w;
	u64 seq;

	if (!pskb_may_pull(skb, off + 2 * sizeof(*w))) {
		nfsec_counter_inc(nn->counters, NFSEC_NET_MALFORMED);
		return NF_DROP;
	}
	w = (const __be32 *)(skb->data + off);
	id.spi = w[0];
	id.proto = proto;
	id.family = family;
	outer_addrs(skb, &id, &saddr);
	sa = nfsec_sa_lookup(nn, &id);
	/* (a larval entry, an SPI reserved by alloc-spi, has no direction) */
	if (!sa || sa->dir != NFSEC_DIR_IN) {
		nfsec_counter_inc(nn->counters, NFSEC_NET_NO_SA);
		return NF_ACCEPT;
	}
	if (!encap_fits(sa, rx)) {
		nfsec_counter_inc(nn->counters, NFSEC_NET_BAD_ENCAP);
		return NF_DROP;
	}
	/*
	 * Transport mode: the packet keeps its outer addresses, which ESP
	 * does not authenticate. The destination chose the SA; the source
	 * must be the SA's peer, or anyone on the path could re-send the
	 * packet from another address the inbound policy allows. With both
	 * fixed, the inner checksums' pseudo-header is the one the sender
	 * computed, so they need no second check after the ICV. (AH covers
	 * the addresses; the same rule holds for it.)
	 */
	if (sa->mode == NFSEC_MODE_TRANSPORT &&
	    memcmp(&saddr, &sa->saddr, family == AF_INET ? 4 : 16)) {
		nfsec_counter_inc(sa->counters, NFSEC_SA_POLICY);
		return NF_DROP;
	}
	if (!whole(sa, skb, ihl)) {
		nfsec_counter_inc(nn->counters, NFSEC_NET_MALFORMED);
		return NF_DROP;
	}
	w = (const __be32 *)(skb->data + off);	/* (pulled again) */
	verdict = nfsec_replay_check(sa->replay, ntohl(w[1]),
				     sa->flags & NFSEC_SA_F_ESN, &seq);
	if (verdict != NFSEC_REPLAY_OK) {
		nfsec_counter_inc(sa->counters, replay_drop_reason(verdict));
		return NF_DROP;
	}
	if (!nfsec_sa_get(sa))
		return NF_DROP;
	/* The ESP packet ends here; its conntrack entry is not confirmed. */
	nf_reset_ct(skb);
	if (rx) {
		if (!udp_strip(skb, family, rx)) {
			nfsec_sa_drop(sa, skb, NFSEC_SA_NO_BUFFER);
			nfsec_sa_put(sa);
			return NF_STOLEN;
		}
		nfsec_counter_inc(nn->counters, NFSEC_NET_ENCAP_IN);
		ihl -= NFSEC_UDP_BYTES;
	}
	esp_input(sa, skb, seq, ihl, rx ? rx->sport : 0, shared);
	return NF_STOLEN;
}

/* RFC 3948 2.2: IKE's datagrams on the port begin with four zero bytes. */
static const u8 non_esp_marker[4];

/*
 * A UDP datagram for this host, its UDP header at @off (IPv6: named at
 * @nhoff). On a port that an inbound ENCAP SA takes (RFC 3948 2): a NAT
 * keepalive is consumed, a datagram with the non-ESP marker goes on to
 * its socket, and anything else is ESP for nfsec or dropped. Returns
 * NF_ACCEPT for what is not nfsec's.
 */
static unsigned int udp_rcv(struct nfsec_net *nn, struct sk_buff *skb,
			    u8 family, unsigned int off, unsigned int nhoff)
{
	struct encap_rx rx = { .off = off, .nhoff = nhoff };
	const struct udphdr *uh;
	struct udphdr _uh;
	unsigned int len;
	const u8 *p;
	u8 _p[4];

	uh = skb_header_pointer(skb, off, sizeof(_uh), &_uh);
	if (!uh || !nfsec_encap_port(nn, ntohs(uh->dest)))
		return NF_ACCEPT;
	rx.sport = uh->source;
	rx.dport = uh->dest;
	len = skb->len - off;
	/*
	 * One datagram: not UDP GRO's train of them (a socket with UDP_GRO
	 * on the port would ask for that), and over IPv6 with a checksum,
	 * which it may not leave out (RFC 8200 8.1). The checksum itself is
	 * not checked: ESP's ICV covers what matters, and IKE's datagrams
	 * meet UDP's own check at the socket.
	 */
	if (skb_is_gso(skb) || ntohs(uh->len) != len || len <= sizeof(*uh) ||
	    (family == AF_INET6 && !uh->check))
		goto bad;
	len -= sizeof(*uh);
	p = skb_header_pointer(skb, off + sizeof(*uh), min(len, 4U), _p);
	if (!p)
		goto bad;
	if (len == 1 && p[0] == 0xff) {		/* RFC 3948 2.3 */
		nfsec_counter_inc(nn->counters, NFSEC_NET_KEEPALIVE_IN);
		consume_skb(skb);
		return NF_STOLEN;
	}
	if (len >= sizeof(non_esp_marker) &&
	    !memcmp(p, non_esp_marker, sizeof(non_esp_marker))) {
		nfsec_counter_inc(nn->counters, NFSEC_NET_NON_ESP);
		return NF_ACCEPT;
	}
	/* an SPI and a sequence number at least (RFC 3948 2.1) */
	if (len < sizeof(struct ip_esp_hdr))
		goto bad;
	/* (no SA: counted NO_SA; ESP on the port is no socket's either) */
	if (ipsec_rcv(nn, skb, family, off + sizeof(*uh), IPPROTO_ESP,
		      &rx) == NF_STOLEN)
		return NF_STOLEN;
	return NF_DROP;
bad:
	nfsec_counter_inc(nn->counters, NFSEC_NET_BAD_ENCAP);
	return NF_DROP;
}

/* Cleartext on its way in or through: does a protect policy forbid it? */
static unsigned int cleartext_check(struct nfsec_net *nn, struct sk_buff *skb,
				    u8 family, u8 dir)
{
	struct nfsec_policy *pol;
	struct nfsec_flow flow;

	if (list_empty(&nn->spd[dir - 1]))
		return NF_ACCEPT;
	if (!nfsec_flow_from_skb(skb, family, &flow)) {
		nfsec_counter_inc(nn->counters, NFSEC_NET_MALFORMED);
		return NF_DROP;
	}
	pol = nfsec_spd_lookup(nn, dir, &flow);
	if (!pol || pol->action == NFSEC_ACTION_BYPASS)
		return NF_ACCEPT;
	nfsec_counter_inc(nn->counters, pol->action == NFSEC_ACTION_DISCARD ?
			  NFSEC_NET_DISCARD : NFSEC_NET_CLEARTEXT);
	return NF_DROP;
}

/*
 * Received on nfsec0: decapsulated by input_finish(). The stack's own
 * loopback of a multicast or broadcast packet routed out of nfsec0 also
 * arrives there, as PACKET_LOOPBACK: that one was never ESP.
 */
static bool decapsulated(const struct nfsec_net *nn, const struct sk_buff *skb,
			 const struct nf_hook_state *state)
{
	return state->in == nn->dev && skb->pkt_type != PACKET_LOOPBACK;
}

static unsigned int local_in_hook(void *priv, struct sk_buff *skb,
				  const struct nf_hook_state *state)
{
	struct nfsec_net *nn = nfsec_pernet(state->net);
	unsigned int verdict;

	if (decapsulated(nn, skb, state))
		return NF_ACCEPT;	/* checked against its policy already */
	switch (ip_hdr(skb)->protocol) {
	case IPPROTO_ESP:
	case IPPROTO_AH:
		verdict = ipsec_rcv(nn, skb, AF_INET, ip_hdrlen(skb),
				    ip_hdr(skb)->protocol, NULL);
		if (verdict != NF_ACCEPT)
			return verdict;
		break;
	case IPPROTO_UDP:
		verdict = udp_rcv(nn, skb, AF_INET, ip_hdrlen(skb), 0);
		if (verdict != NF_ACCEPT)
			return verdict;
		break;
	case IPPROTO_ICMP:
		nfsec_pmtu_icmp(nn, skb);
		break;
	}
	return cleartext_check(nn, skb, AF_INET, NFSEC_DIR_IN);
}

/*
 * IPv6: ESP behind the extension headers that precede it. Fragments were
 * reassembled before routing (nf_defrag_ipv6); a fragment header still
 * there belongs to a packet the stack will drop, and it meets the SPD as
 * cleartext of protocol ESP.
 */
static unsigned int local_in_hook6(void *priv, struct sk_buff *skb,
				   const struct nf_hook_state *state)
{
	struct nfsec_net *nn = nfsec_pernet(state->net);
	struct nfsec_ip6_walk w;
	unsigned int verdict;

	if (decapsulated(nn, skb, state))
		return NF_ACCEPT;
	if (!nfsec_ip6_walk(skb, &w))
		goto check;	/* (which counts it malformed) */
	/*
	 * A routing header with segments left: this host is a waypoint,
	 * not the destination, and nothing behind that header is for it
	 * yet. The stack processes the header and the packet comes back,
	 * here at its last segment or through FORWARD, to be checked then.
	 */
	if (w.routed)
		return NF_ACCEPT;
	if ((w.proto == IPPROTO_ESP || w.proto == IPPROTO_AH) && !w.fragment) {
		verdict = ipsec_rcv(nn, skb, AF_INET6, w.off, w.proto, NULL);
		if (verdict != NF_ACCEPT)
			return verdict;
	} else if (w.proto == IPPROTO_UDP && !w.fragment) {
		verdict = udp_rcv(nn, skb, AF_INET6, w.off, w.nhoff);
		if (verdict != NF_ACCEPT)
			return verdict;
	} else if (w.proto == IPPROTO_ICMPV6 && !w.fragment) {
		nfsec_pmtu_icmp6(nn, skb, w.off);
	}
check:
	return cleartext_check(nn, skb, AF_INET6, NFSEC_DIR_IN);
}

static unsigned int forward_hook(void *priv, struct sk_buff *skb,
				 const struct nf_hook_state *state)
{
	struct nfsec_net *nn = nfsec_pernet(state->net);

	if (decapsulated(nn, skb, state))
		return NF_ACCEPT;
	return cleartext_check(nn, skb, state->pf == NFPROTO_IPV4 ?
			       AF_INET : AF_INET6, NFSEC_DIR_FWD);
}

static const struct nf_hook_ops input_ops[] = {
	{
		.hook = local_in_hook,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_LOCAL_IN,
		.priority = NF_IP_PRI_FILTER + 1,
	},
	{
		.hook = forward_hook,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_FORWARD,
		.priority = NF_IP_PRI_FILTER + 1,
	},
	{
		.hook = local_in_hook6,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_LOCAL_IN,
		.priority = NF_IP6_PRI_FILTER + 1,
	},
	{
		.hook = forward_hook,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_FORWARD,
		.priority = NF_IP6_PRI_FILTER + 1,
	},
};

int nfsec_input_init(struct net *net)
{
	int err = 0;

	/* (IPv6 disabled at boot: no IPv6 packet and no IPv6 SA) */
	if (ipv6_mod_enabled())
		err = nf_defrag_ipv6_enable(net);
	if (err)
		return err;
	err = nf_register_net_hooks(net, input_ops, ARRAY_SIZE(input_ops));
	if (err && ipv6_mod_enabled())
		nf_defrag_ipv6_disable(net);
	return err;
}

void nfsec_input_uninit(struct net *net)
{
	nf_unregister_net_hooks(net, input_ops, ARRAY_SIZE(input_ops));
	if (ipv6_mod_enabled())
		nf_defrag_ipv6_disable(net);
}
