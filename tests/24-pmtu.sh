#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 24-pmtu.sh: path MTU of an SA (RFC 4301 8.2), aes-gcm-128. The narrow
# link is beyond the first router, so only ICMP tells g1 about it.
#
#   h1 192.168.1.10                                 h2 192.168.2.10, .11
#    | eth0                                              eth0 |
#    | lan0 192.168.1.1                      192.168.2.1 lan0 |
#   g1 wan0 10.0.1.1 --- 10.0.1.254 r 10.0.2.254 ==== 10.0.2.1 wan0 g2
#                                             MTU 1300
#
#   tunnel 192.168.1.0/24 <-> 192.168.2.0/24, SPI 0x7001 (g1->g2), 0x7002,
#   then rekeyed to 0x7003/0x7004; transport g1 <-> g2, 0x5001/0x5002.
#
# The largest packet that fits once protected (src/output.c inner_mtu()):
# tunnel 1446 for 1500, 1246 for 1300; transport 1466 and 1266.
#
# Covers: an ESP packet too big for r's far link draws ICMP frag-needed
# from r, and g1's SA learns path MTU 1300 (shown by nfsec); the sender's
# next DF packet gets frag-needed with the inner MTU for 1300 from g1, and
# one that fits passes; a DF-clear packet that fits the route but not the
# path leaves g1 as ESP fragments of at most 1300 bytes and is answered;
# TCP from scratch finds its way through (no black hole) with exact
# accounting of what r dropped; the same in transport mode; a forged
# frag-needed (unknown SPI, a sequence number never sent, an MTU not below
# the quoted packet) changes nothing.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter pmtu h1 g1 r g2 h2		# the rest runs in namespace h1

TMP=$(mktemp -d)
link h1 eth0 192.168.1.10/24 g1 lan0 192.168.1.1/24
link g1 wan0 10.0.1.1/24 r wan1 10.0.1.254/24
link r wan2 10.0.2.254/24 g2 wan0 10.0.2.1/24 1300
link g2 lan0 192.168.2.1/24 h2 eth0 192.168.2.10/24
ipb h2 <<EOF
addr add 192.168.2.11/24 dev eth0
route add default via 192.168.2.1
EOF
echo "route add default via 192.168.1.1" | ipb h1
echo "route add default via 10.0.1.254" | ipb g1
echo "route add default via 10.0.2.254" | ipb g2
for g in g1 r g2; do
	on $g sysctl -qw net.ipv4.ip_forward=1
done

check "g1: tunnel SAs 0x7001/0x7002 and policies" esp_pair g1 tunnel 0x7001 0x7002 \
	"$KEY1" "$KEY2" 10.0.1.1 10.0.2.1 192.168.1.0/24 192.168.2.0/24
check "g2: tunnel SAs 0x7002/0x7001 and policies" esp_pair g2 tunnel 0x7002 0x7001 \
	"$KEY2" "$KEY1" 10.0.2.1 10.0.1.1 192.168.2.0/24 192.168.1.0/24

log "tunnel: h1 -> 192.168.2.10, DF pings"
expect_eq "g1: out SA 0x7001 starts without a path MTU" none "$(pmtu_of g1 0x7001)" || true
cap_start g1 wan0 "$TMP/wan.pcap"
expect_fail "DF ping of 1446 bytes fits g1's route, not the path: lost at r" \
	"100% packet loss" on h1 ping -M do -c 1 -W 2 -s 1418 192.168.2.10
expect_eq "g1: out SA 0x7001 learnt path MTU 1300 from r" 1300 "$(pmtu_of g1 0x7001)" || true
expect_eq "g1: out SA 0x7001 sent it (1446 bytes)" "bytes=1446 packets=1" \
	"$(sa_stats g1 0x7001)" || true
expect_fail "the next DF ping of 1446 bytes: frag needed from g1, mtu 1246" \
	"(mtu = |mtu=)1246([^0-9]|$)" on h1 ping -M do -c 1 -W 2 -s 1418 192.168.2.10
expect_eq "g1: out SA 0x7001: too_big 1" "bytes=1446 packets=1 too_big=1" \
	"$(sa_stats g1 0x7001)" || true
check "a DF ping of 1246 bytes passes" on h1 ping -M do -c 1 -W 2 -s 1218 192.168.2.10
# (to .11: for .10 h1 knows 1246 now and would fragment the ping itself)
check "a 1446-byte ping to 192.168.2.11 with DF clear is answered" \
	on h1 ping -M dont -c 1 -W 5 -s 1418 192.168.2.11
cap_stop "$TMP/wan.pcap"
expect_eq "g1: out SA 0x7001: 1246 + 1446 more" \
	"bytes=$((1446 + 1246 + 1446)) packets=3 too_big=1" "$(sa_stats g1 0x7001)" || true
expect_eq "g2: in SA 0x7001 accepted the 2 that passed r" \
	"bytes=$((1246 + 1446)) packets=2" "$(sa_stats g2 0x7001)" || true
cap_show "$TMP/wan.pcap" "ip proto 50 or icmp" 12
expect_eq "capture: r's frag-needed to g1, mtu 1300" 1 \
	"$(cap_count "$TMP/wan.pcap" 'icmp[0] = 3 and icmp[1] = 4 and icmp[6:2] = 1300 and dst 10.0.1.1')" || true
expect_eq "capture: one ESP packet from g1 above 1300 bytes (the first)" 1 \
	"$(cap_count "$TMP/wan.pcap" 'ip proto 50 and src 10.0.1.1 and ip[2:2] > 1300')" || true
expect_eq "capture: the DF-clear one as 2 ESP fragments from g1" 2 \
	"$(cap_count "$TMP/wan.pcap" 'ip proto 50 and src 10.0.1.1 and ip[6:2] & 0x3fff != 0')" || true

log "forged frag-needed to g1 about SA 0x7001 (scapy on r)"
# forge SPI:SEQ:MTU:QUOTED_LEN...: from r to g1, quoting an ESP packet from
# g1 to g2 with that SPI and sequence number and that IP total length.
forge() {
	on r python3 -c "
import struct, sys
from scapy.all import IP, ICMP, Raw, send
for arg in sys.argv[1:]:
    spi, seq, mtu, qlen = (int(a, 0) for a in arg.split(':'))
    quoted = IP(src='10.0.1.1', dst='10.0.2.1', proto=50, len=qlen,
                flags='DF') / Raw(struct.pack('!II', spi, seq))
    send(IP(src='10.0.1.254', dst='10.0.1.1') /
         ICMP(type=3, code=4, nexthopmtu=mtu) / bytes(quoted), verbose=False)
" "$@"
}
# g1 has sent 3 packets on 0x7001: sequence numbers 1 to 3.
# Each would lower the path MTU (1300) to 1000 if taken: the MTU-not-below
# case quotes a packet of 1000 bytes, and one of 900.
check "unknown SPI; sequence number 100, never sent; MTU 1000 not below 1000 or 900" \
	forge 0x7009:1:1000:1500 0x7001:100:1000:1500 0x7001:1:1000:1000 \
	0x7001:1:1000:900
expect_eq "g1: out SA 0x7001: path MTU still 1300" 1300 "$(pmtu_of g1 0x7001)" || true
check "sequence number 3, MTU 1200" forge 0x7001:3:1200:1500
expect_eq "g1: out SA 0x7001: path MTU 1200" 1200 "$(pmtu_of g1 0x7001)" || true
check "MTU 1250" forge 0x7001:3:1250:1500
expect_eq "g1: out SA 0x7001: a larger MTU does not raise it" 1200 \
	"$(pmtu_of g1 0x7001)" || true
check "MTU 100" forge 0x7001:3:100:1500
expect_eq "g1: out SA 0x7001: held at net.ipv4.route.min_pmtu, 552" 552 \
	"$(pmtu_of g1 0x7001)" || true
expect_eq "g1: out SA 0x7001: counters unchanged" \
	"bytes=$((1446 + 1246 + 1446)) packets=3 too_big=1" "$(sa_stats g1 0x7001)" || true

log "tunnel rekeyed to 0x7003/0x7004: TCP h1 -> 192.168.2.11 from scratch"
check "g1: tunnel SAs 0x7003/0x7004" esp_pair -f g1 tunnel 0x7003 0x7004 \
	"$KEY3" "$KEY4" 10.0.1.1 10.0.2.1 192.168.1.0/24 192.168.2.0/24
check "g2: tunnel SAs 0x7004/0x7003" esp_pair -f g2 tunnel 0x7004 0x7003 \
	"$KEY4" "$KEY3" 10.0.2.1 10.0.1.1 192.168.2.0/24 192.168.1.0/24
ff0=$(on r nstat -az IpFragFails | awk '$1 == "IpFragFails" { print $2 }')
head -c 1048576 /dev/urandom >"$TMP/blob"
tcp_md5 "TCP h1 -> h2: 1 MiB through the 1300-byte hop intact (md5)" \
	h1 h2 192.168.2.11 5001 "$TMP/blob" || true
expect_eq "g1: out SA 0x7003 learnt path MTU 1300" 1300 "$(pmtu_of g1 0x7003)" || true
ff=$(($(on r nstat -az IpFragFails | awk '$1 == "IpFragFails" { print $2 }') - ff0))
out=$(sa_stats g1 0x7003) in=$(sa_stats g2 0x7003)
log "g1 0x7003: $out; r dropped $ff as too big; g2 0x7003: $in"
sent=$(sa_field g1 0x7003 stats.packets) got=$(sa_field g2 0x7003 stats.packets)
expect_eq "g2 accepted what g1 sent but for the $ff r dropped" "$sent" "$((got + ff))" || true
((ff >= 1)) && ok "r dropped at least one ESP packet as too big" ||
	not_ok "r dropped at least one ESP packet as too big" "IpFragFails grew by $ff"
tb=$(sa_field g1 0x7003 stats.too_big)
((tb >= 1)) && ok "g1: too_big told h1 to shrink ($tb)" ||
	not_ok "g1: too_big told h1 to shrink" "too_big $tb"
expect_eq "g1 accepted all g2 sent back" "$(traffic "$(sa_stats g2 0x7004)")" \
	"$(sa_stats g1 0x7004)" || true

log "transport: g1 -> g2 10.0.2.1, DF pings"
check "g1: transport SAs 0x5001/0x5002" esp_pair -f g1 transport 0x5001 0x5002 \
	"$KEY3" "$KEY4" 10.0.1.1 10.0.2.1
check "g2: transport SAs 0x5002/0x5001" esp_pair -f g2 transport 0x5002 0x5001 \
	"$KEY4" "$KEY3" 10.0.2.1 10.0.1.1
# r's ICMP to g1 is rate limited (net.ipv4.icmp_ratelimit, 1/s per peer,
# and the TCP transfer drew many).
sleep 2
expect_fail "DF ping of 1466 bytes: lost at r" \
	"100% packet loss" on g1 ping -M do -c 1 -W 2 -s 1438 10.0.2.1
expect_eq "g1: out SA 0x5001 learnt path MTU 1300" 1300 "$(pmtu_of g1 0x5001)" || true
expect_fail "the next one: frag needed, mtu 1266" \
	"(mtu = |mtu=)1266([^0-9]|$)" on g1 ping -M do -c 1 -W 2 -s 1438 10.0.2.1
check "a DF ping of 1266 bytes passes" on g1 ping -M do -c 1 -W 2 -s 1238 10.0.2.1
check "... and again, with g1's route at the learnt 1266" \
	on g1 ping -M do -c 1 -W 2 -s 1238 10.0.2.1
expect_eq "g1: out SA 0x5001: 1466 lost, 2 x 1266 passed, too_big 1" \
	"bytes=$((1466 + 2 * 1266)) packets=3 too_big=1" "$(sa_stats g1 0x5001)" || true
expect_eq "g2: in SA 0x5001: 2 x 1266" "bytes=$((2 * 1266)) packets=2" \
	"$(sa_stats g2 0x5001)" || true
for g in g1 g2; do
	expect_eq "$g: no namespace drops" "" "$(ns_stats $g)" || true
done

rm -rf "$TMP"
t_end
