/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The command line of certrevoke-ocspd and certrevoke-sync: -h/--help,
 * --version, --config=PATH, --debug, and no arguments.  summary is the
 * help's description, one or more lines ending in "\n".  Sets *config
 * when --config is given.  Returns 1 to go on, 0 when the program should
 * exit successfully (help, version), -EINVAL on a bad command line (told
 * on stderr). */
int program_args_parse(int argc, char *argv[], const char *summary, const char **config);
