/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "pkcs11.h"
#include "tokens.h"
#include "util.h"

/* Modules are loaded afresh for every walk, so that a card inserted or
 * pulled since the last one is seen as it is now (as far as no one else
 * holds the module: see pkcs11.h).  NULL-terminated. */
static int load_modules(char *const *paths, CK_FUNCTION_LIST ***ret, size_t *n_failed) {
        _cleanup_free_ char *error = NULL;
        CK_FUNCTION_LIST **v;
        size_t n = 0, k = 0;
        int r;

        if (!paths || !paths[0]) {
                r = pkcs11_modules_load_registered(ret, &error);
                if (r < 0)
                        return log_error_errno(r, "tokens: %s", error ?: strerror(-r));
                return 0;
        }
        while (paths[n])
                n++;
        v = calloc(n + 1, sizeof *v);
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *why = NULL;

                r = pkcs11_module_load(paths[i], &v[k], &why);
                if (r < 0) {
                        log_warning("tokens: %s", why ?: strerror(-r));
                        (*n_failed)++;
                        continue;
                }
                k++;
        }
        *ret = v;
        return 0;
}

static int get_attribute(CK_FUNCTION_LIST *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                         CK_ATTRIBUTE_TYPE type, CK_ATTRIBUTE *ret) {
        CK_ATTRIBUTE a = { type, NULL, 0 };

        *ret = a;
        if (m->C_GetAttributeValue(s, o, &a, 1) != CKR_OK || a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
                return 0;
        if (a.ulValueLen > 1024 * 1024)
                return -EFBIG;
        if (!(a.pValue = malloc(a.ulValueLen ? a.ulValueLen : 1)))
                return -ENOMEM;
        if (m->C_GetAttributeValue(s, o, &a, 1) != CKR_OK) {
                free(a.pValue);
                return -EIO;
        }
        *ret = a;
        return 1;
}

static char *object_uri(const CK_INFO *mi, const CK_TOKEN_INFO *ti, const CK_ATTRIBUTE *id,
                        const CK_ATTRIBUTE *label) {
        CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
        CK_ATTRIBUTE ca = { CKA_CLASS, &klass, sizeof klass };
        P11KitUri *uri = p11_kit_uri_new();
        char *s = NULL;

        if (!uri)
                return NULL;
        memcpy(p11_kit_uri_get_module_info(uri), mi, sizeof *mi);
        memcpy(p11_kit_uri_get_token_info(uri), ti, sizeof *ti);
        p11_kit_uri_set_attribute(uri, &ca);
        if (id->pValue)
                p11_kit_uri_set_attribute(uri, (CK_ATTRIBUTE *) id);
        if (label->pValue)
                p11_kit_uri_set_attribute(uri, (CK_ATTRIBUTE *) label);
        if (p11_kit_uri_format(uri, P11_KIT_URI_FOR_OBJECT_ON_TOKEN_AND_MODULE, &s) != P11_KIT_URI_OK)
                s = NULL;
        p11_kit_uri_free(uri);
        return s;
}

static int push_cert(TokenScan *scan, CK_ATTRIBUTE *value, char *uri) {
        TokenCert *n;

        if (!uri)
                return -ENOMEM;
        n = realloc(scan->certs, (scan->n_certs + 1) * sizeof *n);
        if (!n) {
                free(uri);
                return -ENOMEM;
        }
        scan->certs = n;
        n[scan->n_certs++] = (TokenCert) { .der = value->pValue, .der_len = value->ulValueLen, .uri = uri };
        value->pValue = NULL;
        return 0;
}

static int read_object(CK_FUNCTION_LIST *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                       const CK_INFO *mi, const CK_TOKEN_INFO *ti, TokenScan *scan) {
        CK_ATTRIBUTE value, id, label;
        int r;

        if ((r = get_attribute(m, s, o, CKA_VALUE, &value)) <= 0)
                return r == -ENOMEM ? r : 0;
        if ((r = get_attribute(m, s, o, CKA_ID, &id)) >= 0 &&
            (r = get_attribute(m, s, o, CKA_LABEL, &label)) >= 0) {
                r = push_cert(scan, &value, object_uri(mi, ti, &id, &label));
                free(label.pValue);
        }
        free(id.pValue);
        free(value.pValue);
        return r == -ENOMEM ? r : 0;
}

static int walk_session(CK_FUNCTION_LIST *m, CK_SESSION_HANDLE s, const CK_INFO *mi,
                        const CK_TOKEN_INFO *ti, TokenScan *scan) {
        CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
        CK_CERTIFICATE_TYPE type = CKC_X_509;
        CK_ATTRIBUTE match[] = {
                { CKA_CLASS, &klass, sizeof klass },
                { CKA_CERTIFICATE_TYPE, &type, sizeof type },
        };
        CK_OBJECT_HANDLE objects[64];
        CK_ULONG n;
        CK_RV rv;
        int r = 0;

        if ((rv = m->C_FindObjectsInit(s, match, ELEMENTSOF(match))) != CKR_OK)
                return -EIO;
        do {
                if ((rv = m->C_FindObjects(s, objects, ELEMENTSOF(objects), &n)) != CKR_OK) {
                        r = -EIO;
                        break;
                }
                for (CK_ULONG i = 0; i < n && r >= 0; i++)
                        r = read_object(m, s, objects[i], mi, ti, scan);
        } while (n > 0 && r >= 0);
        m->C_FindObjectsFinal(s);
        return r;
}

static int note_walked(TokenScan *scan, const CK_INFO *mi, const CK_TOKEN_INFO *ti) {
        void *n = realloc(scan->walked, (scan->n_tokens + 1) * sizeof *scan->walked);

        if (!n)
                return -ENOMEM;
        scan->walked = n;
        scan->walked[scan->n_tokens].module = *mi;
        scan->walked[scan->n_tokens].token = *ti;
        return 0;
}

static int walk_slot(CK_FUNCTION_LIST *m, CK_SLOT_ID slot, const CK_INFO *mi, TokenScan *scan) {
        CK_TOKEN_INFO ti;
        CK_SESSION_HANDLE s;
        char label[PKCS11_LABEL_MAX + 1];
        size_t before = scan->n_certs;
        CK_RV rv;
        int r;

        if ((rv = m->C_GetTokenInfo(slot, &ti)) != CKR_OK) {
                log_warning("tokens: slot %lu: cannot read token: %s", (unsigned long) slot, p11_kit_strerror(rv));
                return -EIO;
        }
        pkcs11_token_label(&ti, label);
        /* a blank card (SoftHSM always offers one) holds nothing yet */
        if (!(ti.flags & CKF_TOKEN_INITIALIZED))
                return 0;
        /* our own trust module shows what we revoked: no user's card */
        if (memcmp(ti.model, "certrevoke ", 11) == 0 && memcmp(ti.manufacturerID, "certrevoke ", 11) == 0)
                return 0;
        if ((rv = m->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s)) != CKR_OK) {
                log_warning("tokens: token \"%s\": cannot open a session: %s", label, p11_kit_strerror(rv));
                return -EIO;
        }
        r = walk_session(m, s, mi, &ti, scan);
        m->C_CloseSession(s);
        if (r == 0 && (r = note_walked(scan, mi, &ti)) == 0)
                return 1;
        if (r == -EIO) {
                /* a half-read token tells nothing reliable: drop what it gave */
                for (size_t i = before; i < scan->n_certs; i++) {
                        free(scan->certs[i].der);
                        free(scan->certs[i].uri);
                }
                scan->n_certs = before;
                log_event(LOG_WARNING, CR_MESSAGE_TOKEN_UNREACHABLE, "CERTREVOKE_TOKEN", label, NULL, NULL,
                          "tokens: token \"%s\" failed while being read; skipped", label);
        }
        return r;
}

static int list_slots(CK_FUNCTION_LIST *m, CK_SLOT_ID **ret, CK_ULONG *ret_n) {
        CK_RV rv;

        rv = pkcs11_slots(m, ret, ret_n);
        if (rv == CKR_HOST_MEMORY)
                return -ENOMEM;
        if (rv != CKR_OK) {
                log_warning("tokens: a module cannot list its slots: %s", p11_kit_strerror(rv));
                return -EIO;
        }
        return 0;
}

static int walk_module(CK_FUNCTION_LIST *m, TokenScan *scan) {
        _cleanup_free_ CK_SLOT_ID *slots = NULL;
        CK_ULONG n = 0;
        CK_INFO mi;
        int r;

        if (m->C_GetInfo(&mi) != CKR_OK || (r = list_slots(m, &slots, &n)) == -EIO) {
                scan->n_failed++;
                return 0;
        }
        if (r < 0)
                return r;
        for (CK_ULONG i = 0; i < n; i++) {
                r = walk_slot(m, slots[i], &mi, scan);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        scan->n_failed++;
                else if (r > 0)
                        scan->n_tokens++;
        }
        return 0;
}

int tokens_scan(char *const *modules, TokenScan *ret) {
        _cleanup_(pkcs11_modules_unloadp) CK_FUNCTION_LIST **loaded = NULL;
        TokenScan scan = {};
        int r;

        r = load_modules(modules, &loaded, &scan.n_failed);
        if (r < 0)
                return r;
        for (CK_FUNCTION_LIST **m = loaded; *m; m++)
                if ((r = walk_module(*m, &scan)) < 0) {
                        token_scan_done(&scan);
                        return r;
                }
        *ret = scan;
        return 0;
}

void token_scan_done(TokenScan *s) {
        for (size_t i = 0; i < s->n_certs; i++) {
                free(s->certs[i].der);
                free(s->certs[i].uri);
        }
        free(s->certs);
        free(s->walked);
        memset(s, 0, sizeof *s);
}

bool token_scan_walked(const TokenScan *s, const char *object_uri) {
        P11KitUri *uri = p11_kit_uri_new();
        bool found = false;

        if (!uri || isempty(object_uri) ||
            p11_kit_uri_parse(object_uri, P11_KIT_URI_FOR_OBJECT_ON_TOKEN_AND_MODULE, uri) != P11_KIT_URI_OK) {
                p11_kit_uri_free(uri);
                return false;
        }
        for (size_t i = 0; i < s->n_tokens && !found; i++)
                found = p11_kit_uri_match_module_info(uri, &s->walked[i].module) &&
                        p11_kit_uri_match_token_info(uri, &s->walked[i].token);
        p11_kit_uri_free(uri);
        return found;
}
