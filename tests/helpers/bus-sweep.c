/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A sweep over certrevoked's D-Bus surface: every method of the Manager with
 * every class of bad argument (empty, a megabyte, names that are no names,
 * numbers past their bounds, the wrong signature), and every account action
 * by a role that may not take it.  Each case must end in the error the
 * contract names, the daemon that answered must still be the one that
 * started, and nothing a user sees may have changed: the users and every
 * property of theirs, the CRL number, the confirmation file, and the
 * history but for the one row that records a refusal.
 *
 *   bus-sweep --address=ADDR --pid=PID --confirm-file=PATH --serial=HEX \
 *             --uid=ROLE:UID ...
 *
 * Runs as root; each call is made from a child process with the acting
 * UID.  The world is the test's: logins boss (master), kanri (admin), gina
 * (general, holding the certificate SERIAL) and walt (worker); the role
 * "stranger" is a UID that is no user.  Prints one line per failed case and
 * "sweep: N cases, N failed in S s"; exits 1 if any failed. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

#define BUS_NAME  "org.certrevoke1"
#define MGR_PATH  "/org/certrevoke1"
#define MGR_IFACE "org.certrevoke1.Manager"

#define E_INVALID "org.freedesktop.DBus.Error.InvalidArgs"
#define E_DENIED  "org.freedesktop.DBus.Error.AccessDenied"
#define E_NOUSER  "org.certrevoke1.Error.NoSuchUser"
#define E_EXISTS  "org.certrevoke1.Error.UserExists"
#define E_AUTH    "org.certrevoke1.Error.AuthenticationFailed"
#define E_RATE    "org.certrevoke1.Error.RateLimited"
#define E_BUSY    "org.certrevoke1.Error.Busy"

#define MAX_ARGS   4
#define MAX_EXPECT 4
#define BIG        (1024 * 1024)
#define CALL_TIMEOUT_USEC (30ULL * 1000000ULL)

#define WRONG_PW "Wr0ng-Guess-b8e6"
#define NEW_PW   "Fresh-Pass#8812"

typedef enum Kind {
        K_LOGIN,        /* an existing user's login ID */
        K_FILTER,       /* a login ID or "" */
        K_NEWLOGIN,     /* a login ID to create */
        K_NAME,
        K_ROLE,
        K_SERIAL,
        K_REASON,
        K_SECRET,       /* a confirmation or old password */
        K_NEWSECRET,
        K_UID,
        K_LIMIT,
        K_SINCE,
        K_DER,
        K_TARGETS,      /* RevokeCertificates' (login ID, serial) pairs */
        K_FD,           /* a file to back the store up into */
} Kind;

/* One (login ID, serial) pair of an a(ss). */
typedef struct Target {
        const char *login, *serial;
} Target;

typedef struct Value {
        char type;              /* 's', 'u', 't', 'y' (an array of bytes), 'a' (an array of (ss) targets),
                                 * 'v' (a variant holding a t) or 'h' (a file the caller opens) */
        const char *s;          /* 's'; 'y': the bytes; 'h': the path */
        const Target *targets;  /* 'a' */
        size_t len;             /* 'y', 'a' */
        uint64_t n;             /* 'u', 't'; 'h': the open flags */
} Value;

typedef struct Class {
        const char *label;
        Value value;
        const char *expect[MAX_EXPECT];
} Class;

typedef struct Method {
        const char *name;
        Kind kinds[MAX_ARGS];
        Value base[MAX_ARGS];
        unsigned n_args;
} Method;

typedef struct Case {
        const char *actor;
        const char *path, *interface, *member;
        Value args[MAX_ARGS];
        unsigned n_args;
        const char *expect[MAX_EXPECT];
        char label[160];
} Case;

typedef struct Actor {
        char role[16];
        uid_t uid;
} Actor;

typedef struct Sweep {
        const char *address;
        pid_t daemon_pid;
        const char *confirm_file;
        const char *serial;
        Actor actors[8];
        unsigned n_actors;
        sd_bus *root;           /* root's connection, for the state */
        char *owner;            /* the daemon's unique name at the start */
        char *state;            /* users, properties, CRL number, confirmation file */
        char *history;          /* the history, oldest first, one row a line */
        unsigned cases, failed;
        char *big;              /* BIG 'a's */
        char *bytes;            /* BIG zero bytes */
        Target *many;           /* TARGETS_PAST_MAX targets */
        Target big_login[1], big_serial[1];     /* a megabyte in a target */
} Sweep;

#define S(x) { .type = 's', .s = (x) }
#define U(x) { .type = 'u', .n = (x) }
#define T(x) { .type = 't', .n = (x) }
#define A(x) { .type = 'a', .targets = (x), .len = sizeof (x) / sizeof *(x) }

/* One more than RevokeCertificates takes. */
#define TARGETS_PAST_MAX 10001
#define H(path, flags) { .type = 'h', .s = (path), .n = (flags) }
/* An empty regular file open for writing, that anyone may make: a good
 * target for Backup. */
#define FD_GOOD H("/tmp", O_WRONLY | O_TMPFILE)

/* ------------------------------------------------------------------ state */

static int dump(sd_bus_message *m, FILE *f);

static int dump_basic(sd_bus_message *m, char type, FILE *f) {
        union { uint8_t y; int b; int16_t n; uint16_t q; int32_t i; uint32_t u; int64_t x; uint64_t t;
                double d; const char *s; } v;
        int r = sd_bus_message_read_basic(m, type, &v);

        if (r < 0)
                return r;
        switch (type) {
        case 'y': fprintf(f, "%u ", v.y); break;
        case 'b': fprintf(f, "%s ", v.b ? "true" : "false"); break;
        case 'n': fprintf(f, "%d ", v.n); break;
        case 'q': fprintf(f, "%u ", v.q); break;
        case 'i': case 'h': fprintf(f, "%d ", v.i); break;
        case 'u': fprintf(f, "%u ", v.u); break;
        case 'x': fprintf(f, "%lld ", (long long) v.x); break;
        case 't': fprintf(f, "%llu ", (unsigned long long) v.t); break;
        case 'd': fprintf(f, "%g ", v.d); break;
        default: fprintf(f, "\"%s\" ", v.s); break;
        }
        return 0;
}

/* Writes the rest of m as text, containers nested in brackets. */
static int dump(sd_bus_message *m, FILE *f) {
        for (;;) {
                const char *contents;
                char type;
                int r = sd_bus_message_peek_type(m, &type, &contents);

                if (r < 0)
                        return r;
                if (r == 0)
                        return 0;
                if (!strchr("arve", type)) {
                        if ((r = dump_basic(m, type, f)) < 0)
                                return r;
                        continue;
                }
                r = sd_bus_message_enter_container(m, type, contents);
                if (r < 0)
                        return r;
                fputc('[', f);
                if ((r = dump(m, f)) < 0)
                        return r;
                fputs("]\n", f);
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
}

static char *call_dump(Sweep *s, const char *path, const char *iface, const char *member, const char *sig, ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        char *text = NULL;
        size_t size = 0;
        FILE *f;
        va_list ap;
        int r;

        va_start(ap, sig);
        r = sd_bus_call_methodv(s->root, BUS_NAME, path, iface, member, &error, &reply, sig, ap);
        va_end(ap);
        if (r < 0) {
                fprintf(stderr, "sweep: %s as root failed: %s\n", member, error.message ? error.message : strerror(-r));
                return NULL;
        }
        f = open_memstream(&text, &size);
        if (!f) {
                sd_bus_message_unref(reply);
                return NULL;
        }
        r = dump(reply, f);
        fclose(f);
        sd_bus_message_unref(reply);
        if (r < 0) {
                free(text);
                return NULL;
        }
        return text;
}

static char *file_text(const char *path) {
        char *text = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&text, &size), *in;
        int ch;

        if (!out)
                return NULL;
        in = fopen(path, "re");
        if (in) {
                while ((ch = fgetc(in)) != EOF)
                        fputc(ch, out);
                fclose(in);
        } else
                fprintf(out, "(no file: %s)", strerror(errno));
        fclose(out);
        return text;
}

/* Everything a user could see changed, but the history. */
static char *state_now(Sweep *s) {
        char *objects = call_dump(s, MGR_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", "");
        char *users = call_dump(s, MGR_PATH, MGR_IFACE, "ListUsers", "");
        char *crl = call_dump(s, MGR_PATH, "org.freedesktop.DBus.Properties", "Get", "ss", MGR_IFACE, "CRLNumber");
        char *confirm = file_text(s->confirm_file);
        char *all = NULL;

        if (objects && users && crl && confirm &&
            asprintf(&all, "objects:\n%s\nusers:\n%s\nCRLNumber: %s\nconfirmation file:\n%s\n",
                     objects, users, crl, confirm) < 0)
                all = NULL;
        free(objects);
        free(users);
        free(crl);
        free(confirm);
        return all;
}

/* The rows, one a line, without the array's brackets: so that the rows of
 * before are a prefix of the rows of after. */
static char *history_now(Sweep *s) {
        char *text = call_dump(s, MGR_PATH, MGR_IFACE, "GetHistory", "stu", "", (uint64_t) 0, (uint32_t) 10000);
        size_t n;

        if (!text)
                return NULL;
        n = strlen(text);
        if (n < 3 || text[0] != '[' || strcmp(text + n - 2, "]\n") != 0) {
                fprintf(stderr, "sweep: the history is not an array: %s\n", text);
                free(text);
                return NULL;
        }
        text[n - 2] = '\0';
        memmove(text, text + 1, n - 2);
        return text;
}

static unsigned count_lines(const char *s) {
        unsigned n = 0;

        for (; *s; s++)
                n += *s == '\n';
        return n;
}

static char *owner_now(Sweep *s) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *owner;
        char *copy = NULL;

        if (sd_bus_call_method(s->root, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "GetNameOwner", &error, &reply, "s", BUS_NAME) < 0)
                return NULL;
        if (sd_bus_message_read(reply, "s", &owner) > 0)
                copy = strdup(owner);
        sd_bus_message_unref(reply);
        return copy;
}

/* ------------------------------------------------------------------ one call, as the actor */

static uid_t actor_uid(const Sweep *s, const char *role) {
        for (unsigned i = 0; i < s->n_actors; i++)
                if (strcmp(s->actors[i].role, role) == 0)
                        return s->actors[i].uid;
        fprintf(stderr, "sweep: no --uid for role %s\n", role);
        exit(2);
}

static int append_targets(sd_bus_message *m, const Value *v) {
        int r = sd_bus_message_open_container(m, 'a', "(ss)");

        for (size_t i = 0; r >= 0 && i < v->len; i++)
                r = sd_bus_message_append(m, "(ss)", v->targets[i].login, v->targets[i].serial);
        return r < 0 ? r : sd_bus_message_close_container(m);
}

/* The call carries its own copy of the descriptor. */
static int append_fd(sd_bus_message *m, const Value *v) {
        int fd = open(v->s, (int) v->n | O_CLOEXEC, 0600);
        int r;

        if (fd < 0)
                return -errno;
        r = sd_bus_message_append_basic(m, 'h', &fd);
        close(fd);
        return r;
}

static int append_value(sd_bus_message *m, const Value *v) {
        uint32_t u = (uint32_t) v->n;

        switch (v->type) {
        case 'h': return append_fd(m, v);
        case 's': return sd_bus_message_append_basic(m, 's', v->s);
        case 'u': return sd_bus_message_append_basic(m, 'u', &u);
        case 't': return sd_bus_message_append_basic(m, 't', &v->n);
        case 'y': return sd_bus_message_append_array(m, 'y', v->s, v->len);
        case 'a': return append_targets(m, v);
        case 'v': return sd_bus_message_append(m, "v", "t", v->n);
        default: return -EINVAL;
        }
}

/* In the child: makes the call and writes what came back to fd. */
static void call_as_actor(const Sweep *s, const Case *c, uid_t uid, int fd) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        sd_bus *bus = NULL;
        char answer[256];
        int r;

        if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
                _exit(3);
        if ((r = sd_bus_new(&bus)) < 0 || (r = sd_bus_set_address(bus, s->address)) < 0 ||
            (r = sd_bus_set_bus_client(bus, 1)) < 0 || (r = sd_bus_start(bus)) < 0)
                snprintf(answer, sizeof answer, "(could not connect: %s)", strerror(-r));
        else if ((r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, c->path, c->interface, c->member)) < 0)
                snprintf(answer, sizeof answer, "(no message: %s)", strerror(-r));
        else {
                for (unsigned i = 0; i < c->n_args && r >= 0; i++)
                        r = append_value(m, &c->args[i]);
                if (r < 0)
                        snprintf(answer, sizeof answer, "(could not append: %s)", strerror(-r));
                else if (sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &error, &reply) >= 0)
                        snprintf(answer, sizeof answer, "success");
                else
                        snprintf(answer, sizeof answer, "%s", error.name ? error.name : "(no error name)");
        }
        (void) !write(fd, answer, strlen(answer));
        _exit(0);
}

/* The error name the call got, "success", or why there is none. */
static void run_call(Sweep *s, const Case *c, char *answer, size_t size) {
        uid_t uid = actor_uid(s, c->actor);
        struct pollfd p;
        int fds[2], status;
        ssize_t n;
        pid_t pid;

        if (pipe2(fds, O_CLOEXEC) < 0) {
                snprintf(answer, size, "(pipe: %m)");
                return;
        }
        pid = fork();
        if (pid == 0) {
                close(fds[0]);
                call_as_actor(s, c, uid, fds[1]);
        }
        close(fds[1]);
        if (pid < 0) {
                close(fds[0]);
                snprintf(answer, size, "(fork: %m)");
                return;
        }
        p = (struct pollfd) { .fd = fds[0], .events = POLLIN };
        if (poll(&p, 1, (int) (CALL_TIMEOUT_USEC / 1000) + 5000) <= 0) {
                kill(pid, SIGKILL);
                snprintf(answer, size, "(no answer in time)");
                n = 0;
        } else {
                n = read(fds[0], answer, size - 1);
                answer[n > 0 ? n : 0] = '\0';
                if (n <= 0)
                        snprintf(answer, size, "(the caller died)");
        }
        close(fds[0]);
        (void) waitpid(pid, &status, 0);
}

/* ------------------------------------------------------------------ the check of one case */

static bool expected(const Case *c, const char *answer) {
        for (unsigned i = 0; i < MAX_EXPECT && c->expect[i]; i++)
                if (strcmp(c->expect[i], answer) == 0)
                        return true;
        return false;
}

/* How many history rows an answer may add: none for a call that never got
 * past its arguments, one for a refusal, two for a failed confirmation (the
 * confirmation and the action it was for). */
static unsigned history_rows_allowed(const char *answer) {
        if (strcmp(answer, E_AUTH) == 0 || strcmp(answer, E_RATE) == 0 || strcmp(answer, E_BUSY) == 0)
                return 2;
        if (strcmp(answer, E_DENIED) == 0 || strcmp(answer, E_NOUSER) == 0 || strcmp(answer, E_EXISTS) == 0)
                return 1;
        return 0;
}

/* Old rows stay as they were; new ones only come after them. */
static const char *history_change(const char *before, const char *after, const char *answer) {
        unsigned allowed = history_rows_allowed(answer);

        if (strncmp(after, before, strlen(before)) != 0)
                return "history rows already written changed";
        if (count_lines(after + strlen(before)) > allowed)
                return allowed ? "a refusal wrote more history rows than it records"
                               : "a call refused for its arguments wrote a history row";
        return NULL;
}

static bool daemon_alive(Sweep *s) {
        char *owner;
        bool same;

        if (kill(s->daemon_pid, 0) < 0)
                return false;
        owner = owner_now(s);
        same = owner && strcmp(owner, s->owner) == 0;
        free(owner);
        return same;
}

static void fail(Sweep *s, const Case *c, const char *why, const char *answer) {
        s->failed++;
        printf("FAIL %s: %s (answer: %s; expected:", c->label, why, answer);
        for (unsigned i = 0; i < MAX_EXPECT && c->expect[i]; i++)
                printf(" %s", c->expect[i]);
        printf(")\n");
}

static void run_case(Sweep *s, const Case *c) {
        char answer[256];
        char *state, *history;
        const char *why;

        s->cases++;
        run_call(s, c, answer, sizeof answer);
        if (!daemon_alive(s)) {
                fail(s, c, "the daemon is gone", answer);
                printf("sweep: stopping: certrevoked died\n");
                exit(1);
        }
        if (!expected(c, answer))
                fail(s, c, "unexpected answer", answer);
        state = state_now(s);
        history = history_now(s);
        if (!state || !history) {
                fail(s, c, "the state could not be read", answer);
                exit(1);
        }
        if (strcmp(state, s->state) != 0) {
                fail(s, c, "the state changed", answer);
                printf("--- before\n%s--- after\n%s---\n", s->state, state);
                free(s->state);
                s->state = state;
        } else
                free(state);
        why = history_change(s->history, history, answer);
        if (why)
                fail(s, c, why, answer);
        free(s->history);
        s->history = history;
}

/* ------------------------------------------------------------------ the classes of bad arguments */

#define INVALID { E_INVALID }
#define NOUSER  { E_NOUSER }
#define EXISTS  { E_EXISTS }

/* Arguments that no login ID is, but the empty one. */
#define EMPTY_LOGIN { "empty", S(""), INVALID }
#define BAD_LOGINS(big) \
        { "\".\"", S("."), INVALID }, \
        { "\"..\"", S(".."), INVALID }, \
        { "a leading dash", S("-rf"), INVALID }, \
        { "a slash", S("a/b"), INVALID }, \
        { "a space", S("a b"), INVALID }, \
        { "a control character", S("a\x01" "b"), INVALID }, \
        { "a bidi override", S("\xe2\x80\xae" "nimda"), INVALID }, \
        { "non-ASCII", S("\xc3\xbc" "ser"), INVALID }, \
        { "65 characters", S("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), INVALID }, \
        { "1 MB", S(big), INVALID }

#define MAX_CLASSES 16
#define COPY(t) (memcpy(out, t, sizeof t), sizeof t / sizeof *t)

/* The bad values of kind k into out; the big ones point into the sweep's
 * buffers. */
static size_t classes_for(const Sweep *s, Kind k, Class out[static MAX_CLASSES]) {
        const char *big = s->big, *bytes = s->bytes;

        switch (k) {
        case K_LOGIN: {
                Class t[] = { EMPTY_LOGIN, BAD_LOGINS(big), { "no such user", S("ghost"), NOUSER },
                              { "another case of a login", S("GINA"), NOUSER } };
                return COPY(t);
        }
        case K_FILTER: {
                /* "" is everyone's history */
                Class t[] = { BAD_LOGINS(big) };
                return COPY(t);
        }
        case K_NEWLOGIN: {
                Class t[] = { EMPTY_LOGIN, BAD_LOGINS(big), { "an existing login", S("gina"), EXISTS },
                              { "an existing login in capitals", S("BOSS"), EXISTS },
                              { "an existing login, capitalised", S("Gina"), EXISTS } };
                return COPY(t);
        }
        case K_NAME: {
                Class t[] = {
                        { "empty", S(""), INVALID },
                        { "a control character", S("Bad\x01Name"), INVALID },
                        { "a newline", S("Bad\nName"), INVALID },
                        { "a tab", S("Bad\tName"), INVALID },
                        { "DEL", S("Bad\x7fName"), INVALID },
                        { "a C1 control", S("Bad\xc2\x85Name"), INVALID },
                        { "a bidi override", S("\xe2\x80\xae" "emaN"), INVALID },
                        { "a bidi isolate", S("\xe2\x81\xa6" "Name"), INVALID },
                        { "a zero-width space", S("Na\xe2\x80\x8bme"), INVALID },
                        { "a byte order mark", S("\xef\xbb\xbfName"), INVALID },
                        { "129 characters", S("nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
                                              "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"),
                          INVALID },
                        { "1 MB", S(big), INVALID },
                };
                return COPY(t);
        }
        case K_ROLE: {
                Class t[] = { { "empty", S(""), INVALID }, { "capitalised", S("Master"), INVALID },
                              { "root", S("root"), INVALID }, { "a trailing space", S("admin "), INVALID },
                              { "unknown", S("superuser"), INVALID }, { "1 MB", S(big), INVALID } };
                return COPY(t);
        }
        case K_SERIAL: {
                Class t[] = { { "not hex", S("xyz"), INVALID }, { "0x prefix", S("0x10"), INVALID },
                              { "negative", S("-1"), INVALID },
                              { "41 hex digits", S("1234567890123456789012345678901234567890a"), INVALID },
                              { "1 MB", S(big), INVALID } };
                return COPY(t);
        }
        case K_REASON: {
                Class t[] = { { "unknown", S("bogus"), INVALID }, { "removeFromCRL", S("removeFromCRL"), INVALID },
                              { "capitalised", S("KeyCompromise"), INVALID }, { "1 MB", S(big), INVALID } };
                return COPY(t);
        }
        case K_SECRET: {
                Class t[] = { { "512 bytes", S(big + BIG - 512), INVALID }, { "1 MB", S(big), INVALID } };
                return COPY(t);
        }
        case K_NEWSECRET: {
                Class t[] = { { "512 bytes", S(big + BIG - 512), INVALID }, { "1 MB", S(big), INVALID },
                              { "a newline", S("Fresh-Pass\n#8812"), INVALID },
                              { "a tab", S("Fresh-Pass\t#8812"), INVALID },
                              { "DEL", S("Fresh-Pass\x7f#8812"), INVALID },
                              { "an escape sequence", S("Fresh\x1b[31m#8812"), INVALID },
                              { "too short", S("Ab#1"), INVALID } };
                return COPY(t);
        }
        case K_UID: {
                Class t[] = { { "UID 0", U(0), INVALID }, { "nobody's UID", U(65534), INVALID },
                              { "2^31-1", U(2147483647u), INVALID }, { "2^32-1", U(4294967295u), INVALID } };
                return COPY(t);
        }
        case K_LIMIT: {
                Class t[] = { { "past the maximum", U(100001), INVALID }, { "2^32-1", U(4294967295u), INVALID } };
                return COPY(t);
        }
        case K_FD: {
                Class t[] = { { "a directory", H("/", O_RDONLY | O_DIRECTORY), INVALID },
                              { "a character device", H("/dev/null", O_WRONLY), INVALID },
                              { "a file with content", H("/etc/passwd", O_RDONLY), INVALID },
                              { "an empty file open read-only", H("/proc/version", O_RDONLY), INVALID } };
                return COPY(t);
        }
        case K_DER: {
                Class t[] = { { "empty", { .type = 'y', .s = bytes, .len = 0 }, INVALID },
                              { "garbage", { .type = 'y', .s = "not a certificate", .len = 17 }, INVALID },
                              { "64 KiB + 1", { .type = 'y', .s = bytes, .len = 65537 }, INVALID },
                              { "1 MB", { .type = 'y', .s = bytes, .len = BIG }, INVALID } };
                return COPY(t);
        }
        case K_TARGETS: {
                static const Target bad_login[] = { { "gina", "" }, { "..", "" } };
                static const Target bad_serial[] = { { "gina", "xyz" } };
                static const Target twice[] = { { "gina", "" }, { "gina", "" } };
                static const Target ghost[] = { { "gina", "" }, { "ghost", "" } };
                Class t[] = { { "no targets", { .type = 'a', .len = 0 }, INVALID },
                              { "10001 targets", { .type = 'a', .targets = s->many, .len = TARGETS_PAST_MAX },
                                INVALID },
                              { "a login that is none", A(bad_login), INVALID },
                              { "a 1 MB login", A(s->big_login), INVALID },
                              { "a serial that is none", A(bad_serial), INVALID },
                              { "a 1 MB serial", A(s->big_serial), INVALID },
                              { "the same user twice", A(twice), INVALID },
                              { "no such user", A(ghost), NOUSER } };
                return COPY(t);
        }
        case K_SINCE:
                return 0;
        }
        return 0;
}

/* ------------------------------------------------------------------ the methods */

#define GARBAGE { .type = 'y', .s = "not a certificate", .len = 17 }

/* A missed check would revoke gina's current certificate. */
static const Target gina_current[] = { { "gina", "" } };
static const Target boss_current[] = { { "boss", "" } };

static const Method methods[] = {
        { "GetUser", { K_LOGIN }, { S("gina") }, 1 },
        { "AddUser", { K_NEWLOGIN, K_NAME, K_ROLE, K_UID }, { S("newbie"), S("New Bie"), S("general"), U(1010) }, 4 },
        { "RemoveUser", { K_LOGIN }, { S("walt") }, 1 },
        { "SetUserRole", { K_LOGIN, K_ROLE }, { S("walt"), S("general") }, 2 },
        { "ImportCertificate", { K_LOGIN, K_DER }, { S("gina"), GARBAGE }, 2 },
        /* the serial is gina's (--serial): a missed check would revoke it */
        { "RevokeCertificate", { K_LOGIN, K_SERIAL, K_REASON, K_SECRET },
          { S("gina"), S(""), S("keyCompromise"), S(WRONG_PW) }, 4 },
        { "RevokeCertificates", { K_TARGETS, K_REASON, K_SECRET },
          { A(gina_current), S("keyCompromise"), S(WRONG_PW) }, 3 },
        { "ChangeConfirmationPassword", { K_SECRET, K_NEWSECRET }, { S(WRONG_PW), S(NEW_PW) }, 2 },
        { "SetConfirmationPassword", { K_LOGIN, K_NEWSECRET, K_SECRET }, { S("walt"), S(NEW_PW), S(WRONG_PW) }, 3 },
        { "SuspendUser", { K_LOGIN, K_SECRET }, { S("walt"), S(WRONG_PW) }, 2 },
        { "ResumeUser", { K_LOGIN, K_SECRET }, { S("walt"), S(WRONG_PW) }, 2 },
        { "GetHistory", { K_FILTER, K_SINCE, K_LIMIT }, { S(""), T(0), U(10) }, 3 },
        { "Backup", { K_FD }, { FD_GOOD }, 1 },
};

static bool takes_secret(const Method *m) {
        for (unsigned i = 0; i < m->n_args; i++)
                if (m->kinds[i] == K_SECRET)
                        return true;
        return false;
}

static Case case_of(const char *actor, const char *member, const Value *args, unsigned n) {
        Case c = { .actor = actor, .path = MGR_PATH, .interface = MGR_IFACE, .member = member, .n_args = n };

        if (n > 0)
                memcpy(c.args, args, n * sizeof *args);
        return c;
}

static void set_expect(Case *c, const char *const *expect) {
        for (unsigned i = 0; i < MAX_EXPECT; i++)
                c->expect[i] = expect[i];
}

/* Each argument of m in turn takes each bad value of its kind. */
static void sweep_arguments(Sweep *s, const Method *m, const char *actor) {
        for (unsigned a = 0; a < m->n_args; a++) {
                Class classes[MAX_CLASSES];
                size_t n = classes_for(s, m->kinds[a], classes);

                for (size_t i = 0; i < n; i++) {
                        Case c = case_of(actor, m->name, m->base, m->n_args);
                        const char *nouser[MAX_EXPECT] = { E_NOUSER, E_AUTH, E_RATE };

                        for (unsigned j = 0; j < m->n_args; j++)
                                if (m->kinds[j] == K_SERIAL)
                                        c.args[j] = (Value) S(s->serial);
                        c.args[a] = classes[i].value;
                        set_expect(&c, classes[i].expect);
                        /* Whether a user exists may be told only once the
                         * caller confirmed who they are. */
                        if (classes[i].expect[0] == (const char *) E_NOUSER && takes_secret(m))
                                set_expect(&c, nouser);
                        /* ImportCertificate may judge the certificate first. */
                        if (classes[i].expect[0] == (const char *) E_NOUSER && strcmp(m->name, "ImportCertificate") == 0)
                                c.expect[1] = E_INVALID;
                        snprintf(c.label, sizeof c.label, "%s %s, argument %u %s", actor, m->name, a + 1,
                                 classes[i].label);
                        run_case(s, &c);
                }
        }
}

/* A call that is good but for who makes it. */
static void denied(Sweep *s, const char *actor, const char *member, const char *why, unsigned n, ...) {
        Value args[MAX_ARGS] = {};
        Case c;
        va_list ap;

        va_start(ap, n);
        for (unsigned i = 0; i < n; i++)
                args[i] = va_arg(ap, Value);
        va_end(ap);
        c = case_of(actor, member, args, n);
        c.expect[0] = E_DENIED;
        snprintf(c.label, sizeof c.label, "%s %s: %s", actor, member, why);
        run_case(s, &c);
}

static Value vs(const char *s) {
        return (Value) S(s);
}

static Value vu(uint64_t n) {
        return (Value) U(n);
}

static Value vg(void) {
        return (Value) GARBAGE;
}

static void sweep_roles_of(Sweep *s, const char *actor) {
        denied(s, actor, "AddUser", "no account actions", 4, vs("newbie"), vs("New Bie"), vs("general"), vu(1010));
        denied(s, actor, "RemoveUser", "no account actions", 1, vs("kanri"));
        denied(s, actor, "SetUserRole", "no account actions", 2, vs("walt"), vs("admin"));
        denied(s, actor, "ImportCertificate", "no account actions", 2, vs("walt"), vg());
        denied(s, actor, "RevokeCertificate", "no revocation", 4, vs("boss"), vs(""), vs(""), vs(WRONG_PW));
        denied(s, actor, "RevokeCertificates", "no revocation", 3, (Value) A(boss_current), vs(""), vs(WRONG_PW));
        denied(s, actor, "SetConfirmationPassword", "no one else's password", 3, vs("boss"), vs(NEW_PW),
               vs(WRONG_PW));
        denied(s, actor, "SuspendUser", "no account actions", 2, vs("boss"), vs(WRONG_PW));
        denied(s, actor, "ResumeUser", "no account actions", 2, vs("boss"), vs(WRONG_PW));
        denied(s, actor, "Rescan", "no rescan", 0);
        denied(s, actor, "VerifyHistory", "no check of everyone's history", 0);
        denied(s, actor, "Backup", "only root copies the store", 1, (Value) FD_GOOD);
        denied(s, actor, "GetUser", "no one else", 1, vs("boss"));
        denied(s, actor, "GetHistory", "no one else's history", 3, vs("boss"), (Value) T(0), vu(10));
}

static void sweep_roles(Sweep *s) {
        sweep_roles_of(s, "general");
        sweep_roles_of(s, "worker");
        sweep_roles_of(s, "stranger");
        denied(s, "admin", "SuspendUser", "a master is above an admin", 2, vs("boss"), vs(WRONG_PW));
        denied(s, "admin", "ResumeUser", "a master is above an admin", 2, vs("boss"), vs(WRONG_PW));
        denied(s, "admin", "SetUserRole", "a master is above an admin", 2, vs("boss"), vs("admin"));
        denied(s, "admin", "RemoveUser", "a master is above an admin", 1, vs("boss"));
        denied(s, "admin", "SetConfirmationPassword", "a master is above an admin", 3, vs("boss"), vs(NEW_PW),
               vs(WRONG_PW));
        denied(s, "admin", "AddUser", "no master made by an admin", 4, vs("newboss"), vs("New Boss"), vs("master"),
               vu(1010));
        denied(s, "admin", "SetUserRole", "no promotion above oneself", 2, vs("gina"), vs("master"));
        denied(s, "master", "SuspendUser", "the last active master", 2, vs("boss"), vs(WRONG_PW));
        denied(s, "master", "SetUserRole", "the last active master", 2, vs("boss"), vs("admin"));
        denied(s, "master", "RemoveUser", "the last active master", 1, vs("boss"));
        denied(s, "master", "Backup", "only root copies the store", 1, (Value) FD_GOOD);
        denied(s, "admin", "Backup", "only root copies the store", 1, (Value) FD_GOOD);
}

/* Calls of the wrong shape, and what no object or property offers. */
static void sweep_shapes(Sweep *s) {
        static const char *const invalid[MAX_EXPECT] = { E_INVALID };
        /* the bus's policy may refuse a member the service does not have */
        static const char *const unknown[MAX_EXPECT] = { "org.freedesktop.DBus.Error.UnknownMethod",
                                                         "org.freedesktop.DBus.Error.UnknownObject",
                                                         "org.freedesktop.DBus.Error.UnknownInterface", E_DENIED };
        static const char *const no_object[MAX_EXPECT] = { "org.freedesktop.DBus.Error.UnknownObject",
                                                           "org.freedesktop.DBus.Error.UnknownInterface",
                                                           "org.freedesktop.DBus.Error.UnknownProperty", E_NOUSER };
        static const char *const readonly[MAX_EXPECT] = { "org.freedesktop.DBus.Error.PropertyReadOnly" };

        for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
                Value none[MAX_ARGS] = {};
                Value extra[MAX_ARGS] = { S("x"), S("x"), S("x"), S("x") };
                Case c = case_of("root", methods[i].name, none, 0);

                set_expect(&c, invalid);
                snprintf(c.label, sizeof c.label, "root %s with no arguments", methods[i].name);
                run_case(s, &c);
                c = case_of("root", methods[i].name, extra, methods[i].n_args == 4 ? 3 : 4);
                set_expect(&c, invalid);
                snprintf(c.label, sizeof c.label, "root %s with the wrong signature", methods[i].name);
                run_case(s, &c);
        }
        {
                Value v[MAX_ARGS] = { S("x") };
                Case c = case_of("root", "ListUsers", v, 1);

                set_expect(&c, invalid);
                snprintf(c.label, sizeof c.label, "root ListUsers with an argument");
                run_case(s, &c);
                c = case_of("root", "VerifyHistory", v, 1);
                set_expect(&c, invalid);
                snprintf(c.label, sizeof c.label, "root VerifyHistory with an argument");
                run_case(s, &c);
                c = case_of("general", "NoSuchMethod", v, 0);
                set_expect(&c, unknown);
                snprintf(c.label, sizeof c.label, "general NoSuchMethod");
                run_case(s, &c);
                c = case_of("root", "Get", v, 0);
                c.path = "/org/certrevoke1/user/ghost";
                c.interface = "org.freedesktop.DBus.Properties";
                c.args[0] = (Value) S("org.certrevoke1.User");
                c.args[1] = (Value) S("LoginId");
                c.n_args = 2;
                set_expect(&c, no_object);
                snprintf(c.label, sizeof c.label, "root Get on a user that does not exist");
                run_case(s, &c);
        }
        {
                Case c = case_of("root", "Set", NULL, 0);

                c.interface = "org.freedesktop.DBus.Properties";
                c.n_args = 3;
                c.args[0] = (Value) S(MGR_IFACE);
                c.args[1] = (Value) S("CRLNumber");
                c.args[2] = (Value) { .type = 'v', .n = 1 };
                set_expect(&c, readonly);
                snprintf(c.label, sizeof c.label, "root Set CRLNumber");
                run_case(s, &c);
        }
}

/* ------------------------------------------------------------------ setup */

static void usage(void) {
        fprintf(stderr, "usage: bus-sweep --address=ADDR --pid=PID --confirm-file=PATH --serial=HEX "
                        "--uid=ROLE:UID...\n");
        exit(2);
}

static void parse_args(Sweep *s, int argc, char **argv) {
        static const struct option options[] = {
                { "address", required_argument, NULL, 'a' },
                { "pid", required_argument, NULL, 'p' },
                { "confirm-file", required_argument, NULL, 'c' },
                { "serial", required_argument, NULL, 's' },
                { "uid", required_argument, NULL, 'u' },
                {}
        };
        int o;

        while ((o = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                char *colon;

                switch (o) {
                case 'a': s->address = optarg; break;
                case 'p': s->daemon_pid = (pid_t) atoi(optarg); break;
                case 'c': s->confirm_file = optarg; break;
                case 's': s->serial = optarg; break;
                case 'u':
                        colon = strchr(optarg, ':');
                        if (!colon || s->n_actors >= 8 || (size_t) (colon - optarg) >= sizeof s->actors[0].role)
                                usage();
                        memcpy(s->actors[s->n_actors].role, optarg, (size_t) (colon - optarg));
                        s->actors[s->n_actors].uid = (uid_t) strtoul(colon + 1, NULL, 10);
                        s->n_actors++;
                        break;
                default: usage();
                }
        }
        if (!s->address || s->daemon_pid <= 0 || !s->confirm_file || !s->serial || optind != argc)
                usage();
}

static int connect_root(Sweep *s) {
        int r;

        if ((r = sd_bus_new(&s->root)) < 0 || (r = sd_bus_set_address(s->root, s->address)) < 0 ||
            (r = sd_bus_set_bus_client(s->root, 1)) < 0 || (r = sd_bus_start(s->root)) < 0)
                fprintf(stderr, "sweep: cannot connect to %s: %s\n", s->address, strerror(-r));
        return r;
}

static double now_s(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
        Sweep s = {};
        double start;

        parse_args(&s, argc, argv);
        s.big = malloc(BIG + 1);
        s.bytes = calloc(1, BIG);
        if (!s.big || !s.bytes)
                return 2;
        memset(s.big, 'a', BIG);
        s.big[BIG] = '\0';
        s.many = calloc(TARGETS_PAST_MAX, sizeof *s.many);
        if (!s.many)
                return 2;
        for (size_t i = 0; i < TARGETS_PAST_MAX; i++)
                s.many[i] = (Target) { "gina", "" };
        s.big_login[0] = (Target) { s.big, "" };
        s.big_serial[0] = (Target) { "gina", s.big };
        if (connect_root(&s) < 0)
                return 2;
        s.owner = owner_now(&s);
        s.state = state_now(&s);
        s.history = history_now(&s);
        if (!s.owner || !s.state || !s.history)
                return 2;
        start = now_s();
        for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
                sweep_arguments(&s, &methods[i], "root");
                sweep_arguments(&s, &methods[i], "master");
        }
        sweep_roles(&s);
        sweep_shapes(&s);
        printf("sweep: %u cases, %u failed in %.1f s\n", s.cases, s.failed, now_s() - start);
        sd_bus_flush_close_unref(s.root);
        free(s.owner);
        free(s.state);
        free(s.history);
        free(s.big);
        free(s.bytes);
        free(s.many);
        return s.failed ? 1 : 0;
}
