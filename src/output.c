// SPDX-License-Identifier: GPL-2.0
/*
 * The outbound path: a POST_ROUTING hook, one per family, sees every packet
 * that leaves the host, locally generated or forwarded, looks it up in the
 * SPD, and for a protect policy applies ESP (RFC 4303) with the policy's SA
 * and sends the result itself. The SA's family is the outer one; in tunnel
 * mode the packet inside may be of the other family.
 *
 * An ENCAP SA's ESP goes in UDP (RFC 3948) between the IP headers and ESP,
 * to where the SA's peer is now (encap.c), its checksum zero over IPv4
 * and computed over IPv6 once the packet is final.
 *
 * The hook runs before source NAT (NF_IP_PRI_NAT_SRC - 1): protected traffic
 * leaves with the addresses its policy names, never rewritten by a
 * masquerade rule meant for the internet. The ESP packet it makes goes
 * through LOCAL_OUT and POST_ROUTING again as a packet of this host.
 */

#include "nfsec.h"

#include <crypto/aead.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/memcontrol.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/udp.h>
#include <net/dsfield.h>
#include <net/esp.h>
#include <net/icmp.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/ip.h>
#include <net/ip6_checksum.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/route.h>
#include <asm/unaligned.h>

/*
 * The SAs whose packets this CPU is handing to ip_local_out() right now,
 * the latest on top. send() pushes and pops with bottom halves off, so
 * nothing else runs on this CPU in between and the output hook, called
 * from inside ip_local_out(), sees its own entry. There is more than one
 * when a packet made on the way (an ICMP error, say) is protected too.
 */
struct sending {
	unsigned int depth;
	const struct nfsec_sa *sa[NFSEC_NEST_MAX];
	union nfsec_addr daddr[NFSEC_NEST_MAX];	/* where its packet goes */
};

static DEFINE_PER_CPU(struct sending, sending);

/* What the SA's packets are on the wire: ESP, AH, or (ESP in) UDP. */
static u8 wire_proto(const struct nfsec_sa *sa)
{
	return sa->encap.type ? IPPROTO_UDP : sa->id.proto;
}

/*
 * Where the SA's packets go: its destination, or where its peer is now
 * (a packet is made for where the peer was when it started).
 */
static void wire_peer(const struct nfsec_sa *sa, union nfsec_addr *daddr,
		      __be16 *dport)
{
	const struct nfsec_peer *peer;

	*daddr = sa->id.daddr;
	*dport = 0;
	if (!sa->encap.type)
		return;
	rcu_read_lock();
	peer = rcu_dereference(sa->peer);
	*daddr = peer->addr;
	*dport = peer->port;
	rcu_read_unlock();
}

/* ESP in UDP of @sa at @off: from its port, with its SPI or a keepalive. */
static bool is_ours_udp(struct sk_buff *skb, unsigned int off,
			const struct nfsec_sa *sa)
{
	struct {
		struct udphdr uh;
		__be32 spi;
	} _h;
	const typeof(_h) *h;

	h = skb_header_pointer(skb, off, sizeof(h->uh) + 1, &_h);
	if (!h || h->uh.source != htons(sa->encap.sport))
		return false;
	if (skb->len - off == sizeof(h->uh) + 1)
		return *(const u8 *)&h->spi == 0xff;
	h = skb_header_pointer(skb, off, sizeof(_h), &_h);
	return h && h->spi == sa->id.spi;
}

/*
 * The packet is the one output_finish() is sending for the SA on top of
 * the stack: an ESP or AH packet with that SA's SPI, to the destination it
 * was made for (ESP in UDP, or a keepalive: from the SA's port). It
 * leaves as it is.
 * Nothing on a packet marks it, so nothing can be forged to skip the SPD:
 * ESP that is forwarded, or sent by anyone else, goes through the SPD like
 * any other packet.
 */
static bool is_ours(struct sk_buff *skb, u8 family)
{
	unsigned int depth = this_cpu_read(sending.depth), off;
	const union nfsec_addr *daddr;
	const struct nfsec_sa *sa;
	struct nfsec_ip6_walk w;
	__be32 _spi;
	const __be32 *spi;
	u8 proto;

	if (!depth)
		return false;
	sa = this_cpu_read(sending.sa[depth - 1]);
	daddr = this_cpu_ptr(&sending.daddr[depth - 1]);
	if (family != sa->id.family)
		return false;
	if (family == AF_INET) {
		if (ip_hdr(skb)->daddr != daddr->ip)
			return false;
		proto = ip_hdr(skb)->protocol;
		off = ip_hdrlen(skb);
	} else {
		if (!ipv6_addr_equal(&ipv6_hdr(skb)->daddr, &daddr->ip6) ||
		    !nfsec_ip6_walk(skb, &w) || w.later)
			return false;
		proto = w.proto;
		off = w.off;
	}
	if (proto != wire_proto(sa))
		return false;
	if (sa->encap.type)
		return is_ours_udp(skb, off, sa);
	/* ESP: the SPI comes first; AH: after next header, length, reserved */
	spi = skb_header_pointer(skb, off + (proto == IPPROTO_AH ? 4 : 0),
				 sizeof(_spi), &_spi);
	return spi && *spi == sa->id.spi;
}

/*
 * The packet came out of ip_local_out() for @sa without being its own
 * ESP (transport mode to an address other than the SA's peer would do
 * that, which the control plane refuses): protecting it with @sa again
 * would recurse without end.
 */
static bool loops(const struct nfsec_sa *sa)
{
	unsigned int depth = this_cpu_read(sending.depth), i;

	for (i = 0; i < depth; i++)
		if (this_cpu_read(sending.sa[i]) == sa)
			return true;
	return false;
}

/* Sends the ESP packet of @sa; deeper than NFSEC_NEST_MAX, drops it. */
static void send(struct nfsec_sa *sa, struct sk_buff *skb)
{
	struct sending *st;

	local_bh_disable();
	st = this_cpu_ptr(&sending);
	if (st->depth < NFSEC_NEST_MAX) {
		/* (we made its header: the destination it was made for) */
		if (sa->id.family == AF_INET)
			st->daddr[st->depth].ip = ip_hdr(skb)->daddr;
		else
			st->daddr[st->depth].ip6 = ipv6_hdr(skb)->daddr;
		st->sa[st->depth++] = sa;
		if (sa->id.family == AF_INET)
			ip_local_out(sa->nn->net, skb->sk, skb);
		else
			ip6_local_out(sa->nn->net, skb->sk, skb);
		st->depth--;
	} else {
		nfsec_sa_drop(sa, skb, NFSEC_SA_LOOP);
	}
	local_bh_enable();
}

/*
 * Confirms the packet's conntrack entry before we take the packet away
 * (conntrack would confirm it at the end of POST_ROUTING, which it never
 * reaches). The hook's contract is unconfirmed entries only.
 */
static int ct_confirm(struct sk_buff *skb)
{
	const struct nf_ct_hook *hook;
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);
	int ret = NF_ACCEPT;

	if (!ct || nf_ct_is_confirmed(ct) || nf_ct_is_template(ct))
		return NF_ACCEPT;
	rcu_read_lock();
	hook = rcu_dereference(nf_ct_hook);
	if (hook && hook->confirm)
		ret = hook->confirm(skb);
	rcu_read_unlock();
	return ret;
}

/* The next sequence number, or false when they are spent (RFC 4303 3.3.3). */
static bool seq_next(struct nfsec_sa *sa, u64 *seq)
{
	u64 limit = nfsec_seq_limit(sa);
	s64 old = atomic64_read(&sa->oseq);

	do {
		if ((u64)old >= limit)
			return false;
	} while (!atomic64_try_cmpxchg(&sa->oseq, &old, old + 1));
	*seq = old + 1;
	if (*seq == limit)	/* the last one */
		nfsec_sa_spent(sa);
	return true;
}

static unsigned int ip_header_bytes(u8 family)
{
	return family == AF_INET ? sizeof(struct iphdr) :
				   sizeof(struct ipv6hdr);
}

/*
 * Bytes ESP (header, IV) or AH (header, ICV, padding) adds in front of the
 * payload; in tunnel mode with the outer header.
 */
static unsigned int esp_head(const struct nfsec_sa *sa)
{
	unsigned int hdr = sa->id.proto == IPPROTO_AH ? nfsec_ah_len(sa) :
			   sizeof(struct ip_esp_hdr) + sa->ivlen;

	if (sa->encap.type)
		hdr += NFSEC_UDP_BYTES;

	return hdr + (sa->mode == NFSEC_MODE_TUNNEL ?
		      ip_header_bytes(sa->id.family) : 0);
}

/*
 * The largest packet of @family (inner packet in tunnel mode, whole packet
 * in transport mode, whose headers up to ESP or AH take @ihl) whose ESP or
 * AH form fits @mtu; never below the family's minimum MTU.
 */
static unsigned int inner_mtu(const struct nfsec_sa *sa, unsigned int mtu,
			      unsigned int ihl, u8 family)
{
	bool esp = sa->id.proto == IPPROTO_ESP;
	unsigned int fixed = esp_head(sa) + (esp ? sa->icvlen : 0) +
			     (sa->mode == NFSEC_MODE_TRANSPORT ? ihl : 0);
	unsigned int min = family == AF_INET ? IPV4_MIN_MTU : IPV6_MIN_MTU;
	unsigned int room;

	if (mtu < fixed + sa->blksize + min)
		return min;
	room = mtu - fixed;
	if (esp)	/* whole blocks, the trailer in the last */
		room = rounddown(room, sa->blksize) - NFSEC_ESP_TRAILER_BYTES;
	return room + (sa->mode == NFSEC_MODE_TRANSPORT ? ihl : 0);
}

/*
 * The UDP header at @off of a final packet (RFC 3948 2.1): its length,
 * and its checksum, zero over IPv4 (3.1.1), over IPv6 computed.
 */
static void udp_finish(const struct nfsec_sa *sa, struct sk_buff *skb,
		       unsigned int off)
{
	struct udphdr *uh = (struct udphdr *)(skb_network_header(skb) + off);
	unsigned int len = skb->len - off;
	const struct ipv6hdr *ip6;

	uh->len = htons(len);
	uh->check = 0;
	if (sa->id.family == AF_INET)
		return;
	ip6 = ipv6_hdr(skb);
	uh->check = csum_ipv6_magic(&ip6->saddr, &ip6->daddr, len, IPPROTO_UDP,
				    skb_checksum(skb, off, len, 0));
	if (!uh->check)
		uh->check = CSUM_MANGLED_0;
	skb->ip_summed = CHECKSUM_NONE;
}

static void output_finish(struct nfsec_crypt *c, int err)
{
	struct sk_buff *skb = c->skb;
	struct nfsec_sa *sa = c->sa;
	unsigned int udp = c->esp_off - NFSEC_UDP_BYTES;
	unsigned int pmtu;

	if (!err && sa->id.proto == IPPROTO_AH)
		nfsec_ah_icv_put(c);
	nfsec_esp_req_free(c);
	if (err) {
		nfsec_sa_drop(sa, skb, nfsec_crypto_drop_reason(err));
		goto out;
	}
	/* The ESP packet is a new packet of this host: track it afresh. */
	nf_reset_ct(skb);
	if (sa->encap.type) {
		udp_finish(sa, skb, udp);
		nfsec_counter_inc(sa->nn->counters, NFSEC_NET_ENCAP_OUT);
	}
	pmtu = nfsec_sa_pmtu(sa);
	if (sa->id.family == AF_INET) {
		/* Sized to path_mtu(): ip_output must measure it alike. */
		IPCB(skb)->flags |= IPSKB_FORWARDED;
		/* Fragments, when allowed, fit the SA's path MTU too. */
		if (pmtu && skb->len > pmtu &&
		    !(ip_hdr(skb)->frag_off & htons(IP_DF)))
			IPCB(skb)->frag_max_size = pmtu;
	} else {
		/*
		 * This host is the ESP packet's source, which IPv6 lets
		 * fragment (RFC 8200 5): what out_route() let through fits
		 * the link, and the path learnt for the peer may be
		 * narrower (our own Packet Too Big to a local sender
		 * lowers it too).
		 */
		skb->ignore_df = 1;
		if (pmtu && skb->len > pmtu)
			IP6CB(skb)->frag_max_size = pmtu;
	}
	send(sa, skb);
out:
	nfsec_crypt_end(sa);
}

/*
 * The tunnel's outer route, to the SA's peer from the SA's source. The
 * route to the SA's own destination without a mark is kept in sa->route,
 * per CPU: a later packet takes it from there while the stack still holds
 * it valid (IPv4: no routing change since, its genid; IPv6: its cookie;
 * either: no PMTU exception made since). A peer that moved (ESP in UDP,
 * encap.c) or a marked packet is routed afresh.
 *
 * The cache is made with the SA's first packet, not with the SA: an SA
 * may carry nothing for long (a standby gateway's, a bulk install's),
 * and a per-CPU allocation was the dearest part of an add after the
 * crypto (Documentation/performance.md, "Bulk install"). It is charged
 * to the memory cgroup that the SA is (sa.c), not to whatever task or
 * softirq sends the packet. Without memory for it then, the route is
 * looked up each time, and the cache tried again a second later.
 */
static bool route_cached(struct nfsec_sa *sa, const union nfsec_addr *daddr,
			 u32 mark)
{
	struct mem_cgroup *old_memcg;
	struct dst_cache fresh;
	int err;

	if (sa->mode != NFSEC_MODE_TUNNEL || mark ||
	    memcmp(daddr, &sa->id.daddr, sizeof(*daddr)))
		return false;
	if (likely(READ_ONCE(sa->route.cache)))
		return true;
	if (time_before(jiffies, READ_ONCE(sa->route_retry)))
		return false;
	old_memcg = set_active_memcg(sa->memcg);
	err = dst_cache_init(&fresh, GFP_ATOMIC | __GFP_ACCOUNT);
	set_active_memcg(old_memcg);
	if (err) {
		WRITE_ONCE(sa->route_retry, jiffies + HZ);
		return false;
	}
	/* (zeroed before it is seen: cmpxchg() orders) */
	if (cmpxchg(&sa->route.cache, NULL, fresh.cache))
		dst_cache_destroy(&fresh);	/* another CPU's came first */
	return true;
}

static struct dst_entry *outer_route4(struct net *net, struct nfsec_sa *sa,
				      const union nfsec_addr *daddr, u32 mark)
{
	struct flowi4 fl4 = {
		.daddr = daddr->ip,
		.saddr = sa->saddr.ip,
		.flowi4_proto = wire_proto(sa),
		.flowi4_mark = mark,
	};
	bool cached = route_cached(sa, daddr, mark);
	struct rtable *rt = NULL;
	__be32 saddr;

	local_bh_disable();	/* (the cache is this CPU's) */
	if (cached)
		rt = dst_cache_get_ip4(&sa->route, &saddr);
	if (!rt) {
		rt = ip_route_output_key(net, &fl4);
		if (!IS_ERR(rt) && cached)
			dst_cache_set_ip4(&sa->route, &rt->dst, fl4.saddr);
	}
	local_bh_enable();
	return IS_ERR(rt) ? NULL : &rt->dst;
}

static struct dst_entry *outer_route6(struct net *net, struct nfsec_sa *sa,
				      const union nfsec_addr *daddr, u32 mark)
{
	struct flowi6 fl6 = {
		.daddr = daddr->ip6,
		.saddr = sa->saddr.ip6,
		.flowi6_proto = wire_proto(sa),
		.flowi6_mark = mark,
	};
	bool cached = route_cached(sa, daddr, mark);
	struct dst_entry *dst = NULL;
	struct in6_addr saddr;

	local_bh_disable();
	if (cached)
		dst = dst_cache_get_ip6(&sa->route, &saddr);
	if (!dst) {
		dst = ip6_route_output(net, NULL, &fl6);
		if (dst->error) {
			dst_release(dst);
			dst = NULL;
		} else if (cached) {
			dst_cache_set_ip6(&sa->route, dst, &fl6.saddr);
		}
	}
	local_bh_enable();
	return dst;
}

/*
 * May the inner packet be fragmented? IPv4: its DF bit. IPv6: never in
 * transit (RFC 8200 5); a local sender that allows its own packets to be
 * (ignore_df) may have them fragmented after ESP.
 */
static bool inner_df(const struct sk_buff *skb)
{
	if (skb->protocol == htons(ETH_P_IP))
		return ip_hdr(skb)->frag_off & htons(IP_DF);
	return !skb->ignore_df;
}

/* Outer IPv4 DF bit, RFC 4301 8.1. */
static bool outer_df(const struct nfsec_sa *sa, const struct sk_buff *inner)
{
	switch (sa->df) {
	case NFSEC_DF_SET:
		return true;
	case NFSEC_DF_CLEAR:
		return false;
	default:
		return inner_df(inner);
	}
}

/*
 * The MTU an ESP packet is held to: the route's or the device's, or the
 * SA's own path MTU (pmtu.c) if that is smaller; never a path MTU learnt
 * for the route. In transport mode (and tunnel mode between two hosts) the
 * route to the peer is also the inner packets' route, and the path MTU it
 * learns from our own "fragmentation needed" is the inner MTU; holding the
 * ESP packet to it would shrink the MTU without end. output_finish() marks
 * the packet so that ip_output agrees.
 */
static unsigned int path_mtu(const struct nfsec_sa *sa,
			     const struct dst_entry *dst)
{
	unsigned int mtu = sa->id.family == AF_INET ?
			   ip_dst_mtu_maybe_forward(dst, true) :
			   ip6_dst_mtu_maybe_forward(dst, true);
	unsigned int pmtu = nfsec_sa_pmtu(sa);

	return pmtu ? min(mtu, pmtu) : mtu;
}

/*
 * Too big for the path once ESP is added, and not allowed to fragment:
 * tell the sender the MTU that fits (RFC 4301 8.2), and drop.
 */
static bool too_big(struct nfsec_sa *sa, struct sk_buff *skb,
		    unsigned int mtu, unsigned int ihl, bool df)
{
	bool v4 = skb->protocol == htons(ETH_P_IP);
	unsigned int fit = inner_mtu(sa, mtu, ihl, v4 ? AF_INET : AF_INET6);

	if (skb->len <= fit || !df || skb->ignore_df)
		return false;
	if (v4)
		icmp_send(skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, htonl(fit));
	else
		icmpv6_send(skb, ICMPV6_PKT_TOOBIG, 0, fit);
	return true;
}

/* The ESP trailer's plaintext (RFC 4303 2.4): 1, 2, 3, ..., length, proto */
static void fill_trailer(u8 *tail, unsigned int padlen, u8 proto)
{
	unsigned int i;

	for (i = 0; i < padlen; i++)
		tail[i] = i + 1;
	tail[padlen] = padlen;
	tail[padlen + 1] = proto;
}

/*
 * Out of place: a packet whose payload sits in page fragments, as a TCP
 * segment's does (pages its socket still holds for retransmission), is
 * encrypted from those pages into a fresh page that then replaces them,
 * instead of first being copied into a private linear buffer and encrypted
 * there. The crypto is the copy. The trailer's plaintext is in c->tail.
 */
static DEFINE_PER_CPU(struct page_frag, out_frag);

/* Scatterlist entries besides the fragments (see map_out_of_place()). */
enum {
	OOP_SRC_ENTRIES = 3,	/* AAD, linear part, trailer */
	OOP_DST_ENTRIES = 3,	/* AAD, linear part, the new page */
};

static bool out_of_place(struct sk_buff *skb, const struct nfsec_sa *sa,
			 unsigned int tailen)
{
	/* (the source's linear part holds at least the IV) */
	return sa->ivlen && skb_shinfo(skb)->nr_frags &&
	       !skb_has_frag_list(skb) &&
	       !skb_zcopy(skb) && !skb->pp_recycle &&
	       skb->data_len + tailen <= PAGE_SIZE;
}

/*
 * Maps the packet from @off (its IV) into the request, its fragments as
 * the source and a new page as the destination, which takes their place
 * in the packet; the trailer (@padlen, @proto) goes to c->tail. Returns
 * the destination list or NULL.
 */
static struct scatterlist *map_out_of_place(struct nfsec_crypt *c,
					    unsigned int off,
					    unsigned int padlen, u8 proto)
{
	struct sk_buff *skb = c->skb;
	struct skb_shared_info *si = skb_shinfo(skb);
	struct nfsec_sa *sa = c->sa;
	unsigned int tlen = padlen + NFSEC_ESP_TRAILER_BYTES;
	unsigned int size, poff, i, n = 0;
	struct scatterlist *sg = c->sg, *dst;
	struct page_frag *pf;
	struct page *page;

	size = skb->data_len + tlen + sa->icvlen;
	local_bh_disable();
	pf = this_cpu_ptr(&out_frag);
	if (!skb_page_frag_refill(size, pf, GFP_ATOMIC)) {
		local_bh_enable();
		return NULL;
	}
	page = pf->page;
	poff = pf->offset;
	get_page(page);
	pf->offset += ALIGN(size, SMP_CACHE_BYTES);
	local_bh_enable();

	fill_trailer(c->tail, padlen, proto);

	/* source: AAD | IV and what else is linear | fragments | trailer */
	sg_init_table(sg, OOP_SRC_ENTRIES + si->nr_frags);
	nfsec_esp_aad(c, &sg[n++], sa->id.spi, c->seq,
		      sa->flags & NFSEC_SA_F_ESN);
	sg_set_buf(&sg[n++], skb->data + off, skb_headlen(skb) - off);
	c->put_first = n;
	for (i = 0; i < si->nr_frags; i++)
		sg_set_page(&sg[n++], skb_frag_page(&si->frags[i]),
			    skb_frag_size(&si->frags[i]),
			    skb_frag_off(&si->frags[i]));
	sg_set_buf(&sg[n++], c->tail, tlen);
	/* destination: the same AAD and linear part | the new page */
	dst = &sg[n];
	sg_init_table(dst, OOP_DST_ENTRIES);
	dst[0] = sg[0];			/* neither ends its list */
	dst[1] = sg[1];
	sg_set_page(&dst[2], page, size, poff);	/* ends it, as initialised */

	/* The packet's references to its old pages pass to the request. */
	c->put_n = si->nr_frags;
	__skb_fill_page_desc(skb, 0, page, poff, size);
	si->nr_frags = 1;
	skb->len += tlen + sa->icvlen;
	skb->data_len += tlen + sa->icvlen;
	return dst;
}

/*
 * One packet on its way through esp_output()'s stages. A stage that fails
 * has dropped the packet and counted why; esp_output() then lets go of
 * the route and the SA.
 */
struct esp_out {
	struct nfsec_sa *sa;
	struct sk_buff *skb;
	struct dst_entry *dst;	/* tunnel: the outer route, until skb has it */
	struct ip_esp_hdr *esph;
	unsigned int ihl;	/* the headers ESP goes behind */
	unsigned int nhoff;	/* transport: the next-header byte for ESP */
	struct nfsec_crypt *c;
	unsigned int plen;	/* the payload ESP protects */
	unsigned int clen;	/* payload, padding and trailer: ciphertext */
	unsigned int padlen;
	unsigned int hlen;	/* bytes added in front: esp_head() */
	int nfrags;		/* scatterlist entries for the packet */
	u64 seq;
	u8 proto;		/* the trailer's next header */
	bool oop;		/* encrypted out of place */
	union nfsec_addr daddr;	/* tunnel: the outer destination */
	__be16 dport;		/* ESP in UDP: the peer's port */
};

static bool out_drop(struct esp_out *o, int why)
{
	nfsec_sa_drop(o->sa, o->skb, why);
	return false;
}

/* Bytes that follow the payload: padding, trailer, ICV (AH: none). */
static unsigned int tail_len(const struct esp_out *o)
{
	if (o->sa->id.proto == IPPROTO_AH)
		return 0;
	return o->padlen + NFSEC_ESP_TRAILER_BYTES + o->sa->icvlen;
}

/*
 * Transport mode: where ESP goes in (o->ihl) and what it protects
 * (o->proto): behind the IPv4 header; behind IPv6's per-hop headers, the
 * ones a fragment header would follow (RFC 4303 3.1.1, RFC 8200 4.5).
 */
static bool transport_point(struct esp_out *o)
{
	struct sk_buff *skb = o->skb;
	u8 *nexthdr;
	int off;

	if (skb->protocol == htons(ETH_P_IP)) {
		o->ihl = ip_hdrlen(skb);
		o->proto = ip_hdr(skb)->protocol;
		return true;
	}
	off = ip6_find_1stfragopt(skb, &nexthdr);
	if (off < 0)
		return false;
	o->ihl = off;
	o->nhoff = nexthdr - skb_network_header(skb);
	o->proto = *nexthdr;
	return true;
}

/*
 * What ESP or AH will protect and how big it will be: the whole inner
 * packet in tunnel mode, what follows the headers ESP or AH goes behind in
 * transport mode; for ESP padded to the SA's block with room for the
 * trailer (RFC 4303 2.4).
 */
static void out_layout(struct esp_out *o)
{
	if (o->sa->mode == NFSEC_MODE_TUNNEL) {
		o->plen = o->skb->len;
		o->proto = o->skb->protocol == htons(ETH_P_IP) ?
			   IPPROTO_IPIP : IPPROTO_IPV6;
	} else {
		o->plen = o->skb->len - o->ihl;
	}
	o->hlen = esp_head(o->sa);
	if (o->sa->id.proto == IPPROTO_AH) {
		o->clen = o->plen;
		o->padlen = 0;
		return;
	}
	o->clen = ALIGN(o->plen + NFSEC_ESP_TRAILER_BYTES, o->sa->blksize);
	o->padlen = o->clen - o->plen - NFSEC_ESP_TRAILER_BYTES;
}

/* The largest packet the outer family carries: IPv4's, or IPv6's payload */
static unsigned int max_len(const struct nfsec_sa *sa)
{
	return sa->id.family == AF_INET ? IP_MAX_MTU :
	       IPV6_MAXPLEN + sizeof(struct ipv6hdr);
}

/*
 * Stage 1, route and MTU: the tunnel's outer route, and whether the packet
 * still fits its path once ESP is added (RFC 4301 8.2) and the outer
 * family's 64 KiB.
 */
static bool out_route(struct net *net, struct esp_out *o)
{
	struct nfsec_sa *sa = o->sa;
	struct sk_buff *skb = o->skb;
	unsigned int mtu;
	bool df;

	if (sa->mode == NFSEC_MODE_TUNNEL) {
		o->dst = sa->id.family == AF_INET ?
			 outer_route4(net, sa, &o->daddr, skb->mark) :
			 outer_route6(net, sa, &o->daddr, skb->mark);
		if (!o->dst)
			return out_drop(o, NFSEC_SA_NO_BUFFER);
		mtu = path_mtu(sa, o->dst);
		/* an IPv4 outer header may say fragment; IPv6's never */
		df = sa->id.family == AF_INET ? outer_df(sa, skb) :
						inner_df(skb);
	} else {
		if (!transport_point(o))
			return out_drop(o, NFSEC_SA_NO_BUFFER);
		mtu = path_mtu(sa, skb_dst(skb));
		df = inner_df(skb);
	}
	if (too_big(sa, skb, mtu, o->ihl, df))
		return out_drop(o, NFSEC_SA_TOO_BIG);
	out_layout(o);
	if (skb->len + o->hlen + tail_len(o) > max_len(sa))
		return out_drop(o, NFSEC_SA_TOO_BIG);
	return true;
}

/*
 * Stage 2, the sequence number (never wrapping, RFC 4303 3.3.3) and the
 * SA's lifetime, which the packet counts against.
 */
static bool out_seq(struct esp_out *o)
{
	struct nfsec_sa *sa = o->sa;

	if (!seq_next(sa, &o->seq)) {
		/* (a dead SA's numbers went to the SA that replaced it) */
		if (!READ_ONCE(sa->dead))
			nfsec_sa_event(sa, NFSEC_EV_SEQ);
		return out_drop(o, NFSEC_SA_SEQ_EXHAUSTED);
	}
	if (!nfsec_sa_account(sa, o->skb->len)) {
		kfree_skb(o->skb);	/* counted as expired */
		return false;
	}
	return true;
}

/*
 * Stage 3, the packet made writable with room for ESP: in front for the
 * headers; behind, in place, for the trailer (written now) and the ICV,
 * or out of place in the page map_out_of_place() adds later.
 */
static bool out_trailer(struct esp_out *o)
{
	struct sk_buff *skb = o->skb;
	struct sk_buff *trailer;

	if (skb->ip_summed == CHECKSUM_PARTIAL && skb_checksum_help(skb))
		return out_drop(o, NFSEC_SA_NO_BUFFER);
	/* Crypto may complete later: the route must outlive this hook. */
	if (o->sa->mode != NFSEC_MODE_TUNNEL && !skb_dst_force(skb))
		return out_drop(o, NFSEC_SA_NO_BUFFER);

	if (o->sa->id.proto == IPPROTO_AH) {
		/* (AH only reads the payload, and writes in front of it) */
		o->nfrags = skb_has_frag_list(skb) ?
			    skb_cow_data(skb, 0, &trailer) :
			    1 + skb_shinfo(skb)->nr_frags;
		if (o->nfrags < 0 ||
		    skb_cow_head(skb, o->hlen + LL_MAX_HEADER))
			return out_drop(o, NFSEC_SA_NO_BUFFER);
		return true;
	}
	o->oop = out_of_place(skb, o->sa, tail_len(o));
	if (o->oop) {
		/* the fragment list is about to change: it must be ours */
		if (skb_unclone(skb, GFP_ATOMIC) ||
		    skb_cow_head(skb, o->hlen + LL_MAX_HEADER))
			return out_drop(o, NFSEC_SA_NO_BUFFER);
		/* (nfsec_esp_req_alloc() adds the AAD's entry itself) */
		o->nfrags = skb_shinfo(skb)->nr_frags + OOP_SRC_ENTRIES - 1 +
			    OOP_DST_ENTRIES;
		return true;
	}
	o->nfrags = skb_cow_data(skb, tail_len(o), &trailer);
	if (o->nfrags < 0 || skb_cow_head(skb, o->hlen + LL_MAX_HEADER))
		return out_drop(o, NFSEC_SA_NO_BUFFER);
	fill_trailer(pskb_put(skb, trailer, tail_len(o)), o->padlen, o->proto);
	return true;
}

/*
 * A new outer IPv4 header from the SA's source to @daddr, on the route
 * the packet has (tunnel mode, and keepalives).
 */
static void outer_header4(struct net *net, struct sk_buff *skb,
			  const struct nfsec_sa *sa,
			  const union nfsec_addr *daddr, u8 dsfield, bool df)
{
	struct iphdr *iph = ip_hdr(skb);

	iph->version = 4;
	iph->ihl = sizeof(*iph) / 4;
	iph->tos = dsfield;
	iph->frag_off = df ? htons(IP_DF) : 0;
	iph->ttl = ip4_dst_hoplimit(skb_dst(skb));
	iph->protocol = wire_proto(sa);
	iph->saddr = sa->saddr.ip;
	iph->daddr = daddr->ip;
	iph->tot_len = htons(skb->len);
	memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
	ip_select_ident(net, skb, NULL);
}

/*
 * The same in IPv6, its flow label from the inner packet's flow (RFC 6437
 * 3).
 */
static void outer_header6(struct sk_buff *skb, const struct nfsec_sa *sa,
			  const union nfsec_addr *daddr, u8 dsfield, u32 hash)
{
	struct ipv6hdr *ip6 = ipv6_hdr(skb);

	ip6_flow_hdr(ip6, dsfield, htonl(hash) & IPV6_FLOWLABEL_MASK);
	ip6->payload_len = htons(skb->len - sizeof(*ip6));
	ip6->nexthdr = wire_proto(sa);
	ip6->hop_limit = ip6_dst_hoplimit(skb_dst(skb));
	ip6->saddr = sa->saddr.ip6;
	ip6->daddr = daddr->ip6;
	memset(IP6CB(skb), 0, sizeof(*IP6CB(skb)));
}

/*
 * Tunnel mode: the outer header of the SA's family in front, DSCP and
 * ECN copied from the inner one (RFC 6040 4.1), on the outer route.
 */
static void tunnel_header(struct net *net, struct esp_out *o)
{
	struct sk_buff *skb = o->skb;
	bool v4 = skb->protocol == htons(ETH_P_IP);
	u8 dsfield = v4 ? ipv4_get_dsfield(ip_hdr(skb)) :
			  ipv6_get_dsfield(ipv6_hdr(skb));
	bool df = outer_df(o->sa, skb);
	u32 hash = skb_get_hash(skb);

	skb_push(skb, o->hlen);
	skb_reset_network_header(skb);
	skb_dst_drop(skb);
	skb_dst_set(skb, o->dst);
	o->dst = NULL;
	if (o->sa->id.family == AF_INET) {
		skb->protocol = htons(ETH_P_IP);
		outer_header4(net, skb, o->sa, &o->daddr, dsfield, df);
	} else {
		skb->protocol = htons(ETH_P_IPV6);
		outer_header6(skb, o->sa, &o->daddr, dsfield, hash);
	}
	o->ihl = ip_header_bytes(o->sa->id.family);
}

/*
 * Transport mode: the headers ESP or AH goes behind move forward, and the
 * last of them names it next.
 */
static void transport_header(struct esp_out *o)
{
	struct sk_buff *skb = o->skb;

	skb_push(skb, o->hlen);
	memmove(skb->data, skb->data + o->hlen, o->ihl);
	skb_reset_network_header(skb);
	if (skb->protocol == htons(ETH_P_IP))
		ip_hdr(skb)->protocol = wire_proto(o->sa);
	else
		skb_network_header(skb)[o->nhoff] = wire_proto(o->sa);
}

/*
 * ESP in UDP: the UDP header in front of ESP, from the SA's port to the
 * peer's; its length and checksum once the packet is final (udp_finish).
 */
static void udp_header(struct esp_out *o)
{
	struct udphdr *uh = (struct udphdr *)(o->skb->data + o->ihl);

	uh->source = htons(o->sa->encap.sport);
	uh->dest = o->dport;
	uh->len = 0;
	uh->check = 0;
	o->ihl += sizeof(*uh);
}

/*
 * The AH header (RFC 4302 2), its ICV and padding zero for now; the IP
 * header's length final, as the ICV covers it.
 */
static void ah_header(struct esp_out *o)
{
	struct sk_buff *skb = o->skb;
	struct ip_auth_hdr *ah = (struct ip_auth_hdr *)skb_transport_header(skb);
	unsigned int len = nfsec_ah_len(o->sa);

	memset(ah, 0, len);
	ah->nexthdr = o->proto;
	ah->hdrlen = len / 4 - 2;	/* RFC 4302 2.2: 32-bit words, less 2 */
	ah->spi = o->sa->id.spi;
	ah->seq_no = htonl(lower_32_bits(o->seq));
	if (skb->protocol == htons(ETH_P_IP))
		ip_hdr(skb)->tot_len = htons(skb->len);
	else
		ipv6_hdr(skb)->payload_len =
			htons(skb->len - sizeof(struct ipv6hdr));
}

/*
 * Stage 4, encapsulation by mode, then the ESP header (RFC 4303 2.1, 2.2)
 * or the AH header.
 */
static void out_encap(struct net *net, struct esp_out *o)
{
	struct sk_buff *skb = o->skb;

	if (o->sa->mode == NFSEC_MODE_TUNNEL)
		tunnel_header(net, o);
	else
		transport_header(o);
	if (o->sa->encap.type)
		udp_header(o);
	skb_set_transport_header(skb, o->ihl);
	if (o->sa->id.proto == IPPROTO_AH) {
		ah_header(o);
		return;
	}
	o->esph = ip_esp_hdr(skb);
	o->esph->spi = o->sa->id.spi;
	o->esph->seq_no = htonl(lower_32_bits(o->seq));
}

/*
 * Stage 5, the crypto request, counted in flight, and the IV: random for
 * CBC, the sequence number XORed with the SA's salt for the counter modes'
 * 8-byte IVs (unique is all they need).
 */
static bool out_request(struct esp_out *o)
{
	struct nfsec_sa *sa = o->sa;
	struct nfsec_crypt *c;

	if (!nfsec_inflight_get(sa))
		return out_drop(o, NFSEC_SA_BACKLOG);
	if (sa->id.proto == IPPROTO_AH)
		c = nfsec_ah_req_alloc(sa, o->nfrags,
				       o->ihl + nfsec_ah_len(sa));
	else if (!nfsec_esp_req_alloc(sa, &c, o->nfrags))
		c = NULL;
	if (!c) {
		nfsec_inflight_put(sa);
		return out_drop(o, NFSEC_SA_NO_BUFFER);
	}
	c->finish = output_finish;
	c->skb = o->skb;
	c->sa = sa;
	c->seq = o->seq;
	c->esp_off = o->ihl;
	o->c = c;
	if (sa->id.proto == IPPROTO_AH)
		return true;
	if (sa->iv_random)
		get_random_bytes(c->iv, sa->ivlen);
	else if (sa->ivlen == sizeof(u64))
		put_unaligned_be64(o->seq ^ sa->iv_salt, c->iv);
	memcpy(o->esph->enc_data, c->iv, sa->ivlen);
	return true;
}

/*
 * Stage 6, submit: map the packet and run the request. From here
 * output_finish() has the packet and the SA's reference, now or later.
 */
static bool out_submit(struct esp_out *o)
{
	unsigned int off = o->ihl + sizeof(*o->esph);
	struct scatterlist *dst;

	if (o->sa->id.proto == IPPROTO_AH) {
		if (nfsec_ah_crypt(o->c, true))
			return true;
		/* headers whose view at the far end AH cannot predict */
		nfsec_esp_req_free(o->c);
		nfsec_inflight_put(o->sa);
		nfsec_counter_inc(o->sa->nn->counters, NFSEC_NET_MALFORMED);
		kfree_skb(o->skb);
		return false;
	} else if (o->oop) {
		dst = map_out_of_place(o->c, off, o->padlen, o->proto);
		if (dst) {
			/* (ip_local_out sets the length from skb->len) */
			nfsec_esp_submit(o->c, dst, o->clen, true);
			return true;
		}
	} else if (nfsec_esp_crypt(o->c, o->esph->spi, off, o->clen, true)) {
		return true;
	}
	nfsec_esp_req_free(o->c);
	nfsec_inflight_put(o->sa);
	return out_drop(o, NFSEC_SA_NO_BUFFER);
}

/* Builds ESP around one packet (not GSO) and encrypts it. Consumes both. */
static void esp_output(struct net *net, struct nfsec_sa *sa,
		       struct sk_buff *skb)
{
	struct esp_out o = { .sa = sa, .skb = skb };

	wire_peer(sa, &o.daddr, &o.dport);
	if (!out_route(net, &o) || !out_seq(&o) || !out_trailer(&o))
		goto dropped;
	out_encap(net, &o);
	if (out_request(&o) && out_submit(&o))
		return;		/* output_finish() has it, now or later */
dropped:
	dst_release(o.dst);
	nfsec_sa_put(sa);
}

/*
 * IPv6 fragments that nf_defrag_ipv6 put together before routing leave as
 * fragments again, no bigger than they came, each in an ESP packet of its
 * own, as their source made them (RFC 8200 5: no router fragments, so the
 * whole packet would draw Packet Too Big beyond the tunnel for a size its
 * sender already kept to). The stack's fragmenter hands each fragment to
 * refrag_one(), on this CPU with bottom halves off, with the SA in
 * refrag_sa.
 */
static DEFINE_PER_CPU(struct nfsec_sa *, refrag_sa);

static int refrag_one(struct net *net, struct sock *sk, struct sk_buff *skb)
{
	struct nfsec_sa *sa = this_cpu_read(refrag_sa);

	/* (a fragment is no bigger than its source sent: ESP may split it) */
	skb->ignore_df = 1;
	if (nfsec_sa_get(sa))
		esp_output(net, sa, skb);
	else
		kfree_skb(skb);
	return 0;
}

/* True when it took the packet (not its SA reference) to refragment it. */
static bool refragment(struct net *net, struct nfsec_sa *sa,
		       struct sk_buff *skb)
{
	const struct nf_ipv6_ops *v6ops;
	struct nfsec_sa *outer;

	if (skb->protocol != htons(ETH_P_IPV6) ||
	    !IP6CB(skb)->frag_max_size ||
	    skb->len <= IP6CB(skb)->frag_max_size)
		return false;
	v6ops = nf_get_ipv6_ops();
	if (!v6ops || !v6ops->fragment)
		return false;
	local_bh_disable();
	outer = this_cpu_read(refrag_sa);	/* (a tunnel inside a tunnel) */
	this_cpu_write(refrag_sa, sa);
	v6ops->fragment(net, skb->sk, skb, refrag_one);
	this_cpu_write(refrag_sa, outer);
	local_bh_enable();
	return true;
}

/* Segments a GSO packet and protects each segment. Consumes both. */
static void protect(struct net *net, struct nfsec_sa *sa, struct sk_buff *skb)
{
	struct sk_buff *segs, *next;

	if (refragment(net, sa, skb)) {
		nfsec_sa_put(sa);
		return;
	}
	if (!skb_is_gso(skb)) {
		esp_output(net, sa, skb);
		return;
	}
	/*
	 * Scatter-gather, no checksum offload: a segment's payload stays in
	 * the GSO packet's pages (its TCP checksum computed as it is cut),
	 * and is encrypted out of place from them (map_out_of_place());
	 * without NETIF_F_SG each segment was copied into a new linear
	 * buffer, then again into a larger one for its trailer.
	 */
	segs = skb_gso_segment(skb, NETIF_F_SG);
	if (IS_ERR_OR_NULL(segs)) {
		nfsec_sa_drop(sa, skb, NFSEC_SA_NO_BUFFER);
		nfsec_sa_put(sa);
		return;
	}
	consume_skb(skb);
	/*
	 * The train leaves as one burst: with bottom halves off until its
	 * last segment is sent, a receiver on this host (veth, a namespace)
	 * takes the whole train in one softirq run, and its GRO can merge
	 * what it decrypts; a device queue sees the burst too. Sent one by
	 * one, each segment's softirq ran at once and reached TCP alone.
	 */
	local_bh_disable();
	skb_list_walk_safe(segs, skb, next) {
		skb_mark_not_on_list(skb);
		if (nfsec_sa_get(sa))
			protect(net, sa, skb);
		else
			kfree_skb(skb);
	}
	local_bh_enable();
	nfsec_sa_put(sa);
}

/*
 * Fail closed, RFC 4301 5.1: a protect policy without a usable SA lets
 * nothing leave; by reqid, no SA of the reqid is there yet or any more,
 * and a key-exchange daemon is asked for SAs for the packet's flow (an
 * acquire event). The packet is not queued for them: the sender's own
 * retransmission finds them.
 */
static unsigned int no_sa(struct nfsec_net *nn,
			  const struct nfsec_policy *pol,
			  const struct nfsec_flow *flow)
{
	nfsec_counter_inc(nn->counters, NFSEC_NET_NO_SA_OUT);
	nfsec_acquire(nn, pol, flow);
	return NF_DROP;
}

static unsigned int output_hook(void *priv, struct sk_buff *skb,
				const struct nf_hook_state *state)
{
	struct nfsec_net *nn = nfsec_pernet(state->net);
	struct nfsec_policy *pol;
	u8 family = state->pf == NFPROTO_IPV4 ? AF_INET : AF_INET6;
	struct nfsec_flow flow;
	struct nfsec_sa *sa;

	if (list_empty(&nn->spd[NFSEC_DIR_OUT - 1]) || is_ours(skb, family))
		return NF_ACCEPT;
	/* Fail closed: what cannot be matched cannot be let through. */
	if (!nfsec_flow_from_skb(skb, family, &flow)) {
		nfsec_counter_inc(nn->counters, NFSEC_NET_MALFORMED);
		return NF_DROP;
	}
	pol = nfsec_spd_lookup(nn, NFSEC_DIR_OUT, &flow);
	if (!pol || pol->action == NFSEC_ACTION_BYPASS)
		return NF_ACCEPT;
	if (pol->action == NFSEC_ACTION_DISCARD) {
		nfsec_counter_inc(nn->counters, NFSEC_NET_DISCARD);
		return NF_DROP;
	}
	sa = rcu_dereference(pol->sa);
	if (!sa || !nfsec_sa_get(sa))
		return no_sa(nn, pol, &flow);
	if (loops(sa)) {
		nfsec_sa_drop(sa, skb, NFSEC_SA_LOOP);
		nfsec_sa_put(sa);
		return NF_STOLEN;
	}
	if (ct_confirm(skb) != NF_ACCEPT) {
		nfsec_counter_inc(nn->counters, NFSEC_NET_CONNTRACK);
		nfsec_sa_put(sa);
		return NF_DROP;
	}
	protect(state->net, sa, skb);
	return NF_STOLEN;
}

static const struct nf_hook_ops output_ops[] = {
	{
		.hook = output_hook,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_POST_ROUTING,
		.priority = NF_IP_PRI_NAT_SRC - 1,
	},
	{
		.hook = output_hook,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_POST_ROUTING,
		.priority = NF_IP6_PRI_NAT_SRC - 1,
	},
};

int nfsec_output_init(struct net *net)
{
	return nf_register_net_hooks(net, output_ops, ARRAY_SIZE(output_ops));
}

void nfsec_output_uninit(struct net *net)
{
	nf_unregister_net_hooks(net, output_ops, ARRAY_SIZE(output_ops));
}

/*
 * A NAT keepalive (RFC 3948 2.3) of the outbound SA @sa to @peer: one
 * byte, 0xFF, in UDP from the SA's port. Process context (encap.c).
 */
void nfsec_keepalive_send(struct nfsec_sa *sa, const struct nfsec_peer *peer)
{
	struct net *net = sa->nn->net;
	unsigned int ihl = ip_header_bytes(sa->id.family);
	struct dst_entry *dst;
	struct sk_buff *skb;
	struct udphdr *uh;

	dst = sa->id.family == AF_INET ? outer_route4(net, sa, &peer->addr, 0) :
					 outer_route6(net, sa, &peer->addr, 0);
	if (!dst)
		return;
	skb = alloc_skb(LL_MAX_HEADER + ihl + sizeof(*uh) + 1, GFP_KERNEL);
	if (!skb) {
		dst_release(dst);
		return;
	}
	skb_reserve(skb, LL_MAX_HEADER + ihl);
	uh = skb_put(skb, sizeof(*uh));
	uh->source = htons(sa->encap.sport);
	uh->dest = peer->port;
	skb_put_u8(skb, 0xff);
	skb_push(skb, ihl);
	skb_reset_network_header(skb);
	skb_dst_set(skb, dst);
	if (sa->id.family == AF_INET) {
		skb->protocol = htons(ETH_P_IP);
		outer_header4(net, skb, sa, &peer->addr, 0, false);
	} else {
		skb->protocol = htons(ETH_P_IPV6);
		outer_header6(skb, sa, &peer->addr, 0, 0);
	}
	udp_finish(sa, skb, ihl);
	nfsec_counter_inc(sa->nn->counters, NFSEC_NET_KEEPALIVE_OUT);
	send(sa, skb);
}

/* At module exit: the pages out-of-place encryption was cutting up. */
void nfsec_output_module_exit(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct page_frag *pf = per_cpu_ptr(&out_frag, cpu);

		if (pf->page)
			put_page(pf->page);
		pf->page = NULL;
	}
}
