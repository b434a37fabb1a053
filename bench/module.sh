#!/bin/bash
# The trust module against p11-kit's own trust module (p11-kit-trust.so),
# side by side in one run, with 1k, 10k, 100k and 1M revoked certificates of
# one CA: certrevoke's module reads them as the daemon publishes them
# (ca.pem, crl.der, revoked.idx), p11-kit's as a blocklist directory
# (paths=DIR, the CA in DIR/anchors, the certificates as one PEM bundle in
# DIR/blocklist), up to P11KIT_MAX certificates (default 100k).
# Each measurement is a process of its own (BUILD/bench/module-bench):
#   load    C_Initialize until the first lookup has answered
#   lookup  {CKA_CLASS, CKA_ISSUER, CKA_SERIAL_NUMBER} of a random revoked
#           certificate: FindObjectsInit/FindObjects/FindObjectsFinal and
#           CKA_X_DISTRUSTED read; mean and 99th percentile
# p11-kit's module grows much worse than linearly with certificates of one
# issuer; it gets P11KIT_TIMEOUT seconds (default 300) per size, and a size it
# does not finish in is reported as "> P11KIT_TIMEOUT s".  Prints the times,
# the ratios and PASS or MISS against the targets: a load under 10 ms and a
# lookup under 10 µs at 1M, and faster than p11-kit's module at every size
# it ran at; then one line per size for scripts:
#
#   module N=<n> load_ms=<x> lookup_us=<y>
#
# Leaves nothing behind.
#
#   bench/module.sh [--build=DIR]

set -euo pipefail

for arg in "$@"; do
        case $arg in
        --build=*) export CR_BUILD=${arg#--build=} ;;
        *)
                echo "usage: $0 [--build=DIR]" >&2
                exit 2
                ;;
        esac
done

# not a test: no CRL-number watcher (tests/lib.sh, cr_crl_watch)
CR_CRL_WATCH=0

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../tests/lib.sh"

SIZES=(1000 10000 100000 1000000)
LOOKUPS=100000
TARGET_US=10
TARGET_LOAD_MS=10
P11KIT_TIMEOUT=${P11KIT_TIMEOUT:-300}
P11KIT_MAX=${P11KIT_MAX:-100000}

gen=$CR_BUILD/bench/module-gen
bench=$CR_BUILD/bench/module-bench
ours=$CR_BUILD/certrevoke-pkcs11.so
theirs=$(pkg-config --variable=p11_module_path p11-kit-1 2>/dev/null)/p11-kit-trust.so
for f in "$gen" "$bench" "$ours"; do
        [[ -x $f || -f $f ]] || cr_die "no $f: run make bench-module"
done
[[ -f $theirs ]] || cr_die "no $theirs: install p11-kit-modules"

cr_setup_tmp
data=$CR_TMP/data
cr_log "making a CA and ${SIZES[-1]} revoked certificates"
"$gen" "$data" "$P11KIT_MAX" "${SIZES[@]}"

results=()
for n in "${SIZES[@]}"; do
        cr_log "$n certificates: certrevoke"
        a=$(CERTREVOKE_PUBLISH_DIR=$data/$n/public "$bench" "$ours" - "$data/$n/keys" "$LOOKUPS") ||
                cr_die "module-bench failed on certrevoke's module"
        if ((n > P11KIT_MAX)); then
                b=skipped
        else
                cr_log "$n certificates: p11-kit-trust (up to ${P11KIT_TIMEOUT} s)"
                b=$(timeout "$P11KIT_TIMEOUT" "$bench" "$theirs" "paths=$data/$n/p11kit" \
                        "$data/$n/keys" "$LOOKUPS") || b=timeout
        fi
        results+=("$n $a | $b")
done

printf '%s\n' "${results[@]}" | awk -v target="$TARGET_US" -v target_load="$TARGET_LOAD_MS" -v cap="$P11KIT_TIMEOUT" -v top="${SIZES[-1]}" '
function ms(s) { return s < 10 ? sprintf("%.1f ms", s * 1000) : sprintf("%.1f s", s) }
{
        split($0, side, " [|] ")
        split(side[1], a, " ")
        n = a[1]
        line[++lines] = sprintf("module N=%d load_ms=%.2f lookup_us=%.2f", n, a[2] * 1000, a[3])
        load_at[n] = a[2] * 1000
        lookup_at[n] = a[3]
        printf "  %7d  load %10s", n, ms(a[2])
        if (side[2] == "skipped") {
                printf " (p11-kit-trust not run past %s)   lookup %6.2f µs (p99 %6.2f)\n", "'"$P11KIT_MAX"'", a[3], a[4]
                next
        }
        if (side[2] == "timeout") {
                printf " vs %10s (%8s)", sprintf("> %d s", cap), sprintf("> %.0fx", cap / a[2])
                printf "   lookup %6.2f µs (p99 %6.2f) vs no answer within %d s\n", a[3], a[4], cap
                load_ok[n] = 1; lookup_ok[n] = 1
                lookup_at[n] = a[3]
                next
        }
        split(side[2], b, " ")
        printf " vs %10s (%8s)", ms(b[1]), sprintf("%.0fx", b[1] / a[2])
        printf "   lookup %6.2f µs (p99 %6.2f) vs %8.2f µs (p99 %8.2f, %5.0fx)\n", a[3], a[4], b[2], b[3], b[2] / a[3]
        load_ok[n] = a[2] < b[1]; lookup_ok[n] = a[3] < b[2]
        lookup_at[n] = a[3]
}
END {
        faster = 1
        for (n in load_ok) if (!load_ok[n] || !lookup_ok[n]) faster = 0
        printf "  target: a load under %d ms at %d: %s (%.2f ms)\n", target_load, top,
                (load_at[top] != "" && load_at[top] < target_load ? "PASS" : "MISS"), load_at[top]
        printf "  target: a lookup under %d µs at %d: %s (%.2f µs)\n", target, top,
                (lookup_at[top] != "" && lookup_at[top] < target ? "PASS" : "MISS"), lookup_at[top]
        printf "  target: faster than p11-kit-trust at every size it ran at, load and lookup: %s\n", faster ? "PASS" : "MISS"
        for (i = 1; i <= lines; i++) print line[i]
}' | {
        echo "PKCS#11 trust modules: certrevoke vs p11-kit-trust, revoked certificates of one CA"
        echo "  (load: C_Initialize to first answer; lookup: issuer+serial find and CKA_X_DISTRUSTED)"
        cat
}
