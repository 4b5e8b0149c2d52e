/*
 * llama_forward: embedding lookup, then per layer
 *   x += W_o · attention(RoPE(W_q · rmsnorm(x)), cache)
 *   x += W_down · (silu(W_gate · rmsnorm(x)) * (W_up · rmsnorm(x)))
 * then the final RMSNorm and the LM head. Keys and values are projected
 * straight into their cache rows and rotated there, and both residual adds
 * are folded into the output GEMMs (beta = 1), so no pass copies a buffer.
 */
#include "model/forward.h"

#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/ops.h"
#include "core/tensor.h"

static int scaling_from_config(rope_scaling *sc, const llama_config *cfg, lrc_error *err) {
    memset(sc, 0, sizeof *sc);
    const char *type = cfg->rope_scaling_type;
    if (type[0] == '\0' || strcmp(type, "none") == 0 || strcmp(type, "default") == 0) {
        sc->kind = ROPE_SCALING_NONE;
        return 0;
    }
    if (cfg->rope_factor <= 0.0f)
        return lrc_errorf(err, "rope_scaling.factor: expected a positive number, got %g",
                          (double)cfg->rope_factor);

    sc->factor = cfg->rope_factor;
    if (strcmp(type, "linear") == 0) {
        sc->kind = ROPE_SCALING_LINEAR;
        return 0;
    }
    if (strcmp(type, "llama3") == 0) {
        if (cfg->rope_high_freq_factor <= cfg->rope_low_freq_factor ||
            cfg->rope_low_freq_factor <= 0.0f || cfg->rope_original_max_seq <= 0)
            return lrc_errorf(err,
                              "rope_scaling: llama3 needs 0 < low_freq_factor < high_freq_factor "
                              "and original_max_position_embeddings > 0");
        sc->kind = ROPE_SCALING_LLAMA3;
        sc->low_freq_factor = cfg->rope_low_freq_factor;
        sc->high_freq_factor = cfg->rope_high_freq_factor;
        sc->original_max_seq = cfg->rope_original_max_seq;
        return 0;
    }
    return lrc_errorf(
        err, "rope_scaling type '%s' is not supported; expected none, linear or llama3", type);
}

size_t llama_state_bytes(const llama_config *cfg, int max_ctx, int max_batch) {
    size_t B = (size_t)max_batch, S = (size_t)max_ctx;
    size_t qd = (size_t)cfg->H * cfg->h, kvd = (size_t)cfg->Hkv * cfg->h;
    size_t floats = 2 * B * cfg->d + 2 * B * qd + 2 * B * cfg->I + attention_scratch_floats(B, S) +
                    2 * (size_t)cfg->n_layers * S * kvd + S * (size_t)cfg->h;
    return floats * sizeof(float);
}

int llama_state_init(llama_state *s, const llama_config *cfg, int max_ctx, int max_batch,
                     lrc_error *err) {
    memset(s, 0, sizeof *s);
    if (max_ctx <= 0 || max_batch <= 0)
        return lrc_errorf(err, "context %d and batch %d: expected positive sizes", max_ctx,
                          max_batch);
    if (cfg->h <= 0 || cfg->h % 2 != 0)
        return lrc_errorf(err, "head_dim %d: RoPE needs a positive, even head size", cfg->h);
    if (cfg->d <= 0 || cfg->H <= 0 || cfg->Hkv <= 0 || cfg->H % cfg->Hkv != 0 || cfg->I <= 0 ||
        cfg->V <= 0 || cfg->n_layers <= 0)
        return lrc_errorf(err, "model config: expected positive sizes with H a multiple of Hkv");

    /* Within its window, sliding-window attention equals full causal attention,
     * so a context no longer than the window is exact. */
    if (cfg->sliding_window > 0 && max_ctx > cfg->sliding_window)
        return lrc_errorf(err,
                          "context %d exceeds the model's sliding_window of %d, which this "
                          "forward pass does not implement; use a context of at most %d",
                          max_ctx, cfg->sliding_window, cfg->sliding_window);

    rope_scaling sc;
    if (scaling_from_config(&sc, cfg, err) < 0)
        return -1;

    size_t B = (size_t)max_batch, S = (size_t)max_ctx;
    size_t qd = (size_t)cfg->H * cfg->h, kvd = (size_t)cfg->Hkv * cfg->h;
    size_t half = (size_t)cfg->h / 2;
    s->max_ctx = max_ctx;
    s->max_batch = max_batch;

    struct {
        float **p;
        size_t n;
        const char *what;
    } bufs[] = {
        {&s->x, B * cfg->d, "residual stream"},
        {&s->xn, B * cfg->d, "normalised activations"},
        {&s->q, B * qd, "queries"},
        {&s->att, B * qd, "attention output"},
        {&s->gate, B * cfg->I, "MLP gate"},
        {&s->up, B * cfg->I, "MLP up projection"},
        {&s->scores, attention_scratch_floats(B, S), "attention scores"},
        {&s->key_cache, (size_t)cfg->n_layers * S * kvd, "key cache"},
        {&s->value_cache, (size_t)cfg->n_layers * S * kvd, "value cache"},
        {&s->rope_cos, S * half, "RoPE table"},
        {&s->rope_sin, S * half, "RoPE table"},
    };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        *bufs[i].p = tensor_alloc(bufs[i].n, bufs[i].what, err);
        if (!*bufs[i].p) {
            llama_state_free(s);
            return -1;
        }
    }

    double *inv_freq = malloc(half * sizeof *inv_freq);
    if (!inv_freq) {
        llama_state_free(s);
        return lrc_errorf(err, "RoPE table: out of memory");
    }
    rope_inv_freq(inv_freq, (size_t)cfg->h, cfg->rope_theta, &sc);
    rope_table_init(s->rope_cos, s->rope_sin, inv_freq, S, (size_t)cfg->h);
    free(inv_freq);
    return 0;
}

void llama_state_free(llama_state *s) {
    float *bufs[] = {s->x,      s->xn,        s->q,           s->att,      s->gate,    s->up,
                     s->scores, s->key_cache, s->value_cache, s->rope_cos, s->rope_sin};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        tensor_free(bufs[i]);
    memset(s, 0, sizeof *s);
}

/* Run attention_forward with OpenBLAS on one thread, because its per-head
 * matrices (ATTENTION_BLOCK x S x h) are too small to gain from more. On a
 * 2-core EPYC, 30 layers of SmolLM2-135M attention over a 512-token prompt
 * took 0.28 s on one thread and 0.41 s on two.
 * NOTE: the second core idles meanwhile. A version that split the heads
 * across our own threads, each calling OpenBLAS (Debian's 0.3.21 pthread
 * build), hung; the cause was not pinned down. */
static void attention_single_thread(const llama_config *c, llama_state *s, const float *key_cache,
                                    const float *value_cache, size_t n, size_t pos) {
    int blas_threads = blas_get_threads();
    if (blas_threads > 1)
        blas_set_threads(1);
    attention_forward(s->att, s->q, key_cache, value_cache, s->scores, n, pos, (size_t)c->H,
                      (size_t)c->Hkv, (size_t)c->h);
    if (blas_threads > 1)
        blas_set_threads(blas_threads);
}

/* One transformer block over n tokens at positions pos..pos+n-1. */
static void layer_forward(const llama_config *c, const llama_layer *w, llama_state *s,
                          float *key_cache, float *value_cache, size_t n, size_t pos) {
    size_t d = (size_t)c->d, h = (size_t)c->h, I = (size_t)c->I;
    size_t H = (size_t)c->H, Hkv = (size_t)c->Hkv;
    size_t qd = H * h, kvd = Hkv * h;
    float *k_new = key_cache + pos * kvd;   /* (n, Hkv*h) rows of this call */
    float *v_new = value_cache + pos * kvd; /* (n, Hkv*h) */

    /* Attention: project, rotate, attend over the cache, add W_o · att to x. */
    rmsnorm_forward(s->xn, s->x, w->attn_norm, n, d, c->norm_eps);
    blas_linear_forward(s->q, s->xn, w->wq, w->bq, n, d, qd);
    blas_linear_forward(k_new, s->xn, w->wk, w->bk, n, d, kvd);
    blas_linear_forward(v_new, s->xn, w->wv, w->bv, n, d, kvd);
    rope_forward(s->q, qd, s->rope_cos, s->rope_sin, n, H, h, pos, c->rope_interleaved);
    rope_forward(k_new, kvd, s->rope_cos, s->rope_sin, n, Hkv, h, pos, c->rope_interleaved);
    attention_single_thread(c, s, key_cache, value_cache, n, pos);
    blas_linear_accumulate(s->x, s->att, w->wo, n, qd, d);
    if (w->bo)
        for (size_t t = 0; t < n; t++)
            for (size_t i = 0; i < d; i++)
                s->x[t * d + i] += w->bo[i];

    /* MLP: x += W_down · (silu(W_gate · xn) * (W_up · xn)). */
    rmsnorm_forward(s->xn, s->x, w->mlp_norm, n, d, c->norm_eps);
    blas_linear_forward(s->gate, s->xn, w->w_gate, NULL, n, d, I);
    blas_linear_forward(s->up, s->xn, w->w_up, NULL, n, d, I);
    swiglu_forward(s->gate, s->gate, s->up, n * I);
    blas_linear_accumulate(s->x, s->gate, w->w_down, n, I, d);
}

/* Tokens tokens[0..n-1] at positions pos.., with the logits of every row
 * (all_logits), of the last row, or none when logits is NULL. */
static void batch_forward(const llama_model *m, llama_state *s, const int32_t *tokens, size_t n,
                          size_t pos, float *logits, bool all_logits) {
    const llama_config *c = &m->cfg;
    size_t d = (size_t)c->d, V = (size_t)c->V;
    size_t kvd = (size_t)c->Hkv * c->h, layer_cache = (size_t)s->max_ctx * kvd;

    for (size_t t = 0; t < n; t++)
        memcpy(s->x + t * d, m->w.embed + (size_t)tokens[t] * d, d * sizeof(float));

    for (int l = 0; l < c->n_layers; l++)
        layer_forward(c, &m->w.layers[l], s, s->key_cache + l * layer_cache,
                      s->value_cache + l * layer_cache, n, pos);

    if (!logits)
        return;

    size_t first = all_logits ? 0 : n - 1;
    size_t rows = n - first;
    rmsnorm_forward(s->xn, s->x + first * d, m->w.final_norm, rows, d, c->norm_eps);
    blas_linear_forward(logits, s->xn, m->w.lm_head, NULL, rows, d, V);
}

int llama_forward(const llama_model *m, llama_state *s, const int32_t *tokens, int T, int pos,
                  float *logits, bool all_logits, lrc_error *err) {
    const llama_config *c = &m->cfg;
    if (T <= 0 || pos < 0)
        return lrc_errorf(err, "forward: expected at least one token at a position >= 0");
    if ((long)pos + T > s->max_ctx)
        return lrc_errorf(err,
                          "forward: positions %d..%d exceed the context of %d; "
                          "use a larger context or a shorter input",
                          pos, pos + T - 1, s->max_ctx);
    for (int t = 0; t < T; t++)
        if (tokens[t] < 0 || tokens[t] >= c->V)
            return lrc_errorf(err, "forward: token %d at index %d is outside the vocabulary 0..%d",
                              tokens[t], t, c->V - 1);

    for (int t0 = 0; t0 < T; t0 += s->max_batch) {
        int n = T - t0 < s->max_batch ? T - t0 : s->max_batch;
        bool last_batch = t0 + n == T;

        /* Without all_logits, batches before the last only fill the cache. */
        float *out = NULL;
        if (all_logits)
            out = logits + (size_t)t0 * c->V;
        else if (last_batch)
            out = logits;
        batch_forward(m, s, tokens + t0, (size_t)n, (size_t)(pos + t0), out, all_logits);
    }
    return 0;
}
