/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "store.h"
#include "util.h"

/* Refusals of one caller who is no user, held since their last row. */
typedef struct HeldRefusals {
        char *actor;
        char *action, *target, *result;         /* of the first held; "*" where a later one differs */
        uint64_t count;                         /* held, not written yet */
        uint64_t last_usec;                     /* wall clock of the newest: the row's time */
        uint64_t due_mono;                      /* CLOCK_MONOTONIC end of the interval */
} HeldRefusals;

/* Callers who are no user aggregated at once (a host has few UIDs that
 * are no user of ours); beyond, the one whose interval ends first is
 * written early. */
#define HELD_MAX 1024

/* A statement kept prepared, found again by its SQL's hash and text. */
typedef struct CachedStatement {
        uint32_t hash;
        sqlite3_stmt *st;
} CachedStatement;

struct Store {
        sqlite3 *db;
        CachedStatement *cache; /* every statement this connection prepared */
        size_t n_cache, allocated_cache;
        int lock_fd;
        bool sync_deferred;     /* store_defer_sync(): synced by store_sync_log() */
        unsigned depth;         /* transactions open: the outermost, then savepoints */
        HeldRefusals *held;     /* HELD_MAX slots, from the first refusal on */
        size_t n_held;
        store_history_watch_cb watch;
        void *watch_userdata;
};

/* Each entry moves the schema one version on; PRAGMA user_version says
 * how many have run.  Never edit an entry that has shipped: append. */
static const char *const migrations[] = {
        /* 1: users, certificates, history, CRL state */
        "CREATE TABLE users ("
        "  id INTEGER PRIMARY KEY,"
        "  login_id TEXT NOT NULL UNIQUE,"
        "  name TEXT NOT NULL,"
        "  role TEXT NOT NULL CHECK (role IN ('master','admin','general','worker')),"
        "  uid INTEGER NOT NULL UNIQUE CHECK (uid > 0 AND uid < 4294967295),"
        "  created_usec INTEGER NOT NULL);"
        "CREATE TABLE certificates ("
        "  id INTEGER PRIMARY KEY,"
        /* revoked certificates outlive their user: the CRL still needs them */
        "  user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,"
        "  der BLOB NOT NULL,"
        "  serial TEXT NOT NULL,"
        "  issuer TEXT NOT NULL,"
        "  subject TEXT NOT NULL,"
        "  not_before_usec INTEGER NOT NULL,"
        "  not_after_usec INTEGER NOT NULL,"
        "  fingerprint TEXT NOT NULL UNIQUE,"
        "  uri TEXT NOT NULL DEFAULT '',"
        "  seen_usec INTEGER NOT NULL DEFAULT 0,"
        "  revoked_usec INTEGER NOT NULL DEFAULT 0,"
        "  revocation_reason TEXT NOT NULL DEFAULT '',"
        "  revoked_by TEXT NOT NULL DEFAULT '',"
        "  UNIQUE (issuer, serial));"
        "CREATE INDEX certificates_by_user ON certificates (user_id, not_before_usec, id);"
        "CREATE TABLE history ("
        "  id INTEGER PRIMARY KEY,"
        "  time_usec INTEGER NOT NULL,"
        "  actor TEXT NOT NULL,"
        "  action TEXT NOT NULL,"
        "  target TEXT NOT NULL,"
        "  result TEXT NOT NULL);"
        "CREATE INDEX history_by_time ON history (time_usec);"
        "CREATE TABLE crl_state ("
        "  id INTEGER PRIMARY KEY CHECK (id = 1),"
        "  number INTEGER NOT NULL,"
        "  this_update_usec INTEGER NOT NULL,"
        "  next_update_usec INTEGER NOT NULL);"
        "INSERT INTO crl_state VALUES (1, 0, 0, 0);",
        /* 2: revocation bookkeeping: the order revocations were recorded in,
         * the first CRL that listed each, token removal, failed confirmations */
        "ALTER TABLE certificates ADD COLUMN revocation_seq INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE certificates ADD COLUMN crl_number INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE certificates ADD COLUMN listed_after_expiry INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE certificates ADD COLUMN removal TEXT NOT NULL DEFAULT ''"
        "  CHECK (removal IN ('', 'pending', 'removed'));"
        "CREATE INDEX certificates_on_crl ON certificates (revocation_seq)"
        "  WHERE revocation_seq != 0 AND listed_after_expiry = 0;"
        "ALTER TABLE crl_state ADD COLUMN published_seq INTEGER NOT NULL DEFAULT 0;"
        "CREATE TABLE auth_failures ("
        "  login_id TEXT PRIMARY KEY,"
        "  failures INTEGER NOT NULL,"
        "  locked_until_usec INTEGER NOT NULL DEFAULT 0);",
        /* 3: number counts reserved CRL numbers, published_number the one
         * readers have; suspended users (their certificate on hold) */
        "ALTER TABLE crl_state ADD COLUMN published_number INTEGER NOT NULL DEFAULT 0;"
        "UPDATE crl_state SET published_number = number WHERE this_update_usec != 0;"
        "ALTER TABLE users ADD COLUMN suspended_usec INTEGER NOT NULL DEFAULT 0;",
        /* 4: max(revocation_seq) at every revocation must not scan the table */
        "CREATE INDEX certificates_by_seq ON certificates (revocation_seq);",
        /* 5: login IDs unique without regard to case (they are ASCII, which
         * NOCASE folds); refuse_old_login_ids() runs first */
        "CREATE UNIQUE INDEX users_by_login_nocase ON users (login_id COLLATE NOCASE);",
        /* 6: history rows count the refusals they stand for and are chained by
         * hash; history_chain keeps the anchor the oldest kept row chains from
         * (the last row pruned) and the head the next row chains to */
        "ALTER TABLE history ADD COLUMN count INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1);"
        "ALTER TABLE history ADD COLUMN hash BLOB NOT NULL DEFAULT x'';"
        "CREATE TABLE history_chain ("
        "  id INTEGER PRIMARY KEY CHECK (id = 1),"
        "  anchor_id INTEGER NOT NULL,"
        "  anchor_hash BLOB NOT NULL,"
        "  head_id INTEGER NOT NULL,"
        "  head_hash BLOB NOT NULL);"
        "INSERT INTO history_chain VALUES (1, 0, zeroblob(32), 0, zeroblob(32));",
        /* 7: revocations taken back from a published CRL are looked up by
         * serial alone: they have no certificate, hence no issuer (see
         * RECOVERED_FINGERPRINT) */
        "CREATE INDEX certificates_by_serial ON certificates (serial);",
        /* 8: the bookkeeping after a CRL touches only what changed: the
         * listed certificates by expiry, the suspended users */
        "CREATE INDEX certificates_listed_by_expiry ON certificates (not_after_usec)"
        "  WHERE revocation_seq != 0 AND listed_after_expiry = 0;"
        "CREATE INDEX users_suspended ON users (suspended_usec) WHERE suspended_usec != 0;",
        /* 9: a rescan settles the pending token removals without reading
         * every certificate */
        "CREATE INDEX certificates_pending_removal ON certificates (id) WHERE removal = 'pending';",
};

/* A revocation recovered from a published CRL without its certificate is
 * a certificates row with issuer '', no DER, notAfter at the end of time
 * (without it RFC 5280 3.3 never lets the entry go) and this fingerprint
 * followed by the serial.  Filing a certificate with that serial later
 * fills the row in: the certificate is the revoked one. */
#define RECOVERED_FINGERPRINT "recovered:"
#define RECOVERED_NOT_AFTER_USEC ((uint64_t) INT64_MAX)

/* What SQL cannot do, run after the same version's SQL in its transaction. */
static int migrate_history_chain(Store *s);
static int (*const migration_steps[])(Store *s) = {
        [5] = migrate_history_chain,
};
_Static_assert(ELEMENTSOF(migration_steps) <= ELEMENTSOF(migrations), "a step without its version");

static int migration_step(Store *s, int v) {
        if ((size_t) v >= ELEMENTSOF(migration_steps) || !migration_steps[v])
                return 0;
        return migration_steps[v](s);
}

/* The version whose migration needs refuse_old_login_ids() to pass first. */
#define LOGIN_RULES_VERSION 5

CrCertState cert_state_derive(int has_cert, uint64_t revoked_usec, uint64_t not_after_usec,
                              uint64_t now, int64_t n_certs) {
        if (!has_cert)
                return CR_CERT_NOT_ISSUED;
        if (revoked_usec != 0)
                return CR_CERT_REVOKED;
        if (not_after_usec <= now)
                return CR_CERT_EXPIRED;
        return n_certs > 1 ? CR_CERT_RENEWED : CR_CERT_ISSUED;
}

static int sql_error(Store *s, int rc, const char *what) {
        log_error("store: %s: %s", what, sqlite3_errmsg(s->db));
        switch (rc & 0xff) {
        case SQLITE_CONSTRAINT: return -EEXIST;
        case SQLITE_FULL:       return -ENOSPC;
        case SQLITE_NOMEM:      return -ENOMEM;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:     return -EBUSY;
        case SQLITE_READONLY:
        case SQLITE_PERM:       return -EROFS;
        default:                return -EIO;
        }
}

static int exec(Store *s, const char *sql) {
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

        return rc == SQLITE_OK ? 0 : sql_error(s, rc, sql);
}

/* Compiling SQL costs more than running most of these queries (a third
 * of the event loop's time once went to sqlite3_prepare_v2), so each
 * connection keeps every statement it prepared until it closes.  A
 * statement is handed out again once it is not running: its holder has
 * stepped it (a holder never calls into the store between taking a
 * statement and its first step) and it has returned SQLITE_DONE or been
 * reset.  The same SQL met while one is running (a query inside another's
 * rows) gets a second statement.  The set of SQL texts is the code's, so
 * the cache stays small. */
static uint32_t sql_hash(const char *sql) {
        uint32_t h = 2166136261U;

        for (const unsigned char *c = (const unsigned char *) sql; *c; c++)
                h = (h ^ *c) * 16777619U;
        return h;
}

static sqlite3_stmt *cache_find(Store *s, uint32_t hash, const char *sql) {
        for (size_t i = 0; i < s->n_cache; i++) {
                CachedStatement *e = &s->cache[i];

                if (e->hash != hash || sqlite3_stmt_busy(e->st) || strcmp(sqlite3_sql(e->st), sql) != 0)
                        continue;
                sqlite3_reset(e->st);
                sqlite3_clear_bindings(e->st);
                return e->st;
        }
        return NULL;
}

static int cache_add(Store *s, uint32_t hash, sqlite3_stmt *st) {
        if (s->n_cache == s->allocated_cache) {
                size_t n = s->allocated_cache ? s->allocated_cache * 2 : 32;
                CachedStatement *cache = reallocarray(s->cache, n, sizeof *cache);

                if (!cache)
                        return -ENOMEM;
                s->cache = cache;
                s->allocated_cache = n;
        }
        s->cache[s->n_cache++] = (CachedStatement) { .hash = hash, .st = st };
        return 0;
}

/* The statement for SQL, ready to bind; given back by stmt_release(). */
static int prepare(Store *s, const char *sql, sqlite3_stmt **ret) {
        uint32_t hash = sql_hash(sql);
        sqlite3_stmt *st;
        int rc, r;

        st = cache_find(s, hash, sql);
        if (st) {
                *ret = st;
                return 0;
        }
        rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
        if (rc != SQLITE_OK)
                return sql_error(s, rc, "prepare");
        r = cache_add(s, hash, st);
        if (r < 0) {
                sqlite3_finalize(st);
                return r;
        }
        *ret = st;
        return 0;
}

/* Reset, so that the statement holds no read transaction open and no
 * pointer into its holder's memory; it stays with its connection. */
static void stmt_release(sqlite3_stmt *st) {
        if (!st)
                return;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
}

static void stmt_releasep(sqlite3_stmt **st) {
        stmt_release(*st);
}
#define _cleanup_stmt_ _cleanup_(stmt_releasep)

/* Closes a connection with every statement it kept. */
static void close_db(Store *s) {
        for (size_t i = 0; i < s->n_cache; i++)
                sqlite3_finalize(s->cache[i].st);
        free(s->cache);
        s->cache = NULL;
        s->n_cache = s->allocated_cache = 0;
        sqlite3_close_v2(s->db);
        s->db = NULL;
}

/* The one integer a query of one row and one column gives. */
static int query_u64(Store *s, const char *sql, const char *what, uint64_t *ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r;

        r = prepare(s, sql, &st);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
                return sql_error(s, rc, what);
        *ret = (uint64_t) sqlite3_column_int64(st, 0);
        return 0;
}

/* Runs a statement that returns no rows. */
static int step_done(Store *s, sqlite3_stmt *st) {
        int rc = sqlite3_step(st);

        return rc == SQLITE_DONE ? 0 : sql_error(s, rc, sqlite3_sql(st));
}

/* Transactions nest: an inner one is a savepoint of the outer, so that a
 * step that commits on its own (a revocation) can be part of a larger one
 * (its confirmation, the revocation and the CRL number, in one commit). */
int store_begin(Store *s) {
        int r;

        r = exec(s, s->depth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT nested");
        if (r >= 0)
                s->depth++;
        return r;
}

int store_commit(Store *s) {
        int r;

        assert(s->depth > 0);
        r = exec(s, s->depth == 1 ? "COMMIT" : "RELEASE nested");
        /* a failed commit stays open for store_rollback() */
        if (r >= 0)
                s->depth--;
        return r;
}

void store_rollback(Store *s) {
        if (s->depth > 1) {
                (void) exec(s, "ROLLBACK TO nested");
                (void) exec(s, "RELEASE nested");
                s->depth--;
                return;
        }
        s->depth = 0;
        if (!sqlite3_get_autocommit(s->db))
                (void) exec(s, "ROLLBACK");
}

/* The login IDs a query finds (its one column: up to 20 of them,
 * comma-separated); 0 and NULL when none. */
static int list_logins(Store *s, const char *sql, char **ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        const unsigned char *text;
        int r;

        *ret = NULL;
        if ((r = prepare(s, sql, &st)) < 0)
                return r;
        if (sqlite3_step(st) != SQLITE_ROW)
                return sql_error(s, SQLITE_ERROR, "list logins");
        text = sqlite3_column_text(st, 0);
        if (!text)
                return 0;
        *ret = strdup((const char *) text);
        return *ret ? 1 : -ENOMEM;
}

/* From version 5 on login IDs are unique without regard to case, and ".",
 * ".." and a leading '-' are refused.  Which of two clashing logins stays
 * is the administrator's decision, so a store that holds such logins stops
 * the start, naming them and the way out. */
static int refuse_old_login_ids(Store *s, char **error) {
        _cleanup_free_ char *clashing = NULL, *refused = NULL;
        int r;

        r = list_logins(s, "SELECT group_concat(login_id, ', ') FROM (SELECT login_id FROM users"
                           " WHERE login_id COLLATE NOCASE IN (SELECT login_id COLLATE NOCASE FROM users"
                           "   GROUP BY login_id COLLATE NOCASE HAVING count(*) > 1)"
                           " ORDER BY login_id COLLATE NOCASE, login_id LIMIT 20)", &clashing);
        if (r < 0)
                return r;
        r = list_logins(s, "SELECT group_concat(login_id, ', ') FROM (SELECT login_id FROM users"
                           " WHERE login_id IN ('.', '..') OR substr(login_id, 1, 1) = '-'"
                           " ORDER BY login_id LIMIT 20)", &refused);
        if (r < 0)
                return r;
        if (!clashing && !refused)
                return 0;
        if (asprintf(error, "schema version 5 makes login IDs unique without regard to case and refuses \".\", "
                            "\"..\" and a leading '-', but the store holds %s%s%s%s%s: remove them (all but one "
                            "of those that clash) with the certrevoked that added them (certrevokectl remove-user), "
                            "or rename them in store.db with sqlite3 while no certrevoked runs, then start again",
                     clashing ? "login IDs that differ only in case: " : "", clashing ? clashing : "",
                     clashing && refused ? "; and " : "", refused ? "login IDs now refused: " : "",
                     refused ? refused : "") < 0)
                *error = NULL;
        return -EEXIST;
}

static int migrate(Store *s, char **error) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int version, r;

        if ((r = prepare(s, "PRAGMA user_version", &st)) < 0)
                return r;
        if (sqlite3_step(st) != SQLITE_ROW)
                return sql_error(s, SQLITE_ERROR, "user_version");
        version = sqlite3_column_int(st, 0);
        if (version > (int) ELEMENTSOF(migrations)) {
                if (asprintf(error, "store schema version %d is newer than this certrevoked knows (%zu)",
                             version, ELEMENTSOF(migrations)) < 0)
                        *error = NULL;
                return -EPROTO;
        }
        for (int v = version; v < (int) ELEMENTSOF(migrations); v++) {
                char bump[64];

                snprintf(bump, sizeof bump, "PRAGMA user_version = %d", v + 1);
                if (v + 1 == LOGIN_RULES_VERSION) {
                        r = refuse_old_login_ids(s, error);
                        if (r < 0)
                                return r;
                }
                if ((r = store_begin(s)) < 0)
                        return r;
                if ((r = exec(s, migrations[v])) < 0 || (r = migration_step(s, v)) < 0 ||
                    (r = exec(s, bump)) < 0 || (r = store_commit(s)) < 0) {
                        store_rollback(s);
                        return r;
                }
                log_info("store: schema migrated to version %d", v + 1);
        }
        return 0;
}

/* One daemon a store: a second one would race the first on CRL numbers. */
static int take_lock(const char *dir, int *ret_fd, char **error) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        char pid[32] = "";
        ssize_t n;

        if (asprintf(&path, "%s/store.lock", dir) < 0)
                return -ENOMEM;
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int r = -errno;

                if (r != -EWOULDBLOCK)
                        return r;
                n = pread(fd, pid, sizeof pid - 1, 0);
                pid[n > 0 ? n : 0] = 0;
                pid[strcspn(pid, "\n")] = 0;
                if (asprintf(error, "another certrevoked (PID %s) is already using the store in %s",
                             *pid ? pid : "unknown", dir) < 0)
                        *error = NULL;
                return -EBUSY;
        }
        n = snprintf(pid, sizeof pid, "%d\n", (int) getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t) n, 0) != n)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int open_db(Store *s, const char *dir, char **error) {
        _cleanup_free_ char *path = NULL;
        int rc, r;

        if (asprintf(&path, "%s/store.db", dir) < 0)
                return -ENOMEM;
        rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK) {
                if (asprintf(error, "cannot open %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory") < 0)
                        *error = NULL;
                return -EIO;
        }
        /* WAL with FULL sync: a committed revocation survives power loss */
        if ((r = exec(s, "PRAGMA journal_mode=WAL")) < 0 ||
            (r = exec(s, "PRAGMA synchronous=FULL")) < 0 ||
            (r = exec(s, "PRAGMA foreign_keys=ON")) < 0 ||
            (r = exec(s, "PRAGMA busy_timeout=5000")) < 0) {
                if (asprintf(error, "cannot set up %s: %s", path, sqlite3_errmsg(s->db)) < 0)
                        *error = NULL;
                return r;
        }
        /* store.db-wal and -shm stay when the daemon exits on idle: the OCSP
         * responder opens the store read-only and cannot create them.  The
         * log is emptied instead (journal_size_limit=0), so that no old
         * frames lie beside a store.db restored from a backup. */
        int persist = 1;
        rc = sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
        if (rc == SQLITE_OK)
                rc = sqlite3_exec(s->db, "PRAGMA journal_size_limit=0", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
                if (asprintf(error, "cannot keep the log of %s: %s", path, sqlite3_errmsg(s->db)) < 0)
                        *error = NULL;
                return -EIO;
        }
        return 0;
}

int store_open(const char *dir, Store **ret, char **error) {
        Store *s;
        int r;

        *error = NULL;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        if (!(s = calloc(1, sizeof *s)))
                return -ENOMEM;
        s->lock_fd = -1;
        if ((r = take_lock(dir, &s->lock_fd, error)) < 0 ||
            (r = open_db(s, dir, error)) < 0 ||
            (r = migrate(s, error)) < 0) {
                store_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

static void held_write_all(Store *s);

void store_free(Store *s) {
        if (!s)
                return;
        /* refusals held at exit are told now rather than lost */
        held_write_all(s);
        free(s->held);
        /* the last connection checkpoints as it closes: synced, like any */
        if (s->sync_deferred)
                (void) exec(s, "PRAGMA synchronous=FULL");
        close_db(s);
        if (s->lock_fd >= 0)
                close(s->lock_fd);
        free(s);
}

static int sync_directory_of(const char *path) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int fd = -1;
        char *slash;

        if (!path || !(dir = strdup(path)))
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (slash)
                *(slash == dir ? slash + 1 : slash) = 0;
        fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return fsync(fd) < 0 ? -errno : 0;
}

int store_defer_sync(Store *s) {
        int r;

        assert(s);
        r = exec(s, "PRAGMA wal_autocheckpoint=0");
        if (r < 0)
                return r;
        r = exec(s, "PRAGMA synchronous=OFF");
        if (r < 0)
                return r;
        s->sync_deferred = true;
        /* the log exists now (the migrations wrote): its name in the
         * directory is made durable once, its contents by each sync */
        return sync_directory_of(sqlite3_db_filename(s->db, "main"));
}

/* Copies the log into the database on a connection that syncs the log
 * first and the database before the log is reused.  PASSIVE: the loop's
 * connection goes on writing meanwhile. */
static int checkpoint(const char *dir) {
        _cleanup_free_ char *path = NULL;
        Store cp = { .lock_fd = -1 };
        int rc, r;

        if (asprintf(&path, "%s/store.db", dir) < 0)
                return -ENOMEM;
        rc = sqlite3_open_v2(path, &cp.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK)
                r = sql_error(&cp, rc, "open for checkpoint");
        else
                r = exec(&cp, "PRAGMA synchronous=FULL");
        if (r >= 0)
                r = exec(&cp, "PRAGMA busy_timeout=5000");
        if (r >= 0)
                r = exec(&cp, "PRAGMA wal_checkpoint(PASSIVE)");
        close_db(&cp);
        return r;
}

int store_sync_log(const char *dir) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;

        assert(dir);
        if (asprintf(&path, "%s/store.db-wal", dir) < 0)
                return -ENOMEM;
        /* fdatasync writes back the file's pages whoever wrote them: every
         * frame committed before this call, in one sync for all */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;    /* no log: everything is in the database */
        if (fdatasync(fd) < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if ((uint64_t) st.st_size < STORE_CHECKPOINT_BYTES)
                return 0;
        return checkpoint(dir);
}

/* The current certificate is the newest by notBefore; the count tells
 * whether it replaced an earlier one. */
#define USER_SELECT                                                             \
        "SELECT u.login_id, u.name, u.role, u.uid, c.id, c.serial, c.subject, c.uri," \
        "       c.revocation_reason, c.not_after_usec, c.revoked_usec,"          \
        "       (SELECT count(*) FROM certificates n WHERE n.user_id = u.id),"   \
        "       c.removal, u.suspended_usec"                                     \
        "  FROM users u LEFT JOIN certificates c ON c.id ="                      \
        "       (SELECT id FROM certificates WHERE user_id = u.id"               \
        "         ORDER BY not_before_usec DESC, id DESC LIMIT 1) "

static const char *col_text(sqlite3_stmt *st, int i) {
        const unsigned char *t = sqlite3_column_text(st, i);

        return t ? (const char *) t : "";
}

static void row_from_stmt(sqlite3_stmt *st, uint64_t now, UserRow *u) {
        int has_cert = sqlite3_column_type(st, 4) != SQLITE_NULL;

        u->login_id = col_text(st, 0);
        u->name = col_text(st, 1);
        u->role = cr_role_from_string(col_text(st, 2));
        u->uid = (uint32_t) sqlite3_column_int64(st, 3);
        u->serial = col_text(st, 5);
        u->subject = col_text(st, 6);
        u->uri = col_text(st, 7);
        u->revocation_reason = col_text(st, 8);
        u->not_after_usec = (uint64_t) sqlite3_column_int64(st, 9);
        u->revoked_usec = (uint64_t) sqlite3_column_int64(st, 10);
        u->state = cert_state_derive(has_cert, u->revoked_usec, u->not_after_usec, now,
                                     sqlite3_column_int64(st, 11));
        u->removal = col_text(st, 12);
        u->suspended_usec = (uint64_t) sqlite3_column_int64(st, 13);
}

int store_foreach_user(Store *s, store_user_cb cb, void *userdata) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        uint64_t now = now_usec();
        int rc, r;

        if ((r = prepare(s, USER_SELECT "ORDER BY u.login_id", &st)) < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                UserRow u;

                row_from_stmt(st, now, &u);
                if ((r = cb(&u, userdata)) < 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_error(s, rc, "list users");
}

int store_version(Store *s, StoreVersion *ret) {
        uint64_t others;
        int r;

        r = query_u64(s, "PRAGMA data_version", "data version", &others);
        if (r < 0)
                return r;
        *ret = (StoreVersion) { .others = others, .own = (uint64_t) sqlite3_total_changes64(s->db) };
        return 0;
}

int store_count_users(Store *s, uint64_t *ret) {
        return query_u64(s, "SELECT count(*) FROM users", "count users", ret);
}

int store_count_active_masters(Store *s, uint64_t *ret) {
        return query_u64(s, "SELECT count(*) FROM users WHERE role = 'master' AND suspended_usec = 0",
                         "count active masters", ret);
}

static int view_from_row(const UserRow *u, UserView *v) {
        const char *src[] = { u->login_id, u->name, u->serial, u->subject, u->uri, u->revocation_reason,
                              u->removal };
        const char **dst[] = { &v->row.login_id, &v->row.name, &v->row.serial, &v->row.subject,
                               &v->row.uri, &v->row.revocation_reason, &v->row.removal };

        memset(v, 0, sizeof *v);
        v->row = *u;
        for (size_t i = 0; i < ELEMENTSOF(src); i++) {
                if (!(v->strings[i] = strdup(src[i]))) {
                        user_view_done(v);
                        return -ENOMEM;
                }
                *dst[i] = v->strings[i];
        }
        return 0;
}

void user_view_done(UserView *v) {
        for (size_t i = 0; i < ELEMENTSOF(v->strings); i++)
                free(v->strings[i]);
        memset(v, 0, sizeof *v);
}

int store_get_user(Store *s, const char *login_id, UserView *ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        UserRow u;
        int rc, r;

        if ((r = prepare(s, USER_SELECT "WHERE u.login_id = ?1", &st)) < 0)
                return r;
        sqlite3_bind_text(st, 1, login_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return sql_error(s, rc, "get user");
        row_from_stmt(st, now_usec(), &u);
        return view_from_row(&u, ret);
}

int store_user_by_uid(Store *s, uint32_t uid, char **ret_login, CrRole *ret_role, bool *ret_suspended) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r;

        if ((r = prepare(s, "SELECT login_id, role, suspended_usec FROM users WHERE uid = ?1", &st)) < 0)
                return r;
        sqlite3_bind_int64(st, 1, uid);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return sql_error(s, rc, "user by uid");
        if (!(*ret_login = strdup(col_text(st, 0))))
                return -ENOMEM;
        *ret_role = cr_role_from_string(col_text(st, 1));
        *ret_suspended = sqlite3_column_int64(st, 2) != 0;
        return 0;
}

static int user_exists(Store *s, const char *column, sqlite3_int64 v, const char *text) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char sql[80];
        int r;

        snprintf(sql, sizeof sql, "SELECT 1 FROM users WHERE %s = ?1", column);
        if ((r = prepare(s, sql, &st)) < 0)
                return r;
        if (text)
                sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
        else
                sqlite3_bind_int64(st, 1, v);
        return sqlite3_step(st) == SQLITE_ROW;
}

int store_add_user(Store *s, const char *login_id, const char *name, CrRole role, uint32_t uid) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if ((r = user_exists(s, "login_id COLLATE NOCASE", 0, login_id)) != 0)
                return r < 0 ? r : -EEXIST;
        if ((r = user_exists(s, "uid", uid, NULL)) != 0)
                return r < 0 ? r : -EADDRINUSE;
        if ((r = prepare(s, "INSERT INTO users (login_id, name, role, uid, created_usec) "
                            "VALUES (?1, ?2, ?3, ?4, ?5)", &st)) < 0)
                return r;
        sqlite3_bind_text(st, 1, login_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, cr_role_to_string(role), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, uid);
        sqlite3_bind_int64(st, 5, (sqlite3_int64) now_usec());
        return step_done(s, st);
}

/* Runs a one-parameter update on a user; -ENOENT when no row matched. */
static int update_user(Store *s, const char *sql, const char *login_id, const char *arg) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if ((r = prepare(s, sql, &st)) < 0)
                return r;
        sqlite3_bind_text(st, 1, login_id, -1, SQLITE_STATIC);
        if (arg)
                sqlite3_bind_text(st, 2, arg, -1, SQLITE_STATIC);
        if ((r = step_done(s, st)) < 0)
                return r;
        return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

static void rollbackp(Store **s) {
        if (*s)
                store_rollback(*s);
}

int store_remove_user(Store *s, const char *login_id) {
        _cleanup_(rollbackp) Store *tx = NULL;
        int r;

        if ((r = store_begin(s)) < 0)
                return r;
        tx = s;
        /* a revoked certificate stays (its user unset): the CRL must keep it */
        r = update_user(s, "DELETE FROM certificates WHERE revoked_usec = 0 AND user_id = "
                           "(SELECT id FROM users WHERE login_id = ?1)", login_id, NULL);
        if (r < 0 && r != -ENOENT)
                return r;
        if ((r = update_user(s, "DELETE FROM users WHERE login_id = ?1", login_id, NULL)) < 0)
                return r;
        if ((r = store_commit(s)) < 0)
                return r;
        tx = NULL;
        return 0;
}

int store_set_suspended(Store *s, const char *login_id, uint64_t when_usec) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        /* suspending again keeps the date the hold started: it is on the CRL */
        if ((r = prepare(s, "UPDATE users SET suspended_usec = CASE WHEN ?2 != 0 AND suspended_usec != 0"
                            " THEN suspended_usec ELSE ?2 END WHERE login_id = ?1", &st)) < 0)
                return r;
        sqlite3_bind_text(st, 1, login_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64) when_usec);
        if ((r = step_done(s, st)) < 0)
                return r;
        return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

int store_set_role(Store *s, const char *login_id, CrRole role) {
        return update_user(s, "UPDATE users SET role = ?2 WHERE login_id = ?1", login_id,
                           cr_role_to_string(role));
}

/* Who the certificate with this fingerprint is filed under:
 * 1 found (owner in *ret_login, "" when its user was removed), 0 not. */
static int certificate_owner(Store *s, const char *fingerprint, char **ret_login, char **ret_uri) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r;

        if ((r = prepare(s, "SELECT u.login_id, c.uri FROM certificates c "
                            "LEFT JOIN users u ON u.id = c.user_id WHERE c.fingerprint = ?1", &st)) < 0)
                return r;
        sqlite3_bind_text(st, 1, fingerprint, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return 0;
        if (rc != SQLITE_ROW)
                return sql_error(s, rc, "certificate owner");
        *ret_login = strdup(col_text(st, 0));
        *ret_uri = strdup(col_text(st, 1));
        return *ret_login && *ret_uri ? 1 : -ENOMEM;
}

static int insert_certificate(Store *s, const char *login_id, const CertInfo *c, const char *uri) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if ((r = prepare(s, "INSERT INTO certificates (user_id, der, serial, issuer, subject,"
                            " not_before_usec, not_after_usec, fingerprint, uri, seen_usec) "
                            "VALUES ((SELECT id FROM users WHERE login_id = ?1), ?2, ?3, ?4, ?5,"
                            " ?6, ?7, ?8, ?9, ?10)", &st)) < 0)
                return r;
        sqlite3_bind_text(st, 1, login_id, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, c->der, (int) c->der_len, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, c->serial, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, c->issuer, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, c->subject, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, (sqlite3_int64) c->not_before_usec);
        sqlite3_bind_int64(st, 7, (sqlite3_int64) c->not_after_usec);
        sqlite3_bind_text(st, 8, c->fingerprint, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 9, uri ? uri : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 10, uri ? (sqlite3_int64) now_usec() : 0);
        return step_done(s, st);
}

static int refresh_certificate(Store *s, const char *login_id, const CertInfo *c, const char *uri) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if ((r = prepare(s, "UPDATE certificates SET"
                            " user_id = (SELECT id FROM users WHERE login_id = ?1),"
                            " uri = coalesce(?2, uri),"
                            " seen_usec = CASE WHEN ?2 IS NULL THEN seen_usec ELSE ?3 END"
                            " WHERE fingerprint = ?4", &st)) < 0)
                return r;
        sqlite3_bind_text(st, 1, login_id, -1, SQLITE_STATIC);
        if (uri)
                sqlite3_bind_text(st, 2, uri, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64) now_usec());
        sqlite3_bind_text(st, 4, c->fingerprint, -1, SQLITE_STATIC);
        return step_done(s, st);
}

/* Fills in the row of a revocation recovered without its certificate when
 * this certificate has its serial: 1 when there was one. */
static int claim_recovered(Store *s, const char *login_id, const CertInfo *c, const char *uri) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if ((r = prepare(s, "UPDATE certificates SET"
                            " user_id = (SELECT id FROM users WHERE login_id = ?1), der = ?2, issuer = ?3,"
                            " subject = ?4, not_before_usec = ?5, not_after_usec = ?6, fingerprint = ?7,"
                            " uri = ?8, seen_usec = ?9, removal = CASE WHEN ?8 = '' THEN '' ELSE 'pending' END"
                            " WHERE issuer = '' AND serial = ?10 AND fingerprint = '" RECOVERED_FINGERPRINT "' || ?10",
                     &st)) < 0)
                return r;
        sqlite3_bind_text(st, 1, login_id, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, c->der, (int) c->der_len, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, c->issuer, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, c->subject, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, (sqlite3_int64) c->not_before_usec);
        sqlite3_bind_int64(st, 6, (sqlite3_int64) c->not_after_usec);
        sqlite3_bind_text(st, 7, c->fingerprint, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, uri ? uri : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 9, uri ? (sqlite3_int64) now_usec() : 0);
        sqlite3_bind_text(st, 10, c->serial, -1, SQLITE_STATIC);
        if ((r = step_done(s, st)) < 0)
                return r;
        return sqlite3_changes(s->db) > 0;
}

int store_file_certificate(Store *s, const char *login_id, const CertInfo *c,
                           const char *uri, int *changed) {
        _cleanup_free_ char *owner = NULL, *old_uri = NULL;
        int r;

        *changed = 0;
        if ((r = user_exists(s, "login_id", 0, login_id)) <= 0)
                return r < 0 ? r : -ENOENT;
        r = certificate_owner(s, c->fingerprint, &owner, &old_uri);
        if (r < 0)
                return r;
        if (r == 0) {
                r = claim_recovered(s, login_id, c, uri);
                if (r == 0)
                        r = insert_certificate(s, login_id, c, uri);
                if (r < 0)
                        return r;
                *changed = 1;
                return 0;
        }
        if (*owner && strcmp(owner, login_id) != 0)
                return -EEXIST;
        *changed = !*owner || (uri && strcmp(uri, old_uri) != 0);
        return refresh_certificate(s, login_id, c, uri);
}

int store_crl_state(Store *s, CrlState *ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if ((r = prepare(s, "SELECT published_number, this_update_usec, next_update_usec FROM crl_state", &st)) < 0)
                return r;
        if (sqlite3_step(st) != SQLITE_ROW)
                return sql_error(s, SQLITE_ERROR, "crl state");
        ret->number = (uint64_t) sqlite3_column_int64(st, 0);
        ret->this_update_usec = (uint64_t) sqlite3_column_int64(st, 1);
        ret->next_update_usec = (uint64_t) sqlite3_column_int64(st, 2);
        return 0;
}

int store_current_certificate(Store *s, const char *login_id, CurrentCert *ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        const void *der;
        int rc, r, n;

        if ((r = prepare(s, "SELECT u.name, c.id, c.serial, c.not_after_usec, c.revoked_usec, c.uri, c.der,"
                            "       (SELECT count(*) FROM certificates n WHERE n.user_id = u.id)"
                            "  FROM users u LEFT JOIN certificates c ON c.id ="
                            "       (SELECT id FROM certificates WHERE user_id = u.id"
                            "         ORDER BY not_before_usec DESC, id DESC LIMIT 1)"
                            " WHERE u.login_id = ?1", &st)) < 0)
                return r;
        sqlite3_bind_text(st, 1, login_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return sql_error(s, rc, "current certificate");
        memset(ret, 0, sizeof *ret);
        ret->cert_id = sqlite3_column_type(st, 1) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 1);
        ret->not_after_usec = (uint64_t) sqlite3_column_int64(st, 3);
        ret->state = cert_state_derive(ret->cert_id != 0, (uint64_t) sqlite3_column_int64(st, 4),
                                       ret->not_after_usec, now_usec(), sqlite3_column_int64(st, 7));
        der = sqlite3_column_blob(st, 6);
        n = sqlite3_column_bytes(st, 6);
        ret->name = strdup(col_text(st, 0));
        ret->serial = strdup(col_text(st, 2));
        ret->uri = strdup(col_text(st, 5));
        ret->der = malloc(n > 0 ? (size_t) n : 1);
        if (!ret->name || !ret->serial || !ret->uri || !ret->der) {
                current_cert_done(ret);
                return -ENOMEM;
        }
        if (n > 0)
                memcpy(ret->der, der, (size_t) n);
        ret->der_len = (size_t) (n > 0 ? n : 0);
        return 0;
}

void current_cert_done(CurrentCert *c) {
        free(c->name);
        free(c->serial);
        free(c->uri);
        free(c->der);
        memset(c, 0, sizeof *c);
}

int store_revoke(Store *s, int64_t cert_id, uint64_t when_usec, const char *reason,
                 const char *actor, uint64_t *ret_seq) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r;

        /* the sequence orders revocations for publication; only ever grows */
        if ((r = prepare(s, "UPDATE certificates SET revoked_usec = ?2, revocation_reason = ?3,"
                            " revoked_by = ?4, removal = 'pending',"
                            " revocation_seq = (SELECT coalesce(max(revocation_seq), 0) + 1 FROM certificates)"
                            " WHERE id = ?1 AND revoked_usec = 0 RETURNING revocation_seq", &st)) < 0)
                return r;
        sqlite3_bind_int64(st, 1, cert_id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64) when_usec);
        sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, actor, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -EALREADY;
        if (rc != SQLITE_ROW)
                return sql_error(s, rc, "revoke");
        *ret_seq = (uint64_t) sqlite3_column_int64(st, 0);
        return 0;
}

static int revoke_target(Store *s, size_t i, StoreRevokeTarget *t, uint64_t when_usec, const char *reason,
                         const char *actor, store_revoke_check_fn check, void *userdata) {
        int r;

        current_cert_done(&t->cert);
        r = store_current_certificate(s, t->login_id, &t->cert);
        if (r < 0)
                return r;
        r = check(i, t, userdata);
        if (r < 0)
                return r;
        r = store_revoke(s, t->cert.cert_id, when_usec, reason, actor, &t->seq);
        if (r < 0)
                return r;
        return store_history_add(s, actor, "revoke", t->login_id, "ok");
}

int store_revoke_batch(Store *s, StoreRevokeTarget *targets, size_t n, uint64_t when_usec, const char *reason,
                       const char *actor, store_revoke_check_fn check, void *userdata, size_t *ret_failed) {
        int r;

        assert(s && targets && reason && actor && check && ret_failed);
        *ret_failed = n;
        r = store_begin(s);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = revoke_target(s, i, &targets[i], when_usec, reason, actor, check, userdata);
                if (r < 0) {
                        *ret_failed = i;
                        store_rollback(s);
                        return r;
                }
        }
        /* one commit, one fsync: every revocation of the batch or none */
        r = store_commit(s);
        if (r < 0)
                store_rollback(s);
        return r;
}

void store_revoke_targets_done(StoreRevokeTarget *targets, size_t n) {
        for (size_t i = 0; targets && i < n; i++)
                current_cert_done(&targets[i].cert);
}

int store_set_removal(Store *s, int64_t cert_id, const char *removal) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if ((r = prepare(s, "UPDATE certificates SET removal = ?2 WHERE id = ?1", &st)) < 0)
                return r;
        sqlite3_bind_int64(st, 1, cert_id);
        sqlite3_bind_text(st, 2, removal, -1, SQLITE_STATIC);
        return step_done(s, st);
}

int store_auth_locked(Store *s, const char *login_id, uint64_t now, uint64_t *ret_until,
                      unsigned *ret_failures) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if ((r = prepare(s, "SELECT locked_until_usec, failures FROM auth_failures WHERE login_id = ?1", &st)) < 0)
                return r;
        sqlite3_bind_text(st, 1, login_id, -1, SQLITE_STATIC);
        *ret_until = 0;
        *ret_failures = 0;
        if (sqlite3_step(st) == SQLITE_ROW) {
                *ret_until = (uint64_t) sqlite3_column_int64(st, 0);
                /* a lock that ran out leaves a fresh count */
                if (*ret_until == 0 || *ret_until > now)
                        *ret_failures = (unsigned) sqlite3_column_int(st, 1);
        }
        return *ret_until > now;
}

int store_auth_failed(Store *s, const char *login_id, uint64_t now, unsigned max_failures,
                      uint64_t lock_usec, unsigned *ret_failures) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r;

        /* a lock that ran out starts a fresh count */
        if ((r = prepare(s, "INSERT INTO auth_failures (login_id, failures, locked_until_usec) VALUES (?1, 1, 0)"
                            " ON CONFLICT (login_id) DO UPDATE SET"
                            "  failures = CASE WHEN locked_until_usec != 0 AND locked_until_usec <= ?2"
                            "                  THEN 1 ELSE failures + 1 END,"
                            "  locked_until_usec = CASE WHEN locked_until_usec <= ?2 THEN 0 ELSE locked_until_usec END"
                            " RETURNING failures", &st)) < 0)
                return r;
        sqlite3_bind_text(st, 1, login_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64) now);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
                return sql_error(s, rc, "count failure");
        *ret_failures = (unsigned) sqlite3_column_int(st, 0);
        stmt_release(TAKE_PTR(st));
        if (*ret_failures < max_failures)
                return 0;
        if ((r = prepare(s, "UPDATE auth_failures SET locked_until_usec = ?2 WHERE login_id = ?1", &st)) < 0)
                return r;
        sqlite3_bind_text(st, 1, login_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64) (now + lock_usec));
        return step_done(s, st);
}

int store_auth_succeeded(Store *s, const char *login_id) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if ((r = prepare(s, "DELETE FROM auth_failures WHERE login_id = ?1", &st)) < 0)
                return r;
        sqlite3_bind_text(st, 1, login_id, -1, SQLITE_STATIC);
        return step_done(s, st);
}

int store_crl_reserve(Store *s, uint64_t *ret_number) {
        /* committed before the CRL is written: a crash can skip a number, never reuse one */
        return query_u64(s, "UPDATE crl_state SET number = number + 1 RETURNING number", "reserve CRL number",
                         ret_number);
}

static int published_seq(Store *s, uint64_t *ret) {
        return query_u64(s, "SELECT published_seq FROM crl_state", "published sequence", ret);
}

static int record_crl_state(Store *s, const CrlState *st_in, uint64_t seq) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = prepare(s, "UPDATE crl_state SET this_update_usec = ?1, next_update_usec = ?2,"
                       " published_seq = max(published_seq, ?3), published_number = ?4", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) st_in->this_update_usec);
        sqlite3_bind_int64(st, 2, (sqlite3_int64) st_in->next_update_usec);
        sqlite3_bind_int64(st, 3, (sqlite3_int64) seq);
        sqlite3_bind_int64(st, 4, (sqlite3_int64) st_in->number);
        return step_done(s, st);
}

/* The first CRL that listed each revocation: only those after the last
 * published sequence, found through certificates_by_seq. */
static int record_first_listing(Store *s, uint64_t number, uint64_t after_seq, uint64_t seq) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = prepare(s, "UPDATE certificates SET crl_number = ?1"
                       " WHERE revocation_seq > ?3 AND revocation_seq <= ?2 AND crl_number = 0", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) number);
        sqlite3_bind_int64(st, 2, (sqlite3_int64) seq);
        sqlite3_bind_int64(st, 3, (sqlite3_int64) after_seq);
        return step_done(s, st);
}

/* RFC 5280 3.3: listed once on a CRL issued after its expiry, an entry may
 * leave.  Only the expired rows are visited (certificates_listed_by_expiry);
 * their sequences go back to the publisher, which drops them next time. */
static int record_listed_after_expiry(Store *s, uint64_t this_update_usec, uint64_t seq,
                                      uint64_t **ret_left, size_t *ret_n_left) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ uint64_t *left = NULL;
        size_t n = 0, allocated = 0;
        int rc, r;

        r = prepare(s, "UPDATE certificates SET listed_after_expiry = 1"
                       " WHERE revocation_seq != 0 AND listed_after_expiry = 0"
                       "   AND not_after_usec < ?1 AND revocation_seq <= ?2 RETURNING revocation_seq", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) this_update_usec);
        sqlite3_bind_int64(st, 2, (sqlite3_int64) seq);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (n == allocated) {
                        size_t a = allocated ? allocated * 2 : 16;
                        uint64_t *v = realloc(left, a * sizeof *v);

                        if (!v)
                                return -ENOMEM;
                        left = v;
                        allocated = a;
                }
                left[n++] = (uint64_t) sqlite3_column_int64(st, 0);
        }
        if (rc != SQLITE_DONE)
                return sql_error(s, rc, "entries listed after expiry");
        *ret_left = TAKE_PTR(left);
        *ret_n_left = n;
        return 0;
}

int store_crl_published(Store *s, const CrlState *st_in, uint64_t seq, uint64_t **ret_left,
                        size_t *ret_n_left) {
        _cleanup_(rollbackp) Store *tx = NULL;
        _cleanup_free_ uint64_t *left = NULL;
        uint64_t before;
        size_t n_left = 0;
        int r;

        assert(s && st_in && ret_left && ret_n_left);
        r = store_begin(s);
        if (r < 0)
                return r;
        tx = s;
        r = published_seq(s, &before);
        if (r < 0)
                return r;
        r = record_crl_state(s, st_in, seq);
        if (r < 0)
                return r;
        r = record_first_listing(s, st_in->number, before, seq);
        if (r < 0)
                return r;
        r = record_listed_after_expiry(s, st_in->this_update_usec, seq, &left, &n_left);
        if (r < 0)
                return r;
        r = store_commit(s);
        if (r < 0)
                return r;
        tx = NULL;
        *ret_left = TAKE_PTR(left);
        *ret_n_left = n_left;
        return 0;
}

int store_unpublished(Store *s, uint64_t *ret_count) {
        return query_u64(s, "SELECT count(*) FROM certificates WHERE revocation_seq > "
                         "(SELECT published_seq FROM crl_state)", "unpublished", ret_count);
}

/* A read-only connection of its own, for a worker thread. */
static int open_reader(const char *dir, Store *reader) {
        _cleanup_free_ char *path = NULL;
        int rc, r;

        *reader = (Store) { .lock_fd = -1 };
        if (asprintf(&path, "file:%s/store.db?mode=ro", dir) < 0)
                return -ENOMEM;
        rc = sqlite3_open_v2(path, &reader->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK) {
                r = sql_error(reader, rc, "open reader");
                close_db(reader);
                return r;
        }
        /* a reader can meet a lock for a moment (the log being reset or
         * checkpointed): it waits, as the loop's connection does */
        r = exec(reader, "PRAGMA busy_timeout=5000");
        if (r < 0)
                close_db(reader);
        return r;
}

int store_revoked_fingerprints(const char *dir, const char *const *fingerprints, size_t n, bool *ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        Store reader;
        int r;

        if ((r = open_reader(dir, &reader)) < 0)
                return r;
        r = prepare(&reader, "SELECT 1 FROM certificates WHERE fingerprint = ?1 AND revoked_usec != 0", &st);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                sqlite3_reset(st);
                sqlite3_bind_text(st, 1, fingerprints[i], -1, SQLITE_STATIC);
                ret[i] = sqlite3_step(st) == SQLITE_ROW;
        }
        stmt_release(TAKE_PTR(st));
        close_db(&reader);
        return r;
}

int store_mark_removed(Store *s, const char *fingerprint) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if ((r = prepare(s, "UPDATE certificates SET removal = 'removed' WHERE fingerprint = ?1", &st)) < 0)
                return r;
        sqlite3_bind_text(st, 1, fingerprint, -1, SQLITE_STATIC);
        return step_done(s, st);
}

/* The current certificates of suspended users are on hold while the
 * suspension lasts; they leave the CRL when it ends (RFC 5280 5.3.1). */

/* Revocations after after_seq in their order, each once: the publisher
 * holds the earlier ones.  Entries listed after their expiry are left out
 * (RFC 5280 3.3). */
static int changes_revoked(Store *reader, uint64_t after_seq, store_revocation_cb cb, void *userdata) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r;

        r = prepare(reader, "SELECT revocation_seq, serial, revoked_usec, revocation_reason, der FROM certificates"
                            " WHERE revocation_seq > ?1 AND listed_after_expiry = 0 ORDER BY revocation_seq", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) after_seq);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                r = cb((uint64_t) sqlite3_column_int64(st, 0), col_text(st, 1),
                       (uint64_t) sqlite3_column_int64(st, 2), col_text(st, 3), sqlite3_column_blob(st, 4),
                       (size_t) sqlite3_column_bytes(st, 4), userdata);
                if (r < 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_error(reader, rc, "revocations since the last build");
}

static int changes_held(Store *reader, store_revocation_cb cb, void *userdata) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r;

        r = prepare(reader, "SELECT c.serial, u.suspended_usec, c.der" STORE_SQL_HELD_FROM, &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) now_usec());
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                r = cb(0, col_text(st, 0), (uint64_t) sqlite3_column_int64(st, 1), "certificateHold",
                       sqlite3_column_blob(st, 2), (size_t) sqlite3_column_bytes(st, 2), userdata);
                if (r < 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_error(reader, rc, "held certificates");
}

static int max_seq(Store *reader, uint64_t *ret) {
        return query_u64(reader, "SELECT coalesce(max(revocation_seq), 0) FROM certificates", "revocation sequence",
                         ret);
}

int store_crl_changes(const char *dir, uint64_t after_seq, store_revocation_cb cb, void *userdata,
                      uint64_t *ret_seq) {
        Store reader;
        int r;

        assert(dir && cb && ret_seq);
        r = open_reader(dir, &reader);
        if (r < 0)
                return r;
        /* one read transaction: the entries and the sequence agree */
        r = exec(&reader, "BEGIN");
        if (r >= 0)
                r = max_seq(&reader, ret_seq);
        /* the holds first: a hold that ended is told before a revocation
         * of the same certificate */
        if (r >= 0)
                r = changes_held(&reader, cb, userdata);
        if (r >= 0)
                r = changes_revoked(&reader, after_seq, cb, userdata);
        (void) exec(&reader, "COMMIT");
        close_db(&reader);
        return r;
}

int store_crl_ders(const char *dir, const uint64_t *seqs, size_t n, store_der_cb cb, void *userdata) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        Store reader;
        int rc, r;

        assert(dir && (seqs || n == 0) && cb);
        if (n == 0)
                return 0;
        r = open_reader(dir, &reader);
        if (r < 0)
                return r;
        /* one row each through certificates_by_seq: few, at expiries */
        r = prepare(&reader, "SELECT der FROM certificates WHERE revocation_seq = ?1", &st);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                sqlite3_reset(st);
                sqlite3_bind_int64(st, 1, (sqlite3_int64) seqs[i]);
                rc = sqlite3_step(st);
                if (rc == SQLITE_ROW)
                        r = cb(seqs[i], sqlite3_column_blob(st, 0), (size_t) sqlite3_column_bytes(st, 0), userdata);
                else if (rc != SQLITE_DONE)
                        r = sql_error(&reader, rc, "certificates leaving the CRL");
        }
        stmt_release(TAKE_PTR(st));
        close_db(&reader);
        return r;
}

int store_history_query(Store *s, const char *login_id, uint64_t since_usec, unsigned limit,
                        store_history_cb cb, void *userdata) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r;

        /* the newest entries within the limit, told oldest first */
        if ((r = prepare(s, "SELECT time_usec, actor, action, target, result, count FROM"
                            " (SELECT * FROM history WHERE time_usec >= ?1"
                            "   AND (?2 IS NULL OR actor = ?2 OR target = ?2)"
                            "   ORDER BY id DESC LIMIT ?3) ORDER BY id", &st)) < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) since_usec);
        if (login_id)
                sqlite3_bind_text(st, 2, login_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, limit);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                if ((r = cb((uint64_t) sqlite3_column_int64(st, 0), col_text(st, 1), col_text(st, 2),
                            col_text(st, 3), col_text(st, 4), (uint64_t) sqlite3_column_int64(st, 5),
                            userdata)) < 0)
                        return r;
        return rc == SQLITE_DONE ? 0 : sql_error(s, rc, "history");
}

int store_foreach_pending_removal(Store *s, store_pending_cb cb, void *userdata) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r;

        if ((r = prepare(s, "SELECT c.id, coalesce(u.login_id, ''), c.uri, c.fingerprint FROM certificates c"
                            " LEFT JOIN users u ON u.id = c.user_id WHERE c.removal = 'pending'", &st)) < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                if ((r = cb(sqlite3_column_int64(st, 0), col_text(st, 1), col_text(st, 2), col_text(st, 3),
                            userdata)) < 0)
                        return r;
        return rc == SQLITE_DONE ? 0 : sql_error(s, rc, "pending removals");
}

/* ---- the operation history: rows chained by hash, refusals aggregated ---- */

#define HASH_SIZE STORE_HISTORY_HASH_SIZE

typedef struct HistoryFields {
        int64_t id;
        uint64_t time_usec;
        uint64_t count;
        const char *actor, *action, *target, *result;
} HistoryFields;

static void EVP_MD_CTX_freep(EVP_MD_CTX **p) {
        EVP_MD_CTX_free(*p);
}

static void put_be(unsigned char *p, uint64_t v, size_t n) {
        for (size_t i = 0; i < n; i++)
                p[i] = (unsigned char) (v >> (8 * (n - 1 - i)));
}

static int hash_text(EVP_MD_CTX *ctx, const char *text) {
        size_t n = strlen(text);
        unsigned char len[4];

        if (n > UINT32_MAX)
                return -E2BIG;
        put_be(len, n, sizeof len);
        if (!EVP_DigestUpdate(ctx, len, sizeof len))
                return -EIO;
        return EVP_DigestUpdate(ctx, text, n) ? 0 : -EIO;
}

/* SHA-256 over the previous row's hash, then id, time and count as 8 bytes
 * big-endian each, then actor, action, target and result each as a 4-byte
 * big-endian length and its bytes: fixed widths and lengths, so that no
 * two different rows have the same encoding.  README.md documents it for
 * whoever checks a copy of the store with other tools. */
static int history_hash(const unsigned char prev[HASH_SIZE], const HistoryFields *f, unsigned char ret[HASH_SIZE]) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        const char *const texts[] = { f->actor, f->action, f->target, f->result };
        unsigned char numbers[24];
        unsigned len = 0;
        int r;

        if (!ctx)
                return -ENOMEM;
        put_be(numbers, (uint64_t) f->id, 8);
        put_be(numbers + 8, f->time_usec, 8);
        put_be(numbers + 16, f->count, 8);
        if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
                return -EIO;
        if (!EVP_DigestUpdate(ctx, prev, HASH_SIZE))
                return -EIO;
        if (!EVP_DigestUpdate(ctx, numbers, sizeof numbers))
                return -EIO;
        for (size_t i = 0; i < ELEMENTSOF(texts); i++)
                if ((r = hash_text(ctx, texts[i])) < 0)
                        return r;
        if (!EVP_DigestFinal_ex(ctx, ret, &len))
                return -EIO;
        assert(len == HASH_SIZE);
        return 0;
}

/* Columns id, time_usec, count, actor, action, target, result from first on. */
#define HISTORY_COLUMNS "id, time_usec, count, actor, action, target, result"
static void fields_from_stmt(sqlite3_stmt *st, int first, HistoryFields *f) {
        f->id = sqlite3_column_int64(st, first);
        f->time_usec = (uint64_t) sqlite3_column_int64(st, first + 1);
        f->count = (uint64_t) sqlite3_column_int64(st, first + 2);
        f->actor = col_text(st, first + 3);
        f->action = col_text(st, first + 4);
        f->target = col_text(st, first + 5);
        f->result = col_text(st, first + 6);
}

/* A hash column into buf; false when it is not a hash at all. */
static bool col_hash(sqlite3_stmt *st, int i, unsigned char buf[HASH_SIZE]) {
        const void *b = sqlite3_column_blob(st, i);

        if (!b || sqlite3_column_bytes(st, i) != HASH_SIZE)
                return false;
        memcpy(buf, b, HASH_SIZE);
        return true;
}

/* The head moves first: a write, so that a transaction this opens holds
 * the write lock before it reads what the new row chains to. */
static int history_take_head(Store *s, int64_t *ret_id, unsigned char prev[HASH_SIZE]) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r;

        if ((r = prepare(s, "UPDATE history_chain SET head_id = head_id + 1 RETURNING head_id, head_hash", &st)) < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return sql_error(s, rc, "history head");
        if (rc == SQLITE_DONE || !col_hash(st, 1, prev)) {
                log_error("store: the history chain's head is missing or damaged");
                return -EBADMSG;
        }
        *ret_id = sqlite3_column_int64(st, 0);
        return 0;
}

static int history_insert(Store *s, HistoryFields *f) {
        _cleanup_stmt_ sqlite3_stmt *ins = NULL, *head = NULL;
        unsigned char prev[HASH_SIZE], hash[HASH_SIZE];
        int r;

        if ((r = history_take_head(s, &f->id, prev)) < 0)
                return r;
        if ((r = history_hash(prev, f, hash)) < 0)
                return log_error_errno(r, "store: cannot hash a history row: %m");
        if ((r = prepare(s, "INSERT INTO history (id, time_usec, count, actor, action, target, result, hash)"
                            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &ins)) < 0)
                return r;
        sqlite3_bind_int64(ins, 1, f->id);
        sqlite3_bind_int64(ins, 2, (sqlite3_int64) f->time_usec);
        sqlite3_bind_int64(ins, 3, (sqlite3_int64) f->count);
        sqlite3_bind_text(ins, 4, f->actor, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 5, f->action, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 6, f->target, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 7, f->result, -1, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 8, hash, HASH_SIZE, SQLITE_STATIC);
        if ((r = step_done(s, ins)) < 0)
                return r;
        if ((r = prepare(s, "UPDATE history_chain SET head_hash = ?1", &head)) < 0)
                return r;
        sqlite3_bind_blob(head, 1, hash, HASH_SIZE, SQLITE_STATIC);
        return step_done(s, head);
}

/* One row, whole or not at all, inside a caller's transaction or alone. */
static int history_append(Store *s, HistoryFields *f) {
        int r, k;

        assert(f->actor && f->action && f->target && f->result && f->count >= 1);
        if ((r = exec(s, "SAVEPOINT history_append")) < 0)
                return r;
        r = history_insert(s, f);
        if (r < 0)
                (void) exec(s, "ROLLBACK TO history_append");
        /* alone, this commits */
        k = exec(s, "RELEASE history_append");
        if (r < 0)
                return r;
        if (k >= 0 && s->watch)
                s->watch(true, s->watch_userdata);
        return k;
}

static uint64_t add_saturating(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* caller_name() calls a UID that is no user "uid:N"; a login ID has no ':'. */
static bool actor_is_no_user(const char *actor) {
        size_t digits;

        if (strncmp(actor, "uid:", 4) != 0)
                return false;
        digits = strspn(actor + 4, "0123456789");
        return digits > 0 && actor[4 + digits] == 0;
}

static void held_clear(HeldRefusals *h) {
        free(h->action);
        free(h->target);
        free(h->result);
        h->action = h->target = h->result = NULL;
        h->count = 0;
}

static void held_remove(Store *s, size_t i) {
        assert(i < s->n_held);
        held_clear(&s->held[i]);
        free(s->held[i].actor);
        s->held[i] = s->held[--s->n_held];
}

/* Writes what h holds as one row; h holds nothing after, unless writing failed. */
static int held_write(Store *s, HeldRefusals *h) {
        HistoryFields f = {
                .time_usec = h->last_usec, .count = h->count, .actor = h->actor,
                .action = h->action, .target = h->target, .result = h->result,
        };
        int r;

        assert(h->count > 0);
        r = history_append(s, &f);
        if (r < 0)
                return log_error_errno(r, "store: cannot write %" PRIu64 " refusals of %s to the history: %m",
                                       h->count, h->actor);
        held_clear(h);
        return 0;
}

static void held_write_all(Store *s) {
        s->watch = NULL;
        for (size_t i = 0; i < s->n_held; i++)
                if (s->held[i].count > 0)
                        (void) held_write(s, &s->held[i]);
        while (s->n_held > 0)
                held_remove(s, 0);
}

uint64_t store_history_held_due(Store *s) {
        uint64_t due = 0;

        for (size_t i = 0; i < s->n_held; i++)
                if (s->held[i].count > 0 && (due == 0 || s->held[i].due_mono < due))
                        due = s->held[i].due_mono;
        return due;
}

uint64_t store_history_flush(Store *s, uint64_t now_mono) {
        for (size_t i = 0; i < s->n_held;) {
                HeldRefusals *h = &s->held[i];

                if (h->due_mono > now_mono) {
                        i++;
                        continue;
                }
                /* a quiet interval ends the aggregation: the next refusal is written at once */
                if (h->count == 0) {
                        held_remove(s, i);
                        continue;
                }
                /* still refused: the next interval holds again (a failed write is tried then) */
                (void) held_write(s, h);
                h->due_mono = add_saturating(now_mono, STORE_REFUSAL_INTERVAL_USEC);
                i++;
        }
        return store_history_held_due(s);
}

/* Makes room by writing early the refusals whose interval ends first. */
static void held_evict(Store *s) {
        size_t first = 0;

        for (size_t i = 1; i < s->n_held; i++)
                if (s->held[i].due_mono < s->held[first].due_mono)
                        first = i;
        if (s->held[first].count > 0)
                (void) held_write(s, &s->held[first]);
        held_remove(s, first);
}

static int held_open(Store *s, const char *actor, uint64_t due_mono) {
        char *copy;

        if (!s->held && !(s->held = calloc(HELD_MAX, sizeof *s->held)))
                return -ENOMEM;
        if (s->n_held == HELD_MAX)
                held_evict(s);
        if (!(copy = strdup(actor)))
                return -ENOMEM;
        s->held[s->n_held++] = (HeldRefusals) { .actor = copy, .due_mono = due_mono };
        return 0;
}

/* Keeps a field of the first refusal held, or "*" once they differ. */
static int held_field(char **field, const char *value) {
        char *n;

        if (*field && (strcmp(*field, value) == 0 || strcmp(*field, "*") == 0))
                return 0;
        n = strdup(*field ? "*" : value);
        if (!n)
                return -ENOMEM;
        free(*field);
        *field = n;
        return 0;
}

static int held_add(HeldRefusals *h, const char *action, const char *target, const char *result) {
        int r;

        r = held_field(&h->action, action);
        if (r < 0)
                return r;
        r = held_field(&h->target, target);
        if (r < 0)
                return r;
        r = held_field(&h->result, result);
        if (r < 0)
                return r;
        h->count++;
        h->last_usec = now_usec();
        return 0;
}

static HeldRefusals *held_find(Store *s, const char *actor) {
        for (size_t i = 0; i < s->n_held; i++)
                if (strcmp(s->held[i].actor, actor) == 0)
                        return &s->held[i];
        return NULL;
}

static int refusal_add(Store *s, const char *actor, const char *action, const char *target, const char *result) {
        HistoryFields f = {
                .time_usec = now_usec(), .count = 1, .actor = actor, .action = action, .target = target,
                .result = result,
        };
        uint64_t now = monotonic_usec();
        HeldRefusals *h;
        int r;

        /* intervals that ended are written first, so that rows keep their order */
        (void) store_history_flush(s, now);
        h = held_find(s, actor);
        if (h) {
                r = held_add(h, action, target, result);
                if (r >= 0 && s->watch)
                        s->watch(false, s->watch_userdata);
                return r;
        }
        /* the first in a while is told at once, and an interval opens */
        if ((r = history_append(s, &f)) < 0)
                return r;
        return held_open(s, actor, add_saturating(now, STORE_REFUSAL_INTERVAL_USEC));
}

int store_history_add(Store *s, const char *actor, const char *action,
                      const char *target, const char *result) {
        HistoryFields f = {
                .time_usec = now_usec(), .count = 1, .actor = actor, .action = action,
                .target = target ? target : "", .result = result,
        };

        assert(s && actor && action && result);
        if (actor_is_no_user(actor))
                return refusal_add(s, actor, action, f.target, result);
        return history_append(s, &f);
}

void store_history_watch(Store *s, store_history_watch_cb cb, void *userdata) {
        s->watch = cb;
        s->watch_userdata = userdata;
}

/* Version 6: the chain over the rows written before it existed. */
static int migrate_history_chain(Store *s) {
        _cleanup_stmt_ sqlite3_stmt *next = NULL, *set = NULL, *chain = NULL;
        unsigned char prev[HASH_SIZE] = {}, hash[HASH_SIZE] = {};
        int64_t first = 0, last = INT64_MIN;
        bool any = false;
        int rc, r;

        r = prepare(s, "SELECT " HISTORY_COLUMNS " FROM history WHERE id > ?1 ORDER BY id LIMIT 1", &next);
        if (r < 0)
                return r;
        r = prepare(s, "UPDATE history SET hash = ?2 WHERE id = ?1", &set);
        if (r < 0)
                return r;
        for (;;) {
                HistoryFields f;

                sqlite3_reset(next);
                sqlite3_bind_int64(next, 1, last);
                rc = sqlite3_step(next);
                if (rc == SQLITE_DONE)
                        break;
                if (rc != SQLITE_ROW)
                        return sql_error(s, rc, "history to chain");
                fields_from_stmt(next, 0, &f);
                if ((r = history_hash(prev, &f, hash)) < 0)
                        return r;
                memcpy(prev, hash, HASH_SIZE);
                last = f.id;
                if (!any)
                        first = f.id;
                any = true;
                sqlite3_reset(next);
                sqlite3_reset(set);
                sqlite3_bind_int64(set, 1, last);
                sqlite3_bind_blob(set, 2, hash, HASH_SIZE, SQLITE_STATIC);
                if ((r = step_done(s, set)) < 0)
                        return r;
        }
        /* nothing was pruned before: the anchor is the zero hash just before the first row */
        if ((r = prepare(s, "UPDATE history_chain SET anchor_id = ?1, head_id = ?2, head_hash = ?3", &chain)) < 0)
                return r;
        sqlite3_bind_int64(chain, 1, any ? first - 1 : 0);
        sqlite3_bind_int64(chain, 2, any ? last : 0);
        sqlite3_bind_blob(chain, 3, hash, HASH_SIZE, SQLITE_STATIC);
        return step_done(s, chain);
}

static void close_connection(Store *c) {
        if (!c)
                return;
        assert(c->n_held == 0);
        close_db(c);
        free(c);
}

/* A connection of its own, for a worker thread; read-only unless writable. */
static int open_connection(const char *dir, bool writable, Store **ret) {
        _cleanup_free_ char *path = NULL;
        Store *c;
        int flags = (writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_NOMUTEX;
        int rc, r;

        /* a plain path: no URI, whatever characters the directory has */
        if (asprintf(&path, "%s/store.db", dir) < 0)
                return -ENOMEM;
        if (!(c = calloc(1, sizeof *c)))
                return -ENOMEM;
        c->lock_fd = -1;
        rc = sqlite3_open_v2(path, &c->db, flags, NULL);
        if (rc != SQLITE_OK) {
                r = sql_error(c, rc, "open a connection");
                close_db(c);
                free(c);
                return r;
        }
        /* a worker waits for the loop's writes, never the other way round for long */
        r = exec(c, "PRAGMA busy_timeout=5000");
        if (r >= 0 && writable)
                r = exec(c, "PRAGMA synchronous=FULL");
        if (r < 0) {
                close_connection(c);
                return r;
        }
        *ret = c;
        return 0;
}

int store_history_prune_open(const char *dir, uint64_t max_age_usec, uint64_t max_entries, uint64_t now,
                             HistoryPrune *ret) {
        HistoryPrune p = { .cutoff_usec = now > max_age_usec ? now - max_age_usec : 0 };
        uint64_t rows;
        int r;

        if ((r = open_connection(dir, true, &p.writer)) < 0)
                return r;
        r = query_u64(p.writer, "SELECT count(*) FROM history", "count history", &rows);
        if (r < 0) {
                close_connection(p.writer);
                return r;
        }
        p.excess = rows > max_entries ? rows - max_entries : 0;
        *ret = p;
        return 0;
}

/* The oldest rows that may go: a prefix in id order, ended by the first row
 * that is young enough and within max_entries, whatever follows it. */
static int prune_select(HistoryPrune *p, int64_t *ret_last, unsigned char hash[HASH_SIZE], uint64_t *ret_n) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        uint64_t n = 0;
        int rc, r;

        if ((r = prepare(p->writer, "SELECT id, time_usec, hash FROM history ORDER BY id LIMIT ?1", &st)) < 0)
                return r;
        sqlite3_bind_int64(st, 1, STORE_PRUNE_BATCH);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (n >= p->excess && (uint64_t) sqlite3_column_int64(st, 1) >= p->cutoff_usec)
                        break;
                *ret_last = sqlite3_column_int64(st, 0);
                /* a damaged hash is kept as the anchor, so that the walk still finds it */
                if (!col_hash(st, 2, hash))
                        memset(hash, 0xff, HASH_SIZE);
                n++;
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return sql_error(p->writer, rc, "history to prune");
        *ret_n = n;
        return 0;
}

int store_history_prune_step(HistoryPrune *p) {
        _cleanup_(rollbackp) Store *tx = NULL;
        _cleanup_stmt_ sqlite3_stmt *del = NULL, *anchor = NULL;
        unsigned char hash[HASH_SIZE];
        int64_t last = 0;
        uint64_t n = 0;
        int r;

        assert(p->writer && !p->done);
        if ((r = store_begin(p->writer)) < 0)
                return r;
        tx = p->writer;
        if ((r = prune_select(p, &last, hash, &n)) < 0)
                return r;
        if (n == 0) {
                p->done = true;
                return 0;
        }
        if ((r = prepare(p->writer, "DELETE FROM history WHERE id <= ?1", &del)) < 0)
                return r;
        sqlite3_bind_int64(del, 1, last);
        if ((r = step_done(p->writer, del)) < 0)
                return r;
        /* rows that lie before the anchor were never part of the chain: they
         * go without moving it */
        if ((r = prepare(p->writer, "UPDATE history_chain SET anchor_id = ?1, anchor_hash = ?2 WHERE anchor_id < ?1",
                         &anchor)) < 0)
                return r;
        sqlite3_bind_int64(anchor, 1, last);
        sqlite3_bind_blob(anchor, 2, hash, HASH_SIZE, SQLITE_STATIC);
        if ((r = step_done(p->writer, anchor)) < 0)
                return r;
        if ((r = store_commit(p->writer)) < 0)
                return r;
        tx = NULL;
        p->deleted += n;
        p->excess = p->excess > n ? p->excess - n : 0;
        p->done = n < STORE_PRUNE_BATCH;
        return 0;
}

void store_history_prune_close(HistoryPrune *p) {
        close_connection(p->writer);
        p->writer = NULL;
}

int store_history_walk_open(const char *dir, HistoryWalk *ret) {
        *ret = (HistoryWalk) {};
        return open_connection(dir, false, &ret->reader);
}

void store_history_walk_close(HistoryWalk *w) {
        close_connection(w->reader);
        free(w->why);
        *w = (HistoryWalk) {};
}

/* Ends the walk at row id, saying how it does not fit. */
static int walk_bad(HistoryWalk *w, int64_t id, const char *format, ...) __attribute__((format(printf, 3, 4)));
static int walk_bad(HistoryWalk *w, int64_t id, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&w->why, format, ap);
        va_end(ap);
        if (r < 0) {
                w->why = NULL;
                return -ENOMEM;
        }
        w->first_bad_id = id;
        w->done = true;
        return 0;
}

static void format_utc(uint64_t usec, char *buf, size_t size) {
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
                snprintf(buf, size, "%" PRIu64 " us", usec);
}

static int walk_row_bad(HistoryWalk *w, const HistoryFields *f) {
        char when[64];

        format_utc(f->time_usec, when, sizeof when);
        if (f->id > w->last_id + 1)
                return walk_bad(w, f->id, "row %" PRId64 " (%s, %s %s %s: %s) does not follow row %" PRId64
                                ": the rows between them were removed, or it was changed", f->id, when, f->actor,
                                f->action, f->target, f->result, w->last_id);
        return walk_bad(w, f->id, "row %" PRId64 " (%s, %s %s %s: %s) was changed after it was written",
                        f->id, when, f->actor, f->action, f->target, f->result);
}

static int walk_row(HistoryWalk *w, sqlite3_stmt *st) {
        unsigned char want[HASH_SIZE], stored[HASH_SIZE];
        HistoryFields f;
        int r;

        fields_from_stmt(st, 0, &f);
        if ((r = history_hash(w->last_hash, &f, want)) < 0)
                return r;
        if (!col_hash(st, 7, stored) || memcmp(stored, want, HASH_SIZE) != 0)
                return walk_row_bad(w, &f);
        w->last_id = f.id;
        memcpy(w->last_hash, want, HASH_SIZE);
        w->rows++;
        return 0;
}

/* Where the chain starts, and that no row hides before it. */
static int walk_start(HistoryWalk *w) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL, *early = NULL;
        int64_t stray;
        int r;

        if ((r = prepare(w->reader, "SELECT anchor_id, anchor_hash FROM history_chain", &st)) < 0)
                return r;
        if (sqlite3_step(st) != SQLITE_ROW || !col_hash(st, 1, w->last_hash))
                return walk_bad(w, 0, "the start of the history chain is missing or damaged");
        w->last_id = sqlite3_column_int64(st, 0);
        w->started = true;
        if ((r = prepare(w->reader, "SELECT id FROM history WHERE id <= ?1 ORDER BY id LIMIT 1", &early)) < 0)
                return r;
        sqlite3_bind_int64(early, 1, w->last_id);
        if (sqlite3_step(early) != SQLITE_ROW)
                return 0;
        stray = sqlite3_column_int64(early, 0);
        return walk_bad(w, stray, "row %" PRId64 " lies before the start of the chain (row %" PRId64 ")",
                        stray, w->last_id);
}

/* The last row must be the one certrevoked wrote last. */
static int walk_end(HistoryWalk *w) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        unsigned char head[HASH_SIZE];
        int64_t head_id;
        int r;

        w->done = true;
        if ((r = prepare(w->reader, "SELECT head_id, head_hash FROM history_chain", &st)) < 0)
                return r;
        if (sqlite3_step(st) != SQLITE_ROW || !col_hash(st, 1, head))
                return walk_bad(w, w->last_id + 1, "the end of the history chain is missing or damaged");
        head_id = sqlite3_column_int64(st, 0);
        if (w->last_id < head_id)
                return walk_bad(w, w->last_id + 1, "rows %" PRId64 " to %" PRId64 ", the newest, are missing",
                                w->last_id + 1, head_id);
        if (w->last_id > head_id)
                return walk_bad(w, head_id + 1, "rows from %" PRId64 " on were not written by certrevoked",
                                head_id + 1);
        if (memcmp(head, w->last_hash, HASH_SIZE) != 0)
                return walk_bad(w, w->last_id, "row %" PRId64 " is not the one certrevoked wrote last",
                                w->last_id);
        return 0;
}

static int walk_rows(HistoryWalk *w, uint64_t max_rows) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        uint64_t n = 0;
        int rc = SQLITE_DONE, r;

        if (!w->started) {
                r = walk_start(w);
                if (r < 0 || w->done)
                        return r;
        }
        if ((r = prepare(w->reader, "SELECT " HISTORY_COLUMNS ", hash FROM history WHERE id > ?1 ORDER BY id LIMIT ?2",
                         &st)) < 0)
                return r;
        sqlite3_bind_int64(st, 1, w->last_id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64) max_rows);
        while (!w->done && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                if ((r = walk_row(w, st)) < 0)
                        return r;
                n++;
        }
        if (w->done)
                return 0;
        if (rc != SQLITE_DONE)
                return sql_error(w->reader, rc, "history walk");
        return n < max_rows ? walk_end(w) : 0;
}

int store_history_walk_step(HistoryWalk *w, uint64_t max_rows) {
        int r;

        assert(w->reader && !w->done && max_rows > 0);
        /* one read transaction: the rows, the anchor and the head agree */
        if ((r = exec(w->reader, "BEGIN")) < 0)
                return r;
        r = walk_rows(w, max_rows);
        (void) exec(w->reader, "COMMIT");
        return r;
}

/* ---- never backwards: the store beside a published CRL ---- */

static void finalizep(sqlite3_stmt **st) {
        sqlite3_finalize(*st);
}

/* Prepared outside the cache: a query that fails here is a finding to
 * report, not an error to log. */
static int probe_text(Store *s, const char *sql, char **ret) {
        _cleanup_(finalizep) sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

        *ret = NULL;
        if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                *ret = strdup(col_text(st, 0));
                return *ret ? 0 : -ENOMEM;
        }
        *ret = strdup(sqlite3_errmsg(s->db));
        return *ret ? -EBADMSG : -ENOMEM;
}

static int probe_open(const char *path, Store *ret, char **why) {
        int rc;

        /* no CREATE: a missing store must stay missing */
        rc = sqlite3_open_v2(path, &ret->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc == SQLITE_OK)
                return 0;
        *why = strdup(ret->db ? sqlite3_errmsg(ret->db) : "out of memory");
        return -EBADMSG;
}

static StoreHealth probe_contents(Store *s, char **why) {
        _cleanup_free_ char *check = NULL, *version = NULL, *filled = NULL;

        /* quick_check first: a page that is no SQLite page fails here */
        if (probe_text(s, "PRAGMA quick_check", &check) < 0 || strcmp(check, "ok") != 0) {
                *why = TAKE_PTR(check);
                return STORE_DAMAGED;
        }
        if (probe_text(s, "PRAGMA user_version", &version) < 0) {
                *why = TAKE_PTR(version);
                return STORE_DAMAGED;
        }
        if (strcmp(version, "0") == 0)
                return STORE_EMPTY;
        if (probe_text(s, "SELECT (SELECT count(*) FROM users) + (SELECT number FROM crl_state)", &filled) < 0) {
                *why = TAKE_PTR(filled);
                return STORE_DAMAGED;
        }
        return strcmp(filled, "0") == 0 ? STORE_EMPTY : STORE_INTACT;
}

int store_probe(const char *dir, StoreHealth *ret, char **why) {
        _cleanup_free_ char *path = NULL;
        Store probe = { .lock_fd = -1 };
        struct stat st;
        int r;

        *why = NULL;
        if (asprintf(&path, "%s/store.db", dir) < 0)
                return -ENOMEM;
        if (lstat(path, &st) < 0) {
                if (errno != ENOENT)
                        return -errno;
                *ret = STORE_MISSING;
                return 0;
        }
        if (!S_ISREG(st.st_mode)) {
                *why = strdup("store.db is not a regular file");
                *ret = STORE_DAMAGED;
                return 0;
        }
        if (st.st_size == 0) {
                *ret = STORE_EMPTY;
                return 0;
        }
        r = probe_open(path, &probe, why);
        *ret = r < 0 ? STORE_DAMAGED : probe_contents(&probe, why);
        close_db(&probe);
        return 0;
}

const char *store_health_to_string(StoreHealth h) {
        static const char *const names[] = {
                [STORE_INTACT] = "intact",
                [STORE_MISSING] = "missing",
                [STORE_EMPTY] = "empty",
                [STORE_DAMAGED] = "damaged",
        };

        assert((size_t) h < ELEMENTSOF(names));
        return names[h];
}

int store_crl_reserved(Store *s, uint64_t *ret) {
        return query_u64(s, "SELECT number FROM crl_state", "reserved CRL number", ret);
}

int store_crl_raise(Store *s, uint64_t published) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        assert(published <= INT64_MAX);
        if ((r = prepare(s, "UPDATE crl_state SET number = max(number, ?1),"
                            " published_number = max(published_number, ?1)", &st)) < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) published);
        return step_done(s, st);
}

int store_serial_listed(Store *s, const char *serial, bool *ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r;

        /* revoked, or the current certificate of a suspended user (on hold) */
        if ((r = prepare(s, "SELECT 1 FROM certificates c LEFT JOIN users u ON u.id = c.user_id"
                            " WHERE c.serial = ?1 AND (c.revoked_usec != 0 OR coalesce(u.suspended_usec, 0) != 0)"
                            " LIMIT 1", &st)) < 0)
                return r;
        sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return sql_error(s, rc, "serial listed");
        *ret = rc == SQLITE_ROW;
        return 0;
}

static int recover_revoke_filed(Store *s, const char *serial, uint64_t revoked_usec, const char *reason,
                                uint64_t crl_number) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if ((r = prepare(s, "UPDATE certificates SET revoked_usec = ?2, revocation_reason = ?3,"
                            " revoked_by = 'certrevoked', crl_number = ?4,"
                            " removal = CASE WHEN uri = '' THEN '' ELSE 'pending' END,"
                            " revocation_seq = (SELECT coalesce(max(revocation_seq), 0) + 1 FROM certificates)"
                            " WHERE serial = ?1 AND revoked_usec = 0", &st)) < 0)
                return r;
        sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64) revoked_usec);
        sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (sqlite3_int64) crl_number);
        if ((r = step_done(s, st)) < 0)
                return r;
        return sqlite3_changes(s->db) > 0;
}

static int recover_insert(Store *s, const char *serial, uint64_t revoked_usec, const char *reason,
                          uint64_t crl_number) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if ((r = prepare(s, "INSERT INTO certificates (user_id, der, serial, issuer, subject, not_before_usec,"
                            " not_after_usec, fingerprint, revoked_usec, revocation_reason, revoked_by,"
                            " crl_number, revocation_seq)"
                            " VALUES (NULL, x'', ?1, '', '', 0, ?2, '" RECOVERED_FINGERPRINT "' || ?1, ?3, ?4,"
                            " 'certrevoked', ?5, (SELECT coalesce(max(revocation_seq), 0) + 1 FROM certificates))",
                     &st)) < 0)
                return r;
        sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64) RECOVERED_NOT_AFTER_USEC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64) revoked_usec);
        sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, (sqlite3_int64) crl_number);
        return step_done(s, st);
}

int store_recover_entry(Store *s, const char *serial, uint64_t revoked_usec, const char *reason,
                        uint64_t crl_number) {
        bool listed;
        int r;

        if ((r = store_serial_listed(s, serial, &listed)) < 0)
                return r;
        if (listed)
                return 0;
        /* a certificate the store knows but lost the revocation of */
        r = recover_revoke_filed(s, serial, revoked_usec, reason, crl_number);
        if (r != 0)
                return r;
        if ((r = recover_insert(s, serial, revoked_usec, reason, crl_number)) < 0)
                return r;
        return 1;
}

int store_crl_republish(Store *s) {
        /* the next start publishes at once: nothing counts as published */
        return exec(s, "UPDATE crl_state SET published_seq = 0, this_update_usec = 0, next_update_usec = 0");
}

int store_backup(const char *dir, const char *dest_path) {
        sqlite3_backup *b;
        Store reader, dest = { .lock_fd = -1 };
        int rc, r;

        if ((r = open_reader(dir, &reader)) < 0)
                return r;
        rc = sqlite3_open_v2(dest_path, &dest.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
        /* the copy is one file: no journal beside it */
        if (rc == SQLITE_OK)
                r = exec(&dest, "PRAGMA journal_mode=OFF");
        else
                r = sql_error(&dest, rc, "open the backup");
        if (r >= 0) {
                /* one step: the whole store as one read transaction sees it */
                b = sqlite3_backup_init(dest.db, "main", reader.db, "main");
                if (!b)
                        r = sql_error(&dest, sqlite3_errcode(dest.db), "start the backup");
                else {
                        rc = sqlite3_backup_step(b, -1);
                        if (rc != SQLITE_DONE)
                                r = sql_error(&dest, rc, "copy the store");
                        rc = sqlite3_backup_finish(b);
                        if (r >= 0 && rc != SQLITE_OK)
                                r = sql_error(&dest, rc, "finish the backup");
                }
        }
        close_db(&dest);
        close_db(&reader);
        return r;
}
