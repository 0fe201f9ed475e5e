#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 32-ah.sh: AH (RFC 4302) between two nfsec hosts across a router that
# rewrites what AH leaves mutable, and what the receiver does with AH it
# must not accept.
#
#   +----------------+        +-------------------+        +----------------+
#   | ns a           |  veth  | ns r (router)     |  veth  | ns b           |
#   | veth0 10.0.0.1 |--------| veth1 10.0.0.254  |        |                |
#   |       fd00::1  |        |       fd00::fe    |        |                |
#   |                |        | veth2 10.0.1.254  |--------| veth3 10.0.1.2 |
#   |                |        |       fd01::fe    |        |       fd01::2  |
#   +----------------+        +-------------------+        +----------------+
#   a's AH captured on veth0 and sent again from there (esp_tool.py, raw
#   frames, through r); an nftables input chain on b can drop AH before
#   nfsec sees it; r's forward chain can rewrite DSCP and TTL (IPv6: also
#   the flow label and hop limit) of AH on its way.
#   transport hmac-sha256-128 (IPv4: a 28-byte AH header; IPv6: 32, padded
#   to 64 bits); a -> b SPI 0x2001, b's in SA with replay-window 32;
#   b -> a SPI 0x2002; IPv6 0x2101/0x2102; ESN 0x2201/0x2202.
#
# Covers, with exact counters of b's SA 0x2001 and namespace:
#  - duplicates: replay, one per frame;
#  - a bit flipped in the payload, in an immutable IP header field (the
#    identification) and in the ICV, each of a never-seen sequence number:
#    icv_fail, and the number is not marked seen;
#  - the same frame with DSCP, ECN and TTL changed (mutable, zeroed in the
#    ICV): accepted; then again: replay;
#  - an AH length that does not fit the ICV (one word short, two long):
#    malformed; truncated AH (10 bytes, shorter than AH's fixed part; 20,
#    shorter than the header): malformed; the frame unaltered is accepted
#    after them;
#  - r rewriting DSCP and TTL of every AH packet (IPv6: traffic class, flow
#    label, hop limit): pings pass, the capture on b's link shows the
#    rewritten fields, r's rule counted every packet;
#  - IPv6: a bit flipped in the payload or in AH's padding: icv_fail; traffic
#    class, flow label and hop limit changed: accepted; an AH length other
#    than 32 bytes, truncated AH: malformed; duplicates: replay;
#  - IPv6 with a hop-by-hop header before AH whose options say "may change"
#    (their data zeroed in the ICV) and "does not change";
#  - IPv4 options: ping -R's record route, which r writes into on the way
#    (a mutable option, zeroed whole in the ICV): accepted both ways;
#  - MTU: a full-size packet with DF is too big once AH is added; the
#    sender learns 1500 - 28 (IPv6: 1500 - 32) and that size passes;
#  - ESN across 2^32 (the high half in the ICV only);
#  - fail closed: the out SA deleted, not one ICMP packet leaves in clear.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter ah a r b			# the rest runs in namespace a

TMP=$(mktemp -d)
# hmac-sha256-128 keys, 32 bytes each
KA1=0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
KA2=0x202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
AUTH=hmac-sha256-128

link a veth0 10.0.0.1/24 r veth1 10.0.0.254/24
link r veth2 10.0.1.254/24 b veth3 10.0.1.2/24
ipb a <<-EOF
	addr add fd00::1/64 dev veth0 nodad
	route add default via 10.0.0.254
	route add fd01::/64 via fd00::fe
EOF
ipb r <<-EOF
	addr add fd00::fe/64 dev veth1 nodad
	addr add fd01::fe/64 dev veth2 nodad
EOF
ipb b <<-EOF
	addr add fd01::2/64 dev veth3 nodad
	route add default via 10.0.1.254
	route add fd00::/64 via fd01::fe
EOF
check "r: forwarding" on r sysctl -qw net.ipv4.ip_forward=1 \
	net.ipv6.conf.all.forwarding=1

# esp ARGS...: esp_tool.py on a's veth0 with the capture of a's AH.
esp() {
	on a /usr/bin/python3 "$TESTS_DIR/esp_tool.py" veth0 "$TMP/a.pcap" "$@"
}

# b_in_is DESC WANT: b's in SA 0x2001 counters become WANT.
b_in_is() {
	expect_stats "$1" b 0x2001 "$2" || true
}

check "a: AH SAs and policies" esp_pair -a "$AUTH" a transport 0x2001 0x2002 \
	"$KA1" "$KA2" 10.0.0.1 10.0.1.2
check "b: AH SAs and policies, replay-window 32" esp_pair -a "$AUTH" \
	-i "replay-window 32" b transport 0x2002 0x2001 "$KA2" "$KA1" \
	10.0.1.2 10.0.0.1

esp_capture "$TMP/a.pcap" ah 10.0.1.2
expect_eq "b: SA 0x2001 saw seq 1-3 only" "bytes=252 packets=3" "$(sa_stats b 0x2001)" || true
expect_eq "capture: a's AH frames carry seq 1-5" "1 2 3 4 5" "$(esp seqs)" || true
expect_eq "capture: AH next header ICMP (1), length 5 (28 bytes), reserved 0" \
	"$(printf '01 05 00 00 00 00 20 01 %.0s' 1 2 3 4 5)" \
	"$(tcpdump -nr "$TMP/a.pcap" -x 2>/dev/null | python3 -c '
import sys
out = ""
for l in sys.stdin.read().split("\n"):
    if not l.startswith("\t"):
        out += "|"
    else:
        out += l.split(":", 1)[1].replace(" ", "")
for p in out.split("|")[1:]:
    if not p:
        continue
    ah = p[40:56]
    print(" ".join(ah[i:i + 2] for i in range(0, 16, 2)), end=" ")')" || true

log "duplicates: frames of seq 1-3 again"
check "send seq 1, 2, 3 again" esp send:0,1,2
b_in_is "b: replay 3" "bytes=252 packets=3 replay=3"

log "seq 4 (never seen): payload, IP identification, ICV altered; then fields AH leaves mutable"
# (AH byte 40: ICMP data; IP byte 4: identification; AH byte 12: ICV)
check "send seq 4 with a payload bit, the IP ID, an ICV bit changed" \
	esp flip:3:40 sleep:0.2 ip:3:4:0x55 sleep:0.2 flip:3:12
b_in_is "b: icv_fail 3, nothing accepted" "bytes=252 icv_fail=3 packets=3 replay=3"
# (IP byte 1: DSCP EF and ECN 0; byte 8: TTL 3, r takes one)
check "send seq 4 with TOS 0xb8 and TTL 3, then again" \
	esp ip:3:1:0xb8:8:3 sleep:0.3 send:3
b_in_is "b: seq 4 accepted despite TOS and TTL; then replay" \
	"bytes=336 icv_fail=3 packets=4 replay=4"

log "AH's length and truncation: seq 5"
expect_eq "b: no namespace drops yet" "" "$(ns_stats b)" || true
# (6, 32 bytes, would be hmac-sha256-128's header padded to 64 bits, as
# XFRM sends it over IPv4 by default: taken, and its ICV then fails)
check "send seq 5 with AH length 4 and 7 (28 bytes is 5), cut to 10 and 20 bytes" \
	esp set:4:1:4 set:4:1:7 trunc:4:10 trunc:4:20
wait_for "b's namespace counters" 5 eval '[ "$(ns_stats b)" == "malformed=4" ]' || true
expect_eq "b: malformed 4" "malformed=4" "$(ns_stats b)" || true
check "send seq 5 as it was" esp send:4
b_in_is "b: seq 5 accepted after them" "bytes=420 icv_fail=3 packets=5 replay=4"
# (b answered the two pings re-sent and accepted, seq 4 and 5)
expect_stats "a: in SA 0x2002: 5 replies" a 0x2002 "bytes=420 packets=5"

log "r rewrites DSCP and TTL of AH (IPv4) and traffic class, flow label and hop limit (IPv6)"
check "r: nftables rewrites AH in forward" on r nft -f - <<-EOF
	table ip ahmangle {
		chain forward {
			type filter hook forward priority mangle; policy accept;
			ip protocol ah ip dscp set af41 ip ttl set 9 counter comment "ah4"
		}
	}
	table ip6 ahmangle6 {
		chain forward {
			type filter hook forward priority mangle; policy accept;
			ip6 nexthdr ah ip6 dscp set af41 ip6 flowlabel set 12345 ip6 hoplimit set 9 counter comment "ah6"
		}
	}
EOF
cap_start b veth3 "$TMP/b.pcap"
check "ping a -> b, 3 of 3, through the rewrite" on a ping -c 3 -i 0.2 -W 2 10.0.1.2
b_in_is "b: 3 more accepted" "bytes=672 icv_fail=3 packets=8 replay=4"
expect_stats "a: in SA 0x2002: 3 more replies" a 0x2002 "bytes=672 packets=8"
expect_eq "r: the rule rewrote 6 AH packets" "ah4=6" "$(nft_counters r ahmangle)" || true

log "IPv6: AH (32 bytes with its padding) through the rewrite"
check "a: IPv6 AH SAs and policies" esp_pair -a "$AUTH" a transport 0x2101 0x2102 \
	"$KA1" "$KA2" fd00::1 fd01::2
check "b: IPv6 AH SAs and policies" esp_pair -a "$AUTH" b transport 0x2102 0x2101 \
	"$KA2" "$KA1" fd01::2 fd00::1
ip6_usable a r b
check "ping a -> b (IPv6), 3 of 3, through the rewrite" \
	on a ping -6 -c 3 -i 0.2 -W 2 fd01::2
# (104 bytes: 40 IPv6, 8 ICMPv6, 56 data)
expect_stats "b: in SA 0x2101: 3 accepted" b 0x2101 "bytes=312 packets=3"
expect_stats "a: in SA 0x2102: 3 replies" a 0x2102 "bytes=312 packets=3"
expect_eq "r: the rule rewrote 6 AH packets" "ah6=6" "$(nft_counters r ahmangle6 ip6)" || true

log "IPv6: a hop-by-hop header before AH, one option that may change, one that may not"
# options: 0x3e (skip if unknown, may change) 4 bytes, 0x1e (may not) 2
# bytes; AH goes behind the header, which its ICV covers, the first
# option's data zeroed.
run_bg b socat -u UDP6-RECV:5300 OPEN:"$TMP/hbh.recv",creat
recv_pid=$BG_PID
# listening: b's UDP sockets show port 5300
udp_bound() {
	[[ $(on b ss -Hlun 'sport = :5300') == *:5300* ]]
}
wait_for "b: socat listens on 5300" 15 udp_bound || true
check "a: UDP to b with the hop-by-hop options" on a python3 -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
hbh = bytes([0, 1, 0x3e, 4, 1, 2, 3, 4, 0x1e, 2, 5, 6, 0, 0, 0, 0])
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_HOPOPTS, hbh)
s.sendto(b"nfsec AH behind hop-by-hop\n", ("fd01::2", 5300))'
wait_for "b: the datagram" 5 file_has "$TMP/hbh.recv" "nfsec AH behind hop-by-hop" || true
kill "$recv_pid" 2>/dev/null || true
wait "$recv_pid" 2>/dev/null || true
expect_eq "b: the datagram arrived" "nfsec AH behind hop-by-hop" "$(cat "$TMP/hbh.recv" 2>&1)" || true
# (40 IPv6 + 16 hop-by-hop + 8 UDP + 27 data = 91)
expect_stats "b: in SA 0x2101: 1 more, hop-by-hop header and all" b 0x2101 \
	"bytes=403 packets=4"
cap_stop "$TMP/b.pcap"
expect_eq "capture on b's link: 3 AH requests with DSCP af41 and TTL 9" 3 \
	"$(cap_count "$TMP/b.pcap" 'ip proto 51 and src 10.0.0.1 and ip[1] = 0x88 and ip[8] = 9')" || true
expect_eq "capture on b's link: 3 IPv6 AH requests, class af41, flow 12345, hop limit 9" 3 \
	"$(cap_count "$TMP/b.pcap" 'ip6 proto 51 and src fd00::1 and ip6[0:4] = 0x68803039 and ip6[7] = 9')" || true
expect_eq "capture on b's link: the hop-by-hop datagram, AH behind it" 1 \
	"$(cap_count "$TMP/b.pcap" 'ip6 proto 0 and src fd00::1 and ip6[40] = 51')" || true
expect_eq "capture on b's link: nothing from a in clear" 0 \
	"$(cap_count "$TMP/b.pcap" '(ip and src 10.0.0.1 and not ip proto 51) or (ip6 and src fd00::1 and not ip6 proto 51 and not ip6 proto 0)')" || true
expect_eq "b: no more namespace drops" "malformed=4" "$(ns_stats b)" || true

log "MTU: AH's header counted (RFC 4301 8.2), 28 bytes (IPv4), 32 (IPv6)"
# A full-size packet with DF cannot take AH: the sender learns the size that
# fits (1500 - 28, 1500 - 32), which then passes.
expect_fail "ping -M do -s 1472 (1500 bytes): fragmentation needed" \
	"mtu = 1472" on a ping -M do -c 1 -W 2 -s 1472 10.0.1.2 || true
expect_stats "a: out SA 0x2001 counted it too_big" a 0x2001 \
	"bytes=672 packets=8 too_big=1"
expect_eq "a: the route to b learnt mtu 1472" 1472 "$(route_mtu a 10.0.1.2)" || true
check "ping -M do -s 1444 (1472 bytes) passes" \
	on a ping -M do -c 1 -W 2 -s 1444 10.0.1.2
expect_stats "b: in SA 0x2001 took it" b 0x2001 \
	"bytes=2144 icv_fail=3 packets=9 replay=4"
expect_fail "ping -6 -M do -s 1452 (1500 bytes): packet too big" \
	"mtu=1468" on a ping -6 -M do -c 1 -W 2 -s 1452 fd01::2 || true
expect_eq "a: the route to b learnt mtu 1468 (IPv6)" 1468 "$(route_mtu a fd01::2)" || true
check "ping -6 -M do -s 1420 (1468 bytes) passes" \
	on a ping -6 -M do -c 1 -W 2 -s 1420 fd01::2
expect_stats "b: in SA 0x2101 took it" b 0x2101 "bytes=1871 packets=5"

log "IPv6: AH it must not accept (b's SA 0x2101, seq 6-7 never seen)"
cap_start a veth0 "$TMP/a6.pcap" ip6 proto 51 and src fd00::1
check "b: nftables drops IPv6 AH on input" on b nft -f - <<-EOF
	table ip6 dropah6 {
		chain input {
			type filter hook input priority filter; policy accept;
			ip6 nexthdr ah drop
		}
	}
EOF
expect_fail "ping -6 a -> b while b drops AH (seq 6-7)" "0 received" \
	on a ping -6 -c 2 -i 0.2 -W 1 fd01::2 || true
check "b: nftables rule removed" on b nft delete table ip6 dropah6
cap_stop "$TMP/a6.pcap"
esp6() {
	on a /usr/bin/python3 "$TESTS_DIR/esp_tool.py" veth0 "$TMP/a6.pcap" "$@"
}
expect_eq "capture: a's IPv6 AH frames carry seq 6-7" "6 7" "$(esp6 seqs)" || true
# (AH byte 40: ICMPv6 data; bytes 28-31: the padding to 64 bits, covered
# as sent; IPv6 bytes 1-3: traffic class and flow label, 7: hop limit)
check "send seq 6 with a payload bit, a padding byte changed" \
	esp6 flip:0:40 sleep:0.2 set:0:28:0x01
expect_stats "b: icv_fail 2" b 0x2101 "bytes=1871 icv_fail=2 packets=5"
check "send seq 6 with traffic class, flow label and hop limit changed" \
	esp6 ip:0:1:0xf5:2:0x12:3:0x34:7:5
expect_stats "b: seq 6 accepted" b 0x2101 "bytes=1975 icv_fail=2 packets=6"
check "send seq 7 with AH length 5 and 7 (32 bytes is 6), cut to 10 bytes" \
	esp6 set:1:1:5 set:1:1:7 trunc:1:10
wait_for "b's namespace counters" 5 eval '[ "$(ns_stats b)" == "malformed=7" ]' || true
expect_eq "b: malformed 3 more" "malformed=7" "$(ns_stats b)" || true
check "send seq 7 as it was, then seq 6 again" esp6 send:1 sleep:0.3 send:0
expect_stats "b: seq 7 accepted, seq 6 a replay" b 0x2101 \
	"bytes=2079 icv_fail=2 packets=7 replay=1"

log "IPv4 options: record route (mutable, zeroed in the ICV), written by r on the way"
cap_start b veth3 "$TMP/rr.pcap"
out=$(on a ping -R -c 2 -i 0.2 -W 2 10.0.1.2 2>&1) || true
cap_stop "$TMP/rr.pcap"
[[ $out == *"2 received"* && $out == *10.0.1.254* ]] &&
	ok "ping -R a -> b: 2 of 2, r's address recorded in flight" ||
	not_ok "ping -R a -> b: 2 of 2, r's address recorded in flight" "$out"
expect_eq "capture on b's link: 2 AH requests with NOP, record route (60-byte header)" 2 \
	"$(cap_count "$TMP/rr.pcap" 'ip proto 51 and src 10.0.0.1 and ip[0] = 0x4f and ip[20] = 1 and ip[21] = 7')" || true
# (124 bytes: 60 IP with options, 8 ICMP, 56 data)
expect_stats "b: in SA 0x2001: 2 more with their options" b 0x2001 \
	"bytes=2392 icv_fail=3 packets=11 replay=4"

log "ESN from seq 0xfffffffe: packets 2^32 - 1 to 2^32 + 3"
check "a: AH ESN pair 0x2201/0x2202, out SA at seq 0xfffffffe" \
	esp_pair -f -a "$AUTH" -o "esn seq 0xfffffffe" a transport 0x2201 0x2202 \
	"$KA1" "$KA2" 10.0.0.1 10.0.1.2
check "b: AH ESN pair" esp_pair -f -a "$AUTH" -i esn b transport 0x2202 0x2201 \
	"$KA2" "$KA1" 10.0.1.2 10.0.0.1
check "ping a -> b, 5 of 5 across 2^32" on a ping -c 5 -i 0.2 -W 1 10.0.1.2 || true
expect_eq "b: in SA 0x2201 seq 0x100000003" $((0x100000003)) "$(sa_field b 0x2201 seq)" || true
expect_eq "b: in SA 0x2201: 5 accepted" "bytes=420 packets=5" "$(sa_stats b 0x2201)" || true
expect_eq "a: out SA 0x2201 seq 0x100000003" $((0x100000003)) "$(sa_field a 0x2201 seq)" || true

log "fail closed: a's out SA deleted"
cap_start b veth3 "$TMP/del.pcap"
check "a: sa del 0x2201" nf a sa del dst 10.0.1.2 spi 0x2201 proto ah
expect_fail "ping a -> b: nothing goes" "0 received" on a ping -c 3 -i 0.2 -W 1 10.0.1.2
cap_stop "$TMP/del.pcap"
expect_eq "a: no_sa_out 3" "no_sa_out=3" "$(ns_stats a)" || true
expect_eq "capture on b's link: not one packet from a" 0 \
	"$(cap_count "$TMP/del.pcap" 'ip and src 10.0.0.1')" || true

rm -rf "$TMP"
t_end
