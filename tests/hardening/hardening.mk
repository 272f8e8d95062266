# Hardening tests and the login-storm benchmark (included by the Makefile).
#   make storm       200 concurrent first logins against one stand-in (STORM_N=200)
#   make hardening   the three hardening suites, without the rest of make check
# `make tools` (and so `make check`) also builds the helpers below.

HARD_BUILD := $(BUILD)/hardening
STORM_N    ?= 200

.PHONY: storm hardening

# LD_PRELOAD shim: SIGKILL halfway through writing a cache temp file.
$(HARD_BUILD)/killwrite.so: tests/hardening/killwrite.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -g -Wall -Wextra -fPIC -shared -o $@ $< -ldl

# pam_drive with wall-clock stamps, user codes and getrusage, for the storm.
$(HARD_BUILD)/storm_drive: tests/hardening/storm_drive.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -g -Wall -Wextra -D_DEFAULT_SOURCE -o $@ $< -lpam -lpthread

tools: $(HARD_BUILD)/killwrite.so $(HARD_BUILD)/storm_drive

storm: $(MODULE) $(HARD_BUILD)/storm_drive
	/usr/bin/python3 tests/bench/storm.py -n $(STORM_N)

hardening: $(MODULE) $(BUILD)/tools/pam_drive $(HARD_BUILD)/killwrite.so $(HARD_BUILD)/storm_drive
	/usr/bin/python3 tests/hardening/test_tampering.py
	/usr/bin/python3 tests/hardening/test_storm.py
	/usr/bin/python3 tests/hardening/test_failure_table.py

help::
	@printf '  %-16s %s\n' \
	  storm 'STORM_N (200) concurrent first logins' \
	  hardening 'the three hardening suites'
