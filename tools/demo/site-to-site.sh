#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The site-to-site demo (make demo): two Linux routers join two private
# sites with an ESP tunnel made by nfsec, across an "internet" that has no
# route to either site. Runs in the test VM, as root.
#
#  site A 192.168.1.0/24                                 site B 192.168.2.0/24
#  +--------+        +--------+        +-------+        +--------+        +--------+
#  | hostA  |--------|  gwA   |--------| inet  |--------|  gwB   |--------| hostB  |
#  | .1.10  |   .1.1 |        | .0.1   |       |  .1.2  |        | .2.1   | .2.10  |
#  +--------+        +--------+  203.0.113.0/30 +  .1.0/30 +--------+        +--------+
#                        ESP tunnel 203.0.113.1 <====> 198.51.100.2
set -eu
cd "$(dirname "$0")/../.."
NFSEC=$PWD/tools/nfsec/nfsec
ns=demo$$
. tools/demo/sites.sh
trap sites_down EXIT

[ -d /sys/module/nfsec ] || { modprobe nf_defrag_ipv6 && insmod src/nfsec.ko; }
modprobe -q aesni_intel 2>/dev/null || true

sites_up

say "Configuring nfsec on both gateways (one SA each way, AES-GCM-128)"
k1=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
k2=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
conf() {	# conf LOCAL REMOTE LOCALNET REMOTENET OUTSPI INSPI OUTKEY INKEY
	cat <<-EOF
	# SAs: one for each direction, named by SPI and destination
	sa add dir out src $1 dst $2 spi $5 proto esp mode tunnel aead aes-gcm-128 key $7
	sa add dir in src $2 dst $1 spi $6 proto esp mode tunnel aead aes-gcm-128 key $8
	# policies: what goes out protected, what must come in protected
	policy add dir out src $3 dst $4 protect spi $5 dst $2
	policy add dir fwd src $4 dst $3 protect spi $6 dst $1
	EOF
}
conf 203.0.113.1 198.51.100.2 192.168.1.0/24 192.168.2.0/24 0x1001 0x2001 "$k1" "$k2" >/tmp/$ns-gwA.conf
conf 198.51.100.2 203.0.113.1 192.168.2.0/24 192.168.1.0/24 0x2001 0x1001 "$k2" "$k1" >/tmp/$ns-gwB.conf
echo "gwA's configuration (keys are random):"
sed 's/key [0-9a-f]*/key .../' /tmp/$ns-gwA.conf
run gwA "$NFSEC" -b /tmp/$ns-gwA.conf
run gwB "$NFSEC" -b /tmp/$ns-gwB.conf
rm -f /tmp/$ns-gwA.conf /tmp/$ns-gwB.conf

say "Watching the internet link while site A talks to site B"
run inet tcpdump -lni a -c 6 2>/dev/null >/tmp/$ns-cap.txt &
sleep 1
show hostA ping -c 3 -i 0.3 192.168.2.10
head -c 1000000 /dev/urandom >/tmp/$ns-blob
run hostB sh -c "timeout 60 nc -l -p 5001 >/tmp/$ns-recv" &
sleep 0.5
run hostA sh -c "timeout 60 nc -q 1 192.168.2.10 5001 </tmp/$ns-blob"
wait %2 2>/dev/null || true
echo "hostA sent 1 MB over TCP to hostB:"
echo "  sent     $(md5sum </tmp/$ns-blob | cut -d' ' -f1)"
echo "  received $(md5sum </tmp/$ns-recv | cut -d' ' -f1)"
cmp -s /tmp/$ns-blob /tmp/$ns-recv || { echo "the file differs"; exit 1; }
wait %1 2>/dev/null || true
echo "What the internet saw (first packets): only ESP between the gateways,"
echo "no private address, no cleartext:"
sed 's/^/  /' /tmp/$ns-cap.txt
rm -f /tmp/$ns-blob /tmp/$ns-recv /tmp/$ns-cap.txt

say "nfsec show on gwA"
run gwA "$NFSEC" show
cat <<'EOF'

How to read it:
- "sa out ... 203.0.113.1 -> 198.51.100.2 mode tunnel": the SA gwA encrypts
  with; "traffic" counts the inner packets it protected (3 pings, the TCP
  stream); "sa in" the ones it decrypted and let through.
- "drops" says why any packet was refused: a replayed or too old sequence
  number, a failed integrity check, bad padding, an inner packet that its
  policy does not allow, and so on. "too-big" is the one you may see here:
  the first full-size TCP segments (1500 bytes, DF set) no longer fit the
  path once ESP is added, so gwA answered each with ICMP "fragmentation
  needed" and the smaller MTU, and hostA's TCP sent smaller segments from
  then on (path MTU discovery; no MTU black hole).
- The policies: "out" protects site A -> site B with SPI 0x1001; "fwd"
  requires that site B -> site A traffic forwarded by gwA arrived through
  SPI 0x2001. "matches" counts the packets each policy decided.
- The namespace counters count what no SA owns: ESP for unknown SPIs,
  cleartext that should have been protected, and so on.
EOF
