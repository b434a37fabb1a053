/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "util.h"

void atomic_file_done(AtomicFile *t) {
        if (t->fd >= 0)
                close(t->fd);
        if (t->name[0] && !t->committed)
                (void) unlinkat(t->dir_fd, t->name, 0);
        t->fd = -1;
}

static void random_name(const char *target, char *buf, size_t size) {
        uint64_t r;

        if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t) sizeof r)
                r = now_usec() ^ ((uint64_t) getpid() << 40) ^ (uint64_t) (uintptr_t) buf;
        snprintf(buf, size, ".%s.%016" PRIx64, target, r);
}

/* An unnamed file where the file system allows it, so that a crash while
 * 50 MB are written leaves nothing behind. */
int atomic_file_open(int dir_fd, const char *target, AtomicFile *t) {
        t->dir_fd = dir_fd;
        t->fd = openat(t->dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
        if (t->fd >= 0)
                return 0;
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
                return -errno;
        for (int i = 0; i < 16; i++) {
                random_name(target, t->name, sizeof t->name);
                t->fd = openat(t->dir_fd, t->name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (t->fd >= 0)
                        return 0;
                if (errno != EEXIST)
                        break;
        }
        t->name[0] = 0;
        return errno == EEXIST ? -EEXIST : -errno;
}

int write_all(int fd, const void *data, size_t len) {
        const uint8_t *p = data;

        while (len > 0) {
                ssize_t k = write(fd, p, len);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EIO;
                p += k;
                len -= (size_t) k;
        }
        return 0;
}

int atomic_file_sync(AtomicFile *t) {
        if (fchmod(t->fd, 0644) < 0 || fsync(t->fd) < 0)
                return -errno;
        return 0;
}

/* An unnamed file gets a name only now, to be renamed at once. */
static int atomic_file_name(const char *target, AtomicFile *t) {
        char proc[64];

        if (t->name[0])
                return 0;
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", t->fd);
        for (int i = 0; i < 16; i++) {
                random_name(target, t->name, sizeof t->name);
                if (linkat(AT_FDCWD, proc, t->dir_fd, t->name, AT_SYMLINK_FOLLOW) == 0)
                        return 0;
                if (errno != EEXIST)
                        break;
        }
        t->name[0] = 0;
        return errno == EEXIST ? -EEXIST : -errno;
}

int atomic_file_commit(const char *target, AtomicFile *t) {
        int r;

        if ((r = atomic_file_name(target, t)) < 0)
                return r;
        if (renameat(t->dir_fd, t->name, t->dir_fd, target) < 0)
                return -errno;
        t->committed = true;
        return 0;
}
