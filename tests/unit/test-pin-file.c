/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pin_file_read: the first line exactly as written, or a clear refusal
 * that names the file and never the secret. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certrevoke.h"
#include "check.h"
#include "pin-file.h"
#include "util.h"

static char base[] = "/tmp/certrevoke-test-pin-file-XXXXXX";

static const char *at(const char *name) {
        static char buf[4][512];
        static int next;
        char *p = buf[next++ % 4];

        snprintf(p, sizeof buf[0], "%s/%s", base, name);
        return p;
}

static const char *put(const char *name, const void *data, size_t len) {
        const char *path = at(name);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (fd < 0 || write(fd, data, len) != (ssize_t) len || close(fd) < 0) {
                perror(path);
                exit(2);
        }
        return path;
}

/* A line of n bytes (a repeating pattern so no two lengths look alike),
 * then end. */
static char *line_of(size_t n, const char *end) {
        char *s = malloc(n + strlen(end) + 1);

        if (!s)
                exit(2);
        for (size_t i = 0; i < n; i++)
                s[i] = (char) ('a' + i % 26);
        strcpy(s + n, end);
        return s;
}

static void expect_pin(const char *path, const char *want, size_t want_len, const char *what) {
        _cleanup_free_ char *error = NULL;
        char *pin = NULL;
        int r = pin_file_read(path, &pin, &error);

        CHECK(r == 0 && pin && strlen(pin) == want_len && memcmp(pin, want, want_len) == 0 && !error,
              "%s: read as written (r=%d, %zu bytes, error \"%s\")", what, r, pin ? strlen(pin) : 0,
              error ? error : "(none)");
        pin_free(pin);
}

/* Refused with r, an error naming the file and saying want, and never
 * showing the content (secret is a piece of it). */
static void expect_refused(const char *path, int want_r, const char *want, const char *secret, const char *what) {
        _cleanup_free_ char *error = NULL;
        char *pin = (char *) "untouched";
        int r = pin_file_read(path, &pin, &error);

        CHECK(r == want_r && !pin, "%s: refused with %d (got %d)", what, want_r, r);
        CHECK(error && strstr(error, path) && strstr(error, want), "%s: the error names the file and says \"%s\" (got \"%s\")",
              what, want, error ? error : "(none)");
        if (secret)
                CHECK(error && !strstr(error, secret), "%s: the error does not show the content", what);
}

static void test_lines(void) {
        _cleanup_free_ char *l300 = line_of(300, "\n"), *l511 = line_of(511, "\n");
        _cleanup_free_ char *l511_crlf = line_of(511, "\r\n"), *l511_eof = line_of(511, "");

        expect_pin(put("plain", "1234\n", 5), "1234", 4, "a PIN and a newline");
        expect_pin(put("crlf", "1234\r\n", 6), "1234", 4, "a PIN and CRLF");
        expect_pin(put("no-newline", "1234", 4), "1234", 4, "a PIN without a newline");
        expect_pin(put("cr-eof", "1234\r", 5), "1234", 4, "a PIN and a lone CR at the end");
        expect_pin(put("two-lines", "first\nsecond\n", 13), "first", 5, "only the first of two lines");
        expect_pin(put("spaces", " p i n \n", 8), " p i n ", 7, "spaces kept as written");
        expect_pin(put("inner-cr", "a\rb\n", 4), "a\rb", 3, "a CR inside the line kept");
        expect_pin(put("300", l300, 301), l300, 300, "a 300-byte PIN, whole (no cut at 255)");
        expect_pin(put("511", l511, 512), l511, 511, "a line of 511 bytes (CR_PASSWORD_MAX)");
        expect_pin(put("511-crlf", l511_crlf, 513), l511_crlf, 511, "a line of 511 bytes and CRLF");
        expect_pin(put("511-eof", l511_eof, 511), l511_eof, 511, "a line of 511 bytes without a newline");
}

static void test_refused(void) {
        _cleanup_free_ char *l512 = line_of(512, "\n"), *l512_crlf = line_of(512, "\r\n");
        _cleanup_free_ char *l512_eof = line_of(512, ""), *l600 = line_of(600, "\nx\n");
        char too_long[64];

        snprintf(too_long, sizeof too_long, "longer than %d bytes", CR_PASSWORD_MAX);
        expect_refused(put("512", l512, 513), -E2BIG, too_long, "abcdefghijklmnopqrstuvwxyz", "a line of 512 bytes");
        expect_refused(put("512-crlf", l512_crlf, 514), -E2BIG, too_long, NULL, "a line of 512 bytes and CRLF");
        expect_refused(put("512-eof", l512_eof, 512), -E2BIG, too_long, NULL, "512 bytes without a newline");
        expect_refused(put("600", l600, 603), -E2BIG, too_long, NULL, "a line of 600 bytes");
        expect_refused(put("empty-file", "", 0), -EINVAL, "is empty", NULL, "an empty file");
        expect_refused(put("empty-line", "\nsecret\n", 8), -EINVAL, "is empty", "secret",
                       "an empty first line (the second is not taken)");
        expect_refused(put("empty-crlf", "\r\n", 2), -EINVAL, "is empty", NULL, "a first line of CRLF alone");
        expect_refused(put("nul", "12\0" "34\n", 6), -EBADMSG, "NUL byte", "12", "a NUL byte in the line");
        expect_refused(at("missing"), -ENOENT, "cannot open", NULL, "a missing file");
        if (mkdir(at("dir"), 0700) < 0)
                exit(2);
        expect_refused(at("dir"), -EINVAL, "not a regular file", NULL, "a directory");
        if (mkfifo(at("fifo"), 0600) < 0)
                exit(2);
        expect_refused(at("fifo"), -EINVAL, "not a regular file", NULL, "a FIFO (and no hang)");
}

/* A NUL after the first line is not part of it. */
static void test_after_first_line(void) {
        expect_pin(put("nul-later", "1234\n\0\0\n", 8), "1234", 4, "a NUL byte on the second line");
}

/* No error pointer: the result alone. */
static void test_no_error(void) {
        char *pin = NULL;

        CHECK(pin_file_read(at("missing"), &pin, NULL) == -ENOENT && !pin, "without an error pointer: -ENOENT");
        CHECK(pin_file_read(at("plain"), &pin, NULL) == 0 && pin && strcmp(pin, "1234") == 0,
              "without an error pointer: the PIN");
        pin_free(pin);
        pin_free(NULL);
}

int main(void) {
        if (!mkdtemp(base)) {
                perror("mkdtemp");
                return 2;
        }
        test_lines();
        test_refused();
        test_after_first_line();
        test_no_error();
        if (!check_failed) {
                char cmd[600];

                snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", base);
                if (system(cmd) != 0)
                        fprintf(stderr, "could not remove %s\n", base);
        }
        return CHECK_EXIT();
}
