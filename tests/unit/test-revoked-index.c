/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* revoked.idx from both sides: written by the daemon's writer, read as the
 * trust module reads it.  Appends, removals, compaction, reopening, a
 * consumer picking up an append, damaged records and headers, and a writer
 * killed with SIGKILL at random points of appends and compactions. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "certgen.h"
#include "check.h"
#include "revoked-index.h"
#include "state.h"
#include "util.h"

#define NOW 1700000000L
#define LATER 2200000000L
#define N_CERTS 1200
#define KILL_ROUNDS 24

static char dir[] = "/tmp/certrevoke-test-revoked-index-XXXXXX";

typedef struct World {
        EVP_PKEY *ca_key, *user_key;
        X509 *ca;
        unsigned char *ca_der;
        int ca_len;
        X509 *certs[N_CERTS];
        unsigned char *der[N_CERTS];
        int len[N_CERTS];
} World;

static World w;

static int dir_fd(void) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0) {
                perror(dir);
                exit(2);
        }
        return fd;
}

static void path_of(char *buf, size_t size, const char *name) {
        snprintf(buf, size, "%s/%s", dir, name);
}

static void put_ca(void) {
        char path[512];
        FILE *f;

        path_of(path, sizeof path, "ca.pem");
        if (!(f = fopen(path, "we")) || !PEM_write_X509(f, w.ca) || fclose(f) != 0)
                exit(2);
}

#define MAX_CRLS 16

/* The CRLs made so far, by number: revoked.idx names each by its
 * signature, so a number's CRL is made once. */
static struct { unsigned char *der; int len; } crls[MAX_CRLS];

/* A CRL of the CA with that number; its entries do not matter to the
 * module, which takes the list from revoked.idx. */
static void crl_of(long number, const unsigned char **ret, size_t *ret_len) {
        X509_CRL *crl;
        ASN1_TIME *t;
        ASN1_INTEGER *num;

        if (number < 0 || number >= MAX_CRLS)
                exit(2);
        if (crls[number].der) {
                *ret = crls[number].der;
                *ret_len = (size_t) crls[number].len;
                return;
        }
        crl = X509_CRL_new();
        t = ASN1_TIME_set(NULL, NOW);
        num = ASN1_INTEGER_new();

        X509_CRL_set_version(crl, 1);
        X509_CRL_set_issuer_name(crl, X509_get_subject_name(w.ca));
        X509_CRL_set1_lastUpdate(crl, t);
        X509_CRL_set1_nextUpdate(crl, t);
        ASN1_INTEGER_set(num, number);
        X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0);
        X509_CRL_sign(crl, w.ca_key, EVP_sha256());
        crls[number].len = i2d_X509_CRL(crl, &crls[number].der);
        ASN1_INTEGER_free(num);
        ASN1_TIME_free(t);
        X509_CRL_free(crl);
        crl_of(number, ret, ret_len);
}

static void put_crl(long number) {
        const unsigned char *der;
        char path[512], tmp[520];
        size_t len;
        int fd;

        crl_of(number, &der, &len);
        path_of(path, sizeof path, "crl.der");
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
            write(fd, der, len) != (ssize_t) len || close(fd) < 0 || rename(tmp, path) < 0)
                exit(2);
}

/* Commits for CRL number, naming it. */
static int commit(RevokedIndex *x, long number) {
        const unsigned char *der;
        size_t len;

        crl_of(number, &der, &len);
        return revoked_index_commit(x, (uint64_t) number, der, len);
}

static void world_init(void) {
        w.ca_key = gen_key();
        w.user_key = gen_key();
        w.ca = gen_cert(w.ca_key, NULL, "Index Test CA", 1, NOW - 86400, LATER, NULL, NULL);
        w.ca_len = cert_der(w.ca, &w.ca_der);
        for (int i = 0; i < N_CERTS; i++) {
                char uid[32];

                snprintf(uid, sizeof uid, "user%d", i);
                /* one key for all: only serials and subjects tell them apart */
                w.certs[i] = gen_cert(w.user_key, uid, uid, 0x5000 + i * 7919L, NOW, LATER, w.ca, w.ca_key);
                w.len[i] = cert_der(w.certs[i], &w.der[i]);
        }
}

static void reset(void) {
        char path[512];

        path_of(path, sizeof path, RI_FILE_NAME);
        unlink(path);
}

static RevokedIndex *writer(bool *fresh) {
        int fd = dir_fd();
        RevokedIndex *x = NULL;
        bool f;
        int r = revoked_index_open(fd, w.ca_der, (size_t) w.ca_len, &x, fresh ? fresh : &f);

        close(fd);
        CHECK(r == 0, "the writer opens revoked.idx (%d)", r);
        return x;
}

/* ---- the reader, as the module reads ---- */

typedef struct View {
        TrustState *s;
        int r;
        const char *why;
        int bad;
} View;

static View view(const TrustState *prev) {
        char *paths[_FILE_MAX];
        TrustFiles files = {};
        View v = {};
        /* the states made here hand out handles from it as lookups go on */
        static CK_OBJECT_HANDLE next = 1;

        for (int i = 0; i < _FILE_MAX; i++)
                if (asprintf(&paths[i], "%s/%s", dir, trust_file_names[i]) < 0)
                        exit(2);
        v.bad = -1;
        v.r = trust_files_read(paths, &files, &v.bad, &v.why);
        if (v.r >= 0)
                v.r = trust_state_build(&files, prev, &next, &v.s, &v.why);
        trust_files_done(&files);
        for (int i = 0; i < _FILE_MAX; i++)
                free(paths[i]);
        return v;
}

/* Whether the module shows cert i, with exactly its DER. */
static bool shows(TrustState *s, int i) {
        X509 *x = w.certs[i];
        unsigned char *issuer = NULL, *serial = NULL;
        int il = i2d_X509_NAME(X509_get_issuer_name(x), &issuer);
        int sl = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &serial);
        Entry *e = trust_state_lookup(s, (Span) { issuer, (size_t) il }, (Span) { serial, (size_t) sl });
        bool found = e && !e->anchor;

        if (found && (e->f.value.len != (size_t) w.len[i] || memcmp(e->f.value.p, w.der[i], e->f.value.len) != 0))
                found = false;
        OPENSSL_free(issuer);
        OPENSSL_free(serial);
        return found;
}

/* The number of certificates every walk over the state shows, each whole
 * and one of ours; -1 when one is not. */
static long shown_all(TrustState *s) {
        long n = 0;

        if (trust_state_reach_all(s) < 0)
                return -1;
        for (size_t k = 1; k < s->n_entries; k++) {
                const Entry *e = s->entries[k];
                bool ours = false;

                for (int i = 0; i < N_CERTS && !ours; i++)
                        ours = e->f.value.len == (size_t) w.len[i] && memcmp(e->f.value.p, w.der[i], e->f.value.len) == 0;
                if (!ours)
                        return -1;
                n++;
        }
        return n;
}

/* ---- the tests ---- */

static void test_append_remove_reopen(void) {
        RevokedIndex *x;
        uint64_t sorted, log;
        View v;
        bool fresh = false;

        reset();
        put_ca();
        x = writer(&fresh);
        CHECK(fresh, "a missing revoked.idx is started afresh");
        for (int i = 0; i < 3; i++)
                CHECK(revoked_index_add(x, w.der[i], (size_t) w.len[i], 1) == 0, "append %d for CRL 1", i);
        CHECK(revoked_index_add(x, w.der[0], (size_t) w.len[0], 1) == 0, "appending a listed one again");
        CHECK(revoked_index_add(x, (const uint8_t *) "\x30\x03\x02\x01\x01", 5, 1) == -EBADMSG,
              "something that is no certificate is refused");
        CHECK(commit(x, 1) == 0, "commit for CRL 1");
        revoked_index_counts(x, &sorted, &log);
        CHECK(sorted == 0 && log == 3, "three records in the log, the repeat not among them (%lu, %lu)",
              (unsigned long) sorted, (unsigned long) log);
        revoked_index_free(x);

        put_crl(1);
        v = view(NULL);
        CHECK(v.r == 0, "the module takes it (%s)", v.why ? v.why : "-");
        CHECK(v.s && shows(v.s, 0) && shows(v.s, 1) && shows(v.s, 2) && !shows(v.s, 3), "the three and no other");
        trust_state_unref(v.s);

        x = writer(&fresh);
        CHECK(!fresh, "reopened as it was");
        revoked_index_counts(x, &sorted, &log);
        CHECK(log == 3, "reopened with its three records");
        CHECK(revoked_index_add(x, w.der[3], (size_t) w.len[3], 2) == 0 &&
              revoked_index_remove(x, w.der[1], (size_t) w.len[1], 2) == 0 && commit(x, 2) == 0,
              "cert 3 added and cert 1 taken off for CRL 2");
        revoked_index_free(x);

        v = view(NULL);
        CHECK(v.s && shows(v.s, 1) && !shows(v.s, 3), "with CRL 1 still in use: the changes for CRL 2 are hidden");
        trust_state_unref(v.s);
        put_crl(2);
        v = view(NULL);
        CHECK(v.s && !shows(v.s, 1) && shows(v.s, 3) && shows(v.s, 0), "with CRL 2: cert 1 gone, cert 3 shown");
        CHECK(v.s && shown_all(v.s) == 3, "a walk over everything shows three");
        trust_state_unref(v.s);

        put_crl(3);
        v = view(NULL);
        CHECK(v.r < 0 && v.why && strcmp(v.why, "crl.der is not a CRL revoked.idx was written for") == 0,
              "a CRL revoked.idx was not written for is refused (%s)", v.why ? v.why : "-");
        trust_state_unref(v.s);
}

static void test_compaction_and_pickup(void) {
        RevokedIndex *x;
        uint64_t sorted, log;
        View v1, v2;

        x = writer(NULL);
        /* not yet told that CRL 2 is out: the removal stays a record */
        CHECK(revoked_index_compact(x) == 0, "compaction");
        revoked_index_counts(x, &sorted, &log);
        CHECK(sorted == 4 && log == 1, "the four in the sorted part, the unpublished removal in the log");
        revoked_index_published(x, 2);
        CHECK(revoked_index_compact(x) == 0, "compaction once CRL 2 is out");
        revoked_index_counts(x, &sorted, &log);
        CHECK(sorted == 3 && log == 0, "three sorted, nothing in the log");
        CHECK(commit(x, 3) == 0, "commit for CRL 3");
        put_crl(3);
        v1 = view(NULL);
        CHECK(v1.s && shows(v1.s, 0) && !shows(v1.s, 1) && shows(v1.s, 2) && shows(v1.s, 3),
              "after compaction the module shows the same");

        for (int i = 10; i < 20; i++)
                revoked_index_add(x, w.der[i], (size_t) w.len[i], 4);
        CHECK(commit(x, 4) == 0, "ten appended for CRL 4");
        put_crl(4);
        v2 = view(v1.s);
        CHECK(v2.s && v2.s->n_log == 10 && shows(v2.s, 15) && shows(v2.s, 0),
              "a consumer that loaded the file picks up the ten appended");
        trust_state_unref(v1.s);
        trust_state_unref(v2.s);

        /* past the log's trigger, publishing starts a compaction in the background */
        for (int i = 20; i < N_CERTS; i++)
                revoked_index_add(x, w.der[i], (size_t) w.len[i], 5);
        commit(x, 5);
        revoked_index_published(x, 4);
        CHECK(revoked_index_wait(x) == 0, "the compaction started by publishing ends well");
        revoked_index_counts(x, &sorted, &log);
        CHECK(sorted == 3 + 10 + N_CERTS - 20 && log == 0, "everything in the sorted part after it");
        revoked_index_free(x);
        put_crl(5);
        v1 = view(NULL);

        CHECK(v1.s && shown_all(v1.s) == 3 + 10 + (N_CERTS - 20), "everything shown after it (%ld, %s)", v1.s ? shown_all(v1.s) : -1L, v1.why ? v1.why : "-");
        trust_state_unref(v1.s);
}

static int open_index_rw(void) {
        char path[512];
        int fd;

        path_of(path, sizeof path, RI_FILE_NAME);
        if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
                exit(2);
        return fd;
}

static void header_in_use(int fd, RiHeader *h, int *slot) {
        RiHeader a, b;

        if (pread(fd, &a, sizeof a, 0) != sizeof a || pread(fd, &b, sizeof b, RI_SLOT_SIZE) != sizeof b)
                exit(2);
        if (b.check == ri_header_check(&b) && (a.check != ri_header_check(&a) || b.seq > a.seq)) {
                *h = b;
                *slot = 1;
        } else {
                *h = a;
                *slot = 0;
        }
}

static void header_write(int fd, RiHeader *h, int slot) {
        h->check = ri_header_check(h);
        if (pwrite(fd, h, sizeof *h, (off_t) slot * RI_SLOT_SIZE) != sizeof *h)
                exit(2);
}

static void test_damage(void) {
        RevokedIndex *x;
        RiHeader h;
        RiRecord rec;
        View v;
        int fd, slot;
        long before;

        reset();
        x = writer(NULL);
        for (int i = 0; i < 8; i++)
                revoked_index_add(x, w.der[i], (size_t) w.len[i], 1);
        commit(x, 1);
        revoked_index_published(x, 1);
        revoked_index_compact(x);
        revoked_index_add(x, w.der[8], (size_t) w.len[8], 1);
        commit(x, 1);
        revoked_index_free(x);
        put_crl(1);
        v = view(NULL);
        before = v.s ? shown_all(v.s) : -1;
        CHECK(before == 9, "nine shown");
        trust_state_unref(v.s);

        /* a torn last record: the header counts one more, its bytes half written */
        fd = open_index_rw();
        header_in_use(fd, &h, &slot);
        memset(&rec, 0x5a, sizeof rec);
        if (pwrite(fd, &rec, sizeof rec / 2, (off_t) ri_record_offset(h.n_sorted + h.n_log)) != sizeof rec / 2)
                exit(2);
        h.n_log++;
        h.seq++;
        header_write(fd, &h, 1 - slot);
        v = view(NULL);
        CHECK(v.r == 0 && v.s && shown_all(v.s) == 9, "a torn last record is ignored, the rest shown");
        trust_state_unref(v.s);

        /* a record of the sorted part whose check fails */
        if (pread(fd, &rec, sizeof rec, (off_t) ri_record_offset(3)) != sizeof rec)
                exit(2);
        rec.length ^= 1;
        if (pwrite(fd, &rec, sizeof rec, (off_t) ri_record_offset(3)) != sizeof rec)
                exit(2);
        v = view(NULL);
        CHECK(v.r == 0 && v.s && shown_all(v.s) == 8, "a sorted record whose check fails is ignored, the rest shown");
        trust_state_unref(v.s);

        /* a header whose counts run past the end of the file */
        header_in_use(fd, &h, &slot);
        h.n_sorted = 1u << 30;
        h.seq++;
        header_write(fd, &h, 1 - slot);
        v = view(NULL);
        CHECK(v.r < 0 && v.bad == FILE_INDEX && v.why && strstr(v.why, "more than the file holds"),
              "a header counting past the file is refused (%s)", v.why ? v.why : "-");
        trust_state_unref(v.s);

        /* both headers damaged */
        memset(&h, 0, sizeof h);
        if (pwrite(fd, &h, sizeof h, 0) != sizeof h || pwrite(fd, &h, sizeof h, RI_SLOT_SIZE) != sizeof h)
                exit(2);
        v = view(NULL);
        CHECK(v.r < 0 && v.bad == FILE_INDEX, "no valid header: refused");
        trust_state_unref(v.s);
        close(fd);

        x = writer(NULL);
        CHECK(x != NULL, "the writer starts a damaged file afresh");
        revoked_index_free(x);
}

/* In the child: appends every certificate in turn, one commit each, and
 * reports each completed one on fd; every 40 a compaction. */
static _Noreturn void append_forever(int fd) {
        RevokedIndex *x = writer(NULL);

        for (int round = 0;; round++)
                for (int i = 0; i < N_CERTS; i++) {
                        if (revoked_index_add(x, w.der[i], (size_t) w.len[i], 1) < 0 ||
                            commit(x, 1) < 0)
                                _exit(3);
                        if (write(fd, &i, sizeof i) != sizeof i)
                                _exit(4);
                        if (i % 40 == 39) {
                                revoked_index_published(x, 1);
                                if (revoked_index_compact(x) < 0)
                                        _exit(5);
                        }
                }
}

static void test_kill(void) {
        int wrong = 0, rounds = 0, max_done = -1;

        reset();
        put_crl(1);
        srand((unsigned) time(NULL));
        for (int k = 0; k < KILL_ROUNDS; k++) {
                int p[2], i, last = -1, status, target;
                pid_t pid;
                View v;
                long n;

                if (pipe2(p, O_CLOEXEC) < 0)
                        exit(2);
                fflush(stdout);
                pid = fork();
                if (pid == 0) {
                        close(p[0]);
                        append_forever(p[1]);
                }
                close(p[1]);
                /* past what earlier rounds appended, then a few ms more:
                 * the kill lands in an append or a compaction, wherever */
                target = max_done + 1 + rand() % 40;
                if (target >= N_CERTS)
                        target = N_CERTS - 1;
                while (last < target && read(p[0], &i, sizeof i) == sizeof i)
                        last = i > last ? i : last;
                usleep((useconds_t) (rand() % 5000));
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                while (read(p[0], &i, sizeof i) == sizeof i)
                        last = i > last ? i : last;
                close(p[0]);
                if (last > max_done)
                        max_done = last;
                v = view(NULL);
                if (v.r < 0 && max_done < 0) {
                        rounds++;
                        continue;
                }
                n = v.s ? shown_all(v.s) : -1;
                /* every append reported shown; none partial; at most the one under way beyond */
                for (i = 0; v.s && i <= max_done; i++)
                        if (!shows(v.s, i))
                                wrong++;
                if (!v.s || n < 0 || n > max_done + 2)
                        wrong++;
                trust_state_unref(v.s);
                rounds++;
        }
        CHECK(rounds == KILL_ROUNDS && wrong == 0 && max_done >= KILL_ROUNDS,
              "a writer killed %d times in appends and compactions: every completed append shown, nothing partial "
              "(%d wrong, %d appended)", rounds, wrong, max_done + 1);
}

int main(void) {
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return 2;
        }
        world_init();
        test_append_remove_reopen();
        test_compaction_and_pickup();
        test_damage();
        test_kill();

        {
                char cmd[600];

                snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", dir);
                if (system(cmd) != 0)
                        return 2;
        }
        for (int i = 0; i < N_CERTS; i++) {
                X509_free(w.certs[i]);
                OPENSSL_free(w.der[i]);
        }
        OPENSSL_free(w.ca_der);
        for (int i = 0; i < MAX_CRLS; i++)
                OPENSSL_free(crls[i].der);
        X509_free(w.ca);
        EVP_PKEY_free(w.ca_key);
        EVP_PKEY_free(w.user_key);
        return CHECK_EXIT();
}
