// SPDX-License-Identifier: GPL-2.0
/*
 * Request space: where a packet's crypto request (struct nfsec_crypt, the
 * transform's request, IV or digest, scatterlist) lives while it runs.
 *
 * Each CPU keeps slots for the requests made on it, so a packet's request
 * costs no allocation once its CPU has slots. A request takes the CPU's
 * most recently freed slot (cache-warm). Wherever it finishes, its slot
 * goes back to the CPU it came from: straight onto that CPU's list when
 * freed there with bottom halves off (the usual case: synchronous crypto,
 * and spread.c's requests finished back home), else onto the CPU's return
 * list, a lock-free list any CPU and context can add to, which the CPU
 * takes back whole when its own list runs dry.
 *
 * Slots are sized when SAs are made: an SA's request with room for
 * NFSEC_REQ_FRAGS fragments (and for AH, NFSEC_REQ_AH_HDR_BYTES of
 * headers), rounded up to a power of two, sets the size of every slot
 * made from then on if it is larger (it never shrinks); a slot smaller
 * than that is freed when its CPU comes across it. They are made on first
 * use, up to req_slots per CPU (a module parameter), and kept until the
 * module goes; lowering req_slots frees the surplus the same way. A
 * request larger than a slot (a packet of more fragments, an SA whose
 * request needs more than NFSEC_REQ_SLOT_MAX), or made while all of its
 * CPU's slots are out, takes space from the heap, and the namespace
 * counts it (req_heap).
 *
 * What this keeps: at most req_slots slots of NFSEC_REQ_SLOT_MAX per CPU
 * (1 MiB with the defaults), shared by every namespace and charged to
 * none; any SA's creation, a user namespace's too, can grow new slots up
 * to that size, no further. A freed slot keeps its last request's bytes
 * until reused, as freed heap memory does until overwritten; slots are
 * freed with kfree_sensitive(). KASAN sees a slot as one object while
 * its CPU keeps it: req_slots=0 gives every request its own allocation,
 * where a use after free shows.
 *
 * Only the CPU itself takes from its lists, with bottom halves off, and
 * no request is made in hard interrupt context: no lock is needed.
 */

#include "nfsec.h"

#include <linux/llist.h>
#include <linux/log2.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

static unsigned int req_slots = NFSEC_REQ_SLOTS_DEFAULT;
module_param(req_slots, uint, 0644);
MODULE_PARM_DESC(req_slots,
		 "crypto request slots kept per CPU (0: each from the heap)");

struct req_cpu {
	struct llist_node *free;	/* this CPU's, BHs off */
	struct llist_head back;		/* freed elsewhere, for this CPU */
	unsigned int made;		/* slots of this CPU's: this CPU, BHs off */
};

static DEFINE_PER_CPU(struct req_cpu, req_cpus);
/* the size of the slots made now: only grows */
static atomic_t slot_size = ATOMIC_INIT(NFSEC_REQ_SLOT_MIN);

static int slot_size_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%u\n", (unsigned int)atomic_read(&slot_size));
}

static const struct kernel_param_ops slot_size_ops = {
	.get = slot_size_get,
};

module_param_cb(req_slot_bytes, &slot_size_ops, NULL, 0444);
MODULE_PARM_DESC(req_slot_bytes,
		 "the size of the request slots made now (grows with SAs)");

/* At an SA's creation: slots grow to hold its requests, @len bytes. */
void nfsec_req_size(unsigned int len)
{
	int cur = atomic_read(&slot_size), want;

	len = roundup_pow_of_two(len);
	if (len > NFSEC_REQ_SLOT_MAX)
		return;		/* (its requests come from the heap) */
	want = len;
	while (cur < want && !atomic_try_cmpxchg(&slot_size, &cur, want))
		;
}

/* A free slot of this CPU's, or NULL. BHs are off. */
static struct nfsec_crypt *take(struct req_cpu *rc)
{
	struct llist_node *n = rc->free;

	if (!n) {
		n = llist_del_all(&rc->back);
		if (!n)
			return NULL;
	}
	rc->free = n->next;
	return llist_entry(n, struct nfsec_crypt, node);
}

struct nfsec_crypt *nfsec_req_alloc(struct nfsec_sa *sa, unsigned int len)
{
	unsigned int max = READ_ONCE(req_slots), size = atomic_read(&slot_size);
	struct nfsec_crypt *c = NULL;
	struct req_cpu *rc;
	int cpu;

	if (len <= size) {
		local_bh_disable();
		cpu = smp_processor_id();
		rc = this_cpu_ptr(&req_cpus);
		/* (a slot too small for today's SAs, or one too many, goes) */
		while ((c = take(rc)) &&
		       (c->slot_bytes < size || rc->made > max)) {
			rc->made--;
			kfree_sensitive(c);
		}
		if (!c && rc->made < max) {
			c = kmalloc(size, GFP_ATOMIC);
			if (c) {
				c->slot_bytes = size;
				rc->made++;
			}
		}
		local_bh_enable();
		if (c) {
			c->slot_cpu = cpu;
			return c;
		}
	}
	c = kmalloc(len, GFP_ATOMIC);
	if (c) {
		c->slot_cpu = -1;
		nfsec_counter_inc(sa->nn->counters, NFSEC_NET_REQ_HEAP);
	}
	return c;
}

void nfsec_req_free(struct nfsec_crypt *c)
{
	int cpu = c->slot_cpu;

	if (cpu < 0) {
		kfree(c);
	} else if (softirq_count() && !in_hardirq() &&
		   cpu == smp_processor_id()) {
		/*
		 * BHs off, or serving one (so no preemption), and no hard
		 * interrupt: this CPU's take() cannot run meanwhile.
		 */
		struct req_cpu *rc = this_cpu_ptr(&req_cpus);

		c->node.next = rc->free;
		rc->free = &c->node;
	} else {
		llist_add(&c->node, &per_cpu_ptr(&req_cpus, cpu)->back);
	}
}

/* After every namespace is gone: no request is out. */
void nfsec_req_exit(void)
{
	struct nfsec_crypt *c;
	int cpu;

	for_each_possible_cpu(cpu) {
		struct req_cpu *rc = per_cpu_ptr(&req_cpus, cpu);

		while ((c = take(rc))) {
			rc->made--;
			kfree_sensitive(c);
		}
		WARN_ON_ONCE(rc->made);
	}
}
