/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The published CRL files: crl.der and crl.pem in the publish directory,
 * written atomically, and crl.der read back for its number. */
#pragma once

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "atomic-file.h"

/* Replaces dir/crl.der and dir/crl.pem ("X509 CRL"), mode 0644: both are
 * written to temporary files and synced before either is renamed over the
 * old one, then the directory is synced.  On error (-ENOSPC, -EACCES,
 * -EROFS, ...) no temporary file is left and the old files stay. */
int crl_publish(const char *dir, const unsigned char *der, size_t len);
/* The same in the directory dir_fd, which stays open. */
int crl_publish_at(int dir_fd, const unsigned char *der, size_t len);

/* The two halves of crl_publish_at, each on its own (the same rules):
 * crl.der, which the daemon's callers wait for, replaced durably ... */
int crl_write_der_at(int dir_fd, const unsigned char *der, size_t len);

/* ... then crl.pem, its PEM copy, which follows: written and synced into
 * the temporary file f of dir_fd, not yet in place; the caller commits it
 * (atomic_file_commit, then a sync of the directory) or lets it go
 * (atomic_file_done).  pace is called between the slices it is written in:
 * it may wait, and a negative return stops the writing with that error. */
typedef int (*crl_pace_fn)(void *userdata);
int crl_pem_prepare_at(int dir_fd, const unsigned char *der, size_t len, crl_pace_fn pace, void *userdata,
                       AtomicFile *f);

/* The largest crl.der read back (a million entries take about 50 MB). */
#define PUBLISHED_CRL_MAX (1024ULL * 1024 * 1024)

/* crl.der in the publish directory dir_fd, parsed but not verified:
 * -ENOENT when there is none, -EBADMSG when it is no CRL with a CRL
 * number, -EFBIG beyond PUBLISHED_CRL_MAX. */
int published_crl_read(int dir_fd, X509_CRL **ret, uint64_t *ret_number);
/* Its number alone; 0 when there is no crl.der. */
int published_crl_number_at(int dir_fd, uint64_t *ret);
