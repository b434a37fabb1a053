/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "crl-file.h"
#include "log.h"
#include "sync-gaps.h"
#include "sync-patch.h"

/* Past this many requests the file is fetched whole instead. */
#define REQUESTS_MAX 4000u
/* An entry is at most a 21-octet serial, a time and a reason. */
#define ENTRY_MAX 128u
/* Where an entry went is looked for among the next this many held ones. */
#define SCAN_MAX 4096u

typedef struct Segment {
        size_t from, to;                /* bytes of held */
} Segment;

typedef struct Gaps {
        Fetcher *fetcher;
        const uint8_t *held;
        size_t *offs;                   /* where held entry j starts; offs[m] ends the run */
        size_t m;
        size_t base_held, base_new;     /* where the lists start in held and in the new file */
        uint64_t total;
        FetchBuffer buf;
        unsigned requests;
        Segment *segs;
        size_t n_segs;
} Gaps;

/* Where held entry j lies in the new file when removed bytes left before it. */
static uint64_t new_pos(const Gaps *g, size_t j, size_t removed) {
        return g->base_new + (g->offs[j] - g->base_held) - removed;
}

static int fetch(Gaps *g, uint64_t at, size_t len) {
        if (++g->requests > REQUESTS_MAX)
                return -EBADMSG;
        return fetch_range(g->fetcher, "crl.der", at, len, &g->buf);
}

/* Whether held entry j is in the new file where it would be. */
static int aligned(Gaps *g, size_t j, size_t removed, bool *ret) {
        size_t len = g->offs[j + 1] - g->offs[j];
        uint64_t at = new_pos(g, j, removed);
        int r;

        *ret = false;
        if (at + len > g->total)
                return 0;
        if ((r = fetch(g, at, len)) < 0)
                return r;
        *ret = memcmp(g->buf.data, g->held + g->offs[j], len) == 0;
        return 0;
}

/* The first held entry from i on that is not where it would be (m when
 * all are): the entries are in one order in both, so once one is out of
 * place every later one is too. */
static int first_gap(Gaps *g, size_t i, size_t removed, size_t *ret) {
        size_t lo = i, hi = g->m;
        bool ok;
        int r;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if ((r = aligned(g, mid, removed, &ok)) < 0)
                        return r;
                if (ok)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *ret = lo;
        return 0;
}

/* Which held entry after j the new file has where j would be: m when
 * none of the next SCAN_MAX (the run ends there). */
static int moved_to(Gaps *g, size_t j, size_t removed, size_t *ret) {
        uint64_t at = new_pos(g, j, removed);
        size_t len = g->total - at < ENTRY_MAX ? (size_t) (g->total - at) : ENTRY_MAX;
        CrlEntryIter it;
        const uint8_t *entry, *serial;
        size_t entry_len, serial_len;
        int r;

        *ret = g->m;
        if (at >= g->total || (r = fetch(g, at, len)) < 0)
                return at >= g->total ? 0 : r;
        it = (CrlEntryIter) { .p = g->buf.data, .end = g->buf.data + g->buf.len };
        if (crl_entry_next(&it, &entry, &entry_len, &serial, &serial_len) <= 0)
                return 0;
        for (size_t k = j + 1; k < g->m && k <= j + SCAN_MAX; k++)
                if (g->offs[k + 1] - g->offs[k] == entry_len && memcmp(g->held + g->offs[k], entry, entry_len) == 0) {
                        *ret = k;
                        break;
                }
        return 0;
}

static int add_segment(Gaps *g, size_t from, size_t to) {
        if (from == to)
                return 0;
        if (!(g->segs = realloc(g->segs, (g->n_segs + 1) * sizeof *g->segs)))
                return -ENOMEM;
        g->segs[g->n_segs++] = (Segment) { from, to };
        return 0;
}

/* The held run split into what the new file keeps; *ret_end and
 * *ret_removed say where the new file's own part begins. */
static int find_segments(Gaps *g, size_t *ret_end, size_t *ret_removed) {
        size_t i = 0, removed = 0, gap = 0, k;
        int r;

        while (i < g->m) {
                if ((r = first_gap(g, i, removed, &gap)) < 0 || (r = add_segment(g, g->offs[i], g->offs[gap])) < 0)
                        return r;
                if (gap == g->m)
                        break;
                if ((r = moved_to(g, gap, removed, &k)) < 0)
                        return r;
                if (k == g->m)
                        break;
                removed += g->offs[k] - g->offs[gap];
                i = gap = k;
        }
        *ret_end = gap;
        *ret_removed = removed;
        return 0;
}

/* Where each entry of the held run starts. */
static int held_offsets(Gaps *g, const CrlLayout *before, size_t run, size_t held_len) {
        const uint8_t *entry, *serial;
        size_t entry_len, serial_len, n = 0;
        CrlLayout l = *before;
        CrlEntryIter it;
        int r;

        l.entries_len = run;
        if ((r = crl_entries_begin(g->held, held_len, &l, &it)) < 0)
                return r;
        if (!(g->offs = malloc((run / 20 + 2) * sizeof *g->offs)))
                return -ENOMEM;
        while ((r = crl_entry_next(&it, &entry, &entry_len, &serial, &serial_len)) > 0)
                g->offs[n++] = (size_t) (entry - g->held);
        if (r < 0)
                return r;
        g->offs[n] = before->entries + run;
        g->m = n;
        return 0;
}

static int assemble(Gaps *g, const uint8_t *head, size_t end, size_t removed, FetchBuffer *out) {
        uint64_t at = new_pos(g, end, removed);
        FetchBuffer tail = {};
        size_t p;
        int r;

        if (at >= g->total)
                return -EBADMSG;
        if ((r = fetch(g, at, (size_t) (g->total - at))) < 0)
                return r;
        tail = g->buf;
        g->buf = (FetchBuffer) {};
        fetch_buffer_done(out);
        if (!(out->data = malloc((size_t) g->total))) {
                fetch_buffer_done(&tail);
                return -ENOMEM;
        }
        memcpy(out->data, head, g->base_new);
        p = g->base_new;
        for (size_t i = 0; i < g->n_segs; i++) {
                size_t n = g->segs[i].to - g->segs[i].from;

                if (p + n > at) {
                        fetch_buffer_done(&tail);
                        return -EBADMSG;
                }
                memcpy(out->data + p, g->held + g->segs[i].from, n);
                p += n;
        }
        if (p != at) {
                fetch_buffer_done(&tail);
                return -EBADMSG;
        }
        memcpy(out->data + at, tail.data, tail.len);
        out->len = out->allocated = out->max = (size_t) g->total;
        fetch_buffer_done(&tail);
        return 0;
}

int crl_patch_gaps(Fetcher *f, const uint8_t *held, size_t held_len, const uint8_t *head, size_t head_len,
                   uint64_t total, FetchBuffer *out) {
        Gaps g = { .fetcher = f, .held = held, .total = total };
        CrlLayout now, before;
        size_t run, end, removed;
        int r;

        assert(f && held && head);
        if (crl_layout(head, head_len, &now) < 0 || crl_layout(held, held_len, &before) < 0 ||
            now.entries > head_len || total > PUBLISHED_CRL_MAX)
                return -EBADMSG;
        g.base_held = before.entries;
        g.base_new = now.entries;
        run = crl_revocations_run(held, held_len, &before, NULL);
        r = held_offsets(&g, &before, run, held_len);
        if (r >= 0)
                r = find_segments(&g, &end, &removed);
        if (r >= 0)
                r = assemble(&g, head, end, removed, out);
        if (r >= 0)
                log_debug("sync: crl.der rebuilt around %zu gaps in %u requests", g.n_segs ? g.n_segs - 1 : 0,
                          g.requests);
        free(g.offs);
        free(g.segs);
        fetch_buffer_done(&g.buf);
        return r;
}
