/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <time.h>

#include "util.h"

unsigned long long now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (unsigned long long) ts.tv_sec * USEC_PER_SEC + (unsigned long long) ts.tv_nsec / 1000;
}
