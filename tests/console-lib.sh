# shellcheck shell=bash
# The Cockpit console in the test world: cockpit-ws serving the built page
# with the bridge as one of the world's users, on the private bus, and
# headless Chromium driven by the scripts in console/test/.  Sourced after
# tests/lib.sh by the console tests and the demo.
#
# cockpit-ws --local-session runs the bridge as whoever runs cockpit-ws,
# with no login: for tests only.  The user is an nss_wrapper user, so that
# cockpit-ws, the bridge and the bus agree on who it is.
#
# Environment read: CR_COCKPIT_WS (default /usr/lib/cockpit/cockpit-ws),
# CR_CHROMIUM (default /usr/bin/chromium).

CR_COCKPIT_WS=${CR_COCKPIT_WS:-/usr/lib/cockpit/cockpit-ws}
CR_CHROMIUM=${CR_CHROMIUM:-/usr/bin/chromium}
export CR_CHROMIUM
CR_CONSOLE_DIR=$CR_SRCDIR/console
CR_CONSOLE_PAGE=$CR_BUILD/share/cockpit/certrevoke
CR_CONSOLE_PORT=
CR_CONSOLE_PID=

# Where a failing test keeps the browser's screenshot and console log:
# beside its own log (tests/run.sh keeps BUILD/test-logs/integration-NAME.log).
CR_CONSOLE_ARTIFACTS=$CR_BUILD/test-logs/integration-$(basename "$0" .sh)

# cr_console_need: fails, naming what is missing and how to get it, unless
# node, the browser, cockpit-ws, the bridge, the npm packages and the built
# page are all there.  The console tests fail rather than skip, so that a
# machine without them cannot pass make check.
cr_console_need() {
        local missing=()
        command -v node >/dev/null 2>&1 || missing+=("node (Debian package nodejs)")
        [[ -x $CR_COCKPIT_WS ]] || missing+=("$CR_COCKPIT_WS (Debian package cockpit-ws)")
        command -v cockpit-bridge >/dev/null 2>&1 || missing+=("cockpit-bridge (Debian package cockpit-bridge)")
        [[ -f /usr/share/cockpit/base1/cockpit.js || -f /usr/share/cockpit/base1/cockpit.js.gz ]] ||
                missing+=("Cockpit's base1 (Debian package cockpit-bridge)")
        [[ -x $CR_CHROMIUM ]] || missing+=("$CR_CHROMIUM (Debian package chromium)")
        command -v curl >/dev/null 2>&1 || missing+=("curl (Debian package curl)")
        [[ -f $CR_CONSOLE_DIR/node_modules/puppeteer-core/package.json ]] ||
                missing+=("console/node_modules (npm ci in console/)")
        [[ -f $CR_CONSOLE_PAGE/index.js && -f $CR_CONSOLE_PAGE/manifest.json ]] ||
                missing+=("the built page $CR_CONSOLE_PAGE (make all)")
        ((${#missing[@]} == 0)) ||
                cr_die "the console cannot be tested here; missing: ${missing[*]}; make deps installs them"
        mkdir -p "$(dirname "$CR_CONSOLE_ARTIFACTS")"
        rm -f -- "$CR_CONSOLE_ARTIFACTS.png" "$CR_CONSOLE_ARTIFACTS.console.log"
}

# cr_console_group LOGIN…: puts the users in the group certrevoke, whose
# members the bus policy lets receive the daemon's signals (live updates);
# cr_console_start gives the group to the session as a login would.
cr_console_group() {
        local members line
        cr_nss_init
        members=$(
                IFS=,
                echo "$*"
        )
        line=$(grep '^certrevoke:' "$NSS_WRAPPER_GROUP" || true)
        if [[ -n $line && -n ${line##*:} ]]; then
                members=${line##*:},$members
        fi
        grep -v '^certrevoke:' "$NSS_WRAPPER_GROUP" >"$NSS_WRAPPER_GROUP.tmp" || true
        echo "certrevoke:x:990:$members" >>"$NSS_WRAPPER_GROUP.tmp"
        chmod 0644 "$NSS_WRAPPER_GROUP.tmp"
        mv -f -- "$NSS_WRAPPER_GROUP.tmp" "$NSS_WRAPPER_GROUP"
}

# cr_supplementary_groups LOGIN: the GIDs of the groups LOGIN is a member
# of in the world's group file, comma-separated, as a login (initgroups)
# would give them; the bus policy reads them from the socket, not from NSS.
cr_supplementary_groups() {
        awk -F: -v u="$1" '{ n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == u) print $3 }' \
                "$NSS_WRAPPER_GROUP" | paste -sd,
}

# cr_login_ids UID NAME: the setpriv options for UID with NAME's
# supplementary groups.
cr_login_ids() {
        local groups
        groups=$(cr_supplementary_groups "$2")
        if [[ -n $groups ]]; then
                echo "--reuid=$1 --regid=$1 --groups=$groups"
        else
                echo "--reuid=$1 --regid=$1 --clear-groups"
        fi
}

# cr_start_session_bus UID: a session dbus-daemon for the bridge, run as
# UID (the bridge starts one of its own otherwise, outside the world's
# reach), its socket in UID's runtime directory $CR_TMP/home-UID/run;
# sets CR_SESSION_BUS_ADDRESS.
cr_start_session_bus() {
        local uid=$1 i addr=
        {
                echo '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"'
                echo ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">'
                echo '<busconfig>'
                echo '  <type>session</type>'
                echo "  <listen>unix:path=$CR_TMP/home-$uid/run/session-bus.sock</listen>"
                echo '  <auth>EXTERNAL</auth>'
                echo '  <policy context="default">'
                echo '    <allow send_destination="*"/>'
                echo '    <allow own="*"/>'
                echo '  </policy>'
                echo '</busconfig>'
        } >"$CR_TMP/session-bus-$uid.conf"
        : >"$CR_TMP/session-bus-$uid.address"
        chmod 0666 "$CR_TMP/session-bus-$uid.address"
        # setpriv itself, not a function: $! is the bus, which teardown ends
        setpriv --reuid="$uid" --regid="$uid" --clear-groups -- \
                env LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_PASSWD="$NSS_WRAPPER_PASSWD" \
                NSS_WRAPPER_GROUP="$NSS_WRAPPER_GROUP" \
                dbus-daemon --config-file="$CR_TMP/session-bus-$uid.conf" --nofork --nopidfile \
                --print-address=5 5>"$CR_TMP/session-bus-$uid.address" </dev/null >>"$CR_TMP/session-bus.log" 2>&1 &
        cr_track $!
        for ((i = 0; i < 100; i++)); do
                addr=$(head -n1 "$CR_TMP/session-bus-$uid.address")
                [[ -n $addr ]] && break
                sleep 0.05
        done
        [[ -n $addr ]] || cr_die "the session bus for the bridge did not start: $(cat "$CR_TMP/session-bus.log")"
        CR_SESSION_BUS_ADDRESS=$addr
}

# cr_console_start UID: cockpit-ws on 127.0.0.1 (a free port) as UID, with
# the built page first in XDG_DATA_DIRS and the bridge on the private bus.
# Sets CR_CONSOLE_URL (the page itself) and CR_CONSOLE_SHELL_URL (the page
# inside Cockpit's shell).  Call it in the script's own shell.
cr_console_start() {
        local uid=$1 name home i ids
        [[ -n ${CR_BUS_ADDRESS:-} ]] || cr_die "cr_console_start: call cr_start_bus first"
        name=$(awk -F: -v u="$uid" '$3 == u { print $1; exit }' "$NSS_WRAPPER_PASSWD")
        [[ -n $name ]] || cr_die "cr_console_start: UID $uid has no passwd entry (cr_add_passwd)"
        home=$CR_TMP/home-$uid
        mkdir -p "$home/.config" "$home/run"
        chmod 0700 "$home/run"
        chown -R "$uid:$uid" "$home"
        CR_CONSOLE_PORT=$(cr_free_port)
        cr_start_session_bus "$uid"
        # SSH_AUTH_SOCK set: the bridge starts no ssh-agent.  setpriv
        # itself, not a function: $! is cockpit-ws (whose command line does
        # not name $CR_TMP, so teardown's search for strays would miss it).
        read -r -a ids <<<"$(cr_login_ids "$uid" "$name")"
        setpriv "${ids[@]}" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$home" USER="$name" LOGNAME="$name" \
                LANG=C.UTF-8 TZ="${TZ:-UTC}" XDG_RUNTIME_DIR="$home/run" XDG_CONFIG_HOME="$home/.config" \
                XDG_DATA_DIRS="$CR_BUILD/share:/usr/share" \
                DBUS_SYSTEM_BUS_ADDRESS="$CR_BUS_ADDRESS" DBUS_SESSION_BUS_ADDRESS="$CR_SESSION_BUS_ADDRESS" \
                SSH_AUTH_SOCK="$home/run/no-agent" \
                LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_PASSWD="$NSS_WRAPPER_PASSWD" \
                NSS_WRAPPER_GROUP="$NSS_WRAPPER_GROUP" \
                "$CR_COCKPIT_WS" --no-tls --local-session=cockpit-bridge \
                --address 127.0.0.1 --port "$CR_CONSOLE_PORT" \
                </dev/null >>"$CR_TMP/cockpit-ws.log" 2>&1 &
        CR_CONSOLE_PID=$!
        cr_track "$CR_CONSOLE_PID"
        for ((i = 0; i < 100; i++)); do
                if curl -fsS -o /dev/null \
                        "http://127.0.0.1:$CR_CONSOLE_PORT/cockpit/@localhost/certrevoke/manifest.json" 2>/dev/null; then
                        CR_CONSOLE_URL=http://127.0.0.1:$CR_CONSOLE_PORT/cockpit/@localhost/certrevoke/index.html
                        CR_CONSOLE_SHELL_URL=http://127.0.0.1:$CR_CONSOLE_PORT/certrevoke
                        export CR_CONSOLE_URL CR_CONSOLE_SHELL_URL
                        return 0
                fi
                [[ -n $(cr_pids_alive "$CR_CONSOLE_PID") ]] || break
                sleep 0.1
        done
        tail -n 30 "$CR_TMP/cockpit-ws.log" >&2
        cr_die "cockpit-ws did not serve the page on port $CR_CONSOLE_PORT"
}

# cr_console_browser SCRIPT [LANG]: runs console/test/SCRIPT against the
# console (LANG ja or en, default ja).  The browser's console log goes to
# the artifacts (kept with a screenshot when it fails) and to
# $CR_TMP/browser.log; a hook script, if the test wrote $CR_TMP/hook.sh,
# is what the browser script runs to change the world in the middle of a
# flow.
cr_console_browser() {
        local script=$1 lang=${2:-ja} rc=0 hook=
        [[ -n ${CR_CONSOLE_URL:-} ]] || cr_die "cr_console_browser: call cr_console_start first"
        [[ ! -f $CR_TMP/hook.sh ]] || hook=$CR_TMP/hook.sh
        CR_CONSOLE_LANG=$lang CR_CONSOLE_ARTIFACTS=$CR_CONSOLE_ARTIFACTS CR_CONSOLE_HOOK=$hook \
                CR_CONSOLE_PROFILE="$CR_TMP/chromium-profile-$lang" \
                node "$CR_CONSOLE_DIR/test/$script" || rc=$?
        cat "$CR_CONSOLE_ARTIFACTS.console.log" >>"$CR_TMP/browser.log" 2>/dev/null || true
        ((rc == 0)) || cr_fail_at "the browser script $script failed ($rc)" \
                "  screenshot and console log: $CR_CONSOLE_ARTIFACTS.png, .console.log" \
                "  cockpit-ws: $(tail -n 5 "$CR_TMP/cockpit-ws.log" 2>/dev/null)"
}

# cr_console_done: the end of a passing console test: its browser
# artifacts are not needed.
cr_console_done() {
        rm -f -- "$CR_CONSOLE_ARTIFACTS.png" "$CR_CONSOLE_ARTIFACTS.console.log"
}
