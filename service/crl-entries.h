/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The entries of the next CRL, each encoded once and kept between builds:
 * the revocations in their order, to which each build appends those
 * recorded since the last one, and the certificates on hold, few and read
 * again each time.  Read whole from the store at the first build after the
 * start, or after a read that failed half way.  Used by one thread at a
 * time: the publisher lends it to the build's thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crl.h"

/* Told, during an update, of each certificate that joins the CRL and of
 * each that leaves it (by its DER): the trust module's list follows the
 * same changes without reading the whole list. */
typedef struct CrlEntriesObserver {
        int (*listed)(const void *der, size_t der_len, void *userdata);
        int (*unlisted)(const void *der, size_t der_len, void *userdata);
        void *userdata;
} CrlEntriesObserver;

typedef struct CrlEntries CrlEntries;

int crl_entries_new(CrlEntries **ret);
void crl_entries_free(CrlEntries *e);

/* Whether the next update reads everything from the store: at the first
 * build, and after a failure. */
bool crl_entries_loaded(const CrlEntries *e);

/* Forgets everything: the next update reads the store whole. */
void crl_entries_reset(CrlEntries *e);

/* Brings the set up to the store in state_dir: drops what leaves (see
 * crl_entries_leave), appends what was revoked since the last update and
 * takes the holds as they are now, telling obs (may be NULL) of every
 * certificate that joins or leaves.  *ret_seq: the revocation sequence the
 * set covers now.  A failure resets the set. */
int crl_entries_update(CrlEntries *e, const char *state_dir, const CrlEntriesObserver *obs, uint64_t *ret_seq);

/* The encoded entries, in the CRL's order, as two runs for
 * crl_build_encoded, and how many there are. */
void crl_entries_parts(const CrlEntries *e, CrlEncoded parts[static 2], size_t *ret_n);

/* Revocations that the last published CRL listed after their expiry: they
 * leave at the next update (RFC 5280 3.3).  On failure the set is reset. */
int crl_entries_leave(CrlEntries *e, const uint64_t *seqs, size_t n);
