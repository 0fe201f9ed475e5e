# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the data-path tests (20-23), sourced after lib.sh.
#
# Under TCG every program start is dear (`ip netns exec` about 0.6 s), so:
# links and addresses go through one `ip -n NS -b -` per namespace, SAs and
# policies through one `nfsec -b -` per namespace, and counters are read
# with one `nfsec -j` and one jq per assertion.
#
#   link a veth0 10.0.0.1/24 b veth1 10.0.0.2/24 [MTU]
#   nf a -b - <<EOF ... EOF            # nfsec in namespace a
#   expect_eq "a: SA 0x1001" "bytes=420 packets=5" "$(sa_stats a 0x1001)"
#   expect_eq "b: counters" "cleartext=3" "$(ns_stats b)"
#   cap_start b veth1 "$TMP/x.pcap"; ...; cap_stop "$TMP/x.pcap"
#   expect_eq "no cleartext" 0 "$(cap_count "$TMP/x.pcap" 'ip and not esp')"

# aes-gcm-128 keys: 16 bytes of key and 4 of salt, one per direction.
KEY1=0x0102030405060708090a0b0c0d0e0f1011121314
KEY2=0x2122232425262728292a2b2c2d2e2f3031323334
KEY3=0x4142434445464748494a4b4c4d4e4f5051525354
KEY4=0x6162636465666768696a6b6c6d6e6f7071727374

# nf NS ARGS...: the nfsec tool in namespace NS.
nf() {
	local ns=$1
	shift
	n "$ns" "$NFSEC" "$@"
}

# link NS1 IF1 ADDR1 NS2 IF2 ADDR2 [MTU]: a veth pair between two
# namespaces, addressed and up (MTU on both ends when given).
link() {
	local mtu=${7:+mtu $7}
	ip link add "$2" netns "$(ns_name "$1")" $mtu type veth \
		peer name "$5" netns "$(ns_name "$4")" $mtu || return 1
	ip -n "$(ns_name "$1")" -b - <<-EOF || return 1
		addr add $3 dev $2
		link set $2 up
	EOF
	ip -n "$(ns_name "$4")" -b - <<-EOF
		addr add $6 dev $5
		link set $5 up
	EOF
}

# esp_pair NS MODE OUT_SPI IN_SPI KEY_OUT KEY_IN LOCAL REMOTE [SEL_L SEL_R]:
# NS's policies flushed, then an aes-gcm-128 SA pair between LOCAL and
# REMOTE in MODE (tunnel|transport) and the policies that use it: out and
# in for transport (LOCAL <-> REMOTE), out and fwd for a tunnel between
# the prefixes SEL_L and SEL_R.
esp_pair() {
	local ns=$1 mode=$2 so=$3 si=$4 ko=$5 ki=$6 l=$7 r=$8 sl=${9:-$7} sr=${10:-$8}
	local back=in
	[ "$mode" = tunnel ] && back=fwd
	nf "$ns" -b - <<-EOF
		policy flush
		sa add dir out src $l dst $r spi $so proto esp mode $mode aead aes-gcm-128 key $ko
		sa add dir in src $r dst $l spi $si proto esp mode $mode aead aes-gcm-128 key $ki
		policy add dir out src $sl dst $sr protect spi $so dst $r
		policy add dir $back src $sr dst $sl protect spi $si dst $l
	EOF
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
		n "$g" sysctl -qw net.ipv4.ip_forward=1 || return 1
	done
}

# esp_block NS: nftables in NS drops ESP on input, before nfsec's LOCAL_IN
# hook (an input chain at filter priority runs first); esp_unblock NS
# removes that.
esp_block() {
	n "$1" nft -f - <<-EOF
		table ip dropesp {
			chain input {
				type filter hook input priority filter; policy accept;
				ip protocol esp drop
			}
		}
	EOF
}

esp_unblock() {
	n "$1" nft delete table ip dropesp
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

# ipb NS: `ip -b -` in namespace NS (commands on stdin).
ipb() {
	ip -n "$(ns_name "$1")" -b -
}

# --- counters ---------------------------------------------------------------

# The non-zero counters of an object as "name=value ..." sorted by name,
# "" when all are zero: a whole set of counters in one exact assertion.
_NONZERO='to_entries | map(select(.value != 0)) | sort_by(.key) |
	map("\(.key)=\(.value)") | join(" ")'

# sa_stats NS SPI: the non-zero counters of the SA with SPI in namespace NS
# ("<no SA SPI>" if there is none).
sa_stats() {
	nf "$1" -j sa list | jq -r --argjson spi "$(($2))" "
		map(select(.spi == \$spi)) |
		if length == 0 then \"<no SA $2>\" else .[0].stats | $_NONZERO end"
}

# sa_field NS SPI JQ-PATH: one field of the SA, e.g. sa_field a 0x1001 .seq
sa_field() {
	nf "$1" -j sa list | jq -r --argjson spi "$(($2))" \
		"map(select(.spi == \$spi)) | if length == 0 then \"<no SA $2>\" else .[0]$3 end"
}

# ns_stats NS: the namespace's non-zero drop counters (no SA/policy counts).
ns_stats() {
	nf "$1" -j stats | jq -r "del(.sa_count, .policy_count) | $_NONZERO"
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

# --- captures ---------------------------------------------------------------

declare -A CAP_PID=()

# cap_start NS IFACE FILE [FILTER...]: tcpdump writing FILE (packet by
# packet), back once it listens.
cap_start() {
	local ns=$1 dev=$2 file=$3
	shift 3
	# Not through n (a function): $! must be tcpdump itself to stop it.
	ip netns exec "$(ns_name "$ns")" tcpdump -ni "$dev" -U -B 8192 --immediate-mode \
		-w "$file" "$@" 2>"$file.log" &
	CAP_PID[$file]=$!
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
# (No process substitution: the VM has no /dev/fd.)
cap_count() {
	local out nl
	out=$(tcpdump -nr "$1" "$2" 2>/dev/null) || { echo "<tcpdump -r failed>"; return; }
	[ -n "$out" ] || { echo 0; return; }
	nl=${out//[!$'\n']/}
	echo $((${#nl} + 1))
}

# cap_show FILE [FILTER]: the first packets of FILE, as "# " lines.
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

# --- traffic ----------------------------------------------------------------

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
	ip netns exec "$(ns_name "$dst")" taskset -c 0 socat -T 20 -u \
		"TCP$v-LISTEN:$port,reuseaddr" "OPEN:$recv,creat,trunc" 2>"$recv.log" &
	pid=$!
	# socat retries the connection until the listener is up.
	if ! n "$src" taskset -c 0 socat -T 20 -u "OPEN:$file" \
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

# --- stateful filter (conntrack) --------------------------------------------
# Real hosts and gateways run conntrack, and nfsec's hooks sit among its
# own: these load it in a namespace with a plain stateful ruleset.

# ct_filter NS [RULE...]: nftables table ip ctf in NS: input and forward
# drop by default; accepted are established and related traffic, lo, ICMP,
# ESP and what nfsec decapsulated (iif nfsec0), and in forward each RULE
# (e.g. 'iifname "lan0" accept'); invalid is dropped. The drop rules count
# (comments in-invalid, in-policy, fwd-invalid, fwd-policy; see nft_counters).
ct_filter() {
	local ns=$1 rule fwd=
	shift
	for rule in "$@"; do
		fwd+="$rule"$'\n'
	done
	n "$ns" nft -f - <<-EOF
		table ip ctf {
			chain input {
				type filter hook input priority filter; policy drop;
				ct state established,related accept
				ct state invalid counter drop comment "in-invalid"
				iif lo accept
				ip protocol { icmp, esp } accept
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

# nft_counters NS TABLE: "comment=packets ..." for each rule of the ip
# table TABLE that has a comment and a counter, in ruleset order.
nft_counters() {
	n "$1" nft -j list table ip "$2" | jq -r '[.nftables[] | .rule? // empty |
		select(.comment) | first(.expr[] | .counter? // empty) as $c |
		"\(.comment)=\($c.packets)"] | join(" ")'
}
