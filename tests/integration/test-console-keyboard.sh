#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# The revocation flow in the console by keyboard alone, in English (the
# language Cockpit is set to), every control of each screen named for a
# screen reader; then gina's certificate is on the CRL with the reason
# chosen by keyboard.

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
PASSWORD='Conf1rm-Keys-41d9'
cr_card gina "Gina General"
cr_add_passwd boss 1001
cr_pam_password boss "$PASSWORD"

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin 1001
cr_ctl add-user gina "Gina General" general 1002
assert_exit 0 cr_ctl rescan
cr_wait_first_crl

export CR_CONSOLE_PASSWORD=$PASSWORD
cr_console_start 1001
cr_console_browser check-keyboard.js en

cr_wait_crl_pem
crl=$(openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -text)
assert_contains "$crl" "Serial Number: $(cr_cert_serial "$CR_CERTS/gina.pem")" "gina's certificate on the CRL"
assert_contains "$crl" "Key Compromise" "the reason chosen by keyboard"
assert_no_password "$PASSWORD"
! grep -qaF -- "$PASSWORD" "$CR_TMP/browser.log" || cr_fail_at "the password is in the browser's log"

cr_stop_daemon
cr_console_done
echo "console keyboard OK"
