/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <openssl/x509.h>
#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "store.h"

typedef struct Rescan Rescan;
typedef struct Publisher Publisher;
typedef struct WorkerPool WorkerPool;
typedef struct AuthCheck AuthCheck;
typedef struct ConfirmRequest ConfirmRequest;
typedef struct UserCache UserCache;
typedef struct SenderLookup SenderLookup;
typedef struct History History;
typedef struct Durable Durable;

#define CALLER_SENDERS_MAX 256

/* The loop answers calls before it finishes work already under way (a
 * PAM check that ended, a CRL build that is done): a read sent while
 * fifty revocations complete is answered at once, not after them.  The
 * work waits only while calls keep arriving faster than the loop answers
 * them, which the per-caller limits keep short. */
#define PRIORITY_CALLS SD_EVENT_PRIORITY_NORMAL
#define PRIORITY_WORK (SD_EVENT_PRIORITY_NORMAL + 10)

/* Everything certrevoked holds, passed to every handler. */
typedef struct Context {
        Config config;
        Store *store;
        X509 *ca;               /* [CA] Certificate=, NULL when unset */
        sd_event *event;
        sd_bus *bus;

        UserView view;          /* the user object sd-bus is reading now */
        struct {                /* who sent the message being answered, once per message */
                sd_bus_message *message;
                uint64_t cookie;
                char *sender;
                uid_t uid;
                char *login;
                int role;
        } seen;
        /* the UID behind each unique name that called lately: the bus
         * daemon is asked once per connection, not once per call */
        struct {
                sd_bus *bus;                    /* the connection they were asked on */
                struct SenderUid {
                        char *name;
                        uid_t uid;
                        uint64_t used;          /* tick of the last use: the oldest goes first */
                } entries[CALLER_SENDERS_MAX];
                uint64_t tick;
        } senders;
        SenderLookup *sender_lookups;   /* names the bus is being asked about, with their calls */
        bool emitting;          /* our own signal: every object is visible */
        UserCache *user_cache;  /* the users GetManagedObjects read last, while they hold */
        Rescan *rescan;         /* the token walk under way */
        Publisher *publisher;   /* CRL builds and token removals */
        WorkerPool *pool;       /* the threads that work off the loop, and each caller's share */
        struct {                /* confirmation passwords through PAM helpers */
                AuthCheck *checks;      /* under way */
                bool cancelling;        /* inside auth_cancel_all(): no new check */
                char *helper;           /* tests: run this instead of the installed helper */
                uint64_t timeout_usec;  /* tests: instead of AUTH_TIMEOUT_USEC */
        } auth;
        ConfirmRequest *confirm_queue;  /* confirmations waiting for their caller's turn */
        ConfirmRequest *confirm_checks; /* confirmations whose PAM check is under way */
        History *history;       /* the operation history's upkeep */
        Durable *durable;       /* answers waiting for the store's sync */
        uint64_t last_call_usec;        /* CLOCK_MONOTONIC of the last method call */
        sd_event_source *idle_timer;
        bool exiting;
        bool name_released;
} Context;
