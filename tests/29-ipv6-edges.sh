#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 29-ipv6-edges.sh: IPv6 cases at the edge of the rules, nfsec on every
# IPsec host.
#
#   ha fd10::10 - lan0 ga wan0 2001:db8::1 ---- 2001:db8::2 wan0 gb lan0 -
#       fd20::10 hb     (tunnel ga <-> gb for fd10::/64 <-> fd20::/64)
#   c veth0 fd30::1/64 ---- veth1 fd30::2/64 d   (transport, any protocol)
#
# Covers:
#  - fragments through a tunnel: ha's 3000-byte echo requests leave ha in
#    3 fragments; ga reassembles them before routing (nf_defrag_ipv6) and
#    sends them on as 3 fragments again, each in an ESP packet of its own
#    (a whole 3048-byte packet would draw Packet Too Big beyond gb, for a
#    size ha already kept to); hb answers, and gb does the same with the
#    replies: exact SA counts both ways;
#  - neighbour discovery that is not: an ICMPv6 neighbour solicitation
#    sent through a router (ha to hb) is protected like any other packet;
#    one that arrives with a hop limit other than 255 (c to d, c's policies
#    out of the way) is cleartext that d's protect policy refuses, while
#    a genuine one (hop limit 255) is left to neighbour discovery.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter ipv6-edges ha ga gb hb c d	# the rest runs in namespace ha

TMP=$(mktemp -d)

link ha eth0 fd10::10/64 ga lan0 fd10::1/64
link ga wan0 2001:db8::1/64 gb wan0 2001:db8::2/64
link gb lan0 fd20::1/64 hb eth0 fd20::10/64
echo "route add default via fd10::1" | ipb ha
echo "route add default via fd20::1" | ipb hb
echo "route add fd20::/64 via 2001:db8::2" | ipb ga
echo "route add fd10::/64 via 2001:db8::1" | ipb gb
for g in ga gb; do
	on "$g" sysctl -qw net.ipv6.conf.all.forwarding=1
done
ip6_usable ha ga gb hb
check "ga: tunnel SAs and policies" esp_pair ga tunnel 0x6201 0x6202 \
	"$KEY1" "$KEY2" 2001:db8::1 2001:db8::2 fd10::/64 fd20::/64
check "gb: tunnel SAs and policies" esp_pair gb tunnel 0x6202 0x6201 \
	"$KEY2" "$KEY1" 2001:db8::2 2001:db8::1 fd20::/64 fd10::/64

log "fragments through the tunnel: ping -s 3000 ha -> hb"
cap_start ha eth0 "$TMP/lan.pcap"
check "ping -s 3000 ha -> hb, 2 of 2" on ha ping -c 2 -i 0.3 -W 3 -s 3000 fd20::10
cap_stop "$TMP/lan.pcap"
expect_eq "ha's link: 6 fragments of echo requests from ha (3 a request)" 6 \
	"$(cap_count "$TMP/lan.pcap" 'src fd10::10 and ip6[6] = 44')" || true
# 3008 bytes of ICMPv6 in fragments of 1448, 1448 and 112 bytes: 1496 +
# 1496 + 160 bytes a request, whole IPv6 fragments inside ESP
expect_stats "ga: out SA 0x6201 sent 6 fragments, 6304 bytes" ga 0x6201 "bytes=6304 packets=6"
expect_stats "gb: in SA 0x6201 accepted the 6" gb 0x6201 "bytes=6304 packets=6"
expect_stats "gb: out SA 0x6202 sent hb's 6 reply fragments" gb 0x6202 "bytes=6304 packets=6"
expect_stats "ga: in SA 0x6202 accepted the 6" ga 0x6202 "bytes=6304 packets=6"
expect_eq "ga: no namespace drops" "" "$(ns_stats ga)" || true
expect_eq "gb: no namespace drops" "" "$(ns_stats gb)" || true

# ns6 NS DST HOPLIMIT: a neighbour solicitation for DST from NS's socket,
# with that hop limit (raw ICMPv6: the kernel fills in the checksum)
ns6() {
	on "$1" python3 - "$2" "$3" <<-'EOF'
		import socket, struct, sys
		dst, hl = sys.argv[1], int(sys.argv[2])
		s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
		s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, hl)
		s.sendto(struct.pack('!BBHI', 135, 0, 0, 0) +
			 socket.inet_pton(socket.AF_INET6, dst), (dst, 0))
	EOF
}

log "a neighbour solicitation through a router is protected"
cap_start ga wan0 "$TMP/wan.pcap"
ns6 ha fd20::10 255
expect_stats "ga: out SA 0x6201 protected it (7 packets)" ga 0x6201 "bytes=6368 packets=7"
cap_stop "$TMP/wan.pcap"
expect_eq "ga's wan link: no ICMPv6 in clear" 0 \
	"$(cap_count "$TMP/wan.pcap" 'icmp6 and net fd00::/8')" || true

log "transport c <-> d; c's policies out of the way for its forgeries"
link c veth0 fd30::1/64 d veth1 fd30::2/64
ip6_usable c d
check "d: transport SAs and policies, any protocol" esp_pair d transport \
	0x6302 0x6301 "$KEY4" "$KEY3" fd30::2 fd30::1
ns6 c fd30::2 64
wait_for "d: cleartext 1" 5 eval '[ "$(ns_stats d)" = "cleartext=1" ]' || true
expect_eq "d: hop limit 64 is no neighbour discovery: cleartext 1" \
	"cleartext=1" "$(ns_stats d)" || true
on d ip -6 neigh flush dev veth1
ns6 c fd30::2 255
check "d: the genuine solicitation taught d c's link-layer address" \
	wait_for "d: neighbour fd30::1" 5 \
	sh -c "ip -n $(ns_name d) -6 neigh show fd30::1 | grep -q lladdr"
expect_eq "d: still cleartext 1" "cleartext=1" "$(ns_stats d)" || true

rm -rf "$TMP"
t_end
