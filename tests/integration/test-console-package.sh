#!/bin/bash
# The Cockpit package as built and as a fresh machine gets it, without a
# browser: the manifest, the page loading only Cockpit's API, its
# translations and its own files (nothing from another host), every
# string of the page translated into Japanese, the lock file matching
# package.json, every npm package running on Node 18 (Debian 12's), and
# the page's entry in Cockpit's shell, named in Japanese and in English.

set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/console-lib.sh
. "$CR_SRCDIR/tests/console-lib.sh"

cr_console_need
cr_setup_tmp

assert_exit 0 node "$CR_CONSOLE_DIR/test/check-package.js" "$CR_CONSOLE_PAGE"
assert_exit 0 node "$CR_CONSOLE_DIR/po/extract.js" --check "$CR_CONSOLE_DIR/po/ja.po"
assert_contains "$CR_LAST_OUTPUT" "strings translated"
msgfmt --check -o /dev/null "$CR_CONSOLE_DIR/po/ja.po" 2>"$CR_TMP/msgfmt.err" ||
        cr_fail_at "po/ja.po is not a valid catalogue" "$(cat "$CR_TMP/msgfmt.err")"

# cockpit-ws finds the package where make put it
cr_nss_init
cr_add_passwd viewer 1009
cr_start_bus
cr_console_start 1009
manifests=$(curl -fsS "http://127.0.0.1:$CR_CONSOLE_PORT/cockpit/@localhost/manifests.json")
assert_contains "$manifests" '"certrevoke"' "cockpit-ws lists the package"
assert_exit 0 curl -fsS -o "$CR_TMP/po.js" -H 'Cookie: CockpitLang=ja-jp' \
        "http://127.0.0.1:$CR_CONSOLE_PORT/cockpit/@localhost/certrevoke/po.js"
assert_contains "$(cat "$CR_TMP/po.js")" "証明書失効" "po.js in Japanese when Cockpit's language is Japanese"

# the menu entry of Cockpit's shell in each language, the page in its frame
CR_CONSOLE_URL=$CR_CONSOLE_SHELL_URL CR_EXPECT_LABEL=証明書失効 cr_console_browser check-shell.js ja
CR_CONSOLE_URL=$CR_CONSOLE_SHELL_URL CR_EXPECT_LABEL="Certificate revocation" cr_console_browser check-shell.js en

cr_console_done
echo "console package OK"
