/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>

#include "cleanup.h"
#include "ocsp-request.h"

const EVP_MD *ocsp_hash_md(OcspHash h) {
        assert(h >= 0 && h < _OCSP_HASH_MAX);
        return h == OCSP_HASH_SHA1 ? EVP_sha1() : EVP_sha256();
}

size_t ocsp_hash_len(OcspHash h) {
        return h == OCSP_HASH_SHA1 ? 20 : 32;
}

/* RFC 6960 4.1.1: issuerNameHash is over the DER of the issuer's name,
 * issuerKeyHash over the subjectPublicKey BIT STRING's value. */
int ocsp_issuer_init(OcspIssuer *iss, X509 *ca) {
        const ASN1_BIT_STRING *key = X509_get0_pubkey_bitstr(ca);
        unsigned char *name = NULL;
        int name_len;

        assert(iss && ca);
        *iss = (OcspIssuer) { .ca = ca };
        if (!key || (name_len = i2d_X509_NAME(X509_get_subject_name(ca), &name)) <= 0)
                return -EINVAL;
        for (OcspHash h = 0; h < _OCSP_HASH_MAX; h++)
                if (!EVP_Digest(name, (size_t) name_len, iss->name_hash[h], NULL, ocsp_hash_md(h), NULL) ||
                    !EVP_Digest(key->data, (size_t) key->length, iss->key_hash[h], NULL, ocsp_hash_md(h), NULL)) {
                        OPENSSL_free(name);
                        return -EIO;
                }
        OPENSSL_free(name);
        return 0;
}

int ocsp_serial_key(const ASN1_INTEGER *serial, uint8_t out[static OCSP_SERIAL_MAX], size_t *ret_len) {
        const unsigned char *p;
        int n;

        if (!serial || ASN1_STRING_type(serial) != V_ASN1_INTEGER)
                return -EINVAL;
        p = ASN1_STRING_get0_data(serial);
        n = ASN1_STRING_length(serial);
        while (n > 0 && p[0] == 0) {
                p++;
                n--;
        }
        if (n > OCSP_SERIAL_MAX)
                return -EINVAL;
        memcpy(out, p, (size_t) n);
        *ret_len = (size_t) n;
        return 0;
}

static int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static bool is_base64(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
               c == '/' || c == '=';
}

/* %XX decoded, '+' kept (it is base64's, not a space); only base64's
 * alphabet may come out, so %00 and friends are refused here. */
static int unescape(const char *s, char *out, size_t max, size_t *ret_len) {
        size_t k = 0;

        for (size_t i = 0; s[i]; i++) {
                char c = s[i];

                if (c == '%') {
                        int hi = hex_value(s[i + 1]), lo = hi < 0 ? -1 : hex_value(s[i + 2]);

                        if (hi < 0 || lo < 0)
                                return -EINVAL;
                        c = (char) (hi << 4 | lo);
                        i += 2;
                }
                if (!is_base64(c))
                        return -EINVAL;
                if (k >= max)
                        return -E2BIG;
                out[k++] = c;
        }
        *ret_len = k;
        return 0;
}

int ocsp_get_path_decode(const char *path, uint8_t *out, size_t max, size_t *ret_len) {
        char b64[OCSP_GET_PATH_MAX + 1];
        size_t n, pad = 0;
        int r, len;

        assert(path && out && ret_len);
        if (path[0] != '/')
                return -EINVAL;
        if (strlen(path) > OCSP_GET_PATH_MAX)
                return -E2BIG;
        r = unescape(path + 1, b64, sizeof b64 - 1, &n);
        if (r < 0)
                return r;
        /* base64 comes in quads; '=' only as the last one or two */
        if (n == 0 || n % 4 != 0)
                return -EINVAL;
        b64[n] = 0;
        for (size_t i = 0; i < n; i++)
                if (b64[i] == '=' && i < n - 2)
                        return -EINVAL;
        pad = (b64[n - 1] == '=') + (b64[n - 2] == '=');
        if (b64[n - 1] != '=' && b64[n - 2] == '=')
                return -EINVAL;
        if (n / 4 * 3 > max)
                return -E2BIG;
        len = EVP_DecodeBlock(out, (const unsigned char *) b64, (int) n);
        if (len < 0 || (size_t) len < pad)
                return -EINVAL;
        *ret_len = (size_t) len - pad;
        return 0;
}

static bool hashes_match(const OcspIssuer *iss, OcspHash h, const ASN1_OCTET_STRING *name_hash,
                         const ASN1_OCTET_STRING *key_hash) {
        size_t n = ocsp_hash_len(h);

        return name_hash && key_hash && (size_t) ASN1_STRING_length(name_hash) == n &&
               (size_t) ASN1_STRING_length(key_hash) == n &&
               memcmp(ASN1_STRING_get0_data(name_hash), iss->name_hash[h], n) == 0 &&
               memcmp(ASN1_STRING_get0_data(key_hash), iss->key_hash[h], n) == 0;
}

static OcspVerdict match_certid(const OcspIssuer *iss, OCSP_CERTID *id, OcspQuery *q) {
        ASN1_OCTET_STRING *name_hash = NULL, *key_hash = NULL;
        ASN1_OBJECT *alg = NULL;
        ASN1_INTEGER *serial = NULL;
        int nid;

        if (!OCSP_id_get0_info(&name_hash, &alg, &key_hash, &serial, id) || !alg || !serial)
                return OCSP_VERDICT_MALFORMED;
        nid = OBJ_obj2nid(alg);
        if (nid == NID_sha1)
                q->hash = OCSP_HASH_SHA1;
        else if (nid == NID_sha256)
                q->hash = OCSP_HASH_SHA256;
        else
                return OCSP_VERDICT_UNAUTHORIZED;
        if (!hashes_match(iss, q->hash, name_hash, key_hash))
                return OCSP_VERDICT_UNAUTHORIZED;
        /* a serial of ours is positive and short; anything else is not ours */
        if (ocsp_serial_key(serial, q->serial, &q->serial_len) < 0)
                return OCSP_VERDICT_UNAUTHORIZED;
        return OCSP_VERDICT_OK;
}

OcspVerdict ocsp_request_parse(const OcspIssuer *iss, const uint8_t *der, size_t len, OcspQuery *q) {
        const unsigned char *p = der;
        OCSP_REQUEST *req;
        OcspVerdict v;

        assert(iss && q);
        *q = (OcspQuery) {};
        if (!der || len == 0 || len > OCSP_REQUEST_MAX)
                return OCSP_VERDICT_MALFORMED;
        req = d2i_OCSP_REQUEST(NULL, &p, (long) len);
        /* trailing bytes make it something else than one request */
        if (!req || p != der + len) {
                OCSP_REQUEST_free(req);
                return OCSP_VERDICT_MALFORMED;
        }
        /* one CertID a request (RFC 5019 2.1.1); more are refused, not
         * half answered */
        if (OCSP_request_onereq_count(req) != 1) {
                OCSP_REQUEST_free(req);
                return OCSP_VERDICT_MALFORMED;
        }
        v = match_certid(iss, OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, 0)), q);
        if (v != OCSP_VERDICT_OK) {
                OCSP_REQUEST_free(req);
                return v;
        }
        q->req = req;
        q->has_nonce = OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, -1) >= 0;
        return OCSP_VERDICT_OK;
}

void ocsp_query_done(OcspQuery *q) {
        if (!q)
                return;
        OCSP_REQUEST_free(q->req);
        q->req = NULL;
}
