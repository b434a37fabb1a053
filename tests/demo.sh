#!/bin/bash
# `make demo`: the users of the product page, end to end, in a throw-away
# world: a private system bus with the project's policy, SoftHSM smartcards,
# a demo CA, certrevoked and certrevokectl; then the Cockpit console on the
# same bus as the administrator sachiboh, driven through the three screens
# of a revocation in headless Chromium, a screenshot of each kept in
# BUILD/demo/.  Nothing else is left behind.
#
#   tests/demo.sh [--build=DIR] [--no-daemon] [--console]
#
# --no-daemon sets up the bus, the cards and the certificates and shows them,
# without starting certrevoked.  --console (`make console`) leaves the world
# and the console running for a person instead, printing the URL, until
# Ctrl-C.

set -euo pipefail

no_daemon=0
for_person=0
for arg in "$@"; do
        case $arg in
        --build=*) export CR_BUILD=${arg#--build=} ;;
        --no-daemon) no_daemon=1 ;;
        --console) for_person=1 ;;
        *)
                echo "usage: $0 [--build=DIR] [--no-daemon] [--console]" >&2
                exit 2
                ;;
        esac
done

# not a test: no CRL-number watcher (tests/lib.sh, cr_crl_watch)
CR_CRL_WATCH=0

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/reachable.sh
. "$CR_SRCDIR/tests/reachable.sh"
# shellcheck source=tests/console-lib.sh
. "$CR_SRCDIR/tests/console-lib.sh"
# The screenshots go to this tree's build, also when the demo runs from a
# copy that the test users can reach (tests/reachable.sh).
export CR_DEMO_SHOTS=${CR_DEMO_SHOTS:-$CR_BUILD/demo}
args=()
((!no_daemon)) || args+=(--no-daemon)
((!for_person)) || args+=(--console)
cr_reachable_or_reexec "$CR_SRCDIR" "$CR_BUILD" tests/demo.sh ${args[@]+"${args[@]}"}

heading() {
        printf '\n=== %s\n\n' "$*"
}

if ((!no_daemon)); then
        [[ -x $CR_BUILD/certrevoked && -x $CR_BUILD/certrevokectl ]] ||
                cr_die "build first (make all): no certrevoked/certrevokectl in $CR_BUILD"
fi

cr_setup_tmp
heading "A private system bus, SoftHSM tokens and a demo CA in $CR_TMP"
cr_softhsm_init
cr_ca_create "$CR_TMP/ca" "Demo Org Certificate Authority"
openssl x509 -in "$CR_TMP/ca/ca.pem" -noout -subject -enddate -nameopt utf8,sep_comma_plus_space

# The users of the product page's list, login IDs made unique, and a master
# user.  Fields: login, name, role, UID, what their card holds.
users=(
        "kanri|マスター花子|master|1001|issued"
        "sachiboh|ゲータチ子|admin|1002|issued"
        "schiboh|ゲータ一郎|general|1003|expired"
        "jinoh|ゲータ二郎|general|1004|not-issued"
        "schiboh3|ゲータ三郎|worker|1005|revoked"
        "sachiboh2|ゲータ妻子|general|1006|issued"
        "schib|ゲータ太郎|general|1007|renewed"
)

past=$(cr_date_utc '-30 days')
next_year=$(cr_date_utc '+1 year')

heading "Smartcards"
for u in "${users[@]}"; do
        IFS='|' read -r login name role uid state <<<"$u"
        cr_add_passwd "$login" "$uid"
        card=card-$login-01
        cr_token_create "$card"
        certs=$CR_TMP/certs/$login
        mkdir -p "$certs"
        case $state in
        issued)
                cr_cert_issue "$CR_TMP/ca" "$login" "$name" "$past" "$next_year" "$certs/1.pem"
                ;;
        expired)
                # As on the product page: ran out on 2019-12-16 09:59:39.
                cr_cert_issue "$CR_TMP/ca" "$login" "$name" \
                        20181216095939Z 20191216095939Z "$certs/1.pem"
                ;;
        not-issued)
                # A blank card: the user has no certificate.
                ;;
        revoked)
                # A valid certificate for now: the demo revokes it below,
                # through the daemon, as the product page's list shows it.
                cr_cert_issue "$CR_TMP/ca" "$login" "$name" "$past" "$next_year" "$certs/1.pem"
                ;;
        renewed)
                # An older certificate and the newer one that replaced it,
                # both still valid.
                cr_cert_issue "$CR_TMP/ca" "$login" "$name" \
                        "$(cr_date_utc '-300 days')" "$(cr_date_utc '+60 days')" "$certs/1.pem"
                cr_cert_issue "$CR_TMP/ca" "$login" "$name" \
                        "$(cr_date_utc '-10 days')" "$(cr_date_utc '+2 years')" "$certs/2.pem"
                ;;
        esac
        n=0
        for pem in "$certs"/*.pem; do
                [[ -f $pem ]] || continue
                n=$((n + 1))
                cr_token_put_cert "$card" "$pem" "0$n" "$login certificate $n"
                cr_token_put_key "$card" "${pem%.pem}.key" "0$n" "$login key $n"
        done
        on_card=$(cr_token_list_certs "$card" | sort | paste -sd, | sed 's/,/, /g')
        printf '%-18s %-10s %s\n' "$card" "$login" "${on_card:-(blank card)}"
done

heading "The certificates, checked against the CA"
for u in "${users[@]}"; do
        IFS='|' read -r login _ <<<"$u"
        for pem in "$CR_TMP/certs/$login"/*.pem; do
                [[ -f $pem ]] || continue
                subject=$(openssl x509 -in "$pem" -noout -subject -nameopt utf8,sep_comma_plus_space)
                end=$(openssl x509 -in "$pem" -noout -enddate)
                if out=$(openssl verify -CAfile "$CR_TMP/ca/ca.pem" "$pem" 2>&1); then
                        verdict="verifies: OK"
                else
                        verdict="does not verify: $(sed -n 's/^error .* lookup: //p' <<<"$out" | head -n1)"
                fi
                printf '%-10s %s\n           notAfter %s, serial %s\n           %s\n' \
                        "$login" "${subject#subject=}" "${end#notAfter=}" \
                        "$(cr_cert_serial "$pem")" "$verdict"
        done
done

heading "The private bus"
cr_start_bus
echo "bus: $CR_BUS_ADDRESS"
echo "as UID 1002 (sachiboh), the bus answers GetId: $(cr_as 1002 busctl \
        --address="$CR_BUS_ADDRESS" call org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus GetId)"

if ((no_daemon)); then
        heading "Done (--no-daemon: certrevoked not started)"
        exit 0
fi

heading "certrevoked"
cr_write_config "$CR_TMP/certrevoke.conf"
cat "$CR_TMP/certrevoke.conf"
# Confirmation passwords go to the PAM service "certrevoke", here a test
# stack (pam_wrapper, pam_matrix) that knows the administrator sachiboh's.
cr_pam_init
confirmation_password='Kakunin-2019!'
cr_pam_password sachiboh "$confirmation_password"
printf '%s\n' "$confirmation_password" >"$CR_TMP/confirmation-password"
chmod 0600 "$CR_TMP/confirmation-password"
# shellcheck disable=SC2119 # no extra daemon arguments
cr_start_daemon
echo
echo "certrevoked runs (pid $CR_DAEMON_PID) and owns org.certrevoke1"

heading "Adding the users (as root)"
for u in "${users[@]}"; do
        IFS='|' read -r login name role uid _ <<<"$u"
        echo "\$ certrevokectl add-user $login $name $role $uid"
        cr_ctl add-user "$login" "$name" "$role" "$uid"
done

heading "Searching the smartcards for certificates"
echo "\$ certrevokectl rescan"
cr_ctl rescan

heading "The list of users, in English"
echo "\$ LC_ALL=C.UTF-8 certrevokectl list"
LC_ALL=C.UTF-8 TZ=UTC cr_ctl list

heading "The list of users, in Japanese"
if ! locale -a 2>/dev/null | grep -qix 'ja_JP.utf-\?8'; then
        echo "(the ja_JP.UTF-8 locale is not installed: run make deps)"
fi
echo "\$ LC_ALL=ja_JP.UTF-8 TZ=Asia/Tokyo certrevokectl list"
LC_ALL=ja_JP.UTF-8 TZ=Asia/Tokyo cr_ctl list

heading "One user"
echo "\$ certrevokectl show sachiboh"
LC_ALL=C.UTF-8 TZ=UTC cr_ctl show sachiboh

heading "The same list, as the general user sachiboh2 (UID 1006) sees it"
echo "\$ certrevokectl list   # as UID 1006"
cr_ctl_as 1006 list

# ja_ctl_as UID ARGS…: certrevokectl in Japanese, in Japan, as UID.
ja_ctl_as() {
        LC_ALL=ja_JP.UTF-8 TZ=Asia/Tokyo cr_ctl_as "$@"
}

# show_card LABEL: the certificate objects on a card, as pkcs11-tool lists them.
show_card() {
        local out
        echo "\$ pkcs11-tool --module $CR_SOFTHSM_MODULE --token-label $1 -O --type cert"
        out=$(cr_pkcs11_tool --token-label "$1" -O --type cert 2>/dev/null)
        echo "${out:-(no certificate objects on the card)}"
}

heading "sachiboh2's card before the revocation"
show_card card-sachiboh2-01

heading "Revoking sachiboh2's certificate as the administrator sachiboh (UID 1002): a wrong password"
echo "\$ echo wrong-password | certrevokectl revoke sachiboh2 --reason=keyCompromise --password-stdin"
rc=0
echo wrong-password | ja_ctl_as 1002 revoke sachiboh2 --reason=keyCompromise --password-stdin || rc=$?
echo "(exit status $rc: authentication failed, nothing revoked)"
((rc == 5)) || cr_die "a wrong confirmation password should be exit 5, not $rc"

heading "Revoking sachiboh2's certificate: the confirmation screen, the password, the result screen"
echo "\$ certrevokectl revoke sachiboh2 --reason=keyCompromise --password-stdin <confirmation-password"
ja_ctl_as 1002 revoke sachiboh2 --reason=keyCompromise --password-stdin <"$CR_TMP/confirmation-password"

heading "Revoking schiboh3's certificate, so that the list shows 失効済 as on the product page"
echo "\$ certrevokectl revoke schiboh3 --reason=affiliationChanged --password-stdin <confirmation-password"
ja_ctl_as 1002 revoke schiboh3 --reason=affiliationChanged --password-stdin <"$CR_TMP/confirmation-password"

heading "Revoked already: nothing to confirm (exit 7, no password asked for)"
echo "\$ certrevokectl revoke schiboh3"
rc=0
ja_ctl_as 1002 revoke schiboh3 </dev/null || rc=$?
echo "(exit status $rc)"
((rc == 7)) || cr_die "revoking a revoked certificate should be exit 7, not $rc"

heading "The list of users again, in Japanese"
echo "\$ LC_ALL=ja_JP.UTF-8 TZ=Asia/Tokyo certrevokectl list   # as UID 1002"
ja_ctl_as 1002 list

heading "The published CRL, signed by the CA"
public=$CR_TMP/public
echo "\$ openssl crl -inform DER -in crl.der -noout -verify -CAfile ca.pem"
openssl crl -inform DER -in "$public/crl.der" -noout -verify -CAfile "$CR_TMP/ca/ca.pem"
echo "\$ openssl crl -inform DER -in crl.der -noout -text"
openssl crl -inform DER -in "$public/crl.der" -noout -text | sed -n '/Last Update/,/Signature Algorithm/p' |
        grep -v 'Signature Algorithm'

heading "Certificates checked against the CA and the CRL"
cr_wait_crl_pem "$public"
for login in sachiboh2 schiboh3 sachiboh; do
        echo "\$ openssl verify -crl_check -CAfile ca.pem -CRLfile crl.pem certs/$login/1.pem"
        rc=0
        openssl verify -crl_check -CAfile "$CR_TMP/ca/ca.pem" -CRLfile "$public/crl.pem" \
                "$CR_TMP/certs/$login/1.pem" 2>&1 | sed "s|$CR_TMP/||" || rc=$?
        case $login in
        sachiboh) ((rc == 0)) || cr_die "sachiboh's valid certificate should verify" ;;
        *)
                echo "(exit status $rc: refused, revoked)"
                ((rc != 0)) || cr_die "$login's revoked certificate should not verify"
                ;;
        esac
done

heading "sachiboh2's card after the revocation"
show_card card-sachiboh2-01
[[ -z $(cr_token_list_certs card-sachiboh2-01) ]] ||
        cr_die "the revoked certificate should be gone from card-sachiboh2-01"

heading "The operation history, as the administrator sachiboh"
echo "\$ LC_ALL=ja_JP.UTF-8 TZ=Asia/Tokyo certrevokectl history   # as UID 1002"
ja_ctl_as 1002 history

heading "The Cockpit console, as the administrator sachiboh (UID 1002)"
cr_console_need
# sachiboh follows changes live: the bus hands the daemon's signals to the
# group certrevoke.
cr_console_group sachiboh
export TZ=Asia/Tokyo
cr_console_start 1002
echo "cockpit-ws --no-tls --local-session=cockpit-bridge on 127.0.0.1:$CR_CONSOLE_PORT, as sachiboh"
echo "(a session without login: for tests and demonstrations only)"

if ((for_person)); then
        heading "The console is open"
        echo "  In Cockpit's shell:  $CR_CONSOLE_SHELL_URL"
        echo "  The page alone:      $CR_CONSOLE_URL"
        echo
        echo "  Logged in as sachiboh (管理者ユーザ); the confirmation password is $confirmation_password"
        echo "  From another machine: ssh -L $CR_CONSOLE_PORT:127.0.0.1:$CR_CONSOLE_PORT to this host,"
        echo "  then open the same URL there.  The language follows Cockpit's setting."
        echo
        echo "  Ctrl-C stops the console, certrevoked and the bus, and removes $CR_TMP."
        # Until Ctrl-C (the harness's INT trap tears everything down), or
        # until cockpit-ws ends by itself.
        wait "$CR_CONSOLE_PID" || true
        cr_die "cockpit-ws ended: $(tail -n 5 "$CR_TMP/cockpit-ws.log")"
fi

shots=$CR_DEMO_SHOTS
rm -rf -- "$shots"
mkdir -p "$shots"
echo "revoking schib's renewed certificate in the page, in Japanese:"
CR_CONSOLE_PASSWORD=$confirmation_password CR_CONSOLE_SHOTS=$shots CR_CONSOLE_ARTIFACTS=$shots/browser \
        CR_CONSOLE_LANG=ja CR_CONSOLE_PROFILE=$CR_TMP/chromium-demo \
        node "$CR_CONSOLE_DIR/test/demo.js"
for shot in "$shots"/*.png; do
        echo "  $shot"
done
echo
echo "\$ certrevokectl list   # as UID 1002, after the console's revocation"
ja_ctl_as 1002 list

heading "Stopping"
cr_stop_daemon
echo "certrevoked stopped; removing $CR_TMP"
