/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Taking revoked certificates off the users' tokens. */
#pragma once

#include <stddef.h>

/* A revoked certificate to take off its token. */
typedef struct TokenRemoval {
        const char *uri;                /* where it was last seen */
        const unsigned char *der;       /* its value: only this exact object is destroyed */
        size_t der_len;
        int result;                     /* out: 0 removed (or gone already), <0 left in place */
} TokenRemoval;

/* Takes revoked certificates off their tokens with modules kept loaded
 * from one call to the next, so that a build does not pay for loading
 * them.  Used by one thread at a time.
 *
 * A module is loaded at its first use and kept.  One that failed to load
 * or initialise, or whose C_* call failed with CKR_CRYPTOKI_NOT_INITIALIZED,
 * CKR_DEVICE_ERROR or CKR_GENERAL_ERROR, is finalized and loaded again at
 * the next call.  One that does not show the token a removal names is
 * initialised again and asked once more (SoftHSM, for one, sees tokens
 * created since only then); if the token is still not there, the module
 * is let go at the end of the call, so that a later rescan, which loads
 * its own, finds the tokens as they are then.  When the configured list
 * changes (a reload), the modules no longer listed are finalized. */
typedef struct TokenWalker TokenWalker;

/* modules: as [Tokens] Modules= (empty: every registered module).  Loads
 * nothing yet. */
int token_walker_new(char *const *modules, TokenWalker **ret);
void token_walker_free(TokenWalker *w);
static inline void token_walker_freep(TokenWalker **w) {
        token_walker_free(*w);
}

/* Destroys each certificate object on the token its URI names, with the
 * modules as configured now.  With a PIN, also the private key of the same
 * CKA_ID.  Each items[i].result: -ENODEV the token is not there, -EACCES
 * it refused, -EIO it failed. */
void token_walker_remove(TokenWalker *w, char *const *modules, const char *pin, TokenRemoval *items, size_t n);
