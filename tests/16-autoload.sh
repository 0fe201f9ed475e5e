#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The tool loads the module on demand: with nfsec not loaded, the first
# `nfsec` command resolves the generic netlink family, the kernel asks
# modprobe for "net-pf-16-proto-16-family-nfsec" (the module's
# MODULE_ALIAS_GENL_FAMILY), and the command works.
#
# A full `make install` + depmod takes minutes under emulation, so modprobe
# learns where the module is from a modprobe.d file instead: the alias the
# kernel asks for is checked against the module's own (modinfo), and the
# install line loads the built module. The VM's root is an overlay: the
# file is gone when the VM stops.
. "$(dirname "$0")/lib.sh"
t_begin autoload

alias=net-pf-16-proto-16-family-nfsec
conf=/etc/modprobe.d/nfsec-test.conf
[ ! -d /sys/module/nfsec ] || module_unload
expect_eq "the module carries the genl family alias" "$alias" \
	"$(modinfo -F alias "$MODULE")"
check "tell modprobe where nfsec is" sh -c \
	"printf 'alias $alias nfsec\ninstall nfsec /sbin/modprobe nf_defrag_ipv6 && /sbin/insmod $MODULE\n' >$conf"
expect_eq "not loaded before" no "$([ -d /sys/module/nfsec ] && echo yes || echo no)"
expect_eq "nfsec sa list autoloads the module and answers []" "[]" \
	"$("$NFSEC" -j sa list 2>&1)"
expect_eq "loaded after" yes "$([ -d /sys/module/nfsec ] && echo yes || echo no)"
rm -f "$conf"
check "unload" rmmod nfsec
t_end
