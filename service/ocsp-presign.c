/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

#include "log.h"
#include "ocsp-presign.h"
#include "util.h"

/* Entries a thread takes at once from a pass. */
#define BATCH 256
/* Full passes look for responses due again this often at most, and at
 * least four times a validity: a short Validity= is still met. */
#define PASS_INTERVAL_USEC (60 * USEC_PER_SEC)

/* A request that waited this long for a worker is answered tryLater:
 * its client has likely given up, and the queue drains faster. */
#define JOB_MAX_WAIT_USEC (1 * USEC_PER_SEC)

static uint64_t pass_interval(const OcspPresign *p) {
        uint64_t quarter = p->signer->validity_usec / 4;

        return quarter > 0 && quarter < PASS_INTERVAL_USEC ? quarter : PASS_INTERVAL_USEC;
}

int ocsp_presign_entry(OcspTable *t, const OcspSigner *s, size_t index, OcspHash hash, bool only_if_due,
                       OcspBlob **ret) {
        OcspBlob *blob = NULL;
        uint64_t refresh;
        OcspEntry e;
        int r;

        ocsp_table_snapshot(t, index, hash, &e, &refresh);
        if (only_if_due && (refresh == 0 ? hash != OCSP_HASH_SHA1 : refresh > now_usec())) {
                if (ret)
                        *ret = NULL;
                return 0;
        }
        r = ocsp_sign(s, e.serial, e.serial_len, hash, &e.state, NULL, &blob);
        if (r < 0)
                return log_error_errno(r, "Failed to sign a response: %m");
        r = ocsp_table_install(t, index, hash, e.state.version, blob);
        if (ret)
                *ret = blob;
        else
                ocsp_blob_unref(blob);
        return r;
}

/* Under p->lock: the oldest waiting job, or NULL. */
static OcspJob *take_job(OcspPresign *p) {
        OcspJob *j = p->jobs;

        if (!j)
                return NULL;
        p->jobs = j->next;
        if (!p->jobs)
                p->jobs_tail = &p->jobs;
        atomic_fetch_sub(&p->n_jobs, 1);
        return j;
}

static int sign_job(OcspPresign *p, OcspJob *j) {
        const OcspQuery *q = &j->query;

        if (q->has_nonce)
                return ocsp_sign(p->signer, q->serial, q->serial_len, q->hash, &j->state, q->req, &j->blob);
        if (j->index == SIZE_MAX)
                return ocsp_sign(p->signer, q->serial, q->serial_len, q->hash, &j->state, NULL, &j->blob);
        return ocsp_presign_entry(p->table, p->signer, j->index, q->hash, false, &j->blob);
}

static void run_job(OcspPresign *p, OcspJob *j) {
        int r;

        assert(!j->blob && j->done);
        if (monotonic_usec() - j->queued_usec > JOB_MAX_WAIT_USEC)
                j->status = OCSP_RESPONSE_STATUS_TRYLATER;
        else {
                r = sign_job(p, j);
                if (r < 0)
                        log_error_errno(r, "Failed to sign an answer: %m");
                if (r < 0 || !j->blob) {
                        ocsp_blob_unref(TAKE_PTR(j->blob));
                        j->status = OCSP_RESPONSE_STATUS_INTERNALERROR;
                }
        }
        atomic_store_explicit(&j->finished, true, memory_order_release);
        j->done(j, j->userdata);
        pthread_mutex_lock(&p->lock);
        assert(p->n_held > 0);
        if (--p->n_held == 0)
                pthread_cond_broadcast(&p->idle);
        pthread_mutex_unlock(&p->lock);
}

/* Every waiting job, from a thread that does not hold p->lock. */
static void serve_jobs(OcspPresign *p) {
        for (;;) {
                OcspJob *j;

                pthread_mutex_lock(&p->lock);
                j = take_job(p);
                pthread_mutex_unlock(&p->lock);
                if (!j)
                        return;
                run_job(p, j);
        }
}

static void sign_range(OcspPresign *p, size_t from, size_t to) {
        for (size_t i = from; i < to; i++) {
                /* a waiting request goes before the rest of a batch */
                if (atomic_load_explicit(&p->n_jobs, memory_order_relaxed) > 0)
                        serve_jobs(p);
                for (OcspHash h = 0; h < _OCSP_HASH_MAX; h++)
                        (void) ocsp_presign_entry(p->table, p->signer, i, h, true, NULL);
        }
}

/* The entries a change dropped the responses of, first. */
static void sign_dirty(OcspPresign *p) {
        _cleanup_free_ uint32_t *dirty = NULL;
        size_t n = ocsp_table_take_dirty(p->table, &dirty);

        for (size_t i = 0; i < n; i++)
                sign_range(p, dirty[i], dirty[i] + 1);
}

static void announce(OcspPresign *p) {
        size_t n = ocsp_table_size(p->table), done = ocsp_table_signed(p->table);

        /* the line a benchmark or an administrator waits for */
        if (!p->announced && done == n) {
                log_info("all %zu responses signed", n);
                p->announced = true;
        }
}

/* Under p->lock: the next batch of the pass, or false when the thread
 * should wait.  Certificates added meanwhile extend the pass; a full pass
 * for responses due again starts on the timer only, so a change of status
 * costs its entry's signing, not a look at every entry. */
static bool take_batch(OcspPresign *p, size_t *from, size_t *to) {
        if (p->next >= p->pass_end) {
                size_t n = ocsp_table_size(p->table);
                uint64_t now = monotonic_usec();

                if (n > p->pass_end)
                        p->pass_end = n;
                else if (now >= p->next_pass_usec) {
                        p->next = 0;
                        p->pass_end = n;
                        p->next_pass_usec = now + pass_interval(p);
                } else
                        return false;
        }
        *from = p->next;
        *to = p->next + BATCH < p->pass_end ? p->next + BATCH : p->pass_end;
        p->next = *to;
        return true;
}

static void wait_for_work(OcspPresign *p) {
        struct timespec ts;
        uint64_t due = p->next_pass_usec;

        /* pthread_cond_timedwait takes CLOCK_REALTIME unless told: the
         * condition variable is made with CLOCK_MONOTONIC */
        ts.tv_sec = (time_t) (due / USEC_PER_SEC);
        ts.tv_nsec = (long) (due % USEC_PER_SEC) * 1000;
        pthread_cond_timedwait(&p->wake, &p->lock, &ts);
}

static void *worker(void *userdata) {
        OcspPresign *p = userdata;

        /* answers come first: signing ahead only takes what they leave */
        (void) setpriority(PRIO_PROCESS, (id_t) syscall(SYS_gettid), 10);
        pthread_mutex_lock(&p->lock);
        while (!p->stop) {
                size_t from, to;

                if (p->jobs) {
                        pthread_mutex_unlock(&p->lock);
                        serve_jobs(p);
                        pthread_mutex_lock(&p->lock);
                        continue;
                }
                if (p->kicked) {
                        p->kicked = false;
                        p->busy++;
                        pthread_mutex_unlock(&p->lock);
                        sign_dirty(p);
                        pthread_mutex_lock(&p->lock);
                        p->busy--;
                        continue;
                }
                if (!take_batch(p, &from, &to)) {
                        if (p->busy == 0)
                                announce(p);
                        wait_for_work(p);
                        continue;
                }
                p->busy++;
                pthread_mutex_unlock(&p->lock);
                sign_range(p, from, to);
                pthread_mutex_lock(&p->lock);
                p->busy--;
        }
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

int ocsp_presign_start(OcspPresign *p, OcspTable *t, const OcspSigner *s, size_t n_threads, size_t max_queued) {
        pthread_condattr_t attr;
        int r;

        assert(p && t && s && n_threads > 0);
        *p = (OcspPresign) { .table = t, .signer = s, .max_held = max_queued };
        p->jobs_tail = &p->jobs;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->idle, NULL);
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&p->wake, &attr);
        pthread_condattr_destroy(&attr);
        p->threads = calloc(n_threads, sizeof *p->threads);
        if (!p->threads)
                return log_error_errno(-ENOMEM, "Failed to start the signing threads: %m");
        for (; p->n_threads < n_threads; p->n_threads++) {
                r = -pthread_create(&p->threads[p->n_threads], NULL, worker, p);
                if (r < 0)
                        return log_error_errno(r, "Failed to start a signing thread: %m");
        }
        return 0;
}

void ocsp_presign_kick(OcspPresign *p) {
        pthread_mutex_lock(&p->lock);
        p->kicked = true;
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
}

int ocsp_presign_reserve(OcspPresign *p) {
        int r = -EBUSY;

        pthread_mutex_lock(&p->lock);
        if (!p->closed && p->n_held < p->max_held) {
                p->n_held++;
                r = 0;
        }
        pthread_mutex_unlock(&p->lock);
        return r;
}

void ocsp_presign_submit(OcspPresign *p, OcspJob *j) {
        assert(j && j->done);
        j->next = NULL;
        j->queued_usec = monotonic_usec();
        pthread_mutex_lock(&p->lock);
        assert(p->n_held > 0);
        *p->jobs_tail = j;
        p->jobs_tail = &j->next;
        atomic_fetch_add(&p->n_jobs, 1);
        /* every thread: one busy in a batch serves it between signatures,
         * and a sleeping one should not wait for that */
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
}

void ocsp_presign_close(OcspPresign *p) {
        if (!p->threads)
                return;
        pthread_mutex_lock(&p->lock);
        p->closed = true;
        while (p->n_held > 0)
                pthread_cond_wait(&p->idle, &p->lock);
        pthread_mutex_unlock(&p->lock);
}

void ocsp_presign_stop(OcspPresign *p) {
        if (!p->threads)
                return;
        ocsp_presign_close(p);
        pthread_mutex_lock(&p->lock);
        p->stop = true;
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
        for (size_t i = 0; i < p->n_threads; i++)
                pthread_join(p->threads[i], NULL);
        free(p->threads);
        pthread_cond_destroy(&p->idle);
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        *p = (OcspPresign) {};
}
