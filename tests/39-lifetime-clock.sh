#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 39-lifetime-clock.sh: SA lifetimes kept by the clock (RFC 4301 4.4.2.1),
# use-seconds, the last-use time, and hard expiry that deletes the SA.
#
#   +----------------------+       veth       +----------------------+
#   | ns a  veth0 10.0.0.1 |------------------| veth1 10.0.0.2  ns b |
#   +----------------------+                  +----------------------+
#
# aes-gcm-128 transport SAs a -> b, one UDP datagram of 4 bytes (a 32-byte
# IP packet) at a time; `nfsec monitor` on a and on b, each line stamped
# with the second it was read in. Times are the kernel's boot-time seconds
# (/proc/uptime); each event must come in its second (or the next: one
# second of slack for a slow machine).
#  1. idle 0x3001 (soft-seconds 2, hard-seconds 4) without a packet ever:
#     its soft event at add+2, its hard event at add+4, then it is gone
#     from `sa list` (no SA_DEL event: the hard event is the notice);
#  2. 0x3002 (soft-use-seconds 2, hard-use-seconds 16), added with 0x3001,
#     first used after 0x3001's soft event (add+2 or later): its soft event
#     at first+2, a second packet after it that does not move the hard
#     event, at first+16 (use-seconds count from the first packet, neither
#     the add nor the last), then gone; its use_time reads no more than
#     the seconds since each packet, and grows while idle; first_use_time
#     is the second of the first packet;
#  3. 0x3003 (soft-use-seconds 1, hard-use-seconds 2), never used: no
#     event, no use_time, still there at the end;
#  4. reqid 5: a's out policy by reqid, the older out SA 0x3101 without
#     limits and the newer 0x3102 with hard-seconds 6 (the policy sends
#     with it); 0x3102 left idle is deleted at add+6 and the policy turns
#     to 0x3101 without waiting for a packet: the next three datagrams all
#     leave on 0x3101, none dropped (exact counters on both sides);
#  5. b's inbound 0x3201 with hard-packets 2: deleted after the second
#     datagram it accepted; the third finds no SA on b (no_sa).
#  6. both namespaces deleted while their lifetime work is armed an hour
#     ahead (and an update has just kicked it): nothing left behind, no
#     splat (run_all scans the kernel log and unloads the module).
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter lifetime a b			# the rest runs in namespace a

TMP=$(mktemp -d)
link a veth0 10.0.0.1/24 b veth1 10.0.0.2/24

# monitor NS: `nfsec monitor` of NS into $TMP/mon_NS.out, each line
# stamped with the boot-time second it was read in (the monitor flushes
# every event; cleanup ends it with the namespace)
# shellcheck disable=SC2016 # expanded by that bash
monitor() {
	run_bg "$1" bash -c '"$0" monitor | while IFS= read -r l; do
		read -r up _ </proc/uptime; echo "${up%.*} $l"; done' \
		"$NFSEC" >"$TMP/mon_$1.out" 2>&1
}
monitor a
monitor b
check "a: nfsec monitor listens" wait_for "monitor a" 15 monitor_ready a "$TMP/mon_a.out"
check "b: nfsec monitor listens" wait_for "monitor b" 15 monitor_ready b "$TMP/mon_b.out"

GCM="proto esp aead aes-gcm-128"
# udp PORT [N]: N (1) datagrams of 4 bytes from a to b's port PORT
# shellcheck disable=SC2016 # expanded by that bash
udp() {
	on a bash -c 'for ((i = 0; i < $2; i++)); do printf life 2>/dev/null >/dev/udp/10.0.0.2/$1 || true; done' \
		_ "$1" "${2:-1}"
}
uptime_s() {	# the kernel's boot-time seconds
	local up
	read -r up _ </proc/uptime
	echo "${up%.*}"
}
ns_stats_is() {	# ns_stats_is NS WANT: ns_stats NS is WANT
	[ "$(ns_stats "$1")" = "$2" ]
}
since() {	# since T0: whole seconds since EPOCHREALTIME was T0
	local e
	e=$(elapsed "$1")
	echo "${e%%.*}"
}
idle_at_least() {	# idle_at_least NS SPI S: the SA's use_time is S or more
	local u
	u=$(sa_field "$1" "$2" use_time)
	[[ $u =~ ^[0-9]+$ ]] && ((u >= $3))
}
gone() {	# gone NS SPI: NS has no SA SPI
	stat_is "$1" "$2" "<no SA $2>"
}
# event NS SPI REASON: the second the monitor of NS read that expire event
# in; false while it has not
event() {
	local spi
	printf -v spi '0x%08x' "$2"
	grep -m1 "^[0-9]* sa expire .*spi $spi .* reason $3\$" "$TMP/mon_$1.out" |
		grep -o '^[0-9]*'
}
# events NS SPI: the monitor's events for SPI, one word each in order
# ("add", "soft", "hard", "del", ...)
events() {
	local spi
	printf -v spi '0x%08x' "$2"
	grep "spi $spi " "$TMP/mon_$1.out" |
		sed -E 's/^[0-9]+ sa expire .* reason ([a-z]+)$/\1/; s/^[0-9]+ sa ([a-z]+) .*/\1/' |
		tr '\n' ' '
}
# at_second DESC NS SPI REASON FROM: wait for that event and assert it came
# in second FROM or the next (its second, and one of slack).
at_second() {
	local s
	wait_for "$1" $(($5 - $(uptime_s) + 5)) event "$2" "$3" "$4" || true
	s=$(event "$2" "$3" "$4") || s=-1
	expect_eq "$1: in second add+$(($5 - t0)) or the next (came in add+$((s - t0)))" \
		yes "$( ((s >= $5 && s <= $5 + 1)) && echo yes)" || true
}

log "1-3: 0x3001 idle (seconds 2/4), 0x3002 (use-seconds 2/16), 0x3003 never used (use-seconds 1/2)"
check "b: in SAs and policies" nf b -b - <<EOF
sa add dir in src 10.0.0.1 dst 10.0.0.2 spi 0x3002 mode transport $GCM key $KEY2
policy add dir in src 10.0.0.1 dst 10.0.0.2 proto udp dport 5002 protect spi 0x3002
EOF
check "a: out SAs 0x3001-0x3003, the policy of 0x3002" nf a -b - <<EOF
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x3001 mode transport $GCM key $KEY1 soft-seconds 2 hard-seconds 4
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x3002 mode transport $GCM key $KEY2 soft-use-seconds 2 hard-use-seconds 16
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x3003 mode transport $GCM key $KEY3 soft-use-seconds 1 hard-use-seconds 2
policy add dir out src 10.0.0.1 dst 10.0.0.2 proto udp dport 5002 protect spi 0x3002
EOF
t0=$(sa_field a 0x3001 add_time)
expect_eq "a: 0x3002 not used yet: no use_time, no first_use_time" "[null, null]" \
	"$(sa_eval a 0x3002 's.get("use_time"), s.get("first_use_time")')" || true
expect_eq "a: sa get says used never" yes "$(nf a sa get dst 10.0.0.2 spi 0x3002 proto esp |
	grep -q '^  used: *never$' && echo yes)" || true

# (what follows reads the monitor's stamps, not the clock when it looks:
# a slow machine may look late, never early)
at_second "a: 0x3001 soft event" a 0x3001 soft $((t0 + 2))
p0=$EPOCHREALTIME
udp 5002
t1=$(sa_field a 0x3002 first_use_time)
used=$(sa_field a 0x3002 use_time)
el=$(since "$p0")
expect_eq "a: 0x3002's first packet" "bytes=32 packets=1" "$(sa_stats a 0x3002)" || true
expect_eq "a: first_use_time (add+$((t1 - t0))) is after 0x3001's soft event, not later than now" \
	yes "$( ((t1 >= t0 + 2 && t1 <= $(uptime_s))) && echo yes)" || true
expect_eq "a: use_time right after the packet: $used, read $el s after it" yes \
	"$( ((used <= el)) && echo yes)" || true

at_second "a: 0x3001 hard event" a 0x3001 hard $((t0 + 4))
check "a: 0x3001 deleted at its hard time" wait_for "0x3001 gone" 5 gone a 0x3001
expect_eq "a: 0x3001's events: add, soft, hard (no del)" "add soft hard " \
	"$(events a 0x3001)" || true

at_second "a: 0x3002 soft event: first use + 2" a 0x3002 soft $((t1 + 2))
check "a: 0x3002 use_time grows while idle: 2 s" wait_for "use_time 2" 5 \
	idle_at_least a 0x3002 2
el=$(since "$p0")
expect_eq "a: ... and no sooner than 2 s after the packet ($el s)" yes \
	"$( ((el >= 2)) && echo yes)" || true
p0=$EPOCHREALTIME
udp 5002
used=$(sa_field a 0x3002 use_time)
el=$(since "$p0")
expect_eq "a: use_time after a second packet: $used, read $el s after it" yes \
	"$( ((used <= el)) && echo yes)" || true
expect_eq "a: first_use_time did not move" "$t1" \
	"$(sa_field a 0x3002 first_use_time)" || true
expect_stats "b: 0x3002 accepted both" b 0x3002 "bytes=64 packets=2"
at_second "a: 0x3002 hard event: first use + 16, not add + 16 nor last use + 16" \
	a 0x3002 hard $((t1 + 16))
check "a: 0x3002 deleted" wait_for "0x3002 gone" 5 gone a 0x3002
expect_eq "a: 0x3002's events" "add soft hard " "$(events a 0x3002)" || true
udp 5002
expect_eq "a: a datagram after it: no SA" "no_sa_out=1" "$(ns_stats a)" || true

expect_eq "a: 0x3003, never used, still there at add+$(($(uptime_s) - t0))" "" \
	"$(sa_stats a 0x3003)" || true
expect_eq "a: 0x3003: no event but its add" "add " "$(events a 0x3003)" || true
expect_eq "a: 0x3003: no use_time" null "$(sa_eval a 0x3003 's.get("use_time")')" || true

log "4. reqid 5: the newer out SA expires idle, the policy turns to the older one"
check "b: in SAs 0x3101, 0x3102 reqid 5, in policy by reqid" nf b -b - <<EOF
sa add dir in src 10.0.0.1 dst 10.0.0.2 spi 0x3101 mode transport $GCM key $KEY1 reqid 5
sa add dir in src 10.0.0.1 dst 10.0.0.2 spi 0x3102 mode transport $GCM key $KEY2 reqid 5
policy add dir in src 10.0.0.1 dst 10.0.0.2 proto udp dport 5100 protect reqid 5
EOF
check "a: out SAs 0x3101, then 0x3102 (hard-seconds 6), reqid 5; out policy by reqid" nf a -b - <<EOF
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x3101 mode transport $GCM key $KEY1 reqid 5
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x3102 mode transport $GCM key $KEY2 reqid 5 hard-seconds 6
policy add dir out src 10.0.0.1 dst 10.0.0.2 proto udp dport 5100 protect reqid 5
EOF
t0=$(sa_field a 0x3102 add_time)
udp 5100 2
expect_stats "b: two datagrams on the newest, 0x3102" b 0x3102 "bytes=64 packets=2"
at_second "a: 0x3102 hard event, idle" a 0x3102 hard $((t0 + 6))
check "a: 0x3102 deleted" wait_for "0x3102 gone" 5 gone a 0x3102
udp 5100 3
expect_eq "a: the next three all on 0x3101" "bytes=96 packets=3" \
	"$(sa_stats a 0x3101)" || true
expect_stats "b: 0x3101 accepted them" b 0x3101 "bytes=96 packets=3"
expect_stats "b: 0x3102 nothing more" b 0x3102 "bytes=64 packets=2"
expect_eq "a: nothing dropped (no_sa_out still 1, from 3)" "no_sa_out=1" \
	"$(ns_stats a)" || true

log "5. b's inbound 0x3201, hard-packets 2: deleted after two"
check "b: in SA 0x3201 hard-packets 2 and its policy" nf b -b - <<EOF
sa add dir in src 10.0.0.1 dst 10.0.0.2 spi 0x3201 mode transport $GCM key $KEY3 hard-packets 2
policy add dir in src 10.0.0.1 dst 10.0.0.2 proto udp dport 5200 protect spi 0x3201
EOF
check "a: out SA 0x3201 and its policy" nf a -b - <<EOF
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x3201 mode transport $GCM key $KEY3
policy add dir out src 10.0.0.1 dst 10.0.0.2 proto udp dport 5200 protect spi 0x3201
EOF
udp 5200 2
check "b: 0x3201 deleted after two" wait_for "b's 0x3201 gone" 5 gone b 0x3201
check "b: its hard event" wait_for "b's hard event" 5 event b 0x3201 hard
expect_eq "b: 0x3201's events: add, hard" "add hard " "$(events b 0x3201)" || true
udp 5200
expect_eq "a: 0x3201 sent all three" "bytes=96 packets=3" "$(sa_stats a 0x3201)" || true
check "b: the third: no SA" wait_for "b no_sa" 5 ns_stats_is b no_sa=1
expect_eq "b: namespace drops" "no_sa=1" "$(ns_stats b)" || true

log "6. namespaces deleted with the lifetime work armed (an hour ahead) and kicked"
check "a, b: SAs with hard-seconds 3600, use-seconds, and a kick" nf a -b - <<EOF
sa add dir out src 10.0.0.1 dst 10.0.0.9 spi 0x3301 mode transport $GCM key $KEY1 soft-seconds 1800 hard-seconds 3600
sa add dir out src 10.0.0.1 dst 10.0.0.9 spi 0x3302 mode transport $GCM key $KEY1 hard-use-seconds 60
sa update dir out src 10.0.0.1 dst 10.0.0.9 spi 0x3301 mode transport $GCM key $KEY1 hard-seconds 3000
EOF
check "b: the same" nf b sa add dir in src 10.0.0.1 dst 10.0.0.2 spi 0x3301 \
	mode transport proto esp aead aes-gcm-128 key "$KEY1" hard-seconds 3600
expect_eq "a: the update took the new limit" 3000 \
	"$(sa_field a 0x3301 lifetime.hard_seconds)" || true
# (cleanup deletes both namespaces now; run_all checks the kernel log and
# that the module unloads)

rm -rf "$TMP"
t_end
