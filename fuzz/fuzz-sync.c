/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for what certrevoke-sync reads of downloaded bytes
 * with parsers of its own: the publisher's revoked.idx (header, then
 * every record) and the layout of a CRL (the head alone and the whole,
 * the run of revocations before the first hold, every entry).
 *
 * Input: [1 octet: how much of the rest is the CRL's head, in 1/255ths]
 *        [the rest: read both as revoked.idx and as crl.der] */
#include <stdlib.h>
#include <string.h>

#include "sync-index.h"
#include "sync-patch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void index_parts(const uint8_t *p, size_t n) {
        const char *why;
        RiHeader h;

        if (remote_index_header(p, n, &h, &why) < 0)
                return;
        for (uint64_t i = 0; i < h.n_sorted + h.n_log; i++) {
                RiRecord rec;
                uint64_t at = ri_record_offset(i);

                if (at > n || n - at < RI_RECORD_SIZE)
                        break;
                if (remote_index_record(&h, p + at, i, &rec) == 0 &&
                    (rec.offset < h.data_offset || rec.length > h.data_end - rec.offset))
                        abort();
        }
}

static void crl_parts(const uint8_t *p, size_t n, size_t head) {
        CrlLayout whole, part;
        CrlEntryIter it;

        if (crl_layout(p, n, &whole) == 0) {
                size_t last, run = crl_revocations_run(p, n, &whole, &last);
                const uint8_t *e, *s;
                size_t el, sl;

                if (whole.entries > n || run > whole.entries_len || last > run)
                        abort();
                if (crl_entries_begin(p, n, &whole, &it) == 0)
                        while (crl_entry_next(&it, &e, &el, &s, &sl) > 0)
                                if (e < p || e + el > p + n || s < e || s + sl > e + el)
                                        abort();
        }
        if (crl_layout(p, head, &part) == 0 && part.entries > head)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t *copy;
        size_t n;

        if (size < 1)
                return 0;
        n = size - 1;
        /* a copy of exactly the bytes: reading past them is caught */
        if (!(copy = malloc(n ? n : 1)))
                return 0;
        memcpy(copy, data + 1, n);
        index_parts(copy, n);
        crl_parts(copy, n, n * data[0] / 255);
        free(copy);
        return 0;
}
