/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevoked: the certificate revocation service on the system bus. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "atomic-file.h"
#include "bus-manager.h"
#include "bus-user.h"
#include "cert.h"
#include "certrevoke.h"
#include "durable.h"
#include "context.h"
#include "auth.h"
#include "history.h"
#include "log.h"
#include "publish.h"
#include "recover.h"
#include "rescan.h"
#include "confirm.h"
#include "util.h"
#include "worker.h"

/* The store and confirm.shadow are root's alone; systemd-tmpfiles makes it
 * 0711 instead, so that the trust module can reach public/ below it. */
#define STATE_DIR_MODE 0700

static const char *arg_config = CR_DEFAULT_CONFIG;
static int arg_config_required = 0;
static bool arg_recover_from_crl = false;

static void context_done(Context *c) {
        /* calls waiting for a turn first, then the checks under way, which
         * are answered; then the pool runs what it holds to its end (its
         * dones may hand work to the publisher), and the publisher, whose
         * jobs ran there, goes last */
        confirm_drop_queue(c);
        auth_done(c);
        worker_pool_free(c);
        publish_free(c);
        durable_free(c);
        history_free(c);
        user_view_done(&c->view);
        bus_user_forget_caller(c);
        caller_forget_senders(c);
        c->idle_timer = sd_event_source_disable_unref(c->idle_timer);
        c->bus = sd_bus_flush_close_unref(c->bus);
        c->event = sd_event_unref(c->event);
        store_free(c->store);
        X509_free(c->ca);
        config_done(&c->config);
}

static int help(void) {
        printf("certrevoked [OPTIONS...]\n\n"
               "The certificate revocation service (D-Bus name %s).\n\n"
               "  -h --help           Show this help\n"
               "     --version        Show the version\n"
               "     --config=PATH    Configuration file (default %s)\n"
               "     --debug          Log debug messages\n"
               "     --recover-from-crl\n"
               "                      Take the published CRL's entries and number into a\n"
               "                      new store (the old one missing, empty or damaged),\n"
               "                      then exit\n",
               CR_BUS_NAME, CR_DEFAULT_CONFIG);
        return 0;
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_CONFIG, ARG_DEBUG, ARG_RECOVER_FROM_CRL };
        static const struct option options[] = {
                { "help",    no_argument,       NULL, 'h' },
                { "version", no_argument,       NULL, ARG_VERSION },
                { "config",  required_argument, NULL, ARG_CONFIG },
                { "debug",   no_argument,       NULL, ARG_DEBUG },
                { "recover-from-crl", no_argument, NULL, ARG_RECOVER_FROM_CRL },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        return help();
                case ARG_VERSION:
                        puts("certrevoked " CR_VERSION);
                        return 0;
                case ARG_CONFIG:
                        arg_config = optarg;
                        arg_config_required = 1;
                        break;
                case ARG_DEBUG:
                        log_set_max_level(LOG_DEBUG);
                        break;
                case ARG_RECOVER_FROM_CRL:
                        arg_recover_from_crl = true;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                fprintf(stderr, "certrevoked: takes no arguments\n");
                return -EINVAL;
        }
        return 1;
}

static int load_ca(Context *c) {
        int r;

        if (!c->config.ca_certificate) {
                log_warning("config: no [CA] Certificate=: no certificate can be filed");
                return 0;
        }
        r = cert_load_pem(c->config.ca_certificate, &c->ca);
        if (r < 0)
                return log_error_errno(r, "config: [CA] Certificate=%s cannot be read as a PEM certificate: %s",
                                       c->config.ca_certificate, r == -EBADMSG ? "not PEM" : strerror(-r));
        return 0;
}

/* Made here rather than by the store, so that a directory someone else
 * put in its place meanwhile is refused, not used. */
static int make_state_directory(Context *c) {
        _cleanup_free_ char *why = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        r = directory_open_trusted(c->config.state_directory, STATE_DIR_MODE, &fd, &why);
        if (r < 0)
                return log_error_errno(r, "config: StateDirectory=%s: %s", c->config.state_directory,
                                       why ? why : strerror(-r));
        return 0;
}

/* The configuration, its directories and the CA: what a start and a
 * recovery both need. */
static int setup_config(Context *c) {
        _cleanup_free_ char *error = NULL;
        int r;

        r = config_load(&c->config, arg_config, arg_config_required, &error);
        if (r < 0)
                return log_error_errno(r, "%s", error ? error : strerror(-r));
        /* before anything is written, and before the bus name */
        r = config_check_directories(&c->config, &error);
        if (r < 0)
                return log_error_errno(r, "config: %s", error ? error : strerror(-r));
        if ((r = make_state_directory(c)) < 0)
                return r;
        return load_ca(c);
}

static int setup(Context *c) {
        _cleanup_free_ char *error = NULL;
        int r;

        if ((r = setup_config(c)) < 0)
                return r;
        /* a lost store beside a published CRL would publish backwards */
        if ((r = recover_check_start(c)) < 0)
                return r;
        r = store_open(c->config.state_directory, &c->store, &error);
        if (r < 0)
                return log_error_errno(r, "store: %s", error ? error : strerror(-r));
        /* the loop never waits for the disk: answers do (durable.h) */
        r = store_defer_sync(c->store);
        if (r < 0)
                return log_error_errno(r, "store: cannot defer its syncs: %m");
        if ((r = recover_check_floor(c)) < 0)
                return r;
        if ((r = sd_event_default(&c->event)) < 0)
                return r;
        /* the threads inherit the signal mask main() set */
        if ((r = worker_pool_new(c, WORKER_THREADS)) < 0)
                return log_error_errno(r, "worker: cannot start the pool: %m");
        if ((r = history_setup(c)) < 0)
                return r;
        /* before the name is owned: a caller must find revocation ready */
        return publish_setup(c, &bus_publish_events);
}

static bool busy(Context *c) {
        return c->rescan || publish_busy(c) || auth_pending(c, NULL) > 0 || worker_jobs_all(c) > 0 ||
               caller_waiting(c) > 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Context *c = userdata;

        (void) si;
        /* exiting on idle already: the calls queued before the name went
         * are being answered, and the loop ends when they are */
        if (c->exiting)
                return 0;
        log_info("stopping");
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

/* Settings that live in open files, the store and the signer, keep their
 * old values until the next start; the rest applies at once. */
static void keep_for_restart(Config *old, Config *n) {
        char **keep[][2] = {
                { &old->state_directory, &n->state_directory },
                { &old->ca_certificate, &n->ca_certificate },
                { &old->ca_key, &n->ca_key },
                { &old->ca_pin_file, &n->ca_pin_file },
        };

        for (size_t i = 0; i < ELEMENTSOF(keep); i++) {
                char *o = *keep[i][0], *w = *keep[i][1];

                if (!streq_ptr(o, w))
                        log_warning("config: %s changed to %s; it takes effect at the next start",
                                    o ? o : "(unset)", w ? w : "(unset)");
                free(w);
                *keep[i][1] = o;
                *keep[i][0] = NULL;
        }
}

static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        _cleanup_free_ char *error = NULL;
        Context *c = userdata;
        Config n;
        int r;

        (void) s, (void) si;
        (void) sd_notify(0, "RELOADING=1\nSTATUS=Reloading the configuration");
        r = config_load(&n, arg_config, arg_config_required, &error);
        if (r >= 0)
                r = config_check_directories(&n, &error);
        if (r < 0) {
                log_error("config: %s; keeping the configuration in use", error ? error : strerror(-r));
                config_done(&n);
        } else {
                keep_for_restart(&c->config, &n);
                config_done(&c->config);
                c->config = n;
                log_info("config: reloaded %s", arg_config);
        }
        (void) sd_notify(0, "READY=1\nSTATUS=Serving");
        return 0;
}

static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Context *c = userdata;

        (void) error;
        if (sd_bus_message_is_method_call(m, NULL, NULL) > 0)
                (void) sd_event_now(c->event, CLOCK_MONOTONIC, &c->last_call_usec);
        return 0;
}

/* Ends the loop once nothing started by the last calls is left. */
static int exit_when_done(Context *c) {
        uint64_t now;

        if (!busy(c)) {
                log_info("idle: exiting; the bus starts certrevoked again on the next call");
                return sd_event_exit(c->event, 0);
        }
        if (sd_event_now(c->event, CLOCK_MONOTONIC, &now) < 0 ||
            sd_event_source_set_time(c->idle_timer, now + USEC_PER_SEC / 10) < 0)
                return sd_event_exit(c->event, 0);
        return sd_event_source_set_enabled(c->idle_timer, SD_EVENT_ONESHOT);
}

static int on_name_released(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Context *c = userdata;

        (void) m, (void) error;
        /* what was queued for us before the release has been read by now;
         * what it started must still finish and be answered */
        c->name_released = true;
        return exit_when_done(c);
}

/* Idle: no call for IdleTimeout= and no work under way.  The name goes
 * first, so that calls already queued are still answered and new ones
 * start a fresh daemon through bus activation. */
static int on_idle_check(sd_event_source *s, uint64_t usec, void *userdata) {
        Context *c = userdata;
        uint64_t idle = c->config.idle_timeout_usec;
        bool working = busy(c);

        if (c->name_released)
                return exit_when_done(c);
        if (c->exiting || idle == UINT64_MAX)
                return 0;
        if (working || usec < c->last_call_usec + idle) {
                uint64_t next = working ? usec + USEC_PER_SEC : c->last_call_usec + idle;

                (void) sd_event_source_set_time(s, next);
                return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        }
        c->exiting = true;
        (void) sd_notify(0, "STOPPING=1\nSTATUS=Exiting on idle");
        if (sd_bus_release_name_async(c->bus, NULL, CR_BUS_NAME, on_name_released, c) < 0)
                return sd_event_exit(c->event, 0);
        return 0;
}

static int setup_idle(Context *c) {
        int r;

        if ((r = sd_event_now(c->event, CLOCK_MONOTONIC, &c->last_call_usec)) < 0 ||
            (r = sd_bus_add_filter(c->bus, NULL, on_message, c)) < 0)
                return r;
        if (c->config.idle_timeout_usec == UINT64_MAX)
                return 0;
        return sd_event_add_time(c->event, &c->idle_timer, CLOCK_MONOTONIC,
                                 c->last_call_usec + c->config.idle_timeout_usec, USEC_PER_SEC,
                                 on_idle_check, c);
}

static int connect_bus(Context *c) {
        int r;

        if ((r = sd_event_add_signal(c->event, NULL, SIGTERM, on_signal, c)) < 0 ||
            (r = sd_event_add_signal(c->event, NULL, SIGINT, on_signal, c)) < 0 ||
            (r = sd_event_add_signal(c->event, NULL, SIGHUP, on_reload, c)) < 0)
                return r;
        /* WATCHDOG=1 pings at half of WatchdogSec= while the loop turns */
        if ((r = sd_event_set_watchdog(c->event, true)) < 0)
                return r;
        if ((r = sd_bus_open_system(&c->bus)) < 0)
                return log_error_errno(r, "bus: cannot connect to the system bus: %m");
        /* objects first: a caller that sees the name must find them */
        if ((r = bus_manager_register(c)) < 0 || (r = bus_user_register(c)) < 0)
                return log_error_errno(r, "bus: cannot register objects: %m");
        if ((r = sd_bus_attach_event(c->bus, c->event, PRIORITY_CALLS)) < 0 ||
            (r = setup_idle(c)) < 0)
                return r;
        r = sd_bus_request_name(c->bus, CR_BUS_NAME, 0);
        if (r == -EEXIST)
                return log_error_errno(r, "bus: %s is owned by another process already", CR_BUS_NAME);
        if (r < 0)
                return log_error_errno(r, "bus: cannot own %s: %m", CR_BUS_NAME);
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(context_done) Context c = {};
        sigset_t mask;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        /* the store and its lock are nobody else's, however we were started */
        umask(0077);
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        /* sd-event reaps the PAM helpers; no thread may take SIGCHLD first */
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        if (arg_recover_from_crl) {
                if ((r = setup_config(&c)) < 0 || (r = recover_from_crl(&c)) < 0)
                        return 1;
                return 0;
        }

        if ((r = setup(&c)) < 0 || (r = connect_bus(&c)) < 0)
                return 1;
        log_info("serving %s, store in %s", CR_BUS_NAME, c.config.state_directory);
        (void) sd_notify(0, "READY=1\nSTATUS=Serving");
        if ((r = rescan_start(&c, NULL)) < 0)
                log_warning_errno(r, "rescan: cannot start the token walk: %m");
        r = sd_event_loop(c.event);
        (void) sd_notify(0, "STOPPING=1");
        if (r < 0) {
                log_error_errno(r, "event loop failed: %m");
                return 1;
        }
        return 0;
}
