# pam_ssooidc - build, test, demo, bench, install. `make help` lists every
# target, the fragments' (tests/*/*.mk) included.
#   make          build pam_ssooidc/pam_ssooidc.so, pam_ssooidc_check,
#                 pam_ssooidc_users, pam_ssooidc_sync and
#                 build/nss/libnss_ssooidc.so.2 (the NSS module)
#   make check    all tests (installs missing packages when run as root);
#                 SUITES="unit module" runs only those (tests/run_all.sh
#                 --list names them, tests/README.md describes them)
#   make install  module, NSS module, tools, the sync's systemd units (UNITDIR),
#                 man pages, sample config (DESTDIR honoured);
#                 make uninstall removes them again
#   make dist     build/dist/pam_ssooidc-VERSION.tar.gz (the tracked files;
#                 VERSION is set below); make rpm and make deb build the
#                 packages from it (docs/packages.md)
#   QR=yes|no     build with or without libqrencode (default: yes when
#                 pkg-config finds it); without it the qr option is refused
#   MODULE=PATH BUILD=DIR   build into other places (e.g. a QR=no build
#                 beside the normal one: MODULE=build/noqr/pam_ssooidc.so
#                 BUILD=build/noqr)
#   CPPFLAGS, CFLAGS (default -O2 -g), LDFLAGS   the caller's, added to the
#                 build's own (docs/packages.md, "Build flags")

CC       ?= cc
PKG_CONFIG ?= pkg-config
PKGS     := libcurl jansson libcrypto libssl
# QR codes are optional: libqrencode is used when pkg-config finds it, unless
# QR=no (or QR=yes, which then fails to build without it) is given.
ifndef QR
QR       := $(shell $(PKG_CONFIG) --exists libqrencode 2>/dev/null && echo yes || echo no)
endif
ifeq ($(QR),yes)
QR_CFLAGS := -DHAVE_QRENCODE $(shell $(PKG_CONFIG) --cflags libqrencode 2>/dev/null)
QR_LIBS   := $(shell $(PKG_CONFIG) --libs libqrencode 2>/dev/null || echo -lqrencode)
else ifeq ($(QR),no)
QR_CFLAGS :=
QR_LIBS   :=
else
$(error QR must be yes or no, not '$(QR)')
endif

# The folders show the architecture: core/ (HTTP, configuration, the file
# store, conversation, sanitizer, mapping), aws/ (IAM Identity Center) and
# openid/ (any OpenID provider), behind the provider seam (provider.h).
SRCDIRS  := pam_ssooidc pam_ssooidc/core pam_ssooidc/aws pam_ssooidc/openid
SRC      := $(sort $(foreach d,$(SRCDIRS),$(wildcard $(d)/*.c)))
HDR      := $(foreach d,$(SRCDIRS),$(wildcard $(d)/*.h))
# cmd/ holds the tools' own code (pam_ssooidc_check and the PAM
# configuration reader behind its --pam-users; pam_ssooidc_users): never
# linked into the module. The two main files are linked into their own
# command only.
TOOL_DIR := pam_ssooidc/cmd
TOOL_MAIN := $(TOOL_DIR)/pam_ssooidc_check.c $(TOOL_DIR)/pam_ssooidc_users.c \
             $(TOOL_DIR)/pam_ssooidc_sync.c
TOOL_SRC := $(filter-out $(TOOL_MAIN),$(sort $(wildcard $(TOOL_DIR)/*.c)))
TOOL_HDR := $(wildcard $(TOOL_DIR)/*.h)
# Includes name their folder ("core/http.h"); tests/check_includes.sh keeps
# the arrows one way.
INC      := -Ipam_ssooidc
LIB_SRC  := $(filter-out pam_ssooidc/pam_ssooidc.c,$(SRC))
# nss/ is the NSS module, libnss_ssooidc.so.2 (docs/provisioning.md): a
# library of its own, loaded into every process that looks up a name, so it
# links none of the module's code and no library but libc. Its parser
# (everything but the glibc entry points) is also linked into the unit tests
# and the fuzzers.
NSS_DIR  := pam_ssooidc/nss
NSS_SRC  := $(sort $(wildcard $(NSS_DIR)/*.c))
NSS_HDR  := $(wildcard $(NSS_DIR)/*.h)
NSS_PARSE_SRC := $(filter-out $(NSS_DIR)/nss_ssooidc.c,$(NSS_SRC))

# Flags. CPPFLAGS, CFLAGS and LDFLAGS belong to the caller (command line or
# environment: dpkg-buildflags, %{optflags}, -O0 -g for a debugger) and are
# added to, never replaced: what the build needs lives in SSO_CPPFLAGS,
# SSO_CFLAGS and SSO_LDFLAGS, and the caller's flags come after them (so
# that, e.g., their -O wins). _FORTIFY_SOURCE is defined only when the
# caller's flags do not mention it (Fedora: -Wp,-D_FORTIFY_SOURCE=3) and
# optimise (glibc warns about it at -O0).
CPPFLAGS ?=
CFLAGS   ?= -O2 -g
LDFLAGS  ?=
# The one directory of the provisioned accounts' files (ledger.json, passwd,
# group): fixed at build time for the module and the NSS module alike, never
# read from the environment or a configuration file.
SSO_DATA_DIR ?= /var/lib/pam_ssooidc
WARN     := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes
SSO_OPT  := $(lastword $(filter -O%,$(CFLAGS)))
ifeq ($(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),)
ifneq ($(filter-out -O0,$(SSO_OPT)),)
SSO_FORTIFY := -D_FORTIFY_SOURCE=2
endif
endif
SSO_CPPFLAGS := $(INC) -D_DEFAULT_SOURCE $(SSO_FORTIFY) -DSSO_DATA_DIR='"$(SSO_DATA_DIR)"' \
                $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null) $(QR_CFLAGS)
SSO_CFLAGS   := -std=c11 -fPIC -fvisibility=hidden -fstack-protector-strong $(WARN)
SSO_LDFLAGS  := -Wl,-z,relro,-z,now -Wl,--as-needed
# Everything a compile or a link of the module's code gets, in that order.
ALL_CFLAGS    = $(SSO_CPPFLAGS) $(CPPFLAGS) $(SSO_CFLAGS) $(CFLAGS)
ALL_LDFLAGS   = $(SSO_LDFLAGS) $(LDFLAGS)
# libcrypto and libssl first: the order of DT_NEEDED is the order in which
# the dynamic linker searches the module's libraries for every symbol the
# dlopen resolves (PAM loads modules RTLD_NOW); with the two most referenced
# libraries first, loading the module costs about 5% fewer instructions
# (tests/bench/README.md).
LDLIBS   := $(shell $(PKG_CONFIG) --libs libcrypto libssl libcurl jansson 2>/dev/null || echo -lcrypto -lssl -lcurl -ljansson) -lpam $(QR_LIBS)

# The release, in this one place. rpm/pam_ssooidc.spec (Version:) and
# debian/changelog (the upstream part of the top entry) must say the same:
# make dist refuses to pack otherwise.
VERSION  := 0.1.0

MODULE   := pam_ssooidc/pam_ssooidc.so
CHECK    := pam_ssooidc/pam_ssooidc_check
USERS    := pam_ssooidc/pam_ssooidc_users
SYNC     := pam_ssooidc/pam_ssooidc_sync
BUILD    := build
NSS_LIB  := $(BUILD)/nss/libnss_ssooidc.so.2
# Changes with QR, so that switching QR=yes/no rebuilds what it affects.
QR_STAMP := $(BUILD)/qr.$(QR)
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))

PREFIX   ?= /usr
SBINDIR  ?= $(PREFIX)/sbin
SECDIR   ?= $(shell $(PKG_CONFIG) --variable=libdir pam 2>/dev/null || echo /lib/x86_64-linux-gnu)/security
MANDIR   ?= $(PREFIX)/share/man
SYSCONF  ?= /etc
# glibc loads NSS modules from the system's library directory: the
# multiarch one (Debian: /usr/lib/x86_64-linux-gnu), else libpam's (Fedora,
# RHEL, Amazon Linux: /usr/lib64).
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
# The systemd units of the directory sync (pam_ssooidc-sync.service, .timer).
UNITDIR  ?= $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
NSSLIBDIR ?= $(if $(MULTIARCH),$(PREFIX)/lib/$(MULTIARCH),$(shell $(PKG_CONFIG) --variable=libdir pam 2>/dev/null || echo $(PREFIX)/lib64))

.PHONY: all check unit demo bench install uninstall clean deps deps-demo asan fuzz tools selinux \
        help build-deps
all: $(MODULE) $(CHECK) $(USERS) $(SYNC) $(NSS_LIB)

# Before compiling: a compiler, pkg-config and the -dev packages, so that a
# machine without them is told what to install instead of being shown a
# screenful of "fatal error: security/pam_ext.h". One pkg-config call and
# one preprocessor run. Each entry: pkg-config name, Debian's, dnf's.
BUILD_PKGS := libcurl:libcurl4-openssl-dev:libcurl-devel jansson:libjansson-dev:jansson-devel \
              libssl:libssl-dev:openssl-devel libcrypto:libssl-dev:openssl-devel \
              $(if $(filter yes,$(QR)),libqrencode:libqrencode-dev:qrencode-devel)
build-deps:
	@if ! command -v $(firstword $(CC)) >/dev/null 2>&1; then missing=" build-essential:gcc,make"; \
	elif ! echo '#include <security/pam_modules.h>' | $(CC) $(CPPFLAGS) -E -x c - >/dev/null 2>&1; then \
	  missing=" libpam0g-dev:pam-devel"; fi; \
	if ! command -v $(PKG_CONFIG) >/dev/null 2>&1; then missing="$$missing pkg-config:pkgconf-pkg-config"; \
	elif ! $(PKG_CONFIG) --exists $(foreach p,$(BUILD_PKGS),$(firstword $(subst :, ,$(p)))) 2>/dev/null; then \
	  for p in $(BUILD_PKGS); do $(PKG_CONFIG) --exists $${p%%:*} 2>/dev/null || \
	    case "$$missing " in *" $${p#*:} "*) ;; *) missing="$$missing $${p#*:}" ;; esac; done; \
	fi; \
	[ -z "$$missing" ] && exit 0; \
	if command -v dnf >/dev/null 2>&1 && ! command -v apt-get >/dev/null 2>&1; then \
	  tool=dnf; names=$$(for p in $$missing; do printf ' %s' $${p#*:}; done | tr , ' '); \
	else tool=apt-get; names=$$(for p in $$missing; do printf ' %s' $${p%%:*}; done); fi; \
	echo "pam_ssooidc: cannot build, missing packages:$$names" >&2; \
	echo "install them as root with 'make deps-demo' (tests/deps.sh --demo; 'make deps' installs" >&2; \
	echo "everything 'make check' needs), or with: $$tool install$$names" >&2; \
	exit 1

# Each source is compiled once into $(BUILD)/obj/ (with -fPIC, for the
# module), and the module, pam_ssooidc_check, jose_bench link those objects;
# the ASan module and the unit tests share a second set in $(BUILD)/asan/obj/
# (ASan+UBSan, -O1). The fuzzers have their own (tests/fuzz/fuzz.mk).
OBJ_DIR  := $(BUILD)/obj
ASAN_DIR := $(BUILD)/asan/obj
DEP_HDR  := $(HDR) $(TOOL_HDR) $(NSS_HDR) $(QR_STAMP)
$(OBJ_DIR)/%.o: %.c $(DEP_HDR) | build-deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(ASAN_DIR)/%.o: %.c $(DEP_HDR) | build-deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -O1 $(SAN) -c -o $@ $<
MOD_OBJ  := $(SRC:%.c=$(OBJ_DIR)/%.o)
LIB_OBJ  := $(LIB_SRC:%.c=$(OBJ_DIR)/%.o)
TOOL_OBJ := $(TOOL_SRC:%.c=$(OBJ_DIR)/%.o)
ASAN_MOD_OBJ  := $(SRC:%.c=$(ASAN_DIR)/%.o)
ASAN_LIB_OBJ  := $(LIB_SRC:%.c=$(ASAN_DIR)/%.o) $(TOOL_SRC:%.c=$(ASAN_DIR)/%.o) \
                 $(NSS_PARSE_SRC:%.c=$(ASAN_DIR)/%.o)
# Linking: the caller's CFLAGS too (-flto, -specs= in %{optflags}).
LINK     = $(CC) $(SSO_CFLAGS) $(CFLAGS)

$(MODULE): $(MOD_OBJ) pam_ssooidc/exports.map
	@mkdir -p $(@D)
	$(LINK) -shared -o $@ $(MOD_OBJ) $(ALL_LDFLAGS) -Wl,--version-script=pam_ssooidc/exports.map $(LDLIBS)

# The NSS module: only nss/'s objects, libc alone (-z defs: an undefined
# symbol fails the link instead of the first lookup), only _nss_ssooidc_*
# exported. The ASan+UBSan build beside it is for tests/nss/ (loaded by an
# ASan-built test program, never by an uninstrumented one).
NSS_OBJ  := $(NSS_SRC:%.c=$(OBJ_DIR)/%.o)
NSS_LINK  = -shared -Wl,-soname,libnss_ssooidc.so.2 -Wl,-z,defs \
            -Wl,--version-script=$(NSS_DIR)/exports.map
$(NSS_LIB): $(NSS_OBJ) $(NSS_DIR)/exports.map
	@mkdir -p $(@D)
	$(LINK) -o $@ $(NSS_OBJ) $(ALL_LDFLAGS) $(NSS_LINK)
NSS_ASAN_LIB := $(BUILD)/nss/asan/libnss_ssooidc.so.2
$(NSS_ASAN_LIB): $(NSS_SRC:%.c=$(ASAN_DIR)/%.o) $(NSS_DIR)/exports.map
	@mkdir -p $(@D)
	$(LINK) -O1 $(SAN) -o $@ $(NSS_SRC:%.c=$(ASAN_DIR)/%.o) -shared \
	    -Wl,-soname,libnss_ssooidc.so.2 -Wl,--version-script=$(NSS_DIR)/exports.map

# pam_ssooidc_check(8): the module's own code behind a command line; its
# --login loads the installed module (SECDIR) in a one-line PAM stack, and
# --pam-users lists the PAM lines that load it. Its main file is compiled
# apart: it needs SECDIR.
CHECK_OBJ := $(OBJ_DIR)/check/pam_ssooidc_check.o
$(CHECK_OBJ): $(TOOL_DIR)/pam_ssooidc_check.c $(DEP_HDR) | build-deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIE -DPAM_SSOOIDC_MODULE='"$(SECDIR)/pam_ssooidc.so"' -c -o $@ $<
$(CHECK): $(CHECK_OBJ) $(TOOL_OBJ) $(LIB_OBJ)
	@mkdir -p $(@D)
	$(LINK) -fPIE -o $@ $(CHECK_OBJ) $(TOOL_OBJ) $(LIB_OBJ) $(ALL_LDFLAGS) -pie $(LDLIBS) -lpam_misc

# pam_ssooidc_users(8): the ledger of provisioned accounts (core/ledger.h)
# behind a command line; the module's objects, none of the check's.
USERS_OBJ := $(OBJ_DIR)/$(TOOL_DIR)/pam_ssooidc_users.o
$(USERS): $(USERS_OBJ) $(LIB_OBJ)
	@mkdir -p $(@D)
	$(LINK) -fPIE -o $@ $(USERS_OBJ) $(LIB_OBJ) $(ALL_LDFLAGS) -pie $(LDLIBS)

# pam_ssooidc_sync(8): the directory sync (core/sync.h over aws/directory.h)
# behind a command line; the module's objects, none of the check's.
SYNC_OBJ := $(OBJ_DIR)/$(TOOL_DIR)/pam_ssooidc_sync.o
$(SYNC): $(SYNC_OBJ) $(LIB_OBJ)
	@mkdir -p $(@D)
	$(LINK) -fPIE -o $@ $(SYNC_OBJ) $(LIB_OBJ) $(ALL_LDFLAGS) -pie $(LDLIBS)

# The same module built with AddressSanitizer + UndefinedBehaviorSanitizer.
asan: $(BUILD)/asan/pam_ssooidc.so
$(BUILD)/asan/pam_ssooidc.so: $(ASAN_MOD_OBJ) pam_ssooidc/exports.map
	@mkdir -p $(@D)
	$(LINK) -O1 $(SAN) -shared -o $@ $(ASAN_MOD_OBJ) -Wl,--version-script=pam_ssooidc/exports.map $(LDLIBS)

# Unit tests link the module's objects (minus the PAM entry file) and the
# tools', ASan+UBSan.
$(BUILD)/unit/%: tests/unit/%.c $(ASAN_LIB_OBJ) $(DEP_HDR) | build-deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -O1 $(SAN) -o $@ $< $(ASAN_LIB_OBJ) $(LDLIBS) -lcmocka

unit: $(UNIT_BIN)

$(QR_STAMP):
	@mkdir -p $(@D)
	@rm -f $(BUILD)/qr.yes $(BUILD)/qr.no
	@touch $@

# Missing packages, installed as root: the demo's set, or everything.
deps:
	@tests/deps.sh --check
deps-demo:
	@tests/deps.sh --demo

# make check SUITES="unit module" runs only those suites (tests/run_all.sh
# --list names them; tests/README.md says what each covers) and builds only
# what they need: CHECK_NEEDS_<suite> below, everything for a suite not
# named there. An unknown name fails before anything is built.
SUITES   ?=
# The build before the suites uses every core unless make was given -j.
CHECK_JOBS = $(if $(findstring -j,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 2))
CHECK_ALL    := all asan unit tools
MODULE_TOOLS := $(BUILD)/tools/pam_drive $(BUILD)/tools/pwnam_fold.so $(BUILD)/tools/pwrap_serial.so
CHECK_NEEDS_unit                 := unit
CHECK_NEEDS_exported-symbols     := all
CHECK_NEEDS_includes             :=
CHECK_NEEDS_users                := all
CHECK_NEEDS_meta                 :=
CHECK_NEEDS_man                  :=
CHECK_NEEDS_docs                 := all
CHECK_NEEDS_package              := all
CHECK_NEEDS_rpm                  :=
CHECK_NEEDS_selinux              :=
CHECK_NEEDS_deps                 :=
CHECK_NEEDS_standin-botocore     :=
CHECK_NEEDS_standin-directory    :=
CHECK_NEEDS_sync-client          := all $(BUILD)/tools/directory_drive
CHECK_NEEDS_e2e-sync             := all
CHECK_NEEDS_sync-attack          := all
CHECK_NEEDS_module               := all $(MODULE_TOOLS)
CHECK_NEEDS_module-valgrind      := all $(MODULE_TOOLS)
CHECK_NEEDS_module-oidc          := all $(MODULE_TOOLS)
CHECK_NEEDS_module-oidc-valgrind := all $(MODULE_TOOLS)
CHECK_NEEDS_module-asan          := asan $(MODULE_TOOLS)
CHECK_NEEDS_module-oidc-asan     := asan $(MODULE_TOOLS)
CHECK_NEEDS_nss                  := all $(BUILD)/tools/nss_threads $(BUILD)/tools/nss_threads_asan \
                                    $(NSS_ASAN_LIB) $(BUILD)/tools/provision_drive
CHECK_NEEDS = $(if $(strip $(SUITES)),$(sort $(foreach s,$(SUITES),$(if \
              $(filter undefined,$(origin CHECK_NEEDS_$(s))),$(CHECK_ALL),$(CHECK_NEEDS_$(s))))),$(CHECK_ALL))

# The packages: the quick suites' set when only those are named
# (tests/deps.sh --unit), else everything make check needs.
CHECK_QUICK := unit exported-symbols includes meta
CHECK_DEPS   = $(if $(and $(strip $(SUITES)),$(if $(filter-out $(CHECK_QUICK),$(SUITES)),,y)),--unit,--check)

check:
	@tests/run_all.sh --list $(SUITES) >/dev/null
	@tests/deps.sh $(CHECK_DEPS)
	@$(if $(strip $(CHECK_NEEDS)),$(MAKE) --no-print-directory $(CHECK_JOBS) $(CHECK_NEEDS))
	@tests/run_all.sh $(SUITES)

demo: deps-demo
	@$(MAKE) --no-print-directory all
	@tests/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all tools
	@tests/bench/run.sh

install: $(MODULE) $(CHECK) $(USERS) $(SYNC) $(NSS_LIB)
	install -d $(DESTDIR)$(SECDIR)
	install -m 0644 $(MODULE) $(DESTDIR)$(SECDIR)/pam_ssooidc.so
	install -d $(DESTDIR)$(NSSLIBDIR)
	install -m 0644 $(NSS_LIB) $(DESTDIR)$(NSSLIBDIR)/libnss_ssooidc.so.2
	install -d $(DESTDIR)$(SBINDIR)
	install -m 0755 $(CHECK) $(DESTDIR)$(SBINDIR)/pam_ssooidc_check
	install -m 0755 $(USERS) $(DESTDIR)$(SBINDIR)/pam_ssooidc_users
	install -m 0755 $(SYNC) $(DESTDIR)$(SBINDIR)/pam_ssooidc_sync
	install -d $(DESTDIR)$(UNITDIR)
	install -m 0644 conf/pam_ssooidc-sync.service conf/pam_ssooidc-sync.timer $(DESTDIR)$(UNITDIR)/
	@if [ -d docs/man ]; then \
	  for f in docs/man/*.[0-9]; do s=$${f##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
	    install -m 0644 $$f $(DESTDIR)$(MANDIR)/man$$s/; done; fi
	install -d $(DESTDIR)$(SYSCONF)/security
	@if [ -e $(DESTDIR)$(SYSCONF)/security/pam_ssooidc.conf ]; then \
	  echo "keeping existing $(DESTDIR)$(SYSCONF)/security/pam_ssooidc.conf"; \
	else install -m 0600 conf/pam_ssooidc.conf $(DESTDIR)$(SYSCONF)/security/pam_ssooidc.conf; fi

# Undoes make install, with the same variables (DESTDIR, SECDIR, SBINDIR,
# NSSLIBDIR, UNITDIR, MANDIR, SYSCONF). The config file goes only when it is still the shipped
# template (install leaves an existing one alone, so an edited one may be the
# administrator's); otherwise it is kept, and said so. Directories stay.
uninstall:
	rm -f $(DESTDIR)$(SECDIR)/pam_ssooidc.so $(DESTDIR)$(SBINDIR)/pam_ssooidc_check \
	      $(DESTDIR)$(SBINDIR)/pam_ssooidc_users $(DESTDIR)$(SBINDIR)/pam_ssooidc_sync
	rm -f $(DESTDIR)$(UNITDIR)/pam_ssooidc-sync.service $(DESTDIR)$(UNITDIR)/pam_ssooidc-sync.timer
	rm -f $(DESTDIR)$(NSSLIBDIR)/libnss_ssooidc.so.2
	@if [ -d docs/man ]; then \
	  for f in docs/man/*.[0-9]; do s=$${f##*.}; \
	    echo "rm -f $(DESTDIR)$(MANDIR)/man$$s/$${f##*/}"; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${f##*/}; done; fi
	@c=$(DESTDIR)$(SYSCONF)/security/pam_ssooidc.conf; \
	if [ ! -e "$$c" ]; then :; \
	elif cmp -s conf/pam_ssooidc.conf "$$c"; then echo "rm -f $$c"; rm -f "$$c"; \
	else echo "keeping $$c: it is not the installed template (remove it by hand)"; fi

# The SELinux policy module (docs/selinux.md), with checkpolicy and
# semodule-utils: the .pp that the RPM's -selinux subpackage ships.
selinux: $(BUILD)/selinux/pam_ssooidc.pp
$(BUILD)/selinux/pam_ssooidc.pp: selinux/pam_ssooidc.te selinux/pam_ssooidc.fc
	@mkdir -p $(@D)
	checkmodule -M -m -o $(@D)/pam_ssooidc.mod selinux/pam_ssooidc.te
	semodule_package -o $@ -m $(@D)/pam_ssooidc.mod -f selinux/pam_ssooidc.fc

clean:
	rm -rf $(BUILD) $(MODULE) $(CHECK) $(USERS) $(SYNC)

# make dist: $(BUILD)/dist/pam_ssooidc-VERSION.tar.gz, one folder
# pam_ssooidc-VERSION/ holding the files git tracks (as they are in the work
# tree), owner root, sorted, dated by the last commit. Left out: .ci/,
# .gitignore, and debian/, which the Debian package adds to the tarball as
# its own part (lintian: upstream releases should not carry debian/).
# Outside git (an unpacked tarball, say) it packs the tree instead, less
# build output. The RPM (Source0) and the Debian package (its
# .orig.tar.gz) are built from it.
DIST     := pam_ssooidc-$(VERSION)
DIST_TAR := $(BUILD)/dist/$(DIST).tar.gz
DIST_EXCLUDE := --exclude=./.git --exclude=./.ci --exclude=./.gitignore --exclude=./build \
                --exclude=./debian --exclude='*.o' --exclude='*.so' --exclude=__pycache__ \
                --exclude=node_modules --exclude=./pam_ssooidc/pam_ssooidc_check \
                --exclude=./pam_ssooidc/pam_ssooidc_users --exclude=./pam_ssooidc/pam_ssooidc_sync
.PHONY: dist version-check
dist: version-check
	@rm -rf $(BUILD)/dist/stage && mkdir -p $(BUILD)/dist/stage/$(DIST)
	@if [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ]; then \
	  git ls-files -z | grep -zv '^\.\|^debian/' | xargs -0 sh -c 'for f; do [ -e "$$f" ] || [ -L "$$f" ] && printf "%s\0" "$$f"; done' sh \
	    | tar -cf - --null -T - | tar -C $(BUILD)/dist/stage/$(DIST) -xf - && \
	  git log -1 --format=%cI >$(BUILD)/dist/stage/date; \
	else \
	  tar -C . $(DIST_EXCLUDE) -cf - . | tar -C $(BUILD)/dist/stage/$(DIST) -xf - && \
	  date -u -r Makefile +%Y-%m-%dT%H:%M:%SZ >$(BUILD)/dist/stage/date; \
	fi
	tar -C $(BUILD)/dist/stage --owner=0 --group=0 --numeric-owner --sort=name \
	    --mtime="$$(cat $(BUILD)/dist/stage/date)" -cf - $(DIST) | gzip -n -9 >$(DIST_TAR).tmp
	@mv $(DIST_TAR).tmp $(DIST_TAR) && rm -rf $(BUILD)/dist/stage
	@echo "$(DIST_TAR)"

# The version of the spec and of debian/changelog is $(VERSION) (an
# unpacked dist tarball has no debian/: only the spec then).
version-check:
	@spec=$$(sed -n 's/^Version:[[:space:]]*//p' rpm/pam_ssooidc.spec); \
	if [ -e debian/changelog ] || [ -e .git ]; then \
	  deb=$$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' debian/changelog); deb=$${deb#*:}; deb=$${deb%-*}; \
	else deb=$(VERSION); fi; \
	[ "$$spec" = "$(VERSION)" ] && [ "$$deb" = "$(VERSION)" ] || { \
	  echo "version mismatch: Makefile VERSION $(VERSION), rpm/pam_ssooidc.spec $$spec, debian/changelog $$deb" >&2; \
	  exit 1; }

# Every target, the fragments' included: each adds its own lines (help::).
help::
	@echo 'Targets (variables: QR=yes|no, MODULE=, BUILD=, CPPFLAGS, CFLAGS, LDFLAGS, DESTDIR, PREFIX,'
	@echo 'SECDIR, NSSLIBDIR, UNITDIR, SSO_DATA_DIR, SBINDIR, MANDIR, SYSCONF, SUITES; see the top of the Makefile):'
	@printf '  %-16s %s\n' \
	  all 'the module ($(MODULE)), pam_ssooidc_check, pam_ssooidc_users, pam_ssooidc_sync,' \
	  '' '$(NSS_LIB) (the default)' \
	  install 'module, NSS module, the three commands, the sync'"'"'s units, man pages, sample config' \
	  '' '(DESTDIR honoured)' \
	  uninstall 'what install put there (an edited config file is kept)' \
	  clean 'remove $(BUILD)/ and the built files' \
	  check 'every test suite (tests/run_all.sh); installs missing packages as root;' \
	  '' 'SUITES="unit module": only those (tests/run_all.sh --list)' \
	  unit 'the cmocka unit tests ($(BUILD)/unit/), ASan+UBSan' \
	  asan 'the module with ASan+UBSan ($(BUILD)/asan/)' \
	  tools 'the test tools, fuzzers and helpers the suites use' \
	  demo 'a real login against the local stand-in (AUTO=1: self-approving)' \
	  bench 'connections, latency, CPU and memory per login' \
	  selinux 'the SELinux policy module ($(BUILD)/selinux/pam_ssooidc.pp)' \
	  dist 'the release tarball $(DIST_TAR) (the tracked files)' \
	  version-check 'the spec and debian/changelog say VERSION ($(VERSION))' \
	  deps 'install what make check needs (as root; tests/deps.sh)' \
	  deps-demo 'install what the build and make demo need (tests/deps.sh --demo)' \
	  build-deps 'say which packages the build lacks (run before compiling)' \
	  help 'this list'

# Fragments for fuzzing, allocation failure, hardening and packaging live
# beside their tests; each is named, so a missing one stops the build.
include tests/alloc/alloc.mk tests/fuzz/fuzz.mk tests/hardening/hardening.mk \
        tests/package/package.mk tests/package/rpm.mk

# Test tools (not part of the module).
$(BUILD)/tools/pam_drive: tests/tools/pam_drive.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -g -Wall -Wextra -D_DEFAULT_SOURCE -o $@ $< -lpam -lpthread
$(BUILD)/tools/runstat: tests/tools/runstat.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -Wall -Wextra -D_DEFAULT_SOURCE -o $@ $<
$(BUILD)/tools/jose_bench: tests/tools/jose_bench.c $(LIB_OBJ) $(DEP_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -O2 -o $@ $< $(LIB_OBJ) $(LDLIBS)
# A name lookup that ignores case and knows aliases (the module tests
# preload it to play SSSD/winbind/LDAP).
$(BUILD)/tools/pwnam_fold.so: tests/tools/pwnam_fold.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -g -Wall -Wextra -fPIC -shared -o $@ $< -ldl
# pam_wrapper's start-up, one process at a time (the module tests preload it
# so that hosts started together never share a /tmp/pam.X directory).
$(BUILD)/tools/pwrap_serial.so: tests/tools/pwrap_serial.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -g -Wall -Wextra -fPIC -shared -o $@ $< -ldl
# getpwnam_r with tiny buffers from several threads (tests/nss/run.sh):
# plain against the NSS module, and ASan+UBSan built to load its ASan build.
$(BUILD)/tools/nss_threads: tests/nss/nss_threads.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -g -Wall -Wextra -D_DEFAULT_SOURCE -o $@ $< -lpthread
$(BUILD)/tools/nss_threads_asan: tests/nss/nss_threads.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O1 -g -Wall -Wextra -D_DEFAULT_SOURCE $(SAN) -o $@ $< -lpthread
# One login's provisioning step without a provider (tests/nss/run.sh runs it
# where the data directory is the test's own).
$(BUILD)/tools/provision_drive: tests/nss/provision_drive.c $(LIB_OBJ) $(DEP_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -O2 -o $@ $< $(LIB_OBJ) $(LDLIBS)
# The directory client (aws/directory.h) behind a command line
# (tests/sync/test_directory_client.py runs it against the stand-in).
$(BUILD)/tools/directory_drive: tests/tools/directory_drive.c $(LIB_OBJ) $(DEP_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -O2 -o $@ $< $(LIB_OBJ) $(LDLIBS)
tools: $(BUILD)/tools/pam_drive $(BUILD)/tools/runstat $(BUILD)/tools/jose_bench \
       $(BUILD)/tools/pwnam_fold.so $(BUILD)/tools/pwrap_serial.so \
       $(BUILD)/tools/nss_threads $(BUILD)/tools/nss_threads_asan $(NSS_ASAN_LIB) \
       $(BUILD)/tools/provision_drive $(BUILD)/tools/directory_drive
