/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The file: a header (magic, the SHA-256 of the responder's certificate,
 * the validity, the record count), then records, each a certificate's
 * state as its response states it and the response.  Native byte order:
 * the file never leaves the host.  It lives in a directory only the
 * responder's user can write; whoever can write there can read the
 * responder's key as well, so the responses are not verified again.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <sys/stat.h>

#include "log.h"
#include "ocsp-cache.h"
#include "util.h"

#define CACHE_FILE "responses"
#define CACHE_MAGIC "CROCSP01"
/* A response is at most this long: one certificate's answer. */
#define RESPONSE_MAX (64 * 1024)

typedef struct CacheHeader {
        char magic[8];
        uint8_t responder[32];
        uint64_t validity_usec;
        uint64_t count;
} CacheHeader;

typedef struct CacheRecord {
        uint8_t serial[OCSP_SERIAL_MAX];
        uint8_t serial_len;
        uint8_t hash;
        uint8_t status;
        int32_t reason;
        uint64_t revoked_usec;
        uint64_t this_update_usec, next_update_usec, produced_usec, refresh_usec;
        uint32_t len;
} CacheRecord;

static int responder_id(const OcspSigner *s, uint8_t ret[static 32]) {
        unsigned char *der = NULL;
        int len = i2d_X509(s->cert, &der), ok;

        if (len <= 0)
                return -ENOMEM;
        ok = EVP_Digest(der, (size_t) len, ret, NULL, EVP_sha256(), NULL);
        OPENSSL_free(der);
        return ok ? 0 : -EIO;
}

static int header_for(const OcspSigner *s, CacheHeader *h) {
        *h = (CacheHeader) { .validity_usec = s->validity_usec };
        memcpy(h->magic, CACHE_MAGIC, sizeof h->magic);
        return responder_id(s, h->responder);
}

/* One record: put in place if it still holds. */
static int take_record(FILE *f, OcspTable *t, const CacheRecord *rec, uint64_t now, size_t *taken) {
        _cleanup_free_ uint8_t *der = NULL;
        OcspEntry e;
        OcspBlob *b;
        uint64_t unused;
        size_t index;

        if (rec->len == 0 || rec->len > RESPONSE_MAX || rec->serial_len > OCSP_SERIAL_MAX ||
            rec->hash >= _OCSP_HASH_MAX)
                return -EBADMSG;
        der = malloc(rec->len);
        if (!der)
                return -ENOMEM;
        if (fread(der, 1, rec->len, f) != rec->len)
                return -EBADMSG;
        if (ocsp_table_find(t, rec->serial, rec->serial_len, &index) < 0 || rec->refresh_usec <= now)
                return 0;
        ocsp_table_snapshot(t, index, rec->hash, &e, &unused);
        /* a response that states another status than the store's is stale */
        if (e.state.status != rec->status || e.state.reason != rec->reason ||
            e.state.revoked_usec != rec->revoked_usec)
                return 0;
        b = ocsp_blob_new(der, rec->len);
        if (!b)
                return -ENOMEM;
        b->this_update_usec = rec->this_update_usec;
        b->next_update_usec = rec->next_update_usec;
        b->produced_usec = rec->produced_usec;
        b->refresh_usec = rec->refresh_usec;
        if (ocsp_table_install(t, index, rec->hash, e.state.version, b) > 0)
                (*taken)++;
        ocsp_blob_unref(b);
        return 0;
}

int ocsp_cache_load(const char *dir, OcspTable *t, const OcspSigner *s, size_t *ret_n) {
        _cleanup_free_ char *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        CacheHeader want, h;
        uint64_t now = now_usec();
        int r = 0;

        assert(dir && t && s && ret_n);
        *ret_n = 0;
        if (asprintf(&path, "%s/" CACHE_FILE, dir) < 0)
                return -ENOMEM;
        f = fopen(path, "re");
        if (!f && errno == ENOENT)
                return 0;
        if (!f)
                return log_warning_errno(-errno, "Failed to open %s, signing everything anew: %m", path);
        r = header_for(s, &want);
        if (r < 0)
                return r;
        if (fread(&h, sizeof h, 1, f) != 1 || memcmp(h.magic, want.magic, sizeof h.magic) != 0 ||
            memcmp(h.responder, want.responder, sizeof h.responder) != 0 || h.validity_usec != want.validity_usec) {
                log_info("%s: of another responder, key or validity: signing everything anew", path);
                return 0;
        }
        for (uint64_t i = 0; i < h.count; i++) {
                CacheRecord rec;

                if (fread(&rec, sizeof rec, 1, f) != 1)
                        r = -EBADMSG;
                else
                        r = take_record(f, t, &rec, now, ret_n);
                if (r < 0)
                        return log_warning_errno(r, "Failed to read %s after %zu responses, signing the rest anew: %m",
                                                 path, *ret_n);
        }
        return 0;
}

static int write_record(FILE *f, const OcspEntry *e, OcspHash hash, const OcspBlob *b) {
        CacheRecord rec = {
                .serial_len = e->serial_len, .hash = (uint8_t) hash, .status = (uint8_t) e->state.status,
                .reason = e->state.reason, .revoked_usec = e->state.revoked_usec,
                .this_update_usec = b->this_update_usec, .next_update_usec = b->next_update_usec,
                .produced_usec = b->produced_usec, .refresh_usec = b->refresh_usec, .len = (uint32_t) b->len,
        };

        memcpy(rec.serial, e->serial, e->serial_len);
        if (fwrite(&rec, sizeof rec, 1, f) != 1 || fwrite(b->der, 1, b->len, f) != b->len)
                return -EIO;
        return 0;
}

/* Under the table's read lock: nothing signs while the responder stops. */
static int write_records(FILE *f, OcspTable *t, uint64_t *ret_count) {
        int r = 0;

        *ret_count = 0;
        pthread_rwlock_rdlock(&t->lock);
        for (size_t i = 0; r >= 0 && i < t->n; i++)
                for (OcspHash h = 0; r >= 0 && h < _OCSP_HASH_MAX; h++) {
                        const OcspBlob *b = t->entries[i].blob[h];

                        if (!b)
                                continue;
                        r = write_record(f, &t->entries[i], h, b);
                        (*ret_count)++;
                }
        pthread_rwlock_unlock(&t->lock);
        return r;
}

static int write_file(const char *tmp, OcspTable *t, const OcspSigner *s, uint64_t *ret_count) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_close_ int fd = -1;
        CacheHeader h;
        int r;

        r = header_for(s, &h);
        if (r < 0)
                return r;
        /* signed responses are public, but the file is the responder's alone */
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        f = fdopen(fd, "we");
        if (!f)
                return -errno;
        TAKE_FD(fd);
        /* the count is known at the end: the header is written twice */
        if (fwrite(&h, sizeof h, 1, f) != 1)
                return -EIO;
        r = write_records(f, t, &h.count);
        if (r < 0)
                return r;
        if (fseek(f, 0, SEEK_SET) < 0 || fwrite(&h, sizeof h, 1, f) != 1 || fflush(f) != 0 ||
            fsync(fileno(f)) < 0)
                return -errno ? -errno : -EIO;
        *ret_count = h.count;
        return 0;
}

int ocsp_cache_save(const char *dir, OcspTable *t, const OcspSigner *s) {
        _cleanup_free_ char *path = NULL, *tmp = NULL;
        uint64_t count = 0;
        int r;

        assert(dir && t && s);
        if (asprintf(&path, "%s/" CACHE_FILE, dir) < 0 || asprintf(&tmp, "%s/." CACHE_FILE ".new", dir) < 0)
                return -ENOMEM;
        (void) unlink(tmp);
        r = write_file(tmp, t, s, &count);
        if (r < 0) {
                (void) unlink(tmp);
                return log_error_errno(r, "Failed to write %s: %m", tmp);
        }
        if (rename(tmp, path) < 0) {
                r = log_error_errno(-errno, "Failed to rename %s to %s: %m", tmp, path);
                (void) unlink(tmp);
                return r;
        }
        log_info("%" PRIu64 " signed responses kept in %s", count, path);
        return 0;
}
