/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>

#include "caller.h"
#include "log.h"
#include "util.h"

/* A unique name is never given twice by one bus, and the UID behind it is
 * the one its connection had at connect: what the bus said once holds for
 * as long as the connection it was asked on. */
static struct SenderUid *sender_find(Context *c, const char *name) {
        if (c->senders.bus != c->bus) {
                caller_forget_senders(c);
                c->senders.bus = c->bus;
        }
        for (size_t i = 0; i < CALLER_SENDERS_MAX; i++)
                if (streq_ptr(c->senders.entries[i].name, name))
                        return &c->senders.entries[i];
        return NULL;
}

static void sender_remember(Context *c, const char *name, uid_t uid) {
        struct SenderUid *e = &c->senders.entries[0];
        char *copy = strdup(name);

        if (!copy)
                return;         /* asked again next time */
        for (size_t i = 1; i < CALLER_SENDERS_MAX && e->name; i++)
                if (!c->senders.entries[i].name || c->senders.entries[i].used < e->used)
                        e = &c->senders.entries[i];
        free(e->name);
        *e = (struct SenderUid) { .name = copy, .uid = uid, .used = ++c->senders.tick };
}

void caller_forget_senders(Context *c) {
        for (size_t i = 0; i < CALLER_SENDERS_MAX; i++) {
                free(c->senders.entries[i].name);
                c->senders.entries[i].name = NULL;
        }
}

/* The effective UID the bus daemon saw at connect: no PID races. */
static int sender_uid(Context *c, sd_bus_message *m, uid_t *ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const char *sender = sd_bus_message_get_sender(m);
        struct SenderUid *e = sender ? sender_find(c, sender) : NULL;
        int r;

        if (e) {
                e->used = ++c->senders.tick;
                *ret = e->uid;
                return 0;
        }
        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return r;
        if ((r = sd_bus_creds_get_euid(creds, ret)) < 0)
                return r;
        if (sender)
                sender_remember(c, sender, *ret);
        return 0;
}

int caller_identify(Context *c, sd_bus_message *m, Caller *ret) {
        uid_t uid;
        int r;

        r = sender_uid(c, m, &uid);
        if (r < 0)
                return r;
        return caller_from_uid(c, uid, ret);
}

int caller_from_uid(Context *c, uid_t uid, Caller *ret) {
        Caller caller = { .uid = uid, .role = _CR_ROLE_INVALID };
        int r;

        if (caller.uid == 0) {
                if (!(caller.login = strdup(CR_ROOT_LOGIN)))
                        return -ENOMEM;
                caller.role = CR_ROLE_MASTER;
        } else {
                bool suspended = false;

                r = store_user_by_uid(c->store, caller.uid, &caller.login, &caller.role, &suspended);
                if (r < 0 && r != -ENOENT)
                        return r;
                /* a suspended user can do nothing: as good as no user */
                if (suspended) {
                        caller.suspended_login = TAKE_PTR(caller.login);
                        caller.role = _CR_ROLE_INVALID;
                }
        }
        *ret = caller;
        return 0;
}

void caller_done(Caller *caller) {
        free(caller->login);
        free(caller->suspended_login);
        caller->login = caller->suspended_login = NULL;
}

bool caller_is_master(const Caller *caller) {
        return caller->login && caller->role == CR_ROLE_MASTER;
}

bool caller_is_privileged(const Caller *caller) {
        return caller->login && cr_role_is_privileged(caller->role);
}

bool caller_may_see(const Caller *caller, const char *login_id) {
        return caller_is_privileged(caller) || (caller->login && streq_ptr(caller->login, login_id));
}

const char *caller_name(const Caller *caller) {
        static __thread char buf[32];

        if (caller->login)
                return caller->login;
        if (caller->suspended_login)
                return caller->suspended_login;
        snprintf(buf, sizeof buf, "uid:%u", (unsigned) caller->uid);
        return buf;
}
