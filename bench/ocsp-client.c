/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The OCSP benchmark's requests, and the time a revocation takes to reach
 * an OCSP responder:
 *
 *   ocsp-client urls CA.pem BASE SERIALS OUT
 *        for each serial of the file SERIALS (hex, one a line), a nonce-less
 *        request with a SHA-1 CertID as RFC 5019 sends it, written to OUT as
 *        the URL BASE/<base64, URL-escaped> (one a line, h2load's -i input)
 *   ocsp-client post CA.pem SERIAL OUT.der
 *        one request with a nonce, DER, for a POST
 *   ocsp-client watch PASSWORD LOGIN URL
 *        RevokeCertificate of LOGIN's current certificate on the bus in
 *        DBUS_SYSTEM_BUS_ADDRESS; from its reply, GET URL (keep-alive) until
 *        the answer says "revoked"; prints the milliseconds from the reply
 *        to that answer, and the answers seen before it on stderr
 *
 * Exit status 1 on any failure. */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "certrevoke.h"
#include "cleanup.h"

#define CALL_TIMEOUT_USEC (300ULL * 1000000ULL)
#define WATCH_LIMIT_MS 10000.0

DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(OCSP_REQUEST *, OCSP_REQUEST_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(OCSP_RESPONSE *, OCSP_RESPONSE_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(OCSP_BASICRESP *, OCSP_BASICRESP_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(BIGNUM *, BN_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup)

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static X509 *read_ca(const char *path) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");

        if (!f) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return NULL;
        }
        return PEM_read_X509(f, NULL, NULL, NULL);
}

/* A request for the certificate of ca with serial hex; a nonce if asked. */
static OCSP_REQUEST *make_request(X509 *ca, const char *hex, int nonce) {
        _cleanup_(OCSP_REQUEST_freep) OCSP_REQUEST *req = OCSP_REQUEST_new();
        _cleanup_(BN_freep) BIGNUM *bn = NULL;
        ASN1_INTEGER *serial;
        OCSP_CERTID *id;

        if (!req || BN_hex2bn(&bn, hex) <= 0)
                return NULL;
        serial = BN_to_ASN1_INTEGER(bn, NULL);
        if (!serial)
                return NULL;
        id = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(ca), X509_get0_pubkey_bitstr(ca), serial);
        ASN1_INTEGER_free(serial);
        if (!id)
                return NULL;
        if (!OCSP_request_add0_id(req, id)) {
                OCSP_CERTID_free(id);
                return NULL;
        }
        if (nonce && !OCSP_request_add1_nonce(req, NULL, -1))
                return NULL;
        return TAKE_PTR(req);
}

/* base64 of der, with '+', '/' and '=' escaped as a URL path needs. */
static int write_url(FILE *out, const char *base, const unsigned char *der, int len) {
        _cleanup_free_ unsigned char *b64 = malloc((size_t) len / 3 * 4 + 8);

        if (!b64)
                return -ENOMEM;
        EVP_EncodeBlock(b64, der, len);
        fprintf(out, "%s/", base);
        for (const unsigned char *p = b64; *p; p++) {
                if (*p == '+' || *p == '/' || *p == '=')
                        fprintf(out, "%%%02X", *p);
                else
                        fputc(*p, out);
        }
        fputc('\n', out);
        return 0;
}

static int cmd_urls(const char *ca_path, const char *base, const char *serials_path, const char *out_path) {
        _cleanup_(X509_freep) X509 *ca = read_ca(ca_path);
        _cleanup_fclose_ FILE *in = fopen(serials_path, "re");
        _cleanup_fclose_ FILE *out = fopen(out_path, "we");
        char line[256];

        if (!ca || !in || !out) {
                fprintf(stderr, "urls: cannot open the CA, %s or %s\n", serials_path, out_path);
                return 1;
        }
        while (fgets(line, sizeof line, in)) {
                _cleanup_(OCSP_REQUEST_freep) OCSP_REQUEST *req = NULL;
                _cleanup_free_ unsigned char *der = NULL;
                int len;

                line[strcspn(line, "\n")] = 0;
                if (!line[0])
                        continue;
                req = make_request(ca, line, 0);
                len = req ? i2d_OCSP_REQUEST(req, &der) : -1;
                if (len <= 0 || write_url(out, base, der, len) < 0) {
                        fprintf(stderr, "urls: no request for serial %s\n", line);
                        return 1;
                }
        }
        return fflush(out) == 0 ? 0 : 1;
}

static int cmd_post(const char *ca_path, const char *serial, const char *out_path) {
        _cleanup_(X509_freep) X509 *ca = read_ca(ca_path);
        _cleanup_(OCSP_REQUEST_freep) OCSP_REQUEST *req = NULL;
        _cleanup_free_ unsigned char *der = NULL;
        _cleanup_fclose_ FILE *out = NULL;
        int len;

        if (!ca)
                return 1;
        req = make_request(ca, serial, 1);
        len = req ? i2d_OCSP_REQUEST(req, &der) : -1;
        out = fopen(out_path, "we");
        if (len <= 0 || !out || fwrite(der, 1, (size_t) len, out) != (size_t) len || fflush(out) != 0) {
                fprintf(stderr, "post: cannot write the request for %s to %s\n", serial, out_path);
                return 1;
        }
        return 0;
}

typedef struct Body {
        unsigned char data[65536];
        size_t len;
} Body;

static size_t on_data(char *p, size_t size, size_t n, void *userdata) {
        Body *b = userdata;

        if (size * n > sizeof b->data - b->len)
                return 0;
        memcpy(b->data + b->len, p, size * n);
        b->len += size * n;
        return size * n;
}

/* The status of the first answer in an OCSP response: V_OCSP_CERTSTATUS_*,
 * or -1 for a response without one. */
static int response_status(const Body *b) {
        const unsigned char *p = b->data;
        _cleanup_(OCSP_RESPONSE_freep) OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long) b->len);
        _cleanup_(OCSP_BASICRESP_freep) OCSP_BASICRESP *basic = NULL;
        OCSP_SINGLERESP *single;
        int reason;

        if (!resp || OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL)
                return -1;
        basic = OCSP_response_get1_basic(resp);
        single = basic ? OCSP_resp_get0(basic, 0) : NULL;
        return single ? OCSP_single_get0_status(single, &reason, NULL, NULL, NULL) : -1;
}

static int revoke_current(const char *password, const char *login) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_default_system(&bus);
        if (r < 0) {
                fprintf(stderr, "bus: %s\n", strerror(-r));
                return r;
        }
        r = sd_bus_call_method(bus, CR_BUS_NAME, CR_MANAGER_PATH, CR_MANAGER_IFACE, "RevokeCertificate", &error,
                               &reply, "ssss", login, "", "keyCompromise", password);
        if (r < 0)
                fprintf(stderr, "%s: %s\n", login, error.message ? error.message : strerror(-r));
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        return r;
}

static int cmd_watch(const char *password, const char *login, const char *url) {
        _cleanup_(curl_easy_cleanupp) CURL *curl = curl_easy_init();
        static Body body;
        unsigned before = 0;
        double t0;

        if (!curl)
                return 1;
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
        /* connected before the revocation, as a relying party's cache is */
        if (curl_easy_perform(curl) != CURLE_OK || response_status(&body) != V_OCSP_CERTSTATUS_GOOD) {
                fprintf(stderr, "watch: %s does not answer \"good\" before the revocation\n", url);
                return 1;
        }
        if (revoke_current(password, login) < 0)
                return 1;
        t0 = now_ms();
        while (now_ms() - t0 < WATCH_LIMIT_MS) {
                body.len = 0;
                if (curl_easy_perform(curl) != CURLE_OK)
                        return 1;
                if (response_status(&body) == V_OCSP_CERTSTATUS_REVOKED) {
                        printf("%.2f\n", now_ms() - t0);
                        fprintf(stderr, "watch: %u answers before \"revoked\"\n", before);
                        return 0;
                }
                before++;
        }
        fprintf(stderr, "watch: not revoked after %.0f ms\n", WATCH_LIMIT_MS);
        return 1;
}

int main(int argc, char **argv) {
        if (argc == 6 && strcmp(argv[1], "urls") == 0)
                return cmd_urls(argv[2], argv[3], argv[4], argv[5]);
        if (argc == 5 && strcmp(argv[1], "post") == 0)
                return cmd_post(argv[2], argv[3], argv[4]);
        if (argc == 5 && strcmp(argv[1], "watch") == 0)
                return cmd_watch(argv[2], argv[3], argv[4]);
        fprintf(stderr, "usage: ocsp-client urls CA.pem BASE SERIALS OUT\n"
                        "       ocsp-client post CA.pem SERIAL OUT.der\n"
                        "       ocsp-client watch PASSWORD LOGIN URL\n");
        return 2;
}
