/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "context.h"

/* Checks a certificate found on a token (uri set) or imported (uri NULL)
 * and files it under its user.  expected_login, when set, must be the
 * login the certificate names.  Returns 0 and the user in *ret_login, or:
 * -EBADMSG not one X.509 certificate, -EPERM not issued by the configured
 * CA (or none configured), -ENOKEY no valid login ID in the subject,
 * -EXDEV names another login than expected, -ENOENT no such user,
 * -EEXIST filed under another user.  *why says it in words. */
int filing_file(Context *c, const unsigned char *der, size_t len, const char *uri,
                const char *expected_login, char **ret_login, int *changed, const char **why);
