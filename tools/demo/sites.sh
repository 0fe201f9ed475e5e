# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The demos' two sites, sourced by site-to-site.sh and ikev2.sh (which set
# ns, the namespaces' prefix, first): hostA - gwA - inet - gwB - hostB,
#
#  site A 192.168.1.0/24                                 site B 192.168.2.0/24
#  hostA .1.10 - .1.1 gwA 203.0.113.1 - inet - 198.51.100.2 gwB .2.1 - .2.10 hostB
#
# with run, say, show and sites_up / sites_down.

SITES=(hostA gwA inet gwB hostB)

run() { ip netns exec "$ns-$1" "${@:2}"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '%s$ %s\n' "$1" "${*:2}"; run "$1" "${@:2}"; }

link() {	# link NS1 IF1 ADDR1 NS2 IF2 ADDR2
	ip link add name "$2" netns "$ns-$1" type veth peer name "$5" netns "$ns-$4"
	run "$1" ip addr add "$3" dev "$2"
	run "$4" ip addr add "$6" dev "$5"
	run "$1" ip link set dev "$2" up
	run "$4" ip link set dev "$5" up
}

# sites_up: the namespaces, links and routes; shows that the internet
# routes neither site, and that site A cannot reach site B.
sites_up() {
	local n
	say "Building the topology: hostA - gwA - inet - gwB - hostB"
	for n in "${SITES[@]}"; do
		ip netns add "$ns-$n"
		run "$n" ip link set lo up
	done
	link hostA eth0 192.168.1.10/24 gwA lan 192.168.1.1/24
	link gwA wan 203.0.113.1/30 inet a 203.0.113.2/30
	link inet b 198.51.100.1/30 gwB wan 198.51.100.2/30
	link gwB lan 192.168.2.1/24 hostB eth0 192.168.2.10/24
	run hostA ip route add default via 192.168.1.1
	run hostB ip route add default via 192.168.2.1
	run gwA ip route add default via 203.0.113.2
	run gwB ip route add default via 198.51.100.1
	for n in gwA inet gwB; do run "$n" sysctl -qw net.ipv4.ip_forward=1; done
	echo "The internet namespace knows only the gateways' public addresses:"
	show inet ip route
	if run hostA ping -c 1 -W 1 192.168.2.10 >/dev/null; then
		echo "unexpected: reached site B in clear"; exit 1
	fi
	echo "hostA$ ping 192.168.2.10: no answer (the internet drops private addresses)"
}

sites_down() {
	local n
	for n in "${SITES[@]}"; do ip netns del "$ns-$n" 2>/dev/null || true; done
}
