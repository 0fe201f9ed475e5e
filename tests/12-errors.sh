#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 12-errors.sh: every bad input is refused with its message, and nothing
# changes.
#
# For each case the SA table (keys included), the policy table and the
# stats counts are compared before and after, and the output must match
# "nfsec: ..." with the documented message: the kernel's extack text and
# errno name, or the tool's "invalid WHAT: "TOKEN"" / key length message.
# Covers: duplicate SA, unknown algorithms, wrong key lengths (kernel names:
# kernel message; aliases: tool message), ICV and truncation lengths not
# allowed, replay window above 4096, ESN without a window (ESN on AH is
# accepted),
# reserved SPIs, bad prefixes (too long: tool; host bits: kernel), policies
# naming a missing or unfit SA, an spi and a reqid, reqid 0, a mode or an
# SA src with an spi, reqid policies with a transport mode no SA can fit,
# an index on add, policy update of a missing policy, of another index or
# to a bad SA reference, bad
# tokens, missing keywords, ESP enc
# without auth, aead with enc/auth, AH with a cipher; missing SAs and
# policies for del/get/update; alloc-spi with min > max, min below 256,
# a timeout of 0 or above 3600, a full range, an spi, no dst, a max beyond
# 32 bits; ESP in UDP on AH, follow out, keepalive in or above 3600, port
# 0, a type not udp; and a batch file that stops at its first
# bad line, naming FILE:LINE, having applied the lines before it.
#
# No topology: namespace A holds state only.

. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"

ns_enter errors A			# the rest runs in namespace A

# state: the SAs with keys, the policies and the stats, as the tool prints
# them, in one batch. Without traffic and without changes, the dumps come
# out byte for byte the same.
state() {
	"$NFSEC" -j --show-keys -b - <<<$'sa list\npolicy list\nstats' 2>&1
}

# expect_state DESC STATE NSA NPOL: STATE is a dump that worked, with NSA
# SAs and NPOL policies, in its lists and in its counts alike.
expect_state() {
	expect_eq "$1: the dump worked, $3 SAs and $4 policies" \
		"[$3, $4, $3, $4]" \
		"$(jq_py '[len(docs[0]), len(docs[1]), docs[2]["sa_count"], docs[2]["policy_count"]] if len(docs) == 3 else "<%d documents>" % len(docs)' <<<"$2")"
}

# bad DESC PATTERN NFSEC-ARGS...: nfsec refuses with "nfsec: PATTERN" (the
# whole output, one line)
# and the state is the same after as before (else the diff is shown).
# "Before" is $STATE: the state after the previous case.
bad() {
	local desc=$1 pat=$2 after
	shift 2
	expect_fail "$desc" "^nfsec: ($pat)\$" nf A "$@"
	after=$(state)
	if [ "$STATE" == "$after" ]; then
		ok "$desc: nothing changed"
	else
		not_ok "$desc: nothing changed" "$(diff <(echo "$STATE") <(echo "$after"))"
		STATE=$after
	fi
}

# The messages of more than one case: the kernel's extack text and strerror.
EEXIST_SA='SA already exists \(File exists\)'
EEXIST_POL='policy already exists \(File exists\)'
UNKNOWN_ALG='unknown algorithm \(No such file or directory\)'
KEYLEN='key length does not fit the algorithm \(Invalid argument\)'
ICVLEN='ICV length not allowed for the algorithm \(Invalid argument\)'
TRUNCLEN='truncation length not allowed for the algorithm \(Invalid argument\)'
RWIN='replay window out of range \(0-4096\) \(Invalid argument\)'
NOAUTH='ESP needs an aead or an auth algorithm \(no confidentiality-only SAs\) \(Invalid argument\)'
AEADX='an AEAD algorithm excludes enc and auth \(Invalid argument\)'
AHONLY='AH takes an auth algorithm alone \(Invalid argument\)'
SOFTHARD='a soft lifetime limit exceeds its hard limit \(Invalid argument\)'
NOSA='no such SA \(No such file or directory\)'
NOPOL='no such policy \(No such file or directory\)'
NARROW="the SA's mode and src narrow a reqid: an spi names one SA \\(Invalid argument\\)"
TOPEER='a transport mode SA protects only traffic to its peer \(its dst\) \(Invalid argument\)'
NOSUCHSA='policy names an SA that does not exist \(No such file or directory\)'
MISFIT='policy names an SA of the other direction \(Invalid argument\)'
HOSTBITS='prefix has host bits set \(Invalid argument\)'
PORTS='ports need protocol tcp, udp, sctp or udplite \(Invalid argument\)'
BOTH='a policy names its SA by spi or by reqid, not both \(Invalid argument\)'
REQID0='reqid 0 names no SA \(it means none\) \(Invalid argument\)'

hexkey() { printf '%0*x\n' $(($1 * 2)) "${2:-1}"; }	# BYTES [VALUE]
K20=$(hexkey 20) K16=$(hexkey 16) K32=$(hexkey 32)
OUT=(dir out src 10.0.0.1 dst 10.0.0.2 proto esp mode tunnel)
IN=(dir in src 10.0.0.2 dst 10.0.0.1 proto esp mode tunnel)
AH=(dir out src 10.0.0.1 dst 10.0.0.2 proto ah mode transport)

log "the state every case must leave alone"
check "SA out 0x1000" nf A sa add "${OUT[@]}" spi 0x1000 aead aes-gcm-128 key "$K20"
check "SA in 0x2000" nf A sa add "${IN[@]}" spi 0x2000 \
	enc aes-cbc-128 key "$K16" auth hmac-sha256-128 key "$K32"
check "SA out AH 0x3000" nf A sa add "${AH[@]}" spi 0x3000 \
	auth hmac-sha1-96 key "$K20"
check "policy out protect" nf A policy add dir out src 192.168.1.0/24 \
	dst 192.168.2.0/24 protect spi 0x1000 dst 10.0.0.2
check "policy in protect" nf A policy add dir in src 192.168.2.0/24 \
	dst 192.168.1.0/24 protect spi 0x2000 dst 10.0.0.1
STATE=$(state) || true
# Every "nothing changed" below compares with this state: it must be a
# real dump, not the same failure twice.
expect_state "the state to compare with" "$STATE" 3 2

log "exit status and format"
out=$(nf A sa add "${OUT[@]}" spi 0x1000 aead aes-gcm-128 key "$K20" 2>&1)
expect_eq "kernel refusal: exit status 1" 1 "$?"
expect_eq "kernel refusal: one line 'nfsec: MSG (strerror)'" \
	"nfsec: SA already exists (File exists)" "$out"
out=$(nf A sa add "${OUT[@]}" spi 0xzz aead aes-gcm-128 key "$K20" 2>&1)
expect_eq "bad token: exit status 1" 1 "$?"
expect_eq "bad token: 'nfsec: invalid SPI: \"0xzz\"'" 'nfsec: invalid SPI: "0xzz"' "$out"
expect_eq "a refusal prints nothing on stdout" "" \
	"$(nf A sa add "${OUT[@]}" spi 0x1000 aead aes-gcm-128 key "$K20" 2>/dev/null)"

log "SA: duplicates"
bad "duplicate SA" "$EEXIST_SA" \
	sa add "${OUT[@]}" spi 0x1000 aead aes-gcm-128 key "$K20"
bad "same dst/spi/proto, other dir, algorithm and key" "$EEXIST_SA" \
	sa add dir in src 10.9.9.9 dst 10.0.0.2 spi 0x1000 proto esp \
	mode transport aead aes-gcm-256 key "$(hexkey 36 5)"
bad "duplicate AH SA" "$EEXIST_SA" \
	sa add "${AH[@]}" spi 0x3000 auth hmac-sha1-96 key "$K20"

log "SA: algorithms and keys"
bad "unknown cipher cbc(nosuchcipher)" \
	"$UNKNOWN_ALG" \
	sa add "${OUT[@]}" spi 0x1100 enc 'cbc(nosuchcipher)' key "$K16" \
	auth hmac-sha256-128 key "$K32"
bad "unknown aead rfc4106(gcm(nosuchcipher))" "$UNKNOWN_ALG" \
	sa add "${OUT[@]}" spi 0x1101 aead 'rfc4106(gcm(nosuchcipher))' key "$K20"
bad "unknown hash hmac(nosuchhash)" "$UNKNOWN_ALG" \
	sa add "${OUT[@]}" spi 0x1102 enc aes-cbc-128 key "$K16" \
	auth 'hmac(nosuchhash)' key "$K32"
bad "unknown hash on AH" "$UNKNOWN_ALG" \
	sa add "${AH[@]}" spi 0x1103 auth 'nosuchmac' key "$K32"
bad "a cipher given as aead (cbc(aes))" "$UNKNOWN_ALG" \
	sa add "${OUT[@]}" spi 0x1104 aead 'cbc(aes)' key "$K16"
bad "rfc4106(gcm(aes)) with a 17-byte key" "$KEYLEN" \
	sa add "${OUT[@]}" spi 0x1110 aead 'rfc4106(gcm(aes))' key "$(hexkey 17)"
bad "cbc(aes) with a 15-byte key" "$KEYLEN" \
	sa add "${OUT[@]}" spi 0x1111 enc 'cbc(aes)' key "$(hexkey 15)" \
	auth hmac-sha256-128 key "$K32"
bad "rfc3686(ctr(aes)) with a 16-byte key (nonce missing)" "$KEYLEN" \
	sa add "${OUT[@]}" spi 0x1112 enc 'rfc3686(ctr(aes))' key "$K16" \
	auth hmac-sha256-128 key "$K32"
bad "aes-gcm-128 with 16 bytes: the tool's message" \
	"invalid key length for aes-gcm-128: 16 bytes, expected 20" \
	sa add "${OUT[@]}" spi 0x1113 aead aes-gcm-128 key "$K16"
bad "aes-gcm-256 with 32 bytes" \
	"invalid key length for aes-gcm-256: 32 bytes, expected 36" \
	sa add "${OUT[@]}" spi 0x1114 aead aes-gcm-256 key "$K32"
bad "aes-ctr-128 with 16 bytes" \
	"invalid key length for aes-ctr-128: 16 bytes, expected 20" \
	sa add "${OUT[@]}" spi 0x1115 enc aes-ctr-128 key "$K16" \
	auth hmac-sha256-128 key "$K32"
bad "hmac-sha256-128 with 20 bytes" \
	"invalid key length for hmac-sha256-128: 20 bytes, expected 32" \
	sa add "${OUT[@]}" spi 0x1116 enc aes-cbc-128 key "$K16" \
	auth hmac-sha256-128 key "$K20"
bad "hmac-sha1-96 on AH with 32 bytes" \
	"invalid key length for hmac-sha1-96: 32 bytes, expected 20" \
	sa add "${AH[@]}" spi 0x1117 auth hmac-sha1-96 key "$K32"
bad "aes-gcm-128 without a key" 'sa add: missing "key"' \
	sa add "${OUT[@]}" spi 0x1118 aead aes-gcm-128
bad "key of odd length" 'invalid key: "abc"' \
	sa add "${OUT[@]}" spi 0x1119 aead aes-gcm-128 key abc
bad "key with a non-hex digit" "invalid key: \"${K20:0:38}zz\"" \
	sa add "${OUT[@]}" spi 0x111a aead aes-gcm-128 key "${K20:0:38}zz"
bad "key of 129 bytes (above NFSEC_KEY_MAX)" "invalid key: \"$(hexkey 129)\"" \
	sa add "${OUT[@]}" spi 0x111b enc 'cbc(aes)' key "$(hexkey 129)" \
	auth hmac-sha256-128 key "$K32"
bad "an enc alias in the aead slot" "sa add: aes-cbc-128 is an enc algorithm, not aead" \
	sa add "${OUT[@]}" spi 0x111c aead aes-cbc-128 key "$K16"
bad "an auth alias in the enc slot" "sa add: hmac-sha1-96 is an auth algorithm, not enc" \
	sa add "${OUT[@]}" spi 0x111d enc hmac-sha1-96 key "$K20"

log "SA: ICV and truncation lengths"
bad "icv 100 (kernel name)" "$ICVLEN" \
	sa add "${OUT[@]}" spi 0x1200 aead 'rfc4106(gcm(aes))' key "$K20" icv 100
bad "icv 100 (alias)" "$ICVLEN" \
	sa add "${OUT[@]}" spi 0x1201 aead aes-gcm-128 key "$K20" icv 100
bad "icv 32" "$ICVLEN" \
	sa add "${OUT[@]}" spi 0x1202 aead aes-gcm-128 key "$K20" icv 32
bad "icv 256" "$ICVLEN" \
	sa add "${OUT[@]}" spi 0x1203 aead aes-gcm-128 key "$K20" icv 256
bad "hmac(sha256) trunc 64" "$TRUNCLEN" \
	sa add "${OUT[@]}" spi 0x1210 enc aes-cbc-128 key "$K16" \
	auth 'hmac(sha256)' key "$K32" trunc 64
bad "hmac(sha256) trunc 96 (below half the digest)" "$TRUNCLEN" \
	sa add "${OUT[@]}" spi 0x1213 enc 'cbc(aes)' key "$K16" \
	auth 'hmac(sha256)' key "$K32" trunc 96
bad "hmac(sha256) trunc 300 (above the digest)" "$TRUNCLEN" \
	sa add "${OUT[@]}" spi 0x1211 enc aes-cbc-128 key "$K16" \
	auth 'hmac(sha256)' key "$K32" trunc 300
bad "hmac(sha1) trunc 192 (above the digest) on AH" "$TRUNCLEN" \
	sa add "${AH[@]}" spi 0x1212 auth 'hmac(sha1)' key "$K20" trunc 192
bad "hmac(sha256) trunc 0" \
	"ICV length or truncation length of 0 not allowed \(Invalid argument\)" \
	sa add "${OUT[@]}" spi 0x1213 enc aes-cbc-128 key "$K16" \
	auth 'hmac(sha256)' key "$K32" trunc 0

log "SA: replay window, ESN, SPI"
bad "replay-window 5000" "$RWIN" \
	sa add "${IN[@]}" spi 0x1300 aead aes-gcm-128 key "$K20" replay-window 5000
bad "replay-window 4097" "$RWIN" \
	sa add "${IN[@]}" spi 0x1301 aead aes-gcm-128 key "$K20" replay-window 4097
# (ESN on AH is no error: RFC 4302 2.5.1, 3.3.3.1)
check "ESN on AH is accepted" nf A sa add "${AH[@]}" spi 0x1302 \
	auth hmac-sha1-96 key "$K20" esn
check "and deleted" nf A sa del dst 10.0.0.2 spi 0x1302 proto ah
STATE=$(state)
bad "ESN with replay-window 0 inbound" \
	"ESN needs a replay window to infer the high sequence bits \(Invalid argument\)" \
	sa add "${IN[@]}" spi 0x1303 aead aes-gcm-128 key "$K20" esn replay-window 0
for spi in 100 0 255 0xff; do
	bad "SPI $spi (reserved)" "invalid SPI: \"$spi\"" \
		sa add "${OUT[@]}" spi "$spi" aead aes-gcm-128 key "$K20"
done
bad "SPI 0x100000000 (33 bits)" 'invalid SPI: "0x100000000"' \
	sa add "${OUT[@]}" spi 0x100000000 aead aes-gcm-128 key "$K20"
bad "SPI -1" 'invalid SPI: "-1"' \
	sa add "${OUT[@]}" spi -1 aead aes-gcm-128 key "$K20"

log "SA: lifetimes"
for kind in bytes packets seconds use-seconds; do
	bad "soft-$kind 200 above hard-$kind 100" "$SOFTHARD" \
		sa add "${OUT[@]}" spi 0x1310 aead aes-gcm-128 key "$K20" \
		"soft-$kind" 200 "hard-$kind" 100
done
bad "soft-packets above hard-packets, the other pairs fine" "$SOFTHARD" \
	sa add "${OUT[@]}" spi 0x1311 aead aes-gcm-128 key "$K20" \
	soft-bytes 1 hard-bytes 1 soft-packets 11 hard-packets 10 \
	soft-seconds 5 hard-seconds 0
bad "sa update to soft-seconds above hard-seconds" "$SOFTHARD" \
	sa update "${OUT[@]}" spi 0x1000 aead aes-gcm-128 key "$K20" \
	soft-seconds 61 hard-seconds 60
bad "sa update to soft-use-seconds above hard-use-seconds" "$SOFTHARD" \
	sa update "${OUT[@]}" spi 0x1000 aead aes-gcm-128 key "$K20" \
	soft-use-seconds 61 hard-use-seconds 60

log "SA: combinations"
bad "ESP enc without auth" "$NOAUTH" \
	sa add "${OUT[@]}" spi 0x1400 enc aes-cbc-128 key "$K16"
bad "ESP enc null without auth" "$NOAUTH" \
	sa add "${OUT[@]}" spi 0x1401 enc null
bad "aead together with enc" "$AEADX" \
	sa add "${OUT[@]}" spi 0x1402 aead aes-gcm-128 key "$K20" \
	enc aes-cbc-128 key "$K16"
bad "aead together with auth" "$AEADX" \
	sa add "${OUT[@]}" spi 0x1403 aead aes-gcm-128 key "$K20" \
	auth hmac-sha256-128 key "$K32"
bad "ESP with no algorithm" "$NOAUTH" \
	sa add "${OUT[@]}" spi 0x1404
bad "AH with enc" "$AHONLY" \
	sa add "${AH[@]}" spi 0x1405 enc aes-cbc-128 key "$K16" \
	auth hmac-sha256-128 key "$K32"
bad "AH with aead" "$AHONLY" \
	sa add "${AH[@]}" spi 0x1406 aead aes-gcm-128 key "$K20"
bad "AH without auth" "$AHONLY" \
	sa add "${AH[@]}" spi 0x1407

log "SA: bad tokens and missing keywords"
bad "spi 0xzz" 'invalid SPI: "0xzz"' \
	sa add "${OUT[@]}" spi 0xzz aead aes-gcm-128 key "$K20"
bad "address 10.0.0.300" 'invalid address: "10\.0\.0\.300"' \
	sa add dir out src 10.0.0.1 dst 10.0.0.300 spi 0x1500 proto esp \
	mode tunnel aead aes-gcm-128 key "$K20"
bad "address 2001:db8:::1" 'invalid address: "2001:db8:::1"' \
	sa add dir out src 2001:db8::1 dst 2001:db8:::1 spi 0x1501 proto esp \
	mode tunnel aead aes-gcm-128 key "$K20"
bad "src v4, dst v6" "sa add: addresses of different families" \
	sa add dir out src 10.0.0.1 dst 2001:db8::2 spi 0x1502 proto esp \
	mode tunnel aead aes-gcm-128 key "$K20"
bad "dir sideways" 'invalid dir: "sideways"' \
	sa add dir sideways src 10.0.0.1 dst 10.0.0.2 spi 0x1503 proto esp \
	mode tunnel aead aes-gcm-128 key "$K20"
bad "dir fwd on an SA (policies only)" 'invalid dir: "fwd"' \
	sa add dir fwd src 10.0.0.1 dst 10.0.0.2 spi 0x1504 proto esp \
	mode tunnel aead aes-gcm-128 key "$K20"
bad "proto udp on an SA" 'invalid proto: "udp"' \
	sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x1505 proto udp \
	mode tunnel aead aes-gcm-128 key "$K20"
bad "mode tunel (typo)" 'invalid mode: "tunel"' \
	sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x1506 proto esp \
	mode tunel aead aes-gcm-128 key "$K20"
bad "df maybe" 'invalid df: "maybe"' \
	sa add "${OUT[@]}" spi 0x1507 aead aes-gcm-128 key "$K20" df maybe
bad "unknown keyword frobnicate" 'sa add: unknown keyword "frobnicate"' \
	sa add "${OUT[@]}" spi 0x1508 aead aes-gcm-128 key "$K20" frobnicate
bad "replay-window abc" 'invalid replay-window: "abc"' \
	sa add "${IN[@]}" spi 0x1509 aead aes-gcm-128 key "$K20" replay-window abc
bad "soft-bytes 1e6" 'invalid soft-bytes: "1e6"' \
	sa add "${OUT[@]}" spi 0x150a aead aes-gcm-128 key "$K20" soft-bytes 1e6
bad "missing mode" 'sa add: missing "mode"' \
	sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x150b proto esp \
	aead aes-gcm-128 key "$K20"
bad "missing dst" 'sa add: missing "dst"' \
	sa add dir out src 10.0.0.1 spi 0x150c proto esp mode tunnel \
	aead aes-gcm-128 key "$K20"
bad "missing spi" 'sa add: missing "spi"' \
	sa add "${OUT[@]}" aead aes-gcm-128 key "$K20"
bad "spi without its value (last word)" 'sa add: "spi" needs a value' \
	sa add "${OUT[@]}" aead aes-gcm-128 key "$K20" spi
bad "spi given twice" 'sa add: "spi" given twice' \
	sa add "${OUT[@]}" spi 0x150d spi 0x150e aead aes-gcm-128 key "$K20"
bad "sa get without proto" 'sa get: missing "proto"' \
	sa get dst 10.0.0.2 spi 0x1000
bad "unknown sa command" 'sa: unknown command "frob"' sa frob
bad "unknown object" 'unknown object "frob" \(try nfsec help\)' frob list

log "SA: missing SAs"
bad "sa del of a missing SA" "$NOSA" \
	sa del dst 10.0.0.2 spi 0x9999 proto esp
bad "sa del with the wrong proto" "$NOSA" \
	sa del dst 10.0.0.2 spi 0x1000 proto ah
bad "sa get of a missing SA" "$NOSA" \
	sa get dst 10.0.0.9 spi 0x1000 proto esp
bad "sa update of a missing SA" "$NOSA" \
	sa update "${OUT[@]}" spi 0x9999 aead aes-gcm-128 key "$K20"
bad "sa update with a bad key length" "$KEYLEN" \
	sa update "${OUT[@]}" spi 0x1000 aead 'rfc4106(gcm(aes))' key "$K16"
bad "sa update to replay-window 5000" "$RWIN" \
	sa update "${IN[@]}" spi 0x2000 enc aes-cbc-128 key "$K16" \
	auth hmac-sha256-128 key "$K32" replay-window 5000

log "SA: alloc-spi"
AS=(sa alloc-spi src 10.0.0.2 dst 10.0.0.1 proto esp)
bad "alloc-spi min > max" 'spi-min above spi-max \(Invalid argument\)' \
	"${AS[@]}" min 0x2000 max 0x1fff
bad "alloc-spi min 255" \
	'spi-min below 256 \(SPIs 0-255 are reserved, RFC 4303 2\.1\) \(Invalid argument\)' \
	"${AS[@]}" min 255
bad "alloc-spi timeout 0" \
	'timeout out of range \(1-3600 seconds\) \(Invalid argument\)' \
	"${AS[@]}" timeout 0
bad "alloc-spi timeout 3601" \
	'timeout out of range \(1-3600 seconds\) \(Invalid argument\)' \
	"${AS[@]}" timeout 3601
bad "alloc-spi of a range the SA 0x2000 fills" \
	'no free SPI in min\.\.max \(No space left on device\)' \
	"${AS[@]}" min 0x2000 max 0x2000
bad "alloc-spi with an spi (tool)" \
	'sa alloc-spi: the kernel chooses the spi; give min and max' \
	"${AS[@]}" spi 0x2000
bad "alloc-spi without dst (tool)" 'sa alloc-spi: missing "dst"' \
	sa alloc-spi src 10.0.0.2 proto esp
bad "alloc-spi max 0x100000000 (tool)" 'invalid max: "0x100000000"' \
	"${AS[@]}" max 0x100000000

log "SA: ESP in UDP"
bad "encap on an AH SA" \
	'encapsulation in UDP is for ESP only \(RFC 3948\) \(Invalid argument\)' \
	sa add "${AH[@]}" spi 0x7001 auth hmac-sha256-128 key "$K32" encap udp
bad "encap follow on an outbound SA" \
	'follow is for inbound SAs \(Invalid argument\)' \
	sa add "${OUT[@]}" spi 0x7001 aead aes-gcm-128 key "$K20" encap udp follow
bad "encap keepalive on an inbound SA" \
	'keepalive is for outbound SAs \(Invalid argument\)' \
	sa add "${IN[@]}" spi 0x7001 aead aes-gcm-128 key "$K20" \
	encap udp keepalive 20
bad "encap keepalive 3601" \
	'keepalive is 0-3600 seconds \(Invalid argument\)' \
	sa add "${OUT[@]}" spi 0x7001 aead aes-gcm-128 key "$K20" \
	encap udp keepalive 3601
bad "encap sport 0 (tool)" 'invalid sport: "0"' \
	sa add "${OUT[@]}" spi 0x7001 aead aes-gcm-128 key "$K20" \
	encap udp sport 0
bad "encap tcp (tool)" 'invalid encap: "tcp"' \
	sa add "${OUT[@]}" spi 0x7001 aead aes-gcm-128 key "$K20" encap tcp

log "policy"
bad "prefix 10.0.0.0/33 (tool)" 'invalid prefix: "10\.0\.0\.0/33"' \
	policy add dir out src 10.0.0.0/33 dst 10.1.0.0/16 bypass
bad "prefix 2001:db8::/129 (tool)" 'invalid prefix: "2001:db8::/129"' \
	policy add dir out src 2001:db8::/129 dst any bypass
bad "prefix 10.0.0.1/24: host bits (kernel)" "$HOSTBITS" \
	policy add dir out src 10.0.0.1/24 dst 10.1.0.0/16 bypass
bad "prefix 2001:db8::1/64: host bits (kernel)" "$HOSTBITS" \
	policy add dir out src 2001:db8::1/64 dst any bypass
bad "dst 10.1.0.0/0: host bits" "$HOSTBITS" \
	policy add dir out src any dst 10.1.0.0/0 bypass
bad "prefix 10.0.0.0/x" 'invalid prefix: "10\.0\.0\.0/x"' \
	policy add dir out src 10.0.0.0/x dst any bypass
bad "prefixes of two families" "policy add: addresses of different families" \
	policy add dir out src 10.0.0.0/8 dst 2001:db8::/32 bypass
bad "protect naming a missing SA" "$NOSUCHSA" \
	policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 \
	protect spi 0x9999 dst 10.0.0.2
bad "protect naming the SA with the wrong proto" "$NOSUCHSA" \
	policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 \
	protect spi 0x1000 dst 10.0.0.2 proto ah
bad "protect naming the SA with the wrong dst" "$NOSUCHSA" \
	policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 \
	protect spi 0x1000 dst 10.0.0.3
bad "out policy naming an in SA" "$MISFIT" \
	policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 \
	protect spi 0x2000 dst 10.0.0.1
bad "in policy naming an out SA" "$MISFIT" \
	policy add dir in src 192.168.3.0/24 dst 192.168.1.0/24 \
	protect spi 0x1000 dst 10.0.0.2
bad "v6 policy naming a v4 transport SA" \
	"a transport mode SA carries only its own family \(Invalid argument\)" \
	policy add dir out src 2001:db8:1::/48 dst 2001:db8:2::/48 \
	protect spi 0x3000 dst 10.0.0.2 proto ah
bad "protect without spi" 'policy add: missing "spi"' \
	policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 protect \
	dst 10.0.0.2
bad "protect, subnet selector, no SA dst" \
	"a protect policy for a prefix needs the SA's dst \(Invalid argument\)" \
	policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 protect spi 0x1000
bad "protect naming an spi and a reqid" "$BOTH" \
	policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 \
	protect spi 0x1000 dst 10.0.0.2 reqid 5
bad "protect reqid 0" "$REQID0" \
	policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 protect reqid 0
bad "protect spi with a mode" \
	"$NARROW" policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 \
	protect spi 0x1000 dst 10.0.0.2 mode tunnel
bad "protect spi with an SA src" \
	"$NARROW" policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 \
	protect spi 0x1000 dst 10.0.0.2 src 10.0.0.1
bad "fwd protect reqid, mode transport" \
	"a transport mode SA carries no forwarded traffic \(Invalid argument\)" \
	policy add dir fwd src 192.168.3.0/24 dst 192.168.1.0/24 \
	protect reqid 5 mode transport
bad "out protect reqid, mode transport, for a prefix" "$TOPEER" \
	policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 \
	protect reqid 5 mode transport
bad "out protect reqid, mode transport, to another host than the SA's dst" \
	"$TOPEER" policy add dir out src 10.0.0.1 dst 10.0.0.3 \
	protect reqid 5 mode transport dst 10.0.0.2
bad "in protect reqid, mode transport, an SA src of the other family" \
	"a transport mode SA carries only its own family \(Invalid argument\)" \
	policy add dir in src 2001:db8::2 dst 2001:db8::1 \
	protect reqid 5 mode transport src 10.0.0.2
bad "protect reqid, SA dst and src of two families" \
	'policy add: addresses of different families' \
	policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 \
	protect reqid 5 dst 10.0.0.2 src 2001:db8::1
bad "policy add with an index" \
	'the kernel assigns policy indexes \(Invalid argument\)' \
	policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 index 7 discard
bad "reqid before protect" 'policy add: unknown keyword "reqid"' \
	policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 reqid 5 discard
bad "reqid -1" 'invalid reqid: "-1"' \
	policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 protect reqid -1
bad "sa add reqid 0x100000000" 'invalid reqid: "0x100000000"' \
	sa add "${OUT[@]}" spi 0x1600 aead aes-gcm-128 key "$K20" reqid 0x100000000
bad "policy update of a missing policy" "$NOPOL" \
	policy update dir out src 192.168.1.0/24 dst 192.168.9.0/24 discard
bad "policy update of a missing policy (other priority)" "$NOPOL" \
	policy update dir out src 192.168.1.0/24 dst 192.168.2.0/24 priority 1 \
	protect reqid 5
bad "policy update naming an spi and a reqid" "$BOTH" \
	policy update dir out src 192.168.1.0/24 dst 192.168.2.0/24 \
	protect spi 0x1000 dst 10.0.0.2 reqid 5
bad "policy update to reqid 0" "$REQID0" \
	policy update dir out src 192.168.1.0/24 dst 192.168.2.0/24 \
	protect reqid 0
bad "policy update naming a missing SA" "$NOSUCHSA" \
	policy update dir out src 192.168.1.0/24 dst 192.168.2.0/24 \
	protect spi 0x9999 dst 10.0.0.2
bad "policy update: an out policy naming an in SA" "$MISFIT" \
	policy update dir out src 192.168.1.0/24 dst 192.168.2.0/24 \
	protect spi 0x2000 dst 10.0.0.1
bad "policy update naming another policy's index" \
	'the policy of that dir, selector and priority has another index \(No such file or directory\)' \
	policy update dir out src 192.168.1.0/24 dst 192.168.2.0/24 \
	index 99999 discard
bad "policy update without an action" \
	'policy update: missing "protect", "bypass" or "discard"' \
	policy update dir out src 192.168.1.0/24 dst 192.168.2.0/24
bad "no action" 'policy add: missing "protect", "bypass" or "discard"' \
	policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24
bad "two actions" 'policy add: "discard" after "bypass"' \
	policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 bypass discard
bad "dport without proto" "$PORTS" \
	policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 dport 80 bypass
bad "dport with icmp" "$PORTS" \
	policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 proto icmp \
	dport 80 bypass
bad "dport 65536" 'invalid dport: "65536"' \
	policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 proto tcp \
	dport 65536 bypass
bad "proto 256" 'invalid proto: "256"' \
	policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 proto 256 bypass
bad "priority 0x100000000" 'invalid priority: "0x100000000"' \
	policy add dir out src 192.168.1.0/24 dst 192.168.3.0/24 \
	priority 0x100000000 bypass
bad "dir sideways" 'invalid dir: "sideways"' \
	policy add dir sideways src 192.168.1.0/24 dst 192.168.3.0/24 bypass
bad "duplicate policy" "$EEXIST_POL" \
	policy add dir out src 192.168.1.0/24 dst 192.168.2.0/24 \
	protect spi 0x1000 dst 10.0.0.2
bad "duplicate selector with another action" "$EEXIST_POL" \
	policy add dir out src 192.168.1.0/24 dst 192.168.2.0/24 discard
bad "policy del of a missing index" "$NOPOL" \
	policy del index 0xfffffff0
bad "policy del of a missing selector" "$NOPOL" \
	policy del dir out src 192.168.1.0/24 dst 192.168.9.0/24
bad "policy del index abc" 'invalid index: "abc"' policy del index abc

log "batch: stops at the first bad line, FILE:LINE, lines before applied"
batch=$(mktemp /tmp/nfsec-batch.XXXXXX)
cat >"$batch" <<EOF
# three SAs, the third a duplicate of the first
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x9001 proto esp mode tunnel aead aes-gcm-128 key $K20

sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x9002 proto esp mode tunnel aead aes-gcm-128 key $K20
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x9001 proto esp mode tunnel aead aes-gcm-128 key $K20
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x9003 proto esp mode tunnel aead aes-gcm-128 key $K20
EOF
expect_fail "batch: kernel refusal on line 5" \
	"nfsec: $batch:5: SA already exists" nf A -b "$batch"
expect_eq "batch: lines 2 and 4 applied, line 6 not" "[36865, 36866]" \
	"$(nf A -j sa list | jq_py 'sorted(s["spi"] for s in d if s["spi"] > 0x9000)')"
cat >"$batch" <<EOF
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x9004 proto esp mode tunnel aead aes-gcm-128 key $K20
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0xzz proto esp mode tunnel aead aes-gcm-128 key $K20
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x9005 proto esp mode tunnel aead aes-gcm-128 key $K20
EOF
expect_fail "batch: bad token on line 2" \
	"nfsec: $batch:2: invalid SPI: \"0xzz\"" nf A -b "$batch"
expect_eq "batch: line 1 applied, line 3 not" "[36865, 36866, 36868]" \
	"$(nf A -j sa list | jq_py 'sorted(s["spi"] for s in d if s["spi"] > 0x9000)')"
before=$(state) || true
expect_state "batch: the state before" "$before" 6 2
expect_fail "batch: missing file" "^nfsec: /nonexistent/batch: No such file or directory$" \
	nf A -b /nonexistent/batch
expect_eq "batch: missing file changes nothing" "$before" "$(state)"
rm -f "$batch"

t_end
