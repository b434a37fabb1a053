/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevoke-pam-helper SERVICE LOGIN: checks one password through PAM for
 * certrevoked, in a process of its own, because PAM modules are not reliably
 * thread-safe and a failing stack sleeps.
 *
 * stdin   the password, ended by one newline or by EOF; at most
 *         HELPER_PASSWORD_MAX bytes, no NUL byte, nothing after the newline.
 *         Never argv or the environment: those are visible to others.
 * stdout  one line:
 *           ok                          authenticated, account usable
 *           auth-failed DELAY_USEC      wrong password (or unusable input)
 *           account-refused DELAY_USEC  right password, account refused
 *           user-unknown DELAY_USEC     the stack does not know the login
 *           error                       nothing could be decided
 *         DELAY_USEC is the fail delay the PAM stack asked for; the helper
 *         does not sleep it, the caller waits it before answering.
 * exit    0 with every answer but error; 1 with error; 2 on bad usage.
 *
 * The password is wiped as soon as pam_authenticate() returns and on every
 * exit path; nothing written anywhere contains it. */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <security/pam_appl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "certrevoke.h"
#include "util.h"

/* Matches AUTH_PASSWORD_MAX in auth.h: the daemon sends at most one byte
 * more, so that an overlong password is refused here, not cut short. */
#define HELPER_PASSWORD_MAX 512
#define HELPER_NAME_MAX 256

enum {
        EXIT_ANSWERED = 0,
        EXIT_PAM_ERROR = 1,
        EXIT_USAGE = 2,
};

typedef struct Conversation {
        const char *password;   /* NULL once wiped: later prompts are refused */
        unsigned delay_usec;    /* the fail delay of the last failure */
} Conversation;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
        va_list ap;

        fputs("certrevoke-pam-helper: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

/* No control characters in either; the service names a file in /etc/pam.d:
 * printable ASCII without '/' or space, not starting with '.'. */
static bool name_ok(const char *s, bool is_service) {
        size_t n = strlen(s);

        if (n == 0 || n > HELPER_NAME_MAX || (is_service && s[0] == '.'))
                return false;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p < 0x20 || *p == 0x7f)
                        return false;
                if (is_service && (*p == '/' || *p > 0x7e || *p == ' '))
                        return false;
        }
        return true;
}

/* Reads the whole of stdin into buf (size HELPER_PASSWORD_MAX + 3) as a
 * NUL-terminated password.  -EMSGSIZE: too long; -EBADMSG: a NUL byte or
 * something after the newline, which must not be cut off silently. */
static int read_password(char *buf, size_t size) {
        size_t n = 0;
        char extra;

        while (n < size - 1) {
                ssize_t k = read(STDIN_FILENO, buf + n, size - 1 - n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        if (n == size - 1) {
                ssize_t k;

                while ((k = read(STDIN_FILENO, &extra, 1)) < 0 && errno == EINTR)
                        ;
                erase_memory(&extra, sizeof extra);
                if (k != 0)
                        return k < 0 ? -errno : -EMSGSIZE;
        }
        if (n > 0 && buf[n - 1] == '\n')
                n--;
        buf[n] = '\0';
        if (n > HELPER_PASSWORD_MAX)
                return -EMSGSIZE;
        if (memchr(buf, '\n', n) || strlen(buf) != n)
                return -EBADMSG;
        return 0;
}

static void free_responses(struct pam_response *resp, int n) {
        for (int i = 0; i < n; i++)
                if (resp[i].resp) {
                        erase_memory(resp[i].resp, strlen(resp[i].resp));
                        free(resp[i].resp);
                }
        free(resp);
}

/* Answers password prompts with the password and lets messages pass.  An
 * echoing prompt asks for something that is not a secret (a user name,
 * say): answering it with the password could put the password where it
 * gets shown or logged, so it is refused like any unknown style. */
static int conversation(int n, const struct pam_message **msg, struct pam_response **ret, void *userdata) {
        Conversation *cv = userdata;
        struct pam_response *resp;

        if (n <= 0 || n > PAM_MAX_NUM_MSG || !msg || !ret)
                return PAM_CONV_ERR;
        if (!(resp = calloc((size_t) n, sizeof *resp)))
                return PAM_BUF_ERR;
        for (int i = 0; i < n; i++) {
                switch (msg[i]->msg_style) {
                case PAM_PROMPT_ECHO_OFF:
                        if (!cv->password)
                                goto refuse;
                        if (!(resp[i].resp = strdup(cv->password))) {
                                free_responses(resp, n);
                                return PAM_BUF_ERR;
                        }
                        break;
                case PAM_TEXT_INFO:
                case PAM_ERROR_MSG:
                        break;
                default:
                        goto refuse;
                }
        }
        *ret = resp;
        return PAM_SUCCESS;
refuse:
        free_responses(resp, n);
        return PAM_CONV_ERR;
}

/* Called by libpam instead of sleeping; the daemon waits the delay on its
 * event loop before it answers the failure. */
static void record_delay(int status, unsigned usec, void *userdata) {
        Conversation *cv = userdata;

        cv->delay_usec = status == PAM_SUCCESS ? 0 : usec;
}

typedef enum Answer {
        ANSWER_OK,
        ANSWER_AUTH_FAILED,
        ANSWER_ACCOUNT_REFUSED,
        ANSWER_USER_UNKNOWN,
        ANSWER_ERROR,
} Answer;

/* The answer to a pam_authenticate() that did not succeed. */
static Answer auth_answer(int r) {
        switch (r) {
        case PAM_AUTH_ERR:
        case PAM_CRED_INSUFFICIENT:
        case PAM_CRED_ERR:
        case PAM_MAXTRIES:
        case PAM_PERM_DENIED:
                return ANSWER_AUTH_FAILED;
        case PAM_USER_UNKNOWN:
                return ANSWER_USER_UNKNOWN;
        default:
                return ANSWER_ERROR;
        }
}

/* The answer to pam_acct_mgmt() after a successful authentication. */
static Answer account_answer(int r) {
        switch (r) {
        case PAM_SUCCESS:
                return ANSWER_OK;
        case PAM_ACCT_EXPIRED:
        case PAM_NEW_AUTHTOK_REQD:     /* there is no way to change it here */
        case PAM_AUTH_ERR:
        case PAM_PERM_DENIED:
                return ANSWER_ACCOUNT_REFUSED;
        case PAM_USER_UNKNOWN:
                return ANSWER_USER_UNKNOWN;
        default:
                return ANSWER_ERROR;
        }
}

static int write_all(const char *line) {
        size_t n = strlen(line);

        while (n > 0) {
                ssize_t k = write(STDOUT_FILENO, line, n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? -errno : -EIO;
                line += k;
                n -= (size_t) k;
        }
        return 0;
}

/* Writes the answer line; returns the exit status. */
static int answer(Answer a, unsigned delay_usec) {
        static const char *const words[] = {
                [ANSWER_OK] = "ok",
                [ANSWER_AUTH_FAILED] = "auth-failed",
                [ANSWER_ACCOUNT_REFUSED] = "account-refused",
                [ANSWER_USER_UNKNOWN] = "user-unknown",
                [ANSWER_ERROR] = "error",
        };
        char line[64];

        if (a == ANSWER_OK || a == ANSWER_ERROR)
                snprintf(line, sizeof line, "%s\n", words[a]);
        else
                snprintf(line, sizeof line, "%s %u\n", words[a], delay_usec);
        if (write_all(line) < 0)
                return EXIT_PAM_ERROR;
        return a == ANSWER_ERROR ? EXIT_PAM_ERROR : EXIT_ANSWERED;
}

/* Runs the stack on a started handle; returns the last PAM status, for
 * pam_end(), and the answer. */
static int run_stack(pam_handle_t *pamh, Conversation *cv, const char *login, char *password, Answer *ret) {
        int r;

        r = pam_set_item(pamh, PAM_FAIL_DELAY, (const void *) record_delay);
        if (r == PAM_SUCCESS)
                r = pam_set_item(pamh, PAM_RUSER, login);
        if (r != PAM_SUCCESS) {
                erase_memory(password, strlen(password));
                say("pam_set_item: %s", pam_strerror(pamh, r));
                *ret = ANSWER_ERROR;
                return r;
        }

        r = pam_authenticate(pamh, PAM_DISALLOW_NULL_AUTHTOK);
        erase_memory(password, strlen(password));
        cv->password = NULL;
        if (r != PAM_SUCCESS) {
                *ret = auth_answer(r);
                if (*ret == ANSWER_ERROR)
                        say("pam_authenticate(%s): %s", login, pam_strerror(pamh, r));
                return r;
        }

        r = pam_acct_mgmt(pamh, PAM_DISALLOW_NULL_AUTHTOK);
        *ret = account_answer(r);
        if (*ret == ANSWER_ERROR)
                say("pam_acct_mgmt(%s): %s", login, pam_strerror(pamh, r));
        return r;
}

static int check(const char *service, const char *login, char *password) {
        Conversation cv = { .password = password };
        const struct pam_conv conv = { conversation, &cv };
        pam_handle_t *pamh = NULL;
        Answer a;
        int r;

        r = pam_start(service, login, &conv, &pamh);
        if (r != PAM_SUCCESS) {
                erase_memory(password, strlen(password));
                say("pam_start(%s): %s", service, pam_strerror(pamh, r));
                if (pamh)
                        (void) pam_end(pamh, r);
                return answer(ANSWER_ERROR, 0);
        }
        r = run_stack(pamh, &cv, login, password, &a);
        if (pam_end(pamh, r) != PAM_SUCCESS)
                say("pam_end failed");
        return answer(a, cv.delay_usec);
}

static void wipe_password(char (*buf)[HELPER_PASSWORD_MAX + 3]) {
        erase_memory(*buf, sizeof *buf);
}

/* The service's event loop answers every caller: a burst of confirmations
 * should not take the CPU from it.  A batch task at nice 5 neither preempts
 * it on waking nor gets an equal share beside it; alone on the CPU it runs
 * as fast as before. */
static void yield_to_service(void) {
        struct sched_param none = { .sched_priority = 0 };

        (void) sched_setscheduler(0, SCHED_BATCH, &none);
        (void) setpriority(PRIO_PROCESS, 0, CR_PAM_HELPER_NICE);
}

int main(int argc, char *argv[]) {
        _cleanup_(wipe_password) char password[HELPER_PASSWORD_MAX + 3];
        int r;

        /* no core dump or ptrace of a process that holds a password */
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        yield_to_service();

        memset(password, 0, sizeof password);
        if (argc != 3 || !name_ok(argv[1], true) || !name_ok(argv[2], false)) {
                say("usage: certrevoke-pam-helper SERVICE LOGIN  (password on stdin)");
                (void) write_all("error\n");
                return EXIT_USAGE;
        }
        if (isatty(STDIN_FILENO)) {
                say("refusing to read a password from a terminal; it is read from a pipe");
                (void) write_all("error\n");
                return EXIT_USAGE;
        }

        r = read_password(password, sizeof password);
        if (r == -EMSGSIZE || r == -EBADMSG) {
                /* no password PAM could accept: a wrong one, not an error */
                if (r == -EMSGSIZE)
                        say("password longer than %d bytes: refused without asking PAM", HELPER_PASSWORD_MAX);
                else
                        say("password contains a NUL byte or a line break: refused without asking PAM");
                return answer(ANSWER_AUTH_FAILED, 0);
        }
        if (r < 0) {
                say("cannot read the password: %s", strerror(-r));
                return answer(ANSWER_ERROR, 0);
        }
        return check(argv[1], argv[2], password);
}
