#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# The CA key on a SoftHSM token instead of a PEM file: [CA] Key= is a
# pkcs11: URI (token=, object=, type=private) and [CA] PINFile= holds the
# token's PIN.  A revocation then produces a CRL signed on the token that
# openssl and GnuTLS verify against the CA certificate, with the revoked
# certificate refused and a valid one accepted.  Once with an RSA and once
# with an EC (P-256) CA, each in a world of its own; the PEM key file is
# gone, so only the token can have signed.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl certtool setpriv

cr_setup_tmp
cr_softhsm_init
cr_pam_init
cr_pam_password boss boss-confirm
printf '%s\n' "$CR_TOKEN_PIN" >"$CR_TMP/ca-pin"
chmod 0600 "$CR_TMP/ca-pin"
past=$(cr_date_utc '-1 day')
later=$(cr_date_utc '+1 year')
ADMIN=1001
cr_start_bus

for kt in rsa ec; do
        cr_log "the CA's $kt key on a token"
        w=$CR_TMP/$kt
        ca=$w/ca
        certs=$w/certs
        pub=$w/public
        mkdir -p "$certs" "$pub"
        CR_KEY_TYPE=$kt cr_ca_create "$ca" "Token CA $kt"
        for who in alice bob; do
                cr_token_create "card-$who-$kt"
                CR_KEY_TYPE=$kt cr_cert_issue "$ca" "$who" "${who^} Example" "$past" "$later" "$certs/$who.pem"
                cr_token_put_cert "card-$who-$kt" "$certs/$who.pem" 01 "$who certificate"
        done
        cr_token_create "ca-token-$kt"
        cr_token_put_key "ca-token-$kt" "$ca/ca.key" 01 ca-key
        # a second key on the same token: object= must pick the right one
        cr_token_put_key "ca-token-$kt" "$certs/bob.key" 02 other-key
        rm -f -- "$ca/ca.key"

        # each world its own store; the users' certificates are from this CA
        cat >"$CR_TMP/certrevoke.conf" <<EOF
[Service]
StateDirectory=$w/state
PAMService=certrevoke

[CA]
Certificate=$ca/ca.pem
Key=pkcs11:token=ca-token-$kt;object=ca-key;type=private
PINFile=$CR_TMP/ca-pin

[CRL]
PublishDirectory=$pub
Validity=7d

[Tokens]
Modules=$CR_SOFTHSM_MODULE
EOF
        cr_start_daemon
        cr_ctl add-user boss "Boss Admin" admin $ADMIN
        cr_ctl add-user alice "Alice Example" general 1002
        cr_ctl add-user bob "Bob Example" general 1003
        assert_exit 0 cr_ctl rescan
        # the CA's token holds no user certificate: two certificates in all
        assert_eq "2 certificates seen" "$CR_LAST_OUTPUT" "$kt"
        cr_wait_first_crl "$pub" "$kt"
        n0=$(cr_crl_number)

        alice_serial=$(cr_cert_serial "$certs/alice.pem")
        assert_exit 0 cr_revoke_as $ADMIN alice "$alice_serial" keyCompromise boss-confirm
        assert_eq '(sss) "alice" "Alice Example" "revoked"' "$CR_LAST_OUTPUT" "$kt: the reply"
        (($(cr_crl_number) > n0)) || cr_fail_at "$kt: CRLNumber did not grow"

        # signed on the token: openssl and GnuTLS verify it with the CA certificate
        assert_exit 0 openssl crl -inform DER -in "$pub/crl.der" -noout -verify -CAfile "$ca/ca.pem"
        assert_contains "$CR_LAST_OUTPUT" "verify OK" "$kt: openssl crl -verify"
        cr_wait_crl_pem "$pub"
        assert_exit 0 certtool --verify-crl --load-ca-certificate "$ca/ca.pem" --infile "$pub/crl.pem"
        assert_contains "$CR_LAST_OUTPUT" "Verified" "$kt: certtool --verify-crl"
        assert_not_contains "$CR_LAST_OUTPUT" "Not verified" "$kt: certtool --verify-crl"
        assert_exit 0 certtool --crl-info --inder --infile "$pub/crl.der"
        text=$(openssl crl -inform DER -in "$pub/crl.der" -noout -text)
        case $kt in
        rsa) assert_contains "$text" "sha256WithRSAEncryption" "$kt: the signature algorithm" ;;
        ec) assert_contains "$text" "ecdsa-with-SHA256" "$kt: the signature algorithm" ;;
        esac
        assert_contains "$text" "Serial Number: $alice_serial" "$kt: alice on the CRL"
        assert_contains "$text" "Key Compromise" "$kt: alice's reason"
        assert_eq "$(openssl x509 -in "$ca/ca.pem" -noout -ext subjectKeyIdentifier | tail -n1 | tr -d ' ')" \
                "$(grep -A1 'Authority Key Identifier' <<<"$text" | tail -n1 | tr -d ' ' | sed 's/^keyid://')" \
                "$kt: the CRL's AKI is the CA's SKI"
        cr_wait_crl_pem "$pub"
        assert_exit 2 openssl verify -crl_check -CAfile "$ca/ca.pem" -CRLfile "$pub/crl.pem" "$certs/alice.pem"
        assert_contains "$CR_LAST_OUTPUT" "certificate revoked" "$kt: alice"
        assert_exit 0 openssl verify -crl_check -CAfile "$ca/ca.pem" -CRLfile "$pub/crl.pem" "$certs/bob.pem"
        assert_contains "$CR_LAST_OUTPUT" "bob.pem: OK" "$kt: bob"
        assert_eq "" "$(cr_token_list_certs "card-alice-$kt")" "$kt: alice's card is empty"
        cr_stop_daemon
done
echo "revoke token CA OK"
