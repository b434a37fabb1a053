/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevoke-ocspd's cache of GET paths (ocsp-urlcache.c): a path gives
 * back exactly what was kept for it, another path in the same slot (or a
 * prefix of it) misses, an over-long path is never kept. */
#include <string.h>

#include "check.h"
#include "ocsp-urlcache.h"

static OcspQuery query(uint8_t tag, OcspHash hash) {
        OcspQuery q = { .hash = hash, .serial_len = 3 };

        q.serial[0] = 0x11;
        q.serial[1] = 0x22;
        q.serial[2] = tag;
        return q;
}

static void test_hits(OcspUrlCache *c) {
        OcspQuery a = query(1, OCSP_HASH_SHA1), b = query(2, OCSP_HASH_SHA256), got;

        CHECK(!ocsp_url_cache_get(c, "/MEIwQDA", &got), "an empty cache misses");
        ocsp_url_cache_put(c, "/MEIwQDA", &a);
        CHECK(ocsp_url_cache_get(c, "/MEIwQDA", &got) && got.hash == a.hash && got.serial_len == 3 &&
              memcmp(got.serial, a.serial, 3) == 0 && !got.has_nonce && !got.req, "a kept path gives its query");
        CHECK(!ocsp_url_cache_get(c, "/MEIwQD", &got), "a prefix misses");
        CHECK(!ocsp_url_cache_get(c, "/MEIwQDB", &got), "another path misses");
        /* one slot only: every path shares it, the last kept wins */
        ocsp_url_cache_put(c, "/other", &b);
        CHECK(!ocsp_url_cache_get(c, "/MEIwQDA", &got), "a path pushed out misses");
        CHECK(ocsp_url_cache_get(c, "/other", &got) && got.hash == OCSP_HASH_SHA256 && got.serial[2] == 2,
              "the path that took the slot hits");
}

static void test_long(OcspUrlCache *c) {
        char path[OCSP_URL_CACHE_PATH_MAX + 2];
        OcspQuery a = query(3, OCSP_HASH_SHA1), got;

        memset(path, 'A', sizeof path - 1);
        path[sizeof path - 1] = 0;
        ocsp_url_cache_put(c, path, &a);
        CHECK(!ocsp_url_cache_get(c, path, &got), "an over-long path is not kept");
        CHECK(!ocsp_url_cache_get(c, "", &got), "nor an empty one");
}

int main(void) {
        OcspUrlCache c;

        CHECK(ocsp_url_cache_init(&c, 1) == 0, "a cache of one slot");
        test_hits(&c);
        test_long(&c);
        ocsp_url_cache_done(&c);
        return CHECK_EXIT();
}
