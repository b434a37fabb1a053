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
python=/usr/bin/python3
[[ -x $python ]] || cr_skip "no $python"

cr_setup_tmp
cr_softhsm_init
cr_pam_init
if [[ $CR_ASAN == 1 ]]; then
        # pam_wrapper loads libpam with RTLD_DEEPBIND, which ASan refuses.
        CR_DAEMON_ENV+=(PAM_WRAPPER_DISABLE_DEEPBIND=1 UID_WRAPPER_DISABLE_DEEPBIND=1)
fi
ca=$CR_TMP/ca
certs=$CR_TMP/certs
pub=$CR_TMP/public
mkdir -p "$certs"
cr_ca_create "$ca"
past=$(cr_date_utc '-1 day')
later=$(cr_date_utc '+1 year')

ADMIN=1001

# ---- local helpers

# revoke_as UID LOGIN SERIAL REASON PASSWORD: RevokeCertificate through busctl.
revoke_as() {
        local uid=$1
        shift
        cr_as "$uid" busctl --address="$CR_BUS_ADDRESS" call org.certrevoke1 /org/certrevoke1 \
                org.certrevoke1.Manager RevokeCertificate ssss "$@"
}

# prop LOGIN PROPERTY: a user object's property, read as root.
prop() {
        cr_busctl get-property org.certrevoke1 "/org/certrevoke1/user/$1" org.certrevoke1.User "$2"
}

# crl_number: the Manager's CRLNumber property (a bare number).
crl_number() {
        local v
        v=$(cr_busctl get-property org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager CRLNumber)
        echo "${v#t }"
}

# history_of LOGIN: LOGIN's history as root, one "actor action target result" a line.
history_of() {
        cr_busctl --json=short call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager \
                GetHistory stu "$1" 0 0 |
                "$python" -c '
import json, sys
for e in json.load(sys.stdin)["data"][0]:
    print(" ".join(e[1:]))'
}

# card_certs LABEL: the labels of the certificate objects on a card that is
# present (the harness forgets a card once cr_token_remove took it out).
card_certs() {
        cr_pkcs11_tool --token-label "$1" --list-objects --type cert 2>/dev/null |
                sed -n 's/^[[:space:]]*label:[[:space:]]*//p' | sort
}

cr_token_create card-gina-01
cr_cert_issue "$ca" gina "Gina General" "$past" "$later" "$certs/gina.pem"
# also a certificate of someone else on gina's card, which must stay
cr_cert_issue "$ca" walt "Walt Worker" "$past" "$later" "$certs/walt.pem"
cr_token_put_cert card-gina-01 "$certs/gina.pem" 01 "gina certificate"
cr_token_put_key card-gina-01 "$certs/gina.key" 01 "gina key"
cr_token_put_cert card-gina-01 "$certs/walt.pem" 02 "walt certificate"
cr_token_create card-other-01
cr_pam_password boss boss-confirm

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN
cr_ctl add-user gina "Gina General" general 1002
cr_ctl add-user walt "Walt Worker" worker 1003
assert_exit 0 cr_ctl rescan
assert_eq "2 certificates seen" "$CR_LAST_OUTPUT"
assert_contains "$(prop gina CertificateURI)" "token=card-gina-01;"
for _ in {1..100}; do
        [[ -f $pub/crl.der && $(crl_number) -ge 1 ]] && break
        sleep 0.1
done
[[ -f $pub/crl.der ]] || cr_fail_at "no CRL published at start"

# ---- the card is pulled out after the rescan that filed the certificate
card_dir=$(cr_token_dir card-gina-01)
cp -a -- "$card_dir" "$CR_TMP/card-gina-01.saved"
cr_token_remove card-gina-01
[[ ! -e $card_dir ]] || cr_fail_at "the card's directory is still there"

gina_serial=$(cr_cert_serial "$certs/gina.pem")
assert_exit 0 revoke_as $ADMIN gina "$gina_serial" keyCompromise boss-confirm
assert_eq '(sss) "gina" "Gina General" "revoked"' "$CR_LAST_OUTPUT" "the revocation stands without the card"
assert_eq 's "revoked"' "$(prop gina CertificateState)"
assert_eq 's "pending"' "$(prop gina CertificateRemoval)" "the certificate is still on the card"
assert_contains "$(openssl crl -inform DER -in "$pub/crl.der" -noout -text)" "Serial Number: $gina_serial" \
        "gina is on the CRL"
assert_exit 2 openssl verify -crl_check -CAfile "$ca/ca.pem" -CRLfile "$pub/crl.pem" "$certs/gina.pem"
assert_contains "$CR_LAST_OUTPUT" "certificate revoked"
hist=$(history_of gina)
assert_contains "$hist" "boss revoke gina ok"
assert_contains "$hist" "certrevoked token-removal gina pending" "the history says the removal is pending"
assert_not_contains "$hist" "token-removal gina removed" "nothing was removed yet"

# ---- a rescan without the card: still pending
assert_exit 0 cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager Rescan
assert_eq "u 0" "$CR_LAST_OUTPUT" "no certificate is seen"
assert_eq 's "pending"' "$(prop gina CertificateRemoval)" "still pending without the card"
assert_eq 's "revoked"' "$(prop gina CertificateState)"

# ---- the card comes back: Rescan takes the revoked certificate off
cp -a -- "$CR_TMP/card-gina-01.saved" "$card_dir"
assert_eq "gina certificate|walt certificate" "$(card_certs card-gina-01 | paste -sd'|')" "the card is back as it was"
assert_exit 0 cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager Rescan
assert_eq 's "removed"' "$(prop gina CertificateRemoval)" "removed once the card was seen"
assert_eq "walt certificate" "$(card_certs card-gina-01)" "only the revoked certificate left the card"
assert_contains "$(cr_pkcs11_tool --token-label card-gina-01 --login --pin "$CR_TOKEN_PIN" --list-objects \
        --type privkey 2>/dev/null)" "gina key" "the private key stays (no PIN configured)"
assert_eq 's "revoked"' "$(prop gina CertificateState)" "still revoked"
assert_eq 's "issued"' "$(prop walt CertificateState)" "walt's certificate is untouched"
hist=$(history_of gina)
assert_contains "$hist" "certrevoked token-removal gina removed" "the history tells the removal"
assert_contains "$(cat "$CR_TMP/daemon.log")" "rescan: revoked certificate of gina removed from its token"

# ---- and it stays removed: a further rescan finds nothing to do
assert_exit 0 cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager Rescan
assert_eq 's "removed"' "$(prop gina CertificateRemoval)"
assert_eq 1 "$(history_of gina | grep -c 'token-removal gina removed')" "one removal in the history"

cr_stop_daemon
echo "revoke token OK"
