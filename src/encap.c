// SPDX-License-Identifier: GPL-2.0
/*
 * ESP in UDP (RFC 3948), what is not one datagram's work: an ENCAP SA's
 * peer, the ports that inbound ENCAP SAs take datagrams on, NAT mapping
 * changes (told to userspace, and followed with FOLLOW) and NAT
 * keepalives. The datagrams themselves are input.c's and output.c's.
 *
 * A NAT between two peers may give one of them a new public address or
 * port at any time (its mapping timed out, or it restarted). Only a
 * datagram that authenticated and was not a replay tells of such a
 * change: anyone can send a datagram from any address. The packet path
 * queues it (at most one per SA a second); mapping_work, in process
 * context under nfsec_net.lock, moves the peers and sends the event.
 */

#include "nfsec.h"

#include <linux/jiffies.h>
#include <linux/slab.h>

/* Mapping changes that may wait for mapping_work in a namespace. */
#define MAPPING_QUEUE_MAX	64

struct nfsec_mapping {
	struct list_head node;		/* in nfsec_net.mappings */
	struct nfsec_sa *sa;		/* holds a reference */
	union nfsec_addr addr;		/* where the datagram came from */
	__be16 port;
};

static unsigned int addr_len(u8 family)
{
	return family == AF_INET ? sizeof(__be32) : sizeof(struct in6_addr);
}

static bool peer_is(const struct nfsec_peer *peer, u8 family,
		    const union nfsec_addr *addr, __be16 port)
{
	return peer->port == port && !memcmp(&peer->addr, addr,
					     addr_len(family));
}

static struct nfsec_peer *peer_alloc(const union nfsec_addr *addr,
				     __be16 port, gfp_t gfp)
{
	struct nfsec_peer *peer = kzalloc(sizeof(*peer), gfp);

	if (peer) {
		peer->addr = *addr;
		peer->port = port;
	}
	return peer;
}

/*
 * The SA's encapsulation as given, and its peer: outbound, the SA's
 * destination and DPORT; inbound, its source and SPORT.
 */
int nfsec_encap_init(struct nfsec_sa *sa, const struct nfsec_sa_params *p)
{
	bool out = p->dir == NFSEC_DIR_OUT;
	struct nfsec_peer *peer;

	sa->encap = p->encap;
	sa->mapping_next = jiffies;
	sa->keepalive_last = jiffies;
	if (!p->encap.type)
		return 0;
	peer = peer_alloc(out ? &p->id.daddr : &p->saddr,
			  htons(out ? p->encap.dport : p->encap.sport),
			  GFP_KERNEL_ACCOUNT);
	if (!peer)
		return -ENOMEM;
	RCU_INIT_POINTER(sa->peer, peer);
	return 0;
}

/* The SA is being freed: no reader is left. */
void nfsec_encap_uninit(struct nfsec_sa *sa)
{
	kfree(rcu_dereference_protected(sa->peer, true));
}

/*
 * An SA enters the table: an inbound ENCAP SA's port is one that
 * datagrams are examined on from now; an outbound SA's keepalive starts.
 */
int nfsec_encap_hash(struct nfsec_net *nn, struct nfsec_sa *sa)
{
	u16 port = sa->encap.dport;
	unsigned long n;
	void *v;

	lockdep_assert_held(&nn->lock);
	if (!sa->encap.type)
		return 0;
	if (sa->dir == NFSEC_DIR_OUT) {
		if (!sa->encap.keepalive)
			return 0;
		if (list_empty(&nn->keepalives))
			nfsec_keepalive_kick(nn);
		list_add_tail(&sa->keepalive_node, &nn->keepalives);
		return 0;
	}
	v = xa_load(&nn->encap_ports, port);
	n = v ? xa_to_value(v) : 0;
	return xa_err(xa_store(&nn->encap_ports, port, xa_mk_value(n + 1),
			       GFP_KERNEL_ACCOUNT));
}

/* The SA leaves the table. */
void nfsec_encap_unhash(struct nfsec_net *nn, struct nfsec_sa *sa)
{
	u16 port = sa->encap.dport;
	unsigned long n;
	void *v;

	lockdep_assert_held(&nn->lock);
	if (!sa->encap.type)
		return;
	if (sa->dir == NFSEC_DIR_OUT) {
		if (sa->encap.keepalive)
			list_del(&sa->keepalive_node);
		return;
	}
	v = xa_load(&nn->encap_ports, port);
	n = v ? xa_to_value(v) : 0;
	if (n <= 1)
		xa_erase(&nn->encap_ports, port);
	else	/* (an entry in place: nothing to allocate) */
		WARN_ON_ONCE(xa_err(xa_store(&nn->encap_ports, port,
					     xa_mk_value(n - 1), GFP_KERNEL)));
}

bool nfsec_encap_port(struct nfsec_net *nn, u16 port)
{
	return xa_load(&nn->encap_ports, port);
}

/*
 * The packet path, after @sa's ICV verified a datagram and its sequence
 * number was committed: if it came from elsewhere than the SA's peer,
 * queue the change for mapping_work.
 */
void nfsec_encap_seen(struct nfsec_sa *sa, const union nfsec_addr *addr,
		      __be16 port)
{
	struct nfsec_net *nn = sa->nn;
	const struct nfsec_peer *peer;
	struct nfsec_mapping *m;
	unsigned long next;
	bool same;

	rcu_read_lock();
	peer = rcu_dereference(sa->peer);
	same = !peer || peer_is(peer, sa->id.family, addr, port);
	rcu_read_unlock();
	if (same)
		return;
	next = READ_ONCE(sa->mapping_next);
	if (time_before(jiffies, next) ||
	    cmpxchg(&sa->mapping_next, next, jiffies + HZ) != next)
		goto limited;
	m = kzalloc(sizeof(*m), GFP_ATOMIC);
	if (!m)
		goto limited;
	m->addr = *addr;
	m->port = port;
	m->sa = sa;
	spin_lock_bh(&nn->mapping_lock);
	/* (the packet holds a reference: this one cannot fail) */
	if (nn->mappings_queued >= MAPPING_QUEUE_MAX || !nfsec_sa_get(sa)) {
		spin_unlock_bh(&nn->mapping_lock);
		kfree(m);
		goto limited;
	}
	list_add_tail(&m->node, &nn->mappings);
	nn->mappings_queued++;
	spin_unlock_bh(&nn->mapping_lock);
	queue_work(nfsec_wq, &nn->mapping_work);
	return;
limited:
	nfsec_counter_inc(nn->counters, NFSEC_NET_MAPPING_LIMITED);
}

/* Moves an SA's peer (under nfsec_net.lock); false without memory. */
static bool peer_move(struct nfsec_net *nn, struct nfsec_sa *sa,
		      const union nfsec_addr *addr, __be16 port)
{
	struct nfsec_peer *peer = peer_alloc(addr, port, GFP_KERNEL);

	if (!peer)
		return false;
	peer = rcu_replace_pointer(sa->peer, peer, lockdep_is_held(&nn->lock));
	kfree_rcu(peer, rcu);
	return true;
}

/*
 * FOLLOW: the outbound ENCAP SAs of @in's reqid (which FOLLOW requires)
 * whose peer is @in's (@old) take the new address and port, and then @in
 * does. In transport mode an outbound SA's packets keep their own
 * addresses: only its port moves. Without memory for one of them, @in
 * stays, and the next datagram from the new place tries again (the moved
 * ones no longer match the old peer). Returns how many outbound SAs moved.
 */
static u32 follow(struct nfsec_net *nn, struct nfsec_sa *in,
		  const struct nfsec_peer *old, const struct nfsec_mapping *m)
{
	struct nfsec_sa *sa;
	bool all = true;
	u32 n = 0;

	hash_for_each_possible(nn->reqid_hash, sa, reqid_node, in->reqid) {
		const struct nfsec_peer *p;

		if (sa->reqid != in->reqid || sa->dir != NFSEC_DIR_OUT ||
		    !sa->encap.type || sa->id.family != in->id.family)
			continue;
		p = rcu_dereference_protected(sa->peer,
					      lockdep_is_held(&nn->lock));
		if (!peer_is(p, sa->id.family, &old->addr, old->port))
			continue;
		if (peer_move(nn, sa, sa->mode == NFSEC_MODE_TUNNEL ?
			      &m->addr : &old->addr, m->port))
			n++;
		else
			all = false;
	}
	if (all)
		peer_move(nn, in, &m->addr, m->port);
	return n;
}

static void mapping_apply(struct nfsec_net *nn, struct nfsec_mapping *m)
{
	struct nfsec_sa *sa = m->sa;
	const struct nfsec_peer *old;
	struct nfsec_mapping_event ev = {
		.sa = sa,
		.new_addr = m->addr,
		.new_port = m->port,
	};

	old = rcu_dereference_protected(sa->peer, lockdep_is_held(&nn->lock));
	/* (queued twice before the first one moved the peer) */
	if (sa->dead || peer_is(old, sa->id.family, &m->addr, m->port))
		return;
	ev.old_addr = old->addr;
	ev.old_port = old->port;
	if (sa->encap.flags & NFSEC_ENCAP_F_FOLLOW)
		ev.followed = follow(nn, sa, old, m);
	nfsec_counter_inc(nn->counters, NFSEC_NET_MAPPING);
	nfsec_netlink_notify_mapping(nn, &ev);
}

static void mapping_work(struct work_struct *work)
{
	struct nfsec_net *nn = container_of(work, struct nfsec_net,
					    mapping_work);
	struct nfsec_mapping *m, *tmp;
	LIST_HEAD(todo);

	spin_lock_bh(&nn->mapping_lock);
	list_splice_init(&nn->mappings, &todo);
	nn->mappings_queued = 0;
	spin_unlock_bh(&nn->mapping_lock);
	mutex_lock(&nn->lock);
	list_for_each_entry_safe(m, tmp, &todo, node) {
		mapping_apply(nn, m);
		nfsec_sa_put(m->sa);
		kfree(m);
		cond_resched();
	}
	mutex_unlock(&nn->lock);
}

/*
 * Keepalives (RFC 3948 2.3): an outbound SA with a keepalive that has
 * carried nothing either way for that long sends the peer a one-byte
 * 0xFF datagram, so that a NAT in between keeps its mapping. The work
 * runs every second while the namespace has such an SA, and looks at
 * those SAs only (nfsec_net.keepalives).
 */
static void keepalive_one(struct nfsec_sa *sa, unsigned long now)
{
	unsigned long last = READ_ONCE(sa->keepalive_last);
	const struct nfsec_peer *peer;

	if (READ_ONCE(sa->first_use) &&
	    time_after(READ_ONCE(sa->last_use), last))
		last = READ_ONCE(sa->last_use);
	if (time_before(now, last + sa->encap.keepalive * HZ))
		return;
	WRITE_ONCE(sa->keepalive_last, now);
	peer = rcu_dereference_protected(sa->peer,
					 lockdep_is_held(&sa->nn->lock));
	nfsec_keepalive_send(sa, peer);
}

static void keepalive_work(struct work_struct *work)
{
	struct nfsec_net *nn = container_of(to_delayed_work(work),
					    struct nfsec_net, keepalive_work);
	unsigned long now = jiffies;
	struct nfsec_sa *sa;

	mutex_lock(&nn->lock);
	list_for_each_entry(sa, &nn->keepalives, keepalive_node) {
		keepalive_one(sa, now);
		cond_resched();
	}
	if (!list_empty(&nn->keepalives))
		queue_delayed_work(nfsec_wq, &nn->keepalive_work, HZ);
	mutex_unlock(&nn->lock);
}

void nfsec_keepalive_kick(struct nfsec_net *nn)
{
	queue_delayed_work(nfsec_wq, &nn->keepalive_work, HZ);
}

void nfsec_encap_net_init(struct nfsec_net *nn)
{
	xa_init(&nn->encap_ports);
	spin_lock_init(&nn->mapping_lock);
	INIT_LIST_HEAD(&nn->mappings);
	INIT_WORK(&nn->mapping_work, mapping_work);
	INIT_DELAYED_WORK(&nn->keepalive_work, keepalive_work);
	INIT_LIST_HEAD(&nn->keepalives);
}

/*
 * Namespace exit, once no packet is left in flight (none queues a mapping
 * change any more) and before the SAs go.
 */
void nfsec_encap_net_uninit(struct nfsec_net *nn)
{
	struct nfsec_mapping *m, *tmp;

	cancel_work_sync(&nn->mapping_work);
	cancel_delayed_work_sync(&nn->keepalive_work);
	list_for_each_entry_safe(m, tmp, &nn->mappings, node) {
		nfsec_sa_put(m->sa);
		kfree(m);
	}
	INIT_LIST_HEAD(&nn->mappings);
}
