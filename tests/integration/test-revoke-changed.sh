#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# RevokeCertificate names the certificate the administrator saw on the
# confirmation step.  When the user's certificate was renewed in between
# (a newer one put on the card, found by Rescan), revoking the old serial is
# CertificateChanged and revokes nothing: neither the old nor the new
# certificate is on the CRL, both stay on the card.  Revoking the serial now
# shown works, in any spelling of the hex; it revokes the new certificate
# only.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon dbus-send busctl softhsm2-util pkcs11-tool openssl certtool setpriv
cr_need_python

cr_world_init
cr_pam_init

ADMIN=1001

# ---- local helpers

# listed LOGIN: "state serial" of LOGIN in ListUsers, as the admin sees it.
listed() {
        cr_as $ADMIN busctl --address="$CR_BUS_ADDRESS" --json=short call org.certrevoke1 /org/certrevoke1 \
                org.certrevoke1.Manager ListUsers |
                "$CR_PYTHON" -c '
import json, sys
for u in json.load(sys.stdin)["data"][0]:
    if u[0] == sys.argv[1]:
        print(u[3], u[4])' "$1"
}

# crl_serials: the serials on the published CRL, one a line.
crl_serials() {
        openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -text | sed -n 's/^ *Serial Number: //p'
}

# verify CERT.pem: openssl verify with the published CRL (status, output in CR_LAST_*).
verify() {
        cr_wait_crl_pem
        CR_LAST_EXIT=0
        CR_LAST_OUTPUT=$(openssl verify -crl_check -CAfile "$CR_CA/ca.pem" -CRLfile "$CR_PUB/crl.pem" "$1" 2>&1) ||
                CR_LAST_EXIT=$?
}

cr_token_create card-gina-01
cr_cert_issue "$CR_CA" gina "Gina General" "$(cr_date_utc '-30 days')" "$(cr_date_utc '+1 year')" "$CR_CERTS/gina-1.pem"
cr_token_put_cert card-gina-01 "$CR_CERTS/gina-1.pem" 01 "gina certificate 1"
cr_pam_password boss boss-confirm

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN
cr_ctl add-user gina "Gina General" general 1002
assert_exit 0 cr_ctl rescan
cr_wait_first_crl

# ---- step 1 and 2: the administrator sees gina's certificate
old=$(cr_cert_serial "$CR_CERTS/gina-1.pem")
assert_eq "issued $old" "$(listed gina)" "what the admin saw before the renewal"
seen=${old}

# ---- meanwhile the certificate is renewed: a newer one on the same card
cr_cert_issue "$CR_CA" gina "Gina General" "$(cr_date_utc '-1 hour')" "$(cr_date_utc '+2 years')" "$CR_CERTS/gina-2.pem"
cr_token_put_cert card-gina-01 "$CR_CERTS/gina-2.pem" 02 "gina certificate 2"
assert_exit 0 cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager Rescan
new=$(cr_cert_serial "$CR_CERTS/gina-2.pem")
[[ $new != "$old" ]] || cr_fail_at "the renewed certificate has the old serial"
assert_eq "renewed $new" "$(listed gina)" "after the renewal"
n1=$(cr_crl_number)
crl_before=$(sha256sum <"$CR_PUB/crl.der")

# ---- step 3 with what was seen: CertificateChanged, nothing revoked
assert_revoke_refused org.certrevoke1.Error.CertificateChanged $ADMIN gina "$seen" keyCompromise boss-confirm
assert_contains "$CR_LAST_OUTPUT" "no longer $old but $new" "the message names both serials"
# the same serial spelt in lower case and with colons is the same serial
lower=$(tr 'A-F' 'a-f' <<<"$old" | sed 's/../&:/g; s/:$//')
assert_revoke_refused org.certrevoke1.Error.CertificateChanged $ADMIN gina "$lower" keyCompromise boss-confirm
assert_exit 1 cr_revoke_as $ADMIN gina "$seen" keyCompromise boss-confirm
assert_contains "$CR_LAST_OUTPUT" "no longer $old" "what busctl shows"
# even with a wrong password the answer is CertificateChanged: nothing to confirm
assert_revoke_refused org.certrevoke1.Error.CertificateChanged $ADMIN gina "$seen" keyCompromise not-the-password

assert_eq "renewed $new" "$(listed gina)" "gina is not revoked"
assert_eq 't 0' "$(cr_user_prop gina RevokedAt)"
assert_eq 's ""' "$(cr_user_prop gina RevocationReason)"
assert_eq "$n1" "$(cr_crl_number)" "no CRL was built"
assert_eq "$crl_before" "$(sha256sum <"$CR_PUB/crl.der")" "the CRL is untouched"
assert_eq "" "$(crl_serials)" "the CRL lists nothing"
verify "$CR_CERTS/gina-1.pem"
assert_eq 0 "$CR_LAST_EXIT" "the old certificate stays valid: $CR_LAST_OUTPUT"
verify "$CR_CERTS/gina-2.pem"
assert_eq 0 "$CR_LAST_EXIT" "the new certificate stays valid: $CR_LAST_OUTPUT"
assert_eq "gina certificate 1|gina certificate 2" "$(cr_token_list_certs card-gina-01 | sort | paste -sd'|')" \
        "both certificates stay on the card"

# ---- a serial that never was gina's: CertificateChanged too
assert_revoke_refused org.certrevoke1.Error.CertificateChanged $ADMIN gina "0123456789ABCDEF" keyCompromise boss-confirm
assert_eq "$n1" "$(cr_crl_number)"

# ---- with the serial now shown (lower case) the revocation goes through
assert_exit 0 cr_revoke_as $ADMIN gina "$(tr 'A-F' 'a-f' <<<"$new")" keyCompromise boss-confirm
assert_eq '(sss) "gina" "Gina General" "revoked"' "$CR_LAST_OUTPUT"
assert_eq "revoked $new" "$(listed gina)"
assert_eq "s \"$new\"" "$(cr_user_prop gina CertificateSerial)"
n2=$(cr_crl_number)
((n2 > n1)) || cr_fail_at "CRLNumber did not grow: $n1 -> $n2"
assert_eq "$new" "$(crl_serials)" "only the new certificate is on the CRL"
assert_exit 0 openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -verify -CAfile "$CR_CA/ca.pem"
assert_contains "$CR_LAST_OUTPUT" "verify OK"
cr_wait_crl_pem
assert_exit 0 certtool --verify-crl --load-ca-certificate "$CR_CA/ca.pem" --infile "$CR_PUB/crl.pem"
assert_not_contains "$CR_LAST_OUTPUT" "Not verified"
verify "$CR_CERTS/gina-2.pem"
assert_eq 2 "$CR_LAST_EXIT" "the new certificate is refused: $CR_LAST_OUTPUT"
assert_contains "$CR_LAST_OUTPUT" "certificate revoked"
verify "$CR_CERTS/gina-1.pem"
assert_eq 0 "$CR_LAST_EXIT" "the old certificate was not revoked: $CR_LAST_OUTPUT"
assert_eq "gina certificate 1" "$(cr_token_list_certs card-gina-01)" "only the revoked certificate left the card"
cr_wait_user_prop gina CertificateRemoval 's "removed"'

# ---- and the old serial, now as then, is not what gina has
assert_revoke_refused org.certrevoke1.Error.CertificateChanged $ADMIN gina "$old" keyCompromise boss-confirm
assert_revoke_refused org.certrevoke1.Error.NotRevocable $ADMIN gina "$new" keyCompromise boss-confirm
assert_eq "$new" "$(crl_serials)" "still one entry"

cr_stop_daemon
echo "revoke changed OK"
