/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "cleanup.h"
#include "context.h"

/* Who sent a message, from the bus credentials and the store: never from
 * an argument. */
typedef struct Caller {
        uid_t uid;
        char *login;            /* NULL: the UID is no user of ours */
        CrRole role;            /* _CR_ROLE_INVALID when login is NULL */
        char *suspended_login;  /* set instead of login for a suspended user */
} Caller;

int caller_identify(Context *c, sd_bus_message *m, Caller *ret);
/* As caller_identify(), for a method handler: 1 with the caller in *ret;
 * 0 when the bus is being asked who sent m (its first call on a
 * connection).  Then the handler returns 1 at once and runs again with m
 * and userdata once the bus has answered, so the event loop never waits
 * for the bus daemon.  Calls of one sender run in the order they came. */
int caller_identify_or_wait(Context *c, sd_bus_message *m, sd_bus_message_handler_t handler, void *userdata,
                            Caller *ret);
/* Method calls waiting for the bus to say who sent them. */
unsigned caller_waiting(Context *c);
/* Drops the UIDs remembered for the unique names that called, and the
 * calls waiting for one, unanswered. */
void caller_forget_senders(Context *c);
/* The caller with that UID as the store says now. */
int caller_from_uid(Context *c, uid_t uid, Caller *ret);
void caller_done(Caller *caller);
#define _cleanup_caller_ _cleanup_(caller_done)

bool caller_is_master(const Caller *caller);
bool caller_is_privileged(const Caller *caller);
/* Master and admin users see everyone, others only themselves. */
bool caller_may_see(const Caller *caller, const char *login_id);
/* The name the history records for the caller. */
const char *caller_name(const Caller *caller);
