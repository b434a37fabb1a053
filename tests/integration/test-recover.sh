#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# Never backwards.  With a CRL published:
# - a store that is missing, emptied or damaged stops the start, naming the
#   ways to recover (a backup, --recover-from-crl); nothing is published and
#   no store is made;
# - certrevoked --recover-from-crl takes every entry (serial, date, reason,
#   the certificateHold of a suspended user included) and the number back
#   into a new store; the next CRL lists the same entries with a higher
#   number; users added again find their certificates revoked;
# - a CRL that is not the CA's (another CA's, or altered) is refused;
# - certrevokectl backup copies the store while the daemon serves (root
#   only: others are AccessDenied); restored, it gives the same users and
#   CRL entries; a backup older than the published CRL is refused at start
#   when it lacks entries and continues above the published number when it
#   lacks none;
# - a crl.der with a higher number put there while the daemon runs is not
#   published over;
# - across all of it, the number in crl.der never decreases.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl sqlite3

cr_world_init
cr_pam_init
cr_pam_password boss boss-confirm

ADMIN=1001
STATE=$CR_TMP/state
NUMBERS=$CR_TMP/numbers

# ---- local helpers

# number_of FILE: the CRL number of a DER CRL, in decimal.
number_of() {
        local n
        n=$(openssl crl -inform DER -in "$1" -noout -crlnumber)
        echo $((16#${n#crlNumber=0x}))
}

# note_number: remembers the number crl.der has now.
note_number() {
        number_of "$CR_PUB/crl.der" >>"$NUMBERS"
}

# entries FILE: the revoked entries of a DER CRL as openssl prints them
# (serial, date, reason), without the CRL's own fields.
entries() {
        openssl crl -inform DER -in "$1" -noout -text |
                sed -n '/Revoked Certificates:/,/Signature Algorithm/p' | grep -v 'Signature Algorithm'
}

# wait_number_above N: waits for a crl.der numbered above N.
wait_number_above() {
        local i
        for ((i = 0; i < 100; i++)); do
                (($(number_of "$CR_PUB/crl.der") > $1)) && return 0
                sleep 0.1
        done
        cr_fail_at "no CRL above number $1 was published" "$(tail -n 20 "$CR_TMP/daemon.log")"
}

# daemon_run ARGS…: runs certrevoked in the foreground (a start that must
# end, or a recovery); output in CR_LAST_OUTPUT, status in CR_LAST_EXIT.
daemon_run() {
        CR_LAST_EXIT=0
        CR_LAST_OUTPUT=$(cd "$CR_TMP" && env DBUS_SYSTEM_BUS_ADDRESS="$CR_BUS_ADDRESS" SOFTHSM2_CONF="$SOFTHSM2_CONF" \
                "${CR_DAEMON_ENV[@]}" timeout 60 "$CR_DAEMON_BIN" --config="$CR_TMP/certrevoke.conf" "$@" 2>&1) ||
                CR_LAST_EXIT=$?
        printf '%s\n' "--- run: certrevoked $*" "$CR_LAST_OUTPUT" >>"$CR_TMP/daemon.log"
}

# assert_start_refused WHAT: a start fails naming both ways to recover,
# publishes nothing and leaves no store behind where there was none.
assert_start_refused() {
        local what=$1 before had_store=0
        before=$(sha256sum <"$CR_PUB/crl.der")
        [[ -e $STATE/store.db ]] && had_store=1
        daemon_run
        assert_eq 1 "$CR_LAST_EXIT" "a start with the store $what: exit status"
        assert_contains "$CR_LAST_OUTPUT" "is $what" "the refusal says what is wrong"
        assert_contains "$CR_LAST_OUTPUT" "certrevokectl backup" "the refusal names the backup"
        assert_contains "$CR_LAST_OUTPUT" "certrevoked --recover-from-crl" "the refusal names the recovery"
        assert_eq "$before" "$(sha256sum <"$CR_PUB/crl.der")" "crl.der after the refused start ($what)"
        ((had_store == 1)) || [[ ! -e $STATE/store.db ]] || cr_fail_at "a refused start made a store"
        cr_name_has_owner org.certrevoke1 && cr_fail_at "a refused start took the bus name"
        return 0
}

# users: the users as ListUsers gives them, as root.
users() {
        cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager ListUsers
}

# suspend_as UID LOGIN / resume_as UID LOGIN: with boss's password.
suspend_as() {
        cr_as "$1" busctl --address="$CR_BUS_ADDRESS" call org.certrevoke1 /org/certrevoke1 \
                org.certrevoke1.Manager SuspendUser ss "$2" boss-confirm
}
resume_as() {
        cr_as "$1" busctl --address="$CR_BUS_ADDRESS" call org.certrevoke1 /org/certrevoke1 \
                org.certrevoke1.Manager ResumeUser ss "$2" boss-confirm
}

# add_users: boss and the card holders, then a rescan.
add_users() {
        local login
        cr_ctl add-user boss "Boss Admin" admin $ADMIN >/dev/null
        local uid=2001
        for login in alice bob carol dave erin; do
                cr_ctl add-user "$login" "User $login" general $((uid++)) >/dev/null
        done
        assert_exit 0 cr_ctl rescan
}

# ---- a world: five users with cards; two revoked, one suspended
for login in alice bob carol dave erin; do
        cr_card "$login" "User $login"
done
cr_start_bus
cr_start_daemon
add_users
assert_eq "5 certificates seen" "$CR_LAST_OUTPUT"
cr_wait_first_crl
note_number
assert_exit 0 cr_revoke_as $ADMIN alice "" keyCompromise boss-confirm
assert_exit 0 cr_revoke_as $ADMIN bob "" superseded boss-confirm
note_number
assert_exit 0 suspend_as $ADMIN carol
note_number
cr_stop_daemon
note_number
published=$(number_of "$CR_PUB/crl.der")
entries "$CR_PUB/crl.der" >"$CR_TMP/entries-published"
for login in alice bob carol; do
        assert_contains "$(cat "$CR_TMP/entries-published")" "Serial Number: $(cr_cert_serial "$CR_CERTS/$login.pem")" \
                "$login is on the published CRL"
done
assert_contains "$(cat "$CR_TMP/entries-published")" "Certificate Hold" "carol's certificate is on hold"
cp -a "$STATE/store.db" "$CR_TMP/store-intact.db"

# ---- missing, emptied, damaged: refused, nothing published
mv "$STATE/store.db" "$CR_TMP/store-moved.db"
rm -f "$STATE/store.db-wal" "$STATE/store.db-shm"
assert_start_refused missing
: >"$STATE/store.db"
assert_start_refused empty
sqlite3 "$STATE/store.db" "PRAGMA user_version = 0; CREATE TABLE t (x);"
assert_start_refused empty
cp "$CR_TMP/store-intact.db" "$STATE/store.db"
printf 'this is no SQLite header at all' | dd of="$STATE/store.db" conv=notrunc status=none
assert_start_refused damaged
cp "$CR_TMP/store-intact.db" "$STATE/store.db"
page=$(sqlite3 "$STATE/store.db" "PRAGMA page_size")
dd if=/dev/zero of="$STATE/store.db" bs="$page" seek=2 count=1 conv=notrunc status=none
assert_start_refused damaged
assert_contains "$CR_LAST_OUTPUT" "damaged (" "quick_check's finding is named"

# ---- a CRL that is not this CA's is not recovered from
# Another CA's CRL (number 4096), an altered copy and a forgery stand in
# crl.der in turn, and then the good one comes back below the foreign
# number: the harness does not follow crl.der meanwhile.
cr_crl_watch_pause
cp "$CR_PUB/crl.der" "$CR_TMP/crl-good.der"
cr_ca_create "$CR_TMP/ca2" "Another Org CA"
openssl ca -config "$CR_TMP/ca2/openssl.cnf" -gencrl -out "$CR_TMP/foreign.pem" 2>/dev/null
openssl crl -in "$CR_TMP/foreign.pem" -outform DER -out "$CR_PUB/crl.der"
daemon_run --recover-from-crl
assert_eq 1 "$CR_LAST_EXIT" "recovery from another CA's CRL: exit status"
assert_contains "$CR_LAST_OUTPUT" "not by the configured CA" "a foreign CRL is named so"
# altered: one byte of the signature inverted (a fixed value could be the
# byte it replaces)
cp "$CR_TMP/crl-good.der" "$CR_PUB/crl.der"
size=$(stat -c %s "$CR_PUB/crl.der")
byte=$(od -An -tu1 -j $((size - 5)) -N1 "$CR_PUB/crl.der")
# shellcheck disable=SC2059 # the format is the escaped byte itself
printf "\\x$(printf '%02x' $((byte ^ 255)))" | dd of="$CR_PUB/crl.der" bs=1 seek=$((size - 5)) conv=notrunc status=none
cmp -s "$CR_PUB/crl.der" "$CR_TMP/crl-good.der" && cr_fail_at "the altered CRL is unchanged"
daemon_run --recover-from-crl
assert_eq 1 "$CR_LAST_EXIT" "recovery from an altered CRL: exit status"
assert_contains "$CR_LAST_OUTPUT" "does not verify" "an altered CRL is named so"
# the same issuer name, signed by another key
openssl ca -config "$CR_TMP/ca2/openssl.cnf" -gencrl -out "$CR_TMP/forged.pem" \
        -keyfile "$CR_TMP/ca2/ca.key" -cert "$CR_CA/ca.pem" 2>/dev/null || true
if [[ -s $CR_TMP/forged.pem ]]; then
        openssl crl -in "$CR_TMP/forged.pem" -outform DER -out "$CR_PUB/crl.der"
        daemon_run --recover-from-crl
        assert_eq 1 "$CR_LAST_EXIT" "recovery from a CRL signed by another key: exit status"
        assert_contains "$CR_LAST_OUTPUT" "does not verify" "a CRL signed by another key is named so"
fi
cp "$CR_TMP/crl-good.der" "$CR_PUB/crl.der"
cr_crl_watch_resume

# ---- --recover-from-crl: every entry and the number back
daemon_run --recover-from-crl
assert_eq 0 "$CR_LAST_EXIT" "recovery: exit status"
assert_contains "$CR_LAST_OUTPUT" "Took 3 entries (1 of them on hold" "the recovery says what it took"
assert_contains "$CR_LAST_OUTPUT" "CRL number $published" "the recovery names the number"
assert_contains "$(ls "$STATE")" "store.db.unusable-" "the damaged store is kept aside"
cr_start_daemon
wait_number_above "$published"
note_number
entries "$CR_PUB/crl.der" >"$CR_TMP/entries-recovered"
assert_eq "$(cat "$CR_TMP/entries-published")" "$(cat "$CR_TMP/entries-recovered")" \
        "the recovered CRL lists the same serials, dates and reasons"
assert_exit 0 openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -verify -CAfile "$CR_CA/ca.pem"
# users come back by hand; their certificates, imported (the revoked ones
# left their cards) or found on a card, are the revoked ones
add_users
assert_exit 0 cr_ctl import-cert alice "$CR_CERTS/alice.pem"
assert_exit 0 cr_ctl import-cert bob "$CR_CERTS/bob.pem"
assert_eq 's "revoked"' "$(cr_user_prop alice CertificateState)" "alice's certificate, found again"
assert_eq 's "keyCompromise"' "$(cr_user_prop alice RevocationReason)" "alice's reason, found again"
assert_eq 's "revoked"' "$(cr_user_prop bob CertificateState)" "bob's certificate, found again"
assert_eq 's "revoked"' "$(cr_user_prop carol CertificateState)" "carol's held certificate, found on her card"
assert_eq 's "certificateHold"' "$(cr_user_prop carol RevocationReason)" "carol's hold, found again"
assert_eq 's "issued"' "$(cr_user_prop dave CertificateState)" "dave was never revoked"
# a recovered entry stays on every later CRL
assert_exit 0 cr_revoke_as $ADMIN dave "" keyCompromise boss-confirm
note_number
entries "$CR_PUB/crl.der" >"$CR_TMP/entries-after"
for login in alice bob carol dave; do
        assert_contains "$(cat "$CR_TMP/entries-after")" "Serial Number: $(cr_cert_serial "$CR_CERTS/$login.pem")" \
                "$login is on the CRL after the next revocation"
done

# ---- backup while serving, root only
assert_exit 0 cr_ctl backup "$CR_TMP/backup-1.db"
assert_eq 600 "$(stat -c %a "$CR_TMP/backup-1.db")" "the backup's mode"
assert_eq ok "$(sqlite3 "$CR_TMP/backup-1.db" "PRAGMA quick_check")" "the backup is a whole database"
assert_exit 1 cr_ctl backup "$CR_TMP/backup-1.db"
assert_contains "$CR_LAST_OUTPUT" "exists" "a backup does not overwrite a file"
mkdir -m 0700 "$CR_TMP/admin-home"
chown $ADMIN:$ADMIN "$CR_TMP/admin-home"
assert_exit 4 cr_ctl_as $ADMIN backup "$CR_TMP/admin-home/backup.db"
assert_contains "$CR_LAST_OUTPUT" "only root" "the refusal says who may"
[[ ! -e $CR_TMP/admin-home/backup.db ]] || cr_fail_at "a refused backup left its file"
users >"$CR_TMP/users-at-backup"
entries "$CR_PUB/crl.der" >"$CR_TMP/entries-at-backup"

# ---- restore: the same users and entries
cr_stop_daemon
note_number
cp "$CR_TMP/backup-1.db" "$STATE/store.db"
rm -f "$STATE/store.db-wal" "$STATE/store.db-shm"
cr_start_daemon
assert_eq "$(cat "$CR_TMP/users-at-backup")" "$(users)" "ListUsers after the restore"
assert_exit 0 cr_revoke_as $ADMIN erin "" keyCompromise boss-confirm
note_number
entries "$CR_PUB/crl.der" >"$CR_TMP/entries-restored"
assert_contains "$(cat "$CR_TMP/entries-restored")" "$(cat "$CR_TMP/entries-at-backup")" \
        "the restored store lists every entry it listed at the backup"

# ---- a backup older than the published CRL
cr_stop_daemon
cp "$CR_TMP/backup-1.db" "$STATE/store.db"
rm -f "$STATE/store.db-wal" "$STATE/store.db-shm"
daemon_run
assert_eq 1 "$CR_LAST_EXIT" "a start with a backup that lacks a published entry: exit status"
assert_contains "$CR_LAST_OUTPUT" "serial $(cr_cert_serial "$CR_CERTS/erin.pem")" "the missing entry is named"
assert_contains "$CR_LAST_OUTPUT" "--recover-from-crl" "the way out is named"
before=$(number_of "$CR_PUB/crl.der")
daemon_run --recover-from-crl
assert_eq 0 "$CR_LAST_EXIT" "recovery into an intact store: exit status"
assert_contains "$CR_LAST_OUTPUT" "1 new to the store" "only erin was missing"
cr_start_daemon
wait_number_above "$before"
note_number
assert_eq 's "revoked"' "$(cr_user_prop erin CertificateState)" "erin's revocation, taken back into the backup"
assert_eq 's "keyCompromise"' "$(cr_user_prop erin RevocationReason)" "erin's reason"

# a backup that lacks no entry continues above the published number
assert_exit 0 cr_ctl backup "$CR_TMP/backup-2.db"
assert_exit 0 resume_as $ADMIN carol
note_number
assert_exit 0 suspend_as $ADMIN carol
note_number
cr_stop_daemon
before=$(number_of "$CR_PUB/crl.der")
cp "$CR_TMP/backup-2.db" "$STATE/store.db"
rm -f "$STATE/store.db-wal" "$STATE/store.db-shm"
cr_start_daemon
assert_contains "$(cat "$CR_TMP/daemon.log")" "continues above $before" "the start says it continues above"
assert_exit 0 resume_as $ADMIN carol
note_number
(($(number_of "$CR_PUB/crl.der") > before)) || cr_fail_at "the CRL after the restore is not above $before"

# ---- a higher crl.der put there while the daemon runs is not published over
printf "%x\n" 9000 >"$CR_CA/crlnumber"   # openssl ca reads it as hex
openssl ca -config "$CR_CA/openssl.cnf" -gencrl -out "$CR_TMP/high.pem" 2>/dev/null
openssl crl -in "$CR_TMP/high.pem" -outform DER -out "$CR_TMP/high.der"
install -m 0644 "$CR_TMP/high.der" "$CR_PUB/crl.der"
note_number
assert_exit 1 suspend_as $ADMIN carol
assert_contains "$(cat "$CR_TMP/daemon.log")" "crl.der has number 9000 already" "the refusal to publish is logged"
assert_eq 9000 "$(number_of "$CR_PUB/crl.der")" "crl.der is not published over"
cr_stop_daemon

# ---- the number never went back
sort -n -c "$NUMBERS" 2>/dev/null ||
        cr_fail_at "the CRL number went back" "$(paste -sd' ' "$NUMBERS")"
cr_log "CRL numbers seen: $(uniq "$NUMBERS" | paste -sd' ')"
cr_teardown
