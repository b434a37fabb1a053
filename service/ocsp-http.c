/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "ocsp-http.h"
#include "util.h"

/* A slow client is dropped after this long without progress. */
#define CONNECTION_TIMEOUT_S 5
/* Per connection: the request line, headers and the reply's headers. */
#define CONNECTION_MEMORY 16384
#define CONNECTION_LIMIT 4096
/* Generous: a cache in front comes from one address. */
#define PER_IP_CONNECTION_LIMIT 512
/* A chunked body over OCSP_REQUEST_MAX is read up to this and answered
 * 413; beyond, the connection is dropped. */
#define DISCARD_MAX (16 * OCSP_REQUEST_MAX)

/* How an OCSP answer may be kept by caches. */
typedef enum Caching {
        CACHE_NONE,     /* an error, or a nonce's answer: Cache-Control no-store */
        CACHE_PUBLIC,   /* RFC 5019 6.2's headers */
} Caching;

/* What one request holds between the handler's calls: a POST's body, or
 * the answer a suspended request waits for from the signing workers. */
typedef struct Request {
        bool post;
        bool too_large;
        bool queued;            /* suspended until job is done */
        Caching caching;
        OcspJob job;
        size_t len, seen;
        uint8_t body[OCSP_REQUEST_MAX];
} Request;

/* A GET answered at once holds no state: its *con_cls is this constant's
 * address until it has to wait. */
static const char get_sentinel;
#define GET_REQUEST ((void *) &get_sentinel)

static enum MHD_Result plain(struct MHD_Connection *c, unsigned code, const char *text) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), (void *) text,
                                                                    MHD_RESPMEM_PERSISTENT);
        enum MHD_Result r;

        if (!resp)
                return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, POST");
        r = MHD_queue_response(c, code, resp);
        MHD_destroy_response(resp);
        return r;
}

static void blob_release(void *userdata) {
        ocsp_blob_unref(userdata);
}

static void http_date(uint64_t usec, char buf[static 64]) {
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(buf, 64, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* RFC 5019 6.2 / RFC 9919: fresh until nextUpdate, but never longer than
 * [OCSP] MaxAge=, which bounds how long a cache may hide a revocation. */
static void add_cache_headers(const Ocspd *d, struct MHD_Response *resp, const OcspBlob *b) {
        uint64_t now = now_usec(), left = b->next_update_usec > now ? b->next_update_usec - now : 0;
        char buf[128];

        if (left > d->max_age_usec)
                left = d->max_age_usec;
        snprintf(buf, sizeof buf, "max-age=%" PRIu64 ", public, no-transform, must-revalidate",
                 (uint64_t) (left / USEC_PER_SEC));
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, buf);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, b->etag);
        http_date(b->produced_usec, buf);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, buf);
        http_date(b->next_update_usec, buf);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_EXPIRES, buf);
}

/* If-None-Match naming this response: a cache revalidates and keeps it. */
static bool not_modified(struct MHD_Connection *c, const OcspBlob *b) {
        const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);

        return inm && strstr(inm, b->etag);
}

/* Sends b and gives up the caller's reference to it. */
static enum MHD_Result send_blob(const Ocspd *d, struct MHD_Connection *c, OcspBlob *b, Caching caching) {
        unsigned code = MHD_HTTP_OK;
        struct MHD_Response *resp;
        enum MHD_Result r;

        assert(b);
        if (caching == CACHE_PUBLIC && not_modified(c, b)) {
                code = MHD_HTTP_NOT_MODIFIED;
                resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
                ocsp_blob_unref(b);
        } else
                resp = MHD_create_response_from_buffer_with_free_callback_cls(b->len, b->der, blob_release, b);
        if (!resp) {
                if (code == MHD_HTTP_OK)
                        ocsp_blob_unref(b);
                return MHD_NO;
        }
        if (code == MHD_HTTP_OK)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/ocsp-response");
        if (caching == CACHE_PUBLIC)
                add_cache_headers(d, resp, b);
        else
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        r = MHD_queue_response(c, code, resp);
        MHD_destroy_response(resp);
        return r;
}

static enum MHD_Result send_error(const Ocspd *d, struct MHD_Connection *c, int status) {
        return send_blob(d, c, ocsp_blob_ref(ocsp_signer_error(&d->signer, status)), CACHE_NONE);
}

/* From a signing worker: the answer is in the job; the connection's
 * thread calls the handler again, which sends it. */
static void job_done(OcspJob *j, void *userdata) {
        (void) j;
        MHD_resume_connection(userdata);
}

/* Hands the signing of q's answer to the workers and suspends the
 * connection meanwhile: an HTTP thread never signs, so it keeps answering
 * from the signed responses.  tryLater only when the queue is full. */
static enum MHD_Result wait_for_signing(Ocspd *d, struct MHD_Connection *c, void **con_cls, OcspQuery *q,
                                        size_t index, const OcspCertState *state, Caching caching) {
        Request *req = *con_cls;

        if (req == GET_REQUEST) {
                req = calloc(1, sizeof *req);
                if (!req) {
                        ocsp_query_done(q);
                        return MHD_NO;
                }
                *con_cls = req;
        }
        if (ocsp_presign_reserve(&d->presign) < 0) {
                ocsp_query_done(q);
                return send_error(d, c, OCSP_RESPONSE_STATUS_TRYLATER);
        }
        req->job = (OcspJob) { .query = *q, .state = *state, .index = index, .done = job_done, .userdata = c };
        q->req = NULL;  /* the job's now */
        req->caching = q->has_nonce ? CACHE_NONE : caching;
        req->queued = true;
        /* before the submit: a worker may resume it at once */
        MHD_suspend_connection(c);
        ocsp_presign_submit(&d->presign, &req->job);
        return MHD_YES;
}

/* The handler's call after the resume: the job is done. */
static enum MHD_Result send_signed(Ocspd *d, struct MHD_Connection *c, Request *req) {
        OcspBlob *b;

        /* a connection libmicrohttpd would not suspend (its client closed
         * its side) is called again early: the job is still the worker's */
        if (!atomic_load_explicit(&req->job.finished, memory_order_acquire))
                return MHD_YES;
        b = TAKE_PTR(req->job.blob);
        req->queued = false;
        ocsp_query_done(&req->job.query);
        if (!b)
                return send_error(d, c, req->job.status);
        return send_blob(d, c, b, req->caching);
}

/* The answer to q, parsed from a request that arrived at arrival. */
static enum MHD_Result answer_query(Ocspd *d, struct MHD_Connection *c, void **con_cls, OcspQuery *q,
                                    uint64_t arrival, bool get) {
        OcspCertState state;
        OcspBlob *blob = NULL;
        size_t index = SIZE_MAX;
        int r;

        /* every commit before this request shows in its answer; without a
         * look at the store no answer could promise that */
        r = ocsp_store_sync(&d->store, &d->table, arrival);
        if (r < 0) {
                ocsp_query_done(q);
                return send_error(d, c, OCSP_RESPONSE_STATUS_TRYLATER);
        }
        if (r > 0)
                ocsp_presign_kick(&d->presign);
        r = ocsp_table_lookup(&d->table, q->serial, q->serial_len, q->hash, now_usec(), &index, &state, &blob);
        if (blob && !q->has_nonce) {
                ocsp_query_done(q);
                return send_blob(d, c, blob, get ? CACHE_PUBLIC : CACHE_NONE);
        }
        ocsp_blob_unref(blob);
        /* a nonce, a response not signed yet, or an unknown serial */
        return wait_for_signing(d, c, con_cls, q, r < 0 ? SIZE_MAX : index, &state, get ? CACHE_PUBLIC : CACHE_NONE);
}

/* der from a POST's body, or decoded from a GET's path (then kept in the
 * cache of paths, unless it has a nonce). */
static enum MHD_Result respond(Ocspd *d, struct MHD_Connection *c, void **con_cls, const uint8_t *der, size_t len,
                               const char *get_path) {
        uint64_t arrival = monotonic_usec();
        OcspQuery q;
        OcspVerdict v;

        v = ocsp_request_parse(&d->signer.issuer, der, len, &q);
        if (v != OCSP_VERDICT_OK) {
                ocsp_query_done(&q);
                return send_error(d, c, v == OCSP_VERDICT_MALFORMED ? OCSP_RESPONSE_STATUS_MALFORMEDREQUEST
                                                                    : OCSP_RESPONSE_STATUS_UNAUTHORIZED);
        }
        if (get_path && !q.has_nonce)
                ocsp_url_cache_put(&d->urls, get_path, &q);
        return answer_query(d, c, con_cls, &q, arrival, get_path != NULL);
}

static enum MHD_Result on_get(Ocspd *d, struct MHD_Connection *c, void **con_cls, const char *url) {
        uint64_t arrival = monotonic_usec();
        uint8_t der[OCSP_REQUEST_MAX];
        OcspQuery q;
        size_t len;
        int r;

        if (ocsp_url_cache_get(&d->urls, url, &q))
                return answer_query(d, c, con_cls, &q, arrival, true);
        r = ocsp_get_path_decode(url, der, sizeof der, &len);
        if (r == -E2BIG)
                return plain(c, MHD_HTTP_URI_TOO_LONG, "request too long for GET: use POST\n");
        if (r < 0)
                return send_error(d, c, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
        return respond(d, c, con_cls, der, len, url);
}

/* "application/ocsp-request", parameters aside. */
static bool ocsp_content_type(struct MHD_Connection *c) {
        const char *t = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        static const char want[] = "application/ocsp-request";

        return t && strncasecmp(t, want, sizeof want - 1) == 0 &&
               (t[sizeof want - 1] == 0 || t[sizeof want - 1] == ';' || t[sizeof want - 1] == ' ');
}

/* The first call of a POST: refused at once where the headers say enough. */
static enum MHD_Result post_begin(struct MHD_Connection *c, void **con_cls) {
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        Request *req;

        if (!ocsp_content_type(c))
                return plain(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/ocsp-request\n");
        if (cl && (strlen(cl) > 9 || strtoul(cl, NULL, 10) > OCSP_REQUEST_MAX))
                return plain(c, MHD_HTTP_CONTENT_TOO_LARGE, "request too large\n");
        req = calloc(1, sizeof *req);
        if (!req)
                return MHD_NO;
        req->post = true;
        *con_cls = req;
        return MHD_YES;
}

static enum MHD_Result post_data(Request *req, const char *data, size_t *size) {
        req->seen += *size;
        if (req->seen > DISCARD_MAX)
                return MHD_NO;
        if (req->len + *size > sizeof req->body)
                req->too_large = true;
        else {
                memcpy(req->body + req->len, data, *size);
                req->len += *size;
        }
        *size = 0;
        return MHD_YES;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size,
                              void **con_cls) {
        Ocspd *d = cls;
        Request *req = *con_cls;

        (void) version;
        /* the first call only sets up: answering on it would close every
         * keep-alive connection after one request */
        if (!req) {
                if (strcmp(method, MHD_HTTP_METHOD_GET) == 0) {
                        *con_cls = GET_REQUEST;
                        return MHD_YES;
                }
                if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
                        return post_begin(c, con_cls);
                return plain(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or POST\n");
        }
        if (req == GET_REQUEST)
                return on_get(d, c, con_cls, url);
        if (req->queued)
                return send_signed(d, c, req);
        if (*upload_data_size > 0)
                return post_data(req, upload_data, upload_data_size);
        if (req->too_large)
                return plain(c, MHD_HTTP_CONTENT_TOO_LARGE, "request too large\n");
        return respond(d, c, con_cls, req->body, req->len, NULL);
}

static void request_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
        (void) cls;
        (void) c;
        (void) toe;
        if (*con_cls != GET_REQUEST && *con_cls) {
                Request *req = *con_cls;

                /* never while suspended: the job is the worker's until resumed */
                ocsp_query_done(&req->job.query);
                ocsp_blob_unref(req->job.blob);
                free(req);
        }
        *con_cls = NULL;
}

/* %XX is decoded by the request parser, after it has told the path from
 * the query: libmicrohttpd's own unescaping would turn %2F into a '/' of
 * the path and cut the request at %00. */
static size_t unescape_nothing(void *cls, struct MHD_Connection *c, char *s) {
        (void) cls;
        (void) c;
        return strlen(s);
}

static void log_mhd(void *cls, const char *fmt, va_list ap) {
        char buf[512];

        (void) cls;
        vsnprintf(buf, sizeof buf, fmt, ap);
        buf[strcspn(buf, "\n")] = 0;
        log_full(LOG_WARNING, "http: %s", buf);
}

int ocsp_http_start(Ocspd *d, int listen_fd) {
        struct sockaddr_storage ss;
        unsigned ss_len;
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                         MHD_ALLOW_SUSPEND_RESUME;
        struct MHD_OptionItem where[2] = { { MHD_OPTION_LISTEN_SOCKET, listen_fd, NULL }, { MHD_OPTION_END, 0, NULL } };
        int r;

        assert(d && !d->http);
        if (listen_fd < 0) {
                r = config_parse_listen(d->config.ocsp_listen, &ss, &ss_len);
                if (r < 0)
                        return log_error_errno(r, "Failed to parse [OCSP] Listen=%s: %m", d->config.ocsp_listen);
                if (ss.ss_family == AF_INET6)
                        flags |= MHD_USE_IPv6;
                where[0] = (struct MHD_OptionItem) { MHD_OPTION_SOCK_ADDR, 0, &ss };
        }
        d->http = MHD_start_daemon(
                flags, 0, NULL, NULL, handle, d,
                /* first, so that it gets every message */
                MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
                MHD_OPTION_THREAD_POOL_SIZE, d->n_threads,
                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) CONNECTION_TIMEOUT_S,
                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) CONNECTION_MEMORY,
                MHD_OPTION_CONNECTION_LIMIT, (unsigned) CONNECTION_LIMIT,
                MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned) PER_IP_CONNECTION_LIMIT,
                MHD_OPTION_UNESCAPE_CALLBACK, unescape_nothing, NULL,
                MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
                MHD_OPTION_ARRAY, where,
                MHD_OPTION_END);
        if (!d->http)
                return log_error_errno(-EADDRNOTAVAIL, "Failed to start the HTTP server on %s: %m",
                                       listen_fd >= 0 ? "the socket systemd passed" : d->config.ocsp_listen);
        return 0;
}

void ocsp_http_stop(Ocspd *d) {
        if (!d->http)
                return;
        /* libmicrohttpd refuses to stop with a connection suspended: every
         * job is answered first, the new ones tryLater */
        ocsp_presign_close(&d->presign);
        MHD_stop_daemon(d->http);
        d->http = NULL;
}
