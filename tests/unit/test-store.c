/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sqlite3.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "certgen.h"
#include "check.h"
#include "store.h"
#include "util.h"

static char dir[] = "/tmp/certrevoke-test-store-XXXXXX";
static EVP_PKEY *ca_key;
static X509 *ca;

static void test_derive(void) {
        const uint64_t now = 1000 * USEC_PER_SEC;
        const struct {
                int has; uint64_t revoked, not_after; int64_t n; CrCertState want;
        } t[] = {
                { 0, 0, 0, 0, CR_CERT_NOT_ISSUED },
                { 1, 0, now + 1, 1, CR_CERT_ISSUED },
                { 1, 0, now + 1, 2, CR_CERT_RENEWED },
                { 1, 0, now, 1, CR_CERT_EXPIRED },
                { 1, 0, now - 1, 3, CR_CERT_EXPIRED },
                { 1, 5, now + 1, 1, CR_CERT_REVOKED },
                { 1, 5, now - 1, 2, CR_CERT_REVOKED },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                CHECK(cert_state_derive(t[i].has, t[i].revoked, t[i].not_after, now, t[i].n) == t[i].want,
                      "state derivation case %zu is %s", i, cr_cert_state_to_string(t[i].want));
}

static void file_cert(Store *s, const char *login, long serial, time_t nb, time_t na, const char *uri) {
        EVP_PKEY *k = gen_key();
        X509 *x = gen_cert(k, login, "Someone", serial, nb, na, ca, ca_key);
        unsigned char *der = NULL;
        int len = cert_der(x, &der), changed = -1, r;
        CertInfo info;

        CHECK(cert_info_from_der(der, (size_t) len, &info) == 0, "certificate %ld parses", serial);
        r = store_file_certificate(s, login, &info, uri, &changed);
        CHECK(r == 0 && changed == 1, "certificate %ld filed under %s", serial, login);
        r = store_file_certificate(s, login, &info, uri, &changed);
        CHECK(r == 0 && changed == 0, "filing it again changes nothing");
        CHECK(store_file_certificate(s, "jinoh", &info, uri, &changed) == -EEXIST,
              "it cannot be filed under another user");
        cert_info_done(&info);
        OPENSSL_free(der);
        X509_free(x);
        EVP_PKEY_free(k);
}

static void expect_state(Store *s, const char *login, CrCertState want) {
        UserView v;

        CHECK(store_get_user(s, login, &v) == 0 && v.row.state == want, "%s is %s (got %s)", login,
              cr_cert_state_to_string(want), cr_cert_state_to_string(v.row.state));
        user_view_done(&v);
}

static int count_rows(const UserRow *u, void *userdata) {
        static char last[CR_LOGIN_ID_MAX + 1];

        CHECK(strcmp(last, u->login_id) < 0, "users come in login order (%s)", u->login_id);
        snprintf(last, sizeof last, "%s", u->login_id);
        (*(int *) userdata)++;
        return 0;
}

static void mark_revoked(const char *login) {
        char path[256], sql[256];
        sqlite3 *db;

        snprintf(path, sizeof path, "%s/store.db", dir);
        snprintf(sql, sizeof sql, "UPDATE certificates SET revoked_usec = 7, revocation_reason = 'keyCompromise' "
                 "WHERE user_id = (SELECT id FROM users WHERE login_id = '%s')", login);
        CHECK(sqlite3_open(path, &db) == SQLITE_OK && sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK,
              "certificate of %s marked revoked", login);
        sqlite3_close(db);
}

static void test_store(void) {
        time_t now = time(NULL);
        char *error = NULL, *login = NULL;
        Store *s = NULL, *second = NULL;
        CrRole role;
        bool suspended = true;
        UserView v;
        int n = 0;

        CHECK(store_open(dir, &s, &error) == 0, "store opens in a new directory");
        CHECK(store_open(dir, &second, &error) == -EBUSY && error && strstr(error, "already using the store"),
              "a second opener is refused: %s", error ? error : "");
        free(error);

        CHECK(store_add_user(s, "sachiboh", "ゲータチ子", CR_ROLE_ADMIN, 1001) == 0, "add sachiboh");
        CHECK(store_add_user(s, "jinoh", "ゲータ二郎", CR_ROLE_GENERAL, 1002) == 0, "add jinoh");
        CHECK(store_add_user(s, "schiboh", "ゲータ一郎", CR_ROLE_GENERAL, 1003) == 0, "add schiboh");
        CHECK(store_add_user(s, "schib", "ゲータ太郎", CR_ROLE_GENERAL, 1004) == 0, "add schib");
        CHECK(store_add_user(s, "schiboh3", "ゲータ三郎", CR_ROLE_WORKER, 1005) == 0, "add schiboh3");
        CHECK(store_add_user(s, "jinoh", "Other", CR_ROLE_GENERAL, 1099) == -EEXIST, "login IDs are unique");
        CHECK(store_add_user(s, "other", "Other", CR_ROLE_GENERAL, 1002) == -EADDRINUSE, "UIDs are unique");

        CHECK(store_user_by_uid(s, 1001, &login, &role, &suspended) == 0 && strcmp(login, "sachiboh") == 0 &&
              role == CR_ROLE_ADMIN && !suspended, "UID 1001 is the admin sachiboh");
        free(login);
        CHECK(store_user_by_uid(s, 4242, &login, &role, &suspended) == -ENOENT, "an unknown UID is no user");
        CHECK(store_set_suspended(s, "sachiboh", 5) == 0 &&
              store_user_by_uid(s, 1001, &login, &role, &suspended) == 0 && suspended, "a suspended user is told so");
        free(login);
        CHECK(store_set_suspended(s, "sachiboh", 0) == 0 && store_set_suspended(s, "nobody", 5) == -ENOENT,
              "resume; nobody cannot be suspended");

        file_cert(s, "sachiboh", 10, now - 3600, now + 86400, "pkcs11:token=a");
        file_cert(s, "schiboh", 11, now - 7200, now - 3600, NULL);
        file_cert(s, "schib", 12, now - 7200, now + 86400, NULL);
        file_cert(s, "schib", 13, now - 3600, now + 2 * 86400, "pkcs11:token=b");
        file_cert(s, "schiboh3", 14, now - 3600, now + 86400, NULL);
        mark_revoked("schiboh3");

        expect_state(s, "sachiboh", CR_CERT_ISSUED);
        expect_state(s, "schiboh", CR_CERT_EXPIRED);
        expect_state(s, "jinoh", CR_CERT_NOT_ISSUED);
        expect_state(s, "schib", CR_CERT_RENEWED);
        expect_state(s, "schiboh3", CR_CERT_REVOKED);

        CHECK(store_get_user(s, "schib", &v) == 0 && strcmp(v.row.serial, "0D") == 0 &&
              strcmp(v.row.uri, "pkcs11:token=b") == 0, "the current certificate of schib is the newer one");
        user_view_done(&v);
        CHECK(store_get_user(s, "nobody", &v) == -ENOENT, "an unknown login is -ENOENT");

        CHECK(store_foreach_user(s, count_rows, &n) == 0 && n == 5, "five users listed");
        CHECK(store_set_role(s, "jinoh", CR_ROLE_MASTER) == 0, "role changed");
        CHECK(store_set_role(s, "nobody", CR_ROLE_MASTER) == -ENOENT, "role of nobody is -ENOENT");

        CHECK(store_remove_user(s, "schiboh3") == 0, "revoked user removed");
        CHECK(store_remove_user(s, "schiboh3") == -ENOENT, "removing twice is -ENOENT");
        CHECK(store_add_user(s, "schiboh3", "ゲータ三郎", CR_ROLE_WORKER, 1005) == 0, "the login can come back");
        expect_state(s, "schiboh3", CR_CERT_NOT_ISSUED);
        store_free(s);

        /* the revoked certificate must have outlived its user */
        {
                char path[256];
                sqlite3 *db;
                sqlite3_stmt *st;

                snprintf(path, sizeof path, "%s/store.db", dir);
                sqlite3_open(path, &db);
                sqlite3_prepare_v2(db, "SELECT count(*) FROM certificates WHERE revoked_usec != 0 AND user_id IS NULL",
                                   -1, &st, NULL);
                CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1,
                      "the revoked certificate stays in the store without its user");
                sqlite3_finalize(st);
                sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
                CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) >= 1, "schema version recorded");
                sqlite3_finalize(st);
                sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
                CHECK(sqlite3_step(st) == SQLITE_ROW && strcmp((const char *) sqlite3_column_text(st, 0), "wal") == 0,
                      "the store is in WAL mode");
                sqlite3_finalize(st);
                sqlite3_close(db);
        }

        CHECK(store_open(dir, &s, &error) == 0, "the store opens again once released");
        expect_state(s, "sachiboh", CR_CERT_ISSUED);
        store_free(s);
}

/* ---- the operation history ---- */

typedef struct Scratch {
        char dir[64];
        Store *store;
} Scratch;

static void scratch_open(Scratch *t) {
        char *error = NULL;

        snprintf(t->dir, sizeof t->dir, "/tmp/certrevoke-test-history-XXXXXX");
        CHECK(mkdtemp(t->dir) != NULL, "a directory for a history store");
        CHECK(store_open(t->dir, &t->store, &error) == 0, "a history store opens (%s)", error ? error : "");
        free(error);
}

static void scratch_reopen(Scratch *t) {
        char *error = NULL;

        store_free(t->store);
        CHECK(store_open(t->dir, &t->store, &error) == 0, "the store opens again (%s)", error ? error : "");
        free(error);
}

static void scratch_done(Scratch *t) {
        char cmd[128];

        store_free(t->store);
        t->store = NULL;
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
        CHECK(system(cmd) == 0, "scratch store removed");
}

/* Runs SQL on the store's file from outside, as an intruder with sqlite3 would. */
static void scratch_sql(const Scratch *t, const char *sql) {
        char path[128];
        sqlite3 *db;
        char *err = NULL;

        snprintf(path, sizeof path, "%s/store.db", t->dir);
        CHECK(sqlite3_open(path, &db) == SQLITE_OK && sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK,
              "%s (%s)", sql, err ? err : "ok");
        sqlite3_free(err);
        sqlite3_close(db);
}

static int64_t scratch_int(const Scratch *t, const char *sql) {
        char path[128];
        sqlite3 *db;
        sqlite3_stmt *st = NULL;
        int64_t v = -1;

        snprintf(path, sizeof path, "%s/store.db", t->dir);
        if (sqlite3_open(path, &db) == SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
                v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return v;
}

/* Walks the whole chain in short steps; 0 when intact, else the first bad row. */
static int64_t walk(const Scratch *t, uint64_t *ret_rows, char **ret_why) {
        HistoryWalk w;
        int64_t bad;
        int r = store_history_walk_open(t->dir, &w);

        while (r >= 0 && !w.done)
                r = store_history_walk_step(&w, 7);
        CHECK(r >= 0, "the walk reads the chain (%s)", strerror(-r));
        bad = w.why ? (w.first_bad_id > 0 ? w.first_bad_id : -1) : 0;
        if (ret_rows)
                *ret_rows = w.rows;
        if (ret_why)
                *ret_why = w.why ? strdup(w.why) : NULL;
        store_history_walk_close(&w);
        return bad;
}

static void expect_bad(const Scratch *t, int64_t want, const char *because, const char *what) {
        char *why = NULL;
        int64_t bad = walk(t, NULL, &why);

        CHECK(bad == want && why && strstr(why, because), "%s: row %lld named (got %lld: %s)", what,
              (long long) want, (long long) bad, why ? why : "intact");
        free(why);
}

/* Rows alternate between the results "worker" (odd ids from an empty
 * history) and "general". */
static void add_rows(Store *s, const char *actor, unsigned n) {
        unsigned ok = 0;

        for (unsigned i = 0; i < n; i++)
                ok += store_history_add(s, actor, "set-role", "taro", i % 2 ? "general" : "worker") == 0;
        CHECK(ok == n, "%s acts %u times (%u written)", actor, n, ok);
}

static int sum_count(uint64_t t, const char *actor, const char *action, const char *target, const char *result,
                     uint64_t count, void *userdata) {
        (void) t, (void) actor, (void) action, (void) target, (void) result;
        *(uint64_t *) userdata += count;
        return 0;
}

static void test_history_chain(void) {
        uint64_t rows = 0;
        Scratch t;

        scratch_open(&t);
        CHECK(walk(&t, &rows, NULL) == 0 && rows == 0, "an empty history is intact");
        add_rows(t.store, "kanri", 12);
        CHECK(walk(&t, &rows, NULL) == 0 && rows == 12, "12 rows chained, walked 7 at a time (%llu)",
              (unsigned long long) rows);
        CHECK(scratch_int(&t, "SELECT count(*) FROM history WHERE length(hash) = 32") == 12,
              "every row carries a SHA-256");

        scratch_sql(&t, "UPDATE history SET result = 'ok' WHERE id = 5");
        expect_bad(&t, 5, "was changed", "a changed result");
        scratch_sql(&t, "UPDATE history SET result = 'worker' WHERE id = 5");
        CHECK(walk(&t, NULL, NULL) == 0, "put back, the chain is whole again");

        scratch_sql(&t, "UPDATE history SET actor = 'boss' WHERE id = 9");
        expect_bad(&t, 9, "was changed", "a changed actor");
        scratch_sql(&t, "UPDATE history SET actor = 'kanri' WHERE id = 9");
        scratch_sql(&t, "UPDATE history SET time_usec = time_usec + 1 WHERE id = 12");
        expect_bad(&t, 12, "was changed", "a changed time on the newest row");
        scratch_sql(&t, "UPDATE history SET time_usec = time_usec - 1 WHERE id = 12");
        scratch_sql(&t, "UPDATE history SET hash = zeroblob(32) WHERE id = 2");
        expect_bad(&t, 2, "was changed", "a replaced hash");
        scratch_done(&t);

        scratch_open(&t);
        add_rows(t.store, "kanri", 10);
        scratch_sql(&t, "DELETE FROM history WHERE id = 4");
        expect_bad(&t, 5, "were removed", "a row removed in the middle");
        scratch_done(&t);

        scratch_open(&t);
        add_rows(t.store, "kanri", 10);
        scratch_sql(&t, "DELETE FROM history WHERE id >= 9");
        expect_bad(&t, 9, "the newest, are missing", "the newest rows removed");
        scratch_done(&t);

        scratch_open(&t);
        add_rows(t.store, "kanri", 10);
        scratch_sql(&t, "DELETE FROM history WHERE id <= 2");
        expect_bad(&t, 3, "were removed", "the oldest rows removed without pruning");
        scratch_done(&t);

        scratch_open(&t);
        add_rows(t.store, "kanri", 3);
        scratch_sql(&t, "INSERT INTO history (id, time_usec, actor, action, target, result, count, hash)"
                        " SELECT 4, time_usec, actor, action, target, result, count, hash FROM history WHERE id = 3");
        expect_bad(&t, 4, "was changed", "a row added behind the service's back");
        scratch_done(&t);

        /* one that even fits the chain: the head says where the service stopped */
        scratch_open(&t);
        add_rows(t.store, "kanri", 4);
        scratch_sql(&t, "UPDATE history_chain SET head_id = 3, head_hash = (SELECT hash FROM history WHERE id = 3)");
        expect_bad(&t, 4, "not written by certrevoked", "a row beyond the head");
        scratch_done(&t);
}

static void test_history_refusals(void) {
        struct timespec ts;
        uint64_t mono, total = 0;
        unsigned refused = 0;
        Scratch t;

        scratch_open(&t);
        CHECK(store_history_held_due(t.store) == 0, "nothing held at first");
        for (unsigned i = 0; i < 500; i++)
                refused += store_history_add(t.store, "uid:4242", "suspend", "taro", "denied") == 0;
        CHECK(refused == 500, "500 refusals of a UID that is no user recorded (%u)", refused);
        CHECK(scratch_int(&t, "SELECT count(*) FROM history") == 1, "500 refusals in a moment: one row so far");
        CHECK(scratch_int(&t, "SELECT count FROM history WHERE actor = 'uid:4242'") == 1,
              "the first refusal is told at once");
        clock_gettime(CLOCK_MONOTONIC, &ts);
        mono = (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
        CHECK(store_history_held_due(t.store) > mono &&
              store_history_held_due(t.store) <= mono + STORE_REFUSAL_INTERVAL_USEC,
              "the rest is held until the interval ends");
        CHECK(store_history_flush(t.store, mono) > 0 && scratch_int(&t, "SELECT count(*) FROM history") == 1,
              "before the end nothing more is written");

        add_rows(t.store, "kanri", 3);
        CHECK(scratch_int(&t, "SELECT count(*) FROM history WHERE actor = 'kanri'") == 3,
              "a user's rows are written at once, never aggregated");
        CHECK(store_history_add(t.store, "uid:4242", "remove-user", "jiro", "denied") == 0, "a different refusal");

        CHECK(store_history_flush(t.store, mono + STORE_REFUSAL_INTERVAL_USEC + 1) == 0,
              "at the end of the interval the held refusals are written");
        CHECK(scratch_int(&t, "SELECT count FROM history WHERE actor = 'uid:4242' ORDER BY id DESC LIMIT 1") == 500,
              "as one row with their count");
        CHECK(scratch_int(&t, "SELECT count(*) FROM history WHERE actor = 'uid:4242' AND action = '*'"
                              " AND target = '*' AND result = 'denied'") == 1,
              "fields that differed are \"*\"");

        /* refused still: the next interval holds again */
        CHECK(store_history_add(t.store, "uid:4242", "suspend", "taro", "denied") == 0, "refused again");
        CHECK(store_history_add(t.store, "uid:7", "suspend", "taro", "denied") == 0, "another UID");
        CHECK(scratch_int(&t, "SELECT count(*) FROM history WHERE actor = 'uid:4242'") == 2 &&
              scratch_int(&t, "SELECT count(*) FROM history WHERE actor = 'uid:7'") == 1,
              "the next refusal within the following interval is held; another UID's first is told");
        /* a suspended user's name and a login that only looks like one are users */
        CHECK(store_history_add(t.store, "uid:", "suspend", "taro", "denied") == 0 &&
              store_history_add(t.store, "uid:", "suspend", "taro", "denied") == 0 &&
              scratch_int(&t, "SELECT count(*) FROM history WHERE actor = 'uid:'") == 2,
              "\"uid:\" without a number is not aggregated");
        scratch_reopen(&t);
        CHECK(scratch_int(&t, "SELECT count(*) FROM history WHERE actor = 'uid:4242'") == 3,
              "what was held is written when the store closes");
        CHECK(store_history_query(t.store, NULL, 0, 1000, sum_count, &total) == 0 && total == 501 + 3 + 1 + 1 + 2,
              "the rows' counts add up to every refusal and action (%llu)", (unsigned long long) total);
        CHECK(walk(&t, NULL, NULL) == 0, "aggregated rows are chained like any other");
        scratch_done(&t);
}

static void test_history_prune(void) {
        HistoryPrune p;
        uint64_t rows = 0, now = now_usec();
        char sql[200];
        Scratch t;
        int r;

        scratch_open(&t);
        add_rows(t.store, "kanri", 1200);
        r = store_history_prune_open(t.dir, 365ULL * 86400 * USEC_PER_SEC, 100, now, &p);
        CHECK(r == 0 && p.excess == 1100, "1200 rows, 100 to keep: 1100 to go");
        for (unsigned steps = 0; r >= 0 && !p.done; steps++) {
                r = store_history_prune_step(&p);
                CHECK(r >= 0 && (p.done || p.deleted == (steps + 1) * STORE_PRUNE_BATCH),
                      "a step deletes at most %d rows (%llu so far)", STORE_PRUNE_BATCH,
                      (unsigned long long) p.deleted);
                /* a writer gets in between the steps */
                add_rows(t.store, "boss", 1);
        }
        CHECK(p.deleted == 1100, "1100 deleted (%llu)", (unsigned long long) p.deleted);
        store_history_prune_close(&p);
        CHECK(scratch_int(&t, "SELECT count(*) FROM history") == 100 + 3, "the newest rows stay, with the 3 added");
        CHECK(scratch_int(&t, "SELECT min(id) FROM history") == 1101 &&
              scratch_int(&t, "SELECT anchor_id FROM history_chain") == 1100,
              "the anchor is the last row deleted");
        CHECK(walk(&t, &rows, NULL) == 0 && rows == 103, "the kept rows still verify (%llu)", (unsigned long long) rows);
        add_rows(t.store, "kanri", 2);
        CHECK(walk(&t, NULL, NULL) == 0 && scratch_int(&t, "SELECT max(id) FROM history") == 1205,
              "new rows chain on, ids never reused");

        /* by age: the oldest 10 made a year old; row 1150, old too, sits after younger ones */
        snprintf(sql, sizeof sql, "UPDATE history SET time_usec = %llu WHERE id <= 1110 OR id = 1150",
                 (unsigned long long) (now - 366ULL * 86400 * USEC_PER_SEC));
        scratch_sql(&t, sql);
        CHECK(store_history_prune_open(t.dir, 365ULL * 86400 * USEC_PER_SEC, 1000000, now_usec(), &p) == 0 &&
              p.excess == 0, "nothing beyond MaxEntries");
        while (!p.done && store_history_prune_step(&p) >= 0)
                ;
        CHECK(p.done && p.deleted == 10, "the rows older than MaxAge go (%llu)", (unsigned long long) p.deleted);
        store_history_prune_close(&p);
        CHECK(scratch_int(&t, "SELECT min(id) FROM history") == 1111 &&
              scratch_int(&t, "SELECT count(*) FROM history WHERE id = 1150") == 1,
              "oldest first only: an old row after younger ones waits for its turn");
        /* those rows were changed (their time): gone, they leave the chain whole up to row 1150 */
        expect_bad(&t, 1150, "was changed", "pruned rows take nothing of the chain with them");
        scratch_sql(&t, "DELETE FROM history WHERE id >= 1150");
        scratch_sql(&t, "UPDATE history_chain SET head_id = 1149, head_hash = (SELECT hash FROM history WHERE id = 1149)");
        CHECK(walk(&t, NULL, NULL) == 0, "cut back before it, the chain is whole");

        /* old rows slipped in before the start of the chain go without moving the anchor */
        snprintf(sql, sizeof sql, "INSERT INTO history (id, time_usec, actor, action, target, result)"
                                  " VALUES (1105, %llu, 'boss', 'revoke', 'taro', 'ok')",
                 (unsigned long long) (now - 400ULL * 86400 * USEC_PER_SEC));
        scratch_sql(&t, sql);
        expect_bad(&t, 1105, "before the start of the chain", "a row slipped in before the anchor");
        CHECK(store_history_prune_open(t.dir, 365ULL * 86400 * USEC_PER_SEC, 1000000, now_usec(), &p) == 0, "prune");
        while (!p.done && store_history_prune_step(&p) >= 0)
                ;
        CHECK(p.deleted == 1 && scratch_int(&t, "SELECT anchor_id FROM history_chain") == 1110,
              "the old row went (%llu), the anchor stayed", (unsigned long long) p.deleted);
        store_history_prune_close(&p);
        CHECK(walk(&t, NULL, NULL) == 0, "and the chain is whole");

        scratch_sql(&t, "DELETE FROM history");
        scratch_sql(&t, "UPDATE history_chain SET anchor_id = head_id, anchor_hash = head_hash");
        CHECK(walk(&t, NULL, NULL) == 0, "all pruned: the anchor is the head, intact");
        add_rows(t.store, "kanri", 1);
        CHECK(walk(&t, &rows, NULL) == 0 && rows == 1 && scratch_int(&t, "SELECT id FROM history") == 1150,
              "and the next row chains from it");
        scratch_done(&t);
}

/* A store of schema 5 with rows, as the previous certrevoked left it. */
static void test_history_migration(void) {
        uint64_t rows = 0;
        Scratch t;

        scratch_open(&t);
        add_rows(t.store, "kanri", 4);
        store_free(t.store);
        t.store = NULL;
        scratch_sql(&t, "DROP TABLE history_chain;"
                        "ALTER TABLE history DROP COLUMN hash;"
                        "ALTER TABLE history DROP COLUMN count;"
                        "DELETE FROM history WHERE id = 2;"
                        "INSERT INTO history (time_usec, actor, action, target, result)"
                        " VALUES (5, 'uid:9', 'suspend', 'taro', 'denied'), (6, 'boss', 'revoke', 'taro', 'ok');"
                        "DROP INDEX certificates_by_serial;"
                        "DROP INDEX certificates_listed_by_expiry;"
                        "DROP INDEX users_suspended;"
                        "DROP INDEX certificates_pending_removal;"
                        "PRAGMA user_version = 5;");
        scratch_reopen(&t);
        CHECK(scratch_int(&t, "PRAGMA user_version") == 9, "migrated to schema 6 and on");
        CHECK(scratch_int(&t, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN"
                              " ('certificates_listed_by_expiry', 'users_suspended')") == 2,
              "schema 8 indexes the listed certificates by expiry and the suspended users");
        CHECK(scratch_int(&t, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND"
                              " name = 'certificates_pending_removal'") == 1,
              "schema 9 indexes the pending token removals");
        CHECK(scratch_int(&t, "SELECT count(*) FROM history WHERE count = 1 AND length(hash) = 32") == 5,
              "every old row counts one and is chained");
        CHECK(walk(&t, &rows, NULL) == 0 && rows == 5, "the old rows verify, the gap they had included");
        CHECK(scratch_int(&t, "SELECT head_id FROM history_chain") == 6, "the head is the newest old row");
        add_rows(t.store, "kanri", 2);
        CHECK(walk(&t, &rows, NULL) == 0 && rows == 7 && scratch_int(&t, "SELECT max(id) FROM history") == 8,
              "new rows chain on from them");
        scratch_sql(&t, "UPDATE history SET target = 'jiro' WHERE id = 6");
        expect_bad(&t, 6, "was changed", "a migrated row changed afterwards");
        scratch_done(&t);
}

static StoreHealth probe(const Scratch *t) {
        StoreHealth h = STORE_INTACT;
        char *why = NULL;

        CHECK(store_probe(t->dir, &h, &why) == 0, "the store can be looked at");
        free(why);
        return h;
}

/* What a start beside a published CRL finds, and an entry taken back from
 * that CRL without its certificate, which a later filing fills in. */
static void test_recovery(void) {
        char path[128];
        uint64_t n = 0;
        bool listed = true;
        Scratch t;
        FILE *f;

        snprintf(t.dir, sizeof t.dir, "/tmp/certrevoke-test-recover-XXXXXX");
        CHECK(mkdtemp(t.dir) != NULL, "a directory for a store");
        t.store = NULL;
        CHECK(probe(&t) == STORE_MISSING, "no store.db is missing");
        snprintf(path, sizeof path, "%s/store.db", t.dir);
        f = fopen(path, "we");
        CHECK(f && fclose(f) == 0, "an empty store.db");
        CHECK(probe(&t) == STORE_EMPTY, "a file of no bytes is empty");
        CHECK(unlink(path) == 0, "and gone");
        scratch_reopen(&t);
        CHECK(probe(&t) == STORE_EMPTY, "a store without users or a CRL number is empty");
        CHECK(store_add_user(t.store, "taro", "Taro", CR_ROLE_GENERAL, 1003) == 0, "taro added");
        CHECK(store_add_user(t.store, "jinoh", "Jinoh", CR_ROLE_GENERAL, 1004) == 0, "jinoh added");
        CHECK(probe(&t) == STORE_INTACT, "a store with a user is intact");

        CHECK(store_serial_listed(t.store, "0C", &listed) == 0 && !listed, "serial 0C is on no CRL");
        CHECK(store_recover_entry(t.store, "0C", 1000 * USEC_PER_SEC, "keyCompromise", 7) == 1,
              "serial 0C taken back alone");
        CHECK(store_recover_entry(t.store, "0C", 1000 * USEC_PER_SEC, "keyCompromise", 7) == 0,
              "taking it twice records it once");
        CHECK(store_serial_listed(t.store, "0C", &listed) == 0 && listed, "serial 0C is listed now");
        CHECK(store_crl_raise(t.store, 7) == 0 && store_crl_reserved(t.store, &n) == 0 && n == 7,
              "the published number is the floor");
        CHECK(store_crl_reserve(t.store, &n) == 0 && n == 8, "the next number is above it");
        file_cert(t.store, "taro", 12, time(NULL) - 3600, time(NULL) + 86400, "pkcs11:token=x");
        expect_state(t.store, "taro", CR_CERT_REVOKED);
        CHECK(scratch_int(&t, "SELECT count(*) FROM certificates") == 1, "the certificate filled the entry in");

        store_free(t.store);
        t.store = NULL;
        f = fopen(path, "r+e");
        CHECK(f && fwrite("garbage garbage!", 1, 16, f) == 16 && fclose(f) == 0, "the header overwritten");
        CHECK(probe(&t) == STORE_DAMAGED, "a store that is no database is damaged");
        scratch_done(&t);
}

/* Transactions nest: the inner one is a savepoint, so that a revocation
 * can commit with its confirmation and CRL number as one. */
static void test_nested_transactions(void) {
        uint64_t before = 0, n = 0;
        Scratch t;

        snprintf(t.dir, sizeof t.dir, "/tmp/certrevoke-test-nested-XXXXXX");
        CHECK(mkdtemp(t.dir) != NULL, "a directory for a store");
        t.store = NULL;
        scratch_reopen(&t);
        CHECK(store_crl_reserved(t.store, &before) == 0, "the reserved number read");

        CHECK(store_begin(t.store) == 0 && store_add_user(t.store, "outer", "Outer", CR_ROLE_GENERAL, 1101) == 0,
              "outer transaction with a user");
        CHECK(store_begin(t.store) == 0 && store_add_user(t.store, "inner", "Inner", CR_ROLE_GENERAL, 1102) == 0 &&
              store_crl_reserve(t.store, &n) == 0 && store_commit(t.store) == 0, "inner transaction committed");
        store_rollback(t.store);
        CHECK(scratch_int(&t, "SELECT count(*) FROM users") == 0, "the outer rollback takes the inner one with it");
        CHECK(store_crl_reserved(t.store, &n) == 0 && n == before, "and the number it reserved");

        CHECK(store_begin(t.store) == 0 && store_add_user(t.store, "outer", "Outer", CR_ROLE_GENERAL, 1101) == 0,
              "outer again");
        CHECK(store_begin(t.store) == 0 && store_add_user(t.store, "inner", "Inner", CR_ROLE_GENERAL, 1102) == 0,
              "inner again");
        store_rollback(t.store);
        CHECK(store_crl_reserve(t.store, &n) == 0 && n == before + 1, "a number reserved after the inner rollback");
        CHECK(store_commit(t.store) == 0, "outer committed");
        CHECK(scratch_int(&t, "SELECT count(*) FROM users WHERE login_id = 'outer'") == 1 &&
              scratch_int(&t, "SELECT count(*) FROM users WHERE login_id = 'inner'") == 0,
              "an inner rollback keeps the outer transaction's work");
        scratch_reopen(&t);
        CHECK(store_crl_reserved(t.store, &n) == 0 && n == before + 1, "the committed number survives a reopen");
        scratch_done(&t);
}

static bool version_same(const StoreVersion *a, const StoreVersion *b) {
        return a->others == b->others && a->own == b->own;
}

/* The version tells a reader of the loop's connection whether what it read
 * may have changed: by a write of its own, or a commit on another connection. */
static void test_version(void) {
        StoreVersion before, after;
        char path[128];
        sqlite3 *db;
        Scratch t;

        scratch_open(&t);
        CHECK(store_version(t.store, &before) == 0 && store_version(t.store, &after) == 0 &&
              version_same(&before, &after), "reading the version changes nothing");
        CHECK(store_add_user(t.store, "vera", "Vera", CR_ROLE_GENERAL, 1201) == 0 &&
              store_version(t.store, &after) == 0 && !version_same(&before, &after),
              "a row added on the connection moves the version on");

        before = after;
        CHECK(store_begin(t.store) == 0 && store_set_role(t.store, "vera", CR_ROLE_ADMIN) == 0, "a change begun");
        store_rollback(t.store);
        CHECK(store_version(t.store, &after) == 0 && !version_same(&before, &after),
              "a change rolled back moves it on too: a reader reads again, no harm done");

        snprintf(path, sizeof path, "%s/store.db", t.dir);
        CHECK(sqlite3_open(path, &db) == SQLITE_OK, "a second connection opens");
        before = after;
        CHECK(sqlite3_exec(db, "SELECT count(*) FROM users", NULL, NULL, NULL) == SQLITE_OK &&
              store_version(t.store, &after) == 0 && version_same(&before, &after),
              "a read on another connection leaves it");
        CHECK(sqlite3_exec(db, "UPDATE users SET name = 'Vera Zwei' WHERE login_id = 'vera'", NULL, NULL, NULL) ==
                      SQLITE_OK && store_version(t.store, &after) == 0 && !version_same(&before, &after),
              "a commit on another connection moves it on");
        sqlite3_close(db);
        scratch_done(&t);
}

typedef struct Nested {
        Store *store;
        int outer, inner;
} Nested;

static int count_inner(const UserRow *u, void *userdata) {
        (void) u;
        ((Nested *) userdata)->inner++;
        return 0;
}

/* The same query run again inside its own rows. */
static int list_again(const UserRow *u, void *userdata) {
        Nested *n = userdata;

        (void) u;
        n->outer++;
        return store_foreach_user(n->store, count_inner, n);
}

static int stop_at_first(const UserRow *u, void *userdata) {
        (void) u;
        (*(int *) userdata)++;
        return -ECANCELED;
}

/* Statements are kept prepared between calls: a query met again inside
 * its own rows runs on a statement of its own, and a query left after its
 * first row holds no read transaction that would hide later commits. */
static void test_kept_statements(void) {
        Nested n = {};
        char path[128];
        uint64_t users = 0;
        sqlite3 *db;
        Scratch t;
        int seen = 0;

        scratch_open(&t);
        for (unsigned i = 0; i < 3; i++) {
                char login[16];

                snprintf(login, sizeof login, "kept%u", i);
                CHECK(store_add_user(t.store, login, "Kept", CR_ROLE_GENERAL, 1300 + i) == 0, "user %s added", login);
        }
        n.store = t.store;
        CHECK(store_foreach_user(t.store, list_again, &n) == 0 && n.outer == 3 && n.inner == 9,
              "a list inside a list: every row of each (%d outer, %d inner)", n.outer, n.inner);
        CHECK(store_foreach_user(t.store, stop_at_first, &seen) == -ECANCELED && seen == 1, "a list stopped at its first row");

        snprintf(path, sizeof path, "%s/store.db", t.dir);
        CHECK(sqlite3_open(path, &db) == SQLITE_OK &&
              sqlite3_exec(db, "INSERT INTO users (login_id, name, role, uid, created_usec)"
                               " VALUES ('outside', 'Outside', 'general', 1399, 0)", NULL, NULL, NULL) == SQLITE_OK,
              "a user added on another connection");
        sqlite3_close(db);
        CHECK(store_count_users(t.store, &users) == 0 && users == 4, "the store sees it: %" PRIu64 " users", users);
        scratch_done(&t);
}

int main(void) {
        char cmd[300];

        if (!mkdtemp(dir))
                return 1;
        ca_key = gen_key();
        ca = gen_cert(ca_key, NULL, "Test CA", 1, time(NULL) - 86400, time(NULL) + 365 * 86400, NULL, NULL);
        test_derive();
        test_store();
        test_history_chain();
        test_history_refusals();
        test_history_prune();
        test_history_migration();
        test_recovery();
        test_nested_transactions();
        test_version();
        test_kept_statements();
        X509_free(ca);
        EVP_PKEY_free(ca_key);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                return 1;
        return CHECK_EXIT();
}
