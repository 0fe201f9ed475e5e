#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 13-netlink.sh: malformed generic netlink requests, sent raw by
# tests/nl_raw.py (python3 stdlib only), past the nfsec tool's own checks.
#
# First the base messages nl_raw.py mutates are shown to be right: its valid
# SA_ADD (also with its ENCAP nest) and POLICY_ADD are accepted and read
# back through the tool field by field. Then every case of `nl_raw.py
# list` (wrong attribute lengths and types, values out of range, unknown
# attributes at every level, a non-nest where a nest belongs, algorithm
# names without NUL or too long, an over-long key, each required attribute
# missing, commands with no top-level nest at all, bad policies, ESP in
# UDP where it does not belong or out of range) must be refused with the
# errno and the extack message its entry in nl_raw.py's table names,
# exactly. Afterwards the SA and policy tables are exactly as before (and
# the state compared is a real dump: 3 SAs, 1 policy), and the module
# still works: the tool adds, gets and deletes an SA.
#
# No topology: namespace A holds state only.

. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"

ns_enter netlink A			# the rest runs in namespace A

# raw ARGS...: `nl_raw.py ARGS...`, served by one `nl_raw.py serve` (in A,
# like this shell) for the whole script: its output, and its exit status.
coproc_start RAW python3 "$TESTS_DIR/nl_raw.py" serve
raw() {
	local out='' rc=''
	printf '%s\0' "$@" >&"$RAW_TO"
	printf '\0' >&"$RAW_TO"
	IFS= read -r -d '' -u "$RAW_FROM" out
	IFS= read -r -d '' -u "$RAW_FROM" rc
	printf '%s' "$out"
	return "${rc:-2}"
}

# state: SAs with keys (identity order), policies, counts; one batch of
# reads, one jq_py
state() {
	"$NFSEC" -j --show-keys -b - <<<$'sa list\npolicy list\nstats' 2>&1 |
		jq_py '"\n".join([
			json.dumps(sorted(docs[0], key=lambda s: (s["dst"], s["spi"], s["proto"])), sort_keys=True),
			json.dumps(docs[1], sort_keys=True),
			json.dumps([len(docs[0]), len(docs[1]), docs[2]["sa_count"], docs[2]["policy_count"]])])'
}

log "nl_raw.py itself"
check "nl_raw.py selftest (offline encoder and ack parser)" raw selftest
fid=$(raw family)
expect_eq "family nfsec resolves to a dynamic id (>= 0x10)" True \
	"$([[ $fid =~ ^[0-9]+$ ]] && ((fid >= 16)) && echo True || echo "False ($fid)")"

log "the base messages are valid"
check "raw SA_ADD (base message), spi 0x6000" raw valid sa 0x6000
expect_eq "raw SA read back through the tool" "$(canon '{
	"dir": "out", "family": "inet", "src": "10.0.0.1", "dst": "10.0.0.2",
	"spi": 24576, "proto": "esp", "mode": "tunnel",
	"aead": {"name": "rfc4106(gcm(aes))", "icv_bits": 128,
		 "key": "0x0102030405060708090a0b0c0d0e0f1011121314"}}')" \
	"$(nf A -j --show-keys sa get dst 10.0.0.2 spi 0x6000 proto esp |
		jq_py '{k: d.get(k) for k in ("dir", "family", "src", "dst", "spi", "proto", "mode", "aead")}')"
check "raw POLICY_ADD (base message)" raw valid policy
expect_eq "raw policy read back through the tool" "$(canon '{
	"dir": "out", "family": "inet", "src": "192.168.1.0/24",
	"dst": "192.168.2.0/24", "proto": 0, "sport": 0, "dport": 0,
	"priority": 4242, "action": "bypass"}')" \
	"$(nf A -j policy list | jq_py '[{k: p.get(k) for k in ("dir", "family", "src", "dst", "proto", "sport", "dport", "priority", "action")} for p in d if p["priority"] == 4242][0]')"
check "raw SA_ADD with the base ENCAP nest, spi 0x6004" raw valid encap 0x6004
expect_eq "raw ENCAP read back through the tool (the peer: dst and dport)" \
	"$(canon '{"type": "udp", "sport": 4500, "dport": 4500,
		   "follow": false, "keepalive": 0, "peer": "10.0.0.2",
		   "peer_port": 4500}')" \
	"$(nf A -j sa get dst 10.0.0.2 spi 0x6004 proto esp | jq_py 'd.get("encap")')"
check "an SA added by the tool, to be left alone too" nf A sa add dir in \
	src 10.0.0.2 dst 10.0.0.1 spi 0x6001 proto esp mode transport \
	enc aes-cbc-128 key "$(printf '%032x' 7)" \
	auth hmac-sha256-128 key "$(printf '%064x' 8)"
before=$(state)
# (two failed dumps would compare equal: the state must be the real one)
expect_eq "state before: 3 SAs and 1 policy, in the lists and the counts" \
	"[3, 1, 3, 1]" "${before##*$'\n'}"

log "malformed requests"
cases=()
while read -r c _; do
	cases+=("$c")
done <<<"$(raw list)"
expect_eq "nl_raw.py lists its 82 cases" 82 "${#cases[@]}"
# one request for all cases; one line each: "NAME: errno=.. msg=.. VERDICT"
out=$(raw case "${cases[@]}" 2>&1)
rc=$?
log "nl_raw.py case (${#cases[@]} cases): exit $rc"
declare -A line=()
while IFS= read -r l; do
	[[ $l =~ ^([a-z0-9_]+):\  ]] && line[${BASH_REMATCH[1]}]=$l
done <<<"$out"
[ "$rc" -ne 2 ] || not_ok "nl_raw.py reaches the nfsec family" "$out"
[ "$rc" -eq 2 ] || for c in "${cases[@]}"; do
	l=${line[$c]:-}
	if [[ $l == *": refused [sent: "* ]]; then
		ok "$l"
	else
		not_ok "$c: refused with an errno and an extack message" \
			"${l:-no answer for $c; nl_raw.py said:}" \
			"$([ -n "$l" ] || echo "$out")"
	fi
done

log "afterwards"
after=$(state)
expect_eq "SA and policy tables exactly as before" "$before" "$after"
if [ "$before" != "$after" ]; then
	diff <(echo "$before") <(echo "$after") | head -20
fi
expect_eq "no SA with a case's SPI (0x7000..0x70ff)" "[]" \
	"$(nf A -j sa list | jq_py '[s["spi"] for s in d if 0x7000 <= s["spi"] < 0x7100]')"

log "the module still works"
check "tool: sa add" nf A sa add dir out src 10.0.0.1 dst 10.0.0.3 \
	spi 0x6002 proto esp mode tunnel aead aes-gcm-128 key "$(printf '%040x' 9)"
expect_eq "tool: sa get" 24578 \
	"$(nf A -j sa get dst 10.0.0.3 spi 0x6002 proto esp | jq_py 'd["spi"]')"
check "raw: SA_ADD spi 0x6003" raw valid sa 0x6003
expect_fail "raw: the same SA_ADD again: SA already exists" "SA already exists" \
	raw valid sa 0x6003
check "tool: sa del" nf A sa del dst 10.0.0.3 spi 0x6002 proto esp
check "tool: sa del (raw one)" nf A sa del dst 10.0.0.2 spi 0x6003 proto esp
expect_eq "back to the state before" "$before" "$(state)"
check "tool: sa flush" nf A sa flush
check "tool: policy flush" nf A policy flush
expect_eq "empty" '[0, 0]' "$(ns_counts A)"

t_end
