/*
 * Activation-saving forward and full backward of a Llama-family model for
 * training. Per layer, on N = B·T rows:
 *   xn = rmsnorm(x);  q, k, v = xn·W{q,k,v}ᵀ + b;  att = attention(RoPE(q), RoPE(k), v)
 *   x_mid = x + att·W_oᵀ (+ b_o);  xn' = rmsnorm(x_mid)
 *   gate, up = xn'·W{gate,up}ᵀ;  z = silu(gate)·up;  mlp_out = z·W_downᵀ;  x' = x_mid + mlp_out
 * then logits = rmsnorm(x_L)·W_headᵀ. The backward walks the same steps in
 * reverse with the backward passes of src/core. Those add into their
 * outputs, so each scratch gradient is zeroed right before its use.
 */
#include "train/llama_train.h"

#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/ops.h"
#include "core/tensor.h"

/* The RoPE scaling a config names, as rope_inv_freq takes it. */
static int rope_scaling_of(rope_scaling *sc, const llama_config *c, lrc_error *err) {
    memset(sc, 0, sizeof *sc);
    const char *type = c->rope_scaling_type;
    if (type[0] == '\0' || strcmp(type, "none") == 0 || strcmp(type, "default") == 0) {
        sc->kind = ROPE_SCALING_NONE;
        return 0;
    }
    sc->factor = c->rope_factor;
    if (strcmp(type, "linear") == 0 && c->rope_factor > 0.0f) {
        sc->kind = ROPE_SCALING_LINEAR;
        return 0;
    }
    if (strcmp(type, "llama3") == 0 && c->rope_factor > 0.0f && c->rope_low_freq_factor > 0.0f &&
        c->rope_high_freq_factor > c->rope_low_freq_factor && c->rope_original_max_seq > 0) {
        sc->kind = ROPE_SCALING_LLAMA3;
        sc->low_freq_factor = c->rope_low_freq_factor;
        sc->high_freq_factor = c->rope_high_freq_factor;
        sc->original_max_seq = c->rope_original_max_seq;
        return 0;
    }
    return lrc_errorf(err,
                      "rope_scaling '%s' (factor %g): expected none, or linear or llama3 with "
                      "valid factors",
                      type, (double)c->rope_factor);
}

/* Floats of each buffer, in the order llama_train_init allocates them. */
typedef struct train_sizes {
    size_t N, D, qd, kvd, I, V, L, probs, sites;
} train_sizes;

static train_sizes sizes_of(const llama_config *c, int B, int T) {
    train_sizes z;
    z.N = (size_t)B * (size_t)T;
    z.D = (size_t)c->d;
    z.qd = (size_t)c->H * (size_t)c->h;
    z.kvd = (size_t)c->Hkv * (size_t)c->h;
    z.I = (size_t)c->I;
    z.V = (size_t)c->V;
    z.L = (size_t)c->n_layers;
    z.probs = (size_t)B * (size_t)c->H * (size_t)T * (size_t)T;
    z.sites = z.N * (2 * z.qd + 2 * z.kvd + 2 * z.I + z.D);
    return z;
}

/* Layers whose activations are kept: all of them for a backward, else one
 * slot reused layer after layer (two for the residual stream). */
static size_t kept_layers(size_t L, bool backward) {
    return backward ? L : 1;
}

static size_t residual_slots(size_t L, bool backward) {
    return backward ? L + 1 : 2;
}

/* The slot of layer l's input residual stream (l = n_layers: the final one). */
static size_t residual_slot(const llama_train_state *s, size_t l) {
    return s->backward ? l : l % 2;
}

size_t llama_train_bytes(const llama_config *c, int B, int T, bool backward) {
    train_sizes z = sizes_of(c, B, T);
    size_t K = kept_layers(z.L, backward);
    size_t floats = (size_t)T * (size_t)c->h + residual_slots(z.L, backward) * z.N * z.D +
                    K * (3 * z.N * z.D + z.N * (z.qd + z.kvd) + z.probs + z.N * z.I) + z.N * z.D +
                    z.N * z.V + z.L * z.sites;
    if (backward)
        floats += z.sites + 3 * z.N * z.D + 2 * z.N * z.qd + 2 * z.N * z.kvd + 3 * z.N * z.I +
                  attention_train_scratch_floats((size_t)T);
    return floats * sizeof(float) + z.N * sizeof(int32_t);
}

/* Point the fields of st at one layer's site buffers, laid out from p. */
static void bind_sites(llama_train_sites *st, float *p, const train_sizes *z) {
    st->q = p, p += z->N * z->qd;
    st->k = p, p += z->N * z->kvd;
    st->v = p, p += z->N * z->kvd;
    st->att = p, p += z->N * z->qd;
    st->gate = p, p += z->N * z->I;
    st->up = p, p += z->N * z->I;
    st->mlp_out = p;
}

int llama_train_init(llama_train_state *s, const llama_config *c, int B, int T, bool backward,
                     lrc_error *err) {
    memset(s, 0, sizeof *s);
    if (B <= 0 || T <= 0)
        return lrc_errorf(err, "training batch %d x %d: expected positive sizes", B, T);
    if (c->d <= 0 || c->H <= 0 || c->Hkv <= 0 || c->H % c->Hkv != 0 || c->h <= 0 || c->h % 2 != 0 ||
        c->I <= 0 || c->V <= 0 || c->n_layers <= 0)
        return lrc_errorf(err, "model config: expected positive sizes, an even head size and H "
                               "a multiple of Hkv");
    /* Within its window, sliding-window attention equals full causal attention. */
    if (c->sliding_window > 0 && T > c->sliding_window)
        return lrc_errorf(err,
                          "sequence length %d exceeds the model's sliding_window of %d, which "
                          "training does not implement; use a sequence length of at most %d",
                          T, c->sliding_window, c->sliding_window);
    rope_scaling sc;
    if (rope_scaling_of(&sc, c, err) < 0)
        return -1;

    train_sizes z = sizes_of(c, B, T);
    size_t K = kept_layers(z.L, backward);
    s->cfg = *c;
    s->B = B;
    s->T = T;
    s->N = z.N;
    s->backward = backward;
    size_t half = (size_t)c->h / 2;

    struct {
        float **p;
        size_t n;
    } bufs[] = {
        {&s->rope_cos, (size_t)T * half},
        {&s->rope_sin, (size_t)T * half},
        {&s->x, residual_slots(z.L, backward) * z.N * z.D},
        {&s->x_mid, K * z.N * z.D},
        {&s->xn_attn, K * z.N * z.D},
        {&s->xn_mlp, K * z.N * z.D},
        {&s->q_rot, K * z.N * z.qd},
        {&s->k_rot, K * z.N * z.kvd},
        {&s->probs, K * z.probs},
        {&s->z, K * z.N * z.I},
        {&s->xn_final, z.N * z.D},
        {&s->logits, z.N * z.V},
        {&s->site_arena, z.L * z.sites},
        {&s->dx, backward ? z.N * z.D : 0},
        {&s->dxn, backward ? z.N * z.D : 0},
        {&s->dres, backward ? z.N * z.D : 0},
        {&s->dq, backward ? z.N * z.qd : 0},
        {&s->dk, backward ? z.N * z.kvd : 0},
        {&s->dv, backward ? z.N * z.kvd : 0},
        {&s->datt, backward ? z.N * z.qd : 0},
        {&s->dz, backward ? z.N * z.I : 0},
        {&s->dgate, backward ? z.N * z.I : 0},
        {&s->dup, backward ? z.N * z.I : 0},
        {&s->scratch, backward ? attention_train_scratch_floats((size_t)T) : 0},
        {&s->dsite_arena, backward ? z.sites : 0},
    };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        if (bufs[i].n == 0)
            continue;
        *bufs[i].p = tensor_alloc(bufs[i].n, "training activations", err);
        if (!*bufs[i].p) {
            llama_train_free(s);
            return -1;
        }
    }
    s->tokens = calloc(z.N, sizeof *s->tokens);
    s->sites = calloc(z.L, sizeof *s->sites);
    double *inv_freq = malloc(half * sizeof *inv_freq);
    if (!s->tokens || !s->sites || !inv_freq) {
        free(inv_freq);
        llama_train_free(s);
        return lrc_errorf(err, "training activations: out of memory");
    }
    rope_inv_freq(inv_freq, (size_t)c->h, c->rope_theta, &sc);
    rope_table_init(s->rope_cos, s->rope_sin, inv_freq, (size_t)T, (size_t)c->h);
    free(inv_freq);

    for (size_t l = 0; l < z.L; l++)
        bind_sites(&s->sites[l], s->site_arena + l * z.sites, &z);
    if (backward)
        bind_sites(&s->dsites, s->dsite_arena, &z);
    return 0;
}

void llama_train_free(llama_train_state *s) {
    float *bufs[] = {s->rope_cos, s->rope_sin, s->x,          s->x_mid,   s->xn_attn,
                     s->xn_mlp,   s->q_rot,    s->k_rot,      s->probs,   s->z,
                     s->xn_final, s->logits,   s->site_arena, s->dx,      s->dxn,
                     s->dres,     s->dq,       s->dk,         s->dv,      s->datt,
                     s->dz,       s->dgate,    s->dup,        s->scratch, s->dsite_arena};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        tensor_free(bufs[i]);
    free(s->tokens);
    free(s->sites);
    memset(s, 0, sizeof *s);
}

/* Rotate B sequences of T rows each, every sequence from position 0.
 *   x (B, T, n_heads*h) */
static void rope_batch(const llama_train_state *s, float *x, size_t n_heads, bool backward) {
    size_t T = (size_t)s->T, h = (size_t)s->cfg.h, stride = n_heads * h;
    for (int b = 0; b < s->B; b++) {
        float *xb = x + (size_t)b * T * stride;
        if (backward)
            rope_backward(xb, stride, s->rope_cos, s->rope_sin, T, n_heads, h, 0,
                          s->cfg.rope_interleaved);
        else
            rope_forward(xb, stride, s->rope_cos, s->rope_sin, T, n_heads, h, 0,
                         s->cfg.rope_interleaved);
    }
}

/* y += bias on every row.
 *   y (N, n) */
static void add_rows(float *y, const float *bias, size_t N, size_t n) {
    for (size_t t = 0; t < N; t++)
        for (size_t i = 0; i < n; i++)
            y[t * n + i] += bias[i];
}

static void add_into(float *y, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        y[i] += x[i];
}

int llama_train_forward(llama_train_state *s, const llama_weights *w, const int32_t *tokens,
                        size_t ld, const float *x0, lrc_error *err) {
    const llama_config *c = &s->cfg;
    train_sizes z = sizes_of(c, s->B, s->T);
    size_t N = z.N, D = z.D, T = (size_t)s->T;
    float eps = c->norm_eps;

    for (int b = 0; b < s->B; b++)
        for (size_t t = 0; t < T; t++) {
            int32_t tok = tokens[(size_t)b * ld + t];
            if (tok < 0 || tok >= c->V)
                return lrc_errorf(err,
                                  "training batch: token %d at row %d, position %zu is outside "
                                  "the vocabulary 0..%d",
                                  tok, b, t, c->V - 1);
            s->tokens[(size_t)b * T + t] = tok;
        }

    if (x0)
        memcpy(s->x, x0, N * D * sizeof(float));
    else
        for (size_t n = 0; n < N; n++)
            memcpy(s->x + n * D, w->embed + (size_t)s->tokens[n] * D, D * sizeof(float));

    for (size_t l = 0; l < z.L; l++) {
        const llama_layer *lw = &w->layers[l];
        const llama_train_sites *st = &s->sites[l];
        size_t k = s->backward ? l : 0;
        const float *x = s->x + residual_slot(s, l) * N * D;
        float *x_next = s->x + residual_slot(s, l + 1) * N * D;
        float *x_mid = s->x_mid + k * N * D;
        float *xn = s->xn_attn + k * N * D, *xn2 = s->xn_mlp + k * N * D;
        float *q_rot = s->q_rot + k * N * z.qd, *k_rot = s->k_rot + k * N * z.kvd;
        float *probs = s->probs + k * z.probs, *zl = s->z + k * N * z.I;

        /* Attention. */
        rmsnorm_forward(xn, x, lw->attn_norm, N, D, eps);
        blas_linear_forward(st->q, xn, lw->wq, lw->bq, N, D, z.qd);
        blas_linear_forward(st->k, xn, lw->wk, lw->bk, N, D, z.kvd);
        blas_linear_forward(st->v, xn, lw->wv, lw->bv, N, D, z.kvd);
        memcpy(q_rot, st->q, N * z.qd * sizeof(float));
        memcpy(k_rot, st->k, N * z.kvd * sizeof(float));
        rope_batch(s, q_rot, (size_t)c->H, false);
        rope_batch(s, k_rot, (size_t)c->Hkv, false);
        attention_train_forward(st->att, probs, q_rot, k_rot, st->v, (size_t)s->B, T, (size_t)c->H,
                                (size_t)c->Hkv, (size_t)c->h);
        memcpy(x_mid, x, N * D * sizeof(float));
        blas_linear_accumulate(x_mid, st->att, lw->wo, N, z.qd, D);
        if (lw->bo)
            add_rows(x_mid, lw->bo, N, D);

        /* MLP. */
        rmsnorm_forward(xn2, x_mid, lw->mlp_norm, N, D, eps);
        blas_linear_forward(st->gate, xn2, lw->w_gate, NULL, N, D, z.I);
        blas_linear_forward(st->up, xn2, lw->w_up, NULL, N, D, z.I);
        swiglu_forward(zl, st->gate, st->up, N * z.I);
        blas_linear_forward(st->mlp_out, zl, lw->w_down, NULL, N, z.I, D);
        memcpy(x_next, x_mid, N * D * sizeof(float));
        add_into(x_next, st->mlp_out, N * D);
    }

    rmsnorm_forward(s->xn_final, s->x + residual_slot(s, z.L) * N * D, w->final_norm, N, D, eps);
    blas_linear_forward(s->logits, s->xn_final, w->lm_head, NULL, N, D, z.V);
    return 0;
}

void llama_train_backward(llama_train_state *s, const llama_weights *w, const float *dlogits,
                          llama_train_site_grad_fn site_grad, void *ctx, llama_weights *g) {
    const llama_config *c = &s->cfg;
    train_sizes z = sizes_of(c, s->B, s->T);
    size_t N = z.N, D = z.D, T = (size_t)s->T;
    float eps = c->norm_eps;

    /* Head and final norm: dx = rmsnorm'(dlogits · W_head). */
    memset(s->dx, 0, N * D * sizeof(float));
    if (dlogits) {
        memset(s->dxn, 0, N * D * sizeof(float));
        blas_linear_backward(s->dxn, g->lm_head, NULL, dlogits, s->xn_final, w->lm_head, N, D, z.V);
        rmsnorm_backward(s->dx, g->final_norm, s->dxn, s->x + z.L * N * D, w->final_norm, N, D,
                         eps);
    }

    for (size_t l = z.L; l-- > 0;) {
        const llama_layer *lw = &w->layers[l];
        llama_layer *lg = &g->layers[l];
        const llama_train_sites *st = &s->sites[l];
        const llama_train_sites *ds = NULL;
        if (site_grad) {
            memset(s->dsite_arena, 0, z.sites * sizeof(float));
            site_grad(ctx, (int)l, &s->dsites);
            ds = &s->dsites;
        }
        const float *x = s->x + l * N * D, *x_mid = s->x_mid + l * N * D;
        const float *xn = s->xn_attn + l * N * D, *xn2 = s->xn_mlp + l * N * D;
        const float *q_rot = s->q_rot + l * N * z.qd, *k_rot = s->k_rot + l * N * z.kvd;
        const float *probs = s->probs + l * z.probs, *zl = s->z + l * N * z.I;

        /* MLP: s->dx is the gradient of x' and, through the residual, of x_mid. */
        memcpy(s->dres, s->dx, N * D * sizeof(float));
        if (ds && ds->mlp_out)
            add_into(s->dres, ds->mlp_out, N * D);
        memset(s->dz, 0, N * z.I * sizeof(float));
        blas_linear_backward(s->dz, lg->w_down, NULL, s->dres, zl, lw->w_down, N, z.I, D);
        memset(s->dgate, 0, N * z.I * sizeof(float));
        memset(s->dup, 0, N * z.I * sizeof(float));
        swiglu_backward(s->dgate, s->dup, s->dz, st->gate, st->up, N * z.I);
        if (ds && ds->gate)
            add_into(s->dgate, ds->gate, N * z.I);
        if (ds && ds->up)
            add_into(s->dup, ds->up, N * z.I);
        memset(s->dxn, 0, N * D * sizeof(float));
        blas_linear_backward(s->dxn, lg->w_gate, NULL, s->dgate, xn2, lw->w_gate, N, D, z.I);
        blas_linear_backward(s->dxn, lg->w_up, NULL, s->dup, xn2, lw->w_up, N, D, z.I);
        rmsnorm_backward(s->dx, lg->mlp_norm, s->dxn, x_mid, lw->mlp_norm, N, D, eps);

        /* Attention: s->dx is now the gradient of x_mid, and through the
         * residual of x. */
        memset(s->datt, 0, N * z.qd * sizeof(float));
        blas_linear_backward(s->datt, lg->wo, lw->bo ? lg->bo : NULL, s->dx, st->att, lw->wo, N,
                             z.qd, D);
        if (ds && ds->att)
            add_into(s->datt, ds->att, N * z.qd);
        memset(s->dq, 0, N * z.qd * sizeof(float));
        memset(s->dk, 0, N * z.kvd * sizeof(float));
        memset(s->dv, 0, N * z.kvd * sizeof(float));
        attention_train_backward(s->dq, s->dk, s->dv, s->datt, probs, q_rot, k_rot, st->v,
                                 (size_t)s->B, T, (size_t)c->H, (size_t)c->Hkv, (size_t)c->h,
                                 s->scratch);
        rope_batch(s, s->dq, (size_t)c->H, true);
        rope_batch(s, s->dk, (size_t)c->Hkv, true);
        if (ds && ds->q)
            add_into(s->dq, ds->q, N * z.qd);
        if (ds && ds->k)
            add_into(s->dk, ds->k, N * z.kvd);
        if (ds && ds->v)
            add_into(s->dv, ds->v, N * z.kvd);
        memset(s->dxn, 0, N * D * sizeof(float));
        blas_linear_backward(s->dxn, lg->wq, lw->bq ? lg->bq : NULL, s->dq, xn, lw->wq, N, D, z.qd);
        blas_linear_backward(s->dxn, lg->wk, lw->bk ? lg->bk : NULL, s->dk, xn, lw->wk, N, D,
                             z.kvd);
        blas_linear_backward(s->dxn, lg->wv, lw->bv ? lg->bv : NULL, s->dv, xn, lw->wv, N, D,
                             z.kvd);
        rmsnorm_backward(s->dx, lg->attn_norm, s->dxn, x, lw->attn_norm, N, D, eps);
    }

    if (g->embed)
        for (size_t n = 0; n < N; n++)
            add_into(g->embed + (size_t)s->tokens[n] * D, s->dx + n * D, D);
}
