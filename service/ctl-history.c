/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevokectl history: the operation history as a table or JSON, and
 * --verify, the check of its hash chain. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "certrevoke.h"
#include "ctl.h"
#include "util.h"

typedef struct HistoryRow {
        uint64_t time;
        const char *actor, *action, *target, *result;
} HistoryRow;

/* The rows point into the reply, which therefore outlives them. */
static int read_history(Ctl *c, sd_bus_message *reply, HistoryRow **ret, size_t *ret_n) {
        _cleanup_free_ HistoryRow *rows = NULL;
        size_t n = 0, allocated = 0;
        HistoryRow h;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(tssss)");
        if (r < 0)
                return ctl_fail_parse(c, r);
        while ((r = sd_bus_message_read(reply, "(tssss)", &h.time, &h.actor, &h.action, &h.target, &h.result)) > 0) {
                if (grow_array((void **) &rows, &allocated, n + 1, sizeof *rows) < 0)
                        return ctl_fail_oom(c);
                rows[n++] = h;
        }
        if (r < 0)
                return ctl_fail_parse(c, r);
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return ctl_fail_parse(c, r);
        *ret = TAKE_PTR(rows);
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

static int print_history_row_json(const HistoryRow *h) {
        char when[CTL_TIME_BUF_MAX];
        bool has_time = ctl_format_iso8601(h->time, when, sizeof when) >= 0;
        int r;

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
        return r;
}

static int print_history_json(Ctl *c, const HistoryRow *rows, size_t n) {
        int r = 0;

        fputs("[", stdout);
        for (size_t i = 0; i < n && r >= 0; i++) {
                fputs(i == 0 ? "\n" : ",\n", stdout);
                r = print_history_row_json(&rows[i]);
        }
        fputs(n > 0 ? "\n]\n" : "]\n", stdout);
        return r < 0 ? ctl_fail(c, CTL_EXIT_FAILURE, r, _("Failed to write output: %s"), strerror(-r)) : 0;
}

enum { HCOL_TIME, HCOL_ACTOR, HCOL_ACTION, HCOL_TARGET, HCOL_RESULT, HISTORY_COLUMNS };
_Static_assert(HISTORY_COLUMNS <= CTL_TABLE_COLUMNS_MAX, "the history is wider than a table may be");

static int fill_history_cells(char **cells, const void *row) {
        const HistoryRow *h = row;
        char buf[CTL_TIME_BUF_MAX];

        cells[HCOL_TIME] = strdup(ctl_format_time(h->time, buf, sizeof buf) < 0 ? "-" : buf);
        if (!cells[HCOL_TIME] ||
            ctl_printable(h->actor, &cells[HCOL_ACTOR]) < 0 ||
            ctl_printable(ctl_action_label(h->action), &cells[HCOL_ACTION]) < 0 ||
            ctl_printable(*h->target ? h->target : "-", &cells[HCOL_TARGET]) < 0 ||
            ctl_printable(h->result, &cells[HCOL_RESULT]) < 0)
                return -ENOMEM;
        return 0;
}

static int print_history_table(Ctl *c, const HistoryRow *rows, size_t n) {
        static const char *const header[HISTORY_COLUMNS] = {
                N_("Time"), N_("Actor"), N_("Action"), N_("Target"), N_("Result"),
        };

        if (ctl_print_rows(stdout, header, HISTORY_COLUMNS, rows, sizeof *rows, n, fill_history_cells) < 0)
                return ctl_fail_oom(c);
        return 0;
}

static int print_verdict_json(Ctl *c, int intact, uint64_t rows, uint64_t first_bad, const char *why) {
        int r;

        printf("{\"intact\":%s,\"rows\":%" PRIu64 ",\"first_bad_row\":%" PRIu64 ",\"why\":",
               intact ? "true" : "false", rows, first_bad);
        r = ctl_json_fputs(stdout, why);
        fputs("}\n", stdout);
        return r < 0 ? ctl_fail(c, CTL_EXIT_FAILURE, r, _("Failed to write output: %s"), strerror(-r)) : 0;
}

static int print_verdict_text(Ctl *c, int intact, uint64_t rows, uint64_t first_bad, const char *why) {
        _cleanup_free_ char *why_printable = NULL;

        if (intact) {
                printf(_("The operation history is intact: %llu entries, each chained to the one "
                         "before.\n"), (unsigned long long) rows);
                return 0;
        }
        if (ctl_printable(why, &why_printable) < 0)
                return ctl_fail_oom(c);
        if (first_bad > 0)
                printf(_("The operation history was changed: entry %llu does not fit the chain: %s\n"),
                       (unsigned long long) first_bad, why_printable);
        else
                printf(_("The operation history was changed: %s\n"), why_printable);
        return 0;
}

/* Exit status 0 when the chain is whole, 1 when a row does not fit. */
static int verify_history(Ctl *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *why;
        uint64_t rows, first_bad;
        int intact, r;

        r = ctl_call_manager(c, "VerifyHistory", &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "btts", &intact, &rows, &first_bad, &why);
        if (r < 0)
                return ctl_fail_parse(c, r);
        if (c->json)
                r = print_verdict_json(c, intact, rows, first_bad, why);
        else
                r = print_verdict_text(c, intact, rows, first_bad, why);
        if (r < 0 || intact)
                return r;
        c->exit_status = CTL_EXIT_FAILURE;
        return -EBADMSG;
}

int ctl_history_check(Ctl *c, char **args, size_t n_args) {
        const char *login = n_args > 0 ? args[0] : "";
        int r;

        if (c->verify && (n_args > 0 || c->since || c->limit))
                return ctl_fail_usage(c, _("--verify checks the whole history: it takes no LOGIN, --since= or "
                                           "--limit=."));
        if (*login) {
                r = ctl_check_login_id(c, login);
                if (r < 0)
                        return r;
        }
        if (c->since && ctl_parse_since(c->since, &c->since_usec) < 0)
                return ctl_fail_usage(c, _("Invalid date \"%s\"; expected YYYY-MM-DD or \"YYYY-MM-DD HH:MM:SS\" "
                                           "(local time)."), c->since);
        if (c->limit && ctl_parse_uint32(c->limit, &c->limit_n) < 0)
                return ctl_fail_usage(c, _("Invalid limit \"%s\"; expected a number of entries (0: the service's "
                                           "default)."), c->limit);
        return 0;
}

int ctl_history_run(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ HistoryRow *rows = NULL;
        const char *login = n_args > 0 ? args[0] : "";
        size_t n = 0;
        int r;

        if (c->verify)
                return verify_history(c);
        r = ctl_call_manager(c, "GetHistory", &reply, "stu", login, c->since_usec, c->limit_n);
        if (r < 0)
                return r;
        r = read_history(c, reply, &rows, &n);
        if (r < 0)
                return r;
        return c->json ? print_history_json(c, rows, n) : print_history_table(c, rows, n);
}
