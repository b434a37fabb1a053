/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The names of CRL revocation reasons (RFC 5280 §5.3.1) as the API and
 * OpenSSL spell them. */
#pragma once

#include <openssl/x509v3.h>

/* "" is unspecified; otherwise a reason name exactly as OpenSSL spells it
 * (keyCompromise, CACompromise, ...).  -EINVAL for anything else. */
int crl_reason_from_string(const char *s);
/* The OpenSSL name; CRL_REASON_NONE gives "unspecified" (RFC 5280: an
 * absent reason means unspecified); NULL for a value that is no reason. */
const char *crl_reason_to_string(int reason);
