/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Never backwards: the published CRL is the floor the store must stand on.
 * A start beside a published CRL needs an intact store whose CRL number
 * reaches the published one; certrevoked --recover-from-crl takes a
 * published CRL, verified with the CA, back into the store. */
#pragma once

#include <openssl/x509.h>
#include <stdint.h>

#include "context.h"

/* Before the store is opened: refuses (-ESTALE, logged with the ways to
 * recover) a store that is missing, empty or damaged while a CRL is
 * published.  A missing store with no published CRL is a first start. */
int recover_check_start(Context *c);

/* Once the store is open: a store whose CRL number is below the published
 * one (a backup restored after later publications) continues above it when
 * it lists every entry of the published CRL, and is refused (-ESTALE)
 * otherwise. */
int recover_check_floor(Context *c);

/* certrevoked --recover-from-crl: verifies crl.der with [CA] Certificate=,
 * puts a missing, empty or damaged store aside and takes every entry and
 * the number of the CRL into a new store (or into an intact one that lacks
 * some); tells on stdout what it took.  Returns 0 or a logged -errno. */
int recover_from_crl(Context *c);

/* Backup(h fd): copies the store in a worker thread, with SQLite's backup
 * API in one read transaction, into the caller's file fd (dup'ed; empty,
 * regular, open for writing: the handler checked), fsyncs it and then
 * replies to call.  The history records it. */
int recover_backup_start(Context *c, sd_bus_message *call, int fd);
