#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# GetManagedObjects on the Manager's ObjectManager, as clients such as the
# web console read the user objects:
#
# - a master or admin user gets every user, and each user's properties are
#   exactly those Properties.GetAll gives for that object, for users whose
#   certificates are issued, renewed, expired, never issued and revoked;
# - a general user gets their own object only, a UID that is no user none;
# - with more users than one reply can carry on the bus (dbus-daemon's
#   default of 32 MiB a message), the call is refused with LimitsExceeded
#   and the service stays on the bus: ListUsers, GetAll and a general
#   user's GetManagedObjects still answer;
# - what the service keeps from one call to the next never hides a change:
#   a change by another call, by another writer of the store, or the expiry
#   of a certificate shows in the very next call, and a worker still sees
#   only their own object;
# - every object lists the standard interfaces sd-bus lists with it.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon dbus-send busctl softhsm2-util pkcs11-tool openssl setpriv sqlite3
cr_need_python

cr_world_init
cr_pam_init

ROOT=0 BOSS=1001 ADAM=1002 ALICE=1003 BOB=1004 CAROL=1005 DAVE=1006 ERIN=1007 STRANGER=1009
BOSS_PW='Boss-Confirm#5150'
everyone="adam alice bob boss carol dave erin"

# ---- local helpers

# bc_as UID ARGS…: busctl on the private bus as UID.
bc_as() {
        local uid=$1
        shift
        cr_as "$uid" busctl --address="$CR_BUS_ADDRESS" "$@"
}

# managed_as UID: GetManagedObjects as UID, as busctl's JSON.
managed_as() {
        bc_as "$1" --json=short call org.certrevoke1 /org/certrevoke1 \
                org.freedesktop.DBus.ObjectManager GetManagedObjects
}

# getall_as UID LOGIN: the user object's properties (GetAll) as UID, as JSON.
getall_as() {
        bc_as "$1" --json=short call org.certrevoke1 "/org/certrevoke1/user/$2" \
                org.freedesktop.DBus.Properties GetAll s org.certrevoke1.User
}

# py EXPR ARG…: evaluates EXPR with json loaded and the arguments in a.
py() {
        "$CR_PYTHON" -c 'import json, sys; a = sys.argv[2:]; print(eval(sys.argv[1]))' "$@"
}

# managed_logins JSON: the login IDs of the user objects in a GetManagedObjects reply.
managed_logins() {
        py '" ".join(sorted(p.rsplit("/", 1)[1] for p in json.loads(a[0])["data"][0]))' "$1"
}

# managed_user JSON LOGIN: LOGIN's org.certrevoke1.User properties in a
# GetManagedObjects reply, as sorted JSON.
managed_user() {
        py 'json.dumps(json.loads(a[0])["data"][0]["/org/certrevoke1/user/" + a[1]]["org.certrevoke1.User"], sort_keys=True, ensure_ascii=False)' "$1" "$2"
}

# getall_user JSON: the properties of a GetAll reply, as sorted JSON.
getall_user() {
        py 'json.dumps(json.loads(a[0])["data"][0], sort_keys=True, ensure_ascii=False)' "$1"
}

# assert_managed_as UID LOGINS: GetManagedObjects as UID lists exactly the
# users LOGINS (space-separated, sorted), each with every property and the
# values GetAll gives for the object, asked by the same UID.
assert_managed_as() {
        local uid=$1 want=$2 reply login props
        reply=$(managed_as "$uid")
        assert_eq "a{oa{sa{sv}}}" "$(py 'json.loads(a[0])["type"]' "$reply")" "GetManagedObjects' signature"
        assert_eq "$want" "$(managed_logins "$reply")" "the users GetManagedObjects shows UID $uid"
        for login in $want; do
                props=$(managed_user "$reply" "$login")
                assert_eq "$all_properties" "$(py '" ".join(sorted(json.loads(a[0])))' "$props")" \
                        "every property of $login, as UID $uid"
                assert_eq "$(getall_user "$(getall_as "$uid" "$login")")" "$props" \
                        "$login's properties in GetManagedObjects and GetAll, as UID $uid"
        done
}

# fill_bulk N: N users bulkNNNNNN with UIDs from 200001 and one valid
# certificate each, of the sizes a real one has; written into the store while
# the daemon is stopped.
fill_bulk() {
        local now_us
        now_us=$(($(date +%s) * 1000000))
        sqlite3 "$CR_TMP/state/store.db" <<EOF
PRAGMA foreign_keys = ON;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
INSERT INTO users (login_id, name, role, uid, created_usec)
SELECT printf('bulk%06d', i), printf('一括利用者 %d', i), 'general', 200000 + i, $now_us FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
INSERT INTO certificates (user_id, der, serial, issuer, subject, not_before_usec,
                          not_after_usec, fingerprint, uri, seen_usec)
SELECT (SELECT id FROM users WHERE login_id = printf('bulk%06d', i)),
       randomblob(1100), printf('%016X', 1048576 + i),
       'CN=Demo Org Certificate Authority,O=Demo Org',
       printf('CN=一括利用者 %d,UID=bulk%06d,O=Demo Org', i, i),
       $now_us - 86400000000, $now_us + 365 * 86400000000,
       printf('%064x', 1048576 + i), printf('pkcs11:token=bulk-%06d;type=cert', i), $now_us
  FROM n;
COMMIT;
EOF
}

# ---- the users: one certificate in each state
cr_card alice "Alice"
cr_cert_issue "$CR_CA" bob "ゲータ太郎" "$(cr_date_utc '-300 days')" "$(cr_date_utc '+60 days')" "$CR_CERTS/bob1.pem"
cr_cert_issue "$CR_CA" bob "ゲータ太郎" "$(cr_date_utc '-10 days')" "$(cr_date_utc '+2 years')" "$CR_CERTS/bob2.pem"
cr_card carol "Carol" 20181216095939Z 20191216095939Z
cr_cert_issue "$CR_CA" erin "Erin" "$CR_PAST" "$CR_LATER" "$CR_CERTS/erin.pem"

cr_start_bus
cr_pam_password boss "$BOSS_PW"
cr_start_daemon
cr_wait_first_crl

cr_ctl add-user boss "Boss" master $BOSS
cr_ctl add-user adam "Adam" admin $ADAM
cr_ctl add-user alice "Alice" general $ALICE
cr_ctl add-user bob "ゲータ太郎" admin $BOB
cr_ctl add-user carol "Carol" worker $CAROL
cr_ctl add-user dave "Dave" general $DAVE
cr_ctl add-user erin "Erin" general $ERIN
assert_exit 0 cr_ctl rescan
for f in bob1 bob2 erin; do
        assert_exit 0 cr_ctl import-cert "${f%[0-9]}" "$CR_CERTS/$f.pem"
done
assert_exit 0 cr_revoke_as $BOSS erin "" keyCompromise "$BOSS_PW"

all_properties=$(py '" ".join(sorted(a))' LoginId Name Role Uid CertificateState CertificateSerial \
        CertificateSubject CertificateNotAfter CertificateURI RevokedAt RevocationReason \
        CertificateRemoval Suspended)
# The comparisons below cover every state.
states=$(cr_ctl --json list | py '" ".join(u["login_id"] + ":" + u["state"] for u in json.loads(sys.stdin.read()))')
assert_eq "adam:not-issued alice:issued bob:renewed boss:not-issued carol:expired dave:not-issued erin:revoked" \
        "$states" "the users' certificate states"

# ---- who sees what, with the same properties as GetAll
assert_managed_as $ROOT "$everyone"
assert_managed_as $BOSS "$everyone"
assert_managed_as $ADAM "$everyone"
assert_managed_as $ALICE "alice"
assert_managed_as $CAROL "carol"
assert_managed_as $ERIN "erin"
assert_managed_as $STRANGER ""
reply=$(managed_as $ADAM)
assert_eq '{"data": "revoked", "type": "s"}' \
        "$(py 'json.dumps(json.loads(a[0])["data"][0]["/org/certrevoke1/user/erin"]["org.certrevoke1.User"]["CertificateState"], sort_keys=True)' "$reply")" \
        "erin is revoked in GetManagedObjects"
assert_eq '{"data": "keyCompromise", "type": "s"}' \
        "$(py 'json.dumps(json.loads(a[0])["data"][0]["/org/certrevoke1/user/erin"]["org.certrevoke1.User"]["RevocationReason"], sort_keys=True)' "$reply")"
assert_eq '{"data": 0, "type": "t"}' \
        "$(py 'json.dumps(json.loads(a[0])["data"][0]["/org/certrevoke1/user/dave"]["org.certrevoke1.User"]["CertificateNotAfter"], sort_keys=True)' "$reply")" \
        "no expiry without a certificate"

# ---- nothing kept between calls hides a change
# Each change below, by another call, by another writer of the store or by
# the clock alone, shows in the very next GetManagedObjects of a caller
# whose previous call read every user.

# managed_prop UID LOGIN PROPERTY: PROPERTY of LOGIN's object in a
# GetManagedObjects reply to UID ("absent" if the object is not in it).
managed_prop() {
        py 'str(json.loads(a[0])["data"][0].get("/org/certrevoke1/user/" + a[1], {}).get("org.certrevoke1.User", {}).get(a[2], {}).get("data", "absent"))' \
                "$(managed_as "$1")" "$2" "$3"
}

# Every object lists the interfaces sd-bus lists, in its order, the standard
# ones without properties.
assert_eq "org.freedesktop.DBus.Peer:0 org.freedesktop.DBus.Introspectable:0 org.freedesktop.DBus.Properties:0 org.certrevoke1.User:13" \
        "$(py '" ".join(sorted(set(" ".join(i + ":" + str(len(p)) for i, p in o.items()) for o in json.loads(a[0])["data"][0].values())))' \
                "$(managed_as $ADAM)")" "the interfaces of every user object"

assert_eq "general" "$(managed_prop $ADAM dave Role)" "dave's role before the change"
assert_exit 0 cr_ctl set-role dave admin
assert_eq "admin" "$(managed_prop $ADAM dave Role)" "dave's new role in the next GetManagedObjects"
# and dave, now an admin, sees everyone at once
assert_managed_as $DAVE "$everyone"
# a worker still sees their own object only, right after a call that read everyone
managed_as $ADAM >/dev/null
assert_managed_as $CAROL "carol"

assert_exit 0 cr_ctl add-user frank "Frank" general 1010
assert_eq "frank" "$(managed_prop $ADAM frank LoginId)" "a new user in the next GetManagedObjects"
assert_exit 0 cr_ctl remove-user frank
assert_eq "absent" "$(managed_prop $ADAM frank LoginId)" "a removed user gone from the next GetManagedObjects"

assert_eq "renewed" "$(managed_prop $ADAM bob CertificateState)"
bob_serial=$(cr_cert_serial "$CR_CERTS/bob2.pem")
assert_exit 0 cr_revoke_as $BOSS bob "$bob_serial" superseded "$BOSS_PW"
assert_eq "revoked superseded" "$(managed_prop $ADAM bob CertificateState) $(managed_prop $ADAM bob RevocationReason)" \
        "a revocation in the next GetManagedObjects"

# a writer of the store other than the daemon's own connection
managed_as $ADAM >/dev/null
sqlite3 -cmd ".timeout 10000" "$CR_TMP/state/store.db" "UPDATE users SET name = 'Dave Zwei' WHERE login_id = 'dave'"
assert_eq "Dave Zwei" "$(managed_prop $ADAM dave Name)" "a change by another writer of the store in the next GetManagedObjects"

# the clock alone: a certificate that expires between two calls
gail_end=$(($(date +%s) + 4))
cr_cert_issue "$CR_CA" gail "Gail" "$CR_PAST" "$(date -u -d "@$gail_end" +%Y%m%d%H%M%SZ)" "$CR_CERTS/gail.pem"
assert_exit 0 cr_ctl add-user gail "Gail" general 1011
assert_exit 0 cr_ctl import-cert gail "$CR_CERTS/gail.pem"
assert_eq "issued" "$(managed_prop $ADAM gail CertificateState)" "gail's certificate before its expiry"
while (($(date +%s) <= gail_end)); do
        sleep 0.2
done
assert_eq "expired" "$(managed_prop $ADAM gail CertificateState)" "an expiry in the next GetManagedObjects"
assert_exit 0 cr_ctl remove-user gail

# ---- more users than one message can carry
cr_stop_daemon
fill_bulk 60000
CR_DAEMON_TIMEOUT=60
cr_start_daemon
assert_exit 1 cr_as $ADAM dbus-send --bus="$CR_BUS_ADDRESS" --print-reply --dest=org.certrevoke1 \
        /org/certrevoke1 org.freedesktop.DBus.ObjectManager.GetManagedObjects
assert_contains "$CR_LAST_OUTPUT" "Error org.freedesktop.DBus.Error.LimitsExceeded" "GetManagedObjects of 60007 users"
assert_contains "$CR_LAST_OUTPUT" "use ListUsers"
assert_exit 1 cr_as $ROOT dbus-send --bus="$CR_BUS_ADDRESS" --print-reply --dest=org.certrevoke1 \
        /org/certrevoke1 org.freedesktop.DBus.ObjectManager.GetManagedObjects
assert_contains "$CR_LAST_OUTPUT" "Error org.freedesktop.DBus.Error.LimitsExceeded" "GetManagedObjects as root"
cr_name_has_owner org.certrevoke1 || cr_fail_at "certrevoked left the bus after a refused GetManagedObjects"
assert_eq "a(sssssto) 60007" "$(cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager ListUsers |
        cut -d' ' -f1,2)" "ListUsers still answers"
assert_eq "$(getall_user "$(getall_as $ADAM bulk059999)")" \
        "$(getall_user "$(getall_as $ROOT bulk059999)")" "GetAll of a user among many"
assert_eq '{"data": "CN=一括利用者 59999,UID=bulk059999,O=Demo Org", "type": "s"}' \
        "$(py 'json.dumps(json.loads(a[0])["data"][0]["CertificateSubject"], sort_keys=True, ensure_ascii=False)' \
                "$(getall_as $ADAM bulk059999)")"
assert_managed_as $ALICE "alice"
assert_managed_as $ERIN "erin"
assert_managed_as $STRANGER ""

cr_stop_daemon
echo "managed objects OK"
