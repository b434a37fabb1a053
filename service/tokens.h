/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <p11-kit/pkcs11.h>
#include <stdbool.h>
#include <stddef.h>

/* A certificate object found on a token. */
typedef struct TokenCert {
        unsigned char *der;
        size_t der_len;
        char *uri;              /* pkcs11: URI of the object, with token and module */
} TokenCert;

typedef struct TokenScan {
        TokenCert *certs;
        size_t n_certs;
        size_t n_tokens;        /* tokens walked to the end */
        size_t n_failed;        /* tokens or modules skipped after an error */
        struct {                /* the tokens read to the end */
                CK_INFO module;
                CK_TOKEN_INFO token;
        } *walked;
} TokenScan;

/* Walks every token of the given modules (all p11-kit registered modules
 * when modules is empty) and collects their certificates.  Blocks on the
 * hardware: call it off the event loop.  A failing token is logged and
 * skipped; only running out of memory fails the whole walk. */
int tokens_scan(char *const *modules, TokenScan *ret);
void token_scan_done(TokenScan *s);

/* Whether the scan read the token the object URI names to the end: what
 * it did not find there is not there. */
bool token_scan_walked(const TokenScan *s, const char *object_uri);

/* A revoked certificate to take off its token. */
typedef struct TokenRemoval {
        const char *uri;                /* where it was last seen */
        const unsigned char *der;       /* its value: only this exact object is destroyed */
        size_t der_len;
        int result;                     /* out: 0 removed (or gone already), <0 left in place */
} TokenRemoval;

/* Destroys each certificate object on the token its URI names, loading the
 * modules once for all.  With a PIN, also the private key of the same
 * CKA_ID.  -ENODEV: the token is not there; -EACCES: it refused. */
void tokens_remove(char *const *modules, TokenRemoval *items, size_t n, const char *pin);

/* Reads the first line of a PIN file into a buffer the caller wipes and
 * frees; NULL path gives NULL. */
int tokens_read_pin(const char *path, char **ret);
