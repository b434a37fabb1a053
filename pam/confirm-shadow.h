/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The confirmation-password file, shared by pam_certrevoke.so and the
 * daemon.  One line per login, every line ended by '\n':
 *
 *     login:hash:flags
 *
 * login  1..CONFIRM_SHADOW_LOGIN_MAX of A-Z a-z 0-9 . _ - @
 * hash   a crypt(3) string (yescrypt "$y$…" when written here); "!" or "*"
 *        (or anything crypt cannot reproduce) never matches a password
 * flags  comma-separated words of A-Z a-z 0-9 _ -, possibly none; today
 *        "suspended"; words this code does not know are kept as they are
 *
 * Readers take the file as it is (it is replaced by rename, so they see a
 * whole old or a whole new one); writers serialize on path + ".lock".
 * A malformed line is skipped and reported through the log hook by line
 * number and reason, never by content: a line may hold a hash or a
 * password typed into the wrong field. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define CONFIRM_SHADOW_DEFAULT_PATH "/var/lib/certrevoke/confirm.shadow"

#define CONFIRM_SHADOW_LOGIN_MAX 256
#define CONFIRM_SHADOW_HASH_MAX 512
#define CONFIRM_SHADOW_FLAGS_MAX 512
/* Longer lines (without the '\n') are skipped as malformed. */
#define CONFIRM_SHADOW_LINE_MAX (CONFIRM_SHADOW_LOGIN_MAX + CONFIRM_SHADOW_HASH_MAX + CONFIRM_SHADOW_FLAGS_MAX + 2)
/* Longer passwords never match and are never stored: libcrypt takes at
 * most CRYPT_MAX_PASSPHRASE_SIZE - 1 bytes. */
#define CONFIRM_SHADOW_PASSWORD_MAX 511
/* A bigger file is refused whole (-EFBIG) rather than read into memory. */
#define CONFIRM_SHADOW_FILE_MAX ((size_t) 64 << 20)

/* Flags this code knows, for confirm_shadow_update(). */
enum {
        CONFIRM_SHADOW_SUSPENDED = 1u << 0,     /* "suspended" */
        _CONFIRM_SHADOW_KNOWN = CONFIRM_SHADOW_SUSPENDED,
};

/* Where parse problems and refusals are reported; priority is a syslog(3)
 * level.  A NULL hook (or NULL func) keeps quiet. */
typedef struct ConfirmShadowLog {
        void (*func)(void *userdata, int priority, const char *format, va_list ap);
        void *userdata;
} ConfirmShadowLog;

typedef struct ConfirmShadowEntry {
        const char *login;
        const char *hash;
        const char *flags;      /* as read, "" for none */
        size_t line;            /* 1-based line number in the file */
} ConfirmShadowEntry;

typedef struct ConfirmShadow {
        ConfirmShadowEntry *entries;    /* in file order, logins unique */
        size_t n_entries;
        size_t n_skipped;               /* malformed or duplicate lines */
        size_t *by_login;               /* indices into entries, sorted by login */
        char *text;                     /* the copy the entries point into */
        size_t text_size;
} ConfirmShadow;

/* Parses len bytes of data (need not be NUL-terminated; may hold anything).
 * origin names the data in log lines (a path, "<buffer>").  The first
 * occurrence of a login counts; later ones are skipped.  A last line without
 * '\n' is skipped: the file was cut short, and a cut may have dropped a
 * flag such as "suspended".  Returns 0, -ENOMEM or -EFBIG; *ret is
 * filled on 0 only and is freed with confirm_shadow_done(). */
int confirm_shadow_parse(const char *data, size_t len, const char *origin, const ConfirmShadowLog *log, ConfirmShadow *ret);

/* Reads and parses the file at path.  The file must be a regular file
 * (no symlink), owned by root or by the calling process's effective UID,
 * and not writable by group or others: whoever can write it can give
 * themselves a password.  Readable by others is only warned about (it
 * leaks hashes, but does not change an answer; the next update writes
 * 0600).  Returns 0; -ENOENT when missing; -EPERM for a wrong owner or
 * mode; -EINVAL when not a regular file; -EFBIG; -ENOMEM; another
 * negative errno from open/read. */
int confirm_shadow_read(const char *path, const ConfirmShadowLog *log, ConfirmShadow *ret);

/* Frees what parse/read filled; wipes the text first. s may be all zero. */
void confirm_shadow_done(ConfirmShadow *s);

/* The entry of login, or NULL. */
const ConfirmShadowEntry *confirm_shadow_find(const ConfirmShadow *s, const char *login);

/* Whether the entry's flags hold the word flag. */
bool confirm_shadow_entry_has_flag(const ConfirmShadowEntry *e, const char *flag);

/* Whether login may be stored: the rule of the file format above. */
bool confirm_shadow_login_valid(const char *login);

/* Hashes password with a fresh salt: yescrypt, or libcrypt's preferred
 * method where yescrypt is missing.  password: 1..CONFIRM_SHADOW_PASSWORD_MAX
 * bytes.  Returns 0 and a malloc'ed hash, -EINVAL, -ENOMEM, or -ENOSYS
 * when libcrypt cannot hash. */
int confirm_shadow_hash(const char *password, char **ret_hash);

/* Whether password reproduces hash.  Always false for an empty or overlong
 * password, for a hash that is locked ("!", "*"), invalid, or of a method
 * libcrypt calls legacy or disabled (DES truncates at 8 characters), and
 * when memory runs out.  The final comparison takes the same time wherever
 * the first difference is. */
bool confirm_shadow_verify(const char *hash, const char *password);

/* Changes login's line in the file at path, atomically and serialized with
 * other writers through an flock on path + ".lock":
 *   new_password  non-NULL: hashed (before taking the lock) and stored;
 *                 a missing line is added then, a missing file created
 *   set_flags, clear_flags  CONFIRM_SHADOW_* bits; other flags are kept
 * The file is re-read under the lock, malformed lines are dropped (and
 * logged), the result is written to a temporary file of mode 0600 beside
 * it, fsync'ed, renamed over path, and the directory fsync'ed.  The caller
 * keeps and wipes new_password.  Returns 0; -ENOENT when login has no line
 * and no password is given; -EINVAL for a bad login, password or flag set;
 * or the errors of confirm_shadow_read() and of the file system. */
int confirm_shadow_update(const char *path, const char *login, const char *new_password,
                          unsigned set_flags, unsigned clear_flags, const ConfirmShadowLog *log);

/* Removes login's line, in the same way.  Returns 0, -ENOENT when it has
 * none, or as above. */
int confirm_shadow_remove(const char *path, const char *login, const ConfirmShadowLog *log);
