/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CA key that signs the CRL: a PEM file or a key on a PKCS#11 token.
 * A CrlSigner is used by one thread at a time. */
#pragma once

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

typedef struct CrlSigner CrlSigner;

/* key: an absolute path of a PEM private key (pin_file, when given, holds
 * its passphrase), or an RFC 7512 pkcs11: URI of a private key on a token:
 * the module is module-path= of the URI, else the one among the p11-kit
 * registered modules whose token matches (module-name= narrows it); the
 * PIN is the first line of pin_file, else pin-value= of the URI.  The key
 * must belong to ca (RSA or EC).  On failure *error (malloc'd, may be
 * NULL) says why for an administrator.  A token session stays open; if it
 * is lost (card pulled), crl_signer_sign opens it again from key and
 * pin_file. */
int crl_signer_open(const char *key, const char *pin_file, X509 *ca, CrlSigner **ret, char **error);
void crl_signer_free(CrlSigner *s);

/* EVP_PKEY_RSA or EVP_PKEY_EC, as the CA's key. */
int crl_signer_key_type(const CrlSigner *s);

/* The signature of data with SHA-256 (RSA PKCS#1 v1.5 or ECDSA, DER),
 * into sig of *sig_len bytes (at least the size of ca's key), checked with
 * ca's public key before it is returned: -EKEYREJECTED when it does not
 * verify, -EIO when the signer fails, -ENOBUFS when sig is too small. */
int crl_signer_sign(CrlSigner *s, X509 *ca, const uint8_t *data, size_t len, uint8_t *sig, size_t *sig_len);
