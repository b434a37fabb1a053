/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Scoped freeing and small helpers shared by the daemon's files. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define USEC_PER_SEC 1000000ULL

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)         \
        static inline void func##p(type *p) {           \
                if (*p)                                  \
                        func(*p);                        \
        }

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* Hands ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })

static inline int streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

static inline int isempty(const char *s) {
        return !s || !*s;
}

/* Overwrites memory in a way the compiler may not drop. */
static inline void erase_memory(void *p, size_t n) {
        if (p && n)
                explicit_bzero(p, n);
}

/* Wall-clock time in microseconds since the epoch. */
unsigned long long now_usec(void);

/* NULL-terminated string lists. */
void strv_free(char **l);
char **strv_copy(char *const *l);
bool strv_equal(char *const *a, char *const *b);
