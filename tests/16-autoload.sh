#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The tool loads the module on demand: with nfsec installed where modprobe
# finds it (as `make install` puts it) and not loaded, the first `nfsec`
# command resolves the generic netlink family, the kernel asks modprobe for
# "net-pf-16-proto-16-family-nfsec" (MODULE_ALIAS_GENL_FAMILY), and the
# command works. The VM's root is an overlay, so installing here is undone
# when the VM stops.
. "$(dirname "$0")/lib.sh"
t_begin autoload

dir=/lib/modules/$(uname -r)/updates
[ ! -d /sys/module/nfsec ] || module_unload
check "install the module for modprobe" \
	sh -c "mkdir -p $dir && cp '$MODULE' $dir/ && depmod -a"
expect_eq "modinfo finds the family alias" "net-pf-16-proto-16-family-nfsec" \
	"$(modinfo -F alias nfsec)"
expect_eq "not loaded before" no "$([ -d /sys/module/nfsec ] && echo yes || echo no)"
expect_eq "nfsec sa list autoloads the module and answers []" "[]" \
	"$("$NFSEC" -j sa list 2>&1)"
expect_eq "loaded after" yes "$([ -d /sys/module/nfsec ] && echo yes || echo no)"
check "unload" rmmod nfsec
rm -f "$dir/nfsec.ko"
depmod -a
t_end
