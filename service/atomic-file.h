/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Files that others read are replaced whole: written to a temporary file in
 * the same directory, synced, then renamed over the old one. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct AtomicFile {
        int dir_fd;                     /* borrowed */
        int fd;
        char name[64];                  /* its name in the directory once it has one */
        bool committed;
} AtomicFile;

#define ATOMIC_FILE_INIT { .dir_fd = -1, .fd = -1 }

/* A new temporary file in the directory dir_fd that will become target. */
int atomic_file_open(int dir_fd, const char *target, AtomicFile *t);
/* Mode 0644 whatever the umask, and on disk. */
int atomic_file_sync(AtomicFile *t);
/* Gives it the name target; the caller syncs the directory afterwards. */
int atomic_file_commit(const char *target, AtomicFile *t);
/* Closes it and removes what was not committed. */
void atomic_file_done(AtomicFile *t);

/* write(2) until all is written. */
int write_all(int fd, const void *data, size_t len);

/* Opens the directory at path (absolute) for files to be written into it,
 * refusing one that a user other than root (and the user this process runs
 * as) could change: the directory itself must not be a symbolic link, be
 * owned by another user, or be writable by its group or others; every
 * directory on the way must be owned by root (or us) and not writable by
 * others unless sticky (/tmp); a symbolic link on the way is followed only
 * when root (or we) made it; ".." is refused.  The checks are made on the
 * opened directories, so that what is returned is what was checked.  With
 * create_mode, a missing last component is made with exactly that mode.
 * Returns 0 and an O_DIRECTORY descriptor in *ret_fd; -EPERM with *ret_why
 * (malloc'd) saying why the path is refused ("is a symbolic link; refusing
 * to write through it"); -ENOENT when it or a directory on the way does not
 * exist; another -errno otherwise (*ret_why may say more). */
int directory_open_trusted(const char *path, mode_t create_mode, int *ret_fd, char **ret_why);
