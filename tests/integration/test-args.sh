#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# Every bad-argument path of the Manager's methods, sent with dbus-send so
# that the D-Bus error name is seen and the CLI's own checks cannot hide the
# daemon's: malformed login IDs (".", ".." and a leading "-" among them) for
# every method that takes one; bad names (control, bidi and invisible
# format characters), unknown roles, UIDs outside 1..2147483646 or 65534
# and the reserved login "root" for AddUser; an unknown role for
# SetUserRole; duplicates, also in another case (UserExists); users that do
# not exist (NoSuchUser); every string and array argument of every method
# over its documented maximum (100000 bytes, and one byte over), secrets
# over 511 bytes before anything checks them, a new confirmation password
# with a control character.  After every refused call the user table is
# unchanged, and after the argument bounds the history and the
# confirmation file too, and the daemon is alive.  The limits themselves
# are accepted (64-character login IDs, 128-character names, UIDs 1 and
# 2147483646), and the CLI maps each error to its exit status.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon dbus-send busctl softhsm2-util openssl setpriv sha256sum sqlite3
cr_need_python

cr_setup_tmp
cr_softhsm_init
cr_ca_create "$CR_TMP/ca"
# Nothing here may write a confirmation password, least of all into the
# system's file.
shadow=$CR_TMP/state/confirm.shadow
cr_write_config "$CR_TMP/certrevoke.conf"
sed -i "/^PAMService=/a ConfirmationFile=$shadow" "$CR_TMP/certrevoke.conf"
grep -qx "ConfirmationFile=$shadow" "$CR_TMP/certrevoke.conf" || cr_die "ConfirmationFile= not written"
cr_start_bus
cr_start_daemon

INVALID=org.freedesktop.DBus.Error.InvalidArgs
EXISTS=org.certrevoke1.Error.UserExists
NOSUCH=org.certrevoke1.Error.NoSuchUser

# ds MEMBER ARGS…: a Manager call with dbus-send, as root.
ds() {
        local member=$1
        shift
        dbus-send --bus="$CR_BUS_ADDRESS" --print-reply --dest=org.certrevoke1 \
                /org/certrevoke1 "org.certrevoke1.Manager.$member" "$@"
}

snapshot() {
        cr_ctl --json list
}

# refused ERROR MESSAGE MEMBER ARGS…: the call fails with that D-Bus error
# (and a message containing MESSAGE) and the user table stays as it was.
refused() {
        local error=$1 message=$2
        shift 2
        assert_exit 1 ds "$@"
        assert_contains "$CR_LAST_OUTPUT" "Error $error: $message" "error of: $*"
        assert_eq "$before" "$(snapshot)" "the users are unchanged after: $*"
}

repeat() {
        local i out=
        for ((i = 0; i < $2; i++)); do
                out+=$1
        done
        printf '%s' "$out"
}

cr_ctl add-user alice "Alice" general 1001
cr_ctl add-user bob "Bob" admin 1002
cr_ctl add-user boss "Boss" master 1004
before=$(snapshot)

# ---- login IDs, for every method that takes one
long_login=$(repeat a 65)
bad_logins=("" "$long_login" "with space" "a/b" "ユーザ" "tab$(printf '\t')x" "a*" . .. -rf -- -)
whys=("login ID is empty" "login ID is longer than 64 characters" "login ID may only contain"
        "login ID may only contain" "login ID may only contain" "login ID may only contain"
        "login ID may only contain" 'login ID cannot be "." or ".."' 'login ID cannot be "." or ".."'
        "login ID cannot start with '-'" "login ID cannot start with '-'" "login ID cannot start with '-'")
pw='Any-Passw0rd#2291'
for i in "${!bad_logins[@]}"; do
        login=${bad_logins[i]} why=${whys[i]}
        refused $INVALID "$why" GetUser "string:$login"
        refused $INVALID "$why" AddUser "string:$login" string:Name string:general uint32:1050
        refused $INVALID "$why" RemoveUser "string:$login"
        refused $INVALID "$why" SetUserRole "string:$login" string:admin
        refused $INVALID "$why" ImportCertificate "string:$login" array:byte:48,0
        refused $INVALID "$why" SuspendUser "string:$login" "string:$pw"
        refused $INVALID "$why" ResumeUser "string:$login" "string:$pw"
        refused $INVALID "$why" SetConfirmationPassword "string:$login" "string:$pw" "string:$pw"
        refused $INVALID "$why" RevokeCertificate "string:$login" string: string: "string:$pw"
        [[ -z $login ]] || refused $INVALID "$why" GetHistory "string:$login" uint64:0 uint32:0
done

# ---- names
refused $INVALID "name is empty" AddUser string:carol string: string:general uint32:1003
refused $INVALID "name is longer than 128 characters" AddUser string:carol "string:$(repeat x 129)" string:general uint32:1003
refused $INVALID "name is longer than 128 characters" AddUser string:carol "string:$(repeat あ 129)" string:general uint32:1003
for ctl in $'\x01' $'\t' $'\n' $'\x7f' $'\xc2\x85' $'\x1b[31m'; do
        refused $INVALID "name contains control characters" AddUser string:carol "string:Car${ctl}ol" string:general uint32:1003
done
# What a reader cannot see: "Ev<RLO>il" shows as "Evli"; the others turn
# text around or hide inside a name that looks like another's.
for c in $'\u202e' $'\u202a' $'\u202b' $'\u202c' $'\u202d' $'\u200e' $'\u200f' $'\u061c' \
        $'\u2066' $'\u2067' $'\u2068' $'\u2069'; do
        refused $INVALID "name contains a bidirectional control character" AddUser string:carol \
                "string:Ev${c}il" string:general uint32:1003
done
for c in $'\u200b' $'\u200c' $'\u200d' $'\u2060' $'\u2061' $'\u2062' $'\u2063' $'\u2064' $'\ufeff'; do
        refused $INVALID "name contains an invisible format character" AddUser string:carol \
                "string:Car${c}ol" string:general uint32:1003
done
# Invalid UTF-8 cannot be sent at all: D-Bus requires strings to be valid
# UTF-8, so busctl and dbus-send refuse to build the message and the bus
# would drop a peer that sent it; the daemon's own check cannot be reached.
assert_exit 1 cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager \
        AddUser sssu carol $'Car\xffol' general 1003
assert_eq "$before" "$(snapshot)"

# ---- roles, UIDs, the reserved login
for role in "" boss Master "admin " root; do
        refused $INVALID "unknown role \"$role\"" AddUser string:carol string:Carol "string:$role" uint32:1003
        refused $INVALID "unknown role \"$role\"" SetUserRole string:alice "string:$role"
done
for uid in 0 65534 2147483647 2147483648 4294967294 4294967295; do
        refused $INVALID "UID $uid cannot be a user's: use 1 to 2147483646 but not 65534 (UID 0 is root's, 65534 is nobody's)" \
                AddUser string:carol string:Carol string:general "uint32:$uid"
done
refused $INVALID 'login ID "root" is reserved' AddUser string:root string:Root string:master uint32:1003

# ---- duplicates
refused $EXISTS 'a user with login ID "alice" exists already' AddUser string:alice string:Other string:general uint32:1003
refused $EXISTS "UID 1001 belongs to another user already" AddUser string:carol string:Carol string:general uint32:1001
refused $EXISTS 'a user with login ID "bob" exists already' AddUser string:bob string:Bob string:admin uint32:1002
# Login IDs are one without regard to case, for a new UID too; looking up
# stays exact.
for login in BOSS Boss ALICE Alice aLiCe BOB; do
        refused $EXISTS "a user with login ID \"$login\" exists already (login IDs are unique without regard to case)" \
                AddUser "string:$login" string:Other string:general uint32:1003
done

# ---- users that do not exist
refused $NOSUCH 'no user with login ID "nosuch"' GetUser string:nosuch
refused $NOSUCH 'no user with login ID "nosuch"' RemoveUser string:nosuch
refused $NOSUCH 'no user with login ID "nosuch"' SetUserRole string:nosuch string:admin
refused $NOSUCH 'no user with login ID "Alice"' GetUser string:Alice
refused $NOSUCH 'no user with login ID "root"' RemoveUser string:root

# ---- the limits themselves are fine
login64=$(repeat b 64)
name128=$(repeat ゲ 128)
assert_exit 0 ds AddUser "string:$login64" "string:$name128" string:worker uint32:1064
assert_contains "$CR_LAST_OUTPUT" "object path \"/org/certrevoke1/user/$login64\""
assert_exit 0 cr_ctl show "$login64"
assert_contains "$CR_LAST_OUTPUT" "Name: $name128"
# Odd but valid login IDs: ListUsers' object paths are the ones GetUser
# gives and the objects answer there.
for login in 1st.user-x_y ... _ a- .x; do
        assert_exit 0 ds AddUser "string:$login" string:Odd string:general uint32:$((1100 + ${#login}))
        got=$(ds GetUser "string:$login" | sed -n 's/^ *object path "\(.*\)"$/\1/p')
        [[ $got == /org/certrevoke1/user/* ]] || cr_fail_at "GetUser($login) gave no object path: '$got'"
        listed=$(cr_ctl --json list | grep -F "\"login_id\":\"$login\"," | sed 's/.*"path":"\([^"]*\)".*/\1/')
        assert_eq "$got" "$listed" "ListUsers and GetUser agree on the path of '$login'"
        assert_eq "s \"$login\"" "$(cr_busctl get-property org.certrevoke1 "$got" org.certrevoke1.User LoginId)"
        assert_exit 0 ds RemoveUser "string:$login"
done
assert_exit 0 ds RemoveUser "string:$login64"
for uid in 1 2147483646; do
        assert_exit 0 ds AddUser string:carol string:Carol string:general "uint32:$uid"
        assert_eq "u $uid" "$(cr_busctl get-property org.certrevoke1 /org/certrevoke1/user/carol org.certrevoke1.User Uid)"
        assert_exit 0 ds RemoveUser string:carol
done
assert_eq "$before" "$(snapshot)"

# ---- every argument bounded, before any library sees it

# world: everything a call could change.
world() {
        snapshot
        cr_history | wc -l
        if [[ -e $shadow ]]; then
                sha256sum <"$shadow"
        else
                echo "no confirmation file"
        fi
}

# bounded MESSAGE MEMBER ARGS…: InvalidArgs with MESSAGE, nothing changed,
# and the daemon still answers.
bounded() {
        local message=$1 all_before
        shift
        all_before=$(world)
        assert_exit 1 ds "$@"
        assert_contains "$CR_LAST_OUTPUT" "Error $INVALID: $message" "error of $1"
        assert_eq "$all_before" "$(world)" "nothing changed after $1"
        assert_exit 0 cr_busctl call org.certrevoke1 /org/certrevoke1 org.freedesktop.DBus.Peer Ping
}

huge=$(head -c 100000 /dev/zero | tr '\0' x)
pw512=$(repeat 'Kx7#mQ2v' 64)
pw511=${pw512:1}
good='Nw7#Good-Pass-4410'
serial41=$(repeat 0123456789 4)A
reason33=$(repeat k 33)
((${#pw512} == 512 && ${#pw511} == 511 && ${#serial41} == 41)) || cr_die "test data of the wrong length"

for login in "$huge" "$long_login"; do
        bounded "login ID is longer than 64 characters" GetUser "string:$login"
        bounded "login ID is longer than 64 characters" GetHistory "string:$login" uint64:0 uint32:0
done
bounded "name is longer than 512 bytes" AddUser string:carol "string:$huge" string:general uint32:1003
bounded "name is longer than 512 bytes" AddUser string:carol "string:$(repeat ゲ 171)" string:general uint32:1003
bounded "unknown role: use master, admin, general or worker" AddUser string:carol string:Carol "string:$huge" uint32:1003
bounded "unknown role: use master, admin, general or worker" SetUserRole string:alice "string:$huge"
bounded 'unknown role "masters": use master' SetUserRole string:alice string:masters

# RevokeCertificate: serial, reason and confirmation password.
for serial in "$huge" "$serial41" "$(repeat 0A: 20)0A"; do
        bounded "serial is longer than 40 hex digits" RevokeCertificate string:alice "string:$serial" string: "string:$good"
done
bounded "serial may only contain hex digits" RevokeCertificate string:alice string:0xZZ string: "string:$good"
for reason in "$huge" "$reason33"; do
        bounded "reason is longer than 32 bytes" RevokeCertificate string:alice string: "string:$reason" "string:$good"
done
for secret in "$huge" "$pw512"; do
        bounded "the confirmation password is longer than 511 bytes" \
                RevokeCertificate string:alice string: string:keyCompromise "string:$secret"
        bounded "the confirmation password is longer than 511 bytes" SuspendUser string:alice "string:$secret"
        bounded "the confirmation password is longer than 511 bytes" ResumeUser string:alice "string:$secret"
        # both passwords of a change: the old one once crashed the daemon
        bounded "the current confirmation password is longer than 511 bytes" \
                ChangeConfirmationPassword "string:$secret" "string:$good"
        bounded "the new confirmation password is longer than 511 bytes" \
                ChangeConfirmationPassword "string:$good" "string:$secret"
        bounded "the new confirmation password is longer than 511 bytes" \
                SetConfirmationPassword string:alice "string:$secret" "string:$good"
        bounded "the confirmation password is longer than 511 bytes" \
                SetConfirmationPassword string:alice "string:$good" "string:$secret"
done
# A new password that could never be typed back.
for c in $'\n' $'\r' $'\t' $'\x01' $'\x1b' $'\x7f' $'\xc2\x85'; do
        bounded "the new confirmation password contains a control character" \
                SetConfirmationPassword string:alice "string:Nw7#Good${c}Pass-4410" string:
        bounded "the new confirmation password contains a control character" \
                ChangeConfirmationPassword "string:$good" "string:Nw7#Good${c}Pass-4410"
done

# ImportCertificate: 65536 bytes of DER at most (busctl, one argument a byte).
mapfile -t bytes < <(yes 48 | head -n 65537)
assert_exit 1 cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager ImportCertificate say \
        alice 65537 "${bytes[@]}"
assert_eq "Call failed: certificate is larger than 65536 bytes" "$CR_LAST_OUTPUT"
assert_exit 1 cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager ImportCertificate say \
        alice 65536 "${bytes[@]:1}"
assert_not_contains "$CR_LAST_OUTPUT" "larger than" "65536 bytes are within the bound (and not a certificate)"

# GetHistory: up to 10000 entries.
bounded "limit is at most 10000" GetHistory string: uint64:0 uint32:10001
bounded "limit is at most 10000" GetHistory string: uint64:0 uint32:4294967295
assert_exit 0 ds GetHistory string: uint64:0 uint32:10000

# The limits themselves: root sets a 511-byte confirmation password.
assert_exit 0 ds SetConfirmationPassword string:alice "string:$pw511" string:
[[ $(grep -c '^alice:\$y\$' "$shadow") == 1 ]] || cr_fail_at "alice's 511-byte password is in the file"
assert_eq "$before" "$(snapshot)"

# ---- the CLI: its own checks and the daemon's errors, as exit statuses
assert_exit 2 cr_ctl add-user "with space" Name general 1003
assert_contains "$CR_LAST_OUTPUT" 'Invalid login ID "with space"'
assert_exit 2 cr_ctl add-user "$long_login" Name general 1003
assert_exit 2 cr_ctl add-user carol "" general 1003
assert_contains "$CR_LAST_OUTPUT" "Invalid name: name is empty"
assert_exit 2 cr_ctl add-user carol $'Car\x01ol' general 1003
assert_exit 2 cr_ctl add-user carol "Carol" boss 1003
assert_contains "$CR_LAST_OUTPUT" 'Invalid role "boss"'
assert_exit 2 cr_ctl add-user carol Carol general -5
for uid in abc +5 1.5 "" 4294967295 99999999999; do
        assert_exit 2 cr_ctl add-user carol Carol general "$uid"
        assert_contains "$CR_LAST_OUTPUT" "Invalid UID"
done
# UID 0 passes the CLI and is refused by the daemon.
assert_exit 2 cr_ctl add-user carol Carol general 0
assert_contains "$CR_LAST_OUTPUT" "UID 0 is root's"
assert_exit 2 cr_ctl add-user root Root master 1003
assert_contains "$CR_LAST_OUTPUT" 'login ID "root" is reserved'
assert_exit 8 cr_ctl add-user alice Alice general 1003
assert_contains "$CR_LAST_OUTPUT" 'certrevokectl: a user with login ID "alice" exists already'
assert_exit 8 cr_ctl add-user carol Carol general 1002
assert_contains "$CR_LAST_OUTPUT" "UID 1002 belongs to another user already"
assert_exit 3 cr_ctl remove-user nosuch
assert_contains "$CR_LAST_OUTPUT" 'no user with login ID "nosuch"'
assert_exit 3 cr_ctl set-role nosuch admin
assert_exit 3 cr_ctl show nosuch
assert_exit 2 cr_ctl set-role alice boss
assert_exit 2 cr_ctl set-role "a/b" admin
assert_exit 2 cr_ctl show ""
assert_exit 2 cr_ctl remove-user "ユーザ"
assert_exit 2 cr_ctl add-user carol Carol general
assert_contains "$CR_LAST_OUTPUT" "Too few arguments for add-user"
assert_exit 2 cr_ctl remove-user alice bob
assert_contains "$CR_LAST_OUTPUT" "Too many arguments for remove-user"
assert_exit 2 cr_ctl frobnicate
assert_contains "$CR_LAST_OUTPUT" "Unknown command frobnicate"
assert_exit 2 cr_ctl --frobnicate list
assert_exit 2 cr_ctl --state=issued show alice
assert_contains "$CR_LAST_OUTPUT" "only apply to list"
assert_eq "$before" "$(snapshot)" "nothing the CLI refused reached the store"

# ---- a store from before schema version 5: login IDs that now clash or are
# refused stop the start, named, and the store is left as it was
cr_stop_daemon
db=$CR_TMP/state/store.db
sqlite3 "$db" "DROP INDEX users_by_login_nocase;
        INSERT INTO users (login_id, name, role, uid, created_usec) VALUES
                ('ALICE', 'Alice Again', 'general', 1201, 0), ('-rf', 'Odd', 'general', 1202, 0),
                ('..', 'Dots', 'worker', 1203, 0);
        PRAGMA user_version = 4;"
stored=$(sqlite3 "$db" "SELECT login_id FROM users ORDER BY login_id")
status=0
(cd "$CR_TMP" && exec env DBUS_SYSTEM_BUS_ADDRESS="$CR_BUS_ADDRESS" SOFTHSM2_CONF="$SOFTHSM2_CONF" \
        timeout -k 2 15 "$CR_BUILD/certrevoked" --config="$CR_TMP/certrevoke.conf") \
        </dev/null >"$CR_TMP/old-store.log" 2>&1 || status=$?
out=$(cat "$CR_TMP/old-store.log")
[[ $status != 0 && $status != 124 ]] || cr_fail_at "certrevoked started on a store with clashing login IDs" "$out"
assert_contains "$out" "but the store holds login IDs that differ only in case: ALICE, alice; and login IDs now refused: -rf, ..: remove them"
assert_eq 4 "$(sqlite3 "$db" 'PRAGMA user_version')" "the store stays at version 4"
assert_eq "$stored" "$(sqlite3 "$db" "SELECT login_id FROM users ORDER BY login_id")" "and keeps its users"
! cr_name_has_owner org.certrevoke1 || cr_fail_at "a refused start took the bus name"
if [[ $CR_ASAN == 1 ]]; then
        cr_check_sanitizers "$CR_TMP/old-store.log"
fi

echo "args OK"
