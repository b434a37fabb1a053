/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

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

typedef struct KeyList {
        const SyncCa *ca;
        KeyRef *v;
        size_t n, allocated;
} KeyList;

void index_change_done(IndexChange *c) {
        wanted_free(c->added, c->n_added);
        free(c->removed);
        *c = (IndexChange) {};
}

static int key_add(const uint8_t *serial, size_t len, void *userdata) {
        KeyList *l = userdata;

        /* allocated for the most entries the list's length can hold */
        if (l->n == l->allocated)
                return -EBADMSG;
        l->v[l->n++] = (KeyRef) { .key = sync_serial_key(l->ca, serial, len), .serial = serial, .len = len };
        return 0;
}

static int compare_keys(const void *a, const void *b) {
        const KeyRef *x = a, *y = b;

        return x->key < y->key ? -1 : x->key > y->key;
}

/* The entries of a whole CRL with their keys, sorted by key. */
static int crl_keys(const SyncCa *ca, const uint8_t *der, size_t len, KeyRef **ret, size_t *ret_n) {
        KeyList l = { .ca = ca };
        CrlLayout layout;
        int r;

        r = crl_layout(der, len, &layout);
        if (r < 0)
                return r;
        l.allocated = layout.entries_len / ENTRY_MIN + 1;
        if (!(l.v = malloc(l.allocated * sizeof *l.v)))
                return -ENOMEM;
        r = crl_for_each_serial(der, len, &layout, key_add, &l);
        if (r < 0) {
                free(l.v);
                return r;
        }
        qsort(l.v, l.n, sizeof *l.v, compare_keys);
        *ret = l.v;
        *ret_n = l.n;
        return 0;
}

int crl_diff(const SyncCa *ca, const uint8_t *now, size_t now_len, const uint8_t *held, size_t held_len,
             IndexChange *ret) {
        _cleanup_free_ KeyRef *a = NULL, *b = NULL;
        IndexChange change = { .whole = !held };
        size_t n_a, n_b = 0, i = 0, j = 0;
        int r;

        assert(now && now_len > 0);
        if ((r = crl_keys(ca, now, now_len, &a, &n_a)) < 0)
                return r;
        if (held && (r = crl_keys(ca, held, held_len, &b, &n_b)) < 0)
                return r;
        if (!(change.added = calloc(n_a ? n_a : 1, sizeof *change.added)) ||
            !(change.removed = calloc(n_b ? n_b : 1, sizeof *change.removed))) {
                index_change_done(&change);
                return -ENOMEM;
        }
        /* a merge of the two sorted lists; a key on both is unchanged */
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
        *ret = change;
        return 0;
}
