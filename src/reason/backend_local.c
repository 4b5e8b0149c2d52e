/*
 * The local backend (backend_local.h). One llama_state, sized to max_ctx
 * when the backend opens, serves every request, so a request allocates only
 * its token list, text, sampler and stream decoder.
 *
 * A generate_many call first renders and tokenizes every prompt. With
 * share_prefix on and two or more prompts, it runs positions 0..P-1 of the
 * longest common token prefix once. P stays below the shortest prompt's
 * length, so every request runs at least its last prompt token itself and
 * gets that token's logits. P is also cut down to a multiple of
 * REASON_LOCAL_BLOCK, the state's max_batch. llama_forward splits a call
 * into blocks counted from its first position, so every prompt runs in the
 * same aligned blocks with and without sharing and gets bit-identical
 * logits. Each request then runs its remaining prompt tokens from position
 * P and generates. The next request overwrites its cache rows from P on,
 * but no request of the call writes rows 0..P-1 again.
 *
 * Output text goes through the tokenizer's stream decoder, which holds back
 * incomplete UTF-8, and then through a stop-string filter. The filter holds
 * back any tail of the text that could be the start of a stop string, so the
 * caller never sees a stop string or a part of one.
 */
#define _POSIX_C_SOURCE 200809L

#include "reason/backend_local.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/forward.h"
#include "model/sampler.h"

#define LOCAL_DEFAULT_MAX_TOKENS 512
#define LOCAL_MAX_CTX_CAP 4096
#define LOCAL_MAX_STOP_IDS 24

typedef struct local_impl {
    const llama_model *model;
    const tokenizer *tok;
    const chat_template *ct;
    reason_local_options opt;
    int max_ctx;

    /* Objects loaded by open and freed with the backend; NULL after wrap,
     * which borrows the caller's. */
    llama_model *own_model;
    tokenizer *own_tok;
    chat_template *own_ct;

    llama_state state;
    float *logits; /* (V) */

    /* Token ids that end a request without being decoded: the config's
     * eos_token_id list, the tokenizer's EOS, and each stop string or EOS
     * text that is a single token of the vocabulary. */
    int32_t stop_ids[LOCAL_MAX_STOP_IDS];
    int n_stop_ids;

    reason_local_stats stats;
} local_impl;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the text of one request, with the stop-string filter ------------- */

typedef struct request_text {
    char *s;
    size_t len, cap;
    size_t emitted; /* bytes of s already passed to on_token */
} request_text;

static int text_append(request_text *t, const char *piece, size_t n) {
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *s = realloc(t->s, cap);
        if (!s)
            return -1;
        t->s = s;
        t->cap = cap;
    }
    memcpy(t->s + t->len, piece, n);
    t->len += n;
    t->s[t->len] = '\0';
    return 0;
}

/* Offset of the first occurrence of needle in hay[from..len), or -1. Works
 * on bytes, because decoded text may contain U+0000. */
static long find_bytes(const char *hay, size_t len, size_t from, const char *needle) {
    size_t n = strlen(needle);
    if (n == 0 || len < n)
        return -1;
    for (size_t i = from; i + n <= len; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
            return (long)i;
    return -1;
}

/* Earliest start of a stop string in t->s at or after t->emitted, or -1.
 * Emitted text never ends with the start of a stop string (the filter held
 * it back), so no stop string can begin before t->emitted. */
static long find_stop(const request_text *t, const char *const *stops) {
    long best = -1;
    for (size_t k = 0; stops[k]; k++) {
        long at = find_bytes(t->s, t->len, t->emitted, stops[k]);
        if (at >= 0 && (best < 0 || at < best))
            best = at;
    }
    return best;
}

/* Length of the longest tail of t->s[t->emitted..] that is a proper prefix
 * of some stop string: the bytes to hold back until more text decides. */
static size_t stop_prefix_tail(const request_text *t, const char *const *stops) {
    size_t pending = t->len - t->emitted, hold = 0;
    for (size_t k = 0; stops[k]; k++) {
        size_t n = strlen(stops[k]);
        size_t max = n - 1 < pending ? n - 1 : pending;
        for (size_t m = max; m > hold; m--)
            if (memcmp(t->s + t->len - m, stops[k], m) == 0) {
                hold = m;
                break;
            }
    }
    return hold;
}

/* Pass t->s[t->emitted..upto) to the callback. Returns 1 when the callback
 * returns nonzero (a request to stop), else 0. */
static int text_emit(request_text *t, size_t upto, const reason_request *req) {
    if (upto <= t->emitted)
        return 0;
    size_t from = t->emitted;
    t->emitted = upto;
    if (req->on_token && req->on_token(t->s + from, upto - from, req->user_data) != 0)
        return 1;
    return 0;
}

/* ---- one request -------------------------------------------------------- */

static bool is_stop_id(const local_impl *li, int32_t id) {
    for (int k = 0; k < li->n_stop_ids; k++)
        if (li->stop_ids[k] == id)
            return true;
    return false;
}

/* The seed of request i, which sampler_init scrambles. Each request has its
 * own sampler, so its tokens do not depend on the other requests of the call
 * or on prefix sharing. */
static uint64_t request_seed(uint64_t seed, size_t i) {
    return seed + (uint64_t)i * 0x9e3779b97f4a7c15ull;
}

/* Run the prompt tokens ids[start..n) at positions start.., then generate
 * into out. Positions 0..start-1 must already be in the cache. */
static int run_request(local_impl *li, const reason_request *req, size_t index, const int32_t *ids,
                       size_t n, size_t start, reason_output *out, lrc_error *err) {
    const llama_model *m = li->model;
    const reason_sampling *sp = &li->opt.sampling;
    const char *const *stops = li->ct->stops;
    int max_tokens = sp->max_tokens > 0 ? sp->max_tokens : LOCAL_DEFAULT_MAX_TOKENS;
    double top_p = sp->top_p > 0.0 ? sp->top_p : 1.0;
    request_text text = {0};
    sampler smp = {0};
    tokenizer_stream *stream = NULL;
    int rc = -1;

    if (sampler_init(&smp, m->cfg.V, (float)sp->temperature, (float)top_p,
                     request_seed(sp->seed, index), err) < 0)
        goto done;
    stream = tokenizer_stream_new(li->tok);
    if (!stream || text_append(&text, "", 0) < 0) {
        lrc_errorf(err, "%s: out of memory for a request", m->path);
        goto done;
    }

    if (llama_forward(m, &li->state, ids + start, (int)(n - start), (int)start, li->logits, false,
                      err) < 0)
        goto done;
    li->stats.prompt_evaluated += (long)(n - start);

    size_t pos = n; /* cache position of the next token */
    int generated = 0;
    bool cancelled = false;
    for (;;) {
        if (!sampler_logits_finite(li->logits, (size_t)m->cfg.V)) {
            lrc_errorf(err,
                       "%s: the logits at position %zu are not finite (NaN or infinity); "
                       "check the checkpoint for NaN or infinite weights",
                       m->path, pos - 1);
            goto done;
        }
        int32_t next = sampler_sample(&smp, li->logits);
        if (is_stop_id(li, next))
            break;
        generated++;
        li->stats.generated++;

        char *piece = NULL;
        size_t piece_len = 0;
        if (tokenizer_stream_push_len(stream, next, &piece, &piece_len, err) < 0) {
            free(piece);
            goto done;
        }
        int oom = piece && text_append(&text, piece, piece_len) < 0;
        free(piece);
        if (oom) {
            lrc_errorf(err, "%s: out of memory for the generated text", m->path);
            goto done;
        }

        long stop_at = find_stop(&text, stops);
        if (stop_at >= 0) {
            text.len = (size_t)stop_at;
            text.s[text.len] = '\0';
            cancelled = text_emit(&text, text.len, req);
            break;
        }
        if (text_emit(&text, text.len - stop_prefix_tail(&text, stops), req)) {
            cancelled = true;
            break;
        }

        /* The prompt and the generated tokens together fill at most max_ctx
         * positions; the last token needs no position of its own. */
        if (generated >= max_tokens || n + (size_t)generated >= (size_t)li->max_ctx) {
            out->truncated = 1;
            break;
        }
        if (llama_forward(m, &li->state, &next, 1, (int)pos, li->logits, false, err) < 0)
            goto done;
        pos++;
    }

    /* A held-back tail that did not grow into a stop string is text. */
    if (!cancelled && text_emit(&text, text.len, req))
        cancelled = true;
    out->n_tokens = generated;
    if (cancelled) {
        lrc_errorf(err, "cancelled");
        goto done;
    }
    rc = 0;

done:
    /* The caller sees exactly the text streamed so far when a request ends
     * early, and all of it otherwise. */
    if (text.s && rc < 0) {
        text.len = text.emitted;
        text.s[text.len] = '\0';
    }
    out->text = text.s;
    out->len = text.s ? text.len : 0;
    if (!out->text) {
        out->text = calloc(1, 1);
        out->len = 0;
    }
    tokenizer_stream_free(stream);
    sampler_free(&smp);
    return rc;
}

/* ---- generate_many ---------------------------------------------------- */

/* Render and tokenize one request's prompt into *ids. */
static int tokenize_request(const local_impl *li, const reason_request *req, int32_t **ids,
                            size_t *n, lrc_error *err) {
    char *prompt = NULL;
    int bos_in_text = 0;
    *ids = NULL;
    *n = 0;
    if (!req->user)
        return lrc_errorf(err, "local backend: the request has no user message; give one");
    if (chat_template_render(li->ct, req->system, req->user, &prompt, &bos_in_text, err) < 0)
        return -1;
    int rc = tokenizer_encode(li->tok, prompt, strlen(prompt), !bos_in_text, ids, n, err);
    free(prompt);
    if (rc < 0)
        return lrc_error_prefix(err, "%s: the prompt", li->model->path);
    if (*n == 0)
        return lrc_errorf(err, "%s: the prompt encodes to no tokens; give a non-empty message",
                          li->model->path);
    if (*n >= (size_t)li->max_ctx)
        return lrc_errorf(err,
                          "%s: the prompt has %zu tokens, which leaves no room in the model's "
                          "context of %d tokens; ask a shorter question, allow fewer tokens per "
                          "stage (the earlier stages' output is part of later prompts), use "
                          "fewer perspectives or a model with a longer context",
                          li->model->path, *n, li->max_ctx);
    return 0;
}

/* Tokens that every prompt in ids[] (those with ids[i] set) starts with,
 * kept below each prompt's length. */
static size_t common_prefix(int32_t *const *ids, const size_t *n, size_t count) {
    size_t first = count, P = 0;
    for (size_t i = 0; i < count; i++)
        if (ids[i]) {
            first = i;
            break;
        }
    if (first == count)
        return 0;
    P = n[first] - 1;
    for (size_t i = first + 1; i < count; i++) {
        if (!ids[i])
            continue;
        size_t k = 0, limit = n[i] - 1 < P ? n[i] - 1 : P;
        while (k < limit && ids[i][k] == ids[first][k])
            k++;
        P = k;
    }
    return P;
}

static int local_generate_many(reason_backend *b, const reason_request *reqs, size_t count,
                               reason_output *outs, lrc_error *err) {
    local_impl *li = b->impl;
    int32_t **ids = calloc(count ? count : 1, sizeof *ids);
    size_t *n = calloc(count ? count : 1, sizeof *n);
    int status = 0;
    if (!ids || !n) {
        free(ids);
        free(n);
        for (size_t i = 0; i < count; i++) {
            memset(&outs[i], 0, sizeof outs[i]);
            outs[i].failed = 1;
            lrc_errorf(&outs[i].err, "local backend: out of memory for %zu requests", count);
        }
        return lrc_errorf(err, "local backend: out of memory for %zu requests", count);
    }

    /* Tokenize every prompt first, so the common prefix is known. */
    size_t ready = 0;
    for (size_t i = 0; i < count; i++) {
        memset(&outs[i], 0, sizeof outs[i]);
        double t0 = now_seconds();
        if (tokenize_request(li, &reqs[i], &ids[i], &n[i], &outs[i].err) < 0) {
            free(ids[i]);
            ids[i] = NULL;
            outs[i].failed = 1;
            outs[i].text = calloc(1, 1);
        } else {
            li->stats.prompt_tokens += (long)n[i];
            ready++;
        }
        outs[i].seconds = now_seconds() - t0;
    }

    /* Run the shared prefix once; its time counts toward the first request
     * that continues from it. */
    size_t P = li->opt.share_prefix && ready >= 2 ? common_prefix(ids, n, count) : 0;
    P -= P % (size_t)li->state.max_batch;
    double prefix_seconds = 0.0;
    if (P > 0) {
        size_t first = 0;
        while (!ids[first])
            first++;
        double t0 = now_seconds();
        lrc_error perr;
        if (llama_forward(li->model, &li->state, ids[first], (int)P, 0, li->logits, false, &perr) <
            0) {
            /* Cannot happen for prompts that passed tokenize_request, but if
             * it does, every request runs its whole prompt instead. */
            P = 0;
        } else {
            li->stats.prompt_evaluated += (long)P;
        }
        prefix_seconds = now_seconds() - t0;
    }

    for (size_t i = 0; i < count; i++) {
        if (ids[i]) {
            double t0 = now_seconds();
            if (run_request(li, &reqs[i], i, ids[i], n[i], P, &outs[i], &outs[i].err) < 0)
                outs[i].failed = 1;
            outs[i].seconds += now_seconds() - t0 + prefix_seconds;
            prefix_seconds = 0.0;
        }
        if (outs[i].failed && status == 0) {
            status = -1;
            if (err)
                snprintf(err->msg, sizeof err->msg, "%s", outs[i].err.msg);
        }
        free(ids[i]);
    }
    free(ids);
    free(n);
    return status;
}

/* ---- opening and closing ---------------------------------------------- */

/* Free li and whatever it owns; li may be partly built. */
static void impl_free(local_impl *li) {
    if (!li)
        return;
    llama_state_free(&li->state);
    free(li->logits);
    if (li->own_ct) {
        chat_template_free(li->own_ct);
        free(li->own_ct);
    }
    tokenizer_free(li->own_tok);
    if (li->own_model) {
        llama_model_free(li->own_model);
        free(li->own_model);
    }
    free(li);
}

static void local_destroy(reason_backend *b) {
    impl_free(b->impl);
    free(b->label);
    free(b);
}

static void add_stop_id(local_impl *li, int id) {
    if (id < 0 || id >= li->model->cfg.V || is_stop_id(li, id) ||
        li->n_stop_ids >= LOCAL_MAX_STOP_IDS)
        return;
    li->stop_ids[li->n_stop_ids++] = id;
}

/* The id of a string that is one whole vocabulary entry, or -1. */
static int piece_id(const tokenizer *tok, const char *s) {
    return s && *s ? tokenizer_token_id(tok, s) : -1;
}

static void collect_stop_ids(local_impl *li) {
    const llama_config *c = &li->model->cfg;
    for (int k = 0; k < c->n_eos_ids && k < 8; k++)
        add_stop_id(li, c->eos_ids[k]);
    add_stop_id(li, c->eos_id);
    add_stop_id(li, tokenizer_eos_id(li->tok));
    add_stop_id(li, piece_id(li->tok, li->ct->eos));
    for (size_t k = 0; k < li->ct->n_stops; k++)
        add_stop_id(li, piece_id(li->tok, li->ct->stops[k]));
}

/* Copy the options, size the context and allocate the run state of an impl
 * whose model, tokenizer and chat template are set. */
static int impl_start(local_impl *li, const reason_local_options *opt, lrc_error *err) {
    const llama_config *c = &li->model->cfg;
    if (opt)
        li->opt = *opt;
    if (!(li->opt.sampling.temperature >= 0.0))
        return lrc_errorf(err, "local backend: temperature %g: expected a number >= 0",
                          li->opt.sampling.temperature);
    if (!(li->opt.sampling.top_p >= 0.0 && li->opt.sampling.top_p <= 1.0))
        return lrc_errorf(err, "local backend: top-p %g: expected a number in (0, 1]",
                          li->opt.sampling.top_p);
    if (li->opt.sampling.max_tokens < 0)
        return lrc_errorf(err, "local backend: max_tokens %d: expected 0 or a positive count",
                          li->opt.sampling.max_tokens);
    if (li->opt.max_ctx < 0)
        return lrc_errorf(err, "local backend: max_ctx %d: expected 0 or a positive size",
                          li->opt.max_ctx);

    int ctx = li->opt.max_ctx;
    if (ctx == 0) {
        ctx = c->max_seq > 0 ? c->max_seq : LOCAL_MAX_CTX_CAP;
        if (ctx > LOCAL_MAX_CTX_CAP)
            ctx = LOCAL_MAX_CTX_CAP;
    }
    if (ctx < 2)
        return lrc_errorf(err,
                          "local backend: max_ctx %d leaves no room for a prompt and an "
                          "answer; use at least 2",
                          ctx);
    li->max_ctx = ctx;

    int batch = ctx < REASON_LOCAL_BLOCK ? ctx : REASON_LOCAL_BLOCK;
    if (llama_state_init(&li->state, c, ctx, batch, err) < 0)
        return lrc_error_prefix(err, "%s", li->model->path);
    li->logits = malloc((size_t)c->V * sizeof *li->logits);
    if (!li->logits)
        return lrc_errorf(err, "%s: out of memory for %d logits", li->model->path, c->V);
    collect_stop_ids(li);
    return 0;
}

/* Start li and wrap it into a backend labelled label. Frees li on failure. */
static int backend_new(local_impl *li, const reason_local_options *opt, const char *label,
                       reason_backend **out, lrc_error *err) {
    if (impl_start(li, opt, err) < 0) {
        impl_free(li);
        return -1;
    }
    reason_backend *b = calloc(1, sizeof *b);
    char *copy = strdup(label);
    if (!b || !copy) {
        free(b);
        free(copy);
        impl_free(li);
        return lrc_errorf(err, "local backend: out of memory");
    }
    b->kind = "local";
    b->label = copy;
    b->impl = li;
    b->generate_many = local_generate_many;
    b->destroy = local_destroy;
    *out = b;
    return 0;
}

/* The folder holding a model's tokenizer files: model_path itself, or the
 * folder of a llama2.c .bin file. */
static void model_folder(const char *model_path, char *dir, size_t size) {
    snprintf(dir, size, "%s", model_path);
    size_t len = strlen(dir);
    if (len > 4 && strcmp(dir + len - 4, ".bin") == 0) {
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(dir, size, ".");
    }
}

/* Load the model, tokenizer and chat template that open owns into li. */
static int load_owned(local_impl *li, const char *model_path, const char *tokenizer_path,
                      lrc_error *err) {
    char dir[4096];
    model_folder(model_path, dir, sizeof dir);

    li->own_model = calloc(1, sizeof *li->own_model);
    if (!li->own_model)
        return lrc_errorf(err, "local backend: out of memory");
    if (llama_model_load(li->own_model, model_path, err) < 0) {
        free(li->own_model);
        li->own_model = NULL;
        return -1;
    }
    li->model = li->own_model;

    const char *tok_path = tokenizer_path ? tokenizer_path : dir;
    if (tokenizer_load(&li->own_tok, tok_path, err) < 0) {
        li->own_tok = NULL;
        return -1;
    }
    li->tok = li->own_tok;
    if (tokenizer_vocab_size(li->tok) > li->model->cfg.V)
        return lrc_errorf(err,
                          "%s: the tokenizer %s has %d ids but the model has vocab_size %d, so "
                          "the tokenizer belongs to another model; give the model's own",
                          model_path, tok_path, tokenizer_vocab_size(li->tok), li->model->cfg.V);

    li->own_ct = calloc(1, sizeof *li->own_ct);
    if (!li->own_ct)
        return lrc_errorf(err, "local backend: out of memory");
    if (chat_template_load(dir, li->own_ct, err) < 0) {
        free(li->own_ct);
        li->own_ct = NULL;
        return -1;
    }
    li->ct = li->own_ct;
    return 0;
}

int reason_backend_local_open(const char *model_path, const reason_local_options *opt,
                              reason_backend **out, lrc_error *err) {
    *out = NULL;
    local_impl *li = calloc(1, sizeof *li);
    if (!li)
        return lrc_errorf(err, "local backend: out of memory");
    if (load_owned(li, model_path, opt ? opt->tokenizer_path : NULL, err) < 0) {
        impl_free(li);
        return -1;
    }
    return backend_new(li, opt, model_path, out, err);
}

int reason_backend_local_wrap(const llama_model *m, const tokenizer *tok, const chat_template *ct,
                              const reason_local_options *opt, reason_backend **out,
                              lrc_error *err) {
    *out = NULL;
    local_impl *li = calloc(1, sizeof *li);
    if (!li)
        return lrc_errorf(err, "local backend: out of memory");
    li->model = m;
    li->tok = tok;
    li->ct = ct;
    if (!ct) {
        /* No template given: the plain Question/Answer form. */
        li->own_ct = calloc(1, sizeof *li->own_ct);
        if (!li->own_ct) {
            impl_free(li);
            return lrc_errorf(err, "local backend: out of memory");
        }
        if (chat_template_from_config(NULL, li->own_ct, err) < 0) {
            free(li->own_ct);
            li->own_ct = NULL;
            impl_free(li);
            return -1;
        }
        li->ct = li->own_ct;
    }
    return backend_new(li, opt, m->path[0] ? m->path : "(model in memory)", out, err);
}

reason_local_stats reason_backend_local_stats(const reason_backend *b) {
    reason_local_stats none = {0};
    if (!b || !b->kind || strcmp(b->kind, "local") != 0 || !b->impl)
        return none;
    return ((const local_impl *)b->impl)->stats;
}

static const local_impl *local_of(const reason_backend *b) {
    if (!b || !b->kind || strcmp(b->kind, "local") != 0)
        return NULL;
    return b->impl;
}

int reason_backend_local_context(const reason_backend *b) {
    const local_impl *li = local_of(b);
    return li ? li->max_ctx : 0;
}

int reason_backend_local_count(const reason_backend *b, const char *system, const char *user,
                               size_t *n, lrc_error *err) {
    const local_impl *li = local_of(b);
    *n = 0;
    if (!li)
        return lrc_errorf(err, "local backend: not a local backend; count tokens on a local one");
    reason_request req = {system, user, NULL, NULL};
    int32_t *ids = NULL;
    int rc = tokenize_request(li, &req, &ids, n, err);
    free(ids);
    if (rc < 0 && *n == 0)
        return -1;
    return 0;
}
