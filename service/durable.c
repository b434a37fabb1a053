/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The group commit of durable.h.  One sync runs at a time; what arrives
 * meanwhile waits for the next, which the end of the running one starts,
 * so that a sync never serves a change committed after it began. */
#include <assert.h>
#include <errno.h>

#include "durable.h"
#include "log.h"
#include "util.h"
#include "worker.h"

typedef struct Waiter {
        durable_done_fn done;
        void *userdata;
} Waiter;

typedef struct Batch {
        char *state_dir;
        Waiter *v;
        size_t n;
        int result;
} Batch;

struct Durable {
        Waiter *waiting;        /* arrived since the running sync began */
        size_t n, allocated;
        bool running;
};

static void batch_free(Batch *b) {
        if (!b)
                return;
        free(b->state_dir);
        free(b->v);
        free(b);
}

static void batch_complete(Context *c, Batch *b) {
        if (b->result < 0)
                log_error_errno(b->result, "store: cannot sync the write-ahead log: %m");
        for (size_t i = 0; i < b->n; i++)
                b->v[i].done(c, b->result, b->v[i].userdata);
}

static void sync_work(void *userdata) {
        Batch *b = userdata;

        b->result = store_sync_log(b->state_dir);
}

static int start(Context *c);

static void sync_done(Context *c, void *userdata) {
        Batch *b = userdata;

        c->durable->running = false;
        batch_complete(c, b);
        batch_free(b);
        if (c->durable->n > 0)
                (void) start(c);
}

/* Takes every waiter into a batch of its own. */
static Batch *take_batch(Context *c) {
        Durable *d = c->durable;
        Batch *b = calloc(1, sizeof *b);

        if (!b)
                return NULL;
        b->state_dir = strdup(c->config.state_directory);
        if (!b->state_dir) {
                free(b);
                return NULL;
        }
        b->v = TAKE_PTR(d->waiting);
        b->n = d->n;
        d->n = d->allocated = 0;
        return b;
}

static int start(Context *c) {
        Durable *d = c->durable;
        Batch *b;
        int r;

        assert(!d->running && d->n > 0);
        b = take_batch(c);
        if (!b)
                return -ENOMEM;
        if (c->pool) {
                d->running = true;
                r = worker_run(c, sync_work, sync_done, b);
                if (r >= 0)
                        return 0;
                d->running = false;
        }
        /* no pool (at exit), or it took no job: the loop syncs, once */
        sync_work(b);
        batch_complete(c, b);
        batch_free(b);
        return 0;
}

int durable_after(Context *c, durable_done_fn done, void *userdata) {
        Durable *d = c->durable;

        assert(done);
        if (!d && !(d = c->durable = calloc(1, sizeof *d)))
                return -ENOMEM;
        if (grow_array((void **) &d->waiting, &d->allocated, d->n + 1, sizeof *d->waiting) < 0)
                return -ENOMEM;
        d->waiting[d->n++] = (Waiter) { .done = done, .userdata = userdata };
        return d->running ? 0 : start(c);
}

typedef struct Reply {
        sd_bus_message *call, *reply;
} Reply;

static void reply_done(Context *c, int result, void *userdata) {
        Reply *rp = userdata;

        (void) c;
        if (result < 0)
                (void) sd_bus_reply_method_errnof(rp->call, result,
                                                  "the change is recorded, but the store cannot make it durable: %m");
        else
                (void) sd_bus_send(NULL, rp->reply, NULL);
        sd_bus_message_unref(rp->call);
        sd_bus_message_unref(rp->reply);
        free(rp);
}

int durable_reply(Context *c, sd_bus_message *call, sd_bus_message *reply) {
        Reply *rp = calloc(1, sizeof *rp);
        int r;

        if (!rp)
                return -ENOMEM;
        rp->call = sd_bus_message_ref(call);
        rp->reply = sd_bus_message_ref(reply);
        r = durable_after(c, reply_done, rp);
        if (r < 0) {
                sd_bus_message_unref(rp->call);
                sd_bus_message_unref(rp->reply);
                free(rp);
                return r;
        }
        return 1;
}

int durable_reply_empty(Context *c, sd_bus_message *call) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(call, &reply);
        if (r < 0)
                return r;
        return durable_reply(c, call, reply);
}

void durable_free(Context *c) {
        Durable *d = c->durable;

        if (!d)
                return;
        assert(!d->running);
        if (d->n > 0)
                (void) start(c);
        free(d->waiting);
        free(d);
        c->durable = NULL;
}
