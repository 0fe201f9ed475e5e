// SPDX-License-Identifier: GPL-2.0
/*
 * SPI allocation. The receiver of an SA chooses its SPI (RFC 4301 4.1), and
 * a key-exchange daemon must send it to the peer before it has the keys.
 * So it reserves one first: a larval entry in the SA table, with the
 * identity of the SA to come (destination, SPI, protocol) and nothing
 * else. Being in the table, the SPI cannot be taken by another allocation
 * or by an sa add; having no direction, the entry takes no traffic (the
 * packet path counts its packets as no_sa). An sa add or update of its
 * identity fills it in (sa.c puts the SA in its place); otherwise it is
 * deleted when its timeout runs out, by one delayed work per namespace
 * armed for the earliest timeout.
 */

#include "nfsec.h"

#include <linux/jiffies.h>
#include <linux/random.h>

/*
 * Takes a free SPI in [@min, @max] for @larval's identity (@min at least
 * NFSEC_SPI_ALLOC_MIN, @max not below it: netlink.c checks) and puts
 * @larval in the table with it for @timeout seconds. Under the
 * namespace's lock, which every change to the table takes: no other
 * allocation or add can take the SPI between the probe and the insert.
 */
int nfsec_spi_alloc(struct nfsec_net *nn, struct nfsec_sa *larval, u32 min,
		    u32 max, unsigned int timeout,
		    struct netlink_ext_ack *extack)
{
	u32 range = max - min + 1;	/* min >= 256: no overflow */
	u32 start, tries, i;
	int err;

	lockdep_assert_held(&nn->lock);
	if (!nfsec_limit_ok(NFSEC_LIMIT_LARVAL, nn->larval_count, extack) ||
	    !nfsec_limit_ok(NFSEC_LIMIT_SA, nn->sa_count, extack))
		return -ENOSPC;
	/*
	 * A random start, then the next SPIs in turn. At most sa_count SPIs
	 * of the range are taken, so among sa_count + 1 in a row one is
	 * free: the probe ends within the size of the table, or of the
	 * range when that is smaller, and fails only if the range is full.
	 */
	tries = min_t(u64, range, (u64)nn->sa_count + 1);
	start = get_random_u32_below(range);
	for (i = 0; i < tries; i++) {
		larval->id.spi = htonl(min + (u32)(((u64)start + i) % range));
		if (!nfsec_sa_lookup_locked(nn, &larval->id))
			break;
		cond_resched();
	}
	if (i == tries) {
		NL_SET_ERR_MSG(extack, "no free SPI in min..max");
		return -ENOSPC;
	}
	err = nfsec_sa_insert(nn, larval, extack);
	if (err)
		return err;
	larval->larval_expires = jiffies + timeout * HZ;
	list_add_tail(&larval->larval_node, &nn->larval);
	nn->larval_count++;
	if (!nn->larval_armed ||
	    time_before(larval->larval_expires, nn->larval_next)) {
		nn->larval_armed = true;
		nn->larval_next = larval->larval_expires;
		mod_delayed_work(nfsec_wq, &nn->larval_work, timeout * HZ);
	}
	return 0;
}

/* Seconds until a larval entry's timeout, rounded up; under the lock. */
unsigned int nfsec_larval_left(const struct nfsec_sa *sa)
{
	long left = (long)(sa->larval_expires - jiffies);

	return left > 0 ? DIV_ROUND_UP(left, HZ) : 0;
}

/*
 * Deletes the larval entries whose timeout ran out and arms the work for
 * the earliest one left. No policy points at a larval entry (policy.c
 * refuses to name one), so none needs to be unbound.
 */
static void larval_expire_work(struct work_struct *work)
{
	struct nfsec_net *nn = container_of(to_delayed_work(work),
					    struct nfsec_net, larval_work);
	unsigned long now = jiffies, next = 0;
	struct nfsec_sa *sa, *tmp;
	bool armed = false;

	mutex_lock(&nn->lock);
	list_for_each_entry_safe(sa, tmp, &nn->larval, larval_node) {
		if (time_after_eq(now, sa->larval_expires)) {
			nfsec_netlink_notify_sa(nn, sa, NFSEC_CMD_SA_DEL, 0,
						GFP_KERNEL);
			nfsec_sa_unhash(nn, sa);
			nfsec_sa_put(sa);
		} else if (!armed || time_before(sa->larval_expires, next)) {
			next = sa->larval_expires;
			armed = true;
		}
		cond_resched();
	}
	nn->larval_armed = armed;
	nn->larval_next = next;
	if (armed)
		mod_delayed_work(nfsec_wq, &nn->larval_work, next - now);
	mutex_unlock(&nn->lock);
}

void nfsec_larval_init(struct nfsec_net *nn)
{
	INIT_LIST_HEAD(&nn->larval);
	INIT_DELAYED_WORK(&nn->larval_work, larval_expire_work);
}

/*
 * Namespace exit, before the table is flushed: nothing can arm the work
 * any more (no netlink request reaches a namespace on its way out; the
 * work rearms itself, which cancel_delayed_work_sync() allows for), and
 * the flush deletes the larval entries left.
 */
void nfsec_larval_uninit(struct nfsec_net *nn)
{
	cancel_delayed_work_sync(&nn->larval_work);
}
