#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 33-ah-scapy.sh: nfsec's AH ICV (RFC 4302 3.3.3) against an implementation
# nobody on this team wrote, scapy's (scapy.layers.ipsec): scapy opens the
# packets nfsec makes and nfsec accepts the packets scapy makes, IPv4 with
# options and IPv6 with a hop-by-hop and a destination options header.
#
#   +------------------+        +------------------+
#   | ns a             |  veth  | ns b             |
#   | veth0 10.0.0.1   |--------| veth1 10.0.0.2   |
#   |       10.0.0.11  |        |       10.0.0.12  |
#   |       fd00::1    |        |       fd00::2    |
#   |       fd00::11   |        |       fd00::12   |
#   +------------------+        +------------------+
#   transport AH pairs, a -> b / b -> a: hmac-sha256-128 10.0.0.1 - .2
#   0x3301/0x3302, fd00::1 - ::2 0x3311/0x3312; hmac-sha1-96 10.0.0.11 -
#   .12 0x3303/0x3304, fd00::11 - ::12 0x3313/0x3314. One python process
#   in a (tests/ah_scapy.py, taking commands on a pipe: scapy's import
#   costs seconds under TCG) sends UDP through nfsec, opens the capture
#   with scapy's SecurityAssociation, and builds and sends AH with scapy
#   on veth0 (raw frames). b keeps the datagrams to ports 5304 (IPv4) and
#   5306 (IPv6) in one file each (socat). a knows b's MAC statically, so
#   nothing but the test's datagrams crosses the link.
#
# Covers, with exact counters of b's in SAs and the datagrams b received:
#  - nfsec -> scapy: a datagram with each SA, and one more with IPv4's
#    options NOP, record route (mutable: zeroed whole in the ICV; a's
#    kernel fills a slot) and router alert (immutable: covered), or with
#    an IPv6 hop-by-hop and a destination options header before AH, each
#    with an option whose data may change (0x3e: zeroed) and one whose
#    data may not (0x1e: covered); scapy verifies all 8 ICVs (and rejects
#    each packet with its last byte flipped) and reads the payloads;
#  - scapy -> nfsec, the same headers and options: accepted as signed,
#    with TTL / hop limit one less, with an address recorded in the record
#    route option (b's kernel records its own on arrival, too), with the
#    IPv6 options that may change changed; icv_fail, exactly, for a
#    payload bit, the IPv4 identification, the router alert's value, the
#    data of an IPv6 option that may not change (hop-by-hop and
#    destination options); a sequence number that failed is accepted
#    later as signed. A source address changed is dropped before the ICV
#    (the transport SA's peer is checked first) and counted policy.
#
# scapy 2.5's AH, as read in its source and seen here:
#  - it verifies all of the above as RFC 4302 wants (its zeroing agrees
#    with nfsec's for these options and headers);
#  - its immutable IPv4 options are matched by the 5-bit option number
#    alone (2, 5, 6, 20, 21), not the whole type octet as RFC 4302 A.1
#    lists them (130, 133, 134, 148, 149, as nfsec does): the same for
#    every assigned option, different only for unassigned types; not
#    tested;
#  - it zeroes IPv4's flags but not the fragment offset (AH packets are
#    never fragments: no difference);
#  - it sees NAT-T ESP in UDP to or from port 4500 inside AH and signs
#    that "ESP" instead: the datagrams here use port 4302.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter ah-scapy a b			# the rest runs in namespace a

TMP=$(mktemp -d)
t0=$EPOCHREALTIME
# scapy's import overlaps with the set-up; taskset: one CPU, so the
# datagrams reach b in the order they were sent
coproc_start PY taskset -c 0 /usr/bin/python3 "$TESTS_DIR/ah_scapy.py"

# py CMD...: one command to ah_scapy.py, its answer's lines on stdout.
py() {
	local line
	printf '%s\n' "$*" >&"$PY_TO"
	while IFS= read -r -t 120 -u "$PY_FROM" line && [ "$line" != . ]; do
		printf '%s\n' "$line"
	done
}

# sends DESC CMD...: each CMD (an ah_scapy.py command in one word list)
# sent, ok when every one answered "sent".
sends() {
	local desc=$1 c out='' want=''
	shift
	for c in "$@"; do
		# shellcheck disable=SC2086 # the words of the command
		out+=$(py $c)$'\n'
		want+=sent$'\n'
	done
	expect_eq "$desc" "$want" "$out"
}

# hmac-sha256-128 keys (32 bytes), hmac-sha1-96 keys (20 bytes)
KS1=0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
KS2=0x202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
KH1=0x404142434445464748494a4b4c4d4e4f50515253
KH2=0x606162636465666768696a6b6c6d6e6f70717273

link a veth0 10.0.0.1/24 b veth1 10.0.0.2/24
bmac=$(on b cat /sys/class/net/veth1/address)
ipb a <<-EOF
	addr add 10.0.0.11/24 dev veth0
	addr add fd00::1/64 dev veth0 nodad
	addr add fd00::11/64 dev veth0 nodad
	neigh add 10.0.0.2 lladdr $bmac dev veth0 nud permanent
	neigh add 10.0.0.12 lladdr $bmac dev veth0 nud permanent
	neigh add fd00::2 lladdr $bmac dev veth0 nud permanent
	neigh add fd00::12 lladdr $bmac dev veth0 nud permanent
EOF
ipb b <<-EOF
	addr add 10.0.0.12/24 dev veth1
	addr add fd00::2/64 dev veth1 nodad
	addr add fd00::12/64 dev veth1 nodad
EOF

# pairs NS OUT_SPI IN_SPI SHA256_OUT SHA256_IN SHA1_OUT SHA1_IN LOCAL REMOTE
#       LOCAL_SHA1 REMOTE_SHA1: the hmac-sha256-128 pair, and the
# hmac-sha1-96 pair with the SPIs 2 above between the other addresses.
pairs() {
	esp_pair -a hmac-sha256-128 "$1" transport "$2" "$3" "$4" "$5" "$8" "$9" &&
	esp_pair -a hmac-sha1-96 "$1" transport "$(printf 0x%x $(($2 + 2)))" \
		"$(printf 0x%x $(($3 + 2)))" "$6" "$7" "${10}" "${11}"
}
check "a: AH pairs 0x3301/0x3302 (sha256), 0x3303/0x3304 (sha1), IPv4" \
	pairs a 0x3301 0x3302 "$KS1" "$KS2" "$KH1" "$KH2" 10.0.0.1 10.0.0.2 \
	10.0.0.11 10.0.0.12
check "a: AH pairs 0x3311/0x3312 (sha256), 0x3313/0x3314 (sha1), IPv6" \
	pairs a 0x3311 0x3312 "$KS1" "$KS2" "$KH1" "$KH2" fd00::1 fd00::2 \
	fd00::11 fd00::12
check "b: the same pairs, IPv4" \
	pairs b 0x3302 0x3301 "$KS2" "$KS1" "$KH2" "$KH1" 10.0.0.2 10.0.0.1 \
	10.0.0.12 10.0.0.11
check "b: the same pairs, IPv6" \
	pairs b 0x3312 0x3311 "$KS2" "$KS1" "$KH2" "$KH1" fd00::2 fd00::1 \
	fd00::12 fd00::11

run_bg b socat -u UDP-RECV:5304 OPEN:"$TMP/b4.recv",creat,append
run_bg b socat -u UDP6-RECV:5306 OPEN:"$TMP/b6.recv",creat,append
udp_bound() {
	local s
	s=$(on b ss -Hlun)
	[[ $s == *:5304* && $s == *:5306* ]]
}
wait_for "b: socat listens on 5304 and 5306" 15 udp_bound || true

expect_eq "ah_scapy.py: scapy imported" ready "$(py ready)" || true
log "scapy ready $(elapsed "$t0") after the start"
sas=''
for s in "0x3301 hmac-sha256-128 $KS1" "0x3303 hmac-sha1-96 $KH1" \
	 "0x3311 hmac-sha256-128 $KS1" "0x3313 hmac-sha1-96 $KH1"; do
	# shellcheck disable=SC2086 # SPI, algorithm, key
	sas+=$(py sa $s)
done
expect_eq "ah_scapy.py: scapy's SAs for a -> b" "" "$sas" || true

log "nfsec -> scapy: 8 datagrams from a, captured on a's veth0"
cap_start a veth0 "$TMP/a.pcap"
sends "a: UDP with each SA, plain and with options or extension headers" \
	"udp 10.0.0.1 10.0.0.2 5304 nfsec-4-sha256" \
	"udp 10.0.0.1 10.0.0.2 5304 nfsec-4-sha256-opts rr-ra" \
	"udp 10.0.0.11 10.0.0.12 5304 nfsec-4-sha1" \
	"udp 10.0.0.11 10.0.0.12 5304 nfsec-4-sha1-opts rr-ra" \
	"udp fd00::1 fd00::2 5306 nfsec-6-sha256" \
	"udp fd00::1 fd00::2 5306 nfsec-6-sha256-exts hbh-dst" \
	"udp fd00::11 fd00::12 5306 nfsec-6-sha1" \
	"udp fd00::11 fd00::12 5306 nfsec-6-sha1-exts hbh-dst" || true
# (IPv4: 20 or 36 with options, UDP 8, the text and its newline; IPv6: 40,
# 80 with the two 16-byte headers, the same)
expect_stats "b: in SA 0x3301: 2 (43 + 64 bytes)" b 0x3301 "bytes=107 packets=2"
expect_stats "b: in SA 0x3303: 2 (41 + 62 bytes)" b 0x3303 "bytes=103 packets=2"
expect_stats "b: in SA 0x3311: 2 (63 + 100 bytes)" b 0x3311 "bytes=163 packets=2"
expect_stats "b: in SA 0x3313: 2 (61 + 98 bytes)" b 0x3313 "bytes=159 packets=2"
cap_stop "$TMP/a.pcap"
# SPI, seq, the headers in front of AH, AH's length (IPv6's
# hmac-sha256-128: 28 bytes padded to 32), scapy's verdict, the payload
expect_eq "scapy verifies all 8 ICVs nfsec made and reads the datagrams" \
"0x3301 1 ip4 28 ok nfsec-4-sha256
0x3301 2 ip4+nop,rr,ra 28 ok nfsec-4-sha256-opts
0x3303 1 ip4 24 ok nfsec-4-sha1
0x3303 2 ip4+nop,rr,ra 24 ok nfsec-4-sha1-opts
0x3311 1 ip6 32 ok nfsec-6-sha256
0x3311 2 ip6+hbh+dst 32 ok nfsec-6-sha256-exts
0x3313 1 ip6 24 ok nfsec-6-sha1
0x3313 2 ip6+hbh+dst 24 ok nfsec-6-sha1-exts" "$(py open "$TMP/a.pcap")" || true

log "scapy -> nfsec: AH built by scapy, sent on a's veth0 as frames"
expect_eq "ah_scapy.py: frames to b's MAC on veth0" "" "$(py link veth0 "$bmac")" || true
f4="10.0.0.1 10.0.0.2 5304"
sends "scapy, SA 0x3301: seq 11 as signed, 12 TTL 63, 13 TTL 63 and an address recorded" \
	"forge 0x3301 11 $f4 scapy-4-sha256-signed" \
	"forge 0x3301 12 $f4 scapy-4-sha256-ttl ttl" \
	"forge 0x3301 13 $f4 scapy-4-sha256-rr ttl rr:10.0.0.254" || true
# (36 IP with the options, 8 UDP, the text: 66, 63, 62)
expect_stats "b: in SA 0x3301: 3 accepted" b 0x3301 "bytes=298 packets=5"
sends "scapy, SA 0x3301: seq 14 with a payload bit, 15 the IP ID, 16 the router alert changed" \
	"forge 0x3301 14 $f4 scapy-4-sha256-payload payload" \
	"forge 0x3301 15 $f4 scapy-4-sha256-id id" \
	"forge 0x3301 16 $f4 scapy-4-sha256-ra opt:ip:0x94" || true
expect_stats "b: in SA 0x3301: icv_fail 3" b 0x3301 \
	"bytes=298 icv_fail=3 packets=5"
sends "scapy, SA 0x3301: seq 17 from 10.0.0.9, then 14 as signed" \
	"forge 0x3301 17 10.0.0.9 10.0.0.2 5304 scapy-4-sha256-src src:10.0.0.9" \
	"forge 0x3301 14 $f4 scapy-4-sha256-again" || true
expect_stats "b: in SA 0x3301: policy 1 (another source), seq 14 accepted (65 bytes)" \
	b 0x3301 "bytes=363 icv_fail=3 packets=6 policy=1"
f4="10.0.0.11 10.0.0.12 5304"
sends "scapy, SA 0x3303 (sha1): seq 11 as signed, 12 TTL 63, 13 a payload bit" \
	"forge 0x3303 11 $f4 scapy-4-sha1-signed" \
	"forge 0x3303 12 $f4 scapy-4-sha1-ttl ttl" \
	"forge 0x3303 13 $f4 scapy-4-sha1-payload payload" || true
expect_stats "b: in SA 0x3303: 2 accepted (64 + 61 bytes), icv_fail 1" b 0x3303 \
	"bytes=228 icv_fail=1 packets=4"
wait_for "b: the last IPv4 datagram" 5 file_has "$TMP/b4.recv" scapy-4-sha1-ttl || true
expect_eq "b: the IPv4 datagrams accepted, none of the others" \
"nfsec-4-sha256
nfsec-4-sha256-opts
nfsec-4-sha1
nfsec-4-sha1-opts
scapy-4-sha256-signed
scapy-4-sha256-ttl
scapy-4-sha256-rr
scapy-4-sha256-again
scapy-4-sha1-signed
scapy-4-sha1-ttl" "$(cat "$TMP/b4.recv" 2>&1)" || true

f6="fd00::1 fd00::2 5306"
sends "scapy, SA 0x3311: seq 11 as signed, 12 hop limit 63, 13 the options that may change changed" \
	"forge 0x3311 11 $f6 scapy-6-sha256-signed" \
	"forge 0x3311 12 $f6 scapy-6-sha256-hlim ttl" \
	"forge 0x3311 13 $f6 scapy-6-sha256-may opt:hbh:0x3e opt:dst:0x3e" || true
# (40 IPv6, 16 hop-by-hop, 16 destination options, 8 UDP, the text: 102,
# 100, 99)
expect_stats "b: in SA 0x3311: 3 accepted" b 0x3311 "bytes=464 packets=5"
sends "scapy, SA 0x3311: seq 14 with a payload bit, 15 and 16 the option that may not change changed (hop-by-hop, destination)" \
	"forge 0x3311 14 $f6 scapy-6-sha256-payload payload" \
	"forge 0x3311 15 $f6 scapy-6-sha256-hbh opt:hbh:0x1e" \
	"forge 0x3311 16 $f6 scapy-6-sha256-dst opt:dst:0x1e" || true
expect_stats "b: in SA 0x3311: icv_fail 3" b 0x3311 \
	"bytes=464 icv_fail=3 packets=5"
sends "scapy, SA 0x3311: seq 17 from fd00::9, then 14 as signed" \
	"forge 0x3311 17 fd00::9 fd00::2 5306 scapy-6-sha256-src src:fd00::9" \
	"forge 0x3311 14 $f6 scapy-6-sha256-again" || true
expect_stats "b: in SA 0x3311: policy 1 (another source), seq 14 accepted (101 bytes)" \
	b 0x3311 "bytes=565 icv_fail=3 packets=6 policy=1"
f6="fd00::11 fd00::12 5306"
sends "scapy, SA 0x3313 (sha1): seq 11 as signed, 12 hop limit 63, 13 a payload bit" \
	"forge 0x3313 11 $f6 scapy-6-sha1-signed" \
	"forge 0x3313 12 $f6 scapy-6-sha1-hlim ttl" \
	"forge 0x3313 13 $f6 scapy-6-sha1-payload payload" || true
expect_stats "b: in SA 0x3313: 2 accepted (100 + 98 bytes), icv_fail 1" b 0x3313 \
	"bytes=357 icv_fail=1 packets=4"
wait_for "b: the last IPv6 datagram" 5 file_has "$TMP/b6.recv" scapy-6-sha1-hlim || true
expect_eq "b: the IPv6 datagrams accepted, none of the others" \
"nfsec-6-sha256
nfsec-6-sha256-exts
nfsec-6-sha1
nfsec-6-sha1-exts
scapy-6-sha256-signed
scapy-6-sha256-hlim
scapy-6-sha256-may
scapy-6-sha256-again
scapy-6-sha1-signed
scapy-6-sha1-hlim" "$(cat "$TMP/b6.recv" 2>&1)" || true
expect_eq "b: no namespace drops" "" "$(ns_stats b)" || true
log "done $(elapsed "$t0") after the start"

rm -rf "$TMP"
t_end
