/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The acting user's confirmation password: checked through PAM by a helper
 * process, with the failure count kept in the store across restarts.
 *
 * A confirmation that arrives while a check of the same login with byte for
 * byte the same password is under way shares that check instead of asking
 * PAM again: the same login and the same password are the same guess,
 * however many calls carry it.  So it is counted once against the lock, a
 * burst of right passwords costs one PAM run instead of rounds of five,
 * and whatever the PAM stack does per attempt (pam_faillock's tally, a
 * one-time code taken) happens once for all who share it.  A password that
 * differs in one byte or in length is a guess of its own and never shares;
 * the comparison takes the same time wherever the first difference is, so
 * it tells nothing about the password under check. */
#include <assert.h>
#include <errno.h>
#include <openssl/crypto.h>

#include "auth.h"
#include "certrevoke.h"
#include "confirm.h"
#include "log.h"
#include "util.h"
#include "worker.h"

#define MAX_FAILURES 5
#define LOCK_USEC (15 * 60 * USEC_PER_SEC)

typedef ConfirmRequest Request;

struct ConfirmRequest {
        Context *context;
        sd_bus_message *message;
        Caller caller;
        char *action;
        char *target;
        unsigned password_index;
        const char *password;           /* while its check runs: in message, which is SENSITIVE */
        Request *sharers;               /* wait for this request's check: same login, same password */
        bool joined;                    /* done records the confirmation with its change */
        confirm_done_fn done;
        void (*free_userdata)(void *);
        void *userdata;
        bool held;                      /* counts as under way in the caller's share */
        /* in c->confirm_queue (waiting for a turn), in c->confirm_checks
         * (its check under way) or in the sharers of such a request */
        Request *next;
};

static void request_free(Request *q, bool with_userdata) {
        if (!q)
                return;
        assert(!q->sharers);
        if (q->held)
                worker_unhold(q->context, q->caller.uid);
        if (with_userdata && q->free_userdata)
                q->free_userdata(q->userdata);
        sd_bus_message_unref(q->message);
        caller_done(&q->caller);
        free(q->action);
        free(q->target);
        free(q);
}

static int caller_copy(const Caller *from, Caller *to) {
        *to = (Caller) { .uid = from->uid, .role = from->role };
        if (from->login && !(to->login = strdup(from->login)))
                return -ENOMEM;
        return 0;
}

/* A request under way in the caller's share until it is freed. */
static Request *request_new(Context *c, sd_bus_message *m, const Caller *caller, const char *action,
                            const char *target) {
        Request *q = calloc(1, sizeof *q);

        if (!q)
                return NULL;
        q->context = c;
        if (caller_copy(caller, &q->caller) < 0 || !(q->target = strdup(target ? target : "")) ||
            !(q->action = strdup(action)) || worker_hold(c, caller->uid) < 0) {
                request_free(q, false);
                return NULL;
        }
        q->held = true;
        q->message = sd_bus_message_ref(m);
        return q;
}

int confirm_check_lock(Context *c, const Caller *caller, const char *action, const char *target,
                       sd_bus_error *error) {
        uint64_t until = 0, now = now_usec();
        unsigned failures = 0;
        int r;

        r = store_auth_locked(c->store, caller->login, now, &until, &failures);
        if (r <= 0)
                return r;
        (void) store_history_add(c->store, caller->login, action, target, "rate-limited");
        return sd_bus_error_setf(error, CR_ERROR_RATE_LIMITED,
                                 "too many failed confirmations by %s: try again in %llu minutes", caller->login,
                                 (unsigned long long) ((until - now) / (60 * USEC_PER_SEC) + 1));
}

/* How many more checks of the login may run now: never more guesses under
 * way than failures left before the lock, so that a burst of guesses cannot
 * get past the limit while a burst of good ones goes through. */
static unsigned free_slots(Context *c, const char *login) {
        uint64_t until = 0;
        unsigned failures = 0, pending = auth_pending(c, login);

        if (store_auth_locked(c->store, login, now_usec(), &until, &failures) != 0)
                return 0;
        return failures + pending < MAX_FAILURES ? MAX_FAILURES - failures - pending : 0;
}

/* Why a check could not start, for the caller. */
static int start_error(Context *c, int r, sd_bus_error *error) {
        if (r == -EAGAIN)
                return sd_bus_error_setf(error, CR_ERROR_BUSY,
                                         "the service has %u confirmations under way: try again in 1 s",
                                         auth_pending(c, NULL));
        return sd_bus_error_set_errnof(error, r, "the confirmation could not be started: %m");
}

/* Answers q after its check failed; failures is the count after this
 * guess, which the caller recorded once for every request sharing it. */
static void refused(Context *c, Request *q, AuthResult result, unsigned failures) {
        if (result == AUTH_ERROR) {
                (void) store_history_add(c->store, q->caller.login, "confirm", q->target, "error");
                (void) sd_bus_reply_method_errorf(q->message, SD_BUS_ERROR_FAILED,
                                                  "the confirmation password could not be checked");
                return;
        }
        (void) store_history_add(c->store, q->caller.login, "confirm", q->target,
                                 result == AUTH_ACCOUNT_REFUSED ? "account-refused" : "failed");
        log_event(LOG_WARNING, CR_MESSAGE_CONFIRMATION_FAILED, "CERTREVOKE_ACTOR", q->caller.login,
                  "CERTREVOKE_LOGIN", q->target, "confirmation of %s failed (%u in a row) acting on %s",
                  q->caller.login, failures, q->target);
        (void) sd_bus_reply_method_errorf(q->message, CR_ERROR_AUTHENTICATION_FAILED,
                                          result == AUTH_ACCOUNT_REFUSED
                                          ? "the account of %s may not confirm this"
                                          : "the confirmation password of %s is wrong", q->caller.login);
}

/* Hands q the result of the check it waited for, and frees it. */
static void answer(Context *c, Request *q, AuthResult result, unsigned failures) {
        if (result != AUTH_OK) {
                refused(c, q, result, failures);
                request_free(q, true);
                return;
        }
        /* a joined request's done records this with its change */
        if (!q->joined)
                (void) confirm_record_ok(c, &q->caller, q->target);
        q->done(c, q->message, &q->caller, q->userdata);
        request_free(q, false);
}

static void dequeue(Context *c, const char *login);

static void checks_unlink(Context *c, Request *q) {
        for (Request **p = &c->confirm_checks; *p; p = &(*p)->next)
                if (*p == q) {
                        *p = q->next;
                        break;
                }
        q->next = NULL;
}

/* The check of q ended: q and every request that shared it get the same
 * answer, each its own reply and history row; a failure counts once. */
static void on_auth(Context *c, AuthResult result, void *userdata) {
        Request *q = userdata, *sharers;
        _cleanup_free_ char *login = strdup(q->caller.login);
        unsigned failures = 0;

        checks_unlink(c, q);
        q->password = NULL;
        sharers = TAKE_PTR(q->sharers);
        if (result == AUTH_FAILED || result == AUTH_ACCOUNT_REFUSED)
                (void) store_auth_failed(c->store, q->caller.login, now_usec(), MAX_FAILURES, LOCK_USEC,
                                         &failures);
        answer(c, q, result, failures);
        while (sharers) {
                Request *s = sharers;

                sharers = s->next;
                s->next = NULL;
                answer(c, s, result, failures);
        }
        if (login)
                dequeue(c, login);
}

/* The confirmation password, argument password_index of the message: it
 * points into the message, which sd-bus wipes when it is freed, and is
 * valid as long as the request holds it. */
static int read_password(Request *q, const char **ret) {
        const char *password = NULL;
        int r;

        if ((r = sd_bus_message_rewind(q->message, true)) < 0)
                return r;
        /* the arguments before it may be of any type (RevokeCertificates
         * has an array of targets first) */
        for (unsigned i = 0; i < q->password_index; i++)
                if ((r = sd_bus_message_skip(q->message, NULL)) < 0)
                        return r;
        if ((r = sd_bus_message_read_basic(q->message, 's', &password)) <= 0)
                return r < 0 ? r : -EBADMSG;
        *ret = password;
        return 0;
}

/* Byte for byte equal, in a time that depends on the lengths only. */
static bool same_password(const char *a, const char *b) {
        size_t n = strlen(a);

        if (n != strlen(b))
                return false;
        return CRYPTO_memcmp(a, b, n) == 0;
}

/* The request whose check of q's login and password is under way, if any. */
static Request *check_to_share(Context *c, Request *q) {
        const char *password = NULL;

        if (read_password(q, &password) < 0)
                return NULL;    /* start() says why */
        for (Request *l = c->confirm_checks; l; l = l->next)
                if (streq_ptr(l->caller.login, q->caller.login) && same_password(l->password, password))
                        return l;
        return NULL;
}

/* q waits for l's check and takes no turn: it is the same guess. */
static void share_check(Request *l, Request *q) {
        Request **p = &l->sharers;

        assert(l->password);
        while (*p)
                p = &(*p)->next;
        q->next = NULL;
        *p = q;
        log_debug("confirm: a confirmation by %s acting on %s shares the check under way", q->caller.login,
                  q->target);
}

static int start(Context *c, Request *q) {
        const char *password = NULL;
        int r;

        /* the message is SENSITIVE: sd-bus wipes the password when it is freed */
        if ((r = read_password(q, &password)) < 0)
                return r;
        r = auth_check(c, q->caller.login, password, on_auth, q);
        if (r == -EAGAIN)
                return r;       /* as many as may run: the caller hears Busy */
        if (r < 0)
                return log_error_errno(r, "auth: cannot start the PAM helper: %m");
        /* others may compare theirs with it until on_auth */
        q->password = password;
        q->next = c->confirm_checks;
        c->confirm_checks = q;
        return 0;
}

/* At the end: the queue is bounded by the callers' shares. */
static void enqueue(Context *c, Request *q) {
        Request **p = &c->confirm_queue;

        while (*p)
                p = &(*p)->next;
        q->next = NULL;
        *p = q;
}

/* Starts what waited for login's turns, in order, and lets what has the
 * password of a check now under way share it; what the lock now refuses is
 * answered so. */
static void dequeue(Context *c, const char *login) {
        for (Request **p = &c->confirm_queue; *p;) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                Request *q = *p, *l = NULL;
                int r;

                if (!streq_ptr(q->caller.login, login)) {
                        p = &q->next;
                        continue;
                }
                r = confirm_check_lock(c, &q->caller, q->action, q->target, &error);
                if (r == 0 && !(l = check_to_share(c, q)) && free_slots(c, login) == 0) {
                        p = &q->next;
                        continue;
                }
                *p = q->next;
                q->next = NULL;
                if (l) {
                        share_check(l, q);
                        continue;
                }
                if (r == 0 && (r = start(c, q)) >= 0)
                        continue;
                if (!sd_bus_error_is_set(&error))
                        (void) start_error(c, r, &error);
                (void) sd_bus_reply_method_error(q->message, &error);
                request_free(q, true);
        }
}

int confirm_record_ok(Context *c, const Caller *caller, const char *target) {
        int r;

        r = store_auth_succeeded(c->store, caller->login);
        if (r < 0)
                return r;
        return store_history_add(c->store, caller->login, "confirm", target, "ok");
}

static int request(Context *c, sd_bus_message *m, const Caller *caller, const char *action, const char *target,
                   unsigned password_index, bool joined, confirm_done_fn done, void (*free_userdata)(void *),
                   void *userdata, sd_bus_error *error) {
        Request *q, *l;
        int r;

        assert(c);
        assert(m);
        assert(caller);
        assert(done);
        if (!caller->login)
                return sd_bus_error_setf(error, CR_ERROR_ACCESS_DENIED, "UID %u is no user of certrevoke",
                                         (unsigned) caller->uid);
        if ((r = confirm_check_lock(c, caller, action, target, error)) != 0)
                return r < 0 ? r : -EBUSY;
        if (!(q = request_new(c, m, caller, action, target)))
                return -ENOMEM;
        q->password_index = password_index;
        q->joined = joined;
        q->done = done;
        q->free_userdata = free_userdata;
        q->userdata = userdata;
        if ((l = check_to_share(c, q))) {
                share_check(l, q);
                return 1;
        }
        if (free_slots(c, caller->login) == 0) {
                enqueue(c, q);
                return 1;
        }
        r = start(c, q);
        if (r < 0) {
                request_free(q, false);
                return start_error(c, r, error);
        }
        return 1;
}

int confirm_request(Context *c, sd_bus_message *m, const Caller *caller, const char *action, const char *target,
                    unsigned password_index, confirm_done_fn done, void (*free_userdata)(void *),
                    void *userdata, sd_bus_error *error) {
        return request(c, m, caller, action, target, password_index, false, done, free_userdata, userdata, error);
}

int confirm_request_joined(Context *c, sd_bus_message *m, const Caller *caller, const char *action,
                           const char *target, unsigned password_index, confirm_done_fn done,
                           void (*free_userdata)(void *), void *userdata, sd_bus_error *error) {
        return request(c, m, caller, action, target, password_index, true, done, free_userdata, userdata, error);
}

void confirm_drop_queue(Context *c) {
        while (c->confirm_queue) {
                Request *q = c->confirm_queue;

                c->confirm_queue = q->next;
                request_free(q, true);
        }
}
