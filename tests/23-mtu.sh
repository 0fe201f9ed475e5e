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
MTU_TUN=$(inner_mtu tunnel $LINK_MTU)
MTU_TRA=$(inner_mtu transport $LINK_MTU)
log "expected MTUs: tunnel $MTU_TUN, transport $MTU_TRA"

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

check "g1: tunnel SAs 0x6001/0x6002 and policies" esp_pair g1 tunnel 0x6001 0x6002 \
	"$KEY1" "$KEY2" 10.0.0.1 10.0.0.2 192.168.1.0/24 192.168.2.0/24
# (192.168.2.1 is g2's own: the tunnel ends there, its back policy is dir in)
check "g2: tunnel SAs 0x6001/0x6002 and policies" esp_pair -b in g2 tunnel 0x6002 0x6001 \
	"$KEY2" "$KEY1" 10.0.0.2 10.0.0.1 192.168.2.0/24 192.168.1.0/24

log "tunnel: h1 -> 192.168.2.1 through g1"
cap_start g2 wan0 "$TMP/tun.pcap"
s=$((MTU_TUN - 28))
check "tunnel: DF ping of $MTU_TUN bytes (-s $s) passes" \
	on h1 ping -M do -c 1 -W 2 -s $s 192.168.2.1
expect_fail "tunnel: DF ping of $((MTU_TUN + 1)) bytes: frag needed, mtu $MTU_TUN" \
	"(mtu = |mtu=)$MTU_TUN([^0-9]|$)" on h1 ping -M do -c 1 -W 2 -s $((s + 1)) 192.168.2.1
expect_eq "g1: out SA 0x6001: 1 sent, too_big 1" "bytes=$MTU_TUN packets=1 too_big=1" \
	"$(sa_stats g1 0x6001)" || true
expect_fail "tunnel: h1 learnt the MTU: the next try fails locally" \
	"message too long, mtu=$MTU_TUN([^0-9]|$)" on h1 ping -M do -c 1 -W 2 -s $((s + 1)) 192.168.2.1
expect_eq "g1: too_big still 1" "bytes=$MTU_TUN packets=1 too_big=1" "$(sa_stats g1 0x6001)" || true
check "tunnel: with the MTU learnt, a DF ping of $MTU_TUN bytes still passes" \
	on h1 ping -M do -c 1 -W 2 -s $s 192.168.2.1 || true
check "tunnel: 3028-byte ping with DF clear is answered" \
	on h1 ping -M dont -c 1 -W 5 -s 3000 192.168.2.1
cap_stop "$TMP/tun.pcap"
# h1 sends the 3028 bytes as 1500 + 1500 + 68 (its link's MTU); g1 tunnels
# each fragment; g2 answers with one 3028-byte packet.
expect_eq "g1: out SA 0x6001: 2 fitting + 3 fragments of h1 (3068 bytes)" \
	"bytes=$((2 * MTU_TUN + 3068)) packets=5 too_big=1" "$(sa_stats g1 0x6001)" || true
expect_eq "g2: in SA 0x6001: the same, decrypted" \
	"bytes=$((2 * MTU_TUN + 3068)) packets=5" "$(sa_stats g2 0x6001)" || true
expect_eq "g2: out SA 0x6002: 3 replies" "bytes=$((2 * MTU_TUN + 3028)) packets=3" \
	"$(sa_stats g2 0x6002)" || true
expect_eq "g1: in SA 0x6002: 3 replies, reassembled then decrypted" \
	"bytes=$((2 * MTU_TUN + 3028)) packets=3" "$(sa_stats g1 0x6002)" || true
cap_show "$TMP/tun.pcap" "" 12
expect_eq "capture: 4 tunnel ESP packets of exactly 1400 bytes" 4 \
	"$(cap_count "$TMP/tun.pcap" 'ip proto 50 and ip[2:2] = 1400')" || true
expect_eq "capture: no IPv4 packet above 1400 bytes" 0 \
	"$(cap_count "$TMP/tun.pcap" 'ip and ip[2:2] > 1400')" || true
f1=$(cap_count "$TMP/tun.pcap" 'ip proto 50 and src 10.0.0.1 and ip[6:2] & 0x3fff != 0')
f2=$(cap_count "$TMP/tun.pcap" 'ip proto 50 and src 10.0.0.2 and ip[6:2] & 0x3fff != 0')
log "ESP fragments: g1 -> g2 $f1, g2 -> g1 $f2"
# h1 learnt MTU_TUN above, so it fragments its own 3028-byte packet to fit:
# each fragment is protected whole and no ESP fragment leaves g1. g2's reply
# is made whole, protected, then the ESP packet is fragmented.
# g2's reply, 3028 bytes, is an ESP packet of 20 + 8 + 8 + 3032 (3028 + 2,
# padded to 4) + 16 = 3084 bytes: 3064 bytes of payload in fragments of at
# most 1376 (1400 - 20, a multiple of 8): 1376 + 1376 + 312, 3 fragments.
expect_eq "capture: ESP fragments: none from g1 (h1 fragmented at the learnt MTU), 3 from g2" \
	"0 3" "$f1 $f2" || true
expect_eq "capture: no cleartext" 0 "$(cap_count "$TMP/tun.pcap" 'ip and not ip proto 50')" || true

log "transport: g1 <-> g2"
check "g1: transport SAs 0x5001/0x5002 and policies" esp_pair -f g1 transport \
	0x5001 0x5002 "$KEY3" "$KEY4" 10.0.0.1 10.0.0.2
check "g2: transport SAs 0x5001/0x5002 and policies" esp_pair -f g2 transport \
	0x5002 0x5001 "$KEY4" "$KEY3" 10.0.0.2 10.0.0.1
cap_start g2 wan0 "$TMP/tra.pcap"
s=$((MTU_TRA - 28))
check "transport: DF ping of $MTU_TRA bytes (-s $s) passes" \
	on g1 ping -M do -c 1 -W 2 -s $s 10.0.0.2
expect_fail "transport: DF ping of $((MTU_TRA + 1)) bytes: frag needed, mtu $MTU_TRA" \
	"(mtu = |mtu=)$MTU_TRA([^0-9]|$)" on g1 ping -M do -c 1 -W 2 -s $((s + 1)) 10.0.0.2
expect_eq "g1: out SA 0x5001: 1 sent, too_big 1" "bytes=$MTU_TRA packets=1 too_big=1" \
	"$(sa_stats g1 0x5001)" || true
expect_fail "transport: g1 learnt the MTU: the next try fails locally" \
	"message too long, mtu=$MTU_TRA([^0-9]|$)" on g1 ping -M do -c 1 -W 2 -s $((s + 1)) 10.0.0.2
expect_eq "g1: too_big still 1" "bytes=$MTU_TRA packets=1 too_big=1" "$(sa_stats g1 0x5001)" || true
# The frag-needed lowered g1's route to 10.0.0.2 to $MTU_TRA; the ESP
# packet of a $MTU_TRA-byte packet is $LINK_MTU bytes and must still leave.
check "transport: with the MTU learnt, a DF ping of $MTU_TRA bytes still passes" \
	on g1 ping -M do -c 1 -W 2 -s $s 10.0.0.2 || true
check "transport: 3028-byte ping with DF clear is answered" \
	on g1 ping -M dont -c 1 -W 5 -s 3000 10.0.0.2
cap_stop "$TMP/tra.pcap"
expect_eq "g1: out SA 0x5001: 2 fitting + one 3028-byte packet" \
	"bytes=$((2 * MTU_TRA + 3028)) packets=3 too_big=1" "$(sa_stats g1 0x5001)" || true
expect_eq "g2: in SA 0x5001: the same (3028 reassembled, then decrypted)" \
	"bytes=$((2 * MTU_TRA + 3028)) packets=3" "$(sa_stats g2 0x5001)" || true
expect_eq "g2: out SA 0x5002: 3 replies" "bytes=$((2 * MTU_TRA + 3028)) packets=3" \
	"$(sa_stats g2 0x5002)" || true
cap_show "$TMP/tra.pcap" "" 12
expect_eq "capture: 4 transport ESP packets of exactly 1400 bytes" 4 \
	"$(cap_count "$TMP/tra.pcap" 'ip proto 50 and ip[2:2] = 1400')" || true
expect_eq "capture: no IPv4 packet above 1400 bytes" 0 \
	"$(cap_count "$TMP/tra.pcap" 'ip and ip[2:2] > 1400')" || true
f1=$(cap_count "$TMP/tra.pcap" 'ip proto 50 and src 10.0.0.1 and ip[6:2] & 0x3fff != 0')
f2=$(cap_count "$TMP/tra.pcap" 'ip proto 50 and src 10.0.0.2 and ip[6:2] & 0x3fff != 0')
log "ESP fragments: g1 -> g2 $f1, g2 -> g1 $f2"
# a 3028-byte packet in transport mode is an ESP packet of 20 + 8 + 8 +
# 3012 (3008 + 2, padded to 4) + 16 = 3064 bytes: 3044 bytes of payload,
# 1376 + 1376 + 292, 3 fragments each way.
expect_eq "capture: ESP fragments: 3 each way" "3 3" "$f1 $f2" || true
expect_eq "capture: no cleartext between g1 and g2" 0 \
	"$(cap_count "$TMP/tra.pcap" 'ip and host 10.0.0.1 and host 10.0.0.2 and not ip proto 50')" || true
for g in g1 g2; do
	expect_eq "$g: no namespace drops" "" "$(ns_stats $g)" || true
done

rm -rf "$TMP"
t_end
