# tests/alloc/alloc.mk - allocation-failure sweep (included by the Makefile).
# See docs/fuzzing.md, section "Allocation failure".
#   make allocfail        every k over a full login, plus 100 k under valgrind
#   make allocfail-check  the `make check` subset (also run by make check)
#   ALLOCFAIL_ARGS="--jobs 1 --persistent ..." passes options to tests/alloc/run.py

ALLOC_BUILD := $(BUILD)/alloc

.PHONY: allocfail allocfail-check

# -fno-builtin: the driver defines malloc & co.; the compiler must not turn
# their bodies back into calls to themselves.
$(ALLOC_BUILD)/allocfail: tests/alloc/allocfail.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O1 -g -fno-builtin -Wall -Wextra -o $@ $< -lpam -ldl

tools: $(ALLOC_BUILD)/allocfail

allocfail: $(MODULE) $(ALLOC_BUILD)/allocfail
	/usr/bin/python3 tests/alloc/run.py --full $(ALLOCFAIL_ARGS)

allocfail-check: $(MODULE) $(ALLOC_BUILD)/allocfail
	/usr/bin/python3 tests/alloc/run.py $(ALLOCFAIL_ARGS)

help::
	@printf '  %-16s %s\n' \
	  allocfail 'allocation-failure sweep over a full login' \
	  allocfail-check 'its make check subset'
