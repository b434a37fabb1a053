/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "der.h"

int der_next(Span *in, DerItem *ret) {
        const uint8_t *p = in->p;
        size_t left = in->len, len, hdr;

        if (left < 2)
                return -EBADMSG;
        /* high tag numbers (low five bits all set) never occur in X.509 */
        if ((p[0] & 0x1f) == 0x1f)
                return -EBADMSG;
        if (p[1] < 0x80) {
                len = p[1];
                hdr = 2;
        } else {
                size_t n = p[1] & 0x7f;

                /* 0x80 is BER's indefinite length; more than four length
                 * octets would describe more than this module reads */
                if (n == 0 || n > 4 || left < 2 + n || p[2] == 0)
                        return -EBADMSG;
                len = 0;
                for (size_t i = 0; i < n; i++)
                        len = len << 8 | p[2 + i];
                /* DER: the short form whenever it fits */
                if (len < 0x80)
                        return -EBADMSG;
                hdr = 2 + n;
        }
        if (len > left - hdr)
                return -EBADMSG;
        *ret = (DerItem) {
                .tag = p[0],
                .content = { p + hdr, len },
                .whole = { p, hdr + len },
        };
        in->p += hdr + len;
        in->len -= hdr + len;
        return 0;
}

int der_expect(Span *in, uint8_t tag, DerItem *ret) {
        Span save = *in;
        int r;

        if ((r = der_next(in, ret)) < 0)
                return r;
        if (ret->tag != tag) {
                *in = save;
                return -EBADMSG;
        }
        return 0;
}

bool der_peek(const Span *in, uint8_t tag) {
        return in->len > 0 && in->p[0] == tag;
}

bool der_integer_minimal(Span c) {
        if (c.len == 0)
                return false;
        if (c.len == 1)
                return true;
        if (c.p[0] == 0x00 && !(c.p[1] & 0x80))
                return false;
        if (c.p[0] == 0xff && (c.p[1] & 0x80))
                return false;
        return true;
}
