/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "certrevoke.h"
#include "pin-file.h"
#include "util.h"

/* The longest first line that can still be accepted, with its "\r\n":
 * reading this much decides every case without reading further. */
#define PIN_READ_MAX (CR_PASSWORD_MAX + 2)

static int fail(char **error, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char **error, int r, const char *fmt, ...) {
        va_list ap;

        if (!error)
                return r;
        va_start(ap, fmt);
        if (vasprintf(error, fmt, ap) < 0)
                *error = NULL;
        va_end(ap);
        return r;
}

void pin_free(char *pin) {
        if (!pin)
                return;
        erase_memory(pin, strlen(pin));
        free(pin);
}

/* Up to size bytes, stopping early at a "\n" or the end of the file. */
static int read_head(int fd, char *buf, size_t size, size_t *ret_len) {
        size_t n = 0;

        while (n < size && !memchr(buf, '\n', n)) {
                ssize_t k = read(fd, buf + n, size - n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        *ret_len = n;
        return 0;
}

/* The first line within buf[0..n): its length without "\n" or "\r\n", or
 * -E2BIG when no line end came within what a line may hold. */
static int first_line(const char *buf, size_t n, size_t *ret_len) {
        const char *nl = memchr(buf, '\n', n);
        size_t len = nl ? (size_t) (nl - buf) : n;

        if (!nl && n == PIN_READ_MAX)
                return -E2BIG;
        if (len > 0 && buf[len - 1] == '\r')
                len--;
        *ret_len = len;
        return 0;
}

static int open_regular(const char *path, int *ret, char **error) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        /* O_NONBLOCK: a FIFO put in its place must not hang the daemon */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return fail(error, -errno, "cannot open %s: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0)
                return fail(error, -errno, "cannot look at %s: %s", path, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return fail(error, -EINVAL, "%s is not a regular file", path);
        *ret = TAKE_FD(fd);
        return 0;
}

static int parse(const char *path, const char *buf, size_t n, char **ret, char **error) {
        size_t len;
        int r;

        r = first_line(buf, n, &len);
        if (r < 0 || len > CR_PASSWORD_MAX)
                return fail(error, -E2BIG, "the first line of %s is longer than %d bytes; refusing to cut it short",
                            path, CR_PASSWORD_MAX);
        if (len == 0)
                return fail(error, -EINVAL, "the first line of %s is empty", path);
        if (memchr(buf, '\0', len))
                return fail(error, -EBADMSG, "the first line of %s holds a NUL byte", path);
        *ret = strndup(buf, len);
        if (!*ret)
                return fail(error, -ENOMEM, "out of memory reading %s", path);
        return 0;
}

int pin_file_read(const char *path, char **ret, char **error) {
        _cleanup_close_ int fd = -1;
        char buf[PIN_READ_MAX];
        size_t n = 0;
        int r;

        assert(path);
        assert(ret);
        *ret = NULL;
        if (error)
                *error = NULL;
        r = open_regular(path, &fd, error);
        if (r < 0)
                return r;
        r = read_head(fd, buf, sizeof buf, &n);
        if (r < 0)
                r = fail(error, r, "cannot read %s: %s", path, strerror(-r));
        else
                r = parse(path, buf, n, ret, error);
        erase_memory(buf, sizeof buf);
        return r;
}
