/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* revoked.idx, mapped (include/revoked-index-format.h has the format):
 * the header in use, and checked access to its records and certificates.
 * Nothing is read until asked for: opening costs the same whatever the
 * number of records. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "der.h"
#include "revoked-index-format.h"

typedef struct IndexMap {
        unsigned refs;
        const uint8_t *base;
        size_t size;
        bool mapped;                    /* false: bytes borrowed from the caller */
        RiHeader h;                     /* the header in use when mapped */
} IndexMap;

/* Maps the regular file fd of size bytes.  -EBADMSG with *why when it is
 * no index, or its header promises more than the file holds. */
int index_map_open(int fd, size_t size, IndexMap **ret, const char **why);

/* The same from bytes in memory (for the fuzzer); data must outlive it. */
int index_map_from_memory(const uint8_t *data, size_t size, IndexMap **ret, const char **why);

IndexMap *index_map_ref(IndexMap *m);
/* A walk over every record and certificate reads the file in a row: it
 * asks for read-ahead (sequential), and gives it up after (not). */
void index_map_advise_all(const IndexMap *m, bool sequential);
void index_map_unref(IndexMap *m);

/* Record i (the sorted part first, then the log); -EBADMSG when its check
 * fails or it points outside the data. */
int index_map_record(const IndexMap *m, uint64_t i, RiRecord *ret);

/* The DER a record points at. */
Span index_map_der(const IndexMap *m, const RiRecord *rec);

/* The first sorted record whose key is not below key (n_sorted if none),
 * found by bisection; records that fail their check steer it but are never
 * returned by index_map_record. */
uint64_t index_map_lower_bound(const IndexMap *m, uint64_t key);

/* The same over the subject index: a position into the subject index. */
uint64_t index_map_subject_lower_bound(const IndexMap *m, uint64_t subject_key);
/* The sorted record the subject index names at p; false past its end or
 * when the position there is out of range. */
bool index_map_subject_at(const IndexMap *m, uint64_t p, uint64_t *ret_record);
