/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rules a new confirmation password must pass, shared by the PAM
 * module's password step and the daemon. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "confirm-shadow.h"

#define PASSWORD_QUALITY_MIN_CHARS 8
/* Enough for any reason password_quality_check() gives. */
#define PASSWORD_QUALITY_REASON_MAX 256
/* Why a new password with a control character is refused: it could never
 * be typed back at a prompt (a newline ends the line it is read from). */
#define PASSWORD_QUALITY_CONTROL_REASON "the new confirmation password contains a control character"

/* Whether password holds a C0 control character, DEL, or a C1 control
 * character encoded as UTF-8. */
bool password_has_control(const char *password);

/* Whether new_password may become login's confirmation password: at least
 * PASSWORD_QUALITY_MIN_CHARS characters (UTF-8 characters, not bytes), at
 * most CONFIRM_SHADOW_PASSWORD_MAX bytes, no control character, not the
 * login ID in any case, not old_password (may be NULL; refused when longer
 * than CONFIRM_SHADOW_PASSWORD_MAX, before libpwquality sees it, as the
 * new one is), and libpwquality's checks under the
 * site's /etc/security/pwquality.conf
 * (always enforced; a missing cracklib dictionary skips only the
 * dictionary check, with a warning through log).  Returns 0 if so;
 * -EINVAL with a sentence for the user in reason (which never holds the
 * password); -ENOMEM. */
int password_quality_check(const char *login, const char *new_password, const char *old_password,
                           char *reason, size_t reason_size, const ConfirmShadowLog *log);
