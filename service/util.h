/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers shared by the daemon's files; scoped freeing is in
 * cleanup.h, included here for them. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"

#define USEC_PER_SEC 1000000ULL

static inline int streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

static inline int isempty(const char *s) {
        return !s || !*s;
}

/* Wall-clock time in microseconds since the epoch. */
unsigned long long now_usec(void);
/* CLOCK_MONOTONIC in microseconds: for durations. */
unsigned long long monotonic_usec(void);

/* Makes room for need elements of size bytes in *p (allocated counts
 * them), doubling from 1024: amortised O(1) appends. */
int grow_array(void **p, size_t *allocated, size_t need, size_t size);

/* NULL-terminated string lists. */
void strv_free(char **l);
char **strv_copy(char *const *l);
bool strv_equal(char *const *a, char *const *b);
