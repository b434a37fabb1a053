/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevoked: the certificate revocation service on the system bus. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "bus-manager.h"
#include "bus-user.h"
#include "cert.h"
#include "certrevoke.h"
#include "context.h"
#include "auth.h"
#include "log.h"
#include "publish.h"
#include "rescan.h"
#include "util.h"

static const char *arg_config = CR_DEFAULT_CONFIG;
static int arg_config_required = 0;

static void context_done(Context *c) {
        rescan_abandon(c);
        publish_free(c);
        auth_cancel_all(c);
        user_view_done(&c->view);
        bus_user_forget_caller(c);
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
               "     --debug          Log debug messages\n",
               CR_BUS_NAME, CR_DEFAULT_CONFIG);
        return 0;
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_CONFIG, ARG_DEBUG };
        static const struct option options[] = {
                { "help",    no_argument,       NULL, 'h' },
                { "version", no_argument,       NULL, ARG_VERSION },
                { "config",  required_argument, NULL, ARG_CONFIG },
                { "debug",   no_argument,       NULL, ARG_DEBUG },
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

static int setup(Context *c) {
        _cleanup_free_ char *error = NULL;
        int r;

        r = config_load(&c->config, arg_config, arg_config_required, &error);
        if (r < 0)
                return log_error_errno(r, "%s", error ? error : strerror(-r));
        r = store_open(c->config.state_directory, &c->store, &error);
        if (r < 0)
                return log_error_errno(r, "store: %s", error ? error : strerror(-r));
        if ((r = load_ca(c)) < 0)
                return r;
        if ((r = sd_event_default(&c->event)) < 0)
                return r;
        /* before the name is owned: a caller must find revocation ready */
        return publish_setup(c);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        (void) userdata, (void) si;
        log_info("stopping");
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int connect_bus(Context *c) {
        int r;

        if ((r = sd_event_add_signal(c->event, NULL, SIGTERM, on_signal, c)) < 0 ||
            (r = sd_event_add_signal(c->event, NULL, SIGINT, on_signal, c)) < 0)
                return r;
        if ((r = sd_bus_open_system(&c->bus)) < 0)
                return log_error_errno(r, "bus: cannot connect to the system bus: %m");
        /* objects first: a caller that sees the name must find them */
        if ((r = bus_manager_register(c)) < 0 || (r = bus_user_register(c)) < 0)
                return log_error_errno(r, "bus: cannot register objects: %m");
        if ((r = sd_bus_attach_event(c->bus, c->event, SD_EVENT_PRIORITY_NORMAL)) < 0)
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
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        /* sd-event reaps the PAM helpers; no thread may take SIGCHLD first */
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);

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
