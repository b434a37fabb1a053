/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An OCSP request (RFC 6960 4.1) as certrevoke-ocspd reads it: the GET
 * path decoded, the DER parsed, the one CertID matched against the CA it
 * serves.  No I/O and no shared state: the fuzzer drives it as it is. */
#pragma once

#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Requests above this are refused before parsing (RFC 5019 clients send
 * one CertID and perhaps a nonce: well under 200 bytes). */
#define OCSP_REQUEST_MAX 4096
/* A GET path longer than this is refused: RFC 9919 clients use GET up to
 * 255 bytes, so this leaves room for percent-encoding of every '+/='. */
#define OCSP_GET_PATH_MAX 1024
/* RFC 5280 4.1.2.2: serials are at most 20 octets; a little slack for
 * the CAs that miscount, nothing beyond. */
#define OCSP_SERIAL_MAX 32

/* The CertID hash algorithms answered. */
typedef enum OcspHash {
        OCSP_HASH_SHA1,
        OCSP_HASH_SHA256,
        _OCSP_HASH_MAX,
} OcspHash;

/* The served CA as CertIDs name it, for each hash algorithm. */
typedef struct OcspIssuer {
        uint8_t name_hash[_OCSP_HASH_MAX][32];
        uint8_t key_hash[_OCSP_HASH_MAX][32];
        X509 *ca;               /* borrowed */
} OcspIssuer;

typedef enum OcspVerdict {
        OCSP_VERDICT_OK,
        OCSP_VERDICT_MALFORMED,         /* not one well-formed request with one CertID */
        OCSP_VERDICT_UNAUTHORIZED,      /* a CertID of another issuer, or another hash */
} OcspVerdict;

/* What a request asks. */
typedef struct OcspQuery {
        OCSP_REQUEST *req;              /* owned: the nonce is copied from it */
        OcspHash hash;
        uint8_t serial[OCSP_SERIAL_MAX];        /* magnitude, no leading zero octets */
        size_t serial_len;
        bool has_nonce;
} OcspQuery;

int ocsp_issuer_init(OcspIssuer *iss, X509 *ca);

/* The digest of a hash algorithm and the length of its output. */
const EVP_MD *ocsp_hash_md(OcspHash h);
size_t ocsp_hash_len(OcspHash h);

/* A serial as the table keys it: the magnitude without leading zero
 * octets.  -EINVAL for a negative or an over-long one. */
int ocsp_serial_key(const ASN1_INTEGER *serial, uint8_t out[static OCSP_SERIAL_MAX], size_t *ret_len);

/* The request in a GET path ("/" then URL-escaped base64; RFC 5019 A.1):
 * %XX escapes decoded here (the HTTP server must leave them alone), then
 * base64.  -EINVAL for anything else, -E2BIG beyond max. */
int ocsp_get_path_decode(const char *path, uint8_t *out, size_t max, size_t *ret_len);

/* Parses der (all of it) into q and matches its CertID.  q->req is set on
 * OK only; ocsp_query_done() releases it either way. */
OcspVerdict ocsp_request_parse(const OcspIssuer *iss, const uint8_t *der, size_t len, OcspQuery *q);
void ocsp_query_done(OcspQuery *q);
