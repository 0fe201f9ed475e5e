// SPDX-License-Identifier: GPL-2.0
/*
 * Path MTU of an outbound SA (RFC 4301 8.2): a router between us and the
 * peer that cannot forward one of our ESP packets whole answers with ICMP
 * "fragmentation needed" (ICMPv6 "packet too big"). The MTU it reports
 * belongs to the SA, not to the
 * route to the peer: that route may also carry the inner packets (transport
 * mode, or a tunnel between two hosts), and the MTU the stack learns for
 * them from our own "fragmentation needed" is the inner MTU. So nfsec keeps
 * the path MTU in the SA, ages it like the stack ages a learnt route MTU
 * (net.ipv4.route.mtu_expires, net.ipv6.route.mtu_expires), and refuses to
 * lower it below net.ipv4.route.min_pmtu (IPv6: its minimum MTU, 1280).
 */

#include "nfsec.h"

#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <net/esp.h>
#include <net/ip.h>
#include <net/ipv6.h>

/* The SA's learnt path MTU, or 0 if it has none or it has expired. */
unsigned int nfsec_sa_pmtu(const struct nfsec_sa *sa)
{
	unsigned int mtu = READ_ONCE(sa->pmtu);

	if (mtu && time_before(jiffies, READ_ONCE(sa->pmtu_expires)))
		return mtu;
	return 0;
}

/*
 * The SPI and sequence number of the quoted ESP, AH or ESP in UDP
 * (@proto) header at @off (AH's come after next header, length and
 * reserved; ESP in UDP's after the UDP header), in @h.
 */
static const struct ip_esp_hdr *quoted_ids(const struct sk_buff *skb,
					   unsigned int off, u8 proto,
					   struct ip_esp_hdr *h)
{
	if (proto == IPPROTO_AH)
		off += NFSEC_AH_SPI_OFF_BYTES;
	else if (proto == IPPROTO_UDP)
		off += NFSEC_UDP_BYTES;
	return skb_header_pointer(skb, off, sizeof(*h), h);
}

/* The SA protocol of what was quoted: ESP in UDP is ESP. */
static u8 quoted_sa_proto(u8 proto)
{
	return proto == IPPROTO_UDP ? IPPROTO_ESP : proto;
}

/*
 * The quoted ESP or AH packet @esph (its SPI and sequence number), from
 * @saddr to @id's destination, reported too big for @mtu: if one of our
 * outbound SAs could have sent it (our addresses, a sequence number
 * already used) and @mtu is smaller than what the SA holds, the SA's path
 * MTU becomes @mtu for @expires jiffies.
 */
static void pmtu_lower(struct nfsec_net *nn, struct nfsec_sa_id *id,
		       const union nfsec_addr *saddr, bool udp,
		       const struct ip_esp_hdr *esph, unsigned int mtu,
		       unsigned long expires)
{
	struct nfsec_sa *sa;
	unsigned int old;
	u32 seq;

	id->spi = esph->spi;
	sa = nfsec_sa_lookup(nn, id);
	if (!sa || sa->dir != NFSEC_DIR_OUT || !sa->encap.type != !udp ||
	    memcmp(saddr, &sa->saddr, id->family == AF_INET ? 4 : 16))
		return;
	seq = ntohl(esph->seq_no);
	if (!seq || (!(sa->flags & NFSEC_SA_F_ESN) &&
		     seq > (u64)atomic64_read(&sa->oseq)))
		return;
	old = nfsec_sa_pmtu(sa);
	if (old && old <= mtu)
		return;
	WRITE_ONCE(sa->pmtu_expires, jiffies + expires);
	WRITE_ONCE(sa->pmtu, mtu);
}

/*
 * An ICMP packet for this host: if it says that an ESP packet of one of our
 * outbound SAs was too big, lower that SA's path MTU. The quoted packet
 * must be one we could have sent: our addresses, a sequence number already
 * used, and longer than the MTU reported.
 */
void nfsec_pmtu_icmp(struct nfsec_net *nn, struct sk_buff *skb)
{
	struct net *net = nn->net;
	unsigned int off = ip_hdrlen(skb), mtu;
	struct {
		struct icmphdr icmp;
		struct iphdr ip;
	} _h;
	const typeof(_h) *h;
	struct ip_esp_hdr _esph;
	const struct ip_esp_hdr *esph;
	struct nfsec_sa_id id = { .family = AF_INET };
	union nfsec_addr saddr = {};

	if (ip_is_fragment(ip_hdr(skb)))
		return;
	h = skb_header_pointer(skb, off, sizeof(_h), &_h);
	if (!h || h->icmp.type != ICMP_DEST_UNREACH ||
	    h->icmp.code != ICMP_FRAG_NEEDED || h->ip.version != 4 ||
	    h->ip.ihl < 5 || (h->ip.protocol != IPPROTO_ESP &&
			      h->ip.protocol != IPPROTO_AH &&
			      h->ip.protocol != IPPROTO_UDP))
		return;
	esph = quoted_ids(skb, off + sizeof(h->icmp) + h->ip.ihl * 4,
			  h->ip.protocol, &_esph);
	if (!esph)
		return;
	id.proto = quoted_sa_proto(h->ip.protocol);
	id.daddr.ip = h->ip.daddr;
	saddr.ip = h->ip.saddr;
	mtu = ntohs(h->icmp.un.frag.mtu);
	if (mtu < IPV4_MIN_MTU || mtu >= ntohs(h->ip.tot_len))
		return;
	pmtu_lower(nn, &id, &saddr, h->ip.protocol == IPPROTO_UDP, esph,
		   max(mtu, READ_ONCE(net->ipv4.ip_rt_min_pmtu)),
		   READ_ONCE(net->ipv4.ip_rt_mtu_expires));
}

/*
 * The offset of the ESP, AH or UDP header in the packet that @off quotes
 * (in *@proto which), behind the extension headers that may precede it (the
 * first fragment's too: this host may have fragmented the packet), or 0.
 */
static unsigned int quoted_esp(const struct sk_buff *skb, unsigned int off,
			       u8 nexthdr, u8 *proto)
{
	unsigned int n;

	off += sizeof(struct ipv6hdr);
	for (n = 0; n <= NFSEC_EXTHDR_MAX; n++) {
		struct frag_hdr _fh;
		const struct frag_hdr *fh;

		*proto = nexthdr;
		if (nexthdr == IPPROTO_ESP || nexthdr == IPPROTO_AH ||
		    nexthdr == IPPROTO_UDP)
			return off;
		fh = skb_header_pointer(skb, off, sizeof(_fh), &_fh);
		if (!fh)
			return 0;
		switch (nexthdr) {
		case NEXTHDR_HOP:
		case NEXTHDR_ROUTING:
		case NEXTHDR_DEST:
			off += ipv6_optlen((const struct ipv6_opt_hdr *)fh);
			break;
		case NEXTHDR_FRAGMENT:
			if (fh->frag_off & htons(IP6_OFFSET))
				return 0;
			off += sizeof(*fh);
			break;
		default:
			return 0;
		}
		nexthdr = fh->nexthdr;
	}
	return 0;
}

/*
 * The same for ICMPv6 "packet too big" (RFC 8201), the ICMPv6 header at
 * @off.
 */
void nfsec_pmtu_icmp6(struct nfsec_net *nn, struct sk_buff *skb,
		      unsigned int off)
{
	struct net *net = nn->net;
	struct {
		struct icmp6hdr icmp;
		struct ipv6hdr ip;
	} _h;
	const typeof(_h) *h;
	struct ip_esp_hdr _esph;
	const struct ip_esp_hdr *esph;
	struct nfsec_sa_id id = { .family = AF_INET6 };
	union nfsec_addr saddr;
	unsigned int mtu, esp;
	u8 proto;

	h = skb_header_pointer(skb, off, sizeof(_h), &_h);
	if (!h || h->icmp.icmp6_type != ICMPV6_PKT_TOOBIG || h->ip.version != 6)
		return;
	esp = quoted_esp(skb, off + sizeof(h->icmp), h->ip.nexthdr, &proto);
	esph = esp ? quoted_ids(skb, esp, proto, &_esph) : NULL;
	if (!esph)
		return;
	id.proto = quoted_sa_proto(proto);
	id.daddr.ip6 = h->ip.daddr;
	saddr.ip6 = h->ip.saddr;
	mtu = ntohl(h->icmp.icmp6_mtu);
	if (mtu < IPV6_MIN_MTU ||
	    mtu >= sizeof(h->ip) + ntohs(h->ip.payload_len))
		return;
	pmtu_lower(nn, &id, &saddr, proto == IPPROTO_UDP, esph, mtu,
		   READ_ONCE(net->ipv6.sysctl.ip6_rt_mtu_expires));
}
