#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# RevokeCertificate as the users see it: an administrator revokes a general
# user's certificate and gets login ID, name and "revoked"; the user object
# says revoked, when and why; CertificateRevoked and PropertiesChanged are
# signalled; CRLNumber grows; the new CRL verifies with openssl and GnuTLS
# and lists the serial with reasonCode keyCompromise (no reasonCode at all
# for ""); the certificate is gone from its SoftHSM token.  A second
# revocation is NotRevocable.  Admin (own certificate), master and root may
# revoke; general and worker users may not (AccessDenied, nothing changes).
# Unknown login: NoSuchUser; bad reason or login syntax: InvalidArgs; no or
# an expired certificate: NotRevocable.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon dbus-send dbus-monitor busctl softhsm2-util pkcs11-tool openssl certtool setpriv timeout

cr_world_init
cr_pam_init

# Failures that need not stop the rest of the test; reported at the end.
late_failures=()

ROOT=0 ADMIN=1001 GENERAL=1002 WORKER=1003 MASTER=1004

# ---- local helpers

# crl_text: the published CRL as openssl prints it.
crl_text() {
        openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -text
}

# crl_entry SERIAL: the lines of the published CRL's entry for SERIAL.
crl_entry() {
        crl_text | awk -v s="Serial Number: $1" '
                /Serial Number: / { inside = ($0 ~ s "$") ; if (inside) print; next }
                /Signature Algorithm|Signature Value/ { inside = 0 }
                inside { print }'
}

# crl_count SERIAL: how many entries of the published CRL have that serial.
crl_count() {
        crl_text | grep -c "Serial Number: $1\$" || true
}

# check_crl: the published CRL verifies with openssl and GnuTLS, and the
# PEM and DER copies are the same CRL.
check_crl() {
        cr_wait_crl_pem
        assert_exit 0 openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -verify -CAfile "$CR_CA/ca.pem"
        assert_contains "$CR_LAST_OUTPUT" "verify OK" "openssl crl -verify"
        assert_eq "$(openssl crl -in "$CR_PUB/crl.pem" -outform DER | sha256sum)" "$(sha256sum <"$CR_PUB/crl.der")" \
                "crl.pem and crl.der are the same CRL"
        assert_exit 0 certtool --verify-crl --load-ca-certificate "$CR_CA/ca.pem" --infile "$CR_PUB/crl.pem"
        assert_not_contains "$CR_LAST_OUTPUT" "Not verified" "certtool --verify-crl"
        assert_contains "$CR_LAST_OUTPUT" "Verified" "certtool --verify-crl"
}

# is_revoked CERT.pem: openssl verify with the CRL refuses it as revoked.
is_revoked() {
        cr_wait_crl_pem
        assert_exit 2 openssl verify -crl_check -CAfile "$CR_CA/ca.pem" -CRLfile "$CR_PUB/crl.pem" "$1"
        assert_contains "$CR_LAST_OUTPUT" "certificate revoked" "openssl verify -crl_check $(basename "$1")"
}

# is_valid CERT.pem: openssl verify with the CRL accepts it.
is_valid() {
        cr_wait_crl_pem
        assert_exit 0 openssl verify -crl_check -CAfile "$CR_CA/ca.pem" -CRLfile "$CR_PUB/crl.pem" "$1"
        assert_contains "$CR_LAST_OUTPUT" ": OK" "openssl verify -crl_check $(basename "$1")"
}

# wait_for FILE TEXT: waits up to 10 s for TEXT to appear in FILE.
wait_for() {
        local i
        for ((i = 0; i < 100; i++)); do
                grep -qF -- "$2" "$1" 2>/dev/null && return 0
                sleep 0.1
        done
        cr_fail_at "'$2' did not appear in $(basename "$1")" "$(cr_indent <"$1")"
}

# ---- the users
cr_card boss "Boss Admin"
cr_card gina "Gina General"
cr_card walt "Walt Worker"
cr_card mary "Mary Master"
cr_card pete "Pete Plain"
cr_card rita "Rita Root-Target"
cr_card sam "Sam Unspecified"
cr_card olga "Olga Old" 20200101000000Z 20210101000000Z
cr_token_create card-nora-01 # a blank card: nora has no certificate

cr_pam_password boss boss-confirm-secret
cr_pam_password gina gina-confirm-secret
cr_pam_password walt walt-confirm-secret
cr_pam_password mary mary-confirm-secret
cr_pam_password root root-confirm-secret

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN
cr_ctl add-user gina "Gina General" general $GENERAL
cr_ctl add-user walt "Walt Worker" worker $WORKER
cr_ctl add-user mary "Mary Master" master $MASTER
cr_ctl add-user pete "Pete Plain" general 1005
cr_ctl add-user rita "Rita Root-Target" general 1006
cr_ctl add-user sam "Sam Unspecified" general 1007
cr_ctl add-user olga "Olga Old" general 1008
cr_ctl add-user nora "Nora None" general 1009
assert_exit 0 cr_ctl rescan
assert_eq "8 certificates seen" "$CR_LAST_OUTPUT"

# The daemon publishes a first, empty CRL when it starts with none.
cr_wait_first_crl
check_crl
is_valid "$CR_CERTS/gina.pem"
n0=$(cr_crl_number)

gina_serial=$(cr_cert_serial "$CR_CERTS/gina.pem")
pete_serial=$(cr_cert_serial "$CR_CERTS/pete.pem")

# ---- general and worker users may not revoke, not even their own; nothing changes
crl_before=$(sha256sum <"$CR_PUB/crl.der")
assert_revoke_refused org.freedesktop.DBus.Error.AccessDenied $GENERAL pete "$pete_serial" keyCompromise gina-confirm-secret
assert_revoke_refused org.freedesktop.DBus.Error.AccessDenied $GENERAL gina "$gina_serial" keyCompromise gina-confirm-secret
assert_revoke_refused org.freedesktop.DBus.Error.AccessDenied $WORKER pete "" "" walt-confirm-secret
assert_contains "$CR_LAST_OUTPUT" "only master and administrator users may revoke" "the message a worker gets"
assert_exit 1 cr_revoke_as $WORKER gina "" keyCompromise walt-confirm-secret
assert_contains "$CR_LAST_OUTPUT" "Access denied" "what busctl shows a worker"
# A UID that is no certrevoke user at all.
assert_revoke_refused org.freedesktop.DBus.Error.AccessDenied 1010 pete "" keyCompromise whatever
assert_eq 's "issued"' "$(cr_user_prop pete CertificateState)" "pete after refused revocations"
assert_eq 's "issued"' "$(cr_user_prop gina CertificateState)" "gina after refused revocations"
assert_eq 't 0' "$(cr_user_prop pete RevokedAt)"
assert_eq "$n0" "$(cr_crl_number)" "no CRL for a refused revocation"
assert_eq "$crl_before" "$(sha256sum <"$CR_PUB/crl.der")" "the CRL is untouched"
assert_eq "pete certificate" "$(cr_token_list_certs card-pete-01)" "pete's card keeps its certificate"

# ---- bad arguments: InvalidArgs, NoSuchUser, NotRevocable; nothing changes
assert_revoke_refused org.freedesktop.DBus.Error.InvalidArgs $ADMIN gina "" bogus boss-confirm-secret
assert_revoke_refused org.freedesktop.DBus.Error.InvalidArgs $ADMIN gina "" certificateHold boss-confirm-secret
assert_revoke_refused org.freedesktop.DBus.Error.InvalidArgs $ADMIN gina "" removeFromCRL boss-confirm-secret
assert_revoke_refused org.freedesktop.DBus.Error.InvalidArgs $ADMIN gina "" KeyCompromise boss-confirm-secret
assert_revoke_refused org.freedesktop.DBus.Error.InvalidArgs $ADMIN "gi na" "" keyCompromise boss-confirm-secret
assert_revoke_refused org.freedesktop.DBus.Error.InvalidArgs $ADMIN "../gina" "" keyCompromise boss-confirm-secret
assert_revoke_refused org.freedesktop.DBus.Error.InvalidArgs $ADMIN "" "" keyCompromise boss-confirm-secret
assert_revoke_refused org.freedesktop.DBus.Error.InvalidArgs $ADMIN gina "not-hex" keyCompromise boss-confirm-secret
assert_exit 1 cr_revoke_as $ADMIN gina "" bogus boss-confirm-secret
assert_contains "$CR_LAST_OUTPUT" 'unknown revocation reason "bogus"' "what busctl shows for a bad reason"
assert_revoke_refused org.certrevoke1.Error.NoSuchUser $ADMIN nobody-here "" keyCompromise boss-confirm-secret
assert_revoke_refused org.certrevoke1.Error.NotRevocable $ADMIN nora "" keyCompromise boss-confirm-secret
assert_contains "$CR_LAST_OUTPUT" "not-issued" "nora has no certificate"
assert_revoke_refused org.certrevoke1.Error.NotRevocable $ADMIN olga "" keyCompromise boss-confirm-secret
assert_contains "$CR_LAST_OUTPUT" "expired" "olga's certificate is expired"
assert_eq 's "expired"' "$(cr_user_prop olga CertificateState)"
assert_eq 's "issued"' "$(cr_user_prop gina CertificateState)" "gina after bad calls"
assert_eq "$n0" "$(cr_crl_number)" "no CRL for a bad call"
assert_eq "$crl_before" "$(sha256sum <"$CR_PUB/crl.der")" "the CRL is untouched by bad calls"

# ---- an administrator revokes a general user's certificate
timeout 60 dbus-monitor --address "$CR_BUS_ADDRESS" "type='signal',sender='org.certrevoke1'" \
        >"$CR_TMP/monitor.out" 2>&1 &
monitor=$!
cr_track "$monitor"
# dbus-monitor prints the loss of its own name once it is a monitor.
wait_for "$CR_TMP/monitor.out" "member=NameLost"

before_usec=$(($(date +%s%N) / 1000))
assert_exit 0 cr_revoke_as $ADMIN gina "$gina_serial" keyCompromise boss-confirm-secret
assert_eq '(sss) "gina" "Gina General" "revoked"' "$CR_LAST_OUTPUT" "the reply of the done step"
after_usec=$(($(date +%s%N) / 1000))

assert_eq 's "revoked"' "$(cr_user_prop gina CertificateState)"
assert_eq 's "keyCompromise"' "$(cr_user_prop gina RevocationReason)"
revoked_at=$(cr_user_prop gina RevokedAt)
revoked_at=${revoked_at#t }
((revoked_at >= before_usec && revoked_at <= after_usec)) ||
        cr_fail_at "RevokedAt $revoked_at is not between $before_usec and $after_usec"
assert_eq "s \"$gina_serial\"" "$(cr_user_prop gina CertificateSerial)" "the revoked certificate stays the current one"
n1=$(cr_crl_number)
((n1 > n0)) || cr_fail_at "CRLNumber did not grow: $n0 -> $n1"

# the CRL that the reply waited for lists gina's serial, keyCompromise
check_crl
entry=$(crl_entry "$gina_serial")
assert_contains "$entry" "Serial Number: $gina_serial" "gina's serial is on the CRL"
assert_contains "$entry" "X509v3 CRL Reason Code" "gina's entry has a reasonCode"
assert_contains "$entry" "Key Compromise" "gina's entry says keyCompromise"
file_number=$(openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -crlnumber)
assert_eq "$n1" "$((16#${file_number#crlNumber=0x}))" "the CRL's number is CRLNumber"
is_revoked "$CR_CERTS/gina.pem"
is_valid "$CR_CERTS/pete.pem"
is_valid "$CR_CERTS/boss.pem"

# gone from the card: the removal follows the reply, and says when it is done
cr_wait_user_prop gina CertificateRemoval 's "removed"'
assert_eq "" "$(cr_token_list_certs card-gina-01)" "gina's certificate is off her card"

# the signals; a marker change makes sure every signal before it is in
cr_ctl set-role walt general
wait_for "$CR_TMP/monitor.out" "path=/org/certrevoke1/user/walt;"
cr_kill_pids "$monitor"
cr_untrack "$monitor"
# signal_body MEMBER PATH: the body of the first signal MEMBER on PATH.
signal_body() {
        awk -v p="path=$2;" -v m="member=$1" '
                /^signal / { if (seen) exit; inside = index($0, p) > 0 && index($0, m) > 0; seen = inside; next }
                /^(method|error)/ { if (seen) exit; next }
                inside { print }' "$CR_TMP/monitor.out"
}
revoked_signal=$(signal_body CertificateRevoked /org/certrevoke1)
[[ -n $revoked_signal ]] || cr_fail_at "no CertificateRevoked signal" "$(cr_indent <"$CR_TMP/monitor.out")"
# The signal's arguments are (s login_id, s serial, s reason, t revoked_at_usec),
# as the introspection data declares them: four arguments, no struct.
assert_eq "string \"gina\"|string \"$gina_serial\"|string \"keyCompromise\"|uint64 $revoked_at" \
        "$(sed -E 's/^ +//' <<<"$revoked_signal" | paste -sd'|')" "CertificateRevoked's arguments" ||
        late_failures+=("CertificateRevoked is not sent as the four arguments ssst")
assert_eq ".CertificateRevoked signal ssst - -" \
        "$(cr_busctl introspect org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager |
                awk '$1 == ".CertificateRevoked" { print $1, $2, $3, $4, $5 }')" "the declared signature"
changed=$(signal_body PropertiesChanged /org/certrevoke1/user/gina)
assert_contains "$changed" 'string "org.certrevoke1.User"' "PropertiesChanged on gina"
assert_contains "$(grep -A1 '"CertificateState"' <<<"$changed")" 'string "revoked"' \
        "PropertiesChanged carries the revoked state"
assert_contains "$(grep -A1 '"RevocationReason"' <<<"$changed")" 'string "keyCompromise"'
assert_contains "$(cat "$CR_TMP/monitor.out")" "member=PropertiesChanged" 
# after the reply, the token copy's removal is signalled too
removal_changed=$(awk -v p="path=/org/certrevoke1/user/gina;" '
        /^signal / { inside = index($0, p) > 0 && index($0, "member=PropertiesChanged") > 0; next }
        /^(method|error)/ { inside = 0; next }
        inside { print }' "$CR_TMP/monitor.out")
assert_contains "$(grep -A1 '"CertificateRemoval"' <<<"$removal_changed")" 'string "removed"' \
        "PropertiesChanged tells that gina's certificate left her card"
crl_changed=$(signal_body PropertiesChanged /org/certrevoke1)
assert_contains "$crl_changed" 'string "org.certrevoke1.Manager"' "PropertiesChanged of the Manager"
assert_contains "$(grep -A1 '"CRLNumber"' <<<"$crl_changed")" "uint64" "CRLNumber is signalled"

# ---- the same again: NotRevocable, one entry still
assert_revoke_refused org.certrevoke1.Error.NotRevocable $ADMIN gina "" keyCompromise boss-confirm-secret
assert_revoke_refused org.certrevoke1.Error.NotRevocable $ADMIN gina "$gina_serial" superseded boss-confirm-secret
assert_eq 1 "$(crl_count "$gina_serial")" "gina is listed once"
assert_eq 's "keyCompromise"' "$(cr_user_prop gina RevocationReason)" "the reason stays"

# ---- an administrator revokes their own certificate ("" = the current one)
assert_exit 0 cr_revoke_as $ADMIN boss "" superseded boss-confirm-secret
assert_eq '(sss) "boss" "Boss Admin" "revoked"' "$CR_LAST_OUTPUT"
assert_eq 's "revoked"' "$(cr_user_prop boss CertificateState)"
n2=$(cr_crl_number)
((n2 > n1)) || cr_fail_at "CRLNumber did not grow: $n1 -> $n2"
check_crl
assert_contains "$(crl_entry "$(cr_cert_serial "$CR_CERTS/boss.pem")")" "Superseded"
is_revoked "$CR_CERTS/boss.pem"

# ---- a master user
assert_exit 0 cr_revoke_as $MASTER pete "$pete_serial" affiliationChanged mary-confirm-secret
assert_eq '(sss) "pete" "Pete Plain" "revoked"' "$CR_LAST_OUTPUT"
assert_contains "$(crl_entry "$pete_serial")" "Affiliation Changed"
is_revoked "$CR_CERTS/pete.pem"

# ---- root, with root's own confirmation password
assert_revoke_refused org.certrevoke1.Error.AuthenticationFailed $ROOT rita "" cessationOfOperation mary-confirm-secret
assert_exit 0 cr_revoke_as $ROOT rita "" cessationOfOperation root-confirm-secret
assert_eq '(sss) "rita" "Rita Root-Target" "revoked"' "$CR_LAST_OUTPUT"
assert_contains "$(crl_entry "$(cr_cert_serial "$CR_CERTS/rita.pem")")" "Cessation Of Operation"
is_revoked "$CR_CERTS/rita.pem"

# ---- reason "": unspecified, and the entry carries no reasonCode (RFC 5280 5.3.1)
sam_serial=$(cr_cert_serial "$CR_CERTS/sam.pem")
assert_exit 0 cr_revoke_as $MASTER sam "" "" mary-confirm-secret
assert_eq '(sss) "sam" "Sam Unspecified" "revoked"' "$CR_LAST_OUTPUT"
assert_eq 's "unspecified"' "$(cr_user_prop sam RevocationReason)"
entry=$(crl_entry "$sam_serial")
assert_contains "$entry" "Serial Number: $sam_serial" "sam's serial is on the CRL"
assert_not_contains "$entry" "CRL Reason Code" "an unspecified revocation has no reasonCode"
assert_not_contains "$entry" "CRL entry extensions" "sam's entry has no extensions"
is_revoked "$CR_CERTS/sam.pem"

# ---- everything at the end: five entries, each once; the CRL verifies
check_crl
assert_eq 5 "$(crl_text | grep -c 'Serial Number:')" "five revocations on the CRL"
for who in gina boss pete rita sam; do
        assert_eq 1 "$(crl_count "$(cr_cert_serial "$CR_CERTS/$who.pem")")" "$who listed once"
        assert_eq "" "$(cr_token_list_certs "card-$who-01")" "$who's card is empty"
        cr_wait_user_prop "$who" CertificateRemoval 's "removed"'
done
is_valid "$CR_CERTS/mary.pem"
is_valid "$CR_CERTS/walt.pem"
assert_eq "mary certificate" "$(cr_token_list_certs card-mary-01)" "mary's card is untouched"

cr_stop_daemon
if ((${#late_failures[@]})); then
        printf 'FAILED: %s\n' "${late_failures[@]}" >&2
        exit 1
fi
echo "revoke OK"
