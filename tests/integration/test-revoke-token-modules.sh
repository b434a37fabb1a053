#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# The token module stays loaded from one CRL build to the next: two
# revocations, each in a build of its own, initialise SoftHSM in certrevoked
# once.  strace on the daemon shows it: SoftHSM reads its configuration file
# (and every token's directory) in each C_Initialize.  (The library file
# itself is no measure: p11-kit keeps it mapped after a module is released,
# so what a build paid for was the initialisation.)
# After the module fails (a card's directory taken away while the module
# holds it: SoftHSM answers CKR_GENERAL_ERROR for that card until it is
# initialised again), the revocation stands, its removal is pending, and
# once the directory is back a later revocation still takes its certificate
# off that same card; a rescan then takes the pending one.  The walker gets
# the PIN from [Tokens] PINFile= (CRLF line end): the private key goes with
# the certificate; an empty PIN file is logged with its reason.  A reload
# whose Modules= no longer lists SoftHSM finalizes it.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl setpriv strace
cr_need_python

cr_world_init
cr_pam_init

ADMIN=1001

# ---- local helpers

# card_certs LABEL: the labels of the certificate objects on a card.
card_certs() {
        cr_pkcs11_tool --token-label "$1" --list-objects --type cert 2>/dev/null |
                sed -n 's/^[[:space:]]*label:[[:space:]]*//p' | sort | paste -sd'|'
}

# wait_removal LOGIN STATE: waits up to 20 s for LOGIN's CertificateRemoval.
wait_removal() {
        local i
        for ((i = 0; i < 200; i++)); do
                [[ $(cr_user_prop "$1" CertificateRemoval) == "s \"$2\"" ]] && return 0
                sleep 0.1
        done
        cr_fail_at "$1's certificate removal did not become $2" "$(tail -n 20 "$CR_TMP/daemon.log")"
}

# wait_history LOGIN TEXT: waits up to 20 s for TEXT in LOGIN's history.
wait_history() {
        local i
        for ((i = 0; i < 200; i++)); do
                [[ $(cr_history "$1") == *"$2"* ]] && return 0
                sleep 0.1
        done
        cr_fail_at "'$2' did not appear in the history of $1" "$(cr_history "$1")"
}

# revoke LOGIN: revokes LOGIN's certificate as the admin.
revoke() {
        assert_exit 0 cr_revoke_as $ADMIN "$1" "$(cr_cert_serial "$CR_CERTS/$1.pem")" keyCompromise boss-confirm
        assert_contains "$CR_LAST_OUTPUT" '"revoked"' "$1 is revoked"
}

cr_card anna "Anna Example"
cr_token_put_key card-anna-01 "$CR_CERTS/anna.key" 01 "anna key"
cr_card bert "Bert Example"
cr_card cara "Cara Example"
cr_card emil "Emil Example"
# dora's certificate shares cara's card: it is taken off the card that failed
cr_cert_issue "$CR_CA" dora "Dora Example" "$CR_PAST" "$CR_LATER" "$CR_CERTS/dora.pem"
cr_token_put_cert card-cara-01 "$CR_CERTS/dora.pem" 02 "dora certificate"
cr_pam_password boss boss-confirm
cr_write_config "$CR_TMP/certrevoke.conf"
printf '%s\r\n' "$CR_TOKEN_PIN" >"$CR_TMP/tokens.pin"
chmod 0600 "$CR_TMP/tokens.pin"
echo "PINFile=$CR_TMP/tokens.pin" >>"$CR_TMP/certrevoke.conf"

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN
cr_ctl add-user anna "Anna Example" general 1002
cr_ctl add-user bert "Bert Example" general 1003
cr_ctl add-user cara "Cara Example" general 1004
cr_ctl add-user dora "Dora Example" general 1005
cr_ctl add-user emil "Emil Example" general 1006
assert_exit 0 cr_ctl rescan
assert_eq "5 certificates seen" "$CR_LAST_OUTPUT"
cr_wait_first_crl

# ---- two revocations, two builds, one initialisation
# Every thread of the daemon (its worker pool is there from the start), but
# not its children: a sanitized PAM helper must not run under ptrace.
attach=()
for t in /proc/"$CR_DAEMON_PID"/task/*; do
        attach+=(-p "${t##*/}")
done
strace -qq -e trace=openat -o "$CR_TMP/strace.log" "${attach[@]}" 2>"$CR_TMP/strace.err" &
strace_pid=$!
cr_track "$strace_pid"
for ((i = 0; i < 100; i++)); do
        [[ $(awk '/^TracerPid:/ { print $2 }' "/proc/$CR_DAEMON_PID/status") != 0 ]] && break
        sleep 0.1
done
[[ $i -lt 100 ]] || cr_fail_at "strace did not attach" "$(cat "$CR_TMP/strace.err")"

number_before=$(cr_crl_number)
revoke anna
wait_removal anna removed
assert_eq "" "$(card_certs card-anna-01)" "anna's certificate left her card"
assert_not_contains "$(cr_pkcs11_tool --token-label card-anna-01 --login --pin "$CR_TOKEN_PIN" --list-objects \
        --type privkey 2>/dev/null)" "anna key" "her private key went with it (the PIN file was read)"
number_middle=$(cr_crl_number)

revoke bert
wait_removal bert removed
assert_eq "" "$(card_certs card-bert-01)" "bert's certificate left his card"
number_after=$(cr_crl_number)
((number_before < number_middle && number_middle < number_after)) ||
        cr_fail_at "the two revocations were not published in two builds" \
                "  CRL numbers: $number_before, $number_middle, $number_after"

kill -INT "$strace_pid"
wait "$strace_pid" || true
cr_untrack "$strace_pid"
opens=$(grep -cF "\"$SOFTHSM2_CONF\", O_RDONLY" "$CR_TMP/strace.log" || true)
assert_eq 1 "$opens" "SoftHSM was initialised once for two builds (openat of its configuration)" || {
        grep -F "$SOFTHSM2_CONF" "$CR_TMP/strace.log" >&2
        exit 1
}

# ---- the module fails: a card's directory goes away while it is loaded
card_dir=$(cr_token_dir card-cara-01)
mv -- "$card_dir" "$CR_TMP/card-cara-01.away"
printf '\nsecond line\n' >"$CR_TMP/tokens.pin"
revoke cara
wait_history cara "certrevoked token-removal cara pending"
assert_eq 's "pending"' "$(cr_user_prop cara CertificateRemoval)" "the removal waits for the card"
assert_contains "$(cat "$CR_TMP/daemon.log")" "module $CR_SOFTHSM_MODULE failed; loading it again" \
        "the daemon says it lets the failed module go"
assert_contains "$(cat "$CR_TMP/daemon.log")" "tokens: [Tokens] PINFile=: the first line of $CR_TMP/tokens.pin is empty" \
        "an empty PIN file is logged with its reason"
assert_not_contains "$(cat "$CR_TMP/daemon.log")" "second line" "nothing of the file's content is logged"

# ---- the card is back: the next revocation's removal works on it
mv -- "$CR_TMP/card-cara-01.away" "$card_dir"
revoke dora
wait_removal dora removed
assert_eq "cara certificate" "$(card_certs card-cara-01)" "dora's certificate left the card that failed"
assert_eq 's "pending"' "$(cr_user_prop cara CertificateRemoval)" "cara's still waits for a rescan"

assert_exit 0 cr_ctl rescan
wait_removal cara removed
assert_eq "" "$(card_certs card-cara-01)" "the rescan took cara's certificate off"

# ---- a reload without SoftHSM in Modules=: the walker lets it go
sed -i "s|^Modules=.*|Modules=$CR_TMP/no-such-module.so|" "$CR_TMP/certrevoke.conf"
kill -HUP "$CR_DAEMON_PID"
for ((i = 0; i < 100; i++)); do
        grep -qF "config: reloaded" "$CR_TMP/daemon.log" && break
        sleep 0.1
done
assert_contains "$(cat "$CR_TMP/daemon.log")" "config: reloaded"
revoke emil
wait_history emil "certrevoked token-removal emil pending"
assert_contains "$(cat "$CR_TMP/daemon.log")" "tokens: module $CR_SOFTHSM_MODULE is no longer configured; finalized"
assert_eq "emil certificate" "$(card_certs card-emil-01)" "no module configured holds emil's card"

cr_stop_daemon
echo "revoke token modules OK"
