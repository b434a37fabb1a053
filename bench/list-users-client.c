/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Calls ListUsers (or, with "managed-objects", the ObjectManager's
 * GetManagedObjects) on the bus at argv[1] argv[2] times and prints the
 * best wall time in seconds and the number of users the reply held.  Exit
 * status 3: the service refused with LimitsExceeded. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "certrevoke.h"

/* Big stores make big replies: the default 25 s would cut the slow case short. */
#define CALL_TIMEOUT_USEC (300ULL * 1000000ULL)

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int call(sd_bus *bus, const char *path, const char *interface, const char *member,
                sd_bus_message **ret) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, CR_BUS_NAME, path, interface, member, &error, ret, "");
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", member, error.message ? error.message : strerror(-r));
                if (sd_bus_error_has_name(&error, SD_BUS_ERROR_LIMITS_EXCEEDED))
                        r = -EMSGSIZE;
                sd_bus_error_free(&error);
        }
        return r;
}

/* One call, with every entry read as a client would. */
static int list_once(sd_bus *bus, unsigned *ret_n) {
        sd_bus_message *reply = NULL;
        const char *login, *name, *role, *state, *serial, *path;
        uint64_t not_after;
        unsigned n = 0;
        int r;

        if ((r = call(bus, CR_MANAGER_PATH, CR_MANAGER_IFACE, "ListUsers", &reply)) < 0)
                return r;
        if ((r = sd_bus_message_enter_container(reply, 'a', "(sssssto)")) < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "(sssssto)", &login, &name, &role, &state, &serial,
                                        &not_after, &path)) > 0)
                n++;
        sd_bus_message_unref(reply);
        *ret_n = n;
        return r;
}

/* Reads one property's name and value; 0 at the end of the dictionary. */
static int read_property(sd_bus_message *reply) {
        const char *name;
        int r;

        if ((r = sd_bus_message_enter_container(reply, 'e', "sv")) <= 0)
                return r;
        if ((r = sd_bus_message_read(reply, "s", &name)) < 0)
                return r;
        if ((r = sd_bus_message_skip(reply, "v")) < 0)
                return r;
        if ((r = sd_bus_message_exit_container(reply)) < 0)
                return r;
        return 1;
}

/* Reads one interface of an object; 1 if it is a user's, 2 if not, 0 at the end. */
static int read_interface(sd_bus_message *reply) {
        const char *interface;
        int r;

        if ((r = sd_bus_message_enter_container(reply, 'e', "sa{sv}")) <= 0)
                return r;
        if ((r = sd_bus_message_read(reply, "s", &interface)) < 0)
                return r;
        if ((r = sd_bus_message_enter_container(reply, 'a', "{sv}")) < 0)
                return r;
        while ((r = read_property(reply)) > 0)
                ;
        if (r < 0)
                return r;
        if ((r = sd_bus_message_exit_container(reply)) < 0)
                return r;
        if ((r = sd_bus_message_exit_container(reply)) < 0)
                return r;
        return strcmp(interface, CR_USER_IFACE) == 0 ? 1 : 2;
}

/* Reads one object; 1 if it is a user, 2 if not, 0 at the end. */
static int read_object(sd_bus_message *reply) {
        const char *path;
        int user = 0, r;

        if ((r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) <= 0)
                return r;
        if ((r = sd_bus_message_read(reply, "o", &path)) < 0)
                return r;
        if ((r = sd_bus_message_enter_container(reply, 'a', "{sa{sv}}")) < 0)
                return r;
        while ((r = read_interface(reply)) > 0)
                user |= r == 1;
        if (r < 0)
                return r;
        if ((r = sd_bus_message_exit_container(reply)) < 0)
                return r;
        if ((r = sd_bus_message_exit_container(reply)) < 0)
                return r;
        return user ? 1 : 2;
}

static int managed_objects_once(sd_bus *bus, unsigned *ret_n) {
        sd_bus_message *reply = NULL;
        unsigned n = 0;
        int r;

        if ((r = call(bus, CR_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                      &reply)) < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
        while (r >= 0 && (r = read_object(reply)) > 0)
                n += r == 1;
        sd_bus_message_unref(reply);
        *ret_n = n;
        return r;
}

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        int runs = argc > 2 ? atoi(argv[2]) : 3;
        int managed = argc > 3 && strcmp(argv[3], "managed-objects") == 0;
        double best = 1e9;
        unsigned n = 0;

        if (argc < 2 || argc > 4 || (argc > 3 && !managed) || runs < 1 || sd_bus_new(&bus) < 0 ||
            sd_bus_set_address(bus, argv[1]) < 0 || sd_bus_set_bus_client(bus, 1) < 0 ||
            sd_bus_set_method_call_timeout(bus, CALL_TIMEOUT_USEC) < 0 || sd_bus_start(bus) < 0) {
                fprintf(stderr, "usage: list-users-client BUS-ADDRESS [RUNS [managed-objects]]\n");
                return 2;
        }
        for (int i = 0; i < runs; i++) {
                double t0 = now(), t;
                int r = managed ? managed_objects_once(bus, &n) : list_once(bus, &n);

                if (r == -EMSGSIZE)
                        return 3;
                if (r < 0) {
                        fprintf(stderr, "reading the reply: %s\n", strerror(-r));
                        return 1;
                }
                t = now() - t0;
                if (t < best)
                        best = t;
        }
        printf("%.6f %u\n", best, n);
        sd_bus_flush_close_unref(bus);
        return 0;
}
