#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 62-strongswan-hosts.sh: two hosts, both with charon and kernel-nfsec,
# authenticated by certificates that `pki` makes at test time (a CA and one
# certificate each): transport mode host to host over IPv4, and a tunnel
# over IPv6.
#
#   +-------------------------+          +-------------------------+
#   | p  (charon + nfsec)     |          | q  (charon + nfsec)     |
#   | eth0 10.9.0.1/24        |----------| eth0 10.9.0.2/24        |
#   |      fd09::1/64         |          |      fd09::2/64         |
#   | lo   fd01::1/128        |          | lo   fd02::1/128        |
#   +-------------------------+          +-------------------------+
#
#   conn host: 10.9.0.1 <-> 10.9.0.2, CHILD_SA tr, mode transport
#   conn six:  fd09::1 <-> fd09::2, CHILD_SA t6, tunnel fd01::1 <-> fd02::1
#
# Covers: the certificates (RSA 2048, signed by the CA; each side proves
# itself with its own and checks the other's against the CA, as charon's
# log says); both CHILD_SAs in nfsec on both hosts (mode, reqid, algorithm,
# exact counts after ping both ways), TCP by md5 both ways through each;
# on the link nothing but IKE (UDP 500/4500), ESP and neighbour discovery;
# charon's stop on both leaves nothing.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
. "${0%/*}/lib_sswan.sh"
ns_enter strongswan-hosts p q	# the rest runs in namespace p

if ! sswan_plugin; then
	skip "strongSwan and nfsec" "no charon-systemd or no plugin (make strongswan)"
	t_end
fi
TMP=$(mktemp -d)
SSWAN_DIR=$TMP/sswan
T0=$EPOCHREALTIME

link p eth0 10.9.0.1/24 q eth0 10.9.0.2/24
ipb p <<-EOF
	addr add fd09::1/64 dev eth0 nodad
	addr add fd01::1/128 dev lo
	route add fd02::1/128 via fd09::2 src fd01::1
EOF
ipb q <<-EOF
	addr add fd09::2/64 dev eth0 nodad
	addr add fd02::1/128 dev lo
	route add fd01::1/128 via fd09::1 src fd02::1
EOF

log "certificates: a CA, then p's and q's, by pki"
mkdir -p "$SSWAN_DIR"/{p,q}/{x509,x509ca,private}
pki_make() {
	local d=$TMP/pki
	mkdir -p "$d"
	pki --gen --type rsa --size 2048 --outform pem >"$d/ca.key" &&
	pki --self --ca --lifetime 30 --in "$d/ca.key" --type rsa \
		--dn "CN=nfsec test CA" --outform pem >"$d/ca.pem" || return 1
	local h
	for h in p q; do
		pki --gen --type rsa --size 2048 --outform pem >"$d/$h.key" &&
		pki --pub --in "$d/$h.key" --type rsa |
			pki --issue --lifetime 30 --cacert "$d/ca.pem" --cakey "$d/ca.key" \
				--dn "CN=$h.nfsec.test" --san "$h.nfsec.test" \
				--outform pem >"$d/$h.pem" || return 1
		cp "$d/ca.pem" "$SSWAN_DIR/$h/x509ca/"
		cp "$d/$h.pem" "$SSWAN_DIR/$h/x509/"
		cp "$d/$h.key" "$SSWAN_DIR/$h/private/"
	done
}
t=$EPOCHREALTIME
check "pki: CA, p.nfsec.test and q.nfsec.test (RSA 2048)" pki_make
log "pki took $(elapsed "$t")"
check "q's certificate is the CA's" bash -c \
	"pki --print --in $TMP/pki/q.pem | grep -q 'issuer:.*CN=nfsec test CA'"

sswan_start p nfsec && ok "p: charon with kernel-nfsec" || not_ok "p: charon with kernel-nfsec"
sswan_start q nfsec && ok "q: charon with kernel-nfsec" || not_ok "q: charon with kernel-nfsec"

# conf ME: swanctl.conf of host ME (p or q).
conf() {
	local me=$1 peer=q n4=1 m4=2
	[ "$me" = q ] && peer=p n4=2 m4=1
	cat <<-EOF
		connections {
			host {
				local_addrs = 10.9.0.$n4
				remote_addrs = 10.9.0.$m4
				proposals = aes128-sha256-modp2048
				local {
					auth = pubkey
					certs = $me.pem
					id = $me.nfsec.test
				}
				remote {
					auth = pubkey
					id = $peer.nfsec.test
				}
				children {
					tr {
						mode = transport
						esp_proposals = aes128gcm16
					}
				}
			}
			six {
				local_addrs = fd09::$n4
				remote_addrs = fd09::$m4
				proposals = aes128-sha256-modp2048
				local {
					auth = pubkey
					certs = $me.pem
					id = $me.nfsec.test
				}
				remote {
					auth = pubkey
					id = $peer.nfsec.test
				}
				children {
					t6 {
						local_ts = fd0$n4::1/128
						remote_ts = fd0$m4::1/128
						esp_proposals = aes256gcm16
					}
				}
			}
		}
	EOF
}
check "p: swanctl --load-all (certificate, key, CA)" sswan_conf p <<<"$(conf p)"
check "q: swanctl --load-all (certificate, key, CA)" sswan_conf q <<<"$(conf q)"

cap_start p eth0 "$TMP/link.pcap"

log "transport mode host to host, IPv4"
check "p initiates host/tr" sw p --initiate --child tr --timeout 30 || sswan_tail p
check "p: q proved itself with its certificate" \
	sswan_log p "authentication of 'q.nfsec.test' with RSA.* successful"
check "q: p proved itself with its certificate" \
	sswan_log q "authentication of 'p.nfsec.test' with RSA.* successful"
check "p: q's certificate checked against the CA" \
	sswan_log p 'reached self-signed root ca with a path length of 0'
# sa_list NS: "DIR/MODE/AEAD/KEY_BYTES/FAMILY/reqid>0 ..." of NS's SAs, IPv4
# first, out first.
sa_list() {
	nf "$1" -j --show-keys sa list | jq_py '" ".join("%s/%s/%s/%d/%s/%s" % (s["dir"], s["mode"],
		s["aead"]["name"] if "aead" in s else "-",
		len(s["aead"]["key"]) // 2 - 1 if "aead" in s else 0, s["family"], s.get("reqid", 0) > 0)
		for s in sorted(d, key=lambda s: (s["family"], s["dir"] != "out")))'
}
for h in p q; do
	expect_eq "$h: one transport SA each way, AES-GCM-128 (20-byte key with salt), with a reqid" \
		"out/transport/rfc4106(gcm(aes))/20/inet/True in/transport/rfc4106(gcm(aes))/20/inet/True" \
		"$(sa_list $h)" || true
done
check "ping p -> q, 3 of 3" on p ping -c 3 -i 0.2 -W 2 10.9.0.2
check "ping q -> p, 3 of 3" on q ping -c 3 -i 0.2 -W 2 10.9.0.1
expect_eq "p: its SAs carried 6 packets each way, 504 bytes" \
	"out: bytes=504 packets=6; in: bytes=504 packets=6" "$(sa_pair_stats p)" || true
expect_eq "q: its SAs carried 6 packets each way, 504 bytes" \
	"out: bytes=504 packets=6; in: bytes=504 packets=6" "$(sa_pair_stats q)" || true
head -c 262144 /dev/urandom >"$TMP/blob"
tcp_md5 "transport TCP p -> q, 256 KiB (md5)" p q 10.9.0.2 5001 "$TMP/blob" || true
tcp_md5 "transport TCP q -> p, 256 KiB (md5)" q p 10.9.0.1 5002 "$TMP/blob" || true

log "tunnel over IPv6"
check "p initiates six/t6" sw p --initiate --child t6 --timeout 30 || sswan_tail p
for h in p q; do
	expect_eq "$h: and one IPv6 tunnel SA each way, AES-GCM-256 (36 bytes)" \
		"out/transport/rfc4106(gcm(aes))/20/inet/True in/transport/rfc4106(gcm(aes))/20/inet/True out/tunnel/rfc4106(gcm(aes))/36/inet6/True in/tunnel/rfc4106(gcm(aes))/36/inet6/True" \
		"$(sa_list $h)" || true
done
v6=$(nf p -j sa list | jq_py '" ".join("0x%x" % s["spi"] for s in
	sorted(d, key=lambda s: s["dir"] != "out") if s["family"] == "inet6")')
read -r out6 in6 <<<"$v6"
check "ping fd01::1 -> fd02::1, 3 of 3" on p ping -c 3 -i 0.2 -W 2 -I fd01::1 fd02::1
check "ping fd02::1 -> fd01::1, 3 of 3" on q ping -c 3 -i 0.2 -W 2 -I fd02::1 fd01::1
expect_eq "p: out SA $out6 carried 6 packets, 624 bytes" "bytes=624 packets=6" "$(sa_stats p "$out6")" || true
expect_eq "p: in SA $in6 carried 6 packets, 624 bytes" "bytes=624 packets=6" "$(sa_stats p "$in6")" || true
tcp_md5 "IPv6 tunnel TCP p -> q, 256 KiB (md5)" p q fd02::1 5003 "$TMP/blob" || true
tcp_md5 "IPv6 tunnel TCP q -> p, 256 KiB (md5)" q p fd01::1 5004 "$TMP/blob" || true
expect_eq "p: no namespace drops" "" "$(ns_stats p)" || true
expect_eq "q: no namespace drops" "" "$(ns_stats q)" || true
cap_stop "$TMP/link.pcap"

log "the link carried IKE, ESP and neighbour discovery only"
expect_eq "capture: no IPv4 packet but ESP and IKE" 0 \
	"$(cap_count "$TMP/link.pcap" 'ip and not ip proto 50 and not (udp port 500 or udp port 4500)')" || true
expect_eq "capture: no IPv6 packet but ESP, IKE and neighbour discovery" 0 \
	"$(cap_count "$TMP/link.pcap" 'ip6 and not ip6 proto 50 and not (udp port 500 or udp port 4500) and not (icmp6 and ip6[40] >= 133 and ip6[40] <= 136)')" || true
n=$(cap_count "$TMP/link.pcap" 'ip6 proto 50')
check "capture: ESP over IPv6 ($n)" eval "[ $n -ge 20 ]"
n=$(cap_count "$TMP/link.pcap" 'ip6 and udp port 500')
check "capture: IKE_SA_INIT over IPv6 ($n)" eval "[ $n -ge 2 ]"

sswan_stop p q
expect_eq "p: no SA and no policy left" "[0, 0]" "$(ns_counts p)" || true
expect_eq "q: no SA and no policy left" "[0, 0]" "$(ns_counts q)" || true
log "time: $(elapsed "$T0")"
rm -rf "$TMP"
t_end
