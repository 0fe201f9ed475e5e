// SPDX-License-Identifier: GPL-2.0
/*
 * The security policy database (SPD): per namespace and direction, an RCU
 * list of policies ordered by priority (lower first), then by age (a
 * sequence number given at insert, kept by a replace), for dumps and
 * flushes. The lookup does not walk it: a policy is hashed by its
 * selector's destination prefix (dir, family, prefix length, prefix), or
 * by its source prefix when that is the longer, in one rhltable; one of
 * any source and any destination is on its direction's rest list, in the
 * same order. A packet's policy is the first in that order among those
 * hashed by its dst cut to each prefix length the table holds on that
 * side, the same by its src, and the first match on the rest list, whose
 * walk stops at the first entry that comes after the best found: the
 * policy the walk of the whole list would find, at the cost of one hash
 * lookup per prefix length in use (a few), whether there are ten policies
 * or ten thousand.
 *
 * The control path finds a policy by its direction, selector and priority
 * (duplicates, replace, delete: the rhashtable spd_by_sel) and by its
 * index (an xarray), and the protect policies an SA change concerns by
 * the SA's identity or reqid (two more rhltables that only it reads,
 * under the namespace's lock).
 *
 * A protect policy names its SA by SPI, destination and protocol; while
 * that SA exists the policy holds an RCU pointer to it, and while it does
 * not the policy stays and drops what it matches (fail closed, RFC 4301
 * 5.1).
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
#include <linux/jhash.h>
#include <linux/rculist.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/xarray.h>
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

/* @addr's first @plen bits of @family in @key, the rest 0 */
static void host_key(struct nfsec_spd_key *key, u8 dir, u8 family, u8 side,
		     u8 plen, const union nfsec_addr *addr)
{
	memset(key, 0, sizeof(*key));
	key->dir = dir;
	key->family = family;
	key->side = side;
	key->plen = plen;
	if (!plen)
		return;
	if (family == AF_INET)
		key->addr.ip = addr->ip & htonl(~0U << (32 - plen));
	else
		ipv6_addr_prefix(&key->addr.ip6, &addr->ip6, plen);
}

/*
 * Where the lookup finds a policy of @dir and @sel: hashed by its longer
 * prefix, the destination's of two as long, or on the rest list when it
 * names neither (see nfsec_spd_key).
 */
static void key_of(struct nfsec_spd_key *key, u8 dir,
		   const struct nfsec_selector *sel)
{
	if (sel->dst_plen && sel->dst_plen >= sel->src_plen)
		host_key(key, dir, sel->family, NFSEC_SPD_DST, sel->dst_plen,
			 &sel->dst);
	else if (sel->src_plen)
		host_key(key, dir, sel->family, NFSEC_SPD_SRC, sel->src_plen,
			 &sel->src);
	else
		host_key(key, dir, sel->family, NFSEC_SPD_REST, 0, NULL);
}

/* 0 for IPv4, 1 for IPv6: spd_plens' index */
static unsigned int fam_index(u8 family)
{
	return family == AF_INET6;
}

/* The prefix lengths hashed with @k's dir, side and family. */
static unsigned long *plen_map(struct nfsec_net *nn,
			       const struct nfsec_spd_key *k)
{
	return nn->spd_plens[k->dir - 1][k->side][fam_index(k->family)];
}

/* How many policies are hashed with @k's side, family and length. */
static u32 *plen_count(struct nfsec_net *nn, const struct nfsec_spd_key *k)
{
	return &nn->spd_plen_count[k->dir - 1][k->side]
				  [(k->family == AF_INET6 ? NFSEC_PLEN4_MAX + 1 : 0) +
				   k->plen];
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

struct nfsec_policy *nfsec_policy_create(struct nfsec_net *nn, u8 dir,
					 u8 action, u32 priority,
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
	pol->matches = nfsec_ctr_get(nn->match_pool, &pol->match_block);
	if (!pol->matches) {
		kfree(pol);
		return ERR_PTR(-ENOMEM);
	}
	pol->dir = dir;
	pol->action = action;
	pol->priority = priority;
	pol->sel = *sel;
	key_of(&pol->key, dir, sel);
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
		nfsec_ctr_put(pol->match_block, pol->matches);
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
		if (sa->larval) {
			NL_SET_ERR_MSG(extack,
				       "policy names a larval SPI (reserved, not an SA yet)");
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
 * The lookup's index. A policy is hashed by its selector's destination
 * prefix (dir, family, length, prefix), or by its source prefix when that
 * is the longer, in nfsec_net.spd_hosts; one of any source and any
 * destination is on its direction's rest list, in order. Duplicate keys
 * are allowed: policies of one prefix share a key.
 */
static const struct rhashtable_params hosts_params = {
	.key_len = sizeof(struct nfsec_spd_key),
	.key_offset = offsetof(struct nfsec_policy, key),
	.head_offset = offsetof(struct nfsec_policy, host_node),
	.automatic_shrinking = true,
};

/* The control path's: protect policies by the SA, or reqid, they name. */
static const struct rhashtable_params by_id_params = {
	.key_len = sizeof(struct nfsec_sa_id),
	.key_offset = offsetof(struct nfsec_policy, ref.id),
	.head_offset = offsetof(struct nfsec_policy, ref_node),
	.automatic_shrinking = true,
};

static const struct rhashtable_params by_reqid_params = {
	.key_len = sizeof(u32),
	.key_offset = offsetof(struct nfsec_policy, ref.reqid),
	.head_offset = offsetof(struct nfsec_policy, ref_node),
	.automatic_shrinking = true,
};

/*
 * The control path's: every policy by what makes it one, its direction,
 * selector and priority (no two policies share them), so that an add, a
 * replace or a delete by selector finds it in one step, however many
 * policies share its host or lie on the rest list.
 */
struct sel_key {
	const struct nfsec_selector *sel;
	u32 priority;
	u8 dir;
};

static u32 sel_hash(const struct nfsec_selector *sel, u32 priority, u8 dir,
		    u32 seed)
{
	return jhash(sel, sizeof(*sel), jhash_2words(priority, dir, seed));
}

static u32 sel_key_hash(const void *data, u32 len, u32 seed)
{
	const struct sel_key *k = data;

	return sel_hash(k->sel, k->priority, k->dir, seed);
}

static u32 sel_obj_hash(const void *data, u32 len, u32 seed)
{
	const struct nfsec_policy *p = data;

	return sel_hash(&p->sel, p->priority, p->dir, seed);
}

static int sel_cmp(struct rhashtable_compare_arg *arg, const void *obj)
{
	const struct nfsec_policy *p = obj;
	const struct sel_key *k = arg->key;

	return p->priority != k->priority || p->dir != k->dir ||
	       memcmp(&p->sel, k->sel, sizeof(*k->sel));
}

static const struct rhashtable_params by_sel_params = {
	.key_len = sizeof(struct sel_key),
	.head_offset = offsetof(struct nfsec_policy, sel_node),
	.hashfn = sel_key_hash,
	.obj_hashfn = sel_obj_hash,
	.obj_cmpfn = sel_cmp,
	.automatic_shrinking = true,
};

static struct list_head *rest_list(struct nfsec_net *nn, u8 dir)
{
	return &nn->spd_rest[dir - 1];
}

/* Does @a come first in the SPD's order: priority, then age? */
static bool before(const struct nfsec_policy *a, const struct nfsec_policy *b)
{
	return a->priority < b->priority ||
	       (a->priority == b->priority && a->seq < b->seq);
}

/*
 * Where a new policy of @priority goes on @head, the ordered list of all
 * policies (@rest false) or the rest list: after the last entry of no
 * greater priority. Looked for from the tail, so that a policy of the
 * highest priority yet, as in a bulk install, takes one step.
 */
static struct list_head *place(struct list_head *head, u32 priority,
			       bool rest)
{
	const struct nfsec_policy *p;
	struct list_head *pos;

	for (pos = head->prev; pos != head; pos = pos->prev) {
		p = rest ? list_entry(pos, struct nfsec_policy, rest_node) :
			   list_entry(pos, struct nfsec_policy, node);
		if (p->priority <= priority)
			break;
	}
	return pos;
}

/* The policy of @dir, @sel and @priority, or NULL. */
static struct nfsec_policy *policy_find(struct nfsec_net *nn, u8 dir,
					const struct nfsec_selector *sel,
					u32 priority)
{
	struct sel_key key = { .sel = sel, .priority = priority, .dir = dir };

	lockdep_assert_held(&nn->lock);
	return rhashtable_lookup_fast(&nn->spd_by_sel, &key, by_sel_params);
}

/*
 * Hashes @pol by its prefix, if it has one (the rest list is the caller's:
 * an insert places it, a replace swaps it in). From here the packet path
 * may find it.
 */
static int host_index(struct nfsec_net *nn, struct nfsec_policy *pol)
{
	const struct nfsec_spd_key *k = &pol->key;
	int err;

	if (k->side == NFSEC_SPD_REST)
		return 0;
	err = rhltable_insert(&nn->spd_hosts, &pol->host_node, hosts_params);
	/*
	 * (a reader that meets the length without the policy takes it for
	 * absent, as one that came just before the insert; an update's two
	 * policies share a length, so its bit stays set throughout)
	 */
	if (!err && !(*plen_count(nn, k))++)
		set_bit(k->plen, plen_map(nn, k));
	return err;
}

static void host_unindex(struct nfsec_net *nn, struct nfsec_policy *pol)
{
	const struct nfsec_spd_key *k = &pol->key;

	if (k->side == NFSEC_SPD_REST)
		return;
	rhltable_remove(&nn->spd_hosts, &pol->host_node, hosts_params);
	if (!--(*plen_count(nn, k)))
		clear_bit(k->plen, plen_map(nn, k));
}

/*
 * The table that finds @pol by what it names, or NULL: by SPI the SA's
 * identity, OUT by reqid the reqid (IN and FWD policies by reqid point at
 * no SA, so no SA change concerns them).
 */
static struct rhltable *ref_table(struct nfsec_net *nn,
				  const struct nfsec_policy *pol)
{
	if (pol->action != NFSEC_ACTION_PROTECT)
		return NULL;
	if (!pol->ref.reqid)
		return &nn->spd_by_id;
	return pol->dir == NFSEC_DIR_OUT ? &nn->spd_by_reqid : NULL;
}

static int ref_index(struct nfsec_net *nn, struct nfsec_policy *pol)
{
	struct rhltable *t = ref_table(nn, pol);

	if (!t)
		return 0;
	if (t == &nn->spd_by_id)
		return rhltable_insert(t, &pol->ref_node, by_id_params);
	return rhltable_insert(t, &pol->ref_node, by_reqid_params);
}

static void ref_unindex(struct nfsec_net *nn, struct nfsec_policy *pol)
{
	struct rhltable *t = ref_table(nn, pol);

	if (t == &nn->spd_by_id)
		rhltable_remove(t, &pol->ref_node, by_id_params);
	else if (t)
		rhltable_remove(t, &pol->ref_node, by_reqid_params);
}

/*
 * @pol into the indexes, all or none: the control path's first, the
 * lookup's last, so that on a failure no packet has seen it.
 */
static int policy_index(struct nfsec_net *nn, struct nfsec_policy *pol)
{
	int err;

	err = ref_index(nn, pol);
	if (err)
		return err;
	err = host_index(nn, pol);
	if (err)
		ref_unindex(nn, pol);
	return err;
}

#define NO_INDEX "no memory to index the policy"

/*
 * Puts @pol into the SPD, after the policies of its priority that are
 * there. Into the indexes that only the control path reads first, into
 * the lookup's last: any failure leaves the SPD as it was, and no packet
 * has seen @pol.
 */
int nfsec_policy_insert(struct nfsec_net *nn, struct nfsec_policy *pol,
			struct netlink_ext_ack *extack)
{
	int err;

	lockdep_assert_held(&nn->lock);
	if (policy_find(nn, pol->dir, &pol->sel, pol->priority)) {
		NL_SET_ERR_MSG(extack, "policy already exists");
		return -EEXIST;
	}
	if (!nfsec_limit_ok(NFSEC_LIMIT_POLICY, nn->policy_count, extack))
		return -ENOSPC;
	err = policy_sa(nn, pol, extack);
	if (err)
		return err;
	err = xa_alloc_cyclic(&nn->policy_index, &pol->index, pol,
			      XA_LIMIT(1, U32_MAX), &nn->policy_next_index,
			      GFP_KERNEL_ACCOUNT);
	if (err < 0)
		goto err_msg;
	pol->seq = ++nn->policy_seq;
	err = rhashtable_insert_fast(&nn->spd_by_sel, &pol->sel_node,
				     by_sel_params);
	if (err)
		goto err_sel;
	err = policy_index(nn, pol);
	if (err)
		goto err_index;
	if (pol->key.side == NFSEC_SPD_REST)
		list_add_rcu(&pol->rest_node, place(rest_list(nn, pol->dir),
						    pol->priority, true));
	list_add_rcu(&pol->node, place(spd_list(nn, pol->dir), pol->priority,
				       false));
	nn->policy_count++;
	nn->policy_gen++;
	return 0;

err_index:
	rhashtable_remove_fast(&nn->spd_by_sel, &pol->sel_node, by_sel_params);
err_sel:
	xa_erase(&nn->policy_index, pol->index);
	pol->index = 0;
err_msg:
	NL_SET_ERR_MSG(extack, NO_INDEX);
	return err;
}

/*
 * Puts @pol in the place of the policy of its direction, selector and
 * priority (and of its index, when @pol has one), with that one's index,
 * age and match counter. Fail closed: no reader may meet neither, or it
 * could go on to a bypass policy behind them. So a hashed @pol is
 * hashed beside the old one before that one is unhashed (the two have
 * the same key and order: a reader takes either), and on the lists
 * list_replace_rcu() swaps them in one pointer store. The old one is
 * freed after a grace period; the readers that still count a match in it
 * count in the counter the new one took over, which the new one frees,
 * after a later grace period.
 */
int nfsec_policy_replace(struct nfsec_net *nn, struct nfsec_policy *pol,
			 struct netlink_ext_ack *extack)
{
	struct nfsec_policy *old;
	u64 __percpu *own;
	int err;

	lockdep_assert_held(&nn->lock);
	old = policy_find(nn, pol->dir, &pol->sel, pol->priority);
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
	pol->seq = old->seq;
	/* (before a reader can count in it) */
	own = pol->matches;
	pol->matches = old->matches;
	err = policy_index(nn, pol);	/* beside the old one */
	if (err) {
		pol->matches = own;
		NL_SET_ERR_MSG(extack, NO_INDEX);
		return err;
	}

	nfsec_ctr_put(pol->match_block, own);
	pol->match_block = old->match_block;
	old->matches_lent = true;
	if (pol->key.side == NFSEC_SPD_REST)
		list_replace_rcu(&old->rest_node, &pol->rest_node);
	host_unindex(nn, old);
	ref_unindex(nn, old);
	/* (the same key: the old one's place, no allocation, cannot fail) */
	WARN_ON(rhashtable_replace_fast(&nn->spd_by_sel, &old->sel_node,
					&pol->sel_node, by_sel_params));
	xa_store(&nn->policy_index, pol->index, pol, GFP_KERNEL_ACCOUNT);
	list_replace_rcu(&old->node, &pol->node);
	nn->policy_gen++;
	call_rcu(&old->rcu, policy_free_rcu);
	return 0;
}

static void policy_unlink(struct nfsec_net *nn, struct nfsec_policy *pol)
{
	lockdep_assert_held(&nn->lock);
	list_del_rcu(&pol->node);
	if (pol->key.side == NFSEC_SPD_REST)
		list_del_rcu(&pol->rest_node);
	host_unindex(nn, pol);
	ref_unindex(nn, pol);
	rhashtable_remove_fast(&nn->spd_by_sel, &pol->sel_node, by_sel_params);
	xa_erase(&nn->policy_index, pol->index);
	nn->policy_count--;
	nn->policy_gen++;
	call_rcu(&pol->rcu, policy_free_rcu);
}

/* Removes by index when index is non-zero, else by dir, selector, priority. */
int nfsec_policy_remove(struct nfsec_net *nn, u32 index, u8 dir,
			const struct nfsec_selector *sel, u32 priority)
{
	struct nfsec_policy *pol;

	lockdep_assert_held(&nn->lock);
	if (index)
		pol = xa_load(&nn->policy_index, index);
	else if (dir >= NFSEC_DIR_IN && dir <= NFSEC_DIR_FWD)
		pol = policy_find(nn, dir, sel, priority);
	else
		pol = NULL;
	if (!pol)
		return -ENOENT;
	policy_unlink(nn, pol);
	return 0;
}

void nfsec_spd_flush(struct nfsec_net *nn)
{
	struct nfsec_policy *pol, *tmp;
	int d;

	lockdep_assert_held(&nn->lock);
	for (d = NFSEC_DIR_IN; d <= NFSEC_DIR_FWD; d++) {
		list_for_each_entry_safe(pol, tmp, spd_list(nn, d), node) {
			policy_unlink(nn, pol);
			cond_resched();
		}
	}
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

/* rebind() for the policies of one key of spd_by_id or spd_by_reqid */
static void rebind_list(struct nfsec_net *nn, struct rhlist_head *list,
			struct nfsec_sa *gone, struct nfsec_sa *sa)
{
	struct nfsec_policy *pol;
	struct rhlist_head *pos;
	struct nfsec_sa *to;

	rhl_for_each_entry_rcu(pol, pos, list, ref_node) {
		to = rebind(nn, pol, gone, sa);
		if (to != bound(nn, pol))
			rcu_assign_pointer(pol->sa, to);
	}
}

/*
 * Points the protect policies at the SAs they name now that @gone left
 * the table and @sa entered it (see rebind()); with neither, after a
 * flush, at nothing. A policy never keeps a pointer to an SA it does not
 * fit, nor to one that is gone. Only the policies that name @gone or @sa
 * by SPI, and the OUT policies of their reqids, can change: they are
 * found in spd_by_id and spd_by_reqid; a flush walks them all.
 */
void nfsec_spd_bind(struct nfsec_net *nn, struct nfsec_sa *gone,
		    struct nfsec_sa *sa)
{
	struct nfsec_policy *pol;
	int d;

	lockdep_assert_held(&nn->lock);
	if (!gone && !sa) {
		for (d = NFSEC_DIR_IN; d <= NFSEC_DIR_FWD; d++)
			list_for_each_entry(pol, spd_list(nn, d), node)
				if (bound(nn, pol))
					RCU_INIT_POINTER(pol->sa, NULL);
		return;
	}
	rcu_read_lock();	/* (rhltable_lookup asks for it) */
	if (sa)
		rebind_list(nn, rhltable_lookup(&nn->spd_by_id, &sa->id,
						by_id_params), gone, sa);
	if (gone && (!sa || memcmp(&gone->id, &sa->id, sizeof(sa->id))))
		rebind_list(nn, rhltable_lookup(&nn->spd_by_id, &gone->id,
						by_id_params), gone, sa);
	if (sa && sa->reqid)
		rebind_list(nn, rhltable_lookup(&nn->spd_by_reqid, &sa->reqid,
						by_reqid_params), gone, sa);
	if (gone && gone->reqid && (!sa || gone->reqid != sa->reqid))
		rebind_list(nn, rhltable_lookup(&nn->spd_by_reqid,
						&gone->reqid, by_reqid_params),
			    gone, sa);
	rcu_read_unlock();
}

/*
 * An outbound SA with a reqid ran out on the packet path (nfsec_sa_spent):
 * the OUT policies that point at an SA no longer usable turn to the newest
 * usable one that fits, or to nothing. Until then they drop what they
 * match on the spent SA, counted there (expired, seq_exhausted). Only the
 * OUT policies by reqid, those of spd_by_reqid, are walked; a resize
 * meanwhile restarts the walk (-EAGAIN), which does no harm here.
 */
static void spd_refresh_work(struct work_struct *work)
{
	struct nfsec_net *nn = container_of(work, struct nfsec_net,
					    refresh_work);
	struct rhashtable_iter iter;
	struct nfsec_policy *pol;
	struct nfsec_sa *cur;

	mutex_lock(&nn->lock);
	rhltable_walk_enter(&nn->spd_by_reqid, &iter);
	rhashtable_walk_start(&iter);
	while ((pol = rhashtable_walk_next(&iter))) {
		if (IS_ERR(pol))
			continue;
		cur = bound(nn, pol);
		if (cur && !nfsec_sa_usable(cur))
			rcu_assign_pointer(pol->sa, newest(nn, pol));
	}
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);
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

int nfsec_spd_init(struct nfsec_net *nn)
{
	int d, err;

	for (d = 0; d < NFSEC_DIRS; d++) {
		INIT_LIST_HEAD(&nn->spd[d]);
		INIT_LIST_HEAD(&nn->spd_rest[d]);
	}
	xa_init_flags(&nn->policy_index, XA_FLAGS_ALLOC);
	INIT_WORK(&nn->refresh_work, spd_refresh_work);
	nn->match_pool = nfsec_ctr_pool_new(sizeof(u64));
	if (!nn->match_pool)
		return -ENOMEM;
	err = rhltable_init(&nn->spd_hosts, &hosts_params);
	if (err)
		goto err_pool;
	err = rhltable_init(&nn->spd_by_id, &by_id_params);
	if (err)
		goto err_hosts;
	err = rhltable_init(&nn->spd_by_reqid, &by_reqid_params);
	if (err)
		goto err_by_id;
	err = rhashtable_init(&nn->spd_by_sel, &by_sel_params);
	if (err)
		goto err_by_reqid;
	return 0;

err_by_reqid:
	rhltable_destroy(&nn->spd_by_reqid);
err_by_id:
	rhltable_destroy(&nn->spd_by_id);
err_hosts:
	rhltable_destroy(&nn->spd_hosts);
err_pool:
	nfsec_ctr_pool_put(nn->match_pool);
	return err;
}

/*
 * Namespace exit, once no packet can reach the hooks (nothing queues the
 * work any more): the work done, then every policy deleted, then the
 * indexes, empty.
 */
void nfsec_spd_uninit(struct nfsec_net *nn)
{
	cancel_work_sync(&nn->refresh_work);
	mutex_lock(&nn->lock);
	nfsec_spd_flush(nn);
	mutex_unlock(&nn->lock);
	rhashtable_destroy(&nn->spd_by_sel);
	rhltable_destroy(&nn->spd_by_reqid);
	rhltable_destroy(&nn->spd_by_id);
	rhltable_destroy(&nn->spd_hosts);
	xa_destroy(&nn->policy_index);
	/* the policies still to be freed (after a grace period) keep it */
	nfsec_ctr_pool_put(nn->match_pool);
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

/*
 * @best, or the policy hashed by @flow's address on @side (its dst or its
 * src), cut to one of the prefix lengths hashed there, that comes first,
 * if it comes before @best and matches: one hash lookup per length.
 */
static struct nfsec_policy *host_match(struct nfsec_net *nn, u8 dir,
				       const struct nfsec_flow *flow, u8 side,
				       struct nfsec_policy *best)
{
	const unsigned long *map =
		nn->spd_plens[dir - 1][side][fam_index(flow->family)];
	unsigned long plens[BITS_TO_LONGS(NFSEC_PLEN_MAX + 1)];
	struct nfsec_policy *pol;
	struct rhlist_head *pos;
	struct nfsec_spd_key key;
	unsigned int i, plen;

	/* (the control path may change it meanwhile: a snapshot) */
	for (i = 0; i < ARRAY_SIZE(plens); i++)
		plens[i] = READ_ONCE(map[i]);
	for_each_set_bit(plen, plens, NFSEC_PLEN_MAX + 1) {
		host_key(&key, dir, flow->family, side, plen,
			 side == NFSEC_SPD_DST ? &flow->dst : &flow->src);
		rhl_for_each_entry_rcu(pol, pos,
				       rhltable_lookup(&nn->spd_hosts, &key,
						       hosts_params),
				       host_node)
			if ((!best || before(pol, best)) &&
			    selector_match(pol, flow))
				best = pol;
	}
	return best;
}

/*
 * The first policy of @dir, in the SPD's order, that matches @flow, under
 * rcu_read_lock(): the first of those hashed by the packet's dst, those
 * hashed by its src and the first that matches on the rest list, which is
 * in order, so its walk ends at the first entry that comes after the best
 * found. Every policy is in one of the three, and a hashed one can match
 * only a packet within its prefix: one lookup per prefix length in use
 * finds it (at most 33 per side for IPv4, 129 for IPv6; a few in
 * practice).
 */
struct nfsec_policy *nfsec_spd_lookup(struct nfsec_net *nn, u8 dir,
				      const struct nfsec_flow *flow)
{
	struct nfsec_policy *pol, *best;

	best = host_match(nn, dir, flow, NFSEC_SPD_DST, NULL);
	best = host_match(nn, dir, flow, NFSEC_SPD_SRC, best);
	list_for_each_entry_rcu(pol, rest_list(nn, dir), rest_node) {
		if (best && before(best, pol))
			break;
		if (selector_match(pol, flow)) {
			best = pol;
			break;
		}
	}
	if (best)
		this_cpu_inc(*best->matches);
	return best;
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
