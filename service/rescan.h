/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "context.h"

/* Starts a walk of the tokens in a worker thread, or joins the one under
 * way.  When it ends, what it found is filed in the store on the event
 * loop and every waiting Rescan() call (reply may be NULL) gets the count
 * of certificates filed. */
int rescan_start(Context *c, sd_bus_message *reply_to);
