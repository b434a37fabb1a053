/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "cleanup.h"
#include "state.h"

const char *const trust_file_names[_FILE_MAX] = {
        [FILE_CA] = "ca.pem",
        [FILE_CRL] = "crl.der",
        [FILE_INDEX] = RI_FILE_NAME,
};

/* ca.pem holds one certificate; past this something is wrong. */
#define MAX_CA_SIZE ((off_t) 1 << 20)
/* crl.der and revoked.idx are mapped, not read: only the address space
 * bounds them. */
#define MAX_MAPPED_SIZE ((off_t) 1 << 40)

DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(TrustState *, trust_state_unref)

/* ---- files ---- */

static void file_id_from_stat(const struct stat *st, FileId *ret) {
        *ret = (FileId) {
                .present = true,
                .dev = st->st_dev,
                .ino = st->st_ino,
                .size = st->st_size,
                .mtime = st->st_mtim,
        };
}

/* lstat: a symbolic link put in a file's place is a change, and is then
 * refused when opened. */
void trust_files_stat(char *const paths[_FILE_MAX], FileId ret[_FILE_MAX]) {
        struct stat st;

        for (int i = 0; i < _FILE_MAX; i++) {
                if (lstat(paths[i], &st) < 0)
                        ret[i] = (FileId) {};
                else
                        file_id_from_stat(&st, &ret[i]);
        }
}

bool file_ids_equal(const FileId a[_FILE_MAX], const FileId b[_FILE_MAX]) {
        for (int i = 0; i < _FILE_MAX; i++) {
                if (a[i].present != b[i].present)
                        return false;
                if (!a[i].present)
                        continue;
                if (a[i].dev != b[i].dev || a[i].ino != b[i].ino || a[i].size != b[i].size ||
                    a[i].mtime.tv_sec != b[i].mtime.tv_sec || a[i].mtime.tv_nsec != b[i].mtime.tv_nsec)
                        return false;
        }
        return true;
}

/* What a path that is no regular file is, for the log. */
static const char *describe_not_regular(mode_t mode) {
        if (S_ISLNK(mode))
                return "is a symbolic link, which is not followed";
        if (S_ISDIR(mode))
                return "is a directory, not a regular file";
        if (S_ISFIFO(mode))
                return "is a FIFO, not a regular file";
        if (S_ISSOCK(mode))
                return "is a socket, not a regular file";
        if (S_ISCHR(mode) || S_ISBLK(mode))
                return "is a device, not a regular file";
        return "is not a regular file";
}

/* Why open() refused path: a symbolic link (O_NOFOLLOW) or a socket
 * (ENXIO) says more by its type than by its errno. */
static const char *describe_open_error(const char *path, int error) {
        struct stat st;

        if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
                return describe_not_regular(st.st_mode);
        return strerror(error);
}

/* The module runs inside every consumer: a FIFO in a file's place must not
 * block it (O_NONBLOCK), a symbolic link there must not lead it elsewhere
 * (O_NOFOLLOW; the directory itself may be reached through links), and
 * only a regular file is used.  On failure *why says what is wrong. */
static int open_regular(const char *path, off_t max, int *ret_fd, struct stat *st, const char **why) {
        _cleanup_close_ int fd = -1;
        int r;

        fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = -errno;
                *why = r == -ENOENT ? "is missing" : describe_open_error(path, -r);
                return r;
        }
        if (fstat(fd, st) < 0) {
                r = -errno;
                *why = strerror(-r);
                return r;
        }
        if (!S_ISREG(st->st_mode)) {
                *why = describe_not_regular(st->st_mode);
                return -EBADMSG;
        }
        *why = "is too large";
        if (st->st_size > max)
                return -EFBIG;
        *ret_fd = TAKE_FD(fd);
        *why = NULL;
        return 0;
}

/* Reads the whole of fd, a regular file of st->st_size bytes. */
static int read_regular(int fd, const struct stat *st, uint8_t **ret, size_t *ret_len, const char **why) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t got = 0;

        *why = "out of memory";
        /* one spare byte: a file that grew while read shows up as too long */
        if (!(buf = malloc((size_t) st->st_size + 1)))
                return -ENOMEM;
        *why = "changed while it was read";
        for (;;) {
                ssize_t n = read(fd, buf + got, (size_t) st->st_size + 1 - got);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;

                        *why = strerror(-r);
                        return r;
                }
                if (n == 0)
                        break;
                got += (size_t) n;
                if (got > (size_t) st->st_size)
                        return -EBADMSG;
        }
        if (got != (size_t) st->st_size)
                return -EBADMSG;
        *ret = TAKE_PTR(buf);
        *ret_len = got;
        *why = NULL;
        return 0;
}

static int open_ca(const char *path, TrustFiles *f, const char **why) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        if ((r = open_regular(path, MAX_CA_SIZE, &fd, &st, why)) < 0)
                return r;
        if ((r = read_regular(fd, &st, &f->ca, &f->ca_len, why)) < 0)
                return r;
        file_id_from_stat(&st, &f->id[FILE_CA]);
        return 0;
}

/* Mapped: a CRL of a million entries is read only where its number is. */
static int open_crl(const char *path, TrustFiles *f, const char **why) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        void *p;
        int r;

        if ((r = open_regular(path, MAX_MAPPED_SIZE, &fd, &st, why)) < 0)
                return r;
        file_id_from_stat(&st, &f->id[FILE_CRL]);
        if (st.st_size == 0) {
                f->crl = (const uint8_t *) "";
                return 0;
        }
        p = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
                r = -errno;
                *why = strerror(-r);
                return r;
        }
        /* only its first and last pages are read: no read-ahead around them */
        (void) madvise(p, (size_t) st.st_size, MADV_RANDOM);
        f->crl = p;
        f->crl_len = (size_t) st.st_size;
        f->crl_mapped = true;
        return 0;
}

static int open_index(const char *path, TrustFiles *f, const char **why) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        r = open_regular(path, MAX_MAPPED_SIZE, &fd, &st, why);
        /* before the first revocation there may be no such file */
        if (r == -ENOENT) {
                *why = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        file_id_from_stat(&st, &f->id[FILE_INDEX]);
        r = index_map_open(fd, (size_t) st.st_size, &f->index, why);
        /* the file names itself in why */
        return r;
}

void trust_files_done(TrustFiles *f) {
        free(f->ca);
        f->ca = NULL;
        if (f->crl_mapped)
                munmap((void *) f->crl, f->crl_len);
        f->crl = NULL;
        f->crl_mapped = false;
        index_map_unref(f->index);
        f->index = NULL;
}

int trust_files_read(char *const paths[_FILE_MAX], TrustFiles *ret, int *bad_file, const char **why) {
        TrustFiles f = {};
        int r;

        *bad_file = FILE_CA;
        if ((r = open_ca(paths[FILE_CA], &f, why)) >= 0) {
                *bad_file = FILE_CRL;
                if ((r = open_crl(paths[FILE_CRL], &f, why)) >= 0) {
                        *bad_file = FILE_INDEX;
                        r = open_index(paths[FILE_INDEX], &f, why);
                }
        }
        if (r < 0) {
                trust_files_done(&f);
                return r;
        }
        *why = NULL;
        *ret = f;
        return 0;
}

/* ---- maps ---- */

static uint64_t mix(uint64_t x) {
        x *= RI_HASH_MUL;
        return x ^ (x >> 32);
}

static int u64map_put(U64Map *m, uint64_t key, uint32_t value);

static int u64map_grow(U64Map *m) {
        U64Map bigger = {};
        size_t slots = m->slots ? 2 * (m->mask + 1) : 64;
        int r;

        if (!(bigger.slots = calloc(slots, sizeof *bigger.slots)))
                return -ENOMEM;
        bigger.mask = slots - 1;
        for (size_t i = 0; m->slots && i <= m->mask; i++)
                if (m->slots[i].key != 0 && (r = u64map_put(&bigger, m->slots[i].key, m->slots[i].value)) < 0) {
                        free(bigger.slots);
                        return r;
                }
        free(m->slots);
        *m = bigger;
        return 0;
}

/* Sets key's value; key must not be 0. */
static int u64map_put(U64Map *m, uint64_t key, uint32_t value) {
        int r;

        if (!m->slots || 2 * (m->n + 1) > m->mask + 1)
                if ((r = u64map_grow(m)) < 0)
                        return r;
        for (size_t i = mix(key) & m->mask;; i = (i + 1) & m->mask) {
                if (m->slots[i].key == key) {
                        m->slots[i].value = value;
                        return 0;
                }
                if (m->slots[i].key == 0) {
                        m->slots[i] = (struct U64Slot) { key, value };
                        m->n++;
                        return 0;
                }
        }
}

static bool u64map_get(const U64Map *m, uint64_t key, uint32_t *ret) {
        if (!m->slots || key == 0)
                return false;
        for (size_t i = mix(key) & m->mask;; i = (i + 1) & m->mask) {
                if (m->slots[i].key == key) {
                        *ret = m->slots[i].value;
                        return true;
                }
                if (m->slots[i].key == 0)
                        return false;
        }
}

static int u64map_copy(U64Map *dst, const U64Map *src) {
        *dst = (U64Map) {};
        if (!src->slots)
                return 0;
        if (!(dst->slots = malloc((src->mask + 1) * sizeof *dst->slots)))
                return -ENOMEM;
        memcpy(dst->slots, src->slots, (src->mask + 1) * sizeof *dst->slots);
        dst->mask = src->mask;
        dst->n = src->n;
        return 0;
}

/* Keys of 0 are kept as a value no hash gives often: the map needs 0 free. */
static uint64_t nonzero(uint64_t key) {
        return key ? key : 1;
}

/* ---- the log ---- */

static void chains_done(LogChains *c) {
        free(c->heads.slots);
        free(c->prev);
}

static int chains_copy(LogChains *dst, const LogChains *src, uint64_t n, uint64_t room) {
        int r;

        if ((r = u64map_copy(&dst->heads, &src->heads)) < 0)
                return r;
        if (!(dst->prev = malloc((room ? room : 1) * sizeof *dst->prev)))
                return -ENOMEM;
        if (n)
                memcpy(dst->prev, src->prev, n * sizeof *dst->prev);
        return 0;
}

static int chains_add(LogChains *c, uint64_t key, uint64_t log_index) {
        uint32_t head = 0;

        (void) u64map_get(&c->heads, nonzero(key), &head);
        c->prev[log_index] = head;
        return u64map_put(&c->heads, nonzero(key), (uint32_t) log_index + 1);
}

/* Takes the log records past those taken already into the chains: a state
 * built after an append reads only what was appended. */
static int take_log(TrustState *s, const TrustState *prev) {
        const RiHeader *h = &s->index->h;
        int r;

        if (prev && prev->index && prev->index->h.salt == h->salt && prev->index->h.n_sorted == h->n_sorted &&
            prev->n_log <= h->n_log) {
                if ((r = chains_copy(&s->log_by_key, &prev->log_by_key, prev->n_log, h->n_log)) < 0 ||
                    (r = chains_copy(&s->log_by_subject, &prev->log_by_subject, prev->n_log, h->n_log)) < 0)
                        return r;
                s->n_log = prev->n_log;
        } else {
                if (!(s->log_by_key.prev = malloc((h->n_log ? h->n_log : 1) * sizeof(uint32_t))) ||
                    !(s->log_by_subject.prev = malloc((h->n_log ? h->n_log : 1) * sizeof(uint32_t))))
                        return -ENOMEM;
        }
        for (; s->n_log < h->n_log; s->n_log++) {
                RiRecord rec;

                /* a record that fails its check is as if it were not there */
                if (index_map_record(s->index, h->n_sorted + s->n_log, &rec) < 0) {
                        s->log_by_key.prev[s->n_log] = s->log_by_subject.prev[s->n_log] = 0;
                        continue;
                }
                if ((r = chains_add(&s->log_by_key, rec.key, s->n_log)) < 0 ||
                    (r = chains_add(&s->log_by_subject, rec.subject_key, s->n_log)) < 0)
                        return r;
        }
        return 0;
}

/* ---- entries ---- */

static Entry *ca_entry(const TrustState *s) {
        return s->entries[0];
}

static int entries_append(TrustState *s, Entry *e) {
        if (s->n_entries == s->entries_allocated) {
                size_t a = s->entries_allocated ? s->entries_allocated * 2 : 64;
                Entry **v;

                if (a > UINT32_MAX / _OBJ_MAX || !(v = realloc(s->entries, a * sizeof *v)))
                        return -ENOMEM;
                s->entries = v;
                s->entries_allocated = a;
        }
        s->entries[s->n_entries++] = e;
        return 0;
}

/* Registers e's handles: given ones (kept from an earlier state) or new. */
static int entry_register(TrustState *s, Entry *e, const CK_OBJECT_HANDLE *handles) {
        size_t n = s->n_entries;
        int r;

        for (int k = 0; k < _OBJ_MAX; k++) {
                e->handle[k] = handles ? handles[k] : (*s->next_handle)++;
                if ((r = u64map_put(&s->by_handle, e->handle[k], (uint32_t) (n * _OBJ_MAX + (size_t) k))) < 0)
                        return r;
        }
        return entries_append(s, e);
}

/* A record's certificate, parsed; false when it does not parse whole. */
static bool record_cert(const TrustState *s, const RiRecord *rec, CertFields *ret) {
        Span in = index_map_der(s->index, rec);

        return x509_parse(&in, ret) == 0 && in.len == 0;
}

/* The entry for the record at position, made on first use.  Only the CA's
 * certificates are shown, and never one with the CA's own key:
 * distrusting it would distrust the CA. */
static Entry *reach(TrustState *s, uint64_t position, const CertFields *f) {
        const Entry *ca = ca_entry(s);
        const CK_OBJECT_HANDLE *carried;
        Entry *e;
        uint32_t v;

        if (u64map_get(&s->by_record, position + 1, &v))
                return s->entries[v];
        if (!span_eq(f->issuer, ca->f.subject) || span_eq(f->spki, ca->f.spki))
                return NULL;
        if (!(e = calloc(1, sizeof *e)))
                return NULL;
        e->f = *f;
        carried = s->carry && span_eq(s->carry->f.value, f->value) ? s->carry->handle : NULL;
        if (u64map_put(&s->by_record, position + 1, (uint32_t) s->n_entries) < 0 ||
            entry_register(s, e, carried) < 0) {
                free(e);
                return NULL;
        }
        return e;
}

/* Whether a record is in force for the CRL in use. */
static bool record_current(const TrustState *s, uint64_t position, RiRecord *rec) {
        return index_map_record(s->index, position, rec) == 0 &&
               (!s->have_crl_number || rec->crl_number <= s->crl_number);
}

/* Decides with the newest record in force for issuer and serial: the log
 * from its end, then the sorted part.  *decided says whether one was. */
static Entry *decide(TrustState *s, uint64_t position, const RiRecord *rec, Span issuer, Span serial,
                     bool *decided) {
        CertFields f;

        *decided = false;
        if (!record_cert(s, rec, &f) || !span_eq(f.serial, serial) || !span_eq(f.issuer, issuer))
                return NULL;
        *decided = true;
        if (rec->flags & RI_REMOVED)
                return NULL;
        return reach(s, position, &f);
}

Entry *trust_state_lookup(TrustState *s, Span issuer, Span serial) {
        const Entry *ca = ca_entry(s);
        uint64_t key;
        uint32_t li = 0;
        bool decided;

        /* the CA wins over a certificate that claims its serial */
        if (span_eq(serial, ca->f.serial) && span_eq(issuer, ca->f.issuer))
                return s->entries[0];
        if (!s->index)
                return NULL;
        key = ri_key(issuer.p, issuer.len, serial.p, serial.len);
        (void) u64map_get(&s->log_by_key.heads, nonzero(key), &li);
        for (; li != 0; li = s->log_by_key.prev[li - 1]) {
                uint64_t position = s->index->h.n_sorted + li - 1;
                RiRecord rec;
                Entry *e;

                if (!record_current(s, position, &rec) || rec.key != key)
                        continue;
                e = decide(s, position, &rec, issuer, serial, &decided);
                if (decided)
                        return e;
        }
        for (uint64_t i = index_map_lower_bound(s->index, key); i < s->index->h.n_sorted; i++) {
                RiRecord rec;
                Entry *e;

                if (index_map_record(s->index, i, &rec) == 0 && rec.key != key)
                        break;
                if (!record_current(s, i, &rec))
                        continue;
                e = decide(s, i, &rec, issuer, serial, &decided);
                if (decided)
                        return e;
        }
        return NULL;
}

/* A record that adds a certificate is shown when it decides for it. */
static Entry *shown(TrustState *s, uint64_t position) {
        RiRecord rec;
        CertFields f;
        Entry *e;

        if (!record_current(s, position, &rec) || (rec.flags & RI_REMOVED) || !record_cert(s, &rec, &f))
                return NULL;
        e = trust_state_lookup(s, f.issuer, f.serial);
        return e && span_eq(e->f.value, f.value) ? e : NULL;
}

static int list_add_unique(Entry ***v, size_t *n, Entry *e) {
        Entry **bigger;

        for (size_t i = 0; i < *n; i++)
                if ((*v)[i] == e)
                        return 0;
        if (!(bigger = realloc(*v, (*n + 1) * sizeof *bigger)))
                return -ENOMEM;
        *v = bigger;
        (*v)[(*n)++] = e;
        return 0;
}

int trust_state_by_subject(TrustState *s, Span subject, Entry ***ret, size_t *ret_n) {
        _cleanup_free_ Entry **v = NULL;
        size_t n = 0;
        uint64_t key;
        uint32_t li = 0;
        int r;

        if (span_eq(subject, ca_entry(s)->f.subject) && (r = list_add_unique(&v, &n, s->entries[0])) < 0)
                return r;
        if (s->index) {
                key = ri_subject_key(subject.p, subject.len);
                (void) u64map_get(&s->log_by_subject.heads, nonzero(key), &li);
                for (; li != 0; li = s->log_by_subject.prev[li - 1]) {
                        Entry *e = shown(s, s->index->h.n_sorted + li - 1);

                        if (e && span_eq(e->f.subject, subject) && (r = list_add_unique(&v, &n, e)) < 0)
                                return r;
                }
                for (uint64_t p = index_map_subject_lower_bound(s->index, key), i; index_map_subject_at(s->index, p, &i);
                     p++) {
                        RiRecord rec;
                        Entry *e;

                        if (index_map_record(s->index, i, &rec) == 0 && rec.subject_key != key)
                                break;
                        e = shown(s, i);
                        if (e && span_eq(e->f.subject, subject) && (r = list_add_unique(&v, &n, e)) < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

int trust_state_reach_all(TrustState *s) {
        if (s->all_reached || !s->index)
                return 0;
        index_map_advise_all(s->index, true);
        for (uint64_t i = 0; i < s->index->h.n_sorted + s->n_log; i++)
                (void) shown(s, i);
        index_map_advise_all(s->index, false);
        s->all_reached = true;
        return 0;
}

bool trust_state_object(const TrustState *s, CK_OBJECT_HANDLE h, Entry **entry, int *kind) {
        uint32_t v;

        if (h == CK_INVALID_HANDLE || !u64map_get(&s->by_handle, h, &v))
                return false;
        *entry = s->entries[v / _OBJ_MAX];
        *kind = (int) (v % _OBJ_MAX);
        return true;
}

/* ---- building ---- */

static int load_ca(TrustState *s, const TrustFiles *files, const TrustState *prev, const char **why) {
        _cleanup_(BIO_freep) BIO *bio = NULL;
        _cleanup_(X509_freep) X509 *ca = NULL;
        _cleanup_free_ Entry *e = NULL;
        unsigned char *der = NULL;
        Span in;
        int len, r;

        *why = "ca.pem holds no PEM certificate";
        if (files->ca_len > INT_MAX || !(bio = BIO_new_mem_buf(files->ca, (int) files->ca_len)) ||
            !(ca = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
                return -EBADMSG;
        *why = "out of memory";
        if ((len = i2d_X509(ca, NULL)) <= 0 || !(s->ca_der = malloc((size_t) len)) || !(e = calloc(1, sizeof *e)))
                return -ENOMEM;
        der = s->ca_der;
        i2d_X509(ca, &der);
        in = (Span) { s->ca_der, (size_t) len };
        *why = "the CA certificate cannot be parsed";
        if (x509_parse(&in, &e->f) < 0 || in.len != 0)
                return -EBADMSG;
        e->anchor = true;
        *why = "out of memory";
        /* the same CA keeps its handles */
        if (prev && span_eq(ca_entry(prev)->f.value, e->f.value))
                r = entry_register(s, e, ca_entry(prev)->handle);
        else
                r = entry_register(s, e, NULL);
        if (r < 0)
                return r;
        TAKE_PTR(e);
        return 0;
}

/* The CRL is read only for its issuer and number: revoked.idx lists its
 * certificates.  An older CRL of the same CA may still be valid and list
 * fewer certificates: taking it would undo revocations. */
static int check_crl(TrustState *s, const TrustFiles *files, const TrustState *prev, bool verify,
                     Span *ret_signature, const char **why) {
        CrlHead head;
        bool same_ca;
        int r;

        r = crl_parse_head((Span) { files->crl, files->crl_len }, &head, why);
        if (r < 0)
                return r;
        s->crl_number = head.number;
        s->have_crl_number = verify;
        *ret_signature = head.signature;
        if (!verify)
                return 0;
        *why = "the CRL's issuer is not the CA";
        if (!span_eq(head.issuer, ca_entry(s)->f.subject))
                return -EBADMSG;
        same_ca = prev && span_eq(ca_entry(prev)->f.value, ca_entry(s)->f.value);
        *why = "the CRL number is lower than the one of the CRL in use";
        if (same_ca && prev->have_crl_number && head.number < prev->crl_number)
                return -EBADMSG;
        return 0;
}

/* revoked.idx must be the CA's and name crl.der (by its signature) as the
 * CRL it is complete for, or the one before: the daemon verified that
 * CRL's signature with the CA before it named it, so the module need not
 * hash a CRL of a million entries again in every program.  Another CRL,
 * one signed by another key or one revoked.idx does not know yet, is
 * refused. */
static int check_index(TrustState *s, const IndexMap *index, Span crl_signature, bool verify, const char **why) {
        uint8_t sha[SHA256_DIGEST_LENGTH];

        if (!verify)
                return 0;
        SHA256(crl_signature.p, crl_signature.len, sha);
        *why = "crl.der is not a CRL revoked.idx was written for";
        if (memcmp(sha, index->h.crl_sig_sha256[0], sizeof sha) != 0 &&
            memcmp(sha, index->h.crl_sig_sha256[1], sizeof sha) != 0)
                return -EBADMSG;
        SHA256(ca_entry(s)->f.value.p, ca_entry(s)->f.value.len, sha);
        *why = "revoked.idx belongs to another CA";
        if (memcmp(sha, index->h.ca_sha256, sizeof sha) != 0)
                return -EBADMSG;
        *why = "revoked.idx is older than crl.der";
        if (index->h.crl_number < s->crl_number)
                return -EBADMSG;
        return 0;
}

/* The certificates prev reached that are still shown keep their handles:
 * each is looked up again with its handles offered to reach(). */
static int carry_handles(TrustState *s, const TrustState *prev) {
        for (size_t n = 1; prev && n < prev->n_entries; n++) {
                const Entry *old = prev->entries[n];

                s->carry = old;
                (void) trust_state_lookup(s, old->f.issuer, old->f.serial);
                s->carry = NULL;
        }
        return 0;
}

static int build(TrustFiles *files, const TrustState *prev, CK_OBJECT_HANDLE *next_handle, bool verify,
                 TrustState **ret, const char **why) {
        _cleanup_(trust_state_unrefp) TrustState *s = NULL;
        Span signature;
        int r;

        *why = "out of memory";
        if (!(s = calloc(1, sizeof *s)))
                return -ENOMEM;
        s->refs = 1;
        s->own_next_handle = 1;
        s->next_handle = next_handle ? next_handle : &s->own_next_handle;
        if ((r = load_ca(s, files, prev, why)) < 0 || (r = check_crl(s, files, prev, verify, &signature, why)) < 0)
                return r;
        if (files->index) {
                if ((r = check_index(s, files->index, signature, verify, why)) < 0)
                        return r;
                s->index = TAKE_PTR(files->index);
                *why = "out of memory";
                if ((r = take_log(s, prev)) < 0 || (r = carry_handles(s, prev)) < 0)
                        return r;
        }
        *why = NULL;
        *ret = TAKE_PTR(s);
        return 0;
}

int trust_state_build(TrustFiles *files, const TrustState *prev, CK_OBJECT_HANDLE *next_handle,
                      TrustState **ret, const char **why) {
        return build(files, prev, next_handle, true, ret, why);
}

int trust_state_build_unverified(TrustFiles *files, TrustState **ret, const char **why) {
        return build(files, NULL, NULL, false, ret, why);
}

TrustState *trust_state_ref(TrustState *s) {
        s->refs++;
        return s;
}

void trust_state_unref(TrustState *s) {
        if (!s || --s->refs > 0)
                return;
        for (size_t n = 0; n < s->n_entries; n++) {
                free(s->entries[n]->label);
                free(s->entries[n]);
        }
        free(s->entries);
        free(s->by_record.slots);
        free(s->by_handle.slots);
        chains_done(&s->log_by_key);
        chains_done(&s->log_by_subject);
        index_map_unref(s->index);
        free(s->ca_der);
        free(s);
}
