#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 27-hardening.sh: the data-path defects of a security review, each shown
# on the wire with exact counters.
#
#   +----------------+        +---------------------+        +----------------+
#   | ns x           |  veth  | ns a (forwards)     |  veth  | ns b           |
#   | xv 10.1.0.2/24 |--------| ax 10.1.0.1/24      |        |                |
#   +----------------+        | veth0 10.0.0.1/24   |--------| veth1 10.0.0.2 |
#                             +---------------------+        |   and 10.0.0.3 |
#                                                            +----------------+
#   transport aes-gcm-128 a <-> b (0x1001 a -> b, 0x1002 b -> a); b's in
#   policy admits sources 10.0.0.0/24; tunnel 0x2001 a -> b carries x's
#   UDP to 10.0.0.3 port 5000. No conntrack on a: fragments pass as such.
#
# Covers:
#  - sa update may not change an SA's direction or mode (it once left a
#    policy pointing at the freed SA): refused, and the SA keeps working;
#  - sa update keeps the replay window and the sequence number: captured
#    packets replayed after an update are all dropped as replays, and the
#    updated outbound SA goes on from the next number;
#  - transport mode protects only traffic to the SA's peer: a wider policy
#    is refused, and a policy that a transport SA re-added under a tunnel
#    SA's name no longer fits stays unbound (fail closed, no recursion);
#  - transport inbound: ESP re-sent from another source inside the in
#    policy's prefix is dropped (policy), never delivered;
#  - a datagram that would pass 64 KiB with ESP added is dropped (too_big),
#    never sent with a wrapped total length;
#  - fragments after the first of a datagram a port-selective protect
#    policy covers are protected too, never forwarded in clear;
#  - forwarded ESP that carries one of a's own SPIs is subject to a's
#    discard policy like any other forwarded packet;
#  - ESP queued to userspace (NFQUEUE) and re-injected by its verdict, in
#    process context, is decapsulated and delivered (GRO with BH off).
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter hardening a x b		# the rest runs in namespace a

TMP=$(mktemp -d)
link x xv 10.1.0.2/24 a ax 10.1.0.1/24
link a veth0 10.0.0.1/24 b veth1 10.0.0.2/24
ipb b <<EOF
addr add 10.0.0.3/24 dev veth1
route add 10.1.0.0/24 via 10.0.0.1
EOF
ipb x <<EOF
route add default via 10.1.0.1
EOF
on a sysctl -qw net.ipv4.ip_forward=1

# esp ARGS...: esp_tool.py on a's veth0 with the capture of a's ESP.
esp() {
	on a /usr/bin/python3 "$TESTS_DIR/esp_tool.py" veth0 "$TMP/a.pcap" "$@"
}

# b_in_is DESC WANT: b's in SA 0x1001 counters become WANT.
b_in_is() {
	expect_stats "$1" b 0x1001 "$2" || true
}

check "a: transport SAs and policies" \
	esp_pair a transport 0x1001 0x1002 "$KEY1" "$KEY2" 10.0.0.1 10.0.0.2
check "b: transport SAs, in policy for sources 10.0.0.0/24" nf b -b - <<EOF
sa add dir in src 10.0.0.1 dst 10.0.0.2 spi 0x1001 proto esp mode transport aead aes-gcm-128 key $KEY1 replay-window 32
sa add dir out src 10.0.0.2 dst 10.0.0.1 spi 0x1002 proto esp mode transport aead aes-gcm-128 key $KEY2
policy add dir out src 10.0.0.2 dst 10.0.0.1 protect spi 0x1002
policy add dir in src 10.0.0.0/24 dst 10.0.0.2 protect spi 0x1001
EOF

esp_capture "$TMP/a.pcap"
expect_eq "capture: a's ESP frames carry seq 1-5" "1 2 3 4 5" "$(esp seqs)"
b_in_is "b: seq 1-3 accepted" "bytes=252 packets=3"

log "sa update may not change the direction or the mode"
expect_fail "a: update of out SA 0x1001 to dir in: refused" \
	"sa update cannot change the direction" \
	nf a sa update dir in src 10.0.0.1 dst 10.0.0.2 spi 0x1001 proto esp \
	mode transport aead aes-gcm-128 key "$KEY1"
expect_fail "a: update of out SA 0x1001 to tunnel mode: refused" \
	"sa update cannot change the mode" \
	nf a sa update dir out src 10.0.0.1 dst 10.0.0.2 spi 0x1001 proto esp \
	mode tunnel aead aes-gcm-128 key "$KEY1"
expect_eq "a: SA 0x1001 is still out, transport" "out transport" \
	"$(sa_eval a 0x1001 's["dir"] + " " + s["mode"]')"

log "sa update keeps the replay window: the capture replayed is refused"
check "b: update in SA 0x1001 (a soft packet limit)" nf b sa update dir in \
	src 10.0.0.1 dst 10.0.0.2 spi 0x1001 proto esp mode transport \
	aead aes-gcm-128 key "$KEY1" soft-packets 1000
b_in_is "b: the update kept the counters" "bytes=252 packets=3"
check "send seq 1, 2, 3 again" esp send:0,1,2
b_in_is "b: replay 3, nothing accepted" "bytes=252 packets=3 replay=3"
expect_eq "b: window top still 3" 3 "$(sa_field b 0x1001 seq)"

log "transport inbound: the outer source must be the SA's peer"
check "send seq 4 from 10.0.0.5 (inside b's in policy)" esp src:3:10.0.0.5
b_in_is "b: policy 1, not delivered" "bytes=252 packets=3 policy=1 replay=3"
check "send seq 4 from 10.0.0.1, as it was made" esp send:3
b_in_is "b: seq 4 accepted: the forged copy did not touch the window" \
	"bytes=336 packets=4 policy=1 replay=3"

log "sa update keeps the sequence number of an outbound SA"
check "a: update out SA 0x1001 (a soft packet limit)" nf a sa update dir out \
	src 10.0.0.1 dst 10.0.0.2 spi 0x1001 proto esp mode transport \
	aead aes-gcm-128 key "$KEY1" soft-packets 1000
expect_eq "a: SA 0x1001 seq still 5" 5 "$(sa_field a 0x1001 seq)"
check "ping a -> b, 2 of 2 (seq 6-7)" on a ping -c 2 -i 0.2 -W 2 10.0.0.2
expect_eq "a: SA 0x1001 seq 7" 7 "$(sa_field a 0x1001 seq)"
b_in_is "b: seq 6-7 accepted, no replay" "bytes=504 packets=6 policy=1 replay=3"
expect_fail "a: update with seq: refused" "sa update keeps the sequence number" \
	nf a sa update dir out src 10.0.0.1 dst 10.0.0.2 spi 0x1001 proto esp \
	mode transport aead aes-gcm-128 key "$KEY1" seq 100
expect_fail "b: update with another replay window: refused" \
	"sa update cannot change the replay window" \
	nf b sa update dir in src 10.0.0.1 dst 10.0.0.2 spi 0x1001 proto esp \
	mode transport aead aes-gcm-128 key "$KEY1" replay-window 64

log "a datagram that ESP would take past 64 KiB"
check "a: 65507 bytes of UDP to b (65535 with headers)" on a /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 0)	# IP_MTU_DISCOVER: IP_PMTUDISC_DONT
s.sendto(b"x" * 65507, ("10.0.0.2", 9))'
wait_for "a's SA 0x1001 too_big" 5 eval '[[ "$(sa_stats a 0x1001)" == *too_big=1* ]]' || true
expect_eq "a: SA 0x1001 too_big 1, the sequence number not spent" \
	"bytes=588 packets=7 too_big=1 7" \
	"$(sa_stats a 0x1001) $(sa_field a 0x1001 seq)"

log "transport mode protects only traffic to its peer"
expect_fail "a: out policy for 10.0.0.0/24 with transport SA 0x1001: refused" \
	"a transport mode SA protects only traffic to its peer \(its dst\)" \
	nf a policy add dir out src 10.0.0.1 dst 10.0.0.0/24 priority 10 \
	protect spi 0x1001 dst 10.0.0.2
check "a: tunnel SA 0x3001 and an out policy for icmp to 10.0.0.0/24" \
	nf a -b - <<EOF
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x3001 proto esp mode tunnel aead aes-gcm-128 key $KEY3
policy add dir out src 10.0.0.1 dst 10.0.0.0/24 proto icmp priority 10 protect spi 0x3001 dst 10.0.0.2
EOF
check "a: SA 0x3001 deleted, re-added in transport mode" nf a -b - <<EOF
sa del dst 10.0.0.2 spi 0x3001 proto esp
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x3001 proto esp mode transport aead aes-gcm-128 key $KEY3
EOF
cap_start a veth0 "$TMP/loop.pcap" host 10.0.0.3
expect_fail "ping a -> 10.0.0.3: dropped" "0 received" \
	on a ping -c 3 -i 0.2 -W 1 10.0.0.3
cap_stop "$TMP/loop.pcap"
cap_expect "capture: nothing to 10.0.0.3 left a" "$TMP/loop.pcap" 0 \
	"$(cap_count "$TMP/loop.pcap" 'ip')"
expect_eq "a: no_sa_out 3 (the policy stays unbound)" "no_sa_out=3" "$(ns_stats a)"
expect_eq "a: SA 0x3001 untouched" "" "$(sa_stats a 0x3001)"

log "fragments of a port-selective flow: all protected (no nf_defrag on a)"
check "a: tunnel SA 0x2001 for x's UDP to 10.0.0.3 port 5000" nf a -b - <<EOF
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x2001 proto esp mode tunnel aead aes-gcm-128 key $KEY4
policy add dir out src 10.1.0.0/24 dst 10.0.0.3 proto udp dport 5000 priority 5 protect spi 0x2001 dst 10.0.0.2
EOF
check "b: its in SA and policy" nf b -b - <<EOF
sa add dir in src 10.0.0.1 dst 10.0.0.2 spi 0x2001 proto esp mode tunnel aead aes-gcm-128 key $KEY4
policy add dir in src 10.1.0.0/24 dst 10.0.0.3 proto udp dport 5000 protect spi 0x2001 dst 10.0.0.2
EOF
rm -f "$TMP/udp.recv"
run_bg b timeout 20 socat -u \
	UDP4-RECV:5000,bind=10.0.0.3 OPEN:"$TMP/udp.recv",creat 2>"$TMP/udp.log"
recv_pid=$BG_PID
cap_start a veth0 "$TMP/frag.pcap" host 10.0.0.2 or host 10.0.0.3
sleep 0.5	# (socat's socket; it prints nothing when bound)
check "x: 3000 bytes of UDP to 10.0.0.3:5000, DF clear (3 fragments)" \
	on x /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 0)	# IP_MTU_DISCOVER: IP_PMTUDISC_DONT
s.sendto(bytes(range(250)) * 12, ("10.0.0.3", 5000))'
wait_for "b: 3000 bytes received" 10 eval '[ "$(stat -c %s "$TMP/udp.recv" 2>/dev/null)" = 3000 ]' || true
kill "$recv_pid" 2>/dev/null || true
wait "$recv_pid" 2>/dev/null || true
cap_stop "$TMP/frag.pcap"
expect_eq "b: the datagram arrived whole" 3000 "$(stat -c %s "$TMP/udp.recv" 2>&1)"
cap_expect "capture: no UDP (no fragment) in clear" "$TMP/frag.pcap" 0 \
	"$(cap_count "$TMP/frag.pcap" 'ip proto 17')"
expect_eq "a: SA 0x2001 protected the 3 fragments" "bytes=3068 packets=3" \
	"$(sa_stats a 0x2001)"
expect_eq "b: SA 0x2001 accepted 3" "bytes=3068 packets=3" "$(sa_stats b 0x2001)"

log "forwarded ESP with one of a's SPIs is forwarded traffic like any other"
check "a: discard what x sends to b's 10.0.0.2" nf a policy add dir out \
	src 10.1.0.0/24 dst 10.0.0.2 priority 1 discard
cap_start a veth0 "$TMP/fwd.pcap" src 10.1.0.2
check "x: 4 raw ESP packets with SPI 0x1001 to 10.0.0.2" on x /usr/bin/python3 -c '
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
for seq in range(100, 104):
    s.sendto(struct.pack("!II", 0x1001, seq) + bytes(40), ("10.0.0.2", 0))'
cap_stop "$TMP/fwd.pcap"
cap_expect "capture: none of x's ESP passed a" "$TMP/fwd.pcap" 0 \
	"$(cap_count "$TMP/fwd.pcap" 'ip')"
expect_eq "a: discard 4 (and the earlier no_sa_out 3)" "discard=4 no_sa_out=3" \
	"$(ns_stats a)"
expect_eq "b: SA 0x1001 saw none of them" "bytes=504 packets=6 policy=1 replay=3" \
	"$(sa_stats b 0x1001)"

log "ESP that an NFQUEUE verdict re-injects (process context) is decapsulated"
check "a: the unbound icmp policy removed" nf a policy del dir out \
	src 10.0.0.1 dst 10.0.0.0/24 proto icmp priority 10
if ! on b nft -f - <<EOF
table ip nfq {
	chain input {
		type filter hook input priority filter; policy accept;
		ip protocol esp queue num 3
	}
}
EOF
then
	skip "ESP through an NFQUEUE verdict" "this kernel has no NFQUEUE"
else
	ok "b: nftables queues ESP on input to queue 3"
	run_bg b /usr/bin/python3 "$TESTS_DIR/nfq_accept.py" 3 3 20 >"$TMP/nfq.out" 2>&1
	nfq=$BG_PID
	check "b: the verdict program is bound" wait_for "nfq_accept.py" 10 \
		file_has "$TMP/nfq.out" bound
	check "ping a -> b through b's queue, 3 of 3" on a ping -c 3 -i 0.2 -W 3 10.0.0.2
	wait "$nfq" || true
	expect_eq "b: 3 verdicts given" "accepted 3" "$(tail -n 1 "$TMP/nfq.out")"
	b_in_is "b: the 3 decapsulated after their verdicts" \
		"bytes=756 packets=9 policy=1 replay=3"
	check "b: nftables queue removed" on b nft delete table ip nfq
fi

rm -rf "$TMP"
t_end
