/*
 * libcurl requests for the Hub client (see hub_http.h).
 *
 * Each attempt is one request with no automatic redirect. The header
 * callback parses the response into a hub_response (a new status line starts
 * a new one, so interim responses do not leak into the final one). The
 * write callback stores a body only for a 2xx response and discards the
 * body of a redirect or an error. A progress callback stops the transfer
 * when *cancel is set or when no byte has moved for idle_s seconds, which
 * also catches a server that accepts the connection and then sends nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include "hub/hub_http.h"
#include "net/retry_after.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_REDIRECTS 10
#define BACKOFF_MAX_S 8.0
#define RETRY_AFTER_MAX_S 60.0

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc;

static void curl_init_once(void) {
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void logf_(const hub_http *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(const hub_http *h, const char *fmt, ...) {
    if (!h->log)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    h->log(line, h->user);
}

int hub_url_escape(char *dst, size_t cap, const char *src, int keep_slash) {
    static const char hex[] = "0123456789ABCDEF";
    size_t o = strlen(dst);
    for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
        bool plain = isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' ||
                     (keep_slash && *p == '/');
        if (o + (plain ? 1 : 3) >= cap)
            return -1;
        if (plain) {
            dst[o++] = (char)*p;
        } else {
            dst[o++] = '%';
            dst[o++] = hex[*p >> 4];
            dst[o++] = hex[*p & 15];
        }
    }
    dst[o] = '\0';
    return 0;
}

void hub_url_redact(char *dst, size_t cap, const char *url) {
    const char *scheme = strstr(url, "://");
    const char *host = scheme ? scheme + 3 : url;
    size_t auth_len = strcspn(host, "/?#");
    const char *at = NULL;
    for (const char *p = host; p < host + auth_len; p++)
        if (*p == '@')
            at = p;
    if (!at) {
        snprintf(dst, cap, "%s", url);
        return;
    }
    snprintf(dst, cap, "%.*s%s", (int)(host - url), url, at + 1);
}

/* "METHOD URL" with any user:password removed from the URL. */
static void describe(char *dst, size_t cap, const char *method, const char *url) {
    char shown[2100];
    hub_url_redact(shown, sizeof shown, url);
    snprintf(dst, cap, "%s %s", method, shown);
}

int hub_http_open(hub_http *h, const hub_pull_options *o, const char *endpoint, const char *token,
                  lrc_error *err) {
    memset(h, 0, sizeof *h);
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc < 0)
        return lrc_errorf(err, "curl_global_init failed; libcurl could not start (out of memory?)");
    size_t len = strlen(endpoint);
    while (len && endpoint[len - 1] == '/')
        len--;
    if (len == 0 || len >= sizeof h->endpoint ||
        (strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0)) {
        char shown[sizeof h->endpoint];
        hub_url_redact(shown, sizeof shown, endpoint);
        char printable[2 * sizeof shown];
        hub_printable(printable, sizeof printable, shown);
        return lrc_errorf(err,
                          "invalid Hub endpoint '%.200s' (HF_ENDPOINT): expected an http:// "
                          "or https:// URL such as https://huggingface.co",
                          printable);
    }
    memcpy(h->endpoint, endpoint, len);
    h->endpoint[len] = '\0';
    hub_url_redact(h->shown_endpoint, sizeof h->shown_endpoint, h->endpoint);

    if (token && *token) {
        for (const char *p = token; *p; p++)
            if ((unsigned char)*p <= 0x20 || *p == 0x7f)
                return lrc_errorf(err, "the Hub token (HF_TOKEN) contains a space or control "
                                       "character; set it to the token alone");
        if ((size_t)snprintf(h->auth, sizeof h->auth, "Authorization: Bearer %s", token) >=
            sizeof h->auth)
            return lrc_errorf(err, "the Hub token (HF_TOKEN) is longer than %zu bytes",
                              sizeof h->auth - 32);
    }
    h->connect_s = o->connect_timeout_s;
    h->idle_s = o->idle_timeout_s;
    h->backoff_s = o->backoff_s;
    h->max_retries = o->max_retries;
    h->cancel = o->cancel;
    h->log = o->log;
    h->user = o->user;
    h->curl = curl_easy_init();
    if (!h->curl)
        return lrc_errorf(err, "curl_easy_init failed (out of memory)");
    return 0;
}

void hub_http_close(hub_http *h) {
    if (h->curl)
        curl_easy_cleanup(h->curl);
    /* Clear the token, so it does not stay in freed memory. */
    volatile char *p = h->auth;
    for (size_t i = 0; i < sizeof h->auth; i++)
        p[i] = 0;
    h->curl = NULL;
}

/* True when url has the endpoint's scheme, host and port. */
static bool same_origin(const char *a, const char *b) {
    CURLU *u = curl_url(), *v = curl_url();
    bool same = false;
    if (u && v && curl_url_set(u, CURLUPART_URL, a, 0) == CURLUE_OK &&
        curl_url_set(v, CURLUPART_URL, b, 0) == CURLUE_OK) {
        same = true;
        CURLUPart parts[] = {CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT};
        for (int i = 0; i < 3 && same; i++) {
            char *x = NULL, *y = NULL;
            unsigned flags = parts[i] == CURLUPART_PORT ? CURLU_DEFAULT_PORT : 0;
            same = curl_url_get(u, parts[i], &x, flags) == CURLUE_OK &&
                   curl_url_get(v, parts[i], &y, flags) == CURLUE_OK && strcasecmp(x, y) == 0;
            curl_free(x);
            curl_free(y);
        }
    }
    curl_url_cleanup(u);
    curl_url_cleanup(v);
    return same;
}

/* ------------------------------------------------------------------------ */
/* One attempt                                                              */
/* ------------------------------------------------------------------------ */

typedef struct attempt {
    hub_http *h;
    hub_response *r;
    /* body to memory */
    char *mem;
    size_t mem_len, mem_max;
    bool too_big;
    /* body to a sink */
    hub_sink *sink;
    uint64_t total;
    bool sink_started;
    bool sink_failed;
    int sink_errno; /* errno of the failed write */
    bool range_mismatch;
    /* idle detection */
    double last_move;
    curl_off_t last_now;
    bool stalled;
} attempt;

static void reset_response(hub_response *r) {
    memset(r, 0, sizeof *r);
    r->content_length = r->linked_size = r->range_start = -1;
    r->retry_after = -1;
}

/* Copy a header value, trimmed, with ETag's W/ prefix and quotes removed. */
static void header_value(char *dst, size_t cap, const char *v, size_t len, bool etag) {
    while (len && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
        len--;
    if (etag && len >= 2 && v[0] == 'W' && v[1] == '/') {
        v += 2;
        len -= 2;
    }
    if (etag && len >= 2 && v[0] == '"' && v[len - 1] == '"') {
        v++;
        len -= 2;
    }
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

static size_t on_header(char *buf, size_t size, size_t n, void *userp) {
    attempt *a = userp;
    hub_response *r = a->r;
    size_t len = size * n;
    if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        reset_response(r);
        const char *sp = memchr(buf, ' ', len);
        r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        return len;
    }
    const char *colon = memchr(buf, ':', len);
    if (!colon)
        return len;
    size_t klen = (size_t)(colon - buf);
    const char *v = colon + 1;
    size_t vlen = len - klen - 1;
    char tmp[128];
#define IS(name) (klen == sizeof(name) - 1 && strncasecmp(buf, name, klen) == 0)
    if (IS("etag")) {
        header_value(r->etag, sizeof r->etag, v, vlen, true);
    } else if (IS("x-linked-etag")) {
        header_value(r->linked_etag, sizeof r->linked_etag, v, vlen, true);
    } else if (IS("x-repo-commit")) {
        header_value(r->commit, sizeof r->commit, v, vlen, false);
    } else if (IS("x-error-code")) {
        header_value(r->error_code, sizeof r->error_code, v, vlen, false);
    } else if (IS("content-length")) {
        header_value(tmp, sizeof tmp, v, vlen, false);
        r->content_length = strtoll(tmp, NULL, 10);
    } else if (IS("x-linked-size")) {
        header_value(tmp, sizeof tmp, v, vlen, false);
        r->linked_size = strtoll(tmp, NULL, 10);
    } else if (IS("retry-after")) {
        header_value(tmp, sizeof tmp, v, vlen, false);
        double s = retry_after_parse(tmp, time(NULL));
        if (s >= 0)
            r->retry_after = s;
    } else if (IS("content-range")) {
        /* "bytes START-END/TOTAL" */
        header_value(tmp, sizeof tmp, v, vlen, false);
        if (strncmp(tmp, "bytes ", 6) == 0 && isdigit((unsigned char)tmp[6]))
            r->range_start = strtoll(tmp + 6, NULL, 10);
    }
#undef IS
    return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *userp) {
    attempt *a = userp;
    size_t len = size * n;
    long st = a->r->status;
    if (st < 200 || st >= 300)
        return len; /* a redirect's or an error's body */

    if (a->sink) {
        hub_sink *s = a->sink;
        if (!a->sink_started && st == 206 && a->r->range_start != (int64_t)s->have) {
            a->range_mismatch = true;
            return 0;
        }
        if (!a->sink_started && st == 200 && s->have > 0) {
            /* The server ignored Range and sends the whole file: start over. */
            if (fflush(s->f) != 0 || ftruncate(fileno(s->f), 0) != 0 ||
                fseek(s->f, 0, SEEK_SET) != 0) {
                a->sink_failed = true;
                a->sink_errno = errno;
                return 0;
            }
            s->have = 0;
            if (s->sha)
                sha256_init(s->sha);
        }
        if (!a->sink_started) {
            a->sink_started = true;
            if (a->r->content_length >= 0)
                a->total = s->have + (uint64_t)a->r->content_length;
        }
        if (fwrite(buf, 1, len, s->f) != len) {
            a->sink_failed = true;
            a->sink_errno = errno;
            return 0;
        }
        if (s->sha)
            sha256_update(s->sha, buf, len);
        s->have += len;
        if (s->on_bytes)
            s->on_bytes(s, s->have, a->total);
        return len;
    }

    if (a->mem_len + len > a->mem_max) {
        a->too_big = true;
        return 0;
    }
    char *m = realloc(a->mem, a->mem_len + len + 1);
    if (!m)
        return 0;
    a->mem = m;
    memcpy(a->mem + a->mem_len, buf, len);
    a->mem_len += len;
    a->mem[a->mem_len] = '\0';
    return len;
}

static int on_xfer(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                   curl_off_t ulnow) {
    attempt *a = userp;
    if (a->h->cancel && atomic_load(a->h->cancel))
        return 1;
    double t = now_s();
    if (dlnow != a->last_now) {
        a->last_now = dlnow;
        a->last_move = t;
    } else if (a->h->idle_s > 0 && t - a->last_move > a->h->idle_s) {
        a->stalled = true;
        return 1;
    }
    /* Report while no byte arrives too, so a rate and ETA shown from these
     * reports fall during a stall instead of freezing. */
    if (a->sink && a->sink_started && a->sink->on_bytes)
        a->sink->on_bytes(a->sink, a->sink->have, a->total);
    return 0;
}

typedef enum { REQ_GET, REQ_HEAD } req_method;

/* Run one request and return the curl result. The response is in a->r. */
static CURLcode perform(attempt *a, const char *url, req_method method, uint64_t range_from) {
    hub_http *h = a->h;
    CURL *c = h->curl;
    curl_easy_reset(c);
    reset_response(a->r);
    a->last_move = now_s();
    a->last_now = 0;

    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "User-Agent: lrc-studio/" PACKAGE_VERSION);
    headers = curl_slist_append(headers, "Accept-Encoding: identity");
    if (h->auth[0] && same_origin(url, h->endpoint))
        headers = curl_slist_append(headers, h->auth);
    char range[64];
    if (range_from > 0) {
        snprintf(range, sizeof range, "Range: bytes=%llu-", (unsigned long long)range_from);
        headers = curl_slist_append(headers, range);
    }

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(h->connect_s * 1000));
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xfer);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, a);
    if (method == REQ_HEAD)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);

    CURLcode rc = curl_easy_perform(c);
    char *loc = NULL;
    if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc)
        snprintf(a->r->location, sizeof a->r->location, "%s", loc);
    curl_slist_free_all(headers);
    return rc;
}

static bool retryable_status(long st) {
    return st == 429 || (st >= 500 && st <= 599);
}

static bool retryable_curl(CURLcode rc) {
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return true;
    default:
        return false;
    }
}

/* Sleep before retry number `retry` (from 0), in slices so *cancel is seen.
 * Returns -1 when cancelled. */
static int backoff(hub_http *h, int retry, double retry_after) {
    double wait = h->backoff_s;
    for (int i = 0; i < retry && wait < BACKOFF_MAX_S; i++)
        wait *= 2;
    if (wait > BACKOFF_MAX_S)
        wait = BACKOFF_MAX_S;
    if (retry_after >= 0)
        wait = retry_after < RETRY_AFTER_MAX_S ? retry_after : RETRY_AFTER_MAX_S;
    double end = now_s() + wait;
    while (now_s() < end) {
        if (h->cancel && atomic_load(h->cancel))
            return -1;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* After a failed attempt: log and wait when another attempt is allowed
 * (returns 1), else fill err (returns -1). `what` names the request. */
static int after_failure(hub_http *h, attempt *a, CURLcode rc, int *retry, const char *what,
                         lrc_error *err) {
    if (h->cancel && atomic_load(h->cancel)) {
        h->cancelled = true;
        return lrc_errorf(err, "%s: cancelled", what);
    }
    char reason[256];
    if (rc == CURLE_OK)
        snprintf(reason, sizeof reason, "HTTP %ld", a->r->status);
    else if (a->stalled)
        snprintf(reason, sizeof reason, "no data for %.0f s", h->idle_s);
    else
        snprintf(reason, sizeof reason, "%s", curl_easy_strerror(rc));

    bool transient =
        rc == CURLE_OK ? retryable_status(a->r->status) : a->stalled || retryable_curl(rc);
    if (!transient || *retry >= h->max_retries) {
        char attempts[64] = "";
        if (*retry > 0)
            snprintf(attempts, sizeof attempts, " after %d attempts", *retry + 1);
        if (a->stalled)
            return lrc_errorf(err,
                              "%s failed%s (%s); the partial file is kept and the next pull "
                              "resumes it (on a slow link raise lrc pull --timeout)",
                              what, attempts, reason);
        if (rc == CURLE_OK)
            return lrc_errorf(err,
                              "%s failed%s (%s); the Hub answered with an error each time, so it "
                              "may be down or busy: try again later",
                              what, attempts, reason);
        return lrc_errorf(err,
                          "%s failed%s (%s); check the network and HF_ENDPOINT (%s), then run "
                          "the command again",
                          what, attempts, reason, h->shown_endpoint);
    }
    logf_(h, "%s: %s; retry %d of %d", what, reason, *retry + 1, h->max_retries);
    if (backoff(h, *retry, rc == CURLE_OK ? a->r->retry_after : -1) < 0) {
        h->cancelled = true;
        return lrc_errorf(err, "%s: cancelled", what);
    }
    (*retry)++;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */
/* ------------------------------------------------------------------------ */

int hub_http_get(hub_http *h, const char *url, char **body, size_t max, hub_response *r,
                 lrc_error *err) {
    *body = NULL;
    h->cancelled = false;
    for (int retry = 0;;) {
        attempt a = {.h = h, .r = r, .mem_max = max};
        CURLcode rc = perform(&a, url, REQ_GET, 0);
        if (a.too_big) {
            free(a.mem);
            {
                char what[2200];
                describe(what, sizeof what, "GET", url);
                return lrc_errorf(err, "%s: the response is larger than %zu bytes", what, max);
            }
        }
        if (rc == CURLE_OK && !retryable_status(r->status)) {
            *body = a.mem ? a.mem : calloc(1, 1);
            return *body ? 0 : lrc_errorf(err, "out of memory reading a Hub response");
        }
        free(a.mem);
        char what[2200];
        describe(what, sizeof what, "GET", url);
        if (after_failure(h, &a, rc, &retry, what, err) < 0)
            return -1;
    }
}

int hub_http_head(hub_http *h, const char *url, hub_response *r, lrc_error *err) {
    h->cancelled = false;
    char cur[2048];
    snprintf(cur, sizeof cur, "%s", url);
    for (int retry = 0, hops = 0;;) {
        attempt a = {.h = h, .r = r};
        CURLcode rc = perform(&a, cur, REQ_HEAD, 0);
        /* A redirect within the endpoint (a renamed repository) is followed;
         * one to another host is an LFS file, described by its headers. */
        if (rc == CURLE_OK && r->status >= 300 && r->status < 400 && !r->linked_etag[0] &&
            r->location[0] && same_origin(r->location, h->endpoint) && hops++ < MAX_REDIRECTS) {
            snprintf(cur, sizeof cur, "%s", r->location);
            continue;
        }
        if (rc == CURLE_OK && !retryable_status(r->status))
            return 0;
        char what[2200];
        describe(what, sizeof what, "HEAD", url);
        if (after_failure(h, &a, rc, &retry, what, err) < 0)
            return -1;
    }
}

int hub_http_download(hub_http *h, const char *url, hub_sink *s, hub_response *r, lrc_error *err) {
    h->cancelled = false;
    h->write_errno = 0;
    char what[2200];
    describe(what, sizeof what, "GET", url);
    for (int retry = 0;;) {
        char cur[2048];
        snprintf(cur, sizeof cur, "%s", url);
        attempt a = {.h = h, .r = r, .sink = s};
        CURLcode rc = CURLE_OK;

        /* Follow redirects by hand so the token stays with the endpoint. */
        for (int hops = 0;; hops++) {
            if (hops > MAX_REDIRECTS)
                return lrc_errorf(err, "%s: more than %d redirects", what, MAX_REDIRECTS);
            a.total = 0;
            a.stalled = false;
            a.sink_started = false;
            rc = perform(&a, cur, REQ_GET, s->have);
            if (rc != CURLE_OK || r->status < 300 || r->status >= 400)
                break;
            if (!r->location[0])
                return lrc_errorf(err, "%s: HTTP %ld redirect without a Location", what, r->status);
            snprintf(cur, sizeof cur, "%s", r->location);
        }
        if (a.sink_failed) {
            h->write_errno = a.sink_errno;
            return lrc_errorf(err, "cannot write the downloaded bytes: %s", strerror(a.sink_errno));
        }
        if (a.range_mismatch)
            return lrc_errorf(err,
                              "%s: the server resumed at byte %lld but %llu bytes are on "
                              "disk; delete the .incomplete file and pull again",
                              what, (long long)r->range_start, (unsigned long long)s->have);
        if (rc == CURLE_OK && (r->status == 200 || r->status == 206))
            return 0;
        if (rc == CURLE_OK && r->status == 416 && s->have > 0) {
            /* The partial file is not a prefix the server can continue:
             * start from byte 0 (counts as a retry). */
            if (ftruncate(fileno(s->f), 0) != 0 || fseek(s->f, 0, SEEK_SET) != 0)
                return lrc_errorf(err, "cannot truncate the partial download: %s", strerror(errno));
            s->have = 0;
            if (s->sha)
                sha256_init(s->sha);
            logf_(h, "%s: HTTP 416 for the partial file; downloading from the start", what);
            if (retry++ >= h->max_retries)
                return lrc_errorf(err, "%s failed (HTTP 416)", what);
            continue;
        }
        if (rc == CURLE_OK && !retryable_status(r->status))
            return lrc_errorf(err, "%s failed (HTTP %ld)", what, r->status);
        if (after_failure(h, &a, rc, &retry, what, err) < 0)
            return -1;
        if (fflush(s->f) != 0) {
            h->write_errno = errno;
            return lrc_errorf(err, "cannot write the downloaded bytes: %s", strerror(errno));
        }
        if (s->have)
            logf_(h, "%s: resuming at byte %llu", what, (unsigned long long)s->have);
    }
}
