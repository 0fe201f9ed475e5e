#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 44-requests.sh: a packet's crypto request lives in a slot its CPU keeps
# (src/request.c), not in memory allocated for it; the namespace counts
# requests that took heap space instead (req_heap).
#
#   +------------------+                  +------------------+
#   | ns a             |       veth       | ns b             |
#   | veth0 10.0.0.1   |------------------| veth1 10.0.0.2   |
#   +------------------+                  +------------------+
#   transport aes-gcm-128; a -> b SPI 0x1001, b -> a SPI 0x1002
#   transport AH hmac-sha256-128 between 10.0.1.1 and 10.0.1.2 (veth0/1's
#   second addresses); a -> b SPI 0x2001, b -> a SPI 0x2002
#
# Covers:
#  - req_slots is 256 by default, and a user namespace cannot change it;
#  - with the slots, a 1 MiB transfer (rx_spread on: requests finished on
#    the next CPU and back) and pings over ESP and AH take no request from
#    the heap, on either side;
#  - with req_slots 0, every request is from the heap: 5 pings count
#    exactly 10 on each side (5 requests out, 5 in), and a 1 MiB transfer
#    counts on each side exactly the packets its SAs protected and
#    accepted, arriving intact;
#  - back at 256, the slots serve again (5 pings: 0 from the heap);
#  - the link carries ESP and AH only; the namespaces count no drop.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter requests a b			# the rest runs in namespace a

TMP=$(mktemp -d)
P=/sys/module/nfsec/parameters
# hmac-sha256-128 keys, 32 bytes each
KEY32A=0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
KEY32B=0x202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
trap 'rc=$?; echo 256 >$P/req_slots; (exit $rc); _t_exit' EXIT

link a veth0 10.0.0.1/24 b veth1 10.0.0.2/24
on a ip addr add 10.0.1.1/24 dev veth0
on b ip addr add 10.0.1.2/24 dev veth1
check "a: stateful nftables filter (conntrack)" ct_filter a
check "b: stateful nftables filter (conntrack)" ct_filter b
for ns in a b; do	# (it lets ESP in; AH too, for the AH pair)
	check "$ns: the filter lets AH in" \
		on $ns nft insert rule ip ctf input ip protocol ah accept
done
check "a: ESP SAs and policies" esp_pair a transport 0x1001 0x1002 \
	"$KEY1" "$KEY2" 10.0.0.1 10.0.0.2
check "b: ESP SAs and policies" esp_pair b transport 0x1002 0x1001 \
	"$KEY2" "$KEY1" 10.0.0.2 10.0.0.1
check "a: AH SAs and policies" esp_pair -a hmac-sha256-128 a transport \
	0x2001 0x2002 "$KEY32A" "$KEY32B" 10.0.1.1 10.0.1.2
check "b: AH SAs and policies" esp_pair -a hmac-sha256-128 b transport \
	0x2002 0x2001 "$KEY32B" "$KEY32A" 10.0.1.2 10.0.1.1

# heap NS: the namespace's req_heap
heap() {
	ns_stat "$1" req_heap
}
# packets NS SPI: the packets the SA protected or accepted so far
packets() {
	sa_field "$1" "$2" stats.packets
}

sz=$(cat $P/req_slot_bytes)
log "request slots: $sz bytes"
expect_eq "slots are a power of two from 512 to 4096 bytes" yes \
	"$( ((sz >= 512 && sz <= 4096 && (sz & (sz - 1)) == 0)) && echo yes || echo "no: $sz")" || true
expect_eq "req_slots is 256 by default" 256 "$(cat $P/req_slots)" || true
# (an unprivileged user, root in a user namespace of its own)
expect_eq "userns: req_slots cannot be written" "Permission denied" \
	"$(as_nobody_userns sh -c "echo 0 >$P/req_slots" 2>&1 | sed 's/.*: //')" || true
expect_eq "userns: req_slots still 256" 256 "$(cat $P/req_slots)" || true
head -c 1048576 /dev/urandom >"$TMP/blob"

cap_start b veth1 "$TMP/link.pcap"
log "req_slots 256: 1 MiB over ESP, pings over ESP and AH"
check "ping a -> b over ESP, 5 of 5" ping -q -c 5 -i 0.05 -W 2 10.0.0.2
check "ping a -> b over AH, 5 of 5" ping -q -c 5 -i 0.05 -W 2 10.0.1.2
tcp_md5 "TCP a -> b: 1 MiB arrives intact (md5)" a b 10.0.0.2 5001 \
	"$TMP/blob"
expect_eq "a: no request from the heap" 0 "$(heap a)" || true
expect_eq "b: no request from the heap" 0 "$(heap b)" || true

log "req_slots 0: every request from the heap"
echo 0 >$P/req_slots
check "ping a -> b over ESP, 5 of 5" ping -q -c 5 -i 0.05 -W 2 10.0.0.2
expect_eq "a: 5 requests out and 5 in from the heap" 10 "$(heap a)" || true
expect_eq "b: 5 requests in and 5 out from the heap" 10 "$(heap b)" || true
check "ping a -> b over AH, 5 of 5" ping -q -c 5 -i 0.05 -W 2 10.0.1.2
expect_eq "a: and 10 more over AH" 20 "$(heap a)" || true
expect_eq "b: and 10 more over AH" 20 "$(heap b)" || true
ha=$(heap a) hb=$(heap b)
pa=$(($(packets a 0x1001) + $(packets a 0x1002)))
pb=$(($(packets b 0x1001) + $(packets b 0x1002)))
tcp_md5 "TCP a -> b: 1 MiB arrives intact (md5)" a b 10.0.0.2 5002 \
	"$TMP/blob"
sleep 1		# (the connection's last packets)
pa=$(($(packets a 0x1001) + $(packets a 0x1002) - pa))
pb=$(($(packets b 0x1001) + $(packets b 0x1002) - pb))
log "the transfer: a's SAs $pa packets, b's $pb"
expect_eq "a: one request from the heap per ESP packet, $pa" \
	"$pa" "$(($(heap a) - ha))" || true
expect_eq "b: one request from the heap per ESP packet, $pb" \
	"$pb" "$(($(heap b) - hb))" || true

log "req_slots 256 again"
echo 256 >$P/req_slots
ha=$(heap a) hb=$(heap b)
check "ping a -> b over ESP, 5 of 5" ping -q -c 5 -i 0.05 -W 2 10.0.0.2
expect_eq "a: no request from the heap" "$ha" "$(heap a)" || true
expect_eq "b: no request from the heap" "$hb" "$(heap b)" || true
cap_stop "$TMP/link.pcap"

expect_eq "capture: no packet in clear between the two" 0 \
	"$(cap_count "$TMP/link.pcap" 'ip and not ip proto 50 and not ip proto 51')" || true
expect_eq "a: no namespace drops" "" "$(ns_stats a)" || true
expect_eq "b: no namespace drops" "" "$(ns_stats b)" || true
for s in "a 0x1002" "b 0x1001" "a 0x2002" "b 0x2001"; do
	v=$(sa_stats ${s% *} ${s#* })
	expect_eq "${s% *}: in SA ${s#* } counted no drop" "$(traffic "$v")" "$v" || true
done

rm -rf "$TMP"
t_end
