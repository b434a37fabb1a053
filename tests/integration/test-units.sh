#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# Installing and running as a system service: `make install` puts every file
# where pkg-config (systemd, dbus-1, p11-kit-1, PAM) says, with DESTDIR and
# PREFIX, keeps an administrator's /etc/pam.d/certrevoke, and `make
# uninstall` takes away exactly what it put there.  The installed units pass
# `systemd-analyze verify` without a word and `systemd-analyze security`
# rates certrevoked.service at most 2.5; tmpfiles.d makes the directories
# with the documented modes.  On a private bus with the policy, the
# activation file starts the installed daemon on the first call (the way
# certrevoke-refresh.service does it), a call on an interface the policy
# does not list is refused by the bus with AccessDenied, and the example
# configuration, with this world's paths, runs the daemon with the CA key on
# a token.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd make pkg-config systemd-analyze systemd-tmpfiles dbus-daemon dbus-send busctl \
        softhsm2-util pkcs11-tool openssl setpriv
for f in certrevoke-pam-helper pam_certrevoke.so certrevoke-pkcs11.so locale/ja/LC_MESSAGES/certrevoke.mo \
        share/cockpit/certrevoke/index.js; do
        [[ -e $CR_BUILD/$f ]] || cr_skip "$CR_BUILD/$f is not built"
done
cr_need_python

cr_setup_tmp

# ---- local helpers

# run_make ARGS…: make in the source tree for the build under test, without
# rebuilding it (-o all) and without the flags of a make that runs the tests.
run_make() {
        env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
                make --no-print-directory -C "$CR_SRCDIR" -o all B="$CR_BUILD" "$@"
}

# pc VARIABLE PACKAGE FALLBACK: a pkg-config variable, or FALLBACK.
pc() {
        local v
        v=$(pkg-config --variable="$1" "$2" 2>/dev/null) || v=
        echo "${v:-$3}"
}

# tree DIR: "mode path" of every file and symlink under DIR, sorted.
tree() {
        (cd "$1" && find . \( -type f -o -type l \) -printf '%m %P\n' | LC_ALL=C sort)
}

# exposure UNIT-FILE: the overall exposure level systemd-analyze gives it.
exposure() {
        systemd-analyze security --offline=yes --no-pager "$1" 2>&1 |
                sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p'
}

# ---- where the files belong, as the packages say
unitdir=$(pc systemdsystemunitdir systemd /lib/systemd/system)
tmpfilesdir=$(pc tmpfilesdir systemd /usr/lib/tmpfiles.d)
sysusersdir=$(pc sysusersdir systemd /usr/lib/sysusers.d)
dbusdata=$(pc datadir dbus-1 /usr/share)
policydir=$dbusdata/dbus-1/system.d
busservicedir=$(pc system_bus_services_dir dbus-1 "$dbusdata/dbus-1/system-services")
p11configs=$(pc p11_module_configs p11-kit-1 /usr/share/p11-kit/modules)
p11modules=$(pc p11_module_path p11-kit-1 /usr/lib/pkcs11)
multiarch=$(${CC:-cc} -print-multiarch 2>/dev/null) || multiarch=
if [[ -n $multiarch ]]; then
        pamdir=/lib/$multiarch/security
else
        pamdir=$(pc libdir pam /usr/lib)/security
fi

# expected PREFIX: the tree make install must leave, "mode path" a line.
expected() {
        local p=${1#/} compdir
        {
                echo "755 $p/bin/certrevokectl"
                echo "755 $p/libexec/certrevoke/certrevoked"
                echo "755 $p/libexec/certrevoke/certrevoke-pam-helper"
                echo "755 $p/libexec/certrevoke/certrevoke-ocspd"
                echo "755 $p/libexec/certrevoke/certrevoke-sync"
                echo "644 $p/share/locale/ja/LC_MESSAGES/certrevoke.mo"
                echo "644 $p/share/doc/certrevoke/certrevoke.conf.example"
                echo "644 $p/share/doc/certrevoke/pam.d-certrevoke"
                echo "644 ${pamdir#/}/pam_certrevoke.so"
                echo "644 ${p11modules#/}/certrevoke-pkcs11.so"
                echo "644 ${p11configs#/}/certrevoke.module"
                echo "644 ${unitdir#/}/certrevoked.service"
                echo "644 ${unitdir#/}/certrevoke-refresh.service"
                echo "644 ${unitdir#/}/certrevoke-refresh.timer"
                echo "644 ${unitdir#/}/certrevoke-ocspd.service"
                echo "644 ${unitdir#/}/certrevoke-ocspd.socket"
                echo "644 ${unitdir#/}/certrevoke-sync.service"
                echo "644 ${unitdir#/}/certrevoke-sync.timer"
                echo "644 ${tmpfilesdir#/}/certrevoke.conf"
                echo "644 ${sysusersdir#/}/certrevoke-ocsp.conf"
                echo "644 ${policydir#/}/org.certrevoke1.conf"
                echo "644 ${busservicedir#/}/org.certrevoke1.service"
                echo "644 etc/pam.d/certrevoke"
                echo "644 $p/share/man/man1/certrevokectl.1"
                echo "644 $p/share/man/man5/certrevoke.conf.5"
                echo "644 $p/share/man/man8/certrevoked.8"
                echo "644 $p/share/man/man8/pam_certrevoke.8"
                echo "644 $p/share/man/man8/certrevoke-pkcs11.8"
                echo "644 $p/share/man/man8/certrevoke-ocspd.8"
                echo "644 $p/share/man/man8/certrevoke-sync.8"
                compdir=$(pc completionsdir bash-completion "/$p/share/bash-completion/completions")
                echo "644 ${compdir#/}/certrevokectl"
                # the Cockpit page, every file of it as built
                (cd "$CR_BUILD/share/cockpit/certrevoke" && find . -type f -printf "644 $p/share/cockpit/certrevoke/%P\n")
        } | LC_ALL=C sort
}

# ---- make install, PREFIX=/usr
root=$CR_TMP/root
assert_exit 0 run_make install DESTDIR="$root"
assert_eq "$(expected /usr)" "$(tree "$root")" "the installed tree"
assert_contains "$(cat "$root$unitdir/certrevoked.service")" \
        $'\nExecStart=/usr/libexec/certrevoke/certrevoked\n'
assert_contains "$(cat "$root$busservicedir/org.certrevoke1.service")" \
        $'\nExec=/usr/libexec/certrevoke/certrevoked\n'
# shipped files are copied as they are
for pair in "certrevoked:usr/libexec/certrevoke/certrevoked" \
        "certrevoke-pam-helper:usr/libexec/certrevoke/certrevoke-pam-helper" \
        "certrevoke-sync:usr/libexec/certrevoke/certrevoke-sync" \
        "certrevokectl:usr/bin/certrevokectl" "pam_certrevoke.so:${pamdir#/}/pam_certrevoke.so" \
        "certrevoke-pkcs11.so:${p11modules#/}/certrevoke-pkcs11.so"; do
        cmp -s "$CR_BUILD/${pair%%:*}" "$root/${pair#*:}" || cr_fail_at "${pair#*:} is not $CR_BUILD/${pair%%:*}"
done
for pair in "units/org.certrevoke1.conf:${policydir#/}/org.certrevoke1.conf" \
        "units/certrevoke.module:${p11configs#/}/certrevoke.module" \
        "units/certrevoke.tmpfiles:${tmpfilesdir#/}/certrevoke.conf" \
        "units/certrevoke-refresh.timer:${unitdir#/}/certrevoke-refresh.timer" \
        "units/certrevoke-ocspd.socket:${unitdir#/}/certrevoke-ocspd.socket" \
        "units/certrevoke-ocsp.sysusers:${sysusersdir#/}/certrevoke-ocsp.conf" \
        "units/certrevoke-sync.timer:${unitdir#/}/certrevoke-sync.timer" \
        "pam/certrevoke:etc/pam.d/certrevoke" \
        "units/certrevoke.conf.example:usr/share/doc/certrevoke/certrevoke.conf.example"; do
        cmp -s "$CR_SRCDIR/${pair%%:*}" "$root/${pair#*:}" || cr_fail_at "${pair#*:} is not ${pair%%:*}"
done
# the daemon finds its PAM helper beside itself, in the same libexec directory
assert_exit 0 "$root/usr/libexec/certrevoke/certrevoked" --version
assert_contains "$CR_LAST_OUTPUT" "certrevoked "

# installing again changes nothing and is quiet about the PAM file
assert_exit 0 run_make install DESTDIR="$root"
assert_not_contains "$CR_LAST_OUTPUT" "kept"
assert_eq "$(expected /usr)" "$(tree "$root")" "the tree after a second install"

# ---- tmpfiles.d: the directories and their modes (the group of the OCSP
# responder from sysusers.d first: tmpfiles.d names it)
assert_exit 0 systemd-sysusers --root="$root" "$root$sysusersdir/certrevoke-ocsp.conf"
assert_exit 0 systemd-tmpfiles --create --root="$root" "$root$tmpfilesdir/certrevoke.conf"
assert_eq "" "$CR_LAST_OUTPUT" "systemd-tmpfiles says nothing"
assert_eq $'711 var/lib/certrevoke\n700 var/lib/certrevoke/faillock\n755 var/lib/certrevoke/public' \
        "$(cd "$root" && find var/lib/certrevoke -printf '%m %p\n' | LC_ALL=C sort -k2)" "directories made by tmpfiles.d"
# the store's files, once there, readable by the OCSP responder's group
ocsp_gid=$(awk -F: '$1 == "certrevoke-ocsp" { print $3 }' "$root/etc/group")
[[ -n $ocsp_gid ]] || cr_fail_at "sysusers.d made no group certrevoke-ocsp"
for f in store.db store.db-wal store.db-shm; do
        install -m 0600 /dev/null "$root/var/lib/certrevoke/$f"
done
assert_exit 0 systemd-tmpfiles --create --root="$root" "$root$tmpfilesdir/certrevoke.conf"
assert_eq "$(printf '640 0 %s\n' "$ocsp_gid" "$ocsp_gid" "$ocsp_gid")" \
        "$(cd "$root/var/lib/certrevoke" && stat -c '%a %u %g' store.db store.db-wal store.db-shm)" \
        "the store's files for the responder's group"
assert_contains "$(cat "$root$unitdir/certrevoked.service")" $'\nStateDirectoryMode=0711\n' \
        "the unit agrees with tmpfiles.d"
# the shipped PAM stack keeps pam_faillock's tally in the state directory
assert_contains "$(cat "$CR_SRCDIR/pam/certrevoke")" "dir=/var/lib/certrevoke/faillock"
rm -rf -- "${root:?}/var"
rm -f -- "$root"/etc/{passwd,group,shadow,gshadow}{,-} "$root/etc/.pwd.lock"

# ---- systemctl enable certrevoked: the bus starts the daemon, enabling it
# enables the timer that keeps the CRL fresh
if command -v systemctl >/dev/null 2>&1; then
        assert_exit 0 systemctl --root="$root" enable certrevoked.service
        assert_eq "$unitdir/certrevoke-refresh.timer" \
                "$(readlink "$root/etc/systemd/system/timers.target.wants/certrevoke-refresh.timer")" \
                "enabling certrevoked enables certrevoke-refresh.timer"
        assert_exit 0 systemctl --root="$root" disable certrevoked.service
        [[ ! -e $root/etc/systemd/system/timers.target.wants/certrevoke-refresh.timer ]] ||
                cr_fail_at "disabling certrevoked left the timer enabled"
        rm -rf -- "${root:?}/etc/systemd"
fi

# ---- systemd-analyze verify: nothing to say about the installed units, run
# with the installed daemon's real path (systemd checks that it exists)
mkdir -p "$CR_TMP/verify"
for u in certrevoked.service certrevoke-refresh.service certrevoke-refresh.timer certrevoke-ocspd.service \
        certrevoke-ocspd.socket certrevoke-sync.service certrevoke-sync.timer; do
        sed "s|/usr/libexec/certrevoke/|$root/usr/libexec/certrevoke/|" "$root$unitdir/$u" >"$CR_TMP/verify/$u"
done
assert_contains "$(cat "$CR_TMP/verify/certrevoked.service")" "ExecStart=$root/usr/libexec/certrevoke/certrevoked"
assert_contains "$(cat "$CR_TMP/verify/certrevoke-ocspd.service")" \
        "ExecStart=$root/usr/libexec/certrevoke/certrevoke-ocspd"
assert_exit 0 systemd-analyze verify --man=no "$CR_TMP/verify/certrevoked.service" \
        "$CR_TMP/verify/certrevoke-refresh.service" "$CR_TMP/verify/certrevoke-refresh.timer" \
        "$CR_TMP/verify/certrevoke-ocspd.service" "$CR_TMP/verify/certrevoke-ocspd.socket" \
        "$CR_TMP/verify/certrevoke-sync.service" "$CR_TMP/verify/certrevoke-sync.timer"
assert_eq "" "$CR_LAST_OUTPUT" "systemd-analyze verify output"
# a unit with a mistake is not passed over in silence
sed 's/^ProtectHome=yes$/ProtectHome=sometimes/' "$CR_TMP/verify/certrevoked.service" >"$CR_TMP/verify/bad.service"
CR_LAST_OUTPUT=$(systemd-analyze verify --man=no "$CR_TMP/verify/bad.service" 2>&1) || true
assert_contains "$CR_LAST_OUTPUT" "bad.service:" "verify reports a bad value"
assert_contains "$CR_LAST_OUTPUT" "sometimes"

# ---- systemd-analyze security: the exposure score
score=$(exposure "$CR_TMP/verify/certrevoked.service")
[[ $score =~ ^[0-9]+\.[0-9]$ ]] || cr_fail_at "no exposure level for certrevoked.service" \
        "$(systemd-analyze security --offline=yes --no-pager "$CR_TMP/verify/certrevoked.service" 2>&1 | tail -n 20)"
cr_log "systemd-analyze security: certrevoked.service exposure $score"
echo "certrevoked.service exposure level: $score"
awk -v s="$score" 'BEGIN { exit !(s <= 2.5) }' || cr_fail_at "exposure level $score of certrevoked.service is over 2.5"
assert_exit 0 systemd-analyze security --offline=yes --threshold=25 --no-pager "$CR_TMP/verify/certrevoked.service"
score_refresh=$(exposure "$CR_TMP/verify/certrevoke-refresh.service")
cr_log "systemd-analyze security: certrevoke-refresh.service exposure $score_refresh"
awk -v s="$score_refresh" 'BEGIN { exit !(s <= 2.5) }' ||
        cr_fail_at "exposure level '$score_refresh' of certrevoke-refresh.service is over 2.5"
score_ocspd=$(exposure "$CR_TMP/verify/certrevoke-ocspd.service")
cr_log "systemd-analyze security: certrevoke-ocspd.service exposure $score_ocspd"
awk -v s="$score_ocspd" 'BEGIN { exit !(s <= 2.5) }' ||
        cr_fail_at "exposure level '$score_ocspd' of certrevoke-ocspd.service is over 2.5"
unit=$(cat "$root$unitdir/certrevoke-ocspd.service")
for want in Type=notify User=certrevoke-ocsp Group=certrevoke-ocsp PrivateNetwork=yes ProtectSystem=strict \
        ReadOnlyPaths=/var/lib/certrevoke CapabilityBoundingSet= NoNewPrivileges=yes; do
        assert_contains "$unit" $'\n'"$want"
done
score_sync=$(exposure "$CR_TMP/verify/certrevoke-sync.service")
cr_log "systemd-analyze security: certrevoke-sync.service exposure $score_sync"
echo "certrevoke-sync.service exposure level: $score_sync"
awk -v s="$score_sync" 'BEGIN { exit !(s <= 2.5) }' ||
        cr_fail_at "exposure level '$score_sync' of certrevoke-sync.service is over 2.5"
# the sync writes only where the trust module reads, and reaches the network
sync_unit=$(cat "$root$unitdir/certrevoke-sync.service")
for want in Type=oneshot ExecStart=/usr/libexec/certrevoke/certrevoke-sync StateDirectory=certrevoke/public \
        StateDirectoryMode=0755 ProtectSystem=strict CapabilityBoundingSet= \
        'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX'; do
        assert_contains "$sync_unit" $'\n'"$want"
done
assert_not_contains "$sync_unit" "PrivateNetwork=yes" "the sync reaches the network"
assert_contains "$(cat "$root$unitdir/certrevoke-sync.timer")" $'\nOnUnitActiveSec=1min\n'
# what the score stands on
unit=$(cat "$root$unitdir/certrevoked.service")
# shellcheck disable=SC2016 # $MAINPID is systemd's
for want in Type=dbus BusName=org.certrevoke1 StateDirectory=certrevoke ConfigurationDirectory=certrevoke \
        ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes \
        RestrictAddressFamilies=AF_UNIX CapabilityBoundingSet= SystemCallFilter=@system-service \
        WatchdogSec= ReadWritePaths=-/var/lib/softhsm/tokens 'ExecReload=/usr/bin/kill -HUP $MAINPID'; do
        assert_contains "$unit" $'\n'"$want"
done

# ---- PREFIX=/usr/local: programs under the prefix, units where systemd looks
local_root=$CR_TMP/root-local
assert_exit 0 run_make install DESTDIR="$local_root" PREFIX=/usr/local
assert_eq "$(expected /usr/local)" "$(tree "$local_root")" "the tree with PREFIX=/usr/local"
assert_contains "$(cat "$local_root$unitdir/certrevoked.service")" \
        $'\nExecStart=/usr/local/libexec/certrevoke/certrevoked\n'
assert_contains "$(cat "$local_root$busservicedir/org.certrevoke1.service")" \
        $'\nExec=/usr/local/libexec/certrevoke/certrevoked\n'
assert_exit 0 run_make uninstall DESTDIR="$local_root" PREFIX=/usr/local
assert_eq "" "$(tree "$local_root")" "nothing left after uninstall (PREFIX=/usr/local)"

# ---- an administrator's PAM file survives install and uninstall; other
# files in the same directories are not touched
own_root=$CR_TMP/root-own
mkdir -p "$own_root/etc/pam.d" "$own_root/usr/bin" "$own_root${unitdir}"
printf 'auth required pam_unix.so\naccount required pam_unix.so\n' >"$own_root/etc/pam.d/certrevoke"
echo "other" >"$own_root/usr/bin/other-tool"
echo "[Service]" >"$own_root$unitdir/other.service"
before=$(tree "$own_root")
assert_exit 0 run_make install DESTDIR="$own_root"
assert_contains "$CR_LAST_OUTPUT" "kept $own_root/etc/pam.d/certrevoke"
assert_eq $'auth required pam_unix.so\naccount required pam_unix.so' "$(cat "$own_root/etc/pam.d/certrevoke")"
assert_exit 0 run_make uninstall DESTDIR="$own_root"
assert_contains "$CR_LAST_OUTPUT" "kept $own_root/etc/pam.d/certrevoke"
assert_eq "$before" "$(tree "$own_root")" "uninstall leaves what was there before"
[[ ! -e $own_root/usr/libexec/certrevoke && ! -e $own_root/usr/share/doc/certrevoke ]] ||
        cr_fail_at "uninstall left certrevoke's own directories"

# ---- the bus: the policy loads, the activation file starts the daemon
cr_softhsm_init
cr_ca_create "$CR_TMP/ca"
cr_write_config "$CR_TMP/certrevoke.conf"
# The installed activation file, with Exec= pointing at the installed daemon
# on this bus (the rest as shipped).
daemon=$root/usr/libexec/certrevoke/certrevoked
mkdir -p "$CR_TMP/services"
sed "s|^Exec=.*|Exec=/usr/bin/env -C $CR_TMP -u LD_PRELOAD DBUS_SYSTEM_BUS_ADDRESS=unix:path=$CR_TMP/bus.sock SOFTHSM2_CONF=$SOFTHSM2_CONF $daemon --config=$CR_TMP/certrevoke.conf|" \
        "$root$busservicedir/org.certrevoke1.service" >"$CR_TMP/services/org.certrevoke1.service"
assert_eq "1" "$(diff "$root$busservicedir/org.certrevoke1.service" "$CR_TMP/services/org.certrevoke1.service" |
        grep -c '^>')" "only Exec= differs from the installed activation file"
cr_start_bus
assert_not_contains "$(cat "$CR_TMP/bus.log")" "Encountered error" "the policy loads cleanly"
cmp -s "$CR_TMP/bus.d/org.certrevoke1.conf" "$root$policydir/org.certrevoke1.conf" ||
        cr_fail_at "the bus runs another policy than the installed one"
cr_name_has_owner org.certrevoke1 && cr_fail_at "org.certrevoke1 is owned before any call"

# what certrevoke-refresh.service runs, on this bus (busctl --system honours
# DBUS_SYSTEM_BUS_ADDRESS)
refresh=$(sed -n 's/^ExecStart=//p' "$root$unitdir/certrevoke-refresh.service")
assert_contains "$refresh" "busctl --system"
# shellcheck disable=SC2086 # the command line, split as systemd would
assert_exit 0 $refresh
assert_eq "" "$CR_LAST_OUTPUT" "the Ping is answered"
cr_name_has_owner org.certrevoke1 || cr_fail_at "the Ping did not start certrevoked"
pid=$(cr_busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        GetConnectionUnixProcessID s org.certrevoke1)
pid=${pid#u }
assert_eq "$daemon" "$(readlink "/proc/$pid/exe")" "the bus started the installed daemon"
assert_eq "" "$(cr_pids_alive "${CR_PIDS[@]}" | grep -x "$pid" || true)" "not started by the harness"
# at start it publishes the first CRL
for _ in {1..100}; do
        [[ -f $CR_TMP/public/crl.der ]] && break
        sleep 0.1
done
assert_exit 0 openssl crl -inform DER -in "$CR_TMP/public/crl.der" -CAfile "$CR_TMP/ca/ca.pem" -noout
assert_exit 0 cr_ctl_as 1001 list
assert_exit 0 cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager ListUsers
assert_eq "a(sssssto) 0" "$CR_LAST_OUTPUT"

# ---- calls the policy does not let through are refused by the bus itself
for uid in 1001 0; do
        assert_exit 1 cr_as "$uid" dbus-send --bus="$CR_BUS_ADDRESS" --print-reply --dest=org.certrevoke1 \
                /org/certrevoke1 org.certrevoke1.Debug.DumpStore
        assert_contains "$CR_LAST_OUTPUT" "Error org.freedesktop.DBus.Error.AccessDenied" "UID $uid, other interface"
        # the bus's own words, not the daemon's
        assert_contains "$CR_LAST_OUTPUT" "Rejected send message" "UID $uid, other interface"
        assert_contains "$CR_LAST_OUTPUT" 'destination="org.certrevoke1"'
done
assert_exit 1 cr_as 1001 dbus-send --bus="$CR_BUS_ADDRESS" --print-reply --dest=org.certrevoke1 \
        /org/certrevoke1 org.freedesktop.DBus.Monitoring.BecomeMonitor array:string: uint32:0
assert_contains "$CR_LAST_OUTPUT" "Error org.freedesktop.DBus.Error.AccessDenied"
# nobody but root may own the name
assert_exit 1 cr_as 1001 "$CR_PYTHON" "$CR_SRCDIR/tests/data/hold-name.py" "$CR_BUS_ADDRESS" org.certrevoke1
assert_eq "error org.freedesktop.DBus.Error.AccessDenied" "$CR_LAST_OUTPUT"
# and the listed interfaces go through to the daemon, which answers itself
assert_exit 1 cr_as 1001 dbus-send --bus="$CR_BUS_ADDRESS" --print-reply --dest=org.certrevoke1 \
        /org/certrevoke1 org.certrevoke1.Manager.NoSuchMethod
assert_contains "$CR_LAST_OUTPUT" "Error org.freedesktop.DBus.Error.UnknownMethod"
grep -q "Rejected send message.*NoSuchMethod" "$CR_TMP/bus.log" &&
        cr_fail_at "the bus refused a call on org.certrevoke1.Manager"
assert_exit 0 cr_as 1001 busctl --address="$CR_BUS_ADDRESS" call org.certrevoke1 /org/certrevoke1 \
        org.freedesktop.DBus.Peer Ping

# the activated daemon ends cleanly on SIGTERM
kill -TERM "$pid"
for _ in {1..100}; do
        [[ -z $(cr_pids_alive "$pid") ]] && break
        sleep 0.1
done
[[ -z $(cr_pids_alive "$pid") ]] || cr_fail_at "the activated certrevoked ignored SIGTERM"
for _ in {1..50}; do
        cr_name_has_owner org.certrevoke1 || break
        sleep 0.1
done
cr_name_has_owner org.certrevoke1 && cr_fail_at "org.certrevoke1 still owned after the daemon ended"
if [[ $CR_ASAN == 1 ]]; then
        cr_check_sanitizers "$CR_TMP/bus.log" || cr_fail_at "sanitizer report from the activated daemon"
fi

# ---- the example configuration, with this world's paths, and the CA key on
# a token; the daemon as the unit runs it: root without any capability, no
# new privileges (setpriv for CapabilityBoundingSet= and NoNewPrivileges=),
# UMask=0077; a revocation confirmed through its PAM helper
ex_etc=$CR_TMP/ex-etc ex_state=$CR_TMP/ex-state
mkdir -p "$ex_etc"
cp "$CR_TMP/ca/ca.pem" "$ex_etc/ca.pem"
cr_token_create "Certrevoke CA"
cr_token_put_key "Certrevoke CA" "$CR_TMP/ca/ca.key" 01 ca
cr_token_pin "Certrevoke CA" >"$ex_etc/ca.pin"
chmod 0600 "$ex_etc/ca.pin"
# every default written out, as the comments give them
sed -E -e 's/^#(StateDirectory|PAMService|ConfirmationFile|IdleTimeout|PublishDirectory|Validity|MaxAge|MaxEntries)=/\1=/' \
        -e "s|/var/lib/certrevoke|$ex_state|g" -e "s|/etc/certrevoke|$ex_etc|g" \
        "$root/usr/share/doc/certrevoke/certrevoke.conf.example" >"$CR_TMP/certrevoke.conf"
for want in "StateDirectory=$ex_state" "PublishDirectory=$ex_state/public" "Validity=7d" "IdleTimeout=5min" \
        "Certificate=$ex_etc/ca.pem" "Key=pkcs11:" "PINFile=$ex_etc/ca.pin" "MaxAge=365d" "MaxEntries=1000000"; do
        assert_contains "$(cat "$CR_TMP/certrevoke.conf")" $'\n'"$want"
done
cr_pam_init
cr_pam_password root "Conf1rm-Root-77a1"
cr_token_create card-gina-01
cr_cert_issue "$CR_TMP/ca" gina "Gina General" "$(cr_date_utc '-1 day')" "$(cr_date_utc '+1 year')" "$CR_TMP/gina.pem"
cr_token_put_cert card-gina-01 "$CR_TMP/gina.pem" 01 "gina certificate"
printf '#!/bin/sh\numask 0077\nexec setpriv --bounding-set=-all --inh-caps=-all --no-new-privs -- %s "$@"\n' \
        "$CR_TMP/bin/certrevoked" >"$CR_TMP/bin/certrevoked-sandboxed"
chmod 0755 "$CR_TMP/bin/certrevoked-sandboxed"
CR_DAEMON_BIN=$CR_TMP/bin/certrevoked-sandboxed
cr_start_daemon
status=$(cat "/proc/$CR_DAEMON_PID/status")
assert_contains "$status" $'\nCapEff:\t0000000000000000\n' "the daemon runs without capabilities"
assert_contains "$status" $'\nCapBnd:\t0000000000000000\n'
assert_contains "$status" $'\nNoNewPrivs:\t1\n'
for _ in {1..100}; do
        [[ -f $ex_state/public/crl.der ]] && break
        sleep 0.1
done
assert_exit 0 openssl crl -inform DER -in "$ex_state/public/crl.der" -CAfile "$ex_etc/ca.pem" -noout
assert_contains "$CR_LAST_OUTPUT" "verify OK" "the CRL is signed by the key on the token"
last=$(openssl crl -inform DER -in "$ex_state/public/crl.der" -noout -lastupdate)
next=$(openssl crl -inform DER -in "$ex_state/public/crl.der" -noout -nextupdate)
assert_eq $((7 * 86400)) $(($(date -d "${next#nextUpdate=}" +%s) - $(date -d "${last#lastUpdate=}" +%s))) \
        "Validity=7d"
assert_not_contains "$(cat "$CR_TMP/daemon.log")" "config:" "the example has no key the daemon questions"
assert_exit 0 cr_ctl add-user gina "Gina General" general 1002
assert_exit 0 cr_ctl rescan
assert_exit 0 cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager RevokeCertificate \
        ssss gina "" keyCompromise "Conf1rm-Root-77a1"
assert_eq '(sss) "gina" "Gina General" "revoked"' "$CR_LAST_OUTPUT" "a revocation without capabilities"
assert_eq "" "$(cr_token_list_certs card-gina-01)" "the certificate is gone from the token"
assert_exit 0 openssl crl -inform DER -in "$ex_state/public/crl.der" -noout -text
assert_contains "$CR_LAST_OUTPUT" "Serial Number: $(cr_cert_serial "$CR_TMP/gina.pem")"
assert_eq "600" "$(stat -c %a "$ex_state/store.db")" "the store under UMask=0077"
assert_eq "644" "$(stat -c %a "$ex_state/public/crl.der")" "the CRL for everyone"
# the trust module reads the publish directory from every user's programs,
# also when the daemon made it (tmpfiles.d not run yet)
assert_eq "755" "$(stat -c %a "$ex_state/public")" "the publish directory the daemon made, under UMask=0077"
cr_stop_daemon

# ---- make uninstall takes away everything make install put there
assert_exit 0 run_make uninstall DESTDIR="$root"
assert_eq "" "$(tree "$root")" "nothing left after uninstall"
[[ ! -e $root/usr/libexec/certrevoke && ! -e $root/usr/share/doc/certrevoke ]] ||
        cr_fail_at "uninstall left certrevoke's own directories"

echo "units OK"
