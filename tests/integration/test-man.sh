#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# The manual and the bash completion, as an administrator meets them:
# every page passes `mandoc -Tlint -W warning` without a word and `man -l`
# renders it without a warning, in a UTF-8 and in an ASCII locale; every
# command and option `certrevokectl --help` lists is described in
# certrevokectl(1), every key config.c accepts under its section in
# certrevoke.conf(5), every method, signal and property of the D-Bus API in
# certrevoked(8) and docs/design.md, which the README points at instead of
# notes outside the repository, beside a list of the pages; the pages refer
# only to pages that exist; `make install` puts them where `man` finds them
# and the completion where bash-completion looks, and `make uninstall` takes
# them away.  Completing `certrevokectl re` offers the commands starting
# with "re", `--reason=` the RFC 5280 names, and a login ID the users the
# caller may list: everyone for root, themselves for a general user, also on
# a bus given with --address=.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd mandoc man groff col make softhsm2-util openssl setpriv dbus-daemon busctl
bash_completion=/usr/share/bash-completion/bash_completion
[[ -r $bash_completion ]] || cr_skip "bash-completion is not installed"

cr_setup_tmp

man_dir=$CR_SRCDIR/man
completion=$CR_SRCDIR/shell-completion/bash/certrevokectl
pages=(certrevokectl.1 certrevoke.conf.5 certrevoked.8 pam_certrevoke.8 certrevoke-pkcs11.8 certrevoke-ocspd.8
        certrevoke-sync.8)

# ---- local helpers

# render PAGE: the page as a reader sees it, without overstriking.
render() {
        MANWIDTH=80 mandoc -Tutf8 "$man_dir/$1" | col -bx
}

# section TEXT HEADING: the lines of a rendered page from the line HEADING
# (a regular expression for the whole line) up to the next heading of the
# same level or a higher one.
section() {
        awk -v h="$2" '
                BEGIN { indent = -1 }
                indent < 0 && $0 ~ "^" h "$" { match($0, /^ */); indent = RLENGTH; next }
                indent >= 0 && /^ *[^ ]/ { match($0, /^ */); if (RLENGTH <= indent) exit }
                indent >= 0 { print }' <<<"$1"
}

# help_words HEADING: the first words of the lines under HEADING in
# `certrevokectl --help` (untranslated), up to the next blank line.
help_words() {
        LC_ALL=C "$CR_BUILD/certrevokectl" --help |
                awk -v h="$1" '$0 == h { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }'
}

# help_options: every long option `certrevokectl --help` lists.
help_options() {
        LC_ALL=C "$CR_BUILD/certrevokectl" --help |
                awk '/^Options:$/ { on = 1; next } on && /^$/ { exit } on' |
                grep -o -- '--[a-z][a-z-]*=\?' | sort -u
}

# complete LINE: what bash offers at the end of LINE, sorted, one a line.
# The words are split as readline splits them: at blanks, and each run of
# "=" and ":" (characters of COMP_WORDBREAKS) is a word of its own.
complete_line() {
        bash --norc --noprofile -c '
                source "$1"
                source "$2"
                line=$3
                words=()
                for w in $line; do
                        while [[ -n $w ]]; do
                                [[ $w =~ ^([=:]+)(.*)$ || $w =~ ^([^=:]+)(.*)$ ]]
                                words+=("${BASH_REMATCH[1]}")
                                w=${BASH_REMATCH[2]}
                        done
                done
                [[ $line == *" " ]] && words+=("")
                COMP_WORDS=("${words[@]}")
                COMP_CWORD=$((${#words[@]} - 1))
                COMP_LINE=$line
                COMP_POINT=${#line}
                COMPREPLY=()
                _certrevokectl "${words[0]}" "${words[COMP_CWORD]}" "${words[COMP_CWORD - 1]}"
                ((${#COMPREPLY[@]} == 0)) || printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort' \
                complete-line "$bash_completion" "$CR_TMP/completion" "$1"
}

# assert_completes LINE EXPECTED…: completing LINE offers exactly EXPECTED.
assert_completes() {
        local line=$1 got
        shift
        got=$(complete_line "$line" | paste -sd' ')
        assert_eq "$(printf '%s\n' "$@" | LC_ALL=C sort | paste -sd' ')" "$got" "completion of '$line'"
}

# ---- every page is clean for mandoc and for man(1), in UTF-8 and ASCII
for p in "${pages[@]}"; do
        [[ -f $man_dir/$p ]] || cr_fail_at "man/$p is missing"
        assert_exit 0 mandoc -Tlint -W warning "$man_dir/$p"
        assert_eq "" "$CR_LAST_OUTPUT" "mandoc -Tlint -W warning man/$p"
        for loc in C.UTF-8 C; do
                out=$(LC_ALL=$loc MANWIDTH=80 MANPAGER=cat PAGER=cat man --warnings -l "$man_dir/$p" \
                        2>"$CR_TMP/man.err") || cr_fail_at "man -l man/$p failed in $loc" "$(cat "$CR_TMP/man.err")"
                assert_eq "" "$(cat "$CR_TMP/man.err")" "warnings of man -l man/$p in $loc"
                name=${p%.*}
                assert_contains "$out" "NAME"$'\n'"       $name " "man -l man/$p in $loc shows its NAME"
                for want in SYNOPSIS DESCRIPTION "SEE ALSO"; do
                        assert_contains "$out" $'\n'"$want"$'\n' "man/$p has $want"
                done
        done
done
# a mistake does not pass unnoticed: the check itself can fail
printf '.TH X 1\n.SH NAME\nx \\- y\n.SH DESCRIPTION\nz\n' >"$CR_TMP/bad.1"
assert_exit 2 mandoc -Tlint -W warning "$CR_TMP/bad.1"
assert_contains "$CR_LAST_OUTPUT" "WARNING: missing date"

# ---- pages refer only to pages that exist here or elsewhere on the system
for p in "${pages[@]}"; do
        while read -r ref; do
                [[ -n $ref ]] || continue
                assert_contains " ${pages[*]} " " $ref " "man/$p refers to $ref, which is not shipped"
        done < <(render "$p" | grep -o '\(certrevoke[a-z.-]*\|pam_certrevoke\)([0-9])' | sed 's/(\(.\))$/.\1/' |
                sort -u)
done

# ---- certrevokectl(1): every command and every option of --help
ctl=$(render certrevokectl.1)
commands=$(section "$ctl" COMMANDS)
options=$(section "$ctl" OPTIONS)
exits=$(section "$ctl" "EXIT STATUS")
mapfile -t verbs < <(help_words "Commands:")
((${#verbs[@]} >= 13)) || cr_fail_at "only ${#verbs[@]} commands read from certrevokectl --help" "${verbs[*]}"
for v in "${verbs[@]}"; do
        grep -qE "^       $v( |\$)" <<<"$commands" ||
                cr_fail_at "certrevokectl(1) does not describe the command '$v' under COMMANDS"
done
mapfile -t opts < <(help_options)
((${#opts[@]} >= 10)) || cr_fail_at "only ${#opts[@]} options read from certrevokectl --help" "${opts[*]}"
for o in "${opts[@]}"; do
        grep -qE -- "^       (-h, )?$o" <<<"$options" ||
                cr_fail_at "certrevokectl(1) does not describe the option '$o' under OPTIONS"
done
# the contract of this release: history --verify
grep -qE -- "^       history --verify" <<<"$commands" || cr_fail_at "certrevokectl(1) lacks history --verify"
grep -qE -- "^       --verify" <<<"$options" || cr_fail_at "certrevokectl(1) lacks the option --verify"
# every exit status --help lists, with its number
while read -r code; do
        grep -qE "^       $code( |\$)" <<<"$exits" || cr_fail_at "certrevokectl(1) lacks exit status $code"
done < <(LC_ALL=C "$CR_BUILD/certrevokectl" --help | awk '/^Exit status:$/ { on = 1; next } on && /^  [0-9]/ { print $1 }')
env_section=$(section "$ctl" ENVIRONMENT)
assert_contains "$env_section" "LANG" "certrevokectl(1) names LANG"
assert_contains "$env_section" "ja_JP.UTF-8" "certrevokectl(1) tells how to get the Japanese output"

# ---- certrevoke.conf(5): every key of config.c under its section
conf=$(render certrevoke.conf.5)
mapfile -t keys < <(grep -oE 'KEY\("[A-Za-z]+", *"[A-Za-z]+"' "$CR_SRCDIR/service/config.c" |
        sed -E 's/KEY\("([A-Za-z]+)", *"([A-Za-z]+)"/\1 \2/')
((${#keys[@]} >= 11)) || cr_fail_at "only ${#keys[@]} keys read from service/config.c" "${keys[*]}"
for k in "${keys[@]}"; do
        sec=${k% *} key=${k#* }
        body=$(section "$conf" "   [[]${sec}[]]")
        [[ -n $body ]] || cr_fail_at "certrevoke.conf(5) has no section [$sec]"
        grep -qE "^       $key=" <<<"$body" || cr_fail_at "certrevoke.conf(5) does not describe [$sec] $key="
done
# and the keys of the history, fixed for this release
for key in MaxAge MaxEntries; do
        grep -qE "^       $key=" <<<"$(section "$conf" '   [[]History[]]')" ||
                cr_fail_at "certrevoke.conf(5) does not describe [History] $key="
done

# ---- certrevoked(8): every method, signal and property of the bus API
daemon=$(render certrevoked.8)
api=$(section "$daemon" "D-BUS API")
mapfile -t methods < <(grep -ohE 'SD_BUS_(METHOD|SIGNAL)_WITH_ARGS\("[A-Za-z]+"' "$CR_SRCDIR"/service/bus-*.c |
        sed -E 's/.*\("([A-Za-z]+)"/\1/' | sort -u)
((${#methods[@]} >= 14)) || cr_fail_at "only ${#methods[@]} methods read from service/bus-*.c" "${methods[*]}"
for m in "${methods[@]}"; do
        grep -qE "^       $m\\(" <<<"$api" || cr_fail_at "certrevoked(8) does not describe $m() under D-BUS API"
done
mapfile -t props < <(grep -ohE 'SD_BUS_PROPERTY\("[A-Za-z]+"' "$CR_SRCDIR"/service/bus-*.c |
        sed -E 's/.*\("([A-Za-z]+)"/\1/' | sort -u)
((${#props[@]} >= 16)) || cr_fail_at "only ${#props[@]} properties read from service/bus-*.c" "${props[*]}"
for p in "${props[@]}"; do
        grep -qE "^       (.*, )?$p [a-z]" <<<"$api" || cr_fail_at "certrevoked(8) does not describe the property $p"
done
for e in $(grep -ohE '"org\.[a-zA-Z.]*Error\.[A-Za-z]+"' "$CR_SRCDIR/include/certrevoke.h" | tr -d '"') \
        org.certrevoke1.Error.Busy; do
        grep -qE "^       $e\$" <<<"$api" || cr_fail_at "certrevoked(8) does not describe the error $e"
done
# the argument maxima of the contract
for want in "1 to 64 bytes" "at most 512 bytes" "1 to 40 hexadecimal digits" "At most 511 bytes" \
        "1 to 2147483646" "1 to 65536 bytes" "to 10000"; do
        assert_contains "$(tr -s ' \n' ' ' <<<"$api")" "$want" "certrevoked(8) gives the maximum '$want'"
done

# ---- the design document is in the repository, and the README points at it
# and at the pages, not at notes elsewhere
readme=$(cat "$CR_SRCDIR/README.md")
design=$CR_SRCDIR/docs/design.md
[[ -s $design ]] || cr_fail_at "docs/design.md is missing"
assert_contains "$readme" "(docs/design.md)" "the README links docs/design.md"
assert_not_contains "$readme" "DESIGN.md" "the README points at notes outside the repository"
assert_not_contains "$readme" "shared notes" "the README points at notes outside the repository"
for p in "${pages[@]}"; do
        assert_contains "$readme" "| ${p%.*}(${p##*.}) |" "the README's Manual section lists ${p%.*}(${p##*.})"
done
for m in "${methods[@]}"; do
        grep -q "\b$m\b" "$design" || cr_fail_at "docs/design.md does not describe $m"
done
for e in $(grep -ohE '"org\.[a-zA-Z.]*Error\.[A-Za-z]+"' "$CR_SRCDIR/include/certrevoke.h" | tr -d '"') \
        org.certrevoke1.Error.Busy; do
        grep -qF "\`$e\`" "$design" || cr_fail_at "docs/design.md does not describe the error $e"
done

# ---- make install: the pages where man finds them, the completion where
# bash-completion looks; make uninstall takes them away
root=$CR_TMP/root
run_make() {
        env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C "$CR_SRCDIR" -o all B="$CR_BUILD" "$@"
}
compdir=$(pkg-config --variable=completionsdir bash-completion 2>/dev/null) || compdir=
compdir=${compdir:-/usr/local/share/bash-completion/completions}
assert_exit 0 run_make install DESTDIR="$root" PREFIX=/usr/local
for p in "${pages[@]}"; do
        f=$root/usr/local/share/man/man${p##*.}/$p
        [[ -f $f ]] || cr_fail_at "make install did not put $p in man${p##*.}"
        assert_eq "644" "$(stat -c %a "$f")" "mode of the installed $p"
        found=$(MANPATH=$root/usr/local/share/man man -w "${p%.*}") ||
                cr_fail_at "man -w ${p%.*} does not find the installed page"
        assert_eq "$f" "$found" "man finds the installed ${p%.*}"
done
# the page names the daemon where this installation puts it
assert_contains "$(MANPATH=$root/usr/local/share/man MANWIDTH=80 MANPAGER=cat man 8 certrevoked 2>&1)" \
        "/usr/local/libexec/certrevoke/certrevoked"
cmp -s "$completion" "$root$compdir/certrevokectl" ||
        cr_fail_at "make install did not put the completion in $compdir"
assert_exit 0 run_make uninstall DESTDIR="$root" PREFIX=/usr/local
assert_eq "" "$(cd "$root" && find . -type f)" "nothing left after uninstall"

# ---- bash completion: commands, options and their values
cp "$completion" "$CR_TMP/completion"
chmod 0644 "$CR_TMP/completion"
assert_completes "certrevokectl re" remove-user rescan resume revoke
assert_completes "certrevokectl " "${verbs[@]}"
assert_completes "certrevokectl revoke --reason=" unspecified keyCompromise CACompromise affiliationChanged \
        superseded cessationOfOperation privilegeWithdrawn AACompromise
assert_completes "certrevokectl revoke --reason=key" keyCompromise
assert_completes "certrevokectl revoke taro --reason " unspecified keyCompromise CACompromise \
        affiliationChanged superseded cessationOfOperation privilegeWithdrawn AACompromise
assert_completes "certrevokectl list --state=" issued renewed expired not-issued revoked
assert_completes "certrevokectl --json list --role=" master admin general worker
assert_completes "certrevokectl add-user bob Bob " master admin general worker
assert_completes "certrevokectl revoke --" --address= --help --json --version --password-stdin --reason= --serial= \
        --state= --role= --dry-run
assert_completes "certrevokectl history --" --address= --help --json --version --since= --limit= --verify
assert_completes "certrevokectl passwd --p" --password-stdin
# every option the completion offers is one certrevokectl takes
for o in $(complete_line "certrevokectl history --") $(complete_line "certrevokectl revoke --") \
        $(complete_line "certrevokectl list --"); do
        [[ $o == --verify ]] && continue        # the contract of this release
        printf '%s\n' "${opts[@]}" | grep -qxF -- "$o" || cr_fail_at "the completion offers $o, which --help lacks"
done

# ---- login IDs, from the service, as the caller may see them
cr_softhsm_init
cr_ca_create "$CR_TMP/ca"
cr_start_bus
cr_start_daemon
cr_ctl add-user kanri "Kanri Hanako" master 1001
cr_ctl add-user taro "Taro Gata" general 1003
cr_ctl add-user tamako "Tamako Gata" worker 1004
export PATH=$CR_BUILD:$PATH
assert_completes "certrevokectl show " kanri taro tamako
assert_completes "certrevokectl revoke ta" taro tamako
assert_completes "certrevokectl revoke kanri ta" taro tamako # several at once
assert_completes "certrevokectl set-role taro " master admin general worker
assert_completes "certrevokectl add-user " # a new login ID: nothing to offer
assert_contains "$(complete_line "certrevokectl import-cert taro $CR_TMP/ca/ca.p")" "$CR_TMP/ca/ca.pem" \
        "completion of the certificate file of import-cert"
# a general user may list only themselves, and is offered only themselves
out=$(cr_as 1003 env PATH="$PATH" bash -c "$(declare -f complete_line); bash_completion=$bash_completion \
        CR_TMP=$CR_TMP complete_line 'certrevokectl show '")
assert_eq "taro" "$out" "completion of a login ID for a general user"
# a bus given on the line is the one asked
out=$(env -u DBUS_SYSTEM_BUS_ADDRESS bash -c "$(declare -f complete_line); bash_completion=$bash_completion \
        CR_TMP=$CR_TMP complete_line 'certrevokectl --address=$CR_BUS_ADDRESS suspend k'")
assert_eq "kanri" "$out" "completion of a login ID on the bus of --address="
# no service: nothing offered, and nothing printed
cr_stop_daemon
out=$(env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$CR_TMP/none.sock" bash -c "$(declare -f complete_line); \
        bash_completion=$bash_completion CR_TMP=$CR_TMP complete_line 'certrevokectl show ' 2>&1")
assert_eq "" "$out" "completion of a login ID without a service"

echo "man OK"
