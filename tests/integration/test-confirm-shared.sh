#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# Confirmations of one login with the same password share one PAM check:
# the same login and the same password are one guess.  Through real PAM
# (pam_wrapper) with a stack whose first module, pam_exec, writes a line per
# run and then takes its time, so that calls sent together overlap a check:
#
# - twenty revocations sent at once with the right password all succeed,
#   each with its own confirm and revoke rows in the history, while PAM ran
#   fewer than twenty times;
# - eight calls at once with the same wrong password are all answered
#   AuthenticationFailed, each with its own failed row, but the guess is
#   counted once: the login is not locked and the right password works
#   right after;
# - right and wrong passwords at once, among them the right one with a byte
#   more and with a byte less: each call gets its own answer;
# - six different wrong guesses at once lock the login as before: five are
#   checked and fail, the sixth is RateLimited, and so is the right password
#   afterwards;
# - every PAM run happens at nice 5 as a batch task, so that the helpers do
#   not take the CPU from the service's event loop;
# - a PAM stack that cannot decide: every call sharing the check is told
#   the password could not be checked;
# - a call sharing the check of a caller who hung up still gets its answer;
# - no password reaches the daemon's log or store.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon dbus-send busctl softhsm2-util pkcs11-tool openssl setpriv sqlite3
cr_need_python
[[ -f /lib/x86_64-linux-gnu/security/pam_exec.so || -f /usr/lib/x86_64-linux-gnu/security/pam_exec.so ]] ||
        cr_skip "pam_exec.so is not installed"

cr_world_init
cr_pam_init
mkdir -p "$CR_TMP/replies"

BOSS=1001 DORA=1002 GUS=1003 FAY=1004
N=32
good=Conf1rm-Boss-4b7e
good_dora=Conf1rm-Dora-61c2
good_gus=Conf1rm-Gus-0d9a
good_fay=Conf1rm-Fay-e5f3
wrong=Wr0ng-Same-c3a1
passwords=("$good" "$good_dora" "$good_gus" "$good_fay" "$wrong")

# ---- the PAM stack: a line per run in pam-runs (the login), then a pause
# of pam-sleep seconds; a failure waits out pam_faildelay's 1-3 s
cat >"$CR_TMP/pam-trace" <<EOF
#!/bin/sh
echo "\$PAM_USER" >>"$CR_TMP/pam-runs"
# nice and scheduling policy, as the helper that runs this has them
awk '{ print \$19, \$41 }' /proc/\$\$/stat >>"$CR_TMP/pam-sched"
sleep "\$(cat "$CR_TMP/pam-sleep")"
EOF
chmod 0755 "$CR_TMP/pam-trace"
: >"$CR_TMP/pam-runs"
: >"$CR_TMP/pam-sched"
chmod 0666 "$CR_TMP/pam-runs" "$CR_TMP/pam-sched"
echo 0.3 >"$CR_TMP/pam-sleep"
matrix=$(grep -v '^#' "$CR_SRCDIR/tests/data/pam/certrevoke")
# write_stack [EXTRA-LINE]: the stack, with EXTRA-LINE after the trace
write_stack() {
        {
                echo "auth     required  pam_exec.so quiet $CR_TMP/pam-trace"
                [[ -z ${1:-} ]] || echo "$1"
                echo "auth     optional  pam_faildelay.so delay=2000000"
                echo "$matrix"
        } >"$CR_TMP/pam/certrevoke"
}
write_stack

# runs LOGIN: how many times the stack ran for LOGIN so far
runs() {
        grep -c "^$1\$" "$CR_TMP/pam-runs" || true
}

# failures LOGIN: the failed confirmations the store counts for LOGIN
failures() {
        sqlite3 "$CR_TMP/state/store.db" "SELECT coalesce(max(failures), 0) FROM auth_failures WHERE login_id = '$1'"
}

# ---- thirty-two users, eight to a card
cr_shared_cards 't%02d' "$N" 8
cr_pam_password boss "$good"
cr_pam_password dora "$good_dora"
cr_pam_password gus "$good_gus"
cr_pam_password fay "$good_fay"

cr_start_bus
# --debug: the daemon says when a call shares a check under way
cr_start_daemon --debug
cr_ctl add-user boss "Boss Admin" admin $BOSS
cr_ctl add-user dora "Dora Admin" admin $DORA
cr_ctl add-user gus "Gus Admin" admin $GUS
cr_ctl add-user fay "Fay Admin" admin $FAY
for ((i = 1; i <= N; i++)); do
        cr_ctl add-user "$(printf 't%02d' "$i")" "User $i" general $((2000 + i))
done
assert_exit 0 cr_ctl rescan
assert_eq "$N certificates seen" "$CR_LAST_OUTPUT"
cr_wait_first_crl

# send UID I PASSWORD: RevokeCertificate of tI as UID in the background,
# through dbus-send (which names the error); the answer in replies/tI.
pids=()
send() {
        local login
        login=$(printf 't%02d' "$2")
        cr_revoke_send "$1" "$login" "$(cr_cert_serial "$CR_CERTS/$login.pem")" keyCompromise "$3" \
                >"$CR_TMP/replies/$login" 2>&1 &
        pids+=($!)
        cr_track $!
}
wait_all() {
        local p
        for p in "${pids[@]}"; do
                wait "$p" || true
                cr_untrack "$p"
        done
        pids=()
}
reply() {
        cat "$CR_TMP/replies/$(printf 't%02d' "$1")"
}
assert_revoked() {
        local login
        login=$(printf 't%02d' "$1")
        assert_contains "$(reply "$1")" "string \"revoked\"" "the reply to $login's revocation: $(reply "$1")"
        assert_eq 's "revoked"' "$(cr_user_prop "$login" CertificateState)" "$login"
}
assert_refused() {
        local login
        login=$(printf 't%02d' "$2")
        assert_contains "$(reply "$2")" "Error $1" "the reply to $login's revocation"
        assert_eq 's "issued"' "$(cr_user_prop "$login" CertificateState)" "$login"
}
history_count() {
        cr_history | grep -c "^$1\$" || true
}

# ---- (a) twenty at once with the right password: one answer each, fewer PAM runs
for ((i = 1; i <= 20; i++)); do
        send $BOSS "$i" "$good"
done
wait_all
for ((i = 1; i <= 20; i++)); do
        assert_revoked "$i"
done
hist=$(cr_history)
assert_eq 20 "$(grep -c '^boss confirm t[0-9]* ok$' <<<"$hist")" "a confirm row for each of the twenty"
assert_eq 20 "$(grep -c '^boss revoke t[0-9]* ok$' <<<"$hist")" "a revoke row for each of the twenty"
n=$(runs boss)
cr_log "twenty right confirmations at once: PAM ran $n times"
((n >= 1 && n < 20)) || cr_fail_at "PAM ran $n times for twenty confirmations with one password sent at once"

# ---- (b) eight at once with the same wrong password: one guess
for ((i = 21; i <= 28; i++)); do
        send $BOSS "$i" "$wrong"
done
wait_all
for ((i = 21; i <= 28; i++)); do
        assert_refused org.certrevoke1.Error.AuthenticationFailed "$i"
        assert_contains "$(reply "$i")" "confirmation password of boss is wrong"
done
assert_eq 8 "$(cr_history | grep -c '^boss confirm t2[1-8] failed$')" "a failed row for each of the eight"
f=$(failures boss)
cr_log "eight equal wrong guesses at once: counted as $f failures"
((f >= 1 && f < 5)) || cr_fail_at "eight calls with one wrong password count as $f failures"
assert_exit 0 cr_revoke_as $BOSS t21 "$(cr_cert_serial "$CR_CERTS/t21.pem")" keyCompromise "$good"
assert_eq '(sss) "t21" "User 21" "revoked"' "$CR_LAST_OUTPUT" "the right password right after"
assert_eq 0 "$(failures boss)" "the right password cleared the count"

# ---- (c) right and wrong at once, the right one with a byte more and a byte less among them
send $BOSS 22 "$good"
send $BOSS 23 "${good}x"
send $BOSS 24 "$good"
send $BOSS 25 "${good%?}"
send $BOSS 26 "$wrong"
send $BOSS 27 "$good"
send $BOSS 28 "$wrong"
send $BOSS 29 "$good"
wait_all
for i in 22 24 27 29; do
        assert_revoked "$i"
done
for i in 23 25 26 28; do
        assert_refused org.certrevoke1.Error.AuthenticationFailed "$i"
done
hist=$(cr_history)
for i in 22 24 27 29; do
        assert_eq 1 "$(grep -c "^boss confirm t$i ok\$" <<<"$hist")" "t$i's confirmation"
done
# (one failed row each from the eight before)
for i in 23 25 26 28; do
        assert_eq 2 "$(grep -c "^boss confirm t$i failed\$" <<<"$hist")" "t$i's confirmation"
done

# ---- (d) six different wrong guesses at once lock the login as before
d=(23 25 26 28 30 31)
for k in "${!d[@]}"; do
        passwords+=("$wrong-$k")
        send $DORA "${d[k]}" "$wrong-$k"
done
wait_all
failed=0 limited=0
for i in "${d[@]}"; do
        case $(reply "$i") in
        *"Error org.certrevoke1.Error.AuthenticationFailed"*) failed=$((failed + 1)) ;;
        *"Error org.certrevoke1.Error.RateLimited"*) limited=$((limited + 1)) ;;
        *) cr_fail_at "t$i: $(reply "$i")" ;;
        esac
done
assert_eq "5 1" "$failed $limited" "six different guesses: checked and failed, then rate-limited"
assert_eq 5 "$(failures dora)" "five failures counted"
assert_eq 5 "$(history_count 'dora confirm t[0-9]* failed')" "five failed confirmations in the history"
assert_revoke_refused org.certrevoke1.Error.RateLimited $DORA t32 "" superseded "$good_dora"
assert_eq 's "issued"' "$(cr_user_prop t32 CertificateState)"

# ---- a stack that cannot decide: every call sharing the check hears so
write_stack "auth     requisite pam_exec.so quiet /bin/false"
for i in 23 25 26 28; do
        send $GUS "$i" "$good_gus"
done
wait_all
for i in 23 25 26 28; do
        assert_refused org.freedesktop.DBus.Error.Failed "$i"
        assert_contains "$(reply "$i")" "the confirmation password could not be checked"
done
assert_eq 4 "$(history_count 'gus confirm t[0-9]* error')" "an error row for each"
assert_eq 0 "$(failures gus)" "an undecided check is no failure"
n=$(runs gus)
((n >= 1 && n < 4)) || cr_fail_at "PAM ran $n times for four confirmations with one password sent at once"
write_stack

# ---- the first caller hangs up; the call sharing its check is answered
echo 3 >"$CR_TMP/pam-sleep"
log_lines=$(wc -l <"$CR_TMP/daemon.log")
setpriv --reuid=$FAY --regid=$FAY --clear-groups -- busctl --address="$CR_BUS_ADDRESS" call org.certrevoke1 \
        /org/certrevoke1 org.certrevoke1.Manager RevokeCertificate ssss t30 "" superseded "$good_fay" \
        >/dev/null 2>&1 &
first=$!
cr_track $first
for _ in {1..100}; do
        [[ $(runs fay) -ge 1 ]] && break
        sleep 0.1
done
assert_eq 1 "$(runs fay)" "the first call's check is under way"
send $FAY 32 "$good_fay"
for _ in {1..100}; do
        tail -n +"$((log_lines + 1))" "$CR_TMP/daemon.log" | grep -q 'by fay acting on t32 shares the check' && break
        sleep 0.1
done
assert_contains "$(tail -n +"$((log_lines + 1))" "$CR_TMP/daemon.log")" "by fay acting on t32 shares the check under way"
kill "$first"
wait "$first" || true
cr_untrack $first
wait_all
assert_revoked 32
assert_eq 1 "$(runs fay)" "one PAM run for both"
echo 0.3 >"$CR_TMP/pam-sleep"

cr_stop_daemon

# ---- the helpers gave way to the service: every PAM run was at nice 5 as a
# batch task (SCHED_BATCH is policy 3)
assert_eq "$(wc -l <"$CR_TMP/pam-runs")" "$(wc -l <"$CR_TMP/pam-sched")" "a line of each PAM run"
assert_eq "5 3" "$(sort -u "$CR_TMP/pam-sched")" "the helpers' nice and policy"

# ---- no password in the log or the store
assert_no_password "${passwords[@]}" "${good}x" "${good%?}"
echo "confirm shared OK"
