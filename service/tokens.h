/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tokens of the users: a scan of every certificate on them (the
 * rescan); taking revoked ones off is token-walker.h. */
#pragma once

#include <p11-kit/pkcs11.h>
#include <stdbool.h>
#include <stddef.h>

#include "token-walker.h"

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
