/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevokectl: errors as the user reads them, with the exit status each
 * means, and the checks of arguments that lead to them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "certrevoke.h"
#include "ctl.h"

static int vfail(Ctl *c, int status, int r, const char *format, va_list ap) __attribute__((format(printf, 4, 0)));
static int vfail(Ctl *c, int status, int r, const char *format, va_list ap) {
        fputs(CTL_PROGRAM_NAME ": ", stderr);
        vfprintf(stderr, format, ap);
        fputc('\n', stderr);
        c->exit_status = status;
        return r < 0 ? r : -EINVAL;
}

int ctl_fail(Ctl *c, int status, int r, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        r = vfail(c, status, r, format, ap);
        va_end(ap);
        return r;
}

int ctl_fail_usage(Ctl *c, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = vfail(c, CTL_EXIT_USAGE, -EINVAL, format, ap);
        va_end(ap);
        return r;
}

/* Busy says in its message when to try again: that, in the user's words. */
static int fail_busy(Ctl *c, const sd_bus_error *error, int r) {
        unsigned seconds;

        if (ctl_busy_retry_seconds(error->message, &seconds) < 0)
                return ctl_fail(c, CTL_EXIT_BUSY, r, "%s", _("The service is busy; try again later."));
        return ctl_fail(c, CTL_EXIT_BUSY, r,
                        dngettext(CTL_TEXT_DOMAIN, "The service is busy; try again in %u second.",
                                  "The service is busy; try again in %u seconds.", seconds),
                        seconds);
}

/* The service's own message is what the user needs to see; the exit status
 * comes from the error name through the shared table. */
int ctl_fail_bus(Ctl *c, const sd_bus_error *error, int r) {
        const char *msg = error->message ? error->message : error->name;

        if (sd_bus_error_has_name(error, CR_ERROR_BUSY))
                return fail_busy(c, error, r);
        return ctl_fail(c, ctl_exit_code_from_error_name(error->name), r, "%s", msg ? msg : strerror(-r));
}

int ctl_fail_parse(Ctl *c, int r) {
        return ctl_fail(c, CTL_EXIT_FAILURE, r, _("Failed to parse the reply of the service: %s"), strerror(-r));
}

int ctl_fail_oom(Ctl *c) {
        return ctl_fail(c, CTL_EXIT_FAILURE, -ENOMEM, "%s", strerror(ENOMEM));
}

/* The reasons come from names.c in English; the catalogue carries them. */
int ctl_check_login_id(Ctl *c, const char *login) {
        const char *why = cr_login_id_invalid(login);

        return why ? ctl_fail_usage(c, _("Invalid login ID \"%s\": %s"), login, _(why)) : 0;
}

int ctl_check_role(Ctl *c, const char *role) {
        if (cr_role_from_string(role) != _CR_ROLE_INVALID)
                return 0;
        return ctl_fail_usage(c, _("Invalid role \"%s\"; expected one of: master, admin, general, worker."), role);
}

int ctl_check_state(Ctl *c, const char *state) {
        if (cr_cert_state_from_string(state) != _CR_CERT_STATE_INVALID)
                return 0;
        return ctl_fail_usage(c, _("Invalid certificate state \"%s\"; expected one of: "
                                   "issued, renewed, expired, not-issued, revoked."), state);
}

int ctl_check_reason(Ctl *c, const char *reason) {
        if (ctl_reason_is_valid(reason))
                return 0;
        return ctl_fail_usage(c, _("Invalid revocation reason \"%s\"; expected one of: unspecified, keyCompromise, "
                                   "CACompromise, affiliationChanged, superseded, cessationOfOperation, "
                                   "privilegeWithdrawn, AACompromise."), reason);
}
