#!/bin/bash
# Helpers of the OCSP responder's tests (tests/integration/test-ocsp-*.sh),
# sourced after tests/lib.sh and cr_world_init.
#
#   ocsp_responder_cert CADIR OUT.pem   a delegated responder certificate
#   ocsp_write_config CONF [KEY=VALUE…] adds an [OCSP] section
#   ocsp_start [--as UID:GID]           starts certrevoke-ocspd ($OCSP_PORT)
#   ocsp_stop                           SIGTERM; fails on a bad exit
#   ocsp_ask CERT.pem [ARGS…]           openssl ocsp over POST: its output
#   ocsp_get CERT.pem OUT.der [HDRS]    a GET of CERT's request (curl)
#   ocsp_status_of TEXT CERT.pem        good / revoked / unknown from openssl

[[ -n ${OCSPD_BIN:-} ]] || OCSPD_BIN=$CR_BUILD/certrevoke-ocspd
OCSP_PID=

# ocsp_responder_cert CADIR OUT.pem: a responder certificate issued by the
# CA for OCSP signing (id-kp-OCSPSigning, id-pkix-ocsp-nocheck), key OUT.key.
ocsp_responder_cert() {
        local ca=$1 out=$2 ext=$CR_TMP/ocsp-ext.cnf
        cat >"$ext" <<EOC
[ ocsp ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, OCSPSigning
noCheck = ignored
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOC
        cr_genkey "${out%.pem}.key"
        openssl req -new -key "${out%.pem}.key" -subj "/O=Demo Org/CN=OCSP Responder" -out "$out.csr" 2>/dev/null
        openssl x509 -req -in "$out.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" -days 365 \
                -set_serial "0x$(openssl rand -hex 8)" -extfile "$ext" -extensions ocsp -out "$out" 2>/dev/null ||
                cr_die "cannot issue the responder certificate"
        rm -f -- "$out.csr" "$ext"
}

# ocsp_write_config CONF [KEY=VALUE…]: an [OCSP] section listening on a free
# port ($OCSP_PORT) with the given keys.
ocsp_write_config() {
        local conf=$1 kv
        shift
        OCSP_PORT=$(cr_free_port)
        OCSP_URL=http://127.0.0.1:$OCSP_PORT
        {
                printf '\n[OCSP]\nListen=127.0.0.1:%s\n' "$OCSP_PORT"
                for kv in "$@"; do
                        printf '%s\n' "$kv"
                done
        } >>"$conf"
}

# ocsp_start [--as UID:GID] [ARGS…]: starts the responder on
# $CR_TMP/certrevoke.conf (log $CR_TMP/ocspd.log) and waits until it
# answers and has signed every response ("all N responses signed"), up to
# OCSP_START_TIMEOUT seconds (default 20).
ocsp_start() {
        local i as=() log=$CR_TMP/ocspd.log timeout=${OCSP_START_TIMEOUT:-20}
        if [[ ${1:-} == --as ]]; then
                as=(setpriv --reuid="${2%%:*}" --regid="${2#*:}" --clear-groups --inh-caps=-all)
                shift 2
        fi
        : >"$log"
        chmod 0666 "$log"
        (cd "$CR_TMP" && exec "${as[@]}" "$OCSPD_BIN" --config="$CR_TMP/certrevoke.conf" "$@" \
                </dev/null >>"$log" 2>&1) &
        OCSP_PID=$!
        cr_track "$OCSP_PID"
        for ((i = 0; i < timeout * 10; i++)); do
                grep -q "responses signed" "$log" && return 0
                if [[ -z $(cr_pids_alive "$OCSP_PID") ]]; then
                        cat "$log" >&2
                        cr_die "certrevoke-ocspd exited at start"
                fi
                sleep 0.1
        done
        cat "$log" >&2
        cr_die "certrevoke-ocspd did not sign its responses within $timeout s"
}

# ocsp_stop: SIGTERM; fails unless it exits 0 within 10 s (and, under
# ASan, without a report).
ocsp_stop() {
        local i status=0
        [[ -n $OCSP_PID ]] || return 0
        kill -TERM "$OCSP_PID" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
                [[ -z $(cr_pids_alive "$OCSP_PID") ]] && break
                sleep 0.1
        done
        [[ -z $(cr_pids_alive "$OCSP_PID") ]] || cr_fail_at "certrevoke-ocspd ignored SIGTERM"
        wait "$OCSP_PID" || status=$?
        cr_untrack "$OCSP_PID"
        OCSP_PID=
        if ((status != 0)); then
                tail -n 30 "$CR_TMP/ocspd.log" >&2
                cr_fail_at "certrevoke-ocspd exited with $status on SIGTERM"
        fi
        if [[ $CR_ASAN == 1 ]]; then
                cr_check_sanitizers "$CR_TMP/ocspd.log" || cr_fail_at "sanitizer report from certrevoke-ocspd"
        fi
}

# ocsp_ask CERT.pem [ARGS…]: openssl ocsp's verdict on CERT over POST,
# checked against the CA; output in CR_LAST_OUTPUT, exit in CR_LAST_EXIT.
# ARGS come before -cert (-sha256 must); OCSP_ISSUER names another issuer.
ocsp_ask() {
        local cert=$1
        shift
        CR_LAST_EXIT=0
        CR_LAST_OUTPUT=$(openssl ocsp "$@" -issuer "${OCSP_ISSUER:-$CR_CA/ca.pem}" -cert "$cert" -url "$OCSP_URL" \
                -CAfile "$CR_CA/ca.pem" 2>&1) || CR_LAST_EXIT=$?
}

# ocsp_status_of CERT.pem: the status openssl ocsp reports for CERT in
# CR_LAST_OUTPUT ("good", "revoked", "unknown"), "" when none.
ocsp_status_of() {
        awk -v c="$1" 'index($0, c ": ") == 1 { sub(/^[^:]*: /, ""); print; exit }' <<<"$CR_LAST_OUTPUT"
}

# ocsp_b64_request CERT.pem [ARGS…]: the URL-escaped base64 request for CERT
# (no nonce unless ARGS say otherwise), as RFC 5019 A.1 puts it in a GET.
ocsp_b64_request() {
        local cert=$1 req=$CR_TMP/.get-req.der
        shift
        openssl ocsp -issuer "$CR_CA/ca.pem" -cert "$cert" -no_nonce "$@" -reqout "$req" >/dev/null 2>&1 ||
                cr_die "openssl ocsp cannot make a request for $cert"
        base64 -w0 <"$req" | sed 's|+|%2B|g; s|/|%2F|g; s|=|%3D|g'
        rm -f -- "$req"
}

# ocsp_get URL_PATH OUT.der [HEADERS_OUT]: GET BASE/URL_PATH with curl;
# the body in OUT.der, the headers in HEADERS_OUT, the status code printed.
ocsp_get() {
        local path=$1 out=$2 hdrs=${3:-/dev/null} base=${OCSP_GET_BASE:-$OCSP_URL}
        curl -sS -o "$out" -D "$hdrs" -w '%{http_code}' "$base/$path"
}

# ocsp_read_response RESP.der CERT.pem: what openssl ocsp reads in a response
# for CERT (verified against the CA); output in CR_LAST_OUTPUT.
ocsp_read_response() {
        CR_LAST_EXIT=0
        CR_LAST_OUTPUT=$(openssl ocsp -respin "$1" -issuer "$CR_CA/ca.pem" -cert "$2" -CAfile "$CR_CA/ca.pem" \
                -no_nonce -resp_text 2>&1) || CR_LAST_EXIT=$?
}

# ocsp_header NAME FILE: a header's value in a curl -D dump.
ocsp_header() {
        awk -v n="$1" 'BEGIN { IGNORECASE = 1 } tolower($0) ~ "^" tolower(n) ":" { sub(/^[^:]*: */, ""); sub(/\r$/, ""); print; exit }' "$2"
}
