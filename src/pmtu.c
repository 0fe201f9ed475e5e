// SPDX-License-Identifier: GPL-2.0
/*
 * Path MTU of an outbound SA (RFC 4301 8.2): a router between us and the
 * peer that cannot forward one of our ESP packets whole answers with ICMP
 * "fragmentation needed". The MTU it reports belongs to the SA, not to the
 * route to the peer: that route may also carry the inner packets (transport
 * mode, or a tunnel between two hosts), and the MTU the stack learns for
 * them from our own "fragmentation needed" is the inner MTU. So nfsec keeps
 * the path MTU in the SA, ages it like the stack ages a learnt route MTU
 * (net.ipv4.route.mtu_expires), and refuses to lower it below
 * net.ipv4.route.min_pmtu.
 */

#include "nfsec.h"

#include <linux/icmp.h>
#include <linux/ip.h>
#include <net/esp.h>
#include <net/ip.h>

/* The SA's learnt path MTU, or 0 if it has none or it has expired. */
unsigned int nfsec_sa_pmtu(const struct nfsec_sa *sa)
{
	unsigned int mtu = READ_ONCE(sa->pmtu);

	if (mtu && time_before(jiffies, READ_ONCE(sa->pmtu_expires)))
		return mtu;
	return 0;
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
	unsigned int off = ip_hdrlen(skb), mtu, old;
	struct {
		struct icmphdr icmp;
		struct iphdr ip;
	} _h;
	const typeof(_h) *h;
	struct ip_esp_hdr _esph;
	const struct ip_esp_hdr *esph;
	struct nfsec_sa_id id = {};
	struct nfsec_sa *sa;
	u32 seq;

	if (ip_is_fragment(ip_hdr(skb)))
		return;
	h = skb_header_pointer(skb, off, sizeof(_h), &_h);
	if (!h || h->icmp.type != ICMP_DEST_UNREACH ||
	    h->icmp.code != ICMP_FRAG_NEEDED || h->ip.version != 4 ||
	    h->ip.ihl < 5 || h->ip.protocol != IPPROTO_ESP)
		return;
	esph = skb_header_pointer(skb, off + sizeof(h->icmp) + h->ip.ihl * 4,
				  sizeof(_esph), &_esph);
	if (!esph)
		return;

	id.daddr.ip = h->ip.daddr;
	id.spi = esph->spi;
	id.proto = IPPROTO_ESP;
	id.family = AF_INET;
	sa = nfsec_sa_lookup(nn, &id);
	if (!sa || sa->dir != NFSEC_DIR_OUT || sa->saddr.ip != h->ip.saddr)
		return;
	seq = ntohl(esph->seq_no);
	if (!seq || (!(sa->flags & NFSEC_SA_F_ESN) &&
		     seq > (u64)atomic64_read(&sa->oseq)))
		return;
	mtu = ntohs(h->icmp.un.frag.mtu);
	if (mtu < IPV4_MIN_MTU || mtu >= ntohs(h->ip.tot_len))
		return;

	mtu = max(mtu, READ_ONCE(net->ipv4.ip_rt_min_pmtu));
	old = nfsec_sa_pmtu(sa);
	if (old && old <= mtu)
		return;
	WRITE_ONCE(sa->pmtu_expires,
		   jiffies + READ_ONCE(net->ipv4.ip_rt_mtu_expires));
	WRITE_ONCE(sa->pmtu, mtu);
}
