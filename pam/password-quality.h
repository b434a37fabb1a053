/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rules a new confirmation password must pass, shared by the PAM
 * module's password step and the daemon. */
#pragma once

#include <stddef.h>

#include "confirm-shadow.h"

#define PASSWORD_QUALITY_MIN_CHARS 8
/* Enough for any reason password_quality_check() gives. */
#define PASSWORD_QUALITY_REASON_MAX 256

/* Whether new_password may become login's confirmation password: at least
 * PASSWORD_QUALITY_MIN_CHARS characters (UTF-8 characters, not bytes), at
 * most CONFIRM_SHADOW_PASSWORD_MAX bytes, not the login ID in any case,
 * not old_password (may be NULL), and libpwquality's checks under the
 * site's /etc/security/pwquality.conf
 * (always enforced; a missing cracklib dictionary skips only the
 * dictionary check, with a warning through log).  Returns 0 if so;
 * -EINVAL with a sentence for the user in reason (which never holds the
 * password); -ENOMEM. */
int password_quality_check(const char *login, const char *new_password, const char *old_password,
                           char *reason, size_t reason_size, const ConfirmShadowLog *log);
