#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# certrevoke-ocspd behind nginx's proxy_cache, as RFC 5019 intends GET to
# be deployed: the cache keeps answers for max-age, which the responder
# bounds with [OCSP] MaxAge=, and revalidates them with If-None-Match
# (proxy_cache_revalidate) once they expire.
#
# - the second GET of a certificate is served from the cache (X-Cache HIT)
#   with the same bytes;
# - after a revocation the cache may serve the old answer, but only until
#   max-age runs out: then the responder's new answer (another ETag)
#   arrives through the cache, revoked, within MaxAge= (+1 s of rounding);
# - an unchanged answer is revalidated (304 from the responder: X-Cache
#   REVALIDATED) instead of fetched again;
# - POST passes through uncached.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl curl nginx base64 bc
[[ -x $CR_BUILD/certrevoke-ocspd ]] || cr_skip "certrevoke-ocspd not built in $CR_BUILD"

cr_world_init
cr_pam_init
# shellcheck source=tests/ocsp-lib.sh
. "$CR_SRCDIR/tests/ocsp-lib.sh"

ADMIN=1001
MAX_AGE=3

cr_card alice "Alice Example"
cr_card bob "Bob Example"
cr_pam_password boss boss-confirm

cr_write_config "$CR_TMP/certrevoke.conf"
# the CA signs its own responses here (no [OCSP] Certificate=)
ocsp_write_config "$CR_TMP/certrevoke.conf" "Validity=1d" "MaxAge=${MAX_AGE}s"

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN
cr_ctl add-user alice "Alice Example" general 1002
cr_ctl add-user bob "Bob Example" general 1003
assert_exit 0 cr_ctl rescan
cr_wait_first_crl
ocsp_start

# ---- nginx in front
NGINX_PORT=$(cr_free_port)
mkdir -p "$CR_TMP/nginx/cache" "$CR_TMP/nginx/logs"
cat >"$CR_TMP/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
user root root;
pid $CR_TMP/nginx/nginx.pid;
error_log $CR_TMP/nginx/logs/error.log info;
events { worker_connections 64; }
http {
        access_log $CR_TMP/nginx/logs/access.log;
        client_body_temp_path $CR_TMP/nginx/body;
        proxy_temp_path $CR_TMP/nginx/proxy;
        proxy_cache_path $CR_TMP/nginx/cache levels=1:2 keys_zone=ocsp:1m max_size=10m inactive=1h use_temp_path=off;
        upstream ocspd {
                server 127.0.0.1:$OCSP_PORT;
                keepalive 8;
        }
        server {
                listen 127.0.0.1:$NGINX_PORT;
                client_max_body_size 4k;
                location / {
                        proxy_pass http://ocspd;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_cache ocsp;
                        # the raw URI: \$uri is unescaped and would mix requests up
                        proxy_cache_key \$request_uri;
                        proxy_cache_methods GET;
                        proxy_cache_revalidate on;
                        proxy_cache_lock on;
                        add_header X-Cache \$upstream_cache_status always;
                }
        }
}
EOF
nginx -p "$CR_TMP/nginx" -c "$CR_TMP/nginx/nginx.conf" -e "$CR_TMP/nginx/logs/error.log" \
        >"$CR_TMP/nginx.log" 2>&1 &
NGINX_PID=$!
cr_track "$NGINX_PID"
for ((i = 0; i < 50; i++)); do
        curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/" && break
        [[ -n $(cr_pids_alive "$NGINX_PID") ]] || cr_die "nginx exited: $(cat "$CR_TMP/nginx.log")"
        sleep 0.1
done
OCSP_GET_BASE=http://127.0.0.1:$NGINX_PORT

# cached CERT OUT.der: GET through nginx; sets STATUS (openssl's reading),
# XCACHE and ETAG.
cached() {
        local code
        code=$(ocsp_get "$(ocsp_b64_request "$1")" "$2" "$CR_TMP/hdrs")
        assert_eq 200 "$code" "GET $(basename "$1") through nginx"
        XCACHE=$(ocsp_header X-Cache "$CR_TMP/hdrs")
        ETAG=$(ocsp_header ETag "$CR_TMP/hdrs")
        ocsp_read_response "$2" "$1"
        assert_contains "$CR_LAST_OUTPUT" "Response verify OK" "$(basename "$1") through nginx: verifies"
        STATUS=$(ocsp_status_of "$1")
}

cr_log "the second GET is a cache hit"
cached "$CR_CERTS/bob.pem" "$CR_TMP/bob-1.der"
assert_eq good "$STATUS" "bob"
assert_eq MISS "$XCACHE" "first GET"
etag_before=$ETAG
cached "$CR_CERTS/bob.pem" "$CR_TMP/bob-2.der"
assert_eq HIT "$XCACHE" "second GET"
cmp -s "$CR_TMP/bob-1.der" "$CR_TMP/bob-2.der" || cr_fail_at "the cache served other bytes"
cached "$CR_CERTS/alice.pem" "$CR_TMP/alice-1.der"
assert_eq MISS "$XCACHE" "alice's first GET"

cr_log "a revocation arrives through the cache within MaxAge=${MAX_AGE}s"
assert_exit 0 cr_revoke_as $ADMIN bob "" keyCompromise boss-confirm
revoked_at=$(date +%s.%N)
while :; do
        cached "$CR_CERTS/bob.pem" "$CR_TMP/bob-3.der"
        [[ $STATUS == revoked ]] && break
        assert_eq good "$STATUS" "before max-age runs out the old answer"
        assert_eq HIT "$XCACHE" "the old answer comes from the cache"
        late=$(echo "$(date +%s.%N) - $revoked_at > $MAX_AGE + 1" | bc)
        ((late == 0)) || cr_fail_at "bob still good through the cache after ${MAX_AGE}s + 1s"
        sleep 0.2
done
took=$(echo "$(date +%s.%N) - $revoked_at" | bc)
cr_log "revoked through the cache after ${took}s"
assert_contains "$CR_LAST_OUTPUT" "Reason: keyCompromise" "the reason through the cache"
[[ $ETAG != "$etag_before" ]] || cr_fail_at "the revoked answer kept the ETag"
[[ $XCACHE == EXPIRED || $XCACHE == MISS ]] || cr_fail_at "the revoked answer came as $XCACHE"
cached "$CR_CERTS/bob.pem" "$CR_TMP/bob-4.der"
assert_eq HIT "$XCACHE" "the new answer is cached in turn"
assert_eq revoked "$STATUS" "bob, from the cache"

cr_log "an unchanged answer is revalidated"
sleep $((MAX_AGE + 1))
cached "$CR_CERTS/alice.pem" "$CR_TMP/alice-2.der"
assert_eq good "$STATUS" "alice"
assert_eq REVALIDATED "$XCACHE" "alice after max-age"

cr_log "POST passes through"
OCSP_URL=$OCSP_GET_BASE ocsp_ask "$CR_CERTS/alice.pem"
assert_eq good "$(ocsp_status_of "$CR_CERTS/alice.pem")" "POST through nginx"
assert_contains "$CR_LAST_OUTPUT" "Response verify OK" "POST through nginx verifies"

kill -TERM "$NGINX_PID"
wait "$NGINX_PID" || true
cr_untrack "$NGINX_PID"
ocsp_stop
cr_stop_daemon
echo "OCSP behind nginx OK"
