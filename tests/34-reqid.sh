#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 34-reqid.sh: protect policies that name their SAs by reqid, the way a
# key-exchange daemon rekeys them, and policy update under traffic.
#
#   ha 192.168.1.10                                          hb 192.168.2.10
#    | eth0                                                      eth0 |
#    | lan0 192.168.1.1                          192.168.2.1 lan0 |
#   ga  wan0 10.0.1.1 --- 10.0.1.254  inet  10.0.2.254 --- 10.0.2.1 wan0  gb
#                                     10.0.3.254 --- rh (unused)
#
#   inet has no route to 192.168.0.0/16: what crosses between the sites
#   crosses inside ESP. Captured on all of inet's links for the whole
#   script: not one packet with a 192.168 address, nothing but ESP.
#   ga and gb run a stateful nftables filter (conntrack), which drops
#   nothing.
#
# 1. nfsec on both gateways, tunnel aes-gcm-128, every policy by reqid 1.
#    Exact per-SA counts after each step of ping -c 3 ha -> hb:
#    - SAs 0x2001 (ga -> gb) and 0x2002 (gb -> ga);
#    - rekey ga -> gb: gb's inbound 0x2011 first, then ga's outbound 0x2011:
#      traffic takes 0x2011 at once;
#    - ga's 0x2011 deleted: back on 0x2001, which gb still accepts beside
#      0x2011 (two inbound SAs of one reqid);
#    - a newer SA with one sequence number left (seq 0xfffffffe) carries
#      one packet, then the policy is back on 0x2001 (rebound from a work
#      item); one with hard-packets 2 carries two, reaches its hard limit
#      and is deleted (RFC 4301 4.4.2.1): the policy is back on 0x2001;
#    - 0x2001 deleted: the spent SA of the reqid is left and is not
#      usable: every request dropped, counted no_sa_out; then none left.
# 2. policy update while ha floods hb (ping -i 0.01): ga's out policy goes
#    from protect spi 0x2101 to protect reqid 2 (newest: 0x2102), to
#    discard, and back to protect spi 0x2101, each once the phase before
#    carried traffic. Every request ha sent is accounted for: protected by
#    0x2101 or 0x2102, or discarded; gb accepted what ga protected; every
#    protected request got its reply; no_sa_out did not move; the policy,
#    updated in place, counted every request among its matches.
# 3. ga (nfsec, policies by reqid 7 with mode and dst) against gb running
#    XFRM with reqid templates (ip xfrm policy ... tmpl ... reqid 7), both
#    directions, the rekey of each direction as in 1: the new SA takes the
#    traffic, and the old inbound one is still accepted on either side.
# 4. rh, with an SA of reqid 7 into ga, sends from 192.168.2.99 (site b):
#    ga's fwd policy by reqid 7 without the SA's src accepts it; updated
#    by its index to the SAs from gb only (src 10.0.2.1), it refuses it
#    (counted policy on rh's SA) and still accepts gb's.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter reqid ha ga inet gb hb rh	# the rest runs in namespace ha

TMP=$(mktemp -d)
sites ha ga inet gb hb rh
check "ga: stateful nftables filter (conntrack)" ct_filter ga 'iifname "lan0" accept'
check "gb: stateful nftables filter (conntrack)" ct_filter gb 'iifname "lan0" accept' \
	'meta secpath exists accept'

A=10.0.1.1 B=10.0.2.1 LA=192.168.1.0/24 LB=192.168.2.0/24
# sa GW DIR SPI KEY REQID [WORDS...]: an aes-gcm-128 tunnel SA of gateway
# GW (ga or gb) from its side: out to the other gateway, in from it.
sa() {
	local l=$A r=$B
	[ "$1" = gb ] && l=$B r=$A
	[ "$2" = in ] && { local t=$l; l=$r r=$t; }
	nf "$1" sa add dir "$2" src "$l" dst "$r" spi "$3" proto esp \
		mode tunnel aead aes-gcm-128 key "$4" reqid "$5" "${@:6}"
}
# sas GW REQID "DIR SPI KEY"...: those SAs of GW, all of reqid REQID.
sas() {
	local gw=$1 reqid=$2 w d spi key
	shift 2
	for w in "$@"; do
		read -r d spi key <<<"$w"
		sa "$gw" "$d" "$spi" "$key" "$reqid" || return 1
	done
}
# reqid_policies GW REQID: GW's out and fwd policies between the sites by
# REQID.
reqid_policies() {
	local l=$LA r=$LB
	[ "$1" = gb ] && l=$LB r=$LA
	nf "$1" -b - <<-EOF
		policy add dir out src $l dst $r protect reqid $2
		policy add dir fwd src $r dst $l protect reqid $2
	EOF
}
# pings N: ping -c N ha -> hb, all answered.
pings() {
	check "ping ha -> hb, $1 of $1" on ha ping -c "$1" -i 0.2 -W 2 192.168.2.10
}
# counts DESC "NS SPI WANT"...: each SA's counters, exactly.
counts() {
	local desc=$1 ns spi want
	shift
	for w in "$@"; do
		read -r ns spi want <<<"$w"
		expect_stats "$desc: $ns $spi" "$ns" "$spi" "$want" || true
	done
}
flush_gw() {	# flush_gw GW: no policy, no SA
	nf "$1" -b - <<<$'policy flush\nsa flush'
}
p() {	# p N: "bytes=B packets=N" for N pings of 84 bytes
	echo "bytes=$(($1 * 84)) packets=$1"
}

cap_start inet any "$TMP/inet.pcap"

log "1. nfsec to nfsec, policies by reqid 1"
check "ga: SAs 0x2001 out, 0x2002 in, reqid 1" sas ga 1 \
	"out 0x2001 $KEY1" "in 0x2002 $KEY2"
check "gb: SAs 0x2002 out, 0x2001 in, reqid 1" sas gb 1 \
	"out 0x2002 $KEY2" "in 0x2001 $KEY1"
check "ga: policies by reqid 1" reqid_policies ga 1
check "gb: policies by reqid 1" reqid_policies gb 1
pings 3
counts "first SAs" "ga 0x2001 $(p 3)" "gb 0x2001 $(p 3)" \
	"gb 0x2002 $(p 3)" "ga 0x2002 $(p 3)"

log "rekey ga -> gb: gb's inbound 0x2011, then ga's outbound 0x2011"
check "gb: in SA 0x2011 reqid 1" sa gb in 0x2011 "$KEY3" 1
check "ga: out SA 0x2011 reqid 1" sa ga out 0x2011 "$KEY3" 1
pings 3
counts "after the rekey" "ga 0x2011 $(p 3)" "gb 0x2011 $(p 3)" \
	"ga 0x2001 $(p 3)" "gb 0x2001 $(p 3)" "gb 0x2002 $(p 6)" \
	"ga 0x2002 $(p 6)"

log "ga's 0x2011 deleted: back on 0x2001, which gb still accepts"
check "ga: del out SA 0x2011" nf ga sa del dst $B spi 0x2011 proto esp
pings 3
counts "after the fallback" "ga 0x2001 $(p 6)" "gb 0x2001 $(p 6)" \
	"gb 0x2011 $(p 3)" "ga 0x2002 $(p 9)"

log "an SA with one sequence number left, then one with hard-packets 2"
check "gb: in SA 0x2021 reqid 1" sa gb in 0x2021 "$KEY4" 1
check "ga: out SA 0x2021 reqid 1, seq 0xfffffffe" \
	sa ga out 0x2021 "$KEY4" 1 seq 0xfffffffe
# (the first packet takes the last number; the SA's policy is rebound from
# a work item before the next, 0.2 s later)
pings 3
counts "seq spent after one packet" "ga 0x2021 $(p 1)" "gb 0x2021 $(p 1)" \
	"ga 0x2001 $(p 8)" "gb 0x2001 $(p 8)"
check "gb: in SA 0x2031 reqid 1" sa gb in 0x2031 "$KEY2" 1
check "ga: out SA 0x2031 reqid 1, hard-packets 2" \
	sa ga out 0x2031 "$KEY2" 1 hard-packets 2
pings 3
counts "hard limit after two packets" "gb 0x2031 $(p 2)" \
	"ga 0x2001 $(p 9)" "gb 0x2001 $(p 9)" "ga 0x2002 $(p 15)"
check "ga: 0x2031 deleted at its hard limit" wait_for "0x2031 deleted" 5 \
	stat_is ga 0x2031 "<no SA 0x2031>"
expect_eq "ga: no namespace drops yet" "" "$(ns_stats ga)" || true

log "0x2001 deleted: 0x2021 is left, spent"
check "ga: del out SA 0x2001" nf ga sa del dst $B spi 0x2001 proto esp
expect_fail "ping ha -> hb: no usable SA, nothing comes back" "100% packet loss" \
	on ha ping -c 3 -i 0.2 -W 1 192.168.2.10
expect_eq "ga: 3 requests dropped, counted no_sa_out" "no_sa_out=3" "$(ns_stats ga)" || true
counts "the spent SA carried nothing more" "ga 0x2021 $(p 1)"
check "ga: the spent SA deleted" nf ga sa del dst $B spi 0x2021 proto esp
expect_fail "ping ha -> hb: no SA of the reqid at all" "100% packet loss" \
	on ha ping -c 2 -i 0.2 -W 1 192.168.2.10
expect_eq "ga: 2 more, no_sa_out 5" "no_sa_out=5" "$(ns_stats ga)" || true

log "2. policy update under a ping flood"
check "ga: flushed" flush_gw ga
check "gb: flushed" flush_gw gb
check "ga: out SAs 0x2101, 0x2102 (newer), in 0x2202, reqid 2" sas ga 2 \
	"out 0x2101 $KEY1" "out 0x2102 $KEY3" "in 0x2202 $KEY2"
check "gb: in SAs 0x2101, 0x2102, out 0x2202, reqid 2" sas gb 2 \
	"in 0x2101 $KEY1" "in 0x2102 $KEY3" "out 0x2202 $KEY2"
check "gb: policies by reqid 2" reqid_policies gb 2
check "ga: out policy by spi 0x2101, fwd by reqid 2" nf ga -b - <<EOF
policy add dir out src $LA dst $LB protect spi 0x2101 dst $B
policy add dir fwd src $LB dst $LA protect reqid 2
EOF
# update WORDS...: ga's out policy between the sites takes WORDS.
update() {
	nf ga policy update dir out src $LA dst $LB "$@"
}
# packets_at_least NS SPI N: the SA has counted N packets or more
packets_at_least() {
	[ "$(sa_field "$1" "$2" stats.packets)" -ge "$3" ]
}
discards_at_least() {
	[ "$(ns_stat ga discard)" -ge "$1" ]
}
N=1500
run_bg ha ping -q -c $N -i 0.01 -W 2 192.168.2.10 >"$TMP/flood.out" 2>&1
flood=$BG_PID
check "phase 1: 0x2101 carries the flood" wait_for "0x2101" 30 packets_at_least ga 0x2101 50
check "update: protect spi 0x2101 -> protect reqid 2" update protect reqid 2
check "phase 2: 0x2102 (the newest of reqid 2) carries it" \
	wait_for "0x2102" 30 packets_at_least ga 0x2102 50
check "update: -> discard" update discard
check "phase 3: discarded" wait_for "discards" 30 discards_at_least 50
check "update: -> protect spi 0x2101 dst $B" update protect spi 0x2101 dst $B
p1=$(sa_field ga 0x2101 stats.packets)
check "phase 4: 0x2101 again" wait_for "0x2101" 30 packets_at_least ga 0x2101 $((p1 + 50))
wait "$flood" || true
out=$(<"$TMP/flood.out")
log "${out//$'\n'/ / }"
sent=x got=x
[[ $out =~ ([0-9]+)\ packets\ transmitted,\ ([0-9]+)\ received ]] &&
	sent=${BASH_REMATCH[1]} got=${BASH_REMATCH[2]}
expect_eq "ha sent $N requests" $N "$sent" || true
s1=$(sa_field ga 0x2101 stats.packets) s2=$(sa_field ga 0x2102 stats.packets)
d=$(ns_stat ga discard)
log "protected by 0x2101: $s1, by 0x2102: $s2, discarded: $d; replies: $got"
expect_eq "every request: protected by 0x2101 or 0x2102, or discarded" \
	$N "$((s1 + s2 + d))" || true
expect_eq "ga: no other namespace drop (no_sa_out as before)" \
	"discard=$d no_sa_out=5" "$(ns_stats ga)" || true
counts "gb accepted what ga protected" \
	"gb 0x2101 $(traffic "$(sa_stats ga 0x2101)")" \
	"gb 0x2102 $(traffic "$(sa_stats ga 0x2102)")"
expect_eq "every protected request got its reply" "$((s1 + s2))" "$got" || true
expect_eq "ga: its out policy counted every request as one policy, across the updates" \
	"[$N]" "$(nf ga -j policy list | jq_py '[p["matches"] for p in d if p["dir"] == "out"]')" || true
expect_eq "gb: no namespace drops" "" "$(ns_stats gb)" || true

log "3. nfsec (ga) against XFRM (gb) with reqid templates"
check "ga: flushed" flush_gw ga
check "gb: flushed" flush_gw gb
check "ga: SAs 0x4001 out, 0x4002 in, reqid 7" sas ga 7 \
	"out 0x4001 $KEY1" "in 0x4002 $KEY2"
check "ga: policies by reqid 7, mode tunnel, with the SAs' dst" nf ga -b - <<EOF
policy add dir out src $LA dst $LB protect reqid 7 mode tunnel dst $B
policy add dir fwd src $LB dst $LA protect reqid 7 mode tunnel dst $A
EOF
# xs SRC DST SPI KEY: an XFRM state on gb, reqid 7
xs() {
	echo "xfrm state add src $1 dst $2 proto esp spi $3 reqid 7 mode tunnel aead rfc4106(gcm(aes)) $4 128"
}
check "gb: XFRM states 0x4001, 0x4002 and policies with reqid 7 templates" ipb gb <<EOF
$(xs $A $B 0x4001 "$KEY1")
$(xs $B $A 0x4002 "$KEY2")
xfrm policy add src $LB dst $LA dir out tmpl src $B dst $A proto esp mode tunnel reqid 7
xfrm policy add src $LA dst $LB dir fwd tmpl src $A dst $B proto esp mode tunnel reqid 7
EOF
# xf SPI: packets of gb's XFRM state SPI
xf() {
	local out
	out=$(ip -n "$(ns_name gb)" -s xfrm state get src "$2" dst "$3" proto esp spi "$1" 2>&1)
	[[ $out =~ \(bytes\),\ ([0-9]+)\(packets\) ]] && echo "${BASH_REMATCH[1]}" || echo "<$out>"
}
xf_is() {	# xf_is DESC SPI SRC DST WANT
	expect_eq "$1" "$5" "$(xf "$2" "$3" "$4")" || true
}
pings 2
check "ping hb -> ha via XFRM and nfsec, 2 of 2" on hb ping -c 2 -i 0.2 -W 2 192.168.1.10
counts "nfsec <-> XFRM" "ga 0x4001 $(p 4)" "ga 0x4002 $(p 4)"
xf_is "gb: XFRM in 0x4001: 4 packets" 0x4001 $A $B 4
xf_is "gb: XFRM out 0x4002: 4 packets" 0x4002 $B $A 4

log "rekey nfsec -> XFRM: XFRM's inbound 0x4011, then nfsec's outbound"
check "gb: XFRM state 0x4011 reqid 7" ipb gb <<<"$(xs $A $B 0x4011 "$KEY3")"
check "ga: out SA 0x4011 reqid 7" sa ga out 0x4011 "$KEY3" 7
pings 2
counts "after the rekey" "ga 0x4011 $(p 2)" "ga 0x4001 $(p 4)"
xf_is "gb: XFRM in 0x4011: 2 packets" 0x4011 $A $B 2
check "ga: del out SA 0x4011" nf ga sa del dst $B spi 0x4011 proto esp
pings 2
counts "back on 0x4001" "ga 0x4001 $(p 6)" "ga 0x4002 $(p 8)"
xf_is "gb: XFRM still accepts the old 0x4001: 6 packets" 0x4001 $A $B 6

log "rekey XFRM -> nfsec: nfsec's inbound 0x4012, then XFRM's outbound"
check "ga: in SA 0x4012 reqid 7" sa ga in 0x4012 "$KEY4" 7
check "gb: XFRM state 0x4012 reqid 7" ipb gb <<<"$(xs $B $A 0x4012 "$KEY4")"
check "ping hb -> ha, 2 of 2" on hb ping -c 2 -i 0.2 -W 2 192.168.1.10
counts "XFRM sends with 0x4012" "ga 0x4012 $(p 2)" "ga 0x4002 $(p 8)" \
	"ga 0x4001 $(p 8)"
xf_is "gb: XFRM out 0x4012: 2 packets" 0x4012 $B $A 2
check "gb: XFRM state 0x4012 deleted" ipb gb <<<"xfrm state del src $B dst $A proto esp spi 0x4012"
check "ping hb -> ha, 2 of 2" on hb ping -c 2 -i 0.2 -W 2 192.168.1.10
counts "XFRM back on 0x4002, which nfsec still accepts" "ga 0x4002 $(p 10)" \
	"ga 0x4012 $(p 2)" "ga 0x4001 $(p 10)"
expect_eq "ga: no namespace drops but those of 1 and 2" \
	"discard=$d no_sa_out=5" "$(ns_stats ga)" || true
ct_clean ga gb

log "4. the inbound SAs' source: rh claims site b's addresses with reqid 7"
R=10.0.3.10
check "rh: 192.168.2.99 on lo, an XFRM tunnel to ga claiming it (0x4099)" ipb rh <<EOF
addr add 192.168.2.99/32 dev lo
xfrm state add src $R dst $A proto esp spi 0x4099 reqid 7 mode tunnel aead rfc4106(gcm(aes)) $KEY3 128
xfrm policy add src 192.168.2.99 dst 192.168.1.10 dir out tmpl src $R dst $A proto esp mode tunnel reqid 7
EOF
check "ga: in SA 0x4099 from rh, reqid 7" nf ga sa add dir in src $R dst $A \
	spi 0x4099 proto esp mode tunnel aead aes-gcm-128 key "$KEY3" reqid 7
# rh_ping: one echo request rh (192.168.2.99) -> ha; no reply is awaited
rh_ping() {
	on rh ping -c 1 -W 1 -I 192.168.2.99 192.168.1.10 >/dev/null || true
}
rh_ping
expect_stats "without the SA's src, ga's fwd policy takes rh's packet" \
	ga 0x4099 "$(p 1)" || true
idx=$(nf ga -j policy list | jq_py '[p["index"] for p in d if p["dir"] == "fwd"][0]')
check "ga: fwd policy (index $idx) updated by its index: SAs of reqid 7 from $B only" \
	nf ga policy update index "$idx" dir fwd src $LB dst $LA \
	protect reqid 7 mode tunnel dst $A src $B
expect_eq "ga: the policy lists the SA src" \
	"{\"dst\": \"$A\", \"mode\": \"tunnel\", \"proto\": \"esp\", \"reqid\": 7, \"src\": \"$B\"}" \
	"$(nf ga -j policy list | jq_py '[p["sa"] for p in d if p["dir"] == "fwd"][0]')" || true
rh_ping
expect_stats "with it, rh's packet fails the policy check" ga 0x4099 \
	"$(p 1) policy=1" || true
check "ping hb -> ha from gb's address, 2 of 2" on hb ping -c 2 -i 0.2 -W 2 192.168.1.10
counts "gb's SA 0x4002 still passes" "ga 0x4002 $(p 12)"
cap_stop "$TMP/inet.pcap"

log "inet saw ESP only, the whole time"
cap_sites_esp "$TMP/inet.pcap"

rm -rf "$TMP"
t_end
