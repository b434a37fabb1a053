/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Publication of the CRL.  A build runs in a worker thread: it reads the
 * revocations on a store connection of its own, signs, replaces the files
 * atomically and then takes the revoked certificates off their tokens.
 * The loop only records the outcome and answers the waiting callers, so
 * revocations that arrive together cost one build. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <stdio.h>

#include "atomic-file.h"
#include "bus-user.h"
#include "crl.h"
#include "log.h"
#include "publish.h"
#include "revoked-index.h"
#include "tokens.h"
#include "util.h"
#include "worker.h"

#define RETRY_USEC (30 * USEC_PER_SEC)
/* Readable by every user's programs: the trust module reads the files. */
#define PUBLISH_DIR_MODE 0755

typedef struct Waiter {
        uint64_t seq;
        uint64_t job_min;               /* served only by a build started this late */
        publish_done_fn done;
        void *userdata;
} Waiter;

typedef struct Removal {
        int64_t cert_id;
        char *login_id;
        char *uri;
        unsigned char *der;
        size_t der_len;
} Removal;

typedef struct Job {
        /* in: set on the loop before the thread starts */
        char *state_dir, *publish_dir, **modules, *pin;
        CrlSigner *signer;
        X509 *ca;
        RevokedIndex *index;            /* the publisher's, handed back when done */
        CrlState crl;
        Removal *removals;
        TokenRemoval *items;
        size_t n_removals;
        size_t n_waiters_taken;
        uint64_t id;
        /* out */
        int result;
        char *why;                      /* why the publish directory was refused */
        uint64_t seq;
        size_t n_entries;
} Job;

typedef struct Publisher {
        CrlSigner *signer;
        RevokedIndex *index;            /* revoked.idx, open once a build made it */
        Waiter *waiters;
        size_t n_waiters, waiters_allocated;
        Removal *removals;
        size_t n_removals, removals_allocated;
        Job *job;
        uint64_t jobs_started;
        bool again;                     /* a build without new revocations is wanted */
        sd_event_source *defer, *timer;
} Publisher;

static void removal_done(Removal *r) {
        free(r->login_id);
        free(r->uri);
        free(r->der);
}

/* ---- the worker ---- */

typedef struct Entries {
        CrlEntry *v;
        size_t n, allocated;
        char *arena;
        size_t arena_used, arena_size;
        RevokedIndex *index;            /* revoked.idx, for the trust module */
        uint64_t crl_number;
} Entries;

static int grow(void **p, size_t *allocated, size_t need, size_t size) {
        size_t a = *allocated ? *allocated : 1024;
        void *n;

        if (need <= *allocated)
                return 0;
        while (a < need)
                a *= 2;
        if (!(n = realloc(*p, a * size)))
                return -ENOMEM;
        *p = n;
        *allocated = a;
        return 0;
}

static int collect_entry(const char *serial, uint64_t revoked_usec, const char *reason,
                         const void *der, size_t der_len, void *userdata) {
        Entries *e = userdata;
        size_t len = strlen(serial) + 1;
        int r;

        if (der_len > 0 && (r = revoked_index_sync_entry(e->index, der, der_len, e->crl_number)) < 0)
                return r;
        if ((r = grow((void **) &e->v, &e->allocated, e->n + 1, sizeof *e->v)) < 0 ||
            (r = grow((void **) &e->arena, &e->arena_size, e->arena_used + len, 1)) < 0)
                return r;
        /* offsets now, pointers once the arena stops moving */
        memcpy(e->arena + e->arena_used, serial, len);
        e->v[e->n++] = (CrlEntry) {
                .serial = (const char *) (uintptr_t) e->arena_used,
                .revoked_usec = revoked_usec,
                .reason = crl_reason_from_string(reason),
        };
        e->arena_used += len;
        return 0;
}

static void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

/* The CA certificate, for those who check the CRL. */
static int write_ca(int dir_fd, X509 *ca) {
        _cleanup_(atomic_file_done) AtomicFile f = ATOMIC_FILE_INIT;
        _cleanup_(fclosep) FILE *out = NULL;
        int r;

        if ((r = atomic_file_open(dir_fd, "ca.pem", &f)) < 0)
                return r;
        if (!(out = fdopen(dup(f.fd), "we")))
                return -errno;
        if (!PEM_write_X509(out, ca) || fflush(out) != 0)
                return -EIO;
        if ((r = atomic_file_sync(&f)) < 0)
                return r;
        return atomic_file_commit("ca.pem", &f);
}

/* revoked.idx, opened at the first build (the directory may be made by
 * it) and kept: later builds append only what changed. */
static int open_index(Job *j, int dir_fd) {
        _cleanup_free_ unsigned char *ca_der = NULL;
        bool fresh;
        int len;

        if (j->index)
                return 0;
        len = i2d_X509(j->ca, &ca_der);
        if (len <= 0)
                return -ENOMEM;
        /* the format the module read before: it reads revoked.idx now */
        (void) unlinkat(dir_fd, "revoked.der", 0);
        return revoked_index_open(dir_fd, ca_der, (size_t) len, &j->index, &fresh);
}

/* The revoked certificates and the CRL that lists them, read in one
 * snapshot.  revoked.idx goes first: a reader that sees the new CRL finds
 * every certificate it lists, and one that sees the old CRL hides what
 * was appended for the new one. */
static int build_and_publish(Job *j) {
        _cleanup_free_ unsigned char *der = NULL;
        _cleanup_close_ int dir_fd = -1;
        Entries e = {};
        size_t len = 0;
        int r;

        /* checked again each time: a directory that became unsafe since
         * the start is not written into; made again if it went */
        r = directory_open_trusted(j->publish_dir, PUBLISH_DIR_MODE, &dir_fd, &j->why);
        if (r < 0)
                return r;
        if ((r = open_index(j, dir_fd)) < 0)
                return r;
        e.index = j->index;
        e.crl_number = j->crl.number;
        revoked_index_sync_begin(j->index);
        r = store_crl_snapshot(j->state_dir, collect_entry, &e, &j->seq);
        for (size_t i = 0; r >= 0 && i < e.n; i++)
                e.v[i].serial = e.arena + (uintptr_t) e.v[i].serial;
        if (r >= 0)
                r = crl_build(j->signer, j->ca, e.v, e.n, j->crl.number, j->crl.this_update_usec,
                              j->crl.next_update_usec, &der, &len);
        /* names the CRL just signed (and verified), before it is published */
        r = revoked_index_sync_end(j->index, j->crl.number, der, len, r);
        j->n_entries = e.n;
        free(e.v);
        free(e.arena);
        if (r < 0 || (r = write_ca(dir_fd, j->ca)) < 0 || (r = crl_publish_at(dir_fd, der, len)) < 0)
                return r;
        revoked_index_published(j->index, j->crl.number);
        return 0;
}

static void job_work(void *userdata) {
        Job *j = userdata;

        j->result = build_and_publish(j);
        /* the revocation stands either way: the token copy goes */
        tokens_remove(j->modules, j->items, j->n_removals, j->pin);
}

/* ---- the loop side ---- */

static void job_free(Job *j) {
        if (!j)
                return;
        for (size_t i = 0; i < j->n_removals; i++)
                removal_done(&j->removals[i]);
        free(j->removals);
        free(j->items);
        free(j->state_dir);
        free(j->publish_dir);
        free(j->why);
        strv_free(j->modules);
        if (j->pin) {
                erase_memory(j->pin, strlen(j->pin));
                free(j->pin);
        }
        free(j);
}

static int schedule(Context *c);

static void complete_waiters(Context *c, Job *j) {
        Publisher *p = c->publisher;
        size_t k = 0, n = p->n_waiters;
        Waiter *done = malloc(n * sizeof *done + 1);

        /* answered in order; a callback may queue more, so detach first */
        for (size_t i = 0; i < n; i++) {
                Waiter *w = &p->waiters[i];
                bool served = j->result >= 0 ? w->seq <= j->seq && j->id >= w->job_min : i < j->n_waiters_taken;

                if (served && done)
                        done[k++] = *w;
                else
                        p->waiters[i - k] = *w;
        }
        p->n_waiters = n - k;
        for (size_t i = 0; i < k; i++)
                done[i].done(c, j->result, done[i].userdata);
        free(done);
}

static void record_removals(Context *c, Job *j) {
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
                user_emit_changed(c, r->login_id);
        }
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

static void job_finished(Context *c, Job *j) {
        Publisher *p = c->publisher;
        int r = j->result;

        if (r >= 0 && (r = store_crl_published(c->store, &j->crl, j->seq)) < 0)
                j->result = r;
        if (r >= 0) {
                char number[24];

                snprintf(number, sizeof number, "%llu", (unsigned long long) j->crl.number);
                log_event(LOG_INFO, CR_MESSAGE_CRL_PUBLISHED, "CERTREVOKE_CRL_NUMBER", number, NULL, NULL,
                          "crl: number %s published with %zu entries", number, j->n_entries);
                (void) sd_bus_emit_properties_changed(c->bus, CR_MANAGER_PATH, CR_MANAGER_IFACE, "CRLNumber",
                                                      "CRLThisUpdate", "CRLNextUpdate", NULL);
                /* re-signed well before nextUpdate, also when nothing was revoked */
                arm_timer(c, j->crl.next_update_usec - c->config.crl_validity_usec / 4);
        } else {
                if (j->why)
                        log_error_errno(r, "crl: number %llu not published: PublishDirectory=%s: %s",
                                        (unsigned long long) j->crl.number, j->publish_dir, j->why);
                else
                        log_error_errno(r, "crl: number %llu not published: %m", (unsigned long long) j->crl.number);
                (void) store_history_add(c->store, "certrevoked", "publish-crl", "", "failed");
                arm_timer(c, now_usec() + RETRY_USEC);
        }
        record_removals(c, j);
        complete_waiters(c, j);
        /* after a failure the retry timer decides, so a full disk cannot spin the loop */
        if (r >= 0 && (p->n_waiters > 0 || p->n_removals > 0 || p->again))
                (void) schedule(c);
}

static void job_done(Context *c, void *userdata) {
        Job *j = userdata;

        c->publisher->job = NULL;
        c->publisher->index = j->index;
        job_finished(c, j);
        job_free(j);
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
        j->signer = p->signer;
        j->ca = c->ca;
        j->index = p->index;
        if ((r = tokens_read_pin(c->config.tokens_pin_file, &j->pin)) < 0)
                log_warning_errno(r, "tokens: cannot read [Tokens] PINFile=: %m; private keys stay");
        if ((r = store_crl_reserve(c->store, &j->crl.number)) < 0)
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
        if ((r = job_prepare(c, j)) < 0 || (r = worker_run(c, job_work, job_done, j)) < 0) {
                j->result = r;
                job_finished(c, j);
                job_free(j);
                return r;
        }
        p->job = j;
        return 0;
}

static int on_defer(sd_event_source *s, void *userdata) {
        Context *c = userdata;

        (void) s;
        if (!c->publisher->job)
                (void) start_job(c);
        return 0;
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

        if ((r = grow((void **) &p->waiters, &p->waiters_allocated, p->n_waiters + 1, sizeof *p->waiters)) < 0 ||
            (r = grow((void **) &p->removals, &p->removals_allocated, p->n_removals + 1, sizeof *p->removals)) < 0)
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

        if ((r = grow((void **) &p->waiters, &p->waiters_allocated, p->n_waiters + 1, sizeof *p->waiters)) < 0)
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
        struct stat crl;
        CrlState st;

        if (store_crl_state(c->store, &st) < 0 || store_unpublished(c->store, &unpublished) < 0)
                return true;
        if (dir_fd < 0 || fstatat(dir_fd, "crl.der", &crl, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(crl.st_mode))
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

int publish_setup(Context *c) {
        _cleanup_free_ char *error = NULL;
        _cleanup_close_ int dir_fd = -1;
        Publisher *p;
        CrlState st;
        int r;

        if (!(p = calloc(1, sizeof *p)))
                return -ENOMEM;
        c->publisher = p;
        if ((r = sd_event_add_defer(c->event, &p->defer, on_defer, c)) < 0 ||
            (r = sd_event_source_set_enabled(p->defer, SD_EVENT_OFF)) < 0 ||
            (r = sd_event_add_time(c->event, &p->timer, CLOCK_MONOTONIC, 0, USEC_PER_SEC, on_timer, c)) < 0 ||
            (r = sd_event_source_set_enabled(p->timer, SD_EVENT_OFF)) < 0)
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
        /* recorded, to be published at the next start: the callers hear so */
        for (size_t i = 0; i < p->n_waiters; i++)
                p->waiters[i].done(c, -ECANCELED, p->waiters[i].userdata);
        free(p->waiters);
        sd_event_source_disable_unref(p->defer);
        sd_event_source_disable_unref(p->timer);
        revoked_index_free(p->index);
        crl_signer_free(p->signer);
        free(p);
        c->publisher = NULL;
}

bool publish_busy(Context *c) {
        Publisher *p = c->publisher;

        return p && (p->job || p->n_waiters > 0 || p->n_removals > 0 ||
                     sd_event_source_get_enabled(p->defer, NULL) > 0);
}
