/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Checking a confirmation password through PAM without blocking the event
 * loop: each check runs certrevoke-pam-helper in a process of its own and
 * answers on the loop when the helper is done. */
#pragma once

#include <stdint.h>

#include "context.h"

/* Longest password passed to PAM; a longer one is refused as wrong. */
#define AUTH_PASSWORD_MAX 512
/* A helper still running after this long is killed: AUTH_ERROR. */
#define AUTH_TIMEOUT_USEC (60 * USEC_PER_SEC)
/* Checks of one context under way at once; more get -EAGAIN. */
#define AUTH_PENDING_MAX 256

typedef enum AuthResult {
        AUTH_OK,                /* password right, account usable */
        AUTH_FAILED,            /* wrong password or unknown login */
        AUTH_ACCOUNT_REFUSED,   /* password right, account refused (expired, …) */
        AUTH_ERROR,             /* nothing could be decided */
} AuthResult;

typedef void (*auth_done_fn)(Context *c, AuthResult result, void *userdata);

/* Checks password for login through the PAM service c->config.pam_service.
 *
 * The password is written into the helper's stdin pipe before this returns
 * and no copy is kept: the caller owns its buffer and wipes it (for example
 * with erase_memory()) as soon as this returns, whatever the result.
 *
 * done is called on c->event exactly once for every call that returned 0:
 * when the helper answered; for AUTH_FAILED only after the fail delay the
 * PAM stack asked for (an sd-event timer), so that a guesser gains nothing
 * from failing fast; AUTH_ERROR after AUTH_TIMEOUT_USEC; or from
 * auth_cancel_all().  It may start new checks.
 *
 * Needs SIGCHLD blocked in every thread (sd_event_add_child).  Call on the
 * loop's thread only.  Returns -EINVAL for a bad login or service name,
 * -EAGAIN when AUTH_PENDING_MAX checks run, -ESHUTDOWN inside
 * auth_cancel_all(), -EBUSY when SIGCHLD is not blocked, or another
 * negative errno when the helper could not be started; done is not called
 * then. */
int auth_check(Context *c, const char *login, const char *password, auth_done_fn done, void *userdata);

/* Ends every check of c: a helper still running is killed and reaped, and
 * done is called with AUTH_ERROR, or with the result already known when
 * only the fail delay was left (so a failure is still recorded).  For
 * shutdown, before c->event and the bus go away. */
void auth_cancel_all(Context *c);

/* auth_cancel_all(), then frees what c holds for checks; at exit. */
void auth_done(Context *c);

/* Number of checks of c under way, for login only unless NULL: a failure
 * limit can count the guesses still being checked. */
unsigned auth_pending(Context *c, const char *login);

const char *auth_result_to_string(AuthResult r);

/* The helper lives next to the running daemon's executable (the dirname
 * of /proc/self/exe): in the build tree and in the installed libexec
 * directory alike.  For tests only: c uses path and timeout_usec instead
 * (NULL and 0 restore the defaults).  -ENAMETOOLONG for a path that does
 * not fit PATH_MAX, -ENOMEM. */
int auth_set_helper(Context *c, const char *path, uint64_t timeout_usec);
