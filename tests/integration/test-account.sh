#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# shellcheck disable=SC2016 # crypt strings hold a literal $
# Confirmation passwords (確認用パスワード) through certrevokectl, the real
# daemon and the real pam_certrevoke.so under pam_wrapper, the module and
# the daemon sharing one confirm.shadow ([Service] ConfirmationFile= and the
# module's file=):
#
# - root has no confirmation password until one is put into the file with
#   the module's own password step (pamtester chauthtok as root): the
#   service asks root for its own before it sets anyone's, root's included;
# - root sets an administrator's with set-password; mismatching or weak new
#   passwords are exit 2, before or by the service;
# - the administrator changes their own with passwd (also on a terminal, in
#   Japanese, with echo off): a wrong current one is exit 5, a weak new one
#   (7 characters, the login ID) exit 2 with the reason; afterwards the old
#   one no longer confirms a revocation and the new one does;
# - general users set nobody's password, admin users nobody's above their
#   own role (exit 4), but a worker's; a user without a line cannot change
#   theirs (exit 5);
# - confirm.shadow is mode 0600 and holds yescrypt hashes only; no password
#   and no hash is in the store, the daemon's log or the history;
# - ten ChangeConfirmationPassword and SetConfirmationPassword calls for
#   different users at once, while the module itself changes others, keep
#   the file whole: every new password works afterwards, no old one does.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl setpriv pamtester flock
cr_need_python
module=$CR_BUILD/pam_certrevoke.so
[[ -f $module ]] || cr_skip "pam_certrevoke.so not built in $CR_BUILD"
[[ $(id -u) == 0 ]] || cr_skip "needs root: the daemon's confirmation file belongs to root"

cr_world_init

BOSS=1001 KANRI=1002 GINA=1003 GREG=1004 WALT=1005
ROOT_PW='R00t-Confirm#4821'
KANRI_PW1='Kx3-First!7390'
KANRI_PW2='Kx8-Second?5128'
BOSS_PW='Bx0-Confirm%2264'
GINA_PW='Hn7-Confirm&9035'
WRONG_PW='Wr0ng-Guess-b8e6'

for who in gina greg; do
        cr_cert_issue "$CR_CA" "$who" "${who^}" "$CR_PAST" "$CR_LATER" "$CR_CERTS/$who.pem"
done

# ---- the world: the real module under pam_wrapper, for the daemon and for pamtester

shadow=$CR_TMP/state/confirm.shadow
cr_write_config "$CR_TMP/certrevoke.conf"
sed -i "/^PAMService=/a ConfirmationFile=$shadow" "$CR_TMP/certrevoke.conf"
grep -qx "ConfirmationFile=$shadow" "$CR_TMP/certrevoke.conf" || cr_die "ConfirmationFile= not written"

cr_start_bus
# The daemon's copy and the helper's pam_wrapper preload come from here;
# the pam_matrix stack it puts in place is replaced by the real module.
cr_pam_init
cat >"$CR_TMP/pam/certrevoke" <<EOF
auth      required  $module file=$shadow
account   required  $module file=$shadow
password  required  $module file=$shadow
EOF

wrapper=$(dpkg -L libpam-wrapper 2>/dev/null | grep '/libpam_wrapper.so$' | head -n1)
# pamtester is not built with ASan: a sanitized module needs the runtime
# loaded before anything else.
preload=$wrapper
asan_rt=$(ldd "$module" | awk '/libasan/ { print $3 }')
[[ -z $asan_rt ]] || preload="$asan_rt $wrapper"

# pt LOGIN OPERATION [LINE…]: pamtester on the daemon's service, as root,
# one line of input per prompt.  pam_wrapper's per-process directory is
# picked racily, so it takes the lock the daemon's helper takes.
pt() {
        local login=$1 op=$2
        shift 2
        printf '%s\n' "$@" | flock "$CR_TMP/pam.lock" env LD_PRELOAD="$preload" PAM_WRAPPER=1 \
                PAM_WRAPPER_SERVICE_DIR="$CR_TMP/pam" PAM_WRAPPER_DEBUGLEVEL=2 \
                pamtester certrevoke "$login" "$op" 2>&1 | tee -a "$CR_TMP/pam.log"
}

cr_start_daemon

cr_ctl add-user boss "Boss" master $BOSS
cr_ctl add-user kanrisha "Kanri Sha" admin $KANRI
cr_ctl add-user gina "Gina" general $GINA
cr_ctl add-user greg "Greg" general $GREG
cr_ctl add-user walt "Walt" worker $WALT
for who in gina greg; do
        cr_ctl import-cert "$who" "$CR_CERTS/$who.pem"
done

# ---- local helpers

# ctl_in UID LINE… -- ARGS…: certrevokectl ARGS… --password-stdin as UID
# (0: root), the lines on standard input.
ctl_in() {
        local uid=$1 lines=()
        shift
        while [[ $1 != -- ]]; do
                lines+=("$1")
                shift
        done
        shift
        printf '%s\n' "${lines[@]}" | cr_ctl_as "$uid" --password-stdin "$@"
}

state() {
        cr_busctl get-property org.certrevoke1 "/org/certrevoke1/user/$1" org.certrevoke1.User CertificateState
}

# json EXPR: evaluates EXPR on the JSON document on stdin (as d).
json() {
        "$CR_PYTHON" -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

history_count() {
        cr_ctl --json history --limit=10000 | json 'len(d)'
}

line_of() {
        grep "^$1:" "$shadow" || true
}

# ---- root gives the first confirmation passwords, its own included: the
# service asks root for none (root could write the file anyway), and
# certrevokectl does not ask root for one either.

assert_exit 1 ctl_in 0 "$WRONG_PW" "$ROOT_PW" "$ROOT_PW" -- passwd
assert_contains "$CR_LAST_OUTPUT" "the confirmation password could not be checked"
[[ ! -e $shadow ]] || cr_fail_at "the service wrote $shadow without a confirmation"
assert_exit 0 ctl_in 0 "$ROOT_PW" "$ROOT_PW" -- set-password root
assert_not_contains "$CR_LAST_OUTPUT" "Your confirmation password"
[[ $(line_of root) == 'root:$y$'*: ]] || cr_fail_at "root's line" "$(line_of root)"
# the module agrees: root's new password is right for the certrevoke stack
assert_exit 0 pt root authenticate "$ROOT_PW"

# ---- root sets the administrator's

before=$(history_count)
assert_exit 2 ctl_in 0 "$KANRI_PW1" "${KANRI_PW1}x" -- set-password kanrisha
assert_contains "$CR_LAST_OUTPUT" "The new confirmation passwords do not match."
assert_exit 2 ctl_in 0 "" "" -- set-password kanrisha
assert_contains "$CR_LAST_OUTPUT" "The confirmation password is empty."
assert_exit 2 ctl_in 0 "$KANRI_PW1" "$KANRI_PW1" -- set-password "bad login"
assert_exit 2 cr_ctl set-password
assert_contains "$CR_LAST_OUTPUT" "Too few arguments for set-password"
assert_eq "$before" "$(history_count)" "nothing refused locally reaches the service"

assert_exit 2 ctl_in 0 "Short-7" "Short-7" -- set-password kanrisha
assert_contains "$CR_LAST_OUTPUT" "too weak: The password is shorter than 8 characters."
assert_exit 3 ctl_in 0 "$KANRI_PW1" "$KANRI_PW1" -- set-password nosuch
assert_eq "" "$(line_of kanrisha)"

assert_exit 0 ctl_in 0 "$KANRI_PW1" "$KANRI_PW1" -- set-password kanrisha
assert_eq "The confirmation password of kanrisha has been set." "$CR_LAST_OUTPUT"
[[ $(line_of kanrisha) == 'kanrisha:$y$'*: ]] || cr_fail_at "kanrisha's line" "$(line_of kanrisha)"
assert_exit 0 pt kanrisha authenticate "$KANRI_PW1"
assert_exit 0 ctl_in 0 "$BOSS_PW" "$BOSS_PW" -- --json set-password boss
assert_eq '{"login_id":"boss","confirmation_password":"set"}' "$CR_LAST_OUTPUT"
LC_ALL=ja_JP.UTF-8 assert_exit 0 ctl_in 0 "$GINA_PW" "$GINA_PW" -- set-password gina
assert_eq "gina の確認用パスワードを設定しました。" "$CR_LAST_OUTPUT"

# ---- who sets others' passwords: not general users, and admin users not
# a master's

assert_exit 4 ctl_in $GINA "$WRONG_PW" "$WRONG_PW" "$GINA_PW" -- set-password greg
assert_contains "$CR_LAST_OUTPUT" \
        "gina is not allowed to set-confirmation-password greg: a general user cannot manage accounts"
assert_exit 4 ctl_in $KANRI "$WRONG_PW" "$WRONG_PW" "$KANRI_PW1" -- set-password boss
assert_contains "$CR_LAST_OUTPUT" \
        "kanrisha is not allowed to set-confirmation-password boss: an admin user cannot act on a master user"
assert_exit 0 pt gina authenticate "$GINA_PW"
assert_exit 0 pt boss authenticate "$BOSS_PW"
assert_exit 0 ctl_in $KANRI "Wk2-Confirm+3318" "Wk2-Confirm+3318" "$KANRI_PW1" -- set-password walt
assert_exit 0 pt walt authenticate "Wk2-Confirm+3318"
# A master user other than root.
assert_exit 5 ctl_in $BOSS "$WRONG_PW" "$WRONG_PW" "$KANRI_PW1" -- set-password walt
assert_exit 0 ctl_in $BOSS "Wx9-Confirm+6650" "Wx9-Confirm+6650" "$BOSS_PW" -- set-password walt
assert_exit 0 pt walt authenticate "Wx9-Confirm+6650"
# Someone without a line cannot start one with passwd.
assert_exit 5 ctl_in $GREG "$WRONG_PW" "Gx4-Confirm*1100" "Gx4-Confirm*1100" -- passwd
# Nor can a UID that is no user.
assert_exit 4 ctl_in 1010 "$WRONG_PW" "Gx4-Confirm*1100" "Gx4-Confirm*1100" -- passwd
assert_contains "$CR_LAST_OUTPUT" "is no active user of certrevoke"

# ---- the administrator changes their own

before=$(history_count)
assert_exit 2 ctl_in $KANRI "$KANRI_PW1" "$KANRI_PW2" "${KANRI_PW2}x" -- passwd
assert_contains "$CR_LAST_OUTPUT" "The new confirmation passwords do not match."
assert_exit 2 ctl_in $KANRI "$KANRI_PW1" "$KANRI_PW2" -- passwd
assert_contains "$CR_LAST_OUTPUT" "The confirmation password is empty." "the third line is missing"
assert_exit 2 cr_ctl passwd extra
assert_contains "$CR_LAST_OUTPUT" "Too many arguments for passwd"
assert_eq "$before" "$(history_count)" "nothing refused locally reaches the service"

assert_exit 5 ctl_in $KANRI "$WRONG_PW" "$KANRI_PW2" "$KANRI_PW2" -- passwd
assert_contains "$CR_LAST_OUTPUT" "the confirmation password of kanrisha is wrong"
assert_exit 2 ctl_in $KANRI "$KANRI_PW1" "Kx7#mQ2" "Kx7#mQ2" -- passwd
assert_contains "$CR_LAST_OUTPUT" "too weak: The password is shorter than 8 characters."
assert_exit 2 ctl_in $KANRI "$KANRI_PW1" "kanrisha" "kanrisha" -- passwd
assert_contains "$CR_LAST_OUTPUT" "too weak: The password is the login ID."
assert_exit 2 ctl_in $KANRI "$KANRI_PW1" "KanriSha" "KanriSha" -- passwd
assert_contains "$CR_LAST_OUTPUT" "too weak: The password is the login ID." "the login ID in other case"
assert_exit 2 ctl_in $KANRI "$KANRI_PW1" "$KANRI_PW1" "$KANRI_PW1" -- passwd
assert_contains "$CR_LAST_OUTPUT" "too weak: The password is the same as the old one."
assert_exit 0 pt kanrisha authenticate "$KANRI_PW1"

# On a terminal, in Japanese: three questions, none of them echoed.
cat >"$CR_TMP/pty-type.py" <<'EOF'
# pty-type.py ANSWER… -- CMD…: runs CMD on a new pseudo-terminal as its
# controlling terminal; at each question (output ending in ": ") records
# whether echo is on and types the next ANSWER.  Reports and transcript.
import fcntl, os, select, signal, sys, termios, time

sep = sys.argv.index("--")
answers, argv = sys.argv[1:sep], sys.argv[sep + 1:]
master, slave = os.openpty()
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.close(master)
    os.close(slave)
    os.execvp(argv[0], argv)

out, status = b"", None

def pump(timeout):
    global out, status
    if select.select([master], [], [], timeout)[0]:
        try:
            out += os.read(master, 65536)
        except OSError:
            pass
    if status is None:
        p, st = os.waitpid(pid, os.WNOHANG)
        if p:
            status = st

report = []
for i, answer in enumerate(answers, 1):
    mark, end = len(out), time.time() + 60
    while not out[mark:].endswith(b": ") and status is None and time.time() < end:
        pump(0.1)
    if not out[mark:].endswith(b": "):
        report.append("no question %d" % i)
        break
    time.sleep(0.2)
    report.append("echo at question %d: %s" % (i, "on" if termios.tcgetattr(slave)[3] & termios.ECHO else "off"))
    os.write(master, answer.encode() + b"\n")
end = time.time() + 120
while status is None and time.time() < end:
    pump(0.1)
pump(0.2)
report.append("echo after: " + ("on" if termios.tcgetattr(slave)[3] & termios.ECHO else "off"))
if status is None:
    os.kill(pid, signal.SIGKILL)
    report.append("status: hung")
elif os.WIFSIGNALED(status):
    report.append("status: " + signal.Signals(os.WTERMSIG(status)).name)
else:
    report.append("status: exit %d" % os.WEXITSTATUS(status))
print("\n".join(report))
print("--- transcript")
sys.stdout.write(out.decode("utf-8", "replace").replace("\r\n", "\n"))
EOF
out=$(LC_ALL=ja_JP.UTF-8 "$CR_PYTHON" "$CR_TMP/pty-type.py" "$KANRI_PW1" "$KANRI_PW2" "$KANRI_PW2" -- \
        setpriv --reuid=$KANRI --regid=$KANRI --clear-groups env CERTREVOKE_LOCALEDIR="$CR_BUILD/locale" \
        "$CR_BUILD/certrevokectl" --address="$CR_BUS_ADDRESS" passwd)
for line in "echo at question 1: off" "echo at question 2: off" "echo at question 3: off" "echo after: on" \
        "status: exit 0" $'現在の確認用パスワード: \n新しい確認用パスワード: \n新しい確認用パスワード (再入力): \n' \
        "確認用パスワードを変更しました。"; do
        assert_contains "$out" "$line" "passwd on a terminal"
done
assert_not_contains "$out" "$KANRI_PW1" "no password echoed"
assert_not_contains "$out" "$KANRI_PW2" "no password echoed"

# The old password no longer confirms a revocation, the new one does.
assert_exit 5 ctl_in $KANRI "$KANRI_PW1" -- revoke gina
assert_contains "$CR_LAST_OUTPUT" "the confirmation password of kanrisha is wrong"
assert_eq 's "issued"' "$(state gina)"
assert_exit 0 ctl_in $KANRI "$KANRI_PW2" -- revoke gina
assert_eq 's "revoked"' "$(state gina)"
assert_exit 1 pt kanrisha authenticate "$KANRI_PW1"
assert_exit 0 pt kanrisha authenticate "$KANRI_PW2"
# Changed back through --password-stdin, with --json.
assert_exit 0 ctl_in $KANRI "$KANRI_PW2" "$KANRI_PW1" "$KANRI_PW1" -- --json passwd
assert_eq '{"confirmation_password":"changed"}' "$CR_LAST_OUTPUT"
assert_exit 0 ctl_in $KANRI "$KANRI_PW1" -- revoke greg
assert_eq 's "revoked"' "$(state greg)"

# ---- the history tells who did what to whom, and nothing secret

assert_exit 0 cr_ctl --json history --limit=10000
hist=$CR_LAST_OUTPUT
has() {
        "$CR_PYTHON" -c 'import json, sys
d = json.loads(sys.argv[1])
print(sum(1 for e in d if [e["actor"], e["action"], e["target"], e["result"]] == sys.argv[2:]))' "$hist" "$@"
}
assert_eq 1 "$(has root set-confirmation-password kanrisha ok)"
assert_eq 1 "$(has root set-confirmation-password boss ok)"
assert_eq 1 "$(has boss set-confirmation-password walt ok)"
assert_eq 1 "$(has gina set-confirmation-password greg denied)"
assert_eq 1 "$(has kanrisha set-confirmation-password boss denied)"
assert_eq 1 "$(has kanrisha set-confirmation-password walt ok)"
assert_eq 2 "$(has kanrisha change-confirmation-password kanrisha ok)"
assert_eq 1 "$(has kanrisha confirm kanrisha failed)" "the wrong current password"
assert_eq 1 "$(has kanrisha confirm gina failed)" "the old password after the change"
assert_eq 1 "$(has root confirm root error)" "root's passwd before any file"
assert_eq 1 "$(has root set-confirmation-password root ok)" "root's bootstrap"
assert_eq 1 "$(has boss confirm walt failed)"
assert_eq 1 "$(has greg confirm greg failed)" "greg has no line"
assert_exit 0 env LC_ALL=ja_JP.UTF-8 CERTREVOKE_LOCALEDIR="$CR_BUILD/locale" \
        "$CR_BUILD/certrevokectl" --address="$CR_BUS_ADDRESS" history kanrisha
ja=$(tr -s ' ' <<<"$CR_LAST_OUTPUT")
assert_contains "$ja" " root 確認用パスワード設定 kanrisha ok"
assert_contains "$ja" " kanrisha 確認用パスワード変更 kanrisha ok"
assert_exit 0 cr_ctl_as $GINA --json history
assert_eq "ok" "$(json '"ok" if d and all("gina" in (e["actor"], e["target"]) for e in d) else d' <<<"$CR_LAST_OUTPUT")" \
        "gina sees only entries about gina"

# ---- ten password changes at once keep the file whole

# p01..p10 are general users; the first five change their own, root sets
# the other five's, and meanwhile the module itself changes two more lines.
for i in 01 02 03 04 05 06 07 08 09 10; do
        cr_add_passwd "cr-p$i" "11$i"
        cr_ctl add-user "p$i" "P $i" general "11$i"
        pt "p$i" chauthtok "Old-p$i-Pass#3107" "Old-p$i-Pass#3107" >/dev/null
done
pt q1 chauthtok "Old-q1-Pass#3107" "Old-q1-Pass#3107" >/dev/null
pt q2 chauthtok "Old-q2-Pass#3107" "Old-q2-Pass#3107" >/dev/null
pids=() names=()
for i in 01 02 03 04 05; do
        ctl_in "11$i" "Old-p$i-Pass#3107" "New-p$i-Pass@8826" "New-p$i-Pass@8826" -- passwd \
                >"$CR_TMP/conc-p$i.out" 2>&1 &
        pids+=($!) names+=("p$i")
done
for i in 06 07 08 09 10; do
        ctl_in 0 "New-p$i-Pass@8826" "New-p$i-Pass@8826" -- set-password "p$i" \
                >"$CR_TMP/conc-p$i.out" 2>&1 &
        pids+=($!) names+=("p$i")
done
for q in q1 q2; do
        (printf '%s\n' "New-$q-Pass@8826" "New-$q-Pass@8826" | env LD_PRELOAD="$preload" PAM_WRAPPER=1 \
                PAM_WRAPPER_SERVICE_DIR="$CR_TMP/pam" flock "$CR_TMP/pam.lock" \
                pamtester certrevoke "$q" chauthtok) >"$CR_TMP/conc-$q.out" 2>&1 &
        pids+=($!) names+=("$q")
done
for k in "${!pids[@]}"; do
        rc=0
        wait "${pids[k]}" || rc=$?
        assert_eq 0 "$rc" "concurrent change of ${names[k]}: $(cat "$CR_TMP/conc-${names[k]}.out")"
done
assert_eq "" "$(awk -F: '{ print $1 }' "$shadow" | sort | uniq -d)" "one line per login"
assert_eq 17 "$(wc -l <"$shadow")" "root, boss, kanrisha, gina, walt, p01..p10, q1, q2"
for n in "${names[@]}"; do
        assert_exit 0 pt "$n" authenticate "New-$n-Pass@8826"
        assert_exit 1 pt "$n" authenticate "Old-$n-Pass#3107"
done
for who in "root:$ROOT_PW" "boss:$BOSS_PW" "kanrisha:$KANRI_PW1" "gina:$GINA_PW"; do
        assert_exit 0 pt "${who%%:*}" authenticate "${who#*:}"
done
# Through the daemon too: p01's new password is its current one now.
assert_exit 0 ctl_in 1101 "New-p01-Pass@8826" "Newer-p01-Pass%4410" "Newer-p01-Pass%4410" -- passwd

# ---- the file: 0600, yescrypt hashes only; no secret anywhere else

assert_eq "600 0" "$(stat -c '%a %u' "$shadow")" "mode and owner of confirm.shadow"
bad=$(grep -Ev '^[A-Za-z0-9._@-]+:\$y\$[./A-Za-z0-9$]+:[A-Za-z0-9_,-]*$' "$shadow" || true)
assert_eq "" "$bad" "lines that are not login:yescrypt:flags"
passwords=("$ROOT_PW" "$KANRI_PW1" "$KANRI_PW2" "$BOSS_PW" "$GINA_PW" "$WRONG_PW" "Short-7" "Kx7#mQ2"
        "Wx9-Confirm+6650" "Wk2-Confirm+3318" "Gx4-Confirm*1100" "Newer-p01-Pass%4410")
for i in 01 02 03 04 05 06 07 08 09 10; do
        passwords+=("Old-p$i-Pass#3107" "New-p$i-Pass@8826")
done
cr_ctl --json history --limit=10000 >"$CR_TMP/history.json"
cr_ctl history --limit=10000 >"$CR_TMP/history.txt"
# The store and everything else the daemon keeps, its log, the bus's.
readable=("$CR_TMP/history.json" "$CR_TMP/history.txt" "$CR_TMP/daemon.log" "$CR_TMP/bus.log" "$CR_TMP/public")
while IFS= read -r f; do
        readable+=("$f")
done < <(find "$CR_TMP/state" -type f ! -name 'confirm.shadow*')
assert_contains "${readable[*]}" "store.db"
for pw in "${passwords[@]}"; do
        if grep -rqaF -- "$pw" "${readable[@]}"; then
                cr_fail_at "a password is in clear" "$(grep -rlaF -- "$pw" "${readable[@]}")"
        fi
        ! grep -qaF -- "$pw" "$shadow" || cr_fail_at "a password is in clear in confirm.shadow"
done
while IFS=: read -r _ hash _; do
        salt=${hash%\$*}
        if grep -rqaF -- "${hash##*\$}" "${readable[@]}" "$CR_TMP/pam.log"; then
                cr_fail_at "a hash is outside confirm.shadow" "$(grep -rlaF -- "${hash##*\$}" "${readable[@]}")"
        fi
        ! grep -rqaF -- "$salt" "${readable[@]}" || cr_fail_at "a salt is outside confirm.shadow"
done <"$shadow"
assert_not_contains "$(cat "$CR_TMP/daemon.log")" '$y$' "no crypt string in the daemon's log"

cr_stop_daemon
echo "account OK"
