/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevokectl's verbs on users: list, show, add-user, remove-user,
 * set-role, import-cert, rescan, and backup of the store. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "certrevoke.h"
#include "ctl.h"

/* Certificates are a few KiB; anything this large is not one. */
#define CERT_FILE_MAX (1024 * 1024)

DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free)

static int fail_write(Ctl *c, int r) {
        return ctl_fail(c, CTL_EXIT_FAILURE, r, _("Failed to write output: %s"), strerror(-r));
}

/* ---- list ------------------------------------------------------------ */

static int print_user_json(const CtlUserRow *u) {
        char expiry[CTL_TIME_BUF_MAX];
        bool has_expiry = u->not_after > 0 && ctl_format_iso8601(u->not_after, expiry, sizeof expiry) >= 0;
        int r;

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
        return r;
}

static int print_users_json(Ctl *c, const CtlUserRow *rows, size_t n) {
        int r = 0;

        fputs("[", stdout);
        for (size_t i = 0; i < n && r >= 0; i++) {
                fputs(i == 0 ? "\n" : ",\n", stdout);
                r = print_user_json(&rows[i]);
        }
        fputs(n > 0 ? "\n]\n" : "]\n", stdout);
        return r < 0 ? fail_write(c, r) : 0;
}

enum { COL_LOGIN, COL_NAME, COL_ROLE, COL_STATE, COL_EXPIRY, LIST_COLUMNS };
_Static_assert(LIST_COLUMNS <= CTL_TABLE_COLUMNS_MAX, "the list is wider than a table may be");

/* Text that came from the service is made printable; labels are ours. */
static int fill_user_cells(char **cells, const void *row) {
        const CtlUserRow *u = row;

        if (ctl_printable(u->login_id, &cells[COL_LOGIN]) < 0 ||
            ctl_printable(u->name, &cells[COL_NAME]) < 0 ||
            ctl_printable(ctl_role_label(u->role), &cells[COL_ROLE]) < 0 ||
            ctl_printable(ctl_state_label(u->state), &cells[COL_STATE]) < 0)
                return -ENOMEM;
        cells[COL_EXPIRY] = ctl_expiry_cell(u->state, u->not_after);
        return cells[COL_EXPIRY] ? 0 : -ENOMEM;
}

static int print_users_table(Ctl *c, const CtlUserRow *rows, size_t n) {
        static const char *const header[LIST_COLUMNS] = {
                N_("Login ID"), N_("Name"), N_("Role"), N_("Certificate state"), N_("Expiry"),
        };

        if (ctl_print_rows(stdout, header, LIST_COLUMNS, rows, sizeof *rows, n, fill_user_cells) < 0)
                return ctl_fail_oom(c);
        return 0;
}

int ctl_list_check(Ctl *c, char **args, size_t n_args) {
        int r;

        (void) args;
        (void) n_args;
        if (c->state) {
                r = ctl_check_state(c, c->state);
                if (r < 0)
                        return r;
        }
        if (c->role)
                return ctl_check_role(c, c->role);
        return 0;
}

int ctl_list_run(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ CtlUserRow *rows = NULL;
        const char *pattern = n_args > 0 ? args[0] : NULL;
        size_t n = 0;
        int r;

        r = ctl_call_manager(c, "ListUsers", &reply, NULL);
        if (r < 0)
                return r;
        r = ctl_read_users(c, reply, pattern, &rows, &n);
        if (r < 0)
                return r;
        return c->json ? print_users_json(c, rows, n) : print_users_table(c, rows, n);
}

/* ---- show ------------------------------------------------------------ */

static void print_prop_json_value(const CtlProp *p) {
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

static int print_props_json(Ctl *c, const CtlProp *props, size_t n) {
        fputs("{", stdout);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        fputs(",", stdout);
                if (ctl_json_fputs(stdout, props[i].name) < 0)
                        return ctl_fail_oom(c);
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
static char *show_value(const struct ShowField *f, const CtlProp *p, const char *state) {
        char buf[CTL_TIME_BUF_MAX];
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
static int print_props_text(Ctl *c, const CtlProp *props, size_t n) {
        const char *state = ctl_prop_str(props, n, "CertificateState");
        size_t width = 0;

        for (size_t i = 0; i < ELEMENTSOF(show_fields); i++) {
                size_t w = ctl_display_width(_(show_fields[i].label));

                if (w > width)
                        width = w;
        }
        for (size_t i = 0; i < ELEMENTSOF(show_fields); i++) {
                const struct ShowField *f = &show_fields[i];
                _cleanup_free_ char *label = NULL,
                        *value = show_value(f, ctl_prop_find(props, n, f->property), state);

                if (!value || ctl_pad(_(f->label), width, CTL_ALIGN_RIGHT, &label) < 0)
                        return ctl_fail_oom(c);
                printf("%s: %s\n", label, value);
        }
        return 0;
}

/* The verbs whose only argument to check is a login ID. */
int ctl_login_check(Ctl *c, char **args, size_t n_args) {
        (void) n_args;
        return ctl_check_login_id(c, args[0]);
}

int ctl_show_check(Ctl *c, char **args, size_t n_args) {
        return ctl_login_check(c, args, n_args);
}

int ctl_show_run(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ CtlProp *props = NULL;
        size_t n = 0;
        int r;

        (void) n_args;
        r = ctl_get_user(c, args[0], &reply, &props, &n);
        if (r < 0)
                return r;
        return c->json ? print_props_json(c, props, n) : print_props_text(c, props, n);
}

/* ---- user management ------------------------------------------------- */

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

int ctl_add_user_check(Ctl *c, char **args, size_t n_args) {
        const char *why;
        uint32_t uid;
        int r;

        (void) n_args;
        r = ctl_check_login_id(c, args[0]);
        if (r < 0)
                return r;
        why = cr_name_invalid(args[1]);
        if (why)
                return ctl_fail_usage(c, _("Invalid name: %s"), _(why));
        r = ctl_check_role(c, args[2]);
        if (r < 0)
                return r;
        if (parse_uid(args[3], &uid) < 0)
                return ctl_fail_usage(c, _("Invalid UID \"%s\"."), args[3]);
        return 0;
}

int ctl_add_user_run(Ctl *c, char **args, size_t n_args) {
        uint32_t uid = 0;

        (void) n_args;
        /* checked already */
        (void) parse_uid(args[3], &uid);
        /* Quiet on success: the object path is of no use to a person, and
         * "show" prints the user. */
        return ctl_call_manager(c, "AddUser", NULL, "sssu", args[0], args[1], args[2], uid);
}

int ctl_remove_user_run(Ctl *c, char **args, size_t n_args) {
        (void) n_args;
        return ctl_call_manager(c, "RemoveUser", NULL, "s", args[0]);
}

int ctl_set_role_check(Ctl *c, char **args, size_t n_args) {
        int r;

        (void) n_args;
        r = ctl_check_login_id(c, args[0]);
        if (r < 0)
                return r;
        return ctl_check_role(c, args[1]);
}

int ctl_set_role_run(Ctl *c, char **args, size_t n_args) {
        (void) n_args;
        return ctl_call_manager(c, "SetUserRole", NULL, "ss", args[0], args[1]);
}

/* ---- import-cert ----------------------------------------------------- */

/* Reads all of path ("-" is standard input), at most CERT_FILE_MAX bytes. */
static int read_cert_file(Ctl *c, const char *path, unsigned char **ret, size_t *ret_len) {
        _cleanup_fclose_ FILE *owned = NULL;
        _cleanup_free_ unsigned char *buf = malloc(CERT_FILE_MAX + 1);
        FILE *f = stdin;
        size_t len = 0;

        if (!buf)
                return ctl_fail_oom(c);
        if (strcmp(path, "-") != 0) {
                f = owned = fopen(path, "rbe");
                if (!f)
                        return ctl_fail(c, CTL_EXIT_FAILURE, -errno, _("Cannot open %s: %s"), path, strerror(errno));
        }
        errno = 0;
        len = fread(buf, 1, CERT_FILE_MAX + 1, f);
        if (ferror(f)) {
                int e = errno > 0 ? errno : EIO;

                return ctl_fail(c, CTL_EXIT_FAILURE, -e, _("Cannot read %s: %s"), path, strerror(e));
        }
        if (len > CERT_FILE_MAX)
                return ctl_fail_usage(c, _("%s is too large to be a certificate."), path);
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

/* PEM is converted; DER is sent as it came, once it parses completely, so
 * that the service sees exactly the bytes that were signed. */
static int append_cert(sd_bus_message *m, const unsigned char *data, size_t len) {
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

int ctl_import_cert_run(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ unsigned char *data = NULL;
        size_t len = 0;
        int r;

        (void) n_args;
        r = read_cert_file(c, args[1], &data, &len);
        if (r < 0)
                return r;
        r = ctl_new_call(c, CR_MANAGER_PATH, CR_MANAGER_IFACE, "ImportCertificate", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", args[0]);
        if (r < 0)
                return ctl_fail(c, CTL_EXIT_FAILURE, r, _("Failed to create the call %s: %s"), "ImportCertificate",
                                strerror(-r));
        r = append_cert(m, data, len);
        ERR_clear_error();
        if (r == -EBADMSG)
                return ctl_fail_usage(c, _("%s is not an X.509 certificate in PEM or DER form."), args[1]);
        if (r < 0)
                return ctl_fail(c, CTL_EXIT_FAILURE, r, _("Failed to create the call %s: %s"), "ImportCertificate",
                                strerror(-r));
        return ctl_send_call(c, m, NULL);
}

/* ---- rescan ---------------------------------------------------------- */

int ctl_rescan_run(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint32_t seen;
        int r;

        (void) args;
        (void) n_args;
        r = ctl_call_manager(c, "Rescan", &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "u", &seen);
        if (r < 0)
                return ctl_fail_parse(c, r);
        if (c->json)
                printf("{\"certificates_seen\":%" PRIu32 "}\n", seen);
        else
                printf(dngettext(CTL_TEXT_DOMAIN, "%u certificate seen\n", "%u certificates seen\n", seen),
                       (unsigned) seen);
        return 0;
}

/* ---- backup ---------------------------------------------------------- */

/* The daemon gets the file, never its name: it creates nothing where a
 * caller points. */
static int call_backup(Ctl *c, int fd) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = ctl_new_call(c, CR_MANAGER_PATH, CR_MANAGER_IFACE, "Backup", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "h", fd);
        if (r < 0)
                return ctl_fail(c, CTL_EXIT_FAILURE, r, _("Failed to create the call %s: %s"), "Backup", strerror(-r));
        /* a large store takes its time: no timeout of our own */
        r = sd_bus_call(c->bus, m, UINT64_MAX, &error, &reply);
        if (r < 0)
                return ctl_fail_bus(c, &error, r);
        return 0;
}

int ctl_backup_run(Ctl *c, char **args, size_t n_args) {
        _cleanup_(closep) int fd = -1;
        const char *path = args[0];
        int r;

        (void) n_args;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return ctl_fail(c, CTL_EXIT_FAILURE, -errno, _("Failed to create %s: %s"), path, strerror(errno));
        r = call_backup(c, fd);
        if (r < 0) {
                /* a file that holds no backup must not look like one */
                (void) unlink(path);
                return r;
        }
        if (c->json) {
                fputs("{\"backup\":", stdout);
                if (ctl_json_fputs(stdout, path) < 0)
                        return ctl_fail_oom(c);
                puts("}");
        } else
                printf(_("The store is copied to %s.\n"), path);
        return 0;
}
