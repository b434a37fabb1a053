#!/bin/bash
# shellcheck disable=SC2119 # cr_hostb_init is called without arguments
# certrevoke-sync over HTTPS, and what it refuses before any CRL: nginx
# serves a CRL made with openssl over TLS with a certificate of a TLS CA of
# the test's own.  With that CA as [Sync] CABundle= the sync installs the
# CRL; with the system's roots the server is refused (exit 3, the reason
# named) and nothing is written; a redirect is not followed, not even to
# the same server; a URL that is no http(s) URL, or carries a password, is
# refused by the configuration (exit 1); bad arguments exit 2.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/sync-lib.sh
. "$(dirname "$0")/../sync-lib.sh"

cr_need_python
cr_need_cmd openssl curl
[[ -x $CR_BUILD/certrevoke-sync ]] || cr_skip "$CR_BUILD/certrevoke-sync not built"

cr_setup_tmp
CR_CA=$CR_TMP/ca
cr_ca_create "$CR_CA" >/dev/null

# the publishing side: a CRL of the CA, made by openssl
pub=$CR_TMP/pub
mkdir -p "$pub"
openssl ca -config "$CR_CA/openssl.cnf" -gencrl -out "$CR_TMP/crl.pem" 2>"$CR_TMP/gen.err" ||
        cr_fail_at "openssl ca -gencrl" "$(cat "$CR_TMP/gen.err")"
openssl crl -in "$CR_TMP/crl.pem" -outform DER -out "$pub/crl.der"

# a TLS CA of the test's own and the server's certificate for 127.0.0.1
tls=$CR_TMP/tls
mkdir -p "$tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tls/ca.key" -out "$tls/ca.pem" \
        -subj "/CN=Sync Test TLS CA" -days 2 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tls/server.key" -out "$tls/server.csr" \
        -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n' >"$tls/ext"
openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial -days 2 \
        -extfile "$tls/ext" -out "$tls/server.pem" 2>/dev/null

CR_NGINX_TLS_CERT=$tls/server.pem
CR_NGINX_TLS_KEY=$tls/server.key
cr_start_nginx "$pub"
cr_hostb_init

# ---- the system's roots do not know the server: refused, nothing written
assert_exit 3 cr_sync
assert_contains "$CR_LAST_OUTPUT" "cannot fetch from https://127.0.0.1:$CR_NGINX_PORT/" "the reason names the URL"
assert_contains "$CR_LAST_OUTPUT" "certificate" "and says the server's certificate is the matter"
assert_eq "" "$(find "$CR_HOSTB" -type f 2>/dev/null)" "nothing written without a verified server"

# ---- with the TLS CA as CABundle=
echo "CABundle=$tls/ca.pem" >>"$CR_HOSTB_CONF"
assert_exit 0 cr_sync
assert_contains "$CR_LAST_OUTPUT" "installed CRL number" "the CRL installed over https"
cmp -s "$pub/crl.der" "$CR_HOSTB/crl.der" || cr_fail_at "B's crl.der is not the published one"
assert_exit 0 cr_sync
assert_contains "$CR_LAST_OUTPUT" "is current" "an unchanged CRL over https"

# ---- a redirect is not followed (here to http on the same server)
sed -i "s|^URL=.*|URL=https://127.0.0.1:$CR_NGINX_PORT/moved/|" "$CR_HOSTB_CONF"
assert_exit 3 cr_sync
assert_contains "$CR_LAST_OUTPUT" "HTTP 301" "a redirect is an error"

# ---- the configuration refuses what is no http(s) URL
for url in "ftp://127.0.0.1/x/" "file:///etc/" "https://user:secret@127.0.0.1/x/" "https://" "http://a b/"; do
        sed -i "s|^URL=.*|URL=$url|" "$CR_HOSTB_CONF"
        assert_exit 1 cr_sync
        assert_contains "$CR_LAST_OUTPUT" "[Sync] URL= must be an http:// or https:// URL" "URL=$url"
        assert_not_contains "$CR_LAST_OUTPUT" "secret" "the password is not repeated"
done
sed -i "/^URL=/d" "$CR_HOSTB_CONF"
assert_exit 1 cr_sync
assert_contains "$CR_LAST_OUTPUT" "[Sync] URL= is not set" "without URL="
echo "Timeout=2h" >>"$CR_HOSTB_CONF"
assert_exit 1 cr_sync
assert_contains "$CR_LAST_OUTPUT" "[Sync] Timeout= must be a duration from 1s to 1h"

# ---- arguments
assert_exit 0 "$CR_BUILD/certrevoke-sync" --version
assert_contains "$CR_LAST_OUTPUT" "certrevoke-sync "
assert_exit 0 "$CR_BUILD/certrevoke-sync" --help
assert_contains "$CR_LAST_OUTPUT" "--config=PATH"
assert_exit 2 "$CR_BUILD/certrevoke-sync" --no-such-option
assert_exit 2 "$CR_BUILD/certrevoke-sync" extra-argument

cr_log "ok"
