#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# With 400,000 revocations already published, the daemon keeps answering
# while it revokes, suspends and resumes: nothing that grows with the number
# of entries runs on its event loop.  A client calls ListUsers every 5 ms
# on one connection throughout; its slowest answer is how long the loop
# stalled at worst, and must stay under a generous bound (the bookkeeping
# over every listed row took some 200 ms at this size).  Every revocation
# is on the CRL afterwards, beside the 400,000.
set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util openssl setpriv sqlite3
[[ -x $CR_BUILD/bench/revoke-client ]] || cr_die "no $CR_BUILD/bench/revoke-client: make unit-tests first"

ADMIN=1001
PREFILLED=400000
BOUND_MS=80

cr_world_init
cr_pam_init
cr_pam_password boss boss-confirm
cr_add_passwd cr-boss $ADMIN
for login in lp1 lp2 lp3; do
        CR_KEY_TYPE=ec cr_cert_issue "$CR_CA" "$login" "$login" "$CR_PAST" "$CR_LATER" "$CR_CERTS/$login.pem"
done

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN >/dev/null
uid=2001
for login in lp1 lp2 lp3; do
        cr_ctl add-user "$login" "$login" general $uid >/dev/null
        cr_ctl import-cert "$login" "$CR_CERTS/$login.pem" >/dev/null
        uid=$((uid + 1))
done
cr_wait_first_crl
cr_stop_daemon

# revocations of certificates whose users are gone, published on CRL 1;
# without their DER, as entries taken back from a CRL are (the trust
# module has nothing to show for them)
cr_store_fill_revoked $PREFILLED
cr_start_daemon

call() {
        cr_as $ADMIN busctl --address="$CR_BUS_ADDRESS" --timeout=120 call org.certrevoke1 /org/certrevoke1 \
                org.certrevoke1.Manager "$@"
}

mkfifo "$CR_TMP/probe.in"
DBUS_SYSTEM_BUS_ADDRESS=$CR_BUS_ADDRESS "$CR_BUILD/bench/revoke-client" probe 5 <"$CR_TMP/probe.in" \
        >"$CR_TMP/probe.out" 2>&1 &
probe=$!
cr_track $probe
exec 3>"$CR_TMP/probe.in"

assert_exit 0 call RevokeCertificate ssss lp1 "" keyCompromise boss-confirm
assert_exit 0 call SuspendUser ss lp2 boss-confirm
assert_exit 0 call RevokeCertificate ssss lp3 "" keyCompromise boss-confirm
assert_exit 0 call ResumeUser ss lp2 boss-confirm

exec 3>&-
wait $probe || cr_fail_at "the probe failed" "$(cat "$CR_TMP/probe.out")"
cr_untrack $probe
result=$(cat "$CR_TMP/probe.out")
cr_log "ListUsers during the run: $result"
calls=$(sed -n 's/.*calls=\([0-9]*\).*/\1/p' <<<"$result")
max_ms=$(sed -n 's/.*max_ms=\([0-9]*\).*/\1/p' <<<"$result")
((calls >= 10)) || cr_fail_at "the probe ran too few calls to judge the loop" "$result"
((max_ms < BOUND_MS)) || cr_fail_at "ListUsers waited ${max_ms} ms (bound ${BOUND_MS} ms) beside $PREFILLED entries" "$result"

text=$(openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -text)
assert_eq $((PREFILLED + 2)) "$(grep -c 'Serial Number:' <<<"$text")" "the CRL lists the $PREFILLED and the two revoked"
for login in lp1 lp3; do
        assert_contains "$text" "Serial Number: $(cr_cert_serial "$CR_CERTS/$login.pem")"
done
cr_stop_daemon
echo "revoke-loop OK"
