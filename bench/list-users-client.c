/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Calls ListUsers on the bus at argv[1] argv[2] times and prints the best
 * wall time in seconds and the number of users the reply held. */
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "certrevoke.h"

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* One call, with every entry read as a client would. */
static int list_once(sd_bus *bus, unsigned *ret_n) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *login, *name, *role, *state, *serial, *path;
        uint64_t not_after;
        unsigned n = 0;
        int r;

        r = sd_bus_call_method(bus, CR_BUS_NAME, CR_MANAGER_PATH, CR_MANAGER_IFACE, "ListUsers", &error, &reply, "");
        if (r < 0) {
                fprintf(stderr, "ListUsers: %s\n", error.message ? error.message : "failed");
                sd_bus_error_free(&error);
                return r;
        }
        if ((r = sd_bus_message_enter_container(reply, 'a', "(sssssto)")) < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "(sssssto)", &login, &name, &role, &state, &serial,
                                        &not_after, &path)) > 0)
                n++;
        sd_bus_message_unref(reply);
        *ret_n = n;
        return r;
}

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        int runs = argc > 2 ? atoi(argv[2]) : 3;
        double best = 1e9;
        unsigned n = 0;

        if (argc < 2 || sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, argv[1]) < 0 ||
            sd_bus_set_bus_client(bus, 1) < 0 || sd_bus_start(bus) < 0) {
                fprintf(stderr, "usage: list-users-client BUS-ADDRESS [RUNS]\n");
                return 2;
        }
        /* a large reply must not hit the default 25 s call timeout nor the 128 MiB cap */
        for (int i = 0; i < runs; i++) {
                double t0 = now(), t;

                if (list_once(bus, &n) < 0)
                        return 1;
                t = now() - t0;
                if (t < best)
                        best = t;
        }
        printf("%.6f %u\n", best, n);
        sd_bus_flush_close_unref(bus);
        return 0;
}
