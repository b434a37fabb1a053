#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# kill -9 of the daemon in the middle of a stream of revocations.  After a
# restart every revocation that was answered "revoked" is revoked in the
# store and listed on the CRL the daemon publishes at start (as is every
# revocation it had recorded, answered or not); that CRL's number is above
# every number published before; crl.der is a whole, parseable CRL whenever
# anyone looks, also the moment the daemon died.  Certificates the daemon
# did not get to take off their cards are taken off by the start-up rescan.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl certtool setpriv sqlite3

cr_world_init
cr_pam_init
mkdir -p "$CR_TMP/replies"

ADMIN=1001
N=30

# Failures that need not stop the rest of the test; reported at the end.
late_failures=()

# ---- local helpers

# number_of FILE: the CRL number of a DER CRL, in decimal.
number_of() {
        local n
        n=$(openssl crl -inform DER -in "$1" -noout -crlnumber)
        echo $((16#${n#crlNumber=0x}))
}

# answered: how many calls were answered "revoked" so far.
answered() {
        cat "$CR_TMP"/replies/* 2>/dev/null | grep -c '^(sss) .* "revoked"$' || true
}

# sampler: reads crl.der every few milliseconds until $CR_TMP/stop-sampling
# exists, as a reader of the published CRL would; a copy that openssl cannot
# parse is kept as bad-N.der, the number of every good one goes to samples.
sampler() {
        local k=0
        while [[ ! -e $CR_TMP/stop-sampling ]]; do
                k=$((k + 1))
                if cp "$CR_PUB/crl.der" "$CR_TMP/sample.der" 2>/dev/null; then
                        if openssl crl -inform DER -in "$CR_TMP/sample.der" -noout 2>/dev/null; then
                                number_of "$CR_TMP/sample.der" >>"$CR_TMP/samples"
                        else
                                cp "$CR_TMP/sample.der" "$CR_TMP/bad-$k.der"
                        fi
                fi
                sleep 0.005
        done
}

# ---- thirty users on three cards
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

: >"$CR_TMP/samples"
sampler &
sampler_pid=$!
cr_track $sampler_pid

# ---- a stream of revocations; kill -9 once a few are answered and the rest are in flight
pids=()
for ((i = 1; i <= N; i++)); do
        login=$(printf 'user%02d' "$i")
        cr_revoke_as $ADMIN "$login" "" keyCompromise boss-confirm >"$CR_TMP/replies/$login" 2>&1 &
        pids+=($!)
        cr_track $!
done
for _ in {1..1000}; do
        (($(answered) >= 3)) && break
        sleep 0.005
done
(($(answered) >= 3)) || cr_fail_at "fewer than three revocations were answered" "$(cat "$CR_TMP"/replies/*)"
sent=${#pids[@]}
cr_kill_daemon
for p in "${pids[@]}"; do
        wait "$p" || true
        cr_untrack "$p"
done
acked=()
for f in "$CR_TMP"/replies/*; do
        login=$(basename "$f")
        if [[ $(cat "$f") == "(sss) \"$login\" \"User $((10#${login#user}))\" \"revoked\"" ]]; then
                acked+=("$login")
        elif [[ $(cat "$f") == '(sss) '* ]]; then
                cr_fail_at "a strange reply for $login" "$(cat "$f")"
        fi
done
cr_log "$sent revocations sent, ${#acked[@]} answered before kill -9"
((${#acked[@]} < sent)) || cr_log "every call was answered before the kill: the crash hit no revocation in flight"

# the moment it died: the CRL is whole
assert_exit 0 openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -verify -CAfile "$CR_CA/ca.pem"
assert_contains "$CR_LAST_OUTPUT" "verify OK" "crl.der right after kill -9"
before_max=$(sed -n 's/.*crl: number \([0-9]*\) published.*/\1/p' "$CR_TMP/daemon.log" | sort -n | tail -n1)
at_kill=$(number_of "$CR_PUB/crl.der")
# the daemon may have died between renaming a new CRL into place and
# recording it: then crl.der is one ahead of the log
((at_kill >= before_max)) || cr_fail_at "crl.der has number $at_kill, the log's last published is $before_max"
before_max=$at_kill
recorded=$(sqlite3 "$CR_TMP/state/store.db" "SELECT count(*) FROM certificates WHERE revoked_usec != 0")
cr_log "revocations recorded in the store at the kill: $recorded; last CRL published: $before_max"
((recorded >= ${#acked[@]})) || cr_fail_at "$recorded revocations recorded, ${#acked[@]} answered"

# ---- the restart publishes what was recorded and not yet published
last_entries=$(sed -n 's/.*crl: number [0-9]* published with \([0-9]*\) entries.*/\1/p' "$CR_TMP/daemon.log" | tail -n1)
log_lines=$(wc -l <"$CR_TMP/daemon.log")
samples_before=$(wc -l <"$CR_TMP/samples")
cr_start_daemon
if ((recorded > last_entries)); then
        cr_log "$((recorded - last_entries)) recorded revocations were not yet on a CRL at the kill"
        after=
        for _ in {1..100}; do
                after=$(tail -n +"$((log_lines + 1))" "$CR_TMP/daemon.log" |
                        sed -n 's/.*crl: number \([0-9]*\) published with \([0-9]*\) entries.*/\1 \2/p' | head -n1)
                [[ -n $after ]] && break
                sleep 0.1
        done
        [[ -n $after ]] || cr_fail_at "no CRL published after the restart" "$(tail -n 20 "$CR_TMP/daemon.log")"
        after_number=${after% *} after_entries=${after#* }
        ((after_number > before_max)) || cr_fail_at "CRL number $after_number after the restart, $before_max before"
        max_sampled=$(head -n "$samples_before" "$CR_TMP/samples" | sort -n | tail -n1)
        ((after_number > max_sampled)) || cr_fail_at "CRL number $after_number after the restart, $max_sampled seen before"
        assert_eq "$recorded" "$after_entries" "the CRL after the restart lists every recorded revocation"
else
        # everything recorded was published before the kill: the CRL in place stands
        cr_log "every recorded revocation was on a CRL at the kill (this run crashed between builds)"
        after_number=$before_max
fi
# wait for the start-up CRL to be in place (the property follows publication)
for _ in {1..100}; do
        (($(cr_crl_number) >= after_number)) && break
        sleep 0.1
done
crl=$(openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -text)
assert_exit 0 openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -verify -CAfile "$CR_CA/ca.pem"
assert_contains "$CR_LAST_OUTPUT" "verify OK" "the CRL after the restart"
cr_wait_crl_pem
assert_exit 0 certtool --verify-crl --load-ca-certificate "$CR_CA/ca.pem" --infile "$CR_PUB/crl.pem"
assert_not_contains "$CR_LAST_OUTPUT" "Not verified"
for login in "${acked[@]}"; do
        serial=$(cr_cert_serial "$CR_CERTS/$login.pem")
        grep -q "Serial Number: $serial\$" <<<"$crl" || cr_fail_at "$login was answered revoked but is not on the CRL"
        assert_eq 's "revoked"' "$(cr_busctl get-property org.certrevoke1 "/org/certrevoke1/user/$login" \
                org.certrevoke1.User CertificateState)" "$login answered revoked"
        assert_eq 1 "$(sqlite3 "$CR_TMP/state/store.db" \
                "SELECT count(*) FROM certificates WHERE serial = '$serial' AND revoked_usec != 0")" "$login in the store"
        assert_exit 2 openssl verify -crl_check -CAfile "$CR_CA/ca.pem" -CRLfile "$CR_PUB/crl.pem" "$CR_CERTS/$login.pem"
        assert_contains "$CR_LAST_OUTPUT" "certificate revoked" "$login"
done
# recorded but not answered: listed as well, never lost
while read -r serial; do
        grep -q "Serial Number: $serial\$" <<<"$crl" || cr_fail_at "the recorded revocation of $serial is not on the CRL"
done < <(sqlite3 "$CR_TMP/state/store.db" "SELECT serial FROM certificates WHERE revoked_usec != 0")

# ---- the start-up rescan takes every revoked certificate off its card, and
# with every card present and one more Rescan, CertificateRemoval says
# "removed" for each: nothing revoked is on a card, nothing is left pending.
for _ in {1..100}; do
        (($(grep -c 'rescan: .* tokens read' "$CR_TMP/daemon.log") >= 3)) && break
        sleep 0.1
done
(($(grep -c 'rescan: .* tokens read' "$CR_TMP/daemon.log") >= 3)) || cr_fail_at "no rescan after the restart"
assert_exit 0 cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager Rescan
on_cards=$(for c in 1 2 3; do cr_token_list_certs "cards-0$c"; done | sort)
stale=()
while read -r login; do
        assert_not_contains "$on_cards" "$login certificate" "a revoked certificate on a card after the restart"
        removal=$(cr_busctl get-property org.certrevoke1 "/org/certrevoke1/user/$login" \
                org.certrevoke1.User CertificateRemoval)
        case $removal in
        's "removed"') ;;
        's "pending"') stale+=("$login") ;;
        *) cr_fail_at "$login's CertificateRemoval is $removal" ;;
        esac
done < <(sqlite3 "$CR_TMP/state/store.db" \
        "SELECT u.login_id FROM certificates c JOIN users u ON u.id = c.user_id WHERE c.revoked_usec != 0")
if ((${#stale[@]})); then
        late_failures+=("CertificateRemoval stays \"pending\" after the restart and a Rescan with every card present for ${stale[*]}, whose certificates are on no card: the daemon took them off just before kill -9 and never recorded it")
fi

# ---- the rest can be revoked now; the numbers keep growing
for ((i = 1; i <= N; i++)); do
        login=$(printf 'user%02d' "$i")
        [[ $(cr_busctl get-property org.certrevoke1 "/org/certrevoke1/user/$login" \
                org.certrevoke1.User CertificateState) == 's "revoked"' ]] && continue
        assert_exit 0 cr_revoke_as $ADMIN "$login" "" keyCompromise boss-confirm
done
touch "$CR_TMP/stop-sampling"
wait $sampler_pid
cr_untrack $sampler_pid
final=$(number_of "$CR_PUB/crl.der")
((final > after_number || recorded == N)) || cr_fail_at "CRL number $final after more revocations, $after_number before"
assert_eq "$N" "$(openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -text | grep -c 'Serial Number:')" "all on the CRL"

# ---- every look at crl.der found a whole CRL, and the numbers never went back
bad=$(find "$CR_TMP" -maxdepth 1 -name 'bad-*.der' | wc -l)
((bad == 0)) || cr_fail_at "$bad reads of crl.der found something openssl cannot parse"
(($(wc -l <"$CR_TMP/samples") > 10)) || cr_fail_at "the sampler looked only $(wc -l <"$CR_TMP/samples") times"
sort -n -c "$CR_TMP/samples" 2>/dev/null || cr_fail_at "a reader saw the CRL number go down" "$(uniq "$CR_TMP/samples" | paste -sd' ')"
cr_log "the sampler read crl.der $(wc -l <"$CR_TMP/samples") times, numbers $(uniq "$CR_TMP/samples" | paste -sd' ')"
assert_exit 0 sqlite3 "$CR_TMP/state/store.db" "PRAGMA integrity_check"
assert_eq "ok" "$CR_LAST_OUTPUT"

cr_stop_daemon
if ((${#late_failures[@]})); then
        printf 'FAILED: %s\n' "${late_failures[@]}" >&2
        exit 1
fi
echo "revoke crash OK"
