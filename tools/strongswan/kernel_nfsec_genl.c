// SPDX-License-Identifier: GPL-2.0
/*
 * kernel-nfsec: the generic netlink sockets to nfsec. Resolving the family
 * and its events group, requests with their acks and the kernel's extended
 * ack message, attribute tables. Nothing here knows charon.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "kernel_nfsec_genl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct nlmsghdr *nfsec_genl_msg(struct nfsec_genl *nl, void *buf, uint8_t cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = nl->family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	/* (the sequence number is nfsec_genl_request's to give) */
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = NFSEC_GENL_VERSION;
	return nlh;
}

struct attr_table {
	const struct nlattr **tb;
	unsigned int max;
};

static int put_attr(const struct nlattr *attr, void *data)
{
	struct attr_table *t = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type <= t->max)
		t->tb[type] = attr;
	return MNL_CB_OK;
}

void nfsec_genl_attrs(const struct nlmsghdr *nlh, const struct nlattr **tb,
		      unsigned int max)
{
	struct attr_table t = { tb, max };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), put_attr, &t);
}

void nfsec_genl_nest(const struct nlattr *nest, const struct nlattr **tb,
		     unsigned int max)
{
	struct attr_table t = { tb, max };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (nest)
		mnl_attr_parse_nested(nest, put_attr, &t);
}

/* The extended ack message of an error (the request is capped: only its
 * header follows struct nlmsgerr). */
static void extack_msg(const struct nlmsghdr *nlh, char *msg, size_t msg_len)
{
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	struct attr_table t = { tb, NLMSGERR_ATTR_MAX };
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	unsigned int off = sizeof(*err);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
	memset(tb, 0, sizeof(tb));
	mnl_attr_parse(nlh, off, put_attr, &t);
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(msg, msg_len, "%s", mnl_attr_get_str(tb[NLMSGERR_ATTR_MSG]));
}

static int genl_request(struct nfsec_genl *nl, struct nlmsghdr *req,
			mnl_cb_t cb, void *data, char *msg, size_t msg_len,
			uint8_t *buf, size_t buf_len)
{
	unsigned int portid = mnl_socket_get_portid(nl->sock);
	ssize_t len;

	if (msg)
		msg[0] = '\0';
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		struct nlmsghdr *nlh;
		int left;

		len = mnl_socket_recvfrom(nl->sock, buf, buf_len);
		if (len < 0)
			return -errno;
		left = len;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_seq != req->nlmsg_seq ||
			    nlh->nlmsg_pid != portid)
				continue;	/* a reply to an earlier request */
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

				if (err->error && msg)
					extack_msg(nlh, msg, msg_len);
				return err->error;
			}
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (cb && cb(nlh, data) < 0)
				return -EINVAL;
		}
	}
}

/*
 * Sends @req with the next sequence number and reads until its answer:
 * @cb for each reply message, 0 or the negative errno of its ACK (@msg:
 * the extended ack's text). What was received is wiped, as a reply may
 * carry keys. Callers serialise requests on one socket (the plugin's
 * mutex; nfsec_genl_open runs alone).
 */
int nfsec_genl_request(struct nfsec_genl *nl, struct nlmsghdr *req,
		       mnl_cb_t cb, void *data, char *msg, size_t msg_len)
{
	uint8_t buf[NFSEC_GENL_BUF * 2];
	int err;

	req->nlmsg_seq = ++nl->seq;
	err = genl_request(nl, req, cb, data, msg, msg_len, buf, sizeof(buf));
	explicit_bzero(buf, sizeof(buf));
	return err;
}

struct family_reply {
	uint16_t id;
	uint32_t group;
};

static int family_group(const struct nlattr *grp, struct family_reply *r)
{
	const struct nlattr *tb[CTRL_ATTR_MCAST_GRP_MAX + 1];

	nfsec_genl_nest(grp, tb, CTRL_ATTR_MCAST_GRP_MAX);
	if (tb[CTRL_ATTR_MCAST_GRP_NAME] && tb[CTRL_ATTR_MCAST_GRP_ID] &&
	    !strcmp(mnl_attr_get_str(tb[CTRL_ATTR_MCAST_GRP_NAME]),
		    NFSEC_MCGRP_EVENTS))
		r->group = mnl_attr_get_u32(tb[CTRL_ATTR_MCAST_GRP_ID]);
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1], *grp;
	struct family_reply *r = data;

	nfsec_genl_attrs(nlh, tb, CTRL_ATTR_MAX);
	if (tb[CTRL_ATTR_FAMILY_ID])
		r->id = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	if (tb[CTRL_ATTR_MCAST_GROUPS])
		mnl_attr_for_each_nested(grp, tb[CTRL_ATTR_MCAST_GROUPS])
			family_group(grp, r);
	return MNL_CB_OK;
}

int nfsec_genl_open(struct nfsec_genl *nl, bool events)
{
	uint8_t buf[NFSEC_GENL_BUF];
	struct family_reply r = {};
	struct nlmsghdr *nlh;
	int one = 1, ret;

	memset(nl, 0, sizeof(*nl));
	nl->seq = time(NULL);
	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock)
		return -errno;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto err;
	}
	setsockopt(mnl_socket_get_fd(nl->sock), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	/* (without it an error's ACK would echo a request, keys and all) */
	if (setsockopt(mnl_socket_get_fd(nl->sock), SOL_NETLINK,
		       NETLINK_CAP_ACK, &one, sizeof(one)) < 0) {
		ret = -errno;
		goto err;
	}

	/* Resolving the family autoloads the module. */
	nl->family = GENL_ID_CTRL;
	nlh = nfsec_genl_msg(nl, buf, CTRL_CMD_GETFAMILY);
	((struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, NFSEC_GENL_NAME);
	ret = nfsec_genl_request(nl, nlh, family_cb, &r, NULL, 0);
	if (ret)
		goto err;
	if (!r.id || (events && !r.group)) {
		ret = -ENOENT;
		goto err;
	}
	nl->family = r.id;
	nl->events = r.group;
	if (events) {
		int rcvbuf = 1 << 20;	/* a burst of acquires or expiries */

		if (mnl_socket_setsockopt(nl->sock, NETLINK_ADD_MEMBERSHIP,
					  &r.group, sizeof(r.group)) < 0) {
			ret = -errno;
			goto err;
		}
		if (setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET,
			       SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
			setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET,
				   SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	}
	return 0;
err:
	mnl_socket_close(nl->sock);
	nl->sock = NULL;
	return ret;
}

void nfsec_genl_close(struct nfsec_genl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}
