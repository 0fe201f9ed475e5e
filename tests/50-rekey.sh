#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 50-rekey.sh: hitless rekey on the wire. Numbered UDP streams run both
# ways through a tunnel while its SA pair is rekeyed three times, the way
# an IKE daemon does it; every datagram must arrive, and only ESP may
# cross the link.
#
#   ha 192.168.1.10                                      hb 192.168.2.10
#    | eth0                                                  eth0 |
#    | lan0 192.168.1.1                          192.168.2.1 lan0 |
#   ga (nfsec)  wan0 10.0.0.1 ------------ 10.0.0.2 wan0  gb (XFRM, then nfsec)
#                          captured here
#
#   Tunnel mode aes-gcm-128 between ga and gb for 192.168.1.0/24 <->
#   192.168.2.0/24; every policy names its SAs by reqid 7 (nfsec: protect
#   reqid 7 mode tunnel dst; XFRM: tmpl ... reqid 7). Both gateways run a
#   stateful nftables filter (conntrack) that must drop nothing.
#
# ha and hb each run udp_seq.py: 200 datagrams/s to the other, each
# carrying its phase and sequence number; the receiver counts the distinct
# numbers and the duplicates per phase. Phase 0 runs on the first SA pair
# (generation 0), phase K is rekey K (generation K), from its first SA add
# to the next rekey. Rekey K, in the order an IKE daemon uses:
#   1. the new inbound SAs on both sides: ga's b->a, then gb's a->b;
#   2. the new outbound SAs on both sides, gb's b->a (in the same batch
#      as its inbound one), then ga's a->b: traffic takes them at once;
#   3. a second after 2, the old SAs deleted on both sides.
# Asserted per rekey: the four new SAs carry traffic after the switch
# and the four old ones stop growing (read when the new ones are seen
# carrying, 0.2 s or more after the switch, and again a second after
# it). Per phase and direction: sent == received, no duplicate (the
# "# run R ... rekey K a->b: sent S received R" lines). Per run and
# direction: the SAs of all generations protected every datagram sent
# (and the 2 pings), the other side opened every one received.
#
# Run 1: gb runs XFRM. Run 2: gb runs nfsec, and a rekey 4 done in the
# wrong order (ga's new outbound a->b SA 0.3 s before gb's inbound one)
# shows that loss is seen: a->b loses datagrams, exactly as many as gb
# counts no_sa, b->a none.
#
# The capture on ga's wan0 for both runs: no packet with a 192.168
# address, no IPv4 but ESP, and as many ESP packets as the SAs protected.
#
# NFSEC_REKEY_RATE sets the streams' rate (200 datagrams/s each way).
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter rekey ha ga gb hb	# the rest runs in namespace ha

TMP=$(mktemp -d)
A=10.0.0.1 B=10.0.0.2 LA=192.168.1.0/24 LB=192.168.2.0/24
HA=192.168.1.10 HB=192.168.2.10
RATE=${NFSEC_REKEY_RATE:-200}	# datagrams/s each way
KEYS=("$KEY1" "$KEY2" "$KEY3" "$KEY4")

topology() {
	link ha eth0 $HA/24 ga lan0 192.168.1.1/24 &&
	link ga wan0 $A/24 gb wan0 $B/24 &&
	link gb lan0 192.168.2.1/24 hb eth0 $HB/24 || return 1
	echo "route add default via 192.168.1.1" | ipb ha
	echo "route add default via 192.168.2.1" | ipb hb
	echo "route add default via $B" | ipb ga
	echo "route add default via $A" | ipb gb
	on ga sysctl -qw net.ipv4.ip_forward=1 &&
	on gb sysctl -qw net.ipv4.ip_forward=1
}
check "ha - ga - gb - hb, the gateways forwarding" topology
check "ga: stateful nftables filter (conntrack)" ct_filter ga 'iifname "lan0" accept'
check "gb: stateful nftables filter (conntrack)" ct_filter gb 'iifname "lan0" accept' \
	'meta secpath exists accept'

# Generation K of the SA pair: a->b SPI BASE + 16K + 1 with KEYS[K % 4],
# b->a SPI BASE + 16K + 2 with KEYS[(K + 2) % 4]. a->b is ga's out and
# gb's in SA. GB is gb's data path, xfrm or nfsec.
BASE=0 GB=xfrm

# sa_line GW VERB DIR K: the command (nfsec -b or ip -b) that adds or
# deletes GW's SA of generation K in direction DIR.
sa_line() {
	local gw=$1 verb=$2 dir=$3 k=$4 d=2 src=$B dst=$A spi key
	if [ "$gw/$dir" = ga/out ] || [ "$gw/$dir" = gb/in ]; then
		d=1 src=$A dst=$B
	fi
	spi=$(printf '0x%x' $((BASE + 16 * k + d)))
	key=${KEYS[(k + 2 * (d - 1)) % 4]}
	if [ "$gw/$GB" = gb/xfrm ]; then
		case $verb in
		add) echo "xfrm state add src $src dst $dst proto esp spi $spi reqid 7" \
			"mode tunnel aead rfc4106(gcm(aes)) $key 128" ;;
		del) echo "xfrm state del src $src dst $dst proto esp spi $spi" ;;
		esac
	else
		case $verb in
		add) echo "sa add dir $dir src $src dst $dst spi $spi proto esp" \
			"mode tunnel aead aes-gcm-128 key $key reqid 7" ;;
		del) echo "sa del dst $dst spi $spi proto esp" ;;
		esac
	fi
}
# sas GW VERB "DIR K"...: those adds or deletes on GW, in one batch.
sas() {
	local gw=$1 verb=$2 w lines=
	shift 2
	for w in "$@"; do
		# shellcheck disable=SC2086 # $w is two words
		lines+=$(sa_line "$gw" "$verb" $w)$'\n'
	done
	if [ "$gw/$GB" = gb/xfrm ]; then
		ipb gb <<<"$lines"
	else
		nf "$gw" -b - <<<"$lines"
	fi
}
# key GW DIR K: GW's SA of generation K in DIR as PK's key "GW:SPI".
key() {
	local d=2
	[ "$1/$2" = ga/out ] || [ "$1/$2" = gb/in ] && d=1
	echo "$1:$((BASE + 16 * $3 + d))"
}
# gen K: the keys of generation K's four SAs.
gen() {
	echo "$(key ga out "$1") $(key gb in "$1") $(key gb out "$1") $(key ga in "$1")"
}

declare -A PK=()
# snap: PK["GW:SPI"] = the packets of each SA of ga and gb, now.
snap() {
	local w line cur=
	PK=()
	for w in $(nf ga -j sa list |
		   jq_py '" ".join("%d=%d" % (s["spi"], s["stats"]["packets"]) for s in d)'); do
		PK[ga:${w%=*}]=${w#*=}
	done
	if [ "$GB" = nfsec ]; then
		for w in $(nf gb -j sa list |
			   jq_py '" ".join("%d=%d" % (s["spi"], s["stats"]["packets"]) for s in d)'); do
			PK[gb:${w%=*}]=${w#*=}
		done
		return
	fi
	while IFS= read -r line; do
		if [[ $line =~ proto\ esp\ spi\ (0x[0-9a-f]+) ]]; then
			cur=$((BASH_REMATCH[1]))
		elif [[ -n $cur && $line =~ ([0-9]+)\(bytes\),\ ([0-9]+)\(packets\) ]]; then
			PK[gb:$cur]=${BASH_REMATCH[2]}
			cur=
		fi
	done <<<"$(ip -n "$(ns_name gb)" -s xfrm state list)"
}
# pk KEY...: "GW:0xSPI=packets ..." of those SAs from the last snap ("-"
# for an SA not there).
pk() {
	local k out=
	for k; do
		printf -v out '%s%s:0x%x=%s' "${out:+$out }" "${k%%:*}" "${k#*:}" "${PK[$k]:--}"
	done
	echo "$out"
}
# carry K: the four SAs of generation K have carried packets (for wait_for).
carry() {
	local k
	snap
	for k in $(gen "$1"); do
		[ "${PK[$k]:-0}" -gt 0 ] || return 1
	done
}
# tally KEY...: add the packets of those SAs (last snap) to the run's
# totals: PROT_AB (ga's out), OPEN_AB (gb's in), PROT_BA, OPEN_BA.
tally() {
	local k
	for k; do
		case ${k%%:*}$((${k#*:} & 15)) in
		ga1) PROT_AB=$((PROT_AB + PK[$k])) ;;
		gb1) OPEN_AB=$((OPEN_AB + PK[$k])) ;;
		gb2) PROT_BA=$((PROT_BA + PK[$k])) ;;
		ga2) OPEN_BA=$((OPEN_BA + PK[$k])) ;;
		esac
	done
}

# stream CMD: CMD to both udp_seq.py (ha's, hb's); their answers in RA, RB.
stream() {
	printf '%s\n' "$1" >&"$UA_TO"
	printf '%s\n' "$1" >&"$UB_TO"
	RA='' RB=''
	IFS= read -r -t 30 -u "$UA_FROM" RA || true
	IFS= read -r -t 30 -u "$UB_FROM" RB || true
	[ "$RA" = ok ] && [ "$RB" = ok ]
}

# rekey K: rekey K, as the header says.
rekey() {
	local k=$1 o=$(($1 - 1)) t0=$EPOCHREALTIME t old1 old2 new1 new2 n
	check "rekey $k: streams in phase $k" stream "phase $k"
	check "rekey $k: ga's new inbound SA (b->a)" sas ga add "in $k"
	check "rekey $k: gb's new inbound SA (a->b), then its new outbound (b->a)" \
		sas gb add "in $k" "out $k"
	check "rekey $k: ga's new outbound SA (a->b)" sas ga add "out $k"
	t=${EPOCHREALTIME/./}
	# the last packets sent on the old SAs have arrived a while before
	# the read that sees the new ones all carry
	sleep 0.2
	wait_for "generation $k" 5 carry "$k" &&
		ok "rekey $k: the new SAs carry traffic both ways" ||
		not_ok "rekey $k: the new SAs carry traffic both ways" "$(pk $(gen "$k"))"
	old1=$(pk $(gen $o)) new1=$(pk $(gen "$k"))
	n=$((1000000 - (${EPOCHREALTIME/./} - t)))
	[ "$n" -le 0 ] || sleep "$(printf '0.%06d' "$n")"
	snap
	old2=$(pk $(gen $o)) new2=$(pk $(gen "$k"))
	log "rekey $k: old SAs $old2; new SAs $new1, a second after the switch $new2"
	expect_eq "rekey $k: the old SAs stopped growing after the switch" "$old1" "$old2" || true
	check "rekey $k: the new SAs still growing" grew "$new1" "$new2" || true
	tally $(gen $o)
	check "rekey $k: old SAs deleted, ga's, then gb's" both del in "$o" "out $o" || true
	log "rekey $k took $(elapsed "$t0")"
}
# both VERB DIR K [WORDS...]: sas GW VERB "DIR K" [WORDS...] on ga, then on gb.
both() {
	sas ga "$1" "$2 $3" "${@:4}" && sas gb "$1" "$2 $3" "${@:4}"
}
# grew "K=N ..." "K=M ...": each M > N.
grew() {
	local -a a b
	local i
	read -ra a <<<"$1"
	read -ra b <<<"$2"
	for i in "${!a[@]}"; do
		[ "${b[i]#*=}" -gt "${a[i]#*=}" ] || { echo "${a[i]} -> ${b[i]}"; return 1; }
	done
}

# report RUN: stop the streams, print and assert the figures per phase
# and direction, and the run's totals. The figures stay in the arrays sa,
# sb (sent by ha, hb), ra, rb (received), da, db (duplicates) per phase.
# LOSSY: a phase whose loss is not a failure.
report() {
	local i name oa ob t0=$EPOCHREALTIME
	# (not in check: the answers must reach this shell)
	stream stop || true
	[[ $RA == sent* && $RB == sent* ]] && ok "$1: streams stopped, their figures in" ||
		not_ok "$1: streams stopped, their figures in" "ha: $RA" "hb: $RB"
	# "sent S0 S1 ...;recv R0 ...;dup D0 ...;other O"
	IFS=';' read -r sa ra da oa <<<"$RA"
	IFS=';' read -r sb rb db ob <<<"$RB"
	read -ra sa <<<"${sa#sent }"; read -ra ra <<<"${ra#recv }"; read -ra da <<<"${da#dup }"
	read -ra sb <<<"${sb#sent }"; read -ra rb <<<"${rb#recv }"; read -ra db <<<"${db#dup }"
	SENT_AB=0 SENT_BA=0 RECV_AB=0 RECV_BA=0
	for i in "${!sa[@]}"; do
		name="rekey $i"
		[ "$i" = 0 ] && name="before the rekeys"
		log "$1 $name a->b: sent ${sa[i]} received ${rb[i]:-0} duplicates ${db[i]:-0}"
		log "$1 $name b->a: sent ${sb[i]:-0} received ${ra[i]:-0} duplicates ${da[i]:-0}"
		SENT_AB=$((SENT_AB + sa[i])) RECV_AB=$((RECV_AB + ${rb[i]:-0}))
		SENT_BA=$((SENT_BA + ${sb[i]:-0})) RECV_BA=$((RECV_BA + ${ra[i]:-0}))
		[ "$i" = "${LOSSY:-}" ] && continue
		expect_eq "$1 $name a->b: every datagram arrived, once" \
			"received ${sa[i]}, 0 duplicates" \
			"received ${rb[i]:-0}, ${db[i]:-0} duplicates" || true
		expect_eq "$1 $name b->a: every datagram arrived, once" \
			"received ${sb[i]:-0}, 0 duplicates" \
			"received ${ra[i]:-0}, ${da[i]:-0} duplicates" || true
	done
	log "$1 total a->b: sent $SENT_AB received $RECV_AB; b->a: sent $SENT_BA received $RECV_BA"
	expect_eq "$1: nothing malformed came" "other 0 other 0" "$oa $ob" || true
	snap
	tally "${!PK[@]}"
	log "$1 ESP packets: a->b protected $PROT_AB opened $OPEN_AB; b->a protected $PROT_BA opened $OPEN_BA"
	expect_eq "$1: the a->b SAs protected every datagram sent and the 2 pings" \
		$((SENT_AB + 2)) "$PROT_AB" || true
	expect_eq "$1: the b->a SAs protected every datagram sent and the 2 pings" \
		$((SENT_BA + 2)) "$PROT_BA" || true
	expect_eq "$1: gb opened every a->b datagram received and the 2 pings" \
		$((RECV_AB + 2)) "$OPEN_AB" || true
	expect_eq "$1: ga opened every b->a datagram received and the 2 pings" \
		$((RECV_BA + 2)) "$OPEN_BA" || true
	ESP_TOTAL=$((ESP_TOTAL + PROT_AB + PROT_BA))
	log "the report took $(elapsed "$t0")"
}

# run RUN: streams for run RUN (1, 2), three rekeys, the report.
run() {
	local t0=$EPOCHREALTIME
	PROT_AB=0 OPEN_AB=0 PROT_BA=0 OPEN_BA=0
	check "ga: generation 0" sas ga add "out 0" "in 0"
	check "gb: generation 0" sas gb add "out 0" "in 0"
	check "ping ha -> hb, 2 of 2" on ha ping -c 2 -i 0.2 -W 2 $HB
	check "streams start, $RATE datagrams/s each way" stream "go $1"
	log "run $1: set up in $(elapsed "$t0")"
	sleep 0.5
	rekey 1
	rekey 2
	rekey 3
	sleep 0.5	# on generation 3 alone a while
}

cap_start ga wan0 "$TMP/wan.pcap" -s 96
ESP_TOTAL=0
coproc_start UA python3 "$TESTS_DIR/udp_seq.py" $HA $HB 5005 "$RATE"
coproc_start UB nsenter --net="/run/netns/$(ns_name hb)" \
	python3 "$TESTS_DIR/udp_seq.py" $HB $HA 5005 "$RATE"
IFS= read -r -t 30 -u "$UA_FROM" RA || true
IFS= read -r -t 30 -u "$UB_FROM" RB || true
expect_eq "udp_seq.py ready on ha and hb" "ready ready" "$RA $RB"

log "run 1: ga nfsec, gb XFRM"
BASE=0x3000 GB=xfrm
check "ga: policies by reqid 7" nf ga -b - <<EOF
policy add dir out src $LA dst $LB protect reqid 7 mode tunnel dst $B
policy add dir fwd src $LB dst $LA protect reqid 7 mode tunnel dst $A
EOF
check "gb: XFRM policies with reqid 7 templates" ipb gb <<EOF
xfrm policy add src $LB dst $LA dir out tmpl src $B dst $A proto esp mode tunnel reqid 7
xfrm policy add src $LA dst $LB dir fwd tmpl src $A dst $B proto esp mode tunnel reqid 7
EOF
run 1
report "run 1 (XFRM)"
RUN1_AB=$PROT_AB	# ESP to gb that nfsec there passed on to XFRM (no_sa)

log "run 2: ga nfsec, gb nfsec"
check "ga: SAs flushed" nf ga sa flush
check "gb: XFRM flushed" ipb gb <<<$'xfrm state flush\nxfrm policy flush'
BASE=0x5000 GB=nfsec
check "gb: policies by reqid 7" nf gb -b - <<EOF
policy add dir out src $LB dst $LA protect reqid 7 mode tunnel dst $A
policy add dir fwd src $LA dst $LB protect reqid 7 mode tunnel dst $B
EOF
run 2
log "rekey 4, wrong order: ga's new outbound a->b SA 0.3 s before gb's inbound"
no_sa=$(ns_stat gb no_sa)
check "rekey 4: streams in phase 4" stream "phase 4"
check "rekey 4: ga's outbound a->b SA first" sas ga add "out 4"
sleep 0.3
check "rekey 4: then gb's inbound" sas gb add "in 4"
sleep 0.5
LOSSY=4 report "run 2 (nfsec)"
lost=$(($(ns_stat gb no_sa) - no_sa))
log "rekey 4 a->b: sent ${sa[4]} received ${rb[4]}: lost $((sa[4] - rb[4])), gb counted no_sa $lost"
check "rekey 4 a->b: datagrams lost, and seen lost" test $((sa[4] - rb[4])) -gt 0 || true
expect_eq "rekey 4 a->b: the datagrams lost are those gb had no SA for" \
	"$lost" "$((sa[4] - rb[4]))" || true
expect_eq "rekey 4 b->a: every datagram arrived, once" \
	"received ${sb[4]}, 0 duplicates" "received ${ra[4]}, ${da[4]} duplicates" || true

ct_clean ga gb
expect_eq "ga: no namespace drops" "" "$(ns_stats ga)" || true
expect_eq "gb: no drops but no_sa, run 1's ESP for XFRM and rekey 4's loss" \
	"no_sa=$((RUN1_AB + sa[4] - rb[4]))" "$(ns_stats gb)" || true
t0=$EPOCHREALTIME
cap_stop "$TMP/wan.pcap"
log "the capture on ga's wan0"
cap_sites_esp "$TMP/wan.pcap"
# ESP: all that tcpdump wrote but the rest (ARP, IPv6), which is few;
# tcpdump -r printing the 16,000 ESP packets would take seconds
esp=x
[[ $(<"$TMP/wan.pcap.log") =~ ([0-9]+)\ packets?\ captured ]] &&
	esp=$((BASH_REMATCH[1] - $(cap_count "$TMP/wan.pcap" 'not ip proto 50')))
cap_expect "capture: one ESP packet per packet the SAs protected" "$TMP/wan.pcap" \
	"$ESP_TOTAL" "$esp"
log "the capture's checks took $(elapsed "$t0")"

rm -rf "$TMP"
t_end
