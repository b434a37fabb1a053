#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# certrevokectl as its users meet it: list filtered by --state, --role and a
# PATTERN (glob or substring, on login IDs and on names, Japanese too);
# invalid filters; --json of list, show and rescan is JSON; the exit-status
# table (0, 1, 2, 3, 4, 8) as --help prints it and as the commands return
# it; no bus, no daemon and a full stdout are failures (exit 1) with a
# message; --address= and DBUS_SYSTEM_BUS_ADDRESS pick the bus, the option
# first.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util openssl setpriv
cr_need_python

cr_setup_tmp
cr_softhsm_init
ca=$CR_TMP/ca
certs=$CR_TMP/certs
mkdir -p "$certs"
cr_ca_create "$ca"
past=$(cr_date_utc '-30 days')
later=$(cr_date_utc '+1 year')
cr_start_bus
cr_start_daemon

# The users of the product page, with unique login IDs.
cr_ctl add-user kanri "マスター花子" master 1001
cr_ctl add-user sachiboh "ゲータチ子" admin 1002
cr_ctl add-user schiboh "ゲータ一郎" general 1003
cr_ctl add-user jinoh "ゲータ二郎" general 1004
cr_ctl add-user schib "ゲータ太郎" general 1005
cr_ctl add-user sachiboh2 "ゲータ妻子" worker 1006

# issue LOGIN START END NAME: a certificate imported for LOGIN.
n=0
issue() {
        n=$((n + 1))
        cr_cert_issue "$ca" "$1" "$4" "$2" "$3" "$certs/$n.pem"
        cr_ctl import-cert "$1" "$certs/$n.pem"
}
issue kanri "$past" "$later" "マスター花子"
issue sachiboh "$past" "$later" "ゲータチ子"
issue sachiboh2 "$past" "$later" "ゲータ妻子"
issue schiboh 20181216095939Z 20191216095939Z "ゲータ一郎"
issue schib "$(cr_date_utc '-300 days')" "$(cr_date_utc '+60 days')" "ゲータ太郎"
issue schib "$(cr_date_utc '-10 days')" "$(cr_date_utc '+2 years')" "ゲータ太郎"

# logins ARGS…: the login IDs `certrevokectl list ARGS…` shows, space-separated.
logins() {
        local out
        out=$(cr_ctl list "$@") || return
        tail -n +2 <<<"$out" | awk '{ print $1 }' | paste -sd' '
}

json_ok() {
        "$CR_PYTHON" -m json.tool >/dev/null
}

# ---- filters
assert_eq "jinoh kanri sachiboh sachiboh2 schib schiboh" "$(logins)" "list: everyone, by login ID"
assert_eq "jinoh kanri sachiboh sachiboh2 schib schiboh" "$(cr_ctl | tail -n +2 | awk '{ print $1 }' | paste -sd' ')" \
        "list is the default command"
assert_eq "kanri sachiboh sachiboh2" "$(logins --state=issued)"
assert_eq "schib" "$(logins --state=renewed)"
assert_eq "schiboh" "$(logins --state=expired)"
assert_eq "jinoh" "$(logins --state=not-issued)"
assert_eq "" "$(logins --state=revoked)"
assert_eq "jinoh schib schiboh" "$(logins --role=general)"
assert_eq "kanri" "$(logins --role=master)"
assert_eq "sachiboh2" "$(logins --state=issued --role=worker)"
assert_eq "sachiboh2" "$(cr_ctl --role=worker list --state=issued | tail -n +2 | awk '{ print $1 }')" \
        "options before and after the command"
# PATTERN: a substring, or a glob when it has * ? [.
assert_eq "sachiboh sachiboh2 schib schiboh" "$(logins chib)" "substring of login IDs"
assert_eq "sachiboh sachiboh2" "$(logins 'sachiboh*')" "glob on login IDs"
assert_eq "schib" "$(logins 's?hib')" "a glob matches the whole login ID"
assert_eq "schib schiboh" "$(logins 'sch[i]b*')"
assert_eq "kanri" "$(logins 花子)" "substring of names"
assert_eq "jinoh sachiboh sachiboh2 schib schiboh" "$(logins ゲータ)"
assert_eq "schib" "$(logins '*太郎')" "glob on names"
assert_eq "jinoh schib schiboh" "$(logins 'ゲータ?郎')" "? is one Japanese character"
assert_eq "schiboh" "$(logins --state=expired '*郎')" "pattern and state together"
assert_eq "jinoh" "$(logins --state=not-issued ゲータ)"
assert_eq "jinoh schib schiboh" "$(logins --role=general '*郎')"
assert_eq "" "$(logins --role=admin '*郎')"
assert_exit 0 cr_ctl list nobody-matches-this
assert_eq "Login ID  Name  Role  Certificate state  Expiry" "$CR_LAST_OUTPUT" "no match: the header alone"

# The Japanese table under a filter.
assert_exit 0 env LC_ALL=ja_JP.UTF-8 TZ=Asia/Tokyo CERTREVOKE_LOCALEDIR="$CR_BUILD/locale" \
        "$CR_BUILD/certrevokectl" --address="$CR_BUS_ADDRESS" list --state=expired
assert_contains "$(tail -n1 <<<"$CR_LAST_OUTPUT" | sed -E 's/  +/|/g')" "schiboh|ゲータ一郎|一般ユーザ|無効期限切れ|-"

# Bad filters.
assert_exit 2 cr_ctl list --state=valid
assert_contains "$CR_LAST_OUTPUT" 'Invalid certificate state "valid"'
assert_exit 2 cr_ctl list --state=not_issued
assert_exit 2 cr_ctl list --state=
assert_exit 2 cr_ctl list --role=boss
assert_contains "$CR_LAST_OUTPUT" 'Invalid role "boss"'
assert_exit 2 cr_ctl list --state
assert_contains "$CR_LAST_OUTPUT" "needs an argument"
assert_exit 2 cr_ctl list a b
assert_contains "$CR_LAST_OUTPUT" "Too many arguments for list"

# ---- --json
assert_exit 0 cr_ctl --json list
json_ok <<<"$CR_LAST_OUTPUT" || cr_fail_at "list --json is not JSON" "$CR_LAST_OUTPUT"
assert_eq 6 "$("$CR_PYTHON" -c 'import json, sys; print(len(json.load(sys.stdin)))' <<<"$CR_LAST_OUTPUT")"
assert_exit 0 cr_ctl --json list --role=general 'ゲータ?郎'
json_ok <<<"$CR_LAST_OUTPUT" || cr_fail_at "filtered list --json is not JSON" "$CR_LAST_OUTPUT"
assert_eq "jinoh schib schiboh" \
        "$("$CR_PYTHON" -c 'import json, sys; print(" ".join(u["login_id"] for u in json.load(sys.stdin)))' <<<"$CR_LAST_OUTPUT")"
assert_exit 0 cr_ctl --json list nobody-matches-this
assert_eq "[]" "$CR_LAST_OUTPUT"
assert_exit 0 cr_ctl --json show schib
json_ok <<<"$CR_LAST_OUTPUT" || cr_fail_at "show --json is not JSON" "$CR_LAST_OUTPUT"
assert_eq "schib ゲータ太郎 renewed 1005" "$("$CR_PYTHON" -c 'import json, sys; d = json.load(sys.stdin)
print(d["LoginId"], d["Name"], d["CertificateState"], d["Uid"])' <<<"$CR_LAST_OUTPUT")"
assert_exit 0 cr_ctl --json rescan
json_ok <<<"$CR_LAST_OUTPUT" || cr_fail_at "rescan --json is not JSON" "$CR_LAST_OUTPUT"
assert_eq '{"certificates_seen":0}' "$CR_LAST_OUTPUT"
# JSON is untranslated, whatever the locale.
assert_exit 0 env LC_ALL=ja_JP.UTF-8 CERTREVOKE_LOCALEDIR="$CR_BUILD/locale" \
        "$CR_BUILD/certrevokectl" --address="$CR_BUS_ADDRESS" --json list --state=issued
assert_contains "$CR_LAST_OUTPUT" '"role":"master","state":"issued"'

# ---- exit statuses
assert_exit 0 cr_ctl --help
for line in "  0  success" "  1  other failure" "  2  bad input or usage" "  3  not found" \
        "  4  access denied" "  8  user already exists" "org.certrevoke1.Error.UserExists" \
        "org.freedesktop.DBus.Error.AccessDenied" "org.certrevoke1.Error.NoSuchUser"; do
        assert_contains "$CR_LAST_OUTPUT" "$line" "--help lists the exit statuses"
done
assert_exit 0 cr_ctl --version
assert_contains "$CR_LAST_OUTPUT" "certrevokectl "

assert_exit 0 cr_ctl show kanri
assert_exit 2 cr_ctl show "bad login"
assert_exit 3 cr_ctl show nosuch
assert_exit 4 cr_ctl_as 1003 show kanri
assert_exit 4 cr_ctl_as 1003 add-user newbie Newbie general 1007
assert_exit 8 cr_ctl add-user kanri "Again" master 1007
assert_contains "$CR_LAST_OUTPUT" 'a user with login ID "kanri" exists already'

# ---- which bus
assert_exit 1 cr_ctl --address="unix:path=$CR_TMP/no-such.sock" list
assert_contains "$CR_LAST_OUTPUT" "certrevokectl: Failed to connect to the bus at unix:path=$CR_TMP/no-such.sock: No such file or directory"
assert_exit 1 cr_ctl --address=garbage list
assert_contains "$CR_LAST_OUTPUT" "Failed to connect to the bus at garbage"

ctl_env() {
        env CERTREVOKE_LOCALEDIR="$CR_BUILD/locale" "$@"
}
# DBUS_SYSTEM_BUS_ADDRESS without --address.
assert_exit 0 ctl_env DBUS_SYSTEM_BUS_ADDRESS="$CR_BUS_ADDRESS" "$CR_BUILD/certrevokectl" list --state=renewed
assert_contains "$CR_LAST_OUTPUT" "schib "
assert_exit 1 ctl_env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$CR_TMP/no-such.sock" "$CR_BUILD/certrevokectl" list
assert_contains "$CR_LAST_OUTPUT" "certrevokectl: Failed to connect to the system bus"
# --address= wins over the environment.
assert_exit 0 ctl_env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$CR_TMP/no-such.sock" \
        "$CR_BUILD/certrevokectl" --address="$CR_BUS_ADDRESS" list --state=renewed
assert_contains "$CR_LAST_OUTPUT" "schib "
assert_exit 1 ctl_env DBUS_SYSTEM_BUS_ADDRESS="$CR_BUS_ADDRESS" \
        "$CR_BUILD/certrevokectl" --address="unix:path=$CR_TMP/no-such.sock" list
# The Japanese message.
assert_exit 1 ctl_env LC_ALL=ja_JP.UTF-8 "$CR_BUILD/certrevokectl" --address="unix:path=$CR_TMP/no-such.sock" list
assert_contains "$CR_LAST_OUTPUT" "バス unix:path=$CR_TMP/no-such.sock に接続できませんでした"

# Output that cannot be written is a failure.
if [[ -w /dev/full ]]; then
        assert_exit 1 bash -c 'exec "$@" >/dev/full' _ "$CR_BUILD/certrevokectl" --address="$CR_BUS_ADDRESS" list
        assert_contains "$CR_LAST_OUTPUT" "Failed to write output"
fi

# ---- the bus is there, the daemon is not
cr_stop_daemon
assert_exit 1 cr_ctl list
assert_contains "$CR_LAST_OUTPUT" "org.certrevoke1"
assert_exit 1 cr_ctl show kanri
assert_exit 1 cr_ctl rescan
echo "ctl OK"
