/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CRL writer: every CRL is parsed back by OpenSSL and checked field by
 * field.  With CRL_TEST_OUT set, a CA, a revoked and a valid certificate and
 * their CRL are left there for the real tools (tests/integration/
 * test-crl-tools.sh); with CRL_TEST_PKCS11_URI set, the CA key is on a
 * token (see signing_on_token()). */
#include <dirent.h>
#include <grp.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <p11-kit/p11-kit.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "certgen.h"
#include "check.h"
#include "crl.h"
#include "util.h"

#define T2020 1577836800ULL             /* 2020-01-01T00:00:00Z */
#define T2050 2524608000ULL             /* 2050-01-01T00:00:00Z */
#define USEC(s) ((uint64_t) (s) * USEC_PER_SEC)

static char tmp[] = "/tmp/certrevoke-test-crl-XXXXXX";

typedef struct Ca {
        const char *name;               /* "rsa" or "ec" */
        EVP_PKEY *key;
        X509 *cert;
        char key_path[256];
} Ca;

/* ---------------------------------------------------------------- fixtures */

static EVP_PKEY *gen_key_of(const char *type) {
        return strcmp(type, "rsa") == 0 ? EVP_RSA_gen(2048) : gen_key();
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
        X509V3_CTX ctx;
        X509_EXTENSION *e;

        X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
        e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
}

/* A CA as openssl req -x509 makes it; with_ski false leaves out the SKI. */
static X509 *make_ca(EVP_PKEY *key, const char *cn, int with_ski) {
        X509 *x = gen_cert(key, NULL, cn, 1, 1600000000, 2200000000, NULL, NULL);

        add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
        if (with_ski)
                add_ext(x, x, NID_subject_key_identifier, "hash");
        X509_sign(x, key, EVP_sha256());
        return x;
}

/* A user certificate with any serial, given in hex. */
static X509 *make_leaf(Ca *ca, const char *serial_hex, const char *cn, time_t nb, time_t na, EVP_PKEY **ret_key) {
        EVP_PKEY *k = gen_key();
        X509 *x = gen_cert(k, cn, cn, 2, nb, na, ca->cert, ca->key);
        BIGNUM *bn = NULL;

        BN_hex2bn(&bn, serial_hex);
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
        BN_free(bn);
        add_ext(x, ca->cert, NID_authority_key_identifier, "keyid:always");
        X509_sign(x, ca->key, EVP_sha256());
        if (ret_key)
                *ret_key = k;
        else
                EVP_PKEY_free(k);
        return x;
}

static int write_key(const char *path, EVP_PKEY *key, const char *pass) {
        FILE *f = fopen(path, "we");
        int ok;

        if (!f)
                return -errno;
        ok = PEM_write_PrivateKey(f, key, pass ? EVP_aes_256_cbc() : NULL, NULL, 0, NULL, (void *) pass);
        fclose(f);
        return ok ? 0 : -EIO;
}

static int write_cert(const char *path, X509 *x) {
        FILE *f = fopen(path, "we");
        int ok;

        if (!f)
                return -errno;
        ok = PEM_write_X509(f, x);
        fclose(f);
        return ok ? 0 : -EIO;
}

static int write_text(const char *path, const char *text) {
        FILE *f = fopen(path, "we");

        if (!f)
                return -errno;
        fputs(text, f);
        return fclose(f) == 0 ? 0 : -EIO;
}

static void ca_init(Ca *ca, const char *type) {
        ca->name = type;
        ca->key = gen_key_of(type);
        ca->cert = make_ca(ca->key, "Test CRL CA", 1);
        snprintf(ca->key_path, sizeof ca->key_path, "%s/ca-%s.key", tmp, type);
        write_key(ca->key_path, ca->key, NULL);
}

static void ca_done(Ca *ca) {
        X509_free(ca->cert);
        EVP_PKEY_free(ca->key);
}

/* ---------------------------------------------------------------- reading a CRL back */

static X509_CRL *parse(const unsigned char *der, size_t len) {
        const unsigned char *p = der;
        X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long) len);

        if (crl && p != der + len) {
                X509_CRL_free(crl);
                return NULL;
        }
        return crl;
}

static uint64_t asn1_time_sec(const ASN1_TIME *t) {
        struct tm tm;

        if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
                return 0;
        return (uint64_t) timegm(&tm);
}

static char *serial_hex(const ASN1_INTEGER *i) {
        BIGNUM *bn = ASN1_INTEGER_to_BN(i, NULL);
        char *h = bn ? BN_bn2hex(bn) : NULL, *s = h ? strdup(h) : NULL;

        OPENSSL_free(h);
        BN_free(bn);
        return s;
}

static int reason_of(X509_REVOKED *r, int *ret_crit) {
        ASN1_ENUMERATED *e = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, ret_crit, NULL);
        int v = e ? (int) ASN1_ENUMERATED_get(e) : CRL_REASON_NONE;

        ASN1_ENUMERATED_free(e);
        return v;
}

/* Issuer, signature, version, times, CRL number and AKI. */
static void check_header(const char *what, X509_CRL *crl, Ca *ca, uint64_t number, uint64_t this_sec,
                         uint64_t next_sec) {
        ASN1_INTEGER *num;
        AUTHORITY_KEYID *aki;
        const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca->cert);
        uint64_t got = 0;
        int crit = 0;

        CHECK(X509_CRL_verify(crl, ca->key) == 1, "%s: the signature verifies with the CA key", what);
        CHECK(X509_CRL_get_version(crl) == 1, "%s: version is v2", what);
        CHECK(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca->cert)) == 0,
              "%s: issuer is the CA's subject", what);
        CHECK(asn1_time_sec(X509_CRL_get0_lastUpdate(crl)) == this_sec, "%s: thisUpdate", what);
        CHECK(asn1_time_sec(X509_CRL_get0_nextUpdate(crl)) == next_sec, "%s: nextUpdate", what);
        CHECK(ASN1_STRING_type(X509_CRL_get0_lastUpdate(crl)) ==
                      (this_sec < T2050 ? V_ASN1_UTCTIME : V_ASN1_GENERALIZEDTIME),
              "%s: thisUpdate is %s", what, this_sec < T2050 ? "UTCTime" : "GeneralizedTime");
        num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
        CHECK(num && crit == 0 && ASN1_INTEGER_get_uint64(&got, num) == 1 && got == number,
              "%s: CRL number %llu, non-critical", what, (unsigned long long) number);
        CHECK(num && num->length <= 20, "%s: CRL number within 20 octets", what);
        ASN1_INTEGER_free(num);
        aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit, NULL);
        CHECK(aki && crit == 0 && aki->keyid && !aki->issuer && !aki->serial,
              "%s: AKI in keyIdentifier form, non-critical", what);
        if (aki && aki->keyid && ski)
                CHECK(ASN1_OCTET_STRING_cmp(aki->keyid, ski) == 0, "%s: AKI is the CA's SKI", what);
        AUTHORITY_KEYID_free(aki);
        CHECK(X509_CRL_get_ext_count(crl) == 2, "%s: exactly two CRL extensions", what);
}

static int build(CrlSigner *s, Ca *ca, const CrlEntry *e, size_t n, uint64_t number, uint64_t this_sec,
                 uint64_t next_sec, unsigned char **der, size_t *len) {
        return crl_build(s, ca->cert, e, n, number, USEC(this_sec), USEC(next_sec), der, len);
}

/* ---------------------------------------------------------------- tests */

static int tbs_is_der(const unsigned char *der, size_t len, X509_CRL *crl);

static void test_reasons(void) {
        static const char *names[] = {
                "unspecified", "keyCompromise", "CACompromise", "affiliationChanged", "superseded",
                "cessationOfOperation", "certificateHold", "removeFromCRL", "privilegeWithdrawn", "AACompromise",
        };
        static const char *bad[] = { "KeyCompromise", "keycompromise", "key Compromise", "7", "none", " " };

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                int r = crl_reason_from_string(names[i]);

                CHECK(r >= 0 && streq_ptr(crl_reason_to_string(r), names[i]), "reason %s round trips", names[i]);
        }
        CHECK(crl_reason_from_string("keyCompromise") == CRL_REASON_KEY_COMPROMISE, "keyCompromise is 1");
        CHECK(crl_reason_from_string("AACompromise") == CRL_REASON_AA_COMPROMISE, "AACompromise is 10");
        CHECK(crl_reason_from_string("") == CRL_REASON_UNSPECIFIED, "\"\" is unspecified");
        CHECK(crl_reason_from_string(NULL) == -EINVAL, "NULL is refused");
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                CHECK(crl_reason_from_string(bad[i]) == -EINVAL, "reason \"%s\" is refused", bad[i]);
        CHECK_STREQ(crl_reason_to_string(CRL_REASON_NONE), "unspecified", "no reason reads as unspecified");
        CHECK(crl_reason_to_string(7) == NULL && crl_reason_to_string(11) == NULL && crl_reason_to_string(-2) == NULL,
              "values that are no reason have no name");
}

static void test_empty(CrlSigner *s, Ca *ca) {
        unsigned char *der = NULL;
        size_t len = 0;
        X509_CRL *crl;

        CHECK(build(s, ca, NULL, 0, 1, T2020, T2020 + 7 * 86400, &der, &len) == 0, "%s: empty CRL built", ca->name);
        crl = parse(der, len);
        CHECK(crl != NULL, "%s: empty CRL parses, without trailing bytes", ca->name);
        if (crl) {
                CHECK(X509_CRL_get_REVOKED(crl) == NULL, "%s: no revokedCertificates field", ca->name);
                CHECK(tbs_is_der(der, len, crl), "%s: empty CRL is canonical DER", ca->name);
                check_header(ca->name, crl, ca, 1, T2020, T2020 + 7 * 86400);
        }
        X509_CRL_free(crl);
        free(der);
}

static void test_entries(CrlSigner *s, Ca *ca) {
        const CrlEntry e[] = {
                { "1A2B", USEC(T2020 + 1) + 999999, CRL_REASON_KEY_COMPROMISE },
                { "80", USEC(T2020 + 86400 * 40 + 3723), CRL_REASON_UNSPECIFIED },
                { "FF01", USEC(T2050 + 59), CRL_REASON_NONE },
                { "0F", USEC(T2050 - 1), CRL_REASON_SUPERSEDED },
                { "000001", USEC(1), CRL_REASON_AA_COMPROMISE },
                { "0", USEC(T2020), CRL_REASON_CERTIFICATE_HOLD },
                { "8000000000000000000000000000000000000001", USEC(4102444800), CRL_REASON_CA_COMPROMISE },
                { "7fffffffffffffff", USEC(253402300799), CRL_REASON_PRIVILEGE_WITHDRAWN },
        };
        const char *want_serial[] = { "1A2B", "80", "FF01", "0F", "01", "0", "8000000000000000000000000000000000000001",
                                      "7FFFFFFFFFFFFFFF" };
        const int want_reason[] = { 1, -1, -1, 4, 10, 6, 2, 9 };
        unsigned char *der = NULL;
        size_t len = 0;
        STACK_OF(X509_REVOKED) *rev;
        X509_CRL *crl;

        CHECK(build(s, ca, e, ELEMENTSOF(e), UINT64_MAX, T2050 + 3600, T2050 + 7200, &der, &len) == 0,
              "%s: CRL with %zu entries built", ca->name, ELEMENTSOF(e));
        if (!(crl = parse(der, len))) {
                CHECK(0, "%s: it parses", ca->name);
                free(der);
                return;
        }
        check_header(ca->name, crl, ca, UINT64_MAX, T2050 + 3600, T2050 + 7200);
        CHECK(tbs_is_der(der, len, crl), "%s: CRL with entries is canonical DER", ca->name);
        rev = X509_CRL_get_REVOKED(crl);
        CHECK(sk_X509_REVOKED_num(rev) == (int) ELEMENTSOF(e), "%s: all entries are there", ca->name);
        /* before any lookup: OpenSSL sorts the stack on the first one */
        for (int i = 0; i < sk_X509_REVOKED_num(rev) && i < (int) ELEMENTSOF(e); i++) {
                X509_REVOKED *r = sk_X509_REVOKED_value(rev, i);
                const ASN1_TIME *t = X509_REVOKED_get0_revocationDate(r);
                char *serial = serial_hex(X509_REVOKED_get0_serialNumber(r));
                uint64_t sec = e[i].revoked_usec / USEC_PER_SEC;
                int crit = 0, reason = reason_of(r, &crit);

                CHECK_STREQ(serial, want_serial[i], "%s: entry %d serial", ca->name, i);
                CHECK(asn1_time_sec(t) == sec, "%s: entry %d revocationDate", ca->name, i);
                CHECK(ASN1_STRING_type(t) == (sec < T2050 ? V_ASN1_UTCTIME : V_ASN1_GENERALIZEDTIME),
                      "%s: entry %d date as %s", ca->name, i, sec < T2050 ? "UTCTime" : "GeneralizedTime");
                CHECK(reason == want_reason[i] && (reason < 0 ? crit == -1 : crit == 0),
                      "%s: entry %d reason %d (%s)", ca->name, i, want_reason[i],
                      want_reason[i] < 0 ? "absent" : "non-critical");
                CHECK(X509_REVOKED_get_ext_count(r) == (want_reason[i] < 0 ? 0 : 1),
                      "%s: entry %d carries %s", ca->name, i, want_reason[i] < 0 ? "no extension" : "one extension");
                free(serial);
        }
        X509_CRL_free(crl);
        free(der);
}

static void test_bad_input(CrlSigner *s, Ca *ca) {
        const struct { CrlEntry e; const char *why; } bad[] = {
                { { "XYZ", USEC(T2020), CRL_REASON_NONE }, "a serial that is not hex" },
                { { "", USEC(T2020), CRL_REASON_NONE }, "an empty serial" },
                { { NULL, USEC(T2020), CRL_REASON_NONE }, "no serial" },
                { { "12:34", USEC(T2020), CRL_REASON_NONE }, "a serial with colons" },
                { { "10000000000000000000000000000000000000000000000000000000000000001", USEC(T2020),
                    CRL_REASON_NONE }, "a serial of 65 digits" },
                { { "01", USEC(T2020), 7 }, "reason 7" },
                { { "01", USEC(T2020), CRL_REASON_REMOVE_FROM_CRL }, "removeFromCRL (delta CRLs only)" },
                { { "01", USEC(T2020), 42 }, "reason 42" },
                { { "01", USEC(T2020), -EINVAL }, "an error code as reason" },
                { { "01", USEC(253402300800), CRL_REASON_NONE }, "a date after 9999" },
        };
        unsigned char *der = NULL;
        size_t len = 0;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                CrlEntry e[2] = { { "01", USEC(T2020), CRL_REASON_NONE }, bad[i].e };

                CHECK(build(s, ca, e, 2, 1, T2020, T2020 + 1, &der, &len) == -EINVAL && !der,
                      "%s: %s is refused", ca->name, bad[i].why);
        }
        CHECK(build(s, ca, NULL, 0, 1, T2020 + 1, T2020, &der, &len) == -EINVAL, "%s: nextUpdate before thisUpdate",
              ca->name);
        CHECK(build(s, ca, NULL, 1, 1, T2020, T2020 + 1, &der, &len) == -EINVAL, "%s: NULL entries", ca->name);
        CHECK(build(s, ca, NULL, 0, 1, T2020, 253402300800, &der, &len) == -EINVAL, "%s: nextUpdate after 9999",
              ca->name);
}

/* The outer SEQUENCE, TBSCertList and signature, walked by hand: cheaper
 * than d2i_X509_CRL on CRLs of hundreds of thousands of entries. */
static int der_header(const unsigned char *p, size_t avail, size_t *ret_hdr, size_t *ret_len) {
        size_t n = 0, k;

        if (avail < 2 || p[0] != 0x30)
                return -1;
        if (p[1] < 0x80) {
                *ret_hdr = 2;
                *ret_len = p[1];
                return 0;
        }
        k = p[1] & 0x7f;
        if (k == 0 || k > 4 || avail < 2 + k || p[2] == 0)
                return -1;
        for (size_t i = 0; i < k; i++)
                n = n << 8 | p[2 + i];
        if ((k == 1 && n < 0x80) || (k > 1 && n < (1ul << (8 * (k - 1)))))
                return -1;              /* not the shortest form */
        *ret_hdr = 2 + k;
        *ret_len = n;
        return 0;
}

static int walk_and_verify(const unsigned char *der, size_t len, EVP_PKEY *pub) {
        size_t hdr, content, tbs_hdr, tbs_content, tbs_len, alg_len, alg_hdr;
        const unsigned char *tbs, *sig;
        EVP_MD_CTX *ctx;
        int ok;

        if (der_header(der, len, &hdr, &content) < 0 || hdr + content != len)
                return -1;
        tbs = der + hdr;
        if (der_header(tbs, content, &tbs_hdr, &tbs_content) < 0)
                return -1;
        tbs_len = tbs_hdr + tbs_content;
        if (der_header(tbs + tbs_len, content - tbs_len, &alg_hdr, &alg_len) < 0)
                return -1;
        sig = tbs + tbs_len + alg_hdr + alg_len;
        if (sig[0] != 0x03)
                return -1;
        if (sig[1] < 0x80) {
                if (sig + 2 + sig[1] != der + len || sig[2] != 0)
                        return -1;
        } else if (sig[1] == 0x81 || sig[1] == 0x82) {
                size_t n = sig[1] == 0x81 ? sig[2] : (size_t) sig[2] << 8 | sig[3];
                size_t h = sig[1] == 0x81 ? 3 : 4;

                if (sig + h + n != der + len || sig[h] != 0)
                        return -1;
                sig += h - 2;
        } else
                return -1;
        ctx = EVP_MD_CTX_new();
        ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) == 1 &&
             EVP_DigestVerify(ctx, sig + 3, (size_t) (der + len - sig - 3), tbs, tbs_len) == 1;
        EVP_MD_CTX_free(ctx);
        return ok ? 0 : -1;
}

/* OpenSSL encodes the parsed TBSCertList afresh: the same bytes mean ours
 * was canonical DER throughout (d2i alone accepts some BER). */
static int tbs_is_der(const unsigned char *der, size_t len, X509_CRL *crl) {
        size_t hdr, content, tbs_hdr, tbs_content;
        unsigned char *re = NULL;
        int n, same;

        if (der_header(der, len, &hdr, &content) < 0 || der_header(der + hdr, content, &tbs_hdr, &tbs_content) < 0)
                return 0;
        n = i2d_re_X509_CRL_tbs(crl, &re);
        same = n > 0 && (size_t) n == tbs_hdr + tbs_content && memcmp(re, der + hdr, (size_t) n) == 0;
        OPENSSL_free(re);
        return same;
}

static CrlEntry *many_entries(size_t n, char **ret_pool) {
        CrlEntry *e = calloc(n ? n : 1, sizeof *e);
        char *pool = malloc(n * 17 + 1);

        for (size_t i = 0; e && pool && i < n; i++) {
                char *s = pool + i * 17;

                snprintf(s, 17, "%016llX", (unsigned long long) (0x1234567890000000ULL + i * 0x9E3779B1ULL));
                e[i] = (CrlEntry) { s, USEC(T2020 + i * 7), (int) (i % 3 == 0 ? CRL_REASON_NONE : i % 7) };
        }
        *ret_pool = pool;
        return e;
}

/* Length fields of every size (one to four octets) and the signature of
 * varying length (ECDSA) on both sides of each boundary. */
static void test_sizes(CrlSigner *s, Ca *ca) {
        const size_t counts[] = { 1, 2, 3, 5, 100, 1000, 70000, 500000 };
        int bad = 0;

        for (size_t i = 0; i < ELEMENTSOF(counts); i++) {
                char *pool;
                CrlEntry *e = many_entries(counts[i], &pool);
                unsigned char *der = NULL;
                size_t len = 0;
                X509_CRL *crl = NULL;
                int ok = build(s, ca, e, counts[i], counts[i], T2020, T2020 + 86400, &der, &len) == 0 &&
                         walk_and_verify(der, len, X509_get0_pubkey(ca->cert)) == 0;

                if (ok && counts[i] <= 70000) {
                        crl = parse(der, len);
                        ok = crl && sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) == (int) counts[i] &&
                             X509_CRL_verify(crl, ca->key) == 1 && tbs_is_der(der, len, crl);
                }
                CHECK(ok, "%s: CRL of %zu entries (%zu bytes) is well formed and verifies", ca->name, counts[i], len);
                X509_CRL_free(crl);
                free(der);
                free(e);
                free(pool);
        }
        for (size_t digits = 1; digits <= 64; digits++)
                for (int round = 0; round < 4; round++) {
                        char serial[65];
                        CrlEntry e = { serial, USEC(T2020), CRL_REASON_NONE };
                        unsigned char *der = NULL;
                        size_t len = 0;
                        X509_CRL *crl = NULL;

                        memset(serial, round % 2 ? 'F' : '1', digits);
                        serial[digits] = 0;
                        if (build(s, ca, &e, 1, (uint64_t) round << 60, T2020, T2020 + 1, &der, &len) < 0 ||
                            !(crl = parse(der, len)) || X509_CRL_verify(crl, ca->key) != 1 || !tbs_is_der(der, len, crl) ||
                            walk_and_verify(der, len, X509_get0_pubkey(ca->cert)) < 0)
                                bad++;
                        X509_CRL_free(crl);
                        free(der);
                }
        CHECK(bad == 0, "%s: serials of 1..64 digits, CRLs around the length boundaries (%d bad)", ca->name, bad);
}

static void test_aki_without_ski(const char *type) {
        EVP_PKEY *key = gen_key_of(type);
        X509 *cert = make_ca(key, "CA without SKI", 0);
        Ca ca = { .name = type, .key = key, .cert = cert };
        unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
        unsigned int md_len = 0;
        CrlSigner *s = NULL;
        AUTHORITY_KEYID *aki = NULL;
        X509_CRL *crl = NULL;
        char *error = NULL;
        size_t len = 0;

        snprintf(ca.key_path, sizeof ca.key_path, "%s/noski-%s.key", tmp, type);
        write_key(ca.key_path, key, NULL);
        CHECK(X509_get0_subject_key_id(cert) == NULL, "%s: a CA without SKI", type);
        X509_pubkey_digest(cert, EVP_sha1(), md, &md_len);
        if (crl_signer_open(ca.key_path, NULL, cert, &s, &error) == 0 &&
            build(s, &ca, NULL, 0, 5, T2020, T2020 + 1, &der, &len) == 0 && (crl = parse(der, len)))
                aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);
        CHECK(aki && aki->keyid && aki->keyid->length == (int) md_len &&
              memcmp(aki->keyid->data, md, md_len) == 0,
              "%s: without SKI the AKI is the SHA-1 of the public key", type);
        CHECK(crl && X509_CRL_verify(crl, key) == 1, "%s: and the CRL verifies", type);
        AUTHORITY_KEYID_free(aki);
        X509_CRL_free(crl);
        free(der);
        free(error);
        crl_signer_free(s);
        X509_free(cert);
        EVP_PKEY_free(key);
}

static void test_signer_refusals(Ca *ca, Ca *other) {
        EVP_PKEY *stranger = gen_key_of(ca->name);
        char path[300], pass_path[300], enc_path[300];
        unsigned char *der = NULL;
        CrlSigner *s = NULL;
        char *error = NULL;
        size_t len = 0;
        int r;

        snprintf(path, sizeof path, "%s/stranger-%s.key", tmp, ca->name);
        write_key(path, stranger, NULL);
        r = crl_signer_open(path, NULL, ca->cert, &s, &error);
        CHECK(r == -EKEYREJECTED && !s && error && strstr(error, "does not belong"),
              "%s: a key that is not the CA's is refused (%s)", ca->name, error ?: "no message");
        free(error);

        r = crl_signer_open("ca.key", NULL, ca->cert, &s, &error);
        CHECK(r == -EINVAL && error, "%s: a relative key path is refused (%s)", ca->name, error ?: "no message");
        free(error);
        snprintf(path, sizeof path, "%s/missing.key", tmp);
        r = crl_signer_open(path, NULL, ca->cert, &s, &error);
        CHECK(r == -ENOENT && error, "%s: a missing key file is refused (%s)", ca->name, error ?: "no message");
        free(error);
        r = crl_signer_open("pkcs11:token=nothing;object=%zz", NULL, ca->cert, &s, &error);
        CHECK(r == -EINVAL && error, "%s: a malformed pkcs11: URI is refused (%s)", ca->name, error ?: "no message");
        free(error);

        /* an encrypted key: the PIN file holds its passphrase */
        snprintf(enc_path, sizeof enc_path, "%s/enc-%s.key", tmp, ca->name);
        snprintf(pass_path, sizeof pass_path, "%s/pass-%s", tmp, ca->name);
        write_key(enc_path, ca->key, "s3cret pass");
        write_text(pass_path, "s3cret pass\nsecond line\n");
        r = crl_signer_open(enc_path, NULL, ca->cert, &s, &error);
        CHECK(r < 0 && error && strstr(error, "passphrase"), "%s: an encrypted key without passphrase is refused (%s)",
              ca->name, error ?: "no message");
        free(error);
        r = crl_signer_open(enc_path, pass_path, ca->cert, &s, &error);
        CHECK(r == 0 && s, "%s: an encrypted key opens with its passphrase file", ca->name);
        /* a signer is bound to its CA: a same-named CA with another key
         * would not verify the CRL, so none is returned */
        if (s) {
                Ca twin = { .name = ca->name, .key = stranger, .cert = make_ca(stranger, "Test CRL CA", 1) };

                CHECK(build(s, &twin, NULL, 0, 1, T2020, T2020 + 1, &der, &len) == -EKEYREJECTED && !der,
                      "%s: a CRL that does not verify with the given CA is not returned", ca->name);
                CHECK(build(s, other, NULL, 0, 1, T2020, T2020 + 1, &der, &len) == -EINVAL && !der,
                      "%s: a CA of another key type is refused", ca->name);
                X509_free(twin.cert);
        }
        crl_signer_free(s);
        EVP_PKEY_free(stranger);
}

/* The passphrase file is read by the one strict reader: a long
 * passphrase (beyond the 255 bytes an older copy stopped at) is taken
 * whole, a line beyond CR_PASSWORD_MAX or an empty one is refused with the
 * reason, never cut short. */
static void test_signer_passphrase_file(Ca *ca) {
        char pass[301], line[600], enc_path[300], pass_path[300];
        CrlSigner *s = NULL;
        char *error = NULL;
        int r;

        for (size_t i = 0; i < sizeof pass - 1; i++)
                pass[i] = (char) ('A' + i % 26);
        pass[sizeof pass - 1] = 0;
        snprintf(enc_path, sizeof enc_path, "%s/long-%s.key", tmp, ca->name);
        snprintf(pass_path, sizeof pass_path, "%s/long-pass-%s", tmp, ca->name);
        write_key(enc_path, ca->key, pass);
        snprintf(line, sizeof line, "%s\r\n", pass);
        write_text(pass_path, line);
        r = crl_signer_open(enc_path, pass_path, ca->cert, &s, &error);
        CHECK(r == 0 && s && !error, "%s: a 300-byte passphrase (CRLF) opens the key (%s)", ca->name,
              error ?: "no message");
        crl_signer_free(s);
        s = NULL;
        free(error);
        error = NULL;

        memset(line, 'x', 512);
        strcpy(line + 512, "\n");
        write_text(pass_path, line);
        r = crl_signer_open(enc_path, pass_path, ca->cert, &s, &error);
        CHECK(r == -E2BIG && !s && error && strstr(error, "longer than 511 bytes") && strstr(error, pass_path),
              "%s: a 512-byte passphrase line is refused, not cut (%s)", ca->name, error ?: "no message");
        free(error);
        error = NULL;

        write_text(pass_path, "\n");
        r = crl_signer_open(enc_path, pass_path, ca->cert, &s, &error);
        CHECK(r == -EINVAL && !s && error && strstr(error, "is empty"), "%s: an empty passphrase file is refused (%s)",
              ca->name, error ?: "no message");
        free(error);
}

/* ---------------------------------------------------------------- publishing */

static int read_file(const char *path, unsigned char **ret, size_t *ret_len) {
        FILE *f = fopen(path, "re");
        long n;

        if (!f)
                return -errno;
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        rewind(f);
        *ret = malloc((size_t) n + 1);
        *ret_len = fread(*ret, 1, (size_t) n, f);
        fclose(f);
        return 0;
}

static int file_is(const char *dir, const char *name, const unsigned char *want, size_t len) {
        char path[512];
        unsigned char *data = NULL;
        size_t n = 0;
        int same;

        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (read_file(path, &data, &n) < 0)
                return 0;
        same = n == len && memcmp(data, want, len) == 0;
        free(data);
        return same;
}

static int count_files(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;

        while (d && (de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        n++;
        if (d)
                closedir(d);
        return n;
}

/* Runs crl_publish in a child that cannot write (another UID when we are
 * root, else a read-only directory) or may only write small files. */
static int publish_hobbled(const char *dir, const unsigned char *der, size_t len, int how) {
        pid_t pid = fork();
        int status;

        if (pid == 0) {
                if (how == 0 && geteuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
                                                    setresuid(65534, 65534, 65534) < 0))
                        _exit(100);
                if (how == 1) {
                        struct rlimit rl = { 4096, 4096 };

                        signal(SIGXFSZ, SIG_IGN);
                        setrlimit(RLIMIT_FSIZE, &rl);
                }
                _exit(-crl_publish(dir, der, len));
        }
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
                return -EIO;
        return -WEXITSTATUS(status);
}

static void test_publish(CrlSigner *s, Ca *ca) {
        char dir[300], path[400];
        unsigned char *a = NULL, *b = NULL;
        size_t a_len = 0, b_len = 0;
        char *pool;
        CrlEntry *e = many_entries(2000, &pool);
        struct stat st;
        X509_CRL *crl = NULL;
        FILE *f;
        mode_t old = umask(077);
        int r;

        snprintf(dir, sizeof dir, "%s/public", tmp);
        mkdir(dir, 0755);
        build(s, ca, e, 1, 1, T2020, T2020 + 1, &a, &a_len);
        build(s, ca, e, 2000, 2, T2020, T2020 + 1, &b, &b_len);
        CHECK(crl_publish(dir, a, a_len) == 0, "publish writes the CRL");
        umask(old);
        CHECK(file_is(dir, "crl.der", a, a_len), "crl.der is the DER");
        snprintf(path, sizeof path, "%s/crl.pem", dir);
        if ((f = fopen(path, "re"))) {
                crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
                fclose(f);
        }
        CHECK(crl && X509_CRL_verify(crl, ca->key) == 1, "crl.pem is a PEM \"X509 CRL\" that verifies");
        X509_CRL_free(crl);
        CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644, "crl.pem is 0644 whatever the umask");
        snprintf(path, sizeof path, "%s/crl.der", dir);
        CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644, "crl.der is 0644 whatever the umask");
        CHECK(count_files(dir) == 2, "nothing but the two files is left");

        CHECK(crl_publish(dir, b, b_len) == 0 && file_is(dir, "crl.der", b, b_len), "a new CRL replaces the old");
        CHECK(count_files(dir) == 2, "still two files");

        chmod(dir, 0555);
        r = publish_hobbled(dir, a, a_len, 0);
        CHECK(r == -EACCES, "an unwritable directory gives -EACCES (%d)", r);
        chmod(dir, 0755);
        CHECK(file_is(dir, "crl.der", b, b_len) && count_files(dir) == 2, "and leaves the old files as they were");
        r = publish_hobbled(dir, b, b_len, 1);
        CHECK(r == -EFBIG, "running out of room half way gives an error (%d)", r);
        CHECK(file_is(dir, "crl.der", b, b_len) && count_files(dir) == 2,
              "and leaves the old files and no partial one");
        snprintf(path, sizeof path, "%s/missing", tmp);
        CHECK(crl_publish(path, a, a_len) == -ENOENT, "a missing directory gives -ENOENT");
        CHECK(crl_publish(dir, a, 0) == -EINVAL, "an empty CRL is refused");
        free(a);
        free(b);
        free(e);
        free(pool);
}

/* ---------------------------------------------------------------- files for the real tools */

static void write_for_tools(CrlSigner *s, Ca *ca, const char *out) {
        char dir[400], path[500];
        time_t now = time(NULL);
        X509 *revoked = make_leaf(ca, "8F00AA55", "revoked-user", now - 86400, now + 365 * 86400, NULL);
        X509 *valid = make_leaf(ca, "1F00AA56", "valid-user", now - 86400, now + 365 * 86400, NULL);
        CrlEntry e[] = {
                { "8F00AA55", USEC(now - 60), CRL_REASON_KEY_COMPROMISE },
                { "0123", USEC(now - 3600), CRL_REASON_UNSPECIFIED },
                { "AB", USEC(now - 7200), CRL_REASON_CESSATION_OF_OPERATION },
                { "7F01", USEC(now - 86400), CRL_REASON_SUPERSEDED },
        };
        unsigned char *der = NULL;
        size_t len = 0;

        snprintf(dir, sizeof dir, "%s/%s", out, ca->name);
        mkdir(out, 0755);
        mkdir(dir, 0755);
        snprintf(path, sizeof path, "%s/ca.pem", dir);
        write_cert(path, ca->cert);
        snprintf(path, sizeof path, "%s/revoked.pem", dir);
        write_cert(path, revoked);
        snprintf(path, sizeof path, "%s/valid.pem", dir);
        write_cert(path, valid);
        CHECK(crl_build(s, ca->cert, e, ELEMENTSOF(e), 4242, USEC(now - 120), USEC(now + 7 * 86400), &der, &len) == 0 &&
              crl_publish(dir, der, len) == 0, "%s: CRL for the tools written to %s", ca->name, dir);
        free(der);
        X509_free(revoked);
        X509_free(valid);
}

/* ---------------------------------------------------------------- PKCS#11 */

/* Logs the token out behind the signer's back, through a module instance of
 * our own (as a token walk elsewhere in the daemon might): the signer's key
 * handle goes stale, and the next CRL must still be signed. */
static int logout_elsewhere(const char *module_path, const char *label, const char *pin) {
        CK_FUNCTION_LIST *m = p11_kit_module_load(module_path, 0);
        CK_SLOT_ID slots[16];
        CK_ULONG n = ELEMENTSOF(slots);
        CK_SESSION_HANDLE h;
        CK_RV rv = CKR_GENERAL_ERROR;

        if (!m || p11_kit_module_initialize(m) != CKR_OK)
                return -EIO;
        if (m->C_GetSlotList(CK_TRUE, slots, &n) == CKR_OK)
                for (CK_ULONG i = 0; i < n; i++) {
                        CK_TOKEN_INFO ti;
                        size_t l = strlen(label);

                        if (m->C_GetTokenInfo(slots[i], &ti) != CKR_OK || l > sizeof ti.label ||
                            memcmp(ti.label, label, l) != 0 || (l < sizeof ti.label && ti.label[l] != ' '))
                                continue;
                        if (m->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &h) != CKR_OK)
                                break;
                        rv = m->C_Logout(h);
                        if (rv == CKR_USER_NOT_LOGGED_IN &&
                            m->C_Login(h, CKU_USER, (CK_UTF8CHAR *) pin, strlen(pin)) == CKR_OK)
                                rv = m->C_Logout(h);
                        m->C_CloseSession(h);
                        break;
                }
        p11_kit_module_finalize(m);
        p11_kit_module_release(m);
        return rv == CKR_OK ? 0 : -EIO;
}

static char *first_line(const char *path) {
        unsigned char *data = NULL;
        size_t n = 0;

        if (!path || read_file(path, &data, &n) < 0)
                return NULL;
        data[n] = 0;
        data[strcspn((char *) data, "\n")] = 0;
        return (char *) data;
}

/* The CA key on a token, named by CRL_TEST_PKCS11_URI; the PIN file in
 * CRL_TEST_PKCS11_PIN_FILE (and a wrong one in ..._BAD_PIN_FILE), the CA
 * certificate in CRL_TEST_PKCS11_CA, a serial to revoke in
 * CRL_TEST_PKCS11_REVOKE; with CRL_TEST_PKCS11_MODULE and _TOKEN the token
 * is logged out between two CRLs (PIN from the PIN file, else
 * CRL_TEST_PKCS11_PIN).  The CRL goes to $CRL_TEST_OUT/pkcs11. */
static void signing_on_token(const char *out) {
        const char *uri = getenv("CRL_TEST_PKCS11_URI"), *pin_file = getenv("CRL_TEST_PKCS11_PIN_FILE");
        const char *ca_path = getenv("CRL_TEST_PKCS11_CA"), *serial = getenv("CRL_TEST_PKCS11_REVOKE");
        const char *bad_pin_file = getenv("CRL_TEST_PKCS11_BAD_PIN_FILE");
        const char *module = getenv("CRL_TEST_PKCS11_MODULE"), *label = getenv("CRL_TEST_PKCS11_TOKEN");
        time_t now = time(NULL);
        CrlEntry e[] = {
                { serial ?: "01", USEC(now - 60), CRL_REASON_KEY_COMPROMISE },
                { "02", USEC(now - 60), CRL_REASON_NONE },
        };
        unsigned char *der = NULL;
        char dir[400], *error = NULL, *pin;
        CrlSigner *s = NULL;
        X509_CRL *crl = NULL;
        X509 *ca = NULL;
        FILE *f;
        size_t len = 0;
        int r;

        if (!ca_path || !(f = fopen(ca_path, "re"))) {
                CHECK(0, "token: CRL_TEST_PKCS11_CA names a readable CA certificate");
                return;
        }
        ca = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
        if (bad_pin_file) {
                r = crl_signer_open(uri, bad_pin_file, ca, &s, &error);
                CHECK(r == -EACCES && !s && error, "token: a wrong PIN is refused (%s)", error ?: "no message");
                free(error);
                error = NULL;
        }
        r = crl_signer_open(uri, pin_file, ca, &s, &error);
        CHECK(r == 0 && s, "token: signer opened from %s (%s)", uri, error ?: "ok");
        free(error);
        for (int round = 0; s && round < 2; round++) {
                if (round == 1 && module && label) {
                        pin = !isempty(pin_file) ? first_line(pin_file) : strdup(getenv("CRL_TEST_PKCS11_PIN") ?: "");
                        CHECK(pin && logout_elsewhere(module, label, pin) == 0, "token: logged out behind the signer");
                        free(pin);
                }
                r = crl_build(s, ca, e, ELEMENTSOF(e), 77 + round, USEC(now - 120), USEC(now + 7 * 86400), &der, &len);
                crl = r == 0 ? parse(der, len) : NULL;
                CHECK(crl && X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1 &&
                      sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) == 2,
                      "token: CRL %d signed on the token verifies with the CA certificate", round);
                X509_CRL_free(crl);
                if (round == 0 && out) {
                        snprintf(dir, sizeof dir, "%s/pkcs11", out);
                        mkdir(out, 0755);
                        mkdir(dir, 0755);
                        CHECK(crl_publish(dir, der, len) == 0, "token: CRL written to %s", dir);
                }
                free(der);
                der = NULL;
        }
        crl_signer_free(s);
        X509_free(ca);
}

static void rm_tmp(void) {
        char cmd[100];

        snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
        (void) !system(cmd);
}

/* Whether the PEM file at path holds exactly the CRL der. */
static bool pem_is(const char *path, const unsigned char *der, size_t len) {
        FILE *f = fopen(path, "re");
        X509_CRL *crl = f ? PEM_read_X509_CRL(f, NULL, NULL, NULL) : NULL;
        unsigned char *back = NULL;
        int n = crl ? i2d_X509_CRL(crl, &back) : -1;
        bool same = n > 0 && (size_t) n == len && memcmp(back, der, len) == 0;

        if (f)
                fclose(f);
        X509_CRL_free(crl);
        OPENSSL_free(back);
        return same;
}

typedef struct PaceCount {
        unsigned calls, stop_at;
} PaceCount;

static int pace_count(void *userdata) {
        PaceCount *p = userdata;

        return ++p->calls == p->stop_at ? -ECANCELED : 0;
}

/* crl.pem written in slices with a pace between them: a pace that stops
 * the writing leaves no file and the old crl.pem; one that lets it go on
 * gives a temporary file that becomes crl.pem only when committed. */
static void test_pem_paced(CrlSigner *s, Ca *ca) {
        _cleanup_(atomic_file_done) AtomicFile f = ATOMIC_FILE_INIT, g = ATOMIC_FILE_INIT;
        char dir[300], old[400];
        unsigned char *a = NULL, *b = NULL;
        size_t a_len = 0, b_len = 0;
        char *pool;
        CrlEntry *e = many_entries(5000, &pool);
        PaceCount go = {}, stop = { .stop_at = 2 };
        int dir_fd, r;

        snprintf(dir, sizeof dir, "%s/paced", tmp);
        mkdir(dir, 0755);
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        build(s, ca, e, 1, 1, T2020, T2020 + 1, &a, &a_len);
        build(s, ca, e, 5000, 2, T2020, T2020 + 1, &b, &b_len);
        CHECK(dir_fd >= 0 && crl_publish_at(dir_fd, a, a_len) == 0, "paced: an old crl.der and crl.pem in place");
        snprintf(old, sizeof old, "%s/crl.pem", dir);
        r = crl_pem_prepare_at(dir_fd, b, b_len, pace_count, &stop, &f);
        CHECK(r == -ECANCELED && stop.calls == 2, "paced: a pace that stops gives its error (%d) at once", r);
        atomic_file_done(&f);
        CHECK(count_files(dir) == 2 && pem_is(old, a, a_len), "paced: nothing left of it, the old crl.pem stays");
        r = crl_pem_prepare_at(dir_fd, b, b_len, pace_count, &go, &g);
        CHECK(r == 0 && go.calls > 2, "paced: the pace is called between slices (%u times)", go.calls);
        CHECK(pem_is(old, a, a_len), "paced: prepared, crl.pem is still the old one");
        CHECK(atomic_file_commit("crl.pem", &g) == 0 && pem_is(old, b, b_len) && count_files(dir) == 2,
              "paced: committed, crl.pem is the new CRL and nothing else is left");
        close(dir_fd);
        free(a);
        free(b);
        free(e);
        free(pool);
}

int main(void) {
        const char *out = getenv("CRL_TEST_OUT");
        Ca cas[2];

        (void) cert_der;
        if (!mkdtemp(tmp)) {
                perror("mkdtemp");
                return 1;
        }
        /* the token run of tests/integration/test-crl-tools.sh wants only that */
        if (getenv("CRL_TEST_PKCS11_URI")) {
                signing_on_token(out);
                rm_tmp();
                return CHECK_EXIT();
        }
        test_reasons();
        ca_init(&cas[0], "rsa");
        ca_init(&cas[1], "ec");
        for (size_t i = 0; i < ELEMENTSOF(cas); i++) {
                Ca *ca = &cas[i];
                CrlSigner *s = NULL;
                char *error = NULL;
                int r = crl_signer_open(ca->key_path, NULL, ca->cert, &s, &error);

                CHECK(r == 0 && s && !error, "%s: signer opened from %s", ca->name, ca->key_path);
                free(error);
                if (!s)
                        continue;
                test_empty(s, ca);
                test_entries(s, ca);
                test_bad_input(s, ca);
                test_sizes(s, ca);
                test_signer_refusals(ca, &cas[1 - i]);
                test_signer_passphrase_file(ca);
                if (i == 0) {
                        test_publish(s, ca);
                        test_pem_paced(s, ca);
                }
                if (out)
                        write_for_tools(s, ca, out);
                test_aki_without_ski(ca->name);
                crl_signer_free(s);
        }
        ca_done(&cas[0]);
        ca_done(&cas[1]);
        rm_tmp();
        return CHECK_EXIT();
}
