// SPDX-License-Identifier: GPL-2.0
/*
 * Inbound crypto on the next CPU.
 *
 * A flow's packets are sent and received on the CPU that makes them: on a
 * host whose sender and receiver share the machine (veth between
 * namespaces, a gateway with one busy queue), one CPU encrypts a packet,
 * then decrypts it in the same softirq, while the other CPUs wait. With
 * rx_spread on (the default), an inbound packet's request, once made,
 * with others waiting behind it (nfsec_spread() says when), is not run
 * here: it goes on this CPU's queue, and a NAPI context of this CPU's,
 * scheduled on the next online CPU by an IPI, decrypts the queue there.
 * Each request then comes back: a second NAPI context of this CPU's,
 * scheduled here, runs the rest (replay window, decapsulation, policy,
 * GRO, the inner stack) on this CPU, in the order the packets came in.
 * Only the crypto moved.
 * The IPIs are sent when a list was empty and its NAPI context idle; a
 * busy list is run in batches of up to 64, so one IPI serves many.
 *
 * Why back: an inner packet taken in on the next CPU is answered from
 * there, so its peer, seeing answers from two CPUs, sends from two; where
 * a link queues packets per sending CPU (veth hands each to the sender's
 * backlog), one SA's ESP then arrives reordered by more than a replay
 * window, and is dropped (60-strongswan's gateways saw 7 replay_old of
 * 1375 when the spread delivered on the next CPU). Coming back, a flow
 * stays on the CPU its packets arrive on, as RSS or RPS placed it.
 *
 * Order: one CPU's queue is decrypted in order by one poll at a time (the
 * NAPI context's SCHED bit), and comes back to one list that one poll
 * runs in order; a packet arriving while earlier ones are out (queued !=
 * settled) goes the same way, never past them, even once rx_spread is
 * off. A driver that completes asynchronously (cryptd when the FPU is not
 * usable, pcrypt, hardware) can still let a packet that went over pass one
 * that ran here, where without the spread it would keep one CPU's order;
 * the replay window takes such reordering, as it does the network's. A
 * request out counts as in crypto (nfsec_inflight_get()) until finished:
 * the lists are bounded by the SA's and namespace's limits, and a
 * namespace's exit waits for them like for any crypto in flight.
 *
 * A NAPI context runs wherever it was scheduled: if the target CPU cannot
 * take the IPI (going offline), it is scheduled here instead, and a CPU
 * going offline hands its scheduled contexts to a live one. Then a back
 * list is finished off its CPU, still in order.
 */

#include "nfsec.h"

#include <linux/llist.h>
#include <linux/netdevice.h>
#include <linux/rcupdate.h>
#include <linux/smp.h>

static bool rx_spread = true;
module_param(rx_spread, bool, 0644);
MODULE_PARM_DESC(rx_spread,
		 "decrypt inbound packet trains on the next CPU (default on)");

struct spread_cpu {
	/* out: requests made here, for the next CPU to decrypt */
	struct llist_head queue;	/* added to by this CPU only */
	struct llist_node *run;		/* taken from queue, oldest first */
	struct napi_struct napi;	/* runs queue, on the next CPU */
	call_single_data_t csd;
	/* back: those decrypted, for this CPU to finish */
	struct llist_head back;
	struct llist_node *back_run;	/* taken from back, oldest first */
	struct napi_struct back_napi;	/* runs back, here */
	call_single_data_t back_csd;
	unsigned long queued;		/* written by this CPU only */
	atomic_long_t settled;		/* finished back here, or dropped */
};

static DEFINE_PER_CPU(struct spread_cpu, spread_cpus);
/* the NAPI contexts' device: it is never registered and carries nothing */
static struct net_device spread_dev;

/* In an IPI: the NAPI context's poll runs at the irq's exit. */
static void spread_ipi(void *info)
{
	__napi_schedule_irqoff(info);
}

/*
 * Schedules @napi on @cpu (an IPI) or, when that CPU cannot take one
 * (going offline), here. BHs are off.
 */
static void schedule_on(int cpu, struct napi_struct *napi,
			call_single_data_t *csd)
{
	if (!napi_schedule_prep(napi))
		return;		/* scheduled already: it will see the list */
	if (cpu == smp_processor_id() || smp_call_function_single_async(cpu, csd))
		__napi_schedule(napi);
}

/* Takes the oldest entry of @list, refilling @run from it when empty. */
static struct nfsec_crypt *take(struct llist_head *list,
				struct llist_node **run)
{
	struct nfsec_crypt *c;

	if (!*run) {
		*run = llist_reverse_order(llist_del_all(list));
		if (!*run)
			return NULL;
	}
	c = llist_entry(*run, struct nfsec_crypt, node);
	*run = (*run)->next;
	return c;
}

/*
 * The request's crypto is done (on the next CPU, or in a driver's
 * completion, anywhere): back to the CPU it came from, to be finished there.
 */
static void spread_done(struct nfsec_crypt *c, int err)
{
	int cpu = c->home;	/* (once added, c is the back poll's) */
	struct spread_cpu *home = per_cpu_ptr(&spread_cpus, cpu);

	c->err = err;
	if (llist_add(&c->node, &home->back))
		schedule_on(cpu, &home->back_napi, &home->back_csd);
}

/*
 * Runs up to @budget requests of @list in the order they were added, each
 * by @step (in the hook's RCU read-side section, as the hook had it), and
 * adds those that settled here to @sc's count: all of them when @step
 * finishes them, those it returns false for (dropped) when it decrypts.
 */
static __always_inline int poll_list(struct napi_struct *napi, int budget,
				     struct spread_cpu *sc,
				     struct llist_head *list,
				     struct llist_node **run,
				     bool (*step)(struct nfsec_crypt *c))
{
	struct nfsec_crypt *c;
	int done = 0, settled = 0;

	while (done < budget && (c = take(list, run))) {
		rcu_read_lock();
		if (!step(c))		/* c is gone either way */
			settled++;
		rcu_read_unlock();
		done++;
	}
	if (settled)
		atomic_long_add(settled, &sc->settled);
	/* (a request added meanwhile marked it missed: it runs again) */
	if (done < budget)
		napi_complete_done(napi, done);
	return done;
}

/* On the next CPU: decrypts a batch of the queue of the CPU it serves. */
static int spread_poll(struct napi_struct *napi, int budget)
{
	struct spread_cpu *sc = container_of(napi, struct spread_cpu, napi);

	return poll_list(napi, budget, sc, &sc->queue, &sc->run,
			 nfsec_input_crypt);
}

/* Finishes one that came back; false: it has settled. */
static bool finish_back(struct nfsec_crypt *c)
{
	nfsec_input_finish(c, c->err);
	return false;
}

/* Home again: finishes the decrypted requests, in the order they left. */
static int back_poll(struct napi_struct *napi, int budget)
{
	struct spread_cpu *sc = container_of(napi, struct spread_cpu,
					     back_napi);

	return poll_list(napi, budget, sc, &sc->back, &sc->back_run,
			 finish_back);
}

static int next_cpu(int cpu)
{
	int next = cpumask_next(cpu, cpu_online_mask);

	return next < nr_cpu_ids ? next : cpumask_first(cpu_online_mask);
}

/* Packets wait in this CPU's backlog (netif_rx(): veth, loopback, RPS). */
static bool backlog_waits(void)
{
	struct softnet_data *sd = this_cpu_ptr(&softnet_data);

	return skb_queue_len(&sd->process_queue) ||
	       skb_queue_len_lockless(&sd->input_pkt_queue);
}

bool nfsec_spread(struct nfsec_crypt *c)
{
	struct spread_cpu *sc;
	int cpu, next;
	bool behind;

	local_bh_disable();
	sc = this_cpu_ptr(&spread_cpus);
	/*
	 * Earlier packets not back yet: this one follows them, whatever
	 * rx_spread and the CPUs online say now (order). Else a packet alone
	 * runs here: handing it over costs two IPIs and a wait for the
	 * other CPU, more than its crypto (a ping's round trip grew by half
	 * under TCG). It goes over when more packets wait behind it on this
	 * CPU (a GSO train that veth queued to the backlog).
	 */
	behind = sc->queued != (unsigned long)atomic_long_read(&sc->settled);
	if (!behind && (!READ_ONCE(rx_spread) || !backlog_waits()))
		goto here;
	cpu = smp_processor_id();
	next = next_cpu(cpu);
	if (next == cpu && !behind)
		goto here;	/* (else its poll runs here, after them) */
	sc->queued++;
	nfsec_counter_inc(c->sa->nn->counters, NFSEC_NET_SPREAD);
	c->home = cpu;
	c->finish = spread_done;
	if (llist_add(&c->node, &sc->queue))
		schedule_on(next, &sc->napi, &sc->csd);
	local_bh_enable();
	return true;
here:
	local_bh_enable();
	return false;
}

int nfsec_spread_init(void)
{
	int cpu, err;

	err = init_dummy_netdev(&spread_dev);
	if (err)
		return err;
	for_each_possible_cpu(cpu) {
		struct spread_cpu *sc = per_cpu_ptr(&spread_cpus, cpu);

		init_llist_head(&sc->queue);
		init_llist_head(&sc->back);
		atomic_long_set(&sc->settled, 0);
		INIT_CSD(&sc->csd, spread_ipi, &sc->napi);
		INIT_CSD(&sc->back_csd, spread_ipi, &sc->back_napi);
		netif_napi_add(&spread_dev, &sc->napi, spread_poll);
		netif_napi_add(&spread_dev, &sc->back_napi, back_poll);
		napi_enable(&sc->napi);
		napi_enable(&sc->back_napi);
	}
	return 0;
}

/* After every namespace is gone: nothing is queued, nor will be. */
void nfsec_spread_exit(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct spread_cpu *sc = per_cpu_ptr(&spread_cpus, cpu);

		napi_disable(&sc->napi);
		napi_disable(&sc->back_napi);
		netif_napi_del(&sc->napi);
		netif_napi_del(&sc->back_napi);
		WARN_ON_ONCE(!llist_empty(&sc->queue) || sc->run ||
			     !llist_empty(&sc->back) || sc->back_run);
	}
}
