/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "atomic-file.h"
#include "certrevoke.h"
#include "config.h"
#include "util.h"

typedef struct ParseState {
        Config *config;
        char *error;            /* first problem, without the line */
} ParseState;

static int parse_duration(const char *s, int allow_zero, uint64_t *ret_usec);

typedef int (*KeyParser)(Config *c, const char *value, void *field, const char **why);

typedef struct ConfigKey {
        const char *section;
        const char *name;
        KeyParser parse;
        size_t offset;
} ConfigKey;

static int parse_string(Config *c, const char *value, void *field, const char **why) {
        char **s = field;

        (void) c;
        (void) why;
        free(*s);
        *s = isempty(value) ? NULL : strdup(value);
        return !isempty(value) && !*s ? -ENOMEM : 0;
}

static int parse_path(Config *c, const char *value, void *field, const char **why) {
        if (!isempty(value) && value[0] != '/') {
                *why = "must be an absolute path";
                return -EINVAL;
        }
        return parse_string(c, value, field, why);
}

static int parse_pam_service(Config *c, const char *value, void *field, const char **why) {
        if (isempty(value) || strchr(value, '/') || value[0] == '.') {
                *why = "must be a PAM service name";
                return -EINVAL;
        }
        return parse_string(c, value, field, why);
}

/* The CA key is a PEM file or a token object named by an RFC 7512 URI. */
static int parse_key(Config *c, const char *value, void *field, const char **why) {
        if (!isempty(value) && value[0] != '/' && strncasecmp(value, "pkcs11:", 7) != 0) {
                *why = "must be an absolute path or a pkcs11: URI";
                return -EINVAL;
        }
        return parse_string(c, value, field, why);
}

static int parse_validity(Config *c, const char *value, void *field, const char **why) {
        (void) c;
        if (config_parse_duration(value, field) < 0) {
                *why = "must be a duration such as 7d, 12h or 3600s";
                return -EINVAL;
        }
        return 0;
}

/* "0" turns exiting on idle off. */
static int parse_idle(Config *c, const char *value, void *field, const char **why) {
        uint64_t *u = field;

        (void) c;
        if (parse_duration(value, 1, u) < 0) {
                *why = "must be a duration such as 5min, or 0 for never";
                return -EINVAL;
        }
        if (*u == 0)
                *u = UINT64_MAX;
        return 0;
}

static int parse_max_age(Config *c, const char *value, void *field, const char **why) {
        (void) c;
        if (config_parse_duration(value, field) < 0) {
                *why = "must be a duration such as 365d, 26w or 90d";
                return -EINVAL;
        }
        return 0;
}

static int parse_max_entries(Config *c, const char *value, void *field, const char **why) {
        uint64_t *u = field;
        unsigned long long v;
        char *end;

        (void) c;
        *why = "must be a whole number from 1 to 1000000000";
        if (!value || value[0] < '0' || value[0] > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(value, &end, 10);
        if (errno != 0 || *end || v < 1 || v > CONFIG_HISTORY_MAX_ENTRIES_MAX)
                return -EINVAL;
        *u = v;
        return 0;
}

static int parse_listen(Config *c, const char *value, void *field, const char **why) {
        if (config_parse_listen(value, NULL, NULL) < 0) {
                *why = "must be a numeric address and a port, such as 127.0.0.1:8080 or [::]:80";
                return -EINVAL;
        }
        return parse_string(c, value, field, why);
}

static int parse_modules(Config *c, const char *value, void *field, const char **why) {
        _cleanup_free_ char *copy = strdup(value ? value : "");
        char ***l = field, **n, *save = NULL;
        size_t k = 0;

        (void) c;
        if (!copy)
                return -ENOMEM;
        n = calloc(strlen(copy) / 2 + 2, sizeof(char *));
        if (!n)
                return -ENOMEM;
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                if (w[0] != '/') {
                        *why = "must list absolute module paths";
                        strv_free(n);
                        return -EINVAL;
                }
                if (!(n[k++] = strdup(w))) {
                        strv_free(n);
                        return -ENOMEM;
                }
        }
        strv_free(*l);
        *l = n;
        return 0;
}

/* [Sync] URL=: an http or https URL of the directory the CRL is published
 * in, printable ASCII, without credentials (they would end up in logs). */
static int parse_sync_url(Config *c, const char *value, void *field, const char **why) {
        const char *rest;

        *why = "must be an http:// or https:// URL of at most 2048 printable characters, without user:password@";
        if (isempty(value) || strlen(value) > CONFIG_SYNC_URL_MAX)
                return -EINVAL;
        if (strncasecmp(value, "http://", 7) == 0)
                rest = value + 7;
        else if (strncasecmp(value, "https://", 8) == 0)
                rest = value + 8;
        else
                return -EINVAL;
        if (*rest == '\0' || *rest == '/')
                return -EINVAL;
        for (const char *p = value; *p; p++)
                if (*p <= ' ' || *p >= 0x7f)
                        return -EINVAL;
        if (memchr(rest, '@', strcspn(rest, "/")))
                return -EINVAL;
        return parse_string(c, value, field, why);
}

static int parse_sync_timeout(Config *c, const char *value, void *field, const char **why) {
        uint64_t *u = field;

        (void) c;
        if (config_parse_duration(value, u) < 0 || *u > 3600 * USEC_PER_SEC) {
                *why = "must be a duration from 1s to 1h such as 30s or 2min";
                return -EINVAL;
        }
        return 0;
}

#define KEY(sec, key, fn, member) { sec, key, fn, offsetof(Config, member) }
static const ConfigKey config_keys[] = {
        KEY("Service", "StateDirectory",   parse_path,        state_directory),
        KEY("Service", "PAMService",       parse_pam_service, pam_service),
        KEY("Service", "ConfirmationFile", parse_path,        confirmation_file),
        KEY("Service", "IdleTimeout",      parse_idle,        idle_timeout_usec),
        KEY("CA",      "Certificate",      parse_path,        ca_certificate),
        KEY("CA",      "Key",              parse_key,         ca_key),
        KEY("CA",      "PINFile",          parse_path,        ca_pin_file),
        KEY("CRL",     "PublishDirectory", parse_path,        publish_directory),
        KEY("CRL",     "Validity",         parse_validity,    crl_validity_usec),
        KEY("Tokens",  "Modules",          parse_modules,     token_modules),
        KEY("Tokens",  "PINFile",          parse_path,        tokens_pin_file),
        KEY("History", "MaxAge",           parse_max_age,     history_max_age_usec),
        KEY("History", "MaxEntries",       parse_max_entries, history_max_entries),
        KEY("OCSP",    "Certificate",      parse_path,        ocsp_certificate),
        KEY("OCSP",    "Key",              parse_key,         ocsp_key),
        KEY("OCSP",    "PINFile",          parse_path,        ocsp_pin_file),
        KEY("OCSP",    "Listen",           parse_listen,      ocsp_listen),
        KEY("OCSP",    "Validity",         parse_validity,    ocsp_validity_usec),
        KEY("OCSP",    "MaxAge",           parse_validity,    ocsp_max_age_usec),
        KEY("OCSP",    "CacheDirectory",   parse_path,        ocsp_cache_directory),
        KEY("Sync",    "URL",              parse_sync_url,    sync_url),
        KEY("Sync",    "Directory",        parse_path,        sync_directory),
        KEY("Sync",    "CACertificate",    parse_path,        sync_ca_certificate),
        KEY("Sync",    "CABundle",         parse_path,        sync_ca_bundle),
        KEY("Sync",    "Timeout",          parse_sync_timeout, sync_timeout_usec),
};

static int handler(void *user, const char *section, const char *name, const char *value) {
        ParseState *st = user;
        const char *why = "is not a known key";
        int r = -EINVAL;

        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++) {
                const ConfigKey *k = &config_keys[i];

                if (strcmp(k->section, section) != 0 || strcmp(k->name, name) != 0)
                        continue;
                r = k->parse(st->config, value, (char *) st->config + k->offset, &why);
                break;
        }
        if (r >= 0)
                return 1;
        if (!st->error && asprintf(&st->error, "[%s] %s= %s", section, name,
                                   r == -ENOMEM ? "could not be stored: out of memory" : why) < 0)
                st->error = NULL;
        return 0;
}

static int set_default(char **field, const char *value) {
        if (*field)
                return 0;
        *field = strdup(value);
        return *field ? 0 : -ENOMEM;
}

static int config_defaults(Config *c) {
        if (set_default(&c->state_directory, CR_DEFAULT_STATE_DIR) < 0 ||
            set_default(&c->pam_service, CR_DEFAULT_PAM_SERVICE) < 0)
                return -ENOMEM;
        if (!c->confirmation_file &&
            asprintf(&c->confirmation_file, "%s/confirm.shadow", c->state_directory) < 0) {
                c->confirmation_file = NULL;
                return -ENOMEM;
        }
        if (!c->publish_directory &&
            asprintf(&c->publish_directory, "%s/public", c->state_directory) < 0) {
                c->publish_directory = NULL;
                return -ENOMEM;
        }
        if (c->idle_timeout_usec == 0)
                c->idle_timeout_usec = 5 * 60 * USEC_PER_SEC;
        if (c->crl_validity_usec == 0)
                c->crl_validity_usec = 7 * 24 * 3600 * USEC_PER_SEC;
        if (c->history_max_age_usec == 0)
                c->history_max_age_usec = CONFIG_HISTORY_MAX_AGE_DEFAULT_USEC;
        if (c->history_max_entries == 0)
                c->history_max_entries = CONFIG_HISTORY_MAX_ENTRIES_DEFAULT;
        if (!c->token_modules && !(c->token_modules = calloc(1, sizeof(char *))))
                return -ENOMEM;
        if (set_default(&c->ocsp_listen, CONFIG_OCSP_LISTEN_DEFAULT) < 0)
                return -ENOMEM;
        if (c->ocsp_validity_usec == 0)
                c->ocsp_validity_usec = CONFIG_OCSP_VALIDITY_DEFAULT_USEC;
        if (c->ocsp_max_age_usec == 0)
                c->ocsp_max_age_usec = CONFIG_OCSP_MAX_AGE_DEFAULT_USEC;
        return 0;
}

int config_load(Config *c, const char *path, int required, char **error) {
        ParseState st = { .config = c };
        int r;

        *error = NULL;
        memset(c, 0, sizeof *c);
        if (!(c->path = strdup(path)))
                return -ENOMEM;
        r = ini_parse(path, handler, &st);
        if (r == -1 && !required && errno == ENOENT)
                r = 0;
        else if (r == -1) {
                r = -errno;
                if (asprintf(error, "%s: cannot read: %s", path, strerror(errno)) < 0)
                        *error = NULL;
                return r < 0 ? r : -EIO;
        } else if (r == -2)
                return -ENOMEM;
        if (r > 0) {
                /* inih reports the line of the first problem, our handler its reason */
                if (asprintf(error, "%s:%d: %s", path, r, st.error ? st.error : "syntax error") < 0)
                        *error = NULL;
                free(st.error);
                return -EINVAL;
        }
        return config_defaults(c);
}

/* One directory the daemon writes into; a missing one is made where it is
 * checked again. */
static int check_directory(const char *key, const char *path, char **error) {
        _cleanup_free_ char *why = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        r = directory_open_trusted(path, 0, &fd, &why);
        if (r == -ENOENT && !why)
                return 0;
        if (r < 0 && asprintf(error, "%s=%s: %s", key, path, why ? why : strerror(-r)) < 0)
                *error = NULL;
        return r;
}

int config_check_directories(const Config *c, char **error) {
        int r;

        *error = NULL;
        r = check_directory("StateDirectory", c->state_directory, error);
        if (r < 0)
                return r;
        return check_directory("PublishDirectory", c->publish_directory, error);
}

void config_done(Config *c) {
        free(c->path);
        free(c->state_directory);
        free(c->pam_service);
        free(c->confirmation_file);
        free(c->ca_certificate);
        free(c->ca_key);
        free(c->ca_pin_file);
        free(c->publish_directory);
        strv_free(c->token_modules);
        free(c->tokens_pin_file);
        free(c->ocsp_certificate);
        free(c->ocsp_key);
        free(c->ocsp_pin_file);
        free(c->ocsp_listen);
        free(c->ocsp_cache_directory);
        free(c->sync_url);
        free(c->sync_directory);
        free(c->sync_ca_certificate);
        free(c->sync_ca_bundle);
        memset(c, 0, sizeof *c);
}

static int unit_seconds(const char *u, size_t len, uint64_t *ret) {
        static const struct { const char *name; uint64_t sec; } units[] = {
                { "s", 1 }, { "sec", 1 }, { "m", 60 }, { "min", 60 }, { "h", 3600 },
                { "d", 86400 }, { "w", 7 * 86400 },
        };

        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (strlen(units[i].name) == len && strncmp(units[i].name, u, len) == 0) {
                        *ret = units[i].sec;
                        return 0;
                }
        return -EINVAL;
}

/* Sums "<number>[unit]" words; 0 only where allow_zero. */
static int parse_duration(const char *s, int allow_zero, uint64_t *ret_usec) {
        uint64_t total = 0;
        const char *p = s;
        int any = 0;

        if (!s)
                return -EINVAL;
        for (;;) {
                unsigned long long v;
                uint64_t mult = 1;
                size_t ulen;
                char *end;

                p += strspn(p, " \t");
                if (!*p)
                        break;
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                errno = 0;
                v = strtoull(p, &end, 10);
                if (errno != 0 || end == p)
                        return -EINVAL;
                p = end;
                ulen = strcspn(p, " \t");
                if (ulen > 0 && unit_seconds(p, ulen, &mult) < 0)
                        return -EINVAL;
                p += ulen;
                /* ten years of seconds is plenty and keeps the sum far from overflow */
                if (v > 10ULL * 366 * 86400 / mult)
                        return -ERANGE;
                total += v * mult;
                any = 1;
        }
        if (!any || (total == 0 && !allow_zero) || total > 10ULL * 366 * 86400)
                return -EINVAL;
        *ret_usec = total * USEC_PER_SEC;
        return 0;
}

int config_parse_duration(const char *s, uint64_t *ret_usec) {
        return parse_duration(s, 0, ret_usec);
}

/* The port after the last ':', 1-65535, digits only. */
static int parse_port(const char *s, uint16_t *ret) {
        unsigned long v;
        char *end;

        if (!s || s[0] < '0' || s[0] > '9' || strlen(s) > 5)
                return -EINVAL;
        v = strtoul(s, &end, 10);
        if (*end || v < 1 || v > 65535)
                return -EINVAL;
        *ret = (uint16_t) v;
        return 0;
}

int config_parse_listen(const char *s, struct sockaddr_storage *ret, unsigned *ret_len) {
        struct sockaddr_storage ss = {};
        char host[INET6_ADDRSTRLEN + 2];
        const char *colon;
        uint16_t port;
        size_t n;

        if (isempty(s) || !(colon = strrchr(s, ':')) || parse_port(colon + 1, &port) < 0)
                return -EINVAL;
        n = (size_t) (colon - s);
        if (n == 0 || n >= sizeof host)
                return -EINVAL;
        memcpy(host, s, n);
        host[n] = 0;
        if (host[0] == '[') {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *) &ss;

                /* "[v6]": the brackets keep the address's colons from the port's */
                if (n < 3 || host[n - 1] != ']')
                        return -EINVAL;
                host[n - 1] = 0;
                if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
                        return -EINVAL;
                a->sin6_family = AF_INET6;
                a->sin6_port = htons(port);
                n = sizeof *a;
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *) &ss;

                if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
                        return -EINVAL;
                a->sin_family = AF_INET;
                a->sin_port = htons(port);
                n = sizeof *a;
        }
        if (ret)
                *ret = ss;
        if (ret_len)
                *ret_len = (unsigned) n;
        return 0;
}
