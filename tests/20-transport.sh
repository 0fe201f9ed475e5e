#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 20-transport.sh: host-to-host ESP transport mode, aes-gcm-128, nfsec on
# both hosts.
#
#   +------------------+                  +------------------+
#   | ns a             |       veth       | ns b             |
#   | veth0 10.0.0.1   |------------------| veth1 10.0.0.2   |
#   +------------------+   (captured on   +------------------+
#                           b's veth1)
#   a -> b: SPI 0x1001 (KEY1)           b -> a: SPI 0x1002 (KEY2)
#   policies: out/in protect between the two host addresses, any protocol
#
# Covers: ping with exact per-SA packet and byte counts on both sides (bytes
# are whole IP packets, header included, in transport mode); a 1 MiB TCP
# transfer with md5 compare; the capture of the link holds only ESP between
# the hosts, and exactly as many ESP packets as the SAs sent; cleartext
# toward a protected host (the sender bypasses its own policy) is dropped
# and counted `cleartext`; a discard policy drops and counts `discard`; a
# protect policy whose SA was deleted drops and counts `no_sa_out`, with
# nothing on the wire; an SA added again in its place counts from zero.
# Both hosts run a stateful nftables filter (ct_filter: conntrack tracks
# every flow nfsec protects), which drops nothing.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter transport a b			# the rest runs in namespace a

TMP=$(mktemp -d)
link a veth0 10.0.0.1/24 b veth1 10.0.0.2/24
check "a: stateful nftables filter (conntrack)" ct_filter a
check "b: stateful nftables filter (conntrack)" ct_filter b

log "SAs and policies, transport aes-gcm-128"
check "a: SAs and policies" esp_pair a transport 0x1001 0x1002 \
	"$KEY1" "$KEY2" 10.0.0.1 10.0.0.2
check "b: SAs and policies" esp_pair b transport 0x1002 0x1001 \
	"$KEY2" "$KEY1" 10.0.0.2 10.0.0.1

cap_start b veth1 "$TMP/link.pcap"

log "ping -c 5: 84-byte IP packets (20 IP + 8 ICMP + 56 data)"
check "ping a -> b, 5 of 5" on a ping -c 5 -i 0.2 -W 2 10.0.0.2
expect_eq "a: out SA 0x1001 sent 5 packets, 420 bytes" "bytes=420 packets=5" "$(sa_stats a 0x1001)" || true
expect_eq "b: in SA 0x1001 accepted 5 packets, 420 bytes" "bytes=420 packets=5" "$(sa_stats b 0x1001)" || true
expect_eq "b: out SA 0x1002 sent 5 packets, 420 bytes" "bytes=420 packets=5" "$(sa_stats b 0x1002)" || true
expect_eq "a: in SA 0x1002 accepted 5 packets, 420 bytes" "bytes=420 packets=5" "$(sa_stats a 0x1002)" || true
expect_eq "a: no namespace drops" "" "$(ns_stats a)" || true
expect_eq "b: no namespace drops" "" "$(ns_stats b)" || true

log "1 MiB over TCP"
head -c 1048576 /dev/urandom >"$TMP/blob"
tcp_md5 "TCP a -> b: 1 MiB arrives intact (md5)" a b 10.0.0.2 5001 "$TMP/blob" || true
cap_stop "$TMP/link.pcap"

# Every counter but packets and bytes is still zero, and each side
# accepted exactly what the other sent.
aout=$(sa_stats a 0x1001) bin=$(sa_stats b 0x1001)
bout=$(sa_stats b 0x1002) ain=$(sa_stats a 0x1002)
log "a out $aout / b in $bin / b out $bout / a in $ain"
expect_eq "b's in SA 0x1001 accepted what a's out SA protected" "$(traffic "$aout")" "$bin" || true
expect_eq "a's in SA 0x1002 accepted what b's out SA protected" "$(traffic "$bout")" "$ain" || true
[[ $bin =~ ^bytes=([0-9]+)\ packets=([0-9]+)$ ]] && ((BASH_REMATCH[1] > 1048576)) &&
	ok "a -> b: b accepted more than 1 MiB, no drop counter" ||
	not_ok "a -> b: b accepted more than 1 MiB, no drop counter" "$bin"
[[ $bout =~ packets=([0-9]+) ]] && esp_b=${BASH_REMATCH[1]} || esp_b=x
[[ $aout =~ packets=([0-9]+) ]] && esp_a=${BASH_REMATCH[1]} || esp_a=x

log "the link carried ESP only"
cap_show "$TMP/link.pcap" "" 4
expect_eq "capture: no non-ESP IPv4 packet between a and b" 0 \
	"$(cap_count "$TMP/link.pcap" 'ip and host 10.0.0.1 and host 10.0.0.2 and not ip proto 50')" || true
cap_expect "capture: the ESP packets a sent, as many as SA 0x1001 counted" \
	"$TMP/link.pcap" "$esp_a" "$(cap_count "$TMP/link.pcap" 'ip proto 50 and src 10.0.0.1 and dst 10.0.0.2 and ip[20:4] = 0x1001')" || true
cap_expect "capture: the ESP packets b sent, as many as SA 0x1002 counted" \
	"$TMP/link.pcap" "$esp_b" "$(cap_count "$TMP/link.pcap" 'ip proto 50 and src 10.0.0.2 and dst 10.0.0.1 and ip[20:4] = 0x1002')" || true

log "cleartext toward b: a bypasses its own protect policy for ICMP"
log "a discard policy for UDP to port 9"
check "a: bypass ICMP, discard UDP port 9 (priority 10)" nf a -b - <<EOF
policy add dir out src 10.0.0.1 dst 10.0.0.2 proto icmp priority 10 bypass
policy add dir out src 10.0.0.1 dst 10.0.0.2 proto udp dport 9 priority 10 discard
EOF
expect_fail "cleartext ping a -> b gets no answer" "0 received" \
	on a ping -c 3 -i 0.2 -W 1 10.0.0.2
expect_eq "b: cleartext 3" "cleartext=3" "$(ns_stats b)" || true
expect_eq "b: in SA 0x1001 unchanged" "$bin" "$(sa_stats b 0x1001)" || true
on a bash -c 'for i in 1 2 3; do echo x 2>/dev/null >/dev/udp/10.0.0.2/9; done; exit 0'
expect_eq "a: discard 3 (three UDP datagrams to port 9)" "discard=3" "$(ns_stats a)" || true
expect_eq "a: out SA 0x1001 unchanged" "$aout" "$(sa_stats a 0x1001)" || true
check "a: remove bypass and discard" nf a -b - <<EOF
policy del dir out src 10.0.0.1 dst 10.0.0.2 proto icmp priority 10
policy del dir out src 10.0.0.1 dst 10.0.0.2 proto udp dport 9 priority 10
EOF
check "ping a -> b protected again" on a ping -c 1 -W 2 10.0.0.2 || true

log "fail closed: a's out SA deleted, its policy stays"
check "a: sa del 0x1001" nf a sa del dst 10.0.0.2 spi 0x1001 proto esp
cap_start b veth1 "$TMP/nosa.pcap"
expect_fail "ping a -> b with no SA: not sent" "0 received" \
	on a ping -c 3 -i 0.2 -W 1 10.0.0.2
cap_stop "$TMP/nosa.pcap"
expect_eq "a: no_sa_out 3 (discard 3 from before)" "discard=3 no_sa_out=3" "$(ns_stats a)" || true
expect_eq "capture: nothing from a on the wire" 0 \
	"$(cap_count "$TMP/nosa.pcap" 'ip and src 10.0.0.1')" || true
expect_eq "b: cleartext still 3" "cleartext=3" "$(ns_stats b)" || true

# An SA's counters come from a block of sets (counters.c); the deleted
# SA's set, freed after a grace period, is the first free one again and
# the next SA's. It starts at zero, not at the 0x1001 counts above.
log "a: sa add 0x1001 again, into the deleted SA's counters"
sleep 2
check "a: sa add 0x1001 again" nf a sa add dir out src 10.0.0.1 dst 10.0.0.2 \
	spi 0x1001 proto esp mode transport aead aes-gcm-128 key "$KEY1"
expect_eq "a: the new SA 0x1001 counts nothing yet" "" "$(sa_stats a 0x1001)" || true
for h in a b; do
	expect_eq "$h: the stateful filter dropped nothing" \
		"in-invalid=0 in-policy=0 fwd-invalid=0 fwd-policy=0" "$(nft_counters $h ctf)" || true
done

rm -rf "$TMP"
t_end
