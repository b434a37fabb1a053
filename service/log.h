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
#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)

/* Journal message IDs of the events an administrator may want to find or
 * alert on (journalctl MESSAGE_ID=…). */
#define CR_MESSAGE_REVOKED              "09fc6fdf53a14540a95b310aca55ebc2"
#define CR_MESSAGE_CONFIRMATION_FAILED  "7cc16f273fbf481888733144ce0f5acc"
#define CR_MESSAGE_CRL_PUBLISHED        "ed52a173a3564b58b2d817344b25fcc9"
#define CR_MESSAGE_TOKEN_UNREACHABLE    "41ebee0096104dfd8222c62d7df78364"

/* A structured entry under journald: MESSAGE_ID and the given FIELD=value
 * pairs (NULL-terminated after the format's arguments is not possible, so
 * up to two fields by name); a plain line on stderr otherwise. */
void log_event(int prio, const char *message_id, const char *field1, const char *value1,
               const char *field2, const char *value2, const char *fmt, ...)
        __attribute__((format(printf, 7, 8)));
