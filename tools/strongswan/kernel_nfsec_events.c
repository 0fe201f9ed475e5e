// SPDX-License-Identifier: GPL-2.0
/*
 * kernel-nfsec: nfsec's events to charon (the files: kernel_nfsec.h).
 * The events socket belongs to the group NFSEC_MCGRP_EVENTS; charon's
 * watcher thread reads it. SA and policy changes are the plugin's own
 * doing and are left alone; expiries, acquires and NAT mapping changes go
 * to charon->kernel, which queues jobs and returns.
 */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/genetlink.h>

#include "kernel_nfsec.h"

static void event_expire(const struct nlattr **tb)
{
	const struct nlattr *sa[NFSEC_SA_A_MAX + 1];
	uint8_t kind, proto;
	uint32_t spi;
	host_t *dst;
	int family;

	nfsec_genl_nest(tb[NFSEC_A_SA], sa, NFSEC_SA_A_MAX);
	if (!sa[NFSEC_SA_A_FAMILY] || !sa[NFSEC_SA_A_SPI] ||
	    !sa[NFSEC_SA_A_PROTO] || !sa[NFSEC_SA_A_EXPIRE])
		return;
	family = mnl_attr_get_u16(sa[NFSEC_SA_A_FAMILY]);
	dst = nfsec_get_host(family, sa[NFSEC_SA_A_DST], 0);
	if (!dst)
		return;
	spi = mnl_attr_get_u32(sa[NFSEC_SA_A_SPI]);
	proto = mnl_attr_get_u8(sa[NFSEC_SA_A_PROTO]);
	kind = mnl_attr_get_u8(sa[NFSEC_SA_A_EXPIRE]);
	/* out of sequence numbers: the SA sends no more, a rekey helps */
	DBG1(DBG_KNL, "kernel-nfsec: %s expire for SA with SPI %.8x",
	     kind == NFSEC_EXPIRE_HARD ? "hard" :
	     kind == NFSEC_EXPIRE_SOFT ? "soft" : "sequence", ntohl(spi));
	charon->kernel->expire(charon->kernel, proto, spi, dst,
			       kind == NFSEC_EXPIRE_HARD);
	dst->destroy(dst);
}

static traffic_selector_t *flow_ts(const struct nlattr **flow, uint16_t a,
				   uint16_t p, int family)
{
	uint16_t port = flow[p] ? mnl_attr_get_u16(flow[p]) : 0;
	uint8_t proto = flow[NFSEC_FLOW_A_PROTO] ?
			mnl_attr_get_u8(flow[NFSEC_FLOW_A_PROTO]) : 0;
	chunk_t addr = chunk_create(mnl_attr_get_payload(flow[a]),
				    mnl_attr_get_payload_len(flow[a]));

	return traffic_selector_create_from_bytes(proto,
			family == AF_INET ? TS_IPV4_ADDR_RANGE : TS_IPV6_ADDR_RANGE,
			addr, port ? port : 0, addr, port ? port : 0xffff);
}

static void event_acquire(const struct nlattr **tb)
{
	const struct nlattr *pol[NFSEC_POL_A_MAX + 1];
	const struct nlattr *flow[NFSEC_FLOW_A_MAX + 1];
	kernel_acquire_data_t data = {};
	uint32_t reqid;
	int family;

	nfsec_genl_nest(tb[NFSEC_A_POLICY], pol, NFSEC_POL_A_MAX);
	nfsec_genl_nest(tb[NFSEC_A_FLOW], flow, NFSEC_FLOW_A_MAX);
	if (!pol[NFSEC_POL_A_SA_REQID] || !flow[NFSEC_FLOW_A_FAMILY] ||
	    !flow[NFSEC_FLOW_A_SRC] || !flow[NFSEC_FLOW_A_DST])
		return;
	reqid = mnl_attr_get_u32(pol[NFSEC_POL_A_SA_REQID]);
	family = mnl_attr_get_u16(flow[NFSEC_FLOW_A_FAMILY]);
	data.src = flow_ts(flow, NFSEC_FLOW_A_SRC, NFSEC_FLOW_A_SPORT, family);
	data.dst = flow_ts(flow, NFSEC_FLOW_A_DST, NFSEC_FLOW_A_DPORT, family);
	DBG1(DBG_KNL, "kernel-nfsec: acquire for reqid %u, %R === %R", reqid,
	     data.src, data.dst);
	charon->kernel->acquire(charon->kernel, reqid, &data);
	DESTROY_IF(data.src);
	DESTROY_IF(data.dst);
}

static void event_mapping(const struct nlattr **tb)
{
	const struct nlattr *sa[NFSEC_SA_A_MAX + 1];
	const struct nlattr *map[NFSEC_MAP_A_MAX + 1];
	host_t *dst, *remote;
	uint32_t spi;
	int family;

	nfsec_genl_nest(tb[NFSEC_A_SA], sa, NFSEC_SA_A_MAX);
	nfsec_genl_nest(tb[NFSEC_A_MAPPING], map, NFSEC_MAP_A_MAX);
	if (!sa[NFSEC_SA_A_FAMILY] || !sa[NFSEC_SA_A_SPI] ||
	    !sa[NFSEC_SA_A_PROTO] || !map[NFSEC_MAP_A_NEW_PORT])
		return;
	family = mnl_attr_get_u16(sa[NFSEC_SA_A_FAMILY]);
	spi = mnl_attr_get_u32(sa[NFSEC_SA_A_SPI]);
	dst = nfsec_get_host(family, sa[NFSEC_SA_A_DST], 0);
	remote = nfsec_get_host(family, map[NFSEC_MAP_A_NEW_ADDR],
			  mnl_attr_get_u16(map[NFSEC_MAP_A_NEW_PORT]));
	if (dst && remote) {
		DBG1(DBG_KNL, "kernel-nfsec: NAT mapping of SA with SPI %.8x "
		     "changed to %#H", ntohl(spi), remote);
		charon->kernel->mapping(charon->kernel,
					mnl_attr_get_u8(sa[NFSEC_SA_A_PROTO]),
					spi, dst, remote);
	}
	DESTROY_IF(dst);
	DESTROY_IF(remote);
}

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[NFSEC_A_MAX + 1];

	nfsec_genl_attrs(nlh, tb, NFSEC_A_MAX);
	switch (genl->cmd) {
	case NFSEC_CMD_SA_EXPIRE:
		event_expire(tb);
		break;
	case NFSEC_CMD_ACQUIRE:
		event_acquire(tb);
		break;
	case NFSEC_CMD_MAPPING:
		event_mapping(tb);
		break;
	default:	/* SA and policy changes: our own doing */
		break;
	}
	return MNL_CB_OK;
}

bool kernel_nfsec_events_receive(void *data, int fd, watcher_event_t event)
{
	uint8_t buf[NFSEC_GENL_BUF * 2];
	ssize_t len;

	len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (len < 0) {
		if (errno == ENOBUFS)
			DBG1(DBG_KNL, "kernel-nfsec: events lost (socket buffer "
			     "full), consider a larger rmem_max");
		else if (errno != EAGAIN && errno != EINTR)
			DBG1(DBG_KNL, "kernel-nfsec: unable to read events: %s",
			     strerror(errno));
		return TRUE;
	}
	mnl_cb_run(buf, len, 0, 0, event_cb, data);
	return TRUE;
}
