/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CRL, written as DER by hand.  OpenSSL's X509_CRL keeps an object per
 * revoked certificate and sorts them, which costs seconds and hundreds of
 * megabytes for a million entries; here the exact size is computed first,
 * one buffer is allocated and TBSCertList is written straight into it.
 * OpenSSL is used for the signature, the issuer name and the check of the
 * result only. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "atomic-file.h"
#include "crl.h"
#include "log.h"
#include "util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(ECDSA_SIG *, ECDSA_SIG_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(P11KitUri *, p11_kit_uri_free)

/* ---------------------------------------------------------------- reasons */

static const char *const reason_names[] = {
        [CRL_REASON_UNSPECIFIED] = "unspecified",
        [CRL_REASON_KEY_COMPROMISE] = "keyCompromise",
        [CRL_REASON_CA_COMPROMISE] = "CACompromise",
        [CRL_REASON_AFFILIATION_CHANGED] = "affiliationChanged",
        [CRL_REASON_SUPERSEDED] = "superseded",
        [CRL_REASON_CESSATION_OF_OPERATION] = "cessationOfOperation",
        [CRL_REASON_CERTIFICATE_HOLD] = "certificateHold",
        [CRL_REASON_REMOVE_FROM_CRL] = "removeFromCRL",
        [CRL_REASON_PRIVILEGE_WITHDRAWN] = "privilegeWithdrawn",
        [CRL_REASON_AA_COMPROMISE] = "AACompromise",
};

int crl_reason_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        if (!*s)
                return CRL_REASON_UNSPECIFIED;
        for (size_t i = 0; i < ELEMENTSOF(reason_names); i++)
                if (reason_names[i] && strcmp(reason_names[i], s) == 0)
                        return (int) i;
        return -EINVAL;
}

const char *crl_reason_to_string(int reason) {
        if (reason == CRL_REASON_NONE)
                return reason_names[CRL_REASON_UNSPECIFIED];
        if (reason < 0 || (size_t) reason >= ELEMENTSOF(reason_names))
                return NULL;
        return reason_names[reason];
}

/* removeFromCRL belongs to delta CRLs only (RFC 5280 §5.3.1); this is a full one. */
static bool reason_valid(int reason) {
        return reason == CRL_REASON_NONE ||
               (crl_reason_to_string(reason) && reason != CRL_REASON_REMOVE_FROM_CRL);
}

/* RFC 5280 §5.3.1: leave the extension out rather than say "unspecified". */
static bool reason_in_entry(int reason) {
        return reason > CRL_REASON_UNSPECIFIED;
}

/* ---------------------------------------------------------------- DER */

static size_t len_size(size_t n) {
        return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 5;
}

static size_t tlv_size(size_t n) {
        return 1 + len_size(n) + n;
}

static uint8_t *put_header(uint8_t *p, uint8_t tag, size_t n) {
        size_t k = len_size(n) - 1;

        *p++ = tag;
        if (k == 0) {
                *p++ = (uint8_t) n;
                return p;
        }
        *p++ = (uint8_t) (0x80 | k);
        while (k > 0)
                *p++ = (uint8_t) (n >> (8 * --k));
        return p;
}

static uint8_t *put(uint8_t *p, const void *data, size_t n) {
        memcpy(p, data, n);
        return p + n;
}

/* The minimal two's-complement content of a non-negative INTEGER. */
static size_t uint_bytes(uint64_t v, uint8_t out[static 9]) {
        uint8_t be[9] = {};
        size_t start = 0;

        for (int i = 0; i < 8; i++)
                be[1 + i] = (uint8_t) (v >> (56 - 8 * i));
        /* a leading 00 stays only where the next top bit would make it negative */
        while (start < 8 && be[start] == 0 && !(be[start + 1] & 0x80))
                start++;
        memcpy(out, be + start, 9 - start);
        return 9 - start;
}

static const uint8_t der_version_v2[] = { 0x02, 0x01, 0x01 };
static const uint8_t alg_rsa_sha256[] = {       /* sha256WithRSAEncryption, NULL parameters */
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
};
static const uint8_t alg_ecdsa_sha256[] = {     /* ecdsa-with-SHA256, parameters absent */
        0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
};
static const uint8_t oid_aki[] = { 0x06, 0x03, 0x55, 0x1d, 0x23 };
static const uint8_t oid_crl_number[] = { 0x06, 0x03, 0x55, 0x1d, 0x14 };
/* crlEntryExtensions { Extension { cRLReason, OCTET STRING { ENUMERATED … } } };
 * the reason octet follows. */
static const uint8_t reason_ext[] = {
        0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01,
};
#define REASON_EXT_SIZE (sizeof reason_ext + 1)

/* ---------------------------------------------------------------- serials */

/* 1 + the value of a hex digit, 0 for any other byte */
static const uint8_t hex_value[256] = {
        ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
        ['8'] = 9,  ['9'] = 10, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
        ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};
#define SERIAL_MAX_DIGITS 64

typedef struct Serial {
        const char *digits;     /* leading zeros dropped */
        size_t n_digits;
        size_t len;             /* INTEGER content octets */
} Serial;

static int serial_parse(const char *s, Serial *ret) {
        size_t n = 0, bytes;
        unsigned first;

        if (!s)
                return -EINVAL;
        for (; s[n]; n++)
                if (n >= SERIAL_MAX_DIGITS || !hex_value[(uint8_t) s[n]])
                        return -EINVAL;
        if (n == 0)
                return -EINVAL;
        for (; n > 1 && *s == '0'; s++, n--)
                ;
        bytes = (n + 1) / 2;
        first = n % 2 ? hex_value[(uint8_t) s[0]] - 1u
                      : (hex_value[(uint8_t) s[0]] - 1u) << 4 | (hex_value[(uint8_t) s[1]] - 1u);
        /* a serial is positive: a set top bit needs a 00 in front */
        *ret = (Serial) { .digits = s, .n_digits = n, .len = bytes + (first >= 0x80) };
        return 0;
}

static uint8_t *put_serial(uint8_t *p, const Serial *sr) {
        const uint8_t *d = (const uint8_t *) sr->digits;
        size_t n = sr->n_digits;

        p = put_header(p, 0x02, sr->len);
        if (sr->len > (n + 1) / 2)
                *p++ = 0;
        if (n % 2) {
                *p++ = (uint8_t) (hex_value[*d++] - 1);
                n--;
        }
        for (; n > 0; d += 2, n -= 2)
                *p++ = (uint8_t) ((hex_value[d[0]] - 1) << 4 | (hex_value[d[1]] - 1));
        return p;
}

/* ---------------------------------------------------------------- times */

#define UTC_TIME_END 2524608000ULL      /* 2050-01-01T00:00:00Z: GeneralizedTime from then on */
#define TIME_MAX 253402300799ULL        /* 9999-12-31T23:59:59Z */

typedef struct TimeCache {
        uint64_t day;                   /* of date[], UINT64_MAX before the first */
        uint8_t date[8];                /* YYYYMMDD */
} TimeCache;

static size_t time_size(uint64_t sec) {
        return sec < UTC_TIME_END ? 15 : 17;
}

static void put_2digits(uint8_t *p, unsigned v) {
        p[0] = (uint8_t) ('0' + v / 10);
        p[1] = (uint8_t) ('0' + v % 10);
}

static uint8_t *put_time(TimeCache *c, uint64_t sec, uint8_t *p) {
        uint64_t day = sec / 86400;
        unsigned s = (unsigned) (sec % 86400);

        /* revocations come in bursts: the calendar is worked out once a day,
         * the time of day is plain arithmetic */
        if (day != c->day) {
                time_t t = (time_t) (day * 86400);
                struct tm tm = {};
                unsigned year;

                (void) gmtime_r(&t, &tm);
                year = (unsigned) tm.tm_year + 1900;
                put_2digits(c->date, year / 100);
                put_2digits(c->date + 2, year % 100);
                put_2digits(c->date + 4, (unsigned) tm.tm_mon + 1);
                put_2digits(c->date + 6, (unsigned) tm.tm_mday);
                c->day = day;
        }
        if (sec < UTC_TIME_END) {
                p = put_header(p, 0x17, 13);
                p = put(p, c->date + 2, 6);
        } else {
                p = put_header(p, 0x18, 15);
                p = put(p, c->date, 8);
        }
        put_2digits(p, s / 3600);
        put_2digits(p + 2, s / 60 % 60);
        put_2digits(p + 4, s % 60);
        p[6] = 'Z';
        return p + 7;
}

/* ---------------------------------------------------------------- entries */

static size_t entry_content(const Serial *sr, uint64_t sec, int reason) {
        return tlv_size(sr->len) + time_size(sec) + (reason_in_entry(reason) ? REASON_EXT_SIZE : 0);
}

/* First pass: checks every entry and adds up the revokedCertificates content. */
static int entries_size(const CrlEntry *e, size_t n, size_t *ret) {
        size_t total = 0;
        Serial sr;

        for (size_t i = 0; i < n; i++) {
                uint64_t sec = e[i].revoked_usec / USEC_PER_SEC;

                if (serial_parse(e[i].serial, &sr) < 0)
                        return log_error_errno(-EINVAL, "crl: entry %zu: bad serial \"%s\"", i,
                                               e[i].serial ?: "(null)");
                if (sec > TIME_MAX)
                        return log_error_errno(-EINVAL, "crl: entry %zu (%s): revocation date out of range",
                                               i, e[i].serial);
                if (!reason_valid(e[i].reason))
                        return log_error_errno(-EINVAL, "crl: entry %zu (%s): reason %d cannot be on a CRL",
                                               i, e[i].serial, e[i].reason);
                total += tlv_size(entry_content(&sr, sec, e[i].reason));
        }
        *ret = total;
        return 0;
}

/* Second pass: the entries exactly as sized by the first. */
static uint8_t *put_entries(uint8_t *p, const CrlEntry *e, size_t n) {
        TimeCache tc = { .day = UINT64_MAX };
        Serial sr;

        for (size_t i = 0; i < n; i++) {
                uint64_t sec = e[i].revoked_usec / USEC_PER_SEC;

                (void) serial_parse(e[i].serial, &sr);
                p = put_header(p, 0x30, entry_content(&sr, sec, e[i].reason));
                p = put_serial(p, &sr);
                p = put_time(&tc, sec, p);
                if (reason_in_entry(e[i].reason)) {
                        p = put(p, reason_ext, sizeof reason_ext);
                        *p++ = (uint8_t) e[i].reason;
                }
        }
        return p;
}

/* ---------------------------------------------------------------- CRL extensions */

/* The keyIdentifier the CA's certificates carry, or RFC 5280 §4.2.1.2
 * method 1 (SHA-1 of the public key bits) when it has no SKI. */
static int ca_key_id(X509 *ca, uint8_t id[static EVP_MAX_MD_SIZE], size_t *ret_len) {
        const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca);
        unsigned int n = 0;

        if (ski && ASN1_STRING_length(ski) > 0 && ASN1_STRING_length(ski) <= EVP_MAX_MD_SIZE) {
                *ret_len = (size_t) ASN1_STRING_length(ski);
                memcpy(id, ASN1_STRING_get0_data(ski), *ret_len);
                return 0;
        }
        if (!X509_pubkey_digest(ca, EVP_sha1(), id, &n))
                return -EINVAL;
        *ret_len = n;
        return 0;
}

/* crlExtensions [0] EXPLICIT SEQUENCE { authorityKeyIdentifier, cRLNumber },
 * both non-critical. */
static int make_extensions(X509 *ca, uint64_t number, uint8_t **ret, size_t *ret_len) {
        uint8_t id[EVP_MAX_MD_SIZE], num[9], *buf, *p;
        size_t id_len, num_len = uint_bytes(number, num);
        size_t aki_seq, aki_ext, num_ext, seq;

        if (ca_key_id(ca, id, &id_len) < 0)
                return log_error_errno(-EINVAL, "crl: cannot work out the CA's key identifier");
        aki_seq = tlv_size(id_len);
        aki_ext = sizeof oid_aki + tlv_size(tlv_size(aki_seq));
        num_ext = sizeof oid_crl_number + tlv_size(tlv_size(num_len));
        seq = tlv_size(aki_ext) + tlv_size(num_ext);
        *ret_len = tlv_size(tlv_size(seq));
        if (!(buf = malloc(*ret_len)))
                return -ENOMEM;
        p = put_header(buf, 0xa0, tlv_size(seq));
        p = put_header(p, 0x30, seq);
        p = put_header(p, 0x30, aki_ext);
        p = put(p, oid_aki, sizeof oid_aki);
        p = put_header(p, 0x04, tlv_size(aki_seq));
        p = put_header(p, 0x30, aki_seq);
        p = put_header(p, 0x80, id_len);
        p = put(p, id, id_len);
        p = put_header(p, 0x30, num_ext);
        p = put(p, oid_crl_number, sizeof oid_crl_number);
        p = put_header(p, 0x04, tlv_size(num_len));
        p = put_header(p, 0x02, num_len);
        put(p, num, num_len);
        *ret = buf;
        return 0;
}

/* ---------------------------------------------------------------- errors for the administrator */

static int fail(char **error, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char **error, int r, const char *fmt, ...) {
        va_list ap;

        if (error && !*error) {
                va_start(ap, fmt);
                if (vasprintf(error, fmt, ap) < 0)
                        *error = NULL;
                va_end(ap);
        }
        ERR_clear_error();
        return r;
}

static void pin_freep(char **pin) {
        if (*pin) {
                erase_memory(*pin, strlen(*pin));
                free(*pin);
        }
}

/* The first line of a file, without its line end. */
static int read_first_line(const char *path, char **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        char buf[256];
        size_t n = 0;
        ssize_t k;

        if (fd < 0)
                return -errno;
        while (n < sizeof buf - 1 && (k = read(fd, buf + n, sizeof buf - 1 - n)) != 0) {
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        erase_memory(buf, sizeof buf);
                        return -errno;
                }
                n += (size_t) k;
        }
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        n = strlen(buf);
        if (n > 0 && buf[n - 1] == '\r')
                buf[--n] = 0;
        *ret = n == sizeof buf - 1 ? NULL : strdup(buf);
        erase_memory(buf, sizeof buf);
        if (n == sizeof buf - 1)
                return -E2BIG;
        return *ret ? 0 : -ENOMEM;
}

/* ---------------------------------------------------------------- the signer */

typedef struct Token {
        CK_FUNCTION_LIST *module;
        CK_SESSION_HANDLE session;
        bool has_session;
        CK_OBJECT_HANDLE key;
        CK_MECHANISM_TYPE mechanism;
} Token;

struct CrlSigner {
        int key_type;                   /* EVP_PKEY_RSA or EVP_PKEY_EC, as the CA's */
        EVP_PKEY *pkey;                 /* a PEM key, or NULL for a token */
        Token token;
        char *key, *pin_file;           /* to open the token again; never the PIN itself */
};

/* A module loaded here, finalised when let go. */
static void module_drop(CK_FUNCTION_LIST *m) {
        p11_kit_module_finalize(m);
        p11_kit_module_release(m);
}

static void token_close(Token *t) {
        if (t->has_session)
                t->module->C_CloseSession(t->session);
        if (t->module)
                module_drop(t->module);
        *t = (Token) {};
}

void crl_signer_free(CrlSigner *s) {
        if (!s)
                return;
        token_close(&s->token);
        EVP_PKEY_free(s->pkey);
        free(s->key);
        free(s->pin_file);
        free(s);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(CrlSigner *, crl_signer_free)

static int verify_signature(EVP_PKEY *pub, const uint8_t *data, size_t len, const uint8_t *sig, size_t sig_len) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        int ok;

        if (!ctx || EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) != 1)
                return -ENOMEM;
        ok = EVP_DigestVerify(ctx, sig, sig_len, data, len) == 1;
        ERR_clear_error();
        return ok ? 0 : -EKEYREJECTED;
}

static int pem_sign(EVP_PKEY *key, const uint8_t *data, size_t len, uint8_t *sig, size_t *sig_len) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        /* RSA keys default to PKCS#1 v1.5 padding */
        if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
            EVP_DigestSign(ctx, sig, sig_len, data, len) != 1) {
                ERR_clear_error();
                return -EIO;
        }
        return 0;
}

typedef struct Passphrase {
        const char *value;
} Passphrase;

/* Never prompts: a daemon has no terminal. */
static int passphrase_cb(char *buf, int size, int rwflag, void *userdata) {
        const Passphrase *p = userdata;
        size_t n;

        (void) rwflag;
        if (!p || !p->value || (n = strlen(p->value)) >= (size_t) size)
                return -1;
        memcpy(buf, p->value, n);
        return (int) n;
}

static int pem_open(CrlSigner *s, X509 *ca, char **error) {
        _cleanup_(pin_freep) char *pass = NULL;
        _cleanup_(fclosep) FILE *f = NULL;
        Passphrase pp = {};
        int r;

        if (s->pin_file && (r = read_first_line(s->pin_file, &pass)) < 0)
                return fail(error, r, "cannot read the passphrase file %s: %s", s->pin_file, strerror(-r));
        pp.value = pass;
        if (!(f = fopen(s->key, "re")))
                return fail(error, -errno, "cannot open the key %s: %m", s->key);
        s->pkey = PEM_read_PrivateKey(f, NULL, passphrase_cb, &pp);
        if (!s->pkey)
                return fail(error, -EINVAL, "%s holds no PEM private key%s", s->key,
                            pass ? " (or the passphrase is wrong)" : " (an encrypted key needs a passphrase file)");
        if (EVP_PKEY_eq(s->pkey, X509_get0_pubkey(ca)) != 1)
                return fail(error, -EKEYREJECTED, "the key %s does not belong to the CA certificate", s->key);
        return 0;
}

/* -------- PKCS#11 */

/* Every module that may hold the key, NULL-terminated. */
static int modules_load(P11KitUri *uri, CK_FUNCTION_LIST ***ret, char **error) {
        const char *path = p11_kit_uri_get_module_path(uri);
        CK_FUNCTION_LIST **v;
        CK_RV rv;

        if (!path) {
                if (!(*ret = p11_kit_modules_load_and_initialize(0)))
                        return fail(error, -EIO, "cannot load the p11-kit registered modules: %s",
                                    p11_kit_message() ?: "unknown error");
                return 0;
        }
        if (!(v = calloc(2, sizeof *v)))
                return -ENOMEM;
        if (!(v[0] = p11_kit_module_load(path, 0))) {
                free(v);
                return fail(error, -ENOENT, "cannot load the PKCS#11 module %s: %s", path,
                            p11_kit_message() ?: "unknown error");
        }
        if ((rv = p11_kit_module_initialize(v[0])) != CKR_OK) {
                p11_kit_module_release(v[0]);
                free(v);
                return fail(error, -EIO, "cannot initialise the PKCS#11 module %s: %s", path, p11_kit_strerror(rv));
        }
        *ret = v;
        return 0;
}

static void modules_freep(CK_FUNCTION_LIST ***v) {
        if (!*v)
                return;
        for (CK_FUNCTION_LIST **m = *v; *m; m++)
                module_drop(*m);
        free(*v);
}

static bool module_matches(P11KitUri *uri, CK_FUNCTION_LIST *m) {
        const char *want = p11_kit_uri_get_module_name(uri);
        char *name;
        CK_INFO info;
        bool ok;

        if (m->C_GetInfo(&info) != CKR_OK || !p11_kit_uri_match_module_info(uri, &info))
                return false;
        if (!want)
                return true;
        name = p11_kit_module_get_name(m);
        ok = streq_ptr(name, want);
        free(name);
        return ok;
}

static bool slot_matches(P11KitUri *uri, CK_FUNCTION_LIST *m, CK_SLOT_ID slot, CK_TOKEN_INFO *ti) {
        CK_SLOT_ID want = p11_kit_uri_get_slot_id(uri);
        CK_SLOT_INFO si;

        if (want != (CK_SLOT_ID) -1 && want != slot)
                return false;
        if (m->C_GetSlotInfo(slot, &si) != CKR_OK || !p11_kit_uri_match_slot_info(uri, &si))
                return false;
        /* a blank token (SoftHSM always offers one) holds no key */
        return m->C_GetTokenInfo(slot, ti) == CKR_OK && (ti->flags & CKF_TOKEN_INITIALIZED) &&
               p11_kit_uri_match_token_info(uri, ti);
}

typedef struct Match {
        size_t n;
        size_t module;                  /* index of the first match */
        CK_SLOT_ID slot;
        CK_TOKEN_INFO info;
} Match;

static void match_module(P11KitUri *uri, CK_FUNCTION_LIST *m, size_t index, Match *match) {
        _cleanup_free_ CK_SLOT_ID *slots = NULL;
        CK_ULONG n = 0;
        CK_TOKEN_INFO ti;

        if (!module_matches(uri, m) || m->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK || n == 0 ||
            !(slots = calloc(n, sizeof *slots)) || m->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
                return;
        for (CK_ULONG i = 0; i < n; i++) {
                if (!slot_matches(uri, m, slots[i], &ti))
                        continue;
                if (match->n++ == 0) {
                        match->module = index;
                        match->slot = slots[i];
                        match->info = ti;
                }
        }
}

static void token_label(const CK_TOKEN_INFO *ti, char out[static 33]) {
        size_t n = sizeof ti->label;

        memcpy(out, ti->label, n);
        while (n > 0 && out[n - 1] == ' ')
                n--;
        out[n] = 0;
}

static int token_login(Token *t, const CK_TOKEN_INFO *ti, const char *pin, char **error) {
        char label[33];
        CK_RV rv;

        token_label(ti, label);
        if (!pin && !(ti->flags & CKF_LOGIN_REQUIRED))
                return 0;
        if (!pin && !(ti->flags & CKF_PROTECTED_AUTHENTICATION_PATH))
                return fail(error, -EACCES, "token \"%s\" needs a PIN: give a PIN file or pin-value= in the URI",
                            label);
        rv = t->module->C_Login(t->session, CKU_USER, (CK_UTF8CHAR *) pin, pin ? strlen(pin) : 0);
        if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
                return 0;
        return fail(error, -EACCES, "cannot log in to token \"%s\": %s", label, p11_kit_strerror(rv));
}

static int token_find_key(Token *t, P11KitUri *uri, char **error) {
        CK_OBJECT_CLASS klass = CKO_PRIVATE_KEY;
        CK_ATTRIBUTE tmpl[8];
        CK_ULONG n_uri = 0, n = 0, found = 0;
        CK_ATTRIBUTE *a = p11_kit_uri_get_attributes(uri, &n_uri);
        CK_OBJECT_HANDLE keys[2];

        tmpl[n++] = (CK_ATTRIBUTE) { CKA_CLASS, &klass, sizeof klass };
        for (CK_ULONG i = 0; i < n_uri && n < ELEMENTSOF(tmpl); i++)
                if (a[i].type != CKA_CLASS)
                        tmpl[n++] = a[i];
        if (t->module->C_FindObjectsInit(t->session, tmpl, n) != CKR_OK)
                return fail(error, -EIO, "cannot search the token for the key");
        if (t->module->C_FindObjects(t->session, keys, ELEMENTSOF(keys), &found) != CKR_OK)
                found = 0;
        t->module->C_FindObjectsFinal(t->session);
        if (found == 0)
                return fail(error, -ENOENT, "no private key on the token matches the URI");
        if (found > 1)
                return fail(error, -ENOTUNIQ, "several private keys match the URI: add object= or id=");
        t->key = keys[0];
        return 0;
}

static bool can_sign(Token *t, CK_SLOT_ID slot, CK_MECHANISM_TYPE mech) {
        CK_MECHANISM_INFO info;

        return t->module->C_GetMechanismInfo(slot, mech, &info) == CKR_OK && (info.flags & CKF_SIGN);
}

/* Only the digest travels to the token where it can: a smartcard would
 * take minutes to hash a 40 MB TBSCertList itself. */
static int token_pick_mechanism(Token *t, CK_SLOT_ID slot, int key_type, char **error) {
        CK_KEY_TYPE kt = (CK_KEY_TYPE) -1;
        CK_ATTRIBUTE a = { CKA_KEY_TYPE, &kt, sizeof kt };

        if (t->module->C_GetAttributeValue(t->session, t->key, &a, 1) != CKR_OK)
                return fail(error, -EIO, "cannot read the key type of the key on the token");
        if (kt != (key_type == EVP_PKEY_RSA ? CKK_RSA : CKK_EC))
                return fail(error, -EKEYREJECTED, "the key on the token is not of the CA certificate's type (%s)",
                            key_type == EVP_PKEY_RSA ? "RSA" : "EC");
        if (key_type == EVP_PKEY_EC)
                t->mechanism = CKM_ECDSA;
        else if (can_sign(t, slot, CKM_RSA_PKCS))
                t->mechanism = CKM_RSA_PKCS;
        else
                t->mechanism = CKM_SHA256_RSA_PKCS;
        if (!can_sign(t, slot, t->mechanism))
                return fail(error, -EOPNOTSUPP, "the token cannot sign with %s",
                            key_type == EVP_PKEY_RSA ? "RSA PKCS#1 v1.5" : "ECDSA");
        return 0;
}

/* r||s as the token gives it, to the DER ECDSA-Sig-Value X.509 wants. */
static int ecdsa_to_der(const uint8_t *raw, size_t len, uint8_t *out, size_t *out_len) {
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *sig = ECDSA_SIG_new();
        BIGNUM *r, *s;
        int n;

        if (!sig || len == 0 || len % 2)
                return -EIO;
        r = BN_bin2bn(raw, (int) (len / 2), NULL);
        s = BN_bin2bn(raw + len / 2, (int) (len / 2), NULL);
        if (!r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
                BN_free(r);
                BN_free(s);
                return -ENOMEM;
        }
        if ((n = i2d_ECDSA_SIG(sig, NULL)) <= 0 || (size_t) n > *out_len)
                return -EIO;
        *out_len = (size_t) i2d_ECDSA_SIG(sig, &out);
        return 0;
}

static CK_RV token_sign_digest(Token *t, const uint8_t *data, size_t len, uint8_t *sig, CK_ULONG *sig_len) {
        /* DigestInfo { sha256, NULL } in front of the hash, as PKCS#1 v1.5 wants */
        static const uint8_t prefix[] = {
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
                0x05, 0x00, 0x04, 0x20,
        };
        CK_MECHANISM mech = { t->mechanism, NULL, 0 };
        uint8_t in[sizeof prefix + 32], *md = in + sizeof prefix;
        CK_ULONG in_len = sizeof in;
        CK_RV rv;

        memcpy(in, prefix, sizeof prefix);
        if (!EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL))
                return CKR_HOST_MEMORY;
        if (t->mechanism == CKM_ECDSA) {
                memmove(in, md, 32);
                in_len = 32;
        }
        if ((rv = t->module->C_SignInit(t->session, &mech, t->key)) != CKR_OK)
                return rv;
        return t->module->C_Sign(t->session, in, in_len, sig, sig_len);
}

/* Tokens without raw RSA get the whole TBS in slices. */
static CK_RV token_sign_data(Token *t, const uint8_t *data, size_t len, uint8_t *sig, CK_ULONG *sig_len) {
        CK_MECHANISM mech = { t->mechanism, NULL, 0 };
        CK_RV rv;

        if ((rv = t->module->C_SignInit(t->session, &mech, t->key)) != CKR_OK)
                return rv;
        for (size_t off = 0; off < len;) {
                size_t k = len - off < (1u << 20) ? len - off : (1u << 20);

                if ((rv = t->module->C_SignUpdate(t->session, (CK_BYTE *) data + off, (CK_ULONG) k)) != CKR_OK)
                        return rv;
                off += k;
        }
        return t->module->C_SignFinal(t->session, sig, sig_len);
}

static CK_RV token_sign(Token *t, const uint8_t *data, size_t len, uint8_t *sig, size_t *sig_len) {
        uint8_t raw[1024];
        CK_ULONG n = t->mechanism == CKM_ECDSA ? sizeof raw : (CK_ULONG) *sig_len;
        uint8_t *out = t->mechanism == CKM_ECDSA ? raw : sig;
        CK_RV rv;

        rv = t->mechanism == CKM_SHA256_RSA_PKCS ? token_sign_data(t, data, len, out, &n)
                                                 : token_sign_digest(t, data, len, out, &n);
        if (rv != CKR_OK)
                return rv;
        if (t->mechanism != CKM_ECDSA) {
                *sig_len = n;
                return CKR_OK;
        }
        return ecdsa_to_der(raw, n, sig, sig_len) < 0 ? CKR_FUNCTION_FAILED : CKR_OK;
}

/* One signature over a fixed text, checked with the CA's public key: it
 * proves the key is the CA's whatever attributes the token shows. */
static int token_check_key(Token *t, X509 *ca, char **error) {
        static const uint8_t probe[] = "certrevoke: does this key belong to the CA?";
        EVP_PKEY *pub = X509_get0_pubkey(ca);
        uint8_t sig[2048];
        size_t n = sizeof sig;
        CK_RV rv;

        if ((size_t) EVP_PKEY_get_size(pub) > sizeof sig)
                return fail(error, -EOPNOTSUPP, "the CA key is too large");
        if ((rv = token_sign(t, probe, sizeof probe, sig, &n)) != CKR_OK)
                return fail(error, -EIO, "the token cannot sign with the key: %s", p11_kit_strerror(rv));
        if (verify_signature(pub, probe, sizeof probe, sig, n) < 0)
                return fail(error, -EKEYREJECTED, "the key on the token does not belong to the CA certificate");
        return 0;
}

static int token_pin(CrlSigner *s, P11KitUri *uri, char **ret, char **error) {
        const char *value = p11_kit_uri_get_pin_value(uri);
        int r;

        *ret = NULL;
        if (s->pin_file) {
                if ((r = read_first_line(s->pin_file, ret)) < 0)
                        return fail(error, r, "cannot read the PIN file %s: %s", s->pin_file, strerror(-r));
                if (!**ret)
                        return fail(error, -EINVAL, "the PIN file %s is empty", s->pin_file);
                return 0;
        }
        if (!isempty(value) && !(*ret = strdup(value)))
                return -ENOMEM;
        return 0;
}

/* Finds the one token the URI names and keeps its module and a session. */
static int token_attach(CrlSigner *s, P11KitUri *uri, CK_TOKEN_INFO *ret_info, CK_SLOT_ID *ret_slot,
                        char **error) {
        _cleanup_(modules_freep) CK_FUNCTION_LIST **mods = NULL;
        Match match = {};
        size_t last;
        CK_RV rv;
        int r;

        if ((r = modules_load(uri, &mods, error)) < 0)
                return r;
        for (size_t i = 0; mods[i]; i++)
                match_module(uri, mods[i], i, &match);
        if (match.n == 0)
                return fail(error, -ENODEV, "no token matches the URI (is the card inserted?)");
        if (match.n > 1)
                return fail(error, -ENOTUNIQ, "%zu tokens match the URI: name one with token= or serial=", match.n);
        /* keep the matching module, let the others go */
        s->token.module = mods[match.module];
        for (last = match.module; mods[last + 1]; last++)
                ;
        mods[match.module] = mods[last];
        mods[last] = NULL;
        if ((rv = s->token.module->C_OpenSession(match.slot, CKF_SERIAL_SESSION, NULL, NULL,
                                                 &s->token.session)) != CKR_OK)
                return fail(error, -EIO, "cannot open a session on the token: %s", p11_kit_strerror(rv));
        s->token.has_session = true;
        *ret_info = match.info;
        *ret_slot = match.slot;
        return 0;
}

static int token_open(CrlSigner *s, X509 *ca, char **error) {
        _cleanup_(p11_kit_uri_freep) P11KitUri *uri = p11_kit_uri_new();
        _cleanup_(pin_freep) char *pin = NULL;
        CK_ATTRIBUTE *klass;
        CK_TOKEN_INFO ti = {};
        CK_SLOT_ID slot = 0;
        int r;

        if (!uri)
                return -ENOMEM;
        if ((r = p11_kit_uri_parse(s->key, P11_KIT_URI_FOR_OBJECT_ON_TOKEN_AND_MODULE, uri)) != P11_KIT_URI_OK)
                return fail(error, -EINVAL, "not a valid pkcs11: URI: %s", p11_kit_uri_message(r));
        klass = p11_kit_uri_get_attribute(uri, CKA_CLASS);
        if (klass && (klass->ulValueLen != sizeof(CK_OBJECT_CLASS) ||
                      *(CK_OBJECT_CLASS *) klass->pValue != CKO_PRIVATE_KEY))
                return fail(error, -EINVAL, "the URI names an object that is not a private key (type=private)");
        if ((r = token_pin(s, uri, &pin, error)) < 0 ||
            (r = token_attach(s, uri, &ti, &slot, error)) < 0 ||
            (r = token_login(&s->token, &ti, pin, error)) < 0 ||
            (r = token_find_key(&s->token, uri, error)) < 0 ||
            (r = token_pick_mechanism(&s->token, slot, s->key_type, error)) < 0 ||
            (r = token_check_key(&s->token, ca, error)) < 0) {
                token_close(&s->token);
                return r;
        }
        return 0;
}

int crl_signer_open(const char *key, const char *pin_file, X509 *ca, CrlSigner **ret, char **error) {
        _cleanup_(crl_signer_freep) CrlSigner *s = NULL;
        EVP_PKEY *pub;
        int r;

        if (error)
                *error = NULL;
        if (!key || !ca || !ret)
                return -EINVAL;
        if (!(pub = X509_get0_pubkey(ca)))
                return fail(error, -EINVAL, "the CA certificate has no usable public key");
        if (!(s = calloc(1, sizeof *s)))
                return -ENOMEM;
        s->key_type = EVP_PKEY_get_base_id(pub);
        if (s->key_type != EVP_PKEY_RSA && s->key_type != EVP_PKEY_EC)
                return fail(error, -EOPNOTSUPP, "the CA key is neither RSA nor EC: no CRL can be signed with it");
        if (!(s->key = strdup(key)) || (!isempty(pin_file) && !(s->pin_file = strdup(pin_file))))
                return -ENOMEM;
        if (strncasecmp(key, "pkcs11:", 7) == 0)
                r = token_open(s, ca, error);
        else if (key[0] == '/')
                r = pem_open(s, ca, error);
        else
                r = fail(error, -EINVAL, "the key must be an absolute path or a pkcs11: URI");
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

/* A session the token forgot (card pulled and put back, module reset, a
 * logout elsewhere in the process) is opened afresh once. */
static bool token_lost(CK_RV rv) {
        return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED || rv == CKR_DEVICE_REMOVED ||
               rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_USER_NOT_LOGGED_IN || rv == CKR_KEY_HANDLE_INVALID ||
               rv == CKR_OBJECT_HANDLE_INVALID || rv == CKR_CRYPTOKI_NOT_INITIALIZED;
}

static int signer_sign(CrlSigner *s, X509 *ca, const uint8_t *data, size_t len, uint8_t *sig, size_t *sig_len) {
        _cleanup_free_ char *error = NULL;
        size_t cap = *sig_len;
        CK_RV rv;
        int r;

        if (s->pkey)
                return pem_sign(s->pkey, data, len, sig, sig_len);
        rv = s->token.module ? token_sign(&s->token, data, len, sig, sig_len) : CKR_SESSION_HANDLE_INVALID;
        if (token_lost(rv)) {
                log_notice("crl: the CA key's token session was lost (%s); opening it again", p11_kit_strerror(rv));
                token_close(&s->token);
                if ((r = token_open(s, ca, &error)) < 0)
                        return log_error_errno(r, "crl: cannot open the CA key's token again: %s",
                                               error ?: strerror(-r));
                *sig_len = cap;
                rv = token_sign(&s->token, data, len, sig, sig_len);
        }
        if (rv != CKR_OK)
                return log_error_errno(-EIO, "crl: the token refused to sign: %s", p11_kit_strerror(rv));
        return 0;
}

/* ---------------------------------------------------------------- the CRL */

typedef struct Tbs {
        const uint8_t *alg;
        size_t alg_len;
        const X509_NAME *issuer;
        size_t issuer_len;
        uint64_t this_sec, next_sec;
        const CrlEncoded *parts;
        size_t n_parts, revoked_len;    /* content of revokedCertificates */
        uint8_t *ext;
        size_t ext_len;
        size_t content;                 /* of the TBSCertList SEQUENCE */
} Tbs;

static size_t tbs_content(const Tbs *t) {
        return sizeof der_version_v2 + t->alg_len + t->issuer_len + time_size(t->this_sec) +
               time_size(t->next_sec) + (t->revoked_len ? tlv_size(t->revoked_len) : 0) + t->ext_len;
}

static uint8_t *put_tbs(uint8_t *p, const Tbs *t) {
        TimeCache tc = { .day = UINT64_MAX };
        unsigned char *q;

        p = put_header(p, 0x30, t->content);
        p = put(p, der_version_v2, sizeof der_version_v2);
        p = put(p, t->alg, t->alg_len);
        q = p;
        if (i2d_X509_NAME(t->issuer, &q) != (int) t->issuer_len)
                return NULL;
        p = put_time(&tc, t->this_sec, q);
        p = put_time(&tc, t->next_sec, p);
        if (t->revoked_len) {
                /* RFC 5280 §5.1.2.6: absent, not empty, when nothing is revoked */
                p = put_header(p, 0x30, t->revoked_len);
                for (size_t i = 0; i < t->n_parts; i++)
                        if (t->parts[i].len > 0)        /* an empty run may have no buffer */
                                p = put(p, t->parts[i].data, t->parts[i].len);
        }
        return put(p, t->ext, t->ext_len);
}

static int tbs_prepare(CrlSigner *s, X509 *ca, const CrlEncoded *parts, size_t n_parts, uint64_t number, Tbs *t) {
        int len, r;

        t->alg = s->key_type == EVP_PKEY_RSA ? alg_rsa_sha256 : alg_ecdsa_sha256;
        t->alg_len = s->key_type == EVP_PKEY_RSA ? sizeof alg_rsa_sha256 : sizeof alg_ecdsa_sha256;
        t->issuer = X509_get_subject_name(ca);
        if ((len = i2d_X509_NAME(t->issuer, NULL)) <= 0)
                return log_error_errno(-EINVAL, "crl: cannot encode the CA's subject");
        t->issuer_len = (size_t) len;
        t->parts = parts;
        t->n_parts = n_parts;
        t->revoked_len = 0;
        for (size_t i = 0; i < n_parts; i++) {
                if (!parts[i].data && parts[i].len)
                        return -EINVAL;
                if (parts[i].len > 0xffff0000u - t->revoked_len)
                        return log_error_errno(-E2BIG, "crl: the entries make a CRL too large to encode");
                t->revoked_len += parts[i].len;
        }
        r = make_extensions(ca, number, &t->ext, &t->ext_len);
        if (r < 0)
                return r;
        t->content = tbs_content(t);
        /* four length octets at most: 4 GiB is far beyond any sane CRL */
        if (t->content > 0xffff0000u)
                return log_error_errno(-E2BIG, "crl: the entries make a CRL too large to encode");
        return 0;
}

static int check_args(CrlSigner *s, X509 *ca, uint64_t this_update_usec, uint64_t next_update_usec) {
        EVP_PKEY *pub = ca ? X509_get0_pubkey(ca) : NULL;

        if (!s || !ca)
                return -EINVAL;
        if (!pub || EVP_PKEY_get_base_id(pub) != s->key_type)
                return log_error_errno(-EINVAL, "crl: the CA certificate is not the one the signer was opened for");
        if (next_update_usec < this_update_usec || next_update_usec / USEC_PER_SEC > TIME_MAX)
                return log_error_errno(-EINVAL, "crl: thisUpdate/nextUpdate out of order or out of range");
        return 0;
}

int crl_build_encoded(CrlSigner *s, X509 *ca, const CrlEncoded *parts, size_t n_parts, uint64_t number,
                      uint64_t this_update_usec, uint64_t next_update_usec, unsigned char **ret_der,
                      size_t *ret_len) {
        _cleanup_free_ uint8_t *buf = NULL, *sig = NULL;
        size_t max_sig, sig_len, tbs_len, content, hdr_max, hdr;
        Tbs t = { .this_sec = this_update_usec / USEC_PER_SEC, .next_sec = next_update_usec / USEC_PER_SEC };
        uint8_t *tbs, *p;
        int r;

        if (!ret_der || !ret_len || (!parts && n_parts))
                return -EINVAL;
        if ((r = check_args(s, ca, this_update_usec, next_update_usec)) < 0)
                return r;
        r = tbs_prepare(s, ca, parts, n_parts, number, &t);
        if (r < 0) {
                free(t.ext);
                return r;
        }
        /* the outer header's size depends on the signature's, known only
         * once signed (ECDSA varies): room for the largest, moved if smaller */
        if ((r = EVP_PKEY_get_size(X509_get0_pubkey(ca))) <= 0) {
                free(t.ext);
                return -EINVAL;
        }
        max_sig = (size_t) r;
        tbs_len = tlv_size(t.content);
        content = tbs_len + t.alg_len + tlv_size(1 + max_sig);
        hdr_max = 1 + len_size(content);
        if (!(buf = malloc(hdr_max + content)) || !(sig = malloc(max_sig))) {
                free(t.ext);
                return -ENOMEM;
        }
        tbs = buf + hdr_max;
        p = put_tbs(tbs, &t);
        free(t.ext);
        if (p != tbs + tbs_len)
                return log_error_errno(-EIO, "crl: the encoder wrote %td bytes, not the %zu it sized",
                                       p ? p - tbs : -1, tbs_len);

        sig_len = max_sig;
        if ((r = signer_sign(s, ca, tbs, tbs_len, sig, &sig_len)) < 0)
                return r;
        /* what leaves here verifies with the CA certificate, whatever signed it */
        if (sig_len > max_sig || (r = verify_signature(X509_get0_pubkey(ca), tbs, tbs_len, sig, sig_len)) < 0)
                return log_error_errno(-EKEYREJECTED, "crl: the signature does not verify with the CA certificate");

        p = put(p, t.alg, t.alg_len);
        p = put_header(p, 0x03, 1 + sig_len);
        *p++ = 0;                       /* no unused bits */
        p = put(p, sig, sig_len);
        content = (size_t) (p - tbs);
        hdr = 1 + len_size(content);
        put_header(buf + hdr_max - hdr, 0x30, content);
        if (hdr != hdr_max)
                memmove(buf, buf + hdr_max - hdr, hdr + content);
        *ret_len = hdr + content;
        *ret_der = TAKE_PTR(buf);
        return 0;
}

int crl_build(CrlSigner *s, X509 *ca, const CrlEntry *entries, size_t n, uint64_t number,
              uint64_t this_update_usec, uint64_t next_update_usec, unsigned char **ret_der, size_t *ret_len) {
        _cleanup_free_ uint8_t *encoded = NULL;
        CrlEncoded part = {};
        size_t len;
        int r;

        if (!s || !ca || (!entries && n))
                return -EINVAL;
        if (n > SIZE_MAX / 128)
                return -E2BIG;
        r = entries_size(entries, n, &len);
        if (r < 0)
                return r;
        /* from scratch: every entry encoded once, then built as if kept */
        if (!(encoded = malloc(len ? len : 1)))
                return -ENOMEM;
        if (put_entries(encoded, entries, n) != encoded + len)
                return log_error_errno(-EIO, "crl: the entries' encoder wrote other than it sized");
        part = (CrlEncoded) { .data = encoded, .len = len };
        return crl_build_encoded(s, ca, &part, 1, number, this_update_usec, next_update_usec, ret_der, ret_len);
}

int crl_entry_encode(const CrlEntry *e, uint8_t out[static CRL_ENTRY_MAX], size_t *ret_len) {
        size_t len;
        int r;

        if (!e || !ret_len)
                return -EINVAL;
        r = entries_size(e, 1, &len);
        if (r < 0)
                return r;
        assert(len <= CRL_ENTRY_MAX);
        put_entries(out, e, 1);
        *ret_len = len;
        return 0;
}

/* ---------------------------------------------------------------- publishing */

#define PEM_LINES_PER_WRITE 1024

/* PEM in slices, so a large CRL costs no second copy in memory. */
static int write_pem(int fd, const uint8_t *der, size_t len) {
        static const char head[] = "-----BEGIN X509 CRL-----\n", tail[] = "-----END X509 CRL-----\n";
        _cleanup_free_ char *buf = malloc(PEM_LINES_PER_WRITE * 65 + 1);
        int r;

        if (!buf)
                return -ENOMEM;
        if ((r = write_all(fd, head, sizeof head - 1)) < 0)
                return r;
        for (size_t off = 0; off < len;) {
                size_t k = 0;

                for (int i = 0; i < PEM_LINES_PER_WRITE && off < len; i++) {
                        size_t chunk = len - off < 48 ? len - off : 48;

                        k += (size_t) EVP_EncodeBlock((unsigned char *) buf + k, der + off, (int) chunk);
                        buf[k++] = '\n';
                        off += chunk;
                }
                if ((r = write_all(fd, buf, k)) < 0)
                        return r;
        }
        return write_all(fd, tail, sizeof tail - 1);
}

int crl_publish(const char *dir, const unsigned char *der, size_t len) {
        _cleanup_close_ int dir_fd = -1;

        if (!dir)
                return -EINVAL;
        if ((dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                return -errno;
        return crl_publish_at(dir_fd, der, len);
}

/* One file replaced durably: written, synced, renamed, directory synced. */
static int replace_synced(int dir_fd, const char *name, const unsigned char *der, size_t len, bool pem) {
        _cleanup_(atomic_file_done) AtomicFile f = ATOMIC_FILE_INIT;
        int r;

        if (dir_fd < 0 || !der || len == 0)
                return -EINVAL;
        f.dir_fd = dir_fd;
        r = atomic_file_open(dir_fd, name, &f);
        if (r < 0)
                return r;
        r = pem ? write_pem(f.fd, der, len) : write_all(f.fd, der, len);
        if (r < 0)
                return r;
        r = atomic_file_sync(&f);
        if (r < 0)
                return r;
        r = atomic_file_commit(name, &f);
        if (r < 0)
                return r;
        return fsync(dir_fd) < 0 ? -errno : 0;
}

int crl_write_der_at(int dir_fd, const unsigned char *der, size_t len) {
        return replace_synced(dir_fd, "crl.der", der, len, false);
}

int crl_write_pem_at(int dir_fd, const unsigned char *der, size_t len) {
        return replace_synced(dir_fd, "crl.pem", der, len, true);
}

int crl_publish_at(int dir_fd, const unsigned char *der, size_t len) {
        _cleanup_(atomic_file_done) AtomicFile d = ATOMIC_FILE_INIT, p = ATOMIC_FILE_INIT;
        int r;

        if (dir_fd < 0 || !der || len == 0)
                return -EINVAL;
        d.dir_fd = p.dir_fd = dir_fd;
        /* both complete and synced before either replaces its old file */
        if ((r = atomic_file_open(dir_fd, "crl.der", &d)) < 0 || (r = write_all(d.fd, der, len)) < 0 ||
            (r = atomic_file_sync(&d)) < 0 ||
            (r = atomic_file_open(dir_fd, "crl.pem", &p)) < 0 || (r = write_pem(p.fd, der, len)) < 0 ||
            (r = atomic_file_sync(&p)) < 0 ||
            (r = atomic_file_commit("crl.der", &d)) < 0 || (r = atomic_file_commit("crl.pem", &p)) < 0)
                return r;
        if (fsync(dir_fd) < 0)
                return -errno;
        return 0;
}
