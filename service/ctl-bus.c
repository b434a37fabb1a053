/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevokectl: the bus.  One connection per run, made by main; calls to
 * the service and the replies read back (users, properties). */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "certrevoke.h"
#include "ctl.h"
#include "util.h"

/* Rescan and certificate import walk every token, and a smartcard reader can
 * take its time; the default 25 s of sd-bus would give up too early. */
#define CALL_TIMEOUT_USEC (UINT64_C(120) * UINT64_C(1000000))

static int connect_address(Ctl *c, sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r < 0)
                return ctl_fail(c, CTL_EXIT_FAILURE, r, _("Failed to connect to the bus at %s: %s"),
                                c->address, strerror(-r));
        r = sd_bus_set_address(bus, c->address);
        if (r < 0)
                return ctl_fail(c, CTL_EXIT_FAILURE, r, _("Failed to connect to the bus at %s: %s"),
                                c->address, strerror(-r));
        /* a bus, not a peer: Hello, names, the daemon's policy */
        r = sd_bus_set_bus_client(bus, 1);
        if (r < 0)
                return ctl_fail(c, CTL_EXIT_FAILURE, r, _("Failed to connect to the bus at %s: %s"),
                                c->address, strerror(-r));
        r = sd_bus_start(bus);
        if (r < 0)
                return ctl_fail(c, CTL_EXIT_FAILURE, r, _("Failed to connect to the bus at %s: %s"),
                                c->address, strerror(-r));
        *ret = TAKE_PTR(bus);
        return 0;
}

int ctl_bus_connect(Ctl *c) {
        int r;

        assert(c);
        assert(!c->bus);
        if (c->address)
                return connect_address(c, &c->bus);
        /* Honours DBUS_SYSTEM_BUS_ADDRESS. */
        r = sd_bus_open_system(&c->bus);
        if (r < 0)
                return ctl_fail(c, CTL_EXIT_FAILURE, r, _("Failed to connect to the system bus: %s"), strerror(-r));
        return 0;
}

int ctl_new_call(Ctl *c, const char *path, const char *iface, const char *member, sd_bus_message **ret) {
        int r;

        assert(c->bus);
        /* Interactive authorization stays off (the default): a script must
         * never hang on a polkit prompt. */
        r = sd_bus_message_new_method_call(c->bus, ret, CR_BUS_NAME, path, iface, member);
        if (r < 0)
                return ctl_fail(c, CTL_EXIT_FAILURE, r, _("Failed to create the call %s: %s"), member, strerror(-r));
        return 0;
}

int ctl_send_call(Ctl *c, sd_bus_message *m, sd_bus_message **reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call(c->bus, m, CALL_TIMEOUT_USEC, &error, reply);
        if (r < 0)
                return ctl_fail_bus(c, &error, r);
        return 0;
}

static int callv(Ctl *c, const char *path, const char *iface, const char *member, bool sensitive,
                 sd_bus_message **reply, const char *types, va_list ap) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = ctl_new_call(c, path, iface, member, &m);
        if (r < 0)
                return r;
        if (sensitive) {
                r = sd_bus_message_sensitive(m);
                if (r < 0)
                        return ctl_fail(c, CTL_EXIT_FAILURE, r, _("Failed to create the call %s: %s"), member,
                                        strerror(-r));
        }
        if (types) {
                r = sd_bus_message_appendv(m, types, ap);
                if (r < 0)
                        return ctl_fail(c, CTL_EXIT_FAILURE, r, _("Failed to create the call %s: %s"), member,
                                        strerror(-r));
        }
        return ctl_send_call(c, m, reply);
}

int ctl_call(Ctl *c, const char *path, const char *iface, const char *member, sd_bus_message **reply,
             const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = callv(c, path, iface, member, false, reply, types, ap);
        va_end(ap);
        return r;
}

int ctl_call_manager(Ctl *c, const char *member, sd_bus_message **reply, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = callv(c, CR_MANAGER_PATH, CR_MANAGER_IFACE, member, false, reply, types, ap);
        va_end(ap);
        return r;
}

int ctl_call_sensitive(Ctl *c, const char *member, sd_bus_message **reply, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = callv(c, CR_MANAGER_PATH, CR_MANAGER_IFACE, member, true, reply, types, ap);
        va_end(ap);
        return r;
}

/* ---- users ----------------------------------------------------------- */

static bool row_wanted(const Ctl *c, const CtlUserRow *u, const char *pattern) {
        if (c->state && strcmp(u->state, c->state) != 0)
                return false;
        if (c->role && strcmp(u->role, c->role) != 0)
                return false;
        return !pattern || ctl_pattern_match(pattern, u->login_id) || ctl_pattern_match(pattern, u->name);
}

static int row_compare(const void *a, const void *b) {
        const CtlUserRow *x = a, *y = b;
        int d = strcmp(x->login_id, y->login_id);

        return d != 0 ? d : strcmp(x->name, y->name);
}

int ctl_read_users(Ctl *c, sd_bus_message *reply, const char *pattern, CtlUserRow **ret, size_t *ret_n) {
        _cleanup_free_ CtlUserRow *rows = NULL;
        size_t n = 0, allocated = 0;
        CtlUserRow u;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(sssssto)");
        if (r < 0)
                return ctl_fail_parse(c, r);
        while ((r = sd_bus_message_read(reply, "(sssssto)", &u.login_id, &u.name, &u.role, &u.state,
                                        &u.serial, &u.not_after, &u.path)) > 0) {
                if (!row_wanted(c, &u, pattern))
                        continue;
                if (grow_array((void **) &rows, &allocated, n + 1, sizeof *rows) < 0)
                        return ctl_fail_oom(c);
                rows[n++] = u;
        }
        if (r < 0)
                return ctl_fail_parse(c, r);
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return ctl_fail_parse(c, r);
        if (n > 0)
                qsort(rows, n, sizeof(CtlUserRow), row_compare);
        *ret = TAKE_PTR(rows);
        *ret_n = n;
        return 0;
}

/* ---- properties ------------------------------------------------------ */

typedef union BasicValue {
        uint8_t y;
        int b;
        int16_t n;
        uint16_t q;
        int32_t i;
        uint32_t u;
        int64_t x;
        uint64_t t;
        double d;
        const char *s;
} BasicValue;

static void prop_set(CtlProp *p, char type, const BasicValue *v) {
        p->type = type;
        switch (type) {
        case 's': case 'o': case 'g': p->str = v->s; break;
        case 'y': p->u = v->y; break;
        case 'q': p->u = v->q; break;
        case 'u': p->u = v->u; break;
        case 't': p->u = v->t; break;
        case 'n': p->i = v->n; break;
        case 'i': p->i = v->i; break;
        case 'x': p->i = v->x; break;
        case 'b': p->i = v->b; break;
        case 'd': p->d = v->d; break;
        }
}

static bool type_is_readable_basic(const char *contents) {
        return contents && strlen(contents) == 1 && strchr("sogyqutnixbd", contents[0]);
}

/* Reads one variant into p; returns 1 if it was kept, 0 if skipped. */
static int read_variant(sd_bus_message *m, CtlProp *p) {
        const char *contents;
        BasicValue v;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (!type_is_readable_basic(contents)) {
                r = sd_bus_message_skip(m, "v");
                return r < 0 ? r : 0;
        }
        r = sd_bus_message_enter_container(m, 'v', contents);
        if (r < 0)
                return r;
        r = sd_bus_message_read_basic(m, contents[0], &v);
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        prop_set(p, contents[0], &v);
        return 1;
}

static int props_append(CtlProp **props, size_t *n, size_t *allocated, const CtlProp *p) {
        if (*n == *allocated) {
                size_t na = *allocated ? *allocated * 2 : 16;
                CtlProp *np = reallocarray(*props, na, sizeof(CtlProp));

                if (!np)
                        return -ENOMEM;
                *props = np;
                *allocated = na;
        }
        (*props)[(*n)++] = *p;
        return 0;
}

/* One {sv} entry; returns 1 if kept, 0 if skipped. */
static int read_entry(sd_bus_message *m, CtlProp *p) {
        int r, kept;

        r = sd_bus_message_read_basic(m, 's', &p->name);
        if (r < 0)
                return r;
        kept = read_variant(m, p);
        if (kept < 0)
                return kept;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        return kept;
}

int ctl_read_properties(Ctl *c, sd_bus_message *m, CtlProp **ret, size_t *ret_n) {
        _cleanup_free_ CtlProp *props = NULL;
        size_t n = 0, allocated = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return ctl_fail_parse(c, r);
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                CtlProp p = { 0 };

                r = read_entry(m, &p);
                if (r < 0)
                        return ctl_fail_parse(c, r);
                if (r > 0 && props_append(&props, &n, &allocated, &p) < 0)
                        return ctl_fail_oom(c);
        }
        if (r < 0)
                return ctl_fail_parse(c, r);
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return ctl_fail_parse(c, r);
        *ret = TAKE_PTR(props);
        *ret_n = n;
        return 0;
}

int ctl_get_user(Ctl *c, const char *login, sd_bus_message **ret_reply, CtlProp **ret, size_t *ret_n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *path_reply = NULL, *reply = NULL;
        const char *path;
        int r;

        r = ctl_call_manager(c, "GetUser", &path_reply, "s", login);
        if (r < 0)
                return r;
        r = sd_bus_message_read(path_reply, "o", &path);
        if (r < 0)
                return ctl_fail_parse(c, r);
        r = ctl_call(c, path, CTL_PROPERTIES_IFACE, "GetAll", &reply, "s", CR_USER_IFACE);
        if (r < 0)
                return r;
        r = ctl_read_properties(c, reply, ret, ret_n);
        if (r < 0)
                return r;
        *ret_reply = TAKE_PTR(reply);
        return 0;
}

const CtlProp *ctl_prop_find(const CtlProp *props, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(props[i].name, name) == 0)
                        return &props[i];
        return NULL;
}

const char *ctl_prop_str(const CtlProp *props, size_t n, const char *name) {
        const CtlProp *p = ctl_prop_find(props, n, name);

        return p && (p->type == 's' || p->type == 'o') ? p->str : "";
}

uint64_t ctl_prop_u64(const CtlProp *props, size_t n, const char *name) {
        const CtlProp *p = ctl_prop_find(props, n, name);

        return p && p->type == 't' ? p->u : 0;
}
