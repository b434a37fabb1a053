/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One connection to the bus in DBUS_SYSTEM_BUS_ADDRESS for the revocation
 * benchmark and its tests, so that what is measured is the service, not a
 * busctl process per call:
 *
 *   revoke-client one PASSWORD LOGIN...   RevokeCertificate of each in turn;
 *                                         prints each call's milliseconds
 *   revoke-client many PASSWORD LOGIN...  all at once; those answered Busy are
 *                                         sent again after the time they name;
 *                                         prints the seconds until the last reply
 *   revoke-client many-at MS PASSWORD LOGIN...
 *                                         the same, sent at MS milliseconds
 *                                         since the epoch (connected before), so
 *                                         that clients of several callers start
 *                                         together; the seconds count from MS
 *   revoke-client probe INTERVAL_MS       ListUsers every INTERVAL_MS until stdin
 *                                         closes; prints "calls=<n> max_ms=<x>",
 *                                         the slowest answer: how long the
 *                                         service's event loop stalled at worst;
 *                                         a line on stdin prints the same for
 *                                         the time so far and starts anew
 *   revoke-client during PASSWORD LOGIN INTERVAL_MS CRL TAIL_MS
 *                                         RevokeCertificate of LOGIN, and on a
 *                                         second connection ListUsers every
 *                                         INTERVAL_MS from its sending until
 *                                         TAIL_MS after its reply; prints
 *                                         "revoke_ms=<reply> crl_ms=<CRL written>
 *                                         calls=<n> in_build=<m> build_max_ms=<x>
 *                                         max_ms=<y> max_at_ms=<t>", times from
 *                                         the sending: in_build counts the calls
 *                                         sent before the file CRL (the published
 *                                         crl.der) was last written, build_max_ms
 *                                         is their slowest answer, max_ms that of
 *                                         all and max_at_ms when it was sent
 *
 * Exit status 1 when a revocation or a probe call fails. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "certrevoke.h"

#define CALL_TIMEOUT_USEC (300ULL * 1000000ULL)

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int revoke_one(sd_bus *bus, const char *password, const char *login) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(bus, CR_BUS_NAME, CR_MANAGER_PATH, CR_MANAGER_IFACE, "RevokeCertificate", &error,
                               &reply, "ssss", login, "", "keyCompromise", password);
        if (r < 0)
                fprintf(stderr, "%s: %s\n", login, error.message ? error.message : strerror(-r));
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        return r;
}

static int run_one(sd_bus *bus, const char *password, char **logins, int n) {
        int failed = 0;

        for (int i = 0; i < n; i++) {
                double t0 = now_ms();

                if (revoke_one(bus, password, logins[i]) < 0)
                        failed++;
                printf("%.3f\n", now_ms() - t0);
        }
        return failed ? 1 : 0;
}

typedef struct Call {
        const char *login;
        int state;              /* 0 waiting, 1 revoked, 2 busy, -1 failed */
        unsigned retry_s;
} Call;

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const sd_bus_error *e = sd_bus_message_get_error(m);
        Call *call = userdata;
        const char *again;

        (void) ret_error;
        if (!e) {
                call->state = 1;
                return 0;
        }
        if (sd_bus_error_has_name(e, CR_ERROR_BUSY) && e->message && (again = strstr(e->message, "try again in "))) {
                call->state = 2;
                call->retry_s = (unsigned) strtoul(again + strlen("try again in "), NULL, 10);
                return 0;
        }
        fprintf(stderr, "%s: %s\n", call->login, e->message ? e->message : e->name);
        call->state = -1;
        return 0;
}

/* Sends every call still to do, then waits for all their answers. */
static int round_trip(sd_bus *bus, const char *password, Call *calls, int n) {
        int pending = 0, r;

        for (int i = 0; i < n; i++) {
                if (calls[i].state != 0)
                        continue;
                r = sd_bus_call_method_async(bus, NULL, CR_BUS_NAME, CR_MANAGER_PATH, CR_MANAGER_IFACE,
                                             "RevokeCertificate", on_reply, &calls[i], "ssss", calls[i].login, "",
                                             "keyCompromise", password);
                if (r < 0)
                        return r;
                pending++;
        }
        while (pending > 0) {
                pending = 0;
                for (int i = 0; i < n; i++)
                        pending += calls[i].state == 0;
                if (pending == 0)
                        break;
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return r;
                if (r == 0 && (r = sd_bus_wait(bus, UINT64_MAX)) < 0)
                        return r;
        }
        return 0;
}

/* Sleeps until at_ms (CLOCK_REALTIME, milliseconds); 0: now. */
static void wait_until(long long at_ms) {
        struct timespec ts = { .tv_sec = at_ms / 1000, .tv_nsec = at_ms % 1000 * 1000000 };

        if (at_ms > 0)
                while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
                        ;
}

static int run_many(sd_bus *bus, long long at_ms, const char *password, char **logins, int n) {
        Call *calls = calloc((size_t) n, sizeof *calls);
        double t0;
        int failed = 0, r = 0;

        if (!calls)
                return 1;
        wait_until(at_ms);
        t0 = now_ms();
        for (int i = 0; i < n; i++)
                calls[i] = (Call) { .login = logins[i] };
        for (int round = 0; round < 100; round++) {
                unsigned wait_s = 0;
                int busy = 0;

                r = round_trip(bus, password, calls, n);
                if (r < 0)
                        break;
                for (int i = 0; i < n; i++) {
                        if (calls[i].state != 2)
                                continue;
                        busy++;
                        if (calls[i].retry_s > wait_s)
                                wait_s = calls[i].retry_s;
                        calls[i].state = 0;
                }
                if (busy == 0)
                        break;
                sleep(wait_s);
        }
        for (int i = 0; i < n; i++)
                failed += calls[i].state != 1;
        printf("%.3f\n", (now_ms() - t0) / 1e3);
        free(calls);
        return r < 0 || failed ? 1 : 0;
}

/* ListUsers on a timer: the service answers it on its event loop, so the
 * slowest answer is the longest time that loop did not run. */
static int run_probe(sd_bus *bus, int interval_ms) {
        struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
        double worst = 0;
        unsigned long calls = 0;
        char buf[256];

        for (;;) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                sd_bus_message *reply = NULL;
                double t0 = now_ms(), dt;
                int r;

                r = sd_bus_call_method(bus, CR_BUS_NAME, CR_MANAGER_PATH, CR_MANAGER_IFACE, "ListUsers", &error,
                                       &reply, "");
                dt = now_ms() - t0;
                sd_bus_message_unref(reply);
                if (r < 0) {
                        fprintf(stderr, "ListUsers: %s\n", error.message ? error.message : strerror(-r));
                        sd_bus_error_free(&error);
                        return 1;
                }
                calls++;
                if (dt > worst)
                        worst = dt;
                r = poll(&in, 1, interval_ms);
                if (r <= 0)
                        continue;
                if (read(STDIN_FILENO, buf, sizeof buf) <= 0)
                        break;
                /* a line: the phase so far, then the next */
                printf("calls=%lu max_ms=%.1f\n", calls, worst);
                fflush(stdout);
                calls = 0;
                worst = 0;
        }
        printf("calls=%lu max_ms=%.1f\n", calls, worst);
        return 0;
}

typedef struct Probe {
        double sent_ms;         /* from the revocation's sending */
        double took_ms;
} Probe;

typedef struct During {
        double t0;
        double replied_ms;
        int state;              /* 0 waiting, 1 revoked, -1 failed */
} During;

static int on_revoked(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const sd_bus_error *e = sd_bus_message_get_error(m);
        During *d = userdata;

        (void) ret_error;
        d->replied_ms = now_ms() - d->t0;
        d->state = e ? -1 : 1;
        if (e)
                fprintf(stderr, "RevokeCertificate: %s\n", e->message ? e->message : e->name);
        return 0;
}

/* When the file was last written, in milliseconds from the realtime
 * instant t0_real; the build ends with writing the CRL. */
static double written_ms(const char *path, const struct timespec *t0_real) {
        struct stat st;

        if (stat(path, &st) < 0)
                return -1;
        return (double) (st.st_mtim.tv_sec - t0_real->tv_sec) * 1e3 +
               (double) (st.st_mtim.tv_nsec - t0_real->tv_nsec) / 1e6;
}

/* ListUsers on a second connection while the first waits for a
 * revocation: the answers that come slowly are the event loop's stalls
 * during the build that revocation starts. */
static int run_during(sd_bus *bus, const char *password, const char *login, int interval_ms, const char *crl,
                      int tail_ms) {
        During d = { .state = 0 };
        sd_bus *probe_bus = NULL;
        Probe *probes = NULL;
        size_t n = 0, allocated = 0, in_build = 0;
        double crl_ms, worst = 0, worst_at = 0, build_worst = 0;
        struct timespec t0_real;
        int r;

        r = sd_bus_open_system(&probe_bus);
        if (r < 0) {
                fprintf(stderr, "cannot connect to the bus: %s\n", strerror(-r));
                return 1;
        }
        (void) sd_bus_set_method_call_timeout(probe_bus, CALL_TIMEOUT_USEC);
        clock_gettime(CLOCK_REALTIME, &t0_real);
        d.t0 = now_ms();
        r = sd_bus_call_method_async(bus, NULL, CR_BUS_NAME, CR_MANAGER_PATH, CR_MANAGER_IFACE, "RevokeCertificate",
                                     on_revoked, &d, "ssss", login, "", "keyCompromise", password);
        if (r >= 0)
                r = sd_bus_flush(bus);
        while (r >= 0) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                sd_bus_message *reply = NULL;
                double sent = now_ms() - d.t0;

                if (d.state != 0 && sent > d.replied_ms + tail_ms)
                        break;
                r = sd_bus_call_method(probe_bus, CR_BUS_NAME, CR_MANAGER_PATH, CR_MANAGER_IFACE, "ListUsers",
                                       &error, &reply, "");
                sd_bus_message_unref(reply);
                if (r < 0) {
                        fprintf(stderr, "ListUsers: %s\n", error.message ? error.message : strerror(-r));
                        sd_bus_error_free(&error);
                        break;
                }
                if (n == allocated) {
                        Probe *more = realloc(probes, (allocated = allocated * 2 + 256) * sizeof *probes);

                        if (!more) {
                                r = -ENOMEM;
                                break;
                        }
                        probes = more;
                }
                probes[n++] = (Probe) { .sent_ms = sent, .took_ms = now_ms() - d.t0 - sent };
                /* the pause between calls is spent waiting for the reply */
                r = sd_bus_wait(bus, (uint64_t) interval_ms * 1000);
                while (r >= 0 && (r = sd_bus_process(bus, NULL)) > 0)
                        ;
        }
        crl_ms = written_ms(crl, &t0_real);
        for (size_t i = 0; i < n; i++) {
                if (probes[i].took_ms > worst) {
                        worst = probes[i].took_ms;
                        worst_at = probes[i].sent_ms;
                }
                if (probes[i].sent_ms >= crl_ms)
                        continue;
                in_build++;
                if (probes[i].took_ms > build_worst)
                        build_worst = probes[i].took_ms;
        }
        printf("revoke_ms=%.1f crl_ms=%.1f calls=%zu in_build=%zu build_max_ms=%.1f max_ms=%.1f max_at_ms=%.1f\n",
               d.replied_ms, crl_ms, n, in_build, build_worst, worst, worst_at);
        free(probes);
        sd_bus_flush_close_unref(probe_bus);
        return r < 0 || d.state != 1 ? 1 : 0;
}

int main(int argc, char **argv) {
        sd_bus *bus = NULL;
        int r;

        if (argc < 3 || (strcmp(argv[1], "probe") != 0 && argc < 4) ||
            (strcmp(argv[1], "during") == 0 && argc != 7) || (strcmp(argv[1], "many-at") == 0 && argc < 5)) {
                fprintf(stderr,
                        "usage: %s one|many PASSWORD LOGIN... | many-at MS PASSWORD LOGIN... | probe INTERVAL_MS |"
                        " during PASSWORD LOGIN INTERVAL_MS CRL TAIL_MS\n",
                        argv[0]);
                return 2;
        }
        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "cannot connect to the bus: %s\n", strerror(-r));
                return 1;
        }
        (void) sd_bus_set_method_call_timeout(bus, CALL_TIMEOUT_USEC);
        if (strcmp(argv[1], "one") == 0)
                r = run_one(bus, argv[2], argv + 3, argc - 3);
        else if (strcmp(argv[1], "many") == 0)
                r = run_many(bus, 0, argv[2], argv + 3, argc - 3);
        else if (strcmp(argv[1], "many-at") == 0)
                r = run_many(bus, atoll(argv[2]), argv[3], argv + 4, argc - 4);
        else if (strcmp(argv[1], "probe") == 0)
                r = run_probe(bus, atoi(argv[2]));
        else if (strcmp(argv[1], "during") == 0)
                r = run_during(bus, argv[2], argv[3], atoi(argv[4]), argv[5], atoi(argv[6]));
        else
                r = 2;
        fflush(stdout);
        sd_bus_flush_close_unref(bus);
        return r;
}
