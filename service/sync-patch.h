/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crl.der rebuilt from the one held and the parts that changed.  The
 * publisher appends each revocation to the run of revocations its CRL
 * lists in order, and lists the certificates on hold after them: a new
 * CRL begins with a new head (numbers, times), goes on with the run the
 * held CRL has, and ends with what is new, the holds and the signature.
 * So a host fetches the head and the end by byte ranges and takes the
 * middle from the CRL it holds.  The result is only a guess until its
 * signature verifies with the CA over every byte: the caller verifies it
 * as any downloaded CRL, and fetches the whole file when it does not. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sync-fetch.h"

/* How much of crl.der a sync fetches first: the head up to the first
 * entry is a few hundred bytes. */
#define CRL_HEAD_FETCH 2048u

/* Where a CRL's parts lie, as offsets into its DER. */
typedef struct CrlLayout {
        size_t next_update, next_update_len;    /* the nextUpdate Time, whole; len 0 without one */
        size_t entries;                 /* offset of the first entry (or where the list would be) */
        size_t entries_len;             /* the list's length; 0 when there is none */
} CrlLayout;

/* The layout from the first len bytes of a CRL (the head suffices).
 * -EBADMSG when they are not the start of a DER CRL, or the head ends
 * before the first entry. */
int crl_layout(const uint8_t *der, size_t len, CrlLayout *ret);

/* The length of the run of entries before the first one on hold, in a
 * whole CRL of that layout; *ret_last (may be NULL) the length of the
 * run's last entry (0 without one). */
size_t crl_revocations_run(const uint8_t *der, size_t len, const CrlLayout *l, size_t *ret_last);

/* The entries of a whole CRL of that layout, one after the other, read in
 * place: for sets of serials without an object per entry. */
typedef struct CrlEntryIter {
        const uint8_t *p, *end;
} CrlEntryIter;

/* -EBADMSG when the layout does not fit the CRL's length. */
int crl_entries_begin(const uint8_t *der, size_t len, const CrlLayout *l, CrlEntryIter *ret);

/* The next entry, whole (*ret_entry, *ret_entry_len) and its serialNumber
 * INTEGER with tag and length (*ret_serial, *ret_serial_len): 1; 0 at the
 * end; -EBADMSG when the entry is not a SEQUENCE starting with an
 * INTEGER. */
int crl_entry_next(CrlEntryIter *it, const uint8_t **ret_entry, size_t *ret_entry_len, const uint8_t **ret_serial,
                   size_t *ret_serial_len);

/* The new crl.der of total bytes into out, from its head (head_len bytes,
 * as fetch_head got them) and the held one, fetching only its end.
 * -EBADMSG when the two do not fit together that way (the caller then
 * fetches it whole); other errors as fetch_range. */
int crl_patch(Fetcher *f, const uint8_t *held, size_t held_len, const uint8_t *head, size_t head_len,
              uint64_t total, FetchBuffer *out);
