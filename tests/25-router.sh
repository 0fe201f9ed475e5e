#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 25-router.sh: two site gateways as real routers run them: conntrack, a
# stateful nftables filter and masquerade toward the internet, and between
# the sites an nfsec ESP tunnel (aes-gcm-128).
#
#   h1 192.168.1.10                                          h2 192.168.2.10
#    | eth0                                                      eth0 |
#    | lan0 192.168.1.1                          192.168.2.1 lan0 |
#   g1  wan0 10.0.1.1 --- 10.0.1.254  inet  10.0.2.254 --- 10.0.2.1 wan0  g2
#                                     10.0.3.254
#                                         |
#                                 www 10.0.3.10 eth0
#
#   inet routes 10.0.1-3.0/24 only (no route to 192.168.0.0/16): captured
#   on all its links (-i any). www is an internet host outside the tunnel.
#   g1 <-> g2: 192.168.1.0/24 <-> 192.168.2.0/24, SPI 0x2001 (g1->g2) and
#              0x2002 (g2->g1)
#   each gateway, table ip router: input and forward policy drop;
#     input: ESP from the peer (first, so its counter sees every ESP
#            packet), ct established,related, ct invalid drop, lo, ICMP, LAN
#     forward: ct established, ct related (own counter), ct invalid drop,
#            LAN -> wan0, tunnel: remote LAN -> LAN from nfsec0
#     postrouting (srcnat): masquerade LAN sources leaving on wan0
#
# Covers: ping, UDP both ways (one socket each, 5 datagrams: after the
# first, each one's conntrack entry is confirmed already) and an ICMP port
# unreachable for a UDP datagram to a closed port, accepted as `related` on
# both gateways, all with exact per-SA counters and exact nft counters;
# the receivers see the LAN source addresses (the tunnel's traffic is not
# masqueraded) while LAN to www is (www answers 10.0.1.1/10.0.2.1; inet
# could not route a reply to a LAN address), and g1's conntrack table has
# exactly one masqueraded entry; TCP 256 KiB both ways with md5 and each
# in SA accepting exactly what the peer's out SA protected; the capture
# holds no LAN address and nothing but ESP between the gateways; the
# filters drop nothing (no invalid conntrack state); no kernel splat.
#
# nfsec's POST_ROUTING hook confirms a packet's conntrack entry before it
# takes the packet; without the nf_ct_is_confirmed() guard the second
# packet of every flow it protects (original direction) was dropped and
# __nf_conntrack_confirm warned: 1 of 5 pings, 1 of 5 datagrams. TCP is
# not tried then (its last handshake ACK would be lost).
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter router h1 g1 inet g2 h2 www	# the rest runs in namespace h1

# no_splat: the kernel log since the start shows no WARNING, BUG, ...
no_splat() {
	local splats
	splats=$(dmesg | tail -n "+$((klines + 1))" | grep -aE -f "$SPLAT_PATTERNS") || true
	expect_eq "kernel log: no splat (WARNING, BUG, ...) during the test" "" "$splats" || true
}

# ping_all DESC NS COUNT ADDR: COUNT echo requests, every one answered
# (ping's status only says that one was). -A: each request waits for the
# last reply, so only the first is `new` to conntrack: exact nft counters.
ping_all() {
	local out
	out=$(on "$2" ping -A -c "$3" -W 2 "$4" 2>&1) || true
	if [[ $out == *" $3 received,"* ]]; then
		ok "$1"
		return 0
	fi
	not_ok "$1" "$out"
	return 1
}

# udp_recv NS PORT LOG: a UDP receiver in NS logging each datagram and its
# source to LOG (socat -d -d), back once it listens.
udp_recv() {
	run_bg "$1" socat -d -d -u "UDP-RECV:$2" "OPEN:$3.data,creat,trunc" 2>"$3"
	wait_for "socat on port $2" 15 file_has "$3" "starting data transfer loop"
}

# udp_got LOG: the datagrams LOG's receiver got, as "N from SOURCE ...".
udp_got() {
	local line n=0 src=
	while read -r line; do
		[[ $line =~ "received packet with "[0-9]+" bytes from AF=2 "([0-9.]+): ]] || continue
		n=$((n + 1))
		[[ " $src " == *" ${BASH_REMATCH[1]} "* ]] || src+=" ${BASH_REMATCH[1]}"
	done <"$1"
	echo "$n from${src:- nowhere}"
}

udp_got_is() {
	[ "$(udp_got "$1")" == "$2" ]
}

# router NS PEER LAN REMOTE_LAN: the gateway's ruleset (see the header).
router() {
	on "$1" nft -f - <<-EOF
		table ip router {
			chain input {
				type filter hook input priority filter; policy drop;
				ip protocol esp ip saddr $2 counter accept comment "esp"
				ct state established,related accept
				ct state invalid counter drop comment "in-invalid"
				iif lo accept
				ip protocol icmp accept
				iifname "lan0" accept
				counter comment "in-policy"
			}
			chain forward {
				type filter hook forward priority filter; policy drop;
				ct state established accept
				ct state related counter accept comment "related"
				ct state invalid counter drop comment "fwd-invalid"
				iifname "lan0" oifname "wan0" accept
				iifname "nfsec0" oifname "lan0" ip saddr $4 ip daddr $3 counter accept comment "tunnel"
				counter comment "fwd-policy"
			}
			chain postrouting {
				type nat hook postrouting priority srcnat; policy accept;
				oifname "wan0" ip saddr $3 counter masquerade comment "masquerade"
			}
		}
	EOF
}

TMP=$(mktemp -d)
klines=$(dmesg | wc -l)
sites h1 g1 inet g2 h2 www

log "g1, g2: stateful filter and masquerade (conntrack and NAT loaded)"
check "g1: nftables router ruleset" router g1 10.0.2.1 192.168.1.0/24 192.168.2.0/24
check "g2: nftables router ruleset" router g2 10.0.1.1 192.168.2.0/24 192.168.1.0/24
check "g1: tunnel SAs and policies to g2" esp_pair g1 tunnel 0x2001 0x2002 \
	"$KEY1" "$KEY2" 10.0.1.1 10.0.2.1 192.168.1.0/24 192.168.2.0/24
check "g2: tunnel SAs and policies to g1" esp_pair g2 tunnel 0x2002 0x2001 \
	"$KEY2" "$KEY1" 10.0.2.1 10.0.1.1 192.168.2.0/24 192.168.1.0/24
expect_fail "inet has no route to 192.168.2.10" "unreachable" \
	ip -n "$(ns_name inet)" route get 192.168.2.10

cap_start inet any "$TMP/inet.pcap"

log "site to site: ping -c 5, 84-byte inner packets"
ping_all "ping h1 -> h2, 5 of 5" h1 5 192.168.2.10 || true
expect_eq "g1: out SA 0x2001 sent 5 packets, 420 bytes" "bytes=420 packets=5" "$(sa_stats g1 0x2001)" || true
expect_eq "g2: in SA 0x2001 accepted 5 packets, 420 bytes" "bytes=420 packets=5" "$(sa_stats g2 0x2001)" || true
expect_eq "g2: out SA 0x2002 sent 5 packets, 420 bytes" "bytes=420 packets=5" "$(sa_stats g2 0x2002)" || true
expect_eq "g1: in SA 0x2002 accepted 5 packets, 420 bytes" "bytes=420 packets=5" "$(sa_stats g1 0x2002)" || true

# Five 7-byte datagrams from one socket: one conntrack entry, confirmed by
# the first; 35-byte inner packets.
log "site to site: UDP h1 -> h2 and h2 -> h1, 5 datagrams each"
udp_recv h2 7000 "$TMP/udp2.log"
udp_recv h1 7001 "$TMP/udp1.log"
on h1 bash -c 'exec 3>/dev/udp/192.168.2.10/7000
	for i in 1 2 3 4 5; do printf "udp %02d\n" $i >&3; done'
on h2 bash -c 'exec 3>/dev/udp/192.168.1.10/7001
	for i in 1 2 3 4 5; do printf "udp %02d\n" $i >&3; done'
wait_for "5 datagrams at h2" 10 udp_got_is "$TMP/udp2.log" "5 from 192.168.1.10" || true
wait_for "5 datagrams at h1" 10 udp_got_is "$TMP/udp1.log" "5 from 192.168.2.10" || true
udp_ok=1
expect_eq "h2 got h1's 5 datagrams from 192.168.1.10 (not masqueraded)" \
	"5 from 192.168.1.10" "$(udp_got "$TMP/udp2.log")" || udp_ok=0
expect_eq "h1 got h2's 5 datagrams from 192.168.2.10 (not masqueraded)" \
	"5 from 192.168.2.10" "$(udp_got "$TMP/udp1.log")" || udp_ok=0

# socat sends "x\n" (a 30-byte packet) and reads: the ICMP error (58
# bytes: 28 of its own and the 30 it quotes) fails the read.
log "related: UDP h1 -> h2 port 9 (closed), ICMP port unreachable back"
expect_fail "h1: UDP to h2's closed port: connection refused (ICMP came back)" \
	"Connection refused" on h1 bash -c 'echo x | socat -t 10 - UDP:192.168.2.10:9'

log "internet: h1 and h2 ping www, masqueraded"
ping_all "ping h1 -> www, 3 of 3" h1 3 10.0.3.10 || true
ping_all "ping h2 -> www, 2 of 2" h2 2 10.0.3.10 || true

# One masqueraded entry: h1's ping to www, answered to 10.0.1.1; the
# tunnel's entries keep h1's address (read at once: the UDP ones,
# unreplied, last 30 s). Through conntrack(8), netlink: kernels without
# CONFIG_NF_CONNTRACK_PROCFS (the debug kernel) have no /proc file.
ct=$(on g1 conntrack -L 2>/dev/null)
_detail "$ct"
nat=0 tun=0 tun_nat=0
while read -r line; do
	[[ $line =~ src=([0-9.]+)\ dst=([0-9.]+)\ .*\ src=([0-9.]+)\ dst=([0-9.]+)\  ]] || continue
	[ "${BASH_REMATCH[1]}" = 192.168.1.10 ] || continue
	if [ "${BASH_REMATCH[2]}" = 192.168.2.10 ]; then
		tun=$((tun + 1))
		[ "${BASH_REMATCH[4]}" = 192.168.1.10 ] || tun_nat=$((tun_nat + 1))
	elif [ "${BASH_REMATCH[2]}/${BASH_REMATCH[4]}" = 10.0.3.10/10.0.1.1 ]; then
		nat=$((nat + 1))
	fi
done <<<"$ct"
expect_eq "g1: conntrack: one entry h1 -> www, masqueraded to 10.0.1.1" 1 "$nat" || true
[ "$tun" -ge 2 ] && ok "g1: conntrack: h1 -> h2 entries, $tun of them" ||
	not_ok "g1: conntrack: h1 -> h2 entries" "found $tun, want at least 2 (UDP 7000, UDP 9)"
expect_eq "g1: conntrack: no h1 -> h2 entry is NATed" 0 "$tun_nat" || true

expect_eq "g1: out SA 0x2001: ping, UDP, closed port (11 packets, 625 bytes)" \
	"bytes=625 packets=11" "$(sa_stats g1 0x2001)" || true
expect_eq "g2: in SA 0x2001 accepted the same" \
	"bytes=625 packets=11" "$(sa_stats g2 0x2001)" || true
expect_eq "g2: out SA 0x2002: ping, UDP, ICMP error (11 packets, 653 bytes)" \
	"bytes=653 packets=11" "$(sa_stats g2 0x2002)" || true
expect_eq "g1: in SA 0x2002 accepted the same" \
	"bytes=653 packets=11" "$(sa_stats g1 0x2002)" || true

# esp: every ESP packet from the peer (the in SA's count); related: the
# one ICMP error; tunnel: what arrived new from the remote LAN (the first
# echo request, 5 datagrams to 7000 (not answered, so each is `new`), the
# datagram to port 9) at g2, and h2's 5 datagrams to 7001 at g1;
# masquerade: the first packet of one connection to www.
expect_eq "g1: nft counters" \
	"esp=11 in-invalid=0 in-policy=0 related=1 fwd-invalid=0 tunnel=5 fwd-policy=0 masquerade=1" \
	"$(nft_counters g1 router)" || true
expect_eq "g2: nft counters" \
	"esp=11 in-invalid=0 in-policy=0 related=1 fwd-invalid=0 tunnel=7 fwd-policy=0 masquerade=1" \
	"$(nft_counters g2 router)" || true

cap_stop "$TMP/inet.pcap"

log "the internet saw ESP and masqueraded traffic only"
cap_show "$TMP/inet.pcap" "" 4
expect_eq "capture: no packet with a 192.168.0.0/16 address" 0 \
	"$(cap_count "$TMP/inet.pcap" 'net 192.168.0.0/16')" || true
expect_eq "capture: nothing but ESP between the gateways" 0 \
	"$(cap_count "$TMP/inet.pcap" 'ip and host 10.0.1.1 and host 10.0.2.1 and not ip proto 50')" || true
cap_expect "capture: g1 -> g2: SA 0x2001's 11 ESP packets, each on two links" "$TMP/inet.pcap" \
	22 "$(cap_count "$TMP/inet.pcap" 'ip proto 50 and src 10.0.1.1 and dst 10.0.2.1 and ip[20:4] = 0x2001')" || true
cap_expect "capture: g2 -> g1: SA 0x2002's 11 ESP packets, each on two links" "$TMP/inet.pcap" \
	22 "$(cap_count "$TMP/inet.pcap" 'ip proto 50 and src 10.0.2.1 and dst 10.0.1.1 and ip[20:4] = 0x2002')" || true
cap_expect "capture: h1's 3 pings to www as 10.0.1.1, each way on two links" "$TMP/inet.pcap" \
	12 "$(cap_count "$TMP/inet.pcap" 'icmp and host 10.0.1.1 and host 10.0.3.10')" || true
cap_expect "capture: h2's 2 pings to www as 10.0.2.1, each way on two links" "$TMP/inet.pcap" \
	8 "$(cap_count "$TMP/inet.pcap" 'icmp and host 10.0.2.1 and host 10.0.3.10')" || true

# A tunnel that loses the second packet of a flow would lose the client's
# last handshake ACK, and tcp_md5's receiver would wait for ever in accept.
if [ "$udp_ok" = 0 ]; then
	not_ok "TCP both ways" "not run: the tunnel lost UDP datagrams above"
	no_splat
	rm -rf "$TMP"
	t_end
fi
cap_start inet any "$TMP/tcp.pcap"
log "site to site: 256 KiB over TCP each way"
head -c 262144 /dev/urandom >"$TMP/blob"
tcp_md5 "TCP h1 -> h2: 256 KiB arrive intact (md5)" h1 h2 192.168.2.10 5001 "$TMP/blob" || true
tcp_md5 "TCP h2 -> h1: 256 KiB arrive intact (md5)" h2 h1 192.168.1.10 5002 "$TMP/blob" || true
cap_stop "$TMP/tcp.pcap"

g1out=$(sa_stats g1 0x2001) g2in=$(sa_stats g2 0x2001)
g2out=$(sa_stats g2 0x2002) g1in=$(sa_stats g1 0x2002)
log "g1 out $g1out / g2 in $g2in / g2 out $g2out / g1 in $g1in"
expect_eq "g2's in SA 0x2001 accepted what g1's out SA protected" "$(traffic "$g1out")" "$g2in" || true
expect_eq "g1's in SA 0x2002 accepted what g2's out SA protected" "$(traffic "$g2out")" "$g1in" || true
# The first full-size segments of the first connection do not fit with
# ESP: too_big (ICMP "fragmentation needed" to h1, RFC 4301 8.2) is the
# only counter allowed besides bytes and packets.
for g in "g1 0x2001 $g1out" "g2 0x2002 $g2out"; do
	read -r g spi s <<<"$g"
	[[ $s =~ ^bytes=([0-9]+)\ packets=[0-9]+(\ too_big=[0-9]+)?$ ]] && ((BASH_REMATCH[1] > 262144)) &&
		ok "$g: out SA $spi protected more than 256 KiB, no drop but too_big" ||
		not_ok "$g: out SA $spi protected more than 256 KiB, no drop but too_big" "$s"
done
[[ $g1out =~ packets=([0-9]+) ]] && esp1=${BASH_REMATCH[1]} || esp1=x
[[ $g2out =~ packets=([0-9]+) ]] && esp2=${BASH_REMATCH[1]} || esp2=x
c1=$(nft_counters g1 router) c2=$(nft_counters g2 router)
log "g1: $c1"
log "g2: $c2"
expect_eq "g1: nft saw as many ESP packets from g2 as SA 0x2002 accepted" "esp=$esp2" "${c1%% *}" || true
expect_eq "g2: nft saw as many ESP packets from g1 as SA 0x2001 accepted" "esp=$esp1" "${c2%% *}" || true
for g in g1 g2; do
	c=$c1
	[ $g = g2 ] && c=$c2
	expect_eq "$g: the filter dropped nothing, masqueraded nothing more" \
		"in-invalid=0 in-policy=0 related=1 fwd-invalid=0 fwd-policy=0 masquerade=1" \
		"$(echo "$c" | sed 's/^esp=[0-9]* //; s/ tunnel=[0-9]*//')" || true
	expect_eq "$g: no namespace drops" "" "$(ns_stats $g)" || true
done

log "the internet saw ESP only during TCP"
expect_eq "capture (TCP): no packet with a 192.168.0.0/16 address" 0 \
	"$(cap_count "$TMP/tcp.pcap" 'net 192.168.0.0/16')" || true
expect_eq "capture (TCP): nothing but ESP between the gateways" 0 \
	"$(cap_count "$TMP/tcp.pcap" 'ip and host 10.0.1.1 and host 10.0.2.1 and not ip proto 50')" || true
cap_expect "capture (TCP): g1 -> g2 ESP, twice what SA 0x2001 counted since" "$TMP/tcp.pcap" \
	"$(((esp1 - 11) * 2))" "$(cap_count "$TMP/tcp.pcap" 'ip proto 50 and src 10.0.1.1 and dst 10.0.2.1')" || true
cap_expect "capture (TCP): g2 -> g1 ESP, twice what SA 0x2002 counted since" "$TMP/tcp.pcap" \
	"$(((esp2 - 11) * 2))" "$(cap_count "$TMP/tcp.pcap" 'ip proto 50 and src 10.0.2.1 and dst 10.0.1.1')" || true

no_splat
rm -rf "$TMP"
t_end
