#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# Who may see and do what, from the caller's UID as the bus reports it: root
# (UID 0), a master, an admin, a general and a worker user, and a UID that
# has a passwd entry but is no certrevoke user.  ListUsers, GetUser, the
# user objects' properties, GetManagedObjects and the object tree show every
# user to master/admin/root and only themselves to the others; AddUser,
# RemoveUser and SetUserRole are for root, master and admin users, an admin
# neither acting on a master nor giving the role master (test-roles.sh runs
# the whole table); ImportCertificate and Rescan for master and admin users.
# A refused call is AccessDenied (certrevokectl exit 4), changes nothing,
# and is written to the history.
# Signals tell a general user no more than ListUsers does.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon dbus-send busctl softhsm2-util pkcs11-tool openssl setpriv sqlite3
cr_need_python

cr_world_init

ROOT=0 MASTER=1001 ADMIN=1002 GENERAL=1003 WORKER=1004 STRANGER=1009
everyone="adam boss gina walt"

# bc_as UID ARGS…: busctl on the private bus as UID.
bc_as() {
        local uid=$1
        shift
        cr_as "$uid" busctl --address="$CR_BUS_ADDRESS" "$@"
}

# ds_as UID PATH IFACE.MEMBER ARGS…: dbus-send as UID; prints error names.
ds_as() {
        local uid=$1
        shift
        cr_as "$uid" dbus-send --bus="$CR_BUS_ADDRESS" --print-reply --dest=org.certrevoke1 "$@"
}

# json_get EXPR: evaluates EXPR on the JSON document on stdin (as d).
json_get() {
        "$CR_PYTHON" -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# listed_as UID: the login IDs ListUsers returns to UID, space-separated.
listed_as() {
        bc_as "$1" --json=short call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager ListUsers |
                json_get '" ".join(sorted(u[0] for u in d["data"][0]))'
}

# managed_as UID: the object paths GetManagedObjects returns to UID.
managed_as() {
        bc_as "$1" --json=short call org.certrevoke1 /org/certrevoke1 \
                org.freedesktop.DBus.ObjectManager GetManagedObjects |
                json_get '" ".join(sorted(p.rsplit("/", 1)[1] for p in d["data"][0]))'
}

# tree_as UID: the user object paths of `busctl tree` as UID.
tree_as() {
        bc_as "$1" --list tree org.certrevoke1 | sed -n 's|^/org/certrevoke1/user/||p' | sort | paste -sd' '
}

# snapshot: the whole user table as root sees it.
snapshot() {
        cr_ctl --json list
}

# denied_count ACTOR ACTION: how many refusals of ACTOR doing ACTION the
# history holds.
denied_count() {
        sqlite3 "file:$CR_TMP/state/store.db?mode=ro" \
                "SELECT count(*) FROM history WHERE actor = '$1' AND action = '$2' AND result = 'denied'"
}

cr_token_create card-gina-01
cr_cert_issue "$CR_CA" gina "Gina" "$CR_PAST" "$CR_LATER" "$CR_CERTS/gina.pem"
cr_token_put_cert card-gina-01 "$CR_CERTS/gina.pem" 01 "gina certificate"
cr_cert_issue "$CR_CA" walt "Walt" "$CR_PAST" "$CR_LATER" "$CR_CERTS/walt.pem"
cr_cert_issue "$CR_CA" adam "Adam" "$CR_PAST" "$CR_LATER" "$CR_CERTS/adam.pem"

cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss" master $MASTER
cr_ctl add-user adam "Adam" admin $ADMIN
cr_ctl add-user gina "Gina" general $GENERAL
cr_ctl add-user walt "Walt" worker $WORKER

# ---- seeing users
assert_eq "$everyone" "$(listed_as $ROOT)" "ListUsers as root"
assert_eq "$everyone" "$(listed_as $MASTER)" "ListUsers as a master user"
assert_eq "$everyone" "$(listed_as $ADMIN)" "ListUsers as an admin user"
assert_eq "gina" "$(listed_as $GENERAL)" "ListUsers as a general user"
assert_eq "walt" "$(listed_as $WORKER)" "ListUsers as a worker user"
assert_eq "" "$(listed_as $STRANGER)" "ListUsers as a UID that is no user"
assert_eq "a(sssssto) 0" "$(bc_as $STRANGER call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager ListUsers)"

assert_eq 4 "$(cr_ctl_as $ADMIN list | tail -n +2 | wc -l)" "certrevokectl list as admin"
assert_exit 0 cr_ctl_as $GENERAL list
assert_eq 2 "$(wc -l <<<"$CR_LAST_OUTPUT")" "certrevokectl list as general: a header and one row"
assert_contains "$(tail -n1 <<<"$CR_LAST_OUTPUT")" "gina"

# GetUser / show
assert_eq 'o "/org/certrevoke1/user/boss"' \
        "$(bc_as $ADMIN call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager GetUser s boss)"
assert_eq 'o "/org/certrevoke1/user/gina"' \
        "$(bc_as $GENERAL call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager GetUser s gina)"
assert_exit 1 bc_as $GENERAL call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager GetUser s boss
# busctl shows a well-known error by its errno text, not the message.
assert_eq "Call failed: Access denied" "$CR_LAST_OUTPUT"
assert_exit 1 ds_as $GENERAL /org/certrevoke1 org.certrevoke1.Manager.GetUser string:boss
assert_contains "$CR_LAST_OUTPUT" "Error org.freedesktop.DBus.Error.AccessDenied"
# Whether someone exists is not told to those who may not see them.
assert_exit 1 ds_as $GENERAL /org/certrevoke1 org.certrevoke1.Manager.GetUser string:nosuch
assert_contains "$CR_LAST_OUTPUT" "Error org.freedesktop.DBus.Error.AccessDenied"
assert_exit 1 ds_as $ADMIN /org/certrevoke1 org.certrevoke1.Manager.GetUser string:nosuch
assert_contains "$CR_LAST_OUTPUT" "Error org.certrevoke1.Error.NoSuchUser"
assert_exit 1 ds_as $STRANGER /org/certrevoke1 org.certrevoke1.Manager.GetUser string:gina
assert_contains "$CR_LAST_OUTPUT" "Error org.freedesktop.DBus.Error.AccessDenied"

assert_exit 4 cr_ctl_as $GENERAL show boss
assert_contains "$CR_LAST_OUTPUT" "certrevokectl: gina may only look up their own user"
assert_exit 4 cr_ctl_as $WORKER show gina
assert_exit 4 cr_ctl_as $STRANGER show gina
assert_exit 0 cr_ctl_as $GENERAL show gina
assert_contains "$CR_LAST_OUTPUT" "Login ID: gina"
assert_exit 0 cr_ctl_as $ADMIN show walt
assert_contains "$CR_LAST_OUTPUT" "Role: Worker user"
assert_exit 3 cr_ctl_as $ADMIN show nosuch

# The user objects: another user's object is not there for a general user.
for who in boss adam walt; do
        assert_exit 1 bc_as $GENERAL get-property org.certrevoke1 "/org/certrevoke1/user/$who" \
                org.certrevoke1.User Name
        assert_contains "$CR_LAST_OUTPUT" "Unknown object '/org/certrevoke1/user/$who'"
done
assert_exit 1 ds_as $GENERAL "/org/certrevoke1/user/boss" org.freedesktop.DBus.Properties.GetAll \
        string:org.certrevoke1.User
assert_contains "$CR_LAST_OUTPUT" "Error org.freedesktop.DBus.Error.UnknownObject"
assert_exit 1 ds_as $STRANGER "/org/certrevoke1/user/gina" org.freedesktop.DBus.Properties.Get \
        string:org.certrevoke1.User string:CertificateSerial
assert_contains "$CR_LAST_OUTPUT" "Error org.freedesktop.DBus.Error.UnknownObject"
assert_eq 's "Boss"' "$(bc_as $ADMIN get-property org.certrevoke1 /org/certrevoke1/user/boss org.certrevoke1.User Name)"
assert_eq 's "general"' "$(bc_as $MASTER get-property org.certrevoke1 /org/certrevoke1/user/gina org.certrevoke1.User Role)"
assert_eq 'u 1003' "$(bc_as $GENERAL get-property org.certrevoke1 /org/certrevoke1/user/gina org.certrevoke1.User Uid)"

# GetManagedObjects and the object tree.
assert_eq "$everyone" "$(managed_as $ADMIN)" "GetManagedObjects as admin"
assert_eq "$everyone" "$(managed_as $ROOT)" "GetManagedObjects as root"
assert_eq "gina" "$(managed_as $GENERAL)" "GetManagedObjects as general"
assert_eq "walt" "$(managed_as $WORKER)" "GetManagedObjects as worker"
assert_eq "" "$(managed_as $STRANGER)" "GetManagedObjects as a UID that is no user"
assert_eq "$everyone" "$(tree_as $ADMIN)" "busctl tree as admin"
assert_eq "gina" "$(tree_as $GENERAL)" "busctl tree as general"
assert_eq "" "$(tree_as $STRANGER)" "busctl tree as a UID that is no user"
# Introspecting the users' node lists only the caller's own object.
assert_exit 0 bc_as $GENERAL introspect --xml-interface org.certrevoke1 /org/certrevoke1/user
assert_contains "$CR_LAST_OUTPUT" '<node name="gina"/>'
assert_not_contains "$CR_LAST_OUTPUT" '<node name="boss"/>'

# ---- managing users: root, master and admin users
before=$(snapshot)
for uid in $GENERAL $WORKER $STRANGER; do
        assert_exit 4 cr_ctl_as "$uid" add-user newbie "Newbie" general 1008
        assert_contains "$CR_LAST_OUTPUT" "is not allowed to add-user"
        assert_exit 4 cr_ctl_as "$uid" remove-user walt
        assert_contains "$CR_LAST_OUTPUT" "is not allowed to remove-user"
        assert_exit 4 cr_ctl_as "$uid" set-role gina admin
        assert_contains "$CR_LAST_OUTPUT" "is not allowed to set-role"
        assert_exit 1 ds_as "$uid" /org/certrevoke1 org.certrevoke1.Manager.AddUser \
                string:newbie string:Newbie string:general uint32:1008
        assert_contains "$CR_LAST_OUTPUT" "Error org.freedesktop.DBus.Error.AccessDenied"
        assert_exit 1 ds_as "$uid" /org/certrevoke1 org.certrevoke1.Manager.RemoveUser string:walt
        assert_contains "$CR_LAST_OUTPUT" "Error org.freedesktop.DBus.Error.AccessDenied"
        assert_exit 1 ds_as "$uid" /org/certrevoke1 org.certrevoke1.Manager.SetUserRole string:gina string:master
        assert_contains "$CR_LAST_OUTPUT" "Error org.freedesktop.DBus.Error.AccessDenied"
done
# An admin user neither acts on a master user nor makes one.
assert_exit 4 cr_ctl_as $ADMIN add-user newbie "Newbie" master 1008
assert_contains "$CR_LAST_OUTPUT" "adam is not allowed to add-user newbie: an admin user cannot give the role master"
assert_exit 4 cr_ctl_as $ADMIN remove-user boss
assert_contains "$CR_LAST_OUTPUT" "adam is not allowed to remove-user boss: an admin user cannot act on a master user"
assert_exit 4 cr_ctl_as $ADMIN set-role boss general
assert_exit 4 cr_ctl_as $ADMIN set-role gina master
# Not even to raise oneself.
assert_exit 4 cr_ctl_as $GENERAL set-role gina master
assert_contains "$CR_LAST_OUTPUT" "gina is not allowed to set-role gina: a general user cannot manage accounts"
assert_exit 4 cr_ctl_as $ADMIN set-role adam master
assert_exit 4 cr_ctl_as $STRANGER add-user stranger "Stranger" master $STRANGER
assert_eq "$before" "$(snapshot)" "refused user management changes nothing"
assert_exit 4 cr_ctl_as $GENERAL show newbie
assert_eq 2 "$(denied_count gina add-user)" "the history records gina's refused AddUser calls"
# A stranger's are aggregated: the first is a row at once, the rest are
# held and told as one row with their count when the interval ends.
assert_eq 1 "$(denied_count uid:$STRANGER add-user)" "and a stranger's first, by UID"
assert_eq 1 "$(sqlite3 "file:$CR_TMP/state/store.db?mode=ro" \
        "SELECT count(*) FROM history WHERE actor = 'uid:$STRANGER'")" "the rest are held"

for uid in $ROOT $MASTER $ADMIN; do
        assert_exit 0 cr_ctl_as "$uid" add-user newbie "Newbie" general 1008
        assert_exit 0 cr_ctl_as "$uid" set-role newbie admin
        assert_eq 's "admin"' "$(cr_busctl get-property org.certrevoke1 /org/certrevoke1/user/newbie org.certrevoke1.User Role)"
        assert_exit 0 cr_ctl_as "$uid" remove-user newbie
        assert_exit 3 cr_ctl show newbie
done
assert_eq "$before" "$(snapshot)"

# ---- ImportCertificate and Rescan: master and admin users
assert_exit 4 cr_ctl_as $GENERAL import-cert gina "$CR_CERTS/gina.pem"
assert_contains "$CR_LAST_OUTPUT" "gina is not allowed to import-certificate"
assert_exit 4 cr_ctl_as $WORKER import-cert walt "$CR_CERTS/walt.pem"
assert_exit 4 cr_ctl_as $STRANGER import-cert walt "$CR_CERTS/walt.pem"
assert_exit 4 cr_ctl_as $GENERAL rescan
assert_contains "$CR_LAST_OUTPUT" "gina is not allowed to rescan"
assert_exit 4 cr_ctl_as $WORKER rescan
assert_exit 4 cr_ctl_as $STRANGER rescan
assert_exit 1 bc_as $GENERAL call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager Rescan
assert_eq "Call failed: Access denied" "$CR_LAST_OUTPUT"
assert_eq "$before" "$(snapshot)" "refused imports and rescans change nothing"
assert_eq 's "not-issued"' "$(cr_busctl get-property org.certrevoke1 /org/certrevoke1/user/gina org.certrevoke1.User CertificateState)"

assert_exit 0 cr_ctl_as $ADMIN import-cert walt "$CR_CERTS/walt.pem"
assert_exit 0 cr_ctl_as $MASTER import-cert adam "$CR_CERTS/adam.pem"
assert_exit 0 cr_ctl_as $ADMIN rescan
assert_eq "1 certificate seen" "$CR_LAST_OUTPUT"
assert_exit 0 cr_ctl_as $MASTER rescan
assert_eq "u 1" "$(bc_as $ADMIN call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager Rescan)"
for who in walt adam gina; do
        assert_eq 's "issued"' "$(cr_busctl get-property org.certrevoke1 "/org/certrevoke1/user/$who" \
                org.certrevoke1.User CertificateState)" "$who's certificate"
done
# A general user sees their own certificate, and only theirs.
assert_exit 0 cr_ctl_as $GENERAL --json list
assert_eq "gina issued" "$(json_get '" ".join(u["login_id"] + " " + u["state"] for u in d)' <<<"$CR_LAST_OUTPUT")"

# ---- signals: a general user listening on the bus learns no more than
# ListUsers tells them.  dbus-monitor, refused as a monitor, falls back to
# ordinary match rules, as any client may add.
cr_as $GENERAL timeout 30 dbus-monitor --address "$CR_BUS_ADDRESS" "type='signal',sender='org.certrevoke1'" \
        >"$CR_TMP/general-monitor.out" 2>&1 &
monitor=$!
cr_track $monitor
for _ in {1..100}; do
        grep -q "member=NameAcquired" "$CR_TMP/general-monitor.out" && break
        sleep 0.1
done
assert_contains "$(cat "$CR_TMP/general-monitor.out")" "member=NameAcquired" "the general user's listener is on the bus"
cr_ctl set-role boss master
cr_ctl add-user secret "Secret Person" admin 1007
cr_ctl set-role secret general
cr_ctl import-cert walt "$CR_CERTS/walt.pem"
cr_ctl remove-user secret
# A change to gina herself, as a marker that the listener has caught up
# (if she hears her own signals at all; otherwise give them a moment).
cr_ctl set-role gina worker
cr_ctl set-role gina general
for _ in {1..30}; do
        (($(grep -c 'path=/org/certrevoke1/user/gina;' "$CR_TMP/general-monitor.out") >= 2)) && break
        sleep 0.1
done
cr_kill_pids $monitor
cr_untrack $monitor
# What was heard, in short: each signal's path and member, the object paths
# it carried, and any name of another user.
heard=$(grep -oE 'path=[^;]*; interface=[^;]*; member=[A-Za-z]+|object path "[^"]*"|Secret Person' \
        "$CR_TMP/general-monitor.out" | sort | uniq -c)
for other in boss secret walt; do
        assert_not_contains "$heard" "/org/certrevoke1/user/$other" \
                "a general user must not receive signals about $other"
done
assert_not_contains "$heard" "Secret Person" "a general user must not learn other users' names from signals"

cr_stop_daemon
echo "access OK"
