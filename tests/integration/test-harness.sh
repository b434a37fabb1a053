#!/bin/bash
# Smoke test of tests/lib.sh itself; needs no part of certrevoke but the bus
# policy and the CRL watcher (make unit-tests): the private bus starts
# cleanly with the policy, nss_wrapper users connect, the policy lets the
# right calls through, SoftHSM tokens take and list certificates, the demo
# CA issues certificates that verify, teardown leaves no process and no file
# behind, and a crl.der whose number goes back fails the test at teardown.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_cmd dbus-daemon busctl softhsm2-util pkcs11-tool openssl setpriv
cr_need_python
hold_name=$CR_SRCDIR/tests/data/hold-name.py

cr_setup_tmp

# ---- the bus and its policy
cr_start_bus
assert_not_contains "$(cat "$CR_TMP/bus.log")" "Encountered error"
assert_contains "$(cat "$CR_TMP/bus.d/org.certrevoke1.conf")" 'send_destination="org.certrevoke1"'
assert_eq "$CR_BUS_ADDRESS" "$DBUS_SYSTEM_BUS_ADDRESS"

bus_id=$(cr_busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId)
assert_eq "$bus_id" "$(cr_as 1001 busctl --address="$CR_BUS_ADDRESS" call \
        org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId)" \
        "an nss_wrapper user reaches the bus"

# A UID without a passwd entry is dropped by the bus; adding one fixes that.
assert_exit 1 cr_as 4242 busctl --address="$CR_BUS_ADDRESS" call \
        org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
cr_add_passwd late-user 4242
assert_exit 0 cr_as 4242 busctl --address="$CR_BUS_ADDRESS" call \
        org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
assert_contains "$(cat "$CR_TMP/passwd")" "late-user:x:4242:4242:"

# Nobody but root may own the name.
assert_exit 1 cr_as 1001 "$CR_PYTHON" "$hold_name" "$CR_BUS_ADDRESS" org.certrevoke1
assert_eq "error org.freedesktop.DBus.Error.AccessDenied" "$CR_LAST_OUTPUT"
"$CR_PYTHON" "$hold_name" "$CR_BUS_ADDRESS" org.certrevoke1 >"$CR_TMP/hold.out" 2>&1 &
cr_track $!
for _ in {1..50}; do
        [[ -s $CR_TMP/hold.out ]] && break
        sleep 0.1
done
assert_eq "owner" "$(cat "$CR_TMP/hold.out")" "root owns org.certrevoke1"
cr_name_has_owner org.certrevoke1 || cr_fail_at "NameHasOwner(org.certrevoke1) is false"

# Everyone may call the service's interfaces, and nothing else on it.
for iface in org.certrevoke1.Manager org.certrevoke1.User \
        org.freedesktop.DBus.Properties org.freedesktop.DBus.Introspectable \
        org.freedesktop.DBus.ObjectManager org.freedesktop.DBus.Peer; do
        assert_exit 0 cr_as 1001 busctl --address="$CR_BUS_ADDRESS" --timeout=5 \
                call org.certrevoke1 /org/certrevoke1 "$iface" Probe
done
assert_exit 1 cr_as 1001 busctl --address="$CR_BUS_ADDRESS" --timeout=5 \
        call org.certrevoke1 /org/certrevoke1 org.example.Other Probe
assert_contains "$CR_LAST_OUTPUT" "Access denied"
# The default-deny base policy holds for other names, even for root.
assert_exit 1 cr_busctl call org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus RequestName su org.example.Other 0
assert_contains "$CR_LAST_OUTPUT" "Access denied"

# ---- SoftHSM tokens
cr_softhsm_init
cr_token_create card-alpha-01
cr_token_create card-beta-01
assert_exit 1 cr_token_create card-alpha-0
assert_contains "$CR_LAST_OUTPUT" "prefixes of one another"

# ---- the CA and certificates
cr_ca_create "$CR_TMP/ca" "Demo Root CA"
ca=$CR_TMP/ca/ca.pem
assert_contains "$(openssl x509 -in "$ca" -noout -ext basicConstraints)" "critical"
assert_contains "$(openssl x509 -in "$ca" -noout -ext basicConstraints)" "CA:TRUE"
assert_contains "$(openssl x509 -in "$ca" -noout -ext keyUsage)" "Certificate Sign, CRL Sign"
now_minus=$(cr_date_utc '-1 day')
in_a_year=$(cr_date_utc '+1 year')

cr_cert_issue "$CR_TMP/ca" alice 'ゲータ花子' "$now_minus" "$in_a_year" "$CR_TMP/alice.pem"
assert_eq "subject=O=Demo Org, UID=alice, CN=ゲータ花子" \
        "$(openssl x509 -in "$CR_TMP/alice.pem" -noout -subject -nameopt utf8,sep_comma_plus_space)"
assert_eq "CN=ゲータ花子,UID=alice,O=Demo Org" "$(cr_cert_subject "$CR_TMP/alice.pem")"
assert_contains "$(openssl asn1parse -in "$CR_TMP/alice.pem")" "UTF8STRING        :ゲータ花子"
assert_exit 0 openssl verify -CAfile "$ca" "$CR_TMP/alice.pem"
assert_contains "$CR_LAST_OUTPUT" "alice.pem: OK"
[[ -f $CR_TMP/alice.key ]] || cr_fail_at "no key beside alice.pem"

cr_cert_issue "$CR_TMP/ca" bob 'Bob' 20181216095939Z 20191216095939Z "$CR_TMP/bob.pem"
assert_eq "notAfter=Dec 16 09:59:39 2019 GMT" "$(openssl x509 -in "$CR_TMP/bob.pem" -noout -enddate)"
assert_exit 2 openssl verify -CAfile "$ca" "$CR_TMP/bob.pem"
assert_contains "$CR_LAST_OUTPUT" "certificate has expired"

cr_cert_issue_cn_only "$CR_TMP/ca" carol "$now_minus" "$in_a_year" "$CR_TMP/carol.pem"
assert_eq "CN=carol" "$(cr_cert_subject "$CR_TMP/carol.pem")"
assert_exit 0 openssl verify -CAfile "$ca" "$CR_TMP/carol.pem"

# Serial numbers differ and the index knows them all.
s1=$(cr_cert_serial "$CR_TMP/alice.pem") s2=$(cr_cert_serial "$CR_TMP/bob.pem")
[[ $s1 != "$s2" && $s1 =~ ^[0-9A-F]+$ ]] || cr_fail_at "bad serials '$s1' '$s2'"
assert_eq 3 "$(wc -l <"$CR_TMP/ca/index.txt")"

# A certificate of a foreign CA does not verify against ours.
cr_ca_create "$CR_TMP/foreign" "Foreign CA"
cr_cert_issue "$CR_TMP/foreign" mallory 'Mallory' "$now_minus" "$in_a_year" "$CR_TMP/mallory.pem"
assert_exit 0 openssl verify -CAfile "$CR_TMP/foreign/ca.pem" "$CR_TMP/mallory.pem"
assert_exit 2 openssl verify -CAfile "$ca" "$CR_TMP/mallory.pem"

# The CA can sign a CRL with its openssl ca configuration.
openssl ca -config "$CR_TMP/ca/openssl.cnf" -revoke "$CR_TMP/carol.pem" \
        -crl_reason keyCompromise 2>/dev/null
openssl ca -config "$CR_TMP/ca/openssl.cnf" -gencrl -out "$CR_TMP/ca.crl" 2>/dev/null
assert_exit 2 openssl verify -crl_check -CAfile "$ca" -CRLfile "$CR_TMP/ca.crl" "$CR_TMP/carol.pem"
assert_contains "$CR_LAST_OUTPUT" "certificate revoked"
assert_exit 0 openssl verify -crl_check -CAfile "$ca" -CRLfile "$CR_TMP/ca.crl" "$CR_TMP/alice.pem"

# ---- certificates on tokens
cr_token_put_cert card-alpha-01 "$CR_TMP/alice.pem" 01 "alice certificate"
cr_token_put_key card-alpha-01 "$CR_TMP/alice.key" 01 "alice key"
cr_token_put_cert card-alpha-01 "$CR_TMP/bob.pem" 02 "bob certificate"
assert_eq $'alice certificate\nbob certificate' "$(cr_token_list_certs card-alpha-01 | sort)"
assert_eq "" "$(cr_token_list_certs card-beta-01)"
# The certificate on the token is the one issued.
cr_pkcs11_tool --token-label card-alpha-01 --read-object --type cert --id 01 \
        -o "$CR_TMP/alice.der" >/dev/null 2>&1
assert_eq "$(openssl x509 -in "$CR_TMP/alice.pem" -outform DER | sha256sum)" \
        "$(sha256sum <"$CR_TMP/alice.der")"
# The key is private: not listed without logging in, listed with the PIN.
assert_not_contains "$(cr_pkcs11_tool --token-label card-alpha-01 -O 2>&1)" "Private Key Object"
assert_contains "$(cr_pkcs11_tool --token-label card-alpha-01 -O --login --pin 1234 2>&1)" \
        "Private Key Object"

# Pulling a card out removes it from the slot list.
assert_contains "$(cr_pkcs11_tool -L 2>&1)" "card-alpha-01"
cr_token_remove card-alpha-01
assert_not_contains "$(cr_pkcs11_tool -L 2>&1)" "card-alpha-01"
assert_contains "$(cr_pkcs11_tool -L 2>&1)" "card-beta-01"

# ---- the daemon's configuration
cr_write_config "$CR_TMP/certrevoke.conf"
conf=$(cat "$CR_TMP/certrevoke.conf")
for want in "[Service]" "StateDirectory=$CR_TMP/state" "PAMService=certrevoke" \
        "[CA]" "Certificate=$CR_TMP/ca/ca.pem" "Key=$CR_TMP/ca/ca.key" \
        "[CRL]" "PublishDirectory=$CR_TMP/public" "Validity=7d" \
        "[Tokens]" "Modules=/usr/lib/softhsm/libsofthsm2.so"; do
        assert_contains "$conf" "$want"
done
[[ -d $CR_TMP/state && -d $CR_TMP/public ]] || cr_fail_at "state/public directories missing"

# ---- the assertions themselves
assert_exit 1 assert_eq a b
assert_contains "$CR_LAST_OUTPUT" "expected: 'a'"
assert_exit 1 assert_contains "haystack" "needle"
assert_exit 1 assert_not_contains "haystack" "hay"
assert_exit 1 assert_exit 0 false
assert_exit 3 bash -c 'echo out; echo err >&2; exit 3'
assert_eq $'out\nerr' "$CR_LAST_OUTPUT"

# ---- teardown leaves nothing behind, whichever way the script ends
nested() {
        # $1: how the nested script ends.
        bash -c '
                set -euo pipefail
                . "$1/tests/lib.sh"
                cr_setup_tmp
                cr_start_bus
                cr_softhsm_init
                cr_token_create card-nested-01
                sleep 300 &
                cr_track $!
                # A process the harness did not track, named by its temp dir.
                bash -c "exec -a \"sleeper $CR_TMP\" sleep 300" &
                echo "$CR_TMP $CR_BUS_PID $!"
                case $2 in
                ok) exit 0 ;;
                fail) cr_die "failing on purpose" ;;
                term) kill -TERM $$; sleep 5 ;;
                esac
        ' nested "$CR_SRCDIR" "$1" 2>>"$CR_TMP/nested.log"
}
for how in ok fail term; do
        rc=0
        out=$(nested "$how") || rc=$?
        read -r dir bus_pid untracked_pid <<<"$out"
        case $how in
        ok) assert_eq 0 "$rc" "exit status of the nested script ($how)" ;;
        *) [[ $rc != 0 ]] || cr_fail_at "the nested script ($how) exited 0" ;;
        esac
        [[ $dir == "${TMPDIR:-/tmp}"/certrevoke-test.* ]] ||
                cr_fail_at "nested script ($how) printed no temp dir: '$out'"
        [[ ! -e $dir ]] || cr_fail_at "teardown ($how) left $dir"
        assert_eq "" "$(cr_pids_alive "$bus_pid" "$untracked_pid")" \
                "processes left after teardown ($how)"
        pgrep -f -- "$dir" >/dev/null && cr_fail_at "a process still names $dir ($how)"
done

# ---- a CRL number never goes back: the watcher and its check
# CRLs of the demo CA with the numbers asked for; crl-17b is another file
# with crl-17's number (another nextUpdate).
gencrl() {
        printf '%04x\n' "$1" >"$CR_TMP/ca/crlnumber"
        openssl ca -config "$CR_TMP/ca/openssl.cnf" -gencrl -crldays "$2" -out "$CR_TMP/crl.pem" 2>/dev/null
        openssl crl -in "$CR_TMP/crl.pem" -outform DER -out "$CR_TMP/crl-$3.der"
}
gencrl 16 7 16
gencrl 17 7 17
gencrl 17 8 17b
gencrl 18 7 18
cmp -s "$CR_TMP/crl-17.der" "$CR_TMP/crl-17b.der" && cr_fail_at "crl-17 and crl-17b are the same file"
# publish NAME DIR: as the daemon does (renamed into place); put NAME DIR:
# written over crl.der in place, as a careless copy does.
publish() {
        cp "$CR_TMP/crl-$1.der" "$2/.crl.der.new"
        mv -f "$2/.crl.der.new" "$2/crl.der"
}
put() {
        cp "$CR_TMP/crl-$1.der" "$2/crl.der"
}
# seen_after N FILE: waits until FILE (a watcher's record) has N lines,
# then prints their numbers.
seen_after() {
        for _ in {1..100}; do
                (($(wc -l <"$2") >= $1)) && break
                sleep 0.05
        done
        awk '{ print $1 }' "$2" | paste -sd' '
}

# Numbers that grow, the same file seen twice, and a pause over an older
# file that is gone again at the resume: all well.  The directory appears
# after the watch began, as the daemon makes it.
cr_crl_watch "$CR_TMP/pub-good"
ok_seen=$CR_TMP/crl-watch.$(cr_crl_watch_index "$CR_TMP/pub-good").seen
mkdir "$CR_TMP/pub-good"
publish 16 "$CR_TMP/pub-good"
assert_eq "16" "$(seen_after 1 "$ok_seen")" "the watcher finds a directory made after it started"
publish 17 "$CR_TMP/pub-good"
put 17 "$CR_TMP/pub-good"
assert_eq "16 17 17" "$(seen_after 3 "$ok_seen")" "what the watcher saw"
cr_crl_watch_pause "$CR_TMP/pub-good"
put 16 "$CR_TMP/pub-good"
publish 18 "$CR_TMP/pub-good"
cr_crl_watch_resume "$CR_TMP/pub-good"
assert_eq "16 17 17 paused 18" "$(seen_after 5 "$ok_seen")" "what the watcher saw across the pause"
assert_exit 0 cr_crl_watch_check "$ok_seen"

# An older crl.der copied over a newer one, and another file with a number
# seen before: the check names them.  This watcher runs outside the
# harness's list, so that its finding fails the check, not this test.
mkdir "$CR_TMP/pub-bad"
bad_seen=$CR_TMP/pub-bad.seen
"$CR_BUILD/tests/helpers/crl-watch" "$CR_TMP/pub-bad" "$bad_seen" >"$CR_TMP/pub-bad.ready" &
bad_watch=$!
cr_track $bad_watch
for _ in {1..100}; do
        [[ -s $CR_TMP/pub-bad.ready ]] && break
        sleep 0.05
done
publish 16 "$CR_TMP/pub-bad"
publish 17 "$CR_TMP/pub-bad"
seen_after 2 "$bad_seen" >/dev/null
put 16 "$CR_TMP/pub-bad"
assert_eq "16 17 16" "$(seen_after 3 "$bad_seen")" "what the watcher saw"
assert_exit 1 cr_crl_watch_check "$bad_seen" "pub-bad"
assert_contains "$CR_LAST_OUTPUT" "the CRL number went back in pub-bad:" "the check names the place"
assert_contains "$CR_LAST_OUTPUT" "number 16 after number 17" "the check names the numbers"
assert_contains "$CR_LAST_OUTPUT" "numbers seen, in order: 16 17 16" "the check lists what it saw"
publish 17b "$CR_TMP/pub-bad"
assert_eq "16 17 16 17" "$(seen_after 4 "$bad_seen")" "what the watcher saw"
assert_exit 1 cr_crl_watch_check "$bad_seen"
assert_contains "$CR_LAST_OUTPUT" "number 17 twice, in two different files" "one number, two files"
kill -TERM $bad_watch
wait $bad_watch || cr_fail_at "the watcher did not end well on SIGTERM"
cr_untrack $bad_watch

# Teardown runs the check: a script that puts an older crl.der in place and
# ends well fails all the same, naming the numbers.
rc=0
out=$(bash -c '
        set -euo pipefail
        . "$1/tests/lib.sh"
        cr_setup_tmp
        mkdir "$CR_TMP/public"
        cr_crl_watch "$CR_TMP/public"
        cp "$2/crl-17.der" "$CR_TMP/public/crl.der"
        sleep 0.3
        cp "$2/crl-16.der" "$CR_TMP/public/crl.der"
        echo "$CR_TMP"
        exit 0
' nested "$CR_SRCDIR" "$CR_TMP" 2>"$CR_TMP/nested-crl.log") || rc=$?
assert_eq 1 "$rc" "exit status of a script whose crl.der went back"
assert_contains "$(cat "$CR_TMP/nested-crl.log")" "the CRL number went back in $out/public/crl.der:"
assert_contains "$(cat "$CR_TMP/nested-crl.log")" "number 16 after number 17"
[[ -n $out && ! -e $out ]] || cr_fail_at "teardown after the failed check left '$out'"

echo "harness OK"
