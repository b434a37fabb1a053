/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>

#include <openssl/evp.h>

#include "attrs.h"
/* after pkcs11.h, which it extends */
#include <p11-kit/pkcs11x.h>

#define VALUE(v) ((Span) { (const uint8_t *) &(v), sizeof(v) })

static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static const CK_OBJECT_CLASS classes[_OBJ_MAX] = {
        [OBJ_CERT] = CKO_CERTIFICATE,
        [OBJ_TRUST] = CKO_NSS_TRUST,
};
static const CK_CERTIFICATE_TYPE x509 = CKC_X_509;
/* CKA_CERTIFICATE_CATEGORY values of PKCS#11 v2.40 */
static const CK_ULONG category_authority = 2, category_other_entity = 3;
/* The CA is an anchor for whatever it is trusted for in p11-kit's terms
 * (CKA_TRUSTED applies to every purpose); a revoked certificate for nothing. */
static const CK_TRUST trust_delegator = CKT_NSS_TRUSTED_DELEGATOR, trust_none = CKT_NSS_NOT_TRUSTED;

CK_OBJECT_CLASS object_class(int kind) {
        return classes[kind];
}

static int digest(Span in, const EVP_MD *md, uint8_t *out, size_t out_len) {
        unsigned int len = 0;

        if (!md || !EVP_Digest(in.p, in.len, out, &len, md, NULL) || len != out_len)
                return -EIO;
        return 0;
}

static int entry_sha1(Entry *e) {
        int r;

        if (!e->have_sha1) {
                if ((r = digest(e->f.value, EVP_sha1(), e->sha1, sizeof e->sha1)) < 0)
                        return r;
                e->have_sha1 = true;
        }
        return 0;
}

/* The key identifier: the certificate's own, else RFC 5280's method 1. */
static int entry_id(Entry *e, Span *ret) {
        int r;

        if (e->f.ski.len > 0) {
                *ret = e->f.ski;
                return 0;
        }
        if (!e->have_key_id) {
                if ((r = digest(e->f.key_bits, EVP_sha1(), e->key_id, sizeof e->key_id)) < 0)
                        return r;
                e->have_key_id = true;
        }
        *ret = (Span) { e->key_id, sizeof e->key_id };
        return 0;
}

/* The serial as openssl prints it: upper-case hex without the sign octet. */
static void serial_hex(Span serial, char *buf, size_t size) {
        DerItem item;
        Span c = {}, in = serial;
        size_t o = 0;

        if (der_next(&in, &item) == 0)
                c = item.content;
        if (c.len > 1 && c.p[0] == 0) {
                c.p++;
                c.len--;
        }
        for (size_t i = 0; i < c.len && o + 3 <= size; i++, o += 2)
                snprintf(buf + o, 3, "%02X", c.p[i]);
        buf[o] = 0;
}

/* Names the login and the serial of a revoked certificate, the CA by its CN. */
static int entry_label(Entry *e, Span *ret) {
        char hex[2 * 64 + 1];
        int n;

        if (!e->label) {
                if (e->anchor && e->f.cn.len > 0)
                        n = asprintf(&e->label, "%.*s", (int) e->f.cn.len, (const char *) e->f.cn.p);
                else if (e->anchor)
                        n = asprintf(&e->label, "certrevoke CA");
                else {
                        serial_hex(e->f.serial, hex, sizeof hex);
                        if (e->f.login.len > 0)
                                n = asprintf(&e->label, "%.*s revoked %s", (int) e->f.login.len,
                                             (const char *) e->f.login.p, hex);
                        else
                                n = asprintf(&e->label, "revoked %s", hex);
                }
                if (n < 0) {
                        e->label = NULL;
                        return -ENOMEM;
                }
        }
        *ret = (Span) { (const uint8_t *) e->label, strlen(e->label) };
        return 0;
}

/* Attributes both kinds of object have. */
static int common_attribute(Entry *e, int kind, CK_ATTRIBUTE_TYPE type, Span *ret) {
        switch (type) {
        case CKA_CLASS:
                *ret = VALUE(classes[kind]);
                return 0;
        case CKA_TOKEN:
                *ret = VALUE(yes);
                return 0;
        case CKA_PRIVATE:
        case CKA_MODIFIABLE:
        case CKA_COPYABLE:
        case CKA_DESTROYABLE:
                *ret = VALUE(no);
                return 0;
        case CKA_LABEL:
                return entry_label(e, ret);
        case CKA_ISSUER:
                *ret = e->f.issuer;
                return 0;
        case CKA_SERIAL_NUMBER:
                *ret = e->f.serial;
                return 0;
        default:
                return -ENOENT;
        }
}

static int certificate_attribute(Entry *e, CK_ATTRIBUTE_TYPE type, Span *ret) {
        int r;

        switch (type) {
        case CKA_CERTIFICATE_TYPE:
                *ret = VALUE(x509);
                return 0;
        case CKA_TRUSTED:
                *ret = e->anchor ? VALUE(yes) : VALUE(no);
                return 0;
        case CKA_X_DISTRUSTED:
                *ret = e->anchor ? VALUE(no) : VALUE(yes);
                return 0;
        case CKA_CERTIFICATE_CATEGORY:
                *ret = e->anchor || e->f.is_ca ? VALUE(category_authority) : VALUE(category_other_entity);
                return 0;
        case CKA_VALUE:
                *ret = e->f.value;
                return 0;
        case CKA_SUBJECT:
                *ret = e->f.subject;
                return 0;
        case CKA_PUBLIC_KEY_INFO:
                *ret = e->f.spki;
                return 0;
        case CKA_ID:
                return entry_id(e, ret);
        case CKA_CHECK_VALUE:
                if ((r = entry_sha1(e)) < 0)
                        return r;
                *ret = (Span) { e->sha1, 3 };
                return 0;
        default:
                return common_attribute(e, OBJ_CERT, type, ret);
        }
}

static int trust_attribute(Entry *e, CK_ATTRIBUTE_TYPE type, Span *ret) {
        int r;

        /* the purposes and key usages of NSS's trust objects, in one range */
        if (type >= CKA_TRUST_DIGITAL_SIGNATURE && type <= CKA_TRUST_TIME_STAMPING) {
                *ret = e->anchor ? VALUE(trust_delegator) : VALUE(trust_none);
                return 0;
        }
        switch (type) {
        case CKA_TRUST_STEP_UP_APPROVED:
                *ret = VALUE(no);
                return 0;
        case CKA_CERT_SHA1_HASH:
                if ((r = entry_sha1(e)) < 0)
                        return r;
                *ret = (Span) { e->sha1, sizeof e->sha1 };
                return 0;
        case CKA_CERT_MD5_HASH:
                if (!e->have_md5) {
                        /* a FIPS provider has no MD5: then the object has none */
                        if (digest(e->f.value, EVP_md5(), e->md5, sizeof e->md5) < 0)
                                return -ENOENT;
                        e->have_md5 = true;
                }
                *ret = (Span) { e->md5, sizeof e->md5 };
                return 0;
        default:
                return common_attribute(e, OBJ_TRUST, type, ret);
        }
}

int object_attribute(Entry *e, int kind, CK_ATTRIBUTE_TYPE type, Span *ret) {
        return kind == OBJ_CERT ? certificate_attribute(e, type, ret) : trust_attribute(e, type, ret);
}

bool object_matches(Entry *e, int kind, const CK_ATTRIBUTE *tmpl, CK_ULONG n) {
        for (CK_ULONG i = 0; i < n; i++) {
                Span v;

                if (object_attribute(e, kind, tmpl[i].type, &v) < 0)
                        return false;
                if (v.len != tmpl[i].ulValueLen || (v.len > 0 && memcmp(v.p, tmpl[i].pValue, v.len) != 0))
                        return false;
        }
        return true;
}
