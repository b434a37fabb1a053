/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Makes the benchmark's input: a CA and MAX revoked user certificates, each
 * with a key of its own and the extensions certrevoke's CA gives them; then
 * for each size N, the first N of them as both modules read them:
 *
 *   DIR/N/public/{ca.pem,crl.der,revoked.der}   certrevoke's trust module
 *   DIR/N/p11kit/anchors/ca.pem                  p11-kit's trust module
 *   DIR/N/p11kit/blocklist/revoked.pem           (paths=DIR/N/p11kit)
 *
 *   module-gen DIR N…          (sizes ascending; the last is MAX) */
#include <errno.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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

static void write_crl(const char *dir, X509 *ca, EVP_PKEY *key, X509 **certs, size_t n) {
        X509_CRL *crl = X509_CRL_new();
        ASN1_TIME *t = X509_gmtime_adj(NULL, 0), *next = X509_gmtime_adj(NULL, 7 * 86400);
        ASN1_INTEGER *num = ASN1_INTEGER_new();
        FILE *f = create(dir, "public", "crl.der");

        X509_CRL_set_version(crl, 1);
        X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca));
        X509_CRL_set1_lastUpdate(crl, t);
        X509_CRL_set1_nextUpdate(crl, next);
        for (size_t i = 0; i < n; i++) {
                X509_REVOKED *r = X509_REVOKED_new();
                ASN1_ENUMERATED *reason = ASN1_ENUMERATED_new();

                X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(certs[i]));
                X509_REVOKED_set_revocationDate(r, t);
                ASN1_ENUMERATED_set(reason, 1);
                X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, reason, 0, 0);
                ASN1_ENUMERATED_free(reason);
                X509_CRL_add0_revoked(crl, r);
        }
        ASN1_INTEGER_set(num, 1);
        X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0);
        X509_CRL_sort(crl);
        if (!X509_CRL_sign(crl, key, EVP_sha256()) || !i2d_X509_CRL_fp(f, crl) || fclose(f) != 0)
                die("cannot write the CRL");
        ASN1_INTEGER_free(num);
        ASN1_TIME_free(t);
        ASN1_TIME_free(next);
        X509_CRL_free(crl);
}

static void write_size(const char *top, size_t n, X509 *ca, EVP_PKEY *ca_key, X509 **certs) {
        char dir[4096];
        FILE *der, *pem, *f;

        snprintf(dir, sizeof dir, "%s/%zu", top, n);
        f = create(dir, "public", "ca.pem");
        PEM_write_X509(f, ca);
        fclose(f);
        f = create(dir, "p11kit/anchors", "ca.pem");
        PEM_write_X509(f, ca);
        fclose(f);
        der = create(dir, "public", "revoked.der");
        pem = create(dir, "p11kit/blocklist", "revoked.pem");
        for (size_t i = 0; i < n; i++)
                if (!i2d_X509_fp(der, certs[i]) || !PEM_write_X509(pem, certs[i]))
                        die("cannot write a certificate");
        if (fclose(der) != 0 || fclose(pem) != 0)
                die("cannot write the certificates");
        write_crl(dir, ca, ca_key, certs, n);
}

int main(int argc, char **argv) {
        size_t max = 0, *sizes;
        EVP_PKEY *ca_key;
        X509 *ca, **certs;

        if (argc < 3)
                die("usage: module-gen DIR N...");
        sizes = calloc((size_t) argc, sizeof *sizes);
        for (int i = 2; i < argc; i++) {
                sizes[i] = strtoul(argv[i], NULL, 10);
                if (sizes[i] == 0 || sizes[i] < max)
                        die("sizes must be positive and ascending");
                max = sizes[i];
        }
        if (!(ca_key = EVP_EC_gen("P-256")))
                die("cannot make the CA key");
        ca = make_cert(ca_key, NULL, "Bench Org Certificate Authority", 1, NULL, NULL);
        if (!(certs = calloc(max, sizeof *certs)))
                die("out of memory");
        for (size_t i = 0; i < max; i++) {
                EVP_PKEY *key = EVP_EC_gen("P-256");
                char uid[32], cn[64];

                if (!key)
                        die("cannot make a key");
                snprintf(uid, sizeof uid, "user%06zu", i);
                snprintf(cn, sizeof cn, "Bench User %zu", i);
                /* serials like the daemon's CA: large, not sequential */
                certs[i] = make_cert(key, uid, cn, 0x4000000000000000ULL + (uint64_t) i * 0x9e3779b97f4aULL, ca, ca_key);
                EVP_PKEY_free(key);
        }
        for (int i = 2; i < argc; i++)
                write_size(argv[1], sizes[i], ca, ca_key, certs);
        for (size_t i = 0; i < max; i++)
                X509_free(certs[i]);
        free(certs);
        free(sizes);
        X509_free(ca);
        EVP_PKEY_free(ca_key);
        return 0;
}
