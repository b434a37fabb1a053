/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certrevoke-sync's downloads: files of the publishing host's directory
 * over HTTP(S) with libcurl, whole and conditional (ETag,
 * If-Modified-Since) or as byte ranges.  One connection is kept for a
 * sync; every byte received is counted. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Fetcher Fetcher;

/* What was received, growing up to max bytes. */
typedef struct FetchBuffer {
        uint8_t *data;
        size_t len, allocated, max;
} FetchBuffer;

void fetch_buffer_done(FetchBuffer *b);

/* What a server said of a file's version, to ask next time whether it
 * changed, and when it said so.  Any may be NULL. */
typedef struct Validators {
        char *etag;
        char *last_modified;
        char *date;                     /* the response's Date */
} Validators;

void validators_done(Validators *v);

/* Whether they can tell a change: a file replaced within the second it
 * was fetched in may keep its date, and a server's ETag made of date and
 * size (nginx) with it, so validators given in the second the file last
 * changed are not asked with. */
bool validators_usable(const Validators *v);

/* base_url: the directory's URL (a '/' is put between it and file names);
 * ca_bundle: the TLS roots for https (NULL: the system's); timeout_usec
 * bounds each transfer, and a stalled one ends sooner. */
int fetcher_new(const char *base_url, const char *ca_bundle, uint64_t timeout_usec, Fetcher **ret);
void fetcher_free(Fetcher *f);

/* Why the last failing call failed, for the one-line reason. */
const char *fetcher_error(const Fetcher *f);

/* The HTTP status of the last response (0 when none came). */
long fetcher_status(const Fetcher *f);

/* Bytes received so far, headers included. */
uint64_t fetcher_bytes(const Fetcher *f);

/* GET name whole, at most max bytes.  With have's validators the request
 * is conditional: a 304 returns 0 with *ret_modified false and nothing in
 * out.  Otherwise out holds the body and *ret_new the validators the
 * server sent.  -ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH (and other
 * network errors) when the server cannot be reached; -EPROTO for an HTTP
 * status other than 200/304, -EFBIG past max. */
int fetch_file(Fetcher *f, const char *name, size_t max, const Validators *have, bool *ret_modified,
               FetchBuffer *out, Validators *ret_new);

/* The bytes [offset, offset + len) of name into out (replacing what it
 * held); -EPROTO unless the server answers 206 with exactly those. */
int fetch_range(Fetcher *f, const char *name, uint64_t offset, size_t len, FetchBuffer *out);

/* The first len bytes of name (all of it when it is shorter), conditional
 * on have as fetch_file, and *ret_total its size: for a file of which
 * most is held already.  -EPROTO when the server answers anything but 206
 * or 304. */
int fetch_head(Fetcher *f, const char *name, size_t len, const Validators *have, bool *ret_modified,
               FetchBuffer *out, Validators *ret_new, uint64_t *ret_total);
