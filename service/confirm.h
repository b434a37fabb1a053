/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "caller.h"
#include "context.h"

/* Called on the loop once the caller's confirmation password was right;
 * it owns userdata from then on and must answer m. */
typedef void (*confirm_done_fn)(Context *c, sd_bus_message *m, const Caller *caller, void *userdata);

/* Checks the confirmation password that is argument password_index (from
 * 0, a string) of m, for the caller's own login, through PAM, off the loop.  The call
 * must have been admitted with worker_admit() first: from here until done
 * is called or the call is answered, it counts as under way in the
 * caller's share.  A login locked after too many failures is answered
 * RateLimited at once; no more checks of a login run at a time than it has
 * failures left, the rest wait their turn.  A call whose password is the
 * same, byte for byte, as that of a check of the login under way takes no
 * turn: it waits for that check and gets its result (one guess, counted
 * once).  A wrong password
 * is answered AuthenticationFailed and counted; every attempt goes to the
 * history as action "confirm" with target, a refusal by the lock as
 * action.  Returns 1 when the answer will come later (done, or an error
 * reply), <0 with error set when it was refused at once (Busy when the
 * service runs as many PAM checks as it may); free_userdata then was not
 * called, and the caller keeps userdata. */
int confirm_request(Context *c, sd_bus_message *m, const Caller *caller, const char *action, const char *target,
                    unsigned password_index, confirm_done_fn done, void (*free_userdata)(void *),
                    void *userdata, sd_bus_error *error);

/* The same for a change that records the confirmation in its own
 * transaction: done must call confirm_record_ok() there, so that the
 * confirmation and what it confirms are one commit. */
int confirm_request_joined(Context *c, sd_bus_message *m, const Caller *caller, const char *action,
                           const char *target, unsigned password_index, confirm_done_fn done,
                           void (*free_userdata)(void *), void *userdata, sd_bus_error *error);

/* A right confirmation password: the caller's failures are cleared and
 * the history says "confirm ... ok". */
int confirm_record_ok(Context *c, const Caller *caller, const char *target);

/* Whether the caller's login is locked out now: RateLimited set in error,
 * and the refused action recorded in the history. */
int confirm_check_lock(Context *c, const Caller *caller, const char *action, const char *target,
                       sd_bus_error *error);

/* Forgets the requests still waiting for a turn; at exit. */
void confirm_drop_queue(Context *c);
