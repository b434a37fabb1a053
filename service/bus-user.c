/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "bus-user.h"
#include "caller.h"
#include "certrevoke.h"
#include "log.h"
#include "util.h"

int user_object_path(const char *login_id, char **ret) {
        return sd_bus_path_encode(CR_USER_PATH_PREFIX, login_id, ret);
}

/* sd_bus_path_encode's escaping: letters, and digits after the first,
 * stay; anything else becomes _XX. */
static bool path_char_plain(const char *login_id, const char *s) {
        return (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
               (s > login_id && *s >= '0' && *s <= '9');
}

static size_t user_object_path_len(const char *login_id) {
        size_t len = strlen(CR_USER_PATH_PREFIX "/");

        for (const char *s = login_id; *s; s++)
                len += path_char_plain(login_id, s) ? 1 : 3;
        return len;
}

void user_object_path_buf(const char *login_id, char buf[static USER_PATH_MAX]) {
        static const char hex[] = "0123456789abcdef";
        char *p = stpcpy(buf, CR_USER_PATH_PREFIX "/");

        for (const char *s = login_id; *s; s++) {
                if (path_char_plain(login_id, s))
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

/* Properties are read from the UserRow that user_find gives, by offset;
 * only those derived from it have a getter. */
static int property_role(sd_bus *bus, const char *path, const char *interface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const CrRole *role = userdata;
        const char *s = cr_role_to_string(*role);

        (void) bus, (void) path, (void) interface, (void) property, (void) error;
        return sd_bus_message_append_basic(reply, 's', s ? s : "");
}

static int property_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const CrCertState *state = userdata;
        const char *s = cr_cert_state_to_string(*state);

        (void) bus, (void) path, (void) interface, (void) property, (void) error;
        return sd_bus_message_append_basic(reply, 's', s ? s : "");
}

static int property_not_after(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const UserRow *u = userdata;
        /* a user without a certificate has no expiry, whatever the row holds */
        uint64_t t = u->state == CR_CERT_NOT_ISSUED ? 0 : u->not_after_usec;

        (void) bus, (void) path, (void) interface, (void) property, (void) error;
        return sd_bus_message_append_basic(reply, 't', &t);
}

static int property_suspended(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const uint64_t *suspended_usec = userdata;
        int b = *suspended_usec != 0;

        (void) bus, (void) path, (void) interface, (void) property, (void) error;
        return sd_bus_message_append_basic(reply, 'b', &b);
}

#define CHANGES SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE
#define ROW(field) offsetof(UserRow, field)
static const sd_bus_vtable user_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("LoginId", "s", NULL, ROW(login_id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Name", "s", NULL, ROW(name), CHANGES),
        SD_BUS_PROPERTY("Role", "s", property_role, ROW(role), CHANGES),
        SD_BUS_PROPERTY("Uid", "u", NULL, ROW(uid), CHANGES),
        SD_BUS_PROPERTY("CertificateState", "s", property_state, ROW(state), CHANGES),
        SD_BUS_PROPERTY("CertificateSerial", "s", NULL, ROW(serial), CHANGES),
        SD_BUS_PROPERTY("CertificateSubject", "s", NULL, ROW(subject), CHANGES),
        SD_BUS_PROPERTY("CertificateNotAfter", "t", property_not_after, 0, CHANGES),
        SD_BUS_PROPERTY("CertificateURI", "s", NULL, ROW(uri), CHANGES),
        SD_BUS_PROPERTY("RevokedAt", "t", NULL, ROW(revoked_usec), CHANGES),
        SD_BUS_PROPERTY("RevocationReason", "s", NULL, ROW(revocation_reason), CHANGES),
        /* "removed" or "pending" once revoked: whether the token copy is gone */
        SD_BUS_PROPERTY("CertificateRemoval", "s", NULL, ROW(removal), CHANGES),
        /* 利用者停止: can do nothing, and the certificate is on hold */
        SD_BUS_PROPERTY("Suspended", "b", property_suspended, ROW(suspended_usec), CHANGES),
        SD_BUS_VTABLE_END,
};

/* dbus-daemon's default max_message_size on the system bus: it disconnects
 * a sender whose message is larger, and the service would be gone from the
 * bus.  The users' objects leave room for the reply's header. */
#define BUS_MESSAGE_MAX (32U * 1024U * 1024U)
#define MANAGED_OBJECTS_REPLY_MAX (BUS_MESSAGE_MAX - 4096U)

/* The marshalling of the D-Bus specification: each value is aligned to
 * its size (a string to its 4-byte length, a dictionary entry to 8); an
 * array holds its length, then padding up to its first element. */
static size_t align_to(size_t offset, size_t alignment) {
        return (offset + alignment - 1) & ~(alignment - 1);
}

static size_t add_string(size_t offset, size_t len) {
        return align_to(offset, 4) + 4 + len + 1;
}

static size_t add_array_head(size_t offset) {
        return align_to(align_to(offset, 4) + 4, 8);
}

static size_t add_interface_head(size_t offset, const char *name) {
        return add_array_head(add_string(align_to(offset, 8), strlen(name)));
}

/* A role or state name, which a getter derives: none is longer. */
#define DERIVED_STRING_MAX 16

static size_t add_property(size_t offset, const sd_bus_vtable *v, const UserRow *u) {
        const char *const *value = (const void *) ((const uint8_t *) u + v->x.property.offset);

        assert(v->type == _SD_BUS_VTABLE_PROPERTY);
        offset = add_string(align_to(offset, 8), strlen(v->x.property.member));
        /* the variant's signature: its length, one type code, a NUL */
        offset += 3;
        switch (v->x.property.signature[0]) {
        case 's':
                return add_string(offset, v->x.property.get ? DERIVED_STRING_MAX : strlen(*value));
        case 't':
                return align_to(offset, 8) + 8;
        default:
                return align_to(offset, 4) + 4;
        }
}

/* sd-bus lists these with every object, without properties */
static const char *const standard_interfaces[] = {
        "org.freedesktop.DBus.Peer",
        "org.freedesktop.DBus.Introspectable",
        "org.freedesktop.DBus.Properties",
};

/* The bytes u's object takes in a GetManagedObjects reply, at most. */
static size_t user_reply_size(const UserRow *u) {
        size_t offset = add_array_head(add_string(0, user_object_path_len(u->login_id)));

        for (size_t i = 0; i < ELEMENTSOF(standard_interfaces); i++)
                offset = add_interface_head(offset, standard_interfaces[i]);
        offset = add_interface_head(offset, CR_USER_IFACE);
        for (const sd_bus_vtable *v = user_vtable + 1; v->type != _SD_BUS_VTABLE_END; v++)
                offset = add_property(offset, v, u);
        /* the next object starts on 8 */
        return align_to(offset, 8);
}

/* The users one call enumerated, for the objects sd-bus then reads one at
 * a time: GetManagedObjects would otherwise query the store once per user. */
typedef struct UserEntry {
        UserRow row;
        char *strings;                  /* the row's strings, in one block */
} UserEntry;

struct UserSnapshot {
        sd_bus_message *message;        /* the call it was read for (a reference) */
        UserEntry *entries;             /* the users the caller may see, in login order */
        size_t n;
        size_t allocated;
        sd_event_source *drop;          /* frees it once the call is answered */
};

static UserSnapshot *user_snapshot_free(UserSnapshot *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                free(s->entries[i].strings);
        free(s->entries);
        sd_bus_message_unref(s->message);
        sd_event_source_disable_unref(s->drop);
        free(s);
        return NULL;
}

static void user_snapshot_freep(UserSnapshot **s) {
        user_snapshot_free(*s);
}

static void drop_user_snapshot(Context *c) {
        c->user_snapshot = user_snapshot_free(c->user_snapshot);
}

void bus_user_forget_caller(Context *c) {
        free(c->seen.sender);
        free(c->seen.login);
        memset(&c->seen, 0, sizeof c->seen);
        drop_user_snapshot(c);
}

/* Copies *u, whose strings are borrowed from the store, into e. */
static int user_entry_init(UserEntry *e, const UserRow *u) {
        const char **fields[] = { &e->row.login_id, &e->row.name, &e->row.serial, &e->row.subject,
                                  &e->row.uri, &e->row.revocation_reason, &e->row.removal };
        size_t size = 0;
        char *p;

        e->row = *u;
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                size += strlen(*fields[i]) + 1;
        p = malloc(size);
        if (!p)
                return -ENOMEM;
        e->strings = p;
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                const char *copy = p;

                p = stpcpy(p, *fields[i]) + 1;
                *fields[i] = copy;
        }
        return 0;
}

static int user_snapshot_add(UserSnapshot *s, const UserRow *u) {
        int r;

        r = grow_array((void **) &s->entries, &s->allocated, s->n + 1, sizeof *s->entries);
        if (r < 0)
                return r;
        r = user_entry_init(&s->entries[s->n], u);
        if (r < 0)
                return r;
        s->n++;
        return 0;
}

typedef struct SnapshotFill {
        UserSnapshot *snapshot;
        const Caller *caller;
        size_t reply_size;      /* of GetManagedObjects, at most */
        size_t reply_max;       /* SIZE_MAX: no reply of ours carries the properties */
} SnapshotFill;

static int snapshot_fill(const UserRow *u, void *userdata) {
        SnapshotFill *f = userdata;
        const UserSnapshot *s = f->snapshot;

        if (!caller_may_see(f->caller, u->login_id))
                return 0;
        if (f->reply_max != SIZE_MAX) {
                f->reply_size += user_reply_size(u);
                if (f->reply_size > f->reply_max)
                        return -EMSGSIZE;
        }
        /* the store lists by login ID; user_snapshot_find relies on it */
        assert(s->n == 0 || strcmp(s->entries[s->n - 1].row.login_id, u->login_id) < 0);
        return user_snapshot_add(f->snapshot, u);
}

/* Reads every user the caller may see: all of them for master and admin
 * users, else at most the caller's own.  -EMSGSIZE: their objects would
 * take more than reply_max bytes. */
static int user_snapshot_read(Context *c, const Caller *caller, size_t reply_max, UserSnapshot **ret) {
        _cleanup_(user_snapshot_freep) UserSnapshot *s = NULL;
        SnapshotFill f;
        UserView own;
        int r;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        f = (SnapshotFill) { .snapshot = s, .caller = caller, .reply_max = reply_max };
        if (caller_is_privileged(caller)) {
                r = store_foreach_user(c->store, snapshot_fill, &f);
                if (r == -EMSGSIZE)
                        return r;
                if (r < 0)
                        return log_error_errno(r, "bus: cannot read the users: %m");
        } else if (caller->login) {
                r = store_get_user(c->store, caller->login, &own);
                if (r < 0 && r != -ENOENT)
                        return log_error_errno(r, "bus: cannot read user %s: %m", caller->login);
                if (r >= 0) {
                        r = snapshot_fill(&own.row, &f);
                        user_view_done(&own);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static int compare_login(const void *key, const void *entry) {
        return strcmp(key, ((const UserEntry *) entry)->row.login_id);
}

static const UserRow *user_snapshot_find(const UserSnapshot *s, const char *login_id) {
        const UserEntry *e;

        if (s->n == 0)
                return NULL;
        e = bsearch(login_id, s->entries, s->n, sizeof *s->entries, compare_login);
        return e ? &e->row : NULL;
}

static int on_call_answered(sd_event_source *source, void *userdata) {
        Context *c = userdata;

        (void) source;
        drop_user_snapshot(c);
        return 0;
}

/* The snapshot for the message m, read now unless this message has one;
 * it lives until the event loop turns, past the reply to m. */
static int user_snapshot_for(Context *c, sd_bus_message *m, UserSnapshot **ret) {
        _cleanup_(user_snapshot_freep) UserSnapshot *s = NULL;
        Caller caller;
        int managed, r;

        assert(c->event);
        if (c->user_snapshot && c->user_snapshot->message == m) {
                *ret = c->user_snapshot;
                return 0;
        }
        r = seen_caller(c, m, &caller);
        if (r < 0)
                return log_error_errno(r, "bus: cannot identify the caller: %m");
        managed = sd_bus_message_is_method_call(m, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
        r = user_snapshot_read(c, &caller, managed > 0 ? MANAGED_OBJECTS_REPLY_MAX : SIZE_MAX, &s);
        if (r < 0)
                return r;
        r = sd_event_add_defer(c->event, &s->drop, on_call_answered, c);
        if (r < 0)
                return log_error_errno(r, "bus: cannot schedule the end of a user listing: %m");
        s->message = sd_bus_message_ref(m);
        drop_user_snapshot(c);
        c->user_snapshot = TAKE_PTR(s);
        *ret = c->user_snapshot;
        return 0;
}

/* The snapshot taken for the message sd-bus is handling, if any; never
 * while we emit signals, which must show the store as it is now. */
static const UserSnapshot *current_snapshot(Context *c, sd_bus *bus) {
        sd_bus_message *m = sd_bus_get_current_message(bus);

        if (c->emitting || !m || !c->user_snapshot || c->user_snapshot->message != m)
                return NULL;
        return c->user_snapshot;
}

static int user_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                     void **found, sd_bus_error *error) {
        _cleanup_free_ char *login = NULL;
        Context *c = userdata;
        const UserSnapshot *s;
        UserView v;
        int r;

        (void) interface;
        (void) error;
        r = sd_bus_path_decode(path, CR_USER_PATH_PREFIX, &login);
        if (r <= 0 || cr_login_id_invalid(login))
                return 0;
        s = current_snapshot(c, bus);
        if (s) {
                /* enumerated for this very call: only the users it may see are in it */
                const UserRow *u = user_snapshot_find(s, login);

                if (!u)
                        return 0;
                *found = (void *) u;
                return 1;
        }
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
        *found = &c->view.row;
        return 1;
}

static int snapshot_paths(const UserSnapshot *s, char ***ret) {
        char **paths;

        paths = calloc(s->n + 1, sizeof *paths);
        if (!paths)
                return -ENOMEM;
        for (size_t i = 0; i < s->n; i++) {
                int r = user_object_path(s->entries[i].row.login_id, &paths[i]);

                if (r < 0) {
                        strv_free(paths);
                        return r;
                }
        }
        *ret = paths;
        return 0;
}

static int user_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                          sd_bus_error *error) {
        static const Caller root = { .role = CR_ROLE_MASTER, .login = (char *) CR_ROOT_LOGIN };
        _cleanup_(user_snapshot_freep) UserSnapshot *own = NULL;
        sd_bus_message *m = sd_bus_get_current_message(bus);
        Context *c = userdata;
        UserSnapshot *s = NULL;
        int r;

        (void) path;
        if (m && !c->emitting)
                r = user_snapshot_for(c, m, &s);
        else {
                /* our own signals: every object */
                r = user_snapshot_read(c, &root, SIZE_MAX, &own);
                s = own;
        }
        if (r == -EMSGSIZE) {
                log_notice("bus: GetManagedObjects refused: the users do not fit in one message");
                return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                         "The users are too many for one GetManagedObjects reply: "
                                         "it would exceed the bus's %u MiB a message; use ListUsers",
                                         BUS_MESSAGE_MAX >> 20);
        }
        if (r < 0)
                return r;
        r = snapshot_paths(s, nodes);
        if (r < 0)
                return r;
        return 1;
}

int bus_user_register(Context *c) {
        int r;

        /* the reply size bound of GetManagedObjects counts on it */
        for (CrRole role = 0; role < _CR_ROLE_MAX; role++)
                assert(strlen(cr_role_to_string(role)) <= DERIVED_STRING_MAX);
        for (CrCertState state = 0; state < _CR_CERT_STATE_MAX; state++)
                assert(strlen(cr_cert_state_to_string(state)) <= DERIVED_STRING_MAX);

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
