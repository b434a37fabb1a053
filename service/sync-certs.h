/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The DER of revoked certificates, which the trust module shows, found in
 * the publishing host's revoked.idx by byte ranges: its header, then its
 * log from the newest record back (where what was revoked lately is),
 * then, for what is still missing, its sorted part.  What a sync fetches
 * grows with the certificates it wants, not with the whole list. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sync-fetch.h"
#include "sync-verify.h"

typedef struct Wanted {
        uint64_t key;                   /* sync_entry_key of serial */
        const uint8_t *serial;          /* the entry's serialNumber INTEGER, whole, in the verified CRL */
        size_t serial_len;
        /* where revoked.idx has it */
        bool located;
        uint64_t offset;
        uint32_t length;
        /* the certificate, verified: issued and signed by the CA, with the
         * entry's serial; NULL when revoked.idx has none */
        uint8_t *der;
        size_t der_len;
} Wanted;

void wanted_free(Wanted *w, size_t n);

/* Fills in the DER of each wanted certificate (w sorted by key, as
 * crl_diff gives them) that revoked.idx at the fetcher's URL holds.  A
 * publisher without revoked.idx (nothing revoked with a certificate yet)
 * is no error, nor a serial it has no certificate for.  -EBADMSG with the
 * reason in why_refused when revoked.idx cannot be read or a certificate
 * it gives does not verify (the sync is then refused: the next one looks
 * again); -errno when the server cannot be reached or answers wrongly
 * (fetcher_error says). */
int certs_fetch(Fetcher *f, const SyncCa *ca, Wanted *w, size_t n, char *why_refused, size_t why_size);
