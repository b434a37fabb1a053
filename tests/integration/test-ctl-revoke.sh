#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# The seed's revocation through certrevokectl and the real daemon, with the
# confirmation password checked by PAM (pam_wrapper, pam_matrix):
#
# - revoke shows the confirmation screen (English and Japanese) first; a
#   wrong password is exit 5 and changes nothing; the right one shows the
#   result screen, the user is revoked, the CRL refuses the certificate and
#   still accepts another, and the token no longer holds it;
# - nothing revocable (revoked already, never issued) is exit 7 before any
#   password is asked for; --serial of a replaced certificate is exit 7
#   (CertificateChanged); a general user is exit 4;
# - bad --reason/--serial, an empty or overlong password, no terminal and
#   options of other commands are exit 2 before the service is called;
# - on a terminal the password is asked with echo off, and the terminal is
#   put back after an answer, ^C (SIGINT) and ^Z;
# - history shows the failed confirmation and the revocation with actor and
#   target; a general user sees only entries about themselves and may not
#   ask for another login's (exit 4); --since and --limit;
# - --json of revoke and history is JSON; no password reaches a log or
#   the store.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl setpriv setsid
cr_need_python
locale -a 2>/dev/null | grep -qix 'ja_JP.utf-\?8' || cr_skip "the ja_JP.UTF-8 locale is not installed"

cr_world_init

MASTER=1001 ADMIN=1002 GINA=1003 WALT=1004 OLGA=1005 RITA=1006 NINA=1007 PIA=1008
ADMIN_PW='Adm1n confirmation!'
PIA_PW='pia-Secret-42'
WRONG_PW='not-the-password-7'

# gina's certificate is on her card; the others are imported.
cr_token_create card-gina-01
cr_cert_issue "$CR_CA" gina "ゲータ妻子" "$CR_PAST" "$CR_LATER" "$CR_CERTS/gina.pem"
cr_token_put_cert card-gina-01 "$CR_CERTS/gina.pem" 01 "gina certificate"
for who in walt olga pia; do
        cr_cert_issue "$CR_CA" "$who" "${who^}" "$CR_PAST" "$CR_LATER" "$CR_CERTS/$who.pem"
done
# rita's certificate was renewed: the first one is replaced.
cr_cert_issue "$CR_CA" rita "Rita" "$(cr_date_utc '-300 days')" "$(cr_date_utc '+60 days')" "$CR_CERTS/rita1.pem"
cr_cert_issue "$CR_CA" rita "Rita" "$(cr_date_utc '-10 days')" "$(cr_date_utc '+2 years')" "$CR_CERTS/rita2.pem"

cr_start_bus
cr_pam_init
cr_pam_password adam "$ADMIN_PW"
cr_pam_password pia "$PIA_PW"
cr_start_daemon

cr_ctl add-user boss "Boss" master $MASTER
cr_ctl add-user adam "Adam" admin $ADMIN
cr_ctl add-user gina "ゲータ妻子" general $GINA
cr_ctl add-user walt "Walt" worker $WALT
cr_ctl add-user olga "Olga" general $OLGA
cr_ctl add-user rita "Rita" general $RITA
cr_ctl add-user nina "Nina" general $NINA
cr_ctl add-user pia "Pia" general $PIA
cr_ctl rescan >/dev/null
for f in walt olga pia rita1 rita2; do
        cr_ctl import-cert "${f%[0-9]}" "$CR_CERTS/$f.pem"
done

# ---- local helpers

# state LOGIN: the certificate state the service reports.
state() {
        cr_busctl get-property org.certrevoke1 "/org/certrevoke1/user/$1" org.certrevoke1.User CertificateState
}

# revoke_as UID PASSWORD ARGS…: certrevokectl revoke ARGS… --password-stdin
# as UID, with PASSWORD on standard input.
revoke_as() {
        local uid=$1 pw=$2
        shift 2
        printf '%s\n' "$pw" | cr_ctl_as "$uid" revoke --password-stdin "$@"
}

# ja_revoke_as UID PASSWORD ARGS…: the same in Japanese, in Japan.
ja_revoke_as() {
        local uid=$1 pw=$2
        shift 2
        printf '%s\n' "$pw" | LC_ALL=ja_JP.UTF-8 TZ=Asia/Tokyo cr_ctl_as "$uid" revoke --password-stdin "$@"
}

# no_tty_as UID ARGS…: certrevokectl ARGS… as UID in a session of its own,
# without a controlling terminal: a prompt on /dev/tty would fail.
no_tty_as() {
        local uid=$1
        shift
        setsid -w setpriv --reuid="$uid" --regid="$uid" --clear-groups \
                env CERTREVOKE_LOCALEDIR="$CR_BUILD/locale" "$CR_BUILD/certrevokectl" \
                --address="$CR_BUS_ADDRESS" "$@" </dev/null
}

# json EXPR: evaluates EXPR on the JSON document on stdin (as d).
json() {
        "$CR_PYTHON" -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# history_count: the number of history entries (as root).
history_count() {
        cr_ctl --json history --limit=10000 | json 'len(d)'
}

# expiry CERT.pem TZ FORMAT: notAfter as certrevokectl shows it.
expiry() {
        local e
        e=$(openssl x509 -in "$1" -noout -enddate)
        TZ=$2 date -d "${e#notAfter=}" "+$3"
}

# on_card LABEL: the labels of the certificates on a token, comma-separated.
on_card() {
        cr_token_list_certs "$1" | paste -sd,
}

serial_of() {
        cr_cert_serial "$1"
}

# ---- refused before the service is asked
before=$(history_count)
assert_exit 2 revoke_as $ADMIN "$ADMIN_PW" gina --reason=bogus
assert_contains "$CR_LAST_OUTPUT" 'Invalid revocation reason "bogus"'
assert_not_contains "$CR_LAST_OUTPUT" "will be revoked" "a bad reason is refused before the screen"
assert_exit 2 revoke_as $ADMIN "$ADMIN_PW" gina --reason=keycompromise
assert_exit 2 revoke_as $ADMIN "$ADMIN_PW" gina --reason=certificateHold
assert_exit 2 revoke_as $ADMIN "$ADMIN_PW" gina --serial=0xZZ
assert_contains "$CR_LAST_OUTPUT" 'Invalid serial "0xZZ"'
assert_exit 2 revoke_as $ADMIN "$ADMIN_PW" "bad login"
assert_exit 2 cr_ctl revoke
assert_contains "$CR_LAST_OUTPUT" "Too few arguments for revoke"
assert_exit 2 cr_ctl revoke gina walt
assert_exit 2 cr_ctl list --reason=keyCompromise
assert_contains "$CR_LAST_OUTPUT" "only apply to revoke"
assert_exit 2 cr_ctl show gina --password-stdin
assert_exit 2 revoke_as $ADMIN "$ADMIN_PW" gina --since=2020-01-01
assert_contains "$CR_LAST_OUTPUT" "only apply to history"
assert_exit 2 cr_ctl history --since=yesterday
assert_contains "$CR_LAST_OUTPUT" 'Invalid date "yesterday"'
assert_exit 2 cr_ctl history --since="2019-02-29"
assert_exit 2 cr_ctl history --limit=-1
assert_contains "$CR_LAST_OUTPUT" 'Invalid limit "-1"'
assert_exit 2 cr_ctl history --limit=ten
assert_exit 2 cr_ctl history "bad login"
# The service's own bound on --limit.
assert_exit 2 cr_ctl history --limit=10001
# An empty password, none at all, and one longer than any PAM takes: the
# screen is shown, the service is not called.
assert_exit 2 revoke_as $ADMIN "" gina
assert_contains "$CR_LAST_OUTPUT" "The confirmation password is empty."
assert_exit 2 cr_ctl_as $ADMIN revoke --password-stdin gina </dev/null
assert_contains "$CR_LAST_OUTPUT" "The confirmation password is empty."
assert_exit 2 revoke_as $ADMIN "$(head -c 2000 /dev/zero | tr '\0' x)" gina
assert_contains "$CR_LAST_OUTPUT" "longer than 1024 bytes"
# No --password-stdin and no terminal to ask on.
assert_exit 2 no_tty_as $ADMIN revoke gina
assert_contains "$CR_LAST_OUTPUT" "The certificate of the following user will be revoked."
assert_contains "$CR_LAST_OUTPUT" "use --password-stdin"
assert_eq 's "issued"' "$(state gina)"
assert_eq "$before" "$(history_count)" "nothing refused locally reaches the service"

# ---- the confirmation screen; a wrong password
gina_expiry=$(expiry "$CR_CERTS/gina.pem" UTC '%Y-%m-%d %H:%M:%S')
assert_exit 5 revoke_as $ADMIN "$WRONG_PW" gina --reason=keyCompromise
for line in "The certificate of the following user will be revoked." \
        "         Login ID: gina" \
        "             Name: ゲータ妻子" \
        "Certificate state: issued" \
        "           Expiry: $gina_expiry" \
        "Revocation reason: key compromise" \
        "certrevokectl: the confirmation password of adam is wrong"; do
        assert_contains "$CR_LAST_OUTPUT" "$line" "English confirmation screen"
done
assert_not_contains "$CR_LAST_OUTPUT" "has been revoked"
assert_not_contains "$CR_LAST_OUTPUT" "$WRONG_PW"
assert_eq 's "issued"' "$(state gina)" "a wrong password changes nothing"
assert_eq "gina certificate" "$(on_card card-gina-01)"

# The Japanese screen, as on the product page.
gina_expiry_ja=$(expiry "$CR_CERTS/gina.pem" Asia/Tokyo '%Y年%m月%d日 %H時%M分%S秒')
assert_exit 5 ja_revoke_as $ADMIN "$WRONG_PW" gina --reason=keyCompromise
for line in "以下の利用者の証明書を失効します。" \
        "    ログインID: gina" \
        "      利用者名: ゲータ妻子" \
        "    証明書状態: 発行済" \
        "証明書有効期限: $gina_expiry_ja" \
        "      失効理由: 鍵の危殆化"; do
        assert_contains "$CR_LAST_OUTPUT" "$line" "Japanese confirmation screen"
done
assert_eq 's "issued"' "$(state gina)"

# ---- the right password: the result screen, the CRL, the token
assert_exit 0 revoke_as $ADMIN "$ADMIN_PW" gina --reason=keyCompromise
assert_contains "$CR_LAST_OUTPUT" "Certificate state: issued"
result=${CR_LAST_OUTPUT#*has been revoked.}
assert_contains "$CR_LAST_OUTPUT" "The certificate of the following user has been revoked."
for line in "         Login ID: gina" "             Name: ゲータ妻子" "Certificate state: revoked"; do
        assert_contains "$result" "$line" "English result screen"
done
assert_eq 's "revoked"' "$(state gina)"
assert_exit 0 cr_ctl --json show gina
assert_eq "revoked keyCompromise" "$(json 'd["CertificateState"] + " " + d["RevocationReason"]' <<<"$CR_LAST_OUTPUT")"

crl_pem=$CR_TMP/public/crl.pem
crl_der=$CR_TMP/public/crl.der
assert_exit 0 openssl crl -inform DER -in "$crl_der" -noout -verify -CAfile "$CR_CA/ca.pem"
assert_contains "$CR_LAST_OUTPUT" "verify OK"
assert_exit 0 openssl crl -inform DER -in "$crl_der" -noout -text
assert_contains "$CR_LAST_OUTPUT" "Serial Number: $(serial_of "$CR_CERTS/gina.pem")"
assert_contains "$CR_LAST_OUTPUT" "Key Compromise"
cr_wait_crl_pem
assert_exit 2 openssl verify -crl_check -CAfile "$CR_CA/ca.pem" -CRLfile "$crl_pem" "$CR_CERTS/gina.pem"
assert_contains "$CR_LAST_OUTPUT" "certificate revoked"
assert_exit 0 openssl verify -crl_check -CAfile "$CR_CA/ca.pem" -CRLfile "$crl_pem" "$CR_CERTS/walt.pem"
assert_contains "$CR_LAST_OUTPUT" "walt.pem: OK"
for _ in {1..50}; do
        [[ -z $(on_card card-gina-01) ]] && break
        sleep 0.1
done
assert_eq "" "$(on_card card-gina-01)" "the revoked certificate is gone from gina's card"

# ---- nothing to revoke: exit 7 before any password is asked for
before=$(history_count)
assert_exit 7 no_tty_as $ADMIN revoke gina
assert_contains "$CR_LAST_OUTPUT" "Certificate state: revoked"
assert_contains "$CR_LAST_OUTPUT" "           Expiry: -"
assert_contains "$CR_LAST_OUTPUT" "certrevokectl: gina has no certificate that can be revoked (certificate state: revoked)."
assert_not_contains "$CR_LAST_OUTPUT" "terminal"
assert_exit 7 no_tty_as $ADMIN revoke nina
assert_contains "$CR_LAST_OUTPUT" "(certificate state: not issued)"
LC_ALL=ja_JP.UTF-8 assert_exit 7 no_tty_as $ADMIN revoke nina
assert_contains "$CR_LAST_OUTPUT" "nina には失効できる証明書がありません (証明書状態: 未発行)。"
assert_exit 7 no_tty_as $ADMIN --json revoke gina
assert_not_contains "$CR_LAST_OUTPUT" "will be revoked" "--json shows no screen"
assert_eq "$before" "$(history_count)" "the service was not asked to revoke"

# ---- --serial of a replaced certificate: CertificateChanged
assert_eq 's "renewed"' "$(state rita)"
assert_exit 7 revoke_as $ADMIN "$ADMIN_PW" rita --serial="$(serial_of "$CR_CERTS/rita1.pem")"
assert_contains "$CR_LAST_OUTPUT" "is no longer $(serial_of "$CR_CERTS/rita1.pem") but $(serial_of "$CR_CERTS/rita2.pem")"
assert_eq 's "renewed"' "$(state rita)"
# The current one, spelt in lower case with colons: revoked, with --json.
current=$(serial_of "$CR_CERTS/rita2.pem" | tr 'A-F' 'a-f' | sed 's/../&:/g; s/:$//')
rc=0
out=$(printf '%s\n' "$ADMIN_PW" | cr_ctl_as $ADMIN --json revoke --password-stdin rita --serial="$current" \
        --reason=superseded) || rc=$?
assert_eq 0 "$rc" "revoke --json of rita"
"$CR_PYTHON" -m json.tool >/dev/null <<<"$out" || cr_fail_at "revoke --json is not JSON" "$out"
assert_eq '{"login_id":"rita","name":"Rita","state":"revoked"}' "$out"
assert_eq 's "revoked"' "$(state rita)"

# ---- general users may not revoke
assert_exit 4 revoke_as $GINA "$ADMIN_PW" walt
assert_not_contains "$CR_LAST_OUTPUT" "will be revoked" "another user's screen is not shown to a general user"
assert_exit 4 revoke_as $PIA "$PIA_PW" pia
assert_contains "$CR_LAST_OUTPUT" "only master and administrator users may revoke certificates"
assert_eq 's "issued"' "$(state pia)"
assert_eq 's "issued"' "$(state walt)"

# ---- on a terminal: echo off, and the terminal put back on every way out
cat >"$CR_TMP/pty-drive.py" <<'EOF'
# pty-drive.py MODE PASSWORD CMD…: runs CMD on a new pseudo-terminal as its
# controlling terminal, waits for the password prompt and then types
# PASSWORD (MODE password), ^C (sigint) or ^Z and then PASSWORD (sigtstp).
# Reports whether echo was on, how CMD ended, and the transcript.
import fcntl, os, select, signal, sys, termios, time

mode, password, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
prompt = os.environ.get("PROMPT", "Confirmation password: ").encode()
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

def wait_for(count):
    end = time.time() + 60
    while out.count(prompt) < count:
        if time.time() > end or status is not None:
            return False
        pump(0.1)
    time.sleep(0.2)
    return True

def echo():
    # The slave stays open here, so its settings outlive CMD.
    return "on" if termios.tcgetattr(slave)[3] & termios.ECHO else "off"

report = []
if wait_for(1):
    report.append("echo at the prompt: " + echo())
    if mode == "sigint":
        os.write(master, b"\x03")
    else:
        if mode == "sigtstp":
            os.write(master, b"\x1a")
            if wait_for(2):
                report.append("echo at the second prompt: " + echo())
        os.write(master, password.encode() + b"\n")
else:
    report.append("no prompt")
end = time.time() + 120
while status is None and time.time() < end:
    pump(0.1)
pump(0.2)
report.append("echo after: " + echo())
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

# on_tty MODE PASSWORD UID ARGS…: certrevokectl ARGS… as UID on a terminal.
on_tty() {
        local mode=$1 pw=$2 uid=$3
        shift 3
        "$CR_PYTHON" "$CR_TMP/pty-drive.py" "$mode" "$pw" setpriv --reuid="$uid" --regid="$uid" --clear-groups \
                env CERTREVOKE_LOCALEDIR="$CR_BUILD/locale" "$CR_BUILD/certrevokectl" \
                --address="$CR_BUS_ADDRESS" "$@"
}

out=$(on_tty password "$WRONG_PW" $ADMIN revoke olga)
assert_contains "$out" "echo at the prompt: off"
assert_contains "$out" "echo after: on"
assert_contains "$out" "status: exit 5"
assert_contains "$out" $'Revocation reason: unspecified\n\nConfirmation password: \n' "the prompt follows the screen"
assert_contains "$out" "the confirmation password of adam is wrong"
assert_not_contains "$out" "$WRONG_PW" "the password is not echoed"

before=$(history_count)
out=$(on_tty sigint "" $ADMIN revoke olga)
assert_contains "$out" "echo at the prompt: off"
assert_contains "$out" "echo after: on" "^C puts the terminal back"
assert_contains "$out" "status: SIGINT"
assert_eq "$before" "$(history_count)" "^C calls nothing"
assert_eq 's "issued"' "$(state olga)"

# ^Z: the terminal is put back; its process group has no shell to stop it
# for, so it goes on at once and asks again.  Then, in Japanese, revoked.
out=$(PROMPT="確認用パスワード: " LC_ALL=ja_JP.UTF-8 TZ=Asia/Tokyo on_tty sigtstp "$ADMIN_PW" $ADMIN revoke olga)
assert_contains "$out" "echo at the prompt: off"
assert_contains "$out" "echo at the second prompt: off"
assert_contains "$out" "echo after: on"
assert_contains "$out" "status: exit 0"
for line in "以下の利用者の証明書を失効します。" "    ログインID: olga" "      失効理由: 未指定" \
        "確認用パスワード: " "以下の利用者の証明書が失効しました。" "証明書状態: 失効済"; do
        assert_contains "$out" "$line" "Japanese screens on a terminal"
done
assert_not_contains "$out" "$ADMIN_PW" "the password is not echoed"
assert_eq 's "revoked"' "$(state olga)"

# ---- history
assert_exit 0 cr_ctl_as $ADMIN --json history
hist=$CR_LAST_OUTPUT
"$CR_PYTHON" -m json.tool >/dev/null <<<"$hist" || cr_fail_at "history --json is not JSON" "$hist"
# has ACTOR ACTION TARGET RESULT: how many entries of the JSON in $hist match.
has() {
        "$CR_PYTHON" -c 'import json, sys
d = json.loads(sys.argv[1])
print(sum(1 for e in d if [e["actor"], e["action"], e["target"], e["result"]] == sys.argv[2:]))' "$hist" "$@"
}
assert_eq 2 "$(has adam confirm gina failed)" "two wrong passwords, in English and Japanese"
assert_eq 1 "$(has adam confirm olga failed)" "a wrong password on the terminal"
assert_eq 1 "$(has adam revoke gina ok)"
assert_eq 1 "$(has adam revoke rita ok)"
assert_eq 1 "$(has adam revoke olga ok)"
cr_wait_history gina "certrevoked token-removal gina removed"
assert_eq 1 "$(has certrevoked token-removal gina removed)"
assert_eq 1 "$(has pia revoke pia denied)"
assert_eq 0 "$(has adam confirm rita failed)" "CertificateChanged is answered before PAM"
# time is time_usec in ISO 8601, UTC.
assert_eq "ok" "$("$CR_PYTHON" -c 'import json, sys, datetime
d = json.loads(sys.argv[1])
bad = [e for e in d if datetime.datetime.fromtimestamp(e["time_usec"] // 1000000, datetime.timezone.utc)
       .strftime("%Y-%m-%dT%H:%M:%SZ") != e["time"]]
print("ok" if d and not bad else bad)' "$hist")"

assert_exit 0 cr_ctl_as $ADMIN history
assert_eq "Time Actor Action Target Result" "$(head -n1 <<<"$CR_LAST_OUTPUT" | tr -s ' ')"
assert_contains "$(tr -s ' ' <<<"$CR_LAST_OUTPUT")" " adam confirm gina failed"
assert_contains "$(tr -s ' ' <<<"$CR_LAST_OUTPUT")" " adam revoke gina ok"
assert_contains "$(tr -s ' ' <<<"$CR_LAST_OUTPUT")" " root add-user gina ok"
assert_exit 0 env LC_ALL=ja_JP.UTF-8 TZ=Asia/Tokyo CERTREVOKE_LOCALEDIR="$CR_BUILD/locale" \
        "$CR_BUILD/certrevokectl" --address="$CR_BUS_ADDRESS" history gina
assert_eq "日時 操作者 操作 対象 結果" "$(head -n1 <<<"$CR_LAST_OUTPUT" | tr -s ' ')"
ja=$(tr -s ' ' <<<"$CR_LAST_OUTPUT")
assert_contains "$ja" " adam 確認 gina failed"
assert_contains "$ja" " adam 証明書失効 gina ok"
assert_contains "$ja" " certrevoked トークンから削除 gina removed"
assert_contains "$ja" " root 利用者追加 gina ok"
[[ $(sed -n 2p <<<"$ja") =~ ^[0-9]{4}年[0-9]{2}月[0-9]{2}日\ [0-9]{2}時[0-9]{2}分[0-9]{2}秒\  ]] ||
        cr_fail_at "Japanese dates in the history" "$ja"

# A general user: entries about themselves only, and no one else's.
assert_exit 0 cr_ctl_as $GINA --json history
hist=$CR_LAST_OUTPUT
assert_eq "ok" "$("$CR_PYTHON" -c 'import json, sys
d = json.loads(sys.argv[1])
bad = [e for e in d if "gina" not in (e["actor"], e["target"])]
print("ok" if d and not bad else bad)' "$hist")" "gina sees only entries about gina"
assert_eq 1 "$(has adam revoke gina ok)" "gina sees that adam revoked her certificate"
assert_eq 0 "$(has adam revoke olga ok)"
assert_exit 0 cr_ctl_as $GINA history gina
assert_exit 4 cr_ctl_as $GINA history adam
assert_contains "$CR_LAST_OUTPUT" "gina may only read their own history"
assert_exit 4 cr_ctl_as $PIA history olga
assert_exit 0 cr_ctl_as $PIA --json history
assert_eq "pia revoke pia denied" "$(json '" ".join(e["actor"] + " " + e["action"] + " " + e["target"] + " " + e["result"] for e in d if e["action"] == "revoke")' <<<"$CR_LAST_OUTPUT")"

# --limit and --since.
assert_exit 0 cr_ctl_as $ADMIN --json history --limit=2
assert_eq 2 "$(json 'len(d)' <<<"$CR_LAST_OUTPUT")"
newest=$(json 'd[-1]["action"]' <<<"$CR_LAST_OUTPUT")
assert_eq "$newest" "$(cr_ctl --json history | json 'd[-1]["action"]')" "--limit keeps the newest"
assert_exit 0 cr_ctl --json history --since="$(date -d '+1 day' +%Y-%m-%d)"
assert_eq "[]" "$CR_LAST_OUTPUT"
assert_exit 0 cr_ctl history --since="$(date -d '+1 day' +%Y-%m-%d)"
assert_eq "Time  Actor  Action  Target  Result" "$CR_LAST_OUTPUT" "no entries: the header alone"
assert_exit 0 cr_ctl --json history --since="$(date -d '-1 day' '+%Y-%m-%d %H:%M:%S')"
assert_eq "$(history_count)" "$(json 'len(d)' <<<"$CR_LAST_OUTPUT")" "--since yesterday: everything"
assert_exit 0 cr_ctl --json history rita --since="$(date -d '-1 day' +%Y-%m-%d)"
# a refused attempt first, then the confirmation and the revocation
assert_eq "root:add-user root:import-certificate root:import-certificate adam:revoke adam:confirm adam:revoke" \
        "$(json '" ".join(e["actor"] + ":" + e["action"] for e in d if e["actor"] != "certrevoked")' <<<"$CR_LAST_OUTPUT")"

# ---- no password anywhere it could be read back
for pw in "$ADMIN_PW" "$PIA_PW" "$WRONG_PW"; do
        if grep -rqaF -- "$pw" "$CR_TMP"/*.log "$CR_TMP/state" "$CR_TMP/public"; then
                cr_fail_at "a confirmation password was written to disk" "$(grep -rlaF -- "$pw" "$CR_TMP")"
        fi
done

cr_stop_daemon
echo "ctl-revoke OK"
