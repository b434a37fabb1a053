/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The publishing host's revoked.idx as certrevoke-sync reads it, a few
 * bytes at a time over HTTP: its header and its records, checked before
 * anything they say is used.  Nothing here is trusted for what is revoked
 * (the verified CRL says that); the file only says where the revoked
 * certificates' DER lies, and each is verified with the CA when fetched.
 * The numbers are in the publisher's byte order: a host of the other
 * order finds no valid header and says so. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "revoked-index-format.h"

/* The valid header with the larger seq among the two slots at the start of
 * page (len bytes, RI_HEADER_SIZE wanted), its counts and offsets checked
 * for consistency.  -EBADMSG with *why otherwise. */
int remote_index_header(const uint8_t *page, size_t len, RiHeader *ret, const char **why);

/* The record at position read from p (RI_RECORD_SIZE bytes): its check
 * must hold for that position and the header's file, and its DER lie in
 * the data.  -EBADMSG otherwise. */
int remote_index_record(const RiHeader *h, const uint8_t *p, uint64_t position, RiRecord *ret);
