/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "index.h"

/* What the header promises must lie within the file, with no sum that
 * could wrap. */
static bool header_fits(const RiHeader *h, size_t size) {
        const uint64_t max = UINT32_MAX;

        return h->n_sorted <= max && h->log_capacity <= max && h->n_log <= h->log_capacity &&
               ri_record_offset(h->n_sorted + h->log_capacity) <= h->subject_offset &&
               h->subject_offset <= size && h->n_sorted * sizeof(uint32_t) <= size - h->subject_offset &&
               h->subject_offset + h->n_sorted * sizeof(uint32_t) <= h->data_offset &&
               h->data_offset <= h->data_end && h->data_end <= size;
}

static int map_check(IndexMap *m, const char **why) {
        *why = "revoked.idx is shorter than its header";
        if (m->size < RI_HEADER_SIZE)
                return -EBADMSG;
        *why = "revoked.idx has no valid header";
        if (ri_pick_header(m->base, &m->h) < 0)
                return -EBADMSG;
        *why = "revoked.idx's header counts more than the file holds";
        if (!header_fits(&m->h, m->size))
                return -EBADMSG;
        *why = NULL;
        return 0;
}

/* advice for the pages holding bytes from..to of a mapped index */
static void advise_range(const IndexMap *m, uint64_t from, uint64_t to, int advice) {
        uint64_t page = (uint64_t) sysconf(_SC_PAGESIZE), start = from / page * page;

        if (!m->mapped || to <= from || to > m->size)
                return;
        (void) madvise((void *) (m->base + start), (size_t) (to - start), advice);
}

void index_map_advise_all(const IndexMap *m, bool sequential) {
        advise_range(m, 0, m->size, sequential ? MADV_SEQUENTIAL : MADV_RANDOM);
}

int index_map_open(int fd, size_t size, IndexMap **ret, const char **why) {
        IndexMap *m;
        void *p;
        int r;

        *why = "revoked.idx is shorter than its header";
        if (size < RI_HEADER_SIZE)
                return -EBADMSG;
        p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
                r = -errno;
                *why = "revoked.idx cannot be mapped";
                return r;
        }
        /* lookups land anywhere in it: a fault reads its page, not the
         * megabytes around it that read-ahead would (a load touching a
         * dozen pages of a 600 MB file not in the page cache) */
        (void) madvise(p, size, MADV_RANDOM);
        if (!(m = calloc(1, sizeof *m))) {
                munmap(p, size);
                *why = "out of memory";
                return -ENOMEM;
        }
        *m = (IndexMap) { .refs = 1, .base = p, .size = size, .mapped = true };
        r = map_check(m, why);
        if (r < 0) {
                index_map_unref(m);
                return r;
        }
        /* but the log's records are read in a row at every load */
        advise_range(m, ri_record_offset(m->h.n_sorted), ri_record_offset(m->h.n_sorted + m->h.n_log),
                     MADV_WILLNEED);
        *ret = m;
        return 0;
}

int index_map_from_memory(const uint8_t *data, size_t size, IndexMap **ret, const char **why) {
        IndexMap *m = calloc(1, sizeof *m);
        int r;

        *why = "out of memory";
        if (!m)
                return -ENOMEM;
        *m = (IndexMap) { .refs = 1, .base = data, .size = size };
        r = map_check(m, why);
        if (r < 0) {
                free(m);
                return r;
        }
        *ret = m;
        return 0;
}

IndexMap *index_map_ref(IndexMap *m) {
        m->refs++;
        return m;
}

void index_map_unref(IndexMap *m) {
        if (!m || --m->refs > 0)
                return;
        if (m->mapped)
                munmap((void *) m->base, m->size);
        free(m);
}

int index_map_record(const IndexMap *m, uint64_t i, RiRecord *ret) {
        RiRecord rec;

        if (i >= m->h.n_sorted + m->h.n_log)
                return -EBADMSG;
        memcpy(&rec, m->base + ri_record_offset(i), sizeof rec);
        if (rec.check != ri_record_check(&rec, m->h.salt, i) || rec.length == 0 || rec.length > RI_DER_MAX ||
            rec.offset < m->h.data_offset || rec.offset > m->h.data_end || rec.length > m->h.data_end - rec.offset)
                return -EBADMSG;
        *ret = rec;
        return 0;
}

Span index_map_der(const IndexMap *m, const RiRecord *rec) {
        return (Span) { m->base + rec->offset, rec->length };
}

static uint64_t key_at(const IndexMap *m, uint64_t i) {
        uint64_t key;

        memcpy(&key, m->base + ri_record_offset(i) + offsetof(RiRecord, key), sizeof key);
        return key;
}

static uint64_t subject_key_at(const IndexMap *m, uint64_t record) {
        uint64_t key;

        memcpy(&key, m->base + ri_record_offset(record) + offsetof(RiRecord, subject_key), sizeof key);
        return key;
}

uint64_t index_map_lower_bound(const IndexMap *m, uint64_t key) {
        uint64_t lo = 0, hi = m->h.n_sorted;

        while (lo < hi) {
                uint64_t mid = lo + (hi - lo) / 2;

                if (key_at(m, mid) < key)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

bool index_map_subject_at(const IndexMap *m, uint64_t p, uint64_t *ret_record) {
        uint32_t v;

        if (p >= m->h.n_sorted)
                return false;
        memcpy(&v, m->base + m->h.subject_offset + p * sizeof v, sizeof v);
        if (v >= m->h.n_sorted)
                return false;
        *ret_record = v;
        return true;
}

uint64_t index_map_subject_lower_bound(const IndexMap *m, uint64_t subject_key) {
        uint64_t lo = 0, hi = m->h.n_sorted;

        while (lo < hi) {
                uint64_t mid = lo + (hi - lo) / 2, rec;

                /* a damaged position sorts first: the search steps past it */
                if (!index_map_subject_at(m, mid, &rec) || subject_key_at(m, rec) < subject_key)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}
