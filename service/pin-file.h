/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one reader of PIN and passphrase files: [CA] PINFile= (a token PIN
 * or a PEM key's passphrase) and [Tokens] PINFile=.  Strict, so that a
 * secret is used exactly as written or not at all. */
#pragma once

/* The first line of the regular file at path, without its "\n" or "\r\n".
 * Refuses an empty first line, one holding a NUL byte and one longer than
 * CR_PASSWORD_MAX bytes (never truncated): -EINVAL, -EBADMSG and -E2BIG.
 * A file that cannot be read gives its -errno.  On failure *ret is NULL and
 * *error (malloc'd, when error is not NULL; NULL if out of memory) says
 * why for an administrator, naming the file but never its content.
 * *ret is the caller's to release with pin_free(); every buffer that held
 * the secret here is wiped. */
int pin_file_read(const char *path, char **ret, char **error);

/* Wipes and frees a secret from pin_file_read(); NULL is fine. */
void pin_free(char *pin);

static inline void pin_freep(char **pin) {
        pin_free(*pin);
}
