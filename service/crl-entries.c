/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CRL's entries between builds (crl-entries.h).  A revocation is
 * encoded once, when it is first read; a build costs the changes since the
 * last one, not the length of the CRL. */
#include <assert.h>
#include <errno.h>

#include "crl-entries.h"
#include "store.h"
#include "util.h"

/* One revocation on the CRL: its DER lies in CrlEntries.blob. */
typedef struct Listed {
        uint64_t seq;                   /* its place in the revocation order: the key */
        size_t offset;
        uint8_t len;                    /* 0 once it left the CRL */
} Listed;

/* A certificate on hold: its entry is rebuilt at each update, its DER
 * kept to tell the observer when the hold ends. */
typedef struct Held {
        char *serial;
        uint8_t *der;
        size_t der_len;
} Held;

typedef struct HeldList {
        Held *v;
        size_t n, allocated;
} HeldList;

struct CrlEntries {
        bool loaded;
        uint64_t seq;                   /* every revocation up to this one is in */
        Listed *v;
        size_t n, allocated, n_left;
        uint8_t *blob;
        size_t blob_len, blob_allocated;
        uint8_t *held_blob;             /* the holds' entries, encoded */
        size_t held_len, held_allocated;
        HeldList held, held_before;     /* as of this update and of the last */
        bool holds_told;                /* the observer heard of this update's holds */
        uint64_t *leaving;              /* sequences that leave at the next update (RFC 5280 3.3) */
        size_t n_leaving, leaving_allocated;
        const CrlEntriesObserver *obs;  /* during an update */
};

static void held_list_clear(HeldList *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].serial);
                free(l->v[i].der);
        }
        l->n = 0;
}

static void held_list_free(HeldList *l) {
        held_list_clear(l);
        free(l->v);
        *l = (HeldList) {};
}

int crl_entries_new(CrlEntries **ret) {
        CrlEntries *e = calloc(1, sizeof *e);

        if (!e)
                return -ENOMEM;
        *ret = e;
        return 0;
}

void crl_entries_reset(CrlEntries *e) {
        e->loaded = false;
        e->seq = 0;
        e->n = e->n_left = e->blob_len = e->held_len = 0;
        e->n_leaving = 0;
        held_list_clear(&e->held);
        held_list_clear(&e->held_before);
}

void crl_entries_free(CrlEntries *e) {
        if (!e)
                return;
        free(e->v);
        free(e->blob);
        free(e->held_blob);
        held_list_free(&e->held);
        held_list_free(&e->held_before);
        free(e->leaving);
        free(e);
}

bool crl_entries_loaded(const CrlEntries *e) {
        return e->loaded;
}

static Listed *find(CrlEntries *e, uint64_t seq) {
        size_t lo = 0, hi = e->n;

        /* appended in revocation order: sorted by seq */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (e->v[mid].seq == seq)
                        return &e->v[mid];
                if (e->v[mid].seq < seq)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

static int tell_unlisted(uint64_t seq, const void *der, size_t der_len, void *userdata) {
        const CrlEntriesObserver *obs = userdata;

        (void) seq;
        return obs->unlisted(der, der_len, obs->userdata);
}

/* Marks the entries that leave, tells the observer which certificates
 * they were, then closes the gaps: rare (expiries), and cheaper than
 * writing the CRL itself. */
static int drop_leaving(CrlEntries *e, const char *state_dir) {
        size_t k = 0, off = 0, n_marked = 0;
        int r = 0;

        for (size_t i = 0; i < e->n_leaving; i++) {
                Listed *l = find(e, e->leaving[i]);

                if (l && l->len) {
                        l->len = 0;
                        e->n_left++;
                        e->leaving[n_marked++] = l->seq;
                }
        }
        if (n_marked > 0 && e->obs)
                r = store_crl_ders(state_dir, e->leaving, n_marked, tell_unlisted, (void *) e->obs);
        e->n_leaving = 0;
        if (r < 0 || e->n_left == 0)
                return r;
        for (size_t i = 0; i < e->n; i++) {
                Listed l = e->v[i];

                if (!l.len)
                        continue;
                memmove(e->blob + off, e->blob + l.offset, l.len);
                e->v[k++] = (Listed) { .seq = l.seq, .offset = off, .len = l.len };
                off += l.len;
        }
        e->n = k;
        e->blob_len = off;
        e->n_left = 0;
        return 0;
}

static int held_compare(const void *a, const void *b) {
        return strcmp(((const Held *) a)->serial, ((const Held *) b)->serial);
}

static bool held_contains(const HeldList *l, const Held *h) {
        return l->n > 0 && bsearch(h, l->v, l->n, sizeof *l->v, held_compare);
}

/* The holds that ended leave the trust module's list before this update's
 * revocations join it: a certificate put on hold and then revoked ends up
 * listed. */
static int tell_holds(CrlEntries *e) {
        const CrlEntriesObserver *obs = e->obs;
        int r;

        e->holds_told = true;
        /* sorted also without an observer: the next update compares */
        if (e->held.n > 1)
                qsort(e->held.v, e->held.n, sizeof *e->held.v, held_compare);
        if (!obs)
                return 0;
        for (size_t i = 0; i < e->held_before.n; i++)
                if (!held_contains(&e->held, &e->held_before.v[i]) &&
                    (r = obs->unlisted(e->held_before.v[i].der, e->held_before.v[i].der_len, obs->userdata)) < 0)
                        return r;
        for (size_t i = 0; i < e->held.n; i++)
                if (!held_contains(&e->held_before, &e->held.v[i]) &&
                    (r = obs->listed(e->held.v[i].der, e->held.v[i].der_len, obs->userdata)) < 0)
                        return r;
        return 0;
}

static int add_held(CrlEntries *e, const uint8_t *entry, size_t len, const char *serial, const void *der,
                    size_t der_len) {
        Held *h;
        int r;

        r = grow_array((void **) &e->held_blob, &e->held_allocated, e->held_len + len, 1);
        if (r < 0)
                return r;
        r = grow_array((void **) &e->held.v, &e->held.allocated, e->held.n + 1, sizeof *e->held.v);
        if (r < 0)
                return r;
        h = &e->held.v[e->held.n];
        *h = (Held) { .serial = strdup(serial), .der = malloc(der_len ? der_len : 1), .der_len = der_len };
        if (!h->serial || !h->der) {
                free(h->serial);
                free(h->der);
                return -ENOMEM;
        }
        memcpy(h->der, der, der_len);
        e->held.n++;
        memcpy(e->held_blob + e->held_len, entry, len);
        e->held_len += len;
        return 0;
}

static int add_revoked(CrlEntries *e, uint64_t seq, const uint8_t *entry, size_t len, const void *der,
                       size_t der_len) {
        int r;

        assert(seq > e->seq && (e->n == 0 || seq > e->v[e->n - 1].seq));
        r = grow_array((void **) &e->v, &e->allocated, e->n + 1, sizeof *e->v);
        if (r < 0)
                return r;
        r = grow_array((void **) &e->blob, &e->blob_allocated, e->blob_len + len, 1);
        if (r < 0)
                return r;
        memcpy(e->blob + e->blob_len, entry, len);
        e->v[e->n++] = (Listed) { .seq = seq, .offset = e->blob_len, .len = (uint8_t) len };
        e->blob_len += len;
        return e->obs ? e->obs->listed(der, der_len, e->obs->userdata) : 0;
}

/* The store tells the holds first, then the revocations in order. */
static int take(uint64_t seq, const char *serial, uint64_t revoked_usec, const char *reason, const void *der,
                size_t der_len, void *userdata) {
        CrlEntries *e = userdata;
        CrlEntry entry = { .serial = serial, .revoked_usec = revoked_usec, .reason = crl_reason_from_string(reason) };
        uint8_t encoded[CRL_ENTRY_MAX];
        size_t len;
        int r;

        r = crl_entry_encode(&entry, encoded, &len);
        if (r < 0)
                return r;
        if (seq == 0)
                return add_held(e, encoded, len, serial, der, der_len);
        if (!e->holds_told && (r = tell_holds(e)) < 0)
                return r;
        return add_revoked(e, seq, encoded, len, der, der_len);
}

int crl_entries_update(CrlEntries *e, const char *state_dir, const CrlEntriesObserver *obs, uint64_t *ret_seq) {
        HeldList swap;
        int r;

        assert(e && state_dir && ret_seq);
        if (!e->loaded)
                crl_entries_reset(e);
        e->obs = obs;
        r = drop_leaving(e, state_dir);
        /* the holds are read again whole: the last update's are compared */
        swap = e->held_before;
        e->held_before = e->held;
        e->held = swap;
        held_list_clear(&e->held);
        e->held_len = 0;
        e->holds_told = false;
        if (r >= 0)
                r = store_crl_changes(state_dir, e->seq, take, e, ret_seq);
        if (r >= 0 && !e->holds_told)
                r = tell_holds(e);
        e->obs = NULL;
        if (r < 0) {
                /* half read: start over from the store next time */
                crl_entries_reset(e);
                return r;
        }
        e->loaded = true;
        e->seq = *ret_seq;
        return 0;
}

void crl_entries_parts(const CrlEntries *e, CrlEncoded parts[static 2], size_t *ret_n) {
        parts[0] = (CrlEncoded) { .data = e->blob, .len = e->blob_len };
        parts[1] = (CrlEncoded) { .data = e->held_blob, .len = e->held_len };
        *ret_n = e->n + e->held.n;
}

int crl_entries_leave(CrlEntries *e, const uint64_t *seqs, size_t n) {
        int r;

        if (n == 0 || !e->loaded)
                return 0;
        r = grow_array((void **) &e->leaving, &e->leaving_allocated, e->n_leaving + n, sizeof *seqs);
        if (r < 0) {
                /* cannot remember them: read everything again instead */
                crl_entries_reset(e);
                return r;
        }
        memcpy(e->leaving + e->n_leaving, seqs, n * sizeof *seqs);
        e->n_leaving += n;
        return 0;
}
