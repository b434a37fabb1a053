/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CRL written as DER: revokedCertificates entries, TBSCertList and
 * the signed CertificateList, an RFC 5280 v2 CRL.  No global state: it may
 * run in a worker thread. */
#pragma once

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "crl-signer.h"

typedef struct CrlEntry {
        const char *serial;        /* hex as openssl prints it, e.g. "1A2B" / "0F"; 1..64 digits */
        uint64_t revoked_usec;     /* revocationDate; sub-second part dropped */
        int reason;                /* CRL_REASON_*, or CRL_REASON_NONE (-1) for none */
} CrlEntry;

/* DER of a v2 CRL of ca listing entries (in the given order), signed by s
 * with SHA-256 (RSA PKCS#1 v1.5 or ECDSA) and checked with ca's public key
 * before it is returned.  *ret_der is malloc'd; free() it.  -EINVAL for a
 * bad entry (bad serial, removeFromCRL, unknown reason) or bad times,
 * -EKEYREJECTED when the signature does not verify, -EIO when the signer
 * fails. */
int crl_build(CrlSigner *s, X509 *ca, const CrlEntry *entries, size_t n, uint64_t number,
              uint64_t this_update_usec, uint64_t next_update_usec, unsigned char **ret_der, size_t *ret_len);

/* The largest entry crl_entry_encode writes: a 33-octet serial,
 * GeneralizedTime and a reason, with their headers. */
#define CRL_ENTRY_MAX 96

/* The DER of one revokedCertificates entry, as crl_build writes it, for a
 * publisher that keeps its entries encoded between builds.  -EINVAL for a
 * bad entry, as crl_build. */
int crl_entry_encode(const CrlEntry *e, uint8_t out[static CRL_ENTRY_MAX], size_t *ret_len);

/* A run of whole entries as crl_entry_encode wrote them. */
typedef struct CrlEncoded {
        const uint8_t *data;
        size_t len;
} CrlEncoded;

/* Where a CRL is built: kept from build to build by a publisher, so that
 * tens of megabytes are neither faulted in nor unmapped each time. */
typedef struct CrlBuffer {
        unsigned char *data;
        size_t len;             /* of the CRL in data */
        size_t allocated;
} CrlBuffer;

void crl_buffer_free(CrlBuffer *b);

/* crl_build over entries encoded already: the runs in order, into out
 * (grown when too small).  Costs the copy and the signature, no work per
 * entry. */
int crl_build_encoded(CrlSigner *s, X509 *ca, const CrlEncoded *parts, size_t n_parts, uint64_t number,
                      uint64_t this_update_usec, uint64_t next_update_usec, CrlBuffer *out);
