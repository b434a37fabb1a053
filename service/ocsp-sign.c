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

/* A key of the token key's type, and a certificate holding only its
 * public key: what OCSP_basic_sign() needs to fill in everything but the
 * signature. */
static int make_stand_in(OcspSigner *s) {
        int type = crl_signer_key_type(s->token);

        s->stand_in = type == EVP_PKEY_EC ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
        s->stand_in_cert = X509_new();
        if (!s->stand_in || !s->stand_in_cert || !X509_set_pubkey(s->stand_in_cert, s->stand_in))
                return -ENOMEM;
        return 0;
}

static int open_token(OcspSigner *s, const char *uri, const char *pin_file, char **error) {
        int r;

        r = crl_signer_open(uri, pin_file, s->cert, &s->token, error);
        if (r < 0)
                return r;
        s->token_lock = malloc(sizeof *s->token_lock);
        if (!s->token_lock)
                return -ENOMEM;
        pthread_mutex_init(s->token_lock, NULL);
        r = make_stand_in(s);
        if (r < 0)
                return say(error, "%s: cannot make the stand-in key%s", uri, "");
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
        /* one without the other would be ignored, and the CA sign instead */
        if (!c->ocsp_certificate != !c->ocsp_key)
                return say(error, "%s: [OCSP] Certificate= and Key= go together%s", c->path, "");
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
        if (strncasecmp(key_path, "pkcs11:", 7) == 0)
                r = open_token(s, key_path, pin_file, error);
        else
                r = load_key(key_path, pin_file, &s->key, error);
        if (r < 0)
                return r;
        if (s->key && X509_check_private_key(s->cert, s->key) != 1)
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
        crl_signer_free(s->token);
        if (s->token_lock) {
                pthread_mutex_destroy(s->token_lock);
                free(s->token_lock);
        }
        EVP_PKEY_free(s->stand_in);
        X509_free(s->stand_in_cert);
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

/* The responder's key hash in place of the stand-in's (RFC 6960 4.2.1:
 * SHA-1 of the subjectPublicKey value).  OpenSSL has no setter: the
 * ResponderID it filled is changed in place. */
static int set_responder_id(const OcspSigner *s, OCSP_BASICRESP *basic) {
        const ASN1_OCTET_STRING *pid = NULL;
        const X509_NAME *pname = NULL;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;

        if (!OCSP_resp_get0_id(basic, &pid, &pname) || !pid ||
            !X509_pubkey_digest(s->cert, EVP_sha1(), md, &len) ||
            !ASN1_OCTET_STRING_set((ASN1_OCTET_STRING *) pid, md, (int) len))
                return -EIO;
        return 0;
}

/* The token's signature of the encoded ResponseData, in place of the
 * stand-in's; the signature algorithm (same key type) stays as filled. */
static int set_signature(const OcspSigner *s, OCSP_BASICRESP *basic) {
        ASN1_BIT_STRING *bits = (ASN1_BIT_STRING *) OCSP_resp_get0_signature(basic);
        unsigned char *tbs = NULL;
        uint8_t sig[1024];
        size_t sig_len = sizeof sig;
        int len, r;

        len = i2d_OCSP_RESPDATA((OCSP_RESPDATA *) OCSP_resp_get0_respdata(basic), &tbs);
        if (len <= 0 || !bits) {
                OPENSSL_free(tbs);
                return -ENOMEM;
        }
        pthread_mutex_lock(s->token_lock);
        r = crl_signer_sign(s->token, s->cert, tbs, (size_t) len, sig, &sig_len);
        pthread_mutex_unlock(s->token_lock);
        OPENSSL_free(tbs);
        if (r < 0)
                return r;
        if (!ASN1_BIT_STRING_set(bits, sig, (int) sig_len))
                return -ENOMEM;
        /* a signature has no unused bits: say so, as ASN1_item_sign() does */
        bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
        bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
        return 0;
}

static int sign_on_token(const OcspSigner *s, OCSP_BASICRESP *basic) {
        int r;

        assert(s->token && s->stand_in && s->stand_in_cert);
        if (!OCSP_basic_sign(basic, s->stand_in_cert, s->stand_in, EVP_sha256(), NULL,
                             OCSP_RESPID_KEY | OCSP_NOCERTS))
                return -EIO;
        r = set_responder_id(s, basic);
        if (r < 0)
                return r;
        if (!OCSP_basic_add1_cert(basic, s->cert))
                return -ENOMEM;
        return set_signature(s, basic);
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
        if (r >= 0 && s->token)
                r = sign_on_token(s, basic);
        else if (r >= 0 && !OCSP_basic_sign(basic, s->cert, s->key, EVP_sha256(), NULL, OCSP_RESPID_KEY))
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
