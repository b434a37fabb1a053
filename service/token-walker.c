/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>
#include <stdint.h>

#include "log.h"
#include "pkcs11.h"
#include "token-walker.h"
#include "util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(P11KitUri *, p11_kit_uri_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free)

typedef struct Module {
        char *path;                     /* as configured; NULL for a registered module */
        char *name;                     /* p11-kit's name of a registered module */
        CK_FUNCTION_LIST *functions;    /* NULL until loaded, and once let go */
        bool initialized;
        uint64_t initialized_in;        /* the call that initialised it last */
        bool broken;                    /* a C_* call said the module failed */
        bool missed;                    /* it did not show a token a removal names */
} Module;

struct TokenWalker {
        char **configured;              /* [Tokens] Modules= as last seen; empty: the registered */
        Module *modules;
        size_t n_modules;
        bool listed;                    /* the registered modules were listed */
        uint64_t calls;
};

static const char *module_name(const Module *m) {
        return m->path ?: m->name ?: "(unnamed)";
}

static void module_let_go(Module *m) {
        if (m->initialized)
                pkcs11_module_unload(m->functions);
        else
                pkcs11_module_release(m->functions);
        m->functions = NULL;
        m->initialized = false;
}

static void module_done(Module *m) {
        module_let_go(m);
        free(m->path);
        free(m->name);
}

static void modules_done(TokenWalker *w) {
        for (size_t i = 0; i < w->n_modules; i++)
                module_done(&w->modules[i]);
        free(w->modules);
        w->modules = NULL;
        w->n_modules = 0;
        w->listed = false;
}

/* One entry per configured path; nothing is loaded yet. */
static int modules_for_paths(char *const *paths, Module **ret, size_t *ret_n) {
        _cleanup_free_ Module *v = NULL;
        size_t n = 0;

        while (paths[n])
                n++;
        v = calloc(n ? n : 1, sizeof *v);
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                v[i].path = strdup(paths[i]);
                if (!v[i].path) {
                        for (size_t k = 0; k < i; k++)
                                free(v[k].path);
                        return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

/* An entry of the old list that loads the same path, taken over as it is. */
static bool take_over(TokenWalker *w, Module *to) {
        for (size_t i = 0; i < w->n_modules; i++) {
                Module *m = &w->modules[i];

                if (!m->path || !streq_ptr(m->path, to->path) || !m->functions)
                        continue;
                to->functions = TAKE_PTR(m->functions);
                to->initialized = m->initialized;
                to->initialized_in = m->initialized_in;
                m->initialized = false;
                return true;
        }
        return false;
}

/* After a reload: the modules still listed stay as they are, those no
 * longer listed are finalized. */
static int configure(TokenWalker *w, char *const *modules) {
        _cleanup_(strv_freep) char **copy = NULL;
        Module *v = NULL;
        size_t n = 0;
        int r;

        if (strv_equal(w->configured, modules))
                return 0;
        copy = strv_copy(modules);
        if (!copy)
                return -ENOMEM;
        if (modules && modules[0]) {
                r = modules_for_paths(modules, &v, &n);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n; i++)
                        (void) take_over(w, &v[i]);
        }
        for (size_t i = 0; i < w->n_modules; i++)
                if (w->modules[i].functions)
                        log_info("tokens: module %s is no longer configured; finalized", module_name(&w->modules[i]));
        modules_done(w);
        w->modules = v;
        w->n_modules = n;
        strv_free(w->configured);
        w->configured = TAKE_PTR(copy);
        return 0;
}

int token_walker_new(char *const *modules, TokenWalker **ret) {
        TokenWalker *w;
        int r;

        assert(ret);
        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        /* empty: the registered modules, listed at their first use */
        w->configured = strv_copy(NULL);
        if (!w->configured) {
                free(w);
                return -ENOMEM;
        }
        r = configure(w, modules);
        if (r < 0) {
                token_walker_free(w);
                return r;
        }
        *ret = w;
        return 0;
}

void token_walker_free(TokenWalker *w) {
        if (!w)
                return;
        modules_done(w);
        strv_free(w->configured);
        free(w);
}

/* Every registered module, by name, the first time they are needed. */
static int list_registered(TokenWalker *w) {
        _cleanup_free_ char *error = NULL;
        CK_FUNCTION_LIST **v = NULL;
        size_t n = 0;
        int r;

        if (w->listed || (w->configured && w->configured[0]))
                return 0;
        r = pkcs11_modules_list_registered(&v, &error);
        if (r < 0)
                return log_warning_errno(r, "tokens: %s; trying again at the next removal", error ?: strerror(-r));
        while (v[n])
                n++;
        w->modules = calloc(n ? n : 1, sizeof *w->modules);
        if (!w->modules) {
                for (size_t i = 0; i < n; i++)
                        pkcs11_module_release(v[i]);
                free(v);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                w->modules[i] = (Module) { .name = p11_kit_module_get_name(v[i]), .functions = v[i] };
        w->n_modules = n;
        w->listed = true;
        free(v);
        return 0;
}

/* Loads and initialises a module not ready yet; false when it cannot be
 * (logged: it is tried again at the next call). */
static bool module_ready(TokenWalker *w, Module *m) {
        _cleanup_free_ char *error = NULL;
        int r;

        if (m->broken)
                return false;
        if (m->functions && m->initialized)
                return true;
        if (m->functions)
                r = pkcs11_module_initialize(m->functions, &error);
        else if (m->path)
                r = pkcs11_module_load(m->path, &m->functions, &error);
        else
                r = m->name ? pkcs11_module_load_registered(m->name, &m->functions, &error) : -ENOENT;
        if (r < 0) {
                log_warning_errno(r, "tokens: %s; trying again at the next removal", error ?: strerror(-r));
                module_let_go(m);
                m->broken = true;
                return false;
        }
        m->initialized = true;
        m->initialized_in = w->calls;
        return true;
}

/* A result that says the module itself failed marks it for loading again. */
static CK_RV seen(Module *m, CK_RV rv) {
        if (pkcs11_module_failed(rv))
                m->broken = true;
        return rv;
}

static int find_objects(Module *m, CK_SESSION_HANDLE s, CK_ATTRIBUTE *match, CK_ULONG n, CK_OBJECT_HANDLE *ret,
                        CK_ULONG max, CK_ULONG *ret_n) {
        CK_FUNCTION_LIST *f = m->functions;
        CK_RV rv;

        rv = seen(m, f->C_FindObjectsInit(s, match, n));
        if (rv != CKR_OK)
                return -EIO;
        rv = seen(m, f->C_FindObjects(s, ret, max, ret_n));
        f->C_FindObjectsFinal(s);
        return rv == CKR_OK ? 0 : -EIO;
}

static int read_id(Module *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE *ret) {
        CK_FUNCTION_LIST *f = m->functions;
        CK_ATTRIBUTE a = { CKA_ID, NULL, 0 };

        if (seen(m, f->C_GetAttributeValue(s, o, &a, 1)) != CKR_OK || a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
                return -ENODATA;
        if (a.ulValueLen > 4096)
                return -EFBIG;
        a.pValue = malloc(a.ulValueLen ? a.ulValueLen : 1);
        if (!a.pValue)
                return -ENOMEM;
        if (seen(m, f->C_GetAttributeValue(s, o, &a, 1)) != CKR_OK) {
                free(a.pValue);
                return -EIO;
        }
        *ret = a;
        return 0;
}

/* The private key pairs with the certificate by CKA_ID. */
static void destroy_private_key(Module *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE cert, const char *pin) {
        CK_FUNCTION_LIST *f = m->functions;
        CK_OBJECT_CLASS klass = CKO_PRIVATE_KEY;
        CK_ATTRIBUTE id = {};
        CK_OBJECT_HANDLE keys[4];
        CK_ULONG n = 0;
        CK_RV rv;

        if (read_id(m, s, cert, &id) < 0)
                return;
        rv = seen(m, f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) pin, strlen(pin)));
        if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
                CK_ATTRIBUTE match[] = { { CKA_CLASS, &klass, sizeof klass }, id };

                if (find_objects(m, s, match, ELEMENTSOF(match), keys, ELEMENTSOF(keys), &n) == 0)
                        for (CK_ULONG i = 0; i < n; i++) {
                                rv = seen(m, f->C_DestroyObject(s, keys[i]));
                                if (rv != CKR_OK)
                                        log_warning("tokens: the private key stays: %s", p11_kit_strerror(rv));
                        }
        } else
                log_warning("tokens: login for the private key failed: %s", p11_kit_strerror(rv));
        free(id.pValue);
}

static int remove_on_slot(Module *m, CK_SLOT_ID slot, TokenRemoval *t, const char *pin) {
        CK_FUNCTION_LIST *f = m->functions;
        CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
        CK_ATTRIBUTE match[] = {
                { CKA_CLASS, &klass, sizeof klass },
                { CKA_VALUE, (void *) t->der, t->der_len },
        };
        CK_OBJECT_HANDLE objects[4];
        CK_SESSION_HANDLE s;
        CK_ULONG n = 0;
        CK_RV rv;
        int r = 0;

        rv = seen(m, f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s));
        if (rv != CKR_OK)
                return rv == CKR_TOKEN_WRITE_PROTECTED ? -EACCES : -EIO;
        if (find_objects(m, s, match, ELEMENTSOF(match), objects, ELEMENTSOF(objects), &n) < 0)
                r = -EIO;
        for (CK_ULONG i = 0; i < n && r == 0; i++) {
                if (pin)
                        destroy_private_key(m, s, objects[i], pin);
                rv = seen(m, f->C_DestroyObject(s, objects[i]));
                if (rv != CKR_OK) {
                        log_warning("tokens: the token refused to destroy the certificate: %s", p11_kit_strerror(rv));
                        r = -EACCES;
                }
        }
        f->C_CloseSession(s);
        return r;
}

/* The token uri names, in module m: -ENODEV when m is not the URI's module
 * or does not show the token (then *ret_missed). */
static int remove_in_module(Module *m, P11KitUri *uri, TokenRemoval *t, const char *pin, bool *ret_missed) {
        CK_FUNCTION_LIST *f = m->functions;
        _cleanup_free_ CK_SLOT_ID *slots = NULL;
        CK_ULONG n = 0;
        CK_INFO mi;
        CK_RV rv;

        *ret_missed = false;
        rv = seen(m, f->C_GetInfo(&mi));
        if (rv != CKR_OK || !p11_kit_uri_match_module_info(uri, &mi))
                return -ENODEV;
        rv = seen(m, pkcs11_slots(f, &slots, &n));
        if (rv != CKR_OK) {
                log_warning("tokens: module %s cannot list its slots: %s", module_name(m), p11_kit_strerror(rv));
                return -ENODEV;
        }
        for (CK_ULONG i = 0; i < n; i++) {
                CK_TOKEN_INFO ti;

                rv = seen(m, f->C_GetTokenInfo(slots[i], &ti));
                if (rv == CKR_OK && p11_kit_uri_match_token_info(uri, &ti))
                        return remove_on_slot(m, slots[i], t, pin);
        }
        *ret_missed = true;
        return -ENODEV;
}

/* The token t's URI names, among the modules ready. */
static int remove_one(TokenWalker *w, P11KitUri *uri, TokenRemoval *t, const char *pin) {
        for (size_t i = 0; i < w->n_modules; i++) {
                Module *m = &w->modules[i];
                bool missed;
                int r;

                if (!module_ready(w, m))
                        continue;
                r = remove_in_module(m, uri, t, pin, &missed);
                if (missed)
                        m->missed = true;
                if (r != -ENODEV)
                        return r;
        }
        return -ENODEV;
}

/* Modules that missed a token and were initialised before this call are
 * initialised again, to see the tokens as they are now. */
static bool refresh_missed(TokenWalker *w) {
        bool any = false;

        for (size_t i = 0; i < w->n_modules; i++) {
                Module *m = &w->modules[i];

                if (!m->missed || m->broken || !m->initialized || m->initialized_in == w->calls)
                        continue;
                log_debug("tokens: module %s does not show a token; initialising it again", module_name(m));
                pkcs11_module_finalize(m->functions);
                m->initialized = false;
                m->missed = false;
                any = module_ready(w, m) || any;
        }
        return any;
}

static void remove_item(TokenWalker *w, TokenRemoval *t, const char *pin) {
        _cleanup_(p11_kit_uri_freep) P11KitUri *uri = p11_kit_uri_new();

        if (!uri) {
                t->result = -ENOMEM;
                return;
        }
        if (isempty(t->uri) || p11_kit_uri_parse(t->uri, P11_KIT_URI_FOR_OBJECT_ON_TOKEN_AND_MODULE, uri) != P11_KIT_URI_OK) {
                t->result = -ENODEV;
                return;
        }
        t->result = remove_one(w, uri, t, pin);
        if (t->result == -ENODEV && refresh_missed(w))
                t->result = remove_one(w, uri, t, pin);
}

/* What failed or missed a token is let go: loaded again at the next
 * call, and meanwhile a rescan loading its own initialises it afresh. */
static void settle(TokenWalker *w) {
        for (size_t i = 0; i < w->n_modules; i++) {
                Module *m = &w->modules[i];

                if (m->broken && m->functions)
                        log_warning("tokens: module %s failed; loading it again at the next removal", module_name(m));
                if (m->broken || m->missed)
                        module_let_go(m);
                m->broken = m->missed = false;
        }
}

void token_walker_remove(TokenWalker *w, char *const *modules, const char *pin, TokenRemoval *items, size_t n) {
        int r;

        assert(w);
        assert(items || n == 0);
        w->calls++;
        for (size_t i = 0; i < n; i++)
                items[i].result = -ENODEV;
        r = configure(w, modules);
        if (r >= 0 && n > 0)
                r = list_registered(w);
        if (r < 0 || n == 0)
                return;
        for (size_t i = 0; i < n; i++)
                remove_item(w, &items[i], pin);
        settle(w);
}
