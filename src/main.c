// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: module init and exit, and the per-namespace state.
 */

#include "nfsec.h"

#include <linux/module.h>
#include <linux/rtnetlink.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>

unsigned int nfsec_net_id __read_mostly;
struct workqueue_struct *nfsec_wq;

static int __net_init nfsec_net_init(struct net *net)
{
	struct nfsec_net *nn = nfsec_pernet(net);
	LIST_HEAD(kill);
	int err;

	nn->net = net;
	mutex_init(&nn->lock);
	spin_lock_init(&nn->acquire_lock);
	nfsec_lifetime_init(nn);
	nfsec_encap_net_init(nn);
	nn->sa_gen = 1;
	nn->policy_gen = 1;
	nn->counters = alloc_percpu_gfp(struct nfsec_pcpu_counters,
					GFP_KERNEL_ACCOUNT);
	if (!nn->counters)
		return -ENOMEM;
	err = nfsec_sad_init(nn);
	if (err)
		goto err_counters;
	err = nfsec_spd_init(nn);
	if (err)
		goto err_sad;
	err = nfsec_device_init(nn);
	if (err)
		goto err_spd;
	err = nfsec_input_init(net);
	if (err)
		goto err_device;
	err = nfsec_output_init(net);
	if (err)
		goto err_input;
	return 0;

err_input:
	nfsec_input_uninit(net);
err_device:
	rtnl_lock();
	nfsec_device_uninit(nn, &kill);
	unregister_netdevice_many(&kill);
	rtnl_unlock();
err_spd:
	nfsec_spd_uninit(nn);
err_sad:
	nfsec_sad_uninit(nn);
err_counters:
	free_percpu(nn->counters);
	return err;
}

static void __net_exit nfsec_net_exit(struct net *net)
{
	struct nfsec_net *nn = nfsec_pernet(net);

	/*
	 * No new packets, and none left in crypto (their completions use the
	 * namespace and nfsec0); then no lifetime work (it deletes SAs),
	 * no mapping or keepalive work (they use SAs), then no policies
	 * (they point at SAs), then no SAs.
	 */
	nfsec_output_uninit(net);
	nfsec_input_uninit(net);
	nfsec_inflight_wait(nn);
	nfsec_lifetime_uninit(nn);
	nfsec_encap_net_uninit(nn);
	nfsec_spd_uninit(nn);
	nfsec_sad_uninit(nn);
}

static void __net_exit nfsec_net_exit_batch(struct list_head *net_list)
{
	struct net *net;
	LIST_HEAD(kill);

	rtnl_lock();
	list_for_each_entry(net, net_list, exit_list)
		nfsec_device_uninit(nfsec_pernet(net), &kill);
	unregister_netdevice_many(&kill);
	rtnl_unlock();
	/* Counters last: packets in flight on nfsec0 may still count. */
	list_for_each_entry(net, net_list, exit_list)
		free_percpu(nfsec_pernet(net)->counters);
}

static struct pernet_operations nfsec_net_ops = {
	.init = nfsec_net_init,
	.exit = nfsec_net_exit,
	.exit_batch = nfsec_net_exit_batch,
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
	err = nfsec_spread_init();
	if (err)
		goto err_sa;
	err = register_pernet_device(&nfsec_net_ops);
	if (err)
		goto err_spread;
	/* Last: userspace must never see a half-made module. */
	err = nfsec_netlink_init();
	if (err)
		goto err_pernet;
	pr_info("nfsec: IPsec data path loaded\n");
	return 0;

err_pernet:
	unregister_pernet_device(&nfsec_net_ops);
err_spread:
	nfsec_spread_exit();
err_sa:
	nfsec_sa_module_uninit();
err_wq:
	destroy_workqueue(nfsec_wq);
	return err;
}

static void __exit nfsec_exit(void)
{
	nfsec_netlink_uninit();
	unregister_pernet_device(&nfsec_net_ops);
	nfsec_spread_exit();
	nfsec_req_exit();
	nfsec_output_module_exit();
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
