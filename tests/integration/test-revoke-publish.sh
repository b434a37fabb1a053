#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# The CRL cannot be written: RevokeCertificate answers with an error that
# says the revocation is recorded but the CRL could not be published; the
# certificate is revoked all the same (nothing is lost), the CRL in place
# stays as it was and valid, and CRLNumber keeps telling the number of the
# CRL that is published.  Once the directory is writable again the daemon's
# retry timer publishes a CRL that lists what was recorded meanwhile.
#
# How the directory is made unwritable: the tests run as root, and chmod
# 0500 does not stop root (CAP_DAC_OVERRIDE).  The script re-runs itself in
# a private mount namespace (unshare -m), where it bind-mounts the publish
# directory onto itself and remounts that read-only: every write in it,
# root's too, fails with EROFS, while the files in it stay readable.  The
# daemon, started from the script, shares the namespace; nothing outside
# it sees the mount, and it goes with the namespace.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon dbus-send busctl softhsm2-util pkcs11-tool openssl certtool setpriv unshare mount umount find
if [[ ${CR_REVOKE_PUBLISH_NS:-} != 1 ]]; then
        unshare -m --propagation private true 2>/dev/null || cr_skip "cannot make a private mount namespace (needs root)"
        CR_REVOKE_PUBLISH_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi

cr_world_init
cr_pam_init

ADMIN=1001

# Failures that need not stop the rest of the test; reported at the end.
late_failures=()

# ---- local helpers

# file_number: the CRL number in crl.der, in decimal.
file_number() {
        local n
        n=$(openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -crlnumber)
        echo $((16#${n#crlNumber=0x}))
}

# check_crl: the published CRL verifies with openssl and GnuTLS.
check_crl() {
        cr_wait_crl_pem
        assert_exit 0 openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -verify -CAfile "$CR_CA/ca.pem"
        assert_contains "$CR_LAST_OUTPUT" "verify OK" "openssl crl -verify"
        assert_exit 0 certtool --verify-crl --load-ca-certificate "$CR_CA/ca.pem" --infile "$CR_PUB/crl.pem"
        assert_not_contains "$CR_LAST_OUTPUT" "Not verified" "certtool --verify-crl"
}

# verify CERT.pem: openssl verify with the published CRL; exit status in CR_LAST_EXIT.
verify() {
        cr_wait_crl_pem
        CR_LAST_EXIT=0
        CR_LAST_OUTPUT=$(openssl verify -crl_check -CAfile "$CR_CA/ca.pem" -CRLfile "$CR_PUB/crl.pem" "$1" 2>&1) ||
                CR_LAST_EXIT=$?
}

cr_card alice "Alice Example"
cr_card bob "Bob Example"
cr_card carl "Carl Example"
cr_pam_password boss boss-confirm

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN
cr_ctl add-user alice "Alice Example" general 1002
cr_ctl add-user bob "Bob Example" general 1003
cr_ctl add-user carl "Carl Example" general 1004
assert_exit 0 cr_ctl rescan
cr_wait_first_crl

# a first revocation while all is well
assert_exit 0 cr_revoke_as $ADMIN alice "" keyCompromise boss-confirm
assert_eq '(sss) "alice" "Alice Example" "revoked"' "$CR_LAST_OUTPUT"
check_crl
n_good=$(cr_crl_number)
assert_eq "$n_good" "$(file_number)" "CRLNumber is the number of crl.der"
cp -- "$CR_PUB/crl.der" "$CR_TMP/old-crl.der"
cr_wait_crl_pem
cp -- "$CR_PUB/crl.pem" "$CR_TMP/old-crl.pem"
listing=$(find "$CR_PUB" -mindepth 1 -printf '%f\n' | sort | paste -sd' ')

# ---- the publish directory becomes read-only
mount --bind "$CR_PUB" "$CR_PUB"
mount -o remount,bind,ro "$CR_PUB"
if touch "$CR_PUB/probe" 2>/dev/null; then
        rm -f -- "$CR_PUB/probe"
        cr_fail_at "the read-only bind mount does not stop root from writing"
fi

log_lines=$(wc -l <"$CR_TMP/daemon.log")
assert_exit 1 cr_revoke_send $ADMIN bob "" keyCompromise boss-confirm
cr_log "the answer while the CRL cannot be written: $CR_LAST_OUTPUT"
assert_contains "$CR_LAST_OUTPUT" "Error org.freedesktop.DBus.Error.Failed" "the error's name"
assert_contains "$CR_LAST_OUTPUT" "revocation of bob is recorded" "the error says it is recorded"
assert_contains "$CR_LAST_OUTPUT" "the CRL could not be published" "the error says the CRL is not published"
assert_contains "$CR_LAST_OUTPUT" "Read-only file system" "the error says why"
assert_exit 1 cr_revoke_as $ADMIN carl "" superseded boss-confirm
assert_contains "$CR_LAST_OUTPUT" "revocation of carl is recorded, but the CRL could not be published" "what busctl shows"

# nothing lost: both are revoked
assert_eq 's "revoked"' "$(cr_user_prop bob CertificateState)"
assert_eq 's "keyCompromise"' "$(cr_user_prop bob RevocationReason)"
assert_eq 's "revoked"' "$(cr_user_prop carl CertificateState)"
# the revocation stands, so the token copy went all the same
assert_eq "" "$(cr_token_list_certs card-bob-01)" "bob's certificate is off his card"
cr_wait_user_prop bob CertificateRemoval 's "removed"'

# the CRL in place is the old one, whole and valid
assert_eq "$(sha256sum <"$CR_TMP/old-crl.der")" "$(sha256sum <"$CR_PUB/crl.der")" "crl.der is unchanged"
assert_eq "$(sha256sum <"$CR_TMP/old-crl.pem")" "$(sha256sum <"$CR_PUB/crl.pem")" "crl.pem is unchanged"
check_crl
verify "$CR_CERTS/alice.pem"
assert_eq 2 "$CR_LAST_EXIT" "alice stays revoked on the old CRL: $CR_LAST_OUTPUT"
verify "$CR_CERTS/bob.pem"
assert_eq 0 "$CR_LAST_EXIT" "bob is not on the old CRL: $CR_LAST_OUTPUT"
assert_eq "$listing" "$(find "$CR_PUB" -mindepth 1 -printf '%f\n' | sort | paste -sd' ')" \
        "the publish directory holds what it held: no temporary file is left"
assert_contains "$(tail -n +"$((log_lines + 1))" "$CR_TMP/daemon.log")" "not published" "the daemon logs the failure"
assert_eq "$n_good" "$(file_number)" "crl.der keeps its number"
# CRLNumber is the number of the CRL that is published, not of one that failed
n_prop=$(cr_crl_number)
assert_eq "$n_good" "$n_prop" "CRLNumber while nothing new can be published" ||
        late_failures+=("CRLNumber says $n_prop after failed builds, but the published CRL is number $n_good")

# ---- mended: the retry timer (30 s after the last failure) publishes
t_fixed=$(date +%s)
umount "$CR_PUB"
touch "$CR_PUB/probe" && rm -f -- "$CR_PUB/probe"
published=
for _ in {1..450}; do
        if openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -text 2>/dev/null |
                grep -q "Serial Number: $(cr_cert_serial "$CR_CERTS/carl.pem")\$"; then
                published=1
                break
        fi
        sleep 0.1
done
[[ -n $published ]] || cr_fail_at "no CRL with bob and carl within 45 s of mending the directory" \
        "$(tail -n 10 "$CR_TMP/daemon.log")"
cr_log "published $(($(date +%s) - t_fixed)) s after the directory was mended"
check_crl
crl=$(openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -text)
for who in alice bob carl; do
        assert_contains "$crl" "Serial Number: $(cr_cert_serial "$CR_CERTS/$who.pem")" "$who on the CRL after the retry"
        verify "$CR_CERTS/$who.pem"
        assert_eq 2 "$CR_LAST_EXIT" "$who is refused: $CR_LAST_OUTPUT"
        assert_contains "$CR_LAST_OUTPUT" "certificate revoked"
done
assert_eq 3 "$(grep -c 'Serial Number:' <<<"$crl")" "three entries"
n_new=$(file_number)
((n_new > n_good)) || cr_fail_at "CRL number $n_new after the retry, $n_good before"
for _ in {1..50}; do
        [[ $(cr_crl_number) == "$n_new" ]] && break
        sleep 0.1
done
assert_eq "$n_new" "$(cr_crl_number)" "CRLNumber after the retry"

# ---- the daemon keeps working
cr_stop_daemon
cr_start_daemon
assert_eq "$n_new" "$(file_number)" "nothing was left to publish at the restart"
assert_eq 's "revoked"' "$(cr_user_prop bob CertificateState)" "bob after the restart"

# ---- a stop between crl.der and crl.pem (which follows the reply) left an
# older crl.pem: the start publishes both again
cr_stop_daemon
cp -- "$CR_TMP/old-crl.pem" "$CR_PUB/crl.pem"
touch -d '-1 hour' "$CR_PUB/crl.pem"
cr_start_daemon
cr_wait_crl_pem
(($(file_number) > n_new)) || cr_fail_at "no new CRL at the start that found an older crl.pem"
verify "$CR_CERTS/carl.pem"
assert_eq 2 "$CR_LAST_EXIT" "crl.pem lists carl again: $CR_LAST_OUTPUT"

cr_stop_daemon
if ((${#late_failures[@]})); then
        printf 'FAILED: %s\n' "${late_failures[@]}" >&2
        exit 1
fi
echo "revoke publish OK"
