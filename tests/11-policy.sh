#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 11-policy.sh: the policy table (SPD) through the nfsec tool, no traffic.
#
# Covers policy add / list / del (by index and by selector) / flush; the
# order of `policy list` (priority, then insertion, per direction); protect
# naming an SA by spi with the SA's dst defaulting to a host selector's dst
# and its proto to esp, bypass, discard; proto / sport / dport round trip;
# dir in/out/fwd; IPv6 prefixes and `any`; stats policy_count; duplicates
# refused with "policy already exists"; and fail closed: deleting or
# flushing the SAs leaves the policies that name them in place. Then
# reqid: on SAs (JSON), protect policies by reqid (with mode, dst, proto,
# and with no SA of the reqid yet) beside one by spi; showconf fed back in
# gives the same tables; policy update between spi, reqid, discard and
# bypass keeps index, order and count, and a refused one changes nothing.
#
# No topology: namespaces A and B hold state only, no links.

. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"

ns_enter policy A B			# the rest runs in namespace A

# pol_find DIR DST [NS [EXPR [WANT]]]: the one policy of DIR whose dst
# prefix is DST, or EXPR of it (python: p = the policy, w = the JSON WANT).
# One jq_py: jq_py must not run twice in one pipeline.
pol_find() {
	nf "${3:-A}" -j policy list | jq_py '(lambda A: (lambda m:
		eval(A[2], {"p": m[0], "w": json.loads(A[3]), "json": json})
		if len(m) == 1
		else "<%d policies of dir %s with dst %s>" % (len(m), A[0], A[1]))(
		[p for p in d if p["dir"] == A[0] and p["dst"] == A[1]]))(a.split("\x1f"))' \
		"$1"$'\x1f'"$2"$'\x1f'"${4:-p}"$'\x1f'"${5:-null}"
}

# expect_pol DESC WANT DIR DST: that policy has WANT's fields ("<absent>"
# asserts a field is absent).
expect_pol() {
	expect_eq "$1" "$(canon "$2")" "$(pol_find "$3" "$4" A \
		'{k: p.get(k, "<absent>") for k in w}' "$2")"
}

pol_count() { ns_stat "${1:-A}" policy_count; }
pol_len() { nf "${1:-A}" -j policy list | jq_py 'len(d)'; }
# pol_order DIR [NS]: "priority:dst" of DIR's policies, in list order
pol_order() {
	nf "${2:-A}" -j policy list |
		jq_py "' '.join('%d:%s' % (p['priority'], p['dst']) for p in d if p['dir'] == '$1')"
}
pol_index() { pol_find "$1" "$2" "${3:-A}" 'p["index"]'; }
snapshot() { nf "${1:-A}" -j policy list | jq_py d; }
# snap_len DESC SNAP N: the snapshot SNAP is a list of exactly N policies
# (so that "nothing changed" cannot pass on two failed dumps)
snap_len() {
	expect_eq "$1: the snapshot holds $3 policies" "$3" \
		"$(jq_py 'len(d) if isinstance(d, list) else "<not a list: %.200r>" % (d,)' <<<"$2")"
}

K=$(printf '%040x' 1)			# 20 bytes, aes-gcm-128
gcm() { echo aead aes-gcm-128 key "$K"; }

log "the SAs the policies name"
# shellcheck disable=SC2046 # gcm's words are meant to split
{
	check "SA out 10.0.0.2 esp 0x1000" nf A sa add dir out src 10.0.0.1 \
		dst 10.0.0.2 spi 0x1000 proto esp mode tunnel $(gcm)
	check "SA out 10.0.0.2 ah 0x1001" nf A sa add dir out src 10.0.0.1 \
		dst 10.0.0.2 spi 0x1001 proto ah mode tunnel \
		auth hmac-sha1-96 key "$(printf '%040x' 2)"
	check "SA in 10.0.0.1 esp 0x2000" nf A sa add dir in src 10.0.0.2 \
		dst 10.0.0.1 spi 0x2000 proto esp mode tunnel $(gcm)
	check "SA out 2001:db8::2 esp 0x3000" nf A sa add dir out \
		src 2001:db8::1 dst 2001:db8::2 spi 0x3000 proto esp \
		mode tunnel $(gcm)
}
expect_eq "fresh namespace: policy list is []" "[]" "$(snapshot)"
expect_eq "fresh namespace: policy_count 0" 0 "$(pol_count)"

log "protect, bypass, discard; every field"
check "out protect 192.168.1.0/24 > 192.168.2.0/24 spi 0x1000 dst 10.0.0.2" \
	nf A policy add dir out src 192.168.1.0/24 dst 192.168.2.0/24 \
	protect spi 0x1000 dst 10.0.0.2
expect_pol "out protect: every field, defaults as documented" '{
	"dir": "out", "family": "inet", "src": "192.168.1.0/24",
	"dst": "192.168.2.0/24", "proto": 0, "sport": 0, "dport": 0,
	"priority": 1000, "action": "protect", "matches": 0,
	"sa": {"spi": 4096, "dst": "10.0.0.2", "proto": "esp"}}' \
	out 192.168.2.0/24
expect_eq "index is a positive integer" True \
	"$(pol_find out 192.168.2.0/24 A 'str(type(p["index"]) is int and p["index"] > 0)')"
check "out protect host 10.0.0.1 > 10.0.0.2, SA dst left out" \
	nf A policy add dir out src 10.0.0.1 dst 10.0.0.2 protect spi 0x1000
expect_pol "host selector: /32, SA dst defaults to the selector's dst" '{
	"src": "10.0.0.1/32", "dst": "10.0.0.2/32", "action": "protect",
	"sa": {"spi": 4096, "dst": "10.0.0.2", "proto": "esp"}}' out 10.0.0.2/32
check "out protect tcp 10.0.0.1 > 10.0.0.2/31 ... protect spi 0x1001 dst 10.0.0.2 proto ah" \
	nf A policy add dir out src 10.0.0.1 dst 10.0.0.2/31 proto tcp \
	protect spi 0x1001 dst 10.0.0.2 proto ah
expect_eq "tcp selector naming the AH SA: proto 6, sa proto ah" \
	'{"proto": 6, "sa": {"dst": "10.0.0.2", "proto": "ah", "spi": 4097}}' \
	"$(pol_find out 10.0.0.2/31 A '{"proto": p["proto"], "sa": p["sa"]}')"
check "in protect 192.168.2.0/24 > 192.168.1.0/24 spi 0x2000" \
	nf A policy add dir in src 192.168.2.0/24 dst 192.168.1.0/24 \
	protect spi 0x2000 dst 10.0.0.1
expect_pol "in protect" '{"dir": "in", "action": "protect",
	"src": "192.168.2.0/24",
	"sa": {"spi": 8192, "dst": "10.0.0.1", "proto": "esp"}}' in 192.168.1.0/24
check "fwd protect 192.168.2.0/24 > 192.168.3.0/24 spi 0x2000 (an in SA)" \
	nf A policy add dir fwd src 192.168.2.0/24 dst 192.168.3.0/24 \
	protect spi 0x2000 dst 10.0.0.1
expect_pol "fwd protect" '{"dir": "fwd", "action": "protect",
	"sa": {"spi": 8192, "dst": "10.0.0.1", "proto": "esp"}}' fwd 192.168.3.0/24
check "out bypass" nf A policy add dir out src 192.168.1.0/24 \
	dst 192.168.9.0/24 bypass
expect_pol "bypass: no sa" '{"action": "bypass", "sa": "<absent>",
	"priority": 1000}' out 192.168.9.0/24
check "in discard from any" nf A policy add dir in src any dst 192.168.8.0/24 \
	discard
expect_pol "discard: no sa, any is 0.0.0.0/0" '{"action": "discard",
	"sa": "<absent>", "src": "0.0.0.0/0", "family": "inet"}' in 192.168.8.0/24
check "fwd bypass to any" nf A policy add dir fwd src 172.16.0.0/12 dst any \
	priority 3 bypass
expect_pol "dst any is 0.0.0.0/0" '{"src": "172.16.0.0/12",
	"priority": 3}' fwd 0.0.0.0/0

log "proto, sport, dport"
i=0
for t in 'tcp 6 sport 1234 dport 80' 'udp 17 dport 53' 'sctp 132 sport 0x50' \
	'udplite 136 sport 65535 dport 1' 'icmp 1' '47 47' 'tcp 6'; do
	read -r pname pnum ports <<<"$t"
	read -ra pargs <<<"$ports"
	i=$((i + 1))
	sport=0 dport=0
	[[ $ports =~ sport\ ([0-9x]+) ]] && sport=$((BASH_REMATCH[1]))
	[[ $ports =~ dport\ ([0-9x]+) ]] && dport=$((BASH_REMATCH[1]))
	check "out bypass proto $pname $ports" nf A policy add dir out \
		src 10.2.0.0/16 dst "10.3.$i.0/24" proto "$pname" "${pargs[@]}" bypass
	expect_pol "proto $pname $ports round trip" \
		"{\"proto\": $pnum, \"sport\": $sport, \"dport\": $dport}" \
		out "10.3.$i.0/24"
done

log "IPv6: prefixes, any, a v6 SA"
n_before=$(pol_len)
check "out protect v6 prefix" nf A policy add dir out src 2001:db8:1::/48 \
	dst 2001:db8:2::/64 protect spi 0x3000 dst 2001:db8::2
expect_pol "out protect v6: every field" '{
	"dir": "out", "family": "inet6", "src": "2001:db8:1::/48",
	"dst": "2001:db8:2::/64", "proto": 0, "action": "protect",
	"sa": {"spi": 12288, "dst": "2001:db8::2", "proto": "esp"}}' \
	out 2001:db8:2::/64
expect_fail "in protect v6 naming a missing SA" "policy names an SA that does not exist" \
	nf A policy add dir in src any dst 2001:db8:1:ff00::/56 proto ipv6-icmp \
	protect spi 0x4000 dst 2001:db8::1
check "out discard v6 to ::/0" nf A policy add dir out src 2001:db8:1::/48 \
	dst ::/0 discard
check "fwd bypass v6, prefix written long" nf A policy add dir fwd \
	src 2001:0DB8:00AA::/64 dst ::/0 bypass
expect_pol "fwd bypass v6: prefixes in RFC 5952 form" '{
	"family": "inet6", "src": "2001:db8:aa::/64", "dst": "::/0",
	"action": "bypass"}' fwd ::/0
expect_eq "three v6 policies added" $((n_before + 3)) "$(pol_len)"

log "count"
n_pol=$(pol_len)
expect_eq "policy_count = entries of policy list ($n_pol)" "$n_pol" "$(pol_count)"
expect_eq "indexes are distinct" "$n_pol" \
	"$(nf A -j policy list | jq_py 'len({p["index"] for p in d})')"
expect_eq "within each direction, priorities never decrease" True \
	"$(nf A -j policy list | jq_py 'str(all(d[i]["priority"] <= d[i + 1]["priority"] for i in range(len(d) - 1) if d[i]["dir"] == d[i + 1]["dir"]))')"

log "order: priority, then insertion, per direction (namespace B)"
add_b() {	# add_b DIR DST [priority N]
	check "B: $1 bypass to $2 ${*:3}" nf B policy add dir "$1" \
		src 10.0.0.0/8 dst "$2" "${@:3}" bypass
}
add_b out 10.1.1.0/24 priority 500
add_b out 10.1.2.0/24 priority 100
add_b in 10.1.1.0/24 priority 100
add_b out 10.1.3.0/24
add_b out 10.1.4.0/24 priority 100
add_b in 10.1.2.0/24 priority 5
add_b out 10.1.5.0/24 priority 2000
add_b out 10.1.6.0/24 priority 0
add_b out 10.1.7.0/24 priority 4294967295
add_b out 10.1.8.0/24 priority 100
expect_eq "out order" "0:10.1.6.0/24 100:10.1.2.0/24 100:10.1.4.0/24 100:10.1.8.0/24 500:10.1.1.0/24 1000:10.1.3.0/24 2000:10.1.5.0/24 4294967295:10.1.7.0/24" \
	"$(pol_order out B)"
expect_eq "in order" "5:10.1.2.0/24 100:10.1.1.0/24" "$(pol_order in B)"
check "B: del 10.1.2.0/24 by selector" nf B policy del dir out src 10.0.0.0/8 \
	dst 10.1.2.0/24 priority 100
add_b out 10.1.2.0/24 priority 100
expect_eq "re-added policy goes after its equal-priority peers" \
	"0:10.1.6.0/24 100:10.1.4.0/24 100:10.1.8.0/24 100:10.1.2.0/24 500:10.1.1.0/24 1000:10.1.3.0/24 2000:10.1.5.0/24 4294967295:10.1.7.0/24" \
	"$(pol_order out B)"

log "del by index"
idx=$(pol_index out 10.1.5.0/24 B)
before=$(pol_len B)
check "B: del index $idx (10.1.5.0/24)" nf B policy del index "$idx"
expect_eq "policy 10.1.5.0/24 gone, the others in order" \
	"0:10.1.6.0/24 100:10.1.4.0/24 100:10.1.8.0/24 100:10.1.2.0/24 500:10.1.1.0/24 1000:10.1.3.0/24 4294967295:10.1.7.0/24" \
	"$(pol_order out B)"
expect_eq "policy_count $((before - 1))" "$((before - 1))" "$(pol_count B)"
snap=$(snapshot B)
snap_len "B after the del by index" "$snap" 9
expect_fail "del index $idx again: no such policy" "no such policy.*No such file" \
	nf B policy del index "$idx"
expect_fail "del index 0x7fffffff: no such policy" "no such policy" \
	nf B policy del index 0x7fffffff
expect_eq "failed dels change nothing" "$snap" "$(snapshot B)"
expect_eq "A's policies untouched by B's" "$n_pol" "$(pol_count)"

log "del by selector"
expect_fail "selector without its priority 500 (means 1000): no such policy" \
	"no such policy" nf B policy del dir out src 10.0.0.0/8 dst 10.1.1.0/24
expect_fail "selector in the wrong direction: no such policy" \
	"no such policy" nf B policy del dir fwd src 10.0.0.0/8 dst 10.1.1.0/24 \
	priority 500
expect_fail "selector with another src: no such policy" "no such policy" \
	nf B policy del dir out src 10.0.0.0/9 dst 10.1.1.0/24 priority 500
expect_eq "failed selector dels change nothing" "$snap" "$(snapshot B)"
check "del dir out src 10.0.0.0/8 dst 10.1.1.0/24 priority 500" \
	nf B policy del dir out src 10.0.0.0/8 dst 10.1.1.0/24 priority 500
check "del of the default-priority one without priority" \
	nf B policy del dir out src 10.0.0.0/8 dst 10.1.3.0/24
expect_eq "both gone" \
	"0:10.1.6.0/24 100:10.1.4.0/24 100:10.1.8.0/24 100:10.1.2.0/24 4294967295:10.1.7.0/24" \
	"$(pol_order out B)"
check "B: add tcp dport 443 priority 7" nf B policy add dir out src any \
	dst 10.1.9.0/24 proto tcp dport 443 priority 7 bypass
snap=$(snapshot B)
snap_len "B with the tcp dport 443 policy" "$snap" 8
expect_fail "selector without proto/port (means any): no such policy" \
	"no such policy" nf B policy del dir out src any dst 10.1.9.0/24 priority 7
expect_fail "selector with another dport: no such policy" "no such policy" \
	nf B policy del dir out src any dst 10.1.9.0/24 proto tcp dport 444 \
	priority 7
expect_eq "nothing changed" "$snap" "$(snapshot B)"
check "del with proto tcp dport 443 priority 7" nf B policy del dir out \
	src any dst 10.1.9.0/24 proto tcp dport 443 priority 7
expect_eq "10.1.9.0/24 gone" "" \
	"$(nf B -j policy list | jq_py "' '.join(p['dst'] for p in d if p['dst'] == '10.1.9.0/24')")"

log "duplicates"
add_b out 10.1.10.0/24
snap=$(snapshot B)
snap_len "B before the duplicates" "$snap" 8
expect_fail "same dir, selector and priority: policy already exists" \
	"policy already exists.*File exists" \
	nf B policy add dir out src 10.0.0.0/8 dst 10.1.4.0/24 priority 100 bypass
expect_fail "same, with another action: policy already exists" \
	"policy already exists" \
	nf B policy add dir out src 10.0.0.0/8 dst 10.1.4.0/24 priority 100 discard
expect_fail "default priority given explicitly (1000 = 1000)" \
	"policy already exists" \
	nf B policy add dir out src 10.0.0.0/8 dst 10.1.10.0/24 priority 1000 \
	bypass
expect_eq "refused duplicates change nothing" "$snap" "$(snapshot B)"
n_b=$(pol_len B)
check "same selector, other priority: accepted" nf B policy add dir out \
	src 10.0.0.0/8 dst 10.1.4.0/24 priority 101 bypass
check "same selector and priority, other dir: accepted" nf B policy add \
	dir in src 10.0.0.0/8 dst 10.1.4.0/24 priority 100 bypass
check "same selector and priority, other dport: accepted" nf B policy add \
	dir out src 10.0.0.0/8 dst 10.1.4.0/24 proto tcp dport 1 priority 100 \
	bypass
expect_eq "three more policies" "$((n_b + 3))" "$(pol_count B)"

# Hashed policies (one host at either end, IPv4 and IPv6) share their
# host's key: a duplicate among them is found by its whole selector.
log "duplicates among policies of one host"
n_b=$(pol_count B)
check "dst host 10.1.20.1, src 10.0.0.0/8" nf B policy add dir out \
	src 10.0.0.0/8 dst 10.1.20.1 priority 100 bypass
check "dst host 10.1.20.1, src 10.2.0.0/16: accepted" nf B policy add \
	dir out src 10.2.0.0/16 dst 10.1.20.1 priority 100 bypass
check "src host 10.1.21.1, dst 10.3.0.0/16" nf B policy add dir out \
	src 10.1.21.1 dst 10.3.0.0/16 priority 100 discard
check "dst host 2001:db8:20::1, src 2001:db8::/32" nf B policy add dir out \
	src 2001:db8::/32 dst 2001:db8:20::1 priority 100 bypass
snap=$(snapshot B)
snap_len "B before the duplicates" "$snap" "$((n_b + 4))"
expect_fail "dst host: the same again" "policy already exists" \
	nf B policy add dir out src 10.0.0.0/8 dst 10.1.20.1/32 priority 100 discard
expect_fail "dst host: the second again" "policy already exists" \
	nf B policy add dir out src 10.2.0.0/16 dst 10.1.20.1 priority 100 bypass
expect_fail "src host: the same again" "policy already exists" \
	nf B policy add dir out src 10.1.21.1 dst 10.3.0.0/16 priority 100 bypass
expect_fail "IPv6 dst host: the same again" "policy already exists" \
	nf B policy add dir out src 2001:db8::/32 dst 2001:db8:20::1/128 \
	priority 100 discard
expect_eq "refused duplicates of hashed policies change nothing" "$snap" \
	"$(snapshot B)"
check "update the first by selector: discard" nf B policy update dir out \
	src 10.0.0.0/8 dst 10.1.20.1 priority 100 discard
expect_fail "the updated one again" "policy already exists" \
	nf B policy add dir out src 10.0.0.0/8 dst 10.1.20.1 priority 100 bypass
check "del the updated one by selector" nf B policy del dir out \
	src 10.0.0.0/8 dst 10.1.20.1 priority 100
expect_eq "its host's other policy left" "10.2.0.0/16 bypass" \
	"$(nf B -j policy list | jq_py "' '.join(p['src'] + ' ' + p['action'] for p in d if p['dst'] == '10.1.20.1/32')")"
check "and it can be added again" nf B policy add dir out \
	src 10.0.0.0/8 dst 10.1.20.1 priority 100 bypass
expect_eq "four more policies" "$((n_b + 4))" "$(pol_count B)"

log "fail closed: SA delete and flush leave the policies"
snap=$(snapshot)
snap_len "A before the SA delete" "$snap" "$n_pol"
check "sa del 10.0.0.2 esp 0x1000 (named by two policies)" nf A sa del \
	dst 10.0.0.2 spi 0x1000 proto esp
expect_eq "policies unchanged after sa del" "$snap" "$(snapshot)"
expect_eq "policy_count unchanged after sa del" "$n_pol" "$(pol_count)"
check "sa flush" nf A sa flush
expect_eq "sa_count 0" 0 "$(ns_stat A sa_count)"
expect_eq "policies unchanged after sa flush" "$snap" "$(snapshot)"
expect_eq "policy_count unchanged after sa flush" "$n_pol" "$(pol_count)"

log "policy flush"
check "B: an SA" nf B sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x1000 \
	proto esp mode tunnel aead aes-gcm-128 key "$K"
sas_b=$(ns_stat B sa_count)
check "policy flush (B)" nf B policy flush
expect_eq "B: policy list []" "[]" "$(snapshot B)"
expect_eq "B: policy_count 0" 0 "$(pol_count B)"
expect_eq "B: SAs untouched by policy flush" "$sas_b" \
	"$(ns_stat B sa_count)"
expect_eq "A untouched by B's flush" "$n_pol" "$(pol_count)"
check "policy flush (A)" nf A policy flush
expect_eq "A: policy_count 0" 0 "$(pol_count)"
check "policy flush of an empty table" nf A policy flush

log "reqid: SAs that carry one, policies that name their SAs by it"
# shellcheck disable=SC2046 # gcm's words are meant to split
{
	check "SA out 10.0.0.2 esp 0x5001 reqid 5" nf A sa add dir out \
		src 10.0.0.1 dst 10.0.0.2 spi 0x5001 proto esp mode tunnel \
		$(gcm) reqid 5
	check "SA in 10.0.0.1 esp 0x5002 reqid 5" nf A sa add dir in \
		src 10.0.0.2 dst 10.0.0.1 spi 0x5002 proto esp mode tunnel \
		$(gcm) reqid 5
	check "SA out 10.0.0.2 esp 0x5003, no reqid" nf A sa add dir out \
		src 10.0.0.1 dst 10.0.0.2 spi 0x5003 proto esp mode tunnel $(gcm)
}
expect_eq "sa JSON: reqid 5, and 0 for none" "5 5 0" \
	"$(nf A -j sa list | jq_py "' '.join(str(s['reqid']) for s in sorted(d, key=lambda s: s['spi']))")"
check "out protect reqid 5" nf A policy add dir out src 192.168.1.0/24 \
	dst 192.168.2.0/24 protect reqid 5
expect_pol "by reqid: the reqid and proto, no spi, no dst" '{
	"action": "protect", "sa": {"reqid": 5, "proto": "esp"}}' \
	out 192.168.2.0/24
check "in protect reqid 5 mode tunnel dst 10.0.0.1" nf A policy add dir in \
	src 192.168.2.0/24 dst 192.168.1.0/24 protect reqid 5 mode tunnel \
	dst 10.0.0.1
expect_pol "by reqid with mode and dst" '{"action": "protect",
	"sa": {"reqid": 5, "mode": "tunnel", "dst": "10.0.0.1",
	"proto": "esp"}}' in 192.168.1.0/24
check "fwd protect reqid 9 proto ah: no SA of the reqid needed" nf A \
	policy add dir fwd src 192.168.2.0/24 dst 192.168.3.0/24 \
	protect reqid 9 proto ah
expect_pol "by reqid, no SA yet" '{"sa": {"reqid": 9, "proto": "ah"}}' \
	fwd 192.168.3.0/24
check "out protect host 10.0.0.1 > 10.0.0.2 by spi, beside them" nf A \
	policy add dir out src 10.0.0.1 dst 10.0.0.2 protect spi 0x5003
expect_pol "by spi as before" '{"sa": {"spi": 20483, "dst": "10.0.0.2",
	"proto": "esp"}}' out 10.0.0.2/32

log "showconf round trip with reqids"
conf=$(nf A showconf)
[[ $conf == *"spi 0x00005001 proto esp mode tunnel"*"reqid 5"* &&
   $conf == *"protect reqid 5 mode tunnel dst 10.0.0.1"* &&
   $conf == *"protect reqid 9 proto ah"* ]]
expect_eq "showconf writes the SAs' reqids and the policies' reqids" 0 "$?"
snap=$(snapshot)
snap_len "A with the reqid policies" "$snap" 4
check "flush both tables" nf A -b - <<<$'policy flush\nsa flush'
check "showconf fed back in (nfsec -b)" nf A -b - <<<"$conf"
expect_eq "showconf again: the same" "$conf" "$(nf A showconf)"
expect_eq "policy list: the same but the indexes" \
	"$(jq_py '[{k: v for k, v in p.items() if k != "index"} for p in d]' <<<"$snap")" \
	"$(nf A -j policy list | jq_py '[{k: v for k, v in p.items() if k != "index"} for p in d]')"

log "policy update: action and SA reference in place"
order=$(pol_order out)
idx=$(pol_index out 192.168.2.0/24)
check "update out 192.168.2.0/24: reqid 5 -> spi 0x5003" nf A policy update \
	dir out src 192.168.1.0/24 dst 192.168.2.0/24 protect spi 0x5003 \
	dst 10.0.0.2
expect_pol "by spi now" '{"action": "protect", "sa": {"spi": 20483,
	"dst": "10.0.0.2", "proto": "esp"}}' out 192.168.2.0/24
expect_eq "same index" "$idx" "$(pol_index out 192.168.2.0/24)"
check "update: -> discard" nf A policy update dir out src 192.168.1.0/24 \
	dst 192.168.2.0/24 discard
expect_pol "discard now, no sa" '{"action": "discard", "sa": "<absent>"}' \
	out 192.168.2.0/24
check "update: -> bypass" nf A policy update dir out src 192.168.1.0/24 \
	dst 192.168.2.0/24 bypass
check "update: -> protect reqid 5 mode tunnel" nf A policy update dir out \
	src 192.168.1.0/24 dst 192.168.2.0/24 protect reqid 5 mode tunnel
expect_pol "by reqid again" '{"action": "protect", "sa": {"reqid": 5,
	"mode": "tunnel", "proto": "esp"}}' out 192.168.2.0/24
expect_eq "same index after four updates" "$idx" "$(pol_index out 192.168.2.0/24)"
expect_eq "same order" "$order" "$(pol_order out)"
expect_eq "policy_count unchanged (4)" 4 "$(pol_count)"
check "update in by reqid: -> by spi 0x5002" nf A policy update dir in \
	src 192.168.2.0/24 dst 192.168.1.0/24 protect spi 0x5002 dst 10.0.0.1
expect_pol "in by spi" '{"sa": {"spi": 20482, "dst": "10.0.0.1",
	"proto": "esp"}}' in 192.168.1.0/24
snap=$(snapshot)
expect_fail "update of a policy that does not exist (other priority)" \
	"no such policy.*No such file" nf A policy update dir out \
	src 192.168.1.0/24 dst 192.168.2.0/24 priority 7 discard
expect_fail "update naming a missing SA" "policy names an SA that does not exist" \
	nf A policy update dir in src 192.168.2.0/24 dst 192.168.1.0/24 \
	protect spi 0x5999 dst 10.0.0.1
expect_eq "refused updates change nothing" "$snap" "$(snapshot)"
# shellcheck disable=SC2046 # gcm's words are meant to split
check "sa update of 0x5001 to reqid 6" nf A sa update dir out src 10.0.0.1 \
	dst 10.0.0.2 spi 0x5001 proto esp mode tunnel $(gcm) reqid 6
expect_eq "sa update changes the reqid" 6 "$(sa_field A 0x5001 reqid)"
check "policy and SA flush" nf A -b - <<<$'policy flush\nsa flush'

t_end
