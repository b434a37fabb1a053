/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "certrevoke.h"

static const char *const role_table[_CR_ROLE_MAX] = {
        [CR_ROLE_MASTER]  = "master",
        [CR_ROLE_ADMIN]   = "admin",
        [CR_ROLE_GENERAL] = "general",
        [CR_ROLE_WORKER]  = "worker",
};

static const char *const state_table[_CR_CERT_STATE_MAX] = {
        [CR_CERT_ISSUED]     = "issued",
        [CR_CERT_RENEWED]    = "renewed",
        [CR_CERT_EXPIRED]    = "expired",
        [CR_CERT_NOT_ISSUED] = "not-issued",
        [CR_CERT_REVOKED]    = "revoked",
};

static int lookup(const char *const *table, int n, const char *s) {
        if (!s)
                return -1;
        for (int i = 0; i < n; i++)
                if (strcmp(table[i], s) == 0)
                        return i;
        return -1;
}

const char *cr_role_to_string(CrRole r) {
        return r >= 0 && r < _CR_ROLE_MAX ? role_table[r] : NULL;
}

CrRole cr_role_from_string(const char *s) {
        return (CrRole) lookup(role_table, _CR_ROLE_MAX, s);
}

const char *cr_cert_state_to_string(CrCertState s) {
        return s >= 0 && s < _CR_CERT_STATE_MAX ? state_table[s] : NULL;
}

CrCertState cr_cert_state_from_string(const char *s) {
        return (CrCertState) lookup(state_table, _CR_CERT_STATE_MAX, s);
}

#define LOGIN_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
#define HEX_DIGITS "0123456789abcdefABCDEF"

const char *cr_login_id_invalid(const char *s) {
        size_t n = s ? strnlen(s, CR_LOGIN_ID_MAX + 1) : 0;

        if (n == 0)
                return "login ID is empty";
        if (n > CR_LOGIN_ID_MAX)
                return "login ID is longer than 64 characters";
        if (strspn(s, LOGIN_CHARS) != n)
                return "login ID may only contain A-Z, a-z, 0-9, '.', '_' and '-'";
        /* a login ends up in paths and on command lines: "." and ".." name
         * directories there, and a leading '-' reads as an option */
        if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return "login ID cannot be \".\" or \"..\"";
        if (s[0] == '-')
                return "login ID cannot start with '-'";
        return NULL;
}

const char *cr_serial_invalid(const char *s) {
        size_t n = strnlen(s, CR_SERIAL_TEXT_MAX + 1), digits = 0;

        if (n > CR_SERIAL_TEXT_MAX)
                return "serial is longer than 40 hex digits";
        for (size_t i = 0; i < n; i++) {
                if (s[i] == ':')
                        continue;
                if (!strchr(HEX_DIGITS, s[i]))
                        return "serial may only contain hex digits and ':'";
                digits++;
        }
        if (n > 0 && digits == 0)
                return "serial has no hex digits";
        if (digits > CR_SERIAL_DIGITS_MAX)
                return "serial is longer than 40 hex digits";
        return NULL;
}

bool cr_password_too_long(const char *s) {
        return s && strnlen(s, CR_PASSWORD_MAX + 1) > CR_PASSWORD_MAX;
}

/* Decodes one UTF-8 sequence strictly (no overlongs, surrogates or values
 * past U+10FFFF); returns its length or 0 when invalid. */
static size_t utf8_decode(const unsigned char *p, unsigned *cp) {
        static const unsigned min[] = { 0, 0, 0x80, 0x800, 0x10000 };
        size_t len;
        unsigned c;

        if (p[0] < 0x80) {
                *cp = p[0];
                return 1;
        }
        if ((p[0] & 0xe0) == 0xc0)      { len = 2; c = p[0] & 0x1f; }
        else if ((p[0] & 0xf0) == 0xe0) { len = 3; c = p[0] & 0x0f; }
        else if ((p[0] & 0xf8) == 0xf0) { len = 4; c = p[0] & 0x07; }
        else
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (p[i] & 0x3f);
        }
        if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *cp = c;
        return len;
}

/* What a reader cannot see but what changes how the text around it reads:
 * bidi controls, and the other invisible format characters (Unicode
 * category Cf) that make two names look alike. */
static const char *invisible_character(unsigned cp) {
        if (cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
            (cp >= 0x2066 && cp <= 0x2069))
                return "name contains a bidirectional control character";
        if ((cp >= 0x200b && cp <= 0x200d) || (cp >= 0x2060 && cp <= 0x2064) || cp == 0xfeff)
                return "name contains an invisible format character";
        return NULL;
}

const char *cr_name_invalid(const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        size_t chars = 0;

        if (!s || !*s)
                return "name is empty";
        if (strnlen(s, CR_NAME_BYTES_MAX + 1) > CR_NAME_BYTES_MAX)
                return "name is longer than 512 bytes";
        while (*p) {
                const char *why;
                unsigned cp;
                size_t l = utf8_decode(p, &cp);

                if (l == 0)
                        return "name is not valid UTF-8";
                if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
                        return "name contains control characters";
                if ((why = invisible_character(cp)))
                        return why;
                p += l;
                if (++chars > CR_NAME_MAX)
                        return "name is longer than 128 characters";
        }
        return NULL;
}
