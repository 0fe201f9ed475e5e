// SPDX-License-Identifier: GPL-2.0
/*
 * The security policy database (SPD): per namespace and direction, an RCU
 * list of policies ordered by priority (lower first), then by age. A protect
 * policy names its SA by SPI, destination and protocol; while that SA exists
 * the policy holds an RCU pointer to it, and while it does not the policy
 * stays and drops what it matches (fail closed, RFC 4301 5.1).
 *
 * Or it names its SAs by reqid. An OUT policy then holds an RCU pointer to
 * the newest usable SA of the reqid that fits it, chosen under the
 * namespace's lock whenever such an SA is added, updated or deleted, and,
 * when one runs out on the packet path, from a work item: the packet path
 * reads one pointer, never the table. Until the work item has run, the
 * policy points at the spent SA, which drops (fail closed). An IN or FWD
 * policy holds no pointer: it accepts any SA of the reqid that fits.
 */

#include "nfsec.h"

#include <linux/in.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <net/ip.h>
#include <net/ip6_fib.h>
#include <net/ipv6.h>
#include <net/ndisc.h>
#include <linux/icmpv6.h>
#include <net/netlink.h>

static unsigned int addr_bits(u8 family)
{
	return family == AF_INET ? 32 : 128;
}

static bool host_bits_clear(const union nfsec_addr *a, u8 plen, u8 family)
{
	struct in6_addr prefix;

	if (family == AF_INET)
		return !(ntohl(a->ip) & ~(plen ? ~0U << (32 - plen) : 0));
	ipv6_addr_prefix(&prefix, &a->ip6, plen);
	return ipv6_addr_equal(&prefix, &a->ip6);
}

static bool ports_allowed(u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP || proto == IPPROTO_UDPLITE;
}

bool nfsec_selector_valid(const struct nfsec_selector *sel,
			  struct netlink_ext_ack *extack)
{
	if (sel->src_plen > addr_bits(sel->family) ||
	    sel->dst_plen > addr_bits(sel->family)) {
		NL_SET_ERR_MSG(extack, "prefix length out of range");
		return false;
	}
	if (!host_bits_clear(&sel->src, sel->src_plen, sel->family) ||
	    !host_bits_clear(&sel->dst, sel->dst_plen, sel->family)) {
		NL_SET_ERR_MSG(extack, "prefix has host bits set");
		return false;
	}
	if ((sel->sport || sel->dport) && !ports_allowed(sel->proto)) {
		NL_SET_ERR_MSG(extack,
			       "ports need protocol tcp, udp, sctp or udplite");
		return false;
	}
	return true;
}

struct nfsec_policy *nfsec_policy_create(u8 dir, u8 action, u32 priority,
					 const struct nfsec_selector *sel,
					 const struct nfsec_sa_ref *ref,
					 struct netlink_ext_ack *extack)
{
	struct nfsec_policy *pol;

	if (!nfsec_selector_valid(sel, extack))
		return ERR_PTR(-EINVAL);

	pol = kzalloc(sizeof(*pol), GFP_KERNEL_ACCOUNT);
	if (!pol)
		return ERR_PTR(-ENOMEM);
	pol->matches = alloc_percpu_gfp(u64, GFP_KERNEL_ACCOUNT);
	if (!pol->matches) {
		kfree(pol);
		return ERR_PTR(-ENOMEM);
	}
	pol->dir = dir;
	pol->action = action;
	pol->priority = priority;
	pol->sel = *sel;
	if (action == NFSEC_ACTION_PROTECT)
		pol->ref = *ref;
	/* a trap policy: it may send acquire events */
	if (dir == NFSEC_DIR_OUT && action == NFSEC_ACTION_PROTECT &&
	    ref->reqid) {
		pol->acquire = nfsec_acquire_alloc();
		if (!pol->acquire) {
			nfsec_policy_free(pol);
			return ERR_PTR(-ENOMEM);
		}
	}
	return pol;
}

void nfsec_policy_free(struct nfsec_policy *pol)
{
	if (!pol->matches_lent)
		free_percpu(pol->matches);
	nfsec_acquire_free(pol->acquire);
	kfree(pol);
}

static void policy_free_rcu(struct rcu_head *rcu)
{
	nfsec_policy_free(container_of(rcu, struct nfsec_policy, rcu));
}

u64 nfsec_policy_matches(const struct nfsec_policy *pol)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(*per_cpu_ptr(pol->matches, cpu));
	return sum;
}

static struct list_head *spd_list(struct nfsec_net *nn, u8 dir)
{
	return &nn->spd[dir - 1];
}

static bool is_host(const union nfsec_addr *prefix, u8 plen,
		    const union nfsec_addr *addr, u8 family)
{
	return plen == addr_bits(family) &&
	       !memcmp(prefix, addr, family == AF_INET ? 4 : 16);
}

/*
 * Why @pol cannot use an SA of direction @sa_dir and @mode whose
 * destination is @daddr of @family (either 0/NULL when not known yet: a
 * reqid that names none), or NULL when it can. An OUT policy uses an
 * outbound SA, IN and FWD policies an inbound one. Transport mode keeps
 * the packet's own addresses, so it can carry only traffic of this host
 * to the SA's peer: an OUT policy for anything wider would send ESP that
 * no SA of the peer's is addressed by, and that this host's output hook
 * would take for new cleartext and protect again.
 */
static const char *misfit(const struct nfsec_policy *pol, u8 sa_dir, u8 mode,
			  u8 family, const union nfsec_addr *daddr)
{
	bool out = pol->dir == NFSEC_DIR_OUT, sa_out = sa_dir == NFSEC_DIR_OUT;
	u8 fam = family ?: pol->sel.family;

	if (out != sa_out)
		return "policy names an SA of the other direction";
	if (mode != NFSEC_MODE_TRANSPORT)
		return NULL;	/* a tunnel carries either family */
	if (pol->sel.family != fam)
		return "a transport mode SA carries only its own family";
	if (pol->dir == NFSEC_DIR_FWD)
		return "a transport mode SA carries no forwarded traffic";
	if (out && (daddr ? !is_host(&pol->sel.dst, pol->sel.dst_plen, daddr,
				     fam) :
		    pol->sel.dst_plen != addr_bits(fam)))
		return "a transport mode SA protects only traffic to its peer (its dst)";
	return NULL;
}

static const char *sa_misfit(const struct nfsec_policy *pol,
			     const struct nfsec_sa *sa)
{
	return misfit(pol, sa->dir, sa->mode, sa->id.family, &sa->id.daddr);
}

/*
 * By reqid, what no SA could fit: a transport mode that the policy's
 * selector or the SA's given dst rules out. Refused at once rather than
 * left to drop everything it matches.
 */
static const char *ref_misfit(const struct nfsec_policy *pol)
{
	const struct nfsec_sa_ref *ref = &pol->ref;

	return misfit(pol, pol->dir == NFSEC_DIR_OUT ? NFSEC_DIR_OUT :
		      NFSEC_DIR_IN, ref->mode,
		      ref->has_dst || ref->has_src ? ref->id.family : 0,
		      ref->has_dst ? &ref->id.daddr : NULL);
}

static bool addr_eq(const union nfsec_addr *a, const union nfsec_addr *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* By reqid: does @sa fit @pol (reqid, protocol, mode, addresses)? */
static bool reqid_fits(const struct nfsec_policy *pol,
		       const struct nfsec_sa *sa)
{
	const struct nfsec_sa_ref *ref = &pol->ref;
	bool addrs = ref->has_dst || ref->has_src;

	return sa->reqid == ref->reqid && sa->id.proto == ref->id.proto &&
	       (!ref->mode || sa->mode == ref->mode) &&
	       (!addrs || sa->id.family == ref->id.family) &&
	       (!ref->has_dst || addr_eq(&sa->id.daddr, &ref->id.daddr)) &&
	       (!ref->has_src || addr_eq(&sa->saddr, &ref->saddr)) &&
	       !sa_misfit(pol, sa);
}

static bool reqid_fits_cb(const void *pol, const struct nfsec_sa *sa)
{
	return reqid_fits(pol, sa);
}

/* By reqid, OUT: the SA to send with, the newest usable that fits. */
static struct nfsec_sa *newest(struct nfsec_net *nn,
			       const struct nfsec_policy *pol)
{
	if (pol->dir != NFSEC_DIR_OUT)
		return NULL;
	return nfsec_sa_newest(nn, pol->ref.reqid, reqid_fits_cb, pol);
}

/*
 * The SA @pol starts with: by SPI the one it names, which must exist and
 * fit; by reqid the newest usable one that fits, if any.
 */
static int policy_sa(struct nfsec_net *nn, struct nfsec_policy *pol,
		     struct netlink_ext_ack *extack)
{
	struct nfsec_sa *sa = NULL;
	const char *msg;

	if (pol->action == NFSEC_ACTION_PROTECT && pol->ref.reqid) {
		msg = ref_misfit(pol);
		if (msg) {
			nfsec_extack_msg(extack, msg);
			return -EINVAL;
		}
		sa = newest(nn, pol);
	} else if (pol->action == NFSEC_ACTION_PROTECT) {
		sa = nfsec_sa_lookup_locked(nn, &pol->ref.id);
		if (!sa) {
			NL_SET_ERR_MSG(extack,
				       "policy names an SA that does not exist");
			return -ENOENT;
		}
		msg = sa_misfit(pol, sa);
		if (msg) {
			nfsec_extack_msg(extack, msg);
			return -EINVAL;
		}
	}
	RCU_INIT_POINTER(pol->sa, sa);
	return 0;
}

/*
 * The policy of @pol's direction with its selector and priority, or NULL;
 * *@pos: the entry a new policy of that priority goes after.
 */
static struct nfsec_policy *policy_find(struct nfsec_net *nn,
					const struct nfsec_policy *pol,
					struct list_head **pos)
{
	struct list_head *head = spd_list(nn, pol->dir);
	struct nfsec_policy *p;

	*pos = head;
	list_for_each_entry(p, head, node) {
		if (p->priority == pol->priority &&
		    !memcmp(&p->sel, &pol->sel, sizeof(p->sel)))
			return p;
		if (p->priority <= pol->priority)
			*pos = &p->node;
	}
	return NULL;
}

int nfsec_policy_insert(struct nfsec_net *nn, struct nfsec_policy *pol,
			struct netlink_ext_ack *extack)
{
	struct list_head *pos;
	int err;

	lockdep_assert_held(&nn->lock);
	if (policy_find(nn, pol, &pos)) {
		NL_SET_ERR_MSG(extack, "policy already exists");
		return -EEXIST;
	}
	err = policy_sa(nn, pol, extack);
	if (err)
		return err;
	if (!++nn->policy_next_index)
		++nn->policy_next_index;
	pol->index = nn->policy_next_index;
	list_add_rcu(&pol->node, pos);
	nn->policy_count++;
	nn->policy_gen++;
	return 0;
}

/*
 * Puts @pol in the place of the policy of its direction, selector and
 * priority (and of its index, when @pol has one), with that one's index
 * and match counter. list_replace_rcu()
 * makes the swap one pointer store: a reader walking the list meets the
 * old policy or the new one at that place, and never skips to the
 * policies behind it. The old one is freed after a grace period; the
 * readers that still count a match in it count in the counter the new
 * one took over, which the new one frees, after a later grace period.
 */
int nfsec_policy_replace(struct nfsec_net *nn, struct nfsec_policy *pol,
			 struct netlink_ext_ack *extack)
{
	struct nfsec_policy *old;
	struct list_head *pos;
	int err;

	lockdep_assert_held(&nn->lock);
	old = policy_find(nn, pol, &pos);
	if (!old) {
		NL_SET_ERR_MSG(extack, "no such policy");
		return -ENOENT;
	}
	/* an index given must be that policy's: a guard against a race */
	if (pol->index && pol->index != old->index) {
		NL_SET_ERR_MSG(extack,
			       "the policy of that dir, selector and priority has another index");
		return -ENOENT;
	}
	err = policy_sa(nn, pol, extack);
	if (err)
		return err;
	pol->index = old->index;
	free_percpu(pol->matches);
	pol->matches = old->matches;
	old->matches_lent = true;
	list_replace_rcu(&old->node, &pol->node);
	nn->policy_gen++;
	call_rcu(&old->rcu, policy_free_rcu);
	return 0;
}

static void policy_unlink(struct nfsec_net *nn, struct nfsec_policy *pol)
{
	lockdep_assert_held(&nn->lock);
	list_del_rcu(&pol->node);
	nn->policy_count--;
	nn->policy_gen++;
	call_rcu(&pol->rcu, policy_free_rcu);
}

/* Removes by index when index is non-zero, else by dir, selector, priority. */
int nfsec_policy_remove(struct nfsec_net *nn, u32 index, u8 dir,
			const struct nfsec_selector *sel, u32 priority)
{
	struct nfsec_policy *pol;
	int d;

	lockdep_assert_held(&nn->lock);
	for (d = NFSEC_DIR_IN; d <= NFSEC_DIR_FWD; d++) {
		if (!index && d != dir)
			continue;
		list_for_each_entry(pol, spd_list(nn, d), node) {
			if (index ? pol->index != index :
			    pol->priority != priority ||
			    memcmp(&pol->sel, sel, sizeof(*sel)))
				continue;
			policy_unlink(nn, pol);
			return 0;
		}
	}
	return -ENOENT;
}

void nfsec_spd_flush(struct nfsec_net *nn)
{
	struct nfsec_policy *pol, *tmp;
	int d;

	lockdep_assert_held(&nn->lock);
	for (d = NFSEC_DIR_IN; d <= NFSEC_DIR_FWD; d++)
		list_for_each_entry_safe(pol, tmp, spd_list(nn, d), node)
			policy_unlink(nn, pol);
}

static struct nfsec_sa *bound(struct nfsec_net *nn,
			      const struct nfsec_policy *pol)
{
	return rcu_dereference_protected(pol->sa, lockdep_is_held(&nn->lock));
}

/*
 * The SA @pol is to point at now that @gone left the table and @sa
 * entered it (either may be NULL; an add has no @gone, an update both, a
 * delete no @sa). By SPI: @sa if it is the one named and fits, nothing if
 * @gone was. By reqid: an SA added is the newest of all, so it is the one
 * if it fits and is usable; after an update or a delete that concerns the
 * reqid, the newest usable one left is looked for.
 */
static struct nfsec_sa *rebind(struct nfsec_net *nn,
			       const struct nfsec_policy *pol,
			       struct nfsec_sa *gone, struct nfsec_sa *sa)
{
	const struct nfsec_sa_ref *ref = &pol->ref;
	struct nfsec_sa *cur = bound(nn, pol);

	if (!ref->reqid) {
		if (sa && !memcmp(&ref->id, &sa->id, sizeof(sa->id)))
			return sa_misfit(pol, sa) ? NULL : sa;
		if (gone && !memcmp(&ref->id, &gone->id, sizeof(gone->id)))
			return NULL;
		return cur;
	}
	if (pol->dir != NFSEC_DIR_OUT)
		return NULL;
	if (!gone)
		return sa && reqid_fits(pol, sa) && nfsec_sa_usable(sa) ?
		       sa : cur;
	if (gone->reqid == ref->reqid || (sa && sa->reqid == ref->reqid))
		return newest(nn, pol);
	return cur;
}

/*
 * Points the protect policies at the SAs they name now that @gone left
 * the table and @sa entered it (see rebind()); with neither, after a
 * flush, at nothing. A policy never keeps a pointer to an SA it does not
 * fit, nor to one that is gone.
 */
void nfsec_spd_bind(struct nfsec_net *nn, struct nfsec_sa *gone,
		    struct nfsec_sa *sa)
{
	struct nfsec_policy *pol;
	struct nfsec_sa *to;
	int d;

	lockdep_assert_held(&nn->lock);
	for (d = NFSEC_DIR_IN; d <= NFSEC_DIR_FWD; d++) {
		list_for_each_entry(pol, spd_list(nn, d), node) {
			if (pol->action != NFSEC_ACTION_PROTECT)
				continue;
			to = gone || sa ? rebind(nn, pol, gone, sa) : NULL;
			if (to != bound(nn, pol))
				rcu_assign_pointer(pol->sa, to);
		}
	}
}

/*
 * An outbound SA with a reqid ran out on the packet path (nfsec_sa_spent):
 * the OUT policies that point at an SA no longer usable turn to the newest
 * usable one that fits, or to nothing. Until then they drop what they
 * match on the spent SA, counted there (expired, seq_exhausted).
 */
static void spd_refresh_work(struct work_struct *work)
{
	struct nfsec_net *nn = container_of(work, struct nfsec_net,
					    refresh_work);
	struct nfsec_policy *pol;
	struct nfsec_sa *cur;

	mutex_lock(&nn->lock);
	list_for_each_entry(pol, spd_list(nn, NFSEC_DIR_OUT), node) {
		if (pol->action != NFSEC_ACTION_PROTECT || !pol->ref.reqid)
			continue;
		cur = bound(nn, pol);
		if (cur && !nfsec_sa_usable(cur))
			rcu_assign_pointer(pol->sa, newest(nn, pol));
	}
	mutex_unlock(&nn->lock);
}

/*
 * Inbound: may a packet that @sa decapsulated pass @pol, a protect policy
 * it matched? By SPI when @sa is the policy's; by reqid when @sa fits and
 * is still in the table. Either way a packet whose SA was deleted or
 * replaced while it was in crypto is refused: by SPI the policy no longer
 * points at that SA.
 */
bool nfsec_policy_accepts(const struct nfsec_policy *pol,
			  const struct nfsec_sa *sa)
{
	if (pol->ref.reqid)
		return !READ_ONCE(sa->dead) && reqid_fits(pol, sa);
	return rcu_access_pointer(pol->sa) == sa;
}

void nfsec_spd_init(struct nfsec_net *nn)
{
	int d;

	for (d = 0; d < NFSEC_DIRS; d++)
		INIT_LIST_HEAD(&nn->spd[d]);
	INIT_WORK(&nn->refresh_work, spd_refresh_work);
}

/*
 * Namespace exit, once no packet can reach the hooks (nothing queues the
 * work any more): the work done, then every policy deleted.
 */
void nfsec_spd_uninit(struct nfsec_net *nn)
{
	cancel_work_sync(&nn->refresh_work);
	mutex_lock(&nn->lock);
	nfsec_spd_flush(nn);
	mutex_unlock(&nn->lock);
}

static bool prefix_match(const union nfsec_addr *addr,
			 const union nfsec_addr *prefix, u8 plen, u8 family)
{
	if (family == AF_INET)
		return !((addr->ip ^ prefix->ip) &
			 htonl(plen ? ~0U << (32 - plen) : 0));
	return ipv6_prefix_equal(&addr->ip6, &prefix->ip6, plen);
}

/*
 * RFC 4301 7: a packet whose ports cannot be read (a fragment after the
 * first, a truncated header) may belong to the flow a port-selective
 * protect or discard policy covers, so it falls under that policy; no
 * bypass policy lets it through on trust.
 */
static bool ports_match(const struct nfsec_policy *pol,
			const struct nfsec_flow *flow)
{
	const struct nfsec_selector *sel = &pol->sel;

	if (!sel->sport && !sel->dport)
		return true;
	if (flow->opaque)
		return pol->action != NFSEC_ACTION_BYPASS;
	return (!sel->sport || sel->sport == flow->sport) &&
	       (!sel->dport || sel->dport == flow->dport);
}

static bool selector_match(const struct nfsec_policy *pol,
			   const struct nfsec_flow *flow)
{
	const struct nfsec_selector *sel = &pol->sel;
	/* (ND and MLD never cross a router: FWD policies take them all) */
	bool link = flow->link_local && pol->dir != NFSEC_DIR_FWD;

	return sel->family == flow->family &&
	       (sel->proto == flow->proto || (!sel->proto && !link)) &&
	       ports_match(pol, flow) &&
	       prefix_match(&flow->src, &sel->src, sel->src_plen,
			    sel->family) &&
	       prefix_match(&flow->dst, &sel->dst, sel->dst_plen,
			    sel->family);
}

/* The first policy of @dir that matches @flow, under rcu_read_lock(). */
struct nfsec_policy *nfsec_spd_lookup(struct nfsec_net *nn, u8 dir,
				      const struct nfsec_flow *flow)
{
	struct nfsec_policy *pol;

	list_for_each_entry_rcu(pol, spd_list(nn, dir), node) {
		if (selector_match(pol, flow)) {
			this_cpu_inc(*pol->matches);
			return pol;
		}
	}
	return NULL;
}

/*
 * ICMPv6 neighbour discovery and MLD as they must look to be genuine:
 * ND with hop limit 255 and code 0 (RFC 4861 6.1, 7.1: no router between
 * sender and receiver), MLD with hop limit 1 from a link-local source
 * (RFC 2710 3, RFC 3810 5; a report may come from ::), and, when sent,
 * not to a destination behind a router. Anything else of those types is
 * ordinary ICMPv6 for the policies.
 */
static bool icmpv6_link(const struct sk_buff *skb, unsigned int off)
{
	const struct ipv6hdr *ip6 = ipv6_hdr(skb);
	const struct dst_entry *dst = skb_dst(skb);
	/* (decapsulated from an IPv4 tunnel, it still has the outer route) */
	const struct rt6_info *rt = dst && dst->ops->family == AF_INET6 ?
				    (const struct rt6_info *)dst : NULL;
	u8 _h[2];
	const u8 *h = skb_header_pointer(skb, off, sizeof(_h), &_h);

	if (!h || (rt && (rt->rt6i_flags & RTF_GATEWAY)))
		return false;
	switch (h[0]) {
	case NDISC_ROUTER_SOLICITATION:
	case NDISC_ROUTER_ADVERTISEMENT:
	case NDISC_NEIGHBOUR_SOLICITATION:
	case NDISC_NEIGHBOUR_ADVERTISEMENT:
	case NDISC_REDIRECT:
		return ip6->hop_limit == 255 && !h[1];
	case ICMPV6_MGM_QUERY:
	case ICMPV6_MGM_REPORT:
	case ICMPV6_MGM_REDUCTION:
	case ICMPV6_MLD2_REPORT:
		return ip6->hop_limit == 1 &&
		       (ipv6_addr_type(&ip6->saddr) & IPV6_ADDR_LINKLOCAL ||
			(h[0] != ICMPV6_MGM_QUERY &&
			 ipv6_addr_any(&ip6->saddr)));
	}
	return false;
}

bool nfsec_ip6_walk(const struct sk_buff *skb, struct nfsec_ip6_walk *w)
{
	unsigned int base = skb_network_offset(skb), len, n;
	struct ipv6hdr _ip6;
	const struct ipv6hdr *ip6;

	memset(w, 0, sizeof(*w));
	ip6 = skb_header_pointer(skb, base, sizeof(_ip6), &_ip6);
	if (!ip6 || ip6->version != 6)
		return false;
	w->proto = ip6->nexthdr;
	w->nhoff = offsetof(struct ipv6hdr, nexthdr);
	w->off = sizeof(*ip6);
	for (n = 0; n <= NFSEC_EXTHDR_MAX; n++) {
		struct frag_hdr _fh;
		const struct frag_hdr *fh;

		/* (a fragment header and an ipv6_opt_hdr start alike) */
		fh = skb_header_pointer(skb, base + w->off, sizeof(_fh), &_fh);
		switch (w->proto) {
		case NEXTHDR_HOP:
			if (n)		/* RFC 8200 4.3: first or nowhere */
				return false;
			fallthrough;
		case NEXTHDR_ROUTING:
		case NEXTHDR_DEST:
			if (!fh)
				return false;
			len = ipv6_optlen((const struct ipv6_opt_hdr *)fh);
			/* (a routing header's 4th byte: segments left) */
			if (w->proto == NEXTHDR_ROUTING &&
			    ((const u8 *)fh)[3])
				w->routed = true;
			break;
		case NEXTHDR_FRAGMENT:
			if (!fh)
				return false;
			len = sizeof(*fh);
			w->fragment = true;
			if (fh->frag_off & htons(IP6_OFFSET))
				w->later = true;
			break;
		default:
			return w->off <= skb->len - base;
		}
		w->nhoff = w->off;
		w->proto = fh->nexthdr;
		w->off += len;
		if (w->later)	/* what follows is not a header */
			return w->off <= skb->len - base;
	}
	return false;
}

static bool flow_from_ipv6(struct sk_buff *skb, struct nfsec_flow *flow,
			   unsigned int *off)
{
	const struct ipv6hdr *ip6;
	struct nfsec_ip6_walk w;

	if (!nfsec_ip6_walk(skb, &w))
		return false;
	ip6 = ipv6_hdr(skb);
	flow->src.ip6 = ip6->saddr;
	flow->dst.ip6 = ip6->daddr;
	flow->proto = w.proto;
	flow->opaque = w.later;
	if (w.proto == IPPROTO_ICMPV6 && !w.later)
		flow->link_local = icmpv6_link(skb, skb_network_offset(skb) +
					       w.off);
	*off = w.off;
	return true;
}

static bool flow_from_ipv4(struct sk_buff *skb, struct nfsec_flow *flow,
			   unsigned int *off)
{
	const struct iphdr *iph;

	if (!pskb_network_may_pull(skb, sizeof(*iph)))
		return false;
	iph = ip_hdr(skb);
	flow->src.ip = iph->saddr;
	flow->dst.ip = iph->daddr;
	flow->proto = iph->protocol;
	flow->opaque = iph->frag_off & htons(IP_OFFSET);
	*off = iph->ihl * 4;
	return true;
}

/*
 * Reads the selector fields of a packet of @family whose network header
 * is at skb->data. Ports are 0 for protocols without ports, and OPAQUE
 * (RFC 4301 4.4.1.1) for fragments after the first and headers too short
 * to hold them. Returns false for an IP header (IPv6: or a chain of
 * extension headers) too short or malformed to read.
 */
bool nfsec_flow_from_skb(struct sk_buff *skb, u8 family,
			 struct nfsec_flow *flow)
{
	__be16 _ports[2];
	const __be16 *ports;
	unsigned int off;

	memset(flow, 0, sizeof(*flow));
	flow->family = family;
	if (family == AF_INET ? !flow_from_ipv4(skb, flow, &off) :
				!flow_from_ipv6(skb, flow, &off))
		return false;
	if (!ports_allowed(flow->proto))
		return true;
	ports = NULL;
	if (!flow->opaque)
		ports = skb_header_pointer(skb, skb_network_offset(skb) + off,
					   sizeof(_ports), _ports);
	if (!ports) {
		flow->opaque = true;
		return true;
	}
	flow->sport = ntohs(ports[0]);
	flow->dport = ntohs(ports[1]);
	return true;
}
