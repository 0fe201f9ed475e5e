#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 36-spi.sh: SPI allocation (nfsec sa alloc-spi) and its larval entries.
#
#   a 10.0.0.1 veth0 ---- veth1 10.0.0.2 b        (transport ESP, aes-gcm-128)
#
# 1. a reserves an inbound SPI from b in 0x1000..0x1fff: the SPI is in the
#    range, the entry is in `sa list` as larval (JSON state, timeout 30 s,
#    no direction), counted in sa_count and larval_count; `sa get` finds
#    it; showconf leaves it out; a policy cannot name it.
# 2. b sends ESP with that SPI (an outbound SA of b's with it): a takes
#    none of it. 3 pings, 0 answered: a's no_sa is exactly 3, no other
#    counter of a moved, b's SA sent 3.
# 3. a fills the entry in with `sa update`, b reserves its own inbound SPI
#    and fills it in with `sa add`: both are SAs (state valid, larval_count
#    0, sa_count unchanged by the fill), and 3 pings b -> a pass: exact
#    counts on all four SAs, each way.
# 4. A reservation of 2 s is there at once and gone within 5 s; `nfsec
#    monitor` prints its deletion (sa del larval ...).
# 5. Range 0x3000..0x3003: four reservations take exactly those four SPIs
#    (in some order), the fifth is refused "no free SPI in min..max"; an
#    SA added by hand (0x4000) blocks a reservation of 0x4000..0x4000; the
#    same range for AH, or for another destination, is free.
# 6. Bad ranges and timeouts: min > max, min below 256, timeout 0 and 3601
#    refused with the kernel's message, nothing added.
# 7. 200 reservations from 4 processes at once (50 each, one `nfsec -b`
#    each) in a range of 256 SPIs: 200 different SPIs, all in the range,
#    200 larval entries.
# 8. sa del of a larval entry deletes it; sa flush deletes the rest.
# 9. A namespace deleted with a reservation of 3600 s pending, its expiry
#    work armed: nothing leaks (the harness checks the kernel log; `make
#    check-debug` kmemleak and KASAN).
# 10. rmmod with reservations pending in a (3600 s) and b (1 s, due about
#    then): the unload cancels the works and frees the entries (the
#    nfsec_sa kmem_cache is gone: a leaked entry would keep it, and the
#    kernel would complain); the reloaded module starts empty.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter spi a b	# the rest runs in namespace a

TMP=$(mktemp -d)
link a veth0 10.0.0.1/24 b veth1 10.0.0.2/24
A=10.0.0.1 B=10.0.0.2

# larval NS SPI EXPR: EXPR (python, s = the entry) of the table entry with
# SPI in namespace NS's `sa list`.
larval() {
	nf "$1" -j sa list |
		jq_py '[eval(a.split(" ", 1)[1], {"s": s}) for s in d if s["spi"] == int(a.split()[0], 0)]' "$2 $3"
}
counts() {	# counts NS: "sa_count larval_count"
	nf "$1" -j stats | jq_py '"%d %d" % (d["sa_count"], d["larval_count"])'
}
gcm() {		# gcm NS DIR SRC DST SPI KEY [sa add|update]: an SA
	nf "$1" sa "${7:-add}" dir "$2" src "$3" dst "$4" spi "$5" proto esp \
		mode transport aead aes-gcm-128 key "$6"
}
pol() {		# pol NS DIR SRC DST SPI: a protect policy by SPI
	nf "$1" policy add dir "$2" src "$3" dst "$4" protect spi "$5"
}

log "1. a reserves an inbound SPI in 0x1000..0x1fff"
spi_a=$(nf a sa alloc-spi src $B dst $A proto esp min 0x1000 max 0x1fff)
log "a's SPI: $spi_a"
in_range() {	# in_range SPI MIN MAX: SPI is 0x and 8 hex digits, in range
	[[ $1 =~ ^0x[0-9a-f]{8}$ ]] && (($1 >= $2 && $1 <= $3))
}
check "the SPI is in 0x1000..0x1fff" in_range "$spi_a" 0x1000 0x1fff
expect_eq "a: the entry is larval, from b to a, 30 s left, no direction" \
	'[["larval", "10.0.0.2", "10.0.0.1", "esp", true, false]]' \
	"$(larval a "$spi_a" '[s["state"], s["src"], s["dst"], s["proto"], 29 <= s["timeout"] <= 30, "dir" in s]')"
expect_eq "a: sa_count 1, larval_count 1" "1 1" "$(counts a)"
expect_eq "a: sa get finds it" larval \
	"$(nf a -j sa get dst $A spi "$spi_a" proto esp | jq_py 'd["state"]')"
expect_eq "a: human sa list says larval" \
	"sa larval esp spi $spi_a ($((spi_a))) 10.0.0.2 -> 10.0.0.1" \
	"$(nf a sa list | head -n 1)"
conf=$(nf a showconf)
expect_eq "a: showconf leaves the larval entry out" \
	"# nfsec -b FILE reads this back; it holds keys." "$conf"
expect_fail "a: a policy cannot name a larval SPI" \
	"policy names a larval SPI \(reserved, not an SA yet\)" \
	pol a in $B $A "$spi_a"
reply=$(nf a -j sa alloc-spi src $B dst $A proto ah min 300 max 300 timeout 7)
expect_eq "alloc-spi -j: the entry (AH, SPI 300, timeout 7)" \
	'["larval", 300, "ah", 7]' \
	"$(jq_py '[d["state"], d["spi"], d["proto"], d["timeout"]]' <<<"$reply")"
check "a: del that one" nf a sa del dst $A spi 300 proto ah

log "2. b sends ESP with the larval SPI: a takes none of it"
check "b: out SA $spi_a (the larval SPI)" gcm b out $B $A "$spi_a" "$KEY1"
check "b: out policy" pol b out $B $A "$spi_a"
expect_fail "ping b -> a: 0 of 3" "0 received" \
	on b ping -c 3 -i 0.2 -W 1 $A
expect_eq "a: no_sa 3, nothing else" "no_sa=3" "$(ns_stats a)"
expect_stats "b: its SA sent 3" b "$spi_a" "bytes=252 packets=3"
expect_eq "a: still larval" '["larval"]' "$(larval a "$spi_a" 's["state"]')"

log "3. a fills it in with sa update, b reserves and fills in with sa add"
check "a: sa update fills the larval entry in" \
	gcm a in $B $A "$spi_a" "$KEY1" update
expect_eq "a: an SA now (valid, in)" '[["valid", "in"]]' \
	"$(larval a "$spi_a" '[s["state"], s["dir"]]')"
expect_eq "a: sa_count 1, larval_count 0" "1 0" "$(counts a)"
spi_b=$(nf b sa alloc-spi src $A dst $B proto esp)
log "b's SPI: $spi_b"
check "b: an SPI of the default range" in_range "$spi_b" 256 0xffffffff
expect_eq "b: sa_count 2, larval_count 1" "2 1" "$(counts b)"
check "b: sa add fills its larval entry in" gcm b in $A $B "$spi_b" "$KEY2"
expect_eq "b: sa_count 2, larval_count 0" "2 0" "$(counts b)"
check "a: out SA $spi_b" gcm a out $A $B "$spi_b" "$KEY2"
check "a: out policy" pol a out $A $B "$spi_b"
check "a: in policy" pol a in $B $A "$spi_a"
check "b: in policy" pol b in $A $B "$spi_b"
check "ping b -> a: 3 of 3" on b ping -c 3 -i 0.2 -W 2 $A
expect_stats "a: in $spi_a accepted 3" a "$spi_a" "bytes=252 packets=3"
expect_stats "a: out $spi_b sent 3" a "$spi_b" "bytes=252 packets=3"
expect_stats "b: in $spi_b accepted 3" b "$spi_b" "bytes=252 packets=3"
expect_stats "b: out $spi_a sent 6 (3 of them to the larval entry)" \
	b "$spi_a" "bytes=504 packets=6"
expect_eq "a: no_sa still 3" "no_sa=3" "$(ns_stats a)"
expect_eq "b: no drops" "" "$(ns_stats b)"

log "4. a reservation of 2 s expires"
run_bg a "$NFSEC" monitor >"$TMP/mon.out" 2>&1
mon=$BG_PID
check "nfsec monitor listens" wait_for "monitor" 15 monitor_ready a "$TMP/mon.out"
spi_t=$(nf a sa alloc-spi src $B dst $A proto esp min 0x2000 max 0x2fff timeout 2)
expect_eq "a: the 2 s reservation is there" '["larval"]' \
	"$(larval a "$spi_t" 's["state"]')"
gone() { [ "$(larval a "$spi_t" 's["state"]')" = "[]" ]; }
check "a: gone within 5 s" wait_for "expiry" 5 gone
expect_eq "a: sa_count 2, larval_count 0" "2 0" "$(counts a)"
check "monitor: sa del larval $spi_t" wait_for "del event" 5 \
	file_has "$TMP/mon.out" "sa del larval esp spi $spi_t"
kill "$mon" 2>/dev/null || true

log "5. range 0x3000..0x3003: four, then full"
got=()
for i in 1 2 3 4; do
	got+=("$(nf a sa alloc-spi src $B dst $A proto esp min 0x3000 max 0x3003)")
done
expect_eq "the four SPIs of the range" "0x00003000 0x00003001 0x00003002 0x00003003" \
	"$(printf '%s\n' "${got[@]}" | sort | xargs)"
expect_fail "the fifth: no free SPI" "no free SPI in min\.\.max" \
	nf a sa alloc-spi src $B dst $A proto esp min 0x3000 max 0x3003
expect_eq "a: sa_count 6, larval_count 4" "6 4" "$(counts a)"
check "a: SA 0x4000 added by hand" gcm a in $B $A 0x4000 "$KEY3"
expect_fail "0x4000..0x4000: taken by the SA" "no free SPI in min\.\.max" \
	nf a sa alloc-spi src $B dst $A proto esp min 0x4000 max 0x4000
expect_eq "AH has its own SPIs" 0x00003000 \
	"$(nf a sa alloc-spi src $B dst $A proto ah min 0x3000 max 0x3000)"
expect_eq "another destination has its own SPIs" 0x00003000 \
	"$(nf a sa alloc-spi src $B dst 10.0.0.9 proto esp min 0x3000 max 0x3000)"
expect_eq "IPv6 has its own SPIs" 0x00003000 \
	"$(nf a sa alloc-spi src ::2 dst ::1 proto esp min 0x3000 max 0x3000)"

log "6. bad ranges and timeouts"
before=$(counts a)
expect_fail "min > max" "spi-min above spi-max" \
	nf a sa alloc-spi src $B dst $A proto esp min 0x5000 max 0x4fff
expect_fail "min below 256" "spi-min below 256" \
	nf a sa alloc-spi src $B dst $A proto esp min 255 max 0x5000
expect_fail "timeout 0" "timeout out of range \(1-3600 seconds\)" \
	nf a sa alloc-spi src $B dst $A proto esp timeout 0
expect_fail "timeout 3601" "timeout out of range \(1-3600 seconds\)" \
	nf a sa alloc-spi src $B dst $A proto esp timeout 3601
expect_eq "a: nothing added" "$before" "$(counts a)"

log "7. 200 reservations from 4 processes at once, in 256 SPIs"
for i in 1 2 3 4; do
	for j in $(seq 50); do
		echo "sa alloc-spi src $B dst $A proto esp min 0x5000 max 0x50ff"
	done >"$TMP/batch$i"
done
pids=()
for i in 1 2 3 4; do
	"$NFSEC" -b "$TMP/batch$i" >"$TMP/spis$i" 2>&1 &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do
	wait "$p" || rc=1
done
expect_eq "4 batches of 50 succeeded" 0 "$rc"
expect_eq "200 SPIs, 200 different" "200 200" \
	"$(cat "$TMP"/spis? | wc -l) $(sort -u "$TMP"/spis? | wc -l)"
out=$(cat "$TMP"/spis? | while read -r s; do
	in_range "$s" 0x5000 0x50ff || echo "$s"
done)
expect_eq "all in 0x5000..0x50ff" "" "$out"
expect_eq "a: larval_count 200 + 7" 207 "$(nf a -j stats | jq_py 'd["larval_count"]')"

log "8. sa del and sa flush of larval entries"
first=$(head -n 1 "$TMP/spis1")
check "a: sa del $first (larval)" nf a sa del dst $A spi "$first" proto esp
expect_eq "a: it is gone" "[]" "$(larval a "$first" 's["state"]')"
expect_eq "a: larval_count 206" 206 "$(nf a -j stats | jq_py 'd["larval_count"]')"
check "a: sa flush" nf a sa flush
expect_eq "a: sa_count 0, larval_count 0" "0 0" "$(counts a)"

log "9. a namespace deleted with a reservation pending"
c=spi-c-$$
check "c: created" ip netns add $c
check "c: a reservation of 3600 s" \
	ip netns exec $c "$NFSEC" sa alloc-spi src $B dst $A proto esp timeout 3600
check "c: deleted" ip netns del $c

log "10. rmmod with reservations pending in a and b"
check "a: a reservation of 3600 s" nf a sa alloc-spi src $B dst $A proto esp timeout 3600
check "b: one of 1 s" nf b sa alloc-spi src $A dst $B proto esp timeout 1
sleep 1.5	# (b's may expire before or during the unload: either will do)
check "rmmod nfsec" module_unload
slab=no
while read -r name _; do
	[ "$name" != nfsec_sa ] || slab=yes
done </proc/slabinfo
expect_eq "kmem_cache nfsec_sa destroyed (no entry left behind)" no "$slab"
check "insmod nfsec" module_load
expect_eq "a: empty after the reload" "0 0" "$(counts a)"

rm -rf "$TMP"
t_end
