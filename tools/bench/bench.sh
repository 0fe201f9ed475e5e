#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM (tools/bench/run). Namespaces joined by veth; the
# measured traffic goes between inner addresses, through a tunnel:
#
#   +----------------------+   veth (10.0.0.0/24)   +----------------------+
#   | ns c  172.16.0.1 (lo)|------------------------| ns s  172.16.0.2 (lo)|
#   |       fd01::1    (lo)|       (fd00::/64)      |       fd01::2    (lo)|
#   |       iperf3 client  |   ESP tunnel / wg0     |       iperf3 server  |
#   +----------------------+                        |                      |
#   | ns cn 172.16.0.3 (lo)|--- veth 10.0.1.0/24 ---|                      |
#   |  + 100,000 SAs, 10,000 policies of nfsec      |                      |
#   +----------------------+                        |                      |
#   | ns cx 172.16.0.4 (lo)|--- veth 10.0.2.0/24 ---|                      |
#   |  + the same as XFRM states and policies       |                      |
#   +----------------------+                        +----------------------+
#
# Suites (BENCH_SUITES, all by default), each alternating its
# configurations round by round:
#   tcp      one TCP stream through each of BENCH_CONFIGS
#   streams  four TCP streams (iperf3 -P 4) through one tunnel
#   udp      64-byte UDP datagrams as fast as iperf3 sends them: received
#            packets/s and loss
#   rtt      ping round trips (BENCH_PINGS at 10 ms intervals): p50, p99
#   install  nfsec -b of BENCH_SCALE_SAS SAs and BENCH_SCALE_POLICIES
#            policies, ip -batch of the same as XFRM, each round into
#            fresh namespaces (the last round's: cn and cx): rates, their
#            medians, and the last round's tables dumped back
#   scale    the tunnel from c (its own SAs and policies alone) against
#            the same tunnel from cn (cx for XFRM) with those tables
#
# The *6 configurations run the same tunnel over IPv6 (IPv6 inside IPv6);
# the *-ah ones use AH (hmac-sha256-128) instead of ESP, over IPv4; the
# *-udp ones put ESP in UDP (RFC 3948, port 4500 both ways; XFRM with the
# encapsulation socket a key-exchange daemon would hold open).
# nfsec-* take the crypto drivers nfsec measured fastest (drivers.c, its
# choice printed after the tcp table); nfsec-gcm-default and
# nfsec-ah-default the crypto API's own choice (crypto_select=0 while
# their SAs are made), the one XFRM takes: the difference between the two
# is the driver's, not the path's. nfsec-gcm-nospread is nfsec-gcm with
# rx_spread off (until its teardown; on by default): a GSO train's
# packets decrypted where they arrive, not on the next CPU (the streams,
# udp and rtt suites run it too). nfsec-gcm-heap is nfsec-gcm with
# req_slots 0 (until its teardown): each packet's crypto request
# allocated, not taken from its CPU's slots (not in the defaults; name
# it in BENCH_CONFIGS, and in BENCH_UDP_CONFIGS for the udp suite).
set -eu
cd "$(dirname "$0")/../.."
NFSEC=$PWD/tools/nfsec/nfsec
rounds=${BENCH_ROUNDS:-3}
secs=${BENCH_SECONDS:-5}
suites=${BENCH_SUITES:-"tcp streams udp rtt install scale"}
nsas=${BENCH_SCALE_SAS:-100000}
npols=${BENCH_SCALE_POLICIES:-10000}
pings=${BENCH_PINGS:-300}
out=${BENCH_OUT:-tools/bench/out}
c=bench-c-$$ s=bench-s-$$ cn=bench-cn-$$ cx=bench-cx-$$
tmp=/tmp/bench-$$
C() { ip netns exec "$c" "$@"; }
S() { ip netns exec "$s" "$@"; }
CL() { ip netns exec "$cl" "$@"; }	# the client of the configuration
cleanup() {
	local ns
	for ns in "$c" "$s" "$cn" "$cx"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp"
suite() { [[ " $suites " == *" $1 "* ]]; }

[ -d /sys/module/nfsec ] || { modprobe nf_defrag_ipv6 && insmod src/nfsec.ko; }
# (what teardown puts back after nfsec-*-nospread: the default, Y)
spread0=$(cat /sys/module/nfsec/parameters/rx_spread)
slots0=$(cat /sys/module/nfsec/parameters/req_slots)	# (after nfsec-*-heap)
# Without udev nothing loads the accelerated crypto drivers: load the best.
for m in aesni_intel ghash-clmulni-intel chacha20-x86_64 poly1305-x86_64 \
	 sha256-ssse3 sha512-ssse3 esp4 esp4_offload esp6 esp6_offload wireguard; do
	modprobe -q "$m" 2>/dev/null || true
done

# drivers NAME: the drivers of crypto algorithm NAME in /proc/crypto,
# highest priority first ("driver (priority)")
drivers() {
	awk -v want="$1" '/^name/ {n=$3} /^driver/ {d=$3}
		/^priority/ && n==want {print $3, d}' /proc/crypto |
		sort -rn | uniq | awk '{printf "%s%s (%s)", (NR > 1 ? ", " : ""), $2, $1}'
}
echo "# kernel $(uname -r), $(nproc) vCPUs; suites: $suites"
echo "# gcm(aes) drivers: $(drivers 'gcm(aes)')"
echo "# rfc4106(gcm(aes)) drivers: $(drivers 'rfc4106(gcm(aes))')"
echo "# XFRM takes the crypto API's default (highest priority), nfsec the driver it measured fastest (nfsec-*-default: the default)"
# refs: "name driver refcnt" of every algorithm; in_use CFG: the drivers
# whose references rose once CFG's tunnel is up, that is, the ones it uses
refs() { awk '/^name/ {n=$3} /^driver/ {d=$3} /^refcnt/ {print n, d, $3}' /proc/crypto | sort; }
refs >"$tmp/refs"
in_use() {
	echo "# $1 uses: $(refs | awk 'NR == FNR { base[$1 " " $2] = $3; next }
		$3 + 0 > (($1 " " $2) in base ? base[$1 " " $2] : 1) + 0 && $1 !~ /^__/ { printf "%s%s: %s", (n++ ? ", " : ""), $1, $2 }' "$tmp/refs" -)"
}

ip netns add "$c"; ip netns add "$s"
C ip link set lo up; S ip link set lo up
ip link add veth0 netns "$c" type veth peer name veth1 netns "$s"
C ip addr add 10.0.0.1/24 dev veth0; S ip addr add 10.0.0.2/24 dev veth1
C ip link set veth0 up; S ip link set veth1 up
C ip addr add 172.16.0.1/32 dev lo; S ip addr add 172.16.0.2/32 dev lo
C ip route add 172.16.0.2/32 via 10.0.0.2 src 172.16.0.1
S ip route add 172.16.0.1/32 via 10.0.0.1 src 172.16.0.2
C ip addr add fd00::1/64 dev veth0 nodad; S ip addr add fd00::2/64 dev veth1 nodad
C ip addr add fd01::1/128 dev lo; S ip addr add fd01::2/128 dev lo
C ip route add fd01::2/128 via fd00::2 src fd01::1
S ip route add fd01::1/128 via fd00::1 src fd01::2
# the clients with large tables: cn (nfsec's), cx (XFRM's)
if suite install || suite scale; then
	n=1
	for ns in "$cn" "$cx"; do
		ip netns add "$ns"
		ip netns exec "$ns" ip link set lo up
		ip link add veth0 netns "$ns" type veth peer name "veth$((2 * n + 1))" netns "$s"
		ip netns exec "$ns" ip addr add "10.0.$n.1/24" dev veth0
		S ip addr add "10.0.$n.2/24" dev "veth$((2 * n + 1))"
		ip netns exec "$ns" ip link set veth0 up
		S ip link set "veth$((2 * n + 1))" up
		ip netns exec "$ns" ip addr add "172.16.0.$((n + 2))/32" dev lo
		ip netns exec "$ns" ip route add 172.16.0.2/32 via "10.0.$n.2" src "172.16.0.$((n + 2))"
		S ip route add "172.16.0.$((n + 2))/32" via "10.0.$n.1" src 172.16.0.2
		n=$((n + 1))
	done
fi

key=0x0102030405060708090a0b0c0d0e0f10111213141516171819202122232425262728292a2b2c
k20=${key:0:42} k32=${key:0:66} k36=${key:0:74}

# client NS FAMILY: the client namespace of the next setup and the outer
# and inner addresses of it and s: sets cl oc os ic is.
client() {
	cl=$1
	if [ "$2" = 6 ]; then
		oc=fd00::1 os=fd00::2 ic=fd01::1 is=fd01::2
		return
	fi
	case $1 in
	"$c") oc=10.0.0.1 os=10.0.0.2 ic=172.16.0.1 ;;
	"$cn") oc=10.0.1.1 os=10.0.1.2 ic=172.16.0.3 ;;
	"$cx") oc=10.0.2.1 os=10.0.2.2 ic=172.16.0.4 ;;
	esac
	is=172.16.0.2
}
setup_nfsec() {	# ALIAS KEY [PROTO [SA-OPTIONS]]: PROTO esp or ah
	local p=${3:-esp} alg="aead $1" o=${4:-}
	[ "$p" = ah ] && alg="auth $1"
	CL "$NFSEC" -b - <<-EOF
	sa add dir out src $oc dst $os spi 0x1001 proto $p mode tunnel $alg key $2 $o
	sa add dir in src $os dst $oc spi 0x1002 proto $p mode tunnel $alg key $2 $o
	policy add dir out src $ic dst $is protect spi 0x1001 dst $os proto $p
	policy add dir in src $is dst $ic protect spi 0x1002 dst $oc proto $p
	EOF
	S "$NFSEC" -b - <<-EOF
	sa add dir in src $oc dst $os spi 0x1001 proto $p mode tunnel $alg key $2 $o
	sa add dir out src $os dst $oc spi 0x1002 proto $p mode tunnel $alg key $2 $o
	policy add dir out src $is dst $ic protect spi 0x1002 dst $oc proto $p
	policy add dir in src $ic dst $is protect spi 0x1001 dst $os proto $p
	EOF
	# what teardown undoes in a client that keeps other tables
	undo_nfsec="policy del dir out src $ic dst $is
policy del dir in src $is dst $ic
sa del dst $os spi 0x1001 proto $p
sa del dst $oc spi 0x1002 proto $p"
}
xfrm_side() {	# NS SRC DST INNER_SRC INNER_DST OUTSPI INSPI ALG KEY PROTO [ENCAP...]
	local ns=$1 alg=(aead "$8" "$9" 128)
	[ "${10}" = ah ] && alg=(auth-trunc "$8" "$9" 128)
	ip netns exec "$ns" ip xfrm state add src "$2" dst "$3" proto "${10}" spi "$6" mode tunnel "${alg[@]}" "${@:11}"
	ip netns exec "$ns" ip xfrm state add src "$3" dst "$2" proto "${10}" spi "$7" mode tunnel "${alg[@]}" "${@:11}"
	ip netns exec "$ns" ip xfrm policy add src "$4" dst "$5" dir out tmpl src "$2" dst "$3" proto "${10}" mode tunnel
	ip netns exec "$ns" ip xfrm policy add src "$5" dst "$4" dir in tmpl src "$3" dst "$2" proto "${10}" mode tunnel
}
setup_xfrm() {	# KERNEL-ALG KEY [PROTO [ENCAP...]]
	local p=${3:-esp}
	xfrm_side "$cl" "$oc" "$os" "$ic" "$is" 0x2001 0x2002 "$1" "$2" "$p" "${@:4}"
	xfrm_side "$s" "$os" "$oc" "$is" "$ic" 0x2002 0x2001 "$1" "$2" "$p" "${@:4}"
	undo_xfrm="xfrm policy delete src $ic dst $is dir out
xfrm policy delete src $is dst $ic dir in
xfrm state delete src $oc dst $os proto $p spi 0x2001
xfrm state delete src $os dst $oc proto $p spi 0x2002"
}
# XFRM takes ESP in UDP only through a socket with UDP_ENCAP_ESPINUDP set,
# as a key-exchange daemon holds one open: one on 4500 in each namespace.
encap_sockets() {
	local ns
	for ns in "$c" "$s"; do
		ip netns exec "$ns" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_UDP, 100, 2)	# UDP_ENCAP, UDP_ENCAP_ESPINUDP
s.bind(("0.0.0.0", 4500))
time.sleep(100000)' &
		encap_pids+=" $!"
	done
	sleep 0.5
}
encap_pids=
setup_wg() {
	local kc=$tmp/c.key ks=$tmp/s.key
	(umask 077; wg genkey >"$kc"; wg genkey >"$ks")
	C ip link add wg0 type wireguard; S ip link add wg0 type wireguard
	C wg set wg0 private-key "$kc" listen-port 51820 peer "$(wg pubkey <"$ks")" \
		endpoint 10.0.0.2:51820 allowed-ips 172.16.1.2/32
	S wg set wg0 private-key "$ks" listen-port 51820 peer "$(wg pubkey <"$kc")" \
		endpoint 10.0.0.1:51820 allowed-ips 172.16.1.1/32
	rm -f "$kc" "$ks"
	C ip addr add 172.16.1.1/32 peer 172.16.1.2/32 dev wg0; S ip addr add 172.16.1.2/32 peer 172.16.1.1/32 dev wg0
	C ip link set wg0 up; S ip link set wg0 up
}
teardown() {
	if [ "$cl" = "$c" ]; then
		C "$NFSEC" policy flush; C "$NFSEC" sa flush
		C ip xfrm policy flush; C ip xfrm state flush
	else	# the client's other tables stay
		[ -z "$undo_nfsec" ] || CL "$NFSEC" -b - <<<"$undo_nfsec"
		[ -z "$undo_xfrm" ] || CL ip -batch - <<<"$undo_xfrm"
	fi
	undo_nfsec= undo_xfrm=
	S "$NFSEC" policy flush; S "$NFSEC" sa flush
	S ip xfrm policy flush; S ip xfrm state flush
	echo "$spread0" >/sys/module/nfsec/parameters/rx_spread
	echo "$slots0" >/sys/module/nfsec/parameters/req_slots
	C ip link del wg0 2>/dev/null || true; S ip link del wg0 2>/dev/null || true
	[ -z "$encap_pids" ] || { kill $encap_pids 2>/dev/null; wait $encap_pids 2>/dev/null; } || true
	encap_pids=
}
undo_nfsec= undo_xfrm=

# setup CFG [CLIENT]: the tunnel (or none) of configuration CFG from the
# client namespace CLIENT (default c); dest: where to send.
setup() {
	local fam=4
	case $1 in *6-*) fam=6 ;; esac
	client "${2:-$c}" "$fam"
	dest=$is
	case $1 in
	veth) dest=10.0.0.2 ;;
	nfsec-gcm|nfsec6-gcm) setup_nfsec aes-gcm-128 "$k20" ;;
	nfsec-*-nospread)	# rx_spread off until teardown: no crypto on the next CPU
		echo 0 >/sys/module/nfsec/parameters/rx_spread
		setup "${1%-nospread}" "${2:-$c}"
		return ;;
	nfsec-*-heap)	# req_slots 0 until teardown: requests allocated
		echo 0 >/sys/module/nfsec/parameters/req_slots
		setup "${1%-heap}" "${2:-$c}"
		return ;;
	nfsec-*-default)	# the crypto API's drivers, not the measured ones
		echo 0 >/sys/module/nfsec/parameters/crypto_select
		setup "${1%-default}" "${2:-$c}"
		echo 1 >/sys/module/nfsec/parameters/crypto_select
		return ;;
	xfrm-gcm|xfrm6-gcm) setup_xfrm 'rfc4106(gcm(aes))' "$k20" ;;
	nfsec-chacha) setup_nfsec chacha20-poly1305 "$k36" ;;
	xfrm-chacha) setup_xfrm 'rfc7539esp(chacha20,poly1305)' "$k36" ;;
	nfsec-ah) setup_nfsec hmac-sha256-128 "$k32" ah ;;
	xfrm-ah) setup_xfrm 'hmac(sha256)' "$k32" ah ;;
	nfsec-udp) setup_nfsec aes-gcm-128 "$k20" esp "encap udp" ;;
	xfrm-udp) encap_sockets
		setup_xfrm 'rfc4106(gcm(aes))' "$k20" esp encap espinudp 4500 4500 0.0.0.0 ;;
	wireguard) setup_wg; dest=172.16.1.2 ;;
	*) echo "# unknown configuration $1" >&2; return 1 ;;
	esac
	CL ping -c 1 -W 2 "$dest" >/dev/null || echo "# $1: ping failed"
}

# tcp [IPERF3-OPTIONS]: Mbit/s of one TCP run from the client to dest
tcp() {
	S iperf3 -s -D -1 >/dev/null 2>&1
	sleep 0.3
	CL iperf3 -c "$dest" -t "$secs" -J "$@" 2>/dev/null |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.1f" % (d["end"]["sum_received"]["bits_per_second"]/1e6))' ||
		echo 0
}
# udp: "PPS LOSS%" of 64-byte datagrams sent as fast as iperf3 can
udp() {
	S iperf3 -s -D -1 >/dev/null 2>&1
	sleep 0.3
	CL iperf3 -c "$dest" -u -l 64 -b 0 -t "$secs" -J 2>/dev/null |
		python3 -c 'import json,sys
r = json.load(sys.stdin)["end"]["sum_received"]
got = r["packets"] - r["lost_packets"]
print("%.0f %.1f" % (got / r["seconds"], 100.0 * r["lost_packets"] / max(r["packets"], 1)))' ||
		echo "0 100"
}
# rtt: "P50 P99" in ms of BENCH_PINGS pings 10 ms apart
rtt() {
	CL ping -c "$pings" -i 0.01 -W 1 "$dest" 2>/dev/null |
		sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' | sort -n |
		awk '{a[NR]=$1} END {
			if (!NR) { print "0 0"; exit }
			i = int(NR * 0.5 + 0.999); j = int(NR * 0.99 + 0.999)
			printf "%.3f %.3f\n", a[i], a[j] }'
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
declare -A res	# "SUITE CFG" -> the runs' figures, space separated
declare -A med

# run_rounds SUITE FIGURE-FUNCTION CFG...: each round runs every CFG once (CFG
# may be NAME@CLIENT-NS); the runs' figures go to res["SUITE CFG"]. The
# figure is the first word the function prints.
run_rounds() {
	local suite=$1 fn=$2 r cfg v
	shift 2
	for r in $(seq "$rounds"); do
		for cfg in "$@"; do
			setup "${cfg%@*}" "$(cl_of "$cfg")" || continue
			[ "$r" != 1 ] || [ "$suite" != tcp ] || in_use "$cfg"
			v=$($fn)
			teardown
			res["$suite $cfg"]="${res["$suite $cfg"]:-} ${v// /\/}"
			echo "# $suite round $r $(label "$cfg") $v"
		done
	done
}
cl_of() { case $1 in *@n) echo "$cn" ;; *@x) echo "$cx" ;; *) echo "$c" ;; esac; }
label() { case $1 in *@[nx]) echo "${1%@*}+tables" ;; *) echo "$1" ;; esac; }
# table SUITE UNIT FIELD CFG...: the medians of field FIELD (1-based) of
# the runs; med["SUITE CFG"] keeps them
table() {
	local suite=$1 unit=$2 f=$3 cfg runs m
	shift 3
	printf '\n%-22s %10s   %s\n' "$suite" median "runs ($unit)"
	for cfg in "$@"; do
		runs=$(for v in ${res["$suite $cfg"]:-}; do echo "$v" | cut -d/ -f"$f"; done | tr '\n' ' ')
		m=$(echo "$runs" | median)
		med["$suite $cfg"]=${m:-0}
		printf '%-22s %10s   %s\n' "$(label "$cfg")" "${m:-0}" "$runs"
	done
}

configs=${BENCH_CONFIGS:-"veth nfsec-gcm nfsec-gcm-default nfsec-gcm-nospread xfrm-gcm nfsec-chacha xfrm-chacha wireguard nfsec6-gcm xfrm6-gcm nfsec-ah nfsec-ah-default xfrm-ah nfsec-udp xfrm-udp"}
tcp_run() { tcp; }
streams_run() { tcp -P 4; }

if suite tcp; then
	run_rounds tcp tcp_run $configs
	table tcp "Mbit/s, single TCP stream" 1 $configs
	m() { echo "${med["tcp $1"]:-0}"; }
	echo
	echo "nfsec/XFRM AES-GCM-128:         $(ratio "$(m nfsec-gcm)" "$(m xfrm-gcm)")"
	echo "nfsec, crypto API's driver/XFRM: $(ratio "$(m nfsec-gcm-default)" "$(m xfrm-gcm)")"
	echo "nfsec, measured/default driver: $(ratio "$(m nfsec-gcm)" "$(m nfsec-gcm-default)")"
	echo "nfsec without rx_spread/XFRM:   $(ratio "$(m nfsec-gcm-nospread)" "$(m xfrm-gcm)")"
	echo "nfsec, rx_spread on/off:        $(ratio "$(m nfsec-gcm)" "$(m nfsec-gcm-nospread)")"
	[[ " $configs " != *" nfsec-gcm-heap "* ]] ||
		echo "nfsec, request slots/heap:      $(ratio "$(m nfsec-gcm)" "$(m nfsec-gcm-heap)")"
	echo "# nfsec's crypto driver choice (drivers.c, measured at the first SA):"
	dmesg | sed -n 's/.*nfsec: crypto /#   /p'
	echo "nfsec/XFRM ChaCha20-Poly1305:   $(ratio "$(m nfsec-chacha)" "$(m xfrm-chacha)")"
	echo "nfsec AES-GCM-128/WireGuard:    $(ratio "$(m nfsec-gcm)" "$(m wireguard)")"
	echo "nfsec/XFRM AES-GCM-128, IPv6:   $(ratio "$(m nfsec6-gcm)" "$(m xfrm6-gcm)")"
	echo "nfsec/XFRM AH hmac-sha256-128:  $(ratio "$(m nfsec-ah)" "$(m xfrm-ah)")"
	echo "nfsec AH, crypto API's driver/XFRM: $(ratio "$(m nfsec-ah-default)" "$(m xfrm-ah)")"
	echo "nfsec/XFRM ESP in UDP, GCM-128: $(ratio "$(m nfsec-udp)" "$(m xfrm-udp)")"
fi

if suite streams; then
	sc="nfsec-gcm nfsec-gcm-nospread xfrm-gcm wireguard"
	run_rounds streams streams_run $sc
	table streams "Mbit/s, 4 TCP streams" 1 $sc
	echo
	echo "nfsec/XFRM AES-GCM-128, 4 streams:  $(ratio "${med["streams nfsec-gcm"]}" "${med["streams xfrm-gcm"]}")"
	echo "nfsec/WireGuard, 4 streams:         $(ratio "${med["streams nfsec-gcm"]}" "${med["streams wireguard"]}")"
	echo "nfsec, rx_spread on/off, 4 streams: $(ratio "${med["streams nfsec-gcm"]}" "${med["streams nfsec-gcm-nospread"]}")"
fi

if suite udp; then
	uc=${BENCH_UDP_CONFIGS:-"veth nfsec-gcm nfsec-gcm-nospread xfrm-gcm"}
	run_rounds udp udp $uc
	table udp "received packets/s, 64-byte UDP" 1 $uc
	pps=$(ratio "${med["udp nfsec-gcm"]:-0}" "${med["udp xfrm-gcm"]:-0}")
	pps1=$(ratio "${med["udp nfsec-gcm"]:-0}" "${med["udp nfsec-gcm-nospread"]:-0}")
	table udp "loss %" 2 $uc
	echo
	echo "nfsec/XFRM AES-GCM-128, 64-byte UDP packets/s: $pps"
	echo "nfsec, rx_spread on/off, packets/s: $pps1"
	[[ " $uc " != *" nfsec-gcm-heap "* ]] ||
		echo "nfsec, request slots/heap, packets/s: $(ratio "${med["udp nfsec-gcm"]:-0}" "${med["udp nfsec-gcm-heap"]:-0}")"
fi

if suite rtt; then
	rc="veth nfsec-gcm nfsec-gcm-nospread xfrm-gcm wireguard"
	run_rounds rtt rtt $rc
	table rtt "ms, p50 of $pings pings" 1 $rc
	p50=$(ratio "${med["rtt nfsec-gcm"]}" "${med["rtt xfrm-gcm"]}")
	p50n=$(ratio "${med["rtt nfsec-gcm"]}" "${med["rtt nfsec-gcm-nospread"]}")
	table rtt "ms, p99 of $pings pings" 2 $rc
	echo
	echo "nfsec/XFRM AES-GCM-128, RTT p50: $p50"
	echo "nfsec/XFRM AES-GCM-128, RTT p99: $(ratio "${med["rtt nfsec-gcm"]}" "${med["rtt xfrm-gcm"]}")"
	echo "nfsec, rx_spread on/off, RTT p50: $p50n"
fi

# The other sites' tables (install, scale): SA i has SPI 0x100000 + i and
# peer 100.x.y.z from i, out for even i and in for odd i, ESP tunnel mode
# with the cheapest algorithms (null encryption, hmac-sha256-128). Policy j
# names SA j in its direction; nine in ten are host pairs (172.24/16 to
# 172.28/16 and back), one in ten subnet pairs (192.168.k.0/24 to
# 10.100-103.k.0/24). None matches the benchmark's 172.16/16 or 10.0/16.
gen_tables() {	# nfsec|xfrm
	awk -v what="$1" -v nsas="$nsas" -v npols="$npols" -v key="$k32" 'BEGIN {
		lo = "198.51.100.1"
		for (i = 0; i < nsas; i++) {
			peer = sprintf("100.%d.%d.%d", 64 + int(i / 65536), int(i / 256) % 256, i % 256)
			out = i % 2 == 0
			src = out ? lo : peer; dst = out ? peer : lo
			if (what == "nfsec")
				printf "sa add dir %s src %s dst %s spi %d proto esp mode tunnel enc null auth hmac-sha256-128 key %s\n",
					out ? "out" : "in", src, dst, 1048576 + i, key
			else
				printf "xfrm state add src %s dst %s proto esp spi %d mode tunnel enc cipher_null \"\" auth-trunc hmac(sha256) %s 128\n",
					src, dst, 1048576 + i, key
		}
		for (j = 0; j < npols; j++) {
			k = int(j / 10)
			if (j % 10 == 9) {
				a = sprintf("192.168.%d.0/24", k % 256)
				b = sprintf("10.%d.%d.0/24", 100 + int(k / 256), k % 256)
			} else {
				a = sprintf("172.24.%d.%d/32", int(j / 256) % 256, j % 256)
				b = sprintf("172.28.%d.%d/32", int(j / 256) % 256, j % 256)
			}
			peer = sprintf("100.%d.%d.%d", 64 + int(j / 65536), int(j / 256) % 256, j % 256)
			out = j % 2 == 0
			src = out ? a : b; dst = out ? b : a
			if (what == "nfsec")
				printf "policy add dir %s src %s dst %s protect spi %d dst %s\n",
					out ? "out" : "in", src, dst, 1048576 + j, out ? peer : lo
			else
				printf "xfrm policy add src %s dst %s dir %s tmpl src %s dst %s proto esp spi %d mode tunnel\n",
					src, dst, out ? "out" : "in", out ? lo : peer, out ? peer : lo, 1048576 + j
		}
	}'
}
# timed NS SECONDS-VAR CMD...: run CMD in namespace NS, its wall time in
# SECONDS-VAR. The clock runs inside the namespace, around CMD alone: the
# tool's start and run, not ip netns exec's entry (a mount namespace and
# /sys again, about 0.1 s under TCG), which is neither tool's.
timed() {
	local ns=$1 var=$2 t
	shift 2
	# shellcheck disable=SC2016 # expanded by the inner bash
	t=$(ip netns exec "$ns" bash -c 't0=$EPOCHREALTIME
		"$@" >&2 || echo "# failed: $*" >&2
		echo "$t0 $EPOCHREALTIME"' timed "$@") ||
		{ echo "# failed to enter $ns: $*" >&2; t="0 0"; }
	printf -v "$var" '%s' "$(awk -v t="$t" 'BEGIN {split(t, a, " "); printf "%.3f", a[2] - a[1]}')"
}
rate() { awk -v n="$1" -v t="$2" 'BEGIN { if (t > 0) printf "%.0f", n / t; else print 0 }'; }

if suite install || suite scale; then
	gen_tables nfsec | grep '^sa ' >"$tmp/n-sa"
	gen_tables nfsec | grep '^policy ' >"$tmp/n-pol"
	gen_tables xfrm | grep '^xfrm state ' >"$tmp/x-sa"
	gen_tables xfrm | grep '^xfrm policy ' >"$tmp/x-pol"
	# Install rounds (ROUNDS with the install suite, else one): each but
	# the last into namespaces of their own, flushed and deleted after;
	# the last into cn and cx, whose tables the scale suite uses. Who
	# goes first alternates. The first round allocates memory no table
	# has used before in this boot (later rounds reuse the pages the
	# earlier ones freed): its runs are printed and counted with the rest.
	install_sa() {	# NS nfsec|xfrm: SAs, then policies: "SAS/S/POLS/S/SECONDS/SECONDS"
		local t_sa t_pol
		if [ "$2" = nfsec ]; then
			timed "$1" t_sa "$NFSEC" -b "$tmp/n-sa"
			timed "$1" t_pol "$NFSEC" -b "$tmp/n-pol"
		else
			timed "$1" t_sa ip -batch "$tmp/x-sa"
			timed "$1" t_pol ip -batch "$tmp/x-pol"
		fi
		echo "$(rate "$nsas" "$t_sa")/$(rate "$npols" "$t_pol")/$t_sa/$t_pol"
	}
	nins=1
	! suite install || nins=$rounds
	for r in $(seq "$nins"); do
		ns_n=$cn ns_x=$cx
		if [ "$r" -lt "$nins" ]; then
			ns_n=$c-in ns_x=$c-ix
			ip netns add "$ns_n"
			ip netns add "$ns_x"
		fi
		order="nfsec xfrm"
		[ $((r % 2)) = 1 ] || order="xfrm nfsec"
		for what in $order; do
			case $what in
			nfsec) ins_ns=$ns_n ins_key="install nfsec -b" ;;
			xfrm) ins_ns=$ns_x ins_key="install ip -batch" ;;
			esac
			res["$ins_key"]="${res["$ins_key"]:-} $(install_sa "$ins_ns" "$what")"
		done
		if [ "$r" -lt "$nins" ]; then
			ip netns exec "$ns_n" "$NFSEC" policy flush
			ip netns exec "$ns_n" "$NFSEC" sa flush
			ip netns exec "$ns_x" ip xfrm policy flush
			ip netns exec "$ns_x" ip xfrm state flush
			ip netns del "$ns_n"
			ip netns del "$ns_x"
			sleep 3	# (the namespaces' cleanup, before the next round)
		fi
	done
	# dumped back: counts, and the last SA and policy's fields
	last=$((nsas - 1)) lastp=$((npols - 1))
	n_sa=$(ip netns exec "$cn" "$NFSEC" -j sa list | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = max(d, key=lambda s: s["spi"])
print(len(d), len({s["spi"] for s in d}), s["dir"], s["dst"], hex(s["spi"]), s["auth"]["name"])')
	n_pol=$(ip netns exec "$cn" "$NFSEC" -j policy list | python3 -c '
import json, sys
d = json.load(sys.stdin)
p = max(d, key=lambda p: p.get("sa", {}).get("spi", 0))
print(len(d), p["dir"], p["src"], p["dst"], hex(p["sa"]["spi"]))')
	x_sa=$(ip netns exec "$cx" ip xfrm state list | python3 -c '
import re, sys
t = sys.stdin.read()
ids = re.findall(r"^src (\S+) dst (\S+)\n\tproto esp spi (0x[0-9a-f]+)", t, re.M)
s = max(ids, key=lambda i: int(i[2], 16)) if ids else ("-", "-", "0")
print(len(ids), len({i[2] for i in ids}), s[1], s[2], "hmac(sha256)" if "hmac(sha256)" in t else "-")')
	x_pol=$(ip netns exec "$cx" ip xfrm policy list | python3 -c '
import re, sys
t = sys.stdin.read()
ps = re.findall(r"^src (\S+) dst (\S+)\s*\n\tdir (\w+).*?spi (0x[0-9a-f]+)", t, re.M | re.S)
p = max(ps, key=lambda p: int(p[3], 16)) if ps else ("-", "-", "-", "0")
print(len(ps), p[2], p[0], p[1], p[3])')
	if suite install && [ -n "${BENCH_PROFILE:-}" ]; then
		# where an install's time goes: the tables again, sampled, into
		# a namespace of their own
		echo
		echo "# profile of the install: perf record -a -e cpu-clock -F 499"
		for what in nfsec xfrm; do
			ip netns add "$c-p"
			if [ $what = nfsec ]; then
				set -- "$NFSEC" -b "$tmp/n-sa"
			else
				set -- ip -batch "$tmp/x-sa"
			fi
			perf record -q -a -e cpu-clock -F 499 -o "$tmp/install.perf" -- \
				ip netns exec "$c-p" "$@" 2>/dev/null >/dev/null || true
			ip netns del "$c-p"
			echo "# $what: the top symbols of installing $nsas SAs"
			perf report -i "$tmp/install.perf" --stdio --no-children --sort comm,dso,sym -q -g none 2>/dev/null |
				grep -v '^$' | head -n 25 | sed 's/^/#   /'
			perf report -i "$tmp/install.perf" --stdio --no-children --sort comm,dso -q -g none 2>/dev/null |
				grep -v '^$' | head -n 8 | sed 's/^/#   /'
			rm -f "$tmp/install.perf"
		done
	fi
	if suite install; then
		echo
		echo "install: $nsas SAs, then $npols policies, in one batch file each; $nins rounds, alternating who goes first"
		t0=$EPOCHREALTIME
		ip netns exec "$cn" true
		echo "(timed inside the namespace; ip netns exec's own entry, not counted: $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.3f", b - a}') s)"
		# (table keeps the medians of the field it was last given)
		table install "SAs/s" 1 "nfsec -b" "ip -batch"
		r_sa=$(ratio "${med["install nfsec -b"]}" "${med["install ip -batch"]}")
		table install "policies/s" 2 "nfsec -b" "ip -batch"
		r_pol=$(ratio "${med["install nfsec -b"]}" "${med["install ip -batch"]}")
		table install "s for the SAs" 3 "nfsec -b" "ip -batch"
		runs_n=(${res["install nfsec -b"]}) runs_x=(${res["install ip -batch"]})
		echo
		echo "nfsec/ip -batch, SAs/s:      $r_sa (medians)"
		echo "nfsec/ip -batch, policies/s: $r_pol (medians)"
		echo "nfsec/ip -batch, SAs/s, round by round: $(for i in "${!runs_n[@]}"; do ratio "${runs_n[i]%%/*}" "${runs_x[i]%%/*}"; printf ' '; done)"
		echo "dumped back (count, distinct SPIs, last SA: dir dst spi auth): nfsec $n_sa; XFRM $x_sa"
		echo "dumped back (count, last policy: dir src dst spi): nfsec $n_pol; XFRM $x_pol"
		echo "expected: $nsas SAs, the last $([ $((last % 2)) = 0 ] && echo out || echo in) spi $(printf '0x%x' $((0x100000 + last))); $npols policies, the last spi $(printf '0x%x' $((0x100000 + lastp)))"
	fi
fi

if suite scale; then
	# the same tunnel from c (its own SAs and policies alone) and from cn/cx
	# (with the other tables)
	kc="nfsec-gcm nfsec-gcm@n xfrm-gcm xfrm-gcm@x"
	run_rounds scale tcp_run $kc
	table scale "Mbit/s, single TCP stream, $nsas SAs + $npols policies" 1 $kc
	echo
	echo "nfsec with/without the tables: $(ratio "${med["scale nfsec-gcm@n"]}" "${med["scale nfsec-gcm"]}")"
	echo "XFRM with/without the tables:  $(ratio "${med["scale xfrm-gcm@x"]}" "${med["scale xfrm-gcm"]}")"
fi

# The plot: throughput medians per configuration (bars) and the runs
# (points), one group per suite that measures Mbit/s.
svg=${BENCH_SVG:-$out/throughput.svg}
if command -v gnuplot >/dev/null; then
	mkdir -p "$(dirname "$svg")"
	dat=$tmp/plot.dat
	: >"$dat"
	for k in "${!res[@]}"; do
		case $k in tcp\ *|streams\ *|scale\ *) ;; *) continue ;; esac
		printf '%s %s %s\n' "${k/ /:}" "${med[$k]:-0}" "${res[$k]}"
	done | sort -k1,1 -s | sed 's/@[nx] /+tables /' >"$dat"
	if [ -s "$dat" ]; then
		ncol=$(awk '{ if (NF > m) m = NF } END { print m }' "$dat")
		gnuplot <<-EOF
		set terminal svg size 1000,500 dynamic font "sans,11"
		set output "$svg"
		set title "nfsec benchmark, $(uname -r), $(nproc) vCPUs: medians (bars) and runs (points)"
		set ylabel "Mbit/s"
		set style fill solid 0.5
		set boxwidth 0.6
		set xtics rotate by -40
		set grid ytics
		set key off
		set yrange [0:*]
		plot "$dat" using 0:2:xtic(1) with boxes, \
		     for [i=3:$ncol] "$dat" using 0:i with points pt 7 ps 0.5
		EOF
		echo
		echo "plot: $svg"
	fi
else
	echo "# no gnuplot: no plot"
fi
# BENCH_PROFILE=1: where the time goes (Documentation/performance.md):
# perf samples every CPU (cpu-clock, the software clock: TCG has no PMU)
# during one more run of each of BENCH_PROFILE_CONFIGS, and
# tools/bench/profile.py sorts the symbols into kinds of work.
# BENCH_PROFILE_GRAPH=SYMBOL records call graphs and prints SYMBOL's callers.
# BENCH_PROFILE_RUN=udp samples the 64-byte UDP run instead of the TCP one.
[ -n "${BENCH_PROFILE:-}" ] || exit 0
case ${BENCH_PROFILE_RUN:-tcp} in
tcp) prof_run=tcp prof_unit=Mbit/s ;;
udp) prof_run=udp prof_unit="packets/s (and loss %)" ;;
*) echo "# BENCH_PROFILE_RUN: tcp or udp, not ${BENCH_PROFILE_RUN}"; exit 1 ;;
esac
echo
echo "# profile: perf record -a -e cpu-clock -F 499 over one $secs s $prof_run run of each"
for cfg in ${BENCH_PROFILE_CONFIGS-nfsec-gcm xfrm-gcm}; do
	setup "${cfg%@*}" "$(cl_of "$cfg")"
	data=$tmp/profile.perf
	# (perf takes seconds to start under emulation: the run waits for its
	# file, and perf stops when the run is over)
	perf record -q -a ${BENCH_PROFILE_GRAPH:+-g} -e cpu-clock -F 499 -o "$data" -- sleep 600 2>/dev/null &
	perf_pid=$!
	for _ in $(seq 300); do
		[ -s "$data" ] && break
		sleep 0.1
	done
	sleep 1
	v=$($prof_run)
	kill -INT "$perf_pid" 2>/dev/null || true
	wait "$perf_pid" || true
	teardown
	echo "# $cfg: $v $prof_unit while sampled"
	perf report -i "$data" --stdio --no-children --sort dso,sym -q -g none 2>/dev/null |
		python3 tools/bench/profile.py "$cfg"
	# BENCH_PROFILE_GRAPH=SYMBOL: who calls it (perf record -g)
	[ -z "${BENCH_PROFILE_GRAPH:-}" ] ||
		perf report -i "$data" --stdio --no-children -S "$BENCH_PROFILE_GRAPH" \
			-G -q --percent-limit 1 2>/dev/null | head -n 60 | sed 's/^/#   /'
	rm -f "$data"
done
