/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevokectl's parts, each in a file of its own concern: reporting
 * (ctl-report.c), the bus and the replies read from it (ctl-bus.c), the
 * terminal and passwords (ctl-input.c), the tables and labels
 * (ctl-format.c), and the verbs (ctl-users.c, ctl-revoke.c,
 * ctl-account.c, ctl-history.c), which certrevokectl.c dispatches to. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "ctl-format.h"

#define CTL_PROGRAM_NAME "certrevokectl"
#define CTL_PROPERTIES_IFACE "org.freedesktop.DBus.Properties"

/* Longest confirmation password read; the service takes less. */
#define CTL_PASSWORD_MAX 1024

/* The run of one command: the options as given, the bus (connected once
 * by main, after the arguments were checked, so that a mistake on the
 * command line never touches the bus), and the exit status whoever
 * reports an error records. */
typedef struct Ctl {
        const char *address;
        bool json;
        const char *state;
        const char *role;
        const char *reason;
        const char *serial;
        bool password_stdin;
        const char *since;
        const char *limit;
        bool verify;
        bool dry_run;

        /* history's --since= and --limit=, parsed when checked */
        uint64_t since_usec;
        uint32_t limit_n;

        sd_bus *bus;
        int exit_status;
} Ctl;

/* ---- reporting (ctl-report.c) */

/* Prints "certrevokectl: <message>", records the exit status and returns r
 * (a negative errno, -EINVAL if r is not one) so that callers can write
 * "return ctl_fail(...)". */
int ctl_fail(Ctl *c, int status, int r, const char *format, ...) __attribute__((format(printf, 4, 5)));
int ctl_fail_usage(Ctl *c, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* The service's error: its message, the exit status its name maps to. */
int ctl_fail_bus(Ctl *c, const sd_bus_error *error, int r);
int ctl_fail_parse(Ctl *c, int r);
int ctl_fail_oom(Ctl *c);

/* ---- arguments (ctl-report.c): usage errors when they are not valid */

int ctl_check_login_id(Ctl *c, const char *login);
int ctl_check_role(Ctl *c, const char *role);
int ctl_check_state(Ctl *c, const char *state);
int ctl_check_reason(Ctl *c, const char *reason);

/* ---- the bus (ctl-bus.c) */

/* The system bus (DBUS_SYSTEM_BUS_ADDRESS honoured), or --address=. */
int ctl_bus_connect(Ctl *c);

int ctl_new_call(Ctl *c, const char *path, const char *iface, const char *member, sd_bus_message **ret);
int ctl_send_call(Ctl *c, sd_bus_message *m, sd_bus_message **reply);
/* A method call whose arguments sd_bus_message_appendv can take; reply
 * may be NULL. */
int ctl_call(Ctl *c, const char *path, const char *iface, const char *member, sd_bus_message **reply,
             const char *types, ...);
int ctl_call_manager(Ctl *c, const char *member, sd_bus_message **reply, const char *types, ...);
/* The same for calls that carry passwords: the message is marked
 * sensitive, so that sd-bus wipes it when it frees it. */
int ctl_call_sensitive(Ctl *c, const char *member, sd_bus_message **reply, const char *types, ...);

/* A row of ListUsers; the strings point into the reply. */
typedef struct CtlUserRow {
        const char *login_id, *name, *role, *state, *serial, *path;
        uint64_t not_after;
} CtlUserRow;

/* The users of a ListUsers reply that --state=, --role= and pattern (NULL:
 * any) select, sorted by login ID; the reply must outlive them. */
int ctl_read_users(Ctl *c, sd_bus_message *reply, const char *pattern, CtlUserRow **ret, size_t *ret_n);

/* A property of a basic type from GetAll; containers are skipped. */
typedef struct CtlProp {
        const char *name;
        char type;
        const char *str;      /* s, o, g */
        uint64_t u;           /* y, q, u, t */
        int64_t i;            /* n, i, x, b */
        double d;             /* d */
} CtlProp;

/* The properties of a GetAll reply, which must outlive them. */
int ctl_read_properties(Ctl *c, sd_bus_message *m, CtlProp **ret, size_t *ret_n);
/* GetUser, then GetAll of the user's object: *ret_reply holds the strings. */
int ctl_get_user(Ctl *c, const char *login, sd_bus_message **ret_reply, CtlProp **ret, size_t *ret_n);
const CtlProp *ctl_prop_find(const CtlProp *props, size_t n, const char *name);
/* A string property, "" if absent; a t property, 0 if absent. */
const char *ctl_prop_str(const CtlProp *props, size_t n, const char *name);
uint64_t ctl_prop_u64(const CtlProp *props, size_t n, const char *name);

/* ---- the terminal and passwords (ctl-input.c) */

typedef struct CtlSecret {
        char buf[CTL_PASSWORD_MAX + 1];
        size_t len;
} CtlSecret;

void ctl_secret_erase(CtlSecret *s);
/* One password: asked on the terminal with prompt (echo off), or the next
 * line of standard input with --password-stdin.  Empty ones are refused. */
int ctl_read_secret(Ctl *c, CtlSecret *secret, const char *prompt);
/* The acting user's own confirmation password. */
int ctl_read_password(Ctl *c, CtlSecret *secret);
/* A new password, twice with the two prompts; they must agree. */
int ctl_read_new_password(Ctl *c, CtlSecret *secret, const char *prompt, const char *again);

/* ---- the verbs: check looks at the arguments only (before the bus is
 * connected); run does the work on c->bus. */

int ctl_list_check(Ctl *c, char **args, size_t n_args);
int ctl_list_run(Ctl *c, char **args, size_t n_args);
int ctl_show_check(Ctl *c, char **args, size_t n_args);
int ctl_show_run(Ctl *c, char **args, size_t n_args);
int ctl_add_user_check(Ctl *c, char **args, size_t n_args);
int ctl_add_user_run(Ctl *c, char **args, size_t n_args);
int ctl_login_check(Ctl *c, char **args, size_t n_args);
int ctl_remove_user_run(Ctl *c, char **args, size_t n_args);
int ctl_set_role_check(Ctl *c, char **args, size_t n_args);
int ctl_set_role_run(Ctl *c, char **args, size_t n_args);
int ctl_import_cert_run(Ctl *c, char **args, size_t n_args);
int ctl_rescan_run(Ctl *c, char **args, size_t n_args);
int ctl_backup_run(Ctl *c, char **args, size_t n_args);

int ctl_revoke_check(Ctl *c, char **args, size_t n_args);
int ctl_revoke_run(Ctl *c, char **args, size_t n_args);

int ctl_passwd_run(Ctl *c, char **args, size_t n_args);
int ctl_set_password_run(Ctl *c, char **args, size_t n_args);
int ctl_suspend_run(Ctl *c, char **args, size_t n_args);
int ctl_resume_run(Ctl *c, char **args, size_t n_args);

int ctl_history_check(Ctl *c, char **args, size_t n_args);
int ctl_history_run(Ctl *c, char **args, size_t n_args);
