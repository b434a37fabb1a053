/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "ocsp-table.h"
#include "util.h"

OcspBlob *ocsp_blob_new(const uint8_t *der, size_t len) {
        uint8_t md[32];
        OcspBlob *b;

        assert(der && len > 0);
        b = malloc(sizeof *b + len);
        if (!b)
                return NULL;
        *b = (OcspBlob) { .len = len };
        atomic_init(&b->refs, 1);
        memcpy(b->der, der, len);
        if (!EVP_Digest(der, len, md, NULL, EVP_sha256(), NULL)) {
                free(b);
                return NULL;
        }
        b->etag[0] = '"';
        for (size_t i = 0; i < sizeof md; i++)
                snprintf(b->etag + 1 + 2 * i, 3, "%02x", md[i]);
        b->etag[65] = '"';
        b->etag[66] = 0;
        return b;
}

OcspBlob *ocsp_blob_ref(OcspBlob *b) {
        if (b)
                atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
        return b;
}

void ocsp_blob_unref(OcspBlob *b) {
        if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
                free(b);
}

int ocsp_table_init(OcspTable *t) {
        *t = (OcspTable) {};
        return -pthread_rwlock_init(&t->lock, NULL);
}

void ocsp_table_done(OcspTable *t) {
        for (size_t i = 0; i < t->n; i++)
                for (OcspHash h = 0; h < _OCSP_HASH_MAX; h++)
                        ocsp_blob_unref(t->entries[i].blob[h]);
        free(t->entries);
        free(t->slots);
        free(t->dirty);
        pthread_rwlock_destroy(&t->lock);
        *t = (OcspTable) {};
}

/* FNV-1a: serials are random already; this only spreads them. */
static size_t serial_hash(const uint8_t *s, size_t len) {
        uint64_t h = 14695981039346656037ULL;

        for (size_t i = 0; i < len; i++)
                h = (h ^ s[i]) * 1099511628211ULL;
        return (size_t) h;
}

/* The slot of serial: its entry's, or the empty one it would take. */
static size_t probe(const OcspTable *t, const uint8_t *serial, size_t len) {
        size_t mask = t->n_slots - 1, i = serial_hash(serial, len) & mask;

        assert(t->n_slots > 0);
        for (;; i = (i + 1) & mask) {
                uint32_t s = t->slots[i];
                const OcspEntry *e;

                if (s == 0)
                        return i;
                e = &t->entries[s - 1];
                if (e->serial_len == len && memcmp(e->serial, serial, len) == 0)
                        return i;
        }
}

static int rehash(OcspTable *t, size_t n_slots) {
        uint32_t *slots = calloc(n_slots, sizeof *slots);

        if (!slots)
                return -ENOMEM;
        free(t->slots);
        t->slots = slots;
        t->n_slots = n_slots;
        for (size_t i = 0; i < t->n; i++)
                t->slots[probe(t, t->entries[i].serial, t->entries[i].serial_len)] = (uint32_t) i + 1;
        return 0;
}

static int find_locked(const OcspTable *t, const uint8_t *serial, size_t len, size_t *ret) {
        uint32_t s;

        if (t->n_slots == 0)
                return -ENOENT;
        s = t->slots[probe(t, serial, len)];
        if (s == 0)
                return -ENOENT;
        *ret = s - 1;
        return 0;
}

static int add_locked(OcspTable *t, const uint8_t *serial, size_t len, size_t *ret) {
        int r;

        if (find_locked(t, serial, len, ret) >= 0)
                return 0;
        if (t->n >= UINT32_MAX - 1)
                return -E2BIG;
        if (2 * (t->n + 1) > t->n_slots) {
                r = rehash(t, t->n_slots ? 2 * t->n_slots : 1024);
                if (r < 0)
                        return r;
        }
        r = grow_array((void **) &t->entries, &t->allocated, t->n + 1, sizeof *t->entries);
        if (r < 0)
                return r;
        t->entries[t->n] = (OcspEntry) { .serial_len = (uint8_t) len, .state.reason = -1 };
        memcpy(t->entries[t->n].serial, serial, len);
        t->slots[probe(t, serial, len)] = (uint32_t) t->n + 1;
        *ret = t->n++;
        return 1;
}

int ocsp_table_add(OcspTable *t, const uint8_t *serial, size_t len, size_t *ret_index) {
        int r;

        assert(t && serial && len <= OCSP_SERIAL_MAX && ret_index);
        pthread_rwlock_wrlock(&t->lock);
        r = add_locked(t, serial, len, ret_index);
        pthread_rwlock_unlock(&t->lock);
        return r;
}

int ocsp_table_find(OcspTable *t, const uint8_t *serial, size_t len, size_t *ret_index) {
        int r;

        pthread_rwlock_rdlock(&t->lock);
        r = find_locked(t, serial, len, ret_index);
        pthread_rwlock_unlock(&t->lock);
        return r;
}

static void drop_blobs(OcspTable *t, OcspEntry *e) {
        if (e->blob[OCSP_HASH_SHA1])
                t->n_signed--;
        for (OcspHash h = 0; h < _OCSP_HASH_MAX; h++) {
                ocsp_blob_unref(e->blob[h]);
                e->blob[h] = NULL;
        }
}

int ocsp_table_set(OcspTable *t, size_t index, OcspStatus status, int reason, uint64_t revoked_usec) {
        OcspEntry *e;
        int r = 0;

        assert(status != OCSP_STATUS_UNKNOWN);
        pthread_rwlock_wrlock(&t->lock);
        assert(index < t->n);
        e = &t->entries[index];
        if (e->state.status != status || e->state.reason != reason || e->state.revoked_usec != revoked_usec) {
                e->state.status = status;
                e->state.reason = reason;
                e->state.revoked_usec = revoked_usec;
                e->state.version++;
                drop_blobs(t, e);
                r = grow_array((void **) &t->dirty, &t->dirty_allocated, t->n_dirty + 1, sizeof *t->dirty);
                if (r >= 0)
                        t->dirty[t->n_dirty++] = (uint32_t) index;
                /* without room in the list the next full pass signs it */
                r = 1;
        }
        pthread_rwlock_unlock(&t->lock);
        return r;
}

int ocsp_table_lookup(OcspTable *t, const uint8_t *serial, size_t len, OcspHash hash, uint64_t now_usec,
                      size_t *ret_index, OcspCertState *ret_state, OcspBlob **ret_blob) {
        const OcspEntry *e;
        size_t i;
        int r;

        *ret_blob = NULL;
        pthread_rwlock_rdlock(&t->lock);
        r = find_locked(t, serial, len, &i);
        if (r < 0) {
                pthread_rwlock_unlock(&t->lock);
                *ret_state = (OcspCertState) { .status = OCSP_STATUS_UNKNOWN, .reason = -1 };
                return r;
        }
        e = &t->entries[i];
        *ret_index = i;
        *ret_state = e->state;
        /* a response past its nextUpdate is never sent: signed anew */
        if (e->blob[hash] && e->blob[hash]->next_update_usec > now_usec)
                *ret_blob = ocsp_blob_ref(e->blob[hash]);
        pthread_rwlock_unlock(&t->lock);
        return 0;
}

void ocsp_table_snapshot(OcspTable *t, size_t index, OcspHash hash, OcspEntry *ret, uint64_t *ret_refresh_usec) {
        const OcspEntry *e;

        pthread_rwlock_rdlock(&t->lock);
        assert(index < t->n);
        e = &t->entries[index];
        *ret = (OcspEntry) { .serial_len = e->serial_len, .state = e->state };
        memcpy(ret->serial, e->serial, e->serial_len);
        *ret_refresh_usec = e->blob[hash] ? e->blob[hash]->refresh_usec : 0;
        pthread_rwlock_unlock(&t->lock);
}

int ocsp_table_install(OcspTable *t, size_t index, OcspHash hash, uint64_t version, OcspBlob *blob) {
        OcspEntry *e;
        int r = 0;

        pthread_rwlock_wrlock(&t->lock);
        assert(index < t->n);
        e = &t->entries[index];
        if (e->state.version == version) {
                if (hash == OCSP_HASH_SHA1 && !e->blob[hash])
                        t->n_signed++;
                ocsp_blob_unref(e->blob[hash]);
                e->blob[hash] = ocsp_blob_ref(blob);
                r = 1;
        }
        pthread_rwlock_unlock(&t->lock);
        return r;
}

size_t ocsp_table_size(OcspTable *t) {
        size_t n;

        pthread_rwlock_rdlock(&t->lock);
        n = t->n;
        pthread_rwlock_unlock(&t->lock);
        return n;
}

size_t ocsp_table_signed(OcspTable *t) {
        size_t n;

        pthread_rwlock_rdlock(&t->lock);
        n = t->n_signed;
        pthread_rwlock_unlock(&t->lock);
        return n;
}

size_t ocsp_table_take_dirty(OcspTable *t, uint32_t **ret) {
        size_t n;

        pthread_rwlock_wrlock(&t->lock);
        *ret = t->dirty;
        n = t->n_dirty;
        t->dirty = NULL;
        t->n_dirty = t->dirty_allocated = 0;
        pthread_rwlock_unlock(&t->lock);
        return n;
}
