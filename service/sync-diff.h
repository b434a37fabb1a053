/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a new CRL changes against the one a host holds: the serials only
 * it lists (their certificates are to be fetched and listed) and those
 * only the held one lists (taken off).  Both CRLs are read in place, one
 * key per entry, without an object per entry: a million entries cost a
 * sort of their keys. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sync-certs.h"
#include "sync-verify.h"

typedef struct IndexChange {
        Wanted *added;                  /* certificates newly listed (der NULL: none found) */
        size_t n_added;
        uint64_t *removed;              /* keys of certificates no longer listed */
        size_t n_removed;
        bool whole;                     /* added lists every certificate of the CRL */
} IndexChange;

void index_change_done(IndexChange *c);

/* The change from held (NULL: none, then every entry is added and the
 * change is whole) to now, both whole DER CRLs (now verified; held
 * verified when it was installed).  The added entries point into now,
 * which must outlive ret.  -EBADMSG when the entries cannot be read. */
int crl_diff(const SyncCa *ca, const uint8_t *now, size_t now_len, const uint8_t *held, size_t held_len,
             IndexChange *ret);
