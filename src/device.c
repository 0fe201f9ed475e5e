// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec0: one receive-only network device per namespace. Decapsulated
 * packets enter the stack again as if received on it, so that
 *  - the stack routes or delivers them like any received packet,
 *  - nfsec's own input hooks tell them from cleartext that arrived as such
 *    (state->in is nfsec0: it was ESP, checked against its policy),
 *  - firewall rules can name them (-i nfsec0) and `ip -s link` counts them,
 *  - GRO merges them (gro_cells).
 * Nothing is ever sent through it: a packet routed into it is dropped.
 */

#include "nfsec.h"

#include <linux/if_arp.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <net/gro_cells.h>
#include <net/ip.h>

struct nfsec_dev {
	struct gro_cells cells;
};

static netdev_tx_t dev_xmit(struct sk_buff *skb, struct net_device *dev)
{
	dev->stats.tx_dropped++;
	kfree_skb(skb);
	return NETDEV_TX_OK;
}

static int dev_init(struct net_device *dev)
{
	struct nfsec_dev *nd = netdev_priv(dev);

	dev->tstats = netdev_alloc_pcpu_stats(struct pcpu_sw_netstats);
	if (!dev->tstats)
		return -ENOMEM;
	if (gro_cells_init(&nd->cells, dev)) {
		free_percpu(dev->tstats);
		return -ENOMEM;
	}
	return 0;
}

static void dev_uninit(struct net_device *dev)
{
	struct nfsec_dev *nd = netdev_priv(dev);

	gro_cells_destroy(&nd->cells);
	free_percpu(dev->tstats);
}

static const struct net_device_ops dev_ops = {
	.ndo_init = dev_init,
	.ndo_uninit = dev_uninit,
	.ndo_start_xmit = dev_xmit,
	.ndo_get_stats64 = dev_get_tstats64,
};

static void dev_setup(struct net_device *dev)
{
	dev->netdev_ops = &dev_ops;
	dev->type = ARPHRD_NONE;
	dev->flags = IFF_NOARP;
	dev->mtu = ETH_DATA_LEN;
	dev->min_mtu = 0;
	dev->max_mtu = IP_MAX_MTU;
	dev->features |= NETIF_F_NETNS_LOCAL | NETIF_F_LLTX;
	dev->needs_free_netdev = true;
	netif_keep_dst(dev);
}

/*
 * nfsec0 in every namespace, unless a device of that name was there first
 * (anyone can make one in a namespace of their own): then nfsec1, 2, ...
 */
int nfsec_device_init(struct nfsec_net *nn)
{
	struct net_device *dev;
	int err;

	dev = alloc_netdev(sizeof(struct nfsec_dev), "nfsec0", NET_NAME_USER,
			   dev_setup);
	if (!dev)
		return -ENOMEM;
	dev_net_set(dev, nn->net);
	rtnl_lock();
	err = register_netdevice(dev);
	if (err == -EEXIST) {
		err = dev_alloc_name(dev, "nfsec%d");
		if (err >= 0)
			err = register_netdevice(dev);
	}
	if (err) {
		rtnl_unlock();
		free_netdev(dev);
		return err;
	}
	err = dev_open(dev, NULL);
	if (err) {
		unregister_netdevice(dev);	/* frees it: needs_free_netdev */
		rtnl_unlock();
		return err;
	}
	rtnl_unlock();
	nn->dev = dev;
	return 0;
}

/* Queues nfsec0 on @kill; the caller holds RTNL. */
void nfsec_device_uninit(struct nfsec_net *nn, struct list_head *kill)
{
	ASSERT_RTNL();
	if (nn->dev)
		unregister_netdevice_queue(nn->dev, kill);
	nn->dev = NULL;
}

/* Hands a decapsulated packet, network header at skb->data, to the stack. */
void nfsec_device_receive(struct nfsec_net *nn, struct sk_buff *skb)
{
	struct net_device *dev = nn->dev;
	struct nfsec_dev *nd = netdev_priv(dev);
	unsigned int len = skb->len;

	skb->dev = dev;
	skb->pkt_type = PACKET_HOST;
	skb_reset_network_header(skb);
	skb_reset_mac_header(skb);
	skb_reset_transport_header(skb);
	/*
	 * GRO wants softirq context; synchronous crypto can bring us here
	 * from process context too (an NFQUEUE verdict re-injects there).
	 */
	local_bh_disable();
	if (gro_cells_receive(&nd->cells, skb) == NET_RX_SUCCESS)
		dev_sw_netstats_rx_add(dev, len);
	else
		dev->stats.rx_dropped++;
	local_bh_enable();
}
