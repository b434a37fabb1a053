/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "certrevoke.h"

/* What certrevoke keeps of an X.509 certificate. */
typedef struct CertInfo {
        unsigned char *der;
        size_t der_len;
        char *serial;          /* upper-case hex, two digits a byte, as openssl prints it */
        char *issuer;          /* RFC 2253, UTF-8 */
        char *subject;         /* RFC 2253, UTF-8 */
        uint64_t not_before_usec;
        uint64_t not_after_usec;
        char fingerprint[65];  /* SHA-256 of the DER, lower-case hex */
        char *login_id;        /* subject UID, else CN; NULL if neither is a valid login ID */
} CertInfo;

/* Parses DER; -EBADMSG if it is not one whole certificate. */
int cert_info_from_der(const unsigned char *der, size_t len, CertInfo *ret);
void cert_info_done(CertInfo *c);

/* 1 when ca issued cert: names chain and the signature verifies with ca's key. */
int cert_issued_by(const unsigned char *der, size_t len, X509 *ca);

/* SHA-256 of the DER in lower-case hex. */
int cert_fingerprint(const unsigned char *der, size_t len, char ret[static 65]);

/* Reads a PEM certificate. */
int cert_load_pem(const char *path, X509 **ret);

/* Normalises a serial given by a user (hex, optional colons, any case). */
int cert_serial_normalize(const char *in, char **ret);

/* A serial as the store spells it: upper-case hex as BN_bn2hex gives it;
 * NULL for a negative one or no memory. */
char *cert_serial_to_hex(const ASN1_INTEGER *serial);
