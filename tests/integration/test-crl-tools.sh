#!/bin/bash
# The CRL as the real tools see it: build/tests/test-crl writes an RSA and an
# EC CA, a revoked and a valid certificate and their CRL; openssl and GnuTLS
# must accept the CRL, find the revoked certificate revoked and the valid one
# valid.  Then the CA key is put on a SoftHSM token and the CRL is signed
# there, found through module-path= and through the p11-kit registered
# modules, with a PIN file and with pin-value=.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_cmd openssl certtool softhsm2-util pkcs11-tool
test_crl=$CR_BUILD/tests/test-crl
[[ -x $test_crl ]] || cr_skip "$test_crl not built"

cr_setup_tmp

# check_crl DIR REVOKED_REASON_TEXT: the CRL in DIR against DIR/ca.pem.
check_crl() {
        local dir=$1 text
        assert_exit 0 openssl crl -inform DER -in "$dir/crl.der" -noout -verify -CAfile "$dir/ca.pem"
        assert_contains "$CR_LAST_OUTPUT" "verify OK" "$dir: openssl crl -verify"
        assert_eq "$(openssl crl -in "$dir/crl.pem" -outform DER | sha256sum)" "$(sha256sum <"$dir/crl.der")" \
                "$dir: crl.pem and crl.der are the same CRL"

        assert_exit 2 openssl verify -crl_check -CAfile "$dir/ca.pem" -CRLfile "$dir/crl.pem" "$dir/revoked.pem"
        assert_contains "$CR_LAST_OUTPUT" "certificate revoked" "$dir: the revoked certificate"
        assert_exit 0 openssl verify -crl_check -CAfile "$dir/ca.pem" -CRLfile "$dir/crl.pem" "$dir/valid.pem"
        assert_contains "$CR_LAST_OUTPUT" "valid.pem: OK" "$dir: the valid certificate"

        # GnuTLS parses DER strictly and checks signature and time window.
        assert_exit 0 certtool --verify-crl --load-ca-certificate "$dir/ca.pem" --infile "$dir/crl.pem"
        assert_contains "$CR_LAST_OUTPUT" "Verified" "$dir: certtool --verify-crl"
        assert_not_contains "$CR_LAST_OUTPUT" "Not verified" "$dir: certtool --verify-crl"
        assert_exit 0 certtool --crl-info --inder --infile "$dir/crl.der"
        assert_contains "$CR_LAST_OUTPUT" "Version: 2" "$dir: certtool --crl-info"

        text=$(openssl crl -in "$dir/crl.pem" -noout -text)
        assert_contains "$text" "Version 2 (0x1)" "$dir: v2"
        assert_contains "$text" "X509v3 CRL Number:" "$dir: CRL number"
        assert_contains "$text" "X509v3 Authority Key Identifier:" "$dir: AKI"
        assert_eq "$(openssl x509 -in "$dir/ca.pem" -noout -ext subjectKeyIdentifier | tail -n1 | tr -d ' ')" \
                "$(grep -A1 'Authority Key Identifier' <<<"$text" | tail -n1 | tr -d ' ' | sed 's/^keyid://')" \
                "$dir: the AKI is the CA's SKI"
        assert_contains "$text" "Key Compromise" "$dir: the revoked certificate's reason"
        assert_contains "$(grep -A1 'Next Update' <<<"$text")" "GMT" "$dir: nextUpdate"
        echo "$text"
}

# ---- CRLs signed with PEM keys
cr_log "CRLs signed with RSA and EC PEM keys"
CRL_TEST_OUT=$CR_TMP/out "$test_crl" >"$CR_TMP/test-crl.log" 2>&1 || {
        cat "$CR_TMP/test-crl.log" >&2
        cr_die "test-crl failed"
}
for t in rsa ec; do
        dir=$CR_TMP/out/$t
        text=$(check_crl "$dir")
        assert_contains "$text" "X509v3 CRL Number: " "$t: CRL number"
        assert_contains "$(grep -A1 'CRL Number' <<<"$text")" "4242" "$t: CRL number 4242"
        assert_contains "$text" "Superseded" "$t: superseded"
        assert_contains "$text" "Cessation Of Operation" "$t: cessationOfOperation"
        assert_eq 3 "$(grep -c 'CRL Reason Code' <<<"$text")" "$t: three reasons; unspecified is left out"
        assert_eq 4 "$(grep -c 'Serial Number:' <<<"$text")" "$t: four entries"
        assert_contains "$text" "Serial Number: 8F00AA55" "$t: a serial with the top bit set"
        case $t in
        rsa) assert_contains "$text" "sha256WithRSAEncryption" ;;
        ec) assert_contains "$text" "ecdsa-with-SHA256" ;;
        esac
done

# ---- CRLs signed on a token
cr_softhsm_init
printf '%s\n' "$CR_TOKEN_PIN" >"$CR_TMP/pin"
printf '9999\n' >"$CR_TMP/bad-pin"
for t in rsa ec; do
        cr_log "$t CA key on a SoftHSM token"
        CR_KEY_TYPE=$t cr_ca_create "$CR_TMP/ca-$t" "Token CA $t"
        CR_KEY_TYPE=$t cr_cert_issue "$CR_TMP/ca-$t" alice Alice "$(cr_date_utc '-1 day')" \
                "$(cr_date_utc '+1 year')" "$CR_TMP/alice-$t.pem"
        CR_KEY_TYPE=$t cr_cert_issue "$CR_TMP/ca-$t" bob Bob "$(cr_date_utc '-1 day')" \
                "$(cr_date_utc '+1 year')" "$CR_TMP/bob-$t.pem"
        cr_token_create "ca-token-$t"
        cr_token_put_key "ca-token-$t" "$CR_TMP/ca-$t/ca.key" 01 ca-key
        # also a second key, so that the URI's object= must pick
        cr_token_put_key "ca-token-$t" "$CR_TMP/alice-$t.key" 02 other-key
        # the key file is gone: only the token can sign
        rm -f -- "$CR_TMP/ca-$t/ca.key"

        for how in module-path registered; do
                out=$CR_TMP/out-$t-$how
                uri="pkcs11:token=ca-token-$t;object=ca-key;type=private"
                pin_file=$CR_TMP/pin
                if [[ $how == module-path ]]; then
                        uri+="?module-path=$CR_SOFTHSM_MODULE"
                else
                        uri+="?pin-value=$CR_TOKEN_PIN"
                        pin_file=
                fi
                CRL_TEST_OUT=$out CRL_TEST_PKCS11_URI=$uri CRL_TEST_PKCS11_PIN_FILE=$pin_file \
                        CRL_TEST_PKCS11_BAD_PIN_FILE=$CR_TMP/bad-pin \
                        CRL_TEST_PKCS11_CA=$CR_TMP/ca-$t/ca.pem \
                        CRL_TEST_PKCS11_REVOKE="$(cr_cert_serial "$CR_TMP/alice-$t.pem")" \
                        CRL_TEST_PKCS11_MODULE=$CR_SOFTHSM_MODULE CRL_TEST_PKCS11_TOKEN=ca-token-$t \
                        CRL_TEST_PKCS11_PIN=$CR_TOKEN_PIN \
                        "$test_crl" >"$CR_TMP/test-crl-$t-$how.log" 2>&1 || {
                        cat "$CR_TMP/test-crl-$t-$how.log" >&2
                        cr_die "test-crl on the $t token ($how) failed"
                }
                log=$(cat "$CR_TMP/test-crl-$t-$how.log")
                assert_contains "$log" "ok - token: logged out behind the signer"
                assert_contains "$log" "session was lost" "$t ($how): the signer opened the token again"
                cp -- "$CR_TMP/ca-$t/ca.pem" "$out/pkcs11/ca.pem"
                cp -- "$CR_TMP/alice-$t.pem" "$out/pkcs11/revoked.pem"
                cp -- "$CR_TMP/bob-$t.pem" "$out/pkcs11/valid.pem"
                text=$(check_crl "$out/pkcs11")
                assert_eq 1 "$(grep -c 'CRL Reason Code' <<<"$text")" "$t ($how): one reason"
        done
done

echo "CRL tools OK"
