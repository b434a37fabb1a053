/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevokectl revoke: the product's three screens on a terminal (the
 * confirmation, the confirmation password, the result), and several users
 * at once with one confirmation. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "certrevoke.h"
#include "ctl.h"

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
static int print_screen(Ctl *c, const char *heading, const ScreenLine *lines, size_t n, bool blank_after) {
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
                        return ctl_fail_oom(c);
                printf("%s: %s\n", label, value);
        }
        if (blank_after)
                fputs("\n", stdout);
        /* Before any message on stderr or question on the terminal. */
        fflush(stdout);
        return 0;
}

static int print_confirmation(Ctl *c, const CtlProp *props, size_t n, const char *reason) {
        const char *state = ctl_prop_str(props, n, "CertificateState");
        uint64_t not_after = ctl_prop_u64(props, n, "CertificateNotAfter");
        char expiry[CTL_TIME_BUF_MAX] = "-";
        const ScreenLine lines[] = {
                { N_("Login ID"),          ctl_prop_str(props, n, "LoginId") },
                { N_("Name"),              ctl_prop_str(props, n, "Name") },
                { N_("Certificate state"), ctl_state_label(state) },
                { N_("Expiry"),            expiry },
                { N_("Revocation reason"), ctl_reason_label(reason) },
        };

        if (!ctl_state_shows_expiry(state) || not_after == 0 ||
            ctl_format_time(not_after, expiry, sizeof expiry) < 0)
                strcpy(expiry, "-");
        /* TRANSLATORS: heading of the confirmation screen (証明書失効確認). */
        return print_screen(c, _("The certificate of the following user will be revoked."), lines,
                            ELEMENTSOF(lines), true);
}

static int print_result(Ctl *c, const char *login_id, const char *name, const char *state) {
        const ScreenLine lines[] = {
                { N_("Login ID"),          login_id },
                { N_("Name"),              name },
                { N_("Certificate state"), ctl_state_label(state) },
        };
        int r = 0;

        if (!c->json)
                /* TRANSLATORS: heading of the result screen (証明書失効結果). */
                return print_screen(c, _("The certificate of the following user has been revoked."), lines,
                                    ELEMENTSOF(lines), false);
        fputs("{\"login_id\":", stdout);
        r = ctl_json_fputs(stdout, login_id);
        fputs(",\"name\":", stdout);
        if (r >= 0) r = ctl_json_fputs(stdout, name);
        fputs(",\"state\":", stdout);
        if (r >= 0) r = ctl_json_fputs(stdout, state);
        fputs("}\n", stdout);
        return r < 0 ? ctl_fail_oom(c) : 0;
}

static bool state_is_revocable(const char *state) {
        CrCertState st = cr_cert_state_from_string(state);

        return st == CR_CERT_ISSUED || st == CR_CERT_RENEWED;
}

static int fail_not_revocable(Ctl *c, const char *login, const char *state) {
        return ctl_fail(c, CTL_EXIT_NOT_REVOCABLE, -ESTALE,
                        _("%s has no certificate that can be revoked (certificate state: %s)."),
                        login, ctl_state_label(state));
}

/* ---- one user: the three screens ------------------------------------ */

static int revoke_one_check(Ctl *c, const char *login) {
        int r;

        r = ctl_check_login_id(c, login);
        if (r < 0)
                return r;
        r = ctl_check_reason(c, c->reason ? c->reason : "");
        if (r < 0)
                return r;
        if (c->serial && !ctl_serial_is_valid(c->serial))
                return ctl_fail_usage(c, _("Invalid serial \"%s\": expected hexadecimal digits."), c->serial);
        return 0;
}

static int read_revoke_result(Ctl *c, sd_bus_message *reply) {
        const char *login, *name, *state;
        int r;

        r = sd_bus_message_read(reply, "(sss)", &login, &name, &state);
        if (r < 0)
                return ctl_fail_parse(c, r);
        return print_result(c, login, name, state);
}

static int revoke_one(Ctl *c, const char *login) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *props_reply = NULL, *reply = NULL;
        _cleanup_(ctl_secret_erase) CtlSecret secret = { .len = 0 };
        _cleanup_free_ CtlProp *props = NULL;
        const char *reason = c->reason ? c->reason : "", *state, *serial;
        size_t n = 0;
        int r;

        /* Step 1, the confirmation screen, from what the service knows now. */
        r = ctl_get_user(c, login, &props_reply, &props, &n);
        if (r < 0)
                return r;
        if (!c->json) {
                r = print_confirmation(c, props, n, reason);
                if (r < 0)
                        return r;
        }
        state = ctl_prop_str(props, n, "CertificateState");
        if (!state_is_revocable(state))
                return fail_not_revocable(c, login, state);
        /* The certificate shown is the one revoked: if it was replaced in
         * the meantime the service answers CertificateChanged. */
        serial = c->serial ? c->serial : ctl_prop_str(props, n, "CertificateSerial");

        /* Step 2, the confirmation password. */
        r = ctl_read_password(c, &secret);
        if (r < 0)
                return r;
        r = ctl_call_sensitive(c, "RevokeCertificate", &reply, "ssss", login, serial, reason, secret.buf);
        ctl_secret_erase(&secret);
        if (r < 0)
                return r;

        /* Step 3, the result. */
        return read_revoke_result(c, reply);
}

/* ---- several users: one screen, one password, one call -------------- */

static int row_login_compare(const void *key, const void *row) {
        return strcmp(key, ((const CtlUserRow *) row)->login_id);
}

/* The users named, in the order given, each once and each revocable; the
 * rows are sorted by login ID (ctl_read_users). */
static int pick_logins(Ctl *c, char **logins, size_t n_logins, const CtlUserRow *rows, size_t n,
                       CtlUserRow *picked) {
        for (size_t i = 0; i < n_logins; i++) {
                const CtlUserRow *u = bsearch(logins[i], rows, n, sizeof *rows, row_login_compare);

                for (size_t j = 0; j < i; j++)
                        if (strcmp(logins[i], logins[j]) == 0)
                                return ctl_fail_usage(c, _("%s is named twice."), logins[i]);
                if (!u)
                        return ctl_fail(c, CTL_EXIT_NOT_FOUND, -ENOENT, _("No user with login ID \"%s\"."), logins[i]);
                if (!state_is_revocable(u->state))
                        return fail_not_revocable(c, u->login_id, u->state);
                picked[i] = *u;
        }
        return 0;
}

/* What the filters select and can be revoked, in login order. */
static size_t pick_filtered(const CtlUserRow *rows, size_t n, CtlUserRow *picked) {
        size_t k = 0;

        for (size_t i = 0; i < n; i++)
                if (state_is_revocable(rows[i].state))
                        picked[k++] = rows[i];
        return k;
}

enum { TGT_LOGIN, TGT_NAME, TGT_SERIAL, TGT_STATE, TGT_EXPIRY, TARGET_COLUMNS };
_Static_assert(TARGET_COLUMNS <= CTL_TABLE_COLUMNS_MAX, "the targets are wider than a table may be");

static int fill_target_cells(char **cells, const void *row) {
        const CtlUserRow *u = row;

        if (ctl_printable(u->login_id, &cells[TGT_LOGIN]) < 0 || ctl_printable(u->name, &cells[TGT_NAME]) < 0 ||
            ctl_printable(u->serial, &cells[TGT_SERIAL]) < 0 ||
            ctl_printable(ctl_state_label(u->state), &cells[TGT_STATE]) < 0)
                return -ENOMEM;
        cells[TGT_EXPIRY] = ctl_expiry_cell(u->state, u->not_after);
        return cells[TGT_EXPIRY] ? 0 : -ENOMEM;
}

static int print_targets_json(Ctl *c, const CtlUserRow *rows, size_t n) {
        static const char *const keys[] = { "login_id", "name", "serial", "state" };
        static const size_t offsets[] = { offsetof(CtlUserRow, login_id), offsetof(CtlUserRow, name),
                                          offsetof(CtlUserRow, serial), offsetof(CtlUserRow, state) };

        if (ctl_print_json_rows(stdout, rows, sizeof *rows, n, keys, offsets, ELEMENTSOF(keys)) < 0)
                return ctl_fail_oom(c);
        return 0;
}

/* The confirmation screen of several users, or what a dry run would revoke. */
static int print_targets(Ctl *c, const CtlUserRow *rows, size_t n, const char *reason) {
        static const char *const header[TARGET_COLUMNS] = {
                N_("Login ID"), N_("Name"), N_("Serial"), N_("Certificate state"), N_("Expiry"),
        };

        if (c->json)
                return c->dry_run ? print_targets_json(c, rows, n) : 0;
        printf("%s\n\n", c->dry_run
               /* TRANSLATORS: heading of what revoke --dry-run shows. */
               ? _("The certificates of the following users would be revoked (dry run: nothing is changed).")
               /* TRANSLATORS: heading of the confirmation screen for several users. */
               : _("The certificates of the following users will be revoked."));
        if (ctl_print_rows(stdout, header, TARGET_COLUMNS, rows, sizeof *rows, n, fill_target_cells) < 0)
                return ctl_fail_oom(c);
        printf("\n%s: %s\n", _("Revocation reason"), ctl_reason_label(reason));
        if (!c->dry_run)
                fputs("\n", stdout);
        fflush(stdout);
        return 0;
}

static int append_targets(sd_bus_message *m, const CtlUserRow *rows, size_t n) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "(ss)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = sd_bus_message_append(m, "(ss)", rows[i].login_id, rows[i].serial);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

/* The targets as the user saw them: a changed certificate is refused.  The
 * message is marked sensitive: sd-bus wipes the password when it frees it. */
static int call_revoke_many(Ctl *c, const CtlUserRow *rows, size_t n, const char *reason, const CtlSecret *secret,
                            sd_bus_message **reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = ctl_new_call(c, CR_MANAGER_PATH, CR_MANAGER_IFACE, "RevokeCertificates", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_sensitive(m);
        if (r < 0)
                return ctl_fail(c, CTL_EXIT_FAILURE, r, _("Failed to create the call %s: %s"), "RevokeCertificates",
                                strerror(-r));
        r = append_targets(m, rows, n);
        if (r < 0)
                return ctl_fail(c, CTL_EXIT_FAILURE, r, _("Failed to create the call %s: %s"), "RevokeCertificates",
                                strerror(-r));
        r = sd_bus_message_append(m, "ss", reason, secret->buf);
        if (r < 0)
                return ctl_fail(c, CTL_EXIT_FAILURE, r, _("Failed to create the call %s: %s"), "RevokeCertificates",
                                strerror(-r));
        return ctl_send_call(c, m, reply);
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

static int print_results(Ctl *c, sd_bus_message *reply, size_t n_expected) {
        static const char *const header[RESULT_COLUMNS] = { N_("Login ID"), N_("Name"), N_("Certificate state") };
        static const char *const keys[] = { "login_id", "name", "state" };
        static const size_t offsets[] = { offsetof(ResultRow, login_id), offsetof(ResultRow, name),
                                          offsetof(ResultRow, state) };
        _cleanup_free_ ResultRow *rows = calloc(n_expected ? n_expected : 1, sizeof *rows);
        size_t n = 0;
        int r;

        if (!rows)
                return ctl_fail_oom(c);
        r = sd_bus_message_enter_container(reply, 'a', "(sss)");
        while (r >= 0 && n < n_expected &&
               (r = sd_bus_message_read(reply, "(sss)", &rows[n].login_id, &rows[n].name, &rows[n].state)) > 0)
                n++;
        if (r < 0)
                return ctl_fail_parse(c, r);
        if (c->json)
                r = ctl_print_json_rows(stdout, rows, sizeof *rows, n, keys, offsets, ELEMENTSOF(keys));
        else {
                /* TRANSLATORS: heading of the result screen for several users. */
                printf("%s\n\n", _("The certificates of the following users have been revoked."));
                r = ctl_print_rows(stdout, header, RESULT_COLUMNS, rows, sizeof *rows, n, fill_result_cells);
        }
        return r < 0 ? ctl_fail_oom(c) : 0;
}

static int revoke_many_check(Ctl *c, char **args, size_t n_args, bool filtered) {
        int r;

        if (c->serial)
                return ctl_fail_usage(c, _("--serial= applies to a single login only."));
        if (filtered && n_args > 1)
                return ctl_fail_usage(c, _("With --role= or --state=, revoke takes at most one PATTERN."));
        for (size_t i = 0; !filtered && i < n_args; i++) {
                r = ctl_check_login_id(c, args[i]);
                if (r < 0)
                        return r;
        }
        if (c->state) {
                r = ctl_check_state(c, c->state);
                if (r < 0)
                        return r;
        }
        if (c->role) {
                r = ctl_check_role(c, c->role);
                if (r < 0)
                        return r;
        }
        return ctl_check_reason(c, c->reason ? c->reason : "");
}

/* The users to revoke, as ListUsers shows them now; *list holds their
 * strings. */
static int pick_targets(Ctl *c, char **args, size_t n_args, bool filtered, sd_bus_message **list,
                        CtlUserRow **ret, size_t *ret_n) {
        _cleanup_free_ CtlUserRow *rows = NULL, *picked = NULL;
        size_t n = 0, k = n_args;
        int r;

        r = ctl_call_manager(c, "ListUsers", list, NULL);
        if (r < 0)
                return r;
        r = ctl_read_users(c, *list, filtered && n_args > 0 ? args[0] : NULL, &rows, &n);
        if (r < 0)
                return r;
        picked = calloc((filtered ? n : n_args) + 1, sizeof *picked);
        if (!picked)
                return ctl_fail_oom(c);
        if (filtered)
                k = pick_filtered(rows, n, picked);
        else {
                r = pick_logins(c, args, n_args, rows, n, picked);
                if (r < 0)
                        return r;
        }
        if (k == 0)
                return ctl_fail(c, CTL_EXIT_NOT_FOUND, -ENOENT,
                                _("No user selected has a certificate that can be revoked."));
        if (k > CR_REVOKE_TARGETS_MAX)
                return ctl_fail_usage(c, _("At most %d certificates can be revoked at once; %zu are selected."),
                                      CR_REVOKE_TARGETS_MAX, k);
        *ret = TAKE_PTR(picked);
        *ret_n = k;
        return 0;
}

/* Several logins, or the list's filters (--role=, --state=, PATTERN) over
 * the users whose certificate can be revoked. */
static int revoke_many(Ctl *c, char **args, size_t n_args, bool filtered) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *list = NULL, *reply = NULL;
        _cleanup_(ctl_secret_erase) CtlSecret secret = { .len = 0 };
        _cleanup_free_ CtlUserRow *picked = NULL;
        const char *reason = c->reason ? c->reason : "";
        size_t k = 0;
        int r;

        r = pick_targets(c, args, n_args, filtered, &list, &picked, &k);
        if (r < 0)
                return r;
        r = print_targets(c, picked, k, reason);
        if (r < 0 || c->dry_run)
                return r;
        r = ctl_read_password(c, &secret);
        if (r < 0)
                return r;
        r = call_revoke_many(c, picked, k, reason, &secret, &reply);
        ctl_secret_erase(&secret);
        if (r < 0)
                return r;
        return print_results(c, reply, k);
}

/* ---- the verb -------------------------------------------------------- */

static bool is_filtered(const Ctl *c, char **args, size_t n_args) {
        return c->state || c->role || (n_args == 1 && ctl_pattern_is_glob(args[0]));
}

/* One login without filters is the product's three screens, as ever. */
static bool is_one(const Ctl *c, char **args, size_t n_args) {
        return n_args == 1 && !is_filtered(c, args, n_args) && !c->dry_run;
}

int ctl_revoke_check(Ctl *c, char **args, size_t n_args) {
        bool filtered = is_filtered(c, args, n_args);

        if (n_args == 0 && !filtered)
                return ctl_fail_usage(c, _("Too few arguments for %s. See --help."), "revoke");
        if (is_one(c, args, n_args))
                return revoke_one_check(c, args[0]);
        return revoke_many_check(c, args, n_args, filtered);
}

int ctl_revoke_run(Ctl *c, char **args, size_t n_args) {
        if (is_one(c, args, n_args))
                return revoke_one(c, args[0]);
        return revoke_many(c, args, n_args, is_filtered(c, args, n_args));
}
