#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# The whole D-Bus surface of certrevoked against bad callers: every method
# of the Manager with every class of bad argument (empty, a megabyte, names
# that are no names, numbers past their bounds, the wrong signature) as root
# and as a master user, and every account action by a role that may not take
# it (general, worker, a UID that is no user, an admin on a master, the last
# master on itself).  After each case the daemon that started still answers,
# the error is the one the contract names, and the users, their
# properties, the CRL number, the confirmation file and the history (but
# for one row recording a refusal) are unchanged.  At least 400 cases in
# under a minute.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl setpriv flock
sweep=$CR_BUILD/tests/helpers/bus-sweep
[[ -x $sweep ]] || cr_die "$sweep not built: make unit-tests"
[[ $(id -u) == 0 ]] || cr_skip "needs root: the sweep calls as several UIDs"

cr_world_init
BOSS=1001 KANRI=1002 GINA=1003 WALT=1004 STRANGER=1009

cr_card gina "Gina"
cr_start_bus
cr_pam_init
cr_pam_password root 'R00t-Confirm#4821'
cr_pam_password boss 'Bx0-Confirm%2264'
cr_pam_password kanri 'Kx3-First!7390'
cr_start_daemon
cr_ctl add-user boss "Boss" master $BOSS
cr_ctl add-user kanri "Kanri" admin $KANRI
cr_ctl add-user gina "Gina" general $GINA
cr_ctl add-user walt "Walt" worker $WALT
cr_ctl rescan >/dev/null
cr_wait_first_crl
serial=$(cr_cert_serial "$CR_CERTS/gina.pem")
assert_eq 's "issued"' "$(cr_user_prop gina CertificateState)" "gina's certificate is there to be revoked"

cr_log "sweeping"
start=$(date +%s)
rc=0
"$sweep" --address="$CR_BUS_ADDRESS" --pid="$CR_DAEMON_PID" --confirm-file="$CR_TMP/state/confirm.shadow" \
        --serial="$serial" --uid=root:0 --uid=master:$BOSS --uid=admin:$KANRI --uid=general:$GINA \
        --uid=worker:$WALT --uid=stranger:$STRANGER >"$CR_TMP/sweep.out" 2>&1 || rc=$?
elapsed=$(($(date +%s) - start))
cat "$CR_TMP/sweep.out"
summary=$(grep '^sweep: [0-9]* cases' "$CR_TMP/sweep.out" || true)
[[ -n $summary ]] || cr_fail_at "the sweep did not finish" "$(tail -n 20 "$CR_TMP/daemon.log")"
assert_eq 0 "$rc" "every case ended as the contract says"
cases=$(sed -n 's/^sweep: \([0-9]*\) cases.*/\1/p' <<<"$summary")
((cases >= 400)) || cr_fail_at "only $cases cases (at least 400)"
((elapsed < 60)) || cr_fail_at "the sweep took ${elapsed}s (under a minute)"

cr_log "afterwards the daemon still serves and stops cleanly"
assert_eq 's "issued"' "$(cr_user_prop gina CertificateState)" "gina's certificate was not revoked by any case"
cr_stop_daemon
cr_log "ok: $summary"
