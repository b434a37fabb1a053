/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writes revoked.idx as certrevoked does, for tests that publish with
 * openssl instead of the daemon:
 *
 *   revoked-index-write DIR CA.pem CRL.der [CERT.pem…]
 *
 * The CRL must be the CA's and verify with its key, as the daemon's own
 * CRLs do before revoked.idx names them; of the certificates, those whose
 * serial the CRL lists are listed, from the CRL's number on, and the rest
 * taken off.  Exits 1 saying why when the CRL does not verify. */
#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "revoked-index.h"

static void die(const char *what) {
        fprintf(stderr, "revoked-index-write: %s\n", what);
        exit(1);
}

static X509 *read_pem(const char *path) {
        FILE *f = fopen(path, "re");
        X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

        if (f)
                fclose(f);
        if (!x)
                die("cannot read a PEM certificate");
        return x;
}

static unsigned char *read_all(const char *path, long *ret_len) {
        FILE *f = fopen(path, "re");
        unsigned char *buf;
        long len;

        if (!f || fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) < 0 ||
            !(buf = malloc((size_t) len)) || fread(buf, 1, (size_t) len, f) != (size_t) len)
                die("cannot read the CRL");
        fclose(f);
        *ret_len = len;
        return buf;
}

int main(int argc, char **argv) {
        const unsigned char *p;
        unsigned char *crl_der, *ca_der = NULL;
        ASN1_INTEGER *number;
        RevokedIndex *x;
        X509_CRL *crl;
        X509 *ca;
        long crl_len;
        int ca_len, dir_fd, r = 0;
        uint64_t n;
        bool fresh;

        if (argc < 4)
                die("usage: revoked-index-write DIR CA.pem CRL.der [CERT.pem...]");
        ca = read_pem(argv[2]);
        crl_der = read_all(argv[3], &crl_len);
        p = crl_der;
        if (!(crl = d2i_X509_CRL(NULL, &p, crl_len)))
                die("the CRL does not parse");
        if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca)) != 0 ||
            X509_CRL_verify(crl, X509_get0_pubkey(ca)) != 1)
                die("the CRL does not verify with the CA: revoked.idx not written");
        number = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
        if (!number || ASN1_INTEGER_get_uint64(&n, number) != 1)
                die("the CRL has no number");
        ca_len = i2d_X509(ca, &ca_der);
        if ((dir_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
            revoked_index_open(dir_fd, ca_der, (size_t) ca_len, &x, &fresh) < 0)
                die("cannot open revoked.idx");
        revoked_index_sync_begin(x);
        for (int i = 4; r >= 0 && i < argc; i++) {
                X509 *cert = read_pem(argv[i]);
                X509_REVOKED *listed = NULL;
                unsigned char *der = NULL;
                int len;

                if (X509_CRL_get0_by_serial(crl, &listed, X509_get0_serialNumber(cert)) == 1) {
                        len = i2d_X509(cert, &der);
                        r = revoked_index_sync_entry(x, der, (size_t) len, n);
                        OPENSSL_free(der);
                }
                X509_free(cert);
        }
        if (revoked_index_sync_end(x, n, crl_der, (size_t) crl_len, r) < 0)
                die("cannot write revoked.idx");
        revoked_index_free(x);
        close(dir_fd);
        ASN1_INTEGER_free(number);
        X509_CRL_free(crl);
        X509_free(ca);
        OPENSSL_free(ca_der);
        free(crl_der);
        return 0;
}
