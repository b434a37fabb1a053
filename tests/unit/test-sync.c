/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevoke-sync's judgement of downloaded bytes, without a network: which
 * CRLs and certificates it accepts (sync-verify.c), where a CRL's parts lie
 * (sync-patch.c) and what a new CRL changes against the one held
 * (sync-diff.c).  CRLs are made here with OpenSSL, entries in the order
 * given, as the daemon lists them: revocations, then holds. */
#include <stdlib.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "certgen.h"
#include "check.h"
#include "sync-diff.h"
#include "sync-patch.h"
#include "sync-verify.h"
#include "util.h"

typedef struct Entry {
        long serial;
        int reason;             /* CRL_REASON_*, -1 for none */
} Entry;

typedef struct CrlSpec {
        const Entry *entries;
        size_t n;
        long number;            /* -1: no CRL number */
        time_t this_update, next_update;
        bool delta;
} CrlSpec;

static EVP_PKEY *ca_key, *other_key;
static X509 *ca_cert;
static SyncCa ca;

static X509_REVOKED *revoked(const Entry *e, time_t when) {
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_INTEGER *serial = ASN1_INTEGER_new();
        ASN1_TIME *t = ASN1_TIME_set(NULL, when);

        ASN1_INTEGER_set(serial, e->serial);
        X509_REVOKED_set_serialNumber(r, serial);
        X509_REVOKED_set_revocationDate(r, t);
        if (e->reason >= 0) {
                ASN1_ENUMERATED *reason = ASN1_ENUMERATED_new();

                ASN1_ENUMERATED_set(reason, e->reason);
                X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, reason, 0, 0);
                ASN1_ENUMERATED_free(reason);
        }
        ASN1_INTEGER_free(serial);
        ASN1_TIME_free(t);
        return r;
}

/* A CRL of the test CA (signed by key), DER in *ret. */
static size_t make_crl(const CrlSpec *s, EVP_PKEY *key, uint8_t **ret) {
        X509_CRL *crl = X509_CRL_new();
        ASN1_TIME *t;
        int len;

        X509_CRL_set_version(crl, X509_CRL_VERSION_2);
        X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca_cert));
        t = ASN1_TIME_set(NULL, s->this_update);
        X509_CRL_set1_lastUpdate(crl, t);
        ASN1_TIME_set(t, s->next_update);
        X509_CRL_set1_nextUpdate(crl, t);
        ASN1_TIME_free(t);
        for (size_t i = 0; i < s->n; i++)
                X509_CRL_add0_revoked(crl, revoked(&s->entries[i], s->this_update - 60));
        if (s->number >= 0) {
                ASN1_INTEGER *n = ASN1_INTEGER_new();

                ASN1_INTEGER_set(n, s->number);
                X509_CRL_add1_ext_i2d(crl, NID_crl_number, n, 0, 0);
                if (s->delta)
                        X509_CRL_add1_ext_i2d(crl, NID_delta_crl, n, 1, 0);
                ASN1_INTEGER_free(n);
        }
        X509_CRL_sign(crl, key, EVP_sha256());
        *ret = NULL;
        len = i2d_X509_CRL(crl, ret);
        X509_CRL_free(crl);
        return len > 0 ? (size_t) len : 0;
}

static size_t crl_of(const Entry *e, size_t n, long number, uint8_t **ret) {
        time_t now = time(NULL);
        CrlSpec s = { .entries = e, .n = n, .number = number, .this_update = now - 10, .next_update = now + 3600 };

        return make_crl(&s, ca_key, ret);
}

static void setup(void) {
        char path[] = "/tmp/certrevoke-test-sync-ca-XXXXXX";
        int fd = mkstemp(path);
        FILE *f = fdopen(fd, "w");
        const char *why;

        ca_key = gen_key();
        other_key = gen_key();
        ca_cert = gen_cert(ca_key, NULL, "Sync Test CA", 1, time(NULL) - 3600, time(NULL) + 86400, NULL, NULL);
        PEM_write_X509(f, ca_cert);
        fclose(f);
        CHECK(sync_ca_load(path, &ca, &why) == 0, "the CA loads from PEM");
        unlink(path);
}

static void test_verify(void) {
        static const Entry e[] = { { 0x1001, CRL_REASON_KEY_COMPROMISE }, { 0x1002, -1 } };
        time_t now = time(NULL);
        const char *why;
        X509_CRL *crl = NULL;
        uint64_t number = 0;
        uint8_t *der;
        size_t len;
        struct {
                const char *what, *want;
                CrlSpec spec;
                EVP_PKEY **key;
        } bad[] = {
                { "signed by another key", "signature does not verify",
                  { e, 2, 7, now - 10, now + 3600, false }, &other_key },
                { "without a CRL number", "no CRL number", { e, 2, -1, now - 10, now + 3600, false }, &ca_key },
                { "a delta CRL", "delta CRL", { e, 2, 7, now - 10, now + 3600, true }, &ca_key },
                { "past its nextUpdate", "past its nextUpdate", { e, 2, 7, now - 7200, now - 1, false }, &ca_key },
                { "issued in the future", "thisUpdate is in the future",
                  { e, 2, 7, now + 3600, now + 7200, false }, &ca_key },
        };
        static const Entry removal[] = { { 0x1001, CRL_REASON_REMOVE_FROM_CRL } };
        CrlSpec with_removal = { removal, 1, 7, now - 10, now + 3600, false };

        len = crl_of(e, 2, 7, &der);
        CHECK(sync_crl_verify(&ca, der, len, now_usec(), &crl, &number, &why) == 0 && number == 7,
              "a CRL of the CA verifies, number 7 (%s)", why ? why : "");
        X509_CRL_free(crl);
        CHECK(sync_crl_verify(&ca, der, len - 1, now_usec(), &crl, &number, &why) == -EBADMSG,
              "a CRL cut short is refused: %s", why);
        der[len / 2] ^= 1;
        CHECK(sync_crl_verify(&ca, der, len, now_usec(), &crl, &number, &why) == -EBADMSG,
              "a CRL with a bit flipped is refused: %s", why);
        OPENSSL_free(der);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                len = make_crl(&bad[i].spec, *bad[i].key, &der);
                CHECK(sync_crl_verify(&ca, der, len, now_usec(), &crl, &number, &why) == -EBADMSG && why &&
                      strstr(why, bad[i].want), "a CRL %s is refused: %s", bad[i].what, why ? why : "accepted");
                OPENSSL_free(der);
        }
        len = make_crl(&with_removal, ca_key, &der);
        CHECK(sync_crl_verify(&ca, der, len, now_usec(), &crl, &number, &why) == -EBADMSG,
              "a full CRL listing removeFromCRL is refused: %s", why ? why : "accepted");
        OPENSSL_free(der);
}

static void test_cert(void) {
        EVP_PKEY *k = gen_key();
        X509 *good = gen_cert(k, "u1", "User", 0x1001, time(NULL) - 60, time(NULL) + 3600, ca_cert, ca_key);
        X509 *forged = gen_cert(k, "u1", "User", 0x1001, time(NULL) - 60, time(NULL) + 3600, ca_cert, other_key);
        unsigned char *der;
        const char *why;
        int len;

        len = cert_der(good, &der);
        CHECK(sync_cert_verify(&ca, der, (size_t) len, &why) == 0, "a certificate the CA signed is taken");
        CHECK(sync_cert_verify(&ca, der, (size_t) len - 1, &why) == -EBADMSG, "one cut short is refused: %s", why);
        OPENSSL_free(der);
        len = cert_der(forged, &der);
        CHECK(sync_cert_verify(&ca, der, (size_t) len, &why) == -EBADMSG && strstr(why, "signature"),
              "a certificate with the CA's name and another key's signature is refused: %s", why);
        OPENSSL_free(der);
        X509_free(good);
        X509_free(forged);
        EVP_PKEY_free(k);
}

static void test_layout(void) {
        static const Entry e[] = { { 0x11, CRL_REASON_KEY_COMPROMISE }, { 0x12, -1 },
                                   { 0x13, CRL_REASON_CERTIFICATE_HOLD }, { 0x14, CRL_REASON_CERTIFICATE_HOLD } };
        CrlLayout whole, head, empty;
        uint8_t *der, *none;
        size_t len, len_none, run, last;
        CrlEntryIter it;
        const uint8_t *entry, *serial;
        size_t entry_len, serial_len, n = 0;

        len = crl_of(e, 4, 3, &der);
        CHECK(crl_layout(der, len, &whole) == 0 && whole.entries_len > 0 && whole.next_update_len > 0,
              "the layout of a whole CRL");
        CHECK(crl_layout(der, whole.entries + 2, &head) == 0 && head.entries == whole.entries &&
              head.entries_len == whole.entries_len, "the head up to the first entry gives the same layout");
        CHECK(crl_layout(der, whole.entries - 1, &head) == -EBADMSG, "a head that ends before the list is refused");
        run = crl_revocations_run(der, len, &whole, &last);
        CHECK(crl_entries_begin(der, len, &whole, &it) == 0, "the entries can be walked");
        while (crl_entry_next(&it, &entry, &entry_len, &serial, &serial_len) > 0)
                n++;
        CHECK(n == 4, "four entries walked (%zu)", n);
        CHECK(run > 0 && run < whole.entries_len, "the run before the first hold is part of the list (%zu of %zu)",
              run, whole.entries_len);
        CHECK(last > 0 && last < run, "its last entry (%zu bytes) is part of it", last);
        len_none = crl_of(NULL, 0, 4, &none);
        CHECK(crl_layout(none, len_none, &empty) == 0 && empty.entries_len == 0 &&
              crl_revocations_run(none, len_none, &empty, &last) == 0 && last == 0,
              "a CRL without entries has no list");
        OPENSSL_free(der);
        OPENSSL_free(none);
}

/* The serials of a change, as the low octet of each key's entry. */
static bool change_is(const IndexChange *c, const long *added, size_t n_added, const long *removed, size_t n_removed) {
        if (c->n_added != n_added || c->n_removed != n_removed)
                return false;
        for (size_t i = 0; i < n_added; i++) {
                bool found = false;

                for (size_t j = 0; j < c->n_added; j++)
                        found |= c->added[j].serial_len == 3 && c->added[j].serial[2] == (uint8_t) added[i];
                if (!found)
                        return false;
        }
        for (size_t i = 0; i < n_removed; i++) {
                unsigned char s[3] = { 0x02, 0x01, (uint8_t) removed[i] };
                uint64_t key = sync_serial_key(&ca, s, sizeof s);
                bool found = false;

                for (size_t j = 0; j < c->n_removed; j++)
                        found |= c->removed[j] == key;
                if (!found)
                        return false;
        }
        return true;
}

static void diff_case(const char *what, const Entry *held, size_t n_held, const Entry *now, size_t n_now,
                      const long *added, size_t n_added, const long *removed, size_t n_removed) {
        uint8_t *a, *b = NULL;
        size_t la, lb = 0;
        IndexChange c = {};
        int r;

        la = crl_of(now, n_now, 9, &a);
        if (held)
                lb = crl_of(held, n_held, 8, &b);
        r = crl_diff(&ca, a, la, b, lb, &c);
        CHECK(r == 0 && c.whole == !held && change_is(&c, added, n_added, removed, n_removed),
              "%s: %zu added, %zu removed", what, c.n_added, c.n_removed);
        index_change_done(&c);
        OPENSSL_free(a);
        OPENSSL_free(b);
}

static void test_diff(void) {
        static const Entry held[] = { { 0x21, CRL_REASON_KEY_COMPROMISE }, { 0x22, -1 },
                                      { 0x23, CRL_REASON_CERTIFICATE_HOLD } };
        static const Entry next[] = { { 0x21, CRL_REASON_KEY_COMPROMISE }, { 0x22, -1 }, { 0x24, -1 },
                                      { 0x25, CRL_REASON_CERTIFICATE_HOLD } };
        static const Entry reordered[] = { { 0x25, -1 }, { 0x22, -1 }, { 0x21, CRL_REASON_KEY_COMPROMISE } };
        static const Entry held_again[] = { { 0x21, CRL_REASON_KEY_COMPROMISE }, { 0x22, -1 },
                                            { 0x21, CRL_REASON_CERTIFICATE_HOLD } };
        static const Entry revoked_after_hold[] = { { 0x21, CRL_REASON_KEY_COMPROMISE }, { 0x22, -1 },
                                                    { 0x23, CRL_REASON_KEY_COMPROMISE } };

        diff_case("a revocation and a new hold, a hold released", held, 3, next, 4, (const long[]) { 0x24, 0x25 }, 2,
                  (const long[]) { 0x23 }, 1);
        diff_case("nothing held: every entry added", NULL, 0, next, 4, (const long[]) { 0x21, 0x22, 0x24, 0x25 }, 4,
                  NULL, 0);
        diff_case("the same list", held, 3, held, 3, NULL, 0, NULL, 0);
        diff_case("no run in common", held, 3, reordered, 3, (const long[]) { 0x25 }, 1, (const long[]) { 0x23 }, 1);
        diff_case("a serial leaving the rest but listed in the run stays", held_again, 3, held, 3,
                  (const long[]) { 0x23 }, 1, NULL, 0);
        diff_case("a hold turned into a revocation", held, 3, revoked_after_hold, 3, NULL, 0, NULL, 0);
        diff_case("everything released", held, 3, NULL, 0, NULL, 0, (const long[]) { 0x21, 0x22, 0x23 }, 3);
}

int main(void) {
        setup();
        test_verify();
        test_cert();
        test_layout();
        test_diff();
        sync_ca_done(&ca);
        X509_free(ca_cert);
        EVP_PKEY_free(ca_key);
        EVP_PKEY_free(other_key);
        return CHECK_EXIT();
}
