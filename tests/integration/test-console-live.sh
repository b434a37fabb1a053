#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# The console follows the daemon's signals: while boss has the revocation
# list open, olive (another administrator) revokes gina's certificate
# through the bus and adds a user; boss's page shows gina 失効済 (no longer
# choosable) and the new user, without a reload.  boss is in the group
# certrevoke, which the bus policy lets receive the signals.

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
cr_card gina "Gina General"
cr_add_passwd boss 1001
cr_add_passwd olive 1002
cr_console_group boss
cr_pam_password olive 'Conf1rm-Olive-5c2e'

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin 1001
cr_ctl add-user olive "Olive Admin" admin 1002
cr_ctl add-user gina "Gina General" general 1003
assert_exit 0 cr_ctl rescan
cr_wait_first_crl

cat >"$CR_TMP/hook.sh" <<EOF
set -euo pipefail
. "$CR_SRCDIR/tests/lib.sh"
case \$1 in
other-admin-revokes) cr_revoke_as 1002 gina "" keyCompromise 'Conf1rm-Olive-5c2e' ;;
other-admin-adds) cr_ctl_as 1002 add-user newbie "新人" general 1004 ;;
*) echo "unknown hook \$1" >&2; exit 2 ;;
esac
EOF

cr_console_start 1001
cr_console_browser check-live.js ja
assert_contains "$(cr_history gina)" "olive revoke gina ok"

cr_stop_daemon
cr_console_done
echo "console live OK"
