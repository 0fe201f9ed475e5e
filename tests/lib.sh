# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # variables are for the tests
#
# Helpers sourced by every test script (tests/NN-name.sh). Tests run as root
# from the project root, normally inside the VM (tests/vm/run tests/run_all),
# and print KTAP: one "ok N DESC" / "not ok N DESC" line per assertion, detail
# as "# ..." lines, the plan "1..N" at the end.
#
#   . "$(dirname "$0")/lib.sh"
#   t_begin autoload
#   check "load the module" module_load
#   expect_fail "reject a short key" "invalid key length" "$NFSEC" sa add ...
#   expect_eq "no SA" "[]" "$("$NFSEC" -j sa list)"
#   t_end
#
# The scenario tests (namespaces, links, traffic) source tests/lib_net.sh
# after this file and begin with its ns_enter instead of t_begin.
#
# check and expect_* return 0 when the assertion passed and 1 when it failed,
# so a script run with "set -e" stops at its first failure (the EXIT trap
# still prints the plan and removes the namespaces); add "|| true" to go on.
# ok, not_ok, skip and log always return 0.
#
# Environment: NFSEC_MODULE overrides the module path (for example a debug
# build); NFSEC_NS_SUFFIX sets the namespace name suffix (tests/run_all sets
# it per file so that it can remove what a killed test left behind).

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NFSEC_ROOT=$(cd "$TESTS_DIR/.." && pwd)
NFSEC=$NFSEC_ROOT/tools/nfsec/nfsec
MODULE=${NFSEC_MODULE:-$NFSEC_ROOT/src/nfsec.ko}
SPLAT_PATTERNS=$NFSEC_ROOT/tests/vm/splat.pat

T_NUM=0
T_PASS=0
T_FAIL=0
T_SKIP=0
T_ENDED=0
T_SUFFIX=${NFSEC_NS_SUFFIX:-nfst$$}
declare -A T_NS=()	# short name -> real name, removed by ns_cleanup
declare -A T_NS_OUTER=()	# the same for ns_enter's, removed by its outer run

# --- KTAP results -------------------------------------------------------------

log() {
	echo "# $*"
}

# Print text as "# " lines, at most 100 of them.
_detail() {
	local text=$1 n
	[ -n "$text" ] || return 0
	n=$(printf '%s\n' "$text" | wc -l)
	printf '%s\n' "$text" | head -n 100 | sed 's/^/# /' || true
	[ "$n" -le 100 ] || echo "# ... ($((n - 100)) more lines)"
}

ok() {
	T_NUM=$((T_NUM + 1))
	T_PASS=$((T_PASS + 1))
	echo "ok $T_NUM $1"
}

not_ok() {
	local desc=$1 d
	shift
	T_NUM=$((T_NUM + 1))
	T_FAIL=$((T_FAIL + 1))
	echo "not ok $T_NUM $desc"
	for d in "$@"; do
		_detail "$d"
	done
	return 0
}

skip() {
	T_NUM=$((T_NUM + 1))
	T_SKIP=$((T_SKIP + 1))
	echo "ok $T_NUM $1 # SKIP $2"
}

# check DESC CMD...: ok if CMD exits 0.
check() {
	local desc=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$desc"
		return 0
	fi
	not_ok "$desc" "\$ $* (exit $rc)" "$out"
	return 1
}

# expect_fail DESC PATTERN CMD...: ok if CMD fails and its output matches
# the extended regular expression PATTERN (case-insensitive).
expect_fail() {
	local desc=$1 pattern=$2 out rc=0 match=1 nocase=0
	shift 2
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		not_ok "$desc" "\$ $* (exit 0, expected a failure)" "$out"
		return 1
	fi
	# bash's own ERE, case-insensitive: no grep to start (slow in the VM)
	shopt -q nocasematch && nocase=1
	shopt -s nocasematch
	[[ $out =~ $pattern ]] && match=0
	[ "$nocase" = 1 ] || shopt -u nocasematch
	if [ "$match" -ne 0 ]; then
		not_ok "$desc" "\$ $* (exit $rc, output does not match /$pattern/)" "$out"
		return 1
	fi
	ok "$desc"
}

# expect_eq DESC EXPECTED ACTUAL
expect_eq() {
	if [ "$2" == "$3" ]; then
		ok "$1"
		return 0
	fi
	not_ok "$1" "expected: $2" "actual:   $3"
	return 1
}

# --- namespaces -------------------------------------------------------------

# ns_create NAME...: network namespaces with lo up, known by their short name.
ns_create() {
	local name real
	for name in "$@"; do
		real=$name-$T_SUFFIX
		ip netns add "$real" || return 1
		T_NS[$name]=$real
		ip -n "$real" link set lo up
	done
}

ns_name() {
	local real=${T_NS[$1]:-${T_NS_OUTER[$1]:-}}
	if [ -z "$real" ]; then
		echo "ns_name: no namespace '$1' (ns_create it first)" >&2
		return 1
	fi
	echo "$real"
}

# n NAME CMD...: run CMD (a program, not a shell function) in namespace NAME.
n() {
	local real
	real=$(ns_name "$1") || return 1
	shift
	ip netns exec "$real" "$@"
}

# Kill what still runs in a namespace, then delete it.
# shellcheck disable=SC2086 # $pids is a list
_ns_delete() {
	local real=$1 pids _
	pids=$(ip netns pids "$real" 2>/dev/null) || true
	if [ -n "$pids" ]; then
		kill $pids 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			pids=$(ip netns pids "$real" 2>/dev/null) || true
			[ -n "$pids" ] || break
			sleep 0.1
		done
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
	fi
	ip netns del "$real" 2>/dev/null || true
}

ns_cleanup() {
	local name
	for name in "${!T_NS[@]}"; do
		_ns_delete "${T_NS[$name]}"
		unset "T_NS[$name]"
	done
	return 0
}

# as_nobody_userns CMD...: CMD as uid 65534 without capabilities, root in
# a user and network namespace of its own (unshare -Urn): what any local
# user can reach.
as_nobody_userns() {
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		unshare -Urn "$@"
}

# --- module -------------------------------------------------------------------

# module_deps: what nfsec needs loaded first, which insmod (unlike
# modprobe) does not load: IPv6 reassembly before routing.
module_deps() {
	modprobe -q nf_defrag_ipv6
}

module_load() {
	[ -d /sys/module/nfsec ] && return 0
	module_deps && insmod "$MODULE"
}

module_unload() {
	[ -d /sys/module/nfsec ] || return 0
	rmmod nfsec
}

# --- waiting --------------------------------------------------------------------

# wait_for DESC TIMEOUT_S CMD...: run CMD every 0.1 s until it succeeds (return
# 0) or TIMEOUT_S seconds (may be fractional) have passed (log its last
# output and return 1). Prints no result line: wrap it in check for one.
wait_for() {
	local desc=$1 end out
	end=$((${EPOCHREALTIME//[!0-9]/} + $(awk -v t="$2" 'BEGIN { printf "%d", t * 1000000 }')))
	shift 2
	while ! "$@" >/dev/null 2>&1; do
		if [ "${EPOCHREALTIME//[!0-9]/}" -ge "$end" ]; then
			out=$("$@" 2>&1) || true
			log "timed out waiting for $desc"
			_detail "$out"
			return 1
		fi
		sleep 0.1
	done
}

# --- begin and end ------------------------------------------------------------

_t_exit() {
	local rc=$?
	set +e
	ns_cleanup
	[ "$T_ENDED" = 1 ] && return
	# The script stopped before t_end (set -e, exit, a signal): that is a
	# failure even if its status was 0.
	log "aborted with exit status $rc after $T_NUM results"
	echo "1..$T_NUM"
	[ "$rc" -ne 0 ] || exit 1
}

t_begin() {
	log "test: $1"
	trap _t_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# Print the plan; exit 0 if all passed, 1 on any failure, 4 if all skipped.
t_end() {
	T_ENDED=1
	echo "1..$T_NUM"
	ns_cleanup
	if [ "$T_FAIL" -gt 0 ]; then
		log "$T_FAIL of $T_NUM failed"
		exit 1
	fi
	if [ "$T_NUM" -eq 0 ]; then
		log "no results"
		exit 1
	fi
	[ "$T_SKIP" -lt "$T_NUM" ] || exit 4
	exit 0
}
