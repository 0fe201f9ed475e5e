#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 45-natt.sh: ESP in UDP (RFC 3948) through real NATs: nfsec behind a NAT
# against Linux XFRM, nfsec on both sides of two NATs, a NAT that rebinds,
# spoofed and hostile datagrams, a key-exchange daemon's socket on the same
# port, keepalives, and IPv6 encapsulation against XFRM.
#
#                        lo 172.16.2.1 (tunnel end)
#                        x  203.0.113.2 (XFRM, encap socket on 4500)
#                        |  2001:db8:3::2
#                        |
#   h 10.1.0.10 -- nat1 -+- inet (router: 198.51.100/24, 203.0.113/24,
#   (nfsec,        wan0 198.51.100.1    192.0.2/24, 2001:db8:2-3::/64)
#   IKE socket     SNAT 10.1.0.10:4500 -> :4600         |
#   on 4500)       (later :4700, :4800: a rebinding)    |
#   2001:db8:1::10 routes IPv6 without NAT     nat2 192.0.2.1
#                                              DNAT udp 4500 -> g
#                                               |
#                                              g 10.2.0.10 (nfsec)
#                                              lo 172.16.3.1 (tunnel end)
#
# inet has no route to 10.0.0.0/8 or 172.16.0.0/12: what crosses it between
# them crossed inside UDP. nat1 and nat2 run conntrack (NAT and a stateful
# filter, ct_filter), g a stateful input filter that lets UDP 4500 in.
#
#   h <-> x  tunnel    10.1.0.10 <-> 172.16.2.1   SPI 0x4501 (h->x) 0x4502
#   h <-> x  transport 10.1.0.10 <-> 203.0.113.2  SPI 0x4511 (h->x) 0x4512
#            (x sees h as 198.51.100.1 port 4600)
#   h <-> g  tunnel    10.1.0.10 <-> 172.16.3.1   SPI 0x4521 (h->g) 0x4522
#            (both behind a NAT; g's inbound SA, reqid 45, later follows)
#   h <-> x  IPv6 transport 2001:db8:1::10 <-> 2001:db8:3::2, no NAT,
#            SPI 0x4561 (h->x) 0x4562
#
# Asserted: ping both ways with exact per-SA counts on nfsec's side and the
# XFRM states' packet counts, TCP by md5 both ways in both modes (the
# transport-mode checksums a NAT made wrong); the path MTU that counts the
# UDP header (a DF ping of exactly the size that fits, one byte more told
# "frag needed" with that MTU); a capture on nat1's public
# link with nothing but UDP on the NAT'd ports; IKE (non-ESP marker) both
# ways on the same port as ESP, reaching h's socket and XFRM's; NAT
# keepalives consumed, and sent by h (the capture's count is h's counter);
# before any encap SA, the port is the socket's alone; the rebinding: the
# mapping event, nothing moves without follow, and with it traffic
# resumes both ways, even mid-stream; the inbound policy after
# decapsulation; spoofed datagrams (bad ICV, a replay)
# from a third address move nothing; junk, short, truncated, marked and
# huge datagrams are each counted; exact encap counters.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter natt h nat1 inet x nat2 g	# the rest runs in namespace h

TMP=$(mktemp -d)
T0=$EPOCHREALTIME
GCM="aead rfc4106(gcm(aes))"

# --- helpers ----------------------------------------------------------------

# sock NAME LINE: a command to that natt_sock.py; sock_line NAME [S]: its
# next output line (S seconds at most, 5), "<nothing>" if none came.
sock() {
	local to=${1}_TO
	echo "$2" >&"${!to}"
}

sock_line() {
	local from=${1}_FROM line
	IFS= read -r -t "${2:-5}" -u "${!from}" line || line="<nothing>"
	echo "$line"
}

# sock_start NAME NS ARGS...: natt_sock.py ARGS in NS, once it is ready.
sock_start() {
	local name=$1 ns=$2 line
	shift 2
	if [ "$ns" = h ]; then
		coproc_start "$name" python3 "$TESTS_DIR/natt_sock.py" "$@"
	else
		coproc_start "$name" ip netns exec "$(ns_name "$ns")" \
			python3 "$TESTS_DIR/natt_sock.py" "$@"
	fi
	line=$(sock_line "$name" 15)
	[ "$line" = ready ] || { echo "natt_sock $*: $line" >&2; return 1; }
}

# hexof TEXT: TEXT as hex.
hexof() {
	printf '%s' "$1" | od -An -tx1 | tr -d ' \n'
}

# blast NS DST HEX...: one UDP datagram to DST port 4500 per HEX, from NS
# (HEX*N: HEX repeated N times).
blast() {
	local ns=$1
	shift
	on "$ns" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for h in sys.argv[2:]:
    h, _, n = h.partition("*")
    s.sendto(bytes.fromhex(h) * int(n or 1), (sys.argv[1], 4500))
' "$@"
}

# ns_delta NS KEY BEFORE: how much the namespace counter KEY grew.
ns_delta() {
	echo $(($(ns_stat "$1" "$2") - $3))
}

# xfrm_packets NS SRC DST SPI: the packet count of that XFRM state.
xfrm_packets() {
	local out
	out=$(on "$1" ip -s xfrm state get src "$2" dst "$3" proto esp spi "$4") || return 1
	[[ $out =~ ([0-9]+)\(packets\) ]] && echo "${BASH_REMATCH[1]}"
}

# encap_peer NS SPI: where the SA's peer is now, "ADDR:PORT".
encap_peer() {
	sa_eval "$1" "$2" '"%s:%d" % (s["encap"]["peer"], s["encap"]["peer_port"])'
}

# nat1_map PORT: nat1 maps h's UDP 4500 to PORT from now on, and forgets
# every mapping it had (a NAT's reboot, or its entry timing out).
nat1_map() {
	on nat1 nft -f - <<-EOF || return 1
		flush chain ip nat post
		table ip nat {
			chain post {
				oifname "wan0" ip saddr 10.1.0.10 udp sport 4500 snat to 198.51.100.1:$1
				oifname "wan0" masquerade
			}
		}
	EOF
	on nat1 conntrack -F 2>/dev/null
}

# ping_got NS ARGS...: ping in NS; prints how many replies came.
ping_got() {
	local out
	out=$(on "$1" ping "${@:2}" 2>&1) || true
	[[ $out =~ ([0-9]+)\ received ]] && echo "${BASH_REMATCH[1]}" || echo "?"
}

# --- the world -----------------------------------------------------------------

link h eth0 10.1.0.10/24 nat1 lan0 10.1.0.1/24
link nat1 wan0 198.51.100.1/24 inet wan1 198.51.100.254/24
link x eth0 203.0.113.2/24 inet wan2 203.0.113.254/24
link nat2 wan0 192.0.2.1/24 inet wan3 192.0.2.254/24
link g eth0 10.2.0.10/24 nat2 lan0 10.2.0.1/24
ipb h <<-EOF
	route add default via 10.1.0.1
	addr add 2001:db8:1::10/64 dev eth0 nodad
	route add default via 2001:db8:1::1
EOF
ipb nat1 <<-EOF
	route add default via 198.51.100.254
	addr add 2001:db8:1::1/64 dev lan0 nodad
	addr add 2001:db8:2::1/64 dev wan0 nodad
	route add default via 2001:db8:2::254
EOF
ipb inet <<-EOF
	addr add 2001:db8:2::254/64 dev wan1 nodad
	addr add 2001:db8:3::254/64 dev wan2 nodad
	route add 2001:db8:1::/64 via 2001:db8:2::1
EOF
ipb x <<-EOF
	addr add 172.16.2.1/32 dev lo
	route add default via 203.0.113.254
	route add 10.1.0.10 via 203.0.113.254 src 172.16.2.1
	addr add 2001:db8:3::2/64 dev eth0 nodad
	route add default via 2001:db8:3::254
EOF
ipb nat2 <<-EOF
	route add default via 192.0.2.254
EOF
ipb g <<-EOF
	addr add 172.16.3.1/32 dev lo
	route add default via 10.2.0.1
	route add 10.1.0.10 via 10.2.0.1 src 172.16.3.1
EOF
for ns in nat1 inet nat2; do
	on "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
done

check "nat1: SNAT h's UDP 4500 to 4600, masquerade the rest" on nat1 nft -f - <<-EOF
	table ip nat {
		chain post {
			type nat hook postrouting priority srcnat; policy accept;
			oifname "wan0" ip saddr 10.1.0.10 udp sport 4500 snat to 198.51.100.1:4600
			oifname "wan0" masquerade
		}
	}
EOF
check "nat1: stateful filter (conntrack)" ct_filter nat1 'iifname "lan0" accept'
check "nat2: forward UDP 4500 to g, masquerade g" on nat2 nft -f - <<-EOF
	table ip nat {
		chain pre {
			type nat hook prerouting priority dstnat; policy accept;
			iifname "wan0" udp dport 4500 dnat to 10.2.0.10
		}
		chain post {
			type nat hook postrouting priority srcnat; policy accept;
			oifname "wan0" masquerade
		}
	}
EOF
check "nat2: stateful filter (conntrack)" ct_filter nat2 'iifname "lan0" accept' \
	'ct status dnat accept'
check "g: stateful input filter that lets IKE and ESP in UDP in" on g nft -f - <<-EOF
	table ip gf {
		chain input {
			type filter hook input priority filter; policy drop;
			ct state established,related accept
			ct state invalid counter drop comment "in-invalid"
			iif lo accept
			ip protocol icmp accept
			udp dport { 500, 4500 } accept
			iifname "nfsec0" accept
			counter comment "in-policy"
		}
	}
EOF

sock_start HS h 4 4500
sock_start XS x -e 4 4500
sock_start XS6 x -e 6 4500

log "before any encap SA, UDP 4500 is the socket's alone"
blast nat1 10.1.0.10 "deadbeef0000000100000000"
line=$(sock_line HS)
expect_eq "h's socket got the datagram (no nfsec SA uses the port)" \
	"got 10.1.0.1 ${line#got 10.1.0.1 }" "$line" || true
[[ $line == *" deadbeef0000000100000000" ]] || not_ok "  ... with its bytes" "$line"
expect_eq "h: nothing counted" "" "$(ns_stats h)" || true

# --- h behind nat1 against XFRM on x --------------------------------------------

# (before h has a keepalive to send: the capture counts them all)
cap_start nat1 wan0 "$TMP/pub.pcap"
check "h: IKE bypass, tunnel and transport encap SAs to x" nf h -b - <<-EOF
	policy add dir out src 0.0.0.0/0 dst 0.0.0.0/0 proto udp sport 4500 priority 10 bypass
	policy add dir in src 0.0.0.0/0 dst 0.0.0.0/0 proto udp dport 4500 priority 10 bypass
	sa add dir out src 10.1.0.10 dst 203.0.113.2 spi 0x4501 proto esp mode tunnel aead aes-gcm-128 key $KEY1 encap udp keepalive 1
	sa add dir in src 203.0.113.2 dst 10.1.0.10 spi 0x4502 proto esp mode tunnel aead aes-gcm-128 key $KEY2 encap udp
	policy add dir out src 10.1.0.10 dst 172.16.2.1 protect spi 0x4501 dst 203.0.113.2 proto esp
	policy add dir in src 172.16.2.1 dst 10.1.0.10 protect spi 0x4502 dst 10.1.0.10 proto esp
	sa add dir out src 10.1.0.10 dst 203.0.113.2 spi 0x4511 proto esp mode transport aead aes-gcm-128 key $KEY3 encap udp
	sa add dir in src 203.0.113.2 dst 10.1.0.10 spi 0x4512 proto esp mode transport aead aes-gcm-128 key $KEY4 encap udp
	policy add dir out src 10.1.0.10 dst 203.0.113.2 protect spi 0x4511 dst 203.0.113.2 proto esp
	policy add dir in src 203.0.113.2 dst 10.1.0.10 protect spi 0x4512 dst 10.1.0.10 proto esp
EOF
# x knows h as nat1's public address and port 4600.
check "x: XFRM encap states and policies to h (198.51.100.1:4600)" ipb x <<-EOF
	xfrm policy add src 0.0.0.0/0 dst 0.0.0.0/0 proto udp sport 4500 dir out priority 10
	xfrm policy add src 0.0.0.0/0 dst 0.0.0.0/0 proto udp dport 4500 dir in priority 10
	xfrm state add src 198.51.100.1 dst 203.0.113.2 proto esp spi 0x4501 mode tunnel $GCM $KEY1 128 encap espinudp 4600 4500 0.0.0.0
	xfrm state add src 203.0.113.2 dst 198.51.100.1 proto esp spi 0x4502 mode tunnel $GCM $KEY2 128 encap espinudp 4500 4600 0.0.0.0
	xfrm policy add src 172.16.2.1 dst 10.1.0.10 dir out priority 100 tmpl src 203.0.113.2 dst 198.51.100.1 proto esp mode tunnel
	xfrm policy add src 10.1.0.10 dst 172.16.2.1 dir in priority 100 tmpl src 198.51.100.1 dst 203.0.113.2 proto esp mode tunnel
	xfrm state add src 198.51.100.1 dst 203.0.113.2 proto esp spi 0x4511 mode transport $GCM $KEY3 128 encap espinudp 4600 4500 0.0.0.0
	xfrm state add src 203.0.113.2 dst 198.51.100.1 proto esp spi 0x4512 mode transport $GCM $KEY4 128 encap espinudp 4500 4600 0.0.0.0
	xfrm policy add src 203.0.113.2 dst 198.51.100.1 dir out priority 100 tmpl src 203.0.113.2 dst 198.51.100.1 proto esp mode transport
	xfrm policy add src 198.51.100.1 dst 203.0.113.2 dir in priority 100 tmpl src 198.51.100.1 dst 203.0.113.2 proto esp mode transport
EOF


log "tunnel h -> x (XFRM): ping -c 3 both ways"
check "ping h -> 172.16.2.1 (x), 3 of 3" on h ping -c 3 -i 0.2 -W 2 172.16.2.1
check "ping x -> 10.1.0.10 (h), 3 of 3" on x ping -c 3 -i 0.2 -W 2 10.1.0.10
expect_stats "h: out SA 0x4501 sent 6 packets, 504 bytes" h 0x4501 "bytes=504 packets=6" || true
expect_stats "h: in SA 0x4502 opened 6 packets, 504 bytes" h 0x4502 "bytes=504 packets=6" || true
expect_eq "x: state 0x4501 opened 6 packets" 6 "$(xfrm_packets x 198.51.100.1 203.0.113.2 0x4501)" || true
expect_eq "x: state 0x4502 sent 6 packets" 6 "$(xfrm_packets x 203.0.113.2 198.51.100.1 0x4502)" || true

log "transport h -> x (XFRM) through the NAT: ping -c 3 both ways"
check "ping h -> 203.0.113.2, 3 of 3" on h ping -c 3 -i 0.2 -W 2 203.0.113.2
check "ping x -> 198.51.100.1 (h behind nat1), 3 of 3" on x ping -c 3 -i 0.2 -W 2 198.51.100.1
expect_stats "h: out SA 0x4511 sent 6 packets, 504 bytes" h 0x4511 "bytes=504 packets=6" || true
expect_stats "h: in SA 0x4512 opened 6 packets, 504 bytes" h 0x4512 "bytes=504 packets=6" || true
expect_eq "x: state 0x4511 opened 6 packets" 6 "$(xfrm_packets x 198.51.100.1 203.0.113.2 0x4511)" || true

log "TCP, 256 KiB by md5, both ways in both modes (transport: the NAT changed the pseudo-header)"
head -c 262144 /dev/urandom >"$TMP/blob"
tcp_md5 "tunnel TCP h -> x" h x 172.16.2.1 5001 "$TMP/blob" || true
tcp_md5 "tunnel TCP x -> h" x h 10.1.0.10 5002 "$TMP/blob" || true
tcp_md5 "transport TCP h -> x" h x 203.0.113.2 5003 "$TMP/blob" || true
tcp_md5 "transport TCP x -> h (x sends to 198.51.100.1)" x h 198.51.100.1 5004 "$TMP/blob" || true
for spi in 0x4501 0x4511; do
	expect_eq "x's state $spi opened every packet h's out SA sent" \
		"$(sa_field h $spi stats.packets)" \
		"$(xfrm_packets x 198.51.100.1 203.0.113.2 $spi)" || true
done
expect_eq "h's in SA 0x4502 opened every packet x's state sent" \
	"$(xfrm_packets x 203.0.113.2 198.51.100.1 0x4502)" "$(sa_field h 0x4502 stats.packets)" || true
expect_eq "h's in SA 0x4512 opened every packet x's state sent" \
	"$(xfrm_packets x 203.0.113.2 198.51.100.1 0x4512)" "$(sa_field h 0x4512 stats.packets)" || true
sent=$(($(sa_field h 0x4501 stats.packets) + $(sa_field h 0x4511 stats.packets)))
got=$(($(sa_field h 0x4502 stats.packets) + $(sa_field h 0x4512 stats.packets)))
expect_eq "h: encap-out is what its out SAs sent, encap-in what its in SAs opened" \
	"$sent $got" "$(ns_stat h encap_out) $(ns_stat h encap_in)" || true

log "after decapsulation, the inbound policy: x tunnels 172.16.2.2, which h's policy does not name"
check "x: 172.16.2.2 -> h through the same state" ipb x <<-EOF
	addr add 172.16.2.2/32 dev lo
	xfrm policy add src 172.16.2.2 dst 10.1.0.10 dir out priority 100 tmpl src 203.0.113.2 dst 198.51.100.1 proto esp mode tunnel
EOF
policy=$(sa_field h 0x4502 stats.policy)
expect_fail "ping -I 172.16.2.2 x -> h: nothing comes back" "0 received" \
	on x ping -c 2 -i 0.2 -W 1 -I 172.16.2.2 10.1.0.10
expect_eq "h: in SA 0x4502 opened both and dropped them (policy)" $((policy + 2)) \
	"$(sa_field h 0x4502 stats.policy)" || true

log "IKE beside ESP on UDP 4500: the non-ESP marker both ways"
non_esp=$(ns_stat h non_esp)
ike_x=00000000$(hexof "IKE from x") ike_h=00000000$(hexof "IKE from h")
sock XS "send 198.51.100.1 4600 $ike_x"
expect_eq "x sent its IKE datagram to h's public port" "sent 14" "$(sock_line XS)" || true
expect_eq "h's socket got it, marker and all" "got 203.0.113.2 4500 $ike_x" "$(sock_line HS)" || true
expect_eq "h: non-esp counted it" 1 "$(ns_delta h non_esp "$non_esp")" || true
sock HS "send 203.0.113.2 4500 $ike_h"
expect_eq "h sent IKE in clear (bypass)" "sent 14" "$(sock_line HS)" || true
expect_eq "x's encap socket got it from nat1's port 4600" "got 198.51.100.1 4600 $ike_h" \
	"$(sock_line XS)" || true
check "ping h -> 172.16.2.1 right after, 2 of 2" on h ping -c 2 -i 0.2 -W 2 172.16.2.1

log "NAT keepalives: x's one is consumed by nfsec; h's own after 1 s idle"
ka=$(ns_stat h keepalive_in)
sock XS "send 198.51.100.1 4600 ff"
expect_eq "x sent a keepalive" "sent 1" "$(sock_line XS)" || true
wait_for "h's keepalive-in" 5 eval '[ "$(ns_delta h keepalive_in "$ka")" = 1 ]' || true
expect_eq "h: keepalive-in counted it" 1 "$(ns_delta h keepalive_in "$ka")" || true
sock HS "quiet 1"
expect_eq "h's socket never saw it" quiet "$(sock_line HS)" || true
wait_for "h's keepalives to x (keepalive 1)" 10 \
	eval '[ "$(ns_stat h keepalive_out)" -ge 2 ]' || true
check "h: the out SA sent keepalives while idle" eval '[ "$(ns_stat h keepalive_out)" -ge 2 ]'
sock XS "quiet 1"
expect_eq "x's encap socket (XFRM) consumed them" quiet "$(sock_line XS)" || true
# no more of them: their number is final
check "h: out SA 0x4501 deleted" nf h sa del dst 203.0.113.2 spi 0x4501 proto esp
keepalives=$(ns_stat h keepalive_out)

log "hostile datagrams to h's port 4500, from its LAN"
declare -A before
for k in no_sa bad_encap non_esp malformed keepalive_in; do
	before[$k]=$(ns_stat h "$k")
done
junk=deadbeef00000001$(printf '%064d' 0)
check "nat1 sends junk, a short one, 0xffff, a marker with garbage, a truncated ESP, 60000 bytes" \
	blast nat1 10.1.0.10 "$junk" 010203 ffff 00000000c0ffee 000045020000000901020304 \
	"00004502001000000000000000000000*3750"
line=$(sock_line HS)
expect_eq "h's socket got the marked datagram only" "got 10.1.0.1 ${line#got 10.1.0.1 }" "$line" || true
[[ $line == *" 00000000c0ffee" ]] || not_ok "  ... the marked one" "$line"
sock HS "quiet 1"
expect_eq "h's socket got nothing else" quiet "$(sock_line HS)" || true
wait_for "the 60000 bytes" 5 eval '[ "$(sa_field h 0x4502 stats.icv_fail)" = 1 ]' || true
delta=
for k in no_sa bad_encap non_esp malformed keepalive_in; do
	delta+="$k=$(ns_delta h "$k" "${before[$k]}") "
done
expect_eq "h: each counted" "no_sa=1 bad_encap=2 non_esp=1 malformed=1 keepalive_in=0 " "$delta" || true
expect_eq "h: in SA 0x4502: the 60000 bytes failed the ICV" 1 "$(sa_field h 0x4502 stats.icv_fail)" || true

# --- h behind nat1, g behind nat2, both nfsec ------------------------------------

# g sees h at 198.51.100.1:4600; h sees g at 192.0.2.1:4500 (nat2 forwards it)
check "h: tunnel encap SAs to g" nf h -b - <<-EOF
	sa add dir out src 10.1.0.10 dst 192.0.2.1 spi 0x4521 proto esp mode tunnel aead aes-gcm-128 key $KEY3 encap udp
	sa add dir in src 192.0.2.1 dst 10.1.0.10 spi 0x4522 proto esp mode tunnel aead aes-gcm-128 key $KEY4 encap udp
	policy add dir out src 10.1.0.10 dst 172.16.3.1 protect spi 0x4521 dst 192.0.2.1 proto esp
	policy add dir in src 172.16.3.1 dst 10.1.0.10 protect spi 0x4522 dst 10.1.0.10 proto esp
EOF
G_IN=(dir in src 198.51.100.1 dst 10.2.0.10 spi 0x4521 proto esp mode tunnel
	aead aes-gcm-128 key "$KEY3" reqid 45 encap udp sport 4600)
check "g: tunnel encap SAs to h (198.51.100.1:4600), reqid 45, no follow" nf g -b - <<-EOF
	sa add ${G_IN[*]}
	sa add dir out src 10.2.0.10 dst 198.51.100.1 spi 0x4522 proto esp mode tunnel aead aes-gcm-128 key $KEY4 reqid 45 encap udp dport 4600
	policy add dir out src 172.16.3.1 dst 10.1.0.10 protect spi 0x4522 dst 198.51.100.1 proto esp
	policy add dir in src 10.1.0.10 dst 172.16.3.1 protect spi 0x4521 dst 10.2.0.10 proto esp
EOF
run_bg g "$NFSEC" monitor >"$TMP/g.mon" 2>&1
check "g: nfsec monitor listening" wait_for "g's monitor" 10 monitor_ready g "$TMP/g.mon"

log "two NATs: ping both ways, TCP by md5"
check "ping h -> 172.16.3.1 (g), 3 of 3" on h ping -c 3 -i 0.2 -W 2 172.16.3.1
check "ping g -> 10.1.0.10 (h), 3 of 3" on g ping -c 3 -i 0.2 -W 2 10.1.0.10
expect_stats "g: in SA 0x4521 opened 6 packets, 504 bytes" g 0x4521 "bytes=504 packets=6" || true
expect_stats "h: in SA 0x4522 opened 6 packets, 504 bytes" h 0x4522 "bytes=504 packets=6" || true
tcp_md5 "TCP g -> h" g h 10.1.0.10 5005 "$TMP/blob" || true
# the path MTU counts the UDP header: (1500 - 20 - 8 - 8 - 8 - 16) / 4 * 4
# - 2 = 1438 bytes of inner packet (1446 without encap)
check "DF ping h -> g of 1438 bytes (-s 1410) passes" on h ping -M do -c 1 -W 2 -s 1410 172.16.3.1
expect_fail "DF ping of 1439 bytes: frag needed, mtu 1438" "(mtu = |mtu=)1438([^0-9]|$)" \
	on h ping -M do -c 1 -W 2 -s 1411 172.16.3.1
expect_eq "h: out SA 0x4521: too_big 1" 1 "$(sa_field h 0x4521 stats.too_big)" || true
expect_eq "g's in SA opened what h's out SA sent" \
	"$(traffic "$(sa_stats h 0x4521)")" "$(traffic "$(sa_stats g 0x4521)")" || true
expect_eq "h's in SA opened what g's out SA sent" \
	"$(traffic "$(sa_stats g 0x4522)")" "$(traffic "$(sa_stats h 0x4522)")" || true
expect_eq "g: no mapping event yet" 0 "$(ns_stat g mapping)" || true
opened=$(sa_field g 0x4521 stats.packets)

log "nat1 rebinds h to port 4700; g's SAs do not follow"
check "nat1: h's UDP 4500 now maps to 4700, conntrack flushed" nat1_map 4700
expect_eq "ping h -> g: the requests get through, the replies go to the old port" \
	0 "$(ping_got h -c 2 -i 0.3 -W 1 172.16.3.1)" || true
check "g: mapping event 4600 -> 4700, followed 0" wait_for "the mapping event" 5 file_has "$TMP/g.mon" \
	"mapping sa in esp spi 0x00004521 (17697) 198.51.100.1 -> 10.2.0.10 peer 198.51.100.1:4600 -> 198.51.100.1:4700 (followed 0)"
expect_eq "g: in SA 0x4521 opened both requests" $((opened + 2)) "$(sa_field g 0x4521 stats.packets)" || true
expect_eq "g: in SA's peer stays 198.51.100.1:4600" 198.51.100.1:4600 "$(encap_peer g 0x4521)" || true
expect_eq "g: out SA's peer stays 198.51.100.1:4600" 198.51.100.1:4600 "$(encap_peer g 0x4522)" || true
expect_eq "g: one mapping event" 1 "$(ns_stat g mapping)" || true

log "g's inbound SA follows from now on"
check "g: sa update in SA 0x4521 ... follow" nf g sa update "${G_IN[@]}" follow
sleep 1.1	# (at most one mapping event per SA a second)
ping_got h -c 1 -W 2 172.16.3.1 >/dev/null	# (its reply may leave before the move)
check "g: mapping event 4600 -> 4700, followed 1" wait_for "the mapping event" 5 file_has "$TMP/g.mon" \
	"peer 198.51.100.1:4600 -> 198.51.100.1:4700 (followed 1)"
expect_eq "g: out SA's peer is now 198.51.100.1:4700" 198.51.100.1:4700 "$(encap_peer g 0x4522)" || true
expect_eq "g: in SA's peer is now 198.51.100.1:4700" 198.51.100.1:4700 "$(encap_peer g 0x4521)" || true
check "ping h -> g, 3 of 3, no command given" on h ping -c 3 -i 0.2 -W 2 172.16.3.1
check "ping g -> h, 3 of 3" on g ping -c 3 -i 0.2 -W 2 10.1.0.10

log "mid-stream: nat1 rebinds h to 4800 during 30 pings"
run_bg h ping -c 30 -i 0.2 -W 2 172.16.3.1 >"$TMP/stream" 2>&1
stream=$BG_PID
sleep 2
check "nat1: h's UDP 4500 now maps to 4800, conntrack flushed" nat1_map 4800
wait "$stream" || true
[[ $(<"$TMP/stream") =~ ([0-9]+)\ received ]] && got=${BASH_REMATCH[1]} || got=0
check "at most 2 of 30 lost across the rebinding ($got received)" eval "[ $got -ge 28 ]"
check "g: mapping event 4700 -> 4800, followed 1" file_has "$TMP/g.mon" \
	"peer 198.51.100.1:4700 -> 198.51.100.1:4800 (followed 1)"
check "ping g -> h after it, 3 of 3" on g ping -c 3 -i 0.2 -W 2 10.1.0.10
tcp_md5 "TCP h -> g after it" h g 172.16.3.1 5006 "$TMP/blob" || true
expect_eq "g: three mapping events in all" 3 "$(ns_stat g mapping)" || true

log "spoofed datagrams from a third address (x) move nothing"
mapping=$(ns_stat g mapping) icv=$(sa_field g 0x4521 stats.icv_fail)
replay=$(($(sa_field g 0x4521 stats.replay) + $(sa_field g 0x4521 stats.replay_old)))
cap_stop "$TMP/pub.pcap"
# an ESP datagram h sent to g, as captured: its UDP payload
hex=$(tcpdump -nr "$TMP/pub.pcap" -x -c 1 \
	'src host 198.51.100.1 and dst host 192.0.2.1 and udp dst port 4500 and udp[4:2] > 100' 2>/dev/null |
	sed -n 's/^[[:space:]]*0x[0-9a-f]*:[[:space:]]*//p' | tr -d ' \n')
check "a captured datagram of h's to g" eval '[ "${hex:56:8}" = 00004521 ]'
sock XS "send 192.0.2.1 4500 ${hex:56}"
expect_eq "x re-sent it to g" "sent $(((${#hex} - 56) / 2))" "$(sock_line XS)" || true
sock XS "send 192.0.2.1 4500 0000452100100000$(printf '%080d' 0)"
expect_eq "x sent a forged one, seq 0x100000, bad ICV" "sent 48" "$(sock_line XS)" || true
wait_for "g's counters" 5 eval '[ "$(sa_field g 0x4521 stats.icv_fail)" = $((icv + 1)) ]' || true
expect_eq "g: the forged one failed the ICV" $((icv + 1)) "$(sa_field g 0x4521 stats.icv_fail)" || true
expect_eq "g: the re-sent one is a replay" $((replay + 1)) \
	"$(($(sa_field g 0x4521 stats.replay) + $(sa_field g 0x4521 stats.replay_old)))" || true
sleep 0.5
expect_eq "g: no mapping event" "$mapping" "$(ns_stat g mapping)" || true
expect_eq "g: its peer is still 198.51.100.1:4800" 198.51.100.1:4800 "$(encap_peer g 0x4521)" || true
expect_eq "g: its out SA's too" 198.51.100.1:4800 "$(encap_peer g 0x4522)" || true
check "ping h -> g still, 2 of 2" on h ping -c 2 -i 0.2 -W 2 172.16.3.1

log "the public side (nat1's wan0) carried UDP only, on the NAT'd ports"
expect_eq "capture: no IPv4 packet but UDP 4500/4600/4700/4800" 0 \
	"$(cap_count "$TMP/pub.pcap" 'ip and not (udp port 4500 or udp port 4600 or udp port 4700 or udp port 4800)')" || true
expect_eq "capture: no private address" 0 "$(cap_count "$TMP/pub.pcap" 'net 10.0.0.0/8 or net 172.16.0.0/12')" || true
n=$(cap_count "$TMP/pub.pcap" 'src host 198.51.100.1 and dst host 203.0.113.2 and udp[4:2] = 9 and udp[8] = 0xff')
cap_expect "capture: h's keepalives, as many as it counted" "$TMP/pub.pcap" "$keepalives" "$n" || true
n=$(cap_count "$TMP/pub.pcap" 'src host 198.51.100.1 and udp src port 4600')
check "capture: ESP in UDP from 198.51.100.1:4600 ($n)" eval "[ $n -ge 40 ]"
ct_clean nat2
expect_eq "g: its stateful filter dropped nothing" "in-invalid=0 in-policy=0" \
	"$(nft_counters g gf)" || true

# --- IPv6 between h and x, no NAT --------------------------------------------------

check "h: IPv6 transport encap SAs to x" nf h -b - <<-EOF
	sa add dir out src 2001:db8:1::10 dst 2001:db8:3::2 spi 0x4561 proto esp mode transport aead aes-gcm-128 key $KEY1 encap udp
	sa add dir in src 2001:db8:3::2 dst 2001:db8:1::10 spi 0x4562 proto esp mode transport aead aes-gcm-128 key $KEY2 encap udp
	policy add dir out src 2001:db8:1::10 dst 2001:db8:3::2 protect spi 0x4561 dst 2001:db8:3::2 proto esp
	policy add dir in src 2001:db8:3::2 dst 2001:db8:1::10 protect spi 0x4562 dst 2001:db8:1::10 proto esp
EOF
# (IPv6's UDP checks the policy before it hands a datagram to XFRM's
# encap socket: IKE's port needs its bypass, as a daemon's socket has it)
check "x: XFRM IPv6 encap states and policies" ipb x <<-EOF
	xfrm policy add src ::/0 dst ::/0 proto udp sport 4500 dir out priority 10
	xfrm policy add src ::/0 dst ::/0 proto udp dport 4500 dir in priority 10
	xfrm state add src 2001:db8:1::10 dst 2001:db8:3::2 proto esp spi 0x4561 mode transport $GCM $KEY1 128 encap espinudp 4500 4500 ::
	xfrm state add src 2001:db8:3::2 dst 2001:db8:1::10 proto esp spi 0x4562 mode transport $GCM $KEY2 128 encap espinudp 4500 4500 ::
	xfrm policy add src 2001:db8:3::2 dst 2001:db8:1::10 dir out priority 100 tmpl src 2001:db8:3::2 dst 2001:db8:1::10 proto esp mode transport
	xfrm policy add src 2001:db8:1::10 dst 2001:db8:3::2 dir in priority 100 tmpl src 2001:db8:1::10 dst 2001:db8:3::2 proto esp mode transport
EOF
cap_start nat1 wan0 "$TMP/pub6.pcap" ip6
check "ping h -> 2001:db8:3::2, 3 of 3" on h ping -c 3 -i 0.2 -W 2 2001:db8:3::2
check "ping x -> 2001:db8:1::10, 3 of 3" on x ping -c 3 -i 0.2 -W 2 2001:db8:1::10
expect_stats "h: out SA 0x4561 sent 6 packets, 624 bytes" h 0x4561 "bytes=624 packets=6" || true
expect_stats "h: in SA 0x4562 opened 6 packets, 624 bytes" h 0x4562 "bytes=624 packets=6" || true
tcp_md5 "IPv6 TCP h -> x" h x 2001:db8:3::2 5007 "$TMP/blob" || true
tcp_md5 "IPv6 TCP x -> h" x h 2001:db8:1::10 5008 "$TMP/blob" || true
expect_eq "x's state 0x4561 opened every packet h sent (UDP checksums good)" \
	"$(sa_field h 0x4561 stats.packets)" \
	"$(xfrm_packets x 2001:db8:1::10 2001:db8:3::2 0x4561)" || true
expect_eq "h's in SA 0x4562 opened every packet x sent" \
	"$(xfrm_packets x 2001:db8:3::2 2001:db8:1::10 0x4562)" "$(sa_field h 0x4562 stats.packets)" || true
cap_stop "$TMP/pub6.pcap"
# (full-size TCP segments leave in two fragments, as Documentation/datapath.md
# says of IPv6 between two hosts)
expect_eq "capture: no IPv6 packet but UDP 4500, its fragments and neighbour discovery" 0 \
	"$(cap_count "$TMP/pub6.pcap" 'not udp port 4500 and not ip6[6] = 44 and not (icmp6 and ip6[40] >= 133 and ip6[40] <= 136)')" || true
expect_eq "capture: no UDP checksum left zero (RFC 8200 8.1), first fragments too" 0 \
	"$(cap_count "$TMP/pub6.pcap" '(ip6[6] = 17 and ip6[46:2] = 0) or (ip6[6] = 44 and ip6[40] = 17 and ip6[42:2] & 0xfff8 = 0 and ip6[54:2] = 0)')" || true
n=$(cap_count "$TMP/pub6.pcap" 'ip6[6] = 17 and udp port 4500')
check "capture: ESP in UDP over IPv6 both ways ($n whole datagrams)" eval "[ $n -ge 20 ]"

for ns in h g; do
	log "$ns: $(ns_stats "$ns")"
done
log "time: $(elapsed "$T0")"
rm -rf "$TMP"
t_end
