/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Makes keys and certificates with OpenSSL for unit tests. */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <time.h>

static EVP_PKEY *gen_key(void) {
        return EVP_EC_gen("P-256");
}

/* uid or cn may be NULL; issuer NULL makes it self-signed (a CA). */
static X509 *gen_cert(EVP_PKEY *key, const char *uid, const char *cn, long serial,
                      time_t not_before, time_t not_after, X509 *issuer, EVP_PKEY *issuer_key) {
        X509 *x = X509_new();
        X509_NAME *n = X509_NAME_new();

        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
        X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *) "Test Org", -1, -1, 0);
        if (uid)
                X509_NAME_add_entry_by_NID(n, NID_userId, MBSTRING_UTF8, (const unsigned char *) uid, -1, -1, 0);
        if (cn)
                X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0);
        X509_set_subject_name(x, n);
        X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
        X509_NAME_free(n);
        ASN1_TIME_set(X509_getm_notBefore(x), not_before);
        ASN1_TIME_set(X509_getm_notAfter(x), not_after);
        X509_set_pubkey(x, key);
        X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
        return x;
}

static int cert_der(X509 *x, unsigned char **ret) {
        *ret = NULL;
        return i2d_X509(x, ret);
}
