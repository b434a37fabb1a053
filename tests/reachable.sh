# shellcheck shell=bash
# Sourced by tests/run.sh and tests/demo.sh before they start anything.
#
# The tests and the demo run the built programs, the PAM module and the
# trust module as users other than root (UIDs 1001 and up), straight from
# the source and build trees.  A checkout where those users cannot reach it
# (the usual case: cloned into /root, which is 0700) would fail in dozens of
# places with "Permission denied".  So when the trees are out of their
# reach, they are copied to a directory everyone can read, the calling
# script runs again from there, and the copy goes when it ends (a failed
# test run keeps it, with its logs, and says where).
#
#   cr_reachable_or_reexec SRCDIR BUILD SCRIPT-RELATIVE-TO-SRCDIR ARGS...
#
# Returns when the trees are reachable (or when not running as root, where
# the tests that switch users skip themselves); otherwise does not return.

cr_tree_reachable() {
        local src=$1 build=$2 probe
        command -v setpriv >/dev/null || return 0
        for probe in "$src/tests/lib.sh" "$build"; do
                [[ -e $probe ]] || continue
                setpriv --reuid=65534 --regid=65534 --clear-groups -- test -r "$probe" || return 1
        done
        return 0
}

cr_reachable_or_reexec() {
        local src=$1 build=$2 script=$3 copy rc=0 keep
        shift 3
        [[ $(id -u) == 0 && -z ${CR_REACHABLE_COPY:-} ]] || return 0
        cr_tree_reachable "$src" "$build" && return 0
        copy=$(mktemp -d /tmp/certrevoke-tree.XXXXXXXX)
        chmod 0755 "$copy"
        echo "${script##*/}: $src is out of reach of the test users; running from a copy in $copy" >&2
        # The build keeps its dates to the nanosecond (the POSIX format), so
        # that nothing is rebuilt and nothing looks older than it is.
        tar -C "$src" --exclude=./.git --format=posix -cf - . | tar -C "$copy" -xpf -
        case $build in
        "$src"/*) build=$copy/${build#"$src"/} ;;
        *)
                mkdir -p "$copy/.build"
                tar -C "$build" --format=posix -cf - . | tar -C "$copy/.build" -xpf -
                build=$copy/.build
                ;;
        esac
        chmod -R a+rX "$copy"
        CR_REACHABLE_COPY=$copy CR_BUILD=$build bash "$copy/$script" "$@" --build="$build" || rc=$?
        keep=${CR_TEST_KEEP:-}
        if ((rc == 0)) && [[ -z $keep ]]; then
                rm -rf -- "$copy"
        else
                echo "${script##*/}: the copy stays in $copy" >&2
        fi
        exit "$rc"
}
