/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include <pwquality.h>

#include "cleanup.h"
#include "password-quality.h"

/* Where cracklib looks when pwquality.conf names no dictionary. */
#define CRACKLIB_DEFAULT_DICT "/var/cache/cracklib/cracklib_dict"

#define STRINGIFY(x) STRINGIFY_(x)
#define STRINGIFY_(x) #x

static int refuse(char *reason, size_t reason_size, const char *text) {
        if (reason_size > 0)
                snprintf(reason, reason_size, "%s", text);
        return -EINVAL;
}

static size_t utf8_chars(const char *s) {
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                n += (*p & 0xc0) != 0x80;
        return n;
}

static void warn(const ConfirmShadowLog *log, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void warn(const ConfirmShadowLog *log, const char *format, ...) {
        va_list ap;

        if (!log || !log->func)
                return;
        va_start(ap, format);
        log->func(log->userdata, LOG_WARNING, format, ap);
        va_end(ap);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(pwquality_settings_t *, pwquality_free_settings)

/* Without its dictionary cracklib refuses every password ("error loading
 * dictionary"); a missing optional package must not stop every change, so
 * only that check is dropped, loudly. */
static void skip_missing_dictionary(pwquality_settings_t *s, const ConfirmShadowLog *log) {
        const char *dict = NULL;
        char pwd[4096];
        int on = 0;

        if (pwquality_get_int_value(s, PWQ_SETTING_DICT_CHECK, &on) < 0 || !on)
                return;
        if (pwquality_get_str_value(s, PWQ_SETTING_DICT_PATH, &dict) < 0 || !dict || !*dict)
                dict = CRACKLIB_DEFAULT_DICT;
        snprintf(pwd, sizeof pwd, "%s.pwd", dict);
        if (access(pwd, R_OK) == 0)
                return;
        warn(log, "cracklib dictionary %s missing: password dictionary check skipped", pwd);
        pwquality_set_int_value(s, PWQ_SETTING_DICT_CHECK, 0);
}

static int pwquality(const char *login, const char *new_password, const char *old_password,
                     char *reason, size_t reason_size, const ConfirmShadowLog *log) {
        _cleanup_(pwquality_free_settingsp) pwquality_settings_t *s = pwquality_default_settings();
        char buf[PWQ_MAX_ERROR_MESSAGE_LEN];
        void *aux = NULL;
        int r;

        if (!s)
                return -ENOMEM;
        /* A missing or broken pwquality.conf leaves the built-in defaults. */
        (void) pwquality_read_config(s, NULL, &aux);
        skip_missing_dictionary(s, log);
        aux = NULL;
        r = pwquality_check(s, new_password, old_password, login, &aux);
        if (r == PWQ_ERROR_MEM_ALLOC)
                return -ENOMEM;
        if (r < 0)
                return refuse(reason, reason_size, pwquality_strerror(buf, sizeof buf, r, aux));
        return 0;
}

bool password_has_control(const char *password) {
        for (const unsigned char *p = (const unsigned char *) password; *p; p++)
                if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
                        return true;
        return false;
}

static bool too_long(const char *password) {
        return strnlen(password, CONFIRM_SHADOW_PASSWORD_MAX + 1) > CONFIRM_SHADOW_PASSWORD_MAX;
}

int password_quality_check(const char *login, const char *new_password, const char *old_password,
                           char *reason, size_t reason_size, const ConfirmShadowLog *log) {
        if (!new_password || !login)
                return refuse(reason, reason_size, "No password given.");
        if (too_long(new_password))
                return refuse(reason, reason_size, "The password is too long.");
        /* libpwquality compares the two recursively: an unbounded old
         * password overflows its stack as an unbounded new one would */
        if (old_password && too_long(old_password))
                return refuse(reason, reason_size, "The current password is too long.");
        if (password_has_control(new_password))
                return refuse(reason, reason_size, PASSWORD_QUALITY_CONTROL_REASON);
        if (utf8_chars(new_password) < PASSWORD_QUALITY_MIN_CHARS)
                return refuse(reason, reason_size, "The password is shorter than " STRINGIFY(PASSWORD_QUALITY_MIN_CHARS) " characters.");
        if (strcasecmp(new_password, login) == 0)
                return refuse(reason, reason_size, "The password is the login ID.");
        if (old_password && strcmp(new_password, old_password) == 0)
                return refuse(reason, reason_size, "The password is the same as the old one.");
        return pwquality(login, new_password, old_password, reason, reason_size, log);
}
