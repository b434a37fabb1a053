/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevokectl: the command-line frontend of certrevoked. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <systemd/sd-bus.h>

#include "certrevoke.h"
#include "ctl-format.h"

#ifndef LOCALEDIR
#define LOCALEDIR "/usr/share/locale"
#endif
#ifndef CR_VERSION
#define CR_VERSION "unknown"
#endif

#define PROGRAM_NAME "certrevokectl"
#define PROPERTIES_IFACE "org.freedesktop.DBus.Properties"

/* Rescan and certificate import walk every token, and a smartcard reader can
 * take its time; the default 25 s of sd-bus would give up too early. */
#define CALL_TIMEOUT_USEC (UINT64_C(120) * UINT64_C(1000000))

/* Certificates are a few KiB; anything this large is not one. */
#define CERT_FILE_MAX (1024 * 1024)

#define TIME_BUF_MAX 128

/* Longest confirmation password read; the service takes less. */
#define PASSWORD_MAX 1024

/* Widest table printed. */
#define TABLE_COLUMNS_MAX 5

static const char *arg_address;
static bool arg_json;
static const char *arg_state;
static const char *arg_role;
static const char *arg_reason;
static const char *arg_serial;
static bool arg_password_stdin;
static const char *arg_since;
static const char *arg_limit;
static bool arg_verify;
static bool arg_dry_run;

/* Set by whoever reports an error, returned by main. */
static int exit_status = CTL_EXIT_FAILURE;

DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free)

/* ---- reporting ------------------------------------------------------- */

static int vfail(int status, int r, const char *format, va_list ap) __attribute__((format(printf, 3, 0)));
static int vfail(int status, int r, const char *format, va_list ap) {
        fputs(PROGRAM_NAME ": ", stderr);
        vfprintf(stderr, format, ap);
        fputc('\n', stderr);
        exit_status = status;
        return r < 0 ? r : -EINVAL;
}

/* Prints "certrevokectl: <message>", records the exit status and returns r
 * (a negative errno) so that callers can write "return fail(...)". */
static int fail(int status, int r, const char *format, ...) __attribute__((format(printf, 3, 4)));
static int fail(int status, int r, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        r = vfail(status, r, format, ap);
        va_end(ap);
        return r;
}

static int fail_usage(const char *format, ...) __attribute__((format(printf, 1, 2)));
static int fail_usage(const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = vfail(CTL_EXIT_USAGE, -EINVAL, format, ap);
        va_end(ap);
        return r;
}

/* Busy says in its message when to try again: that, in the user's words. */
static int fail_busy(const sd_bus_error *error, int r) {
        unsigned seconds;

        if (ctl_busy_retry_seconds(error->message, &seconds) < 0)
                return fail(CTL_EXIT_BUSY, r, "%s", _("The service is busy; try again later."));
        return fail(CTL_EXIT_BUSY, r,
                    dngettext(CTL_TEXT_DOMAIN, "The service is busy; try again in %u second.",
                              "The service is busy; try again in %u seconds.", seconds),
                    seconds);
}

/* The service's own message is what the user needs to see; the exit status
 * comes from the error name through the shared table. */
static int fail_bus(const sd_bus_error *error, int r) {
        const char *msg = error->message ? error->message : error->name;

        if (sd_bus_error_has_name(error, CR_ERROR_BUSY))
                return fail_busy(error, r);
        return fail(ctl_exit_code_from_error_name(error->name), r, "%s", msg ? msg : strerror(-r));
}

static int fail_parse(int r) {
        return fail(CTL_EXIT_FAILURE, r, _("Failed to parse the reply of the service: %s"), strerror(-r));
}

static int fail_oom(void) {
        return fail(CTL_EXIT_FAILURE, -ENOMEM, "%s", strerror(ENOMEM));
}

/* ---- bus ------------------------------------------------------------- */

static int connect_bus(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        if (!arg_address) {
                /* Honours DBUS_SYSTEM_BUS_ADDRESS. */
                r = sd_bus_open_system(&bus);
                if (r < 0)
                        return fail(CTL_EXIT_FAILURE, r, _("Failed to connect to the system bus: %s"), strerror(-r));
        } else {
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, arg_address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(bus, 1);
                if (r >= 0)
                        r = sd_bus_start(bus);
                if (r < 0)
                        return fail(CTL_EXIT_FAILURE, r, _("Failed to connect to the bus at %s: %s"),
                                    arg_address, strerror(-r));
        }
        *ret = bus;
        bus = NULL;
        return 0;
}

static int new_call(sd_bus *bus, const char *path, const char *iface, const char *member, sd_bus_message **ret) {
        int r = sd_bus_message_new_method_call(bus, ret, CR_BUS_NAME, path, iface, member);

        /* Interactive authorization stays off (the default): a script must
         * never hang on a polkit prompt. */
        if (r < 0)
                return fail(CTL_EXIT_FAILURE, r, _("Failed to create the call %s: %s"), member, strerror(-r));
        return 0;
}

static int send_call(sd_bus *bus, sd_bus_message *m, sd_bus_message **reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &error, reply);

        return r < 0 ? fail_bus(&error, r) : 0;
}

static int callv(sd_bus *bus, const char *path, const char *iface, const char *member,
                 sd_bus_message **reply, const char *types, va_list ap) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = new_call(bus, path, iface, member, &m);
        if (r < 0)
                return r;
        r = types ? sd_bus_message_appendv(m, types, ap) : 0;
        if (r < 0)
                return fail(CTL_EXIT_FAILURE, r, _("Failed to create the call %s: %s"), member, strerror(-r));
        return send_call(bus, m, reply);
}

/* A method call whose arguments sd_bus_message_appendv can take. */
static int call(sd_bus *bus, const char *path, const char *iface, const char *member,
                sd_bus_message **reply, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = callv(bus, path, iface, member, reply, types, ap);
        va_end(ap);
        return r;
}

static int call_manager(sd_bus *bus, const char *member, sd_bus_message **reply, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = callv(bus, CR_MANAGER_PATH, CR_MANAGER_IFACE, member, reply, types, ap);
        va_end(ap);
        return r;
}

/* ---- argument checks ------------------------------------------------- */

/* The reasons come from names.c in English; the catalogue carries them. */
static int check_login_id(const char *login) {
        const char *why = cr_login_id_invalid(login);

        return why ? fail_usage(_("Invalid login ID \"%s\": %s"), login, _(why)) : 0;
}

static int check_role(const char *role) {
        if (cr_role_from_string(role) != _CR_ROLE_INVALID)
                return 0;
        return fail_usage(_("Invalid role \"%s\"; expected one of: master, admin, general, worker."), role);
}

static int check_state(const char *state) {
        if (cr_cert_state_from_string(state) != _CR_CERT_STATE_INVALID)
                return 0;
        return fail_usage(_("Invalid certificate state \"%s\"; expected one of: "
                            "issued, renewed, expired, not-issued, revoked."), state);
}

/* Decimal only, no sign, and not (uid_t) -1, which means "no user". */
static int parse_uid(const char *s, uint32_t *ret) {
        unsigned long long v;
        char *end;

        errno = 0;
        if (*s < '0' || *s > '9')
                return -EINVAL;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end != '\0' || v >= UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

/* ---- list ------------------------------------------------------------ */

typedef struct UserRow {
        const char *login_id, *name, *role, *state, *serial, *path;
        uint64_t not_after;
} UserRow;

static bool row_wanted(const UserRow *u, const char *pattern) {
        if (arg_state && strcmp(u->state, arg_state) != 0)
                return false;
        if (arg_role && strcmp(u->role, arg_role) != 0)
                return false;
        return !pattern || ctl_pattern_match(pattern, u->login_id) || ctl_pattern_match(pattern, u->name);
}

static int row_compare(const void *a, const void *b) {
        const UserRow *x = a, *y = b;
        int c = strcmp(x->login_id, y->login_id);

        return c != 0 ? c : strcmp(x->name, y->name);
}

/* The rows point into the reply, which therefore outlives them. */
static int read_users(sd_bus_message *reply, const char *pattern, UserRow **ret, size_t *ret_n) {
        _cleanup_free_ UserRow *rows = NULL;
        size_t n = 0, allocated = 0;
        UserRow u;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(sssssto)");
        if (r < 0)
                return fail_parse(r);
        while ((r = sd_bus_message_read(reply, "(sssssto)", &u.login_id, &u.name, &u.role, &u.state,
                                        &u.serial, &u.not_after, &u.path)) > 0) {
                if (!row_wanted(&u, pattern))
                        continue;
                if (n == allocated) {
                        size_t na = allocated ? allocated * 2 : 16;
                        UserRow *p = reallocarray(rows, na, sizeof(UserRow));

                        if (!p)
                                return fail_oom();
                        rows = p;
                        allocated = na;
                }
                rows[n++] = u;
        }
        if (r < 0)
                return fail_parse(r);
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return fail_parse(r);
        if (n > 0)
                qsort(rows, n, sizeof(UserRow), row_compare);
        *ret = rows;
        rows = NULL;
        *ret_n = n;
        return 0;
}

static int print_users_json(const UserRow *rows, size_t n) {
        char expiry[TIME_BUF_MAX];
        int r = 0;

        fputs("[", stdout);
        for (size_t i = 0; i < n && r >= 0; i++) {
                const UserRow *u = &rows[i];
                bool has_expiry = u->not_after > 0 && ctl_format_iso8601(u->not_after, expiry, sizeof expiry) >= 0;

                fputs(i == 0 ? "\n" : ",\n", stdout);
                fputs("{\"login_id\":", stdout);
                r = ctl_json_fputs(stdout, u->login_id);
                fputs(",\"name\":", stdout);
                if (r >= 0) r = ctl_json_fputs(stdout, u->name);
                fputs(",\"role\":", stdout);
                if (r >= 0) r = ctl_json_fputs(stdout, u->role);
                fputs(",\"state\":", stdout);
                if (r >= 0) r = ctl_json_fputs(stdout, u->state);
                fputs(",\"serial\":", stdout);
                if (r >= 0) r = ctl_json_fputs(stdout, u->serial);
                printf(",\"not_after_usec\":%" PRIu64 ",\"expiry\":", u->not_after);
                if (r >= 0) r = ctl_json_fputs(stdout, has_expiry ? expiry : NULL);
                fputs(",\"path\":", stdout);
                if (r >= 0) r = ctl_json_fputs(stdout, u->path);
                fputs("}", stdout);
        }
        fputs(n > 0 ? "\n]\n" : "]\n", stdout);
        return r < 0 ? fail(CTL_EXIT_FAILURE, r, _("Failed to write output: %s"), strerror(-r)) : 0;
}

enum { COL_LOGIN, COL_NAME, COL_ROLE, COL_STATE, COL_EXPIRY, LIST_COLUMNS };
_Static_assert(LIST_COLUMNS <= TABLE_COLUMNS_MAX, "the list is wider than print_table allows");

static void cells_free(char **cells, size_t count) {
        for (size_t i = 0; i < count; i++)
                free(cells[i]);
        free(cells);
}

static char *expiry_cell(const UserRow *u) {
        char buf[TIME_BUF_MAX];

        if (!ctl_state_shows_expiry(u->state) || u->not_after == 0 ||
            ctl_format_time(u->not_after, buf, sizeof buf) < 0)
                return strdup("-");
        return strdup(buf);
}

/* Text that came from the service is made printable; labels are ours. */
static int fill_row(char **cells, const UserRow *u) {
        if (ctl_printable(u->login_id, &cells[COL_LOGIN]) < 0 ||
            ctl_printable(u->name, &cells[COL_NAME]) < 0 ||
            ctl_printable(ctl_role_label(u->role), &cells[COL_ROLE]) < 0 ||
            ctl_printable(ctl_state_label(u->state), &cells[COL_STATE]) < 0)
                return -ENOMEM;
        cells[COL_EXPIRY] = expiry_cell(u);
        return cells[COL_EXPIRY] ? 0 : -ENOMEM;
}

static int fill_header(char **cells, const char *const *header, size_t cols) {
        for (size_t c = 0; c < cols; c++) {
                cells[c] = strdup(_(header[c]));
                if (!cells[c])
                        return -ENOMEM;
        }
        return 0;
}

/* Columns are padded by display width so that Japanese names line up; the
 * last column is not padded, to leave no trailing blanks. */
static int print_table(char **cells, size_t rows, size_t cols) {
        size_t width[TABLE_COLUMNS_MAX] = { 0 };

        for (size_t i = 0; i < rows * cols; i++) {
                size_t w = ctl_display_width(cells[i]);

                if (w > width[i % cols])
                        width[i % cols] = w;
        }
        for (size_t row = 0; row < rows; row++)
                for (size_t c = 0; c < cols; c++) {
                        _cleanup_free_ char *padded = NULL;
                        const char *cell = cells[row * cols + c];

                        if (c + 1 == cols) {
                                printf("%s\n", cell);
                                continue;
                        }
                        if (ctl_pad(cell, width[c], CTL_ALIGN_LEFT, &padded) < 0)
                                return fail_oom();
                        printf("%s  ", padded);
                }
        return 0;
}

typedef int (*fill_fn)(char **cells, const void *row);

/* A table of n rows of the given size, a header of cols translated labels
 * above them; fill turns one row into its cells. */
static int print_rows(const char *const *header, size_t cols, const void *rows, size_t size, size_t n,
                      fill_fn fill) {
        size_t count = (n + 1) * cols;
        char **cells = calloc(count, sizeof(char *));
        int r;

        if (!cells)
                return fail_oom();
        r = fill_header(cells, header, cols);
        for (size_t i = 0; i < n && r >= 0; i++)
                r = fill(cells + (i + 1) * cols, (const char *) rows + i * size);
        r = r < 0 ? fail_oom() : print_table(cells, n + 1, cols);
        cells_free(cells, count);
        return r;
}

static int fill_user_cells(char **cells, const void *row) {
        return fill_row(cells, row);
}

static int print_users_table(const UserRow *rows, size_t n) {
        static const char *const header[LIST_COLUMNS] = {
                N_("Login ID"), N_("Name"), N_("Role"), N_("Certificate state"), N_("Expiry"),
        };

        return print_rows(header, LIST_COLUMNS, rows, sizeof *rows, n, fill_user_cells);
}

static int verb_list(char **args, size_t n_args) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ UserRow *rows = NULL;
        const char *pattern = n_args > 0 ? args[0] : NULL;
        size_t n = 0;
        int r;

        r = arg_state ? check_state(arg_state) : 0;
        if (r >= 0 && arg_role)
                r = check_role(arg_role);
        if (r < 0)
                return r;
        r = connect_bus(&bus);
        if (r < 0)
                return r;
        r = call_manager(bus, "ListUsers", &reply, NULL);
        if (r < 0)
                return r;
        r = read_users(reply, pattern, &rows, &n);
        if (r < 0)
                return r;
        return arg_json ? print_users_json(rows, n) : print_users_table(rows, n);
}

/* ---- show ------------------------------------------------------------ */

/* A property of a basic type; containers are skipped, none is defined. */
typedef struct Prop {
        const char *name;
        char type;
        const char *str;      /* s, o, g */
        uint64_t u;           /* y, q, u, t */
        int64_t i;            /* n, i, x, b */
        double d;             /* d */
} Prop;

typedef union BasicValue {
        uint8_t y;
        int b;
        int16_t n;
        uint16_t q;
        int32_t i;
        uint32_t u;
        int64_t x;
        uint64_t t;
        double d;
        const char *s;
} BasicValue;

static void prop_set(Prop *p, char type, const BasicValue *v) {
        p->type = type;
        switch (type) {
        case 's': case 'o': case 'g': p->str = v->s; break;
        case 'y': p->u = v->y; break;
        case 'q': p->u = v->q; break;
        case 'u': p->u = v->u; break;
        case 't': p->u = v->t; break;
        case 'n': p->i = v->n; break;
        case 'i': p->i = v->i; break;
        case 'x': p->i = v->x; break;
        case 'b': p->i = v->b; break;
        case 'd': p->d = v->d; break;
        }
}

static bool type_is_readable_basic(const char *contents) {
        return contents && strlen(contents) == 1 && strchr("sogyqutnixbd", contents[0]);
}

/* Reads one variant into p; returns 1 if it was kept, 0 if skipped. */
static int read_variant(sd_bus_message *m, Prop *p) {
        const char *contents;
        BasicValue v;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (!type_is_readable_basic(contents)) {
                r = sd_bus_message_skip(m, "v");
                return r < 0 ? r : 0;
        }
        r = sd_bus_message_enter_container(m, 'v', contents);
        if (r >= 0)
                r = sd_bus_message_read_basic(m, contents[0], &v);
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        prop_set(p, contents[0], &v);
        return 1;
}

/* The properties point into the reply, which therefore outlives them. */
static int read_properties(sd_bus_message *m, Prop **ret, size_t *ret_n) {
        _cleanup_free_ Prop *props = NULL;
        size_t n = 0, allocated = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return fail_parse(r);
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                Prop p = { 0 };

                r = sd_bus_message_read_basic(m, 's', &p.name);
                if (r >= 0)
                        r = read_variant(m, &p);
                if (r > 0 && n == allocated) {
                        size_t na = allocated ? allocated * 2 : 16;
                        Prop *np = reallocarray(props, na, sizeof(Prop));

                        if (!np)
                                return fail_oom();
                        props = np;
                        allocated = na;
                }
                if (r > 0)
                        props[n++] = p;
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return fail_parse(r);
        }
        if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
                return fail_parse(r);
        *ret = props;
        props = NULL;
        *ret_n = n;
        return 0;
}

static const Prop *prop_find(const Prop *props, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(props[i].name, name) == 0)
                        return &props[i];
        return NULL;
}

static void print_prop_json_value(const Prop *p) {
        switch (p->type) {
        case 's': case 'o': case 'g':
                ctl_json_fputs(stdout, p->str);
                break;
        case 'y': case 'q': case 'u': case 't':
                printf("%" PRIu64, p->u);
                break;
        case 'b':
                fputs(p->i ? "true" : "false", stdout);
                break;
        case 'd':
                /* JSON has no NaN or infinity. */
                if (p->d == p->d && p->d - p->d == 0)
                        printf("%.17g", p->d);
                else
                        fputs("null", stdout);
                break;
        default:
                printf("%" PRId64, p->i);
        }
}

static int print_user_json(const Prop *props, size_t n) {
        fputs("{", stdout);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        fputs(",", stdout);
                if (ctl_json_fputs(stdout, props[i].name) < 0)
                        return fail_oom();
                fputs(":", stdout);
                print_prop_json_value(&props[i]);
        }
        fputs("}\n", stdout);
        return 0;
}

typedef enum ShowKind { SHOW_TEXT, SHOW_NUMBER, SHOW_ROLE, SHOW_STATE, SHOW_TIME, SHOW_EXPIRY, SHOW_SUSPENDED } ShowKind;

static const struct ShowField {
        const char *property;
        const char *label;
        ShowKind kind;
} show_fields[] = {
        { "LoginId",             N_("Login ID"),          SHOW_TEXT   },
        { "Name",                N_("Name"),              SHOW_TEXT   },
        { "Role",                N_("Role"),              SHOW_ROLE   },
        { "Uid",                 N_("UID"),               SHOW_NUMBER },
        { "CertificateState",    N_("Certificate state"), SHOW_STATE  },
        { "CertificateSerial",   N_("Serial"),            SHOW_TEXT   },
        { "CertificateSubject",  N_("Subject"),           SHOW_TEXT   },
        { "CertificateNotAfter", N_("Expiry"),            SHOW_EXPIRY },
        { "CertificateURI",      N_("Certificate URI"),   SHOW_TEXT   },
        { "RevokedAt",           N_("Revoked at"),        SHOW_TIME   },
        { "RevocationReason",    N_("Revocation reason"), SHOW_TEXT   },
        { "Suspended",           N_("Suspended"),         SHOW_SUSPENDED },
};

/* The human form of one field: "-" when absent, empty or zero, and for
 * the expiry also unless the certificate is valid, as in the list. */
static char *show_value(const struct ShowField *f, const Prop *p, const char *state) {
        char buf[TIME_BUF_MAX];
        bool is_str = p && (p->type == 's' || p->type == 'o' || p->type == 'g');
        char *out = NULL;

        if (!p || (is_str && !*p->str) || (f->kind == SHOW_EXPIRY && !ctl_state_shows_expiry(state)))
                return strdup("-");
        if (is_str) {
                const char *s = f->kind == SHOW_ROLE ? ctl_role_label(p->str) :
                                f->kind == SHOW_STATE ? ctl_state_label(p->str) : p->str;
                return ctl_printable(s, &out) < 0 ? NULL : out;
        }
        if (f->kind == SHOW_SUSPENDED && p->type == 'b')
                return strdup(ctl_suspended_label(p->i != 0));
        if ((f->kind == SHOW_TIME || f->kind == SHOW_EXPIRY) && p->type == 't')
                return strdup(p->u == 0 || ctl_format_time(p->u, buf, sizeof buf) < 0 ? "-" : buf);
        if (p->type == 'u' || p->type == 't' || p->type == 'y' || p->type == 'q')
                snprintf(buf, sizeof buf, "%" PRIu64, p->u);
        else
                snprintf(buf, sizeof buf, "%" PRId64, p->i);
        return strdup(buf);
}

/* Labels right-aligned on the colon, as hostnamectl does. */
static int print_user_text(const Prop *props, size_t n) {
        const Prop *state = prop_find(props, n, "CertificateState");
        size_t width = 0;

        for (size_t i = 0; i < ELEMENTSOF(show_fields); i++) {
                size_t w = ctl_display_width(_(show_fields[i].label));

                if (w > width)
                        width = w;
        }
        for (size_t i = 0; i < ELEMENTSOF(show_fields); i++) {
                const struct ShowField *f = &show_fields[i];
                _cleanup_free_ char *label = NULL,
                        *value = show_value(f, prop_find(props, n, f->property),
                                            state && state->type == 's' ? state->str : "");

                if (!value || ctl_pad(_(f->label), width, CTL_ALIGN_RIGHT, &label) < 0)
                        return fail_oom();
                printf("%s: %s\n", label, value);
        }
        return 0;
}

static int verb_show(char **args, size_t n_args) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *path_reply = NULL, *reply = NULL;
        _cleanup_free_ Prop *props = NULL;
        const char *path;
        size_t n = 0;
        int r;

        (void) n_args;
        r = check_login_id(args[0]);
        if (r < 0)
                return r;
        r = connect_bus(&bus);
        if (r < 0)
                return r;
        r = call_manager(bus, "GetUser", &path_reply, "s", args[0]);
        if (r < 0)
                return r;
        r = sd_bus_message_read(path_reply, "o", &path);
        if (r < 0)
                return fail_parse(r);
        r = call(bus, path, PROPERTIES_IFACE, "GetAll", &reply, "s", CR_USER_IFACE);
        if (r < 0)
                return r;
        r = read_properties(reply, &props, &n);
        if (r < 0)
                return r;
        return arg_json ? print_user_json(props, n) : print_user_text(props, n);
}

/* ---- user management ------------------------------------------------- */

static int verb_add_user(char **args, size_t n_args) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *why;
        uint32_t uid;
        int r;

        (void) n_args;
        r = check_login_id(args[0]);
        if (r < 0)
                return r;
        why = cr_name_invalid(args[1]);
        if (why)
                return fail_usage(_("Invalid name: %s"), _(why));
        r = check_role(args[2]);
        if (r < 0)
                return r;
        if (parse_uid(args[3], &uid) < 0)
                return fail_usage(_("Invalid UID \"%s\"."), args[3]);
        r = connect_bus(&bus);
        if (r < 0)
                return r;
        /* Quiet on success: the object path is of no use to a person, and
         * "show" prints the user. */
        return call_manager(bus, "AddUser", NULL, "sssu", args[0], args[1], args[2], uid);
}

static int verb_remove_user(char **args, size_t n_args) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        (void) n_args;
        r = check_login_id(args[0]);
        if (r < 0)
                return r;
        r = connect_bus(&bus);
        if (r < 0)
                return r;
        return call_manager(bus, "RemoveUser", NULL, "s", args[0]);
}

static int verb_set_role(char **args, size_t n_args) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        (void) n_args;
        r = check_login_id(args[0]);
        if (r >= 0)
                r = check_role(args[1]);
        if (r < 0)
                return r;
        r = connect_bus(&bus);
        if (r < 0)
                return r;
        return call_manager(bus, "SetUserRole", NULL, "ss", args[0], args[1]);
}

/* ---- import-cert ----------------------------------------------------- */

/* Reads all of path ("-" is standard input), at most CERT_FILE_MAX bytes. */
static int read_cert_file(const char *path, unsigned char **ret, size_t *ret_len) {
        _cleanup_fclose_ FILE *owned = NULL;
        _cleanup_free_ unsigned char *buf = malloc(CERT_FILE_MAX + 1);
        FILE *f = stdin;
        size_t len = 0;

        if (!buf)
                return fail_oom();
        if (strcmp(path, "-") != 0) {
                f = owned = fopen(path, "rbe");
                if (!f)
                        return fail(CTL_EXIT_FAILURE, -errno, _("Cannot open %s: %s"), path, strerror(errno));
        }
        errno = 0;
        len = fread(buf, 1, CERT_FILE_MAX + 1, f);
        if (ferror(f)) {
                int e = errno > 0 ? errno : EIO;

                return fail(CTL_EXIT_FAILURE, -e, _("Cannot read %s: %s"), path, strerror(e));
        }
        if (len > CERT_FILE_MAX)
                return fail_usage(_("%s is too large to be a certificate."), path);
        *ret = buf;
        buf = NULL;
        *ret_len = len;
        return 0;
}

/* PEM is converted; DER is sent as it came, once it parses completely, so
 * that the service sees exactly the bytes that were signed. */
static int send_cert(sd_bus_message *m, const unsigned char *data, size_t len) {
        _cleanup_(BIO_freep) BIO *bio = BIO_new_mem_buf(data, (int) len);
        _cleanup_(X509_freep) X509 *x = NULL;
        const unsigned char *p = data;
        unsigned char *der = NULL;
        int n, r;

        if (!bio)
                return -ENOMEM;
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (x) {
                n = i2d_X509(x, &der);
                if (n <= 0)
                        return -ENOMEM;
                r = sd_bus_message_append_array(m, 'y', der, (size_t) n);
                OPENSSL_free(der);
                return r;
        }
        x = d2i_X509(NULL, &p, (long) len);
        if (!x || p != data + len)
                return -EBADMSG;
        return sd_bus_message_append_array(m, 'y', data, len);
}

static int verb_import_cert(char **args, size_t n_args) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ unsigned char *data = NULL;
        size_t len = 0;
        int r;

        (void) n_args;
        r = check_login_id(args[0]);
        if (r < 0)
                return r;
        r = read_cert_file(args[1], &data, &len);
        if (r < 0)
                return r;
        r = connect_bus(&bus);
        if (r < 0)
                return r;
        r = new_call(bus, CR_MANAGER_PATH, CR_MANAGER_IFACE, "ImportCertificate", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", args[0]);
        if (r >= 0)
                r = send_cert(m, data, len);
        ERR_clear_error();
        if (r == -EBADMSG)
                return fail_usage(_("%s is not an X.509 certificate in PEM or DER form."), args[1]);
        if (r < 0)
                return fail(CTL_EXIT_FAILURE, r, _("Failed to create the call %s: %s"), "ImportCertificate", strerror(-r));
        return send_call(bus, m, NULL);
}

/* ---- rescan ---------------------------------------------------------- */

static int verb_rescan(char **args, size_t n_args) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint32_t seen;
        int r;

        (void) args;
        (void) n_args;
        r = connect_bus(&bus);
        if (r < 0)
                return r;
        r = call_manager(bus, "Rescan", &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "u", &seen);
        if (r < 0)
                return fail_parse(r);
        if (arg_json)
                printf("{\"certificates_seen\":%" PRIu32 "}\n", seen);
        else
                printf(dngettext(CTL_TEXT_DOMAIN, "%u certificate seen\n", "%u certificates seen\n", seen),
                       (unsigned) seen);
        return 0;
}

/* ---- backup ---------------------------------------------------------- */

/* The daemon gets the file, never its name: it creates nothing where a
 * caller points. */
static int call_backup(sd_bus *bus, int fd) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = new_call(bus, CR_MANAGER_PATH, CR_MANAGER_IFACE, "Backup", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "h", fd);
        if (r < 0)
                return fail(CTL_EXIT_FAILURE, r, _("Failed to create the call %s: %s"), "Backup", strerror(-r));
        /* a large store takes its time: no timeout of our own */
        r = sd_bus_call(bus, m, UINT64_MAX, &error, &reply);
        return r < 0 ? fail_bus(&error, r) : 0;
}

static int verb_backup(char **args, size_t n_args) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(closep) int fd = -1;
        const char *path = args[0];
        int r;

        (void) n_args;
        r = connect_bus(&bus);
        if (r < 0)
                return r;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return fail(CTL_EXIT_FAILURE, -errno, _("Failed to create %s: %s"), path, strerror(errno));
        r = call_backup(bus, fd);
        if (r < 0) {
                /* a file that holds no backup must not look like one */
                (void) unlink(path);
                return r;
        }
        if (arg_json) {
                fputs("{\"backup\":", stdout);
                if (ctl_json_fputs(stdout, path) < 0)
                        return fail_oom();
                puts("}");
        } else
                printf(_("The store is copied to %s.\n"), path);
        return 0;
}

/* ---- the confirmation password ------------------------------------- */

typedef struct Secret {
        char buf[PASSWORD_MAX + 1];
        size_t len;
} Secret;

static void secret_erase(Secret *s) {
        explicit_bzero(s, sizeof *s);
}

/* While echo is off, the terminal and its settings before, so that a
 * signal that ends or stops the program can put them back first. */
static int tty_fd = -1;
static struct termios tty_saved, tty_quiet;
static volatile sig_atomic_t tty_is_quiet;
static const char *tty_prompt;

static const int tty_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP };
static struct sigaction tty_old_actions[ELEMENTSOF(tty_signals)];
static struct sigaction tty_action;

static void tty_write(const char *s) {
        size_t n = strlen(s);

        while (n > 0) {
                ssize_t k = write(tty_fd, s, n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return;
                s += k;
                n -= (size_t) k;
        }
}

/* Async-signal-safe, like everything the handler calls. */
static void tty_echo_on(void) {
        if (tty_is_quiet) {
                (void) tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
                tty_is_quiet = 0;
        }
}

static void tty_echo_off(void) {
        /* Flag first: a signal in between then restores what is there. */
        tty_is_quiet = 1;
        (void) tcsetattr(tty_fd, TCSAFLUSH, &tty_quiet);
}

static void on_tty_signal(int sig) {
        int saved_errno = errno;
        sigset_t set;

        tty_echo_on();
        tty_write("\n");
        (void) signal(sig, SIG_DFL);
        (void) raise(sig);
        if (sig != SIGTSTP) {
                /* Blocked while the handler runs: the default action, the
                 * end of the program, comes as it returns. */
                errno = saved_errno;
                return;
        }
        /* Stop now, and on SIGCONT ask again where we were. */
        sigemptyset(&set);
        sigaddset(&set, SIGTSTP);
        (void) sigprocmask(SIG_UNBLOCK, &set, NULL);
        (void) sigaction(SIGTSTP, &tty_action, NULL);
        tty_echo_off();
        tty_write(tty_prompt);
        errno = saved_errno;
}

/* A signal the caller ignores (nohup, a background job of a script) stays
 * ignored: only the default action, ending or stopping us, is caught. */
static void tty_handlers_install(void) {
        tty_action = (struct sigaction) { .sa_handler = on_tty_signal };
        sigemptyset(&tty_action.sa_mask);
        for (size_t i = 0; i < ELEMENTSOF(tty_signals); i++) {
                (void) sigaction(tty_signals[i], &tty_action, &tty_old_actions[i]);
                if (tty_old_actions[i].sa_handler == SIG_IGN)
                        (void) sigaction(tty_signals[i], &tty_old_actions[i], NULL);
        }
}

static void tty_handlers_restore(void) {
        for (size_t i = 0; i < ELEMENTSOF(tty_signals); i++)
                (void) sigaction(tty_signals[i], &tty_old_actions[i], NULL);
}

static int fail_password_read(int r) {
        if (r == -ENOBUFS)
                return fail_usage(_("The confirmation password is longer than %d bytes."), PASSWORD_MAX);
        return fail(CTL_EXIT_FAILURE, r, _("Cannot read the confirmation password: %s"), strerror(-r));
}

/* Asks on the controlling terminal with echo off, as passwd(1) does; the
 * terminal gets its settings back on every way out, signals included.
 * prompt must live until this returns: ^Z shows it again. */
static int read_password_tty(Secret *secret, const char *prompt) {
        _cleanup_(closep) int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
        int r;

        if (fd < 0 || tcgetattr(fd, &tty_saved) < 0)
                return fail_usage(_("No terminal to ask for the confirmation password on (%s); "
                                    "use --password-stdin."), strerror(errno));
        tty_quiet = tty_saved;
        tty_quiet.c_lflag &= ~(tcflag_t) (ECHO | ECHOE | ECHOK);
        tty_quiet.c_lflag |= ECHONL;
        tty_prompt = prompt;
        tty_fd = fd;
        tty_handlers_install();
        tty_echo_off();
        tty_write(tty_prompt);
        r = ctl_read_line(fd, secret->buf, sizeof secret->buf, &secret->len);
        tty_echo_on();
        tty_handlers_restore();
        tty_fd = -1;
        return r < 0 ? fail_password_read(r) : 0;
}

/* One password: asked on the terminal with prompt, or the next line of
 * standard input with --password-stdin. */
static int read_secret(Secret *secret, const char *prompt) {
        int r;

        if (!arg_password_stdin) {
                /* The screen before the question. */
                fflush(stdout);
                r = read_password_tty(secret, prompt);
        } else {
                r = ctl_read_line(STDIN_FILENO, secret->buf, sizeof secret->buf, &secret->len);
                if (r < 0)
                        r = fail_password_read(r);
        }
        if (r < 0)
                return r;
        if (secret->len == 0 || strlen(secret->buf) != secret->len) {
                secret_erase(secret);
                return fail_usage(secret->len == 0 ? _("The confirmation password is empty.")
                                                   : _("The confirmation password contains a NUL byte."));
        }
        return 0;
}

/* The acting user's own confirmation password. */
static int read_password(Secret *secret) {
        /* TRANSLATORS: asked on the terminal; nothing typed is shown. */
        return read_secret(secret, _("Confirmation password: "));
}

/* ---- revoke ---------------------------------------------------------- */

typedef struct ScreenLine {
        const char *label;    /* untranslated */
        const char *value;    /* from the service or a label; made printable */
} ScreenLine;

/* Every label of both screens, so that the two line up alike. */
static const char *const screen_labels[] = {
        N_("Login ID"), N_("Name"), N_("Certificate state"), N_("Expiry"), N_("Revocation reason"),
};

/* The screens of the product page: a heading and label/value lines, the
 * labels right-aligned on the colon as "show" prints them; a blank line
 * after them sets them apart from what follows, if anything does. */
static int print_screen(const char *heading, const ScreenLine *lines, size_t n, bool blank_after) {
        size_t width = 0;

        for (size_t i = 0; i < ELEMENTSOF(screen_labels); i++) {
                size_t w = ctl_display_width(_(screen_labels[i]));

                if (w > width)
                        width = w;
        }
        printf("%s\n\n", heading);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *label = NULL, *value = NULL;

                if (ctl_pad(_(lines[i].label), width, CTL_ALIGN_RIGHT, &label) < 0 ||
                    ctl_printable(lines[i].value, &value) < 0)
                        return fail_oom();
                printf("%s: %s\n", label, value);
        }
        if (blank_after)
                fputs("\n", stdout);
        /* Before any message on stderr or question on the terminal. */
        fflush(stdout);
        return 0;
}

static const char *prop_str(const Prop *props, size_t n, const char *name) {
        const Prop *p = prop_find(props, n, name);

        return p && (p->type == 's' || p->type == 'o') ? p->str : "";
}

static uint64_t prop_u64(const Prop *props, size_t n, const char *name) {
        const Prop *p = prop_find(props, n, name);

        return p && p->type == 't' ? p->u : 0;
}

static int print_confirmation(const Prop *props, size_t n, const char *reason) {
        const char *state = prop_str(props, n, "CertificateState");
        uint64_t not_after = prop_u64(props, n, "CertificateNotAfter");
        char expiry[TIME_BUF_MAX] = "-";
        const ScreenLine lines[] = {
                { N_("Login ID"),          prop_str(props, n, "LoginId") },
                { N_("Name"),              prop_str(props, n, "Name") },
                { N_("Certificate state"), ctl_state_label(state) },
                { N_("Expiry"),            expiry },
                { N_("Revocation reason"), ctl_reason_label(reason) },
        };

        if (!ctl_state_shows_expiry(state) || not_after == 0 ||
            ctl_format_time(not_after, expiry, sizeof expiry) < 0)
                strcpy(expiry, "-");
        /* TRANSLATORS: heading of the confirmation screen (証明書失効確認). */
        return print_screen(_("The certificate of the following user will be revoked."), lines, ELEMENTSOF(lines),
                            true);
}

static int print_result(const char *login_id, const char *name, const char *state) {
        const ScreenLine lines[] = {
                { N_("Login ID"),          login_id },
                { N_("Name"),              name },
                { N_("Certificate state"), ctl_state_label(state) },
        };
        int r = 0;

        if (!arg_json)
                /* TRANSLATORS: heading of the result screen (証明書失効結果). */
                return print_screen(_("The certificate of the following user has been revoked."), lines,
                                    ELEMENTSOF(lines), false);
        fputs("{\"login_id\":", stdout);
        r = ctl_json_fputs(stdout, login_id);
        fputs(",\"name\":", stdout);
        if (r >= 0) r = ctl_json_fputs(stdout, name);
        fputs(",\"state\":", stdout);
        if (r >= 0) r = ctl_json_fputs(stdout, state);
        fputs("}\n", stdout);
        return r < 0 ? fail_oom() : 0;
}

/* The password travels in a message marked sensitive, which sd-bus wipes
 * when it frees it; our own buffer is wiped by the caller. */
static int call_revoke(sd_bus *bus, const char *login, const char *serial, const char *reason,
                       const Secret *secret, sd_bus_message **reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = new_call(bus, CR_MANAGER_PATH, CR_MANAGER_IFACE, "RevokeCertificate", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_sensitive(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "ssss", login, serial, reason, secret->buf);
        if (r < 0)
                return fail(CTL_EXIT_FAILURE, r, _("Failed to create the call %s: %s"), "RevokeCertificate",
                            strerror(-r));
        return send_call(bus, m, reply);
}

static int revoke_one(char **args, size_t n_args) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *path_reply = NULL, *props_reply = NULL, *reply = NULL;
        _cleanup_(secret_erase) Secret secret = { .len = 0 };
        _cleanup_free_ Prop *props = NULL;
        const char *login = args[0], *reason = arg_reason ? arg_reason : "";
        const char *path, *state, *serial, *r_login, *r_name, *r_state;
        CrCertState st;
        size_t n = 0;
        int r;

        (void) n_args;
        r = check_login_id(login);
        if (r < 0)
                return r;
        if (!ctl_reason_is_valid(reason))
                return fail_usage(_("Invalid revocation reason \"%s\"; expected one of: unspecified, keyCompromise, "
                                    "CACompromise, affiliationChanged, superseded, cessationOfOperation, "
                                    "privilegeWithdrawn, AACompromise."), reason);
        if (arg_serial && !ctl_serial_is_valid(arg_serial))
                return fail_usage(_("Invalid serial \"%s\": expected hexadecimal digits."), arg_serial);

        /* Step 1, the confirmation screen, from what the service knows now. */
        r = connect_bus(&bus);
        if (r < 0)
                return r;
        r = call_manager(bus, "GetUser", &path_reply, "s", login);
        if (r < 0)
                return r;
        r = sd_bus_message_read(path_reply, "o", &path);
        if (r < 0)
                return fail_parse(r);
        r = call(bus, path, PROPERTIES_IFACE, "GetAll", &props_reply, "s", CR_USER_IFACE);
        if (r < 0)
                return r;
        r = read_properties(props_reply, &props, &n);
        if (r < 0)
                return r;
        if (!arg_json) {
                r = print_confirmation(props, n, reason);
                if (r < 0)
                        return r;
        }
        state = prop_str(props, n, "CertificateState");
        st = cr_cert_state_from_string(state);
        if (st != CR_CERT_ISSUED && st != CR_CERT_RENEWED)
                return fail(CTL_EXIT_NOT_REVOCABLE, -ESTALE,
                            _("%s has no certificate that can be revoked (certificate state: %s)."),
                            login, ctl_state_label(state));
        /* The certificate shown is the one revoked: if it was replaced in
         * the meantime the service answers CertificateChanged. */
        serial = arg_serial ? arg_serial : prop_str(props, n, "CertificateSerial");

        /* Step 2, the confirmation password. */
        r = read_password(&secret);
        if (r < 0)
                return r;
        r = call_revoke(bus, login, serial, reason, &secret, &reply);
        secret_erase(&secret);
        if (r < 0)
                return r;

        /* Step 3, the result. */
        r = sd_bus_message_read(reply, "(sss)", &r_login, &r_name, &r_state);
        if (r < 0)
                return fail_parse(r);
        return print_result(r_login, r_name, r_state);
}

/* ---- revoke several ------------------------------------------------- */

static bool state_is_revocable(const char *state) {
        CrCertState st = cr_cert_state_from_string(state);

        return st == CR_CERT_ISSUED || st == CR_CERT_RENEWED;
}

static int row_login_compare(const void *key, const void *row) {
        return strcmp(key, ((const UserRow *) row)->login_id);
}

/* The users named, in the order given, each once and each revocable; the
 * rows are sorted by login ID (read_users). */
static int pick_logins(char **logins, size_t n_logins, const UserRow *rows, size_t n, UserRow *picked) {
        for (size_t i = 0; i < n_logins; i++) {
                const UserRow *u = bsearch(logins[i], rows, n, sizeof *rows, row_login_compare);

                for (size_t j = 0; j < i; j++)
                        if (strcmp(logins[i], logins[j]) == 0)
                                return fail_usage(_("%s is named twice."), logins[i]);
                if (!u)
                        return fail(CTL_EXIT_NOT_FOUND, -ENOENT, _("No user with login ID \"%s\"."), logins[i]);
                if (!state_is_revocable(u->state))
                        return fail(CTL_EXIT_NOT_REVOCABLE, -ESTALE,
                                    _("%s has no certificate that can be revoked (certificate state: %s)."),
                                    u->login_id, ctl_state_label(u->state));
                picked[i] = *u;
        }
        return 0;
}

/* What the filters select and can be revoked, in login order. */
static size_t pick_filtered(const UserRow *rows, size_t n, UserRow *picked) {
        size_t k = 0;

        for (size_t i = 0; i < n; i++)
                if (state_is_revocable(rows[i].state))
                        picked[k++] = rows[i];
        return k;
}

enum { TGT_LOGIN, TGT_NAME, TGT_SERIAL, TGT_STATE, TGT_EXPIRY, TARGET_COLUMNS };
_Static_assert(TARGET_COLUMNS <= TABLE_COLUMNS_MAX, "the targets are wider than print_table allows");

static int fill_target_cells(char **cells, const void *row) {
        const UserRow *u = row;

        if (ctl_printable(u->login_id, &cells[TGT_LOGIN]) < 0 || ctl_printable(u->name, &cells[TGT_NAME]) < 0 ||
            ctl_printable(u->serial, &cells[TGT_SERIAL]) < 0 ||
            ctl_printable(ctl_state_label(u->state), &cells[TGT_STATE]) < 0)
                return -ENOMEM;
        cells[TGT_EXPIRY] = expiry_cell(u);
        return cells[TGT_EXPIRY] ? 0 : -ENOMEM;
}

/* A JSON array with an object per row: each key's value is the string at
 * its offset in the row. */
static int print_json_rows(const void *rows, size_t row_size, size_t n, const char *const keys[],
                           const size_t offsets[], size_t n_keys) {
        int r = 0;

        fputs("[", stdout);
        for (size_t i = 0; i < n && r >= 0; i++) {
                const char *row = (const char *) rows + i * row_size;

                fputs(i == 0 ? "\n{" : ",\n{", stdout);
                for (size_t k = 0; k < n_keys && r >= 0; k++) {
                        printf("%s\"%s\":", k > 0 ? "," : "", keys[k]);
                        r = ctl_json_fputs(stdout, *(const char *const *) (row + offsets[k]));
                }
                fputs("}", stdout);
        }
        fputs(n > 0 ? "\n]\n" : "]\n", stdout);
        return r < 0 ? fail_oom() : 0;
}

static int print_targets_json(const UserRow *rows, size_t n) {
        static const char *const keys[] = { "login_id", "name", "serial", "state" };
        static const size_t offsets[] = { offsetof(UserRow, login_id), offsetof(UserRow, name),
                                          offsetof(UserRow, serial), offsetof(UserRow, state) };

        return print_json_rows(rows, sizeof *rows, n, keys, offsets, ELEMENTSOF(keys));
}

/* The confirmation screen of several users, or what a dry run would revoke. */
static int print_targets(const UserRow *rows, size_t n, const char *reason) {
        static const char *const header[TARGET_COLUMNS] = {
                N_("Login ID"), N_("Name"), N_("Serial"), N_("Certificate state"), N_("Expiry"),
        };
        int r;

        if (arg_json)
                return arg_dry_run ? print_targets_json(rows, n) : 0;
        printf("%s\n\n", arg_dry_run
               /* TRANSLATORS: heading of what revoke --dry-run shows. */
               ? _("The certificates of the following users would be revoked (dry run: nothing is changed).")
               /* TRANSLATORS: heading of the confirmation screen for several users. */
               : _("The certificates of the following users will be revoked."));
        r = print_rows(header, TARGET_COLUMNS, rows, sizeof *rows, n, fill_target_cells);
        if (r < 0)
                return r;
        printf("\n%s: %s\n", _("Revocation reason"), ctl_reason_label(reason));
        if (!arg_dry_run)
                fputs("\n", stdout);
        fflush(stdout);
        return 0;
}

/* The targets as the user saw them: a changed certificate is refused. */
static int call_revoke_many(sd_bus *bus, const UserRow *rows, size_t n, const char *reason, const Secret *secret,
                            sd_bus_message **reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = new_call(bus, CR_MANAGER_PATH, CR_MANAGER_IFACE, "RevokeCertificates", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_sensitive(m);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(ss)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(m, "(ss)", rows[i].login_id, rows[i].serial);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", reason, secret->buf);
        if (r < 0)
                return fail(CTL_EXIT_FAILURE, r, _("Failed to create the call %s: %s"), "RevokeCertificates",
                            strerror(-r));
        return send_call(bus, m, reply);
}

typedef struct ResultRow {
        const char *login_id, *name, *state;
} ResultRow;

enum { RES_LOGIN, RES_NAME, RES_STATE, RESULT_COLUMNS };

static int fill_result_cells(char **cells, const void *row) {
        const ResultRow *x = row;

        if (ctl_printable(x->login_id, &cells[RES_LOGIN]) < 0 || ctl_printable(x->name, &cells[RES_NAME]) < 0 ||
            ctl_printable(ctl_state_label(x->state), &cells[RES_STATE]) < 0)
                return -ENOMEM;
        return 0;
}

static int print_results(sd_bus_message *reply, size_t n_expected) {
        static const char *const header[RESULT_COLUMNS] = { N_("Login ID"), N_("Name"), N_("Certificate state") };
        _cleanup_free_ ResultRow *rows = calloc(n_expected ? n_expected : 1, sizeof *rows);
        size_t n = 0;
        int r;

        if (!rows)
                return fail_oom();
        r = sd_bus_message_enter_container(reply, 'a', "(sss)");
        while (r >= 0 && n < n_expected &&
               (r = sd_bus_message_read(reply, "(sss)", &rows[n].login_id, &rows[n].name, &rows[n].state)) > 0)
                n++;
        if (r < 0)
                return fail_parse(r);
        if (arg_json) {
                static const char *const keys[] = { "login_id", "name", "state" };
                static const size_t offsets[] = { offsetof(ResultRow, login_id), offsetof(ResultRow, name),
                                                  offsetof(ResultRow, state) };

                return print_json_rows(rows, sizeof *rows, n, keys, offsets, ELEMENTSOF(keys));
        }
        /* TRANSLATORS: heading of the result screen for several users. */
        printf("%s\n\n", _("The certificates of the following users have been revoked."));
        return print_rows(header, RESULT_COLUMNS, rows, sizeof *rows, n, fill_result_cells);
}

/* Several logins, or the list's filters (--role=, --state=, PATTERN) over
 * the users whose certificate can be revoked: one screen, one password,
 * one call. */
static int revoke_many(char **args, size_t n_args, bool filtered) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *list = NULL, *reply = NULL;
        _cleanup_(secret_erase) Secret secret = { .len = 0 };
        _cleanup_free_ UserRow *rows = NULL, *picked = NULL;
        const char *reason = arg_reason ? arg_reason : "";
        size_t n = 0, k = n_args;
        int r;

        if (arg_serial)
                return fail_usage(_("--serial= applies to a single login only."));
        if (filtered && n_args > 1)
                return fail_usage(_("With --role= or --state=, revoke takes at most one PATTERN."));
        for (size_t i = 0; !filtered && i < n_args; i++)
                if ((r = check_login_id(args[i])) < 0)
                        return r;
        if ((arg_state && (r = check_state(arg_state)) < 0) || (arg_role && (r = check_role(arg_role)) < 0))
                return r;
        if (!ctl_reason_is_valid(reason))
                return fail_usage(_("Invalid revocation reason \"%s\"; expected one of: unspecified, keyCompromise, "
                                    "CACompromise, affiliationChanged, superseded, cessationOfOperation, "
                                    "privilegeWithdrawn, AACompromise."), reason);

        r = connect_bus(&bus);
        if (r < 0)
                return r;
        r = call_manager(bus, "ListUsers", &list, NULL);
        if (r < 0)
                return r;
        r = read_users(list, filtered && n_args > 0 ? args[0] : NULL, &rows, &n);
        if (r < 0)
                return r;
        if (!(picked = calloc((filtered ? n : n_args) + 1, sizeof *picked)))
                return fail_oom();
        if (filtered)
                k = pick_filtered(rows, n, picked);
        else if ((r = pick_logins(args, n_args, rows, n, picked)) < 0)
                return r;
        if (k == 0)
                return fail(CTL_EXIT_NOT_FOUND, -ENOENT, _("No user selected has a certificate that can be revoked."));
        if (k > CR_REVOKE_TARGETS_MAX)
                return fail_usage(_("At most %d certificates can be revoked at once; %zu are selected."),
                                  CR_REVOKE_TARGETS_MAX, k);
        r = print_targets(picked, k, reason);
        if (r < 0 || arg_dry_run)
                return r;

        r = read_password(&secret);
        if (r < 0)
                return r;
        r = call_revoke_many(bus, picked, k, reason, &secret, &reply);
        secret_erase(&secret);
        if (r < 0)
                return r;
        return print_results(reply, k);
}

/* One login without filters is the product's three screens, as ever. */
static int verb_revoke(char **args, size_t n_args) {
        bool filtered = arg_state || arg_role || (n_args == 1 && ctl_pattern_is_glob(args[0]));

        if (n_args == 0 && !filtered)
                return fail_usage(_("Too few arguments for %s. See --help."), "revoke");
        if (n_args == 1 && !filtered && !arg_dry_run)
                return revoke_one(args, n_args);
        return revoke_many(args, n_args, filtered);
}

/* ---- confirmation passwords and suspension --------------------------- */

/* A call whose string arguments include passwords: the message is marked
 * sensitive, so sd-bus wipes it when it frees it; our buffers are wiped by
 * the callers. */
static int call_sensitive(sd_bus *bus, const char *member, sd_bus_message **reply, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = new_call(bus, CR_MANAGER_PATH, CR_MANAGER_IFACE, member, &m);
        if (r < 0)
                return r;
        r = sd_bus_message_sensitive(m);
        if (r >= 0) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
        }
        if (r < 0)
                return fail(CTL_EXIT_FAILURE, r, _("Failed to create the call %s: %s"), member, strerror(-r));
        return send_call(bus, m, reply);
}

/* A translated format with one login ID in it, or NULL without memory. */
static char *with_login(const char *format, const char *login) {
        char *s = NULL;

        return asprintf(&s, format, login) < 0 ? NULL : s;
}

/* Reads a new password twice, with the two prompts given; they must agree. */
static int read_new_password(Secret *secret, const char *prompt, const char *again) {
        _cleanup_(secret_erase) Secret retyped = { .len = 0 };
        int r;

        r = read_secret(secret, prompt);
        if (r >= 0)
                r = read_secret(&retyped, again);
        if (r < 0) {
                secret_erase(secret);
                return r;
        }
        if (secret->len != retyped.len || memcmp(secret->buf, retyped.buf, secret->len) != 0) {
                secret_erase(secret);
                return fail_usage(_("The new confirmation passwords do not match."));
        }
        return 0;
}

/* The short line saying what was done, or its JSON form: {"login_id":…,
 * json_key:json_value}, without login_id when login is NULL. */
static int print_done(const char *login, const char *json_key, const char *json_value, const char *text) {
        int r = 0;

        if (!arg_json) {
                printf("%s\n", text);
                return 0;
        }
        fputs("{", stdout);
        if (login) {
                fputs("\"login_id\":", stdout);
                r = ctl_json_fputs(stdout, login);
                fputs(",", stdout);
        }
        printf("\"%s\":%s}\n", json_key, json_value);
        return r < 0 ? fail_oom() : 0;
}

static int verb_passwd(char **args, size_t n_args) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(secret_erase) Secret old = { .len = 0 }, new = { .len = 0 };
        int r;

        (void) args;
        (void) n_args;
        /* Connected first: no password is asked for a service that is not there. */
        r = connect_bus(&bus);
        if (r < 0)
                return r;
        /* TRANSLATORS: asked on the terminal; nothing typed is shown. */
        r = read_secret(&old, _("Current confirmation password: "));
        if (r >= 0)
                r = read_new_password(&new, _("New confirmation password: "),
                                      _("Retype new confirmation password: "));
        if (r >= 0)
                r = call_sensitive(bus, "ChangeConfirmationPassword", NULL, "ss", old.buf, new.buf);
        secret_erase(&old);
        secret_erase(&new);
        if (r < 0)
                return r;
        return print_done(NULL, "confirmation_password", "\"changed\"",
                          _("Your confirmation password has been changed."));
}

static int verb_set_password(char **args, size_t n_args) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(secret_erase) Secret new = { .len = 0 }, own = { .len = 0 };
        _cleanup_free_ char *prompt = NULL, *again = NULL, *done = NULL;
        const char *login = args[0];
        int r;

        (void) n_args;
        r = check_login_id(login);
        if (r < 0)
                return r;
        r = connect_bus(&bus);
        if (r < 0)
                return r;
        /* TRANSLATORS: asked on the terminal; %s is a login ID. */
        prompt = with_login(_("New confirmation password of %s: "), login);
        again = with_login(_("Retype new confirmation password of %s: "), login);
        if (!prompt || !again)
                return fail_oom();
        r = read_new_password(&new, prompt, again);
        /* the service asks root for no confirmation: root gives the first ones */
        if (r >= 0 && geteuid() != 0)
                /* TRANSLATORS: the acting user's own, asked after the new one of another user. */
                r = read_secret(&own, _("Your confirmation password: "));
        if (r >= 0)
                r = call_sensitive(bus, "SetConfirmationPassword", NULL, "sss", login, new.buf, own.buf);
        secret_erase(&new);
        secret_erase(&own);
        if (r < 0)
                return r;
        done = with_login(_("The confirmation password of %s has been set."), login);
        if (!done)
                return fail_oom();
        return print_done(login, "confirmation_password", "\"set\"", done);
}

static int suspend_or_resume(const char *login, bool suspend) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(secret_erase) Secret secret = { .len = 0 };
        _cleanup_free_ char *done = NULL;
        int r;

        r = check_login_id(login);
        if (r < 0)
                return r;
        r = connect_bus(&bus);
        if (r < 0)
                return r;
        r = read_password(&secret);
        if (r >= 0)
                r = call_sensitive(bus, suspend ? "SuspendUser" : "ResumeUser", NULL, "ss", login, secret.buf);
        secret_erase(&secret);
        if (r < 0)
                return r;
        /* TRANSLATORS: 利用者停止 and 停止解除; %s is a login ID. */
        done = with_login(suspend ? _("%s has been suspended.") : _("%s has been resumed."), login);
        if (!done)
                return fail_oom();
        return print_done(login, "suspended", suspend ? "true" : "false", done);
}

static int verb_suspend(char **args, size_t n_args) {
        (void) n_args;
        return suspend_or_resume(args[0], true);
}

static int verb_resume(char **args, size_t n_args) {
        (void) n_args;
        return suspend_or_resume(args[0], false);
}

/* ---- history --------------------------------------------------------- */

typedef struct HistoryRow {
        uint64_t time;
        const char *actor, *action, *target, *result;
} HistoryRow;

/* The rows point into the reply, which therefore outlives them. */
static int read_history(sd_bus_message *reply, HistoryRow **ret, size_t *ret_n) {
        _cleanup_free_ HistoryRow *rows = NULL;
        size_t n = 0, allocated = 0;
        HistoryRow h;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(tssss)");
        if (r < 0)
                return fail_parse(r);
        while ((r = sd_bus_message_read(reply, "(tssss)", &h.time, &h.actor, &h.action, &h.target, &h.result)) > 0) {
                if (n == allocated) {
                        size_t na = allocated ? allocated * 2 : 64;
                        HistoryRow *p = reallocarray(rows, na, sizeof(HistoryRow));

                        if (!p)
                                return fail_oom();
                        rows = p;
                        allocated = na;
                }
                rows[n++] = h;
        }
        if (r < 0 || (r = sd_bus_message_exit_container(reply)) < 0)
                return fail_parse(r);
        *ret = rows;
        rows = NULL;
        *ret_n = n;
        return 0;
}

/* How many refusals a row stands for: the service appends " ×N" to the
 * result of a row that stands for more than one. */
static uint64_t history_count(const char *result) {
        static const char mark[] = " \u00d7";
        const char *p = strstr(result, mark), *digits;
        unsigned long long n;

        while (p && strstr(p + 1, mark))
                p = strstr(p + 1, mark);
        if (!p)
                return 1;
        digits = p + strlen(mark);
        if (!*digits || strspn(digits, "0123456789") != strlen(digits))
                return 1;
        errno = 0;
        n = strtoull(digits, NULL, 10);
        return errno == 0 && n > 0 ? n : 1;
}

static int print_history_json(const HistoryRow *rows, size_t n) {
        char when[TIME_BUF_MAX];
        int r = 0;

        fputs("[", stdout);
        for (size_t i = 0; i < n && r >= 0; i++) {
                const HistoryRow *h = &rows[i];
                bool has_time = ctl_format_iso8601(h->time, when, sizeof when) >= 0;

                fputs(i == 0 ? "\n" : ",\n", stdout);
                printf("{\"time_usec\":%" PRIu64 ",\"time\":", h->time);
                r = ctl_json_fputs(stdout, has_time ? when : NULL);
                fputs(",\"actor\":", stdout);
                if (r >= 0) r = ctl_json_fputs(stdout, h->actor);
                fputs(",\"action\":", stdout);
                if (r >= 0) r = ctl_json_fputs(stdout, h->action);
                fputs(",\"target\":", stdout);
                if (r >= 0) r = ctl_json_fputs(stdout, h->target);
                fputs(",\"result\":", stdout);
                if (r >= 0) r = ctl_json_fputs(stdout, h->result);
                printf(",\"count\":%" PRIu64 "}", history_count(h->result));
        }
        fputs(n > 0 ? "\n]\n" : "]\n", stdout);
        return r < 0 ? fail(CTL_EXIT_FAILURE, r, _("Failed to write output: %s"), strerror(-r)) : 0;
}

enum { HCOL_TIME, HCOL_ACTOR, HCOL_ACTION, HCOL_TARGET, HCOL_RESULT, HISTORY_COLUMNS };
_Static_assert(HISTORY_COLUMNS <= TABLE_COLUMNS_MAX, "the history is wider than print_table allows");

static int fill_history_row(char **cells, const HistoryRow *h) {
        char buf[TIME_BUF_MAX];

        cells[HCOL_TIME] = strdup(ctl_format_time(h->time, buf, sizeof buf) < 0 ? "-" : buf);
        if (!cells[HCOL_TIME] ||
            ctl_printable(h->actor, &cells[HCOL_ACTOR]) < 0 ||
            ctl_printable(ctl_action_label(h->action), &cells[HCOL_ACTION]) < 0 ||
            ctl_printable(*h->target ? h->target : "-", &cells[HCOL_TARGET]) < 0 ||
            ctl_printable(h->result, &cells[HCOL_RESULT]) < 0)
                return -ENOMEM;
        return 0;
}

static int fill_history_cells(char **cells, const void *row) {
        return fill_history_row(cells, row);
}

static int print_history_table(const HistoryRow *rows, size_t n) {
        static const char *const header[HISTORY_COLUMNS] = {
                N_("Time"), N_("Actor"), N_("Action"), N_("Target"), N_("Result"),
        };

        return print_rows(header, HISTORY_COLUMNS, rows, sizeof *rows, n, fill_history_cells);
}

static int print_verdict_json(int intact, uint64_t rows, uint64_t first_bad, const char *why) {
        int r;

        printf("{\"intact\":%s,\"rows\":%" PRIu64 ",\"first_bad_row\":%" PRIu64 ",\"why\":",
               intact ? "true" : "false", rows, first_bad);
        r = ctl_json_fputs(stdout, why);
        fputs("}\n", stdout);
        return r < 0 ? fail(CTL_EXIT_FAILURE, r, _("Failed to write output: %s"), strerror(-r)) : 0;
}

/* Exit status 0 when the chain is whole, 1 when a row does not fit. */
static int verify_history(void) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *why_printable = NULL;
        const char *why;
        uint64_t rows, first_bad;
        int intact, r;

        r = connect_bus(&bus);
        if (r < 0)
                return r;
        r = call_manager(bus, "VerifyHistory", &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "btts", &intact, &rows, &first_bad, &why);
        if (r < 0)
                return fail_parse(r);
        if (arg_json)
                r = print_verdict_json(intact, rows, first_bad, why);
        else if (intact)
                printf(_("The operation history is intact: %llu entries, each chained to the one "
                         "before.\n"), (unsigned long long) rows);
        else if (ctl_printable(why, &why_printable) < 0)
                return fail_oom();
        else if (first_bad > 0)
                printf(_("The operation history was changed: entry %llu does not fit the chain: %s\n"),
                       (unsigned long long) first_bad, why_printable);
        else
                printf(_("The operation history was changed: %s\n"), why_printable);
        if (r < 0 || intact)
                return r;
        exit_status = CTL_EXIT_FAILURE;
        return -EBADMSG;
}

static int verb_history(char **args, size_t n_args) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ HistoryRow *rows = NULL;
        const char *login = n_args > 0 ? args[0] : "";
        uint64_t since = 0;
        uint32_t limit = 0;
        size_t n = 0;
        int r;

        if (arg_verify && (n_args > 0 || arg_since || arg_limit))
                return fail_usage(_("--verify checks the whole history: it takes no LOGIN, --since= or "
                                    "--limit=."));
        if (arg_verify)
                return verify_history();
        if (*login && (r = check_login_id(login)) < 0)
                return r;
        if (arg_since && ctl_parse_since(arg_since, &since) < 0)
                return fail_usage(_("Invalid date \"%s\"; expected YYYY-MM-DD or \"YYYY-MM-DD HH:MM:SS\" "
                                    "(local time)."), arg_since);
        if (arg_limit && ctl_parse_uint32(arg_limit, &limit) < 0)
                return fail_usage(_("Invalid limit \"%s\"; expected a number of entries (0: the service's "
                                    "default)."), arg_limit);
        r = connect_bus(&bus);
        if (r < 0)
                return r;
        r = call_manager(bus, "GetHistory", &reply, "stu", login, since, limit);
        if (r < 0)
                return r;
        r = read_history(reply, &rows, &n);
        if (r < 0)
                return r;
        return arg_json ? print_history_json(rows, n) : print_history_table(rows, n);
}

/* ---- command line ---------------------------------------------------- */

static void help_exit_codes(void) {
        fputs(_("\nExit status:\n"), stdout);
        for (size_t i = 0; i < ctl_exit_codes_count; i++) {
                const CtlExitCode *e = &ctl_exit_codes[i];

                if (e->description)
                        printf("  %d  %s\n", e->code, _(e->description));
                if (e->error_name)
                        printf("       %s\n", e->error_name);
        }
}

static void help(void) {
        printf(_("%s [OPTIONS...] COMMAND ...\n"
                 "\n"
                 "Manage the users of certrevoked and the state of their certificates.\n"
                 "\n"
                 "Commands:\n"
                 "  list [PATTERN]               List users (the default command); PATTERN,\n"
                 "                               a glob or else a substring, selects by\n"
                 "                               login ID or name\n"
                 "  show LOGIN                   Show a user and their certificate\n"
                 "  revoke LOGIN                 Revoke the certificate of a user: shows it,\n"
                 "                               asks for your confirmation password and\n"
                 "                               shows the result\n"
                 "  suspend LOGIN                Suspend a user: they can do nothing, and\n"
                 "                               their certificate is put on hold\n"
                 "  resume LOGIN                 Lift the suspension of a user\n"
                 "  passwd                       Change your own confirmation password\n"
                 "  set-password LOGIN           Set the confirmation password of a user\n"
                 "  history [LOGIN]              Show the operation history, everyone's or\n"
                 "                               that of LOGIN\n"
                 "  add-user LOGIN NAME ROLE UID Add a user\n"
                 "  remove-user LOGIN            Remove a user\n"
                 "  set-role LOGIN ROLE          Change the role of a user\n"
                 "  import-cert LOGIN FILE       Import a certificate (PEM or DER; - for\n"
                 "                               standard input) for a user\n"
                 "  rescan                       Search the tokens for certificates again\n"
                 "  backup PATH                  Copy the store into the new file PATH\n"
                 "                               (root only)\n"
                 "\n"
                 "Options:\n"
                 "  -h --help                    Show this help\n"
                 "     --version                 Show the version\n"
                 "     --address=ADDRESS         Connect to the bus at ADDRESS, not the system bus\n"
                 "     --json                    Print machine-readable JSON\n"
                 "     --state=STATE             list: only users whose certificate is in STATE\n"
                 "                               (issued, renewed, expired, not-issued, revoked)\n"
                 "     --role=ROLE               list: only users with ROLE\n"
                 "                               (master, admin, general, worker)\n"
                 "     --reason=REASON           revoke: the reason (unspecified, keyCompromise,\n"
                 "                               CACompromise, affiliationChanged, superseded,\n"
                 "                               cessationOfOperation, privilegeWithdrawn,\n"
                 "                               AACompromise); default unspecified\n"
                 "     --serial=SERIAL           revoke: only if the current certificate has\n"
                 "                               this serial (default: the one shown)\n"
                 "     --password-stdin          revoke, suspend, resume: read the confirmation\n"
                 "                               password from the first line of standard\n"
                 "                               input instead of asking on the terminal;\n"
                 "                               passwd: the current, the new and the new\n"
                 "                               again, one a line; set-password: the new,\n"
                 "                               the new again and your own (not as root)\n"
                 "     --since=DATE              history: entries from DATE on, local time\n"
                 "                               (YYYY-MM-DD or \"YYYY-MM-DD HH:MM:SS\")\n"
                 "     --limit=N                 history: at most the N newest entries\n"
                 "                               (0: the service's default)\n"),
               PROGRAM_NAME);
        fputs(_("     --verify                  history: check that no entry was changed or\n"
                "                               removed since it was written; exit status 1\n"
                "                               names the first that was (master and\n"
                "                               administrator users)\n"), stdout);
        fputs(_("     --dry-run                 revoke: show what would be revoked and change\n"
                "                               nothing\n"), stdout);
        fputs(_("\nRevoking several certificates at once:\n"
                "  revoke LOGIN LOGIN...        Revoke the certificates of several users with\n"
                "                               one confirmation: all of them, or none if one\n"
                "                               cannot be revoked\n"
                "  revoke [--role=ROLE] [--state=STATE] [PATTERN]\n"
                "                               Revoke the certificates of the users that list\n"
                "                               shows with the same filters, those that can\n"
                "                               be revoked (a PATTERN alone must be a glob)\n"), stdout);
        help_exit_codes();
}

typedef struct Verb {
        const char *name;
        size_t min_args, max_args;
        int (*run)(char **args, size_t n_args);
} Verb;

static const Verb verbs[] = {
        { "list",        0, 1, verb_list        },
        { "show",        1, 1, verb_show        },
        { "revoke",      0, CR_REVOKE_TARGETS_MAX, verb_revoke },
        { "suspend",     1, 1, verb_suspend     },
        { "resume",      1, 1, verb_resume      },
        { "passwd",      0, 0, verb_passwd      },
        { "set-password", 1, 1, verb_set_password },
        { "history",     0, 1, verb_history     },
        { "add-user",    4, 4, verb_add_user    },
        { "remove-user", 1, 1, verb_remove_user },
        { "set-role",    2, 2, verb_set_role    },
        { "import-cert", 2, 2, verb_import_cert },
        { "rescan",      0, 0, verb_rescan      },
        { "backup",      1, 1, verb_backup      },
};

enum {
        ARG_VERSION = 0x100,
        ARG_ADDRESS,
        ARG_JSON,
        ARG_STATE,
        ARG_ROLE,
        ARG_REASON,
        ARG_SERIAL,
        ARG_PASSWORD_STDIN,
        ARG_SINCE,
        ARG_LIMIT,
        ARG_VERIFY,
        ARG_DRY_RUN,
};

static const struct option options[] = {
        { "help",    no_argument,       NULL, 'h'         },
        { "version", no_argument,       NULL, ARG_VERSION },
        { "address", required_argument, NULL, ARG_ADDRESS },
        { "json",    no_argument,       NULL, ARG_JSON    },
        { "state",   required_argument, NULL, ARG_STATE   },
        { "role",    required_argument, NULL, ARG_ROLE    },
        { "reason",  required_argument, NULL, ARG_REASON  },
        { "serial",  required_argument, NULL, ARG_SERIAL  },
        { "password-stdin", no_argument, NULL, ARG_PASSWORD_STDIN },
        { "since",   required_argument, NULL, ARG_SINCE   },
        { "limit",   required_argument, NULL, ARG_LIMIT   },
        { "verify",  no_argument,       NULL, ARG_VERIFY  },
        { "dry-run", no_argument,       NULL, ARG_DRY_RUN },
        {}
};

/* Returns 1 to go on with the command, 0 to exit successfully (--help,
 * --version), or a negative errno.  Positional arguments are collected in
 * order into pos, so options may come before or after the command whatever
 * POSIXLY_CORRECT says. */
static int parse_argv(int argc, char *argv[], char **pos, size_t *n_pos) {
        int c;

        opterr = 0;
        *n_pos = 0;
        while ((c = getopt_long(argc, argv, "-:h", options, NULL)) >= 0)
                switch (c) {
                case 1:           pos[(*n_pos)++] = optarg; break;
                case 'h':         help(); return 0;
                case ARG_VERSION: puts(PROGRAM_NAME " " CR_VERSION); return 0;
                case ARG_ADDRESS: arg_address = optarg; break;
                case ARG_JSON:    arg_json = true; break;
                case ARG_STATE:   arg_state = optarg; break;
                case ARG_ROLE:    arg_role = optarg; break;
                case ARG_REASON:  arg_reason = optarg; break;
                case ARG_SERIAL:  arg_serial = optarg; break;
                case ARG_PASSWORD_STDIN: arg_password_stdin = true; break;
                case ARG_SINCE:   arg_since = optarg; break;
                case ARG_LIMIT:   arg_limit = optarg; break;
                case ARG_VERIFY:  arg_verify = true; break;
                case ARG_DRY_RUN: arg_dry_run = true; break;
                case ':':
                        return fail_usage(_("Option %s needs an argument."), argv[optind - 1]);
                default:
                        /* optopt names an unknown short option; for long
                         * ones the word itself is the best description. */
                        if (optopt > 0 && optopt < 0x100)
                                return fail_usage(_("Unknown option -%c. See --help."), optopt);
                        return fail_usage(_("Unknown option %s. See --help."), argv[optind - 1]);
                }
        while (optind < argc)
                pos[(*n_pos)++] = argv[optind++];
        return 1;
}

static const Verb *find_verb(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verbs[i].name, name) == 0)
                        return &verbs[i];
        return NULL;
}

static int dispatch(char **pos, size_t n_pos) {
        const Verb *v = find_verb(n_pos > 0 ? pos[0] : "list");
        size_t n_args = n_pos > 0 ? n_pos - 1 : 0;

        if (!v)
                return fail_usage(_("Unknown command %s. See --help."), pos[0]);
        if (n_args < v->min_args)
                return fail_usage(_("Too few arguments for %s. See --help."), v->name);
        if (n_args > v->max_args)
                return fail_usage(_("Too many arguments for %s. See --help."), v->name);
        if ((arg_state || arg_role) && v->run != verb_list && v->run != verb_revoke)
                return fail_usage(_("--state= and --role= only apply to list and revoke."));
        if (arg_dry_run && v->run != verb_revoke)
                return fail_usage(_("--dry-run only applies to revoke."));
        if ((arg_reason || arg_serial) && v->run != verb_revoke)
                return fail_usage(_("--reason= and --serial= only apply to revoke."));
        if (arg_password_stdin && v->run != verb_revoke && v->run != verb_suspend && v->run != verb_resume &&
            v->run != verb_passwd && v->run != verb_set_password)
                return fail_usage(_("--password-stdin only applies to revoke, suspend, resume, passwd and "
                                    "set-password."));
        if ((arg_since || arg_limit) && v->run != verb_history)
                return fail_usage(_("--since= and --limit= only apply to history."));
        if (arg_verify && v->run != verb_history)
                return fail_usage(_("--verify only applies to history."));
        return v->run(pos + 1, n_args);
}

int main(int argc, char *argv[]) {
        _cleanup_free_ char **pos = calloc((size_t) argc + 1, sizeof(char *));
        size_t n_pos = 0;
        int r;

        ctl_locale_init(LOCALEDIR);
        tzset();
        r = pos ? parse_argv(argc, argv, pos, &n_pos) : fail_oom();
        if (r > 0)
                r = dispatch(pos, n_pos);
        /* Output that never arrived is a failure a script must notice. */
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fail(CTL_EXIT_FAILURE, -EIO, _("Failed to write output: %s"), strerror(errno ? errno : EIO));
                return CTL_EXIT_FAILURE;
        }
        return r < 0 ? exit_status : CTL_EXIT_SUCCESS;
}
