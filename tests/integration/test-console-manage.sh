#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# The rest of the console's menu on the same API, as the master user boss,
# with the real pam_certrevoke.so keeping confirmation passwords: search,
# add, change and remove users; suspend and resume gina; boss changes his
# own confirmation password and sets gina's; the history filtered by user
# and by date.  Afterwards, with other tools: newbie is gone, gina is
# active, boss's new password confirms (certrevokectl) and the old one no
# longer does, gina has a password in the confirmation file, and the
# history holds every action.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/console-lib.sh
. "$CR_SRCDIR/tests/console-lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl setpriv flock
cr_need_python
cr_console_need
module=$CR_BUILD/pam_certrevoke.so
[[ -f $module ]] || cr_die "pam_certrevoke.so not built in $CR_BUILD"

cr_world_init

BOSS=1001
BOSS_PW='Bx0-Confirm%2264'
BOSS_PW2='Bx7-Renewed&5831'
GINA_PW='Hn7-Confirm&9035'
cr_add_passwd boss $BOSS
cr_card gina "Gina General"

shadow=$CR_TMP/state/confirm.shadow
cr_write_config "$CR_TMP/certrevoke.conf"
sed -i "/^PAMService=/a ConfirmationFile=$shadow" "$CR_TMP/certrevoke.conf"
cr_start_bus
cr_pam_init
{
        echo "auth      required  $module file=$shadow"
        echo "account   required  $module file=$shadow"
        echo "password  required  $module file=$shadow"
} >"$CR_TMP/pam/certrevoke"
cr_start_daemon
cr_ctl add-user boss "Boss Master" master $BOSS
cr_ctl add-user gina "Gina General" general 1002
assert_exit 0 cr_ctl rescan
printf '%s\n' "$BOSS_PW" "$BOSS_PW" | cr_ctl --password-stdin set-password boss >/dev/null

export CR_CONSOLE_PASSWORD=$BOSS_PW CR_NEW_PASSWORD=$BOSS_PW2 CR_GINA_PASSWORD=$GINA_PW
cr_console_start $BOSS
cr_console_browser check-manage.js ja

# ---- with other tools
assert_exit 3 cr_ctl show newbie
assert_eq 'b false' "$(cr_user_prop gina Suspended)" "gina after suspend and resume"
grep -q '^gina:' "$shadow" || cr_fail_at "gina has no confirmation password in $shadow"
hist=$(cr_history)
for line in "boss add-user newbie ok" "boss set-role newbie worker" "boss remove-user newbie ok" "boss suspend gina ok" "boss resume gina ok"; do
        assert_contains "$hist" "$line" "the history"
done
# boss's new password confirms; the old one no longer does
assert_exit 5 cr_ctl_as $BOSS --password-stdin suspend gina <<<"$BOSS_PW"
assert_exit 0 cr_ctl_as $BOSS --password-stdin suspend gina <<<"$BOSS_PW2"
assert_eq 'b true' "$(cr_user_prop gina Suspended)"
assert_no_password "$BOSS_PW" "$BOSS_PW2" "$GINA_PW"
! grep -qaF -e "$BOSS_PW" -e "$BOSS_PW2" -e "$GINA_PW" "$CR_TMP/browser.log" "$CR_TMP/cockpit-ws.log" ||
        cr_fail_at "a password is in the browser's or cockpit-ws's log"

cr_stop_daemon
cr_console_done
echo "console manage OK"
