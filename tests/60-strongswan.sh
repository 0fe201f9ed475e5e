#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 60-strongswan.sh: IKEv2 through strongSwan. ga runs charon with the
# kernel-nfsec plugin (tools/strongswan), gb charon with kernel-netlink
# (Linux XFRM); both are configured with swanctl.
#
#   ha 192.168.1.10                                          hb 192.168.2.10
#    | eth0                                                      eth0 |
#    | lan0 192.168.1.1                          192.168.2.1 lan0 |
#   ga  wan0 10.0.1.1 --- 10.0.1.254  inet  10.0.2.254 --- 10.0.2.1 wan0  gb
#   (charon + nfsec)                                    (charon + XFRM)
#
#   inet routes 10.0.1-3.0/24 only, so what crosses between the sites
#   crossed inside ESP. Captured on all of inet's links.
#
# Covers: tunnel mode site to site with a pre-shared key, ga initiating:
# ping with exact counts on nfsec's SAs, TCP 1 MiB by md5 both ways, the
# capture holds IKE on UDP 500/4500 and nothing but ESP otherwise; charon's
# policies and SAs in nfsec, by reqid; the IKE bypass policies. ESP
# proposals aes256gcm16, chacha20poly1305, aes128-sha256, aes256-sha384
# with ESN: the algorithm in nfsec and exact counts; aes128ccm16, which
# nfsec lacks, fails the CHILD_SA with charon saying why and leaves nothing
# in nfsec. Stopping charon removes everything it installed.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
. "${0%/*}/lib_sswan.sh"
ns_enter strongswan ha ga inet gb hb rh	# the rest runs in namespace ha

if ! sswan_plugin; then
	skip "strongSwan and nfsec" "no charon-systemd or no plugin (make strongswan)"
	t_end
fi
TMP=$(mktemp -d)
SSWAN_DIR=$TMP/sswan
sites ha ga inet gb hb rh
# (not through check, which runs its command in a subshell)
# (ga with charon's source routes, as a gateway has them by default)
SSWAN_ROUTES=yes sswan_start ga nfsec && ok "ga: charon with kernel-nfsec" ||
	not_ok "ga: charon with kernel-nfsec"
sswan_start gb xfrm && ok "gb: charon with kernel-netlink (XFRM)" ||
	not_ok "gb: charon with kernel-netlink (XFRM)"
check "ga: kernel-nfsec has kernel-ipsec" \
	sswan_log ga "kernel-nfsec: IPsec SAs and policies go to nfsec" ||
	{ sswan_tail ga 60; cat "$SSWAN_DIR/ga/stdout"; exit 1; }
expect_eq "ga: IKE bypass policies, ports 500 and 4500, v4 and v6, in and out" \
	"in:500 in:500 in:4500 in:4500 out:500 out:500 out:4500 out:4500" \
	"$(nf ga -j policy list | jq_py '" ".join("%s:%s" % x for x in sorted((p["dir"],
		p.get("dport") or p.get("sport")) for p in d if p["action"] == "bypass"))')" || true

# site: the swanctl.conf of a gateway, PSK, tunnel site to site.
site() {
	local me=$1 peer=$2 lnet=$3 rnet=$4
	cat <<-EOF
		connections {
			site {
				local_addrs = $me
				remote_addrs = $peer
				proposals = aes128-sha256-modp2048
				local {
					auth = psk
					id = $me
				}
				remote {
					auth = psk
					id = $peer
				}
				children {
					net {
						local_ts = $lnet
						remote_ts = $rnet
						esp_proposals = ${ESP:-aes128gcm16}
						start_action = none
					}
				}
			}
		}
		secrets {
			ike-1 {
				id-a = 10.0.1.1
				id-b = 10.0.2.1
				secret = "nfsec-test-psk-1"
			}
		}
	EOF
}

check "ga: swanctl --load-all" sswan_conf ga <<<"$(site 10.0.1.1 10.0.2.1 192.168.1.0/24 192.168.2.0/24)"
check "gb: swanctl --load-all" sswan_conf gb <<<"$(site 10.0.2.1 10.0.1.1 192.168.2.0/24 192.168.1.0/24)"

cap_start inet any "$TMP/inet.pcap"
check "ga initiates: IKE_SA and CHILD_SA up" sw ga --initiate --child net --timeout 30 ||
	sswan_tail ga
expect_eq "ga: nfsec has two SAs, one each way, of one reqid" \
	'[["in", true], ["out", true]]' \
	"$(nf ga -j sa list | jq_py 'sorted([s["dir"], s.get("reqid", 0) > 0 and
		len(set(x.get("reqid") for x in d)) == 1] for s in d)')" || true
expect_eq "ga: charon's policies: in, fwd, out by reqid, tunnel, kernel-netlink's priority" \
	"fwd 192.168.2.0/24 192.168.1.0/24 375423 tunnel 10.0.2.1>10.0.1.1; in 192.168.2.0/24 192.168.1.0/24 375423 tunnel 10.0.2.1>10.0.1.1; out 192.168.1.0/24 192.168.2.0/24 375423 tunnel 10.0.1.1>10.0.2.1" \
	"$(nf ga -j policy list | jq_py '"; ".join(sorted("%s %s %s %s %s %s>%s" % (p["dir"],
		p["src"], p["dst"], p["priority"], p["sa"]["mode"], p["sa"]["src"], p["sa"]["dst"])
		for p in d if p["action"] == "protect" and p["sa"].get("reqid")))')" || true

log "site to site: ping -c 5, 84-byte inner packets"
check "ping ha -> hb, 5 of 5" on ha ping -c 5 -i 0.2 -W 2 192.168.2.10
expect_eq "ga: nfsec's SAs carried 5 packets each way, 420 bytes" \
	"out: bytes=420 packets=5; in: bytes=420 packets=5" "$(sa_pair_stats ga)" || true

log "ga itself to site B: the source route kernel-nfsec installed for the tunnel"
expect_eq "ga: table 220 routes site B from its LAN address" \
	"192.168.2.0/24 via 10.0.1.254 dev wan0 proto static src 192.168.1.1" \
	"$(on ga ip route show table 220 | sed 's/ *$//')" || true
check "ping ga -> hb, 2 of 2 (from 192.168.1.1, through the tunnel)" \
	on ga ping -c 2 -i 0.2 -W 2 192.168.2.10
expect_eq "ga: nfsec's SAs carried 7 packets each way" \
	"out: bytes=588 packets=7; in: bytes=588 packets=7" "$(sa_pair_stats ga)" || true

log "site to site: 1 MiB over TCP each way"
head -c 1048576 /dev/urandom >"$TMP/blob"
tcp_md5 "TCP ha -> hb (nfsec -> XFRM): 1 MiB intact (md5)" ha hb 192.168.2.10 5001 "$TMP/blob" || true
tcp_md5 "TCP hb -> ha (XFRM -> nfsec): 1 MiB intact (md5)" hb ha 192.168.1.10 5002 "$TMP/blob" || true
log "ga: packets decrypted on the next CPU (rx_spread): $(ns_stat ga spread)"
expect_eq "ga: no namespace drops" "" "$(ns_stats ga)" || true
# (too_big: ha's first full-sized segments, before path MTU discovery)
s=$(sa_pair_stats ga)
[[ $s =~ ^out:\ bytes=([0-9]+)\ packets=[0-9]+( too_big=[0-9]+)?\;\ in:\ bytes=([0-9]+)\ packets=[0-9]+$ ]] &&
	((BASH_REMATCH[1] > 1048576 && BASH_REMATCH[3] > 1048576)) &&
	ok "ga: each SA carried over 1 MiB, no drop counter but too_big" ||
	not_ok "ga: each SA carried over 1 MiB, no drop counter but too_big" "$s"
cap_stop "$TMP/inet.pcap"

log "inet saw IKE and ESP only"
cap_show "$TMP/inet.pcap" "udp" 4
expect_eq "capture: no packet with a 192.168.0.0/16 address" 0 \
	"$(cap_count "$TMP/inet.pcap" 'net 192.168.0.0/16')" || true
expect_eq "capture: no IPv4 packet but ESP and IKE (UDP 500 and 4500)" 0 \
	"$(cap_count "$TMP/inet.pcap" 'ip and not ip proto 50 and not (udp port 500 or udp port 4500)')" || true
n=$(cap_count "$TMP/inet.pcap" 'udp port 500')
m=$(cap_count "$TMP/inet.pcap" 'udp port 4500 and udp[8:4] = 0')
((n >= 4 && m >= 4)) && ok "capture: IKE_SA_INIT on UDP 500 ($n), IKE_AUTH on 4500 ($m, non-ESP marker)" ||
	not_ok "capture: IKE_SA_INIT on UDP 500, IKE_AUTH on 4500" "$n and $m packets"
expect_eq "capture: no ESP in UDP (no NAT)" 0 \
	"$(cap_count "$TMP/inet.pcap" 'udp port 4500 and udp[8:4] != 0')" || true

# sa_algs NS: "DIR ALG/KEY_BYTES[/ICV_OR_TRUNC_BITS][+AUTH...][ esn] ..." of
# NS's SAs, out first.
sa_algs() {
	nf "$1" -j --show-keys sa list | jq_py '" ".join("%s %s%s" % (s["dir"],
		"+".join("/".join([a["name"], str(len(a["key"]) // 2 - 1)] +
			[str(a[b]) for b in ("icv_bits", "trunc_bits") if b in a])
			for a in (s.get(k) for k in ("aead", "enc", "auth")) if a),
		" esn" if s["esn"] else "")
		for s in sorted(d, key=lambda s: s["dir"] != "out"))'
}

# proposal ESP WANT: both gateways load ESP as the child's proposal, ga
# sets up a new IKE_SA and CHILD_SA, nfsec's SAs are WANT, ping -c 3.
proposal() {
	ESP=$1
	sw ga --terminate --ike site --timeout 10 >/dev/null 2>&1 || true
	sswan_conf ga <<<"$(site 10.0.1.1 10.0.2.1 192.168.1.0/24 192.168.2.0/24)" >/dev/null &&
	sswan_conf gb <<<"$(site 10.0.2.1 10.0.1.1 192.168.2.0/24 192.168.1.0/24)" >/dev/null || return 1
	check "$1: CHILD_SA up" sw ga --initiate --child net --timeout 30 || return 1
	expect_eq "$1: nfsec's SAs" "$2" "$(sa_algs ga)" || true
	check "$1: ping ha -> hb, 3 of 3" on ha ping -c 3 -i 0.2 -W 2 192.168.2.10 || true
	expect_eq "$1: nfsec's SAs carried 3 packets each way" \
		"out: bytes=252 packets=3; in: bytes=252 packets=3" "$(sa_pair_stats ga)" || true
}

log "ESP proposals"
proposal aes256gcm16 "out rfc4106(gcm(aes))/36/128 in rfc4106(gcm(aes))/36/128" || sswan_tail ga
proposal chacha20poly1305 \
	"out rfc7539esp(chacha20,poly1305)/36/128 in rfc7539esp(chacha20,poly1305)/36/128" || sswan_tail ga
proposal aes128-sha256 \
	"out cbc(aes)/16+hmac(sha256)/32/128 in cbc(aes)/16+hmac(sha256)/32/128" || sswan_tail ga
proposal aes256-sha384-esn \
	"out cbc(aes)/32+hmac(sha384)/48/192 esn in cbc(aes)/32+hmac(sha384)/48/192 esn" ||
	sswan_tail ga

log "a proposal nfsec cannot do: aes128ccm16 (XFRM can)"
ESP=aes128ccm16
sw ga --terminate --ike site --timeout 10 >/dev/null 2>&1 || true
sswan_conf ga <<<"$(site 10.0.1.1 10.0.2.1 192.168.1.0/24 192.168.2.0/24)" >/dev/null
sswan_conf gb <<<"$(site 10.0.2.1 10.0.1.1 192.168.2.0/24 192.168.1.0/24)" >/dev/null
expect_fail "aes128ccm16: the CHILD_SA fails" "fail" sw ga --initiate --child net --timeout 30 || true
check "ga's charon log says why" \
	sswan_log ga "kernel-nfsec: encryption algorithm AES_CCM_16 is not supported by nfsec" ||
	sswan_tail ga
expect_eq "ga: no SA (nor SPI reservation) left" 0 "$(ns_stat ga sa_count)" || true
ESP=

log "charon stops: what it installed in nfsec goes"
sswan_stop ga
expect_eq "ga: no SA and no policy left" "[0, 0]" "$(ns_counts ga)" || true
expect_eq "ga: nor a route in table 220" "" "$(on ga ip route show table 220)" || true
sswan_stop gb
check "ga's charon log has no error but the aes128ccm16 refusal" bash -c \
	"! grep -E 'kernel-nfsec: (unable|.*refused)' $SSWAN_DIR/ga/charon.log | grep -v 'SPI [0-9a-f]* refused: algorithm not supported'"

rm -rf "$TMP"
t_end
