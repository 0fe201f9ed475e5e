#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The IKEv2 site-to-site demo (make demo): the topology of site-to-site.sh,
# but nobody types a key. Each gateway runs strongSwan's charon with the
# kernel-nfsec plugin (tools/strongswan): IKEv2 with a pre-shared key
# negotiates the ESP SAs, charon puts them in nfsec, and rekeys them while
# traffic flows. Runs in the test VM, as root (make demo).
#
#  site A 192.168.1.0/24                                 site B 192.168.2.0/24
#  hostA .1.10 -- gwA 203.0.113.1 -- inet -- 198.51.100.2 gwB -- hostB .2.10
#                 (charon + nfsec)            (charon + nfsec)
set -eu
cd "$(dirname "$0")/../.."
NFSEC=$PWD/tools/nfsec/nfsec
PLUGIN=$PWD/tools/strongswan/libstrongswan-kernel-nfsec.so
ns=demo$$
dir=/tmp/$ns
run() { ip netns exec "$ns-$1" "${@:2}"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '%s$ %s\n' "$1" "${*:2}"; run "$1" "${@:2}"; }
sw() {
	STRONGSWAN_CONF=$dir/$1/strongswan.conf swanctl "${@:2}" \
		--uri "unix://$dir/$1/charon.vici"
}
cleanup() {
	local n
	for n in hostA gwA inet gwB hostB; do
		# shellcheck disable=SC2046 # a list of pids
		kill $(ip netns pids "$ns-$n" 2>/dev/null) 2>/dev/null || true
	done
	sleep 1
	for n in hostA gwA inet gwB hostB; do ip netns del "$ns-$n" 2>/dev/null || true; done
	rm -rf "$dir"
}
trap cleanup EXIT

[ -x /usr/sbin/charon-systemd ] && [ -f "$PLUGIN" ] ||
	{ echo "needs charon-systemd and the plugin (make strongswan)"; exit 1; }
[ -d /sys/module/nfsec ] || { modprobe nf_defrag_ipv6 && insmod src/nfsec.ko; }
modprobe -q aesni_intel 2>/dev/null || true
# In the VM, / is a tmpfs overlay: the plugin goes where charon looks.
cmp -s "$PLUGIN" /usr/lib/ipsec/plugins/"${PLUGIN##*/}" ||
	install -m 0644 "$PLUGIN" /usr/lib/ipsec/plugins/

say "Building the topology: hostA - gwA - inet - gwB - hostB"
for n in hostA gwA inet gwB hostB; do
	ip netns add "$ns-$n"
	run "$n" ip link set lo up
done
link() {	# link NS1 IF1 ADDR1 NS2 IF2 ADDR2
	ip link add name "$2" netns "$ns-$1" type veth peer name "$5" netns "$ns-$4"
	run "$1" ip addr add "$3" dev "$2"
	run "$4" ip addr add "$6" dev "$5"
	run "$1" ip link set dev "$2" up
	run "$4" ip link set dev "$5" up
}
link hostA eth0 192.168.1.10/24 gwA lan 192.168.1.1/24
link gwA wan 203.0.113.1/30 inet a 203.0.113.2/30
link inet b 198.51.100.1/30 gwB wan 198.51.100.2/30
link gwB lan 192.168.2.1/24 hostB eth0 192.168.2.10/24
run hostA ip route add default via 192.168.1.1
run hostB ip route add default via 192.168.2.1
run gwA ip route add default via 203.0.113.2
run gwB ip route add default via 198.51.100.1
for n in gwA inet gwB; do run "$n" sysctl -qw net.ipv4.ip_forward=1; done

say "Starting strongSwan's charon on both gateways, with kernel-nfsec"
psk=$(head -c 24 /dev/urandom | base64)
for g in gwA gwB; do
	mkdir -p "$dir/$g"
	cat >"$dir/$g/strongswan.conf" <<-EOF
		charon {
			load_modular = yes
			plugins {
				include /etc/strongswan.d/charon/*.conf
				include $PWD/tools/strongswan/kernel-nfsec.conf
				vici {
					socket = unix://$dir/$g/charon.vici
				}
			}
			filelog {
				log {
					path = $dir/$g/charon.log
					time_format = %T
					flush_line = yes
					default = 1
				}
			}
			install_routes = no
		}
		charon-systemd {
			journal {
				default = -1
			}
		}
		swanctl {
			load = pem pkcs1 pkcs8 x509 pubkey gmp random nonce
		}
	EOF
	run "$g" env STRONGSWAN_CONF="$dir/$g/strongswan.conf" \
		/usr/sbin/charon-systemd >/dev/null 2>&1 &
done
for _ in $(seq 100); do
	[ -S "$dir/gwA/charon.vici" ] && [ -S "$dir/gwB/charon.vici" ] && break
	sleep 0.2
done
grep -h 'kernel-nfsec' "$dir"/gwA/charon.log | sed 's/^/gwA charon: /'

conf() {	# conf LOCAL REMOTE LOCALNET REMOTENET
	cat <<-EOF
	connections {
	    site {
	        local_addrs = $1
	        remote_addrs = $2
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
	            net {
	                local_ts = $3
	                remote_ts = $4
	                esp_proposals = aes128gcm16
	                rekey_time = 1h
	            }
	        }
	    }
	}
	secrets {
	    ike-site {
	        id-a = 203.0.113.1
	        id-b = 198.51.100.2
	        secret = "$psk"
	    }
	}
	EOF
}
conf 203.0.113.1 198.51.100.2 192.168.1.0/24 192.168.2.0/24 >"$dir/gwA/swanctl.conf"
conf 198.51.100.2 203.0.113.1 192.168.2.0/24 192.168.1.0/24 >"$dir/gwB/swanctl.conf"
echo "gwA's swanctl.conf (the pre-shared key is random; no ESP key anywhere):"
sed 's/secret = .*/secret = "..."/; s/^/  /' "$dir/gwA/swanctl.conf"
for g in gwA gwB; do
	SWANCTL_DIR=$dir/$g sw "$g" --load-all --noprompt --file "$dir/$g/swanctl.conf" >/dev/null 2>&1
done

say "gwA initiates: IKE_SA_INIT and IKE_AUTH negotiate the IKE_SA and the ESP SAs"
run inet tcpdump -lni a -c 8 2>/dev/null >"$dir/cap.txt" &
cap=$!
sleep 1
sw gwA --initiate --child net --timeout 30 | grep -E 'established|IKE_SA|CHILD_SA' |
	sed 's/^/gwA charon: /'

say "Site A talks to site B through the tunnel"
show hostA ping -c 3 -i 0.3 192.168.2.10
wait "$cap" 2>/dev/null || true
echo "What the internet saw: IKE (UDP 500, then 4500), then only ESP:"
sed 's/^/  /' "$dir/cap.txt"

say "The SAs, as charon and nfsec see them"
sw gwA --list-sas
show gwA "$NFSEC" show

say "Rekeying the CHILD_SA while traffic flows"
run hostA ping -i 0.05 -c 120 -q 192.168.2.10 >"$dir/ping.txt" 2>&1 &
pinger=$!
sleep 2
sw gwA --rekey --child net | sed 's/^/gwA charon: /'
wait "$pinger" 2>/dev/null || true
sed 's/^/hostA$ /' "$dir/ping.txt"
lost="the ping stream lost nothing"
grep -q ' 0% packet loss' "$dir/ping.txt" || lost="the ping stream lost what it shows above"
echo "After the rekey, nfsec has the new pair (the old one was deleted):"
run gwA "$NFSEC" sa list
grep -hE 'rekey|CHILD_SA .* (established|closed)' "$dir/gwA/charon.log" | tail -n 6 |
	sed 's/^/gwA charon: /'
cat <<EOF

What happened:
- charon on each gateway authenticated the other with the pre-shared key
  (IKEv2, RFC 7296) and negotiated one ESP SA each way, AES-GCM-128 with
  fresh random keys; kernel-nfsec put them in nfsec (nfsec's SPI
  allocation, SA_ADD) with policies that name them by reqid, and bypass
  policies that let IKE itself (UDP 500 and 4500) pass in clear.
- The rekey made a new pair with new keys beside the old one (CREATE_CHILD_SA);
  nfsec switched to the new outbound SA as soon as it was added, the old
  pair was deleted, and $lost.
- Soft and hard lifetimes are nfsec's: its expire events tell charon when
  to rekey on its own (rekey_time), and a trap policy's acquire event
  (start_action = trap) starts the negotiation on the first packet.
- The manual-key version of this demo: make demo-manual.
EOF
