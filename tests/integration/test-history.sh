#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# The operation history under attack and over time.  A UID that is no user
# makes 2,000 refused calls: the first is a row at once, the rest are held
# and written when their minute is over (or the daemon stops), a handful of
# rows whose counts add up to 2,000, and the target's real history stays in
# view.  A user's refusals are each a row.  `certrevokectl history --verify` says the chain
# is intact, and after a row was changed or removed with sqlite3 while the
# daemon was stopped it names that row and exits 1.  [History] MaxEntries=50
# keeps 50 rows after 200 actions, pruned while the daemon runs, and
# MaxAge= prunes old rows at start; the chain verifies after both.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon dbus-send busctl setpriv sqlite3 xargs
cr_need_python

cr_world_init

MASTER=1001 ADMIN=1002 GENERAL=1003 STRANGER=1009
REFUSALS=2000

# sql QUERY: one value from the store (read-only, beside a running daemon).
sql() {
        sqlite3 "file:$CR_TMP/state/store.db?mode=ro" "$1"
}

# sql_write STATEMENT: changes the store behind the daemon's back.
sql_write() {
        [[ -z $CR_DAEMON_PID ]] || cr_die "sql_write: stop the daemon first"
        sqlite3 "$CR_TMP/state/store.db" "$1"
}

# set_history_config KEY=VALUE…: the [History] section of the configuration.
set_history_config() {
        cr_write_config "$CR_TMP/certrevoke.conf"
        printf '\n[History]\n' >>"$CR_TMP/certrevoke.conf"
        printf '%s\n' "$@" >>"$CR_TMP/certrevoke.conf"
}

# wait_for TEST-COMMAND…: up to 20 s for a command to succeed.
wait_for() {
        wait_until $((SECONDS + 20)) "$@"
}

# wait_until SECONDS TEST-COMMAND…: until the script's clock ($SECONDS)
# reads SECONDS for a command to succeed.
wait_until() {
        local end=$1
        shift
        while ((SECONDS < end)); do
                "$@" && return 0
                sleep 0.2
        done
        "$@"
}

rows_are() {
        [[ $(sql "SELECT count(*) FROM history") == "$1" ]]
}

stranger_rows() {
        sql "SELECT count(*) FROM history WHERE actor = 'uid:$STRANGER'"
}

stranger_rows_at_least() {
        (($(stranger_rows) >= $1))
}

# suspend_refused UID LOGIN N: N SuspendUser calls as UID, four at a time.
suspend_refused() {
        # shellcheck disable=SC2016 # expanded by the shell that runs as UID
        cr_as "$1" env ADDR="$CR_BUS_ADDRESS" LOGIN="$2" N="$3" bash -c '
                for ((i = 0; i < N; i++)); do echo "$i"; done |
                        xargs -P4 -n1 sh -c "dbus-send --bus=\$ADDR --print-reply --dest=org.certrevoke1 \
                                /org/certrevoke1 org.certrevoke1.Manager.SuspendUser string:\$LOGIN string:x \
                                >/dev/null 2>&1 && echo ACCEPTED; true" _'
}

# counted_history LOGIN: the refusals and actions GetHistory's rows stand
# for, by "actor action result" with the count from the " ×N" of a result.
counted_history() {
        cr_busctl --json=short call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager \
                GetHistory stu "$1" 0 0 |
                "$CR_PYTHON" -c '
import collections, json, re, sys
d = json.load(sys.stdin)
assert d["type"] == "a(tssss)", d["type"]
n = collections.Counter()
for _, actor, action, target, result in d["data"][0]:
    m = re.fullmatch(r"(.*) \u00d7([0-9]+)", result)
    n[" ".join((actor, action, m.group(1) if m else result))] += int(m.group(2)) if m else 1
for k in sorted(n):
    print(n[k], k)'
}

set_history_config
cr_start_bus
cr_start_daemon
cr_ctl add-user boss "Boss" master $MASTER
cr_ctl add-user adam "Adam" admin $ADMIN
cr_ctl add-user taro "Taro" general $GENERAL
cr_ctl set-role taro worker
cr_ctl set-role taro general

# ---- 2,000 refusals from a UID that is no user
first_refusal=$SECONDS
assert_exit 1 cr_as $STRANGER dbus-send --bus="$CR_BUS_ADDRESS" --print-reply --dest=org.certrevoke1 \
        /org/certrevoke1 org.certrevoke1.Manager.SuspendUser string:taro string:x
assert_contains "$CR_LAST_OUTPUT" "Error org.freedesktop.DBus.Error.AccessDenied"
before=$(sql "SELECT count(*) FROM history")
assert_eq "" "$(suspend_refused $STRANGER taro $((REFUSALS - 1)))" "every call of the stranger is refused"
if ((SECONDS - first_refusal < 50)); then
        assert_eq 1 "$(stranger_rows)" "the first refusal is a row at once; the rest are held for the interval"
        assert_eq "$before" "$(sql "SELECT count(*) FROM history")" "nothing else was written meanwhile"
else
        cr_log "the refusals took $((SECONDS - first_refusal)) s: more than one interval"
fi
taro=$(cr_history taro)
assert_contains "$taro" "root add-user taro ok" "taro's real history is still in view"
assert_contains "$taro" "root set-role taro worker"
assert_contains "$taro" "root set-role taro general"
assert_exit 0 cr_ctl history taro
assert_contains "$CR_LAST_OUTPUT" "set-role"

# A user's refusals are never aggregated.
assert_eq "" "$(suspend_refused $GENERAL adam 3)"
assert_eq 3 "$(sql "SELECT count(*) FROM history WHERE actor = 'taro' AND action = 'suspend' AND count = 1")" \
        "each of a user's refusals is a row of its own"

# When the minute is over, the held refusals become one row with their count.
wait_until $((first_refusal + 80)) stranger_rows_at_least 2 ||
        cr_fail_at "the refusals held were not written when their interval ended"
rows=$(stranger_rows)
((rows <= 4)) || cr_fail_at "2,000 refusals left $rows rows, not a handful"
assert_eq "$REFUSALS" "$(sql "SELECT sum(count) FROM history WHERE actor = 'uid:$STRANGER'")" \
        "the rows count every refusal"
counted=$(counted_history taro)
assert_contains "$counted" "$REFUSALS uid:$STRANGER suspend denied" "GetHistory tells the count in the result"
assert_contains "$counted" "1 root set-role general"
assert_contains "$(cr_history taro)" "uid:$STRANGER suspend taro denied ×"
assert_exit 0 cr_ctl --json history taro
assert_eq "$REFUSALS" "$("$CR_PYTHON" -c '
import json, sys
print(sum(e["count"] for e in json.load(sys.stdin) if e["actor"] == sys.argv[1]))' "uid:$STRANGER" \
        <<<"$CR_LAST_OUTPUT")" "certrevokectl --json gives the count"

# Refused still: the next interval holds again, and stopping writes it.
assert_eq "" "$(suspend_refused $STRANGER taro 5)"
assert_eq "$rows" "$(stranger_rows)" "held again"
cr_stop_daemon
assert_eq $((rows + 1)) "$(stranger_rows)" "stopping writes the refusals held"
assert_eq $((REFUSALS + 5)) "$(sql "SELECT sum(count) FROM history WHERE actor = 'uid:$STRANGER'")"
cr_start_daemon

# ---- the chain
assert_exit 0 cr_ctl history --verify
assert_contains "$CR_LAST_OUTPUT" "The operation history is intact"
assert_exit 0 cr_ctl_as $ADMIN history --verify
assert_exit 0 cr_ctl --json history --verify
assert_eq "True 0 " "$("$CR_PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
print(d["intact"], d["first_bad_row"], d["why"])' <<<"$CR_LAST_OUTPUT")"
assert_exit 4 cr_ctl_as $GENERAL history --verify
assert_exit 4 cr_ctl_as $STRANGER history --verify
assert_exit 2 cr_ctl history taro --verify
assert_exit 2 cr_ctl list --verify
assert_exit 0 env LANGUAGE= LC_ALL=ja_JP.UTF-8 CERTREVOKE_LOCALEDIR="$CR_BUILD/locale" \
        "$CR_BUILD/certrevokectl" --address="$CR_BUS_ADDRESS" history --verify
assert_contains "$CR_LAST_OUTPUT" "操作履歴は改ざんされていません"

changed=$(sql "SELECT id FROM history WHERE actor = 'root' AND action = 'set-role' AND result = 'worker'")
cr_stop_daemon
sql_write "UPDATE history SET result = 'admin' WHERE id = $changed"
cr_start_daemon
assert_exit 1 cr_ctl history --verify
assert_contains "$CR_LAST_OUTPUT" "entry $changed does not fit the chain"
assert_contains "$CR_LAST_OUTPUT" "row $changed (" "the reason names the row"
assert_contains "$CR_LAST_OUTPUT" "root set-role taro: admin) was changed after it was written"
assert_exit 1 cr_ctl --json history --verify
assert_eq "False $changed" "$("$CR_PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
print(d["intact"], d["first_bad_row"])' <<<"$CR_LAST_OUTPUT")"
assert_exit 1 env LANGUAGE= LC_ALL=ja_JP.UTF-8 CERTREVOKE_LOCALEDIR="$CR_BUILD/locale" \
        "$CR_BUILD/certrevokectl" --address="$CR_BUS_ADDRESS" history --verify
assert_contains "$CR_LAST_OUTPUT" "履歴 $changed が連鎖と一致しません"
cr_stop_daemon
sql_write "UPDATE history SET result = 'worker' WHERE id = $changed"
cr_start_daemon
assert_exit 0 cr_ctl history --verify

# ---- MaxEntries=50 keeps 50 after 200 actions, pruned while running
cr_stop_daemon
set_history_config MaxEntries=50
cr_start_daemon
for ((i = 0; i < 100; i++)); do
        cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager SetUserRole ss taro worker
        cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager SetUserRole ss taro general
done
last=$(sql "SELECT max(id) FROM history")
wait_for rows_are 50 || cr_fail_at "MaxEntries=50 kept $(sql "SELECT count(*) FROM history") rows"
assert_eq "$((last - 49)) $last" "$(sql "SELECT min(id) || ' ' || max(id) FROM history")" "the newest 50 stay"
assert_eq "root set-role taro general" "$(cr_history "" | tail -n1)" "the last action is the newest row"
assert_eq "$((last - 50))" "$(sql "SELECT anchor_id FROM history_chain")" "the last row pruned is the anchor"
assert_exit 0 cr_ctl history --verify
assert_contains "$CR_LAST_OUTPUT" "intact: 50 entries"

# ---- MaxAge: old rows, inserted before the chain and made so in it while
# the daemon was stopped, go at start
cr_stop_daemon
set_history_config MaxAge=30d
old_usec=$((($(date +%s) - 400 * 86400) * 1000000))
first=$(sql "SELECT min(id) FROM history")
anchor=$(sql "SELECT anchor_id FROM history_chain")
for ((i = 0; i < 5; i++)); do
        sql_write "INSERT INTO history (id, time_usec, actor, action, target, result)
                   VALUES ($((anchor - i)), $old_usec, 'boss', 'revoke', 'taro', 'ok')"
done
sql_write "UPDATE history SET time_usec = $old_usec WHERE id >= $first AND id < $first + 10"
cr_start_daemon
wait_for test "$(sql "SELECT count(*) FROM history WHERE time_usec = $old_usec")" = 0 ||
        cr_fail_at "rows older than MaxAge=30d were not pruned"
assert_eq "$((first + 10))" "$(sql "SELECT min(id) FROM history")" "the fifteen old rows went, no other"
assert_eq "$((first + 9))" "$(sql "SELECT anchor_id FROM history_chain")" "the anchor is the last of the chain's"
assert_contains "$(tail -n 5 "$CR_TMP/daemon.log")" "history: pruned 15 old entries"
assert_exit 0 cr_ctl history --verify
assert_contains "$CR_LAST_OUTPUT" "intact"

# ---- a row removed
removed=$((first + 20))
cr_stop_daemon
sql_write "DELETE FROM history WHERE id = $removed"
cr_start_daemon
assert_exit 1 cr_ctl history --verify
assert_contains "$CR_LAST_OUTPUT" "entry $((removed + 1)) does not fit the chain"
assert_contains "$CR_LAST_OUTPUT" "does not follow row $((removed - 1))"

cr_stop_daemon
cr_log "ok"
