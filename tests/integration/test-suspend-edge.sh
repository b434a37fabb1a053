#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# Suspension at its edges, with the real daemon, the real pam_certrevoke.so
# under pam_wrapper and openssl reading the CRL:
#
# - suspending a user who is suspended already keeps the entry's date on
#   the CRL: the hold began with the first suspension;
# - removing a suspended user does not make their held certificate valid
#   again: it stays on the CRL (on hold or revoked), and
#   `openssl verify -crl_check` keeps refusing it;
# - a login that is removed while suspended and added again is not
#   suspended, and once it has a new confirmation password it can confirm:
#   the old suspension does not hold the new user back.
#
# Each check is reported at the end, so that one failing does not hide the
# others.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl setpriv pamtester flock
module=$CR_BUILD/pam_certrevoke.so
[[ -f $module ]] || cr_skip "pam_certrevoke.so not built in $CR_BUILD"
[[ $(id -u) == 0 ]] || cr_skip "needs root: the daemon's confirmation file belongs to root"

cr_world_init

ADAM=1001 HANA=1002 IVAN=1003 IVAN2=1004 GREG=1005
ROOT_PW='R00t-Confirm#4821'
ADAM_PW='Ax5-Confirm!7390'
IVAN_PW='Vx6-Confirm?5128'
IVAN2_PW='Vx7-Renewed?3371'

for who in hana greg; do
        cr_cert_issue "$CR_CA" "$who" "${who^}" "$CR_PAST" "$CR_LATER" "$CR_CERTS/$who.pem"
done

shadow=$CR_TMP/state/confirm.shadow
cr_write_config "$CR_TMP/certrevoke.conf"
sed -i "/^PAMService=/a ConfirmationFile=$shadow" "$CR_TMP/certrevoke.conf"
grep -qx "ConfirmationFile=$shadow" "$CR_TMP/certrevoke.conf" || cr_die "ConfirmationFile= not written"

cr_start_bus
# The daemon's copy and the helper's pam_wrapper preload come from here;
# the pam_matrix stack it puts in place is replaced by the real module.
cr_pam_init
cat >"$CR_TMP/pam/certrevoke" <<EOF
auth      required  $module file=$shadow
account   required  $module file=$shadow
password  required  $module file=$shadow
EOF
wrapper=$(dpkg -L libpam-wrapper 2>/dev/null | grep '/libpam_wrapper.so$' | head -n1)
preload=$wrapper
asan_rt=$(ldd "$module" | awk '/libasan/ { print $3 }')
[[ -z $asan_rt ]] || preload="$asan_rt $wrapper"

# pt LOGIN OPERATION [LINE…]: pamtester on the daemon's service, as root.
pt() {
        local login=$1 op=$2
        shift 2
        printf '%s\n' "$@" | flock "$CR_TMP/pam.lock" env LD_PRELOAD="$preload" PAM_WRAPPER=1 \
                PAM_WRAPPER_SERVICE_DIR="$CR_TMP/pam" pamtester certrevoke "$login" "$op" 2>&1
}

for who in "root:$ROOT_PW" "adam:$ADAM_PW" "ivan:$IVAN_PW"; do
        pt "${who%%:*}" chauthtok "${who#*:}" "${who#*:}" >/dev/null
done

cr_start_daemon
cr_ctl add-user adam "Adam" admin $ADAM
cr_ctl add-user hana "Hana" general $HANA
cr_ctl add-user ivan "Ivan" admin $IVAN
cr_ctl add-user greg "Greg" general $GREG
cr_ctl import-cert hana "$CR_CERTS/hana.pem"
cr_ctl import-cert greg "$CR_CERTS/greg.pem"

ctl_in() {
        local uid=$1 lines=()
        shift
        while [[ $1 != -- ]]; do
                lines+=("$1")
                shift
        done
        shift
        printf '%s\n' "${lines[@]}" | cr_ctl_as "$uid" --password-stdin "$@"
}

# entry SERIAL: the CRL's entry for SERIAL.
entry() {
        openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -text | grep -A4 "Serial Number: $1" || true
}

verify() {
        cr_wait_crl_pem
        openssl verify -crl_check -CAfile "$CR_CA/ca.pem" -CRLfile "$CR_PUB/crl.pem" "$1"
}

late_failures=()
# late WHAT CMD…: runs an assertion; a failure is noted and the test goes on.
late() {
        local what=$1
        shift
        "$@" || late_failures+=("$what")
}

hana_serial=$(cr_cert_serial "$CR_CERTS/hana.pem")

# ---- suspending again keeps the date of the hold

assert_exit 0 ctl_in $ADAM "$ADAM_PW" -- suspend hana
first=$(entry "$hana_serial" | grep "Revocation Date")
assert_contains "$first" "Revocation Date"
sleep 1.1
CR_LAST_EXIT=0
CR_LAST_OUTPUT=$(ctl_in $ADAM "$ADAM_PW" -- suspend hana 2>&1) || CR_LAST_EXIT=$?
[[ $CR_LAST_EXIT == 0 || $CR_LAST_EXIT == 2 ]] ||
        cr_fail_at "suspending again: exit $CR_LAST_EXIT" "$CR_LAST_OUTPUT"
assert_eq "b true" "$(cr_user_prop hana Suspended)"
late "a second suspension moved the hold's date on the CRL" \
        assert_eq "$first" "$(entry "$hana_serial" | grep "Revocation Date")" "the date of the hold"

# ---- a suspended user cannot be removed: that would lift the hold

assert_exit 2 verify "$CR_CERTS/hana.pem"
assert_exit 2 cr_ctl remove-user hana
assert_contains "$CR_LAST_OUTPUT" "hana is suspended: resume the user or revoke the certificate first"
assert_eq "b true" "$(cr_user_prop hana Suspended)" "hana is still there, suspended"
# Any later CRL: one for greg's suspension.
assert_exit 0 ctl_in $ADAM "$ADAM_PW" -- suspend greg
assert_contains "$(entry "$(cr_cert_serial "$CR_CERTS/greg.pem")")" "Certificate Hold"
late "hana's held certificate left the CRL" \
        assert_contains "$(entry "$hana_serial")" "Serial Number: $hana_serial" "hana's entry on the CRL"
CR_LAST_EXIT=0
CR_LAST_OUTPUT=$(verify "$CR_CERTS/hana.pem" 2>&1) || CR_LAST_EXIT=$?
late "openssl accepts hana's held certificate" \
        assert_eq 2 "$CR_LAST_EXIT" "openssl verify -crl_check of hana's certificate: $CR_LAST_OUTPUT"

# ---- a login removed (after its resumption) and added again starts afresh

assert_exit 0 ctl_in $ADAM "$ADAM_PW" -- suspend ivan
assert_exit 2 cr_ctl remove-user ivan
assert_exit 0 ctl_in $ADAM "$ADAM_PW" -- resume ivan
assert_exit 0 cr_ctl remove-user ivan
[[ -z $(grep '^ivan:' "$shadow" || true) ]] || cr_fail_at "the removed ivan keeps a confirmation password" \
        "$(grep '^ivan:' "$shadow")"
cr_ctl add-user ivan "Ivan the second" admin $IVAN2
assert_eq "b false" "$(cr_user_prop ivan Suspended)" "the new ivan is not suspended"
assert_exit 0 ctl_in 0 "$IVAN2_PW" "$IVAN2_PW" -- set-password ivan
assert_exit 0 pt ivan authenticate "$IVAN2_PW"
CR_LAST_EXIT=0
CR_LAST_OUTPUT=$(ctl_in $IVAN2 "$IVAN2_PW" -- resume greg 2>&1) || CR_LAST_EXIT=$?
late "the new ivan cannot confirm: the confirmation file still marks the login suspended" \
        assert_eq 0 "$CR_LAST_EXIT" "resume by the new ivan: $CR_LAST_OUTPUT"
CR_LAST_EXIT=0
CR_LAST_OUTPUT=$(pt ivan acct_mgmt) || CR_LAST_EXIT=$?
late "the PAM account step refuses the new ivan" assert_eq 0 "$CR_LAST_EXIT" "acct_mgmt of ivan: $CR_LAST_OUTPUT"

cr_stop_daemon
if ((${#late_failures[@]})); then
        printf 'FAILED: %s\n' "${late_failures[@]}" >&2
        exit 1
fi
echo "suspend-edge OK"
