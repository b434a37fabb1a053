/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "cleanup.h"
#include "crl-file.h"
#include "log.h"
#include "revoked-index.h"
#include "sync-install.h"

/* sync.state is a few short lines. */
#define STATE_MAX 4096

DEFINE_TRIVIAL_CLEANUP_FUNC(RevokedIndex *, revoked_index_free)

/* The whole regular file name in dir_fd, at most max bytes. */
static int read_file_at(int dir_fd, const char *name, size_t max, uint8_t **ret, size_t *ret_len) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        _cleanup_free_ uint8_t *buf = NULL;
        struct stat st;
        size_t got = 0;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        if ((uint64_t) st.st_size > max)
                return -EFBIG;
        if (!(buf = malloc((size_t) st.st_size + 1)))
                return -ENOMEM;
        while (got < (size_t) st.st_size) {
                ssize_t n = read(fd, buf + got, (size_t) st.st_size - got);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                got += (size_t) n;
        }
        buf[got] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = got;
        return 0;
}

/* name replaced by data durably: temporary file, sync, rename, directory sync. */
static int write_file_at(int dir_fd, const char *name, const void *data, size_t len) {
        _cleanup_(atomic_file_done) AtomicFile f = ATOMIC_FILE_INIT;
        int r;

        if ((r = atomic_file_open(dir_fd, name, &f)) < 0)
                return r;
        if ((r = write_all(f.fd, data, len)) < 0)
                return r;
        if ((r = atomic_file_sync(&f)) < 0)
                return r;
        if ((r = atomic_file_commit(name, &f)) < 0)
                return r;
        return fsync(dir_fd) < 0 ? -errno : 0;
}

int held_crl_read(int dir_fd, uint8_t **ret, size_t *ret_len) {
        return read_file_at(dir_fd, "crl.der", PUBLISHED_CRL_MAX, ret, ret_len);
}

/* One "name value" line's value, copied; NULL when absent. */
static char *state_value(const char *text, const char *name) {
        size_t n = strlen(name);

        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, name, n) == 0 && p[n] == ' ')
                        return strndup(p + n + 1, strcspn(p + n + 1, "\n"));
        return NULL;
}

void held_validators_read(int dir_fd, Validators *ret) {
        _cleanup_free_ uint8_t *text = NULL;
        size_t len;

        *ret = (Validators) {};
        if (read_file_at(dir_fd, SYNC_STATE_NAME, STATE_MAX, &text, &len) < 0 || memchr(text, 0, len))
                return;
        ret->etag = state_value((char *) text, "etag");
        ret->last_modified = state_value((char *) text, "last-modified");
        ret->date = state_value((char *) text, "date");
}

/* A validator goes back into a request header: one line of printable ASCII. */
static bool printable(const char *s) {
        for (; s && *s; s++)
                if (*s < ' ' || *s > '~')
                        return false;
        return true;
}

int held_validators_write(int dir_fd, const Validators *v) {
        _cleanup_free_ char *text = NULL;
        const char *etag = v->etag && printable(v->etag) ? v->etag : NULL;
        const char *lm = v->last_modified && printable(v->last_modified) ? v->last_modified : NULL;
        const char *date = v->date && printable(v->date) ? v->date : NULL;
        int n;

        n = asprintf(&text, "%s%s%s%s%s%s%s%s%s", etag ? "etag " : "", etag ? etag : "", etag ? "\n" : "",
                     lm ? "last-modified " : "", lm ? lm : "", lm ? "\n" : "", date ? "date " : "",
                     date ? date : "", date ? "\n" : "");
        if (n < 0)
                return -ENOMEM;
        return write_file_at(dir_fd, SYNC_STATE_NAME, text, (size_t) n);
}

int install_ca(int dir_fd, const SyncCa *ca) {
        _cleanup_free_ uint8_t *held = NULL;
        size_t len;

        if (read_file_at(dir_fd, "ca.pem", 1 << 20, &held, &len) >= 0 && len == ca->pem_len &&
            memcmp(held, ca->pem, len) == 0)
                return 0;
        return write_file_at(dir_fd, "ca.pem", ca->pem, ca->pem_len);
}

static int index_apply(RevokedIndex *x, const IndexChange *change, uint64_t number) {
        int r;

        for (size_t i = 0; i < change->n_added; i++) {
                if (!change->added[i].der)
                        continue;
                r = revoked_index_add(x, change->added[i].der, change->added[i].der_len, number);
                if (r < 0)
                        return log_error_errno(r, "sync: cannot add a certificate to revoked.idx: %m");
        }
        for (size_t i = 0; i < change->n_removed; i++) {
                r = revoked_index_remove_key(x, change->removed[i], number);
                if (r < 0)
                        return log_error_errno(r, "sync: cannot take a certificate off revoked.idx: %m");
        }
        return 0;
}

/* Whole, revoked.idx is told every certificate of the CRL, and what it
 * is not told leaves: a revoked.idx of an earlier history keeps nothing
 * the CRL does not list. */
static int index_apply_whole(RevokedIndex *x, const IndexChange *change, uint64_t number, const uint8_t *der,
                             size_t len) {
        int r = 0;

        revoked_index_sync_begin(x);
        for (size_t i = 0; i < change->n_added && r >= 0; i++)
                if (change->added[i].der)
                        r = revoked_index_sync_entry(x, change->added[i].der, change->added[i].der_len, number);
        if (r < 0)
                log_error_errno(r, "sync: cannot add a certificate to revoked.idx: %m");
        return revoked_index_sync_end(x, number, der, len, r);
}

int install_crl(int dir_fd, const SyncCa *ca, const IndexChange *change, uint64_t number, const uint8_t *der,
                size_t len) {
        _cleanup_(revoked_index_freep) RevokedIndex *x = NULL;
        bool fresh;
        int r;

        assert(der && len > 0);
        r = revoked_index_open(dir_fd, ca->der, ca->der_len, &x, &fresh);
        if (r < 0)
                return log_error_errno(r, "sync: cannot open revoked.idx: %m");
        if (fresh && !change->whole)
                return -ESTALE;
        if (change->whole)
                r = index_apply_whole(x, change, number, der, len);
        else if ((r = index_apply(x, change, number)) >= 0)
                r = revoked_index_commit(x, number, der, len);
        if (r < 0)
                return log_error_errno(r, "sync: cannot write revoked.idx: %m");
        r = crl_write_der_at(dir_fd, der, len);
        if (r < 0)
                return log_error_errno(r, "sync: cannot write crl.der: %m");
        /* compaction, when the log has grown, before the program ends */
        revoked_index_published(x, number);
        r = revoked_index_wait(x);
        if (r < 0)
                log_warning_errno(r, "sync: cannot compact revoked.idx (it stays valid): %m");
        return 0;
}
