#!/bin/bash
# One revocation end to end, with 100k revocations already on the CRL, then
# 50 at once: RevokeCertificate answered only after the CRL that lists it is
# signed and published and the certificate is off its SoftHSM token.  PAM is
# taken out of the measure as far as it can be: the confirmation goes
# through a stack of pam_permit alone (the helper process still runs).
# Prints the times; leaves nothing behind.
#
#   bench/revoke.sh [--build=DIR]

set -euo pipefail

for arg in "$@"; do
        case $arg in
        --build=*) export CR_BUILD=${arg#--build=} ;;
        *)
                echo "usage: $0 [--build=DIR]" >&2
                exit 2
                ;;
        esac
done

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../tests/lib.sh"

PREFILLED=100000
CONCURRENT=50

cr_need_cmd dbus-daemon busctl sqlite3 openssl softhsm2-util
cr_setup_tmp
cr_softhsm_init
cr_ca_create "$CR_TMP/ca"
cr_start_bus
cr_add_passwd cr-bench-admin 2000
cr_write_config "$CR_TMP/certrevoke.conf"
cr_pam_init
printf 'auth required pam_permit.so\naccount required pam_permit.so\n' >"$CR_TMP/pam/certrevoke"
CR_DAEMON_TIMEOUT=60

# users 1..51, each with a real certificate on a token of its own
cr_start_daemon
cr_ctl add-user admin Admin admin 2000 >/dev/null
for i in $(seq 1 $((CONCURRENT + 1))); do
        login=$(printf 'u%03d' "$i")
        cr_cert_issue "$CR_TMP/ca" "$login" "User $i" "$(cr_date_utc '-1 day')" "$(cr_date_utc '+365 days')" \
                "$CR_TMP/$login.pem" >/dev/null
        cr_token_create "card-$login" >/dev/null
        cr_token_put_cert "card-$login" "$CR_TMP/$login.pem" 01 "$login" >/dev/null
        cr_ctl add-user "$login" "User $i" general $((3000 + i)) >/dev/null
done
cr_ctl rescan >/dev/null
cr_stop_daemon

# 100k revocations already published, of certificates whose users are gone
db=$CR_TMP/state/store.db
der=$(openssl x509 -in "$CR_TMP/u001.pem" -outform DER | od -An -v -tx1 | tr -d ' \n')
now_us=$(($(date +%s) * 1000000))
sqlite3 "$db" <<SQL
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $PREFILLED)
INSERT INTO certificates (user_id, der, serial, issuer, subject, not_before_usec, not_after_usec,
                          fingerprint, revoked_usec, revocation_reason, revoked_by, revocation_seq, crl_number)
SELECT NULL, x'$der', printf('7%015X', i), 'CN=bench', 'CN=bench', $now_us - 86400000000,
       $now_us + 365 * 86400000000, printf('%064x', i), $now_us, 'keyCompromise', 'bench', i, 1
  FROM n;
UPDATE crl_state SET published_seq = $PREFILLED;
COMMIT;
SQL
cr_start_daemon
# the start publishes a CRL of all 100k (they were never on one here)
for _ in $(seq 1 600); do
        [[ $(cr_busctl get-property org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager CRLNumber) != "t 0" ]] && break
        sleep 0.1
done

revoke() {
        cr_as 2000 busctl --address="$CR_BUS_ADDRESS" --timeout=120 call org.certrevoke1 /org/certrevoke1 \
                org.certrevoke1.Manager RevokeCertificate ssss "$1" "" keyCompromise any
}

t0=$(date +%s.%N)
revoke u001 >/dev/null
t1=$(date +%s.%N)
one=$(echo "$t1 - $t0" | bc -l)

# One caller has at most a few such calls under way; the rest are answered
# Busy, "… try again in N s", and sent again after that time.
t0=$(date +%s.%N)
todo=$(seq 2 $((CONCURRENT + 1)))
busy=0
for _ in $(seq 1 100); do
        pids=()
        for i in $todo; do
                revoke "$(printf 'u%03d' "$i")" >"$CR_TMP/r$i.out" 2>&1 &
                pids+=($!)
        done
        for p in "${pids[@]}"; do wait "$p" || true; done
        again=() wait_s=0
        for i in $todo; do
                out=$(cat "$CR_TMP/r$i.out")
                [[ $out == *": try again in "*" s" ]] || continue
                again+=("$i")
                n=${out##*try again in }
                n=${n% s}
                ((n > wait_s)) && wait_s=$n
        done
        ((${#again[@]})) || break
        busy=$((busy + ${#again[@]}))
        todo=${again[*]}
        sleep "$wait_s"
done
failed=0
for i in $(seq 2 $((CONCURRENT + 1))); do
        grep -q '"revoked"' "$CR_TMP/r$i.out" || failed=$((failed + 1))
done
t1=$(date +%s.%N)
many=$(echo "$t1 - $t0" | bc -l)
builds=$(grep -c 'published with' "$CR_TMP/daemon.log" || true)
entries=$(openssl crl -inform DER -in "$CR_TMP/public/crl.der" -noout -text | grep -c 'Serial Number:' || true)

printf 'one revocation with %d entries already revoked: %.3f s\n' "$PREFILLED" "$one"
printf '%d simultaneous revocations: %.3f s (%.1f ms each), %d failed, %d answers Busy sent again\n' \
        "$CONCURRENT" "$many" "$(echo "$many * 1000 / $CONCURRENT" | bc -l)" "$failed" "$busy"
printf 'CRL builds in the whole run: %d; entries on the last CRL: %d\n' "$builds" "$entries"
[[ $failed -eq 0 ]]
