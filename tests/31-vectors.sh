#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 31-vectors.sh: nfsec opens published ESP packets byte for byte.
#
#   RFC 7634 appendix A            ChaCha20-Poly1305, tunnel, SPI 0x01020304
#   draft-mcgrew-gcm-test-01 4.2   AES-GCM-128 (ICV 16), tunnel, SPI 0xa5f8
#
# (RFC 3602's ESP cases 5-8 are AES-CBC without integrity, which nfsec
# refuses, so they cannot be used here.) Without a fixed-IV hook nfsec cannot
# reproduce an encryption, so this checks decryption: an inbound SA with the
# vector's key and SPI and a matching inbound policy in namespace r, which
# owns the vector's outer destination 203.0.113.5 and inner destinations;
# namespace s, on the other end of the veth, owns 203.0.113.153 and injects
# the exact packet bytes (tests/vectors.py). First each vector goes with its
# last ICV byte flipped (icv-fail counts it, nothing comes out), then as
# published: the SA counts exactly one packet, nfsec0 shows the inner packet
# byte for byte as the document gives it, and the stack answers it (echo
# reply, port unreachable) in clear towards s. scapy's SecurityAssociation
# opens the same bytes first, to show that they were copied right.
#
#   +--------------------------+           +--------------------+
#   | ns r (nfsec)             |           | ns s (injector)    |
#   | vr 203.0.113.5/24        |-----------| vs 203.0.113.153/24|
#   | lo 192.0.2.5 192.168.1.1 |           |                    |
#   +--------------------------+           +--------------------+

. "$(dirname "$0")/lib.sh"
t_begin vectors
PY=/usr/bin/python3
VEC=$TESTS_DIR/vectors.py

# 1. The vectors against scapy (no kernel involved).
out=$("$PY" "$VEC" check 2>&1)
for v in rfc7634 mcgrew2; do
	for what in scapy scapy-tunnel scapy-tamper; do
		r=$(printf '%s\n' "$out" | awk -v v="$v" -v w="$what" '$1 == v && $2 == w { $1 = $2 = ""; sub(/^ +/, ""); print }')
		case $what in
		scapy) desc="$v: scapy opens it: plaintext and trailer as published" ;;
		scapy-tunnel) desc="$v: scapy's tunnel-mode decrypt gives the inner packet" ;;
		scapy-tamper) desc="$v: scapy rejects it with a flipped ICV bit" ;;
		esac
		if [ "$r" = ok ]; then
			ok "$desc"
		else
			not_ok "$desc" "$out"
		fi
	done
done

# 2. The vectors into nfsec.
module_load || { not_ok "module loads"; t_end; }
ns_create r s
NR=$(ns_name r)
NS=$(ns_name s)
ip link add vr netns "$NR" type veth peer name vs netns "$NS"
ip -n "$NR" -b - <<EOF
addr add 203.0.113.5/24 dev vr
addr add 192.0.2.5/32 dev lo
addr add 192.168.1.1/32 dev lo
link set vr up
route add 198.51.100.0/24 via 203.0.113.153
route add 192.168.1.0/24 via 203.0.113.153
EOF
ip -n "$NS" -b - <<EOF
addr add 203.0.113.153/24 dev vs
link set vs up
EOF
# Resolve the neighbours now, so that the first answer is not held up.
n s ping -c 1 -W 5 203.0.113.5 >/dev/null 2>&1 || true

check "nfsec config: the vectors' SAs and inbound policies" n r "$NFSEC" -b - <<EOF
sa add dir in src 203.0.113.153 dst 203.0.113.5 spi 0x01020304 proto esp mode tunnel \
	aead chacha20-poly1305 key 0x808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3
policy add dir in src 198.51.100.5 dst 192.0.2.5 protect spi 0x01020304 dst 203.0.113.5
sa add dir in src 203.0.113.153 dst 203.0.113.5 spi 0xa5f8 proto esp mode tunnel \
	aead aes-gcm-128 key 0xfeffe9928665731c6d6a8f9467308308cafebabe
policy add dir in src 192.168.1.2 dst 192.168.1.1 protect spi 0xa5f8 dst 203.0.113.5
EOF

out=$(n r "$PY" "$VEC" inject "$NS" nfsec0 vr vs 2>&1) || true
log "$(printf '%s\n' "$out" | grep -E '^(link|other) ')"

# sa_stats SPI: "packets P icv_fail I other-drops D" of the SA to 203.0.113.5.
sa_stats() {
	n r "$NFSEC" -j sa get dst 203.0.113.5 spi "$1" proto esp | jq -r '.stats |
		"packets \(.packets) icv_fail \(.icv_fail) other-drops \(to_entries |
		map(select(.key != "packets" and .key != "bytes" and
		.key != "icv_fail") | .value) | add)"'
}

for v in rfc7634:0x01020304 mcgrew2:0xa5f8; do
	name=${v%%:*}
	spi=${v#*:}
	expect_eq "$name: SA $spi counts the genuine packet once, the tampered one as icv-fail" \
		"packets 1 icv_fail 1 other-drops 0" "$(sa_stats "$spi")" || true
	for what in decapsulated answer; do
		r=$(printf '%s\n' "$out" | awk -v v="$name" -v w="$what" '$1 == v && $2 == w { print $3 }')
		case $what in
		decapsulated) desc="$name: nfsec0 shows the inner packet, byte for byte as published" ;;
		answer) desc="$name: the stack answers the inner packet (reply seen on vs)" ;;
		esac
		if [ "$r" = ok ]; then
			ok "$desc"
		else
			not_ok "$desc" "$out" "$(n r "$NFSEC" show 2>&1)"
		fi
	done
done
expect_eq "namespace counters: nothing malformed, no SA missing" \
	"0 0 0" "$(n r "$NFSEC" -j stats | jq -r '"\(.malformed) \(.no_sa) \(.cleartext)"')" || true

t_end
