#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# Errors in the console where they happen, in words: a wrong confirmation
# password says how many tries are left; the fifth locks the administrator
# out and the sixth, right or not, says when to try again (RateLimited);
# a certificate renewed while the confirmation screen is open is refused
# (CertificateChanged) and the page shows the new one to confirm again.
# Then, with other tools: the renewed certificate is on the CRL, gene's is
# not, and the history holds the failed confirmations.

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

ADMIN=1001
PASSWORD='Conf1rm-Boss-7a3f'

cr_add_passwd boss $ADMIN
cr_card gina "Gina General" "$(cr_date_utc '-30 days')" "$CR_LATER"
cr_card gene "Gene General"
cr_pam_password boss "$PASSWORD"
# gina's next certificate, newer than the one on her card
cr_cert_issue "$CR_CA" gina "Gina General" "$CR_PAST" "$(cr_date_utc '+2 years')" "$CR_CERTS/gina-2.pem"
new_serial=$(cr_cert_serial "$CR_CERTS/gina-2.pem")

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN
cr_ctl add-user gina "Gina General" general 1002
cr_ctl add-user gene "Gene General" general 1003
assert_exit 0 cr_ctl rescan
cr_wait_first_crl

# What the browser script asks for in the middle of the flow.
cat >"$CR_TMP/hook.sh" <<EOF
set -euo pipefail
. "$CR_SRCDIR/tests/lib.sh"
case \$1 in
renew-gina) cr_ctl import-cert gina "$CR_CERTS/gina-2.pem" ;;
*) echo "unknown hook \$1" >&2; exit 2 ;;
esac
EOF

export CR_CONSOLE_PASSWORD=$PASSWORD CR_NEW_SERIAL=$new_serial
cr_console_start $ADMIN
cr_console_browser check-errors.js ja

# ---- with other tools
cr_wait_crl_pem
crl=$(openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -text)
assert_contains "$crl" "Serial Number: $new_serial" "gina's renewed certificate is on the CRL"
assert_not_contains "$crl" "Serial Number: $(cr_cert_serial "$CR_CERTS/gina.pem")" \
        "the certificate shown first was not revoked"
assert_eq 's "issued"' "$(cr_user_prop gene CertificateState)" "gene, whose revocation was never confirmed"
hist=$(cr_history)
assert_eq 7 "$(grep -c '^boss confirm g[a-z]* failed$' <<<"$hist")" "the failed confirmations in the history"
assert_contains "$hist" "boss revoke gene rate-limited"
assert_no_password "$PASSWORD" wrong-guess-1 wrong-again-5
! grep -qaF -- "$PASSWORD" "$CR_TMP/browser.log" "$CR_TMP/cockpit-ws.log" ||
        cr_fail_at "the confirmation password is in the browser's or cockpit-ws's log"

cr_stop_daemon
cr_console_done
echo "console errors OK"
