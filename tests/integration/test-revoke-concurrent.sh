#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# Fifty RevokeCertificate calls at once, by one administrator: any beyond
# the administrator's share are answered Busy with a time to retry; sent
# again, every one is answered "revoked", every revocation is in the store
# and on the CRL that is published at the end, every certificate is off its
# card, and the daemon built at most one CRL per call, with CRL numbers that
# only grow and never fewer entries than before.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl certtool setpriv sqlite3
cr_need_python

cr_world_init
cr_pam_init
mkdir -p "$CR_TMP/replies"

ADMIN=1001
N=50

# ---- fifty users, ten to a card
cr_shared_cards 'user%02d' "$N" 10
cr_pam_password boss boss-confirm

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN
for ((i = 1; i <= N; i++)); do
        cr_ctl add-user "$(printf 'user%02d' "$i")" "User $i" general $((2000 + i))
done
assert_exit 0 cr_ctl rescan
assert_eq "$N certificates seen" "$CR_LAST_OUTPUT"
cr_wait_first_crl
n0=$(cr_crl_number)
log_lines=$(wc -l <"$CR_TMP/daemon.log")

# ---- all at once
# start_revocation I: RevokeCertificate of userI in the background, reply in replies/userI.
start_revocation() {
        local login
        login=$(printf 'user%02d' "$1")
        cr_revoke_as $ADMIN "$login" "$(cr_cert_serial "$CR_CERTS/$login.pem")" keyCompromise boss-confirm \
                >"$CR_TMP/replies/$login" 2>&1 &
        pids+=($!)
        cr_track $!
}
pids=()
for ((i = 1; i <= N; i++)); do
        start_revocation "$i"
done
for p in "${pids[@]}"; do
        wait "$p" || true
        cr_untrack "$p"
done
# One caller has at most four expensive calls under way at once; the
# service answers the others Busy, "… try again in N s", and those are sent
# again after that time, until each got its answer.
# pam_wrapper, which stands in for the system's PAM here, picks its scratch
# directory /tmp/pam.X among 62 names without locking: helpers that start
# together may collide, and then PAM cannot start ("PWRAP_ERROR" in the log).
# The daemon answers such a call "could not be checked" and records
# nothing; those calls, and only as many as pam_wrapper failed, are sent
# again.
busy_total=0
for round in {1..60}; do
        retry=() busy=0 wait_s=0
        for ((i = 1; i <= N; i++)); do
                login=$(printf 'user%02d' "$i")
                reply=$(cat "$CR_TMP/replies/$login")
                case $reply in
                "Call failed: the confirmation password could not be checked") retry+=("$i") ;;
                "Call failed: "*": try again in "*" s")
                        retry+=("$i")
                        busy=$((busy + 1))
                        n=${reply##*try again in }
                        n=${n% s}
                        ((n > wait_s)) && wait_s=$n
                        ;;
                esac
        done
        ((${#retry[@]})) || break
        busy_total=$((busy_total + busy))
        pwrap=$(tail -n +"$((log_lines + 1))" "$CR_TMP/daemon.log" |
                sed -n 's/^PWRAP_ERROR\[[^(]*(\([0-9]*\))\].*/\1/p' | sort -u | wc -l)
        cr_log "round $round: ${#retry[@]} calls to send again ($busy Busy, for $wait_s s); pam_wrapper failed in $pwrap helpers so far"
        ((${#retry[@]} - busy <= pwrap)) ||
                cr_fail_at "$((${#retry[@]} - busy)) confirmations could not be checked, pam_wrapper explains only $pwrap" \
                        "$(grep -v 'added by' "$CR_TMP/daemon.log" | cr_indent)"
        sleep "$wait_s"
        pids=()
        for i in "${retry[@]}"; do
                start_revocation "$i"
        done
        for p in "${pids[@]}"; do
                wait "$p" || true
                cr_untrack "$p"
        done
done
# Whether any of the fifty was answered Busy depends on how fast the others
# were confirmed: the outcome below is what counts (Busy itself is
# test-flood's and test-worker's).
cr_log "$busy_total answers were Busy and sent again"
for ((i = 1; i <= N; i++)); do
        login=$(printf 'user%02d' "$i")
        assert_eq "(sss) \"$login\" \"User $i\" \"revoked\"" "$(cat "$CR_TMP/replies/$login")" "the reply to $login's revocation"
done

# ---- in the store
assert_eq "$N" "$(sqlite3 "$CR_TMP/state/store.db" \
        "SELECT count(*) FROM certificates WHERE revoked_usec != 0 AND revocation_reason = 'keyCompromise'")" \
        "revoked certificates in the store"
assert_eq "$N" "$(sqlite3 "$CR_TMP/state/store.db" "SELECT count(DISTINCT revocation_seq) FROM certificates WHERE revocation_seq != 0")" \
        "each revocation has a sequence number of its own"
states=$(cr_busctl --json=short call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager ListUsers |
        "$CR_PYTHON" -c '
import collections, json, sys
print(" ".join("%s=%d" % kv for kv in sorted(collections.Counter(u[3] for u in json.load(sys.stdin)["data"][0]).items())))')
assert_eq "not-issued=1 revoked=$N" "$states" "the states ListUsers shows"
assert_eq "$N" "$(sqlite3 "$CR_TMP/state/store.db" "SELECT count(*) FROM history WHERE action = 'revoke' AND result = 'ok'")" \
        "revocations in the history"

# ---- on the CRL, which verifies
crl=$(openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -text)
assert_eq "$N" "$(grep -c 'Serial Number:' <<<"$crl")" "entries on the CRL"
assert_eq "$N" "$(grep -c 'Key Compromise' <<<"$crl")" "keyCompromise entries"
for ((i = 1; i <= N; i++)); do
        login=$(printf 'user%02d' "$i")
        grep -q "Serial Number: $(cr_cert_serial "$CR_CERTS/$login.pem")\$" <<<"$crl" ||
                cr_fail_at "$login's serial is not on the CRL"
done
assert_exit 0 openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -verify -CAfile "$CR_CA/ca.pem"
assert_contains "$CR_LAST_OUTPUT" "verify OK"
cr_wait_crl_pem
assert_exit 0 certtool --verify-crl --load-ca-certificate "$CR_CA/ca.pem" --infile "$CR_PUB/crl.pem"
assert_not_contains "$CR_LAST_OUTPUT" "Not verified"
for login in user01 user25 user50; do
        assert_exit 2 openssl verify -crl_check -CAfile "$CR_CA/ca.pem" -CRLfile "$CR_PUB/crl.pem" "$CR_CERTS/$login.pem"
        assert_contains "$CR_LAST_OUTPUT" "certificate revoked" "$login"
done

# ---- off the cards, after the replies
removed() { sqlite3 "$CR_TMP/state/store.db" "SELECT count(*) FROM certificates WHERE removal = 'removed'"; }
for ((i = 0; i < 200; i++)); do
        [[ $(removed) == "$N" ]] && break
        sleep 0.05
done
for c in 1 2 3 4 5; do
        assert_eq "" "$(cr_token_list_certs "cards-0$c")" "cards-0$c is empty"
done
assert_eq "$N" "$(sqlite3 "$CR_TMP/state/store.db" "SELECT count(*) FROM certificates WHERE removal = 'removed'")" \
        "removals recorded"

# ---- at most a build per call, numbers that only grow (how well builds
# coalesce depends on timing: that is bench/revoke.sh's figure, not a test's)
builds=$(tail -n +"$((log_lines + 1))" "$CR_TMP/daemon.log" |
        sed -n 's/.*crl: number \([0-9]*\) published with \([0-9]*\) entries.*/\1 \2/p')
nb=$(grep -c . <<<"$builds" || true)
cr_log "$nb CRL builds for $N revocations: $(awk '{ printf "#%s:%s ", $1, $2 }' <<<"$builds")"
((nb >= 1 && nb <= N)) || cr_fail_at "$nb CRL builds for $N revocations" "$builds"
prev=$n0 prev_entries=0
while read -r num entries; do
        ((num > prev)) || cr_fail_at "CRL number $num published after $prev"
        ((entries >= prev_entries)) || cr_fail_at "CRL $num has $entries entries, fewer than before ($prev_entries)"
        prev=$num prev_entries=$entries
done <<<"$builds"
assert_eq "$N" "$prev_entries" "the last build lists all"
assert_eq "$prev" "$(cr_crl_number)" "CRLNumber is the last build's"
assert_contains "$(grep -A1 'X509v3 CRL Number' <<<"$crl")" "$prev" "the CRL carries that number"
assert_not_contains "$(cat "$CR_TMP/daemon.log")" "not published" "every build was published"

cr_stop_daemon
echo "revoke concurrent OK"
