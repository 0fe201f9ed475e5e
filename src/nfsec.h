/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nfsec: the hub header. Every cross-file interface of the module is listed
 * here, grouped by the file that implements it: first the send chain, then
 * the receive chain, in the order a packet travels; then the tables (SAD,
 * SPD, replay windows); then the control plane (netlink, nfsec0, main).
 *
 * Lock order (outermost first; see Documentation/locking.md):
 *
 *   nfsec_net.lock (mutex, one per namespace: all SAD and SPD changes;
 *     taken by netlink.c's handlers, at namespace exit, by policy.c's
 *     refresh_work, spi.c's larval_work and lifetime.c's lifetime_work
 *     (which deletes SAs past a hard limit), asserted by the tables, which
 *     call neither each other's changes nor netlink)
 *     -> rhashtable's internal bucket locks (taken by rhashtable itself)
 *     -> xarray's xa_lock (taken by the xa_* calls)
 *
 *   drivers.c's choice_lock (mutex, global: the crypto drivers measured
 *     once per module load) is never taken under nfsec_net.lock: an SA's
 *     transforms are made before sa_set() takes it. It is held across the
 *     measurement, which allocates transforms and may load crypto
 *     modules, and takes no lock of nfsec's inside.
 *
 * The packet path takes no mutex: it reads the SAD and SPD under RCU and
 * holds an SA across asynchronous crypto with a reference (nfsec_sa_get).
 *
 * Leaf locks, which take nothing inside them:
 *
 *   nfsec_replay.lock (spinlock, _bh; one per inbound SA's replay window:
 *     nfsec_replay_commit only; process or softirq context, never with
 *     hard interrupts off)
 *   nfsec_net.acquire_lock (spinlock, _bh; one per namespace: the acquire
 *     rate limits, namespace window and policies' flow tables; taken only
 *     by nfsec_acquire on the packet path, never across the event's
 *     allocation or sending)
 *   nfsec_net.mapping_lock (spinlock, _bh; one per namespace: the NAT
 *     mapping changes the packet path queued for mapping_work, encap.c;
 *     list operations only)
 */
#ifndef _NFSEC_H
#define _NFSEC_H

#include <linux/hashtable.h>
#include <linux/in6.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/percpu.h>
#include <linux/rhashtable-types.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/dst_cache.h>
#include <net/netns/generic.h>
#include <uapi/linux/nfsec.h>

struct crypto_aead;
struct crypto_ahash;
struct ahash_request;
struct crypto_async_request;
struct genl_info;
struct mem_cgroup;
struct netlink_ext_ack;
struct nlattr;
struct scatterlist;
struct sk_buff;

union nfsec_addr {
	__be32 ip;
	struct in6_addr ip6;
};

/* What identifies an SA (RFC 4301 4.1): SPI, destination and protocol. */
struct nfsec_sa_id {
	union nfsec_addr daddr;
	__be32 spi;
	u8 proto;		/* IPPROTO_ESP or IPPROTO_AH */
	u8 family;		/* AF_INET or AF_INET6 */
	u16 zero;		/* keeps the hash key free of padding */
};

struct nfsec_alg {
	char name[NFSEC_ALG_NAME_MAX];
	u8 *key;
	u16 key_len;
	u16 bits;		/* AEAD: ICV; auth: truncation; enc: 0 */
};

struct nfsec_lifetime {
	u64 soft_bytes, hard_bytes;
	u64 soft_packets, hard_packets;
	u64 soft_seconds, hard_seconds;
	u64 soft_use_seconds, hard_use_seconds;
};

enum nfsec_sa_counter {
	NFSEC_SA_PACKETS,
	NFSEC_SA_BYTES,
	NFSEC_SA_REPLAY,
	NFSEC_SA_REPLAY_OLD,
	NFSEC_SA_ICV_FAIL,
	NFSEC_SA_BAD_TRAILER,
	NFSEC_SA_POLICY,
	NFSEC_SA_SEQ_EXHAUSTED,
	NFSEC_SA_NO_BUFFER,
	NFSEC_SA_CRYPTO_ERROR,
	NFSEC_SA_DUMMY,
	NFSEC_SA_EXPIRED,
	NFSEC_SA_TOO_BIG,
	NFSEC_SA_BACKLOG,
	NFSEC_SA_LOOP,
	NFSEC_SA_COUNTERS
};

enum nfsec_net_counter {
	NFSEC_NET_NO_SA,
	NFSEC_NET_NO_SA_OUT,
	NFSEC_NET_MALFORMED,
	NFSEC_NET_CLEARTEXT,
	NFSEC_NET_DISCARD,
	NFSEC_NET_CONNTRACK,
	NFSEC_NET_ACQUIRE,
	NFSEC_NET_ACQUIRE_LIMITED,
	NFSEC_NET_ACQUIRE_FAILED,
	NFSEC_NET_ENCAP_IN,
	NFSEC_NET_ENCAP_OUT,
	NFSEC_NET_KEEPALIVE_IN,
	NFSEC_NET_KEEPALIVE_OUT,
	NFSEC_NET_NON_ESP,
	NFSEC_NET_BAD_ENCAP,
	NFSEC_NET_MAPPING,
	NFSEC_NET_MAPPING_LIMITED,
	NFSEC_NET_SPREAD,
	NFSEC_NET_REQ_HEAP,
	NFSEC_NET_COUNTERS
};

/* One per-CPU block serves an SA's counters or a namespace's. */
#define NFSEC_COUNTERS_MAX \
	((int)NFSEC_NET_COUNTERS > (int)NFSEC_SA_COUNTERS ? \
	 (int)NFSEC_NET_COUNTERS : (int)NFSEC_SA_COUNTERS)

struct nfsec_pcpu_counters {
	u64_stats_t c[NFSEC_COUNTERS_MAX];
	struct u64_stats_sync syncp;
};

/* ESP in UDP (RFC 3948), as the SA was given it; type 0: none. */
struct nfsec_encap {
	u8 type;			/* enum nfsec_encap_type */
	u32 flags;			/* enum nfsec_encap_flags */
	u16 sport, dport;		/* host order: the packets' ports */
	u32 keepalive;			/* seconds, outbound; 0: off */
};

/*
 * Where an ENCAP SA's peer is now (encap.c): outbound, where its packets
 * go; inbound, where they come from. Given at add time, moved by FOLLOW.
 */
struct nfsec_peer {
	union nfsec_addr addr;
	__be16 port;
	struct rcu_head rcu;
};

struct nfsec_sa {
	struct rhash_head node;		/* in nfsec_net.sad */
	struct nfsec_sa_id id;
	union nfsec_addr saddr;
	u32 index;			/* in nfsec_net.sa_index, for dumps */
	u8 dir;				/* NFSEC_DIR_IN or NFSEC_DIR_OUT */
	u8 mode;
	u8 df;
	u32 flags;			/* enum nfsec_sa_flags */
	u32 replay_window;
	u32 reqid;			/* 0: none */
	struct hlist_node reqid_node;	/* in nfsec_net.reqid_hash, if reqid */
	u64 seq;			/* as given at add time */
	struct nfsec_lifetime lifetime;
	u64 add_time;			/* CLOCK_BOOTTIME seconds */
	u64 serial;			/* order of adds: the newest is highest */
	struct nfsec_alg aead, enc, auth;
	struct crypto_aead *aead_tfm;	/* ESP */
	struct crypto_ahash *ahash_tfm;	/* AH */
	struct nfsec_pcpu_counters __percpu *counters;
	struct nfsec_ctr_block *ctr_block;	/* counters.c: where they are */
	bool dead;			/* unhashed; under nfsec_net.lock */
	/*
	 * A larval entry (spi.c) holds an SPI and nothing else: no direction
	 * (dir 0, which the packet path takes as no SA), no crypto, no
	 * replay window. Set at creation, never changed: an SA that fills it
	 * in is a new nfsec_sa in its place.
	 */
	bool larval;
	unsigned long larval_expires;	/* jiffies */
	struct list_head larval_node;	/* in nfsec_net.larval, under lock */
	struct kref ref;
	struct rcu_work free_work;

	/* packet path */
	struct nfsec_net *nn;
	atomic64_t oseq;		/* outbound: last sequence number used */
	struct nfsec_replay *replay;	/* inbound */
	u64 iv_salt;			/* counter-mode IVs: seq ^ salt */
	u8 ivlen;			/* bytes of IV on the wire */
	u8 blksize;			/* ESP padding boundary, at least 4 */
	u8 icvlen;			/* bytes of ICV (AH: without padding) */
	bool iv_random;			/* CBC: a fresh random IV per packet */
	unsigned long events;		/* enum nfsec_sa_event bits sent */
	atomic64_t lt_packets, lt_bytes;	/* only with such limits */
	u64 first_use;			/* CLOCK_BOOTTIME seconds, 0: unused */
	unsigned long last_use;		/* jiffies, once first_use is set */
	unsigned int pmtu;		/* outbound: learnt path MTU, pmtu.c */
	unsigned long pmtu_expires;	/* jiffies */
	atomic_t inflight;		/* packets in crypto */
	struct dst_cache route;		/* outbound tunnel: output.c */
	unsigned long route_retry;	/* jiffies: no cache before then */
	struct mem_cgroup *memcg;	/* outbound tunnel: the adder's */

	/* ESP in UDP (encap.c) */
	struct nfsec_encap encap;
	struct nfsec_peer __rcu *peer;	/* with encap.type */
	unsigned long mapping_next;	/* jiffies: the next event allowed */
	unsigned long keepalive_last;	/* jiffies: the last keepalive sent */
	struct list_head keepalive_node; /* in nfsec_net.keepalives */
};

enum nfsec_sa_event {
	NFSEC_EV_SOFT,
	NFSEC_EV_HARD,
	NFSEC_EV_SEQ,
};

/* (no padding: policies are compared and hashed by its bytes) */
struct nfsec_selector {
	union nfsec_addr src, dst;
	u8 src_plen, dst_plen;
	u8 proto;			/* 0: any */
	u8 family;
	u16 sport, dport;		/* host order, 0: any */
};

static_assert(sizeof(struct nfsec_selector) ==
	      2 * sizeof(union nfsec_addr) + 4 + 2 * sizeof(u16));

/*
 * What a protect policy names: one SA by its identity (reqid 0), or the
 * SAs of a reqid, of protocol id.proto, and of mode, destination
 * (id.family, id.daddr) and source (id.family, saddr) where those are
 * given.
 */
struct nfsec_sa_ref {
	struct nfsec_sa_id id;		/* by reqid: proto, family, daddr */
	union nfsec_addr saddr;		/* by reqid, with has_src */
	u32 reqid;
	u8 mode;			/* by reqid: 0 for either */
	bool has_dst;			/* by reqid: id.daddr is given */
	bool has_src;			/* by reqid: saddr is given */
};

/*
 * Where the lookup finds a policy (policy.c): by its selector's
 * destination prefix, or its source prefix when that is the longer, in
 * nfsec_net.spd_hosts; a policy of any source and any destination in
 * nfsec_net.spd_rest[dir], in order.
 */
enum nfsec_spd_side {
	NFSEC_SPD_DST,
	NFSEC_SPD_SRC,
	NFSEC_SPD_REST,
};

struct nfsec_spd_key {
	union nfsec_addr addr;		/* the prefix; 0 beyond it */
	u8 dir;
	u8 family;
	u8 side;			/* enum nfsec_spd_side */
	u8 plen;			/* the prefix's length; 0: rest */
};

#define NFSEC_PLEN_MAX 128		/* IPv6's longest prefix */
#define NFSEC_PLEN4_MAX 32		/* IPv4's */

struct nfsec_policy {
	struct list_head node;		/* in nfsec_net.spd[dir], RCU */
	/* the lookup's index: spd_hosts by key, or spd_rest (key.side) */
	struct nfsec_spd_key key;
	struct rhlist_head host_node;	/* in nfsec_net.spd_hosts, RCU */
	struct list_head rest_node;	/* in nfsec_net.spd_rest[dir], RCU */
	/* protect: in spd_by_id (by SPI) or spd_by_reqid (OUT by reqid) */
	struct rhlist_head ref_node;
	struct rhash_head sel_node;	/* in nfsec_net.spd_by_sel */
	struct nfsec_selector sel;
	u32 index;			/* in nfsec_net.policy_index */
	u32 priority;
	u64 seq;			/* order among equal priorities */
	u8 dir;
	u8 action;			/* enum nfsec_action */
	bool matches_lent;		/* matches passed on to a replacement */
	struct nfsec_sa_ref ref;	/* protect: the SA or SAs it names */
	/*
	 * The SA the packet path uses: by SPI, that SA while it exists and
	 * fits; by reqid (OUT only), the newest usable SA that fits, or
	 * none. Set under nfsec_net.lock.
	 */
	struct nfsec_sa __rcu *sa;
	u64 __percpu *matches;
	struct nfsec_ctr_block *match_block;	/* counters.c: where it is */
	/* OUT by reqid: the flows acquire events told of (acquire.c) */
	struct nfsec_acquire *acquire;
	struct rcu_head rcu;
};

#define NFSEC_REQID_HASH_BITS 10	/* 1024 buckets: 8 KiB a namespace */
#define NFSEC_DIRS 3	/* spd[] is indexed by enum nfsec_dir - 1 */

struct nfsec_net {
	struct net *net;
	struct mutex lock;		/* all SAD and SPD changes */
	struct rhashtable sad;		/* nfsec_sa by nfsec_sa_id */
	struct xarray sa_index;		/* nfsec_sa by index */
	u32 sa_next_index;
	u32 sa_count;
	u32 sa_gen;			/* bumped on every SAD change */
	u64 sa_serial;			/* the last nfsec_sa.serial given */
	/*
	 * The SAs that have a reqid, by reqid, under lock: a policy by reqid
	 * looks among its own, not through the whole table (policy.c).
	 */
	DECLARE_HASHTABLE(reqid_hash, NFSEC_REQID_HASH_BITS);
	/*
	 * An outbound SA with a reqid ran out on the packet path: the OUT
	 * policies it was bound to turn to the newest usable SA left, from
	 * process context (spd_refresh_work, policy.c).
	 */
	struct work_struct refresh_work;
	/* Larval entries (spi.c), their count and their expiry. */
	struct list_head larval;
	u32 larval_count;
	struct delayed_work larval_work;
	unsigned long larval_next;	/* jiffies, while larval_armed */
	bool larval_armed;
	/*
	 * Lifetimes by the clock, and SAs past a hard limit deleted
	 * (lifetime.c): runs at the next deadline of any SA, or at once
	 * when kicked.
	 */
	struct delayed_work lifetime_work;
	unsigned long lifetime_walked;	/* jiffies: its last walk began */
	/*
	 * The SPD (policy.c). Every policy is on spd[dir] in order (priority,
	 * then seq), for dumps; the lookup finds it in spd_hosts or on
	 * spd_rest[dir]; spd_plens says which prefix lengths spd_hosts holds
	 * policies of, by dir, side and family (spd_plen_count counts them). The
	 * control path finds protect policies by the SA they name, and
	 * policies by index.
	 */
	struct list_head spd[NFSEC_DIRS];
	struct list_head spd_rest[NFSEC_DIRS];
	struct rhltable spd_hosts;	/* nfsec_policy by nfsec_spd_key */
	/* the control path's: nfsec_policy by dir, selector and priority */
	struct rhashtable spd_by_sel;
	/*
	 * [dir - 1][NFSEC_SPD_DST or SRC][0: IPv4, 1: IPv6][prefix length];
	 * the counts by IPv4's lengths, 0 to 32, then IPv6's
	 */
	u32 spd_plen_count[NFSEC_DIRS][2][NFSEC_PLEN4_MAX + 1 + NFSEC_PLEN_MAX + 1];
	unsigned long spd_plens[NFSEC_DIRS][2][2][BITS_TO_LONGS(NFSEC_PLEN_MAX + 1)];
	struct rhltable spd_by_id;	/* by SPI: by ref.id, under lock */
	struct rhltable spd_by_reqid;	/* OUT by reqid: by ref.reqid, lock */
	struct xarray policy_index;	/* nfsec_policy by index */
	u32 policy_next_index;
	u64 policy_seq;			/* the last nfsec_policy.seq given */
	u32 policy_count;
	u32 policy_gen;			/* bumped on every SPD change */
	struct nfsec_pcpu_counters __percpu *counters;
	struct nfsec_ctr_pool *ctr_pool;	/* SAs' counters (counters.c) */
	struct nfsec_ctr_pool *match_pool;	/* policies' matches (same) */
	struct net_device *dev;		/* nfsec0: decapsulated packets */
	atomic_t inflight;		/* packets in crypto; exit waits */
	/*
	 * Acquire events: the namespace's window of a second and the events
	 * sent in it, and every policy's nfsec_acquire table.
	 */
	spinlock_t acquire_lock;
	unsigned long acquire_start;	/* jiffies */
	unsigned int acquire_sent;
	/*
	 * ESP in UDP (encap.c): the ports inbound ENCAP SAs take datagrams
	 * on (port -> how many SAs, under lock; read under RCU), the NAT
	 * mapping changes waiting for process context, and the keepalives.
	 */
	struct xarray encap_ports;
	spinlock_t mapping_lock;	/* mappings, mappings_queued */
	struct list_head mappings;
	unsigned int mappings_queued;
	struct work_struct mapping_work;
	struct delayed_work keepalive_work;
	struct list_head keepalives;	/* outbound SAs with one, under lock */
};

/*
 * Limits of the packet path: packets in crypto at once per SA and per
 * namespace (asynchronous crypto queues them; forged ESP must not grow
 * that queue without end), and tunnels inside tunnels on one packet.
 */
enum nfsec_limits {
	NFSEC_SA_INFLIGHT_DEFAULT = 512,	/* module parameter */
	NFSEC_NET_INFLIGHT_DEFAULT = 8192,	/* module parameter */
	/* request.c: a slot holds a request of up to this many fragments */
	NFSEC_REQ_FRAGS = 16,
	NFSEC_REQ_AH_HDR_BYTES = 128,	/* and AH's copy of the headers */
	NFSEC_REQ_SLOT_MIN = 512,	/* bytes; slots grow as SAs need */
	NFSEC_REQ_SLOT_MAX = 4096,	/* beyond: the heap */
	NFSEC_REQ_SLOTS_DEFAULT = 256,	/* module parameter: per CPU */
	NFSEC_NEST_MAX = 4,
	NFSEC_EXTHDR_MAX = 8,		/* IPv6 extension headers walked */
};

/*
 * Limits of the state of a namespace (limits.c), module parameters whose
 * defaults these are. Documentation/netlink.md, "Limits", says why.
 */
#define NFSEC_SA_MAX_DEFAULT		262144	/* SAs and larval entries */
#define NFSEC_LARVAL_MAX_DEFAULT	16384
#define NFSEC_POLICY_MAX_DEFAULT	65536

enum nfsec_limit {
	NFSEC_LIMIT_SA,
	NFSEC_LIMIT_LARVAL,
	NFSEC_LIMIT_POLICY,
};

/* ESP's fixed sizes on the wire (RFC 4303 2). */
enum nfsec_esp_sizes {
	NFSEC_ESP_TRAILER_BYTES = 2,	/* pad length, next header */
	NFSEC_ESP_PAD_MAX_BYTES = 255,	/* what the pad length can say */
	NFSEC_ESP_BLOCK_MAX_BYTES = 16,	/* the widest cipher block (AES) */
	NFSEC_ESP_AAD_BYTES = 8,	/* SPI, sequence number */
	NFSEC_ESP_AAD_ESN_BYTES = 12,	/* SPI, its high half, its low half */
	NFSEC_SPI_RESERVED_MAX = 255,	/* SPIs 1-255 are IANA's, 0 is none */
};

/* AH's fixed sizes on the wire (RFC 4302 2). */
enum nfsec_ah_sizes {
	NFSEC_AH_FIXED_BYTES = 12,	/* next header .. sequence number */
	NFSEC_AH_SPI_OFF_BYTES = 4,	/* next header, length, reserved */
	NFSEC_AH_ICV_MAX_BYTES = 64,	/* the longest digest, SHA-512 */
};

/* A packet's selector fields, RFC 4301 4.4.1.1. */
struct nfsec_flow {
	union nfsec_addr src, dst;
	u8 family;
	u8 proto;
	u16 sport, dport;		/* host order; 0 when not known */
	bool opaque;			/* ports unknown: later fragment */
	bool link_local;		/* ICMPv6 ND or MLD: see selector_match */
};

/* An extack message chosen at run time (static storage only). */
static inline void nfsec_extack_msg(struct netlink_ext_ack *extack,
				    const char *msg)
{
	if (extack)
		extack->_msg = msg;
}

/* Per-CPU counters of SAs and namespaces (here, inline) */
static inline void nfsec_counter_add(struct nfsec_pcpu_counters __percpu *c,
				     int which, u64 n)
{
	struct nfsec_pcpu_counters *pc = get_cpu_ptr(c);

	u64_stats_update_begin(&pc->syncp);
	u64_stats_add(&pc->c[which], n);
	u64_stats_update_end(&pc->syncp);
	put_cpu_ptr(c);
}

static inline void nfsec_counter_inc(struct nfsec_pcpu_counters __percpu *c,
				     int which)
{
	nfsec_counter_add(c, which, 1);
}

/* Sums the first @n counters over all CPUs into @sum. */
static inline void nfsec_counters_read(struct nfsec_pcpu_counters __percpu *c,
				       u64 *sum, int n)
{
	int cpu, i;

	memset(sum, 0, n * sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct nfsec_pcpu_counters *pc = per_cpu_ptr(c, cpu);
		u64 v[NFSEC_COUNTERS_MAX];
		unsigned int start;

		do {
			start = u64_stats_fetch_begin(&pc->syncp);
			for (i = 0; i < n; i++)
				v[i] = u64_stats_read(&pc->c[i]);
		} while (u64_stats_fetch_retry(&pc->syncp, start));
		for (i = 0; i < n; i++)
			sum[i] += v[i];
	}
}

/*
 * The send chain, in the order a packet travels: output.c's hook finds the
 * policy and SA, lifetime.c counts the packet, esp.c (AH: ah.c) runs its
 * crypto, and output.c sends the ESP or AH packet, no bigger than pmtu.c
 * allows.
 */

/* output.c APIs: the POST_ROUTING hook, SPD lookup, ESP out */
int nfsec_output_init(struct net *net);
void nfsec_output_uninit(struct net *net);
void nfsec_output_module_exit(void);

/*
 * acquire.c APIs: acquire events (a trap policy, by reqid, without an SA),
 * rate-limited per policy and flow and per namespace; packet path safe.
 */
struct nfsec_acquire;
struct nfsec_acquire *nfsec_acquire_alloc(void);
void nfsec_acquire_free(struct nfsec_acquire *acq);
void nfsec_acquire(struct nfsec_net *nn, const struct nfsec_policy *pol,
		   const struct nfsec_flow *flow);

/* lifetime.c APIs: SA lifetimes, counted per packet either way */
void nfsec_sa_event(struct nfsec_sa *sa, enum nfsec_sa_event ev);
bool __must_check nfsec_sa_account(struct nfsec_sa *sa, unsigned int bytes);
/*
 * Can the SA still carry a packet: in the table, no hard limit reached,
 * sequence numbers left? Lockless; a packet may make it false any time.
 */
bool nfsec_sa_usable(const struct nfsec_sa *sa);
/* An outbound SA with a reqid can carry no more: rebind its policies. */
void nfsec_sa_spent(struct nfsec_sa *sa);
/*
 * The SA's limits in seconds may have changed, or it was added: the
 * namespace's lifetime work runs at once and arms for the next deadline.
 */
void nfsec_lifetime_kick(struct nfsec_net *nn);
void nfsec_lifetime_init(struct nfsec_net *nn);
void nfsec_lifetime_uninit(struct nfsec_net *nn);
/* Has the SA limits in seconds, since its add or its first use? */
static inline bool nfsec_lifetime_timed(const struct nfsec_lifetime *lt)
{
	return lt->soft_seconds || lt->hard_seconds || lt->soft_use_seconds ||
	       lt->hard_use_seconds;
}

/* The last outbound sequence number an SA may send (RFC 4303 3.3.3). */
static inline u64 nfsec_seq_limit(const struct nfsec_sa *sa)
{
	return sa->flags & NFSEC_SA_F_ESN ? U64_MAX : U32_MAX;
}

/*
 * esp.c APIs, for both chains: one packet's crypto request and what it
 * needs after, and the count of packets in crypto
 */
struct nfsec_crypt {
	void (*finish)(struct nfsec_crypt *c, int err);	/* consumes c */
	struct llist_node node;		/* in: on a spread.c list */
	int home;			/* in, queued: the CPU it came from */
	int err;			/* in, queued: the crypto's result */
	int slot_cpu;			/* request.c: its slot's CPU, or -1 */
	unsigned int slot_bytes;	/* request.c: its slot's size */
	struct sk_buff *skb;
	struct nfsec_sa *sa;		/* holds a reference */
	union {
		struct aead_request *req;	/* ESP */
		struct ahash_request *hreq;	/* AH */
	};
	u8 *iv;				/* AH: the digest */
	struct scatterlist *sg;
	u64 seq;
	/* AH: [0] is the high half of an ESN, appended to the ICV input */
	__be32 aad[NFSEC_ESP_AAD_ESN_BYTES / sizeof(__be32)];
	u16 esp_off;			/* offset of the ESP or AH header */
	__be16 encap_sport;		/* ESP in UDP in: its source port */
	u16 clen;			/* ESP in: ciphertext; AH: IP+AH headers */
	/* out of place: pages of sg[put_first..] to put when done */
	u8 put_first, put_n;
	/* out of place: the plain trailer, padding less than a block */
	u8 tail[NFSEC_ESP_BLOCK_MAX_BYTES + NFSEC_ESP_TRAILER_BYTES];
};

unsigned int nfsec_esp_req_len(const struct nfsec_sa *sa, int nfrags);
struct aead_request *nfsec_esp_req_alloc(struct nfsec_sa *sa,
					 struct nfsec_crypt **cp, int nfrags);
bool nfsec_esp_crypt(struct nfsec_crypt *c, __be32 spi, int offset,
		     unsigned int clen, bool encrypt);
void nfsec_esp_aad(struct nfsec_crypt *c, struct scatterlist *sg,
		   __be32 spi, u64 seq, bool esn);
void nfsec_esp_submit(struct nfsec_crypt *c, struct scatterlist *dst,
		      unsigned int clen, bool encrypt);
void nfsec_esp_req_free(struct nfsec_crypt *c);
void nfsec_crypt_done(struct crypto_async_request *base, int err);
/*
 * Counts a packet of @sa into crypto, false when its SA or namespace is at
 * its limit. A packet that then never reaches crypto is uncounted with
 * put; one that did ends with nfsec_crypt_end(), which also drops the SA
 * reference it held, once the packet has left the module for good.
 */
bool __must_check nfsec_inflight_get(struct nfsec_sa *sa);
void nfsec_inflight_put(struct nfsec_sa *sa);
void nfsec_crypt_end(struct nfsec_sa *sa);
void nfsec_inflight_wait(struct nfsec_net *nn);
void nfsec_sa_drop(struct nfsec_sa *sa, struct sk_buff *skb, int why);
bool nfsec_input_crypt(struct nfsec_crypt *c);
void nfsec_input_finish(struct nfsec_crypt *c, int err);

/* request.c: a request's space, in slots kept per CPU */
void nfsec_req_size(unsigned int len);
struct nfsec_crypt *nfsec_req_alloc(struct nfsec_sa *sa, unsigned int len);
void nfsec_req_free(struct nfsec_crypt *c);
void nfsec_req_exit(void);

/* spread.c: inbound requests run on the next CPU */
bool nfsec_spread(struct nfsec_crypt *c);
int nfsec_spread_init(void);
void nfsec_spread_exit(void);

/* The counter for a failed crypto request: a full queue, or an error. */
static inline int nfsec_crypto_drop_reason(int err)
{
	return err == -ENOSPC || err == -EBUSY ? NFSEC_SA_NO_BUFFER :
						 NFSEC_SA_CRYPTO_ERROR;
}

/*
 * ah.c APIs, for both chains: AH's ICV (RFC 4302) over the packet with its
 * mutable fields zeroed. The AH header sits at c->esp_off, behind the IP
 * header (and IPv6's extension headers before AH); the request's result,
 * when c->finish gets it, is the digest in c->iv.
 */
static inline unsigned int nfsec_ah_len(const struct nfsec_sa *sa)
{
	/* RFC 4302 2.2: a multiple of 32 bits over IPv4, of 64 over IPv6 */
	return ALIGN(NFSEC_AH_FIXED_BYTES + sa->icvlen,
		     sa->id.family == AF_INET ? 4 : 8);
}

unsigned int nfsec_ah_req_len(const struct nfsec_sa *sa, int nfrags,
			      unsigned int hdr_len);
struct nfsec_crypt *nfsec_ah_req_alloc(struct nfsec_sa *sa, int nfrags,
				       unsigned int hdr_len);
bool nfsec_ah_crypt(struct nfsec_crypt *c, bool out);
void nfsec_ah_icv_put(struct nfsec_crypt *c);
bool __must_check nfsec_ah_icv_ok(const struct nfsec_crypt *c);

/* pmtu.c APIs: the path MTU output.c holds an SA's packets to */
unsigned int nfsec_sa_pmtu(const struct nfsec_sa *sa);
void nfsec_pmtu_icmp(struct nfsec_net *nn, struct sk_buff *skb);
void nfsec_pmtu_icmp6(struct nfsec_net *nn, struct sk_buff *skb,
		      unsigned int off);

/*
 * The receive chain: input.c's hook finds the SA, checks replay.c's window,
 * decrypts with esp.c (AH: verifies with ah.c), decapsulates, checks
 * policy.c's inbound policy and hands the packet to device.c's nfsec0.
 */

/* input.c APIs: the LOCAL_IN and FORWARD hooks, ESP in, cleartext checks */
int nfsec_input_init(struct net *net);
void nfsec_input_uninit(struct net *net);

/* The tables: SAs (with their crypto), policies, replay windows. */

/* sa.c APIs: the SAD, a table: it calls neither policy.c nor netlink.c */
struct nfsec_sa_params {
	struct nfsec_sa_id id;
	union nfsec_addr saddr;
	u8 dir, mode, df;
	u32 flags;
	u32 replay_window;
	u32 reqid;
	u64 seq;
	struct nfsec_lifetime lifetime;
	struct nfsec_encap encap;
	struct nfsec_alg aead, enc, auth;	/* keys point into the request */
	bool has_aead, has_enc, has_auth;
	bool has_replay_window, has_seq;	/* given, not defaulted */
};

int nfsec_sa_module_init(void);
void nfsec_sa_module_uninit(void);
struct nfsec_ctr_pool *nfsec_ctr_pool_new(unsigned int size);
void nfsec_ctr_pool_put(struct nfsec_ctr_pool *pool);
void __percpu *nfsec_ctr_get(struct nfsec_ctr_pool *pool,
			     struct nfsec_ctr_block **block);
void nfsec_ctr_put(struct nfsec_ctr_block *block, void __percpu *set);
int nfsec_sa_counters_get(struct nfsec_ctr_pool *pool, struct nfsec_sa *sa);
void nfsec_sa_counters_put(struct nfsec_sa *sa);
int nfsec_sad_init(struct nfsec_net *nn);
void nfsec_sad_uninit(struct nfsec_net *nn);
struct nfsec_sa *nfsec_sa_create(struct nfsec_net *nn,
				 const struct nfsec_sa_params *p,
				 struct netlink_ext_ack *extack);
void nfsec_sa_destroy(struct nfsec_sa *sa);
int nfsec_sa_insert(struct nfsec_net *nn, struct nfsec_sa *sa,
		    struct netlink_ext_ack *extack);
struct nfsec_sa *nfsec_sa_replace(struct nfsec_net *nn, struct nfsec_sa *sa,
				  const struct nfsec_sa_params *p,
				  struct netlink_ext_ack *extack);
struct nfsec_sa *nfsec_sa_larval_create(struct nfsec_net *nn,
					const struct nfsec_sa_id *id,
					const union nfsec_addr *saddr);
struct nfsec_sa *nfsec_sa_newest(struct nfsec_net *nn, u32 reqid,
				 bool (*fits)(const void *arg,
					      const struct nfsec_sa *sa),
				 const void *arg);
void nfsec_sa_unhash(struct nfsec_net *nn, struct nfsec_sa *sa);
void nfsec_sa_flush(struct nfsec_net *nn);
struct nfsec_sa *nfsec_sa_lookup(struct nfsec_net *nn,
				 const struct nfsec_sa_id *id);
struct nfsec_sa *nfsec_sa_lookup_locked(struct nfsec_net *nn,
					const struct nfsec_sa_id *id);
bool __must_check nfsec_sa_get(struct nfsec_sa *sa);
void nfsec_sa_put(struct nfsec_sa *sa);

/*
 * spi.c APIs: SPI allocation, larval entries and their expiry. The table
 * work (insert, unhash, fill in) is sa.c's; a larval entry leaves the
 * nfsec_net.larval list when it leaves the table.
 */
int nfsec_spi_alloc(struct nfsec_net *nn, struct nfsec_sa *larval, u32 min,
		    u32 max, unsigned int timeout,
		    struct netlink_ext_ack *extack);
unsigned int nfsec_larval_left(const struct nfsec_sa *sa);	/* seconds */
void nfsec_larval_init(struct nfsec_net *nn);
void nfsec_larval_uninit(struct nfsec_net *nn);

/*
 * encap.c APIs: ESP in UDP (RFC 3948): the SA's encapsulation, the ports
 * inbound SAs take, NAT mapping changes (and FOLLOW), keepalives
 */
int nfsec_encap_init(struct nfsec_sa *sa, const struct nfsec_sa_params *p);
void nfsec_encap_uninit(struct nfsec_sa *sa);
/* table changes (sa.c, under nfsec_net.lock) */
int nfsec_encap_hash(struct nfsec_net *nn, struct nfsec_sa *sa);
void nfsec_encap_unhash(struct nfsec_net *nn, struct nfsec_sa *sa);
/* Does an inbound ENCAP SA take datagrams on @port (host order)? */
bool nfsec_encap_port(struct nfsec_net *nn, u16 port);
/* A verified, committed datagram of @sa came from @addr, @port. */
void nfsec_encap_seen(struct nfsec_sa *sa, const union nfsec_addr *addr,
		      __be16 port);
void nfsec_encap_net_init(struct nfsec_net *nn);
void nfsec_encap_net_uninit(struct nfsec_net *nn);
/* An outbound SA with a keepalive was added or updated. */
void nfsec_keepalive_kick(struct nfsec_net *nn);
/* output.c: sends a keepalive for @sa to @peer (process context) */
void nfsec_keepalive_send(struct nfsec_sa *sa, const struct nfsec_peer *peer);

/*
 * FOLLOW moves peers on authenticated datagrams that are no replays: it
 * needs the window that tells replays apart.
 */
#define NFSEC_FOLLOW_NEEDS_WINDOW \
	"follow needs a replay window: a replayed datagram must not move the peer"

/* UDP's header ahead of ESP (RFC 3948 2.1). */
#define NFSEC_UDP_BYTES	8

/* limits.c APIs: is there room for one more; the refusal's message */
bool __must_check nfsec_limit_ok(enum nfsec_limit which, u32 count,
				 struct netlink_ext_ack *extack);

/* crypto.c APIs: the algorithms of an SA and its transform */
int nfsec_crypto_check(struct nfsec_sa_params *p,
		       struct netlink_ext_ack *extack);
int nfsec_crypto_init(struct nfsec_sa *sa, struct netlink_ext_ack *extack);
void nfsec_crypto_uninit(struct nfsec_sa *sa);

/* drivers.c APIs: the crypto driver measured fastest for an algorithm */
bool nfsec_crypto_selecting(void);
bool nfsec_crypto_driver(const char *alg, char *name);

/* policy.c APIs: the SPD (RFC 4301 4.4.1) */
bool nfsec_selector_valid(const struct nfsec_selector *sel,
			  struct netlink_ext_ack *extack);
struct nfsec_policy *nfsec_policy_create(struct nfsec_net *nn, u8 dir,
					 u8 action, u32 priority,
					 const struct nfsec_selector *sel,
					 const struct nfsec_sa_ref *ref,
					 struct netlink_ext_ack *extack);
void nfsec_policy_free(struct nfsec_policy *pol);
int nfsec_policy_insert(struct nfsec_net *nn, struct nfsec_policy *pol,
			struct netlink_ext_ack *extack);
int nfsec_policy_replace(struct nfsec_net *nn, struct nfsec_policy *pol,
			 struct netlink_ext_ack *extack);
int nfsec_policy_remove(struct nfsec_net *nn, u32 index, u8 dir,
			const struct nfsec_selector *sel, u32 priority);
int nfsec_spd_init(struct nfsec_net *nn);
void nfsec_spd_uninit(struct nfsec_net *nn);
void nfsec_spd_flush(struct nfsec_net *nn);
void nfsec_spd_bind(struct nfsec_net *nn, struct nfsec_sa *gone,
		    struct nfsec_sa *sa);
bool nfsec_policy_accepts(const struct nfsec_policy *pol,
			  const struct nfsec_sa *sa);
u64 nfsec_policy_matches(const struct nfsec_policy *pol);
struct nfsec_policy *nfsec_spd_lookup(struct nfsec_net *nn, u8 dir,
				      const struct nfsec_flow *flow);
bool nfsec_flow_from_skb(struct sk_buff *skb, u8 family,
			 struct nfsec_flow *flow);
/*
 * An IPv6 packet's extension headers (RFC 8200 4.1), walked from its
 * network header: hop-by-hop (first only), routing, destination options
 * and fragment, at most NFSEC_EXTHDR_MAX of them. Offsets are from the
 * network header. False when the chain is truncated, malformed or longer.
 */
struct nfsec_ip6_walk {
	unsigned int off;	/* the first other header: upper, ESP or AH */
	unsigned int nhoff;	/* the next-header byte that names it */
	u8 proto;		/* what it is */
	bool fragment;		/* a fragment header was on the way */
	bool later;		/* not the first fragment: off is payload */
	bool routed;		/* a routing header has segments left */
};

bool nfsec_ip6_walk(const struct sk_buff *skb, struct nfsec_ip6_walk *w);

/*
 * replay.c APIs: the inbound anti-replay window (RFC 4303 3.4.3, RFC 6479)
 * and ESN inference (RFC 4303 A2.2). The packet path infers and checks
 * before decryption and commits after the ICV verified. Each verdict but
 * OK is a drop with its own reason, for its own counter.
 */
struct nfsec_replay;

enum nfsec_replay_verdict {
	NFSEC_REPLAY_OK,
	NFSEC_REPLAY_DUP,	/* inside the window, already accepted */
	NFSEC_REPLAY_OLD,	/* left of the window (or no ESN epoch fits) */
	NFSEC_REPLAY_ZERO,	/* 0, never sent (RFC 4303 3.3.3) */
};

/*
 * @window in packets, 0 (anti-replay off: only the top is tracked) to
 * NFSEC_REPLAY_WINDOW_MAX, which the netlink policy enforces. Returns
 * ERR_PTR(-ENOMEM) when there is no memory.
 */
struct nfsec_replay *nfsec_replay_alloc(u32 window, gfp_t gfp);
/*
 * An SA and the SA that replaces it in an update share one window, so
 * that no packet either accepted can be accepted again: get and put.
 */
struct nfsec_replay *nfsec_replay_get(struct nfsec_replay *r);
void nfsec_replay_put(struct nfsec_replay *r);
/*
 * Before decryption, lockless and without side effects: the full sequence
 * number in *@seq (@esn: inferred from the low half @seq_lo on the wire;
 * otherwise @seq_lo) and its verdict. *@seq, the number to authenticate
 * and then commit, is meaningful only when the verdict is OK.
 */
enum nfsec_replay_verdict nfsec_replay_check(struct nfsec_replay *r,
					     u32 seq_lo, bool esn, u64 *seq);
/*
 * After the ICV verified @seq: checks it again (another CPU may have
 * accepted it since) and, when OK, marks it seen and advances the window.
 */
enum nfsec_replay_verdict nfsec_replay_commit(struct nfsec_replay *r, u64 seq);
/* The highest sequence number accepted so far, 0 if none; lockless. */
u64 nfsec_replay_top(const struct nfsec_replay *r);

/* The control plane. */

/* netlink.c APIs: the generic netlink family, commands and events */
int nfsec_netlink_init(void);
void nfsec_netlink_uninit(void);
void nfsec_netlink_notify_sa(struct nfsec_net *nn, const struct nfsec_sa *sa,
			     u8 cmd, u8 expire, gfp_t gfp);
/*
 * Deletes an SA of the table (SA_DEL, and hard expiry in lifetime.c):
 * out of the table, the policies that pointed at it rebound, the table's
 * reference dropped. No event.
 */
void nfsec_sa_delete(struct nfsec_net *nn, struct nfsec_sa *sa);
bool nfsec_netlink_listening(const struct nfsec_net *nn);
int nfsec_netlink_notify_acquire(struct nfsec_net *nn,
				 const struct nfsec_policy *pol,
				 const struct nfsec_flow *flow);
struct nfsec_mapping_event {
	const struct nfsec_sa *sa;
	union nfsec_addr old_addr, new_addr;
	__be16 old_port, new_port;
	u32 followed;
};

void nfsec_netlink_notify_mapping(struct nfsec_net *nn,
				  const struct nfsec_mapping_event *ev);

/* device.c APIs: nfsec0, where decapsulated packets enter the stack */
int nfsec_device_init(struct nfsec_net *nn);
void nfsec_device_uninit(struct nfsec_net *nn, struct list_head *kill);
void nfsec_device_receive(struct nfsec_net *nn, struct sk_buff *skb);

/* main.c APIs: module init and exit, the per-namespace state */
extern unsigned int nfsec_net_id;
extern struct workqueue_struct *nfsec_wq;

static inline struct nfsec_net *nfsec_pernet(const struct net *net)
{
	return net_generic(net, nfsec_net_id);
}

/* selftest.c APIs: built with NFSEC_DEBUG=1, run at module init. */
#ifdef DEBUG
bool nfsec_selftest(void);
#else
static inline bool nfsec_selftest(void)
{
	return true;
}
#endif

#endif /* _NFSEC_H */
