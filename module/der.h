/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A strict reader of the DER subset X.509 certificates use: one-byte tags,
 * definite minimal lengths.  Values are spans into the caller's buffer, so
 * reading copies nothing. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define DER_INTEGER     0x02
#define DER_BIT_STRING  0x03
#define DER_OCTET_STRING 0x04
#define DER_BOOLEAN     0x01
#define DER_OID         0x06
#define DER_UTF8STRING  0x0c
#define DER_PRINTABLE   0x13
#define DER_IA5STRING   0x16
#define DER_SEQUENCE    0x30
#define DER_SET         0x31
#define DER_CONTEXT(n)  (0xa0 | (n))    /* constructed, context-specific */

typedef struct Span {
        const uint8_t *p;
        size_t len;
} Span;

/* One element: its tag, its contents and the whole encoding (tag to end). */
typedef struct DerItem {
        uint8_t tag;
        Span content;
        Span whole;
} DerItem;

/* Takes the next element off the front of *in.  Returns 0, or -EBADMSG
 * when the bytes are not a DER element that fits in *in. */
int der_next(Span *in, DerItem *ret);

/* Like der_next, and the tag must be the one given. */
int der_expect(Span *in, uint8_t tag, DerItem *ret);

/* Whether the next element of *in has that tag (without taking it). */
bool der_peek(const Span *in, uint8_t tag);

/* An INTEGER's contents are minimal: no redundant leading 0x00 or 0xff. */
bool der_integer_minimal(Span content);

static inline bool span_eq(Span a, Span b) {
        return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}
