/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sqlite3.h>
#include <stdlib.h>
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

int main(void) {
        char cmd[300];

        if (!mkdtemp(dir))
                return 1;
        ca_key = gen_key();
        ca = gen_cert(ca_key, NULL, "Test CA", 1, time(NULL) - 86400, time(NULL) + 365 * 86400, NULL, NULL);
        test_derive();
        test_store();
        X509_free(ca);
        EVP_PKEY_free(ca_key);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                return 1;
        return CHECK_EXIT();
}
