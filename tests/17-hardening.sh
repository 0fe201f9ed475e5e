#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 17-hardening.sh: control-plane defects of a security review.
#
#   ns c: a device named nfsec0 made by its owner before nfsec loads (the
#         script runs in c)
#   ns d: an ordinary namespace made after
#
# Covers:
#  - a namespace that already has a device named nfsec0 (anyone can make
#    one in a user namespace of their own) cannot stop the module from
#    loading: nfsec's device there is nfsec1, and nfsec0 elsewhere;
#  - ICV and truncation lengths given as u32 beyond 16 bits are refused,
#    not truncated (65664 = 65536 + 128 once passed as 128);
#  - both from an unprivileged user's own user and network namespace
#    (unshare -Urn), where the ICV refusal must hold too.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter hardening-ctl c		# the rest runs in namespace c

# link_kind [UP]: the link kind ("null": none) of the device `ip -d -j
# link show` printed on stdin; with UP, and "UP" if it is up ("null": not)
link_kind() {
	jq_py '" ".join([d[0].get("linkinfo", {}).get("info_kind") or "null"] +
		(["UP" if "UP" in d[0]["flags"] else "null"] if a else []))' "${1-}"
}

log "a device named nfsec0 made before the module loads"
check "rmmod nfsec" module_unload
check "c: its own dummy device nfsec0" ip link add nfsec0 type dummy
module_deps
check "insmod nfsec" insmod "$MODULE"
ns_create d
ns_shell d
expect_eq "c: nfsec0 is still the dummy" dummy \
	"$(ip -d -j link show nfsec0 | link_kind)"
expect_eq "c: nfsec's device is nfsec1 (no link kind), up" "null UP" \
	"$(ip -d -j link show nfsec1 | link_kind UP)"
expect_eq "d: nfsec's device is nfsec0" null \
	"$(ip -n "$(ns_name d)" -d -j link show nfsec0 | link_kind)"
check "c: the control plane works" nf c sa add dir out src 10.0.0.1 \
	dst 10.0.0.2 spi 0x1001 proto esp mode transport aead aes-gcm-128 key "$KEY1"

log "transport mode SAs and the policies that may name them"
check "d: transport SAs out 0x2001 and in 0x2002" nf d -b - <<EOF
sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x2001 proto esp mode transport aead aes-gcm-128 key $KEY1
sa add dir in src 10.0.0.2 dst 10.0.0.1 spi 0x2002 proto esp mode transport aead aes-gcm-128 key $KEY2
EOF
expect_fail "d: fwd policy naming in SA 0x2002: refused" \
	"a transport mode SA carries no forwarded traffic" \
	nf d policy add dir fwd src 10.0.0.2 dst 10.9.0.0/16 protect spi 0x2002 dst 10.0.0.1
expect_fail "d: out policy to 10.0.0.0/24 naming out SA 0x2001: refused" \
	"a transport mode SA protects only traffic to its peer \(its dst\)" \
	nf d policy add dir out src 10.0.0.1 dst 10.0.0.0/24 protect spi 0x2001 dst 10.0.0.2
expect_fail "d: out policy to 10.0.0.3 naming out SA 0x2001: refused" \
	"a transport mode SA protects only traffic to its peer \(its dst\)" \
	nf d policy add dir out src 10.0.0.1 dst 10.0.0.3 protect spi 0x2001 dst 10.0.0.2
check "d: out policy to 10.0.0.2, in policy from 10.0.0.0/24: accepted" nf d -b - <<EOF
policy add dir out src 10.0.0.1 dst 10.0.0.2 protect spi 0x2001
policy add dir in src 10.0.0.0/24 dst 10.0.0.1 protect spi 0x2002 dst 10.0.0.1
EOF
expect_eq "d: 2 policies" 2 "$(ns_stat d policy_count)"
check "d: SAs and policies flushed" nf d -b - <<EOF
policy flush
sa flush
EOF

log "multicast looped back on nfsec0 is cleartext, not decapsulated traffic"
check "d: an in SA, a protect policy for UDP to 239.1.1.1, a route via nfsec0" \
	nf d -b - <<EOF
sa add dir in src 10.0.0.2 dst 10.0.0.1 spi 0x3002 proto esp mode tunnel aead aes-gcm-128 key $KEY2
policy add dir in src any dst 239.1.1.1 proto udp protect spi 0x3002 dst 10.0.0.1
EOF
ipb d <<EOF
addr add 10.0.9.1/32 dev nfsec0
route add 239.1.1.1/32 dev nfsec0
EOF
# one process: joins 239.1.1.1 on nfsec0 (so the loopback copy is local),
# sends a datagram there out of nfsec0 with multicast loop on, and says
# whether the group member got it.
expect_eq "d: the looped copy is not delivered" "got nothing" \
	"$(on d /usr/bin/python3 -c '
import socket, struct
idx = socket.if_nametoindex("nfsec0")
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(("239.1.1.1", 5000))
r.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             struct.pack("4s4si", socket.inet_aton("239.1.1.1"), bytes(4), idx))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
             struct.pack("4s4si", bytes(4), bytes(4), idx))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
s.sendto(b"looped", ("239.1.1.1", 5000))
r.settimeout(2)
try:
    print("got %r" % r.recv(100))
except socket.timeout:
    print("got nothing")' 2>&1)"
expect_eq "d: counted as cleartext" "cleartext=1" "$(ns_stats d)"
check "d: SAs and policies flushed" nf d -b - <<EOF
policy flush
sa flush
EOF

log "ICV and truncation lengths beyond 16 bits"
expect_fail "icv 65664 (65536 + 128): refused" \
	"ICV length or truncation length out of range" \
	nf d sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x1002 proto esp \
	mode transport aead aes-gcm-128 key "$KEY1" icv 65664
expect_fail "trunc 65632 (65536 + 96): refused" \
	"ICV length or truncation length out of range" \
	nf d sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x1003 proto esp \
	mode transport auth hmac-sha1-96 key 0x0102030405060708090a0b0c0d0e0f1011121314 \
	trunc 65632
expect_eq "d: no SA was added" 0 "$(ns_stat d sa_count)"
expect_fail "unshare -Urn as nobody: icv 65664 refused there too" \
	"ICV length or truncation length out of range" \
	as_nobody_userns "$NFSEC" sa add dir out src 10.0.0.1 dst 10.0.0.2 \
	spi 0x1002 proto esp mode transport aead aes-gcm-128 key "$KEY1" \
	icv 65664

t_end
