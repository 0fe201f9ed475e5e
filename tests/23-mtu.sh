#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 23-mtu.sh: ESP overhead against a 1400-byte link, tunnel and transport,
# aes-gcm-128: no black hole for DF packets, fragments for the others.
#
#   +---------------+        +----------------+  MTU 1400  +----------------+
#   | ns h1         |        | ns g1          |============| ns g2          |
#   | eth0          |--------| lan0  wan0     |            | wan0           |
#   | 192.168.1.10  |        | 192.168.1.1    |            | 10.0.0.2       |
#   +---------------+        |       10.0.0.1 |            | lo 192.168.2.1 |
#                            +----------------+            +----------------+
#   tunnel:    192.168.1.0/24 <-> 192.168.2.0/24 between g1 and g2, SPI
#              0x6001 (g1->g2) and 0x6002; h1's packets are forwarded by g1
#   transport: g1 <-> g2 (10.0.0.1 <-> 10.0.0.2), SPI 0x5001 and 0x5002
#   captured on g2's wan0
#
# The largest packet that fits once protected (src/output.c inner_mtu()):
# ESP header 8, IV 8, ICV 16, the payload plus 2 trailer bytes padded to 4,
# and the outer IPv4 header (20) in tunnel mode or the packet's own header
# in transport mode; against the outer route's MTU (tunnel) or the egress
# device's MTU (transport). For 1400: 1346 (tunnel), 1366 (transport).
#
# Covers: a DF ping of exactly that size passes; one byte more gets an ICMP
# frag-needed carrying that MTU (ping prints it), counted too_big, and the
# sender's next try fails locally with the learnt MTU (no black hole); a
# DF-clear 3000-byte ping is answered, its ESP travels in fragments (none
# above 1400 on the link), reassembled before decryption; exact per-SA
# counters.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter mtu h1 g1 g2			# the rest runs in namespace h1

LINK_MTU=1400

# inner_mtu tunnel|transport MTU: what src/output.c inner_mtu() gives for
# aes-gcm-128 and a 20-byte IPv4 header.
inner_mtu() {
	local esp=8 iv=8 icv=16 blk=4 ihl=20 outer=0 fixed room
	[ "$1" = tunnel ] && outer=20
	fixed=$((esp + iv + outer + icv + ($1 == "transport" ? ihl : 0)))
	room=$((($2 - fixed) / blk * blk - 2))
	echo $((room + ($1 == "transport" ? ihl : 0)))
}
log "expected MTUs: tunnel $(inner_mtu tunnel $LINK_MTU), transport $(inner_mtu transport $LINK_MTU)"

# mtu_case MODE FROM DST OUT_SPI IN_SPI: FROM pings DST through g1's MODE
# SA pair with g2 (OUT_SPI g1 -> g2, IN_SPI back), captured on g2's wan0:
# DF pings of the inner MTU and one byte more (frag-needed, then the
# learnt MTU), a 3028-byte ping with DF clear; exact counters of the four
# SAs and what the capture holds.
mtu_case() {
	local mode=$1 from=$2 dst=$3 out=$4 in=$5 mtu s pcap=$TMP/$1.pcap
	local big packets frags clear f1 f2
	mtu=$(inner_mtu "$mode" $LINK_MTU)
	s=$((mtu - 28))
	case $mode in
	tunnel)
		# h1 sends the 3028 bytes as 1500 + 1500 + 68 (its link's MTU),
		# and once it learnt the MTU it fragments to fit: g1 tunnels each
		# fragment whole (3 packets, 3068 bytes) and no ESP fragment
		# leaves g1. g2 answers with one 3028-byte packet, protected
		# whole: an ESP packet of 20 + 8 + 8 + 3032 (3028 + 2, padded to
		# 4) + 16 = 3084 bytes, 3064 bytes of payload in fragments of at
		# most 1376 (1400 - 20, a multiple of 8): 1376 + 1376 + 312.
		big="3068 5" frags="0 3" clear='ip and not ip proto 50'
		;;
	transport)
		# g1's own 3028-byte packet is an ESP packet of 20 + 8 + 8 +
		# 3012 (3008 + 2, padded to 4) + 16 = 3064 bytes: 3044 bytes of
		# payload, 1376 + 1376 + 292, 3 fragments each way.
		big="3028 3" frags="3 3"
		clear='ip and host 10.0.0.1 and host 10.0.0.2 and not ip proto 50'
		;;
	esac

	cap_start g2 wan0 "$pcap"
	check "$mode: DF ping of $mtu bytes (-s $s) passes" \
		on "$from" ping -M do -c 1 -W 2 -s $s "$dst"
	expect_fail "$mode: DF ping of $((mtu + 1)) bytes: frag needed, mtu $mtu" \
		"(mtu = |mtu=)$mtu([^0-9]|$)" on "$from" ping -M do -c 1 -W 2 -s $((s + 1)) "$dst"
	expect_eq "g1: out SA $out: 1 sent, too_big 1" "bytes=$mtu packets=1 too_big=1" \
		"$(sa_stats g1 "$out")" || true
	expect_fail "$mode: $from learnt the MTU: the next try fails locally" \
		"message too long, mtu=$mtu([^0-9]|$)" on "$from" ping -M do -c 1 -W 2 -s $((s + 1)) "$dst"
	expect_eq "g1: too_big still 1" "bytes=$mtu packets=1 too_big=1" "$(sa_stats g1 "$out")" || true
	# The frag-needed lowered the sender's route to the MTU; the ESP
	# packet of an MTU-sized packet is $LINK_MTU bytes and must still leave.
	check "$mode: with the MTU learnt, a DF ping of $mtu bytes still passes" \
		on "$from" ping -M do -c 1 -W 2 -s $s "$dst" || true
	check "$mode: 3028-byte ping with DF clear is answered" \
		on "$from" ping -M dont -c 1 -W 5 -s 3000 "$dst"
	cap_stop "$pcap"

	read -r big packets <<<"$big"
	expect_eq "g1: out SA $out: 2 fitting + the 3028-byte ping ($big bytes)" \
		"bytes=$((2 * mtu + big)) packets=$packets too_big=1" "$(sa_stats g1 "$out")" || true
	expect_eq "g2: in SA $out: the same (reassembled, then decrypted)" \
		"bytes=$((2 * mtu + big)) packets=$packets" "$(sa_stats g2 "$out")" || true
	expect_eq "g2: out SA $in: 3 replies" "bytes=$((2 * mtu + 3028)) packets=3" \
		"$(sa_stats g2 "$in")" || true
	expect_eq "g1: in SA $in: 3 replies, reassembled then decrypted" \
		"bytes=$((2 * mtu + 3028)) packets=3" "$(sa_stats g1 "$in")" || true

	cap_show "$pcap" "" 12
	expect_eq "capture: 4 $mode ESP packets of exactly 1400 bytes" 4 \
		"$(cap_count "$pcap" 'ip proto 50 and ip[2:2] = 1400')" || true
	expect_eq "capture: no IPv4 packet above 1400 bytes" 0 \
		"$(cap_count "$pcap" 'ip and ip[2:2] > 1400')" || true
	f1=$(cap_count "$pcap" 'ip proto 50 and src 10.0.0.1 and ip[6:2] & 0x3fff != 0')
	f2=$(cap_count "$pcap" 'ip proto 50 and src 10.0.0.2 and ip[6:2] & 0x3fff != 0')
	log "ESP fragments: g1 -> g2 $f1, g2 -> g1 $f2"
	expect_eq "capture: ESP fragments g1 -> g2, g2 -> g1: $frags" "$frags" "$f1 $f2" || true
	expect_eq "capture: no cleartext ($clear)" 0 "$(cap_count "$pcap" "$clear")" || true
}

TMP=$(mktemp -d)
link h1 eth0 192.168.1.10/24 g1 lan0 192.168.1.1/24
link g1 wan0 10.0.0.1/24 g2 wan0 10.0.0.2/24 $LINK_MTU
echo "route add default via 192.168.1.1" | ipb h1
echo "route add 192.168.2.0/24 via 10.0.0.2" | ipb g1
ipb g2 <<EOF
addr add 192.168.2.1/32 dev lo
route add 192.168.1.0/24 via 10.0.0.1
EOF
on g1 sysctl -qw net.ipv4.ip_forward=1

log "tunnel: h1 -> 192.168.2.1 through g1"
check "g1: tunnel SAs 0x6001/0x6002 and policies" esp_pair g1 tunnel 0x6001 0x6002 \
	"$KEY1" "$KEY2" 10.0.0.1 10.0.0.2 192.168.1.0/24 192.168.2.0/24
# (192.168.2.1 is g2's own: the tunnel ends there, its back policy is dir in)
check "g2: tunnel SAs 0x6001/0x6002 and policies" esp_pair -b in g2 tunnel 0x6002 0x6001 \
	"$KEY2" "$KEY1" 10.0.0.2 10.0.0.1 192.168.2.0/24 192.168.1.0/24
mtu_case tunnel h1 192.168.2.1 0x6001 0x6002

log "transport: g1 <-> g2"
check "g1: transport SAs 0x5001/0x5002 and policies" esp_pair -f g1 transport \
	0x5001 0x5002 "$KEY3" "$KEY4" 10.0.0.1 10.0.0.2
check "g2: transport SAs 0x5001/0x5002 and policies" esp_pair -f g2 transport \
	0x5002 0x5001 "$KEY4" "$KEY3" 10.0.0.2 10.0.0.1
mtu_case transport g1 10.0.0.2 0x5001 0x5002

for g in g1 g2; do
	expect_eq "$g: no namespace drops" "" "$(ns_stats $g)" || true
done

rm -rf "$TMP"
t_end
