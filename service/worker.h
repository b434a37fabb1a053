/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Work off the event loop, bounded: one pool of a fixed number of threads
 * with a fair queue, and each caller's share of expensive work (PAM checks,
 * password hashing, confirmation-file writes), so that one caller's flood
 * cannot starve another. */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "certrevoke.h"
#include "context.h"
#include "util.h"

/* Threads of the pool. */
#define WORKER_THREADS 2
/* Their nice value, above the loop's: a CRL build of a million entries
 * must not keep the loop from answering. */
#define WORKER_NICE 10
/* Callers' expensive calls under way at once, over all callers: jobs in the
 * pool plus calls waiting for or in a PAM check. */
#define WORKER_QUEUE_MAX 64
/* A caller's expensive calls under way at once.  An administrator who
 * revokes a batch of users at once has them confirmed together rather than
 * four at a time; the service's bound above still holds them. */
#define WORKER_SHARE_IN_FLIGHT 4
#define WORKER_SHARE_PRIVILEGED_IN_FLIGHT 32
/* A caller's budget (a token bucket): a burst of calls after a quiet
 * while, then one more every interval.  Master and administrator users,
 * who revoke, may do more than general and worker users, whose only
 * expensive call that can succeed is changing their own password. */
#define WORKER_SHARE_BURST 8
#define WORKER_SHARE_INTERVAL_USEC USEC_PER_SEC
#define WORKER_SHARE_PRIVILEGED_BURST 64
#define WORKER_SHARE_PRIVILEGED_INTERVAL_USEC (USEC_PER_SEC / 10)

/* The owner of the service's own work (publishing, token walks): it goes
 * before any caller's and is never refused. */
#define WORKER_OWNER_SERVICE ((uid_t) -1)

/* Starts the pool's threads, which inherit the signal mask of the calling
 * thread.  Call once, on the loop's thread, with c->event set. */
int worker_pool_new(Context *c, unsigned n_threads);

/* Runs every job queued or under way to its end, with its done (which may
 * queue more), then ends the threads and frees the pool and the shares.
 * At exit; nothing is refused or dropped.  No-op without a pool. */
void worker_pool_free(Context *c);

/* Runs work(data) on a thread of the pool and then done(c, data) on the
 * event loop: for what may take long (hashing, fsync) and must not stall
 * other callers.  done owns data.  The service's own work: it goes first.
 * On failure to queue, returns <0 and neither is called. */
int worker_run(Context *c, void (*work)(void *data), void (*done)(Context *c, void *data), void *data);

/* The same for a call of the caller with UID owner, admitted before with
 * worker_admit(): callers take turns (round robin), and one caller's jobs
 * run one at a time, so that another caller always finds a thread soon.
 * -EBUSY when WORKER_QUEUE_MAX callers' calls are under way. */
int worker_run_as(Context *c, uid_t owner, void (*work)(void *data), void (*done)(Context *c, void *data),
                  void *data);

/* Jobs queued or running whose done has not run yet: of owner, or of
 * everyone. */
unsigned worker_jobs(Context *c, uid_t owner);
unsigned worker_jobs_all(Context *c);

/* Admits one more expensive call of the caller with UID uid and role (its
 * budget; _CR_ROLE_INVALID for no user): 0, or org.certrevoke1.Error.Busy
 * in error ("… try again in N s") when the service's queue is full, the
 * caller has WORKER_SHARE_IN_FLIGHT (WORKER_SHARE_PRIVILEGED_IN_FLIGHT for
 * master and admin users) calls under way, or the caller's
 * budget is used up (root has no share: only the service's queue bounds
 * it).  A refusal changes nothing; an admission spends one unit of the
 * budget, whatever becomes of the call.  now_usec is CLOCK_MONOTONIC;
 * worker_admit() reads it. */
int worker_admit_at(Context *c, uid_t uid, CrRole role, uint64_t now_usec, sd_bus_error *error);
int worker_admit(Context *c, uid_t uid, CrRole role, sd_bus_error *error);

/* An admitted call of uid waiting for or in a PAM check counts as under way
 * from worker_hold() to worker_unhold(). */
int worker_hold(Context *c, uid_t uid);
void worker_unhold(Context *c, uid_t uid);
