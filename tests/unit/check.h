/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A few lines of test reporting: one "ok"/"not ok" line per check, and the
 * exit status says whether all passed. */
#pragma once

#include <stdio.h>
#include <string.h>

static int check_failed;

#define CHECK(cond, ...) do {                                              \
                int _ok = !!(cond);                                         \
                printf("%s - ", _ok ? "ok" : "not ok");                     \
                printf(__VA_ARGS__);                                        \
                if (!_ok) {                                                 \
                        printf("  (%s:%d: %s)", __FILE__, __LINE__, #cond); \
                        check_failed++;                                     \
                }                                                           \
                printf("\n");                                               \
        } while (0)

#define CHECK_STREQ(a, b, ...) do {                                         \
                const char *_a = (a), *_b = (b);                            \
                CHECK(_a && _b && strcmp(_a, _b) == 0, __VA_ARGS__);        \
                if (!(_a && _b && strcmp(_a, _b) == 0))                     \
                        printf("    got \"%s\", want \"%s\"\n", _a ? _a : "(null)", _b ? _b : "(null)"); \
        } while (0)

#define CHECK_EXIT() (check_failed ? 1 : 0)
