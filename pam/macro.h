/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Scoped freeing for the files of pam/.  Private to them: the module does
 * not link the daemon's helpers, and the daemon does not see these names. */
#pragma once

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })
