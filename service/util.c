/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <time.h>

#include "util.h"

unsigned long long now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (unsigned long long) ts.tv_sec * USEC_PER_SEC + (unsigned long long) ts.tv_nsec / 1000;
}

unsigned long long monotonic_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (unsigned long long) ts.tv_sec * USEC_PER_SEC + (unsigned long long) ts.tv_nsec / 1000;
}

void strv_free(char **l) {
        for (char **p = l; p && *p; p++)
                free(*p);
        free(l);
}

char **strv_copy(char *const *l) {
        size_t n = 0;
        char **c;

        while (l && l[n])
                n++;
        if (!(c = calloc(n + 1, sizeof *c)))
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!(c[i] = strdup(l[i]))) {
                        strv_free(c);
                        return NULL;
                }
        return c;
}

bool strv_equal(char *const *a, char *const *b) {
        size_t i = 0;

        for (; a && b && a[i] && b[i]; i++)
                if (strcmp(a[i], b[i]) != 0)
                        return false;
        return (!a || !a[i]) && (!b || !b[i]);
}

int grow_array(void **p, size_t *allocated, size_t need, size_t size) {
        size_t a = *allocated ? *allocated : 1024;
        void *n;

        if (need <= *allocated)
                return 0;
        while (a < need)
                a *= 2;
        if (a > SIZE_MAX / size)
                return -ENOMEM;
        if (!(n = realloc(*p, a * size)))
                return -ENOMEM;
        *p = n;
        *allocated = a;
        return 0;
}
