# certrevoke — top-level build.  `make`, `make check`, `make demo`, `make deps`.
#
# `make check`, `make demo` and `make bench` run `make deps` first and then a
# make of their own, so that every pkg-config answer below is read after deps
# installed what it answers about.  What the objects were built with is kept
# in $(B)/build.flags: a change of compiler, flags or libraries rebuilds them.

PREFIX     ?= /usr
LOCALEDIR  ?= $(PREFIX)/share/locale
B          ?= build

CC         ?= cc
FUZZ_CC    ?= clang
FUZZ_SECONDS ?= 20

# pkg-config name:the Debian package that has it.  A missing one stops the
# build naming its package; nothing is compiled out.
REQUIRED   := libsystemd:libsystemd-dev p11-kit-1:libp11-kit-dev openssl:libssl-dev \
              sqlite3:libsqlite3-dev inih:libinih-dev pwquality:libpwquality-dev \
               libxcrypt:libcrypt-dev pam:libpam0g-dev libmicrohttpd:libmicrohttpd-dev \
               libcurl:libcurl4-openssl-dev
pc_name     = $(word 1,$(subst :, ,$(1)))
pc_deb      = $(word 2,$(subst :, ,$(1)))
MISSING    := $(strip $(foreach p,$(REQUIRED),$(if $(shell pkg-config --exists $(call pc_name,$p) && echo y),,$(call pc_deb,$p))))

PKGS       := libsystemd p11-kit-1 openssl sqlite3 inih
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
PWQ_LIBS   := $(shell pkg-config --libs pwquality 2>/dev/null)
CRYPT_LIBS := $(shell pkg-config --libs libxcrypt 2>/dev/null)
PAM_LIBS   := -lpam
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS   := $(shell pkg-config --libs libmicrohttpd 2>/dev/null)

WARN       := -std=c11 -Wall -Wextra -Werror
OPT        ?= -O2 -g
SAN        ?=
VERSION    := 0.1
CPPFLAGS   += -D_GNU_SOURCE -DCR_VERSION=\"$(VERSION)\" -Iinclude -Iservice -Ipam -DLOCALEDIR=\"$(LOCALEDIR)\"
CFLAGS     += $(WARN) $(OPT) $(SAN)
LDFLAGS    += $(SAN)

FLAGS_FILE := $(B)/build.flags
BUILD_FLAGS = OPT=$(OPT)\nSAN=$(SAN)\nCC=$(CC)\nCPPFLAGS=$(CPPFLAGS)\nCFLAGS=$(CFLAGS)\nLDFLAGS=$(LDFLAGS)\nPKG_CFLAGS=$(PKG_CFLAGS)\nPKG_LIBS=$(PKG_LIBS) $(PWQ_LIBS) $(CRYPT_LIBS) $(PAM_LIBS)\nFUZZ_CC=$(FUZZ_CC)

# Rewritten only when what it records changed, so that its date says when
# the build's inputs last changed and every object depending on it follows.
$(FLAGS_FILE): FORCE
	@if [ -n "$(MISSING)" ]; then \
		echo "build: missing libraries: install the Debian packages $(MISSING) (make deps does it)" >&2; \
		exit 1; \
	fi
	@mkdir -p $(B)
	@printf '%b\n' '$(subst ','\'',$(BUILD_FLAGS))' >$@.new
	@if cmp -s $@.new $@; then rm -f $@.new; \
	else [ ! -e $@ ] || echo "build: the flags of $(B) changed: rebuilding"; mv -f $@.new $@; fi

FORCE:

COMMON_SRC := service/names.c service/util.c
# The CRL's parts (crl-*.c) and the PKCS#11 loader and PIN-file reader
# that its signer shares with the token walker.
CRL_SRC    := service/crl-reason.c service/crl-der.c service/crl-signer.c service/crl-file.c \
              service/pkcs11.c service/pin-file.c
DAEMON_SRC := service/certrevoked.c service/config.c service/store.c \
              service/cert.c service/tokens.c service/token-walker.c service/bus-manager.c service/caller.c \
              service/bus-user.c service/log.c service/filing.c service/rescan.c \
              service/publish.c service/crl-entries.c service/durable.c service/revoke.c service/atomic-file.c \
              service/confirm.c service/bus-account.c service/worker.c $(CRL_SRC) service/auth.c \
              service/history.c service/recover.c service/revoked-index.c module/x509.c module/der.c \
              pam/confirm-shadow.c pam/password-quality.c
# certrevokectl: main and the command line; reporting, the bus, the
# terminal, the tables; the verbs.
CTL_SRC    := service/certrevokectl.c service/ctl-report.c service/ctl-bus.c service/ctl-input.c \
              service/ctl-format.c service/ctl-users.c service/ctl-revoke.c service/ctl-account.c \
              service/ctl-history.c

# certrevoke-ocspd: main and context; HTTP; the request parser; signing;
# the table of known certificates; the store reader; signing ahead.
OCSP_CORE_SRC := service/ocsp-request.c
OCSPD_SRC  := service/ocspd.c service/program-args.c service/ocsp-http.c $(OCSP_CORE_SRC) service/ocsp-sign.c \
              service/ocsp-table.c service/ocsp-store.c service/ocsp-presign.c service/ocsp-cache.c service/ocsp-urlcache.c \
              service/config.c service/cert.c service/log.c \
              service/atomic-file.c service/crl-reason.c service/pin-file.c service/crl-signer.c \
              service/pkcs11.c

DAEMON_OBJ := $(patsubst %.c,$(B)/%.o,$(COMMON_SRC) $(DAEMON_SRC))
OCSPD_OBJ  := $(patsubst %.c,$(B)/%.o,$(COMMON_SRC) $(OCSPD_SRC))
CTL_OBJ    := $(patsubst %.c,$(B)/%.o,$(COMMON_SRC) $(CTL_SRC))
LIB_OBJ    := $(filter-out $(B)/service/certrevoked.o,$(DAEMON_OBJ)) $(B)/service/ctl-format.o

# The writer of revoked.idx finds issuer, serial and subject with the trust
# module's certificate reader, so that both compute the same keys.
$(B)/service/revoked-index.o: private CPPFLAGS += -Imodule

UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test-*.c))

LINGUAS    := ja
MO_FILES   := $(patsubst %,$(B)/locale/%/LC_MESSAGES/certrevoke.mo,$(LINGUAS))

# The Cockpit page, console/: bundled with esbuild from the npm packages
# that `make deps` installs there (npm ci, from the committed lock file)
# into $(B)/share/cockpit/certrevoke, where cockpit-ws finds it with
# XDG_DATA_DIRS=$(B)/share:/usr/share.
CONSOLE_OUT   := $(B)/share/cockpit/certrevoke
CONSOLE_STAMP := $(CONSOLE_OUT)/index.js
CONSOLE_SRC   := console/build.js console/po2js.js console/package.json console/package-lock.json \
                 console/po/ja.po console/src/manifest.json console/src/index.html console/src/page.css \
                 console/src/index.jsx console/src/cockpit.js console/src/i18n.js console/src/service.js \
                 console/src/errors.js console/src/layout.jsx console/src/menu.jsx console/src/app.jsx \
                 console/src/revoke.jsx console/src/password-field.jsx console/src/users.jsx \
                 console/src/suspend.jsx console/src/password.jsx console/src/history.jsx
# npm ci rewrites this file: new packages rebuild the page.
CONSOLE_NPM   := console/node_modules/.package-lock.json

# The objects and sources of a rule, without the flags record.
INPUTS      = $(filter-out $(FLAGS_FILE),$^)

all: $(B)/certrevoked $(B)/certrevokectl $(B)/certrevoke-pam-helper $(MO_FILES) \
     $(B)/pam_certrevoke.so $(B)/certrevoke-pkcs11.so $(CONSOLE_STAMP) $(B)/certrevoke-ocspd \
     $(B)/certrevoke-sync

$(B)/%.o: %.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/certrevoked: $(DAEMON_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CONFIRM_SHADOW_LIBS) -lpthread

$(B)/service/ocsp-http.o: private CPPFLAGS += $(MHD_CFLAGS)

$(B)/certrevoke-ocspd: $(OCSPD_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(MHD_LIBS) -lpthread

$(B)/certrevokectl: $(CTL_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Checks one confirmation password through PAM for the daemon, in its own process.
$(B)/certrevoke-pam-helper: $(B)/service/pam-helper.o
	$(CC) $(LDFLAGS) -o $@ $^ $(PAM_LIBS)

$(B)/tests/%: tests/unit/%.c $(LIB_OBJ) $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -Itests -o $@ $(INPUTS) $(PKG_LIBS) $(CONFIRM_SHADOW_LIBS) -lpthread

# The responder's request parser alone.
$(B)/tests/test-ocsp-request: tests/unit/test-ocsp-request.c $(B)/service/ocsp-request.o $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -Itests -o $@ $(INPUTS) -lcrypto

# The responder's table of known certificates alone.
$(B)/tests/test-ocsp-table: tests/unit/test-ocsp-table.c $(B)/service/ocsp-table.o $(B)/service/util.o $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -Itests -o $@ $(INPUTS) -lcrypto -lpthread

# The responder's cache of GET paths alone.
$(B)/tests/test-ocsp-urlcache: tests/unit/test-ocsp-urlcache.c $(B)/service/ocsp-urlcache.o $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -Itests -o $@ $(INPUTS)

$(B)/bench/list-users-client: bench/list-users-client.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -o $@ $(INPUTS) $(PKG_LIBS)

# One connection for the revocation benchmark and the tests that time the loop.
$(B)/bench/revoke-client: bench/revoke-client.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -o $@ $(INPUTS) $(PKG_LIBS)

# The OCSP benchmark's requests, and a revocation timed to its OCSP answer.
$(B)/bench/ocsp-client: bench/ocsp-client.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -o $@ $(INPUTS) $(PKG_LIBS) -lcurl

$(B)/bench/crl-bench: bench/crl-bench.c $(patsubst %.c,$(B)/%.o,$(CRL_SRC)) $(B)/service/atomic-file.o \
                      $(B)/service/util.o $(B)/service/log.o $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -o $@ $(INPUTS) $(PKG_LIBS)

$(CONSOLE_STAMP): $(CONSOLE_SRC) $(wildcard $(CONSOLE_NPM))
	@command -v node >/dev/null 2>&1 || { \
		echo "build: node is missing: install the Debian packages nodejs and npm (make deps does it)" >&2; exit 1; }
	@[ -f $(CONSOLE_NPM) ] || { \
		echo "build: console/node_modules is missing: run npm ci in console/ (make deps does it)" >&2; exit 1; }
	rm -rf $(CONSOLE_OUT)
	node console/build.js --outdir=$(CONSOLE_OUT)

$(B)/locale/%/LC_MESSAGES/certrevoke.mo: po/%.po
	@mkdir -p $(dir $@)
	msgfmt --check -o $@ $<

# Programs the integration tests drive; not tests of their own.
TEST_HELPERS := $(B)/tests/helpers/bus-sweep $(B)/tests/helpers/revoked-index-write $(B)/tests/helpers/crl-watch \
		$(B)/tests/helpers/bus-persistent $(B)/tests/helpers/bus-pipeline

$(B)/tests/helpers/%: tests/helpers/%.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -o $@ $(INPUTS) $(PKG_LIBS)

unit-tests: $(UNIT_TESTS) $(TEST_HELPERS) $(B)/bench/revoke-client

# Everything a fresh Debian 12 machine lacks for building, the demo and the
# tests.  cracklib-runtime brings the dictionary libpwquality checks against
# (libcrack2 only recommends it).
DEB_DEPS := build-essential pkg-config libsystemd-dev libp11-kit-dev libssl-dev \
            libpam0g-dev libsqlite3-dev libinih-dev libcrypt-dev libpwquality-dev \
            cracklib-runtime softhsm2 p11-kit opensc gnutls-bin libnss3-tools libpam-wrapper \
            libnss-wrapper pamtester dbus dbus-daemon dbus-bin systemd openssl \
            sqlite3 gettext locales util-linux clang libclang-rt-14-dev procps \
            python3 psmisc time bc mandoc man-db bash-completion strace \
            cockpit-ws cockpit-bridge cockpit-system chromium fonts-ipafont-gothic curl \
            libmicrohttpd-dev libcurl4-openssl-dev nginx-light nghttp2-client iproute2

deps:
	@missing=$$(for p in $(DEB_DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing" $$missing; \
		[ "$$(id -u)" = 0 ] || { echo "deps: run as root (apt-get)"; exit 1; }; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi
	@locale -a 2>/dev/null | grep -qi '^ja_JP.utf-\?8$$' || { \
		echo "deps: generating the ja_JP.UTF-8 locale"; \
		localedef -i ja_JP -f UTF-8 ja_JP.UTF-8; }
	@# Node and npm from Debian unless some node is there already (another
	@# vendor's nodejs carries its own npm and conflicts with Debian's).
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
		echo "deps: installing nodejs npm"; \
		[ "$$(id -u)" = 0 ] || { echo "deps: run as root (apt-get)"; exit 1; }; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm; \
	fi
	@# The console's npm packages, exactly as package-lock.json says.
	@if [ ! -f $(CONSOLE_NPM) ] || [ console/package-lock.json -nt $(CONSOLE_NPM) ]; then \
		echo "deps: npm ci in console/"; \
		cd console && npm ci --no-audit --no-fund; \
	fi

# After deps, a make of their own: see the top of this file.
demo: deps
	$(MAKE) all
	tests/demo.sh

# The demo's world with the console open for a person: prints the URL and
# keeps everything running until Ctrl-C.
console: deps
	$(MAKE) all
	tests/demo.sh --console

ASAN_VARS := B=build-asan OPT="-O1 -g" \
             SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"

check: deps
	$(MAKE) all unit-tests
	tests/run.sh --build=$(B)
	$(MAKE) fuzz FUZZ_SECONDS=15
	$(MAKE) $(ASAN_VARS) all unit-tests
	tests/run.sh --build=build-asan

bench: deps
	$(MAKE) all $(B)/bench/list-users-client $(B)/bench/revoke-client $(B)/bench/crl-bench \
		$(B)/bench/ocsp-client bench-module
	bench/list-users.sh --build=$(B)
	bench/crl.sh --build=$(B)
	bench/revoke.sh --build=$(B)
	bench/sync.sh --build=$(B)
	bench/ocsp.sh --build=$(B)

clean:
	rm -rf build build-asan

.PHONY: all deps demo console check bench clean unit-tests FORCE

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# PAM module
# pam_certrevoke.so, and the confirmation-password file code it shares with
# the daemon.  The module gets position-independent objects of its own;
# CONFIRM_SHADOW_OBJ and CONFIRM_SHADOW_LIBS are what any other program
# linking that code needs (the daemon: add them to its objects and libs and
# -Ipam to its flags).
PAM_MODULE_SRC      := pam/pam_certrevoke.c pam/confirm-shadow.c pam/password-quality.c
PAM_MODULE_OBJ      := $(patsubst pam/%.c,$(B)/pam/pic/%.o,$(PAM_MODULE_SRC))
CONFIRM_SHADOW_OBJ  := $(B)/pam/confirm-shadow.o $(B)/pam/password-quality.o
CONFIRM_SHADOW_LIBS := $(CRYPT_LIBS) $(PWQ_LIBS)

# Only the pam_sm_* functions are visible (EXPORT in pam_certrevoke.c).
$(B)/pam/pic/%.o: pam/%.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c $< -o $@

$(B)/pam_certrevoke.so: $(PAM_MODULE_OBJ)
	$(CC) $(LDFLAGS) -shared -Wl,-z,defs -Wl,-z,relro -Wl,-z,now -o $@ $^ $(PAM_LIBS) $(CONFIRM_SHADOW_LIBS)

$(B)/tests/test-confirm-shadow: tests/unit/test-confirm-shadow.c $(CONFIRM_SHADOW_OBJ) $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itests -Ipam -o $@ $(INPUTS) $(CONFIRM_SHADOW_LIBS)

# libFuzzer target for the parser; `make fuzz-confirm-shadow` runs it for
# FUZZ_SECONDS (crashes are left in $(B)/fuzz as crash-*).
FUZZ_FLAGS   := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

$(B)/fuzz/fuzz-confirm-shadow: fuzz/fuzz-confirm-shadow.c pam/confirm-shadow.c pam/confirm-shadow.h include/cleanup.h \
                               $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -Ipam -o $@ fuzz/fuzz-confirm-shadow.c pam/confirm-shadow.c \
		$(CRYPT_LIBS)

fuzz-confirm-shadow: $(B)/fuzz/fuzz-confirm-shadow
	@mkdir -p $(B)/fuzz/corpus-confirm-shadow
	@printf 'alice:$$y$$j9T$$abc$$def:\nbob:!:suspended,x\n' >$(B)/fuzz/corpus-confirm-shadow/seed-1
	@printf 'a:b:c\n\n:x:\nc::\nd:e:f:g\ne:*:suspended' >$(B)/fuzz/corpus-confirm-shadow/seed-2
	cd $(B)/fuzz && ./fuzz-confirm-shadow -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-print_final_stats=1 corpus-confirm-shadow

.PHONY: fuzz-confirm-shadow

# PKCS#11 trust module
# build/certrevoke-pkcs11.so (only C_GetFunctionList exported: hidden
# visibility and a version script), its unit test, a libFuzzer target for the
# loader (`make fuzz-module-loader`, FUZZ_SECONDS long) and the benchmark
# against p11-kit's trust module (`make bench-module`).
MODULE_SRC      := module/module.c module/state.c module/index.c module/attrs.c module/x509.c module/der.c \
                   service/names.c
MODULE_OBJ      := $(patsubst %.c,$(B)/module/pic/%.o,$(MODULE_SRC))
MODULE_LIBS     := -lcrypto -lpthread
MODULES         := $(B)/certrevoke-pkcs11.so

$(B)/module/pic/%.o: %.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c $< -o $@

$(B)/certrevoke-pkcs11.so: $(MODULE_OBJ) module/certrevoke-pkcs11.map
	$(CC) $(LDFLAGS) -shared -Wl,--version-script=module/certrevoke-pkcs11.map \
		-Wl,-z,defs -Wl,-z,relro -Wl,-z,now -o $@ $(MODULE_OBJ) $(MODULE_LIBS)

# The unit tests link the module's objects and call its function list; they
# write revoked.idx with the daemon's writer.
INDEX_WRITER_OBJ := $(B)/service/revoked-index.o $(B)/service/atomic-file.o $(B)/service/log.o \
                    $(B)/service/util.o

$(B)/tests/test-module: tests/unit/test-module.c $(MODULE_OBJ) $(INDEX_WRITER_OBJ) $(FLAGS_FILE) | $(MODULES)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -Itests -Imodule -o $@ $< $(MODULE_OBJ) $(INDEX_WRITER_OBJ) \
		$(MODULE_LIBS) $(PKG_LIBS)

$(B)/tests/test-revoked-index: tests/unit/test-revoked-index.c $(MODULE_OBJ) $(INDEX_WRITER_OBJ) $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -Itests -Imodule -o $@ $< $(MODULE_OBJ) $(INDEX_WRITER_OBJ) \
		$(MODULE_LIBS) $(PKG_LIBS)

MODULE_FUZZ_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
                     -fno-sanitize-recover=all

$(B)/fuzz/fuzz-module-loader: fuzz/fuzz-module-loader.c $(MODULE_SRC) $(wildcard module/*.h) $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(PKG_CFLAGS) $(WARN) $(MODULE_FUZZ_FLAGS) -Imodule -o $@ \
		fuzz/fuzz-module-loader.c $(MODULE_SRC) -lcrypto -lpthread

# Seeds are made fresh with openssl each run; crashes stay in $(B)/fuzz.
# `make fuzz` runs every fuzz target that adds itself here.
fuzz: fuzz-module-loader fuzz-confirm-shadow fuzz-ocsp-request fuzz-sync

# certrevoke-ocspd's request path: GET path decoding, DER parsing, CertID
# matching, against the CA the seeds ask about.
$(B)/fuzz/fuzz-ocsp-request: fuzz/fuzz-ocsp-request.c $(OCSP_CORE_SRC) service/ocsp-request.h include/cleanup.h \
                             $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ fuzz/fuzz-ocsp-request.c $(OCSP_CORE_SRC) -lcrypto

fuzz-ocsp-request: $(B)/fuzz/fuzz-ocsp-request
	fuzz/ocsp-seeds.sh $(B)/fuzz/corpus-ocsp-request $(B)/fuzz/ocsp-ca.pem
	cd $(B)/fuzz && FUZZ_OCSP_CA=ocsp-ca.pem ./fuzz-ocsp-request -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-print_final_stats=1 corpus-ocsp-request

fuzz-module-loader: $(B)/fuzz/fuzz-module-loader $(B)/tests/helpers/revoked-index-write
	fuzz/module-seeds.sh $(B)/fuzz/corpus-module-loader $(B)/tests/helpers/revoked-index-write
	cd $(B)/fuzz && ./fuzz-module-loader -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
		-print_final_stats=1 corpus-module-loader

$(B)/bench/module-bench: bench/module-bench.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -o $@ $< -ldl -lcrypto

# Writes revoked.idx with the daemon's writer.
$(B)/tests/helpers/revoked-index-write: tests/helpers/revoked-index-write.c $(INDEX_WRITER_OBJ) \
                                       $(B)/module/x509.o $(B)/module/der.o $(B)/service/names.o $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -o $@ $< $(filter-out $<,$(INPUTS)) $(PKG_LIBS) -lpthread

$(B)/bench/module-gen: bench/module-gen.c $(INDEX_WRITER_OBJ) $(B)/module/x509.o $(B)/module/der.o \
                       $(B)/service/names.o $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -o $@ $< $(filter-out $<,$(INPUTS)) $(PKG_LIBS) -lpthread

bench-module: $(MODULES) $(B)/bench/module-bench $(B)/bench/module-gen
	bench/module.sh --build=$(B)

.PHONY: fuzz fuzz-module-loader fuzz-ocsp-request bench-module

# Installation
# `make install` and `make uninstall`, honouring DESTDIR and PREFIX (give the
# same PREFIX to `make`: the message catalogue's directory is built in).
# Programs, catalogues and documentation go under PREFIX; the files other
# packages read go where those packages look, as their pkg-config files say
# (falling back to Debian's places).  The manual goes to MANDIR
# (man1, man5, man8), the bash completion where bash-completion looks.
# Every directory can be overridden on the command line, e.g.
# `make install PAMMODULEDIR=/usr/lib64/security`.
# An existing /etc/pam.d/certrevoke is the administrator's and is kept;
# uninstall removes it only while it is the shipped one, unchanged.
pc_var = $(or $(shell pkg-config --variable=$(2) $(1) 2>/dev/null),$(3))

BINDIR               ?= $(PREFIX)/bin
LIBEXECDIR           ?= $(PREFIX)/libexec
PKGLIBEXECDIR        ?= $(LIBEXECDIR)/certrevoke
DATADIR              ?= $(PREFIX)/share
DOCDIR               ?= $(DATADIR)/doc/certrevoke
SYSCONFDIR           ?= /etc
PAMCONFDIR           ?= $(SYSCONFDIR)/pam.d
SYSTEMDSYSTEMUNITDIR ?= $(call pc_var,systemd,systemdsystemunitdir,/lib/systemd/system)
TMPFILESDIR          ?= $(call pc_var,systemd,tmpfilesdir,/usr/lib/tmpfiles.d)
SYSUSERSDIR          ?= $(call pc_var,systemd,sysusersdir,/usr/lib/sysusers.d)
DBUSDATADIR          ?= $(call pc_var,dbus-1,datadir,/usr/share)
DBUSPOLICYDIR        ?= $(DBUSDATADIR)/dbus-1/system.d
DBUSSYSTEMSERVICEDIR ?= $(call pc_var,dbus-1,system_bus_services_dir,$(DBUSDATADIR)/dbus-1/system-services)
P11MODULECONFIGDIR   ?= $(call pc_var,p11-kit-1,p11_module_configs,/usr/share/p11-kit/modules)
P11MODULEDIR         ?= $(call pc_var,p11-kit-1,p11_module_path,/usr/lib/pkcs11)
MULTIARCH            ?= $(shell $(CC) -print-multiarch 2>/dev/null)
PAMMODULEDIR         ?= $(if $(MULTIARCH),/lib/$(MULTIARCH)/security,$(call pc_var,pam,libdir,/usr/lib)/security)
MANDIR               ?= $(DATADIR)/man
COCKPITDIR           ?= $(DATADIR)/cockpit
BASHCOMPLETIONDIR    ?= $(call pc_var,bash-completion,completionsdir,$(DATADIR)/bash-completion/completions)

INSTALL ?= install
# The units, the activation file and the manual name the daemon by its
# default path.
SUBST_LIBEXEC = sed 's|/usr/libexec/certrevoke/|$(PKGLIBEXECDIR)/|g'

# The manual, each page into the man<section> directory its suffix names.
MAN_PAGES     := man/certrevokectl.1 man/certrevoke.conf.5 man/certrevoked.8 man/pam_certrevoke.8 \
                 man/certrevoke-pkcs11.8 man/certrevoke-ocspd.8 man/certrevoke-sync.8
man_dest       = $(MANDIR)/man$(subst .,,$(suffix $(1)))/$(notdir $(1))

# Every file install puts in place but /etc/pam.d/certrevoke.
INSTALLED_FILES = \
	$(BINDIR)/certrevokectl \
	$(PKGLIBEXECDIR)/certrevoked \
	$(PKGLIBEXECDIR)/certrevoke-pam-helper \
	$(PKGLIBEXECDIR)/certrevoke-ocspd \
	$(PKGLIBEXECDIR)/certrevoke-sync \
	$(patsubst $(B)/locale/%,$(LOCALEDIR)/%,$(MO_FILES)) \
	$(PAMMODULEDIR)/pam_certrevoke.so \
	$(P11MODULEDIR)/certrevoke-pkcs11.so \
	$(P11MODULECONFIGDIR)/certrevoke.module \
	$(SYSTEMDSYSTEMUNITDIR)/certrevoked.service \
	$(SYSTEMDSYSTEMUNITDIR)/certrevoke-refresh.service \
	$(SYSTEMDSYSTEMUNITDIR)/certrevoke-refresh.timer \
	$(SYSTEMDSYSTEMUNITDIR)/certrevoke-ocspd.service \
	$(SYSTEMDSYSTEMUNITDIR)/certrevoke-ocspd.socket \
	$(SYSTEMDSYSTEMUNITDIR)/certrevoke-sync.service \
	$(SYSTEMDSYSTEMUNITDIR)/certrevoke-sync.timer \
	$(TMPFILESDIR)/certrevoke.conf \
	$(SYSUSERSDIR)/certrevoke-ocsp.conf \
	$(DBUSPOLICYDIR)/org.certrevoke1.conf \
	$(DBUSSYSTEMSERVICEDIR)/org.certrevoke1.service \
	$(DOCDIR)/certrevoke.conf.example \
	$(DOCDIR)/pam.d-certrevoke \
	$(foreach p,$(MAN_PAGES),$(call man_dest,$(p))) \
	$(BASHCOMPLETIONDIR)/certrevokectl

install: all
	$(INSTALL) -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(PKGLIBEXECDIR) $(DESTDIR)$(PAMMODULEDIR) \
		$(DESTDIR)$(P11MODULEDIR) $(DESTDIR)$(P11MODULECONFIGDIR) $(DESTDIR)$(SYSTEMDSYSTEMUNITDIR) \
		$(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(DBUSPOLICYDIR) $(DESTDIR)$(DBUSSYSTEMSERVICEDIR) \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(PAMCONFDIR) $(DESTDIR)$(BASHCOMPLETIONDIR) \
		$(sort $(foreach p,$(MAN_PAGES),$(dir $(DESTDIR)$(call man_dest,$(p)))))
	$(INSTALL) -m 0755 $(B)/certrevokectl $(DESTDIR)$(BINDIR)/certrevokectl
	$(INSTALL) -m 0755 $(B)/certrevoked $(B)/certrevoke-pam-helper $(B)/certrevoke-ocspd $(B)/certrevoke-sync \
		$(DESTDIR)$(PKGLIBEXECDIR)/
	set -e; for mo in $(MO_FILES); do \
		$(INSTALL) -D -m 0644 $$mo $(DESTDIR)$(LOCALEDIR)/$${mo#$(B)/locale/}; \
	done
	$(INSTALL) -m 0644 $(B)/pam_certrevoke.so $(DESTDIR)$(PAMMODULEDIR)/pam_certrevoke.so
	$(INSTALL) -m 0644 $(B)/certrevoke-pkcs11.so $(DESTDIR)$(P11MODULEDIR)/certrevoke-pkcs11.so
	$(INSTALL) -m 0644 units/certrevoke.module $(DESTDIR)$(P11MODULECONFIGDIR)/certrevoke.module
	$(SUBST_LIBEXEC) units/certrevoked.service >$(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/certrevoked.service
	chmod 0644 $(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/certrevoked.service
	$(INSTALL) -m 0644 units/certrevoke-refresh.service units/certrevoke-refresh.timer \
		$(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/
	$(SUBST_LIBEXEC) units/certrevoke-ocspd.service >$(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/certrevoke-ocspd.service
	chmod 0644 $(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/certrevoke-ocspd.service
	$(INSTALL) -m 0644 units/certrevoke-ocspd.socket $(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/
	$(SUBST_LIBEXEC) units/certrevoke-sync.service >$(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/certrevoke-sync.service
	chmod 0644 $(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/certrevoke-sync.service
	$(INSTALL) -m 0644 units/certrevoke-sync.timer $(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/
	$(INSTALL) -m 0644 units/certrevoke.tmpfiles $(DESTDIR)$(TMPFILESDIR)/certrevoke.conf
	$(INSTALL) -m 0644 units/certrevoke-ocsp.sysusers $(DESTDIR)$(SYSUSERSDIR)/certrevoke-ocsp.conf
	$(INSTALL) -m 0644 units/org.certrevoke1.conf $(DESTDIR)$(DBUSPOLICYDIR)/org.certrevoke1.conf
	$(SUBST_LIBEXEC) units/org.certrevoke1.service >$(DESTDIR)$(DBUSSYSTEMSERVICEDIR)/org.certrevoke1.service
	chmod 0644 $(DESTDIR)$(DBUSSYSTEMSERVICEDIR)/org.certrevoke1.service
	$(INSTALL) -m 0644 units/certrevoke.conf.example $(DESTDIR)$(DOCDIR)/certrevoke.conf.example
	$(INSTALL) -m 0644 pam/certrevoke $(DESTDIR)$(DOCDIR)/pam.d-certrevoke
	set -e; for p in $(MAN_PAGES); do \
		dest=$(DESTDIR)$(MANDIR)/man$${p##*.}/$${p#man/}; \
		$(SUBST_LIBEXEC) $$p >$$dest; \
		chmod 0644 $$dest; \
	done
	$(INSTALL) -m 0644 shell-completion/bash/certrevokectl $(DESTDIR)$(BASHCOMPLETIONDIR)/certrevokectl
	rm -rf $(DESTDIR)$(COCKPITDIR)/certrevoke
	set -e; cd $(CONSOLE_OUT) && find . -type f | while read -r f; do \
		$(INSTALL) -D -m 0644 "$$f" "$(DESTDIR)$(COCKPITDIR)/certrevoke/$${f#./}"; \
	done
	@if [ ! -e $(DESTDIR)$(PAMCONFDIR)/certrevoke ]; then \
		echo "$(INSTALL) -m 0644 pam/certrevoke $(DESTDIR)$(PAMCONFDIR)/certrevoke"; \
		$(INSTALL) -m 0644 pam/certrevoke $(DESTDIR)$(PAMCONFDIR)/certrevoke; \
	elif ! cmp -s pam/certrevoke $(DESTDIR)$(PAMCONFDIR)/certrevoke; then \
		echo "install: kept $(DESTDIR)$(PAMCONFDIR)/certrevoke, which differs from the shipped" \
			"$(DOCDIR)/pam.d-certrevoke"; \
	fi

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED_FILES))
	@if cmp -s pam/certrevoke $(DESTDIR)$(PAMCONFDIR)/certrevoke; then \
		echo "rm -f $(DESTDIR)$(PAMCONFDIR)/certrevoke"; \
		rm -f $(DESTDIR)$(PAMCONFDIR)/certrevoke; \
	elif [ -e $(DESTDIR)$(PAMCONFDIR)/certrevoke ]; then \
		echo "uninstall: kept $(DESTDIR)$(PAMCONFDIR)/certrevoke: changed since installation"; \
	fi
	rm -rf $(DESTDIR)$(COCKPITDIR)/certrevoke
	for d in $(DESTDIR)$(PKGLIBEXECDIR) $(DESTDIR)$(DOCDIR); do \
		[ ! -d $$d ] || rmdir --ignore-fail-on-non-empty $$d; \
	done

.PHONY: install uninstall

# certrevoke-sync
# One sync of this host's trust module with another host's published CRL
# (libcurl), and a libFuzzer target for what it reads of the publisher's
# revoked.idx (`make fuzz-sync-index`).
CURL_CFLAGS := $(shell pkg-config --cflags libcurl 2>/dev/null)
CURL_LIBS   := $(shell pkg-config --libs libcurl 2>/dev/null)
SYNC_SRC    := service/sync.c service/program-args.c service/sync-fetch.c service/sync-verify.c service/sync-index.c service/sync-certs.c \
               service/sync-diff.c service/sync-patch.c service/sync-gaps.c service/sync-install.c service/config.c service/atomic-file.c service/util.c service/log.c \
               service/crl-file.c service/revoked-index.c service/names.c module/x509.c module/der.c
SYNC_OBJ    := $(patsubst %.c,$(B)/%.o,$(SYNC_SRC))

$(B)/service/sync-verify.o $(B)/service/sync-certs.o $(B)/service/sync-index.o $(B)/service/sync-patch.o \
$(B)/service/sync-diff.o $(B)/service/sync-gaps.o: \
	private CPPFLAGS += -Imodule
$(B)/service/sync.o $(B)/service/sync-fetch.o $(B)/service/sync-certs.o $(B)/service/sync-install.o: \
	private CPPFLAGS += -Imodule $(CURL_CFLAGS)

# The sync's judgement of downloaded bytes, without a network.
SYNC_TEST_OBJ := $(filter-out $(B)/service/sync.o,$(SYNC_OBJ))

$(B)/tests/test-sync: tests/unit/test-sync.c $(SYNC_TEST_OBJ) $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CURL_CFLAGS) $(CFLAGS) -Itests -Imodule -o $@ $< $(SYNC_TEST_OBJ) \
		$(PKG_LIBS) $(CURL_LIBS) -lpthread

$(B)/certrevoke-sync: $(SYNC_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CURL_LIBS) -lpthread

SYNC_FUZZ_SRC := fuzz/fuzz-sync.c service/sync-index.c service/sync-patch.c service/sync-fetch.c service/log.c

$(B)/fuzz/fuzz-sync: $(SYNC_FUZZ_SRC) $(wildcard service/sync-*.h) include/revoked-index-format.h $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CURL_CFLAGS) $(WARN) $(FUZZ_FLAGS) -Imodule -o $@ $(SYNC_FUZZ_SRC) \
		$(CURL_LIBS) -lcrypto -lsystemd

# Seeds: a CRL with entries and holds (openssl) and a revoked.idx written by
# the daemon's writer, fresh each run.
fuzz-sync: $(B)/fuzz/fuzz-sync $(B)/tests/helpers/revoked-index-write
	fuzz/sync-seeds.sh $(B)/fuzz/corpus-sync $(B)/tests/helpers/revoked-index-write
	cd $(B)/fuzz && ./fuzz-sync -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1 corpus-sync

.PHONY: fuzz-sync
