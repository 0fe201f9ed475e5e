// SPDX-License-Identifier: GPL-2.0
/*
 * Hard limits on the state of a namespace: SA table entries, larval
 * entries, policies. Any user reaches the control plane of a namespace of
 * their own (unshare -Urn), so the limits are module parameters, which only
 * the host's root can set: a user namespace cannot raise them.
 *
 * The refusal says the limit ("too many SAs in this namespace (limit
 * 4)"), and an extack message must be static storage. So each value a
 * limit takes gets its message formatted once, in a struct that is never
 * freed before the module: a reader takes the current struct with one
 * acquire load and so sees a value and its message together, however
 * often host root rewrites the parameter.
 */

#include "nfsec.h"

#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/stringify.h>

struct limit_value {
	unsigned int max;		/* 0: no limit */
	struct limit_value *older;	/* freed at module exit */
	char msg[64];
};

struct limit {
	const char *what;		/* "SAs": the message's noun */
	struct limit_value *cur;
};

#define LIMIT_MSG(what, max) \
	"too many " what " in this namespace (limit " __stringify(max) ")"

static struct limit_value sa_default = {
	.max = NFSEC_SA_MAX_DEFAULT,
	.msg = LIMIT_MSG("SAs", NFSEC_SA_MAX_DEFAULT),
};

static struct limit_value larval_default = {
	.max = NFSEC_LARVAL_MAX_DEFAULT,
	.msg = LIMIT_MSG("larval SPIs", NFSEC_LARVAL_MAX_DEFAULT),
};

static struct limit_value policy_default = {
	.max = NFSEC_POLICY_MAX_DEFAULT,
	.msg = LIMIT_MSG("policies", NFSEC_POLICY_MAX_DEFAULT),
};

static struct limit sa_limit = { "SAs", &sa_default };
static struct limit larval_limit = { "larval SPIs", &larval_default };
static struct limit policy_limit = { "policies", &policy_default };

static struct limit *const limits[] = {
	[NFSEC_LIMIT_SA] = &sa_limit,
	[NFSEC_LIMIT_LARVAL] = &larval_limit,
	[NFSEC_LIMIT_POLICY] = &policy_limit,
};

/* Under kernel_param_lock (sysfs) or at load: one writer at a time. */
static int limit_set(const char *val, const struct kernel_param *kp)
{
	struct limit *l = kp->arg;
	struct limit_value *v;
	unsigned int max;
	int err;

	err = kstrtouint(val, 0, &max);
	if (err)
		return err;
	v = kzalloc(sizeof(*v), GFP_KERNEL);
	if (!v)
		return -ENOMEM;
	v->max = max;
	snprintf(v->msg, sizeof(v->msg),
		 "too many %s in this namespace (limit %u)", l->what, max);
	v->older = l->cur;
	/* max and msg before the pointer: a reader sees them together */
	smp_store_release(&l->cur, v);
	return 0;
}

static int limit_get(char *buf, const struct kernel_param *kp)
{
	const struct limit *l = kp->arg;

	/* pairs with limit_set()'s release */
	return sysfs_emit(buf, "%u\n", smp_load_acquire(&l->cur)->max);
}

/*
 * Every value the parameter took but the first (static), once its sysfs
 * file is gone: the module loader calls it after the module's exit, and
 * when a load fails after the parameters were parsed.
 */
static void limit_free(void *arg)
{
	struct limit *l = arg;
	struct limit_value *v, *older;

	for (v = l->cur; v->older; v = older) {
		older = v->older;
		kfree(v);
	}
	l->cur = v;
}

static const struct kernel_param_ops limit_ops = {
	.set = limit_set,
	.get = limit_get,
	.free = limit_free,
};

module_param_cb(sa_max, &limit_ops, &sa_limit, 0644);
MODULE_PARM_DESC(sa_max, "SA table entries (SAs and larval SPIs) per namespace, 0: no limit (default "
		 __stringify(NFSEC_SA_MAX_DEFAULT) ")");
module_param_cb(larval_max, &limit_ops, &larval_limit, 0644);
MODULE_PARM_DESC(larval_max, "larval SPIs (sa alloc-spi) per namespace, 0: no limit (default "
		 __stringify(NFSEC_LARVAL_MAX_DEFAULT) ")");
module_param_cb(policy_max, &limit_ops, &policy_limit, 0644);
MODULE_PARM_DESC(policy_max, "policies per namespace, 0: no limit (default "
		 __stringify(NFSEC_POLICY_MAX_DEFAULT) ")");

bool nfsec_limit_ok(enum nfsec_limit which, u32 count,
		    struct netlink_ext_ack *extack)
{
	/* pairs with limit_set()'s release: max and msg as they were set */
	const struct limit_value *v = smp_load_acquire(&limits[which]->cur);

	if (!v->max || count < v->max)
		return true;
	nfsec_extack_msg(extack, v->msg);
	return false;
}
