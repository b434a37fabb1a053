#!/bin/bash
# shellcheck disable=SC2016 # crypt strings hold a literal $
# pam_certrevoke.so through pamtester under pam_wrapper: authentication with
# right, wrong, empty and unknown passwords; a suspended login refused by the
# account step; password changes by root and by the file's owner, with the
# quality rules; truncated, corrupt, empty, missing and unsafe files; and the
# shipped pam/certrevoke stack with pam_faillock around the module.
# The module's log lines (pam_wrapper's PAM_WRAPPER_DEBUGLEVEL=2) are kept in
# $CR_TMP/pam.log and must hold no password and no hash.

. "$(dirname "$0")/../lib.sh"

cr_need_cmd pamtester
module=$CR_BUILD/pam_certrevoke.so
[[ -f $module ]] || cr_skip "pam_certrevoke.so not built in $CR_BUILD"
wrapper=$(dpkg -L libpam-wrapper 2>/dev/null | grep '/libpam_wrapper.so$' | head -n1)
[[ -n $wrapper ]] || cr_skip "libpam-wrapper is not installed"

cr_setup_tmp

# pamtester is not built with ASan: a sanitized module needs the runtime
# loaded before anything else.
preload=$wrapper
asan_rt=$(ldd "$module" | awk '/libasan/ { print $3 }')
[[ -z $asan_rt ]] || preload="$asan_rt $wrapper"

shadow=$CR_TMP/confirm.shadow
mkdir -p "$CR_TMP/pam"

# service NAME FILE [OPTIONS…]: a stack of the module alone on FILE.
service() {
        local name=$1 file=$2
        shift 2
        cat >"$CR_TMP/pam/$name" <<EOF
auth      required  $module file=$file $*
account   required  $module file=$file $*
password  required  $module file=$file $*
EOF
}
service cr-test "$shadow"
printf '%s\n' "auth required pam_deny.so" "account required pam_deny.so" \
        "password required pam_deny.so" "session required pam_deny.so" >"$CR_TMP/pam/other"

# pt [ENV=VALUE…] SERVICE LOGIN OPERATION < input: pamtester under pam_wrapper.
pt() {
        env LD_PRELOAD="$preload" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$CR_TMP/pam" \
                PAM_WRAPPER_DEBUGLEVEL=2 pamtester "$@" 2>&1 | tee -a "$CR_TMP/pam.log"
}

# auth LOGIN PASSWORD [SERVICE]
auth() {
        printf '%s\n' "$2" | pt "${3:-cr-test}" "$1" authenticate
}

# acct LOGIN [SERVICE]
acct() {
        pt "${2:-cr-test}" "$1" acct_mgmt </dev/null
}

# passwd LOGIN LINE… : chauthtok with one line of input per prompt.
passwd() {
        local login=$1
        shift
        printf '%s\n' "$@" | pt cr-test "$login" chauthtok
}

# set_flags LOGIN FLAGS: rewrites LOGIN's flags field as the daemon would.
set_flags() {
        awk -F: -v OFS=: -v l="$1" -v f="$2" '$1 == l { $3 = f } { print }' "$shadow" >"$shadow.new"
        chmod 0600 "$shadow.new"
        mv -- "$shadow.new" "$shadow"
}

line_of() {
        grep "^$1:" "$shadow" || true
}

mode_of() {
        stat -c %a "$1"
}

A1='Kx7#mQ2v!pL9' A2='Tz4%hW8n&rB3' B1='Qp9*dF3s@wL6' C1='Mv5^jN2c$kR8' C2='Hs6!yU4e#gZ1'
# One byte over what libcrypt takes, and the longest it takes.
L512=$(printf "Pw5#Lq8z%.0s" {1..64})
L511=${L512:1}

# ------------------------------------------------------------ root sets passwords

cr_log "root sets first passwords (no old password asked)"
assert_exit 0 passwd alice "$A1" "$A1"
assert_contains "$CR_LAST_OUTPUT" "authentication token altered successfully"
assert_not_contains "$CR_LAST_OUTPUT" "Current" "root is not asked for the old password"
assert_exit 0 passwd bob "$B1" "$B1"
assert_eq 600 "$(mode_of "$shadow")" "file mode"
assert_eq 2 "$(wc -l <"$shadow")" "lines in the file"
[[ $(line_of alice) == 'alice:$y$'*: ]] || cr_fail_at "alice's line is not login:yescrypt:" "$(line_of alice)"

# ------------------------------------------------------------ authenticate

cr_log "authenticate"
assert_exit 0 auth alice "$A1"
assert_contains "$CR_LAST_OUTPUT" "successfully authenticated"
assert_contains "$CR_LAST_OUTPUT" "Confirmation password:"
assert_exit 1 auth alice "$B1"
assert_contains "$CR_LAST_OUTPUT" "Authentication failure"
assert_exit 1 auth alice ""
assert_contains "$CR_LAST_OUTPUT" "Authentication failure" "empty password"
assert_exit 1 auth alice "${A1}x"
assert_contains "$CR_LAST_OUTPUT" "Authentication failure"
assert_exit 1 auth zed "$A1"
assert_contains "$CR_LAST_OUTPUT" "User not known to the underlying authentication module"
assert_exit 1 auth 'bad:login' "$A1"
assert_contains "$CR_LAST_OUTPUT" "User not known to the underlying authentication module"
# Longer than libcrypt takes: refused before the file is read, so a known
# and an unknown login answer alike.
assert_exit 1 auth alice "$L512"
assert_contains "$CR_LAST_OUTPUT" "Authentication failure"
assert_contains "$CR_LAST_OUTPUT" "password for alice longer than 511 bytes: refused"
assert_exit 1 auth zed "$L512"
assert_contains "$CR_LAST_OUTPUT" "Authentication failure" "an unknown login with a long password"

# ------------------------------------------------------------ account

cr_log "account: suspended login refused"
assert_exit 0 acct alice
assert_contains "$CR_LAST_OUTPUT" "account management done"
set_flags bob "future-flag,suspended"
assert_exit 1 acct bob
assert_contains "$CR_LAST_OUTPUT" "Permission denied"
assert_exit 0 auth bob "$B1"    # the password is right; the account step refuses
assert_exit 1 acct zed
assert_contains "$CR_LAST_OUTPUT" "User not known to the underlying authentication module"
set_flags bob "future-flag"
assert_exit 0 acct bob

# ------------------------------------------------------------ password change by root

cr_log "chauthtok by root"
before=$(line_of alice)
assert_exit 0 passwd alice "$A2" "$A2"
after=$(line_of alice)
[[ $before != "$after" && $after == 'alice:$y$'* ]] || cr_fail_at "alice's hash did not change" "$before" "$after"
assert_exit 1 auth alice "$A1"
assert_exit 0 auth alice "$A2"
assert_contains "$(line_of bob)" ":future-flag" "bob's line and unknown flag kept"
assert_exit 0 auth bob "$B1"

assert_exit 1 passwd alice short short
assert_contains "$CR_LAST_OUTPUT" "BAD PASSWORD: The password is shorter than 8 characters."
assert_contains "$CR_LAST_OUTPUT" "Authentication token manipulation error"
assert_exit 1 passwd alice alice-long-name alice-long-name
assert_exit 1 passwd alice "$C1" "${C1}x"
assert_contains "$CR_LAST_OUTPUT" "Sorry, passwords do not match."
assert_exit 1 passwd alice aaaaaaaaaaaa aaaaaaaaaaaa
assert_contains "$CR_LAST_OUTPUT" "BAD PASSWORD" "libpwquality's rules"
assert_exit 1 passwd alice "$L512" "$L512"
assert_contains "$CR_LAST_OUTPUT" "BAD PASSWORD: The password is too long."
assert_contains "$CR_LAST_OUTPUT" "Authentication token manipulation error"
# A password that could never be typed back (a newline cannot even be
# typed into this conversation).
for c in $'\t' $'\x01' $'\x1b' $'\x7f' $'\xc2\x85'; do
        assert_exit 1 passwd alice "Nw7#Good${c}Pass-4410" "Nw7#Good${c}Pass-4410"
        assert_contains "$CR_LAST_OUTPUT" "BAD PASSWORD: the new confirmation password contains a control character"
        assert_contains "$CR_LAST_OUTPUT" "Authentication token manipulation error"
done
assert_eq "$after" "$(line_of alice)" "refused changes leave the line alone"
assert_exit 0 auth alice "$A2"
assert_eq 600 "$(mode_of "$shadow")" "file mode after changes"
# The longest password libcrypt takes is fine.
assert_exit 0 passwd bob "$L511" "$L511"
assert_exit 0 auth bob "$L511"
assert_exit 0 passwd bob "$B1" "$B1"

# ------------------------------------------------------------ password change by the file's owner

if [[ $(id -u) == 0 ]]; then
        cr_log "chauthtok by a user who must give the old password"
        mkdir "$CR_TMP/u1"
        own=$CR_TMP/u1/confirm.shadow
        service cr-user "$own"
        printf '%s\n' "$C1" "$C1" | pt cr-user carol chauthtok >/dev/null
        chown -R 1001:1001 "$CR_TMP/u1"
        chmod 0700 "$CR_TMP/u1"

        # libpwquality (cracklib) refuses a password of a caller that is
        # no user in NSS: UID 1001 is one through nss_wrapper.
        cr_nss_init
        user_nss=$(dpkg -L libnss-wrapper 2>/dev/null | grep '/libnss_wrapper.so$' | head -n1)
        [[ -n $user_nss ]] || cr_skip "libnss-wrapper is not installed"

        # user_pt LOGIN OPERATION LINE…: pamtester as UID 1001.
        user_pt() {
                local login=$1 op=$2
                shift 2
                printf '%s\n' "$@" | cr_as 1001 env LD_PRELOAD="$preload $user_nss" PAM_WRAPPER=1 \
                        PAM_WRAPPER_SERVICE_DIR="$CR_TMP/pam" PAM_WRAPPER_DEBUGLEVEL=2 \
                        pamtester cr-user "$login" "$op" 2>&1 | tee -a "$CR_TMP/pam.log"
        }
        user_passwd() {
                user_pt "$1" chauthtok "${@:2}"
        }
        assert_exit 1 user_passwd carol "$A1" "$C2" "$C2"
        assert_contains "$CR_LAST_OUTPUT" "Current confirmation password:"
        assert_contains "$CR_LAST_OUTPUT" "Authentication failure" "wrong old password"
        assert_exit 1 user_passwd carol "$C1" short short
        assert_contains "$CR_LAST_OUTPUT" "BAD PASSWORD"
        assert_exit 1 user_passwd carol "$L512" "$C2" "$C2"
        assert_contains "$CR_LAST_OUTPUT" "Authentication token manipulation error" "an old password over 511 bytes"
        assert_contains "$CR_LAST_OUTPUT" "current password longer than 511 bytes"
        assert_exit 1 user_passwd carol "$C1" "$C1" "$C1"
        assert_contains "$CR_LAST_OUTPUT" "BAD PASSWORD: The password is the same as the old one."
        assert_exit 1 user_passwd dave "$C1" "$C2" "$C2"
        assert_contains "$CR_LAST_OUTPUT" "User not known" "a user cannot add a login"
        assert_exit 0 user_passwd carol "$C1" "$C2" "$C2"
        assert_exit 1 user_pt carol authenticate "$C1"
        assert_exit 0 user_pt carol authenticate "$C2"
        # Root itself refuses a file that someone else than root owns.
        assert_exit 1 auth carol "$C2" cr-user
        assert_contains "$CR_LAST_OUTPUT" "owned by UID 1001, not by root"
        assert_eq "600 1001" "$(stat -c '%a %u' "$own")" "mode and owner of the user's file"
        sed -i 's/^\(carol:[^:]*:\)$/\1suspended/' "$own"
        assert_exit 1 user_passwd carol "$C2" "$C1" "$C1"
        assert_contains "$CR_LAST_OUTPUT" "Permission denied" "a suspended user cannot change it"
else
        cr_log "not root: the old-password path is left out"
fi

# ------------------------------------------------------------ broken files

cr_log "truncated and corrupt files"
good=$(cat "$shadow")
{
        echo "$good"
        printf 'garbage without colons\n\x01\x02\x03:::\n'
        printf 'carol:$y$j9T$cut'
} >"$shadow"
assert_exit 0 auth alice "$A2"
assert_exit 0 auth bob "$B1"
assert_exit 1 auth carol "$C1"
assert_contains "$CR_LAST_OUTPUT" "User not known" "a cut last line is skipped"
assert_contains "$(cat "$CR_TMP/pam.log")" "confirm.shadow:5: no newline at the end"
assert_contains "$(cat "$CR_TMP/pam.log")" "confirm.shadow:3: fewer than 3 fields"
assert_contains "$(cat "$CR_TMP/pam.log")" "confirm.shadow:4: more than 3 fields"

# A line cut inside its flags must not lose "suspended".
printf '%s\n%s' "$(line_of alice)" "$(line_of bob)suspended" >"$shadow"
assert_exit 1 acct bob
assert_contains "$CR_LAST_OUTPUT" "User not known"

head -c 40 <<<"$good" >"$shadow"
assert_exit 1 auth alice "$A2"
assert_contains "$CR_LAST_OUTPUT" "User not known" "a file cut inside its first line"

head -c 4096 /dev/urandom >"$shadow"
assert_exit 1 auth alice "$A2"

: >"$shadow"
assert_exit 1 auth alice "$A2"
assert_contains "$CR_LAST_OUTPUT" "User not known to the underlying authentication module" "empty file"

rm -f -- "$shadow"
assert_exit 1 auth alice "$A2"
assert_contains "$CR_LAST_OUTPUT" "Authentication service cannot retrieve authentication info" "missing file"
assert_exit 1 acct alice
assert_contains "$CR_LAST_OUTPUT" "Authentication service cannot retrieve authentication info"

echo "$good" >"$shadow"
chmod 0620 "$shadow"
assert_exit 1 auth alice "$A2"
assert_contains "$CR_LAST_OUTPUT" "Authentication service cannot retrieve authentication info" "group-writable file"
assert_contains "$CR_LAST_OUTPUT" "writable by group or others"
chmod 0600 "$shadow"
ln -s "$shadow" "$CR_TMP/link.shadow"
service cr-link "$CR_TMP/link.shadow"
assert_exit 1 auth alice "$A2" cr-link
assert_contains "$CR_LAST_OUTPUT" "Authentication service cannot retrieve authentication info" "symbolic link"

cr_log "a password change rewrites a corrupt file clean"
{
        echo "$good"
        echo "garbage"
} >"$shadow"
assert_exit 0 passwd bob "$C1" "$C1"
assert_eq 2 "$(wc -l <"$shadow")" "garbage dropped, both logins kept"
assert_exit 0 auth alice "$A2"
assert_exit 0 auth bob "$C1"
assert_eq 600 "$(mode_of "$shadow")" "file mode"

# ------------------------------------------------------------ options

cr_log "options"
service cr-bad "$shadow" nullok
assert_exit 1 auth alice "$A2" cr-bad
assert_contains "$CR_LAST_OUTPUT" "unknown or bad option"
cat >"$CR_TMP/pam/cr-relative" <<EOF
auth required $module file=confirm.shadow
EOF
assert_exit 1 auth alice "$A2" cr-relative
assert_contains "$CR_LAST_OUTPUT" "unknown or bad option" "relative file= refused"
service cr-debug "$shadow" debug
assert_exit 0 auth alice "$A2" cr-debug
assert_contains "$CR_LAST_OUTPUT" "confirmation password of alice accepted"

# ------------------------------------------------------------ the shipped stack

nss=$(dpkg -L libnss-wrapper 2>/dev/null | grep '/libnss_wrapper.so$' | head -n1)
if [[ -n $nss && $(id -u) == 0 ]] && command -v faillock >/dev/null; then
        cr_log "the shipped pam/certrevoke stack with pam_faillock"
        cr_nss_init     # pam_faillock wants its users in NSS
        # The same lines with this build's module and test paths; without
        # pam_faillock's 2 s fail delay, which only slows the test down.
        sed -e "s#pam_certrevoke\.so#$module file=$shadow#" \
                -e "s#dir=/var/lib/certrevoke/faillock#dir=$CR_TMP/faillock#" \
                -e '/^auth .*pam_faillock\.so/s/$/ nodelay/' \
                "$CR_SRCDIR/pam/certrevoke" >"$CR_TMP/pam/certrevoke"
        grep -q 'pam_faillock.so preauth.* nodelay$' "$CR_TMP/pam/certrevoke" ||
                cr_die "the shipped stack no longer has the expected pam_faillock lines"
        assert_exit 0 passwd cr-user1 "$A1" "$A1"
        stack() {
                printf '%s\n' "$2" | env LD_PRELOAD="$preload $nss" PAM_WRAPPER=1 \
                        PAM_WRAPPER_SERVICE_DIR="$CR_TMP/pam" PAM_WRAPPER_DEBUGLEVEL=2 \
                        pamtester certrevoke "$1" authenticate acct_mgmt 2>&1 | tee -a "$CR_TMP/pam.log"
        }
        tally() {
                env LD_PRELOAD="$nss" faillock --dir "$CR_TMP/faillock" --user "$1" "${@:2}"
        }
        assert_exit 0 stack cr-user1 "$A1"
        assert_contains "$CR_LAST_OUTPUT" "account management done"
        for i in 1 2 3; do
                assert_exit 1 stack cr-user1 "wrong-$i"
        done
        assert_exit 1 stack cr-user1 "$A1"
        assert_contains "$CR_LAST_OUTPUT" "Authentication failure" "locked after 3 failures"
        assert_contains "$(tally cr-user1)" "V" "failures in the test's tally"
        tally cr-user1 --reset
        assert_exit 0 stack cr-user1 "$A1"
        assert_exit 1 stack cr-user2 "$A1"     # in NSS, not in the file
        set_flags cr-user1 suspended
        assert_exit 1 stack cr-user1 "$A1"
        assert_contains "$CR_LAST_OUTPUT" "Permission denied"
        [[ ! -e /run/faillock/cr-user1 ]] || cr_log "note: /run/faillock/cr-user1 exists (not from this test)"
else
        cr_log "no nss_wrapper, faillock or root: the shipped stack is left out"
fi

# ------------------------------------------------------------ secrets

cr_log "no password in clear anywhere, no hash in the logs"
for pw in "$A1" "$A2" "$B1" "$C1" "$C2" "$L511"; do
        ! grep -rqF -- "$pw" "$shadow" "$CR_TMP/pam.log" ${own:+"$own"} ||
                cr_fail_at "a password is in clear in $shadow, $own or the log"
done
while IFS=: read -r _ hash _; do
        ! grep -qF -- "$hash" "$CR_TMP/pam.log" || cr_fail_at "a hash is in the log"
done <"$shadow"
assert_not_contains "$(cat "$CR_TMP/pam.log")" '$y$' "no hash in the log"
cr_log "ok"
