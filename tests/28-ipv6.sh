#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 28-ipv6.sh: ESP over IPv6 with nfsec on both ends: a site-to-site tunnel
# between two gateways, a host's tunnel to a gateway, and two hosts in
# transport mode on one link.
#
#   ha fd10::10 - lan0 ga wan0 2001:db8:1::1 - wan1 inet wan2 -
#       2001:db8:2::1 wan0 gb lan0 - fd20::10 hb
#   (ga: fd10::1 on lan0, gb: fd20::1 on lan0; inet routes between the wans)
#   tunnel ga <-> gb for fd10::/64 <-> fd20::/64:
#       ga -> gb SPI 0x6001 (KEY1), gb -> ga SPI 0x6002 (KEY2)
#   rh 2001:db8:3::10 - wan3 inet: a host on the internet, its own tunnel
#   end to gb for 2001:db8:3::10 <-> fd20::/64:
#       rh -> gb SPI 0x6201 (KEY3), gb -> rh SPI 0x6202 (KEY4)
#   inet has no route to fd00::/8: a site address crosses it only in ESP.
#
#   c veth0 fd30::1/64 ---- veth1 fd30::2/64 d
#   transport c <-> d: c -> d SPI 0x6101 (KEY3), d -> c SPI 0x6102 (KEY4)
#
# Covers:
#  - tunnel: ping with exact per-SA packet and byte counts (bytes are the
#    whole inner packets: 40 IPv6 + 8 ICMPv6 + 56 data), 512 KiB over TCP
#    (md5), through gateways that run a stateful ip6 filter (conntrack)
#    which drops nothing; on the internet link, ESP between the gateways
#    and no site address;
#  - the outer route: a blackhole route to the peer added after the SA
#    has carried traffic stops it (no packet leaves; counted no_buffer),
#    and its removal lets it through again (the SA's cached route is
#    checked against the routing table's changes);
#  - host to gateway: rh (stateful ip6 filter too) pings hb with exact
#    per-SA counts on rh and gb, and sends 128 KiB over TCP (md5); on rh's
#    link only ESP between rh and gb, and no site address;
#  - path MTU: with inet's link to gb narrowed to 1400, ga's SA learns
#    1400 from inet's packet too big and TCP still gets through; forged
#    packet too big (a sequence number never sent, another source, an MTU
#    below 1280) changes nothing;
#  - transport: neighbour discovery is left in clear by a protect policy
#    for any protocol (the hosts know nothing of each other at first), the
#    echo requests go in ESP; a discard policy for ::/0 drops c's echo
#    requests and replies and counts them, with nothing on the wire, while
#    c still answers neighbour solicitations;
#  - hostile input to d, sent raw from c: a chain of nine destination
#    options headers before ESP, an options header longer than the
#    packet, an ESP packet whose ciphertext is not whole blocks: each
#    dropped and counted `malformed`; d still accepts c's ESP afterwards;
#  - transport MTU: a 1500-byte echo request that may not fragment draws a
#    local packet too big with the size ESP leaves (1466), which c's route
#    learns and which then passes both ways.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter ipv6 ha ga inet gb hb rh c d	# the rest runs in namespace ha

TMP=$(mktemp -d)

log "topology: two sites across an IPv6 internet"
link ha eth0 fd10::10/64 ga lan0 fd10::1/64
link ga wan0 2001:db8:1::1/64 inet wan1 2001:db8:1::fe/64
link gb wan0 2001:db8:2::1/64 inet wan2 2001:db8:2::fe/64
link gb lan0 fd20::1/64 hb eth0 fd20::10/64
echo "route add default via fd10::1" | ipb ha
echo "route add default via fd20::1" | ipb hb
echo "route add default via 2001:db8:1::fe" | ipb ga
echo "route add default via 2001:db8:2::fe" | ipb gb
link rh eth0 2001:db8:3::10/64 inet wan3 2001:db8:3::fe/64
echo "route add default via 2001:db8:3::fe" | ipb rh
for g in ga inet gb; do
	on "$g" sysctl -qw net.ipv6.conf.all.forwarding=1
done
ip6_usable ha ga inet gb hb rh
check "ga: stateful ip6 filter (conntrack)" ct_filter -6 ga 'iifname "lan0" accept'
check "gb: stateful ip6 filter (conntrack)" ct_filter -6 gb 'iifname "lan0" accept'

check "ga: tunnel SAs and policies" esp_pair ga tunnel 0x6001 0x6002 \
	"$KEY1" "$KEY2" 2001:db8:1::1 2001:db8:2::1 fd10::/64 fd20::/64
check "gb: tunnel SAs and policies" esp_pair gb tunnel 0x6002 0x6001 \
	"$KEY2" "$KEY1" 2001:db8:2::1 2001:db8:1::1 fd20::/64 fd10::/64

cap_start inet wan1 "$TMP/wan.pcap"
log "ping -c 5 ha -> hb: 104-byte inner packets"
check "ping ha -> hb, 5 of 5" on ha ping -c 5 -i 0.2 -W 2 fd20::10
expect_stats "ga: out SA 0x6001 sent 5 packets, 520 bytes" ga 0x6001 "bytes=520 packets=5"
expect_stats "gb: in SA 0x6001 accepted 5, 520 bytes" gb 0x6001 "bytes=520 packets=5"
expect_stats "gb: out SA 0x6002 sent 5, 520 bytes" gb 0x6002 "bytes=520 packets=5"
expect_stats "ga: in SA 0x6002 accepted 5, 520 bytes" ga 0x6002 "bytes=520 packets=5"

log "512 KiB over TCP through the tunnel"
head -c 524288 /dev/urandom >"$TMP/blob"
tcp_md5 "TCP ha -> hb: 512 KiB arrive intact (md5)" ha hb fd20::10 5001 "$TMP/blob" || true
cap_stop "$TMP/wan.pcap"
aout=$(sa_stats ga 0x6001) bin=$(sa_stats gb 0x6001)
expect_eq "gb's in SA accepted what ga's out SA sent, no drop counter" \
	"$(traffic "$aout")" "$bin" || true
expect_eq "ga: no namespace drops" "" "$(ns_stats ga)" || true
expect_eq "gb: no namespace drops" "" "$(ns_stats gb)" || true
cap_show "$TMP/wan.pcap" "" 3
expect_eq "internet link: no site address (fd00::/8)" 0 \
	"$(cap_count "$TMP/wan.pcap" 'ip6 and net fd00::/8')" || true
expect_eq "internet link: no IPv6 packet between the gateways but ESP" 0 \
	"$(cap_count "$TMP/wan.pcap" 'ip6 and host 2001:db8:1::1 and host 2001:db8:2::1 and not ip6 proto 50')" || true
[[ $aout =~ packets=([0-9]+) ]] && esp_a=${BASH_REMATCH[1]} || esp_a=x
cap_expect "internet link: as many ESP packets of SA 0x6001 as ga counted" \
	"$TMP/wan.pcap" "$esp_a" \
	"$(cap_count "$TMP/wan.pcap" 'ip6 proto 50 and src 2001:db8:1::1 and ip6[40:4] = 0x6001')" || true
for g in ga gb; do
	expect_eq "$g: the stateful ip6 filter dropped nothing" \
		"in-invalid=0 in-policy=0 fwd-invalid=0 fwd-policy=0" "$(nft_counters $g ctf6 ip6)" || true
done

log "the outer route follows routing changes (nfsec keeps it per SA and CPU)"
before=$(sa_eval ga 0x6001 '(st.get("packets", 0), st.get("no_buffer", 0) + 2)')
check "ga: a blackhole route to gb's 2001:db8:2::1" \
	on ga ip -6 route add blackhole 2001:db8:2::1/128
expect_fail "ping ha -> hb: nothing while ga routes gb into a blackhole" \
	" 0 received" on ha ping -c 2 -i 0.2 -W 1 fd20::10
expect_eq "ga: out SA 0x6001 sent nothing more, 2 dropped without a route" \
	"$before" "$(sa_eval ga 0x6001 '(st.get("packets", 0), st.get("no_buffer", 0))')" || true
check "ga: the blackhole route removed" \
	on ga ip -6 route del blackhole 2001:db8:2::1/128
check "ping ha -> hb through the tunnel again, 2 of 2" \
	on ha ping -c 2 -i 0.2 -W 2 fd20::10

log "host to gateway: rh, its own tunnel end, to hb behind gb"
check "rh: stateful ip6 filter (conntrack)" ct_filter -6 rh
check "gb: tunnel SAs and policies to rh" esp_pair gb tunnel 0x6202 0x6201 \
	"$KEY4" "$KEY3" 2001:db8:2::1 2001:db8:3::10 fd20::/64 2001:db8:3::10
# (rh is its own tunnel end: its back policy is dir in)
check "rh: tunnel SAs and policies to gb" esp_pair -b in rh tunnel 0x6201 0x6202 \
	"$KEY3" "$KEY4" 2001:db8:3::10 2001:db8:2::1 2001:db8:3::10 fd20::/64
expect_fail "inet has no route to fd20::10" "unreachable" \
	ip -n "$(ns_name inet)" -6 route get fd20::10
cap_start inet wan3 "$TMP/rh.pcap"
check "ping rh -> hb, 3 of 3" on rh ping -c 3 -i 0.2 -W 2 fd20::10
expect_stats "rh: out SA 0x6201 sent 3 packets, 312 bytes" rh 0x6201 "bytes=312 packets=3"
expect_stats "gb: in SA 0x6201 accepted 3, 312 bytes" gb 0x6201 "bytes=312 packets=3"
expect_stats "gb: out SA 0x6202 sent 3, 312 bytes" gb 0x6202 "bytes=312 packets=3"
expect_stats "rh: in SA 0x6202 accepted 3, 312 bytes" rh 0x6202 "bytes=312 packets=3"
cap_stop "$TMP/rh.pcap"
expect_eq "rh's link: 6 ESP packets between rh and gb" 6 \
	"$(cap_count "$TMP/rh.pcap" 'ip6 proto 50 and host 2001:db8:3::10 and host 2001:db8:2::1')" || true
expect_eq "rh's link: nothing else between rh and gb, no site address" 0 \
	"$(cap_count "$TMP/rh.pcap" '(ip6 and host 2001:db8:2::1 and not ip6 proto 50) or net fd00::/8')" || true
head -c 131072 /dev/urandom >"$TMP/blob3"
tcp_md5 "TCP rh -> hb: 128 KiB arrive intact (md5)" rh hb fd20::10 5003 "$TMP/blob3" || true
expect_eq "gb's in SA 0x6201 accepted what rh's out SA sent" \
	"$(traffic "$(sa_stats rh 0x6201)")" "$(sa_stats gb 0x6201)" || true
expect_eq "rh's in SA 0x6202 accepted what gb's out SA sent" \
	"$(traffic "$(sa_stats gb 0x6202)")" "$(sa_stats rh 0x6202)" || true
for g in rh gb; do
	expect_eq "$g: no namespace drops" "" "$(ns_stats $g)" || true
done
expect_eq "rh: the stateful ip6 filter dropped nothing" \
	"in-invalid=0 in-policy=0 fwd-invalid=0 fwd-policy=0" "$(nft_counters rh ctf6 ip6)" || true

log "path MTU: the link inet - gb narrowed to 1400"
expect_eq "ga: out SA 0x6001 starts without a path MTU" none "$(pmtu_of ga 0x6001)" || true
ip -n "$(ns_name inet)" link set wan2 mtu 1400
ip -n "$(ns_name gb)" link set wan0 mtu 1400
head -c 262144 /dev/urandom >"$TMP/blob2"
tcp_md5 "TCP ha -> hb across the narrow link: 256 KiB intact" ha hb fd20::10 5002 "$TMP/blob2" || true
expect_eq "ga: out SA 0x6001 learnt path MTU 1400 from inet's packet too big" \
	1400 "$(pmtu_of ga 0x6001)" || true
[[ $(sa_stats ga 0x6001) =~ too_big=([0-9]+) ]] && ((BASH_REMATCH[1] > 0)) &&
	ok "ga: too-big inner packets answered, not sent ($(sa_stats ga 0x6001))" ||
	not_ok "ga: too-big inner packets answered, not sent" "$(sa_stats ga 0x6001)"

log "forged packet too big to ga about SA 0x6001 (raw ICMPv6 from inet)"
# forge SRC SEQ MTU: a packet too big quoting an ESP packet of SPI 0x6001
# from SRC to 2001:db8:2::1 with sequence number SEQ
forge() {
	on inet python3 - "$@" <<-'EOF'
		import socket, struct, sys
		src, seq, mtu = sys.argv[1], int(sys.argv[2], 0), int(sys.argv[3])
		esp = struct.pack('!II', 0x6001, seq) + bytes(64)
		quoted = struct.pack('!IHBB', 0x60000000, 1400, 50, 63) + \
			socket.inet_pton(socket.AF_INET6, src) + \
			socket.inet_pton(socket.AF_INET6, '2001:db8:2::1') + esp
		s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
		# (the kernel fills in the ICMPv6 checksum)
		s.sendto(struct.pack('!BBHI', 2, 0, 0, mtu) + quoted, ('2001:db8:1::1', 0))
	EOF
}
forge 2001:db8:1::1 0x7fffffff 1280	# a sequence number never sent
forge 2001:db8:1::99 1 1280		# not the SA's source
forge 2001:db8:1::1 1 1200		# below IPv6's minimum MTU
sleep 1
expect_eq "ga: out SA 0x6001: path MTU still 1400" 1400 "$(pmtu_of ga 0x6001)" || true
forge 2001:db8:1::1 1 1300
wait_for "path MTU 1300" 5 eval '[ "$(pmtu_of ga 0x6001)" = 1300 ]' || true
expect_eq "ga: a genuine-looking one (seq 1, our source) lowers it to 1300" \
	1300 "$(pmtu_of ga 0x6001)" || true

log "transport c <-> d, neighbour discovery in clear"
link c veth0 fd30::1/64 d veth1 fd30::2/64
ip6_usable c d
check "c: transport SAs and policies, any protocol" esp_pair c transport \
	0x6101 0x6102 "$KEY3" "$KEY4" fd30::1 fd30::2
check "d: transport SAs and policies, any protocol" esp_pair d transport \
	0x6102 0x6101 "$KEY4" "$KEY3" fd30::2 fd30::1
cap_start d veth1 "$TMP/link.pcap"
check "ping c -> d, 3 of 3 (neighbours unknown at first)" \
	on c ping -c 3 -i 0.2 -W 2 fd30::2
expect_stats "c: out SA 0x6101 sent 3 (104 bytes each)" c 0x6101 "bytes=312 packets=3"
expect_stats "d: in SA 0x6101 accepted 3" d 0x6101 "bytes=312 packets=3"
expect_stats "d: out SA 0x6102 sent 3" d 0x6102 "bytes=312 packets=3"
expect_stats "c: in SA 0x6102 accepted 3" c 0x6102 "bytes=312 packets=3"

log "c: discard ::/0 out, priority 10"
check "c: discard policy for everything" nf c policy add dir out \
	src ::/0 dst ::/0 priority 10 discard
expect_fail "ping c -> d under discard: no answer" "0 received" \
	on c ping -c 3 -i 0.2 -W 1 fd30::2
expect_eq "c: discard 3 (its echo requests)" "discard=3" "$(ns_stats c)" || true
# d must find c again: c answers d's neighbour solicitation in clear
# under its discard policy, and discards only its echo replies.
on d ip -6 neigh flush dev veth1
expect_fail "ping d -> c: c's replies discarded" "0 received" \
	on d ping -c 2 -i 0.2 -W 1 fd30::1
check "d: c's link-layer address learnt (c's advertisement in clear)" \
	sh -c "ip -n $(ns_name d) -6 neigh show fd30::1 | grep -q lladdr"
expect_eq "c: discard 5 (and the 2 echo replies)" "discard=5" "$(ns_stats c)" || true
expect_stats "c: in SA 0x6102 accepted d's 2 requests" c 0x6102 "bytes=520 packets=5"
expect_eq "c: out SA 0x6101 unchanged" "bytes=312 packets=3" "$(sa_stats c 0x6101)" || true
check "c: discard removed" nf c policy del dir out src ::/0 dst ::/0 priority 10
cap_stop "$TMP/link.pcap"
expect_eq "link: no echo request or reply in clear" 0 \
	"$(cap_count "$TMP/link.pcap" 'icmp6 and (ip6[40] = 128 or ip6[40] = 129)')" || true
n=$(cap_count "$TMP/link.pcap" 'icmp6 and (ip6[40] = 135 or ip6[40] = 136)')
if [[ $n =~ ^[0-9]+$ ]] && ((n >= 2)); then
	ok "link: neighbour solicitations and advertisements in clear ($n)"
else
	not_ok "link: neighbour solicitations and advertisements in clear" "$n"
fi
expect_eq "link: 8 ESP packets (3 requests, 3 replies, 2 requests)" 8 \
	"$(cap_count "$TMP/link.pcap" 'ip6 proto 50')" || true

log "hostile input to d, raw from c (whose policies are out of the way)"
check "c: policies flushed" nf c policy flush
on c python3 - <<'EOF' || not_ok "raw sender" "python3 failed"
import socket, struct
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
src = socket.inet_pton(socket.AF_INET6, 'fd30::1')
dst = socket.inet_pton(socket.AF_INET6, 'fd30::2')
def ip6(nh, payload):
    return struct.pack('!IHBB', 0x60000000, len(payload), nh, 64) + src + dst + payload
def dstopt(nh):		# 8 bytes: next header, length 0, PadN of 4
    return bytes([nh, 0, 1, 4, 0, 0, 0, 0])
esp = struct.pack('!II', 0x6101, 100) + bytes(8 + 16 + 16)
# nine destination options headers, then ESP
chain = b''.join(dstopt(60) for _ in range(8)) + dstopt(50) + esp
s.sendto(ip6(60, chain), ('fd30::2', 0))
# an options header that says it is 2048 bytes long
s.sendto(ip6(60, bytes([50, 255]) + bytes(6) + esp), ('fd30::2', 0))
# ESP whose ciphertext is 3 bytes: no whole block
s.sendto(ip6(50, struct.pack('!II', 0x6101, 101) + bytes(8 + 3 + 16)),
         ('fd30::2', 0))
EOF
check "c: policies back" nf c -b - <<EOF
policy add dir out src fd30::1 dst fd30::2 protect spi 0x6101
policy add dir in src fd30::2 dst fd30::1 protect spi 0x6102
EOF
wait_for "d: malformed 3" 5 eval '[ "$(ns_stats d)" = "malformed=3" ]' || true
expect_eq "d: each counted malformed, nothing else" "malformed=3" "$(ns_stats d)" || true
expect_eq "d: in SA 0x6101 unchanged" "bytes=312 packets=3" "$(sa_stats d 0x6101)" || true
check "ping c -> d still protected and answered" on c ping -c 1 -W 2 fd30::2
expect_stats "d: in SA 0x6101 accepted the 4th" d 0x6101 "bytes=416 packets=4"

log "transport MTU: a full-size packet that may not fragment (aes-gcm-128)"
# 1500 - 40 (IPv6) - 8 (ESP) - 8 (IV) - 16 (ICV) = 1428 of payload, which
# the 2-byte trailer must share: 1426 + 40 = 1466 for the whole packet
expect_fail "ping -6 -M do -s 1452 (1500 bytes): packet too big, mtu 1466" \
	"mtu=1466" on c ping -6 -M do -c 1 -W 2 -s 1452 fd30::2 || true
expect_stats "c: out SA 0x6101 counted it too_big, sent nothing" c 0x6101 \
	"bytes=416 packets=4 too_big=1"
expect_eq "c: the route to d learnt mtu 1466" 1466 "$(route_mtu c fd30::2)" || true
check "ping -6 -M do -s 1418 (1466 bytes) passes" \
	on c ping -6 -M do -c 1 -W 2 -s 1418 fd30::2
expect_stats "d: in SA 0x6101 took it" d 0x6101 "bytes=1882 packets=5"
expect_stats "c: in SA 0x6102 took the reply" c 0x6102 "bytes=2090 packets=7"

rm -rf "$TMP"
t_end
