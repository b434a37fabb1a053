/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "crl-reason.h"
#include "util.h"

static const char *const reason_names[] = {
        [CRL_REASON_UNSPECIFIED] = "unspecified",
        [CRL_REASON_KEY_COMPROMISE] = "keyCompromise",
        [CRL_REASON_CA_COMPROMISE] = "CACompromise",
        [CRL_REASON_AFFILIATION_CHANGED] = "affiliationChanged",
        [CRL_REASON_SUPERSEDED] = "superseded",
        [CRL_REASON_CESSATION_OF_OPERATION] = "cessationOfOperation",
        [CRL_REASON_CERTIFICATE_HOLD] = "certificateHold",
        [CRL_REASON_REMOVE_FROM_CRL] = "removeFromCRL",
        [CRL_REASON_PRIVILEGE_WITHDRAWN] = "privilegeWithdrawn",
        [CRL_REASON_AA_COMPROMISE] = "AACompromise",
};

int crl_reason_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        if (!*s)
                return CRL_REASON_UNSPECIFIED;
        for (size_t i = 0; i < ELEMENTSOF(reason_names); i++)
                if (reason_names[i] && strcmp(reason_names[i], s) == 0)
                        return (int) i;
        return -EINVAL;
}

const char *crl_reason_to_string(int reason) {
        if (reason == CRL_REASON_NONE)
                return reason_names[CRL_REASON_UNSPECIFIED];
        if (reason < 0 || (size_t) reason >= ELEMENTSOF(reason_names))
                return NULL;
        return reason_names[reason];
}
