/*
 * The HTTP side of the Hub client, internal to src/hub. A pull uses one
 * libcurl easy handle. Requests are retried with backoff on HTTP 429 and 5xx
 * and on dropped, refused or stalled connections. Redirects are followed by
 * hand, so the Authorization header goes only to the endpoint's own origin.
 */
#ifndef LRC_HUB_HTTP_H
#define LRC_HUB_HTTP_H

#include <stdint.h>
#include <stdio.h>

#include <curl/curl.h>

#include "hub/hub.h"
#include "hub/sha256.h"

/* The status line and headers of one response. */
typedef struct hub_response {
    long status;
    char etag[129];         /* ETag, with W/ and quotes removed */
    char linked_etag[129];  /* X-Linked-Etag: the SHA-256 of an LFS file */
    char commit[64];        /* X-Repo-Commit */
    char error_code[64];    /* X-Error-Code (RepoNotFound, RevisionNotFound, GatedRepo, ...) */
    char location[2048];    /* the absolute redirect target of a 3xx */
    int64_t content_length; /* -1 when absent */
    int64_t linked_size;    /* X-Linked-Size, -1 when absent */
    int64_t range_start;    /* first byte of a 206's Content-Range, -1 when absent */
    double retry_after;     /* Retry-After in seconds (either form), -1 when absent */
} hub_response;

typedef struct hub_http {
    CURL *curl;
    char endpoint[1024];       /* without a trailing '/' */
    char shown_endpoint[1024]; /* endpoint without user:password, for messages */
    char auth[4096];           /* "Authorization: Bearer ..." or "" */
    double connect_s, idle_s, backoff_s;
    int max_retries;
    const atomic_int *cancel;
    hub_log_fn log;
    void *user;
    bool cancelled;  /* the last call stopped because of *cancel */
    int write_errno; /* errno when the last download failed writing to disk, else 0 */
} hub_http;

/* A download target: bytes are appended to f (already holding `have` bytes,
 * hashed into sha when sha is not NULL) and on_bytes is called as they arrive. */
typedef struct hub_sink {
    FILE *f;
    uint64_t have;
    sha256_ctx *sha;
    void (*on_bytes)(struct hub_sink *s, uint64_t have, uint64_t total);
    void *user;
} hub_sink;

int hub_http_open(hub_http *h, const hub_pull_options *o, const char *endpoint, const char *token,
                  lrc_error *err);
void hub_http_close(hub_http *h);

/* GET url into a NUL-terminated buffer of at most max bytes (the caller
 * frees *body). Retries transient failures. Returns 0 with r->status set for
 * any final status, -1 on a transport failure or cancel. */
int hub_http_get(hub_http *h, const char *url, char **body, size_t max, hub_response *r,
                 lrc_error *err);

/* HEAD url. A redirect to the endpoint's own origin (a renamed repository)
 * is followed. One to another host (an LFS file) is not, and r->location is
 * its target. */
int hub_http_head(hub_http *h, const char *url, hub_response *r, lrc_error *err);

/* GET url into s, following redirects and resuming with Range from s->have
 * after a dropped connection. Returns 0 when the body arrived with status 200
 * or 206, -1 with a message otherwise (r->status is the last HTTP status). */
int hub_http_download(hub_http *h, const char *url, hub_sink *s, hub_response *r, lrc_error *err);

/* Append src to dst percent-encoded, keeping unreserved characters and, when
 * keep_slash, '/'. Returns -1 when dst (cap bytes) is too small. */
int hub_url_escape(char *dst, size_t cap, const char *src, int keep_slash);

#endif
