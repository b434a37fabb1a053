/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OCSP over HTTP (RFC 6960 A.1, RFC 5019/9919) through libmicrohttpd:
 * POST application/ocsp-request, and GET with the request in the path. */
#pragma once

#include "ocspd.h"

/* Serves on listen_fd (socket activation) or, when it is -1, on
 * [OCSP] Listen=. */
int ocsp_http_start(Ocspd *d, int listen_fd);
void ocsp_http_stop(Ocspd *d);
