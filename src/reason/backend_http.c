/*
 * The "http" backend: an adapter from the backend interface (backend.h) to
 * the curl multi client (http_backend.h). Each generate_many call builds one
 * chat request per reason_request (an optional system message, then the user
 * message) and hands them all to http_backend_run_many, which keeps at most
 * `parallel` in flight. Token callbacks pass through a relay that counts the
 * streamed pieces and turns a nonzero return into the request's cancel flag.
 */
#define _POSIX_C_SOURCE 200809L
#include "reason/backend_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_MAX_TOKENS 512

typedef struct http_impl {
    http_backend_config cfg; /* its strings point at the copies below */
    char *base_url, *model, *api_key;
    size_t parallel;
    reason_sampling sampling;
} http_impl;

/* Per-request state seen by the token callback. */
typedef struct token_relay {
    const reason_request *req;
    volatile int cancel; /* read by the client as http_request.cancel */
    int pieces;
} token_relay;

static void relay_token(const char *text, size_t len, void *user) {
    token_relay *r = user;
    r->pieces++;
    if (r->cancel || !r->req->on_token)
        return;
    if (r->req->on_token(text, len, r->req->user_data) != 0)
        r->cancel = 1;
}

/* "MODEL at URL" without the user:password@ part or query of the URL. */
static char *make_label(const char *model, const char *url) {
    char shown[2048];
    http_backend_redact_url(url, shown, sizeof shown);
    size_t n = strlen(model) + strlen(shown) + 8;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s at %s", model, shown);
    return s;
}

static int http_generate_many(reason_backend *b, const reason_request *reqs, size_t n,
                              reason_output *outs, lrc_error *err) {
    http_impl *im = b->impl;
    for (size_t i = 0; i < n; i++)
        memset(&outs[i], 0, sizeof outs[i]);
    if (n == 0)
        return 0;

    http_message *msgs = calloc(2 * n, sizeof *msgs);
    http_request *hreqs = calloc(n, sizeof *hreqs);
    http_result *res = calloc(n, sizeof *res);
    token_relay *relays = calloc(n, sizeof *relays);
    int rc = 0;
    if (!msgs || !hreqs || !res || !relays) {
        rc = lrc_errorf(err, "http backend: out of memory preparing %zu requests", n);
        for (size_t i = 0; i < n; i++) {
            outs[i].failed = 1;
            snprintf(outs[i].err.msg, sizeof outs[i].err.msg, "%s", "out of memory");
        }
        goto out;
    }

    const reason_sampling *s = &im->sampling;
    for (size_t i = 0; i < n; i++) {
        http_message *m = &msgs[2 * i];
        size_t k = 0;
        if (reqs[i].system)
            m[k++] = (http_message){"system", reqs[i].system};
        m[k++] = (http_message){"user", reqs[i].user ? reqs[i].user : ""};
        relays[i].req = &reqs[i];
        hreqs[i].messages = m;
        hreqs[i].n_messages = k;
        hreqs[i].temperature = s->temperature;
        hreqs[i].top_p = s->top_p;
        hreqs[i].max_tokens = s->max_tokens > 0 ? s->max_tokens : DEFAULT_MAX_TOKENS;
        hreqs[i].on_token = relay_token;
        hreqs[i].user = &relays[i];
        hreqs[i].cancel = &relays[i].cancel;
    }

    rc = http_backend_run_many(&im->cfg, hreqs, n, im->parallel, res, err);

    for (size_t i = 0; i < n; i++) {
        reason_output *o = &outs[i];
        o->text = res[i].text ? res[i].text : strdup("");
        res[i].text = NULL;
        o->len = o->text ? strlen(o->text) : 0;
        o->n_tokens = relays[i].pieces;
        o->truncated = strcmp(res[i].finish_reason, "length") == 0;
        o->seconds = res[i].seconds;
        o->failed = res[i].failed;
        o->err = res[i].err;
        if (!o->text) {
            o->failed = 1;
            snprintf(o->err.msg, sizeof o->err.msg, "%s", "out of memory");
            if (rc == 0)
                rc = lrc_errorf(err, "http backend: out of memory storing reply %zu", i + 1);
        }
    }

out:
    free(msgs);
    free(hreqs);
    free(res);
    free(relays);
    return rc;
}

static void http_destroy(reason_backend *b) {
    http_impl *im = b->impl;
    if (im) {
        if (im->api_key) {
            memset(im->api_key, 0, strlen(im->api_key));
            free(im->api_key);
        }
        free(im->base_url);
        free(im->model);
        free(im);
    }
    free(b->label);
    free(b);
}

int reason_backend_http_open(const http_backend_config *cfg, size_t parallel,
                             const reason_sampling *s, reason_backend **out, lrc_error *err) {
    *out = NULL;
    if (!cfg->base_url || !cfg->base_url[0])
        return lrc_errorf(err, "http backend: no endpoint URL; pass --endpoint URL");
    if (http_backend_check_url(cfg->base_url, err) != 0)
        return -1;
    if (!cfg->model || !cfg->model[0])
        return lrc_errorf(err, "--endpoint: no model name; pass --model-name NAME (one the "
                               "server lists at /v1/models)");
    if (cfg->api_key && cfg->api_key[0]) {
        if (http_backend_check_key(cfg->api_key, "the config", err) != 0)
            return -1;
    } else {
        const char *k = getenv("LRC_API_KEY");
        if (k && k[0]) {
            if (http_backend_check_key(k, "LRC_API_KEY", err) != 0)
                return -1;
        } else if (http_backend_check_key(getenv("OPENAI_API_KEY"), "OPENAI_API_KEY", err) != 0) {
            return -1;
        }
    }

    reason_backend *b = calloc(1, sizeof *b);
    http_impl *im = calloc(1, sizeof *im);
    if (!b || !im) {
        free(b);
        free(im);
        return lrc_errorf(err, "http backend: out of memory");
    }
    b->kind = "http";
    b->impl = im;
    b->generate_many = http_generate_many;
    b->destroy = http_destroy;
    im->cfg = *cfg;
    im->parallel = parallel ? parallel : 1;
    im->sampling = *s;
    im->base_url = strdup(cfg->base_url);
    im->model = strdup(cfg->model);
    im->api_key = cfg->api_key ? strdup(cfg->api_key) : NULL;
    b->label = make_label(cfg->model, cfg->base_url);
    if (!im->base_url || !im->model || (cfg->api_key && !im->api_key) || !b->label) {
        http_destroy(b);
        return lrc_errorf(err, "http backend: out of memory");
    }
    im->cfg.base_url = im->base_url;
    im->cfg.model = im->model;
    im->cfg.api_key = im->api_key;
    *out = b;
    return 0;
}
