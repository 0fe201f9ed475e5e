#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 37-acquire.sh: acquire on demand. A trap policy (OUT, protect by reqid,
# no SA of the reqid) drops what it matches and tells the events group;
# a script listening to `nfsec -j monitor` installs the SAs, and the
# traffic then flows. Then the rate limits of the events, per policy and
# flow and per namespace.
#
#   +-----------------------+             +-----------------------+
#   | ns a (nfsec)          |             | ns b (XFRM)           |
#   | veth0 10.0.0.1/24     |-------------| veth1 10.0.0.2/24     |
#   |       fd00::1/64      |             |       fd00::2/64      |
#   | 10.0.9.0/24, fd00:9::/64 via b (nobody there: trap targets) |
#   +-----------------------+             +-----------------------+
#
# 1. Round trip. a: policies out 10.0.0.1 -> 10.0.0.2 and in back, protect
#    reqid 5 mode transport, no SA. b: XFRM policies with reqid 5
#    templates, no state. A script on a reads `nfsec -j monitor`; on the
#    first acquire event of reqid 5 it adds a's SA pair (0x5001 out,
#    0x5002 in, reqid 5) and b's matching XFRM states. socat then sends
#    64 KiB over TCP from a (sport 41001) to b (dport 5001), md5 compared.
#    Asserted: the SYNs sent before the SAs were there (counted by an
#    nftables rule on a's output) were dropped and counted no_sa_out, and
#    each either sent an event or was held back by the limit; the event
#    names the out policy (index, reqid 5, transport) and the flow
#    (10.0.0.1:41001 -> 10.0.0.2:5001 tcp); once the SAs are in no more
#    events; the link saw ESP only, and b's XFRM opened every ESP packet
#    a sent.
# 2. Per policy and flow (acquire_interval_ms, default 1000): a trap
#    policy to 10.0.9.0/24, reqid 9. Flow F1 sends 5 datagrams and F2 3
#    at once, then, 1.5 s later, F1 one more: 3 events (F1, F2, F1), 6
#    held back, 9 no_sa_out; each event's fields. With the interval at
#    4000 ms, F3 twice 1.5 s apart: one event.
# 3. Per namespace (acquire_per_sec, set to 10): 200 datagrams of 200
#    flows at once: 10 events if they went out within a second (at most 10
#    per window of a second else), the rest held back; events + held back
#    = 200 = no_sa_out.
# 4. IPv6: a trap policy fd00::1 -> fd00:9::/64 udp, reqid 6: one
#    datagram, one event with the IPv6 flow.
# a runs a stateful nftables filter (conntrack), which drops nothing.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter acquire a b	# the rest runs in namespace a

TMP=$(mktemp -d)
PARAMS=/sys/module/nfsec/parameters
EV=$TMP/events.json
link a veth0 10.0.0.1/24 b veth1 10.0.0.2/24
ipb a <<EOF
addr add fd00::1/64 dev veth0 nodad
route add 10.0.9.0/24 via 10.0.0.2
EOF
ipb b <<<"addr add fd00::2/64 dev veth1 nodad"
ip6_usable a b
ip -6 route add fd00:9::/64 via fd00::2
check "a: stateful nftables filter (conntrack)" ct_filter a

check "acquire_interval_ms is 1000, acquire_per_sec 100 (the defaults)" \
	test "$(cat $PARAMS/acquire_interval_ms) $(cat $PARAMS/acquire_per_sec)" = "1000 100"

# The daemon: every event to $EV; on the first acquire event of reqid 5,
# b's XFRM states, then a's SA pair (the peer's inbound SA first, as IKE
# daemons order it: no ESP packet reaches b before b can open it).
daemon() {
	local line done=0
	while IFS= read -r line; do
		printf '%s\n' "$line" >>"$EV"
		[[ $done = 0 && $line == *'"event": "acquire"'* &&
		   $line == *'"sa": {"reqid": 5,'* ]] || continue
		done=1
		ip -n "$(ns_name b)" -b - <<-EOF
			xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x5001 reqid 5 mode transport aead rfc4106(gcm(aes)) $KEY1 128
			xfrm state add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x5002 reqid 5 mode transport aead rfc4106(gcm(aes)) $KEY2 128
		EOF
		"$NFSEC" -b - <<-EOF
			sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x5001 proto esp mode transport aead aes-gcm-128 key $KEY1 reqid 5
			sa add dir in src 10.0.0.2 dst 10.0.0.1 spi 0x5002 proto esp mode transport aead aes-gcm-128 key $KEY2 reqid 5
		EOF
		echo "installed" >>"$EV.log"
	done
}
mkfifo "$TMP/fifo"
"$NFSEC" -j monitor >"$TMP/fifo" 2>"$EV.err" &
MON=$!
daemon <"$TMP/fifo" &
DAEMON=$!
: >"$EV"
# monitor_up: the monitor listens (a scratch SA's del event came through).
monitor_up() {
	"$NFSEC" sa add dir in src 10.0.0.9 dst 10.0.0.1 spi 0x999 proto esp \
		mode transport aead aes-gcm-128 key "$KEY1" &&
	"$NFSEC" sa del dst 10.0.0.1 spi 0x999 proto esp &&
	file_has "$EV" '"event": "del"'
}
check "the daemon's monitor listens" wait_for "monitor" 20 monitor_up

# acq_list: the acquire events as "INDEX REQID MODE FAMILY SRC DST PROTO
# SPORT DPORT" lines.
acq_list() {
	jq_py '"\n".join("%s %s %s %s %s %s %s %s %s" % (p["index"],
		p["sa"]["reqid"], p["sa"].get("mode", "-"), f["family"],
		f["src"], f["dst"], f["proto"], f["sport"], f["dport"])
		for e in docs if e["event"] == "acquire"
		for p, f in [(e["policy"], e["flow"])])' <"$EV"
}
acq_count() {
	jq_py 'len([e for e in docs if e["event"] == "acquire"])' <"$EV"
}
acq_count_is() {
	[ "$(acq_count)" = "$1" ]
}
# stat3: "acquire acquire_limited no_sa_out" of a
stat3() {
	"$NFSEC" -j stats | jq_py '"%d %d %d" % (d["acquire"],
		d["acquire_limited"], d["no_sa_out"])'
}
# delta BEFORE: what stat3 gained since it was BEFORE
delta() {
	local a0 l0 n0 a1 l1 n1
	read -r a0 l0 n0 <<<"$1"
	read -r a1 l1 n1 <<<"$(stat3)"
	echo "$((a1 - a0)) $((l1 - l0)) $((n1 - n0))"
}
# policy_index DIR DST: the index of a's policy of DIR to DST (a prefix)
policy_index() {
	"$NFSEC" -j policy list | jq_py '[p["index"] for p in d
		if p["dir"] == a.split()[0] and p["dst"] == a.split()[1]][0]' "$1 $2"
}

log "1. round trip: a packet, an acquire event, the SAs, TCP"
check "a: policies out and in by reqid 5, no SA" "$NFSEC" -b - <<EOF
policy add dir out src 10.0.0.1 dst 10.0.0.2 protect reqid 5 mode transport
policy add dir in src 10.0.0.2 dst 10.0.0.1 protect reqid 5 mode transport
EOF
OUT5=$(policy_index out 10.0.0.2/32)
# (XFRM's first state of an algorithm loads esp4 and instantiates the
# crypto templates, seconds under emulation: done here, not when the
# daemon adds b's states)
check "b: warm-up, an XFRM state of the same algorithm added and deleted" ipb b <<EOF
xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x5999 mode transport aead rfc4106(gcm(aes)) $KEY3 128
xfrm state del src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x5999
EOF
check "b: XFRM policies with reqid 5 templates, no state" ipb b <<EOF
xfrm policy add src 10.0.0.2 dst 10.0.0.1 dir out tmpl src 10.0.0.2 dst 10.0.0.1 proto esp mode transport reqid 5
xfrm policy add src 10.0.0.1 dst 10.0.0.2 dir in tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode transport reqid 5
EOF
check "a: nftables counts the SYNs a sends to b" nft -f - <<EOF
table ip syns {
	chain output {
		type filter hook output priority filter; policy accept;
		ip daddr 10.0.0.2 tcp flags & (syn | ack) == syn counter comment "syn"
	}
}
EOF
head -c 65536 /dev/urandom >"$TMP/data"
cap_start a veth0 "$TMP/link.pcap"
run_bg b socat -T 20 -u TCP-LISTEN:5001,reuseaddr "OPEN:$TMP/data.recv,creat,trunc"
RECV=$BG_PID
wait_for "b listens on 5001" 10 sh -c "ip netns exec $(ns_name b) ss -ltn | grep -q ':5001 '"
T0=$EPOCHREALTIME
check "a -> b: 64 KiB over TCP (sport 41001), through the SAs the daemon added" \
	socat -T 30 -u "OPEN:$TMP/data" TCP:10.0.0.2:5001,sourceport=41001,reuseaddr
log "connected and sent in $(elapsed "$T0")"
wait "$RECV" || true
expect_eq "b received what a sent (md5)" "$(md5sum <"$TMP/data")" \
	"$(md5sum <"$TMP/data.recv")" || true
check "the daemon installed the SAs once" file_has "$EV.log" installed
SYNS=$(nft -j list table ip syns | jq_py '[e["counter"]["packets"]
	for o in d["nftables"] if "rule" in o for e in o["rule"]["expr"]
	if "counter" in e][0]')
log "a sent $SYNS SYNs"
read -r N_ACQ N_LIM N_NOSA <<<"$(stat3)"
expect_eq "a: every SYN but the last dropped, counted no_sa_out" \
	"$((SYNS - 1))" "$N_NOSA" || true
expect_eq "a: each drop sent an event or was held back" "$N_NOSA" \
	"$((N_ACQ + N_LIM))" || true
expect_eq "a: the events in the monitor's output are those counted" \
	"$N_ACQ" "$(acq_count)" || true
expect_eq "the first event: a's out policy $OUT5, reqid 5, the flow" \
	"$OUT5 5 transport inet 10.0.0.1 10.0.0.2 6 41001 5001" \
	"$(acq_list | head -n 1)" || true
# the SYN is retransmitted after 1 s, 3 s...: at most one event a second
if [ "$N_NOSA" -gt 1 ]; then
	log "the daemon was slow: $N_NOSA SYNs dropped, $N_ACQ events"
	if ((N_ACQ >= 1 && N_ACQ <= N_NOSA)); then
		ok "events: at most one per dropped SYN"
	else
		not_ok "events: at most one per dropped SYN" "$N_ACQ events"
	fi
else
	expect_eq "one SYN dropped: one event, none held back" "1 0" \
		"$N_ACQ $N_LIM" || true
fi
cap_stop "$TMP/link.pcap"
N_ESP=$(cap_count "$TMP/link.pcap" 'src 10.0.0.1 and esp')
log "a sent $N_ESP ESP packets"
expect_eq "link: no IPv4 packet but ESP" 0 \
	"$(cap_count "$TMP/link.pcap" 'ip and not esp')" || true
expect_eq "a's SA 0x5001 sent what the link carried" "$N_ESP" \
	"$(sa_field a 0x5001 stats.packets)" || true
XS=$(ip -n "$(ns_name b)" -s xfrm state get src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x5001)
[[ $XS =~ \(bytes\),\ ([0-9]+)\(packets\) ]] || true
expect_eq "b: XFRM opened every ESP packet a sent" "$N_ESP" \
	"${BASH_REMATCH[1]:-none}" || true
WANT="acquire=$N_ACQ"
((N_LIM == 0)) || WANT+=" acquire_limited=$N_LIM"
expect_eq "a: no drops but the SYNs'" "$WANT no_sa_out=$N_NOSA" \
	"$(ns_stats a)" || true

# send STEP...: one python3 run of the steps "send SRC SPORT DST DPORT N"
# (N datagrams of one flow, at once), "flood SRC SPORT0 FLOWS DST DPORT"
# (one datagram each of FLOWS flows, SPORT0 upwards: prints the seconds
# it took) and "sleep S". The trap drops them: sendto fails (EPERM).
send() {
	python3 - "$@" <<-'EOF'
		import socket, sys, time
		def sock(src, sport):
		    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
		    s = socket.socket(fam, socket.SOCK_DGRAM)
		    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		    s.bind((src, sport))
		    return s
		def out(s, dst, dport):
		    try:
		        s.sendto(b"acquire", (dst, dport))
		    except OSError:
		        pass
		for step in sys.argv[1:]:
		    w = step.split()
		    if w[0] == "send":
		        s = sock(w[1], int(w[2]))
		        for _ in range(int(w[5])):
		            out(s, w[3], int(w[4]))
		        s.close()
		    elif w[0] == "flood":
		        socks = [sock(w[1], int(w[2]) + i) for i in range(int(w[3]))]
		        t0 = time.monotonic()
		        for s in socks:
		            out(s, w[4], int(w[5]))
		        print("%.3f" % (time.monotonic() - t0))
		    elif w[0] == "sleep":
		        time.sleep(float(w[1]))
	EOF
}

log "2. one event per policy and flow within acquire_interval_ms"
check "a: trap policy to 10.0.9.0/24, reqid 9" "$NFSEC" policy add dir out \
	src 10.0.0.1 dst 10.0.9.0/24 protect reqid 9
OUT9=$(policy_index out 10.0.9.0/24)
: >"$EV"
BEFORE=$(stat3)
check "F1 5 datagrams, F2 3, then 1.5 s later F1 1" send \
	"send 10.0.0.1 42001 10.0.9.1 7001 5" \
	"send 10.0.0.1 42002 10.0.9.1 7001 3" "sleep 1.5" \
	"send 10.0.0.1 42001 10.0.9.1 7001 1"
check "3 events in the monitor's output" wait_for "3 events" 10 acq_count_is 3
expect_eq "acquire +3, acquire_limited +6, no_sa_out +9" "3 6 9" \
	"$(delta "$BEFORE")" || true
expect_eq "the events: F1, F2, F1 again, each naming policy $OUT9, reqid 9" \
	"$OUT9 9 - inet 10.0.0.1 10.0.9.1 17 42001 7001
$OUT9 9 - inet 10.0.0.1 10.0.9.1 17 42002 7001
$OUT9 9 - inet 10.0.0.1 10.0.9.1 17 42001 7001" "$(acq_list)" || true
expect_eq "the event's policy is the policy as policy list shows it" \
	"$("$NFSEC" -j policy list | jq_py 'json.dumps({k: v for k, v in
		[p for p in d if p["index"] == int(a)][0].items()
		if k != "matches"}, sort_keys=True)' "$OUT9")" \
	"$(jq_py 'json.dumps({k: v for k, v in docs[0]["policy"].items()
		if k != "matches"}, sort_keys=True)' <"$EV")" || true

check "acquire_interval_ms set to 4000" sh -c "echo 4000 > $PARAMS/acquire_interval_ms"
: >"$EV"
BEFORE=$(stat3)
check "F3 twice, 1.5 s apart" send "send 10.0.0.1 42003 10.0.9.1 7001 1" \
	"sleep 1.5" "send 10.0.0.1 42003 10.0.9.1 7001 1"
expect_eq "4000 ms: acquire +1, acquire_limited +1, no_sa_out +2" "1 1 2" \
	"$(delta "$BEFORE")" || true
check "acquire_interval_ms back to 1000" sh -c "echo 1000 > $PARAMS/acquire_interval_ms"

log "3. at most acquire_per_sec events a second in the namespace"
check "acquire_per_sec set to 10" sh -c "echo 10 > $PARAMS/acquire_per_sec"
: >"$EV"
BEFORE=$(stat3)
# (after 1.1 s: the window of the events before has closed)
DUR=$(send "sleep 1.1" "flood 10.0.0.1 43000 200 10.0.9.2 7002") || true
log "200 flows sent in $DUR s"
read -r DA DL DN <<<"$(delta "$BEFORE")"
expect_eq "no_sa_out +200, acquire + acquire_limited = 200" "200 200" \
	"$DN $((DA + DL))" || true
if [[ $DUR == 0.* ]]; then
	expect_eq "sent within a second: 10 events" 10 "$DA" || true
else
	W=$((${DUR%.*} + 1))
	if ((DA >= 10 && DA <= 10 * W)); then
		ok "sent in $DUR s: 10 to $((10 * W)) events ($DA)"
	else
		not_ok "sent in $DUR s: 10 to $((10 * W)) events" "$DA"
	fi
fi
check "the monitor printed them all" wait_for "events" 10 acq_count_is "$DA"
expect_eq "each event a flow of its own" "$DA" \
	"$(jq_py 'len({e["flow"]["sport"] for e in docs if e["event"] == "acquire"})' <"$EV")" || true
check "acquire_per_sec back to 100" sh -c "echo 100 > $PARAMS/acquire_per_sec"

log "4. IPv6: a trap policy fd00::1 -> fd00:9::/64 udp, reqid 6"
check "a: trap policy, IPv6, reqid 6" "$NFSEC" policy add dir out \
	src fd00::1 dst fd00:9::/64 proto udp protect reqid 6
OUT6=$(policy_index out fd00:9::/64)
: >"$EV"
sleep 1.1	# (the window of section 3 has closed)
BEFORE=$(stat3)
check "one datagram to [fd00:9::1]:7003" send "send fd00::1 44001 fd00:9::1 7003 1"
check "1 event in the monitor's output" wait_for "1 event" 10 acq_count_is 1
expect_eq "acquire +1, no_sa_out +1" "1 0 1" "$(delta "$BEFORE")" || true
expect_eq "the event: policy $OUT6, reqid 6, the IPv6 flow" \
	"$OUT6 6 - inet6 fd00::1 fd00:9::1 17 44001 7003" "$(acq_list)" || true

log "the SAs are in: no event for reqid 5's traffic"
: >"$EV"
BEFORE=$(stat3)
check "ping a -> b through the SAs, 2 of 2" ping -c 2 -i 0.2 -W 2 10.0.0.2
expect_eq "no event, no drop" "$BEFORE" "$(stat3)" || true

kill "$MON" 2>/dev/null || true
wait "$MON" "$DAEMON" 2>/dev/null || true
expect_eq "the monitor said nothing on stderr" "" "$(cat "$EV.err")" || true
expect_eq "a: the stateful filter dropped nothing" \
	"in-invalid=0 in-policy=0 fwd-invalid=0 fwd-policy=0" "$(nft_counters a ctf)" || true
rm -rf "$TMP"
t_end
