#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Smoke test of the test machine itself: the kernel matches the module, the
# module loads, namespaces and veth carry packets, and the kernel can load
# modules on its own (request_module runs /sbin/modprobe of the real root).
#
#   +---------------+            +---------------+
#   | ns a          |            | ns b          |
#   | veth0         |------------| veth1         |
#   | 10.99.0.1/24  |            | 10.99.0.2/24  |
#   +---------------+            +---------------+
set -e
. "$(dirname "$0")/lib.sh"
t_begin harness

built_for=$(modinfo -F vermagic "$MODULE" 2>&1 | cut -d' ' -f1)
expect_eq "kernel is the one the module was built for" "$built_for" "$(uname -r)"
check "module loads" module_load
check "/sys/module/nfsec exists" test -d /sys/module/nfsec

log "veth between two namespaces"
ns_create a b
ip link add veth0 netns "$(ns_name a)" type veth peer name veth1 netns "$(ns_name b)"
n a ip addr add 10.99.0.1/24 dev veth0
n b ip addr add 10.99.0.2/24 dev veth1
n a ip link set veth0 up
n b ip link set veth1 up
check "ping a -> b over veth" n a ping -c 1 -W 5 10.99.0.2

# An XFRM state needs xfrm_user (netlink family), esp4 (xfrm type) and the
# gcm template: the kernel asks /sbin/modprobe for each.
log "request_module"
[ ! -d /sys/module/esp4 ] || log "esp4 was already loaded"
check "XFRM state add (loads xfrm_user, esp4, gcm on demand)" \
	n a ip xfrm state add src 10.99.0.1 dst 10.99.0.2 proto esp spi 0x100 \
	mode transport aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128
# (the debug kernel of make check-debug has them built in)
builtin() {
	grep -q "/$1.ko$" "/lib/modules/$(uname -r)/modules.builtin" 2>/dev/null
}
for m in esp4 xfrm_user; do
	if builtin $m; then
		ok "$m is built in"
	else
		check "$m loaded by request_module" test -d /sys/module/$m
	fi
done
check "modprobe esp6" modprobe esp6
if builtin esp6; then
	ok "esp6 is built in"
else
	check "esp6 in lsmod" bash -c 'lsmod | grep -q "^esp6 "'
fi

t_end
