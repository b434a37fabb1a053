/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What certrevoke-sync accepts from the network: a full CRL signed by the
 * configured CA, in its time window, with a number; and certificates the
 * CA signed.  Nothing downloaded is trusted before it passed here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "der.h"

/* The CA this host trusts the CRL of: read from its own configuration,
 * never downloaded. */
typedef struct SyncCa {
        X509 *cert;
        uint8_t *der;                   /* the certificate, DER */
        size_t der_len;
        char *pem;                      /* as the trust module reads it in ca.pem */
        size_t pem_len;
        Span subject;                   /* the subject Name as encoded in der */
} SyncCa;

int sync_ca_load(const char *path, SyncCa *ret, const char **why);
void sync_ca_done(SyncCa *ca);

/* How far a CRL's thisUpdate may lie ahead of this host's clock. */
#define SYNC_CLOCK_SKEW_USEC (5ULL * 60 * 1000000)

/* Parses and verifies a full CRL: one whole DER CRL, v2, issued by the CA
 * (name, and key identifier when both carry one), signature verifying
 * with the CA's key, a CRL number, no delta CRL indicator, no critical
 * extension not understood, no removeFromCRL entry, thisUpdate not ahead
 * of now by more than the skew, nextUpdate present and after now.
 * -EBADMSG with *why otherwise. */
int sync_crl_verify(const SyncCa *ca, const uint8_t *der, size_t len, uint64_t now_usec, X509_CRL **ret,
                    uint64_t *ret_number, const char **why);

/* The head of a CRL as written here earlier (verified then), read without
 * its entries: its number, its nextUpdate (µs since the epoch, 0 without
 * one) and whether it is the CA's.  -EBADMSG when it is no CRL with a
 * number. */
int sync_crl_head(const SyncCa *ca, const uint8_t *der, size_t len, uint64_t *ret_number,
                  uint64_t *ret_next_update_usec, bool *ret_ours);

/* One whole DER certificate issued by the CA and signed by its key;
 * -EBADMSG with *why otherwise. */
int sync_cert_verify(const SyncCa *ca, const uint8_t *der, size_t len, const char **why);

/* The key revoked.idx files the CA's certificate with this serial under
 * (ri_key of the CA's subject and the serialNumber INTEGER, whole). */
uint64_t sync_serial_key(const SyncCa *ca, const uint8_t *serial, size_t len);
