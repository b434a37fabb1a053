/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pool: a fixed number of threads take jobs from one queue that serves
 * the service's own work first and callers in turn, one job of a caller at
 * a time.  A thread that finished a job puts it on a list and wakes the
 * loop through an eventfd; the loop runs the job's done.
 *
 * The shares: per caller UID, the calls under way (held for a PAM check or
 * queued here) and a token bucket, kept as the time at which it is full
 * again (the generic cell rate algorithm): one number per caller, and a
 * caller whose bucket is full and who has nothing under way is forgotten. */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>

#include "certrevoke.h"
#include "log.h"
#include "worker.h"

/* A flood is noted in the journal once a minute, not once a call. */
#define LOG_INTERVAL_USEC (60 * USEC_PER_SEC)

typedef struct Share Share;

typedef struct Job {
        void (*work)(void *data);
        void (*done)(Context *c, void *data);
        void *data;
        Share *owner;           /* NULL: the service's own */
        struct Job *next;
} Job;

typedef struct JobQueue {
        Job *first, *last;
} JobQueue;

/* One caller's share.  The first fields belong to the loop's thread; the
 * rest to the pool, under its lock. */
struct Share {
        uid_t uid;
        uint64_t full_usec;     /* when the bucket is full again (CLOCK_MONOTONIC) */
        unsigned holds;         /* calls waiting for or in a PAM check */
        unsigned jobs;          /* jobs queued or running whose done has not run */
        uint64_t logged_usec;   /* when its refusal was last logged */
        Share *next;

        JobQueue waiting;
        bool running;           /* one of its jobs is on a thread */
        bool ready;             /* waiting for its turn */
        Share *ready_next;
};

struct WorkerPool {
        pthread_mutex_t lock;
        pthread_cond_t wake;            /* a job to take, or the end */
        pthread_cond_t settled;         /* a job finished */
        pthread_t *threads;
        unsigned n_threads;
        bool stopping;
        JobQueue service;               /* the service's own jobs */
        Share *ready_first, *ready_last;        /* callers with a job waiting, in turn */
        JobQueue finished;              /* their done is to run on the loop */
        unsigned n_waiting, n_running;

        /* the loop's */
        int efd;
        sd_event_source *io;
        Share *shares;
        unsigned n_holds, n_caller_jobs, n_jobs;
        uint64_t logged_usec;           /* when a full queue was last logged */
};

static void queue_push(JobQueue *q, Job *j) {
        j->next = NULL;
        if (q->last)
                q->last->next = j;
        else
                q->first = j;
        q->last = j;
}

static Job *queue_pop(JobQueue *q) {
        Job *j = q->first;

        if (!j)
                return NULL;
        q->first = j->next;
        if (!q->first)
                q->last = NULL;
        j->next = NULL;
        return j;
}

static void ready_append(WorkerPool *p, Share *s) {
        s->ready = true;
        s->ready_next = NULL;
        if (p->ready_last)
                p->ready_last->ready_next = s;
        else
                p->ready_first = s;
        p->ready_last = s;
}

static void ready_remove(WorkerPool *p, Share *s, Share *prev) {
        if (prev)
                prev->ready_next = s->ready_next;
        else
                p->ready_first = s->ready_next;
        if (p->ready_last == s)
                p->ready_last = prev;
        s->ready = false;
        s->ready_next = NULL;
}

/* Under the lock: the service's next job, else the first caller in turn
 * with nothing running, who goes to the end of the line. */
static Job *pick(WorkerPool *p) {
        Share *prev = NULL;
        Job *j = queue_pop(&p->service);

        if (j)
                return j;
        for (Share *s = p->ready_first; s; prev = s, s = s->ready_next) {
                if (s->running)
                        continue;
                j = queue_pop(&s->waiting);
                assert(j);
                ready_remove(p, s, prev);
                if (s->waiting.first)
                        ready_append(p, s);
                s->running = true;
                return j;
        }
        return NULL;
}

static void *thread_main(void *userdata) {
        WorkerPool *p = userdata;
        uint64_t one = 1;

        /* the loop answers callers: on a busy machine it gets the CPU
         * first (a nice value is per thread on Linux; threads this one
         * starts, such as a compaction, inherit it) */
        if (setpriority(PRIO_PROCESS, (id_t) gettid(), WORKER_NICE) < 0)
                (void) log_full_errno(LOG_DEBUG, errno, "worker: cannot lower the thread's priority: %m");

        for (;;) {
                Job *j;

                pthread_mutex_lock(&p->lock);
                while (!(j = pick(p)) && !p->stopping)
                        pthread_cond_wait(&p->wake, &p->lock);
                if (j) {
                        p->n_waiting--;
                        p->n_running++;
                }
                pthread_mutex_unlock(&p->lock);
                if (!j)
                        return NULL;

                j->work(j->data);

                pthread_mutex_lock(&p->lock);
                p->n_running--;
                if (j->owner)
                        j->owner->running = false;
                queue_push(&p->finished, j);
                /* the owner's next job may go to another thread now */
                pthread_cond_broadcast(&p->wake);
                pthread_cond_broadcast(&p->settled);
                pthread_mutex_unlock(&p->lock);
                /* the loop wakes on the counter; a failed write leaves the
                 * job for the next wake-up or the drain at exit */
                (void) !write(p->efd, &one, sizeof one);
        }
}

/* Frees the job and runs its done: done may queue more. */
static void job_done(Context *c, Job *j) {
        WorkerPool *p = c->pool;
        void (*done)(Context *c, void *data) = j->done;
        void *data = j->data;

        if (j->owner) {
                assert(j->owner->jobs > 0);
                j->owner->jobs--;
                p->n_caller_jobs--;
        }
        assert(p->n_jobs > 0);
        p->n_jobs--;
        free(j);
        done(c, data);
}

/* Runs the done of every finished job; whether there was one. */
static bool run_finished(Context *c) {
        WorkerPool *p = c->pool;
        JobQueue finished;
        Job *j;

        pthread_mutex_lock(&p->lock);
        finished = p->finished;
        p->finished = (JobQueue) {};
        pthread_mutex_unlock(&p->lock);
        if (!finished.first)
                return false;
        while ((j = queue_pop(&finished)))
                job_done(c, j);
        return true;
}

/* One finished job a turn of the loop: the calls that came meanwhile are
 * answered between two of them (they have the higher priority), rather
 * than after a build's replies and its token removals together. */
static int on_finished(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Context *c = userdata;
        WorkerPool *p = c->pool;
        uint64_t n, one = 1;
        bool more;
        Job *j;

        (void) s, (void) revents;
        (void) !read(fd, &n, sizeof n);
        pthread_mutex_lock(&p->lock);
        j = queue_pop(&p->finished);
        more = p->finished.first;
        pthread_mutex_unlock(&p->lock);
        if (more)
                (void) !write(fd, &one, sizeof one);
        if (j)
                job_done(c, j);
        return 0;
}

/* Waits for every job and runs every done, including of jobs that those
 * dones queue. */
static void drain(Context *c) {
        WorkerPool *p = c->pool;

        for (;;) {
                bool idle;

                pthread_mutex_lock(&p->lock);
                while (!p->finished.first && (p->n_waiting > 0 || p->n_running > 0))
                        pthread_cond_wait(&p->settled, &p->lock);
                idle = !p->finished.first;
                pthread_mutex_unlock(&p->lock);
                if (idle)
                        return;
                (void) run_finished(c);
        }
}

static void stop_threads(WorkerPool *p) {
        pthread_mutex_lock(&p->lock);
        p->stopping = true;
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
        for (unsigned i = 0; i < p->n_threads; i++)
                pthread_join(p->threads[i], NULL);
        p->n_threads = 0;
}

static void pool_free(WorkerPool *p) {
        if (!p)
                return;
        assert(p->n_threads == 0);
        while (p->shares) {
                Share *s = p->shares;

                p->shares = s->next;
                free(s);
        }
        sd_event_source_disable_unref(p->io);
        if (p->efd >= 0)
                close(p->efd);
        pthread_cond_destroy(&p->settled);
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        free(p->threads);
        free(p);
}

static int start_threads(WorkerPool *p, unsigned n) {
        int r;

        if (!(p->threads = calloc(n, sizeof *p->threads)))
                return -ENOMEM;
        for (; p->n_threads < n; p->n_threads++) {
                r = -pthread_create(&p->threads[p->n_threads], NULL, thread_main, p);
                if (r < 0) {
                        log_error_errno(r, "worker: cannot start thread %u of %u: %m", p->n_threads + 1, n);
                        stop_threads(p);
                        return r;
                }
        }
        return 0;
}

int worker_pool_new(Context *c, unsigned n_threads) {
        WorkerPool *p;
        int r;

        assert(c);
        assert(c->event);
        assert(!c->pool);
        assert(n_threads > 0);
        if (!(p = calloc(1, sizeof *p)))
                return -ENOMEM;
        p->efd = -1;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->wake, NULL);
        pthread_cond_init(&p->settled, NULL);
        p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (p->efd < 0) {
                r = log_error_errno(-errno, "worker: cannot create an eventfd: %m");
                pool_free(p);
                return r;
        }
        r = sd_event_add_io(c->event, &p->io, p->efd, EPOLLIN, on_finished, c);
        if (r >= 0)
                r = sd_event_source_set_priority(p->io, PRIORITY_WORK);
        if (r < 0) {
                log_error_errno(r, "worker: cannot watch the eventfd: %m");
                pool_free(p);
                return r;
        }
        r = start_threads(p, n_threads);
        if (r < 0) {
                pool_free(p);
                return r;
        }
        c->pool = p;
        return 0;
}

void worker_pool_free(Context *c) {
        WorkerPool *p = c->pool;

        if (!p)
                return;
        drain(c);
        stop_threads(p);
        assert(p->n_jobs == 0 && p->n_holds == 0);
        pool_free(p);
        c->pool = NULL;
}

static Share *share_find(WorkerPool *p, uid_t uid) {
        for (Share *s = p->shares; s; s = s->next)
                if (s->uid == uid)
                        return s;
        return NULL;
}

static Share *share_new(WorkerPool *p, uid_t uid) {
        Share *s = calloc(1, sizeof *s);

        if (!s)
                return NULL;
        s->uid = uid;
        s->next = p->shares;
        p->shares = s;
        return s;
}

static Share *share_get(WorkerPool *p, uid_t uid) {
        Share *s = share_find(p, uid);

        return s ? s : share_new(p, uid);
}

/* A caller with a full bucket and nothing under way is as good as new. */
static void forget_idle(WorkerPool *p, uint64_t now) {
        for (Share **q = &p->shares; *q;) {
                Share *s = *q;

                if (s->holds == 0 && s->jobs == 0 && s->full_usec <= now) {
                        *q = s->next;
                        free(s);
                } else
                        q = &s->next;
        }
}

static int enqueue(Context *c, Share *owner, void (*work)(void *data), void (*done)(Context *c, void *data),
                   void *data) {
        WorkerPool *p = c->pool;
        Job *j;

        assert(p);
        assert(work);
        assert(done);
        if (!(j = calloc(1, sizeof *j)))
                return -ENOMEM;
        *j = (Job) { .work = work, .done = done, .data = data, .owner = owner };
        if (owner) {
                owner->jobs++;
                p->n_caller_jobs++;
        }
        p->n_jobs++;
        pthread_mutex_lock(&p->lock);
        if (owner) {
                queue_push(&owner->waiting, j);
                if (!owner->ready)
                        ready_append(p, owner);
        } else
                queue_push(&p->service, j);
        p->n_waiting++;
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->lock);
        return 0;
}

int worker_run(Context *c, void (*work)(void *data), void (*done)(Context *c, void *data), void *data) {
        return enqueue(c, NULL, work, done, data);
}

int worker_run_as(Context *c, uid_t owner, void (*work)(void *data), void (*done)(Context *c, void *data),
                  void *data) {
        Share *s;

        assert(c->pool);
        if (owner == WORKER_OWNER_SERVICE)
                return worker_run(c, work, done, data);
        /* admission keeps this below the limit; a call that skipped it
         * still cannot grow the queue without end */
        if (c->pool->n_caller_jobs >= WORKER_QUEUE_MAX)
                return -EBUSY;
        if (!(s = share_get(c->pool, owner)))
                return -ENOMEM;
        return enqueue(c, s, work, done, data);
}

unsigned worker_jobs(Context *c, uid_t owner) {
        Share *s;

        if (!c->pool)
                return 0;
        if (owner == WORKER_OWNER_SERVICE)
                return c->pool->n_jobs - c->pool->n_caller_jobs;
        s = share_find(c->pool, owner);
        return s ? s->jobs : 0;
}

unsigned worker_jobs_all(Context *c) {
        return c->pool ? c->pool->n_jobs : 0;
}

static int busy(sd_bus_error *error, uint64_t retry_usec, const char *why) {
        unsigned long long seconds = (retry_usec + USEC_PER_SEC - 1) / USEC_PER_SEC;

        return sd_bus_error_setf(error, CR_ERROR_BUSY, "%s: try again in %llu s", why, seconds ? seconds : 1);
}

static bool log_due(uint64_t *logged, uint64_t now) {
        if (*logged != 0 && now - *logged < LOG_INTERVAL_USEC)
                return false;
        *logged = now;
        return true;
}

static int refuse(Share *s, uint64_t now, sd_bus_error *error, uint64_t retry_usec, const char *why) {
        if (log_due(&s->logged_usec, now))
                log_notice("%s; it is answered Busy for now", why);
        return busy(error, retry_usec, why);
}

int worker_admit_at(Context *c, uid_t uid, CrRole role, uint64_t now, sd_bus_error *error) {
        bool privileged = cr_role_is_privileged(role);
        uint64_t interval = privileged ? WORKER_SHARE_PRIVILEGED_INTERVAL_USEC : WORKER_SHARE_INTERVAL_USEC;
        uint64_t window = ((privileged ? WORKER_SHARE_PRIVILEGED_BURST : WORKER_SHARE_BURST) - 1) * interval;
        unsigned in_flight = privileged ? WORKER_SHARE_PRIVILEGED_IN_FLIGHT : WORKER_SHARE_IN_FLIGHT;
        WorkerPool *p = c->pool;
        char why[128];
        uint64_t full;
        Share *s;

        assert(p);
        assert(uid != WORKER_OWNER_SERVICE);
        if (p->n_holds + p->n_caller_jobs >= WORKER_QUEUE_MAX) {
                snprintf(why, sizeof why, "the service has %u expensive calls under way",
                         p->n_holds + p->n_caller_jobs);
                if (log_due(&p->logged_usec, now))
                        log_warning("%s; more are answered Busy for now", why);
                return busy(error, USEC_PER_SEC, why);
        }
        /* root can stop the service anyway, and gives the first passwords
         * to many users at once: only the service's bound holds it */
        if (uid == 0)
                return 0;
        forget_idle(p, now);
        if (!(s = share_get(p, uid)))
                return -ENOMEM;
        if (s->holds + s->jobs >= in_flight) {
                snprintf(why, sizeof why, "UID %u has %u expensive calls under way already", (unsigned) uid,
                         s->holds + s->jobs);
                return refuse(s, now, error, USEC_PER_SEC, why);
        }
        full = s->full_usec > now ? s->full_usec : now;
        if (full - now > window) {
                snprintf(why, sizeof why, "UID %u used up its share of expensive calls", (unsigned) uid);
                return refuse(s, now, error, full - window - now, why);
        }
        s->full_usec = full + interval;
        return 0;
}

int worker_admit(Context *c, uid_t uid, CrRole role, sd_bus_error *error) {
        return worker_admit_at(c, uid, role, monotonic_usec(), error);
}

int worker_hold(Context *c, uid_t uid) {
        Share *s;

        assert(c->pool);
        if (!(s = share_get(c->pool, uid)))
                return -ENOMEM;
        s->holds++;
        c->pool->n_holds++;
        return 0;
}

void worker_unhold(Context *c, uid_t uid) {
        Share *s = c->pool ? share_find(c->pool, uid) : NULL;

        assert(s && s->holds > 0);
        s->holds--;
        c->pool->n_holds--;
}
