// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: module init and exit, and the per-namespace state.
 */

#include "nfsec.h"

#include <linux/module.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>

unsigned int nfsec_net_id __read_mostly;
struct workqueue_struct *nfsec_wq;

static int __net_init nfsec_net_init(struct net *net)
{
	struct nfsec_net *nn = nfsec_pernet(net);
	int d, err;

	nn->net = net;
	mutex_init(&nn->lock);
	for (d = 0; d < NFSEC_DIRS; d++)
		INIT_LIST_HEAD(&nn->spd[d]);
	nn->counters = alloc_percpu_gfp(struct nfsec_pcpu_counters,
					GFP_KERNEL_ACCOUNT);
	if (!nn->counters)
		return -ENOMEM;
	err = nfsec_sad_init(nn);
	if (err)
		free_percpu(nn->counters);
	return err;
}

static void __net_exit nfsec_net_exit(struct net *net)
{
	struct nfsec_net *nn = nfsec_pernet(net);

	/* Policies first: they point at SAs. */
	mutex_lock(&nn->lock);
	nfsec_spd_flush(nn);
	mutex_unlock(&nn->lock);
	nfsec_sad_uninit(nn);
	free_percpu(nn->counters);
}

static struct pernet_operations nfsec_net_ops = {
	.init = nfsec_net_init,
	.exit = nfsec_net_exit,
	.id = &nfsec_net_id,
	.size = sizeof(struct nfsec_net),
};

static int __init nfsec_init(void)
{
	int err;

	if (!nfsec_selftest())
		return -ENOTRECOVERABLE;
	nfsec_wq = alloc_workqueue("nfsec", WQ_UNBOUND, 0);
	if (!nfsec_wq)
		return -ENOMEM;
	err = nfsec_sa_module_init();
	if (err)
		goto err_wq;
	err = register_pernet_subsys(&nfsec_net_ops);
	if (err)
		goto err_sa;
	/* Last: userspace must never see a half-made module. */
	err = nfsec_netlink_init();
	if (err)
		goto err_pernet;
	pr_info("nfsec: IPsec data path loaded\n");
	return 0;

err_pernet:
	unregister_pernet_subsys(&nfsec_net_ops);
err_sa:
	nfsec_sa_module_uninit();
err_wq:
	destroy_workqueue(nfsec_wq);
	return err;
}

static void __exit nfsec_exit(void)
{
	nfsec_netlink_uninit();
	unregister_pernet_subsys(&nfsec_net_ops);
	/* SA frees wait a grace period, then run on nfsec_wq: drain both. */
	rcu_barrier();
	destroy_workqueue(nfsec_wq);
	nfsec_sa_module_uninit();
}

module_init(nfsec_init);
module_exit(nfsec_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("nfsec: IPsec (ESP, AH) data path on netfilter");
MODULE_AUTHOR("nfsec developers");
MODULE_ALIAS_GENL_FAMILY(NFSEC_GENL_NAME);
