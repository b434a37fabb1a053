/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* auth_check() on a real sd-event loop: first against small scripts that
 * stand in for the helper (the protocol, strict parsing, timeout, cancel),
 * then against build/certrevoke-pam-helper under pam_wrapper with the test
 * PAM services of tests/data/pam (pam_matrix, and pam_faildelay's 2 s). */
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "auth.h"
#include "check.h"
#include "util.h"

#define MSEC 1000ULL

typedef struct Answer {
        int calls;
        AuthResult result;
        uint64_t started, finished;
        int restart;            /* from the callback: auth_check()'s return */
} Answer;

static char tmpdir[] = "/tmp/certrevoke-test-auth-XXXXXX";
static char helper[PATH_MAX];
static Context ctx;
static unsigned ticks;

static uint64_t mono_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static void on_done(Context *c, AuthResult result, void *userdata) {
        Answer *a = userdata;

        (void) c;
        a->calls++;
        a->result = result;
        a->finished = mono_usec();
}

/* During auth_cancel_all(): a new check must be refused. */
static void on_done_restart(Context *c, AuthResult result, void *userdata) {
        Answer *a = userdata;

        on_done(c, result, userdata);
        a->restart = auth_check(c, "alice", "secret", on_done, a);
}

static int start(Answer *a, const char *login, const char *password) {
        *a = (Answer) { .started = mono_usec() };
        return auth_check(&ctx, login, password, on_done, a);
}

/* Runs the loop until every answer came or timeout_usec passed. */
static bool run_until_done(Answer *a, size_t n, uint64_t timeout_usec) {
        uint64_t end = mono_usec() + timeout_usec;

        for (;;) {
                size_t left = 0;

                for (size_t i = 0; i < n; i++)
                        left += a[i].calls == 0;
                if (left == 0)
                        return true;
                if (mono_usec() >= end)
                        return false;
                if (sd_event_run(ctx.event, 50 * MSEC) < 0)
                        return false;
        }
}

static void run_for(uint64_t usec) {
        uint64_t end = mono_usec() + usec;

        while (mono_usec() < end)
                (void) sd_event_run(ctx.event, 20 * MSEC);
}

static bool check_one(const char *login, const char *password, AuthResult want, uint64_t *ret_elapsed) {
        Answer a;
        int r = start(&a, login, password);

        if (r < 0) {
                printf("    auth_check: %s\n", strerror(-r));
                return false;
        }
        if (!run_until_done(&a, 1, 30 * USEC_PER_SEC) || a.calls != 1) {
                printf("    no answer (calls %d)\n", a.calls);
                return false;
        }
        if (ret_elapsed)
                *ret_elapsed = a.finished - a.started;
        if (a.result != want)
                printf("    got %s, want %s\n", auth_result_to_string(a.result), auth_result_to_string(want));
        return a.result == want;
}

static void write_file(const char *path, const char *text, mode_t mode) {
        FILE *f = fopen(path, "we");

        if (!f || fputs(text, f) < 0 || fclose(f) != 0 || chmod(path, mode) < 0) {
                printf("Bail out! cannot write %s\n", path);
                exit(1);
        }
}

static char *read_text(const char *path, char *buf, size_t size) {
        FILE *f = fopen(path, "re");
        size_t n;

        if (!f)
                return NULL;
        n = fread(buf, 1, size - 1, f);
        fclose(f);
        buf[n] = '\0';
        return buf;
}

/* A script standing in for the helper; returns its path. */
static const char *fake(const char *name, const char *body) {
        static char path[PATH_MAX];
        char text[1024];

        snprintf(path, sizeof path, "%s/%s", tmpdir, name);
        snprintf(text, sizeof text, "#!/bin/sh\n%s\n", body);
        write_file(path, text, 0755);
        return path;
}

static void use_fake(const char *name, const char *body, uint64_t timeout_usec) {
        if (auth_set_helper(&ctx, fake(name, body), timeout_usec) < 0) {
                printf("Bail out! auth_set_helper\n");
                exit(1);
        }
}

static bool no_children(void) {
        return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

/* ---- the daemon's side of the protocol, with scripts for the helper */

static void test_protocol(void) {
        char seen[2048], want[700];
        uint64_t elapsed = 0;

        use_fake("ok", "exec printf 'ok\\n'", 0);
        CHECK(check_one("alice", "secret", AUTH_OK, NULL), "\"ok\" and exit 0 is AUTH_OK");

        snprintf(seen, sizeof seen, "cat >'%s/stdin'; echo \"$#:$1:$2\" >'%s/argv'; printf 'ok\\n'", tmpdir, tmpdir);
        use_fake("record", seen, 0);
        CHECK(check_one("alice", "pass word ü", AUTH_OK, NULL), "recording helper answered");
        snprintf(want, sizeof want, "%s/stdin", tmpdir);
        CHECK_STREQ(read_text(want, seen, sizeof seen), "pass word ü\n", "the password reaches stdin with one newline");
        snprintf(want, sizeof want, "%s/argv", tmpdir);
        CHECK_STREQ(read_text(want, seen, sizeof seen), "2:certrevoke:alice\n", "argv is SERVICE LOGIN, no password");

        memset(want, 'x', 600);
        want[600] = '\0';
        CHECK(check_one("alice", want, AUTH_OK, NULL), "recording helper answered a 600-byte password");
        snprintf(want, sizeof want, "%s/stdin", tmpdir);
        CHECK(read_text(want, seen, sizeof seen) && strlen(seen) == AUTH_PASSWORD_MAX + 2 &&
              seen[AUTH_PASSWORD_MAX + 1] == '\n',
              "an overlong password is cut one byte past the limit, for the helper to refuse");

        use_fake("fail", "printf 'auth-failed 300000\\n'", 0);
        CHECK(check_one("alice", "x", AUTH_FAILED, &elapsed) && elapsed >= 300 * MSEC,
              "a failure is answered after the reported delay (%llu ms)", (unsigned long long) elapsed / MSEC);
        use_fake("unknown", "printf 'user-unknown 0\\n'", 0);
        CHECK(check_one("alice", "x", AUTH_FAILED, NULL), "user-unknown is AUTH_FAILED");
        use_fake("refused", "printf 'account-refused 0\\n'", 0);
        CHECK(check_one("alice", "x", AUTH_ACCOUNT_REFUSED, NULL), "account-refused is AUTH_ACCOUNT_REFUSED");
}

static void test_strict(void) {
        static const struct {
                const char *body, *what;
        } bad[] = {
                { "printf 'ok'", "no newline" },
                { "printf 'ok \\n'", "trailing space" },
                { "printf 'OK\\n'", "upper case" },
                { "printf 'ok\\nok\\n'", "two lines" },
                { "printf 'auth-failed\\n'", "no delay" },
                { "printf 'auth-failed -1\\n'", "negative delay" },
                { "printf 'auth-failed 01\\n'", "leading zero" },
                { "printf 'auth-failed 1 2\\n'", "two numbers" },
                { "printf 'auth-failed 0x10\\n'", "hex" },
                { "printf 'auth-failed 99999999999\\n'", "delay past UINT_MAX" },
                { "printf 'ok\\0\\n'", "NUL byte" },
                { "printf 'maybe 0\\n'", "unknown word" },
                { "exit 0", "no answer" },
                { "printf 'error\\n'; exit 1", "error" },
                { "printf 'ok\\n'; exit 1", "ok with exit status 1" },
                { "printf 'ok\\n'; kill -KILL $$", "ok, then killed" },
                { "i=0; while [ $i -lt 20 ]; do printf 'ok ok ok ok ok ok\\n'; i=$((i+1)); done", "a flood" },
        };
        Answer a[ELEMENTSOF(bad)];
        bool all = true;

        /* all at once: each check keeps the helper it was started with */
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char name[32];

                snprintf(name, sizeof name, "bad%zu", i);
                use_fake(name, bad[i].body, 0);
                if (start(&a[i], "alice", "x") < 0)
                        a[i].calls = -1;
        }
        CHECK(run_until_done(a, ELEMENTSOF(a), 10 * USEC_PER_SEC), "every malformed answer was answered");
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (a[i].calls != 1 || a[i].result != AUTH_ERROR) {
                        printf("    %s: calls %d, %s\n", bad[i].what, a[i].calls, auth_result_to_string(a[i].result));
                        all = false;
                }
        }
        CHECK(all, "%zu malformed answers or exits are AUTH_ERROR, each answered once", ELEMENTSOF(bad));
}

static void test_timeout_and_cancel(void) {
        Answer a[3], d;
        uint64_t t;
        int r;

        use_fake("hang", "exec sleep 30", 300 * MSEC);
        t = mono_usec();
        CHECK(check_one("alice", "x", AUTH_ERROR, NULL) && mono_usec() - t < 5 * USEC_PER_SEC,
              "a helper past the time limit is killed: AUTH_ERROR");

        use_fake("hang", "exec sleep 30", 0);
        for (size_t i = 0; i < ELEMENTSOF(a); i++)
                CHECK(start(&a[i], "alice", "x") == 0, "hanging check %zu started", i);
        use_fake("slow-fail", "printf 'auth-failed 5000000\\n'", 0);
        d = (Answer) {};
        CHECK(auth_check(&ctx, "alice", "x", on_done_restart, &d) == 0, "failing check started");
        run_for(500 * MSEC);
        CHECK(auth_pending(&ctx, NULL) == 4 && a[0].calls == 0 && d.calls == 0, "four checks under way");
        t = mono_usec();
        auth_cancel_all(&ctx);
        CHECK(mono_usec() - t < 2 * USEC_PER_SEC, "cancelling is quick");
        CHECK(a[0].calls == 1 && a[1].calls == 1 && a[2].calls == 1 && a[0].result == AUTH_ERROR &&
              a[1].result == AUTH_ERROR && a[2].result == AUTH_ERROR,
              "cancelled running checks answer AUTH_ERROR once");
        CHECK(d.calls == 1 && d.result == AUTH_FAILED, "a failure waiting out its delay is still reported as a failure");
        CHECK(d.restart == -ESHUTDOWN, "no new check during auth_cancel_all");
        CHECK(auth_pending(&ctx, NULL) == 0, "nothing pending after cancel");
        CHECK(no_children(), "cancelled helpers were killed and reaped");
        run_for(100 * MSEC);
        CHECK(a[0].calls == 1 && d.calls == 1, "no second answer after cancel");

        CHECK(auth_set_helper(&ctx, "/nonexistent/certrevoke-pam-helper", 0) == 0, "helper path set");
        r = start(&a[0], "alice", "x");
        CHECK(r == -ENOENT && auth_pending(&ctx, NULL) == 0, "a missing helper fails at once (%s)", strerror(-r));
        CHECK(start(&a[0], "../alice", "x") == -EINVAL, "a bad login is refused");
        CHECK(start(&a[0], "", "x") == -EINVAL, "an empty login is refused");
        ctx.config.pam_service = (char *) "../shadow";
        CHECK(start(&a[0], "alice", "x") == -EINVAL, "a bad service name is refused");
        ctx.config.pam_service = (char *) "certrevoke";
        CHECK(a[0].calls == 0 && no_children(), "refused checks start nothing and never answer");
}

/* ---- the real helper under pam_wrapper */

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) usec, (void) userdata;
        ticks++;
        (void) sd_event_source_set_time_relative(s, 100 * MSEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static void test_pam(void) {
        uint64_t elapsed = 0;
        char big[601];

        CHECK(auth_set_helper(&ctx, helper, 0) == 0, "using %s", helper);
        CHECK(check_one("alice", "secret", AUTH_OK, NULL), "right password: AUTH_OK");
        CHECK(check_one("alice", "wrong", AUTH_FAILED, NULL), "wrong password: AUTH_FAILED");
        CHECK(check_one("alice", "Secret", AUTH_FAILED, NULL), "case matters");
        CHECK(check_one("alice", "", AUTH_FAILED, NULL), "empty password: AUTH_FAILED");
        CHECK(check_one("mallory", "secret", AUTH_FAILED, NULL), "unknown user: AUTH_FAILED");
        CHECK(check_one("carol", "secret", AUTH_ACCOUNT_REFUSED, NULL), "account not allowed the service: AUTH_ACCOUNT_REFUSED");
        CHECK(check_one("carol", "wrong", AUTH_FAILED, NULL), "the account is asked only after the password");
        CHECK(check_one("alice", "secret\nsecret", AUTH_FAILED, NULL), "a line break inside is not cut off");
        CHECK(check_one("alice", "secret\n", AUTH_FAILED, NULL), "a trailing line break is part of the password");
        CHECK(check_one("erin", "パス ワード 二 three", AUTH_OK, NULL), "password with spaces and UTF-8: AUTH_OK");
        CHECK(check_one("erin", "パス ワード 二  three", AUTH_FAILED, NULL), "one space more: AUTH_FAILED");

        memset(big, 'x', 600);
        big[AUTH_PASSWORD_MAX] = '\0';
        CHECK(check_one("frank", big, AUTH_OK, NULL), "a password of %d bytes: AUTH_OK", AUTH_PASSWORD_MAX);
        big[AUTH_PASSWORD_MAX] = 'x';
        big[AUTH_PASSWORD_MAX + 1] = '\0';
        CHECK(check_one("frank", big, AUTH_FAILED, NULL), "one byte more: AUTH_FAILED");
        big[600] = '\0';
        {
                Answer a;

                CHECK(start(&a, "frank", big) == 0 && run_until_done(&a, 1, 30 * USEC_PER_SEC) &&
                      (a.result == AUTH_FAILED || a.result == AUTH_ERROR),
                      "a 600-byte password is refused (%s)", auth_result_to_string(a.result));
        }

        ctx.config.pam_service = (char *) "certrevoke-unconfigured";
        CHECK(check_one("alice", "secret", AUTH_FAILED, NULL), "a service without a file falls to \"other\": refused");

        /* pam_faildelay asks for 2 s; libpam makes that 1 to 3 s (its
         * comment says a quarter either way, its arithmetic a half) */
        ctx.config.pam_service = (char *) "certrevoke-delay";
        {
                _cleanup_(sd_event_source_unrefp) sd_event_source *ticker = NULL;
                unsigned before;

                CHECK(sd_event_add_time_relative(ctx.event, &ticker, CLOCK_MONOTONIC, 100 * MSEC, 1 * MSEC,
                                                 on_tick, NULL) >= 0, "a 100 ms ticker on the same loop");
                before = ticks;
                CHECK(check_one("dave", "wrong", AUTH_FAILED, &elapsed), "delayed service, wrong password: AUTH_FAILED");
                CHECK(elapsed >= 950 * MSEC && elapsed < 10 * USEC_PER_SEC,
                      "the failure came after the fail delay (%llu ms)", (unsigned long long) elapsed / MSEC);
                CHECK(ticks - before >= 8 && ticks - before + 5 >= elapsed / (100 * MSEC),
                      "the loop kept running meanwhile (%u ticks in %llu ms)", ticks - before,
                      (unsigned long long) elapsed / MSEC);
                CHECK(check_one("dave", "secret", AUTH_OK, &elapsed) && elapsed < 900 * MSEC,
                      "delayed service, right password: AUTH_OK without delay (%llu ms)",
                      (unsigned long long) elapsed / MSEC);
        }
        ctx.config.pam_service = (char *) "certrevoke";
}

/* 20 checks at once, answered in a shuffled order by a script that
 * checks "secret-LOGIN": each answer must reach its own caller. */
static void test_concurrent_routing(void) {
        Answer a[20];
        bool all = true;
        int started = 0;

        use_fake("router", "IFS= read -r pw; sleep 0.$(( $$ % 7 ))\n"
                 "if [ \"$pw\" = \"secret-$2\" ]; then echo ok; else echo 'auth-failed 0'; fi", 0);
        for (size_t i = 0; i < ELEMENTSOF(a); i++) {
                char login[16], password[32];

                snprintf(login, sizeof login, "user%zu", i);
                snprintf(password, sizeof password, "secret-user%zu", i % 3 ? i : i + 1);
                started += start(&a[i], login, password) == 0;
        }
        CHECK(started == (int) ELEMENTSOF(a) && auth_pending(&ctx, NULL) == ELEMENTSOF(a), "20 scripted checks at once");
        CHECK(auth_pending(&ctx, "user7") == 1 && auth_pending(&ctx, "alice") == 0, "pending checks counted per login");
        CHECK(run_until_done(a, ELEMENTSOF(a), 30 * USEC_PER_SEC), "all 20 answered");
        for (size_t i = 0; i < ELEMENTSOF(a); i++)
                if (a[i].calls != 1 || a[i].result != (i % 3 ? AUTH_OK : AUTH_FAILED)) {
                        printf("    check %zu: calls %d, %s\n", i, a[i].calls, auth_result_to_string(a[i].result));
                        all = false;
                }
        CHECK(all, "answers arriving in any order reach their own callers, once each");
}

/* 20 checks at once through PAM.  pam_wrapper itself is not safe for
 * processes that start at the same moment: each picks a directory
 * /tmp/pam.X by lstat() then mkdir(), two can pick the same one, and the
 * first to exit removes it under the other (pam_start: "Critical error").
 * So the helpers run one after another behind a lock, while the daemon
 * side still has all 20 under way. */
static void test_concurrent_pam(void) {
        char body[PATH_MAX * 2 + 64];
        Answer a[20];
        bool all = true;
        int started = 0;

        /* every process started with PAM_WRAPPER=1 in its environment makes
         * such a directory, the shell and flock too: only the helper gets it */
        unsetenv("LD_PRELOAD");
        unsetenv("PAM_WRAPPER");
        snprintf(body, sizeof body,
                 "exec flock '%s/pam_wrapper.lock' env LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1 '%s' \"$@\"",
                 tmpdir, helper);
        use_fake("serialized-helper", body, 0);
        for (size_t i = 0; i < ELEMENTSOF(a); i++) {
                const char *login = i % 2 ? "bob" : "alice";
                const char *password = i % 4 == 0 ? "secret" : i % 4 == 1 ? "hunter2" : "wrong";

                started += start(&a[i], login, password) == 0;
        }
        CHECK(started == (int) ELEMENTSOF(a) && auth_pending(&ctx, NULL) == ELEMENTSOF(a), "20 PAM checks at once");
        CHECK(run_until_done(a, ELEMENTSOF(a), 60 * USEC_PER_SEC), "all 20 answered");
        for (size_t i = 0; i < ELEMENTSOF(a); i++) {
                AuthResult want = i % 4 <= 1 ? AUTH_OK : AUTH_FAILED;

                if (a[i].calls != 1 || a[i].result != want) {
                        printf("    check %zu: calls %d, %s, want %s\n", i, a[i].calls,
                               auth_result_to_string(a[i].result), auth_result_to_string(want));
                        all = false;
                }
        }
        CHECK(all, "each of the 20 got its own right answer from PAM, once");
}

/* ---- setup */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st, (void) ftw;
        return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* The first module path in a service file naming pam_matrix.so. */
static bool pam_matrix_installed(const char *service_file, char *module, size_t size) {
        char text[4096], *p, *end;

        if (!read_text(service_file, text, sizeof text) || !(p = strstr(text, "pam_matrix.so")))
                return false;
        end = p + strlen("pam_matrix.so");
        while (p > text && p[-1] != ' ' && p[-1] != '\t')
                p--;
        snprintf(module, size, "%.*s", (int) (end - p), p);
        return access(module, R_OK) == 0;
}

static void setup_pam_wrapper(const char *services) {
        char passdb[PATH_MAX + 16], text[2048], big[AUTH_PASSWORD_MAX + 1];
        const char *asan = getenv("ASAN_OPTIONS");

        memset(big, 'x', AUTH_PASSWORD_MAX);
        big[AUTH_PASSWORD_MAX] = '\0';
        snprintf(passdb, sizeof passdb, "%s/passdb", tmpdir);
        snprintf(text, sizeof text,
                 "alice:secret:certrevoke\n"
                 "bob:hunter2:certrevoke\n"
                 "carol:secret:elsewhere\n"
                 "dave:secret:certrevoke-delay\n"
                 "erin:パス ワード 二 three:certrevoke\n"
                 "frank:%s:certrevoke\n", big);
        write_file(passdb, text, 0600);
        /* only the helpers see these: this process is already running */
        setenv("LD_PRELOAD", "libpam_wrapper.so", 1);
        setenv("PAM_WRAPPER", "1", 1);
        setenv("PAM_WRAPPER_SERVICE_DIR", services, 1);
        setenv("PAM_MATRIX_PASSWD", passdb, 1);
#ifdef __SANITIZE_ADDRESS__
        /* A sanitized helper refuses a library preloaded before ASan, and
         * the RTLD_DEEPBIND pam_wrapper loads libpam with; 1.1.4 reads its
         * switch for that under the uid_wrapper name, later ones under
         * their own. */
        if (!asan || !strstr(asan, "verify_asan_link_order")) {
                snprintf(text, sizeof text, "%s%sverify_asan_link_order=0", asan ? asan : "", asan && *asan ? ":" : "");
                setenv("ASAN_OPTIONS", text, 1);
        }
        setenv("UID_WRAPPER_DISABLE_DEEPBIND", "1", 1);
        setenv("PAM_WRAPPER_DISABLE_DEEPBIND", "1", 1);
#else
        (void) asan;
#endif
}

/* tests/data/pam from the source tree: the current directory (tests/run.sh
 * runs there) or two levels above this program (BUILD/tests/). */
static bool find_services(const char *exe_dir, char *out, size_t size) {
        char candidate[PATH_MAX + 32];

        if (realpath("tests/data/pam", out))
                return true;
        snprintf(candidate, sizeof candidate, "%s/../../tests/data/pam", exe_dir);
        return size >= PATH_MAX && realpath(candidate, out);
}

int main(void) {
        char exe[PATH_MAX], services[PATH_MAX], service_file[PATH_MAX + 16], module[PATH_MAX];
        const char *dir;
        sigset_t mask;
        ssize_t n;

        setvbuf(stdout, NULL, _IOLBF, 0);
        /* as certrevoked does before any thread starts */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0) {
                printf("Bail out! /proc/self/exe\n");
                return 1;
        }
        exe[n] = '\0';
        dir = dirname(exe);
        snprintf(helper, sizeof helper, "%s/../certrevoke-pam-helper", dir);
        if (!find_services(dir, services, sizeof services)) {
                printf("Bail out! no tests/data/pam: run from the source tree\n");
                return 1;
        }
        snprintf(service_file, sizeof service_file, "%s/certrevoke", services);
        if (!pam_matrix_installed(service_file, module, sizeof module)) {
                printf("SKIP: pam_wrapper is not installed (no pam_matrix.so as named in %s)\n", service_file);
                return 77;
        }
        if (access(helper, X_OK) < 0) {
                printf("Bail out! %s not built\n", helper);
                return 1;
        }
        if (!mkdtemp(tmpdir) || sd_event_new(&ctx.event) < 0) {
                printf("Bail out! setup\n");
                return 1;
        }
        ctx.config.pam_service = (char *) "certrevoke";

        test_protocol();
        test_strict();
        test_timeout_and_cancel();
        test_concurrent_routing();
        setup_pam_wrapper(services);
        test_pam();
        test_concurrent_pam();

        CHECK(auth_pending(&ctx, NULL) == 0, "nothing pending at the end");
        auth_cancel_all(&ctx);
        (void) auth_set_helper(&ctx, NULL, 0);
        ctx.event = sd_event_unref(ctx.event);
        CHECK(no_children(), "no helper left, not even a zombie");
        (void) nftw(tmpdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
        return CHECK_EXIT();
}
