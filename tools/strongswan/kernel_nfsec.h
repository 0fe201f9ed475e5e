/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kernel-nfsec, charon's kernel_ipsec_t over nfsec's generic netlink: the
 * files and what each gives the others.
 *
 *   kernel_nfsec_plugin.c  the plugin: provides charon's "kernel-ipsec"
 *   kernel_nfsec_ipsec.c   kernel_ipsec_t itself: SPIs, SAs, requests
 *   kernel_nfsec_policy.c  policies (one nfsec policy for charon's several
 *                          installs of it), the IKE sockets' bypass
 *   kernel_nfsec_events.c  nfsec's events (expire, acquire, mapping) to
 *                          charon
 *   kernel_nfsec_genl.c    the generic netlink sockets
 *
 * Locking: one mutex (private_kernel_nfsec_ipsec_t.mutex) serialises the
 * request socket and the policy table; charon calls kernel_ipsec_t from
 * any of its threads. Events arrive on a second socket, read from
 * charon's watcher thread, which takes no lock of ours.
 */
#ifndef KERNEL_NFSEC_H_
#define KERNEL_NFSEC_H_

#include <daemon.h>
#include <threading/mutex.h>
#include <collections/linked_list.h>
#include <processing/watcher.h>

#include "kernel_nfsec_ipsec.h"
#include "kernel_nfsec_genl.h"

typedef struct private_kernel_nfsec_ipsec_t private_kernel_nfsec_ipsec_t;

struct private_kernel_nfsec_ipsec_t {
	kernel_nfsec_ipsec_t public;

	/* requests (under mutex) and events (the watcher's) */
	struct nfsec_genl nl;
	struct nfsec_genl events;
	mutex_t *mutex;

	/* policy_entry_t, under mutex */
	linked_list_t *policies;
	/* bypass_entry_t, the IKE sockets' bypass policies, under mutex */
	linked_list_t *bypass;

	uint32_t spi_min, spi_max;
};

typedef struct {
	int family;
	uint16_t port;
} bypass_entry_t;

/* kernel_nfsec_ipsec.c APIs: requests on the request socket (mutex held) */
int nfsec_request(private_kernel_nfsec_ipsec_t *this, struct nlmsghdr *nlh,
		  mnl_cb_t cb, void *data, char *msg, size_t len);
status_t nfsec_flush(private_kernel_nfsec_ipsec_t *this, uint8_t cmd);
/* the kernel's extended ack message, else the error's text */
const char *nfsec_err_text(int err, const char *msg);
void nfsec_put_host(struct nlmsghdr *nlh, uint16_t type, host_t *host);
host_t *nfsec_get_host(int family, const struct nlattr *attr, uint16_t port);

/* kernel_nfsec_policy.c APIs: the policy methods of kernel_ipsec_t */
void kernel_nfsec_policy_init(private_kernel_nfsec_ipsec_t *this);
/* removes the bypass policies while the request socket is open */
void kernel_nfsec_policy_uninit(private_kernel_nfsec_ipsec_t *this);

/* kernel_nfsec_events.c APIs: the watcher's callback (data: this) */
bool kernel_nfsec_events_receive(void *data, int fd, watcher_event_t event);

#endif /* KERNEL_NFSEC_H_ */
