/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "certrevoke.h"
#include "log.h"
#include "program-args.h"

static int help(const char *summary) {
        printf("%s [OPTIONS...]\n\n%s\n"
               "  -h --help           Show this help\n"
               "     --version        Show the version\n"
               "     --config=PATH    Configuration file (default %s)\n"
               "     --debug          Log debug messages\n",
               program_invocation_short_name, summary, CR_DEFAULT_CONFIG);
        return 0;
}

int program_args_parse(int argc, char *argv[], const char *summary, const char **config) {
        enum { ARG_VERSION = 0x100, ARG_CONFIG, ARG_DEBUG };
        static const struct option options[] = {
                { "help",    no_argument,       NULL, 'h' },
                { "version", no_argument,       NULL, ARG_VERSION },
                { "config",  required_argument, NULL, ARG_CONFIG },
                { "debug",   no_argument,       NULL, ARG_DEBUG },
                {}
        };
        int o;

        while ((o = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (o) {
                case 'h':
                        return help(summary);
                case ARG_VERSION:
                        printf("%s %s\n", program_invocation_short_name, CR_VERSION);
                        return 0;
                case ARG_CONFIG:
                        *config = optarg;
                        break;
                case ARG_DEBUG:
                        log_set_max_level(LOG_DEBUG);
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                fprintf(stderr, "%s: takes no arguments\n", program_invocation_short_name);
                return -EINVAL;
        }
        return 1;
}
