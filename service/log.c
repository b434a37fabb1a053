/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "log.h"

static int max_level = LOG_INFO;
static const char *program = "certrevoked";

void log_set_max_level(int prio) {
        max_level = prio;
}

void log_set_program(const char *name) {
        program = name;
}

/* Whether stderr is the journal stream systemd gave us, not merely an
 * inherited variable: JOURNAL_STREAM names its device and inode. */
static int under_journal(void) {
        static int journal = -1;
        unsigned long long dev, ino;
        const char *e;
        struct stat st;

        if (journal >= 0)
                return journal;
        e = getenv("JOURNAL_STREAM");
        journal = e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) >= 0 &&
                  (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
        return journal;
}

static void log_va(int prio, const char *fmt, va_list ap) {
        int journal = under_journal();
        char buf[2048];

        if (prio > max_level)
                return;
        vsnprintf(buf, sizeof buf, fmt, ap);
        if (journal)
                fprintf(stderr, "<%d>%s\n", prio, buf);
        else
                fprintf(stderr, "%s: %s\n", program, buf);
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

void log_event(int prio, const char *message_id, const char *field1, const char *value1,
               const char *field2, const char *value2, const char *fmt, ...) {
        char buf[2048];
        va_list ap;

        if (prio > max_level)
                return;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        if (!under_journal()) {
                fprintf(stderr, "%s: %s\n", program, buf);
                return;
        }
        {
                char *f[6] = {};
                struct iovec iov[6];
                int n = 0;

                if (asprintf(&f[n++], "MESSAGE=%s", buf) < 0 || asprintf(&f[n++], "PRIORITY=%d", prio) < 0 ||
                    asprintf(&f[n++], "MESSAGE_ID=%s", message_id) < 0 ||
                    asprintf(&f[n++], "SYSLOG_IDENTIFIER=%s", program) < 0 ||
                    (field1 && asprintf(&f[n++], "%s=%s", field1, value1 ? value1 : "") < 0) ||
                    (field2 && asprintf(&f[n++], "%s=%s", field2, value2 ? value2 : "") < 0))
                        f[--n] = NULL;
                for (int i = 0; i < n; i++)
                        iov[i] = (struct iovec) { .iov_base = f[i], .iov_len = strlen(f[i]) };
                /* an event the journal did not take still goes somewhere */
                if (sd_journal_sendv(iov, n) < 0)
                        fprintf(stderr, "<%d>%s\n", prio, buf);
                for (int i = 0; i < n; i++)
                        free(f[i]);
        }
}
