/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "tokens.h"
#include "util.h"

typedef struct Loaded {
        CK_FUNCTION_LIST **modules;     /* NULL-terminated */
        int all;                        /* from p11_kit_modules_load_and_initialize */
} Loaded;

static void loaded_release(Loaded *l) {
        if (!l->modules)
                return;
        if (l->all)
                p11_kit_modules_finalize_and_release(l->modules);
        else {
                for (CK_FUNCTION_LIST **m = l->modules; *m; m++) {
                        p11_kit_module_finalize(*m);
                        p11_kit_module_release(*m);
                }
                free(l->modules);
        }
        l->modules = NULL;
}

/* Modules are loaded afresh for every walk, so a card inserted or pulled
 * since the last one is seen as it is now. */
static int load_modules(char *const *paths, Loaded *l, size_t *n_failed) {
        size_t n = 0, k = 0;

        if (!paths || !paths[0]) {
                l->all = 1;
                l->modules = p11_kit_modules_load_and_initialize(0);
                if (!l->modules)
                        return log_error_errno(-EIO, "tokens: cannot load the registered PKCS#11 modules: %s",
                                               p11_kit_message() ?: "unknown error");
                return 0;
        }
        while (paths[n])
                n++;
        if (!(l->modules = calloc(n + 1, sizeof *l->modules)))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                CK_FUNCTION_LIST *m = p11_kit_module_load(paths[i], 0);
                CK_RV rv;

                if (!m) {
                        log_warning("tokens: cannot load module %s: %s", paths[i], p11_kit_message() ?: "unknown error");
                        (*n_failed)++;
                        continue;
                }
                if ((rv = p11_kit_module_initialize(m)) != CKR_OK) {
                        log_warning("tokens: cannot initialize module %s: %s", paths[i], p11_kit_strerror(rv));
                        p11_kit_module_release(m);
                        (*n_failed)++;
                        continue;
                }
                l->modules[k++] = m;
        }
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

static void trim_label(const CK_UTF8CHAR *in, size_t len, char *out) {
        memcpy(out, in, len);
        out[len] = 0;
        for (size_t i = len; i > 0 && out[i - 1] == ' '; i--)
                out[i - 1] = 0;
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
        char label[sizeof ti.label + 1];
        size_t before = scan->n_certs;
        CK_RV rv;
        int r;

        if ((rv = m->C_GetTokenInfo(slot, &ti)) != CKR_OK) {
                log_warning("tokens: slot %lu: cannot read token: %s", (unsigned long) slot, p11_kit_strerror(rv));
                return -EIO;
        }
        trim_label(ti.label, sizeof ti.label, label);
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
        _cleanup_free_ CK_SLOT_ID *slots = NULL;
        CK_ULONG n = 0;
        CK_RV rv;

        if ((rv = m->C_GetSlotList(CK_TRUE, NULL, &n)) == CKR_OK && n > 0) {
                if (!(slots = calloc(n, sizeof *slots)))
                        return -ENOMEM;
                rv = m->C_GetSlotList(CK_TRUE, slots, &n);
        }
        if (rv != CKR_OK) {
                log_warning("tokens: a module cannot list its slots: %s", p11_kit_strerror(rv));
                return -EIO;
        }
        *ret = TAKE_PTR(slots);
        *ret_n = n;
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
        _cleanup_(loaded_release) Loaded loaded = {};
        TokenScan scan = {};
        int r;

        if ((r = load_modules(modules, &loaded, &scan.n_failed)) < 0)
                return r;
        for (CK_FUNCTION_LIST **m = loaded.modules; *m; m++)
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

static int find_objects(CK_FUNCTION_LIST *m, CK_SESSION_HANDLE s, CK_ATTRIBUTE *match, CK_ULONG n,
                        CK_OBJECT_HANDLE *ret, CK_ULONG max, CK_ULONG *ret_n) {
        CK_RV rv;

        if (m->C_FindObjectsInit(s, match, n) != CKR_OK)
                return -EIO;
        rv = m->C_FindObjects(s, ret, max, ret_n);
        m->C_FindObjectsFinal(s);
        return rv == CKR_OK ? 0 : -EIO;
}

/* The private key pairs with the certificate by CKA_ID. */
static void destroy_private_key(CK_FUNCTION_LIST *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE cert,
                                const char *pin) {
        CK_OBJECT_CLASS klass = CKO_PRIVATE_KEY;
        CK_ATTRIBUTE id = { CKA_ID, NULL, 0 };
        CK_OBJECT_HANDLE keys[4];
        CK_ULONG n = 0;
        CK_RV rv;
        int r;

        if ((r = get_attribute(m, s, cert, CKA_ID, &id)) <= 0)
                return;
        rv = m->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) pin, strlen(pin));
        if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
                CK_ATTRIBUTE match[] = { { CKA_CLASS, &klass, sizeof klass }, id };

                if (find_objects(m, s, match, ELEMENTSOF(match), keys, ELEMENTSOF(keys), &n) == 0)
                        for (CK_ULONG i = 0; i < n; i++)
                                if ((rv = m->C_DestroyObject(s, keys[i])) != CKR_OK)
                                        log_warning("tokens: the private key stays: %s", p11_kit_strerror(rv));
        } else
                log_warning("tokens: login for the private key failed: %s", p11_kit_strerror(rv));
        free(id.pValue);
}

static int remove_on_slot(CK_FUNCTION_LIST *m, CK_SLOT_ID slot, TokenRemoval *t, const char *pin) {
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

        rv = m->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
        if (rv != CKR_OK)
                return rv == CKR_TOKEN_WRITE_PROTECTED ? -EACCES : -EIO;
        if (find_objects(m, s, match, ELEMENTSOF(match), objects, ELEMENTSOF(objects), &n) < 0)
                r = -EIO;
        for (CK_ULONG i = 0; i < n && r == 0; i++) {
                if (pin)
                        destroy_private_key(m, s, objects[i], pin);
                rv = m->C_DestroyObject(s, objects[i]);
                if (rv != CKR_OK) {
                        log_warning("tokens: the token refused to destroy the certificate: %s", p11_kit_strerror(rv));
                        r = -EACCES;
                }
        }
        m->C_CloseSession(s);
        return r;
}

/* The token the URI names, among the loaded modules. */
static int remove_one(CK_FUNCTION_LIST **modules, TokenRemoval *t, const char *pin) {
        P11KitUri *uri = p11_kit_uri_new();
        int r = -ENODEV;

        if (!uri)
                return -ENOMEM;
        if (isempty(t->uri) || p11_kit_uri_parse(t->uri, P11_KIT_URI_FOR_OBJECT_ON_TOKEN_AND_MODULE, uri) != P11_KIT_URI_OK) {
                p11_kit_uri_free(uri);
                return -ENODEV;
        }
        for (CK_FUNCTION_LIST **m = modules; *m && r == -ENODEV; m++) {
                _cleanup_free_ CK_SLOT_ID *slots = NULL;
                CK_ULONG n = 0;
                CK_INFO mi;

                if ((*m)->C_GetInfo(&mi) != CKR_OK || !p11_kit_uri_match_module_info(uri, &mi) ||
                    list_slots(*m, &slots, &n) < 0)
                        continue;
                for (CK_ULONG i = 0; i < n && r == -ENODEV; i++) {
                        CK_TOKEN_INFO ti;

                        if ((*m)->C_GetTokenInfo(slots[i], &ti) == CKR_OK && p11_kit_uri_match_token_info(uri, &ti))
                                r = remove_on_slot(*m, slots[i], t, pin);
                }
        }
        p11_kit_uri_free(uri);
        return r;
}

void tokens_remove(char *const *modules, TokenRemoval *items, size_t n, const char *pin) {
        _cleanup_(loaded_release) Loaded loaded = {};
        size_t failed = 0;

        if (n == 0)
                return;
        if (load_modules(modules, &loaded, &failed) < 0) {
                for (size_t i = 0; i < n; i++)
                        items[i].result = -ENODEV;
                return;
        }
        for (size_t i = 0; i < n; i++)
                items[i].result = remove_one(loaded.modules, &items[i], pin);
}

int tokens_read_pin(const char *path, char **ret) {
        char buf[256];
        FILE *f;
        size_t len;

        *ret = NULL;
        if (!path)
                return 0;
        if (!(f = fopen(path, "re")))
                return -errno;
        if (!fgets(buf, sizeof buf, f)) {
                fclose(f);
                erase_memory(buf, sizeof buf);
                return -ENODATA;
        }
        fclose(f);
        len = strcspn(buf, "\r\n");
        buf[len] = 0;
        *ret = strdup(buf);
        erase_memory(buf, sizeof buf);
        return *ret ? 0 : -ENOMEM;
}
