/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What certrevoke-sync writes into the directory the trust module reads:
 * ca.pem, revoked.idx (with the daemon's own writer) and crl.der, each
 * replaced atomically and durably, in the order that keeps the module's
 * view consistent; and sync.state, the validators of the crl.der held. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sync-diff.h"
#include "sync-fetch.h"
#include "sync-verify.h"

#define SYNC_STATE_NAME "sync.state"

/* crl.der as held, whole; -ENOENT when there is none. */
int held_crl_read(int dir_fd, uint8_t **ret, size_t *ret_len);

/* The validators saved with the crl.der held; none when unreadable. */
void held_validators_read(int dir_fd, Validators *ret);
int held_validators_write(int dir_fd, const Validators *v);

/* ca.pem made the configured CA's when it is not. */
int install_ca(int dir_fd, const SyncCa *ca);

/* revoked.idx brought to the CRL numbered number (der, len): the added
 * certificates listed from it on, the removed ones taken off, and the CRL
 * named in the header; then crl.der replaced.  revoked.idx first: a
 * reader meanwhile sees the previous crl.der, which revoked.idx still
 * names, with the new records hidden by their number.  -ESTALE when
 * revoked.idx had to be started afresh and change is not whole: the
 * caller makes it whole and calls again. */
int install_crl(int dir_fd, const SyncCa *ca, const IndexChange *change, uint64_t number, const uint8_t *der,
                size_t len);
