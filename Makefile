# SPDX-License-Identifier: GPL-2.0
#
# make            build src/nfsec.ko and tools/nfsec
# make check      run the test suite in a QEMU VM (installs what it needs)
# make demo       the site-to-site demo in the VM
# make check-debug  the suite on a KASAN/lockdep/kmemleak kernel
# make sparse     build the module with sparse (C=2)
# make install    install the module and the tool on this host

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
	$(MAKE) -C tools

install: all
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	depmod -a $(notdir $(patsubst %/build,%,$(KDIR))) || true
	$(MAKE) -C tools install PREFIX=$(PREFIX)

deps:
	tools/deps

check: deps
	$(MAKE) all selftest-module
	tools/vm/run tests/run_all

# The suite on a KASAN + lockdep + kmemleak kernel (built once, ~33 min).
check-debug: deps
	$(MAKE) tools
	tools/check-debug

demo: deps
	$(MAKE) all
	tools/vm/run tests/demo.sh

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean || true
	$(MAKE) -C tools clean

.PHONY: all module selftest-module sparse tools install deps check check-debug demo clean
