# SPDX-License-Identifier: GPL-2.0
#
# make            build src/nfsec.ko and tools/nfsec/nfsec
# make check      run the test suite in a QEMU VM (installs what it needs)
# make demo       the site-to-site demo in the VM, keyed by IKEv2 (tools/demo/)
# make demo-manual  the same with hand-made SAs
# make check-debug  the suite on a KASAN/lockdep/kmemleak kernel
# make sparse     build the module with sparse (C=2)
# make checkpatch checkpatch --strict over the module, the API and the tool
# make bench      the throughput benchmark in the VM (tools/bench/)
# make install    install the module and the tool on this host
# make strongswan the charon plugin kernel-nfsec (tools/strongswan/)
# make install-strongswan  install it into charon's plugin directory
#
# Where things are: src/ the module, include/uapi/ its API, tools/nfsec/
# the command-line tool (with its man page and its own test), tools/bench/
# the benchmark, tools/demo/ the demo, tests/ the scenario tests and
# tests/vm/ the VM harness they run in, Documentation/ the design.

KDIR ?= $(shell if [ -d /lib/modules/$$(uname -r)/build ]; then \
		echo /lib/modules/$$(uname -r)/build; \
	else \
		ls -d /lib/modules/*/build 2>/dev/null | sort -V | tail -n 1; \
	fi)
PREFIX ?= /usr/local
W ?= 1

all: module tools

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=$(W) modules

# The module with DEBUG and its self-tests (tests/05-selftest.sh loads it),
# built in a copy of the tree so that src/ keeps the normal build.
selftest-module:
	rm -rf .build-selftest && mkdir .build-selftest
	cp -r Kbuild src include .build-selftest/
	$(MAKE) -C $(KDIR) M=$(CURDIR)/.build-selftest W=$(W) NFSEC_DEBUG=1 modules

sparse:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=$(W) C=2 CF="-D__CHECK_ENDIAN__" modules

tools:
	$(MAKE) -C tools/nfsec

strongswan:
	$(MAKE) -C tools/strongswan

install-strongswan:
	$(MAKE) -C tools/strongswan install

install: all
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	depmod -a $(notdir $(patsubst %/build,%,$(KDIR))) || true
	$(MAKE) -C tools/nfsec install PREFIX=$(PREFIX)

deps:
	tests/vm/deps

check: deps
	$(MAKE) all selftest-module strongswan
	VM_TIMEOUT=$${VM_TIMEOUT:-2400} TEST_TIMEOUT=$${TEST_TIMEOUT:-900} \
		tests/vm/run tests/run_all

# The suite on a KASAN + lockdep + kmemleak kernel (built once, ~33 min).
check-debug: deps
	$(MAKE) tools
	tests/vm/check-debug

demo: deps
	$(MAKE) all strongswan
	tests/vm/run tools/demo/ikev2.sh

demo-manual: deps
	$(MAKE) all
	tests/vm/run tools/demo/site-to-site.sh

checkpatch:
	tools/checkpatch

bench:
	tools/bench/run

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean || true
	$(MAKE) -C tools/nfsec clean
	$(MAKE) -C tools/strongswan clean

.PHONY: all module selftest-module sparse tools strongswan install-strongswan install deps check check-debug demo demo-manual \
	checkpatch bench clean
