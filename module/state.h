/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the module shows, built from one set of published files: the CA and
 * the revoked certificates the CRL in use lists, found through revoked.idx
 * (mapped, searched, never read whole).  A certificate becomes an Entry the
 * first time a lookup reaches it; a state otherwise never changes once
 * built, and all use happens under the module's lock. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

#include "index.h"
#include "x509.h"

/* The published files, in the order FileId arrays use. */
enum { FILE_CA, FILE_CRL, FILE_INDEX, _FILE_MAX };
extern const char *const trust_file_names[_FILE_MAX];

/* Each certificate is two objects: the certificate and its NSS trust. */
enum { OBJ_CERT, OBJ_TRUST, _OBJ_MAX };

typedef struct Entry {
        CertFields f;
        bool anchor;                    /* the CA; otherwise a revoked certificate */
        CK_OBJECT_HANDLE handle[_OBJ_MAX];
        /* computed on first use */
        bool have_sha1, have_md5, have_key_id;
        uint8_t sha1[20], md5[16], key_id[20];
        char *label;
} Entry;

/* Identifies one version of a file cheaply: a rename changes the inode, a
 * rewrite in place or an append the time or the size. */
typedef struct FileId {
        bool present;
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime;
} FileId;

/* An open-addressing map of nonzero 64-bit keys to 32-bit values. */
typedef struct U64Map {
        struct U64Slot { uint64_t key; uint32_t value; } *slots;
        size_t mask, n;
} U64Map;

/* A chain of log records with one key, newest first: heads by key, and for
 * each log record the one before it (index + 1, 0 at the end). */
typedef struct LogChains {
        U64Map heads;
        uint32_t *prev;
} LogChains;

typedef struct TrustState TrustState;

struct TrustState {
        unsigned refs;
        uint8_t *ca_der;
        IndexMap *index;                /* NULL: nothing revoked */
        uint64_t crl_number;            /* crl.der's; records past it are hidden */
        bool have_crl_number;
        uint64_t n_log;                 /* log records taken into the chains */
        LogChains log_by_key, log_by_subject;
        Entry **entries;                /* [0] the CA, then those reached so far */
        size_t n_entries, entries_allocated;
        U64Map by_record;               /* record position + 1 -> entry index */
        U64Map by_handle;               /* handle -> entry index * _OBJ_MAX + kind */
        bool all_reached;               /* every listed certificate is an entry */
        CK_OBJECT_HANDLE *next_handle;  /* where new handles come from */
        CK_OBJECT_HANDLE own_next_handle;
        const Entry *carry;             /* while built: an earlier state's entry whose handles are offered */
};

/* The files as opened: ca.pem read, crl.der mapped, revoked.idx mapped. */
typedef struct TrustFiles {
        uint8_t *ca;
        size_t ca_len;
        const uint8_t *crl;
        size_t crl_len;
        bool crl_mapped;
        IndexMap *index;                /* NULL when there is no revoked.idx */
        FileId id[_FILE_MAX];
} TrustFiles;

void trust_files_done(TrustFiles *f);

/* Opens the files at paths (in trust_file_names' order).  ca.pem and
 * crl.der must exist; a missing revoked.idx means nothing revoked.  Only
 * regular files are opened: a symbolic link at a file, a FIFO, a socket, a
 * device or a directory is refused without blocking.  On failure returns
 * -errno, sets *bad_file to the file's index and *why to what is wrong with
 * it ("is a symbolic link, which is not followed"). */
int trust_files_read(char *const paths[_FILE_MAX], TrustFiles *ret, int *bad_file, const char **why);

/* Identifies the files without opening them (a symbolic link as itself). */
void trust_files_stat(char *const paths[_FILE_MAX], FileId ret[_FILE_MAX]);
bool file_ids_equal(const FileId a[_FILE_MAX], const FileId b[_FILE_MAX]);

/* Builds a state from the files, taking the index.  The CRL must be the
 * CA's (its issuer), not older than prev's, and revoked.idx the CA's and
 * complete for the CRL's number.  With prev (may be NULL) reading the same
 * revoked.idx, only the log records past those prev took in are read; the
 * certificates prev reached keep their object handles, so that handles
 * stay valid across reloads.  New handles come from *next_handle, which
 * must outlive the state: entries are made as lookups reach them.  On
 * failure returns -EBADMSG (or -ENOMEM) and sets *why. */
int trust_state_build(TrustFiles *files, const TrustState *prev, CK_OBJECT_HANDLE *next_handle,
                      TrustState **ret, const char **why);

/* The same without the checks that bind the files to one another (issuer,
 * CA, numbers), for the fuzzer: every parser runs. */
int trust_state_build_unverified(TrustFiles *files, TrustState **ret, const char **why);

TrustState *trust_state_ref(TrustState *s);
void trust_state_unref(TrustState *s);

/* The entry with that issuer and serial (whole DER encodings), or NULL. */
Entry *trust_state_lookup(TrustState *s, Span issuer, Span serial);
/* The entries with that subject, in a malloc'd array; -ENOMEM. */
int trust_state_by_subject(TrustState *s, Span subject, Entry ***ret, size_t *ret_n);
/* Makes every listed certificate an entry, for a walk over all of them. */
int trust_state_reach_all(TrustState *s);
/* The entry and object kind behind a handle; false when there is none. */
bool trust_state_object(const TrustState *s, CK_OBJECT_HANDLE h, Entry **entry, int *kind);
