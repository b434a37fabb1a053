/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for certrevoke-ocspd's request path: the GET path
 * decoding, the DER parsing and the CertID matching (ocsp-request.c).
 *
 * Input: the first octet picks the path; bit 0 clear: the rest is a DER
 * request, as a POST body; set: the rest is a GET path (cut at a NUL).
 * The issuer is the CA in $FUZZ_OCSP_CA (PEM; fuzz/ocsp-seeds.sh writes
 * it beside the seeds, whose requests name it), else a CA made here. */
#include <assert.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <stdlib.h>

#include "ocsp-request.h"

/* The one issuer of the whole run: libFuzzer has no context to hand on. */
static OcspIssuer issuer;

static X509 *make_ca(void) {
        EVP_PKEY *key = EVP_EC_gen("P-256");
        X509 *ca = X509_new();

        assert(key && ca);
        X509_set_version(ca, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(ca), 1);
        X509_NAME_add_entry_by_txt(X509_get_subject_name(ca), "CN", MBSTRING_ASC,
                                   (const unsigned char *) "Fuzz CA", -1, -1, 0);
        X509_set_issuer_name(ca, X509_get_subject_name(ca));
        X509_gmtime_adj(X509_getm_notBefore(ca), 0);
        X509_gmtime_adj(X509_getm_notAfter(ca), 86400);
        X509_set_pubkey(ca, key);
        X509_sign(ca, key, EVP_sha256());
        EVP_PKEY_free(key);
        return ca;
}

static X509 *load_ca(const char *path) {
        FILE *f = fopen(path, "re");
        X509 *ca;

        if (!f)
                return NULL;
        ca = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
        return ca;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        const char *path = getenv("FUZZ_OCSP_CA");
        X509 *ca = path ? load_ca(path) : NULL;

        (void) argc;
        (void) argv;
        if (!ca)
                ca = make_ca();
        /* the CA lives as long as the process */
        if (ocsp_issuer_init(&issuer, ca) < 0)
                abort();
        return 0;
}

static void parse(const uint8_t *der, size_t len) {
        OcspQuery q;
        OcspVerdict v = ocsp_request_parse(&issuer, der, len, &q);

        /* the verdict and the query agree */
        assert(v != OCSP_VERDICT_OK || (q.req && q.serial_len <= OCSP_SERIAL_MAX &&
                                        (q.serial_len == 0 || q.serial[0] != 0)));
        assert(v == OCSP_VERDICT_OK || !q.req);
        ocsp_query_done(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t der[OCSP_REQUEST_MAX];
        char path[OCSP_GET_PATH_MAX + 2];
        size_t n;

        if (size < 1)
                return 0;
        if (!(data[0] & 1)) {
                parse(data + 1, size - 1);
                return 0;
        }
        n = size - 1 < sizeof path - 1 ? size - 1 : sizeof path - 1;
        memcpy(path, data + 1, n);
        path[n] = 0;
        if (ocsp_get_path_decode(path, der, sizeof der, &n) == 0) {
                assert(n <= sizeof der);
                parse(der, n);
        }
        return 0;
}
