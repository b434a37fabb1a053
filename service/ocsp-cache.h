/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Signed responses kept across restarts, so that a restart does not sign a
 * million of them again: CacheDirectory/responses, written when the
 * responder stops, read when it starts. */
#pragma once

#include <stddef.h>

#include "ocsp-sign.h"
#include "ocsp-table.h"

/* Puts in place every kept response that still holds: same responder,
 * same validity, same status of its certificate, not yet due for signing
 * again.  A missing or unusable file is not an error (the workers sign
 * instead); *ret_n says how many were taken. */
int ocsp_cache_load(const char *dir, OcspTable *t, const OcspSigner *s, size_t *ret_n);

/* Writes every signed response (a new file renamed over the old one). */
int ocsp_cache_save(const char *dir, OcspTable *t, const OcspSigner *s);
