/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* RevokeCertificate(s login_id, s serial, s reason, s confirmation_password) → (sss) */
int method_revoke_certificate(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* RevokeCertificates(a(ss) targets, s reason, s confirmation_password) → a(sss):
 * one confirmation, one transaction and one CRL for every target, or none. */
int method_revoke_certificates(sd_bus_message *m, void *userdata, sd_bus_error *error);
