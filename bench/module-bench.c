/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Times one PKCS#11 trust module on one set of revoked certificates:
 *
 *   module-bench MODULE.so RESERVED KEYS LOOKUPS
 *
 * RESERVED is passed as C_Initialize's pReserved ("-" for none: p11-kit's
 * trust module takes "paths=DIR" there).  Load: from C_Initialize until the
 * first lookup has answered (a module may read its files at any point in
 * between).  Lookup: C_FindObjectsInit with {CKA_CLASS, CKA_ISSUER,
 * CKA_SERIAL_NUMBER} of a random certificate of KEYS (module-gen's), C_FindObjects,
 * C_FindObjectsFinal and C_GetAttributeValue of CKA_X_DISTRUSTED, which must
 * find exactly that certificate, distrusted; LOOKUPS of them, or as many as
 * fit in BUDGET_S seconds (at least MIN_LOOKUPS).  Prints one line:
 *
 *   load_s lookup_mean_us lookup_p99_us lookups max_rss_kib */
#include <dlfcn.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <p11-kit/pkcs11.h>
#include <p11-kit/pkcs11x.h>

#define BUDGET_S 3.0
#define MIN_LOOKUPS 100

typedef struct Key {
        unsigned char *issuer, *serial;
        int issuer_len, serial_len;
} Key;

static void die(const char *what, CK_RV rv) {
        fprintf(stderr, "module-bench: %s (rv 0x%lx)\n", what, rv);
        exit(1);
}

static double now(void) {
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

/* The keys file of module-gen: [u32 issuer length][issuer], then
 * [u8 length][serial] per certificate, whole DER encodings. */
static Key *read_keys(const char *path, size_t *ret_n) {
        FILE *f = fopen(path, "re");
        size_t n = 0, allocated = 0;
        unsigned char *issuer;
        uint32_t il;
        Key *keys = NULL;
        int sl;

        if (!f || fread(&il, sizeof il, 1, f) != 1 || il > 65536 || !(issuer = malloc(il)) ||
            fread(issuer, 1, il, f) != il)
                die("cannot read the keys", 0);
        while ((sl = fgetc(f)) != EOF) {
                if (n == allocated) {
                        allocated = allocated ? allocated * 2 : 1024;
                        if (!(keys = realloc(keys, allocated * sizeof *keys)))
                                die("out of memory", 0);
                }
                keys[n] = (Key) { .issuer = issuer, .issuer_len = (int) il, .serial_len = sl };
                if (!(keys[n].serial = malloc((size_t) sl)) || fread(keys[n].serial, 1, (size_t) sl, f) != (size_t) sl)
                        die("cannot read the keys", 0);
                n++;
        }
        fclose(f);
        if (n == 0)
                die("no certificates", 0);
        *ret_n = n;
        return keys;
}

/* One lookup; returns its time in seconds. */
static double lookup(CK_FUNCTION_LIST *F, CK_SESSION_HANDLE s, const Key *k) {
        CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
        CK_ATTRIBUTE t[] = {
                { CKA_CLASS, &cls, sizeof cls },
                { CKA_ISSUER, k->issuer, (CK_ULONG) k->issuer_len },
                { CKA_SERIAL_NUMBER, k->serial, (CK_ULONG) k->serial_len },
        };
        CK_OBJECT_HANDLE o[4];
        CK_ULONG n = 0;
        CK_BBOOL distrusted = CK_FALSE;
        CK_ATTRIBUTE a = { CKA_X_DISTRUSTED, &distrusted, sizeof distrusted };
        double t0 = now(), t1;
        CK_RV rv;

        if ((rv = F->C_FindObjectsInit(s, t, 3)) != CKR_OK)
                die("C_FindObjectsInit", rv);
        if ((rv = F->C_FindObjects(s, o, 4, &n)) != CKR_OK)
                die("C_FindObjects", rv);
        if ((rv = F->C_FindObjectsFinal(s)) != CKR_OK)
                die("C_FindObjectsFinal", rv);
        if (n != 1)
                die("a lookup did not find exactly one certificate", n);
        if ((rv = F->C_GetAttributeValue(s, o[0], &a, 1)) != CKR_OK || distrusted != CK_TRUE)
                die("the certificate found is not distrusted", rv);
        t1 = now();
        return t1 - t0;
}

static int compare(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
        CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
        CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR);
        CK_FUNCTION_LIST *F;
        CK_SLOT_ID slots[8];
        CK_ULONG n_slots = 8;
        CK_SESSION_HANDLE s;
        size_t n_keys, runs, done;
        unsigned long long rnd = 0x9e3779b97f4a7c15ULL;
        double t0, load, sum = 0, *times;
        struct rusage ru;
        Key *keys;
        void *dl;
        CK_RV rv;

        if (argc != 5)
                die("usage: module-bench MODULE.so RESERVED KEYS LOOKUPS", 0);
        if ((runs = strtoul(argv[4], NULL, 10)) < MIN_LOOKUPS)
                runs = MIN_LOOKUPS;
        keys = read_keys(argv[3], &n_keys);
        if (!(times = calloc(runs, sizeof *times)))
                die("out of memory", 0);
        if (!(dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL)) ||
            !(get_list = (CK_RV(*)(CK_FUNCTION_LIST_PTR_PTR)) dlsym(dl, "C_GetFunctionList")))
                die(dlerror(), 0);
        if ((rv = get_list(&F)) != CKR_OK)
                die("C_GetFunctionList", rv);
        if (strcmp(argv[2], "-") != 0)
                args.pReserved = argv[2];

        t0 = now();
        if ((rv = F->C_Initialize(&args)) != CKR_OK)
                die("C_Initialize", rv);
        if ((rv = F->C_GetSlotList(CK_TRUE, slots, &n_slots)) != CKR_OK || n_slots < 1)
                die("C_GetSlotList", rv);
        if ((rv = F->C_OpenSession(slots[0], CKF_SERIAL_SESSION, NULL, NULL, &s)) != CKR_OK)
                die("C_OpenSession", rv);
        lookup(F, s, &keys[0]);
        load = now() - t0;
        getrusage(RUSAGE_SELF, &ru);

        t0 = now();
        for (done = 0; done < runs && (done < MIN_LOOKUPS || now() - t0 < BUDGET_S); done++) {
                rnd ^= rnd << 13;
                rnd ^= rnd >> 7;
                rnd ^= rnd << 17;
                times[done] = lookup(F, s, &keys[rnd % n_keys]);
                sum += times[done];
        }
        qsort(times, done, sizeof *times, compare);
        printf("%.6f %.3f %.3f %zu %ld\n", load, sum / (double) done * 1e6, times[done * 99 / 100] * 1e6, done,
               ru.ru_maxrss);

        F->C_CloseSession(s);
        F->C_Finalize(NULL);
        free(keys[0].issuer);
        for (size_t i = 0; i < n_keys; i++)
                free(keys[i].serial);
        free(keys);
        free(times);
        return 0;
}
