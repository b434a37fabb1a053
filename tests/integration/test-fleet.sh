#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# The fleet of the README: the CA puts the CRL's URL and the responder's
# into the certificates it issues (the README's two lines), the central
# host runs certrevoked and certrevoke-ocspd and a web server publishes its
# CRL, and another host keeps its trust module current with
# certrevoke-sync.  A revocation through certrevoked then reaches each
# kind of relying party by the URLs in the certificate alone:
#
# - OCSP at the certificate's authorityInfoAccess (openssl ocsp -url from
#   `openssl x509 -ocsp_uri`, and GnuTLS ocsptool --ask, which finds the
#   URL itself): good before, revoked with its reason after;
# - the CRL at the certificate's crlDistributionPoints, fetched as any
#   client would: `openssl verify -crl_check` passes before and says
#   "certificate revoked" after;
# - host B, after one sync: pkcs11-tool -O on its trust module shows the
#   certificate revoked, and nothing before.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/sync-lib.sh
. "$(dirname "$0")/../sync-lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl ocsptool curl
[[ -x $CR_BUILD/certrevoke-ocspd ]] || cr_skip "certrevoke-ocspd not built in $CR_BUILD"
[[ -x $CR_BUILD/certrevoke-sync ]] || cr_skip "certrevoke-sync not built in $CR_BUILD"
[[ -f $CR_BUILD/certrevoke-pkcs11.so ]] || cr_skip "the trust module is not built in $CR_BUILD"

cr_world_init
cr_pam_init
# shellcheck source=tests/ocsp-lib.sh
. "$CR_SRCDIR/tests/ocsp-lib.sh"
cr_hostb_consumers "$CR_BUILD/certrevoke-pkcs11.so"

ADMIN=1001

# ---- the central host's two addresses, known before the CA issues
cr_write_config "$CR_TMP/certrevoke.conf"
ocsp_responder_cert "$CR_CA" "$CR_TMP/ocsp.pem"
ocsp_write_config "$CR_TMP/certrevoke.conf" "Certificate=$CR_TMP/ocsp.pem" "Key=$CR_TMP/ocsp.key" "Validity=1d"
cr_start_nginx "$CR_PUB"
CRL_URL=$(cr_nginx_url)crl.der
OCSP_AIA=$OCSP_URL/

# ---- the CA: the README's lines in the section that issues users' certificates
sed -i "/^\[ usr_cert \]$/a crlDistributionPoints = URI:$CRL_URL\nauthorityInfoAccess   = OCSP;URI:$OCSP_AIA" \
        "$CR_CA/openssl.cnf"
cr_card alice "Alice Example"
cr_card carol "Carol Example"
cr_pam_password boss boss-confirm

assert_exit 0 openssl x509 -in "$CR_CERTS/alice.pem" -noout -ocsp_uri
assert_eq "$OCSP_AIA" "$CR_LAST_OUTPUT" "the certificate names the responder"
assert_exit 0 openssl x509 -in "$CR_CERTS/alice.pem" -noout -ext crlDistributionPoints
assert_contains "$CR_LAST_OUTPUT" "URI:$CRL_URL" "the certificate names the CRL"

# ---- the central host
cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN
cr_ctl add-user alice "Alice Example" general 1002
cr_ctl add-user carol "Carol Example" general 1003
assert_exit 0 cr_ctl rescan
cr_wait_first_crl
ocsp_start

# ---- host B
cr_hostb_init
assert_exit 0 cr_sync
assert_eq "" "$(cr_hostb_revoked_serials)" "nothing revoked on B before"

# how a relying party elsewhere asks, by the certificate's URLs alone
ask_ocsp() {
        CR_LAST_EXIT=0
        CR_LAST_OUTPUT=$(openssl ocsp -issuer "$CR_CA/ca.pem" -cert "$1" -CAfile "$CR_CA/ca.pem" \
                -url "$(openssl x509 -in "$1" -noout -ocsp_uri)" 2>&1) || CR_LAST_EXIT=$?
}
verify_with_crl() {
        local url
        url=$(openssl x509 -in "$1" -noout -ext crlDistributionPoints | sed -n 's/^ *URI://p')
        curl -sSf -o "$CR_TMP/fetched.der" "$url" || cr_fail_at "cannot fetch the CRL at $url"
        openssl crl -inform DER -in "$CR_TMP/fetched.der" -out "$CR_TMP/fetched.pem"
        CR_LAST_EXIT=0
        CR_LAST_OUTPUT=$(openssl verify -crl_check -CAfile "$CR_CA/ca.pem" -CRLfile "$CR_TMP/fetched.pem" "$1" 2>&1) ||
                CR_LAST_EXIT=$?
}

ask_ocsp "$CR_CERTS/alice.pem"
assert_eq 0 "$CR_LAST_EXIT" "openssl ocsp by the certificate's URL"
assert_contains "$CR_LAST_OUTPUT" "Response verify OK"
assert_eq "good" "$(ocsp_status_of "$CR_CERTS/alice.pem")" "alice before the revocation"
verify_with_crl "$CR_CERTS/alice.pem"
assert_eq 0 "$CR_LAST_EXIT" "openssl verify -crl_check before the revocation: $CR_LAST_OUTPUT"

# ---- the revocation, on the central host
alice_serial=$(cr_cert_serial "$CR_CERTS/alice.pem")
assert_exit 0 cr_as $ADMIN busctl --address="$CR_BUS_ADDRESS" call org.certrevoke1 /org/certrevoke1 \
        org.certrevoke1.Manager RevokeCertificate ssss alice "" keyCompromise boss-confirm

ask_ocsp "$CR_CERTS/alice.pem"
assert_contains "$CR_LAST_OUTPUT" "Response verify OK"
assert_eq "revoked" "$(ocsp_status_of "$CR_CERTS/alice.pem")" "alice through OCSP right after the reply"
assert_contains "$CR_LAST_OUTPUT" "Reason: keyCompromise"
ask_ocsp "$CR_CERTS/carol.pem"
assert_eq "good" "$(ocsp_status_of "$CR_CERTS/carol.pem")" "carol is untouched"
assert_exit 0 ocsptool --ask --load-cert "$CR_CERTS/alice.pem" --load-issuer "$CR_CA/ca.pem" \
        --load-signer "$CR_TMP/ocsp.pem"
assert_contains "$CR_LAST_OUTPUT" "Certificate Status: revoked" "ocsptool finds the responder in the certificate"

verify_with_crl "$CR_CERTS/alice.pem"
assert_eq 2 "$CR_LAST_EXIT" "openssl verify -crl_check after the revocation"
assert_contains "$CR_LAST_OUTPUT" "certificate revoked"
verify_with_crl "$CR_CERTS/carol.pem"
assert_eq 0 "$CR_LAST_EXIT" "carol still verifies with the CRL: $CR_LAST_OUTPUT"

assert_eq "" "$(cr_hostb_revoked_serials)" "B does not know before it syncs"
assert_exit 0 cr_sync
assert_eq "$(cr_bare_serial "$alice_serial")" "$(cr_hostb_revoked_serials)" "B's trust module after one sync"

ocsp_stop
cr_stop_nginx
cr_stop_daemon
