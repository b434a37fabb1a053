#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# The product's revocation flow in the Cockpit console, in Japanese, as the
# administrator sachiboh, through cockpit-ws and the bridge on the private
# bus, in headless Chromium: the top page, the user management menu, the
# list with the product's columns, states, expiry and choosable rows, the
# confirmation with its masked required password, and the result with its
# three links.  Afterwards, seen with other tools: sachiboh2's certificate
# is on the CRL (openssl) with the reason chosen, off its card
# (pkcs11-tool), the history says who did it, and no password is in any
# log, the browser's included.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/console-lib.sh
. "$CR_SRCDIR/tests/console-lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl setpriv
cr_need_python
cr_console_need

cr_world_init
cr_pam_init

ADMIN=1002
PASSWORD='Kakunin-2019!'

# The product page's users, login IDs made unique.
cr_add_passwd sachiboh $ADMIN
cr_card sachiboh "ゲータチ子"
cr_card sachiboh2 "ゲータ妻子"
cr_card schiboh3 "ゲータ三郎"
cr_card schiboh "ゲータ一郎" 20181216095939Z 20191216095939Z
cr_token_create card-jinoh-01
cr_token_create card-schib-01
cr_cert_issue "$CR_CA" schib "ゲータ太郎" "$(cr_date_utc '-300 days')" "$(cr_date_utc '+60 days')" "$CR_CERTS/schib-1.pem"
cr_cert_issue "$CR_CA" schib "ゲータ太郎" "$(cr_date_utc '-10 days')" "$(cr_date_utc '+2 years')" "$CR_CERTS/schib-2.pem"
cr_token_put_cert card-schib-01 "$CR_CERTS/schib-1.pem" 01 "schib certificate 1"
cr_token_put_cert card-schib-01 "$CR_CERTS/schib-2.pem" 02 "schib certificate 2"
cr_pam_password sachiboh "$PASSWORD"

cr_start_bus
cr_start_daemon
cr_ctl add-user kanri "マスター花子" master 1001
cr_ctl add-user sachiboh "ゲータチ子" admin $ADMIN
cr_ctl add-user schiboh "ゲータ一郎" general 1003
cr_ctl add-user jinoh "ゲータ二郎" general 1004
cr_ctl add-user schiboh3 "ゲータ三郎" worker 1005
cr_ctl add-user sachiboh2 "ゲータ妻子" general 1006
cr_ctl add-user schib "ゲータ太郎" general 1007
assert_exit 0 cr_ctl rescan
cr_wait_first_crl
assert_exit 0 cr_revoke_as $ADMIN schiboh3 "" affiliationChanged "$PASSWORD"
assert_eq 's "issued"' "$(cr_user_prop sachiboh2 CertificateState)" "sachiboh2 before"
assert_eq 's "renewed"' "$(cr_user_prop schib CertificateState)" "schib before"
serial=$(cr_cert_serial "$CR_CERTS/sachiboh2.pem")

# The browser shows Japan's time; the expiry as the product writes it.
export TZ=Asia/Tokyo
not_after=$(openssl x509 -in "$CR_CERTS/sachiboh2.pem" -noout -enddate)
CR_EXPECT_EXPIRY=$(date -d "${not_after#notAfter=}" '+%Y年%m月%d日 %H時%M分%S秒')
export CR_EXPECT_EXPIRY CR_CONSOLE_PASSWORD=$PASSWORD

cr_console_start $ADMIN
cr_console_browser check-revoke.js ja

# ---- what the other tools see
for who in sachiboh2 schib sachiboh; do
        assert_eq 's "revoked"' "$(cr_user_prop "$who" CertificateState)" "$who after the console's revocation"
done
cr_wait_crl_pem
crl=$(openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -text)
assert_contains "$crl" "Serial Number: $serial" "sachiboh2's certificate on the CRL"
reason=$(awk -v s="Serial Number: $serial" '$0 ~ s { found = 1 } found && /Key Compromise/ { print "yes"; exit }' <<<"$crl")
assert_eq yes "$reason" "the reason chosen in the page is on the CRL entry"
assert_exit 2 openssl verify -crl_check -CAfile "$CR_CA/ca.pem" -CRLfile "$CR_PUB/crl.pem" "$CR_CERTS/sachiboh2.pem"
assert_contains "$CR_LAST_OUTPUT" "certificate revoked"
cr_wait_user_prop sachiboh2 CertificateRemoval 's "removed"'
assert_eq "" "$(cr_token_list_certs card-sachiboh2-01)" "sachiboh2's card after the revocation"
assert_contains "$(cr_history sachiboh2)" "sachiboh revoke sachiboh2 ok" "the history names the administrator"
assert_no_password "$PASSWORD"
! grep -qaF -- "$PASSWORD" "$CR_TMP/browser.log" "$CR_TMP/cockpit-ws.log" ||
        cr_fail_at "the confirmation password is in the browser's or cockpit-ws's log"

cr_stop_daemon
cr_console_done
echo "console revoke OK"
