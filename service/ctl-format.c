/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fnmatch.h>
#include <locale.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "certrevoke.h"
#include "ctl-format.h"

#define USEC_PER_SEC UINT64_C(1000000)

const CtlExitCode ctl_exit_codes[] = {
        { CTL_EXIT_SUCCESS,       N_("success"),                         NULL },
        { CTL_EXIT_FAILURE,       N_("other failure, including no connection to the service"), NULL },
        { CTL_EXIT_USAGE,         N_("bad input or usage"),              CR_ERROR_INVALID_ARGS },
        { CTL_EXIT_NOT_FOUND,     N_("not found"),                       CR_ERROR_NO_SUCH_USER },
        { CTL_EXIT_NOT_FOUND,     NULL,                                  "org.freedesktop.DBus.Error.UnknownObject" },
        { CTL_EXIT_ACCESS_DENIED, N_("access denied"),                   CR_ERROR_ACCESS_DENIED },
        /* Interactive authorization is never requested, so a service that
         * would need it has in effect denied access. */
        { CTL_EXIT_ACCESS_DENIED, NULL,                                  "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired" },
        { CTL_EXIT_AUTH_FAILED,   N_("authentication failed"),           CR_ERROR_AUTHENTICATION_FAILED },
        { CTL_EXIT_RATE_LIMITED,  N_("too many attempts, try again later"), CR_ERROR_RATE_LIMITED },
        { CTL_EXIT_NOT_REVOCABLE, N_("certificate not revocable or changed"), CR_ERROR_NOT_REVOCABLE },
        { CTL_EXIT_NOT_REVOCABLE, NULL,                                  CR_ERROR_CERTIFICATE_CHANGED },
        { CTL_EXIT_EXISTS,        N_("user already exists"),             CR_ERROR_USER_EXISTS },
        { CTL_EXIT_BUSY,          N_("the service is busy, try again later"), CR_ERROR_BUSY },
};
const size_t ctl_exit_codes_count = ELEMENTSOF(ctl_exit_codes);

int ctl_exit_code_from_error_name(const char *name) {
        if (!name)
                return CTL_EXIT_FAILURE;
        for (size_t i = 0; i < ctl_exit_codes_count; i++)
                if (ctl_exit_codes[i].error_name && strcmp(ctl_exit_codes[i].error_name, name) == 0)
                        return ctl_exit_codes[i].code;
        return CTL_EXIT_FAILURE;
}

int ctl_busy_retry_seconds(const char *message, unsigned *ret) {
        static const char prefix[] = "try again in ";
        const char *at = NULL, *p;
        unsigned long n = 0;
        char *end;

        /* the last mention: the reason before it is free text */
        for (p = message; p && (p = strstr(p, prefix)); p += sizeof prefix - 1)
                at = p + sizeof prefix - 1;
        if (!at || *at < '1' || *at > '9')
                return -EINVAL;
        errno = 0;
        n = strtoul(at, &end, 10);
        if (errno != 0 || n > UINT32_MAX || strcmp(end, " s") != 0)
                return -EINVAL;
        *ret = (unsigned) n;
        return 0;
}

void ctl_locale_init(const char *default_localedir) {
        /* secure_getenv: a set-id caller must not be able to feed us a
         * catalogue whose format strings it wrote. */
        const char *dir = secure_getenv("CERTREVOKE_LOCALEDIR");

        setlocale(LC_ALL, "");
        bindtextdomain(CTL_TEXT_DOMAIN, dir && *dir ? dir : default_localedir);
        textdomain(CTL_TEXT_DOMAIN);
}

/* Indexed by CrRole and CrCertState so that names.c stays the one place
 * that knows the API strings. */
static const char *const role_labels[_CR_ROLE_MAX] = {
        [CR_ROLE_MASTER]  = N_("Master user"),
        [CR_ROLE_ADMIN]   = N_("Administrator user"),
        [CR_ROLE_GENERAL] = N_("General user"),
        [CR_ROLE_WORKER]  = N_("Worker user"),
};

static const char *const state_labels[_CR_CERT_STATE_MAX] = {
        [CR_CERT_ISSUED]     = N_("issued"),
        [CR_CERT_RENEWED]    = N_("renewed"),
        [CR_CERT_EXPIRED]    = N_("expired"),
        [CR_CERT_NOT_ISSUED] = N_("not issued"),
        [CR_CERT_REVOKED]    = N_("revoked"),
};

const char *ctl_role_label(const char *role) {
        CrRole r = cr_role_from_string(role);

        return r == _CR_ROLE_INVALID ? role : _(role_labels[r]);
}

const char *ctl_state_label(const char *state) {
        CrCertState s = cr_cert_state_from_string(state);

        return s == _CR_CERT_STATE_INVALID ? state : _(state_labels[s]);
}

/* dgettext of a message in a context, as msgctxt keeps it in the
 * catalogue: "context\004msgid"; msgid itself when it is not there. */
static const char *context_gettext(const char *key, const char *msgid) {
        const char *t = dgettext(CTL_TEXT_DOMAIN, key);

        return t == key ? msgid : t;
}

#define C_(context, msgid) context_gettext(context "\004" msgid, msgid)

const char *ctl_suspended_label(bool suspended) {
        return suspended ? C_("suspended", "yes") : C_("suspended", "no");
}

bool ctl_state_shows_expiry(const char *state) {
        CrCertState s = cr_cert_state_from_string(state);

        return s == CR_CERT_ISSUED || s == CR_CERT_RENEWED;
}

static int format_tm(uint64_t usec, bool utc, const char *format, char *buf, size_t size) {
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        if ((uint64_t) t != usec / USEC_PER_SEC)
                return -EOVERFLOW;
        if (!(utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)))
                return -EOVERFLOW;
        /* Our formats never produce an empty string, so 0 means "too small". */
        if (strftime(buf, size, format, &tm) == 0)
                return -ENOBUFS;
        return 0;
}

int ctl_format_time(uint64_t usec, char *buf, size_t size) {
        /* TRANSLATORS: strftime(3) format of dates and times shown to users.
         * Japanese: "%Y年%m月%d日 %H時%M分%S秒". */
        return format_tm(usec, false, _("%Y-%m-%d %H:%M:%S"), buf, size);
}

int ctl_format_iso8601(uint64_t usec, char *buf, size_t size) {
        return format_tm(usec, true, "%Y-%m-%dT%H:%M:%SZ", buf, size);
}

/* Characters of a UTF-8 string, for when the locale cannot decode it. */
static size_t utf8_chars(const char *s) {
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if ((*p & 0xc0) != 0x80)
                        n++;
        return n;
}

/* Width in the current LC_CTYPE; false if it cannot decode s. */
static bool width_here(const char *s, size_t *ret) {
        _cleanup_free_ wchar_t *w = NULL;
        size_t n = mbstowcs(NULL, s, 0);
        int width;

        if (n == (size_t) -1)
                return false;
        w = calloc(n + 1, sizeof(wchar_t));
        if (!w)
                return false;
        mbstowcs(w, s, n + 1);
        width = wcswidth(w, n);
        /* Non-printable characters make wcswidth give up; one column each
         * is the best guess and keeps the table from collapsing. */
        *ret = width < 0 ? n : (size_t) width;
        return true;
}

/* Names are UTF-8 whatever the locale, and the terminal most likely is too,
 * so under LC_ALL=C the widths of C.UTF-8 still line the columns up.  The
 * locale object is kept for the life of the process. */
static bool width_utf8(const char *s, size_t *ret) {
        static locale_t utf8;
        locale_t old;
        bool ok;

        if (!utf8)
                utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
        if (!utf8)
                return false;
        old = uselocale(utf8);
        ok = width_here(s, ret);
        uselocale(old);
        return ok;
}

size_t ctl_display_width(const char *s) {
        size_t w;

        if (!s)
                return 0;
        if (width_here(s, &w) || width_utf8(s, &w))
                return w;
        return utf8_chars(s);
}

int ctl_pad(const char *s, size_t width, CtlAlign align, char **ret) {
        size_t len = strlen(s), w = ctl_display_width(s);
        size_t fill = w < width ? width - w : 0;
        char *p = malloc(len + fill + 1);

        if (!p)
                return -ENOMEM;
        if (align == CTL_ALIGN_RIGHT) {
                memset(p, ' ', fill);
                memcpy(p + fill, s, len);
        } else {
                memcpy(p, s, len);
                memset(p + len, ' ', fill);
        }
        p[len + fill] = '\0';
        *ret = p;
        return 0;
}

/* Length of the valid UTF-8 sequence at p (no overlongs, surrogates or
 * values past U+10FFFF), or 0 if it is not one. */
static size_t utf8_valid_len(const unsigned char *p) {
        size_t len;
        unsigned c;

        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)      { len = 2; c = p[0] & 0x1f; }
        else if ((p[0] & 0xf0) == 0xe0)        { len = 3; c = p[0] & 0x0f; }
        else if (p[0] >= 0xf0 && p[0] <= 0xf4) { len = 4; c = p[0] & 0x07; }
        else
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (p[i] & 0x3f);
        }
        if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
            c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        return len;
}

int ctl_json_escape(const char *s, char **ret) {
        const unsigned char *p = (const unsigned char *) s;
        /* Worst case every byte becomes a six-character \uXXXX escape. */
        char *out = malloc(strlen(s) * 6 + 3), *q = out;

        if (!out)
                return -ENOMEM;
        *q++ = '"';
        while (*p) {
                size_t l = utf8_valid_len(p);

                if (l == 0) {
                        q = stpcpy(q, "\\ufffd");
                        p++;
                        continue;
                }
                switch (*p) {
                case '"':  q = stpcpy(q, "\\\""); break;
                case '\\': q = stpcpy(q, "\\\\"); break;
                case '\b': q = stpcpy(q, "\\b");  break;
                case '\f': q = stpcpy(q, "\\f");  break;
                case '\n': q = stpcpy(q, "\\n");  break;
                case '\r': q = stpcpy(q, "\\r");  break;
                case '\t': q = stpcpy(q, "\\t");  break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                q += sprintf(q, "\\u%04x", *p);
                        else
                                q = mempcpy(q, p, l);
                }
                p += l;
        }
        *q++ = '"';
        *q = '\0';
        *ret = out;
        return 0;
}

int ctl_json_fputs(FILE *f, const char *s) {
        _cleanup_free_ char *e = NULL;
        int r;

        if (!s)
                return fputs("null", f) < 0 ? -EIO : 0;
        r = ctl_json_escape(s, &e);
        if (r < 0)
                return r;
        return fputs(e, f) < 0 ? -EIO : 0;
}

int ctl_printable(const char *s, char **ret) {
        char *out = strdup(s);
        unsigned char *p = (unsigned char *) out;

        if (!out)
                return -ENOMEM;
        for (; *p; p++) {
                if (*p < 0x20 || *p == 0x7f)
                        *p = '?';
                else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
                        /* U+0080..U+009F: two bytes become "??" to keep the length. */
                        p[0] = p[1] = '?';
                        p++;
                }
        }
        *ret = out;
        return 0;
}

bool ctl_pattern_is_glob(const char *pattern) {
        return strpbrk(pattern, "*?[") != NULL;
}

bool ctl_pattern_match(const char *pattern, const char *s) {
        if (!s)
                return false;
        if (ctl_pattern_is_glob(pattern))
                return fnmatch(pattern, s, 0) == 0;
        return strstr(s, pattern) != NULL;
}

/* What the service writes into the operation history as the action.  The
 * English labels are the names themselves, the ones scripts see in JSON. */
static const struct {
        const char *action;
        const char *label;
} action_labels[] = {
        { "revoke",             N_("revoke") },
        { "confirm",            N_("confirm") },
        { "add-user",           N_("add-user") },
        { "remove-user",        N_("remove-user") },
        { "set-role",           N_("set-role") },
        { "import-certificate", N_("import-certificate") },
        { "rescan",             N_("rescan") },
        { "token-removal",      N_("token-removal") },
        { "publish-crl",        N_("publish-crl") },
        { "suspend",            N_("suspend") },
        { "resume",             N_("resume") },
        { "change-confirmation-password", N_("change-confirmation-password") },
        { "set-confirmation-password",    N_("set-confirmation-password") },
};

const char *ctl_action_label(const char *action) {
        for (size_t i = 0; i < ELEMENTSOF(action_labels); i++)
                if (strcmp(action_labels[i].action, action) == 0)
                        return _(action_labels[i].label);
        return action;
}

static const struct {
        const char *name;
        const char *label;
} reasons[] = {
        { "unspecified",          N_("unspecified") },
        { "keyCompromise",        N_("key compromise") },
        { "CACompromise",         N_("CA compromise") },
        { "affiliationChanged",   N_("affiliation changed") },
        { "superseded",           N_("superseded") },
        { "cessationOfOperation", N_("cessation of operation") },
        { "privilegeWithdrawn",   N_("privilege withdrawn") },
        { "AACompromise",         N_("AA compromise") },
};

static int reason_index(const char *reason) {
        if (!*reason)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(reasons); i++)
                if (strcmp(reasons[i].name, reason) == 0)
                        return (int) i;
        return -1;
}

bool ctl_reason_is_valid(const char *reason) {
        return reason && reason_index(reason) >= 0;
}

const char *ctl_reason_label(const char *reason) {
        int i = reason ? reason_index(reason) : -1;

        return i < 0 ? reason : _(reasons[i].label);
}

bool ctl_serial_is_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > 128 || strspn(s, "0123456789abcdefABCDEF:") != n)
                return false;
        return strpbrk(s, "0123456789abcdefABCDEF") != NULL;
}

int ctl_parse_uint32(const char *s, uint32_t *ret) {
        uint64_t v = 0;

        if (!s || !*s)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                v = v * 10 + (uint64_t) (*p - '0');
                if (v > UINT32_MAX)
                        return -ERANGE;
        }
        *ret = (uint32_t) v;
        return 0;
}

/* n decimal digits at s; -1 if they are not all digits. */
static int digits(const char *s, size_t n) {
        int v = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        return v;
}

static int days_in_month(int year, int month) {
        static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

        return month == 2 && leap ? 29 : days[month - 1];
}

int ctl_parse_since(const char *s, uint64_t *ret) {
        size_t len = s ? strlen(s) : 0;
        int year, month, day, hour = 0, minute = 0, second = 0;
        struct tm tm = { 0 };
        time_t t;

        if (len != 10 && len != 19)
                return -EINVAL;
        if (s[4] != '-' || s[7] != '-')
                return -EINVAL;
        year = digits(s, 4);
        month = digits(s + 5, 2);
        day = digits(s + 8, 2);
        if (len == 19) {
                if (s[10] != ' ' || s[13] != ':' || s[16] != ':')
                        return -EINVAL;
                hour = digits(s + 11, 2);
                minute = digits(s + 14, 2);
                second = digits(s + 17, 2);
        }
        if (year < 0 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
            hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59)
                return -EINVAL;
        if (year < 1970)
                return -ERANGE;
        tm.tm_year = year - 1900;
        tm.tm_mon = month - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = minute;
        tm.tm_sec = second;
        /* Let the time zone decide whether summer time applies. */
        tm.tm_isdst = -1;
        t = mktime(&tm);
        /* -1 is also mktime's error: before the epoch either way. */
        if (t < 0)
                return -ERANGE;
        if ((uint64_t) t > UINT64_MAX / USEC_PER_SEC)
                return -ERANGE;
        *ret = (uint64_t) t * USEC_PER_SEC;
        return 0;
}

int ctl_read_line(int fd, char *buf, size_t size, size_t *ret_len) {
        size_t n = 0;

        if (size == 0)
                return -ENOBUFS;
        for (;;) {
                char c;
                ssize_t k = read(fd, &c, 1);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        int e = errno;

                        explicit_bzero(buf, size);
                        return -e;
                }
                if (k == 0 || c == '\n')
                        break;
                if (n + 1 >= size) {
                        explicit_bzero(buf, size);
                        /* The rest of an overlong line is not ours to leave
                         * for whoever reads next, and is no password. */
                        while ((k = read(fd, &c, 1)) > 0 || (k < 0 && errno == EINTR))
                                if (k > 0 && c == '\n')
                                        break;
                        return -ENOBUFS;
                }
                buf[n++] = c;
        }
        buf[n] = '\0';
        *ret_len = n;
        return 0;
}

/* ---- tables ------------------------------------------------------------ */

static void cells_free(char **cells, size_t count) {
        for (size_t i = 0; i < count; i++)
                free(cells[i]);
        free(cells);
}

char *ctl_expiry_cell(const char *state, uint64_t not_after) {
        char buf[CTL_TIME_BUF_MAX];

        if (!ctl_state_shows_expiry(state) || not_after == 0 || ctl_format_time(not_after, buf, sizeof buf) < 0)
                return strdup("-");
        return strdup(buf);
}

static int fill_header(char **cells, const char *const *header, size_t cols) {
        for (size_t col = 0; col < cols; col++) {
                cells[col] = strdup(_(header[col]));
                if (!cells[col])
                        return -ENOMEM;
        }
        return 0;
}

/* The last column is not padded, to leave no trailing blanks. */
static int print_table(FILE *out, char **cells, size_t rows, size_t cols) {
        size_t width[CTL_TABLE_COLUMNS_MAX] = { 0 };

        assert(cols <= CTL_TABLE_COLUMNS_MAX);
        for (size_t i = 0; i < rows * cols; i++) {
                size_t w = ctl_display_width(cells[i]);

                if (w > width[i % cols])
                        width[i % cols] = w;
        }
        for (size_t row = 0; row < rows; row++)
                for (size_t col = 0; col < cols; col++) {
                        _cleanup_free_ char *padded = NULL;
                        const char *cell = cells[row * cols + col];

                        if (col + 1 == cols) {
                                fprintf(out, "%s\n", cell);
                                continue;
                        }
                        if (ctl_pad(cell, width[col], CTL_ALIGN_LEFT, &padded) < 0)
                                return -ENOMEM;
                        fprintf(out, "%s  ", padded);
                }
        return 0;
}

int ctl_print_rows(FILE *out, const char *const *header, size_t cols, const void *rows, size_t size, size_t n,
                   CtlFillFn fill) {
        size_t count = (n + 1) * cols;
        char **cells = calloc(count, sizeof(char *));
        int r;

        if (!cells)
                return -ENOMEM;
        r = fill_header(cells, header, cols);
        for (size_t i = 0; i < n && r >= 0; i++)
                r = fill(cells + (i + 1) * cols, (const char *) rows + i * size);
        if (r >= 0)
                r = print_table(out, cells, n + 1, cols);
        cells_free(cells, count);
        return r;
}

int ctl_print_json_rows(FILE *out, const void *rows, size_t row_size, size_t n, const char *const keys[],
                        const size_t offsets[], size_t n_keys) {
        int r = 0;

        fputs("[", out);
        for (size_t i = 0; i < n && r >= 0; i++) {
                const char *row = (const char *) rows + i * row_size;

                fputs(i == 0 ? "\n{" : ",\n{", out);
                for (size_t k = 0; k < n_keys && r >= 0; k++) {
                        fprintf(out, "%s\"%s\":", k > 0 ? "," : "", keys[k]);
                        r = ctl_json_fputs(out, *(const char *const *) (row + offsets[k]));
                }
                fputs("}", out);
        }
        fputs(n > 0 ? "\n]\n" : "]\n", out);
        return r;
}
