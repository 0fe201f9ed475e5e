// SPDX-License-Identifier: GPL-2.0
/*
 * One SA's crypto spread over the CPUs, its packets kept in order.
 *
 * A flow's packets reach nfsec on one CPU at a time; encrypting each where
 * it arrives leaves the other CPUs idle while that one is the bottleneck.
 * So the packet path hands each crypto request to a worker on the next
 * online CPU in turn (a ring and a work item per CPU), after putting it at
 * the tail of its SA's queue. A worker runs the crypto and marks the
 * request done; then whoever finds finished requests at the head of the
 * queue takes them off and lets them out (c->deliver), in the order they
 * were queued. One taker at a time (nfsec_pqueue.busy), and it delivers
 * outside the lock: a delivered packet may well come back into nfsec.
 *
 * With a single CPU online, or a full ring, the crypto runs where the
 * packet is, through the same queue.
 */

#include "nfsec.h"

#include <linux/cpumask.h>
#include <linux/ptr_ring.h>
#include <linux/spinlock.h>

#define NFSEC_PAR_RING	1024

struct nfsec_par_worker {
	struct ptr_ring ring;		/* of struct nfsec_crypt */
	struct work_struct work;
};

static struct nfsec_par_worker __percpu *workers;
static struct workqueue_struct *crypt_wq;

void nfsec_pqueue_init(struct nfsec_pqueue *q)
{
	spin_lock_init(&q->lock);
	INIT_LIST_HEAD(&q->list);
	q->busy = false;
	q->last_cpu = -1;
}

/* Delivers, in order, the finished requests at the head of @q. */
static void pqueue_flush(struct nfsec_pqueue *q)
{
	struct nfsec_crypt *c, *next;
	LIST_HEAD(done);

	spin_lock_bh(&q->lock);
	if (q->busy) {
		/* the taker looks at the head again before it stops */
		spin_unlock_bh(&q->lock);
		return;
	}
	q->busy = true;
	for (;;) {
		list_for_each_entry_safe(c, next, &q->list, node) {
			if (!smp_load_acquire(&c->done))
				break;
			list_move_tail(&c->node, &done);
		}
		if (list_empty(&done))
			break;
		spin_unlock_bh(&q->lock);
		/* as in the hook the packet came from: BH off, under RCU */
		local_bh_disable();
		rcu_read_lock();
		list_for_each_entry_safe(c, next, &done, node)
			c->deliver(c, c->err);	/* frees c */
		rcu_read_unlock();
		local_bh_enable();
		INIT_LIST_HEAD(&done);
		spin_lock_bh(&q->lock);
	}
	q->busy = false;
	spin_unlock_bh(&q->lock);
}

/* c->finish of a queued request: mark it done, deliver what is ready. */
static void par_finish(struct nfsec_crypt *c, int err)
{
	struct nfsec_sa *sa = c->sa;

	/* c's reference may go with c as soon as it is marked done */
	kref_get(&sa->ref);
	c->err = err;
	smp_store_release(&c->done, true);
	pqueue_flush(c->queue);
	nfsec_sa_put(sa);
}

static int next_cpu(struct nfsec_pqueue *q)
{
	int cpu = cpumask_next(READ_ONCE(q->last_cpu), cpu_online_mask);

	if (cpu >= nr_cpu_ids)
		cpu = cpumask_first(cpu_online_mask);
	WRITE_ONCE(q->last_cpu, cpu);
	return cpu;
}

/*
 * Queues @c on @q and runs its crypto (c->run) on the next CPU. c->deliver
 * gets the result once every request queued before it has had its own.
 */
void nfsec_par_submit(struct nfsec_pqueue *q, struct nfsec_crypt *c)
{
	struct nfsec_par_worker *w;
	int cpu;

	c->queue = q;
	c->done = false;
	c->finish = par_finish;
	spin_lock_bh(&q->lock);
	list_add_tail(&c->node, &q->list);
	spin_unlock_bh(&q->lock);

	if (num_online_cpus() > 1) {
		cpu = next_cpu(q);
		w = per_cpu_ptr(workers, cpu);
		if (!ptr_ring_produce_bh(&w->ring, c)) {
			queue_work_on(cpu, crypt_wq, &w->work);
			return;
		}
	}
	c->run(c);
}

static void par_work(struct work_struct *work)
{
	struct nfsec_par_worker *w = container_of(work, struct nfsec_par_worker,
						  work);
	struct nfsec_crypt *c;

	while ((c = ptr_ring_consume_bh(&w->ring))) {
		c->run(c);
		cond_resched();
	}
}

/* Waits until every request handed to a worker so far has run. */
void nfsec_par_drain(void)
{
	flush_workqueue(crypt_wq);
}

int nfsec_par_init(void)
{
	int cpu, err;

	crypt_wq = alloc_workqueue("nfsec_crypt",
				   WQ_CPU_INTENSIVE | WQ_MEM_RECLAIM, 0);
	if (!crypt_wq)
		return -ENOMEM;
	workers = alloc_percpu(struct nfsec_par_worker);
	if (!workers) {
		err = -ENOMEM;
		goto err_wq;
	}
	for_each_possible_cpu(cpu) {
		struct nfsec_par_worker *w = per_cpu_ptr(workers, cpu);

		INIT_WORK(&w->work, par_work);
		err = ptr_ring_init(&w->ring, NFSEC_PAR_RING, GFP_KERNEL);
		if (err)
			goto err_rings;
	}
	return 0;

err_rings:
	for_each_possible_cpu(cpu) {
		struct nfsec_par_worker *w = per_cpu_ptr(workers, cpu);

		if (w->ring.queue)
			ptr_ring_cleanup(&w->ring, NULL);
	}
	free_percpu(workers);
err_wq:
	destroy_workqueue(crypt_wq);
	return err;
}

/* After every namespace is gone: the rings are empty. */
void nfsec_par_uninit(void)
{
	int cpu;

	destroy_workqueue(crypt_wq);
	for_each_possible_cpu(cpu)
		ptr_ring_cleanup(&per_cpu_ptr(workers, cpu)->ring, NULL);
	free_percpu(workers);
}
