// SPDX-License-Identifier: GPL-2.0
/*
 * Inbound crypto on the next CPU.
 *
 * A flow's packets are sent and received on the CPU that makes them: on a
 * host whose sender and receiver share the machine (veth between
 * namespaces, a gateway with one busy queue), one CPU encrypts a packet,
 * then decrypts it in the same softirq, while the other CPUs wait. With
 * rx_spread on, an inbound packet's request, once made, with others
 * waiting behind it (nfsec_spread() says when), is not run here: it goes
 * on this CPU's queue, and a NAPI context of this CPU's, scheduled on the
 * next online CPU by an IPI, runs the queue there.
 * The IPI is sent when the queue was empty and the NAPI context idle; a
 * busy queue is drained in batches of up to 64 requests per poll, so one
 * IPI serves many packets.
 *
 * Off by default. A flow split this way runs on two CPUs from then on:
 * the receiver answers from the next CPU, so its peer sends from both.
 * Where a link queues packets per sending CPU (veth hands each to the
 * sender's backlog), one SA's ESP can then arrive reordered by more than
 * a replay window, and is dropped (60-strongswan's gateways saw it: 7
 * replay_old of 1375). A NIC's receive queue does not reorder that way.
 *
 * Order: one CPU's queue is run in order by one poll at a time (the NAPI
 * context's SCHED bit), so packets keep the order they came in on that
 * CPU. A queued request counts as in crypto (nfsec_inflight_get()): the
 * queue is bounded by the SA's and namespace's limits, and a namespace's
 * exit waits for it like for any crypto in flight.
 *
 * A queue's NAPI context runs wherever it was scheduled: if the next CPU
 * cannot take the IPI (going offline), it is scheduled here instead, and
 * a CPU going offline hands its scheduled contexts to a live one.
 */

#include "nfsec.h"

#include <linux/llist.h>
#include <linux/netdevice.h>
#include <linux/rcupdate.h>
#include <linux/smp.h>

static bool rx_spread;
module_param(rx_spread, bool, 0644);
MODULE_PARM_DESC(rx_spread, "decrypt inbound packets on the next CPU");

struct spread_cpu {
	struct llist_head queue;	/* requests, added by this CPU only */
	unsigned long queued;		/* written by this CPU only */
	unsigned long ran;		/* written by the poll only */
	struct llist_node *run;		/* taken from queue, oldest first */
	struct napi_struct napi;
	call_single_data_t csd;
};

static DEFINE_PER_CPU(struct spread_cpu, spread_cpus);
/* the NAPI contexts' device: it is never registered and carries nothing */
static struct net_device spread_dev;

static int spread_poll(struct napi_struct *napi, int budget)
{
	struct spread_cpu *sc = container_of(napi, struct spread_cpu, napi);
	int done = 0;

	while (done < budget) {
		struct nfsec_crypt *c;

		if (!sc->run) {
			sc->run = llist_reverse_order(llist_del_all(&sc->queue));
			if (!sc->run)
				break;
		}
		c = llist_entry(sc->run, struct nfsec_crypt, node);
		sc->run = sc->run->next;
		/* the hook's RCU read-side section, as the hook had it */
		rcu_read_lock();
		nfsec_input_crypt(c);
		rcu_read_unlock();
		done++;
	}
	WRITE_ONCE(sc->ran, sc->ran + done);
	/* (a request queued meanwhile marked it missed: it runs again) */
	if (done < budget)
		napi_complete_done(napi, done);
	return done;
}

/* On the next CPU, in the IPI: the queue's poll runs at the irq's exit. */
static void spread_ipi(void *info)
{
	__napi_schedule_irqoff(info);
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

	if (!READ_ONCE(rx_spread))
		return false;
	local_bh_disable();
	sc = this_cpu_ptr(&spread_cpus);
	/*
	 * A packet alone runs here: handing it over costs an IPI and a wait
	 * for the other CPU, more than its crypto (a ping's round trip grew
	 * by half under TCG). It goes over when more packets wait behind it
	 * on this CPU (a GSO train that veth queued to the backlog), or when
	 * earlier ones are still queued (order).
	 */
	if (sc->queued == READ_ONCE(sc->ran) && !backlog_waits())
		goto here;
	cpu = smp_processor_id();
	next = next_cpu(cpu);
	if (next == cpu)
		goto here;
	sc->queued++;
	if (llist_add(&c->node, &sc->queue) && napi_schedule_prep(&sc->napi) &&
	    smp_call_function_single_async(next, &sc->csd))
		__napi_schedule(&sc->napi);	/* next is going away: here */
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
		INIT_CSD(&sc->csd, spread_ipi, &sc->napi);
		netif_napi_add(&spread_dev, &sc->napi, spread_poll);
		napi_enable(&sc->napi);
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
		netif_napi_del(&sc->napi);
		WARN_ON_ONCE(!llist_empty(&sc->queue) || sc->run);
	}
}
