/*
 * Text generation backends for the reasoning engine. A backend turns a chat
 * request (an optional system message and one user message) into streamed
 * text. Two exist: "http" talks to an OpenAI-compatible server
 * (http_backend.h) and may run several requests at once; "local" runs a model
 * loaded from disk with its chat template, and runs several requests one
 * after another, computing the key/value cache of their common token prefix
 * once.
 *
 * The pipeline (prcot.h) hands a backend every request of a stage in one
 * call: the reflections are independent of each other, so the backend may
 * run them concurrently (http) or share their prefix (local).
 */
#ifndef LRC_REASON_BACKEND_H
#define LRC_REASON_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Callback that receives each streamed piece of text (not NUL-terminated).
 * Return 0 to go on. A nonzero return requests that the backend stop this
 * request early, and the request then ends with the error "cancelled". Backends that cannot stop a
 * transfer at once (http) stop delivering text and end the request as soon as they can. */
typedef int (*reason_token_fn)(const char *text, size_t len, void *user);

typedef struct reason_request {
    const char *system;       /* system message, or NULL for none */
    const char *user;         /* the user message: a rendered template */
    reason_token_fn on_token; /* may be NULL */
    void *user_data;          /* passed to on_token */
} reason_request;

typedef struct reason_output {
    char *text;     /* generated text, NUL-terminated, malloc'd ("" when none) */
    size_t len;     /* strlen(text) */
    int n_tokens;   /* tokens generated (local) or streamed pieces (http) */
    int truncated;  /* 1 when max_tokens or the context ended the text */
    double seconds; /* wall time of this request */
    int failed;     /* 1 when err contains this request's error */
    lrc_error err;
} reason_output;

/* Sampling settings shared by both backends. */
typedef struct reason_sampling {
    double temperature; /* 0: greedy */
    double top_p;       /* (0, 1]; 1 keeps every token */
    int max_tokens;     /* per request; 0: the backend's default (512) */
    uint64_t seed;      /* local backend only */
} reason_sampling;

typedef struct reason_backend reason_backend;

struct reason_backend {
    const char *kind; /* "local" or "http" */
    char *label;      /* model that generates: a path or "NAME at URL", malloc'd */
    void *impl;
    /* Run n independent requests; outs[i] belongs to reqs[i] and is filled
     * even when another request fails. Returns 0 when all succeeded, else -1
     * with err naming the first failure. */
    int (*generate_many)(reason_backend *b, const reason_request *reqs, size_t n,
                         reason_output *outs, lrc_error *err);
    void (*destroy)(reason_backend *b);
};

/* One request: generate_many with n = 1. */
int reason_generate(reason_backend *b, const reason_request *req, reason_output *out,
                    lrc_error *err);

/* Free the backend and everything it owns; NULL is fine. */
void reason_backend_free(reason_backend *b);

void reason_output_free(reason_output *o);

#endif
