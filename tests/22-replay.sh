#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 22-replay.sh: what the receiver does with ESP it must not accept, what the
# sender does when an SA goes away or runs out of sequence numbers.
#
#   +------------------+                  +------------------+
#   | ns a             |       veth       | ns b             |
#   | veth0 10.0.0.1   |------------------| veth1 10.0.0.2   |
#   +------------------+                  +------------------+
#   a's ESP captured on veth0 and sent again from there (esp_tool.py, raw
#   frames); an nftables input chain on b can drop ESP before nfsec sees it.
#   transport aes-gcm-128; a -> b SPI 0x1001, b's in SA with replay-window
#   32; b -> a SPI 0x1002
#
# Covers, with exact counters of b's SA 0x1001 and namespace:
#  - duplicates (frames re-sent): replay, one per frame;
#  - a bit flipped in the ciphertext of a never-seen sequence number:
#    icv_fail, and the failure does not mark the number as seen (the same
#    frame unaltered is then accepted, and only a third copy is a replay);
#  - the window edge: with top T and window 32, T - 31 never seen is
#    accepted, T - 32 is replay_old, and so is 1;
#  - unknown SPI: no_sa (and, as it matches b's protect policy, cleartext);
#  - truncated ESP (6 bytes; 8 bytes, a header and nothing after): malformed;
#  - the SA deleted while a ping runs: not one cleartext packet on the wire,
#    every request either ESP or counted no_sa_out;
#  - outbound exhaustion without ESN: seq 0xfffffffd lets exactly 2 packets
#    out, 3 counted seq_exhausted, and `nfsec monitor` reports
#    "expire ... reason seq";
#  - ESN across 2^32: from seq 0xfffffffe (fresh receiver) and from a start
#    that a fresh receiver with window 32 places in epoch 0.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter replay a b			# the rest runs in namespace a

TMP=$(mktemp -d)
link a veth0 10.0.0.1/24 b veth1 10.0.0.2/24

# esp ARGS...: esp_tool.py on a's veth0 with the capture of a's ESP.
esp() {
	on a /usr/bin/python3 "$TESTS_DIR/esp_tool.py" veth0 "$TMP/a.pcap" "$@"
}

# b_in_is DESC WANT: b's in SA 0x1001 counters become WANT.
b_in_is() {
	expect_stats "$1" b 0x1001 "$2" || true
}

check "a: SAs and policies" esp_pair a transport 0x1001 0x1002 \
	"$KEY1" "$KEY2" 10.0.0.1 10.0.0.2
check "b: SAs and policies, replay-window 32" esp_pair -i "replay-window 32" \
	b transport 0x1002 0x1001 "$KEY2" "$KEY1" 10.0.0.2 10.0.0.1

esp_capture "$TMP/a.pcap"
expect_eq "b: SA 0x1001 saw seq 1-3 only" "bytes=252 packets=3" "$(sa_stats b 0x1001)" || true
expect_eq "capture: a's ESP frames carry seq 1-5" "1 2 3 4 5" "$(esp seqs)" || true

log "duplicates: frames of seq 1-3 again"
check "send seq 1, 2, 3 again" esp send:0,1,2
b_in_is "b: replay 3" "bytes=252 packets=3 replay=3"

log "seq 4 (never seen): a bit flipped, then as it was, then again"
check "send seq 4 flipped, seq 4, seq 4" esp flip:3:16 sleep:0.3 send:3 sleep:0.3 send:3
b_in_is "b: icv_fail 1; seq 4 accepted after it; then replay" \
	"bytes=336 icv_fail=1 packets=4 replay=4"

log "window edge, window 32: 31 pings (seq 6-36) make the top 36"
check "ping -c 31 a -> b" on a ping -c 31 -i 0.01 -W 2 10.0.0.2
b_in_is "b: seq 6-36 accepted" "bytes=2940 icv_fail=1 packets=35 replay=4"
expect_eq "b: SA 0x1001 seq (top) 36" 36 "$(sa_field b 0x1001 seq)" || true
check "send seq 5 (36 - 31), seq 4 (36 - 32), seq 1" \
	esp send:4 sleep:0.3 send:3 sleep:0.3 send:0
b_in_is "b: seq 5 accepted inside the window, seq 4 and 1 replay_old" \
	"bytes=3024 icv_fail=1 packets=36 replay=4 replay_old=2"

log "unknown SPI, truncated ESP"
expect_eq "b: no namespace drops yet" "" "$(ns_stats b)" || true
check "send SPI 0x9999, 6 bytes of ESP, 8 bytes of ESP" \
	esp spi:0:0x9999 trunc:0:6 trunc:0:8
wait_for "b's namespace counters" 5 eval '[ "$(ns_stats b)" == "cleartext=1 malformed=2 no_sa=1" ]' || true
expect_eq "b: no_sa 1 (and cleartext 1: b's in policy), malformed 2" \
	"cleartext=1 malformed=2 no_sa=1" "$(ns_stats b)" || true
expect_eq "b: SA 0x1001 unchanged" \
	"bytes=3024 icv_fail=1 packets=36 replay=4 replay_old=2" "$(sa_stats b 0x1001)" || true

log "a's out SA deleted while a pings b"
cap_start b veth1 "$TMP/del.pcap"
# (10 s of pings: the delete must land while they go, even on a slow
# debug kernel)
run_bg a ping -c 100 -i 0.1 -W 1 10.0.0.2 >"$TMP/ping.out" 2>&1
ping_pid=$BG_PID
# Delete once some of the 100 went through.
wait_for "pings through" 20 eval '[ "$(sa_field b 0x1001 stats.packets)" -ge 41 ]' || true
check "a: sa del 0x1001 under traffic" nf a sa del dst 10.0.0.2 spi 0x1001 proto esp
wait "$ping_pid" || true
cap_stop "$TMP/del.pcap"
log "$(tail -n 2 "$TMP/ping.out")"
esp_n=$(cap_count "$TMP/del.pcap" 'ip proto 50 and src 10.0.0.1')
nosa=$(ns_stat a no_sa_out)
log "ESP from a: $esp_n, no_sa_out: $nosa"
expect_eq "capture: not one non-ESP IPv4 packet" 0 \
	"$(cap_count "$TMP/del.pcap" 'ip and not ip proto 50')" || true
((esp_n > 0 && nosa > 0)) && ok "some requests went as ESP, the rest was dropped" ||
	not_ok "some requests went as ESP, the rest was dropped" "ESP $esp_n, no_sa_out $nosa"
expect_eq "every one of the 100 requests: ESP or no_sa_out" 100 "$((esp_n + nosa))" || true

log "sequence exhaustion without ESN: seq 0xfffffffd"
run_bg a "$NFSEC" monitor >"$TMP/mon.out" 2>&1
mon_pid=$BG_PID
check "nfsec monitor listens" wait_for "monitor" 15 monitor_ready a "$TMP/mon.out"
check "fresh SA pair 0x1101/0x1102, a's out SA at seq 0xfffffffd" \
	esp_pair -F -o "seq 0xfffffffd" a transport 0x1101 0x1102 \
	"$KEY3" "$KEY4" 10.0.0.1 10.0.0.2
check "b: the same pair" esp_pair -F b transport 0x1102 0x1101 \
	"$KEY4" "$KEY3" 10.0.0.2 10.0.0.1
check "monitor saw the SA added" wait_for "monitor" 10 file_has "$TMP/mon.out" "sa add out esp spi 0x00001101"
out=$(on a ping -c 5 -i 0.2 -W 1 10.0.0.2 2>&1) || true
[[ $out == *"5 packets transmitted, 2 received"* ]] &&
	ok "ping -c 5: exactly 2 replies" || not_ok "ping -c 5: exactly 2 replies" "$out"
expect_eq "a: out SA 0x1101: 2 sent, 3 seq_exhausted" "bytes=168 packets=2 seq_exhausted=3" \
	"$(sa_stats a 0x1101)" || true
expect_eq "a: out SA 0x1101 seq 0xffffffff" $((0xffffffff)) "$(sa_field a 0x1101 seq)" || true
expect_eq "b: in SA 0x1101: 2 accepted" "bytes=168 packets=2" "$(sa_stats b 0x1101)" || true
expect_eq "b: in SA 0x1101 seq 0xffffffff" $((0xffffffff)) "$(sa_field b 0x1101 seq)" || true
check "monitor: expire ... reason seq" wait_for "expire event" 10 \
	file_has "$TMP/mon.out" "sa expire out esp spi 0x00001101 (4353) 10.0.0.1 -> 10.0.0.2 reason seq"
kill "$mon_pid" 2>/dev/null
wait "$mon_pid" 2>/dev/null || true
mapfile -t ev <"$TMP/mon.out"
log "monitor printed ${#ev[@]} lines:"
printf '# %s\n' "${ev[@]}" | head -n 12

# esn_pair SPI SEQ WINDOW: a -> b ESN SA SPI starting at SEQ, b's window
# WINDOW (empty: the default); b -> a SPI + 1 without ESN; policies to them.
esn_pair() {
	local spi=$1 back=$(($1 + 1))
	esp_pair -f -o "esn seq $2" a transport "$spi" "$back" "$KEY1" "$KEY2" \
		10.0.0.1 10.0.0.2 &&
	esp_pair -f -i "esn ${3:+replay-window $3}" b transport "$back" "$spi" \
		"$KEY2" "$KEY1" 10.0.0.2 10.0.0.1
}

log "ESN from seq 0xfffffffe: packets 2^32 - 1 to 2^32 + 3, fresh receiver"
check "ESN pair 0x1201/0x1202, a's out SA at seq 0xfffffffe" esn_pair 0x1201 0xfffffffe
check "ping a -> b, 5 of 5 across 2^32" on a ping -c 5 -i 0.2 -W 1 10.0.0.2 || true
expect_eq "b: in SA 0x1201 seq 0x100000003" $((0x100000003)) "$(sa_field b 0x1201 seq)" || true
expect_eq "b: in SA 0x1201: 5 accepted" "bytes=420 packets=5" "$(sa_stats b 0x1201)" || true
expect_eq "a: out SA 0x1201 seq 0x100000003" $((0x100000003)) "$(sa_field a 0x1201 seq)" || true

log "ESN from seq 0xffffffdf, receiver window 32: packets 2^32 - 32 to 2^32 + 3"
check "ESN pair 0x1301/0x1302, a's out SA at seq 0xffffffdf" esn_pair 0x1301 0xffffffdf 32
check "ping a -> b, 36 of 36 across 2^32" on a ping -c 36 -i 0.01 -W 1 10.0.0.2 || true
expect_eq "b: in SA 0x1301 seq 0x100000003" $((0x100000003)) "$(sa_field b 0x1301 seq)" || true
expect_eq "b: in SA 0x1301: 36 accepted" "bytes=3024 packets=36" "$(sa_stats b 0x1301)" || true

rm -rf "$TMP"
t_end
