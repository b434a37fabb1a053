/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crl.der rebuilt when entries left the middle of the run the held CRL
 * shares with the new one: an entry leaves the daemon's CRL once it
 * appeared on a CRL issued after its certificate expired (RFC 5280 §3.3),
 * so at a million revocations some leave every day, and the simple guess
 * of sync-patch.h fails.  Where each one left is found by bisection: held
 * entry j is compared with the bytes of the new file where it would lie
 * if nothing left before it, one small range request each.  A few dozen
 * requests per entry gone instead of the whole file; the caller verifies
 * the result as any downloaded CRL. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sync-fetch.h"

/* As crl_patch: the new crl.der of total bytes into out, from its head and
 * the held one, fetching small ranges and its end.  -EBADMSG when they do
 * not fit together that way, or when it would take too many requests. */
int crl_patch_gaps(Fetcher *f, const uint8_t *held, size_t held_len, const uint8_t *head, size_t head_len,
                   uint64_t total, FetchBuffer *out);
