/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>

#include "sync-index.h"

/* Far beyond a million revocations, and no product of these can wrap. */
#define RECORDS_MAX ((uint64_t) UINT32_MAX)
#define OFFSET_MAX  ((uint64_t) 1 << 44)

int remote_index_header(const uint8_t *page, size_t len, RiHeader *ret, const char **why) {
        RiHeader h;

        assert(page);
        *why = "revoked.idx is shorter than its header";
        if (len < RI_HEADER_SIZE)
                return -EBADMSG;
        *why = "revoked.idx has no valid header (damaged, or written on a host of another byte order)";
        if (ri_pick_header(page, &h) < 0)
                return -EBADMSG;
        *why = "revoked.idx's header is inconsistent";
        if (h.n_sorted > RECORDS_MAX || h.log_capacity > RECORDS_MAX || h.n_log > h.log_capacity)
                return -EBADMSG;
        if (ri_record_offset(h.n_sorted + h.log_capacity) > h.subject_offset ||
            h.subject_offset > OFFSET_MAX || h.subject_offset + h.n_sorted * sizeof(uint32_t) > h.data_offset ||
            h.data_offset > h.data_end || h.data_end > OFFSET_MAX)
                return -EBADMSG;
        *ret = h;
        *why = NULL;
        return 0;
}

int remote_index_record(const RiHeader *h, const uint8_t *p, uint64_t position, RiRecord *ret) {
        RiRecord rec;

        assert(h && p);
        if (position >= h->n_sorted + h->n_log)
                return -EBADMSG;
        memcpy(&rec, p, sizeof rec);
        if (rec.check != ri_record_check(&rec, h->salt, position) || rec.length == 0 || rec.length > RI_DER_MAX ||
            rec.offset < h->data_offset || rec.offset > h->data_end || rec.length > h->data_end - rec.offset)
                return -EBADMSG;
        *ret = rec;
        return 0;
}
