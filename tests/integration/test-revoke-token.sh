#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# A revocation while the user's card is not there: the revocation stands
# (answered "revoked", on the CRL), the certificate's removal is "pending"
# and the history says so.  A Rescan without the card changes nothing; once
# the card is back, Rescan destroys the revoked certificate on it (and only
# that one) and CertificateRemoval becomes "removed".

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl setpriv
cr_need_python

cr_world_init
cr_pam_init

ADMIN=1001

# ---- local helpers

# card_certs LABEL: the labels of the certificate objects on a card that is
# present (the harness forgets a card once cr_token_remove took it out).
card_certs() {
        cr_pkcs11_tool --token-label "$1" --list-objects --type cert 2>/dev/null |
                sed -n 's/^[[:space:]]*label:[[:space:]]*//p' | sort
}

cr_token_create card-gina-01
cr_cert_issue "$CR_CA" gina "Gina General" "$CR_PAST" "$CR_LATER" "$CR_CERTS/gina.pem"
# also a certificate of someone else on gina's card, which must stay
cr_cert_issue "$CR_CA" walt "Walt Worker" "$CR_PAST" "$CR_LATER" "$CR_CERTS/walt.pem"
cr_token_put_cert card-gina-01 "$CR_CERTS/gina.pem" 01 "gina certificate"
cr_token_put_key card-gina-01 "$CR_CERTS/gina.key" 01 "gina key"
cr_token_put_cert card-gina-01 "$CR_CERTS/walt.pem" 02 "walt certificate"
cr_token_create card-other-01
cr_pam_password boss boss-confirm

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN
cr_ctl add-user gina "Gina General" general 1002
cr_ctl add-user walt "Walt Worker" worker 1003
assert_exit 0 cr_ctl rescan
assert_eq "2 certificates seen" "$CR_LAST_OUTPUT"
assert_contains "$(cr_user_prop gina CertificateURI)" "token=card-gina-01;"
cr_wait_first_crl

# ---- the card is pulled out after the rescan that filed the certificate
card_dir=$(cr_token_dir card-gina-01)
cp -a -- "$card_dir" "$CR_TMP/card-gina-01.saved"
cr_token_remove card-gina-01
[[ ! -e $card_dir ]] || cr_fail_at "the card's directory is still there"

gina_serial=$(cr_cert_serial "$CR_CERTS/gina.pem")
assert_exit 0 cr_revoke_as $ADMIN gina "$gina_serial" keyCompromise boss-confirm
assert_eq '(sss) "gina" "Gina General" "revoked"' "$CR_LAST_OUTPUT" "the revocation stands without the card"
assert_eq 's "revoked"' "$(cr_user_prop gina CertificateState)"
assert_eq 's "pending"' "$(cr_user_prop gina CertificateRemoval)" "the certificate is still on the card"
assert_contains "$(openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -text)" "Serial Number: $gina_serial" \
        "gina is on the CRL"
cr_wait_crl_pem
cr_wait_history gina "certrevoked token-removal gina pending"
assert_exit 2 openssl verify -crl_check -CAfile "$CR_CA/ca.pem" -CRLfile "$CR_PUB/crl.pem" "$CR_CERTS/gina.pem"
assert_contains "$CR_LAST_OUTPUT" "certificate revoked"
hist=$(cr_history gina)
assert_contains "$hist" "boss revoke gina ok"
assert_contains "$hist" "certrevoked token-removal gina pending" "the history says the removal is pending"
assert_not_contains "$hist" "token-removal gina removed" "nothing was removed yet"

# ---- a rescan without the card: still pending
assert_exit 0 cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager Rescan
assert_eq "u 0" "$CR_LAST_OUTPUT" "no certificate is seen"
assert_eq 's "pending"' "$(cr_user_prop gina CertificateRemoval)" "still pending without the card"
assert_eq 's "revoked"' "$(cr_user_prop gina CertificateState)"

# ---- the card comes back: Rescan takes the revoked certificate off
cp -a -- "$CR_TMP/card-gina-01.saved" "$card_dir"
assert_eq "gina certificate|walt certificate" "$(card_certs card-gina-01 | paste -sd'|')" "the card is back as it was"
assert_exit 0 cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager Rescan
assert_eq 's "removed"' "$(cr_user_prop gina CertificateRemoval)" "removed once the card was seen"
assert_eq "walt certificate" "$(card_certs card-gina-01)" "only the revoked certificate left the card"
assert_contains "$(cr_pkcs11_tool --token-label card-gina-01 --login --pin "$CR_TOKEN_PIN" --list-objects \
        --type privkey 2>/dev/null)" "gina key" "the private key stays (no PIN configured)"
assert_eq 's "revoked"' "$(cr_user_prop gina CertificateState)" "still revoked"
assert_eq 's "issued"' "$(cr_user_prop walt CertificateState)" "walt's certificate is untouched"
hist=$(cr_history gina)
assert_contains "$hist" "certrevoked token-removal gina removed" "the history tells the removal"
assert_contains "$(cat "$CR_TMP/daemon.log")" "rescan: revoked certificate of gina removed from its token"

# ---- and it stays removed: a further rescan finds nothing to do
assert_exit 0 cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager Rescan
assert_eq 's "removed"' "$(cr_user_prop gina CertificateRemoval)"
assert_eq 1 "$(cr_history gina | grep -c 'token-removal gina removed')" "one removal in the history"

cr_stop_daemon
echo "revoke token OK"
