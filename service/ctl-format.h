/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pure parts of certrevokectl: labels, dates, column widths, JSON
 * strings, pattern matching, the exit-code table, checks of arguments and
 * reading a password line.  Nothing here talks to the bus, so the unit
 * tests can check it without a daemon. */
#pragma once

#include <libintl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cleanup.h"

#define CTL_TEXT_DOMAIN "certrevoke"

/* dgettext rather than gettext: the labels must come from our catalogue
 * whichever default domain the calling program has chosen. */
#define _(s) dgettext(CTL_TEXT_DOMAIN, s)
#define N_(s) (s)

/* Exit statuses.  Scripts depend on these numbers: never renumber. */
enum {
        CTL_EXIT_SUCCESS        = 0,
        CTL_EXIT_FAILURE        = 1,
        CTL_EXIT_USAGE          = 2,
        CTL_EXIT_NOT_FOUND      = 3,
        CTL_EXIT_ACCESS_DENIED  = 4,
        CTL_EXIT_AUTH_FAILED    = 5,
        CTL_EXIT_RATE_LIMITED   = 6,
        CTL_EXIT_NOT_REVOCABLE  = 7,
        CTL_EXIT_EXISTS         = 8,
        CTL_EXIT_BUSY           = 9,
};

typedef struct CtlExitCode {
        int code;
        const char *description;  /* untranslated; pass through _() */
        const char *error_name;   /* D-Bus error name, or NULL for local outcomes */
} CtlExitCode;

/* The one table that maps D-Bus error names to exit statuses, in exit-status
 * order; --help prints it as it is. */
extern const CtlExitCode ctl_exit_codes[];
extern const size_t ctl_exit_codes_count;

/* Exit status for a D-Bus error name; CTL_EXIT_FAILURE for NULL or unknown. */
int ctl_exit_code_from_error_name(const char *name);

/* The seconds a Busy error's message names at its end ("… try again in
 * N s"): 0, or -EINVAL when it names none. */
int ctl_busy_retry_seconds(const char *message, unsigned *ret);

/* setlocale(LC_ALL, "") and bind the catalogue, from $CERTREVOKE_LOCALEDIR
 * if set (a build tree), else from the given directory. */
void ctl_locale_init(const char *default_localedir);

/* Translated label of an API role or certificate-state string; an unknown
 * string is returned as it is so that a newer daemon still shows something. */
const char *ctl_role_label(const char *role);
const char *ctl_state_label(const char *state);

/* The value shown for the Suspended property (利用者停止): translated
 * "yes" or "no" in the context "suspended". */
const char *ctl_suspended_label(bool suspended);

/* Whether the table shows an expiry for this state: only a valid
 * certificate (issued, renewed) has one worth showing. */
bool ctl_state_shows_expiry(const char *state);

/* Local time in the translated strftime format ("%Y-%m-%d %H:%M:%S",
 * Japanese "%Y年%m月%d日 %H時%M分%S秒").  Call tzset() after changing TZ.
 * Returns 0, -EOVERFLOW if the time cannot be represented, -ENOBUFS if buf is
 * too small. */
int ctl_format_time(uint64_t usec, char *buf, size_t size);

/* ISO 8601 in UTC, "2019-12-16T00:59:39Z", for JSON. Same returns. */
int ctl_format_iso8601(uint64_t usec, char *buf, size_t size);

/* Columns a string takes on a terminal in the current locale (CJK characters
 * take two).  Text the locale cannot decode is measured as UTF-8 (C.UTF-8),
 * and failing that by counting characters. */
size_t ctl_display_width(const char *s);

typedef enum CtlAlign {
        CTL_ALIGN_LEFT,
        CTL_ALIGN_RIGHT,
} CtlAlign;

/* s padded with spaces to width display columns; never truncates.
 * Returns 0 or -ENOMEM. */
int ctl_pad(const char *s, size_t width, CtlAlign align, char **ret);

/* A quoted JSON string literal for s.  Quotes, backslashes and control
 * characters are escaped, valid UTF-8 is passed through, and bytes that are
 * not valid UTF-8 become U+FFFD so the output is always valid JSON.
 * Returns 0 or -ENOMEM. */
int ctl_json_escape(const char *s, char **ret);

/* Writes ctl_json_escape(s) to f; NULL is written as null. */
int ctl_json_fputs(FILE *f, const char *s);

/* Copy of s with control characters (C0, DEL, C1) replaced by '?', so text
 * from certificates cannot send escape sequences to the terminal.
 * Returns 0 or -ENOMEM. */
int ctl_printable(const char *s, char **ret);

/* Whether the pattern uses fnmatch(3) syntax (*, ? or [). */
bool ctl_pattern_is_glob(const char *pattern);

/* A glob must match all of s; a plain word matches as a substring. */
bool ctl_pattern_match(const char *pattern, const char *s);

/* Translated label of an operation-history action ("revoke", "confirm",
 * "add-user", "suspend", ...); an unknown action is returned as it is. */
const char *ctl_action_label(const char *action);

/* Whether reason is a CRLReason name RevokeCertificate takes (DESIGN.md:
 * unspecified, keyCompromise, CACompromise, affiliationChanged, superseded,
 * cessationOfOperation, privilegeWithdrawn, AACompromise), or "" for
 * unspecified.  Case matters, as it does for the service. */
bool ctl_reason_is_valid(const char *reason);

/* Translated label of a reason name; "" is "unspecified", an unknown name
 * is returned as it is. */
const char *ctl_reason_label(const char *reason);

/* Whether s can be a certificate serial for RevokeCertificate: 1..128
 * characters of hexadecimal digits and colons, at least one digit. */
bool ctl_serial_is_valid(const char *s);

/* Parses a decimal number 0..UINT32_MAX: digits only, no sign or blanks.
 * Returns 0 or -EINVAL/-ERANGE. */
int ctl_parse_uint32(const char *s, uint32_t *ret);

/* Parses "YYYY-MM-DD" (midnight) or "YYYY-MM-DD HH:MM:SS" in local time
 * into microseconds since the epoch.  Call tzset() after changing TZ.
 * Returns 0, -EINVAL for anything else (including days a month does not
 * have), -ERANGE for a time before the epoch or one time_t cannot hold. */
int ctl_parse_since(const char *s, uint64_t *ret);

/* Reads one line from fd into buf, a byte at a time so that nothing past
 * the line is consumed and no stdio buffer keeps a copy.  The newline is
 * not stored; buf is NUL-terminated and *ret_len is its length.  Returns
 * 0 (also at end of file, with what was read), -ENOBUFS if the line does
 * not fit in size - 1 bytes, or a negative errno; on failure buf is wiped. */
int ctl_read_line(int fd, char *buf, size_t size, size_t *ret_len);

/* ---- tables ------------------------------------------------------------ */

/* Room for a formatted time. */
#define CTL_TIME_BUF_MAX 128

/* Widest table printed. */
#define CTL_TABLE_COLUMNS_MAX 5

/* Turns one row into its cells (cols strings, allocated); 0 or -ENOMEM. */
typedef int (*CtlFillFn)(char **cells, const void *row);

/* A table on out: a header of cols translated labels, then n rows of the
 * given size, each made into cells by fill.  Columns are padded by display
 * width, so that Japanese names line up; the last is not padded.  0 or
 * -ENOMEM. */
int ctl_print_rows(FILE *out, const char *const *header, size_t cols, const void *rows, size_t size, size_t n,
                   CtlFillFn fill);

/* A JSON array on out with an object per row: each key's value is the
 * string at its offset in the row.  0 or -ENOMEM. */
int ctl_print_json_rows(FILE *out, const void *rows, size_t row_size, size_t n, const char *const keys[],
                        const size_t offsets[], size_t n_keys);

/* The expiry cell of a user: the time, or "-" unless the certificate is
 * valid (as the product's list shows it).  NULL without memory. */
char *ctl_expiry_cell(const char *state, uint64_t not_after);
