/*
 * Pretraining a full model (pretrain.h): the parameter layout and its table
 * of Hugging Face names, seeded initialisation, the next-token cross-entropy
 * and its gradient through llama_train, export as a Hugging Face directory,
 * and the adapter that lets trainer.c run it.
 *
 * Cross-entropy over N = B·T tokens with targets y_n:
 *   L = (1/N) Σ_n [logsumexp(z_n) − z_n[y_n]],  ∂L/∂z_n = (softmax(z_n) − e_{y_n}) / N
 * Sums are accumulated in double; the gradient is float32.
 */
#include "train/pretrain.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/tensor.h"
#include "model/safetensors.h"

/* ---- layout ----------------------------------------------------------------- */

/* Walk the layout once: with m->tensors NULL only count tensors and floats,
 * otherwise fill the table too. */
typedef struct layout {
    pretrain_model *m;
    size_t n_tensors, n_floats;
} layout;

static void add_tensor(layout *lay, const char *name, int64_t rows, int64_t cols, bool norm,
                       bool residual) {
    size_t numel = (size_t)rows * (size_t)(cols > 0 ? cols : 1);
    if (lay->m->tensors) {
        param_tensor *t = &lay->m->tensors[lay->n_tensors];
        snprintf(t->name, sizeof t->name, "%s", name);
        t->offset = lay->n_floats;
        t->numel = numel;
        t->ndim = cols > 0 ? 2 : 1;
        t->shape[0] = rows;
        t->shape[1] = cols > 0 ? cols : 0;
        t->norm = norm;
        t->residual = residual;
    }
    lay->n_tensors++;
    lay->n_floats += numel;
}

static void walk_layout(layout *lay) {
    const llama_config *c = &lay->m->cfg;
    int64_t d = c->d, V = c->V, I = c->I, qd = (int64_t)c->H * c->h, kvd = (int64_t)c->Hkv * c->h;
    char name[PARAM_NAME_MAX];
    add_tensor(lay, "model.embed_tokens.weight", V, d, false, false);
    for (int l = 0; l < c->n_layers; l++) {
#define ADD(suffix, rows, cols, norm, residual)                                                    \
    do {                                                                                           \
        snprintf(name, sizeof name, "model.layers.%d.%s", l, suffix);                              \
        add_tensor(lay, name, rows, cols, norm, residual);                                         \
    } while (0)
        ADD("input_layernorm.weight", d, 0, true, false);
        ADD("self_attn.q_proj.weight", qd, d, false, false);
        if (c->qkv_bias)
            ADD("self_attn.q_proj.bias", qd, 0, false, false);
        ADD("self_attn.k_proj.weight", kvd, d, false, false);
        if (c->qkv_bias)
            ADD("self_attn.k_proj.bias", kvd, 0, false, false);
        ADD("self_attn.v_proj.weight", kvd, d, false, false);
        if (c->qkv_bias)
            ADD("self_attn.v_proj.bias", kvd, 0, false, false);
        ADD("self_attn.o_proj.weight", d, qd, false, true);
        if (c->o_bias)
            ADD("self_attn.o_proj.bias", d, 0, false, false);
        ADD("post_attention_layernorm.weight", d, 0, true, false);
        ADD("mlp.gate_proj.weight", I, d, false, false);
        ADD("mlp.up_proj.weight", I, d, false, false);
        ADD("mlp.down_proj.weight", d, I, false, true);
#undef ADD
    }
    add_tensor(lay, "model.norm.weight", d, 0, true, false);
    if (!c->tied_embeddings)
        add_tensor(lay, "lm_head.weight", V, d, false, false);
}

/* Point w at the tensors of base (params or grads), in table order. */
static void bind_weights(const pretrain_model *m, float *base, llama_weights *w) {
    const param_tensor *t = m->tensors;
    const llama_config *c = &m->cfg;
    size_t i = 0;
    w->embed = base + t[i++].offset;
    for (int l = 0; l < c->n_layers; l++) {
        llama_layer *lw = &w->layers[l];
        memset(lw, 0, sizeof *lw);
        lw->attn_norm = base + t[i++].offset;
        lw->wq = base + t[i++].offset;
        if (c->qkv_bias)
            lw->bq = base + t[i++].offset;
        lw->wk = base + t[i++].offset;
        if (c->qkv_bias)
            lw->bk = base + t[i++].offset;
        lw->wv = base + t[i++].offset;
        if (c->qkv_bias)
            lw->bv = base + t[i++].offset;
        lw->wo = base + t[i++].offset;
        if (c->o_bias)
            lw->bo = base + t[i++].offset;
        lw->mlp_norm = base + t[i++].offset;
        lw->w_gate = base + t[i++].offset;
        lw->w_up = base + t[i++].offset;
        lw->w_down = base + t[i++].offset;
    }
    w->final_norm = base + t[i++].offset;
    w->lm_head = c->tied_embeddings ? w->embed : base + t[i++].offset;
}

int pretrain_init(pretrain_model *m, const llama_config *cfg, int B, int T, lrc_error *err) {
    memset(m, 0, sizeof *m);
    if (llama_config_validate(cfg, "model config", err) < 0)
        return -1;
    if (cfg->rope_interleaved)
        return lrc_errorf(err, "model config: interleaved RoPE pairs (llama2.c) cannot be "
                               "pretrained; give a Hugging Face config.json");
    if (B < 1 || T < 1)
        return lrc_errorf(err, "pretrain: batch %d and sequence %d must be at least 1", B, T);
    m->cfg = *cfg;
    m->B = B;
    m->T = T;

    layout lay = {m, 0, 0};
    walk_layout(&lay);
    m->n_tensors = lay.n_tensors;
    m->n_params = lay.n_floats;
    m->tensors = calloc(m->n_tensors, sizeof *m->tensors);
    m->w.layers = calloc((size_t)cfg->n_layers, sizeof *m->w.layers);
    m->gw.layers = calloc((size_t)cfg->n_layers, sizeof *m->gw.layers);
    size_t N = (size_t)B * (size_t)T;
    m->targets = malloc(N * sizeof *m->targets);
    if (!m->tensors || !m->w.layers || !m->gw.layers || !m->targets) {
        pretrain_free(m);
        return lrc_errorf(err, "pretrain: out of memory for the tensor table");
    }
    lay = (layout){m, 0, 0};
    walk_layout(&lay);

    m->params = tensor_alloc(m->n_params, "pretrain parameters", err);
    m->grads = m->params ? tensor_alloc(m->n_params, "pretrain gradients", err) : NULL;
    m->dlogits = m->grads ? tensor_alloc(N * (size_t)cfg->V, "pretrain logit gradient", err) : NULL;
    if (!m->dlogits || llama_train_init(&m->st, cfg, B, T, true, err) < 0) {
        pretrain_free(m);
        return -1;
    }
    memset(m->params, 0, m->n_params * sizeof(float));
    memset(m->grads, 0, m->n_params * sizeof(float));
    bind_weights(m, m->params, &m->w);
    bind_weights(m, m->grads, &m->gw);
    return 0;
}

void pretrain_free(pretrain_model *m) {
    llama_train_free(&m->st);
    tensor_free(m->params);
    tensor_free(m->grads);
    tensor_free(m->dlogits);
    free(m->tensors);
    free(m->w.layers);
    free(m->gw.layers);
    free(m->targets);
    memset(m, 0, sizeof *m);
}

/* ---- initialisation --------------------------------------------------------- */

void pretrain_init_random(pretrain_model *m, uint64_t seed, bool scale_residual) {
    uint64_t state = seed;
    double std_res = scale_residual ? 0.02 / sqrt(2.0 * m->cfg.n_layers) : 0.02;
    for (size_t i = 0; i < m->n_tensors; i++) {
        const param_tensor *t = &m->tensors[i];
        float *p = m->params + t->offset;
        if (t->norm) {
            for (size_t j = 0; j < t->numel; j++)
                p[j] = 1.0f;
        } else if (t->ndim == 1) {
            memset(p, 0, t->numel * sizeof(float)); /* biases */
        } else {
            double std = t->residual ? std_res : 0.02;
            for (size_t j = 0; j < t->numel; j++)
                p[j] = (float)(std * rng_normal(&state));
        }
    }
}

/* ---- loss ------------------------------------------------------------------- */

/* Copy the targets (tokens shifted by one) and check they are in the
 * vocabulary. */
static int gather_targets(pretrain_model *m, const int32_t *tokens, lrc_error *err) {
    size_t T = (size_t)m->T, ld = T + 1;
    for (int b = 0; b < m->B; b++)
        for (size_t t = 0; t < T; t++) {
            int32_t tok = tokens[(size_t)b * ld + t + 1];
            if (tok < 0 || tok >= m->cfg.V)
                return lrc_errorf(err,
                                  "training batch: target %d at row %d, position %zu is outside "
                                  "the vocabulary 0..%d",
                                  tok, b, t + 1, m->cfg.V - 1);
            m->targets[(size_t)b * T + t] = tok;
        }
    return 0;
}

/*
 * Mean cross-entropy of the logits against m->targets, leaving its gradient
 * (softmax − one-hot)/N in dlogits. Each exp is taken once, in float, into
 * dlogits; the row sums and the loss are accumulated in double. top1 (may
 * be NULL) receives the fraction of argmax hits.
 *   logits, dlogits (N, V)
 */
static double cross_entropy(const pretrain_model *m, const float *logits, float *dlogits,
                            double *top1) {
    size_t N = m->st.N, V = (size_t)m->cfg.V;
    double total = 0.0;
    size_t hits = 0;
    for (size_t n = 0; n < N; n++) {
        const float *z = logits + n * V;
        float *g = dlogits + n * V;
        size_t arg = 0;
        for (size_t v = 1; v < V; v++)
            if (z[v] > z[arg])
                arg = v;
        float zmax = z[arg];
        double sum = 0.0;
        for (size_t v = 0; v < V; v++) {
            g[v] = expf(z[v] - zmax);
            sum += g[v];
        }
        int32_t y = m->targets[n];
        total += log(sum) + (double)zmax - (double)z[y];
        hits += arg == (size_t)y;

        float scale = (float)(1.0 / (sum * (double)N));
        for (size_t v = 0; v < V; v++)
            g[v] *= scale;
        g[y] -= (float)(1.0 / (double)N);
    }
    if (top1)
        *top1 = (double)hits / (double)N;
    return total / (double)N;
}

int pretrain_loss(pretrain_model *m, const int32_t *tokens, double *loss, double *top1,
                  lrc_error *err) {
    size_t ld = (size_t)m->T + 1;
    if (gather_targets(m, tokens, err) < 0 ||
        llama_train_forward(&m->st, &m->w, tokens, ld, NULL, err) < 0)
        return -1;
    *loss = cross_entropy(m, m->st.logits, m->dlogits, top1);
    return 0;
}

int pretrain_loss_and_grad(pretrain_model *m, const int32_t *tokens, double *loss, lrc_error *err) {
    size_t ld = (size_t)m->T + 1;
    if (gather_targets(m, tokens, err) < 0 ||
        llama_train_forward(&m->st, &m->w, tokens, ld, NULL, err) < 0)
        return -1;
    *loss = cross_entropy(m, m->st.logits, m->dlogits, NULL);
    memset(m->grads, 0, m->n_params * sizeof(float));
    llama_train_backward(&m->st, &m->w, m->dlogits, NULL, NULL, &m->gw);
    return 0;
}

/* ---- export ----------------------------------------------------------------- */

int pretrain_export_hf(const pretrain_model *m, const char *dir, lrc_error *err) {
    char path[4200];
    safetensors_write_tensor *x = calloc(m->n_tensors, sizeof *x);
    if (!x)
        return lrc_errorf(err, "%s: out of memory while exporting the model", dir);
    for (size_t i = 0; i < m->n_tensors; i++) {
        const param_tensor *t = &m->tensors[i];
        x[i].name = t->name;
        x[i].dtype = ST_F32;
        x[i].ndim = t->ndim;
        x[i].shape[0] = t->shape[0];
        x[i].shape[1] = t->shape[1];
        x[i].data = m->params + t->offset;
    }

    int rc = -1;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (llama_config_write(&m->cfg, path, err) == 0) {
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        const char *meta[] = {"format", "pt", NULL};
        rc = safetensors_write(path, x, m->n_tensors, meta, err);
    }
    free(x);
    return rc;
}

/* ---- trainer adapter -------------------------------------------------------- */

static int tp_loss_and_grad(void *ctx, const int32_t *tokens, runlog_step *rec, lrc_error *err) {
    trainer_pretrain *tp = ctx;
    double loss;
    if (pretrain_loss_and_grad(tp->m, tokens, &loss, err) < 0)
        return -1;
    rec->loss = rec->ce = loss;
    rec->kl = rec->clone = 0.0;
    for (int s = 0; s < RUNLOG_N_SITES; s++)
        rec->clone_site[s] = 0.0;
    return 0;
}

static int tp_probe(void *ctx, const int32_t *tokens, runlog_probe *rec, lrc_error *err) {
    trainer_pretrain *tp = ctx;
    double loss, top1;
    if (pretrain_loss(tp->m, tokens, &loss, &top1, err) < 0)
        return -1;
    rec->mi = NULL;
    rec->n_layers = 0;
    rec->top1 = top1;
    rec->ppl_teacher = NAN;
    rec->ppl_student = exp(loss);
    return 0;
}

int trainer_pretrain_init(trainer_pretrain *tp, pretrain_model *m, trainer_model *out,
                          lrc_error *err) {
    memset(tp, 0, sizeof *tp);
    tp->m = m;
    tp->tensors = calloc(m->n_tensors, sizeof *tp->tensors);
    if (!tp->tensors)
        return lrc_errorf(err, "pretrain: out of memory for the checkpoint table");
    for (size_t i = 0; i < m->n_tensors; i++) {
        const param_tensor *t = &m->tensors[i];
        checkpoint_tensor *c = &tp->tensors[i];
        c->name = t->name;
        c->ndim = t->ndim;
        c->shape[0] = t->shape[0];
        c->shape[1] = t->shape[1];
        c->data = m->params + t->offset;
        c->offset = t->offset;
    }
    *out = (trainer_model){.ctx = tp,
                           .params = m->params,
                           .grads = m->grads,
                           .n_params = m->n_params,
                           .tensors = tp->tensors,
                           .n_tensors = m->n_tensors,
                           .loss_and_grad = tp_loss_and_grad,
                           .probe = tp_probe};
    return 0;
}

void trainer_pretrain_free(trainer_pretrain *tp) {
    free(tp->tensors);
    tp->tensors = NULL;
}
