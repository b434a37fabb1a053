/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "cert.h"
#include "certgen.h"
#include "check.h"

static void test_info(EVP_PKEY *ca_key, X509 *ca) {
        EVP_PKEY *k = gen_key();
        X509 *x = gen_cert(k, "sachiboh", "ゲータチ子", 0x1a2b, 1700000000, 1800000000, ca, ca_key);
        unsigned char *der = NULL;
        int len = cert_der(x, &der);
        CertInfo c;

        CHECK(cert_info_from_der(der, (size_t) len, &c) == 0, "a certificate parses");
        CHECK_STREQ(c.serial, "1A2B", "serial as openssl prints it");
        CHECK_STREQ(c.login_id, "sachiboh", "the UID attribute names the login");
        CHECK(strstr(c.subject, "CN=ゲータチ子") != NULL, "the subject keeps UTF-8 (%s)", c.subject);
        CHECK(strstr(c.issuer, "CN=Test CA") != NULL, "issuer (%s)", c.issuer);
        CHECK(c.not_before_usec == 1700000000ULL * 1000000 && c.not_after_usec == 1800000000ULL * 1000000, "validity");
        CHECK(strlen(c.fingerprint) == 64, "SHA-256 fingerprint");
        CHECK(cert_issued_by(der, (size_t) len, ca) == 1, "issued by the CA");
        cert_info_done(&c);

        CHECK(cert_info_from_der(der, (size_t) len - 1, &c) == -EBADMSG, "a truncated certificate is refused");
        der = OPENSSL_realloc(der, (size_t) len + 1);
        der[len] = 0;
        CHECK(cert_info_from_der(der, (size_t) len + 1, &c) == -EBADMSG, "trailing bytes are refused");
        CHECK(cert_info_from_der((const unsigned char *) "junk", 4, &c) == -EBADMSG, "junk is refused");
        OPENSSL_free(der);
        X509_free(x);
        EVP_PKEY_free(k);
}

static void expect_login(EVP_PKEY *ca_key, X509 *ca, const char *uid, const char *cn, const char *want) {
        EVP_PKEY *k = gen_key();
        X509 *x = gen_cert(k, uid, cn, 5, 1700000000, 1800000000, ca, ca_key);
        unsigned char *der = NULL;
        int len = cert_der(x, &der);
        CertInfo c;

        CHECK(cert_info_from_der(der, (size_t) len, &c) == 0 &&
              ((!want && !c.login_id) || (want && c.login_id && strcmp(want, c.login_id) == 0)),
              "UID=%s CN=%s maps to %s", uid ? uid : "-", cn ? cn : "-", want ? want : "no login");
        cert_info_done(&c);
        OPENSSL_free(der);
        X509_free(x);
        EVP_PKEY_free(k);
}

static void test_foreign(EVP_PKEY *ca_key, X509 *ca) {
        /* a CA with the very same name but another key */
        EVP_PKEY *fk = gen_key(), *k = gen_key();
        X509 *fca = gen_cert(fk, NULL, "Test CA", 1, 1600000000, 1900000000, NULL, NULL);
        X509 *x = gen_cert(k, "jinoh", NULL, 6, 1700000000, 1800000000, fca, fk);
        unsigned char *der = NULL;
        int len = cert_der(x, &der);

        (void) ca_key;
        CHECK(cert_issued_by(der, (size_t) len, ca) == 0, "a certificate of a same-named foreign CA is not ours");
        CHECK(cert_issued_by(der, (size_t) len, fca) == 1, "it is the foreign CA's");
        CHECK(cert_issued_by(der, (size_t) len, NULL) == 0, "without a CA nothing is ours");
        OPENSSL_free(der);
        X509_free(x);
        X509_free(fca);
        EVP_PKEY_free(k);
        EVP_PKEY_free(fk);
}

static void test_serials(void) {
        const struct { const char *in, *want; } ok[] = {
                { "1a2b", "1A2B" }, { "01:A2:3B", "01A23B" }, { "0001a2b", "1A2B" }, { "001a2", "01A2" }, { "F", "0F" }, { "00ff", "FF" },
        };
        const char *bad[] = { "", "xyz", "12 34", "-1" };
        char *s;

        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
                CHECK(cert_serial_normalize(ok[i].in, &s) == 0 && strcmp(s, ok[i].want) == 0,
                      "serial %s normalises to %s", ok[i].in, ok[i].want);
                free(s);
        }
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                CHECK(cert_serial_normalize(bad[i], &s) == -EINVAL, "serial \"%s\" refused", bad[i]);
}

int main(void) {
        EVP_PKEY *ca_key = gen_key();
        X509 *ca = gen_cert(ca_key, NULL, "Test CA", 1, 1600000000, 1900000000, NULL, NULL);

        test_info(ca_key, ca);
        expect_login(ca_key, ca, NULL, "jinoh", "jinoh");
        expect_login(ca_key, ca, "schib", "jinoh", "schib");
        expect_login(ca_key, ca, NULL, "ゲータ二郎", NULL);
        expect_login(ca_key, ca, "bad uid", "jinoh", NULL);
        expect_login(ca_key, ca, NULL, NULL, NULL);
        test_foreign(ca_key, ca);
        test_serials();
        X509_free(ca);
        EVP_PKEY_free(ca_key);
        return CHECK_EXIT();
}
