/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The certificates certrevoke-ocspd knows, by serial, with their status
 * and their pre-signed responses.  Shared by the HTTP threads, the store
 * reader and the signing workers; one rwlock guards it, held for a lookup
 * or a swap, never across signing or I/O. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ocsp-request.h"

typedef enum OcspStatus {
        OCSP_STATUS_GOOD,
        OCSP_STATUS_REVOKED,
        OCSP_STATUS_HELD,       /* on hold: its user is suspended */
        OCSP_STATUS_UNKNOWN,    /* not in the table */
} OcspStatus;

/* One signed DER response, shared by reference: the table holds one,
 * every answer being sent another. */
typedef struct OcspBlob {
        atomic_uint refs;
        uint64_t this_update_usec, next_update_usec, produced_usec;
        uint64_t refresh_usec;  /* signed again from here on */
        char etag[67];          /* "hex SHA-256" with its quotes */
        size_t len;
        uint8_t der[];
} OcspBlob;

OcspBlob *ocsp_blob_new(const uint8_t *der, size_t len);
OcspBlob *ocsp_blob_ref(OcspBlob *b);
void ocsp_blob_unref(OcspBlob *b);

/* What one certificate's answer is made of. */
typedef struct OcspCertState {
        OcspStatus status;
        int reason;             /* CRL reason; -1 none (OCSP_REVOKED_STATUS_NOSTATUS) */
        uint64_t revoked_usec;
        uint64_t version;       /* grows at each change of the above */
} OcspCertState;

typedef struct OcspEntry {
        uint8_t serial[OCSP_SERIAL_MAX];
        uint8_t serial_len;
        OcspCertState state;
        OcspBlob *blob[_OCSP_HASH_MAX];
} OcspEntry;

typedef struct OcspTable {
        pthread_rwlock_t lock;
        OcspEntry *entries;     /* appended; never removed */
        size_t n, allocated;
        uint32_t *slots;        /* open addressing: index + 1, 0 empty */
        size_t n_slots;         /* a power of two, at least twice n */
        uint32_t *dirty;        /* entries whose responses a change dropped */
        size_t n_dirty, dirty_allocated;
        size_t n_signed;        /* entries with a SHA-1 response */
} OcspTable;

int ocsp_table_init(OcspTable *t);
void ocsp_table_done(OcspTable *t);

/* Adds a certificate (good) unless it is known; returns its index. */
int ocsp_table_add(OcspTable *t, const uint8_t *serial, size_t len, size_t *ret_index);
/* Sets an entry's status; a change drops its responses and marks it
 * dirty.  Returns 1 on a change. */
int ocsp_table_set(OcspTable *t, size_t index, OcspStatus status, int reason, uint64_t revoked_usec);
/* Finds a serial: -ENOENT when unknown. */
int ocsp_table_find(OcspTable *t, const uint8_t *serial, size_t len, size_t *ret_index);

/* The answer for serial: its state and a reference to its response for
 * hash (NULL when none is signed or it is due at now_usec). */
int ocsp_table_lookup(OcspTable *t, const uint8_t *serial, size_t len, OcspHash hash, uint64_t now_usec,
                      size_t *ret_index, OcspCertState *ret_state, OcspBlob **ret_blob);
/* Entry index's serial, state and the refresh time of its response for
 * hash (0 when it has none): what a signer needs. */
void ocsp_table_snapshot(OcspTable *t, size_t index, OcspHash hash, OcspEntry *ret, uint64_t *ret_refresh_usec);
/* Puts a signed response in place unless the state changed since version:
 * then it describes the past and is dropped (returns 0). */
int ocsp_table_install(OcspTable *t, size_t index, OcspHash hash, uint64_t version, OcspBlob *blob);

size_t ocsp_table_size(OcspTable *t);
size_t ocsp_table_signed(OcspTable *t);
/* Takes the dirty list: *ret is the caller's to free. */
size_t ocsp_table_take_dirty(OcspTable *t, uint32_t **ret);
