#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The main demo (make demo): two Linux routers join two private sites with
# an ESP tunnel whose keys nobody types: strongSwan's charon on each
# gateway negotiates them with IKEv2 and hands them to nfsec through the
# kernel-nfsec plugin (tools/strongswan/). Runs in the test VM, as root.
# The same topology with hand-made SAs: make demo-manual.
#
#  site A 192.168.1.0/24                                 site B 192.168.2.0/24
#  +--------+        +--------+        +-------+        +--------+        +--------+
#  | hostA  |--------|  gwA   |--------| inet  |--------|  gwB   |--------| hostB  |
#  | .1.10  |   .1.1 | charon | .0.1   |       |  .1.2  | charon | .2.1   | .2.10  |
#  +--------+        +--------+  203.0.113.0/30 +  .1.0/30 +--------+        +--------+
#                        IKEv2 + ESP 203.0.113.1 <====> 198.51.100.2
set -eu
cd "$(dirname "$0")/../.."
NFSEC=$PWD/tools/nfsec/nfsec
PLUGIN=$PWD/tools/strongswan/libstrongswan-kernel-nfsec.so
ns=ike$$
dir=/tmp/$ns
. tools/demo/sites.sh
cleanup() {
	local p
	for p in "$dir"/*/pid; do
		[ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
	done
	sleep 0.5
	sites_down
	rm -rf "$dir"
}
trap cleanup EXIT

[ -f "$PLUGIN" ] || { echo "no $PLUGIN: run make strongswan first"; exit 1; }
[ -x /usr/sbin/charon-systemd ] || { echo "no charon: apt-get install charon-systemd strongswan-swanctl"; exit 1; }
[ -d /sys/module/nfsec ] || { modprobe nf_defrag_ipv6 && insmod src/nfsec.ko; }
modprobe -q aesni_intel 2>/dev/null || true
# (in the VM, /usr is a scratch overlay: this changes nothing on the host)
install -m 0644 "$PLUGIN" /usr/lib/ipsec/plugins/

sites_up

say "strongSwan on both gateways, with kernel-nfsec for the data path"
# charon-systemd without systemd: one per namespace, each with its own
# strongswan.conf (STRONGSWAN_CONF), vici socket and log.
charon() {	# charon GW
	local d=$dir/$1
	# (the directories swanctl looks for credentials in)
	mkdir -p "$d"/{x509,x509ca,x509ocsp,x509aa,x509ac,x509crl,pubkey,private,rsa,ecdsa,bliss,pkcs8,pkcs12}
	cat >"$d/strongswan.conf" <<-EOF
		charon {
			# each plugin's own .conf says whether and when it loads
			load_modular = yes
			plugins {
				include /etc/strongswan.d/charon/*.conf
				include $PWD/tools/strongswan/kernel-nfsec.conf
				vici {
					socket = unix://$d/charon.vici
				}
			}
			filelog {
				log {
					path = $d/charon.log
					time_format = %T
					flush_line = yes
					default = 1
					knl = 2
				}
			}
			install_routes = no
		}
		charon-systemd {
			journal {
				default = -1
			}
		}
	EOF
	# (not through run: $! must be charon's pid, not a subshell's)
	ip netns exec "$ns-$1" env STRONGSWAN_CONF="$d/strongswan.conf" \
		/usr/sbin/charon-systemd >"$d/stdout" 2>&1 &
	echo $! >"$d/pid"
	for _ in $(seq 100); do
		[ -S "$d/charon.vici" ] && return 0
		sleep 0.2
	done
	echo "charon in $1 did not start:"; cat "$d/stdout" "$d/charon.log"; exit 1
}
sw() {	# sw GW SWANCTL-ARGS...: swanctl talking to GW's charon
	local gw=$1 rc=0
	shift
	# (its stderr lists the plugins swanctl itself lacks: shown on failure)
	swanctl "$@" --uri "unix://$dir/$gw/charon.vici" 2>"$dir/swanctl.err" || rc=$?
	[ $rc -eq 0 ] || grep -v "failed to load" "$dir/swanctl.err" >&2
	return $rc
}
charon gwA
charon gwB
echo "gwA's charon log says:"
grep -m1 -o 'kernel-nfsec: .*' "$dir/gwA/charon.log" | sed 's/^/  /'
grep -m1 -o 'loaded plugins: .*' "$dir/gwA/charon.log" | fold -s -w 76 | sed 's/^/  /'

psk=$(head -c 24 /dev/urandom | base64)
conf() {	# conf LOCAL REMOTE LOCALNET REMOTENET
	cat <<-EOF
	connections {
	    site {
	        local_addrs = $1
	        remote_addrs = $2
	        proposals = aes256-sha256-modp2048
	        local {
	            auth = psk
	            id = $1
	        }
	        remote {
	            auth = psk
	            id = $2
	        }
	        children {
	            site {
	                local_ts = $3
	                remote_ts = $4
	                esp_proposals = aes128gcm16
	                rekey_time = 1h
	            }
	        }
	    }
	}
	secrets {
	    ike-gw {
	        id-a = 203.0.113.1
	        id-b = 198.51.100.2
	        secret = "$psk"
	    }
	}
	EOF
}
conf 203.0.113.1 198.51.100.2 192.168.1.0/24 192.168.2.0/24 >"$dir/gwA/swanctl.conf"
conf 198.51.100.2 203.0.113.1 192.168.2.0/24 192.168.1.0/24 >"$dir/gwB/swanctl.conf"
echo "gwA's /etc/swanctl/swanctl.conf (the pre-shared key is random; no ESP key"
echo "appears anywhere: IKEv2 derives them):"
sed 's/secret = .*/secret = "..."/' "$dir/gwA/swanctl.conf"
for gw in gwA gwB; do
	SWANCTL_DIR=$dir/$gw sw "$gw" --load-all --noprompt --file "$dir/$gw/swanctl.conf" >/dev/null
done

say "gwA starts the IKE_SA and the CHILD_SA"
run inet tcpdump -lni a -c 8 2>/dev/null >"$dir/cap.txt" &
cap=$!
sleep 1
printf 'gwA$ swanctl --initiate --child site\n'
sw gwA --initiate --child site --timeout 30 | grep -E 'establish|installed|initiate' | sed 's/^/  /'

say "The SAs as strongSwan and nfsec see them"
printf 'gwA$ swanctl --list-sas\n'
sw gwA --list-sas
printf '\ngwA$ nfsec show\n'
run gwA "$NFSEC" show

say "Traffic between the sites"
show hostA ping -c 3 -i 0.3 192.168.2.10
head -c 1000000 /dev/urandom >"$dir/blob"
run hostB sh -c "timeout 60 nc -l -p 5001 >$dir/recv" &
rx=$!
sleep 0.5
run hostA sh -c "timeout 60 nc -q 1 192.168.2.10 5001 <$dir/blob"
wait $rx 2>/dev/null || true
echo "hostA sent 1 MB over TCP to hostB:"
echo "  sent     $(md5sum <"$dir/blob" | cut -d' ' -f1)"
echo "  received $(md5sum <"$dir/recv" | cut -d' ' -f1)"
cmp -s "$dir/blob" "$dir/recv" || { echo "the file differs"; exit 1; }
wait $cap 2>/dev/null || true
echo "What the internet saw first: IKE on UDP 500 (IKE_SA_INIT) and 4500"
echo "(IKE_AUTH), then ESP only between the gateways:"
sed 's/^/  /' "$dir/cap.txt"

say "Rekeying the CHILD_SA while hostA pings hostB every 0.1 s"
old=$(run gwA "$NFSEC" -j sa list | python3 -c \
	'import json,sys; print(" ".join(sorted("0x%08x" % s["spi"] for s in json.load(sys.stdin))))')
run hostA ping -c 60 -i 0.1 -W 1 192.168.2.10 >"$dir/ping.txt" 2>&1 &
pinger=$!
sleep 2
printf 'gwA$ swanctl --rekey --child site\n'
sw gwA --rekey --child site | sed 's/^/  /'
wait $pinger || true
# charon keeps the old inbound SA a few seconds for packets still on their
# way (charon.delete_rekeyed_delay, 5 s), then deletes it
for _ in $(seq 100); do
	[ "$(run gwA "$NFSEC" -j stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["sa_count"])')" = 2 ] && break
	sleep 0.2
done
new=$(run gwA "$NFSEC" -j sa list | python3 -c \
	'import json,sys; print(" ".join(sorted("0x%08x" % s["spi"] for s in json.load(sys.stdin))))')
printf '\ngwA$ nfsec sa\n'
run gwA "$NFSEC" sa
loss=$(grep -o '[0-9]* received' "$dir/ping.txt")
rekey="new SPIs and keys beside the old ones, traffic moved, the old pair gone"
for spi in $old; do
	[[ " $new " == *" $spi "* ]] && rekey="but the old SA $spi is still there"
done
[ "$(wc -w <<<"$new")" = 2 ] || rekey="but nfsec holds $(wc -w <<<"$new") SAs"
echo
echo "SPIs before the rekey: $old"
echo "SPIs after it:         $new"
echo "hostA's ping during it: 60 sent, $loss"

say "Stopping charon on gwA: it takes its SAs and policies with it"
kill "$(cat "$dir/gwA/pid")"
wait "$(cat "$dir/gwA/pid")" 2>/dev/null || true
rm -f "$dir/gwA/pid"
show gwA "$NFSEC" stats | head -n 3
left=$(run gwA "$NFSEC" -j stats | python3 -c \
	'import json,sys; d=json.load(sys.stdin); print(d["sa_count"] + d["policy_count"])')
stopped="it removed everything it had installed"
[ "$left" = 0 ] || stopped="$left SAs and policies were left behind"

cat <<EOF

What happened:
- charon on each gateway loaded kernel-nfsec, which took its kernel-ipsec
  interface: SPIs, SAs and policies went to nfsec over generic netlink;
  kernel-netlink kept addresses and routes. Each gateway also got the
  IKE bypass policies for UDP 500 and 4500.
- gwA initiated IKEv2 with a pre-shared key: IKE_SA_INIT on UDP 500, then
  IKE_AUTH on 4500, which also set up the CHILD_SA. charon asked nfsec for
  the SPIs, then installed one SA each way (AES-GCM-128, keys derived by
  IKEv2) and the out, in and fwd policies, tied to the SAs by reqid.
- The sites talked through ESP; the internet saw no private address.
- swanctl --rekey made a new CHILD_SA ($loss of 60 pings during it):
  $rekey.
- When charon stopped, $stopped.
The manual-key version of this demo: make demo-manual.
EOF
