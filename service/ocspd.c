/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevoke-ocspd: the OCSP responder (RFC 6960, RFC 5019/9919 profile)
 * for the CA certrevoked publishes a CRL for, reading its store. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "cert.h"
#include "ocsp-cache.h"
#include "certrevoke.h"
#include "log.h"
#include "ocsp-http.h"
#include "ocspd.h"
#include "program-args.h"
#include "util.h"

/* Requests waiting for a signature at once, at most: 256 nonces at ~2,000
 * signatures a second per core wait well under the JOB_MAX_WAIT_USEC of
 * ocsp-presign.c on two cores. */
#define MAX_QUEUED 256
/* GET paths remembered (about 200 bytes each): the URLs relying parties
 * repeat, for as many certificates as are asked for at the same time. */
#define URL_CACHE_SLOTS 16384

/* For --help. */
#define SUMMARY "The OCSP responder of certrevoke: answers for the certificates of the\n" \
                "CA of [CA] Certificate= from certrevoked's store.\n"

static void ocspd_done(Ocspd *d) {
        /* the HTTP threads first: they use everything below */
        ocsp_http_stop(d);
        ocsp_presign_stop(&d->presign);
        ocsp_store_close(&d->store);
        ocsp_url_cache_done(&d->urls);
        ocsp_table_done(&d->table);
        ocsp_signer_done(&d->signer);
        config_done(&d->config);
}

static int load_config(Ocspd *d, const char *path) {
        _cleanup_free_ char *error = NULL;
        int r;

        r = config_load(&d->config, path, 1, &error);
        if (r < 0 && error)
                return log_error_errno(r, "Failed to load the configuration: %s", error);
        if (r < 0)
                return log_error_errno(r, "Failed to load %s: %m", path);
        r = ocsp_signer_open(&d->config, &d->signer, &error);
        if (r < 0 && error)
                return log_error_errno(r, "Failed to set up signing: %s", error);
        if (r < 0)
                return log_error_errno(r, "Failed to set up signing: %m");
        d->max_age_usec = d->config.ocsp_max_age_usec;
        /* systemd's CacheDirectory= when the file names none */
        d->cache_directory = d->config.ocsp_cache_directory ? d->config.ocsp_cache_directory
                                                            : getenv("CACHE_DIRECTORY");
        if (d->cache_directory && strchr(d->cache_directory, ':'))
                return log_error_errno(-EINVAL, "Failed to use CACHE_DIRECTORY=%s: give one directory",
                                       d->cache_directory);
        return 0;
}

/* The CA's name as the store spells issuers: cert.c's RFC 2253 form. */
static int open_store(Ocspd *d) {
        unsigned char *der = NULL;
        CertInfo ca = {};
        int len, r;

        len = i2d_X509(d->signer.ca, &der);
        if (len <= 0)
                return log_error_errno(-ENOMEM, "Failed to encode the CA certificate: %m");
        r = cert_info_from_der(der, (size_t) len, &ca);
        OPENSSL_free(der);
        if (r < 0)
                return log_error_errno(r, "Failed to read the CA certificate: %m");
        r = ocsp_table_init(&d->table);
        if (r >= 0)
                r = ocsp_store_open(&d->store, d->config.state_directory, ca.subject, &d->table);
        cert_info_done(&ca);
        if (r < 0)
                return log_error_errno(r, "Failed to read the store in %s: %m", d->config.state_directory);
        log_info("%zu certificates of %s known", ocsp_table_size(&d->table), d->store.issuer);
        d->loaded = true;
        return 0;
}

/* The responses kept at the last stop: what still holds is not signed again. */
static void load_cache(Ocspd *d) {
        size_t n = 0;

        if (!d->cache_directory)
                return;
        if (ocsp_cache_load(d->cache_directory, &d->table, &d->signer, &n) >= 0)
                log_info("%zu signed responses taken from %s", n, d->cache_directory);
}

/* In order: no request and no signing may run while the table is written. */
static void stop(Ocspd *d) {
        ocsp_http_stop(d);
        ocsp_presign_stop(&d->presign);
        if (d->cache_directory && d->loaded)
                (void) ocsp_cache_save(d->cache_directory, &d->table, &d->signer);
}

/* One HTTP thread and one signing worker a CPU.  The HTTP threads never
 * sign: a request that needs a signature (a nonce, an unsigned response)
 * waits, suspended, for a worker; up to MAX_QUEUED of them, beyond which
 * the answer is tryLater.  CERTREVOKE_OCSPD_MAX_QUEUED= sets another
 * bound, for tests (0: tryLater at once, as if the queue were full). */
static int size_threads(Ocspd *d) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        const char *e = getenv("CERTREVOKE_OCSPD_MAX_QUEUED");
        char *end = NULL;
        unsigned long q;

        d->n_threads = n < 1 ? 1 : n > 64 ? 64 : (unsigned) n;
        d->max_queued = MAX_QUEUED;
        if (!e)
                return 0;
        errno = 0;
        q = strtoul(e, &end, 10);
        /* 0: every request that needs a signature gets tryLater */
        if (errno != 0 || end == e || *end != 0 || q > 1000000)
                return log_error_errno(-EINVAL, "Failed to use CERTREVOKE_OCSPD_MAX_QUEUED=%s: give 0 to 1000000", e);
        d->max_queued = q;
        return 0;
}

/* A socket from systemd (certrevoke-ocspd.socket), or -1. */
static int listen_socket(void) {
        int n = sd_listen_fds(1), flags;

        if (n < 0)
                return log_error_errno(n, "Failed to take the sockets systemd passed: %m");
        if (n > 1)
                return log_error_errno(-EINVAL, "Failed to start: systemd passed %d sockets, expected one", n);
        if (n == 0)
                return -1;
        /* every HTTP thread polls it: the ones that lose the race for a
         * connection must not block in accept() */
        flags = fcntl(SD_LISTEN_FDS_START, F_GETFL);
        if (flags < 0 || fcntl(SD_LISTEN_FDS_START, F_SETFL, flags | O_NONBLOCK) < 0)
                return log_error_errno(-errno, "Failed to make the passed socket non-blocking: %m");
        return SD_LISTEN_FDS_START;
}

static int start(Ocspd *d) {
        int fd, r;

        r = size_threads(d);
        if (r < 0)
                return r;
        r = ocsp_url_cache_init(&d->urls, URL_CACHE_SLOTS);
        if (r < 0)
                return log_error_errno(r, "Failed to make the cache of GET paths: %m");
        r = ocsp_presign_start(&d->presign, &d->table, &d->signer, d->n_threads, d->max_queued);
        if (r < 0)
                return r;
        fd = listen_socket();
        if (fd < -1)
                return fd;
        r = ocsp_http_start(d, fd);
        if (r < 0)
                return r;
        log_info("answering OCSP requests on %s with %u threads, up to %zu waiting for a signature",
                 fd >= 0 ? "the socket systemd passed" : d->config.ocsp_listen, d->n_threads, d->max_queued);
        (void) sd_notify(0, "READY=1");
        return 0;
}

/* Until SIGTERM or SIGINT; the threads never see them (blocked before
 * any was made). */
static void wait_for_signal(const sigset_t *mask) {
        int sig = 0;

        while (sigwait(mask, &sig) == 0 && sig != SIGTERM && sig != SIGINT)
                ;
        log_info("SIG%s: stopping", sig == SIGINT ? "INT" : "TERM");
        (void) sd_notify(0, "STOPPING=1");
}

static int run(int argc, char *argv[]) {
        _cleanup_(ocspd_done) Ocspd d = {};
        const char *config = CR_DEFAULT_CONFIG;
        sigset_t mask;
        int r;

        r = program_args_parse(argc, argv, SUMMARY, &config);
        if (r <= 0)
                return r;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        r = -pthread_sigmask(SIG_BLOCK, &mask, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to block signals: %m");
        /* a client that goes away mid-answer must not end the process */
        signal(SIGPIPE, SIG_IGN);
        r = load_config(&d, config);
        if (r < 0)
                return r;
        r = open_store(&d);
        if (r < 0)
                return r;
        load_cache(&d);
        r = start(&d);
        if (r < 0)
                return r;
        wait_for_signal(&mask);
        stop(&d);
        return 0;
}

int main(int argc, char *argv[]) {
        return run(argc, argv) < 0 ? 1 : 0;
}
