/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Files that others read are replaced whole: written to a temporary file in
 * the same directory, synced, then renamed over the old one. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

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
