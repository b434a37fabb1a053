#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# The publisher keeps the CRL's entries between builds and adds only what
# changed.  After every step of a random run of revocations (one at a time
# and in batches), suspensions (certificate on hold), resumptions and
# restarts (after which the entries are read whole from the store again),
# the published CRL lists exactly the serials that are revoked or on hold:
# none missing, none left over, none twice, and its number has grown.  The
# trust module, which follows the same changes in revoked.idx without
# reading the whole list, shows exactly those certificates as revoked
# (pkcs11-tool through the module, as any PKCS#11 consumer sees them).
set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util openssl setpriv pkcs11-tool
so=$CR_BUILD/certrevoke-pkcs11.so
[[ -f $so ]] || cr_skip "$so not built"

ADMIN=1001
N=40
STEPS=${CR_INCREMENTAL_STEPS:-80}
SEED=${CR_INCREMENTAL_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$SEED

cr_world_init
consumer_env=(CERTREVOKE_PUBLISH_DIR="$CR_PUB")
if [[ $CR_ASAN == 1 ]]; then
        consumer_env+=(LD_PRELOAD="$(${CC:-cc} -print-file-name=libasan.so)"
                ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:verify_asan_link_order=0)
fi
cr_pam_init
cr_pam_password boss boss-confirm
cr_add_passwd cr-boss $ADMIN
cr_log "seed $SEED (CR_INCREMENTAL_SEED=$SEED repeats this run)"

declare -A serial=() revoked=() held=()
logins=()
for ((i = 1; i <= N; i++)); do
        login=$(printf 'inc%02d' "$i")
        logins+=("$login")
        CR_KEY_TYPE=ec cr_cert_issue "$CR_CA" "$login" "User $i" "$CR_PAST" "$CR_LATER" "$CR_CERTS/$login.pem"
        serial[$login]=$(cr_cert_serial "$CR_CERTS/$login.pem")
done

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN >/dev/null
for ((i = 1; i <= N; i++)); do
        cr_ctl add-user "${logins[i - 1]}" "User $i" general $((2000 + i)) >/dev/null
        cr_ctl import-cert "${logins[i - 1]}" "$CR_CERTS/${logins[i - 1]}.pem" >/dev/null
done
cr_wait_first_crl

# The serials a CRL file lists, one a line, sorted, without leading zeros.
crl_serials() {
        openssl crl -inform DER -in "$1" -noout -text |
                sed -n 's/^ *Serial Number: *//p' | sed 's/^0*\([0-9A-F]\)/\1/' | sort
}

# The serials the trust module shows as revoked, in the same form.
module_serials() {
        env "${consumer_env[@]}" pkcs11-tool --module "$so" -O 2>/dev/null |
                awk '/^Certificate Object/ { revoked = 0 } /label: .* revoked / { revoked = 1 }
                     revoked && /serial:/ { print $2 }' | tr 'a-f' 'A-F' | sed 's/^0*\([0-9A-F]\)/\1/' | sort
}

expected_serials() {
        local login
        for login in "${logins[@]}"; do
                [[ -n ${revoked[$login]:-} || -n ${held[$login]:-} ]] || continue
                echo "${serial[$login]}"
        done | sed 's/^0*\([0-9A-F]\)/\1/' | sort
}

last_number=$(cr_crl_number)
check() {
        local what=$1 want got number
        cp "$CR_PUB/crl.der" "$CR_TMP/check.der"
        want=$(expected_serials)
        got=$(crl_serials "$CR_TMP/check.der")
        [[ $got == "$want" ]] ||
                cr_fail_at "after $what (seed $SEED): the CRL lists other serials than are revoked or on hold" \
                        "$(diff <(echo "$want") <(echo "$got") || true)"
        got=$(module_serials)
        [[ $got == "$want" ]] ||
                cr_fail_at "after $what (seed $SEED): the trust module shows other certificates revoked than the CRL lists" \
                        "$(diff <(echo "$want") <(echo "$got") || true)"
        number=$(cr_crl_number)
        ((number >= last_number)) || cr_fail_at "after $what: CRLNumber went from $last_number to $number"
        last_number=$number
}

call() {
        cr_as $ADMIN busctl --address="$CR_BUS_ADDRESS" call org.certrevoke1 /org/certrevoke1 \
                org.certrevoke1.Manager "$@"
}

# shellcheck disable=SC2034 # picked names the caller's variable
pick() {        # pick NAMEREF FILTER: a random login for which FILTER LOGIN succeeds, or none
        local -n picked=$1
        local candidates=() l
        for l in "${logins[@]}"; do
                "$2" "$l" && candidates+=("$l")
        done
        picked=
        if ((${#candidates[@]})); then
                picked=${candidates[RANDOM % ${#candidates[@]}]}
        fi
        return 0
}
is_active() { [[ -z ${revoked[$1]:-} ]]; }
is_free() { [[ -z ${revoked[$1]:-} && -z ${held[$1]:-} ]]; }
is_held() { [[ -n ${held[$1]:-} ]]; }

ops=0 restarts=0 revocations=0 holds=0
for ((step = 1; step <= STEPS; step++)); do
        op=$((RANDOM % 10))
        login=
        if ((op < 4)); then
                pick login is_active
                [[ -n $login ]] || continue
                assert_exit 0 call RevokeCertificate ssss "$login" "" keyCompromise boss-confirm
                revoked[$login]=1
                unset "held[$login]"
                what="revoking $login"
                revocations=$((revocations + 1))
        elif ((op == 4)); then
                targets=()
                for _ in 1 2 3; do
                        pick login is_active
                        [[ -n $login && " ${targets[*]} " != *" $login "* ]] && targets+=("$login")
                done
                ((${#targets[@]})) || continue
                args=()
                for login in "${targets[@]}"; do
                        args+=("$login" "")
                        revoked[$login]=1
                        unset "held[$login]"
                done
                assert_exit 0 call RevokeCertificates "a(ss)ss" "${#targets[@]}" "${args[@]}" superseded boss-confirm
                what="revoking ${targets[*]} at once"
                revocations=$((revocations + ${#targets[@]}))
        elif ((op < 7)); then
                pick login is_free
                [[ -n $login ]] || continue
                assert_exit 0 call SuspendUser ss "$login" boss-confirm
                held[$login]=1
                what="suspending $login"
                holds=$((holds + 1))
        elif ((op < 9)); then
                pick login is_held
                [[ -n $login ]] || continue
                assert_exit 0 call ResumeUser ss "$login" boss-confirm
                unset "held[$login]"
                what="resuming $login"
        else
                cr_stop_daemon
                cr_start_daemon
                what="a restart"
                restarts=$((restarts + 1))
        fi
        ops=$((ops + 1))
        check "$what"
done

# a revocation after a restart: built from the store again, then kept
cr_stop_daemon
cr_start_daemon
pick login is_active
if [[ -n $login ]]; then
        assert_exit 0 call RevokeCertificate ssss "$login" "" keyCompromise boss-confirm
        revoked[$login]=1
        unset "held[$login]"
        check "revoking $login after the last restart"
fi
assert_exit 0 openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -verify -CAfile "$CR_CA/ca.pem"
cr_log "$ops steps: $revocations revocations, $holds suspensions, $restarts restarts"
((revocations > 0 && holds > 0 && restarts > 0)) || cr_die "the run did not mix its steps (seed $SEED)"
cr_stop_daemon
echo "crl-incremental OK"
