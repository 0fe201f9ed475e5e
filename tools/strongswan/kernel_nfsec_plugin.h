/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kernel-nfsec: a charon plugin that puts IPsec SAs and policies in nfsec.
 */
#ifndef KERNEL_NFSEC_PLUGIN_H_
#define KERNEL_NFSEC_PLUGIN_H_

#include <plugins/plugin.h>

typedef struct kernel_nfsec_plugin_t kernel_nfsec_plugin_t;

struct kernel_nfsec_plugin_t {
	plugin_t plugin;
};

#endif /* KERNEL_NFSEC_PLUGIN_H_ */
