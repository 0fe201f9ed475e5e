// SPDX-License-Identifier: GPL-2.0
/*
 * kernel-nfsec: policies (the files: kernel_nfsec.h).
 *
 * charon installs the same policy several times: a CHILD_SA and its
 * rekeyed successor, a trap policy and the CHILD_SA it triggered, each
 * IN, OUT and FWD. nfsec keeps one policy per direction, selector and
 * priority; this file keeps, for each of those, the list of charon's
 * installs (users), newest first. The newest user is what nfsec has; the
 * nfsec policy goes when the last user does. Protect policies name their
 * SAs by reqid (charon keeps the reqid across rekeys), so a rekey changes
 * no policy: nfsec switches to the newest SA of the reqid by itself.
 * Priorities are kernel-netlink's, so that both order policies alike.
 *
 * And the IKE sockets: nfsec has no per-socket policies, so IKE passes by
 * port, ahead of every other policy.
 */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "kernel_nfsec.h"

/* Priorities: as kernel-netlink computes them (lower is tried first). */
#define PRIO_BASE		200000
/* The IKE bypass policies come before every other. */
#define PRIO_IKE_BYPASS		1

/* What one add_policy asked for. */
typedef struct {
	policy_type_t type;
	uint32_t reqid;
	ipsec_mode_t mode;
	uint8_t proto;		/* IPPROTO_ESP or IPPROTO_AH */
	host_t *src, *dst;	/* the SAs' addresses */
} policy_user_t;

/* One nfsec policy: a direction, a selector and a priority. */
typedef struct {
	policy_dir_t dir;
	traffic_selector_t *src_ts, *dst_ts;
	uint32_t priority;
	linked_list_t *users;	/* policy_user_t, newest first */
} policy_entry_t;

/* --- policies -------------------------------------------------------------- */

static void user_destroy(policy_user_t *user)
{
	user->src->destroy(user->src);
	user->dst->destroy(user->dst);
	free(user);
}

static void entry_destroy(policy_entry_t *entry)
{
	entry->src_ts->destroy(entry->src_ts);
	entry->dst_ts->destroy(entry->dst_ts);
	entry->users->destroy_function(entry->users, (void *)user_destroy);
	free(entry);
}

static bool user_equals(policy_user_t *a, policy_user_t *b)
{
	return a->type == b->type && a->reqid == b->reqid &&
	       a->mode == b->mode && a->proto == b->proto &&
	       a->src->ip_equals(a->src, b->src) &&
	       a->dst->ip_equals(a->dst, b->dst);
}

static uint8_t port_bits(uint16_t from, uint16_t to)
{
	return from == to ? 16 : 0;
}

/* kernel-netlink's priorities, so that both order policies alike. */
static uint32_t priority(kernel_ipsec_policy_id_t *id,
			 kernel_ipsec_manage_policy_t *data, uint8_t splen,
			 uint8_t dplen)
{
	traffic_selector_t *s = id->src_ts, *d = id->dst_ts;
	uint32_t prio = PRIO_BASE;

	if (data->manual_prio)
		return data->manual_prio;
	switch (data->prio) {
	case POLICY_PRIORITY_FALLBACK:
		prio += PRIO_BASE;
		/* fall through */
	case POLICY_PRIORITY_ROUTED:
	case POLICY_PRIORITY_DEFAULT:
		prio += PRIO_BASE;
		/* fall through */
	case POLICY_PRIORITY_PASS:
		break;
	}
	prio -= (splen + dplen) * 512;
	prio -= max(s->get_protocol(s), d->get_protocol(d)) ? 256 : 0;
	prio -= (port_bits(s->get_from_port(s), s->get_to_port(s)) +
		 port_bits(d->get_from_port(d), d->get_to_port(d))) * 4;
	prio -= data->prio != POLICY_PRIORITY_ROUTED;
	return prio;
}

static bool ts_port(traffic_selector_t *ts, uint16_t *port)
{
	uint16_t from = ts->get_from_port(ts), to = ts->get_to_port(ts);

	*port = from == to ? from : 0;
	return from == to || (from == 0 && to == 0xffff);
}

/* The selector of a policy request; FALSE (logged) if nfsec cannot. */
static bool put_selector(struct nlmsghdr *nlh, kernel_ipsec_policy_id_t *id,
			 uint8_t *splen, uint8_t *dplen)
{
	traffic_selector_t *s = id->src_ts, *d = id->dst_ts;
	uint8_t proto = max(s->get_protocol(s), d->get_protocol(d));
	uint16_t sport, dport;
	host_t *net;
	uint8_t dir;

	if (!ts_port(s, &sport) || !ts_port(d, &dport)) {
		DBG1(DBG_KNL, "kernel-nfsec: policy %R === %R refused: nfsec "
		     "takes one port or any, not port ranges", s, d);
		return FALSE;
	}
	if ((sport || dport) && proto != IPPROTO_TCP && proto != IPPROTO_UDP &&
	    proto != IPPROTO_SCTP && proto != IPPROTO_UDPLITE) {
		DBG1(DBG_KNL, "kernel-nfsec: policy %R === %R refused: nfsec "
		     "takes ports only with TCP, UDP, SCTP and UDP-Lite", s, d);
		return FALSE;
	}
	dir = id->dir == POLICY_IN ? NFSEC_DIR_IN :
	      id->dir == POLICY_OUT ? NFSEC_DIR_OUT : NFSEC_DIR_FWD;
	mnl_attr_put_u8(nlh, NFSEC_POL_A_DIR, dir);
	mnl_attr_put_u16(nlh, NFSEC_POL_A_FAMILY,
			 s->get_type(s) == TS_IPV4_ADDR_RANGE ? AF_INET : AF_INET6);
	s->to_subnet(s, &net, splen);
	nfsec_put_host(nlh, NFSEC_POL_A_SRC, net);
	net->destroy(net);
	mnl_attr_put_u8(nlh, NFSEC_POL_A_SRC_PLEN, *splen);
	d->to_subnet(d, &net, dplen);
	nfsec_put_host(nlh, NFSEC_POL_A_DST, net);
	net->destroy(net);
	mnl_attr_put_u8(nlh, NFSEC_POL_A_DST_PLEN, *dplen);
	if (proto)
		mnl_attr_put_u8(nlh, NFSEC_POL_A_PROTO, proto);
	if (sport)
		mnl_attr_put_u16(nlh, NFSEC_POL_A_SPORT, sport);
	if (dport)
		mnl_attr_put_u16(nlh, NFSEC_POL_A_DPORT, dport);
	return TRUE;
}

static void put_action(struct nlmsghdr *nlh, policy_user_t *user)
{
	switch (user->type) {
	case POLICY_PASS:
		mnl_attr_put_u8(nlh, NFSEC_POL_A_ACTION, NFSEC_ACTION_BYPASS);
		return;
	case POLICY_DROP:
		mnl_attr_put_u8(nlh, NFSEC_POL_A_ACTION, NFSEC_ACTION_DISCARD);
		return;
	case POLICY_IPSEC:
		break;
	}
	mnl_attr_put_u8(nlh, NFSEC_POL_A_ACTION, NFSEC_ACTION_PROTECT);
	mnl_attr_put_u32(nlh, NFSEC_POL_A_SA_REQID, user->reqid);
	mnl_attr_put_u8(nlh, NFSEC_POL_A_SA_PROTO, user->proto);
	mnl_attr_put_u8(nlh, NFSEC_POL_A_SA_MODE, user->mode == MODE_TUNNEL ?
			NFSEC_MODE_TUNNEL : NFSEC_MODE_TRANSPORT);
	mnl_attr_put_u16(nlh, NFSEC_POL_A_SA_FAMILY,
			 user->dst->get_family(user->dst));
	nfsec_put_host(nlh, NFSEC_POL_A_SA_DST, user->dst);
	nfsec_put_host(nlh, NFSEC_POL_A_SA_SRC, user->src);
}

/* POLICY_ADD, _UPDATE (with USER) or _DEL (without) for an entry. */
static int policy_request(private_kernel_nfsec_ipsec_t *this, uint8_t cmd,
			  kernel_ipsec_policy_id_t *id, uint32_t prio,
			  policy_user_t *user)
{
	uint8_t buf[NFSEC_GENL_BUF];
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	uint8_t splen, dplen;
	char msg[256];
	int err;

	nlh = nfsec_genl_msg(&this->nl, buf, cmd);
	nest = mnl_attr_nest_start(nlh, NFSEC_A_POLICY);
	if (!put_selector(nlh, id, &splen, &dplen))
		return -EOPNOTSUPP;
	mnl_attr_put_u32(nlh, NFSEC_POL_A_PRIORITY, prio);
	if (user)
		put_action(nlh, user);
	mnl_attr_nest_end(nlh, nest);
	err = nfsec_request(this, nlh, NULL, NULL, msg, sizeof(msg));
	if (err)
		DBG1(DBG_KNL, "kernel-nfsec: unable to %s policy %R === %R %N: %s",
		     cmd == NFSEC_CMD_POLICY_DEL ? "delete" :
		     cmd == NFSEC_CMD_POLICY_ADD ? "add" : "update",
		     id->src_ts, id->dst_ts, policy_dir_names, id->dir,
		     nfsec_err_text(err, msg));
	return err;
}

static bool policy_supported(kernel_ipsec_policy_id_t *id,
			     kernel_ipsec_manage_policy_t *data)
{
	const char *what = NULL;

	if (id->mark.value || id->mark.mask)
		what = "marks";
	else if (id->if_id)
		what = "interface IDs (XFRM interfaces)";
	else if (id->interface)
		what = "policies bound to an interface";
	else if (id->label)
		what = "security labels";
	else if (data->type == POLICY_IPSEC && data->sa->ipcomp.transform)
		what = "IPComp";
	else if (data->type == POLICY_IPSEC && data->sa->esp.use &&
		 data->sa->ah.use)
		what = "AH and ESP bundles";
	else if (data->type == POLICY_IPSEC && data->sa->mode != MODE_TUNNEL &&
		 data->sa->mode != MODE_TRANSPORT)
		what = "modes other than tunnel and transport";
	if (what)
		DBG1(DBG_KNL, "kernel-nfsec: policy %R === %R %N refused: nfsec "
		     "does not support %s", id->src_ts, id->dst_ts,
		     policy_dir_names, id->dir, what);
	return !what;
}

static bool entry_match(policy_entry_t *entry, kernel_ipsec_policy_id_t *id,
			uint32_t prio)
{
	return entry->dir == id->dir && entry->priority == prio &&
	       entry->src_ts->equals(entry->src_ts, id->src_ts) &&
	       entry->dst_ts->equals(entry->dst_ts, id->dst_ts);
}

static policy_entry_t *entry_find(private_kernel_nfsec_ipsec_t *this,
				  kernel_ipsec_policy_id_t *id, uint32_t prio)
{
	enumerator_t *e;
	policy_entry_t *entry, *found = NULL;

	e = this->policies->create_enumerator(this->policies);
	while (e->enumerate(e, &entry)) {
		if (entry_match(entry, id, prio)) {
			found = entry;
			break;
		}
	}
	e->destroy(e);
	return found;
}

static uint32_t id_priority(kernel_ipsec_policy_id_t *id,
			    kernel_ipsec_manage_policy_t *data)
{
	host_t *net;
	uint8_t splen, dplen;

	id->src_ts->to_subnet(id->src_ts, &net, &splen);
	net->destroy(net);
	id->dst_ts->to_subnet(id->dst_ts, &net, &dplen);
	net->destroy(net);
	return priority(id, data, splen, dplen);
}

METHOD(kernel_ipsec_t, add_policy, status_t,
	private_kernel_nfsec_ipsec_t *this, kernel_ipsec_policy_id_t *id,
	kernel_ipsec_manage_policy_t *data)
{
	policy_entry_t *entry;
	policy_user_t *user, *top;
	uint32_t prio;
	int err = 0, users = 0;

	if (!policy_supported(id, data))
		return NOT_SUPPORTED;
	prio = id_priority(id, data);
	INIT(user,
		.type = data->type,
		.reqid = data->sa->reqid,
		.mode = data->sa->mode,
		.proto = data->sa->ah.use ? IPPROTO_AH : IPPROTO_ESP,
		.src = data->src->clone(data->src),
		.dst = data->dst->clone(data->dst),
	);

	this->mutex->lock(this->mutex);
	entry = entry_find(this, id, prio);
	if (!entry) {
		err = policy_request(this, NFSEC_CMD_POLICY_ADD, id, prio, user);
		if (!err) {
			INIT(entry,
				.dir = id->dir,
				.src_ts = id->src_ts->clone(id->src_ts),
				.dst_ts = id->dst_ts->clone(id->dst_ts),
				.priority = prio,
				.users = linked_list_create(),
			);
			this->policies->insert_last(this->policies, entry);
		}
	} else if (entry->users->get_first(entry->users, (void **)&top) ==
		   SUCCESS && !user_equals(top, user)) {
		err = policy_request(this, NFSEC_CMD_POLICY_UPDATE, id, prio,
				     user);
	}
	if (!err) {
		entry->users->insert_first(entry->users, user);
		users = entry->users->get_count(entry->users);
	}
	this->mutex->unlock(this->mutex);
	if (err) {
		user_destroy(user);
		return FAILED;
	}
	DBG2(DBG_KNL, "kernel-nfsec: policy %R === %R %N reqid %u priority %u, "
	     "%d users", id->src_ts, id->dst_ts, policy_dir_names, id->dir,
	     data->sa->reqid, prio, users);
	return SUCCESS;
}

METHOD(kernel_ipsec_t, query_policy, status_t,
	private_kernel_nfsec_ipsec_t *this, kernel_ipsec_policy_id_t *id,
	kernel_ipsec_query_policy_t *data, time_t *use_time)
{
	/* nfsec keeps no last-use time per policy: charon then asks the SAs */
	return NOT_SUPPORTED;
}

METHOD(kernel_ipsec_t, del_policy, status_t,
	private_kernel_nfsec_ipsec_t *this, kernel_ipsec_policy_id_t *id,
	kernel_ipsec_manage_policy_t *data)
{
	policy_user_t want = {
		.type = data->type,
		.reqid = data->sa->reqid,
		.mode = data->sa->mode,
		.proto = data->sa->ah.use ? IPPROTO_AH : IPPROTO_ESP,
		.src = data->src,
		.dst = data->dst,
	};
	policy_entry_t *entry;
	policy_user_t *user, *top;
	enumerator_t *e;
	bool was_top = TRUE, found = FALSE;
	uint32_t prio;
	int err = 0;

	if (!policy_supported(id, data))
		return NOT_SUPPORTED;
	prio = id_priority(id, data);
	this->mutex->lock(this->mutex);
	entry = entry_find(this, id, prio);
	if (!entry) {
		this->mutex->unlock(this->mutex);
		DBG1(DBG_KNL, "kernel-nfsec: policy %R === %R %N not found",
		     id->src_ts, id->dst_ts, policy_dir_names, id->dir);
		return NOT_FOUND;
	}
	e = entry->users->create_enumerator(entry->users);
	while (e->enumerate(e, &user)) {
		if (user_equals(user, &want)) {
			entry->users->remove_at(entry->users, e);
			user_destroy(user);
			found = TRUE;
			break;
		}
		was_top = FALSE;
	}
	e->destroy(e);
	if (!found) {
		/* not one of ours: drop the oldest, as charon wants one less */
		entry->users->remove_last(entry->users, (void **)&user);
		user_destroy(user);
		was_top = entry->users->get_count(entry->users) == 0;
	}
	if (entry->users->get_count(entry->users) == 0) {
		err = policy_request(this, NFSEC_CMD_POLICY_DEL, id, prio, NULL);
		this->policies->remove(this->policies, entry, NULL);
		entry_destroy(entry);
	} else if (was_top &&
		   entry->users->get_first(entry->users, (void **)&top) ==
		   SUCCESS && !user_equals(top, &want)) {
		err = policy_request(this, NFSEC_CMD_POLICY_UPDATE, id, prio,
				     top);
	}
	this->mutex->unlock(this->mutex);
	return err && err != -ENOENT ? FAILED : SUCCESS;
}

static int bypass_request(private_kernel_nfsec_ipsec_t *this, uint8_t cmd,
			  int family, uint16_t port, uint8_t dir);

/* Every policy goes but the IKE sockets' bypass, which is put back. */
METHOD(kernel_ipsec_t, flush_policies, status_t,
	private_kernel_nfsec_ipsec_t *this)
{
	enumerator_t *e;
	bypass_entry_t *b;
	status_t status;

	this->mutex->lock(this->mutex);
	status = nfsec_flush(this, NFSEC_CMD_POLICY_FLUSH);
	this->policies->destroy_function(this->policies, (void *)entry_destroy);
	this->policies = linked_list_create();
	e = this->bypass->create_enumerator(this->bypass);
	while (e->enumerate(e, &b)) {
		bypass_request(this, NFSEC_CMD_POLICY_ADD, b->family, b->port,
			       NFSEC_DIR_OUT);
		bypass_request(this, NFSEC_CMD_POLICY_ADD, b->family, b->port,
			       NFSEC_DIR_IN);
	}
	e->destroy(e);
	this->mutex->unlock(this->mutex);
	return status;
}

/* --- IKE sockets --------------------------------------------------------- */

/*
 * nfsec has no per-socket policies: IKE passes by port. Outbound from our
 * port, inbound to it, before every other policy (see Documentation/
 * netlink.md, "Bypass for the key-exchange daemon").
 */
static int bypass_request(private_kernel_nfsec_ipsec_t *this, uint8_t cmd,
			  int family, uint16_t port, uint8_t dir)
{
	uint8_t buf[NFSEC_GENL_BUF], any[16] = {};
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	char msg[256];
	int err;

	nlh = nfsec_genl_msg(&this->nl, buf, cmd);
	nest = mnl_attr_nest_start(nlh, NFSEC_A_POLICY);
	mnl_attr_put_u8(nlh, NFSEC_POL_A_DIR, dir);
	mnl_attr_put_u16(nlh, NFSEC_POL_A_FAMILY, family);
	mnl_attr_put(nlh, NFSEC_POL_A_SRC, family == AF_INET ? 4 : 16, any);
	mnl_attr_put_u8(nlh, NFSEC_POL_A_SRC_PLEN, 0);
	mnl_attr_put(nlh, NFSEC_POL_A_DST, family == AF_INET ? 4 : 16, any);
	mnl_attr_put_u8(nlh, NFSEC_POL_A_DST_PLEN, 0);
	mnl_attr_put_u8(nlh, NFSEC_POL_A_PROTO, IPPROTO_UDP);
	mnl_attr_put_u16(nlh, dir == NFSEC_DIR_OUT ? NFSEC_POL_A_SPORT :
			 NFSEC_POL_A_DPORT, port);
	mnl_attr_put_u32(nlh, NFSEC_POL_A_PRIORITY, PRIO_IKE_BYPASS);
	if (cmd == NFSEC_CMD_POLICY_ADD)
		mnl_attr_put_u8(nlh, NFSEC_POL_A_ACTION, NFSEC_ACTION_BYPASS);
	mnl_attr_nest_end(nlh, nest);
	err = nfsec_request(this, nlh, NULL, NULL, msg, sizeof(msg));
	if (err == -EEXIST)
		err = 0;
	if (err)
		DBG1(DBG_KNL, "kernel-nfsec: unable to %s the bypass policy for "
		     "UDP port %u: %s", cmd == NFSEC_CMD_POLICY_ADD ? "add" :
		     "delete", port, nfsec_err_text(err, msg));
	return err;
}

METHOD(kernel_ipsec_t, bypass_socket, bool,
	private_kernel_nfsec_ipsec_t *this, int fd, int family)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	bypass_entry_t *b;
	uint16_t port;
	int err;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		DBG1(DBG_KNL, "kernel-nfsec: unable to read the IKE socket's "
		     "port: %s", strerror(errno));
		return FALSE;
	}
	port = ntohs(family == AF_INET ?
		     ((struct sockaddr_in *)&ss)->sin_port :
		     ((struct sockaddr_in6 *)&ss)->sin6_port);
	this->mutex->lock(this->mutex);
	err = bypass_request(this, NFSEC_CMD_POLICY_ADD, family, port,
			     NFSEC_DIR_OUT);
	if (!err)
		err = bypass_request(this, NFSEC_CMD_POLICY_ADD, family, port,
				     NFSEC_DIR_IN);
	if (!err) {
		INIT(b, .family = family, .port = port);
		this->bypass->insert_last(this->bypass, b);
	}
	this->mutex->unlock(this->mutex);
	if (!err)
		DBG2(DBG_KNL, "kernel-nfsec: IKE on UDP port %u (%s) bypasses "
		     "IPsec", port, family == AF_INET ? "IPv4" : "IPv6");
	return !err;
}

METHOD(kernel_ipsec_t, enable_udp_decap, bool,
	private_kernel_nfsec_ipsec_t *this, int fd, int family, uint16_t port)
{
	/*
	 * nfsec takes ESP in UDP for the port of each inbound ENCAP SA ahead
	 * of the socket, which keeps receiving IKE (non-ESP marker): the
	 * socket needs no UDP_ENCAP option.
	 */
	DBG2(DBG_KNL, "kernel-nfsec: ESP in UDP on port %u is nfsec's", port);
	return TRUE;
}

void kernel_nfsec_policy_init(private_kernel_nfsec_ipsec_t *this)
{
	kernel_ipsec_t *i = &this->public.interface;

	i->add_policy = _add_policy;
	i->query_policy = _query_policy;
	i->del_policy = _del_policy;
	i->flush_policies = _flush_policies;
	i->bypass_socket = _bypass_socket;
	i->enable_udp_decap = _enable_udp_decap;
	this->policies = linked_list_create();
	this->bypass = linked_list_create();
}

void kernel_nfsec_policy_uninit(private_kernel_nfsec_ipsec_t *this)
{
	bypass_entry_t *b;

	while (this->bypass->remove_first(this->bypass, (void **)&b) ==
	       SUCCESS) {
		if (this->nl.sock) {
			bypass_request(this, NFSEC_CMD_POLICY_DEL, b->family,
				       b->port, NFSEC_DIR_OUT);
			bypass_request(this, NFSEC_CMD_POLICY_DEL, b->family,
				       b->port, NFSEC_DIR_IN);
		}
		free(b);
	}
	this->bypass->destroy(this->bypass);
	this->policies->destroy_function(this->policies, (void *)entry_destroy);
}
