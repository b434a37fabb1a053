/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevoke-ocspd's request path (ocsp-request.c): GET paths decoded as
 * RFC 5019 A.1 writes them, requests parsed, CertIDs matched. */
#include <errno.h>
#include <openssl/ocsp.h>
#include <stdlib.h>

#include "certgen.h"
#include "check.h"
#include "ocsp-request.h"

/* A request for serial of ca, hashed with md; n CertIDs; with a nonce. */
static int make_request(X509 *ca, const EVP_MD *md, long serial, int n, bool nonce, uint8_t **ret) {
        OCSP_REQUEST *req = OCSP_REQUEST_new();
        ASN1_INTEGER *sn = ASN1_INTEGER_new();
        int len;

        ASN1_INTEGER_set(sn, serial);
        for (int i = 0; i < n; i++)
                OCSP_request_add0_id(req, OCSP_cert_id_new(md, X509_get_subject_name(ca),
                                                           X509_get0_pubkey_bitstr(ca), sn));
        if (nonce)
                OCSP_request_add1_nonce(req, NULL, -1);
        *ret = NULL;
        len = i2d_OCSP_REQUEST(req, ret);
        ASN1_INTEGER_free(sn);
        OCSP_REQUEST_free(req);
        return len;
}

static OcspVerdict parse(const OcspIssuer *iss, const uint8_t *der, size_t len, OcspQuery *q) {
        OcspVerdict v = ocsp_request_parse(iss, der, len, q);

        ocsp_query_done(q);
        return v;
}

static void test_parse(X509 *ca, X509 *other) {
        OcspIssuer iss;
        OcspQuery q;
        uint8_t *der, *big;
        int len;

        CHECK(ocsp_issuer_init(&iss, ca) == 0, "issuer hashes");
        len = make_request(ca, EVP_sha1(), 0x1234, 1, false, &der);
        CHECK(parse(&iss, der, (size_t) len, &q) == OCSP_VERDICT_OK && q.hash == OCSP_HASH_SHA1 && !q.has_nonce &&
              q.serial_len == 2 && q.serial[0] == 0x12 && q.serial[1] == 0x34, "a SHA-1 request, serial 1234");
        CHECK(parse(&iss, der, (size_t) len - 1, &q) == OCSP_VERDICT_MALFORMED, "a request cut short");
        big = malloc((size_t) len + 1);
        memcpy(big, der, (size_t) len);
        big[len] = 0;
        CHECK(parse(&iss, big, (size_t) len + 1, &q) == OCSP_VERDICT_MALFORMED, "a trailing octet");
        free(big);
        OPENSSL_free(der);

        len = make_request(ca, EVP_sha256(), 0x80, 1, true, &der);
        CHECK(parse(&iss, der, (size_t) len, &q) == OCSP_VERDICT_OK && q.hash == OCSP_HASH_SHA256 && q.has_nonce &&
              q.serial_len == 1 && q.serial[0] == 0x80, "a SHA-256 request with a nonce, serial 80 (sign octet gone)");
        OPENSSL_free(der);
        len = make_request(ca, EVP_sha1(), 7, 2, false, &der);
        CHECK(parse(&iss, der, (size_t) len, &q) == OCSP_VERDICT_MALFORMED, "two CertIDs are refused");
        OPENSSL_free(der);
        len = make_request(other, EVP_sha1(), 7, 1, false, &der);
        CHECK(parse(&iss, der, (size_t) len, &q) == OCSP_VERDICT_UNAUTHORIZED, "another issuer");
        OPENSSL_free(der);
        len = make_request(ca, EVP_sha384(), 7, 1, false, &der);
        CHECK(parse(&iss, der, (size_t) len, &q) == OCSP_VERDICT_UNAUTHORIZED, "a SHA-384 CertID");
        OPENSSL_free(der);
        len = make_request(ca, EVP_sha1(), -5, 1, false, &der);
        CHECK(parse(&iss, der, (size_t) len, &q) == OCSP_VERDICT_UNAUTHORIZED, "a negative serial is none of ours");
        OPENSSL_free(der);
        CHECK(parse(&iss, (const uint8_t *) "\x30\x00", 2, &q) == OCSP_VERDICT_MALFORMED, "an empty SEQUENCE");
        CHECK(parse(&iss, NULL, 0, &q) == OCSP_VERDICT_MALFORMED, "nothing");
}

static void test_get_path(void) {
        uint8_t out[64];
        size_t n;

        CHECK(ocsp_get_path_decode("/AAEC", out, sizeof out, &n) == 0 && n == 3 && out[2] == 2, "plain base64");
        CHECK(ocsp_get_path_decode("/%2B%2F8%3D", out, sizeof out, &n) == 0 && n == 2 && out[0] == 0xfb &&
              out[1] == 0xff, "%%2B %%2F %%3D decoded");
        CHECK(ocsp_get_path_decode("/+/8=", out, sizeof out, &n) == 0 && n == 2 && out[0] == 0xfb, "+ / = as they are");
        CHECK(ocsp_get_path_decode("/%2b%2f8%3d", out, sizeof out, &n) == 0 && n == 2, "lower-case escapes");
        CHECK(ocsp_get_path_decode("/AA==", out, sizeof out, &n) == 0 && n == 1, "two = of padding");
        CHECK(ocsp_get_path_decode("/AA%00", out, sizeof out, &n) < 0, "%%00 refused");
        CHECK(ocsp_get_path_decode("/A=AA", out, sizeof out, &n) < 0, "= inside");
        CHECK(ocsp_get_path_decode("/AAA", out, sizeof out, &n) < 0, "not a multiple of four");
        CHECK(ocsp_get_path_decode("/AA A", out, sizeof out, &n) < 0, "a blank");
        CHECK(ocsp_get_path_decode("/AA%2", out, sizeof out, &n) < 0, "a cut escape");
        CHECK(ocsp_get_path_decode("AAAA", out, sizeof out, &n) < 0, "no leading /");
        CHECK(ocsp_get_path_decode("/", out, sizeof out, &n) < 0, "empty");
        CHECK(ocsp_get_path_decode("/AAAAAAAA", out, 3, &n) == -E2BIG, "beyond the buffer");
}

int main(void) {
        EVP_PKEY *key = gen_key(), *other_key = gen_key();
        time_t now = time(NULL);
        X509 *ca = gen_cert(key, NULL, "Test CA", 1, now - 60, now + 3600, NULL, NULL);
        X509 *other = gen_cert(other_key, NULL, "Test CA", 1, now - 60, now + 3600, NULL, NULL);

        (void) cert_der;        /* certgen.h's, not needed here */
        /* the same name, another key: only the key hash tells them apart */
        test_parse(ca, other);
        test_get_path();
        X509_free(ca);
        X509_free(other);
        EVP_PKEY_free(key);
        EVP_PKEY_free(other_key);
        return CHECK_EXIT();
}
