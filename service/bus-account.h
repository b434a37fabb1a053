/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* ChangeConfirmationPassword(s old, s new): the caller's own. */
int method_change_confirmation_password(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* SetConfirmationPassword(s login_id, s new, s confirmation_password): master users. */
int method_set_confirmation_password(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* SuspendUser / ResumeUser(s login_id, s confirmation_password): master and admin users. */
int method_suspend_user(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_resume_user(sd_bus_message *m, void *userdata, sd_bus_error *error);
