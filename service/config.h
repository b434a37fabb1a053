/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

typedef struct Config {
        char *path;

        /* [Service] */
        char *state_directory;
        char *pam_service;
        char *confirmation_file;        /* pam_certrevoke's confirm.shadow */
        uint64_t idle_timeout_usec;     /* UINT64_MAX: never exit on idle */

        /* [CA] */
        char *ca_certificate;
        char *ca_key;            /* PEM path or pkcs11: URI */
        char *ca_pin_file;

        /* [CRL] */
        char *publish_directory;
        uint64_t crl_validity_usec;

        /* [Tokens] */
        char **token_modules;    /* NULL-terminated; empty: every registered module */
        char *tokens_pin_file;

        /* [History] */
        uint64_t history_max_age_usec;
        uint64_t history_max_entries;

        /* [OCSP]: read by certrevoke-ocspd; certrevoked only checks them */
        char *ocsp_certificate;         /* NULL: the CA signs its responses */
        char *ocsp_key;                 /* PEM path or pkcs11: URI; NULL: [CA] Key */
        char *ocsp_pin_file;
        char *ocsp_listen;              /* "address:port", "[v6]:port" */
        uint64_t ocsp_validity_usec;    /* nextUpdate - thisUpdate */
        uint64_t ocsp_max_age_usec;     /* how long an HTTP cache may keep an answer */
        char *ocsp_cache_directory;     /* signed responses across restarts; NULL: $CACHE_DIRECTORY */

        /* [Sync]: certrevoke-sync, on hosts that follow another's CRL */
        char *sync_url;                 /* http(s):// directory holding crl.der and revoked.idx */
        char *sync_directory;           /* where the trust module reads; NULL: PublishDirectory */
        char *sync_ca_certificate;      /* NULL: [CA] Certificate= */
        char *sync_ca_bundle;           /* the TLS roots for https; NULL: the system's */
        uint64_t sync_timeout_usec;     /* 0: CONFIG_SYNC_TIMEOUT_DEFAULT_USEC */
} Config;

#define CONFIG_OCSP_LISTEN_DEFAULT "127.0.0.1:8080"
#define CONFIG_OCSP_VALIDITY_DEFAULT_USEC (24ULL * 3600 * 1000000)
#define CONFIG_OCSP_MAX_AGE_DEFAULT_USEC (300ULL * 1000000)

#define CONFIG_SYNC_TIMEOUT_DEFAULT_USEC (60ULL * 1000000)
#define CONFIG_SYNC_URL_MAX 2048

#define CONFIG_HISTORY_MAX_AGE_DEFAULT_USEC (365ULL * 86400 * 1000000)
#define CONFIG_HISTORY_MAX_ENTRIES_DEFAULT  1000000ULL
#define CONFIG_HISTORY_MAX_ENTRIES_MAX      1000000000ULL

/* Fills c with defaults and the keys of the file at path.  A missing file
 * is an error only when required.  On a bad file returns -EINVAL and a
 * message naming file, line and key in *error (to be freed). */
int config_load(Config *c, const char *path, int required, char **error);
void config_done(Config *c);

/* Refuses a StateDirectory or PublishDirectory that a user other than root
 * (or the user the daemon runs as) could change: a symbolic link, a
 * directory of another owner or writable by its group or others, or one
 * below such a directory (directory_open_trusted says exactly).  A missing
 * one passes: it is made and checked when first needed.  On failure returns
 * a negative errno and *error (to be freed) names the key, the path and
 * why, e.g. "PublishDirectory=/x: is a symbolic link; refusing to write
 * through it". */
int config_check_directories(const Config *c, char **error);

/* "127.0.0.1:80", "[::1]:8080": a numeric address and a port 1-65535.
 * ret (may be NULL) receives the socket address, ret_len its length. */
struct sockaddr_storage;
int config_parse_listen(const char *s, struct sockaddr_storage *ret, unsigned *ret_len);

/* "7d", "12h", "30min", "90s", "1w 2d" or plain seconds; >0. */
int config_parse_duration(const char *s, uint64_t *ret_usec);
