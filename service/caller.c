/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
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

/* A method call that waits for the bus to say who sent it. */
typedef struct WaitingCall {
        sd_bus_message *message;
        sd_bus_message_handler_t handler;
        void *userdata;
        struct WaitingCall *next;
} WaitingCall;

struct SenderLookup {
        Context *context;
        char *sender;
        sd_bus_slot *slot;              /* the GetConnectionUnixUser under way */
        WaitingCall *calls, **tail;     /* in the order they came */
        SenderLookup *next;
};

static WaitingCall *waiting_call_free(WaitingCall *w) {
        WaitingCall *next = w->next;

        sd_bus_message_unref(w->message);
        free(w);
        return next;
}

static void lookup_unlink(Context *c, SenderLookup *l) {
        for (SenderLookup **p = &c->sender_lookups; *p; p = &(*p)->next)
                if (*p == l) {
                        *p = l->next;
                        break;
                }
        l->next = NULL;
}

static void lookup_free(SenderLookup *l) {
        for (WaitingCall *w = l->calls; w; )
                w = waiting_call_free(w);
        sd_bus_slot_unref(l->slot);
        free(l->sender);
        free(l);
}

/* Runs a call's handler again and answers for it as sd-bus would have:
 * an error it set or returned becomes the reply. */
static void run_again(WaitingCall *w) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_message_rewind(w->message, true);
        if (r >= 0)
                r = w->handler(w->message, w->userdata, &error);
        if (sd_bus_error_is_set(&error))
                (void) sd_bus_reply_method_error(w->message, &error);
        else if (r < 0)
                (void) sd_bus_reply_method_errno(w->message, r, NULL);
}

static int on_sender_uid(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        SenderLookup *l = userdata;
        Context *c = l->context;
        uint32_t uid;
        int r;

        (void) ret_error;
        lookup_unlink(c, l);
        r = sd_bus_message_get_errno(reply);
        if (r == 0)
                r = sd_bus_message_read(reply, "u", &uid);
        if (r < 0)
                /* the sender is gone, most likely: its calls get the error, if anyone hears it */
                (void) log_full_errno(LOG_DEBUG, r, "bus: cannot learn the UID of %s: %m", l->sender);
        else
                sender_remember(c, l->sender, (uid_t) uid);
        for (WaitingCall *w = l->calls; w; w = w->next)
                if (r < 0)
                        (void) sd_bus_reply_method_errno(w->message, r, NULL);
                else
                        run_again(w);
        lookup_free(l);
        return 0;
}

static SenderLookup *lookup_find(Context *c, const char *sender) {
        for (SenderLookup *l = c->sender_lookups; l; l = l->next)
                if (streq_ptr(l->sender, sender))
                        return l;
        return NULL;
}

static int lookup_start(Context *c, const char *sender, SenderLookup **ret) {
        SenderLookup *l = calloc(1, sizeof *l);
        int r;

        if (!l)
                return -ENOMEM;
        *l = (SenderLookup) { .context = c, .sender = strdup(sender) };
        l->tail = &l->calls;
        if (!l->sender) {
                lookup_free(l);
                return -ENOMEM;
        }
        r = sd_bus_call_method_async(c->bus, &l->slot, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "GetConnectionUnixUser", on_sender_uid, l, "s", sender);
        if (r < 0) {
                lookup_free(l);
                return r;
        }
        l->next = c->sender_lookups;
        c->sender_lookups = l;
        *ret = l;
        return 0;
}

static int wait_for_sender(Context *c, const char *sender, sd_bus_message *m, sd_bus_message_handler_t handler,
                           void *userdata) {
        SenderLookup *l = lookup_find(c, sender);
        WaitingCall *w;
        int r;

        if (!l && (r = lookup_start(c, sender, &l)) < 0)
                return r;
        w = calloc(1, sizeof *w);
        if (!w) {
                if (!l->calls) {
                        lookup_unlink(c, l);
                        lookup_free(l);
                }
                return -ENOMEM;
        }
        *w = (WaitingCall) { .message = sd_bus_message_ref(m), .handler = handler, .userdata = userdata };
        *l->tail = w;
        l->tail = &w->next;
        return 0;
}

int caller_identify_or_wait(Context *c, sd_bus_message *m, sd_bus_message_handler_t handler, void *userdata,
                            Caller *ret) {
        const char *sender = sd_bus_message_get_sender(m);
        int r;

        assert(c && m && handler && ret);
        /* no bus daemon to ask (a direct connection), or asked already */
        if (!sender || sender_find(c, sender)) {
                r = caller_identify(c, m, ret);
                return r < 0 ? r : 1;
        }
        r = wait_for_sender(c, sender, m, handler, userdata);
        return r < 0 ? r : 0;
}

unsigned caller_waiting(Context *c) {
        unsigned n = 0;

        for (SenderLookup *l = c->sender_lookups; l; l = l->next)
                for (WaitingCall *w = l->calls; w; w = w->next)
                        n++;
        return n;
}

void caller_forget_senders(Context *c) {
        for (size_t i = 0; i < CALLER_SENDERS_MAX; i++) {
                free(c->senders.entries[i].name);
                c->senders.entries[i].name = NULL;
        }
        while (c->sender_lookups) {
                SenderLookup *l = c->sender_lookups;

                lookup_unlink(c, l);
                lookup_free(l);
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
