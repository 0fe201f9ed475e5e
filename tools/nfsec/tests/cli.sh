#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test of nfsec(8) alone, no module needed: the requests the parser
# builds (--dry-run prints them instead of sending), the error messages of
# Documentation/cli.md, batch files, and the printing of replies
# (tests/fake-reply parses hand-made kernel replies with genl.c). Prints
# KTAP, one line per check, like the scenario tests; `make -C tools/nfsec
# check` runs it on the host, tests/06-cli.sh in the VM's suite.
#
#   tests/cli.sh [./nfsec [tests/fake-reply]]
set -u
NFSEC=${1:-./nfsec}
FAKE=${2:-tests/fake-reply}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
num=0 fails=0

pass() { num=$((num + 1)); echo "ok $num $*"; }
fail() { num=$((num + 1)); fails=$((fails + 1)); echo "not ok $num $*"; }
skip() { num=$((num + 1)); echo "ok $num $1 # SKIP $2"; }
# result DESC: ok if the command just before succeeded
result() {
	if [[ $? -eq 0 ]]; then pass "$1"; else fail "$1"; fi
}

# expect_err MESSAGE ARGS...: exit 1 and exactly MESSAGE on stderr
expect_err() {
	local want=$1 got rc
	shift
	got=$("$NFSEC" --dry-run "$@" 2>&1 >/dev/null)
	rc=$?
	if [[ $rc -ne 1 || $got != "$want" ]]; then
		fail "error: nfsec $*"
		echo "# want (rc 1): $want"
		echo "# got  (rc $rc): $got"
	else
		pass "error: nfsec $*"
	fi
}

# expect_req ARGS... <<< REQUEST: what the request carries, exactly
expect_req() {
	local want got
	want=$(cat)
	if ! got=$("$NFSEC" --dry-run "$@" 2>&1); then
		fail "request: nfsec $*"
		echo "# $got"
	elif [[ $got != "$want" ]]; then
		fail "request: nfsec $*"
		diff <(echo "$want") <(echo "$got") | sed 's/^/# /'
	else
		pass "request: nfsec $*"
	fi
}

SA="sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x1000 proto esp mode tunnel"
K20=000102030405060708090a0b0c0d0e0f10111213
K32=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f

echo "# requests"
expect_req $SA aead aes-gcm-128 key 0x$K20 <<EOT
request SA_ADD ack
  SA
    DIR u8 2
    FAMILY u16 2
    SRC inet 10.0.0.1
    DST inet 10.0.0.2
    SPI be32 0x00001000
    PROTO u8 50
    MODE u8 2
    AEAD
      NAME "rfc4106(gcm(aes))"
      KEY 20 bytes 0x$K20
      ICV_BITS u32 128
EOT
expect_req sa update dir in src 2001:db8::1 dst 2001:db8::2 spi 4096 \
	proto esp mode transport enc aes-cbc-256 key $K32 \
	auth hmac-sha1-96 key ${K20^^} trunc 160 replay-window 0 esn \
	hard-seconds 3600 soft-bytes 0x10 <<EOT
request SA_UPDATE ack
  SA
    DIR u8 1
    FAMILY u16 10
    SRC inet6 2001:db8::1
    DST inet6 2001:db8::2
    SPI be32 0x00001000
    PROTO u8 50
    MODE u8 1
    REPLAY_WINDOW u32 0
    FLAGS u32 1
    ENC
      NAME "cbc(aes)"
      KEY 32 bytes 0x$K32
    AUTH
      NAME "hmac(sha1)"
      KEY 20 bytes 0x$K20
      TRUNC_BITS u32 160
    LIFETIME
      SOFT_BYTES u64 16
      HARD_SECONDS u64 3600
EOT
expect_req sa add spi 0xffffffff proto ah mode transport src 10.1.1.1 \
	dst 10.2.2.2 dir out auth 'hmac(sha512)' key 0x0102 seq 99 df clear <<EOT
request SA_ADD ack
  SA
    DIR u8 2
    FAMILY u16 2
    SRC inet 10.1.1.1
    DST inet 10.2.2.2
    SPI be32 0xffffffff
    PROTO u8 51
    MODE u8 1
    SEQ u64 99
    DF u8 1
    AUTH
      NAME "hmac(sha512)"
      KEY 2 bytes 0x0102
EOT
expect_req $SA enc null auth hmac-sha256-128 key $K32 <<EOT
request SA_ADD ack
  SA
    DIR u8 2
    FAMILY u16 2
    SRC inet 10.0.0.1
    DST inet 10.0.0.2
    SPI be32 0x00001000
    PROTO u8 50
    MODE u8 2
    ENC
      NAME "ecb(cipher_null)"
      KEY 0 bytes 0x
    AUTH
      NAME "hmac(sha256)"
      KEY 32 bytes 0x$K32
      TRUNC_BITS u32 128
EOT
expect_req sa del dst 10.0.0.2 spi 256 proto ah <<EOT
request SA_DEL ack
  SA
    FAMILY u16 2
    DST inet 10.0.0.2
    SPI be32 0x00000100
    PROTO u8 51
EOT
expect_req --show-keys sa get proto esp spi 0x1000 dst ::1 <<EOT
request SA_GET ack
  SA
    FAMILY u16 10
    DST inet6 ::1
    SPI be32 0x00001000
    PROTO u8 50
  FLAGS u32 1
EOT
expect_req sa list <<< "request SA_GET dump"
expect_req sa alloc-spi src 10.0.0.2 dst 10.0.0.1 proto esp <<EOT
request SA_ALLOC_SPI ack
  SA
    FAMILY u16 2
    SRC inet 10.0.0.2
    DST inet 10.0.0.1
    PROTO u8 50
EOT
expect_req sa alloc-spi proto ah dst 2001:db8::1 src 2001:db8::2 \
	min 0xc0000000 max 0xc00000ff timeout 5 <<EOT
request SA_ALLOC_SPI ack
  SA
    FAMILY u16 10
    SRC inet6 2001:db8::2
    DST inet6 2001:db8::1
    PROTO u8 51
    SPI_MIN u32 3221225472
    SPI_MAX u32 3221225727
    TIMEOUT u32 5
EOT
expect_req sa flush <<< "request SA_FLUSH ack"
expect_req policy add dir out src 192.168.1.0/24 dst 192.168.2.0/24 \
	protect spi 0x1000 dst 10.0.0.2 <<EOT
request POLICY_ADD ack
  POLICY
    DIR u8 2
    FAMILY u16 2
    SRC inet 192.168.1.0
    SRC_PLEN u8 24
    DST inet 192.168.2.0
    DST_PLEN u8 24
    ACTION u8 1
    SA_SPI be32 0x00001000
    SA_DST inet 10.0.0.2
EOT
# host bits are the kernel's to refuse
expect_req policy add dir fwd src any dst 2001:db8::1/32 proto udp sport 53 \
	dport 0x35 priority 7 protect spi 300 proto ah <<EOT
request POLICY_ADD ack
  POLICY
    DIR u8 3
    FAMILY u16 10
    SRC inet6 ::
    SRC_PLEN u8 0
    DST inet6 2001:db8::1
    DST_PLEN u8 32
    PROTO u8 17
    SPORT u16 53
    DPORT u16 53
    PRIORITY u32 7
    ACTION u8 1
    SA_SPI be32 0x0000012c
    SA_PROTO u8 51
EOT
expect_req policy add dir in src 10.0.0.1 dst any discard <<EOT
request POLICY_ADD ack
  POLICY
    DIR u8 1
    FAMILY u16 2
    SRC inet 10.0.0.1
    SRC_PLEN u8 32
    DST inet 0.0.0.0
    DST_PLEN u8 0
    ACTION u8 3
EOT
# reqid: on an SA, and a policy naming its SAs by it
expect_req $SA aead aes-gcm-128 key 0x$K20 reqid 0x10 <<EOT
request SA_ADD ack
  SA
    DIR u8 2
    FAMILY u16 2
    SRC inet 10.0.0.1
    DST inet 10.0.0.2
    SPI be32 0x00001000
    PROTO u8 50
    MODE u8 2
    REQID u32 16
    AEAD
      NAME "rfc4106(gcm(aes))"
      KEY 20 bytes 0x$K20
      ICV_BITS u32 128
EOT
expect_req policy add dir out src 192.168.1.0/24 dst 192.168.2.0/24 \
	protect reqid 7 mode tunnel proto ah dst 10.0.0.2 <<EOT
request POLICY_ADD ack
  POLICY
    DIR u8 2
    FAMILY u16 2
    SRC inet 192.168.1.0
    SRC_PLEN u8 24
    DST inet 192.168.2.0
    DST_PLEN u8 24
    ACTION u8 1
    SA_DST inet 10.0.0.2
    SA_PROTO u8 51
    SA_REQID u32 7
    SA_MODE u8 2
EOT
expect_req policy update dir in src 192.168.2.0/24 dst 192.168.1.0/24 \
	priority 5 protect reqid 4294967295 <<EOT
request POLICY_UPDATE ack
  POLICY
    DIR u8 1
    FAMILY u16 2
    SRC inet 192.168.2.0
    SRC_PLEN u8 24
    DST inet 192.168.1.0
    DST_PLEN u8 24
    PRIORITY u32 5
    ACTION u8 1
    SA_REQID u32 4294967295
EOT
expect_req policy update index 12 dir fwd src 192.168.2.0/24 \
	dst 192.168.1.0/24 protect reqid 7 src 10.0.2.1 dst 10.0.1.1 <<EOT
request POLICY_UPDATE ack
  POLICY
    INDEX u32 12
    DIR u8 3
    FAMILY u16 2
    SRC inet 192.168.2.0
    SRC_PLEN u8 24
    DST inet 192.168.1.0
    DST_PLEN u8 24
    ACTION u8 1
    SA_DST inet 10.0.1.1
    SA_REQID u32 7
    SA_SRC inet 10.0.2.1
EOT
# an SA src of the other family than the selector's: SA_FAMILY says so
expect_req policy add dir in src 2001:db8:2::/48 dst 2001:db8:1::/48 \
	protect reqid 3 src 10.0.2.1 <<EOT
request POLICY_ADD ack
  POLICY
    DIR u8 1
    FAMILY u16 10
    SRC inet6 2001:db8:2::
    SRC_PLEN u8 48
    DST inet6 2001:db8:1::
    DST_PLEN u8 48
    ACTION u8 1
    SA_FAMILY u16 2
    SA_REQID u32 3
    SA_SRC inet 10.0.2.1
EOT
expect_err 'nfsec: policy add: addresses of different families' \
	policy add dir out src any dst 10.0.0.0/8 protect reqid 1 dst 10.0.0.1 \
	src 2001:db8::1
expect_req policy update dir out src 10.0.0.1 dst 10.0.0.2 discard <<EOT
request POLICY_UPDATE ack
  POLICY
    DIR u8 2
    FAMILY u16 2
    SRC inet 10.0.0.1
    SRC_PLEN u8 32
    DST inet 10.0.0.2
    DST_PLEN u8 32
    ACTION u8 3
EOT
# spi and reqid together, and reqid 0: the kernel's to refuse
expect_req policy add dir out src 10.0.0.1 dst 10.0.0.2 protect spi 4096 \
	reqid 0 <<EOT
request POLICY_ADD ack
  POLICY
    DIR u8 2
    FAMILY u16 2
    SRC inet 10.0.0.1
    SRC_PLEN u8 32
    DST inet 10.0.0.2
    DST_PLEN u8 32
    ACTION u8 1
    SA_SPI be32 0x00001000
    SA_REQID u32 0
EOT
expect_req policy del index 3 <<EOT
request POLICY_DEL ack
  POLICY
    INDEX u32 3
EOT
expect_req policy del dir out src 10.0.0.0/8 dst any proto 132 <<EOT
request POLICY_DEL ack
  POLICY
    DIR u8 2
    FAMILY u16 2
    SRC inet 10.0.0.0
    SRC_PLEN u8 8
    DST inet 0.0.0.0
    DST_PLEN u8 0
    PROTO u8 132
EOT
expect_req policy flush <<< "request POLICY_FLUSH ack"
expect_req stats <<EOT
request STATS_GET ack
  sa-count                  0  SAs
  policy-count              0  policies
  no-sa                     0  inbound ESP/AH with no SA
  no-sa-out                 0  protect policy without a usable SA
  malformed                 0  truncated or bad headers
  cleartext                 0  cleartext a policy wants protected
  discard                   0  dropped by a discard policy
  conntrack                 0  conntrack refused to confirm the flow
  acquire                   0  acquire events sent
  acquire-limited           0  acquire events rate-limited
  acquire-failed            0  acquire events not sent: memory, full socket
  larval-count              0  of the SAs, larval (SPIs reserved)
  encap-in                  0  ESP in UDP taken in
  encap-out                 0  ESP in UDP sent
  keepalive-in              0  NAT keepalives taken in
  keepalive-out             0  NAT keepalives sent
  non-esp                   0  non-ESP datagrams passed on (IKE)
  bad-encap                 0  ESP in UDP dropped: short, junk, wrong SA
  mapping                   0  mapping events sent
  mapping-limited           0  mapping events rate-limited
  spread                    0  decrypted on the next CPU (rx_spread)
  req-heap                  0  crypto requests from the heap
EOT
expect_req showconf <<EOT
# nfsec -b FILE reads this back; it holds keys.
request SA_GET dump
  FLAGS u32 1
request POLICY_GET dump
EOT

echo "# errors"
expect_err 'nfsec: invalid key length for aes-gcm-128: 16 bytes, expected 20' \
	$SA aead aes-gcm-128 key 0x${K32:0:32}
expect_err 'nfsec: invalid key length for chacha20-poly1305: 32 bytes, expected 36' \
	$SA aead chacha20-poly1305 key $K32
expect_err 'nfsec: invalid key length for hmac-sha512-256: 32 bytes, expected 64' \
	$SA enc aes-cbc-128 key ${K32:0:32} auth hmac-sha512-256 key $K32
expect_err 'nfsec: invalid key length for null: 1 bytes, expected 0' \
	$SA enc null key 00 auth hmac-sha1-96 key $K20
expect_err 'nfsec: invalid SPI: "0xzz"' sa del dst 10.0.0.2 spi 0xzz proto esp
expect_err 'nfsec: invalid SPI: "255"' sa del dst 10.0.0.2 spi 255 proto esp
expect_err 'nfsec: invalid SPI: "4294967296"' sa get dst 10.0.0.2 spi 4294967296
expect_err 'nfsec: invalid SPI: "-1"' sa get dst 10.0.0.2 spi -1
expect_err 'nfsec: invalid key: "0x123"' $SA aead aes-gcm-128 key 0x123
expect_err 'nfsec: invalid key: "0xgg"' $SA aead aes-gcm-128 key 0xgg
expect_err 'nfsec: invalid address: "10.0.0.256"' sa get dst 10.0.0.256
expect_err 'nfsec: invalid prefix: "10.0.0.0/33"' \
	policy add dir out src 10.0.0.0/33 dst any bypass
expect_err 'nfsec: invalid prefix: "::/129"' \
	policy add dir out src ::/129 dst any bypass
expect_err 'nfsec: invalid prefix: "10.0.0.0/"' \
	policy add dir out src 10.0.0.0/ dst any bypass
expect_err 'nfsec: invalid prefix: "10.0.0.0/+8"' \
	policy add dir out src 10.0.0.0/+8 dst any bypass
expect_err 'nfsec: invalid prefix: "anything"' \
	policy add dir out src anything dst any bypass
expect_err 'nfsec: invalid dir: "fwd"' sa add dir fwd
expect_err 'nfsec: invalid mode: "tunel"' sa add mode tunel
expect_err 'nfsec: invalid df: "maybe"' sa add df maybe
expect_err 'nfsec: invalid proto: "udp"' sa get proto udp
expect_err 'nfsec: invalid proto: "256"' \
	policy add dir out src any dst 10.0.0.0/8 proto 256 bypass
expect_err 'nfsec: invalid dport: "65536"' \
	policy add dir out src any dst 10.0.0.0/8 proto tcp dport 65536 bypass
expect_err 'nfsec: invalid priority: "1e3"' \
	policy add dir out src any dst 10.0.0.0/8 priority 1e3 bypass
expect_err 'nfsec: invalid replay-window: "4294967296"' \
	$SA replay-window 4294967296
expect_err 'nfsec: invalid hard-bytes: "18446744073709551616"' \
	$SA hard-bytes 18446744073709551616
expect_err 'nfsec: invalid algorithm: "a b"' $SA aead "a b"
expect_err 'nfsec: sa add: missing "spi"' sa add dir out src 10.0.0.1 \
	dst 10.0.0.2 proto esp mode tunnel aead aes-gcm-128 key $K20
expect_err 'nfsec: sa add: missing "mode"' sa add dir out src 10.0.0.1 \
	dst 10.0.0.2 spi 4096 proto esp aead aes-gcm-128 key $K20
expect_err 'nfsec: sa add: missing "key"' $SA aead aes-gcm-128
expect_err 'nfsec: sa add: missing "aead"' $SA icv 64
expect_err 'nfsec: sa del: missing "proto"' sa del dst 10.0.0.2 spi 4096
expect_err 'nfsec: sa update: addresses of different families' \
	sa update dir out src 10.0.0.1 dst ::2 spi 4096 proto esp mode tunnel
expect_err 'nfsec: sa add: aes-gcm-128 is an aead algorithm, not enc' \
	$SA enc aes-gcm-128
expect_err 'nfsec: sa add: "key" must follow aead, enc or auth' $SA key 00
expect_err 'nfsec: sa add: "spi" given twice' $SA spi 4097
expect_err 'nfsec: sa add: "spi" needs a value' sa add spi
expect_err 'nfsec: sa del: unknown keyword "mode"' sa del mode tunnel
expect_err 'nfsec: policy add: missing "protect", "bypass" or "discard"' \
	policy add dir out src any dst 10.0.0.0/8
expect_err 'nfsec: policy add: missing "spi"' \
	policy add dir out src any dst 10.0.0.0/8 protect
expect_err 'nfsec: invalid reqid: "-1"' $SA reqid -1
expect_err 'nfsec: invalid reqid: "4294967296"' \
	policy add dir out src any dst 10.0.0.0/8 protect reqid 4294967296
expect_err 'nfsec: sa add: "reqid" given twice' $SA reqid 1 reqid 2
expect_err 'nfsec: policy update: "reqid" given twice' \
	policy update dir out src any dst 10.0.0.0/8 protect reqid 1 reqid 1
expect_err 'nfsec: invalid mode: "tunel"' \
	policy add dir out src any dst 10.0.0.0/8 protect reqid 1 mode tunel
expect_err 'nfsec: policy update: missing "spi"' \
	policy update dir out src any dst 10.0.0.0/8 protect mode tunnel
expect_err 'nfsec: policy add: unknown keyword "reqid"' \
	policy add dir out src any dst 10.0.0.0/8 reqid 1 protect
expect_err 'nfsec: policy add: unknown keyword "mode"' \
	policy add dir out src any dst 10.0.0.0/8 mode tunnel discard
expect_err 'nfsec: policy update: missing "protect", "bypass" or "discard"' \
	policy update dir out src any dst 10.0.0.0/8
expect_err 'nfsec: policy add: "bypass" after "protect"' \
	policy add dir out src any dst 10.0.0.0/8 protect spi 4096 bypass
# an SA of the other family: a tunnel across families, for the kernel to
# check
expect_req policy add dir out src any dst 10.0.0.0/8 protect spi 4096 \
	dst ::1 <<EOT
request POLICY_ADD ack
  POLICY
    DIR u8 2
    FAMILY u16 2
    SRC inet 0.0.0.0
    SRC_PLEN u8 0
    DST inet 10.0.0.0
    DST_PLEN u8 8
    ACTION u8 1
    SA_SPI be32 0x00001000
    SA_DST inet6 ::1
    SA_FAMILY u16 10
EOT
expect_err 'nfsec: policy add: no address tells the family: write 0.0.0.0/0 or ::/0 rather than "any"' \
	policy add dir out src any dst any bypass
expect_err 'nfsec: policy add: unknown keyword "spi"' \
	policy add dir out src any dst 10.0.0.0/8 spi 4096 protect
expect_err 'nfsec: policy del: "index" takes no other keyword, not "dir"' \
	policy del index 1 dir out
expect_err 'nfsec: policy del: missing "dir"' policy del src any dst ::/0
expect_err 'nfsec: policy: unknown command "show"' policy show
expect_err 'nfsec: unknown object "state" (try nfsec help)' state list
expect_err 'nfsec: show: unknown keyword "all"' show all
AS="sa alloc-spi src 10.0.0.2 dst 10.0.0.1 proto esp"
expect_err 'nfsec: sa alloc-spi: the kernel chooses the spi; give min and max' \
	$AS spi 0x1000
expect_err 'nfsec: sa alloc-spi: missing "src"' sa alloc-spi dst 10.0.0.1 proto esp
expect_err 'nfsec: sa alloc-spi: missing "proto"' sa alloc-spi src 10.0.0.2 dst 10.0.0.1
expect_err 'nfsec: sa alloc-spi: unknown keyword "mode"' $AS mode tunnel
expect_err 'nfsec: sa alloc-spi: "min" given twice' $AS min 300 min 400
expect_err 'nfsec: invalid max: "4294967296"' $AS max 4294967296
expect_err 'nfsec: invalid timeout: "-1"' $AS timeout -1
expect_err 'nfsec: sa alloc-spi: addresses of different families' \
	sa alloc-spi src 10.0.0.2 dst ::1 proto esp

echo "# encap (ESP in UDP)"
# both ports always go, 4500 unless given; keepalive only when given
expect_req $SA aead aes-gcm-128 key 0x$K20 encap udp keepalive 20 <<EOT
request SA_ADD ack
  SA
    DIR u8 2
    FAMILY u16 2
    SRC inet 10.0.0.1
    DST inet 10.0.0.2
    SPI be32 0x00001000
    PROTO u8 50
    MODE u8 2
    AEAD
      NAME "rfc4106(gcm(aes))"
      KEY 20 bytes 0x$K20
      ICV_BITS u32 128
    ENCAP
      TYPE u8 1
      SPORT u16 4500
      DPORT u16 4500
      KEEPALIVE u32 20
EOT
# its keywords anywhere among the others
expect_req sa update dir in src 2001:db8::1 sport 0x1194 dst 2001:db8::2 \
	spi 4096 encap udp proto esp follow mode transport dport 65535 \
	reqid 3 aead aes-gcm-128 key $K20 <<EOT
request SA_UPDATE ack
  SA
    DIR u8 1
    FAMILY u16 10
    SRC inet6 2001:db8::1
    DST inet6 2001:db8::2
    SPI be32 0x00001000
    PROTO u8 50
    MODE u8 1
    REQID u32 3
    AEAD
      NAME "rfc4106(gcm(aes))"
      KEY 20 bytes 0x$K20
      ICV_BITS u32 128
    ENCAP
      TYPE u8 1
      SPORT u16 4500
      DPORT u16 65535
      FLAGS u32 1
EOT
# AH, follow on an outbound SA, keepalive above 3600: the kernel's to refuse
expect_req sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 256 proto ah \
	mode tunnel auth hmac-sha1-96 key $K20 encap udp follow \
	keepalive 3601 <<EOT
request SA_ADD ack
  SA
    DIR u8 2
    FAMILY u16 2
    SRC inet 10.0.0.1
    DST inet 10.0.0.2
    SPI be32 0x00000100
    PROTO u8 51
    MODE u8 2
    AUTH
      NAME "hmac(sha1)"
      KEY 20 bytes 0x$K20
      TRUNC_BITS u32 96
    ENCAP
      TYPE u8 1
      SPORT u16 4500
      DPORT u16 4500
      FLAGS u32 1
      KEEPALIVE u32 3601
EOT
expect_err 'nfsec: invalid encap: "tcp"' $SA encap tcp
expect_err 'nfsec: invalid encap: "sport"' $SA encap sport 4500
expect_err 'nfsec: sa add: "encap" needs a value' $SA encap
expect_err 'nfsec: invalid sport: "0"' $SA encap udp sport 0
expect_err 'nfsec: invalid dport: "65536"' $SA encap udp dport 65536
expect_err 'nfsec: invalid dport: "-1"' $SA encap udp dport -1
expect_err 'nfsec: invalid keepalive: "4294967296"' \
	$SA encap udp keepalive 4294967296
expect_err 'nfsec: invalid keepalive: "20s"' $SA encap udp keepalive 20s
expect_err 'nfsec: sa add: "keepalive" needs a value' $SA encap udp keepalive
expect_err 'nfsec: sa add: missing "encap"' \
	$SA aead aes-gcm-128 key $K20 sport 4501
expect_err 'nfsec: sa update: missing "encap"' \
	${SA/add/update} aead aes-gcm-128 key $K20 follow
expect_err 'nfsec: sa add: "encap" given twice' $SA encap udp encap udp
expect_err 'nfsec: sa add: "dport" given twice' \
	$SA encap udp dport 4500 dport 4600
expect_err 'nfsec: sa add: "follow" given twice' $SA follow encap udp follow
expect_err 'nfsec: sa add: "keepalive" given twice' \
	$SA encap udp keepalive 1 keepalive 2
expect_err 'nfsec: sa get: unknown keyword "encap"' \
	sa get dst 10.0.0.2 spi 4096 proto esp encap udp

echo "# batch"
cat > "$TMP/conf" <<'EOT'
# a comment, then a blank line

sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x1000 proto esp mode tunnel \
aead "rfc4106(gcm(aes))" key 0x000102030405060708090a0b0c0d0e0f10111213 # x
  policy add dir out src "192.168.1.0/24" dst 192.168.2.0/24 protect spi 4096
sa del dst 10.0.0.2 spi x proto esp
sa flush
EOT
out=$("$NFSEC" --dry-run -b "$TMP/conf" 2>"$TMP/err")
rc=$?
[[ $rc -eq 1 ]]; result "batch: exit 1 (was $rc)"
[[ $(<"$TMP/err") == "nfsec: $TMP/conf:6: invalid SPI: \"x\"" ]]
result "batch: the error names file and line ($(<"$TMP/err"))"
[[ $(grep -c ^request <<< "$out") -eq 2 ]]; result "batch: 2 requests"
grep -q 'NAME "rfc4106(gcm(aes))"' <<< "$out"; result "batch: quotes"
grep -q 'SRC inet 192.168.1.0' <<< "$out"; result "batch: quoted prefix"
! grep -q FLUSH <<< "$out"; result "batch: stops at the first error"
printf 'sa flush\n\n# x\npolicy flush "\n' > "$TMP/conf2"
[[ $("$NFSEC" --dry-run -b - < "$TMP/conf2" 2>&1 >/dev/null) == \
   'nfsec: -:4: unterminated quote' ]]; result "batch: unterminated quote"
[[ $("$NFSEC" -b "$TMP/none" 2>&1) == \
   "nfsec: $TMP/none: No such file or directory" ]]; result "batch: no file"
[[ $("$NFSEC" -b "$TMP/conf2" sa list 2>&1) == \
   'nfsec: -b takes no command on the command line' ]]; result "batch: argv"

echo "# replies"
if [[ -x $FAKE ]]; then
	for what in sa encap policy stats; do
		"$FAKE" $what json > "$TMP/$what.json"
		python3 -m json.tool "$TMP/$what.json" > /dev/null
		result "$what: JSON parses"
	done
	keys=$(python3 -c 'import json,sys
def walk(o, p):
    if isinstance(o, dict):
        for k, v in o.items(): yield p + k; yield from walk(v, p + k + ".")
    elif isinstance(o, list):
        for v in o: yield from walk(v, p)
print(" ".join(sorted(set(walk(json.load(open(sys.argv[1])), "")))))' \
		"$TMP/sa.json")
	want="add_time auth auth.name auth.trunc_bits df dir dst enc enc.name"
	want+=" esn family first_use_time lifetime lifetime.hard_bytes"
	want+=" lifetime.hard_packets lifetime.hard_seconds"
	want+=" lifetime.hard_use_seconds lifetime.soft_bytes"
	want+=" lifetime.soft_packets lifetime.soft_seconds"
	want+=" lifetime.soft_use_seconds mode proto replay_window reqid seq spi"
	want+=" src state stats"
	want+=" stats.backlog stats.bad_trailer stats.bytes stats.crypto_error"
	want+=" stats.dummy stats.expired stats.icv_fail stats.loop"
	want+=" stats.no_buffer stats.packets stats.policy stats.replay"
	want+=" stats.replay_old stats.seq_exhausted stats.too_big use_time"
	[[ $keys == "$want" ]]; result "sa JSON keys"
	[[ $keys == "$want" ]] || echo "# got: $keys"
	! grep -q '"key"' "$TMP/sa.json"; result "sa JSON: no key without --show-keys"
	"$FAKE" sa json k | grep -q '"key": "0x000102'; result "sa JSON: key with --show-keys"
	[[ $(python3 -c 'import json,sys; p = json.load(sys.stdin)
print(p[0]["sa"], p[1]["family"], p[1]["dport"])' < "$TMP/policy.json") == \
	"{'spi': 4096, 'dst': '10.0.0.2', 'proto': 'esp'} inet6 22" ]]
	result "policy JSON: sa, family, dport"
	[[ $(python3 -c 'import json,sys; p = json.load(sys.stdin)
print(p[2]["sa"], p[2]["dir"])' < "$TMP/policy.json") == \
	"{'reqid': 7, 'mode': 'tunnel', 'dst': '2001:db8::1', 'proto': 'ah'} fwd" ]]
	result "policy JSON: sa by reqid"
	[[ $(python3 -c 'import json,sys; print(json.load(sys.stdin)["reqid"])' \
	     < "$TMP/sa.json") == 7 ]]
	result "sa JSON: reqid"
	[[ $(python3 -c 'import json,sys; print(sorted(json.load(sys.stdin)))' \
	     < "$TMP/stats.json") == "['acquire', 'acquire_failed', 'acquire_limited', 'bad_encap', 'cleartext', 'conntrack', 'discard', 'encap_in', 'encap_out', 'keepalive_in', 'keepalive_out', 'larval_count', 'malformed', 'mapping', 'mapping_limited', 'no_sa', 'no_sa_out', 'non_esp', 'policy_count', 'req_heap', 'sa_count', 'spread']" ]]
	result "stats JSON keys"
	# each counter from its own attribute (the fake sends 100 + its number)
	[[ $(python3 -c 'import json,sys; d = json.load(sys.stdin)
print(d["acquire_failed"], d["encap_in"], d["encap_out"], d["keepalive_in"],
      d["keepalive_out"], d["non_esp"], d["bad_encap"], d["mapping"],
      d["mapping_limited"], d["spread"], d["req_heap"])' < "$TMP/stats.json") == \
	   "112 114 115 116 117 118 119 120 121 122 123" ]]
	result "stats JSON: the encap counters"
	[[ $("$FAKE" stats human | sed -n '/encap-in/,$p') == \
"  encap-in                114  ESP in UDP taken in
  encap-out               115  ESP in UDP sent
  keepalive-in            116  NAT keepalives taken in
  keepalive-out           117  NAT keepalives sent
  non-esp                 118  non-ESP datagrams passed on (IKE)
  bad-encap               119  ESP in UDP dropped: short, junk, wrong SA
  mapping                 120  mapping events sent
  mapping-limited         121  mapping events rate-limited
  spread                  122  decrypted on the next CPU (rx_spread)
  req-heap                123  crypto requests from the heap" ]]
	result "stats: the encap counters"
	"$FAKE" sa human | grep -q 'key (hidden)'; result "sa: key (hidden)"
	"$FAKE" sa human | grep -q '^  traffic:  1 packet, 1.18 MiB$'
	result "sa: traffic line"
	"$FAKE" sa human | grep -q '^  lifetime: soft-bytes 1000000, hard-seconds 3600, hard-use-seconds 600$'
	result "sa: lifetime line with use-seconds"
	"$FAKE" sa human | grep -q '^  used: *last 1 minute, 5 seconds ago, first [0-9]'
	result "sa: used line"
	[[ $("$FAKE" sa json | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d, list) else d; print(d["use_time"], d["first_use_time"], d["lifetime"]["hard_use_seconds"])') == "65 0 600" ]]
	result "sa JSON: use_time, first_use_time, hard_use_seconds"
	[[ $("$FAKE" policy human | head -1) == "index 1 out 192.168.1.0/24 -> 192.168.2.0/24 proto any priority 1000 protect esp spi 0x1000 dst 10.0.0.2 matches 7" ]]
	result "policy line"
	[[ $("$FAKE" policy human | sed -n 3p) == "index 3 fwd 192.168.2.0/24 -> 192.168.1.0/24 proto any priority 1000 protect ah reqid 7 mode tunnel dst 2001:db8::1 matches 7" ]]
	result "policy line by reqid"
	[[ $("$FAKE" sa human | head -1) == "sa out esp spi 0x00001000 (4096) 10.0.0.1 -> 10.0.0.2 mode tunnel reqid 7" ]]
	result "sa: reqid on the first line"
	# ESP in UDP: the encap line after the options, the peer only where
	# it is not the configured one (out: dst dport; in: src sport)
	[[ $("$FAKE" encap human | grep -A1 '^  options:' | grep -v '^--') == \
"  options:  esn off, seq 0, df copy
  encap:    udp sport 4500 dport 4600 keepalive 20 (peer 198.51.100.1 port 4700)
  options:  replay-window 128, esn off, seq 0
  encap:    udp sport 4600 dport 4500 follow (peer 203.0.113.9 port 4600)
  options:  esn off, seq 0
  encap:    udp sport 4500 dport 4500" ]]
	result "sa: encap lines, the peer where it moved"
	[[ $("$FAKE" sa human | grep -c '^  encap:') == 0 ]]
	result "sa: no encap line without encap"
	[[ $("$FAKE" encap json | python3 -c 'import json,sys
for s in json.load(sys.stdin):
    print(s["spi"], sorted(s["encap"].items()))') == \
"12288 [('dport', 4600), ('follow', False), ('keepalive', 20), ('peer', '198.51.100.1'), ('peer_port', 4700), ('sport', 4500), ('type', 'udp')]
12289 [('dport', 4500), ('follow', True), ('keepalive', 0), ('peer', '203.0.113.9'), ('peer_port', 4600), ('sport', 4600), ('type', 'udp')]
12290 [('dport', 4500), ('follow', False), ('keepalive', 0), ('peer', '2001:db8::2'), ('peer_port', 4500), ('sport', 4500), ('type', 'udp')]" ]]
	result "sa JSON: encap"
	# showconf: what makes the SA again, not where its peer went
	[[ $("$FAKE" encap conf | sed 's/.* aead rfc4106(gcm(aes))//') == \
" encap udp dport 4600 keepalive 20
 encap udp sport 4600 follow
 encap udp" ]]
	result "showconf: encap, no defaults, no peer"
	"$FAKE" encap conf k > "$TMP/encap.conf"
	[[ $("$NFSEC" --dry-run -b "$TMP/encap.conf" | python3 -c 'import re,sys
for b in re.findall(r"^    ENCAP\n((?:      .*\n)*)", sys.stdin.read(), re.M):
    print(" ".join(w[0] + "=" + w[-1] for w in map(str.split, b.splitlines())))') == \
"TYPE=1 SPORT=4500 DPORT=4600 KEEPALIVE=20
TYPE=1 SPORT=4600 DPORT=4500 FLAGS=1
TYPE=1 SPORT=4500 DPORT=4500" ]]
	result "showconf: encap reads back"
	# monitor: acquire and SA events, one line each (JSON: one object)
	[[ $("$FAKE" acquire human | head -1) == "acquire policy 3 reqid 7 ah mode tunnel dst 2001:db8::1 flow 192.168.2.7 -> 192.168.1.9 proto tcp sport 40000 dport 22" ]]
	result "monitor: acquire line"
	[[ $("$FAKE" acquire human | sed -n 2p) == "sa expire out esp spi 0x00001000 (4096) 10.0.0.1 -> 10.0.0.2 reason soft" ]]
	result "monitor: expire line"
	"$FAKE" acquire json > "$TMP/events.json"
	[[ $(wc -l < "$TMP/events.json") == 2 ]] &&
	[[ $(python3 -c 'import json,sys
for line in sys.stdin:
    e = json.loads(line)
    if e["event"] == "acquire":
        p, f = e["policy"], e["flow"]
        print(p["index"], p["sa"]["reqid"], p["sa"]["proto"], f["family"],
              f["src"], f["dst"], f["proto"], f["sport"], f["dport"])
    else:
        print(e["event"], e["expire"], e["sa"]["spi"])' < "$TMP/events.json") == \
	"3 7 ah inet 192.168.2.7 192.168.1.9 6 40000 22
expire soft 4096" ]]
	result "monitor JSON: one object per line, acquire's fields"
	# mapping: the inbound SA, where its peer was and is, how many
	# outbound SAs followed
	[[ $("$FAKE" mapping human) == \
"mapping sa in esp spi 0x00003001 (12289) 198.51.100.1 -> 10.0.0.1 peer 198.51.100.1:4600 -> 203.0.113.9:4600 (followed 2)
mapping sa in esp spi 0x00003003 (12291) 2001:db8::2 -> 2001:db8::1 peer [2001:db8::2]:4500 -> [2001:db8::2]:61000 (followed 1)" ]]
	result "monitor: mapping lines"
	"$FAKE" mapping json > "$TMP/mapping.json"
	[[ $(wc -l < "$TMP/mapping.json") == 2 ]] &&
	[[ $(python3 -c 'import json,sys
for line in sys.stdin:
    e = json.loads(line)
    print(list(e), e["event"], e["sa"]["spi"], e["sa"]["dir"],
          e["sa"]["encap"]["peer"], e["sa"]["encap"]["peer_port"],
          e["old"], e["new"], e["followed"])' < "$TMP/mapping.json") == \
"['event', 'sa', 'old', 'new', 'followed'] mapping 12289 in 203.0.113.9 4600 {'addr': '198.51.100.1', 'port': 4600} {'addr': '203.0.113.9', 'port': 4600} 2
['event', 'sa', 'old', 'new', 'followed'] mapping 12291 in 2001:db8::2 61000 {'addr': '2001:db8::2', 'port': 4500} {'addr': '2001:db8::2', 'port': 61000} 1" ]]
	result "monitor JSON: mapping, one object per line"
	[[ $("$FAKE" larval human) == "sa larval esp spi 0xc0000123 (3221225763) 10.0.0.2 -> 10.0.0.1
  expires:  in 1 hour, 2 minutes, 5 seconds unless an SA fills it in" ]]
	result "larval: two lines, the time left"
	[[ $("$FAKE" larval json | python3 -c 'import json,sys; print(sorted(json.load(sys.stdin).items()))') == \
	   "[('add_time', 0), ('dst', '10.0.0.1'), ('family', 'inet'), ('proto', 'esp'), ('spi', 3221225763), ('src', '10.0.0.2'), ('state', 'larval'), ('timeout', 3725)]" ]]
	result "larval JSON"
	# showconf's lines feed straight back in
	{ "$FAKE" sa conf k; "$FAKE" policy conf; } > "$TMP/showconf"
	if "$NFSEC" --dry-run -b "$TMP/showconf" > "$TMP/req"; then
		pass "showconf reads back"
	else
		fail "showconf reads back"
		sed 's/^/# /' "$TMP/showconf"
	fi
	for line in 'FLAGS u32 1' 'SEQ u64 41' 'DF u8 2' 'TRUNC_BITS u32 128' \
		    'HARD_SECONDS u64 3600' 'KEY 16 bytes' 'PRIORITY u32 10' \
		    'DPORT u16 22' 'SA_DST inet 10.0.0.2' 'REQID u32 7' \
		    'SA_REQID u32 7' 'SA_MODE u8 2' 'SA_DST inet6 2001:db8::1' \
		    'SA_FAMILY u16 10' 'SA_PROTO u8 51'; do
		grep -q "$line" "$TMP/req"; result "showconf keeps $line"
	done
else
	skip "replies" "no $FAKE"
fi

echo "# without the module"
if [[ ! -d /sys/module/nfsec ]] && ! modinfo nfsec >/dev/null 2>&1; then
	got=$("$NFSEC" sa list 2>&1)
	rc=$?
	[[ $rc -eq 1 && $got == 'nfsec: cannot find the nfsec kernel module (generic netlink family "nfsec"): No such file or directory' ]]
	result "no module: exit 1 and what is missing"
	[[ $rc -eq 1 && $got == 'nfsec: cannot find the nfsec kernel module (generic netlink family "nfsec"): No such file or directory' ]] ||
		echo "# rc $rc: $got"
else
	skip "no module: exit 1 and what is missing" "the module is here"
fi
"$NFSEC" -h | grep -q '^Usage: nfsec'; result "-h prints the usage"

echo "1..$num"
[[ $fails -eq 0 ]]
