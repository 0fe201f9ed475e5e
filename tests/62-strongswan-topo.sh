#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 62-strongswan-topo.sh: strongSwan and nfsec in other shapes: both
# gateways on nfsec with certificates, an IPv6 tunnel, transport mode host
# to host, and a gateway behind a NAT.
#
#   ha 192.168.1.10 fd01::10                        hb 192.168.2.10 fd02::10
#    |                                                                  |
#   ga 10.0.1.1 fd00:1::1 --- inet (router) --- 10.0.2.1 fd00:2::1    gb
#   (charon + nfsec)                  (charon + nfsec, then + XFRM)
#
# Covers:
# - a CA and two gateway certificates made with pki at test time; both
#   gateways run nfsec; IPv4 and IPv6 tunnels site to site authenticated
#   by certificate: ping both ways with exact counts, what one gateway's
#   SA sent the other's accepted;
# - gb on XFRM: transport mode host to host between 10.0.1.1 and 10.0.2.1
#   (IKE itself between the same hosts passes by nfsec's bypass policies):
#   ping, exact counts;
# - ga behind a NAT (inet masquerades 10.0.1.0/24 toward gb, to ports
#   40000-40100): charon detects it, IKE moves to UDP 4500, nfsec's SAs
#   carry ESP in UDP with the ports the NAT gave (out: 4500 -> 4500, gb
#   sees the NAT's port); ping and TCP by md5; the capture toward gb holds
#   UDP only, no ESP;
# - then gb on nfsec too, and the NAT moves ga to other ports: gb's nfsec
#   tells charon of the new mapping, charon updates the SAs (update_sa:
#   new ports), traffic flows again.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
. "${0%/*}/lib_sswan.sh"
ns_enter strongswan-topo ha ga inet gb hb rh	# the rest runs in namespace ha

if ! sswan_plugin || ! command -v pki >/dev/null; then
	skip "strongSwan and nfsec" "no charon-systemd, pki or plugin (make strongswan)"
	t_end
fi
TMP=$(mktemp -d)
SSWAN_DIR=$TMP/sswan
sites ha ga inet gb hb rh
ipb ha <<<$'addr add fd01::10/64 dev eth0\nroute add default via fd01::1'
ipb ga <<<$'addr add fd01::1/64 dev lan0\naddr add fd00:1::1/64 dev wan0\nroute add default via fd00:1::254'
ipb inet <<<$'addr add fd00:1::254/64 dev wan1\naddr add fd00:2::254/64 dev wan2'
ipb gb <<<$'addr add fd02::1/64 dev lan0\naddr add fd00:2::1/64 dev wan0\nroute add default via fd00:2::254'
ipb hb <<<$'addr add fd02::10/64 dev eth0\nroute add default via fd02::1'
for g in ga inet gb; do
	on "$g" sysctl -qw net.ipv6.conf.all.forwarding=1
done

log "a CA and the gateways' certificates, made with pki"
mkdir -p "$TMP/pki"
certs() {
	local d=$TMP/pki g
	pki --gen --type rsa --size 2048 --outform pem >"$d/ca.key" &&
	pki --self --ca --lifetime 30 --in "$d/ca.key" --dn "CN=nfsec test CA" \
		--outform pem >"$d/ca.pem" || return 1
	for g in ga gb; do
		pki --gen --type rsa --size 2048 --outform pem >"$d/$g.key" &&
		pki --pub --in "$d/$g.key" | pki --issue --lifetime 30 --cacert "$d/ca.pem" \
			--cakey "$d/ca.key" --dn "CN=$g" --san "$g.nfsec.test" \
			--outform pem >"$d/$g.pem" || return 1
	done
}
check "pki: CA, ga's and gb's certificates" certs
ip6_usable ha ga inet gb hb

sswan_start ga nfsec && ok "ga: charon with kernel-nfsec" || not_ok "ga: charon with kernel-nfsec"
sswan_start gb nfsec && ok "gb: charon with kernel-nfsec" || not_ok "gb: charon with kernel-nfsec"
for g in ga gb; do
	cp "$TMP/pki/ca.pem" "$SSWAN_DIR/$g/x509ca/"
	cp "$TMP/pki/$g.pem" "$SSWAN_DIR/$g/x509/"
	cp "$TMP/pki/$g.key" "$SSWAN_DIR/$g/private/"
done

# certsite ME PEER ME6 PEER6 LNET RNET LNET6 RNET6: swanctl.conf of a
# gateway with a certificate, an IPv4 and an IPv6 site to site tunnel.
certsite() {
	cat <<-EOF
		connections {
			site4 {
				local_addrs = $3
				remote_addrs = $4
				proposals = aes128-sha256-modp2048
				local {
					auth = pubkey
					certs = $1.pem
					id = "CN=$1"
				}
				remote {
					auth = pubkey
					id = "CN=$2"
				}
				children {
					net4 {
						local_ts = $7
						remote_ts = $8
						esp_proposals = aes128gcm16
					}
				}
			}
			site6 {
				local_addrs = $5
				remote_addrs = $6
				proposals = aes128-sha256-modp2048
				local {
					auth = pubkey
					certs = $1.pem
					id = "CN=$1"
				}
				remote {
					auth = pubkey
					id = "CN=$2"
				}
				children {
					net6 {
						local_ts = $9
						remote_ts = ${10}
						esp_proposals = aes256gcm16
					}
				}
			}
		}
	EOF
}

check "ga: swanctl --load-all (certificates)" sswan_conf ga \
	<<<"$(certsite ga gb 10.0.1.1 10.0.2.1 fd00:1::1 fd00:2::1 192.168.1.0/24 192.168.2.0/24 fd01::/64 fd02::/64)"
check "gb: swanctl --load-all (certificates)" sswan_conf gb \
	<<<"$(certsite gb ga 10.0.2.1 10.0.1.1 fd00:2::1 fd00:1::1 192.168.2.0/24 192.168.1.0/24 fd02::/64 fd01::/64)"

log "both gateways nfsec, certificates: IPv4 tunnel"
check "ga initiates site4 (certificates)" sw ga --initiate --child net4 --timeout 30 ||
	{ sswan_tail ga; sswan_tail gb; }
check "gb's charon authenticated ga by its certificate" \
	sswan_log gb "authentication of 'CN=ga' with RSA.* successful"
check "ping ha -> hb, 4 of 4" on ha ping -c 4 -i 0.2 -W 2 192.168.2.10
check "ping hb -> ha, 4 of 4" on hb ping -c 4 -i 0.2 -W 2 192.168.1.10
expect_eq "ga: nfsec's SAs carried 8 packets each way" \
	"out: bytes=672 packets=8; in: bytes=672 packets=8" "$(sa_pair_stats ga)" || true
expect_eq "gb: nfsec's SAs carried 8 packets each way" \
	"out: bytes=672 packets=8; in: bytes=672 packets=8" "$(sa_pair_stats gb)" || true
expect_eq "gb's in SA is ga's out SA (SPI)" \
	"$(nf ga -j sa list | jq_py '[s["spi"] for s in d if s["dir"] == "out"]')" \
	"$(nf gb -j sa list | jq_py '[s["spi"] for s in d if s["dir"] == "in"]')" || true

log "both gateways nfsec, certificates: IPv6 tunnel"
check "ga initiates site6 (IPv6)" sw ga --initiate --child net6 --timeout 30 || sswan_tail ga
check "ping -6 ha -> hb, 4 of 4" on ha ping -6 -c 4 -i 0.2 -W 2 fd02::10
# sa6_stats NS: the IPv6 SAs' counters, as sa_pair_stats gives them
sa6_stats() {
	nf "$1" -j sa list | jq_py '"; ".join("%s: %s" % (s["dir"], nonzero(s["stats"]))
		for s in sorted(d, key=lambda s: s["dir"] != "out") if s["family"] == "inet6")'
}
expect_eq "ga: IPv6 SAs carried 4 packets each way, 104 bytes each" \
	"out: bytes=416 packets=4; in: bytes=416 packets=4" "$(sa6_stats ga)" || true
expect_eq "gb: IPv6 SAs carried 4 packets each way" \
	"out: bytes=416 packets=4; in: bytes=416 packets=4" "$(sa6_stats gb)" || true
expect_eq "ga: no namespace drops" "" "$(ns_stats ga)" || true
expect_eq "gb: no namespace drops" "" "$(ns_stats gb)" || true
sswan_stop ga gb
expect_eq "ga, gb: nothing left once charon stops" "[0, 0] [0, 0]" \
	"$(ns_counts ga) $(ns_counts gb)" || true

log "transport mode host to host: ga (nfsec) and gb (XFRM)"
sswan_start ga nfsec && ok "ga: charon with kernel-nfsec" || not_ok "ga: charon with kernel-nfsec"
sswan_start gb xfrm && ok "gb: charon with kernel-netlink (XFRM)" ||
	not_ok "gb: charon with kernel-netlink (XFRM)"

# psk ME PEER MODE [REMOTE]: swanctl.conf, PSK, MODE between the hosts
# ME and PEER (REMOTE: the peer's addresses, default PEER).
psk() {
	cat <<-EOF
		connections {
			host {
				local_addrs = $1
				remote_addrs = ${4:-$2}
				proposals = aes128-sha256-modp2048
				local {
					auth = psk
					id = $1
				}
				remote {
					auth = psk
					id = $2
				}
				children {
					$3 {
						mode = $3
						esp_proposals = aes128gcm16
						$5
					}
				}
			}
		}
		secrets {
			ike-1 {
				id-a = 10.0.1.1
				id-b = 10.0.2.1
				secret = "nfsec-test-psk-3"
			}
		}
	EOF
}
check "ga: swanctl --load-all (transport)" sswan_conf ga <<<"$(psk 10.0.1.1 10.0.2.1 transport)"
check "gb: swanctl --load-all (transport)" sswan_conf gb <<<"$(psk 10.0.2.1 10.0.1.1 transport)"
check "ga initiates (transport)" sw ga --initiate --child transport --timeout 30 || sswan_tail ga
expect_eq "ga: nfsec's SAs are transport mode, 10.0.1.1 <-> 10.0.2.1" \
	"in transport 10.0.2.1 10.0.1.1; out transport 10.0.1.1 10.0.2.1" \
	"$(nf ga -j sa list | jq_py '"; ".join(sorted("%s %s %s %s" % (s["dir"], s["mode"],
		s["src"], s["dst"]) for s in d))')" || true
check "ping ga -> gb, 4 of 4" on ga ping -c 4 -i 0.2 -W 2 10.0.2.1
expect_eq "ga: nfsec's SAs carried 4 packets each way" \
	"out: bytes=336 packets=4; in: bytes=336 packets=4" "$(sa_pair_stats ga)" || true
expect_eq "gb: both XFRM states carried 4 packets" 2 \
	"$(ip -n "$(ns_name gb)" -s xfrm state | grep -c '(bytes), 4(packets)')" || true
n=$(nf ga -j policy list | jq_py 'sum(p["matches"] for p in d if p["action"] == "bypass")')
((n > 0)) && ok "ga: IKE passed beside the transport SAs ($n by the bypass policies)" ||
	not_ok "ga: IKE passed beside the transport SAs" "bypass matches: $n"
check "ga: terminate" sw ga --terminate --ike host --timeout 10
expect_eq "ga: no SA, only the bypass policies" "[0, 8]" "$(ns_counts ga)" || true

log "ga behind a NAT: inet masquerades 10.0.1.0/24 toward gb (ports 40000-40100)"
check "inet: nftables masquerade" on inet nft -f - <<-EOF
	table ip nat {
		chain post {
			type nat hook postrouting priority srcnat; policy accept;
			ip saddr 10.0.1.0/24 oifname "wan2" meta l4proto udp masquerade to :40000-40100
			ip saddr 10.0.1.0/24 oifname "wan2" masquerade
		}
	}
EOF
on inet conntrack -F >/dev/null 2>&1 || true
check "ga: swanctl --load-all (tunnel)" sswan_conf ga \
	<<<"$(psk 10.0.1.1 10.0.2.1 tunnel 10.0.2.1 "local_ts = 192.168.1.0/24
						remote_ts = 192.168.2.0/24")"
check "gb: swanctl --load-all (tunnel, remote %any)" sswan_conf gb \
	<<<"$(psk 10.0.2.1 10.0.1.1 tunnel %any "local_ts = 192.168.2.0/24
						remote_ts = 192.168.1.0/24")"
cap_start inet wan2 "$TMP/nat.pcap"
check "ga initiates behind the NAT" sw ga --initiate --child tunnel --timeout 30 || sswan_tail ga
check "ga's charon saw the NAT" sswan_log ga "local host is behind NAT"
expect_eq "ga: ESP in UDP on both SAs, 4500 to 4500 (ga's side of the NAT)" \
	"in udp 4500->4500; out udp 4500->4500" \
	"$(nf ga -j sa list | jq_py '"; ".join(sorted("%s %s %s->%s" % (s["dir"],
		s["encap"]["type"], s["encap"]["sport"], s["encap"]["dport"]) for s in d))')" || true
check "ping ha -> hb through the NAT, 4 of 4" on ha ping -c 4 -i 0.2 -W 2 192.168.2.10
head -c 262144 /dev/urandom >"$TMP/blob"
tcp_md5 "TCP hb -> ha through the NAT: 256 KiB intact (md5)" hb ha 192.168.1.10 5003 "$TMP/blob" || true
cap_stop "$TMP/nat.pcap"
cap_show "$TMP/nat.pcap" "" 4
expect_eq "capture toward gb: no ESP, only UDP (IKE and ESP in UDP)" 0 \
	"$(cap_count "$TMP/nat.pcap" 'ip and not udp')" || true
n=$(cap_count "$TMP/nat.pcap" 'udp and src portrange 40000-40100 and udp[8:4] != 0')
((n >= 4)) && ok "capture: ESP in UDP from the NAT's ports ($n packets)" ||
	not_ok "capture: ESP in UDP from the NAT's ports" "$n packets"
s=$(ns_stats ga)
[[ $s =~ encap_in=[1-9] && $s =~ encap_out=[1-9] ]] &&
	ok "ga: ESP in UDP counted both ways ($s)" || not_ok "ga: ESP in UDP counted both ways" "$s"

log "a NAT mapping change seen by nfsec: gb on nfsec, inet moves ga to ports 41000-41100"
check "ga: terminate" sw ga --terminate --ike host --timeout 10
sswan_stop gb
sswan_start gb nfsec && ok "gb: charon with kernel-nfsec" || not_ok "gb: charon with kernel-nfsec"
check "gb: swanctl --load-all (tunnel, remote %any)" sswan_conf gb \
	<<<"$(psk 10.0.2.1 10.0.1.1 tunnel %any "local_ts = 192.168.2.0/24
						remote_ts = 192.168.1.0/24")"
check "ga initiates behind the NAT" sw ga --initiate --child tunnel --timeout 30 || sswan_tail gb
check "ping ha -> hb through the NAT, 2 of 2" on ha ping -c 2 -i 0.2 -W 2 192.168.2.10
# gb_encap: "in SPORT->DPORT; out SPORT->DPORT" of gb's SAs
gb_encap() {
	nf gb -j sa list | jq_py '"; ".join(sorted("%s %s->%s" % (s["dir"],
		s["encap"]["sport"], s["encap"]["dport"]) for s in d))'
}
before=$(gb_encap)
[[ $before =~ ^in\ 400[0-9][0-9]-\>4500\;\ out\ 4500-\>400[0-9][0-9]$ ]] &&
	ok "gb: ESP in UDP to and from the NAT's port ($before)" ||
	not_ok "gb: ESP in UDP to and from the NAT's port" "$before"
check "inet: the NAT moves to ports 41000-41100, its mappings flushed" on inet nft -f - <<-EOF
	flush table ip nat
	table ip nat {
		chain post {
			type nat hook postrouting priority srcnat; policy accept;
			ip saddr 10.0.1.0/24 oifname "wan2" meta l4proto udp masquerade to :41000-41100
			ip saddr 10.0.1.0/24 oifname "wan2" masquerade
		}
	}
EOF
on inet conntrack -F >/dev/null 2>&1 || true
check "ping ha -> hb again: gb follows the new mapping" \
	wait_for "ping after the mapping change" 20 on ha ping -c 1 -W 1 192.168.2.10
check "gb's charon had nfsec's mapping event" \
	sswan_log gb "kernel-nfsec: NAT mapping of SA with SPI [0-9a-f]+ changed to 10.0.2.254\[410[0-9][0-9]\]"
after=$(gb_encap)
[[ $after =~ ^in\ 410[0-9][0-9]-\>4500\;\ out\ 4500-\>410[0-9][0-9]$ ]] &&
	ok "gb: charon updated nfsec's SAs to the new port ($after)" ||
	{ not_ok "gb: charon updated nfsec's SAs to the new port" "$after"; sswan_tail gb 30; }
check "ping ha -> hb, 3 of 3" on ha ping -c 3 -i 0.2 -W 2 192.168.2.10

sswan_stop ga gb
expect_eq "ga, gb: nothing left once charon stops" "[0, 0] [0, 0]" \
	"$(ns_counts ga) $(ns_counts gb)" || true
check "ga's and gb's charon logs have no error" bash -c \
	"! grep -E 'kernel-nfsec: (unable|.*refused)' $SSWAN_DIR/ga/charon.log $SSWAN_DIR/gb/charon.log"
rm -rf "$TMP"
t_end
