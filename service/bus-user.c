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
 * may look up an object more than once for one message. */
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

/* ---- The users as GetManagedObjects read them last
 *
 * Kept while the store is unchanged and no certificate among them has
 * expired since, so that a client that polls the objects pays the store's
 * read only after a change.  Only for callers who see every user: another
 * caller's reply is one row. */

typedef struct UserEntry {
        UserRow row;
        char *strings;                  /* the row's strings, in one block */
} UserEntry;

struct UserCache {
        UserEntry *entries;             /* every user, in login order */
        size_t n;
        size_t allocated;
        size_t reply_size;              /* of their objects in a reply, at most */
        StoreVersion version;           /* of the store, before the read */
        uint64_t read_usec;             /* the wall clock after the read */
        uint64_t valid_until_usec;      /* the first expiry of a valid certificate among them */
};

static UserCache *user_cache_free(UserCache *cache) {
        if (!cache)
                return NULL;
        for (size_t i = 0; i < cache->n; i++)
                free(cache->entries[i].strings);
        free(cache->entries);
        free(cache);
        return NULL;
}

static void user_cache_freep(UserCache **cache) {
        user_cache_free(*cache);
}

void bus_user_forget_caller(Context *c) {
        free(c->seen.sender);
        free(c->seen.login);
        memset(&c->seen, 0, sizeof c->seen);
        c->user_cache = user_cache_free(c->user_cache);
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

/* -EMSGSIZE: the users' objects would not fit in one message. */
static int user_cache_add(const UserRow *u, void *userdata) {
        UserCache *cache = userdata;
        int r;

        cache->reply_size += user_reply_size(u);
        if (cache->reply_size > MANAGED_OBJECTS_REPLY_MAX)
                return -EMSGSIZE;
        /* the state a valid certificate shows changes at its expiry */
        if ((u->state == CR_CERT_ISSUED || u->state == CR_CERT_RENEWED) &&
            u->not_after_usec < cache->valid_until_usec)
                cache->valid_until_usec = u->not_after_usec;
        r = grow_array((void **) &cache->entries, &cache->allocated, cache->n + 1, sizeof *cache->entries);
        if (r < 0)
                return r;
        r = user_entry_init(&cache->entries[cache->n], u);
        if (r < 0)
                return r;
        cache->n++;
        return 0;
}

static bool user_cache_holds(const UserCache *cache, const StoreVersion *version, uint64_t now) {
        return cache && cache->version.others == version->others && cache->version.own == version->own &&
               now >= cache->read_usec && now < cache->valid_until_usec;
}

/* Every user, from the cache while it holds, else read now.  -EMSGSIZE:
 * their objects would not fit in one message. */
static int user_cache_get(Context *c, const UserCache **ret) {
        _cleanup_(user_cache_freep) UserCache *cache = NULL;
        StoreVersion version;
        int r;

        /* the version before the read: a commit during it shows at the next call */
        r = store_version(c->store, &version);
        if (r < 0)
                return log_error_errno(r, "bus: cannot read the store's version: %m");
        if (user_cache_holds(c->user_cache, &version, now_usec())) {
                *ret = c->user_cache;
                return 0;
        }
        c->user_cache = user_cache_free(c->user_cache);
        cache = calloc(1, sizeof *cache);
        if (!cache)
                return -ENOMEM;
        *cache = (UserCache) { .version = version, .valid_until_usec = UINT64_MAX };
        r = store_foreach_user(c->store, user_cache_add, cache);
        if (r == -EMSGSIZE)
                return r;
        if (r < 0)
                return log_error_errno(r, "bus: cannot read the users: %m");
        /* the states were derived before this: an expired one stays so from here on */
        cache->read_usec = now_usec();
        c->user_cache = TAKE_PTR(cache);
        *ret = c->user_cache;
        return 0;
}

/* ---- Single objects: sd-bus asks for each by path */

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
        *found = &c->view.row;
        return 1;
}

typedef struct PathList {
        const Caller *caller;
        char **paths;                   /* NULL-terminated */
        size_t n;
        size_t allocated;
} PathList;

static int path_list_add(const UserRow *u, void *userdata) {
        PathList *l = userdata;
        int r;

        if (!caller_may_see(l->caller, u->login_id))
                return 0;
        r = grow_array((void **) &l->paths, &l->allocated, l->n + 2, sizeof *l->paths);
        if (r < 0)
                return r;
        r = user_object_path(u->login_id, &l->paths[l->n]);
        if (r < 0)
                return r;
        l->paths[++l->n] = NULL;
        return 0;
}

/* The users the caller may see: every one for master and admin users,
 * else at most the caller's own. */
static int path_list_fill(Context *c, PathList *l) {
        UserView own;
        int r;

        if (caller_is_privileged(l->caller))
                return store_foreach_user(c->store, path_list_add, l);
        if (!l->caller->login)
                return 0;
        r = store_get_user(c->store, l->caller->login, &own);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = path_list_add(&own.row, l);
        user_view_done(&own);
        return r;
}

/* The objects under the prefix, for Introspect. */
static int user_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                          sd_bus_error *error) {
        static const Caller root = { .role = CR_ROLE_MASTER, .login = (char *) CR_ROOT_LOGIN };
        sd_bus_message *m = sd_bus_get_current_message(bus);
        Context *c = userdata;
        Caller caller = root;
        PathList l = { .caller = &caller };
        int r;

        (void) path, (void) error;
        /* our own signals see every object */
        if (m && !c->emitting) {
                r = seen_caller(c, m, &caller);
                if (r < 0)
                        return log_error_errno(r, "bus: cannot identify the caller: %m");
        }
        r = path_list_fill(c, &l);
        if (r >= 0 && !l.paths) {
                l.paths = calloc(1, sizeof *l.paths);
                if (!l.paths)
                        r = -ENOMEM;
        }
        if (r < 0) {
                strv_free(l.paths);
                return log_error_errno(r, "bus: cannot list the users: %m");
        }
        *nodes = l.paths;
        return 1;
}

/* ---- GetManagedObjects
 *
 * Answered here rather than by sd-bus's object manager, which for each
 * object asks user_find by path, tries every prefix of the path, and writes
 * the standard interfaces through format strings: with many users that
 * walk, not the store, was most of the call.  The reply is the one sd-bus
 * gives, object by object and byte for byte: the same standard interfaces,
 * the properties of user_vtable in its order, through its getters.  Only
 * the order of the objects differs: login order, where sd-bus's follows
 * its hash table. */

/* A name of ours (an interface, a property): ASCII, so sd-bus's check of
 * each string's UTF-8 is left for the values. */
static int append_name(sd_bus_message *reply, const char *name) {
        size_t len = strlen(name);
        char *p;
        int r;

        r = sd_bus_message_append_string_space(reply, len, &p);
        if (r < 0)
                return r;
        memcpy(p, name, len);
        return 0;
}

/* Closes a value and its entry; an interface's properties and its entry;
 * an object's likewise. */
static int close_two(sd_bus_message *reply) {
        int r;

        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

/* As sd-bus writes a property: through the getter, else from the offset. */
static int append_property(sd_bus_message *reply, const char *path, const sd_bus_vtable *v, const UserRow *u,
                           sd_bus_error *error) {
        void *value = (void *) ((const uint8_t *) u + v->x.property.offset);
        const char *signature = v->x.property.signature;
        int r;

        r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r < 0)
                return r;
        r = append_name(reply, v->x.property.member);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'v', signature);
        if (r < 0)
                return r;
        if (v->x.property.get)
                r = v->x.property.get(sd_bus_message_get_bus(reply), path, CR_USER_IFACE, v->x.property.member,
                                      reply, value, error);
        else if (signature[0] == 's')
                r = sd_bus_message_append_basic(reply, 's', *(const char **) value);
        else
                r = sd_bus_message_append_basic(reply, signature[0], value);
        if (r < 0)
                return r;
        return close_two(reply);
}

static int open_interface(sd_bus_message *reply, const char *interface) {
        int r;

        r = sd_bus_message_open_container(reply, 'e', "sa{sv}");
        if (r < 0)
                return r;
        r = append_name(reply, interface);
        if (r < 0)
                return r;
        return sd_bus_message_open_container(reply, 'a', "{sv}");
}

static int append_user_object(sd_bus_message *reply, const UserRow *u, sd_bus_error *error) {
        char path[USER_PATH_MAX];
        int r;

        user_object_path_buf(u->login_id, path);
        r = sd_bus_message_open_container(reply, 'e', "oa{sa{sv}}");
        if (r < 0)
                return r;
        r = sd_bus_message_append_basic(reply, 'o', path);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "{sa{sv}}");
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(standard_interfaces); i++) {
                r = open_interface(reply, standard_interfaces[i]);
                if (r < 0)
                        return r;
                r = close_two(reply);
                if (r < 0)
                        return r;
        }
        r = open_interface(reply, CR_USER_IFACE);
        if (r < 0)
                return r;
        for (const sd_bus_vtable *v = user_vtable + 1; v->type != _SD_BUS_VTABLE_END; v++) {
                r = append_property(reply, path, v, u, error);
                if (r < 0)
                        return r;
        }
        r = close_two(reply);
        if (r < 0)
                return r;
        return close_two(reply);
}

/* The objects of the users the caller may see: every one for master and
 * admin users, else at most the caller's own. */
static int append_user_objects(Context *c, const Caller *caller, sd_bus_message *reply, sd_bus_error *error) {
        const UserCache *cache = NULL;
        UserView own;
        int r;

        if (caller_is_privileged(caller)) {
                r = user_cache_get(c, &cache);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < cache->n; i++) {
                        r = append_user_object(reply, &cache->entries[i].row, error);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (!caller->login)
                return 0;
        r = store_get_user(c->store, caller->login, &own);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "bus: cannot read user %s: %m", caller->login);
        r = append_user_object(reply, &own.row, error);
        user_view_done(&own);
        return r;
}

/* Every method call to the manager's path comes here first; all but
 * GetManagedObjects go on to the vtables and sd-bus. */
static int on_manager_call(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Context *c = userdata;
        Caller caller;
        int r;

        if (sd_bus_message_is_method_call(m, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects") <= 0)
                return 0;
        /* arguments: sd-bus's InvalidArgs */
        if (!isempty(sd_bus_message_get_signature(m, true)))
                return 0;
        r = seen_caller(c, m, &caller);
        if (r < 0)
                return log_error_errno(r, "bus: cannot identify the caller: %m");
        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "{oa{sa{sv}}}");
        if (r < 0)
                return r;
        r = append_user_objects(c, &caller, reply, error);
        if (r == -EMSGSIZE) {
                log_notice("bus: GetManagedObjects refused: the users do not fit in one message");
                return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                         "The users are too many for one GetManagedObjects reply: "
                                         "it would exceed the bus's %u MiB a message; use ListUsers",
                                         BUS_MESSAGE_MAX >> 20);
        }
        if (r < 0)
                return r;
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        r = sd_bus_send(NULL, reply, NULL);
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
        /* sd-bus would leave such properties out of GetManagedObjects; ours has none */
        for (const sd_bus_vtable *v = user_vtable + 1; v->type != _SD_BUS_VTABLE_END; v++)
                assert(v->type == _SD_BUS_VTABLE_PROPERTY &&
                       !(v->flags & (SD_BUS_VTABLE_HIDDEN | SD_BUS_VTABLE_PROPERTY_EXPLICIT)));

        r = sd_bus_add_fallback_vtable(c->bus, NULL, CR_USER_PATH_PREFIX, CR_USER_IFACE,
                                       user_vtable, user_find, c);
        if (r < 0)
                return r;
        r = sd_bus_add_node_enumerator(c->bus, NULL, CR_USER_PATH_PREFIX, user_enumerate, c);
        if (r < 0)
                return r;
        return sd_bus_add_object(c->bus, NULL, CR_MANAGER_PATH, on_manager_call, c);
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
