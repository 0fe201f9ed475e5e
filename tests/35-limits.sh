#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 35-limits.sh: the hard limits on a namespace's state (module parameters
# sa_max, larval_max, policy_max), set low for the test through
# /sys/module/nfsec/parameters and restored at the end, whatever happens.
#
#   a 10.0.0.1 veth0 ---- veth1 10.0.0.2 b        (transport ESP, aes-gcm-128)
#
# With sa_max 5, larval_max 2, policy_max 4, a starts with an SA pair and
# its two policies, and 3 pings a -> b pass. Then:
# 1. SAs: two more SAs and one larval entry make 5; the sixth sa add and
#    an alloc-spi are refused "too many SAs in this namespace (limit 5)",
#    and the table is exactly what it was (SPIs, counts). At the limit an
#    sa update and the fill of the larval entry (which add nothing) pass.
# 2. Larval entries: with sa_max 10, two reservations pass and the third
#    is refused "too many larval SPIs in this namespace (limit 2)".
# 3. Policies: two more make 4; the fifth is refused "too many policies
#    in this namespace (limit 4)", the list is what it was; a policy
#    update at the limit passes.
# 4. After every refusal, traffic through the first SA pair still flows:
#    3 more pings, exact counts on both sides (6 each way).
# 5. An unprivileged user (uid 65534) in a user and network namespace of
#    its own (unshare -Urn) meets the same limits: the sixth SA, an
#    alloc-spi and the fifth policy are refused with the same messages; it
#    cannot write the parameters (Permission denied), which keep their
#    values.
# 6. A limit of 0 is no limit; a parameter takes only a number.
# 7. What the state costs (logged, for Documentation/netlink.md, Limits):
#    Slab + Percpu of /proc/meminfo before and after 2000 aes-gcm-128 SAs,
#    2000 larval entries, 2000 policies in a namespace of their own.
# 8. Memory cgroups: 400 outbound tunnel SAs added from a memory cgroup of
#    their own, then a packet through each from the root cgroup: the
#    route caches the packets make are charged to the adder's cgroup.
set -e
. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"
ns_enter limits a b	# the rest runs in namespace a

TMP=$(mktemp -d)
P=/sys/module/nfsec/parameters
declare -A saved=()
for k in sa_max larval_max policy_max; do
	saved[$k]=$(<"$P/$k")
done
restore() {
	local k
	for k in "${!saved[@]}"; do
		echo "${saved[$k]}" >"$P/$k" 2>/dev/null || true
	done
}
trap 'rc=$?; restore; (exit $rc); _t_exit' EXIT
limits() {	# limits SA LARVAL POLICY
	echo "$1" >$P/sa_max && echo "$2" >$P/larval_max &&
	echo "$3" >$P/policy_max
}
log "defaults: sa_max ${saved[sa_max]}, larval_max ${saved[larval_max]}, policy_max ${saved[policy_max]}"
expect_eq "the defaults" "262144 16384 65536" \
	"${saved[sa_max]} ${saved[larval_max]} ${saved[policy_max]}"

link a veth0 10.0.0.1/24 b veth1 10.0.0.2/24
A=10.0.0.1 B=10.0.0.2
check "a: SAs and policies" esp_pair a transport 0x1001 0x1002 \
	"$KEY1" "$KEY2" $A $B
check "b: SAs and policies" esp_pair b transport 0x1002 0x1001 \
	"$KEY2" "$KEY1" $B $A
check "limits: sa_max 5, larval_max 2, policy_max 4" limits 5 2 4
check "ping a -> b, 3 of 3" ping -c 3 -i 0.2 -W 2 $B

counts() {	# counts: "sa_count larval_count policy_count" of a
	nf a -j stats |
		jq_py '"%d %d %d" % (d["sa_count"], d["larval_count"], d["policy_count"])'
}
spis() {	# spis: a's table entries, "SPI:state" sorted
	nf a -j sa list | jq_py '" ".join(sorted("%#x:%s" % (s["spi"], s["state"]) for s in d))'
}
gcm() {		# gcm SPI [add|update]: an inbound SA of a's from 10.0.0.9
	nf a sa "${2:-add}" dir in src 10.0.0.9 dst $A spi "$1" proto esp \
		mode transport aead aes-gcm-128 key "$KEY3"
}

log "1. SAs: 5 with one larval entry, then refused"
check "a: SA 0x2001" gcm 0x2001
check "a: SA 0x2002" gcm 0x2002
larval=$(nf a sa alloc-spi src 10.0.0.9 dst $A proto esp min 0x3000 max 0x3000)
expect_eq "a: a larval entry, 0x3000" 0x00003000 "$larval"
before=$(spis)
expect_eq "a: 5 entries, 1 larval, 2 policies" "5 1 2" "$(counts)"
expect_fail "a: the sixth SA" "too many SAs in this namespace \(limit 5\)" \
	gcm 0x2003
expect_fail "a: alloc-spi at the SA limit" \
	"too many SAs in this namespace \(limit 5\)" \
	nf a sa alloc-spi src 10.0.0.9 dst $A proto esp
expect_fail "a: an SA that exists, at the SA limit: it exists" \
	"^nfsec: SA already exists \\(File exists\\)$" gcm 0x2001
expect_eq "a: the table as it was" "$before" "$(spis)"
expect_eq "a: 5 entries, 1 larval, 2 policies" "5 1 2" "$(counts)"
check "a: sa update at the limit" gcm 0x2001 update
check "a: the larval entry filled in at the limit (sa add)" gcm 0x3000
expect_eq "a: 5 entries, 0 larval" "5 0 2" "$(counts)"

log "2. larval entries: 2, then refused"
check "a: sa_max 10" limits 10 2 4
# (600 s: they must outlive the test, which counts them to the end)
check "a: a reservation" nf a sa alloc-spi src 10.0.0.9 dst $A proto esp timeout 600
check "a: another" nf a sa alloc-spi src 10.0.0.9 dst $A proto esp timeout 600
before=$(spis)
expect_fail "a: the third reservation" \
	"too many larval SPIs in this namespace \(limit 2\)" \
	nf a sa alloc-spi src 10.0.0.9 dst $A proto esp
expect_eq "a: the table as it was" "$before" "$(spis)"
expect_eq "a: 7 entries, 2 larval" "7 2 2" "$(counts)"

log "3. policies: 4, then refused"
check "a: policy 3" nf a policy add dir out src $A dst 10.0.0.7 bypass
check "a: policy 4" nf a policy add dir out src $A dst 10.0.0.8 bypass
pols=$(nf a -j policy list | jq_py d)
expect_fail "a: the fifth policy" \
	"too many policies in this namespace \(limit 4\)" \
	nf a policy add dir out src $A dst 10.0.0.9 discard
expect_eq "a: the policies as they were" "$pols" "$(nf a -j policy list | jq_py d)"
check "a: policy update at the limit" \
	nf a policy update dir out src $A dst 10.0.0.8 discard
expect_eq "a: 7 entries, 2 larval, 4 policies" "7 2 4" "$(counts)"

log "4. traffic through the first pair still flows"
check "ping a -> b, 3 of 3" ping -c 3 -i 0.2 -W 2 $B
expect_stats "a: out 0x1001 sent 6" a 0x1001 "bytes=504 packets=6"
expect_stats "b: in 0x1001 accepted 6" b 0x1001 "bytes=504 packets=6"
expect_stats "b: out 0x1002 sent 6" b 0x1002 "bytes=504 packets=6"
expect_stats "a: in 0x1002 accepted 6" a 0x1002 "bytes=504 packets=6"
expect_eq "a: no drops" "" "$(ns_stats a)"

log "5. an unprivileged user in its own user and network namespace"
check "limits 5 2 4 again" limits 5 2 4
tool=$(mktemp /tmp/nfsec-tool.XXXXXX)
cp "$NFSEC" "$tool" && chmod 755 "$tool"
cat >"$TMP/userns.sh" <<'EOF'
t=$1 k=$2
for i in 1 2 3 4 5 6; do
	"$t" sa add dir in src 10.0.0.9 dst 10.0.0.1 spi $((0x100 + i)) \
		proto esp mode transport aead aes-gcm-128 key "$k" 2>&1 || true
done
"$t" sa alloc-spi src 10.0.0.9 dst 10.0.0.1 proto esp 2>&1 || true
for i in 1 2 3 4 5; do
	"$t" policy add dir out src 10.0.0.1 dst 10.1.0.$i bypass 2>&1 || true
done
echo 1000 2>&1 >/sys/module/nfsec/parameters/sa_max | sed 's/.*: //' || true
"$t" -j stats
EOF
chmod 644 "$TMP/userns.sh"
if as_nobody_userns true 2>/dev/null; then
	out=$(as_nobody_userns bash -s "$tool" "$KEY3" \
		<"$TMP/userns.sh" 2>&1) || true
	lines=()
	mapfile -t lines <<<"$out"
	expect_eq "userns: the sixth SA refused" \
		"nfsec: too many SAs in this namespace (limit 5) (No space left on device)" \
		"${lines[0]}"
	expect_eq "userns: alloc-spi refused" \
		"nfsec: too many SAs in this namespace (limit 5) (No space left on device)" \
		"${lines[1]}"
	expect_eq "userns: the fifth policy refused" \
		"nfsec: too many policies in this namespace (limit 4) (No space left on device)" \
		"${lines[2]}"
	expect_eq "userns: the parameter cannot be written" \
		"Permission denied" "${lines[3]}"
	expect_eq "userns: 5 SAs, 4 policies" "5 4" \
		"$(printf '%s\n' "${lines[@]:4}" | jq_py '"%d %d" % (d["sa_count"], d["policy_count"])')"
	expect_eq "the parameters kept their values" "5 2 4" \
		"$(<$P/sa_max) $(<$P/larval_max) $(<$P/policy_max)"
else
	skip "user namespace cases" "unshare -Urn does not work for uid 65534 here"
fi
rm -f "$tool"

log "6. 0 is no limit; only numbers"
check "a: sa_max 0" limits 0 2 4
check "a: an SA beyond 5" gcm 0x2003
expect_eq "a: 8 entries" "8 2 4" "$(counts)"
expect_fail "sa_max takes a number" "Invalid argument" \
	bash -c "echo lots >$P/sa_max"
expect_eq "sa_max still 0" 0 "$(<$P/sa_max)"
restore
expect_eq "the defaults restored" "262144 16384 65536" \
	"$(<$P/sa_max) $(<$P/larval_max) $(<$P/policy_max)"

log "7. what the state costs, 2000 of each in a namespace of their own"
mem() {	# Slab + Percpu, kB
	local k v _ s=0
	while read -r k v _; do
		case $k in Slab: | Percpu:) s=$((s + v)) ;; esac
	done </proc/meminfo
	echo "$s"
}
c=limits-c-$$
ip netns add $c
for i in $(seq 2000); do
	echo "sa add dir in src 10.0.0.9 dst 10.0.0.1 spi $((0x10000 + i)) proto esp mode tunnel aead aes-gcm-128 key $KEY1"
done >"$TMP/sas"
for i in $(seq 2000); do
	echo "sa alloc-spi src 10.0.0.9 dst 10.0.0.2 proto esp timeout 600"
done >"$TMP/larval"
for i in $(seq 2000); do
	echo "policy add dir out src 10.1.$((i / 256)).$((i % 256)) dst 10.2.0.0/16 bypass"
done >"$TMP/pols"
for what in sas larval pols; do
	m0=$(mem)
	ip netns exec $c "$NFSEC" -b "$TMP/$what" >/dev/null
	m1=$(mem)
	log "$what: $(((m1 - m0) * 1024 / 2000)) bytes each (Slab + Percpu, $(nproc) CPUs)"
done
expect_eq "the namespace holds them" "4000 2000 2000" \
	"$(ip netns exec $c "$NFSEC" -j stats | jq_py '"%d %d %d" % (d["sa_count"], d["larval_count"], d["policy_count"])')"
ip netns del $c

log "8. memory cgroups: what an adder's state costs is the adder's"
# An outbound tunnel SA's route cache is made with its first packet, in
# whatever task or softirq sends it, but charged to the memory cgroup of
# the task that added the SA: 400 SAs added from cgroup adder, then one
# packet through each sent from the root cgroup; adder's percpu grows by
# at least 32 bytes a possible CPU an SA (a struct dst_cache_pcpu is 40).
cg=$TMP/cgroup
possible=$(awk -F- '{ print ($2 == "" ? $1 : $2) + 1 }' \
	/sys/devices/system/cpu/possible)
percpu() {	# the adder cgroup's percpu bytes, after its stats are flushed
	sleep 2.5	# (the kernel flushes memory cgroup stats every 2 s)
	awk '$1 == "percpu" { print $2 }' "$cg/adder/memory.stat"
}
mkdir "$cg"
if mount -t cgroup2 none "$cg" 2>/dev/null &&
	echo +memory >"$cg/cgroup.subtree_control" 2>/dev/null &&
	mkdir "$cg/adder"; then
	ip netns add $c
	ip -n $c link add dummy0 type dummy
	ip -n $c addr add 10.9.0.1/16 dev dummy0
	ip -n $c link set dummy0 up
	ip -n $c route add 10.50.0.0/16 dev dummy0
	for i in $(seq 0 399); do
		echo "sa add dir out src 10.9.0.1 dst 10.9.$((1 + i / 200)).$((1 + i % 200)) spi $((0x30000 + i)) proto esp mode tunnel aead aes-gcm-128 key $KEY1"
		echo "policy add dir out src any dst 10.50.$((i / 200)).$((1 + i % 200))/32 protect spi $((0x30000 + i)) dst 10.9.$((1 + i / 200)).$((1 + i % 200))"
	done >"$TMP/tunnels"
	check "adder: 400 tunnel SAs and their policies" bash -c \
		'echo $$ >"$1/adder/cgroup.procs" && exec ip netns exec "$2" "$3" -b "$4"' \
		adder "$cg" $c "$NFSEC" "$TMP/tunnels"
	p0=$(percpu)
	check "root cgroup: one UDP packet through each" ip netns exec $c \
		python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(400):
    s.sendto(b"x", ("10.50.%d.%d" % (i // 200, 1 + i % 200), 9))'
	expect_eq "each SA sent 1 packet" "400 1" \
		"$(ip netns exec $c "$NFSEC" -j sa list | jq_py '"%d %s" % (len(d), sorted(set(s["stats"]["packets"] for s in d)))' | tr -d '[]')"
	p1=$(percpu)
	log "adder's percpu: $p0 bytes after the adds, $p1 after the packets ($possible possible CPUs)"
	expect_eq "the route caches are charged to adder" yes \
		"$( [ $((p1 - p0)) -ge $((400 * 32 * possible)) ] && echo yes || echo "no: $((p1 - p0)) bytes")"
	ip netns del $c
	rmdir "$cg/adder"
	umount "$cg"
else
	# (a kernel without the memory controller still mounts cgroup2)
	! mountpoint -q "$cg" || umount "$cg"
	skip "memory cgroup cases" "no cgroup2 memory controller here"
fi

rm -rf "$TMP"
t_end
