#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# Suspension (利用者停止・解除) through certrevokectl, the real daemon and the
# real pam_certrevoke.so under pam_wrapper, with SoftHSM tokens and openssl
# checking the published CRL:
#
# - an administrator suspends a general user: Suspended is true (show, in
#   English and Japanese, and --json), the user's current certificate is on
#   the CRL as Certificate Hold and `openssl verify -crl_check` refuses it,
#   while it stays on the user's card and its state stays issued; the
#   confirmation file marks the login suspended;
# - a suspended user can do nothing: lists no one, cannot look up or
#   change themselves, cannot read the history; a suspended administrator
#   can neither revoke nor suspend, and the PAM account step refuses them;
#   a login the confirmation file marks suspended cannot confirm through
#   the daemon either;
# - the suspension survives a restart of the daemon;
# - resume takes the entry off the next CRL and `openssl verify -crl_check`
#   accepts the certificate again;
# - a certificate revoked while on hold is listed once, with its reason,
#   and stays listed after the resume;
# - no one suspends themselves (exit 2); general and worker users cannot
#   suspend (exit 4); a wrong password changes nothing (exit 5); an unknown
#   login is exit 3;
# - the history shows suspend and resume with actor and target, in
#   Japanese too; a general user reads only entries about themselves.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon dbus-send busctl softhsm2-util pkcs11-tool openssl setpriv pamtester flock
cr_need_python
module=$CR_BUILD/pam_certrevoke.so
[[ -f $module ]] || cr_skip "pam_certrevoke.so not built in $CR_BUILD"
[[ $(id -u) == 0 ]] || cr_skip "needs root: the daemon's confirmation file belongs to root"
locale -a 2>/dev/null | grep -qix 'ja_JP.utf-\?8' || cr_skip "the ja_JP.UTF-8 locale is not installed"

cr_world_init

BOSS=1001 ADAM=1002 ANN=1003 GINA=1004 GREG=1005 WALT=1006
ROOT_PW='R00t-Confirm#4821'
ADAM_PW='Ax5-Confirm!7390'
ANN_PW='Nx2-Confirm?5128'
GINA_PW='Hn7-Confirm&9035'
GREG_PW='Gx4-Confirm*1100'
WALT_PW='Wx9-Confirm+6650'
WRONG_PW='Wr0ng-Guess-b8e6'

# gina's certificate is on her card; greg's and ann's are imported.
cr_token_create card-gina-01
cr_cert_issue "$CR_CA" gina "ゲータ妻子" "$CR_PAST" "$CR_LATER" "$CR_CERTS/gina.pem"
cr_token_put_cert card-gina-01 "$CR_CERTS/gina.pem" 01 "gina certificate"
for who in greg ann; do
        cr_cert_issue "$CR_CA" "$who" "${who^}" "$CR_PAST" "$CR_LATER" "$CR_CERTS/$who.pem"
done

# ---- the world: the real module under pam_wrapper, for the daemon and for pamtester

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

# pt LOGIN OPERATION [LINE…]: pamtester on the daemon's service, as root,
# one line of input per prompt, under the lock the daemon's helper takes.
pt() {
        local login=$1 op=$2
        shift 2
        printf '%s\n' "$@" | flock "$CR_TMP/pam.lock" env LD_PRELOAD="$preload" PAM_WRAPPER=1 \
                PAM_WRAPPER_SERVICE_DIR="$CR_TMP/pam" PAM_WRAPPER_DEBUGLEVEL=2 \
                pamtester certrevoke "$login" "$op" 2>&1 | tee -a "$CR_TMP/pam.log"
}

# Everyone's confirmation password, set by root through the module itself.
for who in "root:$ROOT_PW" "adam:$ADAM_PW" "ann:$ANN_PW" "gina:$GINA_PW" "greg:$GREG_PW" "walt:$WALT_PW"; do
        pt "${who%%:*}" chauthtok "${who#*:}" "${who#*:}" >/dev/null
done

cr_start_daemon
cr_ctl add-user boss "Boss" master $BOSS
cr_ctl add-user adam "Adam" admin $ADAM
cr_ctl add-user ann "Ann" admin $ANN
cr_ctl add-user gina "ゲータ妻子" general $GINA
cr_ctl add-user greg "Greg" general $GREG
cr_ctl add-user walt "Walt" worker $WALT
cr_ctl rescan >/dev/null
cr_ctl import-cert greg "$CR_CERTS/greg.pem"
cr_ctl import-cert ann "$CR_CERTS/ann.pem"

# ---- local helpers

# ctl_in UID LINE… -- ARGS…: certrevokectl ARGS… --password-stdin as UID.
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

json() {
        "$CR_PYTHON" -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

crl_text() {
        openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -text
}

crl_number() {
        cr_busctl get-property org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager CRLNumber
}

# verify CERT.pem: openssl's verdict on it with the published CRL.
verify() {
        cr_wait_crl_pem
        openssl verify -crl_check -CAfile "$CR_CA/ca.pem" -CRLfile "$CR_PUB/crl.pem" "$1"
}

# entry SERIAL: the CRL's entry for SERIAL (its line and the four after).
entry() {
        crl_text | grep -A4 "Serial Number: $1" || true
}

on_card() {
        cr_token_list_certs "$1" | paste -sd,
}

line_of() {
        grep "^$1:" "$shadow" || true
}

gina_serial=$(cr_cert_serial "$CR_CERTS/gina.pem")
greg_serial=$(cr_cert_serial "$CR_CERTS/greg.pem")
ann_serial=$(cr_cert_serial "$CR_CERTS/ann.pem")

for _ in {1..100}; do
        [[ -f $CR_PUB/crl.pem ]] && break
        sleep 0.1
done
assert_exit 0 verify "$CR_CERTS/gina.pem"
assert_eq 's "issued"' "$(cr_user_prop gina CertificateState)"
assert_eq "b false" "$(cr_user_prop gina Suspended)"
assert_exit 0 cr_ctl show gina
assert_contains "$CR_LAST_OUTPUT" "        Suspended: no"

# ---- refused: local checks, roles, oneself, a wrong password, no such user

assert_exit 2 cr_ctl suspend
assert_contains "$CR_LAST_OUTPUT" "Too few arguments for suspend"
assert_exit 2 cr_ctl resume gina greg
assert_exit 2 ctl_in $ADAM "$ADAM_PW" -- suspend "bad login"
assert_exit 2 ctl_in $ADAM "" -- suspend gina
assert_contains "$CR_LAST_OUTPUT" "The confirmation password is empty."
assert_exit 2 cr_ctl_as $ADAM suspend gina --reason=keyCompromise
assert_contains "$CR_LAST_OUTPUT" "only apply to revoke"
assert_exit 4 ctl_in $GREG "$GREG_PW" -- suspend gina
assert_contains "$CR_LAST_OUTPUT" "greg is not allowed to suspend gina: a general user cannot manage accounts"
assert_exit 4 ctl_in $WALT "$WALT_PW" -- suspend gina
assert_exit 4 ctl_in $GREG "$GREG_PW" -- resume gina
assert_exit 2 ctl_in $ADAM "$ADAM_PW" -- suspend adam
assert_contains "$CR_LAST_OUTPUT" "users cannot suspend or resume themselves"
assert_exit 2 ctl_in $ADAM "$ADAM_PW" -- resume adam
assert_exit 3 ctl_in $ADAM "$ADAM_PW" -- suspend nosuch
assert_exit 5 ctl_in $ADAM "$WRONG_PW" -- suspend gina
assert_contains "$CR_LAST_OUTPUT" "the confirmation password of adam is wrong"
assert_eq "b false" "$(cr_user_prop gina Suspended)" "refusals change nothing"
assert_eq "" "$(entry "$gina_serial")"

# ---- suspended: on hold on the CRL, still on the card

number=$(crl_number)
assert_exit 0 ctl_in $ADAM "$ADAM_PW" -- suspend gina
assert_eq "gina has been suspended." "$CR_LAST_OUTPUT"
assert_eq "b true" "$(cr_user_prop gina Suspended)"
[[ $(crl_number) > "$number" ]] || cr_fail_at "no new CRL after the suspension" "$number $(crl_number)"
assert_contains "$(entry "$gina_serial")" "Certificate Hold"
assert_exit 2 verify "$CR_CERTS/gina.pem"
assert_contains "$CR_LAST_OUTPUT" "certificate revoked"
assert_exit 0 verify "$CR_CERTS/greg.pem"
assert_exit 0 openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -verify -CAfile "$CR_CA/ca.pem"
assert_eq 's "issued"' "$(cr_user_prop gina CertificateState)" "on hold is not revoked"
assert_eq "gina certificate" "$(on_card card-gina-01)" "a held certificate stays on its card"
assert_contains "$(line_of gina)" ":suspended" "the confirmation file marks gina suspended"
assert_exit 0 cr_ctl show gina
assert_contains "$CR_LAST_OUTPUT" "        Suspended: yes"
assert_contains "$CR_LAST_OUTPUT" "Certificate state: issued"
assert_exit 0 env LC_ALL=ja_JP.UTF-8 CERTREVOKE_LOCALEDIR="$CR_BUILD/locale" \
        "$CR_BUILD/certrevokectl" --address="$CR_BUS_ADDRESS" show gina
assert_contains "$CR_LAST_OUTPUT" "      利用状態: 停止中"
assert_exit 0 cr_ctl --json show gina
assert_eq "True issued" "$(json 'str(d["Suspended"]) + " " + d["CertificateState"]' <<<"$CR_LAST_OUTPUT")"

# ---- a suspended user can do nothing

assert_exit 0 cr_ctl_as $GINA --json list
assert_eq "[]" "$CR_LAST_OUTPUT" "a suspended user lists no one"
assert_exit 4 cr_ctl_as $GINA show gina
assert_exit 4 cr_ctl_as $GINA history
assert_exit 4 ctl_in $GINA "$GINA_PW" "Hn7-Changed&1234" "Hn7-Changed&1234" -- passwd
# The module's account step refuses gina; her password is still right.
assert_exit 1 pt gina acct_mgmt
assert_contains "$CR_LAST_OUTPUT" "Permission denied"
assert_exit 0 pt gina authenticate "$GINA_PW"

# A suspended administrator.
assert_exit 0 ctl_in $ADAM "$ADAM_PW" -- suspend ann
assert_eq "b true" "$(cr_user_prop ann Suspended)"
assert_contains "$(entry "$ann_serial")" "Certificate Hold"
assert_exit 4 ctl_in $ANN "$ANN_PW" -- revoke greg
# The CLI stops at GetUser; RevokeCertificate itself refuses too.
assert_exit 1 cr_as $ANN dbus-send --bus="$CR_BUS_ADDRESS" --print-reply --dest=org.certrevoke1 \
        /org/certrevoke1 org.certrevoke1.Manager.RevokeCertificate \
        string:greg string: string: string:"$ANN_PW"
assert_contains "$CR_LAST_OUTPUT" "org.freedesktop.DBus.Error.AccessDenied"
assert_exit 4 ctl_in $ANN "$ANN_PW" -- suspend greg
assert_exit 4 ctl_in $ANN "$ANN_PW" -- resume gina
assert_exit 4 ctl_in $ANN "$ANN_PW" -- resume ann
assert_exit 0 cr_ctl_as $ANN --json list
assert_eq "[]" "$CR_LAST_OUTPUT"
assert_eq 's "issued"' "$(cr_user_prop greg CertificateState)"
assert_eq "b false" "$(cr_user_prop greg Suspended)"
assert_eq "b true" "$(cr_user_prop gina Suspended)"
assert_exit 1 pt ann acct_mgmt
assert_contains "$CR_LAST_OUTPUT" "Permission denied"

# A login the confirmation file marks suspended (the store says nothing):
# the account step of the daemon's PAM check refuses it.
cp -p -- "$shadow" "$CR_TMP/shadow.saved"
sed -i 's/^\(adam:[^:]*:\)$/\1suspended/' "$shadow"
assert_contains "$(line_of adam)" ":suspended"
assert_exit 5 ctl_in $ADAM "$ADAM_PW" -- suspend greg
assert_contains "$CR_LAST_OUTPUT" "the account of adam may not confirm this"
assert_eq "b false" "$(cr_user_prop greg Suspended)"
sed -i 's/^\(adam:[^:]*:\)suspended$/\1/' "$shadow"
assert_eq "" "$(line_of adam | cut -d: -f3)"

# ---- the suspension outlives a restart

cr_stop_daemon
cr_start_daemon
assert_eq "b true" "$(cr_user_prop gina Suspended)"
assert_exit 0 cr_ctl_as $GINA --json list
assert_eq "[]" "$CR_LAST_OUTPUT"
assert_contains "$(entry "$gina_serial")" "Certificate Hold"
assert_exit 2 verify "$CR_CERTS/gina.pem"
# Nor can she read her own object (after the restart: under ASan the
# daemon's exit reports what a suspended caller of the user objects leaked).
assert_exit 1 cr_as $GINA busctl --address="$CR_BUS_ADDRESS" get-property org.certrevoke1 \
        /org/certrevoke1/user/gina org.certrevoke1.User Suspended
assert_contains "$CR_LAST_OUTPUT" "Unknown object"

# ---- resumed: off the next CRL, valid again

number=$(crl_number)
LC_ALL=ja_JP.UTF-8 assert_exit 0 ctl_in $ADAM "$ADAM_PW" -- resume gina
assert_eq "利用者 gina の停止を解除しました。" "$CR_LAST_OUTPUT"
assert_eq "b false" "$(cr_user_prop gina Suspended)"
[[ $(crl_number) > "$number" ]] || cr_fail_at "no new CRL after the resume" "$number $(crl_number)"
assert_eq "" "$(entry "$gina_serial")" "gina's entry left the CRL"
assert_exit 0 verify "$CR_CERTS/gina.pem"
assert_contains "$CR_LAST_OUTPUT" "gina.pem: OK"
assert_exit 0 openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -verify -CAfile "$CR_CA/ca.pem"
assert_eq "" "$(line_of gina | cut -d: -f3)" "the confirmation file no longer marks gina"
assert_exit 0 pt gina acct_mgmt
assert_exit 0 cr_ctl_as $GINA --json list
assert_eq "gina issued" "$(json '" ".join(u["login_id"] + " " + u["state"] for u in d)' <<<"$CR_LAST_OUTPUT")"
assert_exit 0 cr_ctl show gina
assert_contains "$CR_LAST_OUTPUT" "        Suspended: no"
assert_exit 0 ctl_in $ADAM "$ADAM_PW" -- --json resume ann
assert_eq '{"login_id":"ann","suspended":false}' "$CR_LAST_OUTPUT"
assert_exit 0 verify "$CR_CERTS/ann.pem"

# ---- revoked while on hold: listed once, with its reason, and stays

assert_exit 0 ctl_in $ADAM "$ADAM_PW" -- suspend greg
assert_contains "$(entry "$greg_serial")" "Certificate Hold"
assert_exit 0 ctl_in $ADAM "$ADAM_PW" -- revoke greg --reason=keyCompromise
assert_eq 1 "$(crl_text | grep -c "Serial Number: $greg_serial")" "greg's serial listed once"
assert_contains "$(entry "$greg_serial")" "Key Compromise"
assert_not_contains "$(entry "$greg_serial")" "Certificate Hold"
assert_exit 0 ctl_in $ADAM "$ADAM_PW" -- resume greg
assert_contains "$(entry "$greg_serial")" "Key Compromise" "a revocation outlives the resume"
assert_exit 2 verify "$CR_CERTS/greg.pem"
assert_eq 's "revoked"' "$(cr_user_prop greg CertificateState)"

# ---- the history

assert_exit 0 cr_ctl --json history --limit=10000
hist=$CR_LAST_OUTPUT
has() {
        "$CR_PYTHON" -c 'import json, sys
d = json.loads(sys.argv[1])
print(sum(1 for e in d if [e["actor"], e["action"], e["target"], e["result"]] == sys.argv[2:]))' "$hist" "$@"
}
assert_eq 1 "$(has adam suspend gina ok)"
assert_eq 1 "$(has adam resume gina ok)"
assert_eq 1 "$(has adam suspend ann ok)"
assert_eq 1 "$(has adam resume ann ok)"
assert_eq 1 "$(has greg suspend gina denied)"
assert_eq 1 "$(has walt suspend gina denied)"
assert_eq 1 "$(has greg resume gina denied)"
assert_eq 1 "$(has adam confirm gina failed)" "the wrong password"
assert_eq 1 "$(has adam confirm greg account-refused)" "the file's mark"
assert_eq 1 "$(has ann revoke greg denied)"
assert_eq 1 "$(has ann suspend greg denied)"
assert_exit 0 env LC_ALL=ja_JP.UTF-8 TZ=Asia/Tokyo CERTREVOKE_LOCALEDIR="$CR_BUILD/locale" \
        "$CR_BUILD/certrevokectl" --address="$CR_BUS_ADDRESS" history gina
ja=$(tr -s ' ' <<<"$CR_LAST_OUTPUT")
assert_contains "$ja" " adam 利用者停止 gina ok"
assert_contains "$ja" " adam 停止解除 gina ok"
assert_contains "$ja" " greg 利用者停止 gina denied"

# gina: only entries about gina, her suspension and its end among them.
assert_exit 0 cr_ctl_as $GINA --json history
hist=$CR_LAST_OUTPUT
assert_eq "ok" "$(json '"ok" if d and all("gina" in (e["actor"], e["target"]) for e in d) else d' <<<"$hist")" \
        "gina sees only entries about gina"
assert_eq 1 "$(has adam suspend gina ok)"
assert_eq 1 "$(has adam resume gina ok)"
assert_eq 0 "$(has adam suspend ann ok)"
assert_exit 4 cr_ctl_as $GINA history ann

# ---- no password anywhere it could be read back
for pw in "$ROOT_PW" "$ADAM_PW" "$ANN_PW" "$GINA_PW" "$GREG_PW" "$WALT_PW" "$WRONG_PW"; do
        if grep -rqaF -- "$pw" "$CR_TMP"/*.log "$CR_TMP/public" "$CR_TMP/state"; then
                cr_fail_at "a confirmation password was written to disk" "$(grep -rlaF -- "$pw" "$CR_TMP")"
        fi
done

cr_stop_daemon
echo "suspend OK"
