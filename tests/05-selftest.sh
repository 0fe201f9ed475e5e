#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module's own table-driven self-tests (anti-replay window, ESN
# inference), which run at load time in a DEBUG build (make
# selftest-module): the load fails if one fails.
. "$(dirname "$0")/lib.sh"
t_begin selftest

# (make check-debug passes its own DEBUG build, made for the debug kernel)
debug=${NFSEC_SELFTEST_MODULE:-$NFSEC_ROOT/.build-selftest/src/nfsec.ko}
if [ ! -f "$debug" ]; then
	skip "self-tests at load time" "no DEBUG build (make selftest-module)"
	t_end
fi
[ ! -d /sys/module/nfsec ] || module_unload
klines=$(dmesg | wc -l)
module_deps
check "DEBUG build loads (its self-tests pass)" insmod "$debug"
msg=$(dmesg | tail -n +"$((klines + 1))")
if [[ $msg =~ nfsec:\ selftest\ replay:\ ([0-9]+)\ cases\ passed ]]; then
	ok "selftest replay: ${BASH_REMATCH[1]} cases passed"
else
	not_ok "selftest replay reported its cases" "$msg"
fi
[[ $msg != *FAILED* ]] && ok "no self-test failed" || not_ok "no self-test failed" "$msg"
check "DEBUG build unloads" rmmod nfsec
t_end
