#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# ListUsers with 10k and 100k users, and GetManagedObjects with 10k, 40k and
# 100k, each user with a certificate, on a private bus with the real daemon.
# The store is created by the daemon, filled with the sqlite3 CLI while the
# daemon is stopped, and read back through BUILD/bench/list-users-client
# (best of 3 calls each, as root: every user visible).  Prints the ListUsers
# times, users per second, the ratio t(100k)/t(10k), and PASS or MISS against
# the target: 100k users listed in under 0.5 s; then one line per size
#   managed-objects N=<users> seconds=<best of 3, or "refused">
# "refused": the service answered LimitsExceeded, as the reply would not fit
# in one message on the bus (32 MiB; 736 bytes a user here, so about 45k).
# A bus configured for larger messages would not carry 100k either: the
# D-Bus specification caps an array, here the reply's one array of
# objects, at 64 MiB.
# The service keeps the users it read for GetManagedObjects while the store
# is unchanged: the first of the 3 calls reads them, the others need not.
# Leaves nothing behind.
#
#   bench/list-users.sh [--build=DIR]

set -euo pipefail

for arg in "$@"; do
        case $arg in
        --build=*) export CR_BUILD=${arg#--build=} ;;
        *)
                echo "usage: $0 [--build=DIR]" >&2
                exit 2
                ;;
        esac
done

# not a test: no CRL-number watcher (tests/lib.sh, cr_crl_watch)
CR_CRL_WATCH=0

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../tests/lib.sh"

TARGET_S=0.5
RUNS=3
client=$CR_BUILD/bench/list-users-client

[[ -x $CR_BUILD/certrevoked ]] || cr_die "no $CR_BUILD/certrevoked: run make first"
[[ -x $client ]] || cr_die "no $client: run make bench (or make $client)"
cr_need_cmd dbus-daemon busctl sqlite3 openssl softhsm2-util

cr_setup_tmp
cr_softhsm_init
cr_ca_create "$CR_TMP/ca"
cr_start_bus
cr_write_config "$CR_TMP/certrevoke.conf"
# A generous wait: the daemon opens a large store before it takes the name.
CR_DAEMON_TIMEOUT=60

# First start: the daemon creates the store and its schema.
cr_start_daemon
cr_stop_daemon
db=$CR_TMP/state/store.db
[[ -f $db ]] || cr_die "the daemon did not create $db"

# fill FROM TO: users FROM..TO (1-based, inclusive), each with one valid
# certificate of about the size of a real one.
fill() {
        local now_us
        now_us=$(($(date +%s) * 1000000))
        sqlite3 "$db" <<EOF
PRAGMA foreign_keys = ON;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
INSERT INTO users (login_id, name, role, uid, created_usec)
SELECT printf('user%06d', i), printf('ベンチ利用者 %d', i),
       CASE i % 4 WHEN 0 THEN 'master' WHEN 1 THEN 'admin' WHEN 2 THEN 'general' ELSE 'worker' END,
       100000 + i, $now_us
  FROM n;
WITH RECURSIVE n(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
INSERT INTO certificates (user_id, der, serial, issuer, subject, not_before_usec,
                          not_after_usec, fingerprint, uri, seen_usec)
SELECT (SELECT id FROM users WHERE login_id = printf('user%06d', i)),
       randomblob(1100), printf('%016X', 4096 + i),
       'CN=Demo Org Certificate Authority,O=Demo Org',
       printf('CN=ベンチ利用者 %d,UID=user%06d,O=Demo Org', i, i),
       $now_us - 30 * 86400 * 1000000, $now_us + 365 * 86400 * 1000000,
       printf('%064x', i), printf('pkcs11:token=bench-%06d;type=cert', i), $now_us
  FROM n;
COMMIT;
EOF
}

# call USERS [managed-objects]: the best time of RUNS calls on the running
# daemon, or "refused" when the service says the reply would not fit in one
# message on the bus (LimitsExceeded).
call() {
        local out t n rc=0
        out=$("$client" "$CR_BUS_ADDRESS" "$RUNS" "${@:2}") || rc=$?
        if ((rc == 3)); then
                echo refused
                return 0
        fi
        ((rc == 0)) || cr_die "list-users-client ${2:-} failed"
        read -r t n <<<"$out"
        [[ $n == "$1" ]] || cr_die "${2:-ListUsers} returned $n users, expected $1"
        echo "$t"
}

# measure USERS LIST_VAR MANAGED_VAR: restarts the daemon on the store (in
# this shell, so that teardown can end it) and sets the variables to the
# best times of ListUsers (unless LIST_VAR is "") and of GetManagedObjects.
measure() {
        local t='' m
        cr_start_daemon
        [[ -z $2 ]] || t=$(call "$1")
        m=$(call "$1" managed-objects)
        cr_stop_daemon || cr_die "certrevoked did not stop cleanly"
        [[ -z $2 ]] || printf -v "$2" '%s' "$t"
        printf -v "$3" '%s' "$m"
}

t10k='' t100k='' m10k='' m40k='' m100k=''
cr_log "filling the store with 10000 users"
fill 1 10000
measure 10000 t10k m10k
# About the most users whose objects fit in one message on the bus.
cr_log "filling the store up to 40000 users"
fill 10001 40000
measure 40000 "" m40k
cr_log "filling the store up to 100000 users"
fill 40001 100000
measure 100000 t100k m100k

awk -v a="$t10k" -v b="$t100k" -v target="$TARGET_S" -v runs="$RUNS" '
function rate(n, t) { return t > 0 ? sprintf("%.0f", n / t) : "inf" }
BEGIN {
        printf "ListUsers, best of %d calls, every user with a certificate\n", runs
        printf "  %6d users: %9.6f s  %9s users/s\n", 10000, a, rate(10000, a)
        printf "  %6d users: %9.6f s  %9s users/s\n", 100000, b, rate(100000, b)
        if (a > 0)
                printf "  t(100k)/t(10k) = %.2f (10 is linear)\n", b / a
        printf "  target: 100000 users under %s s: %s\n", target, (b < target ? "PASS" : "MISS")
}'
printf 'managed-objects N=%d seconds=%s\n' 10000 "$m10k" 40000 "$m40k" 100000 "$m100k"
for n in 10000 40000 100000; do
        m=m$((n / 1000))k
        [[ ${!m} != refused ]] ||
                echo "  GetManagedObjects of $n users: refused with LimitsExceeded, the reply would exceed the bus's 32 MiB a message"
done
