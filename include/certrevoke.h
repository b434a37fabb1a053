/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names and values shared by certrevoked, certrevokectl and the modules:
 * the D-Bus contract of DESIGN.md and the vocabulary of states and roles. */
#pragma once

#include <stdbool.h>

#define CR_BUS_NAME            "org.certrevoke1"
#define CR_MANAGER_PATH        "/org/certrevoke1"
#define CR_MANAGER_IFACE       "org.certrevoke1.Manager"
#define CR_USER_PATH_PREFIX    "/org/certrevoke1/user"
#define CR_USER_IFACE          "org.certrevoke1.User"

#define CR_ERROR_NO_SUCH_USER          "org.certrevoke1.Error.NoSuchUser"
#define CR_ERROR_USER_EXISTS           "org.certrevoke1.Error.UserExists"
#define CR_ERROR_NOT_REVOCABLE         "org.certrevoke1.Error.NotRevocable"
#define CR_ERROR_CERTIFICATE_CHANGED   "org.certrevoke1.Error.CertificateChanged"
#define CR_ERROR_AUTHENTICATION_FAILED "org.certrevoke1.Error.AuthenticationFailed"
#define CR_ERROR_RATE_LIMITED          "org.certrevoke1.Error.RateLimited"
/* The service's bounded queue is full, or the caller's share of expensive
 * work is used up; the message ends "try again in N s". */
#define CR_ERROR_BUSY                  "org.certrevoke1.Error.Busy"
#define CR_ERROR_ACCESS_DENIED         "org.freedesktop.DBus.Error.AccessDenied"
#define CR_ERROR_INVALID_ARGS          "org.freedesktop.DBus.Error.InvalidArgs"

#define CR_DEFAULT_CONFIG      "/etc/certrevoke/certrevoke.conf"
#define CR_DEFAULT_STATE_DIR   "/var/lib/certrevoke"
#define CR_DEFAULT_PAM_SERVICE "certrevoke"

/* The documented maximum of every argument of the Manager (README.md,
 * "Arguments and their maxima").  Each handler checks its arguments
 * against these first, before PAM, libpwquality, libcrypt, SQLite or
 * OpenSSL see them. */
#define CR_LOGIN_ID_MAX          64             /* bytes of [A-Za-z0-9._-] */
#define CR_NAME_MAX              128            /* characters of UTF-8 */
#define CR_NAME_BYTES_MAX        512
#define CR_SERIAL_DIGITS_MAX     40             /* hex digits: 20 octets (RFC 5280 4.1.2.2) */
#define CR_SERIAL_TEXT_MAX       59             /* the 40 digits in colon-separated pairs */
#define CR_REASON_MAX            32             /* bytes of an RFC 5280 reason name */
#define CR_PASSWORD_MAX          511            /* bytes of any secret: libcrypt's limit */
#define CR_UID_MIN               1U             /* 0 is root, no managed user */
#define CR_UID_MAX               2147483646U    /* below 2^31 - 1, which some tools take for -1 */
#define CR_UID_NOBODY            65534U         /* the overflow UID: not a user's */
#define CR_CERTIFICATE_MAX       65536          /* bytes of DER for ImportCertificate */
#define CR_HISTORY_LIMIT_DEFAULT 100U           /* GetHistory with limit 0 */
#define CR_HISTORY_LIMIT_MAX     10000U
#define CR_REVOKE_TARGETS_MAX    10000          /* RevokeCertificates */

/* The nice value of the PAM helper, a batch task beside the daemon's loop. */
#define CR_PAM_HELPER_NICE 5

/* The login the bus credentials of UID 0 map to. */
#define CR_ROOT_LOGIN "root"

typedef enum CrRole {
        CR_ROLE_MASTER,
        CR_ROLE_ADMIN,
        CR_ROLE_GENERAL,
        CR_ROLE_WORKER,
        _CR_ROLE_MAX,
        _CR_ROLE_INVALID = -1,
} CrRole;

typedef enum CrCertState {
        CR_CERT_ISSUED,
        CR_CERT_RENEWED,
        CR_CERT_EXPIRED,
        CR_CERT_NOT_ISSUED,
        CR_CERT_REVOKED,
        _CR_CERT_STATE_MAX,
        _CR_CERT_STATE_INVALID = -1,
} CrCertState;

const char *cr_role_to_string(CrRole r);
CrRole cr_role_from_string(const char *s);
const char *cr_cert_state_to_string(CrCertState s);
CrCertState cr_cert_state_from_string(const char *s);

/* Master and administrator users may revoke and see everyone. */
static inline int cr_role_is_privileged(CrRole r) {
        return r == CR_ROLE_MASTER || r == CR_ROLE_ADMIN;
}

/* Login IDs are 1..64 of [A-Za-z0-9._-], not "." or ".." and not starting
 * with "-"; returns NULL or why not. */
const char *cr_login_id_invalid(const char *s);
/* Names are valid UTF-8 of 1..128 characters and at most 512 bytes,
 * without control characters, bidi controls or invisible format
 * characters; returns NULL or why not. */
const char *cr_name_invalid(const char *s);
/* Serials are "" or 1..40 hex digits, possibly with ':' between them as
 * openssl prints pairs (59 bytes at most); returns NULL or why not. */
const char *cr_serial_invalid(const char *s);
/* Whether a secret is longer than CR_PASSWORD_MAX bytes (read no further). */
bool cr_password_too_long(const char *s);
