#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 18-spd-index.sh: the SPD's lookup order across its index (policy.c): a
# policy is hashed by its dst prefix, or by its src prefix when that is
# the longer (one hash lookup per prefix length in use); one of any src
# and any dst is on the rest list. Whichever the policies are
# in, a packet takes the first that matches in the order of `policy list`
# (priority, then age; an update keeps the age). Each case sends one ping
# and asserts whether it passes or is dropped (bypass or discard) and
# exactly which policies' match counters moved: only the winner's, by one.
#
#   +-----------------+        +--------------------------+        +-----------------+
#   | ns a            |        | ns b (policies, router)  |        | ns c            |
#   | veth0 10.0.0.1  |--------| veth1 10.0.0.2, .12      |        |                 |
#   |   2001:db8::1   |        |   2001:db8::2            |        |                 |
#   |                 |        | veth2 10.0.1.2           |--------| veth3 10.0.1.3  |
#   +-----------------+        +--------------------------+        +-----------------+
#
# out: b pings a (from 10.0.0.2, or 10.0.0.12 with -I); in: a pings b;
# fwd: a pings c through b. Cases, each in a flushed SPD:
#  - a /32 and a /24 overlapping: the lower priority number wins, whatever
#    the prefix lengths; deleting the winner hands over to the next
#  - equal priorities: the older wins, host or subnet
#  - src-host (src hash) against dst-host and subnets (dst hash)
#  - subnets of several prefix lengths, hashed by dst or by src (the
#    longer), against each other and against the rest list (any to any);
#    deleting the last of a length hands over to the next
#  - policy update keeps the place, for hosts and subnets; a
#    policy added again after a delete counts from zero
#  - IPv6 /128 against /64
#  - dir in and dir fwd, with src-host and dst-host policies
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter spd-index b a c	# the rest runs in namespace b

link a veth0 10.0.0.1/24 b veth1 10.0.0.2/24
link b veth2 10.0.1.2/24 c veth3 10.0.1.3/24
ipb a <<EOF
addr add 2001:db8::1/64 dev veth0 nodad
route add 10.0.1.0/24 via 10.0.0.2
EOF
ipb b <<EOF
addr add 10.0.0.12/24 dev veth1
addr add 2001:db8::2/64 dev veth1 nodad
EOF
echo "route add default via 10.0.1.2" | ipb c
check "b forwards" sysctl -qw net.ipv4.ip_forward=1

# moved SNAP: b's policies whose match counters moved since SNAP (its
# `policy list -j` then), as "DIR:PRIORITY:SRC>DST+N" in list order
moved() {
	nf b -j policy list | jq_py '(lambda o: " ".join(
		"%s:%d:%s>%s+%d" % (p["dir"], p["priority"], p["src"], p["dst"],
			p["matches"] - o.get(p["index"], 0))
		for p in d if p["matches"] != o.get(p["index"], 0)))(
		{q["index"]: q["matches"] for q in json.loads(a)})' "$1"
}

# probe DESC WANT VERDICT NS PING-ARGS...: NS pings once; the ping must
# pass or drop (VERDICT) and exactly the policies WANT must have moved.
probe() {
	local desc=$1 want=$2 verdict=$3 ns=$4 snap got=pass
	shift 4
	snap=$(nf b -j policy list)
	on "$ns" ping -q -c 1 -W 2 "$@" >/dev/null 2>&1 || got=drop
	expect_eq "$desc: $verdict" "$verdict" "$got"
	expect_eq "$desc: $want matched" "$want" "$(moved "$snap")"
}

# spd LINES: b's SPD flushed, then the policy lines (one nfsec -b)
spd() {
	nf b -b - <<<"policy flush"$'\n'"$1"
}

out_a() { probe "$1" "$2" "$3" b 10.0.0.1 "${@:4}"; }

log "a /32 and a /24 overlapping, different priorities"
check "out: /24 p100 bypass, /32 p200 discard" spd "
policy add dir out src any dst 10.0.0.0/24 priority 100 bypass
policy add dir out src any dst 10.0.0.1/32 priority 200 discard"
out_a "subnet p100 before host p200" "out:100:0.0.0.0/0>10.0.0.0/24+1" pass
check "out: /32 p50 discard" nf b policy add dir out src any \
	dst 10.0.0.1/32 priority 50 discard
out_a "host p50 before subnet p100" "out:50:0.0.0.0/0>10.0.0.1/32+1" drop
check "out: /24 p10 bypass" nf b policy add dir out src any \
	dst 10.0.0.0/24 priority 10 bypass
out_a "subnet p10 before host p50" "out:10:0.0.0.0/0>10.0.0.0/24+1" pass
check "del /24 p10" nf b policy del dir out src any dst 10.0.0.0/24 \
	priority 10
out_a "deleted: host p50 takes over" "out:50:0.0.0.0/0>10.0.0.1/32+1" drop
check "del /32 p50" nf b policy del dir out src any dst 10.0.0.1/32 \
	priority 50
out_a "deleted: subnet p100 takes over" "out:100:0.0.0.0/0>10.0.0.0/24+1" pass
idx=$(nf b -j policy list | jq_py '[p["index"] for p in d if p["priority"] == 100][0]')
check "del /24 p100 by index" nf b policy del index "$idx"
out_a "deleted by index: host p200 takes over" \
	"out:200:0.0.0.0/0>10.0.0.1/32+1" drop

log "equal priorities: the older wins"
check "out: /24 p100 discard, then /32 p100 bypass" spd "
policy add dir out src any dst 10.0.0.0/24 priority 100 discard
policy add dir out src any dst 10.0.0.1/32 priority 100 bypass"
out_a "older subnet before younger host" "out:100:0.0.0.0/0>10.0.0.0/24+1" drop
check "/24 p100 deleted and added again: now the younger" nf b -b - <<EOF
policy del dir out src any dst 10.0.0.0/24 priority 100
policy add dir out src any dst 10.0.0.0/24 priority 100 discard
EOF
out_a "older host before younger subnet" "out:100:0.0.0.0/0>10.0.0.1/32+1" pass
check "/32 p100 bypass, a /32 p100 for src 10.0.0.2 discard (younger)" \
	nf b policy add dir out src 10.0.0.2 dst 10.0.0.1 priority 100 discard
out_a "two hosts of one key: the older" "out:100:0.0.0.0/0>10.0.0.1/32+1" pass

log "src host against dst host and subnet"
check "out: dst-host p20 bypass, src-host p10 discard, subnet p5 for .12" spd "
policy add dir out src 10.0.0.0/24 dst 10.0.0.1/32 priority 20 bypass
policy add dir out src 10.0.0.2/32 dst 10.0.0.0/24 priority 10 discard
policy add dir out src 10.0.0.12/32 dst 10.0.0.0/16 priority 30 discard
policy add dir out src 10.0.0.8/29 dst 10.0.0.0/24 priority 5 bypass"
out_a "src-host p10 before dst-host p20" "out:10:10.0.0.2/32>10.0.0.0/24+1" drop
out_a "from .12: subnet p5 before the rest" \
	"out:5:10.0.0.8/29>10.0.0.0/24+1" pass -I 10.0.0.12
check "del subnet p5" nf b policy del dir out src 10.0.0.8/29 \
	dst 10.0.0.0/24 priority 5
out_a "from .12: dst-host p20 before src-host p30" \
	"out:20:10.0.0.0/24>10.0.0.1/32+1" pass -I 10.0.0.12
check "src-host p20 discard for .12 (younger than dst-host p20)" \
	nf b policy add dir out src 10.0.0.12/32 dst 10.0.0.0/24 priority 20 \
	discard
out_a "from .12: equal priority, the older dst-host" \
	"out:20:10.0.0.0/24>10.0.0.1/32+1" pass -I 10.0.0.12
check "del dst-host p20" nf b policy del dir out src 10.0.0.0/24 \
	dst 10.0.0.1/32 priority 20
out_a "from .12: src-host p20 takes over" \
	"out:20:10.0.0.12/32>10.0.0.0/24+1" drop -I 10.0.0.12

log "subnets of several prefix lengths, on both sides"
check "out: dst /16 p30 discard, dst /25 p20 bypass" spd "
policy add dir out src any dst 10.0.0.0/16 priority 30 discard
policy add dir out src any dst 10.0.0.0/25 priority 20 bypass"
out_a "/25 p20 before /16 p30" "out:20:0.0.0.0/0>10.0.0.0/25+1" pass
check "out: src /29 dst /8 p10 discard (hashed by its src)" nf b policy \
	add dir out src 10.0.0.0/29 dst 10.0.0.0/8 priority 10 discard
out_a "src /29 p10 before the dst prefixes" \
	"out:10:10.0.0.0/29>10.0.0.0/8+1" drop
out_a "from .12, outside the /29: /25 p20" \
	"out:20:0.0.0.0/0>10.0.0.0/25+1" pass -I 10.0.0.12
check "out: any to any, icmp, p5 bypass (the rest list)" nf b policy add \
	dir out src 0.0.0.0/0 dst 0.0.0.0/0 proto icmp priority 5 bypass
out_a "the rest list's p5 first" "out:5:0.0.0.0/0>0.0.0.0/0+1" pass
check "del the p5 and the /25 p20" nf b -b - <<EOF
policy del dir out src 0.0.0.0/0 dst 0.0.0.0/0 proto icmp priority 5
policy del dir out src any dst 10.0.0.0/25 priority 20
EOF
out_a "from .12: /16 p30 takes over" "out:30:0.0.0.0/0>10.0.0.0/16+1" drop \
	-I 10.0.0.12
check "out: dst /16 p50 bypass, then dst /24 p50 discard" spd "
policy add dir out src any dst 10.0.0.0/16 priority 50 bypass
policy add dir out src any dst 10.0.0.0/24 priority 50 discard"
out_a "equal priority: the older /16" "out:50:0.0.0.0/0>10.0.0.0/16+1" pass
check "/16 p50 deleted and added again: now the younger" nf b -b - <<EOF
policy del dir out src any dst 10.0.0.0/16 priority 50
policy add dir out src any dst 10.0.0.0/16 priority 50 bypass
EOF
out_a "equal priority: the older /24" "out:50:0.0.0.0/0>10.0.0.0/24+1" drop

log "policy update keeps the place"
check "out: /32 p100 bypass, then /24 p100 discard" spd "
policy add dir out src any dst 10.0.0.1/32 priority 100 bypass
policy add dir out src any dst 10.0.0.0/24 priority 100 discard"
order=$(nf b -j policy list | jq_py '[p["index"] for p in d]')
out_a "the older host" "out:100:0.0.0.0/0>10.0.0.1/32+1" pass
check "update /32 p100: discard" nf b policy update dir out src any \
	dst 10.0.0.1/32 priority 100 discard
out_a "updated host still before the subnet" "out:100:0.0.0.0/0>10.0.0.1/32+1" drop
check "update /32 p100: bypass" nf b policy update dir out src any \
	dst 10.0.0.1/32 priority 100 bypass
out_a "updated again, still first" "out:100:0.0.0.0/0>10.0.0.1/32+1" pass
expect_eq "its counter carried over the updates: 3" 3 \
	"$(nf b -j policy list | jq_py '[p["matches"] for p in d if p["dst"] == "10.0.0.1/32"][0]')"
expect_eq "same indexes, same order" "$order" \
	"$(nf b -j policy list | jq_py '[p["index"] for p in d]')"
# A policy's counter is a per-CPU set from its namespace's pool, given
# back zeroed a grace period after the policy goes; the one added here
# may get the deleted one's set or another: it counts from zero either way.
check "del /32 p100 (3 matches); after a grace period, add it again" \
	nf b policy del dir out src any dst 10.0.0.1/32 priority 100
sleep 1
check "add /32 p100 bypass again" nf b policy add dir out src any \
	dst 10.0.0.1/32 priority 100 bypass
expect_eq "the new /32 counts from zero" 0 \
	"$(nf b -j policy list | jq_py '[p["matches"] for p in d if p["dst"] == "10.0.0.1/32"][0]')"
out_a "the new /32 is newer than the /24 of its priority: the /24 first" \
	"out:100:0.0.0.0/0>10.0.0.0/24+1" drop
check "out: subnets, /24 p100 bypass then /16 p100 discard" spd "
policy add dir out src any dst 10.0.0.0/24 priority 100 bypass
policy add dir out src any dst 10.0.0.0/16 priority 100 discard
policy add dir out src any dst 10.0.0.0/8 priority 100 bypass"
out_a "the older /24" "out:100:0.0.0.0/0>10.0.0.0/24+1" pass
check "update /24 p100: discard" nf b policy update dir out src any \
	dst 10.0.0.0/24 priority 100 discard
out_a "updated /24 still first" "out:100:0.0.0.0/0>10.0.0.0/24+1" drop
check "update /16 p100: bypass; del /24" nf b -b - <<EOF
policy update dir out src any dst 10.0.0.0/16 priority 100 bypass
policy del dir out src any dst 10.0.0.0/24 priority 100
EOF
out_a "updated /16 before /8" "out:100:0.0.0.0/0>10.0.0.0/16+1" pass

log "IPv6: /128 against /64"
check "out: /64 p100 bypass, /128 p200 discard" spd "
policy add dir out src any dst 2001:db8::/64 priority 100 bypass
policy add dir out src any dst 2001:db8::1/128 priority 200 discard"
probe "v6: /64 p100 before /128 p200" "out:100:::/0>2001:db8::/64+1" pass \
	b 2001:db8::1
check "out: /128 p50 discard" nf b policy add dir out src any \
	dst 2001:db8::1/128 priority 50 discard
probe "v6: /128 p50 before /64 p100" "out:50:::/0>2001:db8::1/128+1" drop \
	b 2001:db8::1
check "out: src /128 p50 bypass (younger), /64 p50 discard (younger)" \
	nf b -b - <<EOF
policy add dir out src 2001:db8::2/128 dst 2001:db8::/64 priority 50 bypass
policy add dir out src any dst 2001:db8::/64 priority 50 discard
EOF
probe "v6: equal priorities across dst /128, src /128, dst /64: the oldest" \
	"out:50:::/0>2001:db8::1/128+1" drop b 2001:db8::1
check "del dst /128 p50" nf b policy del dir out src any \
	dst 2001:db8::1/128 priority 50
probe "v6: then the src /128" "out:50:2001:db8::2/128>2001:db8::/64+1" pass \
	b 2001:db8::1

log "dir in"
check "in: subnet p100 bypass, host-to-host p200 discard" spd "
policy add dir in src 10.0.0.0/24 dst 10.0.0.0/24 priority 100 bypass
policy add dir in src 10.0.0.1 dst 10.0.0.2 priority 200 discard"
probe "in: subnet p100 before host p200" "in:100:10.0.0.0/24>10.0.0.0/24+1" \
	pass a 10.0.0.2
check "in: src-host p50 discard" nf b policy add dir in src 10.0.0.1 \
	dst 10.0.0.0/24 priority 50 discard
probe "in: src-host p50 first" "in:50:10.0.0.1/32>10.0.0.0/24+1" drop a 10.0.0.2
check "in: dst-host p50 bypass (younger)" nf b policy add dir in \
	src 10.0.0.0/24 dst 10.0.0.2 priority 50 bypass
probe "in: equal priority, the older src-host" \
	"in:50:10.0.0.1/32>10.0.0.0/24+1" drop a 10.0.0.2
check "in: del src-host p50" nf b policy del dir in src 10.0.0.1 \
	dst 10.0.0.0/24 priority 50
probe "in: dst-host p50 takes over" "in:50:10.0.0.0/24>10.0.0.2/32+1" pass \
	a 10.0.0.2

log "dir fwd"
check "fwd: dst-host p100 discard, src-host p50 bypass" spd "
policy add dir fwd src 10.0.0.0/24 dst 10.0.1.3 priority 100 discard
policy add dir fwd src 10.0.0.1 dst 10.0.1.0/24 priority 50 bypass
policy add dir fwd src 10.0.0.0/24 dst 10.0.1.0/24 priority 70 discard"
probe "fwd: src-host p50 first" "fwd:50:10.0.0.1/32>10.0.1.0/24+1" pass \
	a 10.0.1.3
check "fwd: del src-host p50" nf b policy del dir fwd src 10.0.0.1 \
	dst 10.0.1.0/24 priority 50
probe "fwd: subnet p70 before dst-host p100" \
	"fwd:70:10.0.0.0/24>10.0.1.0/24+1" drop a 10.0.1.3
check "fwd: del subnet p70" nf b policy del dir fwd src 10.0.0.0/24 \
	dst 10.0.1.0/24 priority 70
probe "fwd: dst-host p100" "fwd:100:10.0.0.0/24>10.0.1.3/32+1" drop a 10.0.1.3

check "policy flush" nf b policy flush
expect_eq "policy_count 0" 0 "$(ns_stat b policy_count)"
expect_eq "no drops but discards" "" \
	"$(nf b -j stats | jq_py 'nonzero({k: v for k, v in d.items() if k not in ("sa_count", "policy_count", "larval_count", "discard")})')"

t_end
