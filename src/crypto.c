// SPDX-License-Identifier: GPL-2.0
/*
 * The crypto transforms of an SA: which algorithms nfsec speaks and with
 * which key and ICV lengths, and the transform each SA gets from the
 * kernel's crypto API, allocated and keyed once when the SA is made.
 * ESP runs every algorithm as one AEAD transform (authenc or authencesn
 * when the SA has a cipher and an HMAC); AH runs an ahash.
 */

#include "nfsec.h"

#include <crypto/aead.h>
#include <crypto/authenc.h>
#include <crypto/hash.h>
#include <linux/in.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
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

/*
 * For tests: every ESP transform behind pcrypt, so that every packet's
 * crypto completes later, from another context (a padata worker), as it
 * does with crypto hardware. (cryptd would do, but its rfc4106 instance
 * fails the crypto manager's self-tests on 6.1.) Once made, a pcrypt
 * instance is what its algorithm's name finds, for XFRM too, until the
 * pcrypt module goes. AH's HMACs go behind cryptd (pcrypt takes AEADs
 * alone), with the same effect.
 */
static bool async_crypto;
module_param(async_crypto, bool, 0444);
MODULE_PARM_DESC(async_crypto,
		 "run all ESP crypto through pcrypt, AH through cryptd (tests)");

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

/*
 * Checks the algorithms of @p against the table and fills in their default
 * lengths: AH takes an auth algorithm alone, ESP an AEAD or an auth
 * algorithm, with or without a cipher.
 */
int nfsec_crypto_check(struct nfsec_sa_params *p,
		       struct netlink_ext_ack *extack)
{
	int err;

	if (p->id.proto == IPPROTO_AH) {
		if (p->has_aead || p->has_enc || !p->has_auth) {
			NL_SET_ERR_MSG(extack, "AH takes an auth algorithm alone");
			return -EINVAL;
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
 * async_crypto: the implementation @tfm runs (its driver) behind the
 * template @tmpl. Returns 0 when @tfm already is that (an instance keeps
 * the algorithm's name at a higher priority, so once it exists it is what
 * the name finds); else frees @tfm (@mem, as crypto_destroy_tfm() takes
 * it) and returns 1 with the name to allocate in @name, or an error.
 */
static int behind(char *name, void *mem, struct crypto_tfm *tfm,
		  const char *tmpl)
{
	const char *driver = crypto_tfm_alg_driver_name(tfm);
	int len;

	if (str_has_prefix(driver, tmpl) && driver[strlen(tmpl)] == '(')
		return 0;
	len = snprintf(name, CRYPTO_MAX_ALG_NAME, "%s(%s)", tmpl, driver);
	crypto_destroy_tfm(mem, tfm);
	return len < CRYPTO_MAX_ALG_NAME ? 1 : -ENAMETOOLONG;
}

static void *alloc_one(const char *name, bool aead)
{
	if (aead)
		return crypto_alloc_aead(name, 0, 0);
	return crypto_alloc_ahash(name, 0, 0);
}

/*
 * The transform named @name (a buffer of CRYPTO_MAX_ALG_NAME, which this
 * may change): ESP's AEAD (@aead) or AH's ahash; with async_crypto behind
 * pcrypt (ESP) or cryptd (AH: pcrypt takes AEADs only).
 */
static void *alloc_tfm(char *name, bool aead, struct netlink_ext_ack *extack)
{
	void *tfm = alloc_one(name, aead);
	int ret;

	if (!IS_ERR(tfm) && async_crypto) {
		ret = aead ? behind(name, tfm, crypto_aead_tfm(tfm), "pcrypt") :
			     behind(name, tfm, crypto_ahash_tfm(tfm), "cryptd");
		if (ret)
			tfm = ret < 0 ? ERR_PTR(ret) : alloc_one(name, aead);
	}
	if (IS_ERR(tfm))
		NL_SET_ERR_MSG(extack,
			       "the kernel's crypto API lacks the algorithm");
	return tfm;
}

/*
 * The name of ESP's transform for @sa into @name (CRYPTO_MAX_ALG_NAME):
 * its AEAD, or authenc(esn) of its HMAC and cipher; with @select, each
 * part by the driver measured fastest (drivers.c).
 */
static int esp_name(const struct nfsec_sa *sa, char *name, bool select)
{
	char auth[CRYPTO_MAX_ALG_NAME], enc[CRYPTO_MAX_ALG_NAME];
	const char *e = sa->enc.name[0] ? sa->enc.name : "ecb(cipher_null)";

	if (sa->aead.name[0]) {
		if (select)
			nfsec_crypto_driver(sa->aead.name, name);
		else
			strscpy(name, sa->aead.name, CRYPTO_MAX_ALG_NAME);
		return 0;
	}
	/*
	 * Driver names for both parts or for neither: "authenc(" a driver
	 * "," an algorithm ")" names no instance, and the crypto API would
	 * build a new one for every SA (through cryptomgr, milliseconds).
	 */
	if (!select || !nfsec_crypto_driver(sa->auth.name, auth) ||
	    !nfsec_crypto_driver(e, enc)) {
		strscpy(auth, sa->auth.name, sizeof(auth));
		strscpy(enc, e, sizeof(enc));
	}
	if (snprintf(name, CRYPTO_MAX_ALG_NAME, "%s(%s,%s)",
		     sa->flags & NFSEC_SA_F_ESN ? "authencesn" : "authenc",
		     auth, enc) >= CRYPTO_MAX_ALG_NAME)
		return -ENAMETOOLONG;
	return 0;
}

static int esp_init_tfm(struct nfsec_sa *sa, struct netlink_ext_ack *extack)
{
	bool select = nfsec_crypto_selecting();
	char name[CRYPTO_MAX_ALG_NAME];
	struct crypto_aead *tfm;
	unsigned int icv_bits;
	int err;

	icv_bits = sa->aead.name[0] ? sa->aead.bits : sa->auth.bits;
	err = esp_name(sa, name, select);
	if (err)
		return err;
	/* the chosen drivers, or if one has gone since (unloaded) the default */
	tfm = alloc_tfm(name, true, select ? NULL : extack);
	if (IS_ERR(tfm) && select) {
		err = esp_name(sa, name, false);
		if (err)
			return err;
		tfm = alloc_tfm(name, true, extack);
	}
	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
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
	sa->iv_salt = get_random_u64();	/* (batched: no crng block per SA) */
	return 0;
}

static int ah_init_tfm(struct nfsec_sa *sa, struct netlink_ext_ack *extack)
{
	bool select = nfsec_crypto_selecting();
	char name[CRYPTO_MAX_ALG_NAME];
	struct crypto_ahash *tfm;
	int err;

	if (select)
		nfsec_crypto_driver(sa->auth.name, name);
	else
		strscpy(name, sa->auth.name, sizeof(name));
	tfm = alloc_tfm(name, false, select ? NULL : extack);
	if (IS_ERR(tfm) && select) {
		strscpy(name, sa->auth.name, sizeof(name));
		tfm = alloc_tfm(name, false, extack);
	}
	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	sa->ahash_tfm = tfm;
	err = crypto_ahash_setkey(tfm, sa->auth.key, sa->auth.key_len);
	if (err) {
		NL_SET_ERR_MSG(extack, "the crypto API refused the key");
		return err;
	}
	/* (the ICV, truncated; nfsec_ah_len() pads the header around it) */
	sa->icvlen = sa->auth.bits / 8;
	sa->ivlen = 0;
	sa->blksize = 4;
	return 0;
}

int nfsec_crypto_init(struct nfsec_sa *sa, struct netlink_ext_ack *extack)
{
	int err;

	if (sa->id.proto == IPPROTO_ESP)
		err = esp_init_tfm(sa, extack);
	else
		err = ah_init_tfm(sa, extack);
	if (err)
		return err;
	/* each CPU's request slots made large enough for this SA's */
	nfsec_req_size(sa->id.proto == IPPROTO_ESP ?
		       nfsec_esp_req_len(sa, NFSEC_REQ_FRAGS) :
		       nfsec_ah_req_len(sa, NFSEC_REQ_FRAGS,
					NFSEC_REQ_AH_HDR_BYTES));
	return 0;
}

void nfsec_crypto_uninit(struct nfsec_sa *sa)
{
	if (sa->aead_tfm)
		crypto_free_aead(sa->aead_tfm);
	if (sa->ahash_tfm)
		crypto_free_ahash(sa->ahash_tfm);
}
