/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nfsec(8): the command-line tool of the nfsec module. This hub header lists
 * the API each file offers the others.
 *
 * An SA or a policy travels through the tool as one struct: the command line
 * (or a batch line) is parsed into it, genl.c turns it into attributes,
 * replies are parsed back into it, and print.c prints it. The "have" masks
 * say which fields are set, one bit per attribute number of the uapi header
 * (HAVE(NFSEC_SA_A_SPI)), so only what the user gave is sent.
 */
#ifndef NFSEC_TOOL_H
#define NFSEC_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>

#include "uapi/linux/nfsec.h"

#define HAVE(attr)	(1ULL << (attr))
#define __printf(a, b)	__attribute__((format(printf, a, b)))
#define __aligned(x)	__attribute__((aligned(x)))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * A word equals a keyword, compared inline: a batch line's keywords go
 * through chains of these, most links differ at the first letter, and a
 * library call per link was a tenth of a bulk install's parsing
 * (Documentation/performance.md, "Bulk install").
 */
static inline bool streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

union ip_addr {
	struct in_addr v4;
	struct in6_addr v6;
	uint8_t b[16];
};

struct alg_alias;

/* ESP in UDP (RFC 3948): an SA's NFSEC_SA_A_ENCAP nest */
struct encap_spec {
	uint64_t have;		/* HAVE(NFSEC_ENCAP_A_*) */
	uint8_t type;		/* enum nfsec_encap_type */
	uint16_t sport, dport;
	uint32_t flags;		/* enum nfsec_encap_flags */
	uint32_t keepalive;	/* seconds, 0: off */
	union ip_addr peer;	/* replies: where the peer is now */
	uint16_t peer_port;
};

struct alg_spec {
	const struct alg_alias *alias;	/* parsing only: a friendly name */
	bool set;
	bool has_key;
	bool has_bits;
	char name[NFSEC_ALG_NAME_MAX];
	uint8_t key[NFSEC_KEY_MAX];
	size_t key_len;
	uint32_t bits;		/* ICV_BITS (aead) or TRUNC_BITS (auth) */
};

struct sa_spec {
	uint64_t have;		/* HAVE(NFSEC_SA_A_*) */
	uint64_t lt_have;	/* HAVE(NFSEC_LT_A_*) */
	uint64_t stats_have;	/* HAVE(NFSEC_SA_STATS_A_*) */
	uint8_t dir, proto, mode, df, expire;
	uint8_t state;		/* enum nfsec_sa_state, replies only */
	uint16_t family;
	union ip_addr src, dst;
	uint32_t spi;		/* host order */
	struct alg_spec aead, enc, auth;
	uint32_t replay_window, flags, pmtu, reqid;
	uint32_t spi_min, spi_max, timeout;	/* alloc-spi, larval */
	uint64_t seq, add_time;
	uint64_t use_time;	/* seconds idle, with HAVE(..._USE_TIME) */
	uint64_t first_use_time;
	uint64_t lifetime[NFSEC_LT_A_MAX + 1];
	uint64_t stats[NFSEC_SA_STATS_A_MAX + 1];
	struct encap_spec encap;	/* with HAVE(NFSEC_SA_A_ENCAP) */
};

struct policy_spec {
	uint64_t have;		/* HAVE(NFSEC_POL_A_*) */
	uint32_t index, priority, sa_spi, sa_reqid;
	uint16_t family, sport, dport, sa_family;
	uint8_t dir, src_plen, dst_plen, proto, action, sa_proto, sa_mode;
	union ip_addr src, dst, sa_dst, sa_src;
	uint64_t matches;
};

/* A packet's selector fields, in acquire events. */
struct flow_spec {
	uint64_t have;		/* HAVE(NFSEC_FLOW_A_*) */
	uint16_t family, sport, dport;
	uint8_t proto;
	union ip_addr src, dst;
};

/* A NAT mapping change, in mapping events: addresses of the SA's family. */
struct mapping_spec {
	uint64_t have;		/* HAVE(NFSEC_MAP_A_*) */
	union ip_addr old_addr, new_addr;
	uint16_t old_port, new_port;
	uint32_t followed;	/* outbound SAs FOLLOW moved */
};

/*
 * An event: SA events fill sa, acquire events pol and flow, mapping events
 * sa (the inbound SA) and map.
 */
struct event_spec {
	struct sa_spec sa;
	struct policy_spec pol;
	struct flow_spec flow;
	struct mapping_spec map;
};

struct stats_reply {
	uint64_t have;		/* HAVE(NFSEC_STATS_A_*) */
	uint64_t val[NFSEC_STATS_A_MAX + 1];
};

/* nfsec.c: global options, dispatch, errors */
struct cli_opts {
	bool json;
	bool show_keys;
	bool dry_run;		/* hidden: print requests instead of sending */
	bool color;		/* stdout is a terminal */
	const char *batch_file;	/* set while running a batch */
	unsigned int batch_line;
};

extern struct cli_opts opts;

int error(const char *fmt, ...) __printf(1, 2);
int run_command(int argc, char **argv);
struct args;
struct subcmd {
	const char *name;
	int (*fn)(struct args *a);
};

/* argv: OBJECT [COMMAND [ARGS]]; no COMMAND means "list". */
int run_subcmd(const struct subcmd *cmds, int argc, char **argv);
int no_args(const char *cmd, int argc, char **argv);

/* cmd_sa.c */
extern const char *const lifetime_names[NFSEC_LT_A_MAX + 1];
int sa_main(int argc, char **argv);
int sa_list_cb(const struct sa_spec *sa, void *data);	/* data: counter */

/* cmd_policy.c */
int policy_main(int argc, char **argv);
int policy_list_cb(const struct policy_spec *pol, void *data);

/* cmd_show.c */
int show_main(int argc, char **argv);
int stats_main(int argc, char **argv);
int showconf_main(int argc, char **argv);

/* cmd_monitor.c */
int monitor_main(int argc, char **argv);
int print_event(uint8_t cmd, const struct event_spec *ev, void *data);

/* parse.c: tokens of the command line and of batch files */
struct alg_alias {
	const char *alias;
	uint16_t kind;		/* NFSEC_SA_A_AEAD, _ENC or _AUTH */
	const char *name;	/* crypto API name */
	unsigned int key_len;	/* bytes, salt or nonce included */
	uint32_t bits;		/* default ICV or truncation, 0 for none */
};

struct args {
	int argc;
	char **argv;
	const char *cmd;	/* "sa add", for messages */
};

const char *args_next(struct args *a);
const char *args_value(struct args *a, const char *keyword);
int parse_once(uint64_t *seen, unsigned int bit, const struct args *a,
	       const char *keyword);
int parse_addr(const char *tok, union ip_addr *addr, uint16_t *family);
int parse_prefix(const char *tok, union ip_addr *addr, uint8_t *plen,
		 uint16_t *family);
int merge_family(const struct args *a, uint16_t *family, uint16_t other);
int parse_u64(const char *tok, const char *what, uint64_t max, uint64_t *val);
int parse_u32(const char *tok, const char *what, uint32_t *val);
int parse_u16(const char *tok, const char *what, uint16_t *val);
int parse_port(const char *tok, const char *what, uint16_t *port);
int parse_spi(const char *tok, uint32_t *spi);
int parse_key(const char *tok, struct alg_spec *alg);
int parse_alg(const struct args *a, const char *tok, uint16_t kind,
	      struct alg_spec *alg);
int check_alg(const struct args *a, uint16_t kind, struct alg_spec *alg);
int parse_word(const char *tok, const char *what, const char *const *words,
	       unsigned int nwords, uint8_t *val);
int parse_ipproto(const char *tok, uint8_t *proto);
int parse_xfrm_proto(const char *tok, uint8_t *proto);
int tokenize(char *line, char **argv, int max);
int missing_keyword(const struct args *a, const char *keyword);

/* Names of enum values, indexed by value; NULL where there is none. */
extern const char *const dir_names[4];
extern const char *const mode_names[3];
extern const char *const df_names[3];
extern const char *const action_names[4];
extern const char *const expire_names[4];
extern const char *const encap_names[2];
const char *xfrm_proto_name(uint8_t proto);	/* "esp", "ah" or NULL */
const char *ipproto_name(uint8_t proto);	/* "tcp", ... or NULL */

/* genl.c: every netlink exchange with the module */
typedef int (*sa_cb)(const struct sa_spec *sa, void *data);
typedef int (*policy_cb)(const struct policy_spec *pol, void *data);
/* ev NULL: events were lost (the socket's buffer ran over) */
typedef int (*event_cb)(uint8_t cmd, const struct event_spec *ev,
			void *data);
int nl_sa_request(uint8_t cmd, const struct sa_spec *sa);
int nl_sa_get(const struct sa_spec *id, sa_cb cb, void *data);
int nl_sa_alloc_spi(const struct sa_spec *req, sa_cb cb, void *data);
int nl_sa_dump(bool show_keys, sa_cb cb, void *data);
int nl_policy_request(uint8_t cmd, const struct policy_spec *pol);
int nl_policy_dump(policy_cb cb, void *data);
int nl_flush(uint8_t cmd);
int nl_stats_get(struct stats_reply *stats);
int nl_monitor(event_cb cb, void *data);
int nl_batch_flush(void);	/* send what a batch file gathered */
void nl_close(void);

/* dryrun.c: what --dry-run prints instead of sending */
struct nlmsghdr;
void dryrun_print(const struct nlmsghdr *nlh);

/* print.c: people, JSON and batch-file forms */
void print_sa(const struct sa_spec *sa);		/* human or JSON */
void print_sa_conf(const struct sa_spec *sa);		/* "sa add ..." */
void print_sa_id(const struct sa_spec *sa);		/* one line */
bool sa_larval(const struct sa_spec *sa);		/* a reserved SPI */
void print_policy(const struct policy_spec *pol);	/* human or JSON */
void print_policy_conf(const struct policy_spec *pol);	/* "policy add" */
void print_stats(const struct stats_reply *st, const char *json_key);
void print_heading(const char *fmt, ...) __printf(1, 2);
void print_acquire(const struct policy_spec *pol,
		   const struct flow_spec *flow);	/* human or JSON */
void print_sa_event(const char *event, const struct sa_spec *sa); /* JSON */
void print_mapping(const struct sa_spec *sa,
		   const struct mapping_spec *map);	/* human or JSON */
const char *addr_str(uint16_t family, const union ip_addr *addr);

void json_begin(char bracket, const char *key);	/* '{' or '[' */
void json_oneline(bool on);	/* each top-level value on one line */
void json_end(void);

#endif /* NFSEC_TOOL_H */
