#!/bin/bash
# CRL build speed: certrevoke's writer (bench/crl-bench) against
# `openssl ca -gencrl`, for 10k, 100k and 1M revoked certificates, with the
# same entries (serial, revocation date, reason) and the same RSA-2048 CA key.
#
#   bench/crl.sh [--build=DIR]
#
# Targets: 1M entries in under 0.5 s and 100 MB, at least 15 times faster
# than openssl.  "ours s" is the crl_build() call; "ours proc s" is the
# whole crl-bench process (generating the entries, loading the key,
# building, writing crl.der and crl.pem with fsync), which is what the
# ratio compares with the openssl process.  Needs /usr/bin/time (package
# "time").

set -euo pipefail

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=build
for arg in "$@"; do
        case $arg in
        --build=*) build=${arg#--build=} ;;
        *)
                echo "usage: $0 [--build=DIR]" >&2
                exit 2
                ;;
        esac
done
[[ $build == /* ]] || build=$srcdir/$build
bench=$build/bench/crl-bench
[[ -x $bench ]] || {
        echo "crl.sh: $bench is not built" >&2
        exit 1
}
[[ -x /usr/bin/time ]] || {
        echo "crl.sh: /usr/bin/time is missing (apt-get install time)" >&2
        exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/certrevoke-bench-crl.XXXXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the CA, as openssl ca wants it
cat >"$tmp/openssl.cnf" <<EOF
[ ca ]
default_ca = CA_default

[ CA_default ]
dir = $tmp
database = \$dir/index.txt
certificate = \$dir/ca.pem
private_key = \$dir/ca.key
crlnumber = \$dir/crlnumber
default_md = sha256
default_crl_days = 7
crl_extensions = crl_ext
unique_subject = no

[ crl_ext ]
authorityKeyIdentifier = keyid:always

[ req ]
distinguished_name = dn
prompt = no

[ dn ]
CN = unused

[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/ca.key" 2>/dev/null
openssl req -config "$tmp/openssl.cnf" -new -x509 -key "$tmp/ca.key" -subj "/O=Bench Org/CN=Bench CA" \
        -days 3650 -extensions v3_ca -out "$tmp/ca.pem" 2>/dev/null
echo "unique_subject = no" >"$tmp/index.txt.attr"

# entries TEXT: "serial date reason" lines of `openssl crl -text`, sorted.
entries() {
        awk '/Serial Number:/ { s = $3 }
             /Revocation Date:/ { sub(/.*Revocation Date: /, ""); d = $0 }
             /CRL Reason Code/ { getline; gsub(/^ +/, ""); print s, d, $0 }' | sort
}

fail=0
results=()
details=()
for n in 10000 100000 1000000; do
        mkdir "$tmp/ours-$n"
        "$bench" --entries=$n --index="$tmp/index.txt"
        echo 1000 >"$tmp/crlnumber"
        # the index's dirty pages must not be flushed by our fsync's account
        sync -f "$tmp/index.txt"

        # wall time of each process from the shell's clock (finer than
        # time's 10 ms), peak memory from time
        t0=$EPOCHREALTIME
        /usr/bin/time -f "%e %M" -o "$tmp/time-ours" \
                "$bench" --entries=$n --key="$tmp/ca.key" --ca="$tmp/ca.pem" --out="$tmp/ours-$n" >"$tmp/ours.out"
        t1=$EPOCHREALTIME
        ours_proc=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
        ours_s=$(sed -n 's/.*build_s=\([0-9.]*\).*/\1/p' "$tmp/ours.out")
        ours_mb=$(sed -n 's/.*peak_rss_mb=\([0-9.]*\).*/\1/p' "$tmp/ours.out")
        details+=("$(printf '%8s: entries and key %s s, crl_build %s s, crl_publish (DER + PEM, fsync) %s s, %s bytes' \
                "$n" "$(sed -n 's/.*setup_s=\([0-9.]*\).*/\1/p' "$tmp/ours.out")" "$ours_s" \
                "$(sed -n 's/.*publish_s=\([0-9.]*\).*/\1/p' "$tmp/ours.out")" \
                "$(sed -n 's/.*der_bytes=\([0-9]*\).*/\1/p' "$tmp/ours.out")")")

        t0=$EPOCHREALTIME
        /usr/bin/time -f "%e %M" -o "$tmp/time-openssl" \
                openssl ca -config "$tmp/openssl.cnf" -gencrl -out "$tmp/openssl-$n.pem" 2>"$tmp/openssl.err" || {
                cat "$tmp/openssl.err" >&2
                exit 1
        }
        t1=$EPOCHREALTIME
        openssl_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
        read -r _ openssl_kb <"$tmp/time-openssl"
        openssl_mb=$(awk -v k="$openssl_kb" 'BEGIN { printf "%.1f", k / 1024 }')

        # both CRLs verify; at 10k they list the very same revocations
        check=ok
        openssl crl -inform DER -in "$tmp/ours-$n/crl.der" -noout -verify -CAfile "$tmp/ca.pem" 2>&1 |
                grep -q "verify OK" || check="ours does not verify"
        openssl crl -in "$tmp/openssl-$n.pem" -noout -verify -CAfile "$tmp/ca.pem" 2>&1 |
                grep -q "verify OK" || check="openssl's does not verify"
        if ((n == 10000)) && [[ $check == ok ]]; then
                openssl crl -in "$tmp/ours-$n/crl.pem" -noout -text | entries >"$tmp/ours.entries"
                openssl crl -in "$tmp/openssl-$n.pem" -noout -text | entries >"$tmp/openssl.entries"
                [[ $(wc -l <"$tmp/ours.entries") == "$n" ]] || check="ours lists $(wc -l <"$tmp/ours.entries")"
                cmp -s "$tmp/ours.entries" "$tmp/openssl.entries" || check="the two list different entries"
        fi
        [[ $check == ok ]] || fail=1

        ratio=$(awk -v a="$openssl_s" -v b="$ours_proc" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')
        verdict=-
        if ((n == 1000000)); then
                verdict=$(awk -v s="$ours_s" -v m="$ours_mb" -v r="$ratio" \
                        'BEGIN { print (s < 0.5 && m < 100 && r >= 15) ? "PASS" : "MISS" }')
                [[ $verdict == PASS ]] || fail=1
        fi
        results+=("$(printf '%8s %8s %11s %8s %10s %10s %7s  %-6s %s' "$n" "$ours_s" "$ours_proc" "$ours_mb" \
                "$openssl_s" "$openssl_mb" "$ratio" "$verdict" "$check")")
        rm -rf -- "$tmp/ours-$n" "$tmp/openssl-$n.pem" "$tmp/index.txt" "$tmp/index.txt.old" "$tmp"/crlnumber*
done

printf '%8s %8s %11s %8s %10s %10s %7s  %-6s %s\n' N "ours s" "ours proc s" "ours MB" "openssl s" \
        "openssl MB" ratio target CRLs
printf '%s\n' "${results[@]}"
echo "target at 1M: ours s < 0.5, ours MB < 100, ratio (openssl s / ours proc s) >= 15"
echo "ours, step by step:"
printf '%s\n' "${details[@]}"
exit "$fail"
