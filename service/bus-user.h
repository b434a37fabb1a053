/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "certrevoke.h"
#include "context.h"

/* /org/certrevoke1/user/<escaped login ID> */
int user_object_path(const char *login_id, char **ret);

#define USER_PATH_MAX (sizeof(CR_USER_PATH_PREFIX "/") + 3 * CR_LOGIN_ID_MAX)
/* The same path without allocating, for lists of many users; login_id
 * must be a valid login ID. */
void user_object_path_buf(const char *login_id, char buf[static USER_PATH_MAX]);

/* Registers the per-user objects (a fallback vtable with an enumerator)
 * and answers GetManagedObjects on the manager's path: the reply sd-bus's
 * object manager would give, from one read of the store, which is kept
 * while the store is unchanged and no listed certificate has expired.  It
 * is refused with LimitsExceeded when the objects would not fit in one
 * message on the bus. */
int bus_user_register(Context *c);

/* Drops the remembered caller and the users kept for GetManagedObjects;
 * at exit and whenever roles change. */
void bus_user_forget_caller(Context *c);

/* Signals about user objects; failures are logged, never fatal. */
void user_emit_changed(Context *c, const char *login_id);
void user_emit_added(Context *c, const char *login_id);
void user_emit_removed(Context *c, const char *login_id);
