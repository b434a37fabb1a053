/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Confirmation passwords through PAM, one certrevoke-pam-helper process per
 * check (see pam-helper.c for its protocol).  PAM modules are not reliably
 * thread-safe and a failing stack sleeps, so neither runs in the daemon: the
 * loop only writes the password into a pipe, watches the helper's answer and
 * its exit, and waits the fail delay the helper reports on a timer. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sched.h>
#include <spawn.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "auth.h"
#include "certrevoke.h"
#include "log.h"
#include "util.h"

#define HELPER_NAME "certrevoke-pam-helper"
/* A fail delay longer than this is cut to it: a misconfigured stack must
 * not hold a caller for hours. */
#define DELAY_MAX_USEC (60 * USEC_PER_SEC)
/* Longest answer line the helper writes, with room to spot a longer one. */
#define ANSWER_MAX 64

/* The password and its newline reach the pipe in one write that cannot
 * block: an empty pipe takes PIPE_BUF bytes at once. */
_Static_assert(AUTH_PASSWORD_MAX + 2 <= PIPE_BUF, "the password must fit in one atomic pipe write");

extern char **environ;

struct AuthCheck {
        AuthCheck *next;
        Context *context;
        char *login;                    /* for log messages */
        auth_done_fn done;
        void *userdata;

        int fd;                         /* the helper's stdout */
        sd_event_source *io, *child, *timer;
        char answer[ANSWER_MAX + 1];
        size_t n_answer;
        bool overflow, read_error, timed_out;

        AuthResult result;              /* known once delaying */
        bool delaying;                  /* helper done, fail delay under way */
};

const char *auth_result_to_string(AuthResult r) {
        static const char *const table[] = {
                [AUTH_OK] = "ok",
                [AUTH_FAILED] = "failed",
                [AUTH_ACCOUNT_REFUSED] = "account-refused",
                [AUTH_ERROR] = "error",
        };

        return (unsigned) r < ELEMENTSOF(table) ? table[r] : "?";
}

int auth_set_helper(Context *c, const char *path, uint64_t timeout_usec) {
        char *copy = NULL;

        assert(c);
        if (path && strlen(path) >= PATH_MAX)
                return -ENAMETOOLONG;
        if (path && !(copy = strdup(path)))
                return -ENOMEM;
        free(c->auth.helper);
        c->auth.helper = copy;
        c->auth.timeout_usec = timeout_usec;
        return 0;
}

static uint64_t timeout_usec(Context *c) {
        return c->auth.timeout_usec ?: AUTH_TIMEOUT_USEC;
}

/* The helper beside /proc/self/exe.  After an upgrade replaced the daemon
 * the link ends in " (deleted)", which only touches the last component. */
static int helper_path(Context *c, char *buf, size_t size) {
        ssize_t n;
        char *slash;

        if (c->auth.helper) {
                if (strlen(c->auth.helper) >= size)
                        return -ENAMETOOLONG;
                strcpy(buf, c->auth.helper);
                return 0;
        }
        n = readlink("/proc/self/exe", buf, size);
        if (n < 0)
                return -errno;
        if ((size_t) n >= size)
                return -ENAMETOOLONG;
        buf[n] = '\0';
        if (!(slash = strrchr(buf, '/')))
                return -ENOENT;
        if ((size_t) (slash + 1 - buf) + sizeof HELPER_NAME > size)
                return -ENAMETOOLONG;
        strcpy(slash + 1, HELPER_NAME);
        return 0;
}

/* A PAM service names a file in /etc/pam.d. */
static bool service_name_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > 255 || s[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", s[i]))
                        return false;
        return true;
}

static void check_unlink(AuthCheck *a) {
        for (AuthCheck **p = &a->context->auth.checks; *p; p = &(*p)->next)
                if (*p == a) {
                        *p = a->next;
                        break;
                }
        a->next = NULL;
}

/* Drops the helper's sources; a child source still watching a running
 * helper kills and reaps it (it owns the process). */
static void check_release(AuthCheck *a) {
        a->io = sd_event_source_disable_unref(a->io);
        a->child = sd_event_source_disable_unref(a->child);
        a->timer = sd_event_source_disable_unref(a->timer);
        if (a->fd >= 0)
                a->fd = (close(a->fd), -1);
}

static void check_free(AuthCheck *a) {
        check_release(a);
        free(a->login);
        free(a);
}

/* Unlinks and frees the check, then answers: done may start a new check or
 * cancel others. */
static void report(AuthCheck *a, AuthResult result) {
        Context *c = a->context;
        auth_done_fn done = a->done;
        void *userdata = a->userdata;

        check_unlink(a);
        check_free(a);
        done(c, result, userdata);
}

/* Reads what the helper wrote so far; the pipe is non-blocking. */
static void read_answer(AuthCheck *a) {
        char scratch[ANSWER_MAX];

        while (a->io) {
                char *to = a->overflow ? scratch : a->answer + a->n_answer;
                size_t room = a->overflow ? sizeof scratch : ANSWER_MAX - a->n_answer;
                ssize_t k;

                if (room == 0) {
                        a->overflow = true;
                        continue;
                }
                k = read(a->fd, to, room);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return;
                if (k <= 0) {
                        /* EOF or a broken pipe: nothing more will come */
                        a->read_error = k < 0;
                        a->io = sd_event_source_disable_unref(a->io);
                        return;
                }
                if (!a->overflow)
                        a->n_answer += (size_t) k;
        }
}

static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        (void) s, (void) fd, (void) revents;
        read_answer(userdata);
        return 0;
}

/* A decimal number as the helper prints it ("%u"): digits only, no sign,
 * no leading zero, no overflow. */
static int parse_delay(const char *s, uint64_t *ret) {
        uint64_t v = 0;

        if (!*s || (s[0] == '0' && s[1]))
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                v = v * 10 + (uint64_t) (*s - '0');
                if (v > UINT_MAX)
                        return -ERANGE;
        }
        *ret = v;
        return 0;
}

/* The one line "WORD" or "WORD DELAY_USEC" and a newline, nothing else. */
static AuthResult parse_answer(char *line, size_t n, uint64_t *ret_delay) {
        static const struct {
                const char *word;
                AuthResult result;
        } words[] = {
                { "auth-failed",     AUTH_FAILED },
                { "user-unknown",    AUTH_FAILED },
                { "account-refused", AUTH_ACCOUNT_REFUSED },
        };
        char *space;

        *ret_delay = 0;
        if (n == 0 || line[n - 1] != '\n' || memchr(line, '\n', n - 1) || memchr(line, '\0', n))
                return AUTH_ERROR;
        line[n - 1] = '\0';
        if (streq_ptr(line, "ok"))
                return AUTH_OK;
        if (!(space = strchr(line, ' ')))
                return AUTH_ERROR;
        *space = '\0';
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (streq_ptr(line, words[i].word))
                        return parse_delay(space + 1, ret_delay) < 0 ? AUTH_ERROR : words[i].result;
        return AUTH_ERROR;
}

/* What the helper's line and exit status say; logs why when it is an error. */
static AuthResult helper_result(AuthCheck *a, const siginfo_t *si, uint64_t *ret_delay) {
        AuthResult r;

        *ret_delay = 0;
        if (a->timed_out) {
                log_error("auth: the PAM helper for %s did not finish within %llu ms: killed",
                          a->login, (unsigned long long) timeout_usec(a->context) / 1000);
                return AUTH_ERROR;
        }
        if (a->read_error) {
                log_error("auth: cannot read the answer of the PAM helper for %s", a->login);
                return AUTH_ERROR;
        }
        if (a->overflow) {
                log_error("auth: the PAM helper for %s wrote more than one answer line", a->login);
                return AUTH_ERROR;
        }
        r = parse_answer(a->answer, a->n_answer, ret_delay);
        if (si->si_code != CLD_EXITED || si->si_status != 0) {
                /* "error" comes with status 1: PAM logged or the helper said why */
                if (si->si_code != CLD_EXITED)
                        log_error("auth: the PAM helper for %s was killed by signal %d", a->login, si->si_status);
                else if (!(si->si_status == 1 && streq_ptr(a->answer, "error")))
                        log_error("auth: the PAM helper for %s exited with status %d", a->login, si->si_status);
                return AUTH_ERROR;
        }
        if (r == AUTH_ERROR && !streq_ptr(a->answer, "error"))
                log_error("auth: the PAM helper for %s gave an answer that cannot be parsed (%zu bytes)",
                          a->login, a->n_answer);
        return r;
}

static int on_delay_over(sd_event_source *s, uint64_t usec, void *userdata) {
        AuthCheck *a = userdata;

        (void) s, (void) usec;
        report(a, a->result);
        return 0;
}

static int on_exited(sd_event_source *s, const siginfo_t *si, void *userdata) {
        AuthCheck *a = userdata;
        uint64_t delay;
        AuthResult r;
        int k;

        (void) s;
        /* the line was written before the exit: take what is in the pipe */
        read_answer(a);
        r = helper_result(a, si, &delay);
        log_debug("auth: %s through PAM: %s, fail delay %llu µs", a->login, auth_result_to_string(r),
                  (unsigned long long) delay);
        /* a source freed inside its own callback is only detached: sd-event
         * reaps the helper when the callback returns */
        check_release(a);
        if (r == AUTH_OK || r == AUTH_ERROR || delay == 0) {
                report(a, r);
                return 0;
        }
        if (delay > DELAY_MAX_USEC) {
                log_warning("auth: the PAM stack asked for a fail delay of %llu s; waiting %llu s",
                            (unsigned long long) (delay / USEC_PER_SEC), (unsigned long long) (DELAY_MAX_USEC / USEC_PER_SEC));
                delay = DELAY_MAX_USEC;
        }
        a->result = r;
        a->delaying = true;
        k = sd_event_add_time_relative(a->context->event, &a->timer, CLOCK_MONOTONIC, delay, 0,
                                       on_delay_over, a);
        if (k >= 0)
                k = sd_event_source_set_priority(a->timer, PRIORITY_WORK);
        if (k < 0) {
                /* answering at once would skip the delay: answer nothing decided */
                log_error_errno(k, "auth: cannot arm the fail delay timer: %m");
                report(a, AUTH_ERROR);
        }
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        AuthCheck *a = userdata;

        (void) s, (void) usec;
        a->timed_out = true;
        a->timer = sd_event_source_disable_unref(a->timer);
        /* its exit arrives through on_exited, which answers */
        if (sd_event_source_send_child_signal(a->child, SIGKILL, NULL, 0) < 0) {
                log_error("auth: cannot kill the PAM helper for %s", a->login);
                report(a, AUTH_ERROR);
        }
        return 0;
}

/* Keeps our pipe ends off 0..2, where dup2() onto stdio would misbehave:
 * possible only when the daemon was started with stdio closed. */
static int fd_above_stdio(int *fd) {
        int n;

        if (*fd > STDERR_FILENO)
                return 0;
        if ((n = fcntl(*fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1)) < 0)
                return -errno;
        close(*fd);
        *fd = n;
        return 0;
}

static int make_pipe(int fds[2]) {
        int r;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        if ((r = fd_above_stdio(&fds[0])) < 0 || (r = fd_above_stdio(&fds[1])) < 0)
                return r;
        return 0;
}

/* The password and a newline; a longer password than PAM gets is cut one
 * byte past the limit, so that the helper refuses it as too long. */
static int send_password(int fd, const char *password) {
        size_t n = strnlen(password, AUTH_PASSWORD_MAX + 1);
        struct iovec iov[2] = {
                { .iov_base = (void *) password, .iov_len = n },
                { .iov_base = (void *) "\n", .iov_len = 1 },
        };
        ssize_t k;

        while ((k = writev(fd, iov, 2)) < 0 && errno == EINTR)
                ;
        if (k < 0)
                return -errno;
        return (size_t) k == n + 1 ? 0 : -EIO;
}

/* posix_spawn() rather than fork(): nothing of the daemon's (other threads'
 * locks, its heap) is touched in the child.  The helper gets the pipes as
 * stdin and stdout, the daemon's stderr, no other descriptor, an empty
 * signal mask and default signal actions (the daemon blocks SIGCHLD and
 * SIGTERM), and the daemon's environment.  It is made a batch task at
 * once (posix_spawn() knows no SCHED_BATCH), so that loading the PAM
 * stack's libraries does not take the CPU from the event loop either; the
 * helper lowers its priority itself too, for when it is run some other
 * way. */
static int spawn_helper(const char *path, char *const argv[], int in_fd, int out_fd, pid_t *ret_pid) {
        const struct sched_param none_priority = { .sched_priority = 0 };
        posix_spawn_file_actions_t actions;
        posix_spawnattr_t attr;
        sigset_t none, all;
        int r;

        if ((r = posix_spawn_file_actions_init(&actions)) != 0)
                return -r;
        if ((r = posix_spawnattr_init(&attr)) != 0) {
                posix_spawn_file_actions_destroy(&actions);
                return -r;
        }
        sigemptyset(&none);
        sigfillset(&all);
        if ((r = posix_spawn_file_actions_adddup2(&actions, in_fd, STDIN_FILENO)) == 0 &&
            (r = posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO)) == 0 &&
            (r = posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1)) == 0 &&
            (r = posix_spawnattr_setsigmask(&attr, &none)) == 0 &&
            (r = posix_spawnattr_setsigdefault(&attr, &all)) == 0 &&
            (r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) == 0)
                r = posix_spawn(ret_pid, path, &actions, &attr, argv, environ);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&actions);
        if (r != 0)
                return -r;
        /* not reaped yet, so the pid is still the helper's */
        if (sched_setscheduler(*ret_pid, SCHED_BATCH, &none_priority) < 0 ||
            setpriority(PRIO_PROCESS, (id_t) *ret_pid, CR_PAM_HELPER_NICE) < 0)
                (void) log_full_errno(LOG_DEBUG, errno, "auth: cannot lower the PAM helper's priority: %m");
        return 0;
}

static void close_pair(int fds[2]) {
        for (int i = 0; i < 2; i++)
                if (fds[i] >= 0)
                        fds[i] = (close(fds[i]), -1);
}

/* Starts the helper with the password waiting in its stdin; returns its
 * pid and the read end of its stdout. */
static int start_helper(Context *c, const char *login, const char *password, pid_t *ret_pid, int *ret_fd) {
        char path[PATH_MAX];
        char *argv[] = { path, c->config.pam_service, (char *) login, NULL };
        int in[2] = { -1, -1 }, out[2] = { -1, -1 };
        int r;

        if ((r = helper_path(c, path, sizeof path)) < 0)
                return log_error_errno(r, "auth: cannot find the PAM helper: %m");
        if ((r = make_pipe(in)) < 0 || (r = make_pipe(out)) < 0 ||
            (r = send_password(in[1], password)) < 0) {
                close_pair(in);
                close_pair(out);
                return log_error_errno(r, "auth: cannot set up the pipes to the PAM helper: %m");
        }
        in[1] = (close(in[1]), -1);
        r = spawn_helper(path, argv, in[0], out[1], ret_pid);
        in[0] = (close(in[0]), -1);
        out[1] = (close(out[1]), -1);
        if (r < 0) {
                close_pair(out);
                return log_error_errno(r, "auth: cannot start %s: %m", path);
        }
        if (fcntl(out[0], F_SETFL, O_NONBLOCK) < 0) {
                r = -errno;
                (void) kill(*ret_pid, SIGKILL);
                (void) waitpid(*ret_pid, NULL, 0);
                close_pair(out);
                return r;
        }
        *ret_fd = out[0];
        return 0;
}

/* Watches a started helper: its answer, its exit, the time limit. */
static int watch_helper(AuthCheck *a, pid_t pid) {
        sd_event *e = a->context->event;
        int r;

        r = sd_event_add_child(e, &a->child, pid, WEXITED, on_exited, a);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                /* -EBUSY: SIGCHLD is not blocked */
                return log_error_errno(r, "auth: cannot watch the PAM helper: %m");
        }
        /* from here on freeing the source kills and reaps the helper */
        if ((r = sd_event_source_set_child_process_own(a->child, true)) < 0)
                return r;
        if ((r = sd_event_source_set_priority(a->child, PRIORITY_WORK)) < 0)
                return r;
        if ((r = sd_event_add_io(e, &a->io, a->fd, EPOLLIN, on_readable, a)) < 0)
                return r;
        if ((r = sd_event_source_set_priority(a->io, PRIORITY_WORK)) < 0)
                return r;
        r = sd_event_add_time_relative(e, &a->timer, CLOCK_MONOTONIC, timeout_usec(a->context), 0, on_timeout, a);
        if (r < 0)
                return r;
        return sd_event_source_set_priority(a->timer, PRIORITY_WORK);
}

unsigned auth_pending(Context *c, const char *login) {
        unsigned n = 0;

        for (AuthCheck *a = c->auth.checks; a; a = a->next)
                if (!login || streq_ptr(a->login, login))
                        n++;
        return n;
}

int auth_check(Context *c, const char *login, const char *password, auth_done_fn done, void *userdata) {
        AuthCheck *a;
        pid_t pid;
        int r;

        if (!c || !c->event || !password || !done || cr_login_id_invalid(login))
                return -EINVAL;
        if (!service_name_valid(c->config.pam_service))
                return log_error_errno(-EINVAL, "auth: PAM service name \"%s\" is not valid",
                                       c->config.pam_service ? c->config.pam_service : "");
        if (c->auth.cancelling)
                return -ESHUTDOWN;
        if (auth_pending(c, NULL) >= AUTH_PENDING_MAX)
                return -EAGAIN;
        if (!(a = calloc(1, sizeof *a)))
                return -ENOMEM;
        a->context = c;
        a->fd = -1;
        if (!(a->login = strdup(login))) {
                free(a);
                return -ENOMEM;
        }
        r = start_helper(c, login, password, &pid, &a->fd);
        if (r < 0) {
                check_free(a);
                return r;
        }
        r = watch_helper(a, pid);
        if (r < 0) {
                check_free(a);
                return r;
        }
        a->done = done;
        a->userdata = userdata;
        a->next = c->auth.checks;
        c->auth.checks = a;
        return 0;
}

void auth_cancel_all(Context *c) {
        bool saved = c->auth.cancelling;

        c->auth.cancelling = true;
        /* a failure waiting out its delay is still a failure to record */
        while (c->auth.checks)
                report(c->auth.checks, c->auth.checks->delaying ? c->auth.checks->result : AUTH_ERROR);
        c->auth.cancelling = saved;
}

void auth_done(Context *c) {
        auth_cancel_all(c);
        free(c->auth.helper);
        c->auth.helper = NULL;
        c->auth.timeout_usec = 0;
}
