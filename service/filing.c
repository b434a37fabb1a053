/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "cert.h"
#include "filing.h"
#include "util.h"

static void cert_info_donep(CertInfo *c) {
        cert_info_done(c);
}

int filing_file(Context *c, const unsigned char *der, size_t len, const char *uri,
                const char *expected_login, char **ret_login, int *changed, const char **why) {
        _cleanup_(cert_info_donep) CertInfo info = {};
        int r;

        *changed = 0;
        if (cert_info_from_der(der, len, &info) < 0) {
                *why = "not a DER-encoded X.509 certificate";
                return -EBADMSG;
        }
        if (!c->ca) {
                *why = "no CA certificate is configured ([CA] Certificate=)";
                return -EPERM;
        }
        /* the signature, not only the issuer name, decides */
        if (!cert_issued_by(der, len, c->ca)) {
                *why = "certificate is not issued by the configured CA";
                return -EPERM;
        }
        if (!info.login_id) {
                *why = "certificate subject has no UID or CN that is a valid login ID";
                return -ENOKEY;
        }
        if (expected_login && strcmp(expected_login, info.login_id) != 0) {
                *why = "certificate subject names another login ID";
                return -EXDEV;
        }
        r = store_file_certificate(c->store, info.login_id, &info, uri, changed);
        if (r == -ENOENT)
                *why = "no user has the login ID the certificate names";
        else if (r == -EEXIST)
                *why = "certificate is already filed under another user";
        else if (r < 0)
                *why = "the store cannot record the certificate";
        if (r < 0)
                return r;
        *ret_login = TAKE_PTR(info.login_id);
        return 0;
}
