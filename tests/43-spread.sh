#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 43-spread.sh: with rx_spread (on by default) inbound packets that have
# others behind them are decrypted on the next CPU, and finished (replay
# window, decapsulation, the inner stack) back where they arrived; without,
# all of it where they arrive.
#
#   +------------------+                  +------------------+
#   | ns a             |       veth       | ns b             |
#   | veth0 10.0.0.1   |------------------| veth1 10.0.0.2   |
#   +------------------+                  +------------------+
#   transport aes-gcm-128; a -> b SPI 0x1001, b -> a SPI 0x1002
#
# Both ends of each transfer on CPU 0 (tcp_md5): veth hands each packet
# to the backlog of the CPU that sent it, so without nfsec's spread the
# segments, their decryption, the ACKs and theirs all run on CPU 0. With
# rx_spread, a packet that has more waiting behind it in the backlog (a
# GSO train's segments) is decrypted on CPU 1 (counted `spread` in the
# namespace's stats), and comes back to CPU 0, where the inner packets
# enter the stack (nfsec0's GRO, counted in the first column of
# /proc/net/softnet_stat): the flow stays on the CPU it arrived on, so
# the peer goes on sending from one. A lone packet (a ping) is decrypted
# where it arrives. Covers:
#  - rx_spread is on by default, and a user namespace cannot turn it off;
#  - with it, a 1 MiB transfer arrives intact, the link carries ESP only,
#    b counts at least 50 packets spread, and CPU 1 takes in next to
#    nothing (at most 10); pings from CPU 0, 0.1 s apart, are spread at
#    most 10 times;
#  - without it, the same transfer arrives intact, nothing is spread, and
#    CPU 1 takes in next to nothing;
#  - the in SAs count no drop, the namespaces none.
# Needs two CPUs (the VM has them).
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter spread a b			# the rest runs in namespace a

TMP=$(mktemp -d)
P=/sys/module/nfsec/parameters
PINGS=30
# (t_begin's exit trap still runs: a script that stops early is a failure)
trap 'rc=$?; echo 1 >$P/rx_spread; (exit $rc); _t_exit' EXIT

link a veth0 10.0.0.1/24 b veth1 10.0.0.2/24
check "a: stateful nftables filter (conntrack)" ct_filter a
check "b: stateful nftables filter (conntrack)" ct_filter b
check "a: SAs and policies" esp_pair a transport 0x1001 0x1002 \
	"$KEY1" "$KEY2" 10.0.0.1 10.0.0.2
check "b: SAs and policies" esp_pair b transport 0x1002 0x1001 \
	"$KEY2" "$KEY1" 10.0.0.2 10.0.0.1

# taken: "CPU0 CPU1", the packets each CPU's stack took in so far
taken() {
	local n=() x
	while read -r x _; do
		n+=($((16#$x)))
	done </proc/net/softnet_stat
	echo "${n[0]} ${n[1]}"
}
# on_cpus CMD...: run CMD; d0 and d1 get what CPU 0 and CPU 1 took in
# meanwhile, s0 and s1 b's spread counter before and after
on_cpus() {
	local before after
	s0=$(ns_stat b spread)
	before=($(taken))
	"$@" || true
	after=($(taken))
	s1=$(ns_stat b spread)
	d0=$((after[0] - before[0])) d1=$((after[1] - before[1]))
}

if [ "$(nproc)" -lt 2 ]; then
	skip "spread cases" "one CPU"
	rm -rf "$TMP"
	t_end
fi

expect_eq "rx_spread is on by default" Y "$(cat $P/rx_spread)" || true
# (an unprivileged user, root in a user namespace of its own)
expect_eq "userns: rx_spread cannot be written" "Permission denied" \
	"$(as_nobody_userns sh -c "echo 0 >$P/rx_spread" 2>&1 | sed 's/.*: //')" || true
expect_eq "userns: rx_spread still on" Y "$(cat $P/rx_spread)" || true
check "ping a -> b (routes and neighbours)" ping -c 1 -W 2 10.0.0.2
head -c 1048576 /dev/urandom >"$TMP/blob"

log "rx_spread on: 1 MiB over TCP, both ends on CPU 0"
cap_start b veth1 "$TMP/link.pcap"
on_cpus tcp_md5 "TCP a -> b: 1 MiB arrives intact (md5)" \
	a b 10.0.0.2 5001 "$TMP/blob"
cap_stop "$TMP/link.pcap"
expect_eq "capture: no non-ESP IPv4 packet between a and b" 0 \
	"$(cap_count "$TMP/link.pcap" 'ip and host 10.0.0.1 and host 10.0.0.2 and not ip proto 50')" || true
esp=$(cap_count "$TMP/link.pcap" 'ip proto 50 and src 10.0.0.1 and ip[20:4] = 0x1001')
expect_eq "capture: a's ESP carried the transfer" yes \
	"$( ((esp > 0)) && echo yes || echo "no: $esp")" || true
log "packets taken in: CPU 0 $d0, CPU 1 $d1; b spread $((s1 - s0))"
expect_eq "b: at least 50 packets decrypted on the next CPU" yes \
	"$( ((s1 - s0 >= 50)) && echo yes || echo "no: $((s1 - s0))")" || true
expect_eq "back on CPU 0: CPU 1 took in at most 10 packets" yes \
	"$( ((d1 <= 10)) && echo yes || echo "no: $d1")" || true

# (0.1 s apart: on a slow kernel, KASAN's, pings 10 ms apart can queue up
# behind each other, and then they are no longer lone)
log "rx_spread on: $PINGS pings from CPU 0, 0.1 s apart"
on_cpus check "ping a -> b from CPU 0, $PINGS of $PINGS" \
	taskset -c 0 ping -q -c $PINGS -i 0.1 -W 2 10.0.0.2
log "packets taken in: CPU 0 $d0, CPU 1 $d1; b spread $((s1 - s0))"
expect_eq "lone packets are decrypted where they arrive: b spread at most 10" \
	yes "$( ((s1 - s0 <= 10)) && echo yes || echo "no: $((s1 - s0))")" || true

log "rx_spread off: the same transfer"
echo 0 >$P/rx_spread
on_cpus tcp_md5 "TCP a -> b: 1 MiB arrives intact (md5)" \
	a b 10.0.0.2 5002 "$TMP/blob"
log "packets taken in: CPU 0 $d0, CPU 1 $d1; b spread $((s1 - s0))"
expect_eq "b: nothing decrypted on the next CPU" 0 "$((s1 - s0))" || true
expect_eq "CPU 1 took in at most 10 packets" yes \
	"$( ((d1 <= 10)) && echo yes || echo "no: $d1")" || true

expect_eq "a: no namespace drops" "" "$(ns_stats a)" || true
expect_eq "b: no namespace drops" "" "$(ns_stats b)" || true
for s in "a 0x1002" "b 0x1001"; do
	v=$(sa_stats ${s% *} ${s#* })
	expect_eq "${s% *}: in SA ${s#* } counted no drop" "$(traffic "$v")" "$v" || true
done

rm -rf "$TMP"
t_end
