#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 38-ike-bypass.sh: the key-exchange daemon's own traffic stays clear while
# a /0 protect policy covers everything else. IKE (RFC 7296 2.23) runs on
# UDP 500 and, with NAT traversal (RFC 3948), 4500; the daemon binds both
# ports, so its datagrams leave from them (out: by source port) and come
# to them (in: by destination port), whatever the peer's port is after a
# NAT. Four bypass policies at priority 10, before the protect policies
# (priority 1000):
#
#   policy add dir out src 0.0.0.0/0 dst 0.0.0.0/0 proto udp sport 500 priority 10 bypass
#   policy add dir out src 0.0.0.0/0 dst 0.0.0.0/0 proto udp sport 4500 priority 10 bypass
#   policy add dir in src 0.0.0.0/0 dst 0.0.0.0/0 proto udp dport 500 priority 10 bypass
#   policy add dir in src 0.0.0.0/0 dst 0.0.0.0/0 proto udp dport 4500 priority 10 bypass
#
#   +----------------------+             +----------------------+
#   | ns a (nfsec)         |             | ns b (XFRM)          |
#   | veth0 10.0.0.1/24    |-------------| veth1 10.0.0.2/24    |
#   +----------------------+             +----------------------+
#
# a: those four, and out and in 0.0.0.0/0 <-> 0.0.0.0/0 protect, a tunnel
# SA pair 10.0.0.1 <-> 10.0.0.2. b: XFRM with the same, its bypass by
# either port (b plays the peer behind a NAT too). One UDP peer in each
# namespace (tests/udp_peer.py) bound to 500, 4500 and 7000 (b also 33000),
# and at once:
#   a 500 -> b 500, a 4500 -> b 4500          (initiator; NAT-T)  clear
#   b 500 -> a 500, b 4500 -> a 4500          (responder)         clear
#   b 33000 -> a 4500, a 4500 -> b 33000      (peer behind a NAT) clear
#   a 40000 -> b 500                          (not the daemon's)  ESP
#   a * -> b 7000, b * -> a 7000              (anything else)     ESP
# Asserted: what each peer received; on the link exactly 6 clear UDP
# datagrams, all of them of port 500 or 4500, and 3 ESP packets, nothing
# else; a's SAs' and policies' exact counts; no drop.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter ike a b	# the rest runs in namespace a

TMP=$(mktemp -d)
link a veth0 10.0.0.1/24 b veth1 10.0.0.2/24
check "a: stateful nftables filter (conntrack)" ct_filter a
check "a: the filter lets UDP 500, 4500 and 7000 in" \
	nft insert rule ip ctf input udp dport '{ 500, 4500, 7000 }' accept

ANY='src 0.0.0.0/0 dst 0.0.0.0/0'
check "a: IKE bypass, priority 10; /0 protect, tunnel SAs 0x7001, 0x7002" \
	"$NFSEC" -b - <<EOF
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x7001 proto esp mode tunnel aead aes-gcm-128 key $KEY1
sa add dir in src 10.0.0.2 dst 10.0.0.1 spi 0x7002 proto esp mode tunnel aead aes-gcm-128 key $KEY2
policy add dir out $ANY proto udp sport 500 priority 10 bypass
policy add dir out $ANY proto udp sport 4500 priority 10 bypass
policy add dir in $ANY proto udp dport 500 priority 10 bypass
policy add dir in $ANY proto udp dport 4500 priority 10 bypass
policy add dir out $ANY protect spi 0x7001 dst 10.0.0.2
policy add dir in $ANY protect spi 0x7002 dst 10.0.0.1
EOF
xb() {	# xb DIR PORT-WORD PORT: an XFRM bypass policy of b
	echo "xfrm policy add $ANY proto udp $2 $3 dir $1 priority 10"
}
check "b: XFRM the same (bypass by either port), tunnel states" ipb b <<EOF
xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x7001 mode tunnel aead rfc4106(gcm(aes)) $KEY1 128
xfrm state add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x7002 mode tunnel aead rfc4106(gcm(aes)) $KEY2 128
$(for p in 500 4500; do for d in out in; do for w in sport dport; do
	xb $d $w $p; done; done; done)
xfrm policy add $ANY dir out priority 100 tmpl src 10.0.0.2 dst 10.0.0.1 proto esp mode tunnel
xfrm policy add $ANY dir in priority 100 tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode tunnel
EOF

cap_start a veth0 "$TMP/link.pcap"
rm -f "$TMP/go"
run_bg b python3 "$TESTS_DIR/udp_peer.py" "$TMP/b.ready" "$TMP/go" 4 \
	500,4500,7000,33000 "500 10.0.0.1 500 b500" "4500 10.0.0.1 4500 b4500" \
	"33000 10.0.0.1 4500 b33000" "0 10.0.0.1 7000 b7000" >"$TMP/b.got"
PEER_B=$BG_PID
python3 "$TESTS_DIR/udp_peer.py" "$TMP/a.ready" "$TMP/go" 4 500,4500,7000 \
	"500 10.0.0.2 500 a500" "4500 10.0.0.2 4500 a4500" \
	"4500 10.0.0.2 33000 a4500n" "40000 10.0.0.2 500 a40000" \
	"0 10.0.0.2 7000 a7000" >"$TMP/a.got" &
PEER_A=$!
check "both peers bound their ports" wait_for "peers" 20 \
	test -e "$TMP/a.ready" -a -e "$TMP/b.ready"
touch "$TMP/go"
rc=0
wait "$PEER_A" || rc=$?
expect_eq "a's peer received 4 datagrams (exit 0)" 0 "$rc" || true
rc=0
wait "$PEER_B" || rc=$?
expect_eq "b's peer received 4 datagrams (exit 0)" 0 "$rc" || true
cap_stop "$TMP/link.pcap"
# ("* " for the ephemeral port of the datagrams to 7000)
A7=$(<"$TMP/a.got")
B7=$(<"$TMP/b.got")
expect_eq "a received: IKE and NAT-T in clear, port 7000 through ESP" \
	"4500 10.0.0.2 33000 b33000
4500 10.0.0.2 4500 b4500
500 10.0.0.2 500 b500
7000 10.0.0.2 * b7000" "$(sed -E 's/^7000 (\S+) [0-9]+ /7000 \1 * /' <<<"$A7")" || true
expect_eq "b received: IKE and NAT-T in clear, port 7000 through ESP" \
	"33000 10.0.0.1 4500 a4500n
4500 10.0.0.1 4500 a4500
500 10.0.0.1 500 a500
7000 10.0.0.1 * a7000" "$(sed -E 's/^7000 (\S+) [0-9]+ /7000 \1 * /' <<<"$B7")" || true

log "the link: IKE ports in clear, everything else ESP"
expect_eq "6 clear UDP datagrams, each from or to port 500 or 4500" "6 6" \
	"$(cap_count "$TMP/link.pcap" 'udp') $(cap_count "$TMP/link.pcap" \
	'udp and ((src 10.0.0.1 and (src port 500 or src port 4500)) or (dst 10.0.0.1 and (dst port 500 or dst port 4500)))')" || true
expect_eq "3 ESP packets: 2 a -> b, 1 b -> a" "2 1" \
	"$(cap_count "$TMP/link.pcap" 'esp and src 10.0.0.1') $(cap_count "$TMP/link.pcap" 'esp and src 10.0.0.2')" || true
expect_eq "nothing else on the link (IPv4)" 0 \
	"$(cap_count "$TMP/link.pcap" 'ip and not udp and not esp')" || true
expect_eq "the datagram of a's port 40000 (not the daemon's) left as ESP" 0 \
	"$(cap_count "$TMP/link.pcap" 'udp and port 40000')" || true
cap_show "$TMP/link.pcap" '' 12

expect_stats "a: SA 0x7001 protected 2 (to 7000, from 40000)" a 0x7001 \
	"bytes=$((2 * 28 + 5 + 6)) packets=2"
expect_stats "a: SA 0x7002 accepted 1 (to 7000)" a 0x7002 \
	"bytes=$((28 + 5)) packets=1"
expect_eq "a: policies' matches: bypass in 500, 4500, out 500, 4500; protect" \
	"in 0 protect 1
in 4500 bypass 2
in 500 bypass 1
out 0 protect 2
out 4500 bypass 2
out 500 bypass 1" "$("$NFSEC" -j policy list | jq_py '"\n".join(sorted(
	"%s %s %s %d" % (p["dir"], p["sport"] or p["dport"], p["action"],
	p["matches"]) for p in d))')" || true
expect_eq "a: no drop" "" "$(ns_stats a)" || true
expect_eq "a: the stateful filter dropped nothing" \
	"in-invalid=0 in-policy=0 fwd-invalid=0 fwd-policy=0" "$(nft_counters a ctf)" || true
rm -rf "$TMP"
t_end
