/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * nfsec: the IPsec data path as a netfilter module.
 *
 * This header is the specification of the generic netlink API between the
 * nfsec kernel module and userspace (the nfsec tool). It is shared verbatim
 * by both.
 *
 * Family "nfsec", version 1. Every command needs CAP_NET_ADMIN in the user
 * namespace that owns the caller's network namespace, and acts on that
 * network namespace only. Every rejected request carries an extended ack
 * message (and, where one attribute is at fault, its offset).
 *
 * Attribute trees
 * ---------------
 * A request or reply carries at most one of NFSEC_A_SA, NFSEC_A_POLICY or
 * NFSEC_A_STATS at the top level, each a nest of its own attribute space
 * (the acquire event carries NFSEC_A_POLICY and NFSEC_A_FLOW).
 * Addresses are in network byte order: 4 bytes for AF_INET, 16 for AF_INET6,
 * and their length must match NFSEC_SA_A_FAMILY / NFSEC_POL_A_FAMILY
 * (NFSEC_POL_A_SA_FAMILY for NFSEC_POL_A_SA_DST).
 *
 * NFSEC_CMD_SA_ADD (doit)
 *   NFSEC_A_SA: {
 *     DIR             u8, enum nfsec_dir: NFSEC_DIR_IN or NFSEC_DIR_OUT
 *     FAMILY          u16, AF_INET or AF_INET6
 *     SRC, DST        address; DST, SPI and PROTO identify the SA
 *     SPI             be32, 256 and above (RFC 4303 2.1 reserves 0-255)
 *     PROTO           u8, IPPROTO_ESP or IPPROTO_AH
 *     MODE            u8, enum nfsec_mode
 *     AEAD            nest: ALG_NAME, ALG_KEY, ALG_ICV_BITS (ESP only)
 *     ENC             nest: ALG_NAME, ALG_KEY (ESP only)
 *     AUTH            nest: ALG_NAME, ALG_KEY, ALG_TRUNC_BITS
 *     REPLAY_WINDOW   u32, packets, 0 (anti-replay off) to
 *                     NFSEC_REPLAY_WINDOW_MAX; absent means
 *                     NFSEC_REPLAY_WINDOW_DEFAULT. Inbound SAs only.
 *     FLAGS           u32, enum nfsec_sa_flags
 *     SEQ             u64, first outbound sequence number minus one
 *                     (0, the default, makes the first packet carry 1).
 *                     Outbound SAs only.
 *     LIFETIME        nest, enum nfsec_lifetime_attr; 0 or absent means
 *                     no limit. A soft limit above its hard limit is
 *                     refused (EINVAL). SECONDS count from the add,
 *                     USE_SECONDS from the first packet the SA carries
 *                     (an SA that never carries one never reaches them).
 *                     Limits in seconds are kept to the second by a
 *                     timer, whether packets pass or not; limits in
 *                     bytes and packets as packets pass (the packet
 *                     that reaches a hard one is the last carried).
 *                     A soft limit sends a soft EXPIRE event; a hard
 *                     limit sends a hard EXPIRE event and deletes the SA
 *                     (RFC 4301 4.4.2.1), as SA_DEL would, from process
 *                     context shortly after (packets meanwhile are
 *                     dropped, counted EXPIRED on the SA).
 *     DF              u8, enum nfsec_df, tunnel mode outbound only
 *     REQID           u32, the request id that protect policies may name
 *                     the SA by instead of its SPI; 0 or absent: none
 *     ENCAP           nest, enum nfsec_encap_attr: ESP in UDP (RFC 3948),
 *                     ESP only (EINVAL for AH). TYPE NFSEC_ENCAP_UDP;
 *                     SPORT and DPORT are the ports of the SA's packets
 *                     on the wire (outbound: ours, then the peer's;
 *                     inbound: the peer's, then ours), 1-65535, default
 *                     NFSEC_ENCAP_PORT_DEFAULT. FLAGS: FOLLOW (inbound
 *                     only). KEEPALIVE (outbound only, 0 to
 *                     NFSEC_ENCAP_KEEPALIVE_MAX seconds, 0: off): after
 *                     that long without a packet either way, a one-byte
 *                     0xFF NAT keepalive (RFC 3948 2.3) goes to the peer.
 *   }
 *   ESP in UDP. Outbound, the ESP packet goes in a UDP datagram with the
 *   SA's ports; its checksum is zero over IPv4 (RFC 3948 3.1.1) and
 *   computed over IPv6 (RFC 6935 does not apply: ESP is not a tunnel
 *   protocol of its own). The 8 bytes count in the path MTU. Inbound,
 *   a UDP datagram for this host to the DPORT of any inbound ENCAP SA of
 *   the namespace is examined before any socket sees it (after the
 *   filter table's INPUT chain, as ESP is): a single 0xFF byte is a NAT
 *   keepalive, consumed (STATS KEEPALIVE_IN); four zero bytes first mark
 *   a non-ESP datagram (IKE, RFC 3948 2.2), passed on to the socket
 *   untouched (NON_ESP); anything else must be ESP of an inbound ENCAP
 *   SA with that DPORT, or is dropped: an unknown SPI counts NO_SA, a
 *   datagram too short for ESP or an SA that is not ENCAP on that port
 *   counts BAD_ENCAP. ESP of an ENCAP SA without UDP counts BAD_ENCAP
 *   too. After decryption the datagram is what plain ESP would have been
 *   (ENCAP_IN). In transport mode, the inner checksums are not checked
 *   again: the ICV covered the packet its sender made, whose addresses a
 *   NAT may have changed since (RFC 3948 3.1.2).
 *   A datagram whose ICV verified and that is not a replay, from another
 *   address or port than the SA's peer, is a NAT mapping change: a
 *   MAPPING event tells of it (at most one per SA a second). With FOLLOW,
 *   the SA takes the new address and port as its peer's, and so do the
 *   outbound ENCAP SAs to the old peer with the same reqid: their packets
 *   go to the new port, and in tunnel mode to the new address. FOLLOW
 *   needs a REQID other than 0 and a replay window (EINVAL otherwise).
 *   A UDP GRO train, and IPv6 UDP with a zero checksum, count BAD_ENCAP.
 *   In transport mode the packets' addresses are the peer's own: a
 *   datagram from another address is dropped (POLICY) and moves
 *   nothing, FOLLOW or not. Without FOLLOW, nothing moves; in tunnel
 *   mode the datagram is accepted (the inbound policy checks what it
 *   carries), in transport mode only when the address is the peer's.
 *   An AEAD algorithm excludes ENC and AUTH. Without AEAD, ESP takes ENC,
 *   AUTH or both (ENC without AUTH is refused: RFC 4303 3.2 confidentiality
 *   only is not offered); AH takes AUTH alone. The key is the exact key the
 *   crypto API takes, including the trailing 4-byte salt or nonce for
 *   rfc4106, rfc4543, rfc3686 and rfc7539esp (the convention of ip-xfrm).
 *   ALG_ICV_BITS defaults to the full tag (128); ALG_TRUNC_BITS defaults to
 *   96 for hmac(sha1) and to half the digest for hmac(sha2) (RFC 4868).
 *   Errors: EEXIST for an SA with the same DST, SPI and PROTO (a larval
 *   entry with them is filled in instead, see SA_ALLOC_SPI); ENOENT for an
 *   unknown algorithm; EINVAL for a bad key length, ICV or truncation length
 *   or combination.
 *
 * NFSEC_CMD_SA_UPDATE (doit)
 *   Same attributes as SA_ADD; the SA named by DST, SPI and PROTO is
 *   replaced (source, keys, algorithms, lifetime limits, DF, REQID,
 *   ENCAP; an absent REQID makes it 0, as absent limits make them none,
 *   and an absent ENCAP plain ESP). The peer of an ENCAP SA is the one
 *   the update gives (SRC or DST, and the port), whatever FOLLOW had
 *   moved it to. What the SA
 *   has done carries over: the outbound sequence number, the inbound
 *   replay window and its top, the lifetime used so far (bytes, packets,
 *   add time, first and last use) and the counters; the new limits apply
 *   from then on, measured from the same add time and first use (when
 *   the update changes the limits, the soft and hard events may come
 *   again). DIR, MODE and the ESN flag must be the
 *   SA's own, REPLAY_WINDOW absent or the SA's own, SEQ absent (EINVAL
 *   otherwise: policies were checked against the first two, and the peer
 *   counts on the sequence numbers). ENOENT if it does not exist. On a
 *   larval entry it is an add: the entry is filled in, nothing carries
 *   over and none of these restrictions apply.
 *
 * NFSEC_CMD_SA_DEL, NFSEC_CMD_SA_GET (doit)
 *   NFSEC_A_SA: { FAMILY, DST, SPI, PROTO }. ENOENT if there is no such SA.
 *   GET replies with NFSEC_CMD_SA_GET and the full SA nest.
 *
 * NFSEC_CMD_SA_GET (dump)
 *   Every SA of the namespace, one message each, as GET replies.
 *
 * Replies describing an SA carry everything given at add time plus
 *     STATE           u8, enum nfsec_sa_state. A larval entry's reply
 *                     carries only STATE, FAMILY, SRC, DST, SPI, PROTO,
 *                     ADD_TIME and TIMEOUT (seconds left, rounded up).
 *     ADD_TIME        u64, seconds since boot (CLOCK_BOOTTIME)
 *     FIRST_USE_TIME  u64, seconds since boot (CLOCK_BOOTTIME) when the
 *                     SA carried its first packet; absent if none yet
 *     USE_TIME        u64, seconds since the SA last carried a packet
 *                     (either way; whole seconds, rounded down);
 *                     absent if it never carried one
 *     SEQ             u64: outbound, the last sequence number sent;
 *                     inbound, the highest sequence number accepted
 *     STATS           nest, enum nfsec_sa_stats_attr
 *     ENCAP           as given, plus PEER and PEER_PORT, where the peer is
 *                     now (FOLLOW may have moved it)
 *     PMTU            u32, outbound only, and only while the SA has a path
 *                     MTU learnt from ICMP "fragmentation needed" about
 *                     its packets (aged by net.ipv4.route.mtu_expires)
 *   ALG_KEY appears only when the request had NFSEC_A_FLAGS with
 *   NFSEC_FLAG_SHOW_KEYS.
 *
 * NFSEC_CMD_SA_FLUSH (doit)
 *   No attributes: delete every SA of the namespace, larval entries too.
 *   Policies that named them stay and drop what they match (fail closed).
 *
 * NFSEC_CMD_SA_ALLOC_SPI (doit)
 *   NFSEC_A_SA: {
 *     FAMILY, SRC, DST  address; DST (with PROTO and FAMILY) is what the
 *                       SPI is unique for; SRC is kept and shown only
 *     PROTO             u8, IPPROTO_ESP or IPPROTO_AH
 *     SPI_MIN, SPI_MAX  u32, host order, the range to choose in; default
 *                       NFSEC_SPI_ALLOC_MIN and 0xffffffff. SPI_MIN below
 *                       NFSEC_SPI_ALLOC_MIN or above SPI_MAX: EINVAL
 *     TIMEOUT           u32, seconds the reservation lasts, 1 to
 *                       NFSEC_SPI_ALLOC_TIMEOUT_MAX; default
 *                       NFSEC_SPI_ALLOC_TIMEOUT_DEFAULT
 *   }
 *   Reserves an SPI in the range that no entry of the table has for DST,
 *   PROTO and FAMILY (chosen at random, then the next free one), by putting
 *   a larval entry with that identity in the SA table. No other attribute
 *   is taken (EINVAL). The entry takes no traffic: an inbound packet with
 *   its SPI counts NFSEC_STATS_A_NO_SA, as if there were no entry. It
 *   counts toward the namespace's SA limit and its larval limit (ENOSPC,
 *   see Limits). An SA_ADD or SA_UPDATE with its DST, SPI and PROTO fills
 *   it in: the SA takes its place (as a new SA: nothing carries over). An
 *   SA_DEL deletes it; a policy cannot name it (ENOENT). After TIMEOUT it
 *   is deleted, with an NFSEC_CMD_SA_DEL event. ENOSPC with "no free SPI
 *   in min..max" when every SPI of the range is taken.
 *   The reply is NFSEC_CMD_SA_ALLOC_SPI with the entry's NFSEC_A_SA.
 *
 * Limits
 *   A namespace holds at most sa_max SA table entries (SAs and larval
 *   entries), larval_max larval entries and policy_max policies, the
 *   module parameters of those names (0: no limit), which only the host's
 *   root can set. An add past a limit is refused with ENOSPC and changes
 *   nothing; an update or a fill does not add.
 *
 * NFSEC_CMD_POLICY_ADD (doit)
 *   NFSEC_A_POLICY: {
 *     DIR             u8, enum nfsec_dir (IN, OUT or FWD)
 *     FAMILY          u16
 *     SRC, DST        address of the selector prefixes
 *     SRC_PLEN,       u8, prefix lengths (0 to 32 or 128); host bits
 *     DST_PLEN        beyond the prefix must be zero
 *     PROTO           u8, upper-layer protocol, 0 for any
 *     SPORT, DPORT    u16 (host order), 0 for any; only with TCP, UDP,
 *                     SCTP or UDP-Lite
 *     PRIORITY        u32, lower values are tried first; equal priorities
 *                     in the order they were added. Default
 *                     NFSEC_POLICY_PRIORITY_DEFAULT.
 *     ACTION          u8, enum nfsec_action
 *     SA_SPI          be32, protect only: the SA the policy uses
 *     SA_DST          address, protect only; defaults to the selector's
 *                     DST when that is a host address of the SA's family
 *     SA_PROTO        u8, protect only; default IPPROTO_ESP
 *     SA_FAMILY       u16, protect only: the SA's family, default FAMILY;
 *                     another family is a tunnel across families (IPv4
 *                     inside IPv6 or IPv6 inside IPv4)
 *     SA_REQID        u32, protect only, instead of SA_SPI: the policy
 *                     names its SAs by their REQID (not 0)
 *     SA_MODE         u8, enum nfsec_mode, with SA_REQID only: the SAs'
 *                     mode; absent means either
 *     SA_SRC          address of SA_FAMILY, with SA_REQID only: the SAs'
 *                     source (for IN and FWD, the peer); absent means any
 *   }
 *   A protect policy names its SA by SA_SPI (with SA_DST, SA_PROTO,
 *   SA_FAMILY: one SA's identity) or its SAs by SA_REQID (EINVAL for both,
 *   for neither, and for SA_REQID 0).
 *
 *   By SPI, the SA must exist (ENOENT otherwise) and its direction be OUT
 *   for an OUT policy and IN for IN and FWD policies (EINVAL otherwise).
 *   A transport mode SA carries only this host's traffic of its own family
 *   with its peer: an OUT policy naming one must have the SA's DST as its
 *   host DST, and no FWD policy may name one, nor a policy of the other
 *   family (EINVAL). A policy whose SA is deleted and added again such
 *   that it no longer fits stays without an SA and drops what it matches.
 *
 *   By reqid, the SAs of the reqid whose direction fits as above, whose
 *   protocol is SA_PROTO (default IPPROTO_ESP) and, where given, whose
 *   mode is SA_MODE, destination SA_DST and source SA_SRC (of SA_FAMILY;
 *   no default), and which the transport mode rules allow, fit. A
 *   transport mode SA_MODE that these rules rule out for every SA is
 *   refused (EINVAL). No SA need exist. An
 *   OUT policy sends with the newest usable one (not past a hard lifetime
 *   limit, sequence numbers left; newest by the time it was added, which
 *   an update keeps) and drops what it matches, counted
 *   NFSEC_STATS_A_NO_SA_OUT, while there is none: an SA added switches it
 *   at once, an SA deleted or run out switches it to the newest usable one
 *   left. An IN or FWD policy accepts what any of them decapsulated,
 *   unless that SA was deleted or replaced while the packet was in crypto
 *   (by SPI too). Without SA_SRC, an IN or FWD policy does not tell the
 *   peers apart: an SA of the reqid from any source will do.
 *
 *   Two policies with the same direction, selector and priority are
 *   refused with EEXIST. The reply carries the new policy with its INDEX.
 *
 * NFSEC_CMD_POLICY_UPDATE (doit)
 *   Same attributes as POLICY_ADD: the policy with the same DIR, selector
 *   and PRIORITY (ENOENT if there is none) takes the new ACTION and SA
 *   reference, under the same rules as an add, keeping its INDEX, its place
 *   in the order and its MATCHES. The change is atomic: a packet meets
 *   either the old policy or the new one, never neither. INDEX may be
 *   given (here only): then the policy found must have it (ENOENT if it
 *   has another), a guard for a caller that read the index before. The
 *   reply carries the policy.
 *
 * NFSEC_CMD_POLICY_DEL (doit)
 *   NFSEC_A_POLICY: { INDEX } or { DIR, FAMILY, SRC, SRC_PLEN, DST,
 *   DST_PLEN, PROTO, SPORT, DPORT, PRIORITY } (absent selector fields mean
 *   "any", absent PRIORITY the default). ENOENT if no policy matches.
 *
 * NFSEC_CMD_POLICY_GET (dump)
 *   Every policy, in the order they are tried for each direction; each
 *   reply carries INDEX and MATCHES (u64, packets matched) beside the
 *   attributes given at add time.
 *
 * NFSEC_CMD_POLICY_FLUSH (doit)
 *   No attributes: delete every policy of the namespace.
 *
 * NFSEC_CMD_STATS_GET (doit)
 *   Reply: NFSEC_A_STATS nest, enum nfsec_stats_attr: the namespace's
 *   counters and the number of SAs (larval entries included: also
 *   counted alone in LARVAL_COUNT) and policies.
 *
 * NFSEC_CMD_BATCH (doit)
 *   NFSEC_A_BATCH: a nest of up to NFSEC_BATCH_MAX requests, each a nest
 *   whose type is its command (SA_ADD, SA_UPDATE, SA_DEL, POLICY_ADD,
 *   POLICY_UPDATE or POLICY_DEL) and whose content is that command's
 *   top-level attributes (NFSEC_A_SA or NFSEC_A_POLICY), as its own
 *   message would carry them. Nothing else may come with NFSEC_A_BATCH,
 *   in the batch or in a request of it. The requests run in order, each as
 *   its own message would (the same checks, limits, errors and events),
 *   and the first that fails stops the batch: those before it stay done,
 *   it and those after it change nothing. The error is that request's,
 *   its extended ack message too; the offset then points into the failed
 *   request (at the attribute at fault, or at the request's nest), which
 *   tells the caller how many were done. POLICY_ADD and POLICY_UPDATE in a
 *   batch send no reply. A batch that is malformed as a whole (not a nest
 *   of nests, a command not listed here, more than NFSEC_BATCH_MAX
 *   requests, NFSEC_A_BATCH missing or with other attributes beside it) is
 *   refused before any request runs (EINVAL): nothing changes. The batch
 *   is one command for the permission check (CAP_NET_ADMIN, as above).
 *
 * Events (multicast group NFSEC_MCGRP_EVENTS)
 *   NFSEC_CMD_SA_ADD, NFSEC_CMD_SA_UPDATE, NFSEC_CMD_SA_DEL: { NFSEC_A_SA }
 *     without keys, when an SA is added, updated or deleted (a flush sends
 *     one NFSEC_CMD_SA_FLUSH instead). A larval entry deleted, by SA_DEL
 *     or at its timeout, gives SA_DEL with its (larval) NFSEC_A_SA.
 *   NFSEC_CMD_SA_EXPIRE: { NFSEC_A_SA with EXPIRE } when an SA reaches a
 *     soft or hard lifetime limit, or its outbound sequence numbers run
 *     out (SEQ: the SA sends nothing more but stays until deleted), once
 *     per SA and kind. After a HARD event the SA is deleted without an
 *     SA_DEL event: the HARD event is the notice.
 *   NFSEC_CMD_ACQUIRE: { NFSEC_A_POLICY, NFSEC_A_FLOW } when a packet
 *     matches an OUT protect policy that names its SAs by reqid while no
 *     usable SA of the reqid fits it: a key-exchange daemon's cue to
 *     negotiate SAs (RFC 4301 4.4: a trap policy). NFSEC_A_POLICY is the
 *     policy as POLICY_GET describes it (INDEX, the selector, SA_REQID,
 *     SA_PROTO, SA_MODE and SA_FAMILY/SA_DST where given); NFSEC_A_FLOW
 *     is the packet's selector fields, enum nfsec_flow_attr. The packet
 *     itself is dropped and counted NFSEC_STATS_A_NO_SA_OUT (nfsec does
 *     not queue it; the sender retransmits once the SAs are there).
 *     Events are sent only while the group has a listener, at most one per
 *     policy and flow within the module parameter acquire_interval_ms
 *     (default NFSEC_ACQUIRE_INTERVAL_MS_DEFAULT), and at most
 *     acquire_per_sec (default NFSEC_ACQUIRE_PER_SEC_DEFAULT, 0: none) per
 *     namespace within a second; counted in NFSEC_STATS_A_ACQUIRE,
 *     _ACQUIRE_LIMITED (held back by either limit) and _ACQUIRE_FAILED
 *     (no memory, or a listener's socket was full). A policy remembers
 *     up to NFSEC_ACQUIRE_FLOWS flows it told of, in sets of
 *     NFSEC_ACQUIRE_FLOW_WAYS chosen by a hash of the flow: a flow pushed
 *     out of its set by newer ones within the interval may be told again.
 *     A policy that names its SA by SA_SPI sends no acquire: no daemon can
 *     change which SA it names.
 *   NFSEC_CMD_MAPPING: { NFSEC_A_SA, NFSEC_A_MAPPING } when an inbound
 *     ENCAP SA authenticates a datagram from a new address or port (see
 *     SA_ADD): NFSEC_A_SA is the inbound SA as SA_GET describes it,
 *     NFSEC_A_MAPPING the old and new address and port and how many
 *     outbound SAs FOLLOW moved. At most one per SA a second (MAPPING,
 *     MAPPING_LIMITED in the namespace's STATS), sent only while the
 *     group has a listener (the move itself happens either way).
 */
#ifndef _UAPI_LINUX_NFSEC_H
#define _UAPI_LINUX_NFSEC_H

#define NFSEC_GENL_NAME		"nfsec"
#define NFSEC_GENL_VERSION	1
#define NFSEC_MCGRP_EVENTS	"events"

#define NFSEC_ALG_NAME_MAX		64	/* bytes, with the NUL */
#define NFSEC_KEY_MAX			128	/* bytes */
#define NFSEC_REPLAY_WINDOW_DEFAULT	128	/* packets */
#define NFSEC_REPLAY_WINDOW_MAX		4096	/* packets */
#define NFSEC_POLICY_PRIORITY_DEFAULT	1000
#define NFSEC_ACQUIRE_INTERVAL_MS_DEFAULT	1000	/* per policy and flow */
#define NFSEC_ACQUIRE_PER_SEC_DEFAULT	100	/* per namespace */
#define NFSEC_ACQUIRE_FLOWS		16	/* remembered per policy */
#define NFSEC_ACQUIRE_FLOW_WAYS		4	/* per set of the hash */
#define NFSEC_SPI_ALLOC_MIN		256	/* 1-255 are reserved */
#define NFSEC_SPI_ALLOC_TIMEOUT_DEFAULT	30	/* seconds */
#define NFSEC_SPI_ALLOC_TIMEOUT_MAX	3600	/* seconds */
#define NFSEC_ENCAP_PORT_DEFAULT	4500	/* RFC 3948 */
#define NFSEC_ENCAP_KEEPALIVE_MAX	3600	/* seconds */
#define NFSEC_BATCH_MAX			1024	/* requests per NFSEC_CMD_BATCH */

enum nfsec_cmd {
	NFSEC_CMD_UNSPEC,
	NFSEC_CMD_SA_ADD,
	NFSEC_CMD_SA_UPDATE,
	NFSEC_CMD_SA_DEL,
	NFSEC_CMD_SA_GET,
	NFSEC_CMD_SA_FLUSH,
	NFSEC_CMD_SA_EXPIRE,
	NFSEC_CMD_POLICY_ADD,
	NFSEC_CMD_POLICY_DEL,
	NFSEC_CMD_POLICY_GET,
	NFSEC_CMD_POLICY_FLUSH,
	NFSEC_CMD_STATS_GET,
	NFSEC_CMD_POLICY_UPDATE,
	NFSEC_CMD_ACQUIRE,		/* event only */
	NFSEC_CMD_SA_ALLOC_SPI,
	NFSEC_CMD_MAPPING,		/* event only */
	NFSEC_CMD_BATCH,
	__NFSEC_CMD_MAX
};

#define NFSEC_CMD_MAX (__NFSEC_CMD_MAX - 1)

enum nfsec_attr {
	NFSEC_A_UNSPEC,
	NFSEC_A_SA,		/* nest, enum nfsec_sa_attr */
	NFSEC_A_POLICY,		/* nest, enum nfsec_policy_attr */
	NFSEC_A_STATS,		/* nest, enum nfsec_stats_attr */
	NFSEC_A_FLAGS,		/* u32, enum nfsec_request_flags */
	NFSEC_A_FLOW,		/* nest, enum nfsec_flow_attr, events only */
	NFSEC_A_MAPPING,	/* nest, enum nfsec_mapping_attr, events only */
	NFSEC_A_BATCH,		/* nest of requests, NFSEC_CMD_BATCH only */
	__NFSEC_A_MAX
};

#define NFSEC_A_MAX (__NFSEC_A_MAX - 1)

enum nfsec_request_flags {
	NFSEC_FLAG_SHOW_KEYS	= 1U << 0,	/* SA replies carry ALG_KEY */
};

enum nfsec_dir {
	NFSEC_DIR_IN = 1,
	NFSEC_DIR_OUT = 2,
	NFSEC_DIR_FWD = 3,	/* policies only */
};

enum nfsec_mode {
	NFSEC_MODE_TRANSPORT = 1,
	NFSEC_MODE_TUNNEL = 2,
};

enum nfsec_action {
	NFSEC_ACTION_PROTECT = 1,
	NFSEC_ACTION_BYPASS = 2,
	NFSEC_ACTION_DISCARD = 3,
};

/* Outer IPv4 DF bit in tunnel mode (RFC 4301 8.1). */
enum nfsec_df {
	NFSEC_DF_COPY = 0,	/* from the inner header; set for IPv6 inner */
	NFSEC_DF_CLEAR = 1,
	NFSEC_DF_SET = 2,
};

enum nfsec_sa_flags {
	NFSEC_SA_F_ESN	= 1U << 0,	/* 64-bit seq numbers, RFC 4303 A, 4302 B */
};

#define NFSEC_SA_F_ALL	(NFSEC_SA_F_ESN)

/* What an SA table entry is (NFSEC_SA_A_STATE). */
enum nfsec_sa_state {
	NFSEC_SA_STATE_VALID = 1,	/* an SA: it carries traffic */
	NFSEC_SA_STATE_LARVAL = 2,	/* an SPI reserved by SA_ALLOC_SPI */
};

enum nfsec_sa_attr {
	NFSEC_SA_A_UNSPEC,
	NFSEC_SA_A_DIR,			/* u8 */
	NFSEC_SA_A_FAMILY,		/* u16 */
	NFSEC_SA_A_SRC,			/* binary, 4 or 16 */
	NFSEC_SA_A_DST,			/* binary, 4 or 16 */
	NFSEC_SA_A_SPI,			/* be32 */
	NFSEC_SA_A_PROTO,		/* u8 */
	NFSEC_SA_A_MODE,		/* u8 */
	NFSEC_SA_A_AEAD,		/* nest, enum nfsec_alg_attr */
	NFSEC_SA_A_ENC,			/* nest, enum nfsec_alg_attr */
	NFSEC_SA_A_AUTH,		/* nest, enum nfsec_alg_attr */
	NFSEC_SA_A_REPLAY_WINDOW,	/* u32, packets */
	NFSEC_SA_A_FLAGS,		/* u32, enum nfsec_sa_flags */
	NFSEC_SA_A_SEQ,			/* u64 */
	NFSEC_SA_A_LIFETIME,		/* nest, enum nfsec_lifetime_attr */
	NFSEC_SA_A_DF,			/* u8, enum nfsec_df */
	NFSEC_SA_A_ADD_TIME,		/* u64, seconds, reply only */
	NFSEC_SA_A_STATS,		/* nest, reply only */
	NFSEC_SA_A_EXPIRE,		/* u8, enum nfsec_expire, events only */
	NFSEC_SA_A_PAD,
	NFSEC_SA_A_PMTU,		/* u32, bytes, reply only */
	NFSEC_SA_A_REQID,		/* u32, 0: none */
	NFSEC_SA_A_STATE,		/* u8, enum nfsec_sa_state, reply only */
	NFSEC_SA_A_SPI_MIN,		/* u32, host order, SA_ALLOC_SPI only */
	NFSEC_SA_A_SPI_MAX,		/* u32, host order, SA_ALLOC_SPI only */
	NFSEC_SA_A_TIMEOUT,		/* u32, seconds, larval entries only */
	NFSEC_SA_A_USE_TIME,		/* u64, seconds idle, reply only */
	NFSEC_SA_A_FIRST_USE_TIME,	/* u64, seconds, reply only */
	NFSEC_SA_A_ENCAP,		/* nest, enum nfsec_encap_attr */
	__NFSEC_SA_A_MAX
};

#define NFSEC_SA_A_MAX (__NFSEC_SA_A_MAX - 1)

enum nfsec_alg_attr {
	NFSEC_ALG_A_UNSPEC,
	NFSEC_ALG_A_NAME,		/* string, crypto API name */
	NFSEC_ALG_A_KEY,		/* binary, up to NFSEC_KEY_MAX */
	NFSEC_ALG_A_ICV_BITS,		/* u32, AEAD only: 64, 96 or 128 */
	NFSEC_ALG_A_TRUNC_BITS,		/* u32, AUTH only */
	__NFSEC_ALG_A_MAX
};

#define NFSEC_ALG_A_MAX (__NFSEC_ALG_A_MAX - 1)

enum nfsec_lifetime_attr {
	NFSEC_LT_A_UNSPEC,
	NFSEC_LT_A_SOFT_BYTES,		/* u64 */
	NFSEC_LT_A_HARD_BYTES,		/* u64 */
	NFSEC_LT_A_SOFT_PACKETS,	/* u64 */
	NFSEC_LT_A_HARD_PACKETS,	/* u64 */
	NFSEC_LT_A_SOFT_SECONDS,	/* u64, since the SA was added */
	NFSEC_LT_A_HARD_SECONDS,	/* u64, since the SA was added */
	NFSEC_LT_A_PAD,
	NFSEC_LT_A_SOFT_USE_SECONDS,	/* u64, since the SA's first packet */
	NFSEC_LT_A_HARD_USE_SECONDS,	/* u64, since the SA's first packet */
	__NFSEC_LT_A_MAX
};

#define NFSEC_LT_A_MAX (__NFSEC_LT_A_MAX - 1)

enum nfsec_expire {
	NFSEC_EXPIRE_SOFT = 1,		/* a soft limit: time to rekey */
	NFSEC_EXPIRE_HARD = 2,		/* a hard limit: the SA is deleted */
	NFSEC_EXPIRE_SEQ = 3,		/* outbound sequence numbers ran out */
};

/* Per-SA counters, all u64. */
enum nfsec_sa_stats_attr {
	NFSEC_SA_STATS_A_UNSPEC,
	NFSEC_SA_STATS_A_PACKETS,	/* protected or accepted */
	NFSEC_SA_STATS_A_BYTES,		/* payload bytes before ESP/AH */
	NFSEC_SA_STATS_A_REPLAY,	/* duplicate sequence number */
	NFSEC_SA_STATS_A_REPLAY_OLD,	/* left of the replay window */
	NFSEC_SA_STATS_A_ICV_FAIL,	/* integrity check failed */
	NFSEC_SA_STATS_A_BAD_TRAILER,	/* bad padding or pad length */
	NFSEC_SA_STATS_A_POLICY,	/* inner packet fails the in policy */
	NFSEC_SA_STATS_A_SEQ_EXHAUSTED,	/* outbound with no sequence left */
	NFSEC_SA_STATS_A_NO_BUFFER,	/* memory for the packet */
	NFSEC_SA_STATS_A_CRYPTO_ERROR,	/* the crypto API refused */
	NFSEC_SA_STATS_A_DUMMY,		/* next header 59, dropped */
	NFSEC_SA_STATS_A_EXPIRED,	/* past a hard lifetime */
	NFSEC_SA_STATS_A_TOO_BIG,	/* DF and too big once protected */
	NFSEC_SA_STATS_A_BACKLOG,	/* too many packets in crypto at once */
	NFSEC_SA_STATS_A_LOOP,		/* would be protected by it twice */
	NFSEC_SA_STATS_A_PAD,
	__NFSEC_SA_STATS_A_MAX
};

#define NFSEC_SA_STATS_A_MAX (__NFSEC_SA_STATS_A_MAX - 1)

/* Per-namespace counters, all u64 but the two counts. */
enum nfsec_stats_attr {
	NFSEC_STATS_A_UNSPEC,
	NFSEC_STATS_A_SA_COUNT,		/* u32 */
	NFSEC_STATS_A_POLICY_COUNT,	/* u32 */
	NFSEC_STATS_A_NO_SA,		/* inbound SPI with no SA */
	NFSEC_STATS_A_NO_SA_OUT,	/* protect policy with no usable SA */
	NFSEC_STATS_A_MALFORMED,	/* truncated or bad header */
	NFSEC_STATS_A_CLEARTEXT,	/* cleartext a policy says is protected */
	NFSEC_STATS_A_DISCARD,		/* dropped by a discard policy */
	NFSEC_STATS_A_CONNTRACK,	/* conntrack refused to confirm */
	NFSEC_STATS_A_PAD,
	NFSEC_STATS_A_ACQUIRE,		/* acquire events sent */
	NFSEC_STATS_A_ACQUIRE_LIMITED,	/* held back by a rate limit */
	NFSEC_STATS_A_ACQUIRE_FAILED,	/* no memory, or not delivered */
	NFSEC_STATS_A_LARVAL_COUNT,	/* u32, of SA_COUNT: larval entries */
	NFSEC_STATS_A_ENCAP_IN,		/* ESP in UDP taken (before crypto) */
	NFSEC_STATS_A_ENCAP_OUT,	/* ESP in UDP sent */
	NFSEC_STATS_A_KEEPALIVE_IN,	/* NAT keepalives consumed */
	NFSEC_STATS_A_KEEPALIVE_OUT,	/* NAT keepalives sent */
	NFSEC_STATS_A_NON_ESP,		/* non-ESP marker: passed up (IKE) */
	NFSEC_STATS_A_BAD_ENCAP,	/* short, junk, or the wrong SA kind */
	NFSEC_STATS_A_MAPPING,		/* mapping changes handled */
	NFSEC_STATS_A_MAPPING_LIMITED,	/* held back: rate, queue, memory */
	NFSEC_STATS_A_SPREAD,		/* in: decrypted on the next CPU */
	NFSEC_STATS_A_REQ_HEAP,		/* crypto requests not in a slot */
	__NFSEC_STATS_A_MAX
};

#define NFSEC_STATS_A_MAX (__NFSEC_STATS_A_MAX - 1)

enum nfsec_policy_attr {
	NFSEC_POL_A_UNSPEC,
	NFSEC_POL_A_INDEX,		/* u32, assigned by the kernel */
	NFSEC_POL_A_DIR,		/* u8 */
	NFSEC_POL_A_FAMILY,		/* u16 */
	NFSEC_POL_A_SRC,		/* binary, 4 or 16 */
	NFSEC_POL_A_SRC_PLEN,		/* u8 */
	NFSEC_POL_A_DST,		/* binary, 4 or 16 */
	NFSEC_POL_A_DST_PLEN,		/* u8 */
	NFSEC_POL_A_PROTO,		/* u8 */
	NFSEC_POL_A_SPORT,		/* u16 */
	NFSEC_POL_A_DPORT,		/* u16 */
	NFSEC_POL_A_PRIORITY,		/* u32 */
	NFSEC_POL_A_ACTION,		/* u8 */
	NFSEC_POL_A_SA_SPI,		/* be32 */
	NFSEC_POL_A_SA_DST,		/* binary, 4 or 16 */
	NFSEC_POL_A_SA_PROTO,		/* u8 */
	NFSEC_POL_A_MATCHES,		/* u64, reply only */
	NFSEC_POL_A_PAD,
	NFSEC_POL_A_SA_FAMILY,		/* u16, the SA's: default FAMILY */
	NFSEC_POL_A_SA_REQID,		/* u32, not 0: instead of SA_SPI */
	NFSEC_POL_A_SA_MODE,		/* u8, enum nfsec_mode, with SA_REQID */
	NFSEC_POL_A_SA_SRC,		/* binary, 4 or 16, with SA_REQID */
	__NFSEC_POL_A_MAX
};

#define NFSEC_POL_A_MAX (__NFSEC_POL_A_MAX - 1)

/*
 * A packet's selector fields (RFC 4301 4.4.1.1), in acquire events.
 * Ports are 0 for protocols without ports (and for ICMP), and for a
 * fragment after the first, whose ports are not known.
 */
enum nfsec_flow_attr {
	NFSEC_FLOW_A_UNSPEC,
	NFSEC_FLOW_A_FAMILY,		/* u16 */
	NFSEC_FLOW_A_SRC,		/* binary, 4 or 16 */
	NFSEC_FLOW_A_DST,		/* binary, 4 or 16 */
	NFSEC_FLOW_A_PROTO,		/* u8, upper-layer protocol */
	NFSEC_FLOW_A_SPORT,		/* u16, host order */
	NFSEC_FLOW_A_DPORT,		/* u16, host order */
	__NFSEC_FLOW_A_MAX
};

#define NFSEC_FLOW_A_MAX (__NFSEC_FLOW_A_MAX - 1)

/* ESP in UDP (NFSEC_SA_A_ENCAP) */
enum nfsec_encap_type {
	NFSEC_ENCAP_UDP = 1,		/* RFC 3948 */
};

enum nfsec_encap_flags {
	NFSEC_ENCAP_F_FOLLOW	= 1U << 0,	/* follow NAT mapping changes */
};

#define NFSEC_ENCAP_F_ALL	(NFSEC_ENCAP_F_FOLLOW)

enum nfsec_encap_attr {
	NFSEC_ENCAP_A_UNSPEC,
	NFSEC_ENCAP_A_TYPE,		/* u8, enum nfsec_encap_type */
	NFSEC_ENCAP_A_SPORT,		/* u16, host order */
	NFSEC_ENCAP_A_DPORT,		/* u16, host order */
	NFSEC_ENCAP_A_FLAGS,		/* u32, enum nfsec_encap_flags */
	NFSEC_ENCAP_A_KEEPALIVE,	/* u32, seconds, outbound; 0: off */
	NFSEC_ENCAP_A_PEER,		/* binary, 4 or 16, reply only */
	NFSEC_ENCAP_A_PEER_PORT,	/* u16, host order, reply only */
	__NFSEC_ENCAP_A_MAX
};

#define NFSEC_ENCAP_A_MAX (__NFSEC_ENCAP_A_MAX - 1)

/* A NAT mapping change (NFSEC_CMD_MAPPING); family: the SA's. */
enum nfsec_mapping_attr {
	NFSEC_MAP_A_UNSPEC,
	NFSEC_MAP_A_OLD_ADDR,		/* binary, 4 or 16 */
	NFSEC_MAP_A_OLD_PORT,		/* u16, host order */
	NFSEC_MAP_A_NEW_ADDR,		/* binary, 4 or 16 */
	NFSEC_MAP_A_NEW_PORT,		/* u16, host order */
	NFSEC_MAP_A_FOLLOWED,		/* u32, outbound SAs moved */
	__NFSEC_MAP_A_MAX
};

#define NFSEC_MAP_A_MAX (__NFSEC_MAP_A_MAX - 1)

#endif /* _UAPI_LINUX_NFSEC_H */
