/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevokectl: the command-line frontend of certrevoked.  This file reads
 * the command line and runs one verb on one bus connection; the verbs and
 * their parts live in ctl-*.c (see ctl.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "certrevoke.h"
#include "ctl.h"

#ifndef LOCALEDIR
#define LOCALEDIR "/usr/share/locale"
#endif
#ifndef CR_VERSION
#define CR_VERSION "unknown"
#endif

/* ---- command line ---------------------------------------------------- */

static void help_exit_codes(void) {
        fputs(_("\nExit status:\n"), stdout);
        for (size_t i = 0; i < ctl_exit_codes_count; i++) {
                const CtlExitCode *e = &ctl_exit_codes[i];

                if (e->description)
                        printf("  %d  %s\n", e->code, _(e->description));
                if (e->error_name)
                        printf("       %s\n", e->error_name);
        }
}

static void help(void) {
        printf(_("%s [OPTIONS...] COMMAND ...\n"
                 "\n"
                 "Manage the users of certrevoked and the state of their certificates.\n"
                 "\n"
                 "Commands:\n"
                 "  list [PATTERN]               List users (the default command); PATTERN,\n"
                 "                               a glob or else a substring, selects by\n"
                 "                               login ID or name\n"
                 "  show LOGIN                   Show a user and their certificate\n"
                 "  revoke LOGIN                 Revoke the certificate of a user: shows it,\n"
                 "                               asks for your confirmation password and\n"
                 "                               shows the result\n"
                 "  suspend LOGIN                Suspend a user: they can do nothing, and\n"
                 "                               their certificate is put on hold\n"
                 "  resume LOGIN                 Lift the suspension of a user\n"
                 "  passwd                       Change your own confirmation password\n"
                 "  set-password LOGIN           Set the confirmation password of a user\n"
                 "  history [LOGIN]              Show the operation history, everyone's or\n"
                 "                               that of LOGIN\n"
                 "  add-user LOGIN NAME ROLE UID Add a user\n"
                 "  remove-user LOGIN            Remove a user\n"
                 "  set-role LOGIN ROLE          Change the role of a user\n"
                 "  import-cert LOGIN FILE       Import a certificate (PEM or DER; - for\n"
                 "                               standard input) for a user\n"
                 "  rescan                       Search the tokens for certificates again\n"
                 "  backup PATH                  Copy the store into the new file PATH\n"
                 "                               (root only)\n"
                 "\n"
                 "Options:\n"
                 "  -h --help                    Show this help\n"
                 "     --version                 Show the version\n"
                 "     --address=ADDRESS         Connect to the bus at ADDRESS, not the system bus\n"
                 "     --json                    Print machine-readable JSON\n"
                 "     --state=STATE             list: only users whose certificate is in STATE\n"
                 "                               (issued, renewed, expired, not-issued, revoked)\n"
                 "     --role=ROLE               list: only users with ROLE\n"
                 "                               (master, admin, general, worker)\n"
                 "     --reason=REASON           revoke: the reason (unspecified, keyCompromise,\n"
                 "                               CACompromise, affiliationChanged, superseded,\n"
                 "                               cessationOfOperation, privilegeWithdrawn,\n"
                 "                               AACompromise); default unspecified\n"
                 "     --serial=SERIAL           revoke: only if the current certificate has\n"
                 "                               this serial (default: the one shown)\n"
                 "     --password-stdin          revoke, suspend, resume: read the confirmation\n"
                 "                               password from the first line of standard\n"
                 "                               input instead of asking on the terminal;\n"
                 "                               passwd: the current, the new and the new\n"
                 "                               again, one a line; set-password: the new,\n"
                 "                               the new again and your own (not as root)\n"
                 "     --since=DATE              history: entries from DATE on, local time\n"
                 "                               (YYYY-MM-DD or \"YYYY-MM-DD HH:MM:SS\")\n"
                 "     --limit=N                 history: at most the N newest entries\n"
                 "                               (0: the service's default)\n"),
               CTL_PROGRAM_NAME);
        fputs(_("     --verify                  history: check that no entry was changed or\n"
                "                               removed since it was written; exit status 1\n"
                "                               names the first that was (master and\n"
                "                               administrator users)\n"), stdout);
        fputs(_("     --dry-run                 revoke: show what would be revoked and change\n"
                "                               nothing\n"), stdout);
        fputs(_("\nRevoking several certificates at once:\n"
                "  revoke LOGIN LOGIN...        Revoke the certificates of several users with\n"
                "                               one confirmation: all of them, or none if one\n"
                "                               cannot be revoked\n"
                "  revoke [--role=ROLE] [--state=STATE] [PATTERN]\n"
                "                               Revoke the certificates of the users that list\n"
                "                               shows with the same filters, those that can\n"
                "                               be revoked (a PATTERN alone must be a glob)\n"), stdout);
        help_exit_codes();
}

typedef struct Verb {
        const char *name;
        size_t min_args, max_args;
        /* the arguments alone, before the bus; NULL: nothing to check */
        int (*check)(Ctl *c, char **args, size_t n_args);
        int (*run)(Ctl *c, char **args, size_t n_args);
} Verb;

static const Verb verbs[] = {
        { "list",         0, 1, ctl_list_check,     ctl_list_run         },
        { "show",         1, 1, ctl_show_check,     ctl_show_run         },
        { "revoke",       0, CR_REVOKE_TARGETS_MAX, ctl_revoke_check, ctl_revoke_run },
        { "suspend",      1, 1, ctl_login_check,    ctl_suspend_run      },
        { "resume",       1, 1, ctl_login_check,    ctl_resume_run       },
        { "passwd",       0, 0, NULL,               ctl_passwd_run       },
        { "set-password", 1, 1, ctl_login_check,    ctl_set_password_run },
        { "history",      0, 1, ctl_history_check,  ctl_history_run      },
        { "add-user",     4, 4, ctl_add_user_check, ctl_add_user_run     },
        { "remove-user",  1, 1, ctl_login_check,    ctl_remove_user_run  },
        { "set-role",     2, 2, ctl_set_role_check, ctl_set_role_run     },
        { "import-cert",  2, 2, ctl_login_check,    ctl_import_cert_run  },
        { "rescan",       0, 0, NULL,               ctl_rescan_run       },
        { "backup",       1, 1, NULL,               ctl_backup_run       },
};

enum {
        ARG_VERSION = 0x100,
        ARG_ADDRESS,
        ARG_JSON,
        ARG_STATE,
        ARG_ROLE,
        ARG_REASON,
        ARG_SERIAL,
        ARG_PASSWORD_STDIN,
        ARG_SINCE,
        ARG_LIMIT,
        ARG_VERIFY,
        ARG_DRY_RUN,
};

static const struct option options[] = {
        { "help",    no_argument,       NULL, 'h'         },
        { "version", no_argument,       NULL, ARG_VERSION },
        { "address", required_argument, NULL, ARG_ADDRESS },
        { "json",    no_argument,       NULL, ARG_JSON    },
        { "state",   required_argument, NULL, ARG_STATE   },
        { "role",    required_argument, NULL, ARG_ROLE    },
        { "reason",  required_argument, NULL, ARG_REASON  },
        { "serial",  required_argument, NULL, ARG_SERIAL  },
        { "password-stdin", no_argument, NULL, ARG_PASSWORD_STDIN },
        { "since",   required_argument, NULL, ARG_SINCE   },
        { "limit",   required_argument, NULL, ARG_LIMIT   },
        { "verify",  no_argument,       NULL, ARG_VERIFY  },
        { "dry-run", no_argument,       NULL, ARG_DRY_RUN },
        {}
};

static int fail_option(Ctl *c, char *argv[]) {
        /* optopt names an unknown short option; for long ones the word
         * itself is the best description. */
        if (optopt > 0 && optopt < 0x100)
                return ctl_fail_usage(c, _("Unknown option -%c. See --help."), optopt);
        return ctl_fail_usage(c, _("Unknown option %s. See --help."), argv[optind - 1]);
}

/* Returns 1 to go on with the command, 0 to exit successfully (--help,
 * --version), or a negative errno.  Positional arguments are collected in
 * order into pos, so options may come before or after the command whatever
 * POSIXLY_CORRECT says. */
static int parse_argv(Ctl *c, int argc, char *argv[], char **pos, size_t *n_pos) {
        int opt;

        opterr = 0;
        *n_pos = 0;
        while ((opt = getopt_long(argc, argv, "-:h", options, NULL)) >= 0)
                switch (opt) {
                case 1:           pos[(*n_pos)++] = optarg; break;
                case 'h':         help(); return 0;
                case ARG_VERSION: puts(CTL_PROGRAM_NAME " " CR_VERSION); return 0;
                case ARG_ADDRESS: c->address = optarg; break;
                case ARG_JSON:    c->json = true; break;
                case ARG_STATE:   c->state = optarg; break;
                case ARG_ROLE:    c->role = optarg; break;
                case ARG_REASON:  c->reason = optarg; break;
                case ARG_SERIAL:  c->serial = optarg; break;
                case ARG_PASSWORD_STDIN: c->password_stdin = true; break;
                case ARG_SINCE:   c->since = optarg; break;
                case ARG_LIMIT:   c->limit = optarg; break;
                case ARG_VERIFY:  c->verify = true; break;
                case ARG_DRY_RUN: c->dry_run = true; break;
                case ':':
                        return ctl_fail_usage(c, _("Option %s needs an argument."), argv[optind - 1]);
                default:
                        return fail_option(c, argv);
                }
        while (optind < argc)
                pos[(*n_pos)++] = argv[optind++];
        return 1;
}

static const Verb *find_verb(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verbs[i].name, name) == 0)
                        return &verbs[i];
        return NULL;
}

static bool verb_is(const Verb *v, const char *name) {
        return strcmp(v->name, name) == 0;
}

static bool takes_password_stdin(const Verb *v) {
        return verb_is(v, "revoke") || verb_is(v, "suspend") || verb_is(v, "resume") || verb_is(v, "passwd") ||
               verb_is(v, "set-password");
}

/* Options given to a verb they do not apply to. */
static int check_options(Ctl *c, const Verb *v) {
        if ((c->state || c->role) && !verb_is(v, "list") && !verb_is(v, "revoke"))
                return ctl_fail_usage(c, _("--state= and --role= only apply to list and revoke."));
        if (c->dry_run && !verb_is(v, "revoke"))
                return ctl_fail_usage(c, _("--dry-run only applies to revoke."));
        if ((c->reason || c->serial) && !verb_is(v, "revoke"))
                return ctl_fail_usage(c, _("--reason= and --serial= only apply to revoke."));
        if (c->password_stdin && !takes_password_stdin(v))
                return ctl_fail_usage(c, _("--password-stdin only applies to revoke, suspend, resume, passwd and "
                                           "set-password."));
        if ((c->since || c->limit) && !verb_is(v, "history"))
                return ctl_fail_usage(c, _("--since= and --limit= only apply to history."));
        if (c->verify && !verb_is(v, "history"))
                return ctl_fail_usage(c, _("--verify only applies to history."));
        return 0;
}

/* The command line is checked whole before the bus is touched; then one
 * connection serves the verb. */
static int dispatch(Ctl *c, char **pos, size_t n_pos) {
        const Verb *v = find_verb(n_pos > 0 ? pos[0] : "list");
        size_t n_args = n_pos > 0 ? n_pos - 1 : 0;
        int r;

        if (!v)
                return ctl_fail_usage(c, _("Unknown command %s. See --help."), pos[0]);
        if (n_args < v->min_args)
                return ctl_fail_usage(c, _("Too few arguments for %s. See --help."), v->name);
        if (n_args > v->max_args)
                return ctl_fail_usage(c, _("Too many arguments for %s. See --help."), v->name);
        r = check_options(c, v);
        if (r < 0)
                return r;
        if (v->check) {
                r = v->check(c, pos + 1, n_args);
                if (r < 0)
                        return r;
        }
        r = ctl_bus_connect(c);
        if (r < 0)
                return r;
        return v->run(c, pos + 1, n_args);
}

static void ctl_done(Ctl *c) {
        c->bus = sd_bus_flush_close_unref(c->bus);
}

static int run(int argc, char *argv[], Ctl *c) {
        _cleanup_free_ char **pos = calloc((size_t) argc + 1, sizeof(char *));
        size_t n_pos = 0;
        int r;

        if (!pos)
                return ctl_fail_oom(c);
        r = parse_argv(c, argc, argv, pos, &n_pos);
        if (r <= 0)
                return r;
        return dispatch(c, pos, n_pos);
}

int main(int argc, char *argv[]) {
        _cleanup_(ctl_done) Ctl c = { .exit_status = CTL_EXIT_FAILURE };
        int r;

        ctl_locale_init(LOCALEDIR);
        tzset();
        r = run(argc, argv, &c);
        /* Output that never arrived is a failure a script must notice. */
        if (fflush(stdout) != 0 || ferror(stdout)) {
                ctl_fail(&c, CTL_EXIT_FAILURE, -EIO, _("Failed to write output: %s"), strerror(errno ? errno : EIO));
                return CTL_EXIT_FAILURE;
        }
        return r < 0 ? c.exit_status : CTL_EXIT_SUCCESS;
}
