#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# RevokeCertificates: several users' certificates with one confirmation, one
# transaction and one CRL, or none of them.  A batch of three is answered
# with each target's login ID, name and "revoked" in the order given, and
# the CRL then lists all three; a batch with one bad target (no such user,
# not revocable, changed certificate, the same user twice, a bad serial)
# revokes nothing and names that target; 10,001 targets are InvalidArgs; a
# general user is AccessDenied; a wrong password is AuthenticationFailed.
# certrevokectl revoke takes several logins or the list's filters, and
# --dry-run shows what would be revoked and changes nothing.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_python
cr_need_cmd dbus-daemon gdbus busctl softhsm2-util pkcs11-tool openssl setpriv

cr_world_init
cr_pam_init

ADMIN=1001 GENERAL=1002
ADMIN_PW=boss-confirm-secret

for u in ann ben cat eve walt wes; do
        cr_card "$u" "${u^} Example"
done
cr_card olga "Olga Old" 20200101000000Z 20210101000000Z
cr_pam_password boss "$ADMIN_PW"
cr_pam_password gina gina-confirm-secret

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN
cr_ctl add-user gina "Gina General" general $GENERAL
cr_ctl add-user ann "Ann Example" general 1101
cr_ctl add-user ben "Ben Example" general 1102
cr_ctl add-user cat "Cat Example" general 1103
cr_ctl add-user eve "Eve Example" general 1104
cr_ctl add-user walt "Walt Example" worker 1201
cr_ctl add-user wes "Wes Example" worker 1202
cr_ctl add-user olga "Olga Old" general 1203
assert_exit 0 cr_ctl rescan
cr_wait_first_crl

declare -A serial
for u in ann ben cat eve walt wes olga; do
        serial[$u]=$(cr_cert_serial "$CR_CERTS/$u.pem")
done

# ---- local helpers

# batch_as UID TARGETS REASON PASSWORD: RevokeCertificates through gdbus,
# which prints the D-Bus error name of a failure.  TARGETS in GVariant text,
# e.g. "[('ann', ''), ('ben', '')]".
batch_as() {
        cr_as "$1" env DBUS_SYSTEM_BUS_ADDRESS="$CR_BUS_ADDRESS" gdbus call --system --dest org.certrevoke1 \
                --object-path /org/certrevoke1 --method org.certrevoke1.Manager.RevokeCertificates \
                -- "@a(ss) $2" "$3" "$4"
}

# assert_batch_refused ERROR UID TARGETS REASON PASSWORD
assert_batch_refused() {
        local want=$1
        shift
        assert_exit 1 batch_as "$@"
        assert_contains "$CR_LAST_OUTPUT" "$want" "RevokeCertificates $2 by UID $1"
}

# users: ListUsers as root, one "login state serial" a line
users() {
        cr_busctl --json=short call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager ListUsers |
                "$CR_PYTHON" -c '
import json, sys
for u in json.load(sys.stdin)["data"][0]:
    print(u[0], u[3], u[4])'
}

crl_serials() {
        openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -text | sed -n 's/^ *Serial Number: //p' | sort
}

# snapshot: what must not change when nothing is revoked
snapshot() {
        users
        cr_crl_number
        sha256sum <"$CR_PUB/crl.der"
}

before=$(snapshot)
n0=$(cr_crl_number)

# ---- who may: a general user may not, and nothing changes
assert_batch_refused org.freedesktop.DBus.Error.AccessDenied $GENERAL "[('ann', ''), ('ben', '')]" "" \
        gina-confirm-secret
assert_contains "$CR_LAST_OUTPUT" "only master and administrator users may revoke"
assert_eq "$before" "$(snapshot)" "a general user's batch changed nothing"

# ---- at most 10,000 targets, refused before anything else
args=()
for ((i = 0; i < 10001; i++)); do
        args+=(ann "")
done
assert_exit 1 cr_as $ADMIN busctl --address="$CR_BUS_ADDRESS" call org.certrevoke1 /org/certrevoke1 \
        org.certrevoke1.Manager RevokeCertificates 'a(ss)ss' 10001 "${args[@]}" "" "$ADMIN_PW"
assert_contains "$CR_LAST_OUTPUT" "at most 10000 targets" "10,001 targets"
assert_batch_refused org.freedesktop.DBus.Error.InvalidArgs $ADMIN "[]" "" "$ADMIN_PW"
assert_contains "$CR_LAST_OUTPUT" "no targets"
assert_eq "$before" "$(snapshot)" "10,001 targets changed nothing"

# ---- all or nothing: the first target that fails is named
assert_batch_refused org.certrevoke1.Error.NoSuchUser $ADMIN "[('ann', ''), ('ben', ''), ('ghost', '')]" \
        keyCompromise "$ADMIN_PW"
assert_contains "$CR_LAST_OUTPUT" 'target 3 (ghost): no user with login ID'
assert_batch_refused org.certrevoke1.Error.NotRevocable $ADMIN "[('ann', ''), ('olga', ''), ('ghost', '')]" \
        "" "$ADMIN_PW"
assert_contains "$CR_LAST_OUTPUT" 'target 2 (olga): the certificate of olga is expired'
assert_batch_refused org.certrevoke1.Error.CertificateChanged $ADMIN \
        "[('ann', ''), ('ben', '${serial[ann]}')]" "" "$ADMIN_PW"
assert_contains "$CR_LAST_OUTPUT" 'target 2 (ben): the current certificate of ben is no longer'
assert_batch_refused org.freedesktop.DBus.Error.InvalidArgs $ADMIN "[('ann', ''), ('ben', ''), ('ann', '')]" \
        "" "$ADMIN_PW"
assert_contains "$CR_LAST_OUTPUT" 'target 3 (ann): the same user as target 1'
assert_batch_refused org.freedesktop.DBus.Error.InvalidArgs $ADMIN "[('ann', ''), ('ben', 'xyz')]" "" "$ADMIN_PW"
assert_contains "$CR_LAST_OUTPUT" 'target 2 (ben): serial may only contain hex digits'
assert_batch_refused org.freedesktop.DBus.Error.InvalidArgs $ADMIN "[('ann', ''), ('../x', '')]" "" "$ADMIN_PW"
assert_contains "$CR_LAST_OUTPUT" 'target 2: '
assert_batch_refused org.freedesktop.DBus.Error.InvalidArgs $ADMIN "[('ann', '')]" certificateHold "$ADMIN_PW"
assert_eq "$before" "$(snapshot)" "a batch with a bad target revoked nothing"

# ---- a wrong confirmation password: nothing revoked
assert_batch_refused org.certrevoke1.Error.AuthenticationFailed $ADMIN "[('ann', ''), ('ben', '')]" "" wrong-guess
assert_eq "$before" "$(snapshot)" "a wrong password revoked nothing"

# ---- certrevokectl revoke --dry-run: what would be revoked; no call that changes anything
history_before=$(cr_history | wc -l)
assert_exit 0 cr_ctl_as $ADMIN revoke --dry-run ann ben cat
assert_contains "$CR_LAST_OUTPUT" "would be revoked (dry run: nothing is changed)"
for u in ann ben cat; do
        assert_contains "$CR_LAST_OUTPUT" "${serial[$u]}" "the dry run shows $u's serial"
        assert_contains "$CR_LAST_OUTPUT" "${u^} Example" "the dry run shows $u's name"
done
assert_not_contains "$CR_LAST_OUTPUT" "Confirmation password" "a dry run asks for no password"
# json_logins: the login IDs of certrevokectl --json output, space-separated
json_logins() {
        "$CR_PYTHON" -c 'import json, sys; print(" ".join(u["login_id"] for u in json.load(sys.stdin)))'
}
# the list's filters select the same users as list, those that can be revoked
assert_exit 0 cr_ctl_as $ADMIN --json revoke --dry-run --role=worker
assert_eq "walt wes" "$(json_logins <<<"$CR_LAST_OUTPUT")" "--role=worker selects the workers"
assert_exit 0 cr_ctl_as $ADMIN --json revoke --dry-run 'e*'
assert_eq "eve" "$(json_logins <<<"$CR_LAST_OUTPUT")" "a glob selects by login ID"
assert_exit 0 cr_ctl_as $ADMIN --json revoke --dry-run --role=general '*n'
assert_eq "ann ben" "$(json_logins <<<"$CR_LAST_OUTPUT")" "role and pattern (login ID or name, as list) together"
assert_exit 0 cr_ctl_as $ADMIN --json revoke --dry-run --state=issued
assert_eq "ann ben cat eve walt wes" "$(json_logins <<<"$CR_LAST_OUTPUT")" "--state=issued"
assert_exit 3 cr_ctl_as $ADMIN revoke --dry-run --state=expired
assert_contains "$CR_LAST_OUTPUT" "No user selected has a certificate that can be revoked"
assert_exit 7 cr_ctl_as $ADMIN revoke --dry-run ann olga
assert_exit 3 cr_ctl_as $ADMIN revoke --dry-run ann ghost
assert_exit 2 cr_ctl_as $ADMIN revoke --dry-run ann ann
assert_exit 2 cr_ctl_as $ADMIN revoke --serial=01 ann ben
if locale -a 2>/dev/null | grep -qix 'ja_JP.utf-\?8'; then
        LC_ALL=ja_JP.UTF-8 assert_exit 0 cr_ctl_as $ADMIN revoke --dry-run ann ben
        assert_contains "$CR_LAST_OUTPUT" "次の利用者の証明書を失効します (試行のみ: 何も変更しません)。"
        assert_contains "$CR_LAST_OUTPUT" "シリアル番号"
        assert_contains "$CR_LAST_OUTPUT" "発行済"
fi
assert_eq "$before" "$(snapshot)" "--dry-run changed no user and no CRL"
assert_eq "$history_before" "$(cr_history | wc -l)" "--dry-run wrote no history"

# ---- a batch of three: one confirmation, all on the CRL the reply waited for
assert_exit 0 batch_as $ADMIN "[('cat', ''), ('ann', '${serial[ann]}'), ('ben', '')]" keyCompromise "$ADMIN_PW"
assert_eq "([('cat', 'Cat Example', 'revoked'), ('ann', 'Ann Example', 'revoked'), ('ben', 'Ben Example', 'revoked')],)" \
        "$CR_LAST_OUTPUT" "one result per target, in the order given"
n1=$(cr_crl_number)
((n1 > n0)) || cr_fail_at "CRLNumber did not grow: $n0 -> $n1"
assert_eq "$(printf '%s\n' "${serial[ann]}" "${serial[ben]}" "${serial[cat]}" | sort)" "$(crl_serials)" \
        "the published CRL lists the three"
file_number=$(openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -crlnumber)
assert_eq "$n1" "$((16#${file_number#crlNumber=0x}))" "the CRL's number is CRLNumber"
for u in ann ben cat; do
        assert_eq 's "revoked"' "$(cr_user_prop "$u" CertificateState)" "$u"
        assert_eq 's "keyCompromise"' "$(cr_user_prop "$u" RevocationReason)" "$u"
        cr_wait_crl_pem
        assert_exit 2 openssl verify -crl_check -CAfile "$CR_CA/ca.pem" -CRLfile "$CR_PUB/crl.pem" "$CR_CERTS/$u.pem"
done
assert_eq 's "issued"' "$(cr_user_prop eve CertificateState)" "eve was no target"
history=$(cr_history boss)
assert_eq 1 "$(grep -c '^boss confirm batch of 3 ok$' <<<"$history")" "one confirmation for the batch"
for u in ann ben cat; do
        assert_eq 1 "$(grep -c "^boss revoke $u ok\$" <<<"$history")" "one history row for $u"
done

# ---- certrevokectl revoke --role=worker: one screen, one password, one call
out=$(printf '%s\n' "$ADMIN_PW" | cr_ctl_as $ADMIN revoke --password-stdin --reason=superseded --role=worker 2>&1) ||
        cr_fail_at "certrevokectl revoke --role=worker failed" "$out"
assert_contains "$out" "The certificates of the following users will be revoked."
assert_contains "$out" "The certificates of the following users have been revoked."
for u in walt wes; do
        assert_eq 's "revoked"' "$(cr_user_prop "$u" CertificateState)" "$u"
        assert_eq 's "superseded"' "$(cr_user_prop "$u" RevocationReason)" "$u"
done
assert_eq "$(printf '%s\n' "${serial[ann]}" "${serial[ben]}" "${serial[cat]}" "${serial[walt]}" "${serial[wes]}" | sort)" \
        "$(crl_serials)" "the published CRL lists the five"
((n1 < $(cr_crl_number))) || cr_fail_at "CRLNumber did not grow for the second batch"

# ---- again: the three are revoked already, the first is named
assert_batch_refused org.certrevoke1.Error.NotRevocable $ADMIN "[('eve', ''), ('ann', '')]" "" "$ADMIN_PW"
assert_contains "$CR_LAST_OUTPUT" 'target 2 (ann)'
assert_eq 's "issued"' "$(cr_user_prop eve CertificateState)" "eve stays issued"

cr_stop_daemon
cr_log "ok"
