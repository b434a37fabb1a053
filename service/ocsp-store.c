/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How a revocation reaches the answers before RevokeCertificate returns:
 * certrevoked commits the revocation to store.db (WAL) and only then
 * replies.  A client that got the reply sends its OCSP request after
 * that, so the request arrives after the commit.  Every request calls
 * ocsp_store_sync() with its arrival time before it looks anything up:
 * unless a probe started after the arrival (and thus after the commit),
 * it asks SQLite for PRAGMA data_version, which changes with every commit
 * of another connection, and reads the changes while still holding the
 * lock.  So every answer reflects every commit that preceded its request;
 * the cost on the request path is one probe per burst of requests, not a
 * read of the store.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

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
 * ours: only our CA's CRL is read back. */
static int read_new(OcspStore *s, OcspTable *t) {
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
                if (r > 0 && revoked != 0 &&
                    (r = set_revoked(t, index, revoked, (const char *) sqlite3_column_text(st, 3))) < 0)
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
        r = read_new(s, t);
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

/* The whole table at start: every certificate with its status, then the
 * holds; later looks start from the sequence read in the same transaction. */
static int load(OcspStore *s, OcspTable *t) {
        int r;

        r = data_version(s, &s->data_version);
        if (r < 0)
                return r;
        r = exec(s, "BEGIN");
        if (r < 0)
                return r;
        r = max_seq(s);
        if (r >= 0)
                r = read_new(s, t);
        if (r >= 0)
                r = read_held(s, t);
        (void) exec(s, "COMMIT");
        return r;
}

int ocsp_store_open(OcspStore *s, const char *state_dir, const char *issuer, OcspTable *t) {
        _cleanup_free_ char *path = NULL;
        int rc, r;

        assert(s && state_dir && issuer && t);
        *s = (OcspStore) {};
        pthread_mutex_init(&s->lock, NULL);
        if (!(s->issuer = strdup(issuer)) || asprintf(&path, "%s/store.db", state_dir) < 0)
                return log_error_errno(-ENOMEM, "Failed to open the store: %m");
        /* read-only: the store is certrevoked's; the -wal and -shm files
         * must exist (certrevoked keeps them) as this user cannot make them */
        rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL);
        if (rc != SQLITE_OK) {
                log_error("Failed to open %s read-only: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
                return -EIO;
        }
        r = exec(s, "PRAGMA busy_timeout=5000");
        if (r >= 0)
                r = prepare(s, "PRAGMA data_version", &s->probe);
        if (r >= 0)
                r = load(s, t);
        if (r < 0)
                log_error("Failed to read %s", path);
        return r;
}

void ocsp_store_close(OcspStore *s) {
        sqlite3_finalize(s->probe);
        sqlite3_close(s->db);
        free(s->issuer);
        free(s->held);
        pthread_mutex_destroy(&s->lock);
        *s = (OcspStore) {};
}

int ocsp_store_sync(OcspStore *s, OcspTable *t, uint64_t arrival_usec) {
        int64_t v;
        int r = 0;

        pthread_mutex_lock(&s->lock);
        /* a probe that began after this request arrived saw every commit
         * the request can know of */
        if (s->probe_started_usec > arrival_usec)
                goto out;
        s->probe_started_usec = monotonic_usec();
        r = data_version(s, &v);
        if (r < 0 || v == s->data_version)
                goto out;
        r = read_changes(s, t);
        if (r >= 0) {
                s->data_version = v;
                r = 1;
        }
out:
        pthread_mutex_unlock(&s->lock);
        return r;
}
