#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# The CRL over time, with no revocation to prompt it: re-signed by the
# daemon's timer before nextUpdate, and an entry leaves only after it was on
# a CRL issued after its certificate expired (RFC 5280 3.3).  Validity=8s
# makes the timer re-sign every 6 s.
set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd openssl softhsm2-util busctl
cr_setup_tmp
cr_start_bus
cr_softhsm_init
cr_ca_create "$CR_TMP/ca" >/dev/null
cr_add_passwd cr-boss 1001
cr_pam_init
cr_pam_password boss boss-confirm-secret

# a certificate that expires 12 s from now, on a card
cr_cert_issue "$CR_TMP/ca" shorty "Shorty" "$(cr_date_utc '-1 hour')" "$(cr_date_utc '+12 seconds')" \
        "$CR_TMP/shorty.pem" >/dev/null
expiry=$(date -d "$(openssl x509 -in "$CR_TMP/shorty.pem" -noout -enddate | cut -d= -f2)" +%s)
serial=$(cr_cert_serial "$CR_TMP/shorty.pem")
cr_token_create card-shorty-01 >/dev/null
cr_token_put_cert card-shorty-01 "$CR_TMP/shorty.pem" 01 shorty >/dev/null

cr_write_config "$CR_TMP/certrevoke.conf"
sed -i 's/^Validity=.*/Validity=8s/' "$CR_TMP/certrevoke.conf"
cr_start_daemon
cr_ctl add-user boss Boss admin 1001 >/dev/null
cr_ctl add-user shorty Shorty general 1002 >/dev/null
cr_ctl rescan >/dev/null

assert_exit 0 cr_as 1001 busctl --address="$CR_BUS_ADDRESS" call org.certrevoke1 /org/certrevoke1 \
        org.certrevoke1.Manager RevokeCertificate ssss shorty "" keyCompromise boss-confirm-secret
first=$(cr_crl_number)

# Follow every CRL the timer publishes: its number, thisUpdate, and whether it
# lists shorty's serial, until two have been issued after the expiry.
declare -A seen=()
after_expiry=()
for ((i = 0; i < 120 && ${#after_expiry[@]} < 2; i++)); do
        sleep 0.25
        cp "$CR_TMP/public/crl.der" "$CR_TMP/snap.der" 2>/dev/null || continue
        text=$(openssl crl -inform DER -in "$CR_TMP/snap.der" -noout -text) || cr_die "a published CRL does not parse"
        number=$(sed -n '/X509v3 CRL Number:/{n;s/ //g;p}' <<<"$text")
        [[ -n ${seen[$number]:-} ]] && continue
        openssl crl -inform DER -in "$CR_TMP/snap.der" -noout -verify -CAfile "$CR_TMP/ca/ca.pem" 2>&1 |
                grep -q "verify OK" || cr_die "CRL $number does not verify"
        this=$(date -d "$(sed -n 's/^ *Last Update: //p' <<<"$text")" +%s)
        lists=no
        grep -q "Serial Number: $serial" <<<"$text" && lists=yes
        seen[$number]=$lists
        cr_log "CRL $number: thisUpdate $((this - expiry)) s after the expiry, lists shorty: $lists"
        ((this > expiry)) && after_expiry+=("$number:$lists")
done

((${#seen[@]} >= 3)) || cr_die "the timer re-signed too few CRLs: ${!seen[*]}"
(($(cr_crl_number) > first)) || cr_die "CRLNumber did not grow without revocations"
((${#after_expiry[@]} == 2)) || cr_die "fewer than two CRLs after the expiry: ${after_expiry[*]}"
assert_eq yes "${after_expiry[0]#*:}" "the first CRL issued after the expiry still lists the entry"
assert_eq no "${after_expiry[1]#*:}" "the next one leaves it out"
# every CRL before the expiry listed it
for n in "${!seen[@]}"; do
        ((n >= first)) || continue
        [[ " ${after_expiry[*]} " == *" $n:"* ]] && continue
        assert_eq yes "${seen[$n]}" "CRL $n, issued before the expiry, lists the entry"
done
cr_stop_daemon
echo "crl-lifetime OK"
