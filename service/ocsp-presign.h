/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Signing ahead: a response (SHA-1 CertID, no nonce) for every known
 * certificate, signed by worker threads at start, again after a change of
 * status, and again before its nextUpdate (from half the validity on,
 * spread over a quarter of it).  SHA-256 responses are signed on first
 * demand and then kept and refreshed the same way. */
#pragma once

#include <pthread.h>
#include <stdbool.h>

#include "ocsp-sign.h"
#include "ocsp-table.h"

typedef struct OcspPresign {
        OcspTable *table;               /* borrowed */
        const OcspSigner *signer;       /* borrowed */
        pthread_mutex_t lock;
        pthread_cond_t wake;
        bool stop, kicked, announced;
        size_t n_threads, next, pass_end;  /* the pass hands out [next, pass_end) */
        size_t busy;                    /* threads inside a batch */
        uint64_t next_pass_usec;        /* CLOCK_MONOTONIC: the next full pass */
        pthread_t *threads;
} OcspPresign;

int ocsp_presign_start(OcspPresign *p, OcspTable *t, const OcspSigner *s, size_t n_threads);
/* New certificates or changed statuses: sign what they need soon. */
void ocsp_presign_kick(OcspPresign *p);
void ocsp_presign_stop(OcspPresign *p);

/* Signs entry index's response for hash if it has none or it is due;
 * returns a reference to the response in place (NULL if none). */
int ocsp_presign_entry(OcspTable *t, const OcspSigner *s, size_t index, OcspHash hash, bool only_if_due,
                       OcspBlob **ret);
