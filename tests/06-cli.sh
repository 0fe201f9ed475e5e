#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 06-cli.sh: the command-line tool's own test (tools/nfsec/tests/cli.sh:
# requests, error messages, batch files, printing of replies), run here so
# that its checks are part of the suite's count. The module is unloaded
# first, so its "without the module" check runs too; run_all loads it again
# for the next script.
set -u
. "$(dirname "$0")/lib.sh"

[ ! -d /sys/module/nfsec ] || rmmod nfsec || echo "# rmmod nfsec failed"
exec "$NFSEC_ROOT/tools/nfsec/tests/cli.sh" "$NFSEC" \
	"$NFSEC_ROOT/tools/nfsec/tests/fake-reply"
