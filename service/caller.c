/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>

#include "caller.h"
#include "log.h"
#include "util.h"

int caller_identify(Context *c, sd_bus_message *m, Caller *ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid;
        int r;

        /* the effective UID the bus daemon saw at connect: no PID races */
        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return r;
        if ((r = sd_bus_creds_get_euid(creds, &uid)) < 0)
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
