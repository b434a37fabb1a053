#!/bin/bash
# Revocation end to end beside N revocations already published, for each N
# of --sizes (default 10k, 100k and 1M): five revocations one after
# another, then fifty at once, every call from one persistent D-Bus
# connection (bench/revoke-client), each answered once the revocation is in
# the store and on the published CRL.  PAM is taken out of the measure as
# far as it can be: the confirmation goes through a stack of pam_permit
# alone (the helper process still runs).
#
# One line per size:
#   revoke N=<n> one_ms=<median of 5> batch50_s=<s> builds=<CRL builds for the 50> loop_max_ms=<ms>
# then the ratio of one_ms between the largest and the smallest size.
#
# loop_max_ms: a second client on its own connection calls ListUsers every
# 5 ms from the first revocation to the last reply; the daemon answers
# ListUsers on its event loop, so the slowest answer is the longest the loop
# stalled (plus one round trip).  builds counts the daemon's "crl: number …
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
        cr_add_passwd cr-bench-admin 2000
        cr_write_config "$CR_TMP/certrevoke.conf"
        cr_pam_init
        printf 'auth required pam_permit.so\naccount required pam_permit.so\n' >"$CR_TMP/pam/certrevoke"
        CR_DAEMON_TIMEOUT=600
        cr_start_daemon
        cr_ctl add-user admin Admin admin 2000 >/dev/null
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
        local n=$1 logins=() before probe loop_max batch
        world
        prefill "$n"
        cr_start_daemon
        # the start publishes a CRL of all n (this_update 0: one is due)
        for _ in $(seq 1 6000); do
                [[ $(builds) -ge 1 ]] && break
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

        logins=()
        for i in $(seq $((ONE + 1)) $USERS); do logins+=("$(printf 'u%03d' "$i")"); done
        before=$(builds)
        batch=$(cr_as 2000 env DBUS_SYSTEM_BUS_ADDRESS="$CR_BUS_ADDRESS" "$CLIENT" many any "${logins[@]}")

        exec 3>&-
        wait $probe
        cr_untrack $probe
        loop_max=$(sed -n 's/.*max_ms=//p' "$CR_TMP/probe.out")
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
