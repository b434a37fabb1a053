#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# The publisher keeps the CRL's entries between builds and adds or drops
# only what changed; after a start it reads them whole from the store.  A
# random run of revocations (one at a time and in batches), suspensions
# (certificate on hold), resumptions, expiries and restarts must leave the
# incrementally built CRL listing exactly what a build from scratch lists.
#
# After every step the published CRL is held against a model of what must
# be on it (RFC 5280 3.3 as the daemon implements it):
#   - a revoked certificate is listed while it is valid (notAfter at or
#     after the CRL's thisUpdate); once expired it may still be listed until
#     a CRL issued after its notAfter listed it, and from the next CRL on it
#     never is again;
#   - a certificate on hold is listed while its user is suspended and it has
#     not expired when the build reads the holds (a moment after the CRL's
#     thisUpdate: within SLACK seconds either is right);
#   - nothing else is listed, nothing twice, and the number has grown after
#     every step that asked for a build.
# The trust module, which follows the same changes in revoked.idx, shows
# exactly the CRL's serials as revoked (pkcs11-tool through the module, as
# any PKCS#11 consumer sees them).  It is asked after every step as well: it
# takes each build's changes one by one, and a wrong one could be undone by
# a later build before a sparser check saw it.
#
# Every CHECKPOINT steps and at the end the daemon is restarted and a
# revocation triggers the first build after the start, the one that reads
# every entry from the store: its CRL must list what the last incremental
# CRL listed, plus the new revocation, minus the entries that CRL listed
# after their expiry and the holds that expired since.
#
# Certificates are issued as the run goes, some with a life of seconds, so
# that revoked and held ones expire under way whatever the machine's pace.
# CR_INCREMENTAL_STEPS sets the number of steps, CR_INCREMENTAL_SEED repeats
# the random choices of a run (when certificates expire depends on the
# clock, so a slower or faster run may take other turns after a while).
set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util openssl setpriv pkcs11-tool
so=$CR_BUILD/certrevoke-pkcs11.so
[[ -f $so ]] || cr_skip "$so not built"

ADMIN=1001
STEPS=${CR_INCREMENTAL_STEPS:-1000}
CHECKPOINT=250  # a build from scratch is compared every so many steps
POOL=24         # users whose certificate can still be revoked, topped up before each step
SHORT_LIFE=(10 50) # a short-lived certificate expires 10 to 59 s after it is issued
MARGIN=5        # a certificate this close to its notAfter is not revoked: it could expire before the daemon checks
SLACK=2         # see the top: how late after thisUpdate the build may read the holds
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
cr_log "seed $SEED (CR_INCREMENTAL_SEED=$SEED repeats this run's choices)"

# What the test knows of every user it made, by login: the certificate's
# serial (upper-case hex without leading zeros) and notAfter (seconds since
# the epoch); and the login of each serial.
declare -A serial=() not_after=() short=() owner=()
# What was done to them: revoked, on hold (suspended and not revoked), on
# hold to stay so until the certificate expired.
declare -A revoked=() held=() kept=()
# What was seen on the CRLs: the number of the first CRL seen listing a
# revoked certificate after its notAfter; a revoked entry seen gone after
# its expiry; a hold seen listed.
declare -A listed_expired=() left=() hold_listed=()
logins=() live=() # every login made; those not revoked

# One key and request for every certificate: issuing is then one openssl
# call (nothing here looks at the keys).
CR_KEY_TYPE=ec cr_genkey "$CR_CERTS/user.key"
openssl req -config "$CR_CA/openssl.cnf" -new -key "$CR_CERTS/user.key" -subj "/CN=unused" \
        -out "$CR_CERTS/user.csr" 2>/dev/null
year=$((365 * 86400))

# strip_zeros HEX: HEX upper-case, without leading zeros.
strip_zeros() {
        local s=${1^^}
        while [[ $s == 0?* ]]; do
                s=${s#0}
        done
        echo "$s"
}

# new_user: a user with a certificate valid from yesterday; two in five
# expire within a minute, the others in a year.
new_user() {
        local i=$((${#logins[@]} + 1)) login na s
        login=$(printf 'inc%03d' "$i")
        if ((RANDOM % 5 < 2)); then
                na=$((EPOCHSECONDS + SHORT_LIFE[0] + RANDOM % SHORT_LIFE[1]))
                short[$login]=1
        else
                na=$((EPOCHSECONDS + year))
        fi
        s=$(strip_zeros "$(<"$CR_CA/serial")")
        openssl ca -config "$CR_CA/openssl.cnf" -batch -utf8 -notext -subj "/O=Demo Org/UID=$login/CN=User $i" \
                -startdate "$CR_PAST" -enddate "$(cr_date_utc "@$na")" \
                -in "$CR_CERTS/user.csr" -out "$CR_CERTS/$login.pem" 2>"$CR_TMP/issue.err" || {
                cat "$CR_TMP/issue.err" >&2
                cr_die "cannot issue a certificate for $login"
        }
        cr_ctl add-user "$login" "User $i" general $((2000 + i)) >/dev/null
        cr_ctl import-cert "$login" "$CR_CERTS/$login.pem" >/dev/null
        logins+=("$login")
        live+=("$login")
        serial[$login]=$s
        not_after[$login]=$na
        owner[$s]=$login
}

is_revocable() { [[ -z ${revoked[$1]:-} && -z ${kept[$1]:-} ]] && ((not_after[$1] > EPOCHSECONDS + MARGIN)); }
is_free() { [[ -z ${revoked[$1]:-} && -z ${held[$1]:-} ]]; }
is_free_valid() { is_free "$1" && ((not_after[$1] > EPOCHSECONDS + MARGIN)); }
is_resumable() { [[ -n ${held[$1]:-} ]] && { [[ -z ${kept[$1]:-} ]] || ((not_after[$1] < EPOCHSECONDS)); }; }
is_short() { [[ -n ${short[$1]:-} ]]; }

# shellcheck disable=SC2034 # picked names the caller's variable
pick() { # pick NAMEREF FILTER…: a random live login for which every FILTER succeeds, or none
        local -n picked=$1
        local candidates=() l f
        shift
        for l in "${live[@]}"; do
                for f in "$@"; do
                        "$f" "$l" || continue 2
                done
                candidates+=("$l")
        done
        picked=
        if ((${#candidates[@]})); then
                picked=${candidates[RANDOM % ${#candidates[@]}]}
        fi
        return 0
}

# pick_soon NAMEREF FILTER: half of the time one whose certificate is
# short-lived, if there is one, so that many expire revoked or on hold.
pick_soon() {
        local -n soon=$1
        soon=
        ((RANDOM % 2)) && pick "$1" "$2" is_short
        [[ -n $soon ]] || pick "$1" "$2"
}

top_up() {
        local l n=0
        for l in "${live[@]}"; do
                is_revocable "$l" && n=$((n + 1))
        done
        for (( ; n < POOL; n++)); do
                new_user
        done
}

set_revoked() {
        local l keep=()
        revoked[$1]=1
        unset "held[$1]" "hold_listed[$1]"
        for l in "${live[@]}"; do
                [[ $l == "$1" ]] || keep+=("$l")
        done
        live=("${keep[@]}")
}

# read_crl FILE: its number, thisUpdate (seconds since the epoch) and
# serials (sorted, one a line) in crl_number, crl_this and crl_serials.
read_crl() {
        local text line
        text=$(openssl crl -inform DER -in "$1" -noout -text |
                awk '/^ *Last Update:/ { sub(/^ *Last Update: */, ""); print "T " $0 }
                     /^ *X509v3 CRL Number:/ { getline; gsub(/ /, ""); print "N " $0 }
                     /^ *Serial Number:/ { sub(/^ *Serial Number: */, ""); sub(/^0+/, ""); print "S " $0 }' |
                sort) || cr_fail_at "cannot read $1" || return 1
        crl_number='' crl_this='' crl_serials=''
        while IFS= read -r line; do
                case $line in
                N\ *) crl_number=${line#N } ;;
                T\ *) crl_this=$(date -u -d "${line#T }" +%s) ;;
                S\ *) crl_serials+=${line#S }$'\n' ;;
                esac
        done <<<"$text"
        crl_serials=${crl_serials%$'\n'}
        [[ $crl_number =~ ^[0-9]+$ && $crl_this =~ ^[0-9]+$ ]] ||
                cr_fail_at "no number or thisUpdate in $1" "$text"
}

# The serials the trust module shows as revoked, in the same form.
module_serials() {
        env "${consumer_env[@]}" pkcs11-tool --module "$so" -O 2>/dev/null |
                awk '/^Certificate Object/ { revoked = 0 } /label: .* revoked / { revoked = 1 }
                     revoked && /serial:/ { s = toupper($2); sub(/^0+/, "", s); print s }' | sort
}

stamp() { date -u -d "@$1" +%H:%M:%S; }
lines() { [[ -z $1 ]] || printf '%s\n' "$1"; }

# judge WHAT: the CRL just read against the model (see the top); fails
# naming every difference.
judge() {
        local what=$1 s login na n=$crl_number t=$crl_this bad=()
        local -A on=()
        for s in $crl_serials; do
                [[ -z ${on[$s]:-} ]] || bad+=("  serial $s is listed twice")
                on[$s]=1
                login=${owner[$s]:-}
                if [[ -z $login ]]; then
                        bad+=("  serial $s is listed, but was never issued here")
                elif [[ -z ${revoked[$login]:-} && -z ${held[$login]:-} ]]; then
                        bad+=("  $login (serial $s) is listed, but is neither revoked nor on hold")
                fi
        done
        for login in "${!revoked[@]}"; do
                s=${serial[$login]} na=${not_after[$login]}
                if [[ -n ${on[$s]:-} ]]; then
                        if [[ -n ${left[$login]:-} ]]; then
                                bad+=("  $login (serial $s, notAfter $(stamp "$na")) is listed again; CRL ${left[$login]} no longer listed it")
                        elif [[ -n ${listed_expired[$login]:-} ]] && ((n > listed_expired[$login])); then
                                bad+=("  $login (serial $s, notAfter $(stamp "$na")) is still listed, though CRL ${listed_expired[$login]} listed it after its expiry")
                        elif ((na < t)) && [[ -z ${listed_expired[$login]:-} ]]; then
                                listed_expired[$login]=$n
                        fi
                elif ((na >= t)); then
                        bad+=("  $login (serial $s) is revoked and valid until $(stamp "$na"), but not listed")
                elif [[ -z ${left[$login]:-} ]]; then
                        left[$login]=$n
                fi
        done
        for login in "${!held[@]}"; do
                s=${serial[$login]} na=${not_after[$login]}
                if [[ -n ${on[$s]:-} ]]; then
                        ((na >= t)) ||
                                bad+=("  $login (serial $s) is on hold, but its certificate expired at $(stamp "$na"), before thisUpdate")
                        hold_listed[$login]=1
                elif ((na > t + SLACK)); then
                        bad+=("  $login (serial $s) is on hold and valid until $(stamp "$na"), but not listed")
                elif [[ -n ${hold_listed[$login]:-} ]]; then
                        holds_expired=$((holds_expired + 1))
                        unset "hold_listed[$login]"
                fi
        done
        ((${#bad[@]} == 0)) ||
                cr_fail_at "after $what (step $step, seed $SEED): CRL $n (thisUpdate $(stamp "$t")) is wrong:" "${bad[@]}"
}

last_number=0
# check WHAT GROWN: the published CRL against the model, its number against
# the last one seen (GROWN=1: a build was asked for, so it must be higher),
# and the trust module's view against the CRL.
check() {
        local what=$1 grown=$2 got
        read_crl "$CR_PUB/crl.der"
        if ((grown)); then
                ((crl_number > last_number)) ||
                        cr_fail_at "after $what (step $step): CRL number $crl_number, not above $last_number"
        else
                ((crl_number >= last_number)) ||
                        cr_fail_at "after $what (step $step): CRL number went from $last_number to $crl_number"
        fi
        last_number=$crl_number
        judge "$what"
        got=$(module_serials)
        [[ $got == "$crl_serials" ]] ||
                cr_fail_at "after $what (step $step, seed $SEED): the trust module shows other certificates revoked than CRL $crl_number lists" \
                        "  (< on the CRL only, > in the trust module only)" \
                        "$(diff <(lines "$crl_serials") <(lines "$got") | grep '^[<>]' || true)"
}

call() {
        cr_as $ADMIN busctl --address="$CR_BUS_ADDRESS" call org.certrevoke1 /org/certrevoke1 \
                org.certrevoke1.Manager "$@"
}

revoke_one() {
        assert_exit 0 call RevokeCertificate ssss "$1" "" keyCompromise boss-confirm
        set_revoked "$1"
        revocations=$((revocations + 1))
}

# from_scratch WHEN: the daemon restarted, and the first build after the
# start (which reads every entry from the store) compared with the last
# incremental CRL.
from_scratch() {
        local when=$1 before t0 login s na l bad=()
        local -A want=() maybe=() seen=()
        read_crl "$CR_PUB/crl.der"
        before=$crl_serials t0=$crl_this
        cr_stop_daemon
        cr_start_daemon
        restarts=$((restarts + 1))
        top_up
        pick login is_revocable
        [[ -n $login ]] || cr_die "no certificate left to revoke (seed $SEED)"
        revoke_one "$login"
        read_crl "$CR_PUB/crl.der"
        for s in $before; do
                l=${owner[$s]:-} na=${not_after[${owner[$s]:-}]:-0}
                if [[ -n ${revoked[$l]:-} ]]; then
                        # listed after its expiry by the CRL before: gone
                        ((na < t0)) || want[$s]=1
                elif ((na > crl_this + SLACK)); then
                        want[$s]=1
                elif ((na >= crl_this)); then
                        maybe[$s]=1
                fi
        done
        want[${serial[$login]}]=1
        for s in $crl_serials; do
                seen[$s]=1
                [[ -n ${want[$s]:-} || -n ${maybe[$s]:-} ]] ||
                        bad+=("  $s (${owner[$s]:-not issued here}) is listed, but was not on the last incremental CRL")
        done
        for s in "${!want[@]}"; do
                [[ -n ${seen[$s]:-} ]] ||
                        bad+=("  $s (${owner[$s]}) is not listed, but was on the last incremental CRL or just revoked")
        done
        ((${#bad[@]} == 0)) ||
                cr_fail_at "$when (seed $SEED): the build from scratch (CRL $crl_number) lists other serials than the incremental one before the restart, with $login revoked:" \
                        "${bad[@]}"
        check "revoking $login, the first build after a restart ($when)" 1
        assert_eq "t $crl_number" "$(cr_busctl get-property org.certrevoke1 /org/certrevoke1 \
                org.certrevoke1.Manager CRLNumber)" "the daemon's CRLNumber after $when"
        assert_exit 0 openssl crl -inform DER -in "$CR_PUB/crl.der" -noout -verify -CAfile "$CR_CA/ca.pem"
        from_scratch_checks=$((from_scratch_checks + 1))
}

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss Admin" admin $ADMIN >/dev/null
top_up
cr_wait_first_crl

t_start=$EPOCHSECONDS
revocations=0 holds=0 resumptions=0 restarts=0 holds_expired=0 from_scratch_checks=0
step=0
check "the start" 0
for ((step = 1; step <= STEPS; step++)); do
        top_up
        # one of each step's kind, drawn again when none can be done
        while :; do
                op=$((RANDOM % 100)) login='' grown=1
                if ((op < 30)); then
                        pick_soon login is_revocable
                        [[ -n $login ]] || continue
                        revoke_one "$login"
                        what="revoking $login"
                elif ((op < 38)); then
                        targets=()
                        for ((k = RANDOM % 3 + 2; k > 0; k--)); do
                                pick login is_revocable
                                [[ -n $login && " ${targets[*]} " != *" $login "* ]] && targets+=("$login")
                        done
                        ((${#targets[@]})) || continue
                        args=()
                        for login in "${targets[@]}"; do
                                args+=("$login" "")
                        done
                        assert_exit 0 call RevokeCertificates "a(ss)ss" "${#targets[@]}" "${args[@]}" superseded boss-confirm
                        for login in "${targets[@]}"; do
                                set_revoked "$login"
                        done
                        revocations=$((revocations + ${#targets[@]}))
                        what="revoking ${targets[*]} at once"
                elif ((op < 68)); then
                        # now and then one already expired: its hold is never listed
                        if ((RANDOM % 4)); then
                                pick_soon login is_free_valid
                        else
                                pick login is_free
                        fi
                        [[ -n $login ]] || continue
                        assert_exit 0 call SuspendUser ss "$login" boss-confirm
                        held[$login]=1
                        # half the short-lived ones stay on hold until they expired
                        if [[ -n ${short[$login]:-} ]] && ((RANDOM % 2)); then
                                kept[$login]=1
                        fi
                        holds=$((holds + 1))
                        what="suspending $login"
                elif ((op < 98)); then
                        pick login is_resumable
                        [[ -n $login ]] || continue
                        assert_exit 0 call ResumeUser ss "$login" boss-confirm
                        unset "held[$login]" "hold_listed[$login]" "kept[$login]"
                        resumptions=$((resumptions + 1))
                        what="resuming $login"
                else
                        cr_stop_daemon
                        cr_start_daemon
                        restarts=$((restarts + 1))
                        what="a restart" grown=0
                fi
                break
        done
        check "$what" "$grown"
        if ((step % CHECKPOINT == 0 && step < STEPS)); then
                from_scratch "at step $step"
        fi
done
step=$STEPS
from_scratch "at the end"

cr_log "$STEPS steps in $((EPOCHSECONDS - t_start)) s: $revocations revocations, $holds suspensions," \
        "$resumptions resumptions, $restarts restarts ($from_scratch_checks compared with a build from scratch);" \
        "expired: ${#left[@]} revoked entries left the CRL, $holds_expired holds; ${#logins[@]} users"
((revocations > 0 && holds > 0 && resumptions > 0 && restarts > 0)) ||
        cr_die "the run did not mix its steps (seed $SEED)"
if ((STEPS >= 500)); then
        ((${#left[@]} >= 3 && holds_expired >= 3)) ||
                cr_die "too few certificates expired revoked or on hold during the run (seed $SEED)"
fi
cr_stop_daemon
echo "crl-incremental OK"
