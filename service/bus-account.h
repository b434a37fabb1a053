/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "caller.h"
#include "certrevoke.h"
#include "context.h"

/* The account actions the role table governs (README.md, "Who may act on
 * whom"). */
typedef enum AccountAction {
        ACCOUNT_ADD_USER,
        ACCOUNT_REMOVE_USER,
        ACCOUNT_SET_ROLE,
        ACCOUNT_SUSPEND,
        ACCOUNT_RESUME,
        ACCOUNT_SET_PASSWORD,
        _ACCOUNT_ACTION_MAX,
} AccountAction;

/* Whether the caller may do action to the user login.  Root may do
 * everything.  Master and admin users act on users of their own role or a
 * lower one (master > admin > general, worker) and give no role above
 * their own (role: the role ACCOUNT_ADD_USER and ACCOUNT_SET_ROLE give;
 * ignored otherwise); general and worker users, and callers who are no
 * active user, do none of it.  Nobody but root suspends, demotes or
 * removes the last active master.  Returns 0; or <0 with error set:
 * AccessDenied (the refusal recorded in the history) or NoSuchUser (only
 * to callers who may manage users at all). */
int account_authorize(Context *c, const Caller *caller, AccountAction action, const char *login, CrRole role,
                      sd_bus_error *error);

/* ChangeConfirmationPassword(s old, s new): the caller's own. */
int method_change_confirmation_password(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* SetConfirmationPassword(s login_id, s new, s confirmation_password). */
int method_set_confirmation_password(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* SuspendUser / ResumeUser(s login_id, s confirmation_password). */
int method_suspend_user(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_resume_user(sd_bus_message *m, void *userdata, sd_bus_error *error);
