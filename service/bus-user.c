/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "bus-user.h"
#include "caller.h"
#include "certrevoke.h"
#include "log.h"
#include "util.h"

int user_object_path(const char *login_id, char **ret) {
        return sd_bus_path_encode(CR_USER_PATH_PREFIX, login_id, ret);
}

void user_object_path_buf(const char *login_id, char buf[static USER_PATH_MAX]) {
        static const char hex[] = "0123456789abcdef";
        char *p = stpcpy(buf, CR_USER_PATH_PREFIX "/");

        /* sd_bus_path_encode's escaping: letters, and digits after the first */
        for (const char *s = login_id; *s; s++) {
                if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                    (s > login_id && *s >= '0' && *s <= '9'))
                        *p++ = *s;
                else {
                        *p++ = '_';
                        *p++ = hex[(unsigned char) *s >> 4];
                        *p++ = hex[(unsigned char) *s & 15];
                }
        }
        *p = 0;
}

/* Identifies the sender of m, remembering it for the rest of m: sd-bus
 * asks once per object, and GetManagedObjects asks for every user. */
static int seen_caller(Context *c, sd_bus_message *m, Caller *ret) {
        const char *sender = sd_bus_message_get_sender(m);
        uint64_t cookie = 0;
        Caller caller = {};
        int r;

        (void) sd_bus_message_get_cookie(m, &cookie);
        if (c->seen.message != m || c->seen.cookie != cookie || !streq_ptr(c->seen.sender, sender)) {
                if ((r = caller_identify(c, m, &caller)) < 0)
                        return r;
                free(c->seen.sender);
                free(c->seen.login);
                c->seen.message = m;
                c->seen.cookie = cookie;
                c->seen.sender = sender ? strdup(sender) : NULL;
                c->seen.uid = caller.uid;
                c->seen.login = caller.login;
                c->seen.role = caller.role;
                free(caller.suspended_login);
        }
        *ret = (Caller) { .uid = c->seen.uid, .login = c->seen.login, .role = c->seen.role };
        return 0;
}

void bus_user_forget_caller(Context *c) {
        free(c->seen.sender);
        free(c->seen.login);
        memset(&c->seen, 0, sizeof c->seen);
}

/* Whether the sender of the message sd-bus is handling may see login_id.
 * Our own signals carry no sender and see everything. */
static int visible(Context *c, sd_bus *bus, const char *login_id) {
        sd_bus_message *m = sd_bus_get_current_message(bus);
        Caller caller;

        if (c->emitting || !m)
                return 1;
        if (seen_caller(c, m, &caller) < 0)
                return 0;
        return caller_may_see(&caller, login_id);
}

static int user_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                     void **found, sd_bus_error *error) {
        _cleanup_free_ char *login = NULL;
        Context *c = userdata;
        UserView v;
        int r;

        (void) interface;
        (void) error;
        r = sd_bus_path_decode(path, CR_USER_PATH_PREFIX, &login);
        if (r <= 0 || cr_login_id_invalid(login))
                return 0;
        if (!visible(c, bus, login))
                return 0;
        r = store_get_user(c->store, login, &v);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        /* sd-bus reads the properties right after the lookup, one object at a time */
        user_view_done(&c->view);
        c->view = v;
        *found = &c->view;
        return 1;
}

typedef struct PathList {
        char **paths;
        size_t n;
        size_t allocated;
        const Caller *caller;
} PathList;

static int collect_path(const UserRow *u, void *userdata) {
        PathList *l = userdata;
        char *p;
        int r;

        if (!caller_may_see(l->caller, u->login_id))
                return 0;
        if (l->n + 2 > l->allocated) {
                size_t a = l->allocated ? l->allocated * 2 : 64;
                char **n = realloc(l->paths, a * sizeof *n);

                if (!n)
                        return -ENOMEM;
                l->paths = n;
                l->allocated = a;
        }
        if ((r = user_object_path(u->login_id, &p)) < 0)
                return r;
        l->paths[l->n++] = p;
        l->paths[l->n] = NULL;
        return 0;
}

static int user_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                          sd_bus_error *error) {
        sd_bus_message *m = sd_bus_get_current_message(bus);
        Caller caller = { .role = CR_ROLE_MASTER, .login = (char *) CR_ROOT_LOGIN };
        PathList l = { .caller = &caller };
        Context *c = userdata;
        int r;

        (void) path;
        (void) error;
        if (m && !c->emitting && (r = caller_identify(c, m, &caller)) < 0)
                return r;
        r = store_foreach_user(c->store, collect_path, &l);
        if (caller.login != (char *) CR_ROOT_LOGIN)
                caller_done(&caller);
        if (r < 0) {
                for (size_t i = 0; i < l.n; i++)
                        free(l.paths[i]);
                free(l.paths);
                return r;
        }
        if (!l.paths && !(l.paths = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *nodes = l.paths;
        return 1;
}

static int property_string(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const UserView *v = userdata;
        const char *s = NULL;

        (void) bus, (void) path, (void) interface, (void) error;
        if (strcmp(property, "LoginId") == 0)
                s = v->row.login_id;
        else if (strcmp(property, "Name") == 0)
                s = v->row.name;
        else if (strcmp(property, "Role") == 0)
                s = cr_role_to_string(v->row.role);
        else if (strcmp(property, "CertificateState") == 0)
                s = cr_cert_state_to_string(v->row.state);
        else if (strcmp(property, "CertificateSerial") == 0)
                s = v->row.serial;
        else if (strcmp(property, "CertificateSubject") == 0)
                s = v->row.subject;
        else if (strcmp(property, "CertificateURI") == 0)
                s = v->row.uri;
        else if (strcmp(property, "RevocationReason") == 0)
                s = v->row.revocation_reason;
        else if (strcmp(property, "CertificateRemoval") == 0)
                s = v->row.removal;
        return sd_bus_message_append(reply, "s", s ? s : "");
}

static int property_uint64(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const UserView *v = userdata;
        uint64_t t = 0;

        (void) bus, (void) path, (void) interface, (void) error;
        if (strcmp(property, "CertificateNotAfter") == 0)
                t = v->row.state == CR_CERT_NOT_ISSUED ? 0 : v->row.not_after_usec;
        else if (strcmp(property, "RevokedAt") == 0)
                t = v->row.revoked_usec;
        return sd_bus_message_append(reply, "t", t);
}

static int property_suspended(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const UserView *v = userdata;

        (void) bus, (void) path, (void) interface, (void) property, (void) error;
        return sd_bus_message_append(reply, "b", v->row.suspended_usec != 0);
}

static int property_uid(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const UserView *v = userdata;

        (void) bus, (void) path, (void) interface, (void) property, (void) error;
        return sd_bus_message_append(reply, "u", v->row.uid);
}

#define CHANGES SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE
static const sd_bus_vtable user_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("LoginId", "s", property_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Name", "s", property_string, 0, CHANGES),
        SD_BUS_PROPERTY("Role", "s", property_string, 0, CHANGES),
        SD_BUS_PROPERTY("Uid", "u", property_uid, 0, CHANGES),
        SD_BUS_PROPERTY("CertificateState", "s", property_string, 0, CHANGES),
        SD_BUS_PROPERTY("CertificateSerial", "s", property_string, 0, CHANGES),
        SD_BUS_PROPERTY("CertificateSubject", "s", property_string, 0, CHANGES),
        SD_BUS_PROPERTY("CertificateNotAfter", "t", property_uint64, 0, CHANGES),
        SD_BUS_PROPERTY("CertificateURI", "s", property_string, 0, CHANGES),
        SD_BUS_PROPERTY("RevokedAt", "t", property_uint64, 0, CHANGES),
        SD_BUS_PROPERTY("RevocationReason", "s", property_string, 0, CHANGES),
        /* "removed" or "pending" once revoked: whether the token copy is gone */
        SD_BUS_PROPERTY("CertificateRemoval", "s", property_string, 0, CHANGES),
        /* 利用者停止: can do nothing, and the certificate is on hold */
        SD_BUS_PROPERTY("Suspended", "b", property_suspended, 0, CHANGES),
        SD_BUS_VTABLE_END,
};

int bus_user_register(Context *c) {
        int r;

        r = sd_bus_add_fallback_vtable(c->bus, NULL, CR_USER_PATH_PREFIX, CR_USER_IFACE,
                                       user_vtable, user_find, c);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(c->bus, NULL, CR_USER_PATH_PREFIX, user_enumerate, c);
}

typedef int (*emit_fn)(sd_bus *bus, const char *path);

static int emit_changed_all(sd_bus *bus, const char *path) {
        return sd_bus_emit_properties_changed(bus, path, CR_USER_IFACE, "Name", "Role", "Uid",
                                              "CertificateState", "CertificateSerial",
                                              "CertificateSubject", "CertificateNotAfter",
                                              "CertificateURI", "RevokedAt", "RevocationReason",
                                              "CertificateRemoval", "Suspended", NULL);
}

static void emit(Context *c, const char *login_id, emit_fn fn, const char *what) {
        _cleanup_free_ char *path = NULL;
        int r;

        if ((r = user_object_path(login_id, &path)) >= 0) {
                c->emitting = true;
                r = fn(c->bus, path);
                c->emitting = false;
        }
        if (r < 0)
                log_warning_errno(r, "bus: cannot signal %s of user %s: %m", what, login_id);
}

void user_emit_changed(Context *c, const char *login_id) {
        emit(c, login_id, emit_changed_all, "a change");
}

void user_emit_added(Context *c, const char *login_id) {
        emit(c, login_id, sd_bus_emit_object_added, "the addition");
}

void user_emit_removed(Context *c, const char *login_id) {
        emit(c, login_id, sd_bus_emit_object_removed, "the removal");
}
