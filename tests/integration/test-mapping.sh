#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# Which certificates are filed under which user, through the token walk and
# through ImportCertificate: only certificates whose signature verifies with
# the configured CA's key (a foreign CA, and one that copies our CA's subject
# name and key identifier with another key, are both ignored); only under a
# user whose login ID the subject names (a certificate of a login that is no
# user waits until the user is added and the tokens are walked again).
# ImportCertificate registers a certificate no token holds, PEM or DER, and
# refuses a foreign one, one naming another login, one that is no certificate
# and a user that does not exist, each with its exit code and message and
# without changing the store.  Rescan's count, from the CLI and from busctl.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon dbus-send busctl softhsm2-util pkcs11-tool openssl setpriv

cr_world_init

# ---- local helpers

# dbus_call METHOD ARGS…: a Manager call with dbus-send, which prints the
# D-Bus error name (busctl prints only the message).
dbus_call() {
        local method=$1
        shift
        dbus-send --bus="$CR_BUS_ADDRESS" --print-reply --dest=org.certrevoke1 \
                /org/certrevoke1 "org.certrevoke1.Manager.$method" "$@"
}

# dbus_bytes FILE: the file as a dbus-send array:byte: argument.
dbus_bytes() {
        echo "array:byte:$(od -An -v -tu1 "$1" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')"
}

# ---- a foreign CA, and an impostor with our CA's exact name and key
# identifier but a key of its own: only the signature tells them apart.
cr_ca_create "$CR_TMP/foreign" "Foreign CA"
cr_ca_create "$CR_TMP/impostor"
ski=$(openssl x509 -in "$CR_CA/ca.pem" -noout -ext subjectKeyIdentifier | tail -n1 | tr -d ' ')
sed -i "s/^subjectKeyIdentifier = hash\$/subjectKeyIdentifier = $ski/" "$CR_TMP/impostor/openssl.cnf"
openssl req -config "$CR_TMP/impostor/openssl.cnf" -new -x509 -utf8 -key "$CR_TMP/impostor/ca.key" \
        -subj "/O=Demo Org/CN=Demo Org Certificate Authority" -days 7300 -extensions v3_ca \
        -out "$CR_TMP/impostor/ca.pem" 2>/dev/null

cr_cert_issue "$CR_TMP/foreign" alice "Alice" "$CR_PAST" "$CR_LATER" "$CR_CERTS/alice-foreign.pem"
cr_cert_issue "$CR_TMP/impostor" bob "Bob" "$CR_PAST" "$CR_LATER" "$CR_CERTS/bob-impostor.pem"
cr_cert_issue "$CR_CA" carol "Carol" "$CR_PAST" "$CR_LATER" "$CR_CERTS/carol.pem"
cr_cert_issue "$CR_CA" zed "Zed" "$CR_PAST" "$CR_LATER" "$CR_CERTS/zed.pem"

# The impostor's certificate looks like ours in every field a name check
# would look at; only its signature is wrong.
assert_eq "$(openssl x509 -in "$CR_CA/ca.pem" -noout -subject)" \
        "$(openssl x509 -in "$CR_CERTS/bob-impostor.pem" -noout -issuer | sed 's/^issuer=/subject=/')"
assert_eq "$(openssl x509 -in "$CR_CA/ca.pem" -noout -ext subjectKeyIdentifier | tail -n1)" \
        "$(openssl x509 -in "$CR_CERTS/bob-impostor.pem" -noout -ext authorityKeyIdentifier | tail -n1)" \
        "the impostor's certificates carry our CA's key identifier"
assert_exit 2 openssl verify -CAfile "$CR_CA/ca.pem" "$CR_CERTS/bob-impostor.pem"
assert_contains "$CR_LAST_OUTPUT" "signature failure"

cr_token_create card-alice-01
cr_token_put_cert card-alice-01 "$CR_CERTS/alice-foreign.pem" 01 "alice certificate"
cr_token_create card-bob-01
cr_token_put_cert card-bob-01 "$CR_CERTS/bob-impostor.pem" 01 "bob certificate"
cr_token_create card-carol-01
cr_token_put_cert card-carol-01 "$CR_CERTS/carol.pem" 01 "carol certificate"
cr_token_create card-zed-01
cr_token_put_cert card-zed-01 "$CR_CERTS/zed.pem" 01 "zed certificate"

cr_start_bus
cr_start_daemon
cr_ctl add-user alice "Alice" general 1001
cr_ctl add-user bob "Bob" general 1002
cr_ctl add-user carol "Carol" general 1003

# ---- the token walk
assert_exit 0 cr_ctl rescan
assert_eq "1 certificate seen" "$CR_LAST_OUTPUT" "only carol's certificate is ours and has a user"
assert_eq 's "issued"' "$(cr_user_prop carol CertificateState)"
assert_eq 's "not-issued"' "$(cr_user_prop alice CertificateState)" "a foreign CA's certificate is not filed"
assert_eq 's ""' "$(cr_user_prop alice CertificateSerial)"
assert_eq 's "not-issued"' "$(cr_user_prop bob CertificateState)" "an impostor CA's certificate is not filed"
assert_eq 's ""' "$(cr_user_prop bob CertificateSerial)"
assert_exit 3 cr_ctl show zed
assert_contains "$CR_LAST_OUTPUT" 'no user with login ID "zed"'

# zed's certificate is filed once zed is a user and the tokens are walked again.
cr_ctl add-user zed "Zed" worker 1004
assert_eq 's "not-issued"' "$(cr_user_prop zed CertificateState)" "nothing is filed before the rescan"
assert_exit 0 cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager Rescan
assert_eq "u 2" "$CR_LAST_OUTPUT" "Rescan's count over busctl"
assert_eq 's "issued"' "$(cr_user_prop zed CertificateState)"
assert_eq "s \"$(cr_cert_serial "$CR_CERTS/zed.pem")\"" "$(cr_user_prop zed CertificateSerial)"
assert_contains "$(cr_user_prop zed CertificateURI)" "token=card-zed-01;"
assert_eq 's "not-issued"' "$(cr_user_prop alice CertificateState)"
assert_eq 's "not-issued"' "$(cr_user_prop bob CertificateState)"

# ---- ImportCertificate
cr_ctl add-user ivan "Ivan" general 1005
cr_ctl add-user judy "Judy" general 1006
cr_cert_issue "$CR_CA" ivan "Ivan" "$CR_PAST" "$CR_LATER" "$CR_CERTS/ivan.pem"
cr_cert_issue "$CR_CA" judy "Judy" "$CR_PAST" "$CR_LATER" "$CR_CERTS/judy.pem"
cr_cert_issue "$CR_CA" nosuch "Nobody" "$CR_PAST" "$CR_LATER" "$CR_CERTS/nosuch.pem"
cr_cert_issue "$CR_TMP/foreign" ivan "Ivan" "$CR_PAST" "$CR_LATER" "$CR_CERTS/ivan-foreign.pem"
cr_cert_issue "$CR_TMP/impostor" ivan "Ivan" "$CR_PAST" "$CR_LATER" "$CR_CERTS/ivan-impostor.pem"
openssl x509 -in "$CR_CERTS/judy.pem" -outform DER -out "$CR_CERTS/judy.der"
printf 'just some text, no certificate\n' >"$CR_CERTS/text.pem"
head -c 300 "$CR_CERTS/judy.der" >"$CR_CERTS/truncated.der"

before=$(cr_ctl --json list)

assert_exit 2 cr_ctl import-cert ivan "$CR_CERTS/ivan-foreign.pem"
assert_contains "$CR_LAST_OUTPUT" "certificate is not issued by the configured CA"
assert_exit 2 cr_ctl import-cert ivan "$CR_CERTS/ivan-impostor.pem"
assert_contains "$CR_LAST_OUTPUT" "certificate is not issued by the configured CA"
assert_exit 2 cr_ctl import-cert ivan "$CR_CERTS/judy.pem"
assert_contains "$CR_LAST_OUTPUT" "certificate subject names another login ID"
assert_exit 2 cr_ctl import-cert ivan "$CR_CERTS/text.pem"
assert_contains "$CR_LAST_OUTPUT" "is not an X.509 certificate in PEM or DER form"
assert_exit 2 cr_ctl import-cert ivan "$CR_CERTS/truncated.der"
assert_contains "$CR_LAST_OUTPUT" "is not an X.509 certificate in PEM or DER form"
assert_exit 3 cr_ctl import-cert nosuch "$CR_CERTS/nosuch.pem"
assert_contains "$CR_LAST_OUTPUT" 'no user with login ID "nosuch"'
assert_exit 1 cr_ctl import-cert ivan "$CR_CERTS/does-not-exist.pem"
assert_contains "$CR_LAST_OUTPUT" "does-not-exist.pem"

# The daemon's own checks, past the CLI's: bytes that are no certificate,
# and none at all.
assert_exit 1 dbus_call ImportCertificate string:ivan "$(dbus_bytes "$CR_CERTS/text.pem")"
assert_contains "$CR_LAST_OUTPUT" "Error org.freedesktop.DBus.Error.InvalidArgs: not a DER-encoded X.509 certificate"
assert_exit 1 dbus_call ImportCertificate string:ivan "$(dbus_bytes "$CR_CERTS/truncated.der")"
assert_contains "$CR_LAST_OUTPUT" "Error org.freedesktop.DBus.Error.InvalidArgs"
assert_exit 1 cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager \
        ImportCertificate say ivan 0
assert_contains "$CR_LAST_OUTPUT" "certificate is empty"
assert_exit 1 dbus_call ImportCertificate string:judy "$(dbus_bytes "$CR_CERTS/ivan-foreign.pem")"
assert_contains "$CR_LAST_OUTPUT" "Error org.freedesktop.DBus.Error.InvalidArgs"

assert_eq "$before" "$(cr_ctl --json list)" "refused imports change nothing"

# PEM for ivan, DER for judy.
assert_exit 0 cr_ctl import-cert ivan "$CR_CERTS/ivan.pem"
assert_eq "" "$CR_LAST_OUTPUT" "a successful import is quiet"
assert_exit 0 cr_ctl import-cert judy "$CR_CERTS/judy.der"
for who in ivan judy; do
        assert_eq 's "issued"' "$(cr_user_prop "$who" CertificateState)" "$who's imported certificate"
        assert_eq "s \"$(cr_cert_serial "$CR_CERTS/$who.pem")\"" "$(cr_user_prop "$who" CertificateSerial)"
        assert_eq 's ""' "$(cr_user_prop "$who" CertificateURI)" "an imported certificate is on no token"
done
# From standard input too, and importing again changes nothing.
assert_exit 0 bash -c "cat '$CR_CERTS/ivan.pem' | CERTREVOKE_LOCALEDIR='$CR_BUILD/locale' \
        '$CR_BUILD/certrevokectl' --address='$CR_BUS_ADDRESS' import-cert ivan -"
assert_eq 's "issued"' "$(cr_user_prop ivan CertificateState)" "the same certificate twice is not a renewal"

# A walk of the tokens keeps what was imported.
assert_exit 0 cr_ctl rescan
assert_eq "2 certificates seen" "$CR_LAST_OUTPUT"
assert_eq 's "issued"' "$(cr_user_prop ivan CertificateState)"
assert_eq 's ""' "$(cr_user_prop judy CertificateURI)"

# An import as busctl sends it: the raw DER bytes.
cr_cert_issue "$CR_CA" ivan "Ivan" "$(cr_date_utc '-1 hour')" "$CR_LATER" "$CR_CERTS/ivan-2.pem"
openssl x509 -in "$CR_CERTS/ivan-2.pem" -outform DER -out "$CR_CERTS/ivan-2.der"
assert_exit 0 dbus_call ImportCertificate string:ivan "$(dbus_bytes "$CR_CERTS/ivan-2.der")"
assert_eq 's "renewed"' "$(cr_user_prop ivan CertificateState)" "a second, newer certificate renews"
assert_eq "s \"$(cr_cert_serial "$CR_CERTS/ivan-2.pem")\"" "$(cr_user_prop ivan CertificateSerial)"

cr_stop_daemon
echo "mapping OK"
