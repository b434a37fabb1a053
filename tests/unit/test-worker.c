/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The worker pool on a real sd-event loop and real threads: work off the
 * loop and done on it, a fixed number of threads, the service's work first,
 * callers in turn and one job of a caller at a time, a bounded queue, and
 * everything run to its end at exit; then each caller's share (calls under
 * way, and the token bucket, on a clock the test sets). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "certrevoke.h"
#include "check.h"
#include "util.h"
#include "worker.h"

#define MSEC 1000ULL

static Context ctx;
static pthread_t loop_thread;

/* Jobs that wait for the test to let them go. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static atomic_uint started_seq;

typedef struct Job {
        uid_t owner;
        bool gated;
        bool released;          /* under gate_lock */
        atomic_bool started;
        unsigned start_order;
        pthread_t thread;
        int dones;
        bool done_on_loop;
        struct Job *then;       /* queued by done, for the drain */
} Job;

/* Jobs of each owner running at once, and the most seen. */
static atomic_int running_of[4], most_of[4];

static unsigned slot(uid_t owner) {
        return owner == WORKER_OWNER_SERVICE ? 0 : owner / 1000;
}

static uint64_t mono_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static void work(void *data) {
        Job *j = data;
        unsigned s = slot(j->owner);
        int now = atomic_fetch_add(&running_of[s], 1) + 1;

        for (int most = atomic_load(&most_of[s]); now > most && !atomic_compare_exchange_weak(&most_of[s], &most, now);)
                ;
        j->thread = pthread_self();
        j->start_order = atomic_fetch_add(&started_seq, 1);
        atomic_store(&j->started, true);
        if (j->gated) {
                pthread_mutex_lock(&gate_lock);
                while (!j->released)
                        pthread_cond_wait(&gate_cond, &gate_lock);
                pthread_mutex_unlock(&gate_lock);
        }
        atomic_fetch_sub(&running_of[s], 1);
}

static void done(Context *c, void *data) {
        Job *j = data;

        j->dones++;
        j->done_on_loop = pthread_equal(pthread_self(), loop_thread) && c == &ctx;
        if (j->then)
                (void) worker_run_as(c, j->then->owner, work, done, j->then);
}

static void release(Job *j) {
        pthread_mutex_lock(&gate_lock);
        j->released = true;
        pthread_cond_broadcast(&gate_cond);
        pthread_mutex_unlock(&gate_lock);
}

static int run(Job *j) {
        return worker_run_as(&ctx, j->owner, work, done, j);
}

/* Turns the loop until cond(arg) or 10 s passed. */
static bool loop_until(bool (*cond)(void *arg), void *arg) {
        uint64_t end = mono_usec() + 10 * USEC_PER_SEC;

        while (!cond(arg)) {
                if (mono_usec() >= end)
                        return false;
                (void) sd_event_run(ctx.event, 10 * MSEC);
        }
        return true;
}

static bool is_started(void *arg) {
        return atomic_load(&((Job *) arg)->started);
}

static bool is_done(void *arg) {
        return ((Job *) arg)->dones > 0;
}

static bool all_done(void *arg) {
        (void) arg;
        return worker_jobs_all(&ctx) == 0;
}

static void reset_counters(void) {
        for (size_t i = 0; i < ELEMENTSOF(running_of); i++) {
                atomic_store(&running_of[i], 0);
                atomic_store(&most_of[i], 0);
        }
        atomic_store(&started_seq, 0);
}

static void test_off_the_loop(void) {
        Job jobs[20] = {};
        size_t n_other = 0, n_done_on_loop = 0;
        pthread_t seen[3];
        size_t n_seen = 0;

        reset_counters();
        for (size_t i = 0; i < ELEMENTSOF(jobs); i++) {
                jobs[i].owner = WORKER_OWNER_SERVICE;
                CHECK(worker_run(&ctx, work, done, &jobs[i]) == 0, "service job %zu queued", i);
        }
        CHECK(loop_until(all_done, NULL), "every job finished");
        for (size_t i = 0; i < ELEMENTSOF(jobs); i++) {
                bool known = false;

                n_other += !pthread_equal(jobs[i].thread, loop_thread);
                n_done_on_loop += jobs[i].dones == 1 && jobs[i].done_on_loop;
                for (size_t k = 0; k < n_seen; k++)
                        known = known || pthread_equal(seen[k], jobs[i].thread);
                if (!known && n_seen < ELEMENTSOF(seen))
                        seen[n_seen++] = jobs[i].thread;
        }
        CHECK(n_other == ELEMENTSOF(jobs), "work ran off the loop's thread (%zu of %zu)", n_other, ELEMENTSOF(jobs));
        CHECK(n_done_on_loop == ELEMENTSOF(jobs), "each done ran once, on the loop (%zu)", n_done_on_loop);
        CHECK(n_seen <= WORKER_THREADS, "no more threads than the pool has (%zu)", n_seen);
}

/* A caller with many jobs waiting takes one thread; another caller gets
 * the other at once. */
static void test_one_caller_cannot_take_every_thread(void) {
        Job a[6] = {}, b = { .owner = 2000 };

        reset_counters();
        for (size_t i = 0; i < ELEMENTSOF(a); i++) {
                a[i] = (Job) { .owner = 1000, .gated = true };
                CHECK(run(&a[i]) == 0, "caller 1000's job %zu queued", i);
        }
        CHECK(loop_until(is_started, &a[0]), "caller 1000's first job runs");
        CHECK(run(&b) == 0, "caller 2000's job queued behind five of 1000's");
        CHECK(loop_until(is_done, &b), "caller 2000's job is done while 1000's first still runs");
        CHECK(!atomic_load(&a[1].started), "caller 1000's second job did not take the other thread");
        CHECK(worker_jobs(&ctx, 1000) == ELEMENTSOF(a) && worker_jobs(&ctx, 2000) == 0,
              "jobs counted per caller (%u, %u)", worker_jobs(&ctx, 1000), worker_jobs(&ctx, 2000));
        for (size_t i = 0; i < ELEMENTSOF(a); i++)
                release(&a[i]);
        CHECK(loop_until(all_done, NULL), "caller 1000's jobs all finished");
        CHECK(atomic_load(&most_of[1]) == 1, "one job of a caller at a time (%d)", atomic_load(&most_of[1]));
        for (size_t i = 1; i < ELEMENTSOF(a); i++)
                CHECK(a[i].start_order > a[i - 1].start_order, "a caller's jobs run in order (%zu)", i);
}

/* Both threads busy, three callers with three jobs each and then the
 * service's: the service's goes first, then the callers take turns. */
static void test_service_first_then_turns(void) {
        Job block[2] = { { .owner = WORKER_OWNER_SERVICE, .gated = true }, { .owner = WORKER_OWNER_SERVICE, .gated = true } };
        Job callers[3][3] = {}, service = { .owner = WORKER_OWNER_SERVICE };
        bool turns = true;

        for (size_t i = 0; i < 2; i++) {
                CHECK(worker_run(&ctx, work, done, &block[i]) == 0, "blocking service job %zu queued", i);
                CHECK(loop_until(is_started, &block[i]), "blocking service job %zu runs", i);
        }
        for (size_t k = 0; k < 3; k++)
                for (size_t o = 0; o < 3; o++) {
                        callers[o][k] = (Job) { .owner = (uid_t) (1000 * (o + 1)) };
                        CHECK(run(&callers[o][k]) == 0, "caller %u's job %zu queued", callers[o][k].owner, k);
                }
        CHECK(worker_run(&ctx, work, done, &service) == 0, "a service job queued last");
        reset_counters();
        release(&block[0]);
        release(&block[1]);
        CHECK(loop_until(all_done, NULL), "everything finished");
        CHECK(service.start_order == 0, "the service's job went first (start %u)", service.start_order);
        /* each caller's first job before any caller's second */
        for (size_t o = 0; o < 3; o++)
                for (size_t p = 0; p < 3; p++)
                        turns = turns && callers[o][0].start_order < callers[p][1].start_order;
        CHECK(turns, "callers take turns: A1 %u B1 %u C1 %u, A2 %u B2 %u C2 %u", callers[0][0].start_order,
              callers[1][0].start_order, callers[2][0].start_order, callers[0][1].start_order,
              callers[1][1].start_order, callers[2][1].start_order);
}

static void test_bounded_queue(void) {
        static Job jobs[WORKER_QUEUE_MAX + 1];
        Job extra = { .owner = 3000 }, service = { .owner = WORKER_OWNER_SERVICE };
        size_t queued = 0;

        for (size_t i = 0; i < ELEMENTSOF(jobs); i++) {
                jobs[i] = (Job) { .owner = (uid_t) (1000 + i % 2 * 1000), .gated = true };
                if (run(&jobs[i]) == 0)
                        queued++;
        }
        CHECK(queued == WORKER_QUEUE_MAX, "%zu callers' jobs queued, no more (%d)", queued, WORKER_QUEUE_MAX);
        CHECK(run(&extra) == -EBUSY, "another caller's job is refused: -EBUSY");
        CHECK(worker_run(&ctx, work, done, &service) == 0, "the service's own job is still taken");
        for (size_t i = 0; i < ELEMENTSOF(jobs); i++)
                release(&jobs[i]);
        CHECK(loop_until(all_done, NULL), "the queue drains");
        CHECK(jobs[WORKER_QUEUE_MAX].dones == 0 && extra.dones == 0 && service.dones == 1,
              "refused jobs never run, their done is not called");
        CHECK(run(&extra) == 0 && loop_until(is_done, &extra), "with room again, a job is taken");
}

static int busy_seconds(const sd_bus_error *e) {
        const char *at = e->message ? strstr(e->message, "try again in ") : NULL;
        unsigned n;

        if (!sd_bus_error_has_name(e, CR_ERROR_BUSY) || !at || sscanf(at, "try again in %u s", &n) != 1)
                return -1;
        return (int) n;
}

/* Refused: Busy, and "try again in N s" with N as given (0: any). */
static bool refused(uid_t uid, CrRole role, uint64_t now, int seconds, const char *why) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = worker_admit_at(&ctx, uid, role, now, &e);
        int n = busy_seconds(&e);

        if (r >= 0 || n < 1 || (seconds && n != seconds) || !strstr(e.message, why)) {
                printf("    r %d, %s: %s\n", r, e.name ? e.name : "-", e.message ? e.message : "-");
                return false;
        }
        return true;
}

static bool admitted(uid_t uid, CrRole role, uint64_t now) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = worker_admit_at(&ctx, uid, role, now, &e);

        if (r < 0)
                printf("    r %d: %s\n", r, e.message ? e.message : "-");
        return r == 0 && !sd_bus_error_is_set(&e);
}

static unsigned admit_all(uid_t uid, CrRole role, uint64_t now, unsigned tries) {
        unsigned n = 0;

        for (unsigned i = 0; i < tries; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                n += worker_admit_at(&ctx, uid, role, now, &e) == 0;
        }
        return n;
}

/* The token bucket of one caller, on a clock the test sets. */
static void check_budget(uid_t uid, CrRole role, unsigned burst, uint64_t interval, const char *who) {
        uint64_t t0 = mono_usec() + 1000 * USEC_PER_SEC;

        CHECK(admit_all(uid, role, t0, burst) == burst, "%s: a burst of %u is admitted", who, burst);
        CHECK(refused(uid, role, t0, 1, "used up its share"), "%s: the next is Busy: try again in 1 s", who);
        CHECK(refused(uid, role, t0 + interval - 1, 1, "used up its share"), "%s: and until an interval passed", who);
        CHECK(admitted(uid + 1, role, t0), "%s: another caller has a budget of its own", who);
        CHECK(admitted(uid, role, t0 + interval), "%s: one more after an interval", who);
        CHECK(refused(uid, role, t0 + interval, 1, "used up its share"), "%s: and only one", who);
        /* refusals spent nothing: after two more intervals, two more */
        CHECK(admit_all(uid, role, t0 + 3 * interval, 5) == 2, "%s: refusals cost nothing", who);
        CHECK(admit_all(uid, role, t0 + 1000 * USEC_PER_SEC, 1000) == burst,
              "%s: after a quiet while, a full burst again and no more", who);
}

static void test_budget(void) {
        uint64_t t0 = mono_usec() + 1000 * USEC_PER_SEC;

        check_budget(1011, CR_ROLE_GENERAL, WORKER_SHARE_BURST, WORKER_SHARE_INTERVAL_USEC, "general user");
        check_budget(1021, CR_ROLE_WORKER, WORKER_SHARE_BURST, WORKER_SHARE_INTERVAL_USEC, "worker user");
        check_budget(1031, _CR_ROLE_INVALID, WORKER_SHARE_BURST, WORKER_SHARE_INTERVAL_USEC, "no user");
        check_budget(1041, CR_ROLE_ADMIN, WORKER_SHARE_PRIVILEGED_BURST, WORKER_SHARE_PRIVILEGED_INTERVAL_USEC,
                     "administrator");
        check_budget(1051, CR_ROLE_MASTER, WORKER_SHARE_PRIVILEGED_BURST, WORKER_SHARE_PRIVILEGED_INTERVAL_USEC,
                     "master");
        CHECK(USEC_PER_SEC / WORKER_SHARE_INTERVAL_USEC < 10, "a general user gets fewer than ten a second");
        CHECK(admit_all(0, CR_ROLE_MASTER, t0, 1000) == 1000, "root has no budget to use up");
}

static void test_in_flight(void) {
        uint64_t t0 = mono_usec() + 2000 * USEC_PER_SEC;
        Job jobs[WORKER_SHARE_IN_FLIGHT] = {};
        bool all = true;

        for (unsigned i = 0; i < WORKER_SHARE_IN_FLIGHT; i++)
                all = all && admitted(1002, CR_ROLE_GENERAL, t0) && worker_hold(&ctx, 1002) == 0;
        CHECK(all, "%d calls held for a PAM check", WORKER_SHARE_IN_FLIGHT);
        CHECK(refused(1002, CR_ROLE_GENERAL, t0, 1, "under way already"), "one more is Busy: try again in 1 s");
        worker_unhold(&ctx, 1002);
        CHECK(admitted(1002, CR_ROLE_GENERAL, t0) && worker_hold(&ctx, 1002) == 0, "one done, one more admitted");
        for (unsigned i = 0; i < WORKER_SHARE_IN_FLIGHT; i++)
                worker_unhold(&ctx, 1002);

        /* an administrator's batch is confirmed together, up to its own bound */
        for (unsigned i = 0; i < WORKER_SHARE_PRIVILEGED_IN_FLIGHT; i++)
                all = all && admitted(1005, CR_ROLE_ADMIN, t0) && worker_hold(&ctx, 1005) == 0;
        CHECK(all, "%d calls of an admin held at once", WORKER_SHARE_PRIVILEGED_IN_FLIGHT);
        CHECK(refused(1005, CR_ROLE_ADMIN, t0, 1, "under way already"), "one more of the admin's is Busy");
        for (unsigned i = 0; i < WORKER_SHARE_PRIVILEGED_IN_FLIGHT; i++)
                worker_unhold(&ctx, 1005);

        /* jobs in the pool count as under way until their done ran */
        for (unsigned i = 0; i < WORKER_SHARE_IN_FLIGHT; i++) {
                jobs[i] = (Job) { .owner = 1003, .gated = true };
                all = all && admitted(1003, CR_ROLE_GENERAL, t0) && run(&jobs[i]) == 0;
        }
        CHECK(all, "%d jobs of a caller queued", WORKER_SHARE_IN_FLIGHT);
        CHECK(refused(1003, CR_ROLE_GENERAL, t0, 1, "under way already"), "one more call is Busy");
        for (unsigned i = 0; i < WORKER_SHARE_IN_FLIGHT; i++)
                release(&jobs[i]);
        CHECK(loop_until(all_done, NULL) && admitted(1003, CR_ROLE_GENERAL, t0), "when they are done, a call is admitted");

        /* the service's bound over every caller, root's too */
        for (unsigned i = 0; i < WORKER_QUEUE_MAX; i++)
                all = all && worker_hold(&ctx, (uid_t) (5000 + i)) == 0;
        CHECK(all, "%d calls of as many callers held", WORKER_QUEUE_MAX);
        CHECK(refused(1004, CR_ROLE_ADMIN, t0, 1, "the service has"), "a fresh caller is Busy while the service is full");
        CHECK(refused(0, CR_ROLE_MASTER, t0, 1, "the service has"), "root too");
        for (unsigned i = 0; i < WORKER_QUEUE_MAX; i++)
                worker_unhold(&ctx, (uid_t) (5000 + i));
        CHECK(admitted(1004, CR_ROLE_ADMIN, t0), "with room again, admitted");
}

/* At exit every job runs to its end, with its done, and so does a job
 * that a done queued. */
static void test_drain_at_exit(void) {
        Job later = { .owner = 1000 }, first = { .owner = 1000, .then = &later };
        Job waiting[5] = {};

        CHECK(run(&first) == 0, "a job whose done queues another");
        for (size_t i = 0; i < ELEMENTSOF(waiting); i++) {
                waiting[i] = (Job) { .owner = (uid_t) (2000 + i % 2 * 1000) };
                CHECK(run(&waiting[i]) == 0, "job %zu queued", i);
        }
        worker_pool_free(&ctx);
        CHECK(!ctx.pool, "the pool is gone");
        CHECK(first.dones == 1 && later.dones == 1, "the done ran, and the job it queued ran too");
        for (size_t i = 0; i < ELEMENTSOF(waiting); i++)
                CHECK(waiting[i].dones == 1, "waiting job %zu ran to its end", i);
}

int main(void) {
        loop_thread = pthread_self();
        if (sd_event_new(&ctx.event) < 0 || worker_pool_new(&ctx, WORKER_THREADS) < 0) {
                printf("Bail out! cannot set up the loop and the pool\n");
                return 1;
        }
        test_off_the_loop();
        test_one_caller_cannot_take_every_thread();
        test_service_first_then_turns();
        test_bounded_queue();
        test_budget();
        test_in_flight();
        test_drain_at_exit();
        worker_pool_free(&ctx);
        ctx.event = sd_event_unref(ctx.event);
        return CHECK_EXIT();
}
