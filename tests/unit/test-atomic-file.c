/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directory_open_trusted: which directories the daemon writes into, and
 * what it says about the others. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "check.h"
#include "util.h"

#define OTHER_UID 1234

static char base[] = "/tmp/certrevoke-test-dirs-XXXXXX";

static char *at(const char *rel) {
        static char buf[4][512];
        static int next;
        char *p = buf[next++ % 4];

        snprintf(p, sizeof buf[0], "%s/%s", base, rel);
        return p;
}

/* A step of a fixture that must work. */
static void must(int r, const char *what) {
        if (r < 0) {
                perror(what);
                exit(2);
        }
}

static void make_dir(const char *rel, mode_t mode) {
        if (mkdir(at(rel), mode) < 0 || chmod(at(rel), mode) < 0) {
                perror(at(rel));
                exit(2);
        }
}

/* Opens rel; returns the errno, the reason in *why (to be freed). */
static int try_open(const char *rel, mode_t create_mode, char **why) {
        int fd = -1, r;

        r = directory_open_trusted(at(rel), create_mode, &fd, why);
        if (fd >= 0)
                close(fd);
        return r;
}

/* rel is refused (-EPERM) with a reason containing want. */
static void expect_refused(const char *rel, const char *want, const char *what) {
        _cleanup_free_ char *why = NULL;
        int r = try_open(rel, 0, &why);

        CHECK(r == -EPERM && why && strstr(why, want), "%s: refused, saying \"%s\" (got %d, \"%s\")", what, want, r,
              why ? why : "(none)");
}

static void expect_accepted(const char *rel, const char *what) {
        _cleanup_free_ char *why = NULL;
        int r = try_open(rel, 0, &why);

        CHECK(r == 0 && !why, "%s: accepted (got %d, \"%s\")", what, r, why ? why : "(none)");
}

static void test_final(void) {
        make_dir("ok", 0755);
        expect_accepted("ok", "a 0755 directory of root's");
        make_dir("tmpfiles", 0711);
        expect_accepted("tmpfiles", "a 0711 directory (the state directory as tmpfiles makes it)");
        make_dir("g", 0775);
        expect_refused("g", "is writable by its group (mode 0775); refusing to write there", "a 0775 directory");
        make_dir("o", 0757);
        expect_refused("o", "is writable by others (mode 0757)", "a 0757 directory");
        make_dir("sticky-final", 01777);
        expect_refused("sticky-final", "is writable by its group and others (mode 1777)",
                       "a sticky 1777 directory as the directory itself");
        must(symlink(at("ok"), at("link")), "symlink");
        expect_refused("link", "is a symbolic link; refusing to write through it", "a symbolic link to a good one");
        must(mknodat(AT_FDCWD, at("file"), S_IFREG | 0644, 0), "mknod");
        expect_refused("file", "is not a directory", "a regular file");
        if (geteuid() == 0) {
                make_dir("theirs", 0755);
                must(chown(at("theirs"), OTHER_UID, OTHER_UID), "chown");
                expect_refused("theirs", "is owned by UID 1234, not by root; refusing to write there",
                               "a directory of another user");
        }
}

static void test_on_the_way(void) {
        make_dir("open", 0777);
        make_dir("open/inner", 0755);
        expect_refused("open/inner", "open, on the way to it, is writable by its group and others (mode 0777) and not sticky",
                       "below a 0777 directory");
        make_dir("tmp", 01777);
        make_dir("tmp/inner", 0755);
        expect_accepted("tmp/inner", "below a sticky 1777 directory");
        make_dir("real", 0755);
        make_dir("real/inner", 0755);
        must(symlink(at("real"), at("roots-link")), "symlink");
        expect_accepted("roots-link/inner", "through root's symbolic link on the way");
        expect_refused("real/../real/inner", "contains \"..\"", "a path with ..");
        expect_accepted("./real/./inner", "a path with .");
        if (geteuid() == 0) {
                must(symlink(at("real"), at("their-link")), "symlink");
                must(lchown(at("their-link"), OTHER_UID, OTHER_UID), "lchown");
                expect_refused("their-link/inner", "their-link, on the way to it, is a symbolic link owned by UID 1234",
                               "through another user's symbolic link");
                make_dir("their-dir", 0755);
                make_dir("their-dir/inner", 0755);
                must(chown(at("their-dir"), OTHER_UID, OTHER_UID), "chown");
                expect_refused("their-dir/inner", "their-dir, on the way to it, is owned by UID 1234",
                               "below another user's directory");
        }
}

static void test_missing_and_create(void) {
        _cleanup_free_ char *why = NULL;
        struct stat st;
        mode_t old;
        int fd = -1, r;

        CHECK(try_open("nowhere", 0, &why) == -ENOENT && !why, "a missing directory: -ENOENT, nothing refused");
        CHECK(try_open("nowhere/below", 0755, &why) == -ENOENT && !why,
              "a missing directory on the way: -ENOENT, nothing made");
        old = umask(0077);
        r = directory_open_trusted(at("made"), 0755, &fd, &why);
        umask(old);
        CHECK(r == 0 && fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755,
              "a missing directory is made with the mode asked for, whatever the umask (mode %04o)",
              (unsigned) (st.st_mode & 07777));
        if (fd >= 0) {
                int f = openat(fd, "probe", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);

                CHECK(f >= 0 && faccessat(AT_FDCWD, at("made/probe"), F_OK, 0) == 0,
                      "the descriptor is the directory at the path");
                if (f >= 0)
                        close(f);
                unlink(at("made/probe"));
                close(fd);
        }
        must(symlink(at("ok"), at("link-create")), "symlink");
        r = try_open("link-create", 0755, &why);
        CHECK(r == -EPERM && why && strstr(why, "is a symbolic link"), "a symbolic link is not replaced by a new one");
}

int main(void) {
        if (!mkdtemp(base)) {
                perror("mkdtemp");
                return 2;
        }
        test_final();
        test_on_the_way();
        test_missing_and_create();
        {
                char cmd[600];

                snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", base);
                if (system(cmd) != 0)
                        fprintf(stderr, "could not remove %s\n", base);
        }
        return CHECK_EXIT();
}
