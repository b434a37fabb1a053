/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The confirmation-password file: parsing good and broken files, hashing
 * and checking, atomic updates (also from 20 processes at once), and the
 * password rules. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "check.h"
#include "confirm-shadow.h"
#include "password-quality.h"

#define HASH_A "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o7TZ8Q6QaeKq5tpaFR7gTj2hLq0Qs0bb0"
#define HASH_B "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/"

static char tmpdir[] = "/tmp/test-confirm-shadow.XXXXXX";
static char logbuf[8192];

/* Collects log lines, to check what they say and what they must not. */
static void log_collect(void *userdata, int priority, const char *format, va_list ap) {
        size_t n = strlen(logbuf);

        (void) userdata, (void) priority;
        if (n + 2 < sizeof logbuf) {
                vsnprintf(logbuf + n, sizeof logbuf - n - 1, format, ap);
                strcat(logbuf, "\n");
        }
}

static const ConfirmShadowLog collect = { .func = log_collect };

static int parse(const char *text, ConfirmShadow *s) {
        logbuf[0] = '\0';
        return confirm_shadow_parse(text, strlen(text), "f", &collect, s);
}

static char *path_in_tmp(const char *name) {
        static char buf[4][256];
        static int i;

        i = (i + 1) % 4;
        snprintf(buf[i], sizeof buf[i], "%s/%s", tmpdir, name);
        return buf[i];
}

static void write_file(const char *path, const char *text, mode_t mode) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text) || close(fd) < 0) {
                perror(path);
                exit(2);
        }
        chmod(path, mode);
}

/* The file's bytes, NUL-terminated (NULs inside would cut it; none are). */
static char *slurp(const char *path) {
        static char buf[65536];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);

        if (fd >= 0)
                close(fd);
        buf[n < 0 ? 0 : n] = '\0';
        return buf;
}

static void test_parse_good(void) {
        ConfirmShadow s = {};
        const ConfirmShadowEntry *e;
        int r;

        r = parse("alice:" HASH_A ":\n"
                  "\n"
                  "bob:" HASH_B ":suspended\n"
                  "carol.x_y-z@example:!:future-flag,suspended,\n", &s);
        CHECK(r == 0, "good file parses");
        CHECK(s.n_entries == 3 && s.n_skipped == 0, "three logins, nothing skipped (%zu, %zu)", s.n_entries, s.n_skipped);
        e = confirm_shadow_find(&s, "alice");
        CHECK(e && strcmp(e->hash, HASH_A) == 0 && *e->flags == '\0' && e->line == 1, "alice found with her hash, no flags, line 1");
        CHECK(e && !confirm_shadow_entry_has_flag(e, "suspended"), "alice not suspended");
        e = confirm_shadow_find(&s, "bob");
        CHECK(e && e->line == 3 && confirm_shadow_entry_has_flag(e, "suspended"), "bob suspended, line 3");
        e = confirm_shadow_find(&s, "carol.x_y-z@example");
        CHECK(e && confirm_shadow_entry_has_flag(e, "suspended") && confirm_shadow_entry_has_flag(e, "future-flag") &&
              !confirm_shadow_entry_has_flag(e, "future"), "carol: both flags, no prefix match");
        CHECK(!confirm_shadow_find(&s, "dave") && !confirm_shadow_find(&s, "") && !confirm_shadow_find(&s, "alic"),
              "unknown logins not found");
        CHECK(strcmp(s.entries[0].login, "alice") == 0 && strcmp(s.entries[2].login, "carol.x_y-z@example") == 0,
              "entries in file order");
        confirm_shadow_done(&s);
        confirm_shadow_done(&s);        /* twice is harmless */

        CHECK(parse("", &s) == 0 && s.n_entries == 0 && s.n_skipped == 0, "empty file: no logins");
        confirm_shadow_done(&s);
        CHECK(parse("\n\n", &s) == 0 && s.n_entries == 0 && s.n_skipped == 0, "blank lines only: no logins");
        confirm_shadow_done(&s);
}

/* text must give exactly `entries` logins and `skipped` skipped lines. */
static void expect(const char *what, const char *text, size_t len, size_t entries, size_t skipped) {
        ConfirmShadow s = {};
        int r;

        logbuf[0] = '\0';
        r = confirm_shadow_parse(text, len, "f", &collect, &s);
        CHECK(r == 0 && s.n_entries == entries && s.n_skipped == skipped,
              "%s: %zu logins, %zu skipped (got %zu, %zu)", what, entries, skipped, s.n_entries, s.n_skipped);
        confirm_shadow_done(&s);
}

#define EXPECT(what, text, entries, skipped) expect(what, text, sizeof(text) - 1, entries, skipped)

static void test_parse_bad(void) {
        const char *tail = ":x:\nok:" HASH_A ":\n";
        size_t n = CONFIRM_SHADOW_LINE_MAX + 10;
        char *overlong;

        EXPECT("no newline at the end", "alice:" HASH_A ":\nbob:" HASH_B ":suspended", 1, 1);
        CHECK(strstr(logbuf, "f:2: no newline") != NULL, "the cut line is logged by number");
        EXPECT("cut inside the flags", "alice:" HASH_A ":\nbob:" HASH_B ":susp", 1, 1);
        EXPECT("cut inside the hash", "alice:" HASH_A ":\nbob:$y$j9T$F5", 1, 1);
        EXPECT("cut after the login", "alice:" HASH_A ":\nbo", 1, 1);
        EXPECT("missing fields", "a\nb:" HASH_A "\nc:" HASH_A ":\n", 1, 2);
        EXPECT("fourth field", "a:" HASH_A "::\nb:" HASH_A ":x:y\n", 0, 2);
        EXPECT("empty login", ":" HASH_A ":\n", 0, 1);
        EXPECT("empty hash", "a::\n", 0, 1);
        EXPECT("colon first and last", ":a:b:\n", 0, 1);
        EXPECT("colons only", "::\n:::\n", 0, 2);
        EXPECT("CRLF", "a:" HASH_A ":\r\nb:" HASH_A ":\n", 1, 1);
        EXPECT("space in login", "a b:" HASH_A ":\n", 0, 1);
        EXPECT("bad flag characters", "a:" HASH_A ":sus pended\nb:" HASH_A ":x;y\n", 0, 2);
        EXPECT("control byte in hash", "a:$y$\x01:\n", 0, 1);
        EXPECT("high bytes", "\xe3\x81\x82:" HASH_A ":\n", 0, 1);
        EXPECT("NUL byte", "a:" HASH_A ":\0\nb:" HASH_A ":\n", 1, 1);
        EXPECT("duplicate login, first counts", "a:" HASH_A ":\nb:" HASH_A ":\na:" HASH_B ":suspended\n", 2, 1);
        CHECK(strstr(logbuf, "f:3: login of line 1 again") != NULL, "the duplicate is logged");
        EXPECT("garbage", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\n", 0, 3);

        overlong = malloc(n + strlen(tail));
        memset(overlong, 'a', n);
        memcpy(overlong + n, tail, strlen(tail));
        expect("overlong line", overlong, n + strlen(tail), 1, 1);
        CHECK(strstr(logbuf, "f:1: line too long") != NULL, "overlong line logged");
        free(overlong);

        /* A skipped line is told by number and reason, never by content. */
        EXPECT("log without content", "alice:" HASH_A ":bad flag\nsecret-typed-here\n", 0, 2);
        CHECK(!strstr(logbuf, HASH_A) && !strstr(logbuf, "secret") && !strstr(logbuf, "alice"),
              "log lines hold no hash, password or login");
}

static void test_verify(void) {
        char *h = NULL;
        char longpw[CONFIRM_SHADOW_PASSWORD_MAX + 2];

        CHECK(confirm_shadow_hash("correct horse", &h) == 0 && h, "hashing works");
        CHECK(h && strncmp(h, "$y$", 3) == 0, "yescrypt by default (%s)", h ? "$y$…" : "none");
        CHECK(h && !strstr(h, "correct"), "the hash does not hold the password");
        CHECK(confirm_shadow_verify(h, "correct horse"), "right password matches");
        CHECK(!confirm_shadow_verify(h, "correct horsf"), "wrong password does not");
        CHECK(!confirm_shadow_verify(h, "correct hors"), "a prefix does not");
        CHECK(!confirm_shadow_verify(h, ""), "empty password does not");
        free(h);

        CHECK(confirm_shadow_verify(HASH_B, "password") || true, "SHA-512 hash is checked (no crash)");
        CHECK(!confirm_shadow_verify("!", ""), "locked entry: empty password refused");
        CHECK(!confirm_shadow_verify("*", "*"), "locked entry: anything refused");
        CHECK(!confirm_shadow_verify("", ""), "empty hash matches nothing");
        /* crypt("abc", "ab") — DES, which cuts passwords at 8 characters. */
        CHECK(!confirm_shadow_verify("abZ2zTQ5m.IZ.", "abc"), "legacy DES hash refused");

        memset(longpw, 'x', sizeof longpw - 1);
        longpw[sizeof longpw - 1] = '\0';
        CHECK(confirm_shadow_hash(longpw, &h) == -EINVAL, "overlong password not hashed");
        CHECK(confirm_shadow_hash("", &h) == -EINVAL, "empty password not hashed");
        longpw[CONFIRM_SHADOW_PASSWORD_MAX] = '\0';
        h = NULL;
        CHECK(confirm_shadow_hash(longpw, &h) == 0 && confirm_shadow_verify(h, longpw), "longest password works");
        free(h);
}

static mode_t mode_of(const char *path) {
        struct stat st;

        return stat(path, &st) < 0 ? (mode_t) -1 : st.st_mode & 07777;
}

static void test_update(void) {
        const char *path = path_in_tmp("confirm.shadow");
        ConfirmShadow s = {};
        const ConfirmShadowEntry *e;
        char before[4096], *text;

        unlink(path);
        CHECK(confirm_shadow_update(path, "alice", NULL, CONFIRM_SHADOW_SUSPENDED, 0, &collect) == -ENOENT,
              "flags for a login without a line: -ENOENT");
        CHECK(access(path, F_OK) < 0, "and no file made");
        CHECK(confirm_shadow_update(path, "alice", "alice-pass-1", 0, 0, &collect) == 0, "first password creates the file");
        CHECK(mode_of(path) == 0600, "mode 0600 (%04o)", (unsigned) mode_of(path));

        {
                /* Another login and one with flags this code does not know. */
                char extra[4096];
                snprintf(extra, sizeof extra, "%sbob:" HASH_B ":future,other\ncarol:" HASH_A ":\n", slurp(path));
                write_file(path, extra, 0600);
        }
        snprintf(before, sizeof before, "%s", slurp(path));

        CHECK(confirm_shadow_update(path, "alice", "alice-pass-2", 0, 0, &collect) == 0, "alice's password changed");
        CHECK(confirm_shadow_read(path, &collect, &s) == 0 && s.n_entries == 3 && s.n_skipped == 0, "three lines");
        e = confirm_shadow_find(&s, "alice");
        CHECK(e && confirm_shadow_verify(e->hash, "alice-pass-2") && !confirm_shadow_verify(e->hash, "alice-pass-1"),
              "new password works, old does not");
        CHECK(e && e->line == 1, "alice stays on line 1");
        confirm_shadow_done(&s);
        text = slurp(path);
        CHECK(strstr(text, "bob:" HASH_B ":future,other\ncarol:" HASH_A ":\n") != NULL, "other lines unchanged");
        CHECK(!strstr(text, "alice-pass"), "no password in clear in the file");
        CHECK(mode_of(path) == 0600, "still 0600");

        CHECK(confirm_shadow_update(path, "bob", NULL, CONFIRM_SHADOW_SUSPENDED, 0, &collect) == 0, "bob suspended");
        CHECK(strstr(slurp(path), "bob:" HASH_B ":future,other,suspended\n") != NULL, "unknown flags kept, suspended added");
        CHECK(confirm_shadow_update(path, "bob", NULL, CONFIRM_SHADOW_SUSPENDED, 0, &collect) == 0 &&
              strstr(slurp(path), "bob:" HASH_B ":future,other,suspended\n") != NULL, "suspending twice adds it once");
        CHECK(confirm_shadow_update(path, "bob", NULL, 0, CONFIRM_SHADOW_SUSPENDED, &collect) == 0 &&
              strstr(slurp(path), "bob:" HASH_B ":future,other\n") != NULL, "resumed: only suspended removed");
        CHECK(confirm_shadow_update(path, "dave", "dave-pass-1", CONFIRM_SHADOW_SUSPENDED, 0, &collect) == 0, "dave added suspended");
        CHECK(confirm_shadow_read(path, NULL, &s) == 0 && s.n_entries == 4 &&
              strcmp(s.entries[3].login, "dave") == 0 && confirm_shadow_entry_has_flag(&s.entries[3], "suspended"),
              "new login at the end, with its flag");
        confirm_shadow_done(&s);

        CHECK(confirm_shadow_update(path, "bad login", "x-pass-123", 0, 0, NULL) == -EINVAL, "bad login refused");
        CHECK(confirm_shadow_update(path, "a:b", "x-pass-123", 0, 0, NULL) == -EINVAL, "colon in login refused");
        CHECK(confirm_shadow_update(path, "alice", "", 0, 0, NULL) == -EINVAL, "empty password refused");
        CHECK(confirm_shadow_update(path, "alice", NULL, CONFIRM_SHADOW_SUSPENDED, CONFIRM_SHADOW_SUSPENDED, NULL) == -EINVAL,
              "set and clear the same flag refused");
        CHECK(confirm_shadow_update(path, "alice", NULL, 1u << 7, 0, NULL) == -EINVAL, "unknown flag bit refused");

        CHECK(confirm_shadow_remove(path, "carol", &collect) == 0, "carol removed");
        CHECK(confirm_shadow_remove(path, "carol", &collect) == -ENOENT, "removing again: -ENOENT");
        CHECK(!strstr(slurp(path), "carol:") && strstr(slurp(path), "bob:"), "only carol gone");

        /* A malformed line does not survive the next update. */
        snprintf(before, sizeof before, "%sgarbage line\ncut:$y$", slurp(path));
        write_file(path, before, 0600);
        logbuf[0] = '\0';
        CHECK(confirm_shadow_update(path, "alice", NULL, CONFIRM_SHADOW_SUSPENDED, 0, &collect) == 0, "update over garbage");
        CHECK(strstr(logbuf, "line skipped") != NULL, "the garbage was logged");
        CHECK(confirm_shadow_read(path, NULL, &s) == 0 && s.n_skipped == 0 && s.n_entries == 3,
              "file clean again, logins kept");
        confirm_shadow_done(&s);
}

static void test_file_rules(void) {
        const char *path = path_in_tmp("rules.shadow"), *link = path_in_tmp("rules.link");
        ConfirmShadow s = {};

        unlink(path);
        CHECK(confirm_shadow_read(path, NULL, &s) == -ENOENT, "missing file: -ENOENT");
        write_file(path, "a:" HASH_A ":\n", 0620);
        logbuf[0] = '\0';
        CHECK(confirm_shadow_read(path, &collect, &s) == -EPERM, "group-writable file refused");
        CHECK(strstr(logbuf, "writable by group or others") != NULL, "and logged");
        CHECK(confirm_shadow_update(path, "a", "a-pass-1234", 0, 0, NULL) == -EPERM, "and not updated");
        chmod(path, 0602);
        CHECK(confirm_shadow_read(path, NULL, &s) == -EPERM, "other-writable file refused");
        chmod(path, 0644);
        logbuf[0] = '\0';
        CHECK(confirm_shadow_read(path, &collect, &s) == 0 && s.n_entries == 1, "world-readable file read");
        CHECK(strstr(logbuf, "should be 0600") != NULL, "with a warning");
        confirm_shadow_done(&s);
        CHECK(confirm_shadow_update(path, "a", NULL, CONFIRM_SHADOW_SUSPENDED, 0, NULL) == 0 && mode_of(path) == 0600,
              "an update makes it 0600");

        unlink(link);
        CHECK(symlink(path, link) == 0 && confirm_shadow_read(link, NULL, &s) == -EINVAL, "symbolic link refused");
        CHECK(confirm_shadow_read(tmpdir, NULL, &s) == -EINVAL, "directory refused");
        if (geteuid() == 0) {
                CHECK(chown(path, 4321, 4321) == 0 && confirm_shadow_read(path, NULL, &s) == -EPERM,
                      "file of another user refused");
                if (chown(path, 0, 0) < 0)
                        perror("chown");
        }
}

/* 20 processes, each changing its own login 3 times and the shared "zed"
 * once, all at the same moment: every line must be there and whole. */
static void test_concurrent(void) {
        const char *path = path_in_tmp("concurrent.shadow");
        ConfirmShadow s = {};
        int go[2], ok = 1;
        pid_t pids[20];

        unlink(path);
        CHECK(confirm_shadow_update(path, "zed", "zed-pass-123", 0, 0, NULL) == 0, "seed line");
        if (pipe(go) < 0)
                exit(2);
        for (int i = 0; i < 20; i++) {
                pids[i] = fork();
                if (pids[i] == 0) {
                        char login[48], pw[48], c;
                        int bad = 0;

                        close(go[1]);
                        if (read(go[0], &c, 1) < 0)    /* EOF: everyone starts */
                                _exit(3);
                        snprintf(login, sizeof login, "user%02d", i);
                        for (int k = 0; k < 3; k++) {
                                snprintf(pw, sizeof pw, "pass-%02d-%d-xyz", i, k);
                                bad |= confirm_shadow_update(path, login, pw, 0, 0, NULL) != 0;
                        }
                        bad |= confirm_shadow_update(path, "zed", NULL,
                                                     i % 2 ? CONFIRM_SHADOW_SUSPENDED : 0,
                                                     i % 2 ? 0 : CONFIRM_SHADOW_SUSPENDED, NULL) != 0;
                        _exit(bad);
                }
        }
        close(go[0]);
        close(go[1]);
        for (int i = 0; i < 20; i++) {
                int status = 0;

                waitpid(pids[i], &status, 0);
                ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        CHECK(ok, "all 20 writers succeeded");
        CHECK(confirm_shadow_read(path, NULL, &s) == 0 && s.n_entries == 21 && s.n_skipped == 0,
              "21 whole lines (%zu, %zu skipped)", s.n_entries, s.n_skipped);
        for (int i = 0; i < 20; i++) {
                char login[48], pw[48];
                const ConfirmShadowEntry *e;

                snprintf(login, sizeof login, "user%02d", i);
                snprintf(pw, sizeof pw, "pass-%02d-2-xyz", i);
                e = confirm_shadow_find(&s, login);
                if (!e || !confirm_shadow_verify(e->hash, pw)) {
                        CHECK(false, "%s has its last password", login);
                        break;
                }
        }
        CHECK(confirm_shadow_find(&s, "zed") && confirm_shadow_verify(confirm_shadow_find(&s, "zed")->hash, "zed-pass-123"),
              "zed's password survived the flag changes");
        confirm_shadow_done(&s);
        CHECK(mode_of(path) == 0600, "still 0600");
        CHECK(!strstr(slurp(path), "pass-"), "no password in clear");
}

#define CRACKLIB_DICT "/var/cache/cracklib/cracklib_dict.pwd"

static void test_quality(void) {
        char why[PASSWORD_QUALITY_REASON_MAX];

        CHECK(password_quality_check("alice", "short", NULL, why, sizeof why, NULL) == -EINVAL &&
              strstr(why, "shorter than 8"), "7 characters refused (%s)", why);
        CHECK(password_quality_check("alice", "\xe3\x81\x82\xe3\x81\x84\xe3\x81\x86", NULL, why, sizeof why, NULL) == -EINVAL,
              "9 bytes but 3 characters refused");
        CHECK(password_quality_check("alice-long", "ALICE-LONG", NULL, why, sizeof why, NULL) == -EINVAL &&
              strstr(why, "login"), "the login ID refused (%s)", why);
        CHECK(password_quality_check("alice", "Kx7#mQ2v!pL9", "Kx7#mQ2v!pL9", why, sizeof why, NULL) == -EINVAL,
              "the old password refused");
        logbuf[0] = '\0';
        CHECK(password_quality_check("alice", "Kx7#mQ2v!pL9", "Tz4%hW8n&rB3", why, sizeof why, &collect) == 0,
              "a good one passes (%s)", why);
        /* make deps installs cracklib's dictionary; without it the
         * dictionary check is skipped and the next check means nothing. */
        CHECK(access(CRACKLIB_DICT, R_OK) == 0, "cracklib's dictionary %s is installed (make deps)", CRACKLIB_DICT);
        CHECK(!strstr(logbuf, "dictionary check skipped"), "no warning with the dictionary in place (%s)", logbuf);
        CHECK(password_quality_check("alice", "chocolate1", NULL, why, sizeof why, NULL) == -EINVAL &&
              strstr(why, "dictionary"), "libpwquality refuses a dictionary word (%s)", why);
        CHECK(password_quality_check("alice", "aaaaaaaaaaaa", NULL, why, sizeof why, NULL) == -EINVAL,
              "libpwquality refuses a monotonous one (%s)", why);
}

/* What libpwquality and libcrypt must never be given: an unbounded old
 * password once overflowed libpwquality's stack; a control character makes
 * a password that cannot be typed back. */
static void test_quality_bounds(void) {
        const char *controls[] = { "Kx7#mQ2v\npL9", "Kx7#mQ2v\tpL9", "Kx7#mQ2v\x7fpL9", "Kx7#mQ2v\x1b[0mpL9",
                                   "Kx7#mQ2v\xc2\x85pL9", "Kx7#mQ2v\xc2\x9fpL9", "\rKx7#mQ2vpL9" };
        size_t huge_size = 90000;
        char why[PASSWORD_QUALITY_REASON_MAX], *huge = malloc(huge_size + 1);
        char at_limit[CONFIRM_SHADOW_PASSWORD_MAX + 2];

        CHECK(huge != NULL, "memory for a long password");
        if (!huge)
                return;
        memset(huge, 'a', huge_size);
        huge[huge_size] = '\0';
        CHECK(password_quality_check("alice", "Kx7#mQ2v!pL9", huge, why, sizeof why, NULL) == -EINVAL &&
              strstr(why, "current password is too long"), "a 90000-byte old password is refused (%s)", why);
        CHECK(password_quality_check("alice", huge, "Tz4%hW8n&rB3", why, sizeof why, NULL) == -EINVAL &&
              strstr(why, "too long"), "a 90000-byte new password is refused (%s)", why);
        free(huge);

        /* 511 bytes pass the bound (and then libpwquality judges them), 512 do not */
        for (size_t i = 0; i < CONFIRM_SHADOW_PASSWORD_MAX; i++)
                at_limit[i] = "Tz4%hW8n&rB3"[i % 12];
        at_limit[CONFIRM_SHADOW_PASSWORD_MAX] = '\0';
        CHECK(password_quality_check("alice", "Kx7#mQ2v!pL9", at_limit, why, sizeof why, NULL) == 0,
              "a 511-byte old password is compared (%s)", why);
        at_limit[CONFIRM_SHADOW_PASSWORD_MAX] = 'x';
        at_limit[CONFIRM_SHADOW_PASSWORD_MAX + 1] = '\0';
        CHECK(password_quality_check("alice", "Kx7#mQ2v!pL9", at_limit, why, sizeof why, NULL) == -EINVAL,
              "a 512-byte old password is refused");
        CHECK(password_quality_check("alice", at_limit, NULL, why, sizeof why, NULL) == -EINVAL &&
              strstr(why, "too long"), "a 512-byte new password is refused (%s)", why);

        for (size_t i = 0; i < sizeof controls / sizeof controls[0]; i++) {
                CHECK(password_has_control(controls[i]), "control character %zu found", i);
                CHECK(password_quality_check("alice", controls[i], NULL, why, sizeof why, NULL) == -EINVAL &&
                      strcmp(why, "the new confirmation password contains a control character") == 0,
                      "control character %zu refused, saying why (%s)", i, why);
        }
        CHECK(!password_has_control("Kx7#mQ2v!pL9 ゲータ\xc2\xa0"), "spaces, no-break spaces and Japanese are no control");
}

int main(void) {
        if (!mkdtemp(tmpdir)) {
                perror("mkdtemp");
                return 2;
        }
        test_parse_good();
        test_parse_bad();
        test_verify();
        test_update();
        test_file_rules();
        test_concurrent();
        test_quality();
        test_quality_bounds();
        if (!check_failed) {
                char cmd[300];

                snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", tmpdir);
                if (system(cmd) != 0)
                        return 2;
        }
        return CHECK_EXIT();
}
