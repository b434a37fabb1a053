/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What recent GET paths asked, so that a path seen before skips the base64
 * decoding and the DER parsing (a tenth of a GET's time in the responder):
 * the same path always asks the same, so only what it asks is kept (serial
 * and hash, from requests without a nonce that named our CA), never an
 * answer.  Direct-mapped; a slot busy in another thread is a miss. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ocsp-request.h"

/* Longer paths (a nonce, a long serial) are not kept. */
#define OCSP_URL_CACHE_PATH_MAX 160

typedef struct OcspUrlSlot {
        atomic_flag busy;
        uint16_t len;           /* 0: empty */
        uint8_t serial_len;
        OcspHash hash;
        uint8_t serial[OCSP_SERIAL_MAX];
        char path[OCSP_URL_CACHE_PATH_MAX];
} OcspUrlSlot;

typedef struct OcspUrlCache {
        OcspUrlSlot *slots;
        size_t mask;            /* slots - 1: a power of two */
} OcspUrlCache;

int ocsp_url_cache_init(OcspUrlCache *c, size_t n_slots);
void ocsp_url_cache_done(OcspUrlCache *c);

/* Fills q (no nonce, no parsed request) when path was seen. */
bool ocsp_url_cache_get(OcspUrlCache *c, const char *path, OcspQuery *q);
/* Keeps what path asks: q parsed from it, without a nonce. */
void ocsp_url_cache_put(OcspUrlCache *c, const char *path, const OcspQuery *q);
