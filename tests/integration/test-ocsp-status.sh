#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# certrevoke-ocspd as clients see it, beside the real daemon on a private
# bus, run as an unprivileged user that reads the store through the group
# the tmpfiles lines give it (store.db, -wal, -shm 0640 root:GROUP):
#
# - openssl ocsp (POST, with and without a nonce) reports good for a valid
#   certificate, revoked with its reason after RevokeCertificate, revoked
#   with certificateHold while its user is suspended and good again after
#   the resume, unknown for a certificate of the CA the store does not
#   know; the nonce is echoed; the delegated responder signs (byKey);
# - a revocation is answered at once: twenty times in a row, revoke through
#   the daemon and ask right after the reply, by POST and by GET;
# - GET with the URL-escaped base64 request (curl) gives the same statuses,
#   with the RFC 5019/9919 cache headers (max-age within nextUpdate and
#   MaxAge=, ETag the SHA-256 of the body, Last-Modified, Expires); a
#   response fetched before a revocation differs from one after;
# - GnuTLS ocsptool --ask agrees;
# - another CA's certificate gets unauthorized, garbage malformedRequest
#   (not cacheable), a body over 4 KiB 413, another Content-Type 415; a
#   client that stops sending is dropped after 5 s;
# - the store replaced under the responder (new files renamed over the
#   old ones while certrevoked is stopped): a revocation after it is still
#   answered at once;
# - requests that need a signature wait for the signing workers: 32 nonce
#   POSTs at once are all answered with a signed response; with the bound
#   of waiting requests at 0 (CERTREVOKE_OCSPD_MAX_QUEUED=0, for tests) a
#   nonce and a SHA-256 response not signed yet get tryLater, while a
#   pre-signed response is still served; the unprivileged responder
#   follows commits through its watch on store.db-wal (debug log);
# - SIGTERM ends the responder with status 0, keeping its signed responses
#   in CacheDirectory=: after a restart it answers with the very same
#   responses, except for a certificate revoked meanwhile, which it signs
#   anew;
# - started with a socket from systemd (systemd-socket-activate), it
#   answers there and not on Listen=.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl curl ocsptool setpriv sha256sum base64 \
        systemd-socket-activate systemd-tmpfiles
[[ -x $CR_BUILD/certrevoke-ocspd ]] || cr_skip "certrevoke-ocspd not built in $CR_BUILD"
[[ $(id -u) == 0 ]] || cr_skip "needs root: the responder runs as another user"

cr_world_init
cr_pam_init
# shellcheck source=tests/ocsp-lib.sh
. "$CR_SRCDIR/tests/ocsp-lib.sh"

ADMIN=1001
OCSP_UID=1900 OCSP_GID=1900
N_CYCLE=20

cr_card alice "Alice Example"
cr_card bob "Bob Example"
cr_card carl "Carl Example"
cr_card dave "Dave Example"
cr_shared_cards "user%02d" $N_CYCLE 10
cr_pam_password boss boss-confirm
# of the CA, but never seen by the daemon
cr_cert_issue "$CR_CA" stranger Stranger "$CR_PAST" "$CR_LATER" "$CR_CERTS/stranger.pem"
# of another CA
cr_ca_create "$CR_TMP/other-ca" "Other Certificate Authority"
cr_cert_issue "$CR_TMP/other-ca" alien Alien "$CR_PAST" "$CR_LATER" "$CR_CERTS/alien.pem"

ocsp_responder_cert "$CR_CA" "$CR_TMP/responder.pem"
chown "$OCSP_UID:$OCSP_GID" "$CR_TMP/responder.key"

install -d -m 0700 -o "$OCSP_UID" -g "$OCSP_GID" "$CR_TMP/ocsp-cache"
cr_write_config "$CR_TMP/certrevoke.conf"
ocsp_write_config "$CR_TMP/certrevoke.conf" "Certificate=$CR_TMP/responder.pem" "Key=$CR_TMP/responder.key" \
        "Validity=2d" "MaxAge=10min" "CacheDirectory=$CR_TMP/ocsp-cache"

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN
cr_ctl add-user alice "Alice Example" general 1002
cr_ctl add-user bob "Bob Example" general 1003
cr_ctl add-user carl "Carl Example" general 1004
cr_ctl add-user dave "Dave Example" general 1005
for ((i = 1; i <= N_CYCLE; i++)); do
        cr_ctl add-user "$(printf 'user%02d' "$i")" "User $i" general $((2000 + i)) >/dev/null
done
assert_exit 0 cr_ctl rescan
cr_wait_first_crl

# The production layout: the shipped tmpfiles.d lines, with this world's
# state directory and the responder's group by number, make the state
# directory passable and the store readable by that group only.
sed -e "s|/var/lib/certrevoke|$CR_TMP/state|" -e "s|certrevoke-ocsp|$OCSP_GID|" \
        "$CR_SRCDIR/units/certrevoke.tmpfiles" >"$CR_TMP/tmpfiles.conf"
for f in store.db store.db-wal store.db-shm; do
        [[ -e $CR_TMP/state/$f ]] || cr_die "$f missing: the daemon must keep the log files"
done
assert_exit 0 systemd-tmpfiles --create "$CR_TMP/tmpfiles.conf"
assert_eq "$(printf '640 0 %s\n' $OCSP_GID $OCSP_GID $OCSP_GID)" \
        "$(cd "$CR_TMP/state" && stat -c '%a %u %g' store.db store.db-wal store.db-shm)" "the store for the group"
assert_eq 711 "$(stat -c %a "$CR_TMP/state")" "the state directory passable"

# certrevoked exits on idle: the responder starts while it is away, with
# the log files it kept (emptied), and follows it once it is back.
cr_stop_daemon
assert_eq 0 "$(stat -c %s "$CR_TMP/state/store.db-wal")" "the log kept, emptied, after the daemon's exit"
[[ -e $CR_TMP/state/store.db-shm ]] || cr_fail_at "store.db-shm gone with the daemon"
ocsp_start --as "$OCSP_UID:$OCSP_GID"
assert_contains "$(cat "$CR_TMP/ocspd.log")" "all $((4 + N_CYCLE)) responses signed" "every certificate signed ahead"
expect_early() {
        ocsp_ask "$1" -no_nonce
        assert_contains "$CR_LAST_OUTPUT" "Response verify OK" "$(basename "$1") while certrevoked is away"
        assert_eq "$2" "$(ocsp_status_of "$1")" "$(basename "$1") while certrevoked is away"
}
expect_early "$CR_CERTS/alice.pem" good
cr_start_daemon

# expect CERT STATUS [ARGS…]: openssl ocsp over POST says STATUS for CERT.
expect() {
        local cert=$1 want=$2
        shift 2
        ocsp_ask "$cert" "$@"
        assert_eq 0 "$CR_LAST_EXIT" "openssl ocsp on $(basename "$cert") $*: $CR_LAST_OUTPUT"
        assert_contains "$CR_LAST_OUTPUT" "Response verify OK" "$(basename "$cert"): the response verifies"
        assert_eq "$want" "$(ocsp_status_of "$cert")" "$(basename "$cert") $*"
}

# expect_get CERT STATUS: the same through GET (curl), read by openssl.
expect_get() {
        local cert=$1 want=$2 code
        code=$(ocsp_get "$(ocsp_b64_request "$cert")" "$CR_TMP/get.der")
        assert_eq 200 "$code" "GET for $(basename "$cert")"
        ocsp_read_response "$CR_TMP/get.der" "$cert"
        assert_contains "$CR_LAST_OUTPUT" "Response verify OK" "GET $(basename "$cert"): the response verifies"
        assert_eq "$want" "$(ocsp_status_of "$cert")" "GET $(basename "$cert")"
}

cr_log "good, unknown, unauthorized; with and without a nonce"
for nonce in "" -no_nonce; do
        expect "$CR_CERTS/alice.pem" good $nonce
        expect "$CR_CERTS/stranger.pem" unknown $nonce
done
ocsp_ask "$CR_CERTS/alice.pem" -resp_text
assert_contains "$CR_LAST_OUTPUT" "Responder Id: " "ResponderID"
assert_not_contains "$CR_LAST_OUTPUT" "Responder Id: C = " "ResponderID byKey, not byName"
assert_contains "$CR_LAST_OUTPUT" "OCSP Nonce:" "the nonce is echoed"
assert_contains "$CR_LAST_OUTPUT" "CN=OCSP Responder" "the responder certificate travels in the response"
assert_contains "$CR_LAST_OUTPUT" "Next Update:" "nextUpdate"
OCSP_ISSUER=$CR_TMP/other-ca/ca.pem ocsp_ask "$CR_CERTS/alien.pem"
assert_contains "$CR_LAST_OUTPUT" "unauthorized (6)" "another CA's certificate"
# SHA-256 CertIDs are answered too
expect "$CR_CERTS/bob.pem" good -no_nonce -sha256

cr_log "GET: the same answers, with cache headers"
expect_get "$CR_CERTS/alice.pem" good
expect_get "$CR_CERTS/stranger.pem" unknown
req=$(ocsp_b64_request "$CR_CERTS/alice.pem")
assert_eq 200 "$(ocsp_get "$req" "$CR_TMP/alice-before.der" "$CR_TMP/hdrs")" "GET alice"
assert_eq "application/ocsp-response" "$(ocsp_header Content-Type "$CR_TMP/hdrs")" "Content-Type"
assert_eq "\"$(sha256sum <"$CR_TMP/alice-before.der" | cut -d' ' -f1)\"" "$(ocsp_header ETag "$CR_TMP/hdrs")" \
        "ETag: the SHA-256 of the response"
cc=$(ocsp_header Cache-Control "$CR_TMP/hdrs")
assert_contains "$cc" "public, no-transform, must-revalidate" "Cache-Control"
max_age=$(sed -n 's/.*max-age=\([0-9]*\).*/\1/p' <<<"$cc")
expires=$(date -d "$(ocsp_header Expires "$CR_TMP/hdrs")" +%s)
ocsp_read_response "$CR_TMP/alice-before.der" "$CR_CERTS/alice.pem"
next_update=$(date -d "$(sed -n 's/^ *Next Update: //p' <<<"$CR_LAST_OUTPUT" | head -n1)" +%s)
assert_eq "$next_update" "$expires" "Expires is nextUpdate"
((max_age > 590 && max_age <= 600)) || cr_fail_at "max-age $max_age: MaxAge=10min bounds it"
((max_age <= next_update - $(date +%s) + 1)) || cr_fail_at "max-age $max_age beyond nextUpdate"
[[ -n $(ocsp_header Last-Modified "$CR_TMP/hdrs") ]] || cr_fail_at "no Last-Modified"
# '/' '+' '=' left unescaped work too
raw=$(printf '%b' "${req//%/\\x}")
assert_eq 200 "$(ocsp_get "$raw" "$CR_TMP/raw.der")" "GET with plain base64"
cmp -s "$CR_TMP/raw.der" "$CR_TMP/alice-before.der" || cr_fail_at "plain and escaped base64 differ in answer"
# a revalidation with the ETag is a 304
assert_eq 304 "$(curl -sS -o /dev/null -w '%{http_code}' -H "If-None-Match: $(ocsp_header ETag "$CR_TMP/hdrs")" \
        "$OCSP_URL/$req")" "If-None-Match"

cr_log "GnuTLS ocsptool agrees"
ocsptool_ask() {
        CR_LAST_OUTPUT=$(ocsptool --ask="$OCSP_URL/" --load-issuer "$CR_CA/ca.pem" --load-cert "$1" \
                --load-trust "$CR_CA/ca.pem" 2>&1) || true
}
ocsptool_ask "$CR_CERTS/bob.pem"
assert_contains "$CR_LAST_OUTPUT" "Certificate Status: good" "ocsptool: bob"
assert_contains "$CR_LAST_OUTPUT" "Verifying OCSP Response: Success" "ocsptool verifies"

cr_log "revocation, answered at once"
assert_exit 0 cr_revoke_as $ADMIN alice "" keyCompromise boss-confirm
expect "$CR_CERTS/alice.pem" revoked
assert_contains "$CR_LAST_OUTPUT" "Reason: keyCompromise" "the reason"
expect "$CR_CERTS/alice.pem" revoked -no_nonce
expect_get "$CR_CERTS/alice.pem" revoked
ocsp_get "$req" "$CR_TMP/alice-after.der" >/dev/null
! cmp -s "$CR_TMP/alice-before.der" "$CR_TMP/alice-after.der" || cr_fail_at "the response did not change"
ocsptool_ask "$CR_CERTS/alice.pem"
assert_contains "$CR_LAST_OUTPUT" "Certificate Status: revoked" "ocsptool: alice revoked"
for ((i = 1; i <= N_CYCLE; i++)); do
        login=$(printf 'user%02d' "$i")
        expect_get "$CR_CERTS/$login.pem" good
        cr_revoke_as $ADMIN "$login" "" superseded boss-confirm >/dev/null
        if ((i % 2)); then
                expect_get "$CR_CERTS/$login.pem" revoked
        else
                expect "$CR_CERTS/$login.pem" revoked -no_nonce
        fi
done

cr_log "suspension: certificateHold, and good again after the resume"
printf 'boss-confirm\n' | cr_ctl_as $ADMIN --password-stdin suspend carl >/dev/null
expect "$CR_CERTS/carl.pem" revoked
assert_contains "$CR_LAST_OUTPUT" "Reason: certificateHold" "carl on hold"
expect_get "$CR_CERTS/carl.pem" revoked
printf 'boss-confirm\n' | cr_ctl_as $ADMIN --password-stdin resume carl >/dev/null
expect "$CR_CERTS/carl.pem" good
expect_get "$CR_CERTS/carl.pem" good

cr_log "errors"
printf 'not a request' >"$CR_TMP/garbage"
code=$(curl -sS -o "$CR_TMP/resp.der" -D "$CR_TMP/hdrs" -w '%{http_code}' -H 'Content-Type: application/ocsp-request' \
        --data-binary @"$CR_TMP/garbage" "$OCSP_URL/")
assert_eq 200 "$code" "garbage: an OCSP answer"
assert_contains "$(openssl ocsp -respin "$CR_TMP/resp.der" -resp_text -noverify 2>&1)" "malformedrequest (1)" \
        "garbage: malformedRequest"
assert_eq "no-store" "$(ocsp_header Cache-Control "$CR_TMP/hdrs")" "errors are not cacheable"
assert_eq 200 "$(ocsp_get "AAAA" "$CR_TMP/resp.der")" "GET of garbage"
assert_contains "$(openssl ocsp -respin "$CR_TMP/resp.der" -resp_text -noverify 2>&1)" "malformedrequest (1)" \
        "GET garbage: malformedRequest"
head -c 5000 /dev/zero >"$CR_TMP/big"
assert_eq 413 "$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/ocsp-request' \
        --data-binary @"$CR_TMP/big" "$OCSP_URL/")" "a body over 4 KiB"
assert_eq 413 "$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/ocsp-request' \
        -H 'Transfer-Encoding: chunked' --data-binary @"$CR_TMP/big" "$OCSP_URL/")" "a chunked body over 4 KiB"
assert_eq 415 "$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: text/plain' \
        --data-binary @"$CR_TMP/garbage" "$OCSP_URL/")" "another Content-Type"
assert_eq 405 "$(curl -sS -o /dev/null -w '%{http_code}' -X PUT "$OCSP_URL/")" "PUT"
assert_eq 414 "$(ocsp_get "$(head -c 1500 /dev/zero | tr '\0' A)" /dev/null)" "an over-long GET"
# a client that stops halfway is dropped after 5 s of silence
exec 3<>"/dev/tcp/127.0.0.1/$OCSP_PORT"
printf 'GET /MEIw' >&3
start=$(date +%s)
timeout 20 cat <&3 >/dev/null || true
exec 3<&-
took=$(($(date +%s) - start))
((took >= 4 && took <= 8)) || cr_fail_at "a silent client was dropped after ${took}s, not 5s"
# still answering
expect "$CR_CERTS/bob.pem" good

cr_log "nonces wait for a signing worker, none refused"
N_FLOOD=32
openssl ocsp -issuer "$CR_CA/ca.pem" -cert "$CR_CERTS/bob.pem" -reqout "$CR_TMP/nonce.der" >/dev/null 2>&1 ||
        cr_die "openssl ocsp cannot make a request"
flood=()
for ((i = 0; i < N_FLOOD; i++)); do
        curl -sS -o "$CR_TMP/flood.$i.der" -H 'Content-Type: application/ocsp-request' \
                --data-binary @"$CR_TMP/nonce.der" "$OCSP_URL/" &
        flood+=($!)
done
for pid in "${flood[@]}"; do
        wait "$pid" || cr_fail_at "a nonce POST of $N_FLOOD at once failed"
done
for ((i = 0; i < N_FLOOD; i++)); do
        ocsp_read_response "$CR_TMP/flood.$i.der" "$CR_CERTS/bob.pem"
        assert_eq good "$(ocsp_status_of "$CR_CERTS/bob.pem")" "nonce $i of $N_FLOOD at once: $CR_LAST_OUTPUT"
done

cr_log "a store replaced under the responder is read afresh"
cr_stop_daemon
for f in store.db store.db-wal store.db-shm; do
        cp -p "$CR_TMP/state/$f" "$CR_TMP/state/$f.new"
done
for f in store.db store.db-wal store.db-shm; do
        mv "$CR_TMP/state/$f.new" "$CR_TMP/state/$f"
done
cr_start_daemon
expect "$CR_CERTS/dave.pem" good -no_nonce
assert_exit 0 cr_revoke_as $ADMIN dave "" cessationOfOperation boss-confirm
expect "$CR_CERTS/dave.pem" revoked -no_nonce
expect_get "$CR_CERTS/dave.pem" revoked
assert_contains "$(cat "$CR_TMP/ocspd.log")" "was replaced: reading the store afresh" "the replacement seen"

cr_log "signed responses kept across a restart"
carl_req=$(ocsp_b64_request "$CR_CERTS/carl.pem")
ocsp_get "$carl_req" "$CR_TMP/carl-before.der" >/dev/null
ocsp_stop
assert_contains "$(cat "$CR_TMP/ocspd.log")" "signed responses kept in $CR_TMP/ocsp-cache/responses" "kept at stop"
assert_eq "600 $OCSP_UID" "$(stat -c '%a %u' "$CR_TMP/ocsp-cache/responses")" "the kept responses are the responder's"
# revoked while the responder is down: its kept response is stale
assert_exit 0 cr_revoke_as $ADMIN bob "" affiliationChanged boss-confirm
ocsp_start --as "$OCSP_UID:$OCSP_GID"
taken=$(sed -n 's/^.*: \([0-9][0-9]*\) signed responses taken from .*/\1/p' "$CR_TMP/ocspd.log" | head -n1)
[[ -n $taken ]] && ((taken >= 2 + N_CYCLE)) ||
        cr_fail_at "few responses taken from the cache: '$taken'" "$(cat "$CR_TMP/ocspd.log")"
ocsp_get "$carl_req" "$CR_TMP/carl-after.der" >/dev/null
cmp -s "$CR_TMP/carl-before.der" "$CR_TMP/carl-after.der" ||
        cr_fail_at "carl's response was signed again instead of taken from the cache"
expect "$CR_CERTS/bob.pem" revoked -no_nonce
assert_contains "$CR_LAST_OUTPUT" "Reason: affiliationChanged" "bob, revoked while the responder was down"
expect_get "$CR_CERTS/bob.pem" revoked
ocsp_stop

cr_log "tryLater beyond the bound of waiting requests"
CERTREVOKE_OCSPD_MAX_QUEUED=0 ocsp_start --as "$OCSP_UID:$OCSP_GID" --debug
assert_contains "$(cat "$CR_TMP/ocspd.log")" "up to 0 waiting for a signature" "the bound from the environment"
ocsp_ask "$CR_CERTS/carl.pem"
assert_contains "$CR_LAST_OUTPUT" "trylater (3)" "a nonce with no place to wait"
ocsp_ask "$CR_CERTS/carl.pem" -no_nonce -sha256
assert_contains "$CR_LAST_OUTPUT" "trylater (3)" "a SHA-256 response not signed yet, with no place to wait"
expect_get "$CR_CERTS/carl.pem" good
# the unprivileged responder watches the log and sees the writer's lock
assert_contains "$(cat "$CR_TMP/ocspd.log")" "store.db-wal watched: answers without a look at the store" \
        "commits followed through the watch"
ocsp_stop

cr_log "socket activation"
listen_port=$OCSP_PORT
OCSP_PORT=$(cr_free_port)
OCSP_URL=http://127.0.0.1:$OCSP_PORT
: >"$CR_TMP/ocspd.log"
(cd "$CR_TMP" && exec systemd-socket-activate -l "127.0.0.1:$OCSP_PORT" \
        setpriv --reuid=$OCSP_UID --regid=$OCSP_GID --clear-groups --inh-caps=-all \
        "$OCSPD_BIN" --config="$CR_TMP/certrevoke.conf" </dev/null >>"$CR_TMP/ocspd.log" 2>&1) &
OCSP_PID=$!
cr_track "$OCSP_PID"
for ((i = 0; i < 50; i++)); do
        grep -q "Listening on" "$CR_TMP/ocspd.log" && break
        sleep 0.1
done
expect "$CR_CERTS/alice.pem" revoked
expect_get "$CR_CERTS/carl.pem" good
assert_contains "$(cat "$CR_TMP/ocspd.log")" "on the socket systemd passed" "the passed socket is used"
assert_exit 7 curl -sS -o /dev/null "http://127.0.0.1:$listen_port/"
ocsp_stop

cr_stop_daemon
echo "OCSP statuses OK"
