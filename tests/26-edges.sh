#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 26-edges.sh: data-path rules that ordinary traffic never reaches.
#
#   +----------------------+                  +----------------------+
#   | ns a                 |       veth       | ns b                 |
#   | veth0 10.0.0.1       |------------------| veth1 10.0.0.2       |
#   |       10.0.0.3       |   (captured on   | lo 192.168.2.1, .2,  |
#   | lo 192.168.1.1       |    b's veth1)    |    .3                |
#   +----------------------+                  +----------------------+
#
# First a has no nfsec state and sends ESP made from scratch
# (tests/esp_craft.py) to b's inbound SAs, null encryption and
# hmac-sha256-128, each packet a valid ICV over a payload no honest sender
# would protect:
#  - transport SA 0x2001 (b's in policy: udp to port 4001 only): one
#    datagram the policy allows is accepted; to port 4002 (no policy), to
#    port 4003 (another SA's policy) and from 10.0.0.3 (not the SA's peer)
#    are counted `policy`; next header 59 is counted `dummy`; pad bytes 1,
#    3 and a pad length beyond the payload are `bad_trailer`;
#  - tunnel SA 0x2002 (in policy 192.168.1.0/24 -> 192.168.2.0/24): inner
#    packets from 192.168.9.5 and to 192.168.3.1 are `policy`, next header
#    17 instead of 4 is `bad_trailer`;
#  - transport SA 0x2003 with replay-window 0: the same sequence number
#    three times and an older one are all accepted, only 0 is refused
#    (`replay`).
# Then aes-gcm-128 SAs from a to b with lifetimes: soft and hard limits by
# packets, by bytes and by time, with exact counts of what passed, the SA
# deleted at its hard limit (what its policy matches after is `no_sa_out`),
# and the expire events `nfsec monitor` prints (one per SA and kind); and
# three tunnel SAs with df copy, clear and set, the outer DF
# bit of their ESP packets read off the capture, for inner packets with
# and without DF.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter edges a b			# the rest runs in namespace a

TMP=$(mktemp -d)
link a veth0 10.0.0.1/24 b veth1 10.0.0.2/24
ipb a <<EOF
addr add 10.0.0.3/24 dev veth0
addr add 192.168.1.1/32 dev lo
route add 192.168.2.0/24 via 10.0.0.2 src 192.168.1.1
EOF
ipb b <<EOF
addr add 192.168.2.1/32 dev lo
addr add 192.168.2.2/32 dev lo
addr add 192.168.2.3/32 dev lo
EOF

# b_sa_is SPI WANT DESC: b's SA SPI counters become WANT (crypto may finish
# after the sender returned).
b_sa_is() {
	expect_stats "$3" b "$1" "$2" || true
}

KN=$(printf '%064x' 0x5eed)	# hmac-sha256-128 key, null encryption
NULL_SA="proto esp enc null auth hmac-sha256-128 key $KN"
check "b: null-encryption in SAs 0x2001-0x2003 and their policies" nf b -b - <<EOF
sa add dir in src 10.0.0.1 dst 10.0.0.2 spi 0x2001 mode transport $NULL_SA
sa add dir in src 10.0.0.1 dst 10.0.0.2 spi 0x2002 mode tunnel $NULL_SA
sa add dir in src 10.0.0.1 dst 10.0.0.2 spi 0x2003 mode transport $NULL_SA replay-window 0
policy add dir in src 10.0.0.1 dst 10.0.0.2 proto udp dport 4001 protect spi 0x2001
policy add dir in src 10.0.0.1 dst 10.0.0.2 proto udp dport 4003 protect spi 0x2003
policy add dir in src 192.168.1.0/24 dst 192.168.2.0/24 protect spi 0x2002 dst 10.0.0.2
EOF

# SRC:DST:SPI:SEQ:MODE:ISRC:IDST:DPORT[:VARIANT], see esp_craft.py
T=10.0.0.1:10.0.0.2
check "a: crafted ESP to b's SAs 0x2001, 0x2002, 0x2003" \
	on a /usr/bin/python3 "$TESTS_DIR/esp_craft.py" "$KN" \
	$T:0x2001:1:transport:-:-:4001 \
	$T:0x2001:2:transport:-:-:4002 \
	$T:0x2001:3:transport:-:-:4003 \
	10.0.0.3:10.0.0.2:0x2001:4:transport:-:-:4001 \
	$T:0x2001:5:transport:-:-:4001:dummy \
	$T:0x2001:6:transport:-:-:4001:pad \
	$T:0x2001:7:transport:-:-:4001:padlen \
	$T:0x2002:1:tunnel:192.168.1.5:192.168.2.1:4000 \
	$T:0x2002:2:tunnel:192.168.9.5:192.168.2.1:4000 \
	$T:0x2002:3:tunnel:192.168.1.5:192.168.3.1:4000 \
	$T:0x2002:4:tunnel:192.168.1.5:192.168.2.1:4000:nh17 \
	$T:0x2003:5:transport:-:-:4003 \
	$T:0x2003:5:transport:-:-:4003 \
	$T:0x2003:5:transport:-:-:4003 \
	$T:0x2003:1:transport:-:-:4003 \
	$T:0x2003:0:transport:-:-:4003
# (bytes: the decapsulated 32-byte UDP packets that passed)
b_sa_is 0x2001 "bad_trailer=2 bytes=32 dummy=1 packets=1 policy=3" \
	"b: transport 0x2001: 1 accepted, 3 outside its policy, 1 dummy, 2 bad trailers"
b_sa_is 0x2002 "bad_trailer=1 bytes=32 packets=1 policy=2" \
	"b: tunnel 0x2002: 1 accepted, inner src and inner dst outside the policy, 1 bad next header"
b_sa_is 0x2003 "bytes=128 packets=4 replay=1" \
	"b: replay-window 0: seq 5 three times and seq 1 accepted, seq 0 refused"
expect_eq "b: no namespace drops" "" "$(ns_stats b)" || true

log "lifetimes and DF: aes-gcm-128 SAs a -> b"
run_bg a "$NFSEC" monitor >"$TMP/mon.out" 2>&1
mon_pid=$BG_PID
check "nfsec monitor listens" wait_for "monitor" 15 monitor_ready a "$TMP/mon.out"
GCM="proto esp aead aes-gcm-128"
check "a: out SAs 0x5001 (packets 2/3), 0x5002 (bytes 70/100), 0x6001-0x6003 (df copy, clear, set)" \
	nf a -b - <<EOF
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x5001 mode transport $GCM key $KEY1 soft-packets 2 hard-packets 3
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x5002 mode transport $GCM key $KEY2 soft-bytes 70 hard-bytes 100
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x6001 mode tunnel $GCM key $KEY4 df copy
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x6002 mode tunnel $GCM key $KEY4 df clear
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x6003 mode tunnel $GCM key $KEY4 df set
policy add dir out src 10.0.0.1 dst 10.0.0.2 proto udp dport 5001 protect spi 0x5001
policy add dir out src 10.0.0.1 dst 10.0.0.2 proto udp dport 5002 protect spi 0x5002
policy add dir out src 192.168.1.1 dst 192.168.2.1 protect spi 0x6001 dst 10.0.0.2
policy add dir out src 192.168.1.1 dst 192.168.2.2 protect spi 0x6002 dst 10.0.0.2
policy add dir out src 192.168.1.1 dst 192.168.2.3 protect spi 0x6003 dst 10.0.0.2
EOF
check "b: the matching in SAs (0x5003 too) and policies" nf b -b - <<EOF
policy flush
sa flush
sa add dir in src 10.0.0.1 dst 10.0.0.2 spi 0x5001 mode transport $GCM key $KEY1
sa add dir in src 10.0.0.1 dst 10.0.0.2 spi 0x5002 mode transport $GCM key $KEY2
sa add dir in src 10.0.0.1 dst 10.0.0.2 spi 0x5003 mode transport $GCM key $KEY3
sa add dir in src 10.0.0.1 dst 10.0.0.2 spi 0x6001 mode tunnel $GCM key $KEY4
sa add dir in src 10.0.0.1 dst 10.0.0.2 spi 0x6002 mode tunnel $GCM key $KEY4
sa add dir in src 10.0.0.1 dst 10.0.0.2 spi 0x6003 mode tunnel $GCM key $KEY4
policy add dir in src 10.0.0.1 dst 10.0.0.2 proto udp dport 5001 protect spi 0x5001
policy add dir in src 10.0.0.1 dst 10.0.0.2 proto udp dport 5002 protect spi 0x5002
policy add dir in src 10.0.0.1 dst 10.0.0.2 proto udp dport 5003 protect spi 0x5003
policy add dir in src 192.168.1.1 dst 192.168.2.1 protect spi 0x6001 dst 10.0.0.2
policy add dir in src 192.168.1.1 dst 192.168.2.2 protect spi 0x6002 dst 10.0.0.2
policy add dir in src 192.168.1.1 dst 192.168.2.3 protect spi 0x6003 dst 10.0.0.2
EOF

# udp_from_a DPORT ADDR...: one 4-byte datagram (a 32-byte IP packet) to
# each ADDR, from a; bash's /dev/udp, one socket each.
# shellcheck disable=SC2016 # expanded by that bash
udp_from_a() {
	on a bash -c 'p=$1; shift; for d; do printf edge 2>/dev/null >/dev/udp/$d/$p || true; done' \
		_ "$@"
}

# gone NS SPI: NS has no SA SPI (for wait_for)
gone() {
	stat_is "$1" "$2" "<no SA $2>"
}
log "packets: soft 2, hard 3 (the packet that reaches the hard limit is the last)"
udp_from_a 5001 10.0.0.2 10.0.0.2 10.0.0.2
b_sa_is 0x5001 "bytes=96 packets=3" "b: 0x5001: the 3"
check "a: 0x5001 deleted at its hard limit" wait_for "0x5001 gone" 5 gone a 0x5001
udp_from_a 5001 10.0.0.2 10.0.0.2
expect_eq "a: the 2 after it: no SA, counted no_sa_out" "no_sa_out=2" \
	"$(ns_stats a)" || true
log "bytes: soft 70, hard 100: 32, 64, 96 (soft), 128 (started below 100), then none"
udp_from_a 5002 10.0.0.2 10.0.0.2 10.0.0.2 10.0.0.2
b_sa_is 0x5002 "bytes=128 packets=4" "b: 0x5002: the 4"
check "a: 0x5002 deleted at its hard limit" wait_for "0x5002 gone" 5 gone a 0x5002
udp_from_a 5002 10.0.0.2
expect_eq "a: the one after it: no_sa_out 3" "no_sa_out=3" "$(ns_stats a)" || true

log "DF: one datagram with DF (the default, path MTU discovery) and one without, per SA"
cap_start b veth1 "$TMP/df.pcap" ip proto 50 and src 10.0.0.1
udp_from_a 4000 192.168.2.1 192.168.2.2 192.168.2.3
on a sysctl -qw net.ipv4.ip_no_pmtu_disc=1
udp_from_a 4000 192.168.2.1 192.168.2.2 192.168.2.3
on a sysctl -qw net.ipv4.ip_no_pmtu_disc=0
for spi in 0x6001 0x6002 0x6003; do
	b_sa_is $spi "bytes=64 packets=2" "b: $spi: both datagrams"
done
cap_stop "$TMP/df.pcap"
cap_show "$TMP/df.pcap"
df=
for spi in 0x6001 0x6002 0x6003; do
	df+="$spi $(cap_count "$TMP/df.pcap" "ip[20:4] = $spi")"
	df+=" $(cap_count "$TMP/df.pcap" "ip[20:4] = $spi and ip[6] & 0x40 != 0"); "
done
expect_eq "capture: ESP packets and those with DF: copy 2 1, clear 2 0, set 2 2" \
	"0x6001 2 1; 0x6002 2 0; 0x6003 2 2; " "$df" || true

# (the 6 s between the limits leave a slow machine room to send at 2 s)
log "time: soft 2 s, hard 8 s (one datagram at 2 s; the hard limit by the clock)"
check "a: out SA 0x5003 (seconds 2/8) and its policy" nf a -b - <<EOF
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x5003 mode transport $GCM key $KEY3 soft-seconds 2 hard-seconds 8
policy add dir out src 10.0.0.1 dst 10.0.0.2 proto udp dport 5003 protect spi 0x5003
EOF
t0=$(sa_field a 0x5003 add_time)
# age_at_least S: the SA is S seconds old (the kernel's boot-time seconds,
# as in /proc/uptime)
age_at_least() {
	local up
	read -r up _ </proc/uptime
	((${up%.*} - t0 >= $1))
}
check "2 s old" wait_for "SA 0x5003 2 s old" 10 age_at_least 2
udp_from_a 5003 10.0.0.2
expect_eq "a: 0x5003: sent at 2 s" "bytes=32 packets=1" \
	"$(sa_stats a 0x5003)" || true
check "a: 0x5003 deleted by the clock at 8 s" wait_for "0x5003 gone" 15 gone a 0x5003
expect_eq "a: not before 8 s" yes "$(age_at_least 8 && echo yes)" || true
udp_from_a 5003 10.0.0.2
expect_eq "a: the one after it: no_sa_out 4" "no_sa_out=4" "$(ns_stats a)" || true
b_sa_is 0x5003 "bytes=32 packets=1" "b: 0x5003: the one sent at 2 s"

ev() {	# ev SPI REASON: the monitor's line for that expire event
	printf 'sa expire out esp spi 0x%08x (%d) 10.0.0.1 -> 10.0.0.2 reason %s' "$1" "$1" "$2"
}
check "monitor: the last expire event" wait_for "expire event" 10 \
	file_has "$TMP/mon.out" "$(ev 0x5003 hard)"
kill "$mon_pid" 2>/dev/null
wait "$mon_pid" 2>/dev/null || true
mapfile -t lines <"$TMP/mon.out"
got=
for l in "${lines[@]}"; do
	[[ $l == "sa expire "* ]] && got+="$l"$'\n'
done
want=
for spi in 0x5001 0x5002 0x5003; do
	want+="$(ev $spi soft)"$'\n'"$(ev $spi hard)"$'\n'
done
expect_eq "monitor: soft then hard, once each, for 0x5001, 0x5002, 0x5003" "$want" "$got" || true
expect_eq "a: no other namespace drops" "no_sa_out=4" "$(ns_stats a)" || true
expect_eq "b: no namespace drops" "" "$(ns_stats b)" || true

rm -rf "$TMP"
t_end
