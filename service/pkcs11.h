/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one way certrevoked loads PKCS#11 modules, for the CRL signer (a CA
 * key on a token), the token walker and the token scan alike.
 *
 * Modules are loaded managed, p11-kit's default: when several of these
 * hold the same library, p11-kit counts their C_Initialize and C_Finalize
 * calls and calls the module's own only for the first and the last, so
 * none can finalize the module under another.  (Unmanaged, the second
 * C_Initialize would fail with CKR_CRYPTOKI_ALREADY_INITIALIZED and either
 * C_Finalize would end the other's sessions.)  The counting has a price: a
 * module another part of the daemon holds is not truly initialised again
 * when one part finalizes and initialises it; only the last holder letting
 * go resets it.  Some modules (SoftHSM) see tokens created since they were
 * initialised only then. */
#pragma once

#include <p11-kit/pkcs11.h>
#include <stdbool.h>
#include <stddef.h>

/* The library at path (absolute, or relative to p11-kit's module
 * directory), loaded and initialised: -ENOENT when it cannot be loaded,
 * -EIO when it does not initialise.  Here and below, on failure *error
 * (malloc'd; may stay NULL) says why for an administrator, unless it held
 * an earlier reason already. */
int pkcs11_module_load(const char *path, CK_FUNCTION_LIST **ret, char **error);

/* The module registered with p11-kit under name, loaded and initialised;
 * -ENOENT when none is registered (and enabled) by that name any more. */
int pkcs11_module_load_registered(const char *name, CK_FUNCTION_LIST **ret, char **error);

/* Every module registered with p11-kit and enabled for this program,
 * loaded but not initialised, NULL-terminated: release each with
 * pkcs11_module_release(), or initialise it. */
int pkcs11_modules_list_registered(CK_FUNCTION_LIST ***ret, char **error);

/* Every registered module that initialises, NULL-terminated; one that
 * does not is logged and left out. */
int pkcs11_modules_load_registered(CK_FUNCTION_LIST ***ret, char **error);

/* Initialises a module loaded but not initialised; -EIO and *error. */
int pkcs11_module_initialize(CK_FUNCTION_LIST *m, char **error);

/* Finalizes an initialised module and keeps it loaded, to be initialised
 * again. */
void pkcs11_module_finalize(CK_FUNCTION_LIST *m);
/* Lets go of an initialised module: finalized and released. */
void pkcs11_module_unload(CK_FUNCTION_LIST *m);
/* Lets go of a module loaded but not initialised. */
void pkcs11_module_release(CK_FUNCTION_LIST *m);

/* Unloads every module of a NULL-terminated list of initialised ones and
 * frees the list; NULL is fine. */
void pkcs11_modules_unload(CK_FUNCTION_LIST **v);
static inline void pkcs11_modules_unloadp(CK_FUNCTION_LIST ***v) {
        pkcs11_modules_unload(*v);
}

/* Whether a C_* call's result says the module itself is broken rather than
 * the call: it must be finalized and initialised again. */
bool pkcs11_module_failed(CK_RV rv);

/* The slots with a token present (*ret malloc'd, NULL when there are
 * none); otherwise the C_* result. */
CK_RV pkcs11_slots(CK_FUNCTION_LIST *m, CK_SLOT_ID **ret, CK_ULONG *ret_n);

#define PKCS11_LABEL_MAX 32
/* A token's label without its padding, as a C string. */
void pkcs11_token_label(const CK_TOKEN_INFO *ti, char out[static PKCS11_LABEL_MAX + 1]);
