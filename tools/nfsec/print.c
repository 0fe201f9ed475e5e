// SPDX-License-Identifier: GPL-2.0
/*
 * Output: for people (aligned, units humanised, colour on a terminal), for
 * machines (JSON, -j) and for nfsec itself (showconf's batch lines). Each
 * object has one printer per form, here and nowhere else.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define COLOR_BOLD	"\x1b[1m"
#define COLOR_GREEN	"\x1b[1;32m"
#define COLOR_YELLOW	"\x1b[1;33m"
#define COLOR_RESET	"\x1b[0m"

static const char *color(const char *code)
{
	return opts.color && !opts.json ? code : "";
}

/* Counters: their JSON names (people see '-' for '_') and meanings. */
static const struct counter {
	const char *name;
	const char *desc;
} sa_counters[NFSEC_SA_STATS_A_MAX + 1] = {
	[NFSEC_SA_STATS_A_PACKETS] = { "packets", NULL },
	[NFSEC_SA_STATS_A_BYTES] = { "bytes", NULL },
	[NFSEC_SA_STATS_A_REPLAY] = { "replay", NULL },
	[NFSEC_SA_STATS_A_REPLAY_OLD] = { "replay_old", NULL },
	[NFSEC_SA_STATS_A_ICV_FAIL] = { "icv_fail", NULL },
	[NFSEC_SA_STATS_A_BAD_TRAILER] = { "bad_trailer", NULL },
	[NFSEC_SA_STATS_A_POLICY] = { "policy", NULL },
	[NFSEC_SA_STATS_A_SEQ_EXHAUSTED] = { "seq_exhausted", NULL },
	[NFSEC_SA_STATS_A_NO_BUFFER] = { "no_buffer", NULL },
	[NFSEC_SA_STATS_A_CRYPTO_ERROR] = { "crypto_error", NULL },
	[NFSEC_SA_STATS_A_DUMMY] = { "dummy", NULL },
	[NFSEC_SA_STATS_A_EXPIRED] = { "expired", NULL },
	[NFSEC_SA_STATS_A_TOO_BIG] = { "too_big", NULL },
	[NFSEC_SA_STATS_A_BACKLOG] = { "backlog", NULL },
	[NFSEC_SA_STATS_A_LOOP] = { "loop", NULL },
}, ns_counters[NFSEC_STATS_A_MAX + 1] = {
	[NFSEC_STATS_A_SA_COUNT] = { "sa_count", "SAs" },
	[NFSEC_STATS_A_POLICY_COUNT] = { "policy_count", "policies" },
	[NFSEC_STATS_A_NO_SA] = { "no_sa", "inbound ESP/AH with no SA" },
	[NFSEC_STATS_A_NO_SA_OUT] = { "no_sa_out",
				      "protect policy without a usable SA" },
	[NFSEC_STATS_A_MALFORMED] = { "malformed",
				      "truncated or bad headers" },
	[NFSEC_STATS_A_CLEARTEXT] = { "cleartext",
				      "cleartext a policy wants protected" },
	[NFSEC_STATS_A_DISCARD] = { "discard", "dropped by a discard policy" },
	[NFSEC_STATS_A_CONNTRACK] = { "conntrack",
				      "conntrack refused to confirm the flow" },
	[NFSEC_STATS_A_ACQUIRE] = { "acquire", "acquire events sent" },
	[NFSEC_STATS_A_ACQUIRE_LIMITED] = { "acquire_limited",
					    "acquire events rate-limited" },
	[NFSEC_STATS_A_ACQUIRE_FAILED] = { "acquire_failed",
					   "acquire events not sent: memory, full socket" },
	[NFSEC_STATS_A_LARVAL_COUNT] = { "larval_count",
					 "of the SAs, larval (SPIs reserved)" },
	[NFSEC_STATS_A_ENCAP_IN] = { "encap_in", "ESP in UDP taken in" },
	[NFSEC_STATS_A_ENCAP_OUT] = { "encap_out", "ESP in UDP sent" },
	[NFSEC_STATS_A_KEEPALIVE_IN] = { "keepalive_in",
					 "NAT keepalives taken in" },
	[NFSEC_STATS_A_KEEPALIVE_OUT] = { "keepalive_out",
					  "NAT keepalives sent" },
	[NFSEC_STATS_A_NON_ESP] = { "non_esp",
				    "non-ESP datagrams passed on (IKE)" },
	[NFSEC_STATS_A_BAD_ENCAP] = { "bad_encap",
				      "ESP in UDP dropped: short, junk, wrong SA" },
	[NFSEC_STATS_A_MAPPING] = { "mapping", "mapping events sent" },
	[NFSEC_STATS_A_MAPPING_LIMITED] = { "mapping_limited",
					    "mapping events rate-limited" },
	[NFSEC_STATS_A_SPREAD] = { "spread",
				   "decrypted on the next CPU (rx_spread)" },
	[NFSEC_STATS_A_REQ_HEAP] = { "req_heap",
				     "crypto requests from the heap" },
};

/* "replay_old" for JSON, "replay-old" for people and the command line */
static const char *respell(const char *name, char from, char to)
{
	static char buf[32];
	size_t i;

	for (i = 0; name[i] && i < sizeof(buf) - 1; i++)
		buf[i] = name[i] == from ? to : name[i];
	buf[i] = '\0';
	return buf;
}

#define human_name(name)	respell(name, '_', '-')
#define json_name(name)		respell(name, '-', '_')

const char *addr_str(uint16_t family, const union ip_addr *addr)
{
	static char bufs[4][INET6_ADDRSTRLEN];
	static unsigned int next;
	char *buf = bufs[next++ % ARRAY_SIZE(bufs)];

	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf,
		       INET6_ADDRSTRLEN))
		strcpy(buf, "?");
	return buf;
}

/* The family of the SA a policy names: its own, unless it says another */
static uint16_t sa_family(const struct policy_spec *pol)
{
	return pol->have & HAVE(NFSEC_POL_A_SA_FAMILY) ? pol->sa_family :
							 pol->family;
}

static const char *prefix_str(uint16_t family, const union ip_addr *addr,
			      uint8_t plen)
{
	static char bufs[2][INET6_ADDRSTRLEN + 4];
	static unsigned int next;
	char *buf = bufs[next++ % ARRAY_SIZE(bufs)];

	snprintf(buf, sizeof(bufs[0]), "%s/%u", addr_str(family, addr), plen);
	return buf;
}

static const char *name_of(const char *const *names, unsigned int n,
			   unsigned int val)
{
	return val < n && names[val] ? names[val] : "?";
}

#define NAME(names, val)	name_of(names, ARRAY_SIZE(names), val)

static const char *family_name(uint16_t family)
{
	return family == AF_INET6 ? "inet6" : "inet";
}

static const char *xfrm_proto(uint8_t proto)
{
	const char *name = xfrm_proto_name(proto);

	return name ? name : "?";
}

/* JSON: a tiny streaming emitter */

static struct {
	unsigned int depth;
	bool oneline;		/* no new lines inside a top-level value */
	bool empty[16];
	char close[16];
} js;

void json_oneline(bool on)
{
	js.oneline = on;
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* A comma and a new line before all but the first member, then the key. */
static void json_member(const char *key)
{
	if (js.depth) {
		if (!js.empty[js.depth])
			fputs(js.oneline ? ", " : ",", stdout);
		if (!js.oneline)
			printf("\n%*s", 2 * js.depth, "");
		js.empty[js.depth] = false;
	}
	if (key) {
		json_string(key);
		fputs(": ", stdout);
	}
}

void json_begin(char bracket, const char *key)
{
	if (!opts.json || js.depth + 1 >= ARRAY_SIZE(js.empty))
		return;
	json_member(key);
	putchar(bracket);
	js.depth++;
	js.empty[js.depth] = true;
	js.close[js.depth] = bracket == '{' ? '}' : ']';
}

void json_end(void)
{
	if (!opts.json || !js.depth)
		return;
	if (!js.empty[js.depth] && !js.oneline)
		printf("\n%*s", 2 * (js.depth - 1), "");
	putchar(js.close[js.depth--]);
	if (!js.depth)
		putchar('\n');
}

static void json_str(const char *key, const char *val)
{
	json_member(key);
	json_string(val);
}

static void json_u64(const char *key, uint64_t val)
{
	json_member(key);
	printf("%llu", (unsigned long long)val);
}

static void json_bool(const char *key, bool val)
{
	json_member(key);
	fputs(val ? "true" : "false", stdout);
}

static void json_key(const char *key, const struct alg_spec *alg)
{
	size_t i;

	json_member(key);
	printf("\"0x");
	for (i = 0; i < alg->key_len; i++)
		printf("%02x", alg->key[i]);
	putchar('"');
}

/* Values that replies may leave to their defaults */

static uint32_t replay_window(const struct sa_spec *sa)
{
	if (sa->have & HAVE(NFSEC_SA_A_REPLAY_WINDOW))
		return sa->replay_window;
	return sa->dir == NFSEC_DIR_IN ? NFSEC_REPLAY_WINDOW_DEFAULT : 0;
}

/* ICV or truncation bits; 0 when unknown. RFC 4868 for SHA-2. */
static uint32_t alg_bits(uint16_t kind, const struct alg_spec *alg)
{
	static const struct {
		const char *name;
		uint32_t bits;
	} trunc[] = {
		{ "hmac(sha1)", 96 }, { "hmac(sha256)", 128 },
		{ "hmac(sha384)", 192 }, { "hmac(sha512)", 256 },
	};
	unsigned int i;

	if (alg->has_bits)
		return alg->bits;
	if (kind == NFSEC_SA_A_AEAD)
		return 128;
	for (i = 0; kind == NFSEC_SA_A_AUTH && i < ARRAY_SIZE(trunc); i++)
		if (!strcmp(alg->name, trunc[i].name))
			return trunc[i].bits;
	return 0;
}

/* Both ports, which a reply may leave to their default. */
static struct encap_spec encap_defaults(const struct encap_spec *encap)
{
	struct encap_spec e = *encap;

	if (!(e.have & HAVE(NFSEC_ENCAP_A_SPORT)))
		e.sport = NFSEC_ENCAP_PORT_DEFAULT;
	if (!(e.have & HAVE(NFSEC_ENCAP_A_DPORT)))
		e.dport = NFSEC_ENCAP_PORT_DEFAULT;
	return e;
}

static const char *bits_keyword(uint16_t kind)
{
	return kind == NFSEC_SA_A_AEAD ? "icv" : "trunc";
}

/* SA */

static const struct {
	uint16_t kind;
	const char *name;
	size_t off;
} sa_algs[] = {
	{ NFSEC_SA_A_AEAD, "aead", offsetof(struct sa_spec, aead) },
	{ NFSEC_SA_A_ENC, "enc", offsetof(struct sa_spec, enc) },
	{ NFSEC_SA_A_AUTH, "auth", offsetof(struct sa_spec, auth) },
};

static const struct alg_spec *sa_alg(const struct sa_spec *sa, unsigned int i)
{
	return (const void *)((const uint8_t *)sa + sa_algs[i].off);
}

bool sa_larval(const struct sa_spec *sa)
{
	return sa->state == NFSEC_SA_STATE_LARVAL;
}

void print_sa_id(const struct sa_spec *sa)
{
	printf("%s %s spi 0x%08x (%u) %s -> %s",
	       sa_larval(sa) ? "larval" : NAME(dir_names, sa->dir),
	       xfrm_proto(sa->proto), sa->spi, sa->spi,
	       addr_str(sa->family, &sa->src), addr_str(sa->family, &sa->dst));
}

static bool has_encap(const struct sa_spec *sa)
{
	return sa->have & HAVE(NFSEC_SA_A_ENCAP);
}

/*
 * Is the peer of an ENCAP SA elsewhere than configured (outbound: dst and
 * dport; inbound: src and sport)? FOLLOW moves it.
 */
static bool peer_moved(const struct sa_spec *sa, const struct encap_spec *e)
{
	bool out = sa->dir == NFSEC_DIR_OUT;
	const union ip_addr *addr = out ? &sa->dst : &sa->src;
	size_t len = sa->family == AF_INET6 ? 16 : 4;

	if (!(e->have & HAVE(NFSEC_ENCAP_A_PEER)) ||
	    !(e->have & HAVE(NFSEC_ENCAP_A_PEER_PORT)))
		return false;
	return e->peer_port != (out ? e->dport : e->sport) ||
	       memcmp(&e->peer, addr, len);
}

static void json_encap(const struct sa_spec *sa)
{
	struct encap_spec e = encap_defaults(&sa->encap);

	json_begin('{', "encap");
	json_str("type", NAME(encap_names, e.type));
	json_u64("sport", e.sport);
	json_u64("dport", e.dport);
	json_bool("follow", e.flags & NFSEC_ENCAP_F_FOLLOW);
	json_u64("keepalive", e.keepalive);
	if (e.have & HAVE(NFSEC_ENCAP_A_PEER))
		json_str("peer", addr_str(sa->family, &e.peer));
	if (e.have & HAVE(NFSEC_ENCAP_A_PEER_PORT))
		json_u64("peer_port", e.peer_port);
	json_end();
}

/* A larval entry: an SPI reserved, with its identity and time left. */
static void json_larval(const struct sa_spec *sa, const char *key)
{
	json_begin('{', key);
	json_str("state", "larval");
	json_str("family", family_name(sa->family));
	json_str("src", addr_str(sa->family, &sa->src));
	json_str("dst", addr_str(sa->family, &sa->dst));
	json_u64("spi", sa->spi);
	json_str("proto", xfrm_proto(sa->proto));
	json_u64("add_time", sa->add_time);
	json_u64("timeout", sa->timeout);
	json_end();
}

static void json_sa(const struct sa_spec *sa, const char *key)
{
	unsigned int i;

	if (sa_larval(sa)) {
		json_larval(sa, key);
		return;
	}
	json_begin('{', key);
	json_str("state", "valid");
	json_str("dir", NAME(dir_names, sa->dir));
	json_str("family", family_name(sa->family));
	json_str("src", addr_str(sa->family, &sa->src));
	json_str("dst", addr_str(sa->family, &sa->dst));
	json_u64("spi", sa->spi);
	json_str("proto", xfrm_proto(sa->proto));
	json_str("mode", NAME(mode_names, sa->mode));
	for (i = 0; i < ARRAY_SIZE(sa_algs); i++) {
		const struct alg_spec *alg = sa_alg(sa, i);
		uint16_t kind = sa_algs[i].kind;

		if (!alg->set)
			continue;
		json_begin('{', sa_algs[i].name);
		json_str("name", alg->name);
		if (kind != NFSEC_SA_A_ENC && alg_bits(kind, alg))
			json_u64(kind == NFSEC_SA_A_AEAD ? "icv_bits" :
				 "trunc_bits", alg_bits(kind, alg));
		if (alg->has_key)
			json_key("key", alg);
		json_end();
	}
	json_u64("replay_window", replay_window(sa));
	json_bool("esn", sa->flags & NFSEC_SA_F_ESN);
	json_u64("seq", sa->seq);
	json_str("df", NAME(df_names, sa->df));
	json_u64("reqid", sa->reqid);
	if (has_encap(sa))
		json_encap(sa);
	json_begin('{', "lifetime");
	for (i = 1; i <= NFSEC_LT_A_MAX; i++)
		if (lifetime_names[i])
			json_u64(json_name(lifetime_names[i]),
				 sa->lifetime[i]);
	json_end();
	json_u64("add_time", sa->add_time);
	/* absent until the SA carries its first packet */
	if (sa->have & HAVE(NFSEC_SA_A_FIRST_USE_TIME))
		json_u64("first_use_time", sa->first_use_time);
	if (sa->have & HAVE(NFSEC_SA_A_USE_TIME))
		json_u64("use_time", sa->use_time);
	if (sa->have & HAVE(NFSEC_SA_A_PMTU))
		json_u64("pmtu", sa->pmtu);
	json_begin('{', "stats");
	for (i = 1; i <= NFSEC_SA_STATS_A_MAX; i++)
		if (sa_counters[i].name)
			json_u64(sa_counters[i].name, sa->stats[i]);
	json_end();
	json_end();
}

static void label(const char *name)
{
	printf("  %s%s:%s%*s", color(COLOR_BOLD), name, color(COLOR_RESET),
	       (int)(9 - strlen(name)), "");
}

static const char *bytes_str(uint64_t b)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB",
					     "PiB", "EiB" };
	static char buf[32];
	double v = b;
	unsigned int i;

	if (b < 1024) {
		snprintf(buf, sizeof(buf), "%llu B", (unsigned long long)b);
		return buf;
	}
	for (i = 0, v /= 1024; v >= 1024 && i < ARRAY_SIZE(units) - 1; i++)
		v /= 1024;
	snprintf(buf, sizeof(buf), "%.2f %s", v, units[i]);
	return buf;
}

/* Seconds from boot-time second @t (CLOCK_BOOTTIME) until now. */
static bool since_boot_second(uint64_t t, uint64_t *secs)
{
	struct timespec now;

	if (clock_gettime(CLOCK_BOOTTIME, &now) || (uint64_t)now.tv_sec < t)
		return false;
	*secs = now.tv_sec - t;
	return true;
}

/* "2 hours, 5 seconds" */
static void print_duration(uint64_t secs)
{
	static const struct {
		const char *unit;
		uint64_t secs;
	} units[] = {
		{ "day", 86400 }, { "hour", 3600 }, { "minute", 60 },
		{ "second", 1 },
	};
	const char *sep = "";
	unsigned int i;

	if (!secs) {
		fputs("0 seconds", stdout);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		uint64_t n = secs / units[i].secs;

		if (!n)
			continue;
		secs %= units[i].secs;
		printf("%s%llu %s%s", sep, (unsigned long long)n,
		       units[i].unit, n == 1 ? "" : "s");
		sep = ", ";
	}
}

static void human_alg(const struct sa_spec *sa, unsigned int i)
{
	const struct alg_spec *alg = sa_alg(sa, i);
	uint16_t kind = sa_algs[i].kind;
	size_t k;

	if (!alg->set)
		return;
	label(sa_algs[i].name);
	printf("%s", alg->name);
	if (kind != NFSEC_SA_A_ENC && alg_bits(kind, alg))
		printf(" %s %u", bits_keyword(kind), alg_bits(kind, alg));
	if (alg->has_key) {
		if (alg->key_len)
			printf(" key 0x");
		for (k = 0; k < alg->key_len; k++)
			printf("%02x", alg->key[k]);
	} else if (strcmp(alg->name, "ecb(cipher_null)")) {
		printf(" key (hidden)");
	}
	putchar('\n');
}

/* "udp sport 4500 dport 4500 follow keepalive 20 (peer ADDR port N)" */
static void human_encap(const struct sa_spec *sa)
{
	struct encap_spec e = encap_defaults(&sa->encap);

	label("encap");
	printf("%s sport %u dport %u", NAME(encap_names, e.type), e.sport,
	       e.dport);
	if (e.flags & NFSEC_ENCAP_F_FOLLOW)
		printf(" follow");
	if (e.keepalive)
		printf(" keepalive %u", e.keepalive);
	if (peer_moved(sa, &e))
		printf(" (peer %s port %u)", addr_str(sa->family, &e.peer),
		       e.peer_port);
	putchar('\n');
}

static void human_sa(const struct sa_spec *sa)
{
	uint64_t secs;
	unsigned int i;
	const char *sep = "";

	printf("%ssa%s ", color(COLOR_GREEN), color(COLOR_RESET));
	print_sa_id(sa);
	if (sa_larval(sa)) {
		printf("\n");
		label("expires");
		printf("in ");
		print_duration(sa->timeout);
		printf(" unless an SA fills it in\n");
		return;
	}
	printf(" mode %s", NAME(mode_names, sa->mode));
	if (sa->reqid)
		printf(" reqid %u", sa->reqid);
	putchar('\n');
	for (i = 0; i < ARRAY_SIZE(sa_algs); i++)
		human_alg(sa, i);

	label("options");
	if (sa->dir == NFSEC_DIR_IN)
		printf("replay-window %u, ", replay_window(sa));
	printf("esn %s, seq %llu", sa->flags & NFSEC_SA_F_ESN ? "on" : "off",
	       (unsigned long long)sa->seq);
	if (sa->dir == NFSEC_DIR_OUT && sa->mode == NFSEC_MODE_TUNNEL)
		printf(", df %s", NAME(df_names, sa->df));
	if (sa->have & HAVE(NFSEC_SA_A_PMTU))
		printf(", path mtu %u", sa->pmtu);
	putchar('\n');
	if (has_encap(sa))
		human_encap(sa);

	label("lifetime");
	for (i = 1; i <= NFSEC_LT_A_MAX; i++) {
		if (!lifetime_names[i] || !sa->lifetime[i])
			continue;
		printf("%s%s %llu", sep, lifetime_names[i],
		       (unsigned long long)sa->lifetime[i]);
		sep = ", ";
	}
	printf("%s\n", *sep ? "" : "none");

	label("traffic");
	printf("%llu packet%s, %s\n",
	       (unsigned long long)sa->stats[NFSEC_SA_STATS_A_PACKETS],
	       sa->stats[NFSEC_SA_STATS_A_PACKETS] == 1 ? "" : "s",
	       bytes_str(sa->stats[NFSEC_SA_STATS_A_BYTES]));

	label("drops");
	for (sep = "", i = NFSEC_SA_STATS_A_REPLAY; i <= NFSEC_SA_STATS_A_MAX;
	     i++) {
		if (!sa_counters[i].name)
			continue;
		printf("%s%s %llu", sep, human_name(sa_counters[i].name),
		       (unsigned long long)sa->stats[i]);
		sep = ", ";
	}
	putchar('\n');

	if ((sa->have & HAVE(NFSEC_SA_A_ADD_TIME)) &&
	    since_boot_second(sa->add_time, &secs)) {
		label("added");
		print_duration(secs);
		printf(" ago\n");
	}
	if (!(sa->have & HAVE(NFSEC_SA_A_ADD_TIME)))
		return;
	label("used");
	if (!(sa->have & HAVE(NFSEC_SA_A_USE_TIME))) {
		printf("never\n");
		return;
	}
	printf("last ");
	print_duration(sa->use_time);
	printf(" ago");
	if ((sa->have & HAVE(NFSEC_SA_A_FIRST_USE_TIME)) &&
	    since_boot_second(sa->first_use_time, &secs)) {
		printf(", first ");
		print_duration(secs);
		printf(" ago");
	}
	putchar('\n');
}

void print_sa(const struct sa_spec *sa)
{
	if (opts.json)
		json_sa(sa, NULL);
	else
		human_sa(sa);
}

/* The SA's own ports and options; where FOLLOW took its peer is news. */
static void conf_encap(const struct sa_spec *sa)
{
	struct encap_spec e = encap_defaults(&sa->encap);

	printf(" encap %s", NAME(encap_names, e.type));
	if (e.sport != NFSEC_ENCAP_PORT_DEFAULT)
		printf(" sport %u", e.sport);
	if (e.dport != NFSEC_ENCAP_PORT_DEFAULT)
		printf(" dport %u", e.dport);
	if (e.flags & NFSEC_ENCAP_F_FOLLOW)
		printf(" follow");
	if (e.keepalive)
		printf(" keepalive %u", e.keepalive);
}

/* Everything sa add needs to make this SA again, and no defaults. */
void print_sa_conf(const struct sa_spec *sa)
{
	unsigned int i;
	size_t k;

	printf("sa add dir %s src %s dst %s spi 0x%08x proto %s mode %s",
	       NAME(dir_names, sa->dir), addr_str(sa->family, &sa->src),
	       addr_str(sa->family, &sa->dst), sa->spi, xfrm_proto(sa->proto),
	       NAME(mode_names, sa->mode));
	for (i = 0; i < ARRAY_SIZE(sa_algs); i++) {
		const struct alg_spec *alg = sa_alg(sa, i);

		if (!alg->set)
			continue;
		printf(" %s %s", sa_algs[i].name, alg->name);
		if (alg->has_key && alg->key_len) {
			printf(" key 0x");
			for (k = 0; k < alg->key_len; k++)
				printf("%02x", alg->key[k]);
		}
		if (alg->has_bits)
			printf(" %s %u", bits_keyword(sa_algs[i].kind),
			       alg->bits);
	}
	if (sa->dir == NFSEC_DIR_IN &&
	    replay_window(sa) != NFSEC_REPLAY_WINDOW_DEFAULT)
		printf(" replay-window %u", replay_window(sa));
	if (sa->flags & NFSEC_SA_F_ESN)
		printf(" esn");
	/* Go on from the last sequence number sent: never reuse one. */
	if (sa->dir == NFSEC_DIR_OUT && sa->seq)
		printf(" seq %llu", (unsigned long long)sa->seq);
	if (sa->df != NFSEC_DF_COPY)
		printf(" df %s", NAME(df_names, sa->df));
	if (sa->reqid)
		printf(" reqid %u", sa->reqid);
	for (i = 1; i <= NFSEC_LT_A_MAX; i++)
		if (lifetime_names[i] && sa->lifetime[i])
			printf(" %s %llu", lifetime_names[i],
			       (unsigned long long)sa->lifetime[i]);
	if (has_encap(sa))
		conf_encap(sa);
	putchar('\n');
}

/* Policy */

/* Does the policy name its SAs by reqid (else its SA by spi)? */
static bool by_reqid(const struct policy_spec *pol)
{
	return pol->have & HAVE(NFSEC_POL_A_SA_REQID);
}

static void json_policy(const struct policy_spec *pol, const char *key)
{
	json_begin('{', key);
	json_u64("index", pol->index);
	json_str("dir", NAME(dir_names, pol->dir));
	json_str("family", family_name(pol->family));
	json_str("src", prefix_str(pol->family, &pol->src, pol->src_plen));
	json_str("dst", prefix_str(pol->family, &pol->dst, pol->dst_plen));
	json_u64("proto", pol->proto);
	json_u64("sport", pol->sport);
	json_u64("dport", pol->dport);
	json_u64("priority", pol->have & HAVE(NFSEC_POL_A_PRIORITY) ?
		 pol->priority : NFSEC_POLICY_PRIORITY_DEFAULT);
	json_str("action", NAME(action_names, pol->action));
	if (pol->action == NFSEC_ACTION_PROTECT) {
		json_begin('{', "sa");
		if (by_reqid(pol)) {
			json_u64("reqid", pol->sa_reqid);
			if (pol->sa_mode)
				json_str("mode",
					 NAME(mode_names, pol->sa_mode));
		} else {
			json_u64("spi", pol->sa_spi);
		}
		if (pol->have & HAVE(NFSEC_POL_A_SA_DST))
			json_str("dst", addr_str(sa_family(pol), &pol->sa_dst));
		if (pol->have & HAVE(NFSEC_POL_A_SA_SRC))
			json_str("src", addr_str(sa_family(pol), &pol->sa_src));
		json_str("proto", xfrm_proto(pol->have &
					     HAVE(NFSEC_POL_A_SA_PROTO) ?
					     pol->sa_proto : IPPROTO_ESP));
		json_end();
	}
	json_u64("matches", pol->matches);
	json_end();
}

/* " proto tcp dport 22": a protocol other than any, and its ports */
static void print_ports(const struct policy_spec *pol)
{
	const char *proto = ipproto_name(pol->proto);

	if (proto)
		printf(" proto %s", proto);
	else
		printf(" proto %u", pol->proto);
	if (pol->sport)
		printf(" sport %u", pol->sport);
	if (pol->dport)
		printf(" dport %u", pol->dport);
}

/* Replies may leave these to their defaults. */
static struct policy_spec policy_defaults(const struct policy_spec *pol)
{
	struct policy_spec p = *pol;

	if (!(p.have & HAVE(NFSEC_POL_A_PRIORITY)))
		p.priority = NFSEC_POLICY_PRIORITY_DEFAULT;
	if (!(p.have & HAVE(NFSEC_POL_A_SA_PROTO)))
		p.sa_proto = IPPROTO_ESP;
	return p;
}

/*
 * " reqid N [mode M]" or " spi SPI" (conf: 8 digits), then " dst ADDR",
 * then (reqid) " src ADDR"
 */
static void print_sa_ref(const struct policy_spec *p, bool conf)
{
	if (by_reqid(p)) {
		printf(" reqid %u", p->sa_reqid);
		if (p->sa_mode)
			printf(" mode %s", NAME(mode_names, p->sa_mode));
	} else {
		printf(conf ? " spi 0x%08x" : " spi 0x%x", p->sa_spi);
	}
	if (p->have & HAVE(NFSEC_POL_A_SA_DST))
		printf(" dst %s", addr_str(sa_family(p), &p->sa_dst));
	if (p->have & HAVE(NFSEC_POL_A_SA_SRC))
		printf(" src %s", addr_str(sa_family(p), &p->sa_src));
}

void print_policy(const struct policy_spec *pol)
{
	struct policy_spec p = policy_defaults(pol);

	if (opts.json) {
		json_policy(&p, NULL);
		return;
	}
	printf("%sindex %u%s %s %s -> %s", color(COLOR_YELLOW), p.index,
	       color(COLOR_RESET), NAME(dir_names, p.dir),
	       prefix_str(p.family, &p.src, p.src_plen),
	       prefix_str(p.family, &p.dst, p.dst_plen));
	if (p.proto)
		print_ports(&p);
	else
		printf(" proto any");
	printf(" priority %u %s", p.priority, NAME(action_names, p.action));
	if (p.action == NFSEC_ACTION_PROTECT) {
		printf(" %s", xfrm_proto(p.sa_proto));
		print_sa_ref(&p, false);
	}
	printf(" matches %llu\n", (unsigned long long)p.matches);
}

void print_policy_conf(const struct policy_spec *pol)
{
	struct policy_spec p = policy_defaults(pol);

	printf("policy add dir %s src %s dst %s", NAME(dir_names, p.dir),
	       prefix_str(p.family, &p.src, p.src_plen),
	       prefix_str(p.family, &p.dst, p.dst_plen));
	if (p.proto)
		print_ports(&p);
	if (p.priority != NFSEC_POLICY_PRIORITY_DEFAULT)
		printf(" priority %u", p.priority);
	printf(" %s", NAME(action_names, p.action));
	if (p.action == NFSEC_ACTION_PROTECT) {
		print_sa_ref(&p, true);
		if (p.sa_proto != IPPROTO_ESP)
			printf(" proto %s", xfrm_proto(p.sa_proto));
	}
	putchar('\n');
}

/* Events */

/* {"event": "add", "sa": {...}}; no "sa" for a flush or lost events */
void print_sa_event(const char *event, const struct sa_spec *sa)
{
	json_begin('{', NULL);
	json_str("event", event);
	if (sa) {
		if (sa->have & HAVE(NFSEC_SA_A_EXPIRE))
			json_str("expire", NAME(expire_names, sa->expire));
		json_sa(sa, "sa");
	}
	json_end();
}

/*
 * "acquire policy 3 reqid 7 esp dst 10.0.0.2 flow 10.1.0.1 -> 10.2.0.1
 * proto tcp sport 40000 dport 5001", or {"event": "acquire", "policy":
 * {...}, "flow": {...}}
 */
void print_acquire(const struct policy_spec *pol, const struct flow_spec *flow)
{
	struct policy_spec p = policy_defaults(pol);
	const char *proto = ipproto_name(flow->proto);

	if (opts.json) {
		json_begin('{', NULL);
		json_str("event", "acquire");
		json_policy(&p, "policy");
		json_begin('{', "flow");
		json_str("family", family_name(flow->family));
		json_str("src", addr_str(flow->family, &flow->src));
		json_str("dst", addr_str(flow->family, &flow->dst));
		json_u64("proto", flow->proto);
		json_u64("sport", flow->sport);
		json_u64("dport", flow->dport);
		json_end();
		json_end();
		return;
	}
	printf("acquire policy %u", p.index);
	if (by_reqid(&p))
		printf(" reqid %u", p.sa_reqid);
	printf(" %s", xfrm_proto(p.sa_proto));
	if (p.sa_mode)
		printf(" mode %s", NAME(mode_names, p.sa_mode));
	if (p.have & HAVE(NFSEC_POL_A_SA_DST))
		printf(" dst %s", addr_str(sa_family(&p), &p.sa_dst));
	printf(" flow %s -> %s", addr_str(flow->family, &flow->src),
	       addr_str(flow->family, &flow->dst));
	if (proto)
		printf(" proto %s", proto);
	else
		printf(" proto %u", flow->proto);
	if (flow->sport || flow->dport)
		printf(" sport %u dport %u", flow->sport, flow->dport);
	putchar('\n');
}

/* "10.0.0.1:4500", "[2001:db8::1]:4500" */
static const char *addr_port_str(uint16_t family, const union ip_addr *addr,
				 uint16_t port)
{
	static char bufs[2][INET6_ADDRSTRLEN + 8];
	static unsigned int next;
	char *buf = bufs[next++ % ARRAY_SIZE(bufs)];

	snprintf(buf, sizeof(bufs[0]), family == AF_INET6 ? "[%s]:%u" :
		 "%s:%u", addr_str(family, addr), port);
	return buf;
}

static void json_addr_port(const char *key, uint16_t family,
			   const union ip_addr *addr, uint16_t port)
{
	json_begin('{', key);
	json_str("addr", addr_str(family, addr));
	json_u64("port", port);
	json_end();
}

/*
 * "mapping sa in esp spi 0x00001000 (4096) 198.51.100.1 -> 10.0.0.1 peer
 * 198.51.100.1:4500 -> 198.51.100.1:4501 (followed 1)", or {"event":
 * "mapping", "sa": {...}, "old": {"addr": ..., "port": ...}, "new": {...},
 * "followed": 1}
 */
void print_mapping(const struct sa_spec *sa, const struct mapping_spec *map)
{
	if (opts.json) {
		json_begin('{', NULL);
		json_str("event", "mapping");
		json_sa(sa, "sa");
		json_addr_port("old", sa->family, &map->old_addr,
			       map->old_port);
		json_addr_port("new", sa->family, &map->new_addr,
			       map->new_port);
		json_u64("followed", map->followed);
		json_end();
		return;
	}
	printf("mapping sa ");
	print_sa_id(sa);
	printf(" peer %s -> %s (followed %u)\n",
	       addr_port_str(sa->family, &map->old_addr, map->old_port),
	       addr_port_str(sa->family, &map->new_addr, map->new_port),
	       map->followed);
}

/* Namespace counters */

void print_stats(const struct stats_reply *st, const char *json_key)
{
	unsigned int i;

	json_begin('{', json_key);
	for (i = 1; i <= NFSEC_STATS_A_MAX; i++) {
		if (!ns_counters[i].name)
			continue;
		if (opts.json)
			json_u64(ns_counters[i].name, st->val[i]);
		else
			printf("  %-16s %10llu  %s\n",
			       human_name(ns_counters[i].name),
			       (unsigned long long)st->val[i],
			       ns_counters[i].desc);
	}
	json_end();
}

void print_heading(const char *fmt, ...)
{
	va_list ap;

	fputs(color(COLOR_BOLD), stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("%s\n", color(COLOR_RESET));
}
