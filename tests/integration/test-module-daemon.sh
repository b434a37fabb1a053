#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# End to end: an administrator revokes a user's certificate through the real
# daemon (RevokeCertificate on a private bus), and `trust list` (as root and
# as the user) and NSS show it distrusted at once, with no restart of
# anything: the daemon keeps running, and p11-kit reads the module's
# configuration as installed.  A
# second revocation adds to the first, appended to revoked.idx (which grows
# by about one certificate, not by a rewrite); the user whose certificate
# stays valid never appears.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl trust certutil modutil setpriv
so=$CR_BUILD/certrevoke-pkcs11.so
[[ -f $so ]] || cr_skip "$so not built"
[[ $(id -u) == 0 ]] || cr_skip "needs root for the private mount namespace"
unshare -m --propagation private true 2>/dev/null || cr_skip "unshare -m is not permitted here"

cr_world_init
cr_pam_init
mkdir -p "$CR_TMP/p11-modules"

# As in test-module.sh: p11-kit's tools cannot run under a preloaded ASan,
# so they load the plain build's module; NSS gets the ASan one.
nss_env=(CERTREVOKE_PUBLISH_DIR="$CR_PUB")
p11kit_so=$so
if [[ $CR_ASAN == 1 ]]; then
        nss_env+=(LD_PRELOAD="$(${CC:-cc} -print-file-name=libasan.so)"
                ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:verify_asan_link_order=0)
        p11kit_so=$CR_SRCDIR/build/certrevoke-pkcs11.so
        [[ -f $p11kit_so ]] || cr_skip "$p11kit_so not built (p11-kit's tools cannot load the ASan one)"
fi
sed "s|^module:.*|module: $p11kit_so|" "$CR_SRCDIR/units/certrevoke.module" >"$CR_TMP/p11-modules/certrevoke.module"

# trust_list FILTER: `trust list` with p11-kit reading only the test
# configuration, the module reading the daemon's directory.
trust_list() {
        cr_trust_list "$CR_PUB" "$1"
}

# trust_list_as UID FILTER: the same as another user, through that user's
# p11-kit configuration (XDG_CONFIG_HOME, "user-config: only").
trust_list_as() {
        cr_as "$1" env CERTREVOKE_PUBLISH_DIR="$CR_PUB" HOME="$CR_TMP/home" XDG_CONFIG_HOME="$CR_TMP/xdg" \
                trust list --filter="$2"
}
mkdir -p "$CR_TMP/xdg/pkcs11/modules" "$CR_TMP/home"
echo "user-config: only" >"$CR_TMP/xdg/pkcs11/pkcs11.conf"
cp "$CR_TMP/p11-modules/certrevoke.module" "$CR_TMP/xdg/pkcs11/modules/"
chmod -R a+rX "$CR_TMP/xdg" "$CR_TMP/home"

# revoke_as UID LOGIN REASON PASSWORD: RevokeCertificate through busctl.
revoke_as() {
        local uid=$1
        shift
        cr_as "$uid" busctl --address="$CR_BUS_ADDRESS" call org.certrevoke1 /org/certrevoke1 \
                org.certrevoke1.Manager RevokeCertificate ssss "$1" "" "$2" "$3"
}

ADMIN=1001
cr_card boss "Boss Admin"
cr_card gina "Gina General"
cr_card pete "Pete Plain"
cr_card vera "Vera Valid"
cr_pam_password boss boss-confirm-secret

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN
cr_ctl add-user gina "Gina General" general 1002
cr_ctl add-user pete "Pete Plain" general 1003
cr_ctl add-user vera "Vera Valid" general 1004
assert_exit 0 cr_ctl rescan
daemon_pid=$CR_DAEMON_PID

# The daemon publishes a first, empty CRL when it starts with none.
for _ in {1..100}; do
        [[ -f $CR_PUB/crl.der ]] && break
        sleep 0.1
done
[[ -f $CR_PUB/crl.der ]] || cr_fail_at "no CRL published at start" "$(tail -n 20 "$CR_TMP/daemon.log")"
[[ -f $CR_PUB/ca.pem ]] || cr_skip "the daemon does not publish ca.pem in its PublishDirectory yet"

assert_exit 0 trust_list ca-anchors
assert_contains "$CR_LAST_OUTPUT" "label: Demo Org Certificate Authority" "the daemon's CA is an anchor"
assert_exit 0 trust_list blocklist
assert_not_contains "$CR_LAST_OUTPUT" "revoked" "nothing revoked yet"

# NSS, with the module in a temporary database, open before any revocation
nssdb=sql:$CR_TMP/nssdb
mkdir -p "$CR_TMP/nssdb"
assert_exit 0 certutil -N -d "$nssdb" --empty-password
assert_exit 0 env "${nss_env[@]}" modutil -dbdir "$nssdb" -add certrevoke -libfile "$so" -force

# ---- gina's certificate revoked through the daemon
gina_serial=$(cr_cert_serial "$CR_CERTS/gina.pem")
assert_exit 0 revoke_as $ADMIN gina keyCompromise boss-confirm-secret
assert_eq '(sss) "gina" "Gina General" "revoked"' "$CR_LAST_OUTPUT" "RevokeCertificate"
[[ -f $CR_PUB/revoked.idx ]] || cr_fail_at "the daemon did not publish revoked.idx"
[[ ! -e $CR_PUB/revoked.der ]] || cr_fail_at "the daemon still writes revoked.der"
size_one=$(stat -c %s "$CR_PUB/revoked.idx")
inode_one=$(stat -c %i "$CR_PUB/revoked.idx")

assert_exit 0 trust_list blocklist
assert_contains "$CR_LAST_OUTPUT" "label: gina revoked $gina_serial" "trust list shows gina's certificate distrusted"
assert_eq 1 "$(grep -c 'trust: distrusted' <<<"$CR_LAST_OUTPUT")" "only gina's"
# the files the daemon publishes are readable by everyone's programs
assert_exit 0 trust_list_as 1002 blocklist
assert_contains "$CR_LAST_OUTPUT" "label: gina revoked $gina_serial" "gina's own programs distrust it too"
assert_exit 0 env "${nss_env[@]}" certutil -L -d "$nssdb" -h all
assert_exit 0 grep -qE "^certrevoke:gina revoked $gina_serial +p,p,p\$" <<<"$CR_LAST_OUTPUT"

# ---- pete's too; vera's stays valid
pete_serial=$(cr_cert_serial "$CR_CERTS/pete.pem")
assert_exit 0 revoke_as $ADMIN pete superseded boss-confirm-secret
growth=$(($(stat -c %s "$CR_PUB/revoked.idx") - size_one))
assert_eq "$inode_one" "$(stat -c %i "$CR_PUB/revoked.idx")" "the second revocation appends to revoked.idx, not a new file"
((growth > 0 && growth < 8192)) || cr_fail_at "revoked.idx grew by $growth bytes for one revocation"
assert_exit 0 trust_list blocklist
assert_contains "$CR_LAST_OUTPUT" "label: gina revoked $gina_serial" "gina still distrusted"
assert_contains "$CR_LAST_OUTPUT" "label: pete revoked $pete_serial" "pete distrusted after the second revocation"
assert_not_contains "$CR_LAST_OUTPUT" "vera" "vera's certificate is not on the list"
assert_not_contains "$CR_LAST_OUTPUT" "boss" "nor the administrator's"
assert_exit 255 env "${nss_env[@]}" certutil -V -d "$nssdb" -u C -n "certrevoke:pete revoked $pete_serial"
assert_contains "$CR_LAST_OUTPUT" "marked as not trusted" "NSS refuses pete's certificate"

# no restart of anything: the same daemon answered throughout
assert_eq "$daemon_pid" "$CR_DAEMON_PID" "the daemon was not restarted"
[[ -n $(cr_pids_alive "$daemon_pid") ]] || cr_fail_at "the daemon is gone"
cr_stop_daemon
