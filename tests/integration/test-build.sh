#!/bin/bash
# The build under test is the build this machine makes now.  A build made
# before `make deps` installed a library (or with other flags) once went on
# being used because nothing told make that its inputs had changed; this
# catches that whole class:
#   - the flags make would record now equal the ones the build recorded;
#   - no object or program of the build is older than that record;
#   - the daemon and the PAM module link libpwquality;
#   - a change of flags rebuilds an object, an unchanged run rebuilds nothing;
#   - a missing library stops the build naming its Debian package and
#     builds nothing.
. "$(dirname "$0")/../lib.sh"
cr_setup_tmp

record=$CR_BUILD/build.flags
[[ -f $record ]] || cr_die "$record missing: build with make first"

# The make variables the build was made with, read back from its record.
recorded() {
        sed -n "s/^$1=//p" "$record"
}
opt=$(recorded OPT)
san=$(recorded SAN)
mk() {
        make -s -C "$CR_SRCDIR" OPT="$opt" SAN="$san" "$@"
}

cr_log "the record this machine gives now"
fresh=$CR_TMP/fresh
mk B="$fresh" "$fresh/build.flags"
assert_eq "$(sed "s|$fresh|B|g" "$fresh/build.flags")" "$(sed "s|$CR_BUILD|B|g" "$record")" \
        "$CR_BUILD was built with other flags or libraries than this machine gives now"

cr_log "nothing in the build predates its record"
# Strictly older: make takes an object of the same date as up to date too.
stamp=$(stat -c %.9Y "$record")
stale=$(cd "$CR_BUILD" && find service pam module tests certrevoked certrevokectl certrevoke-pam-helper \
        pam_certrevoke.so certrevoke-pkcs11.so -type f \( -name '*.o' -o -perm -u+x \) -printf '%T@ %p\n' |
        awk -v stamp="$stamp" '$1 < stamp { print $2 }' | sort)
assert_eq "" "$stale" "objects older than $record"

cr_log "the programs link the libraries nothing may compile out"
assert_contains "$(readelf -d "$CR_BUILD/pam_certrevoke.so")" "libpwquality.so" "the PAM module checks password quality"
assert_contains "$(readelf -d "$CR_BUILD/certrevoked")" "libpwquality.so" "the daemon checks password quality"

cr_log "a change of flags rebuilds, no change rebuilds nothing"
obj=$fresh/service/names.o
mk B="$fresh" "$obj"
[[ -f $obj ]] || cr_die "$obj was not built"
built=$(stat -c %y "$obj")
mk B="$fresh" "$obj"
assert_eq "$built" "$(stat -c %y "$obj")" "an unchanged run left the object alone"
make -s -C "$CR_SRCDIR" B="$fresh" OPT="$opt -DCR_FLAG_CHANGED" SAN="$san" "$obj"
[[ $(stat -c %y "$obj") != "$built" ]] || cr_fail_at "a change of CPPFLAGS did not rebuild $obj"
assert_contains "$(cat "$fresh/build.flags")" "-DCR_FLAG_CHANGED" "the record follows the flags"

cr_log "a missing library stops the build and names its package"
empty=$CR_TMP/no-pkgconfig
mkdir "$empty"
assert_exit 2 env PKG_CONFIG_LIBDIR="$empty" make -C "$CR_SRCDIR" B="$CR_TMP/none" all
for pkg in libpwquality-dev libsystemd-dev libsqlite3-dev libpam0g-dev; do
        assert_contains "$CR_LAST_OUTPUT" "$pkg" "the error names $pkg"
done
[[ ! -e $CR_TMP/none/service ]] || cr_fail_at "objects were built without the libraries"

cr_log "ok"
