#!/bin/bash
# Runs certrevoke's tests: every unit test binary BUILD/tests/test-* and every
# integration script tests/integration/test-*.sh, each in its own process with
# a timeout.  Exit status 0 is a pass, 77 a skip, anything else a failure.
#
#   tests/run.sh [--build=DIR] [FILTER]
#
# FILTER keeps only the tests whose name contains it.  A failing test's
# output is kept in DIR/test-logs/NAME.log and its tail is printed.
# Environment: CR_TEST_TIMEOUT (seconds per test, default 300).

set -euo pipefail

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=build
filter=

usage() {
        echo "usage: $0 [--build=DIR] [FILTER]" >&2
        exit 2
}

while (($# > 0)); do
        case $1 in
        --build=*) build=${1#--build=} ;;
        --build)
                (($# >= 2)) || usage
                build=$2
                shift
                ;;
        -h | --help) usage ;;
        -*) usage ;;
        *)
                [[ -z $filter ]] || usage
                filter=$1
                ;;
        esac
        shift
done

case $build in
/*) ;;
*) build=$srcdir/$build ;;
esac
export CR_BUILD=$build

# shellcheck source=tests/reachable.sh
. "$srcdir/tests/reachable.sh"
cr_reachable_or_reexec "$srcdir" "$build" tests/run.sh ${filter:+"$filter"}

# A predictable baseline; tests that care about the locale set their own.
export LC_ALL=C.UTF-8 TZ=UTC
unset LANGUAGE

timeout_s=${CR_TEST_TIMEOUT:-300}
logdir=$build/test-logs
mkdir -p "$logdir"

tests=()
if [[ -d $build/tests ]]; then
        for t in "$build"/tests/test-*; do
                [[ -f $t && -x $t ]] || continue
                tests+=("$t")
        done
fi
for t in "$srcdir"/tests/integration/test-*.sh; do
        [[ -f $t ]] && tests+=("$t")
done

passed=0 failed=0 skipped=0
current=
interrupted() {
        if [[ -n $current ]]; then
                kill -TERM "$current" 2>/dev/null || true
                wait "$current" 2>/dev/null || true
        fi
        echo "interrupted" >&2
        exit 130
}
trap interrupted INT TERM HUP
cd "$srcdir"
for t in "${tests[@]}"; do
        case $t in
        *.sh) name=integration/$(basename "$t" .sh) ;;
        *) name=unit/$(basename "$t") ;;
        esac
        [[ -z $filter || $name == *"$filter"* ]] || continue
        log=$logdir/${name//\//-}.log
        mkdir -p "$logdir"
        if [[ $t == *.sh ]]; then
                cmd=(bash "$t")
        else
                cmd=("$t")
        fi
        rc=0
        # timeout puts the test in a process group of its own; an interrupt
        # of the runner is passed on to it so that the test's teardown runs.
        timeout -k 15 "$timeout_s" "${cmd[@]}" </dev/null >"$log" 2>&1 &
        current=$!
        wait "$current" || rc=$?
        current=
        case $rc in
        0)
                echo "PASS $name"
                passed=$((passed + 1))
                rm -f -- "$log"
                ;;
        77)
                why=$(grep -m1 -o 'SKIP: .*' "$log" || true)
                echo "SKIP $name${why:+ (${why#SKIP: })}"
                skipped=$((skipped + 1))
                rm -f -- "$log"
                ;;
        *)
                note=
                ((rc == 124 || rc == 137)) && note=", timed out after ${timeout_s}s"
                echo "FAIL $name (exit $rc$note, log: $log)"
                { tail -n 40 "$log" 2>/dev/null || echo "(the log is gone)"; } | sed 's/^/    | /'
                failed=$((failed + 1))
                ;;
        esac
done

summary="$passed passed, $failed failed"
((skipped == 0)) || summary+=", $skipped skipped"
echo "$summary"
((failed == 0))
