#!/bin/bash
# The trust module as its real consumers see it, on files made with openssl
# ca: alice and bob revoked (on the CRL and in revoked.idx, written as the
# daemon writes it), carol's certificate known but not on the CRL, dave only
# on the CRL.  p11-kit sees the module through
# units/certrevoke.module alone: as root in a private mount namespace with a
# directory bound over /usr/share/p11-kit/modules, as another user through
# XDG_CONFIG_HOME with "user-config: only"; /etc is never touched.
#   trust list/extract   blocklist = alice and bob; ca-anchors = the CA
#   pkcs11-tool, p11tool every object, read through the module directly
#   GnuTLS               certtool --verify with pkcs11: trust: alice revoked
#   NSS                  modutil into a temporary database; certutil shows
#                        alice and bob p,p,p and refuses them, accepts carol
#   disable-in           not in p11-kit-proxy, not in certrevoked
# A CRL signed by another key shows nothing revoked.  An input that is no
# regular file (a FIFO, a directory, a symbolic link to a good copy or to
# /dev/zero) shows nothing revoked either, at once, without blocking.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_cmd openssl trust p11-kit pkcs11-tool p11tool certtool certutil modutil setpriv pkg-config
so=$CR_BUILD/certrevoke-pkcs11.so
[[ -f $so ]] || cr_skip "$so not built"
[[ -d /usr/share/p11-kit/modules ]] || cr_skip "p11-kit has no /usr/share/p11-kit/modules"

cr_setup_tmp
ca=$CR_TMP/ca
certs=$CR_TMP/certs
pub=$CR_TMP/public
mkdir -p "$certs" "$pub" "$CR_TMP/p11-modules" "$CR_TMP/bin"
chmod 0755 "$certs" "$pub" "$CR_TMP/p11-modules"

# The consumers are not built with ASan: under the sanitized build they get
# its runtime preloaded, and only the module's errors count (their own leaks
# are none of this test's business).  Programs linked with p11-kit 0.24
# (trust, p11-kit, GnuTLS's tools) hang in p11-kit's own constructors under a
# preloaded ASan (glibc's locale lock), so they load the plain build's module.
consumer_env=(CERTREVOKE_PUBLISH_DIR="$pub")
p11kit_env=(CERTREVOKE_PUBLISH_DIR="$pub")
p11kit_so=$so
if [[ $CR_ASAN == 1 ]]; then
        consumer_env+=(LD_PRELOAD="$(${CC:-cc} -print-file-name=libasan.so)"
                ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:verify_asan_link_order=0)
        p11kit_so=$CR_SRCDIR/build/certrevoke-pkcs11.so
        [[ -f $p11kit_so ]] || cr_skip "$p11kit_so not built (p11-kit's tools cannot load the ASan one)"
fi

# The installed configuration, pointing at the module under test.
sed "s|^module:.*|module: $p11kit_so|" "$CR_SRCDIR/units/certrevoke.module" >"$CR_TMP/p11-modules/certrevoke.module"

# p11 CMD…: CMD as root, with p11-kit reading only the test configuration.
p11() {
        # shellcheck disable=SC2016 # expanded by the inner sh
        unshare -m --propagation private sh -c '
                dir=$1
                shift
                mount --bind "$dir" /usr/share/p11-kit/modules || exit 97
                if [ -d /etc/pkcs11/modules ]; then
                        mount --bind "$dir" /etc/pkcs11/modules || exit 97
                fi
                exec "$@"' sh "$CR_TMP/p11-modules" env "${p11kit_env[@]}" "$@"
}

# p11_user UID CMD…: CMD as another user, with p11-kit reading only that
# user's configuration (p11-kit ignores user configuration for root).
p11_user() {
        local uid=$1
        shift
        cr_as "$uid" env "${p11kit_env[@]}" HOME="$CR_TMP/home" XDG_CONFIG_HOME="$CR_TMP/xdg" "$@"
}

[[ $(id -u) == 0 ]] || cr_skip "needs root for the private mount namespace"
unshare -m --propagation private true 2>/dev/null || cr_skip "unshare -m is not permitted here"
p11 true || cr_skip "cannot bind-mount over /usr/share/p11-kit/modules"

mkdir -p "$CR_TMP/xdg/pkcs11/modules" "$CR_TMP/home"
echo "user-config: only" >"$CR_TMP/xdg/pkcs11/pkcs11.conf"
cp "$CR_TMP/p11-modules/certrevoke.module" "$CR_TMP/xdg/pkcs11/modules/"
chmod -R a+rX "$CR_TMP/xdg" "$CR_TMP/home"

# ---- the CA, the certificates and the published files
cr_ca_create "$ca"
past=$(cr_date_utc '-1 day')
later=$(cr_date_utc '+1 year')
for who in alice bob carol dave; do
        cr_cert_issue "$ca" "$who" "${who^}" "$past" "$later" "$certs/$who.pem"
done
for who in alice bob dave; do
        openssl ca -config "$ca/openssl.cnf" -revoke "$certs/$who.pem" -crl_reason keyCompromise 2>/dev/null
done

# publish [CA-DIR]: ca.pem, revoked.idx and crl.der as the daemon writes
# them, in that order, each replaced by a rename or appended to; the CRL
# comes from CA-DIR (default $ca).  revoked.idx is written, as by the daemon,
# only for a CRL that verifies with the CA: another CA's CRL lands beside
# the revoked.idx of the last good one.
publish() {
        local from=${1:-$ca}
        openssl ca -config "$from/openssl.cnf" -gencrl -out "$CR_TMP/crl.pem" 2>/dev/null
        openssl crl -in "$CR_TMP/crl.pem" -outform DER -out "$pub/.crl.der"
        cp "$ca/ca.pem" "$pub/.ca.pem"
        chmod 0644 "$pub/.crl.der" "$pub/.ca.pem"
        mv -f "$pub/.ca.pem" "$pub/ca.pem"
        if ! "$CR_BUILD/tests/helpers/revoked-index-write" "$pub" "$pub/ca.pem" "$pub/.crl.der" \
                "$certs/alice.pem" "$certs/bob.pem" "$certs/carol.pem" 2>"$CR_TMP/index.err"; then
                [[ $from != "$ca" ]] || cr_die "revoked.idx not written: $(cat "$CR_TMP/index.err")"
        fi
        mv -f "$pub/.crl.der" "$pub/crl.der"
}
publish

declare -A serial
for who in alice bob carol dave; do
        serial[$who]=$(cr_cert_serial "$certs/$who.pem")
done
ca_label="Demo Org Certificate Authority"

# ---- trust list and trust extract, as root
assert_exit 0 p11 trust list --filter=blocklist
blocklist=$CR_LAST_OUTPUT
assert_contains "$blocklist" "label: alice revoked ${serial[alice]}" "trust list --filter=blocklist"
assert_contains "$blocklist" "label: bob revoked ${serial[bob]}" "trust list --filter=blocklist"
assert_not_contains "$blocklist" "carol" "carol is not on the CRL"
assert_not_contains "$blocklist" "dave" "dave's certificate was never revoked through the daemon's files"
assert_not_contains "$blocklist" "$ca_label" "the CA is no blocklist entry"
assert_eq 2 "$(grep -c 'trust: distrusted' <<<"$blocklist")" "two distrusted entries"

assert_exit 0 p11 trust list --filter=ca-anchors
assert_contains "$CR_LAST_OUTPUT" "label: $ca_label" "trust list --filter=ca-anchors"
assert_contains "$CR_LAST_OUTPUT" "trust: anchor" "the CA is an anchor"
assert_contains "$CR_LAST_OUTPUT" "category: authority" "the CA is an authority"
assert_not_contains "$CR_LAST_OUTPUT" "revoked" "no revoked certificate among the anchors"

assert_exit 0 p11 trust extract --filter=blocklist --format=pem-bundle "$CR_TMP/blocklist.pem"
extracted=$(openssl crl2pkcs7 -nocrl -certfile "$CR_TMP/blocklist.pem" |
        openssl pkcs7 -print_certs -noout 2>/dev/null | grep -c '^subject=' || true)
assert_eq 2 "$extracted" "trust extract --filter=blocklist exports two certificates"
for who in alice bob; do
        assert_exit 0 grep -qF "$(sed -n '2p' "$certs/$who.pem")" "$CR_TMP/blocklist.pem"
done
assert_exit 0 p11 trust extract --filter=ca-anchors --format=pem-bundle "$CR_TMP/anchors.pem"
assert_eq "$(openssl x509 -in "$ca/ca.pem" -noout -fingerprint)" \
        "$(openssl x509 -in "$CR_TMP/anchors.pem" -noout -fingerprint)" "trust extract --filter=ca-anchors: the CA"

# ---- as another user, through XDG_CONFIG_HOME
assert_exit 0 p11_user 1001 trust list --filter=blocklist
assert_contains "$CR_LAST_OUTPUT" "label: alice revoked ${serial[alice]}" "trust list as UID 1001"
assert_eq 2 "$(grep -c 'trust: distrusted' <<<"$CR_LAST_OUTPUT")" "two distrusted entries for UID 1001"

# ---- pkcs11-tool and p11tool, on the module itself
assert_exit 0 env "${consumer_env[@]}" pkcs11-tool --module "$so" -L
assert_contains "$CR_LAST_OUTPUT" "token label        : certrevoke" "pkcs11-tool -L"
assert_contains "$CR_LAST_OUTPUT" "readonly" "the token is read-only"
assert_exit 0 env "${consumer_env[@]}" pkcs11-tool --module "$so" -O
objects=$CR_LAST_OUTPUT
assert_eq 3 "$(grep -c '^Certificate Object' <<<"$objects")" "pkcs11-tool -O: three certificates"
assert_eq 6 "$(grep -c -e '^Certificate Object' -e '^Object ' <<<"$objects")" "pkcs11-tool -O: six objects"
assert_contains "$objects" "label:      alice revoked ${serial[alice]}" "pkcs11-tool -O: alice"
assert_contains "$objects" "serial:     ${serial[alice]}" "pkcs11-tool -O: alice's serial"
assert_contains "$objects" "label:      $ca_label" "pkcs11-tool -O: the CA"

assert_exit 0 env "${p11kit_env[@]}" p11tool --provider "$p11kit_so" --list-all pkcs11:token=certrevoke
all=$CR_LAST_OUTPUT
assert_eq 6 "$(grep -c '^Object ' <<<"$all")" "p11tool --provider --list-all: six objects"
assert_contains "$all" "Label: bob revoked ${serial[bob]}" "p11tool --list-all: bob"
# GnuTLS reads the trust flags only from trust-policy modules: through p11-kit
assert_exit 0 p11 p11tool --list-all pkcs11:token=certrevoke
all=$CR_LAST_OUTPUT
assert_eq 6 "$(grep -c '^Object ' <<<"$all")" "p11tool --list-all: six objects"
assert_eq 2 "$(grep -c 'Flags: CKA_X_DISTRUSTED' <<<"$all")" "p11tool: two distrusted certificates"
assert_contains "$all" "CKA_CERTIFICATE_CATEGORY=CA; CKA_TRUSTED;" "p11tool: the CA is trusted"

# ---- GnuTLS: a trust list from pkcs11: honours the module's distrust
assert_exit 1 p11 certtool --verify --load-ca-certificate "pkcs11:token=certrevoke" --infile "$certs/alice.pem"
assert_contains "$CR_LAST_OUTPUT" "The certificate chain is revoked" "GnuTLS: alice is revoked"
assert_exit 0 p11 certtool --verify --load-ca-certificate "pkcs11:token=certrevoke" --infile "$certs/carol.pem"
assert_contains "$CR_LAST_OUTPUT" "Verified. The certificate is trusted." "GnuTLS: carol is trusted"

# ---- NSS: the module added to a temporary database
nssdb=sql:$CR_TMP/nssdb
mkdir -p "$CR_TMP/nssdb"
assert_exit 0 certutil -N -d "$nssdb" --empty-password
assert_exit 0 env "${consumer_env[@]}" modutil -dbdir "$nssdb" -add certrevoke -libfile "$so" -force
assert_exit 0 env "${consumer_env[@]}" certutil -L -d "$nssdb" -h all
listing=$CR_LAST_OUTPUT
assert_exit 0 grep -qE "^certrevoke:alice revoked ${serial[alice]} +p,p,p\$" <<<"$listing"
assert_exit 0 grep -qE "^certrevoke:bob revoked ${serial[bob]} +p,p,p\$" <<<"$listing"
assert_exit 0 grep -qE "^certrevoke:$ca_label +CT,C,C\$" <<<"$listing"
assert_not_contains "$listing" "carol" "NSS: carol is not on the token"
assert_exit 255 env "${consumer_env[@]}" certutil -V -d "$nssdb" -u C -n "certrevoke:alice revoked ${serial[alice]}"
assert_contains "$CR_LAST_OUTPUT" "marked as not trusted" "NSS refuses alice"
# carol, imported without trust of her own, chains to the module's CA
assert_exit 0 env "${consumer_env[@]}" certutil -A -d "$nssdb" -n carol -t ",," -i "$certs/carol.pem"
assert_exit 0 env "${consumer_env[@]}" certutil -V -d "$nssdb" -u C -n carol
assert_contains "$CR_LAST_OUTPUT" "certificate is valid" "NSS accepts carol"

# ---- disable-in: not in the proxy, not in certrevoked
proxy=$(pkg-config --variable=proxy_module p11-kit-1)
if [[ -f $proxy ]]; then
        # nothing else is configured: "No slots.", exit 1
        assert_exit 1 p11 pkcs11-tool --module "$proxy" -L
        assert_not_contains "$CR_LAST_OUTPUT" "certrevoke" "p11-kit-proxy does not load the module"
fi
assert_exit 0 p11 p11-kit list-modules
assert_contains "$CR_LAST_OUTPUT" "certrevoke-pkcs11.so" "p11-kit list-modules shows the module"
# p11-kit decides by the program's name: p11-kit itself, named certrevoked
ln -s "$(command -v p11-kit)" "$CR_TMP/bin/certrevoked"
assert_exit 0 p11 "$CR_TMP/bin/certrevoked" list-modules
assert_not_contains "$CR_LAST_OUTPUT" "certrevoke-pkcs11.so" "a program named certrevoked does not get the module"

# ---- a CRL the CA did not sign shows nothing revoked
cr_ca_create "$CR_TMP/impostor"
# the impostor CA claims the same name, and revokes alice and bob too
for who in alice bob; do
        printf 'R\t%s\t%s\t%s\tunknown\t%s\n' "$(cr_date_utc '+1 year' | cut -c3-)" \
                "$(cr_date_utc '-1 hour' | cut -c3-)" "${serial[$who]}" "/CN=$who" >>"$CR_TMP/impostor/index.txt"
done
publish "$CR_TMP/impostor"
assert_exit 0 p11 trust list --filter=blocklist
assert_not_contains "$CR_LAST_OUTPUT" "revoked" "a CRL signed by another key: nothing shown"
assert_exit 0 p11 trust list --filter=ca-anchors
assert_not_contains "$CR_LAST_OUTPUT" "$ca_label" "nor the CA"
publish
assert_exit 0 p11 trust list --filter=blocklist
assert_eq 2 "$(grep -c 'trust: distrusted' <<<"$CR_LAST_OUTPUT")" "the right CRL again: both shown"

# ---- inputs that are no regular file: each of the three replaced in turn
# by a FIFO (a reader that opened it would wait for a writer for ever), a
# symbolic link to a good copy, a directory, and a symbolic link to
# /dev/zero.  pkcs11-tool must finish at once and list nothing revoked; the
# good files put back are shown again.
# oddity FILE KIND: puts KIND in place of $pub/FILE.
oddity() {
        local file=$1 kind=$2
        case $kind in
        fifo) rm -f -- "$pub/$file" && mkfifo -m 0644 "$pub/$file" ;;
        link-to-valid) mv -f -- "$pub/$file" "$CR_TMP/valid-$file" && ln -s "$CR_TMP/valid-$file" "$pub/$file" ;;
        directory) rm -f -- "$pub/$file" && mkdir -m 0755 "$pub/$file" ;;
        link-to-zero) rm -f -- "$pub/$file" && ln -s /dev/zero "$pub/$file" ;;
        esac
}
for file in ca.pem crl.der revoked.idx; do
        for kind in fifo link-to-valid directory link-to-zero; do
                oddity "$file" "$kind"
                start=$SECONDS
                assert_exit 0 timeout -k 1 5 env "${consumer_env[@]}" pkcs11-tool --module "$so" -O
                ((SECONDS - start <= 3)) || cr_fail_at "$file as $kind: pkcs11-tool -O took $((SECONDS - start)) s"
                assert_not_contains "$CR_LAST_OUTPUT" "revoked" "$file as $kind: nothing revoked listed"
                assert_exit 0 p11 timeout -k 1 5 trust list --filter=blocklist
                assert_not_contains "$CR_LAST_OUTPUT" "revoked" "$file as $kind: trust list shows nothing revoked"
                rm -rf -- "${pub:?}/$file" "$CR_TMP/valid-$file"
                publish
        done
done
assert_exit 0 env "${consumer_env[@]}" pkcs11-tool --module "$so" -O
assert_eq 3 "$(grep -c '^Certificate Object' <<<"$CR_LAST_OUTPUT")" "the good files back: three certificates again"
