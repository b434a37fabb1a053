#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# Where certrevoked writes.  A StateDirectory or PublishDirectory that a user
# other than root could change stops the start, naming the key, the path and
# why, before the bus is connected to and before anything is written there:
# a symbolic link (to a 0777 directory), a 0777 or 0775 directory, one owned
# by another UID, one below a directory others can write (not sticky) or
# below another user's symbolic link.  The good case publishes: 0711 state
# directory, a sticky directory and a root's symbolic link on the way, a
# missing publish directory made 0755 whatever the umask.  SIGHUP with such a
# directory keeps the configuration in use; a publish directory swapped for
# a symbolic link while the daemon runs is not written through.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon dbus-send busctl softhsm2-util pkcs11-tool openssl setpriv timeout find stat
cr_need_python
[[ $(id -u) == 0 ]] || cr_skip "needs root (directories of other owners)"
[[ -x $CR_BUILD/certrevoke-pam-helper ]] || cr_skip "no $CR_BUILD/certrevoke-pam-helper"

cr_world_init
cr_pam_init
OTHER=1234
good=Conf1rm-Paths-7d2b
cr_pam_password root "$good"
cr_card anna "Anna Example"
cr_card bert "Bert Example"
cr_start_bus
cr_write_config "$CR_TMP/certrevoke.conf"

# A bus address that only records whether anyone connected.
cr_start_trap_bus
trap_bus=$CR_TRAP_BUS

# with_dirs STATE PUBLISH: the test configuration with these directories.
with_dirs() {
        sed -e "s|^StateDirectory=.*|StateDirectory=$1|" -e "s|^PublishDirectory=.*|PublishDirectory=$2|" \
                "$CR_TMP/certrevoke.conf" >"$CR_TMP/case.conf"
}

# refused STATE PUBLISH EXPECTED WATCH…: certrevoked with these directories
# stops at once saying EXPECTED, connects to no bus, and writes nothing into
# the directories WATCH.
refused() {
        local state=$1 pub=$2 expected=$3 status=0 dir
        shift 3
        with_dirs "$state" "$pub"
        rm -f -- "$CR_TMP/trap.out"
        (cd "$CR_TMP" && exec env DBUS_SYSTEM_BUS_ADDRESS="$trap_bus" SOFTHSM2_CONF="$SOFTHSM2_CONF" \
                "${CR_DAEMON_ENV[@]}" timeout -k 2 15 "$CR_BUILD/certrevoked" --config="$CR_TMP/case.conf") \
                </dev/null >"$CR_TMP/run.out" 2>"$CR_TMP/run.err" || status=$?
        cat "$CR_TMP/run.err" >>"$CR_TMP/runs.log"
        [[ $status != 0 && $status != 124 ]] ||
                cr_fail_at "certrevoked started with StateDirectory=$state PublishDirectory=$pub (status $status)" \
                        "$(cr_indent <"$CR_TMP/run.err")"
        assert_contains "$(cat "$CR_TMP/run.err")" "$expected"
        assert_eq "" "$(cat "$CR_TMP/trap.out" 2>/dev/null)" "refused before the bus: $expected"
        for dir in "$@"; do
                assert_eq "" "$(find "$dir" -mindepth 1 -printf '%P\n')" "nothing written into $dir"
        done
        if [[ $CR_ASAN == 1 ]]; then
                cr_check_sanitizers "$CR_TMP/run.err" || cr_fail_at "sanitizer report"
        fi
}

# case_dir NAME: a fresh directory for one case, with a good state directory.
case_dir() {
        local c=$CR_TMP/cases/$1
        mkdir -p "$c/state"
        chmod 0755 "$CR_TMP/cases" "$c"
        chmod 0700 "$c/state"
        echo "$c"
}

# ---- the publish directory
c=$(case_dir pub-link)
mkdir -m 0777 "$c/open"
chmod 0777 "$c/open"
ln -s "$c/open" "$c/public"
refused "$c/state" "$c/public" \
        "PublishDirectory=$c/public: is a symbolic link; refusing to write through it" "$c/open" "$c/state"

c=$(case_dir pub-0777)
mkdir "$c/public"
chmod 0777 "$c/public"
refused "$c/state" "$c/public" \
        "PublishDirectory=$c/public: is writable by its group and others (mode 0777); refusing to write there" \
        "$c/public" "$c/state"

c=$(case_dir pub-0775)
mkdir "$c/public"
chmod 0775 "$c/public"
refused "$c/state" "$c/public" "PublishDirectory=$c/public: is writable by its group (mode 0775)" "$c/public"

c=$(case_dir pub-owner)
mkdir -m 0755 "$c/public"
chown "$OTHER:$OTHER" "$c/public"
refused "$c/state" "$c/public" \
        "PublishDirectory=$c/public: is owned by UID $OTHER, not by root; refusing to write there" "$c/public"

# one above it that others can write: they could put another in its place
c=$(case_dir pub-parent)
mkdir -p "$c/open/public"
chmod 0777 "$c/open"
chmod 0755 "$c/open/public"
refused "$c/state" "$c/open/public" \
        "PublishDirectory=$c/open/public: $c/open, on the way to it, is writable by its group and others (mode 0777) and not sticky" \
        "$c/open/public"

# a symbolic link on the way that another user made
c=$(case_dir pub-their-link)
mkdir -p "$c/real/public"
chmod 0755 "$c/real" "$c/real/public"
ln -s "$c/real" "$c/theirs"
chown -h "$OTHER:$OTHER" "$c/theirs"
refused "$c/state" "$c/theirs/public" \
        "PublishDirectory=$c/theirs/public: $c/theirs, on the way to it, is a symbolic link owned by UID $OTHER" \
        "$c/real/public"

# ---- the state directory
c=$(case_dir state-link)
mkdir -m 0700 "$c/real-state"
ln -s "$c/real-state" "$c/link-state"
refused "$c/link-state" "$c/public" \
        "StateDirectory=$c/link-state: is a symbolic link; refusing to write through it" "$c/real-state"
[[ ! -e $c/public ]] || cr_fail_at "the publish directory was made although the state directory was refused"

c=$(case_dir state-0777)
chmod 0777 "$c/state"
refused "$c/state" "$c/state/public" \
        "StateDirectory=$c/state: is writable by its group and others (mode 0777); refusing to write there" "$c/state"

c=$(case_dir state-owner)
chown "$OTHER:$OTHER" "$c/state"
refused "$c/state" "$c/state/public" \
        "StateDirectory=$c/state: is owned by UID $OTHER, not by root; refusing to write there" "$c/state"

# ---- the good case: a 0711 state directory (as systemd-tmpfiles makes it)
# in a sticky world-writable directory, the publish directory reached
# through root's symbolic link and missing: made 0755 despite the umask
c=$(case_dir good)
mkdir -m 1777 "$c/sticky"
chmod 1777 "$c/sticky"
mkdir -m 0711 "$c/sticky/state"
chmod 0711 "$c/sticky/state"
mkdir -m 0755 "$c/real"
ln -s "$c/real" "$c/via-link"
state=$c/sticky/state
CR_PUB=$c/via-link/public
with_dirs "$state" "$CR_PUB"
cp "$CR_TMP/case.conf" "$CR_TMP/certrevoke.conf"
cr_start_daemon
cr_wait_first_crl "$CR_PUB"
assert_eq 755 "$(stat -c %a "$c/real/public")" "the publish directory is made 0755"
assert_exit 0 openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -verify -CAfile "$CR_CA/ca.pem"
assert_contains "$CR_LAST_OUTPUT" "verify OK" "the CRL is published"
assert_eq 711 "$(stat -c %a "$state")" "the state directory stays 0711"
cr_ctl add-user anna "Anna Example" general 1001
cr_ctl add-user bert "Bert Example" general 1002
assert_exit 0 cr_ctl rescan

# crl_number_file: the number of the CRL in the good publish directory.
crl_number_file() {
        local n
        n=$(openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -crlnumber)
        echo $((16#${n#crlNumber=0x}))
}

# ---- SIGHUP with a publish directory that is a symbolic link: refused,
# naming it; the one in use stays and the next CRL goes there
mkdir -m 0777 "$c/evil"
chmod 0777 "$c/evil"
ln -s "$c/evil" "$c/evil-link"
cp "$CR_TMP/certrevoke.conf" "$CR_TMP/certrevoke.conf.good"
sed -i "s|^PublishDirectory=.*|PublishDirectory=$c/evil-link|" "$CR_TMP/certrevoke.conf"
line=$(($(wc -l <"$CR_TMP/daemon.log") + 1))
kill -HUP "$CR_DAEMON_PID"
for _ in {1..50}; do
        tail -n +"$line" "$CR_TMP/daemon.log" | grep -q "keeping the configuration in use" && break
        sleep 0.1
done
assert_contains "$(tail -n +"$line" "$CR_TMP/daemon.log")" \
        "PublishDirectory=$c/evil-link: is a symbolic link; refusing to write through it; keeping the configuration in use"
before=$(crl_number_file)
assert_exit 0 cr_revoke_as 0 anna "" keyCompromise "$good"
assert_eq '(sss) "anna" "Anna Example" "revoked"' "$CR_LAST_OUTPUT"
(($(crl_number_file) > before)) || cr_fail_at "no new CRL in the publish directory in use"
assert_eq "" "$(find "$c/evil" -mindepth 1 -printf '%P\n')" "nothing written through the refused link"
cp "$CR_TMP/certrevoke.conf.good" "$CR_TMP/certrevoke.conf"

# ---- the publish directory swapped for a symbolic link while the daemon
# runs: the next build checks again and writes nothing through it
mv -- "$c/real/public" "$c/real/public.moved"
ln -s "$c/evil" "$c/real/public"
line=$(($(wc -l <"$CR_TMP/daemon.log") + 1))
assert_exit 1 cr_revoke_send 0 bert "" keyCompromise "$good"
assert_contains "$CR_LAST_OUTPUT" "revocation of bert is recorded" "the revocation stands"
assert_contains "$(tail -n +"$line" "$CR_TMP/daemon.log")" \
        "PublishDirectory=$CR_PUB: is a symbolic link; refusing to write through it"
assert_eq "" "$(find "$c/evil" -mindepth 1 -printf '%P\n')" "nothing written through the swapped-in link"
assert_eq 's "revoked"' "$(cr_user_prop bert CertificateState)"
cr_stop_daemon

# put back, the next start publishes what was recorded
rm -f -- "$c/real/public"
mv -- "$c/real/public.moved" "$c/real/public"
cr_start_daemon
for _ in {1..100}; do
        openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -text 2>/dev/null |
                grep -q "Serial Number: $(cr_cert_serial "$CR_CERTS/bert.pem")\$" && break
        sleep 0.1
done
assert_exit 0 openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -text
assert_contains "$CR_LAST_OUTPUT" "Serial Number: $(cr_cert_serial "$CR_CERTS/bert.pem")" \
        "bert's revocation is published at the next start"
cr_stop_daemon
echo "paths OK"
