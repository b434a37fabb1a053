/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the module shows, built from one set of published files: the CA and
 * the revoked certificates the verified CRL lists, indexed by issuer and
 * serial, by subject and by object handle.  A state never changes once
 * built, except for values computed on first use (digests, labels), and all
 * use happens under the module's lock. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

#include "x509.h"

/* The published files, in the order FileId arrays use. */
enum { FILE_CA, FILE_CRL, FILE_REVOKED, _FILE_MAX };
extern const char *const trust_file_names[_FILE_MAX];

/* Each certificate is two objects: the certificate and its NSS trust. */
enum { OBJ_CERT, OBJ_TRUST, _OBJ_MAX };

typedef struct Entry {
        CertFields f;
        bool anchor;                    /* the CA; otherwise a revoked certificate */
        uint32_t next_same_subject;     /* index + 1 of the next entry with this subject */
        CK_OBJECT_HANDLE handle[_OBJ_MAX];
        /* computed on first use */
        bool have_sha1, have_md5, have_key_id;
        uint8_t sha1[20], md5[16], key_id[20];
        char *label;
} Entry;

/* Identifies one version of a file cheaply: a rename changes the inode, a
 * rewrite in place the time or the size. */
typedef struct FileId {
        bool present;
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime;
} FileId;

typedef struct TrustState TrustState;

struct TrustState {
        unsigned refs;
        uint8_t *ca_der, *revoked;      /* entries point into these */
        Entry *entries;                 /* the CA first, then the revoked ones */
        size_t n_entries;
        uint32_t *by_key, *by_subject;  /* open addressing, index + 1, 0 empty */
        size_t key_mask, subject_mask;
        struct HandleSlot { CK_OBJECT_HANDLE handle; uint32_t object; } *by_handle;
        size_t handle_mask;
        void *crl_number;               /* ASN1_INTEGER * */
};

/* The three files' contents as read; the loader takes the buffers. */
typedef struct TrustFiles {
        uint8_t *data[_FILE_MAX];
        size_t len[_FILE_MAX];
        FileId id[_FILE_MAX];
} TrustFiles;

void trust_files_done(TrustFiles *f);

/* Reads the files at paths (in trust_file_names' order).  ca.pem and
 * crl.der must exist; a missing revoked.der reads as empty.  Only regular
 * files are read: a symbolic link at a file, a FIFO, a socket, a device or
 * a directory is refused without blocking.  On failure returns -errno,
 * sets *bad_file to the file's index and *why to what is wrong with it
 * ("is a symbolic link, which is not followed"). */
int trust_files_read(char *const paths[_FILE_MAX], TrustFiles *ret, int *bad_file, const char **why);

/* Identifies the files without opening them (a symbolic link as itself). */
void trust_files_stat(char *const paths[_FILE_MAX], FileId ret[_FILE_MAX]);
bool file_ids_equal(const FileId a[_FILE_MAX], const FileId b[_FILE_MAX]);

/* Builds a state from the files, taking their buffers.  prev (may be NULL)
 * lends its object handles to the same certificates, so that handles stay
 * valid across reloads, and its CRL number, which must not go backwards.
 * New handles come from *next_handle.  On failure returns -EBADMSG (or
 * -ENOMEM) and sets *why. */
int trust_state_build(TrustFiles *files, const TrustState *prev, CK_OBJECT_HANDLE *next_handle,
                      TrustState **ret, const char **why);

/* The same without the CRL's signature or issuer checked, for the fuzzer:
 * every parser runs, the trust in the input is assumed. */
int trust_state_build_unverified(TrustFiles *files, TrustState **ret, const char **why);

TrustState *trust_state_ref(TrustState *s);
void trust_state_unref(TrustState *s);

/* The entry with that issuer and serial (whole DER encodings), or NULL. */
Entry *trust_state_lookup(const TrustState *s, Span issuer, Span serial);
/* The first entry with that subject; the others follow next_same_subject. */
Entry *trust_state_first_by_subject(const TrustState *s, Span subject);
/* The entry and object kind behind a handle; false when there is none. */
bool trust_state_object(const TrustState *s, CK_OBJECT_HANDLE h, Entry **entry, int *kind);
