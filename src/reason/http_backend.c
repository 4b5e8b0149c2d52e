/*
 * OpenAI-compatible chat backend: one curl multi loop for all requests.
 *
 * Each request is a job moving through WAITING (ready at a time) -> RUNNING
 * (an easy handle in the multi) -> DONE, or back to WAITING for a retry after
 * a 429/5xx. The write callback feeds bytes to an incremental SSE parser when
 * the status is 200, and otherwise keeps up to ERRBODY_MAX bytes of the error
 * body to quote. A progress callback ends a transfer when no byte has moved
 * for the idle timeout, or when the request's cancel flag is set.
 * CURLOPT_LOW_SPEED_TIME with a 1 s limit missed a 6 s stall after a burst in
 * tests/test_http_backend.c, so it is not used.
 */
#define _POSIX_C_SOURCE 200809L
#include "reason/http_backend.h"
#include "net/retry_after.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ERRBODY_MAX 8192
#define LINE_MAX_BYTES (4u << 20)

enum job_state { JOB_WAITING, JOB_RUNNING, JOB_DONE };

typedef struct job {
    const http_request *req;
    http_result *res;
    enum job_state state;
    double ready_at; /* monotonic seconds */
    double started;  /* monotonic time of the first attempt */
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    /* per attempt */
    long status;
    double retry_after; /* < 0: none */
    char *line;         /* partial SSE line */
    size_t line_len, line_cap;
    char *data; /* data lines of the current event */
    size_t data_len, data_cap;
    int has_data;
    size_t offset;   /* stream bytes seen */
    size_t n_events; /* events dispatched */
    int done;        /* saw data: [DONE] */
    int parse_failed;
    int stalled;
    int cancelled;                           /* the progress callback saw a cancel flag set */
    const volatile sig_atomic_t *cancel_all; /* the config's flag, or NULL */
    double last_progress;                    /* monotonic time bytes last moved */
    double last_bytes;
    char errbody[ERRBODY_MAX + 1];
    size_t errbody_len;
} job;

typedef struct backend {
    const http_backend_config *cfg;
    char url[2048];   /* the request URL */
    char shown[2048]; /* url for messages: no user:password@, no query */
    const char *key;
    double connect_s, idle_s, backoff_s, backoff_max_s;
    int max_attempts;
} backend;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc;

static void curl_init_once(void) {
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void http_backend_cleanup(void) {
    curl_global_cleanup();
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Copy n bytes of src into dst (truncated to cap) as one line. Control bytes
 * become spaces and every copy of the key (if any) becomes "***". */
static void one_line(char *dst, size_t cap, const char *src, size_t n, const char *key) {
    size_t j = 0, klen = key ? strlen(key) : 0;
    for (size_t i = 0; i < n && j + 4 < cap; i++) {
        if (klen && n - i >= klen && memcmp(src + i, key, klen) == 0) {
            memcpy(dst + j, "***", 3);
            j += 3;
            i += klen - 1;
            continue;
        }
        unsigned char c = (unsigned char)src[i];
        dst[j++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    dst[j] = '\0';
}

static int grow(char **buf, size_t *cap, size_t need) {
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    char *p = realloc(*buf, c);
    if (!p)
        return -1;
    *buf = p;
    *cap = c;
    return 0;
}

static int job_fail(const backend *b, job *j, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int job_fail(const backend *b, job *j, const char *fmt, ...) {
    char tmp[LRC_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    one_line(j->res->err.msg, sizeof j->res->err.msg, tmp, strlen(tmp), b->key);
    j->res->failed = 1;
    return -1;
}

static int append_text(job *j, const char *s, size_t n) {
    http_result *r = j->res;
    char *p = realloc(r->text, r->len + n + 1);
    if (!p)
        return -1;
    memcpy(p + r->len, s, n);
    r->len += n;
    p[r->len] = '\0';
    r->text = p;
    if (j->req->on_token)
        j->req->on_token(s, n, j->req->user);
    return 0;
}

/* Handle one complete event, whose data lines are joined by '\n'. */
static int dispatch_event(const backend *b, job *j) {
    if (!j->has_data)
        return 0;
    j->n_events++;
    j->has_data = 0;
    size_t n = j->data_len;
    j->data_len = 0;
    if (j->done)
        return 0;

    if (n == 6 && memcmp(j->data, "[DONE]", 6) == 0) {
        j->done = 1;
        return 0;
    }
    cJSON *root = cJSON_ParseWithLength(j->data, n);
    if (!root) {
        char q[81];
        one_line(q, sizeof q, j->data, n < 60 ? n : 60, b->key);
        return job_fail(b, j,
                        "%s: stream event %zu (ending at byte %zu) is not JSON: '%s'; expected "
                        "'data: {...}' or 'data: [DONE]', check that the endpoint speaks the "
                        "OpenAI streaming protocol",
                        b->shown, j->n_events, j->offset, q);
    }
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (e) {
        const cJSON *m = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "message") : e;
        const char *msg = cJSON_IsString(m) ? m->valuestring : "(no message)";
        job_fail(b, j, "%s: the server sent an error in stream event %zu: %.300s", b->shown,
                 j->n_events, msg);
        cJSON_Delete(root);
        return -1;
    }

    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
    if (!cJSON_IsArray(choices)) {
        cJSON_Delete(root);
        return job_fail(b, j,
                        "%s: stream event %zu (ending at byte %zu) has no 'choices' array; "
                        "expected a chat.completion.chunk object",
                        b->shown, j->n_events, j->offset);
    }

    const cJSON *c0 = cJSON_GetArrayItem(choices, 0);
    const cJSON *finish = c0 ? cJSON_GetObjectItemCaseSensitive(c0, "finish_reason") : NULL;
    if (cJSON_IsString(finish))
        snprintf(j->res->finish_reason, sizeof j->res->finish_reason, "%s", finish->valuestring);
    const cJSON *delta = c0 ? cJSON_GetObjectItemCaseSensitive(c0, "delta") : NULL;
    const cJSON *content = delta ? cJSON_GetObjectItemCaseSensitive(delta, "content") : NULL;
    int rc = 0;
    if (cJSON_IsString(content) && content->valuestring[0]) {
        if (append_text(j, content->valuestring, strlen(content->valuestring)) != 0)
            rc = job_fail(b, j, "%s: out of memory while assembling the reply", b->shown);
    } else if (content && !cJSON_IsString(content) && !cJSON_IsNull(content)) {
        rc = job_fail(b, j,
                      "%s: stream event %zu (ending at byte %zu): choices[0].delta.content is "
                      "not a string",
                      b->shown, j->n_events, j->offset);
    }
    cJSON_Delete(root);
    return rc;
}

/* Handle one stream line, given without its line terminator. */
static int sse_line(const backend *b, job *j, char *s, size_t n) {
    if (n && s[n - 1] == '\r')
        n--;
    if (n == 0)
        return dispatch_event(b, j);
    if (s[0] == ':')
        return 0; /* comment */

    size_t colon = 0;
    while (colon < n && s[colon] != ':')
        colon++;
    size_t vstart = colon < n ? colon + 1 : n;
    if (vstart < n && s[vstart] == ' ')
        vstart++;
    if (colon == 4 && memcmp(s, "data", 4) == 0) {
        size_t vlen = n - vstart;
        size_t need = j->data_len + vlen + 2;
        if (grow(&j->data, &j->data_cap, need) != 0)
            return job_fail(b, j, "%s: out of memory while reading the stream", b->shown);
        if (j->has_data)
            j->data[j->data_len++] = '\n';
        memcpy(j->data + j->data_len, s + vstart, vlen);
        j->data_len += vlen;
        j->has_data = 1;
        return 0;
    }
    if ((colon == 5 && memcmp(s, "event", 5) == 0) || (colon == 2 && memcmp(s, "id", 2) == 0) ||
        (colon == 5 && memcmp(s, "retry", 5) == 0))
        return 0;

    char q[81];
    one_line(q, sizeof q, s, n < 60 ? n : 60, b->key);
    return job_fail(b, j,
                    "%s: stream line ending at byte %zu is not a server-sent event field: '%s'; "
                    "expected 'data: ...', ':comment' or a blank line",
                    b->shown, j->offset, q);
}

static int is_cancelled(const job *j) {
    return (j->req->cancel && *j->req->cancel) || (j->cancel_all && *j->cancel_all);
}

/* The (backend, job) pair that the curl callbacks receive as user data. */
typedef struct job_ctx {
    const backend *b;
    job *j;
} job_ctx;

static size_t on_write_ctx(char *ptr, size_t size, size_t nmemb, void *userdata) {
    job_ctx *cx = userdata;
    job *j = cx->j;
    const backend *b = cx->b;
    size_t n = size * nmemb;
    if (is_cancelled(j)) {
        job_fail(b, j, "cancelled");
        j->parse_failed = 1;
        return 0;
    }
    if (j->status == 0)
        curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &j->status);
    if (j->status != 200) {
        size_t room = ERRBODY_MAX - j->errbody_len;
        size_t k = n < room ? n : room;
        memcpy(j->errbody + j->errbody_len, ptr, k);
        j->errbody_len += k;
        j->errbody[j->errbody_len] = '\0';
        return n;
    }
    for (size_t i = 0; i < n; i++) {
        j->offset++;
        char c = ptr[i];
        if (c == '\n') {
            if (sse_line(b, j, j->line, j->line_len) != 0) {
                j->parse_failed = 1;
                return 0;
            }
            j->line_len = 0;
            if (is_cancelled(j)) {
                job_fail(b, j, "cancelled");
                j->parse_failed = 1;
                return 0;
            }
            continue;
        }
        if (j->line_len + 2 > LINE_MAX_BYTES) {
            job_fail(b, j,
                     "%s: stream line at byte %zu is longer than %u bytes; expected short "
                     "server-sent event lines",
                     b->shown, j->offset, LINE_MAX_BYTES);
            j->parse_failed = 1;
            return 0;
        }
        if (grow(&j->line, &j->line_cap, j->line_len + 2) != 0) {
            job_fail(b, j, "%s: out of memory while reading the stream", b->shown);
            j->parse_failed = 1;
            return 0;
        }
        j->line[j->line_len++] = c;
    }
    return n;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata) {
    job_ctx *cx = userdata;
    size_t n = size * nitems;
    if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        cx->j->retry_after = -1; /* a new response (after 100-continue or a redirect) */
        cx->j->status = 0;
        return n;
    }
    if (n > 12 && strncasecmp(buf, "retry-after:", 12) == 0) {
        char tmp[128];
        size_t k = n - 12 < sizeof tmp - 1 ? n - 12 : sizeof tmp - 1;
        memcpy(tmp, buf + 12, k);
        tmp[k] = '\0';
        double v = retry_after_parse(tmp, time(NULL));
        if (v >= 0)
            cx->j->retry_after = v;
    }
    return n;
}

/* Abort the transfer when no byte has moved either way for idle_s seconds. */
static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
    job_ctx *cx = userdata;
    job *j = cx->j;
    (void)dltotal;
    (void)ultotal;
    double bytes = (double)dlnow + (double)ulnow, t = now_s();
    if (is_cancelled(j)) {
        j->cancelled = 1;
        return 1;
    }
    if (bytes != j->last_bytes) {
        j->last_bytes = bytes;
        j->last_progress = t;
        return 0;
    }
    if (t - j->last_progress >= cx->b->idle_s) {
        j->stalled = 1;
        return 1;
    }
    return 0;
}

static char *build_body(const backend *b, const http_request *req) {
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "model", b->cfg->model ? b->cfg->model : "");
    cJSON *msgs = cJSON_AddArrayToObject(root, "messages");
    for (size_t i = 0; msgs && i < req->n_messages; i++) {
        cJSON *m = cJSON_CreateObject();
        if (!m)
            break;
        cJSON_AddStringToObject(m, "role", req->messages[i].role);
        cJSON_AddStringToObject(m, "content", req->messages[i].content);
        cJSON_AddItemToArray(msgs, m);
    }
    cJSON_AddBoolToObject(root, "stream", 1);
    if (req->temperature >= 0)
        cJSON_AddNumberToObject(root, "temperature", req->temperature);
    if (req->top_p > 0)
        cJSON_AddNumberToObject(root, "top_p", req->top_p);
    if (req->max_tokens > 0)
        cJSON_AddNumberToObject(root, "max_tokens", req->max_tokens);
    if (req->n_stop) {
        cJSON *st = cJSON_AddArrayToObject(root, "stop");
        for (size_t i = 0; st && i < req->n_stop; i++)
            cJSON_AddItemToArray(st, cJSON_CreateString(req->stop[i]));
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

static void reset_attempt(job *j) {
    j->status = 0;
    j->retry_after = -1;
    j->line_len = 0;
    j->data_len = 0;
    j->has_data = 0;
    j->offset = 0;
    j->n_events = 0;
    j->done = 0;
    j->parse_failed = 0;
    j->stalled = 0;
    j->cancelled = 0;
    j->last_progress = now_s();
    j->last_bytes = 0;
    j->errbody_len = 0;
    j->errbody[0] = '\0';
}

static int job_start(const backend *b, job *j, job_ctx *cx, CURLM *multi) {
    reset_attempt(j);
    j->res->attempts++;
    if (j->res->attempts == 1)
        j->started = now_s();
    if (!j->easy) {
        j->easy = curl_easy_init();
        if (!j->easy)
            return job_fail(b, j, "%s: curl_easy_init failed; out of memory?", b->shown);
        curl_easy_setopt(j->easy, CURLOPT_URL, b->url);
        curl_easy_setopt(j->easy, CURLOPT_POST, 1L);
        curl_easy_setopt(j->easy, CURLOPT_POSTFIELDS, j->body);
        curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->headers);
        curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, on_write_ctx);
        curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, cx);
        curl_easy_setopt(j->easy, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(j->easy, CURLOPT_HEADERDATA, cx);
        curl_easy_setopt(j->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(j->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)(b->connect_s * 1000));
        curl_easy_setopt(j->easy, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(j->easy, CURLOPT_XFERINFODATA, cx);
        curl_easy_setopt(j->easy, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(j->easy, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(j->easy, CURLOPT_PRIVATE, cx);
    }
    if (curl_multi_add_handle(multi, j->easy) != CURLM_OK)
        return job_fail(b, j, "%s: curl_multi_add_handle failed", b->shown);
    j->state = JOB_RUNNING;
    return 0;
}

/* Copy the server's error message into dst as one line. The message is
 * error.message from a JSON body (returns 1), else the start of the raw body
 * (returns 0). */
static int server_message(const backend *b, const job *j, char *dst, size_t cap) {
    dst[0] = '\0';
    cJSON *root = cJSON_ParseWithLength(j->errbody, j->errbody_len);
    const cJSON *e = root ? cJSON_GetObjectItemCaseSensitive(root, "error") : NULL;
    const cJSON *m = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "message") : e;
    int from_json = cJSON_IsString(m);
    if (from_json)
        one_line(dst, cap, m->valuestring, strlen(m->valuestring), b->key);
    else
        one_line(dst, cap, j->errbody, j->errbody_len < 300 ? j->errbody_len : 300, b->key);
    cJSON_Delete(root);
    return from_json;
}

static int mentions_model(const backend *b, const job *j) {
    if (strstr(j->errbody, "model_not_found"))
        return 1;
    const char *m = b->cfg->model;
    return m && m[0] && strstr(j->errbody, m) != NULL;
}

/* Our words for the libcurl results users meet most, else libcurl's. */
static const char *transfer_words(CURLcode cc) {
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
        return "the connection was refused";
    case CURLE_COULDNT_RESOLVE_HOST:
        return "the host name did not resolve";
    case CURLE_PARTIAL_FILE:
        return "the reply body ended early";
    case CURLE_RECV_ERROR:
        return "reading from the connection failed";
    case CURLE_SEND_ERROR:
        return "sending on the connection failed";
    case CURLE_GOT_NOTHING:
        return "the server closed the connection without a reply";
    case CURLE_UNSUPPORTED_PROTOCOL:
        return "the URL's scheme is not http or https";
    case CURLE_SSL_CONNECT_ERROR:
        return "the TLS handshake failed";
    case CURLE_PEER_FAILED_VERIFICATION:
        return "the server's TLS certificate did not verify";
    default:
        return curl_easy_strerror(cc);
    }
}

/* Classify a finished transfer. Returns 0 on success, 1 when the job should
 * be retried (ready_at is set) and -1 on failure (res->err is set). */
static int job_finish(const backend *b, job *j, CURLcode cc) {
    long status = 0;
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
    j->res->status = status;
    if (j->parse_failed)
        return -1;
    if (j->cancelled || is_cancelled(j))
        return job_fail(b, j, "cancelled");
    if (j->stalled)
        return job_fail(b, j,
                        "%s: the stream stalled: no bytes for %.0f s (%s, %zu stream bytes "
                        "so far); the server may be overloaded, retry or raise the idle timeout "
                        "(lrc ask and eval: --timeout SECONDS)",
                        b->shown, b->idle_s,
                        status ? "after the reply headers" : "no reply headers", j->offset);
    if (status == 200) {
        if (cc == CURLE_OK && !j->done && j->line_len) {
            /* a last line without '\n' */
            if (sse_line(b, j, j->line, j->line_len) != 0)
                return -1;
            j->line_len = 0;
        }
        if (cc == CURLE_OK && !j->done && dispatch_event(b, j) != 0)
            return -1;
        if (cc != CURLE_OK || !j->done)
            return job_fail(b, j,
                            "%s: the connection closed mid-stream after %zu bytes and %zu event%s "
                            "without 'data: [DONE]' (%s); the reply is incomplete, retry",
                            b->shown, j->offset, j->n_events, j->n_events == 1 ? "" : "s",
                            cc != CURLE_OK ? transfer_words(cc) : "clean close");
        return 0;
    }

    if (status == 0) {
        if (cc == CURLE_OPERATION_TIMEDOUT)
            return job_fail(b, j, "%s: connect timed out after %.0f s; check that the server is up",
                            b->shown, b->connect_s);
        return job_fail(b, j, "%s: %s; check the endpoint URL and that the server is running",
                        b->shown, transfer_words(cc));
    }

    char msg[400];
    int json_msg = server_message(b, j, msg, sizeof msg);
    if (status == 429 || status >= 500) {
        if (j->res->attempts < b->max_attempts) {
            double d = b->backoff_s;
            for (int i = 1; i < j->res->attempts; i++)
                d *= 2;
            if (j->retry_after >= 0)
                d = j->retry_after;
            if (d > b->backoff_max_s)
                d = b->backoff_max_s;
            j->ready_at = now_s() + d;
            if (b->cfg->on_retry) {
                http_retry_info info = {b->shown,        status, j->res->attempts,
                                        b->max_attempts, d,      j->retry_after};
                b->cfg->on_retry(&info, b->cfg->retry_user);
            }
            return 1;
        }
        return job_fail(b, j,
                        "%s: HTTP %ld after %d attempts: %s; the server keeps failing, try "
                        "later or with fewer parallel requests",
                        b->shown, status, j->res->attempts, msg[0] ? msg : "(empty body)");
    }

    if (status == 401 || status == 403)
        return job_fail(b, j, "%s: HTTP %ld: the endpoint rejected the API key; set LRC_API_KEY",
                        b->shown, status);
    if ((status == 404 || status == 400) && mentions_model(b, j))
        return job_fail(b, j,
                        "%s: HTTP %ld: the server has no model '%s' (%s); pass a model name the "
                        "server lists at /v1/models",
                        b->shown, status, b->cfg->model ? b->cfg->model : "", msg);
    if (status == 404 && json_msg && msg[0])
        return job_fail(b, j,
                        "%s: HTTP 404: %s; check --model-name and the base URL (it should "
                        "serve /v1/chat/completions)",
                        b->shown, msg);
    if (status == 404)
        return job_fail(b, j,
                        "%s: HTTP 404: no chat-completions endpoint there; check the base URL "
                        "(it should serve /v1/chat/completions)",
                        b->shown);
    return job_fail(b, j, "%s: HTTP %ld: %s", b->shown, status, msg[0] ? msg : "(empty body)");
}

static int setup_backend(backend *b, const http_backend_config *cfg, lrc_error *err) {
    memset(b, 0, sizeof *b);
    b->cfg = cfg;
    if (!cfg->base_url || !cfg->base_url[0])
        return lrc_errorf(err, "http backend: no endpoint URL; pass --endpoint URL");
    if (http_backend_check_url(cfg->base_url, err) != 0)
        return -1;
    /* The path ends where the query starts; the suffix goes between. */
    const char *base = cfg->base_url;
    size_t n = strcspn(base, "?");
    const char *query = base + n;
    while (n && base[n - 1] == '/')
        n--;
    static const char full[] = "/v1/chat/completions";
    const char *suffix = full;
    if (n >= sizeof full - 1 && memcmp(base + n - (sizeof full - 1), full, sizeof full - 1) == 0)
        suffix = "";
    else if (n >= 3 && memcmp(base + n - 3, "/v1", 3) == 0)
        suffix = "/chat/completions";
    if (n + strlen(suffix) + strlen(query) + 1 > sizeof b->url)
        return lrc_errorf(err, "http backend: endpoint URL longer than %zu bytes; shorten it",
                          sizeof b->url - 32);
    snprintf(b->url, sizeof b->url, "%.*s%s%s", (int)n, base, suffix, query);
    http_backend_redact_url(b->url, b->shown, sizeof b->shown);

    const char *source = "the config";
    b->key = cfg->api_key;
    if (!b->key || !b->key[0]) {
        b->key = getenv("LRC_API_KEY");
        source = "LRC_API_KEY";
    }
    if (!b->key || !b->key[0]) {
        b->key = getenv("OPENAI_API_KEY");
        source = "OPENAI_API_KEY";
    }
    if (b->key && !b->key[0])
        b->key = NULL;
    if (http_backend_check_key(b->key, source, err) != 0)
        return -1;

    b->connect_s = cfg->connect_timeout_s > 0 ? cfg->connect_timeout_s : 10;
    b->idle_s = cfg->idle_timeout_s > 0 ? cfg->idle_timeout_s : HTTP_BACKEND_DEFAULT_IDLE_S;
    b->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : HTTP_BACKEND_DEFAULT_ATTEMPTS;
    b->backoff_s = cfg->backoff_s > 0 ? cfg->backoff_s : 1;
    b->backoff_max_s =
        cfg->backoff_max_s > 0 ? cfg->backoff_max_s : HTTP_BACKEND_DEFAULT_BACKOFF_MAX_S;
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != 0)
        return lrc_errorf(err, "http backend: curl_global_init failed; libcurl could not "
                               "initialise, check its installation");
    return 0;
}

void http_backend_redact_url(const char *url, char *dst, size_t cap) {
    if (!cap)
        return;
    const char *scheme_end = strstr(url, "://");
    const char *host = scheme_end ? scheme_end + 3 : url;
    const char *host_end = host + strcspn(host, "/?#");
    const char *after = host;
    for (const char *p = host; p < host_end; p++)
        if (*p == '@')
            after = p + 1;
    size_t path_len = strcspn(after, "?#");
    snprintf(dst, cap, "%.*s%.*s%s", (int)(host - url), url, (int)path_len, after,
             after[path_len] ? "?..." : "");
}

int http_backend_check_url(const char *url, lrc_error *err) {
    char shown[512];
    http_backend_redact_url(url, shown, sizeof shown);
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return lrc_errorf(err,
                              "--endpoint '%s': the URL holds white space or a control byte at "
                              "offset %zu; expected a URL such as http://127.0.0.1:8080",
                              shown, (size_t)(p - url));

    const char *rest = NULL;
    if (strncasecmp(url, "http://", 7) == 0)
        rest = url + 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        rest = url + 8;
    if (!rest)
        return lrc_errorf(err,
                          "--endpoint '%s': expected an http:// or https:// URL such as "
                          "http://127.0.0.1:8080",
                          shown);

    /* The host runs to the first '/', '?' or '#', after any user:password@. */
    const char *host_end = rest + strcspn(rest, "/?#");
    const char *host = rest;
    for (const char *p = rest; p < host_end; p++)
        if (*p == '@')
            host = p + 1;
    if (host == host_end || *host == ':')
        return lrc_errorf(err,
                          "--endpoint '%s': the URL has no host; expected a URL such as "
                          "http://127.0.0.1:8080",
                          shown);
    if (strchr(url, '#'))
        return lrc_errorf(err, "--endpoint '%s': the URL has a #fragment; leave it out", shown);

    /* The port follows the last ':' of the host part (after any [IPv6]). */
    const char *v6_end = NULL;
    if (*host == '[') {
        v6_end = memchr(host, ']', (size_t)(host_end - host));
        if (!v6_end)
            return lrc_errorf(err, "--endpoint '%s': the IPv6 address has no closing ']'", shown);
    }
    const char *colon = NULL;
    for (const char *p = v6_end ? v6_end : host; p < host_end; p++)
        if (*p == ':')
            colon = p;
    if (colon) {
        long port = 0;
        const char *p = colon + 1;
        int digits = 0;
        for (; p < host_end && *p >= '0' && *p <= '9' && port <= 65535; p++, digits++)
            port = port * 10 + (*p - '0');
        if (!digits || p != host_end || port < 1 || port > 65535)
            return lrc_errorf(err, "--endpoint '%s': port '%.*s' is not a number from 1 to 65535",
                              shown, (int)(host_end - colon - 1), colon + 1);
    }
    return 0;
}

int http_backend_check_key(const char *key, const char *source, lrc_error *err) {
    for (const char *p = key; p && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return lrc_errorf(err,
                              "the API key from %s has a control byte at offset %zu (a line "
                              "break, say); set it to the key alone",
                              source, (size_t)(p - key));
    return 0;
}

static struct curl_slist *make_headers(const backend *b) {
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *t = h ? curl_slist_append(h, "Accept: text/event-stream") : NULL;
    if (!t)
        goto fail;
    h = t;
    t = curl_slist_append(h, "Expect:");
    if (!t)
        goto fail;
    h = t;
    if (b->key) {
        size_t n = strlen(b->key) + 32;
        char *line = malloc(n);
        if (!line)
            goto fail;
        snprintf(line, n, "Authorization: Bearer %s", b->key);
        t = curl_slist_append(h, line);
        memset(line, 0, n);
        free(line);
        if (!t)
            goto fail;
        h = t;
    }
    return h;
fail:
    curl_slist_free_all(h);
    return NULL;
}

static void free_headers(struct curl_slist *h) {
    for (struct curl_slist *p = h; p; p = p->next)
        memset(p->data, 0, strlen(p->data));
    curl_slist_free_all(h);
}

int http_backend_run_many(const http_backend_config *cfg, const http_request *reqs, size_t n,
                          size_t parallel, http_result *results, lrc_error *err) {
    backend b;
    for (size_t i = 0; i < n; i++)
        memset(&results[i], 0, sizeof results[i]);
    if (setup_backend(&b, cfg, err) != 0)
        return -1;
    if (parallel < 1)
        parallel = 1;
    job *jobs = calloc(n ? n : 1, sizeof *jobs);
    job_ctx *cxs = calloc(n ? n : 1, sizeof *cxs);
    CURLM *multi = curl_multi_init();
    int rc = 0;
    if (!jobs || !cxs || !multi) {
        rc = lrc_errorf(err, "http backend: out of memory setting up %zu requests", n);
        goto out;
    }
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        job *j = &jobs[i];
        j->req = &reqs[i];
        j->res = &results[i];
        j->state = JOB_WAITING;
        j->ready_at = t0;
        j->cancel_all = cfg->cancel;
        cxs[i].b = &b;
        cxs[i].j = j;
        j->body = build_body(&b, j->req);
        j->headers = make_headers(&b);
        if (!j->body || !j->headers) {
            job_fail(&b, j, "%s: out of memory building request %zu", b.shown, i);
            j->state = JOB_DONE;
        }
    }
    size_t remaining = 0, running = 0;
    for (size_t i = 0; i < n; i++)
        remaining += jobs[i].state != JOB_DONE;
    while (remaining) {
        double t = now_s(), next = -1;
        for (size_t i = 0; i < n && running < parallel; i++) {
            job *j = &jobs[i];
            if (j->state != JOB_WAITING)
                continue;
            if (is_cancelled(j)) {
                job_fail(&b, j, "cancelled");
                j->state = JOB_DONE;
                remaining--;
                continue;
            }
            if (j->ready_at <= t) {
                if (job_start(&b, j, &cxs[i], multi) == 0) {
                    running++;
                } else {
                    j->state = JOB_DONE;
                    remaining--;
                }
            }
        }
        for (size_t i = 0; i < n; i++)
            if (jobs[i].state == JOB_WAITING && (next < 0 || jobs[i].ready_at < next))
                next = jobs[i].ready_at;
        int still = 0;
        curl_multi_perform(multi, &still);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            job_ctx *cx = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&cx);
            CURLcode cc = msg->data.result;
            job *j = cx->j;
            curl_multi_remove_handle(multi, j->easy);
            running--;
            int r = job_finish(&b, j, cc);
            if (r == 1) {
                j->state = JOB_WAITING;
                if (next < 0 || j->ready_at < next)
                    next = j->ready_at;
            } else {
                j->state = JOB_DONE;
                j->res->seconds = now_s() - j->started;
                remaining--;
            }
        }
        if (!remaining)
            break;
        /* Wake up at most every 200 ms, or sooner when a retry is due. */
        int wait_ms = 200;
        if (next >= 0 && running < parallel) {
            double d = (next - now_s()) * 1000;
            if (d < 0)
                wait_ms = 0;
            else if (d < 200)
                wait_ms = (int)d + 1;
        }
        if (running)
            curl_multi_poll(multi, NULL, 0, wait_ms, NULL);
        else if (wait_ms > 0) {
            struct timespec ts = {wait_ms / 1000, (long)(wait_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (results[i].failed && rc == 0) {
            lrc_errorf(err, "request %zu of %zu: %s", i + 1, n, results[i].err.msg);
            rc = -1;
        }
    }
out:
    for (size_t i = 0; jobs && i < n; i++) {
        job *j = &jobs[i];
        if (j->easy) {
            if (j->state == JOB_RUNNING)
                curl_multi_remove_handle(multi, j->easy);
            curl_easy_cleanup(j->easy);
        }
        free_headers(j->headers);
        cJSON_free(j->body);
        free(j->line);
        free(j->data);
    }
    free(jobs);
    free(cxs);
    if (multi)
        curl_multi_cleanup(multi);
    return rc;
}

int http_backend_chat(const http_backend_config *cfg, const http_request *req, http_result *res,
                      lrc_error *err) {
    if (http_backend_run_many(cfg, req, 1, 1, res, err) != 0) {
        if (res->failed && err)
            snprintf(err->msg, sizeof err->msg, "%s", res->err.msg);
        return -1;
    }
    return 0;
}

void http_result_free(http_result *res) {
    if (!res)
        return;
    free(res->text);
    res->text = NULL;
    res->len = 0;
}
