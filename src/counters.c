// SPDX-License-Identifier: GPL-2.0
/*
 * SA counters: per-CPU sets handed out from blocks of up to NFSEC_CTR_SETS,
 * one per-CPU allocation a block rather than one an SA. pcpu_alloc() takes a
 * global mutex and searches its chunk maps: it was the largest single
 * cost of making an SA, and it held a bulk install's helpers in line
 * (Documentation/performance.md, "Bulk install").
 *
 * Each namespace has a pool of its own, so that what one user's SAs use
 * is charged to that user. A block keeps its pool, and an SA its block,
 * until the last SA of the block is freed, which may be after the
 * namespace has gone (an SA is freed from a work item).
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
	refcount_t ref;			/* the namespace's, one per block */
};

struct nfsec_ctr_block {
	struct list_head node;		/* on pool->partial while not full */
	struct nfsec_ctr_pool *pool;
	struct nfsec_pcpu_counters __percpu *sets;	/* [NFSEC_CTR_SETS] */
	DECLARE_BITMAP(used, NFSEC_CTR_SETS);
	unsigned int nused, size;
};

struct nfsec_ctr_pool *nfsec_ctr_pool_new(void)
{
	struct nfsec_ctr_pool *pool;

	pool = kmalloc(sizeof(*pool), GFP_KERNEL_ACCOUNT);
	if (!pool)
		return NULL;
	spin_lock_init(&pool->lock);
	INIT_LIST_HEAD(&pool->partial);
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
	b->size = clamp_t(unsigned int, READ_ONCE(pool->sets),
			  NFSEC_CTR_SETS_MIN, NFSEC_CTR_SETS);
	/* zeroed on every CPU, as a set is again when it is given back */
	b->sets = __alloc_percpu_gfp(sizeof(*b->sets) * b->size,
				     __alignof__(*b->sets), GFP_KERNEL_ACCOUNT);
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

/* A set of @b into @sa; under the pool's lock. */
static void take(struct nfsec_ctr_block *b, struct nfsec_sa *sa)
{
	unsigned int i = find_first_zero_bit(b->used, b->size);

	__set_bit(i, b->used);
	if (++b->nused == b->size)
		list_del_init(&b->node);
	sa->ctr_block = b;
	sa->counters = b->sets + i;
}

/* Zeroed counters for @sa from @pool (process context). */
int nfsec_sa_counters_get(struct nfsec_ctr_pool *pool, struct nfsec_sa *sa)
{
	struct nfsec_ctr_block *b, *fresh = NULL;

	for (;;) {
		spin_lock(&pool->lock);
		b = list_first_entry_or_null(&pool->partial,
					     struct nfsec_ctr_block, node);
		if (!b && fresh) {
			b = fresh;
			fresh = NULL;
			list_add(&b->node, &pool->partial);
			WRITE_ONCE(pool->sets, pool->sets + b->size);
		}
		if (b)
			take(b, sa);
		spin_unlock(&pool->lock);
		if (b)
			break;
		/* none free: a block, outside the lock, then try again */
		fresh = block_new(pool);
		if (!fresh)
			return -ENOMEM;
	}
	/* a set came free, or another maker's block came, meanwhile */
	if (fresh)
		block_free(fresh);
	return 0;
}

/* @sa's counters back to their block; it is gone from every reader. */
void nfsec_sa_counters_put(struct nfsec_sa *sa)
{
	struct nfsec_ctr_block *b = sa->ctr_block;
	struct nfsec_ctr_pool *pool;
	bool empty;
	int cpu;

	if (!b)
		return;
	pool = b->pool;
	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(sa->counters, cpu), 0, sizeof(*b->sets));
	spin_lock(&pool->lock);
	__clear_bit(sa->counters - b->sets, b->used);
	if (b->nused-- == b->size)
		list_add(&b->node, &pool->partial);
	empty = !b->nused;
	if (empty) {
		list_del(&b->node);
		WRITE_ONCE(pool->sets, pool->sets - b->size);
	}
	spin_unlock(&pool->lock);
	sa->ctr_block = NULL;
	sa->counters = NULL;
	if (empty)
		block_free(b);
}
