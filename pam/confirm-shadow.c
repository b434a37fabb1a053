/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The confirmation-password file: parsing, hashing, checking and atomic
 * updates.  See confirm-shadow.h for the format and the contract. */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "cleanup.h"
#include "confirm-shadow.h"

_Static_assert(CONFIRM_SHADOW_PASSWORD_MAX < CRYPT_MAX_PASSPHRASE_SIZE, "libcrypt would refuse the longest password");

/* Names of the CONFIRM_SHADOW_* bits, by bit number. */
static const char *const flag_names[] = {
        "suspended",
};

static void say(const ConfirmShadowLog *log, int priority, const char *format, ...)
        __attribute__((format(printf, 3, 4)));
static void say(const ConfirmShadowLog *log, int priority, const char *format, ...) {
        va_list ap;

        if (!log || !log->func)
                return;
        va_start(ap, format);
        log->func(log->userdata, priority, format, ap);
        va_end(ap);
}

/* ------------------------------------------------------------ fields */

/* ASCII only, whatever the locale: isalnum() would let other bytes in. */
static bool char_ok(unsigned char c, const char *extra) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                return true;
        return c != '\0' && strchr(extra, c);
}

static bool span_ok(const char *p, size_t n, const char *extra) {
        for (size_t i = 0; i < n; i++)
                if (!char_ok((unsigned char) p[i], extra))
                        return false;
        return true;
}

static bool login_ok(const char *p, size_t n) {
        return n > 0 && n <= CONFIRM_SHADOW_LOGIN_MAX && span_ok(p, n, "._-@");
}

/* The crypt(3) alphabet, "rounds=" and "$md5," settings, and the "!" and
 * "*" of a locked entry. */
static bool hash_ok(const char *p, size_t n) {
        return n > 0 && n <= CONFIRM_SHADOW_HASH_MAX && span_ok(p, n, "./$=,*!-");
}

static bool flags_ok(const char *p, size_t n) {
        return n <= CONFIRM_SHADOW_FLAGS_MAX && span_ok(p, n, ",_-");
}

bool confirm_shadow_login_valid(const char *login) {
        return login && login_ok(login, strnlen(login, CONFIRM_SHADOW_LOGIN_MAX + 1));
}

static bool password_ok(const char *password) {
        size_t n = strnlen(password, CONFIRM_SHADOW_PASSWORD_MAX + 1);

        return n > 0 && n <= CONFIRM_SHADOW_PASSWORD_MAX;
}

/* ------------------------------------------------------------ parsing */

/* Splits the line p[0..n) (its '\n' at p[n]) in place into e, or says
 * why not.  Exactly two ':': a colon cannot hide in any field. */
static const char *parse_line(char *p, size_t n, ConfirmShadowEntry *e) {
        char *end = p + n, *c1, *c2;

        if (n > CONFIRM_SHADOW_LINE_MAX)
                return "line too long";
        if (memchr(p, '\0', n))
                return "NUL byte in the line";
        c1 = memchr(p, ':', n);
        c2 = c1 ? memchr(c1 + 1, ':', (size_t) (end - c1 - 1)) : NULL;
        if (!c2)
                return "fewer than 3 fields (login:hash:flags)";
        if (memchr(c2 + 1, ':', (size_t) (end - c2 - 1)))
                return "more than 3 fields (login:hash:flags)";
        if (!login_ok(p, (size_t) (c1 - p)))
                return "bad login field";
        if (!hash_ok(c1 + 1, (size_t) (c2 - c1 - 1)))
                return "bad hash field";
        if (!flags_ok(c2 + 1, (size_t) (end - c2 - 1)))
                return "bad flags field";
        *c1 = *c2 = *end = '\0';
        e->login = p;
        e->hash = c1 + 1;
        e->flags = c2 + 1;
        return NULL;
}

static int compare_logins(const void *a, const void *b, void *userdata) {
        const ConfirmShadowEntry *entries = userdata;
        const ConfirmShadowEntry *x = &entries[*(const size_t *) a], *y = &entries[*(const size_t *) b];
        int r = strcmp(x->login, y->login);

        if (r != 0)
                return r;
        return x->line < y->line ? -1 : x->line > y->line;
}

static void sort_by_login(ConfirmShadow *s) {
        for (size_t i = 0; i < s->n_entries; i++)
                s->by_login[i] = i;
        qsort_r(s->by_login, s->n_entries, sizeof s->by_login[0], compare_logins, s->entries);
}

/* Drops every later line of a login, keeping file order: the first one
 * counts, as in /etc/passwd. */
static void drop_duplicates(ConfirmShadow *s, const char *origin, const ConfirmShadowLog *log) {
        size_t kept = 0;

        sort_by_login(s);
        for (size_t i = 1; i < s->n_entries; i++) {
                ConfirmShadowEntry *prev = &s->entries[s->by_login[i - 1]];
                ConfirmShadowEntry *e = &s->entries[s->by_login[i]];

                if (prev->login && strcmp(prev->login, e->login) == 0) {
                        say(log, LOG_WARNING, "%s:%zu: login of line %zu again; line skipped",
                            origin, e->line, prev->line);
                        s->n_skipped++;
                        /* Keep the login readable for the next comparison. */
                        e->hash = NULL;
                }
        }
        for (size_t i = 0; i < s->n_entries; i++)
                if (s->entries[i].hash)
                        s->entries[kept++] = s->entries[i];
        if (kept != s->n_entries) {
                s->n_entries = kept;
                sort_by_login(s);
        }
}

void confirm_shadow_done(ConfirmShadow *s) {
        if (!s)
                return;
        if (s->text)
                explicit_bzero(s->text, s->text_size);
        free(s->text);
        free(s->entries);
        free(s->by_login);
        *s = (ConfirmShadow) {};
}

int confirm_shadow_parse(const char *data, size_t len, const char *origin, const ConfirmShadowLog *log, ConfirmShadow *ret) {
        _cleanup_(confirm_shadow_done) ConfirmShadow s = {};
        size_t n_lines = 0, line = 0;
        char *p, *end;

        if (len > CONFIRM_SHADOW_FILE_MAX)
                return -EFBIG;
        origin = origin ?: "<buffer>";
        for (const char *q = data; len > 0 && (q = memchr(q, '\n', len - (size_t) (q - data))); q++)
                n_lines++;
        s.text_size = len + 1;
        s.text = malloc(s.text_size);
        s.entries = calloc(n_lines ?: 1, sizeof s.entries[0]);
        s.by_login = calloc(n_lines ?: 1, sizeof s.by_login[0]);
        if (!s.text || !s.entries || !s.by_login)
                return -ENOMEM;
        if (len > 0)
                memcpy(s.text, data, len);
        s.text[len] = '\0';

        for (p = s.text, end = s.text + len; p < end; p++) {
                char *nl = memchr(p, '\n', (size_t) (end - p));
                ConfirmShadowEntry *e = &s.entries[s.n_entries];
                const char *why;

                line++;
                if (!nl) {
                        say(log, LOG_WARNING, "%s:%zu: no newline at the end (file cut short?); line skipped",
                            origin, line);
                        s.n_skipped++;
                        break;
                }
                if (nl == p)
                        continue;       /* an empty line says nothing */
                why = parse_line(p, (size_t) (nl - p), e);
                if (why) {
                        say(log, LOG_WARNING, "%s:%zu: %s; line skipped", origin, line, why);
                        s.n_skipped++;
                } else {
                        e->line = line;
                        s.n_entries++;
                }
                p = nl;
        }
        drop_duplicates(&s, origin, log);
        *ret = s;
        s = (ConfirmShadow) {};
        return 0;
}

const ConfirmShadowEntry *confirm_shadow_find(const ConfirmShadow *s, const char *login) {
        size_t lo = 0, hi = s->n_entries;

        if (!login)
                return NULL;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const ConfirmShadowEntry *e = &s->entries[s->by_login[mid]];
                int r = strcmp(login, e->login);

                if (r == 0)
                        return e;
                if (r < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

bool confirm_shadow_entry_has_flag(const ConfirmShadowEntry *e, const char *flag) {
        size_t n = strlen(flag);

        for (const char *p = e->flags; *p; ) {
                size_t k = strcspn(p, ",");

                if (k == n && memcmp(p, flag, n) == 0)
                        return true;
                p += k;
                if (*p == ',')
                        p++;
        }
        return false;
}

/* ------------------------------------------------------------ reading */

/* Reads the whole of fd, at most CONFIRM_SHADOW_FILE_MAX bytes. */
static int read_all(int fd, size_t size_hint, char **ret, size_t *ret_len) {
        size_t size = (size_hint ?: 4096) + 1, len = 0;
        char *buf = malloc(size);

        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k;

                if (len == size) {
                        size_t bigger = size * 2;
                        char *b;

                        if (size > CONFIRM_SHADOW_FILE_MAX) {
                                explicit_bzero(buf, len);
                                free(buf);
                                return -EFBIG;
                        }
                        /* Not realloc: the old block would be freed unwiped. */
                        b = malloc(bigger);
                        if (!b) {
                                explicit_bzero(buf, len);
                                free(buf);
                                return -ENOMEM;
                        }
                        memcpy(b, buf, len);
                        explicit_bzero(buf, len);
                        free(buf);
                        buf = b;
                        size = bigger;
                }
                k = read(fd, buf + len, size - len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        int r = -errno;

                        explicit_bzero(buf, len);
                        free(buf);
                        return r;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

/* The rules of confirm_shadow_read() about who may have written the file. */
static int check_file(const char *path, const struct stat *st, const ConfirmShadowLog *log) {
        if (!S_ISREG(st->st_mode)) {
                say(log, LOG_ERR, "%s: not a regular file; refused", path);
                return -EINVAL;
        }
        if (st->st_uid != 0 && st->st_uid != geteuid()) {
                say(log, LOG_ERR, "%s: owned by UID %u, not by root; refused", path, (unsigned) st->st_uid);
                return -EPERM;
        }
        if (st->st_mode & (S_IWGRP | S_IWOTH)) {
                say(log, LOG_ERR, "%s: writable by group or others (mode %04o); refused",
                    path, (unsigned) (st->st_mode & 07777));
                return -EPERM;
        }
        if (st->st_mode & (S_IRGRP | S_IROTH))
                say(log, LOG_WARNING, "%s: readable by group or others (mode %04o); should be 0600",
                    path, (unsigned) (st->st_mode & 07777));
        if ((uint64_t) st->st_size > CONFIRM_SHADOW_FILE_MAX) {
                say(log, LOG_ERR, "%s: larger than %zu bytes; refused", path, CONFIRM_SHADOW_FILE_MAX);
                return -EFBIG;
        }
        return 0;
}

int confirm_shadow_read(const char *path, const ConfirmShadowLog *log, ConfirmShadow *ret) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        char *buf = NULL;
        size_t len = 0;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 && errno == ELOOP) {
                say(log, LOG_ERR, "%s: a symbolic link; refused", path);
                return -EINVAL;
        }
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        r = check_file(path, &st, log);
        if (r < 0)
                return r;
        r = read_all(fd, (size_t) st.st_size, &buf, &len);
        if (r == -EFBIG)
                say(log, LOG_ERR, "%s: grew past %zu bytes while read; refused", path, CONFIRM_SHADOW_FILE_MAX);
        if (r < 0)
                return r;
        r = confirm_shadow_parse(buf, len, path, log, ret);
        explicit_bzero(buf, len);
        free(buf);
        return r;
}

/* ------------------------------------------------------------ hashing */

static void crypt_data_freep(struct crypt_data **p) {
        if (*p) {
                explicit_bzero(*p, sizeof **p);
                free(*p);
        }
}

int confirm_shadow_hash(const char *password, char **ret_hash) {
        _cleanup_(crypt_data_freep) struct crypt_data *cd = NULL;
        _cleanup_free_ char *setting = NULL;
        const char *h;
        char *copy;

        if (!password || !password_ok(password))
                return -EINVAL;
        setting = crypt_gensalt_ra("$y$", 0, NULL, 0);
        if (!setting && errno != ENOMEM)
                /* No yescrypt in this libcrypt: its preferred method then. */
                setting = crypt_gensalt_ra(NULL, 0, NULL, 0);
        if (!setting)
                return errno == ENOMEM ? -ENOMEM : -ENOSYS;
        cd = calloc(1, sizeof *cd);
        if (!cd)
                return -ENOMEM;
        h = crypt_rn(password, setting, cd, sizeof *cd);
        if (!h || !hash_ok(h, strlen(h)))
                return -ENOSYS;
        copy = strdup(h);
        if (!copy)
                return -ENOMEM;
        *ret_hash = copy;
        return 0;
}

/* Equal strings?  Every byte of a is looked at, so the time does not say
 * where a first difference lies (the lengths are no secret: the method
 * fixes them). */
static bool equal_in_constant_time(const char *a, const char *b) {
        size_t na = strlen(a), nb = strlen(b);
        volatile unsigned char diff = na != nb;

        for (size_t i = 0; i < na; i++)
                diff |= (unsigned char) a[i] ^ (unsigned char) (i < nb ? b[i] : 0);
        return diff == 0;
}

bool confirm_shadow_verify(const char *hash, const char *password) {
        _cleanup_(crypt_data_freep) struct crypt_data *cd = NULL;
        const char *h;

        if (!hash || !password || !password_ok(password))
                return false;
        switch (crypt_checksalt(hash)) {
        case CRYPT_SALT_INVALID:
        case CRYPT_SALT_METHOD_DISABLED:
        case CRYPT_SALT_METHOD_LEGACY:
                return false;
        }
        cd = calloc(1, sizeof *cd);
        if (!cd)
                return false;
        h = crypt_rn(password, hash, cd, sizeof *cd);
        return h && equal_in_constant_time(h, hash);
}

/* ------------------------------------------------------------ updating */

static int lock_for_writing(const char *path) {
        _cleanup_free_ char *lock_path = NULL;
        _cleanup_close_ int fd = -1;

        if (asprintf(&lock_path, "%s.lock", path) < 0)
                return -ENOMEM;
        fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return -errno;
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return -errno;
        return TAKE_FD(fd);
}

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

static int fsync_directory_of(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int fd = -1;

        if (!copy)
                return -ENOMEM;
        fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
                return -errno;
        return 0;
}

/* Writes data as the new content of path: whole or not at all, durably. */
static int replace_file(const char *path, const char *data, size_t n) {
        _cleanup_free_ char *tmp = NULL;
        int fd, r;

        if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = fchmod(fd, 0600) < 0 ? -errno : 0;
        if (r == 0)
                r = write_all(fd, data, n);
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        return fsync_directory_of(path);
}

/* old's words with the bits of clear taken out and those of set added. */
static int edit_flags(const char *old, unsigned set, unsigned clear, char **ret) {
        size_t size = strlen(old) + 2, n = 0;
        unsigned present = 0;
        char *out;

        for (size_t b = 0; b < sizeof flag_names / sizeof flag_names[0]; b++)
                size += strlen(flag_names[b]) + 1;
        out = malloc(size);
        if (!out)
                return -ENOMEM;
        for (const char *p = old; *p; ) {
                size_t k = strcspn(p, ","), b;

                for (b = 0; b < sizeof flag_names / sizeof flag_names[0]; b++)
                        if (strlen(flag_names[b]) == k && memcmp(p, flag_names[b], k) == 0)
                                break;
                bool known = b < sizeof flag_names / sizeof flag_names[0];
                if (k > 0 && !(known && (clear & (1u << b)))) {
                        n += (size_t) sprintf(out + n, "%s%.*s", n ? "," : "", (int) k, p);
                        if (known)
                                present |= 1u << b;
                }
                p += k;
                if (*p == ',')
                        p++;
        }
        for (size_t b = 0; b < sizeof flag_names / sizeof flag_names[0]; b++)
                if ((set & (1u << b)) && !(present & (1u << b)))
                        n += (size_t) sprintf(out + n, "%s%s", n ? "," : "", flag_names[b]);
        out[n] = '\0';
        if (n > CONFIRM_SHADOW_FLAGS_MAX) {
                free(out);
                return -E2BIG;
        }
        *ret = out;
        return 0;
}

/* One change of confirm_shadow_update() or _remove(): login's line becomes
 * login:hash:flags, or goes when remove. */
typedef struct Change {
        const char *login;
        const char *hash;       /* NULL: keep the old one */
        unsigned set, clear;
        bool remove;
} Change;

static size_t put_line(char *out, const char *login, const char *hash, const char *flags) {
        size_t n = strlen(login) + strlen(hash) + strlen(flags) + 3;

        if (out)
                sprintf(out, "%s:%s:%s\n", login, hash, flags);
        return n;
}

/* The new text of the file: s with the change, in file order, a new login
 * at the end.  Wiped by the caller. */
static int render(const ConfirmShadow *s, const Change *c, const char *flags, char **ret, size_t *ret_len) {
        const ConfirmShadowEntry *mine = confirm_shadow_find(s, c->login);
        size_t len = 0;
        char *out = NULL;

        for (int pass = 0; pass < 2; pass++) {
                char *p = pass ? out : NULL;
                size_t n = 0;

                for (size_t i = 0; i < s->n_entries; i++) {
                        const ConfirmShadowEntry *e = &s->entries[i];

                        if (e == mine && c->remove)
                                continue;
                        if (e == mine)
                                n += put_line(p ? p + n : NULL, e->login, c->hash ?: e->hash, flags);
                        else
                                n += put_line(p ? p + n : NULL, e->login, e->hash, e->flags);
                }
                if (!mine)
                        n += put_line(p ? p + n : NULL, c->login, c->hash, flags);
                if (pass == 0) {
                        len = n;
                        out = malloc(len + 1);
                        if (!out)
                                return -ENOMEM;
                }
        }
        *ret = out;
        *ret_len = len;
        return 0;
}

static int apply_locked(const char *path, const Change *c, const ConfirmShadowLog *log) {
        _cleanup_(confirm_shadow_done) ConfirmShadow s = {};
        _cleanup_free_ char *flags = NULL;
        const ConfirmShadowEntry *e;
        char *text = NULL;
        size_t len = 0;
        int r;

        r = confirm_shadow_read(path, log, &s);
        if (r == -ENOENT)
                r = confirm_shadow_parse("", 0, path, log, &s);
        if (r < 0)
                return r;
        e = confirm_shadow_find(&s, c->login);
        if (!e && (c->remove || !c->hash))
                return -ENOENT;
        r = edit_flags(e ? e->flags : "", c->set, c->clear, &flags);
        if (r < 0)
                return r;
        r = render(&s, c, flags, &text, &len);
        if (r < 0)
                return r;
        r = replace_file(path, text, len);
        explicit_bzero(text, len);
        free(text);
        return r;
}

static int apply(const char *path, const Change *c, const ConfirmShadowLog *log) {
        _cleanup_close_ int lock_fd = -1;
        int r;

        lock_fd = lock_for_writing(path);
        if (lock_fd < 0) {
                say(log, LOG_ERR, "%s.lock: cannot lock: %s", path, strerror(-lock_fd));
                return lock_fd;
        }
        r = apply_locked(path, c, log);
        if (r < 0 && r != -ENOENT)
                say(log, LOG_ERR, "%s: not updated: %s", path, strerror(-r));
        return r;
}

int confirm_shadow_update(const char *path, const char *login, const char *new_password,
                          unsigned set_flags, unsigned clear_flags, const ConfirmShadowLog *log) {
        _cleanup_free_ char *hash = NULL;
        int r;

        if (!path || !confirm_shadow_login_valid(login) || (set_flags & clear_flags) ||
            ((set_flags | clear_flags) & ~(unsigned) _CONFIRM_SHADOW_KNOWN))
                return -EINVAL;
        if (new_password) {
                /* Before the lock: yescrypt takes its time on purpose. */
                r = confirm_shadow_hash(new_password, &hash);
                if (r < 0)
                        return r;
        }
        return apply(path, &(Change) { .login = login, .hash = hash, .set = set_flags, .clear = clear_flags }, log);
}

int confirm_shadow_remove(const char *path, const char *login, const ConfirmShadowLog *log) {
        if (!path || !confirm_shadow_login_valid(login))
                return -EINVAL;
        return apply(path, &(Change) { .login = login, .remove = true }, log);
}
