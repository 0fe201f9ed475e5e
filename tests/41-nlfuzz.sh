#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 41-nlfuzz.sh: random generic netlink requests (tests/nl_fuzz.py) from
# root, from an unprivileged user, and from that user's own user and
# network namespace.
#
#   +---------------------------+   +-------------------------+
#   | ns T (state to protect)   |   | ns X (scratch)          |
#   | 3 SAs, 2 policies, SPIs   |   | (a) root: 20000 random  |
#   | and addresses from the    |   |     requests            |
#   | fuzzer's own pools        |   +-------------------------+
#   | (b1) uid 65534, no caps:  |   +-------------------------+
#   |      5000 requests        |   | unshare -Urn from T     |
#   +---------------------------+   | (b2) uid 65534 as root  |
#                                   |      of its own userns: |
#                                   |      10000 requests     |
#                                   +-------------------------+
#   No links: the state under test is the SAD and SPD of each namespace.
#
# (a) as root in X: every request is answered or legitimately silent (a
#     lying nlmsg_len), some adds are accepted, and afterwards X's SA and
#     policy dumps agree with its STATS_GET counts.
# (b1) `setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all`
#     in T: every message is answered as nl_fuzz.py's model says, i.e.
#     EPERM for every nfsec command; what genetlink refuses before the
#     permission check (an unknown command: EOPNOTSUPP; a short genetlink
#     header, a reserved field or nlmsg_flags it does not allow: EINVAL)
#     and netlink's plain ack of a message without NLM_F_REQUEST are the
#     only other answers; no command is acked.
# (b2) the same user inside `unshare -Urn`, where GENL_UNS_ADMIN_PERM lets
#     it act on its own namespace: its adds are accepted, its dumps agree
#     with its counts, and nothing leaks out.
# After each phase T's SAs (with keys) and policies, and X's, are exactly
# as before (anchored: T holds 3 SAs and 2 policies, so an empty dump
# cannot pass). Finally the tool adds, gets and deletes an SA in T. The
# harness checks the kernel log for splats; X is deleted holding what (a)
# left in it.
#
# NFSEC_FUZZ_SEED=N replays a run (phases use N, N + 1 and N + 2).
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter nlfuzz T X			# the rest runs in namespace T

seed=${NFSEC_FUZZ_SEED:-$((RANDOM << 15 | RANDOM))}
log "seed $seed (NFSEC_FUZZ_SEED=$seed replays this run)"
FUZZ=(/usr/bin/python3 -B "$TESTS_DIR/nl_fuzz.py")
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)

# The SPIs (256-258) and addresses are ones the fuzzer draws, and its
# flushes would take everything: were a refusal missing, T would change.
check "T: 3 SAs and 2 policies" nf T -b - <<EOF
sa add dir in src 10.0.0.1 dst 10.0.0.2 spi 256 proto esp mode tunnel aead aes-gcm-128 key $KEY1
sa add dir out src 10.0.0.2 dst 10.0.0.1 spi 257 proto esp mode transport enc aes-cbc-128 key $(printf '%032x' 7) auth hmac-sha256-128 key $(printf '%064x' 8)
sa add dir in src 10.0.0.1 dst 10.0.0.2 spi 258 proto esp mode transport aead aes-gcm-128 key $KEY2 replay-window 64
policy add dir out src 10.0.0.2 dst 10.0.0.1 protect spi 257
policy add dir in src 192.168.1.0/24 dst 192.168.2.0/24 protect spi 256 dst 10.0.0.2
EOF

# state NS: its SAs with keys, then its policies (JSON, one line each)
state() {
	nf "$1" -j --show-keys sa list
	nf "$1" -j policy list
}
T0=$(state T)
expect_eq "T: 3 SAs, 2 policies" "3 2" \
	"$(nf T -j sa list | jq_py 'len(d)') $(nf T -j policy list | jq_py 'len(d)')"

# fuzz DESC NS-CMD... -- ARGS: run nl_fuzz.py, its output into F[]
declare -A F
fuzz() {
	local desc=$1 rc=0 out key val t0 us
	shift
	t0=$EPOCHREALTIME
	out=$("$@" 2>&1) || rc=$?
	us=$((${EPOCHREALTIME/./} - ${t0/./}))
	F=()
	while read -r key val; do
		[ -n "$key" ] && [ -z "${F[$key]+x}" ] && F[$key]=$val
	done <<<"$out"
	log "$desc: exit $rc after $((us / 1000000)) s; ${F[requests]:-?} requests in ${F[sends]:-?} sends, ${F[time]:-?} s"
	log "  answers: ${F[answers]:-}"
	log "  accepted: ${F[accepted]:-}; other types acked: ${F[other_acked]:-}"
	if [ "$rc" -ne 0 ] || [ -z "${F[mismatches]:-}" ]; then
		not_ok "$desc: nl_fuzz.py ran" "$out"
		return 0
	fi
	ok "$desc: nl_fuzz.py ran ${F[requests]} requests"
	[ "${F[mismatches]}" = 0 ] || _detail "$(printf '%s\n' "$out" | grep '^mismatch' || true)"
}

# unchanged DESC: T and X as they were
unchanged() {
	expect_eq "$1: T's SAs (with keys) and policies unchanged" "$T0" "$(state T)" || true
	expect_eq "$1: X's SAs (with keys) and policies unchanged" "$X0" "$(state X)" || true
}

log "(a) root in X"
fuzz "(a) root in X" on X "${FUZZ[@]}" --seed "$seed" --count 20000 --check
[[ ${F[accepted]:-} == *SA_ADD=* && ${F[accepted]:-} == *POLICY_ADD=* ]] &&
	ok "(a) some SA and policy adds were accepted" ||
	not_ok "(a) some SA and policy adds were accepted" "accepted: ${F[accepted]:-}"
[[ ${F[consistent]:-} =~ ^sa\ ([0-9]+)/([0-9]+)\ policy\ ([0-9]+)/([0-9]+)$ ]] &&
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] &&
	[ "${BASH_REMATCH[3]}" = "${BASH_REMATCH[4]}" ] &&
	ok "(a) X's dumps agree with its counts: ${F[consistent]}" ||
	not_ok "(a) X's dumps agree with its counts" "${F[consistent]:-<none>}"
expect_eq "(a) T's SAs (with keys) and policies unchanged" "$T0" "$(state T)" || true
# (a)'s SPI reservations (larval entries) go by themselves, within a second
# or an hour: deleted here, so that what (b1) and (b2) must leave alone
# stands still. (One may expire between the list and its del: again.)
larval_dels() {
	nf X -j sa list | jq_py '"\n".join("sa del dst %s spi %d proto %s" % (s["dst"], s["spi"], s["proto"]) for s in d if s["state"] == "larval")'
}
for _ in 1 2 3 4 5; do
	dels=$(larval_dels)
	[ -n "$dels" ] || break
	nf X -b - <<<"$dels" >/dev/null 2>&1 || true
done
expect_eq "X: (a)'s SPI reservations deleted" "" "$(larval_dels)" || true
X0=$(state X)
log "X after (a): [sa_count, policy_count] $(ns_counts X)"

log "(b1) uid 65534 without capabilities in T"
fuzz "(b1) unprivileged in T" on T "${NOBODY[@]}" "${FUZZ[@]}" \
	--seed $((seed + 1)) --count 5000 --model eperm
expect_eq "(b1) every answer as the model says (EPERM for every nfsec command)" \
	0 "${F[mismatches]:-<none>}" || true
expect_eq "(b1) no command acked" "-" "${F[accepted]:-<none>}" || true
((${F[unmodelled]:-1000000} * 100 <= ${F[requests]:-0})) &&
	ok "(b1) the model judged at least 99% of the sends (${F[unmodelled]} left out: a header read from attribute bytes, of another family)" ||
	not_ok "(b1) the model judged at least 99% of the sends" "unmodelled ${F[unmodelled]:-?} of ${F[requests]:-?}"
[[ ${F[answers]:-} =~ (^| )EPERM=([0-9]+) ]] && ((BASH_REMATCH[2] >= 2500)) &&
	ok "(b1) EPERM for at least half of the requests (${BASH_REMATCH[2]})" ||
	not_ok "(b1) EPERM for at least half of the requests" "answers: ${F[answers]:-}"
unchanged "(b1)"

log "(b2) uid 65534 as root of its own user and network namespace"
if ! on T "${NOBODY[@]}" unshare -Urn true 2>/dev/null; then
	skip "(b2) in its own user namespace" "unprivileged user namespaces are off"
else
	fuzz "(b2) unprivileged, own userns" on T "${NOBODY[@]}" unshare -Urn \
		"${FUZZ[@]}" --seed $((seed + 2)) --count 10000 --check
	[[ ${F[accepted]:-} == *SA_ADD=* ]] &&
		ok "(b2) GENL_UNS_ADMIN_PERM: its SA adds were accepted there" ||
		not_ok "(b2) GENL_UNS_ADMIN_PERM: its SA adds were accepted there" \
			"accepted: ${F[accepted]:-}"
	[[ ${F[consistent]:-} =~ ^sa\ ([0-9]+)/([0-9]+)\ policy\ ([0-9]+)/([0-9]+)$ ]] &&
		[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] &&
		[ "${BASH_REMATCH[3]}" = "${BASH_REMATCH[4]}" ] &&
		ok "(b2) its dumps agree with its counts: ${F[consistent]}" ||
		not_ok "(b2) its dumps agree with its counts" "${F[consistent]:-<none>}"
	unchanged "(b2)"
fi

log "the module still works"
check "tool: sa add in T" nf T sa add dir out src 10.0.0.1 dst 10.0.0.3 \
	spi 0x6002 proto esp mode tunnel aead aes-gcm-128 key "$KEY3"
expect_eq "tool: sa get" 24578 \
	"$(nf T -j sa get dst 10.0.0.3 spi 0x6002 proto esp | jq_py 'd["spi"]')" || true
check "tool: sa del" nf T sa del dst 10.0.0.3 spi 0x6002 proto esp
expect_eq "T as at the start" "$T0" "$(state T)" || true

t_end
