#!/bin/bash
# certrevoke-ocspd beside `openssl ocsp -index … -port`, in one run, on the
# same CA, the same responder certificate and key (RSA-2048, delegated by
# the CA) and the same certificates, for each N of --sizes (default 1k,
# 100k and 1M known certificates, a tenth of them revoked):
#
#   get_rps      nonce-less GETs (RFC 5019), the path relying parties and
#                caches use: URLs for up to SAMPLE certificates drawn at
#                random, sent by h2load over 16 keep-alive connections for
#                DURATION seconds
#   post_rps     POSTs of one request with a nonce, which is signed anew
#                for every answer
#   p99_ms       the 99th percentile of the GETs' latency
#   openssl_rps  the same GETs answered by `openssl ocsp`, which runs in a
#                network namespace of its own (it binds every address):
#                PEER_REQUESTS of them, as it closes every connection
#
# One line per size, then the time from RevokeCertificate's reply to the
# responder's first "revoked" answer (median of five revocations, each
# watched by a client connected beforehand, at the largest size):
#
#   ocsp N=<n> get_rps=<r> post_rps=<r> p99_ms=<ms> openssl_rps=<r> ratio=<get_rps/openssl_rps>
#   revoke_to_ocsp_ms=<ms>
#
# The responder signs every known certificate's response before it is
# measured (it logs when all are signed); at 1M that takes minutes the
# first time.  Leaves nothing behind.
#
#   bench/ocsp.sh [--build=DIR] [--sizes=N,N,...] [--duration=S]

# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
set -euo pipefail

SIZES=1000,100000,1000000
DURATION=10
for arg in "$@"; do
        case $arg in
        --build=*) export CR_BUILD=${arg#--build=} ;;
        --sizes=*) SIZES=${arg#--sizes=} ;;
        --duration=*) DURATION=${arg#--duration=} ;;
        *)
                echo "usage: $0 [--build=DIR] [--sizes=N,N,...] [--duration=S]" >&2
                exit 2
                ;;
        esac
done

# not a test: no CRL-number watcher (tests/lib.sh, cr_crl_watch)
CR_CRL_WATCH=0

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../tests/lib.sh"

SAMPLE=10000
CLIENTS=16
PEER_REQUESTS=20000
WATCHED=5
ADMIN_UID=2000
CLIENT=$CR_BUILD/bench/ocsp-client
OCSPD=$CR_BUILD/certrevoke-ocspd

cr_need_cmd dbus-daemon sqlite3 openssl softhsm2-util h2load unshare ip awk curl bc
[[ -x $CLIENT ]] || cr_die "no $CLIENT: make $CLIENT first"
[[ -x $OCSPD ]] || cr_die "no $OCSPD: build first"

# The delegated responder certificate both responders sign with.
responder_cert() {
        local ca=$1
        cat >"$ca/responder.cnf" <<EOF
[ ocsp ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, OCSPSigning
noCheck = ignored
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
        CR_KEY_TYPE=rsa cr_genkey "$ca/responder.key"
        openssl req -new -key "$ca/responder.key" -subj "/O=Demo Org/CN=OCSP responder" -out "$ca/responder.csr" 2>/dev/null
        openssl x509 -req -in "$ca/responder.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" -days 365 \
                -set_serial 0x7e57 -extfile "$ca/responder.cnf" -extensions ocsp -out "$ca/responder.pem" 2>/dev/null ||
                cr_die "cannot issue the responder certificate"
}

# A world for N: CA, bus, the daemon with one admin and WATCHED users whose
# certificates are on tokens, then N known certificates in its store.
world() {
        local n=$1 i login
        cr_setup_tmp
        cr_softhsm_init
        CR_KEY_TYPE=rsa cr_ca_create "$CR_TMP/ca" >/dev/null
        responder_cert "$CR_TMP/ca"
        cr_start_bus
        cr_add_passwd cr-bench-admin $ADMIN_UID
        cr_write_config "$CR_TMP/certrevoke.conf"
        PORT=$(cr_free_port)
        cat >>"$CR_TMP/certrevoke.conf" <<EOF

[OCSP]
Certificate=$CR_TMP/ca/responder.pem
Key=$CR_TMP/ca/responder.key
Listen=127.0.0.1:$PORT
Validity=1d
EOF
        cr_pam_init
        printf 'auth required pam_permit.so\naccount required pam_permit.so\n' >"$CR_TMP/pam/certrevoke"
        CR_DAEMON_TIMEOUT=600
        cr_start_daemon
        cr_ctl add-user admin "Admin" admin $ADMIN_UID >/dev/null
        for i in $(seq 1 $WATCHED); do
                login=$(printf 'w%02d' "$i")
                CR_KEY_TYPE=ec cr_cert_issue "$CR_TMP/ca" "$login" "Watched $i" "$(cr_date_utc '-1 day')" \
                        "$(cr_date_utc '+365 days')" "$CR_TMP/$login.pem" >/dev/null
                cr_token_create "card-$login" >/dev/null
                cr_token_put_cert "card-$login" "$CR_TMP/$login.pem" 01 "$login" >/dev/null
                cr_ctl add-user "$login" "Watched $i" general $((3000 + i)) >/dev/null
        done
        cr_ctl rescan >/dev/null
        cr_stop_daemon
        cr_store_fill_revoked $((n / 10)) "$CR_TMP/ca"
        cr_store_fill_known $((n - n / 10)) "$CR_TMP/ca" $((n / 10 + 1))
        cr_start_daemon
}

# The serial of the i-th prefilled certificate (tests/lib.sh): the 16
# digits of i in ASCII, as hex; for SAMPLE of the n drawn at random.
sample_serials() {
        local n=$1
        awk -v n="$n" -v k="$SAMPLE" 'BEGIN {
                srand(11); if (k > n) k = n
                for (j = 0; j < k; j++) {
                        i = 1 + int(rand() * n); s = sprintf("%016d", i); h = ""
                        for (c = 1; c <= 16; c++) h = h "3" substr(s, c, 1)
                        print h
                }
        }'
}

# openssl ocsp's index of the same n certificates: the first tenth revoked.
openssl_index() {
        local n=$1 until rev
        until=$(date -u -d "+365 days" +%y%m%d%H%M%SZ)
        rev=$(date -u +%y%m%d%H%M%SZ)
        awk -v n="$n" -v until="$until" -v rev="$rev" 'BEGIN {
                for (i = 1; i <= n; i++) {
                        s = sprintf("%016d", i); h = ""
                        for (c = 1; c <= 16; c++) h = h "3" substr(s, c, 1)
                        if (i <= int(n / 10))
                                printf "R\t%s\t%s,keyCompromise\t%s\tunknown\t/CN=prefilled %d\n", until, rev, h, i
                        else
                                printf "V\t%s\t\t%s\tunknown\t/CN=prefilled %d\n", until, h, i
                }
        }'
}

# Waits until the responder has a signed response for every certificate.
wait_signed() {
        local i
        for ((i = 0; i < 36000; i++)); do
                grep -q 'responses signed' "$CR_TMP/ocspd.log" && return 0
                [[ -n $(cr_pids_alive "$OCSPD_PID") ]] || { tail "$CR_TMP/ocspd.log" >&2; cr_die "certrevoke-ocspd exited"; }
                sleep 0.1
        done
        cr_die "certrevoke-ocspd did not sign every response within an hour"
}

start_ocspd() {
        (cd "$CR_TMP" && exec "$OCSPD" --config="$CR_TMP/certrevoke.conf" </dev/null >>"$CR_TMP/ocspd.log" 2>&1) &
        OCSPD_PID=$!
        cr_track "$OCSPD_PID"
        wait_signed
}

# h2load's summary → "<req/s> <failed> <mean bytes of an answer's body>".
h2load_rps() {
        awk '/^finished in/ { rps = $4 } /^requests:/ { bad = $10 + $12 + $14; done = $6 }
             /^status codes:/ { bad += $7 + $9 }
             /^traffic:/ { for (i = 1; i <= NF; i++) if ($i == "data") { d = $(i - 1); gsub(/[()]/, "", d) } }
             END { printf "%s %d %.0f\n", rps, bad, done ? d / done : 0 }' "$1"
}

# Fails unless a load's answers were whole responses: a responder may
# answer tryLater (5 bytes) when it cannot sign more at once, and those
# would count as answered.
check_load() {
        local what=$1 bad=$2 mean=$3 whole=$4
        ((bad == 0)) || cr_die "$what: $bad requests failed"
        ((mean * 10 >= whole * 9)) || cr_die "$what: answers of $mean bytes on average, where a response has $whole"
}

# The size of one response to a GET of URL, or to a POST of FILE.
response_size() {
        if [[ -f $1 ]]; then
                curl -s --data-binary @"$1" -H 'Content-Type: application/ocsp-request' "http://127.0.0.1:$PORT/" | wc -c
        else
                curl -s "$1" | wc -c
        fi
}

p99_ms() {
        awk '{ print $3 }' "$1" | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int(NR * 0.99)] / 1000 }'
}

load() {
        local out=$1
        shift
        h2load --h1 -c"$CLIENTS" -D"$DURATION" "$@" >"$out" 2>&1 || { cat "$out" >&2; cr_die "h2load failed"; }
}

# openssl ocsp on PORT in a network namespace of its own, the same GETs
# sent from inside it; prints h2load's summary.
openssl_load() {
        local ca=$CR_TMP/ca
        sed "s|^http://127.0.0.1:$PORT|http://127.0.0.1:9080|" "$CR_TMP/urls" >"$CR_TMP/urls.openssl"
        unshare -n bash -c '
                ip link set lo up
                openssl ocsp -index "$1/index.txt" -CA "$1/ca.pem" -rsigner "$1/responder.pem" \
                        -rkey "$1/responder.key" -port 9080 -nmin 1440 -ignore_err >"$2/openssl-ocsp.log" 2>&1 &
                peer=$!
                for i in $(seq 1 600); do
                        openssl ocsp -issuer "$1/ca.pem" -serial 0x7e57 -url http://127.0.0.1:9080 \
                                -no_nonce -noverify >/dev/null 2>&1 && break
                        sleep 0.1
                done
                # a count, not a duration: h2load never ends a timed run
                # against a server that closes every connection
                h2load --h1 -c"$3" -n"$4" -i "$2/urls.openssl" >"$2/h2load.openssl" 2>&1
                status=$?
                kill $peer
                wait $peer 2>/dev/null
                exit $status
        ' _ "$CR_TMP/ocsp-peer" "$CR_TMP" "$CLIENTS" "$PEER_REQUESTS" || {
                cat "$CR_TMP/h2load.openssl" "$CR_TMP/openssl-ocsp.log" >&2
                cr_die "openssl ocsp's run failed"
        }
}

run() {
        local n=$1 get post bad mean p99 peer
        world "$n"
        mkdir -p "$CR_TMP/ocsp-peer"
        cp "$CR_TMP/ca/ca.pem" "$CR_TMP/ca/responder.pem" "$CR_TMP/ca/responder.key" "$CR_TMP/ocsp-peer/"
        openssl_index "$n" >"$CR_TMP/ocsp-peer/index.txt"
        echo "unique_subject = no" >"$CR_TMP/ocsp-peer/index.txt.attr"
        sample_serials "$n" >"$CR_TMP/serials"
        "$CLIENT" urls "$CR_TMP/ca/ca.pem" "http://127.0.0.1:$PORT" "$CR_TMP/serials" "$CR_TMP/urls"
        "$CLIENT" post "$CR_TMP/ca/ca.pem" "$(sed -n '1p' "$CR_TMP/serials")" "$CR_TMP/post.der"
        start_ocspd

        load "$CR_TMP/h2load.get" -i "$CR_TMP/urls" --log-file="$CR_TMP/get.log"
        read -r get bad mean < <(h2load_rps "$CR_TMP/h2load.get")
        check_load GET "$bad" "$mean" "$(response_size "$(sed -n '1p' "$CR_TMP/urls")")"
        p99=$(p99_ms "$CR_TMP/get.log")
        load "$CR_TMP/h2load.post" -d "$CR_TMP/post.der" -H 'Content-Type: application/ocsp-request' \
                "http://127.0.0.1:$PORT/"
        read -r post bad mean < <(h2load_rps "$CR_TMP/h2load.post")
        check_load POST "$bad" "$mean" "$(response_size "$CR_TMP/post.der")"
        openssl_load
        read -r peer bad mean < <(h2load_rps "$CR_TMP/h2load.openssl")
        ((bad == 0)) || { cat "$CR_TMP/h2load.openssl" >&2; cr_die "$bad GETs to openssl ocsp failed"; }
        printf 'ocsp N=%d get_rps=%.0f post_rps=%.0f p99_ms=%s openssl_rps=%.0f ratio=%.1f\n' \
                "$n" "$get" "$post" "$p99" "$peer" "$(echo "$get / $peer" | bc -l)"
        if [[ $n == "$LAST" ]]; then
                watch
        fi
}

# Each watched user's certificate revoked in turn; the client asks the
# responder from the reply on.
watch() {
        local i login serial ms=()
        for i in $(seq 1 $WATCHED); do
                login=$(printf 'w%02d' "$i")
                serial=$(cr_cert_serial "$CR_TMP/$login.pem")
                echo "$serial" >"$CR_TMP/watch.serial"
                "$CLIENT" urls "$CR_TMP/ca/ca.pem" "http://127.0.0.1:$PORT" "$CR_TMP/watch.serial" "$CR_TMP/watch.url"
                ms+=("$(cr_as $ADMIN_UID env DBUS_SYSTEM_BUS_ADDRESS="$CR_BUS_ADDRESS" \
                        "$CLIENT" watch any "$login" "$(cat "$CR_TMP/watch.url")" 2>>"$CR_TMP/watch.log")") ||
                        { cat "$CR_TMP/watch.log" >&2; cr_die "the revocation of $login did not reach the responder"; }
        done
        printf 'revoke_to_ocsp_ms=%s\n' "$(printf '%s\n' "${ms[@]}" | sort -n | sed -n "$(((WATCHED + 1) / 2))p")"
}

IFS=, read -r -a sizes <<<"$SIZES"
LAST=${sizes[-1]}
for n in "${sizes[@]}"; do
        (run "$n")
done
