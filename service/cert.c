/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cert.h"
#include "util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(BIGNUM *, BN_free)

static char *name_to_string(const X509_NAME *name) {
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());
        char *data, *s;
        long n;

        if (!b || X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
                return NULL;
        n = BIO_get_mem_data(b, &data);
        if (n < 0 || !(s = malloc((size_t) n + 1)))
                return NULL;
        memcpy(s, data, (size_t) n);
        s[n] = 0;
        return s;
}

static int time_to_usec(const ASN1_TIME *t, uint64_t *ret) {
        struct tm tm;
        time_t sec;

        if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
                return -EBADMSG;
        sec = timegm(&tm);
        if (sec < 0)
                return -ERANGE;
        *ret = (uint64_t) sec * USEC_PER_SEC;
        return 0;
}

char *cert_serial_to_hex(const ASN1_INTEGER *serial) {
        _cleanup_(BN_freep) BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
        char *hex, *s;

        if (!bn || BN_is_negative(bn))
                return NULL;
        if (!(hex = BN_bn2hex(bn)))
                return NULL;
        s = strdup(hex);
        OPENSSL_free(hex);
        return s;
}

/* The login ID a certificate names: the subject's UID, else its CN. */
static char *subject_login(const X509_NAME *name) {
        static const int nids[] = { NID_userId, NID_commonName };

        for (size_t i = 0; i < ELEMENTSOF(nids); i++) {
                int idx = X509_NAME_get_index_by_NID(name, nids[i], -1);
                unsigned char *utf8 = NULL;
                char *s;
                int n;

                if (idx < 0)
                        continue;
                n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
                if (n < 0)
                        return NULL;
                s = strndup((char *) utf8, (size_t) n);
                OPENSSL_free(utf8);
                if (s && (strlen(s) != (size_t) n || cr_login_id_invalid(s))) {
                        free(s);
                        return NULL;
                }
                return s;
        }
        return NULL;
}

int cert_fingerprint(const unsigned char *der, size_t len, char ret[static 65]) {
        unsigned char md[32];
        unsigned int mdlen = 0;

        if (!EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != sizeof md)
                return -EIO;
        for (unsigned i = 0; i < mdlen; i++)
                snprintf(ret + 2 * i, 3, "%02x", md[i]);
        return 0;
}

static int fill_info(X509 *x, CertInfo *c) {
        c->serial = cert_serial_to_hex(X509_get0_serialNumber(x));
        c->issuer = name_to_string(X509_get_issuer_name(x));
        c->subject = name_to_string(X509_get_subject_name(x));
        if (!c->serial || !c->issuer || !c->subject)
                return -EBADMSG;
        if (time_to_usec(X509_get0_notBefore(x), &c->not_before_usec) < 0 ||
            time_to_usec(X509_get0_notAfter(x), &c->not_after_usec) < 0)
                return -EBADMSG;
        if (cert_fingerprint(c->der, c->der_len, c->fingerprint) < 0)
                return -EIO;
        c->login_id = subject_login(X509_get_subject_name(x));
        return 0;
}

int cert_info_from_der(const unsigned char *der, size_t len, CertInfo *ret) {
        const unsigned char *p = der;
        _cleanup_(X509_freep) X509 *x = NULL;
        CertInfo c = {};
        int r;

        if (!der || len == 0 || len > 1024 * 1024)
                return -EBADMSG;
        x = d2i_X509(NULL, &p, (long) len);
        /* trailing bytes mean this is not one certificate */
        if (!x || p != der + len)
                return -EBADMSG;
        if (!(c.der = malloc(len)))
                return -ENOMEM;
        memcpy(c.der, der, len);
        c.der_len = len;
        r = fill_info(x, &c);
        if (r < 0) {
                cert_info_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

void cert_info_done(CertInfo *c) {
        free(c->der);
        free(c->serial);
        free(c->issuer);
        free(c->subject);
        free(c->login_id);
        memset(c, 0, sizeof *c);
}

int cert_issued_by(const unsigned char *der, size_t len, X509 *ca) {
        const unsigned char *p = der;
        _cleanup_(X509_freep) X509 *x = NULL;
        EVP_PKEY *key;

        if (!ca)
                return 0;
        x = d2i_X509(NULL, &p, (long) len);
        if (!x || !(key = X509_get0_pubkey(ca)))
                return 0;
        /* the name check alone would trust any CA that copied our CA's name */
        if (X509_check_issued(ca, x) != X509_V_OK)
                return 0;
        return X509_verify(x, key) == 1;
}

int cert_load_pem(const char *path, X509 **ret) {
        FILE *f = fopen(path, "re");
        X509 *x;

        if (!f)
                return -errno;
        x = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
        if (!x)
                return -EBADMSG;
        *ret = x;
        return 0;
}

int cert_serial_normalize(const char *in, char **ret) {
        size_t n = in ? strlen(in) : 0, k = 0, start;
        char *s;

        if (n == 0 || n > 128)
                return -EINVAL;
        if (!(s = malloc(n + 2)))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char ch = in[i];

                if (ch == ':')
                        continue;
                if (ch >= 'a' && ch <= 'f')
                        ch = (char) (ch - 'a' + 'A');
                if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F'))) {
                        free(s);
                        return -EINVAL;
                }
                s[k++] = ch;
        }
        /* strip leading zero bytes' digits, then pad to whole bytes as openssl prints */
        for (start = 0; start + 1 < k && s[start] == '0'; start++)
                ;
        memmove(s + 1, s + start, k - start);
        k -= start;
        if (k % 2) {
                s[0] = '0';
                k++;
        } else
                memmove(s, s + 1, k);
        s[k] = 0;
        if (k == 0) {
                free(s);
                return -EINVAL;
        }
        *ret = s;
        return 0;
}
