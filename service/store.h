/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cert.h"
#include "certrevoke.h"
#include "util.h"

typedef struct Store Store;

/* The certificates on hold: the current certificate (newest notBefore) of
 * each suspended user, not revoked and not expired at ?1.  The CRL lists
 * them as certificateHold and the OCSP responder answers so; one text, so
 * that the two never disagree.  Few: users_suspended finds them without
 * reading every user. */
#define STORE_SQL_HELD_FROM                                                      \
        " FROM users u"                                                          \
        "  JOIN certificates c ON c.id ="                                        \
        "       (SELECT id FROM certificates WHERE user_id = u.id"               \
        "         ORDER BY not_before_usec DESC, id DESC LIMIT 1)"               \
        " WHERE u.suspended_usec != 0 AND c.revoked_usec = 0 AND c.not_after_usec > ?1"

/* A user with the facts of their current certificate.  In a UserRow the
 * strings are borrowed from the store and valid during the callback only;
 * a UserView owns copies. Absent strings are "". */
typedef struct UserRow {
        const char *login_id;
        const char *name;
        CrRole role;
        uint32_t uid;
        CrCertState state;
        const char *serial;
        const char *subject;
        const char *uri;
        const char *revocation_reason;
        uint64_t not_after_usec;
        uint64_t revoked_usec;
        const char *removal;            /* "", "pending" or "removed": the token copy */
        uint64_t suspended_usec;        /* 0: not suspended */
} UserRow;

typedef struct UserView {
        UserRow row;
        char *strings[7];
} UserView;

/* Derives a certificate state; never stored, so it cannot disagree with
 * the facts it comes from.  n_certs counts all the user's certificates. */
CrCertState cert_state_derive(int has_cert, uint64_t revoked_usec, uint64_t not_after_usec,
                              uint64_t now_usec, int64_t n_certs);

/* Opens (creating and migrating) dir/store.db; refuses a store another
 * process holds.  On failure *error says why for the administrator. */
int store_open(const char *dir, Store **ret, char **error);
/* Syncs what is committed and closes. */
void store_free(Store *s);

/* For the daemon's event loop: commits no longer wait for the disk
 * (PRAGMA synchronous=OFF) and the connection never checkpoints, so that
 * no fsync stalls the loop.  What it commits is durable once
 * store_sync_log() returns after the commit: the daemon answers a change
 * only then (durable.h).  Checkpoints run in store_sync_log(), synced. */
int store_defer_sync(Store *s);

/* In a worker thread: makes every transaction committed in dir/store.db
 * before the call durable (one fdatasync of the write-ahead log, for all
 * of them), and checkpoints the log into the database once it has grown
 * past STORE_CHECKPOINT_BYTES, on a connection of its own that syncs. */
#define STORE_CHECKPOINT_BYTES (16u << 20)
int store_sync_log(const char *dir);

/* Whether what was read on this connection may have changed since: the
 * version moves on when another connection commits (PRAGMA data_version)
 * and when a row changes on this one (committed or not). */
typedef struct StoreVersion {
        uint64_t others;
        uint64_t own;
} StoreVersion;
int store_version(Store *s, StoreVersion *ret);

int store_begin(Store *s);
int store_commit(Store *s);
void store_rollback(Store *s);

typedef int (*store_user_cb)(const UserRow *u, void *userdata);
/* Every user in login order; a negative return from cb stops and is returned. */
int store_foreach_user(Store *s, store_user_cb cb, void *userdata);
int store_count_users(Store *s, uint64_t *ret);
/* Master users who are not suspended. */
int store_count_active_masters(Store *s, uint64_t *ret);

int store_get_user(Store *s, const char *login_id, UserView *ret);   /* -ENOENT */
void user_view_done(UserView *v);
/* The login and role of the user with that uid; -ENOENT if none. */
int store_user_by_uid(Store *s, uint32_t uid, char **ret_login, CrRole *ret_role, bool *ret_suspended);

int store_add_user(Store *s, const char *login_id, const char *name, CrRole role, uint32_t uid);
int store_remove_user(Store *s, const char *login_id);
int store_set_role(Store *s, const char *login_id, CrRole role);
/* Suspends (when_usec != 0) or resumes (0) a user; -ENOENT if none. */
int store_set_suspended(Store *s, const char *login_id, uint64_t when_usec);

/* Files a certificate under a user, or refreshes where it was seen.
 * uri may be NULL (imported): an earlier URI is then kept. *changed tells
 * whether anything a client can see changed.  -EEXIST: the certificate
 * already belongs to another user. */
int store_file_certificate(Store *s, const char *login_id, const CertInfo *c,
                           const char *uri, int *changed);

/* Appends a row to the operation history, chained by hash to the one
 * before.  A caller who is no user (actor "uid:N", which no login ID can
 * be) is aggregated: their first refusal is written at once and opens an
 * interval of STORE_REFUSAL_INTERVAL_USEC; the refusals within it are held
 * and written as one row with their count when it ends (store_history_flush)
 * or when the store is freed.  Rows of users are always written at once. */
int store_history_add(Store *s, const char *actor, const char *action,
                      const char *target, const char *result);

#define STORE_REFUSAL_INTERVAL_USEC (60 * USEC_PER_SEC)
#define STORE_HISTORY_HASH_SIZE 32

/* Called after every store_history_add: appended tells whether a row was
 * written (false: a refusal was held). */
typedef void (*store_history_watch_cb)(bool appended, void *userdata);
void store_history_watch(Store *s, store_history_watch_cb cb, void *userdata);

/* Writes the held refusals whose interval ended by now_mono (CLOCK_MONOTONIC);
 * returns when the next held ones fall due, 0 when none are held. */
uint64_t store_history_flush(Store *s, uint64_t now_mono);
uint64_t store_history_held_due(Store *s);

/* Pruning by [History] MaxAge= and MaxEntries=, in steps that each delete
 * up to STORE_PRUNE_BATCH of the oldest rows in one short transaction, on a
 * connection of the pruning's own: safe in a worker thread, one step at a
 * time, and no writer waits long.  Rows go in id order only, so that the
 * chain stays whole: the hash of the last row deleted becomes the anchor
 * the oldest kept row chains from. */
#define STORE_PRUNE_BATCH 512
typedef struct HistoryPrune {
        Store *writer;
        uint64_t cutoff_usec;   /* rows older than this go */
        uint64_t excess;        /* rows beyond max_entries still to go */
        uint64_t deleted;
        bool done;
} HistoryPrune;
int store_history_prune_open(const char *dir, uint64_t max_age_usec, uint64_t max_entries, uint64_t now_usec,
                             HistoryPrune *ret);
int store_history_prune_step(HistoryPrune *p);
void store_history_prune_close(HistoryPrune *p);

/* A walk along the chain, in steps that each read up to max_rows rows in
 * one read transaction on a connection of the walk's own: safe in a worker
 * thread, one step at a time.  Rows pruned while a walk is under way would
 * break it: pause pruning meanwhile.  When done, first_bad_id names the
 * first row that does not fit (0: the chain is whole) and why says how. */
typedef struct HistoryWalk {
        Store *reader;
        bool started, done;
        int64_t last_id;                                /* of the last row that fits, or the anchor */
        unsigned char last_hash[STORE_HISTORY_HASH_SIZE];
        uint64_t rows;                                  /* rows that fit */
        int64_t first_bad_id;
        char *why;
} HistoryWalk;
int store_history_walk_open(const char *dir, HistoryWalk *ret);
int store_history_walk_step(HistoryWalk *w, uint64_t max_rows);
void store_history_walk_close(HistoryWalk *w);

/* A user's current certificate, for a revocation. cert_id 0: none. */
typedef struct CurrentCert {
        char *name;
        int64_t cert_id;
        char *serial;
        uint64_t not_after_usec;
        CrCertState state;
        char *uri;
        unsigned char *der;
        size_t der_len;
} CurrentCert;
int store_current_certificate(Store *s, const char *login_id, CurrentCert *ret);   /* -ENOENT */
void current_cert_done(CurrentCert *c);

/* Marks a certificate revoked (within the caller's transaction) and gives
 * its place in the publication order; -EALREADY when it was revoked. */
int store_revoke(Store *s, int64_t cert_id, uint64_t when_usec, const char *reason,
                 const char *actor, uint64_t *ret_seq);
int store_set_removal(Store *s, int64_t cert_id, const char *removal);

/* One target of a batch revocation.  In: the login and the serial the
 * caller saw (NULL: the current one).  Out: the certificate that was
 * current, and its place in the publication order. */
typedef struct StoreRevokeTarget {
        const char *login_id;
        const char *serial;
        CurrentCert cert;
        uint64_t seq;
} StoreRevokeTarget;

/* Judges a target by its current certificate, read inside the batch's
 * transaction: 0 to revoke it, <0 to give up the whole batch. */
typedef int (*store_revoke_check_fn)(size_t index, StoreRevokeTarget *t, void *userdata);

/* Revokes every target in one transaction, each with its history row
 * (actor, "revoke", login, "ok"), or none of them.  For each target in
 * order its current certificate is read (-ENOENT: no such user) and
 * judged by check.  On failure nothing is changed and *ret_failed is the
 * index of the target that failed, or n when the commit did. */
int store_revoke_batch(Store *s, StoreRevokeTarget *targets, size_t n, uint64_t when_usec, const char *reason,
                       const char *actor, store_revoke_check_fn check, void *userdata, size_t *ret_failed);
void store_revoke_targets_done(StoreRevokeTarget *targets, size_t n);

/* Failed confirmations: 1 while the login is locked out (until *ret_until);
 * *ret_failures counts the failures that still count. */
int store_auth_locked(Store *s, const char *login_id, uint64_t now, uint64_t *ret_until,
                      unsigned *ret_failures);
/* Counts one failure; the max_failures-th locks the login for lock_usec. */
int store_auth_failed(Store *s, const char *login_id, uint64_t now, unsigned max_failures,
                      uint64_t lock_usec, unsigned *ret_failures);
int store_auth_succeeded(Store *s, const char *login_id);

/* The operation history of one login (as actor or target), or everyone's
 * with login_id NULL: the newest limit entries since since_usec, oldest first. */
typedef int (*store_history_cb)(uint64_t time_usec, const char *actor, const char *action,
                                const char *target, const char *result, uint64_t count, void *userdata);
int store_history_query(Store *s, const char *login_id, uint64_t since_usec, unsigned limit,
                        store_history_cb cb, void *userdata);

typedef struct CrlState {
        uint64_t number;
        uint64_t this_update_usec;
        uint64_t next_update_usec;
} CrlState;
int store_crl_state(Store *s, CrlState *ret);

/* Takes the next CRL number, durably, before that CRL is written. */
int store_crl_reserve(Store *s, uint64_t *ret_number);
/* Records a published CRL that holds every revocation up to seq, touching
 * only the rows that changed: those revoked since the last one, and those
 * this CRL listed after their expiry, which may now leave it (RFC 5280
 * 3.3): their revocation sequences are *ret_left (malloc'd). */
int store_crl_published(Store *s, const CrlState *st, uint64_t seq, uint64_t **ret_left, size_t *ret_n_left);
/* Revocations recorded but on no published CRL yet. */
int store_unpublished(Store *s, uint64_t *ret_count);

/* What changed for the next CRL since a build that held every revocation
 * up to after_seq (0: everything, at start), on a connection of its own
 * (safe in a worker thread), in one read: every certificate on hold
 * (seq 0, reason "certificateHold"; these are few and told every time),
 * then each revocation after it in order (seq > 0), each with its
 * certificate's DER; *ret_seq is the sequence the result covers. */
typedef int (*store_revocation_cb)(uint64_t seq, const char *serial, uint64_t revoked_usec, const char *reason,
                                   const void *der, size_t der_len, void *userdata);
int store_crl_changes(const char *dir, uint64_t after_seq, store_revocation_cb cb, void *userdata,
                      uint64_t *ret_seq);

/* The certificates of the revocations seqs[0..n), on a connection of its
 * own: those that leave the CRL, for the trust module's list.  A sequence
 * the store does not hold is skipped. */
typedef int (*store_der_cb)(uint64_t seq, const void *der, size_t der_len, void *userdata);
int store_crl_ders(const char *dir, const uint64_t *seqs, size_t n, store_der_cb cb, void *userdata);

/* For a worker: which of these certificates (by fingerprint) are revoked. */
int store_revoked_fingerprints(const char *dir, const char *const *fingerprints, size_t n, bool *ret);
int store_mark_removed(Store *s, const char *fingerprint);

/* Revoked certificates whose token copy is still to be removed. */
typedef int (*store_pending_cb)(int64_t cert_id, const char *login_id, const char *uri,
                                const char *fingerprint, void *userdata);
int store_foreach_pending_removal(Store *s, store_pending_cb cb, void *userdata);

/* What a start finds in StateDirectory/store.db, without creating it:
 * missing, empty (no file content, no schema, or no user and no CRL
 * number), damaged (fails PRAGMA quick_check or cannot be read; *why, when
 * set, says how), or intact.  Safe while another daemon holds the store. */
typedef enum StoreHealth {
        STORE_INTACT,
        STORE_MISSING,
        STORE_EMPTY,
        STORE_DAMAGED,
} StoreHealth;
int store_probe(const char *dir, StoreHealth *ret, char **why);
const char *store_health_to_string(StoreHealth h);

/* The last CRL number reserved (at or above the last one published). */
int store_crl_reserved(Store *s, uint64_t *ret);
/* Makes published the floor: the next number reserved is above it. */
int store_crl_raise(Store *s, uint64_t published);
/* Whether a CRL built now lists the certificate with this serial: revoked,
 * or on hold as a suspended user's current certificate. */
int store_serial_listed(Store *s, const char *serial, bool *ret);
/* Takes one entry of a published CRL numbered crl_number into the store
 * (within the caller's transaction): 0 when the store lists it already, 1
 * when it revoked a certificate it had or recorded the serial alone. */
int store_recover_entry(Store *s, const char *serial, uint64_t revoked_usec, const char *reason,
                        uint64_t crl_number);
/* Marks the CRL state so that the next start publishes a new CRL at once. */
int store_crl_republish(Store *s);

/* A consistent copy of dir/store.db, read in one transaction on a
 * connection of its own (safe in a worker thread), written as a new
 * database at dest_path (which must not be in use). */
int store_backup(const char *dir, const char *dest_path);
