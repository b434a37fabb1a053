# certrevoke — top-level build.  `make`, `make check`, `make demo`, `make deps`.

PREFIX     ?= /usr
LOCALEDIR  ?= $(PREFIX)/share/locale
B          ?= build

CC         ?= cc
PKGS       := libsystemd p11-kit-1 openssl sqlite3 inih
PKG_CFLAGS  = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN       := -std=c11 -Wall -Wextra -Werror
OPT        ?= -O2 -g
SAN        ?=
VERSION    := 0.1
CPPFLAGS   += -D_GNU_SOURCE -DCR_VERSION=\"$(VERSION)\" -Iinclude -Iservice -DLOCALEDIR=\"$(LOCALEDIR)\"
CFLAGS     += $(WARN) $(OPT) $(SAN)
LDFLAGS    += $(SAN)

COMMON_SRC := service/names.c service/util.c
DAEMON_SRC := service/certrevoked.c service/config.c service/store.c \
              service/cert.c service/tokens.c service/bus-manager.c service/caller.c \
              service/bus-user.c service/log.c service/filing.c service/rescan.c \
              service/publish.c service/revoke.c service/atomic-file.c \
              $(wildcard service/crl.c service/auth.c)
CTL_SRC    := service/certrevokectl.c service/ctl-format.c

DAEMON_OBJ := $(patsubst %.c,$(B)/%.o,$(COMMON_SRC) $(DAEMON_SRC))
CTL_OBJ    := $(patsubst %.c,$(B)/%.o,$(COMMON_SRC) $(CTL_SRC))
LIB_OBJ    := $(filter-out $(B)/service/certrevoked.o,$(DAEMON_OBJ)) $(B)/service/ctl-format.o

UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test-*.c))

LINGUAS    := ja
MO_FILES   := $(patsubst %,$(B)/locale/%/LC_MESSAGES/certrevoke.mo,$(LINGUAS))

HELPERS    := $(if $(wildcard service/pam-helper.c),$(B)/certrevoke-pam-helper)

all: $(B)/certrevoked $(B)/certrevokectl $(HELPERS) $(MO_FILES)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/certrevoked: $(DAEMON_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

$(B)/certrevokectl: $(CTL_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Checks one confirmation password through PAM for the daemon, in its own process.
$(B)/certrevoke-pam-helper: $(B)/service/pam-helper.o
	$(CC) $(LDFLAGS) -o $@ $^ -lpam

$(B)/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -Itests -o $@ $^ $(PKG_LIBS) -lpthread

$(B)/bench/list-users-client: bench/list-users-client.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/bench/crl-bench: bench/crl-bench.c $(B)/service/crl.o $(B)/service/atomic-file.o $(B)/service/util.o $(B)/service/log.o
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/locale/%/LC_MESSAGES/certrevoke.mo: po/%.po
	@mkdir -p $(dir $@)
	msgfmt --check -o $@ $<

unit-tests: $(UNIT_TESTS)

# Everything a fresh Debian 12 machine lacks for building, the demo and the tests.
DEB_DEPS := build-essential pkg-config libsystemd-dev libp11-kit-dev libssl-dev \
            libpam0g-dev libsqlite3-dev libinih-dev libcrypt-dev libpwquality-dev \
            softhsm2 p11-kit opensc gnutls-bin libnss3-tools libpam-wrapper \
            libnss-wrapper pamtester dbus dbus-daemon dbus-bin systemd openssl \
            sqlite3 gettext locales util-linux clang libclang-rt-14-dev procps \
            python3 psmisc time

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

demo: deps all
	tests/demo.sh

check: deps
	$(MAKE) all unit-tests
	tests/run.sh --build=$(B)
	$(MAKE) B=build-asan SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" OPT="-O1 -g" all unit-tests
	tests/run.sh --build=build-asan

bench: deps all $(B)/bench/list-users-client $(B)/bench/crl-bench
	bench/list-users.sh --build=$(B)
	bench/crl.sh --build=$(B)

clean:
	rm -rf build build-asan

.PHONY: all deps demo check bench clean unit-tests

-include $(shell find $(B) -name '*.d' 2>/dev/null)
