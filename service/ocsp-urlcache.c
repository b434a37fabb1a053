/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ocsp-urlcache.h"

int ocsp_url_cache_init(OcspUrlCache *c, size_t n_slots) {
        assert(c && n_slots > 0 && (n_slots & (n_slots - 1)) == 0);
        c->slots = calloc(n_slots, sizeof *c->slots);
        if (!c->slots)
                return -ENOMEM;
        for (size_t i = 0; i < n_slots; i++)
                atomic_flag_clear(&c->slots[i].busy);
        c->mask = n_slots - 1;
        return 0;
}

void ocsp_url_cache_done(OcspUrlCache *c) {
        free(c->slots);
        *c = (OcspUrlCache) {};
}

/* FNV-1a: paths are base64 of DER, well spread already. */
static size_t slot_of(const OcspUrlCache *c, const char *path, size_t len) {
        uint64_t h = 14695981039346656037ULL;

        for (size_t i = 0; i < len; i++)
                h = (h ^ (uint8_t) path[i]) * 1099511628211ULL;
        return (size_t) (h ^ (h >> 32)) & c->mask;
}

bool ocsp_url_cache_get(OcspUrlCache *c, const char *path, OcspQuery *q) {
        size_t len = strlen(path);
        OcspUrlSlot *s;
        bool hit;

        if (!c->slots || len == 0 || len > OCSP_URL_CACHE_PATH_MAX)
                return false;
        s = &c->slots[slot_of(c, path, len)];
        /* never waits: a slot another thread holds is a miss */
        if (atomic_flag_test_and_set_explicit(&s->busy, memory_order_acquire))
                return false;
        hit = s->len == len && memcmp(s->path, path, len) == 0;
        if (hit) {
                *q = (OcspQuery) { .hash = s->hash, .serial_len = s->serial_len };
                memcpy(q->serial, s->serial, s->serial_len);
        }
        atomic_flag_clear_explicit(&s->busy, memory_order_release);
        return hit;
}

void ocsp_url_cache_put(OcspUrlCache *c, const char *path, const OcspQuery *q) {
        size_t len = strlen(path);
        OcspUrlSlot *s;

        assert(q && !q->has_nonce && q->serial_len <= OCSP_SERIAL_MAX);
        if (!c->slots || len == 0 || len > OCSP_URL_CACHE_PATH_MAX)
                return;
        s = &c->slots[slot_of(c, path, len)];
        if (atomic_flag_test_and_set_explicit(&s->busy, memory_order_acquire))
                return;
        s->len = (uint16_t) len;
        memcpy(s->path, path, len);
        s->hash = q->hash;
        s->serial_len = (uint8_t) q->serial_len;
        memcpy(s->serial, q->serial, q->serial_len);
        atomic_flag_clear_explicit(&s->busy, memory_order_release);
}
