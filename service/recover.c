/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "atomic-file.h"
#include "cert.h"
#include "crl.h"
#include "log.h"
#include "recover.h"
#include "store.h"
#include "util.h"
#include "worker.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(X509_CRL *, X509_CRL_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_ENUMERATED *, ASN1_ENUMERATED_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(BIGNUM *, BN_free)

#define RECOVER_HOW                                                                                     \
        "To recover, restore a backup made with \"certrevokectl backup\" (stop certrevoked, copy it over " \
        "store.db, start), or run \"certrevoked --recover-from-crl\" to take the published CRL's entries " \
        "and number into a new store"

/* The publish directory, read only; -ENOENT when it was never made. */
static int open_publish_directory(Context *c, int *ret) {
        *ret = open(c->config.publish_directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return *ret < 0 ? -errno : 0;
}

/* The same for the checks at start, which log why it cannot be opened:
 * 0 with *ret -1 when it was never made (nothing was published). */
static int open_publish_directory_at_start(Context *c, int *ret) {
        int r = open_publish_directory(c, ret);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "crl: cannot open PublishDirectory=%s: %m", c->config.publish_directory);
        return 0;
}

static bool published_crl_exists(int dir_fd) {
        struct stat st;

        return fstatat(dir_fd, "crl.der", &st, AT_SYMLINK_NOFOLLOW) >= 0;
}

int recover_check_start(Context *c) {
        _cleanup_(X509_CRL_freep) X509_CRL *crl = NULL;
        _cleanup_free_ char *why = NULL;
        _cleanup_close_ int dir_fd = -1;
        char number[48] = "a CRL that cannot be read";
        uint64_t n;
        StoreHealth health;
        int r;

        r = open_publish_directory_at_start(c, &dir_fd);
        if (r < 0 || dir_fd < 0)
                return r;
        if (!published_crl_exists(dir_fd))
                return 0;
        r = store_probe(c->config.state_directory, &health, &why);
        if (r < 0)
                return log_error_errno(r, "store: cannot look at %s/store.db: %m", c->config.state_directory);
        if (health == STORE_INTACT)
                return 0;
        if (published_crl_read(dir_fd, &crl, &n) >= 0)
                snprintf(number, sizeof number, "CRL number %" PRIu64, n);
        log_error("store: %s/store.db is %s%s%s%s while %s/crl.der holds %s: a start would publish a CRL that "
                  "lists none of its revocations, with a lower number. Not starting. " RECOVER_HOW ".",
                  c->config.state_directory, store_health_to_string(health), why ? " (" : "", why ? why : "",
                  why ? ")" : "", c->config.publish_directory, number);
        return -ESTALE;
}

/* ---- the entries of a CRL ---- */

/* As cert.c spells serials, so that the two meet in the store; no more
 * than RFC 5280's 20 octets. */
static char *serial_hex(const ASN1_INTEGER *serial) {
        if (ASN1_STRING_length(serial) > 20)
                return NULL;
        return cert_serial_to_hex(serial);
}

static int entry_reason(const X509_REVOKED *rev, const char **ret) {
        _cleanup_(ASN1_ENUMERATED_freep) ASN1_ENUMERATED *e = NULL;
        int crit;
        long v;

        e = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, &crit, NULL);
        if (!e) {
                /* absent is unspecified (RFC 5280 5.3.1); -2 would be a duplicate */
                *ret = crl_reason_to_string(CRL_REASON_NONE);
                return crit == -1 ? 0 : -EBADMSG;
        }
        v = ASN1_ENUMERATED_get(e);
        /* removeFromCRL belongs to delta CRLs; this is a full one */
        if (v == CRL_REASON_REMOVE_FROM_CRL || v < 0 || v > INT32_MAX || !(*ret = crl_reason_to_string((int) v)))
                return -EBADMSG;
        return 0;
}

static int entry_time(const X509_REVOKED *rev, uint64_t *ret) {
        struct tm tm;
        time_t sec;

        if (ASN1_TIME_to_tm(X509_REVOKED_get0_revocationDate(rev), &tm) != 1)
                return -EBADMSG;
        sec = timegm(&tm);
        if (sec < 0)
                return -EBADMSG;
        *ret = (uint64_t) sec * USEC_PER_SEC;
        return 0;
}

typedef struct Taken {
        size_t entries, new, held;
} Taken;

static int take_entry(Store *s, const X509_REVOKED *rev, uint64_t number, Taken *t) {
        _cleanup_free_ char *serial = serial_hex(X509_REVOKED_get0_serialNumber(rev));
        const char *reason;
        uint64_t when;
        int r;

        if (!serial)
                return log_error_errno(-EBADMSG, "recover: an entry of crl.der has a serial that is no "
                                                 "certificate's (negative or over 20 octets)");
        if (entry_reason(rev, &reason) < 0)
                return log_error_errno(-EBADMSG, "recover: the entry of serial %s has a reason a full CRL "
                                                 "cannot hold", serial);
        if (entry_time(rev, &when) < 0)
                return log_error_errno(-EBADMSG, "recover: the entry of serial %s has no usable revocation date",
                                       serial);
        r = store_recover_entry(s, serial, when, reason, number);
        if (r < 0)
                return log_error_errno(r, "recover: cannot record serial %s: %m", serial);
        t->entries++;
        t->new += r > 0;
        t->held += strcmp(reason, "certificateHold") == 0;
        return 0;
}

/* ---- the start of a store that is behind the published CRL ---- */

static int first_unlisted(Store *s, X509_CRL *crl, size_t *ret_missing, char **ret_first) {
        STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
        int n = revs ? sk_X509_REVOKED_num(revs) : 0;

        *ret_missing = 0;
        *ret_first = NULL;
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *serial = serial_hex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs, i)));
                bool listed = false;
                int r;

                if (serial && (r = store_serial_listed(s, serial, &listed)) < 0)
                        return r;
                if (listed)
                        continue;
                if (!*ret_first)
                        *ret_first = TAKE_PTR(serial);
                (*ret_missing)++;
        }
        return 0;
}

int recover_check_floor(Context *c) {
        _cleanup_(X509_CRL_freep) X509_CRL *crl = NULL;
        _cleanup_free_ char *first = NULL;
        _cleanup_close_ int dir_fd = -1;
        uint64_t published, reserved;
        size_t missing;
        int r;

        r = open_publish_directory_at_start(c, &dir_fd);
        if (r < 0 || dir_fd < 0)
                return r;
        r = published_crl_read(dir_fd, &crl, &published);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                /* the store is intact and its own number is all we know */
                log_warning_errno(r, "crl: %s/crl.der cannot be read as a CRL (%m); the next CRL follows the "
                                     "store's number", c->config.publish_directory);
                return 0;
        }
        if ((r = store_crl_reserved(c->store, &reserved)) < 0)
                return log_error_errno(r, "store: cannot read the CRL number: %m");
        if (reserved >= published)
                return 0;
        if ((r = first_unlisted(c->store, crl, &missing, &first)) < 0)
                return log_error_errno(r, "store: cannot compare the store with crl.der: %m");
        if (missing > 0) {
                log_error("store: %s/store.db reached CRL number %" PRIu64 ", but %s/crl.der has number %" PRIu64
                          " and lists %zu certificate%s the store does not (the first: serial %s); it is older "
                          "than what was published (a backup restored?). Not starting. Run \"certrevoked "
                          "--recover-from-crl\" to take the published entries into this store.",
                          c->config.state_directory, reserved, c->config.publish_directory, published, missing,
                          missing == 1 ? "" : "s", first ? first : "?");
                return -ESTALE;
        }
        if ((r = store_crl_raise(c->store, published)) < 0)
                return log_error_errno(r, "store: cannot raise the CRL number to %" PRIu64 ": %m", published);
        log_warning("crl: the store had reached CRL number %" PRIu64 " and crl.der has %" PRIu64 "; it lists "
                    "every entry of that CRL, so the next CRL continues above %" PRIu64,
                    reserved, published, published);
        return 0;
}

/* ---- certrevoked --recover-from-crl ---- */

static void openssl_freep(char **p) {
        OPENSSL_free(*p);
}

static char *name_oneline(const X509_NAME *name) {
        return X509_NAME_oneline(name, NULL, 0);
}

/* Signed by the configured CA's key and naming it as issuer: anything
 * else would put someone else's list in our store. */
static int verify_with_ca(X509_CRL *crl, X509 *ca) {
        EVP_PKEY *key = X509_get0_pubkey(ca);

        if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca)) != 0) {
                _cleanup_(openssl_freep) char *issuer = name_oneline(X509_CRL_get_issuer(crl));
                _cleanup_(openssl_freep) char *subject = name_oneline(X509_get_subject_name(ca));

                log_error("recover: crl.der was issued by %s, not by the configured CA %s: refusing a foreign CRL",
                          issuer ? issuer : "?", subject ? subject : "?");
                return -EPERM;
        }
        if (!key || X509_CRL_verify(crl, key) != 1) {
                ERR_clear_error();
                log_error("recover: the signature of crl.der does not verify with the key of [CA] Certificate=: "
                          "refusing a CRL that is unsigned, altered or signed by another key");
                return -EPERM;
        }
        return 0;
}

/* A store that cannot be used is kept beside, for whoever wants to look. */
static int put_aside(const char *dir) {
        static const char *const suffixes[] = { "", "-wal", "-shm" };
        uint64_t now = now_usec() / USEC_PER_SEC;

        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                _cleanup_free_ char *from = NULL, *to = NULL;

                if (asprintf(&from, "%s/store.db%s", dir, suffixes[i]) < 0 ||
                    asprintf(&to, "%s/store.db.unusable-%" PRIu64 "%s", dir, now, suffixes[i]) < 0)
                        return -ENOMEM;
                if (rename(from, to) < 0 && errno != ENOENT)
                        return log_error_errno(-errno, "recover: cannot move %s aside: %m", from);
                if (i == 0)
                        log_info("recover: the unusable store is kept as %s", to);
        }
        return 0;
}

static int open_store_for_recovery(Context *c) {
        _cleanup_free_ char *why = NULL, *error = NULL;
        StoreHealth health;
        int r;

        r = store_probe(c->config.state_directory, &health, &why);
        if (r < 0)
                return log_error_errno(r, "store: cannot look at %s/store.db: %m", c->config.state_directory);
        if (health == STORE_EMPTY || health == STORE_DAMAGED) {
                log_info("recover: %s/store.db is %s%s%s%s", c->config.state_directory,
                         store_health_to_string(health), why ? " (" : "", why ? why : "", why ? ")" : "");
                if ((r = put_aside(c->config.state_directory)) < 0)
                        return r;
        }
        r = store_open(c->config.state_directory, &c->store, &error);
        if (r < 0)
                return log_error_errno(r, "store: %s", error ? error : strerror(-r));
        return 0;
}

static int take_entries(Context *c, X509_CRL *crl, uint64_t number, Taken *t) {
        STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
        int n = revs ? sk_X509_REVOKED_num(revs) : 0;
        char result[96];
        int r;

        if ((r = store_begin(c->store)) < 0)
                return log_error_errno(r, "store: cannot begin: %m");
        for (int i = 0; i < n; i++)
                if ((r = take_entry(c->store, sk_X509_REVOKED_value(revs, i), number, t)) < 0)
                        goto fail;
        if ((r = store_crl_raise(c->store, number)) < 0 || (r = store_crl_republish(c->store)) < 0)
                goto fail;
        snprintf(result, sizeof result, "%zu entries, %zu new, CRL number %" PRIu64, t->entries, t->new, number);
        if ((r = store_history_add(c->store, "root", "recover-from-crl", "", result)) < 0)
                goto fail;
        if ((r = store_commit(c->store)) < 0)
                goto fail;
        return 0;
fail:
        store_rollback(c->store);
        return log_error_errno(r, "recover: nothing was taken into the store: %m");
}

int recover_from_crl(Context *c) {
        _cleanup_(X509_CRL_freep) X509_CRL *crl = NULL;
        _cleanup_close_ int dir_fd = -1;
        uint64_t number;
        Taken t = {};
        int r;

        if (!c->ca)
                return log_error_errno(-ENOKEY, "recover: [CA] Certificate= is needed to verify the published CRL");
        if ((r = open_publish_directory(c, &dir_fd)) < 0)
                return log_error_errno(r, "recover: cannot open PublishDirectory=%s: %m",
                                       c->config.publish_directory);
        r = published_crl_read(dir_fd, &crl, &number);
        if (r == -ENOENT)
                return log_error_errno(r, "recover: there is no %s/crl.der to recover from",
                                       c->config.publish_directory);
        if (r < 0)
                return log_error_errno(r, "recover: %s/crl.der is not a CRL with a CRL number: %s",
                                       c->config.publish_directory, r == -EBADMSG ? "cannot parse it" : strerror(-r));
        if ((r = verify_with_ca(crl, c->ca)) < 0)
                return r;
        if ((r = open_store_for_recovery(c)) < 0)
                return r;
        if ((r = take_entries(c, crl, number, &t)) < 0)
                return r;
        printf("Took %zu entries (%zu of them on hold, %zu new to the store) and CRL number %" PRIu64
               " from %s/crl.der into %s/store.db.\n"
               "The next CRL is numbered above %" PRIu64 " and lists them all; certrevoked publishes it when it "
               "starts.\nUsers are not on a CRL: add them again (certrevokectl add-user) and rescan to find "
               "their certificates.\n",
               t.entries, t.held, t.new, number, c->config.publish_directory, c->config.state_directory, number);
        return 0;
}

/* ---- Backup(h fd): a consistent copy through the daemon ---- */

typedef struct BackupJob {
        sd_bus_message *call;
        char *state_dir;
        int fd;                 /* the caller's file: never a path the caller named */
        int result;
        uint64_t bytes;
} BackupJob;

static void backup_job_free(BackupJob *j) {
        if (!j)
                return;
        sd_bus_message_unref(j->call);
        free(j->state_dir);
        if (j->fd >= 0)
                close(j->fd);
        free(j);
}

static int copy_into(int from, int to, uint64_t *ret_bytes) {
        char buf[64 * 1024];
        ssize_t n;
        int r;

        *ret_bytes = 0;
        while ((n = read(from, buf, sizeof buf)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if ((r = write_all(to, buf, (size_t) n)) < 0)
                        return r;
                *ret_bytes += (uint64_t) n;
        }
        return 0;
}

/* SQLite writes a database only to a path it opens itself, so the copy is
 * made in the state directory and then poured into the caller's file. */
static int backup_work_inner(BackupJob *j) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int tmp_fd = -1;
        int r;

        if (asprintf(&tmp, "%s/.backup-XXXXXX", j->state_dir) < 0)
                return -ENOMEM;
        tmp_fd = mkostemp(tmp, O_CLOEXEC);
        if (tmp_fd < 0)
                return -errno;
        r = store_backup(j->state_dir, tmp);
        if (r >= 0 && lseek(tmp_fd, 0, SEEK_SET) < 0)
                r = -errno;
        if (r >= 0)
                r = copy_into(tmp_fd, j->fd, &j->bytes);
        /* the reply says the copy is on disk */
        if (r >= 0 && fsync(j->fd) < 0)
                r = -errno;
        (void) unlink(tmp);
        return r;
}

static void backup_work(void *userdata) {
        BackupJob *j = userdata;

        j->result = backup_work_inner(j);
}

static void backup_done(Context *c, void *userdata) {
        BackupJob *j = userdata;
        char result[64];

        if (j->result < 0) {
                log_error_errno(j->result, "backup: failed: %m");
                (void) store_history_add(c->store, "root", "backup", "", "failed");
                (void) sd_bus_reply_method_errnof(j->call, j->result, "The backup failed: %m");
        } else {
                snprintf(result, sizeof result, "ok, %" PRIu64 " bytes", j->bytes);
                log_info("backup: the store copied, %" PRIu64 " bytes", j->bytes);
                (void) store_history_add(c->store, "root", "backup", "", result);
                (void) sd_bus_reply_method_return(j->call, NULL);
        }
        backup_job_free(j);
}

int recover_backup_start(Context *c, sd_bus_message *call, int fd) {
        BackupJob *j;
        int r;

        assert(fd >= 0);
        if (!(j = calloc(1, sizeof *j)))
                return -ENOMEM;
        j->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        j->call = sd_bus_message_ref(call);
        j->state_dir = strdup(c->config.state_directory);
        if (j->fd < 0 || !j->state_dir) {
                r = j->fd < 0 ? -errno : -ENOMEM;
                backup_job_free(j);
                return r;
        }
        if ((r = worker_run(c, backup_work, backup_done, j)) < 0) {
                backup_job_free(j);
                return r;
        }
        return 0;
}
