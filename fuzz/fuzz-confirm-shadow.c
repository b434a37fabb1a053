/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the confirmation-password file parser.  Besides not
 * crashing, what was accepted must be found again by login, and written
 * back line by line it must parse to the same entries with nothing
 * skipped: the writer of confirm_shadow_update() relies on that. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirm-shadow.h"

static void log_discard(void *userdata, int priority, const char *format, va_list ap) {
        char buf[512];

        (void) userdata, (void) priority;
        vsnprintf(buf, sizeof buf, format, ap);
}

static const ConfirmShadowLog quiet = { .func = log_discard };

static char *write_back(const ConfirmShadow *s, size_t *ret_len) {
        size_t len = 0, n = 0;
        char *out;

        for (size_t i = 0; i < s->n_entries; i++)
                len += strlen(s->entries[i].login) + strlen(s->entries[i].hash) + strlen(s->entries[i].flags) + 3;
        out = malloc(len + 1);
        if (!out)
                abort();
        for (size_t i = 0; i < s->n_entries; i++)
                n += (size_t) sprintf(out + n, "%s:%s:%s\n", s->entries[i].login, s->entries[i].hash, s->entries[i].flags);
        *ret_len = n;
        return out;
}

static void check_same(const ConfirmShadow *a, const ConfirmShadow *b) {
        if (b->n_skipped != 0 || a->n_entries != b->n_entries)
                abort();
        for (size_t i = 0; i < a->n_entries; i++)
                if (strcmp(a->entries[i].login, b->entries[i].login) != 0 ||
                    strcmp(a->entries[i].hash, b->entries[i].hash) != 0 ||
                    strcmp(a->entries[i].flags, b->entries[i].flags) != 0)
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ConfirmShadow s = {}, again = {};
        size_t len;
        char *text;

        if (confirm_shadow_parse((const char *) data, size, "<fuzz>", &quiet, &s) < 0)
                return 0;
        for (size_t i = 0; i < s.n_entries; i++) {
                const ConfirmShadowEntry *e = &s.entries[i];

                if (confirm_shadow_find(&s, e->login) != e || !confirm_shadow_login_valid(e->login))
                        abort();
                (void) confirm_shadow_entry_has_flag(e, "suspended");
        }
        text = write_back(&s, &len);
        if (confirm_shadow_parse(text, len, "<fuzz>", &quiet, &again) < 0)
                abort();
        check_same(&s, &again);
        free(text);
        confirm_shadow_done(&again);
        confirm_shadow_done(&s);
        return 0;
}
