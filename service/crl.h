/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CRL of certrevoke: an RFC 5280 v2 CRL written directly as DER,
 * signed with the CA key (a PEM file or a key on a PKCS#11 token) and
 * published atomically.  Each part in the file named for it:
 *
 *   crl-reason.h   the reason names
 *   crl-der.h      entries, TBSCertList and the signed CRL as DER
 *   crl-signer.h   the CA key: PEM or pkcs11: URI, signing, verification
 *   crl-file.h     crl.der and crl.pem written, crl.der read back
 *
 * Everything here may run in a worker thread: there is no global state. */
#pragma once

#include "crl-der.h"
#include "crl-file.h"
#include "crl-reason.h"
#include "crl-signer.h"
