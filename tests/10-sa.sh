#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 10-sa.sh: the SA table through the nfsec tool, no traffic.
#
# Covers sa add / get / list / del / flush / update in one namespace and the
# round trip of every attribute through `-j` JSON: dir in/out, IPv4 and
# IPv6 addresses (output in RFC 5952 form), SPI in decimal and 0x form and
# at both ends of its range, proto esp/ah (AH with auth only), mode
# transport/tunnel, every algorithm alias of Documentation/cli.md and the
# same algorithms by their crypto API names, ICV 64/96/128, truncation
# lengths, null encryption, ESP with auth only, keys hidden unless
# --show-keys (and then returned byte for byte), replay window default and
# 0/32/4096, esn, seq, df copy/clear/set, every lifetime field, the SA
# identity (dst, spi, proto), `stats` sa_count, and `showconf` fed back with
# `nfsec -b` into a fresh namespace reproducing the same SAs and policies.
#
# No topology: namespaces A and B hold state only, no links.

. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"

ns_enter sa A B			# the rest runs in namespace A

# project WANT: the object on stdin cut down to WANT's keys ("<absent>"
# where it lacks one), canonical. WANT '{"enc": "<absent>"}' asserts absence.
project() {
	jq_py '{k: d.get(k, "<absent>") for k in json.loads(a)}' "$1"
}

# expect_sa DESC WANT DST SPI [PROTO]: `sa get` (with keys) has WANT's fields.
expect_sa() {
	local desc=$1 want=$2
	shift 2
	expect_eq "$desc" "$(canon "$want")" \
		"$(nf A -j --show-keys sa get dst "$1" spi "$2" proto "${3:-esp}" | project "$want")"
}

# hexkey BYTES [SEED]: BYTES bytes as lower-case hex, different per SEED.
hexkey() {
	local i s=
	for ((i = 0; i < $1; i++)); do
		printf -v s '%s%02x' "$s" $(((i * 7 + ${2:-1} * 31 + 1) % 256))
	done
	echo "$s"
}

sa_count() { ns_stat A sa_count; }
list_len() { nf A -j sa list | jq_py 'len(d)'; }

LT0='{"soft_bytes": 0, "hard_bytes": 0, "soft_packets": 0, "hard_packets": 0, "soft_seconds": 0, "hard_seconds": 0, "soft_use_seconds": 0, "hard_use_seconds": 0}'
STATS_KEYS='["backlog", "bad_trailer", "bytes", "crypto_error", "dummy", "expired", "icv_fail", "loop", "no_buffer", "packets", "policy", "replay", "replay_old", "seq_exhausted", "too_big"]'
A256=$(hexkey 32 9)		# the hmac-sha256-128 key where auth is not tested

log "empty namespace"
expect_eq "fresh namespace: sa list is []" "[]" "$(nf A -j sa list | jq_py d)"
expect_eq "fresh namespace: sa_count 0" 0 "$(sa_count)"

log "one outbound ESP tunnel SA, every field"
K=$(hexkey 20 1)
read -r up0 _ </proc/uptime
up0=${up0%.*}
check "add out esp tunnel aes-gcm-128 v4, spi 0x1000" \
	nf A sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x1000 proto esp \
	mode tunnel aead aes-gcm-128 key "$K"
expect_sa "out SA: fields as given, defaults as documented" "{
	\"dir\": \"out\", \"family\": \"inet\", \"src\": \"10.0.0.1\",
	\"dst\": \"10.0.0.2\", \"spi\": 4096, \"proto\": \"esp\",
	\"mode\": \"tunnel\", \"esn\": false, \"seq\": 0, \"df\": \"copy\",
	\"aead\": {\"name\": \"rfc4106(gcm(aes))\", \"icv_bits\": 128, \"key\": \"0x$K\"},
	\"enc\": \"<absent>\", \"auth\": \"<absent>\", \"lifetime\": $LT0}" \
	10.0.0.2 0x1000
get=$(nf A -j sa get dst 10.0.0.2 spi 4096 proto esp)
expect_eq "out SA: stats has the 15 documented counters" \
	"$(canon "$STATS_KEYS")" "$(jq_py 'sorted(d["stats"])' <<<"$get")"
expect_eq "out SA: every counter 0" 0 "$(jq_py 'sum(d["stats"].values())' <<<"$get")"
read -r up1 _ </proc/uptime
up1=${up1%.*}
expect_eq "out SA: add_time is the boot time of the add (uptime $up0..$up1)" \
	True "$(jq_py "str($up0 - 1 <= d['add_time'] <= $up1 + 1)" <<<"$get")"
expect_eq "keys hidden by default: no \"key\" in JSON" \
	"$(canon '{"name": "rfc4106(gcm(aes))", "icv_bits": 128}')" \
	"$(jq_py 'd["aead"]' <<<"$get")"
text=$(nf A sa get dst 10.0.0.2 spi 0x1000 proto esp)
expect_eq "text output says (hidden)" yes \
	"$([[ $text == *"(hidden)"* ]] && echo yes || echo no)"
expect_eq "text output does not carry the key" no \
	"$([[ ${text,,} == *"${K:0:16}"* ]] && echo yes || echo no)"
expect_eq "sa list without --show-keys has no key anywhere" 0 \
	"$(nf A -j sa list | jq_py 'sum("key" in s.get(a, {}) for s in d for a in ("aead", "enc", "auth"))')"
expect_eq "sa list --show-keys returns the key" "0x$K" \
	"$(nf A -j --show-keys sa list | jq_py 'd[0]["aead"]["key"]')"
expect_eq "sa_count 1" 1 "$(sa_count)"

log "SPI forms and range"
check "add spi 4097 (decimal)" nf A sa add dir out src 10.0.0.1 dst 10.0.0.2 \
	spi 4097 proto esp mode tunnel aead aes-gcm-128 key "$K"
expect_eq "spi 4097 found as 0x1001" 4097 \
	"$(nf A -j sa get dst 10.0.0.2 spi 0x1001 proto esp | jq_py 'd["spi"]')"
check "add spi 256 (lowest allowed)" nf A sa add dir out src 10.0.0.1 \
	dst 10.0.0.2 spi 256 proto esp mode tunnel aead aes-gcm-128 key "$K"
expect_eq "spi 256 round trip" 256 \
	"$(nf A -j sa get dst 10.0.0.2 spi 0x100 proto esp | jq_py 'd["spi"]')"
check "add spi 0xffffffff (highest)" nf A sa add dir out src 10.0.0.1 \
	dst 10.0.0.2 spi 0xffffffff proto esp mode tunnel aead aes-gcm-128 key "$K"
expect_eq "spi 0xffffffff round trip" 4294967295 \
	"$(nf A -j sa get dst 10.0.0.2 spi 4294967295 proto esp | jq_py 'd["spi"]')"
check "add spi 0XABCDEF (upper-case hex)" nf A sa add dir out src 10.0.0.1 \
	dst 10.0.0.2 spi 0XABCDEF proto esp mode tunnel aead aes-gcm-128 key "$K"
expect_eq "spi 0XABCDEF round trip" 11259375 \
	"$(nf A -j sa get dst 10.0.0.2 spi 0xabcdef proto esp | jq_py 'd["spi"]')"

log "IPv6: SAs added and shown, addresses in RFC 5952 form"
K6=$(hexkey 36 2)
before=$(sa_count)
check "v6 in SA" nf A sa add dir in src 2001:db8::1 dst 2001:db8::2 \
	spi 0x2000 proto esp mode transport aead aes-gcm-256 key "$K6"
check "v6 out SA, addresses written long" nf A sa add dir out \
	src 2001:0DB8:0:0:0:0:0:0001 dst 2001:0db8:0000:0000:0000:0000:0000:0003 \
	spi 0x2001 proto esp mode tunnel aead aes-gcm-128 key "$K"
expect_eq "two v6 SAs added" $((before + 2)) "$(sa_count)"
expect_eq "v6 out SA: family, src, dst" "inet6 2001:db8::1 2001:db8::3" \
	"$(nf A -j sa get dst 2001:db8::3 spi 0x2001 proto esp |
		jq_py '" ".join((d["family"], d["src"], d["dst"]))')"
check "v6 in SA deleted" nf A sa del dst 2001:db8::2 spi 0x2000 proto esp
check "v6 out SA deleted" nf A sa del dst 2001:db8::3 spi 0x2001 proto esp
expect_eq "sa_count back to $before" "$before" "$(sa_count)"

log "every algorithm, by alias and by crypto API name"
# alias kind kernel-name key-bytes bits (ICV for aead, truncation for auth)
ALGS='aes-gcm-128 aead rfc4106(gcm(aes)) 20 128
aes-gcm-256 aead rfc4106(gcm(aes)) 36 128
chacha20-poly1305 aead rfc7539esp(chacha20,poly1305) 36 128
aes-gmac-128 aead rfc4543(gcm(aes)) 20 128
aes-gmac-256 aead rfc4543(gcm(aes)) 36 128
aes-cbc-128 enc cbc(aes) 16 -
aes-cbc-256 enc cbc(aes) 32 -
aes-ctr-128 enc rfc3686(ctr(aes)) 20 -
aes-ctr-256 enc rfc3686(ctr(aes)) 36 -
hmac-sha1-96 auth hmac(sha1) 20 96
hmac-sha256-128 auth hmac(sha256) 32 128
hmac-sha384-192 auth hmac(sha384) 48 192
hmac-sha512-256 auth hmac(sha512) 64 256'
spi=$((0x10000))
seed=10
while read -r -u 3 alias kind kname klen bits; do
	for name in "$alias" "$kname"; do
		spi=$((spi + 1)) seed=$((seed + 1))
		key=$(hexkey "$klen" "$seed")
		case $kind in
		aead)
			args=(aead "$name" key "$key")
			want="{\"aead\": {\"name\": \"$kname\", \"icv_bits\": $bits, \"key\": \"0x$key\"}, \"enc\": \"<absent>\", \"auth\": \"<absent>\"}" ;;
		enc)
			args=(enc "$name" key "$key" auth hmac-sha256-128 key "$A256")
			want="{\"enc\": {\"name\": \"$kname\", \"key\": \"0x$key\"}, \"auth\": {\"name\": \"hmac(sha256)\", \"trunc_bits\": 128, \"key\": \"0x$A256\"}, \"aead\": \"<absent>\"}" ;;
		auth)
			args=(enc aes-cbc-128 key "$(hexkey 16 3)" auth "$name" key "$key")
			want="{\"auth\": {\"name\": \"$kname\", \"trunc_bits\": $bits, \"key\": \"0x$key\"}, \"aead\": \"<absent>\"}" ;;
		esac
		if check "add $kind $name" nf A sa add dir out src 10.0.1.1 \
			dst 10.0.1.2 spi "$spi" proto esp mode transport "${args[@]}"; then
			expect_sa "$kind $name: name, bits (default) and key" "$want" 10.0.1.2 "$spi"
		else
			skip "$kind $name: round trip" "the add failed"
		fi
	done
done 3<<<"$ALGS"

log "AEAD ICV lengths"
for icv in 64 96 128; do
	for name in aes-gcm-128 'rfc4106(gcm(aes))'; do
		spi=$((spi + 1))
		key=$(hexkey 20 "$icv")
		check "add $name icv $icv" nf A sa add dir in src 10.0.1.2 \
			dst 10.0.1.1 spi "$spi" proto esp mode tunnel \
			aead "$name" key "$key" icv "$icv"
		expect_sa "$name icv $icv round trip" \
			"{\"aead\": {\"name\": \"rfc4106(gcm(aes))\", \"icv_bits\": $icv, \"key\": \"0x$key\"}}" \
			10.0.1.1 "$spi"
	done
done

# RFC 2104 5: whole bytes, at least half the digest and at least 96 bits
log "truncation lengths (multiples of 8 from max(96, digest/2) to the digest)"
for t in 'hmac(sha1) 20 96' 'hmac(sha1) 20 160' 'hmac(sha256) 32 136' \
	'hmac(sha256) 32 128' 'hmac(sha256) 32 256' 'hmac(sha384) 48 192' \
	'hmac(sha384) 48 384' 'hmac(sha512) 64 256' 'hmac(sha512) 64 512'; do
	read -r name klen bits <<<"$t"
	spi=$((spi + 1))
	key=$(hexkey "$klen" "$bits")
	check "add auth $name trunc $bits" nf A sa add dir out src 10.0.1.1 \
		dst 10.0.1.2 spi "$spi" proto esp mode transport \
		enc 'cbc(aes)' key "$(hexkey 16 4)" auth "$name" key "$key" trunc "$bits"
	expect_sa "$name trunc $bits round trip" \
		"{\"auth\": {\"name\": \"$name\", \"trunc_bits\": $bits, \"key\": \"0x$key\"}}" \
		10.0.1.2 "$spi"
done

log "null encryption, ESP with auth only, key forms"
check "add enc null + hmac-sha256-128" nf A sa add dir out src 10.0.1.1 \
	dst 10.0.1.2 spi 0x20001 proto esp mode transport enc null \
	auth hmac-sha256-128 key "$A256"
expect_eq "enc null is ecb(cipher_null)" "ecb(cipher_null)" \
	"$(nf A -j sa get dst 10.0.1.2 spi 0x20001 proto esp | jq_py 'd["enc"]["name"]')"
expect_sa "enc null: auth kept" \
	"{\"auth\": {\"name\": \"hmac(sha256)\", \"trunc_bits\": 128, \"key\": \"0x$A256\"}}" \
	10.0.1.2 0x20001
check "add enc ecb(cipher_null) without key + auth by kernel name" \
	nf A sa add dir out src 10.0.1.1 dst 10.0.1.2 spi 0x20002 proto esp \
	mode transport enc 'ecb(cipher_null)' auth 'hmac(sha1)' key "$(hexkey 20 5)"
expect_eq "ecb(cipher_null) + hmac(sha1): names and default trunc 96" \
	'["ecb(cipher_null)", "hmac(sha1)", 96]' \
	"$(nf A -j sa get dst 10.0.1.2 spi 0x20002 proto esp | jq_py '[d["enc"]["name"], d["auth"]["name"], d["auth"]["trunc_bits"]]')"
check "add ESP with auth only" nf A sa add dir in src 10.0.1.2 dst 10.0.1.1 \
	spi 0x20003 proto esp mode transport auth hmac-sha512-256 key "$(hexkey 64 6)"
expect_sa "ESP auth only: no aead, no enc" \
	"{\"proto\": \"esp\", \"aead\": \"<absent>\", \"enc\": \"<absent>\", \"auth\": {\"name\": \"hmac(sha512)\", \"trunc_bits\": 256, \"key\": \"0x$(hexkey 64 6)\"}}" \
	10.0.1.1 0x20003
UP=$(hexkey 20 7)
check "add key given as 0x + upper-case hex" nf A sa add dir out src 10.0.1.1 \
	dst 10.0.1.2 spi 0x20004 proto esp mode transport \
	aead aes-gcm-128 key "0x${UP^^}"
expect_eq "key comes back lower-case with 0x" "0x$UP" \
	"$(nf A -j --show-keys sa get dst 10.0.1.2 spi 0x20004 proto esp | jq_py 'd["aead"]["key"]')"

log "AH"
KA=$(hexkey 32 8)
check "add AH transport hmac-sha256-128" nf A sa add dir out src 10.0.2.1 \
	dst 10.0.2.2 spi 0x3000 proto ah mode transport auth hmac-sha256-128 key "$KA"
expect_sa "AH: auth only" "{
	\"proto\": \"ah\", \"mode\": \"transport\", \"aead\": \"<absent>\",
	\"enc\": \"<absent>\",
	\"auth\": {\"name\": \"hmac(sha256)\", \"trunc_bits\": 128, \"key\": \"0x$KA\"}}" \
	10.0.2.2 0x3000 ah
check "add AH tunnel in hmac(sha1) (kernel name)" nf A sa add dir in \
	src 10.0.2.2 dst 10.0.2.1 spi 0x3001 proto ah mode tunnel \
	auth 'hmac(sha1)' key "$(hexkey 20 9)"
expect_sa "AH tunnel in: fields" "{
	\"dir\": \"in\", \"proto\": \"ah\", \"mode\": \"tunnel\",
	\"replay_window\": 128,
	\"auth\": {\"name\": \"hmac(sha1)\", \"trunc_bits\": 96, \"key\": \"0x$(hexkey 20 9)\"}}" \
	10.0.2.1 0x3001 ah

log "replay window, esn, seq, df, lifetimes"
for rw in default 0 32 4096; do
	spi=$((spi + 1))
	opt=(replay-window "$rw")
	want=$rw
	[ "$rw" = default ] && opt=() want=128
	check "add in SA replay-window $rw" nf A sa add dir in src 10.0.3.2 \
		dst 10.0.3.1 spi "$spi" proto esp mode tunnel \
		aead aes-gcm-128 key "$K" "${opt[@]}"
	expect_sa "replay-window $rw is $want" \
		"{\"replay_window\": $want, \"esn\": false, \"seq\": 0}" 10.0.3.1 "$spi"
done
check "add in SA esn (window 128)" nf A sa add dir in src 10.0.3.2 \
	dst 10.0.3.1 spi 0x4001 proto esp mode tunnel aead aes-gcm-128 key "$K" esn
expect_sa "in esn" '{"esn": true, "replay_window": 128}' 10.0.3.1 0x4001
check "add in SA esn replay-window 4096" nf A sa add dir in src 10.0.3.2 \
	dst 10.0.3.1 spi 0x4002 proto esp mode tunnel aead aes-gcm-128 key "$K" \
	esn replay-window 4096
expect_sa "in esn window 4096" '{"esn": true, "replay_window": 4096}' 10.0.3.1 0x4002
check "add out SA seq 1000" nf A sa add dir out src 10.0.3.1 dst 10.0.3.2 \
	spi 0x4003 proto esp mode tunnel aead aes-gcm-128 key "$K" seq 1000
expect_sa "out seq 1000" '{"seq": 1000, "esn": false}' 10.0.3.2 0x4003
check "add out SA seq 0xfffffff0" nf A sa add dir out src 10.0.3.1 \
	dst 10.0.3.2 spi 0x4004 proto esp mode tunnel aead aes-gcm-128 key "$K" \
	seq 0xfffffff0
expect_sa "out seq 0xfffffff0" '{"seq": 4294967280}' 10.0.3.2 0x4004
check "add out SA esn seq 0x100000000" nf A sa add dir out src 10.0.3.1 \
	dst 10.0.3.2 spi 0x4005 proto esp mode tunnel aead aes-gcm-128 key "$K" \
	esn seq 0x100000000
expect_sa "out esn seq 2^32" '{"seq": 4294967296, "esn": true}' 10.0.3.2 0x4005
for df in copy clear set; do
	spi=$((spi + 1))
	check "add out tunnel SA df $df" nf A sa add dir out src 10.0.3.1 \
		dst 10.0.3.2 spi "$spi" proto esp mode tunnel \
		aead aes-gcm-128 key "$K" df "$df"
	expect_sa "df $df round trip" "{\"df\": \"$df\"}" 10.0.3.2 "$spi"
done
check "add out SA with every lifetime field" nf A sa add dir out src 10.0.3.1 \
	dst 10.0.3.2 spi 0x4006 proto esp mode tunnel aead aes-gcm-128 key "$K" \
	soft-bytes 1000000 hard-bytes 0x200000 soft-packets 1000 \
	hard-packets 2000 soft-seconds 3600 hard-seconds 7200 \
	soft-use-seconds 600 hard-use-seconds 900
expect_sa "every lifetime field round trip" '{"lifetime": {
	"soft_bytes": 1000000, "hard_bytes": 2097152, "soft_packets": 1000,
	"hard_packets": 2000, "soft_seconds": 3600, "hard_seconds": 7200,
	"soft_use_seconds": 600, "hard_use_seconds": 900}}' \
	10.0.3.2 0x4006
check "add in SA with only hard-seconds" nf A sa add dir in src 10.0.3.2 \
	dst 10.0.3.1 spi 0x4007 proto esp mode tunnel aead aes-gcm-128 key "$K" \
	hard-seconds 60
expect_sa "lifetime: unset fields are 0" '{"lifetime": {
	"soft_bytes": 0, "hard_bytes": 0, "soft_packets": 0,
	"hard_packets": 0, "soft_seconds": 0, "hard_seconds": 60,
	"soft_use_seconds": 0, "hard_use_seconds": 0}}' \
	10.0.3.1 0x4007

log "list and count agree"
n_list=$(list_len)
expect_eq "stats sa_count = entries of sa list ($n_list)" "$n_list" "$(sa_count)"
expect_eq "sa list has no duplicate (dst, spi, proto)" "$n_list" \
	"$(nf A -j sa list | jq_py 'len({(s["dst"], s["spi"], s["proto"]) for s in d})')"
expect_eq "sa list --show-keys has as many entries" "$n_list" \
	"$(nf A -j --show-keys sa list | jq_py 'len(d)')"
expect_eq "sa list entry = sa get (spi 0x4006)" \
	"$(nf A -j sa get dst 10.0.3.2 spi 0x4006 proto esp | jq_py '{k: v for k, v in d.items() if k != "stats"}')" \
	"$(nf A -j sa list | jq_py '[{k: v for k, v in s.items() if k != "stats"} for s in d if s["spi"] == 0x4006][0]')"

log "identity is (dst, spi, proto)"
check "add ESP 10.0.4.2 spi 0x5000" nf A sa add dir out src 10.0.4.1 \
	dst 10.0.4.2 spi 0x5000 proto esp mode transport aead aes-gcm-128 key "$K"
check "add AH with the same dst and spi" nf A sa add dir out src 10.0.4.1 \
	dst 10.0.4.2 spi 0x5000 proto ah mode transport \
	auth hmac-sha256-128 key "$A256"
check "add ESP with the same spi, other dst" nf A sa add dir out src 10.0.4.1 \
	dst 10.0.4.3 spi 0x5000 proto esp mode transport aead aes-gcm-128 key "$K"
expect_eq "three SAs with spi 0x5000" 3 \
	"$(nf A -j sa list | jq_py 'sum(s["spi"] == 0x5000 for s in d)')"
check "del the ESP one" nf A sa del dst 10.0.4.2 spi 0x5000 proto esp
expect_eq "AH and the other dst remain" '[["10.0.4.2", "ah"], ["10.0.4.3", "esp"]]' \
	"$(nf A -j sa list | jq_py 'sorted([s["dst"], s["proto"]] for s in d if s["spi"] == 0x5000)')"
expect_fail "get of the deleted SA: no such SA" "no such SA" \
	nf A sa get dst 10.0.4.2 spi 0x5000 proto esp
expect_fail "del of the deleted SA: no such SA" "no such SA.*No such file" \
	nf A sa del dst 10.0.4.2 spi 0x5000 proto esp
expect_fail "del of a never-added SA: no such SA" "no such SA" \
	nf A sa del dst 10.9.9.9 spi 0x5000 proto esp
expect_eq "sa_count after del = $((n_list + 2))" "$((n_list + 2))" "$(sa_count)"

log "update"
check "add out SA 0x6000 aes-gcm-128" nf A sa add dir out src 10.0.5.1 \
	dst 10.0.5.2 spi 0x6000 proto esp mode tunnel aead aes-gcm-128 key "$K" \
	soft-packets 5
before=$(sa_count)
KE=$(hexkey 32 20) KH=$(hexkey 48 21)
check "update to aes-cbc-256 + hmac-sha384-192" nf A sa update dir out \
	src 10.0.5.1 dst 10.0.5.2 spi 0x6000 proto esp mode tunnel \
	enc aes-cbc-256 key "$KE" auth hmac-sha384-192 key "$KH" df set
expect_sa "updated SA: same identity, new algorithms and keys" "{
	\"dir\": \"out\", \"src\": \"10.0.5.1\", \"dst\": \"10.0.5.2\",
	\"spi\": 24576, \"proto\": \"esp\", \"mode\": \"tunnel\",
	\"aead\": \"<absent>\", \"df\": \"set\", \"lifetime\": $LT0,
	\"enc\": {\"name\": \"cbc(aes)\", \"key\": \"0x$KE\"},
	\"auth\": {\"name\": \"hmac(sha384)\", \"trunc_bits\": 192, \"key\": \"0x$KH\"}}" \
	10.0.5.2 0x6000
expect_eq "update does not add an SA" "$before" "$(sa_count)"
K2=$(hexkey 20 22)
check "update back to aes-gcm-128 with a new key" nf A sa update dir out \
	src 10.0.5.1 dst 10.0.5.2 spi 0x6000 proto esp mode tunnel \
	aead aes-gcm-128 key "$K2"
expect_sa "second update: aead with the new key, no enc/auth" \
	"{\"aead\": {\"name\": \"rfc4106(gcm(aes))\", \"icv_bits\": 128, \"key\": \"0x$K2\"}, \"enc\": \"<absent>\", \"auth\": \"<absent>\", \"df\": \"copy\"}" \
	10.0.5.2 0x6000
snap=$(nf A -j --show-keys sa list | jq_py d)
# (two failed dumps would be equal too: the snapshot must hold every SA)
expect_eq "snapshot: sa list holds the $before SAs of sa_count" "$before" \
	"$(jq_py 'len(d) if isinstance(d, list) else "<not a list: %.200r>" % (d,)' <<<"$snap")"
expect_fail "update of a missing SA: no such SA" "no such SA.*No such file" \
	nf A sa update dir out src 10.0.5.1 dst 10.0.5.2 spi 0x6001 proto esp \
	mode tunnel aead aes-gcm-128 key "$K2"
expect_eq "failed update changes nothing" "$snap" \
	"$(nf A -j --show-keys sa list | jq_py d)"

log "showconf | nfsec -b reproduces the state in a fresh namespace"
check "policy out protect" nf A policy add dir out src 192.168.1.0/24 \
	dst 192.168.2.0/24 protect spi 0x1000 dst 10.0.0.2
check "policy in protect tcp dport 22 priority 10" nf A policy add \
	dir in src 10.0.3.0/24 dst 10.0.4.0/24 proto tcp dport 22 \
	priority 10 protect spi 0x4001 dst 10.0.3.1
check "policy fwd bypass udp sport 53" nf A policy add dir fwd src any \
	dst 10.9.0.0/16 proto udp sport 53 bypass
check "policy out discard priority 5" nf A policy add dir out \
	src 10.0.8.0/24 dst any priority 5 discard
check "policy out protect AH" nf A policy add dir out src 10.0.2.1 \
	dst 10.0.2.2 protect spi 0x3000 proto ah
conf=/tmp/nfsec-showconf.$$
nf A showconf >"$conf"
expect_eq "showconf exits 0" 0 "$?"
mapfile -t lines <"$conf"
log "showconf: ${#lines[@]} lines"
text=$(<"$conf")
expect_eq "showconf carries the keys" yes \
	"$([[ ${text,,} == *"$K2"* ]] && echo yes || echo no)"
check "nfsec -b showconf into B" nf B -b "$conf"
# strip what the kernel makes up; SAs in identity order, policies as listed
norm_sa='sorted([{k: v for k, v in s.items() if k not in ("add_time", "stats")} for s in d], key=lambda s: (s["dst"], s["spi"], s["proto"]))'
norm_pol='[{k: v for k, v in p.items() if k not in ("index", "matches")} for p in d]'
sa_a=$(nf A -j --show-keys sa list | jq_py "$norm_sa")
sa_b=$(nf B -j --show-keys sa list | jq_py "$norm_sa")
expect_eq "A's dump to compare holds its sa_count SAs" "$(sa_count)" \
	"$(jq_py 'len(d) if isinstance(d, list) else "<not a list: %.200r>" % (d,)' <<<"$sa_a")"
expect_eq "B has as many SAs as A" "$(list_len)" "$(nf B -j sa list | jq_py 'len(d)')"
expect_eq "B's SAs equal A's, keys included" "$sa_a" "$sa_b"
expect_eq "B's policies equal A's, in order" \
	"$(nf A -j policy list | jq_py "$norm_pol")" \
	"$(nf B -j policy list | jq_py "$norm_pol")"
if [ "$sa_a" != "$sa_b" ]; then
	log "first difference:"
	diff <(jq_py 'json.dumps(d, indent=1, sort_keys=True)' <<<"$sa_a") \
		<(jq_py 'json.dumps(d, indent=1, sort_keys=True)' <<<"$sa_b") | head -20
fi
rm -f "$conf"

log "flush"
n_a=$(sa_count)
pols=$(nf A -j policy list | jq_py 'len(d)')
check "sa flush" nf A sa flush
expect_eq "sa list after flush is []" "[]" "$(nf A -j sa list | jq_py d)"
expect_eq "sa_count after flush 0" 0 "$(sa_count)"
expect_eq "sa flush keeps the policies" "$pols" "$(nf A -j policy list | jq_py 'len(d)')"
check "sa flush of an empty table" nf A sa flush
expect_eq "B untouched by A's flush: sa_count $n_a" "$n_a" \
	"$(ns_stat B sa_count)"
check "re-add after flush" nf A sa add dir out src 10.0.0.1 dst 10.0.0.2 \
	spi 0x1000 proto esp mode tunnel aead aes-gcm-128 key "$K"
expect_eq "sa_count 1 after re-add" 1 "$(sa_count)"

t_end
