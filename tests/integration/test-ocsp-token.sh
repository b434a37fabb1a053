#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# certrevoke-ocspd with its responder key on a PKCS#11 token (SoftHSM):
# [OCSP] Key=pkcs11:… with a PIN file, for an RSA and an EC responder key.
# openssl ocsp and GnuTLS ocsptool verify the responses (signed ahead,
# signed for a nonce, signed after a revocation) against the CA, the
# ResponderID is the responder key's hash, and the PEM key file is gone, so
# only the token can have signed.  A wrong PIN stops the start, saying so,
# and so does a Key= without its Certificate=.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl curl ocsptool base64
[[ -x $CR_BUILD/certrevoke-ocspd ]] || cr_skip "certrevoke-ocspd not built in $CR_BUILD"

cr_world_init
cr_pam_init
# shellcheck source=tests/ocsp-lib.sh
. "$CR_SRCDIR/tests/ocsp-lib.sh"

ADMIN=1001

cr_card alice "Alice Example"
cr_card bob "Bob Example"
cr_pam_password boss boss-confirm
cr_token_create ocsp-keys
cr_token_pin ocsp-keys >"$CR_TMP/ocsp.pin"
chmod 0600 "$CR_TMP/ocsp.pin"
printf '0000\n' >"$CR_TMP/bad.pin"
for t in rsa ec; do
        CR_KEY_TYPE=$t ocsp_responder_cert "$CR_CA" "$CR_TMP/responder-$t.pem"
        cr_token_put_key ocsp-keys "$CR_TMP/responder-$t.key" "0$((${#t} - 1))" "ocsp-$t"
        rm -f -- "$CR_TMP/responder-$t.key"
done

cr_write_config "$CR_TMP/certrevoke.conf"
cp "$CR_TMP/certrevoke.conf" "$CR_TMP/base.conf"
cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN
cr_ctl add-user alice "Alice Example" general 1002
cr_ctl add-user bob "Bob Example" general 1003
assert_exit 0 cr_ctl rescan
cr_wait_first_crl

# configure TYPE PINFILE: the responder of TYPE, its key on the token.
configure() {
        cp "$CR_TMP/base.conf" "$CR_TMP/certrevoke.conf"
        ocsp_write_config "$CR_TMP/certrevoke.conf" "Certificate=$CR_TMP/responder-$1.pem" \
                "Key=pkcs11:token=ocsp-keys;object=ocsp-$1;type=private?module-path=$CR_SOFTHSM_MODULE" \
                "PINFile=$2"
}

# expect CERT STATUS [ARGS…]: openssl ocsp over POST says STATUS and verifies.
expect() {
        local cert=$1 want=$2
        shift 2
        ocsp_ask "$cert" "$@"
        assert_eq 0 "$CR_LAST_EXIT" "openssl ocsp on $(basename "$cert") $*: $CR_LAST_OUTPUT"
        assert_contains "$CR_LAST_OUTPUT" "Response verify OK" "$(basename "$cert") $*: the response verifies"
        assert_eq "$want" "$(ocsp_status_of "$cert")" "$(basename "$cert") $*"
}

for t in rsa ec; do
        cr_log "$t responder key on the token"
        configure $t "$CR_TMP/ocsp.pin"
        ocsp_start
        expect "$CR_CERTS/alice.pem" good -no_nonce
        expect "$CR_CERTS/bob.pem" good
        ocsp_ask "$CR_CERTS/bob.pem" -resp_text
        key_hash=$(openssl x509 -in "$CR_TMP/responder-$t.pem" -noout -ocspid |
                sed -n 's/^ *Public key OCSP hash: *//p' | tr -d ' :')
        [[ -n $key_hash ]] || cr_die "no key hash of the responder certificate"
        assert_contains "$CR_LAST_OUTPUT" "Responder Id: $key_hash" "$t: ResponderID is the responder key's hash"
        case $t in
        rsa) assert_contains "$CR_LAST_OUTPUT" "sha256WithRSAEncryption" "$t: the signature algorithm" ;;
        ec) assert_contains "$CR_LAST_OUTPUT" "ecdsa-with-SHA256" "$t: the signature algorithm" ;;
        esac
        req=$(ocsp_b64_request "$CR_CERTS/alice.pem")
        assert_eq 200 "$(ocsp_get "$req" "$CR_TMP/get.der")" "GET"
        ocsp_read_response "$CR_TMP/get.der" "$CR_CERTS/alice.pem"
        assert_contains "$CR_LAST_OUTPUT" "Response verify OK" "$t: a response signed ahead verifies"
        CR_LAST_OUTPUT=$(ocsptool --ask="$OCSP_URL/" --load-issuer "$CR_CA/ca.pem" \
                --load-cert "$CR_CERTS/bob.pem" --load-trust "$CR_CA/ca.pem" 2>&1) || true
        assert_contains "$CR_LAST_OUTPUT" "Verifying OCSP Response: Success" "$t: ocsptool verifies"
        ocsp_stop
done

cr_log "a revocation, signed on the token"
configure ec "$CR_TMP/ocsp.pin"
ocsp_start
assert_exit 0 cr_revoke_as $ADMIN bob "" keyCompromise boss-confirm
expect "$CR_CERTS/bob.pem" revoked -no_nonce
assert_contains "$CR_LAST_OUTPUT" "Reason: keyCompromise" "the reason"
expect "$CR_CERTS/bob.pem" revoked
ocsp_stop

cr_log "a wrong PIN stops the start"
configure ec "$CR_TMP/bad.pin"
assert_exit 1 "$OCSPD_BIN" --config="$CR_TMP/certrevoke.conf"
assert_contains "$CR_LAST_OUTPUT" "Failed to set up signing" "the wrong PIN is reported"

cr_log "a responder key without its certificate is refused"
cp "$CR_TMP/base.conf" "$CR_TMP/certrevoke.conf"
ocsp_write_config "$CR_TMP/certrevoke.conf" "Key=pkcs11:token=ocsp-keys;object=ocsp-ec;type=private"
assert_exit 1 "$OCSPD_BIN" --config="$CR_TMP/certrevoke.conf"
assert_contains "$CR_LAST_OUTPUT" "[OCSP] Certificate= and Key= go together"

cr_stop_daemon
echo "OCSP with a token key OK"
