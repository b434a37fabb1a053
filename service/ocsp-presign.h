/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The signing workers.  First, answers a request waits for (a nonce, an
 * unknown serial, a response not signed yet): queued by the HTTP threads,
 * which never sign themselves, and taken before anything else.  Then
 * signing ahead: a response (SHA-1 CertID, no nonce) for every known
 * certificate, signed by worker threads at start, again after a change of
 * status, and again before its nextUpdate (from half the validity on,
 * spread over a quarter of it).  SHA-256 responses are signed on first
 * demand and then kept and refreshed the same way. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "ocsp-sign.h"
#include "ocsp-table.h"

/* One answer a suspended request waits for. */
typedef struct OcspJob {
        struct OcspJob *next;
        uint64_t queued_usec;           /* CLOCK_MONOTONIC */
        OcspQuery query;                /* owned: its nonce, if any, is copied */
        OcspCertState state;            /* as the request's look found it */
        size_t index;                   /* in the table; SIZE_MAX: not known */
        OcspBlob *blob;                 /* the answer: the caller's reference */
        int status;                     /* else an OCSP error status to answer */
        atomic_bool finished;           /* blob or status is set (release) */
        /* called by the worker once blob or status is set, as its last
         * touch of the job: the caller may free it from then on */
        void (*done)(struct OcspJob *j, void *userdata);
        void *userdata;
} OcspJob;

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
        OcspJob *jobs, **jobs_tail;     /* waiting, oldest first */
        atomic_size_t n_jobs;           /* waiting: read between signatures ahead */
        size_t n_held;                  /* places taken: waiting, being signed, or reserved */
        size_t max_held;                /* beyond: tryLater */
        bool closed;                    /* stopping: no place for more */
        pthread_cond_t idle;            /* n_held fell to 0 */
} OcspPresign;

int ocsp_presign_start(OcspPresign *p, OcspTable *t, const OcspSigner *s, size_t n_threads, size_t max_queued);
/* New certificates or changed statuses: sign what they need soon. */
void ocsp_presign_kick(OcspPresign *p);
void ocsp_presign_stop(OcspPresign *p);

/* A place for one job, or -EBUSY when max_queued are taken (the answer is
 * then tryLater).  Taken before the request is suspended, so that the
 * submit cannot fail once it is. */
int ocsp_presign_reserve(OcspPresign *p);
/* Queues j in the place reserved; j->done is called from a worker. */
void ocsp_presign_submit(OcspPresign *p, OcspJob *j);
/* No new places; returns once every job taken is done. */
void ocsp_presign_close(OcspPresign *p);

/* Signs entry index's response for hash if it has none or it is due;
 * returns a reference to the response in place (NULL if none). */
int ocsp_presign_entry(OcspTable *t, const OcspSigner *s, size_t index, OcspHash hash, bool only_if_due,
                       OcspBlob **ret);
