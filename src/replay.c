// SPDX-License-Identifier: GPL-2.0
/*
 * The inbound anti-replay window (RFC 4303 3.4.3) and the inference of the
 * high half of extended sequence numbers (RFC 4303 Appendix A2.2).
 *
 * The window is RFC 6479's ring of words: sequence number s owns bit
 * s % (words * BITS_PER_LONG), always the same bit, so nothing is shifted.
 * Moving the top forward clears the words between the old top's word and
 * the new one, at most all of them, so every operation costs O(1) in the
 * window size. The ring holds one word more than the window needs: the
 * word of the top is only partly inside the window, and the spare word
 * keeps the oldest bits of the window from sharing it.
 *
 * The packet path calls nfsec_replay_check() before decryption, with no
 * lock, and nfsec_replay_commit() after the ICV verified, under the lock.
 * Only the commit changes the state.
 */

#include "nfsec.h"

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/overflow.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

struct nfsec_replay {
	spinlock_t lock;	/* serialises commits; a leaf lock */
	refcount_t ref;		/* the SA, and its successor after an update */
	/*
	 * The highest sequence number accepted, 0 before the first. Written
	 * under the lock, read without it: atomic64_t so that no reader sees
	 * half of a 64-bit update on 32-bit machines.
	 */
	atomic64_t top;
	u32 window;		/* packets; 0: anti-replay off */
	u32 words;		/* in bitmap[]; a power of two; 0 if off */
	unsigned long bitmap[];	/* bit s % (words * BITS_PER_LONG) is s */
};

struct nfsec_replay *nfsec_replay_alloc(u32 window, gfp_t gfp)
{
	struct nfsec_replay *r;
	u32 words = 0;

	if (window)
		words = roundup_pow_of_two(BITS_TO_LONGS(window) + 1);
	r = kzalloc(struct_size(r, bitmap, words), gfp);
	if (!r)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&r->lock);
	refcount_set(&r->ref, 1);
	atomic64_set(&r->top, 0);
	r->window = window;
	r->words = words;
	return r;
}

struct nfsec_replay *nfsec_replay_get(struct nfsec_replay *r)
{
	refcount_inc(&r->ref);
	return r;
}

void nfsec_replay_put(struct nfsec_replay *r)
{
	if (r && refcount_dec_and_test(&r->ref))
		kfree(r);
}

u64 nfsec_replay_top(const struct nfsec_replay *r)
{
	return atomic64_read(&r->top);
}

static unsigned int word_of(const struct nfsec_replay *r, u64 seq)
{
	return (seq / BITS_PER_LONG) & (r->words - 1);
}

static unsigned long bit_of(u64 seq)
{
	return 1UL << (seq % BITS_PER_LONG);
}

/*
 * RFC 4303 A2.2: the high half of the sequence number whose low half is
 * @lo, given the top T = Th:Tl and the window W, is the one that puts it
 * inside the window or ahead of it:
 *
 *   Case A, Tl >= W - 1 (the window lies in one subspace):
 *     lo >= Bl ? Th : Th + 1              (Bl = Tl - W + 1, mod 2^32)
 *   Case B, Tl <  W - 1 (the window spans subspaces Th - 1 and Th):
 *     lo >= Bl ? Th - 1 : Th
 *
 * Returns false when the high half would leave 0..2^32-1: Th - 1 with
 * Th = 0 (lo would precede sequence number 1) and Th + 1 with Th = 2^32-1
 * (past the last sequence number a sender may use). Neither can be a
 * packet this SA may accept. With the window off (W = 0, which sa.c refuses
 * together with ESN) the inference runs as for W = 1: only numbers ahead of
 * the top are placed right.
 */
static bool infer(u64 top, u32 window, u32 lo, u64 *seq)
{
	u32 tl = lower_32_bits(top), th = upper_32_bits(top);
	u32 w = max(window, 1U);
	u32 bl = tl - w + 1;

	if (tl >= w - 1) {
		if (lo < bl) {
			if (th == U32_MAX)
				return false;
			th++;
		}
	} else if (lo >= bl && th) {
		/* Case B: behind, in the previous epoch. In epoch 0 there is
		 * none, so such a number can only be ahead of the top: a
		 * sender that starts near 2^32 (RFC 4303 A2.2 assumes one).
		 */
		th--;
	}
	*seq = (u64)th << 32 | lo;
	return true;
}

/* The verdict for @seq against the window; no side effects. */
static enum nfsec_replay_verdict judge(const struct nfsec_replay *r, u64 top,
				       u64 seq)
{
	if (!seq)
		return NFSEC_REPLAY_ZERO;
	if (!r->window || seq > top)
		return NFSEC_REPLAY_OK;
	if (top - seq >= r->window)
		return NFSEC_REPLAY_OLD;
	if (READ_ONCE(r->bitmap[word_of(r, seq)]) & bit_of(seq))
		return NFSEC_REPLAY_DUP;
	return NFSEC_REPLAY_OK;
}

/*
 * Lockless: the top and the bitmap word are each read once, and a commit
 * on another CPU may change them in between. The verdict is then that of
 * a moment ago, which is all a check before decryption can give anyway:
 * a packet it passes is checked again under the lock by
 * nfsec_replay_commit(), and a packet it drops was a duplicate or left of
 * the window at some moment during the call, so it would stay dropped (a
 * bit set for seq + k * ring size means seq already fell out of the
 * window; such a packet may be counted as DUP rather than OLD). Taking the
 * lock here would double the per-packet cost of the window on the one SA
 * every CPU of a busy tunnel receives on.
 */
enum nfsec_replay_verdict nfsec_replay_check(struct nfsec_replay *r,
					     u32 seq_lo, bool esn, u64 *seq)
{
	u64 top = atomic64_read(&r->top);

	*seq = seq_lo;
	if (esn && !infer(top, r->window, seq_lo, seq))
		return NFSEC_REPLAY_OLD;
	return judge(r, top, *seq);
}

/* Makes @seq, above the top, the new top; the lock is held. */
static void advance(struct nfsec_replay *r, u64 top, u64 seq)
{
	u64 from = top / BITS_PER_LONG, to = seq / BITS_PER_LONG;
	u64 n = min_t(u64, to - from, r->words);
	u64 i;

	/* Clear the words the top moves into; a jump of a ring or more: all. */
	for (i = 1; i <= n; i++)
		WRITE_ONCE(r->bitmap[(from + i) & (r->words - 1)], 0);
}

enum nfsec_replay_verdict nfsec_replay_commit(struct nfsec_replay *r, u64 seq)
{
	enum nfsec_replay_verdict v;
	u64 top;

	if (!seq)
		return NFSEC_REPLAY_ZERO;

	spin_lock_bh(&r->lock);
	top = atomic64_read(&r->top);
	v = judge(r, top, seq);
	if (v == NFSEC_REPLAY_OK) {
		if (r->window) {
			unsigned int w = word_of(r, seq);

			if (seq > top)
				advance(r, top, seq);
			WRITE_ONCE(r->bitmap[w], r->bitmap[w] | bit_of(seq));
		}
		if (seq > top)
			atomic64_set(&r->top, seq);
	}
	spin_unlock_bh(&r->lock);
	return v;
}
