/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Calls sent on a new connection all at once, before any answer, for tests
 * of the order in which the service runs the first calls of a connection:
 *
 *   bus-pipeline LOGIN UID
 *
 * sends AddUser(LOGIN, "Pipeline", "general", UID), GetUser(LOGIN),
 * RemoveUser(LOGIN) and GetUser(LOGIN) without waiting in between, then
 * prints one line per call in that order: "ok" or the D-Bus error's name.
 *
 *   bus-pipeline --leave
 *
 * sends ListUsers and closes the connection without waiting for it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "certrevoke.h"

#define CALLS 4

typedef struct Answer {
        int done;
        char text[256];
} Answer;

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const sd_bus_error *e = sd_bus_message_get_error(m);
        Answer *a = userdata;

        (void) ret_error;
        snprintf(a->text, sizeof a->text, "%s", e ? e->name : "ok");
        a->done = 1;
        return 0;
}

static int send_call(sd_bus *bus, Answer *a, const char *member, const char *types, ...) {
        sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, CR_BUS_NAME, CR_MANAGER_PATH, CR_MANAGER_IFACE, member);
        if (r >= 0) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
        }
        if (r >= 0)
                r = sd_bus_call_async(bus, NULL, m, on_reply, a, 0);
        sd_bus_message_unref(m);
        return r;
}

static int leave(sd_bus *bus) {
        Answer a = {};
        int r;

        r = send_call(bus, &a, "ListUsers", "");
        if (r >= 0)
                r = sd_bus_flush(bus);
        sd_bus_close(bus);
        sd_bus_unref(bus);
        return r < 0;
}

int main(int argc, char *argv[]) {
        Answer answers[CALLS] = {};
        sd_bus *bus = NULL;
        unsigned uid;
        int r;

        if (sd_bus_open_system(&bus) < 0) {
                fprintf(stderr, "cannot connect to the bus\n");
                return 1;
        }
        if (argc == 2 && strcmp(argv[1], "--leave") == 0)
                return leave(bus);
        if (argc != 3 || sscanf(argv[2], "%u", &uid) != 1) {
                fprintf(stderr, "usage: bus-pipeline LOGIN UID | --leave\n");
                return 2;
        }
        r = send_call(bus, &answers[0], "AddUser", "sssu", argv[1], "Pipeline", "general", uid);
        if (r >= 0)
                r = send_call(bus, &answers[1], "GetUser", "s", argv[1]);
        if (r >= 0)
                r = send_call(bus, &answers[2], "RemoveUser", "s", argv[1]);
        if (r >= 0)
                r = send_call(bus, &answers[3], "GetUser", "s", argv[1]);
        if (r >= 0)
                r = sd_bus_flush(bus);
        for (unsigned i = 0; r >= 0 && i < CALLS; i++)
                while (r >= 0 && !answers[i].done) {
                        r = sd_bus_process(bus, NULL);
                        if (r == 0)
                                r = sd_bus_wait(bus, 10 * 1000000ULL);
                }
        if (r < 0) {
                fprintf(stderr, "bus: %s\n", strerror(-r));
                return 1;
        }
        for (unsigned i = 0; i < CALLS; i++)
                printf("%s\n", answers[i].text);
        sd_bus_flush_close_unref(bus);
        return 0;
}
