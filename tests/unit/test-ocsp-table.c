/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevoke-ocspd's table of known certificates (ocsp-table.c): lookups
 * among many serials, a change of status dropping the responses signed
 * before it, a response signed for an older status refused. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "ocsp-table.h"

static OcspBlob *blob(uint8_t tag, uint64_t next_update) {
        uint8_t der[4] = { 0x30, 0x02, 0x04, tag };
        OcspBlob *b = ocsp_blob_new(der, sizeof der);

        b->next_update_usec = next_update;
        return b;
}

static void serial_of(uint32_t i, uint8_t s[static 4]) {
        s[0] = (uint8_t) (i >> 24 | 0x10);
        s[1] = (uint8_t) (i >> 16);
        s[2] = (uint8_t) (i >> 8);
        s[3] = (uint8_t) i;
}

static void test_many(OcspTable *t) {
        uint8_t s[4];
        size_t index, bad = 0;

        for (uint32_t i = 0; i < 100000; i++) {
                serial_of(i, s);
                if (ocsp_table_add(t, s, sizeof s, &index) != 1 || index != i)
                        bad++;
        }
        CHECK(bad == 0 && ocsp_table_size(t) == 100000, "100000 serials added, in order");
        serial_of(4242, s);
        CHECK(ocsp_table_add(t, s, sizeof s, &index) == 0 && index == 4242, "a known serial is not added twice");
        for (uint32_t i = 0; i < 100000; i++) {
                serial_of(i, s);
                if (ocsp_table_find(t, s, sizeof s, &index) < 0 || index != i)
                        bad++;
        }
        CHECK(bad == 0, "every serial found at its index");
        s[0] = 0x0f;
        CHECK(ocsp_table_find(t, s, sizeof s, &index) == -ENOENT, "an unknown serial is unknown");
        CHECK(ocsp_table_find(t, s, 3, &index) == -ENOENT, "a prefix of a serial is another serial");
}

static void test_versions(OcspTable *t) {
        OcspCertState st;
        OcspBlob *b = blob(1, 2000), *got = NULL;
        OcspEntry e;
        uint64_t refresh;
        uint32_t *dirty = NULL;
        uint8_t s[4];
        size_t index, n;

        serial_of(7, s);
        ocsp_table_snapshot(t, 7, OCSP_HASH_SHA1, &e, &refresh);
        CHECK(e.state.status == OCSP_STATUS_GOOD && refresh == 0, "good, nothing signed yet");
        CHECK(ocsp_table_install(t, 7, OCSP_HASH_SHA1, e.state.version, b) == 1, "a response put in place");
        CHECK(ocsp_table_signed(t) == 1, "one signed");
        CHECK(ocsp_table_lookup(t, s, sizeof s, OCSP_HASH_SHA1, 1000, &index, &st, &got) == 0 && got == b,
              "the lookup hands it out");
        ocsp_blob_unref(got);
        CHECK(ocsp_table_lookup(t, s, sizeof s, OCSP_HASH_SHA256, 1000, &index, &st, &got) == 0 && !got,
              "none for the other hash");
        CHECK(ocsp_table_lookup(t, s, sizeof s, OCSP_HASH_SHA1, 2000, &index, &st, &got) == 0 && !got,
              "none past its nextUpdate");
        CHECK(ocsp_table_set(t, 7, OCSP_STATUS_REVOKED, 1, 500) == 1, "revoked: a change");
        CHECK(ocsp_table_set(t, 7, OCSP_STATUS_REVOKED, 1, 500) == 0, "the same again: no change");
        CHECK(ocsp_table_signed(t) == 0, "the response signed before it is dropped");
        CHECK(ocsp_table_lookup(t, s, sizeof s, OCSP_HASH_SHA1, 1000, &index, &st, &got) == 0 && !got &&
              st.status == OCSP_STATUS_REVOKED && st.reason == 1 && st.revoked_usec == 500, "revoked, unsigned");
        /* a worker that read the state before the change signed for it */
        CHECK(ocsp_table_install(t, 7, OCSP_HASH_SHA1, e.state.version, b) == 0, "a response for the old state refused");
        n = ocsp_table_take_dirty(t, &dirty);
        CHECK(n == 1 && dirty[0] == 7, "the changed entry is dirty");
        free(dirty);
        n = ocsp_table_take_dirty(t, &dirty);
        CHECK(n == 0, "and taken once");
        free(dirty);
        ocsp_blob_unref(b);
}

int main(void) {
        OcspTable t;

        CHECK(ocsp_table_init(&t) == 0, "a table");
        test_many(&t);
        test_versions(&t);
        ocsp_table_done(&t);
        return CHECK_EXIT();
}
