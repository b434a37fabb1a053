/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CA key that signs the CRL: a PEM private key, or a private key on a
 * PKCS#11 token named by a pkcs11: URI, loaded through pkcs11.h.  Every
 * signature is checked with the CA certificate before it leaves. */
#include <assert.h>
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <strings.h>

#include "crl-signer.h"
#include "log.h"
#include "pin-file.h"
#include "pkcs11.h"
#include "util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY_CTX *, EVP_PKEY_CTX_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(ECDSA_SIG *, ECDSA_SIG_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(P11KitUri *, p11_kit_uri_free)

/* ---------------------------------------------------------------- errors for the administrator */

static int fail(char **error, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char **error, int r, const char *fmt, ...) {
        va_list ap;

        if (error && !*error) {
                va_start(ap, fmt);
                if (vasprintf(error, fmt, ap) < 0)
                        *error = NULL;
                va_end(ap);
        }
        ERR_clear_error();
        return r;
}

/* ---------------------------------------------------------------- the signer */

typedef struct Token {
        CK_FUNCTION_LIST *module;
        CK_SESSION_HANDLE session;
        bool has_session;
        CK_OBJECT_HANDLE key;
        CK_MECHANISM_TYPE mechanism;
} Token;

struct CrlSigner {
        int key_type;                   /* EVP_PKEY_RSA or EVP_PKEY_EC, as the CA's */
        EVP_PKEY *pkey;                 /* a PEM key, or NULL for a token */
        Token token;
        char *key, *pin_file;           /* to open the token again; never the PIN itself */
};

static void token_close(Token *t) {
        if (t->has_session)
                t->module->C_CloseSession(t->session);
        pkcs11_module_unload(t->module);
        *t = (Token) {};
}

void crl_signer_free(CrlSigner *s) {
        if (!s)
                return;
        token_close(&s->token);
        EVP_PKEY_free(s->pkey);
        free(s->key);
        free(s->pin_file);
        free(s);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(CrlSigner *, crl_signer_free)

/* The digest is taken once by the caller: a CRL of a million entries is
 * 40 MB, and hashing it is most of a signature's cost. */
static int digest_ctx(EVP_PKEY *key, bool sign, EVP_PKEY_CTX **ret) {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);

        /* RSA keys default to PKCS#1 v1.5 padding: DigestInfo { SHA-256 } */
        if (!ctx || (sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) != 1 ||
            EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1) {
                EVP_PKEY_CTX_free(ctx);
                ERR_clear_error();
                return -ENOMEM;
        }
        *ret = ctx;
        return 0;
}

static int verify_signature(EVP_PKEY *pub, const uint8_t md[static SHA256_DIGEST_LENGTH], const uint8_t *sig,
                            size_t sig_len) {
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        int ok;

        if (digest_ctx(pub, false, &ctx) < 0)
                return -ENOMEM;
        ok = EVP_PKEY_verify(ctx, sig, sig_len, md, SHA256_DIGEST_LENGTH) == 1;
        ERR_clear_error();
        return ok ? 0 : -EKEYREJECTED;
}

static int pem_sign(EVP_PKEY *key, const uint8_t md[static SHA256_DIGEST_LENGTH], uint8_t *sig, size_t *sig_len) {
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;

        if (digest_ctx(key, true, &ctx) < 0)
                return -ENOMEM;
        if (EVP_PKEY_sign(ctx, sig, sig_len, md, SHA256_DIGEST_LENGTH) != 1) {
                ERR_clear_error();
                return -EIO;
        }
        return 0;
}

typedef struct Passphrase {
        const char *value;
} Passphrase;

/* Never prompts: a daemon has no terminal. */
static int passphrase_cb(char *buf, int size, int rwflag, void *userdata) {
        const Passphrase *p = userdata;
        size_t n;

        (void) rwflag;
        if (!p || !p->value || (n = strlen(p->value)) >= (size_t) size)
                return -1;
        memcpy(buf, p->value, n);
        return (int) n;
}

static int pem_open(CrlSigner *s, X509 *ca, char **error) {
        _cleanup_(pin_freep) char *pass = NULL;
        _cleanup_(fclosep) FILE *f = NULL;
        Passphrase pp = {};
        int r;

        if (s->pin_file) {
                _cleanup_free_ char *why = NULL;

                r = pin_file_read(s->pin_file, &pass, &why);
                if (r < 0)
                        return fail(error, r, "cannot use the passphrase file: %s", why ?: strerror(-r));
        }
        pp.value = pass;
        if (!(f = fopen(s->key, "re")))
                return fail(error, -errno, "cannot open the key %s: %m", s->key);
        s->pkey = PEM_read_PrivateKey(f, NULL, passphrase_cb, &pp);
        if (!s->pkey)
                return fail(error, -EINVAL, "%s holds no PEM private key%s", s->key,
                            pass ? " (or the passphrase is wrong)" : " (an encrypted key needs a passphrase file)");
        if (EVP_PKEY_eq(s->pkey, X509_get0_pubkey(ca)) != 1)
                return fail(error, -EKEYREJECTED, "the key %s does not belong to the CA certificate", s->key);
        return 0;
}

/* -------- PKCS#11 */

/* Every module that may hold the key, initialised, NULL-terminated. */
static int modules_load(P11KitUri *uri, CK_FUNCTION_LIST ***ret, char **error) {
        const char *path = p11_kit_uri_get_module_path(uri);
        CK_FUNCTION_LIST **v;
        int r;

        if (!path)
                return pkcs11_modules_load_registered(ret, error);
        v = calloc(2, sizeof *v);
        if (!v)
                return -ENOMEM;
        r = pkcs11_module_load(path, &v[0], error);
        if (r < 0) {
                free(v);
                return r;
        }
        *ret = v;
        return 0;
}

static bool module_matches(P11KitUri *uri, CK_FUNCTION_LIST *m) {
        const char *want = p11_kit_uri_get_module_name(uri);
        char *name;
        CK_INFO info;
        bool ok;

        if (m->C_GetInfo(&info) != CKR_OK || !p11_kit_uri_match_module_info(uri, &info))
                return false;
        if (!want)
                return true;
        name = p11_kit_module_get_name(m);
        ok = streq_ptr(name, want);
        free(name);
        return ok;
}

static bool slot_matches(P11KitUri *uri, CK_FUNCTION_LIST *m, CK_SLOT_ID slot, CK_TOKEN_INFO *ti) {
        CK_SLOT_ID want = p11_kit_uri_get_slot_id(uri);
        CK_SLOT_INFO si;

        if (want != (CK_SLOT_ID) -1 && want != slot)
                return false;
        if (m->C_GetSlotInfo(slot, &si) != CKR_OK || !p11_kit_uri_match_slot_info(uri, &si))
                return false;
        /* a blank token (SoftHSM always offers one) holds no key */
        return m->C_GetTokenInfo(slot, ti) == CKR_OK && (ti->flags & CKF_TOKEN_INITIALIZED) &&
               p11_kit_uri_match_token_info(uri, ti);
}

typedef struct Match {
        size_t n;
        size_t module;                  /* index of the first match */
        CK_SLOT_ID slot;
        CK_TOKEN_INFO info;
} Match;

static void match_module(P11KitUri *uri, CK_FUNCTION_LIST *m, size_t index, Match *match) {
        _cleanup_free_ CK_SLOT_ID *slots = NULL;
        CK_ULONG n = 0;
        CK_TOKEN_INFO ti;

        if (!module_matches(uri, m) || pkcs11_slots(m, &slots, &n) != CKR_OK)
                return;
        for (CK_ULONG i = 0; i < n; i++) {
                if (!slot_matches(uri, m, slots[i], &ti))
                        continue;
                if (match->n++ == 0) {
                        match->module = index;
                        match->slot = slots[i];
                        match->info = ti;
                }
        }
}

static int token_login(Token *t, const CK_TOKEN_INFO *ti, const char *pin, char **error) {
        char label[PKCS11_LABEL_MAX + 1];
        CK_RV rv;

        pkcs11_token_label(ti, label);
        if (!pin && !(ti->flags & CKF_LOGIN_REQUIRED))
                return 0;
        if (!pin && !(ti->flags & CKF_PROTECTED_AUTHENTICATION_PATH))
                return fail(error, -EACCES, "token \"%s\" needs a PIN: give a PIN file or pin-value= in the URI",
                            label);
        rv = t->module->C_Login(t->session, CKU_USER, (CK_UTF8CHAR *) pin, pin ? strlen(pin) : 0);
        if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
                return 0;
        return fail(error, -EACCES, "cannot log in to token \"%s\": %s", label, p11_kit_strerror(rv));
}

static int token_find_key(Token *t, P11KitUri *uri, char **error) {
        CK_OBJECT_CLASS klass = CKO_PRIVATE_KEY;
        CK_ATTRIBUTE tmpl[8];
        CK_ULONG n_uri = 0, n = 0, found = 0;
        CK_ATTRIBUTE *a = p11_kit_uri_get_attributes(uri, &n_uri);
        CK_OBJECT_HANDLE keys[2];

        tmpl[n++] = (CK_ATTRIBUTE) { CKA_CLASS, &klass, sizeof klass };
        for (CK_ULONG i = 0; i < n_uri && n < ELEMENTSOF(tmpl); i++)
                if (a[i].type != CKA_CLASS)
                        tmpl[n++] = a[i];
        if (t->module->C_FindObjectsInit(t->session, tmpl, n) != CKR_OK)
                return fail(error, -EIO, "cannot search the token for the key");
        if (t->module->C_FindObjects(t->session, keys, ELEMENTSOF(keys), &found) != CKR_OK)
                found = 0;
        t->module->C_FindObjectsFinal(t->session);
        if (found == 0)
                return fail(error, -ENOENT, "no private key on the token matches the URI");
        if (found > 1)
                return fail(error, -ENOTUNIQ, "several private keys match the URI: add object= or id=");
        t->key = keys[0];
        return 0;
}

static bool can_sign(Token *t, CK_SLOT_ID slot, CK_MECHANISM_TYPE mech) {
        CK_MECHANISM_INFO info;

        return t->module->C_GetMechanismInfo(slot, mech, &info) == CKR_OK && (info.flags & CKF_SIGN);
}

/* Only the digest travels to the token where it can: a smartcard would
 * take minutes to hash a 40 MB TBSCertList itself. */
static int token_pick_mechanism(Token *t, CK_SLOT_ID slot, int key_type, char **error) {
        CK_KEY_TYPE kt = (CK_KEY_TYPE) -1;
        CK_ATTRIBUTE a = { CKA_KEY_TYPE, &kt, sizeof kt };

        if (t->module->C_GetAttributeValue(t->session, t->key, &a, 1) != CKR_OK)
                return fail(error, -EIO, "cannot read the key type of the key on the token");
        if (kt != (key_type == EVP_PKEY_RSA ? CKK_RSA : CKK_EC))
                return fail(error, -EKEYREJECTED, "the key on the token is not of the CA certificate's type (%s)",
                            key_type == EVP_PKEY_RSA ? "RSA" : "EC");
        if (key_type == EVP_PKEY_EC)
                t->mechanism = CKM_ECDSA;
        else if (can_sign(t, slot, CKM_RSA_PKCS))
                t->mechanism = CKM_RSA_PKCS;
        else
                t->mechanism = CKM_SHA256_RSA_PKCS;
        if (!can_sign(t, slot, t->mechanism))
                return fail(error, -EOPNOTSUPP, "the token cannot sign with %s",
                            key_type == EVP_PKEY_RSA ? "RSA PKCS#1 v1.5" : "ECDSA");
        return 0;
}

/* r||s as the token gives it, to the DER ECDSA-Sig-Value X.509 wants. */
static int ecdsa_to_der(const uint8_t *raw, size_t len, uint8_t *out, size_t *out_len) {
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *sig = ECDSA_SIG_new();
        BIGNUM *r, *s;
        int n;

        if (!sig || len == 0 || len % 2)
                return -EIO;
        r = BN_bin2bn(raw, (int) (len / 2), NULL);
        s = BN_bin2bn(raw + len / 2, (int) (len / 2), NULL);
        if (!r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
                BN_free(r);
                BN_free(s);
                return -ENOMEM;
        }
        if ((n = i2d_ECDSA_SIG(sig, NULL)) <= 0 || (size_t) n > *out_len)
                return -EIO;
        *out_len = (size_t) i2d_ECDSA_SIG(sig, &out);
        return 0;
}

static CK_RV token_sign_digest(Token *t, const uint8_t md[static SHA256_DIGEST_LENGTH], uint8_t *sig,
                               CK_ULONG *sig_len) {
        /* DigestInfo { sha256, NULL } in front of the hash, as PKCS#1 v1.5 wants */
        static const uint8_t prefix[] = {
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
                0x05, 0x00, 0x04, 0x20,
        };
        CK_MECHANISM mech = { t->mechanism, NULL, 0 };
        uint8_t in[sizeof prefix + SHA256_DIGEST_LENGTH];
        CK_ULONG in_len = sizeof in;
        CK_RV rv;

        memcpy(in, prefix, sizeof prefix);
        memcpy(in + sizeof prefix, md, SHA256_DIGEST_LENGTH);
        if (t->mechanism == CKM_ECDSA) {
                memmove(in, md, SHA256_DIGEST_LENGTH);
                in_len = SHA256_DIGEST_LENGTH;
        }
        if ((rv = t->module->C_SignInit(t->session, &mech, t->key)) != CKR_OK)
                return rv;
        return t->module->C_Sign(t->session, in, in_len, sig, sig_len);
}

/* Tokens without raw RSA get the whole TBS in slices. */
static CK_RV token_sign_data(Token *t, const uint8_t *data, size_t len, uint8_t *sig, CK_ULONG *sig_len) {
        CK_MECHANISM mech = { t->mechanism, NULL, 0 };
        CK_RV rv;

        if ((rv = t->module->C_SignInit(t->session, &mech, t->key)) != CKR_OK)
                return rv;
        for (size_t off = 0; off < len;) {
                size_t k = len - off < (1u << 20) ? len - off : (1u << 20);

                if ((rv = t->module->C_SignUpdate(t->session, (CK_BYTE *) data + off, (CK_ULONG) k)) != CKR_OK)
                        return rv;
                off += k;
        }
        return t->module->C_SignFinal(t->session, sig, sig_len);
}

static CK_RV token_sign(Token *t, const uint8_t *data, size_t len, const uint8_t md[static SHA256_DIGEST_LENGTH],
                        uint8_t *sig, size_t *sig_len) {
        uint8_t raw[1024];
        CK_ULONG n = t->mechanism == CKM_ECDSA ? sizeof raw : (CK_ULONG) *sig_len;
        uint8_t *out = t->mechanism == CKM_ECDSA ? raw : sig;
        CK_RV rv;

        rv = t->mechanism == CKM_SHA256_RSA_PKCS ? token_sign_data(t, data, len, out, &n)
                                                 : token_sign_digest(t, md, out, &n);
        if (rv != CKR_OK)
                return rv;
        if (t->mechanism != CKM_ECDSA) {
                *sig_len = n;
                return CKR_OK;
        }
        return ecdsa_to_der(raw, n, sig, sig_len) < 0 ? CKR_FUNCTION_FAILED : CKR_OK;
}

/* One signature over a fixed text, checked with the CA's public key: it
 * proves the key is the CA's whatever attributes the token shows. */
static int token_check_key(Token *t, X509 *ca, char **error) {
        static const uint8_t probe[] = "certrevoke: does this key belong to the CA?";
        EVP_PKEY *pub = X509_get0_pubkey(ca);
        uint8_t sig[2048], md[SHA256_DIGEST_LENGTH];
        size_t n = sizeof sig;
        CK_RV rv;

        SHA256(probe, sizeof probe, md);
        if ((size_t) EVP_PKEY_get_size(pub) > sizeof sig)
                return fail(error, -EOPNOTSUPP, "the CA key is too large");
        if ((rv = token_sign(t, probe, sizeof probe, md, sig, &n)) != CKR_OK)
                return fail(error, -EIO, "the token cannot sign with the key: %s", p11_kit_strerror(rv));
        if (verify_signature(pub, md, sig, n) < 0)
                return fail(error, -EKEYREJECTED, "the key on the token does not belong to the CA certificate");
        return 0;
}

static int token_pin(CrlSigner *s, P11KitUri *uri, char **ret, char **error) {
        const char *value = p11_kit_uri_get_pin_value(uri);
        int r;

        *ret = NULL;
        if (s->pin_file) {
                _cleanup_free_ char *why = NULL;

                r = pin_file_read(s->pin_file, ret, &why);
                if (r < 0)
                        return fail(error, r, "cannot use the PIN file: %s", why ?: strerror(-r));
                return 0;
        }
        if (!isempty(value) && !(*ret = strdup(value)))
                return -ENOMEM;
        return 0;
}

/* Finds the one token the URI names and keeps its module and a session. */
static int token_attach(CrlSigner *s, P11KitUri *uri, CK_TOKEN_INFO *ret_info, CK_SLOT_ID *ret_slot,
                        char **error) {
        _cleanup_(pkcs11_modules_unloadp) CK_FUNCTION_LIST **mods = NULL;
        Match match = {};
        size_t last;
        CK_RV rv;
        int r;

        if ((r = modules_load(uri, &mods, error)) < 0)
                return r;
        for (size_t i = 0; mods[i]; i++)
                match_module(uri, mods[i], i, &match);
        if (match.n == 0)
                return fail(error, -ENODEV, "no token matches the URI (is the card inserted?)");
        if (match.n > 1)
                return fail(error, -ENOTUNIQ, "%zu tokens match the URI: name one with token= or serial=", match.n);
        /* keep the matching module, let the others go */
        s->token.module = mods[match.module];
        for (last = match.module; mods[last + 1]; last++)
                ;
        mods[match.module] = mods[last];
        mods[last] = NULL;
        if ((rv = s->token.module->C_OpenSession(match.slot, CKF_SERIAL_SESSION, NULL, NULL,
                                                 &s->token.session)) != CKR_OK)
                return fail(error, -EIO, "cannot open a session on the token: %s", p11_kit_strerror(rv));
        s->token.has_session = true;
        *ret_info = match.info;
        *ret_slot = match.slot;
        return 0;
}

static int token_open(CrlSigner *s, X509 *ca, char **error) {
        _cleanup_(p11_kit_uri_freep) P11KitUri *uri = p11_kit_uri_new();
        _cleanup_(pin_freep) char *pin = NULL;
        CK_ATTRIBUTE *klass;
        CK_TOKEN_INFO ti = {};
        CK_SLOT_ID slot = 0;
        int r;

        if (!uri)
                return -ENOMEM;
        if ((r = p11_kit_uri_parse(s->key, P11_KIT_URI_FOR_OBJECT_ON_TOKEN_AND_MODULE, uri)) != P11_KIT_URI_OK)
                return fail(error, -EINVAL, "not a valid pkcs11: URI: %s", p11_kit_uri_message(r));
        klass = p11_kit_uri_get_attribute(uri, CKA_CLASS);
        if (klass && (klass->ulValueLen != sizeof(CK_OBJECT_CLASS) ||
                      *(CK_OBJECT_CLASS *) klass->pValue != CKO_PRIVATE_KEY))
                return fail(error, -EINVAL, "the URI names an object that is not a private key (type=private)");
        if ((r = token_pin(s, uri, &pin, error)) < 0 ||
            (r = token_attach(s, uri, &ti, &slot, error)) < 0 ||
            (r = token_login(&s->token, &ti, pin, error)) < 0 ||
            (r = token_find_key(&s->token, uri, error)) < 0 ||
            (r = token_pick_mechanism(&s->token, slot, s->key_type, error)) < 0 ||
            (r = token_check_key(&s->token, ca, error)) < 0) {
                token_close(&s->token);
                return r;
        }
        return 0;
}

int crl_signer_open(const char *key, const char *pin_file, X509 *ca, CrlSigner **ret, char **error) {
        _cleanup_(crl_signer_freep) CrlSigner *s = NULL;
        EVP_PKEY *pub;
        int r;

        if (error)
                *error = NULL;
        if (!key || !ca || !ret)
                return -EINVAL;
        if (!(pub = X509_get0_pubkey(ca)))
                return fail(error, -EINVAL, "the CA certificate has no usable public key");
        if (!(s = calloc(1, sizeof *s)))
                return -ENOMEM;
        s->key_type = EVP_PKEY_get_base_id(pub);
        if (s->key_type != EVP_PKEY_RSA && s->key_type != EVP_PKEY_EC)
                return fail(error, -EOPNOTSUPP, "the CA key is neither RSA nor EC: no CRL can be signed with it");
        if (!(s->key = strdup(key)) || (!isempty(pin_file) && !(s->pin_file = strdup(pin_file))))
                return -ENOMEM;
        if (strncasecmp(key, "pkcs11:", 7) == 0)
                r = token_open(s, ca, error);
        else if (key[0] == '/')
                r = pem_open(s, ca, error);
        else
                r = fail(error, -EINVAL, "the key must be an absolute path or a pkcs11: URI");
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

/* A session the token forgot (card pulled and put back, module reset, a
 * logout elsewhere in the process) is opened afresh once. */
static bool token_lost(CK_RV rv) {
        return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED || rv == CKR_DEVICE_REMOVED ||
               rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_USER_NOT_LOGGED_IN || rv == CKR_KEY_HANDLE_INVALID ||
               rv == CKR_OBJECT_HANDLE_INVALID || rv == CKR_CRYPTOKI_NOT_INITIALIZED;
}

static int signer_sign(CrlSigner *s, X509 *ca, const uint8_t *data, size_t len,
                       const uint8_t md[static SHA256_DIGEST_LENGTH], uint8_t *sig, size_t *sig_len) {
        _cleanup_free_ char *error = NULL;
        size_t cap = *sig_len;
        CK_RV rv;
        int r;

        if (s->pkey)
                return pem_sign(s->pkey, md, sig, sig_len);
        rv = s->token.module ? token_sign(&s->token, data, len, md, sig, sig_len) : CKR_SESSION_HANDLE_INVALID;
        if (token_lost(rv)) {
                log_notice("crl: the CA key's token session was lost (%s); opening it again", p11_kit_strerror(rv));
                token_close(&s->token);
                if ((r = token_open(s, ca, &error)) < 0)
                        return log_error_errno(r, "crl: cannot open the CA key's token again: %s",
                                               error ?: strerror(-r));
                *sig_len = cap;
                rv = token_sign(&s->token, data, len, md, sig, sig_len);
        }
        if (rv != CKR_OK)
                return log_error_errno(-EIO, "crl: the token refused to sign: %s", p11_kit_strerror(rv));
        return 0;
}

int crl_signer_sign(CrlSigner *s, X509 *ca, const uint8_t *data, size_t len, uint8_t *sig, size_t *sig_len) {
        EVP_PKEY *pub = ca ? X509_get0_pubkey(ca) : NULL;
        uint8_t md[SHA256_DIGEST_LENGTH];
        size_t cap;
        int r;

        assert(s);
        assert(data || len == 0);
        assert(sig && sig_len);
        if (!pub)
                return -EINVAL;
        if (EVP_PKEY_get_size(pub) <= 0 || *sig_len < (size_t) EVP_PKEY_get_size(pub))
                return -ENOBUFS;
        cap = *sig_len;
        if (!EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL))
                return -ENOMEM;
        r = signer_sign(s, ca, data, len, md, sig, sig_len);
        if (r < 0)
                return r;
        /* what leaves here verifies with the CA certificate, whatever signed it */
        if (*sig_len > cap || verify_signature(pub, md, sig, *sig_len) < 0)
                return log_error_errno(-EKEYREJECTED, "crl: the signature does not verify with the CA certificate");
        return 0;
}

int crl_signer_key_type(const CrlSigner *s) {
        assert(s);
        return s->key_type;
}
