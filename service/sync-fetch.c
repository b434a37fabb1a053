/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cleanup.h"
#include "log.h"
#include "sync-fetch.h"
#include "util.h"

/* A transfer slower than this for LOW_SPEED_SECONDS is given up. */
#define LOW_SPEED_BYTES   512L
#define LOW_SPEED_SECONDS 15L
#define CONNECT_SECONDS   10L
/* Header values kept (an ETag, an HTTP date) are short. */
#define VALIDATOR_MAX     256

struct Fetcher {
        CURL *curl;
        char *base_url;
        uint64_t bytes;
        /* set by the header callback for the transfer under way */
        long status;
        char error[CURL_ERROR_SIZE];
        char why[CURL_ERROR_SIZE + 128];
};

void fetch_buffer_done(FetchBuffer *b) {
        free(b->data);
        *b = (FetchBuffer) {};
}

void validators_done(Validators *v) {
        free(v->etag);
        free(v->last_modified);
        free(v->date);
        *v = (Validators) {};
}

bool validators_usable(const Validators *v) {
        if (!v->etag && !v->last_modified)
                return false;
        return !v->last_modified || !v->date || strcmp(v->last_modified, v->date) != 0;
}

static size_t on_body(char *ptr, size_t size, size_t n, void *userdata) {
        FetchBuffer *b = userdata;
        size_t len = size * n;

        if (len > b->max - b->len)
                return 0;       /* curl ends the transfer: past the bound */
        if (b->len + len > b->allocated) {
                size_t a = b->allocated ? b->allocated : 16384;
                uint8_t *d;

                while (a < b->len + len)
                        a = a > b->max / 2 ? b->max : a * 2;
                if (!(d = realloc(b->data, a)))
                        return 0;
                b->data = d;
                b->allocated = a;
        }
        memcpy(b->data + b->len, ptr, len);
        b->len += len;
        return len;
}

static size_t on_header(char *ptr, size_t size, size_t n, void *userdata) {
        Fetcher *f = userdata;

        (void) ptr;
        f->bytes += size * n;
        return size * n;
}

int fetcher_new(const char *base_url, const char *ca_bundle, uint64_t timeout_usec, Fetcher **ret) {
        _cleanup_free_ Fetcher *f = NULL;
        long timeout_ms;

        assert(base_url);
        assert(timeout_usec > 0);
        if (!(f = calloc(1, sizeof *f)))
                return -ENOMEM;
        if (!(f->base_url = strdup(base_url)))
                return -ENOMEM;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                free(f->base_url);
                return -ENOMEM;
        }
        if (!(f->curl = curl_easy_init())) {
                free(f->base_url);
                curl_global_cleanup();
                return -ENOMEM;
        }
        timeout_ms = (long) (timeout_usec / 1000);
        /* only http and https, and no redirect anywhere: the URL configured
         * is the only place the files come from; TLS peers are verified
         * (libcurl's default, kept).  A libcurl that cannot promise these
         * is not used. */
        if (curl_easy_setopt(f->curl, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
            curl_easy_setopt(f->curl, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
            curl_easy_setopt(f->curl, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
            curl_easy_setopt(f->curl, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
            (ca_bundle && curl_easy_setopt(f->curl, CURLOPT_CAINFO, ca_bundle) != CURLE_OK)) {
                curl_easy_cleanup(f->curl);
                free(f->base_url);
                curl_global_cleanup();
                return -EOPNOTSUPP;
        }
        curl_easy_setopt(f->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(f->curl, CURLOPT_CONNECTTIMEOUT, CONNECT_SECONDS);
        curl_easy_setopt(f->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(f->curl, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
        curl_easy_setopt(f->curl, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_SECONDS);
        curl_easy_setopt(f->curl, CURLOPT_ERRORBUFFER, f->error);
        curl_easy_setopt(f->curl, CURLOPT_USERAGENT, "certrevoke-sync/" CR_VERSION);
        /* byte ranges are of the file itself, never of an encoding of it */
        curl_easy_setopt(f->curl, CURLOPT_ACCEPT_ENCODING, NULL);
        curl_easy_setopt(f->curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(f->curl, CURLOPT_HEADERDATA, f);
        curl_easy_setopt(f->curl, CURLOPT_WRITEFUNCTION, on_body);
        *ret = TAKE_PTR(f);
        return 0;
}

void fetcher_free(Fetcher *f) {
        if (!f)
                return;
        curl_easy_cleanup(f->curl);
        free(f->base_url);
        free(f);
        curl_global_cleanup();
}

const char *fetcher_error(const Fetcher *f) {
        return f->why;
}

long fetcher_status(const Fetcher *f) {
        return f->status;
}

uint64_t fetcher_bytes(const Fetcher *f) {
        return f->bytes;
}

static int set_url(Fetcher *f, const char *name) {
        _cleanup_free_ char *url = NULL;
        size_t n = strlen(f->base_url);

        if (asprintf(&url, "%s%s%s", f->base_url, n > 0 && f->base_url[n - 1] == '/' ? "" : "/", name) < 0)
                return -ENOMEM;
        /* libcurl copies the string */
        return curl_easy_setopt(f->curl, CURLOPT_URL, url) == CURLE_OK ? 0 : -ENOMEM;
}

/* A libcurl failure as an errno, with the reason kept. */
static int curl_failure(Fetcher *f, const char *name, CURLcode code, const FetchBuffer *out) {
        int r;

        switch (code) {
        case CURLE_COULDNT_CONNECT:
                r = -ECONNREFUSED;
                break;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                r = -EHOSTUNREACH;
                break;
        case CURLE_OPERATION_TIMEDOUT:
                r = -ETIMEDOUT;
                break;
        case CURLE_WRITE_ERROR:
                r = out && out->len >= out->max ? -EFBIG : -EIO;
                break;
        case CURLE_FILESIZE_EXCEEDED:
                r = -EFBIG;
                break;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CONNECT_ERROR:
                r = -EKEYREJECTED;
                break;
        default:
                r = -EIO;
        }
        if (r == -EFBIG)
                snprintf(f->why, sizeof f->why, "%s: larger than %zu bytes", name, out ? out->max : 0);
        else
                snprintf(f->why, sizeof f->why, "%s: %s", name, f->error[0] ? f->error : curl_easy_strerror(code));
        return r;
}

static int perform(Fetcher *f, const char *name, FetchBuffer *out) {
        CURLcode code;
        curl_off_t got = 0;

        f->error[0] = '\0';
        f->why[0] = '\0';
        f->status = 0;
        curl_easy_setopt(f->curl, CURLOPT_WRITEDATA, out);
        curl_easy_setopt(f->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) out->max);
        code = curl_easy_perform(f->curl);
        (void) curl_easy_getinfo(f->curl, CURLINFO_SIZE_DOWNLOAD_T, &got);
        f->bytes += (uint64_t) got;
        if (code != CURLE_OK)
                return curl_failure(f, name, code, out);
        (void) curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &f->status);
        return 0;
}

/* A header of the response just received, copied; NULL when absent. */
static char *response_header(Fetcher *f, const char *name) {
        struct curl_header *h;

        if (curl_easy_header(f->curl, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
                return NULL;
        if (!h->value || strlen(h->value) > VALIDATOR_MAX)
                return NULL;
        return strdup(h->value);
}

static int conditional_headers(const Validators *have, struct curl_slist **ret) {
        _cleanup_free_ char *line = NULL;
        struct curl_slist *l = NULL, *n;

        *ret = NULL;
        if (have && have->etag) {
                if (asprintf(&line, "If-None-Match: %s", have->etag) < 0)
                        return -ENOMEM;
                if (!(n = curl_slist_append(l, line)))
                        return -ENOMEM;
                l = n;
                free(TAKE_PTR(line));
        }
        /* a date has a resolution of seconds: a file replaced twice in a
         * second would look unchanged, so it is asked only without an ETag
         * (RFC 9110 13.1.3) */
        if (have && have->last_modified && !have->etag) {
                if (asprintf(&line, "If-Modified-Since: %s", have->last_modified) < 0 ||
                    !(n = curl_slist_append(l, line))) {
                        curl_slist_free_all(l);
                        return -ENOMEM;
                }
                l = n;
        }
        *ret = l;
        return 0;
}

/* One request: name, the range given (or all), conditional on have. */
static int transfer(Fetcher *f, const char *name, const char *range, const Validators *have, FetchBuffer *out) {
        struct curl_slist *headers = NULL;
        int r;

        if ((r = set_url(f, name)) < 0 || (r = conditional_headers(have, &headers)) < 0)
                return r;
        curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(f->curl, CURLOPT_RANGE, range);
        r = perform(f, name, out);
        curl_easy_setopt(f->curl, CURLOPT_RANGE, NULL);
        curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(headers);
        return r;
}

static void take_validators(Fetcher *f, Validators *ret) {
        validators_done(ret);
        ret->etag = response_header(f, "ETag");
        ret->last_modified = response_header(f, "Last-Modified");
        ret->date = response_header(f, "Date");
}

int fetch_file(Fetcher *f, const char *name, size_t max, const Validators *have, bool *ret_modified,
               FetchBuffer *out, Validators *ret_new) {
        int r;

        assert(max > 0);
        fetch_buffer_done(out);
        out->max = max;
        r = transfer(f, name, NULL, have, out);
        if (r < 0)
                return r;
        if (f->status == 304) {
                fetch_buffer_done(out);
                *ret_modified = false;
                return 0;
        }
        if (f->status != 200) {
                snprintf(f->why, sizeof f->why, "%s: the server answered HTTP %ld", name, f->status);
                return -EPROTO;
        }
        *ret_modified = true;
        take_validators(f, ret_new);
        return 0;
}

/* The first and last byte and the size a 206 says it holds. */
static int content_range(Fetcher *f, uint64_t *first, uint64_t *last, uint64_t *total) {
        _cleanup_free_ char *v = response_header(f, "Content-Range");
        unsigned long long a, b, t;
        int n = 0;

        if (!v || sscanf(v, "bytes %llu-%llu/%llu%n", &a, &b, &t, &n) != 3 || v[n] != '\0' || a > b || b >= t)
                return -EPROTO;
        *first = a;
        *last = b;
        *total = t;
        return 0;
}

/* A 206 with the bytes from offset on, len at most (fewer where the file
 * ends); anything else, a server ignoring the range included, -EPROTO. */
static int ranged(Fetcher *f, const char *name, uint64_t offset, size_t len, const Validators *have,
                  FetchBuffer *out, uint64_t *ret_total) {
        uint64_t first, last;
        char range[64];
        int r;

        assert(len > 0);
        fetch_buffer_done(out);
        /* a server that ignores the range sends the whole file: stopped at
         * the length asked for */
        out->max = len;
        snprintf(range, sizeof range, "%" PRIu64 "-%" PRIu64, offset, offset + len - 1);
        r = transfer(f, name, range, have, out);
        if (r >= 0 && f->status == 304)
                return 0;
        if (r == -EFBIG || (r >= 0 && f->status != 206)) {
                snprintf(f->why, sizeof f->why, "%s: the server does not answer byte ranges (HTTP %ld)", name,
                         f->status);
                return -EPROTO;
        }
        if (r < 0)
                return r;
        if (content_range(f, &first, &last, ret_total) < 0 || first != offset || last - first + 1 != out->len ||
            out->len > len) {
                snprintf(f->why, sizeof f->why, "%s: %zu bytes asked for at %" PRIu64 ", others received", name, len,
                         offset);
                return -EPROTO;
        }
        return 0;
}

int fetch_range(Fetcher *f, const char *name, uint64_t offset, size_t len, FetchBuffer *out) {
        uint64_t total;
        int r;

        r = ranged(f, name, offset, len, NULL, out, &total);
        if (r < 0)
                return r;
        if (out->len != len) {
                snprintf(f->why, sizeof f->why, "%s: %zu bytes asked for at %" PRIu64 ", %zu received", name, len,
                         offset, out->len);
                return -EPROTO;
        }
        return 0;
}

int fetch_head(Fetcher *f, const char *name, size_t len, const Validators *have, bool *ret_modified,
               FetchBuffer *out, Validators *ret_new, uint64_t *ret_total) {
        int r;

        r = ranged(f, name, 0, len, have, out, ret_total);
        if (r < 0)
                return r;
        if (f->status == 304) {
                fetch_buffer_done(out);
                *ret_modified = false;
                return 0;
        }
        *ret_modified = true;
        take_validators(f, ret_new);
        return 0;
}
