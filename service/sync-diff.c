/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "sync-diff.h"
#include "sync-patch.h"

/* The smallest entry: SEQUENCE, a one-octet INTEGER, a UTCTime. */
#define ENTRY_MIN 20

typedef struct KeyRef {
        uint64_t key;
        const uint8_t *serial;
        size_t len;
} KeyRef;

void index_change_done(IndexChange *c) {
        wanted_free(c->added, c->n_added);
        free(c->removed);
        *c = (IndexChange) {};
}

static int compare_keys(const void *a, const void *b) {
        const KeyRef *x = a, *y = b;

        return x->key < y->key ? -1 : x->key > y->key;
}

static int compare_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

/* The entries left in it, with their keys, sorted by key. */
static int rest_keys(const SyncCa *ca, CrlEntryIter it, KeyRef **ret, size_t *ret_n) {
        const uint8_t *entry, *serial;
        size_t entry_len, serial_len, n = 0, allocated;
        KeyRef *v;
        int r;

        allocated = (size_t) (it.end - it.p) / ENTRY_MIN + 1;
        if (!(v = malloc(allocated * sizeof *v)))
                return -ENOMEM;
        while ((r = crl_entry_next(&it, &entry, &entry_len, &serial, &serial_len)) > 0) {
                assert(n < allocated);
                v[n++] = (KeyRef) { .key = sync_serial_key(ca, serial, serial_len), .serial = serial, .len = serial_len };
        }
        if (r < 0) {
                free(v);
                return r;
        }
        qsort(v, n, sizeof *v, compare_keys);
        *ret = v;
        *ret_n = n;
        return 0;
}

/* Steps both lists over the entries they begin with alike, byte for byte:
 * the daemon's CRLs share the run of revocations it appends to, so what
 * is left is what changed, and a million unchanged entries cost a memcmp
 * rather than a sort. */
static int skip_common(CrlEntryIter *a, CrlEntryIter *b, CrlEntryIter *ret_prefix) {
        CrlEntryIter start = *a;

        for (;;) {
                CrlEntryIter x = *a, y = *b;
                const uint8_t *ea, *eb, *s;
                size_t la, lb, sl;
                int ra, rb;

                ra = crl_entry_next(&x, &ea, &la, &s, &sl);
                rb = crl_entry_next(&y, &eb, &lb, &s, &sl);
                if (ra < 0 || rb < 0)
                        return -EBADMSG;
                if (ra == 0 || rb == 0 || la != lb || memcmp(ea, eb, la) != 0)
                        break;
                *a = x;
                *b = y;
        }
        *ret_prefix = (CrlEntryIter) { .p = start.p, .end = a->p };
        return 0;
}

/* A key that left the rest of the held list may still be listed in the
 * common part (a serial listed twice): it is not taken off then. */
static int keep_listed(const SyncCa *ca, CrlEntryIter prefix, uint64_t *removed, size_t *n_removed) {
        _cleanup_free_ uint64_t *sorted = NULL;
        _cleanup_free_ bool *listed = NULL;
        const uint8_t *entry, *serial;
        size_t entry_len, serial_len, k = 0;
        int r;

        if (*n_removed == 0)
                return 0;
        if (!(sorted = malloc(*n_removed * sizeof *sorted)) || !(listed = calloc(*n_removed, sizeof *listed)))
                return -ENOMEM;
        memcpy(sorted, removed, *n_removed * sizeof *sorted);
        qsort(sorted, *n_removed, sizeof *sorted, compare_u64);
        while ((r = crl_entry_next(&prefix, &entry, &entry_len, &serial, &serial_len)) > 0) {
                uint64_t key = sync_serial_key(ca, serial, serial_len), *hit;

                hit = bsearch(&key, sorted, *n_removed, sizeof *sorted, compare_u64);
                if (hit)
                        listed[hit - sorted] = true;
        }
        if (r < 0)
                return r;
        for (size_t i = 0; i < *n_removed; i++) {
                uint64_t key = removed[i], *hit = bsearch(&key, sorted, *n_removed, sizeof *sorted, compare_u64);

                assert(hit);
                if (!listed[hit - sorted])
                        removed[k++] = key;
        }
        *n_removed = k;
        return 0;
}

static int begin(const uint8_t *der, size_t len, CrlEntryIter *ret) {
        CrlLayout l;
        int r = crl_layout(der, len, &l);

        return r < 0 ? r : crl_entries_begin(der, len, &l, ret);
}

int crl_diff(const SyncCa *ca, const uint8_t *now, size_t now_len, const uint8_t *held, size_t held_len,
             IndexChange *ret) {
        _cleanup_free_ KeyRef *a = NULL, *b = NULL;
        IndexChange change = { .whole = !held };
        CrlEntryIter ia, ib = {}, prefix = {};
        size_t n_a, n_b = 0, i = 0, j = 0;
        int r;

        assert(now && now_len > 0);
        if ((r = begin(now, now_len, &ia)) < 0)
                return r;
        if (held && ((r = begin(held, held_len, &ib)) < 0 || (r = skip_common(&ia, &ib, &prefix)) < 0))
                return r;
        if ((r = rest_keys(ca, ia, &a, &n_a)) < 0 || (held && (r = rest_keys(ca, ib, &b, &n_b)) < 0))
                return r;
        if (!(change.added = calloc(n_a ? n_a : 1, sizeof *change.added)) ||
            !(change.removed = calloc(n_b ? n_b : 1, sizeof *change.removed))) {
                index_change_done(&change);
                return -ENOMEM;
        }
        /* a merge of the two sorted rests; a key in both is unchanged */
        while (i < n_a || j < n_b) {
                if (j == n_b || (i < n_a && a[i].key < b[j].key)) {
                        change.added[change.n_added++] =
                                (Wanted) { .key = a[i].key, .serial = a[i].serial, .serial_len = a[i].len };
                        i++;
                } else if (i == n_a || b[j].key < a[i].key)
                        change.removed[change.n_removed++] = b[j++].key;
                else
                        i++, j++;
        }
        if ((r = keep_listed(ca, prefix, change.removed, &change.n_removed)) < 0) {
                index_change_done(&change);
                return r;
        }
        *ret = change;
        return 0;
}
