#!/bin/bash
# certrevoke-pam-helper on its own, under pam_wrapper with the test PAM
# services of tests/data/pam: pamtester agrees with the service files; the
# helper's answers, exit statuses and refusals; it records the fail delay
# instead of sleeping; no password ever reaches its stderr.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_cmd pamtester script
helper=$CR_BUILD/certrevoke-pam-helper
[[ -x $helper ]] || cr_skip "no $helper: build first"
services=$CR_SRCDIR/tests/data/pam
matrix=$(awk '$3 ~ /pam_matrix\.so$/ { print $3; exit }' "$services/certrevoke")
[[ -n $matrix && -r $matrix ]] || cr_skip "pam_wrapper is not installed (no ${matrix:-pam_matrix.so})"

cr_setup_tmp
passdb=$CR_TMP/passdb
cat >"$passdb" <<'EOF'
alice:secret:certrevoke
carol:secret:elsewhere
dave:secret:certrevoke-delay
erin:パス ワード 二:certrevoke
EOF

# Only the command run gets pam_wrapper: every process started with it
# makes a directory of its own in /tmp, the shell's helpers included.
pw_env=(LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$services"
        PAM_MATRIX_PASSWD="$passdb")
if [[ $CR_ASAN == 1 ]]; then
        # pam_wrapper loads libpam with RTLD_DEEPBIND, which ASan refuses;
        # 1.1.4 reads the switch under the uid_wrapper name.
        pw_env+=(UID_WRAPPER_DISABLE_DEEPBIND=1 PAM_WRAPPER_DISABLE_DEEPBIND=1)
fi
pw() {
        env "${pw_env[@]}" "$@"
}

# check PASSWORD SERVICE LOGIN: runs the helper with the password on stdin;
# leaves stdout in OUT, stderr in ERR, the status in RC.
check() {
        local password=$1
        shift
        RC=0
        printf '%s\n' "$password" | pw "$helper" "$@" >"$CR_TMP/out" 2>"$CR_TMP/err" || RC=$?
        OUT=$(cat "$CR_TMP/out")
        ERR=$(cat "$CR_TMP/err")
}

# ---- the service files, through an independent PAM application
assert_exit 0 pw pamtester certrevoke alice authenticate acct_mgmt <<<"secret"
assert_exit 1 pw pamtester certrevoke alice authenticate <<<"wrong"
assert_exit 1 pw pamtester certrevoke carol authenticate acct_mgmt <<<"secret"
assert_contains "$CR_LAST_OUTPUT" "Permission denied" "carol is not allowed the service"

# ---- answers
check secret certrevoke alice
assert_eq "ok" "$OUT" "right password"
assert_eq 0 "$RC"
check wrong certrevoke alice
assert_eq "auth-failed 0" "$OUT" "wrong password"
assert_eq 0 "$RC"
check secret certrevoke carol
assert_eq "account-refused 0" "$OUT" "account refused"
check secret certrevoke mallory
assert_eq "auth-failed 0" "$OUT" "unknown login (pam_matrix does not tell)"
check "パス ワード 二" certrevoke erin
assert_eq "ok" "$OUT" "UTF-8 and spaces"
check secret certrevoke-unconfigured alice
assert_eq "auth-failed 0" "$OUT" "a service without a file falls to 'other'"

# EOF ends the password as well as a newline does; a file works as a pipe does.
RC=0
OUT=$(printf 'secret' | pw "$helper" certrevoke alice 2>/dev/null) || RC=$?
assert_eq "ok 0" "$OUT $RC" "password ended by EOF"
printf 'secret\n' >"$CR_TMP/pw"
OUT=$(pw "$helper" certrevoke alice <"$CR_TMP/pw" 2>/dev/null)
assert_eq "ok" "$OUT" "password from a file"

# Whatever follows the newline is refused, never cut off.
RC=0
OUT=$(printf 'secret\nmore' | pw "$helper" certrevoke alice 2>"$CR_TMP/err") || RC=$?
assert_eq "auth-failed 0 0" "$OUT $RC" "data after the newline"

# ---- the fail delay is reported, not slept
start=$(date +%s%N)
check wrong certrevoke-delay dave
ms=$((($(date +%s%N) - start) / 1000000))
[[ $OUT =~ ^auth-failed\ ([0-9]+)$ ]] || cr_fail_at "delayed failure: '$OUT'"
delay=${BASH_REMATCH[1]}
# libpam makes a requested delay 50 to 150 % of itself
((delay >= 1000000 && delay <= 3000000)) || cr_fail_at "delay $delay µs is not 2 s ± 50 %"
((ms < 1000)) || cr_fail_at "the helper slept: $ms ms"
check secret certrevoke-delay dave
assert_eq "ok" "$OUT" "no delay on success"

# ---- refusals
long=$(printf 'x%.0s' {1..600})
check "${long}MARKER" certrevoke alice
assert_eq "auth-failed 0" "$OUT" "600-byte password"
assert_contains "$ERR" "longer than 512 bytes"
assert_not_contains "$ERR" "MARKER" "the password is not echoed"

check hunter2-SECRET certrevoke alice
assert_not_contains "$ERR" "hunter2" "nothing about a wrong password on stderr"

for args in "" "certrevoke" "certrevoke alice extra" "../passwd alice" ".hidden alice"; do
        # shellcheck disable=SC2086 # the words are the arguments
        check secret $args
        assert_eq "error 2" "$OUT $RC" "usage: '$args'"
done

# A terminal on stdin is refused: the password is for a pipe only.
RC=0
OUT=$(script -qec "env ${pw_env[*]} '$helper' certrevoke alice" /dev/null </dev/null 2>&1) || RC=$?
assert_contains "$OUT" "refusing to read a password from a terminal"
assert_eq 2 "$RC" "exit status with a terminal"

# PAM cannot decide (pam_matrix without its file): error, status 1.
RC=0
OUT=$(printf 'secret\n' | env "${pw_env[@]/#PAM_MATRIX_PASSWD=*/PAM_MATRIX_PASSWD=$CR_TMP/none}" \
        "$helper" certrevoke alice 2>"$CR_TMP/err") || RC=$?
assert_eq "error 1" "$OUT $RC" "PAM error"
assert_contains "$(cat "$CR_TMP/err")" "pam_authenticate(alice)"

cr_log "ok"
