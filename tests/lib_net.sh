# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # variables are for the tests
#
# The library of the scenario tests (the scripts with namespaces), sourced
# after lib.sh: namespaces entered and reached, JSON, nfsec's state and
# counters, links, captures and traffic.
#
# Under TCG every program start is dear: the nfsec tool about 0.2 s,
# grep/sed/awk about 0.5 s, `ip netns exec` about 0.6 s, python3 1-2 s. So
# a scenario
#  - runs its body inside its main namespace (ns_enter), where a command is
#    a plain command, and runs commands in each other namespace through one
#    shell started there (on NS CMD..., nf NS ARGS...);
#  - evaluates JSON with jq_py, served by ONE python3 for the whole script
#    (sa_stats, ns_stats and the other readers of nfsec's state use it);
#  - sets up links and addresses with `ip -n NS` (no exec), SAs and
#    policies with one `nfsec -b -` per namespace;
#  - compares and matches text with bash itself ([[ ]], read, printf -v).
#
#   . "${0%/*}/lib.sh"
#   . "${0%/*}/lib_net.sh"
#   ns_enter transport a b
#   # from here on: t_begin done, the module loaded, namespaces a and b
#   # exist, this shell runs in a, a shell in b serves `on b`
#   link a veth0 10.0.0.1/24 b veth1 10.0.0.2/24
#   check "a: SAs and policies" esp_pair a transport 0x1001 0x1002 \
#           "$KEY1" "$KEY2" 10.0.0.1 10.0.0.2
#   check "b: SAs and policies" esp_pair b transport 0x1002 0x1001 \
#           "$KEY2" "$KEY1" 10.0.0.2 10.0.0.1
#   check "ping b -> a" on b ping -c 1 10.0.0.1
#   expect_eq "a: SA 0x1002" "bytes=84 packets=1" "$(sa_stats a 0x1002)"
#   expect_eq "b: no drops" "" "$(ns_stats b)"
#   expect_eq "a: 2 SAs" 2 "$(nf a -j sa list | jq_py 'len(d)')"
#   cap_start b veth1 "$TMP/x.pcap"; ...; cap_stop "$TMP/x.pcap"
#   expect_eq "no cleartext" 0 "$(cap_count "$TMP/x.pcap" 'ip and not esp')"

# aes-gcm-128 keys: 16 bytes of key and 4 of salt, one per direction.
KEY1=0x0102030405060708090a0b0c0d0e0f1011121314
KEY2=0x2122232425262728292a2b2c2d2e2f3031323334
KEY3=0x4142434445464748494a4b4c4d4e4f5051525354
KEY4=0x6162636465666768696a6b6c6d6e6f7071727374

# --- namespaces ---------------------------------------------------------------

# ns_enter TEST MAIN [NS...]: t_begin TEST, create namespaces MAIN and
# NS..., and run the rest of this script inside MAIN (the script runs
# again, there; this first run only waits, passes its exit status on and
# removes the namespaces). Inside, NS_MAIN is MAIN's short name, a shell
# runs in each NS for `on`, and the JSON server for jq_py is up.
ns_enter() {
	local test=$1 name rc=0
	shift
	if [ -n "${NS_INSIDE:-}" ]; then
		NS_MAIN=$1
		for name in "$@"; do
			T_NS_OUTER["$name"]=$name-$T_SUFFIX
		done
		t_begin "$test"
		coproc_start JQ python3 -c "$_JQ_SERVER"
		for name in "${@:2}"; do
			ns_shell "$name"
		done
		return 0
	fi
	trap ns_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	module_load
	if ! ns_create "$@"; then
		t_begin "$test"
		not_ok "create namespaces $*"
		t_end
	fi
	NS_INSIDE=1 NFSEC_NS_SUFFIX=$T_SUFFIX n "$1" bash "$0" || rc=$?
	exit "$rc"
}

# The shell in a namespace: a request is the number of its words, then the
# words: the file to read stdin from and the command, each NUL-terminated;
# it runs the command and answers with its stdout, its stderr and its exit
# status, each NUL-terminated. It exits when its input ends.
# shellcheck disable=SC2016 # expanded by the shell
_NS_SHELL='
o=/tmp/nfsec-ns-$$.out e=/tmp/nfsec-ns-$$.err
trap "rm -f $o $e" EXIT
while IFS= read -r -d "" count; do
	args=()
	for ((i = 0; i < count; i++)); do
		IFS= read -r -d "" a
		args+=("$a")
	done
	"${args[@]:1}" <"${args[0]}" >"$o" 2>"$e"
	rc=$?
	out= err=
	IFS= read -r -d "" out <"$o"
	IFS= read -r -d "" err <"$e"
	printf "%s\0%s\0%d\0" "$out" "$err" "$rc"
done'

# ns_shell NAME: start the shell in namespace NAME that `on NAME` talks to
# (one `ip netns exec` for the whole script). ns_enter starts one in each
# of its namespaces but the main one; call it for one made later.
ns_shell() {
	coproc_start "SH_$1" ip netns exec "$(ns_name "$1")" bash -c "$_NS_SHELL"
}

# on NAME CMD...: run CMD (a program) in namespace NAME: directly in the
# main one, through NAME's shell where it has one, else through `ip netns
# exec`. CMD gets this stdin if it is a pipe or a file (a here-document),
# else /dev/null; its stdout, stderr and exit status come back. Not
# re-entrant: never two `on` the same NAME in one pipeline.
on() {
	local ns=$1 to=SH_${1}_TO from=SH_${1}_FROM in=/dev/null out='' err='' rc=''
	shift
	if [ "$ns" = "${NS_MAIN:-}" ]; then
		"$@"
		return
	fi
	if [ -z "${!to:-}" ]; then
		n "$ns" "$@"
		return
	fi
	if [ -p "/proc/$BASHPID/fd/0" ] || [ -f "/proc/$BASHPID/fd/0" ]; then
		in=/proc/$BASHPID/fd/0
	fi
	printf '%s\0' $(($# + 1)) "$in" "$@" >&"${!to}"
	IFS= read -r -d '' -u "${!from}" out
	IFS= read -r -d '' -u "${!from}" err
	IFS= read -r -d '' -u "${!from}" rc
	printf '%s' "$out"
	printf '%s' "$err" >&2
	return "${rc:-255}"
}

# nf NS ARGS...: the nfsec tool in namespace NS.
nf() {
	on "$1" "$NFSEC" "${@:2}"
}

# run_bg NS CMD...: start CMD in namespace NS in the background (directly
# in the main one, else through `ip netns exec`, which becomes CMD), with
# the call's redirections; BG_PID is CMD's pid, to kill or wait for.
run_bg() {
	local ns=$1
	shift
	[ "$ns" = "${NS_MAIN:-}" ] || set -- ip netns exec "$(ns_name "$ns")" "$@"
	"$@" &
	BG_PID=$!
}

# coproc_start NAME CMD...: start CMD as a coprocess (bash warns about a
# second coproc; the warning is silenced, not CMD's errors); NAME_TO and
# NAME_FROM are plain descriptors to its stdin and from its stdout, which
# subshells (pipelines) inherit. Call it from the script's own shell: a
# coprocess started in a subshell dies with it.
coproc_start() {
	local name=$1 err to from
	shift
	exec {err}>&2
	{ coproc _NS_CO { exec "$@" 2>&"$err"; }; } 2>/dev/null
	exec {to}>&"${_NS_CO[1]}" {from}<&"${_NS_CO[0]}" {err}>&-
	printf -v "${name}_TO" %s "$to"
	printf -v "${name}_FROM" %s "$from"
}

# --- JSON ---------------------------------------------------------------------

# The server: requests are NUL-terminated triples EXPR, ARG, FILE; it
# evaluates EXPR with d = the JSON document read from FILE, a = ARG, and
# answers with the result, NUL-terminated: strings bare, everything else
# as canonical JSON (sorted keys); "<EXPR failed: ...>" when that fails.
# FILE may hold several documents (a batch of reads): then docs is their
# list and d is None. EXPR may call nonzero and sa_eval.
_JQ_SERVER='
import json, os, sys

def nonzero(counters):
    """the non-zero counters as "name=value ...", sorted by name"""
    return " ".join("%s=%s" % (k, v) for k, v in sorted(counters.items()) if v != 0)

def sa_eval(sas, arg):
    """arg "SPI EXPR": EXPR with s = the SA of the list sas with that SPI,
    st = its counters"""
    spi, expr = arg.split(" ", 1)
    for s in sas:
        if s["spi"] == int(spi, 0):
            return eval(expr, {"s": s, "st": s["stats"], "json": json,
                               "nonzero": nonzero})
    return "<no SA %s>" % spi

def answer(expr, arg, path):
    try:
        with open(path, "rb") as f:
            text = f.read().decode()
    except Exception as e:
        return "<cannot read the input: %s>" % e
    try:
        docs, i, dec = [], 0, json.JSONDecoder()
        while True:
            while i < len(text) and text[i].isspace():
                i += 1
            if i == len(text) and docs:
                break
            doc, i = dec.raw_decode(text, i)
            docs.append(doc)
        d = docs[0] if len(docs) == 1 else None
        r = eval(expr, {"json": json, "d": d, "docs": docs, "a": arg,
                        "nonzero": nonzero, "sa_eval": sa_eval})
    except Exception as e:
        return "<%s failed: %s; input was %.300r>" % (expr, e, text)
    return r if isinstance(r, str) else json.dumps(r, sort_keys=True)

buf = b""
fields = []
while True:
    chunk = os.read(0, 1 << 16)
    if not chunk:
        break
    buf += chunk
    while b"\0" in buf:
        f, buf = buf.split(b"\0", 1)
        fields.append(f.decode())
        if len(fields) == 3:
            out = answer(*fields).replace("\0", "") + "\0"
            os.write(1, out.encode())
            fields = []
'

# jq_py EXPR [ARG]: EXPR (python) evaluated with d = the JSON document on
# stdin (and a = ARG; docs = the documents when there are several);
# strings print bare, everything else as canonical JSON (sorted keys). The
# server reads stdin itself, through /proc. Not re-entrant: never two jq_py
# in one pipeline (both would wait for the server).
jq_py() {
	local res=
	printf '%s\0%s\0%s\0' "$1" "${2-}" "/proc/$BASHPID/fd/0" >&"$JQ_TO"
	IFS= read -r -d '' -u "$JQ_FROM" res
	printf '%s\n' "$res"
}

# canon JSON: JSON in canonical form, to compare with jq_py's output.
canon() {
	jq_py d <<<"$1"
}

# --- nfsec's state and counters ---------------------------------------------

# sa_eval NS SPI EXPR: EXPR (python: s = the SA, st = its counters) of the
# SA with SPI in namespace NS ("<no SA SPI>" if there is none).
sa_eval() {
	nf "$1" -j sa list | jq_py 'sa_eval(d, a)' "$2 $3"
}

# sa_field NS SPI PATH: one field of the SA, e.g. seq, stats.packets.
sa_field() {
	sa_eval "$1" "$2" "s[\"${3//./\"][\"}\"]"
}

# pmtu_of NS SPI: the SA's path MTU, "none" while it has none.
pmtu_of() {
	sa_eval "$1" "$2" 's.get("pmtu", "none")'
}

# route_mtu NS ADDR: the MTU that NS's route to ADDR has learnt, "none"
# while it has none.
route_mtu() {
	local rt
	rt=$(on "$1" ip route get "$2") || return 1
	[[ $rt =~ \ mtu\ ([0-9]+) ]] && echo "${BASH_REMATCH[1]}" || echo none
}

# sa_stats NS SPI: the SA's non-zero counters as "name=value ..." sorted by
# name, "" when all are zero: a whole set of counters in one assertion.
sa_stats() {
	sa_eval "$1" "$2" 'nonzero(st)'
}

# ns_stat NS KEY: one member of the namespace's `nfsec -j stats`
# (sa_count, policy_count, larval_count or a drop counter).
ns_stat() {
	nf "$1" -j stats | jq_py 'd[a]' "$2"
}

# ns_stats NS: the namespace's non-zero drop counters, as sa_stats
# (spread, no drop, counts the packets rx_spread decrypted on the next CPU;
# req_heap, no drop either, the crypto requests that took heap space).
ns_stats() {
	nf "$1" -j stats |
		jq_py 'nonzero({k: v for k, v in d.items() if k not in ("sa_count", "policy_count", "larval_count", "spread", "req_heap")})'
}

# ns_counts NS: "[sa_count, policy_count]" of the namespace.
ns_counts() {
	nf "$1" -j stats | jq_py '[d["sa_count"], d["policy_count"]]'
}

# traffic "bytes=B packets=P ...": just "bytes=B packets=P" (what one side
# protected and the other accepted; drop counters are each side's own).
traffic() {
	local b p
	read -r b p _ <<<"$1"
	echo "$b $p"
}

# stat_is NS SPI WANT: true when sa_stats is WANT (for wait_for).
stat_is() {
	[ "$(sa_stats "$1" "$2")" == "$3" ]
}

# expect_stats DESC NS SPI WANT: the SA's counters become WANT within 5 s
# (crypto may finish after the sender returned), asserted.
expect_stats() {
	wait_for "$2's SA $3: $4" 5 stat_is "$2" "$3" "$4" || true
	expect_eq "$1" "$4" "$(sa_stats "$2" "$3")"
}

# esp_pair [-f|-F] [-b in|fwd] [-o WORDS] [-i WORDS] [-a AUTH] NS MODE
#          OUT_SPI IN_SPI KEY_OUT KEY_IN LOCAL REMOTE [SEL_L SEL_R]:
# in namespace NS, an aes-gcm-128 SA pair between LOCAL and REMOTE in MODE
# (transport or tunnel) and the policies that use it: out from SEL_L to
# SEL_R (LOCAL and REMOTE when not given) and back from SEL_R to SEL_L,
# dir in (transport's default, or a tunnel that ends in NS) or fwd
# (tunnel's default: a gateway), as -b says. -o and -i add WORDS to the
# out and the in SA ("esn seq 0xfffffffe", "replay-window 32"); -a makes
# the pair AH with the HMAC AUTH (hmac-sha256-128: 32-byte keys); -f
# flushes NS's policies first, -F its policies and its SAs. One `nfsec -b`.
esp_pair() {
	local flush='' back='' xo='' xi='' proto=esp alg='aead aes-gcm-128'
	while [[ $1 == -* ]]; do
		case $1 in
		-f) flush='policy flush' ;;
		-F) flush=$'policy flush\nsa flush' ;;
		-b) back=$2; shift ;;
		-o) xo=$2; shift ;;
		-i) xi=$2; shift ;;
		-a) proto=ah alg="auth $2"; shift ;;
		*) echo "esp_pair: unknown option $1" >&2; return 1 ;;
		esac
		shift
	done
	local ns=$1 mode=$2 so=$3 si=$4 ko=$5 ki=$6 l=$7 r=$8 sl=${9:-$7} sr=${10:-$8}
	if [ -z "$back" ]; then
		back=in
		[ "$mode" = tunnel ] && back=fwd
	fi
	nf "$ns" -b - <<-EOF
		$flush
		sa add dir out src $l dst $r spi $so proto $proto mode $mode $alg key $ko $xo
		sa add dir in src $r dst $l spi $si proto $proto mode $mode $alg key $ki $xi
		policy add dir out src $sl dst $sr protect spi $so dst $r proto $proto
		policy add dir $back src $sr dst $sl protect spi $si dst $l proto $proto
	EOF
}

# monitor_ready NS FILE: true once the `nfsec monitor` of NS writing FILE
# listens: it adds and deletes a scratch SA and looks for its event (for
# wait_for).
monitor_ready() {
	nf "$1" sa add dir in src 10.0.0.9 dst 10.0.0.1 spi 0x999 proto esp \
		mode transport aead aes-gcm-128 key "$KEY1" &&
	nf "$1" sa del dst 10.0.0.1 spi 0x999 proto esp &&
	file_has "$2" "spi 0x00000999"
}

# --- links and topologies -----------------------------------------------------

# ipb NS: `ip -b -` in namespace NS (commands on stdin).
ipb() {
	ip -n "$(ns_name "$1")" -b -
}

# link NS1 IF1 ADDR1 NS2 IF2 ADDR2 [MTU]: a veth pair between two
# namespaces, addressed and up (MTU on both ends when given).
link() {
	local mtu=${7:+mtu $7}
	# Made in NS1 itself: the names are looked up in the namespace that
	# asks, and this script runs inside one that may hold IF1 already.
	# shellcheck disable=SC2086 # $mtu is two words or none
	ip -n "$(ns_name "$1")" link add "$2" $mtu type veth \
		peer name "$5" netns "$(ns_name "$4")" $mtu || return 1
	ipb "$1" <<-EOF || return 1
		addr add $3 dev $2
		link set $2 up
	EOF
	ipb "$4" <<-EOF
		addr add $6 dev $5
		link set $5 up
	EOF
}

# ip6_usable NS...: wait (10 s at most each) until the IPv6 addresses of
# the namespaces have left duplicate address detection, which holds them
# back a while after they are added.
ip6_usable() {
	local ns
	for ns in "$@"; do
		wait_for "$ns: addresses usable" 10 \
			sh -c "! ip -n $(ns_name "$ns") -6 addr show tentative | grep -q inet6"
	done
}

# sites HA GA INET GB HB HOST: two sites across an internet router, and a
# host on the internet; the namespaces exist, forwarding is on in the
# gateways and the router.
#   HA 192.168.1.10 - lan0 GA wan0 10.0.1.1 - wan1 INET wan2 - 10.0.2.1 wan0
#   GB lan0 - 192.168.2.10 HB;  HOST 10.0.3.10 - wan3 INET (router .254)
sites() {
	local g
	link "$1" eth0 192.168.1.10/24 "$2" lan0 192.168.1.1/24 &&
	link "$2" wan0 10.0.1.1/24 "$3" wan1 10.0.1.254/24 &&
	link "$4" wan0 10.0.2.1/24 "$3" wan2 10.0.2.254/24 &&
	link "$6" eth0 10.0.3.10/24 "$3" wan3 10.0.3.254/24 &&
	link "$4" lan0 192.168.2.1/24 "$5" eth0 192.168.2.10/24 || return 1
	echo "route add default via 192.168.1.1" | ipb "$1"
	echo "route add default via 192.168.2.1" | ipb "$5"
	echo "route add default via 10.0.1.254" | ipb "$2"
	echo "route add default via 10.0.2.254" | ipb "$4"
	echo "route add default via 10.0.3.254" | ipb "$6"
	for g in "$2" "$3" "$4"; do
		on "$g" sysctl -qw net.ipv4.ip_forward=1 || return 1
	done
}

# esp_block NS [PROTO]: nftables in NS drops ESP (or PROTO: ah) on input,
# before nfsec's LOCAL_IN hook (an input chain at filter priority runs
# first); esp_unblock NS removes that.
esp_block() {
	on "$1" nft -f - <<-EOF
		table ip dropesp {
			chain input {
				type filter hook input priority filter; policy accept;
				ip protocol ${2:-esp} drop
			}
		}
	EOF
}

esp_unblock() {
	on "$1" nft delete table ip dropesp
}

# --- stateful filter (conntrack) --------------------------------------------
# Real hosts and gateways run conntrack, and nfsec's hooks sit among its
# own: these load it in a namespace with a plain stateful ruleset.

# ct_filter [-6] NS [RULE...]: nftables table ip ctf (-6: ip6 ctf6) in NS:
# input and forward drop by default; accepted are established and related
# traffic, lo, ICMP (ICMPv6), ESP and what nfsec decapsulated (iif nfsec0),
# and in forward each RULE (e.g. 'iifname "lan0" accept'); invalid is
# dropped. The drop rules count (comments in-invalid, in-policy,
# fwd-invalid, fwd-policy; see nft_counters).
ct_filter() {
	local table='ip ctf' icmp='ip protocol { icmp, esp }' ns rule fwd=
	if [ "$1" = -6 ]; then
		table='ip6 ctf6' icmp='meta l4proto { ipv6-icmp, esp }'
		shift
	fi
	ns=$1
	shift
	for rule in "$@"; do
		fwd+="$rule"$'\n'
	done
	on "$ns" nft -f - <<-EOF
		table $table {
			chain input {
				type filter hook input priority filter; policy drop;
				ct state established,related accept
				ct state invalid counter drop comment "in-invalid"
				iif lo accept
				$icmp accept
				iifname "nfsec0" accept
				counter comment "in-policy"
			}
			chain forward {
				type filter hook forward priority filter; policy drop;
				ct state established,related accept
				ct state invalid counter drop comment "fwd-invalid"
				iifname "nfsec0" accept
				$fwd
				counter comment "fwd-policy"
			}
		}
	EOF
}

# ct_clean NS...: assert that the ct_filter (IPv4) of each NS dropped
# nothing.
ct_clean() {
	local ns
	for ns; do
		expect_eq "$ns: the stateful filter dropped nothing" \
			"in-invalid=0 in-policy=0 fwd-invalid=0 fwd-policy=0" \
			"$(nft_counters "$ns" ctf)" || true
	done
}

# nft_counters NS TABLE [FAMILY]: "comment=packets ..." for each rule of
# the table TABLE of FAMILY (ip) that has a comment and a counter, in
# ruleset order.
nft_counters() {
	on "$1" nft -j list table "${3:-ip}" "$2" | jq_py '" ".join(
		"%s=%s" % (r["comment"], c[0]["packets"])
		for r in (o["rule"] for o in d["nftables"] if "rule" in o)
		if r.get("comment")
		for c in [[e["counter"] for e in r["expr"] if "counter" in e]] if c)'
}

# --- captures -----------------------------------------------------------------

declare -A CAP_PID=()

# cap_start NS IFACE FILE [FILTER...]: tcpdump writing FILE (packet by
# packet), back once it listens.
cap_start() {
	local ns=$1 dev=$2 file=$3
	shift 3
	run_bg "$ns" tcpdump -ni "$dev" -U -B 8192 --immediate-mode \
		-w "$file" "$@" 2>"$file.log"
	CAP_PID[$file]=$BG_PID
	wait_for "tcpdump on $dev" 15 file_has "$file.log" "listening on"
}

# cap_stop FILE: stop that capture. tcpdump drops what it has not read
# from its ring when it is told to stop, so first wait until the file has
# stopped growing (-U writes each packet as it is read).
cap_stop() {
	local pid=${CAP_PID[$1]} size=-1 now i same=0

	# the same size three times in a row (the VM may stall tcpdump a while)
	for ((i = 0; i < 40 && same < 3; i++)); do
		now=$(stat -c %s "$1" 2>/dev/null || echo 0)
		if [ "$now" = "$size" ]; then
			same=$((same + 1))
		else
			same=0
		fi
		size=$now
		sleep 0.3
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "CAP_PID[$1]"
	return 0
}

# cap_expect DESC FILE EXPECTED ACTUAL: a packet count of capture FILE is
# EXPECTED; if tcpdump says it dropped packets (it can under emulation in a
# bulk transfer), ACTUAL must be at least 1 and at most EXPECTED.
cap_expect() {
	local desc=$1 log
	log=$(<"$2.log")
	if [[ $log =~ ([0-9]+)\ packets?\ dropped\ by\ kernel ]] &&
	   ((BASH_REMATCH[1] > 0)); then
		log "tcpdump dropped ${BASH_REMATCH[1]} packets: $desc: at most $3"
		if [[ $4 =~ ^[0-9]+$ && $3 =~ ^[0-9]+$ ]] && (($4 > 0 && $4 <= $3)); then
			ok "$desc (at most)"
		else
			not_ok "$desc (at most)" "expected 1..$3, captured $4"
		fi
		return
	fi
	expect_eq "$desc" "$3" "$4"
}

# cap_count FILE FILTER: the packets of FILE that match FILTER.
# (No process substitution: the VM has no /dev/fd. mapfile, not a pattern
# substitution, counts the lines: bash's ${out//...} is quadratic, minutes
# for the 10,000 lines of a capture under load.)
cap_count() {
	local out lines
	out=$(tcpdump -nr "$1" "$2" 2>/dev/null) || { echo "<tcpdump -r failed>"; return; }
	[ -n "$out" ] || { echo 0; return; }
	mapfile -t lines <<<"$out"
	echo ${#lines[@]}
}

# cap_sites_esp FILE: assert that capture FILE, of a link between the
# sites, holds no packet with a 192.168.0.0/16 address and no IPv4 packet
# but ESP.
cap_sites_esp() {
	expect_eq "capture: no packet with a 192.168.0.0/16 address" 0 \
		"$(cap_count "$1" 'net 192.168.0.0/16')" || true
	expect_eq "capture: no IPv4 packet but ESP" 0 \
		"$(cap_count "$1" 'ip and not ip proto 50')" || true
}

# cap_show FILE [FILTER [N]]: the first N (10) packets of FILE, as "# " lines.
cap_show() {
	tcpdump -nr "$1" ${2:+"$2"} 2>/dev/null | head -n "${3:-10}" | sed 's/^/# /'
}

# file_has FILE TEXT: FILE contains TEXT (bash only, no grep).
file_has() {
	local s
	[ -r "$1" ] || return 1
	s=$(<"$1")
	[[ $s == *"$2"* ]]
}

# --- traffic ------------------------------------------------------------------

# tcp_md5 DESC SRC_NS DST_NS DST_ADDR PORT FILE: send FILE from SRC_NS to
# DST_ADDR:PORT in DST_NS over TCP and assert the received bytes' md5.
# Either end gives up after 20 s without progress (socat -T).
#
# Both ends run on CPU 0. A veth link hands each packet to the backlog of
# the CPU that sent it, so a flow sent from two CPUs at once can arrive
# reordered by hundreds of packets, beyond any default replay window, and
# the per-SA counts the tests compare would no longer be exact. The links,
# not nfsec, reorder: on one CPU the whole chain of namespaces runs in order.
tcp_md5() {
	local desc=$1 src=$2 dst=$3 addr=$4 port=$5 file=$6 pid rc=0
	local recv=$file.recv v=''

	if [[ $addr == *:* ]]; then	# IPv6
		v=6 addr="[$addr]"
	fi
	rm -f "$recv"
	run_bg "$dst" taskset -c 0 socat -T 20 -u \
		"TCP$v-LISTEN:$port,reuseaddr" "OPEN:$recv,creat,trunc" 2>"$recv.log"
	pid=$BG_PID
	# socat retries the connection until the listener is up.
	if ! on "$src" taskset -c 0 socat -T 20 -u "OPEN:$file" \
		"TCP$v:$addr:$port,retry=100,interval=0.1" 2>"$file.log"; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		not_ok "$desc" "sender failed after $(stat -c %s "$recv" 2>&1) bytes" \
			"$(cat "$file.log" "$recv.log")"
		return 1
	fi
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || log "receiver exit status $rc: $(cat "$recv.log")"
	expect_eq "$desc" "$(md5sum <"$file")" "$(md5sum <"$recv" 2>&1)"
}

# esp_capture FILE [PROTO DST]: a's ESP (or PROTO: ah) to b (10.0.0.1 ->
# 10.0.0.2, or DST, through an SA pair) captured on a's veth0 in FILE, for
# esp_tool.py to send again: seq 1-3 by 3 pings that pass, seq 4-5 by 2
# that b's nftables drops before nfsec sees them (an input chain at filter
# priority runs before nfsec's LOCAL_IN hook). Five assertions.
esp_capture() {
	local p=${2:-esp} dst=${3:-10.0.0.2} n=50
	[ "$p" = ah ] && n=51
	log "capture a's ${p^^}: 3 pings through, then 2 that b's nftables drops"
	cap_start a veth0 "$1" ip proto $n and src 10.0.0.1
	check "ping a -> b, 3 of 3 (seq 1-3)" on a ping -c 3 -i 0.2 -W 2 "$dst"
	check "b: nftables drops ${p^^} on input" esp_block b "$p"
	expect_fail "ping a -> b while b drops ${p^^} (seq 4-5)" "0 received" \
		on a ping -c 2 -i 0.2 -W 1 "$dst"
	check "b: nftables rule removed" esp_unblock b
	cap_stop "$1"
}

# elapsed T0: seconds since EPOCHREALTIME was T0, as "1.23 s".
elapsed() {
	local us=$((${EPOCHREALTIME/./} - ${1/./}))
	printf '%d.%02d s' $((us / 1000000)) $((us % 1000000 / 10000))
}
