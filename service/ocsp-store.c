/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How a revocation reaches the answers before RevokeCertificate returns:
 * certrevoked commits the revocation to store.db (WAL) and only then
 * replies.  A client that got the reply sends its OCSP request after
 * that, so the request arrives after the commit.  Every request calls
 * ocsp_store_sync() before it looks anything up, and every answer
 * reflects every commit that preceded its request.
 *
 * The look is cheap when nothing was written.  A commit write()s its
 * frames to store.db-wal (certrevoked keeps that file: it is emptied, not
 * deleted), and the kernel queues IN_MODIFY on our inotify watch of it
 * inside that write(), so before the commit returns.  A request first
 * asks FIONREAD of the inotify descriptor, then reads state (seq_cst);
 * only FIONREAD == 0 and state == QUIET let it go on without the lock.
 * A syncing thread, under the lock, stores SYNCING before it read()s the
 * events, then checks that no writer holds the WAL write lock (byte 120
 * of store.db-shm, SQLite's documented wal-index lock: a writer holds it
 * from its first frame until its commit is visible), then probes PRAGMA
 * data_version and reads the changes, and only then stores QUIET (or
 * UNSETTLED when a writer held the lock: its commit may not be visible
 * yet, so the next requests look again).
 *
 * Why a request R that arrives after a commit C cannot skip it: C's event
 * was queued before C returned, so before R arrived.  If R's FIONREAD
 * saw no event, a syncing thread had read C's event, after storing
 * SYNCING.  R reads state after its FIONREAD, so after that read(): it
 * sees QUIET only once that thread (or a later one) stored it, which it
 * does after finding the write lock free, hence C finished, and after a
 * probe that started later, hence saw C.  Events coalesce, but a queued
 * event stays counted by FIONREAD until it is read, so coalescing hides
 * none.
 *
 * Without a watch (no -wal yet, the file replaced, inotify refused), or
 * while a writer is seen mid-commit, every request probes as before: a
 * probe that started after the request arrived covers it; otherwise it
 * asks SQLite for PRAGMA data_version, which changes with every commit of
 * another connection, and reads the changes while still holding the
 * lock.  A probe runs at least once a second in any case, a safety net.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crl-reason.h"
#include "log.h"
#include "ocsp-store.h"
#include "store.h"
#include "util.h"

static int sql_fail(OcspStore *s, const char *what) {
        log_error("store: %s: %s", what, sqlite3_errmsg(s->db));
        return -EIO;
}

static void stmt_finalizep(sqlite3_stmt **st) {
        sqlite3_finalize(*st);
}

static int prepare(OcspStore *s, const char *sql, sqlite3_stmt **ret) {
        if (sqlite3_prepare_v2(s->db, sql, -1, ret, NULL) != SQLITE_OK)
                return sql_fail(s, sql);
        return 0;
}

static int exec(OcspStore *s, const char *sql) {
        if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
                return sql_fail(s, sql);
        return 0;
}

/* Upper-case hex as the store spells serials, to the table's key. */
static int serial_from_hex(const char *hex, uint8_t out[static OCSP_SERIAL_MAX], size_t *ret_len) {
        size_t n = strlen(hex), k = 0, i = 0;

        if (n == 0 || (n + 1) / 2 > OCSP_SERIAL_MAX)
                return -EINVAL;
        for (; i < n; k++) {
                unsigned v = 0;

                /* an odd length has one digit in its first octet */
                for (size_t d = (k == 0 && n % 2) ? 1 : 2; d > 0; d--, i++) {
                        char c = hex[i];

                        v <<= 4;
                        if (c >= '0' && c <= '9')
                                v |= (unsigned) (c - '0');
                        else if (c >= 'A' && c <= 'F')
                                v |= (unsigned) (c - 'A' + 10);
                        else
                                return -EINVAL;
                }
                out[k] = (uint8_t) v;
        }
        /* the key has no leading zero octets */
        for (i = 0; i < k && out[i] == 0; i++)
                ;
        memmove(out, out + i, k - i);
        *ret_len = k - i;
        return 0;
}

static int add_serial(OcspTable *t, const char *hex, size_t *ret_index) {
        uint8_t key[OCSP_SERIAL_MAX];
        size_t len;

        if (!hex || serial_from_hex(hex, key, &len) < 0) {
                log_warning("store: serial '%s' is not one certrevoke-ocspd can answer for: skipped",
                            hex ? hex : "");
                return 0;
        }
        return ocsp_table_add(t, key, len, ret_index);
}

static int set_revoked(OcspTable *t, size_t index, uint64_t revoked_usec, const char *reason_name) {
        int reason = crl_reason_from_string(reason_name ? reason_name : "");

        /* as on the CRL: an unspecified reason is left out */
        if (reason < 0 || reason == CRL_REASON_UNSPECIFIED)
                reason = OCSP_REVOKED_STATUS_NOSTATUS;
        return ocsp_table_set(t, index, OCSP_STATUS_REVOKED, reason, revoked_usec);
}

/* Certificates added since the last look, with what they are now.  A row
 * taken back from a CRL (issuer '', fingerprint recovered:…) is one of
 * ours: only our CA's CRL is read back.  afresh: the store was replaced,
 * so a certificate not revoked in it is good again. */
static int read_new(OcspStore *s, OcspTable *t, bool afresh) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        int rc, r;

        r = prepare(s, "SELECT id, serial, revoked_usec, revocation_reason FROM certificates"
                       " WHERE id > ?1 AND (issuer = ?2 OR fingerprint LIKE 'recovered:%') ORDER BY id", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, s->last_id);
        sqlite3_bind_text(st, 2, s->issuer, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                uint64_t revoked = (uint64_t) sqlite3_column_int64(st, 2);
                size_t index;

                s->last_id = sqlite3_column_int64(st, 0);
                r = add_serial(t, (const char *) sqlite3_column_text(st, 1), &index);
                if (r < 0)
                        return r;
                if (r > 0 && revoked != 0)
                        r = set_revoked(t, index, revoked, (const char *) sqlite3_column_text(st, 3));
                else if (r > 0 && afresh)
                        r = ocsp_table_set(t, index, OCSP_STATUS_GOOD, -1, 0);
                if (r < 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_fail(s, "new certificates");
}

/* Revocations since the last look, through certificates_by_seq. */
static int read_revoked(OcspStore *s, OcspTable *t) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        int rc, r;

        r = prepare(s, "SELECT revocation_seq, serial, revoked_usec, revocation_reason FROM certificates"
                       " WHERE revocation_seq > ?1 ORDER BY revocation_seq", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, s->last_seq);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                uint8_t key[OCSP_SERIAL_MAX];
                const char *hex = (const char *) sqlite3_column_text(st, 1);
                size_t len, index;

                s->last_seq = sqlite3_column_int64(st, 0);
                if (!hex || serial_from_hex(hex, key, &len) < 0 || ocsp_table_find(t, key, len, &index) < 0)
                        continue;       /* another CA's */
                r = set_revoked(t, index, (uint64_t) sqlite3_column_int64(st, 2),
                                (const char *) sqlite3_column_text(st, 3));
                if (r < 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_fail(s, "revocations");
}

static bool held_contains(const uint32_t *v, size_t n, uint32_t index) {
        for (size_t i = 0; i < n; i++)
                if (v[i] == index)
                        return true;
        return false;
}

/* Holds end where a user was resumed: good again, unless revoked since. */
static int release_holds(OcspStore *s, OcspTable *t, const uint32_t *now, size_t n_now) {
        for (size_t i = 0; i < s->n_held; i++) {
                OcspEntry e;
                uint64_t unused;
                int r;

                if (held_contains(now, n_now, s->held[i]))
                        continue;
                ocsp_table_snapshot(t, s->held[i], OCSP_HASH_SHA1, &e, &unused);
                if (e.state.status != OCSP_STATUS_HELD)
                        continue;
                r = ocsp_table_set(t, s->held[i], OCSP_STATUS_GOOD, -1, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The current certificates of suspended users, exactly as the CRL lists
 * them on hold (store.c changes_held): few, found through users_suspended
 * without reading every user, so read whole at each look. */
static int read_held(OcspStore *s, OcspTable *t) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_free_ uint32_t *now = NULL;
        size_t n = 0, allocated = 0;
        int rc, r;

        r = prepare(s, "SELECT c.serial, u.suspended_usec" STORE_SQL_HELD_FROM, &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) now_usec());
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                uint8_t key[OCSP_SERIAL_MAX];
                const char *hex = (const char *) sqlite3_column_text(st, 0);
                size_t len, index;

                if (!hex || serial_from_hex(hex, key, &len) < 0 || ocsp_table_find(t, key, len, &index) < 0)
                        continue;
                r = grow_array((void **) &now, &allocated, n + 1, sizeof *now);
                if (r < 0)
                        return r;
                now[n++] = (uint32_t) index;
                r = ocsp_table_set(t, index, OCSP_STATUS_HELD, OCSP_REVOKED_STATUS_CERTIFICATEHOLD,
                                   (uint64_t) sqlite3_column_int64(st, 1));
                if (r < 0)
                        return r;
        }
        if (rc != SQLITE_DONE)
                return sql_fail(s, "held certificates");
        r = release_holds(s, t, now, n);
        if (r < 0)
                return r;
        free(s->held);
        s->held = TAKE_PTR(now);
        s->n_held = n;
        s->held_allocated = allocated;
        return 0;
}

/* One read transaction: the three reads see the same commit. */
static int read_changes(OcspStore *s, OcspTable *t) {
        int r;

        r = exec(s, "BEGIN");
        if (r < 0)
                return r;
        r = read_new(s, t, false);
        if (r >= 0)
                r = read_revoked(s, t);
        if (r >= 0)
                r = read_held(s, t);
        (void) exec(s, "COMMIT");
        return r;
}

static int data_version(OcspStore *s, int64_t *ret) {
        int rc;

        assert(s->probe);
        rc = sqlite3_step(s->probe);
        if (rc == SQLITE_ROW)
                *ret = sqlite3_column_int64(s->probe, 0);
        sqlite3_reset(s->probe);
        return rc == SQLITE_ROW ? 0 : sql_fail(s, "PRAGMA data_version");
}

static int max_seq(OcspStore *s) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        int r;

        r = prepare(s, "SELECT coalesce(max(revocation_seq), 0) FROM certificates", &st);
        if (r < 0)
                return r;
        if (sqlite3_step(st) != SQLITE_ROW)
                return sql_fail(s, "revocation sequence");
        s->last_seq = sqlite3_column_int64(st, 0);
        return 0;
}

/* The whole table at start, or again from scratch when the store was
 * replaced: every certificate with its status, then the holds; later
 * looks start from the sequence read in the same transaction. */
static int load(OcspStore *s, OcspTable *t, bool afresh) {
        int r;

        r = data_version(s, &s->data_version);
        if (r < 0)
                return r;
        r = exec(s, "BEGIN");
        if (r < 0)
                return r;
        s->last_id = 0;
        r = max_seq(s);
        if (r >= 0)
                r = read_new(s, t, afresh);
        if (r >= 0)
                r = read_held(s, t);
        (void) exec(s, "COMMIT");
        return r;
}

static int open_db(OcspStore *s) {
        int rc, r;

        assert(!s->db);
        /* read-only: the store is certrevoked's; the -wal and -shm files
         * must exist (certrevoked keeps them) as this user cannot make them */
        rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL);
        if (rc != SQLITE_OK) {
                log_error("Failed to open %s read-only: %s", s->path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
                return -EIO;
        }
        r = exec(s, "PRAGMA busy_timeout=5000");
        if (r < 0)
                return r;
        r = prepare(s, "PRAGMA data_version", &s->probe);
        if (r < 0)
                return r;
        /* closing any descriptor of a file drops the process's POSIX locks
         * on it, SQLite's included: this one lives as long as the
         * connection.  Without it the watch never settles: a probe per
         * request, as before. */
        s->shm_fd = open(s->shm_path, O_RDONLY | O_CLOEXEC);
        if (s->shm_fd < 0)
                log_warning_errno(-errno, "Failed to open %s, every request looks at the store: %m",
                                  s->shm_path);
        return 0;
}

static void close_db(OcspStore *s) {
        sqlite3_finalize(s->probe);
        s->probe = NULL;
        sqlite3_close(s->db);
        s->db = NULL;
        /* after the connection: its locks went with it */
        if (s->shm_fd >= 0)
                close(s->shm_fd);
        s->shm_fd = -1;
}

/* The watch on store.db-wal; a missing file is no error: requests probe
 * until it is there. */
static void watch_add(OcspStore *s) {
        struct stat st;

        assert(s->wd < 0);
        s->next_watch_usec = monotonic_usec() + USEC_PER_SEC;
        if (s->inotify_fd < 0)
                return;
        /* the file, not the directory: the responder may not read the
         * state directory (0711).  IN_ATTRIB comes with an unlink or a
         * replaced mode; the others when the file goes away. */
        s->wd = inotify_add_watch(s->inotify_fd, s->wal_path,
                                  IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF);
        if (s->wd < 0) {
                log_debug_errno(-errno, "Failed to watch %s, every request looks at the store: %m", s->wal_path);
                return;
        }
        if (stat(s->wal_path, &st) < 0) {
                log_debug_errno(-errno, "Failed to stat %s: %m", s->wal_path);
                (void) inotify_rm_watch(s->inotify_fd, s->wd);
                s->wd = -1;
                return;
        }
        s->wal_dev = st.st_dev;
        s->wal_ino = st.st_ino;
        log_debug("watching %s for commits", s->wal_path);
}

/* Still the file the watch was put on? */
static bool watch_same_file(OcspStore *s) {
        struct stat st;

        return stat(s->wal_path, &st) >= 0 && st.st_dev == s->wal_dev && st.st_ino == s->wal_ino;
}

/* Reads every queued event; false when the store was replaced (the
 * watch then follows the new file) and must be read afresh. */
static bool watch_drain(OcspStore *s) {
        _Alignas(struct inotify_event) char buf[4096];
        bool check = false, gone = false;
        ssize_t n;

        while ((n = read(s->inotify_fd, buf, sizeof buf)) > 0)
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *e = (const struct inotify_event *) p;

                        p += sizeof *e + e->len;
                        if (e->mask & IN_Q_OVERFLOW)
                                check = true;
                        if (e->wd != s->wd)
                                continue;       /* a watch removed before */
                        if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
                                gone = true;
                        if (e->mask & IN_ATTRIB)
                                check = true;
                }
        if (n < 0 && errno != EAGAIN)
                log_warning_errno(-errno, "Failed to read the events of %s: %m", s->wal_path);
        if (s->wd < 0 || (!gone && !(check && !watch_same_file(s))))
                return true;
        log_info("%s was replaced: reading the store afresh", s->wal_path);
        (void) inotify_rm_watch(s->inotify_fd, s->wd);
        s->wd = -1;
        /* before the new connection: a commit after it queues an event */
        watch_add(s);
        return false;
}

/* Whether a writer holds the WAL write lock: its commit may not be
 * visible yet though its frames are written (F_GETLK: the locks of other
 * processes only; ours never take it). */
static bool writer_active(OcspStore *s) {
        struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 120, .l_len = 1 };

        if (s->shm_fd < 0)
                return true;
        if (fcntl(s->shm_fd, F_GETLK, &fl) < 0) {
                log_debug_errno(-errno, "Failed to query the locks of %s: %m", s->shm_path);
                return true;
        }
        return fl.l_type != F_UNLCK;
}

/* A new connection and the whole store again, for a store replaced under
 * the responder (restored, moved): the old connection reads the old file.
 * *ret_settled as in look(), for the new file: its lock is seen before
 * the load reads it. */
static int reopen(OcspStore *s, OcspTable *t, bool *ret_settled) {
        int r;

        close_db(s);
        r = open_db(s);
        *ret_settled = r >= 0 && s->wd >= 0 && !writer_active(s);
        if (r >= 0)
                r = load(s, t, true);
        if (r < 0)
                log_error_errno(r, "Failed to read %s afresh: %m", s->path);
        return r;
}

int ocsp_store_open(OcspStore *s, const char *state_dir, const char *issuer, OcspTable *t) {
        int r;

        assert(s && state_dir && issuer && t);
        *s = (OcspStore) { .inotify_fd = -1, .wd = -1, .shm_fd = -1, .state = OCSP_STORE_UNSETTLED };
        pthread_mutex_init(&s->lock, NULL);
        if (!(s->issuer = strdup(issuer)) || asprintf(&s->path, "%s/store.db", state_dir) < 0 ||
            asprintf(&s->wal_path, "%s-wal", s->path) < 0 || asprintf(&s->shm_path, "%s-shm", s->path) < 0)
                return log_error_errno(-ENOMEM, "Failed to open the store: %m");
        s->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (s->inotify_fd < 0)
                log_warning_errno(-errno, "Failed to set up inotify, every request looks at the store: %m");
        /* before the load: a commit after it queues an event */
        watch_add(s);
        r = open_db(s);
        if (r >= 0)
                r = load(s, t, false);
        if (r < 0)
                log_error("Failed to read %s", s->path);
        return r;
}

void ocsp_store_close(OcspStore *s) {
        close_db(s);
        if (s->inotify_fd >= 0)
                close(s->inotify_fd);
        free(s->path);
        free(s->wal_path);
        free(s->shm_path);
        free(s->issuer);
        free(s->held);
        pthread_mutex_destroy(&s->lock);
        *s = (OcspStore) { .inotify_fd = -1, .wd = -1, .shm_fd = -1 };
}

/* The lock-free test: true when every commit before now is in the table.
 * The order of the two reads is the proof's (top of the file). */
static bool quiet(OcspStore *s, uint64_t arrival_usec) {
        int queued = 0;

        if (arrival_usec >= atomic_load(&s->next_probe_usec))
                return false;
        if (ioctl(s->inotify_fd, FIONREAD, &queued) < 0 || queued > 0)
                return false;
        return atomic_load(&s->state) == OCSP_STORE_QUIET;
}

/* Under the lock: the events, then the probe and the changes.  Returns
 * whether requests may trust the watch afterwards. */
static bool look(OcspStore *s, OcspTable *t, int *ret) {
        bool settled = false, fresh = true;
        int64_t v;
        int r;

        if (s->wd < 0 && monotonic_usec() >= s->next_watch_usec)
                watch_add(s);
        if (s->wd >= 0) {
                fresh = watch_drain(s);
                settled = s->wd >= 0 && !writer_active(s);
        }
        s->probe_started_usec = monotonic_usec();
        atomic_store(&s->next_probe_usec, s->probe_started_usec + USEC_PER_SEC);
        if (!fresh || !s->db) {
                r = reopen(s, t, &settled);
                *ret = r < 0 ? r : 1;
                return settled && r >= 0;
        }
        r = data_version(s, &v);
        if (r >= 0 && v != s->data_version) {
                r = read_changes(s, t);
                if (r >= 0) {
                        s->data_version = v;
                        r = 1;
                }
        }
        *ret = r;
        return settled && r >= 0;
}

int ocsp_store_sync(OcspStore *s, OcspTable *t, uint64_t arrival_usec) {
        bool settled;
        int r = 0;

        if (quiet(s, arrival_usec))
                return 0;
        pthread_mutex_lock(&s->lock);
        /* a probe that began after this request arrived saw every commit
         * the request can know of */
        if (s->probe_started_usec > arrival_usec)
                goto out;
        atomic_store(&s->state, OCSP_STORE_SYNCING);
        settled = look(s, t, &r);
        atomic_store(&s->state, settled ? OCSP_STORE_QUIET : OCSP_STORE_UNSETTLED);
        if (settled != s->settled)
                log_debug(settled ? "%s watched: answers without a look at the store until its next write"
                                  : "%s not watched, or a commit under way: a look at the store per answer",
                          s->wal_path);
        s->settled = settled;
out:
        pthread_mutex_unlock(&s->lock);
        return r;
}
