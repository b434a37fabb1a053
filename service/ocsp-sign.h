/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Signing OCSP responses (RFC 6960 4.2) with the responder's key: a
 * delegated responder certificate the CA issued for OCSP signing, or the
 * CA itself.  The key is only read after loading: any thread may sign. */
#pragma once

#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <pthread.h>

#include "crl-signer.h"

#include "config.h"
#include "ocsp-request.h"
#include "ocsp-table.h"

typedef struct OcspSigner {
        X509 *ca;
        X509 *cert;             /* the responder's; == ca when the CA signs */
        EVP_PKEY *key;          /* a PEM key; NULL for a key on a token */
        /* A key on a token (pkcs11: URI): OpenSSL signs with a stand-in key
         * of the same type, and the token's signature of the encoded
         * ResponseData replaces the stand-in's.  One signature at a time. */
        CrlSigner *token;
        pthread_mutex_t *token_lock;
        EVP_PKEY *stand_in;
        X509 *stand_in_cert;
        OcspIssuer issuer;
        uint64_t validity_usec;
        OcspBlob *error[OCSP_RESPONSE_STATUS_UNAUTHORIZED + 1];  /* the unsigned answers */
} OcspSigner;

/* The CA from [CA] Certificate=, the responder from [OCSP] Certificate=
 * and Key= (both unset: the CA's certificate and [CA] Key=).  *error says
 * why for an administrator. */
int ocsp_signer_open(const Config *c, OcspSigner *s, char **error);
void ocsp_signer_done(OcspSigner *s);

/* A response for one certificate in state, with the CertID in hash; the
 * nonce copied from req when req is not NULL. */
int ocsp_sign(const OcspSigner *s, const uint8_t *serial, size_t serial_len, OcspHash hash,
              const OcspCertState *state, OCSP_REQUEST *req, OcspBlob **ret);

/* The pre-encoded answer of an OCSP error status (malformedRequest,
 * tryLater, unauthorized...); borrowed. */
OcspBlob *ocsp_signer_error(const OcspSigner *s, int status);
