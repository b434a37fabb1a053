#!/bin/bash
# shellcheck disable=SC2119 # cr_hostb_init is called without arguments
# certrevoke-sync when entries left the middle of the CRL it holds (as
# expired revocations leave the daemon's CRL): the new crl.der is rebuilt
# from the held one around the gaps, found by small range requests, and
# verifies; nothing of it is fetched whole.  The CRLs are made with
# openssl ca from an index of 400 revocations, served by nginx: the second
# CRL lacks two entries of the middle and lists one more at its end.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/sync-lib.sh
. "$(dirname "$0")/../sync-lib.sh"

cr_need_python
cr_need_cmd openssl curl
[[ -x $CR_BUILD/certrevoke-sync ]] || cr_skip "$CR_BUILD/certrevoke-sync not built"

cr_setup_tmp
CR_CA=$CR_TMP/ca
cr_ca_create "$CR_CA" >/dev/null
pub=$CR_TMP/pub
mkdir -p "$pub"

expiry=$(date -u -d '+1 year' +%y%m%d%H%M%SZ)
revoked_at=$(date -u -d '-1 hour' +%y%m%d%H%M%SZ)
# index SERIALS…: openssl ca's database with these (hex) revoked
index() {
        local s
        for s in "$@"; do
                printf 'R\t%s\t%s,keyCompromise\t%s\tunknown\t/CN=user %s\n' "$expiry" "$revoked_at" "$s" "$s"
        done >"$CR_CA/index.txt"
}
gencrl() {
        openssl ca -config "$CR_CA/openssl.cnf" -gencrl -out "$CR_TMP/crl.pem" 2>"$CR_TMP/gen.err" ||
                cr_fail_at "openssl ca -gencrl" "$(cat "$CR_TMP/gen.err")"
        openssl crl -in "$CR_TMP/crl.pem" -outform DER -out "$pub/crl.der"
}

serials=()
for ((i = 0; i < 400; i++)); do
        serials+=("$(printf '%04X' $((0x1000 + i)))")
done
index "${serials[@]}"
gencrl
cr_start_nginx "$pub"
cr_hostb_init
assert_exit 0 cr_sync
assert_contains "$CR_LAST_OUTPUT" "installed CRL number" "the first sync"

# two entries of the middle gone, one more at the end
sleep 1 # another second: another ETag
kept=()
for s in "${serials[@]}"; do
        [[ $s == 1064 || $s == 10C8 ]] || kept+=("$s")
done
index "${kept[@]}" 1400
gencrl
size=$(stat -c %s "$pub/crl.der")
lines=$(cr_nginx_lines)
assert_exit 0 cr_sync --debug
assert_contains "$CR_LAST_OUTPUT" "installed CRL number" "the second sync"
assert_contains "$CR_LAST_OUTPUT" "rebuilt around 2 gaps" "the two entries gone are found"
cmp -s "$pub/crl.der" "$CR_HOSTB/crl.der" || cr_fail_at "B's crl.der is not the published one"
got=$(cr_nginx_lines_since "$lines")
assert_not_contains "$got" "GET /crl.der 200" "crl.der is not fetched whole"
bytes=$(awk '$2 == "/crl.der" { s += $4 } END { print s + 0 }' <<<"$got")
((bytes < size / 3)) || cr_fail_at "B fetched $bytes bytes of a crl.der of $size" "$got"
cr_log "$bytes bytes of $size in $(grep -c . <<<"$got") requests"

# and the list B's files give is the published one
assert_eq "$(openssl crl -inform DER -in "$pub/crl.der" -noout -text | grep -c 'Serial Number')" \
        "$(openssl crl -inform DER -in "$CR_HOSTB/crl.der" -noout -text | grep -c 'Serial Number')" "the entries"

cr_log "ok"
