#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# Busy in the console: two other administrators flood the service with
# confirmations that fail slowly (a PAM stack with a 2 s fail delay), so
# that its queue of expensive work is full; boss's revocation in the page
# is answered Busy, and the page says so and when to try again; after the
# flood the same screen revokes gina's certificate.

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
PASSWORD='Conf1rm-Busy-8c21'
cr_card gina "Gina General"
cr_add_passwd boss 1001
for who in boss olive pat; do
        cr_pam_password "$who" "$PASSWORD-$who" certrevoke-delay
done

cr_write_config "$CR_TMP/certrevoke.conf"
sed -i 's/^PAMService=.*/PAMService=certrevoke-delay/' "$CR_TMP/certrevoke.conf"
cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin 1001
cr_ctl add-user olive "Olive Admin" admin 1002
cr_ctl add-user pat "Pat Admin" admin 1003
cr_ctl add-user gina "Gina General" general 1004
assert_exit 0 cr_ctl rescan
cr_wait_first_crl

# The flood: 32 wrong confirmations at once from each of olive and pat,
# each held by the fail delay; in the background, its output in files.
cat >"$CR_TMP/hook.sh" <<EOF
set -euo pipefail
. "$CR_SRCDIR/tests/lib.sh"
case \$1 in
flood)
        for uid in 1002 1003; do
                cr_as \$uid "$CR_PYTHON" "$CR_SRCDIR/tests/flood-client.py" --bus="$CR_BUS_ADDRESS" \\
                        --old=wrong-\$uid --new=New-Pw-\$uid-x7 --set-login=gina --set-password=Set-Pw-x7 \\
                        --parallel=32 --loops=0 --calls=0 --seconds=10 \\
                        </dev/null >"$CR_TMP/flood-\$uid.out" 2>&1 &
        done
        sleep 0.5
        ;;
*) echo "unknown hook \$1" >&2; exit 2 ;;
esac
EOF

export CR_CONSOLE_PASSWORD=$PASSWORD-boss
cr_console_start 1001
cr_console_browser check-busy.js ja
# a Busy changed nothing and wrote nothing: one revocation, one row
assert_eq 1 "$(grep -c '^boss revoke gina' <<<"$(cr_history gina)")" "boss's revocations of gina in the history"
assert_eq 's "revoked"' "$(cr_user_prop gina CertificateState)"

cr_stop_daemon
cr_console_done
echo "console busy OK"
