#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# The console as the users who may not revoke: a general user is offered
# no 証明書失効 and no 利用者停止・解除 and sees only their own row; a
# worker the same; an account whose UID is no certrevoke user is told so.

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
cr_card gina "Gina General"
cr_card boss "Boss Admin"
cr_add_passwd gina 1002
cr_add_passwd walt 1003
cr_add_passwd stranger 1009

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin 1001
cr_ctl add-user gina "Gina General" general 1002
cr_ctl add-user walt "Walt Worker" worker 1003
assert_exit 0 cr_ctl rescan
cr_wait_first_crl

# console_as UID SCRIPT: the console as UID, checked by SCRIPT, then closed.
console_as() {
        cr_console_start "$1"
        cr_console_browser "$2" ja
        cr_kill_pids "$CR_CONSOLE_PID"
        cr_untrack "$CR_CONSOLE_PID"
}

export CR_OWN_LOGIN CR_OWN_ROLE CR_OTHER_LOGIN=boss
CR_OWN_LOGIN=gina CR_OWN_ROLE=一般ユーザ
console_as 1002 check-general.js
CR_OWN_LOGIN=walt CR_OWN_ROLE=ワーカーユーザ
console_as 1003 check-general.js
console_as 1009 check-nobody.js

# the refusals are the daemon's: nothing was attempted
assert_eq 's "issued"' "$(cr_user_prop gina CertificateState)"
assert_not_contains "$(cr_history)" " revoke " "no revocation was attempted"

cr_stop_daemon
cr_console_done
echo "console roles OK"
