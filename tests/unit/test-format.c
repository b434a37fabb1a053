/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the pure parts of certrevokectl (service/ctl-format.c):
 * labels and dates in English and Japanese, column padding by display
 * width, JSON escaping, pattern matching, the exit-code table, the
 * revocation reasons, serials, history actions, --since and --limit,
 * reading a password line, and the tables and JSON arrays of rows.
 * Prints one "ok - ..." or "not ok - ..." line per check; exits non-zero if
 * any check failed. */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <locale.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "certrevoke.h"
#include "ctl-format.h"

/* 2019-12-16 09:59:39 in Japan, the expiry shown on the product page. */
#define SEED_EXPIRY_USEC (UINT64_C(1576457979) * UINT64_C(1000000))

static int failures;

static void check(bool ok, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *format, ...) {
        va_list ap;

        fputs(ok ? "ok - " : "not ok - ", stdout);
        va_start(ap, format);
        vprintf(format, ap);
        va_end(ap);
        fputc('\n', stdout);
        if (!ok)
                failures++;
}

static void check_str(const char *got, const char *want, const char *what) {
        bool ok = got && strcmp(got, want) == 0;

        check(ok, "%s is \"%s\"", what, want);
        if (!ok)
                printf("#   got \"%s\"\n", got ? got : "(null)");
}

static void check_int(long got, long want, const char *what) {
        check(got == want, "%s is %ld", what, want);
        if (got != want)
                printf("#   got %ld\n", got);
}

/* POSIX TZ strings need no tz database; tzset() makes localtime_r see them. */
static void set_tz(const char *tz) {
        setenv("TZ", tz, 1);
        tzset();
}

static void check_time(uint64_t usec, const char *want, const char *what) {
        char buf[128];
        int r = ctl_format_time(usec, buf, sizeof buf);

        check_str(r >= 0 ? buf : NULL, want, what);
}

static void check_pad(const char *s, size_t width, CtlAlign align, const char *want) {
        _cleanup_free_ char *p = NULL;
        char what[256];

        snprintf(what, sizeof what, "pad(\"%s\", %zu, %s)", s, width, align == CTL_ALIGN_LEFT ? "left" : "right");
        check_str(ctl_pad(s, width, align, &p) >= 0 ? p : NULL, want, what);
}

static void check_json(const char *s, const char *want, const char *what) {
        _cleanup_free_ char *e = NULL;

        check_str(ctl_json_escape(s, &e) >= 0 ? e : NULL, want, what);
}

static void test_exit_codes(void) {
        static const struct {
                const char *name;
                int code;
        } cases[] = {
                { CR_ERROR_INVALID_ARGS,                                       2 },
                { CR_ERROR_NO_SUCH_USER,                                       3 },
                { "org.freedesktop.DBus.Error.UnknownObject",                  3 },
                { CR_ERROR_ACCESS_DENIED,                                      4 },
                { "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired", 4 },
                { CR_ERROR_AUTHENTICATION_FAILED,                              5 },
                { CR_ERROR_RATE_LIMITED,                                       6 },
                { CR_ERROR_NOT_REVOCABLE,                                      7 },
                { CR_ERROR_CERTIFICATE_CHANGED,                                7 },
                { CR_ERROR_USER_EXISTS,                                        8 },
                { CR_ERROR_BUSY,                                               9 },
                { "org.freedesktop.DBus.Error.ServiceUnknown",                 1 },
                { "org.freedesktop.DBus.Error.NoReply",                        1 },
                { "org.certrevoke1.Error.SomethingNew",                        1 },
                { "",                                                          1 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                check_int(ctl_exit_code_from_error_name(cases[i].name), cases[i].code, cases[i].name);
        check_int(ctl_exit_code_from_error_name(NULL), 1, "exit code of no error name");
}

/* --help prints the table as it stands, so it must be in order, describe
 * every status 0..9 once and name no error twice. */
static void test_exit_code_table(void) {
        int described[CTL_EXIT_BUSY + 1] = { 0 };
        bool ordered = true, unique = true;

        for (size_t i = 0; i < ctl_exit_codes_count; i++) {
                const CtlExitCode *e = &ctl_exit_codes[i];

                if (i > 0 && e->code < ctl_exit_codes[i - 1].code)
                        ordered = false;
                if (e->description && e->code >= 0 && e->code <= CTL_EXIT_BUSY)
                        described[e->code]++;
                for (size_t j = 0; j < i && e->error_name; j++)
                        if (ctl_exit_codes[j].error_name && strcmp(ctl_exit_codes[j].error_name, e->error_name) == 0)
                                unique = false;
        }
        check(ordered, "exit-code table is in exit-status order");
        check(unique, "exit-code table names each error once");
        for (int c = 0; c <= CTL_EXIT_BUSY; c++)
                check(described[c] == 1, "exit status %d is described once", c);
}

/* Busy names when to try again at the end of its message. */
static void test_busy_retry(void) {
        static const struct {
                const char *message;
                int r;
                unsigned seconds;
        } cases[] = {
                { "UID 1003 used up its share of expensive calls: try again in 3 s", 0, 3 },
                { "the service's queue is full: try again in 1 s", 0, 1 },
                { "a reason that says try again in 9 s: try again in 12 s", 0, 12 },
                { "try again in 4294967295 s", 0, 4294967295u },
                { "try again in 4294967296 s", -EINVAL, 0 },
                { "try again in 0 s", -EINVAL, 0 },
                { "try again in 05 s", -EINVAL, 0 },
                { "try again in -1 s", -EINVAL, 0 },
                { "try again in 3 seconds", -EINVAL, 0 },
                { "try again in 3 s.", -EINVAL, 0 },
                { "try again in s", -EINVAL, 0 },
                { "try again later", -EINVAL, 0 },
                { "", -EINVAL, 0 },
                { NULL, -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                unsigned seconds = 0;
                int r = ctl_busy_retry_seconds(cases[i].message, &seconds);

                check(r == cases[i].r && (r < 0 || seconds == cases[i].seconds),
                      "retry time of \"%s\": %d, %u", cases[i].message ? cases[i].message : "(null)", r, seconds);
        }
}

static void test_json(void) {
        _cleanup_free_ char *mem = NULL;
        size_t size = 0;
        FILE *f;

        check_json("", "\"\"", "JSON of the empty string");
        check_json("sachiboh", "\"sachiboh\"", "JSON of plain ASCII");
        check_json("a\"b\\c/d", "\"a\\\"b\\\\c/d\"", "JSON of quote and backslash");
        check_json("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"", "JSON of short escapes");
        check_json("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"", "JSON of other control characters");
        check_json("ゲータ妻子", "\"ゲータ妻子\"", "JSON passes UTF-8 through");
        check_json("\xf0\x9f\x94\x91 key", "\"\xf0\x9f\x94\x91 key\"", "JSON passes 4-byte UTF-8 through");
        check_json("a\xffz", "\"a\\ufffdz\"", "JSON replaces a stray byte");
        check_json("\xc0\x80", "\"\\ufffd\\ufffd\"", "JSON replaces an overlong NUL");
        check_json("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"", "JSON replaces a UTF-16 surrogate");
        check_json("\xe3\x82", "\"\\ufffd\\ufffd\"", "JSON replaces a truncated sequence");

        f = open_memstream(&mem, &size);
        if (!f) {
                check(false, "open_memstream: %s", strerror(errno));
                return;
        }
        ctl_json_fputs(f, NULL);
        fputc(' ', f);
        ctl_json_fputs(f, "x\ny");
        fclose(f);
        check_str(mem, "null \"x\\ny\"", "ctl_json_fputs output");
}

static void test_patterns(void) {
        check(ctl_pattern_is_glob("sachi*"), "\"sachi*\" is a glob");
        check(!ctl_pattern_is_glob("sachi"), "\"sachi\" is not a glob");
        check(ctl_pattern_match("chib", "schiboh"), "plain word matches as substring");
        check(!ctl_pattern_match("chibx", "schiboh"), "plain word does not match elsewhere");
        check(ctl_pattern_match("sachi*", "sachiboh"), "glob matches the start");
        check(!ctl_pattern_match("sachi*", "xsachiboh"), "glob is anchored");
        check(ctl_pattern_match("s?hib", "schib"), "? matches one character");
        check(ctl_pattern_match("[js]*", "jinoh"), "bracket expression matches");
        check(!ctl_pattern_match("[js]*", "xjinoh"), "bracket expression is anchored");
        check(ctl_pattern_match("ゲータ", "ゲータ妻子"), "Japanese substring matches");
        check(ctl_pattern_match("ゲータ*子", "ゲータ妻子"), "Japanese glob matches");
        check(!ctl_pattern_match("x", NULL), "nothing matches NULL");
}

static void test_printable(void) {
        _cleanup_free_ char *a = NULL, *b = NULL;

        check_str(ctl_printable("CN=a\x1b[2Jb\x7f", &a) >= 0 ? a : NULL, "CN=a?[2Jb?", "escape and DEL replaced");
        check_str(ctl_printable("x\xc2\x9by ゲータ", &b) >= 0 ? b : NULL, "x??y ゲータ", "C1 replaced, Japanese kept");
}

static void check_since(const char *s, int want_r, uint64_t want, const char *what) {
        uint64_t got = UINT64_C(12345);
        int r = ctl_parse_since(s, &got);

        check(r == want_r && (r < 0 ? got == UINT64_C(12345) : got == want), "%s: since \"%s\"", what, s);
        if (r != want_r || (r >= 0 && got != want))
                printf("#   got r=%d value=%" PRIu64 "\n", r, got);
}

static void test_since(void) {
        static const char *const bad[] = {
                "", "2019", "2019-12", "2019-12-1", "2019-1-16", "19-12-16", "2019/12/16", "2019-12-16 ",
                "2019-12-16T09:59:39", "2019-12-16 09:59", "2019-12-16 9:59:39", "2019-12-16 09:59:39 ",
                " 2019-12-16", "2019-12-16x", "2019-00-10", "2019-13-01", "2019-12-00", "2019-12-32",
                "2019-02-29", "2100-02-29", "2019-04-31", "2019-12-16 24:00:00", "2019-12-16 23:60:00",
                "2019-12-16 23:59:60", "+019-12-16", "2019-+1-16", "yesterday",
        };

        set_tz("UTC0");
        check_since("2019-12-16", 0, UINT64_C(1576454400) * UINT64_C(1000000), "UTC date");
        check_since("2019-12-16 00:59:39", 0, SEED_EXPIRY_USEC, "UTC date and time");
        check_since("1970-01-01", 0, 0, "the epoch");
        check_since("2020-02-29", 0, UINT64_C(1582934400) * UINT64_C(1000000), "a leap day");
        check_since("2000-02-29 12:00:00", 0, UINT64_C(951825600) * UINT64_C(1000000), "a leap day of a 400th year");
        check_since("1969-12-31 23:59:59", -ERANGE, 0, "before the epoch");
        check_since("0000-01-01", -ERANGE, 0, "year 0");
        set_tz("JST-9");
        check_since("2019-12-16 09:59:39", 0, SEED_EXPIRY_USEC, "local time in Japan");
        check_since("2019-12-16", 0, UINT64_C(1576422000) * UINT64_C(1000000), "midnight in Japan");
        check_since("1970-01-01", -ERANGE, 0, "the epoch's date in Japan is before it");
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                check_since(bad[i], -EINVAL, 0, "invalid");
        check_int(ctl_parse_since(NULL, &(uint64_t) { 0 }), -EINVAL, "since of NULL");
}

static void check_u32(const char *s, int want_r, uint32_t want) {
        uint32_t got = 7;
        int r = ctl_parse_uint32(s, &got);

        check(r == want_r && (r < 0 ? got == 7 : got == want), "uint32 \"%s\"", s);
        if (r != want_r)
                printf("#   got r=%d value=%" PRIu32 "\n", r, got);
}

static void test_uint32(void) {
        check_u32("0", 0, 0);
        check_u32("100", 0, 100);
        check_u32("007", 0, 7);
        check_u32("4294967295", 0, UINT32_MAX);
        check_u32("4294967296", -ERANGE, 0);
        check_u32("99999999999999999999999", -ERANGE, 0);
        check_u32("", -EINVAL, 0);
        check_u32("-1", -EINVAL, 0);
        check_u32("+1", -EINVAL, 0);
        check_u32(" 1", -EINVAL, 0);
        check_u32("1 ", -EINVAL, 0);
        check_u32("0x10", -EINVAL, 0);
        check_u32("1e3", -EINVAL, 0);
}

static void test_reasons_and_serials(void) {
        static const char *const good[] = {
                "", "unspecified", "keyCompromise", "CACompromise", "affiliationChanged", "superseded",
                "cessationOfOperation", "privilegeWithdrawn", "AACompromise",
        };
        static const char *const bad[] = {
                "keycompromise", "KeyCompromise", "certificateHold", "removeFromCRL", "cACompromise",
                " keyCompromise", "keyCompromise ", "bogus",
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                check(ctl_reason_is_valid(good[i]), "reason \"%s\" is valid", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                check(!ctl_reason_is_valid(bad[i]), "reason \"%s\" is not", bad[i]);
        check(!ctl_reason_is_valid(NULL), "no reason is not valid");

        check(ctl_serial_is_valid("4DEAD2217D04BAFF"), "upper-case hex serial");
        check(ctl_serial_is_valid("4dead2217d04baff"), "lower-case hex serial");
        check(ctl_serial_is_valid("4D:EA:D2:21"), "serial with colons");
        check(ctl_serial_is_valid("0"), "serial 0");
        check(!ctl_serial_is_valid(""), "empty serial");
        check(!ctl_serial_is_valid(NULL), "no serial");
        check(!ctl_serial_is_valid(":::"), "colons only");
        check(!ctl_serial_is_valid("0x4DEA"), "0x prefix");
        check(!ctl_serial_is_valid("4DEG"), "non-hex digit");
        check(!ctl_serial_is_valid("4D EA"), "blank in serial");
        {
                char longest[130];

                memset(longest, 'A', 128);
                longest[128] = '\0';
                check(ctl_serial_is_valid(longest), "128-digit serial");
                longest[128] = 'A';
                longest[129] = '\0';
                check(!ctl_serial_is_valid(longest), "129-digit serial");
        }
}

/* Writes data into a pipe and reads lines back from its other end. */
static void test_read_line(void) {
        char buf[8], rest[16];
        size_t len = 99;
        int p[2];
        ssize_t k;

        if (pipe(p) < 0) {
                check(false, "pipe: %s", strerror(errno));
                return;
        }
        k = write(p[1], "secret\nrest", 11);
        check(k == 11, "pipe written");
        check_int(ctl_read_line(p[0], buf, sizeof buf, &len), 0, "read a line");
        check_str(buf, "secret", "the line without its newline");
        check_int((long) len, 6, "its length");
        close(p[1]);
        k = read(p[0], rest, sizeof rest - 1);
        rest[k > 0 ? k : 0] = '\0';
        check_str(rest, "rest", "what follows the line is left unread");
        close(p[0]);

        if (pipe(p) < 0)
                return;
        k = write(p[1], "1234567\n", 8);
        (void) k;
        check_int(ctl_read_line(p[0], buf, sizeof buf, &len), 0, "a line that just fits");
        check_str(buf, "1234567", "it is read whole");
        close(p[1]);
        check_int(ctl_read_line(p[0], buf, sizeof buf, &len), 0, "end of file");
        check_int((long) len, 0, "gives an empty line");
        close(p[0]);

        if (pipe(p) < 0)
                return;
        k = write(p[1], "12345678\nnext\n", 14);
        (void) k;
        check_int(ctl_read_line(p[0], buf, sizeof buf, &len), -ENOBUFS, "an overlong line");
        check(memcmp(buf, "\0\0\0\0\0\0\0\0", sizeof buf) == 0, "an overlong line is wiped from the buffer");
        check_int(ctl_read_line(p[0], buf, sizeof buf, &len), 0, "the next line after an overlong one");
        check_str(buf, "next", "is read on its own");
        close(p[1]);
        close(p[0]);

        if (pipe(p) < 0)
                return;
        k = write(p[1], "no newline", 10);
        (void) k;
        close(p[1]);
        check_int(ctl_read_line(p[0], rest, sizeof rest, &len), 0, "a last line without newline");
        check_str(rest, "no newline", "is read to the end of file");
        close(p[0]);

        check_int(ctl_read_line(-1, buf, sizeof buf, &len), -EBADF, "a bad descriptor");
}

static void test_iso8601(void) {
        char buf[64], tiny[8];

        check_str(ctl_format_iso8601(SEED_EXPIRY_USEC, buf, sizeof buf) >= 0 ? buf : NULL,
                  "2019-12-16T00:59:39Z", "ISO 8601 of the seed expiry");
        check_str(ctl_format_iso8601(999999, buf, sizeof buf) >= 0 ? buf : NULL,
                  "1970-01-01T00:00:00Z", "ISO 8601 drops microseconds");
        check_int(ctl_format_iso8601(SEED_EXPIRY_USEC, tiny, sizeof tiny), -ENOBUFS, "ISO 8601 into a small buffer");
}

static void test_english(void) {
        char buf[8];
        int r;

        if (!setlocale(LC_ALL, "C.UTF-8")) {
                printf("# skip: C.UTF-8 locale not available\n");
                return;
        }
        check_str(ctl_role_label("master"), "Master user", "C role master");
        check_str(ctl_role_label("admin"), "Administrator user", "C role admin");
        check_str(ctl_role_label("general"), "General user", "C role general");
        check_str(ctl_role_label("worker"), "Worker user", "C role worker");
        check_str(ctl_role_label("auditor"), "auditor", "C unknown role passes through");
        check_str(ctl_state_label("issued"), "issued", "C state issued");
        check_str(ctl_state_label("renewed"), "renewed", "C state renewed");
        check_str(ctl_state_label("expired"), "expired", "C state expired");
        check_str(ctl_state_label("not-issued"), "not issued", "C state not-issued");
        check_str(ctl_state_label("revoked"), "revoked", "C state revoked");
        check_str(ctl_state_label("suspended"), "suspended", "C unknown state passes through");

        check(ctl_state_shows_expiry("issued") && ctl_state_shows_expiry("renewed"),
              "issued and renewed show an expiry");
        check(!ctl_state_shows_expiry("expired") && !ctl_state_shows_expiry("not-issued") &&
              !ctl_state_shows_expiry("revoked") && !ctl_state_shows_expiry("bogus"),
              "other states show none");

        set_tz("UTC0");
        check_time(SEED_EXPIRY_USEC, "2019-12-16 00:59:39", "C date in UTC");
        set_tz("JST-9");
        check_time(SEED_EXPIRY_USEC, "2019-12-16 09:59:39", "C date honours TZ");
        check_int(ctl_format_time(SEED_EXPIRY_USEC, buf, sizeof buf), -ENOBUFS, "C date into a small buffer");
        r = ctl_format_time(UINT64_MAX, buf, sizeof buf);
        check(r == -EOVERFLOW || r == -ENOBUFS, "C date of UINT64_MAX fails cleanly");

        check_str(ctl_action_label("revoke"), "revoke", "C action revoke");
        check_str(ctl_action_label("token-removal"), "token-removal", "C action token-removal");
        check_str(ctl_action_label("launch-rocket"), "launch-rocket", "C unknown action passes through");
        check_str(ctl_action_label("suspend"), "suspend", "C action suspend");
        check_str(ctl_action_label("resume"), "resume", "C action resume");
        check_str(ctl_action_label("change-confirmation-password"), "change-confirmation-password",
                  "C action change-confirmation-password");
        check_str(ctl_action_label("set-confirmation-password"), "set-confirmation-password",
                  "C action set-confirmation-password");
        check_str(ctl_suspended_label(true), "yes", "C suspended yes, without the context");
        check_str(ctl_suspended_label(false), "no", "C suspended no, without the context");
        check_str(_("Suspended"), "Suspended", "C label Suspended");
        check_str(ctl_reason_label(""), "unspecified", "C reason \"\"");
        check_str(ctl_reason_label("keyCompromise"), "key compromise", "C reason keyCompromise");
        check_str(ctl_reason_label("AACompromise"), "AA compromise", "C reason AACompromise");
        check_str(ctl_reason_label("bogus"), "bogus", "C unknown reason passes through");

        check_int((long) ctl_display_width("sachiboh"), 8, "C.UTF-8 width of ASCII");
        check_pad("-", 4, CTL_ALIGN_LEFT, "-   ");
        check_pad("Name", 2, CTL_ALIGN_LEFT, "Name");
        check_pad("UID", 6, CTL_ALIGN_RIGHT, "   UID");
}

/* The directory "make" writes the catalogues to: <build>/locale beside the
 * <build>/tests this program lives in, unless the environment says. */
static void find_localedir(const char *argv0, char *buf, size_t size) {
        char copy[4096];
        const char *env = getenv("CERTREVOKE_LOCALEDIR");

        if (env && *env) {
                snprintf(buf, size, "%s", env);
                return;
        }
        snprintf(copy, sizeof copy, "%s", argv0);
        snprintf(buf, size, "%s/../locale", dirname(copy));
}

static void test_japanese(const char *localedir) {
        char mo[4200];

        if (!setlocale(LC_ALL, "ja_JP.UTF-8")) {
                printf("# skip: ja_JP.UTF-8 locale not installed (localedef -i ja_JP -f UTF-8 ja_JP.UTF-8)\n");
                return;
        }
        snprintf(mo, sizeof mo, "%s/ja/LC_MESSAGES/certrevoke.mo", localedir);
        check(access(mo, R_OK) == 0, "catalogue %s exists", mo);

        /* The way certrevokectl starts: from the environment. */
        unsetenv("LANGUAGE");
        setenv("LC_ALL", "ja_JP.UTF-8", 1);
        setenv("CERTREVOKE_LOCALEDIR", localedir, 1);
        ctl_locale_init("/nonexistent");

        check_str(ctl_role_label("master"), "マスターユーザ", "ja role master");
        check_str(ctl_role_label("admin"), "管理者ユーザ", "ja role admin");
        check_str(ctl_role_label("general"), "一般ユーザ", "ja role general");
        check_str(ctl_role_label("worker"), "ワーカーユーザ", "ja role worker");
        check_str(ctl_state_label("issued"), "発行済", "ja state issued");
        check_str(ctl_state_label("renewed"), "更新済", "ja state renewed");
        check_str(ctl_state_label("expired"), "無効期限切れ", "ja state expired");
        check_str(ctl_state_label("not-issued"), "未発行", "ja state not-issued");
        check_str(ctl_state_label("revoked"), "失効済", "ja state revoked");

        check_str(_("Login ID"), "ログインID", "ja header Login ID");
        check_str(_("Name"), "利用者名", "ja header Name");
        check_str(_("Role"), "利用者区分", "ja header Role");
        check_str(_("Certificate state"), "証明書状態", "ja header Certificate state");
        check_str(_("Expiry"), "証明書有効期限", "ja header Expiry");
        check_str(_(ctl_exit_codes[CTL_EXIT_SUCCESS].description), "成功", "ja exit status 0");
        check_str(dngettext(CTL_TEXT_DOMAIN, "The service is busy; try again in %u second.",
                            "The service is busy; try again in %u seconds.", 3),
                  "サービスが混雑しています。%u 秒後に再試行してください。", "ja Busy with a retry time");

        {
                static const char *const actions[][2] = {
                        { "revoke", "証明書失効" },        { "confirm", "確認" },
                        { "add-user", "利用者追加" },      { "remove-user", "利用者削除" },
                        { "set-role", "利用者区分変更" },  { "import-certificate", "証明書登録" },
                        { "rescan", "再走査" },            { "token-removal", "トークンから削除" },
                        { "publish-crl", "CRL発行" },
                        { "suspend", "利用者停止" },       { "resume", "停止解除" },
                        { "change-confirmation-password", "確認用パスワード変更" },
                        { "set-confirmation-password", "確認用パスワード設定" },
                };

                for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                        check_str(ctl_action_label(actions[i][0]), actions[i][1], actions[i][0]);
                check_str(ctl_action_label("launch-rocket"), "launch-rocket", "ja unknown action passes through");
        }
        check_str(ctl_reason_label("keyCompromise"), "鍵の危殆化", "ja reason keyCompromise");
        check_str(ctl_reason_label(""), "未指定", "ja reason \"\"");
        check_str(_("The certificate of the following user will be revoked."), "以下の利用者の証明書を失効します。",
                  "ja heading of the confirmation screen");
        check_str(_("The certificate of the following user has been revoked."), "以下の利用者の証明書が失効しました。",
                  "ja heading of the result screen");
        check_str(_("Confirmation password: "), "確認用パスワード: ", "ja password prompt");
        check_str(_("Time"), "日時", "ja header Time");
        check_str(_("Actor"), "操作者", "ja header Actor");
        check_str(_("Action"), "操作", "ja header Action");
        check_str(_("Target"), "対象", "ja header Target");
        check_str(_("Result"), "結果", "ja header Result");
        check_str(_("Suspended"), "利用状態", "ja label Suspended");
        check_str(ctl_suspended_label(true), "停止中", "ja suspended yes");
        check_str(ctl_suspended_label(false), "利用中", "ja suspended no");
        check_str(_("yes"), "yes", "ja: \"yes\" outside the context \"suspended\" is not translated");
        check_str(_("Current confirmation password: "), "現在の確認用パスワード: ", "ja prompt of passwd");
        check_str(_("Retype new confirmation password: "), "新しい確認用パスワード (再入力): ",
                  "ja prompt of passwd, again");
        check_str(_("The new confirmation passwords do not match."), "新しい確認用パスワードが一致しません。",
                  "ja mismatch");
        check_str(_("%s has been suspended."), "利用者 %s を停止しました。", "ja result of suspend");
        check_str(_("%s has been resumed."), "利用者 %s の停止を解除しました。", "ja result of resume");

        set_tz("JST-9");
        check_time(SEED_EXPIRY_USEC, "2019年12月16日 09時59分39秒", "ja date as on the product page");
        check_time(UINT64_C(1571187579) * UINT64_C(1000000), "2019年10月16日 09時59分39秒", "ja date of a renewed certificate");
        set_tz("UTC0");
        check_time(SEED_EXPIRY_USEC, "2019年12月16日 00時59分39秒", "ja date honours TZ");

        check_int((long) ctl_display_width("ゲータ妻子"), 10, "ja width of five CJK characters");
        check_int((long) ctl_display_width("ログインID"), 10, "ja width of mixed text");
        check_int((long) ctl_display_width(""), 0, "ja width of the empty string");
        check_pad("ゲータ妻子", 12, CTL_ALIGN_LEFT, "ゲータ妻子  ");
        check_pad("発行済", 12, CTL_ALIGN_LEFT, "発行済      ");
        check_pad("利用者名", 10, CTL_ALIGN_RIGHT, "  利用者名");
        check_pad("無効期限切れ", 10, CTL_ALIGN_LEFT, "無効期限切れ");
}

/* Under LC_ALL=C the UTF-8 names are measured as UTF-8, so that the
 * columns still line up on a UTF-8 terminal. */
static void test_width_fallback(void) {
        setlocale(LC_ALL, "C");
        check_int((long) ctl_display_width("abc"), 3, "C width of ASCII");
        check_int((long) ctl_display_width("ゲータ"), 6, "C width of Japanese text measured as UTF-8");
        check_int((long) ctl_display_width("a\xff" "b"), 3, "C width of invalid UTF-8 counts characters");
}

/* ---- tables */

typedef struct TableRow {
        const char *login, *name;
} TableRow;

static int fill_table_row(char **cells, const void *row) {
        const TableRow *t = row;

        cells[0] = strdup(t->login);
        cells[1] = strdup(t->name);
        return cells[0] && cells[1] ? 0 : -ENOMEM;
}

/* What a printer wrote to a memory stream, or NULL; *ret_r its return. */
static char *printed(int (*print)(FILE *f, const void *arg), const void *arg, int *ret_r) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f) {
                check(false, "open_memstream: %s", strerror(errno));
                return NULL;
        }
        *ret_r = print(f, arg);
        fclose(f);
        return buf;
}

static const TableRow table_rows[] = { { "sachiboh2", "ゲータ妻子" }, { "jinoh", "ゲータ二郎" } };

static int print_table_rows(FILE *f, const void *arg) {
        static const char *const header[] = { "Login ID", "Name" };
        size_t n = *(const size_t *) arg;

        return ctl_print_rows(f, header, 2, table_rows, sizeof table_rows[0], n, fill_table_row);
}

static int print_json_table_rows(FILE *f, const void *arg) {
        static const char *const keys[] = { "login_id", "name" };
        static const size_t offsets[] = { offsetof(TableRow, login), offsetof(TableRow, name) };
        size_t n = *(const size_t *) arg;

        return ctl_print_json_rows(f, table_rows, sizeof table_rows[0], n, keys, offsets, 2);
}

static void test_tables(void) {
        size_t two = 2, none = 0;
        char *out;
        int r = -1;

        if (!setlocale(LC_ALL, "C.UTF-8"))
                setlocale(LC_ALL, "C");

        /* padded by display width (CJK counts two), the last column bare */
        out = printed(print_table_rows, &two, &r);
        check_int(r, 0, "ctl_print_rows");
        check_str(out, "Login ID   Name\nsachiboh2  ゲータ妻子\njinoh      ゲータ二郎\n", "a table of two rows");
        free(out);
        out = printed(print_table_rows, &none, &r);
        check_str(out, "Login ID  Name\n", "a table of no rows is its header");
        free(out);
        out = printed(print_json_table_rows, &two, &r);
        check_int(r, 0, "ctl_print_json_rows");
        check_str(out, "[\n{\"login_id\":\"sachiboh2\",\"name\":\"ゲータ妻子\"},\n"
                       "{\"login_id\":\"jinoh\",\"name\":\"ゲータ二郎\"}\n]\n", "a JSON array of two rows");
        free(out);
        out = printed(print_json_table_rows, &none, &r);
        check_str(out, "[]\n", "an empty JSON array");
        free(out);
}

static void test_expiry_cell(void) {
        char *cell;

        set_tz("JST-9");
        cell = ctl_expiry_cell("issued", SEED_EXPIRY_USEC);
        check_str(cell, "2019-12-16 09:59:39", "the expiry of an issued certificate");
        free(cell);
        cell = ctl_expiry_cell("revoked", SEED_EXPIRY_USEC);
        check_str(cell, "-", "no expiry for a revoked certificate");
        free(cell);
        cell = ctl_expiry_cell("renewed", 0);
        check_str(cell, "-", "no expiry without a notAfter");
        free(cell);
}

int main(int argc, char *argv[]) {
        char localedir[4096];

        (void) argc;
        find_localedir(argv[0], localedir, sizeof localedir);

        test_exit_codes();
        test_exit_code_table();
        test_busy_retry();
        test_json();
        test_patterns();
        test_printable();
        test_iso8601();
        test_since();
        test_uint32();
        test_reasons_and_serials();
        test_read_line();
        test_english();
        test_japanese(localedir);
        test_width_fallback();
        test_tables();
        test_expiry_cell();

        printf("# %d failure%s\n", failures, failures == 1 ? "" : "s");
        return failures == 0 ? 0 : 1;
}
