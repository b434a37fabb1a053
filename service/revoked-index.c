/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* revoked.idx, written: appends for each change, compaction in a thread
 * of its own.  The certificates listed are kept in memory by key (a hash
 * of issuer and serial, which RFC 5280 makes unique per certificate), with
 * where their DER lies; the DER itself is read back only by compaction. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <openssl/sha.h>

#include "atomic-file.h"
#include "log.h"
#include "revoked-index-format.h"
#include "revoked-index.h"
#include "util.h"
#include "x509.h"

/* A compaction starts once the log holds this many records, a sixteenth of
 * the sorted part (so that it costs O(1) per revocation over time), and
 * the log has room for four times as many, for appends while it runs. */
#define LOG_MIN_TRIGGER ((uint64_t) 1024)
#define COPY_CHUNK ((size_t) 1 << 20)
#define PAGE ((uint64_t) 4096)

static uint64_t log_trigger(uint64_t n_sorted) {
        return n_sorted / 16 > LOG_MIN_TRIGGER ? n_sorted / 16 : LOG_MIN_TRIGGER;
}

/* One certificate the index lists, or listed until removed. */
typedef struct Cert {
        uint64_t key, subject_key;
        uint64_t offset;                /* of its DER; for create(), its index in the input */
        uint64_t added, removed;        /* CRL numbers; removed 0 while listed */
        uint32_t length;
        bool seen;                      /* named by the sync under way */
} Cert;

/* One file, as written so far. */
typedef struct IdxFile {
        int fd;
        RiHeader h;                     /* the header published last */
        int slot;                       /* the slot h is in */
        uint64_t n_log, data_end;       /* written, published or not */
        Cert *certs;
        size_t n_certs, allocated;
        uint32_t *by_key;               /* index + 1, 0 empty */
        size_t mask;
} IdxFile;

#define IDX_FILE_INIT { .fd = -1 }

struct RevokedIndex {
        pthread_mutex_t lock;
        pthread_cond_t idle;
        int dir_fd;
        uint8_t ca_sha256[SHA256_DIGEST_LENGTH];
        IdxFile f;
        uint64_t published;
        bool compacting, have_thread;
        pthread_t thread;
        int compact_result;
};

static void idx_file_done(IdxFile *f) {
        closep(&f->fd);
        f->fd = -1;
        free(f->certs);
        free(f->by_key);
        f->certs = NULL;
        f->by_key = NULL;
        f->n_certs = f->allocated = 0;
}

/* ---- the certificates in memory ---- */

static size_t slot_of(uint64_t key, size_t mask) {
        return (size_t) (key ^ (key >> 31)) & mask;
}

static Cert *cert_find(IdxFile *f, uint64_t key) {
        if (!f->by_key)
                return NULL;
        for (size_t i = slot_of(key, f->mask);; i = (i + 1) & f->mask) {
                uint32_t v = f->by_key[i];

                if (v == 0)
                        return NULL;
                if (f->certs[v - 1].key == key)
                        return &f->certs[v - 1];
        }
}

static int table_rebuild(IdxFile *f, size_t want) {
        size_t slots = 64;
        uint32_t *t;

        while (slots < 2 * want)
                slots *= 2;
        if (!(t = calloc(slots, sizeof *t)))
                return -ENOMEM;
        free(f->by_key);
        f->by_key = t;
        f->mask = slots - 1;
        for (size_t n = 0; n < f->n_certs; n++) {
                size_t i = slot_of(f->certs[n].key, f->mask);

                while (t[i] != 0)
                        i = (i + 1) & f->mask;
                t[i] = (uint32_t) n + 1;
        }
        return 0;
}

static int cert_insert(IdxFile *f, const Cert *c) {
        int r;

        if (f->n_certs >= UINT32_MAX - 1)
                return -E2BIG;
        r = grow_array((void **) &f->certs, &f->allocated, f->n_certs + 1, sizeof *f->certs);
        if (r < 0)
                return r;
        f->certs[f->n_certs++] = *c;
        if (!f->by_key || 2 * f->n_certs > f->mask + 1) {
                r = table_rebuild(f, 2 * f->n_certs);
                if (r < 0) {
                        f->n_certs--;
                        return r;
                }
                return 0;
        }
        size_t i = slot_of(c->key, f->mask);
        while (f->by_key[i] != 0)
                i = (i + 1) & f->mask;
        f->by_key[i] = (uint32_t) f->n_certs;
        return 0;
}

/* The keys of a certificate; -EBADMSG when der is none. */
static int cert_keys(const uint8_t *der, size_t len, uint64_t *key, uint64_t *subject_key) {
        Span in = { der, len };
        CertFields fields;

        if (len == 0 || len > RI_DER_MAX || x509_parse(&in, &fields) < 0 || in.len != 0)
                return -EBADMSG;
        *key = ri_key(fields.issuer.p, fields.issuer.len, fields.serial.p, fields.serial.len);
        *subject_key = ri_subject_key(fields.subject.p, fields.subject.len);
        return 0;
}

/* ---- writing ---- */

static int pwrite_all(int fd, const void *data, size_t len, uint64_t offset) {
        const uint8_t *p = data;

        while (len > 0) {
                ssize_t n = pwrite(fd, p, len, (off_t) offset);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                p += n;
                len -= (size_t) n;
                offset += (uint64_t) n;
        }
        return 0;
}

static int pread_all(int fd, void *data, size_t len, uint64_t offset) {
        uint8_t *p = data;

        while (len > 0) {
                ssize_t n = pread(fd, p, len, (off_t) offset);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EBADMSG;
                p += n;
                len -= (size_t) n;
                offset += (uint64_t) n;
        }
        return 0;
}

static void record_seal(RiRecord *rec, const RiHeader *h, uint64_t position) {
        rec->check = ri_record_check(rec, h->salt, position);
}

/* Appends one record to the log, and der (when given) to the data; on disk
 * for readers only once a header says so.  -ENOSPC when the log is full. */
static int append(IdxFile *f, RiRecord *rec, const uint8_t *der) {
        uint64_t position = f->h.n_sorted + f->n_log;
        int r;

        if (f->n_log >= f->h.log_capacity)
                return -ENOSPC;
        if (der) {
                r = pwrite_all(f->fd, der, rec->length, f->data_end);
                if (r < 0)
                        return r;
                rec->offset = f->data_end;
                f->data_end += rec->length;
        }
        record_seal(rec, &f->h, position);
        r = pwrite_all(f->fd, rec, sizeof *rec, ri_record_offset(position));
        if (r < 0)
                return r;
        f->n_log++;
        return 0;
}

/* The hash by which the header names a CRL: of its signature, which the
 * module finds without reading the entries. */
static int crl_signature_hash(const uint8_t *crl, size_t len, uint8_t ret[SHA256_DIGEST_LENGTH]) {
        const char *why;
        CrlHead head;

        if (crl_parse_head((Span) { crl, len }, &head, &why) < 0)
                return -EBADMSG;
        SHA256(head.signature.p, head.signature.len, ret);
        return 0;
}

/* Names the CRL numbered crl_number, keeping the one before it named too:
 * readers that still see the older crl.der go on taking the file. */
static void name_crl(RiHeader *h, uint64_t crl_number, const uint8_t sig[SHA256_DIGEST_LENGTH]) {
        if (crl_number != h->crl_number)
                memcpy(h->crl_sig_sha256[1], h->crl_sig_sha256[0], sizeof h->crl_sig_sha256[1]);
        memcpy(h->crl_sig_sha256[0], sig, sizeof h->crl_sig_sha256[0]);
        h->crl_number = crl_number;
}

/* What was appended reaches the disk before the header that counts it;
 * the header goes into the slot not in use, so a torn write of it leaves
 * the previous one.  sig NULL: the CRL named stays. */
static int publish_header(IdxFile *f, uint64_t crl_number, const uint8_t *sig) {
        RiHeader h = f->h;
        int slot = 1 - f->slot, r;

        if (fdatasync(f->fd) < 0)
                return -errno;
        h.seq++;
        h.n_log = f->n_log;
        h.data_end = f->data_end;
        if (sig)
                name_crl(&h, crl_number, sig);
        h.check = ri_header_check(&h);
        r = pwrite_all(f->fd, &h, sizeof h, (uint64_t) slot * RI_SLOT_SIZE);
        if (r < 0)
                return r;
        if (fdatasync(f->fd) < 0)
                return -errno;
        f->h = h;
        f->slot = slot;
        return 0;
}

static int apply_add(IdxFile *f, uint64_t key, uint64_t subject_key, const uint8_t *der, uint32_t len,
                     uint64_t crl_number) {
        RiRecord rec = { .key = key, .subject_key = subject_key, .crl_number = crl_number, .length = len };
        Cert *c = cert_find(f, key);
        int r;

        if (c && c->removed == 0) {
                c->seen = true;
                return 0;
        }
        r = append(f, &rec, der);
        if (r < 0)
                return r;
        if (c) {
                *c = (Cert) { .key = key, .subject_key = subject_key, .offset = rec.offset, .added = crl_number,
                              .length = len, .seen = true };
                return 0;
        }
        return cert_insert(f, &(Cert) { .key = key, .subject_key = subject_key, .offset = rec.offset,
                                        .added = crl_number, .length = len, .seen = true });
}

/* The record points at the DER the certificate was added with, so that a
 * reader can tell exactly which certificate leaves. */
static int apply_remove(IdxFile *f, uint64_t key, uint64_t crl_number) {
        Cert *c = cert_find(f, key);
        RiRecord rec;
        int r;

        if (!c || c->removed != 0)
                return 0;
        rec = (RiRecord) { .key = key, .subject_key = c->subject_key, .offset = c->offset,
                           .crl_number = crl_number, .length = c->length, .flags = RI_REMOVED };
        r = append(f, &rec, NULL);
        if (r < 0)
                return r;
        c->removed = crl_number;
        return 0;
}

/* ---- a whole file ---- */

static int compare_certs(const void *a, const void *b) {
        const Cert *x = a, *y = b;

        return x->key < y->key ? -1 : x->key > y->key;
}

/* Where a file of n sorted records puts its data. */
static void layout(RiHeader *h, uint64_t n_sorted) {
        uint64_t end;

        h->n_sorted = n_sorted;
        h->log_capacity = 4 * log_trigger(n_sorted);
        h->subject_offset = ri_record_offset(n_sorted + h->log_capacity);
        end = h->subject_offset + n_sorted * sizeof(uint32_t);
        h->data_offset = (end + PAGE - 1) / PAGE * PAGE;
}

/* Copies the DER of each certificate into f's data, from src_fd at its
 * offset or, without src_fd, from ders[offset]; sets the new offsets. */
static int write_data(IdxFile *f, int src_fd, const uint8_t *const *ders) {
        _cleanup_free_ uint8_t *buf = malloc(COPY_CHUNK);
        size_t used = 0;
        uint64_t at = f->h.data_offset;
        int r;

        if (!buf)
                return -ENOMEM;
        for (size_t n = 0; n < f->n_certs; n++) {
                Cert *c = &f->certs[n];

                if (used + c->length > COPY_CHUNK) {
                        if ((r = pwrite_all(f->fd, buf, used, at)) < 0)
                                return r;
                        at += used;
                        used = 0;
                }
                if (src_fd >= 0)
                        r = pread_all(src_fd, buf + used, c->length, c->offset);
                else {
                        memcpy(buf + used, ders[c->offset], c->length);
                        r = 0;
                }
                if (r < 0)
                        return r;
                c->offset = at + used;
                used += c->length;
        }
        if ((r = pwrite_all(f->fd, buf, used, at)) < 0)
                return r;
        f->data_end = at + used;
        return 0;
}

static int write_sorted(IdxFile *f) {
        _cleanup_free_ RiRecord *chunk = malloc(COPY_CHUNK);
        size_t per = COPY_CHUNK / sizeof *chunk;
        int r;

        if (!chunk)
                return -ENOMEM;
        for (size_t start = 0; start < f->n_certs; start += per) {
                size_t k = f->n_certs - start < per ? f->n_certs - start : per;

                for (size_t i = 0; i < k; i++) {
                        const Cert *c = &f->certs[start + i];

                        chunk[i] = (RiRecord) { .key = c->key, .subject_key = c->subject_key, .offset = c->offset,
                                                .crl_number = c->added, .length = c->length };
                        record_seal(&chunk[i], &f->h, start + i);
                }
                r = pwrite_all(f->fd, chunk, k * sizeof *chunk, ri_record_offset(start));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int compare_positions(const void *a, const void *b, void *userdata) {
        const Cert *certs = userdata;
        uint64_t x = certs[*(const uint32_t *) a].subject_key, y = certs[*(const uint32_t *) b].subject_key;

        return x < y ? -1 : x > y;
}

/* The sorted records' positions in subject_key order, for lookups by
 * subject.  A position is checked by the record it leads to. */
static int write_subjects(IdxFile *f) {
        _cleanup_free_ uint32_t *v = malloc((f->n_certs ? f->n_certs : 1) * sizeof *v);

        if (!v)
                return -ENOMEM;
        for (size_t n = 0; n < f->n_certs; n++)
                v[n] = (uint32_t) n;
        qsort_r(v, f->n_certs, sizeof *v, compare_positions, f->certs);
        return pwrite_all(f->fd, v, f->n_certs * sizeof *v, f->h.subject_offset);
}

/* Writes f, whose certs are set (sorted by key), into the open file
 * f->fd: data, sorted records, the removals still to come, and the first
 * header.  Not synced. */
static int write_whole(IdxFile *f, const uint8_t ca_sha256[32], uint64_t crl_number,
                       const uint8_t crl_sigs[2][32], int src_fd, const uint8_t *const *ders) {
        int r;

        f->h = (RiHeader) { .version = RI_VERSION, .record_size = RI_RECORD_SIZE };
        memcpy(f->h.crl_sig_sha256, crl_sigs, sizeof f->h.crl_sig_sha256);
        memcpy(f->h.magic, RI_MAGIC, sizeof f->h.magic);
        memcpy(f->h.ca_sha256, ca_sha256, sizeof f->h.ca_sha256);
        if (getrandom(&f->h.salt, sizeof f->h.salt, 0) != sizeof f->h.salt)
                return -errno ?: -EIO;
        layout(&f->h, f->n_certs);
        f->n_log = 0;
        if ((r = write_data(f, src_fd, ders)) < 0 || (r = write_sorted(f)) < 0 || (r = write_subjects(f)) < 0)
                return r;
        if ((r = table_rebuild(f, f->n_certs)) < 0)
                return r;
        /* removals not yet published stay as records of the log */
        for (size_t n = 0; n < f->n_certs; n++) {
                Cert *c = &f->certs[n];
                uint64_t removed = c->removed;

                if (removed == 0)
                        continue;
                c->removed = 0;
                if ((r = apply_remove(f, c->key, removed)) < 0)
                        return r;
        }
        if (ftruncate(f->fd, (off_t) f->data_end) < 0)
                return -errno;
        f->h.seq = 1;
        f->h.n_log = f->n_log;
        f->h.data_end = f->data_end;
        f->h.crl_number = crl_number;
        f->h.check = ri_header_check(&f->h);
        f->slot = 0;
        return pwrite_all(f->fd, &f->h, sizeof f->h, 0);
}

/* A new file in tmp (not yet renamed) holding certs; takes certs. */
static int build_file(int dir_fd, const uint8_t ca_sha256[32], uint64_t crl_number, const uint8_t crl_sigs[2][32],
                      Cert *certs, size_t n, int src_fd, const uint8_t *const *ders, AtomicFile *tmp,
                      IdxFile *ret) {
        IdxFile f = IDX_FILE_INIT;
        int r;

        f.certs = certs;
        f.n_certs = f.allocated = n;
        if (n > 0)
                qsort(f.certs, f.n_certs, sizeof *f.certs, compare_certs);
        r = atomic_file_open(dir_fd, RI_FILE_NAME, tmp);
        if (r < 0) {
                free(certs);
                return r;
        }
        f.fd = tmp->fd;
        r = write_whole(&f, ca_sha256, crl_number, crl_sigs, src_fd, ders);
        f.fd = -1;
        if (r < 0 || (r = atomic_file_sync(tmp)) < 0) {
                idx_file_done(&f);
                return r;
        }
        *ret = f;
        return 0;
}

/* Renames tmp over revoked.idx and gives f a descriptor of it that reads
 * too (the temporary file is write-only), checked to be the same file. */
static int install_file(int dir_fd, AtomicFile *tmp, IdxFile *f) {
        _cleanup_close_ int fd = -1;
        struct stat a, b;
        int r = atomic_file_commit(RI_FILE_NAME, tmp);

        if (r < 0)
                return r;
        if (fsync(dir_fd) < 0)
                return -errno;
        fd = openat(dir_fd, RI_FILE_NAME, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &a) < 0 || fstat(tmp->fd, &b) < 0)
                return -errno;
        if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
                return -ESTALE;
        f->fd = TAKE_FD(fd);
        return 0;
}

/* ---- compaction ---- */

/* What a compaction starts from: the certificates still listed, or taken
 * off by a CRL not yet published. */
typedef struct Snapshot {
        Cert *certs;
        size_t n;
        uint64_t n_log, n_sorted, crl_number;
        uint8_t crl_sigs[2][32];
        int fd;
} Snapshot;

static int snapshot_take(RevokedIndex *x, Snapshot *s) {
        const IdxFile *f = &x->f;

        *s = (Snapshot) { .n_log = f->n_log, .n_sorted = f->h.n_sorted, .crl_number = f->h.crl_number, .fd = -1 };
        memcpy(s->crl_sigs, f->h.crl_sig_sha256, sizeof s->crl_sigs);
        if (!(s->certs = malloc((f->n_certs ? f->n_certs : 1) * sizeof *s->certs)))
                return -ENOMEM;
        for (size_t n = 0; n < f->n_certs; n++) {
                const Cert *c = &f->certs[n];

                if (c->removed == 0 || c->removed > x->published)
                        s->certs[s->n++] = *c;
        }
        if ((s->fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 3)) < 0) {
                free(s->certs);
                return -errno;
        }
        return 0;
}

/* Appends to nf what the old file got after the snapshot. */
static int catch_up(RevokedIndex *x, const Snapshot *s, IdxFile *nf) {
        _cleanup_free_ uint8_t *der = malloc(RI_DER_MAX);
        int r;

        if (!der)
                return -ENOMEM;
        for (uint64_t i = s->n_log; i < x->f.n_log; i++) {
                RiRecord rec;

                r = pread_all(x->f.fd, &rec, sizeof rec, ri_record_offset(s->n_sorted + i));
                if (r < 0)
                        return r;
                if (rec.flags & RI_REMOVED) {
                        r = apply_remove(nf, rec.key, rec.crl_number);
                } else {
                        if (rec.length > RI_DER_MAX)
                                return -EBADMSG;
                        r = pread_all(x->f.fd, der, rec.length, rec.offset);
                        if (r >= 0)
                                r = apply_add(nf, rec.key, rec.subject_key, der, rec.length, rec.crl_number);
                }
                if (r < 0)
                        return r;
        }
        /* the CRLs the old file named, whatever was committed meanwhile */
        memcpy(nf->h.crl_sig_sha256, x->f.h.crl_sig_sha256, sizeof nf->h.crl_sig_sha256);
        nf->h.crl_number = x->f.h.crl_number;
        return publish_header(nf, x->f.h.crl_number, NULL);
}

/* The slow part runs without the lock: appends go on into the old file
 * meanwhile and are copied over at the end, under the lock. */
static int compact(RevokedIndex *x, bool locked) {
        _cleanup_(atomic_file_done) AtomicFile tmp = ATOMIC_FILE_INIT;
        IdxFile nf = IDX_FILE_INIT;
        Snapshot s;
        int r;

        r = snapshot_take(x, &s);
        if (r < 0)
                return r;
        if (!locked)
                pthread_mutex_unlock(&x->lock);
        r = build_file(x->dir_fd, x->ca_sha256, s.crl_number, s.crl_sigs, s.certs, s.n, s.fd, NULL, &tmp, &nf);
        if (!locked)
                pthread_mutex_lock(&x->lock);
        close(s.fd);
        if (r < 0)
                return log_error_errno(r, "revoked.idx: compaction failed: %m");
        nf.fd = tmp.fd;
        r = catch_up(x, &s, &nf);
        nf.fd = -1;
        if (r >= 0)
                r = install_file(x->dir_fd, &tmp, &nf);
        if (r < 0) {
                idx_file_done(&nf);
                return log_error_errno(r, "revoked.idx: compaction failed: %m");
        }
        /* a sync under way goes on with the new file: what it named stays named */
        for (size_t n = 0; n < x->f.n_certs; n++) {
                Cert *c = x->f.certs[n].seen ? cert_find(&nf, x->f.certs[n].key) : NULL;

                if (c)
                        c->seen = true;
        }
        idx_file_done(&x->f);
        x->f = nf;
        return 0;
}

static void *compact_thread(void *userdata) {
        RevokedIndex *x = userdata;
        int r;

        pthread_mutex_lock(&x->lock);
        r = compact(x, false);
        x->compact_result = r;
        x->compacting = false;
        pthread_cond_broadcast(&x->idle);
        pthread_mutex_unlock(&x->lock);
        return NULL;
}

/* With the lock held: until no compaction runs. */
static int wait_idle(RevokedIndex *x) {
        while (x->compacting)
                pthread_cond_wait(&x->idle, &x->lock);
        if (x->have_thread) {
                pthread_join(x->thread, NULL);
                x->have_thread = false;
        }
        return x->compact_result;
}

/* Before an append: the log has room, after a compaction if need be (one
 * under way first, which has four times the trigger's room to finish in). */
static int ensure_room(RevokedIndex *x) {
        if (x->f.n_log < x->f.h.log_capacity)
                return 0;
        (void) wait_idle(x);
        if (x->f.n_log < x->f.h.log_capacity)
                return 0;
        return compact(x, true);
}

/* ---- opening ---- */

static int read_records(IdxFile *f) {
        _cleanup_free_ RiRecord *chunk = malloc(COPY_CHUNK);
        size_t per = COPY_CHUNK / sizeof *chunk;
        uint64_t total = f->h.n_sorted + f->h.n_log;
        int r;

        if (!chunk)
                return -ENOMEM;
        for (uint64_t start = 0; start < total; start += per) {
                size_t k = total - start < per ? (size_t) (total - start) : per;

                if ((r = pread_all(f->fd, chunk, k * sizeof *chunk, ri_record_offset(start))) < 0)
                        return r;
                for (size_t i = 0; i < k; i++) {
                        const RiRecord *rec = &chunk[i];
                        uint64_t position = start + i;
                        Cert *c;

                        if (rec->check != ri_record_check(rec, f->h.salt, position) || rec->length > RI_DER_MAX ||
                            rec->offset < f->h.data_offset || rec->offset + rec->length > f->h.data_end)
                                return -EBADMSG;
                        c = cert_find(f, rec->key);
                        if (rec->flags & RI_REMOVED) {
                                if (c && c->removed == 0)
                                        c->removed = rec->crl_number;
                        } else if (c) {
                                *c = (Cert) { .key = rec->key, .subject_key = rec->subject_key, .offset = rec->offset,
                                              .added = rec->crl_number, .length = rec->length };
                        } else if ((r = cert_insert(f, &(Cert) { .key = rec->key, .subject_key = rec->subject_key,
                                                                 .offset = rec->offset, .added = rec->crl_number,
                                                                 .length = rec->length })) < 0)
                                return r;
                }
        }
        f->n_log = f->h.n_log;
        f->data_end = f->h.data_end;
        return 0;
}

/* The file as it is, when it is whole and the CA's. */
static int load_existing(RevokedIndex *x, IdxFile *f) {
        uint8_t page[RI_HEADER_SIZE];
        struct stat st;
        int r;

        f->fd = openat(x->dir_fd, RI_FILE_NAME, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (f->fd < 0)
                return -errno;
        if (fstat(f->fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_size < (off_t) RI_HEADER_SIZE)
                return -EBADMSG;
        r = pread_all(f->fd, page, sizeof page, 0);
        if (r < 0)
                return r;
        f->slot = ri_pick_header(page, &f->h);
        if (f->slot < 0)
                return -EBADMSG;
        if (memcmp(f->h.ca_sha256, x->ca_sha256, sizeof x->ca_sha256) != 0)
                return -EXDEV;
        if (f->h.log_capacity > UINT32_MAX || f->h.n_sorted > UINT32_MAX || f->h.n_log > f->h.log_capacity ||
            ri_record_offset(f->h.n_sorted + f->h.log_capacity) > f->h.data_offset ||
            f->h.data_offset > f->h.data_end || f->h.data_end > (uint64_t) st.st_size)
                return -EBADMSG;
        return read_records(f);
}

static int start_fresh(RevokedIndex *x) {
        _cleanup_(atomic_file_done) AtomicFile tmp = ATOMIC_FILE_INIT;
        const uint8_t none[2][32] = {};
        IdxFile f = IDX_FILE_INIT;
        int r;

        /* names no CRL: the module takes none with it until the first commit */
        r = build_file(x->dir_fd, x->ca_sha256, 0, none, NULL, 0, -1, NULL, &tmp, &f);
        if (r < 0)
                return r;
        r = install_file(x->dir_fd, &tmp, &f);
        if (r < 0) {
                idx_file_done(&f);
                return r;
        }
        x->f = f;
        return 0;
}

int revoked_index_open(int dir_fd, const uint8_t *ca_der, size_t ca_len, RevokedIndex **ret, bool *ret_fresh) {
        _cleanup_free_ RevokedIndex *x = calloc(1, sizeof *x);
        int r;

        assert(dir_fd >= 0);
        assert(ca_der);
        if (!x)
                return -ENOMEM;
        x->f = (IdxFile) IDX_FILE_INIT;
        SHA256(ca_der, ca_len, x->ca_sha256);
        if ((x->dir_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3)) < 0)
                return -errno;
        r = load_existing(x, &x->f);
        *ret_fresh = r < 0;
        if (r < 0) {
                if (r != -ENOENT)
                        log_warning_errno(r, "revoked.idx: unusable, written afresh: %m");
                idx_file_done(&x->f);
                r = start_fresh(x);
                if (r < 0) {
                        close(x->dir_fd);
                        return log_error_errno(r, "revoked.idx: cannot create: %m");
                }
        }
        pthread_mutex_init(&x->lock, NULL);
        pthread_cond_init(&x->idle, NULL);
        *ret = TAKE_PTR(x);
        return 0;
}

void revoked_index_free(RevokedIndex *x) {
        if (!x)
                return;
        pthread_mutex_lock(&x->lock);
        (void) wait_idle(x);
        pthread_mutex_unlock(&x->lock);
        idx_file_done(&x->f);
        close(x->dir_fd);
        pthread_mutex_destroy(&x->lock);
        pthread_cond_destroy(&x->idle);
        free(x);
}

/* ---- changes ---- */

static int add_locked(RevokedIndex *x, const uint8_t *der, size_t len, uint64_t crl_number) {
        uint64_t key, subject_key;
        Cert *c;
        int r;

        r = cert_keys(der, len, &key, &subject_key);
        if (r < 0)
                return r;
        c = cert_find(&x->f, key);
        if (c && c->removed == 0) {
                c->seen = true;
                return 0;
        }
        r = ensure_room(x);
        if (r < 0)
                return r;
        return apply_add(&x->f, key, subject_key, der, (uint32_t) len, crl_number);
}

int revoked_index_add(RevokedIndex *x, const uint8_t *der, size_t len, uint64_t crl_number) {
        int r;

        pthread_mutex_lock(&x->lock);
        r = add_locked(x, der, len, crl_number);
        pthread_mutex_unlock(&x->lock);
        return r;
}

int revoked_index_remove(RevokedIndex *x, const uint8_t *der, size_t len, uint64_t crl_number) {
        uint64_t key, subject_key;
        int r;

        r = cert_keys(der, len, &key, &subject_key);
        if (r < 0)
                return r;
        return revoked_index_remove_key(x, key, crl_number);
}

int revoked_index_remove_key(RevokedIndex *x, uint64_t key, uint64_t crl_number) {
        int r;

        pthread_mutex_lock(&x->lock);
        r = ensure_room(x);
        if (r >= 0)
                r = apply_remove(&x->f, key, crl_number);
        pthread_mutex_unlock(&x->lock);
        return r;
}

int revoked_index_commit(RevokedIndex *x, uint64_t crl_number, const uint8_t *crl, size_t crl_len) {
        uint8_t sig[SHA256_DIGEST_LENGTH];
        int r;

        r = crl_signature_hash(crl, crl_len, sig);
        if (r < 0)
                return r;
        pthread_mutex_lock(&x->lock);
        r = publish_header(&x->f, crl_number, sig);
        pthread_mutex_unlock(&x->lock);
        return r;
}

void revoked_index_sync_begin(RevokedIndex *x) {
        pthread_mutex_lock(&x->lock);
        /* a compaction under way goes on: it swaps files only under the lock */
        for (size_t n = 0; n < x->f.n_certs; n++)
                x->f.certs[n].seen = false;
}

int revoked_index_sync_entry(RevokedIndex *x, const uint8_t *der, size_t len, uint64_t crl_number) {
        return add_locked(x, der, len, crl_number);
}

int revoked_index_sync_end(RevokedIndex *x, uint64_t crl_number, const uint8_t *crl, size_t crl_len, int result) {
        uint8_t sig[SHA256_DIGEST_LENGTH];
        int r = result;

        if (r >= 0)
                r = crl_signature_hash(crl, crl_len, sig);
        for (size_t n = 0; r >= 0 && n < x->f.n_certs; n++) {
                Cert *c = &x->f.certs[n];

                if (c->seen || c->removed != 0)
                        continue;
                r = ensure_room(x);
                if (r >= 0)
                        r = apply_remove(&x->f, c->key, crl_number);
        }
        if (r >= 0)
                r = publish_header(&x->f, crl_number, sig);
        pthread_mutex_unlock(&x->lock);
        return r;
}

void revoked_index_published(RevokedIndex *x, uint64_t crl_number) {
        pthread_mutex_lock(&x->lock);
        if (crl_number > x->published)
                x->published = crl_number;
        if (!x->compacting && x->f.n_log >= log_trigger(x->f.h.n_sorted)) {
                (void) wait_idle(x);
                x->compacting = true;
                if (pthread_create(&x->thread, NULL, compact_thread, x) != 0) {
                        x->compacting = false;
                        log_warning("revoked.idx: cannot start a compaction: it waits for the next build");
                } else
                        x->have_thread = true;
        }
        pthread_mutex_unlock(&x->lock);
}

int revoked_index_compact(RevokedIndex *x) {
        int r;

        pthread_mutex_lock(&x->lock);
        (void) wait_idle(x);
        r = compact(x, true);
        pthread_mutex_unlock(&x->lock);
        return r;
}

int revoked_index_wait(RevokedIndex *x) {
        int r;

        pthread_mutex_lock(&x->lock);
        r = wait_idle(x);
        pthread_mutex_unlock(&x->lock);
        return r;
}

void revoked_index_counts(RevokedIndex *x, uint64_t *ret_sorted, uint64_t *ret_log) {
        pthread_mutex_lock(&x->lock);
        *ret_sorted = x->f.h.n_sorted;
        *ret_log = x->f.n_log;
        pthread_mutex_unlock(&x->lock);
}

int revoked_index_create(int dir_fd, const uint8_t *ca_der, size_t ca_len, uint64_t crl_number,
                         const uint8_t *crl, size_t crl_len, const uint8_t *const *ders, const size_t *lens,
                         size_t n) {
        _cleanup_(atomic_file_done) AtomicFile tmp = ATOMIC_FILE_INIT;
        uint8_t ca_sha256[SHA256_DIGEST_LENGTH], sigs[2][32] = {};
        IdxFile f = IDX_FILE_INIT;
        Cert *certs = malloc((n ? n : 1) * sizeof *certs);
        size_t kept = 0;
        int r;

        if (!certs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                Cert *c = &certs[kept];

                if (cert_keys(ders[i], lens[i], &c->key, &c->subject_key) < 0) {
                        free(certs);
                        return -EBADMSG;
                }
                *c = (Cert) { .key = c->key, .subject_key = c->subject_key, .offset = i, .added = crl_number,
                              .length = (uint32_t) lens[i] };
                kept++;
        }
        SHA256(ca_der, ca_len, ca_sha256);
        if (crl_signature_hash(crl, crl_len, sigs[0]) < 0) {
                free(certs);
                return -EBADMSG;
        }
        r = build_file(dir_fd, ca_sha256, crl_number, sigs, certs, kept, -1, ders, &tmp, &f);
        if (r < 0)
                return r;
        r = install_file(dir_fd, &tmp, &f);
        idx_file_done(&f);
        return r;
}
