#!/bin/bash
# Revocation end to end beside N revocations already published, for each N
# of --sizes (default 10k, 100k and 1M): five revocations one after
# another from one persistent D-Bus connection (bench/revoke-client), then
# fifty at once from five administrators, ten each, each on a connection of
# its own and all sent at one instant (one UID may have 32 expensive calls
# under way: the rest are answered Busy, as a flood would be).  Each call is
# answered once the revocation is in the store and on the published CRL.
# PAM is taken out of the measure as far as it can be: the confirmation
# goes through a stack of pam_permit alone (the helper process still runs).
#
# One line per size:
#   revoke N=<n> one_ms=<median of 5> batch50_s=<s> builds=<CRL builds for the 50> loop_max_ms=<ms>
# then the ratio of one_ms between the largest and the smallest size.
#
# loop_max_ms: a second client on its own connection calls ListUsers every
# 5 ms from the first revocation to the last reply; the daemon answers
# ListUsers on its event loop, so the slowest answer is the longest the loop
# stalled (plus one round trip).  During the fifty that answer also waits
# its turn behind the calls that came before it on the bus, so the slowest
# answer of each part goes to stderr ("probe: calls=<n> max_ms=<ms>" for
# the five, then for the fifty).  builds counts the daemon's "crl: number …
# published" log lines during the fifty.  Leaves nothing behind.
#
#   bench/revoke.sh [--build=DIR] [--sizes=N,N,...]

# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
set -euo pipefail

SIZES=10000,100000,1000000
for arg in "$@"; do
        case $arg in
        --build=*) export CR_BUILD=${arg#--build=} ;;
        --sizes=*) SIZES=${arg#--sizes=} ;;
        *)
                echo "usage: $0 [--build=DIR] [--sizes=N,N,...]" >&2
                exit 2
                ;;
        esac
done

# not a test: no CRL-number watcher (tests/lib.sh, cr_crl_watch)
CR_CRL_WATCH=0

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../tests/lib.sh"

ONE=5
CONCURRENT=50
ADMINS=5
USERS=$((ONE + CONCURRENT))
CLIENT=$CR_BUILD/bench/revoke-client

cr_need_cmd dbus-daemon busctl sqlite3 openssl softhsm2-util bc
[[ -x $CLIENT ]] || cr_die "no $CLIENT: make $CLIENT first"

label() {
        case $1 in
        *000000) echo "$(($1 / 1000000))M" ;;
        *000) echo "$(($1 / 1000))k" ;;
        *) echo "$1" ;;
        esac
}

median() {
        sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# A world of its own for each size: CA, bus, tokens, daemon.
world() {
        cr_setup_tmp
        cr_softhsm_init
        cr_ca_create "$CR_TMP/ca" >/dev/null
        cr_start_bus
        for a in $(seq 0 $((ADMINS - 1))); do cr_add_passwd "cr-bench-admin$a" $((2000 + a)); done
        cr_write_config "$CR_TMP/certrevoke.conf"
        cr_pam_init
        printf 'auth required pam_permit.so\naccount required pam_permit.so\n' >"$CR_TMP/pam/certrevoke"
        CR_DAEMON_TIMEOUT=600
        cr_start_daemon
        for a in $(seq 0 $((ADMINS - 1))); do cr_ctl add-user "admin$a" "Admin $a" admin $((2000 + a)) >/dev/null; done
        for i in $(seq 1 $USERS); do
                login=$(printf 'u%03d' "$i")
                CR_KEY_TYPE=ec cr_cert_issue "$CR_TMP/ca" "$login" "User $i" "$(cr_date_utc '-1 day')" \
                        "$(cr_date_utc '+365 days')" "$CR_TMP/$login.pem" >/dev/null
                cr_token_create "card-$login" >/dev/null
                cr_token_put_cert "card-$login" "$CR_TMP/$login.pem" 01 "$login" >/dev/null
                cr_ctl add-user "$login" "User $i" general $((3000 + i)) >/dev/null
        done
        cr_ctl rescan >/dev/null
        cr_stop_daemon
}

# N revocations already published, of certificates whose users are gone,
# each with a certificate of its own; a CRL is due at once, so that the
# start builds one that lists them all.
prefill() {
        cr_store_fill_revoked "$1" "$CR_TMP/ca"
        sqlite3 "$CR_TMP/state/store.db" "UPDATE crl_state SET this_update_usec = 0"
}

builds() {
        grep -c 'published with' "$CR_TMP/daemon.log" || true
}

# run N, in a subshell of its own (its exit tears the world down): prints
# the line for N, then "one_ms <ms>" for the ratio.
run() {
        local n=$1 logins=() before probe loop_max batch at a pid pids=()
        world
        prefill "$n"
        before=$(builds)
        cr_start_daemon
        # the start publishes a CRL of all n (this_update 0: one is due)
        for _ in $(seq 1 6000); do
                [[ $(builds) -gt $before ]] && break
                sleep 0.1
        done

        mkfifo "$CR_TMP/probe.in"
        DBUS_SYSTEM_BUS_ADDRESS=$CR_BUS_ADDRESS "$CLIENT" probe 5 <"$CR_TMP/probe.in" >"$CR_TMP/probe.out" &
        probe=$!
        cr_track $probe
        exec 3>"$CR_TMP/probe.in"

        for i in $(seq 1 $ONE); do logins+=("$(printf 'u%03d' "$i")"); done
        cr_as 2000 env DBUS_SYSTEM_BUS_ADDRESS="$CR_BUS_ADDRESS" "$CLIENT" one any "${logins[@]}" >"$CR_TMP/one.out"
        one_ms=$(median <"$CR_TMP/one.out")

        echo five >&3
        # each administrator's ten, sent at one instant a moment from now:
        # the seconds until the last reply of all
        before=$(builds)
        at=$(($(date +%s%3N) + 500))
        for a in $(seq 0 $((ADMINS - 1))); do
                logins=()
                for i in $(seq $((ONE + 1 + a * CONCURRENT / ADMINS)) $((ONE + (a + 1) * CONCURRENT / ADMINS))); do
                        logins+=("$(printf 'u%03d' "$i")")
                done
                cr_as $((2000 + a)) env DBUS_SYSTEM_BUS_ADDRESS="$CR_BUS_ADDRESS" \
                        "$CLIENT" many-at "$at" any "${logins[@]}" >"$CR_TMP/many.$a" &
                pids+=($!)
        done
        for pid in "${pids[@]}"; do
                wait "$pid" || cr_die "a revocation of the fifty failed"
        done
        batch=$(sort -n "$CR_TMP"/many.* | tail -1)

        exec 3>&-
        wait $probe
        cr_untrack $probe
        loop_max=$(sed -n 's/.*max_ms=//p' "$CR_TMP/probe.out" | sort -n | tail -1)
        echo "probe: $(tr '\n' ' ' <"$CR_TMP/probe.out")" >&2
        printf 'revoke N=%d one_ms=%s batch50_s=%.2f builds=%d loop_max_ms=%s\n' \
                "$n" "$one_ms" "$batch" $(($(builds) - before)) "$loop_max"
        echo "one_ms $one_ms"
        cr_stop_daemon
}

IFS=, read -r -a sizes <<<"$SIZES"
first='' last=''
for n in "${sizes[@]}"; do
        out=$( (run "$n"))
        grep -v '^one_ms ' <<<"$out"
        one_ms=$(sed -n 's/^one_ms //p' <<<"$out")
        [[ -n $first ]] || first=$one_ms
        last=$one_ms
done
printf 'ratio one_ms %s/%s: %.2f\n' "$(label "${sizes[-1]}")" "$(label "${sizes[0]}")" "$(echo "$last / $first" | bc -l)"
