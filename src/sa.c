// SPDX-License-Identifier: GPL-2.0
/*
 * The security association database (SAD): one RCU hash table per network
 * namespace keyed by SPI, destination and protocol, plus an index for
 * dumps. The crypto transform of an SA is allocated and keyed when the SA is
 * added, never per packet.
 */

#include "nfsec.h"

#include <crypto/aead.h>
#include <crypto/authenc.h>
#include <crypto/hash.h>
#include <linux/in.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/rhashtable.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <net/netlink.h>

enum alg_kind { ALG_AEAD, ALG_ENC, ALG_AUTH };

/*
 * The algorithms nfsec speaks, with the RFC that fixes their ESP framing.
 * Key lengths are those the crypto API takes: for the RFC 4106, 4543, 3686
 * and 7634 modes, the cipher key followed by a 4-byte salt or nonce.
 */
struct alg_desc {
	const char *name;
	enum alg_kind kind;
	u8 key_lens[3];		/* bytes; 0 ends the list unless first */
	u16 icv_bits[3];	/* AEAD: allowed ICVs, the first is default */
	u16 digest_bits;	/* auth: HMAC output; default trunc is half */
	u16 default_trunc;
};

static const struct alg_desc algs[] = {
	{ "rfc4106(gcm(aes))", ALG_AEAD, { 20, 28, 36 }, { 128, 96, 64 } },
	{ "rfc4543(gcm(aes))", ALG_AEAD, { 20, 28, 36 }, { 128 } },
	{ "rfc7539esp(chacha20,poly1305)", ALG_AEAD, { 36 }, { 128 } },
	{ "cbc(aes)", ALG_ENC, { 16, 24, 32 } },
	{ "rfc3686(ctr(aes))", ALG_ENC, { 20, 28, 36 } },
	{ "ecb(cipher_null)", ALG_ENC, { 0 } },
	/* RFC 2404 and RFC 4868 2.1.1: the key is as long as the digest */
	{ "hmac(sha1)", ALG_AUTH, { 20 }, {}, 160, 96 },
	{ "hmac(sha256)", ALG_AUTH, { 32 }, {}, 256, 128 },
	{ "hmac(sha384)", ALG_AUTH, { 48 }, {}, 384, 192 },
	{ "hmac(sha512)", ALG_AUTH, { 64 }, {}, 512, 256 },
};

static struct kmem_cache *sa_cache;

/*
 * For tests: every ESP transform behind pcrypt, so that every packet's
 * crypto completes later, from another context (a padata worker), as it
 * does with crypto hardware. (cryptd would do, but its rfc4106 instance
 * fails the crypto manager's self-tests on 6.1.) Once made, a pcrypt
 * instance is what its algorithm's name finds, for XFRM too, until the
 * pcrypt module goes.
 */
static bool async_crypto;
module_param(async_crypto, bool, 0444);
MODULE_PARM_DESC(async_crypto, "run all ESP crypto through pcrypt (tests)");

static const struct rhashtable_params sad_params = {
	.key_len = sizeof(struct nfsec_sa_id),
	.key_offset = offsetof(struct nfsec_sa, id),
	.head_offset = offsetof(struct nfsec_sa, node),
	.automatic_shrinking = true,
};

static const struct alg_desc *alg_find(const char *name, enum alg_kind kind)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(algs); i++)
		if (algs[i].kind == kind && !strcmp(algs[i].name, name))
			return &algs[i];
	return NULL;
}

static bool key_len_ok(const struct alg_desc *d, unsigned int len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(d->key_lens); i++) {
		if (i && !d->key_lens[i])
			break;
		if (d->key_lens[i] == len)
			return true;
	}
	return false;
}

/* Checks one algorithm against the table and fills in its default length. */
static int alg_check(struct nfsec_alg *a, enum alg_kind kind,
		     struct netlink_ext_ack *extack)
{
	const struct alg_desc *d = alg_find(a->name, kind);
	size_t i;

	if (!d) {
		NL_SET_ERR_MSG(extack, "unknown algorithm");
		return -ENOENT;
	}
	if (!key_len_ok(d, a->key_len)) {
		NL_SET_ERR_MSG(extack, "key length does not fit the algorithm");
		return -EINVAL;
	}
	switch (kind) {
	case ALG_AEAD:
		if (!a->bits)
			a->bits = d->icv_bits[0];
		for (i = 0; i < ARRAY_SIZE(d->icv_bits); i++)
			if (d->icv_bits[i] == a->bits)
				return 0;
		NL_SET_ERR_MSG(extack, "ICV length not allowed for the algorithm");
		return -EINVAL;
	case ALG_AUTH:
		if (!a->bits)
			a->bits = d->default_trunc;
		/* RFC 2104 5: no shorter than half the output, nor 96 bits */
		if (a->bits % 8 || a->bits > d->digest_bits ||
		    a->bits < max_t(u16, 96, d->digest_bits / 2)) {
			NL_SET_ERR_MSG(extack,
				       "truncation length not allowed for the algorithm");
			return -EINVAL;
		}
		return 0;
	case ALG_ENC:
		a->bits = 0;
		return 0;
	}
	return -EINVAL;
}

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

/* authenc keys are an rtattr with the cipher key length, then both keys. */
static int authenc_setkey(struct crypto_aead *tfm, const struct nfsec_alg *enc,
			  const struct nfsec_alg *auth)
{
	unsigned int len = RTA_SPACE(sizeof(struct crypto_authenc_key_param)) +
			   auth->key_len + enc->key_len;
	struct crypto_authenc_key_param *param;
	struct rtattr *rta;
	u8 *key, *p;
	int err;

	key = kmalloc(len, GFP_KERNEL);
	if (!key)
		return -ENOMEM;
	rta = (struct rtattr *)key;
	rta->rta_type = CRYPTO_AUTHENC_KEYA_PARAM;
	rta->rta_len = RTA_LENGTH(sizeof(*param));
	param = RTA_DATA(rta);
	param->enckeylen = cpu_to_be32(enc->key_len);
	p = key + RTA_SPACE(sizeof(*param));
	memcpy(p, auth->key, auth->key_len);
	if (enc->key_len)
		memcpy(p + auth->key_len, enc->key, enc->key_len);
	err = crypto_aead_setkey(tfm, key, len);
	kfree_sensitive(key);
	return err;
}

/*
 * async_crypto: @tfm's implementation behind pcrypt. The pcrypt instance
 * keeps the algorithm's name at a higher priority, so once it exists it
 * is what the name finds (then @tfm is already it).
 */
static struct crypto_aead *behind_pcrypt(struct crypto_aead *tfm)
{
	const char *driver = crypto_tfm_alg_driver_name(crypto_aead_tfm(tfm));
	char name[CRYPTO_MAX_ALG_NAME];
	int len;

	if (str_has_prefix(driver, "pcrypt("))
		return tfm;
	len = snprintf(name, sizeof(name), "pcrypt(%s)", driver);
	crypto_free_aead(tfm);
	if (len >= sizeof(name))
		return ERR_PTR(-ENAMETOOLONG);
	return crypto_alloc_aead(name, 0, 0);
}

static int esp_init_tfm(struct nfsec_sa *sa, struct netlink_ext_ack *extack)
{
	char name[CRYPTO_MAX_ALG_NAME];
	struct crypto_aead *tfm;
	unsigned int icv_bits;
	int err;

	if (sa->aead.name[0]) {
		strscpy(name, sa->aead.name, sizeof(name));
		icv_bits = sa->aead.bits;
	} else {
		if (snprintf(name, sizeof(name), "%s(%s,%s)",
			     sa->flags & NFSEC_SA_F_ESN ? "authencesn" : "authenc",
			     sa->auth.name,
			     sa->enc.name[0] ? sa->enc.name : "ecb(cipher_null)") >=
		    sizeof(name))
			return -ENAMETOOLONG;
		icv_bits = sa->auth.bits;
	}

	tfm = crypto_alloc_aead(name, 0, 0);
	if (!IS_ERR(tfm) && async_crypto)
		tfm = behind_pcrypt(tfm);
	if (IS_ERR(tfm)) {
		NL_SET_ERR_MSG(extack,
			       "the kernel's crypto API lacks the algorithm");
		return PTR_ERR(tfm);
	}
	sa->aead_tfm = tfm;

	if (sa->aead.name[0])
		err = crypto_aead_setkey(tfm, sa->aead.key, sa->aead.key_len);
	else
		err = authenc_setkey(tfm, &sa->enc, &sa->auth);
	if (err) {
		NL_SET_ERR_MSG(extack, "the crypto API refused the key");
		return err;
	}
	err = crypto_aead_setauthsize(tfm, icv_bits / 8);
	if (err) {
		NL_SET_ERR_MSG(extack, "the crypto API refused the ICV length");
		return err;
	}
	/* RFC 4303 2.4: pad to the cipher's block, and to 4 bytes at least */
	sa->ivlen = crypto_aead_ivsize(tfm);
	sa->blksize = ALIGN(crypto_aead_blocksize(tfm), 4);
	sa->icvlen = icv_bits / 8;
	/* CBC wants unpredictable IVs (RFC 3602 2.3), counter modes unique */
	sa->iv_random = !strcmp(sa->enc.name, "cbc(aes)");
	get_random_bytes(&sa->iv_salt, sizeof(sa->iv_salt));
	return 0;
}

static int ah_init_tfm(struct nfsec_sa *sa, struct netlink_ext_ack *extack)
{
	struct crypto_ahash *tfm;
	int err;

	tfm = crypto_alloc_ahash(sa->auth.name, 0, 0);
	if (IS_ERR(tfm)) {
		NL_SET_ERR_MSG(extack,
			       "the kernel's crypto API lacks the algorithm");
		return PTR_ERR(tfm);
	}
	sa->ahash_tfm = tfm;
	err = crypto_ahash_setkey(tfm, sa->auth.key, sa->auth.key_len);
	if (err)
		NL_SET_ERR_MSG(extack, "the crypto API refused the key");
	return err;
}

/* The rules of RFC 4301 4.4.2.1 that do not depend on the algorithm table. */
static int params_check(struct nfsec_sa_params *p,
			struct netlink_ext_ack *extack)
{
	int err;

	if (ntohl(p->id.spi) < 256) {
		NL_SET_ERR_MSG(extack, "SPI 0-255 is reserved (RFC 4303 2.1)");
		return -EINVAL;
	}
	if (p->replay_window > NFSEC_REPLAY_WINDOW_MAX) {
		NL_SET_ERR_MSG(extack, "replay window out of range (0-4096)");
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

	if (p->id.proto == IPPROTO_AH) {
		if (p->has_aead || p->has_enc || !p->has_auth) {
			NL_SET_ERR_MSG(extack, "AH takes an auth algorithm alone");
			return -EINVAL;
		}
		if (p->flags & NFSEC_SA_F_ESN) {
			NL_SET_ERR_MSG(extack, "ESN is not supported with AH");
			return -EOPNOTSUPP;
		}
		return alg_check(&p->auth, ALG_AUTH, extack);
	}

	if (p->has_aead) {
		if (p->has_enc || p->has_auth) {
			NL_SET_ERR_MSG(extack,
				       "an AEAD algorithm excludes enc and auth");
			return -EINVAL;
		}
		return alg_check(&p->aead, ALG_AEAD, extack);
	}
	if (!p->has_auth) {
		NL_SET_ERR_MSG(extack,
			       "ESP needs an aead or an auth algorithm (no confidentiality-only SAs)");
		return -EINVAL;
	}
	/* without enc, integrity only: RFC 2410 NULL encryption */
	err = p->has_enc ? alg_check(&p->enc, ALG_ENC, extack) : 0;
	return err ?: alg_check(&p->auth, ALG_AUTH, extack);
}

void nfsec_sa_destroy(struct nfsec_sa *sa)
{
	if (sa->aead_tfm)
		crypto_free_aead(sa->aead_tfm);
	if (sa->ahash_tfm)
		crypto_free_ahash(sa->ahash_tfm);
	alg_wipe(&sa->aead);
	alg_wipe(&sa->enc);
	alg_wipe(&sa->auth);
	nfsec_replay_put(sa->replay);
	free_percpu(sa->counters);
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

struct nfsec_sa *nfsec_sa_create(const struct nfsec_sa_params *params,
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
	sa->seq = p.seq;
	sa->lifetime = p.lifetime;
	sa->add_time = ktime_get_boottime_seconds();

	err = -ENOMEM;
	sa->counters = alloc_percpu_gfp(struct nfsec_pcpu_counters,
					GFP_KERNEL_ACCOUNT);
	if (!sa->counters)
		goto err_free;
	if ((p.has_aead && alg_copy(&sa->aead, &p.aead)) ||
	    (p.has_enc && alg_copy(&sa->enc, &p.enc)) ||
	    (p.has_auth && alg_copy(&sa->auth, &p.auth)))
		goto err_free;

	if (p.id.proto == IPPROTO_ESP)
		err = esp_init_tfm(sa, extack);
	else
		err = ah_init_tfm(sa, extack);
	if (err)
		goto err_free;
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
	err = xa_alloc_cyclic(&nn->sa_index, &index, sa, xa_limit_32b,
			      &nn->sa_next_index, GFP_KERNEL_ACCOUNT);
	if (err < 0)
		return err;
	sa->index = index;
	sa->nn = nn;

	err = rhashtable_lookup_insert_fast(&nn->sad, &sa->node, sad_params);
	if (err) {
		xa_erase(&nn->sa_index, index);
		if (err == -EEXIST)
			NL_SET_ERR_MSG(extack, "SA already exists");
		return err;
	}
	nn->sa_count++;
	nn->sa_gen++;
	nfsec_spd_bind(nn, &sa->id, sa);
	return 0;
}

static void sa_unlink(struct nfsec_net *nn, struct nfsec_sa *sa)
{
	lockdep_assert_held(&nn->lock);
	sa->dead = true;
	xa_erase(&nn->sa_index, sa->index);
	nn->sa_count--;
	nn->sa_gen++;
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
	return 0;
}

/*
 * The new SA takes over the old one's state: sequence numbers, the replay
 * window, the lifetime used so far and the counters. The old SA's counter
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
	atomic64_set(&sa->lt_packets, atomic64_read(&old->lt_packets));
	atomic64_set(&sa->lt_bytes, atomic64_read(&old->lt_bytes));
	nfsec_counters_read(old->counters, sum, NFSEC_SA_COUNTERS);
	for (i = 0; i < NFSEC_SA_COUNTERS; i++)
		nfsec_counter_add(sa->counters, i, sum[i]);
	WRITE_ONCE(old->dead, true);
	atomic64_set(&sa->oseq, atomic64_xchg(&old->oseq, U64_MAX));
}

int nfsec_sa_replace(struct nfsec_net *nn, struct nfsec_sa *sa,
		     const struct nfsec_sa_params *p,
		     struct netlink_ext_ack *extack)
{
	struct nfsec_sa *old;
	int err;

	lockdep_assert_held(&nn->lock);
	old = nfsec_sa_lookup_locked(nn, &sa->id);
	if (!old) {
		NL_SET_ERR_MSG(extack, "no such SA");
		return -ENOENT;
	}
	err = update_check(old, sa, p, extack);
	if (err)
		return err;
	take_over(sa, old);
	err = rhashtable_replace_fast(&nn->sad, &old->node, &sa->node,
				      sad_params);
	if (err) {		/* (same key, same table: not expected) */
		atomic64_set(&old->oseq, atomic64_read(&sa->oseq));
		WRITE_ONCE(old->dead, false);
		return err;
	}
	sa->index = old->index;
	sa->nn = nn;
	xa_store(&nn->sa_index, sa->index, sa, GFP_KERNEL);
	nn->sa_gen++;
	nfsec_spd_bind(nn, &sa->id, sa);
	nfsec_sa_put(old);
	return 0;
}

int nfsec_sa_remove(struct nfsec_net *nn, const struct nfsec_sa_id *id)
{
	struct nfsec_sa *sa;

	lockdep_assert_held(&nn->lock);
	sa = nfsec_sa_lookup_locked(nn, id);
	if (!sa)
		return -ENOENT;
	/* Unhash and unbind first, so no new packet finds it; then drop. */
	rhashtable_remove_fast(&nn->sad, &sa->node, sad_params);
	nfsec_spd_bind(nn, id, NULL);
	sa_unlink(nn, sa);
	nfsec_sa_put(sa);
	return 0;
}

void nfsec_sa_flush(struct nfsec_net *nn)
{
	struct nfsec_sa *sa;
	unsigned long i;

	lockdep_assert_held(&nn->lock);
	nfsec_spd_bind(nn, NULL, NULL);
	xa_for_each(&nn->sa_index, i, sa) {
		rhashtable_remove_fast(&nn->sad, &sa->node, sad_params);
		sa_unlink(nn, sa);
		nfsec_sa_put(sa);
		cond_resched();
	}
}

/* Tells userspace, once per SA and kind, that a limit was reached. */
void nfsec_sa_event(struct nfsec_sa *sa, enum nfsec_sa_event ev)
{
	static const u8 reason[] = {
		[NFSEC_EV_SOFT] = NFSEC_EXPIRE_SOFT,
		[NFSEC_EV_HARD] = NFSEC_EXPIRE_HARD,
		[NFSEC_EV_SEQ] = NFSEC_EXPIRE_SEQ,
	};

	if (test_and_set_bit(ev, &sa->events))
		return;
	nfsec_netlink_notify_sa(sa->nn, sa, NFSEC_CMD_SA_EXPIRE, reason[ev],
				GFP_ATOMIC);
}

static bool over(u64 limit, u64 value)
{
	return limit && value >= limit;
}

/*
 * Counts one packet of @bytes against the SA's lifetime limits (RFC 4301
 * 4.4.2.1) and, when it may pass, in the SA's packets and bytes. Returns
 * false when a hard limit is reached: the packet is to be dropped, and so
 * is every later one.
 */
bool nfsec_sa_account(struct nfsec_sa *sa, unsigned int bytes)
{
	const struct nfsec_lifetime *lt = &sa->lifetime;
	u64 packets = 0, total = 0, age = 0;

	if (test_bit(NFSEC_EV_HARD, &sa->events))
		goto hard;
	if (lt->soft_packets || lt->hard_packets)
		packets = atomic64_inc_return(&sa->lt_packets);
	if (lt->soft_bytes || lt->hard_bytes)
		total = atomic64_add_return(bytes, &sa->lt_bytes);
	if (lt->soft_seconds || lt->hard_seconds)
		age = ktime_get_boottime_seconds() - sa->add_time;
	/* the packet that reaches a hard limit is the last one allowed */
	if (over(lt->hard_packets, packets - 1) ||
	    over(lt->hard_bytes, total - bytes) ||
	    over(lt->hard_seconds, age)) {
		nfsec_sa_event(sa, NFSEC_EV_HARD);
		goto hard;
	}
	if (over(lt->soft_packets, packets) || over(lt->soft_bytes, total) ||
	    over(lt->soft_seconds, age))
		nfsec_sa_event(sa, NFSEC_EV_SOFT);
	nfsec_counter_inc(sa->counters, NFSEC_SA_PACKETS);
	nfsec_counter_add(sa->counters, NFSEC_SA_BYTES, bytes);
	return true;
hard:
	nfsec_counter_inc(sa->counters, NFSEC_SA_EXPIRED);
	return false;
}

int nfsec_sad_init(struct nfsec_net *nn)
{
	xa_init_flags(&nn->sa_index, XA_FLAGS_ALLOC);
	return rhashtable_init(&nn->sad, &sad_params);
}

void nfsec_sad_uninit(struct nfsec_net *nn)
{
	mutex_lock(&nn->lock);
	nfsec_sa_flush(nn);
	mutex_unlock(&nn->lock);
	rhashtable_destroy(&nn->sad);
	xa_destroy(&nn->sa_index);
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
