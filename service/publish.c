/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Publication of the CRL, in two phases in a worker thread.  Phase one
 * syncs the store, brings the CRL's entries and revoked.idx up to it with
 * what changed since the last build, signs and replaces crl.der durably;
 * the loop then records the outcome and answers the callers.  Phase two
 * writes crl.pem and takes the revoked certificates off their tokens;
 * the loop records their removal.  Revocations that arrive while a build
 * runs, or while their confirmations are under way, share the next one. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <stdio.h>

#include "atomic-file.h"
#include "auth.h"
#include "crl-entries.h"
#include "crl.h"
#include "log.h"
#include "pin-file.h"
#include "publish.h"
#include "recover.h"
#include "revoked-index.h"
#include "tokens.h"
#include "util.h"
#include "worker.h"

#define RETRY_USEC (30 * USEC_PER_SEC)
/* How long a build may wait for confirmations under way to join it. */
#define PUBLISH_COALESCE_USEC (200 * USEC_PER_SEC / 1000)
/* Readable by every user's programs: the trust module reads the files. */
#define PUBLISH_DIR_MODE 0755

typedef struct Waiter {
        uint64_t seq;
        uint64_t job_min;               /* served only by a build started this late */
        publish_done_fn done;
        void *userdata;
} Waiter;

/* A waiter its build served, to be told: a few a turn of the loop. */
typedef struct Answer {
        publish_done_fn done;
        void *userdata;
        int result;
} Answer;

/* Told a turn of the loop: fifty replies and their signals would keep
 * the calls that came meanwhile waiting for all of them. */
#define ANSWERS_PER_TURN 10

/* crl.der as this daemon last wrote it: while it is unchanged, its number is
 * known without reading it again. */
typedef struct PublishedMark {
        bool valid;
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime, ctime;
        uint64_t number;
} PublishedMark;

/* Phase two gives way to phase one: while a build signs and writes
 * crl.der, the callers waiting for it are not made to share the CPU and
 * the disk with the crl.pem of the build before. */
typedef struct PhaseGate {
        pthread_mutex_t lock;
        pthread_cond_t open;
        unsigned building;              /* phase ones running */
} PhaseGate;

typedef struct Removal {
        int64_t cert_id;
        char *login_id;
        char *uri;
        unsigned char *der;
        size_t der_len;
} Removal;

/* The steps of phase one, timed for the log line of each CRL. */
enum {
        STEP_START,
        STEP_STORE_SYNCED,
        STEP_READ,
        STEP_SIGNED,
        STEP_INDEXED,
        STEP_WRITTEN,
        _STEP_MAX,
};

typedef struct Job {
        /* in: set on the loop before the thread starts */
        char *state_dir, *publish_dir, **modules, *pin;
        CrlSigner *signer;
        TokenWalker *walker;            /* the publisher's, lent while the build runs */
        X509 *ca;
        RevokedIndex *index;            /* the publisher's, handed back when done */
        CrlEntries *entries;            /* the publisher's, lent while the build runs */
        PhaseGate *gate;                /* the publisher's */
        CrlState crl;
        Removal *removals;
        TokenRemoval *items;
        size_t n_removals;
        size_t n_waiters_taken;
        uint64_t id;
        PublishedMark mark;             /* in: the last known; out: the one written */
        /* out */
        uint64_t usec[_STEP_MAX];       /* CLOCK_MONOTONIC at the end of each step, for the log */
        int result;
        int pem_result;
        int dir_fd;                     /* the publish directory, from phase one to two */
        CrlBuffer *der;                 /* the CRL phase one published; the publisher's, lent */
        char *why;                      /* why the publish directory was refused */
        uint64_t seq;
        size_t n_entries;
} Job;

typedef struct Publisher {
        const PublishEvents *events;    /* the bus side: the signals are its */
        CrlSigner *signer;
        TokenWalker *walker;            /* keeps the token modules loaded between builds */
        RevokedIndex *index;            /* revoked.idx, open once a build made it */
        Waiter *waiters;
        size_t n_waiters, waiters_allocated;
        Answer *answers;                /* served, not told yet: from answers_first on, in order */
        size_t n_answers, answers_first, answers_allocated;
        sd_event_source *answer;
        Removal *removals;
        size_t n_removals, removals_allocated;
        Job *job;                       /* in phase one */
        Job *follow;                    /* in phase two */
        Job *follow_next;               /* phase one done, waiting for its phase two: one at most */
        uint64_t jobs_started;
        uint64_t last_number;           /* the last CRL number handed to a build */
        PublishedMark mark;
        CrlEntries *entries;            /* the next CRL's, kept between builds */
        /* where CRLs are built, kept: a build in phase one, one waiting
         * for its phase two and one in it, each with its own */
        CrlBuffer *spare[3];
        PhaseGate gate;
        bool again;                     /* a build without new revocations is wanted */
        sd_event_source *defer, *timer, *coalesce;
        uint64_t held_since;            /* CLOCK_MONOTONIC: a build waits for confirmations since */
} Publisher;

static void removal_done(Removal *r) {
        free(r->login_id);
        free(r->uri);
        free(r->der);
}

/* ---- the worker ---- */

/* Whether dir_fd/ca.pem holds exactly pem: then it is left alone. */
static bool ca_unchanged(int dir_fd, const char *pem, size_t len) {
        _cleanup_close_ int fd = openat(dir_fd, "ca.pem", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        ssize_t n;

        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t) st.st_size != len)
                return false;
        if (!(buf = malloc(len + 1)))
                return false;
        n = pread(fd, buf, len + 1, 0);
        return n == (ssize_t) len && memcmp(buf, pem, len) == 0;
}

/* The CA certificate, for those who check the CRL: written when it is
 * missing or differs, not at every build. */
static int write_ca(int dir_fd, X509 *ca) {
        _cleanup_(atomic_file_done) AtomicFile f = ATOMIC_FILE_INIT;
        BIO *mem = BIO_new(BIO_s_mem());
        char *pem = NULL;
        long len;
        int r;

        if (!mem)
                return -ENOMEM;
        if (!PEM_write_bio_X509(mem, ca) || (len = BIO_get_mem_data(mem, &pem)) <= 0) {
                BIO_free(mem);
                return -EIO;
        }
        r = 0;
        if (!ca_unchanged(dir_fd, pem, (size_t) len)) {
                r = atomic_file_open(dir_fd, "ca.pem", &f);
                if (r >= 0)
                        r = write_all(f.fd, pem, (size_t) len);
                if (r >= 0)
                        r = atomic_file_sync(&f);
                if (r >= 0)
                        r = atomic_file_commit("ca.pem", &f);
        }
        BIO_free(mem);
        return r;
}

static bool mark_matches(const PublishedMark *m, const struct stat *st) {
        return m->valid && m->dev == st->st_dev && m->ino == st->st_ino && m->size == st->st_size &&
               m->mtime.tv_sec == st->st_mtim.tv_sec && m->mtime.tv_nsec == st->st_mtim.tv_nsec &&
               m->ctime.tv_sec == st->st_ctim.tv_sec && m->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* Never backwards: a crl.der that someone else put there (another daemon
 * on another store, a file copied back) is read again, and a number at or
 * below its own is not published over it. */
static int check_floor(int dir_fd, Job *j) {
        uint64_t published;
        struct stat st;
        int r;

        if (fstatat(dir_fd, "crl.der", &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (mark_matches(&j->mark, &st))
                published = j->mark.number;
        else if ((r = published_crl_number_at(dir_fd, &published)) < 0)
                return 0;       /* no CRL with a number: nothing to stay above */
        if (j->crl.number > published)
                return 0;
        if (asprintf(&j->why, "crl.der has number %llu already, and this CRL would be number %llu: CRL numbers "
                              "never go back (stop certrevoked and see certrevoked --recover-from-crl)",
                     (unsigned long long) published, (unsigned long long) j->crl.number) < 0)
                j->why = NULL;
        return -ESTALE;
}

static void mark_published(int dir_fd, Job *j) {
        struct stat st;

        j->mark.valid = fstatat(dir_fd, "crl.der", &st, AT_SYMLINK_NOFOLLOW) >= 0;
        if (!j->mark.valid)
                return;
        j->mark = (PublishedMark) { .valid = true, .dev = st.st_dev, .ino = st.st_ino, .size = st.st_size,
                                    .mtime = st.st_mtim, .ctime = st.st_ctim, .number = j->crl.number };
}

/* revoked.idx, for the trust module, follows the CRL's entries change by
 * change.  Everything a build adds is committed, with the CRL it is for
 * named, before crl.der is replaced: a reader that sees the new CRL finds
 * every certificate it lists, and one that sees the old CRL hides what was
 * appended for the new one. */
typedef struct IndexUpdate {
        RevokedIndex *index;
        uint64_t crl_number;
        bool whole;             /* every entry is told: what is not told leaves */
} IndexUpdate;

static int index_listed(const void *der, size_t len, void *userdata) {
        IndexUpdate *u = userdata;

        /* taken back from a CRL without its certificate: nothing to show */
        if (len == 0)
                return 0;
        if (u->whole)
                return revoked_index_sync_entry(u->index, der, len, u->crl_number);
        return revoked_index_add(u->index, der, len, u->crl_number);
}

static int index_unlisted(const void *der, size_t len, void *userdata) {
        IndexUpdate *u = userdata;

        /* told whole, what was not told leaves at the end */
        if (u->whole || len == 0)
                return 0;
        return revoked_index_remove(u->index, der, len, u->crl_number);
}

/* Opened at the first build (the directory may be made by it) and kept.
 * An index just opened, or entries read afresh, are matched whole: the
 * file may be of an earlier run. */
static int index_begin(Job *j, int dir_fd, IndexUpdate *u) {
        _cleanup_free_ unsigned char *ca_der = NULL;
        bool fresh;
        int len, r;

        *u = (IndexUpdate) { .crl_number = j->crl.number, .whole = !crl_entries_loaded(j->entries) };
        if (!j->index) {
                len = i2d_X509(j->ca, &ca_der);
                if (len <= 0)
                        return -ENOMEM;
                /* the format the module read before: it reads revoked.idx now */
                (void) unlinkat(dir_fd, "revoked.der", 0);
                r = revoked_index_open(dir_fd, ca_der, (size_t) len, &j->index, &fresh);
                if (r < 0)
                        return log_error_errno(r, "crl: cannot open revoked.idx: %m");
                crl_entries_reset(j->entries);
                u->whole = true;
        }
        u->index = j->index;
        if (u->whole)
                revoked_index_sync_begin(j->index);
        return 0;
}

/* Names the CRL just signed (and verified) in the index.  After a failure
 * the appends of this build may be half done: the index is opened and
 * matched whole again at the next build. */
static int index_end(Job *j, IndexUpdate *u, const unsigned char *der, size_t len, int result) {
        int r = result;

        if (u->whole)
                r = revoked_index_sync_end(u->index, j->crl.number, der, len, r);
        else if (r >= 0)
                r = revoked_index_commit(u->index, j->crl.number, der, len);
        if (r < 0) {
                revoked_index_free(TAKE_PTR(j->index));
                crl_entries_reset(j->entries);
        }
        if (r < 0 && result >= 0)
                log_error_errno(r, "crl: cannot write revoked.idx: %m");
        return r;
}

/* The entries brought up to the store, signed as the next CRL. */
static int build(Job *j, IndexUpdate *u, CrlBuffer *out) {
        const CrlEntriesObserver obs = { .listed = index_listed, .unlisted = index_unlisted, .userdata = u };
        CrlEncoded parts[2];
        int r;

        r = crl_entries_update(j->entries, j->state_dir, &obs, &j->seq);
        if (r < 0)
                return log_error_errno(r, "crl: cannot read the revocations: %m");
        j->usec[STEP_READ] = monotonic_usec();
        crl_entries_parts(j->entries, parts, &j->n_entries);
        return crl_build_encoded(j->signer, j->ca, parts, ELEMENTSOF(parts), j->crl.number,
                                 j->crl.this_update_usec, j->crl.next_update_usec, out);
}

/* Phase one, in a worker: the store synced, the entries and revoked.idx
 * brought up to it, the CRL signed and crl.der replaced durably.  The
 * callers are answered after this. */
static int build_and_publish(Job *j) {
        IndexUpdate index;
        int r;

        j->usec[STEP_START] = monotonic_usec();
        /* the revocations this CRL lists are on disk in the store first:
         * the loop committed them without a sync (durable.h) */
        r = store_sync_log(j->state_dir);
        if (r < 0)
                return log_error_errno(r, "crl: cannot sync the store: %m");
        j->usec[STEP_STORE_SYNCED] = monotonic_usec();
        /* checked again each time: a directory that became unsafe since
         * the start is not written into; made again if it went */
        r = directory_open_trusted(j->publish_dir, PUBLISH_DIR_MODE, &j->dir_fd, &j->why);
        if (r < 0)
                return r;
        r = check_floor(j->dir_fd, j);
        if (r < 0)
                return r;
        r = index_begin(j, j->dir_fd, &index);
        if (r < 0)
                return r;
        r = build(j, &index, j->der);
        j->usec[STEP_SIGNED] = monotonic_usec();
        r = index_end(j, &index, j->der->data, j->der->len, r);
        if (r < 0)
                return r;
        j->usec[STEP_INDEXED] = monotonic_usec();
        r = write_ca(j->dir_fd, j->ca);
        if (r < 0)
                return log_error_errno(r, "crl: cannot write ca.pem: %m");
        r = crl_write_der_at(j->dir_fd, j->der->data, j->der->len);
        if (r < 0)
                return r;
        j->usec[STEP_WRITTEN] = monotonic_usec();
        mark_published(j->dir_fd, j);
        revoked_index_published(j->index, j->crl.number);
        return 0;
}

static void gate_enter(PhaseGate *g) {
        pthread_mutex_lock(&g->lock);
        g->building++;
        pthread_mutex_unlock(&g->lock);
}

static void gate_leave(PhaseGate *g) {
        pthread_mutex_lock(&g->lock);
        assert(g->building > 0);
        if (--g->building == 0)
                pthread_cond_broadcast(&g->open);
        pthread_mutex_unlock(&g->lock);
}

static void job_build(void *userdata) {
        Job *j = userdata;

        gate_enter(j->gate);
        j->result = build_and_publish(j);
        gate_leave(j->gate);
}

static bool crl_der_is_ours(const Job *j) {
        struct stat st;

        return fstatat(j->dir_fd, "crl.der", &st, AT_SYMLINK_NOFOLLOW) < 0 || mark_matches(&j->mark, &st);
}

/* A crl.pem for a CRL that is no longer the one in crl.der: the newer
 * build's phase two writes its own. */
#define PEM_SUPERSEDED (-ECANCELED)

/* Waits while a phase one runs; called with g->lock held.  Only a phase one
 * that runs is waited for, never one queued for a thread: it cannot be
 * waiting for this phase two. */
static void gate_wait(PhaseGate *g) {
        while (g->building > 0)
                pthread_cond_wait(&g->open, &g->lock);
}

/* Between slices of crl.pem: phase one goes first, and a crl.pem that a
 * newer crl.der made pointless is given up. */
static int pem_pace(void *userdata) {
        Job *j = userdata;

        pthread_mutex_lock(&j->gate->lock);
        gate_wait(j->gate);
        pthread_mutex_unlock(&j->gate->lock);
        return crl_der_is_ours(j) ? 0 : PEM_SUPERSEDED;
}

/* crl.pem takes its name only while crl.der is this build's: with the lock
 * held and no phase one running, none can replace crl.der meanwhile, so
 * crl.pem is never newer than a crl.der it does not match. */
static int pem_commit(Job *j, AtomicFile *f) {
        int r;

        pthread_mutex_lock(&j->gate->lock);
        gate_wait(j->gate);
        r = crl_der_is_ours(j) ? atomic_file_commit("crl.pem", f) : PEM_SUPERSEDED;
        pthread_mutex_unlock(&j->gate->lock);
        if (r < 0)
                return r;
        return fsync(j->dir_fd) < 0 ? -errno : 0;
}

static int write_pem(Job *j) {
        _cleanup_(atomic_file_done) AtomicFile f = ATOMIC_FILE_INIT;
        int r;

        r = crl_pem_prepare_at(j->dir_fd, j->der->data, j->der->len, pem_pace, j, &f);
        if (r >= 0)
                r = pem_commit(j, &f);
        return r == PEM_SUPERSEDED ? 0 : r;
}

/* Phase two, in a worker, once the callers have their answer: crl.pem,
 * and the revoked certificates taken off their tokens (the revocations
 * stand whether or not the CRL was published). */
static void job_follow(void *userdata) {
        Job *j = userdata;

        /* a newer crl.der already replaced this one: its build writes
         * crl.pem, and this one would only cost the disk meanwhile */
        if (j->result >= 0 && crl_der_is_ours(j))
                j->pem_result = write_pem(j);
        token_walker_remove(j->walker, j->modules, j->pin, j->items, j->n_removals);
}

/* ---- the loop side ---- */

/* A buffer for a build: a kept one, else a new one. */
static CrlBuffer *buffer_lend(Publisher *p) {
        for (size_t i = 0; i < ELEMENTSOF(p->spare); i++)
                if (p->spare[i])
                        return TAKE_PTR(p->spare[i]);
        return calloc(1, sizeof(CrlBuffer));
}

static void buffer_return(Publisher *p, CrlBuffer *b) {
        if (!b)
                return;
        for (size_t i = 0; i < ELEMENTSOF(p->spare); i++)
                if (!p->spare[i]) {
                        p->spare[i] = b;
                        return;
                }
        crl_buffer_free(b);
}

static void job_free(Publisher *p, Job *j) {
        if (!j)
                return;
        buffer_return(p, TAKE_PTR(j->der));
        for (size_t i = 0; i < j->n_removals; i++)
                removal_done(&j->removals[i]);
        free(j->removals);
        free(j->items);
        free(j->state_dir);
        free(j->publish_dir);
        free(j->why);
        if (j->dir_fd >= 0)
                close(j->dir_fd);
        strv_free(j->modules);
        if (j->pin) {
                erase_memory(j->pin, strlen(j->pin));
                free(j->pin);
        }
        free(j);
}

static int schedule(Context *c);

static int on_answer(sd_event_source *s, void *userdata) {
        Context *c = userdata;
        Publisher *p = c->publisher;

        for (unsigned k = 0; k < ANSWERS_PER_TURN && p->answers_first < p->n_answers; k++) {
                Answer a = p->answers[p->answers_first++];

                a.done(c, a.result, a.userdata);
        }
        if (p->answers_first < p->n_answers)
                return 0;
        p->n_answers = p->answers_first = 0;
        return sd_event_source_set_enabled(s, SD_EVENT_OFF);
}

/* The waiters j served leave the list and are told in order, a few a turn
 * (on_answer); the others wait on.  Should the told ones not fit in
 * memory, they are told at once. */
static void complete_waiters(Context *c, Job *j) {
        Publisher *p = c->publisher;
        size_t k = 0, n = p->n_waiters;
        bool queued;

        queued = grow_array((void **) &p->answers, &p->answers_allocated, p->n_answers + n, sizeof *p->answers) >= 0;
        for (size_t i = 0; i < n; i++) {
                Waiter *w = &p->waiters[i];
                bool served = j->result >= 0 ? w->seq <= j->seq && j->id >= w->job_min : i < j->n_waiters_taken;

                if (!served) {
                        p->waiters[i - k] = *w;
                        continue;
                }
                k++;
                if (queued)
                        p->answers[p->n_answers++] = (Answer) { w->done, w->userdata, j->result };
                else
                        w->done(c, j->result, w->userdata);
        }
        p->n_waiters = n - k;
        if (p->answers_first < p->n_answers)
                (void) sd_event_source_set_enabled(p->answer, SD_EVENT_ON);
}

/* The store learns what became of each token copy, in one transaction:
 * fifty removals are one write to the log, not a hundred.  If it cannot
 * commit, the copies stay "pending" in the store and a rescan settles them.
 * The bus side hears whose removal state changed. */
static void record_removals(Context *c, Job *j) {
        _cleanup_free_ char **logins = calloc(j->n_removals + 1, sizeof *logins);
        bool tx = j->n_removals > 1;
        size_t n = 0;
        int k;

        if (tx && (k = store_begin(c->store)) < 0) {
                log_warning_errno(k, "tokens: the removals are recorded one by one: %m");
                tx = false;
        }
        for (size_t i = 0; i < j->n_removals; i++) {
                Removal *r = &j->removals[i];
                int ok = j->items[i].result == 0;

                if (isempty(r->uri)) {
                        /* imported: no token ever held it */
                        (void) store_set_removal(c->store, r->cert_id, "");
                        continue;
                }

                (void) store_set_removal(c->store, r->cert_id, ok ? "removed" : "pending");
                (void) store_history_add(c->store, "certrevoked", "token-removal", r->login_id,
                                         ok ? "removed" : "pending: token absent or refused");
                if (!ok)
                        log_event(LOG_WARNING, CR_MESSAGE_TOKEN_UNREACHABLE, "CERTREVOKE_LOGIN", r->login_id,
                                  "CERTREVOKE_URI", r->uri,
                                  "tokens: certificate of %s stays on its token until a rescan sees it: %s",
                                  r->login_id, strerror(-j->items[i].result));
                if (logins)
                        logins[n++] = r->login_id;
        }
        if (tx && (k = store_commit(c->store)) < 0) {
                log_error_errno(k, "tokens: cannot record the removals; a rescan settles them: %m");
                store_rollback(c->store);
                return;
        }
        if (n > 0)
                c->publisher->events->removals_recorded(c, logins);
}

static void arm_timer(Context *c, uint64_t when_usec) {
        Publisher *p = c->publisher;
        uint64_t mono_now, now = now_usec();

        if (sd_event_now(c->event, CLOCK_MONOTONIC, &mono_now) < 0)
                return;
        when_usec = when_usec > now ? mono_now + (when_usec - now) : mono_now;
        (void) sd_event_source_set_time(p->timer, when_usec);
        (void) sd_event_source_set_enabled(p->timer, SD_EVENT_ONESHOT);
}

/* The store learns what this CRL listed; the entries it listed after their
 * expiry leave the next one. */
static int record_published(Context *c, Job *j) {
        _cleanup_free_ uint64_t *left = NULL;
        size_t n_left = 0;
        int r;

        r = store_crl_published(c->store, &j->crl, j->seq, &left, &n_left);
        if (r < 0)
                return log_error_errno(r, "crl: cannot record number %llu as published: %m",
                                       (unsigned long long) j->crl.number);
        r = crl_entries_leave(c->publisher->entries, left, n_left);
        if (r < 0)
                log_warning_errno(r, "crl: the next build reads every entry again: %m");
        return 0;
}

static double step_ms(const Job *j, int step) {
        assert(step > STEP_START && step < _STEP_MAX);
        return (double) (j->usec[step] - j->usec[step - 1]) / 1000.0;
}

static void job_finished(Context *c, Job *j) {
        int r = j->result;

        if (r >= 0 && (r = record_published(c, j)) < 0)
                j->result = r;
        if (r >= 0) {
                char number[24];

                snprintf(number, sizeof number, "%llu", (unsigned long long) j->crl.number);
                c->publisher->mark = j->mark;
                log_event(LOG_INFO, CR_MESSAGE_CRL_PUBLISHED, "CERTREVOKE_CRL_NUMBER", number, NULL, NULL,
                          "crl: number %s published with %zu entries (ms: store synced %.1f, changes read "
                          "%.1f, signed %.1f, revoked.idx %.1f, crl.der %.1f)", number, j->n_entries,
                          step_ms(j, STEP_STORE_SYNCED), step_ms(j, STEP_READ), step_ms(j, STEP_SIGNED),
                          step_ms(j, STEP_INDEXED), step_ms(j, STEP_WRITTEN));
                c->publisher->events->crl_published(c);
                /* re-signed well before nextUpdate, also when nothing was revoked */
                arm_timer(c, j->crl.next_update_usec - c->config.crl_validity_usec / 4);
        } else {
                if (j->why)
                        log_error_errno(r, "crl: number %llu not published: PublishDirectory=%s: %s",
                                        (unsigned long long) j->crl.number, j->publish_dir, j->why);
                else
                        log_error_errno(r, "crl: number %llu not published: %m", (unsigned long long) j->crl.number);
                (void) store_history_add(c->store, "certrevoked", "publish-crl", "", "failed");
                /* a CRL above ours stays until an administrator decides: no retry */
                if (r != -ESTALE)
                        arm_timer(c, now_usec() + RETRY_USEC);
        }
        complete_waiters(c, j);
}

/* Phase two of one build at a time, in the order of the builds: crl.pem
 * never goes back, and one thread at a time uses the token walker. */
static void start_follow(Context *c, Job *j);

static void job_followed(Context *c, void *userdata) {
        Publisher *p = c->publisher;
        Job *j = userdata;

        if (j->pem_result < 0)
                log_error_errno(j->pem_result, "crl: number %llu is in crl.der, but crl.pem cannot be written: %m",
                                (unsigned long long) j->crl.number);
        record_removals(c, j);
        assert(p->follow == j);
        p->follow = NULL;
        job_free(p, j);
        if (p->follow_next)
                start_follow(c, TAKE_PTR(p->follow_next));
        /* a build that waited for the turn of its phase two */
        if (p->n_waiters > 0 || p->n_removals > 0 || p->again)
                (void) schedule(c);
}

static void start_follow(Context *c, Job *j) {
        Publisher *p = c->publisher;
        int r;

        assert(!p->follow);
        p->follow = j;
        r = worker_run(c, job_follow, job_followed, j);
        if (r < 0) {
                log_error_errno(r, "crl: cannot queue crl.pem and the token removals: %m");
                j->pem_result = r;
                job_followed(c, j);
        }
}

/* The token removals of from become into's, and from goes: into's phase
 * two does both.  Used when a build ends while another waits for its
 * phase two: only the newer CRL's crl.pem is worth writing (from must be
 * the older, unless the newer failed and published nothing). */
static int job_merge(Publisher *p, Job *into, Job *from) {
        size_t n = into->n_removals + from->n_removals;
        Removal *removals;
        TokenRemoval *items;

        if (n > 0) {
                if (!(removals = reallocarray(into->removals, n, sizeof *removals)))
                        return -ENOMEM;
                into->removals = removals;
                if (!(items = reallocarray(into->items, n, sizeof *items)))
                        return -ENOMEM;
                into->items = items;
        }
        for (size_t i = 0; i < from->n_removals; i++) {
                into->removals[into->n_removals] = from->removals[i];
                into->items[into->n_removals++] = from->items[i];
        }
        from->n_removals = 0;
        job_free(p, from);
        return 0;
}

/* j ended its phase one while another build waits for its phase two: the
 * newer crl.der makes the older crl.pem pointless, so one phase two does
 * the token removals of both and writes the crl.pem of the CRL on disk
 * (the older build's, when j failed and published nothing). */
static void follow_after(Context *c, Job *j) {
        Publisher *p = c->publisher;
        Job *keep = j->result >= 0 ? j : p->follow_next;
        Job *drop = keep == j ? p->follow_next : j;
        int r;

        r = job_merge(p, keep, drop);
        if (r < 0) {
                /* the removals stay pending: a rescan settles them */
                log_error_errno(r, "crl: cannot queue the token removals of number %llu: %m",
                                (unsigned long long) drop->crl.number);
                record_removals(c, drop);
                job_free(p, drop);
        }
        p->follow_next = keep;
}

/* On the loop after phase one: the store learns what was published and
 * the callers hear; crl.pem and the tokens follow, while the next build's
 * phase one may already run. */
static void job_built(Context *c, void *userdata) {
        Publisher *p = c->publisher;
        Job *j = userdata;
        int r = j->result;

        p->job = NULL;
        p->index = j->index;
        job_finished(c, j);
        if (!p->follow)
                start_follow(c, j);
        else if (!p->follow_next)
                p->follow_next = j;
        else
                follow_after(c, j);
        /* after a failure the retry timer decides, so a full disk cannot spin the loop */
        if (r >= 0 && (p->n_waiters > 0 || p->n_removals > 0 || p->again))
                (void) schedule(c);
}

/* The number of the next CRL: the one the revocations since the last
 * build reserved in their transaction, else a new one (a re-signing, a
 * hold).  A number handed to a build, or reserved before this start, is
 * never handed out again, even after a failed build: it may be on disk. */
static int next_number(Context *c, uint64_t *ret) {
        Publisher *p = c->publisher;
        uint64_t reserved;
        int r;

        r = store_crl_reserved(c->store, &reserved);
        if (r < 0)
                return r;
        if (reserved <= p->last_number) {
                r = store_crl_reserve(c->store, &reserved);
                if (r < 0)
                        return r;
        }
        assert(reserved > p->last_number);
        *ret = p->last_number = reserved;
        return 0;
}

static int job_prepare(Context *c, Job *j) {
        Publisher *p = c->publisher;
        int r;

        /* the queued removals and waiters belong to this build, even a failed one */
        j->n_waiters_taken = p->n_waiters;
        j->id = ++p->jobs_started;
        if (p->n_removals && !(j->items = calloc(p->n_removals, sizeof *j->items)))
                return -ENOMEM;
        j->removals = TAKE_PTR(p->removals);
        j->n_removals = p->n_removals;
        p->n_removals = p->removals_allocated = 0;
        for (size_t i = 0; i < j->n_removals; i++)
                j->items[i] = (TokenRemoval) { .uri = j->removals[i].uri, .der = j->removals[i].der,
                                               .der_len = j->removals[i].der_len, .result = -ENODEV };
        /* copies: a reload may change the config while the build runs */
        j->state_dir = strdup(c->config.state_directory);
        j->publish_dir = strdup(c->config.publish_directory);
        j->modules = strv_copy(c->config.token_modules);
        if (!j->state_dir || !j->publish_dir || !j->modules)
                return -ENOMEM;
        if (!(j->der = buffer_lend(p)))
                return -ENOMEM;
        j->signer = p->signer;
        j->gate = &p->gate;
        j->walker = p->walker;
        j->ca = c->ca;
        j->entries = p->entries;
        j->index = p->index;
        j->mark = p->mark;
        if (c->config.tokens_pin_file) {
                _cleanup_free_ char *error = NULL;

                r = pin_file_read(c->config.tokens_pin_file, &j->pin, &error);
                if (r < 0)
                        log_warning_errno(r, "tokens: [Tokens] PINFile=: %s; private keys stay", error ?: strerror(-r));
        }
        if ((r = next_number(c, &j->crl.number)) < 0)
                return r;
        j->crl.this_update_usec = now_usec() / USEC_PER_SEC * USEC_PER_SEC;
        j->crl.next_update_usec = j->crl.this_update_usec + c->config.crl_validity_usec;
        return 0;
}

static int start_job(Context *c) {
        Publisher *p = c->publisher;
        Job *j = calloc(1, sizeof *j);
        int r;

        if (!j)
                return -ENOMEM;
        p->again = false;
        j->dir_fd = -1;
        if ((r = job_prepare(c, j)) < 0 || (r = worker_run(c, job_build, job_built, j)) < 0) {
                j->result = r;
                job_finished(c, j);
                record_removals(c, j);
                job_free(p, j);
                return r;
        }
        p->job = j;
        return 0;
}

/* Revocations confirmed together share a build: while other
 * confirmations are still with PAM, the build waits for them, at most
 * PUBLISH_COALESCE_USEC after the first revocation that waits for it. */
static bool hold_for_confirmations(Context *c) {
        Publisher *p = c->publisher;
        uint64_t now;

        if (p->n_waiters == 0 || (auth_pending(c, NULL) == 0 && !c->confirm_queue))
                return false;
        if (sd_event_now(c->event, CLOCK_MONOTONIC, &now) < 0)
                return false;
        if (p->held_since == 0)
                p->held_since = now;
        if (now >= p->held_since + PUBLISH_COALESCE_USEC)
                return false;
        (void) sd_event_source_set_time(p->coalesce, p->held_since + PUBLISH_COALESCE_USEC);
        (void) sd_event_source_set_enabled(p->coalesce, SD_EVENT_ONESHOT);
        return true;
}

static int on_defer(sd_event_source *s, void *userdata) {
        Context *c = userdata;
        Publisher *p = c->publisher;

        (void) s;
        if (p->job || hold_for_confirmations(c))
                return 0;
        p->held_since = 0;
        (void) sd_event_source_set_enabled(p->coalesce, SD_EVENT_OFF);
        (void) start_job(c);
        return 0;
}

static int on_coalesce(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) s, (void) usec;
        return schedule(userdata);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) s, (void) usec;
        return publish_schedule(userdata);
}

/* The next build starts when the loop is idle and none runs: what arrives
 * meanwhile joins it. */
static int schedule(Context *c) {
        Publisher *p = c->publisher;

        if (p->job)
                return 0;
        return sd_event_source_set_enabled(p->defer, SD_EVENT_ONESHOT);
}

int publish_schedule(Context *c) {
        if (!c->publisher || !c->publisher->signer)
                return 0;
        c->publisher->again = true;
        return schedule(c);
}

int publish_revocation(Context *c, uint64_t seq, int64_t cert_id, const char *login_id,
                       const char *uri, const unsigned char *der, size_t der_len,
                       publish_done_fn done, void *userdata) {
        Publisher *p = c->publisher;
        Removal *rm;
        int r;

        if ((r = grow_array((void **) &p->waiters, &p->waiters_allocated, p->n_waiters + 1, sizeof *p->waiters)) < 0 ||
            (r = grow_array((void **) &p->removals, &p->removals_allocated, p->n_removals + 1, sizeof *p->removals)) < 0)
                return r;
        rm = &p->removals[p->n_removals];
        *rm = (Removal) { .cert_id = cert_id, .login_id = strdup(login_id), .uri = strdup(uri),
                          .der = malloc(der_len ? der_len : 1), .der_len = der_len };
        if (!rm->login_id || !rm->uri || !rm->der) {
                removal_done(rm);
                return -ENOMEM;
        }
        memcpy(rm->der, der, der_len);
        p->n_removals++;
        p->waiters[p->n_waiters++] = (Waiter) { .seq = seq, .done = done, .userdata = userdata };
        return schedule(c);
}

int publish_after(Context *c, publish_done_fn done, void *userdata) {
        Publisher *p = c->publisher;
        int r;

        if ((r = grow_array((void **) &p->waiters, &p->waiters_allocated, p->n_waiters + 1, sizeof *p->waiters)) < 0)
                return r;
        /* a build under way read the store before this change */
        p->waiters[p->n_waiters++] = (Waiter) { .job_min = p->jobs_started + 1, .done = done, .userdata = userdata };
        p->again = true;
        return schedule(c);
}

bool publish_ready(Context *c, const char **why) {
        if (!c->publisher || !c->publisher->signer) {
                *why = "no CA key is configured ([CA] Certificate= and Key=): no CRL can be signed";
                return false;
        }
        return true;
}

/* A CRL is due at start when revocations wait, none was published, the
 * files are gone (or something else stands in crl.der's place), or
 * nextUpdate is near. */
static bool due_at_start(Context *c, int dir_fd) {
        uint64_t unpublished = 0;
        struct stat crl, pem;
        CrlState st;

        if (store_crl_state(c->store, &st) < 0 || store_unpublished(c->store, &unpublished) < 0)
                return true;
        if (dir_fd < 0 || fstatat(dir_fd, "crl.der", &crl, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(crl.st_mode))
                return true;
        /* crl.pem follows crl.der after the reply: a stop between the two
         * left an older one, which a build replaces */
        if (fstatat(dir_fd, "crl.pem", &pem, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(pem.st_mode) ||
            pem.st_mtim.tv_sec < crl.st_mtim.tv_sec ||
            (pem.st_mtim.tv_sec == crl.st_mtim.tv_sec && pem.st_mtim.tv_nsec < crl.st_mtim.tv_nsec))
                return true;
        /* the trust module's input, of this format, is made by a build */
        if (fstatat(dir_fd, "revoked.idx", &crl, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(crl.st_mode))
                return true;
        return unpublished > 0 || st.this_update_usec == 0 ||
               st.next_update_usec < now_usec() + c->config.crl_validity_usec * 3 / 4;
}

/* Makes the publish directory when it is missing.  One that a user other
 * than root could change stops the start; one that cannot be made yet is
 * made by the first build. */
static int open_publish_directory(Context *c, int *ret_fd) {
        _cleanup_free_ char *why = NULL;
        const char *dir = c->config.publish_directory;
        int r;

        r = directory_open_trusted(dir, PUBLISH_DIR_MODE, ret_fd, &why);
        if (r < 0 && why)
                return log_error_errno(r, "config: PublishDirectory=%s: %s", dir, why);
        if (r < 0)
                log_warning_errno(r, "crl: cannot create %s: %m", dir);
        return 0;
}

int publish_setup(Context *c, const PublishEvents *events) {
        _cleanup_free_ char *error = NULL;
        _cleanup_close_ int dir_fd = -1;
        Publisher *p;
        CrlState st;
        int r;

        if (!(p = calloc(1, sizeof *p)))
                return -ENOMEM;
        c->publisher = p;
        pthread_mutex_init(&p->gate.lock, NULL);
        pthread_cond_init(&p->gate.open, NULL);
        assert(events && events->crl_published && events->removals_recorded);
        p->events = events;
        if ((r = crl_entries_new(&p->entries)) < 0)
                return r;
        if ((r = token_walker_new(c->config.token_modules, &p->walker)) < 0)
                return r;
        if ((r = sd_event_add_defer(c->event, &p->defer, on_defer, c)) < 0 ||
            (r = sd_event_source_set_enabled(p->defer, SD_EVENT_OFF)) < 0 ||
            (r = sd_event_add_time(c->event, &p->timer, CLOCK_MONOTONIC, 0, USEC_PER_SEC, on_timer, c)) < 0 ||
            (r = sd_event_source_set_enabled(p->timer, SD_EVENT_OFF)) < 0 ||
            (r = sd_event_add_time(c->event, &p->coalesce, CLOCK_MONOTONIC, 0, 0, on_coalesce, c)) < 0 ||
            (r = sd_event_source_set_enabled(p->coalesce, SD_EVENT_OFF)) < 0 ||
            (r = sd_event_add_defer(c->event, &p->answer, on_answer, c)) < 0 ||
            (r = sd_event_source_set_enabled(p->answer, SD_EVENT_OFF)) < 0 ||
            (r = sd_event_source_set_priority(p->answer, PRIORITY_WORK)) < 0)
                return r;
        if (!c->config.ca_key || !c->ca) {
                log_warning("crl: no [CA] Key= and Certificate=: revocations are refused");
                return 0;
        }
        if ((r = open_publish_directory(c, &dir_fd)) < 0)
                return r;
        r = crl_signer_open(c->config.ca_key, c->config.ca_pin_file, c->ca, &p->signer, &error);
        if (r < 0)
                return log_error_errno(r, "config: [CA] Key=%s: %s", c->config.ca_key,
                                       error ? error : strerror(-r));
        /* a number reserved before this start may be on disk already */
        if ((r = store_crl_reserved(c->store, &p->last_number)) < 0)
                return r;
        if (due_at_start(c, dir_fd))
                return publish_schedule(c);
        if ((r = store_crl_state(c->store, &st)) < 0)
                return r;
        arm_timer(c, st.next_update_usec - c->config.crl_validity_usec / 4);
        return 0;
}

void publish_free(Context *c) {
        Publisher *p = c->publisher;

        if (!p)
                return;
        for (size_t i = 0; i < p->n_removals; i++)
                removal_done(&p->removals[i]);
        free(p->removals);
        /* published: the callers not told yet hear so now */
        while (p->answers_first < p->n_answers) {
                Answer a = p->answers[p->answers_first++];

                a.done(c, a.result, a.userdata);
        }
        free(p->answers);
        sd_event_source_disable_unref(p->answer);
        /* recorded, to be published at the next start: the callers hear so */
        for (size_t i = 0; i < p->n_waiters; i++)
                p->waiters[i].done(c, -ECANCELED, p->waiters[i].userdata);
        free(p->waiters);
        sd_event_source_disable_unref(p->defer);
        sd_event_source_disable_unref(p->timer);
        sd_event_source_disable_unref(p->coalesce);
        revoked_index_free(p->index);
        for (size_t i = 0; i < ELEMENTSOF(p->spare); i++)
                crl_buffer_free(p->spare[i]);
        crl_signer_free(p->signer);
        token_walker_free(p->walker);
        crl_entries_free(p->entries);
        pthread_cond_destroy(&p->gate.open);
        pthread_mutex_destroy(&p->gate.lock);
        free(p);
        c->publisher = NULL;
}

bool publish_busy(Context *c) {
        Publisher *p = c->publisher;

        return p && (p->job || p->follow || p->follow_next || p->n_waiters > 0 || p->n_removals > 0 ||
                     p->answers_first < p->n_answers ||
                     sd_event_source_get_enabled(p->defer, NULL) > 0);
}
