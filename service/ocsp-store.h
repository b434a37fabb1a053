/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevoked's store as certrevoke-ocspd reads it: read-only, and only
 * what changed since the last look (new certificates by id, revocations by
 * revocation_seq, holds through users_suspended). */
#pragma once

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "ocsp-table.h"

/* What a request may conclude without taking the lock (ocsp-store.c). */
typedef enum OcspStoreState {
        OCSP_STORE_UNSETTLED,   /* no watch, or a commit may be under way: look */
        OCSP_STORE_SYNCING,     /* a thread is reading the events and the store */
        OCSP_STORE_QUIET,       /* no event unread means no commit unread */
} OcspStoreState;

typedef struct OcspStore {
        char *path;                     /* state_dir/store.db */
        char *wal_path, *shm_path;
        sqlite3 *db;
        sqlite3_stmt *probe;            /* PRAGMA data_version, prepared once: it runs per request */
        pthread_mutex_t lock;           /* the connection is one thread's at a time */
        char *issuer;                   /* the CA's name as the store spells it */
        int64_t data_version;
        uint64_t probe_started_usec;    /* CLOCK_MONOTONIC of the last probe's start */
        int64_t last_id;                /* certificates up to this id are in the table */
        int64_t last_seq;               /* revocations up to this one too */
        uint32_t *held;                 /* entries on hold at the last look */
        size_t n_held, held_allocated;
        /* change detection: an inotify watch on store.db-wal */
        int inotify_fd;
        int wd;                         /* -1: none (yet) */
        dev_t wal_dev;                  /* the watched file, to tell a replacement */
        ino_t wal_ino;
        int shm_fd;                     /* to see the writer's lock; never closed while db is open */
        uint64_t next_watch_usec;       /* CLOCK_MONOTONIC: the next try to add the watch */
        bool settled;                   /* the last look's verdict, for the log */
        _Atomic OcspStoreState state;
        _Atomic uint64_t next_probe_usec;  /* the safety net: a probe at least this often */
} OcspStore;

/* Opens state_dir/store.db read-only and loads every certificate of the
 * CA whose name (RFC 2253, as the store keeps it) is issuer. */
int ocsp_store_open(OcspStore *s, const char *state_dir, const char *issuer, OcspTable *t);
void ocsp_store_close(OcspStore *s);

/* Makes the table agree with every commit that happened before
 * arrival_usec (CLOCK_MONOTONIC): nothing to do when the watch saw no
 * write since the last look, or a probe that started after it covers it;
 * otherwise this probes, and reads the changes if there are any.
 * Returns 1 when it read changes. */
int ocsp_store_sync(OcspStore *s, OcspTable *t, uint64_t arrival_usec);
