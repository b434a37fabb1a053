#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# certrevoked's life as a system service.  Watchdog: with WATCHDOG_USEC=2 s
# it sends WATCHDOG=1 to NOTIFY_SOCKET about every second, also while a PAM
# check is under way, besides READY=1, RELOADING=1 and STOPPING=1.  SIGHUP:
# a configuration with a mistake is logged and the one in use kept; a good
# one is taken (the next CRL has the new Validity=).  Exit on idle
# (IdleTimeout=2s): it releases its bus name, then exits 0 by itself; calls
# coming in, or a PAM check under way, keep it; the next call starts it
# again through D-Bus activation.  journald: with JOURNAL_STREAM naming its
# stderr, a revocation and a failed confirmation are native journal entries
# with their MESSAGE_ID and fields (listened for on a private
# /run/systemd/journal/socket); without it, or with a JOURNAL_STREAM of
# another file, the same events are plain lines on stderr.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon dbus-send dbus-monitor busctl softhsm2-util pkcs11-tool openssl setpriv \
        unshare nsenter mount stat flock
cr_need_python
[[ $(id -u) == 0 ]] || cr_skip "needs root (setpriv, unshare, nsenter)"
[[ -x $CR_BUILD/certrevoke-pam-helper ]] || cr_skip "no $CR_BUILD/certrevoke-pam-helper"

# the journal message IDs of service/log.h
ID_REVOKED=$(sed -n 's/^#define CR_MESSAGE_REVOKED *"\([0-9a-f]*\)"/\1/p' "$CR_SRCDIR/service/log.h")
ID_CONFIRM_FAILED=$(sed -n 's/^#define CR_MESSAGE_CONFIRMATION_FAILED *"\([0-9a-f]*\)"/\1/p' "$CR_SRCDIR/service/log.h")
ID_CRL_PUBLISHED=$(sed -n 's/^#define CR_MESSAGE_CRL_PUBLISHED *"\([0-9a-f]*\)"/\1/p' "$CR_SRCDIR/service/log.h")
[[ ${#ID_REVOKED} == 32 && ${#ID_CONFIRM_FAILED} == 32 && ${#ID_CRL_PUBLISHED} == 32 ]] ||
        cr_die "cannot read the message IDs from service/log.h"

cr_world_init
cr_pam_init
base_env=("${CR_DAEMON_ENV[@]}")
ADMIN=1001
good=Conf1rm-Life-4c8e
wrong=Wr0ng-Life-0f3a

# ---- local helpers

# listener SOCKET OUT: a datagram listener on SOCKET (NOTIFY_SOCKET or the
# journal's socket) writing one JSON object a datagram to OUT: the monotonic
# time and the fields, native journal protocol (also binary-safe values and
# memfds) or sd_notify's KEY=VALUE lines.  OUT.ready appears once it listens.
cat >"$CR_TMP/listener.py" <<'EOF'
import array, json, os, socket, struct, sys, time

path, out = sys.argv[1], sys.argv[2]

def fields(data):
    f, i = [], 0
    while i < len(data):
        nl = data.find(b"\n", i)
        if nl < 0:
            nl = len(data)
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            # KEY\n, 64-bit little-endian length, value, \n
            k = line
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            v = data[nl + 9:nl + 9 + n]
            i = nl + 9 + n + 1
        f.append([k.decode(errors="replace"), v.decode(errors="replace")])
    return f

s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s.bind(path)
os.chmod(path, 0o666)
open(out + ".ready", "w").close()
with open(out, "a") as o:
    while True:
        data, anc, _, _ = s.recvmsg(1 << 20, socket.CMSG_SPACE(16 * 4))
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(cdata[:len(cdata) - len(cdata) % fds.itemsize])
                for fd in fds:
                    data += os.pread(fd, os.fstat(fd).st_size, 0)
                    os.close(fd)
        o.write(json.dumps({"t": time.monotonic(), "fields": fields(data)}) + "\n")
        o.flush()
EOF

# wait_file FILE: waits up to 5 s for FILE to exist.
wait_file() {
        local i
        for ((i = 0; i < 50; i++)); do
                [[ -e $1 ]] && return 0
                sleep 0.1
        done
        cr_die "$1 did not appear"
}

# datagrams OUT KEY=VALUE…: the datagrams of OUT having every KEY=VALUE,
# one JSON object a line.
datagrams() {
        "$CR_PYTHON" - "$@" <<'EOF'
import json, sys
out, want = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
for line in open(out):
    d = json.loads(line)
    if all(w in d["fields"] for w in want):
        print(line, end="")
EOF
}

# conf_set SECTION KEY VALUE: sets KEY in $CR_TMP/certrevoke.conf.
conf_set() {
        local f=$CR_TMP/certrevoke.conf
        awk -v s="[$1]" -v k="$2" -v v="$3" '
                $0 == s { print; print k "=" v; insec = 1; next }
                /^\[/ { insec = 0 }
                insec && index($0, k "=") == 1 { next }
                { print }' "$f" >"$f.tmp"
        mv -f -- "$f.tmp" "$f"
}

# revoke LOGIN PASSWORD: RevokeCertificate by the admin, through dbus-send.
revoke() {
        cr_as $ADMIN dbus-send --bus="$CR_BUS_ADDRESS" --print-reply --dest=org.certrevoke1 /org/certrevoke1 \
                org.certrevoke1.Manager.RevokeCertificate "string:$1" string: string:keyCompromise "string:$2"
}

# revoked LOGIN: the revocation succeeds.
revoked() {
        assert_exit 0 revoke "$1" "$good"
        assert_contains "$CR_LAST_OUTPUT" "string \"revoked\"" "revocation of $1"
}

# confirm_fails LOGIN: the confirmation with a wrong password fails.
confirm_fails() {
        assert_exit 1 revoke "$1" "$wrong"
        assert_contains "$CR_LAST_OUTPUT" "Error org.certrevoke1.Error.AuthenticationFailed" "wrong password on $1"
}

# log_since LINE: the daemon's log from line LINE on.
log_since() {
        tail -n +"$1" "$CR_TMP/daemon.log"
}

# log_lines: the number of the daemon log's next line.
log_lines() {
        echo $(($(wc -l <"$CR_TMP/daemon.log") + 1))
}

# wait_log LINE TEXT: waits up to 5 s for TEXT in the log from LINE on.
wait_log() {
        local i
        for ((i = 0; i < 50; i++)); do
                log_since "$1" | grep -qF -- "$2" && return 0
                sleep 0.1
        done
        cr_fail_at "'$2' not logged" "$(log_since "$1" | cr_indent)"
}

# crl_days: nextUpdate - lastUpdate of the published CRL, in seconds.
crl_validity() {
        local last next
        last=$(openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -lastupdate)
        next=$(openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -nextupdate)
        echo $(($(date -d "${next#nextUpdate=}" +%s) - $(date -d "${last#lastUpdate=}" +%s)))
}

# wait_exit SECONDS: waits for the daemon to exit by itself; sets
# CR_DAEMON_STATUS, and tenths to how long it took in tenths of a second.
wait_exit() {
        local i pid=$CR_DAEMON_PID
        for ((i = 0; i < $1 * 10; i++)); do
                [[ -z $(cr_pids_alive "$pid") ]] && break
                sleep 0.1
        done
        [[ -z $(cr_pids_alive "$pid") ]] || return 1
        CR_DAEMON_STATUS=0
        wait "$pid" || CR_DAEMON_STATUS=$?
        cr_untrack "$pid"
        CR_DAEMON_PID=
        tenths=$i
}

# now_ms: the wall clock in milliseconds.
now_ms() {
        echo $(($(date +%s%N) / 1000000))
}

# mono: CLOCK_MONOTONIC in seconds, as the listener stamps datagrams.
mono() {
        "$CR_PYTHON" -c 'import time; print("%.3f" % time.monotonic())'
}

# targets of revocations, each revoked once, and glen for failed confirmations
targets=(gina gene gwen gail gus glen)
for u in "${targets[@]}"; do
        cr_card "$u" "${u^} General"
done
cr_pam_password boss "$good"

cr_start_bus
cr_write_config "$CR_TMP/certrevoke.conf"
conf_set Service IdleTimeout 0

# ==== watchdog, readiness and reload, seen on NOTIFY_SOCKET
"$CR_PYTHON" "$CR_TMP/listener.py" "$CR_TMP/notify.sock" "$CR_TMP/notify.json" &
cr_track $!
wait_file "$CR_TMP/notify.json.ready"
CR_DAEMON_ENV=("${base_env[@]}" NOTIFY_SOCKET="$CR_TMP/notify.sock" WATCHDOG_USEC=2000000)
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN
for i in "${!targets[@]}"; do
        cr_ctl add-user "${targets[i]}" "${targets[i]^} General" general $((1002 + i))
done
assert_exit 0 cr_ctl rescan
for _ in {1..100}; do
        [[ -f $CR_PUB/crl.der ]] && break
        sleep 0.1
done
assert_eq $((7 * 86400)) "$(crl_validity)" "the first CRL: Validity=7d"

# a PAM check that takes 3 s: the loop keeps turning and pinging meanwhile
sed -i '1a sleep 3' "$CR_TMP/bin/certrevoke-pam-helper"
t0=$(now_ms) m0=$(mono)
confirm_fails glen
t1=$(now_ms) m1=$(mono)
((t1 - t0 >= 3000)) || cr_fail_at "the slow PAM helper took only $((t1 - t0)) ms"
sed -i '2{/^sleep 3$/d}' "$CR_TMP/bin/certrevoke-pam-helper"
sleep 1.5

# ---- SIGHUP with a mistake in the file: logged, the configuration in use kept
line=$(log_lines)
cp "$CR_TMP/certrevoke.conf" "$CR_TMP/certrevoke.conf.good"
conf_set CRL Validity 2fortnights
kill -HUP "$CR_DAEMON_PID"
wait_log "$line" "keeping the configuration in use"
assert_contains "$(log_since "$line")" "certrevoke.conf:"
assert_contains "$(log_since "$line")" "[CRL] Validity="
assert_exit 0 cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager ListUsers
[[ -n $(cr_pids_alive "$CR_DAEMON_PID") ]] || cr_fail_at "certrevoked died on a bad reload"
revoked gina
assert_eq $((7 * 86400)) "$(crl_validity)" "the CRL after a bad reload: still 7d"

# ---- SIGHUP with a good file: taken
cp "$CR_TMP/certrevoke.conf.good" "$CR_TMP/certrevoke.conf"
conf_set CRL Validity 2d
line=$(log_lines)
kill -HUP "$CR_DAEMON_PID"
wait_log "$line" "config: reloaded $CR_TMP/certrevoke.conf"
assert_not_contains "$(log_since "$line")" "keeping"
revoked gene
assert_eq $((2 * 86400)) "$(crl_validity)" "the CRL after reloading Validity=2d"
# a key that needs a restart says so, and the store stays where it is
conf_set Service StateDirectory "$CR_TMP/elsewhere"
line=$(log_lines)
kill -HUP "$CR_DAEMON_PID"
wait_log "$line" "takes effect at the next start"
assert_exit 0 cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager ListUsers
[[ ! -e $CR_TMP/elsewhere ]] || cr_fail_at "the store moved on reload"
cp "$CR_TMP/certrevoke.conf.good" "$CR_TMP/certrevoke.conf"
conf_set Service IdleTimeout 0
# a fast run can be over before five pings are due: live long enough for them
for _ in {1..100}; do
        (($(datagrams "$CR_TMP/notify.json" WATCHDOG=1 | wc -l) >= 5)) && break
        sleep 0.1
done
cr_stop_daemon

# ---- what NOTIFY_SOCKET received
notify=$CR_TMP/notify.json
pings=$(datagrams "$notify" WATCHDOG=1 | "$CR_PYTHON" -c '
import json, sys
print(" ".join("%.3f" % json.loads(l)["t"] for l in sys.stdin))')
read -ra ping <<<"$pings"
((${#ping[@]} >= 5)) || cr_fail_at "only ${#ping[@]} WATCHDOG=1 in the daemon's life: $pings"
"$CR_PYTHON" - "$notify" "$m0" "$m1" <<'EOF' || cr_fail_at "WATCHDOG=1 not about every second: $pings"
import json, sys
m0, m1 = float(sys.argv[2]), float(sys.argv[3])
d = [json.loads(l) for l in open(sys.argv[1])]
t = [x["t"] for x in d if ["WATCHDOG", "1"] in x["fields"]]
ready = min(x["t"] for x in d if ["READY", "1"] in x["fields"])
stopping = max(x["t"] for x in d if ["STOPPING", "1"] in x["fields"])
gaps = [b - a for a, b in zip([ready] + t, t + [stopping])]
# sd-event pings between 1/2 and 3/4 of WATCHDOG_USEC (2 s) after the last
# one, and not sooner than 1/4 when the loop is busy
# (from READY=1 to the first and from the last to STOPPING=1: at most)
bad = [round(g, 3) for i, g in enumerate(gaps)
       if g > 1.7 or (g < 0.45 and 0 < i < len(gaps) - 1)]
if bad:
    sys.exit("gaps out of 0.45..1.7 s: %s" % bad)
during = [x for x in t if m0 < x < m1]
if len(during) < 2:
    sys.exit("%d WATCHDOG=1 during the 3 s PAM check" % len(during))
print("WATCHDOG=1: %d pings in %.1f s, gaps %.2f..%.2f s, %d during the PAM check"
      % (len(t), stopping - ready, min(gaps[1:-1]), max(gaps), len(during)), file=sys.stderr)
EOF
order=$("$CR_PYTHON" - "$notify" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    f = dict(json.loads(line)["fields"])
    for k in ("READY", "RELOADING", "STOPPING"):
        if k in f:
            print(k)
EOF
)
# started; three reloads, each RELOADING=1 then READY=1; stopping
assert_eq "READY RELOADING READY RELOADING READY RELOADING READY STOPPING" "$(tr '\n' ' ' <<<"$order" | sed 's/ $//')" \
        "READY/RELOADING/STOPPING on NOTIFY_SOCKET"
CR_DAEMON_ENV=("${base_env[@]}")

# ==== exit on idle
conf_set Service IdleTimeout 2s

# the bus's view: the name is released before the connection goes
dbus-monitor --address "$CR_BUS_ADDRESS" \
        "type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged'" >"$CR_TMP/noc.txt" 2>&1 &
cr_track $!
for _ in {1..50}; do
        cr_busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId >/dev/null
        grep -q NameOwnerChanged "$CR_TMP/noc.txt" && break
        sleep 0.1
done
grep -q NameOwnerChanged "$CR_TMP/noc.txt" || cr_die "dbus-monitor does not see NameOwnerChanged"

# ---- idle from the start: gone after about 2 s, exit status 0
line=$(log_lines)
t0=$(now_ms)
cr_start_daemon
unique=$(cr_busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetNameOwner \
        s org.certrevoke1)
unique=${unique#s \"} unique=${unique%\"}
wait_exit 10 || cr_fail_at "certrevoked did not exit on idle within 10 s"
t1=$(now_ms)
assert_eq 0 "$CR_DAEMON_STATUS" "exit status on idle"
((t1 - t0 >= 2000)) || cr_fail_at "certrevoked exited $((t1 - t0)) ms after its start, before IdleTimeout=2s"
cr_log "exited on idle $((t1 - t0)) ms after its start"
cr_name_has_owner org.certrevoke1 && cr_fail_at "org.certrevoke1 still owned after the exit on idle"
assert_contains "$(log_since "$line")" "idle: exiting"
changes=$(awk '/member=NameOwnerChanged/ { n = 3; s = ""; next }
        n > 0 { sub(/^ *string /, ""); s = s " " $0; if (--n == 0) print substr(s, 2) }' "$CR_TMP/noc.txt")
released=$(grep -n "^\"org.certrevoke1\" \"$unique\" \"\"$" <<<"$changes" | cut -d: -f1)
gone=$(grep -n "^\"$unique\" \"$unique\" \"\"$" <<<"$changes" | cut -d: -f1)
[[ -n $released && -n $gone ]] || cr_fail_at "NameOwnerChanged for $unique not seen" "$changes"
((released < gone)) || cr_fail_at "the connection went before the name was released" "$changes"

# ---- calls keep it: 5 s of a call every half second, then it goes
cr_start_daemon
for _ in {1..10}; do
        cr_as $ADMIN busctl --address="$CR_BUS_ADDRESS" call org.certrevoke1 /org/certrevoke1 \
                org.certrevoke1.Manager ListUsers >/dev/null || cr_fail_at "ListUsers failed while calls keep coming"
        sleep 0.5
done
[[ -n $(cr_pids_alive "$CR_DAEMON_PID") ]] || cr_fail_at "certrevoked exited while calls kept coming"
wait_exit 10 || cr_fail_at "certrevoked did not exit on idle after the calls stopped"
assert_eq 0 "$CR_DAEMON_STATUS"
((tenths >= 10)) || cr_fail_at "certrevoked exited $tenths/10 s after the last call"

# ---- a PAM check under way keeps it: a confirmation taking 4 s
sed -i '1a sleep 4' "$CR_TMP/bin/certrevoke-pam-helper"
cr_start_daemon
pid=$CR_DAEMON_PID
t0=$(now_ms)
revoke gwen "$good" >"$CR_TMP/slow-revoke.out" 2>&1 &
slow=$!
cr_track "$slow"
sleep 3.5
[[ -n $(cr_pids_alive "$pid") ]] || cr_fail_at "certrevoked exited on idle with a PAM check under way"
rc=0
wait "$slow" || rc=$?
cr_untrack "$slow"
t1=$(now_ms)
assert_eq 0 "$rc" "the slow revocation: $(cat "$CR_TMP/slow-revoke.out")"
assert_contains "$(cat "$CR_TMP/slow-revoke.out")" "string \"revoked\""
((t1 - t0 >= 4000)) || cr_fail_at "the slow revocation took only $((t1 - t0)) ms"
wait_exit 10 || cr_fail_at "certrevoked did not exit on idle after the PAM check"
assert_eq 0 "$CR_DAEMON_STATUS"
sed -i '2{/^sleep 4$/d}' "$CR_TMP/bin/certrevoke-pam-helper"
[[ $(sed -n 2p "$CR_TMP/bin/certrevoke-pam-helper") == exec* ]] || cr_die "cannot restore the PAM helper"

# ---- the next call starts it again, through the activation file
daemon_env=""
for e in "${CR_DAEMON_ENV[@]}"; do
        daemon_env+=" $e"
done
sed "s|^Exec=.*|Exec=/usr/bin/env -C $CR_TMP -u LD_PRELOAD DBUS_SYSTEM_BUS_ADDRESS=unix:path=$CR_TMP/bus.sock SOFTHSM2_CONF=$SOFTHSM2_CONF$daemon_env $CR_DAEMON_BIN --config=$CR_TMP/certrevoke.conf|" \
        "$CR_SRCDIR/units/org.certrevoke1.service" >"$CR_TMP/services/org.certrevoke1.service"
bus_lines=$(($(wc -l <"$CR_TMP/bus.log") + 1))
cr_name_has_owner org.certrevoke1 && cr_fail_at "org.certrevoke1 owned before the call"
assert_exit 0 cr_as $ADMIN busctl --address="$CR_BUS_ADDRESS" call org.certrevoke1 \
        /org/certrevoke1/user/gwen org.freedesktop.DBus.Properties Get ss org.certrevoke1.User CertificateState
assert_eq 'v s "revoked"' "$CR_LAST_OUTPUT" "answered by the activated daemon"
pid=$(cr_busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        GetConnectionUnixProcessID s org.certrevoke1)
pid=${pid#u }
assert_eq "$(readlink -f "$CR_DAEMON_BIN")" "$(readlink "/proc/$pid/exe")" "the activated daemon"
# and it goes again on idle, by itself
for _ in {1..100}; do
        [[ -z $(cr_pids_alive "$pid") ]] && break
        sleep 0.1
done
[[ -z $(cr_pids_alive "$pid") ]] || cr_fail_at "the activated certrevoked did not exit on idle"
cr_name_has_owner org.certrevoke1 && cr_fail_at "org.certrevoke1 owned after the activated daemon left"
assert_contains "$(tail -n +"$bus_lines" "$CR_TMP/bus.log")" "idle: exiting"
rm -f -- "$CR_TMP/services/org.certrevoke1.service"
conf_set Service IdleTimeout 0

# ==== journald
# A private /run/systemd/journal in a mount namespace of its own, with a
# listener on its socket; the daemon enters that namespace.
run_dir=/run/systemd/journal
while [[ ! -d $run_dir ]]; do
        run_dir=$(dirname "$run_dir")
done
# shellcheck disable=SC2016 # expanded by that sh
unshare -m --propagation private sh -c 'mount -t tmpfs -o mode=0755 tmpfs "$1" &&
        mkdir -p /run/systemd/journal && exec "$2" "$3" /run/systemd/journal/socket "$4"' \
        sh "$run_dir" "$CR_PYTHON" "$CR_TMP/listener.py" "$CR_TMP/journal.json" &
journal_pid=$!
cr_track "$journal_pid"
wait_file "$CR_TMP/journal.json.ready"

# in-journal DAEMON-ARGS: the daemon in the namespace; JOURNAL_STREAM as the
# wrapper is told: "match" (its stderr), "unset", or "other" (another file).
cat >"$CR_TMP/bin/certrevoked-in-journal" <<EOF
#!/bin/sh
case \$CR_JOURNAL_STREAM in
match) JOURNAL_STREAM=\$(stat -L -c %d:%i /proc/self/fd/2); export JOURNAL_STREAM ;;
other) JOURNAL_STREAM=\$(stat -L -c %d:%i "$CR_TMP/certrevoke.conf"); export JOURNAL_STREAM ;;
*) unset JOURNAL_STREAM ;;
esac
unset CR_JOURNAL_STREAM
exec nsenter --target=$journal_pid --mount -- "$CR_TMP/bin/certrevoked" "\$@"
EOF
chmod 0755 "$CR_TMP/bin/certrevoked-in-journal"
CR_DAEMON_BIN=$CR_TMP/bin/certrevoked-in-journal
journal=$CR_TMP/journal.json

# ---- under journald: structured entries
line=$(log_lines)
CR_DAEMON_ENV=("${base_env[@]}" CR_JOURNAL_STREAM=match)
cr_start_daemon
revoked gail
confirm_fails glen
cr_stop_daemon
entries=$(datagrams "$journal" "MESSAGE_ID=$ID_REVOKED" CERTREVOKE_LOGIN=gail)
assert_eq 1 "$(grep -c . <<<"$entries")" "one revoked entry for gail: $(cat "$journal")"
for want in '"PRIORITY", "5"' '"SYSLOG_IDENTIFIER", "certrevoked"' '"CERTREVOKE_SERIAL", "'"$(cr_cert_serial "$CR_CERTS/gail.pem")"'"' \
        '"MESSAGE", "certificate '; do
        assert_contains "$entries" "$want" "the revoked entry"
done
entries=$(datagrams "$journal" "MESSAGE_ID=$ID_CONFIRM_FAILED" CERTREVOKE_LOGIN=glen CERTREVOKE_ACTOR=boss)
assert_eq 1 "$(grep -c . <<<"$entries")" "one confirmation-failed entry: $(cat "$journal")"
assert_contains "$entries" '"PRIORITY", "4"'
assert_contains "$(datagrams "$journal" "MESSAGE_ID=$ID_CRL_PUBLISHED")" "CERTREVOKE_CRL_NUMBER"
# ordinary lines carry their priority for the journal's stream reader
run_log=$(log_since "$line")
assert_contains "$run_log" "<6>serving org.certrevoke1"
assert_not_contains "$run_log" "certrevoked: " "no plain lines under journald"
assert_not_contains "$run_log" "revoked (keyCompromise)" "the event is in the journal, not on stderr"
for pw in "$good" "$wrong"; do
        ! grep -qF -- "$pw" "$journal" || cr_fail_at "a password went to the journal"
done
n_journal=$(wc -l <"$journal")

# ---- without JOURNAL_STREAM, and with one naming another file: plain
# lines on stderr, nothing to the journal's socket
for how in unset other; do
        line=$(log_lines)
        CR_DAEMON_ENV=("${base_env[@]}" "CR_JOURNAL_STREAM=$how")
        cr_start_daemon
        [[ $how == unset ]] && revoked gus
        confirm_fails glen
        cr_stop_daemon
        run_log=$(log_since "$line")
        [[ $how != unset ]] || assert_contains "$run_log" "of gus revoked (keyCompromise) by boss"
        assert_contains "$run_log" "certrevoked: confirmation of boss failed" "JOURNAL_STREAM $how"
        assert_contains "$run_log" "certrevoked: serving org.certrevoke1"
        assert_not_contains "$run_log" "<6>" "JOURNAL_STREAM $how"
        assert_eq "$n_journal" "$(wc -l <"$journal")" "nothing sent to the journal (JOURNAL_STREAM $how)"
done
CR_DAEMON_ENV=("${base_env[@]}")

echo "lifecycle OK"
