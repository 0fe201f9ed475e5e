#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 40-campaign.sh: a campaign of 10,000 hostile frames against one inbound
# ESP SA, each counted where src/input.c says, exactly.
#
#   +-------------------------------+          +--------------------+
#   | ns r (nfsec)                  |   veth   | ns s (injector)    |
#   | veth1 10.0.0.2/24             |----------| veth0 10.0.0.1/24  |
#   | lo 192.168.2.1/32             |          |                    |
#   | UDP listener 192.168.2.1:5000 |          |                    |
#   +-------------------------------+          +--------------------+
#   r: in SA 0x2001 10.0.0.1 -> 10.0.0.2, tunnel, aes-gcm-128, window 128;
#      in policy 192.168.1.0/24 -> 192.168.2.0/24 protect 0x2001; a decoy
#      out SA 0x2003 whose destination is r's own 10.0.0.2.
#   tests/campaign.py runs in r (the listener, /proc/net/snmp) and sends
#   from s through an AF_PACKET socket on veth0 it opened there (setns),
#   one frame per send, pinned to one CPU so that the link keeps the order.
#
# Half the frames carry a valid ICV over a malformed inside (bad pad
# length, bad pad bytes, next header other than 4, next header 59, no
# inner packet, inner IPv4 headers truncated or lying about tot_len, ihl or
# version, CE over Not-ECT, an inner packet no policy allows), each with a
# fresh sequence number; the rest are malformed outside (truncated ESP,
# flipped bits, unknown SPIs and the decoy's, sequence number 0,
# duplicates, numbers left of the window, fragments never completed, bad
# outer headers, ESP-in-UDP and junk to port 4500, cleartext the policy
# forbids) or good (also as fragments, with outer IPv4 options, with
# trailing bytes after the inner packet, and CE over ECT(0)). campaign.py
# books each frame under the counter it must land in (its header lists
# them); the asserts: the SA's and the namespace's counters exactly as
# booked, the SA's counters add up to the packets that reached it, the
# listener received every good packet once and nothing else, the UDP layer
# saw every datagram to port 4500 (nfsec has no UDP encapsulation), the
# window's top is the highest number committed, and 5 good packets sent
# last are delivered: the SA still works. The harness checks the kernel
# log for splats.
#
# NFSEC_CAMPAIGN_SEED=N replays one campaign (the seed is printed).
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter campaign r s			# the rest runs in namespace r

link s veth0 10.0.0.1/24 r veth1 10.0.0.2/24
echo "addr add 192.168.2.1/32 dev lo" | ipb r
check "r: in SA 0x2001, decoy out SA 0x2003, in policy" nf r -b - <<EOF
sa add dir in src 10.0.0.1 dst 10.0.0.2 spi 0x2001 proto esp mode tunnel aead aes-gcm-128 key $KEY1 replay-window 128
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x2003 proto esp mode tunnel aead aes-gcm-128 key $KEY2
policy add dir in src 192.168.1.0/24 dst 192.168.2.0/24 protect spi 0x2001 dst 10.0.0.2
EOF

seed=${NFSEC_CAMPAIGN_SEED:-$((RANDOM << 15 | RANDOM))}
log "seed $seed (NFSEC_CAMPAIGN_SEED=$seed replays this campaign)"
t0=$EPOCHREALTIME
rc=0
out=$(on r taskset -c 0 /usr/bin/python3 "$TESTS_DIR/campaign.py" \
	--sender-ns "/run/netns/$(ns_name s)" --iface veth0 --dst-iface veth1 \
	--key "$KEY1" --spi 0x2001 --out-spi 0x2003 --window 128 \
	--count 10000 --seed "$seed" 2>&1) || rc=$?
us=$((${EPOCHREALTIME/./} - ${t0/./}))
log "campaign.py: exit $rc after $((us / 1000000)).$((us / 100000 % 10)) s"
declare -A R=()
while read -r key val; do
	[ -n "$key" ] && R[$key]=$val
done <<<"$out"
if [ "$rc" -ne 0 ] || [ -z "${R[expect_sa]:-}" ]; then
	not_ok "campaign.py ran" "$out"
	t_end
fi
ok "campaign.py ran: sent ${R[sent]}"
log "frames per category: ${R[cats]}"
log "booked for SA 0x2001: ${R[expect_sa]}"
log "booked for the namespace: ${R[expect_ns]}"
((R[inside] * 2 >= 10000 && ${R[sent]%% *} >= 10000)) &&
	ok "at least 10000 frames, half of them authenticated and malformed inside (${R[inside]})" ||
	not_ok "at least 10000 frames, half of them authenticated and malformed inside" \
		"sent ${R[sent]}, inside ${R[inside]}"
log "softnet backlog drops during the campaign: ${R[softnet_dropped]}"

# (crypto may complete after the last send)
wait_for "SA 0x2001 counters" 10 stat_is r 0x2001 "${R[expect_sa]}" || true
expect_eq "r: SA 0x2001: every frame that reached it in its counter" \
	"${R[expect_sa]}" "$(sa_stats r 0x2001)" || true
expect_eq "r: namespace: malformed (outside and inside), no_sa, cleartext" \
	"${R[expect_ns]}" "$(ns_stats r)" || true
expect_eq "r: SA 0x2001's counters add up to the packets it judged" \
	"${R[sa_counted]}" \
	"$(sa_eval r 0x2001 'sum(v for k, v in st.items() if k != "bytes")')" || true
expect_eq "r: decoy out SA 0x2003 counted nothing" "" "$(sa_stats r 0x2003)" || true
expect_eq "r: SA 0x2001 window top is the highest number committed" \
	"${R[top]}" "$(sa_field r 0x2001 seq)" || true
read -r want _ <<<"${R[delivered]##* of }"
expect_eq "listener: every good packet delivered once" "$want of $want" \
	"${R[delivered]}" || true
expect_eq "listener: nothing but the good packets" 0 "${R[unexpected]}" || true
expect_eq "after the campaign: 5 good packets decrypted and delivered" \
	"5 of 5" "${R[final]}" || true
read -r want _ <<<"${R[noports]##* of }"
expect_eq "r: UDP NoPorts counted every datagram to port 4500" \
	"$want of $want" "${R[noports]}" || true

t_end
