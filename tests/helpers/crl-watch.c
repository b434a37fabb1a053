/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Follows the crl.der of a publish directory for the test harness, so that
 * a test can tell afterwards whether the CRL number ever went back:
 *
 *   crl-watch DIR OUT
 *
 * Once at the start and each time a crl.der is renamed into DIR or written
 * there and closed, appends to OUT one line for the crl.der it then finds:
 *
 *   NUMBER SHA256    its CRL number in decimal and the SHA-256 of the file
 *   - SHA256         a file without a CRL number (caught half written, or
 *                    no CRL at all)
 *
 * and prints "ready" on stdout once it watches.  A DIR that does not exist
 * yet (the daemon makes it) is looked for every 20 ms, and crl.der read as
 * soon as it is watched; so is a DIR that was removed or moved away.
 * SIGTERM or SIGINT: what is still queued is read, then it exits 0.
 *
 * The number is read without decoding the entries: at a million of them
 * d2i_X509_CRL takes seconds of CPU and hundreds of MB, which would compete
 * with the daemon in the very tests that time it.  So the DER is walked
 * down to the tbsCertList's [0] extensions, which OpenSSL decodes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define CRL_NAME "crl.der"
#define LOOK_AGAIN_MS 20
#define WATCH_MASK (IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

typedef struct Watch {
        const char *dir;
        char *path;             /* DIR/crl.der */
        FILE *out;
        int inotify_fd;
        int signal_fd;
        int wd;                 /* -1 while DIR is not watched */
} Watch;

/* A DER header at *p within len bytes: advances *p past it.  Only the
 * definite lengths DER allows. */
static bool der_header(const unsigned char **p, long len, long *ret_len, int *ret_tag, int *ret_class) {
        int f = ASN1_get_object(p, ret_len, ret_tag, ret_class, len);

        return !(f & 0x80) && f != (V_ASN1_CONSTRUCTED | 1);
}

/* The CRL number of a DER CertificateList, in decimal; NULL if it has none
 * or is no CertificateList. */
static char *crl_number(const unsigned char *der, long len) {
        const unsigned char *p = der, *end = der + len, *tbs_end;
        STACK_OF(X509_EXTENSION) *exts = NULL;
        ASN1_INTEGER *number = NULL;
        BIGNUM *bn = NULL;
        char *dec = NULL, *ret = NULL;
        long l;
        int tag, class;

        if (!der_header(&p, end - p, &l, &tag, &class) || tag != V_ASN1_SEQUENCE || p + l != end)
                return NULL;
        if (!der_header(&p, end - p, &l, &tag, &class) || tag != V_ASN1_SEQUENCE)
                return NULL;
        tbs_end = p + l;
        while (p < tbs_end && !exts) {
                const unsigned char *q = p;

                if (!der_header(&q, tbs_end - p, &l, &tag, &class))
                        return NULL;
                if (class == V_ASN1_CONTEXT_SPECIFIC && tag == 0)
                        exts = d2i_X509_EXTENSIONS(NULL, &q, l);
                p = q + l;
        }
        if (exts)
                number = X509V3_get_d2i(exts, NID_crl_number, NULL, NULL);
        if (number)
                bn = ASN1_INTEGER_to_BN(number, NULL);
        if (bn)
                dec = BN_bn2dec(bn);
        if (dec)
                ret = strdup(dec);
        OPENSSL_free(dec);
        BN_free(bn);
        ASN1_INTEGER_free(number);
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
        return ret;
}

static int read_file(const char *path, unsigned char **ret, size_t *ret_len) {
        unsigned char *buf;
        struct stat st;
        size_t n = 0;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > LONG_MAX) {
                close(fd);
                return -EBADF;
        }
        buf = malloc((size_t) st.st_size + 1);
        if (!buf) {
                close(fd);
                return -ENOMEM;
        }
        /* a writer may still be at it: take what is there */
        while (n < (size_t) st.st_size) {
                ssize_t k = read(fd, buf + n, (size_t) st.st_size - n);

                if (k <= 0)
                        break;
                n += (size_t) k;
        }
        close(fd);
        *ret = buf;
        *ret_len = n;
        return 0;
}

/* Appends the line for the crl.der there is now; nothing if there is none. */
static void record(Watch *w) {
        unsigned char *buf = NULL, md[EVP_MAX_MD_SIZE];
        unsigned md_len = 0;
        size_t len = 0;
        char *number;
        int r;

        r = read_file(w->path, &buf, &len);
        if (r == -ENOENT)
                return;
        if (r < 0) {
                fprintf(stderr, "crl-watch: cannot read %s: %s\n", w->path, strerror(-r));
                return;
        }
        if (!EVP_Digest(buf, len, md, &md_len, EVP_sha256(), NULL)) {
                fprintf(stderr, "crl-watch: cannot hash %s\n", w->path);
                free(buf);
                return;
        }
        number = crl_number(buf, (long) len);
        fprintf(w->out, "%s ", number ? number : "-");
        for (unsigned i = 0; i < md_len; i++)
                fprintf(w->out, "%02x", md[i]);
        fputc('\n', w->out);
        fflush(w->out);
        free(number);
        free(buf);
}

/* Watches DIR if it is there now, and reads the crl.der it holds. */
static void watch_add(Watch *w) {
        int wd = inotify_add_watch(w->inotify_fd, w->dir, WATCH_MASK);

        if (wd < 0) {
                if (errno != ENOENT && errno != ENOTDIR)
                        fprintf(stderr, "crl-watch: cannot watch %s: %m\n", w->dir);
                return;
        }
        w->wd = wd;
        record(w);
}

/* Reads the queued events; true if one of them was about crl.der. */
static bool drain(Watch *w) {
        char buf[16 * (sizeof(struct inotify_event) + NAME_MAX + 1)]
                __attribute__((aligned(__alignof__(struct inotify_event))));
        bool changed = false;

        for (;;) {
                ssize_t n = read(w->inotify_fd, buf, sizeof buf);

                if (n <= 0)
                        return changed;
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *e = (const struct inotify_event *) p;

                        /* an overflow lost events: look all the same */
                        if ((e->len > 0 && strcmp(e->name, CRL_NAME) == 0) || (e->mask & IN_Q_OVERFLOW))
                                changed = true;
                        if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
                                /* the directory went: look for it again by name */
                                (void) inotify_rm_watch(w->inotify_fd, e->wd);
                                w->wd = -1;
                        } else if ((e->mask & IN_IGNORED) && e->wd == w->wd)
                                w->wd = -1;
                        p += sizeof *e + e->len;
                }
        }
}

static int run(Watch *w) {
        bool stop = false;

        watch_add(w);
        printf("ready\n");
        fflush(stdout);
        while (!stop) {
                struct pollfd fds[] = {
                        { .fd = w->inotify_fd, .events = POLLIN },
                        { .fd = w->signal_fd, .events = POLLIN },
                };
                int r = poll(fds, 2, w->wd < 0 ? LOOK_AGAIN_MS : -1);

                if (r < 0 && errno != EINTR) {
                        fprintf(stderr, "crl-watch: poll: %m\n");
                        return 1;
                }
                stop = fds[1].revents & POLLIN;
                if (drain(w) && w->wd >= 0)
                        record(w);
                if (w->wd < 0 && !stop)
                        watch_add(w);
        }
        return 0;
}

int main(int argc, char **argv) {
        Watch w = { .wd = -1 };
        sigset_t mask;
        int r;

        if (argc != 3) {
                fprintf(stderr, "usage: %s DIR OUT\n", argv[0]);
                return 2;
        }
        w.dir = argv[1];
        if (asprintf(&w.path, "%s/%s", w.dir, CRL_NAME) < 0)
                return 1;
        w.out = fopen(argv[2], "ae");
        if (!w.out) {
                fprintf(stderr, "crl-watch: cannot open %s: %m\n", argv[2]);
                return 1;
        }
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
                fprintf(stderr, "crl-watch: sigprocmask: %m\n");
                return 1;
        }
        w.signal_fd = signalfd(-1, &mask, SFD_CLOEXEC);
        w.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w.signal_fd < 0 || w.inotify_fd < 0) {
                fprintf(stderr, "crl-watch: cannot set up: %m\n");
                return 1;
        }
        r = run(&w);
        close(w.inotify_fd);
        close(w.signal_fd);
        fclose(w.out);
        free(w.path);
        return r;
}
