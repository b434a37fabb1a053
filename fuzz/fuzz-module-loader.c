/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the trust module's loader: the CA, the CRL and
 * revoked.idx as they would be read from the publish directory, corrupted.
 *
 * Input: [2 octets big-endian n][n octets: the CA, DER]
 *        [2 octets big-endian m][m octets: crl.der][the rest: revoked.idx]
 * The CA is wrapped in PEM as ca.pem holds it.  Each input is loaded twice:
 * as the module does (issuer, CA, CRL named by revoked.idx and numbers
 * checked), and with those checks skipped, so that mutated files still
 * reach the index's header and records, the certificate parser and the
 * attributes.  Every certificate is then reached, every attribute of every
 * object read and every lookup made. */
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
        if (trust_state_reach_all(s) < 0)
                return;
        for (size_t n = 0; n < s->n_entries; n++) {
                Entry *e = s->entries[n], *found, **same = NULL;
                size_t n_same = 0;
                bool in_subject = false;
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
                if (trust_state_by_subject(s, e->f.subject, &same, &n_same) < 0)
                        continue;
                for (size_t i = 0; i < n_same; i++)
                        in_subject = in_subject || same[i] == e;
                free(same);
                if (!in_subject)
                        abort();
        }
}

static void load(Span ca, Span crl, Span idx, bool verified) {
        TrustFiles files = {};
        TrustState *s = NULL;
        CK_OBJECT_HANDLE next = 1;
        uint8_t *crl_copy = copy(crl), *idx_copy = copy(idx);
        const char *why;
        int r = 0;

        files.ca = pem_of(ca, &files.ca_len);
        files.crl = crl_copy;
        files.crl_len = crl.len;
        if (!files.ca || !crl_copy || !idx_copy)
                goto done;
        if (idx.len > 0 && index_map_from_memory(idx_copy, idx.len, &files.index, &why) < 0) {
                if (!why)
                        abort();        /* every failure says why */
                goto done;
        }
        r = verified ? trust_state_build(&files, NULL, &next, &s, &why) : trust_state_build_unverified(&files, &s, &why);
        if (r == 0)
                read_everything(s);
        else if (!why)
                abort();
done:
        trust_state_unref(s);
        trust_files_done(&files);
        free(crl_copy);
        free(idx_copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint8_t *p = data;
        size_t left = size;
        Span ca = take(&p, &left), crl = take(&p, &left), idx = { p, left };

        load(ca, crl, idx, true);
        load(ca, crl, idx, false);
        return 0;
}
