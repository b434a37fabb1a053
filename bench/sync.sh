#!/bin/bash
# certrevoke-sync beside N revocations already published, for each N of
# --sizes (default 10k and 1M): host A's daemon publishes a CRL of N
# entries, nginx serves its PublishDirectory, and host B (a directory of
# its own) syncs once whole; then one revocation on A and one sync of B,
# then one more sync with nothing new, then one after an entry of the
# middle left the CRL (its certificate expired: RFC 5280 3.3) and two more
# revocations.  What B downloads is counted by the
# sync itself (headers and bodies, as it logs "downloaded <b> bytes in <t>
# ms"), the byte count checked against nginx's access log.
#
# One line per size:
#   sync N=<n> crl_bytes=<size of crl.der> first_bytes=<b> first_ms=<t>
#        bytes=<b after one revocation> ms=<t> unchanged_bytes=<b> unchanged_ms=<t>
#        gap_bytes=<b after an entry left and two revocations> gap_ms=<t>
#
#   bench/sync.sh [--build=DIR] [--sizes=N,N,...]

# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
set -euo pipefail

SIZES=10000,1000000
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
# shellcheck source=tests/sync-lib.sh
. "$(dirname "$0")/../tests/sync-lib.sh"

cr_need_cmd dbus-daemon busctl sqlite3 openssl softhsm2-util curl
[[ -x $CR_BUILD/certrevoke-sync ]] || cr_die "no $CR_BUILD/certrevoke-sync: make first"

# the figures of the sync's last log line
figures() {
        sed -n 's/.*downloaded \([0-9]*\) bytes in \([0-9]*\) ms.*/\1 \2/p' <<<"$1" | tail -n 1
}

sync_once() {
        local out
        out=$(cr_sync 2>&1) || cr_die "the sync failed: $out"
        echo "$out" >&2
        figures "$out"
}

# run N, in a subshell of its own (its exit tears the world down)
run() {
        local n=$1 before first again none lines served
        cr_world_init
        cr_pam_init
        printf 'auth required pam_permit.so\naccount required pam_permit.so\n' >"$CR_TMP/pam/certrevoke"
        cr_card target "Target User"
        cr_card target2 "Second Target"
        cr_card target3 "Third Target"
        cr_start_bus
        CR_DAEMON_TIMEOUT=600
        cr_start_daemon
        cr_ctl add-user boss "Boss Admin" admin 1001 >/dev/null
        cr_ctl add-user target "Target User" general 2001 >/dev/null
        cr_ctl add-user target2 "Second Target" general 2002 >/dev/null
        cr_ctl add-user target3 "Third Target" general 2003 >/dev/null
        cr_ctl rescan >/dev/null
        cr_wait_first_crl
        cr_stop_daemon
        # N revocations without certificates (entries taken back from a
        # CRL have none): a CRL of N entries; a CRL is due at once
        cr_store_fill_revoked "$n"
        sqlite3 "$CR_TMP/state/store.db" "UPDATE crl_state SET this_update_usec = 0"
        before=$(grep -c 'published with' "$CR_TMP/daemon.log" || true)
        cr_start_daemon
        for _ in $(seq 1 6000); do
                (($(grep -c 'published with' "$CR_TMP/daemon.log" || true) > before)) && break
                sleep 0.1
        done
        cr_start_nginx "$CR_PUB"
        cr_hostb_init
        read -r first first_ms < <(sync_once)
        cr_as 1001 busctl --address="$CR_BUS_ADDRESS" call org.certrevoke1 /org/certrevoke1 \
                org.certrevoke1.Manager RevokeCertificate ssss target "" keyCompromise any >/dev/null
        lines=$(cr_nginx_lines)
        read -r again again_ms < <(sync_once)
        served=$(cr_nginx_lines_since "$lines" | awk '{ s += $4 } END { print s + 0 }')
        echo "nginx served $served body bytes for the sync after the revocation:" >&2
        cr_nginx_lines_since "$lines" >&2
        cmp -s "$CR_PUB/crl.der" "$CR_HOSTB/crl.der" || cr_die "B's crl.der is not A's"
        read -r none none_ms < <(sync_once)
        crl_bytes=$(stat -c %s "$CR_PUB/crl.der")
        # an entry of the middle expires: the next CRL lists it after its
        # expiry, the one after that no more
        cr_stop_daemon
        sqlite3 "$CR_TMP/state/store.db" "UPDATE certificates SET not_after_usec = $((($(date +%s) - 60) * 1000000))
                WHERE serial = hex(CAST(printf('%016d', $((n / 2))) AS BLOB))"
        cr_start_daemon
        for login in target2 target3; do
                cr_as 1001 busctl --address="$CR_BUS_ADDRESS" call org.certrevoke1 /org/certrevoke1 \
                        org.certrevoke1.Manager RevokeCertificate ssss "$login" "" keyCompromise any >/dev/null
        done
        lines=$(cr_nginx_lines)
        read -r gap gap_ms < <(sync_once)
        echo "the sync after an entry left and two revocations:" >&2
        cr_nginx_lines_since "$lines" | awk '{ n++; s += $4 } END { print n " requests, " s " body bytes" }' >&2
        cmp -s "$CR_PUB/crl.der" "$CR_HOSTB/crl.der" || cr_die "B's crl.der is not A's after the gap"
        printf 'sync N=%d crl_bytes=%d first_bytes=%d first_ms=%d bytes=%d ms=%d unchanged_bytes=%d unchanged_ms=%d gap_bytes=%d gap_ms=%d\n' \
                "$n" "$crl_bytes" "$first" "$first_ms" "$again" "$again_ms" "$none" "$none_ms" "$gap" "$gap_ms"
        cr_stop_daemon
}

IFS=, read -r -a sizes <<<"$SIZES"
for n in "${sizes[@]}"; do
        (run "$n")
done
