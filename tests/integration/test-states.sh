#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# Every certificate state a user can be in, as the daemon derives it from the
# certificates it found on the tokens, and as a user sees it: the table of
# `certrevokectl list` (English and Japanese labels and dates), its --json,
# `certrevokectl show`, busctl get-property on the user objects and ListUsers
# itself.  Also: the current certificate is the one with the newest
# notBefore, whatever the order on the token; a certificate whose subject has
# only CN=login is filed by its CN.
#
# revoked (失効済) cannot be produced through the API yet: it comes with
# RevokeCertificate, and is tested with it.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl setpriv
cr_need_python
locale -a 2>/dev/null | grep -qix 'ja_JP.utf-\?8' || cr_skip "the ja_JP.UTF-8 locale is not installed"

cr_setup_tmp
cr_softhsm_init
cr_ca_create "$CR_TMP/ca"
ca=$CR_TMP/ca
certs=$CR_TMP/certs
mkdir -p "$certs"

# ---- local helpers

# epoch_of CERT.pem: notAfter in seconds since the epoch.
epoch_of() {
        local e
        e=$(openssl x509 -in "$1" -noout -enddate)
        date -u -d "${e#notAfter=}" +%s
}

# row LOGIN: the line of `list` output (stdin) for LOGIN, columns joined by |.
row() {
        awk -v l="$1" '$1 == l' | sed -E 's/  +/|/g'
}

# json_get EXPR: evaluates EXPR on the JSON document read from stdin (as d).
json_get() {
        "$CR_PYTHON" -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# ---- the cards
# alice: one valid certificate, a fixed notAfter to check the date formats.
cr_token_create card-alice-01
cr_cert_issue "$ca" alice "Alice Example" "$(cr_date_utc '-30 days')" 20361123221802Z "$certs/alice.pem"
cr_token_put_cert card-alice-01 "$certs/alice.pem" 01 "alice certificate"
cr_token_put_key card-alice-01 "$certs/alice.key" 01 "alice key"

# bob: renewed.  The newer certificate goes on the card first, so that the
# order of the objects cannot decide which one is current.
cr_token_create card-bob-01
cr_cert_issue "$ca" bob "ゲータ太郎" "$(cr_date_utc '-300 days')" "$(cr_date_utc '+60 days')" "$certs/bob-old.pem"
cr_cert_issue "$ca" bob "ゲータ太郎" "$(cr_date_utc '-10 days')" "$(cr_date_utc '+2 years')" "$certs/bob-new.pem"
cr_token_put_cert card-bob-01 "$certs/bob-new.pem" 02 "bob certificate 2"
cr_token_put_cert card-bob-01 "$certs/bob-old.pem" 01 "bob certificate 1"

# carol: expired, as on the product page (2019-12-16 09:59:39).
cr_token_create card-carol-01
cr_cert_issue "$ca" carol "Carol" 20181216095939Z 20191216095939Z "$certs/carol.pem"
cr_token_put_cert card-carol-01 "$certs/carol.pem" 01 "carol certificate"

# dave: a blank card, no certificate.
cr_token_create card-dave-01

# erin: a certificate whose subject is only CN=erin.
cr_token_create card-erin-01
cr_cert_issue_cn_only "$ca" erin "$(cr_date_utc '-1 day')" "$(cr_date_utc '+1 year')" "$certs/erin.pem"
cr_token_put_cert card-erin-01 "$certs/erin.pem" 01 "erin certificate"

cr_start_bus
cr_start_daemon

cr_ctl add-user alice "Alice Example" general 1001
cr_ctl add-user bob "ゲータ太郎" admin 1002
cr_ctl add-user carol "Carol" worker 1003
cr_ctl add-user dave "Dave" general 1004
cr_ctl add-user erin "Erin" master 1005

# Users added after the start-up walk: nothing is filed until a rescan.
assert_eq "s \"not-issued\"" "$(cr_user_prop alice CertificateState)" "no certificate before the rescan"
assert_exit 0 cr_ctl rescan
assert_eq "5 certificates seen" "$CR_LAST_OUTPUT"

alice_exp=$(epoch_of "$certs/alice.pem")
bob_exp=$(epoch_of "$certs/bob-new.pem")
bob_old_exp=$(epoch_of "$certs/bob-old.pem")
carol_exp=$(epoch_of "$certs/carol.pem")
erin_exp=$(epoch_of "$certs/erin.pem")
assert_eq 2111091482 "$alice_exp" "alice's notAfter (2036-11-23 22:18:02 UTC)"

# ---- certrevokectl list, English
list=$(LC_ALL=C.UTF-8 TZ=UTC cr_ctl list)
assert_eq "Login ID|Name|Role|Certificate state|Expiry" "$(head -n1 <<<"$list" | sed -E 's/  +/|/g')"
assert_eq 6 "$(wc -l <<<"$list")" "a header and five users"
assert_eq "alice|Alice Example|General user|issued|2036-11-23 22:18:02" "$(row alice <<<"$list")"
assert_eq "bob|ゲータ太郎|Administrator user|renewed|$(TZ=UTC date -d "@$bob_exp" '+%Y-%m-%d %H:%M:%S')" \
        "$(row bob <<<"$list")" "renewed: the newer certificate's expiry"
assert_eq "carol|Carol|Worker user|expired|-" "$(row carol <<<"$list")"
assert_eq "dave|Dave|General user|not issued|-" "$(row dave <<<"$list")"
assert_eq "erin|Erin|Master user|issued|$(TZ=UTC date -d "@$erin_exp" '+%Y-%m-%d %H:%M:%S')" \
        "$(row erin <<<"$list")" "a CN-only certificate is filed by its CN"
# The columns line up by display width (a Japanese character takes two).
aligned() {
        "$CR_PYTHON" -c '
import re, sys, unicodedata
def width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
starts = set()
for line in sys.stdin.read().splitlines():
    cells = list(re.finditer(r"\S(?:\S| (?=\S))*", line))
    starts.add(tuple(width(line[:m.start()]) for m in cells))
sys.exit(0 if len(starts) == 1 else 1)'
}
aligned <<<"$list" || cr_fail_at "the columns of list do not line up" "$list"

# ---- certrevokectl list, Japanese, Tokyo time
list_ja=$(LC_ALL=ja_JP.UTF-8 TZ=Asia/Tokyo cr_ctl list)
assert_eq "ログインID|利用者名|利用者区分|証明書状態|証明書有効期限" "$(head -n1 <<<"$list_ja" | sed -E 's/  +/|/g')"
assert_eq "alice|Alice Example|一般ユーザ|発行済|2036年11月24日 07時18分02秒" "$(row alice <<<"$list_ja")"
assert_eq "bob|ゲータ太郎|管理者ユーザ|更新済|$(TZ=Asia/Tokyo date -d "@$bob_exp" '+%Y年%m月%d日 %H時%M分%S秒')" \
        "$(row bob <<<"$list_ja")"
assert_eq "carol|Carol|ワーカーユーザ|無効期限切れ|-" "$(row carol <<<"$list_ja")"
assert_eq "dave|Dave|一般ユーザ|未発行|-" "$(row dave <<<"$list_ja")"
assert_contains "$(row erin <<<"$list_ja")" "erin|Erin|マスターユーザ|発行済|"
aligned <<<"$list_ja" || cr_fail_at "the columns of the Japanese list do not line up" "$list_ja"

# ---- certrevokectl --json list: API strings, ISO 8601 in UTC, whatever the locale
json=$(LC_ALL=ja_JP.UTF-8 TZ=Asia/Tokyo cr_ctl --json list)
"$CR_PYTHON" -m json.tool <<<"$json" >/dev/null || cr_fail_at "list --json is not JSON" "$json"
assert_eq "alice bob carol dave erin" "$(json_get '" ".join(u["login_id"] for u in d)' <<<"$json")"
assert_eq "issued renewed expired not-issued issued" "$(json_get '" ".join(u["state"] for u in d)' <<<"$json")"
assert_eq "2036-11-23T22:18:02Z" "$(json_get 'd[0]["expiry"]' <<<"$json")"
assert_eq "$((alice_exp * 1000000))" "$(json_get 'd[0]["not_after_usec"]' <<<"$json")"
assert_eq "$(cr_cert_serial "$certs/alice.pem")" "$(json_get 'd[0]["serial"]' <<<"$json")"
assert_eq "$(cr_cert_serial "$certs/bob-new.pem")" "$(json_get 'd[1]["serial"]' <<<"$json")"
assert_eq "$((bob_exp * 1000000))" "$(json_get 'd[1]["not_after_usec"]' <<<"$json")"
assert_eq "ゲータ太郎" "$(json_get 'd[1]["name"]' <<<"$json")"
assert_eq "" "$(json_get 'd[3]["serial"]' <<<"$json")" "not-issued: no serial"
assert_eq "0 None" "$(json_get 'str(d[3]["not_after_usec"]) + " " + str(d[3]["expiry"])' <<<"$json")" \
        "not-issued: no expiry"
assert_eq "/org/certrevoke1/user/carol" "$(json_get 'd[2]["path"]' <<<"$json")"

# ---- busctl: ListUsers and the user objects
lu=$(cr_busctl --json=short call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager ListUsers)
assert_eq "a(sssssto)" "$(json_get 'd["type"]' <<<"$lu")" "ListUsers signature"
assert_eq "['alice', 'Alice Example', 'general', 'issued', '$(cr_cert_serial "$certs/alice.pem")', $((alice_exp * 1000000)), '/org/certrevoke1/user/alice']" \
        "$(json_get 'd["data"][0][0]' <<<"$lu")"
assert_eq "['dave', 'Dave', 'general', 'not-issued', '', 0, '/org/certrevoke1/user/dave']" \
        "$(json_get 'd["data"][0][3]' <<<"$lu")"
assert_eq "carol expired $(cr_cert_serial "$certs/carol.pem") $((carol_exp * 1000000))" \
        "$(json_get '" ".join(str(x) for x in [d["data"][0][2][0], d["data"][0][2][3], d["data"][0][2][4], d["data"][0][2][5]])' <<<"$lu")" \
        "an expired certificate keeps its serial and notAfter in ListUsers"

assert_eq 's "issued"' "$(cr_user_prop alice CertificateState)"
assert_eq 's "renewed"' "$(cr_user_prop bob CertificateState)"
assert_eq 's "expired"' "$(cr_user_prop carol CertificateState)"
assert_eq 's "not-issued"' "$(cr_user_prop dave CertificateState)"
assert_eq 's "issued"' "$(cr_user_prop erin CertificateState)"
for who in alice:alice bob:bob-new carol:carol erin:erin; do
        login=${who%%:*} pem=$certs/${who#*:}.pem
        s=$(openssl x509 -in "$pem" -noout -serial)
        assert_eq "s \"${s#serial=}\"" "$(cr_user_prop "$login" CertificateSerial)" "$login's serial is openssl's"
        assert_eq "t $(($(epoch_of "$pem") * 1000000))" "$(cr_user_prop "$login" CertificateNotAfter)"
        uri=$(cr_user_prop "$login" CertificateURI)
        assert_contains "$uri" 's "pkcs11:'
        assert_contains "$uri" "token=card-$login-01;"
        assert_contains "$uri" "type=cert"
done
assert_contains "$(cr_user_prop bob CertificateURI)" "object=bob%20certificate%202" "the URI names the newer object"
[[ $bob_old_exp != "$bob_exp" ]] || cr_fail_at "bob's certificates should differ in notAfter"
assert_eq 's ""' "$(cr_user_prop dave CertificateSerial)"
assert_eq 't 0' "$(cr_user_prop dave CertificateNotAfter)"
assert_eq 's ""' "$(cr_user_prop dave CertificateURI)"
assert_eq 's "CN=erin"' "$(cr_user_prop erin CertificateSubject)"
# busctl escapes non-ASCII bytes in its plain output; its JSON does not.
assert_eq "CN=ゲータ太郎,UID=bob,O=Demo Org" "$(cr_busctl --json=short get-property org.certrevoke1 \
        /org/certrevoke1/user/bob org.certrevoke1.User CertificateSubject | json_get 'd["data"]')"
assert_eq 'u 1003' "$(cr_user_prop carol Uid)"
assert_eq 't 0' "$(cr_user_prop alice RevokedAt)"
assert_eq 's ""' "$(cr_user_prop alice RevocationReason)"

# ---- certrevokectl show
# field LABEL: the value of one "Label: value" line of `show` (stdin).
field() {
        sed -n "s/^ *$1: //p"
}
show=$(LC_ALL=C.UTF-8 TZ=UTC cr_ctl show alice)
assert_eq "alice" "$(field 'Login ID' <<<"$show")"
assert_eq "Alice Example" "$(field Name <<<"$show")"
assert_eq "General user" "$(field Role <<<"$show")"
assert_eq "1001" "$(field UID <<<"$show")"
assert_eq "issued" "$(field 'Certificate state' <<<"$show")"
assert_eq "$(cr_cert_serial "$certs/alice.pem")" "$(field Serial <<<"$show")"
assert_eq "CN=Alice Example,UID=alice,O=Demo Org" "$(field Subject <<<"$show")"
assert_eq "2036-11-23 22:18:02" "$(field Expiry <<<"$show")"
assert_contains "$(field 'Certificate URI' <<<"$show")" "token=card-alice-01;"
assert_eq "-" "$(field 'Revoked at' <<<"$show")"

show=$(LC_ALL=ja_JP.UTF-8 TZ=Asia/Tokyo cr_ctl show bob)
assert_eq "更新済" "$(field 証明書状態 <<<"$show")"
assert_eq "管理者ユーザ" "$(field 利用者区分 <<<"$show")"
assert_eq "$(TZ=Asia/Tokyo date -d "@$bob_exp" '+%Y年%m月%d日 %H時%M分%S秒')" "$(field 証明書有効期限 <<<"$show")"

show=$(LC_ALL=C.UTF-8 TZ=UTC cr_ctl show dave)
assert_eq "not issued" "$(field 'Certificate state' <<<"$show")"
assert_eq "-" "$(field Serial <<<"$show")"
assert_eq "-" "$(field Expiry <<<"$show")"
assert_eq "-" "$(field 'Certificate URI' <<<"$show")"

json=$(cr_ctl --json show carol)
"$CR_PYTHON" -m json.tool <<<"$json" >/dev/null || cr_fail_at "show --json is not JSON" "$json"
assert_eq "expired $((carol_exp * 1000000)) 1003" \
        "$(json_get '" ".join(str(d[k]) for k in ["CertificateState", "CertificateNotAfter", "Uid"])' <<<"$json")"

# An expired certificate has no valid expiry to show: "-", as in the list
# (DESIGN.md: expiry only where a valid certificate exists; the confirmation
# step shows the same fields as the list).
show=$(LC_ALL=C.UTF-8 TZ=UTC cr_ctl show carol)
assert_eq "expired" "$(field 'Certificate state' <<<"$show")"
assert_eq "-" "$(field Expiry <<<"$show")" "show: expiry of an expired certificate"

cr_stop_daemon
echo "states OK"
