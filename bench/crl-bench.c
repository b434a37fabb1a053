/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Builds one CRL of N generated revocations with certrevoke's writer and
 * prints the build time and the peak resident memory of the process:
 *
 *   crl-bench --entries=N --key=KEY --ca=CA.pem [--out=DIR]
 *   crl-bench --entries=N --index=FILE
 *
 * The second form writes the same N revocations as an `openssl ca`
 * index.txt instead, so that both builders get the same input. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "crl.h"
#include "util.h"

#define SERIAL_LEN 16

/* The reasons `openssl ca` knows in index.txt, all written as an entry
 * extension (unspecified would be left out by us and kept by openssl). */
static const int reasons[] = {
        CRL_REASON_KEY_COMPROMISE, CRL_REASON_CA_COMPROMISE, CRL_REASON_AFFILIATION_CHANGED,
        CRL_REASON_SUPERSEDED, CRL_REASON_CESSATION_OF_OPERATION,
};

/* 64-bit serials as the demo CA issues them: distinct, 16 digits, top bit clear. */
static void serial_of(size_t i, char out[static SERIAL_LEN + 1]) {
        uint64_t v = (1ULL << 60) | (((uint64_t) i * 0x9E3779B97F4A7C15ULL) & ((1ULL << 60) - 1));

        snprintf(out, SERIAL_LEN + 1, "%016" PRIX64, v);
}

/* One revocation every 30 s up to an hour ago. */
static uint64_t revoked_sec_of(size_t i, size_t n, uint64_t now) {
        return now - 3600 - (uint64_t) (n - i) * 30;
}

static int generate(size_t n, CrlEntry **ret, char **ret_pool) {
        CrlEntry *e = calloc(n ? n : 1, sizeof *e);
        char *pool = malloc(n * (SERIAL_LEN + 1) + 1);
        uint64_t now = (uint64_t) time(NULL);

        if (!e || !pool) {
                free(e);
                free(pool);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                char *s = pool + i * (SERIAL_LEN + 1);

                serial_of(i, s);
                e[i] = (CrlEntry) { s, revoked_sec_of(i, n, now) * USEC_PER_SEC, reasons[i % ELEMENTSOF(reasons)] };
        }
        *ret = e;
        *ret_pool = pool;
        return 0;
}

static int write_index(const char *path, size_t n) {
        FILE *f = fopen(path, "we");
        uint64_t now = (uint64_t) time(NULL);
        char serial[SERIAL_LEN + 1], date[16];

        if (!f)
                return -errno;
        for (size_t i = 0; i < n; i++) {
                time_t t = (time_t) revoked_sec_of(i, n, now);
                struct tm tm;

                gmtime_r(&t, &tm);
                strftime(date, sizeof date, "%y%m%d%H%M%SZ", &tm);
                serial_of(i, serial);
                fprintf(f, "R\t491231235959Z\t%s,%s\t%s\tunknown\t/CN=user%zu\n", date,
                        crl_reason_to_string(reasons[i % ELEMENTSOF(reasons)]), serial, i);
        }
        return fclose(f) == 0 ? 0 : -EIO;
}

static double now_sec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int bench(size_t n, const char *key, const char *ca_path, const char *out) {
        _cleanup_free_ CrlEntry *e = NULL;
        _cleanup_free_ char *pool = NULL, *error = NULL;
        _cleanup_free_ unsigned char *der = NULL;
        CrlSigner *s = NULL;
        struct rusage ru;
        size_t len = 0;
        X509 *ca = NULL;
        FILE *f;
        double t0, t1, t2, t3;
        uint64_t now = now_usec();
        int r;

        if (!(f = fopen(ca_path, "re")) || !(ca = PEM_read_X509(f, NULL, NULL, NULL))) {
                fprintf(stderr, "crl-bench: cannot read %s\n", ca_path);
                return -EINVAL;
        }
        fclose(f);
        t0 = now_sec();
        if ((r = generate(n, &e, &pool)) < 0 || (r = crl_signer_open(key, NULL, ca, &s, &error)) < 0) {
                fprintf(stderr, "crl-bench: %s\n", error ?: strerror(-r));
                X509_free(ca);
                return r;
        }
        t1 = now_sec();
        r = crl_build(s, ca, e, n, 1, now, now + 7 * 86400 * USEC_PER_SEC, &der, &len);
        t2 = now_sec();
        if (r >= 0 && out)
                r = crl_publish(out, der, len);
        t3 = now_sec();
        crl_signer_free(s);
        X509_free(ca);
        if (r < 0) {
                fprintf(stderr, "crl-bench: %s\n", strerror(-r));
                return r;
        }
        getrusage(RUSAGE_SELF, &ru);
        printf("entries=%zu build_s=%.3f peak_rss_mb=%.1f der_bytes=%zu setup_s=%.3f publish_s=%.3f\n", n,
               t2 - t1, (double) ru.ru_maxrss / 1024.0, len, t1 - t0, t3 - t2);
        return 0;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "entries", required_argument, NULL, 'n' }, { "key", required_argument, NULL, 'k' },
                { "ca", required_argument, NULL, 'c' },      { "out", required_argument, NULL, 'o' },
                { "index", required_argument, NULL, 'i' },   {},
        };
        const char *key = NULL, *ca = NULL, *out = NULL, *index = NULL;
        size_t n = 0;
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'n': n = strtoul(optarg, NULL, 10); break;
                case 'k': key = optarg; break;
                case 'c': ca = optarg; break;
                case 'o': out = optarg; break;
                case 'i': index = optarg; break;
                default: return 2;
                }
        if (index)
                return write_index(index, n) < 0 ? 1 : 0;
        if (!key || !ca) {
                fprintf(stderr, "usage: crl-bench --entries=N --key=KEY --ca=CA.pem [--out=DIR] | --entries=N --index=FILE\n");
                return 2;
        }
        return bench(n, key, ca, out) < 0 ? 1 : 0;
}
