/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.certrevoke1.Manager: every handler validates its arguments, then
 * authorizes the caller, then acts, emits and replies, in that order. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "bus-account.h"
#include "bus-manager.h"
#include "durable.h"
#include "bus-user.h"
#include "caller.h"
#include "certrevoke.h"
#include "confirm-shadow.h"
#include "filing.h"
#include "history.h"
#include "log.h"
#include "recover.h"
#include "rescan.h"
#include "revoke.h"
#include "util.h"

static int invalid(sd_bus_error *error, const char *why) {
        return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "%s", why);
}

static int validate_login(const char *login, sd_bus_error *error) {
        const char *why = cr_login_id_invalid(login);

        return why ? invalid(error, why) : 0;
}

/* The longest role name; a longer argument is not repeated in the error. */
#define ROLE_NAME_MAX 7

static int validate_role(const char *role, CrRole *ret, sd_bus_error *error) {
        *ret = cr_role_from_string(role);
        if (*ret >= 0)
                return 0;
        if (strnlen(role, ROLE_NAME_MAX + 1) > ROLE_NAME_MAX)
                return invalid(error, "unknown role: use master, admin, general or worker");
        return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS,
                                 "unknown role \"%s\": use master, admin, general or worker", role);
}

/* UID 0 is root, which is no managed user; 65534 is the overflow UID that
 * stands for any unmapped one; from 2^31 - 1 on some tools read -1. */
static int validate_uid(uint32_t uid, sd_bus_error *error) {
        if (uid < CR_UID_MIN || uid > CR_UID_MAX || uid == CR_UID_NOBODY)
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS,
                                         "UID %" PRIu32 " cannot be a user's: use 1 to %u but not %u (UID 0 is root's, "
                                         "%u is nobody's)", uid, CR_UID_MAX, CR_UID_NOBODY, CR_UID_NOBODY);
        return 0;
}

/* Records a refused call in the history and returns AccessDenied. */
static int deny(Context *c, const Caller *caller, const char *action, const char *target,
                sd_bus_error *error) {
        (void) store_history_add(c->store, caller_name(caller), action, target, "denied");
        return sd_bus_error_setf(error, CR_ERROR_ACCESS_DENIED,
                                 "%s is not allowed to %s", caller_name(caller), action);
}

static int no_such_user(const char *login, sd_bus_error *error) {
        return sd_bus_error_setf(error, CR_ERROR_NO_SUCH_USER, "no user with login ID \"%s\"", login);
}

static int user_path_reply(sd_bus_message *m, const char *login, sd_bus_message **ret) {
        _cleanup_free_ char *path = NULL;
        int r;

        if ((r = user_object_path(login, &path)) < 0)
                return r;
        r = sd_bus_message_new_method_return(m, ret);
        if (r < 0)
                return r;
        return sd_bus_message_append(*ret, "o", path);
}

typedef struct ListState {
        sd_bus_message *reply;
        const Caller *caller;
} ListState;

static int append_user(const UserRow *u, void *userdata) {
        ListState *ls = userdata;
        char path[USER_PATH_MAX];
        uint64_t not_after = u->state == CR_CERT_NOT_ISSUED ? 0 : u->not_after_usec;

        if (!caller_may_see(ls->caller, u->login_id))
                return 0;
        user_object_path_buf(u->login_id, path);
        return sd_bus_message_append(ls->reply, "(sssssto)", u->login_id, u->name,
                                     cr_role_to_string(u->role), cr_cert_state_to_string(u->state),
                                     u->serial, not_after, path);
}

static int method_list_users(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_caller_ Caller caller = {};
        Context *c = userdata;
        ListState ls = { .caller = &caller };
        int r;

        (void) error;
        r = caller_identify_or_wait(c, m, method_list_users, userdata, &caller);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* runs again once the bus says who called */
        if ((r = sd_bus_message_new_method_return(m, &reply)) < 0 ||
            (r = sd_bus_message_open_container(reply, 'a', "(sssssto)")) < 0)
                return r;
        ls.reply = reply;
        if ((r = store_foreach_user(c->store, append_user, &ls)) < 0 ||
            (r = sd_bus_message_close_container(reply)) < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_get_user(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_caller_ Caller caller = {};
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Context *c = userdata;
        UserView v;
        const char *login;
        int r;

        if ((r = sd_bus_message_read(m, "s", &login)) < 0)
                return r;
        if ((r = validate_login(login, error)) < 0)
                return r;
        r = caller_identify_or_wait(c, m, method_get_user, userdata, &caller);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* runs again once the bus says who called */
        /* refuse before looking: others may not learn who exists */
        if (!caller_may_see(&caller, login))
                return sd_bus_error_setf(error, CR_ERROR_ACCESS_DENIED,
                                         "%s may only look up their own user", caller_name(&caller));
        r = store_get_user(c->store, login, &v);
        if (r == -ENOENT)
                return no_such_user(login, error);
        if (r < 0)
                return r;
        user_view_done(&v);
        r = user_path_reply(m, login, &reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_add_user(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_caller_ Caller caller = {};
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Context *c = userdata;
        const char *login, *name, *role_s, *why;
        uint32_t uid;
        CrRole role;
        int r;

        if ((r = sd_bus_message_read(m, "sssu", &login, &name, &role_s, &uid)) < 0)
                return r;
        if ((r = validate_login(login, error)) < 0)
                return r;
        if ((why = cr_name_invalid(name)))
                return invalid(error, why);
        if ((r = validate_role(role_s, &role, error)) < 0)
                return r;
        if ((r = validate_uid(uid, error)) < 0)
                return r;
        if (strcmp(login, CR_ROOT_LOGIN) == 0)
                return invalid(error, "login ID \"root\" is reserved for UID 0");
        r = caller_identify_or_wait(c, m, method_add_user, userdata, &caller);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* runs again once the bus says who called */
        if ((r = account_authorize(c, &caller, ACCOUNT_ADD_USER, login, role, error)) < 0)
                return r;

        r = store_add_user(c->store, login, name, role, uid);
        if (r == -EEXIST || r == -EADDRINUSE)
                (void) store_history_add(c->store, caller_name(&caller), "add-user", login, "exists");
        if (r == -EEXIST)
                return sd_bus_error_setf(error, CR_ERROR_USER_EXISTS,
                                         "a user with login ID \"%s\" exists already (login IDs are unique "
                                         "without regard to case)", login);
        if (r == -EADDRINUSE)
                return sd_bus_error_setf(error, CR_ERROR_USER_EXISTS,
                                         "UID %u belongs to another user already", uid);
        if (r < 0)
                return r;
        bus_user_forget_caller(c);
        (void) store_history_add(c->store, caller_name(&caller), "add-user", login, "ok");
        log_info("user %s (%s, UID %u) added by %s", login, role_s, uid, caller_name(&caller));
        user_emit_added(c, login);
        r = user_path_reply(m, login, &reply);
        if (r < 0)
                return r;
        return durable_reply(c, m, reply);
}

static int method_remove_user(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_caller_ Caller caller = {};
        Context *c = userdata;
        bool suspended;
        UserView v;
        const char *login;
        int r;

        if ((r = sd_bus_message_read(m, "s", &login)) < 0)
                return r;
        if ((r = validate_login(login, error)) < 0)
                return r;
        r = caller_identify_or_wait(c, m, method_remove_user, userdata, &caller);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* runs again once the bus says who called */
        if ((r = account_authorize(c, &caller, ACCOUNT_REMOVE_USER, login, _CR_ROLE_INVALID, error)) < 0)
                return r;
        r = store_get_user(c->store, login, &v);
        if (r == -ENOENT)
                return no_such_user(login, error);
        if (r < 0)
                return r;
        suspended = v.row.suspended_usec != 0;
        user_view_done(&v);
        /* its certificate is on hold: removing the user would take it off the CRL */
        if (suspended)
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS,
                                         "%s is suspended: resume the user or revoke the certificate first", login);

        /* InterfacesRemoved must go out while the object still exists */
        user_emit_removed(c, login);
        if ((r = store_remove_user(c->store, login)) < 0) {
                user_emit_added(c, login);
                return r;
        }
        bus_user_forget_caller(c);
        /* a login added again later must not inherit the old password */
        r = confirm_shadow_remove(c->config.confirmation_file, login, NULL);
        if (r < 0 && r != -ENOENT)
                log_warning_errno(r, "the confirmation password of the removed user %s stays: %m", login);
        (void) store_history_add(c->store, caller_name(&caller), "remove-user", login, "ok");
        log_info("user %s removed by %s", login, caller_name(&caller));
        return durable_reply_empty(c, m);
}

static int method_set_user_role(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_caller_ Caller caller = {};
        Context *c = userdata;
        const char *login, *role_s;
        CrRole role;
        int r;

        if ((r = sd_bus_message_read(m, "ss", &login, &role_s)) < 0)
                return r;
        if ((r = validate_login(login, error)) < 0)
                return r;
        if ((r = validate_role(role_s, &role, error)) < 0)
                return r;
        r = caller_identify_or_wait(c, m, method_set_user_role, userdata, &caller);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* runs again once the bus says who called */
        if ((r = account_authorize(c, &caller, ACCOUNT_SET_ROLE, login, role, error)) < 0)
                return r;
        r = store_set_role(c->store, login, role);
        if (r == -ENOENT)
                return no_such_user(login, error);
        if (r < 0)
                return r;
        bus_user_forget_caller(c);
        (void) store_history_add(c->store, caller_name(&caller), "set-role", login, role_s);
        log_info("user %s is now %s, set by %s", login, role_s, caller_name(&caller));
        user_emit_changed(c, login);
        return durable_reply_empty(c, m);
}

static int import_error(int r, const char *login, const char *why, sd_bus_error *error) {
        switch (r) {
        case -ENOENT:
                return no_such_user(login, error);
        case -EBADMSG: case -EPERM: case -ENOKEY: case -EXDEV: case -EEXIST:
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "%s", why);
        default:
                return r;
        }
}

static int method_import_certificate(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_caller_ Caller caller = {};
        _cleanup_free_ char *filed_as = NULL;
        Context *c = userdata;
        const void *der;
        const char *login, *why = NULL;
        size_t len;
        int r, changed;

        if ((r = sd_bus_message_read(m, "s", &login)) < 0 ||
            (r = sd_bus_message_read_array(m, 'y', &der, &len)) < 0)
                return r;
        if ((r = validate_login(login, error)) < 0)
                return r;
        if (len == 0)
                return invalid(error, "certificate is empty");
        if (len > CR_CERTIFICATE_MAX)
                return invalid(error, "certificate is larger than 65536 bytes");
        r = caller_identify_or_wait(c, m, method_import_certificate, userdata, &caller);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* runs again once the bus says who called */
        if (!caller_is_privileged(&caller))
                return deny(c, &caller, "import-certificate", login, error);

        r = filing_file(c, der, len, NULL, login, &filed_as, &changed, &why);
        /* a certificate refused for what it is changed nothing: no row */
        if (r < 0)
                return import_error(r, login, why, error);
        (void) store_history_add(c->store, caller_name(&caller), "import-certificate", login, "ok");
        log_info("certificate imported for %s by %s", login, caller_name(&caller));
        if (changed)
                user_emit_changed(c, login);
        return durable_reply_empty(c, m);
}

static int method_rescan(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_caller_ Caller caller = {};
        Context *c = userdata;
        int r;

        r = caller_identify_or_wait(c, m, method_rescan, userdata, &caller);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* runs again once the bus says who called */
        if (!caller_is_privileged(&caller))
                return deny(c, &caller, "rescan", "", error);
        /* the reply comes when the walk ends; the loop goes on meanwhile */
        if ((r = rescan_start(c, m)) < 0)
                return r;
        return 1;
}

/* A row that stands for several refusals says how many in its result,
 * "denied ×N", so that the reply keeps its type for existing clients. */
static int append_history(uint64_t t, const char *actor, const char *action, const char *target,
                          const char *result, uint64_t count, void *userdata) {
        _cleanup_free_ char *counted = NULL;

        if (count > 1 && asprintf(&counted, "%s \u00d7%" PRIu64, result, count) < 0)
                return -ENOMEM;
        return sd_bus_message_append(userdata, "(tssss)", t, actor, action, target, counted ? counted : result);
}

static int method_get_history(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_caller_ Caller caller = {};
        Context *c = userdata;
        const char *login, *filter;
        uint64_t since;
        uint32_t limit;
        int r;

        if ((r = sd_bus_message_read(m, "stu", &login, &since, &limit)) < 0)
                return r;
        if (*login && (r = validate_login(login, error)) < 0)
                return r;
        if (limit > CR_HISTORY_LIMIT_MAX)
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "limit is at most %u", CR_HISTORY_LIMIT_MAX);
        r = caller_identify_or_wait(c, m, method_get_history, userdata, &caller);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* runs again once the bus says who called */
        /* master and admin users read everyone's history, others their own */
        if (!caller_is_privileged(&caller) && (!caller.login || (*login && strcmp(login, caller.login) != 0)))
                return sd_bus_error_setf(error, CR_ERROR_ACCESS_DENIED,
                                         "%s may only read their own history", caller_name(&caller));
        filter = *login ? login : caller_is_privileged(&caller) ? NULL : caller.login;
        if ((r = sd_bus_message_new_method_return(m, &reply)) < 0 ||
            (r = sd_bus_message_open_container(reply, 'a', "(tssss)")) < 0 ||
            (r = store_history_query(c->store, filter, since, limit ? limit : CR_HISTORY_LIMIT_DEFAULT,
                                     append_history, reply)) < 0 ||
            (r = sd_bus_message_close_container(reply)) < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_verify_history(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_caller_ Caller caller = {};
        Context *c = userdata;
        int r;

        r = caller_identify_or_wait(c, m, method_verify_history, userdata, &caller);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* runs again once the bus says who called */
        /* a walk over every row: for those who may read everyone's history */
        if (!caller_is_privileged(&caller))
                return sd_bus_error_setf(error, CR_ERROR_ACCESS_DENIED,
                                         "only master and administrator users may verify the history");
        /* the reply comes when the walk ends; the loop goes on meanwhile */
        return history_verify(c, m, error);
}

/* The daemon writes only into a file the caller opened: an empty regular
 * file, open for writing. */
static int validate_backup_fd(int fd, sd_bus_error *error) {
        struct stat st;
        int flags;

        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return invalid(error, "the backup must go into a regular file");
        if (st.st_size != 0)
                return invalid(error, "the backup file must be empty");
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || ((flags & O_ACCMODE) != O_WRONLY && (flags & O_ACCMODE) != O_RDWR))
                return invalid(error, "the backup file must be open for writing");
        return 0;
}

static int method_backup(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_caller_ Caller caller = {};
        Context *c = userdata;
        int fd, r;

        if ((r = sd_bus_message_read(m, "h", &fd)) < 0)
                return r;
        if ((r = validate_backup_fd(fd, error)) < 0)
                return r;
        r = caller_identify_or_wait(c, m, method_backup, userdata, &caller);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* runs again once the bus says who called */
        /* the store holds every user's data: root's alone to copy */
        if (caller.uid != 0) {
                (void) store_history_add(c->store, caller_name(&caller), "backup", "", "denied");
                return sd_bus_error_setf(error, CR_ERROR_ACCESS_DENIED,
                                         "%s is not allowed to back up the store: only root may",
                                         caller_name(&caller));
        }
        /* the reply comes when the copy is on disk; the loop goes on meanwhile */
        if ((r = recover_backup_start(c, m, fd)) < 0)
                return log_error_errno(r, "backup: cannot start: %m");
        return 1;
}

static int property_crl(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Context *c = userdata;
        CrlState st;
        uint64_t v;
        int r;

        (void) bus, (void) path, (void) interface, (void) error;
        if ((r = store_crl_state(c->store, &st)) < 0)
                return r;
        v = strcmp(property, "CRLNumber") == 0     ? st.number :
            strcmp(property, "CRLThisUpdate") == 0 ? st.this_update_usec : st.next_update_usec;
        return sd_bus_message_append(reply, "t", v);
}

/* sd-bus refuses every UID but the daemon's own unless told; the
 * handlers authorize each caller themselves. */
#define UNPRIVILEGED SD_BUS_VTABLE_UNPRIVILEGED
static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("CRLNumber", "t", property_crl, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("CRLThisUpdate", "t", property_crl, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("CRLNextUpdate", "t", property_crl, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("ListUsers", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(sssssto)", users), method_list_users, UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetUser", SD_BUS_ARGS("s", login_id),
                                SD_BUS_RESULT("o", user), method_get_user, UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddUser", SD_BUS_ARGS("s", login_id, "s", name, "s", role, "u", uid),
                                SD_BUS_RESULT("o", user), method_add_user, UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveUser", SD_BUS_ARGS("s", login_id), SD_BUS_NO_RESULT,
                                method_remove_user, UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetUserRole", SD_BUS_ARGS("s", login_id, "s", role), SD_BUS_NO_RESULT,
                                method_set_user_role, UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ImportCertificate", SD_BUS_ARGS("s", login_id, "ay", der),
                                SD_BUS_NO_RESULT, method_import_certificate, UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Rescan", SD_BUS_NO_ARGS, SD_BUS_RESULT("u", certificates_seen),
                                method_rescan, UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RevokeCertificate",
                                SD_BUS_ARGS("s", login_id, "s", serial, "s", reason, "s", confirmation_password),
                                SD_BUS_RESULT("(sss)", result), method_revoke_certificate,
                                UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("RevokeCertificates",
                                SD_BUS_ARGS("a(ss)", targets, "s", reason, "s", confirmation_password),
                                SD_BUS_RESULT("a(sss)", results), method_revoke_certificates,
                                UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("ChangeConfirmationPassword", SD_BUS_ARGS("s", old, "s", new), SD_BUS_NO_RESULT,
                                method_change_confirmation_password, UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("SetConfirmationPassword",
                                SD_BUS_ARGS("s", login_id, "s", new, "s", confirmation_password), SD_BUS_NO_RESULT,
                                method_set_confirmation_password, UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("SuspendUser", SD_BUS_ARGS("s", login_id, "s", confirmation_password),
                                SD_BUS_NO_RESULT, method_suspend_user, UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("ResumeUser", SD_BUS_ARGS("s", login_id, "s", confirmation_password),
                                SD_BUS_NO_RESULT, method_resume_user, UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("GetHistory", SD_BUS_ARGS("s", login_id, "t", since_usec, "u", limit),
                                SD_BUS_RESULT("a(tssss)", entries), method_get_history, UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Backup", SD_BUS_ARGS("h", fd), SD_BUS_NO_RESULT, method_backup, UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("VerifyHistory", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("b", intact, "t", rows, "t", first_bad_row, "s", why),
                                method_verify_history, UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("CertificateRevoked",
                                SD_BUS_ARGS("s", login_id, "s", serial, "s", reason, "t", revoked_at_usec), 0),
        SD_BUS_VTABLE_END,
};

int bus_manager_register(Context *c) {
        int r;

        r = sd_bus_add_object_vtable(c->bus, NULL, CR_MANAGER_PATH, CR_MANAGER_IFACE, manager_vtable, c);
        if (r < 0)
                return r;
        return sd_bus_add_object_manager(c->bus, NULL, CR_MANAGER_PATH);
}

static void on_crl_published(Context *c) {
        (void) sd_bus_emit_properties_changed(c->bus, CR_MANAGER_PATH, CR_MANAGER_IFACE, "CRLNumber", "CRLThisUpdate",
                                              "CRLNextUpdate", NULL);
}

static void on_removals_recorded(Context *c, char *const *logins) {
        for (char *const *l = logins; *l; l++)
                user_emit_changed(c, *l);
}

const PublishEvents bus_publish_events = {
        .crl_published = on_crl_published,
        .removals_recorded = on_removals_recorded,
};
