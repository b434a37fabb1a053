/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "util.h"

static char path[] = "/tmp/certrevoke-test-config-XXXXXX";

static int load(const char *text, Config *c, char **error) {
        FILE *f = fopen(path, "we");

        fputs(text, f);
        fclose(f);
        return config_load(c, path, 1, error);
}

static void expect_error(const char *text, const char *want, const char *what) {
        char *error = NULL;
        Config c;
        int r = load(text, &c, &error);

        CHECK(r == -EINVAL && error && strstr(error, want) && strstr(error, path),
              "%s is refused naming file, line and key (%s)", what, error ? error : "no message");
        free(error);
        config_done(&c);
}

static void test_defaults(void) {
        char *error = NULL;
        Config c;

        CHECK(config_load(&c, "/nonexistent/certrevoke.conf", 0, &error) == 0, "a missing default file means defaults");
        CHECK_STREQ(c.state_directory, "/var/lib/certrevoke", "StateDirectory default");
        CHECK_STREQ(c.pam_service, "certrevoke", "PAMService default");
        CHECK_STREQ(c.publish_directory, "/var/lib/certrevoke/public", "PublishDirectory default");
        CHECK(c.crl_validity_usec == 7ULL * 86400 * USEC_PER_SEC, "Validity default is 7d");
        CHECK(c.token_modules && !c.token_modules[0], "Modules default is every registered module");
        CHECK(!c.ca_certificate && !c.ca_key && !c.ca_pin_file && !c.tokens_pin_file, "no CA or PIN file by default");
        CHECK(c.history_max_age_usec == 365ULL * 86400 * USEC_PER_SEC, "[History] MaxAge default is 365d");
        CHECK(c.history_max_entries == 1000000, "[History] MaxEntries default is 1000000");
        config_done(&c);
        CHECK(config_load(&c, "/nonexistent/certrevoke.conf", 1, &error) < 0 && error &&
              strstr(error, "/nonexistent/certrevoke.conf"), "a missing named file is an error: %s", error);
        free(error);
        config_done(&c);
}

static void test_full(void) {
        char *error = NULL;
        Config c;
        int r = load("# comment\n"
                     "[Service]\nStateDirectory=/srv/cr\nPAMService=certrevoke-test\n"
                     "[CA]\nCertificate=/etc/ca.pem\nKey=pkcs11:token=ca;object=key\nPINFile=/etc/ca.pin\n"
                     "[CRL]\nValidity=1d 12h\n"
                     "[Tokens]\nModules=/usr/lib/a.so  /usr/lib/b.so\nPINFile=/etc/tok.pin\n"
                     "[History]\nMaxAge=26w\nMaxEntries=50\n", &c, &error);

        CHECK(r == 0, "a full file loads (%s)", error ? error : "");
        CHECK_STREQ(c.state_directory, "/srv/cr", "StateDirectory");
        CHECK_STREQ(c.publish_directory, "/srv/cr/public", "PublishDirectory follows StateDirectory");
        CHECK_STREQ(c.pam_service, "certrevoke-test", "PAMService");
        CHECK_STREQ(c.ca_key, "pkcs11:token=ca;object=key", "Key as a pkcs11: URI");
        CHECK(c.crl_validity_usec == 36ULL * 3600 * USEC_PER_SEC, "Validity 1d 12h");
        CHECK(c.token_modules[0] && c.token_modules[1] && !c.token_modules[2] &&
              strcmp(c.token_modules[1], "/usr/lib/b.so") == 0, "two modules");
        CHECK_STREQ(c.tokens_pin_file, "/etc/tok.pin", "Tokens PINFile");
        CHECK(c.history_max_age_usec == 26ULL * 7 * 86400 * USEC_PER_SEC, "History MaxAge 26w");
        CHECK(c.history_max_entries == 50, "History MaxEntries 50");
        free(error);
        config_done(&c);
}

static void test_errors(void) {
        expect_error("[Service]\nStateDirectory=/x\nBogus=1\n", ":3: [Service] Bogus= is not a known key", "an unknown key");
        expect_error("[Nope]\nStateDirectory=/x\n", ":2: [Nope] StateDirectory=", "a key in an unknown section");
        expect_error("[CRL]\nValidity=soon\n", ":2: [CRL] Validity= must be a duration", "a malformed duration");
        expect_error("[CRL]\n\nValidity=0\n", ":3: [CRL] Validity=", "a zero duration");
        expect_error("[CA]\nKey=relative.pem\n", ":2: [CA] Key= must be", "a relative key path");
        expect_error("[Tokens]\nModules=/ok.so rel.so\n", ":2: [Tokens] Modules=", "a relative module");
        expect_error("[Service]\nPAMService=../etc\n", ":2: [Service] PAMService=", "a PAM service with a slash");
        expect_error("[Service]\nStateDirectory\n", ":2:", "a line without =");
        expect_error("[History]\nMaxAge=0\n", ":2: [History] MaxAge= must be a duration", "a zero MaxAge");
        expect_error("[History]\nMaxAge=forever\n", ":2: [History] MaxAge= must be a duration", "a word for MaxAge");
        expect_error("[History]\n\nMaxEntries=0\n",
                     ":3: [History] MaxEntries= must be a whole number from 1 to 1000000000", "MaxEntries=0");
        expect_error("[History]\nMaxEntries=1000000001\n", ":2: [History] MaxEntries= must be", "MaxEntries too large");
        expect_error("[History]\nMaxEntries=-5\n", ":2: [History] MaxEntries= must be", "a negative MaxEntries");
        expect_error("[History]\nMaxEntries=1e6\n", ":2: [History] MaxEntries= must be", "MaxEntries in float notation");
        expect_error("[History]\nMaxEntries=\n", ":2: [History] MaxEntries= must be", "an empty MaxEntries");
        expect_error("[History]\nMaxRows=5\n", ":2: [History] MaxRows= is not a known key", "an unknown history key");
}

/* [OCSP]: certrevoke-ocspd's keys, which certrevoked accepts and checks. */
static void test_ocsp(void) {
        struct sockaddr_storage ss;
        char *error = NULL;
        unsigned len;
        Config c;
        int r;

        CHECK(config_load(&c, "/nonexistent/certrevoke.conf", 0, &error) == 0, "defaults");
        CHECK_STREQ(c.ocsp_listen, "127.0.0.1:8080", "[OCSP] Listen default");
        CHECK(c.ocsp_validity_usec == 86400 * USEC_PER_SEC, "[OCSP] Validity default is 1d");
        CHECK(c.ocsp_max_age_usec == 300 * USEC_PER_SEC, "[OCSP] MaxAge default is 5min");
        CHECK(!c.ocsp_certificate && !c.ocsp_key && !c.ocsp_pin_file && !c.ocsp_cache_directory,
              "no responder certificate and no cache directory by default");
        config_done(&c);
        r = load("[OCSP]\nCertificate=/etc/ocsp.pem\nKey=/etc/ocsp.key\nPINFile=/etc/ocsp.pin\n"
                 "Listen=[::1]:8443\nValidity=12h\nMaxAge=30s\nCacheDirectory=/var/cache/ocsp\n", &c, &error);
        CHECK(r == 0, "an [OCSP] section loads (%s)", error ? error : "");
        CHECK_STREQ(c.ocsp_certificate, "/etc/ocsp.pem", "[OCSP] Certificate");
        CHECK_STREQ(c.ocsp_key, "/etc/ocsp.key", "[OCSP] Key");
        CHECK_STREQ(c.ocsp_pin_file, "/etc/ocsp.pin", "[OCSP] PINFile");
        CHECK_STREQ(c.ocsp_listen, "[::1]:8443", "[OCSP] Listen");
        CHECK(c.ocsp_validity_usec == 12 * 3600 * USEC_PER_SEC, "[OCSP] Validity 12h");
        CHECK(c.ocsp_max_age_usec == 30 * USEC_PER_SEC, "[OCSP] MaxAge 30s");
        CHECK_STREQ(c.ocsp_cache_directory, "/var/cache/ocsp", "[OCSP] CacheDirectory");
        config_done(&c);
        free(error);
        expect_error("[OCSP]\nListen=localhost:80\n", ":2: [OCSP] Listen= must be", "a host name for Listen");
        expect_error("[OCSP]\nListen=127.0.0.1:0\n", ":2: [OCSP] Listen=", "port 0");
        expect_error("[OCSP]\nListen=127.0.0.1:65536\n", ":2: [OCSP] Listen=", "port 65536");
        expect_error("[OCSP]\nListen=::1:80\n", ":2: [OCSP] Listen=", "IPv6 without brackets");
        expect_error("[OCSP]\nListen=127.0.0.1\n", ":2: [OCSP] Listen=", "no port");
        expect_error("[OCSP]\nKey=ocsp.key\n", ":2: [OCSP] Key= must be", "a relative key");
        expect_error("[OCSP]\nValidity=0\n", ":2: [OCSP] Validity=", "a zero validity");
        expect_error("[OCSP]\nCacheDirectory=cache\n", ":2: [OCSP] CacheDirectory= must be", "a relative cache");
        expect_error("[OCSP]\nURL=http://x/\n", ":2: [OCSP] URL= is not a known key", "an unknown [OCSP] key");
        CHECK(config_parse_listen("[::]:80", &ss, &len) == 0 && ss.ss_family == AF_INET6 &&
              len == sizeof(struct sockaddr_in6) && ntohs(((struct sockaddr_in6 *) &ss)->sin6_port) == 80,
              "[::]:80 is IPv6 port 80");
        CHECK(config_parse_listen("0.0.0.0:65535", &ss, &len) == 0 && ss.ss_family == AF_INET &&
              ntohs(((struct sockaddr_in *) &ss)->sin_port) == 65535, "0.0.0.0:65535");
        CHECK(config_parse_listen("[::1]", NULL, NULL) < 0 && config_parse_listen(":80", NULL, NULL) < 0 &&
              config_parse_listen("1.2.3.4:+80", NULL, NULL) < 0, "malformed Listen values refused");
}

static void test_sync(void) {
        char *error = NULL;
        Config c;
        int r = load("[Sync]\nURL=https://ca.example.org:8443/crl/\nDirectory=/srv/trust\n"
                     "CACertificate=/etc/ca.pem\nCABundle=/etc/tls.pem\nTimeout=2min\n", &c, &error);

        CHECK(r == 0, "a [Sync] section loads (%s)", error ? error : "");
        CHECK_STREQ(c.sync_url, "https://ca.example.org:8443/crl/", "[Sync] URL");
        CHECK_STREQ(c.sync_directory, "/srv/trust", "[Sync] Directory");
        CHECK_STREQ(c.sync_ca_certificate, "/etc/ca.pem", "[Sync] CACertificate");
        CHECK_STREQ(c.sync_ca_bundle, "/etc/tls.pem", "[Sync] CABundle");
        CHECK(c.sync_timeout_usec == 120 * USEC_PER_SEC, "[Sync] Timeout 2min");
        free(error);
        config_done(&c);
        CHECK(config_load(&c, "/nonexistent/certrevoke.conf", 0, &error) == 0 && !c.sync_url && !c.sync_directory &&
              c.sync_timeout_usec == 0, "no [Sync] by default");
        config_done(&c);

        expect_error("[Sync]\nURL=ftp://x/\n", ":2: [Sync] URL= must be an http:// or https:// URL", "an ftp URL");
        expect_error("[Sync]\nURL=https://u:p@x/\n", ":2: [Sync] URL=", "a URL with a password");
        expect_error("[Sync]\nURL=http://\n", ":2: [Sync] URL=", "a URL without a host");
        expect_error("[Sync]\nURL=http://x/\xc3\xa9\n", ":2: [Sync] URL=", "a URL with a non-ASCII byte");
        expect_error("[Sync]\nDirectory=relative\n", ":2: [Sync] Directory= must be an absolute path",
                     "a relative Directory");
        expect_error("[Sync]\nTimeout=2h\n", ":2: [Sync] Timeout= must be a duration from 1s to 1h",
                     "a Timeout over an hour");
        expect_error("[Sync]\nInterval=1min\n", ":2: [Sync] Interval= is not a known key", "an unknown sync key");
}

static void test_durations(void) {
        const struct { const char *s; uint64_t sec; } ok[] = {
                { "7d", 7 * 86400 }, { "12h", 43200 }, { "30m", 1800 }, { "90", 90 }, { "1w", 604800 }, { "1d 2h", 93600 },
        };
        const char *bad[] = { "", "d", "-1d", "1x", "1.5d", "99999999999999999999", "0s", "4000w" };
        uint64_t u;

        for (size_t i = 0; i < ELEMENTSOF(ok); i++)
                CHECK(config_parse_duration(ok[i].s, &u) == 0 && u == ok[i].sec * USEC_PER_SEC, "duration \"%s\"", ok[i].s);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                CHECK(config_parse_duration(bad[i], &u) < 0, "duration \"%s\" refused", bad[i]);
}

int main(void) {
        int fd = mkstemp(path);

        if (fd < 0)
                return 1;
        close(fd);
        test_defaults();
        test_full();
        test_errors();
        test_ocsp();
        test_sync();
        test_durations();
        unlink(path);
        return CHECK_EXIT();
}
