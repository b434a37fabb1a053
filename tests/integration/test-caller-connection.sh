#!/bin/bash
# shellcheck disable=SC2119 # cr_start_daemon is called without arguments
# The service asks the bus daemon once which UID is behind a connection and
# remembers it for that connection's unique name; the user, role and
# suspension behind the UID are read again at every call.  Through
# connections that stay open (tests/helpers/bus-persistent), as a client
# such as a web console keeps them: a user promoted, demoted, removed or
# added again while connected sees exactly what the new state allows at the
# next call, and two users' connections never see each other's view.
# Then more callers than the service remembers (busctl, a connection a
# call), alternating between an admin and a general user, each of whom
# sees their own view; the connections open since then still do too.
# The bus is asked without the service waiting for it: the first calls of
# a connection, sent all at once (tests/helpers/bus-pipeline), wait for the
# answer and then run in the order they came; callers that go before the
# answer leave the service serving.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cr_need_daemon
cr_need_cmd dbus-daemon busctl softhsm2-util openssl setpriv

cr_world_init
cr_write_config "$CR_TMP/certrevoke.conf"
cr_start_bus
for who in adam:1101 gene:1102 gina:1103; do
        cr_add_passwd "${who%:*}" "${who#*:}"
done
cr_start_daemon
cr_ctl add-user adam Adam admin 1101 >/dev/null
cr_ctl add-user gene Gene general 1102 >/dev/null
cr_ctl add-user gina Gina general 1103 >/dev/null
ALL=$(cr_busctl call org.certrevoke1 /org/certrevoke1 org.certrevoke1.Manager ListUsers | awk '{ print $2 }')
[[ $ALL -ge 3 ]] || cr_die "root sees $ALL users, not at least 3"

HELPER=$CR_BUILD/tests/helpers/bus-persistent

# open NAME UID: a connection of UID that stays open, as coprocess NAME.
open_as() {
        local fd_in fd_out ready
        mkfifo "$CR_TMP/$1.in" "$CR_TMP/$1.out"
        cr_as "$2" env DBUS_SYSTEM_BUS_ADDRESS="$CR_BUS_ADDRESS" "$HELPER" \
                <"$CR_TMP/$1.in" >"$CR_TMP/$1.out" &
        cr_track $!
        exec {fd_in}>"$CR_TMP/$1.in" {fd_out}<"$CR_TMP/$1.out"
        eval "IN_$1=$fd_in OUT_$1=$fd_out"
        read -r -t 10 ready <&"$fd_out" || cr_die "$1: no connection"
        [[ $ready == ready\ :* ]] || cr_die "$1: $ready"
}

# sees NAME EXPECTED WHY: NAME's connection calls ListUsers now.
sees() {
        local in out answer
        in=IN_$1 out=OUT_$1
        echo call >&"${!in}"
        read -r -t 10 answer <&"${!out}" || cr_die "$1: no answer"
        [[ $answer == "$2" ]] || cr_die "$1 $3: got '$answer', want '$2'"
        echo "ok: $1 $3: $answer"
}

open_as gene 1102
open_as gina 1103
open_as adam 1101
sees gene 1 "as a general user"
sees adam "$ALL" "as an admin"
sees gina 1 "beside them"

cr_ctl set-role gene admin >/dev/null
sees gene "$ALL" "promoted on the same connection"
sees gina 1 "still general"
cr_ctl set-role gene general >/dev/null
sees gene 1 "demoted again"
cr_ctl set-role adam general >/dev/null
sees adam 1 "demoted admin"
cr_ctl set-role adam admin >/dev/null
sees adam "$ALL" "admin again"

cr_ctl remove-user gina >/dev/null
ALL=$((ALL - 1))
sees gina 0 "removed while connected (no user: sees no one)"
cr_ctl add-user gina Gina admin 1103 >/dev/null
ALL=$((ALL + 1))
sees gina "$ALL" "added again as an admin"

# more one-call connections than the service remembers, two UIDs in turn
for i in $(seq 1 150); do
        n=$(cr_as 1101 busctl --address="$CR_BUS_ADDRESS" call org.certrevoke1 /org/certrevoke1 \
                org.certrevoke1.Manager ListUsers | awk '{ print $2 }')
        [[ $n == "$ALL" ]] || cr_die "one-call connection $i of adam sees $n users"
        n=$(cr_as 1102 busctl --address="$CR_BUS_ADDRESS" call org.certrevoke1 /org/certrevoke1 \
                org.certrevoke1.Manager ListUsers | awk '{ print $2 }')
        [[ $n == 1 ]] || cr_die "one-call connection $i of gene sees $n users"
done
echo "ok: 300 one-call connections, each its own caller's view"
sees gene 1 "after 300 others"
sees adam "$ALL" "after 300 others"
sees gina "$ALL" "after 300 others"

# The first calls of a new connection wait while the bus is asked who sent
# them, and then run in the order they came: a GetUser sent right after an
# AddUser finds the user, and one sent after the RemoveUser does not.
PIPELINE=$CR_BUILD/tests/helpers/bus-pipeline
want=$'ok\nok\nok\norg.certrevoke1.Error.NoSuchUser'
for i in $(seq 1 20); do
        got=$("$PIPELINE" "pipe$i" $((1200 + i))) || cr_die "bus-pipeline $i failed"
        [[ $got == "$want" ]] || cr_die "calls of new connection $i out of order: $(echo $got)"
done
echo "ok: 20 new connections, four calls each sent at once, run in order"

# Connections that go before the bus says who they were: the service
# stays, answers no one, and serves the next caller.
for i in $(seq 1 50); do
        "$PIPELINE" --leave || cr_die "bus-pipeline --leave $i failed"
done
cr_name_has_owner org.certrevoke1 || cr_die "certrevoked left the bus after callers that went"
sees adam "$ALL" "after 50 callers that went before their answer"

