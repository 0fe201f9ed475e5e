#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 15-scale.sh: tables of thousands of SAs, through batch files and dumps.
#
# - A batch file of 10,000 `sa add` lines (enc null + hmac-sha256-128, the
#   cheapest algorithms, distinct SPIs and destinations, in and out) and 100
#   protect policies loads with one `nfsec -b`; stats says 10000 / 100 and
#   the dump returns them all.
# - rmmod with those present succeeds (the harness fails the run on any
#   kernel warning, such as a kmem_cache destroyed with objects left), and
#   the reloaded module starts empty.
# - 50,000 SAs: `nfsec -j sa list` (a dump over many netlink messages)
#   returns exactly the 50,000 SPIs added, each once; `sa flush` empties the
#   table.
# - 10,000 host policies (/32 dst or, for half of them, /32 src: the SPD's
#   hashes), one of them a discard for the very flow A pings B with at a
#   worse priority, the bypass policy that carries the traffic, behind the
#   other 9,999 in order (10,001), and a /24 discard behind all (the rest
#   list): the pings pass, their policy's counter moves by the pings sent
#   and no other (a flood of 1,000 is timed: a walk of the list would step
#   over 9,999 policies a packet); the dump returns all 10,002; deleting
#   them one by one by selector (one batch) empties the SPD.
# - 10,001 OUT policies by reqid, then an SA of each reqid (each add binds
#   the one policy of its reqid, found by reqid, not by a walk): a ping
#   that the last policy matches leaves through the last SA.
# Timings go to the log (they are figures, not limits).
#
#   +-------------------+       +-------------------+
#   | ns A              |       | ns B              |
#   | veth0 10.9.0.1/24 |-------| veth1 10.9.0.2/24 |
#   +-------------------+       +-------------------+
#
# The link serves the last part only; before it A holds state only.

. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"

ns_enter scale A B		# the rest runs in namespace A

dump_to() { nf A -j sa list >"$1"; }	# dump_to FILE: sa list -j into FILE
pol_dump_to() { nf A -j policy list >"$1"; }	# the same for policy list

# timed DESC CMD...: check CMD, logging how long it took
timed() {
	local t0=$EPOCHREALTIME desc=$1 rc
	shift
	check "$desc" "$@"
	rc=$?
	log "$desc: $(elapsed "$t0")"
	return $rc
}

KEY=$(printf '%064x' 0x5eed)	# 32 bytes, hmac-sha256-128
FIRST=4096			# the SPI of SA 0

# gen_sas N: N `sa add` lines; SA i has SPI FIRST+i, dst 10.a.b.c from i,
# dir out for even i and in for odd i
gen_sas() {
	awk -v n="$1" -v first="$FIRST" -v key="$KEY" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "sa add dir %s src 172.16.0.1 dst 10.%d.%d.%d spi %d proto esp mode transport enc null auth hmac-sha256-128 key %s\n",
				i % 2 ? "in" : "out", int(i / 65536) % 256,
				int(i / 256) % 256, i % 256, first + i, key
	}'
}

# gen_policies N: N out protect policies, host selectors naming SA 2j
gen_policies() {
	awk -v n="$1" -v first="$FIRST" 'BEGIN {
		for (j = 0; j < n; j++) {
			i = 2 * j
			printf "policy add dir out src 172.16.0.1 dst 10.%d.%d.%d proto udp dport %d protect spi %d\n",
				int(i / 65536) % 256, int(i / 256) % 256, i % 256,
				1000 + j, first + i
		}
	}'
}

batch=/tmp/nfsec-scale.$$
dump=/tmp/nfsec-scale-dump.$$

log "10,000 SAs and 100 policies"
{
	echo "# 15-scale.sh: 10000 SAs, 100 policies"
	gen_sas 10000
	gen_policies 100
} >"$batch"
expect_eq "batch file lines" 10101 "$(wc -l <"$batch")"
timed "nfsec -b: 10000 SAs + 100 policies" nf A -b "$batch"
expect_eq "[sa_count, policy_count]" "[10000, 100]" "$(ns_counts A)"
timed "sa list -j of 10000" dump_to "$dump"
expect_eq "dump: 10000 SAs, 10000 distinct SPIs, the ones added" \
	"10000 10000 True" \
	"$(jq_py '"%d %d %s" % (len(d), len({s["spi"] for s in d}), {s["spi"] for s in d} == set(range('"$FIRST"', '"$FIRST"' + 10000)))' <"$dump")"
expect_eq "dump: 5000 in, 5000 out" '{"in": 5000, "out": 5000}' \
	"$(jq_py '{k: sum(s["dir"] == k for s in d) for k in ("in", "out")}' <"$dump")"
expect_eq "SA 9999 as generated" \
	'["in", "10.0.39.15", 14095, "ecb(cipher_null)", "hmac(sha256)", 128]' \
	"$(nf A -j sa get dst 10.0.39.15 spi 14095 proto esp |
		jq_py '[d["dir"], d["dst"], d["spi"], d["enc"]["name"], d["auth"]["name"], d["auth"]["trunc_bits"]]')"
expect_eq "policy list: 100, ports 1000..1099 in order" "100 True" \
	"$(nf A -j policy list | jq_py '"%d %s" % (len(d), [p["dport"] for p in d] == list(range(1000, 1100)))')"

log "rmmod with 10,000 SAs present"
t0=$EPOCHREALTIME
if module_unload; then
	ok "rmmod nfsec with 10000 SAs and 100 policies"
else
	not_ok "rmmod nfsec with 10000 SAs and 100 policies"
fi
log "rmmod: $(elapsed "$t0")"
expect_eq "module gone" no "$([ -d /sys/module/nfsec ] && echo yes || echo no)"
module_load
expect_eq "reloaded: [0, 0]" "[0, 0]" "$(ns_counts A)"

log "50,000 SAs"
gen_sas 50000 >"$batch"
timed "nfsec -b: 50000 SAs" nf A -b "$batch"
expect_eq "sa_count 50000" "[50000, 0]" "$(ns_counts A)"
timed "sa list -j of 50000" dump_to "$dump"
log "dump: $(wc -c <"$dump") bytes of JSON"
expect_eq "dump: 50000 SAs, 50000 distinct SPIs, exactly the ones added" \
	"50000 50000 True" \
	"$(jq_py '"%d %d %s" % (len(d), len({s["spi"] for s in d}), {s["spi"] for s in d} == set(range('"$FIRST"', '"$FIRST"' + 50000)))' <"$dump")"
expect_eq "dump: each (dst, spi) as generated" True \
	"$(jq_py 'str(all(s["dst"] == "10.%d.%d.%d" % ((s["spi"] - '"$FIRST"') >> 16 & 255, (s["spi"] - '"$FIRST"') >> 8 & 255, (s["spi"] - '"$FIRST"') & 255) for s in d))' <"$dump")"
t0=$EPOCHREALTIME
check "sa get of the last SA" nf A sa get dst 10.0.195.79 spi $((FIRST + 49999)) proto esp
log "sa get in a table of 50000: $(elapsed "$t0")"
timed "sa flush of 50000" nf A sa flush
expect_eq "sa_count 0 after flush" "[0, 0]" "$(ns_counts A)"
expect_eq "sa list after flush" "[]" "$(nf A -j sa list | jq_py d)"

# gen_hosts VERB N: N out policies of host selectors, priority 100,
# bypass (VERB add) or the lines that delete them (VERB del): for i from
# 1 to N - 1, even ones to dst host 10.100.x.y (the dst hash), odd ones
# from src host 10.101.x.y (the src hash); then a discard of A's ping to B
# at priority 1500 (in the dst hash beside the traffic's bypass) and a /24
# discard (the rest list)
gen_hosts() {
	awk -v verb="$1" -v n="$2" 'BEGIN {
		act = verb == "add" ? " bypass" : ""
		for (i = 1; i < n; i++)
			if (i % 2)
				printf "policy %s dir out src 10.101.%d.%d dst 10.9.0.0/24 priority 100%s\n",
					verb, int(i / 256) % 256, i % 256, act
			else
				printf "policy %s dir out src 10.9.0.1 dst 10.100.%d.%d priority 100%s\n",
					verb, int(i / 256) % 256, i % 256, act
		printf "policy %s dir out src 10.9.0.1 dst 10.9.0.2 priority 1500%s\n",
			verb, verb == "add" ? " discard" : ""
		printf "policy %s dir out src any dst 10.9.0.0/24 priority 2000%s\n",
			verb, verb == "add" ? " discard" : ""
	}'
}

log "10,000 host policies and the one that carries the traffic"
link A veth0 10.9.0.1/24 B veth1 10.9.0.2/24
gen_hosts add 10000 >"$batch"
timed "nfsec -b: 9999 host policies and 2 discards" nf A -b "$batch"
timed "the traffic's policy, priority 500, behind the 9999" \
	nf A policy add dir out src 10.9.0.1 dst 10.9.0.2 priority 500 bypass
expect_eq "[sa_count, policy_count]" "[0, 10002]" "$(ns_counts A)"
t0=$EPOCHREALTIME
check "ping B three times" ping -q -c 3 -i 0.2 -W 2 10.9.0.2
log "3 pings through an SPD of 10002: $(elapsed "$t0")"
t0=$EPOCHREALTIME
on A ping -q -f -c 1000 -w 60 10.9.0.2 >/dev/null 2>&1 || true
log "1000 pings (flood), the traffic's policy behind 9999 others: $(elapsed "$t0")"
timed "policy list -j of 10002" pol_dump_to "$dump"
expect_eq "dump: 10002 policies, 10002 distinct indexes" "10002 10002" \
	"$(jq_py '"%d %d" % (len(d), len({p["index"] for p in d}))' <"$dump")"
expect_eq "dump: in order, priority 100 (9999), the traffic's 500, 1500, 2000" \
	"[100, 500, 1500, 2000] True" \
	"$(jq_py '"%s %s" % (sorted({p["priority"] for p in d}), d[9999]["dst"] == "10.9.0.2/32" and d[9999]["priority"] == 500 and [p["priority"] for p in d] == sorted(p["priority"] for p in d))' <"$dump")"
expect_eq "matches: 1003 on the traffic's policy, 0 on the 10001 others" \
	"1003 0" \
	"$(jq_py '"%d %d" % (d[9999]["matches"], sum(p["matches"] for p in d) - d[9999]["matches"])' <"$dump")"
{
	gen_hosts del 10000
	echo "policy del dir out src 10.9.0.1 dst 10.9.0.2 priority 500"
} >"$batch"
timed "nfsec -b: delete the 10002 one by one, by selector" nf A -b "$batch"
expect_eq "[sa_count, policy_count] after the deletes" "[0, 0]" "$(ns_counts A)"
expect_eq "policy list after the deletes" "[]" "$(nf A -j policy list | jq_py d)"

log "10,001 policies by reqid, then an SA of each reqid"
awk 'BEGIN {
	for (i = 1; i <= 10000; i++)
		printf "policy add dir out src 10.9.0.1 dst 10.102.%d.%d protect reqid %d\n",
			int(i / 256) % 256, i % 256, i
	print "policy add dir out src 10.9.0.1 dst 10.9.0.2 protect reqid 10001"
}' >"$batch"
timed "nfsec -b: 10001 policies by reqid" nf A -b "$batch"
awk -v first="$FIRST" -v key="$KEY" 'BEGIN {
	for (i = 1; i <= 10001; i++)
		printf "sa add dir out src 10.9.0.1 dst 10.9.0.2 spi %d proto esp mode tunnel enc null auth hmac-sha256-128 key %s reqid %d\n",
			first + i, key, i
}' >"$batch"
timed "nfsec -b: 10001 SAs, each binding the policy of its reqid" \
	nf A -b "$batch"
expect_eq "[sa_count, policy_count]" "[10001, 10001]" "$(ns_counts A)"
on A ping -q -c 1 -W 1 10.9.0.2 >/dev/null 2>&1 || true
expect_eq "the ping left through the SA of reqid 10001" "1 1 0" \
	"$(nf A -j sa list | jq_py '"%d %d %d" % (len([s for s in d if s["stats"]["packets"]]), [s["stats"]["packets"] for s in d if s["reqid"] == 10001][0], sum(s["stats"]["packets"] for s in d if s["reqid"] != 10001))')"
expect_eq "no drop for want of an SA" "" "$(ns_stats A)"
timed "sa flush of 10001 (every policy unbound)" nf A sa flush
timed "policy flush of 10001" nf A policy flush
expect_eq "[sa_count, policy_count] after the flushes" "[0, 0]" \
	"$(ns_counts A)"
rm -f "$batch" "$dump"

t_end
