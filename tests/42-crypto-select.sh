#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 42-crypto-select.sh: the crypto driver choice (drivers.c). The module is
# loaded afresh, so nothing is measured until the first SA that needs an
# algorithm; then every candidate is timed once, the kernel log lists
# them ("nfsec: crypto ALG: DRIVER RATE[, default][, chosen]"), the crypto
# API's own choice first, and the SA takes the fastest by driver name.
#
#   +---------------------+          +---------------------+
#   | ns a (nfsec)        |----------| ns b (XFRM)         |
#   | veth0 10.0.0.1/24   |          | veth1 10.0.0.2/24   |
#   +---------------------+          +---------------------+
#
# Asserted, from the kernel log, /proc/crypto's reference counts and
# /sys/module/nfsec/parameters/crypto_choice:
#  - an SA added by nobody in a user namespace of their own (unshare
#    -Urn) measures nothing: the choice holds for the host
#  - nothing measured before the first SA; rfc4106(gcm(aes)) measured at
#    the first aes-gcm-128 SA: two candidates at least, the default first,
#    exactly one chosen and its rate the highest, both drivers that
#    /proc/crypto lists under that name; crypto_choice says the same
#  - the SA holds the chosen driver (its reference count rose); a second
#    SA measures nothing again and holds it too
#  - crypto_select=0: a new SA holds the crypto API's default, the one
#    measured first (measuring changed nobody's default), not the chosen
#  - ESP with aes-cbc-128 and hmac-sha256-128: authenc (and with ESN
#    authencesn) made of the two drivers chosen for cbc(aes) and
#    hmac(sha256); with null encryption, authenc of the chosen HMAC and
#    ecb-cipher_null (a driver name beside an algorithm's would name no
#    instance, and every SA would build one); AH hmac-sha256-128: the
#    chosen HMAC
#  - the chosen drivers on the wire: nfsec against XFRM, aes-gcm-128 and
#    aes-cbc-128+hmac-sha256-128 in transport mode, 3 pings each way,
#    exact packet counters on both sides
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
# a fresh module: no choice made yet (the outer run; ns_enter loads it)
[ -n "${NS_INSIDE:-}" ] || module_unload || true
ns_enter crypto-select a b

P=/sys/module/nfsec/parameters
link a veth0 10.0.0.1/24 b veth1 10.0.0.2/24
expect_eq "fresh module: nothing measured" "" "$(cat $P/crypto_choice)"
check "crypto_select defaults to on" grep -qx Y $P/crypto_select

MARK="nfsec-42-$$"
echo "$MARK" >/dev/kmsg
# lines ALG: this test's kernel log lines about ALG, "DRIVER RATE FLAGS"
lines() {
	dmesg | sed -n "/$MARK/,\$p" |
		sed -n "s/.*nfsec: crypto $1: //p"	# (BRE: the parentheses literal)
}
# refs: "name driver refcnt" of every algorithm in /proc/crypto
refs() { awk '/^name/ {n=$3} /^driver/ {d=$3} /^refcnt/ {print n, d, $3}' /proc/crypto; }
# ref DRIVER: its reference count (0 if /proc/crypto lacks it)
ref() { refs | awk -v d="$1" '$2 == d {r = $3} END {print r + 0}'; }
# drivers_of NAME: the drivers /proc/crypto lists for algorithm NAME
drivers_of() { refs | awk -v n="$1" '$1 == n {print $2}'; }

# verify ALG: the measurement of ALG in the log; sets CHOSEN and DEFAULT
verify() {
	local alg=$1 out
	out=$(lines "$alg")
	log "$alg: $(tr '\n' ';' <<<"$out")"
	CHOSEN=$(awk '/, chosen/ {print $1}' <<<"$out")
	DEFAULT=$(awk 'NR == 1 && /, default/ {print $1}' <<<"$out")
	expect_eq "$alg: two candidates or more" yes \
		"$( [ "$(wc -l <<<"$out")" -ge 2 ] && echo yes || echo "$out")"
	expect_eq "$alg: the default first, only there" 1 \
		"$(grep -c ', default' <<<"$out")$( [ -n "$DEFAULT" ] || echo ' not first')"
	expect_eq "$alg: exactly one chosen" 1 "$(grep -c ', chosen' <<<"$out")"
	# (a candidate measured and freed may have left /proc/crypto since:
	# registering the next one can remove an instance nothing holds)
	expect_eq "$alg: the chosen and the default are drivers of $alg" "" \
		"$(printf '%s\n' "$CHOSEN" "$DEFAULT" |
			awk -v known="$(drivers_of "$alg" | tr '\n' ' ')" \
			'index(" " known, " " $1 " ") == 0 {print $1 " unknown"}')"
	expect_eq "$alg: the chosen one the fastest" \
		"$(awk '{print $2}' <<<"$out" | sort -g | tail -1)" \
		"$(awk '/, chosen/ {print $2}' <<<"$out")"
	expect_eq "$alg: crypto_choice" "$alg: $CHOSEN $(awk '/, chosen/ {print $2, $3}' <<<"$out" | tr -d ,); default $DEFAULT $(awk 'NR == 1 {print $2, $3}' <<<"$out" | tr -d ,)" \
		"$(grep -F "$alg: " $P/crypto_choice)"
}

gcm() { echo "proto esp mode transport aead aes-gcm-128 key $KEY1"; }
cbc() { echo "proto esp mode transport enc aes-cbc-128 key 0x000102030405060708090a0b0c0d0e0f auth hmac-sha256-128 key ${KEY1}0102030405060708090a0b0c"; }

# --- not for a user in a namespace of their own -------------------------
check "nobody, in a user and network namespace of their own, adds an aes-gcm-128 SA" \
	as_nobody_userns "$NFSEC" sa add dir out src 10.0.0.1 dst 10.0.0.2 \
	spi 0x199 $(gcm)
expect_eq "nobody's SA measured nothing (crypto_choice)" "" "$(cat $P/crypto_choice)"
expect_eq "nobody's SA measured nothing (the log)" "" "$(lines "rfc4106(gcm(aes))")"

# --- the first SA measures ---------------------------------------------
before=$(refs)
check "first aes-gcm-128 SA" nf a sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x100 $(gcm)
verify "rfc4106(gcm(aes))"
GCM=$CHOSEN GCM_DEFAULT=$DEFAULT
log "chosen $GCM, default $GCM_DEFAULT"
expect_eq "the SA holds $GCM" yes \
	"$( [ "$(ref "$GCM")" -gt "$(awk -v d="$GCM" '$2 == d {r = $3} END {print r + 0}' <<<"$before")" ] && echo yes || echo no)"

n0=$(lines "rfc4106(gcm(aes))" | wc -l)
r0=$(ref "$GCM")
check "second aes-gcm-128 SA" nf a sa add dir in src 10.0.0.2 dst 10.0.0.1 spi 0x101 $(gcm)
expect_eq "measured once" "$n0" "$(lines "rfc4106(gcm(aes))" | wc -l)"
expect_eq "the second SA holds $GCM" yes \
	"$( [ "$(ref "$GCM")" -gt "$r0" ] && echo yes || echo no)"

# --- crypto_select=0: the crypto API's default, still -------------------------
# (measuring must not have changed the crypto API's pick for the name,
# which is XFRM's: no candidate ties the default's priority)
alg_refs() { refs | awk -v n="$1" '$1 == n {print $2, $3}'; }
b0=$(alg_refs "rfc4106(gcm(aes))") r0=$(ref "$GCM")
echo 0 >$P/crypto_select
check "aes-gcm-128 SA with crypto_select=0" nf a sa add dir out src 10.0.0.1 dst 10.0.0.3 spi 0x102 $(gcm)
echo 1 >$P/crypto_select
rose=$(alg_refs "rfc4106(gcm(aes))" | awk -v before="$b0" '
	BEGIN { n = split(before, w, /[ \n]/); for (i = 1; i < n; i += 2) r[w[i]] = w[i + 1] }
	$2 > r[$1] + 0 {print $1}')
expect_eq "crypto_select=0: the SA holds the default, $GCM_DEFAULT, alone" \
	"$GCM_DEFAULT" "$rose"
check "no warning that measuring changed a default" \
	bash -c "! dmesg | sed -n '/$MARK/,\$p' | grep 'crypto API.s choice for the name'"
if [ "$GCM" != "$GCM_DEFAULT" ]; then
	expect_eq "crypto_select=0: the chosen $GCM not taken" "$r0" "$(ref "$GCM")"
else
	log "the default is the fastest here: crypto_select=0 changes nothing"
fi
check "delete it" nf a sa del dst 10.0.0.3 spi 0x102 proto esp

# --- authenc, authencesn and AH: the chosen parts ---------------------------
check "aes-cbc-128+hmac-sha256-128 SA" nf a sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x200 $(cbc)
verify "cbc(aes)"
CBC=$CHOSEN
verify "hmac(sha256)"
HMAC=$CHOSEN
expect_eq "authenc of the chosen parts, held" yes \
	"$( [ "$(ref "authenc($HMAC,$CBC)")" -gt 0 ] && echo yes || echo no)"
check "the same with ESN" nf a sa add dir out src 10.0.0.1 dst 10.0.0.4 spi 0x201 $(cbc) esn
expect_eq "authencesn of the chosen parts, held" yes \
	"$( [ "$(ref "authencesn($HMAC,$CBC)")" -gt 0 ] && echo yes || echo no)"
check "delete it" nf a sa del dst 10.0.0.4 spi 0x201 proto esp
# null encryption: its driver name (ecb-cipher_null) beside the HMAC's,
# so that the authenc named is the one instance there is
check "null+hmac-sha256-128 SA" nf a sa add dir out src 10.0.0.1 dst 10.0.0.6 spi 0x203 proto esp mode transport enc null auth hmac-sha256-128 key "${KEY1}0102030405060708090a0b0c"
expect_eq "ecb(cipher_null): its one driver chosen" "ecb-cipher_null" \
	"$(lines "ecb(cipher_null)" | awk '/, chosen/ {print $1}')"
expect_eq "authenc of the chosen HMAC and ecb-cipher_null, held" yes \
	"$( [ "$(ref "authenc($HMAC,ecb-cipher_null)")" -gt 0 ] && echo yes || echo no)"
check "delete it" nf a sa del dst 10.0.0.6 spi 0x203 proto esp
r0=$(ref "$HMAC")
check "AH hmac-sha256-128 SA" nf a sa add dir out src 10.0.0.1 dst 10.0.0.5 spi 0x300 proto ah mode transport auth hmac-sha256-128 key "${KEY1}0102030405060708090a0b0c"
expect_eq "AH holds $HMAC" yes \
	"$( [ "$(ref "$HMAC")" -gt "$r0" ] && echo yes || echo no)"
check "delete it" nf a sa del dst 10.0.0.5 spi 0x300 proto ah

# --- on the wire, against XFRM ------------------------------------------------
check "cbc SA back" nf a sa add dir in src 10.0.0.2 dst 10.0.0.1 spi 0x202 $(cbc)
GCM_X="aead rfc4106(gcm(aes)) $KEY1 128"
CBC_X="enc cbc(aes) 0x000102030405060708090a0b0c0d0e0f auth-trunc hmac(sha256) ${KEY1}0102030405060708090a0b0c 128"
check "b: XFRM policies" ipb b <<EOF
xfrm policy add src 10.0.0.2 dst 10.0.0.1 dir out tmpl src 10.0.0.2 dst 10.0.0.1 proto esp mode transport
xfrm policy add src 10.0.0.1 dst 10.0.0.2 dir in tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode transport
EOF
# xfrm_packets SRC DST SPI: packets of b's XFRM state
xfrm_packets() {
	on b ip -s xfrm state get src "$1" dst "$2" proto esp spi "$3" |
		sed -nE 's/^[[:space:]]+[0-9]+\(bytes\), ([0-9]+)\(packets\).*/\1/p'
}
# wire OUT IN XFRM_ALG KIND: a's policies use SAs OUT and IN, b's XFRM
# states (and no others) the same keys; 3 pings a->b and 3 b->a; exact
# counters on both sides
wire() {
	local out=$1 in=$2 alg=$3 kind=$4
	check "$kind: XFRM states" ipb b <<-EOF
		xfrm state flush
		xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi $out mode transport $alg
		xfrm state add src 10.0.0.2 dst 10.0.0.1 proto esp spi $in mode transport $alg
	EOF
	check "$kind: a's policies" nf a -b - <<-EOF
		policy flush
		policy add dir out src 10.0.0.1 dst 10.0.0.2 protect spi $out dst 10.0.0.2 proto esp
		policy add dir in src 10.0.0.2 dst 10.0.0.1 protect spi $in dst 10.0.0.1 proto esp
	EOF
	check "$kind: a pings b" on a ping -c 3 -i 0.2 -W 2 10.0.0.2
	check "$kind: b pings a" on b ping -c 3 -i 0.2 -W 2 10.0.0.1
	expect_eq "$kind: nfsec sent 6" 6 "$(sa_field a "$out" stats.packets)"
	expect_eq "$kind: nfsec opened 6" 6 "$(sa_field a "$in" stats.packets)"
	expect_eq "$kind: XFRM opened 6" 6 "$(xfrm_packets 10.0.0.1 10.0.0.2 "$out")"
	expect_eq "$kind: XFRM sent 6" 6 "$(xfrm_packets 10.0.0.2 10.0.0.1 "$in")"
	expect_eq "$kind: no drops in a" "" "$(ns_stats a)"
}
wire 0x100 0x101 "$GCM_X" "aes-gcm-128 by $GCM"
wire 0x200 0x202 "$CBC_X" "aes-cbc-128+hmac-sha256-128 by $CBC, $HMAC"

t_end
