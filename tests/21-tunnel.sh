#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 21-tunnel.sh: ESP tunnel mode, aes-gcm-128: site to site between two
# nfsec gateways, host to gateway, and an nfsec gateway against an XFRM one.
#
#   ha 192.168.1.10                                          hb 192.168.2.10
#    | eth0                                                      eth0 |
#    | lan0 192.168.1.1                          192.168.2.1 lan0 |
#   ga  wan0 10.0.1.1 --- 10.0.1.254  inet  10.0.2.254 --- 10.0.2.1 wan0  gb
#                                     10.0.3.254
#                                         |
#                                 rh 10.0.3.10 eth0
#
#   inet routes 10.0.1-3.0/24 only: it has no route to 192.168.0.0/16, so
#   anything that crosses between the sites crossed inside ESP. Captured
#   on all of inet's links (-i any).
#   ga <-> gb: 192.168.1.0/24 <-> 192.168.2.0/24, SPI 0x2001 (ga->gb) and
#              0x2002 (gb->ga)
#   rh <-> gb: 10.0.3.10 <-> 192.168.2.0/24, SPI 0x3001 (rh->gb) and
#              0x3002 (gb->rh); rh is its own tunnel end
#   then gb runs XFRM (ip xfrm) instead, SPI 0x4001/0x4002 with ga
#
# Covers: ping with exact per-SA counts on both gateways (bytes are inner
# packet lengths); TCP 1 MiB with md5; the capture shows no 192.168 address
# and nothing but ESP; host to gateway ping with exact counts; a blackhole
# route to gb added on ga after the tunnel carried traffic stops it (no
# packet leaves, counted no_buffer) and its removal lets it through again
# (the SA's cached outer route follows routing changes); nfsec against
# XFRM: ping and TCP both ways. ga, gb and rh run a stateful nftables
# filter (ct_filter: conntrack tracks every flow; the gateways forward what
# comes from their LAN and, gb, what XFRM decapsulated), which drops
# nothing.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter tunnel ha ga inet gb hb rh	# the rest runs in namespace ha

TMP=$(mktemp -d)
sites ha ga inet gb hb rh
check "ga: stateful nftables filter (conntrack)" ct_filter ga 'iifname "lan0" accept'
check "gb: stateful nftables filter (conntrack)" ct_filter gb 'iifname "lan0" accept' \
	'meta secpath exists accept'
check "rh: stateful nftables filter (conntrack)" ct_filter rh

check "ga: tunnel SAs and policies to gb" esp_pair ga tunnel 0x2001 0x2002 \
	"$KEY1" "$KEY2" 10.0.1.1 10.0.2.1 192.168.1.0/24 192.168.2.0/24
check "gb: tunnel SAs and policies to ga" esp_pair gb tunnel 0x2002 0x2001 \
	"$KEY2" "$KEY1" 10.0.2.1 10.0.1.1 192.168.2.0/24 192.168.1.0/24
check "gb: tunnel SAs and policies to rh" esp_pair gb tunnel 0x3002 0x3001 \
	"$KEY4" "$KEY3" 10.0.2.1 10.0.3.10 192.168.2.0/24 10.0.3.10
# (rh is its own tunnel end: its back policy is dir in)
check "rh: tunnel SAs and policies to gb" esp_pair -b in rh tunnel 0x3001 0x3002 \
	"$KEY3" "$KEY4" 10.0.3.10 10.0.2.1 10.0.3.10 192.168.2.0/24

expect_fail "inet has no route to 192.168.2.10" "unreachable" \
	ip -n "$(ns_name inet)" route get 192.168.2.10

cap_start inet any "$TMP/inet.pcap"

log "site to site: ping -c 5, 84-byte inner packets"
check "ping ha -> hb, 5 of 5" on ha ping -c 5 -i 0.2 -W 2 192.168.2.10
expect_eq "ga: out SA 0x2001 sent 5 packets, 420 bytes" "bytes=420 packets=5" "$(sa_stats ga 0x2001)" || true
expect_eq "gb: in SA 0x2001 accepted 5 packets, 420 bytes" "bytes=420 packets=5" "$(sa_stats gb 0x2001)" || true
expect_eq "gb: out SA 0x2002 sent 5 packets, 420 bytes" "bytes=420 packets=5" "$(sa_stats gb 0x2002)" || true
expect_eq "ga: in SA 0x2002 accepted 5 packets, 420 bytes" "bytes=420 packets=5" "$(sa_stats ga 0x2002)" || true

log "site to site: 1 MiB over TCP"
head -c 1048576 /dev/urandom >"$TMP/blob"
tcp_md5 "TCP ha -> hb: 1 MiB arrives intact (md5)" ha hb 192.168.2.10 5001 "$TMP/blob" || true
aout=$(sa_stats ga 0x2001) bin=$(sa_stats gb 0x2001)
expect_eq "gb's in SA 0x2001 accepted what ga's out SA protected" "$(traffic "$aout")" "$bin" || true
expect_eq "ga's in SA 0x2002 accepted what gb's out SA protected" \
	"$(traffic "$(sa_stats gb 0x2002)")" "$(sa_stats ga 0x2002)" || true

log "host to gateway: rh -> hb behind gb, ping -c 3"
check "ping rh -> hb, 3 of 3" on rh ping -c 3 -i 0.2 -W 2 192.168.2.10
expect_eq "rh: out SA 0x3001 sent 3 packets, 252 bytes" "bytes=252 packets=3" "$(sa_stats rh 0x3001)" || true
expect_eq "gb: in SA 0x3001 accepted 3 packets, 252 bytes" "bytes=252 packets=3" "$(sa_stats gb 0x3001)" || true
expect_eq "gb: out SA 0x3002 sent 3 packets, 252 bytes" "bytes=252 packets=3" "$(sa_stats gb 0x3002)" || true
expect_eq "rh: in SA 0x3002 accepted 3 packets, 252 bytes" "bytes=252 packets=3" "$(sa_stats rh 0x3002)" || true
for g in ga gb rh; do
	expect_eq "$g: no namespace drops" "" "$(ns_stats $g)" || true
done
cap_stop "$TMP/inet.pcap"

log "inet saw ESP only"
cap_show "$TMP/inet.pcap" "" 4
cap_sites_esp "$TMP/inet.pcap"
cnt=$(cap_count "$TMP/inet.pcap" 'ip proto 50 and host 10.0.3.10')
expect_eq "capture: rh's 6 ESP packets, each seen on two of inet's links" 12 "$cnt" || true
cnt=$(cap_count "$TMP/inet.pcap" 'ip proto 50 and src 10.0.1.1 and dst 10.0.2.1')
[[ $aout =~ packets=([0-9]+) ]] && want=$((BASH_REMATCH[1] * 2)) || want=x
cap_expect "capture: ga -> gb ESP packets, twice what SA 0x2001 counted" \
	"$TMP/inet.pcap" "$want" "$cnt" || true

log "the outer route follows routing changes (nfsec keeps it per SA and CPU)"
before=$(sa_eval ga 0x2001 '(st.get("packets", 0), st.get("no_buffer", 0) + 2)')
check "ga: a blackhole route to gb's 10.0.2.1" on ga ip route add blackhole 10.0.2.1/32
expect_fail "ping ha -> hb: nothing while ga routes gb into a blackhole" \
	" 0 received" on ha ping -c 2 -i 0.2 -W 1 192.168.2.10
expect_eq "ga: out SA 0x2001 sent nothing more, 2 dropped without a route" \
	"$before" "$(sa_eval ga 0x2001 '(st.get("packets", 0), st.get("no_buffer", 0))')" || true
check "ga: the blackhole route removed" on ga ip route del blackhole 10.0.2.1/32
check "ping ha -> hb through the tunnel again, 2 of 2" on ha ping -c 2 -i 0.2 -W 2 192.168.2.10

log "nfsec gateway ga against an XFRM gateway gb"
check "gb: nfsec SAs and policies flushed" nf gb -b - <<EOF
policy flush
sa flush
EOF
check "ga: SAs 0x4001/0x4002 replace 0x2001/0x2002" esp_pair -F ga tunnel \
	0x4001 0x4002 "$KEY3" "$KEY4" 10.0.1.1 10.0.2.1 192.168.1.0/24 192.168.2.0/24
check "gb: XFRM states and policies" ipb gb <<EOF
xfrm state add src 10.0.1.1 dst 10.0.2.1 proto esp spi 0x4001 mode tunnel aead rfc4106(gcm(aes)) $KEY3 128
xfrm state add src 10.0.2.1 dst 10.0.1.1 proto esp spi 0x4002 mode tunnel aead rfc4106(gcm(aes)) $KEY4 128
xfrm policy add src 192.168.2.0/24 dst 192.168.1.0/24 dir out tmpl src 10.0.2.1 dst 10.0.1.1 proto esp mode tunnel
xfrm policy add src 192.168.1.0/24 dst 192.168.2.0/24 dir fwd tmpl src 10.0.1.1 dst 10.0.2.1 proto esp mode tunnel
EOF
check "ping ha -> hb via nfsec and XFRM, 5 of 5" on ha ping -c 5 -i 0.2 -W 2 192.168.2.10
check "ping hb -> ha via XFRM and nfsec, 5 of 5" on hb ping -c 5 -i 0.2 -W 2 192.168.1.10
expect_eq "ga: out SA 0x4001 sent 10 packets, 840 bytes" "bytes=840 packets=10" "$(sa_stats ga 0x4001)" || true
expect_eq "ga: in SA 0x4002 accepted 10 packets, 840 bytes" "bytes=840 packets=10" "$(sa_stats ga 0x4002)" || true
tcp_md5 "TCP ha -> hb via nfsec -> XFRM: 1 MiB intact (md5)" ha hb 192.168.2.10 5002 "$TMP/blob" || true
tcp_md5 "TCP hb -> ha via XFRM -> nfsec: 1 MiB intact (md5)" hb ha 192.168.1.10 5003 "$TMP/blob" || true
s=$(sa_stats ga 0x4002)
[[ $s =~ ^bytes=([0-9]+)\ packets=[0-9]+$ ]] && ((BASH_REMATCH[1] > 1048576)) &&
	ok "ga: in SA 0x4002 accepted more than 1 MiB from XFRM, no drop counter" ||
	not_ok "ga: in SA 0x4002 accepted more than 1 MiB from XFRM, no drop counter" "$s"
expect_eq "ga: no namespace drops" "" "$(ns_stats ga)" || true
ct_clean ga gb rh
ip -n "$(ns_name gb)" -s xfrm state | sed -n '/spi\|lifetime current/,+1s/^/# gb xfrm: /p' || true

rm -rf "$TMP"
t_end
