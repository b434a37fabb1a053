/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "context.h"

/* Called on the loop once a CRL that lists revocation seq is published and
 * its token removal was tried (result 0), or publishing failed (<0). */
typedef void (*publish_done_fn)(Context *c, int result, void *userdata);

/* What the publisher tells the bus side, which emits the signals: the
 * publisher emits none itself. */
typedef struct PublishEvents {
        /* crl.der holds a new CRL: CRLNumber, CRLThisUpdate, CRLNextUpdate */
        void (*crl_published)(Context *c);
        /* these users' CertificateRemoval changed (NULL-terminated) */
        void (*removals_recorded)(Context *c, char *const *logins);
} PublishEvents;

/* Opens the CA signer from [CA] Key=; without one nothing can be revoked.
 * events stays the caller's and must outlive the publisher. */
int publish_setup(Context *c, const PublishEvents *events);
void publish_free(Context *c);

/* Whether revocations can be published at all; *why says why not. */
bool publish_ready(Context *c, const char **why);

/* Queues a recorded revocation: its CRL and the removal of its token copy.
 * Everything queued within one turn of the loop, or while a build runs,
 * shares the next build. */
int publish_revocation(Context *c, uint64_t seq, int64_t cert_id, const char *login_id,
                       const char *uri, const unsigned char *der, size_t der_len,
                       publish_done_fn done, void *userdata);

/* Calls done once a CRL built after this call is published: for changes
 * that are no revocation, such as a suspension putting a certificate on
 * hold. */
int publish_after(Context *c, publish_done_fn done, void *userdata);

/* Builds and publishes a CRL without a new revocation: at start when one
 * is due or missing, and from the re-signing timer. */
int publish_schedule(Context *c);

/* Whether a build runs or waits: the daemon must not exit on idle then. */
bool publish_busy(Context *c);
