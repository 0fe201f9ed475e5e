// SPDX-License-Identifier: GPL-2.0
/*
 * The security association database (SAD): one RCU hash table per network
 * namespace keyed by SPI, destination and protocol, plus an index for
 * dumps. The SA's crypto transform (crypto.c) is allocated and keyed when
 * the SA is made, never per packet.
 */

#include "nfsec.h"

#include <linux/in.h>
#include <linux/memcontrol.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <net/netlink.h>

static struct kmem_cache *sa_cache;

static const struct rhashtable_params sad_params = {
	.key_len = sizeof(struct nfsec_sa_id),
	.key_offset = offsetof(struct nfsec_sa, id),
	.head_offset = offsetof(struct nfsec_sa, node),
	.automatic_shrinking = true,
};

static int alg_copy(struct nfsec_alg *dst, const struct nfsec_alg *src)
{
	*dst = *src;
	dst->key = NULL;
	if (!src->key_len)
		return 0;
	dst->key = kmemdup(src->key, src->key_len, GFP_KERNEL_ACCOUNT);
	return dst->key ? 0 : -ENOMEM;
}

static void alg_wipe(struct nfsec_alg *a)
{
	kfree_sensitive(a->key);
	a->key = NULL;
}

/* The rules of RFC 4301 4.4.2.1 for an SA, then its algorithms (crypto.c). */
static int params_check(struct nfsec_sa_params *p,
			struct netlink_ext_ack *extack)
{
	if (ntohl(p->id.spi) <= NFSEC_SPI_RESERVED_MAX) {
		NL_SET_ERR_MSG(extack, "SPI 0-255 is reserved (RFC 4303 2.1)");
		return -EINVAL;
	}
	if (p->dir == NFSEC_DIR_IN && p->seq) {
		NL_SET_ERR_MSG(extack, "SEQ applies to outbound SAs only");
		return -EINVAL;
	}
	if (p->dir == NFSEC_DIR_IN && (p->flags & NFSEC_SA_F_ESN) &&
	    !p->replay_window) {
		NL_SET_ERR_MSG(extack,
			       "ESN needs a replay window to infer the high sequence bits");
		return -EINVAL;
	}
	if (!(p->flags & NFSEC_SA_F_ESN) && p->seq > U32_MAX) {
		NL_SET_ERR_MSG(extack, "SEQ beyond 32 bits needs ESN");
		return -EINVAL;
	}

	return nfsec_crypto_check(p, extack);
}

void nfsec_sa_destroy(struct nfsec_sa *sa)
{
	nfsec_encap_uninit(sa);
	nfsec_crypto_uninit(sa);
	alg_wipe(&sa->aead);
	alg_wipe(&sa->enc);
	alg_wipe(&sa->auth);
	nfsec_replay_put(sa->replay);
	dst_cache_destroy(&sa->route);
	mem_cgroup_put(sa->memcg);
	nfsec_sa_counters_put(sa);
	kmem_cache_free(sa_cache, sa);
}

static void sa_free_work(struct work_struct *work)
{
	nfsec_sa_destroy(container_of(to_rcu_work(work), struct nfsec_sa,
				      free_work));
}

static void sa_release(struct kref *ref)
{
	struct nfsec_sa *sa = container_of(ref, struct nfsec_sa, ref);

	/*
	 * Packet-path readers may still see the SA under RCU; freeing the
	 * transform may sleep, so free from a work item after a grace period.
	 */
	INIT_RCU_WORK(&sa->free_work, sa_free_work);
	queue_rcu_work(nfsec_wq, &sa->free_work);
}

bool nfsec_sa_get(struct nfsec_sa *sa)
{
	return kref_get_unless_zero(&sa->ref);
}

void nfsec_sa_put(struct nfsec_sa *sa)
{
	kref_put(&sa->ref, sa_release);
}

struct nfsec_sa *nfsec_sa_create(struct nfsec_net *nn,
				 const struct nfsec_sa_params *params,
				 struct netlink_ext_ack *extack)
{
	struct nfsec_sa_params p = *params;
	struct nfsec_sa *sa;
	int err;

	err = params_check(&p, extack);
	if (err)
		return ERR_PTR(err);

	sa = kmem_cache_zalloc(sa_cache, GFP_KERNEL_ACCOUNT);
	if (!sa)
		return ERR_PTR(-ENOMEM);
	kref_init(&sa->ref);
	sa->id = p.id;
	sa->saddr = p.saddr;
	sa->dir = p.dir;
	sa->mode = p.mode;
	sa->df = p.df;
	sa->flags = p.flags;
	sa->replay_window = p.replay_window;
	sa->reqid = p.reqid;
	sa->seq = p.seq;
	sa->lifetime = p.lifetime;
	sa->add_time = max_t(u64, ktime_get_boottime_seconds(), 1);

	err = nfsec_sa_counters_get(nn->ctr_pool, sa);
	if (err)
		goto err_free;
	err = -ENOMEM;
	if ((p.has_aead && alg_copy(&sa->aead, &p.aead)) ||
	    (p.has_enc && alg_copy(&sa->enc, &p.enc)) ||
	    (p.has_auth && alg_copy(&sa->auth, &p.auth)))
		goto err_free;

	err = nfsec_encap_init(sa, &p) ?: nfsec_crypto_init(sa, extack);
	if (err)
		goto err_free;
	/*
	 * The outer route of a tunnel's packets, found once, not per packet:
	 * the cache comes with the first packet (output.c, route_cached()),
	 * charged to the memory cgroup of whoever adds the SA, like the SA;
	 * routes it holds are valid from now on.
	 */
	if (sa->dir == NFSEC_DIR_OUT && sa->mode == NFSEC_MODE_TUNNEL)
		sa->memcg = get_mem_cgroup_from_mm(current->mm);
	sa->route.reset_ts = jiffies;
	if (sa->dir == NFSEC_DIR_IN) {
		sa->replay = nfsec_replay_alloc(sa->replay_window,
						GFP_KERNEL_ACCOUNT);
		if (IS_ERR(sa->replay)) {
			err = PTR_ERR(sa->replay);
			sa->replay = NULL;
			goto err_free;
		}
	}
	atomic64_set(&sa->oseq, sa->seq);
	return sa;

err_free:
	nfsec_sa_destroy(sa);
	return ERR_PTR(err);
}

/*
 * A larval entry (spi.c): the identity of the SA to come and its source,
 * no direction, crypto or replay window. It has counters, all zero, so
 * that what reads every entry's counters need not tell it apart.
 */
struct nfsec_sa *nfsec_sa_larval_create(struct nfsec_net *nn,
					const struct nfsec_sa_id *id,
					const union nfsec_addr *saddr)
{
	struct nfsec_sa *sa;

	sa = kmem_cache_zalloc(sa_cache, GFP_KERNEL_ACCOUNT);
	if (!sa)
		return NULL;
	if (nfsec_sa_counters_get(nn->ctr_pool, sa)) {
		kmem_cache_free(sa_cache, sa);
		return NULL;
	}
	kref_init(&sa->ref);
	sa->id = *id;
	sa->saddr = *saddr;
	sa->larval = true;
	sa->add_time = max_t(u64, ktime_get_boottime_seconds(), 1);
	return sa;
}

struct nfsec_sa *nfsec_sa_lookup(struct nfsec_net *nn,
				 const struct nfsec_sa_id *id)
{
	return rhashtable_lookup(&nn->sad, id, sad_params);
}

struct nfsec_sa *nfsec_sa_lookup_locked(struct nfsec_net *nn,
					const struct nfsec_sa_id *id)
{
	lockdep_assert_held(&nn->lock);
	return rhashtable_lookup_fast(&nn->sad, id, sad_params);
}

int nfsec_sa_insert(struct nfsec_net *nn, struct nfsec_sa *sa,
		    struct netlink_ext_ack *extack)
{
	u32 index;
	int err;

	lockdep_assert_held(&nn->lock);
	if (!nfsec_limit_ok(NFSEC_LIMIT_SA, nn->sa_count, extack))
		return -ENOSPC;
	err = xa_alloc_cyclic(&nn->sa_index, &index, sa, xa_limit_32b,
			      &nn->sa_next_index, GFP_KERNEL_ACCOUNT);
	if (err < 0)
		return err;
	sa->index = index;
	sa->nn = nn;
	/* (before the SA is visible: a failure after would need a grace) */
	err = nfsec_encap_hash(nn, sa);
	if (err) {
		xa_erase(&nn->sa_index, index);
		return err;
	}
	err = rhashtable_lookup_insert_fast(&nn->sad, &sa->node, sad_params);
	if (err) {
		nfsec_encap_unhash(nn, sa);
		xa_erase(&nn->sa_index, index);
		if (err == -EEXIST)
			NL_SET_ERR_MSG(extack, "SA already exists");
		return err;
	}
	sa->serial = ++nn->sa_serial;
	if (sa->reqid)
		hash_add(nn->reqid_hash, &sa->reqid_node, sa->reqid);
	nn->sa_count++;
	nn->sa_gen++;
	return 0;
}

/*
 * What an update may not change: the SA's identity (the lookup key), its
 * direction, mode and sequence number space. Policies were checked against
 * the first three, and the peer's replay window follows the last.
 */
static int update_check(const struct nfsec_sa *old, const struct nfsec_sa *sa,
			const struct nfsec_sa_params *p,
			struct netlink_ext_ack *extack)
{
	if (old->dir != sa->dir) {
		NL_SET_ERR_MSG(extack, "sa update cannot change the direction");
		return -EINVAL;
	}
	if (old->mode != sa->mode) {
		NL_SET_ERR_MSG(extack, "sa update cannot change the mode");
		return -EINVAL;
	}
	if ((old->flags ^ sa->flags) & NFSEC_SA_F_ESN) {
		NL_SET_ERR_MSG(extack, "sa update cannot switch ESN on or off");
		return -EINVAL;
	}
	if (p->has_seq) {
		NL_SET_ERR_MSG(extack,
			       "sa update keeps the sequence number: SEQ is for sa add");
		return -EINVAL;
	}
	if (p->has_replay_window && p->replay_window != old->replay_window) {
		NL_SET_ERR_MSG(extack,
			       "sa update cannot change the replay window");
		return -EINVAL;
	}
	if ((sa->encap.flags & NFSEC_ENCAP_F_FOLLOW) && !old->replay_window) {
		NL_SET_ERR_MSG(extack, NFSEC_FOLLOW_NEEDS_WINDOW);
		return -EINVAL;
	}
	return 0;
}

/*
 * The new SA takes over the old one's state: sequence numbers, the replay
 * window, the lifetime used so far (and the events sent, if its limits
 * stay the same) and the counters. The old SA's counter
 * is spent at once (U64_MAX), so a packet that still holds it cannot take
 * a number the new SA will use; it is dropped as seq_exhausted on the dead
 * SA, without an event (output.c).
 */
static void take_over(struct nfsec_sa *sa, struct nfsec_sa *old)
{
	u64 sum[NFSEC_SA_COUNTERS];
	int i;

	sa->replay_window = old->replay_window;
	if (sa->dir == NFSEC_DIR_IN) {
		nfsec_replay_put(sa->replay);
		sa->replay = nfsec_replay_get(old->replay);
	}
	sa->add_time = old->add_time;
	sa->first_use = READ_ONCE(old->first_use);
	sa->last_use = READ_ONCE(old->last_use);
	/*
	 * The same limits reached: no second soft event (new limits: new
	 * events). The hard one is never taken over: the lifetime work would
	 * delete the new SA without a word; if the new SA is past a hard
	 * limit too, it sends its own hard event before it goes.
	 */
	sa->events = READ_ONCE(old->events) & BIT(NFSEC_EV_SEQ);
	if (!memcmp(&sa->lifetime, &old->lifetime, sizeof(sa->lifetime)))
		sa->events = READ_ONCE(old->events) & ~BIT(NFSEC_EV_HARD);
	sa->serial = old->serial;
	atomic64_set(&sa->lt_packets, atomic64_read(&old->lt_packets));
	atomic64_set(&sa->lt_bytes, atomic64_read(&old->lt_bytes));
	nfsec_counters_read(old->counters, sum, NFSEC_SA_COUNTERS);
	for (i = 0; i < NFSEC_SA_COUNTERS; i++)
		nfsec_counter_add(sa->counters, i, sum[i]);
	WRITE_ONCE(old->dead, true);
	atomic64_set(&sa->oseq, atomic64_xchg(&old->oseq, U64_MAX));
}

/* A larval entry leaves the table: it is no longer one of nn->larval. */
static void larval_unlist(struct nfsec_net *nn, struct nfsec_sa *sa)
{
	if (!sa->larval)
		return;
	list_del(&sa->larval_node);
	nn->larval_count--;
}

/*
 * Puts @sa in the place of the SA of its identity. Returns that SA, out of
 * the table but still holding the table's reference: the caller drops it
 * once no policy points at it (locking.md, SA lifetime). In the place of
 * a larval entry, @sa is new: nothing carries over, nothing is checked,
 * and it is the newest SA, as if added.
 */
struct nfsec_sa *nfsec_sa_replace(struct nfsec_net *nn, struct nfsec_sa *sa,
				  const struct nfsec_sa_params *p,
				  struct netlink_ext_ack *extack)
{
	struct nfsec_sa *old;
	int err;

	lockdep_assert_held(&nn->lock);
	old = nfsec_sa_lookup_locked(nn, &sa->id);
	if (!old) {
		NL_SET_ERR_MSG(extack, "no such SA");
		return ERR_PTR(-ENOENT);
	}
	if (!old->larval) {
		err = update_check(old, sa, p, extack);
		if (err)
			return ERR_PTR(err);
	}
	err = nfsec_encap_hash(nn, sa);
	if (err)
		return ERR_PTR(err);
	if (old->larval) {
		sa->serial = ++nn->sa_serial;
		WRITE_ONCE(old->dead, true);
	} else {
		take_over(sa, old);
	}
	err = rhashtable_replace_fast(&nn->sad, &old->node, &sa->node,
				      sad_params);
	if (err) {		/* (same key, same table: not expected) */
		atomic64_set(&old->oseq, atomic64_read(&sa->oseq));
		WRITE_ONCE(old->dead, false);
		nfsec_encap_unhash(nn, sa);
		return ERR_PTR(err);
	}
	nfsec_encap_unhash(nn, old);
	larval_unlist(nn, old);
	sa->index = old->index;
	sa->nn = nn;
	xa_store(&nn->sa_index, sa->index, sa, GFP_KERNEL);
	if (old->reqid)
		hash_del(&old->reqid_node);
	if (sa->reqid)
		hash_add(nn->reqid_hash, &sa->reqid_node, sa->reqid);
	nn->sa_gen++;
	return old;
}

/*
 * The newest (last added; an update keeps the age) SA of @reqid (not 0)
 * that is usable and that @fits says fits @arg, or NULL. Walks the SAs of
 * the reqid's hash bucket only.
 */
struct nfsec_sa *nfsec_sa_newest(struct nfsec_net *nn, u32 reqid,
				 bool (*fits)(const void *arg,
					      const struct nfsec_sa *sa),
				 const void *arg)
{
	struct nfsec_sa *sa, *best = NULL;

	lockdep_assert_held(&nn->lock);
	hash_for_each_possible(nn->reqid_hash, sa, reqid_node, reqid)
		if (sa->reqid == reqid &&
		    (!best || sa->serial > best->serial) && fits(arg, sa) &&
		    nfsec_sa_usable(sa))
			best = sa;
	return best;
}

/*
 * Takes @sa out of the table, so that no new packet finds it by its
 * identity. Its table reference passes to the caller, who drops it once
 * no policy points at it.
 */
void nfsec_sa_unhash(struct nfsec_net *nn, struct nfsec_sa *sa)
{
	lockdep_assert_held(&nn->lock);
	rhashtable_remove_fast(&nn->sad, &sa->node, sad_params);
	if (sa->reqid)
		hash_del(&sa->reqid_node);
	nfsec_encap_unhash(nn, sa);
	WRITE_ONCE(sa->dead, true);
	larval_unlist(nn, sa);
	xa_erase(&nn->sa_index, sa->index);
	nn->sa_count--;
	nn->sa_gen++;
}

/* Deletes every SA; no policy may point at any of them any more. */
void nfsec_sa_flush(struct nfsec_net *nn)
{
	struct nfsec_sa *sa;
	unsigned long i;

	lockdep_assert_held(&nn->lock);
	xa_for_each(&nn->sa_index, i, sa) {
		nfsec_sa_unhash(nn, sa);
		nfsec_sa_put(sa);
		cond_resched();
	}
}

int nfsec_sad_init(struct nfsec_net *nn)
{
	int err;

	nn->ctr_pool = nfsec_ctr_pool_new(sizeof(struct nfsec_pcpu_counters));
	if (!nn->ctr_pool)
		return -ENOMEM;
	xa_init_flags(&nn->sa_index, XA_FLAGS_ALLOC);
	hash_init(nn->reqid_hash);
	nfsec_larval_init(nn);
	err = rhashtable_init(&nn->sad, &sad_params);
	if (err)
		nfsec_ctr_pool_put(nn->ctr_pool);
	return err;
}

/* Namespace exit, after the SPD was flushed (no policy points at an SA). */
void nfsec_sad_uninit(struct nfsec_net *nn)
{
	nfsec_larval_uninit(nn);
	mutex_lock(&nn->lock);
	nfsec_sa_flush(nn);
	mutex_unlock(&nn->lock);
	rhashtable_destroy(&nn->sad);
	xa_destroy(&nn->sa_index);
	xa_destroy(&nn->encap_ports);
	/* the SAs still to be freed keep it until they are */
	nfsec_ctr_pool_put(nn->ctr_pool);
}

int nfsec_sa_module_init(void)
{
	sa_cache = KMEM_CACHE(nfsec_sa, 0);
	return sa_cache ? 0 : -ENOMEM;
}

void nfsec_sa_module_uninit(void)
{
	kmem_cache_destroy(sa_cache);
}
