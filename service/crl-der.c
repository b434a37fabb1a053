/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CRL, written as DER by hand.  OpenSSL's X509_CRL keeps an object per
 * revoked certificate and sorts them, which costs seconds and hundreds of
 * megabytes for a million entries; here the exact size is computed first,
 * one buffer is allocated and TBSCertList is written straight into it.
 * OpenSSL is used for the issuer name and the CA's key identifier only;
 * the signature is crl-signer.c's. */
#include <assert.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "crl-der.h"
#include "crl-reason.h"
#include "log.h"
#include "util.h"

/* ---------------------------------------------------------------- reasons on entries */

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
        bool rsa = crl_signer_key_type(s) == EVP_PKEY_RSA;
        int len, r;

        t->alg = rsa ? alg_rsa_sha256 : alg_ecdsa_sha256;
        t->alg_len = rsa ? sizeof alg_rsa_sha256 : sizeof alg_ecdsa_sha256;
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
        if (!pub || EVP_PKEY_get_base_id(pub) != crl_signer_key_type(s))
                return log_error_errno(-EINVAL, "crl: the CA certificate is not the one the signer was opened for");
        if (next_update_usec < this_update_usec || next_update_usec / USEC_PER_SEC > TIME_MAX)
                return log_error_errno(-EINVAL, "crl: thisUpdate/nextUpdate out of order or out of range");
        return 0;
}

void crl_buffer_free(CrlBuffer *b) {
        if (!b)
                return;
        free(b->data);
        free(b);
}

static int buffer_reserve(CrlBuffer *b, size_t size) {
        unsigned char *data;

        if (b->allocated >= size)
                return 0;
        /* a little room to grow: the next CRL lists a few more */
        size += size / 64;
        if (!(data = realloc(b->data, size)))
                return -ENOMEM;
        b->data = data;
        b->allocated = size;
        return 0;
}

int crl_build_encoded(CrlSigner *s, X509 *ca, const CrlEncoded *parts, size_t n_parts, uint64_t number,
                      uint64_t this_update_usec, uint64_t next_update_usec, CrlBuffer *out) {
        _cleanup_free_ uint8_t *sig = NULL;
        size_t max_sig, sig_len, tbs_len, content, hdr_max, hdr;
        Tbs t = { .this_sec = this_update_usec / USEC_PER_SEC, .next_sec = next_update_usec / USEC_PER_SEC };
        uint8_t *buf, *tbs, *p;
        int r;

        if (!out || (!parts && n_parts))
                return -EINVAL;
        out->len = 0;
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
        if (buffer_reserve(out, hdr_max + content) < 0 || !(sig = malloc(max_sig))) {
                free(t.ext);
                return -ENOMEM;
        }
        buf = out->data;
        tbs = buf + hdr_max;
        p = put_tbs(tbs, &t);
        free(t.ext);
        if (p != tbs + tbs_len)
                return log_error_errno(-EIO, "crl: the encoder wrote %td bytes, not the %zu it sized",
                                       p ? p - tbs : -1, tbs_len);

        sig_len = max_sig;
        r = crl_signer_sign(s, ca, tbs, tbs_len, sig, &sig_len);
        if (r < 0)
                return r;

        p = put(p, t.alg, t.alg_len);
        p = put_header(p, 0x03, 1 + sig_len);
        *p++ = 0;                       /* no unused bits */
        p = put(p, sig, sig_len);
        content = (size_t) (p - tbs);
        hdr = 1 + len_size(content);
        put_header(buf + hdr_max - hdr, 0x30, content);
        if (hdr != hdr_max)
                memmove(buf, buf + hdr_max - hdr, hdr + content);
        out->len = hdr + content;
        return 0;
}

int crl_build(CrlSigner *s, X509 *ca, const CrlEntry *entries, size_t n, uint64_t number,
              uint64_t this_update_usec, uint64_t next_update_usec, unsigned char **ret_der, size_t *ret_len) {
        _cleanup_free_ uint8_t *encoded = NULL;
        CrlBuffer out = {};
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
        r = crl_build_encoded(s, ca, &part, 1, number, this_update_usec, next_update_usec, &out);
        if (r < 0) {
                free(out.data);
                return r;
        }
        *ret_der = out.data;
        *ret_len = out.len;
        return 0;
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

