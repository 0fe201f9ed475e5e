// SPDX-License-Identifier: GPL-2.0
/*
 * kernel-nfsec: the plugin. It provides charon's "kernel-ipsec" feature
 * (SAs, policies, their events) and nothing else: addresses and routes
 * (kernel-net) stay with kernel-netlink. Loaded ahead of kernel-netlink
 * (load = 10 in kernel-nfsec.conf), it registers first and takes
 * kernel-ipsec; kernel-netlink's registration of it then fails, harmlessly.
 */
#include <daemon.h>

#include "kernel_nfsec_plugin.h"
#include "kernel_nfsec_ipsec.h"

METHOD(plugin_t, get_name, char *,
	kernel_nfsec_plugin_t *this)
{
	return "kernel-nfsec";
}

METHOD(plugin_t, get_features, int,
	kernel_nfsec_plugin_t *this, plugin_feature_t *features[])
{
	static plugin_feature_t f[] = {
		PLUGIN_CALLBACK(kernel_ipsec_register, kernel_nfsec_ipsec_create),
			PLUGIN_PROVIDE(CUSTOM, "kernel-ipsec"),
	};

	*features = f;
	return countof(f);
}

METHOD(plugin_t, destroy, void,
	kernel_nfsec_plugin_t *this)
{
	free(this);
}

plugin_t *kernel_nfsec_plugin_create(void);

plugin_t *kernel_nfsec_plugin_create(void)
{
	kernel_nfsec_plugin_t *this;

	if (!lib->caps->check(lib->caps, CAP_NET_ADMIN)) {
		DBG1(DBG_KNL, "kernel-nfsec plugin requires CAP_NET_ADMIN");
		return NULL;
	}
	INIT(this,
		.plugin = {
			.get_name = _get_name,
			.get_features = _get_features,
			.destroy = _destroy,
		},
	);
	return &this->plugin;
}
