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
# Off unless CR_TEST_LOOP_1M=1: it fails until nothing that grows with the
# number of entries runs on the event loop any more (the bookkeeping after
# a build did, 170 ms at 100k).  CR_TEST_LOOP_1M_N changes the million.
set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

[[ ${CR_TEST_LOOP_1M:-0} == 1 ]] ||
        cr_skip "set CR_TEST_LOOP_1M=1 to run it (the event loop still stalls during a build at 1M entries)"
cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util openssl setpriv sqlite3
CLIENT=$CR_BUILD/bench/revoke-client
[[ -x $CLIENT ]] || cr_die "no $CLIENT: make unit-tests first"

ADMIN=1001
PREFILLED=${CR_TEST_LOOP_1M_N:-1000000}
BOUND_MS=20
INTERVAL_MS=5
TAIL_MS=500

cr_world_init
cr_pam_init
cr_pam_password boss boss-confirm
cr_add_passwd cr-boss $ADMIN
CR_KEY_TYPE=ec cr_cert_issue "$CR_CA" target "Target User" "$CR_PAST" "$CR_LATER" "$CR_CERTS/target.pem"

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN >/dev/null
cr_ctl add-user target "Target User" general 2001 >/dev/null
cr_ctl import-cert target "$CR_CERTS/target.pem" >/dev/null
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

# one more revocation, and ListUsers throughout its build
before=$(cr_crl_number)
result=$(cr_as $ADMIN env DBUS_SYSTEM_BUS_ADDRESS="$CR_BUS_ADDRESS" "$CLIENT" during boss-confirm target \
        $INTERVAL_MS "$CR_PUB/crl.der" $TAIL_MS 2>&1) || cr_fail_at "the revocation or a ListUsers failed" "$result"
cr_log "ListUsers during the revocation beside $PREFILLED entries: $result"
value() {
        sed -n "s/.*\\b$1=\\([0-9.-]*\\).*/\\1/p" <<<"$result"
}
assert_eq 's "revoked"' "$(cr_user_prop target CertificateState)" "target's certificate after the revocation"
(($(cr_crl_number) > before)) || cr_fail_at "no CRL above number $before after the revocation"
crl_ms=$(value crl_ms)
[[ $crl_ms != -* ]] || cr_fail_at "crl.der was not written after the revocation was sent" "$result"
(($(value in_build) >= 3)) ||
        cr_fail_at "too few ListUsers were sent before crl.der was written to judge the build" "$result"
max_ms=$(value max_ms)
((${max_ms%.*} < BOUND_MS)) ||
        cr_fail_at "ListUsers waited ${max_ms} ms (bound ${BOUND_MS} ms) during a build beside $PREFILLED entries" \
                "$result"
cr_stop_daemon
echo "loop-1m OK"
