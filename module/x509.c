/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "certrevoke.h"
#include "x509.h"

/* The contents octets of the object identifiers the module looks for. */
static const uint8_t oid_basic_constraints[] = { 0x55, 0x1d, 0x13 };
static const uint8_t oid_subject_key_id[] = { 0x55, 0x1d, 0x0e };
static const uint8_t oid_common_name[] = { 0x55, 0x04, 0x03 };
static const uint8_t oid_user_id[] = { 0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01 };

#define OID_IS(span, oid) span_eq((span), (Span) { (oid), sizeof(oid) })

static bool string_type_ascii_compatible(uint8_t tag) {
        /* strings whose octets are the characters for ASCII text */
        return tag == DER_UTF8STRING || tag == DER_PRINTABLE || tag == DER_IA5STRING;
}

/* Whether a name attribute's value is a login ID: the same rule certrevoked
 * applies when it files certificates under users. */
static bool is_login(Span v) {
        char buf[CR_LOGIN_ID_MAX + 1];

        if (v.len == 0 || v.len > CR_LOGIN_ID_MAX || memchr(v.p, 0, v.len))
                return false;
        memcpy(buf, v.p, v.len);
        buf[v.len] = 0;
        return !cr_login_id_invalid(buf);
}

/* Walks a Name for the first UID and the first CN. */
static int parse_name(Span name, CertFields *f) {
        Span rdns = name, uid = {}, cn = {};
        DerItem rdn, atv, type, val;
        bool have_uid = false, have_cn = false;
        int r;

        while (rdns.len > 0) {
                if ((r = der_expect(&rdns, DER_SET, &rdn)) < 0)
                        return r;
                while (rdn.content.len > 0) {
                        if ((r = der_expect(&rdn.content, DER_SEQUENCE, &atv)) < 0 ||
                            (r = der_expect(&atv.content, DER_OID, &type)) < 0 ||
                            (r = der_next(&atv.content, &val)) < 0)
                                return r;
                        if (atv.content.len != 0)
                                return -EBADMSG;
                        if (OID_IS(type.content, oid_user_id) && !have_uid) {
                                have_uid = true;
                                if (string_type_ascii_compatible(val.tag))
                                        uid = val.content;
                        } else if (OID_IS(type.content, oid_common_name) && !have_cn) {
                                have_cn = true;
                                if (string_type_ascii_compatible(val.tag))
                                        cn = val.content;
                        }
                }
        }
        f->cn = cn;
        /* the UID names the login when present, valid or not, as in certrevoked */
        if (have_uid)
                f->login = is_login(uid) ? uid : (Span) {};
        else
                f->login = is_login(cn) ? cn : (Span) {};
        return 0;
}

static int parse_basic_constraints(Span v, CertFields *f) {
        DerItem seq, ca;
        int r;

        if ((r = der_expect(&v, DER_SEQUENCE, &seq)) < 0 || v.len != 0)
                return -EBADMSG;
        if (der_peek(&seq.content, DER_BOOLEAN)) {
                if ((r = der_next(&seq.content, &ca)) < 0 || ca.content.len != 1)
                        return -EBADMSG;
                f->is_ca = ca.content.p[0] != 0;
        }
        return 0;
}

static int parse_subject_key_id(Span v, CertFields *f) {
        DerItem id;
        int r;

        if ((r = der_expect(&v, DER_OCTET_STRING, &id)) < 0 || v.len != 0)
                return -EBADMSG;
        f->ski = id.content;
        return 0;
}

static int parse_extensions(Span exts, CertFields *f) {
        DerItem outer, ext, oid, crit, val;
        int r;

        if ((r = der_expect(&exts, DER_SEQUENCE, &outer)) < 0 || exts.len != 0)
                return -EBADMSG;
        while (outer.content.len > 0) {
                if ((r = der_expect(&outer.content, DER_SEQUENCE, &ext)) < 0 ||
                    (r = der_expect(&ext.content, DER_OID, &oid)) < 0)
                        return -EBADMSG;
                if (der_peek(&ext.content, DER_BOOLEAN) && der_next(&ext.content, &crit) < 0)
                        return -EBADMSG;
                if ((r = der_expect(&ext.content, DER_OCTET_STRING, &val)) < 0 || ext.content.len != 0)
                        return -EBADMSG;
                if (OID_IS(oid.content, oid_basic_constraints))
                        r = parse_basic_constraints(val.content, f);
                else if (OID_IS(oid.content, oid_subject_key_id))
                        r = parse_subject_key_id(val.content, f);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_spki(const DerItem *spki, CertFields *f) {
        Span c = spki->content;
        DerItem alg, bits;

        if (der_expect(&c, DER_SEQUENCE, &alg) < 0 || der_expect(&c, DER_BIT_STRING, &bits) < 0 ||
            c.len != 0 || bits.content.len < 1)
                return -EBADMSG;
        f->spki = spki->whole;
        /* skip the unused-bits octet: keys are whole octets */
        f->key_bits = (Span) { bits.content.p + 1, bits.content.len - 1 };
        return 0;
}

static int parse_tbs(Span tbs, CertFields *f) {
        DerItem version, serial, alg, issuer, validity, subject, spki, item;
        int r;

        if (der_peek(&tbs, DER_CONTEXT(0)) && der_next(&tbs, &version) < 0)
                return -EBADMSG;
        if (der_expect(&tbs, DER_INTEGER, &serial) < 0 || !der_integer_minimal(serial.content) ||
            der_expect(&tbs, DER_SEQUENCE, &alg) < 0 ||
            der_expect(&tbs, DER_SEQUENCE, &issuer) < 0 ||
            der_expect(&tbs, DER_SEQUENCE, &validity) < 0 ||
            der_expect(&tbs, DER_SEQUENCE, &subject) < 0 ||
            der_expect(&tbs, DER_SEQUENCE, &spki) < 0)
                return -EBADMSG;
        f->serial = serial.whole;
        f->issuer = issuer.whole;
        f->subject = subject.whole;
        if ((r = parse_spki(&spki, f)) < 0 || (r = parse_name(subject.content, f)) < 0)
                return r;
        /* issuerUniqueID [1] and subjectUniqueID [2] are IMPLICIT BIT STRINGs */
        if (der_peek(&tbs, 0x81) && der_next(&tbs, &item) < 0)
                return -EBADMSG;
        if (der_peek(&tbs, 0x82) && der_next(&tbs, &item) < 0)
                return -EBADMSG;
        if (der_peek(&tbs, DER_CONTEXT(3))) {
                if (der_next(&tbs, &item) < 0 || (r = parse_extensions(item.content, f)) < 0)
                        return -EBADMSG;
        }
        return tbs.len == 0 ? 0 : -EBADMSG;
}

int x509_parse(Span *in, CertFields *ret) {
        Span rest = *in;
        DerItem cert, tbs, alg, sig;
        CertFields f = {};
        int r;

        if (der_expect(&rest, DER_SEQUENCE, &cert) < 0)
                return -EBADMSG;
        if (der_expect(&cert.content, DER_SEQUENCE, &tbs) < 0 ||
            der_expect(&cert.content, DER_SEQUENCE, &alg) < 0 ||
            der_expect(&cert.content, DER_BIT_STRING, &sig) < 0 || cert.content.len != 0)
                return -EBADMSG;
        if ((r = parse_tbs(tbs.content, &f)) < 0)
                return r;
        f.value = cert.whole;
        *ret = f;
        *in = rest;
        return 0;
}

static const uint8_t oid_crl_number[] = { 0x55, 0x1d, 0x14 };
static const uint8_t oid_delta_crl[] = { 0x55, 0x1d, 0x1b };

#define DER_UTCTIME 0x17
#define DER_GENERALIZEDTIME 0x18

static bool is_time(const Span *in) {
        return der_peek(in, DER_UTCTIME) || der_peek(in, DER_GENERALIZEDTIME);
}

/* A non-negative INTEGER of at most 64 bits. */
static int integer_u64(Span v, uint64_t *ret) {
        DerItem i;
        uint64_t n = 0;

        if (der_expect(&v, DER_INTEGER, &i) < 0 || v.len != 0 || i.content.len == 0 ||
            !der_integer_minimal(i.content) || (i.content.p[0] & 0x80))
                return -EBADMSG;
        if (i.content.p[0] == 0) {
                i.content.p++;
                i.content.len--;
        }
        if (i.content.len > 8)
                return -ERANGE;
        for (size_t k = 0; k < i.content.len; k++)
                n = n << 8 | i.content.p[k];
        *ret = n;
        return 0;
}

static int crl_extensions(Span exts, CrlHead *h, const char **why) {
        DerItem outer, ext, oid, crit, val;
        bool have_number = false;
        int r;

        *why = "crl.der's extensions do not parse";
        if (der_expect(&exts, DER_SEQUENCE, &outer) < 0 || exts.len != 0)
                return -EBADMSG;
        while (outer.content.len > 0) {
                if (der_expect(&outer.content, DER_SEQUENCE, &ext) < 0 || der_expect(&ext.content, DER_OID, &oid) < 0)
                        return -EBADMSG;
                if (der_peek(&ext.content, DER_BOOLEAN) && der_next(&ext.content, &crit) < 0)
                        return -EBADMSG;
                if (der_expect(&ext.content, DER_OCTET_STRING, &val) < 0 || ext.content.len != 0)
                        return -EBADMSG;
                if (OID_IS(oid.content, oid_delta_crl)) {
                        *why = "crl.der is a delta CRL";
                        return -EBADMSG;
                }
                if (OID_IS(oid.content, oid_crl_number)) {
                        r = integer_u64(val.content, &h->number);
                        *why = r == -ERANGE ? "crl.der's number is past 2^64" : "crl.der's number does not parse";
                        if (r < 0)
                                return -EBADMSG;
                        have_number = true;
                }
        }
        *why = "crl.der has no CRL number";
        return have_number ? 0 : -EBADMSG;
}

int crl_parse_head(Span crl, CrlHead *ret, const char **why) {
        DerItem list, tbs, alg, sig, version, item, issuer;
        CrlHead h = {};

        *why = "crl.der is not a DER CRL";
        if (der_expect(&crl, DER_SEQUENCE, &list) < 0 || crl.len != 0 ||
            der_expect(&list.content, DER_SEQUENCE, &tbs) < 0 ||
            der_expect(&list.content, DER_SEQUENCE, &alg) < 0 ||
            der_expect(&list.content, DER_BIT_STRING, &sig) < 0 || list.content.len != 0)
                return -EBADMSG;
        *why = "crl.der is not a version 2 CRL";
        if (der_expect(&tbs.content, DER_INTEGER, &version) < 0 || version.content.len != 1 ||
            version.content.p[0] != 1)
                return -EBADMSG;
        *why = "crl.der is not a DER CRL";
        if (der_expect(&tbs.content, DER_SEQUENCE, &alg) < 0 || der_expect(&tbs.content, DER_SEQUENCE, &issuer) < 0 ||
            !is_time(&tbs.content) || der_next(&tbs.content, &item) < 0)
                return -EBADMSG;
        if (is_time(&tbs.content) && der_next(&tbs.content, &item) < 0)
                return -EBADMSG;
        /* the entries: one step over them all */
        if (der_peek(&tbs.content, DER_SEQUENCE) && der_next(&tbs.content, &item) < 0)
                return -EBADMSG;
        *why = "crl.der has no CRL number";
        if (!der_peek(&tbs.content, DER_CONTEXT(0)) || der_next(&tbs.content, &item) < 0)
                return -EBADMSG;
        if (crl_extensions(item.content, &h, why) < 0)
                return -EBADMSG;
        *why = "crl.der is not a DER CRL";
        if (tbs.content.len != 0)
                return -EBADMSG;
        h.issuer = issuer.whole;
        h.signature = sig.whole;
        *why = NULL;
        *ret = h;
        return 0;
}
