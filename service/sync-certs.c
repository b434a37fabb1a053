/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "sync-certs.h"
#include "sync-index.h"
#include "x509.h"

#define INDEX_NAME RI_FILE_NAME
/* Log records fetched at first; each further request takes four times as
 * many, so that a long log costs few requests and a short one few bytes. */
#define LOG_CHUNK_FIRST 64u
#define LOG_CHUNK_MAX   65536u
/* Up to this many certificates still missing are looked up in the sorted
 * part by bisection (a record per request); beyond, it is read in chunks. */
#define BISECT_MAX      16u
/* DER fetched together when the gap between them is at most this. */
#define DER_GAP_MAX     4096u
#define DER_RUN_MAX     (4u << 20)

typedef struct Finder {
        Fetcher *fetcher;
        const SyncCa *ca;
        RiHeader h;
        Wanted *w;
        size_t n, missing;
        FetchBuffer buf;
        uint64_t damaged;               /* records that failed their check */
        char *why;                      /* the first certificate refused, and why */
        size_t why_size;
        bool refused;
} Finder;

static int compare_wanted(const void *a, const void *b) {
        const Wanted *x = a, *y = b;

        return x->key < y->key ? -1 : x->key > y->key;
}

void wanted_free(Wanted *w, size_t n) {
        for (size_t i = 0; w && i < n; i++)
                free(w[i].der);
        free(w);
}

static Wanted *wanted_find(Finder *fd, uint64_t key) {
        Wanted k = { .key = key };

        return bsearch(&k, fd->w, fd->n, sizeof *fd->w, compare_wanted);
}

/* A record read: where the certificate of a wanted key lies. */
static void take_record(Finder *fd, const RiRecord *rec) {
        Wanted *w = wanted_find(fd, rec->key);

        /* the first found is the newest; a removal record points at the
         * same certificate, which the CRL, not the record, says is revoked */
        if (!w || w->located)
                return;
        w->located = true;
        w->offset = rec->offset;
        w->length = rec->length;
        assert(fd->missing > 0);
        fd->missing--;
}

/* Records [from, to) in one request, the newest first. */
static int read_records(Finder *fd, uint64_t from, uint64_t to) {
        int r;

        assert(from < to);
        r = fetch_range(fd->fetcher, INDEX_NAME, ri_record_offset(from), (size_t) ((to - from) * RI_RECORD_SIZE),
                        &fd->buf);
        if (r < 0)
                return r;
        for (uint64_t i = to; i > from && fd->missing > 0; i--) {
                RiRecord rec;

                if (remote_index_record(&fd->h, fd->buf.data + (i - 1 - from) * RI_RECORD_SIZE, i - 1, &rec) < 0) {
                        fd->damaged++;
                        continue;
                }
                take_record(fd, &rec);
        }
        return 0;
}

static int scan_log(Finder *fd) {
        uint64_t end = fd->h.n_sorted + fd->h.n_log, chunk = LOG_CHUNK_FIRST;
        int r;

        while (fd->missing > 0 && end > fd->h.n_sorted) {
                uint64_t from = end - fd->h.n_sorted > chunk ? end - chunk : fd->h.n_sorted;

                if ((r = read_records(fd, from, end)) < 0)
                        return r;
                end = from;
                chunk = chunk * 4 > LOG_CHUNK_MAX ? LOG_CHUNK_MAX : chunk * 4;
        }
        return 0;
}

static int record_at(Finder *fd, uint64_t i, RiRecord *ret) {
        int r = fetch_range(fd->fetcher, INDEX_NAME, ri_record_offset(i), RI_RECORD_SIZE, &fd->buf);

        if (r < 0)
                return r;
        if (remote_index_record(&fd->h, fd->buf.data, i, ret) < 0) {
                fd->damaged++;
                return -EBADMSG;
        }
        return 0;
}

/* The first sorted record with the key, found by bisection; a damaged
 * record on the way ends the search for this key only. */
static int bisect(Finder *fd, Wanted *w) {
        uint64_t lo = 0, hi = fd->h.n_sorted;
        RiRecord rec;
        int r;

        while (lo < hi) {
                uint64_t mid = lo + (hi - lo) / 2;

                r = record_at(fd, mid, &rec);
                if (r == -EBADMSG)
                        return 0;
                if (r < 0)
                        return r;
                if (rec.key < w->key)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo == fd->h.n_sorted)
                return 0;
        r = record_at(fd, lo, &rec);
        if (r == -EBADMSG)
                return 0;
        if (r < 0)
                return r;
        if (rec.key == w->key)
                take_record(fd, &rec);
        return 0;
}

static int scan_sorted(Finder *fd) {
        int r;

        if (fd->missing == 0 || fd->h.n_sorted == 0)
                return 0;
        if (fd->missing <= BISECT_MAX) {
                for (size_t i = 0; i < fd->n && fd->missing > 0; i++)
                        if (!fd->w[i].located && (r = bisect(fd, &fd->w[i])) < 0)
                                return r;
                return 0;
        }
        for (uint64_t from = 0; from < fd->h.n_sorted && fd->missing > 0; from += LOG_CHUNK_MAX) {
                uint64_t to = fd->h.n_sorted - from > LOG_CHUNK_MAX ? from + LOG_CHUNK_MAX : fd->h.n_sorted;

                if ((r = read_records(fd, from, to)) < 0)
                        return r;
        }
        return 0;
}

/* The serial of w in hex, for the reason of a refusal. */
static void serial_hex(const Wanted *w, char *out, size_t size) {
        size_t at = 0;

        /* past the INTEGER's tag and one-octet length: serials are short */
        for (size_t i = 2; i < w->serial_len && at + 3 <= size; i++)
                at += (size_t) snprintf(out + at, size - at, "%02X", w->serial[i]);
        if (at == 0 && size > 0)
                out[0] = '\0';
}

/* A refusal: the first one is the sync's reason. */
static void refuse_der(Finder *fd, const Wanted *w, const char *why) {
        char hex[2 * 20 + 1];

        if (fd->refused)
                return;
        fd->refused = true;
        serial_hex(w, hex, sizeof hex);
        snprintf(fd->why, fd->why_size, "the certificate of serial %s in the publisher's revoked.idx: %s", hex, why);
}

/* The certificate fetched for w is kept only when it verifies and is the
 * one the CRL entry names; any other refuses the whole sync, so that the
 * next one looks for it again rather than never. */
static int take_der(Finder *fd, Wanted *w, const uint8_t *der, size_t len) {
        const char *why = NULL;
        CertFields f;
        Span in = { der, len };

        if (sync_cert_verify(fd->ca, der, len, &why) < 0) {
                refuse_der(fd, w, why);
                return -EBADMSG;
        }
        if (x509_parse(&in, &f) < 0 || !span_eq(f.serial, (Span) { w->serial, w->serial_len }) ||
            !span_eq(f.issuer, fd->ca->subject)) {
                refuse_der(fd, w, "it is another certificate");
                return -EBADMSG;
        }
        if (!(w->der = malloc(len)))
                return -ENOMEM;
        memcpy(w->der, der, len);
        w->der_len = len;
        return 0;
}

static int compare_offset(const void *a, const void *b) {
        const Wanted *x = *(Wanted *const *) a, *y = *(Wanted *const *) b;

        return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* The located certificates, those close together in one request. */
static int fetch_ders(Finder *fd) {
        _cleanup_free_ Wanted **v = NULL;
        size_t k = 0;
        int r;

        if (!(v = calloc(fd->n ? fd->n : 1, sizeof *v)))
                return -ENOMEM;
        for (size_t i = 0; i < fd->n; i++)
                if (fd->w[i].located)
                        v[k++] = &fd->w[i];
        qsort(v, k, sizeof *v, compare_offset);
        for (size_t i = 0; i < k;) {
                uint64_t start = v[i]->offset, end = start + v[i]->length;
                size_t j = i + 1;

                while (j < k && v[j]->offset <= end + DER_GAP_MAX && v[j]->offset + v[j]->length - start <= DER_RUN_MAX) {
                        if (v[j]->offset + v[j]->length > end)
                                end = v[j]->offset + v[j]->length;
                        j++;
                }
                if ((r = fetch_range(fd->fetcher, INDEX_NAME, start, (size_t) (end - start), &fd->buf)) < 0)
                        return r;
                for (; i < j; i++)
                        if ((r = take_der(fd, v[i], fd->buf.data + (v[i]->offset - start), v[i]->length)) < 0)
                                return r;
        }
        return 0;
}

int certs_fetch(Fetcher *f, const SyncCa *ca, Wanted *w, size_t n, char *why_refused, size_t why_size) {
        Finder fd = { .fetcher = f, .ca = ca, .w = w, .n = n, .missing = n, .why = why_refused, .why_size = why_size };
        const char *why;
        int r;

        assert(why_refused && why_size > 0);
        why_refused[0] = '\0';
        if (n == 0)
                return 0;
        r = fetch_range(f, INDEX_NAME, 0, RI_HEADER_SIZE, &fd.buf);
        if (r < 0 && fetcher_status(f) == 404) {
                log_info("sync: the publisher has no revoked.idx: no certificate to show");
                fetch_buffer_done(&fd.buf);
                return 0;
        }
        if (r >= 0 && (r = remote_index_header(fd.buf.data, fd.buf.len, &fd.h, &why)) < 0)
                snprintf(why_refused, why_size, "the publisher's %s", why);
        if (r >= 0)
                r = scan_log(&fd);
        if (r >= 0)
                r = scan_sorted(&fd);
        if (r >= 0)
                r = fetch_ders(&fd);
        if (fd.damaged > 0)
                log_warning("sync: %llu records of the publisher's revoked.idx failed their check (replaced while "
                            "read?)", (unsigned long long) fd.damaged);
        fetch_buffer_done(&fd.buf);
        return r;
}
