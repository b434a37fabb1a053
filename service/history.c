/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Upkeep of the operation history off the loop.  Each worker job takes one
 * short step (one pruning transaction, or one stretch of the chain) and the
 * next is queued from the loop, so that no job holds a thread or a writer
 * for long and an exit stops between steps. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>

#include "certrevoke.h"
#include "history.h"
#include "log.h"
#include "util.h"
#include "worker.h"

#define PRUNE_PERIOD_USEC (3600 * USEC_PER_SEC)
/* A few milliseconds of hashing. */
#define VERIFY_STEP_ROWS 20000
/* A pruning step under way when a walk starts may still end: it deletes
 * fewer rows than the walk's first step reads, so the walk never needs a
 * row it deleted.  Later pruning steps wait for the walk. */
_Static_assert(STORE_PRUNE_BATCH < VERIFY_STEP_ROWS, "a pruning step could overtake a walk");
#define VERIFY_RETRY_SEC 5

struct History {
        Context *context;
        sd_event_source *prune_timer;   /* when the loop starts, then hourly */
        sd_event_source *flush_timer;   /* when held refusals fall due */
        uint64_t appended;              /* rows written since pruning last started */
        bool pruning;
        bool prune_wanted;              /* asked for while pruning or walking: go when that ends */
        bool verifying;
};

typedef struct PruneJob {
        History *history;
        char *dir;
        uint64_t max_age_usec, max_entries, now_usec;
        bool scheduled;                 /* at start or hourly, not after new rows: worth a line in the log */
        HistoryPrune prune;
        bool opened;
        int r;
} PruneJob;

typedef struct VerifyJob {
        History *history;
        sd_bus_message *message;
        char *dir;
        HistoryWalk walk;
        bool opened;
        int r;
} VerifyJob;

/* Jobs go on only while the loop runs: at exit, the step under way ends
 * and nothing follows. */
static bool loop_running(Context *c) {
        return sd_event_get_state(c->event) == SD_EVENT_RUNNING;
}

/* About 1% of MaxEntries, so that the count stays near it without a
 * pruning per row when it is large. */
static uint64_t prune_every(const Config *config) {
        uint64_t n = config->history_max_entries / 100;

        return n < 1 ? 1 : n > 1000 ? 1000 : n;
}

static void prune_job_free(PruneJob *j) {
        if (!j)
                return;
        store_history_prune_close(&j->prune);
        free(j->dir);
        free(j);
}

static void prune_work(void *data) {
        PruneJob *j = data;

        if (!j->opened) {
                j->r = store_history_prune_open(j->dir, j->max_age_usec, j->max_entries, j->now_usec, &j->prune);
                if (j->r < 0)
                        return;
                j->opened = true;
        }
        j->r = store_history_prune_step(&j->prune);
}

static void prune_start(History *h, bool scheduled);

static void prune_done(Context *c, void *data) {
        PruneJob *j = data;
        History *h = j->history;
        int r;

        assert(h == c->history);
        if (j->r >= 0 && !j->prune.done && loop_running(c) && !h->verifying) {
                r = worker_run(c, prune_work, prune_done, j);
                if (r >= 0)
                        return;
                j->r = r;
        }
        if (j->r < 0)
                log_warning_errno(j->r, "history: pruning stopped: %m");
        else if (j->prune.deleted > 0)
                log_full(j->scheduled ? LOG_INFO : LOG_DEBUG, "history: pruned %" PRIu64 " old entries",
                         j->prune.deleted);
        /* a walk under way pauses pruning; what is left goes after it */
        if (j->r >= 0 && !j->prune.done)
                h->prune_wanted = true;
        prune_job_free(j);
        h->pruning = false;
        if (h->prune_wanted && loop_running(c) && !h->verifying)
                prune_start(h, false);
}

static int prune_job_new(History *h, bool scheduled, PruneJob **ret) {
        const Config *config = &h->context->config;
        PruneJob *j = calloc(1, sizeof *j);

        if (!j)
                return -ENOMEM;
        *j = (PruneJob) {
                .history = h,
                .dir = strdup(config->state_directory),
                .max_age_usec = config->history_max_age_usec,
                .max_entries = config->history_max_entries,
                .now_usec = now_usec(),
                .scheduled = scheduled,
        };
        if (!j->dir) {
                prune_job_free(j);
                return -ENOMEM;
        }
        *ret = j;
        return 0;
}

static void prune_start(History *h, bool scheduled) {
        PruneJob *j = NULL;
        int r;

        if (h->pruning || h->verifying || !loop_running(h->context)) {
                h->prune_wanted = true;
                return;
        }
        r = prune_job_new(h, scheduled, &j);
        if (r >= 0)
                r = worker_run(h->context, prune_work, prune_done, j);
        if (r < 0) {
                log_warning_errno(r, "history: cannot start pruning: %m");
                prune_job_free(j);
                return;
        }
        h->pruning = true;
        h->prune_wanted = false;
        h->appended = 0;
}

static int on_prune_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        History *h = userdata;
        int r;

        (void) usec;
        prune_start(h, true);
        r = sd_event_source_set_time_relative(s, PRUNE_PERIOD_USEC);
        if (r < 0)
                return log_warning_errno(r, "history: cannot schedule the next pruning: %m");
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* The flush timer follows the earliest interval that holds refusals. */
static void flush_schedule(History *h) {
        uint64_t due = store_history_held_due(h->context->store);
        int r;

        if (due == 0) {
                (void) sd_event_source_set_enabled(h->flush_timer, SD_EVENT_OFF);
                return;
        }
        r = sd_event_source_set_time(h->flush_timer, due);
        if (r >= 0)
                r = sd_event_source_set_enabled(h->flush_timer, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "history: cannot schedule writing held refusals: %m");
}

static int on_flush_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        History *h = userdata;
        uint64_t now;
        int r;

        (void) usec;
        r = sd_event_now(sd_event_source_get_event(s), CLOCK_MONOTONIC, &now);
        if (r < 0)
                return log_warning_errno(r, "history: cannot read the clock: %m");
        (void) store_history_flush(h->context->store, now);
        flush_schedule(h);
        return 0;
}

static void on_history_changed(bool appended, void *userdata) {
        History *h = userdata;

        if (!appended) {
                flush_schedule(h);
                return;
        }
        if (++h->appended >= prune_every(&h->context->config))
                prune_start(h, false);
}

int history_setup(Context *c) {
        History *h;
        int r;

        assert(c->store && c->event && !c->history);
        if (!(h = calloc(1, sizeof *h)))
                return -ENOMEM;
        h->context = c;
        c->history = h;
        /* the first pruning goes once the loop runs */
        r = sd_event_add_time_relative(c->event, &h->prune_timer, CLOCK_MONOTONIC, 0, USEC_PER_SEC,
                                       on_prune_timer, h);
        if (r < 0)
                return log_error_errno(r, "history: cannot set up pruning: %m");
        r = sd_event_add_time(c->event, &h->flush_timer, CLOCK_MONOTONIC, 0, USEC_PER_SEC, on_flush_timer, h);
        if (r < 0)
                return log_error_errno(r, "history: cannot set up writing held refusals: %m");
        r = sd_event_source_set_enabled(h->flush_timer, SD_EVENT_OFF);
        if (r < 0)
                return log_error_errno(r, "history: cannot set up writing held refusals: %m");
        store_history_watch(c->store, on_history_changed, h);
        return 0;
}

void history_free(Context *c) {
        History *h = c->history;

        if (!h)
                return;
        /* jobs have ended by now: the workers were waited for */
        assert(!h->pruning && !h->verifying);
        if (c->store)
                store_history_watch(c->store, NULL, NULL);
        sd_event_source_disable_unref(h->prune_timer);
        sd_event_source_disable_unref(h->flush_timer);
        free(h);
        c->history = NULL;
}

static void verify_job_free(VerifyJob *j) {
        if (!j)
                return;
        store_history_walk_close(&j->walk);
        sd_bus_message_unref(j->message);
        free(j->dir);
        free(j);
}

static void verify_work(void *data) {
        VerifyJob *j = data;

        if (!j->opened) {
                j->r = store_history_walk_open(j->dir, &j->walk);
                if (j->r < 0)
                        return;
                j->opened = true;
        }
        j->r = store_history_walk_step(&j->walk, VERIFY_STEP_ROWS);
}

static int verify_reply(VerifyJob *j) {
        const HistoryWalk *w = &j->walk;

        if (j->r < 0)
                return sd_bus_reply_method_errnof(j->message, j->r, "the history could not be verified: %m");
        if (!w->done)
                return sd_bus_reply_method_errnof(j->message, ESHUTDOWN,
                                                  "the service stopped before the history was verified");
        if (w->why)
                log_warning("history: the chain does not verify: %s", w->why);
        return sd_bus_reply_method_return(j->message, "btts", !w->why, w->rows, (uint64_t) w->first_bad_id,
                                          w->why ? w->why : "");
}

static void verify_done(Context *c, void *data) {
        VerifyJob *j = data;
        History *h = j->history;
        int r;

        assert(h == c->history);
        if (j->r >= 0 && !j->walk.done && loop_running(c)) {
                r = worker_run(c, verify_work, verify_done, j);
                if (r >= 0)
                        return;
                j->r = r;
        }
        r = verify_reply(j);
        if (r < 0)
                log_warning_errno(r, "history: cannot answer VerifyHistory: %m");
        verify_job_free(j);
        h->verifying = false;
        if (h->prune_wanted && loop_running(c))
                prune_start(h, false);
}

int history_verify(Context *c, sd_bus_message *m, sd_bus_error *error) {
        History *h = c->history;
        VerifyJob *j;
        int r;

        assert(h);
        if (h->verifying)
                return sd_bus_error_setf(error, CR_ERROR_BUSY,
                                         "the history is being verified already: try again in %d s",
                                         VERIFY_RETRY_SEC);
        if (!(j = calloc(1, sizeof *j)))
                return -ENOMEM;
        j->history = h;
        j->message = sd_bus_message_ref(m);
        if (!(j->dir = strdup(c->config.state_directory))) {
                verify_job_free(j);
                return -ENOMEM;
        }
        r = worker_run(c, verify_work, verify_done, j);
        if (r < 0) {
                verify_job_free(j);
                return log_error_errno(r, "history: cannot start verifying: %m");
        }
        h->verifying = true;
        return 1;
}
