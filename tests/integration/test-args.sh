#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# Every bad-argument path of the Manager's methods, sent with dbus-send so
# that the D-Bus error name is seen and the CLI's own checks cannot hide the
# daemon's: malformed login IDs for GetUser, AddUser, RemoveUser,
# SetUserRole and ImportCertificate; bad names, unknown roles, UID 0 and
# 4294967295 and the reserved login "root" for AddUser; an unknown role for
# SetUserRole; duplicates (UserExists); users that do not exist
# (NoSuchUser).  After every refused call the user table is unchanged.  The
# limits themselves are accepted (64-character login IDs, 128-character
# names), and the CLI maps each error to its exit status.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon dbus-send busctl softhsm2-util openssl setpriv

cr_setup_tmp
cr_softhsm_init
cr_ca_create "$CR_TMP/ca"
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
before=$(snapshot)

# ---- login IDs, for every method that takes one
long_login=$(repeat a 65)
bad_logins=("" "$long_login" "with space" "a/b" "ユーザ" "tab$(printf '\t')x" "a*")
whys=("login ID is empty" "login ID is longer than 64 characters" "login ID may only contain"
        "login ID may only contain" "login ID may only contain" "login ID may only contain"
        "login ID may only contain")
for i in "${!bad_logins[@]}"; do
        login=${bad_logins[i]} why=${whys[i]}
        refused $INVALID "$why" GetUser "string:$login"
        refused $INVALID "$why" AddUser "string:$login" string:Name string:general uint32:1050
        refused $INVALID "$why" RemoveUser "string:$login"
        refused $INVALID "$why" SetUserRole "string:$login" string:admin
        refused $INVALID "$why" ImportCertificate "string:$login" array:byte:48,0
done

# ---- names
refused $INVALID "name is empty" AddUser string:carol string: string:general uint32:1003
refused $INVALID "name is longer than 128 characters" AddUser string:carol "string:$(repeat x 129)" string:general uint32:1003
refused $INVALID "name is longer than 128 characters" AddUser string:carol "string:$(repeat あ 129)" string:general uint32:1003
for ctl in $'\x01' $'\t' $'\n' $'\x7f' $'\xc2\x85' $'\x1b[31m'; do
        refused $INVALID "name contains control characters" AddUser string:carol "string:Car${ctl}ol" string:general uint32:1003
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
refused $INVALID "UID 0 is root's" AddUser string:carol string:Carol string:general uint32:0
refused $INVALID "UID 0 is root's and 4294967295 is no UID" AddUser string:carol string:Carol string:general uint32:4294967295
refused $INVALID 'login ID "root" is reserved' AddUser string:root string:Root string:master uint32:1003

# ---- duplicates
refused $EXISTS 'a user with login ID "alice" exists already' AddUser string:alice string:Other string:general uint32:1003
refused $EXISTS "UID 1001 belongs to another user already" AddUser string:carol string:Carol string:general uint32:1001
refused $EXISTS 'a user with login ID "bob" exists already' AddUser string:bob string:Bob string:admin uint32:1002

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
for login in 1st.user-x_y . -- _; do
        assert_exit 0 ds AddUser "string:$login" string:Odd string:general uint32:$((1100 + ${#login}))
        got=$(ds GetUser "string:$login" | sed -n 's/^ *object path "\(.*\)"$/\1/p')
        [[ $got == /org/certrevoke1/user/* ]] || cr_fail_at "GetUser($login) gave no object path: '$got'"
        listed=$(cr_ctl --json list | grep -F "\"login_id\":\"$login\"," | sed 's/.*"path":"\([^"]*\)".*/\1/')
        assert_eq "$got" "$listed" "ListUsers and GetUser agree on the path of '$login'"
        assert_eq "s \"$login\"" "$(cr_busctl get-property org.certrevoke1 "$got" org.certrevoke1.User LoginId)"
        assert_exit 0 ds RemoveUser "string:$login"
done
assert_exit 0 ds RemoveUser "string:$login64"
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

cr_stop_daemon
echo "args OK"
