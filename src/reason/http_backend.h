/*
 * OpenAI-compatible chat backend over libcurl.
 *
 * Each request is `POST {base}/v1/chat/completions` with `stream: true`. The
 * reply is read as server-sent events, parsed line by line as bytes arrive.
 * Every piece of choices[0].delta.content goes to the request's callback and
 * into its result. All requests, one or many, run through one curl multi
 * loop that keeps at most `parallel` transfers in flight.
 *
 * Retries: a 429 or 5xx status is retried with exponential backoff (or after
 * the server's Retry-After seconds, capped at backoff_max_s) up to
 * max_attempts attempts; on_retry hears of each wait before it starts. Nothing else
 * is retried: a stream that breaks after tokens reached the callback cannot be
 * replayed without the caller seeing text twice, so a disconnect mid-stream,
 * a stalled stream or a malformed event is an error.
 *
 * The API key comes from the config or else from LRC_API_KEY, then
 * OPENAI_API_KEY; it is sent only as `Authorization: Bearer KEY` and never
 * copied into an error message or result. A key containing a control byte
 * (which would end the header line early) is rejected. Error messages show
 * the URL without its user:password@ part and without its query string.
 *
 * Cancelling: once the request's own cancel flag or the config's cancel
 * flag is nonzero, a request stops within about a second. A running
 * transfer checks at each stream line and at each libcurl progress callback
 * (about once a second, also while connecting), and a request waiting for a
 * retry checks at each wake-up (at most 200 ms apart).
 */
#ifndef LRC_REASON_HTTP_BACKEND_H
#define LRC_REASON_HTTP_BACKEND_H

#include <signal.h>
#include <stddef.h>

#include "core/error.h"

/* Callback receiving each streamed piece of text (not NUL-terminated). */
typedef void (*http_token_fn)(const char *text, size_t len, void *user);

typedef struct http_message {
    const char *role; /* "system", "user" or "assistant" */
    const char *content;
} http_message;

/* What on_retry hears before a retry wait. */
typedef struct http_retry_info {
    const char *url; /* the request URL as shown in errors (no password, no query) */
    long status;     /* the HTTP status that is retried (429 or 5xx) */
    int attempt;     /* the attempt that failed, from 1 */
    int max_attempts;
    double wait_s;        /* the wait before the next attempt */
    double retry_after_s; /* the server's Retry-After seconds, or < 0 when none */
} http_retry_info;

typedef struct http_backend_config {
    /* e.g. "http://127.0.0.1:8080". Requests go to the path plus
     * "/v1/chat/completions", placed before any query string. A path ending in
     * /v1 gets only "/chat/completions", and one ending in /v1/chat/completions
     * is used as it is. See http_backend_check_url. */
    const char *base_url;
    const char *model;        /* model name sent in every request */
    const char *api_key;      /* NULL: LRC_API_KEY, then OPENAI_API_KEY, else no header */
    double connect_timeout_s; /* 0: 10 s */
    double idle_timeout_s;    /* no bytes for this long ends the transfer; 0: 60 s */
    int max_attempts;         /* tries per request for 429/5xx; 0: 4 */
    double backoff_s;         /* first retry delay, doubled each time; 0: 1 s */
    double backoff_max_s;     /* cap on one delay (also on Retry-After); 0: 30 s */
    /* May be NULL. Once nonzero, every request stops as described at the
     * top and fails with the error "cancelled" (a SIGINT handler sets it). */
    const volatile sig_atomic_t *cancel;
    /* May be NULL. Called on the calling thread before each retry wait. */
    void (*on_retry)(const http_retry_info *info, void *user);
    void *retry_user;
} http_backend_config;

#define HTTP_BACKEND_DEFAULT_ATTEMPTS 4
#define HTTP_BACKEND_DEFAULT_BACKOFF_MAX_S 30.0
#define HTTP_BACKEND_DEFAULT_IDLE_S 60.0

typedef struct http_request {
    const http_message *messages; /* [n_messages] */
    size_t n_messages;
    double temperature;      /* < 0: not sent */
    double top_p;            /* <= 0: not sent */
    int max_tokens;          /* <= 0: not sent */
    const char *const *stop; /* [n_stop] stop strings, or NULL */
    size_t n_stop;
    http_token_fn on_token; /* may be NULL */
    void *user;
    /* May be NULL. Once *cancel is nonzero (set from on_token, say), the
     * request stops at its next stream line or libcurl progress callback,
     * which libcurl calls about once a second while idle. It then fails with
     * the error "cancelled" and is not retried. */
    const volatile int *cancel;
} http_request;

typedef struct http_result {
    char *text; /* assembled reply, NUL-terminated, malloc'd (NULL until a token) */
    size_t len;
    int attempts;   /* HTTP attempts made */
    long status;    /* last HTTP status, 0 if none */
    double seconds; /* wall time from the first attempt to the end */
    /* choices[0].finish_reason of the last event that had one ("stop",
     * "length", ...), or "" when the server sent none */
    char finish_reason[16];
    int failed; /* 1 when err contains this request's error */
    lrc_error err;
} http_result;

/* Run one request. Returns 0, or -1 with err set (also copied into res->err). */
int http_backend_chat(const http_backend_config *cfg, const http_request *req, http_result *res,
                      lrc_error *err);

/* Run n independent requests with at most `parallel` (>= 1) in flight; results[i]
 * belongs to reqs[i]. Returns 0 when all succeeded, else -1 with err naming the
 * first failed request (each result keeps its own error). */
int http_backend_run_many(const http_backend_config *cfg, const http_request *reqs, size_t n,
                          size_t parallel, http_result *results, lrc_error *err);

void http_result_free(http_result *res);

/* Check an endpoint URL: http:// or https://, a host, a port from 1 to 65535
 * when one is given, no white space or control byte and no #fragment.
 * Returns 0, or -1 with err quoting the URL as http_backend_redact_url shows
 * it. */
int http_backend_check_url(const char *url, lrc_error *err);

/* Copy url into dst (cap bytes, truncated) without its user:password@ part
 * and without its query string (shown as "?..."), for messages and labels. */
void http_backend_redact_url(const char *url, char *dst, size_t cap);

/* Check an API key (NULL or "" is fine). Returns -1 with err when the key
 * contains a control byte. err names source (such as "LRC_API_KEY") and the
 * byte's offset, never the key. */
int http_backend_check_key(const char *key, const char *source, lrc_error *err);

/* Release libcurl's global state at program exit (optional). */
void http_backend_cleanup(void);

#endif
