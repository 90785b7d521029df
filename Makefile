# SPDX-License-Identifier: GPL-2.0
#
# xvcpu top-level Makefile.
#
#   make run        boot the emulated-VMX machine, load xvcpu, run the example guest
#   make check      host unit tests + the whole suite in the VM on every kernel,
#                   then make bench (its path-length guard)
#   make check-debug the whole suite on a debug kernel built from Debian's
#                   linux-source (KASAN, lockdep, atomic-sleep checks, kmemleak)
#   make module     build kmod/xvcpu.ko for every supported kernel (build/<kver>/)
#   make tools      build the userspace library, example VMM, guests and selftests
#   make unit       host-side unit tests (no VMX needed)
#   make lint       checkpatch --strict and sparse over the module
#   make bench      xvcpu against KVM on the same guest loops, in one machine;
#                   fails when a path grew past tools/bench/baseline.txt
#   make bench-readme  README's performance table from the last bench run
#   make deps       install packages and fetch the Debian kernels (done by run/check)
#   make install    the module, udev rule, libxvcpu, headers, xvcpu-run, man
#                   pages (DESTDIR, PREFIX=/usr/local, KVER; tools/pkg/install.mk)
#   make uninstall  remove what make install put
#   make check-pkg  build, install and purge the Debian packages in a chroot
#
# Build products go to build/; only make install writes outside it.

SHELL		:= /bin/bash
TOP		:= $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD		:= $(TOP)/build
PAYLOAD		:= $(BUILD)/payload

CC		?= gcc
USER_CFLAGS	:= -O2 -g -Wall -Wextra -Werror -std=gnu11 -I$(TOP)

.PHONY: all deps module tools unit run check check-debug lint clean bench bench-readme

all: module tools

deps:
	$(TOP)/tools/vm/deps.sh
	$(TOP)/tools/vm/kernels.sh fetch

# One module per supported kernel: each build happens in its own copy of
# the sources so the two kernels' objects never mix.
module: deps
	$(TOP)/tools/vm/build-module.sh all

tools:
	$(MAKE) -C $(TOP)/tools DESTDIR=$(PAYLOAD) install
	$(MAKE) -C $(TOP)/selftests DESTDIR=$(PAYLOAD) install

unit:
	$(MAKE) -C $(TOP)/selftests unit
	python3 $(TOP)/tools/vm/logcheck_test.py
	$(TOP)/tools/vm/tests/guest-check_test.sh
	$(TOP)/tools/vm/tests/layers_test.sh
	$(TOP)/tools/bench/guard_test.sh
	$(MAKE) -C $(TOP)/tools test

run: module tools
	$(TOP)/tools/vm/run.sh

# Your own program in the emulated-VMX machine with xvcpu loaded; its
# output streams back, a non-zero exit status is make's "Error N"
# (tools/vm/vm-run.sh exits with it; tools/vm/README.md).  PROG: a
# program, or a directory copied in whole with RUN naming the program in
# it; ARGS: its arguments; KERNEL: 6.12 (default) or 6.1; CPU: skylake
# (default), xsave, tigerlake.
#   make vm PROG=./myvmm ARGS="--mem 64M guest.bin"
#   make vm PROG=./mydir RUN=myvmm ARGS="..."
.PHONY: vm
$(if $(filter vm,$(MAKECMDGOALS)),$(if $(PROG),,$(error make vm needs PROG=program or PROG=dir RUN=program)))
vm: module
	$(TOP)/tools/vm/vm-run.sh $(if $(KERNEL),--kernel $(KERNEL)) \
		$(if $(CPU),--cpu $(CPU)) -- $(PROG) $(RUN) $(ARGS)

# The man pages of man/: no groff warning, and no mandoc lint message
# where mandoc is installed (apt-get install mandoc).  Under a second.
.PHONY: man-lint
man-lint:
	@out=$$(for f in $(TOP)/man/*.[1-9]; do \
		groff -man -Tutf8 -ww -z "$$f" 2>&1; \
		if command -v mandoc >/dev/null; then \
			mandoc -T lint -W all "$$f" 2>&1; fi; \
	done); if [ -n "$$out" ]; then echo "$$out" >&2; exit 1; fi

check: unit module tools
	$(TOP)/tools/vm/check.sh
	$(MAKE) -C $(TOP)/tools/bench payload
	$(TOP)/tools/vm/bench.sh

# The "debug" kernel: tools/vm/debug-kernel.sh builds it (once) into
# build/kernels/ like the Debian ones.  One CPU model: the checkers look
# at xvcpu's code paths, which the other models' runs of "make check"
# already cover.
check-debug: export XVCPU_KERNELS := debug
check-debug: export XVCPU_CPU_MODELS := skylake
check-debug: export XVCPU_TIMEOUT ?= 7200
check-debug: tools
	$(TOP)/tools/vm/deps.sh kernel-build
	$(TOP)/tools/vm/kernels.sh fetch
	$(TOP)/tools/vm/build-module.sh all
	$(TOP)/tools/vm/check.sh

# xvcpu against KVM in the emulated-VMX machine (tools/bench, tools/vm/bench.sh)
bench: module
	$(MAKE) -C $(TOP)/tools/bench payload
	$(TOP)/tools/vm/bench.sh

# README's performance table, from the last run's build/bench/results.txt
bench-readme:
	$(TOP)/tools/bench/readme_table.py $(BUILD)/bench/results.txt $(TOP)/README.md

lint: deps
	$(TOP)/tools/vm/build-module.sh lint

clean:
	rm -rf $(BUILD)
	$(MAKE) -C $(TOP)/tools clean
	$(MAKE) -C $(TOP)/selftests clean

# make install, make uninstall, make check-pkg
include $(TOP)/tools/pkg/install.mk
