/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevoke-ocspd's one context: everything the responder holds. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>

#include "config.h"
#include "ocsp-presign.h"
#include "ocsp-sign.h"
#include "ocsp-store.h"
#include "ocsp-table.h"
#include "ocsp-urlcache.h"

struct MHD_Daemon;

typedef struct Ocspd {
        Config config;
        OcspSigner signer;
        OcspTable table;
        OcspStore store;
        OcspPresign presign;
        OcspUrlCache urls;              /* what recent GET paths asked */
        struct MHD_Daemon *http;
        unsigned n_threads;             /* HTTP threads and signing workers: one a CPU */
        size_t max_queued;              /* requests waiting for a signature; beyond: tryLater */
        uint64_t max_age_usec;          /* Cache-Control max-age at most */
        const char *cache_directory;    /* signed responses across restarts, or NULL */
        bool loaded;                    /* the table is whole: worth keeping at stop */
} Ocspd;
