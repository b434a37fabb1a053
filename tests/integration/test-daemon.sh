#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# certrevoked as a process: one daemon a store (a second is refused with the
# store and the first one's PID named, and the first keeps serving); one
# owner of the bus name; a bad configuration (unknown key, unknown section,
# malformed Validity=, relative path, syntax error) or a missing --config
# file stops the start with file:line and key on stderr, before the bus is
# ever connected to and before the store is created; SIGTERM and SIGINT end
# it cleanly (exit 0, name released, store lock free); READY=1 reaches
# NOTIFY_SOCKET only once the name is owned, STOPPING=1 on the way out; the
# users and certificates survive a restart and a SIGKILL.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl setpriv timeout
cr_need_python

cr_setup_tmp
cr_softhsm_init
ca=$CR_TMP/ca
cr_ca_create "$ca"
cr_token_create card-anna-01
cr_cert_issue "$ca" anna "Anna" "$(cr_date_utc '-1 day')" "$(cr_date_utc '+1 year')" "$CR_TMP/anna.pem"
cr_token_put_cert card-anna-01 "$CR_TMP/anna.pem" 01 "anna certificate"
cr_cert_issue "$ca" bert "Bert" "$(cr_date_utc '-1 day')" "$(cr_date_utc '+1 year')" "$CR_TMP/bert.pem"
cr_start_bus
cr_write_config "$CR_TMP/certrevoke.conf"

# run_daemon CONFIG [ADDRESS]: runs a certrevoked in the foreground for at
# most 15 s; its stderr in $CR_TMP/run.err, its status in run_status.
run_daemon() {
        run_status=0
        (cd "$CR_TMP" && exec env DBUS_SYSTEM_BUS_ADDRESS="${2:-$CR_BUS_ADDRESS}" \
                SOFTHSM2_CONF="$SOFTHSM2_CONF" timeout -k 2 15 \
                "$CR_BUILD/certrevoked" --config="$1") \
                </dev/null >"$CR_TMP/run.out" 2>"$CR_TMP/run.err" || run_status=$?
        cat "$CR_TMP/run.err" >>"$CR_TMP/runs.log"
}

owner() {
        cr_busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
                GetNameOwner s org.certrevoke1
}

# ---- READY=1 and STOPPING=1 through NOTIFY_SOCKET.  The listener stops the
# daemon the moment READY=1 arrives and looks at the bus before letting it
# go on: the name must be owned already.
cat >"$CR_TMP/notify.py" <<'EOF'
import os, signal, socket, struct, subprocess, sys
path, out, address = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
with open(out, "a") as f:
    f.write("listening\n")
while True:
    data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = None
    for level, kind, value in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", value[:12])[0]
    for line in data.decode(errors="replace").splitlines():
        note = ""
        if line == "READY=1" and pid:
            os.kill(pid, signal.SIGSTOP)
            r = subprocess.run(["busctl", "--address=" + address, "call", "org.freedesktop.DBus",
                                "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
                                "s", "org.certrevoke1"], capture_output=True, text=True)
            os.kill(pid, signal.SIGCONT)
            note = " owned=" + r.stdout.strip()
        with open(out, "a") as f:
            f.write(line + note + "\n")
EOF
"$CR_PYTHON" "$CR_TMP/notify.py" "$CR_TMP/notify.sock" "$CR_TMP/notify.out" "$CR_BUS_ADDRESS" &
cr_track $!
for _ in {1..50}; do
        [[ -s $CR_TMP/notify.out ]] && break
        sleep 0.1
done
assert_eq listening "$(cat "$CR_TMP/notify.out")"

CR_DAEMON_ENV=(NOTIFY_SOCKET="$CR_TMP/notify.sock")
cr_start_daemon
CR_DAEMON_ENV=()
for _ in {1..50}; do
        grep -q '^READY=1' "$CR_TMP/notify.out" && break
        sleep 0.1
done
assert_eq "READY=1 owned=b true" "$(grep '^READY=1' "$CR_TMP/notify.out")" \
        "READY=1 comes once org.certrevoke1 is owned"

cr_ctl add-user anna "Anna" general 1001
cr_ctl add-user bert "ベルト" admin 1002
cr_ctl import-cert bert "$CR_TMP/bert.pem"
cr_ctl rescan >/dev/null
first_pid=$CR_DAEMON_PID
first_owner=$(owner)
table=$(cr_ctl --json list)
assert_contains "$table" '"login_id":"anna","name":"Anna","role":"general","state":"issued"'
assert_contains "$table" '"login_id":"bert","name":"ベルト","role":"admin","state":"issued"'
assert_eq "$first_pid" "$(head -n1 "$CR_TMP/state/store.lock")" "the lock file names the daemon"

# ---- a second daemon on the same store
run_daemon "$CR_TMP/certrevoke.conf"
[[ $run_status != 0 ]] || cr_fail_at "a second daemon on the same store exited 0"
assert_contains "$(cat "$CR_TMP/run.err")" \
        "another certrevoked (PID $first_pid) is already using the store in $CR_TMP/state"
assert_eq "$first_owner" "$(owner)" "the first daemon keeps the name"
assert_eq "$table" "$(cr_ctl --json list)" "and keeps serving"

# ---- a second daemon with a store and a CRL of its own: the name is taken
# (beside the first one's published CRL, its empty store would not start)
sed -e "s|^StateDirectory=.*|StateDirectory=$CR_TMP/state-2|" \
        -e "s|^PublishDirectory=.*|PublishDirectory=$CR_TMP/public-2|" "$CR_TMP/certrevoke.conf" >"$CR_TMP/second.conf"
run_daemon "$CR_TMP/second.conf"
[[ $run_status != 0 ]] || cr_fail_at "a second owner of the name exited 0"
assert_contains "$(cat "$CR_TMP/run.err")" "org.certrevoke1 is owned by another process already"
assert_eq "$first_owner" "$(owner)"
assert_eq "$table" "$(cr_ctl --json list)"

# ---- SIGTERM: exit 0, the name released, STOPPING=1
cr_stop_daemon || cr_fail_at "certrevoked did not exit 0 on SIGTERM (status $CR_DAEMON_STATUS)"
assert_eq 0 "$CR_DAEMON_STATUS"
cr_name_has_owner org.certrevoke1 && cr_fail_at "org.certrevoke1 is still owned after SIGTERM"
for _ in {1..20}; do
        grep -q '^STOPPING=1' "$CR_TMP/notify.out" && break
        sleep 0.1
done
assert_contains "$(cat "$CR_TMP/notify.out")" "STOPPING=1"

# ---- the data survives a restart
cr_start_daemon
assert_eq "$table" "$(cr_ctl --json list)" "users and certificates after a restart"
assert_exit 0 cr_ctl show bert
assert_contains "$CR_LAST_OUTPUT" "Serial: $(cr_cert_serial "$CR_TMP/bert.pem")"

# SIGINT ends it as cleanly as SIGTERM.
cr_stop_daemon INT
assert_eq 0 "$CR_DAEMON_STATUS" "exit status on SIGINT"
cr_name_has_owner org.certrevoke1 && cr_fail_at "org.certrevoke1 is still owned after SIGINT"

# SIGKILL: the lock goes with the process, what was answered is kept.
cr_start_daemon
cr_ctl add-user carl "Carl" worker 1003
cr_kill_daemon
cr_start_daemon
assert_exit 0 cr_ctl show carl
assert_contains "$CR_LAST_OUTPUT" "Role: Worker user"
table=$(cr_ctl --json list)
cr_stop_daemon

# ---- bad configurations: stopped before the bus and the store.  The bus
# address is a socket that only records whether anyone connected.
cr_start_trap_bus
trap_bus=$CR_TRAP_BUS

# bad_config LINE EXPECTED CONTENT: a config whose line LINE is wrong.
bad_config() {
        local line=$1 expected=$2 conf=$CR_TMP/bad.conf
        printf '%s\n' "$3" >"$conf"
        rm -rf -- "$CR_TMP/state-bad"
        run_daemon "$conf" "$trap_bus"
        [[ $run_status != 0 && $run_status != 124 ]] ||
                cr_fail_at "certrevoked accepted a bad configuration (status $run_status): $3"
        assert_contains "$(cat "$CR_TMP/run.err")" "$conf:$line: $expected"
        assert_eq "" "$(cat "$CR_TMP/run.out")" "nothing on stdout"
        [[ ! -e $CR_TMP/state-bad ]] || cr_fail_at "a bad configuration created the store directory"
}
bad_config 3 "[Service] Frobnicate= is not a known key" \
        "[Service]
StateDirectory=$CR_TMP/state-bad
Frobnicate=yes"
bad_config 5 "[CRL] Validity= must be a duration such as 7d, 12h or 3600s" \
        "[Service]
StateDirectory=$CR_TMP/state-bad

[CRL]
Validity=seven days"
bad_config 2 "[CRL] Validity= must be a duration" \
        "[CRL]
Validity=7x
[Service]
StateDirectory=$CR_TMP/state-bad"
bad_config 4 "[CRL] Validity= must be a duration" \
        "[Service]
StateDirectory=$CR_TMP/state-bad
[CRL]
Validity=0d"
bad_config 2 "[Service] StateDirectory= must be an absolute path" \
        "[Service]
StateDirectory=state-bad"
bad_config 4 "[CA] Certificate= must be an absolute path" \
        "[Service]
StateDirectory=$CR_TMP/state-bad
[CA]
Certificate=ca/ca.pem"
bad_config 4 "[Tokens] Modules= must list absolute module paths" \
        "[Service]
StateDirectory=$CR_TMP/state-bad
[Tokens]
Modules=$CR_SOFTHSM_MODULE libsofthsm2.so"
bad_config 4 "[Frob] Key= is not a known key" \
        "[Service]
StateDirectory=$CR_TMP/state-bad
[Frob]
Key=1"
bad_config 3 "syntax error" \
        "[Service]
StateDirectory=$CR_TMP/state-bad
this line has no equals sign"
# The first problem is the one reported.
bad_config 2 "[Service] Frobnicate= is not a known key" \
        "[Service]
Frobnicate=yes
StateDirectory=relative"

run_daemon "$CR_TMP/no-such.conf" "$trap_bus"
[[ $run_status != 0 && $run_status != 124 ]] || cr_fail_at "a missing --config file was accepted ($run_status)"
assert_contains "$(cat "$CR_TMP/run.err")" "$CR_TMP/no-such.conf: cannot read: No such file or directory"
assert_eq "" "$(cat "$CR_TMP/trap.out" 2>/dev/null)" "no bad configuration connected to the bus"

# The trap does catch a daemon that gets as far as the bus.
sed -e "s|^StateDirectory=.*|StateDirectory=$CR_TMP/state-trap|" \
        -e "s|^PublishDirectory=.*|PublishDirectory=$CR_TMP/public-trap|" "$CR_TMP/certrevoke.conf" >"$CR_TMP/trap.conf"
(cd "$CR_TMP" && exec env DBUS_SYSTEM_BUS_ADDRESS="$trap_bus" SOFTHSM2_CONF="$SOFTHSM2_CONF" \
        timeout -k 1 5 "$CR_BUILD/certrevoked" --config="$CR_TMP/trap.conf") \
        </dev/null >>"$CR_TMP/runs.log" 2>&1 || true
assert_contains "$(cat "$CR_TMP/trap.out" 2>/dev/null)" "connected" "a good configuration reaches the bus"

cr_name_has_owner org.certrevoke1 && cr_fail_at "org.certrevoke1 is owned after the bad starts"

# ---- command line
assert_exit 0 "$CR_BUILD/certrevoked" --help
assert_contains "$CR_LAST_OUTPUT" "--config=PATH"
assert_exit 0 "$CR_BUILD/certrevoked" --version
assert_contains "$CR_LAST_OUTPUT" "certrevoked "
assert_exit 2 "$CR_BUILD/certrevoked" --config="$CR_TMP/certrevoke.conf" extra
assert_contains "$CR_LAST_OUTPUT" "takes no arguments"
assert_exit 2 "$CR_BUILD/certrevoked" --frobnicate

# After all that the store still serves what it held.
cr_start_daemon
assert_eq "$table" "$(cr_ctl --json list)"
cr_stop_daemon
echo "daemon OK"
