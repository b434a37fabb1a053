/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Scoped freeing, the one copy for the whole tree: the daemon, the CLI,
 * the PAM module, the trust module, the tests, the benchmarks and the
 * fuzzers.  Header-only and free of the daemon's symbols, so that the two
 * modules that include it link nothing more than libc. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* funcp(&x) calls func(x) unless x is NULL; for _cleanup_(funcp). */
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

DEFINE_TRIVIAL_CLEANUP_FUNC(FILE *, fclose)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hands ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })

/* Overwrites memory in a way the compiler may not drop. */
static inline void erase_memory(void *p, size_t n) {
        if (p && n)
                explicit_bzero(p, n);
}
