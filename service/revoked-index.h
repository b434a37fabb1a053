/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The writer of revoked.idx (include/revoked-index.h has the format): the
 * revoked certificates of the CRL, for the trust module.  Each revocation
 * costs one append of its certificate and a record, whatever the number
 * already revoked; compaction rewrites the file in a thread of its own
 * once the log has grown past a share of the sorted part.
 *
 * One RevokedIndex is used by one thread at a time for appends (the
 * publisher's build); its compaction thread takes the same lock. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct RevokedIndex RevokedIndex;

/* Opens dir_fd/revoked.idx for writing, for the CA whose certificate is
 * ca_der.  A missing file, a damaged one or another CA's is started afresh
 * (empty, for CRL number 0), and *ret_fresh says so: the caller then adds
 * everything its CRL lists.  Reads the records, not the certificates. */
int revoked_index_open(int dir_fd, const uint8_t *ca_der, size_t ca_len, RevokedIndex **ret, bool *ret_fresh);

/* Waits for a compaction under way, then frees. */
void revoked_index_free(RevokedIndex *x);

/* Lists a certificate (DER) from CRL number crl_number on; nothing happens
 * when it is listed already.  -EBADMSG when der is no certificate.  The
 * append is on disk, and readers see it, only after commit. */
int revoked_index_add(RevokedIndex *x, const uint8_t *der, size_t len, uint64_t crl_number);

/* Takes a certificate off the list from crl_number on; nothing happens
 * when it is not listed. */
int revoked_index_remove(RevokedIndex *x, const uint8_t *der, size_t len, uint64_t crl_number);

/* The same for the certificate whose key (ri_key of its issuer and serial)
 * is key: for a writer that knows a certificate leaving the list by its
 * CRL entry alone, as certrevoke-sync does. */
int revoked_index_remove_key(RevokedIndex *x, uint64_t key, uint64_t crl_number);

/* Syncs what was appended, then publishes it with the header: the index
 * is complete for CRL number crl_number, whose DER is crl (to be published
 * after this; the caller verified its signature with the CA).  The header
 * names that CRL and the one before it: the trust module takes no other
 * crl.der with the file.  -EBADMSG when crl is no CRL. */
int revoked_index_commit(RevokedIndex *x, uint64_t crl_number, const uint8_t *crl, size_t crl_len);

/* For a publisher that reads the whole list each time: begin, then entry
 * for each certificate CRL number crl_number lists, then end, which takes
 * off the list what was not named and commits (as above; with result < 0
 * it only unlocks and returns result).  Work in memory is linear
 * in the list; what is written is linear in what changed.  The lock is
 * held from begin to end. */
void revoked_index_sync_begin(RevokedIndex *x);
int revoked_index_sync_entry(RevokedIndex *x, const uint8_t *der, size_t len, uint64_t crl_number);
int revoked_index_sync_end(RevokedIndex *x, uint64_t crl_number, const uint8_t *crl, size_t crl_len, int result);

/* Tells the index that crl.der with number crl_number is published, so
 * that compaction may drop what that CRL no longer lists; starts a
 * compaction in the background when the log has grown past its share. */
void revoked_index_published(RevokedIndex *x, uint64_t crl_number);

/* Compacts now, in the calling thread (after any compaction under way). */
int revoked_index_compact(RevokedIndex *x);

/* Waits until no compaction runs; its result (0 or -errno). */
int revoked_index_wait(RevokedIndex *x);

/* What the index holds: records in the sorted part and in the log. */
void revoked_index_counts(RevokedIndex *x, uint64_t *ret_sorted, uint64_t *ret_log);

/* Writes dir_fd/revoked.idx whole, compacted, listing the n certificates
 * ders[i] (lens[i] octets) for CRL number crl_number, the CRL crl: for
 * tools and benchmarks. */
int revoked_index_create(int dir_fd, const uint8_t *ca_der, size_t ca_len, uint64_t crl_number,
                         const uint8_t *crl, size_t crl_len, const uint8_t *const *ders, const size_t *lens,
                         size_t n);
