/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <systemd/sd-bus.h>

#include "bus-user.h"
#include "certrevoke.h"
#include "check.h"

static void test_login_ids(void) {
        const char *ok[] = { "a", "sachiboh", "A.b_c-9", "0lead", "x234567890123456789012345678901234567890123456789012345678901234" };
        const char *bad[] = { "", "with space", "ゲータ", "semi;colon", "slash/", "x2345678901234567890123456789012345678901234567890123456789012345" };

        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
                CHECK(!cr_login_id_invalid(ok[i]), "login ID \"%s\" accepted", ok[i]);
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                CHECK(cr_login_id_invalid(bad[i]) != NULL, "login ID \"%s\" refused: %s", bad[i], cr_login_id_invalid(bad[i]));
        CHECK(cr_login_id_invalid(NULL) != NULL, "no login ID refused");
}

static void test_names(void) {
        char long_ok[3 * 128 + 1] = "", long_bad[3 * 129 + 1] = "";
        const char *bad[] = { "", "\xff", "a\x01", "\xc0\xaf", "\xed\xa0\x80", "\xe3\x82", "tab\there" };

        for (int i = 0; i < 128; i++)
                strcat(long_ok, "あ");
        for (int i = 0; i < 129; i++)
                strcat(long_bad, "あ");
        CHECK(!cr_name_invalid("ゲータチ子"), "a Japanese name is accepted");
        CHECK(!cr_name_invalid(long_ok), "128 characters are accepted");
        CHECK(cr_name_invalid(long_bad) != NULL, "129 characters are refused");
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                CHECK(cr_name_invalid(bad[i]) != NULL, "bad name %zu refused: %s", i, cr_name_invalid(bad[i]));
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
        test_paths();
        test_tables();
        return CHECK_EXIT();
}
