// SPDX-License-Identifier: GPL-2.0
/*
 * SA lifetimes on the packet path (RFC 4301 4.4.2.1): every packet an SA
 * carries, either way, counts against its soft and hard limits of bytes,
 * packets and seconds, and userspace hears once of each limit reached.
 */

#include "nfsec.h"

#include <linux/timekeeping.h>

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
	if (ev != NFSEC_EV_SOFT)
		nfsec_sa_spent(sa);
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
	/* the last one allowed: its policies need not wait for the next */
	if (over(lt->hard_packets, packets) || over(lt->hard_bytes, total))
		nfsec_sa_spent(sa);
	nfsec_counter_inc(sa->counters, NFSEC_SA_PACKETS);
	nfsec_counter_add(sa->counters, NFSEC_SA_BYTES, bytes);
	return true;
hard:
	nfsec_counter_inc(sa->counters, NFSEC_SA_EXPIRED);
	return false;
}

/*
 * nfsec_sa_account()'s hard limits and the sequence numbers, read without
 * counting: would the SA's next packet pass?
 */
bool nfsec_sa_usable(const struct nfsec_sa *sa)
{
	const struct nfsec_lifetime *lt = &sa->lifetime;

	if (sa->larval || READ_ONCE(sa->dead) ||
	    test_bit(NFSEC_EV_HARD, &sa->events) ||
	    over(lt->hard_packets, atomic64_read(&sa->lt_packets)) ||
	    over(lt->hard_bytes, atomic64_read(&sa->lt_bytes)) ||
	    (lt->hard_seconds &&
	     over(lt->hard_seconds,
		  ktime_get_boottime_seconds() - sa->add_time)))
		return false;
	return sa->dir != NFSEC_DIR_OUT ||
	       (u64)atomic64_read(&sa->oseq) < nfsec_seq_limit(sa);
}

/*
 * The OUT policies that name the SA's reqid turn to another SA from
 * process context (policy.c): the packet path cannot take the lock.
 */
void nfsec_sa_spent(struct nfsec_sa *sa)
{
	if (sa->reqid && sa->dir == NFSEC_DIR_OUT)
		queue_work(nfsec_wq, &sa->nn->refresh_work);
}
