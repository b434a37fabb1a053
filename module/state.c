/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "state.h"
#include "util.h"

const char *const trust_file_names[_FILE_MAX] = {
        [FILE_CA] = "ca.pem",
        [FILE_CRL] = "crl.der",
        [FILE_REVOKED] = "revoked.der",
};

/* revoked.der is the largest input; past this something is wrong. */
#define MAX_FILE_SIZE ((off_t) 1 << 31)

DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_CRL *, X509_CRL_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_INTEGER *, ASN1_INTEGER_free)
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
 * refused when read. */
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

/* Reads the whole of fd, a regular file of st->st_size bytes. */
static int read_regular(int fd, const struct stat *st, uint8_t **ret, size_t *ret_len, const char **why) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t got = 0;

        *why = "is larger than 2 GiB";
        if (st->st_size > MAX_FILE_SIZE)
                return -EFBIG;
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
        return 0;
}

/* The module runs inside every consumer: a FIFO in a file's place must not
 * block it (O_NONBLOCK), a symbolic link there must not lead it elsewhere
 * (O_NOFOLLOW; the directory itself may be reached through links), and
 * only a regular file is read.  On failure *why says what is wrong. */
static int read_file(const char *path, uint8_t **ret, size_t *ret_len, FileId *id, const char **why) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = -errno;
                *why = r == -ENOENT ? "is missing" : describe_open_error(path, -r);
                return r;
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                *why = strerror(-r);
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                *why = describe_not_regular(st.st_mode);
                return -EBADMSG;
        }
        r = read_regular(fd, &st, ret, ret_len, why);
        if (r < 0)
                return r;
        file_id_from_stat(&st, id);
        *why = NULL;
        return 0;
}

void trust_files_done(TrustFiles *f) {
        for (int i = 0; i < _FILE_MAX; i++) {
                free(f->data[i]);
                f->data[i] = NULL;
        }
}

int trust_files_read(char *const paths[_FILE_MAX], TrustFiles *ret, int *bad_file, const char **why) {
        TrustFiles f = {};
        int r = 0;

        for (int i = 0; i < _FILE_MAX; i++) {
                r = read_file(paths[i], &f.data[i], &f.len[i], &f.id[i], why);
                /* before the first revocation there may be no such file */
                if (r == -ENOENT && i == FILE_REVOKED)
                        r = 0;
                if (r < 0) {
                        *bad_file = i;
                        trust_files_done(&f);
                        return r;
                }
        }
        *why = NULL;
        *ret = f;
        return 0;
}

/* ---- hashing ---- */

#define HASH_MUL 0x9e3779b97f4a7c15ULL

/* A word-at-a-time mix; the input is the daemon's own output, so a keyed
 * hash buys nothing here. */
static uint64_t hash_span(Span s) {
        const uint8_t *p = s.p;
        size_t n = s.len;
        uint64_t h = s.len * HASH_MUL, w;

        for (; n >= 8; p += 8, n -= 8) {
                memcpy(&w, p, 8);
                h = (h ^ w) * HASH_MUL;
                h ^= h >> 29;
        }
        w = 0;
        memcpy(&w, p, n);
        h = (h ^ w) * HASH_MUL;
        return h ^ (h >> 32);
}

static uint64_t hash_handle(CK_OBJECT_HANDLE h) {
        uint64_t x = (uint64_t) h * HASH_MUL;
        return x ^ (x >> 32);
}

/* A table of at least twice as many slots as entries, a power of two. */
static int table_new(size_t n, size_t size, void **ret, size_t *mask) {
        size_t slots = 16;

        while (slots < 2 * n)
                slots *= 2;
        if (!(*ret = calloc(slots, size)))
                return -ENOMEM;
        *mask = slots - 1;
        return 0;
}

/* ---- lookups ---- */

/* Only the serial is hashed: every certificate here has the CA as issuer,
 * so the issuer would add time and no spread; it is compared instead. */
Entry *trust_state_lookup(const TrustState *s, Span issuer, Span serial) {
        if (!s->by_key)
                return NULL;
        for (size_t i = hash_span(serial) & s->key_mask;; i = (i + 1) & s->key_mask) {
                uint32_t v = s->by_key[i];
                Entry *e;

                if (v == 0)
                        return NULL;
                e = &s->entries[v - 1];
                if (span_eq(e->f.serial, serial) && span_eq(e->f.issuer, issuer))
                        return e;
        }
}

Entry *trust_state_first_by_subject(const TrustState *s, Span subject) {
        if (!s->by_subject)
                return NULL;
        for (size_t i = hash_span(subject) & s->subject_mask;; i = (i + 1) & s->subject_mask) {
                uint32_t v = s->by_subject[i];

                if (v == 0)
                        return NULL;
                if (span_eq(s->entries[v - 1].f.subject, subject))
                        return &s->entries[v - 1];
        }
}

bool trust_state_object(const TrustState *s, CK_OBJECT_HANDLE h, Entry **entry, int *kind) {
        if (!s->by_handle || h == CK_INVALID_HANDLE)
                return false;
        for (size_t i = hash_handle(h) & s->handle_mask;; i = (i + 1) & s->handle_mask) {
                const struct HandleSlot *slot = &s->by_handle[i];

                if (slot->handle == CK_INVALID_HANDLE)
                        return false;
                if (slot->handle == h) {
                        *entry = &s->entries[slot->object / _OBJ_MAX];
                        *kind = (int) (slot->object % _OBJ_MAX);
                        return true;
                }
        }
}

/* ---- building ---- */

/* Adds entry n unless one with its issuer and serial is there already. */
static bool index_add_unique(TrustState *s, size_t n) {
        const Entry *e = &s->entries[n];
        size_t i = hash_span(e->f.serial) & s->key_mask;

        for (; s->by_key[i] != 0; i = (i + 1) & s->key_mask) {
                const Entry *o = &s->entries[s->by_key[i] - 1];

                if (span_eq(o->f.serial, e->f.serial) && span_eq(o->f.issuer, e->f.issuer))
                        return false;
        }
        s->by_key[i] = (uint32_t) n + 1;
        return true;
}

/* Indexes the entries by issuer and serial, keeping the first of each; the
 * CA, first, wins over a certificate that claims its serial. */
static int index_unique(TrustState *s) {
        size_t kept = 0;
        int r;

        if ((r = table_new(s->n_entries, sizeof *s->by_key, (void **) &s->by_key, &s->key_mask)) < 0)
                return r;
        for (size_t n = 0; n < s->n_entries; n++) {
                s->entries[kept] = s->entries[n];
                if (index_add_unique(s, kept))
                        kept++;
        }
        s->n_entries = kept;
        return 0;
}

static int index_by_subject(TrustState *s) {
        int r;

        if ((r = table_new(s->n_entries, sizeof *s->by_subject, (void **) &s->by_subject,
                           &s->subject_mask)) < 0)
                return r;
        /* backwards, so that each chain lists entries in file order */
        for (size_t n = s->n_entries; n-- > 0;) {
                Entry *e = &s->entries[n];
                size_t i = hash_span(e->f.subject) & s->subject_mask;

                for (; s->by_subject[i] != 0; i = (i + 1) & s->subject_mask)
                        if (span_eq(s->entries[s->by_subject[i] - 1].f.subject, e->f.subject))
                                break;
                e->next_same_subject = s->by_subject[i];
                s->by_subject[i] = (uint32_t) n + 1;
        }
        return 0;
}

/* Gives every object a handle: the one it had in prev when prev showed the
 * same certificate, else a new one, so handles a caller holds stay good
 * across reloads for as long as their object exists. */
static int assign_handles(TrustState *s, const TrustState *prev, CK_OBJECT_HANDLE *next_handle) {
        int r;

        if ((r = table_new(s->n_entries * _OBJ_MAX, sizeof *s->by_handle, (void **) &s->by_handle,
                           &s->handle_mask)) < 0)
                return r;
        for (size_t n = 0; n < s->n_entries; n++) {
                Entry *e = &s->entries[n];
                const Entry *old = prev ? trust_state_lookup(prev, e->f.issuer, e->f.serial) : NULL;

                for (int k = 0; k < _OBJ_MAX; k++) {
                        size_t i;

                        if (old && old->anchor == e->anchor && span_eq(old->f.value, e->f.value))
                                e->handle[k] = old->handle[k];
                        else
                                e->handle[k] = (*next_handle)++;
                        i = hash_handle(e->handle[k]) & s->handle_mask;
                        while (s->by_handle[i].handle != CK_INVALID_HANDLE)
                                i = (i + 1) & s->handle_mask;
                        s->by_handle[i] = (struct HandleSlot) { e->handle[k], (uint32_t) (n * _OBJ_MAX + (size_t) k) };
                }
        }
        return 0;
}

static int load_ca(TrustState *s, const TrustFiles *files, X509 **ret, const char **why) {
        _cleanup_(BIO_freep) BIO *bio = NULL;
        _cleanup_(X509_freep) X509 *ca = NULL;
        unsigned char *der = NULL;
        Span in;
        int len;

        *why = "ca.pem holds no PEM certificate";
        if (files->len[FILE_CA] > INT_MAX ||
            !(bio = BIO_new_mem_buf(files->data[FILE_CA], (int) files->len[FILE_CA])) ||
            !(ca = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
                return -EBADMSG;
        if ((len = i2d_X509(ca, NULL)) <= 0 || !(s->ca_der = malloc((size_t) len)))
                return -ENOMEM;
        der = s->ca_der;
        i2d_X509(ca, &der);
        in = (Span) { s->ca_der, (size_t) len };
        *why = "the CA certificate cannot be parsed";
        if (x509_parse(&in, &s->entries[0].f) < 0 || in.len != 0)
                return -EBADMSG;
        s->entries[0].anchor = true;
        s->n_entries = 1;
        *ret = TAKE_PTR(ca);
        return 0;
}

static int load_crl(const TrustFiles *files, X509 *ca, bool verify, X509_CRL **ret, const char **why) {
        _cleanup_(X509_CRL_freep) X509_CRL *crl = NULL;
        const unsigned char *p = files->data[FILE_CRL];
        long len = (long) files->len[FILE_CRL];

        *why = "crl.der is not a DER CRL";
        if (files->len[FILE_CRL] > LONG_MAX || !(crl = d2i_X509_CRL(NULL, &p, len)) ||
            p != files->data[FILE_CRL] + len)
                return -EBADMSG;
        *why = "crl.der is not a version 2 CRL";
        if (X509_CRL_get_version(crl) != 1)
                return -EBADMSG;
        /* a delta CRL lists only changes: the set would look shorter than it is */
        *why = "crl.der is a delta CRL";
        if (X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1) >= 0)
                return -EBADMSG;
        if (verify) {
                *why = "the CRL's issuer is not the CA";
                if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca)) != 0)
                        return -EBADMSG;
                *why = "the CRL's signature does not verify with the CA's key";
                if (X509_CRL_verify(crl, X509_get0_pubkey(ca)) != 1)
                        return -EBADMSG;
        }
        *ret = TAKE_PTR(crl);
        return 0;
}

/* An older CRL of the same CA may be valid and still list fewer
 * certificates: taking it would undo revocations. */
static int check_crl_number(TrustState *s, X509_CRL *crl, const TrustState *prev, const char **why) {
        _cleanup_(ASN1_INTEGER_freep) ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
        bool same_ca = prev && prev->n_entries > 0 && span_eq(prev->entries[0].f.value, s->entries[0].f.value);

        if (same_ca && prev->crl_number) {
                *why = "the CRL number is lower than the one of the CRL in use";
                if (!num || ASN1_INTEGER_cmp(num, prev->crl_number) < 0)
                        return -EBADMSG;
        }
        s->crl_number = TAKE_PTR(num);
        return 0;
}

/* Takes the certificates of revoked.der issued by the CA into entries[1..]. */
static int parse_revoked(TrustState *s, const TrustFiles *files, const char **why) {
        Span in = { s->revoked, files->len[FILE_REVOKED] };
        size_t allocated = 1;

        while (in.len > 0) {
                Entry *e;

                if (s->n_entries == allocated) {
                        Entry *v;

                        allocated = allocated < 1024 ? 1024 : allocated * 2;
                        *why = "out of memory";
                        if (allocated > UINT32_MAX / _OBJ_MAX || !(v = realloc(s->entries, allocated * sizeof *v)))
                                return -ENOMEM;
                        s->entries = v;
                }
                e = &s->entries[s->n_entries];
                *e = (Entry) {};
                *why = "revoked.der holds something other than DER certificates";
                if (x509_parse(&in, &e->f) < 0)
                        return -EBADMSG;
                /* not the CA's: another CA's serials mean nothing here; the
                 * CA's own key: distrusting it would distrust the CA */
                if (!span_eq(e->f.issuer, s->entries[0].f.subject) || span_eq(e->f.spki, s->entries[0].f.spki))
                        continue;
                s->n_entries++;
        }
        return 0;
}

/* Keeps the revoked certificates whose serial the CRL lists. */
static int keep_listed(TrustState *s, X509_CRL *crl) {
        STACK_OF(X509_REVOKED) *list = X509_CRL_get_REVOKED(crl);
        _cleanup_free_ bool *listed = calloc(s->n_entries, sizeof *listed);
        size_t kept = 1;

        if (!listed)
                return -ENOMEM;
        for (int i = 0; i < sk_X509_REVOKED_num(list); i++) {
                const ASN1_INTEGER *serial = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(list, i));
                /* RFC 5280 serials have at most 20 octets; longer ones get
                 * a buffer of their own */
                unsigned char buf[64], *p = buf, *der = buf;
                int len = i2d_ASN1_INTEGER(serial, NULL);
                Entry *e;

                if (len <= 0)
                        continue;
                if (len > (int) sizeof buf) {
                        der = NULL;
                        if (i2d_ASN1_INTEGER(serial, &der) != len) {
                                OPENSSL_free(der);
                                return -ENOMEM;
                        }
                } else
                        i2d_ASN1_INTEGER(serial, &p);
                e = trust_state_lookup(s, s->entries[0].f.subject, (Span) { der, (size_t) len });
                if (e && !e->anchor)
                        listed[e - s->entries] = true;
                if (der != buf)
                        OPENSSL_free(der);
        }
        for (size_t n = 1; n < s->n_entries; n++)
                if (listed[n])
                        s->entries[kept++] = s->entries[n];
        if (kept == s->n_entries)
                return 0;
        s->n_entries = kept;
        free(s->by_key);
        s->by_key = NULL;
        return index_unique(s);
}

static int build(TrustFiles *files, const TrustState *prev, CK_OBJECT_HANDLE *next_handle, bool verify,
                 TrustState **ret, const char **why) {
        _cleanup_(trust_state_unrefp) TrustState *s = NULL;
        _cleanup_(X509_freep) X509 *ca = NULL;
        _cleanup_(X509_CRL_freep) X509_CRL *crl = NULL;
        int r;

        *why = "out of memory";
        if (!(s = calloc(1, sizeof *s)) || !(s->entries = calloc(1, sizeof *s->entries)))
                return -ENOMEM;
        s->refs = 1;
        s->revoked = TAKE_PTR(files->data[FILE_REVOKED]);
        if ((r = load_ca(s, files, &ca, why)) < 0 ||
            (r = load_crl(files, ca, verify, &crl, why)) < 0 ||
            (verify && (r = check_crl_number(s, crl, prev, why)) < 0) ||
            (r = parse_revoked(s, files, why)) < 0)
                return r;
        *why = "out of memory";
        if ((r = index_unique(s)) < 0 || (r = keep_listed(s, crl)) < 0 || (r = index_by_subject(s)) < 0 ||
            (r = assign_handles(s, prev, next_handle)) < 0)
                return r;
        *why = NULL;
        *ret = TAKE_PTR(s);
        return 0;
}

int trust_state_build(TrustFiles *files, const TrustState *prev, CK_OBJECT_HANDLE *next_handle,
                      TrustState **ret, const char **why) {
        return build(files, prev, next_handle, true, ret, why);
}

int trust_state_build_unverified(TrustFiles *files, TrustState **ret, const char **why) {
        CK_OBJECT_HANDLE next = 1;

        return build(files, NULL, &next, false, ret, why);
}

TrustState *trust_state_ref(TrustState *s) {
        s->refs++;
        return s;
}

void trust_state_unref(TrustState *s) {
        if (!s || --s->refs > 0)
                return;
        for (size_t n = 0; n < s->n_entries; n++)
                free(s->entries[n].label);
        free(s->entries);
        free(s->by_key);
        free(s->by_subject);
        free(s->by_handle);
        free(s->ca_der);
        free(s->revoked);
        ASN1_INTEGER_free(s->crl_number);
        free(s);
}
