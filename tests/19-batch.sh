#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 19-batch.sh: `nfsec -b`, whose adds, updates and deletes travel many to
# a message (NFSEC_CMD_BATCH), against the batch rules of cli.md: lines run
# in order; the first failing line stops the batch with
# "nfsec: FILE:LINE: message" and exit 1; the lines before it stay applied,
# the failing line changes nothing and no line after it is applied.
#
# - 5,000 SAs (each with its own key, replay window or reqid) and 500
#   policies in one file, several messages' worth: the dump returns exactly
#   what each line says, field by field, keys included.
# - A failing line in the middle of one message (line 150 of 300), in a
#   later message (line 1234 of 2000), at the first line and at the last
#   (a policy naming an SA that does not exist): exit 1, the file and line
#   with the kernel's message, the SAs of exactly the lines before it;
#   the failing line changed nothing (the SA it duplicates keeps its key).
# - An SA the kernel cannot make (line 1500 of 3000: the SAs of a message
#   are made, on every CPU, before it runs in order): the same.
# - An add, an update of it, a delete and a re-add in one message: the
#   table holds what the last line of each says.
# - A line after the failing one that would fill an SPI reservation: the
#   reservation stays larval.
# - A line the tool itself refuses (a bad SPI) after 99 gathered adds: the
#   99 are applied, the line after it is not, the tool's message names the
#   line.
# - Reads in a batch see the lines before them (sa get after sa add, and
#   after sa del: the failing line 4).
# - Events: a listener sees one SA_ADD event per line applied, none for
#   the lines after a failure (a marker SA added afterwards bounds them).
#
#   +-------------+
#   | ns A        |   state only, no link
#   +-------------+

. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"

ns_enter batch A

F=/tmp/nfsec-batch.$$
trap 'rm -f "$F" "$F.mon"' EXIT

# gen_sas FROM TO: the `sa add` lines of SAs FROM..TO-1. SA i: SPI
# 0x10000+i, dst 10.a.b.c from i, its own key; out (reqid i+1) for even
# i, in (replay window i % 4097) for odd i
gen_sas() {
	awk -v from="$1" -v to="$2" 'BEGIN {
		for (i = from; i < to; i++)
			printf "sa add dir %s src 172.16.0.1 dst 10.%d.%d.%d spi %d proto esp mode tunnel enc null auth hmac-sha256-128 key %056x%08x %s %d\n",
				i % 2 ? "in" : "out", int(i / 65536) % 256,
				int(i / 256) % 256, i % 256, 65536 + i, 0, i,
				i % 2 ? "replay-window" : "reqid",
				i % 2 ? i % 4097 : i + 1
	}'
}

# gen_policies N: out protect policies naming SA 2j by SPI, dport 1000+j
gen_policies() {
	awk -v n="$1" 'BEGIN {
		for (j = 0; j < n; j++) {
			i = 2 * j
			printf "policy add dir out src 172.16.0.1 dst 10.%d.%d.%d proto udp dport %d protect spi %d\n",
				int(i / 65536) % 256, int(i / 256) % 256, i % 256,
				1000 + j, 65536 + i
		}
	}'
}

# spis: the SPIs of the table, sorted, as a Python list
spis() {
	nf A -j sa list | jq_py 'sorted(s["spi"] for s in d)'
}

# expect_spis DESC FROM TO: the table holds exactly SAs FROM..TO-1
expect_spis() {
	expect_eq "$1" "$(jq_py "list(range(65536 + $2, 65536 + $3))" <<<'null')" \
		"$(spis)"
}

# run_batch: nfsec -b "$F" in A; sets rc and err (its stderr)
run_batch() {
	rc=0
	err=$(nf A -b "$F" 2>&1 >/dev/null) || rc=$?
}

log "5,000 SAs and 500 policies, many to a message"
{
	gen_sas 0 5000
	gen_policies 500
} >"$F"
check "nfsec -b: 5000 SAs, 500 policies" nf A -b "$F"
expect_eq "[sa_count, policy_count]" "[5000, 500]" "$(ns_counts A)"
expect_spis "the SPIs of the 5000 lines, each once" 0 5000
# every field of every SA as its line gives it: the mismatches
expect_eq "each SA as its line says: dir, src, dst, mode, algorithms, key, reqid, replay window" "[]" \
	"$(nf A -j --show-keys sa list | jq_py '[s["spi"] for s in d if (lambda i: (
		s["dir"], s["src"], s["dst"], s["mode"], s["enc"]["name"],
		s["auth"]["name"], s["auth"]["trunc_bits"], s["auth"]["key"],
		s.get("reqid", 0), s.get("replay_window") if i % 2 else None) != (
		"in" if i % 2 else "out", "172.16.0.1",
		"10.%d.%d.%d" % (i // 65536 % 256, i // 256 % 256, i % 256),
		"tunnel", "ecb(cipher_null)", "hmac(sha256)", 128,
		"0x" + "0" * 56 + "%08x" % i, 0 if i % 2 else i + 1,
		i % 4097 if i % 2 else None))(s["spi"] - 65536)]')"
expect_eq "policies: 500, dports 1000..1499 in order, each naming SA 2j" true \
	"$(nf A -j policy list | jq_py '[(p["dport"], p["sa"]["spi"]) for p in d] == [(1000 + j, 65536 + 2 * j) for j in range(500)]')"
check "policy flush" nf A policy flush
check "sa flush" nf A sa flush

log "a failing line in the middle of a message: line 150 of 300"
{
	gen_sas 0 149
	gen_sas 9 10 | sed 's/key 0*9 /key '"$(printf '%064x' 0xbad)"' /'
	gen_sas 150 300
} >"$F"
run_batch
expect_eq "exit 1" 1 "$rc"
expect_eq "the file, line 150 and the kernel's message" \
	"nfsec: $F:150: SA already exists (File exists)" "$err"
expect_spis "SAs of lines 1-149, none after" 0 149
expect_eq "SA 9, which line 150 duplicates, keeps its key" \
	"0x$(printf '%064x' 9)" \
	"$(nf A -j --show-keys sa get dst 10.0.0.9 spi $((65536 + 9)) proto esp | jq_py 'd["auth"]["key"]')"
check "sa flush" nf A sa flush

log "a failing line in a later message: line 1234 of 2000"
{
	gen_sas 0 1233
	gen_sas 0 1
	gen_sas 1234 2000
} >"$F"
run_batch
expect_eq "exit 1" 1 "$rc"
expect_eq "the file, line 1234 and the kernel's message" \
	"nfsec: $F:1234: SA already exists (File exists)" "$err"
expect_spis "SAs of lines 1-1233, none after" 0 1233
check "sa flush" nf A sa flush

log "an SA the kernel cannot make, in a later message: line 1500 of 3000"
# (SAs are made before their message runs in order; those of the lines
# after the failing one are made and then freed unused)
{
	gen_sas 0 1499
	gen_sas 1499 1500 | sed 's/replay-window [0-9]*$/replay-window 5000/'
	gen_sas 1500 3000
} >"$F"
run_batch
expect_eq "exit 1" 1 "$rc"
expect_eq "the file, line 1500 and the kernel's message" \
	"nfsec: $F:1500: replay window out of range (0-4096) (Invalid argument)" "$err"
expect_spis "SAs of lines 1-1499, none after" 0 1499
check "sa flush" nf A sa flush

log "an add, its update and a delete and re-add, in one message"
{
	gen_sas 0 40
	gen_sas 0 1 | sed 's/^sa add/sa update/; s/key 0*0 /key '"$(printf '%064x' 0xfeed)"' /'
	echo "sa del dst 10.0.0.1 spi $((65536 + 1)) proto esp"
	gen_sas 1 2 | sed 's/key 0*1 /key '"$(printf '%064x' 0xbeef)"' /'
	gen_sas 40 80
} >"$F"
check "nfsec -b: add, update, del and add again" nf A -b "$F"
expect_spis "the SAs of lines 1-40 and 44-83" 0 80
expect_eq "SA 0 has its update's key" "0x$(printf '%064x' 0xfeed)" \
	"$(nf A -j --show-keys sa get dst 10.0.0.0 spi 65536 proto esp | jq_py 'd["auth"]["key"]')"
expect_eq "SA 1 has its second add's key" "0x$(printf '%064x' 0xbeef)" \
	"$(nf A -j --show-keys sa get dst 10.0.0.1 spi 65537 proto esp | jq_py 'd["auth"]["key"]')"
check "sa flush" nf A sa flush

log "a failing first line: a replay window out of range"
{
	gen_sas 1 2 | sed 's/replay-window 1$/replay-window 5000/'
	gen_sas 2 300
} >"$F"
run_batch
expect_eq "exit 1" 1 "$rc"
expect_eq "the file, line 1 and the kernel's message" \
	"nfsec: $F:1: replay window out of range (0-4096) (Invalid argument)" "$err"
expect_eq "no SA at all" "[0, 0]" "$(ns_counts A)"

log "a failing last line: a policy naming an SA that does not exist"
{
	gen_sas 0 1999
	echo "policy add dir out src 172.16.0.1 dst 10.0.0.1 protect spi 0x5000"
} >"$F"
run_batch
expect_eq "exit 1" 1 "$rc"
expect_eq "the file, line 2000 and the kernel's message" \
	"nfsec: $F:2000: policy names an SA that does not exist (No such file or directory)" "$err"
expect_spis "SAs of lines 1-1999" 0 1999
expect_eq "no policy" "[1999, 0]" "$(ns_counts A)"
check "sa flush" nf A sa flush

log "a line after the failing one would fill an SPI reservation"
expect_eq "alloc-spi: 0x00012000 reserved" 0x00012000 \
	"$(nf A sa alloc-spi src 172.16.0.1 dst 10.0.32.0 proto esp min 0x12000 max 0x12000)"
{
	gen_sas 0 1
	gen_sas 0 1
	gen_sas 8192 8193
} >"$F"
run_batch
expect_eq "the file, line 2 and the kernel's message" \
	"nfsec: $F:2: SA already exists (File exists)" "$err"
expect_eq "the reservation is still larval" "larval" \
	"$(nf A -j sa get dst 10.0.32.0 spi 0x12000 proto esp | jq_py 'd["state"]')"
expect_eq "[SA 0 and the reservation, 0 policies]" "[2, 0]" "$(ns_counts A)"
check "sa flush" nf A sa flush

log "a line the tool refuses after 99 gathered adds"
{
	gen_sas 0 99
	gen_sas 99 100 | sed 's/spi [0-9]*/spi 0xzz/'
	gen_sas 100 200
} >"$F"
run_batch
expect_eq "exit 1" 1 "$rc"
expect_eq "the file, line 100 and the tool's message" \
	"nfsec: $F:100: invalid SPI: \"0xzz\"" "$err"
expect_spis "SAs of lines 1-99, none after" 0 99
check "sa flush" nf A sa flush

log "reads in a batch see the lines before them"
{
	gen_sas 0 1
	echo "sa get dst 10.0.0.0 spi 65536 proto esp"
	echo "sa del dst 10.0.0.0 spi 65536 proto esp"
	echo "sa get dst 10.0.0.0 spi 65536 proto esp"
	gen_sas 1 2
} >"$F"
rc=0
out=$(nf A -j -b "$F" 2>"$F.err") || rc=$?
err=$(<"$F.err")
rm -f "$F.err"
expect_eq "exit 1" 1 "$rc"
expect_eq "line 2 printed SA 0" 65536 "$(jq_py 'd["spi"]' <<<"$out")"
expect_eq "the file, line 4 and the kernel's message" \
	"nfsec: $F:4: no such SA (No such file or directory)" "$err"
expect_eq "no SA: line 3 deleted it, line 5 did not run" "[0, 0]" "$(ns_counts A)"

log "events: one per line applied"
run_bg A "$NFSEC" monitor >"$F.mon" 2>&1
mon_pid=$BG_PID
check "nfsec monitor listens" wait_for "monitor" 15 monitor_ready A "$F.mon"
{
	gen_sas 0 49
	gen_sas 0 1
	gen_sas 50 100
} >"$F"
run_batch
expect_eq "the file, line 50 and the kernel's message" \
	"nfsec: $F:50: SA already exists (File exists)" "$err"
check "a marker SA" nf A sa add dir out src 172.16.0.1 dst 10.0.1.0 \
	spi 0x7777 proto esp mode tunnel enc null auth hmac-sha256-128 \
	key "$(printf '%064x' 1)"
check "the monitor saw the marker" wait_for "marker" 15 file_has "$F.mon" "spi 0x00007777"
kill "$mon_pid" 2>/dev/null
wait "$mon_pid" 2>/dev/null
# the adds after monitor_ready's and before the marker
want=$(printf '0x%08x ' $(seq 65536 65584))
got=
while IFS= read -r l; do
	[[ $l == "sa add "* && $l =~ \ spi\ (0x[0-9a-f]+) ]] || continue
	case ${BASH_REMATCH[1]} in
	0x00000999 | 0x00007777) ;;
	*) got+="${BASH_REMATCH[1]} " ;;
	esac
done <"$F.mon"
expect_eq "49 SA add events, the SPIs of lines 1-49" "$want" "$got"
check "sa flush" nf A sa flush

# A batch file that ends in monitor: the lines before it reach the kernel
# before monitor starts listening (monitor does not return to flush them).
printf 'sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x5151 proto esp mode transport aead aes-gcm-128 key %s\nmonitor\n' \
	"$KEY1" >"$F.mon-batch"
on A timeout 3 "$NFSEC" -b "$F.mon-batch" >/dev/null 2>&1 || true
expect_eq "an add before monitor in a batch file was applied" 0x00005151 \
	"$(nf A -j sa list | jq_py '" ".join("0x%08x" % s["spi"] for s in d)')"
check "sa flush" nf A sa flush

t_end
