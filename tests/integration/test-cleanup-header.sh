#!/bin/bash
# Scoped freeing has one definition for the whole tree, include/cleanup.h.
# The tree once had three (the daemon's util.h, the CLI's ctl-format.h and
# the PAM module's own macro.h) that had already begun to differ.  This
# checks that:
#   - no C file or header outside include/cleanup.h defines _cleanup_ or any
#     of its helpers again, nor writes __attribute__((cleanup ...)) by hand,
#     and no _cleanup_NAME_ shorthand for one type is defined twice;
#   - the search finds each helper where it is defined, and finds a copy
#     planted elsewhere, so that it cannot pass by matching nothing;
#   - include/cleanup.h builds on its own against libc alone, and the two
#     modules take none of the daemon's helpers with it.
. "$(dirname "$0")/../lib.sh"
cr_setup_tmp

# What defines a cleanup helper: the attribute itself, a #define of one of
# the macros, a function body or prototype of one of the generic freeing
# functions, or DEFINE_TRIVIAL_CLEANUP_FUNC making one of them.
patterns=(
        '__attribute__[[:space:]]*\(\([[:space:]]*cleanup\b'
        '^[[:space:]]*#[[:space:]]*define[[:space:]]+(_cleanup_|_cleanup_free_|_cleanup_close_|_cleanup_fclose_|TAKE_PTR|TAKE_FD|ELEMENTSOF|DEFINE_TRIVIAL_CLEANUP_FUNC|erase_memory)\b'
        '\b(void|int)[[:space:]]+(freep|closep|fclosep|erase_memory)[[:space:]]*\('
        'DEFINE_TRIVIAL_CLEANUP_FUNC\([^,]*,[[:space:]]*(free|close|fclose)[[:space:]]*\)'
)

# sources DIR: the C files and headers of DIR, relative to it; in a git
# checkout those git knows of or would add (build trees are ignored).
sources() {
        if [[ $(git -C "$1" rev-parse --show-toplevel 2>/dev/null) == "$1" ]]; then
                git -C "$1" ls-files --cached --others --exclude-standard -- '*.c' '*.h'
        else
                (cd "$1" && find . -type f -name '*.[ch]' -printf '%P\n')
        fi
}

# definitions DIR [FILE]: FILE:LINE:TEXT of every definition in DIR outside
# include/cleanup.h, or only in FILE when one is named.
definitions() {
        local dir=$1 only=${2:-} args=() p f files=()
        for p in "${patterns[@]}"; do
                args+=(-e "$p")
        done
        while IFS= read -r f; do
                if [[ -n $only ]]; then
                        [[ $f == "$only" ]] && files+=("$f")
                elif [[ $f != include/cleanup.h ]]; then
                        files+=("$f")
                fi
        done < <(sources "$dir")
        ((${#files[@]} > 0)) || return 0
        (cd "$dir" && grep -nHE "${args[@]}" -- "${files[@]}") || true
}

cr_log "no definition of scoped freeing outside include/cleanup.h"
assert_eq "" "$(definitions "$CR_SRCDIR")" "a second definition of a cleanup helper"

# twice DIR: the _cleanup_NAME_ shorthands for one type defined in more than
# one place in DIR (those belong in the header of the type they free).
twice() {
        local f
        while IFS= read -r f; do
                sed -nE 's/^[[:space:]]*#[[:space:]]*define[[:space:]]+(_cleanup_[A-Za-z0-9_]+_)[[:space:]].*/\1/p' "$1/$f"
        done < <(sources "$1") | sort | uniq -d
}

cr_log "no shorthand such as _cleanup_caller_ is defined twice"
assert_eq "" "$(twice "$CR_SRCDIR")" "a _cleanup_NAME_ shorthand defined in two places"

cr_log "the search finds every helper in include/cleanup.h"
found=$(definitions "$CR_SRCDIR" include/cleanup.h)
for name in '__attribute__((cleanup' '_cleanup_(f)' _cleanup_free_ _cleanup_close_ _cleanup_fclose_ \
        'void freep(' 'void closep(' '(FILE *, fclose)' TAKE_PTR TAKE_FD 'DEFINE_TRIVIAL_CLEANUP_FUNC(type' \
        ELEMENTSOF 'void erase_memory('; do
        assert_contains "$found" "$name" "the search sees $name in include/cleanup.h"
done

cr_log "the search finds copies planted elsewhere"
planted=$CR_TMP/tree
mkdir -p "$planted/include" "$planted/pam" "$planted/service" "$planted/tests/helpers"
cp "$CR_SRCDIR/include/cleanup.h" "$planted/include/"
cat >"$planted/pam/macro.h" <<'EOF'
#define _cleanup_(f) __attribute__((cleanup(f)))
static inline void freep(void *p) {
        free(*(void **) p);
}
EOF
cat >"$planted/service/ctl-format.h" <<'EOF'
static inline void fclosep(FILE **f);
#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
EOF
cat >"$planted/tests/helpers/tool.c" <<'EOF'
DEFINE_TRIVIAL_CLEANUP_FUNC(FILE *, fclose)
        __attribute__ ((cleanup(sd_bus_error_free))) sd_bus_error e = SD_BUS_ERROR_NULL;
EOF
assert_eq "pam/macro.h:1
pam/macro.h:2
service/ctl-format.h:1
service/ctl-format.h:2
tests/helpers/tool.c:1
tests/helpers/tool.c:2" "$(definitions "$planted" | cut -d: -f1,2 | sort)" "the planted copies, and only they"

echo '#define _cleanup_thing_ _cleanup_(thing_done)' >"$planted/service/one.c"
echo '  #  define _cleanup_thing_ _cleanup_(thing_done)' >"$planted/service/two.c"
echo '#define _cleanup_other_ _cleanup_(other_done)' >>"$planted/service/two.c"
assert_eq "_cleanup_thing_" "$(twice "$planted")" "the planted shorthand defined twice, and only it"

cr_log "include/cleanup.h stands on its own"
cat >"$CR_TMP/alone.c" <<'EOF'
#include "cleanup.h"

static void nothing(int *p) {
        (void) p;
}

int main(void) {
        _cleanup_free_ char *s = strdup("x");
        _cleanup_close_ int fd = dup(0);
        _cleanup_fclose_ FILE *f = fopen("/dev/null", "r");
        _cleanup_(nothing) int n = 0;
        char buf[4] = "abc";
        char *t = TAKE_PTR(s);
        int g = TAKE_FD(fd);

        erase_memory(buf, ELEMENTSOF(buf));
        free(t);
        if (g >= 0)
                close(g);
        return buf[0] != 0 || n != 0 || !f;
}
EOF
assert_exit 0 "${CC:-cc}" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$CR_SRCDIR/include" \
        -o "$CR_TMP/alone" "$CR_TMP/alone.c"
assert_exit 0 "$CR_TMP/alone"

cr_log "the modules take none of the daemon's helpers"
for so in pam_certrevoke.so certrevoke-pkcs11.so; do
        [[ -f $CR_BUILD/$so ]] || cr_die "$CR_BUILD/$so missing: build with make first"
        undefined=$(nm -D --undefined-only "$CR_BUILD/$so" | awk '{ print $NF }')
        for sym in now_usec strv_free strv_copy strv_equal freep closep fclosep erase_memory; do
                assert_not_contains $'\n'"$undefined"$'\n' $'\n'"$sym"$'\n' "$so needs $sym from elsewhere"
        done
done

cr_log "ok"
