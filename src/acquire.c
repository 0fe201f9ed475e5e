// SPDX-License-Identifier: GPL-2.0
/*
 * Acquire events: a packet matched an OUT protect policy that names its SAs
 * by reqid, and no usable SA of the reqid fits it. output.c drops the
 * packet (fail closed) and calls here; a key-exchange daemon listening to
 * the events group learns which policy and flow want SAs (RFC 4301 4.4).
 *
 * An attacker who can make this host send packets can make it send them
 * for as many flows as it likes, so the events are limited twice, with
 * state of a fixed size:
 *
 *  - per policy and flow: one event within acquire_interval_ms. A policy
 *    remembers NFSEC_ACQUIRE_FLOWS flows in sets of NFSEC_ACQUIRE_FLOW_WAYS,
 *    picked by a keyed hash of the flow; a new flow takes the set's way told
 *    longest ago. A flow pushed out by newer flows of its set within the
 *    interval may be told again, which the second limit bounds.
 *  - per namespace: acquire_per_sec events in a window of a second, which
 *    opens with the first event after the last window closed.
 *
 * Both are checked and updated under nfsec_net.acquire_lock, a leaf lock
 * held for a few comparisons; the event is built and sent after it, with
 * GFP_ATOMIC.
 */

#include "nfsec.h"

#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/siphash.h>
#include <linux/slab.h>

static unsigned int acquire_interval_ms = NFSEC_ACQUIRE_INTERVAL_MS_DEFAULT;
module_param(acquire_interval_ms, uint, 0644);
MODULE_PARM_DESC(acquire_interval_ms,
		 "milliseconds between acquire events of one policy and flow");

static unsigned int acquire_per_sec = NFSEC_ACQUIRE_PER_SEC_DEFAULT;
module_param(acquire_per_sec, uint, 0644);
MODULE_PARM_DESC(acquire_per_sec,
		 "acquire events per second per namespace (0: none)");

#define ACQUIRE_SETS (NFSEC_ACQUIRE_FLOWS / NFSEC_ACQUIRE_FLOW_WAYS)
static_assert(ACQUIRE_SETS && !(ACQUIRE_SETS & (ACQUIRE_SETS - 1)));

/* A flow as the table keeps it: no padding, so memcmp compares it. */
struct acquire_key {
	union nfsec_addr src, dst;
	u16 sport, dport;
	u8 family, proto;
	u16 zero;
};

struct acquire_way {
	struct acquire_key key;
	unsigned long told;		/* jiffies; in use when key.family */
};

struct nfsec_acquire {
	struct acquire_way way[ACQUIRE_SETS][NFSEC_ACQUIRE_FLOW_WAYS];
};

static siphash_key_t flow_secret __read_mostly;

struct nfsec_acquire *nfsec_acquire_alloc(void)
{
	net_get_random_once(&flow_secret, sizeof(flow_secret));
	return kzalloc(sizeof(struct nfsec_acquire), GFP_KERNEL_ACCOUNT);
}

void nfsec_acquire_free(struct nfsec_acquire *acq)
{
	kfree(acq);
}

/*
 * The way of the policy's table that holds @key, or else the one it would
 * take: an unused one, or the one told longest ago.
 */
static struct acquire_way *find_way(struct nfsec_acquire *acq,
				    const struct acquire_key *key)
{
	unsigned int set = siphash(key, sizeof(*key), &flow_secret) &
			   (ACQUIRE_SETS - 1);
	struct acquire_way *ways = acq->way[set], *pick = NULL;
	unsigned int i;

	for (i = 0; i < NFSEC_ACQUIRE_FLOW_WAYS; i++) {
		struct acquire_way *w = &ways[i];

		if (!memcmp(&w->key, key, sizeof(*key)))
			return w;
		if (!pick || (pick->key.family &&
			      (!w->key.family ||
			       time_before(w->told, pick->told))))
			pick = w;
	}
	return pick;
}

/* May the namespace send one more event in its window of a second? */
static bool net_allows(struct nfsec_net *nn, unsigned long now)
{
	unsigned int cap = READ_ONCE(acquire_per_sec);

	if (!nn->acquire_sent || !time_before(now, nn->acquire_start + HZ)) {
		nn->acquire_start = now;
		nn->acquire_sent = 0;
	}
	if (nn->acquire_sent >= cap)
		return false;
	nn->acquire_sent++;
	return true;
}

static bool allowed(struct nfsec_net *nn, const struct nfsec_policy *pol,
		    const struct nfsec_flow *flow)
{
	unsigned long interval =
		msecs_to_jiffies(READ_ONCE(acquire_interval_ms));
	unsigned long now = jiffies;
	struct acquire_key key;
	struct acquire_way *w;
	bool ok = false;

	memset(&key, 0, sizeof(key));
	key.src = flow->src;
	key.dst = flow->dst;
	key.sport = flow->sport;
	key.dport = flow->dport;
	key.family = flow->family;
	key.proto = flow->proto;
	spin_lock_bh(&nn->acquire_lock);
	w = find_way(pol->acquire, &key);
	if (interval && !memcmp(&w->key, &key, sizeof(key)) &&
	    time_before(now, w->told + interval))
		goto out;
	if (!net_allows(nn, now))
		goto out;
	w->key = key;
	w->told = now;
	ok = true;
out:
	spin_unlock_bh(&nn->acquire_lock);
	return ok;
}

void nfsec_acquire(struct nfsec_net *nn, const struct nfsec_policy *pol,
		   const struct nfsec_flow *flow)
{
	if (!pol->acquire || !nfsec_netlink_listening(nn))
		return;
	if (!allowed(nn, pol, flow)) {
		nfsec_counter_inc(nn->counters, NFSEC_NET_ACQUIRE_LIMITED);
		return;
	}
	if (nfsec_netlink_notify_acquire(nn, pol, flow))
		nfsec_counter_inc(nn->counters, NFSEC_NET_ACQUIRE_FAILED);
	else
		nfsec_counter_inc(nn->counters, NFSEC_NET_ACQUIRE);
}
