#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon and cr_hostb_init are called without arguments
# certrevoke-sync end to end.  Host A runs the daemon, and nginx serves its
# PublishDirectory on 127.0.0.1; host B is a directory of its own, where
# B's trust module reads, and a configuration that names A's URL and the
# CA.  A revocation made through certrevoked on A is distrusted by the
# trust module on B after one sync (`trust list`, `pkcs11-tool -O`); a sync
# with nothing new downloads nothing but a 304; what B fetches of
# revoked.idx are byte ranges; a hold and its release propagate.  A
# tampered CRL, an older one, one reusing the number held, one past its
# nextUpdate and an unreachable server each leave B's files exactly as they
# were, with the reason on one line and a distinct exit status.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/sync-lib.sh
. "$(dirname "$0")/../sync-lib.sh"

cr_need_daemon
cr_need_python
cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl trust curl setpriv
[[ -x $CR_BUILD/certrevoke-sync ]] || cr_skip "$CR_BUILD/certrevoke-sync not built"
so=$CR_BUILD/certrevoke-pkcs11.so
[[ -f $so ]] || cr_skip "$so not built"
[[ $(id -u) == 0 ]] || cr_skip "needs root for the private mount namespace"
unshare -m --propagation private true 2>/dev/null || cr_skip "unshare -m is not permitted here"

cr_world_init
cr_pam_init

cr_hostb_consumers "$so"
mkdir -p "$CR_TMP/p11-modules"
sed "s|^module:.*|module: $CR_HOSTB_P11KIT_SO|" "$CR_SRCDIR/units/certrevoke.module" >"$CR_TMP/p11-modules/certrevoke.module"

# hostb_trust_list FILTER: `trust list` on host B: p11-kit reading only the
# test configuration, the module reading B's directory.
hostb_trust_list() {
        cr_trust_list "$CR_HOSTB" "$1"
}

call() {
        cr_as $ADMIN busctl --address="$CR_BUS_ADDRESS" call org.certrevoke1 /org/certrevoke1 \
                org.certrevoke1.Manager "$@"
}

# expect_unchanged_after EXIT WHAT TEXT: a sync that must fail with status
# EXIT, say TEXT, and leave every file of B as it was.
expect_unchanged_after() {
        local want=$1 what=$2 text=$3 before
        before=$(cr_hostb_digest)
        assert_exit "$want" cr_sync
        assert_contains "$CR_LAST_OUTPUT" "$text" "$what: the reason"
        assert_eq 1 "$(grep -c . <<<"$CR_LAST_OUTPUT")" "$what: one line"
        assert_eq "$before" "$(cr_hostb_digest)" "$what: B's files are as they were"
        assert_eq "$held_serials" "$(cr_hostb_revoked_serials)" "$what: B's module shows what it showed"
}

ADMIN=1001
PREFILLED=300
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
cr_wait_first_crl
# earlier revocations, without certificates, so that the CRL is larger
# than the head a sync fetches first: a CRL is due at once
cr_stop_daemon
cr_store_fill_revoked $PREFILLED
sqlite3 "$CR_TMP/state/store.db" "UPDATE crl_state SET this_update_usec = 0"
cr_start_daemon
for _ in {1..100}; do
        grep -q "published with $PREFILLED entries" "$CR_TMP/daemon.log" && break
        sleep 0.1
done
grep -q "published with $PREFILLED entries" "$CR_TMP/daemon.log" ||
        cr_fail_at "no CRL of the $PREFILLED earlier entries" "$(tail -n 20 "$CR_TMP/daemon.log")"

cr_start_nginx "$CR_PUB"
cr_hostb_init

# ---- the first sync: the CA and an empty CRL
assert_exit 0 cr_sync
assert_contains "$CR_LAST_OUTPUT" "installed CRL number" "first sync"
cmp -s "$CR_PUB/crl.der" "$CR_HOSTB/crl.der" || cr_fail_at "B's crl.der is not A's"
assert_exit 0 hostb_trust_list ca-anchors
assert_contains "$CR_LAST_OUTPUT" "label: Demo Org Certificate Authority" "B's module shows the CA"
assert_exit 0 hostb_trust_list blocklist
assert_not_contains "$CR_LAST_OUTPUT" "revoked" "nothing revoked on B yet"

# ---- a revocation on A is distrusted on B after one sync
gina_serial=$(cr_cert_serial "$CR_CERTS/gina.pem")
assert_exit 0 call RevokeCertificate ssss gina "" keyCompromise boss-confirm-secret
assert_exit 0 hostb_trust_list blocklist
assert_not_contains "$CR_LAST_OUTPUT" "gina" "B does not know before it syncs"
assert_exit 0 cr_sync
assert_contains "$CR_LAST_OUTPUT" "1 certificates added" "the sync says what it added"
cmp -s "$CR_PUB/crl.der" "$CR_HOSTB/crl.der" || cr_fail_at "B's crl.der is not A's after the revocation"
assert_exit 0 hostb_trust_list blocklist
assert_contains "$CR_LAST_OUTPUT" "label: gina revoked $gina_serial" "trust list on B shows gina's certificate"
assert_eq 1 "$(grep -c 'trust: distrusted' <<<"$CR_LAST_OUTPUT")" "only gina's is distrusted on B"
held_serials=$(cr_hostb_revoked_serials)
assert_eq "$(cr_bare_serial "$gina_serial")" "$held_serials" "pkcs11-tool -O on B shows gina's serial revoked"
cp "$CR_PUB/crl.der" "$CR_TMP/crl-one.der"

# ---- nothing changed: a 304 and nothing more (once the validators were
# given after the second crl.der changed in, below)
sleep 1
assert_exit 0 cr_sync
lines=$(cr_nginx_lines)
assert_exit 0 cr_sync
assert_contains "$CR_LAST_OUTPUT" "is current" "a sync with nothing new"
got=$(cr_nginx_lines_since "$lines")
assert_eq "GET /crl.der 304 0 bytes=0-2047" "$got" "the only request of an unchanged sync is a conditional GET answered 304"

# validators given in the second crl.der last changed cannot tell a file
# replaced within that second (nginx's ETag is its date and size): the
# next sync asks without them, rebuilds the CRL from ranges, and finds it
# is the one held
assert_contains "$(cat "$CR_HOSTB/sync.state")" "date " "the response's date is kept"
lm=$(sed -n 's/^last-modified //p' "$CR_HOSTB/sync.state")
sed -i "s/^date .*/date $lm/" "$CR_HOSTB/sync.state"
lines=$(cr_nginx_lines)
assert_exit 0 cr_sync
assert_contains "$CR_LAST_OUTPUT" "is current" "a sync with validators of the second of the change"
got=$(cr_nginx_lines_since "$lines")
assert_contains "$got" "GET /crl.der 206 2048 bytes=0-2047" "asked without validators"
assert_not_contains "$got" " 304 " "asked without validators"
assert_not_contains "$got" "GET /crl.der 200" "and not fetched whole"
lines=$(cr_nginx_lines)
assert_exit 0 cr_sync
assert_eq "GET /crl.der 304 0 bytes=0-2047" "$(cr_nginx_lines_since "$lines")" "and with them again after"

# ---- a second revocation: B fetches ranges of revoked.idx, not the file
pete_serial=$(cr_cert_serial "$CR_CERTS/pete.pem")
assert_exit 0 call RevokeCertificate ssss pete "" superseded boss-confirm-secret
lines=$(cr_nginx_lines)
assert_exit 0 cr_sync
got=$(cr_nginx_lines_since "$lines")
assert_not_contains "$got" "GET /crl.der 200" "crl.der is not fetched whole"
crl_bytes=$(awk '$2 == "/crl.der" && $3 == 206 { s += $4 } END { print s + 0 }' <<<"$got")
crl_size=$(stat -c %s "$CR_PUB/crl.der")
((crl_bytes > 0 && crl_bytes < crl_size / 2)) ||
        cr_fail_at "B fetched $crl_bytes bytes of crl.der (of $crl_size) for one revocation" "$got"
cmp -s "$CR_PUB/crl.der" "$CR_HOSTB/crl.der" || cr_fail_at "B's crl.der rebuilt from ranges is not A's"
assert_not_contains "$(grep revoked.idx <<<"$got")" " 200 " "revoked.idx is never fetched whole"
idx_bytes=$(awk '$2 == "/revoked.idx" { s += $4 } END { print s + 0 }' <<<"$got")
idx_size=$(stat -c %s "$CR_PUB/revoked.idx")
((idx_bytes > 0 && idx_bytes < 16384)) ||
        cr_fail_at "B fetched $idx_bytes bytes of revoked.idx (of $idx_size) for one certificate" "$got"
assert_exit 0 hostb_trust_list blocklist
assert_contains "$CR_LAST_OUTPUT" "label: pete revoked $pete_serial" "pete distrusted on B"
assert_contains "$CR_LAST_OUTPUT" "label: gina revoked $gina_serial" "gina still distrusted on B"
held_serials=$(cr_hostb_revoked_serials)
assert_eq "$(printf '%s\n' "$(cr_bare_serial "$gina_serial")" "$(cr_bare_serial "$pete_serial")" | sort)" "$held_serials" \
        "pkcs11-tool -O on B after the second revocation"

# ---- a hold and its release propagate
vera_serial=$(cr_cert_serial "$CR_CERTS/vera.pem")
assert_exit 0 call SuspendUser ss vera boss-confirm-secret
for _ in {1..100}; do
        openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -text | grep -qi "serial number: *$vera_serial" && break
        sleep 0.1
done
assert_exit 0 cr_sync
assert_exit 0 hostb_trust_list blocklist
assert_contains "$CR_LAST_OUTPUT" "label: vera revoked $vera_serial" "vera's certificate on hold is distrusted on B"
cp "$CR_HOSTB/revoked.idx" "$CR_TMP/revoked-with-vera.idx"
assert_exit 0 call ResumeUser ss vera boss-confirm-secret
for _ in {1..100}; do
        openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -text | grep -qi "serial number: *$vera_serial" || break
        sleep 0.1
done
assert_exit 0 cr_sync
assert_contains "$CR_LAST_OUTPUT" "1 removed" "the release is taken off"
assert_exit 0 hostb_trust_list blocklist
assert_not_contains "$CR_LAST_OUTPUT" "vera" "vera's certificate is trusted again on B after the release"
held_serials=$(cr_hostb_revoked_serials)
assert_eq "$(printf '%s\n' "$(cr_bare_serial "$gina_serial")" "$(cr_bare_serial "$pete_serial")" | sort)" "$held_serials" \
        "pkcs11-tool -O on B after the release"
cmp -s "$CR_PUB/crl.der" "$CR_HOSTB/crl.der" || cr_fail_at "B's crl.der is not A's after the release"

# ---- B without its crl.der, beside a revoked.idx of an earlier CRL that
# still lists vera's hold: one sync rebuilds the list whole, exactly A's
rm "$CR_HOSTB/crl.der"
cp "$CR_TMP/revoked-with-vera.idx" "$CR_HOSTB/revoked.idx"
assert_exit 0 cr_sync
assert_contains "$CR_LAST_OUTPUT" "(held before: 0)" "a sync without a CRL held"
cmp -s "$CR_PUB/crl.der" "$CR_HOSTB/crl.der" || cr_fail_at "B's crl.der is not A's after the whole sync"
assert_eq "$held_serials" "$(cr_hostb_revoked_serials)" "a whole sync keeps nothing the CRL does not list"

# ---- never into the directory the daemon publishes in on its own host
sed "s|^Directory=.*|Directory=$CR_PUB|" "$CR_HOSTB_CONF" >"$CR_TMP/on-a.conf"
cat "$CR_TMP/certrevoke.conf" >>"$CR_TMP/on-a.conf"
published=$(sha256sum "$CR_PUB"/*)
assert_exit 1 "$CR_BUILD/certrevoke-sync" --config="$CR_TMP/on-a.conf"
assert_contains "$CR_LAST_OUTPUT" "is where certrevoked publishes on this host" "a sync on host A is refused"
assert_eq "$published" "$(sha256sum "$CR_PUB"/*)" "A's published files are untouched"

# ---- what B must refuse, each leaving its files as they were
fake=$CR_TMP/fake
fake_from_a() { # a copy of A's directory, its crl.der dated anew (another ETag)
        rm -rf "$fake"
        cp -r "$CR_PUB" "$fake"
        touch -d "@$(($(date +%s) + RANDOM % 1000 + 10))" "$fake/crl.der"
}

# a bit flipped: in the signature, in the number (the head, which a sync
# fetches), in an entry (the middle, which a sync takes from the CRL it
# holds: then what it installs is A's CRL, not the tampered one)
flip() { # flip FILE OFFSET
        "$CR_PYTHON" - "$1" "$2" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x01]))
PY
        touch -d "@$(($(date +%s) + RANDOM % 1000 + 2000))" "$1"
}
cr_serve "$fake"
fake_from_a
flip "$fake/crl.der" "$(($(stat -c %s "$fake/crl.der") - 10))"
expect_unchanged_after 4 "a CRL with a bit flipped in its signature" "refused: its signature does not verify"
fake_from_a
flip "$fake/crl.der" 40
expect_unchanged_after 4 "a CRL with a bit flipped in its head" "refused"
fake_from_a
flip "$fake/crl.der" "$(($(stat -c %s "$fake/crl.der") / 2))"
before=$(cr_hostb_digest | grep -v sync.state)
assert_exit 0 cr_sync
assert_contains "$CR_LAST_OUTPUT" "is current" "a bit flipped in the middle, which B does not fetch"
assert_eq "$before" "$(cr_hostb_digest | grep -v sync.state)" \
        "a bit flipped in the middle: the trust module's files on B are as they were"

# an older CRL of the CA, properly signed
fake_from_a
cp "$CR_TMP/crl-one.der" "$fake/crl.der"
touch -d "@$(($(date +%s) + 3000))" "$fake/crl.der"
expect_unchanged_after 4 "an older CRL" "is lower than the one held"

# another CRL with the number held, and one past its nextUpdate: signed by
# the CA with openssl ca, numbered as wanted
held_number=$(($(openssl crl -inform DER -in "$CR_HOSTB/crl.der" -noout -crlnumber | sed 's/.*=//')))
gencrl() { # gencrl NUMBER SECONDS
        local hex
        hex=$(printf '%X' "$1")
        ((${#hex} % 2 == 0)) || hex=0$hex
        echo "$hex" >"$CR_CA/crlnumber"
        openssl ca -config "$CR_CA/openssl.cnf" -gencrl -crlsec "$2" -out "$CR_TMP/gen.pem" 2>"$CR_TMP/gen.err" ||
                cr_fail_at "openssl ca -gencrl" "$(cat "$CR_TMP/gen.err")"
        openssl crl -in "$CR_TMP/gen.pem" -outform DER -out "$fake/crl.der"
        touch -d "@$(($(date +%s) + RANDOM % 1000 + 4000))" "$fake/crl.der"
}
fake_from_a
gencrl "$held_number" 3600
expect_unchanged_after 4 "another CRL with the number held" "with other contents"
fake_from_a
gencrl "$((held_number + 100))" 1
next_update=$(date -d "$(openssl crl -inform DER -in "$fake/crl.der" -noout -nextupdate | sed 's/.*=//')" +%s)
for _ in {1..50}; do
        (($(date +%s) > next_update + 1)) && break
        sleep 0.1
done
expect_unchanged_after 4 "a CRL past its nextUpdate" "past its nextUpdate"

# the server unreachable
cr_serve "$CR_PUB"
cr_stop_nginx
expect_unchanged_after 3 "an unreachable server" "cannot fetch from http://127.0.0.1:$CR_NGINX_PORT/"

# ---- and back: the next revocation arrives as before
cr_start_nginx "$CR_PUB"
cr_hostb_init
assert_exit 0 call RevokeCertificate ssss vera "" keyCompromise boss-confirm-secret
assert_exit 0 cr_sync
assert_exit 0 hostb_trust_list blocklist
assert_contains "$CR_LAST_OUTPUT" "label: vera revoked $vera_serial" "vera revoked on B once A is reachable again"
cmp -s "$CR_PUB/crl.der" "$CR_HOSTB/crl.der" || cr_fail_at "B's crl.der is not A's once A is reachable again"

# ---- a certificate in the publisher's revoked.idx that the CA did not
# sign (a bit flipped in it) refuses the sync, so that the next one looks
# for it again; once A's own file is served, it arrives
boss_serial=$(cr_cert_serial "$CR_CERTS/boss.pem")
assert_exit 0 call RevokeCertificate ssss boss "" keyCompromise boss-confirm-secret
fake_from_a
flip "$fake/revoked.idx" "$(($(stat -c %s "$fake/revoked.idx") - 100))"
cr_serve "$fake"
held_serials=$(cr_hostb_revoked_serials)
expect_unchanged_after 4 "a forged certificate in revoked.idx" \
        "refused: the certificate of serial $(cr_bare_serial "$boss_serial") in the publisher's revoked.idx: its signature does not verify"
cr_serve "$CR_PUB"
assert_exit 0 cr_sync
assert_exit 0 hostb_trust_list blocklist
assert_contains "$CR_LAST_OUTPUT" "label: boss revoked $boss_serial" "boss's certificate arrives from A's own file"
assert_contains "$CR_LAST_OUTPUT" "label: vera revoked $vera_serial" "the others stay"

cr_stop_daemon
cr_log "ok"
