/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

#include "cert.h"
#include "log.h"
#include "ocsp-sign.h"
#include "pin-file.h"
#include "util.h"

static int say(char **error, const char *fmt, const char *a, const char *b) {
        if (asprintf(error, fmt, a, b) < 0)
                *error = NULL;
        return -EINVAL;
}

static int load_key(const char *path, const char *pin_file, EVP_PKEY **ret, char **error) {
        _cleanup_(pin_freep) char *pin = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        int r;

        if (strncasecmp(path, "pkcs11:", 7) == 0)
                return say(error, "%s: keys on tokens are not supported by certrevoke-ocspd yet; "
                                  "give [OCSP] Key= a PEM file%s", path, "");
        if (pin_file) {
                r = pin_file_read(pin_file, &pin, error);
                if (r < 0)
                        return r;
        }
        f = fopen(path, "re");
        if (!f) {
                r = -errno;
                say(error, "%s: cannot open: %s", path, strerror(errno));
                return r;
        }
        *ret = PEM_read_PrivateKey(f, NULL, NULL, pin);
        if (!*ret)
                return say(error, "%s: not a PEM private key%s", path, pin ? " (or the wrong passphrase)" : "");
        return 0;
}

/* A delegated responder must be one the CA made for this (RFC 6960
 * 4.2.2.2): issued by it, with id-kp-OCSPSigning. */
static int check_responder(X509 *ca, X509 *cert, const char *path, char **error) {
        if (X509_cmp(ca, cert) == 0)
                return 0;
        if (X509_check_issued(ca, cert) != X509_V_OK || X509_verify(cert, X509_get0_pubkey(ca)) != 1)
                return say(error, "%s: not issued by the CA of [CA] Certificate=%s", path, "");
        if (!(X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) || !(X509_get_extended_key_usage(cert) & XKU_OCSP_SIGN))
                return say(error, "%s: lacks the extended key usage OCSPSigning%s", path, "");
        if (X509_get_ext_by_NID(cert, NID_id_pkix_OCSP_noCheck, -1) < 0)
                log_warning("%s: no id-pkix-ocsp-nocheck extension: clients may ask for the responder's "
                            "own status", path);
        return 0;
}

static int make_errors(OcspSigner *s) {
        static const int statuses[] = {
                OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, OCSP_RESPONSE_STATUS_INTERNALERROR,
                OCSP_RESPONSE_STATUS_TRYLATER, OCSP_RESPONSE_STATUS_UNAUTHORIZED,
        };

        for (size_t i = 0; i < ELEMENTSOF(statuses); i++) {
                OCSP_RESPONSE *resp = OCSP_response_create(statuses[i], NULL);
                unsigned char *der = NULL;
                int len = resp ? i2d_OCSP_RESPONSE(resp, &der) : -1;

                OCSP_RESPONSE_free(resp);
                if (len <= 0)
                        return -ENOMEM;
                s->error[statuses[i]] = ocsp_blob_new(der, (size_t) len);
                OPENSSL_free(der);
                if (!s->error[statuses[i]])
                        return -ENOMEM;
        }
        return 0;
}

int ocsp_signer_open(const Config *c, OcspSigner *s, char **error) {
        const char *cert_path = c->ocsp_certificate ? c->ocsp_certificate : c->ca_certificate;
        const char *key_path = c->ocsp_certificate ? c->ocsp_key : c->ca_key;
        const char *pin_file = c->ocsp_certificate ? c->ocsp_pin_file : c->ca_pin_file;
        int r;

        *s = (OcspSigner) { .validity_usec = c->ocsp_validity_usec };
        *error = NULL;
        if (!c->ca_certificate)
                return say(error, "%s: [CA] Certificate= is not set%s", c->path, "");
        if (!key_path)
                return say(error, "%s: [OCSP] Key= (or, without [OCSP] Certificate=, [CA] Key=) is not set%s",
                           c->path, "");
        if (cert_load_pem(c->ca_certificate, &s->ca) < 0)
                return say(error, "%s: cannot read the CA certificate%s", c->ca_certificate, "");
        if (cert_load_pem(cert_path, &s->cert) < 0)
                return say(error, "%s: cannot read the responder certificate%s", cert_path, "");
        r = check_responder(s->ca, s->cert, cert_path, error);
        if (r < 0)
                return r;
        r = load_key(key_path, pin_file, &s->key, error);
        if (r < 0)
                return r;
        if (X509_check_private_key(s->cert, s->key) != 1)
                return say(error, "%s: not the key of %s", key_path, cert_path);
        r = ocsp_issuer_init(&s->issuer, s->ca);
        if (r < 0)
                return say(error, "%s: cannot hash the CA's name and key%s", c->ca_certificate, "");
        r = make_errors(s);
        if (r < 0)
                return say(error, "cannot encode the error answers: %s%s", strerror(-r), "");
        return 0;
}

void ocsp_signer_done(OcspSigner *s) {
        for (size_t i = 0; i < ELEMENTSOF(s->error); i++)
                ocsp_blob_unref(s->error[i]);
        EVP_PKEY_free(s->key);
        X509_free(s->cert);
        X509_free(s->ca);
        *s = (OcspSigner) {};
}

OcspBlob *ocsp_signer_error(const OcspSigner *s, int status) {
        assert(status > 0 && (size_t) status < ELEMENTSOF(s->error) && s->error[status]);
        return s->error[status];
}

static int status_code(OcspStatus st) {
        switch (st) {
        case OCSP_STATUS_GOOD:    return V_OCSP_CERTSTATUS_GOOD;
        case OCSP_STATUS_REVOKED:
        case OCSP_STATUS_HELD:    return V_OCSP_CERTSTATUS_REVOKED;
        default:                  return V_OCSP_CERTSTATUS_UNKNOWN;
        }
}

/* Spreads the re-signing of a million responses over a quarter of the
 * validity instead of all at its half. */
static uint64_t refresh_at(const OcspSigner *s, const uint8_t *serial, size_t len, uint64_t this_update) {
        uint64_t h = 0;

        for (size_t i = 0; i < len; i++)
                h = h * 131 + serial[i];
        return this_update + s->validity_usec / 2 + (s->validity_usec >= 4 ? h % (s->validity_usec / 4) : 0);
}

/* The single response for state, added to basic. */
static int add_status(const OcspSigner *s, OCSP_BASICRESP *basic, const uint8_t *serial, size_t serial_len,
                      OcspHash hash, const OcspCertState *state, time_t this_update) {
        ASN1_INTEGER *sn = ASN1_INTEGER_new();
        ASN1_GENERALIZEDTIME *thisupd = ASN1_GENERALIZEDTIME_set(NULL, this_update);
        ASN1_GENERALIZEDTIME *nextupd = ASN1_GENERALIZEDTIME_set(
                NULL, this_update + (time_t) (s->validity_usec / USEC_PER_SEC));
        ASN1_GENERALIZEDTIME *revtime = NULL;
        OCSP_CERTID *id = NULL;
        int r = -ENOMEM;

        if (!sn || !thisupd || !nextupd || !ASN1_STRING_set(sn, serial, (int) serial_len))
                goto out;
        id = OCSP_cert_id_new(ocsp_hash_md(hash), X509_get_subject_name(s->ca), X509_get0_pubkey_bitstr(s->ca), sn);
        if (!id)
                goto out;
        if (status_code(state->status) == V_OCSP_CERTSTATUS_REVOKED &&
            !(revtime = ASN1_GENERALIZEDTIME_set(NULL, (time_t) (state->revoked_usec / USEC_PER_SEC))))
                goto out;
        if (OCSP_basic_add1_status(basic, id, status_code(state->status),
                                   state->status == OCSP_STATUS_HELD ? OCSP_REVOKED_STATUS_CERTIFICATEHOLD : state->reason,
                                   revtime, thisupd, nextupd))
                r = 0;
out:
        ASN1_INTEGER_free(sn);
        ASN1_GENERALIZEDTIME_free(thisupd);
        ASN1_GENERALIZEDTIME_free(nextupd);
        ASN1_GENERALIZEDTIME_free(revtime);
        OCSP_CERTID_free(id);
        return r;
}

/* producedAt as OCSP_basic_sign() set it: Last-Modified of a GET. */
static uint64_t produced_at(const OCSP_BASICRESP *basic, uint64_t fallback) {
        const ASN1_GENERALIZEDTIME *t = OCSP_resp_get0_produced_at(basic);
        struct tm tm;
        time_t sec;

        if (!t || !ASN1_TIME_to_tm(t, &tm) || (sec = timegm(&tm)) < 0)
                return fallback;
        return (uint64_t) sec * USEC_PER_SEC;
}

static int encode(OCSP_BASICRESP *basic, OcspBlob **ret) {
        OCSP_RESPONSE *resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic);
        unsigned char *der = NULL;
        int len = resp ? i2d_OCSP_RESPONSE(resp, &der) : -1;

        OCSP_RESPONSE_free(resp);
        if (len <= 0)
                return -ENOMEM;
        *ret = ocsp_blob_new(der, (size_t) len);
        OPENSSL_free(der);
        return *ret ? 0 : -ENOMEM;
}

int ocsp_sign(const OcspSigner *s, const uint8_t *serial, size_t serial_len, OcspHash hash,
              const OcspCertState *state, OCSP_REQUEST *req, OcspBlob **ret) {
        OCSP_BASICRESP *basic = OCSP_BASICRESP_new();
        uint64_t now = now_usec();
        time_t this_update = (time_t) (now / USEC_PER_SEC);
        int r;

        assert(s && serial && state && ret);
        if (!basic)
                return -ENOMEM;
        r = add_status(s, basic, serial, serial_len, hash, state, this_update);
        if (r >= 0 && req && OCSP_copy_nonce(basic, req) <= 0)
                r = -EINVAL;
        /* byKey: the responder is named by its key's hash (RFC 5019 2.2.3);
         * its certificate travels in certs, so that clients can check it */
        if (r >= 0 && !OCSP_basic_sign(basic, s->cert, s->key, EVP_sha256(), NULL, OCSP_RESPID_KEY))
                r = -EIO;
        if (r >= 0)
                r = encode(basic, ret);
        if (r >= 0)
                (*ret)->produced_usec = produced_at(basic, (uint64_t) this_update * USEC_PER_SEC);
        OCSP_BASICRESP_free(basic);
        if (r < 0)
                return r;
        (*ret)->this_update_usec = (uint64_t) this_update * USEC_PER_SEC;
        (*ret)->next_update_usec = (*ret)->this_update_usec + s->validity_usec;
        (*ret)->refresh_usec = refresh_at(s, serial, serial_len, (*ret)->this_update_usec);
        return 0;
}
