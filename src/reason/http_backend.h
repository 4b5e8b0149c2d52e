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
 * the server's Retry-After seconds) up to max_attempts attempts. Nothing else
 * is retried: a stream that breaks after tokens reached the callback cannot be
 * replayed without the caller seeing text twice, so a disconnect mid-stream,
 * a stalled stream or a malformed event is an error.
 *
 * The API key comes from the config or else from LRC_API_KEY, then
 * OPENAI_API_KEY; it is sent only as `Authorization: Bearer KEY` and never
 * copied into an error message or result.
 */
#ifndef LRC_REASON_HTTP_BACKEND_H
#define LRC_REASON_HTTP_BACKEND_H

#include <stddef.h>

#include "core/error.h"

/* Callback receiving each streamed piece of text (not NUL-terminated). */
typedef void (*http_token_fn)(const char *text, size_t len, void *user);

typedef struct http_message {
    const char *role; /* "system", "user" or "assistant" */
    const char *content;
} http_message;

typedef struct http_backend_config {
    const char *base_url;     /* e.g. "http://127.0.0.1:8080" (a trailing /v1 is accepted) */
    const char *model;        /* model name sent in every request */
    const char *api_key;      /* NULL: LRC_API_KEY, then OPENAI_API_KEY, else no header */
    double connect_timeout_s; /* 0: 10 s */
    double idle_timeout_s;    /* no bytes for this long ends the transfer; 0: 60 s */
    int max_attempts;         /* tries per request for 429/5xx; 0: 4 */
    double backoff_s;         /* first retry delay, doubled each time; 0: 1 s */
    /* NOTE: Retry-After is honoured only in its seconds form; an HTTP date falls
     * back to the backoff. */
    double backoff_max_s; /* cap on one delay (also on Retry-After); 0: 30 s */
} http_backend_config;

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

/* Release libcurl's global state at program exit (optional). */
void http_backend_cleanup(void);

#endif
