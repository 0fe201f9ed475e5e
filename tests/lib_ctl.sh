# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers for the control-plane tests (10-15), sourced after lib.sh.
#
# Under TCG every program start is dear: the nfsec tool about 0.2 s,
# grep/sed/awk about 0.5 s, `ip netns exec` about 0.6 s, python3 1-2 s. So
# these scripts
#  - run their body inside their main namespace (ctl_enter), where the
#    nfsec tool is a plain command, not `ip netns exec NS nfsec`, and run
#    commands in another namespace through one shell there (ns_shell, on);
#  - evaluate JSON with jq_py, served by ONE python3 for the whole script;
#  - compare and match text with bash itself ([[ ]], read, printf -v).
#
#   . "${0%/*}/lib.sh"
#   . "${0%/*}/lib_ctl.sh"
#   ctl_enter sa A B
#   # from here on: t_begin done, the module loaded, namespaces A and B
#   # exist, this shell runs in A; $NS_B is B's real name
#   nf() { "$NFSEC" "$@"; }
#   ns_shell B; nfb() { on B "$NFSEC" "$@"; }
#   expect_eq "count" 1 "$(nf -j stats | jq_py 'd["sa_count"]')"

# ctl_enter TEST NS...: t_begin TEST, create namespaces NS..., and run the
# rest of this script inside the first one (the script runs again, there;
# this first run only waits, passes its exit status on and removes the
# namespaces). Inside, NS_<name> holds each namespace's real name.
ctl_enter() {
	local test=$1 name rc
	shift
	if [ -n "${CTL_INSIDE:-}" ]; then
		for name in "$@"; do
			printf -v "NS_$name" '%s' "$name-$T_SUFFIX"
		done
		t_begin "$test"
		_jq_start
		return 0
	fi
	trap ns_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	module_load
	if ! ns_create "$@"; then
		t_begin "$test"
		not_ok "create namespaces $*"
		t_end
	fi
	CTL_INSIDE=1 NFSEC_NS_SUFFIX=$T_SUFFIX n "$1" bash "$0"
	rc=$?
	exit "$rc"
}

# --- commands in the other namespaces ---------------------------------------

# The server: requests are argument lists, each argument NUL-terminated,
# then one more NUL; it runs the command (stdin /dev/null) and answers
# with its stdout, its stderr and its exit status, each NUL-terminated.
# shellcheck disable=SC2016 # expanded by the server
_CTL_SHELL='
o=/tmp/nfsec-ctl-$$.out e=/tmp/nfsec-ctl-$$.err
trap "rm -f $o $e" EXIT
while :; do
	args=()
	while IFS= read -r -d "" a; do
		[ -n "$a" ] || break
		args+=("$a")
	done
	[ ${#args[@]} -gt 0 ] || exit 0
	"${args[@]}" >"$o" 2>"$e" </dev/null
	rc=$?
	out= err=
	IFS= read -r -d "" out <"$o"
	IFS= read -r -d "" err <"$e"
	printf "%s\0%s\0%d\0" "$out" "$err" "$rc"
done'

# ns_shell NAME: start a shell in namespace NAME (one of ctl_enter's) that
# runs what `on NAME` sends it: one `ip netns exec` for the whole script.
ns_shell() {
	local real=NS_$1
	ctl_coproc "SH_$1" ip netns exec "${!real}" bash -c "$_CTL_SHELL"
}

# on NAME CMD...: run CMD (a program) in namespace NAME through its
# ns_shell: CMD's stdout, stderr and exit status. Not re-entrant.
on() {
	local to=SH_${1}_TO from=SH_${1}_FROM out='' err='' rc=''
	shift
	printf '%s\0' "$@" >&"${!to}"
	printf '\0' >&"${!to}"
	IFS= read -r -d '' -u "${!from}" out
	IFS= read -r -d '' -u "${!from}" err
	IFS= read -r -d '' -u "${!from}" rc
	printf '%s' "$out"
	printf '%s' "$err" >&2
	return "${rc:-255}"
}

# --- JSON -------------------------------------------------------------------

# The server: requests are NUL-terminated triples EXPR, ARG, FILE; it
# evaluates EXPR with d = the JSON document read from FILE, a = ARG, and
# answers with the result, NUL-terminated: strings bare, everything else
# as canonical JSON (sorted keys); "<EXPR failed: ...>" when that fails.
# FILE may hold several documents (a batch of reads): then docs is their
# list and d is None.
_JQ_SERVER='
import json, os, sys

def answer(expr, arg, path):
    try:
        with open(path, "rb") as f:
            text = f.read().decode()
    except Exception as e:
        return "<cannot read the input: %s>" % e
    try:
        docs, i, dec = [], 0, json.JSONDecoder()
        while True:
            while i < len(text) and text[i].isspace():
                i += 1
            if i == len(text) and docs:
                break
            doc, i = dec.raw_decode(text, i)
            docs.append(doc)
        d = docs[0] if len(docs) == 1 else None
        r = eval(expr, {"json": json, "d": d, "docs": docs, "a": arg})
    except Exception as e:
        return "<%s failed: %s; input was %.300r>" % (expr, e, text)
    return r if isinstance(r, str) else json.dumps(r, sort_keys=True)

buf = b""
fields = []
while True:
    chunk = os.read(0, 1 << 16)
    if not chunk:
        break
    buf += chunk
    while b"\0" in buf:
        f, buf = buf.split(b"\0", 1)
        fields.append(f.decode())
        if len(fields) == 3:
            out = answer(*fields).replace("\0", "") + "\0"
            os.write(1, out.encode())
            fields = []
'

# ctl_coproc NAME CMD...: start CMD as a coprocess (bash warns about a
# second coproc; the warning is silenced, not CMD's errors); NAME_TO and
# NAME_FROM are plain descriptors to its stdin and from its stdout, which
# subshells (pipelines) inherit.
ctl_coproc() {
	local name=$1 err to from
	shift
	exec {err}>&2
	{ coproc _CTL_CO { exec "$@" 2>&"$err"; }; } 2>/dev/null
	exec {to}>&"${_CTL_CO[1]}" {from}<&"${_CTL_CO[0]}" {err}>&-
	printf -v "${name}_TO" %s "$to"
	printf -v "${name}_FROM" %s "$from"
}

# Started by ctl_enter: a coprocess started in a subshell would die with it.
_jq_start() {
	ctl_coproc JQ python3 -c "$_JQ_SERVER"
}

# jq_py EXPR [ARG]: EXPR evaluated with d = the JSON document on stdin (and
# a = ARG; docs = the documents when there are several); strings print
# bare, everything else as canonical JSON (sorted keys). The server reads
# stdin itself, through /proc. Not re-entrant: never two jq_py in one
# pipeline (both would wait for the server).
jq_py() {
	local res=
	printf '%s\0%s\0%s\0' "$1" "${2-}" "/proc/$BASHPID/fd/0" >&"$JQ_TO"
	IFS= read -r -d '' -u "$JQ_FROM" res
	printf '%s\n' "$res"
}

# canon JSON: JSON in canonical form, to compare with jq_py's output.
canon() {
	jq_py d <<<"$1"
}

# --- text -------------------------------------------------------------------

# expect_match DESC PATTERN TEXT: TEXT matches the extended regular
# expression PATTERN (case-insensitive), as expect_fail's output must.
expect_match() {
	local rc=1
	shopt -s nocasematch
	[[ $3 =~ $2 ]] && rc=0
	shopt -u nocasematch
	if [ "$rc" -eq 0 ]; then
		ok "$1"
	else
		not_ok "$1" "does not match /$2/:" "$3"
	fi
	return "$rc"
}

# refuse DESC PATTERN CMD...: expect_fail without starting grep: CMD fails
# and its output (stdout and stderr) matches PATTERN, case-insensitive.
refuse() {
	local desc=$1 pattern=$2 out rc=0 m=1
	shift 2
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		not_ok "$desc" "\$ $* (exit 0, expected a failure)" "$out"
		return 1
	fi
	shopt -s nocasematch
	[[ $out =~ $pattern ]] && m=0
	shopt -u nocasematch
	if [ "$m" -ne 0 ]; then
		not_ok "$desc" "\$ $* (exit $rc, output does not match /$pattern/)" "$out"
		return 1
	fi
	ok "$desc"
}

# json_int KEY TEXT: the integer member KEY of the flat JSON object TEXT
# (`nfsec -j stats`), without python; "<no KEY>" if it is not there.
json_int() {
	if [[ $2 =~ \"$1\":\ *([0-9]+) ]]; then
		echo "${BASH_REMATCH[1]}"
	else
		echo "<no $1 in: $2>"
	fi
}

# elapsed T0: seconds since EPOCHREALTIME was T0, as "1.23 s".
elapsed() {
	local us=$((${EPOCHREALTIME/./} - ${1/./}))
	printf '%d.%02d s' $((us / 1000000)) $((us % 1000000 / 10000))
}
