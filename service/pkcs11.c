/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <p11-kit/p11-kit.h>
#include <stdarg.h>
#include <stdio.h>

#include "log.h"
#include "pkcs11.h"
#include "util.h"

_Static_assert(sizeof ((CK_TOKEN_INFO *) 0)->label == PKCS11_LABEL_MAX, "a token label is 32 bytes");

static int fail(char **error, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char **error, int r, const char *fmt, ...) {
        va_list ap;

        if (!error || *error)
                return r;
        va_start(ap, fmt);
        if (vasprintf(error, fmt, ap) < 0)
                *error = NULL;
        va_end(ap);
        return r;
}

static const char *message(void) {
        return p11_kit_message() ?: "unknown error";
}

int pkcs11_module_initialize(CK_FUNCTION_LIST *m, char **error) {
        _cleanup_free_ char *name = NULL;
        CK_RV rv;

        assert(m);
        rv = p11_kit_module_initialize(m);
        if (rv == CKR_OK)
                return 0;
        name = p11_kit_module_get_name(m);
        return fail(error, -EIO, "cannot initialise the PKCS#11 module %s: %s", name ?: "(unnamed)",
                    p11_kit_strerror(rv));
}

/* A module just loaded, handed out initialised, or let go. */
static int initialize_or_release(CK_FUNCTION_LIST *m, CK_FUNCTION_LIST **ret, char **error) {
        int r = pkcs11_module_initialize(m, error);

        if (r < 0) {
                p11_kit_module_release(m);
                return r;
        }
        *ret = m;
        return 0;
}

int pkcs11_module_load(const char *path, CK_FUNCTION_LIST **ret, char **error) {
        CK_FUNCTION_LIST *m;

        assert(path);
        assert(ret);
        /* flags 0: managed, see pkcs11.h */
        m = p11_kit_module_load(path, 0);
        if (!m)
                return fail(error, -ENOENT, "cannot load module %s: %s", path, message());
        return initialize_or_release(m, ret, error);
}

int pkcs11_modules_list_registered(CK_FUNCTION_LIST ***ret, char **error) {
        CK_FUNCTION_LIST **v;

        assert(ret);
        v = p11_kit_modules_load(NULL, 0);
        if (!v)
                return fail(error, -EIO, "cannot load the p11-kit registered modules: %s", message());
        *ret = v;
        return 0;
}

int pkcs11_module_load_registered(const char *name, CK_FUNCTION_LIST **ret, char **error) {
        CK_FUNCTION_LIST **v = NULL, *m;
        int r;

        assert(name);
        assert(ret);
        r = pkcs11_modules_list_registered(&v, error);
        if (r < 0)
                return r;
        m = p11_kit_module_for_name(v, name);
        for (CK_FUNCTION_LIST **i = v; *i; i++)
                if (*i != m)
                        p11_kit_module_release(*i);
        free(v);
        if (!m)
                return fail(error, -ENOENT, "no PKCS#11 module is registered as %s any more", name);
        return initialize_or_release(m, ret, error);
}

int pkcs11_modules_load_registered(CK_FUNCTION_LIST ***ret, char **error) {
        CK_FUNCTION_LIST **v = NULL;
        size_t k = 0;
        int r;

        assert(ret);
        r = pkcs11_modules_list_registered(&v, error);
        if (r < 0)
                return r;
        for (size_t i = 0; v[i]; i++) {
                _cleanup_free_ char *why = NULL;

                if (pkcs11_module_initialize(v[i], &why) < 0) {
                        log_warning("pkcs11: %s; left out", why ?: "a module does not initialise");
                        p11_kit_module_release(v[i]);
                        continue;
                }
                v[k++] = v[i];
        }
        v[k] = NULL;
        *ret = v;
        return 0;
}

void pkcs11_module_finalize(CK_FUNCTION_LIST *m) {
        CK_RV rv;

        assert(m);
        rv = p11_kit_module_finalize(m);
        if (rv != CKR_OK)
                log_debug("pkcs11: a module did not finalize cleanly: %s", p11_kit_strerror(rv));
}

void pkcs11_module_unload(CK_FUNCTION_LIST *m) {
        if (!m)
                return;
        pkcs11_module_finalize(m);
        p11_kit_module_release(m);
}

void pkcs11_module_release(CK_FUNCTION_LIST *m) {
        if (m)
                p11_kit_module_release(m);
}

void pkcs11_modules_unload(CK_FUNCTION_LIST **v) {
        if (!v)
                return;
        for (CK_FUNCTION_LIST **m = v; *m; m++)
                pkcs11_module_unload(*m);
        free(v);
}

bool pkcs11_module_failed(CK_RV rv) {
        return rv == CKR_CRYPTOKI_NOT_INITIALIZED || rv == CKR_DEVICE_ERROR || rv == CKR_GENERAL_ERROR;
}

CK_RV pkcs11_slots(CK_FUNCTION_LIST *m, CK_SLOT_ID **ret, CK_ULONG *ret_n) {
        _cleanup_free_ CK_SLOT_ID *slots = NULL;
        CK_ULONG n = 0;
        CK_RV rv;

        assert(m);
        rv = m->C_GetSlotList(CK_TRUE, NULL, &n);
        if (rv != CKR_OK)
                return rv;
        if (n > 0) {
                slots = calloc(n, sizeof *slots);
                if (!slots)
                        return CKR_HOST_MEMORY;
                rv = m->C_GetSlotList(CK_TRUE, slots, &n);
                if (rv != CKR_OK)
                        return rv;
        }
        *ret = TAKE_PTR(slots);
        *ret_n = n;
        return CKR_OK;
}

void pkcs11_token_label(const CK_TOKEN_INFO *ti, char out[static PKCS11_LABEL_MAX + 1]) {
        size_t n = sizeof ti->label;

        memcpy(out, ti->label, n);
        while (n > 0 && out[n - 1] == ' ')
                n--;
        out[n] = 0;
}
