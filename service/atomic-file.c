/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
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

/* ---- directories nobody else can change ---- */

/* root, and the user the daemon runs as when that is not root. */
static bool owner_trusted(uid_t uid) {
        return uid == 0 || uid == geteuid();
}

static const char *or_own_user(void) {
        return geteuid() == 0 ? "" : " or the service's own user";
}

static const char *writers(mode_t mode) {
        if ((mode & S_IWGRP) && (mode & S_IWOTH))
                return "its group and others";
        return mode & S_IWGRP ? "its group" : "others";
}

static int refuse(char **ret_why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sets *ret_why and returns -EPERM, for `return refuse(…)`. */
static int refuse(char **ret_why, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(ret_why, fmt, ap) < 0)
                *ret_why = NULL;
        va_end(ap);
        return -EPERM;
}

/* A directory on the way, the first len bytes of path: whoever may rename
 * its entries could put another directory in place of the next one.
 * Write access for others is harmless with the sticky bit, which keeps
 * them to their own entries (/tmp). */
static int check_ancestor(const struct stat *st, const char *path, int len, char **ret_why) {
        if (!owner_trusted(st->st_uid))
                return refuse(ret_why, "%.*s, on the way to it, is owned by UID %u, not by root%s; "
                              "refusing to write below it", len, path, (unsigned) st->st_uid, or_own_user());
        if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX))
                return refuse(ret_why, "%.*s, on the way to it, is writable by %s (mode %04o) and not sticky; "
                              "refusing to write below it", len, path, writers(st->st_mode),
                              (unsigned) (st->st_mode & 07777));
        return 0;
}

/* The directory itself: nobody else may add, replace or remove a file. */
static int check_final(const struct stat *st, char **ret_why) {
        if (!S_ISDIR(st->st_mode))
                return refuse(ret_why, "is not a directory");
        if (!owner_trusted(st->st_uid))
                return refuse(ret_why, "is owned by UID %u, not by root%s; refusing to write there",
                              (unsigned) st->st_uid, or_own_user());
        if (st->st_mode & (S_IWGRP | S_IWOTH))
                return refuse(ret_why, "is writable by %s (mode %04o); refusing to write there",
                              writers(st->st_mode), (unsigned) (st->st_mode & 07777));
        return 0;
}

/* Moves *fd from a directory to its entry name, a directory on the way
 * that path names in its first len bytes.  A symbolic link there is
 * followed only when root (or we) made it, as /var/run. */
static int step_down(int *fd, const char *name, const char *path, int len, char **ret_why) {
        struct stat st;
        int flags = O_PATH | O_DIRECTORY | O_CLOEXEC, next;

        if (fstatat(*fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (S_ISLNK(st.st_mode) && !owner_trusted(st.st_uid))
                return refuse(ret_why, "%.*s, on the way to it, is a symbolic link owned by UID %u; "
                              "refusing to follow it", len, path, (unsigned) st.st_uid);
        if (!S_ISLNK(st.st_mode))
                flags |= O_NOFOLLOW;
        next = openat(*fd, name, flags);
        if (next < 0 && errno == ENOTDIR)
                return refuse(ret_why, "%.*s, on the way to it, is not a directory", len, path);
        if (next < 0)
                return -errno;
        close(*fd);
        *fd = next;
        if (fstat(*fd, &st) < 0)
                return -errno;
        return check_ancestor(&st, path, len, ret_why);
}

/* Why the last component could not be opened as a directory. */
static int explain_last(int dir_fd, const char *name, int error, char **ret_why) {
        struct stat st;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                return refuse(ret_why, "is a symbolic link; refusing to write through it");
        if (error == ENOTDIR)
                return refuse(ret_why, "is not a directory");
        return -error;
}

/* Opens the last component, never through a symbolic link; makes it when
 * missing and create_mode says how. */
static int open_last(int dir_fd, const char *name, mode_t create_mode, int *ret_fd, char **ret_why) {
        _cleanup_close_ int fd = -1;
        bool created = false;
        struct stat st;
        int r;

        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && create_mode != 0) {
                if (mkdirat(dir_fd, name, create_mode) == 0)
                        created = true;
                else if (errno != EEXIST)
                        return -errno;
                /* made now, or by someone else meanwhile: checked below either way */
                fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0)
                return explain_last(dir_fd, name, errno, ret_why);
        /* the umask may have taken away what readers need */
        if (created && fchmod(fd, create_mode) < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        r = check_final(&st, ret_why);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* The root directory as the directory itself. */
static int open_root(int *ret_fd, char **ret_why) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        r = check_final(&st, ret_why);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int directory_open_trusted(const char *path, mode_t create_mode, int *ret_fd, char **ret_why) {
        _cleanup_free_ char *copy = NULL;
        _cleanup_close_ int fd = -1;
        char *name, *next, *save = NULL;
        struct stat st;
        int r;

        assert(path && path[0] == '/');
        assert(ret_fd && ret_why);
        *ret_fd = -1;
        *ret_why = NULL;
        if (!(copy = strdup(path)))
                return -ENOMEM;
        fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        r = check_ancestor(&st, "/", 1, ret_why);
        if (r < 0)
                return r;
        next = strtok_r(copy, "/", &save);
        if (!next)
                return open_root(ret_fd, ret_why);
        for (;;) {
                name = next;
                next = strtok_r(NULL, "/", &save);
                /* each directory is checked as the name it was reached by */
                if (strcmp(name, "..") == 0)
                        return refuse(ret_why, "contains \"..\"; refusing a path that climbs back up");
                if (!next)
                        return open_last(fd, name, create_mode, ret_fd, ret_why);
                if (strcmp(name, ".") == 0)
                        continue;
                r = step_down(&fd, name, path, (int) (name - copy + strlen(name)), ret_why);
                if (r < 0)
                        return r;
        }
}
