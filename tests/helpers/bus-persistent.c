/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One connection to the bus in DBUS_SYSTEM_BUS_ADDRESS that stays open, for
 * tests of what the service remembers about a connection:
 *
 *   bus-persistent
 *
 * prints "ready NAME" (its unique name) once connected, then for each line
 * on stdin calls Manager.ListUsers and prints the number of users in the
 * answer, or the D-Bus error's name; exits 0 at the end of stdin. */
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "certrevoke.h"

static void list_users(sd_bus *bus) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        unsigned n = 0;
        int r;

        r = sd_bus_call_method(bus, CR_BUS_NAME, CR_MANAGER_PATH, CR_MANAGER_IFACE, "ListUsers", &error, &reply,
                               "");
        if (r < 0) {
                printf("%s\n", error.name ? error.name : strerror(-r));
                sd_bus_error_free(&error);
                return;
        }
        r = sd_bus_message_enter_container(reply, 'a', NULL);
        while (r > 0 && (r = sd_bus_message_skip(reply, NULL)) > 0)
                n++;
        printf("%u\n", n);
        sd_bus_message_unref(reply);
}

int main(void) {
        sd_bus *bus = NULL;
        const char *name = NULL;
        char line[64];
        int r;

        r = sd_bus_open_system(&bus);
        /* the connection is made at the first call */
        if (r >= 0)
                r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "GetId", NULL, NULL, "");
        if (r >= 0)
                r = sd_bus_get_unique_name(bus, &name);
        if (r < 0) {
                fprintf(stderr, "bus-persistent: cannot connect: %s\n", strerror(-r));
                return 1;
        }
        printf("ready %s\n", name);
        fflush(stdout);
        while (fgets(line, sizeof line, stdin)) {
                list_users(bus);
                fflush(stdout);
        }
        sd_bus_flush_close_unref(bus);
        return 0;
}
