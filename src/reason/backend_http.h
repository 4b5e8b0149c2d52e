/*
 * The "http" generation backend (backend.h) over an OpenAI-compatible chat
 * endpoint (http_backend.h). One generate_many call becomes one
 * http_backend_run_many call, so the requests of a stage run concurrently,
 * at most `parallel` at a time.
 */
#ifndef LRC_REASON_BACKEND_HTTP_H
#define LRC_REASON_BACKEND_HTTP_H

#include <stddef.h>

#include "core/error.h"
#include "reason/backend.h"
#include "reason/http_backend.h"

/* Open a backend over the endpoint in cfg. The backend keeps its own copies
 * of cfg's strings, so cfg may go after the call. Sampling: temperature and
 * top_p are sent with every request, max_tokens as given or 512 when 0; the
 * seed is not sent. A reply that ended with finish_reason "length" is marked
 * truncated. The label is "MODEL at URL" with any user:password@ part and
 * query string of the URL left out. The URL and the API key (from cfg or the
 * environment) are checked here (http_backend_check_url, _check_key), so a
 * bad one fails before any request. cfg's cancel flag, on_retry and
 * retry_user pointers are kept as given. parallel 0 counts as 1. */
int reason_backend_http_open(const http_backend_config *cfg, size_t parallel,
                             const reason_sampling *s, reason_backend **out, lrc_error *err);

#endif
