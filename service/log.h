/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <syslog.h>

/* Writes one line to stderr; under journald (JOURNAL_STREAM) with a
 * <priority> prefix so the journal keeps the level. */
void log_full(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Logs and returns the negative errno it was given, for `return log_…`. */
int log_full_errno(int prio, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

void log_set_max_level(int prio);

#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
