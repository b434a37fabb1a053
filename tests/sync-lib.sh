# shellcheck shell=bash
# certrevoke-sync in the test world: nginx serving host A's PublishDirectory
# on 127.0.0.1, and host B as directories of its own with a configuration
# that syncs from it.  Sourced after tests/lib.sh by the sync tests and the
# sync benchmark.
#
# nginx serves $CR_TMP/served, a symbolic link to A's PublishDirectory that
# cr_serve points elsewhere (a tampered or older copy) and back.  Its access
# log, $CR_NGINX_LOG, has one line per request: "METHOD URI STATUS BYTES
# RANGE".

CR_NGINX=${CR_NGINX:-/usr/sbin/nginx}
CR_NGINX_PORT=
CR_NGINX_PID=
CR_NGINX_LOG=
CR_HOSTB=
CR_HOSTB_CONF=

# cr_serve DIR: what nginx serves from now on.
cr_serve() {
        ln -sfn -- "$1" "$CR_TMP/served"
}

# cr_start_nginx DIR: nginx, in the foreground as a child of the test (its
# own prefix, configuration, pid file and temporary paths in $CR_TMP/nginx),
# serving DIR on 127.0.0.1:$CR_NGINX_PORT (and a redirect to http at
# /moved/); with CR_NGINX_TLS_CERT and CR_NGINX_TLS_KEY over TLS.  Waits
# until it answers.
cr_start_nginx() {
        local d=$CR_TMP/nginx i
        [[ -x $CR_NGINX ]] || cr_skip "$CR_NGINX is not installed (Debian package nginx-light)"
        mkdir -p "$d/tmp"
        cr_serve "$1"
        CR_NGINX_PORT=$(cr_free_port)
        CR_NGINX_LOG=$d/access.log
        cat >"$d/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 64; }
http {
        log_format sync '\$request_method \$uri \$status \$body_bytes_sent \$http_range';
        access_log $CR_NGINX_LOG sync;
        client_body_temp_path $d/tmp/body;
        proxy_temp_path $d/tmp/proxy;
        fastcgi_temp_path $d/tmp/fastcgi;
        uwsgi_temp_path $d/tmp/uwsgi;
        scgi_temp_path $d/tmp/scgi;
        types { application/pkix-crl der; }
        default_type application/octet-stream;
        server {
                listen 127.0.0.1:$CR_NGINX_PORT${CR_NGINX_TLS_CERT:+ ssl};
                ${CR_NGINX_TLS_CERT:+ssl_certificate $CR_NGINX_TLS_CERT; ssl_certificate_key $CR_NGINX_TLS_KEY;}
                root $CR_TMP/served;
                location / { }
                location /moved/ { return 301 http://127.0.0.1:$CR_NGINX_PORT/; }
        }
}
CONF
        "$CR_NGINX" -p "$d" -c "$d/nginx.conf" -e "$d/error.log" </dev/null >>"$d/stderr.log" 2>&1 &
        CR_NGINX_PID=$!
        cr_track "$CR_NGINX_PID"
        for ((i = 0; i < 100; i++)); do
                curl -s -k -o /dev/null "$(cr_nginx_url)" && return 0
                [[ -n $(cr_pids_alive "$CR_NGINX_PID") ]] || break
                sleep 0.1
        done
        cat "$d/error.log" "$d/stderr.log" >&2
        cr_die "nginx did not start"
}

# cr_nginx_url: its URL, https when CR_NGINX_TLS_CERT and CR_NGINX_TLS_KEY
# (PEM files) were set for cr_start_nginx.
cr_nginx_url() {
        echo "http${CR_NGINX_TLS_CERT:+s}://127.0.0.1:$CR_NGINX_PORT/"
}

# cr_stop_nginx: stops it (the server becomes unreachable).
cr_stop_nginx() {
        [[ -n $CR_NGINX_PID ]] || return 0
        cr_kill_pids "$CR_NGINX_PID"
        cr_untrack "$CR_NGINX_PID"
        CR_NGINX_PID=
}

# cr_hostb_init [CA-PEM]: host B, $CR_TMP/hostb, where its trust module
# reads, and $CR_HOSTB_CONF syncing it from nginx with CA-PEM (default the
# world's CA) as the CA it trusts.
cr_hostb_init() {
        CR_HOSTB=$CR_TMP/hostb
        CR_HOSTB_CONF=$CR_TMP/hostb.conf
        cat >"$CR_HOSTB_CONF" <<CONF
[CA]
Certificate=${1:-$CR_CA/ca.pem}

[Sync]
URL=$(cr_nginx_url)
Directory=$CR_HOSTB
Timeout=20s
CONF
}

# cr_sync [ARGS…]: one certrevoke-sync on host B (exit status and output
# in CR_LAST_EXIT / CR_LAST_OUTPUT through assert_exit).
cr_sync() {
        "$CR_BUILD/certrevoke-sync" --config="$CR_HOSTB_CONF" "$@"
}

# cr_hostb_digest: the SHA-256 of every file of host B's directory, to
# compare before and after a sync that must change nothing.
cr_hostb_digest() {
        (cd "$CR_HOSTB" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

# cr_nginx_settle: waits until nginx logged the requests answered so far:
# it writes a line once the answer is sent, so a client may be done first.
cr_nginx_settle() {
        local before after i
        before=$(stat -c %s "$CR_NGINX_LOG" 2>/dev/null || echo 0)
        for ((i = 0; i < 20; i++)); do
                sleep 0.05
                after=$(stat -c %s "$CR_NGINX_LOG" 2>/dev/null || echo 0)
                [[ $after == "$before" ]] && return 0
                before=$after
        done
}

# cr_nginx_lines_since N: the access log's lines after the first N.
cr_nginx_lines_since() {
        cr_nginx_settle
        tail -n "+$(($1 + 1))" "$CR_NGINX_LOG"
}

cr_nginx_lines() {
        cr_nginx_settle
        if [[ -f $CR_NGINX_LOG ]]; then wc -l <"$CR_NGINX_LOG"; else echo 0; fi
}

# cr_hostb_consumers MODULE.so: how the tools that load host B's trust
# module run.  p11-kit's own tools cannot run under a preloaded ASan: they
# get the plain build's module (CR_HOSTB_P11KIT_SO); pkcs11-tool loads
# MODULE.so, with ASan preloaded when it is the ASan build's
# (CR_HOSTB_ENV).  Skips when the plain module is missing.
cr_hostb_consumers() {
        CR_HOSTB_SO=$1
        CR_HOSTB_P11KIT_SO=$1
        CR_HOSTB_ENV=()
        if [[ $CR_ASAN == 1 ]]; then
                CR_HOSTB_ENV+=(LD_PRELOAD="$(${CC:-cc} -print-file-name=libasan.so)"
                        ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:verify_asan_link_order=0)
                CR_HOSTB_P11KIT_SO=$CR_SRCDIR/build/certrevoke-pkcs11.so
                [[ -f $CR_HOSTB_P11KIT_SO ]] || cr_skip "$CR_HOSTB_P11KIT_SO not built (p11-kit's tools cannot load the ASan one)"
        fi
}

# cr_hostb_revoked_serials: the serials B's module shows as revoked
# (pkcs11-tool -O), upper-case hex without leading zeros, sorted.
cr_hostb_revoked_serials() {
        env CERTREVOKE_PUBLISH_DIR="$CR_HOSTB" "${CR_HOSTB_ENV[@]}" pkcs11-tool --module "$CR_HOSTB_SO" -O 2>/dev/null |
                awk '/^Certificate Object/ { revoked = 0 } /label: .* revoked / { revoked = 1 }
                     revoked && /serial:/ { s = toupper($2); sub(/^0+/, "", s); print s }' | sort
}

# cr_bare_serial HEX: a serial as cr_hostb_revoked_serials prints it.
cr_bare_serial() {
        local s=${1^^}
        s=${s//:/}
        while [[ $s == 0?* ]]; do s=${s#0}; done
        echo "$s"
}
