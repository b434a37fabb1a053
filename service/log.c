/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int max_level = LOG_INFO;

void log_set_max_level(int prio) {
        max_level = prio;
}

static void log_va(int prio, const char *fmt, va_list ap) {
        static int journal = -1;
        char buf[2048];

        if (prio > max_level)
                return;
        if (journal < 0)
                journal = getenv("JOURNAL_STREAM") != NULL;
        vsnprintf(buf, sizeof buf, fmt, ap);
        if (journal)
                fprintf(stderr, "<%d>%s\n", prio, buf);
        else
                fprintf(stderr, "certrevoked: %s\n", buf);
}

void log_full(int prio, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        log_va(prio, fmt, ap);
        va_end(ap);
}

int log_full_errno(int prio, int error, const char *fmt, ...) {
        va_list ap;
        int saved = errno;

        errno = error < 0 ? -error : error;
        va_start(ap, fmt);
        log_va(prio, fmt, ap);
        va_end(ap);
        errno = saved;
        return error < 0 ? error : -error;
}
