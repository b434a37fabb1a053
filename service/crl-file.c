/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <sys/stat.h>

#include "atomic-file.h"
#include "crl-file.h"
#include "util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_INTEGER *, ASN1_INTEGER_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_CRL *, X509_CRL_free)

/* ---------------------------------------------------------------- writing */

#define PEM_LINES_PER_WRITE 1024
typedef struct Pace {
        crl_pace_fn fn;
        void *userdata;
} Pace;

/* Between slices.  What was written stays in the page cache until the sync
 * at the end: on ext4 (data=ordered) blocks handed to the disk early would
 * join the journal's next commit, and the fdatasync of another file (the
 * next crl.der) would wait for them. */
static int pace_slice(Pace *pace) {
        return pace && pace->fn ? pace->fn(pace->userdata) : 0;
}

/* PEM in slices, so a large CRL costs no second copy in memory. */
static int write_pem(int fd, const uint8_t *der, size_t len, Pace *pace) {
        static const char head[] = "-----BEGIN X509 CRL-----\n", tail[] = "-----END X509 CRL-----\n";
        _cleanup_free_ char *buf = malloc(PEM_LINES_PER_WRITE * 65 + 1);
        int r;

        if (!buf)
                return -ENOMEM;
        if ((r = write_all(fd, head, sizeof head - 1)) < 0)
                return r;
        for (size_t off = 0; off < len;) {
                size_t k = 0;

                for (int i = 0; i < PEM_LINES_PER_WRITE && off < len; i++) {
                        size_t chunk = len - off < 48 ? len - off : 48;

                        k += (size_t) EVP_EncodeBlock((unsigned char *) buf + k, der + off, (int) chunk);
                        buf[k++] = '\n';
                        off += chunk;
                }
                if ((r = write_all(fd, buf, k)) < 0)
                        return r;
                if ((r = pace_slice(pace)) < 0)
                        return r;
        }
        return write_all(fd, tail, sizeof tail - 1);
}

int crl_publish(const char *dir, const unsigned char *der, size_t len) {
        _cleanup_close_ int dir_fd = -1;

        if (!dir)
                return -EINVAL;
        if ((dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                return -errno;
        return crl_publish_at(dir_fd, der, len);
}

int crl_publish_at(int dir_fd, const unsigned char *der, size_t len) {
        _cleanup_(atomic_file_done) AtomicFile d = ATOMIC_FILE_INIT, p = ATOMIC_FILE_INIT;
        int r;

        if (dir_fd < 0 || !der || len == 0)
                return -EINVAL;
        d.dir_fd = p.dir_fd = dir_fd;
        /* both complete and synced before either replaces its old file */
        if ((r = atomic_file_open(dir_fd, "crl.der", &d)) < 0 || (r = write_all(d.fd, der, len)) < 0 ||
            (r = atomic_file_sync(&d)) < 0 ||
            (r = atomic_file_open(dir_fd, "crl.pem", &p)) < 0 || (r = write_pem(p.fd, der, len, NULL)) < 0 ||
            (r = atomic_file_sync(&p)) < 0 ||
            (r = atomic_file_commit("crl.der", &d)) < 0 || (r = atomic_file_commit("crl.pem", &p)) < 0)
                return r;
        if (fsync(dir_fd) < 0)
                return -errno;
        return 0;
}

/* Written and synced into the temporary file f, not yet renamed. */
static int prepare_synced(int dir_fd, const char *name, const unsigned char *der, size_t len, bool pem, Pace *pace,
                          AtomicFile *f) {
        int r;

        if (dir_fd < 0 || !der || len == 0)
                return -EINVAL;
        f->dir_fd = dir_fd;
        r = atomic_file_open(dir_fd, name, f);
        if (r < 0)
                return r;
        r = pem ? write_pem(f->fd, der, len, pace) : write_all(f->fd, der, len);
        if (r < 0)
                return r;
        return atomic_file_sync(f);
}

/* crl.der replaced durably: written, synced, renamed, directory synced. */
int crl_write_der_at(int dir_fd, const unsigned char *der, size_t len) {
        _cleanup_(atomic_file_done) AtomicFile f = ATOMIC_FILE_INIT;
        int r;

        r = prepare_synced(dir_fd, "crl.der", der, len, false, NULL, &f);
        if (r < 0)
                return r;
        r = atomic_file_commit("crl.der", &f);
        if (r < 0)
                return r;
        return fsync(dir_fd) < 0 ? -errno : 0;
}

int crl_pem_prepare_at(int dir_fd, const unsigned char *der, size_t len, crl_pace_fn pace, void *userdata,
                       AtomicFile *f) {
        Pace p = { .fn = pace, .userdata = userdata };

        assert(f);
        return prepare_synced(dir_fd, "crl.pem", der, len, true, &p, f);
}

/* ---------------------------------------------------------------- reading back */

static int read_all(int fd, size_t size, unsigned char **ret) {
        _cleanup_free_ unsigned char *buf = malloc(size ? size : 1);
        size_t got = 0;

        if (!buf)
                return -ENOMEM;
        while (got < size) {
                ssize_t n = read(fd, buf + got, size - got);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EBADMSG;        /* shorter than fstat said: replaced meanwhile */
                got += (size_t) n;
        }
        *ret = TAKE_PTR(buf);
        return 0;
}

static int crl_number_of(const X509_CRL *crl, uint64_t *ret) {
        _cleanup_(ASN1_INTEGER_freep) ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);

        if (!n || ASN1_INTEGER_get_uint64(ret, n) != 1 || *ret > INT64_MAX)
                return -EBADMSG;
        return 0;
}

int published_crl_read(int dir_fd, X509_CRL **ret, uint64_t *ret_number) {
        _cleanup_free_ unsigned char *der = NULL;
        _cleanup_close_ int fd = -1;
        const unsigned char *p;
        struct stat st;
        X509_CRL *crl;
        int r;

        /* the file others read: no FIFO, no symbolic link put in its place */
        fd = openat(dir_fd, "crl.der", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return errno == ELOOP ? -EBADMSG : -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        if ((uint64_t) st.st_size > PUBLISHED_CRL_MAX)
                return -EFBIG;
        if ((r = read_all(fd, (size_t) st.st_size, &der)) < 0)
                return r;
        p = der;
        crl = d2i_X509_CRL(NULL, &p, st.st_size);
        ERR_clear_error();
        if (!crl || p != der + st.st_size) {
                X509_CRL_free(crl);
                return -EBADMSG;
        }
        if ((r = crl_number_of(crl, ret_number)) < 0) {
                X509_CRL_free(crl);
                return r;
        }
        *ret = crl;
        return 0;
}

int published_crl_number_at(int dir_fd, uint64_t *ret) {
        _cleanup_(X509_CRL_freep) X509_CRL *crl = NULL;
        int r;

        *ret = 0;
        r = published_crl_read(dir_fd, &crl, ret);
        return r == -ENOENT ? 0 : r;
}
