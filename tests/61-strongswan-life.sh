#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 61-strongswan-life.sh: the life of strongSwan's SAs in nfsec. ga runs
# charon with kernel-nfsec, gb charon with kernel-netlink (XFRM); the
# topology is 60-strongswan.sh's (tunnel 192.168.1.0/24 <-> 192.168.2.0/24
# between 10.0.1.1 and 10.0.2.1, through inet).
#
#   ha 192.168.1.10 - ga 10.0.1.1 --- inet --- 10.0.2.1 gb - 192.168.2.10 hb
#   (charon + nfsec)                          (charon + XFRM)
#
# Covers:
# - CHILD_SA rekeying under load: ga's rekey_time 5 s (nfsec's soft
#   expire event starts each rekey), a UDP stream of 100 datagrams a
#   second each way between ha and hb: at least three rekeys, not one
#   datagram lost or duplicated, at most two SAs each way in nfsec at any
#   time (sampled), the old ones deleted; then gb (XFRM) rekeys and nfsec
#   is the responder's data path, twice, just as cleanly;
# - IKE_SA reauthentication (reauth_time): a new IKE_SA, new SAs, traffic;
# - a trap policy (start_action = trap): the policy is in nfsec without
#   SAs, the first packet's acquire event starts the negotiation, traffic
#   flows;
# - dead peer detection: gb's charon dies, ga's DPD gives up and nfsec is
#   left with no SA and no policy but the IKE bypass.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
. "${0%/*}/lib_sswan.sh"
ns_enter strongswan-life ha ga inet gb hb rh	# the rest runs in namespace ha

if ! sswan_plugin; then
	skip "strongSwan and nfsec" "no charon-systemd or no plugin (make strongswan)"
	t_end
fi
TMP=$(mktemp -d)
SSWAN_DIR=$TMP/sswan
sites ha ga inet gb hb rh
# ga: old inbound SAs go 1 s after a rekey; DPD gives up after about 5 s
sswan_start ga nfsec "delete_rekeyed_delay = 1
	retransmit_tries = 2" && ok "ga: charon with kernel-nfsec" ||
	not_ok "ga: charon with kernel-nfsec"
sswan_start gb xfrm && ok "gb: charon with kernel-netlink (XFRM)" ||
	not_ok "gb: charon with kernel-netlink (XFRM)"

# site ME PEER LNET RNET: swanctl.conf, PSK, tunnel; from the environment
# REKEY and LIFE (child rekey_time, life_time: 1h, 2h), REAUTH (IKE reauth_time, 0: none), START
# (start_action, none), DPD (dpd_delay, 0: none).
site() {
	cat <<-EOF
		connections {
			site {
				local_addrs = $1
				remote_addrs = $2
				proposals = aes128-sha256-modp2048
				reauth_time = ${REAUTH:-0}
				over_time = 10s
				rand_time = 0
				dpd_delay = ${DPD:-0}
				local {
					auth = psk
					id = $1
				}
				remote {
					auth = psk
					id = $2
				}
				children {
					net {
						local_ts = $3
						remote_ts = $4
						esp_proposals = aes128gcm16
						rekey_time = ${REKEY:-1h}
						life_time = ${LIFE:-2h}
						rand_time = 0
						start_action = ${START:-none}
						dpd_action = clear
					}
				}
			}
		}
		secrets {
			ike-1 {
				id-a = 10.0.1.1
				id-b = 10.0.2.1
				secret = "nfsec-test-psk-2"
			}
		}
	EOF
}

# load: both gateways load site() with the environment's settings.
load() {
	sswan_conf ga <<<"$(site 10.0.1.1 10.0.2.1 192.168.1.0/24 192.168.2.0/24)" &&
	sswan_conf gb <<<"$(site 10.0.2.1 10.0.1.1 192.168.2.0/24 192.168.1.0/24)"
}

# sa_spis NS: "OUT_COUNT IN_COUNT OUT_SPIS" of NS's valid SAs.
sa_spis() {
	nf "$1" -j sa list | jq_py '"%d %d %s" % (
		sum(s.get("dir") == "out" for s in d), sum(s.get("dir") == "in" for s in d),
		",".join("%x" % s["spi"] for s in d if s.get("dir") == "out"))'
}

log "CHILD_SA rekeying under load: rekey_time 5 s on ga (gb: 1 h)"
check "gb: swanctl --load-all" sswan_conf gb \
	<<<"$(site 10.0.2.1 10.0.1.1 192.168.2.0/24 192.168.1.0/24)"
REKEY=5s LIFE=15s
check "ga: swanctl --load-all" sswan_conf ga \
	<<<"$(site 10.0.1.1 10.0.2.1 192.168.1.0/24 192.168.2.0/24)"
REKEY= LIFE=
check "ga initiates" sw ga --initiate --child net --timeout 30 || sswan_tail ga

coproc_start UA python3 "$TESTS_DIR/udp_seq.py" 192.168.1.10 192.168.2.10 5005 100
coproc_start UB nsenter --net="/run/netns/$(ns_name hb)" \
	python3 "$TESTS_DIR/udp_seq.py" 192.168.2.10 192.168.1.10 5005 100
RA='' RB=''
IFS= read -r -t 30 -u "$UA_FROM" RA || true
IFS= read -r -t 30 -u "$UB_FROM" RB || true
expect_eq "udp_seq.py ready on ha and hb" "ready ready" "$RA $RB"

# stream CMD: CMD to both udp_seq.py; their answers in RA, RB.
stream() {
	printf '%s\n' "$1" >&"$UA_TO"
	printf '%s\n' "$1" >&"$UB_TO"
	RA='' RB=''
	IFS= read -r -t 30 -u "$UA_FROM" RA || true
	IFS= read -r -t 30 -u "$UB_FROM" RB || true
}

# rekey_run RUN WHO N: stream run RUN while WHO rekeys, until ga has seen
# N + 1 outbound SAs (N rekeys); then what was lost, how many SAs there
# were at most, that the old ones went.
rekey_run() {
	local run=$1 who=$2 want=$(($3 + 1)) o i spis s max_out=0 max_in=0
	local end=$((SECONDS + 45)) sa='' ra='' sb='' rb=''
	local -A seen=()
	stream "go $run"
	while ((${#seen[@]} < want && SECONDS < end)); do
		read -r o i spis <<<"$(sa_spis ga)"
		((o > max_out)) && max_out=$o
		((i > max_in)) && max_in=$i
		for s in ${spis//,/ }; do
			seen[$s]=1
		done
		sleep 0.3
	done
	sleep 1
	stream stop
	log "ha: $RA"
	log "hb: $RB"
	((${#seen[@]} >= want)) && ok "$who rekeyed $3 times (ga's outbound SPIs ${!seen[*]})" ||
		{ not_ok "$who rekeyed $3 times" "ga's outbound SPIs: ${!seen[*]}"; sswan_tail ga 40; }
	((max_out <= 2 && max_in <= 2)) && ok "ga: at most two SAs each way at any time" ||
		not_ok "ga: at most two SAs each way at any time" "out $max_out, in $max_in"
	[[ $RA =~ ^sent\ ([0-9]+)\;recv\ ([0-9]+)\;dup\ 0\;other\ 0$ ]] &&
		sa=${BASH_REMATCH[1]} ra=${BASH_REMATCH[2]}
	[[ $RB =~ ^sent\ ([0-9]+)\;recv\ ([0-9]+)\;dup\ 0\;other\ 0$ ]] &&
		sb=${BASH_REMATCH[1]} rb=${BASH_REMATCH[2]}
	expect_eq "hb received every datagram ha sent, once" "${sa:-?}" "${rb:-!}" || true
	expect_eq "ha received every datagram hb sent, once" "${sb:-?}" "${ra:-!}" || true
	wait_for "ga: one SA each way" 5 test "$(sa_spis ga | cut -d' ' -f1-2)" = "1 1" || true
	expect_eq "ga: the old SAs are gone: one SA each way" "1 1" \
		"$(sa_spis ga | cut -d' ' -f1-2)" || true
	expect_eq "ga: no namespace drops" "" "$(ns_stats ga)" ||
		grep -E 'rekey|CHILD_SA|kernel-nfsec' "$SSWAN_DIR/ga/charon.log" |
			tail -n 60 | sed 's/^/# ga: /'
}

rekey_run 1 "ga (nfsec, initiator)" 3
check "ga's charon rekeyed on nfsec's soft expire" sswan_log ga "kernel-nfsec: soft expire"

log "CHILD_SA rekeying under load, the other way: gb (XFRM) rekeys, nfsec responds"
check "ga: everything down" sw ga --terminate --ike site --timeout 10
check "ga: swanctl --load-all (rekey_time 1 h)" sswan_conf ga \
	<<<"$(site 10.0.1.1 10.0.2.1 192.168.1.0/24 192.168.2.0/24)"
REKEY=5s LIFE=15s
check "gb: swanctl --load-all (rekey_time 5 s)" sswan_conf gb \
	<<<"$(site 10.0.2.1 10.0.1.1 192.168.2.0/24 192.168.1.0/24)"
REKEY= LIFE=
check "ga initiates" sw ga --initiate --child net --timeout 30 || sswan_tail ga
rekey_run 2 "gb (XFRM, initiator)" 2
check "gb: swanctl --load-all (rekey_time 1 h)" sswan_conf gb \
	<<<"$(site 10.0.2.1 10.0.1.1 192.168.2.0/24 192.168.1.0/24)"
exec {UA_TO}>&- {UB_TO}>&-	# udp_seq.py exits when its input ends

log "IKE_SA reauthentication: reauth_time 8 s on ga"
check "ga: everything down" sw ga --terminate --ike site --timeout 10
# Only ga reauthenticates. (An IKE_SA keeps the reauth_time it was set up
# with: were gb's loaded with 8 s too, both ends would reauthenticate at
# the same moment, each break-before-make, and two IKE_SAs, each with its
# pair of SAs, would live on side by side.)
REAUTH=8s
check "ga: swanctl --load-all (reauth_time 8 s)" sswan_conf ga \
	<<<"$(site 10.0.1.1 10.0.2.1 192.168.1.0/24 192.168.2.0/24)"
REAUTH=
check "gb: swanctl --load-all (no reauth)" sswan_conf gb \
	<<<"$(site 10.0.2.1 10.0.1.1 192.168.2.0/24 192.168.1.0/24)"
check "ga initiates" sw ga --initiate --child net --timeout 30
read -r _ _ old <<<"$(sa_spis ga)"
# new_pair OLD: one SA each way, the outbound one not OLD
new_pair() {
	read -r o i new <<<"$(sa_spis ga)"
	[ "$o $i" = "1 1" ] && [ "$new" != "$1" ]
}
check "ga reauthenticates" wait_for "reauthentication" 20 sswan_log ga "reauthenticating IKE_SA"
! sswan_log gb "reauthenticating IKE_SA" && ok "gb: no reauthentication of its own" ||
	not_ok "gb: no reauthentication of its own"
# (the old IKE_SA's deletion is an exchange of its own, retransmitted when
# the emulated machine is slow: give it the time of a few retransmissions)
wait_for "new SAs" 40 new_pair "$old" || true
read -r o i new <<<"$(sa_spis ga)"
expect_eq "ga: one SA each way after the reauthentication" "1 1" "$o $i" || {
	nf ga sa list | grep -a '^sa' | sed 's/^/# /'
	sed -n '/reauthenticating IKE_SA/,$p' "$SSWAN_DIR/ga/charon.log" |
		grep -E '\[(IKE|KNL|CHD)\]' | tail -n 80 | sed 's/^/# ga: /'
}
[ -n "$new" ] && [ "$new" != "$old" ] && ok "ga: a new outbound SA ($old -> $new)" ||
	not_ok "ga: a new outbound SA" "$old -> $new"
check "ping ha -> hb after the reauthentication" on ha ping -c 3 -i 0.2 -W 2 192.168.2.10

log "trap policy: start_action = trap on ga"
check "ga: everything down" sw ga --terminate --ike site --timeout 10
START=trap
check "ga, gb: swanctl --load-all (ga traps)" load
START=
expect_eq "ga: the trap's policies, no SA" "[0, 11]" "$(ns_counts ga)" || true
expect_eq "ga: the out policy names reqid, nothing else yet" "out protect reqid" \
	"$(nf ga -j policy list | jq_py '" ".join("%s %s %s" % (p["dir"], p["action"],
		"reqid" if p["sa"].get("reqid") else "spi")
		for p in d if p["action"] == "protect" and p["dir"] == "out")')" || true
check "ping ha -> hb: the acquire brings the SAs up" \
	wait_for "ping through the trap" 20 on ha ping -c 1 -W 1 192.168.2.10
check "ga's charon had nfsec's acquire" sswan_log ga \
	"kernel-nfsec: acquire for reqid [0-9]+, 192.168.1.10/32(\[[^]]*\])? === 192.168.2.10/32"
expect_eq "ga: one SA each way" "1 1" "$(sa_spis ga | cut -d' ' -f1-2)" || true
check "ping ha -> hb, 3 of 3" on ha ping -c 3 -i 0.2 -W 2 192.168.2.10

log "dead peer detection: dpd_delay 2 s on ga, gb's charon killed"
check "ga: everything down" sw ga --terminate --ike site --timeout 10
DPD=2s
check "ga, gb: swanctl --load-all (DPD on ga)" load
DPD=
check "ga initiates" sw ga --initiate --child net --timeout 30
expect_eq "ga: SAs and policies" "[2, 11]" "$(ns_counts ga)" || true
{
	kill -KILL "${SSWAN_PID[gb]}"
	wait "${SSWAN_PID[gb]}"
} 2>/dev/null || true
unset "SSWAN_PID[gb]"
check "ga's DPD gives up: the IKE_SA is gone" \
	wait_for "DPD" 40 bash -c "! swanctl --list-sas --uri unix://$SSWAN_DIR/ga/charon.vici | grep -q 'site: #'"
expect_eq "ga: no SA, no policy but the 8 IKE bypass policies" "[0, 8]" "$(ns_counts ga)" || true

sswan_stop ga
expect_eq "ga: nothing left once charon stops" "[0, 0]" "$(ns_counts ga)" || true
check "ga's charon log has no error" bash -c \
	"! grep -E 'kernel-nfsec: (unable|.*refused)' $SSWAN_DIR/ga/charon.log"
rm -rf "$TMP"
t_end
