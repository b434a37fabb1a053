# shellcheck shell=bash
# Test harness for certrevoke: sourced by the integration tests, the demo and
# the benchmarks.  It builds a throw-away world in one temporary directory: a
# private system-like D-Bus with the project's policy, nss_wrapper users,
# SoftHSM tokens, a demo CA, the daemon and its CLI.  Everything it starts is
# ended and everything it writes is removed when the calling script exits.
#
# Usage:  . "$(dirname "$0")/../lib.sh"; cr_setup_tmp; cr_start_bus; ...
#
# Environment read: CR_BUILD (build directory, default "build" in the source
# tree), CR_TEST_KEEP=1 (keep $CR_TMP for inspection), CR_KEY_TYPE (rsa or
# ec, default rsa), CR_TOKEN_PIN / CR_TOKEN_SO_PIN (default 1234 / 12345678).
#
# A daemon started by cr_start_daemon has the crl.der of its publish
# directory followed until teardown, which fails the test if the CRL number
# ever went back (cr_crl_watch).
#
# cr_setup_tmp owns the EXIT, HUP, INT and TERM traps: do not set others.
# Start background processes (and cr_start_bus / cr_start_daemon) in the
# script's own shell, not inside $(…) or a pipeline, so that they are tracked.

set -euo pipefail

CR_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CR_BUILD=${CR_BUILD:-build}
case $CR_BUILD in
        /*) ;;
        *) CR_BUILD=$CR_SRCDIR/$CR_BUILD ;;
esac
export CR_SRCDIR CR_BUILD

CR_SOFTHSM_MODULE=${CR_SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
CR_TOKEN_PIN=${CR_TOKEN_PIN:-1234}
CR_TOKEN_SO_PIN=${CR_TOKEN_SO_PIN:-12345678}
CR_KEY_TYPE=${CR_KEY_TYPE:-rsa}
CR_DAEMON_TIMEOUT=${CR_DAEMON_TIMEOUT:-10}
CR_PYTHON=${CR_PYTHON:-/usr/bin/python3}

# Extra VAR=value words put into the daemon's environment by cr_start_daemon
# (for example pam_wrapper's variables).
CR_DAEMON_ENV=()

# Processes started by the harness; cr_teardown ends them.
CR_PIDS=()
CR_BUS_PID=
CR_DAEMON_PID=
CR_DAEMON_STATUS=
CR_LAST_OUTPUT=
CR_LAST_EXIT=

# The publish directories whose crl.der is followed (cr_crl_watch), and the
# watcher of each, by the same index; an empty pid while paused.
CR_WATCH_DIRS=()
CR_WATCH_PIDS=()

# The ASan build (build-asan, or CR_ASAN=1) runs everything with leak
# detection and stops at the first error.
if [[ ${CR_ASAN:-} == 1 || $(basename "$CR_BUILD") == *asan* ]]; then
        CR_ASAN=1
        export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:verify_asan_link_order=0}
        export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
else
        CR_ASAN=0
fi

# ---------------------------------------------------------------- messages

# cr_log MSG…: prints a progress line on stderr.
cr_log() {
        printf '[%s] %s\n' "$(basename "$0")" "$*" >&2
}

# cr_die MSG…: prints an error on stderr and exits 1 (teardown still runs).
cr_die() {
        printf '[%s] ERROR: %s\n' "$(basename "$0")" "$*" >&2
        exit 1
}

# cr_skip MSG…: ends the test as skipped (exit 77).
cr_skip() {
        printf '[%s] SKIP: %s\n' "$(basename "$0")" "$*" >&2
        exit 77
}

# cr_need_daemon: skips the test unless the daemon and the CLI are built.
cr_need_daemon() {
        [[ -x $CR_BUILD/certrevoked && -x $CR_BUILD/certrevokectl ]] ||
                cr_skip "certrevoked/certrevokectl not built in $CR_BUILD"
}

# cr_need_python: skips the test unless $CR_PYTHON (default /usr/bin/python3)
# exists.
cr_need_python() {
        [[ -x $CR_PYTHON ]] || cr_skip "no $CR_PYTHON"
}

# cr_need_cmd CMD…: skips the test unless every command exists.
cr_need_cmd() {
        local c
        for c in "$@"; do
                command -v "$c" >/dev/null 2>&1 || cr_skip "$c not installed"
        done
}

# ---------------------------------------------------------------- temp dir and teardown

# cr_setup_tmp: creates $CR_TMP and arranges for cr_teardown to run on exit.
cr_setup_tmp() {
        CR_TMP=$(mktemp -d "${TMPDIR:-/tmp}/certrevoke-test.XXXXXXXX")
        # Test UIDs must reach the bus socket and the files under it.
        chmod 0755 "$CR_TMP"
        export CR_TMP
        trap cr_teardown EXIT
        trap 'exit 129' HUP
        trap 'exit 130' INT
        trap 'exit 143' TERM
}

# cr_track PID: adds a process to the list that cr_teardown ends.
cr_track() {
        CR_PIDS+=("$1")
}

# cr_untrack PID: removes a process from that list (after it was reaped).
cr_untrack() {
        local p keep=()
        for p in "${CR_PIDS[@]}"; do
                [[ $p == "$1" ]] || keep+=("$p")
        done
        CR_PIDS=("${keep[@]}")
}

# cr_pids_alive PID…: prints those of the given processes still running.
cr_pids_alive() {
        local p
        for p in "$@"; do
                [[ -d /proc/$p ]] || continue
                # A zombie has exited; only its parent's wait is missing.
                [[ $(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) == Z ]] && continue
                echo "$p"
        done
}

# cr_kill_pids PID…: TERM, up to 5 s of grace, then KILL, then reap.
cr_kill_pids() {
        local p i alive
        (($# > 0)) || return 0
        kill -TERM "$@" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
                alive=$(cr_pids_alive "$@")
                [[ -z $alive ]] && break
                sleep 0.1
        done
        alive=$(cr_pids_alive "$@")
        if [[ -n $alive ]]; then
                # shellcheck disable=SC2086 # one pid per word
                kill -KILL $alive 2>/dev/null || true
        fi
        for p in "$@"; do
                { wait "$p"; } 2>/dev/null || true
        done
}

# cr_stray_pids: prints processes (other than this shell) whose command line
# names $CR_TMP: ones the harness started indirectly, e.g. bus activation.
cr_stray_pids() {
        local d p cmd
        [[ -n ${CR_TMP:-} ]] || return 0
        for d in /proc/[0-9]*; do
                p=${d#/proc/}
                [[ $p == "$$" || $p == "${BASHPID:-$$}" ]] && continue
                cmd=$(tr '\0' ' ' 2>/dev/null <"$d/cmdline") || continue
                [[ $cmd == *"$CR_TMP"* ]] && cr_pids_alive "$p"
        done
}

# cr_check_sanitizers [FILE…]: fails (1) if a log shows an ASan/UBSan report;
# by default looks at every *.log in $CR_TMP.
cr_check_sanitizers() {
        local f bad=0
        if (($# == 0)); then
                set -- "${CR_TMP:-/nonexistent}"/*.log
        fi
        for f in "$@"; do
                [[ -f $f ]] || continue
                if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f"; then
                        printf '[%s] sanitizer report in %s:\n' "$(basename "$0")" "$f" >&2
                        grep -E -A40 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f" | head -n 80 >&2
                        bad=1
                fi
        done
        return "$bad"
}

# cr_teardown: ends every harness process and removes $CR_TMP (EXIT trap).
cr_teardown() {
        local rc=$? stray
        # A second signal must not cut the cleaning short.
        trap - EXIT
        trap '' HUP INT TERM
        set +e
        cr_kill_pids "${CR_PIDS[@]}"
        CR_PIDS=()
        # after the daemon: the watchers read what it published last
        if ! cr_crl_watch_finish; then
                ((rc == 0 || rc == 77)) && rc=1
        fi
        stray=$(cr_stray_pids)
        if [[ -n $stray ]]; then
                # shellcheck disable=SC2086 # one pid per word
                cr_kill_pids $stray
        fi
        if [[ -n ${CR_TMP:-} && -d $CR_TMP ]]; then
                if [[ $CR_ASAN == 1 ]] && ! cr_check_sanitizers; then
                        ((rc == 0 || rc == 77)) && rc=1
                fi
                if [[ ${CR_TEST_KEEP:-0} == 1 ]]; then
                        printf '[%s] kept %s\n' "$(basename "$0")" "$CR_TMP" >&2
                else
                        rm -rf -- "$CR_TMP"
                fi
        fi
        exit "$rc"
}

# ---------------------------------------------------------------- users (nss_wrapper)

# cr_nss_init: writes $CR_TMP/passwd and group (root, cr-user1..10 = 1001..1010,
# nobody) unless they exist already.
cr_nss_init() {
        local i
        export NSS_WRAPPER_PASSWD=$CR_TMP/passwd NSS_WRAPPER_GROUP=$CR_TMP/group
        [[ -f $NSS_WRAPPER_PASSWD ]] && return 0
        {
                echo "root:x:0:0:root:/root:/bin/bash"
                for i in {1..10}; do
                        echo "cr-user$i:x:$((1000 + i)):$((1000 + i)):Test user $i:/nonexistent:/usr/sbin/nologin"
                done
                echo "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin"
        } >"$NSS_WRAPPER_PASSWD"
        {
                echo "root:x:0:"
                for i in {1..10}; do
                        echo "cr-user$i:x:$((1000 + i)):"
                done
                echo "nogroup:x:65534:"
        } >"$NSS_WRAPPER_GROUP"
        chmod 0644 "$NSS_WRAPPER_PASSWD" "$NSS_WRAPPER_GROUP"
}

# cr_add_passwd NAME UID: adds (or replaces the entry with that name or UID)
# a user and its primary group; running processes see it at the next lookup.
cr_add_passwd() {
        local name=$1 uid=$2 f tmp
        [[ $name =~ ^[A-Za-z0-9._-]+$ && $uid =~ ^[0-9]+$ ]] ||
                cr_die "cr_add_passwd: bad name or uid: '$name' '$uid'"
        cr_nss_init
        for f in "$NSS_WRAPPER_PASSWD" "$NSS_WRAPPER_GROUP"; do
                tmp=$f.tmp
                awk -F: -v n="$name" -v u="$uid" '$1 != n && $3 != u' "$f" >"$tmp"
                if [[ $f == "$NSS_WRAPPER_PASSWD" ]]; then
                        echo "$name:x:$uid:$uid:$name:/nonexistent:/usr/sbin/nologin" >>"$tmp"
                else
                        echo "$name:x:$uid:" >>"$tmp"
                fi
                chmod 0644 "$tmp"
                mv -f -- "$tmp" "$f"
        done
}

# cr_as UID CMD…: runs a command with real/effective UID and GID = UID and no
# supplementary groups.
cr_as() {
        local uid=$1
        shift
        setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@"
}

# ---------------------------------------------------------------- the bus

# cr_write_bus_conf: writes $CR_TMP/bus.conf (system-bus-like, default deny)
# and copies the project's policy into $CR_TMP/bus.d.
cr_write_bus_conf() {
        mkdir -p "$CR_TMP/bus.d" "$CR_TMP/services"
        cp -- "$CR_SRCDIR/units/org.certrevoke1.conf" "$CR_TMP/bus.d/"
        cat >"$CR_TMP/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$CR_TMP/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$CR_TMP/services</servicedir>

  <policy context="default">
    <allow user="*"/>

    <deny own="*"/>
    <deny send_type="method_call"/>

    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>

    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>

    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Peer"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus.Debug.Stats"/>
  </policy>

  <policy user="root">
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>

  <includedir>$CR_TMP/bus.d</includedir>
</busconfig>
EOF
}

# cr_start_bus: starts a private system-like dbus-daemon with the project's
# policy and nss_wrapper users; exports DBUS_SYSTEM_BUS_ADDRESS and
# CR_BUS_ADDRESS; fails if the bus reports a configuration error.
cr_start_bus() {
        local i addr=
        [[ -n ${CR_TMP:-} ]] || cr_die "cr_start_bus: call cr_setup_tmp first"
        cr_nss_init
        cr_write_bus_conf
        : >"$CR_TMP/bus.address"
        LD_PRELOAD=libnss_wrapper.so \
                NSS_WRAPPER_PASSWD="$NSS_WRAPPER_PASSWD" \
                NSS_WRAPPER_GROUP="$NSS_WRAPPER_GROUP" \
                dbus-daemon --config-file="$CR_TMP/bus.conf" --nofork --nopidfile \
                --print-address=5 5>"$CR_TMP/bus.address" \
                </dev/null >"$CR_TMP/bus.log" 2>&1 &
        CR_BUS_PID=$!
        cr_track "$CR_BUS_PID"
        for ((i = 0; i < 100; i++)); do
                addr=$(head -n1 "$CR_TMP/bus.address")
                [[ -n $addr ]] && break
                [[ -n $(cr_pids_alive "$CR_BUS_PID") ]] || break
                sleep 0.05
        done
        if [[ -z $addr ]]; then
                cat "$CR_TMP/bus.log" >&2
                cr_die "dbus-daemon did not start"
        fi
        if grep -q 'Encountered error' "$CR_TMP/bus.log"; then
                cat "$CR_TMP/bus.log" >&2
                cr_die "dbus-daemon reported a configuration error"
        fi
        export CR_BUS_ADDRESS=$addr
        export DBUS_SYSTEM_BUS_ADDRESS=$addr
        cr_busctl call org.freedesktop.DBus /org/freedesktop/DBus \
                org.freedesktop.DBus GetId >/dev/null ||
                cr_die "the private bus does not answer"
}

# cr_start_trap_bus: a bus address, CR_TRAP_BUS, that is no bus: its socket
# only records in $CR_TMP/trap.out each time anyone connects, so that a test
# can tell a program stopped before it touched the bus.  Call it in the
# script's own shell.
cr_start_trap_bus() {
        local i
        "$CR_PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(8)
while True:
    c, _ = s.accept()
    open(sys.argv[2], "a").write("connected\n")
    c.close()' "$CR_TMP/trap.sock" "$CR_TMP/trap.out" &
        cr_track $!
        for ((i = 0; i < 50; i++)); do
                [[ -S $CR_TMP/trap.sock ]] && break
                sleep 0.1
        done
        CR_TRAP_BUS=unix:path=$CR_TMP/trap.sock
}

# cr_busctl ARGS…: busctl on the private bus.
cr_busctl() {
        busctl --address="$CR_BUS_ADDRESS" "$@"
}

# cr_name_has_owner NAME: succeeds if NAME is owned on the private bus.
cr_name_has_owner() {
        [[ $(cr_busctl call org.freedesktop.DBus /org/freedesktop/DBus \
                org.freedesktop.DBus NameHasOwner s "$1" 2>/dev/null) == "b true" ]]
}

# ---------------------------------------------------------------- SoftHSM tokens

# cr_softhsm_init: writes and exports SOFTHSM2_CONF (tokens in $CR_TMP/tokens).
cr_softhsm_init() {
        mkdir -p "$CR_TMP/tokens"
        cat >"$CR_TMP/softhsm2.conf" <<EOF
directories.tokendir = $CR_TMP/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
        : >>"$CR_TMP/tokens.map"
        export SOFTHSM2_CONF=$CR_TMP/softhsm2.conf
}

# cr_pkcs11_tool ARGS…: pkcs11-tool on the SoftHSM module.
cr_pkcs11_tool() {
        pkcs11-tool --module "$CR_SOFTHSM_MODULE" "$@"
}

# cr_token_dir LABEL: prints the directory holding that token.
cr_token_dir() {
        local dir
        dir=$(awk -F'\t' -v l="$1" '$1 == l { print $2 }' "$CR_TMP/tokens.map")
        [[ -n $dir ]] || cr_die "no token labelled '$1'"
        echo "$dir"
}

# cr_token_pin LABEL: prints the user PIN of that token.
cr_token_pin() {
        local pin
        pin=$(awk -F'\t' -v l="$1" '$1 == l { print $3 }' "$CR_TMP/tokens.map")
        [[ -n $pin ]] || cr_die "no token labelled '$1'"
        echo "$pin"
}

# cr_token_create LABEL [PIN [SO_PIN]]: initialises a SoftHSM token.  Labels
# must not be prefixes of one another (pkcs11-tool matches by prefix).
cr_token_create() {
        local label=$1 pin=${2:-$CR_TOKEN_PIN} sopin=${3:-$CR_TOKEN_SO_PIN}
        local other before after dir
        [[ -n ${SOFTHSM2_CONF:-} ]] || cr_softhsm_init
        [[ -n $label && ${#label} -le 32 ]] || cr_die "token label must be 1..32 bytes: '$label'"
        while IFS=$'\t' read -r other _ _; do
                [[ -z $other ]] && continue
                if [[ $other == "$label"* || $label == "$other"* ]]; then
                        cr_die "token label '$label' and '$other' are prefixes of one another"
                fi
        done <"$CR_TMP/tokens.map"
        before=$(find "$CR_TMP/tokens" -mindepth 1 -maxdepth 1 -type d | sort)
        softhsm2-util --init-token --free --label "$label" --pin "$pin" --so-pin "$sopin" \
                >"$CR_TMP/softhsm-init.out" 2>&1 || {
                cat "$CR_TMP/softhsm-init.out" >&2
                cr_die "cannot create token '$label'"
        }
        after=$(find "$CR_TMP/tokens" -mindepth 1 -maxdepth 1 -type d | sort)
        dir=$(comm -13 <(echo "$before") <(echo "$after"))
        [[ -n $dir && $dir != *$'\n'* ]] || cr_die "cannot find the directory of token '$label'"
        printf '%s\t%s\t%s\n' "$label" "$dir" "$pin" >>"$CR_TMP/tokens.map"
}

# cr_token_remove LABEL: deletes the token's directory, as if the card were
# pulled out (processes that loaded SoftHSM notice on their next C_Initialize).
cr_token_remove() {
        local label=$1 dir
        dir=$(cr_token_dir "$label")
        rm -rf -- "$dir"
        awk -F'\t' -v l="$label" '$1 != l' "$CR_TMP/tokens.map" >"$CR_TMP/tokens.map.tmp"
        mv -f -- "$CR_TMP/tokens.map.tmp" "$CR_TMP/tokens.map"
}

# cr_token_put_cert LABEL CERT.pem ID OBJLABEL: writes a certificate object
# (CKA_ID = hex ID) onto the token.
cr_token_put_cert() {
        local label=$1 pem=$2 id=$3 objlabel=$4 der
        der=$CR_TMP/.put-cert.der
        openssl x509 -in "$pem" -outform DER -out "$der"
        cr_pkcs11_tool --token-label "$label" --login --pin "$(cr_token_pin "$label")" \
                --write-object "$der" --type cert --id "$id" --label "$objlabel" \
                >"$CR_TMP/pkcs11-tool.out" 2>&1 || {
                cat "$CR_TMP/pkcs11-tool.out" >&2
                rm -f -- "$der"
                cr_die "cannot write certificate $pem to token '$label'"
        }
        rm -f -- "$der"
}

# cr_token_put_key LABEL KEY.pem ID OBJLABEL: writes a private key object
# (CKA_ID = hex ID) onto the token, beside its certificate.
cr_token_put_key() {
        local label=$1 key=$2 id=$3 objlabel=$4 der
        der=$CR_TMP/.put-key.der
        openssl pkey -in "$key" -outform DER -out "$der"
        cr_pkcs11_tool --token-label "$label" --login --pin "$(cr_token_pin "$label")" \
                --write-object "$der" --type privkey --id "$id" --label "$objlabel" \
                >"$CR_TMP/pkcs11-tool.out" 2>&1 || {
                cat "$CR_TMP/pkcs11-tool.out" >&2
                rm -f -- "$der"
                cr_die "cannot write key $key to token '$label'"
        }
        rm -f -- "$der"
}

# cr_token_list_certs LABEL: prints the labels of the token's certificate
# objects, one a line.
cr_token_list_certs() {
        local label=$1 out
        cr_token_dir "$label" >/dev/null
        out=$(cr_pkcs11_tool --token-label "$label" --list-objects --type cert 2>&1) || {
                echo "$out" >&2
                cr_die "cannot list the certificates on token '$label'"
        }
        sed -n 's/^[[:space:]]*label:[[:space:]]*//p' <<<"$out"
}

# ---------------------------------------------------------------- CA and certificates

# cr_date_utc OFFSET: prints now+OFFSET ("-30 days", "+1 year") as
# YYYYMMDDHHMMSSZ for openssl ca -startdate/-enddate.
cr_date_utc() {
        date -u -d "$1" +%Y%m%d%H%M%SZ
}

# cr_genkey OUT.key: makes a private key of type $CR_KEY_TYPE (rsa or ec).
cr_genkey() {
        case $CR_KEY_TYPE in
        rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null ;;
        ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null ;;
        *) cr_die "CR_KEY_TYPE must be rsa or ec, not '$CR_KEY_TYPE'" ;;
        esac
        chmod 0600 "$1"
}

# cr_ca_create DIR [CN]: a self-signed demo CA in DIR (ca.pem, ca.key) with
# what openssl ca needs (openssl.cnf, index.txt, serial, crlnumber).
cr_ca_create() {
        local dir=$1 cn=${2:-Demo Org Certificate Authority} ku
        mkdir -p "$dir/newcerts"
        dir=$(cd "$dir" && pwd)
        : >"$dir/index.txt"
        echo "unique_subject = no" >"$dir/index.txt.attr"
        # A random positive 64-bit starting serial, so two CAs do not collide.
        printf '%x%s\n' $((RANDOM % 7 + 1)) "$(openssl rand -hex 8 | cut -c2-)" >"$dir/serial"
        echo 1000 >"$dir/crlnumber"
        if [[ $CR_KEY_TYPE == ec ]]; then
                ku="critical, digitalSignature"
        else
                ku="critical, digitalSignature, keyEncipherment"
        fi
        cat >"$dir/openssl.cnf" <<EOF
[ ca ]
default_ca = CA_default

[ CA_default ]
dir = $dir
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
certificate = \$dir/ca.pem
private_key = \$dir/ca.key
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_md = sha256
default_days = 365
default_crl_days = 7
policy = policy_user
unique_subject = no
copy_extensions = none
x509_extensions = usr_cert
crl_extensions = crl_ext
email_in_dn = no
preserve = no
name_opt = multiline,-esc_msb,utf8
cert_opt = ca_default
string_mask = utf8only
utf8 = yes

[ policy_user ]
organizationName = optional
userId = optional
commonName = supplied

[ usr_cert ]
basicConstraints = critical, CA:FALSE
keyUsage = $ku
extendedKeyUsage = clientAuth, emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ crl_ext ]
authorityKeyIdentifier = keyid:always

[ req ]
distinguished_name = req_dn
string_mask = utf8only
utf8 = yes
prompt = no

[ req_dn ]
CN = unused

[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
        cr_genkey "$dir/ca.key"
        openssl req -config "$dir/openssl.cnf" -new -x509 -utf8 -key "$dir/ca.key" \
                -subj "/O=Demo Org/CN=$cn" -days 7300 -extensions v3_ca \
                -out "$dir/ca.pem" 2>"$dir/req.err" || {
                cat "$dir/req.err" >&2
                cr_die "cannot create the CA in $dir"
        }
        rm -f -- "$dir/req.err"
}

# cr_issue_subject CADIR SUBJECT START END OUT.pem: issues a certificate for
# a new key (beside OUT, named *.key) with the given subject and dates.
cr_issue_subject() {
        local ca=$1 subj=$2 start=$3 end=$4 out=$5 key csr
        key=${out%.pem}.key
        csr=${out%.pem}.csr
        cr_genkey "$key"
        if ! openssl req -config "$ca/openssl.cnf" -new -utf8 -key "$key" -subj "$subj" \
                -out "$csr" 2>"$out.err" ||
                ! openssl ca -config "$ca/openssl.cnf" -batch -utf8 -notext \
                        -startdate "$start" -enddate "$end" \
                        -in "$csr" -out "$out" 2>>"$out.err"; then
                cat "$out.err" >&2
                cr_die "cannot issue $out ($subj)"
        fi
        rm -f -- "$csr" "$out.err"
}

# cr_cert_issue CADIR LOGIN CN START END OUT.pem: a user certificate with
# subject /O=Demo Org/UID=LOGIN/CN=CN (CN may be UTF-8), dates YYYYMMDDHHMMSSZ.
cr_cert_issue() {
        cr_issue_subject "$1" "/O=Demo Org/UID=$2/CN=$3" "$4" "$5" "$6"
}

# cr_cert_issue_cn_only CADIR LOGIN START END OUT.pem: a user certificate whose
# subject is only CN=LOGIN (no UID), for the fallback mapping.
cr_cert_issue_cn_only() {
        cr_issue_subject "$1" "/CN=$2" "$3" "$4" "$5"
}

# cr_cert_serial CERT.pem: prints the serial number in upper-case hex.
cr_cert_serial() {
        local s
        s=$(openssl x509 -in "$1" -noout -serial)
        echo "${s#serial=}"
}

# cr_cert_subject CERT.pem: prints the subject, RFC 2253 style, UTF-8.
cr_cert_subject() {
        local s
        s=$(openssl x509 -in "$1" -noout -subject -nameopt RFC2253,-esc_msb)
        echo "${s#subject=}"
}

# ---------------------------------------------------------------- the daemon and the CLI

# cr_write_config PATH [CADIR]: writes a certrevoked configuration for this
# world (CA default: $CR_TMP/ca) and creates its directories.
cr_write_config() {
        local path=$1 ca=${2:-$CR_TMP/ca}
        mkdir -p "$CR_TMP/state" "$CR_TMP/public"
        chmod 0700 "$CR_TMP/state"
        cat >"$path" <<EOF
[Service]
StateDirectory=$CR_TMP/state
PAMService=certrevoke

[CA]
Certificate=$ca/ca.pem
Key=$ca/ca.key

[CRL]
PublishDirectory=$CR_TMP/public
Validity=7d

[Tokens]
Modules=$CR_SOFTHSM_MODULE
EOF
}

# cr_pam_init [SERVICE-FILE]: the daemon checks confirmation passwords
# through pam_wrapper with the test stacks of tests/data/pam (pam_matrix);
# passwords come from cr_pam_password.
cr_pam_init() {
        local lib
        lib=$(dpkg -L libpam-wrapper 2>/dev/null | grep '/libpam_wrapper.so$' | head -n1)
        [[ -n $lib ]] || cr_skip "libpam-wrapper is not installed"
        mkdir -p "$CR_TMP/pam" "$CR_TMP/bin"
        cp "$CR_SRCDIR"/tests/data/pam/* "$CR_TMP/pam/"
        : >"$CR_TMP/matrix.passwd"
        # pam_wrapper gives every process it is preloaded into a directory
        # /tmp/pam.X, picked and created racily: helpers started together
        # collide.  So only the PAM helper gets it, one at a time, through a
        # wrapper that the daemon finds beside its own (copied) executable.
        # Without DEEPBIND off, the sanitizer runtime and pam_wrapper's
        # RTLD_DEEPBIND load of the modules abort the helper.
        cp "$CR_BUILD/certrevoked" "$CR_TMP/bin/certrevoked"
        printf '#!/bin/sh\nexec flock %q env LD_PRELOAD=%q PAM_WRAPPER=1 PAM_WRAPPER_DISABLE_DEEPBIND=1 UID_WRAPPER_DISABLE_DEEPBIND=1 %q "$@"\n' \
                "$CR_TMP/pam.lock" "$lib" "$CR_BUILD/certrevoke-pam-helper" >"$CR_TMP/bin/certrevoke-pam-helper"
        chmod 0755 "$CR_TMP/bin/certrevoke-pam-helper"
        CR_DAEMON_BIN=$CR_TMP/bin/certrevoked
        CR_PAM_ENV=(PAM_WRAPPER_SERVICE_DIR="$CR_TMP/pam" PAM_MATRIX_PASSWD="$CR_TMP/matrix.passwd")
        CR_DAEMON_ENV+=("${CR_PAM_ENV[@]}")
        if [[ $CR_ASAN == 1 ]]; then
                # pam_wrapper loads libpam with RTLD_DEEPBIND, which ASan refuses.
                CR_DAEMON_ENV+=(PAM_WRAPPER_DISABLE_DEEPBIND=1 UID_WRAPPER_DISABLE_DEEPBIND=1)
        fi
}

# cr_pam_password LOGIN PASSWORD [SERVICE]: LOGIN's confirmation password.
cr_pam_password() {
        echo "$1:$2:${3:-certrevoke}" >>"$CR_TMP/matrix.passwd"
}

# cr_start_daemon [ARGS…]: starts certrevoked on the private bus (log in
# $CR_TMP/daemon.log) and waits up to $CR_DAEMON_TIMEOUT s for its bus name.
cr_start_daemon() {
        local i pub
        [[ -n ${CR_BUS_ADDRESS:-} ]] || cr_die "cr_start_daemon: call cr_start_bus first"
        [[ -x $CR_BUILD/certrevoked ]] || cr_die "no $CR_BUILD/certrevoked: build first"
        [[ -n ${SOFTHSM2_CONF:-} ]] || cr_softhsm_init
        [[ -f $CR_TMP/certrevoke.conf ]] || cr_write_config "$CR_TMP/certrevoke.conf"
        [[ -z $CR_DAEMON_PID ]] || cr_die "cr_start_daemon: the daemon runs already"
        pub=$(cr_config_publish_dir "$CR_TMP/certrevoke.conf")
        [[ -z $pub ]] || cr_crl_watch "$pub"
        echo "--- start: certrevoked --config=$CR_TMP/certrevoke.conf $*" >>"$CR_TMP/daemon.log"
        # In $CR_TMP, so that nothing it might drop lands in the source tree.
        (cd "$CR_TMP" && exec env DBUS_SYSTEM_BUS_ADDRESS="$CR_BUS_ADDRESS" \
                SOFTHSM2_CONF="$SOFTHSM2_CONF" "${CR_DAEMON_ENV[@]}" \
                "${CR_DAEMON_BIN:-$CR_BUILD/certrevoked}" --config="$CR_TMP/certrevoke.conf" "$@" \
                </dev/null >>"$CR_TMP/daemon.log" 2>&1) &
        CR_DAEMON_PID=$!
        cr_track "$CR_DAEMON_PID"
        for ((i = 0; i < CR_DAEMON_TIMEOUT * 10; i++)); do
                cr_name_has_owner org.certrevoke1 && return 0
                if [[ -z $(cr_pids_alive "$CR_DAEMON_PID") ]]; then
                        CR_DAEMON_STATUS=0
                        wait "$CR_DAEMON_PID" || CR_DAEMON_STATUS=$?
                        cr_untrack "$CR_DAEMON_PID"
                        CR_DAEMON_PID=
                        tail -n 50 "$CR_TMP/daemon.log" >&2
                        cr_die "certrevoked exited ($CR_DAEMON_STATUS) before taking its bus name"
                fi
                sleep 0.1
        done
        tail -n 50 "$CR_TMP/daemon.log" >&2
        cr_die "certrevoked did not take its bus name within ${CR_DAEMON_TIMEOUT}s"
}

# cr_stop_daemon [SIGNAL]: stops the daemon (TERM, KILL after 10 s), sets
# CR_DAEMON_STATUS; fails if it exited non-zero or a sanitizer complained.
cr_stop_daemon() {
        local sig=${1:-TERM} pid=$CR_DAEMON_PID i hung=0
        [[ -n $pid ]] || return 0
        # stderr off: bash would report "Killed" for the job.
        {
                kill "-$sig" "$pid" || true
                for ((i = 0; i < 100; i++)); do
                        [[ -z $(cr_pids_alive "$pid") ]] && break
                        sleep 0.1
                done
                if [[ -n $(cr_pids_alive "$pid") ]]; then
                        hung=1
                        kill -KILL "$pid" || true
                fi
                CR_DAEMON_STATUS=0
                wait "$pid" || CR_DAEMON_STATUS=$?
        } 2>/dev/null
        ((hung == 0)) || cr_log "certrevoked ignored SIG$sig for 10 s: killed it"
        cr_untrack "$pid"
        CR_DAEMON_PID=
        for ((i = 0; i < 50; i++)); do
                cr_name_has_owner org.certrevoke1 || break
                sleep 0.1
        done
        if [[ $CR_ASAN == 1 ]]; then
                cr_check_sanitizers "$CR_TMP/daemon.log" || return 1
        fi
        if [[ $sig == TERM && $CR_DAEMON_STATUS != 0 ]]; then
                tail -n 30 "$CR_TMP/daemon.log" >&2
                cr_log "certrevoked exited with status $CR_DAEMON_STATUS on SIGTERM"
                return 1
        fi
        return 0
}

# cr_kill_daemon: kills the daemon with SIGKILL (crash simulation).
cr_kill_daemon() {
        cr_stop_daemon KILL
}

# cr_ctl ARGS…: runs certrevokectl on the private bus, as the current user.
cr_ctl() {
        CERTREVOKE_LOCALEDIR="$CR_BUILD/locale" \
                "$CR_BUILD/certrevokectl" --address="$CR_BUS_ADDRESS" "$@"
}

# cr_ctl_as UID ARGS…: runs certrevokectl on the private bus as UID.
cr_ctl_as() {
        local uid=$1
        shift
        cr_as "$uid" env CERTREVOKE_LOCALEDIR="$CR_BUILD/locale" \
                "$CR_BUILD/certrevokectl" --address="$CR_BUS_ADDRESS" "$@"
}

# ---------------------------------------------------------------- CRL numbers never go back

# cr_config_publish_dir CONF: the directory a certrevoked configuration
# publishes in (PublishDirectory=, or StateDirectory=/public); nothing when
# it names neither (a test's daemon has no business in the default one).
cr_config_publish_dir() {
        awk '
                function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
                /^[ \t]*\[/ { section = trim($0); next }
                /=/ {
                        key = trim(substr($0, 1, index($0, "=") - 1))
                        value = trim(substr($0, index($0, "=") + 1))
                        if (section == "[CRL]" && key == "PublishDirectory") publish = value
                        if (section == "[Service]" && key == "StateDirectory") state = value
                }
                END { if (publish != "") print publish; else if (state != "") print state "/public" }' "$1"
}

# cr_crl_watch DIR: follows DIR/crl.der until teardown (cr_start_daemon
# calls it for the daemon's PublishDirectory): tests/helpers/crl-watch
# writes the number and SHA-256 of every crl.der it sees, in order, to
# $CR_TMP/crl-watch.K.seen; teardown fails the test if a number is at or
# below one seen before it (cr_crl_watch_check).  Once per directory.
# Tests are watched; the demo and the benchmarks, which assert nothing
# about the numbers, set CR_CRL_WATCH=0 (and need not build the helper).
cr_crl_watch() {
        local dir k
        [[ ${CR_CRL_WATCH:-1} == 1 ]] || return 0
        dir=$(realpath -m -- "$1")
        for k in "${!CR_WATCH_DIRS[@]}"; do
                [[ ${CR_WATCH_DIRS[k]} == "$dir" ]] && return 0
        done
        [[ -x $CR_BUILD/tests/helpers/crl-watch ]] ||
                cr_die "no $CR_BUILD/tests/helpers/crl-watch: make unit-tests first"
        k=${#CR_WATCH_DIRS[@]}
        CR_WATCH_DIRS[k]=$dir
        cr_crl_watch_start "$k"
}

# cr_crl_watch_start K: starts the watcher of CR_WATCH_DIRS[K] and waits
# until it watches.
cr_crl_watch_start() {
        local k=$1 i ready=$CR_TMP/crl-watch.$1.ready
        : >"$ready"
        "$CR_BUILD/tests/helpers/crl-watch" "${CR_WATCH_DIRS[k]}" "$CR_TMP/crl-watch.$k.seen" \
                </dev/null >"$ready" 2>>"$CR_TMP/crl-watch.$k.log" &
        CR_WATCH_PIDS[k]=$!
        for ((i = 0; i < 100; i++)); do
                [[ -s $ready ]] && return 0
                [[ -n $(cr_pids_alive "${CR_WATCH_PIDS[k]}") ]] || break
                sleep 0.05
        done
        cat "$CR_TMP/crl-watch.$k.log" >&2
        cr_die "the watcher of ${CR_WATCH_DIRS[k]}/crl.der did not start"
}

# cr_crl_watch_stop K: ends the watcher of CR_WATCH_DIRS[K], which first
# reads what is still queued; fails if it did not end well.
cr_crl_watch_stop() {
        local k=$1 pid=${CR_WATCH_PIDS[$1]} i rc=0
        [[ -n $pid ]] || return 0
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
                [[ -z $(cr_pids_alive "$pid") ]] && break
                sleep 0.1
        done
        [[ -z $(cr_pids_alive "$pid") ]] || kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || rc=$?
        CR_WATCH_PIDS[k]=
        ((rc == 0)) || cr_log "the watcher of ${CR_WATCH_DIRS[k]}/crl.der ended with status $rc"
        return "$rc"
}

# cr_crl_watch_index DIR: prints the K of a followed directory.
cr_crl_watch_index() {
        local dir k
        dir=$(realpath -m -- "$1")
        for k in "${!CR_WATCH_DIRS[@]}"; do
                [[ ${CR_WATCH_DIRS[k]} == "$dir" ]] && echo "$k" && return 0
        done
        cr_die "$1/crl.der is not followed"
}

# cr_crl_watch_pause [DIR] / cr_crl_watch_resume [DIR]: stop and start
# again following DIR/crl.der (default $CR_PUB), for a test that puts an
# older or foreign crl.der there on purpose; say why where it is called.
# What is there at the resume is compared with what was seen before the
# pause, so the test must put back a crl.der at least as new.
cr_crl_watch_pause() {
        local k
        k=$(cr_crl_watch_index "${1:-$CR_PUB}")
        cr_crl_watch_stop "$k" || cr_die "the watcher of ${CR_WATCH_DIRS[k]}/crl.der failed"
        echo paused >>"$CR_TMP/crl-watch.$k.seen"
}
cr_crl_watch_resume() {
        local k
        k=$(cr_crl_watch_index "${1:-$CR_PUB}")
        [[ -z ${CR_WATCH_PIDS[k]} ]] || cr_die "${CR_WATCH_DIRS[k]}/crl.der is followed already"
        cr_crl_watch_start "$k"
}

# cr_crl_watch_check SEEN [WHAT]: fails, naming the numbers, if a CRL
# number in SEEN (a crl-watch record) is lower than one before it, or equal
# to one before it in a different file: the same bytes read twice are one
# CRL.  Lines without a number (a file caught half written) and pauses are
# passed over.  WHAT names the directory in the message.
cr_crl_watch_check() {
        local out
        out=$(awk '
                # decimal strings without leading zeros, of any length:
                # compared as strings, past what a double holds exactly
                function above(a, b) { return length(a) != length(b) ? length(a) > length(b) : "" a > "" b }
                $1 == "-" || $1 == "paused" { next }
                {
                        seen = seen " " $1
                        if (n > 0 && !above($1, max) && ("" $1 != "" max || $2 != max_hash) && ++n_bad <= 5) {
                                if ("" $1 != "" max)
                                        bad = bad sprintf("  number %s after number %s\n", $1, max)
                                else
                                        bad = bad sprintf("  number %s twice, in two different files\n", $1)
                        }
                        if (n == 0 || above($1, max)) {
                                max = $1
                                max_hash = $2
                        }
                        n++
                }
                END {
                        if (n_bad == 0) exit 0
                        if (n_bad > 5) bad = bad sprintf("  and %d more\n", n_bad - 5)
                        printf "%s  numbers seen, in order:%s\n", bad, seen
                        exit 1
                }' "$1") && return 0
        printf '[%s] the CRL number went back in %s:\n%s\n' "$(basename "$0")" "${2:-$1}" "$out" >&2
        return 1
}

# cr_crl_watch_finish: ends every watcher (teardown) and checks what each
# saw; fails if a number went back or a watcher failed.
cr_crl_watch_finish() {
        local k bad=0
        for k in "${!CR_WATCH_DIRS[@]}"; do
                cr_crl_watch_stop "$k" || bad=1
                if [[ -f $CR_TMP/crl-watch.$k.seen ]]; then
                        cr_crl_watch_check "$CR_TMP/crl-watch.$k.seen" "${CR_WATCH_DIRS[k]}/crl.der" || bad=1
                fi
        done
        return "$bad"
}

# ---------------------------------------------------------------- a world of users with cards

# cr_world_init: the usual start of a test that runs the daemon: creates
# $CR_TMP (cr_setup_tmp), the SoftHSM tokens' home (cr_softhsm_init) and a CA
# in $CR_CA, and sets
#   CR_CA     $CR_TMP/ca, the CA (ca.pem, ca.key, openssl.cnf)
#   CR_CERTS  $CR_TMP/certs, made empty, for the users' certificates and keys
#   CR_PUB    $CR_TMP/public, where the daemon publishes its CRL
#   CR_PAST   yesterday, CR_LATER  a year from now (cr_date_utc format): the
#             validity of a current certificate.
# Confirmation passwords need cr_pam_init besides.
cr_world_init() {
        cr_setup_tmp
        cr_softhsm_init
        CR_CA=$CR_TMP/ca
        CR_CERTS=$CR_TMP/certs
        CR_PUB=$CR_TMP/public
        mkdir -p "$CR_CERTS"
        cr_ca_create "$CR_CA"
        CR_PAST=$(cr_date_utc '-1 day')
        CR_LATER=$(cr_date_utc '+1 year')
}

# cr_shared_cards FORMAT N PER_CARD: N users' certificates on shared
# tokens cards-01, cards-02, ..., PER_CARD to a token: user i's login is
# printf FORMAT i, its certificate $CR_CERTS/LOGIN.pem (an EC key: quicker
# to make) with CKA_ID i in hex and label "LOGIN certificate".
cr_shared_cards() {
        local format=$1 n=$2 per=$3 c i login
        for ((c = 1; c <= (n + per - 1) / per; c++)); do
                cr_token_create "$(printf 'cards-%02d' "$c")"
        done
        for ((i = 1; i <= n; i++)); do
                # shellcheck disable=SC2059 # the format is the caller's
                login=$(printf "$format" "$i")
                CR_KEY_TYPE=ec cr_cert_issue "$CR_CA" "$login" "User $i" "$CR_PAST" "$CR_LATER" "$CR_CERTS/$login.pem"
                cr_token_put_cert "$(printf 'cards-%02d' $(((i - 1) / per + 1)))" "$CR_CERTS/$login.pem" \
                        "$(printf '%02x' "$i")" "$login certificate"
        done
}

# cr_card LOGIN NAME [START END]: a token card-LOGIN-01 holding one
# certificate for LOGIN (object label "LOGIN certificate", CKA_ID 01), issued
# by $CR_CA as $CR_CERTS/LOGIN.pem (key LOGIN.key), valid from START to END
# (default $CR_PAST to $CR_LATER).
cr_card() {
        cr_token_create "card-$1-01"
        cr_cert_issue "$CR_CA" "$1" "$2" "${3:-$CR_PAST}" "${4:-$CR_LATER}" "$CR_CERTS/$1.pem"
        cr_token_put_cert "card-$1-01" "$CR_CERTS/$1.pem" 01 "$1 certificate"
}

# cr_wait_first_crl [PUBDIR [WHAT]]: waits up to 10 s for the CRL the daemon
# publishes when it starts with none: PUBDIR/crl.der (default $CR_PUB) and a
# CRLNumber of 1 or more; fails otherwise, with the end of the daemon's log.
# WHAT, if given, starts the failure message.
cr_wait_first_crl() {
        local pub=${1:-$CR_PUB} what=${2:+$2: } i
        for ((i = 0; i < 100; i++)); do
                [[ -f $pub/crl.der && $(cr_crl_number) -ge 1 ]] && return 0
                sleep 0.1
        done
        cr_fail_at "${what}no CRL published at start" "$(tail -n 20 "$CR_TMP/daemon.log")"
}

# cr_free_port: prints a TCP port on the loopback that nothing listens on.
cr_free_port() {
        "$CR_PYTHON" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# cr_trust_list DIR FILTER: `trust list --filter=FILTER` with p11-kit reading
# only the module files in $CR_TMP/p11-modules (bind-mounted over the
# system's in a private mount namespace; needs root) and certrevoke's
# module reading DIR.
cr_trust_list() {
        # shellcheck disable=SC2016 # expanded by the inner sh
        unshare -m --propagation private sh -c '
                mount --bind "$1" /usr/share/p11-kit/modules || exit 97
                if [ -d /etc/pkcs11/modules ]; then mount --bind "$1" /etc/pkcs11/modules || exit 97; fi
                CERTREVOKE_PUBLISH_DIR=$2 exec trust list --filter="$3"' sh "$CR_TMP/p11-modules" "$1" "$2"
}

# ---------------------------------------------------------------- a store of many revocations

# cr_store_fill_revoked N [CADIR]: adds N revocations of certificates whose
# users are gone to the store of the stopped daemon ($CR_TMP/state/store.db),
# as listed on CRL 1 already, in one INSERT … SELECT (a million in seconds).
# The i-th has serial 3030…3i: the 16 digits of i in ASCII, read as an
# integer, so that SQL can write them into a DER, and no serial a CA of
# cr_ca_create gives (8 octets).  With CADIR each has a certificate of its
# own: one template issued by that CA, its serial replaced row by row (the
# signature no longer matches; nothing here checks it); without, none, as
# entries taken back from a CRL have none.
cr_store_fill_revoked() {
        cr_store_fill "$1" "${2:-}" 1 revoked
}

# cr_store_fill_known N CADIR FIRST: adds N certificates of CADIR that are
# known and not revoked (their users are gone), numbered from FIRST on as
# cr_store_fill_revoked numbers its own: the serial of the i-th is 3030…3i.
cr_store_fill_known() {
        cr_store_fill "$1" "$2" "$3" known
}

# cr_store_fill N CADIR FIRST revoked|known: what both of the above do.
cr_store_fill() {
        local n=$1 ca=$2 first=$3 what=$4 der="x''" issuer=CN=prefilled now_us to_us tpl hex marker pre post
        local revoked_usec revoked_by reason seq crl
        # the template's validity: from now, 365 days
        now_us=$(($(date +%s) * 1000000))
        to_us=$((now_us + 365 * 86400 * 1000000))
        if [[ -n $ca ]]; then
                tpl=$CR_TMP/.revoked-template
                marker=0210$(printf '30%.0s' {1..16})
                CR_KEY_TYPE=ec cr_genkey "$tpl.key"
                if ! openssl req -new -key "$tpl.key" -subj "/O=Demo Org/CN=revoked before" -out "$tpl.csr" \
                        2>"$tpl.err" ||
                        ! openssl x509 -req -in "$tpl.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" -days 365 \
                                -set_serial "0x${marker#0210}" -extfile "$ca/openssl.cnf" -extensions usr_cert \
                                -out "$tpl.pem" 2>>"$tpl.err"; then
                        cat "$tpl.err" >&2
                        cr_die "cannot issue the template of the prefilled certificates"
                fi
                hex=$(openssl x509 -in "$tpl.pem" -outform DER | od -An -v -tx1 | tr -d ' \n')
                pre=${hex%%"$marker"*}
                post=${hex#*"$marker"}
                ((${#pre} % 2 == 0 && ${#pre} < ${#hex})) || cr_die "no serial to replace in the template"
                der="CAST(x'${pre}0210' || CAST(printf('%016d', i) AS BLOB) || x'$post' AS BLOB)"
                issuer=$(cr_cert_subject "$ca/ca.pem")
                [[ $issuer != *"'"* ]] || cr_die "a quote in the CA's name: $issuer"
                rm -f -- "$tpl".*
        fi
        if [[ $what == revoked ]]; then
                revoked_usec=$now_us reason="'keyCompromise'" revoked_by="'prefilled'" seq="seq + i - $first + 1" crl=1
        else
                revoked_usec=0 reason="''" revoked_by="''" seq=0 crl=0
        fi
        sqlite3 "$CR_TMP/state/store.db" <<SQL
PRAGMA cache_size = -262144;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT $first UNION ALL SELECT i + 1 FROM n WHERE i < $first + $n - 1),
     base(seq) AS (SELECT coalesce(max(revocation_seq), 0) FROM certificates)
INSERT INTO certificates (user_id, der, serial, issuer, subject, not_before_usec, not_after_usec,
                          fingerprint, revoked_usec, revocation_reason, revoked_by, revocation_seq, crl_number)
SELECT NULL, $der, hex(CAST(printf('%016d', i) AS BLOB)), '$issuer', 'CN=revoked before,O=Demo Org',
       $now_us, $to_us, printf('%064x', i), $revoked_usec, $reason, $revoked_by, $seq, $crl
  FROM n, base;
UPDATE crl_state SET published_seq = (SELECT max(revocation_seq) FROM certificates);
COMMIT;
SQL
}

# ---------------------------------------------------------------- the daemon's objects on the bus

# cr_revoke_as UID LOGIN SERIAL REASON PASSWORD: calls RevokeCertificate as
# UID through busctl (prints the reply, "(sss) LOGIN NAME STATE").
cr_revoke_as() {
        local uid=$1
        shift
        cr_as "$uid" busctl --address="$CR_BUS_ADDRESS" call org.certrevoke1 /org/certrevoke1 \
                org.certrevoke1.Manager RevokeCertificate ssss "$@"
}

# cr_revoke_send UID LOGIN SERIAL REASON PASSWORD: the same through
# dbus-send, which prints the D-Bus error name of a failure.
cr_revoke_send() {
        cr_as "$1" dbus-send --bus="$CR_BUS_ADDRESS" --print-reply --dest=org.certrevoke1 /org/certrevoke1 \
                org.certrevoke1.Manager.RevokeCertificate "string:$2" "string:$3" "string:$4" "string:$5"
}

# assert_revoke_refused ERROR UID LOGIN SERIAL REASON PASSWORD: fails unless
# RevokeCertificate as UID fails with the D-Bus error ERROR (a full name such
# as org.certrevoke1.Error.AccessDenied); its output is left in
# CR_LAST_OUTPUT for further checks of the message.
assert_revoke_refused() {
        local want=$1
        shift
        assert_exit 1 cr_revoke_send "$@"
        assert_contains "$CR_LAST_OUTPUT" "Error $want" "revocation of '$2' (serial '$3') by UID $1"
}

# cr_user_prop LOGIN PROPERTY: a property of LOGIN's user object, read as
# root, as busctl prints it ('s "issued"', 't 0').
cr_user_prop() {
        cr_busctl get-property org.certrevoke1 "/org/certrevoke1/user/$1" org.certrevoke1.User "$2"
}

# cr_crl_number: the Manager's CRLNumber property as a bare number.
cr_crl_number() {
        local v
        v=$(cr_busctl get-property org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager CRLNumber)
        echo "${v#t }"
}

# What follows a revocation's reply: the daemon answers once the store and
# crl.der are durable; crl.pem, the token removal and their history
# entries come after.  These wait up to 10 s for them.

# cr_wait_crl_pem [DIR]: until crl.pem is the same CRL as crl.der.
cr_wait_crl_pem() {
        local pub=${1:-$CR_PUB} i
        for ((i = 0; i < 200; i++)); do
                if [[ -f $pub/crl.pem && -f $pub/crl.der ]] &&
                        cmp -s <(openssl crl -in "$pub/crl.pem" -outform DER 2>/dev/null) "$pub/crl.der"; then
                        return 0
                fi
                sleep 0.05
        done
        cr_fail_at "crl.pem did not follow crl.der in $pub within 10 s"
}

# cr_wait_user_prop LOGIN PROPERTY VALUE: until the property reads VALUE
# (as busctl prints it, e.g. 's "removed"').
cr_wait_user_prop() {
        local i v=
        for ((i = 0; i < 200; i++)); do
                v=$(cr_user_prop "$1" "$2")
                [[ $v == "$3" ]] && return 0
                sleep 0.05
        done
        cr_fail_at "$1's $2 is $v, not $3, after 10 s"
}

# cr_wait_history LOGIN TEXT: until LOGIN's history has a line with TEXT.
cr_wait_history() {
        local i
        for ((i = 0; i < 200; i++)); do
                grep -qF -- "$2" <<<"$(cr_history "$1")" && return 0
                sleep 0.05
        done
        cr_fail_at "no \"$2\" in the history of $1 after 10 s" "$(cr_history "$1")"
}

# cr_history [LOGIN]: the history (GetHistory) of LOGIN, or of everyone, read
# as root: one "actor action target result" a line, oldest first.  Fails if
# the reply is not of the type a(tssss).  Needs cr_need_python.
cr_history() {
        cr_busctl --json=short call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager \
                GetHistory stu "${1:-}" 0 0 |
                "$CR_PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
assert d["type"] == "a(tssss)", d["type"]
for e in d["data"][0]:
    print(" ".join(e[1:]))'
}

# ---------------------------------------------------------------- assertions

# cr_indent: copies stdin to stdout with every line marked as quoted output.
cr_indent() {
        local line
        while IFS= read -r line || [[ -n $line ]]; do
                printf '    | %s\n' "$line"
        done
}

# cr_fail_at MSG…: prints an assertion failure with the test's file:line.
cr_fail_at() {
        local i=1
        # Walk out of the harness to the first frame in the test itself.
        while [[ ${BASH_SOURCE[i]:-} == "${BASH_SOURCE[0]}" ]]; do
                ((i++))
        done
        printf '%s:%s: assertion failed: %s\n' \
                "$(basename "${BASH_SOURCE[i]:-?}")" "${BASH_LINENO[i - 1]:-?}" "$1" >&2
        shift
        (($# == 0)) || printf '%s\n' "$@" >&2
        return 1
}

# assert_eq EXPECTED ACTUAL [WHAT]: fails unless the two strings are equal.
assert_eq() {
        [[ $1 == "$2" ]] && return 0
        cr_fail_at "${3:-values differ}" "  expected: '$1'" "  seen:     '$2'"
}

# assert_no_password PASSWORD...: none of them is in a log of $CR_TMP or a
# file of the daemon's state directory.
assert_no_password() {
        local pw f
        for pw in "$@"; do
                for f in "$CR_TMP"/*.log "$CR_TMP"/state/*; do
                        [[ -f $f ]] || continue
                        ! grep -qaF -- "$pw" "$f" || cr_fail_at "the password '$pw' is in $f"
                done
        done
}

# assert_contains HAYSTACK NEEDLE [WHAT]: fails unless NEEDLE is in HAYSTACK.
assert_contains() {
        [[ $1 == *"$2"* ]] && return 0
        cr_fail_at "${3:-text does not contain the expected string}" \
                "  expected to contain: '$2'" "  seen:" "$(cr_indent <<<"$1")"
}

# assert_not_contains HAYSTACK NEEDLE [WHAT]: fails if NEEDLE is in HAYSTACK.
assert_not_contains() {
        [[ $1 != *"$2"* ]] && return 0
        cr_fail_at "${3:-text contains a string it must not}" \
                "  expected not to contain: '$2'" "  seen:" "$(cr_indent <<<"$1")"
}

# assert_exit CODE CMD…: runs CMD (functions too), fails unless it exits with
# CODE; leaves its stdout+stderr in CR_LAST_OUTPUT and status in CR_LAST_EXIT.
assert_exit() {
        local want=$1
        shift
        CR_LAST_EXIT=0
        CR_LAST_OUTPUT=$("$@" 2>&1) || CR_LAST_EXIT=$?
        [[ $CR_LAST_EXIT == "$want" ]] && return 0
        cr_fail_at "exit status of: $*" "  expected: $want" "  seen:     $CR_LAST_EXIT" \
                "  output:" "$(cr_indent <<<"$CR_LAST_OUTPUT")"
}
