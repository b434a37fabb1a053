/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CRL of certrevoke: an RFC 5280 v2 CRL written directly as DER,
 * signed with the CA key (a PEM file or a key on a PKCS#11 token) and
 * published atomically.  Everything here may run in a worker thread: there
 * is no global state, and a CrlSigner is used by one thread at a time. */
#pragma once

#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stddef.h>
#include <stdint.h>

typedef struct CrlEntry {
        const char *serial;        /* hex as openssl prints it, e.g. "1A2B" / "0F"; 1..64 digits */
        uint64_t revoked_usec;     /* revocationDate; sub-second part dropped */
        int reason;                /* CRL_REASON_*, or CRL_REASON_NONE (-1) for none */
} CrlEntry;

/* "" is unspecified; otherwise a reason name exactly as OpenSSL spells it
 * (keyCompromise, CACompromise, ...).  -EINVAL for anything else. */
int crl_reason_from_string(const char *s);
/* The OpenSSL name; CRL_REASON_NONE gives "unspecified" (RFC 5280: an
 * absent reason means unspecified); NULL for a value that is no reason. */
const char *crl_reason_to_string(int reason);

typedef struct CrlSigner CrlSigner;

/* key: an absolute path of a PEM private key (pin_file, when given, holds
 * its passphrase), or an RFC 7512 pkcs11: URI of a private key on a token:
 * the module is module-path= of the URI, else the one among the p11-kit
 * registered modules whose token matches (module-name= narrows it); the
 * PIN is the first line of pin_file, else pin-value= of the URI.  The key
 * must belong to ca (RSA or EC).  On failure *error (malloc'd, may be
 * NULL) says why for an administrator.  A token session stays open; if it
 * is lost (card pulled), crl_build opens it again from key and pin_file. */
int crl_signer_open(const char *key, const char *pin_file, X509 *ca, CrlSigner **ret, char **error);
void crl_signer_free(CrlSigner *s);

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

/* crl_build over entries encoded already: the runs in order.  Costs the
 * copy and the signature, no work per entry. */
int crl_build_encoded(CrlSigner *s, X509 *ca, const CrlEncoded *parts, size_t n_parts, uint64_t number,
                      uint64_t this_update_usec, uint64_t next_update_usec, unsigned char **ret_der,
                      size_t *ret_len);

/* Replaces dir/crl.der and dir/crl.pem ("X509 CRL"), mode 0644: both are
 * written to temporary files and synced before either is renamed over the
 * old one, then the directory is synced.  On error (-ENOSPC, -EACCES,
 * -EROFS, ...) no temporary file is left and the old files stay. */
int crl_publish(const char *dir, const unsigned char *der, size_t len);
/* The same in the directory dir_fd, which stays open. */
int crl_publish_at(int dir_fd, const unsigned char *der, size_t len);

/* The two halves of crl_publish_at, each on its own (the same rules):
 * crl.der, which readers that matter wait for, then crl.pem, its PEM
 * copy, which may follow. */
int crl_write_der_at(int dir_fd, const unsigned char *der, size_t len);
int crl_write_pem_at(int dir_fd, const unsigned char *der, size_t len);
