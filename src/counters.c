// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU counter sets handed out from blocks of up to NFSEC_CTR_SETS, one
 * per-CPU allocation a block rather than one an object. pcpu_alloc() takes
 * a global mutex and searches its chunk maps: it was the largest single
 * cost of making an SA, and it held a bulk install's helpers in line, and
 * then the largest of making a policy (Documentation/performance.md,
 * "Bulk install").
 *
 * A pool hands out sets of one size: an SA's nfsec_pcpu_counters, a
 * policy's u64 of matches. Each namespace has a pool of each, so that what
 * one user's SAs and policies use is charged to that user. A block keeps
 * its pool, and an object its block, until the last set of the block is
 * given back, which may be after the namespace has gone (an SA is freed
 * from a work item, a policy after a grace period, in softirq: hence the
 * _bh locking).
 */

#include "nfsec.h"

#include <linux/percpu.h>
#include <linux/refcount.h>
#include <linux/slab.h>

#define NFSEC_CTR_SETS	64	/* at most, a block */
#define NFSEC_CTR_SETS_MIN	4

struct nfsec_ctr_pool {
	spinlock_t lock;		/* partial, sets, the blocks' bitmaps */
	struct list_head partial;	/* blocks with a free set */
	unsigned int sets;		/* in all its blocks */
	unsigned int size;		/* of a set, on each CPU */
	refcount_t ref;			/* the namespace's, one per block */
};

struct nfsec_ctr_block {
	struct list_head node;		/* on pool->partial while not full */
	struct nfsec_ctr_pool *pool;
	u8 __percpu *sets;		/* [NFSEC_CTR_SETS][pool->size] */
	DECLARE_BITMAP(used, NFSEC_CTR_SETS);
	unsigned int nused, n;
};

/* A pool of sets of @size bytes a CPU (each set aligned for u64s). */
struct nfsec_ctr_pool *nfsec_ctr_pool_new(unsigned int size)
{
	struct nfsec_ctr_pool *pool;

	pool = kmalloc(sizeof(*pool), GFP_KERNEL_ACCOUNT);
	if (!pool)
		return NULL;
	spin_lock_init(&pool->lock);
	INIT_LIST_HEAD(&pool->partial);
	pool->sets = 0;
	pool->size = ALIGN(size, sizeof(u64));
	refcount_set(&pool->ref, 1);
	return pool;
}

void nfsec_ctr_pool_put(struct nfsec_ctr_pool *pool)
{
	if (refcount_dec_and_test(&pool->ref)) {
		WARN_ON(!list_empty(&pool->partial));
		kfree(pool);
	}
}

/*
 * A block as large as the pool already is, from NFSEC_CTR_SETS_MIN to
 * NFSEC_CTR_SETS: a namespace with a few SAs takes a few sets on every
 * CPU, one with thousands a block per 64.
 */
static struct nfsec_ctr_block *block_new(struct nfsec_ctr_pool *pool)
{
	struct nfsec_ctr_block *b;

	b = kzalloc(sizeof(*b), GFP_KERNEL_ACCOUNT);
	if (!b)
		return NULL;
	b->n = clamp_t(unsigned int, READ_ONCE(pool->sets),
		       NFSEC_CTR_SETS_MIN, NFSEC_CTR_SETS);
	/* zeroed on every CPU, as a set is again when it is given back */
	b->sets = __alloc_percpu_gfp(pool->size * b->n, sizeof(u64),
				     GFP_KERNEL_ACCOUNT);
	if (!b->sets) {
		kfree(b);
		return NULL;
	}
	b->pool = pool;
	refcount_inc(&pool->ref);
	return b;
}

static void block_free(struct nfsec_ctr_block *b)
{
	struct nfsec_ctr_pool *pool = b->pool;

	free_percpu(b->sets);
	kfree(b);
	nfsec_ctr_pool_put(pool);
}

/* A set of @b; under the pool's lock. */
static void __percpu *take(struct nfsec_ctr_block *b)
{
	unsigned int i = find_first_zero_bit(b->used, b->n);

	__set_bit(i, b->used);
	if (++b->nused == b->n)
		list_del_init(&b->node);
	return b->sets + i * b->pool->size;
}

/*
 * A zeroed set from @pool (process context), and in @block where it is,
 * for nfsec_ctr_put(); NULL if memory ran out.
 */
void __percpu *nfsec_ctr_get(struct nfsec_ctr_pool *pool,
			     struct nfsec_ctr_block **block)
{
	struct nfsec_ctr_block *b, *fresh = NULL;
	void __percpu *set = NULL;

	for (;;) {
		spin_lock_bh(&pool->lock);
		b = list_first_entry_or_null(&pool->partial,
					     struct nfsec_ctr_block, node);
		if (!b && fresh) {
			b = fresh;
			fresh = NULL;
			list_add(&b->node, &pool->partial);
			WRITE_ONCE(pool->sets, pool->sets + b->n);
		}
		if (b)
			set = take(b);
		spin_unlock_bh(&pool->lock);
		if (b)
			break;
		/* none free: a block, outside the lock, then try again */
		fresh = block_new(pool);
		if (!fresh)
			return NULL;
	}
	/* a set came free, or another maker's block came, meanwhile */
	if (fresh)
		block_free(fresh);
	*block = b;
	return set;
}

/*
 * @set back to @block, zeroed; no reader counts in it any more. Any
 * context but hard interrupts, and not with them disabled.
 */
void nfsec_ctr_put(struct nfsec_ctr_block *block, void __percpu *set)
{
	struct nfsec_ctr_pool *pool = block->pool;
	unsigned int size = pool->size;
	u8 __percpu *at = set;
	bool empty;
	int cpu;

	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(at, cpu), 0, size);
	spin_lock_bh(&pool->lock);
	__clear_bit((at - block->sets) / size, block->used);
	if (block->nused-- == block->n)
		list_add(&block->node, &pool->partial);
	empty = !block->nused;
	if (empty) {
		list_del(&block->node);
		WRITE_ONCE(pool->sets, pool->sets - block->n);
	}
	spin_unlock_bh(&pool->lock);
	if (empty)
		block_free(block);
}

/* Zeroed counters for @sa from @pool (process context). */
int nfsec_sa_counters_get(struct nfsec_ctr_pool *pool, struct nfsec_sa *sa)
{
	sa->counters = nfsec_ctr_get(pool, &sa->ctr_block);
	return sa->counters ? 0 : -ENOMEM;
}

/* @sa's counters back to their block; it is gone from every reader. */
void nfsec_sa_counters_put(struct nfsec_sa *sa)
{
	if (!sa->counters)
		return;
	nfsec_ctr_put(sa->ctr_block, sa->counters);
	sa->ctr_block = NULL;
	sa->counters = NULL;
}
