# SPDX-License-Identifier: GPL-2.0
#
# Host-side unit tests of the module's pure logic (no VMX needed): the
# module's own caps.c and ept.c compiled in userspace against recorded or
# synthetic inputs.  Included by selftests/Makefile; `make unit` runs them.

UNIT_OUT	:= $(TOP)/build/unit
UNIT_TESTS	:= caps_test cpuid_test decode_test ept_test entrycheck_test gwalk_test \
		   hostpolicy_test kmsg_test
UNIT_BINS	:= $(addprefix $(UNIT_OUT)/,$(UNIT_TESTS))
UNIT_CFLAGS	:= -O2 -g -Wall -Wextra -Werror -std=gnu11 -I$(TOP) -I$(KSFT)

$(UNIT_OUT)/caps_test: $(SRC)/unit/caps_test.c $(TOP)/kmod/caps.c | $(HARNESS)
$(UNIT_OUT)/ept_test: $(SRC)/unit/ept_test.c $(TOP)/kmod/ept.c | $(HARNESS)
$(UNIT_OUT)/decode_test: $(SRC)/unit/decode_test.c $(TOP)/kmod/decode.c | $(HARNESS)
$(UNIT_OUT)/cpuid_test: $(SRC)/unit/cpuid_test.c $(TOP)/kmod/cpuid_table.c | $(HARNESS)
$(UNIT_OUT)/gwalk_test: $(SRC)/unit/gwalk_test.c $(TOP)/kmod/gwalk.c | $(HARNESS)
$(UNIT_OUT)/hostpolicy_test: $(SRC)/unit/hostpolicy_test.c $(TOP)/kmod/hostpolicy.c | $(HARNESS)
# The selftests' own kernel-log judge (no kernel involved)
$(UNIT_OUT)/kmsg_test: $(SRC)/unit/kmsg_test.c $(SRC)/lib/kmsg.c | $(HARNESS)
$(UNIT_OUT)/kmsg_test: UNIT_CFLAGS += -I$(SRC)/lib -I$(TOP)/tools/lib
$(UNIT_OUT)/entrycheck_test: $(SRC)/unit/entrycheck_test.c $(TOP)/kmod/entrycheck.c \
			     $(TOP)/tools/lib/libxvcpu.c | $(HARNESS)

$(UNIT_BINS):
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $(filter %.c,$^)

# Run every unit test; fail if any fails.  The harness prints TAP.
unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do $$t || fail=1; done; exit $$fail
