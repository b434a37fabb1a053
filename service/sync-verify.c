/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cleanup.h"
#include "revoked-index-format.h"
#include "sync-patch.h"
#include "sync-verify.h"
#include "util.h"
#include "x509.h"

/* ca.pem holds one certificate. */
#define CA_FILE_MAX (1 << 20)

DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_CRL *, X509_CRL_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_INTEGER *, ASN1_INTEGER_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(AUTHORITY_KEYID *, AUTHORITY_KEYID_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_TIME *, ASN1_TIME_free)

static int ca_encode(SyncCa *ca, const char **why) {
        _cleanup_(BIO_freep) BIO *mem = BIO_new(BIO_s_mem());
        unsigned char *p = NULL;
        char *pem = NULL;
        CertFields f;
        Span in;
        long n;
        int len;

        *why = "out of memory";
        if (!mem || (len = i2d_X509(ca->cert, &p)) <= 0)
                return -ENOMEM;
        ca->der = p;
        ca->der_len = (size_t) len;
        if (!PEM_write_bio_X509(mem, ca->cert) || (n = BIO_get_mem_data(mem, &pem)) <= 0 ||
            !(ca->pem = malloc((size_t) n)))
                return -ENOMEM;
        memcpy(ca->pem, pem, (size_t) n);
        ca->pem_len = (size_t) n;
        /* the subject as the trust module and revoked.idx see it */
        in = (Span) { ca->der, ca->der_len };
        *why = "the CA certificate cannot be read as the trust module reads it";
        if (x509_parse(&in, &f) < 0 || in.len != 0)
                return -EBADMSG;
        ca->subject = f.subject;
        return 0;
}

int sync_ca_load(const char *path, SyncCa *ret, const char **why) {
        _cleanup_(BIO_freep) BIO *bio = NULL;
        SyncCa ca = {};
        int r;

        assert(path);
        *why = "cannot be opened";
        if (!(bio = BIO_new_file(path, "r")))
                return -errno ? -errno : -EIO;
        *why = "holds no PEM certificate";
        if (!(ca.cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
                return -EBADMSG;
        r = ca_encode(&ca, why);
        if (r < 0) {
                sync_ca_done(&ca);
                return r;
        }
        *ret = ca;
        return 0;
}

void sync_ca_done(SyncCa *ca) {
        X509_free(ca->cert);
        OPENSSL_free(ca->der);
        free(ca->pem);
        *ca = (SyncCa) {};
}

static int time_usec(const ASN1_TIME *t, uint64_t *ret) {
        struct tm tm;
        time_t s;

        if (!t || !ASN1_TIME_to_tm(t, &tm))
                return -EBADMSG;
        s = timegm(&tm);
        if (s < 0)
                return -EBADMSG;
        *ret = (uint64_t) s * USEC_PER_SEC;
        return 0;
}

static int crl_number(X509_CRL *crl, uint64_t *ret) {
        _cleanup_(ASN1_INTEGER_freep) ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);

        if (!n || !ASN1_INTEGER_get_uint64(ret, n))
                return -EBADMSG;
        return 0;
}

int sync_crl_head(const SyncCa *ca, const uint8_t *der, size_t len, uint64_t *ret_number,
                  uint64_t *ret_next_update_usec, bool *ret_ours) {
        _cleanup_(ASN1_TIME_freep) ASN1_TIME *t = NULL;
        const unsigned char *p;
        const char *why;
        CrlHead head;
        CrlLayout l;

        /* the module's reader: issuer and number, the entries stepped over */
        if (crl_parse_head((Span) { der, len }, &head, &why) < 0 || crl_layout(der, len, &l) < 0)
                return -EBADMSG;
        *ret_number = head.number;
        *ret_ours = span_eq(head.issuer, ca->subject);
        *ret_next_update_usec = 0;
        p = der + l.next_update;
        if (l.next_update_len > 0 && (t = d2i_ASN1_TIME(NULL, &p, (long) l.next_update_len)))
                (void) time_usec(t, ret_next_update_usec);
        return 0;
}

/* The authority key identifier, when the CRL and the CA both name one,
 * must be the CA's. */
static bool aki_matches(X509_CRL *crl, X509 *ca) {
        _cleanup_(AUTHORITY_KEYID_freep) AUTHORITY_KEYID *aki = NULL;
        const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca);
        int crit = 0;

        aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit, NULL);
        if (!aki)
                return crit == -1;      /* absent (-1), not unparsable (-2) */
        return !aki->keyid || !ski || ASN1_OCTET_STRING_cmp(aki->keyid, ski) == 0;
}

/* Critical extensions a full CRL of ours may carry: none is critical
 * today, and one not understood makes the CRL unusable (RFC 5280 §5.2). */
static bool extensions_understood(const X509_CRL *crl) {
        for (int i = 0; i < X509_CRL_get_ext_count(crl); i++) {
                X509_EXTENSION *e = X509_CRL_get_ext(crl, i);
                int nid = OBJ_obj2nid(X509_EXTENSION_get_object(e));

                if (!X509_EXTENSION_get_critical(e))
                        continue;
                if (nid != NID_crl_number && nid != NID_authority_key_identifier && nid != NID_issuing_distribution_point)
                        return false;
        }
        return true;
}

static bool lists_remove_from_crl(X509_CRL *crl) {
        STACK_OF(X509_REVOKED) *entries = X509_CRL_get_REVOKED(crl);

        for (int i = 0; i < sk_X509_REVOKED_num(entries); i++) {
                ASN1_ENUMERATED *reason;
                long v;

                reason = X509_REVOKED_get_ext_d2i(sk_X509_REVOKED_value(entries, i), NID_crl_reason, NULL, NULL);
                v = reason ? ASN1_ENUMERATED_get(reason) : -1;
                ASN1_ENUMERATED_free(reason);
                if (v == CRL_REASON_REMOVE_FROM_CRL)
                        return true;
        }
        return false;
}

static int check_times(X509_CRL *crl, uint64_t now_usec, const char **why) {
        uint64_t this_update, next_update;

        *why = "its thisUpdate cannot be read";
        if (time_usec(X509_CRL_get0_lastUpdate(crl), &this_update) < 0)
                return -EBADMSG;
        *why = "it has no nextUpdate";
        if (time_usec(X509_CRL_get0_nextUpdate(crl), &next_update) < 0)
                return -EBADMSG;
        *why = "its thisUpdate is in the future";
        if (this_update > now_usec + SYNC_CLOCK_SKEW_USEC)
                return -EBADMSG;
        *why = "it is past its nextUpdate";
        if (next_update <= now_usec)
                return -EBADMSG;
        return 0;
}

int sync_crl_verify(const SyncCa *ca, const uint8_t *der, size_t len, uint64_t now_usec, X509_CRL **ret,
                    uint64_t *ret_number, const char **why) {
        _cleanup_(X509_CRL_freep) X509_CRL *crl = NULL;
        const unsigned char *p = der;
        int r;

        assert(ca && ca->cert);
        *why = "it is not one whole DER CRL";
        if (len == 0 || len > LONG_MAX || !(crl = d2i_X509_CRL(NULL, &p, (long) len)) || p != der + len)
                return -EBADMSG;
        *why = "it is not a version 2 CRL";
        if (X509_CRL_get_version(crl) != X509_CRL_VERSION_2)
                return -EBADMSG;
        *why = "it is not issued by the configured CA";
        if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca->cert)) != 0 || !aki_matches(crl, ca->cert))
                return -EBADMSG;
        *why = "its signature does not verify with the configured CA's key";
        if (X509_CRL_verify(crl, X509_get0_pubkey(ca->cert)) != 1)
                return -EBADMSG;
        *why = "it is a delta CRL, not a full one";
        if (X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1) >= 0)
                return -EBADMSG;
        *why = "it has a critical extension not understood";
        if (!extensions_understood(crl))
                return -EBADMSG;
        *why = "it has no CRL number";
        if (crl_number(crl, ret_number) < 0)
                return -EBADMSG;
        *why = "a full CRL lists removeFromCRL";
        if (lists_remove_from_crl(crl))
                return -EBADMSG;
        if ((r = check_times(crl, now_usec, why)) < 0)
                return r;
        *why = NULL;
        *ret = TAKE_PTR(crl);
        return 0;
}

int sync_cert_verify(const SyncCa *ca, const uint8_t *der, size_t len, const char **why) {
        _cleanup_(X509_freep) X509 *cert = NULL;
        const unsigned char *p = der;

        *why = "it is not one whole DER certificate";
        if (len == 0 || len > RI_DER_MAX || !(cert = d2i_X509(NULL, &p, (long) len)) || p != der + len)
                return -EBADMSG;
        *why = "it is not issued by the configured CA";
        if (X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(ca->cert)) != 0)
                return -EBADMSG;
        *why = "its signature does not verify with the configured CA's key";
        if (X509_verify(cert, X509_get0_pubkey(ca->cert)) != 1)
                return -EBADMSG;
        *why = NULL;
        return 0;
}

uint64_t sync_serial_key(const SyncCa *ca, const uint8_t *serial, size_t len) {
        return ri_key(ca->subject.p, ca->subject.len, serial, len);
}
