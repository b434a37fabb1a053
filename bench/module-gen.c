/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Makes the benchmark's input: a CA and MAX revoked user certificates with
 * the extensions certrevoke's CA gives them; then for each size N, the
 * first N of them as the modules read them:
 *
 *   DIR/N/public/{ca.pem,crl.der,revoked.idx}    certrevoke's trust module
 *   DIR/N/keys                                    issuer and serials, for lookups
 *   DIR/N/p11kit/anchors/ca.pem                  p11-kit's trust module
 *   DIR/N/p11kit/blocklist/revoked.pem           (paths=DIR/N/p11kit), up to P11KIT_MAX
 *
 *   module-gen DIR P11KIT_MAX N…       (sizes ascending; the last is MAX)
 *
 * A million certificates must be made in seconds: one is signed, and the
 * others are copies of it with their serial and names changed in place, so
 * their signatures do not verify.  Neither module checks the signatures of
 * the certificates it lists (the CRL's is what vouches for them), so the
 * lookups cost the same.  revoked.idx is written with certrevoked's writer.
 * The CRL lists every serial, with a reason, signed. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "revoked-index.h"

/* Fixed-width fields, so that each copy differs from the template only in
 * place: the serial's eight octets, then the UID's and CN's digits. */
#define SERIAL_BASE 0x4000000000000000ULL
#define SERIAL_STEP 0x9e3779b97f4aULL
#define UID_FORMAT "user%07zu"
#define CN_FORMAT "Bench User %07zu"

/* Serial i: eight octets, the top bit clear, like the daemon's CA gives
 * (large, not sequential); distinct for every i below 2^61. */
static uint64_t serial_of(size_t i) {
        return SERIAL_BASE | ((uint64_t) i * SERIAL_STEP & (SERIAL_BASE - 1));
}

static void die(const char *what) {
        fprintf(stderr, "module-gen: %s\n", what);
        exit(1);
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
        X509V3_CTX ctx;
        X509_EXTENSION *e;

        X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
        if (!(e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) || !X509_add_ext(x, e, -1))
                die("cannot add an extension");
        X509_EXTENSION_free(e);
}

static X509 *make_cert(EVP_PKEY *key, const char *uid, const char *cn, uint64_t serial, X509 *issuer,
                       EVP_PKEY *issuer_key) {
        X509 *x = X509_new();
        X509_NAME *n = X509_NAME_new();
        time_t now = time(NULL);

        X509_set_version(x, 2);
        ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial);
        X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *) "Bench Org", -1, -1, 0);
        if (uid)
                X509_NAME_add_entry_by_NID(n, NID_userId, MBSTRING_UTF8, (const unsigned char *) uid, -1, -1, 0);
        X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0);
        X509_set_subject_name(x, n);
        X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
        X509_NAME_free(n);
        X509_time_adj_ex(X509_getm_notBefore(x), -1, 0, &now);
        X509_time_adj_ex(X509_getm_notAfter(x), 365, 0, &now);
        X509_set_pubkey(x, key);
        if (issuer) {
                add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
                add_ext(x, issuer, NID_key_usage, "critical,digitalSignature");
                add_ext(x, issuer, NID_ext_key_usage, "clientAuth,emailProtection");
                add_ext(x, issuer, NID_subject_key_identifier, "hash");
                add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
        } else {
                add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
                add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
                add_ext(x, x, NID_subject_key_identifier, "hash");
        }
        if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()))
                die("cannot sign a certificate");
        return x;
}

/* Where needle is in the template; it must be there exactly once. */
static size_t find_once(const unsigned char *hay, size_t len, const void *needle, size_t n) {
        const unsigned char *p = memmem(hay, len, needle, n);

        if (!p || memmem(p + 1, len - (size_t) (p + 1 - hay), needle, n))
                die("a field of the template is not where it should be");
        return (size_t) (p - hay);
}

typedef struct Template {
        unsigned char *der;
        size_t len, serial_at, uid_at, cn_at;
} Template;

static Template make_template(X509 *ca, EVP_PKEY *ca_key) {
        EVP_PKEY *key = EVP_EC_gen("P-256");
        char uid[32], cn[64];
        unsigned char serial[8];
        uint64_t s = serial_of(0);
        Template t = {};
        X509 *x;
        int len;

        if (!key)
                die("cannot make a key");
        snprintf(uid, sizeof uid, UID_FORMAT, (size_t) 0);
        snprintf(cn, sizeof cn, CN_FORMAT, (size_t) 0);
        x = make_cert(key, uid, cn, s, ca, ca_key);
        if ((len = i2d_X509(x, &t.der)) <= 0)
                die("cannot encode a certificate");
        t.len = (size_t) len;
        for (int i = 7; i >= 0; i--, s >>= 8)
                serial[i] = (unsigned char) s;
        t.serial_at = find_once(t.der, t.len, serial, sizeof serial);
        t.uid_at = find_once(t.der, t.len, uid, strlen(uid));
        t.cn_at = find_once(t.der, t.len, cn, strlen(cn));
        X509_free(x);
        EVP_PKEY_free(key);
        return t;
}

/* Certificate i: the template with its serial and names. */
static void make_copy(const Template *t, size_t i, unsigned char *out) {
        uint64_t s = serial_of(i);
        char uid[32], cn[64];

        memcpy(out, t->der, t->len);
        for (int k = 7; k >= 0; k--, s >>= 8)
                out[t->serial_at + (size_t) k] = (unsigned char) s;
        snprintf(uid, sizeof uid, UID_FORMAT, i);
        snprintf(cn, sizeof cn, CN_FORMAT, i);
        memcpy(out + t->uid_at, uid, strlen(uid));
        memcpy(out + t->cn_at, cn, strlen(cn));
}

/* mkdir -p */
static void make_dirs(char *path) {
        for (char *p = path + 1;; p++) {
                if (*p != '/' && *p != 0)
                        continue;
                char c = *p;

                *p = 0;
                if (mkdir(path, 0755) < 0 && errno != EEXIST)
                        die("cannot make a directory");
                *p = c;
                if (!c)
                        return;
        }
}

static FILE *create(const char *dir, const char *sub, const char *name) {
        char path[4096];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s", dir, sub);
        make_dirs(path);
        snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
        if (!(f = fopen(path, "we")))
                die("cannot create a file");
        return f;
}

/* Writes crl.der and returns its DER (OPENSSL_malloc'd). */
static unsigned char *write_crl(const char *dir, X509 *ca, EVP_PKEY *key, size_t n, size_t *ret_len) {
        X509_CRL *crl = X509_CRL_new();
        ASN1_TIME *t = X509_gmtime_adj(NULL, 0), *next = X509_gmtime_adj(NULL, 7 * 86400);
        ASN1_INTEGER *num = ASN1_INTEGER_new(), *serial = ASN1_INTEGER_new();
        ASN1_ENUMERATED *reason = ASN1_ENUMERATED_new();
        FILE *f = create(dir, "public", "crl.der");
        unsigned char *der = NULL;
        int len;

        X509_CRL_set_version(crl, 1);
        X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca));
        X509_CRL_set1_lastUpdate(crl, t);
        X509_CRL_set1_nextUpdate(crl, next);
        ASN1_ENUMERATED_set(reason, 1);
        for (size_t i = 0; i < n; i++) {
                X509_REVOKED *r = X509_REVOKED_new();

                ASN1_INTEGER_set_uint64(serial, serial_of(i));
                X509_REVOKED_set_serialNumber(r, serial);
                X509_REVOKED_set_revocationDate(r, t);
                X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, reason, 0, 0);
                X509_CRL_add0_revoked(crl, r);
        }
        ASN1_INTEGER_set(num, 1);
        X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0);
        if (!X509_CRL_sign(crl, key, EVP_sha256()) || (len = i2d_X509_CRL(crl, &der)) <= 0 ||
            fwrite(der, 1, (size_t) len, f) != (size_t) len || fclose(f) != 0)
                die("cannot write the CRL");
        *ret_len = (size_t) len;
        ASN1_INTEGER_free(num);
        ASN1_INTEGER_free(serial);
        ASN1_ENUMERATED_free(reason);
        ASN1_TIME_free(t);
        ASN1_TIME_free(next);
        X509_CRL_free(crl);
        return der;
}

/* The lookups' keys: [u32 issuer length][issuer], then per certificate
 * [u8 length][serial], each whole DER. */
static void write_keys(const char *dir, X509 *ca, size_t n) {
        unsigned char *issuer = NULL;
        int il = i2d_X509_NAME(X509_get_subject_name(ca), &issuer);
        ASN1_INTEGER *serial = ASN1_INTEGER_new();
        uint32_t len = (uint32_t) il;
        FILE *f = create(dir, ".", "keys");

        fwrite(&len, sizeof len, 1, f);
        fwrite(issuer, 1, (size_t) il, f);
        for (size_t i = 0; i < n; i++) {
                unsigned char *der = NULL;
                int sl;

                ASN1_INTEGER_set_uint64(serial, serial_of(i));
                sl = i2d_ASN1_INTEGER(serial, &der);
                fputc(sl, f);
                fwrite(der, 1, (size_t) sl, f);
                OPENSSL_free(der);
        }
        if (fclose(f) != 0)
                die("cannot write the keys");
        OPENSSL_free(issuer);
        ASN1_INTEGER_free(serial);
}

static void write_index(const char *dir, X509 *ca, const unsigned char *crl, size_t crl_len, const unsigned char *all,
                        const Template *t, size_t n) {
        const uint8_t **ders = malloc((n ? n : 1) * sizeof *ders);
        size_t *lens = malloc((n ? n : 1) * sizeof *lens);
        unsigned char *ca_der = NULL;
        int ca_len = i2d_X509(ca, &ca_der), fd, r;
        char path[4200];

        if (!ders || !lens || ca_len <= 0)
                die("out of memory");
        for (size_t i = 0; i < n; i++) {
                ders[i] = all + i * t->len;
                lens[i] = t->len;
        }
        snprintf(path, sizeof path, "%s/public", dir);
        if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                die("cannot open the directory");
        if ((r = revoked_index_create(fd, ca_der, (size_t) ca_len, 1, crl, crl_len, ders, lens, n)) < 0) {
                fprintf(stderr, "module-gen: cannot write revoked.idx: %s\n", strerror(-r));
                exit(1);
        }
        close(fd);
        free(ders);
        free(lens);
        OPENSSL_free(ca_der);
}

static void write_p11kit(const char *dir, X509 *ca, const unsigned char *all, const Template *t, size_t n) {
        FILE *f = create(dir, "p11kit/anchors", "ca.pem"), *pem;

        PEM_write_X509(f, ca);
        fclose(f);
        pem = create(dir, "p11kit/blocklist", "revoked.pem");
        for (size_t i = 0; i < n; i++)
                if (!PEM_write(pem, "CERTIFICATE", "", all + i * t->len, (long) t->len))
                        die("cannot write a certificate");
        if (fclose(pem) != 0)
                die("cannot write the certificates");
}

static void write_size(const char *top, size_t n, size_t p11kit_max, X509 *ca, EVP_PKEY *ca_key,
                       const unsigned char *all, const Template *t) {
        unsigned char *crl;
        size_t crl_len;
        char dir[4096];
        FILE *f;

        snprintf(dir, sizeof dir, "%s/%zu", top, n);
        f = create(dir, "public", "ca.pem");
        PEM_write_X509(f, ca);
        fclose(f);
        /* the CRL first: revoked.idx names it */
        crl = write_crl(dir, ca, ca_key, n, &crl_len);
        write_index(dir, ca, crl, crl_len, all, t, n);
        OPENSSL_free(crl);
        write_keys(dir, ca, n);
        if (n <= p11kit_max)
                write_p11kit(dir, ca, all, t, n);
}

int main(int argc, char **argv) {
        size_t max = 0, p11kit_max, *sizes;
        unsigned char *all;
        EVP_PKEY *ca_key;
        Template t;
        X509 *ca;

        if (argc < 4)
                die("usage: module-gen DIR P11KIT_MAX N...");
        p11kit_max = strtoul(argv[2], NULL, 10);
        sizes = calloc((size_t) argc, sizeof *sizes);
        for (int i = 3; i < argc; i++) {
                sizes[i] = strtoul(argv[i], NULL, 10);
                if (sizes[i] == 0 || sizes[i] < max)
                        die("sizes must be positive and ascending");
                max = sizes[i];
        }
        if (!(ca_key = EVP_EC_gen("P-256")))
                die("cannot make the CA key");
        ca = make_cert(ca_key, NULL, "Bench Org Certificate Authority", 1, NULL, NULL);
        t = make_template(ca, ca_key);
        if (!(all = malloc(max * t.len)))
                die("out of memory");
        for (size_t i = 0; i < max; i++)
                make_copy(&t, i, all + i * t.len);
        for (int i = 3; i < argc; i++)
                write_size(argv[1], sizes[i], p11kit_max, ca, ca_key, all, &t);
        free(all);
        OPENSSL_free(t.der);
        free(sizes);
        X509_free(ca);
        EVP_PKEY_free(ca_key);
        return 0;
}
