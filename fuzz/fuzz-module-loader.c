/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the trust module's loader: the CA, the CRL and
 * revoked.der as they would be read from the publish directory, corrupted.
 *
 * Input: [2 octets big-endian n][n octets: the CA, DER]
 *        [2 octets big-endian m][m octets: crl.der][the rest: revoked.der]
 * The CA is wrapped in PEM as ca.pem holds it.  Each input is loaded twice:
 * as the module does (signature, issuer and CRL number checked), and with
 * those checks skipped, so that mutated CRLs still reach the certificate
 * parser, the index and the attributes.  Every attribute of every object is
 * then read and every index looked up. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "attrs.h"
#include "state.h"
#include <p11-kit/pkcs11x.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const CK_ATTRIBUTE_TYPE types[] = {
        CKA_CLASS, CKA_TOKEN, CKA_PRIVATE, CKA_MODIFIABLE, CKA_LABEL, CKA_ISSUER, CKA_SERIAL_NUMBER,
        CKA_CERTIFICATE_TYPE, CKA_TRUSTED, CKA_X_DISTRUSTED, CKA_CERTIFICATE_CATEGORY, CKA_VALUE,
        CKA_SUBJECT, CKA_PUBLIC_KEY_INFO, CKA_ID, CKA_CHECK_VALUE, CKA_TRUST_SERVER_AUTH,
        CKA_TRUST_STEP_UP_APPROVED, CKA_CERT_SHA1_HASH, CKA_CERT_MD5_HASH, CKA_MODULUS,
};

/* Takes a part with a two-octet length off the front. */
static Span take(const uint8_t **p, size_t *left) {
        size_t n;
        Span s;

        if (*left < 2) {
                *left = 0;
                return (Span) { *p, 0 };
        }
        n = (size_t) (*p)[0] << 8 | (*p)[1];
        *p += 2;
        *left -= 2;
        if (n > *left)
                n = *left;
        s = (Span) { *p, n };
        *p += n;
        *left -= n;
        return s;
}

static uint8_t *copy(Span s) {
        uint8_t *c = malloc(s.len + 1);

        if (c && s.len)
                memcpy(c, s.p, s.len);
        return c;
}

static uint8_t *pem_of(Span der, size_t *len) {
        static const char head[] = "-----BEGIN CERTIFICATE-----\n", tail[] = "-----END CERTIFICATE-----\n";
        size_t b64 = 4 * ((der.len + 2) / 3), o;
        uint8_t *out = malloc(sizeof head + b64 + b64 / 64 + 2 + sizeof tail);

        if (!out)
                return NULL;
        memcpy(out, head, sizeof head - 1);
        o = sizeof head - 1;
        /* 48 octets make one 64-character line */
        for (size_t i = 0; i < der.len; i += 48) {
                size_t n = der.len - i < 48 ? der.len - i : 48;

                o += (size_t) EVP_EncodeBlock(out + o, der.p + i, (int) n);
                out[o++] = '\n';
        }
        memcpy(out + o, tail, sizeof tail - 1);
        *len = o + sizeof tail - 1;
        return out;
}

static volatile uint8_t sink;

static void read_everything(TrustState *s) {
        for (size_t n = 0; n < s->n_entries; n++) {
                Entry *e = &s->entries[n], *found;
                int kind;

                for (int k = 0; k < _OBJ_MAX; k++) {
                        for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
                                Span v;

                                /* touch every octet, so that ASan checks the span */
                                if (object_attribute(e, k, types[t], &v) == 0)
                                        for (size_t i = 0; i < v.len; i++)
                                                sink ^= v.p[i];
                        }
                        if (!trust_state_object(s, e->handle[k], &found, &kind) || found != e || kind != k)
                                abort();
                }
                if (trust_state_lookup(s, e->f.issuer, e->f.serial) != e)
                        abort();
                for (found = trust_state_first_by_subject(s, e->f.subject); found != e;
                     found = found->next_same_subject ? &s->entries[found->next_same_subject - 1] : NULL)
                        if (!found)
                                abort();
        }
}

static void load(Span ca, Span crl, Span revoked, bool verified) {
        TrustFiles files = {};
        TrustState *s = NULL;
        CK_OBJECT_HANDLE next = 1;
        const char *why;

        files.data[FILE_CA] = pem_of(ca, &files.len[FILE_CA]);
        files.data[FILE_CRL] = copy(crl);
        files.len[FILE_CRL] = crl.len;
        files.data[FILE_REVOKED] = copy(revoked);
        files.len[FILE_REVOKED] = revoked.len;
        if (files.data[FILE_CA] && files.data[FILE_CRL] && files.data[FILE_REVOKED]) {
                int r = verified ? trust_state_build(&files, NULL, &next, &s, &why)
                                 : trust_state_build_unverified(&files, &s, &why);

                if (r == 0)
                        read_everything(s);
                else if (!why)
                        abort();        /* every failure says why */
        }
        trust_state_unref(s);
        trust_files_done(&files);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint8_t *p = data;
        size_t left = size;
        Span ca = take(&p, &left), crl = take(&p, &left), revoked = { p, left };

        load(ca, crl, revoked, true);
        load(ca, crl, revoked, false);
        return 0;
}
