/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* revoked.idx: the revoked certificates for the trust module, in a file it
 * maps and searches without reading every entry.  certrevoked writes it
 * (service/revoked-index.c), the module reads it (module/index.c).
 *
 *   [header page: two header slots]
 *   [sorted section: n_sorted records ordered by key, written whole]
 *   [log: room for log_capacity records, the first n_log in use]
 *   [subject index: the sorted records' positions ordered by subject_key]
 *   [data: the certificates' DER, each where a record points]
 *
 * A revocation appends its DER to the data and one record to the log,
 * syncs both, and then publishes the new n_log by writing the header slot
 * not in use: a header write torn by a crash leaves the other slot, the
 * previous state, valid.  Compaction writes a new file with everything in
 * the sorted section and renames it over the old one.
 *
 * Each record says from which CRL number on it holds: the module shows a
 * certificate when its newest record whose number is at most crl.der's adds
 * it, so that what was appended for a CRL not yet published stays hidden.
 * The header names the CRL it is complete for, and the one before, by a
 * hash of their signatures: the module takes crl.der only when it is one of
 * them, so it never needs to read the CRL's entries or hash it whole.
 * Numbers are in the host's byte order (the file is local to the host);
 * every record and each header slot carry a check of their own, so that a
 * torn or damaged one is never taken. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RI_FILE_NAME    "revoked.idx"
#define RI_MAGIC        "CRVKIDX\n"
#define RI_VERSION      1
#define RI_HEADER_SIZE  4096u           /* the header page */
#define RI_SLOT_SIZE    256u            /* each of the two slots */
#define RI_RECORD_SIZE  48u
#define RI_DER_MAX      (1u << 20)      /* no certificate is larger */

/* A record's flags. */
#define RI_REMOVED      1u              /* the certificate leaves the list from crl_number on */

typedef struct RiHeader {
        char magic[8];
        uint32_t version;
        uint32_t record_size;           /* RI_RECORD_SIZE */
        uint64_t seq;                   /* grows with every header written: the larger valid slot wins */
        uint64_t salt;                  /* random per file: records of another file do not check */
        uint64_t crl_number;            /* the CRL the records are complete for */
        uint64_t n_sorted;
        uint64_t log_capacity;
        uint64_t n_log;
        uint64_t data_offset;           /* the data area starts here */
        uint64_t data_end;              /* and what the records may point at ends here */
        uint64_t subject_offset;        /* n_sorted uint32 positions, ordered by subject_key */
        uint8_t ca_sha256[32];          /* the CA whose certificates these are */
        /* SHA-256 of the signatureValue of the CRL numbered crl_number and
         * of the one before it: the CRLs the records are for, which the
         * daemon verified with the CA before it named them here */
        uint8_t crl_sig_sha256[2][32];
        uint8_t reserved[64];
        uint64_t check;                 /* ri_hash of the bytes before, seeded with RI_VERSION */
} RiHeader;

typedef struct RiRecord {
        uint64_t key;                   /* ri_hash of issuer and serial, whole DER encodings */
        uint64_t subject_key;           /* ri_hash of the subject, whole DER */
        uint64_t offset;                /* of the certificate's DER in the file */
        uint64_t crl_number;
        uint32_t length;                /* of the DER */
        uint32_t flags;                 /* RI_REMOVED */
        uint64_t check;                 /* ri_record_check() */
} RiRecord;

_Static_assert(sizeof(RiHeader) == RI_SLOT_SIZE, "header slot size");
_Static_assert(sizeof(RiRecord) == RI_RECORD_SIZE, "record size");

#define RI_HASH_MUL 0x9e3779b97f4a7c15ULL

/* A word-at-a-time mix: what is hashed is the daemon's own output, found
 * by lookups of certificates a consumer was shown, so a keyed hash buys
 * nothing; the checks catch torn writes and damage, not forgery. */
static inline uint64_t ri_hash(const void *data, size_t n, uint64_t seed) {
        const uint8_t *p = data;
        uint64_t h = (seed ^ n) * RI_HASH_MUL, w;

        for (; n >= 8; p += 8, n -= 8) {
                memcpy(&w, p, 8);
                h = (h ^ w) * RI_HASH_MUL;
                h ^= h >> 29;
        }
        w = 0;
        if (n > 0)
                memcpy(&w, p, n);
        h = (h ^ w) * RI_HASH_MUL;
        h ^= h >> 32;
        h *= RI_HASH_MUL;
        return h ^ (h >> 29);
}

/* The key of a certificate: its issuer and its serial, as found in it. */
static inline uint64_t ri_key(const void *issuer, size_t issuer_len, const void *serial, size_t serial_len) {
        return ri_hash(serial, serial_len, ri_hash(issuer, issuer_len, 0));
}

static inline uint64_t ri_subject_key(const void *subject, size_t len) {
        return ri_hash(subject, len, 1);
}

/* The record's check binds it to its place in its file: a record copied
 * elsewhere, or left over from another file, does not check. */
static inline uint64_t ri_record_check(const RiRecord *r, uint64_t salt, uint64_t position) {
        return ri_hash(r, offsetof(RiRecord, check), salt ^ (position * RI_HASH_MUL));
}

static inline uint64_t ri_header_check(const RiHeader *h) {
        return ri_hash(h, offsetof(RiHeader, check), RI_VERSION);
}

/* The slot (0 or 1) of the valid header with the larger seq, copied into
 * *ret; -1 when neither is valid.  Each slot is copied before it is
 * checked: a writer may be writing the other one meanwhile. */
static inline int ri_pick_header(const uint8_t *base, RiHeader *ret) {
        int slot = -1;

        for (int i = 0; i < 2; i++) {
                RiHeader h;

                memcpy(&h, base + (size_t) i * RI_SLOT_SIZE, sizeof h);
                if (memcmp(h.magic, RI_MAGIC, sizeof h.magic) != 0 || h.version != RI_VERSION ||
                    h.record_size != RI_RECORD_SIZE || h.check != ri_header_check(&h))
                        continue;
                if (slot >= 0 && h.seq <= ret->seq)
                        continue;
                *ret = h;
                slot = i;
        }
        return slot;
}

/* Where record i lives: the sorted section, the log right after it. */
static inline uint64_t ri_record_offset(uint64_t i) {
        return RI_HEADER_SIZE + i * RI_RECORD_SIZE;
}
