/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The parts of an X.509 certificate the module shows as PKCS#11 attributes,
 * found by walking the DER in place. */
#pragma once

#include "der.h"

typedef struct CertFields {
        Span value;     /* the whole certificate (CKA_VALUE) */
        Span serial;    /* the serialNumber INTEGER with tag and length (CKA_SERIAL_NUMBER) */
        Span issuer;    /* the issuer Name, whole (CKA_ISSUER) */
        Span subject;   /* the subject Name, whole (CKA_SUBJECT) */
        Span spki;      /* the SubjectPublicKeyInfo, whole (CKA_PUBLIC_KEY_INFO) */
        Span key_bits;  /* the subjectPublicKey BIT STRING's bits */
        Span ski;       /* the subjectKeyIdentifier's octets; empty without one */
        Span login;     /* the subject's UID, else its CN, when it is a login ID */
        Span cn;        /* the subject's first CN in an ASCII or UTF-8 string type */
        bool is_ca;     /* basicConstraints cA */
} CertFields;

/* Takes one certificate off the front of *in.  Returns 0, or -EBADMSG when
 * the bytes there are not a DER certificate. */
int x509_parse(Span *in, CertFields *ret);

/* What the module takes from the CRL: its issuer (the whole Name) and its
 * number. */
typedef struct CrlHead {
        Span issuer;
        uint64_t number;
        Span signature;         /* the signatureValue BIT STRING, whole */
} CrlHead;

/* Reads a v2 CRL's issuer and cRLNumber, stepping over the list of
 * revoked certificates by its length: the cost does not grow with the
 * list.  -EBADMSG with *why for anything that is not one whole DER CRL, a
 * CRL without a number or with one past 2^64, and a delta CRL (it lists
 * only changes). */
int crl_parse_head(Span crl, CrlHead *ret, const char **why);
