/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "context.h"

/* Runs work(data) in a thread of its own and then done(c, data) on the
 * event loop: for what may take long (hashing, fsync) and must not stall
 * other callers.  done owns data.  On failure to start, returns <0 and
 * neither is called. */
int worker_run(Context *c, void (*work)(void *data), void (*done)(Context *c, void *data), void *data);

/* Waits for every work under way and runs its done; at exit. */
void worker_finish_all(void);
