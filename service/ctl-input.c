/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevokectl: passwords from the terminal (echo off, as passwd(1)
 * asks) or from standard input (--password-stdin).  The terminal gets its
 * settings back on every way out, signals that end or stop us included. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ctl.h"

static const int tty_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP };

/* While echo is off: the terminal, its settings before and during, and
 * what to ask again after a stop. */
typedef struct Tty {
        int fd;
        struct termios saved, quiet;
        volatile sig_atomic_t is_quiet;
        const char *prompt;
        struct sigaction action;
        struct sigaction old_actions[ELEMENTSOF(tty_signals)];
} Tty;

/* The terminal whose echo is off, for the signal handler: a handler gets
 * no argument to find it by, so this one pointer is file-level; it is set
 * only while a password is read. */
static Tty *tty_quiet_now;

void ctl_secret_erase(CtlSecret *s) {
        explicit_bzero(s, sizeof *s);
}

static void tty_write(const Tty *t, const char *s) {
        size_t n = strlen(s);

        while (n > 0) {
                ssize_t k = write(t->fd, s, n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return;
                s += k;
                n -= (size_t) k;
        }
}

/* Async-signal-safe, like everything the handler calls. */
static void tty_echo_on(Tty *t) {
        if (t->is_quiet) {
                (void) tcsetattr(t->fd, TCSAFLUSH, &t->saved);
                t->is_quiet = 0;
        }
}

static void tty_echo_off(Tty *t) {
        /* Flag first: a signal in between then restores what is there. */
        t->is_quiet = 1;
        (void) tcsetattr(t->fd, TCSAFLUSH, &t->quiet);
}

static void on_tty_signal(int sig) {
        Tty *t = tty_quiet_now;
        int saved_errno = errno;
        sigset_t set;

        if (t) {
                tty_echo_on(t);
                tty_write(t, "\n");
        }
        (void) signal(sig, SIG_DFL);
        (void) raise(sig);
        if (sig != SIGTSTP || !t) {
                /* Blocked while the handler runs: the default action, the
                 * end of the program, comes as it returns. */
                errno = saved_errno;
                return;
        }
        /* Stop now, and on SIGCONT ask again where we were. */
        sigemptyset(&set);
        sigaddset(&set, SIGTSTP);
        (void) sigprocmask(SIG_UNBLOCK, &set, NULL);
        (void) sigaction(SIGTSTP, &t->action, NULL);
        tty_echo_off(t);
        tty_write(t, t->prompt);
        errno = saved_errno;
}

/* A signal the caller ignores (nohup, a background job of a script) stays
 * ignored: only the default action, ending or stopping us, is caught. */
static void tty_handlers_install(Tty *t) {
        t->action = (struct sigaction) { .sa_handler = on_tty_signal };
        sigemptyset(&t->action.sa_mask);
        tty_quiet_now = t;
        for (size_t i = 0; i < ELEMENTSOF(tty_signals); i++) {
                (void) sigaction(tty_signals[i], &t->action, &t->old_actions[i]);
                if (t->old_actions[i].sa_handler == SIG_IGN)
                        (void) sigaction(tty_signals[i], &t->old_actions[i], NULL);
        }
}

static void tty_handlers_restore(Tty *t) {
        for (size_t i = 0; i < ELEMENTSOF(tty_signals); i++)
                (void) sigaction(tty_signals[i], &t->old_actions[i], NULL);
        tty_quiet_now = NULL;
}

static int fail_password_read(Ctl *c, int r) {
        if (r == -ENOBUFS)
                return ctl_fail_usage(c, _("The confirmation password is longer than %d bytes."), CTL_PASSWORD_MAX);
        return ctl_fail(c, CTL_EXIT_FAILURE, r, _("Cannot read the confirmation password: %s"), strerror(-r));
}

/* Asks on the controlling terminal with echo off.  prompt must live until
 * this returns: ^Z shows it again. */
static int read_password_tty(Ctl *c, CtlSecret *secret, const char *prompt) {
        _cleanup_(closep) int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
        Tty t = { .fd = fd, .prompt = prompt };
        int r;

        if (fd < 0 || tcgetattr(fd, &t.saved) < 0)
                return ctl_fail_usage(c, _("No terminal to ask for the confirmation password on (%s); "
                                           "use --password-stdin."), strerror(errno));
        t.quiet = t.saved;
        t.quiet.c_lflag &= ~(tcflag_t) (ECHO | ECHOE | ECHOK);
        t.quiet.c_lflag |= ECHONL;
        tty_handlers_install(&t);
        tty_echo_off(&t);
        tty_write(&t, t.prompt);
        r = ctl_read_line(fd, secret->buf, sizeof secret->buf, &secret->len);
        tty_echo_on(&t);
        tty_handlers_restore(&t);
        if (r < 0)
                return fail_password_read(c, r);
        return 0;
}

int ctl_read_secret(Ctl *c, CtlSecret *secret, const char *prompt) {
        int r;

        if (!c->password_stdin) {
                /* The screen before the question. */
                fflush(stdout);
                r = read_password_tty(c, secret, prompt);
                if (r < 0)
                        return r;
        } else {
                r = ctl_read_line(STDIN_FILENO, secret->buf, sizeof secret->buf, &secret->len);
                if (r < 0)
                        return fail_password_read(c, r);
        }
        if (secret->len == 0 || strlen(secret->buf) != secret->len) {
                bool empty = secret->len == 0;

                ctl_secret_erase(secret);
                return ctl_fail_usage(c, "%s", empty ? _("The confirmation password is empty.")
                                                     : _("The confirmation password contains a NUL byte."));
        }
        return 0;
}

int ctl_read_password(Ctl *c, CtlSecret *secret) {
        /* TRANSLATORS: asked on the terminal; nothing typed is shown. */
        return ctl_read_secret(c, secret, _("Confirmation password: "));
}

int ctl_read_new_password(Ctl *c, CtlSecret *secret, const char *prompt, const char *again) {
        _cleanup_(ctl_secret_erase) CtlSecret retyped = { .len = 0 };
        int r;

        r = ctl_read_secret(c, secret, prompt);
        if (r < 0)
                return r;
        r = ctl_read_secret(c, &retyped, again);
        if (r < 0) {
                ctl_secret_erase(secret);
                return r;
        }
        if (secret->len != retyped.len || memcmp(secret->buf, retyped.buf, secret->len) != 0) {
                ctl_secret_erase(secret);
                return ctl_fail_usage(c, _("The new confirmation passwords do not match."));
        }
        return 0;
}
