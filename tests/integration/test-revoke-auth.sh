#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# The confirmation password of RevokeCertificate, checked through PAM
# (pam_wrapper with pam_matrix): a wrong one is AuthenticationFailed, changes
# nothing and is written to the history as a failed confirm; after five
# failures in a row the sixth call is RateLimited even with the right
# password, and stays so across a daemon restart, for that user only.  A PAM
# stack that fails with a 2 s delay holds only its own caller: the bus keeps
# answering meanwhile, and failures running side by side are not queued
# behind one another.  No password ever reaches the daemon's log or store.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon dbus-send busctl softhsm2-util pkcs11-tool openssl setpriv sqlite3
cr_need_python

cr_world_init
cr_pam_init

ADMIN=1001 OTHER_ADMIN=1002 SLOW_ADMIN=1003 BURST_ADMIN=1007

# Failures that need not stop the rest of the test; reported at the end.
late_failures=()

# Every password this test hands the daemon, right or wrong: none of them
# may be found in its log or its store afterwards.
good=Conf1rm-Boss-7a3f
good_other=Conf1rm-Olive-5c2e
good_slow=Conf1rm-Sloane-9d41
good_burst=Conf1rm-Pat-3e07
wrong=Wr0ng-Guess-b8e6
wrongs=()

# ---- local helpers

# now_ms: the monotonic-enough wall clock in milliseconds.
now_ms() {
        echo $(($(date +%s%N) / 1000000))
}

cr_card gina "Gina General"
cr_card gene "Gene General"
cr_card gwen "Gwen General"
cr_card gail "Gail General"
cr_pam_password boss "$good"
cr_pam_password olive "$good_other"
cr_pam_password sloane "$good_slow" certrevoke-delay
cr_pam_password pat "$good_burst" certrevoke-delay

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN
cr_ctl add-user olive "Olive Admin" admin $OTHER_ADMIN
cr_ctl add-user sloane "Sloane Admin" admin $SLOW_ADMIN
cr_ctl add-user pat "Pat Admin" admin $BURST_ADMIN
cr_ctl add-user gina "Gina General" general 1004
cr_ctl add-user gene "Gene General" general 1005
cr_ctl add-user gwen "Gwen General" general 1006
cr_ctl add-user gail "Gail General" general 1008
assert_exit 0 cr_ctl rescan
cr_wait_first_crl
n0=$(cr_crl_number)
crl_before=$(sha256sum <"$CR_PUB/crl.der")
gina_serial=$(cr_cert_serial "$CR_CERTS/gina.pem")

# ---- a wrong password: AuthenticationFailed, nothing changes, a failed confirm in the history
assert_revoke_refused org.certrevoke1.Error.AuthenticationFailed $ADMIN gina "$gina_serial" keyCompromise "$wrong"
assert_contains "$CR_LAST_OUTPUT" "confirmation password of boss is wrong" "the message the admin sees"
assert_exit 1 cr_revoke_as $ADMIN gina "$gina_serial" keyCompromise "$wrong"
assert_contains "$CR_LAST_OUTPUT" "confirmation password of boss is wrong" "what busctl shows"
# the login password of someone else is no confirmation password either
assert_revoke_refused org.certrevoke1.Error.AuthenticationFailed $ADMIN gina "$gina_serial" keyCompromise "$good_other"
assert_eq 's "issued"' "$(cr_user_prop gina CertificateState)" "gina after failed confirmations"
assert_eq 't 0' "$(cr_user_prop gina RevokedAt)"
assert_eq 's ""' "$(cr_user_prop gina CertificateRemoval)"
assert_eq "$n0" "$(cr_crl_number)" "no CRL after failed confirmations"
assert_eq "$crl_before" "$(sha256sum <"$CR_PUB/crl.der")" "the CRL is untouched"
assert_eq "gina certificate" "$(cr_token_list_certs card-gina-01)" "gina's card keeps its certificate"
hist=$(cr_history)
assert_eq 3 "$(grep -c '^boss confirm gina failed$' <<<"$hist")" "three failed confirms in the history"
assert_not_contains "$hist" "boss revoke gina ok" "no revocation in the history"

# ---- the right password resets the count
assert_exit 0 cr_revoke_as $ADMIN gina "$gina_serial" keyCompromise "$good"
assert_eq '(sss) "gina" "Gina General" "revoked"' "$CR_LAST_OUTPUT"
assert_contains "$(cr_history)" "boss revoke gina ok"

# ---- five failures in a row lock boss out: the sixth is RateLimited, right password or not
for i in 1 2 3 4 5; do
        wrongs+=("$wrong-$i")
        assert_revoke_refused org.certrevoke1.Error.AuthenticationFailed $ADMIN gene "" superseded "$wrong-$i"
done
assert_revoke_refused org.certrevoke1.Error.RateLimited $ADMIN gene "" superseded "$good"
assert_contains "$CR_LAST_OUTPUT" "too many failed confirmations by boss" "the message of RateLimited"
assert_revoke_refused org.certrevoke1.Error.RateLimited $ADMIN gene "" superseded "$wrong"
assert_exit 1 cr_revoke_as $ADMIN gene "" superseded "$good"
assert_contains "$CR_LAST_OUTPUT" "try again in" "what busctl shows when rate limited"
assert_eq 's "issued"' "$(cr_user_prop gene CertificateState)" "gene is not revoked while boss is locked"
hist=$(cr_history)
assert_eq 5 "$(grep -c '^boss confirm gene failed$' <<<"$hist")" "five failed confirms"
assert_eq 3 "$(grep -c '^boss revoke gene rate-limited$' <<<"$hist")" "three rate-limited calls"
# another administrator is not locked out
assert_exit 0 cr_revoke_as $OTHER_ADMIN gwen "" superseded "$good_other"
assert_eq '(sss) "gwen" "Gwen General" "revoked"' "$CR_LAST_OUTPUT"

# ---- the lock survives a restart
cr_stop_daemon
cr_start_daemon
assert_revoke_refused org.certrevoke1.Error.RateLimited $ADMIN gene "" superseded "$good"
assert_eq 's "issued"' "$(cr_user_prop gene CertificateState)" "gene after the restart"
assert_revoke_refused org.certrevoke1.Error.NotRevocable $OTHER_ADMIN gwen "" superseded "$good_other"

# ---- a PAM stack that fails with a 2 s delay does not stall the bus
cr_stop_daemon
sed -i 's/^PAMService=.*/PAMService=certrevoke-delay/' "$CR_TMP/certrevoke.conf"
assert_contains "$(cat "$CR_TMP/certrevoke.conf")" "PAMService=certrevoke-delay"
# --debug: the daemon logs the fail delay PAM asked for (Linux-PAM draws it
# at random around the configured 2 s, between 1 s and 3 s)
cr_start_daemon --debug
log_lines=$(wc -l <"$CR_TMP/daemon.log")
wrongs+=("$wrong-slow-1" "$wrong-slow-2" "$wrong-slow-3")
t0=$(now_ms)
for i in 1 2 3; do
        cr_revoke_send $SLOW_ADMIN gene "" superseded "$wrong-slow-$i" >"$CR_TMP/slow-$i.out" 2>&1 &
        slow[i]=$!
        cr_track "${slow[i]}"
done
sleep 0.3
# while those wait out their delay, the bus and the daemon answer
t1=$(now_ms)
assert_exit 0 cr_as $SLOW_ADMIN busctl --address="$CR_BUS_ADDRESS" call org.certrevoke1 /org/certrevoke1 \
        org.certrevoke1.Manager ListUsers
t2=$(now_ms)
assert_contains "$CR_LAST_OUTPUT" '"gene"' "ListUsers answered"
((t2 - t1 < 500)) || cr_fail_at "ListUsers took $((t2 - t1)) ms while PAM failures were delayed"
assert_eq 's "issued"' "$(cr_user_prop gene CertificateState)"
for i in 1 2 3; do
        rc=0
        wait "${slow[i]}" || rc=$?
        cr_untrack "${slow[i]}"
        assert_eq 1 "$rc" "the delayed failure $i"
        assert_contains "$(cat "$CR_TMP/slow-$i.out")" "Error org.certrevoke1.Error.AuthenticationFailed"
done
t3=$(now_ms)
delays=$(tail -n +"$((log_lines + 1))" "$CR_TMP/daemon.log" |
        sed -n 's/.*auth: sloane through PAM: failed, fail delay \([0-9]*\) .*/\1/p')
assert_eq 3 "$(wc -l <<<"$delays")" "three delayed failures in the log: $(cat "$CR_TMP/daemon.log")"
min_ms=$(sort -n <<<"$delays" | head -n1) min_ms=$((min_ms / 1000))
max_ms=$(sort -n <<<"$delays" | tail -n1) max_ms=$((max_ms / 1000))
((min_ms >= 900)) || cr_fail_at "PAM asked for a fail delay of only $min_ms ms"
# each waits its own delay, side by side: about one delay in all, not three
((t3 - t0 >= min_ms)) || cr_fail_at "the failures came back after $((t3 - t0)) ms: the fail delay ($min_ms ms) was skipped"
((t3 - t0 < max_ms + 1000)) ||
        cr_fail_at "three delayed failures took $((t3 - t0)) ms for delays up to $max_ms ms: they were queued"
t4=$(now_ms)
assert_exit 0 cr_revoke_as $SLOW_ADMIN gene "" superseded "$good_slow"
t5=$(now_ms)
assert_eq '(sss) "gene" "Gene General" "revoked"' "$CR_LAST_OUTPUT"
((t5 - t4 < 1500)) || cr_fail_at "a right password through the delay stack took $((t5 - t4)) ms"
assert_eq 3 "$(cr_history | grep -c '^sloane confirm gene failed$')" "the delayed failures are in the history"

# ---- guesses sent side by side are held to the same limit: at most five
# of them are checked by PAM, the others are RateLimited, or Busy beyond
# the calls one caller may have under way, however many are in flight
# (each failure here takes its 1-3 s delay before it is counted)
for i in {1..12}; do
        wrongs+=("$wrong-burst-$i")
        cr_revoke_send $BURST_ADMIN gail "" superseded "$wrong-burst-$i" >"$CR_TMP/burst-$i.out" 2>&1 &
        burst[i]=$!
        cr_track "${burst[i]}"
done
for i in {1..12}; do
        wait "${burst[i]}" || true
        cr_untrack "${burst[i]}"
done
failed=$(cat "$CR_TMP"/burst-*.out | grep -c 'Error org.certrevoke1.Error.AuthenticationFailed' || true)
limited=$(cat "$CR_TMP"/burst-*.out | grep -c 'Error org.certrevoke1.Error.RateLimited' || true)
busy=$(cat "$CR_TMP"/burst-*.out | grep -c 'Error org.certrevoke1.Error.Busy' || true)
assert_eq 12 "$((failed + limited + busy))" "every guess of the burst was refused: $(cat "$CR_TMP"/burst-*.out)"
assert_eq 's "issued"' "$(cr_user_prop gail CertificateState)" "gail after the burst"
checked=$(cr_history | grep -c '^pat confirm gail failed$' || true)
((checked <= 5 && failed <= 5)) ||
        late_failures+=("$failed of 12 guesses sent at once were checked by PAM ($checked in the history) and answered AuthenticationFailed, $limited RateLimited: the limit of 5 failures is not kept")
# what Busy turned away never reached PAM: more guesses, one after another,
# end in the lock all the same
for i in {1..5}; do
        wrongs+=("$wrong-more-$i")
        cr_revoke_send $BURST_ADMIN gail "" superseded "$wrong-more-$i" >"$CR_TMP/more.out" 2>&1 || true
        grep -q 'Error org.certrevoke1.Error.RateLimited' "$CR_TMP/more.out" && break
done
assert_revoke_refused org.certrevoke1.Error.RateLimited $BURST_ADMIN gail "" superseded "$good_burst"

cr_stop_daemon

# ---- no password in the log or the store (database, WAL, anything there)
for pw in "$good" "$good_other" "$good_slow" "$good_burst" "$wrong" "${wrongs[@]}"; do
        for f in "$CR_TMP"/*.log "$CR_TMP"/state/*; do
                [[ -f $f ]] || continue
                if grep -qaF -- "$pw" "$f"; then
                        cr_fail_at "the password '$pw' is in $f"
                fi
        done
        # the password's prefix alone, in case it was cut
        ! grep -qaF -- "${pw:0:8}" "$CR_TMP/daemon.log" || cr_fail_at "a part of '$pw' is in the daemon log"
done
assert_exit 0 sqlite3 "$CR_TMP/state/store.db" "PRAGMA integrity_check"
if ((${#late_failures[@]})); then
        printf 'FAILED: %s\n' "${late_failures[@]}" >&2
        exit 1
fi
echo "revoke auth OK"
