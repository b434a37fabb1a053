/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevoke-sync: one sync of this host's trust module with the CRL
 * another host's certrevoked publishes.  It fetches crl.der (asking
 * whether it changed since the one held), verifies it with the CA this
 * host is configured with, refuses an older CRL, one past its nextUpdate,
 * or another CRL with the number held, and installs it with the revoked
 * certificates' DER the trust module shows, taken from the publisher's
 * revoked.idx by byte ranges and each verified with the CA.  Whatever
 * fails leaves the directory as it was.
 *
 * Exit status: 0 updated or unchanged; 1 a local failure (configuration,
 * files); 2 bad arguments; 3 the server could not be reached or answered
 * wrongly; 4 the CRL was refused, or the one held is past its nextUpdate
 * and the server has no newer one. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "certrevoke.h"
#include "cleanup.h"
#include "config.h"
#include "crl-file.h"
#include "log.h"
#include "program-args.h"
#include "sync-certs.h"
#include "sync-diff.h"
#include "sync-fetch.h"
#include "sync-gaps.h"
#include "sync-install.h"
#include "sync-patch.h"
#include "sync-verify.h"
#include "util.h"

enum {
        EXIT_LOCAL = 1,
        EXIT_USAGE = 2,
        EXIT_NETWORK = 3,
        EXIT_REFUSED = 4,
};

#define DIRECTORY_MODE 0755

typedef struct Context {
        const char *config_path;
        Config config;
        const char *directory;          /* [Sync] Directory=, else [CRL] PublishDirectory= */
        int dir_fd;
        SyncCa ca;
        Fetcher *fetcher;
        uint64_t start_usec;            /* CLOCK_MONOTONIC */
        /* what the directory holds */
        uint8_t *held;
        size_t held_len;
        bool have_held;                 /* crl.der is there, a CRL of this CA */
        uint64_t held_number;
        uint64_t held_next_update_usec;
        Validators held_validators;
        /* what the server sent */
        FetchBuffer head;               /* crl.der's first bytes, when a CRL is held */
        uint64_t total;                 /* and its size */
        FetchBuffer got;
        Validators got_validators;
        bool patched;                   /* got was rebuilt from the held crl.der */
        bool gaps_tried;                /* rebuilt around entries gone from the held run */
        X509_CRL *crl;
        uint64_t number;
        IndexChange change;
} Context;

static void context_done(Context *c) {
        index_change_done(&c->change);
        X509_CRL_free(c->crl);
        validators_done(&c->got_validators);
        fetch_buffer_done(&c->got);
        fetch_buffer_done(&c->head);
        validators_done(&c->held_validators);
        free(c->held);
        fetcher_free(c->fetcher);
        sync_ca_done(&c->ca);
        if (c->dir_fd >= 0)
                close(c->dir_fd);
        config_done(&c->config);
}

/* For --help. */
#define SUMMARY "Fetches the CRL another host's certrevoked publishes, verifies it with the\n" \
                "configured CA and installs it, with the revoked certificates, where this\n" \
                "host's certrevoke trust module reads.\n"

static int load_config(Context *c) {
        _cleanup_free_ char *error = NULL;
        const char *ca_path, *why;
        int r;

        r = config_load(&c->config, c->config_path, 1, &error);
        if (r < 0) {
                log_error("config: %s", error ? error : strerror(-r));
                return r;
        }
        if (!c->config.sync_url) {
                log_error("config: %s: [Sync] URL= is not set: nothing to sync from", c->config_path);
                return -EINVAL;
        }
        c->directory = c->config.sync_directory ? c->config.sync_directory : c->config.publish_directory;
        ca_path = c->config.sync_ca_certificate ? c->config.sync_ca_certificate : c->config.ca_certificate;
        if (!ca_path) {
                log_error("config: %s: neither [Sync] CACertificate= nor [CA] Certificate= is set: no CA to verify "
                          "the CRL with", c->config_path);
                return -EINVAL;
        }
        r = sync_ca_load(ca_path, &c->ca, &why);
        if (r < 0)
                log_error("config: the CA certificate %s %s", ca_path, why);
        return r;
}

/* Where certrevoked keeps its store and publishes: a sync into that
 * directory would overwrite what the daemon publishes with a copy of
 * another host's, and the daemon would refuse to start after it (its
 * store behind a published CRL).  So a sync refuses the daemon's own
 * PublishDirectory on a host whose StateDirectory holds a store. */
static int check_not_publisher(Context *c) {
        _cleanup_free_ char *store = NULL;
        struct stat ours, published;

        if (asprintf(&store, "%s/store.db", c->config.state_directory) < 0)
                return log_error_errno(-ENOMEM, "sync: out of memory");
        if (access(store, F_OK) < 0 || stat(c->config.publish_directory, &published) < 0 ||
            fstat(c->dir_fd, &ours) < 0 || ours.st_dev != published.st_dev || ours.st_ino != published.st_ino)
                return 0;
        log_error("sync: Directory=%s is where certrevoked publishes on this host (its store is %s): "
                  "certrevoke-sync is for the other hosts", c->directory, store);
        return -EEXIST;
}

/* The directory, made if missing, refused when another user could change
 * it; locked so that two syncs do not write it at once. */
static int open_directory(Context *c) {
        _cleanup_free_ char *why = NULL;
        int r;

        r = directory_open_trusted(c->directory, DIRECTORY_MODE, &c->dir_fd, &why);
        if (r < 0) {
                log_error("sync: Directory=%s: %s", c->directory, why ? why : strerror(-r));
                return r;
        }
        if (flock(c->dir_fd, LOCK_EX) < 0)
                return log_error_errno(-errno, "sync: cannot lock %s: %m", c->directory);
        return check_not_publisher(c);
}

/* The crl.der held, when it is a CRL of this CA (one of another CA says
 * nothing about this one's numbers): its head only, whatever its length. */
static int read_held(Context *c) {
        bool ours;
        int r;

        r = held_crl_read(c->dir_fd, &c->held, &c->held_len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "sync: cannot read %s/crl.der: %m", c->directory);
        if (sync_crl_head(&c->ca, c->held, c->held_len, &c->held_number, &c->held_next_update_usec, &ours) < 0 ||
            !ours) {
                log_warning("sync: %s/crl.der is no CRL of the configured CA: replaced by the publisher's",
                            c->directory);
                return 0;
        }
        c->have_held = true;
        held_validators_read(c->dir_fd, &c->held_validators);
        return 0;
}

static int network_failure(Context *c, int r) {
        if (r == -ENOMEM)
                return log_error_errno(r, "sync: out of memory");
        log_error("sync: cannot fetch from %s: %s; keeping %s", c->config.sync_url, fetcher_error(c->fetcher),
                  c->have_held ? "the CRL held" : "the directory as it is");
        return r;
}

static int fetch_whole(Context *c, const Validators *have) {
        bool modified;
        int r;

        r = fetch_file(c->fetcher, "crl.der", PUBLISHED_CRL_MAX, have, &modified, &c->got, &c->got_validators);
        if (r < 0)
                return network_failure(c, r);
        return modified;
}

/* The second guess: entries left the held run (sync-gaps.h); the file is
 * fetched whole when that does not fit either.  1 as fetch_crl. */
static int rebuild_around_gaps(Context *c) {
        int r;

        log_debug("sync: the new crl.der does not continue the one held; looking for entries gone");
        c->gaps_tried = true;
        r = crl_patch_gaps(c->fetcher, c->held, c->held_len, c->head.data, c->head.len, c->total, &c->got);
        if (r == -EBADMSG) {
                log_debug("sync: crl.der cannot be rebuilt from the one held; fetching it whole");
                c->patched = false;
                return fetch_whole(c, NULL);
        }
        if (r < 0)
                return network_failure(c, r);
        c->patched = true;
        return 1;
}

/* The publisher's crl.der, unless it has not changed since the one held:
 * 1 when one came, 0 when not.  Without usable validators it comes as a
 * change, and is found to be the one held once verified.  With a CRL held, only its head and end
 * are fetched, the middle taken from the one held (sync-patch.h). */
static int fetch_crl(Context *c) {
        const Validators *have;
        bool modified;
        int r;

        r = fetcher_new(c->config.sync_url, c->config.sync_ca_bundle,
                        c->config.sync_timeout_usec ? c->config.sync_timeout_usec : CONFIG_SYNC_TIMEOUT_DEFAULT_USEC,
                        &c->fetcher);
        if (r < 0)
                return log_error_errno(r, "sync: cannot set up the transfer: %m");
        if (!c->have_held)
                return fetch_whole(c, NULL);
        have = validators_usable(&c->held_validators) ? &c->held_validators : NULL;
        r = fetch_head(c->fetcher, "crl.der", CRL_HEAD_FETCH, have, &modified, &c->head, &c->got_validators,
                       &c->total);
        if (r == -EPROTO) {
                /* no ranges there (or an error the whole request reports) */
                log_debug("sync: %s; fetching crl.der whole", fetcher_error(c->fetcher));
                return fetch_whole(c, have);
        }
        if (r < 0)
                return network_failure(c, r);
        if (!modified)
                return 0;
        if (c->head.len == c->total) {
                c->got = c->head;
                c->head = (FetchBuffer) {};
                return 1;
        }
        r = crl_patch(c->fetcher, c->held, c->held_len, c->head.data, c->head.len, c->total, &c->got);
        if (r == -EBADMSG)
                return rebuild_around_gaps(c);
        if (r < 0)
                return network_failure(c, r);
        c->patched = true;
        return 1;
}

static int refuse(Context *c, const char *why) {
        if (c->have_held)
                log_error("sync: the CRL from %s is refused: %s; keeping CRL number %llu", c->config.sync_url, why,
                          (unsigned long long) c->held_number);
        else
                log_error("sync: the CRL from %s is refused: %s; nothing installed", c->config.sync_url, why);
        return -EBADMSG;
}

/* A CRL rebuilt from the held one that did not verify was a wrong guess,
 * not a refusal: rebuilt again around entries that left the held run,
 * then, if that does not verify either, fetched whole.  0 when got
 * verifies in the end, -EBADMSG with *reason when it does not. */
static int verify_fetched(Context *c, const char **reason) {
        int r;

        for (;;) {
                r = sync_crl_verify(&c->ca, c->got.data, c->got.len, now_usec(), &c->crl, &c->number, reason);
                if (r >= 0 || !c->patched)
                        return r;
                log_debug("sync: the CRL rebuilt from the one held does not verify (%s)", *reason);
                if (!c->gaps_tried)
                        r = rebuild_around_gaps(c);
                else {
                        c->patched = false;
                        r = fetch_whole(c, NULL);
                }
                if (r < 0)
                        return r;
        }
}

/* 1 when the CRL fetched is newer than the one held and verified; 0 when
 * it is the one held. */
static int verify_crl(Context *c) {
        char why[160];
        const char *reason = NULL;
        int r;

        r = verify_fetched(c, &reason);
        if (r < 0 && r != -EBADMSG)
                return r;
        if (r < 0)
                return refuse(c, reason);
        /* from here on its bytes are read in place: the objects of a
         * million entries need not stay */
        X509_CRL_free(TAKE_PTR(c->crl));
        if (!c->have_held)
                return 1;
        if (c->number < c->held_number) {
                snprintf(why, sizeof why, "its number %llu is lower than the one held, %llu",
                         (unsigned long long) c->number, (unsigned long long) c->held_number);
                return refuse(c, why);
        }
        if (c->number == c->held_number) {
                if (c->got.len == c->held_len && memcmp(c->got.data, c->held, c->held_len) == 0)
                        return 0;
                snprintf(why, sizeof why, "it has the number of the CRL held, %llu, with other contents",
                         (unsigned long long) c->number);
                return refuse(c, why);
        }
        return 1;
}

static size_t count_found(const IndexChange *change) {
        size_t n = 0;

        for (size_t i = 0; i < change->n_added; i++)
                n += change->added[i].der != NULL;
        return n;
}

static int fetch_certificates(Context *c, bool whole) {
        char why[256];
        int r;

        index_change_done(&c->change);
        r = crl_diff(&c->ca, c->got.data, c->got.len, whole ? NULL : c->held, c->held_len, &c->change);
        if (r == -ENOMEM)
                return log_error_errno(r, "sync: out of memory");
        if (r < 0)
                return refuse(c, "its entries cannot be read");
        r = certs_fetch(c->fetcher, &c->ca, c->change.added, c->change.n_added, why, sizeof why);
        if (r < 0 && r != -EBADMSG)
                return network_failure(c, r);
        if (r < 0)
                return refuse(c, why);
        return 0;
}

static int install(Context *c) {
        bool whole = !c->have_held || faccessat(c->dir_fd, "revoked.idx", F_OK, AT_SYMLINK_NOFOLLOW) < 0;
        int r;

        if ((r = fetch_certificates(c, whole)) < 0)
                return r;
        if ((r = install_ca(c->dir_fd, &c->ca)) < 0)
                return log_error_errno(r, "sync: cannot write %s/ca.pem: %m", c->directory);
        r = install_crl(c->dir_fd, &c->ca, &c->change, c->number, c->got.data, c->got.len);
        if (r == -ESTALE) {
                /* revoked.idx was unusable (damaged, another CA's): every
                 * certificate of the CRL goes into the new one */
                log_warning("sync: %s/revoked.idx was started afresh", c->directory);
                if ((r = fetch_certificates(c, true)) < 0)
                        return r;
                r = install_crl(c->dir_fd, &c->ca, &c->change, c->number, c->got.data, c->got.len);
        }
        return r;
}

static void save_validators(Context *c) {
        int r = held_validators_write(c->dir_fd, &c->got_validators);

        /* without them the next sync downloads the CRL again, no more */
        if (r < 0)
                log_warning_errno(r, "sync: cannot write %s/%s: %m", c->directory, SYNC_STATE_NAME);
}

static unsigned long long elapsed_ms(const Context *c) {
        return (monotonic_usec() - c->start_usec) / 1000;
}

/* A 304: the CRL held is the publisher's, and must still be in force. */
static int unchanged(Context *c) {
        if (c->held_next_update_usec <= now_usec()) {
                log_error("sync: the CRL held (number %llu) is past its nextUpdate and %s has no newer one",
                          (unsigned long long) c->held_number, c->config.sync_url);
                return -EBADMSG;
        }
        log_info("sync: CRL number %llu is current; downloaded %llu bytes in %llu ms",
                 (unsigned long long) c->held_number, (unsigned long long) fetcher_bytes(c->fetcher), elapsed_ms(c));
        return 0;
}

static int run_sync(Context *c) {
        size_t found;
        int r;

        if ((r = open_directory(c)) < 0 || (r = read_held(c)) < 0)
                return r;
        if ((r = fetch_crl(c)) < 0)
                return r;
        if (r == 0)
                return unchanged(c);
        if ((r = verify_crl(c)) < 0)
                return r;
        if (r == 0) {
                save_validators(c);
                return unchanged(c);
        }
        if ((r = install(c)) < 0)
                return r;
        save_validators(c);
        found = count_found(&c->change);
        log_info("sync: installed CRL number %llu (held before: %llu): %zu certificates added, %zu removed%s; "
                 "downloaded %llu bytes in %llu ms",
                 (unsigned long long) c->number, c->have_held ? (unsigned long long) c->held_number : 0ULL, found,
                 c->change.n_removed, found < c->change.n_added ? ", some listed without a certificate to show" : "",
                 (unsigned long long) fetcher_bytes(c->fetcher), elapsed_ms(c));
        if (found < c->change.n_added)
                log_notice("sync: %zu serials on the CRL have no certificate in the publisher's revoked.idx: the "
                           "trust module lists only the others", c->change.n_added - found);
        return 0;
}

static int exit_status(int r) {
        switch (r) {
        case -EBADMSG:
                return EXIT_REFUSED;
        case -ECONNREFUSED:
        case -EHOSTUNREACH:
        case -ETIMEDOUT:
        case -EPROTO:
        case -EIO:
        case -EKEYREJECTED:
        case -EFBIG:
                return EXIT_NETWORK;
        default:
                return EXIT_LOCAL;
        }
}

int main(int argc, char *argv[]) {
        _cleanup_(context_done) Context c = { .config_path = CR_DEFAULT_CONFIG, .dir_fd = -1 };
        int r;

        c.start_usec = monotonic_usec();
        r = program_args_parse(argc, argv, SUMMARY, &c.config_path);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_SUCCESS;
        if ((r = load_config(&c)) < 0)
                return EXIT_LOCAL;
        r = run_sync(&c);
        return r < 0 ? exit_status(r) : EXIT_SUCCESS;
}
