#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# Who may act on whom, against the table below: every actor (root, a
# master, an admin, a general and a worker user) x every target role
# (master, admin, general, worker) x every account action (SuspendUser,
# ResumeUser, SetUserRole, RemoveUser, SetConfirmationPassword, AddUser),
# through the real daemon with confirmation passwords checked by PAM
# (pam_matrix under pam_wrapper).  An allowed call does what it says; a
# refused one is AccessDenied and changes nothing: ListUsers, every user
# object's properties (roles, suspension) and the confirmation file are
# the same before and after.  Then the last active master: they cannot
# suspend, demote or remove themselves, root can.  Last, what was allowed
# when asked is authorized again once PAM confirmed it: a role lost
# meanwhile counts, and two masters suspending each other at once leave
# one of them active.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon dbus-send busctl softhsm2-util openssl setpriv sha256sum pgrep

cr_world_init

# The outcome of each call: the actor's row gives it for a target of role
# master, admin, general and worker.  For AddUser the target role is the
# role the new user is to get; SetUserRole gives a role at or below the
# actor's own (the table of giving roles above one's own follows it).
TABLE="
# method                  actor    master  admin   general worker
SuspendUser               root     ok      ok      ok      ok
SuspendUser               master   ok      ok      ok      ok
SuspendUser               admin    denied  ok      ok      ok
SuspendUser               general  denied  denied  denied  denied
SuspendUser               worker   denied  denied  denied  denied
ResumeUser                root     ok      ok      ok      ok
ResumeUser                master   ok      ok      ok      ok
ResumeUser                admin    denied  ok      ok      ok
ResumeUser                general  denied  denied  denied  denied
ResumeUser                worker   denied  denied  denied  denied
SetUserRole               root     ok      ok      ok      ok
SetUserRole               master   ok      ok      ok      ok
SetUserRole               admin    denied  ok      ok      ok
SetUserRole               general  denied  denied  denied  denied
SetUserRole               worker   denied  denied  denied  denied
RemoveUser                root     ok      ok      ok      ok
RemoveUser                master   ok      ok      ok      ok
RemoveUser                admin    denied  ok      ok      ok
RemoveUser                general  denied  denied  denied  denied
RemoveUser                worker   denied  denied  denied  denied
SetConfirmationPassword   root     ok      ok      ok      ok
SetConfirmationPassword   master   ok      ok      ok      ok
SetConfirmationPassword   admin    denied  ok      ok      ok
SetConfirmationPassword   general  denied  denied  denied  denied
SetConfirmationPassword   worker   denied  denied  denied  denied
AddUser                   root     ok      ok      ok      ok
AddUser                   master   ok      ok      ok      ok
AddUser                   admin    denied  ok      ok      ok
AddUser                   general  denied  denied  denied  denied
AddUser                   worker   denied  denied  denied  denied
"

ACCESS_DENIED=org.freedesktop.DBus.Error.AccessDenied

# The actors and the targets: a user of each role on each side.
declare -A UID_OF=([root]=0 [boss]=1001 [adam]=1002 [gina]=1003 [walt]=1004
        [mona]=1005 [ann]=1006 [greg]=1007 [wade]=1008)
declare -A ROLE_OF=([boss]=master [adam]=admin [gina]=general [walt]=worker
        [mona]=master [ann]=admin [greg]=general [wade]=worker)
declare -A ACTOR=([root]=root [master]=boss [admin]=adam [general]=gina [worker]=walt)
declare -A TARGET=([master]=mona [admin]=ann [general]=greg [worker]=wade)
declare -A PASSWORD=([root]='R00t-Confirm#4821' [boss]='Bx0-Confirm%2264' [adam]='Ax5-Confirm!7390'
        [gina]='Hn7-Confirm&9035' [walt]='Wx9-Confirm+6650' [mona]='Mx3-Confirm=5517')
NEWBIE_UID=2000

shadow=$CR_TMP/state/confirm.shadow
cr_write_config "$CR_TMP/certrevoke.conf"
sed -i "/^PAMService=/a ConfirmationFile=$shadow" "$CR_TMP/certrevoke.conf"
grep -qx "ConfirmationFile=$shadow" "$CR_TMP/certrevoke.conf" || cr_die "ConfirmationFile= not written"

cr_start_bus
cr_pam_init
for who in "${!PASSWORD[@]}"; do
        cr_pam_password "$who" "${PASSWORD[$who]}"
done
cr_start_daemon
for who in boss adam gina walt mona ann greg wade; do
        cr_ctl add-user "$who" "${who^}" "${ROLE_OF[$who]}" "${UID_OF[$who]}"
done

# ds_as LOGIN MEMBER ARGS…: a Manager call as LOGIN's UID with dbus-send,
# which prints the D-Bus error's name.
ds_as() {
        local uid=${UID_OF[$1]} member=$2
        shift 2
        cr_as "$uid" dbus-send --bus="$CR_BUS_ADDRESS" --print-reply --dest=org.certrevoke1 \
                /org/certrevoke1 "org.certrevoke1.Manager.$member" "$@"
}

# as_root MEMBER ARGS…: the same as root, which must succeed.
as_root() {
        ds_as root "$@" >/dev/null || cr_die "as root: $* failed"
}

# snapshot: what a call could change: ListUsers and every user object's
# properties as root sees them, and the confirmation file.
snapshot() {
        cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager ListUsers
        cr_busctl call org.certrevoke1 /org/certrevoke1 org.freedesktop.DBus.ObjectManager GetManagedObjects
        if [[ -e $shadow ]]; then
                sha256sum <"$shadow"
        else
                echo "no confirmation file"
        fi
}

prop() {
        cr_busctl get-property org.certrevoke1 "/org/certrevoke1/user/$1" org.certrevoke1.User "$2"
}

shadow_line() {
        grep "^$1:" "$shadow" 2>/dev/null || true
}

# A role at or below both the actor's and different from the target's.
lower_role() {
        case $1 in
        master | admin) echo general ;;
        general) echo worker ;;
        worker) echo general ;;
        esac
}

n_cases=0
case_no=0

# call METHOD ACTOR TARGET_ROLE: the call the table's cell stands for.
call() {
        local method=$1 actor=$2 trole=$3 target=${TARGET[$3]}
        case $method in
        SuspendUser | ResumeUser)
                ds_as "$actor" "$method" "string:$target" "string:${PASSWORD[$actor]}" ;;
        SetUserRole)
                ds_as "$actor" SetUserRole "string:$target" "string:$(lower_role "$trole")" ;;
        RemoveUser)
                ds_as "$actor" RemoveUser "string:$target" ;;
        SetConfirmationPassword)
                ds_as "$actor" SetConfirmationPassword "string:$target" "string:Nw7#Case-$case_no-Pq9" \
                        "string:${PASSWORD[$actor]}" ;;
        AddUser)
                ds_as "$actor" AddUser string:newbie string:Newbie "string:$trole" "uint32:$NEWBIE_UID" ;;
        esac
}

# prepare METHOD TARGET_ROLE: resuming needs a suspended user.
prepare() {
        if [[ $1 == ResumeUser ]]; then
                as_root SuspendUser "string:${TARGET[$2]}" "string:${PASSWORD[root]}"
        fi
}

# done_as_told METHOD TARGET_ROLE: the allowed call did what it says.
done_as_told() {
        local method=$1 trole=$2 target=${TARGET[$2]}
        case $method in
        SuspendUser) assert_eq "b true" "$(prop "$target" Suspended)" "$target is suspended" ;;
        ResumeUser) assert_eq "b false" "$(prop "$target" Suspended)" "$target is resumed" ;;
        SetUserRole) assert_eq "s \"$(lower_role "$trole")\"" "$(prop "$target" Role)" "$target's new role" ;;
        RemoveUser)
                assert_exit 1 cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager GetUser s "$target"
                assert_contains "$CR_LAST_OUTPUT" "no user with login ID \"$target\"" ;;
        SetConfirmationPassword)
                [[ -n $(shadow_line "$target") && $(shadow_line "$target") != "$old_line" ]] ||
                        cr_fail_at "$target's confirmation password is set" "$(shadow_line "$target")" ;;
        AddUser) assert_eq "s \"$trole\"" "$(prop newbie Role)" "newbie's role" ;;
        esac
}

# restore METHOD TARGET_ROLE: back to the world the next cell starts from.
restore() {
        local method=$1 target=${TARGET[$2]}
        case $method in
        SuspendUser | ResumeUser)
                [[ $(prop "$target" Suspended) == "b false" ]] ||
                        as_root ResumeUser "string:$target" "string:${PASSWORD[root]}" ;;
        SetUserRole) as_root SetUserRole "string:$target" "string:${ROLE_OF[$target]}" ;;
        RemoveUser)
                if ! cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager GetUser s "$target" \
                        >/dev/null 2>&1; then
                        as_root AddUser "string:$target" "string:${target^}" "string:${ROLE_OF[$target]}" \
                                "uint32:${UID_OF[$target]}"
                fi ;;
        AddUser)
                if cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager GetUser s newbie \
                        >/dev/null 2>&1; then
                        as_root RemoveUser string:newbie
                fi ;;
        esac
}

# ---- the matrix

while read -r -u 3 method actor_role cm ca cg cw; do
        [[ -n $method && $method != \#* ]] || continue
        declare -A want=([master]=$cm [admin]=$ca [general]=$cg [worker]=$cw)
        actor=${ACTOR[$actor_role]}
        for trole in master admin general worker; do
                case_no=$((case_no + 1))
                what="$method by $actor ($actor_role) on ${TARGET[$trole]} ($trole)"
                prepare "$method" "$trole"
                old_line=$(shadow_line "${TARGET[$trole]}")
                before=$(snapshot)
                if [[ ${want[$trole]} == ok ]]; then
                        assert_exit 0 call "$method" "$actor" "$trole" || cr_fail_at "$what: refused"
                        done_as_told "$method" "$trole" || cr_fail_at "$what: not done"
                else
                        assert_exit 1 call "$method" "$actor" "$trole" || cr_fail_at "$what: allowed"
                        assert_contains "$CR_LAST_OUTPUT" "Error $ACCESS_DENIED" "$what"
                        assert_eq "$before" "$(snapshot)" "$what: a refused call changes nothing"
                fi
                restore "$method" "$trole"
                n_cases=$((n_cases + 1))
        done
done 3<<<"$TABLE"
assert_eq 120 "$n_cases" "5 actors x 4 target roles x 6 methods"

# ---- the reasons, as a caller reads them

assert_exit 1 ds_as adam SuspendUser string:boss "string:${PASSWORD[adam]}"
assert_contains "$CR_LAST_OUTPUT" "adam is not allowed to suspend boss: an admin user cannot act on a master user"
assert_exit 1 ds_as gina RemoveUser string:greg
assert_contains "$CR_LAST_OUTPUT" "gina is not allowed to remove-user greg: a general user cannot manage accounts"
assert_exit 1 ds_as walt AddUser string:newbie string:Newbie string:worker "uint32:$NEWBIE_UID"
assert_contains "$CR_LAST_OUTPUT" "walt is not allowed to add-user newbie: a worker user cannot manage accounts"
# The master the admin tried to suspend still sees everyone and acts.
assert_eq "b false" "$(prop boss Suspended)"
assert_exit 0 cr_as "${UID_OF[boss]}" busctl --address="$CR_BUS_ADDRESS" --json=short call org.certrevoke1 \
        /org/certrevoke1 org.certrevoke1.Manager ListUsers
for who in adam ann boss gina greg mona wade walt; do
        assert_contains "$CR_LAST_OUTPUT" "\"$who\"" "boss still sees $who"
done
# Nobody gives a role above their own, to others or to themselves.
before=$(snapshot)
assert_exit 1 ds_as adam SetUserRole string:greg string:master
assert_contains "$CR_LAST_OUTPUT" "adam is not allowed to set-role greg: an admin user cannot give the role master"
assert_exit 1 ds_as adam SetUserRole string:adam string:master
assert_contains "$CR_LAST_OUTPUT" "Error $ACCESS_DENIED"
assert_exit 1 ds_as gina SetUserRole string:gina string:admin
assert_contains "$CR_LAST_OUTPUT" "Error $ACCESS_DENIED"
assert_eq "$before" "$(snapshot)" "refused promotions change nothing"
# Up to one's own role is fine.
assert_exit 0 ds_as adam SetUserRole string:greg string:admin
assert_eq 's "admin"' "$(prop greg Role)"
as_root SetUserRole string:greg string:general
# Root's own confirmation password is root's business.
before=$(snapshot)
assert_exit 1 ds_as boss SetConfirmationPassword string:root string:Nw7#Root-Pq9-x "string:${PASSWORD[boss]}"
assert_contains "$CR_LAST_OUTPUT" "boss is not allowed to set-confirmation-password root: only root acts on root"
assert_eq "$before" "$(snapshot)"
# An unknown target is NoSuchUser to those who may manage users, and tells
# the others nothing.
assert_exit 1 ds_as adam RemoveUser string:nosuch
assert_contains "$CR_LAST_OUTPUT" "Error org.certrevoke1.Error.NoSuchUser"
assert_exit 1 ds_as gina RemoveUser string:nosuch
assert_contains "$CR_LAST_OUTPUT" "Error $ACCESS_DENIED"

# ---- the last active master

# With mona suspended, boss is the last active master.
as_root SuspendUser string:mona "string:${PASSWORD[root]}"
before=$(snapshot)
assert_exit 1 ds_as boss SuspendUser string:boss "string:${PASSWORD[boss]}"
assert_contains "$CR_LAST_OUTPUT" \
        "Error $ACCESS_DENIED: boss is not allowed to suspend boss: the last active master user can only be suspended by root"
assert_exit 1 ds_as boss SetUserRole string:boss string:admin
assert_contains "$CR_LAST_OUTPUT" "the last active master user can only be demoted by root"
assert_exit 1 ds_as boss RemoveUser string:boss
assert_contains "$CR_LAST_OUTPUT" "the last active master user can only be removed by root"
assert_eq "$before" "$(snapshot)" "the last master's refused calls change nothing"
# Staying a master is no demotion.
assert_exit 0 ds_as boss SetUserRole string:boss string:master
# Root may do all of it.
assert_exit 0 ds_as root SuspendUser string:boss "string:${PASSWORD[root]}"
assert_eq "b true" "$(prop boss Suspended)"
as_root ResumeUser string:boss "string:${PASSWORD[root]}"
assert_exit 0 ds_as root SetUserRole string:boss string:admin
assert_eq 's "admin"' "$(prop boss Role)"
as_root SetUserRole string:boss string:master
assert_exit 0 ds_as root RemoveUser string:boss
as_root AddUser string:boss string:Boss string:master "uint32:${UID_OF[boss]}"
# With mona back, boss may step down himself: one active master remains.
as_root ResumeUser string:mona "string:${PASSWORD[root]}"
assert_exit 0 ds_as boss SetUserRole string:boss string:admin
assert_eq 's "admin"' "$(prop boss Role)"
as_root SetUserRole string:boss string:master

# ---- authorized again once the confirmation came

# From here on the PAM check takes 2 s, so that calls are under way
# together; the checks run one at a time (the test's PAM lock).
sed -i '1i auth optional pam_exec.so quiet /bin/sleep 2' "$CR_TMP/pam/certrevoke"

# wait_for_pam: until a confirmation is under way.
wait_for_pam() {
        local i
        for ((i = 0; i < 200; i++)); do
                pgrep -f "$CR_TMP/pam.lock" >/dev/null && return 0
                sleep 0.05
        done
        cr_fail_at "no confirmation under way"
}

# A role taken away while PAM ran counts.
(ds_as adam SuspendUser string:greg "string:${PASSWORD[adam]}" >"$CR_TMP/late.out" 2>&1) &
late=$!
wait_for_pam
as_root SetUserRole string:adam string:general
rc=0
wait "$late" || rc=$?
assert_eq 1 "$rc" "adam suspends greg after losing the admin role: $(cat "$CR_TMP/late.out")"
assert_contains "$(cat "$CR_TMP/late.out")" \
        "Error $ACCESS_DENIED: adam is not allowed to suspend greg: a general user cannot manage accounts"
assert_eq "b false" "$(prop greg Suspended)"
as_root SetUserRole string:adam string:admin

# Two masters suspending each other, both asked before either acted: the
# second to be confirmed is suspended by then, so one master stays active.
(ds_as boss SuspendUser string:mona "string:${PASSWORD[boss]}" >"$CR_TMP/boss-suspends.out" 2>&1) &
first=$!
(ds_as mona SuspendUser string:boss "string:${PASSWORD[mona]}" >"$CR_TMP/mona-suspends.out" 2>&1) &
second=$!
ok=0
wait "$first" && ok=$((ok + 1))
wait "$second" && ok=$((ok + 1))
assert_eq 1 "$ok" "one of the two suspensions went through: $(cat "$CR_TMP"/*-suspends.out)"
assert_contains "$(cat "$CR_TMP"/*-suspends.out)" "a suspended user can do nothing"
suspended=$(for who in boss mona; do prop "$who" Suspended; done | grep -c true || true)
assert_eq 1 "$suspended" "exactly one master is suspended"

cr_stop_daemon
echo "roles OK ($n_cases cases)"
