#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# Tokens that come and go between walks: a card pulled out does not break
# the rescan, lowers its count, and its user keeps the certificate (still
# issued, the URI where it was last seen); a card put in later is filed at
# the next rescan, and the user object emits PropertiesChanged with the new
# CertificateState, while users whose certificates did not change emit
# nothing.  A module path in Modules= that does not exist is logged, and the
# daemon starts and walks the other modules all the same.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon dbus-monitor busctl softhsm2-util pkcs11-tool openssl setpriv timeout

cr_world_init

# card LOGIN: a card holding a new certificate (and key) for LOGIN.
card() {
        cr_token_create "card-$1-01"
        cr_cert_issue "$CR_CA" "$1" "User $1" "$CR_PAST" "$CR_LATER" "$CR_CERTS/$1.pem"
        cr_token_put_cert "card-$1-01" "$CR_CERTS/$1.pem" 01 "$1 certificate"
        cr_token_put_key "card-$1-01" "$CR_CERTS/$1.key" 01 "$1 key"
}

# wait_for FILE TEXT: waits up to 10 s for TEXT to appear in FILE.
wait_for() {
        local i
        for ((i = 0; i < 100; i++)); do
                grep -qF -- "$2" "$1" 2>/dev/null && return 0
                sleep 0.1
        done
        cr_fail_at "'$2' did not appear in $1" "$(cr_indent <"$1")"
}

# log_since_start: the daemon's log since its last start.
log_since_start() {
        awk '/^--- start:/ { buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' "$CR_TMP/daemon.log"
}

card anna
card ben

cr_start_bus
cr_start_daemon
cr_ctl add-user anna "Anna" general 1001
cr_ctl add-user ben "Ben" general 1002
cr_ctl add-user carl "Carl" general 1003

assert_exit 0 cr_ctl rescan
assert_eq "2 certificates seen" "$CR_LAST_OUTPUT"
anna_uri=$(cr_user_prop anna CertificateURI)
assert_contains "$anna_uri" "token=card-anna-01;"

# ---- a card pulled out between walks
cr_token_remove card-anna-01
assert_exit 0 cr_ctl rescan
assert_eq "1 certificate seen" "$CR_LAST_OUTPUT" "the pulled card's certificate is not seen"
assert_eq 's "issued"' "$(cr_user_prop anna CertificateState)" "anna keeps her certificate"
assert_eq "s \"$(cr_cert_serial "$CR_CERTS/anna.pem")\"" "$(cr_user_prop anna CertificateSerial)"
assert_eq "$anna_uri" "$(cr_user_prop anna CertificateURI)" "the URI stays where it was last seen"
assert_eq 's "issued"' "$(cr_user_prop ben CertificateState)"
assert_exit 0 cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager Rescan
assert_eq "u 1" "$CR_LAST_OUTPUT"

# ---- a card put in later: filed at the next rescan, with a signal
timeout 30 dbus-monitor --address "$CR_BUS_ADDRESS" \
        "type='signal',sender='org.certrevoke1',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged'" \
        >"$CR_TMP/monitor.out" 2>&1 &
monitor=$!
cr_track "$monitor"
# dbus-monitor prints the loss of its own name once it is a monitor.
wait_for "$CR_TMP/monitor.out" "member=NameLost"

card carl
assert_eq 's "not-issued"' "$(cr_user_prop carl CertificateState)"
assert_exit 0 cr_ctl rescan
assert_eq "2 certificates seen" "$CR_LAST_OUTPUT"
assert_eq 's "issued"' "$(cr_user_prop carl CertificateState)"
assert_contains "$(cr_user_prop carl CertificateURI)" "token=card-carl-01;"

wait_for "$CR_TMP/monitor.out" "path=/org/certrevoke1/user/carl;"
# A marker change after the rescan: once its signal is in, every signal of
# the rescan is too.
cr_ctl set-role ben worker
wait_for "$CR_TMP/monitor.out" "path=/org/certrevoke1/user/ben;"
cr_kill_pids "$monitor"
cr_untrack "$monitor"

# signal_of PATH: the body of the first PropertiesChanged signal on PATH.
signal_of() {
        awk -v p="path=$1;" '
                /^signal / { inside = index($0, p) > 0 && !done; if (!inside && seen) done = 1; if (inside) seen = 1; next }
                inside { print }' "$CR_TMP/monitor.out"
}
carl_signal=$(signal_of /org/certrevoke1/user/carl)
assert_contains "$carl_signal" 'string "org.certrevoke1.User"'
assert_contains "$(grep -A1 '"CertificateState"' <<<"$carl_signal")" 'string "issued"' \
        "PropertiesChanged carries the new CertificateState"
assert_contains "$(grep -A1 '"CertificateSerial"' <<<"$carl_signal")" "string \"$(cr_cert_serial "$CR_CERTS/carl.pem")\""
assert_not_contains "$(cat "$CR_TMP/monitor.out")" "path=/org/certrevoke1/user/anna;" \
        "nothing changed for anna: no signal"
assert_eq 1 "$(grep -c 'path=/org/certrevoke1/user/ben;' "$CR_TMP/monitor.out")" \
        "ben signals only for the role change, not for the rescan"

cr_stop_daemon

# ---- a module path that does not exist
cat >>"$CR_TMP/certrevoke.conf.new" <<EOF
$(sed '/^Modules=/d' "$CR_TMP/certrevoke.conf")
EOF
sed -i "s|^\[Tokens\]\$|[Tokens]\nModules=$CR_TMP/no-such-module.so $CR_SOFTHSM_MODULE|" "$CR_TMP/certrevoke.conf.new"
mv "$CR_TMP/certrevoke.conf.new" "$CR_TMP/certrevoke.conf"
assert_contains "$(cat "$CR_TMP/certrevoke.conf")" "Modules=$CR_TMP/no-such-module.so $CR_SOFTHSM_MODULE"
cr_start_daemon
assert_exit 0 cr_ctl rescan
assert_eq "2 certificates seen" "$CR_LAST_OUTPUT" "the other module is still walked"
assert_contains "$(log_since_start)" "cannot load module $CR_TMP/no-such-module.so" \
        "the missing module is logged"
assert_eq 's "issued"' "$(cr_user_prop carl CertificateState)"
assert_eq 's "issued"' "$(cr_user_prop anna CertificateState)"
cr_stop_daemon

# Only a missing module: the walk finds nothing and says so, without failing.
sed -i "s|^Modules=.*|Modules=$CR_TMP/no-such-module.so|" "$CR_TMP/certrevoke.conf"
cr_start_daemon
assert_exit 0 cr_ctl rescan
assert_eq "0 certificates seen" "$CR_LAST_OUTPUT"
assert_eq 's "issued"' "$(cr_user_prop ben CertificateState)" "certificates already filed stay"
cr_stop_daemon
echo "tokens OK"
