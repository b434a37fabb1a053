/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The seed's user-management menu: who may act on whom, confirmation
 * passwords (確認用パスワード) and suspension (利用者停止・解除).  Each call
 * is validated and authorized at once and acts once the acting user's own
 * confirmation password was right, authorized again then: roles may have
 * changed while PAM ran. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>

#include "bus-account.h"
#include "bus-user.h"
#include "caller.h"
#include "certrevoke.h"
#include "confirm-shadow.h"
#include "confirm.h"
#include "log.h"
#include "password-quality.h"
#include "publish.h"
#include "util.h"
#include "worker.h"

_Static_assert(CR_PASSWORD_MAX == CONFIRM_SHADOW_PASSWORD_MAX, "the daemon and the PAM module bound secrets alike");

static int invalid(sd_bus_error *error, const char *why) {
        return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "%s", why);
}

static int check_login(const char *login, sd_bus_error *error) {
        const char *why = cr_login_id_invalid(login);

        return why ? invalid(error, why) : 0;
}

/* Before PAM, libpwquality or libcrypt see it; a refusal here counts as
 * no attempt. */
static int check_secret(const char *secret, const char *what, sd_bus_error *error) {
        if (cr_password_too_long(secret))
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "%s is longer than %d bytes", what,
                                         CR_PASSWORD_MAX);
        return 0;
}

static int check_new_password(const char *password, sd_bus_error *error) {
        int r = check_secret(password, "the new confirmation password", error);

        if (r < 0)
                return r;
        if (password_has_control(password))
                return invalid(error, PASSWORD_QUALITY_CONTROL_REASON);
        return 0;
}

/* ---------------------------------------------------------------- who may act on whom */

static const struct {
        const char *name;       /* in the history and in refusals */
        const char *undoes;     /* what it does to a master user, if it can end their being one */
} account_actions[_ACCOUNT_ACTION_MAX] = {
        [ACCOUNT_ADD_USER]     = { "add-user",                  NULL },
        [ACCOUNT_REMOVE_USER]  = { "remove-user",               "removed" },
        [ACCOUNT_SET_ROLE]     = { "set-role",                  "demoted" },
        [ACCOUNT_SUSPEND]      = { "suspend",                   "suspended" },
        [ACCOUNT_RESUME]       = { "resume",                    NULL },
        [ACCOUNT_SET_PASSWORD] = { "set-confirmation-password", NULL },
};

static const char *const role_phrase[_CR_ROLE_MAX] = {
        [CR_ROLE_MASTER]  = "a master user",
        [CR_ROLE_ADMIN]   = "an admin user",
        [CR_ROLE_GENERAL] = "a general user",
        [CR_ROLE_WORKER]  = "a worker user",
};

/* master > admin > general, worker */
static int role_rank(CrRole role) {
        switch (role) {
        case CR_ROLE_MASTER:
                return 2;
        case CR_ROLE_ADMIN:
                return 1;
        default:
                return 0;
        }
}

/* What the table needs to know of the user acted on. */
typedef struct AccountTarget {
        bool root;                      /* the login "root", which is no stored user */
        CrRole role;                    /* as stored */
        bool last_active_master;
} AccountTarget;

static bool ends_a_master(AccountAction action, CrRole role) {
        return account_actions[action].undoes && (action != ACCOUNT_SET_ROLE || role != CR_ROLE_MASTER);
}

/* The table itself: NULL when the caller may, else why not (possibly in
 * buf).  Without a target it answers what it can before the target is
 * looked up. */
static const char *account_refusal(AccountAction action, const Caller *caller, const AccountTarget *target,
                                   CrRole role, char *buf, size_t size) {
        if (caller->uid == 0)
                return NULL;
        if (!caller->login)
                return caller->suspended_login ? "a suspended user can do nothing" : "the caller is no user of certrevoke";
        assert(caller->role >= 0 && caller->role < _CR_ROLE_MAX);
        if (!cr_role_is_privileged(caller->role)) {
                snprintf(buf, size, "%s cannot manage accounts", role_phrase[caller->role]);
                return buf;
        }
        if (!target)
                return NULL;
        if (target->root)
                return "only root acts on root";
        if (action != ACCOUNT_ADD_USER && role_rank(target->role) > role_rank(caller->role)) {
                snprintf(buf, size, "%s cannot act on %s", role_phrase[caller->role], role_phrase[target->role]);
                return buf;
        }
        if ((action == ACCOUNT_ADD_USER || action == ACCOUNT_SET_ROLE) && role_rank(role) > role_rank(caller->role)) {
                snprintf(buf, size, "%s cannot give the role %s", role_phrase[caller->role], cr_role_to_string(role));
                return buf;
        }
        if (target->last_active_master && ends_a_master(action, role)) {
                snprintf(buf, size, "the last active master user can only be %s by root", account_actions[action].undoes);
                return buf;
        }
        return NULL;
}

static int account_target(Context *c, AccountAction action, const char *login, CrRole role, AccountTarget *ret,
                          sd_bus_error *error) {
        uint64_t masters = 0;
        bool active_master;
        UserView v;
        int r;

        *ret = (AccountTarget) { .role = role };
        if (action == ACCOUNT_ADD_USER)
                return 0;
        if (action == ACCOUNT_SET_PASSWORD && strcmp(login, CR_ROOT_LOGIN) == 0) {
                ret->root = true;
                return 0;
        }
        r = store_get_user(c->store, login, &v);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, CR_ERROR_NO_SUCH_USER, "no user with login ID \"%s\"", login);
        if (r < 0)
                return log_error_errno(r, "store: cannot look up %s: %m", login);
        ret->role = v.row.role;
        active_master = v.row.role == CR_ROLE_MASTER && v.row.suspended_usec == 0;
        user_view_done(&v);
        if (!active_master || !ends_a_master(action, role))
                return 0;
        r = store_count_active_masters(c->store, &masters);
        if (r < 0)
                return log_error_errno(r, "store: cannot count the active master users: %m");
        ret->last_active_master = masters <= 1;
        return 0;
}

static int account_deny(Context *c, const Caller *caller, AccountAction action, const char *login, const char *why,
                        sd_bus_error *error) {
        const char *name = account_actions[action].name;

        (void) store_history_add(c->store, caller_name(caller), name, login, "denied");
        return sd_bus_error_setf(error, CR_ERROR_ACCESS_DENIED, "%s is not allowed to %s %s: %s", caller_name(caller),
                                 name, login, why);
}

int account_authorize(Context *c, const Caller *caller, AccountAction action, const char *login, CrRole role,
                      sd_bus_error *error) {
        AccountTarget target;
        const char *why;
        char buf[128];
        int r;

        assert(c);
        assert(caller);
        assert(login);
        assert(action >= 0 && action < _ACCOUNT_ACTION_MAX);
        /* refused before looking: others may not learn who exists */
        why = account_refusal(action, caller, NULL, role, buf, sizeof buf);
        if (why)
                return account_deny(c, caller, action, login, why, error);
        r = account_target(c, action, login, role, &target, error);
        if (r < 0)
                return r;
        why = account_refusal(action, caller, &target, role, buf, sizeof buf);
        if (why)
                return account_deny(c, caller, action, login, why, error);
        return 0;
}

/* Authorizes again once the confirmation came, with the caller as the
 * store says now: a role, a suspension or the number of active masters
 * may have changed while PAM ran. */
static int authorize_again(Context *c, const Caller *confirmed, AccountAction action, const char *login,
                           sd_bus_error *error) {
        _cleanup_caller_ Caller now = {};
        int r;

        r = caller_from_uid(c, confirmed->uid, &now);
        if (r < 0)
                return log_error_errno(r, "cannot identify UID %u again: %m", (unsigned) confirmed->uid);
        return account_authorize(c, &now, action, login, _CR_ROLE_INVALID, error);
}

static void reply_failure(sd_bus_message *m, int r, const sd_bus_error *error, const char *what) {
        if (sd_bus_error_is_set(error))
                (void) sd_bus_reply_method_error(m, error);
        else
                (void) sd_bus_reply_method_errnof(m, r, "%s failed: %m", what);
}

/* ---------------------------------------------------------------- confirmation passwords */

static int check_quality(const char *login, const char *password, const char *old, sd_bus_error *error) {
        char reason[PASSWORD_QUALITY_REASON_MAX] = "";

        if (password_quality_check(login, password, old, reason, sizeof reason, NULL) < 0)
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "the new confirmation password is too weak: %s",
                                         *reason ? reason : "refused");
        return 0;
}

/* The n-th string argument of m, read again once the confirmation came. */
static const char *string_arg(sd_bus_message *m, unsigned n) {
        const char *s = NULL;

        if (sd_bus_message_rewind(m, true) < 0)
                return NULL;
        for (unsigned i = 0; i <= n; i++)
                if (sd_bus_message_read_basic(m, 's', &s) <= 0)
                        return NULL;
        return s;
}

/* A change of the confirmation file: hashing and fsync run off the loop. */
typedef struct FileChange {
        sd_bus_message *message;
        char *path;
        char *actor;
        char *login;
        char *password;                 /* NULL: flags only; wiped after use */
        unsigned set_flags, clear_flags;
        const char *action;
        int result;
        void *userdata;                 /* a Suspension, for the flags */
} FileChange;

static void file_change_free(FileChange *f) {
        if (!f)
                return;
        sd_bus_message_unref(f->message);
        if (f->password) {
                erase_memory(f->password, strlen(f->password));
                free(f->password);
        }
        free(f->path);
        free(f->actor);
        free(f->login);
        free(f);
}

static void file_change_work(void *data) {
        FileChange *f = data;

        f->result = confirm_shadow_update(f->path, f->login, f->password, f->set_flags, f->clear_flags, NULL);
        if (f->password)
                erase_memory(f->password, strlen(f->password));
}

static FileChange *file_change_new(Context *c, sd_bus_message *m, const char *actor, const char *login,
                                   const char *password, const char *action) {
        FileChange *f = calloc(1, sizeof *f);

        if (!f)
                return NULL;
        f->message = sd_bus_message_ref(m);
        f->action = action;
        f->path = strdup(c->config.confirmation_file);
        f->actor = strdup(actor);
        f->login = strdup(login ? login : "");
        f->password = password ? strdup(password) : NULL;
        if (!f->path || !f->actor || !f->login || (password && !f->password)) {
                file_change_free(f);
                return NULL;
        }
        return f;
}

static void password_set(Context *c, void *data) {
        FileChange *f = data;

        (void) store_history_add(c->store, f->actor, f->action, f->login, f->result >= 0 ? "ok" : "failed");
        if (f->result < 0) {
                log_error_errno(f->result, "%s of %s failed: %m", f->action, f->login);
                (void) sd_bus_reply_method_errnof(f->message, f->result,
                                                  "the confirmation password could not be stored: %m");
        } else {
                log_notice("confirmation password of %s set by %s", f->login, f->actor);
                (void) sd_bus_reply_method_return(f->message, NULL);
        }
        file_change_free(f);
}

/* The caller's work runs in the caller's turn in the pool. */
static void set_password(Context *c, sd_bus_message *m, uid_t uid, const char *actor, const char *login,
                         const char *password, const char *action) {
        FileChange *f = file_change_new(c, m, actor, login, password, action);
        int r = f ? worker_run_as(c, uid, file_change_work, password_set, f) : -ENOMEM;

        if (r == -EBUSY)
                (void) sd_bus_reply_method_errorf(m, CR_ERROR_BUSY, "the service's queue is full: try again in 1 s");
        else if (r < 0)
                (void) sd_bus_reply_method_errnof(m, r, "the confirmation password could not be stored: %m");
        if (r < 0)
                file_change_free(f);
}

static void on_change_confirmed(Context *c, sd_bus_message *m, const Caller *caller, void *userdata) {
        (void) userdata;
        set_password(c, m, caller->uid, caller->login, caller->login, string_arg(m, 1),
                     "change-confirmation-password");
}

int method_change_confirmation_password(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_caller_ Caller caller = {};
        Context *c = userdata;
        const char *old, *new;
        int r;

        if ((r = sd_bus_message_read(m, "ss", &old, &new)) < 0)
                return r;
        if ((r = check_secret(old, "the current confirmation password", error)) < 0)
                return r;
        if ((r = check_new_password(new, error)) < 0)
                return r;
        r = caller_identify_or_wait(c, m, method_change_confirmation_password, userdata, &caller);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* runs again once the bus says who called */
        if (!caller.login)
                return sd_bus_error_setf(error, CR_ERROR_ACCESS_DENIED, "%s is no active user of certrevoke",
                                         caller_name(&caller));
        /* before the password is judged: that costs too */
        if ((r = worker_admit(c, caller.uid, caller.role, error)) < 0)
                return r;
        if ((r = check_quality(caller.login, new, old, error)) < 0)
                return r;
        /* the old password is the confirmation */
        return confirm_request(c, m, &caller, "change-confirmation-password", caller.login, 0, on_change_confirmed, NULL, NULL, error);
}

static void on_set_confirmed(Context *c, sd_bus_message *m, const Caller *caller, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *login = string_arg(m, 0);
        int r;

        (void) userdata;
        r = login ? authorize_again(c, caller, ACCOUNT_SET_PASSWORD, login, &error) : -EBADMSG;
        if (r < 0) {
                reply_failure(m, r, &error, "set-confirmation-password");
                return;
        }
        set_password(c, m, caller->uid, caller->login, login, string_arg(m, 1), "set-confirmation-password");
}

int method_set_confirmation_password(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_caller_ Caller caller = {};
        Context *c = userdata;
        const char *login, *new, *confirmation;
        int r;

        if ((r = sd_bus_message_read(m, "sss", &login, &new, &confirmation)) < 0)
                return r;
        if ((r = check_login(login, error)) < 0)
                return r;
        if ((r = check_new_password(new, error)) < 0)
                return r;
        if ((r = check_secret(confirmation, "the confirmation password", error)) < 0)
                return r;
        r = caller_identify_or_wait(c, m, method_set_confirmation_password, userdata, &caller);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* runs again once the bus says who called */
        if ((r = account_authorize(c, &caller, ACCOUNT_SET_PASSWORD, login, _CR_ROLE_INVALID, error)) < 0)
                return r;
        /* before the password is judged: that costs too */
        if ((r = worker_admit(c, caller.uid, caller.role, error)) < 0)
                return r;
        /* libpwquality costs: only for those who may set it */
        if ((r = check_quality(login, new, NULL, error)) < 0)
                return r;
        /* root can write the file anyway; asking root for a password it may
         * not have yet would leave no way to give anyone the first one */
        if (caller.uid == 0) {
                set_password(c, m, caller.uid, CR_ROOT_LOGIN, login, new, "set-confirmation-password");
                return 1;
        }
        return confirm_request(c, m, &caller, "set-confirmation-password", login, 2, on_set_confirmed, NULL, NULL, error);
}

typedef struct Suspension {
        sd_bus_message *message;
        char *login;
        bool suspend;
} Suspension;

static void suspension_free(void *p) {
        Suspension *s = p;

        if (!s)
                return;
        sd_bus_message_unref(s->message);
        free(s->login);
        free(s);
}

static void on_suspension_published(Context *c, int result, void *userdata) {
        Suspension *s = userdata;

        (void) c;
        if (result < 0)
                (void) sd_bus_reply_method_errorf(s->message, SD_BUS_ERROR_FAILED,
                                                  "%s is %s, but the CRL could not be published: %s; it is published "
                                                  "as soon as that is mended", s->login,
                                                  s->suspend ? "suspended" : "resumed", strerror(-result));
        else
                (void) sd_bus_reply_method_return(s->message, NULL);
        suspension_free(s);
}

static void suspension_recorded(Context *c, void *data) {
        FileChange *f = data;
        Suspension *s = f->userdata;
        int r;

        /* the PAM account step refuses a suspended user too; a login with
         * no confirmation password has no line to mark */
        if (f->result < 0 && f->result != -ENOENT)
                log_warning_errno(f->result, "%s: the confirmation file keeps the old state of %s: %m",
                                  f->action, s->login);
        file_change_free(f);
        /* on hold on the CRL while suspended; the reply waits for it */
        if ((r = publish_after(c, on_suspension_published, s)) < 0)
                on_suspension_published(c, r, s);
}

static void on_suspension_confirmed(Context *c, sd_bus_message *m, const Caller *caller, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Suspension *s = userdata;
        const char *action = s->suspend ? "suspend" : "resume";
        FileChange *f;
        int r;

        r = authorize_again(c, caller, s->suspend ? ACCOUNT_SUSPEND : ACCOUNT_RESUME, s->login, &error);
        if (r < 0) {
                reply_failure(m, r, &error, action);
                suspension_free(s);
                return;
        }
        r = store_set_suspended(c->store, s->login, s->suspend ? now_usec() : 0);
        (void) store_history_add(c->store, caller->login, action, s->login, r >= 0 ? "ok" : "failed");
        if (r < 0) {
                (void) sd_bus_reply_method_errnof(m, r, "%s of %s failed: %m", action, s->login);
                suspension_free(s);
                return;
        }
        log_notice("user %s %s by %s", s->login, s->suspend ? "suspended" : "resumed", caller->login);
        bus_user_forget_caller(c);
        user_emit_changed(c, s->login);
        f = file_change_new(c, m, caller->login, s->login, NULL, action);
        if (f) {
                f->set_flags = s->suspend ? CONFIRM_SHADOW_SUSPENDED : 0;
                f->clear_flags = s->suspend ? 0 : CONFIRM_SHADOW_SUSPENDED;
                f->userdata = s;
        }
        if (!f || (r = worker_run_as(c, caller->uid, file_change_work, suspension_recorded, f)) < 0) {
                file_change_free(f);
                if ((r = publish_after(c, on_suspension_published, s)) < 0)
                        on_suspension_published(c, r, s);
        }
}

static int suspend_or_resume(sd_bus_message *m, Context *c, bool suspend, sd_bus_error *error) {
        _cleanup_caller_ Caller caller = {};
        Suspension *s;
        const char *login, *confirmation, *why;
        int r;

        if ((r = sd_bus_message_read(m, "ss", &login, &confirmation)) < 0)
                return r;
        if ((r = check_login(login, error)) < 0)
                return r;
        if ((r = check_secret(confirmation, "the confirmation password", error)) < 0)
                return r;
        if ((r = caller_identify(c, m, &caller)) < 0)
                return r;
        r = account_authorize(c, &caller, suspend ? ACCOUNT_SUSPEND : ACCOUNT_RESUME, login, _CR_ROLE_INVALID, error);
        if (r < 0)
                return r;
        if (streq_ptr(caller.login, login))
                return invalid(error, "users cannot suspend or resume themselves");
        if (!publish_ready(c, &why))
                return sd_bus_error_setf(error, SD_BUS_ERROR_NOT_SUPPORTED, "%s", why);
        if ((r = worker_admit(c, caller.uid, caller.role, error)) < 0)
                return r;
        if (!(s = calloc(1, sizeof *s)) || !(s->login = strdup(login))) {
                suspension_free(s);
                return -ENOMEM;
        }
        s->message = sd_bus_message_ref(m);
        s->suspend = suspend;
        r = confirm_request(c, m, &caller, suspend ? "suspend" : "resume", login, 1, on_suspension_confirmed, suspension_free, s, error);
        if (r < 0)
                suspension_free(s);
        return r;
}

int method_suspend_user(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return suspend_or_resume(m, userdata, true, error);
}

int method_resume_user(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return suspend_or_resume(m, userdata, false, error);
}

