/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kernel-nfsec: charon's kernel_ipsec_t implemented over nfsec.
 */
#ifndef KERNEL_NFSEC_IPSEC_H_
#define KERNEL_NFSEC_IPSEC_H_

#include <kernel/kernel_ipsec.h>

typedef struct kernel_nfsec_ipsec_t kernel_nfsec_ipsec_t;

struct kernel_nfsec_ipsec_t {
	kernel_ipsec_t interface;
};

/* NULL if the nfsec module cannot be reached (logged). */
kernel_nfsec_ipsec_t *kernel_nfsec_ipsec_create(void);

#endif /* KERNEL_NFSEC_IPSEC_H_ */
