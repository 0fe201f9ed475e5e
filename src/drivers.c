// SPDX-License-Identifier: GPL-2.0
/*
 * Which crypto driver each algorithm runs on. The crypto API takes the
 * implementation of the highest static priority, which is not always the
 * fastest (under emulation the SIMD code can lose to the generic C code).
 * So the first time an SA needs one of the algorithms below, this file
 * times every candidate driver the kernel can instantiate, the crypto
 * API's own choice first, on a request the size of a full-sized packet,
 * and keeps the fastest; SAs made afterwards allocate that driver by name.
 * ESP's authenc is not timed itself: it is built from the drivers chosen
 * for its cipher and its HMAC.
 *
 * Timed at the first SA, not at module load: nothing loads the SIMD
 * drivers before the module in a system without udev, the measurement
 * costs milliseconds per candidate that an SA nobody makes should not
 * cost, and every later SA reuses the result. It runs in process context,
 * before the SA's namespace lock is taken (nfsec.h: lock order), once per
 * algorithm and module load, and only for a caller in the initial user
 * namespace: the choice holds for every namespace, so a user who owns
 * only a namespace of their own (unshare -Urn) must not be the one who
 * fixes it, before the accelerated drivers are loaded or while the CPUs
 * are kept busy. Until the host measures, such a caller's SAs allocate by
 * the algorithm's name.
 */

#include "nfsec.h"

#include <crypto/aead.h>
#include <crypto/hash.h>
#include <crypto/skcipher.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>

enum drv_kind { DRV_AEAD, DRV_SKCIPHER, DRV_AHASH };

enum {
	MAX_CANDIDATES = 8,
	PAYLOAD_BYTES = 1408,	/* a full-sized packet, whole cipher blocks */
	SLICES = 3,		/* timed runs per candidate; the best counts */
	SLICE_NS = 2 * NSEC_PER_MSEC,
};

struct measured {
	char driver[CRYPTO_MAX_ALG_NAME];
	u32 kbps;		/* kB/s */
};

struct choice {
	const char *alg;
	enum drv_kind kind;
	u8 key_len;		/* bytes, as the crypto API takes it */
	const char *candidates[MAX_CANDIDATES];
	/*
	 * Set once, under choice_lock, by decide(); read by show_choice()
	 * under it. Once known is set (release, after the rest), nothing
	 * changes: an SA reads the choice without the lock.
	 */
	bool known;
	unsigned int n;		/* measured[0] is the crypto API's choice */
	unsigned int best;
	struct measured measured[MAX_CANDIDATES + 1];
};

/*
 * Driver names of Debian's 6.1 kernel (aesni-intel, ghash-clmulni-intel,
 * chacha-x86_64, poly1305-x86_64, sha*-ssse3 and the generic modules);
 * a candidate the kernel cannot instantiate is skipped. None may have
 * the priority of the crypto API's own choice: of equal priorities a
 * lookup by name takes the newest, so instantiating such a candidate
 * (rfc4106(generic-gcm-aesni), or gcm_base of ctr-aes-aesni and
 * ghash-clmulni) would change the driver every other user of the name,
 * XFRM among them, gets from then on. decide() checks that it did not.
 */
static struct choice choices[] = {
	{ "rfc4106(gcm(aes))", DRV_AEAD, 20, {
		"rfc4106-gcm-aesni",
		"rfc4106(gcm_base(ctr-aes-aesni,ghash-generic))",
		"rfc4106(gcm_base(ctr(aes-aesni),ghash-generic))",
		"rfc4106(gcm_base(ctr(aes-generic),ghash-generic))" } },
	{ "rfc4543(gcm(aes))", DRV_AEAD, 20, {
		"rfc4543(generic-gcm-aesni)",
		"rfc4543(gcm_base(ctr(aes-aesni),ghash-generic))",
		"rfc4543(gcm_base(ctr(aes-generic),ghash-generic))" } },
	{ "rfc7539esp(chacha20,poly1305)", DRV_AEAD, 36, {
		"rfc7539esp(chacha20-simd,poly1305-simd)",
		"rfc7539esp(chacha20-simd,poly1305-generic)",
		"rfc7539esp(chacha20-generic,poly1305-simd)",
		"rfc7539esp(chacha20-generic,poly1305-generic)" } },
	/* ESP's authenc without encryption: its driver name is the part */
	{ "ecb(cipher_null)", DRV_SKCIPHER, 0, { "ecb-cipher_null" } },
	{ "cbc(aes)", DRV_SKCIPHER, 16, {
		"cbc-aes-aesni", "cbc(aes-aesni)", "cbc(aes-generic)" } },
	{ "rfc3686(ctr(aes))", DRV_SKCIPHER, 20, {
		"rfc3686(ctr-aes-aesni)", "rfc3686(ctr(aes-aesni))",
		"rfc3686(ctr(aes-generic))" } },
	{ "hmac(sha1)", DRV_AHASH, 20, {
		"hmac(sha1-ni)", "hmac(sha1-avx2)", "hmac(sha1-avx)",
		"hmac(sha1-ssse3)", "hmac(sha1-generic)" } },
	{ "hmac(sha256)", DRV_AHASH, 32, {
		"hmac(sha256-ni)", "hmac(sha256-avx2)", "hmac(sha256-avx)",
		"hmac(sha256-ssse3)", "hmac(sha256-generic)" } },
	{ "hmac(sha384)", DRV_AHASH, 48, {
		"hmac(sha384-avx2)", "hmac(sha384-avx)", "hmac(sha384-ssse3)",
		"hmac(sha384-generic)" } },
	{ "hmac(sha512)", DRV_AHASH, 64, {
		"hmac(sha512-avx2)", "hmac(sha512-avx)", "hmac(sha512-ssse3)",
		"hmac(sha512-generic)" } },
};

static DEFINE_MUTEX(choice_lock);

static bool crypto_select = true;
module_param(crypto_select, bool, 0644);
MODULE_PARM_DESC(crypto_select,
		 "allocate SAs' crypto by the driver measured fastest (SAs made afterwards)");

/* Whether the SA being made takes the measured drivers (crypto_select). */
bool nfsec_crypto_selecting(void)
{
	return READ_ONCE(crypto_select);
}

/* One request's worth of memory: the buffer, its key and IV, its output. */
struct bench {
	struct crypto_wait wait;
	struct scatterlist sg;
	u8 *buf;		/* assoc, payload, ICV (AEAD) */
	u8 key[64];
	u8 iv[32];
	u8 out[64];		/* a digest */
	unsigned int assoclen;
};

/* One operation of @tfm over the packet-sized buffer; 0 or an error. */
static int run_once(enum drv_kind kind, void *tfm, void *req, struct bench *b)
{
	switch (kind) {
	case DRV_AEAD:
		aead_request_set_crypt(req, &b->sg, &b->sg, PAYLOAD_BYTES, b->iv);
		aead_request_set_ad(req, b->assoclen);
		return crypto_wait_req(crypto_aead_encrypt(req), &b->wait);
	case DRV_SKCIPHER:
		skcipher_request_set_crypt(req, &b->sg, &b->sg, PAYLOAD_BYTES,
					   b->iv);
		return crypto_wait_req(crypto_skcipher_encrypt(req), &b->wait);
	case DRV_AHASH:
		ahash_request_set_crypt(req, &b->sg, b->out, PAYLOAD_BYTES);
		return crypto_wait_req(crypto_ahash_digest(req), &b->wait);
	}
	return -EINVAL;
}

/* The best of SLICES runs of SLICE_NS each, in kB/s; 0 on any error. */
static u32 time_tfm(enum drv_kind kind, void *tfm, void *req, struct bench *b)
{
	u64 best = 0;
	int i;

	if (run_once(kind, tfm, req, b))	/* warm up, and check it works */
		return 0;
	for (i = 0; i < SLICES; i++) {
		u64 start = ktime_get_ns(), ns, bytes = 0;

		do {
			if (run_once(kind, tfm, req, b))
				return 0;
			bytes += PAYLOAD_BYTES;
			ns = ktime_get_ns() - start;
		} while (ns < SLICE_NS);
		best = max(best, div64_u64(bytes * USEC_PER_SEC, ns));
		cond_resched();
	}
	return min_t(u64, best, U32_MAX);
}

static void *alloc_kind(enum drv_kind kind, const char *name)
{
	switch (kind) {
	case DRV_AEAD:
		return crypto_alloc_aead(name, 0, 0);
	case DRV_SKCIPHER:
		return crypto_alloc_skcipher(name, 0, 0);
	case DRV_AHASH:
		return crypto_alloc_ahash(name, 0, 0);
	}
	return ERR_PTR(-EINVAL);
}

/*
 * Allocates @name as @c's kind, keys it and times it; on success writes
 * its driver's name to @m. Returns false when the kernel cannot make it,
 * or made another algorithm under that name.
 */
static bool measure(struct choice *c, const char *name, struct bench *b,
		    struct measured *m)
{
	struct crypto_tfm *base;
	void *tfm, *req = NULL;
	int err;

	tfm = alloc_kind(c->kind, name);
	if (IS_ERR(tfm))
		return false;

	switch (c->kind) {
	case DRV_AEAD:
		base = crypto_aead_tfm(tfm);
		err = crypto_aead_setkey(tfm, b->key, c->key_len);
		req = err ? NULL : aead_request_alloc(tfm, GFP_KERNEL);
		if (req)
			aead_request_set_callback(req, CRYPTO_TFM_REQ_MAY_SLEEP,
						  crypto_req_done, &b->wait);
		/* ESP's associated data: SPI, sequence number, IV */
		b->assoclen = 8 + crypto_aead_ivsize(tfm);
		break;
	case DRV_SKCIPHER:
		base = crypto_skcipher_tfm(tfm);
		err = crypto_skcipher_setkey(tfm, b->key, c->key_len);
		req = err ? NULL : skcipher_request_alloc(tfm, GFP_KERNEL);
		if (req)
			skcipher_request_set_callback(req,
						      CRYPTO_TFM_REQ_MAY_SLEEP,
						      crypto_req_done, &b->wait);
		b->assoclen = 0;
		break;
	case DRV_AHASH:
	default:
		base = crypto_ahash_tfm(tfm);
		err = crypto_ahash_setkey(tfm, b->key, c->key_len);
		req = err ? NULL : ahash_request_alloc(tfm, GFP_KERNEL);
		if (req)
			ahash_request_set_callback(req, CRYPTO_TFM_REQ_MAY_SLEEP,
						   crypto_req_done, &b->wait);
		b->assoclen = 0;
		break;
	}

	m->kbps = 0;
	if (req && !strcmp(crypto_tfm_alg_name(base), c->alg)) {
		strscpy(m->driver, crypto_tfm_alg_driver_name(base),
			sizeof(m->driver));
		sg_init_one(&b->sg, b->buf, b->assoclen + PAYLOAD_BYTES +
			    (c->kind == DRV_AEAD ? crypto_aead_maxauthsize(tfm) : 0));
		m->kbps = time_tfm(c->kind, tfm, req, b);
	}

	/* (the request frees alike for all three kinds: kfree_sensitive) */
	kfree_sensitive(req);
	crypto_destroy_tfm(tfm, base);
	return m->kbps;
}

static bool measured_already(const struct choice *c, const char *driver)
{
	unsigned int i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->measured[i].driver, driver))
			return true;
	return false;
}

/*
 * With async_crypto a pcrypt or cryptd instance may be what the name
 * finds: the choice is among the drivers behind such wrappers.
 */
static bool unwrap(char *driver)
{
	static const char * const wrappers[] = { "pcrypt(", "cryptd(" };
	size_t i, len = strlen(driver), wlen;

	for (i = 0; i < ARRAY_SIZE(wrappers); i++) {
		wlen = strlen(wrappers[i]);
		if (len > wlen + 1 && !strncmp(driver, wrappers[i], wlen) &&
		    driver[len - 1] == ')') {
			memmove(driver, driver + wlen, len - wlen - 1);
			driver[len - wlen - 1] = '\0';
			return true;
		}
	}
	return false;
}

/* The driver a lookup of @c's algorithm by name takes now, into @driver. */
static void lookup_driver(const struct choice *c, char *driver)
{
	void *tfm = alloc_kind(c->kind, c->alg);
	struct crypto_tfm *base;

	driver[0] = '\0';
	if (IS_ERR(tfm))
		return;
	base = c->kind == DRV_AEAD ? crypto_aead_tfm(tfm) :
	       c->kind == DRV_SKCIPHER ? crypto_skcipher_tfm(tfm) :
	       crypto_ahash_tfm(tfm);
	strscpy(driver, crypto_tfm_alg_driver_name(base), CRYPTO_MAX_ALG_NAME);
	unwrap(driver);
	crypto_destroy_tfm(tfm, base);
}

static void fmt_rate(char *s, size_t size, u32 kbps)
{
	snprintf(s, size, "%u.%u MB/s", kbps / 1000, kbps % 1000 / 100);
}

static void decide(struct choice *c)
{
	struct measured m;
	struct bench *b;
	unsigned int i;
	char rate[24];

	lockdep_assert_held(&choice_lock);
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (b)
		b->buf = kzalloc(PAYLOAD_BYTES + 64 + 64, GFP_KERNEL);
	if (!b || !b->buf)
		goto out;
	crypto_init_wait(&b->wait);
	get_random_bytes(b->key, sizeof(b->key));
	get_random_bytes(b->iv, sizeof(b->iv));
	get_random_bytes(b->buf, PAYLOAD_BYTES);

	/* The crypto API's choice first, before any candidate is made. */
	if (!measure(c, c->alg, b, &m) ||
	    (unwrap(m.driver) && !measure(c, m.driver, b, &m)))
		goto out;
	c->measured[0] = m;
	c->n = 1;
	for (i = 0; i < ARRAY_SIZE(c->candidates) && c->candidates[i]; i++) {
		if (!measure(c, c->candidates[i], b, &m) ||
		    measured_already(c, m.driver))
			continue;
		c->measured[c->n] = m;
		if (m.kbps > c->measured[c->best].kbps)
			c->best = c->n;
		c->n++;
	}

	lookup_driver(c, m.driver);
	if (strcmp(m.driver, c->measured[0].driver))
		pr_warn("nfsec: crypto %s: measuring made %s the crypto API's choice for the name, instead of %s\n",
			c->alg, m.driver, c->measured[0].driver);

	for (i = 0; i < c->n; i++) {
		fmt_rate(rate, sizeof(rate), c->measured[i].kbps);
		pr_info("nfsec: crypto %s: %s %s%s%s\n", c->alg,
			c->measured[i].driver, rate,
			i ? "" : ", default", i == c->best ? ", chosen" : "");
	}
out:
	if (b)
		kfree_sensitive(b->buf);
	kfree_sensitive(b);
	if (!c->n)
		pr_info("nfsec: crypto %s: nothing to measure, allocated by name\n",
			c->alg);
	/* pairs with nfsec_crypto_driver()'s acquire: the rest is set first */
	smp_store_release(&c->known, true);
}

static bool pick(const struct choice *c, char *name)
{
	if (c->n)
		strscpy(name, c->measured[c->best].driver, CRYPTO_MAX_ALG_NAME);
	return c->n;
}

/*
 * The name to allocate algorithm @alg by, into @name (CRYPTO_MAX_ALG_NAME
 * bytes): the driver measured fastest (measuring it now if no SA needed
 * @alg yet), or for an algorithm not measured @alg itself. Returns whether
 * @name is a measured driver's.
 */
bool nfsec_crypto_driver(const char *alg, char *name)
{
	struct choice *c = NULL;
	bool chosen;
	size_t i;

	strscpy(name, alg, CRYPTO_MAX_ALG_NAME);
	for (i = 0; i < ARRAY_SIZE(choices); i++)
		if (!strcmp(choices[i].alg, alg))
			c = &choices[i];
	if (!c)
		return false;
	/* every SA of a bulk install asks: no lock once decided (decide()) */
	if (smp_load_acquire(&c->known))
		return pick(c, name);
	mutex_lock(&choice_lock);
	if (!c->known && current_user_ns() == &init_user_ns)
		decide(c);
	chosen = pick(c, name);
	mutex_unlock(&choice_lock);
	return chosen;
}

/*
 * /sys/module/nfsec/parameters/crypto_choice: one line per algorithm
 * measured so far, "ALG: CHOSEN RATE; default DRIVER RATE".
 */
static int show_choice(char *buf, const struct kernel_param *kp)
{
	char rate[24], drate[24];
	int len = 0;
	size_t i;

	mutex_lock(&choice_lock);
	for (i = 0; i < ARRAY_SIZE(choices); i++) {
		const struct choice *c = &choices[i];

		if (!c->n)
			continue;
		fmt_rate(rate, sizeof(rate), c->measured[c->best].kbps);
		fmt_rate(drate, sizeof(drate), c->measured[0].kbps);
		len += scnprintf(buf + len, PAGE_SIZE - len,
				 "%s: %s %s; default %s %s\n", c->alg,
				 c->measured[c->best].driver, rate,
				 c->measured[0].driver, drate);
	}
	mutex_unlock(&choice_lock);
	return len;
}

static const struct kernel_param_ops choice_ops = {
	.get = show_choice,
};

module_param_cb(crypto_choice, &choice_ops, NULL, 0444);
MODULE_PARM_DESC(crypto_choice,
		 "the crypto driver measured fastest for each algorithm SAs used so far");
