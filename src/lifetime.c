// SPDX-License-Identifier: GPL-2.0
/*
 * SA lifetimes (RFC 4301 4.4.2.1): every packet an SA carries, either way,
 * counts against its soft and hard limits of bytes, packets and seconds,
 * and userspace hears once of each limit reached. Limits in seconds (since
 * the add, or since the first packet) are also kept by the clock: one
 * delayed work per namespace runs at the next deadline of any of its SAs,
 * sends the events due and deletes the SAs past a hard limit, whether
 * packets pass or not.
 */

#include "nfsec.h"

#include <linux/jiffies.h>
#include <linux/overflow.h>
#include <linux/timekeeping.h>

/* The lifetime work re-arms at least this often (seconds). */
#define LIFETIME_RESCAN_MAX	(24 * 60 * 60)
/*
 * Kicks run it at most this often (jiffies): a walk looks at every SA of
 * the namespace, and a batch of adds must not cost a walk each.
 */
#define LIFETIME_KICK_GAP	(HZ / 10)

/* Sends the event for @ev unless the SA sent it already; true if sent. */
static bool event_once(struct nfsec_sa *sa, enum nfsec_sa_event ev, gfp_t gfp)
{
	static const u8 reason[] = {
		[NFSEC_EV_SOFT] = NFSEC_EXPIRE_SOFT,
		[NFSEC_EV_HARD] = NFSEC_EXPIRE_HARD,
		[NFSEC_EV_SEQ] = NFSEC_EXPIRE_SEQ,
	};

	if (test_and_set_bit(ev, &sa->events))
		return false;
	nfsec_netlink_notify_sa(sa->nn, sa, NFSEC_CMD_SA_EXPIRE, reason[ev],
				gfp);
	return true;
}

/*
 * Tells userspace, once per SA and kind, that a limit was reached, from
 * the packet path. A hard limit deletes the SA from process context (the
 * lifetime work); a spent sequence number space leaves it in the table.
 */
void nfsec_sa_event(struct nfsec_sa *sa, enum nfsec_sa_event ev)
{
	/*
	 * Replaced or deleted while the packet held it: its identity is
	 * another SA's now (or none's), and a daemon told "hard" would
	 * delete that one. Marked, not told.
	 */
	if (READ_ONCE(sa->dead)) {
		set_bit(ev, &sa->events);
		return;
	}
	if (!event_once(sa, ev, GFP_ATOMIC))
		return;
	if (ev == NFSEC_EV_HARD)
		nfsec_lifetime_kick(sa->nn);
	else if (ev == NFSEC_EV_SEQ)
		nfsec_sa_spent(sa);
}

static bool over(u64 limit, u64 value)
{
	return limit && value >= limit;
}

/*
 * The first packet the SA carries starts its use-seconds; the last one
 * tells how long it has been idle. A plain store, once per jiffy at most.
 */
static void mark_use(struct nfsec_sa *sa, u64 now)
{
	unsigned long j = jiffies;

	if (READ_ONCE(sa->last_use) != j)
		WRITE_ONCE(sa->last_use, j);
	if (likely(READ_ONCE(sa->first_use)))
		return;
	/* last_use before first_use: a reader that sees one sees both */
	if (!now)
		now = ktime_get_boottime_seconds();
	if (!cmpxchg64(&sa->first_use, 0, max_t(u64, now, 1)) &&
	    (sa->lifetime.soft_use_seconds || sa->lifetime.hard_use_seconds))
		nfsec_lifetime_kick(sa->nn);
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
	u64 packets = 0, total = 0, now = 0, age = 0, used = 0, first;

	if (test_bit(NFSEC_EV_HARD, &sa->events))
		goto hard;
	if (lt->soft_packets || lt->hard_packets)
		packets = atomic64_inc_return(&sa->lt_packets);
	if (lt->soft_bytes || lt->hard_bytes)
		total = atomic64_add_return(bytes, &sa->lt_bytes);
	if (nfsec_lifetime_timed(lt)) {
		now = ktime_get_boottime_seconds();
		age = now - sa->add_time;
		first = READ_ONCE(sa->first_use);
		used = first && now > first ? now - first : 0;
	}
	/* the packet that reaches a hard limit is the last one allowed */
	if (over(lt->hard_packets, packets - 1) ||
	    over(lt->hard_bytes, total - bytes) ||
	    over(lt->hard_seconds, age) || over(lt->hard_use_seconds, used)) {
		nfsec_sa_event(sa, NFSEC_EV_HARD);
		goto hard;
	}
	if (over(lt->soft_packets, packets) || over(lt->soft_bytes, total) ||
	    over(lt->soft_seconds, age) || over(lt->soft_use_seconds, used))
		nfsec_sa_event(sa, NFSEC_EV_SOFT);
	mark_use(sa, now);
	nfsec_counter_inc(sa->counters, NFSEC_SA_PACKETS);
	nfsec_counter_add(sa->counters, NFSEC_SA_BYTES, bytes);
	/* the last one allowed: the SA goes now, not at the next packet */
	if (over(lt->hard_packets, packets) || over(lt->hard_bytes, total))
		nfsec_sa_event(sa, NFSEC_EV_HARD);
	return true;
hard:
	nfsec_counter_inc(sa->counters, NFSEC_SA_EXPIRED);
	return false;
}

/* The second @s seconds after @t0; U64_MAX for no limit or no start. */
static u64 deadline(u64 t0, u64 s)
{
	u64 t;

	if (!t0 || !s || check_add_overflow(t0, s, &t))
		return U64_MAX;
	return t;
}

static u64 hard_deadline(const struct nfsec_sa *sa)
{
	return min(deadline(sa->add_time, sa->lifetime.hard_seconds),
		   deadline(READ_ONCE(sa->first_use),
			    sa->lifetime.hard_use_seconds));
}

static u64 soft_deadline(const struct nfsec_sa *sa)
{
	return min(deadline(sa->add_time, sa->lifetime.soft_seconds),
		   deadline(READ_ONCE(sa->first_use),
			    sa->lifetime.soft_use_seconds));
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
	    (nfsec_lifetime_timed(lt) &&
	     ktime_get_boottime_seconds() >= hard_deadline(sa)))
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

/*
 * One SA at second @now: the events due, deletion past a hard limit (or
 * once the packet path saw one). Returns the SA's next deadline.
 */
static u64 sa_check(struct nfsec_net *nn, struct nfsec_sa *sa, u64 now)
{
	u64 soft = soft_deadline(sa), hard = hard_deadline(sa);

	if (test_bit(NFSEC_EV_HARD, &sa->events) || now >= hard) {
		event_once(sa, NFSEC_EV_HARD, GFP_KERNEL);
		nfsec_sa_delete(nn, sa);
		return U64_MAX;
	}
	if (now >= soft)
		event_once(sa, NFSEC_EV_SOFT, GFP_KERNEL);
	if (test_bit(NFSEC_EV_SOFT, &sa->events))
		soft = U64_MAX;
	return min(soft, hard);
}

/*
 * The SAs are looked at only here, under the namespace lock, while they
 * are in the table (which holds a reference to each): the work holds
 * none itself, so an SA's life and the work's are independent. Namespace
 * exit cancels the work once no packet can kick it (lifetime_uninit).
 */
static void lifetime_work(struct work_struct *work)
{
	struct nfsec_net *nn = container_of(to_delayed_work(work),
					    struct nfsec_net, lifetime_work);
	u64 now, next = U64_MAX, wait_ns;
	struct nfsec_sa *sa;
	unsigned long i;

	mutex_lock(&nn->lock);
	WRITE_ONCE(nn->lifetime_walked, jiffies);
	now = ktime_get_boottime_seconds();
	xa_for_each(&nn->sa_index, i, sa) {
		if (sa->larval)	/* no lifetime: spi.c times it out */
			continue;
		next = min(next, sa_check(nn, sa, now));
		cond_resched();
	}
	mutex_unlock(&nn->lock);
	if (next == U64_MAX)
		return;
	next = min(next, now + LIFETIME_RESCAN_MAX);
	/* to the start of second @next, which may have begun already */
	wait_ns = next * NSEC_PER_SEC;
	now = ktime_get_boottime_ns();
	wait_ns = wait_ns > now ? wait_ns - now : 0;
	/*
	 * Not mod_delayed_work(): a kick that came while this ran is
	 * pending with no delay, and must stay so.
	 */
	queue_delayed_work(nfsec_wq, &nn->lifetime_work,
			   nsecs_to_jiffies(wait_ns) + 1);
}

/*
 * Any context: runs the lifetime work now, or LIFETIME_KICK_GAP after its
 * last walk began if that is later; it re-arms itself.
 */
void nfsec_lifetime_kick(struct nfsec_net *nn)
{
	long wait = (long)(READ_ONCE(nn->lifetime_walked) + LIFETIME_KICK_GAP -
			   jiffies);

	mod_delayed_work(nfsec_wq, &nn->lifetime_work,
			 clamp_t(long, wait, 0, LIFETIME_KICK_GAP));
}

void nfsec_lifetime_init(struct nfsec_net *nn)
{
	INIT_DELAYED_WORK(&nn->lifetime_work, lifetime_work);
	nn->lifetime_walked = jiffies - LIFETIME_KICK_GAP;
}

/*
 * Namespace exit, once no packet can reach the hooks or be in crypto
 * (nothing on the packet path kicks the work any more) and no request
 * can come (nothing on the control path does): the work cancelled,
 * re-arming itself or not.
 */
void nfsec_lifetime_uninit(struct nfsec_net *nn)
{
	cancel_delayed_work_sync(&nn->lifetime_work);
}
