#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC2016,SC2317 # single quotes on purpose; helpers run via check/wait_for
#
# 14-netns.sh: privilege and network namespace boundaries.
#
# - An unprivileged user (uid 65534, no capabilities) is refused every
#   command, read or write, with "Operation not permitted", and changes
#   nothing. Root inside a new user namespace is refused in a namespace it
#   does not own, and allowed in a network namespace its user namespace
#   owns (CAP_NET_ADMIN is checked against the netns' owner).
# - SAs and policies of one namespace are invisible to and independent of
#   another: same (dst, spi, proto) in both, del and flush stay local.
# - Deleting a namespace that holds 1000 SAs and 100 policies frees them:
#   the active objects of the "nfsec_sa" kmem_cache (the VM boots with
#   slab_nomerge, so the cache is ours alone) drop back to their value
#   before the namespace existed.
# - rmmod succeeds with SAs and policies still in A and B, the cache is
#   gone after it (a leaked SA would keep it and make the kernel warn), and
#   a reload starts empty.
#
#   A, B: state only, no links.   C: created and deleted here.

. "${0%/*}/lib.sh"
. "${0%/*}/lib_net.sh"

ns_enter netns A B			# the rest runs in namespace A

# slab_active: active objects of kmem_cache nfsec_sa, 0 when there is none.
# SLUB counts objects freed into per-CPU slabs as active until the cache is
# shrunk, so shrink it first.
slab_active() {
	if [ -w /sys/kernel/slab/nfsec_sa/shrink ]; then
		echo 1 >/sys/kernel/slab/nfsec_sa/shrink 2>/dev/null
	fi
	local name active _
	while read -r name active _; do
		if [ "$name" = nfsec_sa ]; then
			echo "$active"
			return
		fi
	done </proc/slabinfo
	echo 0
}
slab_exists() {
	local name _
	while read -r name _; do
		if [ "$name" = nfsec_sa ]; then
			echo yes
			return
		fi
	done </proc/slabinfo
	echo no
}
slab_at_most() { [ "$(slab_active)" -le "$1" ]; }

K=$(printf '%040x' 1)
GCM=(aead aes-gcm-128 key "$K")

log "unprivileged user: Operation not permitted"
check "A: SA out 0x1000" nf A sa add dir out src 10.0.0.1 dst 10.0.0.2 \
	spi 0x1000 proto esp mode tunnel "${GCM[@]}"
check "A: policy" nf A policy add dir out src 192.168.1.0/24 \
	dst 192.168.2.0/24 protect spi 0x1000 dst 10.0.0.2
before=$(nf A -j --show-keys sa list; nf A -j policy list)
# a copy any user can run, wherever the work tree is
tool=$(mktemp /tmp/nfsec-tool.XXXXXX)
cp "$NFSEC" "$tool" && chmod 755 "$tool"
nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$tool" "$@"
}
expect_eq "setpriv runs as uid 65534 without capabilities" "65534 0000000000000000" \
	"$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		sh -c 'echo "$(id -u) $(awk "/^CapEff/ {print \$2}" /proc/self/status)"')"
expect_fail "nobody: sa add" "Operation not permitted" \
	nobody sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x1001 proto esp \
	mode tunnel "${GCM[@]}"
expect_fail "nobody: sa list" "Operation not permitted" nobody sa list
expect_fail "nobody: sa get" "Operation not permitted" \
	nobody sa get dst 10.0.0.2 spi 0x1000 proto esp
expect_fail "nobody: sa del" "Operation not permitted" \
	nobody sa del dst 10.0.0.2 spi 0x1000 proto esp
expect_fail "nobody: sa flush" "Operation not permitted" nobody sa flush
expect_fail "nobody: policy add" "Operation not permitted" \
	nobody policy add dir out src 0.0.0.0/0 dst any bypass
expect_fail "nobody: policy list" "Operation not permitted" nobody policy list
expect_fail "nobody: policy flush" "Operation not permitted" nobody policy flush
expect_fail "nobody: stats" "Operation not permitted" nobody stats
expect_eq "nothing changed for nobody" "$before" \
	"$(nf A -j --show-keys sa list; nf A -j policy list)"

log "user namespaces: CAP_NET_ADMIN over the netns' owner"
if unshare --user --map-root-user true 2>/dev/null; then
	expect_fail "root of a new userns, in A (owned by the initial userns)" \
		"Operation not permitted" \
		unshare --user --map-root-user "$tool" sa list
	expect_fail "... sa add there" "Operation not permitted" \
		unshare --user --map-root-user "$tool" sa add dir out \
		src 10.0.0.1 dst 10.0.0.2 spi 0x1002 proto esp mode tunnel "${GCM[@]}"
	expect_eq "root of a new userns, in its own new netns: add + count" "1" \
		"$(unshare --user --map-root-user --net sh -c '
			"$0" sa add dir out src 10.0.0.1 dst 10.0.0.2 spi 0x1003 \
				proto esp mode tunnel aead aes-gcm-128 key "$1" &&
			"$0" -j stats' "$tool" "$K" | jq_py 'd["sa_count"]')"
	expect_eq "nothing changed in A" "$before" \
		"$(nf A -j --show-keys sa list; nf A -j policy list)"
else
	skip "user namespace cases" "unshare --user does not work here"
fi
rm -f "$tool"

log "isolation between A and B"
expect_eq "B: empty while A has an SA and a policy" "[0, 0] [] []" \
	"$(ns_counts B) $(nf B -j sa list | jq_py d) $(nf B -j policy list | jq_py d)"
expect_fail "B: A's SA is not there" "no such SA" \
	nf B sa get dst 10.0.0.2 spi 0x1000 proto esp
K2=$(printf '%040x' 2)
check "B: the same dst/spi/proto, another key" nf B sa add dir out \
	src 10.0.0.1 dst 10.0.0.2 spi 0x1000 proto esp mode tunnel \
	aead aes-gcm-128 key "$K2"
expect_eq "A keeps its key" "0x$K" \
	"$(nf A -j --show-keys sa get dst 10.0.0.2 spi 0x1000 proto esp | jq_py 'd["aead"]["key"]')"
expect_eq "B has its own key" "0x$K2" \
	"$(nf B -j --show-keys sa get dst 10.0.0.2 spi 0x1000 proto esp | jq_py 'd["aead"]["key"]')"
check "B: the same policy" nf B policy add dir out src 192.168.1.0/24 \
	dst 192.168.2.0/24 protect spi 0x1000 dst 10.0.0.2
expect_eq "A [1, 1], B [1, 1]" "[1, 1] [1, 1]" "$(ns_counts A) $(ns_counts B)"
check "B: sa del" nf B sa del dst 10.0.0.2 spi 0x1000 proto esp
expect_eq "A's SA survives B's del" 4096 \
	"$(nf A -j sa get dst 10.0.0.2 spi 0x1000 proto esp | jq_py 'd["spi"]')"
check "B: policy flush" nf B policy flush
expect_eq "A [1, 1], B [0, 0] after B's del and flush" "[1, 1] [0, 0]" \
	"$(ns_counts A) $(ns_counts B)"
check "B: SA 0x2000" nf B sa add dir in src 10.0.0.2 dst 10.0.0.1 \
	spi 0x2000 proto esp mode tunnel "${GCM[@]}"
check "B: policy" nf B policy add dir in src 192.168.2.0/24 \
	dst 192.168.1.0/24 protect spi 0x2000 dst 10.0.0.1
check "A: sa flush" nf A sa flush
expect_eq "B's SA survives A's flush" "[0, 1] [1, 1]" "$(ns_counts A) $(ns_counts B)"

log "deleting a namespace with 1000 SAs and 100 policies frees them"
pre=$(slab_active)
log "nfsec_sa active objects before: $pre"
C="gone-${NFSEC_NS_SUFFIX:-nfst$$}"	# run_all removes it if we die
batch=$(mktemp /tmp/nfsec-netns.XXXXXX)
dirs=(out in)
for ((i = 0; i < 1000; i++)); do
	# SA i: 10.1.x.y > 10.2.x.y, out for even i, in for odd
	printf 'sa add dir %s src 10.1.%d.%d dst 10.2.%d.%d spi %d proto esp mode tunnel aead aes-gcm-128 key %s\n' \
		"${dirs[i % 2]}" $((i / 250)) $((i % 250 + 1)) $((i / 250)) \
		$((i % 250 + 1)) $((0x10000 + i)) "$K"
done >"$batch"
for ((i = 0; i < 100; i++)); do
	# out policies naming the out SAs (even i), host to host
	printf 'policy add dir out src 10.1.%d.%d dst 10.2.%d.%d protect spi %d\n' \
		$((2 * i / 250)) $((2 * i % 250 + 1)) $((2 * i / 250)) \
		$((2 * i % 250 + 1)) $((0x10000 + 2 * i))
done >>"$batch"
if ip netns add "$C"; then
	T_NS[C]=$C
	t0=$EPOCHREALTIME
	check "C: batch of 1000 SAs + 100 policies" nf C -b "$batch"
	log "C: batch took $(elapsed "$t0")"
	expect_eq "C: [sa_count, policy_count]" "[1000, 100]" "$(ns_counts C)"
	mid=$(slab_active)
	log "nfsec_sa active objects with C: $mid"
	expect_eq "C's SAs are nfsec_sa objects (at least 1000 more than before)" True \
		"$([ "$mid" -ge $((pre + 1000)) ] && echo True || echo "False ($pre -> $mid)")"
	check "ip netns del C" ip netns del "$C"
	unset "T_NS[C]"
	t0=$EPOCHREALTIME
	check "nfsec_sa active objects back to $pre after ip netns del" \
		wait_for "nfsec_sa objects back to $pre" 60 slab_at_most "$pre"
	log "nfsec_sa active objects $(slab_active) after $(elapsed "$t0")"
else
	not_ok "ip netns add $C"
fi
rm -f "$batch"
expect_eq "A and B untouched by C's life and death" "[0, 1] [1, 1]" \
	"$(ns_counts A) $(ns_counts B)"

log "rmmod with SAs and policies present in A and B"
check "A: an SA again" nf A sa add dir out src 10.0.0.1 dst 10.0.0.2 \
	spi 0x1000 proto esp mode tunnel "${GCM[@]}"
if module_unload; then
	ok "rmmod nfsec with state in two namespaces"
else
	not_ok "rmmod nfsec with state in two namespaces"
fi
expect_eq "module gone" no "$([ -d /sys/module/nfsec ] && echo yes || echo no)"
expect_eq "kmem_cache nfsec_sa destroyed (no leaked SA keeps it)" no "$(slab_exists)"
module_load
expect_eq "reloaded module: A starts empty" "[0, 0]" "$(ns_counts A)"
expect_eq "reloaded module: B starts empty" "[0, 0]" "$(ns_counts B)"

t_end
