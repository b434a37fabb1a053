#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# A general user floods the service with expensive calls while a master
# revokes:
#
# - certrevokectl says Busy in words, with the time to wait, and exits 9,
#   in English and in Japanese (the general user has four calls under way,
#   each waiting out a PAM fail delay);
# - quiet first: the master revokes seven certificates one after another
#   and the general user changes their confirmation password once; the
#   median revocation time and the daemon's peak resident size (VmHWM,
#   which holds the hashing of a password) are the yardsticks;
# - then the general user floods (tests/flood-client.py): 200
#   ChangeConfirmationPassword calls at once and five loops of
#   ChangeConfirmationPassword and SetConfirmationPassword, bounded in
#   number and in time, while the master revokes seven more, one a second:
#   the median revocation takes at most twice the quiet one, and the
#   daemon's resident size (VmRSS sampled throughout, and its peak) stays
#   within twice the quiet peak;
# - the flood is answered Busy with a time to retry ("… try again in N s"),
#   and otherwise as without a flood: changes succeed, sets are
#   AccessDenied; a Busy changes nothing: the history holds exactly the
#   calls that were not Busy, no set reached the confirmation file, and no
#   password is in the daemon's log or store;
# - after the flood, once the time it names has passed, the general user
#   changes the password again, and the file holds the new one.
#
# The flood comes from one process with a connection per caller, so that
# what is measured is the service and not the starting of hundreds of
# client processes on a small machine.  The yardstick is the slower of the
# quiet medians before and after the flood, so that load from elsewhere on
# the machine does not count against the service.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon dbus-send busctl softhsm2-util pkcs11-tool openssl setpriv sqlite3 perl
cr_need_python
locale -a 2>/dev/null | grep -qix 'ja_JP.utf-\?8' || cr_skip "the ja_JP.UTF-8 locale is not installed"

cr_world_init
cr_pam_init
# AddressSanitizer keeps freed memory in quarantine and grows with every
# call: measure its daemon without one
if [[ $CR_ASAN == 1 ]]; then
        CR_DAEMON_ENV+=("ASAN_OPTIONS=$ASAN_OPTIONS:quarantine_size_mb=0:thread_local_quarantine_size_kb=0")
fi

BOSS=1001 GINA=1003
BOSS_PW='Bx0-Confirm%2264'
GINA_PW='Gn7-Confirm&9035'
WRONG_PW='Wr0ng-Guess-b8e6'
CHANGE_PW='Fl00d-Change#7391'
SET_PW='Fl00d-Set#2275'
AFTER_PW='Aft3r-Flood!5820'
SAMPLES=7
# The loops call for FLOOD_SECONDS, at most LOOP_CALLS times each.
LOOPS=5 LOOP_CALLS=2000 PARALLEL=200 FLOOD_SECONDS=10

# Targets: q1.. revoked in quiet, f1.. during the flood, a1.. after it.
targets=()
for phase in q f a; do
        for ((i = 1; i <= SAMPLES; i++)); do
                targets+=("$phase$i")
        done
done
for t in "${targets[@]}"; do
        CR_KEY_TYPE=ec cr_card "$t" "Target $t"
done
cr_pam_password boss "$BOSS_PW" certrevoke-slow
cr_pam_password gina "$GINA_PW" certrevoke-slow

# pam_matrix checks the confirmation; a change writes confirm.shadow, which
# the stack does not read, so that every change with GINA_PW succeeds.  A
# failure waits out pam_faildelay's delay, here 3 to 9 s: long enough to
# look at a caller with calls under way.
sed 's/delay=[0-9]*/delay=6000000/' "$CR_SRCDIR/tests/data/pam/certrevoke-delay" >"$CR_TMP/pam/certrevoke-slow"
grep -q 'delay=6000000' "$CR_TMP/pam/certrevoke-slow" || cr_die "no fail delay in the PAM stack"
cr_write_config "$CR_TMP/certrevoke.conf"
sed -i 's/^PAMService=.*/PAMService=certrevoke-slow/' "$CR_TMP/certrevoke.conf"
shadow=$CR_TMP/state/confirm.shadow

cr_start_bus
cr_start_daemon --debug
cr_ctl add-user boss "Boss" master $BOSS
cr_ctl add-user gina "Gina" general $GINA
for ((i = 0; i < ${#targets[@]}; i++)); do
        cr_ctl add-user "${targets[i]}" "Target ${targets[i]}" general $((2000 + i))
done
assert_exit 0 cr_ctl rescan
assert_eq "${#targets[@]} certificates seen" "$CR_LAST_OUTPUT"
cr_wait_first_crl
pid=$CR_DAEMON_PID

# ---- local helpers

now_ms() {
        echo $(($(date +%s%N) / 1000000))
}

# status_kb FIELD: VmRSS or VmHWM of the daemon, in kB.
status_kb() {
        local v
        v=$(awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/status")
        [[ $v =~ ^[0-9]+$ ]] || cr_fail_at "no $1 for the daemon ($pid)"
        echo "$v"
}

# revoke_ms LOGIN: the master revokes LOGIN's certificate; prints the
# milliseconds the call took.
revoke_ms() {
        local t0 out
        t0=$(now_ms)
        out=$(cr_revoke_as $BOSS "$1" "" keyCompromise "$BOSS_PW" 2>&1) || true
        [[ $out == "(sss) \"$1\" \"Target $1\" \"revoked\"" ]] || cr_fail_at "the master's revocation of $1: $out"
        echo $(($(now_ms) - t0))
}

median() {
        printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"
}

# call_as UID MEMBER ARGS…: a Manager call through dbus-send; prints "ok", or
# the first line of the error ("Error NAME: MESSAGE").
call_as() {
        local uid=$1 member=$2 out
        shift 2
        out=$(cr_as "$uid" dbus-send --bus="$CR_BUS_ADDRESS" --print-reply --reply-timeout=60000 \
                --dest=org.certrevoke1 /org/certrevoke1 "org.certrevoke1.Manager.$member" "$@" 2>&1) || true
        if [[ $out == "method return"* ]]; then
                echo ok
        else
                echo "${out%%$'\n'*}"
        fi
}

change_as_gina() {
        call_as $GINA ChangeConfirmationPassword "string:$1" "string:$2"
}

history_count() {
        sqlite3 "$CR_TMP/state/store.db" \
                "SELECT count(*) FROM history WHERE actor = 'gina' AND action = '$1' AND result = '$2'"
}

# wait_log_count PATTERN N: waits up to 10 s for N lines of the daemon's
# log that match PATTERN.
wait_log_count() {
        local i
        for ((i = 0; i < 100; i++)); do
                (($(grep -c -- "$1" "$CR_TMP/daemon.log" || true) >= $2)) && return 0
                sleep 0.1
        done
        cr_fail_at "fewer than $2 lines '$1' in the daemon's log" "$(tail -n 20 "$CR_TMP/daemon.log")"
}

# ---- certrevokectl in words: four wrong passwords wait out their delay,
# so gina has as many calls under way as one caller may

log_failed=$(grep -c 'auth: gina through PAM: failed' "$CR_TMP/daemon.log" || true)
wrong_pids=()
for i in 1 2 3 4; do
        change_as_gina "$WRONG_PW-$i" "$CHANGE_PW" >"$CR_TMP/wrong-$i.out" &
        wrong_pids+=($!)
        cr_track $!
done
wait_log_count 'auth: gina through PAM: failed' $((log_failed + 4))
assert_exit 9 cr_ctl_as $GINA --password-stdin passwd <<<"$GINA_PW
$CHANGE_PW
$CHANGE_PW"
assert_contains "$CR_LAST_OUTPUT" "The service is busy; try again in 1 second." "certrevokectl passwd while four calls are under way"
LC_ALL=ja_JP.UTF-8 assert_exit 9 cr_ctl_as $GINA --password-stdin passwd <<<"$GINA_PW
$CHANGE_PW
$CHANGE_PW"
assert_contains "$CR_LAST_OUTPUT" "サービスが混雑しています。1 秒後に再試行してください。" "the same in Japanese"
for p in "${wrong_pids[@]}"; do
        wait "$p"
        cr_untrack "$p"
done
for i in 1 2 3 4; do
        assert_contains "$(cat "$CR_TMP/wrong-$i.out")" "Error org.certrevoke1.Error.AuthenticationFailed" "wrong password $i"
done
assert_eq 0 "$(history_count change-confirmation-password ok)" "no change while Busy"
[[ ! -e $shadow ]] || assert_eq "" "$(cat "$shadow")" "the confirmation file after Busy"

# ---- quiet

assert_eq ok "$(change_as_gina "$GINA_PW" "$CHANGE_PW")" "gina's change in quiet"
quiet=()
for ((i = 1; i <= SAMPLES; i++)); do
        quiet+=("$(revoke_ms "q$i")")
done
quiet_ms=$(median "${quiet[@]}")
quiet_kb=$(status_kb VmHWM)
cr_log "quiet: revocations ${quiet[*]} ms, median $quiet_ms ms; peak resident size $quiet_kb kB"

# ---- the flood

mkdir -p "$CR_TMP/flood"
sample_rss() {
        while [[ ! -e $CR_TMP/flood/stop ]]; do
                status_kb VmRSS
                sleep 0.05
        done >"$CR_TMP/flood/rss"
}
sample_rss &
sampler=$!
cr_track $sampler
cr_as $GINA "$CR_PYTHON" "$CR_SRCDIR/tests/flood-client.py" --bus="$CR_BUS_ADDRESS" \
        --old="$GINA_PW" --new="$CHANGE_PW" --set-login=boss --set-password="$SET_PW" \
        --parallel=$PARALLEL --loops=$LOOPS --calls=$LOOP_CALLS --seconds=$FLOOD_SECONDS \
        >"$CR_TMP/flood/replies" 2>"$CR_TMP/flood/client.log" &
flooder=$!
cr_track $flooder
t_flood=$(now_ms)

# about one revocation a second while the flood lasts, the first at once
flooded=()
for ((i = 1; i <= SAMPLES; i++)); do
        ((i == 1)) || sleep "1.$((RANDOM % 4))"
        flooded+=("$(revoke_ms "f$i")")
done
flood_ms=$(median "${flooded[@]}")
during_kb=$(status_kb VmRSS)

rc=0
wait $flooder || rc=$?
cr_untrack $flooder
assert_eq 0 "$rc" "the flood's client: $(cat "$CR_TMP/flood/client.log")"
touch "$CR_TMP/flood/stop"
wait $sampler || true
cr_untrack $sampler
flood_kb=$(status_kb VmHWM)
sampled_kb=$(sort -n "$CR_TMP/flood/rss" | tail -n1)
cr_log "flood: revocations ${flooded[*]} ms, median $flood_ms ms; resident size $during_kb kB during, at most $sampled_kb kB sampled, peak $flood_kb kB; over after $(($(now_ms) - t_flood)) ms"

# ---- the master was not starved, and the daemon did not grow

after=()
for ((i = 1; i <= SAMPLES; i++)); do
        after+=("$(revoke_ms "a$i")")
done
after_ms=$(median "${after[@]}")
yardstick=$((quiet_ms > after_ms ? quiet_ms : after_ms))
cr_log "after: revocations ${after[*]} ms, median $after_ms ms; yardstick $yardstick ms"
((flood_ms <= 2 * yardstick)) ||
        cr_fail_at "a revocation took $flood_ms ms during the flood (median of ${flooded[*]}), more than twice the $yardstick ms without"
((sampled_kb <= 2 * quiet_kb && flood_kb <= 2 * quiet_kb)) ||
        cr_fail_at "the daemon grew to $sampled_kb kB (peak $flood_kb kB) during the flood, more than twice its quiet $quiet_kb kB"

# ---- what the flood was answered

replies=$(cat "$CR_TMP/flood/replies")
n_replies=$(grep -c . <<<"$replies")
((n_replies >= PARALLEL + LOOPS * 2)) || cr_fail_at "only $n_replies replies to the flood"
busy=$(grep -c '^[a-z]* Error org.certrevoke1.Error.Busy: ' <<<"$replies" || true)
changed=$(grep -c '^change ok$' <<<"$replies" || true)
denied=$(grep -c '^set Error org.freedesktop.DBus.Error.AccessDenied: ' <<<"$replies" || true)
cr_log "flood: $n_replies calls, $busy Busy, $changed changes, $denied sets refused"
((busy > 0)) || cr_fail_at "no Busy for a flood of $n_replies calls"
bad_busy=$(grep '^[a-z]* Error org.certrevoke1.Error.Busy: ' <<<"$replies" | grep -v ': try again in [1-9][0-9]* s$' || true)
assert_eq "" "$bad_busy" "every Busy names when to try again"
((changed > 0)) || cr_fail_at "no change of the flood went through"
assert_eq "$n_replies" "$((busy + changed + denied))" "the flood got only Busy, success and AccessDenied: $(
        grep -v -e '^change ok$' -e ' Error org.certrevoke1.Error.Busy: ' -e '^set Error org.freedesktop.DBus.Error.AccessDenied: ' \
                <<<"$replies" | sort | uniq -c)"

# Busy changed nothing: the history has a row for every other answer only
assert_eq "$((changed + 1))" "$(history_count change-confirmation-password ok)" "changes in the history"
assert_eq "$denied" "$(history_count set-confirmation-password denied)" "refused sets in the history"
assert_eq 0 "$(history_count set-confirmation-password ok)" "sets in the history"
assert_eq "gina" "$(cut -d: -f1 "$shadow")" "the confirmation file has gina's line only"

# ---- afterwards gina changes the password, once the time named has passed

reply=
for _ in {1..20}; do
        reply=$(change_as_gina "$GINA_PW" "$AFTER_PW")
        [[ $reply == "Error org.certrevoke1.Error.Busy: "* ]] || break
        n=${reply##*try again in }
        sleep "${n% s}"
done
assert_eq ok "$reply" "gina's change after the flood"
hash=$(sed -n 's/^gina:\([^:]*\):.*/\1/p' "$shadow")
assert_eq 1 "$(PW="$AFTER_PW" H="$hash" perl -e 'print crypt($ENV{PW}, $ENV{H}) eq $ENV{H} ? 1 : 0')" \
        "the confirmation file holds the password given after the flood"

cr_stop_daemon

# ---- no password in the log or the store
assert_no_password "$BOSS_PW" "$GINA_PW" "$WRONG_PW" "$CHANGE_PW" "$SET_PW" "$AFTER_PW"
echo "flood OK"
