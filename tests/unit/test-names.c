/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <systemd/sd-bus.h>

#include "bus-user.h"
#include "certrevoke.h"
#include "check.h"
#include "util.h"

static void test_login_ids(void) {
        const char *ok[] = { "a", "sachiboh", "A.b_c-9", "0lead", "x234567890123456789012345678901234567890123456789012345678901234",
                             "...", ".hidden", "a-", "a..b", "_", "x-y" };
        const char *bad[] = { "", "with space", "ゲータ", "semi;colon", "slash/", "x2345678901234567890123456789012345678901234567890123456789012345",
                              ".", "..", "-", "-rf", "--", "-.", "a\n", "tab\tx" };
        const struct {
                const char *login, *why;
        } reasons[] = {
                { ".", "login ID cannot be \".\" or \"..\"" },
                { "..", "login ID cannot be \".\" or \"..\"" },
                { "-rf", "login ID cannot start with '-'" },
                { "-", "login ID cannot start with '-'" },
                { "a b", "login ID may only contain A-Z, a-z, 0-9, '.', '_' and '-'" },
        };

        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
                CHECK(!cr_login_id_invalid(ok[i]), "login ID \"%s\" accepted", ok[i]);
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                CHECK(cr_login_id_invalid(bad[i]) != NULL, "login ID \"%s\" refused: %s", bad[i], cr_login_id_invalid(bad[i]));
        for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
                CHECK(streq_ptr(cr_login_id_invalid(reasons[i].login), reasons[i].why), "login ID \"%s\": %s",
                      reasons[i].login, cr_login_id_invalid(reasons[i].login));
        CHECK(cr_login_id_invalid(NULL) != NULL, "no login ID refused");
}

static void test_names(void) {
        char long_ok[3 * 128 + 1] = "", long_bad[3 * 129 + 1] = "", wide_ok[4 * 128 + 1] = "", wide_bad[4 * 129 + 1] = "";
        const char *bad[] = { "", "\xff", "a\x01", "\xc0\xaf", "\xed\xa0\x80", "\xe3\x82", "tab\there",
                              "del\x7f", "nel\xc2\x85", "csi\xc2\x9b" };
        /* each with the reason it is refused for */
        const struct {
                const char *name, *why;
        } invisible[] = {
                { "Ev\u202eil", "name contains a bidirectional control character" },       /* RLO */
                { "a\u202ab", "name contains a bidirectional control character" },         /* LRE */
                { "a\u202cb", "name contains a bidirectional control character" },         /* PDF */
                { "a\u200eb", "name contains a bidirectional control character" },         /* LRM */
                { "a\u200fb", "name contains a bidirectional control character" },         /* RLM */
                { "a\u061cb", "name contains a bidirectional control character" },         /* ALM */
                { "a\u2066b", "name contains a bidirectional control character" },         /* LRI */
                { "a\u2069b", "name contains a bidirectional control character" },         /* PDI */
                { "a\u200bb", "name contains an invisible format character" },             /* ZWSP */
                { "a\u200db", "name contains an invisible format character" },             /* ZWJ */
                { "a\u2060b", "name contains an invisible format character" },             /* WJ */
                { "a\u2064b", "name contains an invisible format character" },             /* INVISIBLE PLUS */
                { "\ufeffa", "name contains an invisible format character" },              /* BOM */
                { "Car\nol", "name contains control characters" },
        };
        /* the neighbours of those ranges are ordinary text */
        const char *good[] = { "ゲータチ子", "a\u2010b", "a\u202fb", "a\u2065b", "a\u206ab", "a\u200ab", "a\u061bb",
                               "\ufefa", "Zoë", "O'Brien-Smith Jr.", "\U0001F600" };

        for (int i = 0; i < 128; i++)
                strcat(long_ok, "あ");
        for (int i = 0; i < 129; i++)
                strcat(long_bad, "あ");
        for (int i = 0; i < 128; i++)
                strcat(wide_ok, "\U0001F600");
        for (int i = 0; i < 129; i++)
                strcat(wide_bad, "\U0001F600");
        CHECK(!cr_name_invalid(long_ok), "128 characters are accepted");
        CHECK(cr_name_invalid(long_bad) != NULL, "129 characters are refused");
        CHECK(!cr_name_invalid(wide_ok), "128 four-byte characters (512 bytes) are accepted");
        CHECK(streq_ptr(cr_name_invalid(wide_bad), "name is longer than 512 bytes"), "516 bytes are refused: %s",
              cr_name_invalid(wide_bad));
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
                CHECK(!cr_name_invalid(good[i]), "name \"%s\" accepted: %s", good[i], cr_name_invalid(good[i]));
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                CHECK(cr_name_invalid(bad[i]) != NULL, "bad name %zu refused: %s", i, cr_name_invalid(bad[i]));
        for (size_t i = 0; i < sizeof invisible / sizeof invisible[0]; i++)
                CHECK(streq_ptr(cr_name_invalid(invisible[i].name), invisible[i].why), "name %zu refused: %s", i,
                      cr_name_invalid(invisible[i].name));
}

static void test_serials(void) {
        const char *ok[] = { "", "0", "0A", "0a:1b", "1B:0C:7F", "0123456789abcdef0123456789ABCDEF01234567",
                             "01:23:45:67:89:ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67" };
        const char *bad[] = { ":", "::", "0x1F", "xyz", "1 2", "0123456789abcdef0123456789ABCDEF012345678",
                              "01:23:45:67:89:ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
                              "01:23:45:67:89:ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67::" };

        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
                CHECK(!cr_serial_invalid(ok[i]), "serial \"%s\" accepted: %s", ok[i], cr_serial_invalid(ok[i]));
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                CHECK(cr_serial_invalid(bad[i]) != NULL, "serial \"%s\" refused: %s", bad[i], cr_serial_invalid(bad[i]));
}

static void test_passwords(void) {
        char pw[CR_PASSWORD_MAX + 2];

        memset(pw, 'x', CR_PASSWORD_MAX);
        pw[CR_PASSWORD_MAX] = '\0';
        CHECK(!cr_password_too_long(pw), "%d bytes are within the bound", CR_PASSWORD_MAX);
        pw[CR_PASSWORD_MAX] = 'x';
        pw[CR_PASSWORD_MAX + 1] = '\0';
        CHECK(cr_password_too_long(pw), "%d bytes are not", CR_PASSWORD_MAX + 1);
        CHECK(!cr_password_too_long("") && !cr_password_too_long(NULL), "nothing is not too long");
}

static void test_paths(void) {
        const char *logins[] = { "sachiboh", "a.b", "0x", "x0", "A_b-c", "9", "..." };

        for (size_t i = 0; i < sizeof logins / sizeof logins[0]; i++) {
                char buf[USER_PATH_MAX], *enc = NULL, *dec = NULL;

                user_object_path_buf(logins[i], buf);
                CHECK(sd_bus_path_encode(CR_USER_PATH_PREFIX, logins[i], &enc) >= 0 && strcmp(buf, enc) == 0,
                      "path of \"%s\" is %s as sd-bus encodes it", logins[i], buf);
                CHECK(sd_bus_path_decode(buf, CR_USER_PATH_PREFIX, &dec) > 0 && strcmp(dec, logins[i]) == 0,
                      "and decodes back");
                free(enc);
                free(dec);
        }
}

static void test_tables(void) {
        for (int i = 0; i < _CR_ROLE_MAX; i++)
                CHECK(cr_role_from_string(cr_role_to_string(i)) == (CrRole) i, "role %s round-trips", cr_role_to_string(i));
        for (int i = 0; i < _CR_CERT_STATE_MAX; i++)
                CHECK(cr_cert_state_from_string(cr_cert_state_to_string(i)) == (CrCertState) i,
                      "state %s round-trips", cr_cert_state_to_string(i));
        CHECK(cr_role_from_string("root") == _CR_ROLE_INVALID, "no role \"root\"");
        CHECK(cr_role_is_privileged(CR_ROLE_MASTER) && cr_role_is_privileged(CR_ROLE_ADMIN) &&
              !cr_role_is_privileged(CR_ROLE_GENERAL) && !cr_role_is_privileged(CR_ROLE_WORKER),
              "master and admin are privileged, general and worker not");
}

int main(void) {
        test_login_ids();
        test_names();
        test_serials();
        test_passwords();
        test_paths();
        test_tables();
        return CHECK_EXIT();
}
