/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevokectl's verbs on accounts: passwd (one's own confirmation
 * password), set-password (another user's), suspend and resume (利用者停止
 * and 停止解除).  Every password is wiped as soon as the call is made. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "certrevoke.h"
#include "ctl.h"

/* A translated format with one login ID in it, or NULL without memory. */
static char *with_login(const char *format, const char *login) {
        char *s = NULL;

        return asprintf(&s, format, login) < 0 ? NULL : s;
}

/* The short line saying what was done, or its JSON form: {"login_id":…,
 * json_key:json_value}, without login_id when login is NULL. */
static int print_done(Ctl *c, const char *login, const char *json_key, const char *json_value, const char *text) {
        int r = 0;

        if (!c->json) {
                printf("%s\n", text);
                return 0;
        }
        fputs("{", stdout);
        if (login) {
                fputs("\"login_id\":", stdout);
                r = ctl_json_fputs(stdout, login);
                fputs(",", stdout);
        }
        printf("\"%s\":%s}\n", json_key, json_value);
        return r < 0 ? ctl_fail_oom(c) : 0;
}

/* main connected first: no password is asked for a service that is not
 * there. */
int ctl_passwd_run(Ctl *c, char **args, size_t n_args) {
        _cleanup_(ctl_secret_erase) CtlSecret old = { .len = 0 }, new = { .len = 0 };
        int r;

        (void) args;
        (void) n_args;
        /* TRANSLATORS: asked on the terminal; nothing typed is shown. */
        r = ctl_read_secret(c, &old, _("Current confirmation password: "));
        if (r < 0)
                return r;
        r = ctl_read_new_password(c, &new, _("New confirmation password: "), _("Retype new confirmation password: "));
        if (r < 0)
                return r;
        r = ctl_call_sensitive(c, "ChangeConfirmationPassword", NULL, "ss", old.buf, new.buf);
        ctl_secret_erase(&old);
        ctl_secret_erase(&new);
        if (r < 0)
                return r;
        return print_done(c, NULL, "confirmation_password", "\"changed\"",
                          _("Your confirmation password has been changed."));
}

/* The new password of login twice, then (but as root, whom the service
 * asks for none) the acting user's own. */
static int read_set_password(Ctl *c, const char *login, CtlSecret *new, CtlSecret *own) {
        _cleanup_free_ char *prompt = NULL, *again = NULL;
        int r;

        /* TRANSLATORS: asked on the terminal; %s is a login ID. */
        prompt = with_login(_("New confirmation password of %s: "), login);
        again = with_login(_("Retype new confirmation password of %s: "), login);
        if (!prompt || !again)
                return ctl_fail_oom(c);
        r = ctl_read_new_password(c, new, prompt, again);
        if (r < 0)
                return r;
        if (geteuid() == 0)
                return 0;
        /* TRANSLATORS: the acting user's own, asked after the new one of another user. */
        return ctl_read_secret(c, own, _("Your confirmation password: "));
}

int ctl_set_password_run(Ctl *c, char **args, size_t n_args) {
        _cleanup_(ctl_secret_erase) CtlSecret new = { .len = 0 }, own = { .len = 0 };
        _cleanup_free_ char *done = NULL;
        const char *login = args[0];
        int r;

        (void) n_args;
        r = read_set_password(c, login, &new, &own);
        if (r < 0)
                return r;
        r = ctl_call_sensitive(c, "SetConfirmationPassword", NULL, "sss", login, new.buf, own.buf);
        ctl_secret_erase(&new);
        ctl_secret_erase(&own);
        if (r < 0)
                return r;
        done = with_login(_("The confirmation password of %s has been set."), login);
        if (!done)
                return ctl_fail_oom(c);
        return print_done(c, login, "confirmation_password", "\"set\"", done);
}

static int suspend_or_resume(Ctl *c, const char *login, bool suspend) {
        _cleanup_(ctl_secret_erase) CtlSecret secret = { .len = 0 };
        _cleanup_free_ char *done = NULL;
        int r;

        r = ctl_read_password(c, &secret);
        if (r < 0)
                return r;
        r = ctl_call_sensitive(c, suspend ? "SuspendUser" : "ResumeUser", NULL, "ss", login, secret.buf);
        ctl_secret_erase(&secret);
        if (r < 0)
                return r;
        /* TRANSLATORS: 利用者停止 and 停止解除; %s is a login ID. */
        done = with_login(suspend ? _("%s has been suspended.") : _("%s has been resumed."), login);
        if (!done)
                return ctl_fail_oom(c);
        return print_done(c, login, "suspended", suspend ? "true" : "false", done);
}

int ctl_suspend_run(Ctl *c, char **args, size_t n_args) {
        (void) n_args;
        return suspend_or_resume(c, args[0], true);
}

int ctl_resume_run(Ctl *c, char **args, size_t n_args) {
        (void) n_args;
        return suspend_or_resume(c, args[0], false);
}
