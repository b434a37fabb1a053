/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>

#include "crl-file.h"
#include "sync-fetch.h"
#include "sync-patch.h"

#define TAG_SEQUENCE         0x30
#define TAG_INTEGER          0x02
#define TAG_UTCTIME          0x17
#define TAG_GENERALIZEDTIME  0x18

/* The reasonCode extension saying certificateHold, as an entry carries
 * it: extnID 2.5.29.21, extnValue OCTET STRING { ENUMERATED 6 }. */
static const uint8_t hold_reason[] = { 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01, 0x06 };

/* The header of the element at *p (OpenSSL reads it): its tag octet and
 * content length, *p moved to the content.  With whole, the content must
 * lie before end; without (a container the head holds only the start
 * of), only the header must.  Indefinite lengths are no DER. */
static int next_header(const uint8_t **p, const uint8_t *end, bool whole, uint8_t *ret_tag, size_t *ret_len) {
        const unsigned char *q = *p;
        long len;
        int ret, tag, cls;

        if (*p >= end)
                return -EBADMSG;
        ret = ASN1_get_object(&q, &len, &tag, &cls, end - *p);
        /* a container longer than the head is expected: no error kept */
        if (ret & 0x80)
                ERR_clear_error();
        /* on a bad header q stays; on content past end it moves on */
        if (q == *p || (ret & 0x01) || tag >= 31 || len < 0 || (whole && (ret & 0x80)))
                return -EBADMSG;
        *ret_tag = (uint8_t) (cls | (ret & V_ASN1_CONSTRUCTED) | tag);
        *ret_len = (size_t) len;
        *p = q;
        return 0;
}

/* Steps over one whole element with that tag (or either of two). */
static int skip(const uint8_t **p, const uint8_t *end, uint8_t tag, uint8_t other) {
        uint8_t t;
        size_t len;

        if (next_header(p, end, true, &t, &len) < 0 || (t != tag && t != other))
                return -EBADMSG;
        *p += len;
        return 0;
}

int crl_layout(const uint8_t *der, size_t len, CrlLayout *ret) {
        const uint8_t *p = der, *end = der + len;
        uint8_t tag;
        size_t n;

        assert(der);
        /* CertificateList, then TBSCertList: only their headers are here */
        if (next_header(&p, end, false, &tag, &n) < 0 || tag != TAG_SEQUENCE)
                return -EBADMSG;
        if (next_header(&p, end, false, &tag, &n) < 0 || tag != TAG_SEQUENCE)
                return -EBADMSG;
        if (p < end && *p == TAG_INTEGER && skip(&p, end, TAG_INTEGER, TAG_INTEGER) < 0)
                return -EBADMSG;
        if (skip(&p, end, TAG_SEQUENCE, TAG_SEQUENCE) < 0 ||                   /* signature */
            skip(&p, end, TAG_SEQUENCE, TAG_SEQUENCE) < 0 ||                   /* issuer */
            skip(&p, end, TAG_UTCTIME, TAG_GENERALIZEDTIME) < 0)               /* thisUpdate */
                return -EBADMSG;
        *ret = (CrlLayout) { .next_update = (size_t) (p - der) };
        if (p < end && (*p == TAG_UTCTIME || *p == TAG_GENERALIZEDTIME)) {
                if (skip(&p, end, TAG_UTCTIME, TAG_GENERALIZEDTIME) < 0)       /* nextUpdate */
                        return -EBADMSG;
                ret->next_update_len = (size_t) (p - der) - ret->next_update;
        }
        if (p >= end)
                return -EBADMSG;
        ret->entries = (size_t) (p - der);
        if (*p != TAG_SEQUENCE)
                return 0;                                                      /* no revokedCertificates */
        if (next_header(&p, end, false, &tag, &n) < 0)
                return -EBADMSG;
        ret->entries = (size_t) (p - der);
        ret->entries_len = n;
        return 0;
}

size_t crl_revocations_run(const uint8_t *der, size_t len, const CrlLayout *l, size_t *ret_last) {
        const uint8_t *start, *p, *end;
        size_t last = 0;

        if (ret_last)
                *ret_last = 0;
        if (l->entries > len || l->entries_len > len - l->entries)
                return 0;
        start = p = der + l->entries;
        end = start + l->entries_len;
        while (p < end) {
                const uint8_t *entry = p;
                uint8_t tag;
                size_t n;

                if (next_header(&p, end, true, &tag, &n) < 0 || tag != TAG_SEQUENCE ||
                    memmem(p, n, hold_reason, sizeof hold_reason)) {
                        p = entry;
                        break;
                }
                p += n;
                last = (size_t) (p - entry);
        }
        if (ret_last)
                *ret_last = last;
        return (size_t) (p - start);
}

int crl_entries_begin(const uint8_t *der, size_t len, const CrlLayout *l, CrlEntryIter *ret) {
        if (l->entries > len || l->entries_len > len - l->entries)
                return -EBADMSG;
        *ret = (CrlEntryIter) { .p = der + l->entries, .end = der + l->entries + l->entries_len };
        return 0;
}

int crl_entry_next(CrlEntryIter *it, const uint8_t **ret_entry, size_t *ret_entry_len, const uint8_t **ret_serial,
                   size_t *ret_serial_len) {
        const uint8_t *entry = it->p, *p = it->p, *serial, *entry_end;
        uint8_t tag;
        size_t n;

        if (p >= it->end)
                return 0;
        if (next_header(&p, it->end, true, &tag, &n) < 0 || tag != TAG_SEQUENCE)
                return -EBADMSG;
        entry_end = p + n;
        serial = p;
        if (next_header(&p, entry_end, true, &tag, &n) < 0 || tag != TAG_INTEGER)
                return -EBADMSG;
        *ret_entry = entry;
        *ret_entry_len = (size_t) (entry_end - entry);
        *ret_serial = serial;
        *ret_serial_len = (size_t) (p + n - serial);
        it->p = entry_end;
        return 1;
}

int crl_patch(Fetcher *f, const uint8_t *held, size_t held_len, const uint8_t *head, size_t head_len,
              uint64_t total, FetchBuffer *out) {
        FetchBuffer tail = {};
        CrlLayout now, before;
        size_t run, last, at;
        int r;

        if (crl_layout(head, head_len, &now) < 0 || crl_layout(held, held_len, &before) < 0)
                return -EBADMSG;
        run = crl_revocations_run(held, held_len, &before, &last);
        at = now.entries + run;
        /* the run must fit in the new list, and the head reach the list */
        if (run > now.entries_len || now.entries > head_len || at >= total || total > PUBLISHED_CRL_MAX)
                return -EBADMSG;
        /* the end is fetched from the run's last entry on: when that is not
         * where the held run puts it, entries left the run, and the guess
         * is given up before a CRL of a million entries is verified */
        r = fetch_range(f, "crl.der", at - last, (size_t) (total - at + last), &tail);
        if (r < 0) {
                fetch_buffer_done(&tail);
                return r;
        }
        if (memcmp(tail.data, held + before.entries + run - last, last) != 0) {
                fetch_buffer_done(&tail);
                return -EBADMSG;
        }
        fetch_buffer_done(out);
        if (!(out->data = malloc((size_t) total))) {
                fetch_buffer_done(&tail);
                return -ENOMEM;
        }
        memcpy(out->data, head, now.entries);
        memcpy(out->data + now.entries, held + before.entries, run);
        memcpy(out->data + at, tail.data + last, tail.len - last);
        out->len = out->allocated = out->max = (size_t) total;
        fetch_buffer_done(&tail);
        return 0;
}
