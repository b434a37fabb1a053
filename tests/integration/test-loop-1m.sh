#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# With a million revocations published, the daemon answers ListUsers within
# 20 ms while it builds the CRL of one more.  The store is filled as
# bench/revoke.sh fills it (cr_store_fill_revoked: a certificate of its own
# for each entry), the start builds the CRL of all of them, and then an
# administrator revokes one more certificate, confirmed through PAM, from
# one connection while another calls ListUsers every 5 ms from the sending
# until half a second after the reply.  The daemon answers ListUsers on its
# event loop, so the slowest answer is how long the loop stalled at worst.
# Some calls must have been sent before the new crl.der was written: those
# waited on the build, if anything did.
#
# The machine the suite runs on may be shared: a stall of the whole host
# (another job's I/O) is not the daemon's.  So a second revocation, of
# another user, gets a second chance; the test fails when both exceed the
# bound.  CR_TEST_LOOP_1M_N changes the million (0 skips the test).
set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

[[ ${CR_TEST_LOOP_1M_N:-1} != 0 ]] || cr_skip "CR_TEST_LOOP_1M_N=0"
cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util openssl setpriv sqlite3
CLIENT=$CR_BUILD/bench/revoke-client
[[ -x $CLIENT ]] || cr_die "no $CLIENT: make unit-tests first"

ADMIN=1001
PREFILLED=${CR_TEST_LOOP_1M_N:-1000000}
BOUND_MS=20
# AddressSanitizer and UBSan make every call some three times slower (a
# ListUsers at rest takes up to 30 ms under them here): the bound is the
# production build's, scaled alike.
[[ ${CR_ASAN:-0} != 1 ]] || BOUND_MS=60
INTERVAL_MS=5
TAIL_MS=500

cr_world_init
cr_pam_init
cr_pam_password boss boss-confirm
cr_add_passwd cr-boss $ADMIN
CR_KEY_TYPE=ec cr_cert_issue "$CR_CA" target "Target User" "$CR_PAST" "$CR_LATER" "$CR_CERTS/target.pem"
CR_KEY_TYPE=ec cr_cert_issue "$CR_CA" target2 "Second Target" "$CR_PAST" "$CR_LATER" "$CR_CERTS/target2.pem"

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN >/dev/null
cr_ctl add-user target "Target User" general 2001 >/dev/null
cr_ctl import-cert target "$CR_CERTS/target.pem" >/dev/null
cr_ctl add-user target2 "Second Target" general 2002 >/dev/null
cr_ctl import-cert target2 "$CR_CERTS/target2.pem" >/dev/null
cr_wait_first_crl
cr_stop_daemon

t0=$(date +%s%N)
cr_store_fill_revoked "$PREFILLED" "$CR_CA"
# a CRL is due at once: the start builds one that lists them all
sqlite3 "$CR_TMP/state/store.db" "UPDATE crl_state SET this_update_usec = 0"
t1=$(date +%s%N)
CR_DAEMON_TIMEOUT=300
cr_start_daemon
for ((i = 0; i < 3000; i++)); do
        grep -q "published with $PREFILLED entries" "$CR_TMP/daemon.log" && break
        sleep 0.1
done
grep -q "published with $PREFILLED entries" "$CR_TMP/daemon.log" ||
        cr_die "no CRL of the $PREFILLED entries within 300 s" "$(tail -n 20 "$CR_TMP/daemon.log")"
t2=$(date +%s%N)
cr_log "filled $PREFILLED entries in $(((t1 - t0) / 1000000)) ms; the start published their CRL $(((t2 - t1) / 1000000)) ms later"

# the loop at rest, for comparison
mkfifo "$CR_TMP/probe.in"
DBUS_SYSTEM_BUS_ADDRESS=$CR_BUS_ADDRESS "$CLIENT" probe $INTERVAL_MS <"$CR_TMP/probe.in" >"$CR_TMP/probe.out" 2>&1 &
probe=$!
cr_track $probe
exec 3>"$CR_TMP/probe.in"
sleep 1
exec 3>&-
wait $probe || cr_fail_at "the probe at rest failed" "$(cat "$CR_TMP/probe.out")"
cr_untrack $probe
cr_log "ListUsers at rest for 1 s: $(cat "$CR_TMP/probe.out")"

# one more revocation, and ListUsers throughout its build: the worst
# answer in ms, or the test fails for another reason
during() {
        local login=$1 before result crl_ms
        before=$(cr_crl_number)
        result=$(cr_as $ADMIN env DBUS_SYSTEM_BUS_ADDRESS="$CR_BUS_ADDRESS" "$CLIENT" during boss-confirm "$login" \
                $INTERVAL_MS "$CR_PUB/crl.der" $TAIL_MS 2>&1) || cr_fail_at "the revocation or a ListUsers failed" "$result"
        cr_log "ListUsers during the revocation of $login beside $PREFILLED entries: $result"
        assert_eq 's "revoked"' "$(cr_user_prop "$login" CertificateState)" "$login's certificate after the revocation"
        (($(cr_crl_number) > before)) || cr_fail_at "no CRL above number $before after the revocation"
        crl_ms=$(value "$result" crl_ms)
        [[ $crl_ms != -* ]] || cr_fail_at "crl.der was not written after the revocation was sent" "$result"
        (($(value "$result" in_build) >= 3)) ||
                cr_fail_at "too few ListUsers were sent before crl.der was written to judge the build" "$result"
        LAST_RESULT=$result
        value "$result" max_ms >"$CR_TMP/max_ms"
}
value() {
        sed -n "s/.*\\b$2=\\([0-9.-]*\\).*/\\1/p" <<<"$1"
}

during target
max_ms=$(cat "$CR_TMP/max_ms")
if ((${max_ms%.*} >= BOUND_MS)); then
        cr_log "over the bound once (${max_ms} ms): the second chance"
        during target2
        max_ms=$(cat "$CR_TMP/max_ms")
fi
((${max_ms%.*} < BOUND_MS)) ||
        cr_fail_at "ListUsers waited ${max_ms} ms (bound ${BOUND_MS} ms) during a build beside $PREFILLED entries" \
                "$LAST_RESULT"
cr_stop_daemon
echo "loop-1m OK"
