#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM (tools/bench/run). Two namespaces joined by veth; the
# measured traffic goes between inner addresses, through a tunnel:
#
#   +----------------------+   veth (10.0.0.0/24)   +----------------------+
#   | ns c  172.16.0.1 (lo)|------------------------| ns s  172.16.0.2 (lo)|
#   |       fd01::1    (lo)|       (fd00::/64)      |       fd01::2    (lo)|
#   |       iperf3 client  |   ESP tunnel / wg0     |       iperf3 server  |
#   +----------------------+                        +----------------------+
#
# The *6 configurations run the same tunnel over IPv6 (IPv6 inside IPv6);
# the *-ah ones use AH (hmac-sha256-128) instead of ESP, over IPv4; the
# *-udp ones put ESP in UDP (RFC 3948, port 4500 both ways; XFRM with the
# encapsulation socket a key-exchange daemon would hold open).
set -eu
cd "$(dirname "$0")/../.."
NFSEC=$PWD/tools/nfsec/nfsec
rounds=${BENCH_ROUNDS:-3}
secs=${BENCH_SECONDS:-5}
c=bench-c-$$ s=bench-s-$$
C() { ip netns exec "$c" "$@"; }
S() { ip netns exec "$s" "$@"; }
cleanup() { ip netns del "$c" 2>/dev/null || true; ip netns del "$s" 2>/dev/null || true; }
trap cleanup EXIT

[ -d /sys/module/nfsec ] || { modprobe nf_defrag_ipv6 && insmod src/nfsec.ko; }
# Without udev nothing loads the accelerated crypto drivers: load the best.
for m in aesni_intel ghash-clmulni-intel chacha20-x86_64 poly1305-x86_64 \
	 sha256-ssse3 sha512-ssse3 esp4 esp4_offload esp6 esp6_offload wireguard; do
	modprobe -q "$m" 2>/dev/null || true
done
gcm=$(awk '/^name/ {n=$3} /^driver/ {d=$3} /^priority/ && n=="gcm(aes)" {print d" ("$3")"}' /proc/crypto | sort -u | head -3 | tr '\n' ' ')
echo "# kernel $(uname -r), $(nproc) vCPUs; gcm(aes) drivers: $gcm"
echo "# the crypto API's default choice (highest priority) is used by nfsec and XFRM alike"

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
S iperf3 -s -D -1 >/dev/null 2>&1 || true

key=0x0102030405060708090a0b0c0d0e0f10111213141516171819202122232425262728292a2b2c
k20=${key:0:42} k32=${key:0:66} k36=${key:0:74}

# Outer and inner addresses of c and s, by family (4 or 6): sets oc os ic is.
addrs() {
	if [ "$1" = 6 ]; then
		oc=fd00::1 os=fd00::2 ic=fd01::1 is=fd01::2
	else
		oc=10.0.0.1 os=10.0.0.2 ic=172.16.0.1 is=172.16.0.2
	fi
}
setup_nfsec() {	# ALIAS KEY FAMILY [PROTO [SA-OPTIONS]]: PROTO esp or ah
	local p=${4:-esp} alg="aead $1" o=${5:-}
	[ "$p" = ah ] && alg="auth $1"
	addrs "$3"
	C "$NFSEC" -b - <<-EOF
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
}
xfrm_side() {	# NS SRC DST INNER_SRC INNER_DST OUTSPI INSPI ALG KEY PROTO [ENCAP...]
	local ns=$1 alg=(aead "$8" "$9" 128)
	[ "${10}" = ah ] && alg=(auth-trunc "$8" "$9" 128)
	ip netns exec "$ns" ip xfrm state add src "$2" dst "$3" proto "${10}" spi "$6" mode tunnel "${alg[@]}" "${@:11}"
	ip netns exec "$ns" ip xfrm state add src "$3" dst "$2" proto "${10}" spi "$7" mode tunnel "${alg[@]}" "${@:11}"
	ip netns exec "$ns" ip xfrm policy add src "$4" dst "$5" dir out tmpl src "$2" dst "$3" proto "${10}" mode tunnel
	ip netns exec "$ns" ip xfrm policy add src "$5" dst "$4" dir in tmpl src "$3" dst "$2" proto "${10}" mode tunnel
}
setup_xfrm() {	# KERNEL-ALG KEY FAMILY [PROTO [ENCAP...]]
	addrs "$3"
	xfrm_side "$c" "$oc" "$os" "$ic" "$is" 0x2001 0x2002 "$1" "$2" "${4:-esp}" "${@:5}"
	xfrm_side "$s" "$os" "$oc" "$is" "$ic" 0x2002 0x2001 "$1" "$2" "${4:-esp}" "${@:5}"
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
	local kc=/tmp/bench-$$-c.key ks=/tmp/bench-$$-s.key
	wg genkey >"$kc"; wg genkey >"$ks"
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
	C "$NFSEC" policy flush; C "$NFSEC" sa flush
	S "$NFSEC" policy flush; S "$NFSEC" sa flush
	C ip xfrm policy flush; C ip xfrm state flush
	S ip xfrm policy flush; S ip xfrm state flush
	C ip link del wg0 2>/dev/null || true; S ip link del wg0 2>/dev/null || true
	[ -z "$encap_pids" ] || { kill $encap_pids 2>/dev/null; wait $encap_pids 2>/dev/null; } || true
	encap_pids=
}
measure() {	# DEST: prints Mbit/s of one single-stream TCP run
	S iperf3 -s -D -1 >/dev/null 2>&1
	sleep 0.3
	C iperf3 -c "$1" -t "$secs" -J 2>/dev/null |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.1f" % (d["end"]["sum_received"]["bits_per_second"]/1e6))' ||
		echo 0
}

configs=${BENCH_CONFIGS:-"veth nfsec-gcm xfrm-gcm nfsec-chacha xfrm-chacha wireguard nfsec6-gcm xfrm6-gcm nfsec-ah xfrm-ah nfsec-udp xfrm-udp"}
declare -A results
# setup CFG: the tunnel (or none) of configuration CFG; dest: where to send.
setup() {
	dest=172.16.0.2
	case $1 in
	veth) dest=10.0.0.2 ;;
	nfsec-gcm) setup_nfsec aes-gcm-128 "$k20" 4 ;;
	xfrm-gcm) setup_xfrm 'rfc4106(gcm(aes))' "$k20" 4 ;;
	nfsec-chacha) setup_nfsec chacha20-poly1305 "$k36" 4 ;;
	xfrm-chacha) setup_xfrm 'rfc7539esp(chacha20,poly1305)' "$k36" 4 ;;
	nfsec6-gcm) setup_nfsec aes-gcm-128 "$k20" 6; dest=fd01::2 ;;
	xfrm6-gcm) setup_xfrm 'rfc4106(gcm(aes))' "$k20" 6; dest=fd01::2 ;;
	nfsec-ah) setup_nfsec hmac-sha256-128 "$k32" 4 ah ;;
	xfrm-ah) setup_xfrm 'hmac(sha256)' "$k32" 4 ah ;;
	nfsec-udp) setup_nfsec aes-gcm-128 "$k20" 4 esp "encap udp" ;;
	xfrm-udp) encap_sockets
		setup_xfrm 'rfc4106(gcm(aes))' "$k20" 4 esp encap espinudp 4500 4500 0.0.0.0 ;;
	wireguard) setup_wg; dest=172.16.1.2 ;;
	esac
}

for r in $(seq "$rounds"); do
	for cfg in $configs; do
		setup "$cfg"
		C ping -c 1 -W 2 "$dest" >/dev/null || echo "# $cfg: ping failed"
		v=$(measure "$dest")
		teardown
		results[$cfg]="${results[$cfg]:-} $v"
		echo "# round $r $cfg $v Mbit/s"
	done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo
printf '%-14s %10s   %s\n' config "median" "runs (Mbit/s, single TCP stream)"
for cfg in $configs; do
	m=$(echo "${results[$cfg]}" | median)
	declare "med_${cfg//-/_}=$m"
	printf '%-14s %10s   %s\n' "$cfg" "$m" "${results[$cfg]}"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "nfsec/XFRM AES-GCM-128:        $(ratio "${med_nfsec_gcm:-0}" "${med_xfrm_gcm:-0}")"
echo "nfsec/XFRM ChaCha20-Poly1305:  $(ratio "${med_nfsec_chacha:-0}" "${med_xfrm_chacha:-0}")"
echo "nfsec AES-GCM-128/WireGuard:   $(ratio "${med_nfsec_gcm:-0}" "${med_wireguard:-0}")"
echo "nfsec/XFRM AES-GCM-128, IPv6:  $(ratio "${med_nfsec6_gcm:-0}" "${med_xfrm6_gcm:-0}")"
echo "nfsec/XFRM AH hmac-sha256-128: $(ratio "${med_nfsec_ah:-0}" "${med_xfrm_ah:-0}")"
echo "nfsec/XFRM ESP in UDP, GCM-128: $(ratio "${med_nfsec_udp:-0}" "${med_xfrm_udp:-0}")"

# BENCH_PROFILE=1: where the time goes (Documentation/performance.md):
# perf samples every CPU (cpu-clock, the software clock: TCG has no PMU)
# during one more run of each of BENCH_PROFILE_CONFIGS, and
# tools/bench/profile.py sorts the symbols into kinds of work.
# BENCH_PROFILE_GRAPH=SYMBOL records call graphs and prints SYMBOL's callers.
[ -n "${BENCH_PROFILE:-}" ] || exit 0
echo
echo "# profile: perf record -a -e cpu-clock -F 499 over one $secs s run of each"
for cfg in ${BENCH_PROFILE_CONFIGS:-nfsec-gcm xfrm-gcm}; do
	setup "$cfg"
	C ping -c 1 -W 2 "$dest" >/dev/null || echo "# $cfg: ping failed"
	data=/tmp/bench-$$-$cfg.perf
	# (perf takes seconds to start under emulation: the run waits for its
	# file, and perf stops when the run is over)
	perf record -q -a ${BENCH_PROFILE_GRAPH:+-g} -e cpu-clock -F 499 -o "$data" -- sleep 600 2>/dev/null &
	perf_pid=$!
	for _ in $(seq 300); do
		[ -s "$data" ] && break
		sleep 0.1
	done
	sleep 1
	v=$(measure "$dest")
	kill -INT "$perf_pid" 2>/dev/null || true
	wait "$perf_pid" || true
	teardown
	echo "# $cfg: $v Mbit/s while sampled"
	perf report -i "$data" --stdio --no-children --sort dso,sym -q -g none 2>/dev/null |
		python3 tools/bench/profile.py "$cfg"
	# BENCH_PROFILE_GRAPH=SYMBOL: who calls it (perf record -g)
	[ -z "${BENCH_PROFILE_GRAPH:-}" ] ||
		perf report -i "$data" --stdio --no-children -S "$BENCH_PROFILE_GRAPH" \
			-G -q --percent-limit 1 2>/dev/null | head -n 60 | sed 's/^/#   /'
	rm -f "$data"
done
