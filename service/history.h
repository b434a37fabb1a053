/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "context.h"

/* The operation history's upkeep on the loop: refusals the store holds are
 * written when their interval ends, and old rows are pruned by [History]
 * MaxAge= and MaxEntries= in worker jobs (when the loop starts, after every
 * so many new rows, and hourly).  Call history_setup once the store and
 * the event loop exist, history_free before the store is freed. */
int history_setup(Context *c);
void history_free(Context *c);

/* Walks the chain in worker jobs and then answers m with (b intact, t rows,
 * t first_bad_row, s why).  Returns 1 when the walk started, or fills
 * error (org.certrevoke1.Error.Busy while another walk is under way). */
int history_verify(Context *c, sd_bus_message *m, sd_bus_error *error);
