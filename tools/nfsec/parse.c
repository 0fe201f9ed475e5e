// SPDX-License-Identifier: GPL-2.0
/*
 * The tokens of nfsec's command line. A batch file line is split into words
 * by tokenize() and then goes through the same code as argv does.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"

const char *const dir_names[4] = { NULL, "in", "out", "fwd" };
const char *const mode_names[3] = { NULL, "transport", "tunnel" };
const char *const df_names[3] = { "copy", "clear", "set" };
const char *const action_names[4] = { NULL, "protect", "bypass", "discard" };
const char *const expire_names[4] = { NULL, "soft", "hard", "seq" };
const char *const encap_names[2] = { NULL, "udp" };

static const struct {
	const char *name;
	uint8_t proto;
} ipprotos[] = {
	{ "icmp", IPPROTO_ICMP },
	{ "tcp", IPPROTO_TCP },
	{ "udp", IPPROTO_UDP },
	{ "ipv6-icmp", IPPROTO_ICMPV6 },
	{ "sctp", IPPROTO_SCTP },
	{ "udplite", IPPROTO_UDPLITE },
	{ "esp", IPPROTO_ESP },
	{ "ah", IPPROTO_AH },
};

static const struct alg_alias aliases[] = {
	{ "aes-gcm-128", NFSEC_SA_A_AEAD, "rfc4106(gcm(aes))", 16 + 4, 128 },
	{ "aes-gcm-256", NFSEC_SA_A_AEAD, "rfc4106(gcm(aes))", 32 + 4, 128 },
	{ "chacha20-poly1305", NFSEC_SA_A_AEAD,
	  "rfc7539esp(chacha20,poly1305)", 32 + 4, 128 },
	{ "aes-gmac-128", NFSEC_SA_A_AEAD, "rfc4543(gcm(aes))", 16 + 4, 128 },
	{ "aes-gmac-256", NFSEC_SA_A_AEAD, "rfc4543(gcm(aes))", 32 + 4, 128 },
	{ "aes-cbc-128", NFSEC_SA_A_ENC, "cbc(aes)", 16, 0 },
	{ "aes-cbc-256", NFSEC_SA_A_ENC, "cbc(aes)", 32, 0 },
	{ "aes-ctr-128", NFSEC_SA_A_ENC, "rfc3686(ctr(aes))", 16 + 4, 0 },
	{ "aes-ctr-256", NFSEC_SA_A_ENC, "rfc3686(ctr(aes))", 32 + 4, 0 },
	{ "null", NFSEC_SA_A_ENC, "ecb(cipher_null)", 0, 0 },
	{ "hmac-sha1-96", NFSEC_SA_A_AUTH, "hmac(sha1)", 20, 96 },
	{ "hmac-sha256-128", NFSEC_SA_A_AUTH, "hmac(sha256)", 32, 128 },
	{ "hmac-sha384-192", NFSEC_SA_A_AUTH, "hmac(sha384)", 48, 192 },
	{ "hmac-sha512-256", NFSEC_SA_A_AUTH, "hmac(sha512)", 64, 256 },
};

static const char *kind_name(uint16_t kind)
{
	switch (kind) {
	case NFSEC_SA_A_AEAD:
		return "aead";
	case NFSEC_SA_A_ENC:
		return "enc";
	default:
		return "auth";
	}
}

static int bad_token(const char *what, const char *tok)
{
	return error("invalid %s: \"%s\"", what, tok);
}

const char *args_next(struct args *a)
{
	if (a->argc <= 0)
		return NULL;
	a->argc--;
	return *a->argv++;
}

const char *args_value(struct args *a, const char *keyword)
{
	const char *val = args_next(a);

	if (!val)
		error("%s: \"%s\" needs a value", a->cmd, keyword);
	return val;
}

int missing_keyword(const struct args *a, const char *keyword)
{
	return error("%s: missing \"%s\"", a->cmd, keyword);
}

int parse_once(uint64_t *seen, unsigned int bit, const struct args *a,
	       const char *keyword)
{
	if (*seen & HAVE(bit))
		return error("%s: \"%s\" given twice", a->cmd, keyword);
	*seen |= HAVE(bit);
	return 0;
}

static uint16_t addr_from(const char *s, union ip_addr *addr)
{
	memset(addr, 0, sizeof(*addr));
	if (inet_pton(AF_INET, s, &addr->v4) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, &addr->v6) == 1)
		return AF_INET6;
	return 0;
}

int parse_addr(const char *tok, union ip_addr *addr, uint16_t *family)
{
	*family = addr_from(tok, addr);
	return *family ? 0 : bad_token("address", tok);
}

/* Strict unsigned number: decimal or 0x-hex, nothing else. */
static bool number(const char *tok, uint64_t max, uint64_t *val)
{
	unsigned long long v;
	int base = 10;
	char *end;

	if (tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X')) {
		tok += 2;
		base = 16;
	}
	if (!isxdigit((unsigned char)*tok))
		return false;
	errno = 0;
	v = strtoull(tok, &end, base);
	if (errno || *end || v > max)
		return false;
	*val = v;
	return true;
}

int parse_prefix(const char *tok, union ip_addr *addr, uint8_t *plen,
		 uint16_t *family)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(tok, '/');
	uint64_t len;

	if (streq(tok, "any")) {
		memset(addr, 0, sizeof(*addr));
		*plen = 0;
		*family = 0;
		return 0;
	}
	if (strlen(tok) >= sizeof(buf))
		return bad_token("prefix", tok);
	strcpy(buf, tok);
	if (slash)
		buf[slash - tok] = '\0';
	*family = addr_from(buf, addr);
	if (!*family)
		return bad_token("prefix", tok);
	if (!slash) {
		*plen = *family == AF_INET ? 32 : 128;
		return 0;
	}
	/* Host bits are the kernel's to refuse, so its check can be tested. */
	if (!isdigit((unsigned char)slash[1]) ||
	    !number(slash + 1, *family == AF_INET ? 32 : 128, &len))
		return bad_token("prefix", tok);
	*plen = len;
	return 0;
}

int merge_family(const struct args *a, uint16_t *family, uint16_t other)
{
	if (!other)
		return 0;
	if (*family && *family != other)
		return error("%s: addresses of different families", a->cmd);
	*family = other;
	return 0;
}

int parse_u64(const char *tok, const char *what, uint64_t max, uint64_t *val)
{
	return number(tok, max, val) ? 0 : bad_token(what, tok);
}

int parse_u32(const char *tok, const char *what, uint32_t *val)
{
	uint64_t v;

	if (parse_u64(tok, what, UINT32_MAX, &v))
		return -1;
	*val = v;
	return 0;
}

int parse_u16(const char *tok, const char *what, uint16_t *val)
{
	uint64_t v;

	if (parse_u64(tok, what, UINT16_MAX, &v))
		return -1;
	*val = v;
	return 0;
}

/* A port a datagram can carry: 1 to 65535. */
int parse_port(const char *tok, const char *what, uint16_t *port)
{
	uint64_t v;

	if (!number(tok, UINT16_MAX, &v) || !v)
		return bad_token(what, tok);
	*port = v;
	return 0;
}

/* RFC 4303 2.1 reserves 0 to 255. */
int parse_spi(const char *tok, uint32_t *spi)
{
	uint64_t v;

	if (!number(tok, UINT32_MAX, &v) || v < 256)
		return bad_token("SPI", tok);
	*spi = v;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int parse_key(const char *tok, struct alg_spec *alg)
{
	const char *hex = tok;
	size_t i, len;

	if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
		hex += 2;
	len = strlen(hex);
	if (!len || len % 2 || len / 2 > NFSEC_KEY_MAX)
		return bad_token("key", tok);
	for (i = 0; i < len / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			explicit_bzero(alg->key, sizeof(alg->key));
			return bad_token("key", tok);
		}
		alg->key[i] = hi << 4 | lo;
	}
	alg->key_len = len / 2;
	alg->has_key = true;
	return 0;
}

int parse_alg(const struct args *a, const char *tok, uint16_t kind,
	      struct alg_spec *alg)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(aliases); i++) {
		if (!streq(tok, aliases[i].alias))
			continue;
		if (aliases[i].kind != kind)
			return error("%s: %s is an %s algorithm, not %s",
				     a->cmd, tok, kind_name(aliases[i].kind),
				     kind_name(kind));
		alg->alias = &aliases[i];
		strcpy(alg->name, aliases[i].name);
		alg->set = true;
		return 0;
	}
	/* Anything else is a crypto API name, for the kernel to judge. */
	if (!*tok || strlen(tok) >= sizeof(alg->name))
		return bad_token("algorithm", tok);
	for (i = 0; tok[i]; i++)
		if (!isgraph((unsigned char)tok[i]))
			return bad_token("algorithm", tok);
	strcpy(alg->name, tok);
	alg->set = true;
	return 0;
}

/* Once the whole command is read: keys and defaults that come with aliases. */
int check_alg(const struct args *a, uint16_t kind, struct alg_spec *alg)
{
	const struct alg_alias *alias = alg->alias;

	if (!alg->set) {
		if (alg->has_key || alg->has_bits)
			return missing_keyword(a, kind_name(kind));
		return 0;
	}
	if (!alg->has_key) {
		/* Only a cipher may go without a key (null): send an empty one. */
		if (kind != NFSEC_SA_A_ENC || (alias && alias->key_len))
			return missing_keyword(a, "key");
		alg->has_key = true;
		alg->key_len = 0;
	}
	if (alias && alg->key_len != alias->key_len)
		return error("invalid key length for %s: %zu bytes, expected %u",
			     alias->alias, alg->key_len, alias->key_len);
	if (alias && alias->bits && !alg->has_bits) {
		alg->bits = alias->bits;
		alg->has_bits = true;
	}
	return 0;
}

int parse_word(const char *tok, const char *what, const char *const *words,
	       unsigned int nwords, uint8_t *val)
{
	unsigned int i;

	for (i = 0; i < nwords; i++) {
		if (words[i] && streq(tok, words[i])) {
			*val = i;
			return 0;
		}
	}
	return bad_token(what, tok);
}

const char *ipproto_name(uint8_t proto)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ipprotos); i++)
		if (ipprotos[i].proto == proto)
			return ipprotos[i].name;
	return NULL;
}

const char *xfrm_proto_name(uint8_t proto)
{
	if (proto == IPPROTO_ESP)
		return "esp";
	if (proto == IPPROTO_AH)
		return "ah";
	return NULL;
}

int parse_ipproto(const char *tok, uint8_t *proto)
{
	unsigned int i;
	uint64_t v;

	if (streq(tok, "any")) {
		*proto = 0;
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(ipprotos); i++) {
		if (streq(tok, ipprotos[i].name)) {
			*proto = ipprotos[i].proto;
			return 0;
		}
	}
	if (!number(tok, UINT8_MAX, &v))
		return bad_token("proto", tok);
	*proto = v;
	return 0;
}

int parse_xfrm_proto(const char *tok, uint8_t *proto)
{
	if (streq(tok, "esp"))
		*proto = IPPROTO_ESP;
	else if (streq(tok, "ah"))
		*proto = IPPROTO_AH;
	else
		return bad_token("proto", tok);
	return 0;
}

/*
 * Split a batch line into words in place, like a shell would for simple
 * cases: blanks separate words, '#' at the start of a word begins a comment,
 * double quotes group blanks into a word and, inside them, a backslash
 * escapes '"' or '\'. Returns the number of words, or -1.
 */
int tokenize(char *line, char **argv, int max)
{
	char *in = line, *out = line;
	int argc = 0;

	for (;;) {
		bool quoted = false;

		while (isspace((unsigned char)*in))
			in++;
		if (!*in || *in == '#')
			return argc;
		if (argc == max)
			return error("too many words");
		argv[argc++] = out;
		for (; *in; in++) {
			if (*in == '"') {
				quoted = !quoted;
				continue;
			}
			if (!quoted && isspace((unsigned char)*in))
				break;
			if (quoted && *in == '\\' &&
			    (in[1] == '"' || in[1] == '\\'))
				in++;
			*out++ = *in;
		}
		if (quoted)
			return error("unterminated quote");
		/* out never passes in, so ending the word cannot eat input. */
		if (*in)
			in++;
		*out++ = '\0';
	}
}
