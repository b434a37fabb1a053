/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The trust module through its function list, on files made here with
 * OpenSSL: what it shows, the PKCS#11 rules it keeps, reloads, bad sets,
 * concurrency; and its DER and certificate readers on their own. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "certgen.h"
#include "check.h"
#include "module.h"
#include "revoked-index.h"
#include "state.h"
#include "util.h"
/* after pkcs11.h (through state.h), which it extends */
#include <p11-kit/pkcs11x.h>

#define NOW 1700000000L
#define LATER 2200000000L

static char dir[] = "/tmp/certrevoke-test-module-XXXXXX";
static CK_FUNCTION_LIST *F;

typedef struct World {
        EVP_PKEY *ca_key, *other_key, *user_key;
        X509 *ca, *other_ca;
        X509 *alice, *bob, *carol, *dave;       /* dave: the other CA's, alice's serial */
        long crl_number;
        /* the CRL revoked.idx was last written for, to be published next */
        unsigned char *next_crl;
        int next_crl_len;
        long next_crl_number;
} World;

static World w;

/* ---------------------------------------------------------------- fixtures */

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
        X509V3_CTX ctx;
        X509_EXTENSION *e;

        X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
        e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
}

static X509 *make_ca(EVP_PKEY *key, const char *cn) {
        X509 *x = gen_cert(key, NULL, cn, 1, NOW - 86400, LATER, NULL, NULL);

        add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
        X509_sign(x, key, EVP_sha256());
        return x;
}

static void put_file(const char *name, const void *data, size_t len) {
        char tmp_path[512], path[512];
        int fd;

        snprintf(tmp_path, sizeof tmp_path, "%s/.%s.tmp", dir, name);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, data, len) != (ssize_t) len || close(fd) < 0 || rename(tmp_path, path) < 0) {
                perror(path);
                exit(2);
        }
}

static void remove_file(const char *name) {
        char path[512];

        snprintf(path, sizeof path, "%s/%s", dir, name);
        unlink(path);
}

static void put_ca(X509 *ca) {
        BIO *b = BIO_new(BIO_s_mem());
        char *p;
        long len;

        PEM_write_bio_X509(b, ca);
        len = BIO_get_mem_data(b, &p);
        put_file("ca.pem", p, (size_t) len);
        BIO_free(b);
}

/* A v2 CRL of issuer listing the serials of certs, signed with key. */
static int make_crl(X509 *issuer, EVP_PKEY *key, X509 **certs, size_t n, long number, unsigned char **ret) {
        X509_CRL *crl = X509_CRL_new();
        ASN1_TIME *t = ASN1_TIME_set(NULL, NOW);
        ASN1_INTEGER *num = ASN1_INTEGER_new();
        int len;

        X509_CRL_set_version(crl, 1);
        X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
        X509_CRL_set1_lastUpdate(crl, t);
        X509_CRL_set1_nextUpdate(crl, t);
        for (size_t i = 0; i < n; i++) {
                X509_REVOKED *r = X509_REVOKED_new();

                X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(certs[i]));
                X509_REVOKED_set_revocationDate(r, t);
                X509_CRL_add0_revoked(crl, r);
        }
        ASN1_INTEGER_set(num, number);
        X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0);
        X509_CRL_sort(crl);
        X509_CRL_sign(crl, key, EVP_sha256());
        *ret = NULL;
        len = i2d_X509_CRL(crl, ret);
        ASN1_INTEGER_free(num);
        ASN1_TIME_free(t);
        X509_CRL_free(crl);
        return len;
}

/* A CRL revoked.idx was not written for. */
static void put_crl_signed(X509 *issuer, EVP_PKEY *key, X509 **certs, size_t n, long number) {
        unsigned char *der = NULL;
        int len = make_crl(issuer, key, certs, n, number, &der);

        put_file("crl.der", der, (size_t) len);
        OPENSSL_free(der);
}

/* The next CRL, as the daemon publishes it: the one revoked.idx was
 * written for when there is one, else one it does not know. */
static void put_crl(X509 **certs, size_t n) {
        w.crl_number++;
        if (w.next_crl && w.next_crl_number == w.crl_number) {
                put_file("crl.der", w.next_crl, (size_t) w.next_crl_len);
                return;
        }
        put_crl_signed(w.ca, w.ca_key, certs, n, w.crl_number);
}

/* revoked.idx as certrevoked leaves it before the next CRL: certs listed,
 * those new to it appended for CRL number crl_number + 1, those gone taken
 * off from that number on. */
static void put_revoked(X509 **certs, size_t n) {
        unsigned char *ca_der = NULL;
        int ca_len = i2d_X509(w.ca, &ca_der), dir_fd, r = 0;
        RevokedIndex *x = NULL;
        bool fresh;

        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0 || revoked_index_open(dir_fd, ca_der, (size_t) ca_len, &x, &fresh) < 0) {
                perror("revoked.idx");
                exit(2);
        }
        /* the CRL to come is signed first: revoked.idx names it */
        OPENSSL_free(w.next_crl);
        w.next_crl_number = w.crl_number + 1;
        w.next_crl_len = make_crl(w.ca, w.ca_key, certs, n, w.next_crl_number, &w.next_crl);
        revoked_index_sync_begin(x);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                unsigned char *der = NULL;
                int l = i2d_X509(certs[i], &der);

                r = revoked_index_sync_entry(x, der, (size_t) l, (uint64_t) w.crl_number + 1);
                OPENSSL_free(der);
        }
        if (revoked_index_sync_end(x, (uint64_t) w.crl_number + 1, w.next_crl, (size_t) w.next_crl_len, r) < 0) {
                fprintf(stderr, "revoked.idx not written\n");
                exit(2);
        }
        revoked_index_free(x);
        close(dir_fd);
        OPENSSL_free(ca_der);
}

static void world_init(void) {
        w.ca_key = gen_key();
        w.other_key = gen_key();
        w.user_key = gen_key();
        w.ca = make_ca(w.ca_key, "Test CA");
        w.other_ca = make_ca(w.other_key, "Other CA");
        w.alice = gen_cert(w.user_key, "alice", "Alice", 0x1001, NOW, LATER, w.ca, w.ca_key);
        add_ext(w.alice, w.ca, NID_subject_key_identifier, "hash");
        X509_sign(w.alice, w.ca_key, EVP_sha256());
        /* a serial with the high bit set: DER puts a 0x00 before it */
        w.bob = gen_cert(w.user_key, NULL, "bob", 0x80f2, NOW, LATER, w.ca, w.ca_key);
        w.carol = gen_cert(w.user_key, "carol", "Carol", 0x1003, NOW, LATER, w.ca, w.ca_key);
        w.dave = gen_cert(w.user_key, "dave", "Dave", 0x1001, NOW, LATER, w.other_ca, w.other_key);
}

/* The standard set: alice and bob revoked and listed, carol appended to
 * revoked.idx for a CRL not yet published, dave from another CA, and a
 * listed serial without a certificate. */
static void put_standard_set(void) {
        X509 *extra = gen_cert(w.user_key, "ghost", "Ghost", 0x1004, NOW, LATER, w.ca, w.ca_key);

        put_ca(w.ca);
        put_revoked((X509 *[]) { w.alice, w.bob, w.dave }, 3);
        put_crl((X509 *[]) { w.alice, w.bob, w.dave, extra }, 4);
        put_revoked((X509 *[]) { w.alice, w.bob, w.carol, w.dave }, 4);
        X509_free(extra);
}

/* ---------------------------------------------------------------- PKCS#11 helpers */

static CK_SESSION_HANDLE open_session(void) {
        CK_SESSION_HANDLE h = 0;
        CK_RV rv = F->C_OpenSession(MODULE_SLOT_ID, CKF_SERIAL_SESSION, NULL, NULL, &h);

        CHECK(rv == CKR_OK, "C_OpenSession (rv 0x%lx)", rv);
        return h;
}

/* Runs a whole find; returns the number of objects, their handles in out. */
static CK_ULONG find(CK_SESSION_HANDLE h, CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *out, CK_ULONG max) {
        CK_OBJECT_HANDLE buf[4096];
        CK_ULONG total = 0, got;
        CK_RV rv;

        if ((rv = F->C_FindObjectsInit(h, tmpl, n)) != CKR_OK) {
                CHECK(0, "C_FindObjectsInit (rv 0x%lx)", rv);
                return 0;
        }
        /* small batches: the find must resume where it stopped */
        do {
                got = 0;
                rv = F->C_FindObjects(h, buf, 3, &got);
                for (CK_ULONG i = 0; i < got; i++)
                        if (out && total + i < max)
                                out[total + i] = buf[i];
                total += got;
        } while (rv == CKR_OK && got > 0);
        F->C_FindObjectsFinal(h);
        return total;
}

static CK_ULONG find_class(CK_SESSION_HANDLE h, CK_OBJECT_CLASS cls) {
        CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof cls } };

        return find(h, t, 1, NULL, 0);
}

static CK_ULONG find_distrusted(CK_SESSION_HANDLE h) {
        CK_BBOOL yes = CK_TRUE;
        CK_ATTRIBUTE t[] = { { CKA_X_DISTRUSTED, &yes, sizeof yes } };

        return find(h, t, 1, NULL, 0);
}

static int der_of_name(const X509_NAME *n, unsigned char **ret) {
        *ret = NULL;
        return i2d_X509_NAME(n, ret);
}

static int der_of_serial(X509 *x, unsigned char **ret) {
        *ret = NULL;
        return i2d_ASN1_INTEGER(X509_get0_serialNumber(x), ret);
}

/* The handle of cert's object of class cls, found by issuer and serial; 0 if none. */
static CK_OBJECT_HANDLE find_by_issuer_serial(CK_SESSION_HANDLE h, X509 *cert, CK_OBJECT_CLASS cls, CK_ULONG *count) {
        unsigned char *issuer, *serial;
        int il = der_of_name(X509_get_issuer_name(cert), &issuer);
        int sl = der_of_serial(cert, &serial);
        CK_ATTRIBUTE t[] = {
                { CKA_CLASS, &cls, sizeof cls },
                { CKA_ISSUER, issuer, (CK_ULONG) il },
                { CKA_SERIAL_NUMBER, serial, (CK_ULONG) sl },
        };
        CK_OBJECT_HANDLE o[4] = {};
        CK_ULONG n = find(h, t, 3, o, 4);

        if (count)
                *count = n;
        OPENSSL_free(issuer);
        OPENSSL_free(serial);
        return n == 1 ? o[0] : 0;
}

static CK_RV get_attr(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type, void *buf, CK_ULONG *len) {
        CK_ATTRIBUTE a = { type, buf, *len };
        CK_RV rv = F->C_GetAttributeValue(h, o, &a, 1);

        *len = a.ulValueLen;
        return rv;
}

static CK_ULONG get_ulong(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type) {
        CK_ULONG v = 0xdead, len = sizeof v;

        return get_attr(h, o, type, &v, &len) == CKR_OK && len == sizeof v ? v : 0xdead;
}

static int get_bool(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type) {
        CK_BBOOL v = 0xff;
        CK_ULONG len = sizeof v;

        return get_attr(h, o, type, &v, &len) == CKR_OK && len == 1 ? v : -1;
}

static char *get_label(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o) {
        static char buf[256];
        CK_ULONG len = sizeof buf - 1;

        if (get_attr(h, o, CKA_LABEL, buf, &len) != CKR_OK)
                return NULL;
        buf[len] = 0;
        return buf;
}

static void init_module(void) {
        CK_RV rv = F->C_Initialize(NULL);

        CHECK(rv == CKR_OK, "C_Initialize (rv 0x%lx)", rv);
}

/* ---------------------------------------------------------------- tests */

static CK_RV dummy_mutex(void *m) {
        (void) m;
        return CKR_OK;
}

static CK_RV dummy_create(void **m) {
        *m = NULL;
        return CKR_OK;
}

static void test_initialize(void) {
        CK_C_INITIALIZE_ARGS some = { .CreateMutex = dummy_create, .LockMutex = dummy_mutex };
        CK_C_INITIALIZE_ARGS caller_only = {
                .CreateMutex = dummy_create, .DestroyMutex = dummy_mutex,
                .LockMutex = dummy_mutex, .UnlockMutex = dummy_mutex,
        };
        CK_C_INITIALIZE_ARGS both = caller_only, os = { .flags = CKF_OS_LOCKING_OK };
        CK_C_INITIALIZE_ARGS reserved = { .pReserved = "configdir='x'" };
        CK_ULONG count = 0;
        CK_INFO info;
        int x;

        both.flags = CKF_OS_LOCKING_OK;
        CHECK(F->C_GetSlotList(CK_TRUE, NULL, &count) == CKR_CRYPTOKI_NOT_INITIALIZED,
              "before C_Initialize: CKR_CRYPTOKI_NOT_INITIALIZED");
        CHECK(F->C_GetInfo(&info) == CKR_CRYPTOKI_NOT_INITIALIZED, "C_GetInfo before C_Initialize");
        CHECK(F->C_Finalize(NULL) == CKR_CRYPTOKI_NOT_INITIALIZED, "C_Finalize before C_Initialize");
        CHECK(F->C_Initialize(&some) == CKR_ARGUMENTS_BAD, "some mutex functions but not all: CKR_ARGUMENTS_BAD");
        CHECK(F->C_Initialize(&caller_only) == CKR_CANT_LOCK, "only the caller's mutexes: CKR_CANT_LOCK");
        CHECK(F->C_Initialize(&both) == CKR_OK, "the caller's mutexes and CKF_OS_LOCKING_OK");
        CHECK(F->C_Initialize(NULL) == CKR_CRYPTOKI_ALREADY_INITIALIZED, "twice: CKR_CRYPTOKI_ALREADY_INITIALIZED");
        CHECK(F->C_Finalize(&x) == CKR_ARGUMENTS_BAD, "C_Finalize with pReserved: CKR_ARGUMENTS_BAD");
        CHECK(F->C_Finalize(NULL) == CKR_OK, "C_Finalize");
        CHECK(F->C_Initialize(&os) == CKR_OK, "CKF_OS_LOCKING_OK alone");
        CHECK(F->C_Finalize(NULL) == CKR_OK, "C_Finalize");
        CHECK(F->C_Initialize(&reserved) == CKR_OK, "pReserved from NSS or p11-kit is tolerated");
        CHECK(F->C_Finalize(NULL) == CKR_OK, "C_Finalize");
}

static void test_info(void) {
        CK_SLOT_ID slots[2] = { 99, 99 };
        CK_ULONG count = 0;
        CK_INFO info;
        CK_SLOT_INFO si;
        CK_TOKEN_INFO ti;

        init_module();
        CHECK(F->C_GetInfo(&info) == CKR_OK && memcmp(info.manufacturerID, "PKCS#11 Kit", 11) == 0,
              "the library manufacturer starts with \"PKCS#11 Kit\" (GnuTLS reads distrust only then)");
        CHECK(info.cryptokiVersion.major == 2 && info.cryptokiVersion.minor == 40, "Cryptoki 2.40");
        CHECK(F->C_GetSlotList(CK_TRUE, NULL, &count) == CKR_OK && count == 1, "one slot");
        count = 0;
        CHECK(F->C_GetSlotList(CK_TRUE, slots, &count) == CKR_BUFFER_TOO_SMALL && count == 1,
              "C_GetSlotList into no room: CKR_BUFFER_TOO_SMALL, count 1");
        count = 2;
        CHECK(F->C_GetSlotList(CK_FALSE, slots, &count) == CKR_OK && count == 1 && slots[0] == MODULE_SLOT_ID,
              "the slot's ID");
        CHECK(F->C_GetSlotInfo(MODULE_SLOT_ID, &si) == CKR_OK && (si.flags & CKF_TOKEN_PRESENT) &&
                      !(si.flags & CKF_REMOVABLE_DEVICE),
              "the token is present, not removable");
        CHECK(F->C_GetSlotInfo(MODULE_SLOT_ID + 1, &si) == CKR_SLOT_ID_INVALID, "another slot ID: CKR_SLOT_ID_INVALID");
        CHECK(F->C_GetTokenInfo(MODULE_SLOT_ID, &ti) == CKR_OK, "C_GetTokenInfo");
        CHECK(memcmp(ti.label, "certrevoke                      ", 32) == 0, "token label \"certrevoke\", space-padded");
        CHECK((ti.flags & CKF_WRITE_PROTECTED) && (ti.flags & CKF_TOKEN_INITIALIZED) &&
                      !(ti.flags & CKF_LOGIN_REQUIRED),
              "write-protected, initialized, no login");
        count = 5;
        CHECK(F->C_GetMechanismList(MODULE_SLOT_ID, NULL, &count) == CKR_OK && count == 0, "no mechanisms");
        F->C_Finalize(NULL);
}

static void test_sessions(void) {
        CK_SESSION_HANDLE h = 0, h2;
        CK_SESSION_INFO info;
        CK_BYTE buf[16];
        CK_ULONG len = sizeof buf;
        CK_MECHANISM mech = { CKM_SHA256, NULL, 0 };
        CK_OBJECT_HANDLE o;
        CK_ATTRIBUTE a = { CKA_LABEL, buf, 1 };
        CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
        CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof cls };

        init_module();
        CHECK(F->C_OpenSession(MODULE_SLOT_ID, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h) ==
                      CKR_TOKEN_WRITE_PROTECTED,
              "a read-write session: CKR_TOKEN_WRITE_PROTECTED");
        CHECK(F->C_OpenSession(MODULE_SLOT_ID, 0, NULL, NULL, &h) == CKR_SESSION_PARALLEL_NOT_SUPPORTED,
              "without CKF_SERIAL_SESSION: CKR_SESSION_PARALLEL_NOT_SUPPORTED");
        CHECK(F->C_OpenSession(7, CKF_SERIAL_SESSION, NULL, NULL, &h) == CKR_SLOT_ID_INVALID, "bad slot");
        h = open_session();
        h2 = open_session();
        CHECK(h != h2, "two sessions, two handles");
        CHECK(F->C_GetSessionInfo(h, &info) == CKR_OK && info.state == CKS_RO_PUBLIC_SESSION &&
                      info.slotID == MODULE_SLOT_ID,
              "a read-only public session");
        CHECK(F->C_Login(h, CKU_USER, (CK_UTF8CHAR *) "1234", 4) == CKR_USER_TYPE_INVALID, "C_Login: CKR_USER_TYPE_INVALID");
        CHECK(F->C_Logout(h) == CKR_USER_NOT_LOGGED_IN, "C_Logout: CKR_USER_NOT_LOGGED_IN");
        CHECK(F->C_DigestInit(h, &mech) == CKR_FUNCTION_NOT_SUPPORTED, "C_DigestInit: not supported");
        CHECK(F->C_GenerateRandom(h, buf, sizeof buf) == CKR_FUNCTION_NOT_SUPPORTED, "C_GenerateRandom: not supported");
        CHECK(F->C_SignInit(h, &mech, 1) == CKR_FUNCTION_NOT_SUPPORTED, "C_SignInit: not supported");
        CHECK(F->C_InitToken(MODULE_SLOT_ID, NULL, 0, buf) == CKR_FUNCTION_NOT_SUPPORTED, "C_InitToken: not supported");
        CHECK(F->C_GetOperationState(h, buf, &len) == CKR_FUNCTION_NOT_SUPPORTED, "C_GetOperationState: not supported");
        CHECK(F->C_CreateObject(h, &a, 1, &o) == CKR_TOKEN_WRITE_PROTECTED, "C_CreateObject: CKR_TOKEN_WRITE_PROTECTED");
        CHECK(F->C_DestroyObject(h, 123456) == CKR_OBJECT_HANDLE_INVALID, "C_DestroyObject of no object");
        CHECK(F->C_FindObjects(h, &o, 1, &len) == CKR_OPERATION_NOT_INITIALIZED, "C_FindObjects without init");
        CHECK(F->C_FindObjectsFinal(h) == CKR_OPERATION_NOT_INITIALIZED, "C_FindObjectsFinal without init");
        CHECK(F->C_FindObjectsInit(h, &t, 1) == CKR_OK, "C_FindObjectsInit");
        CHECK(F->C_FindObjectsInit(h, &t, 1) == CKR_OPERATION_ACTIVE, "a second find in the session: CKR_OPERATION_ACTIVE");
        CHECK(F->C_FindObjectsInit(h2, &t, 1) == CKR_OK, "a find in another session meanwhile");
        CHECK(F->C_FindObjectsFinal(h) == CKR_OK && F->C_FindObjectsFinal(h2) == CKR_OK, "both end");
        CHECK(F->C_CloseSession(h) == CKR_OK, "C_CloseSession");
        CHECK(F->C_CloseSession(h) == CKR_SESSION_HANDLE_INVALID, "closed twice: CKR_SESSION_HANDLE_INVALID");
        /* a find left open is ended by C_CloseAllSessions */
        CHECK(F->C_FindObjectsInit(h2, &t, 1) == CKR_OK, "a find left open");
        CHECK(F->C_CloseAllSessions(MODULE_SLOT_ID) == CKR_OK, "C_CloseAllSessions");
        CHECK(F->C_GetSessionInfo(h2, &info) == CKR_SESSION_HANDLE_INVALID, "its sessions are gone");
        F->C_Finalize(NULL);
}

static void test_objects(void) {
        CK_SESSION_HANDLE h;
        CK_OBJECT_HANDLE alice, alice_trust, bob, ca, ca_trust, o;
        CK_ULONG n, len;
        unsigned char buf[4096], *der;
        int dl;
        char want[128];

        put_standard_set();
        init_module();
        h = open_session();
        CHECK(find_class(h, CKO_CERTIFICATE) == 3, "three certificates: the CA, alice and bob");
        CHECK(find_class(h, CKO_NSS_TRUST) == 3, "three NSS trust objects");
        CHECK(find_class(h, CKO_X_CERTIFICATE_EXTENSION) == 0, "no objects of another class");
        CHECK(find(h, NULL, 0, NULL, 0) == 6, "six objects with an empty template");
        CHECK(find_distrusted(h) == 2, "two distrusted certificates");

        alice = find_by_issuer_serial(h, w.alice, CKO_CERTIFICATE, &n);
        CHECK(alice && n == 1, "alice's certificate by issuer and serial");
        alice_trust = find_by_issuer_serial(h, w.alice, CKO_NSS_TRUST, &n);
        CHECK(alice_trust && n == 1 && alice_trust != alice, "alice's NSS trust object by issuer and serial");
        bob = find_by_issuer_serial(h, w.bob, CKO_CERTIFICATE, &n);
        CHECK(bob && n == 1, "bob (serial with a sign octet)");
        ca = find_by_issuer_serial(h, w.ca, CKO_CERTIFICATE, &n);
        CHECK(ca && n == 1, "the CA");
        ca_trust = find_by_issuer_serial(h, w.ca, CKO_NSS_TRUST, &n);
        find_by_issuer_serial(h, w.carol, CKO_CERTIFICATE, &n);
        CHECK(n == 0, "carol: appended to revoked.idx, not on the CRL yet: not shown");
        find_by_issuer_serial(h, w.dave, CKO_CERTIFICATE, &n);
        CHECK(n == 0, "dave: another CA's certificate with a listed serial: not shown");

        /* values */
        CHECK(get_bool(h, alice, CKA_X_DISTRUSTED) == CK_TRUE && get_bool(h, alice, CKA_TRUSTED) == CK_FALSE,
              "alice: CKA_X_DISTRUSTED true, CKA_TRUSTED false");
        CHECK(get_bool(h, ca, CKA_X_DISTRUSTED) == CK_FALSE && get_bool(h, ca, CKA_TRUSTED) == CK_TRUE,
              "the CA: CKA_TRUSTED true, not distrusted");
        CHECK(get_ulong(h, ca, CKA_CERTIFICATE_CATEGORY) == 2, "the CA: category authority");
        CHECK(get_ulong(h, alice, CKA_CERTIFICATE_CATEGORY) == 3, "alice: category other entity");
        CHECK(get_ulong(h, alice, CKA_CERTIFICATE_TYPE) == CKC_X_509, "CKC_X_509");
        CHECK(get_bool(h, alice, CKA_TOKEN) == CK_TRUE && get_bool(h, alice, CKA_PRIVATE) == CK_FALSE &&
                      get_bool(h, alice, CKA_MODIFIABLE) == CK_FALSE,
              "token object, public, not modifiable");
        len = sizeof buf;
        dl = cert_der(w.alice, &der);
        CHECK(get_attr(h, alice, CKA_VALUE, buf, &len) == CKR_OK && len == (CK_ULONG) dl && memcmp(buf, der, len) == 0,
              "alice: CKA_VALUE is the whole DER");
        OPENSSL_free(der);
        len = sizeof buf;
        dl = der_of_serial(w.bob, &der);
        CHECK(get_attr(h, bob, CKA_SERIAL_NUMBER, buf, &len) == CKR_OK && len == (CK_ULONG) dl &&
                      memcmp(buf, der, len) == 0 && buf[0] == 0x02 && buf[2] == 0x00,
              "bob: CKA_SERIAL_NUMBER is the DER INTEGER, sign octet included");
        OPENSSL_free(der);
        len = sizeof buf;
        der = NULL;
        dl = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(w.alice), &der);
        CHECK(get_attr(h, alice, CKA_PUBLIC_KEY_INFO, buf, &len) == CKR_OK && len == (CK_ULONG) dl &&
                      memcmp(buf, der, len) == 0,
              "alice: CKA_PUBLIC_KEY_INFO");
        OPENSSL_free(der);
        len = sizeof buf;
        dl = der_of_name(X509_get_subject_name(w.alice), &der);
        CHECK(get_attr(h, alice, CKA_SUBJECT, buf, &len) == CKR_OK && len == (CK_ULONG) dl && memcmp(buf, der, len) == 0,
              "alice: CKA_SUBJECT");
        OPENSSL_free(der);
        len = sizeof buf;
        {
                const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(w.alice);

                CHECK(get_attr(h, alice, CKA_ID, buf, &len) == CKR_OK && ski &&
                              len == (CK_ULONG) ASN1_STRING_length(ski) &&
                              memcmp(buf, ASN1_STRING_get0_data(ski), len) == 0,
                      "alice: CKA_ID is the subject key identifier");
        }
        len = sizeof buf;
        CHECK(get_attr(h, bob, CKA_ID, buf, &len) == CKR_OK && len == 20, "bob (no SKI): CKA_ID is a SHA-1 of the key");
        CHECK_STREQ(get_label(h, alice), "alice revoked 1001", "alice's label names login and serial");
        CHECK_STREQ(get_label(h, bob), "bob revoked 80F2", "bob's label: the login from the CN");
        CHECK_STREQ(get_label(h, ca), "Test CA", "the CA's label is its CN");
        CHECK_STREQ(get_label(h, alice_trust), "alice revoked 1001", "the trust object has the same label");

        /* NSS trust */
        CHECK(get_ulong(h, alice_trust, CKA_CLASS) == CKO_NSS_TRUST, "CKO_NSS_TRUST");
        CHECK(get_ulong(h, alice_trust, CKA_TRUST_SERVER_AUTH) == CKT_NSS_NOT_TRUSTED &&
                      get_ulong(h, alice_trust, CKA_TRUST_CLIENT_AUTH) == CKT_NSS_NOT_TRUSTED &&
                      get_ulong(h, alice_trust, CKA_TRUST_EMAIL_PROTECTION) == CKT_NSS_NOT_TRUSTED &&
                      get_ulong(h, alice_trust, CKA_TRUST_CODE_SIGNING) == CKT_NSS_NOT_TRUSTED,
              "alice: not trusted for any purpose");
        CHECK(ca_trust && get_ulong(h, ca_trust, CKA_TRUST_SERVER_AUTH) == CKT_NSS_TRUSTED_DELEGATOR &&
                      get_ulong(h, ca_trust, CKA_TRUST_CLIENT_AUTH) == CKT_NSS_TRUSTED_DELEGATOR,
              "the CA: trusted delegator");
        CHECK(get_bool(h, alice_trust, CKA_TRUST_STEP_UP_APPROVED) == CK_FALSE, "no step-up");
        len = sizeof buf;
        dl = cert_der(w.alice, &der);
        {
                unsigned char sha1[20];

                SHA1(der, (size_t) dl, sha1);
                CHECK(get_attr(h, alice_trust, CKA_CERT_SHA1_HASH, buf, &len) == CKR_OK && len == 20 &&
                              memcmp(buf, sha1, 20) == 0,
                      "CKA_CERT_SHA1_HASH is the certificate's SHA-1 (NSS compares it)");
                len = sizeof buf;
                CHECK(get_attr(h, alice, CKA_CHECK_VALUE, buf, &len) == CKR_OK && len == 3 && memcmp(buf, sha1, 3) == 0,
                      "CKA_CHECK_VALUE: the first three octets of the SHA-1");
        }
        OPENSSL_free(der);
        len = sizeof buf;
        CHECK(get_attr(h, alice_trust, CKA_VALUE, buf, &len) == CKR_ATTRIBUTE_TYPE_INVALID &&
                      len == CK_UNAVAILABLE_INFORMATION,
              "the trust object has no CKA_VALUE");

        /* subject lookup, and a template value of the wrong size */
        {
                int sl = der_of_name(X509_get_subject_name(w.alice), &der);
                CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
                CK_BBOOL yes = CK_TRUE;
                CK_ATTRIBUTE t[] = { { CKA_SUBJECT, der, (CK_ULONG) sl }, { CKA_CLASS, &cls, sizeof cls } };
                CK_ATTRIBUTE odd[] = { { CKA_CLASS, &yes, sizeof yes } };

                CHECK(find(h, t, 2, &o, 1) == 1 && o == alice, "alice's certificate by subject");
                CHECK(find(h, t, 1, NULL, 0) == 1, "by subject alone: only certificates have one");
                CHECK(find(h, odd, 1, NULL, 0) == 0, "a CKA_CLASS of the wrong size matches nothing");
                OPENSSL_free(der);
        }
        snprintf(want, sizeof want, "alice revoked 1001");
        {
                CK_ATTRIBUTE t[] = { { CKA_LABEL, want, (CK_ULONG) strlen(want) } };

                CHECK(find(h, t, 1, NULL, 0) == 2, "by label: alice's certificate and trust object");
        }
        CHECK(F->C_GetObjectSize(h, alice, &len) == CKR_OK && len > 0, "C_GetObjectSize");
        CHECK(F->C_DestroyObject(h, alice) == CKR_TOKEN_WRITE_PROTECTED, "C_DestroyObject: CKR_TOKEN_WRITE_PROTECTED");
        CHECK(F->C_SetAttributeValue(h, alice, NULL, 0) == CKR_TOKEN_WRITE_PROTECTED, "C_SetAttributeValue: write-protected");
        F->C_Finalize(NULL);
}

/* PKCS#11 v2.40 5.7: every template entry processed, whatever the others gave. */
static void test_get_attribute_value(void) {
        CK_SESSION_HANDLE h;
        CK_OBJECT_HANDLE alice;
        CK_OBJECT_CLASS cls = 0;
        CK_BBOOL distrusted = 0;
        unsigned char small[4], big[4096];
        CK_ULONG value_len;

        put_standard_set();
        init_module();
        h = open_session();
        alice = find_by_issuer_serial(h, w.alice, CKO_CERTIFICATE, NULL);
        {
                CK_ATTRIBUTE t[] = {
                        { CKA_CLASS, &cls, sizeof cls },
                        { CKA_VALUE, NULL, 0 },
                        { CKA_MODULUS, big, sizeof big },
                        { CKA_X_DISTRUSTED, &distrusted, sizeof distrusted },
                };
                CK_RV rv = F->C_GetAttributeValue(h, alice, t, 4);

                CHECK(rv == CKR_ATTRIBUTE_TYPE_INVALID, "an attribute the object lacks: CKR_ATTRIBUTE_TYPE_INVALID");
                CHECK(cls == CKO_CERTIFICATE, "the entry before it is filled in");
                CHECK(t[1].ulValueLen > 100 && t[1].ulValueLen != CK_UNAVAILABLE_INFORMATION, "a NULL pValue gets the length");
                CHECK(t[2].ulValueLen == CK_UNAVAILABLE_INFORMATION, "the missing one: CK_UNAVAILABLE_INFORMATION");
                CHECK(distrusted == CK_TRUE, "the entry after it is filled in");
                value_len = t[1].ulValueLen;
        }
        {
                CK_ATTRIBUTE t[] = {
                        { CKA_VALUE, small, sizeof small },
                        { CKA_X_DISTRUSTED, &distrusted, sizeof distrusted },
                        { CKA_VALUE, big, value_len },
                };
                CK_RV rv;

                distrusted = 0;
                rv = F->C_GetAttributeValue(h, alice, t, 3);
                CHECK(rv == CKR_BUFFER_TOO_SMALL, "a buffer too small: CKR_BUFFER_TOO_SMALL");
                CHECK(t[0].ulValueLen == CK_UNAVAILABLE_INFORMATION, "its length: CK_UNAVAILABLE_INFORMATION");
                CHECK(distrusted == CK_TRUE && t[2].ulValueLen == value_len, "the others are filled in");
        }
        {
                CK_ATTRIBUTE t[] = { { CKA_CLASS, small, sizeof(CK_OBJECT_CLASS) - 1 } };

                CHECK(F->C_GetAttributeValue(h, alice, t, 1) == CKR_BUFFER_TOO_SMALL, "a CK_ULONG into less room");
        }
        CHECK(F->C_GetAttributeValue(h, 987654, NULL, 0) == CKR_OBJECT_HANDLE_INVALID, "an unknown handle");
        CHECK(F->C_GetAttributeValue(h, alice, NULL, 1) == CKR_ARGUMENTS_BAD, "a NULL template with a count");
        CHECK(F->C_GetAttributeValue(h, alice, NULL, 0) == CKR_OK, "an empty template");
        F->C_Finalize(NULL);
}

static void test_reload(void) {
        CK_SESSION_HANDLE h;
        CK_OBJECT_HANDLE alice, alice2, bob;
        CK_ULONG n, count;
        CK_BYTE b;

        put_standard_set();
        init_module();
        h = open_session();
        alice = find_by_issuer_serial(h, w.alice, CKO_CERTIFICATE, NULL);
        bob = find_by_issuer_serial(h, w.bob, CKO_CERTIFICATE, NULL);
        CHECK(alice && bob && find_distrusted(h) == 2, "alice and bob");

        /* carol revoked: the daemon appends to revoked.idx first, then writes the CRL */
        put_revoked((X509 *[]) { w.alice, w.bob, w.carol }, 3);
        CHECK(find_distrusted(h) == 2, "carol in revoked.idx, not yet on the CRL: not shown");
        put_crl((X509 *[]) { w.alice, w.bob, w.carol }, 3);
        CHECK(find_distrusted(h) == 3, "on the CRL too: carol is shown, with no restart");
        alice2 = find_by_issuer_serial(h, w.alice, CKO_CERTIFICATE, NULL);
        CHECK(alice2 == alice, "alice keeps her handle across the reload");
        n = sizeof b;
        CHECK(get_attr(h, bob, CKA_X_DISTRUSTED, &b, &n) == CKR_OK, "an old handle still works");

        /* bad sets keep the last good one */
        put_crl_signed(w.ca, w.other_key, (X509 *[]) { w.alice }, 1, ++w.crl_number);
        CHECK(find_distrusted(h) == 3, "a CRL signed by another key: the last good set stays");
        put_crl_signed(w.other_ca, w.other_key, (X509 *[]) { w.alice }, 1, ++w.crl_number);
        CHECK(find_distrusted(h) == 3, "another CA's CRL: the last good set stays");
        put_file("crl.der", "\x30\x03\x02\x01\x01", 5);
        CHECK(find_distrusted(h) == 3, "a CRL that does not parse: the last good set stays");
        remove_file("crl.der");
        CHECK(find_distrusted(h) == 3, "no CRL: the last good set stays");
        put_crl_signed(w.ca, w.ca_key, (X509 *[]) { w.alice }, 1, 1);
        CHECK(find_distrusted(h) == 3, "an older CRL (lower number), validly signed: refused");
        put_revoked((X509 *[]) { w.alice, w.bob, w.carol }, 3);
        put_crl((X509 *[]) { w.alice, w.bob, w.carol }, 3);
        CHECK(find_distrusted(h) == 3, "revoked.idx complete for the new CRL: taken");
        put_file(RI_FILE_NAME, "CRVKIDX\n\x01", 9);
        CHECK(find_distrusted(h) == 3, "revoked.idx cut short: the last good set stays");
        put_file("ca.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 58);
        CHECK(find_distrusted(h) == 3, "a broken ca.pem: the last good set stays");

        /* a good set again, without bob */
        put_ca(w.ca);
        remove_file(RI_FILE_NAME);
        put_revoked((X509 *[]) { w.alice, w.carol }, 2);
        put_crl((X509 *[]) { w.alice, w.carol }, 2);
        CHECK(find_distrusted(h) == 2, "a good set again is taken");
        n = sizeof b;
        CHECK(get_attr(h, bob, CKA_X_DISTRUSTED, &b, &n) == CKR_OBJECT_HANDLE_INVALID,
              "bob's handle is invalid once bob is gone");

        /* C_GetSlotList notices changes as well */
        put_revoked((X509 *[]) { w.alice, w.bob, w.carol }, 3);
        put_crl((X509 *[]) { w.alice, w.bob, w.carol }, 3);
        CHECK(F->C_GetSlotList(CK_TRUE, NULL, &count) == CKR_OK, "C_GetSlotList");
        n = sizeof b;
        CHECK(get_attr(h, bob, CKA_X_DISTRUSTED, &b, &n) == CKR_OBJECT_HANDLE_INVALID,
              "bob is back under a new handle, the old one stays invalid");
        CHECK(find_by_issuer_serial(h, w.bob, CKO_CERTIFICATE, NULL) != 0, "bob is found again");

        /* no revoked.idx: only the CA */
        remove_file(RI_FILE_NAME);
        CHECK(find_distrusted(h) == 0 && find_class(h, CKO_CERTIFICATE) == 1, "no revoked.idx: only the CA");
        F->C_Finalize(NULL);
}

static void test_empty_directory(void) {
        CK_SESSION_HANDLE h;
        CK_ULONG count;

        remove_file("ca.pem");
        remove_file("crl.der");
        remove_file(RI_FILE_NAME);
        init_module();
        CHECK(F->C_GetSlotList(CK_TRUE, NULL, &count) == CKR_OK && count == 1, "no files: the slot is still there");
        h = open_session();
        CHECK(find(h, NULL, 0, NULL, 0) == 0, "no files: no objects");
        put_standard_set();
        CHECK(find_distrusted(h) == 2, "the files appear: so do the objects");
        F->C_Finalize(NULL);
}

static void test_directory_from_environment(void) {
        CK_SESSION_HANDLE h;

        put_standard_set();
        setenv(MODULE_PUBLISH_DIR_ENV, "/nonexistent", 1);
        init_module();
        h = open_session();
        CHECK(find(h, NULL, 0, NULL, 0) == 0, "CERTREVOKE_PUBLISH_DIR names the directory");
        F->C_Finalize(NULL);
        setenv(MODULE_PUBLISH_DIR_ENV, dir, 1);
}

/* ---------------------------------------------------------------- no regular file */

typedef enum Oddity {
        ODD_FIFO,
        ODD_SOCKET,
        ODD_DIRECTORY,
        ODD_DEVICE,             /* a character device node like /dev/zero */
        ODD_LINK_TO_VALID,      /* a symbolic link to a good copy of the file */
        ODD_LINK_TO_ZERO,       /* a symbolic link to /dev/zero */
        _ODD_MAX,
} Oddity;

static const char *const oddity_names[_ODD_MAX] = {
        [ODD_FIFO] = "a FIFO",
        [ODD_SOCKET] = "a socket",
        [ODD_DIRECTORY] = "a directory",
        [ODD_DEVICE] = "a device node",
        [ODD_LINK_TO_VALID] = "a symbolic link to a valid copy",
        [ODD_LINK_TO_ZERO] = "a symbolic link to /dev/zero",
};

/* The one thing a file's reason names. */
static const char *const oddity_reasons[_ODD_MAX] = {
        [ODD_FIFO] = "is a FIFO, not a regular file",
        [ODD_SOCKET] = "is a socket, not a regular file",
        [ODD_DIRECTORY] = "is a directory, not a regular file",
        [ODD_DEVICE] = "is a device, not a regular file",
        [ODD_LINK_TO_VALID] = "is a symbolic link, which is not followed",
        [ODD_LINK_TO_ZERO] = "is a symbolic link, which is not followed",
};

static void path_in_dir(char *buf, size_t size, const char *name) {
        snprintf(buf, size, "%s/%s", dir, name);
}

/* Removes whatever is at name: a file, a link, a FIFO or a directory. */
static void clear_file(const char *name) {
        char path[512];

        path_in_dir(path, sizeof path, name);
        if (unlink(path) < 0 && errno == EISDIR)
                rmdir(path);
}

/* Puts the oddity in place of the file name; false when this machine
 * cannot make one (a device node needs CAP_MKNOD). */
static bool put_oddity(const char *name, Oddity odd) {
        char path[512], copy[512];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        path_in_dir(path, sizeof path, name);
        snprintf(copy, sizeof copy, "%s/.valid-%s", dir, name);
        if (odd == ODD_LINK_TO_VALID && rename(path, copy) < 0)
                return false;
        clear_file(name);
        switch (odd) {
        case ODD_FIFO:
                return mkfifo(path, 0644) == 0;
        case ODD_SOCKET:
                if (strlen(path) >= sizeof sa.sun_path || (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
                        return false;
                memcpy(sa.sun_path, path, strlen(path) + 1);
                if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                        close(fd);
                        return false;
                }
                close(fd);
                return true;
        case ODD_DIRECTORY:
                return mkdir(path, 0755) == 0;
        case ODD_DEVICE:
                return mknod(path, S_IFCHR | 0644, makedev(1, 5)) == 0;
        case ODD_LINK_TO_VALID:
                return symlink(copy, path) == 0;
        case ODD_LINK_TO_ZERO:
                return symlink("/dev/zero", path) == 0;
        default:
                return false;
        }
}

/* In a child, so that a module that blocks is ended by the alarm instead
 * of hanging the test: exits 0 when the module answered, showed nothing
 * revoked, and showed the good set again once the file was put right. */
static int child_checks_oddity(const char *name) {
        CK_SESSION_HANDLE h = 0;
        CK_ULONG count = 0;

        alarm(5);
        if (F->C_Initialize(NULL) != CKR_OK)
                return 10;
        if (F->C_GetSlotList(CK_TRUE, NULL, &count) != CKR_OK || count != 1)
                return 11;
        if (F->C_OpenSession(MODULE_SLOT_ID, CKF_SERIAL_SESSION, NULL, NULL, &h) != CKR_OK)
                return 12;
        if (find_distrusted(h) != 0)
                return 13;
        clear_file(name);
        put_standard_set();
        if (find_distrusted(h) != 2)
                return 14;
        F->C_Finalize(NULL);
        return 0;
}

static void check_oddity(const char *name, Oddity odd) {
        char *paths[_FILE_MAX], copy[512];
        TrustFiles files;
        const char *why = NULL;
        int bad = -1, status = 0, r;
        pid_t pid;

        put_standard_set();
        if (!put_oddity(name, odd)) {
                printf("ok - # SKIP %s as %s: cannot make one here (%m)\n", name, oddity_names[odd]);
                return;
        }
        for (int i = 0; i < _FILE_MAX; i++)
                if (asprintf(&paths[i], "%s/%s", dir, trust_file_names[i]) < 0)
                        exit(2);
        r = trust_files_read(paths, &files, &bad, &why);
        CHECK(r < 0 && bad >= 0 && strcmp(trust_file_names[bad], name) == 0 && why &&
              strcmp(why, oddity_reasons[odd]) == 0,
              "%s as %s: refused, saying it %s (got %d, %s %s)", name, oddity_names[odd], oddity_reasons[odd], r,
              bad >= 0 ? trust_file_names[bad] : "-", why ? why : "-");
        if (r >= 0)
                trust_files_done(&files);
        for (int i = 0; i < _FILE_MAX; i++)
                free(paths[i]);

        fflush(stdout);
        pid = fork();
        if (pid == 0)
                _exit(child_checks_oddity(name));
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "%s as %s: the module answers at once, shows nothing revoked, and the good set once it is back "
              "(%s %d)", name, oddity_names[odd], pid > 0 && WIFSIGNALED(status) ? "signal" : "status",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        clear_file(name);
        snprintf(copy, sizeof copy, "%s/.valid-%s", dir, name);
        unlink(copy);
        /* the child's CRLs had numbers of their own */
        w.crl_number += 10;
}

/* Each input replaced by something that is no regular file. */
static void test_not_regular_files(void) {
        for (int f = 0; f < _FILE_MAX; f++)
                for (int odd = 0; odd < _ODD_MAX; odd++)
                        check_oddity(trust_file_names[f], (Oddity) odd);
        put_standard_set();
}

/* Serials past RFC 5280's 20 octets are matched too. */
static void test_long_serial(void) {
        X509 *erin = gen_cert(w.user_key, "erin", "Erin", 1, NOW, LATER, w.ca, w.ca_key);
        BIGNUM *bn = NULL;
        CK_SESSION_HANDLE h;
        CK_ULONG n;

        BN_hex2bn(&bn, "7F0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
                       "202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F4041");
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(erin));
        X509_sign(erin, w.ca_key, EVP_sha256());
        put_ca(w.ca);
        put_revoked((X509 *[]) { w.alice, erin }, 2);
        put_crl((X509 *[]) { w.alice, erin }, 2);
        init_module();
        h = open_session();
        CHECK(find_by_issuer_serial(h, erin, CKO_CERTIFICATE, &n) && n == 1, "a 66-octet serial is found");
        CHECK(find_distrusted(h) == 2, "alice and erin");
        F->C_Finalize(NULL);
        BN_free(bn);
        X509_free(erin);
}

/* ---------------------------------------------------------------- threads */

static volatile int stop_threads;

static void *lookup_thread(void *userdata) {
        long bad = 0;
        CK_SESSION_HANDLE h = 0;

        (void) userdata;
        if (F->C_OpenSession(MODULE_SLOT_ID, CKF_SERIAL_SESSION, NULL, NULL, &h) != CKR_OK)
                return (void *) 1L;
        while (!stop_threads) {
                CK_ULONG n;
                CK_OBJECT_HANDLE o = find_by_issuer_serial(h, w.alice, CKO_CERTIFICATE, &n);
                CK_BBOOL b = 0;
                CK_ULONG len = sizeof b;

                /* alice is in every set the writer makes */
                if (n != 1)
                        bad++;
                else if (get_attr(h, o, CKA_X_DISTRUSTED, &b, &len) != CKR_OK || b != CK_TRUE)
                        bad++;
        }
        F->C_CloseSession(h);
        return (void *) bad;
}

static void test_threads(void) {
        pthread_t t[4];
        long bad = 0;

        put_standard_set();
        init_module();
        stop_threads = 0;
        for (int i = 0; i < 4; i++)
                pthread_create(&t[i], NULL, lookup_thread, NULL);
        for (int i = 0; i < 60; i++) {
                if (i % 2)
                        put_revoked((X509 *[]) { w.alice, w.bob }, 2);
                else
                        put_revoked((X509 *[]) { w.alice, w.bob, w.carol }, 3);
                put_crl((X509 *[]) { w.alice, w.bob, w.carol }, 3);
                usleep(2000);
        }
        stop_threads = 1;
        for (int i = 0; i < 4; i++) {
                void *r;

                pthread_join(t[i], &r);
                bad += (long) r;
        }
        CHECK(bad == 0, "4 threads looking up while the files change 60 times: every lookup right (%ld wrong)", bad);
        F->C_Finalize(NULL);
}

/* ---------------------------------------------------------------- the readers */

static void test_der(void) {
        static const uint8_t ok[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
        static const uint8_t indefinite[] = { 0x30, 0x80, 0x00, 0x00 };
        static const uint8_t long_form_short[] = { 0x04, 0x81, 0x05, 1, 2, 3, 4, 5 };
        static const uint8_t leading_zero_len[] = { 0x04, 0x82, 0x00, 0x81 };
        static const uint8_t too_long[] = { 0x04, 0x05, 1, 2 };
        static const uint8_t high_tag[] = { 0x1f, 0x81, 0x01, 0x00 };
        DerItem item;
        Span in;

        in = (Span) { ok, sizeof ok };
        CHECK(der_next(&in, &item) == 0 && item.tag == 0x30 && item.content.len == 3 && in.len == 0, "a SEQUENCE");
        in = (Span) { indefinite, sizeof indefinite };
        CHECK(der_next(&in, &item) == -EBADMSG, "indefinite length refused");
        in = (Span) { long_form_short, sizeof long_form_short };
        CHECK(der_next(&in, &item) == -EBADMSG, "a long-form length under 128 refused");
        in = (Span) { leading_zero_len, sizeof leading_zero_len };
        CHECK(der_next(&in, &item) == -EBADMSG, "a length with a leading zero octet refused");
        in = (Span) { too_long, sizeof too_long };
        CHECK(der_next(&in, &item) == -EBADMSG, "a length past the end refused");
        in = (Span) { high_tag, sizeof high_tag };
        CHECK(der_next(&in, &item) == -EBADMSG, "a high tag number refused");
        CHECK(der_integer_minimal((Span) { (const uint8_t *) "\x00\x80", 2 }), "00 80 is minimal");
        CHECK(!der_integer_minimal((Span) { (const uint8_t *) "\x00\x7f", 2 }), "00 7f is not");
        CHECK(!der_integer_minimal((Span) { (const uint8_t *) "\xff\x80", 2 }), "ff 80 is not");
}

static void test_x509(void) {
        unsigned char *der = NULL;
        int len = cert_der(w.alice, &der);
        CertFields f;
        Span in = { der, (size_t) len };

        CHECK(x509_parse(&in, &f) == 0 && in.len == 0, "alice's certificate parses");
        CHECK(f.login.len == 5 && memcmp(f.login.p, "alice", 5) == 0, "login from the UID");
        CHECK(f.ski.len == 20, "the SKI");
        CHECK(!f.is_ca, "not a CA");
        for (int cut = 1; cut < len; cut += 7) {
                Span part = { der, (size_t) cut };

                if (x509_parse(&part, &f) == 0) {
                        CHECK(0, "a certificate cut at %d parses", cut);
                        break;
                }
        }
        CHECK(1, "every cut-short certificate is refused");
        OPENSSL_free(der);
        len = cert_der(w.ca, &der);
        in = (Span) { der, (size_t) len };
        CHECK(x509_parse(&in, &f) == 0 && f.is_ca && f.login.len == 0, "the CA: cA true, no login (CN has a space)");
        OPENSSL_free(der);
}

int main(void) {
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return 2;
        }
        setenv(MODULE_PUBLISH_DIR_ENV, dir, 1);
        CHECK(C_GetFunctionList(&F) == CKR_OK && F, "C_GetFunctionList");
        CHECK(C_GetFunctionList(NULL) == CKR_ARGUMENTS_BAD, "C_GetFunctionList(NULL)");
        world_init();

        test_der();
        test_x509();
        test_initialize();
        test_info();
        test_sessions();
        test_objects();
        test_get_attribute_value();
        test_reload();
        test_empty_directory();
        test_directory_from_environment();
        test_long_serial();
        test_not_regular_files();
        test_threads();

        remove_file("ca.pem");
        remove_file("crl.der");
        remove_file(RI_FILE_NAME);
        rmdir(dir);
        EVP_PKEY_free(w.ca_key);
        EVP_PKEY_free(w.other_key);
        EVP_PKEY_free(w.user_key);
        X509_free(w.ca);
        X509_free(w.other_ca);
        X509_free(w.alice);
        X509_free(w.bob);
        X509_free(w.carol);
        X509_free(w.dave);
        OPENSSL_free(w.next_crl);
        return CHECK_EXIT();
}
