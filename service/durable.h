/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Answers wait for the disk, without the event loop waiting for it: the
 * loop's store connection commits without a sync (store_defer_sync), and a
 * worker makes everything committed so far durable with one sync of the
 * write-ahead log, for every answer waiting at once (a group commit).  An
 * answer that acknowledges a change goes through here, so that nothing
 * acknowledged is lost to a power cut. */
#pragma once

#include <systemd/sd-bus.h>

#include "context.h"

/* Called on the loop once everything the store committed before
 * durable_after() is on disk (result 0), or the sync failed (<0). */
typedef void (*durable_done_fn)(Context *c, int result, void *userdata);

/* Queues done; a sync starts now or right after the one under way (which
 * may have begun before this change was committed). */
int durable_after(Context *c, durable_done_fn done, void *userdata);

/* Sends reply (a method return to call) once the changes before it are
 * durable; when the sync fails, an error to call instead.  Returns 1, for
 * a method handler to return. */
int durable_reply(Context *c, sd_bus_message *call, sd_bus_message *reply);

/* durable_reply() of an empty method return. */
int durable_reply_empty(Context *c, sd_bus_message *call);

/* Syncs at once, in the calling thread, and answers what waits: at exit. */
void durable_free(Context *c);
