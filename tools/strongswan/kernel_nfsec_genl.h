/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kernel-nfsec: generic netlink to the nfsec module (kernel_nfsec_genl.c).
 */
#ifndef KERNEL_NFSEC_GENL_H_
#define KERNEL_NFSEC_GENL_H_

#include <stdbool.h>
#include <stdint.h>
#include <libmnl/libmnl.h>
#include <linux/nfsec.h>

/* Big enough for any request or reply of nfsec (an SA with its keys). */
#define NFSEC_GENL_BUF	8192

struct nfsec_genl {
	struct mnl_socket *sock;
	uint16_t family;	/* generic netlink family id of "nfsec" */
	uint32_t events;	/* multicast group id of "events" */
	uint32_t seq;
};

/* Open a socket and resolve the family; join the events group if asked. */
int nfsec_genl_open(struct nfsec_genl *nl, bool events);
void nfsec_genl_close(struct nfsec_genl *nl);

/* Start a request for CMD in BUF (NFSEC_GENL_BUF bytes). */
struct nlmsghdr *nfsec_genl_msg(struct nfsec_genl *nl, void *buf, uint8_t cmd);

/*
 * Send the request and read until its ack: each reply message goes to CB
 * (may be NULL). Returns 0 or a negative errno; the kernel's extended ack
 * message, if any, goes to MSG (at least 128 bytes), else MSG is "".
 * Not thread-safe: the caller serialises requests on one socket.
 */
int nfsec_genl_request(struct nfsec_genl *nl, struct nlmsghdr *req,
		       mnl_cb_t cb, void *data, char *msg, size_t msg_len);

/* The attributes of a reply or event, by type, (top level and nests). */
void nfsec_genl_attrs(const struct nlmsghdr *nlh, const struct nlattr **tb,
		      unsigned int max);
void nfsec_genl_nest(const struct nlattr *nest, const struct nlattr **tb,
		     unsigned int max);

#endif /* KERNEL_NFSEC_GENL_H_ */
