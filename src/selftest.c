// SPDX-License-Identifier: GPL-2.0
/*
 * Self-tests run at module init when built with NFSEC_DEBUG=1: the
 * anti-replay window and ESN inference of replay.c, from a table of packets
 * and their verdicts, then window-size sweeps (in order, duplicates, the
 * window's edge, a permutation inside the window, jumps ahead of every
 * length that matters to the ring of words).
 */

#include "nfsec.h"

#include <linux/bitops.h>
#include <linux/err.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/slab.h>

enum op {
	OP_NEW,		/* a fresh window of .seq packets */
	OP_RX,		/* a packet: check, and commit when the check passed */
	OP_CHECK,	/* check only: the inference and verdict, no change */
	OP_COMMIT,	/* commit .seq directly, as after a passed check */
	OP_TOP,		/* the top must be .seq */
};

struct step {
	u8 op;
	bool esn;
	u8 want;	/* enum nfsec_replay_verdict */
	u32 lo;		/* on the wire */
	u64 seq;	/* inferred (RX, CHECK with ESN; else lo), committed,
			 * top or window
			 */
};

#define V(v)		NFSEC_REPLAY_##v
#define NEW(w)		{ .op = OP_NEW, .seq = (w) }
#define RX(l, v)	{ .op = OP_RX, .lo = (l), .want = V(v) }
#define RXE(l, s, v)	{ .op = OP_RX, .esn = true, .lo = (l), .seq = (s), \
			  .want = V(v) }
#define CK(l, v)	{ .op = OP_CHECK, .lo = (l), .want = V(v) }
#define CKE(l, s, v)	{ .op = OP_CHECK, .esn = true, .lo = (l), .seq = (s), \
			  .want = V(v) }
#define CM(s, v)	{ .op = OP_COMMIT, .seq = (s), .want = V(v) }
#define TOP(s)		{ .op = OP_TOP, .seq = (s) }

static const struct step steps[] __initconst = {
	/* 32-bit sequence numbers, window 32 */
	NEW(32),
	RX(0, ZERO),		/* RFC 4303 3.3.3: the first packet is 1 */
	RX(1, OK),
	RX(1, DUP),
	RX(2, OK),
	RX(3, OK),
	RX(2, DUP),
	TOP(3),
	RX(40, OK),		/* ahead: a gap is fine */
	RX(9, OK),		/* W - 1 behind the top: the window's edge */
	RX(9, DUP),
	RX(8, OLD),		/* W behind */
	RX(3, OLD),		/* seen, but out of the window: OLD */
	RX(39, OK),
	RX(41, OK),
	TOP(41),
	RX(9, OLD),
	RX(10, OK),
	CK(0x80000000, OK),	/* a check changes nothing */
	TOP(41),
	CM(41, DUP),		/* two CPUs passed the check: one commit wins */
	CM(42, OK),
	CM(42, DUP),
	CM(0, ZERO),
	RX(1000042, OK),	/* far ahead: the whole ring is cleared */
	RX(1000011, OK),
	RX(1000041, OK),
	RX(1000010, OLD),
	RX(42, OLD),
	CM(0xffffffff, OK),	/* without ESN nothing follows 2^32 - 1 */
	RX(1, OLD),
	RX(0xffffffe0, OK),
	RX(0xffffffdf, OLD),
	RX(0, ZERO),
	TOP(0xffffffff),

	/* Window 1: only numbers above the top */
	NEW(1),
	RX(5, OK),
	RX(5, DUP),
	RX(4, OLD),
	RX(6, OK),
	TOP(6),

	/* Anti-replay off: anything but 0 passes, the top still follows */
	NEW(0),
	RX(0, ZERO),
	RX(5, OK),
	RX(5, OK),
	RX(3, OK),
	TOP(5),
	RX(1000, OK),
	TOP(1000),
	CM(0, ZERO),
	CM(0xfffffff0, OK),	/* ESN without a window infers as for W = 1 */
	RXE(5, 0x100000005, OK),
	TOP(0x100000005),

	/*
	 * ESN, RFC 4303 A2.2, W = 64; Bl = Tl - W + 1 (mod 2^32).
	 * Case A: Tl >= W - 1: Seqh = Seql >= Bl ? Th : Th + 1.
	 * Case B: Tl <  W - 1: Seqh = Seql >= Bl ? Th - 1 : Th.
	 */
	NEW(64),
	RXE(0, 0, ZERO),		  /* B, Seql < Bl: Th = 0: seq 0 */
	CKE(0xfffffff0, 0xfffffff0, OK), /* B in epoch 0: ahead */
	RXE(0x7fffffff, 0x7fffffff, OK),  /* B, Seql < Bl: Th */
	RXE(0xfffffffd, 0xfffffffd, OK),  /* A, Seql >= Bl: Th (2^32 - 3) */
	RXE(5, 0x100000005, OK),	  /* A, Seql < Bl: Th + 1 (2^32 + 5) */
	TOP(0x100000005),
	RXE(0xfffffffe, 0xfffffffe, OK),  /* B, Seql >= Bl: Th - 1, late */
	RXE(0xfffffffd, 0xfffffffd, DUP),
	RXE(0, 0x100000000, OK),	  /* B, Seql < Bl: Th; low half 0 */
	RXE(0, 0x100000000, DUP),
	RXE(0xffffffc6, 0xffffffc6, OK),  /* B: Seql = Bl, W - 1 behind */
	CKE(0xffffffc5, 0x1ffffffc5, OK), /* B: Bl - 1 is taken as ahead */
	RXE(6, 0x100000006, OK),	  /* B, Seql > Tl: Th, ahead */
	TOP(0x100000006),
	CM(0x10000003e, OK),		  /* Tl = W - 2: still case B */
	CKE(0xffffffff, 0xffffffff, OK),  /* B: Seql = Bl, W - 1 behind */
	CKE(0xfffffffe, 0x1fffffffe, OK), /* B: Bl - 1: Th, ahead */
	CM(0x10000003f, OK),		  /* Tl = W - 1: case A, Bl = 0 */
	CKE(0, 0x100000000, DUP),	  /* A: Seql = Bl, seen */
	CKE(1, 0x100000001, OK),
	CKE(0xffffffff, 0x1ffffffff, OK), /* A, Seql >= Bl: Th, ahead */
	CM(0x100001000, OK),		  /* Bl = 0xfc1 */
	CKE(0xfc1, 0x100000fc1, OK),	  /* A: Seql = Bl, W - 1 behind */
	CKE(0xfc0, 0x200000fc0, OK),	  /* A: Seql < Bl: Th + 1 */
	CM(0xffffffff00001000, OK),	  /* the last epoch */
	CKE(0xfc0, 0, OLD),		  /* A: Th + 1 would wrap 2^64 */
	CKE(0x2000, 0xffffffff00002000, OK),

	/* ESN, W = 4096: the second wrap, 2^33 - 3 then 2^33 + 5 */
	NEW(4096),
	CM(0x1fffffffd, OK),
	RXE(5, 0x200000005, OK),
	RXE(0xfffff006, 0x1fffff006, OK), /* B: Seql = Bl, W - 1 behind */
	CKE(0xfffff005, 0x2fffff005, OK), /* B: Bl - 1: Th, ahead */
	RXE(0xfffffffd, 0x1fffffffd, DUP),
	RXE(0xfffffffe, 0x1fffffffe, OK),
	RXE(4, 0x200000004, OK),
	TOP(0x200000005),
};

static const char * const verdicts[] __initconst = {
	[NFSEC_REPLAY_OK] = "OK",
	[NFSEC_REPLAY_DUP] = "DUP",
	[NFSEC_REPLAY_OLD] = "OLD",
	[NFSEC_REPLAY_ZERO] = "ZERO",
};

struct ctx {
	unsigned int cases;
	unsigned int failed;
};

static const char *__init vname(enum nfsec_replay_verdict v)
{
	return (unsigned int)v < ARRAY_SIZE(verdicts) ? verdicts[v] : "?";
}

/* Counts one case; reports it if it failed. Returns @ok. */
static __printf(3, 4) bool __init expect(struct ctx *c, bool ok,
					  const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	c->cases++;
	if (ok)
		return true;
	c->failed++;
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_err("nfsec: selftest replay case %u failed: %pV\n", c->cases, &vaf);
	va_end(args);
	return false;
}

static bool __init renew(struct nfsec_replay **r, u32 window)
{
	nfsec_replay_put(*r);
	*r = nfsec_replay_alloc(window, GFP_KERNEL);
	if (!IS_ERR(*r))
		return true;
	*r = NULL;
	return false;
}

static void __init run_step(struct ctx *c, struct nfsec_replay **r,
			    const struct step *s)
{
	enum nfsec_replay_verdict v;
	u64 seq = 0;

	if (s->op == OP_NEW) {
		expect(c, renew(r, s->seq), "window %llu: no state", s->seq);
		return;
	}
	if (!*r) {
		expect(c, false, "no state to run on");
		return;
	}
	switch (s->op) {
	case OP_RX:
	case OP_CHECK:
		v = nfsec_replay_check(*r, s->lo, s->esn, &seq);
		if ((v == NFSEC_REPLAY_OK || v == NFSEC_REPLAY_DUP) &&
		    seq != (s->esn ? s->seq : s->lo)) {
			expect(c, false, "%s 0x%x: inferred 0x%llx, want 0x%llx",
			       s->esn ? "esn" : "seq", s->lo, seq,
			       s->esn ? s->seq : s->lo);
			return;
		}
		if (s->op == OP_RX && v == NFSEC_REPLAY_OK)
			v = nfsec_replay_commit(*r, seq);
		expect(c, v == s->want, "%s 0x%x (top 0x%llx): %s, want %s",
		       s->esn ? "esn" : "seq", s->lo, nfsec_replay_top(*r),
		       vname(v), vname(s->want));
		return;
	case OP_COMMIT:
		v = nfsec_replay_commit(*r, s->seq);
		expect(c, v == s->want, "commit 0x%llx: %s, want %s", s->seq,
		       vname(v), vname(s->want));
		return;
	case OP_TOP:
		expect(c, nfsec_replay_top(*r) == s->seq,
		       "top 0x%llx, want 0x%llx", nfsec_replay_top(*r), s->seq);
		return;
	}
	expect(c, false, "bad step %u", s->op);
}

/*
 * One packet, @seq, whose verdict must be @want: checked as a 32-bit number
 * when it is one, checked with ESN inference unless it is OLD (inference
 * puts what is left of the window ahead of it, RFC 4303 A2.2), then
 * committed.
 */
static bool __init rx(struct ctx *c, struct nfsec_replay *r, u32 w, u64 seq,
		      enum nfsec_replay_verdict want)
{
	enum nfsec_replay_verdict v;
	u64 got;

	cond_resched();
	if (seq <= U32_MAX) {
		v = nfsec_replay_check(r, seq, false, &got);
		if (!expect(c, v == want,
			    "W %u: seq 0x%llx (top 0x%llx): %s, want %s", w,
			    seq, nfsec_replay_top(r), vname(v), vname(want)))
			return false;
	}
	if (want != NFSEC_REPLAY_OLD) {
		v = nfsec_replay_check(r, lower_32_bits(seq), true, &got);
		if (!expect(c, v == want && got == seq,
			    "W %u: esn 0x%llx (top 0x%llx): %s as 0x%llx, want %s",
			    w, seq, nfsec_replay_top(r), vname(v), got,
			    vname(want)))
			return false;
	}
	v = nfsec_replay_commit(r, seq);
	return expect(c, v == want,
		      "W %u: commit 0x%llx (top 0x%llx): %s, want %s", w, seq,
		      nfsec_replay_top(r), vname(v), vname(want));
}

static u32 __init xorshift(u32 *state)
{
	u32 x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

/* The ring's size in bits for window @w, as replay.c sizes it. */
static u64 __init ring_bits(u32 w)
{
	return BITS_PER_LONG * (u64)roundup_pow_of_two(BITS_TO_LONGS(w) + 1);
}

/* In order from 1, then everything in the window again, then one older. */
static bool __init sweep_in_order(struct ctx *c, struct nfsec_replay *r,
				  u32 w)
{
	u64 s, top;

	for (s = 1; s <= 3 * w + 70; s++)
		if (!rx(c, r, w, s, NFSEC_REPLAY_OK))
			return false;
	top = s - 1;
	for (s = top - w + 1; s <= top; s++)
		if (!rx(c, r, w, s, NFSEC_REPLAY_DUP))
			return false;
	return rx(c, r, w, top - w, NFSEC_REPLAY_OLD);
}

/* The edge on a fresh window: W - 1 behind passes, W does not. */
static bool __init sweep_edge(struct ctx *c, struct nfsec_replay **r, u32 w)
{
	u64 top = 5ULL * w + 17;

	return expect(c, renew(r, w), "W %u: no state", w) &&
	       rx(c, *r, w, top, NFSEC_REPLAY_OK) &&
	       rx(c, *r, w, top - w, NFSEC_REPLAY_OLD) &&
	       (w == 1 || (rx(c, *r, w, top - (w - 1), NFSEC_REPLAY_OK) &&
			   rx(c, *r, w, top - (w - 1), NFSEC_REPLAY_DUP)));
}

/*
 * A permutation of base + 1 .. base + W, across the 32-bit boundary so
 * that ESN inference crosses it both ways: all pass, in any order. Leaves
 * the window full, its top in *@top.
 */
static bool __init sweep_permutation(struct ctx *c, struct nfsec_replay **r,
				     u32 w, u32 *perm, u64 *top)
{
	u64 base = U32_MAX - w / 2;
	u32 state = 0x9e3779b9 ^ w;
	u32 i;

	if (!expect(c, renew(r, w), "W %u: no state", w) ||
	    !expect(c, nfsec_replay_commit(*r, base) == NFSEC_REPLAY_OK,
		    "W %u: commit 0x%llx", w, base))
		return false;
	for (i = 0; i < w; i++)
		perm[i] = i + 1;
	for (i = w - 1; i > 0; i--) {
		u32 k = xorshift(&state) % (i + 1);

		swap(perm[i], perm[k]);
	}
	for (i = 0; i < w; i++)
		if (!rx(c, *r, w, base + perm[i], NFSEC_REPLAY_OK))
			return false;
	for (i = 0; i < w; i++)
		if (!rx(c, *r, w, base + perm[i], NFSEC_REPLAY_DUP))
			return false;
	*top = base + w;
	return rx(c, *r, w, base, NFSEC_REPLAY_OLD) &&
	       expect(c, nfsec_replay_top(*r) == *top,
		      "W %u: top 0x%llx, want 0x%llx", w, nfsec_replay_top(*r),
		      *top);
}

/*
 * On a full window: after each jump (committed directly: ESN inference
 * cannot place a jump of 2^31 or more), what stays in the window is still
 * seen and what the jump brought in is new: a bit left stale in the ring
 * would show as a DUP.
 */
static bool __init sweep_jumps(struct ctx *c, struct nfsec_replay *r, u32 w,
			       u64 top)
{
	const u64 ring = ring_bits(w);
	const u64 jumps[] = { 1, 2, w / 2 + 1, w - 1, w, w + 1, ring - w,
			      ring - 1, ring, ring + 1, 2 * ring + 3,
			      1ULL << 32, 1ULL << 40 };
	enum nfsec_replay_verdict v;
	u64 s, next;
	size_t j;

	for (j = 0; j < ARRAY_SIZE(jumps); j++) {
		if (!jumps[j])
			continue;
		next = top + jumps[j];
		v = nfsec_replay_commit(r, next);
		if (!expect(c, v == NFSEC_REPLAY_OK, "W %u: jump to 0x%llx: %s",
			    w, next, vname(v)))
			return false;
		for (s = next - w + 1; s <= next; s++)
			if (!rx(c, r, w, s, s <= top || s == next ?
				NFSEC_REPLAY_DUP : NFSEC_REPLAY_OK))
				return false;
		if (!rx(c, r, w, next - w, NFSEC_REPLAY_OLD))
			return false;
		top = next;
	}
	return true;
}

/*
 * For one window size: in order, duplicates, the edge, a random
 * permutation of a full window, then jumps ahead by lengths around the
 * window and the ring, each followed by the whole new window. Stops at the
 * first failure: one broken invariant would fail thousands of cases.
 */
static void __init sweep(struct ctx *c, u32 w, u32 *perm)
{
	struct nfsec_replay *r = NULL;
	u64 top;

	if (expect(c, renew(&r, w), "W %u: no state", w) &&
	    sweep_in_order(c, r, w) && sweep_edge(c, &r, w) &&
	    sweep_permutation(c, &r, w, perm, &top))
		sweep_jumps(c, r, w, top);
	nfsec_replay_put(r);
}

static const u32 windows[] __initconst = { 1, 32, 64, 128, 1000, 4095, 4096 };

bool __init nfsec_selftest(void)
{
	struct nfsec_replay *r = NULL;
	struct ctx c = {};
	u32 *perm;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(steps); i++)
		run_step(&c, &r, &steps[i]);
	nfsec_replay_put(r);

	perm = kmalloc_array(NFSEC_REPLAY_WINDOW_MAX, sizeof(*perm),
			     GFP_KERNEL);
	if (expect(&c, perm, "no memory for the permutation"))
		for (i = 0; i < ARRAY_SIZE(windows); i++)
			sweep(&c, windows[i], perm);
	kfree(perm);

	if (c.failed) {
		pr_err("nfsec: selftest FAILED\n");
		return false;
	}
	pr_info("nfsec: selftest replay: %u cases passed\n", c.cases);
	return true;
}
