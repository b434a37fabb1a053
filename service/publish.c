/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Publication of the CRL.  A build runs in a worker thread: it reads the
 * revocations on a store connection of its own, signs, replaces the files
 * atomically and then takes the revoked certificates off their tokens.
 * The loop only records the outcome and answers the waiting callers, so
 * revocations that arrive together cost one build. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <stdio.h>

#include "atomic-file.h"
#include "bus-user.h"
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
/* Readable by every user's programs: the trust module reads the files. */
#define PUBLISH_DIR_MODE 0755

/* One revocation on the CRL: its DER lies in EntrySet.blob. */
typedef struct Listed {
        uint64_t seq;                   /* its place in the revocation order: the key */
        size_t offset;
        uint8_t len;                    /* 0 once it left the CRL */
} Listed;

/* The entries of the next CRL, each encoded once: the revocations in their
 * order, to which a build appends those recorded since the last one, and
 * the certificates on hold, few and read again each time.  Read whole from
 * the store at the first build after the start (or after a failed read).
 * Lent to the build's thread while it runs; the loop touches it only
 * between builds. */
typedef struct EntrySet {
        bool loaded;
        uint64_t seq;                   /* every revocation up to this one is in */
        Listed *v;
        size_t n, allocated, n_left;
        uint8_t *blob;
        size_t blob_len, blob_allocated;
        uint8_t *held;
        size_t held_len, held_allocated, n_held;
        uint64_t *leaving;              /* sequences that leave at the next build (RFC 5280 3.3) */
        size_t n_leaving, leaving_allocated;
} EntrySet;

typedef struct Waiter {
        uint64_t seq;
        uint64_t job_min;               /* served only by a build started this late */
        publish_done_fn done;
        void *userdata;
} Waiter;

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
        TokenWalker *walker;            /* the publisher's, lent while the build runs */
        X509 *ca;
        RevokedIndex *index;            /* the publisher's, handed back when done */
        EntrySet *set;                  /* the publisher's, lent while the build runs */
        CrlState crl;
        Removal *removals;
        TokenRemoval *items;
        size_t n_removals;
        size_t n_waiters_taken;
        uint64_t id;
        PublishedMark mark;             /* in: the last known; out: the one written */
        /* out */
        int result;
        char *why;                      /* why the publish directory was refused */
        uint64_t seq;
        size_t n_entries;
} Job;

typedef struct Publisher {
        CrlSigner *signer;
        TokenWalker *walker;            /* keeps the token modules loaded between builds */
        RevokedIndex *index;            /* revoked.idx, open once a build made it */
        Waiter *waiters;
        size_t n_waiters, waiters_allocated;
        Removal *removals;
        size_t n_removals, removals_allocated;
        Job *job;
        uint64_t jobs_started;
        PublishedMark mark;
        EntrySet set;
        bool again;                     /* a build without new revocations is wanted */
        sd_event_source *defer, *timer;
} Publisher;

static void removal_done(Removal *r) {
        free(r->login_id);
        free(r->uri);
        free(r->der);
}

/* ---- the CRL's entries, kept between builds ---- */

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

static void entry_set_reset(EntrySet *set) {
        set->loaded = false;
        set->seq = 0;
        set->n = set->n_left = set->blob_len = 0;
        set->held_len = set->n_held = 0;
}

static void entry_set_free(EntrySet *set) {
        free(set->v);
        free(set->blob);
        free(set->held);
        free(set->leaving);
        *set = (EntrySet) {};
}

static Listed *entry_find(EntrySet *set, uint64_t seq) {
        size_t lo = 0, hi = set->n;

        /* appended in revocation order: sorted by seq */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (set->v[mid].seq == seq)
                        return &set->v[mid];
                if (set->v[mid].seq < seq)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

/* Drops the entries the last CRL listed after their expiry, then closes
 * the gaps: rare (expiries), and cheaper than writing the CRL itself. */
static void entry_set_drop_leaving(EntrySet *set) {
        size_t k = 0, off = 0;

        for (size_t i = 0; i < set->n_leaving; i++) {
                Listed *l = entry_find(set, set->leaving[i]);

                if (l && l->len) {
                        l->len = 0;
                        set->n_left++;
                }
        }
        set->n_leaving = 0;
        if (set->n_left == 0)
                return;
        for (size_t i = 0; i < set->n; i++) {
                Listed l = set->v[i];

                if (!l.len)
                        continue;
                memmove(set->blob + off, set->blob + l.offset, l.len);
                set->v[k++] = (Listed) { .seq = l.seq, .offset = off, .len = l.len };
                off += l.len;
        }
        set->n = k;
        set->blob_len = off;
        set->n_left = 0;
}

static int encode(const char *serial, uint64_t revoked_usec, const char *reason, uint8_t out[static CRL_ENTRY_MAX],
                  size_t *ret_len) {
        CrlEntry e = { .serial = serial, .revoked_usec = revoked_usec, .reason = crl_reason_from_string(reason) };

        return crl_entry_encode(&e, out, ret_len);
}

static int entry_set_add(uint64_t seq, const char *serial, uint64_t revoked_usec, const char *reason, void *userdata) {
        EntrySet *set = userdata;
        uint8_t der[CRL_ENTRY_MAX];
        size_t len;
        int r;

        r = encode(serial, revoked_usec, reason, der, &len);
        if (r < 0)
                return r;
        if (seq == 0) {
                r = grow((void **) &set->held, &set->held_allocated, set->held_len + len, 1);
                if (r < 0)
                        return r;
                memcpy(set->held + set->held_len, der, len);
                set->held_len += len;
                set->n_held++;
                return 0;
        }
        assert(seq > set->seq && (set->n == 0 || seq > set->v[set->n - 1].seq));
        r = grow((void **) &set->v, &set->allocated, set->n + 1, sizeof *set->v);
        if (r < 0)
                return r;
        r = grow((void **) &set->blob, &set->blob_allocated, set->blob_len + len, 1);
        if (r < 0)
                return r;
        memcpy(set->blob + set->blob_len, der, len);
        set->v[set->n++] = (Listed) { .seq = seq, .offset = set->blob_len, .len = (uint8_t) len };
        set->blob_len += len;
        return 0;
}

/* Brings the set up to the store: what was revoked since the last build,
 * and the holds as they are now. */
static int entry_set_update(EntrySet *set, const char *state_dir, uint64_t *ret_seq) {
        int r;

        if (!set->loaded)
                entry_set_reset(set);
        entry_set_drop_leaving(set);
        set->held_len = set->n_held = 0;
        r = store_crl_changes(state_dir, set->seq, entry_set_add, set, ret_seq);
        if (r < 0) {
                /* half read: start over from the store next time */
                entry_set_reset(set);
                return r;
        }
        set->loaded = true;
        set->seq = *ret_seq;
        return 0;
}

static int entry_set_leave(EntrySet *set, const uint64_t *seqs, size_t n) {
        int r;

        if (n == 0 || !set->loaded)
                return 0;
        r = grow((void **) &set->leaving, &set->leaving_allocated, set->n_leaving + n, sizeof *seqs);
        if (r < 0) {
                /* cannot remember them: read everything again instead */
                entry_set_reset(set);
                return r;
        }
        memcpy(set->leaving + set->n_leaving, seqs, n * sizeof *seqs);
        set->n_leaving += n;
        return 0;
}

/* ---- the worker ---- */

/* One certificate the CRL lists, into revoked.idx. */
typedef struct IndexSync {
        RevokedIndex *index;
        uint64_t crl_number;
} IndexSync;

static int sync_entry(const char *serial, uint64_t revoked_usec, const char *reason, const void *der,
                      size_t der_len, void *userdata) {
        IndexSync *sync = userdata;

        (void) serial, (void) revoked_usec, (void) reason;
        if (der_len == 0)
                return 0;
        return revoked_index_sync_entry(sync->index, der, der_len, sync->crl_number);
}

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

/* revoked.idx, for the trust module: the certificates the CRL der lists,
 * and the CRL itself named.  Written before crl.der, so that a reader that
 * sees the new CRL finds every certificate it lists, and one that sees the
 * old CRL hides what was appended for the new one.  The snapshot is still
 * compared whole in memory; on disk only what changed is appended. */
static int write_index(int dir_fd, Job *j, const unsigned char *der, size_t len) {
        IndexSync sync = { .crl_number = j->crl.number };
        uint64_t seq;
        int r;

        r = open_index(j, dir_fd);
        if (r < 0)
                return r;
        sync.index = j->index;
        revoked_index_sync_begin(j->index);
        r = store_crl_snapshot(j->state_dir, sync_entry, &sync, &seq);
        /* names the CRL just signed (and verified), before it is published */
        return revoked_index_sync_end(j->index, j->crl.number, der, len, r);
}

/* The set brought up to the store, signed as the next CRL. */
static int build(Job *j, unsigned char **ret_der, size_t *ret_len) {
        EntrySet *set = j->set;
        CrlEncoded parts[2];
        int r;

        r = entry_set_update(set, j->state_dir, &j->seq);
        if (r < 0)
                return log_error_errno(r, "crl: cannot read the revocations: %m");
        parts[0] = (CrlEncoded) { .data = set->blob, .len = set->blob_len };
        parts[1] = (CrlEncoded) { .data = set->held, .len = set->held_len };
        j->n_entries = set->n + set->n_held;
        return crl_build_encoded(j->signer, j->ca, parts, ELEMENTSOF(parts), j->crl.number,
                                 j->crl.this_update_usec, j->crl.next_update_usec, ret_der, ret_len);
}

static int build_and_publish(Job *j) {
        _cleanup_free_ unsigned char *der = NULL;
        _cleanup_close_ int dir_fd = -1;
        size_t len = 0;
        int r;

        /* checked again each time: a directory that became unsafe since
         * the start is not written into; made again if it went */
        r = directory_open_trusted(j->publish_dir, PUBLISH_DIR_MODE, &dir_fd, &j->why);
        if (r < 0)
                return r;
        r = check_floor(dir_fd, j);
        if (r < 0)
                return r;
        r = build(j, &der, &len);
        if (r < 0)
                return r;
        r = write_index(dir_fd, j, der, len);
        if (r < 0)
                return log_error_errno(r, "crl: cannot write revoked.idx: %m");
        r = write_ca(dir_fd, j->ca);
        if (r < 0)
                return log_error_errno(r, "crl: cannot write ca.pem: %m");
        r = crl_publish_at(dir_fd, der, len);
        if (r < 0)
                return r;
        mark_published(dir_fd, j);
        revoked_index_published(j->index, j->crl.number);
        return 0;
}

static void job_work(void *userdata) {
        Job *j = userdata;

        j->result = build_and_publish(j);
        /* the revocation stands either way: the token copy goes */
        token_walker_remove(j->walker, j->modules, j->pin, j->items, j->n_removals);
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
        r = entry_set_leave(&c->publisher->set, left, n_left);
        if (r < 0)
                log_warning_errno(r, "crl: the next build reads every entry again: %m");
        return 0;
}

static void job_finished(Context *c, Job *j) {
        Publisher *p = c->publisher;
        int r = j->result;

        if (r >= 0 && (r = record_published(c, j)) < 0)
                j->result = r;
        if (r >= 0) {
                char number[24];

                snprintf(number, sizeof number, "%llu", (unsigned long long) j->crl.number);
                c->publisher->mark = j->mark;
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
                /* a CRL above ours stays until an administrator decides: no retry */
                if (r != -ESTALE)
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
        j->walker = p->walker;
        j->ca = c->ca;
        j->set = &p->set;
        j->index = p->index;
        j->mark = p->mark;
        if (c->config.tokens_pin_file) {
                _cleanup_free_ char *error = NULL;

                r = pin_file_read(c->config.tokens_pin_file, &j->pin, &error);
                if (r < 0)
                        log_warning_errno(r, "tokens: [Tokens] PINFile=: %s; private keys stay", error ?: strerror(-r));
        }
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
        if ((r = token_walker_new(c->config.token_modules, &p->walker)) < 0)
                return r;
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
        token_walker_free(p->walker);
        entry_set_free(&p->set);
        free(p);
        c->publisher = NULL;
}

bool publish_busy(Context *c) {
        Publisher *p = c->publisher;

        return p && (p->job || p->n_waiters > 0 || p->n_removals > 0 ||
                     sd_event_source_get_enabled(p->defer, NULL) > 0);
}
