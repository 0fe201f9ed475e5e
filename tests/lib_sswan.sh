# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # variables are for the tests
#
# strongSwan in the scenario tests, sourced after lib.sh and lib_net.sh:
# one charon per namespace (Debian's charon-systemd, run by hand: no
# systemd in the VM), its own strongswan.conf (STRONGSWAN_CONF), vici
# socket and log under $SSWAN_DIR/NS, configured with swanctl.
#
#   sswan_plugin || { skip ...; t_end; }
#   sswan_start ga nfsec    # kernel-nfsec takes kernel-ipsec (load = 10)
#   sswan_start gb xfrm     # kernel-netlink, Linux XFRM
#   sswan_conf ga <<EOF ... EOF   # swanctl.conf, loaded with --load-all
#   check "ga: initiate" sw ga --initiate --child net
#   sswan_stop ga gb

SSWAN_DIR=${SSWAN_DIR:-/tmp/nfsec-sswan}
SSWAN_PLUGIN=$NFSEC_ROOT/tools/strongswan/libstrongswan-kernel-nfsec.so
SSWAN_PLUGINDIR=/usr/lib/ipsec/plugins
declare -A SSWAN_PID=()

# sswan_plugin: put the plugin built in tools/strongswan in charon's plugin
# directory (in the VM that is the tmpfs overlay, not the host) unless the
# same file is there.
sswan_plugin() {
	[ -x /usr/sbin/charon-systemd ] && [ -f "$SSWAN_PLUGIN" ] || return 1
	cmp -s "$SSWAN_PLUGIN" "$SSWAN_PLUGINDIR/${SSWAN_PLUGIN##*/}" ||
		install -m 0644 "$SSWAN_PLUGIN" "$SSWAN_PLUGINDIR/"
}

# sswan_start NS KERNEL [EXTRA]: charon in NS with kernel-ipsec from
# KERNEL (nfsec: the plugin with its shipped kernel-nfsec.conf; xfrm:
# kernel-netlink), EXTRA inside the charon section; waits for its vici
# socket. The log (default 1, knl 2) is $SSWAN_DIR/NS/charon.log.
# SSWAN_ROUTES=yes: charon installs its source routes (table 220).
sswan_start() {
	local ns=$1 kernel=$2 extra=${3:-} dir=$SSWAN_DIR/$1 knl
	mkdir -p "$dir"/{x509,x509ca,private}
	rm -f "$dir/charon.vici" "$dir/charon.log"
	knl="kernel-nfsec { load = no }"
	[ "$kernel" = nfsec ] && knl="include $NFSEC_ROOT/tools/strongswan/kernel-nfsec.conf"
	cat >"$dir/strongswan.conf" <<-EOF
		charon {
			load_modular = yes
			plugins {
				include /etc/strongswan.d/charon/*.conf
				$knl
				vici {
					socket = unix://$dir/charon.vici
				}
			}
			filelog {
				log {
					path = $dir/charon.log
					time_format = %T
					flush_line = yes
					default = 1
					knl = 2
				}
			}
			install_routes = ${SSWAN_ROUTES:-no}
			retransmit_base = 1.4
			retransmit_timeout = 2
			$extra
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
	run_bg "$ns" env STRONGSWAN_CONF="$dir/strongswan.conf" \
		/usr/sbin/charon-systemd >"$dir/stdout" 2>&1
	SSWAN_PID[$ns]=$BG_PID
	wait_for "charon in $ns" 30 test -S "$dir/charon.vici"
}

# sw NS ARGS...: swanctl ARGS talking to NS's charon.
sw() {
	local ns=$1
	shift
	STRONGSWAN_CONF=$SSWAN_DIR/$ns/strongswan.conf \
		swanctl "$@" --uri "unix://$SSWAN_DIR/$ns/charon.vici"
}

# sswan_conf NS: swanctl.conf for NS from stdin, loaded (conns, secrets).
sswan_conf() {
	local dir=$SSWAN_DIR/$1
	cat >"$dir/swanctl.conf"
	SWANCTL_DIR=$dir sw "$1" --load-all --noprompt --file "$dir/swanctl.conf"
}

# sswan_log NS PATTERN: NS's charon log has a line matching the ERE.
sswan_log() {
	local s
	s=$(<"$SSWAN_DIR/$1/charon.log") || return 1
	[[ $s =~ $2 ]]
}

# sswan_stop NS...: stop those charons (SIGTERM; charon deletes its SAs
# and policies on the way out).
sswan_stop() {
	local ns pid
	for ns; do
		pid=${SSWAN_PID[$ns]:-}
		[ -n "$pid" ] || continue
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		unset "SSWAN_PID[$ns]"
	done
}

# sswan_tail NS [N]: the last N (30) lines of NS's charon log, as "# ".
sswan_tail() {
	tail -n "${2:-30}" "$SSWAN_DIR/$1/charon.log" 2>/dev/null | sed 's/^/# /'
}

# sa_pair_stats NS: "out: COUNTERS; in: COUNTERS" of NS's two SAs (one
# each way), the non-zero counters as sa_stats gives them.
sa_pair_stats() {
	nf "$1" -j sa list | jq_py '"; ".join("%s: %s" % (s["dir"], nonzero(s["stats"]))
		for s in sorted(d, key=lambda s: s["dir"] != "out")
		if s.get("state", "valid") == "valid")'
}
