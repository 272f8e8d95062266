# tests/fuzz/fuzz.mk - libFuzzer targets for every parser that reads outside
# input (included by the top-level Makefile). See docs/fuzzing.md.
#   make fuzz                 build, replay seeds + regressions, then fuzz each
#                             target for FUZZ_SECONDS (default 60) with
#                             ASan+UBSan; a crash, leak or broken invariant fails
#   make fuzz FUZZ_TARGETS=fuzz_sigv4 FUZZ_SECONDS=600 FUZZ_JOBS=2
#   make fuzz-build           only build build/fuzz/fuzz_*

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 1
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_ALL     := $(sort $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -g -O1 -D_DEFAULT_SOURCE -Wall -Wextra $(FUZZ_SAN) $(QR_CFLAGS) $(INC) \
                $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# The module's sources, the tools' (the PAM configuration reader) and the
# NSS module's parser.
FUZZ_OBJS    := $(patsubst pam_ssooidc/%.c,$(FUZZ_DIR)/obj/%.o,$(LIB_SRC) $(TOOL_SRC) $(NSS_PARSE_SRC))

.PHONY: fuzz fuzz-build
.SECONDARY: $(FUZZ_OBJS)
fuzz-build: $(addprefix $(FUZZ_DIR)/,$(FUZZ_ALL))

fuzz: fuzz-build
	@tests/fuzz/run.sh --seconds $(FUZZ_SECONDS) --jobs $(FUZZ_JOBS) $(FUZZ_TARGETS)

# The module's sources, instrumented for coverage and the sanitizers.
$(FUZZ_DIR)/obj/%.o: pam_ssooidc/%.c $(HDR) $(TOOL_HDR) $(NSS_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(FUZZ_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(LDLIBS)

# `make tools` (and so `make check`) builds the targets for the short runs
# in tests/suites.d/60-fuzz-alloc.sh.
tools: fuzz-build

help::
	@printf '  %-16s %s\n' \
	  fuzz 'build the fuzzers, replay the seeds, fuzz each target (FUZZ_SECONDS)' \
	  fuzz-build 'only build $(FUZZ_DIR)/fuzz_*'
