/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevoke's PKCS#11 trust module: one slot with one write-protected
 * token, "certrevoke", showing the CA as an anchor and the certificates the
 * CA revoked as distrusted, from the files certrevoked publishes. */
#pragma once

/* Where certrevoked publishes by default (its StateDirectory/public). */
#define MODULE_DEFAULT_PUBLISH_DIR "/var/lib/certrevoke/public"

/* Overrides the directory; read with secure_getenv, so setuid programs that
 * load the module keep the default. */
#define MODULE_PUBLISH_DIR_ENV "CERTREVOKE_PUBLISH_DIR"

#define MODULE_SLOT_ID 1
#define MODULE_TOKEN_LABEL "certrevoke"
