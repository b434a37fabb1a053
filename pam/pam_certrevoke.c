/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam_certrevoke.so: the confirmation password of certrevoke, a second
 * password kept apart from the login password in a file of crypt(3)
 * hashes (confirm-shadow.h).
 *
 *   auth      checks the password (PAM_AUTHTOK, else the conversation)
 *   account   refuses a suspended login
 *   password  changes the password: the current one first, except for
 *             root changing another's (or its own without giving the
 *             old one); the new one must pass password-quality.h
 *
 * A password longer than CONFIRM_SHADOW_PASSWORD_MAX bytes (libcrypt's
 * limit) is refused before crypt or libpwquality see it: PAM_AUTH_ERR
 * when authenticating, PAM_AUTHTOK_ERR when changing.
 *
 * Options: file=/ABSOLUTE/PATH (default CONFIRM_SHADOW_DEFAULT_PATH),
 * debug, and those pam_get_authtok() reads itself: use_first_pass,
 * try_first_pass, use_authtok, authtok_type=.  Anything else is a
 * configuration error (PAM_SERVICE_ERR): a misspelt option must not
 * quietly leave a stack weaker than its author meant.
 *
 * No password or hash is ever logged; the module keeps no copy of a
 * password (libpam owns and wipes its items). */
#include <errno.h>
#include <pwd.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>
#include <stdbool.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cleanup.h"
#include "confirm-shadow.h"
#include "password-quality.h"

#define EXPORT __attribute__((visibility("default")))

/* A yescrypt hash of a random value nobody kept: an unknown login costs
 * the same hashing as a known one, so timing does not tell them apart. */
#define DUMMY_HASH "$y$j9T$xzLMLmyJc3yzZpOKDo41Z/$Ow9iTv.1K746bTIgIIRPlnqjzV804rysjNc5W1TJZW3"

#define AUTHTOK_TYPE "confirmation"
#define AUTH_PROMPT "Confirmation password: "

typedef struct Options {
        const char *file;
        bool debug;
} Options;

static void log_to_pam(void *userdata, int priority, const char *format, va_list ap) {
        pam_vsyslog(userdata, priority, format, ap);
}

#define PAM_LOG(pamh) (&(const ConfirmShadowLog) { .func = log_to_pam, .userdata = (pamh) })

static bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* libcrypt takes no more: a longer password is refused before crypt or
 * libpwquality see it. */
static bool too_long(const char *password) {
        return strnlen(password, CONFIRM_SHADOW_PASSWORD_MAX + 1) > CONFIRM_SHADOW_PASSWORD_MAX;
}

static int parse_options(pam_handle_t *pamh, int argc, const char **argv, Options *ret) {
        Options o = { .file = CONFIRM_SHADOW_DEFAULT_PATH };

        for (int i = 0; i < argc; i++) {
                const char *a = argv[i];

                if (startswith(a, "file=") && a[5] == '/')
                        o.file = a + 5;
                else if (strcmp(a, "debug") == 0)
                        o.debug = true;
                else if (strcmp(a, "use_first_pass") == 0 || strcmp(a, "try_first_pass") == 0 ||
                         strcmp(a, "use_authtok") == 0 || startswith(a, "authtok_type="))
                        continue;       /* pam_get_authtok() reads these */
                else {
                        pam_syslog(pamh, LOG_ERR, "unknown or bad option \"%s\"", a);
                        return PAM_SERVICE_ERR;
                }
        }
        *ret = o;
        return PAM_SUCCESS;
}

/* The login being served, checked against the file format's rule (an
 * impossible name is an unknown one, not a reason to read the file). */
static int get_login(pam_handle_t *pamh, const char **ret) {
        const char *login = NULL;
        int r;

        r = pam_get_user(pamh, &login, NULL);
        if (r == PAM_CONV_AGAIN)
                return PAM_INCOMPLETE;
        if (r != PAM_SUCCESS)
                return r;
        if (!confirm_shadow_login_valid(login)) {
                pam_syslog(pamh, LOG_NOTICE, "login name not valid for the confirmation file");
                return PAM_USER_UNKNOWN;
        }
        *ret = login;
        return PAM_SUCCESS;
}

/* Reads the file; missing_ok lets a missing one count as empty (the first
 * password a password change sets creates it). */
static int load(pam_handle_t *pamh, const Options *o, bool missing_ok, ConfirmShadow *ret) {
        int r;

        r = confirm_shadow_read(o->file, PAM_LOG(pamh), ret);
        if (r == -ENOENT && missing_ok)
                r = confirm_shadow_parse("", 0, o->file, NULL, ret);
        if (r == -ENOMEM)
                return PAM_BUF_ERR;
        if (r < 0) {
                errno = -r;
                pam_syslog(pamh, LOG_ERR, "cannot use %s: %m", o->file);
                return PAM_AUTHINFO_UNAVAIL;
        }
        if (o->debug)
                pam_syslog(pamh, LOG_DEBUG, "%s: %zu logins, %zu lines skipped",
                           o->file, ret->n_entries, ret->n_skipped);
        return PAM_SUCCESS;
}

EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        _cleanup_(confirm_shadow_done) ConfirmShadow s = {};
        const ConfirmShadowEntry *e;
        const char *login, *password = NULL;
        Options o;
        int r;

        (void) flags;
        r = parse_options(pamh, argc, argv, &o);
        if (r != PAM_SUCCESS)
                return r;
        r = get_login(pamh, &login);
        if (r != PAM_SUCCESS)
                return r;
        /* Asked before the file is looked at, known login or not: the
         * questions must not tell which logins exist. */
        r = pam_get_authtok(pamh, PAM_AUTHTOK, &password, AUTH_PROMPT);
        if (r == PAM_CONV_AGAIN)
                return PAM_INCOMPLETE;
        if (r == PAM_BUF_ERR)
                return r;
        if (r != PAM_SUCCESS || !password) {
                pam_syslog(pamh, LOG_NOTICE, "no password obtained for %s", login);
                return PAM_CRED_INSUFFICIENT;
        }
        /* before the file is read: known and unknown logins answer alike */
        if (too_long(password)) {
                pam_syslog(pamh, LOG_NOTICE, "password for %s longer than %d bytes: refused", login,
                           CONFIRM_SHADOW_PASSWORD_MAX);
                return PAM_AUTH_ERR;
        }
        r = load(pamh, &o, false, &s);
        if (r != PAM_SUCCESS)
                return r;
        e = confirm_shadow_find(&s, login);
        if (!e) {
                (void) confirm_shadow_verify(DUMMY_HASH, password);
                pam_syslog(pamh, LOG_NOTICE, "no confirmation password for %s", login);
                return PAM_USER_UNKNOWN;
        }
        /* An empty password never matches: no "nullok" here. */
        if (!confirm_shadow_verify(e->hash, password)) {
                pam_syslog(pamh, LOG_NOTICE, "authentication failure for %s", login);
                return PAM_AUTH_ERR;
        }
        if (o.debug)
                pam_syslog(pamh, LOG_DEBUG, "confirmation password of %s accepted", login);
        return PAM_SUCCESS;
}

EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        (void) pamh, (void) flags, (void) argc, (void) argv;
        return PAM_SUCCESS;     /* a confirmation grants no credentials */
}

/* Suspension is PAM_PERM_DENIED, not PAM_ACCT_EXPIRED: it is an
 * administrator's decision, lifted again by one, not the end of an
 * account's validity ("expired" would send the user to renew it). */
EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        _cleanup_(confirm_shadow_done) ConfirmShadow s = {};
        const ConfirmShadowEntry *e;
        const char *login;
        Options o;
        int r;

        (void) flags;
        r = parse_options(pamh, argc, argv, &o);
        if (r != PAM_SUCCESS)
                return r;
        r = get_login(pamh, &login);
        if (r != PAM_SUCCESS)
                return r;
        r = load(pamh, &o, false, &s);
        if (r != PAM_SUCCESS)
                return r;
        e = confirm_shadow_find(&s, login);
        if (!e) {
                pam_syslog(pamh, LOG_NOTICE, "no confirmation password for %s", login);
                return PAM_USER_UNKNOWN;
        }
        if (confirm_shadow_entry_has_flag(e, "suspended")) {
                pam_syslog(pamh, LOG_NOTICE, "%s is suspended", login);
                return PAM_PERM_DENIED;
        }
        return PAM_SUCCESS;
}

/* ------------------------------------------------------------ password */

static bool caller_is_root(void) {
        return getuid() == 0;
}

/* Whether the current password must be given: always, but for root, who
 * may set another's without it, and its own unless it brought the old one
 * (PAM_OLDAUTHTOK set by the application), which is then checked. */
static bool need_old_password(pam_handle_t *pamh, const char *login) {
        const struct passwd *pw;
        const void *old = NULL;

        if (!caller_is_root())
                return true;
        pw = pam_modutil_getpwuid(pamh, getuid());
        if (!pw || strcmp(pw->pw_name, login) != 0)
                return false;
        return pam_get_item(pamh, PAM_OLDAUTHTOK, &old) == PAM_SUCCESS && old;
}

/* "Current confirmation password:", "New confirmation password:" unless
 * the stack or the application named the token otherwise. */
static void name_the_token(pam_handle_t *pamh) {
        const void *type = NULL;

        if (pam_get_item(pamh, PAM_AUTHTOK_TYPE, &type) == PAM_SUCCESS && type)
                return;
        (void) pam_set_item(pamh, PAM_AUTHTOK_TYPE, AUTHTOK_TYPE);
}

/* Says why a new password was refused, unless the application asked for
 * silence. */
static void tell_refusal(pam_handle_t *pamh, int flags, const char *reason) {
        if (!(flags & PAM_SILENT))
                (void) pam_error(pamh, "BAD PASSWORD: %s", reason);
}

/* The entry may change its password: it exists unless root adds it, and
 * only root acts on a suspended login. */
static int check_entry(pam_handle_t *pamh, const ConfirmShadowEntry *e, const char *login) {
        if (!e && !caller_is_root()) {
                pam_syslog(pamh, LOG_NOTICE, "no confirmation password for %s", login);
                return PAM_USER_UNKNOWN;
        }
        if (e && !caller_is_root() && confirm_shadow_entry_has_flag(e, "suspended")) {
                pam_syslog(pamh, LOG_NOTICE, "%s is suspended: password not changed", login);
                return PAM_PERM_DENIED;
        }
        return PAM_SUCCESS;
}

/* Checks the current password against the file as it is now. */
static int check_old(pam_handle_t *pamh, const Options *o, const char *login, const char *old) {
        _cleanup_(confirm_shadow_done) ConfirmShadow s = {};
        const ConfirmShadowEntry *e;
        int r;

        if (old && too_long(old)) {
                pam_syslog(pamh, LOG_NOTICE, "password change for %s: current password longer than %d bytes",
                           login, CONFIRM_SHADOW_PASSWORD_MAX);
                return PAM_AUTHTOK_ERR;
        }
        r = load(pamh, o, caller_is_root(), &s);
        if (r != PAM_SUCCESS)
                return r;
        e = confirm_shadow_find(&s, login);
        r = check_entry(pamh, e, login);
        if (r != PAM_SUCCESS)
                return r;
        if (!old)
                return PAM_SUCCESS;
        if (!e || !confirm_shadow_verify(e->hash, old)) {
                pam_syslog(pamh, LOG_NOTICE, "password change for %s: current password wrong", login);
                return PAM_AUTH_ERR;
        }
        return PAM_SUCCESS;
}

static int prelim_check(pam_handle_t *pamh, const Options *o, const char *login) {
        const char *old = NULL;
        int r;

        if (need_old_password(pamh, login)) {
                r = pam_get_authtok(pamh, PAM_OLDAUTHTOK, &old, NULL);
                if (r == PAM_CONV_AGAIN)
                        return PAM_INCOMPLETE;
                if (r != PAM_SUCCESS || !old) {
                        pam_syslog(pamh, LOG_NOTICE, "current password of %s not obtained", login);
                        return r == PAM_BUF_ERR ? r : PAM_AUTHTOK_RECOVERY_ERR;
                }
        }
        return check_old(pamh, o, login, old);
}

static int update_authtok(pam_handle_t *pamh, int flags, const Options *o, const char *login) {
        char reason[PASSWORD_QUALITY_REASON_MAX] = "";
        const void *item = NULL;
        const char *old = NULL, *new = NULL;
        int r;

        if (need_old_password(pamh, login)) {
                if (pam_get_item(pamh, PAM_OLDAUTHTOK, &item) != PAM_SUCCESS || !item) {
                        pam_syslog(pamh, LOG_NOTICE, "current password of %s not obtained", login);
                        return PAM_AUTHTOK_RECOVERY_ERR;
                }
                old = item;
        }
        /* Again, and against the file of now: the preliminary pass may have
         * been another pam_chauthtok() call, or the file changed since. */
        r = check_old(pamh, o, login, old);
        if (r != PAM_SUCCESS)
                return r;

        r = pam_get_authtok(pamh, PAM_AUTHTOK, &new, NULL);
        if (r == PAM_CONV_AGAIN)
                return PAM_INCOMPLETE;
        if (r != PAM_SUCCESS || !new)
                return r == PAM_SUCCESS ? PAM_AUTHTOK_ERR : r;

        r = password_quality_check(login, new, old, reason, sizeof reason, PAM_LOG(pamh));
        if (r == -ENOMEM)
                return PAM_BUF_ERR;
        if (r < 0) {
                tell_refusal(pamh, flags, reason);
                /* Else a retried pam_chauthtok() would take it again unasked. */
                (void) pam_set_item(pamh, PAM_AUTHTOK, NULL);
                return PAM_AUTHTOK_ERR;
        }

        r = confirm_shadow_update(o->file, login, new, 0, 0, PAM_LOG(pamh));
        if (r == -ENOMEM)
                return PAM_BUF_ERR;
        if (r < 0)
                return PAM_AUTHTOK_ERR;
        pam_syslog(pamh, LOG_NOTICE, "confirmation password of %s changed", login);
        return PAM_SUCCESS;
}

EXPORT int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        const char *login;
        Options o;
        int r;

        r = parse_options(pamh, argc, argv, &o);
        if (r != PAM_SUCCESS)
                return r;
        r = get_login(pamh, &login);
        if (r != PAM_SUCCESS)
                return r;
        name_the_token(pamh);
        if (flags & PAM_PRELIM_CHECK)
                return prelim_check(pamh, &o, login);
        if (flags & PAM_UPDATE_AUTHTOK)
                return update_authtok(pamh, flags, &o, login);
        pam_syslog(pamh, LOG_ERR, "chauthtok called with neither PAM_PRELIM_CHECK nor PAM_UPDATE_AUTHTOK");
        return PAM_SERVICE_ERR;
}
