/*
 * The LRC student: parameter layout, weight generation, the chain rule from
 * generated weights back into the projections, initialisation, import and
 * export of the trainable tensors, and the training step.
 *
 * All matrices are row-major in PyTorch's (out, in) layout. With a generated
 * weight W^s and its gradient dW^s (from llama_train_backward):
 *   q, k, v  W^s = W·A       dA  += Wᵀ·dW^s        (d, r)
 *   o        W^s = B_o·W_o   dB_o += dW^s·W_oᵀ     (r, d)
 *   gate, up W^s = W·Gᵀ      dG  += dW^sᵀ·W        (r, d)
 *   down     W^s = D·W_down  dD  += dW^s·W_downᵀ   (r, d)
 *   head     W^s = W_head·Z_hᵀ  dZ_h += dW^sᵀ·W_head
 *   embedding rows x0 = E[tok]·Zᵀ  dZ += dx0ᵀ·E[tok]  (only the batch's rows)
 * The layers' dW^s share one layer-sized buffer: the backward finishes a
 * layer before the clone-loss callback of the next lower one, which first
 * applies the chain rule to the finished layer and clears the buffer. This
 * saves n_layers - 1 layers of generated gradients (205 MB for
 * SmolLM2-135M at rank 288) and uses each dW^s while it is in cache.
 */
#include <cblas.h>
#include <lapacke.h>
/* OpenBLAS's cblas.h and lapacke.h pull in <complex.h>, whose macro I would
 * rename the field I of llama_config. */
#undef I

#include "train/lrc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/tensor.h"
#include "model/safetensors.h"

/* C = op(A)·op(B) + beta·C, row-major, with op(X) = Xᵀ when tX.
 *   C (M, N), op(A) (M, K), op(B) (K, N) */
static void gemm(bool tA, bool tB, size_t M, size_t N, size_t K, const float *A, const float *B,
                 float beta, float *C) {
    cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans,
                (int)M, (int)N, (int)K, 1.0f, A, tA ? (int)M : (int)K, B, tB ? (int)K : (int)N,
                beta, C, (int)N);
}

/* ---- layout ---------------------------------------------------------------- */

static int add_tensor(lrc_student *s, size_t *offset, const char *name, int64_t rows, int64_t cols,
                      bool norm) {
    param_tensor *t = &s->tensors[s->n_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->offset = *offset;
    t->norm = norm;
    t->ndim = cols > 0 ? 2 : 1;
    t->shape[0] = rows;
    t->shape[1] = cols > 0 ? cols : 0;
    t->numel = (size_t)rows * (size_t)(cols > 0 ? cols : 1);
    *offset += t->numel;
    return 0;
}

/* Fill the table of trainable tensors and return the element count. */
static size_t build_table(lrc_student *s) {
    size_t off = 0;
    int64_t d = s->teacher->cfg.d, r = s->r;
    char name[PARAM_NAME_MAX];

    add_tensor(s, &off, "model.zoom.weight", r, d, false);
    if (!s->tie_head)
        add_tensor(s, &off, "zoom_down.weight", r, d, false);
    for (int l = 0; l < s->cfg.n_layers; l++) {
        static const struct {
            const char *suffix;
            bool d_by_r; /* (d, r) rather than (r, d) */
        } proj[] = {
            {"self_attn.zoom_q.weight", true}, {"self_attn.zoom_k.weight", true},
            {"self_attn.zoom_v.weight", true}, {"self_attn.zoom_down.weight", false},
            {"mlp.zoom_gate.weight", false},   {"mlp.zoom_up.weight", false},
            {"mlp.zoom_down.weight", false},
        };
        for (size_t i = 0; i < sizeof proj / sizeof proj[0]; i++) {
            snprintf(name, sizeof name, "model.layers.%d.%s", l, proj[i].suffix);
            add_tensor(s, &off, name, proj[i].d_by_r ? d : r, proj[i].d_by_r ? r : d, false);
        }
        snprintf(name, sizeof name, "model.layers.%d.target_input_layernorm.weight", l);
        add_tensor(s, &off, name, r, 0, true);
        snprintf(name, sizeof name, "model.layers.%d.target_post_attention_layernorm.weight", l);
        add_tensor(s, &off, name, r, 0, true);
    }
    add_tensor(s, &off, "model.target_norm.weight", r, 0, true);
    return off;
}

/* Point the per-tensor fields of params (or grads) at base. */
static void bind_params(lrc_student *s, float *base, float **zoom, float **zoom_head,
                        lrc_layer_params *layer, float **final_norm) {
    size_t i = 0;
    *zoom = base + s->tensors[i++].offset;
    *zoom_head = s->tie_head ? *zoom : base + s->tensors[i++].offset;
    for (int l = 0; l < s->cfg.n_layers; l++) {
        lrc_layer_params *p = &layer[l];
        float **fields[] = {&p->zoom_q,  &p->zoom_k,    &p->zoom_v,    &p->zoom_o,  &p->zoom_gate,
                            &p->zoom_up, &p->zoom_down, &p->attn_norm, &p->mlp_norm};
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
            *fields[f] = base + s->tensors[i++].offset;
    }
    *final_norm = base + s->tensors[i].offset;
}

/* Carve the generated weights of every layer out of arena; norms point into
 * the parameters (or their gradients), biases at the teacher's (or NULL).
 * For gradients (grads) every layer shares the one slot after the LM head. */
static void bind_generated(lrc_student *s, llama_weights *w, float *arena,
                           const lrc_layer_params *norms, float *final_norm, bool grads) {
    const llama_config *c = &s->teacher->cfg;
    size_t r = (size_t)s->r, qd = (size_t)c->H * c->h, kvd = (size_t)c->Hkv * c->h;
    size_t I = (size_t)c->I;
    float *p = arena;

    w->embed = NULL;
    w->lm_head = p, p += (size_t)c->V * r;
    w->final_norm = final_norm;
    float *slot = p;
    for (int l = 0; l < c->n_layers; l++) {
        llama_layer *L = &w->layers[l];
        const llama_layer *tl = &s->teacher->w.layers[l];
        memset(L, 0, sizeof *L);
        if (grads)
            p = slot;
        L->wq = p, p += qd * r;
        L->wk = p, p += kvd * r;
        L->wv = p, p += kvd * r;
        L->wo = p, p += r * qd;
        L->w_gate = p, p += I * r;
        L->w_up = p, p += I * r;
        L->w_down = p, p += r * I;
        L->attn_norm = norms[l].attn_norm;
        L->mlp_norm = norms[l].mlp_norm;
        if (!grads) {
            L->bq = tl->bq;
            L->bk = tl->bk;
            L->bv = tl->bv;
        }
    }
}

/* Floats of the generated weights: the LM head and n_layers layers. */
static size_t generated_floats(const llama_config *c, size_t r, size_t n_layers) {
    size_t qd = (size_t)c->H * c->h, kvd = (size_t)c->Hkv * c->h;
    return (size_t)c->V * r + n_layers * r * (2 * qd + 2 * kvd + 3 * (size_t)c->I);
}

int lrc_init(lrc_student *s, const llama_model *teacher, const lrc_options *opt, lrc_error *err) {
    memset(s, 0, sizeof *s);
    const llama_config *tc = &teacher->cfg;
    if (opt->rank < 1 || opt->rank > tc->d)
        return lrc_errorf(
            err, "rank %d is invalid: expected 1 <= rank <= %d (the teacher's hidden size)",
            opt->rank, tc->d);
    if (tc->o_bias)
        return lrc_errorf(err,
                          "%s: the teacher's o_proj has a bias (attention_bias), which the "
                          "low-rank student does not model; use a teacher without it",
                          teacher->path);
    if (opt->B <= 0 || opt->T <= 0)
        return lrc_errorf(err, "training batch %d x %d: expected positive sizes", opt->B, opt->T);

    s->teacher = teacher;
    s->r = opt->rank;
    s->tie_head = opt->tie_head;
    s->cfg = *tc;
    s->cfg.d = opt->rank;
    s->cfg.head_dim_explicit = true;
    s->B = opt->B;
    s->T = opt->T;

    size_t L = (size_t)tc->n_layers, N = (size_t)opt->B * (size_t)opt->T;
    s->tensors = calloc(2 + 9 * L + 1, sizeof *s->tensors);
    s->layer = calloc(L, sizeof *s->layer);
    s->glayer = calloc(L, sizeof *s->glayer);
    s->w.layers = calloc(L, sizeof *s->w.layers);
    s->gw.layers = calloc(L, sizeof *s->gw.layers);
    s->targets = calloc(N, sizeof *s->targets);
    if (!s->tensors || !s->layer || !s->glayer || !s->w.layers || !s->gw.layers || !s->targets) {
        lrc_free(s);
        return lrc_errorf(err, "LRC student: out of memory");
    }

    s->n_params = build_table(s);
    size_t gen = generated_floats(tc, (size_t)s->r, L);
    size_t ggen = generated_floats(tc, (size_t)s->r, 1);
    struct {
        float **p;
        size_t n;
        const char *what;
    } bufs[] = {
        {&s->params, s->n_params, "LRC parameters"},
        {&s->grads, s->n_params, "LRC gradients"},
        {&s->gen_arena, gen, "generated student weights"},
        {&s->ggen_arena, ggen, "generated weight gradients"},
        {&s->x0, N * (size_t)s->r, "student embeddings"},
        {&s->e_rows, N * (size_t)tc->d, "teacher embeddings"},
    };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        *bufs[i].p = tensor_alloc(bufs[i].n, bufs[i].what, err);
        if (!*bufs[i].p) {
            lrc_free(s);
            return -1;
        }
    }

    bind_params(s, s->params, &s->zoom, &s->zoom_head, s->layer, &s->final_norm);
    bind_params(s, s->grads, &s->gzoom, &s->gzoom_head, s->glayer, &s->gfinal_norm);
    bind_generated(s, &s->w, s->gen_arena, s->layer, s->final_norm, false);
    bind_generated(s, &s->gw, s->ggen_arena, s->glayer, s->gfinal_norm, true);
    for (size_t i = 0; i < s->n_tensors; i++)
        if (s->tensors[i].norm)
            for (size_t j = 0; j < s->tensors[i].numel; j++)
                s->params[s->tensors[i].offset + j] = 1.0f;

    if (llama_train_init(&s->teacher_state, tc, opt->B, opt->T, false, err) < 0 ||
        llama_train_init(&s->student_state, &s->cfg, opt->B, opt->T, true, err) < 0 ||
        lrc_loss_workspace_init(&s->loss_ws, tc, N, (size_t)s->r, err) < 0) {
        lrc_free(s);
        return -1;
    }
    return 0;
}

void lrc_free(lrc_student *s) {
    float *bufs[] = {s->params, s->grads, s->gen_arena, s->ggen_arena, s->x0, s->e_rows};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        tensor_free(bufs[i]);
    llama_train_free(&s->teacher_state);
    llama_train_free(&s->student_state);
    lrc_loss_workspace_free(&s->loss_ws);
    free(s->tensors);
    free(s->layer);
    free(s->glayer);
    free(s->w.layers);
    free(s->gw.layers);
    free(s->targets);
    memset(s, 0, sizeof *s);
}

/* ---- initialisation --------------------------------------------------------- */

static void set_norms_to_one(lrc_student *s) {
    for (size_t i = 0; i < s->n_tensors; i++)
        if (s->tensors[i].norm)
            for (size_t j = 0; j < s->tensors[i].numel; j++)
                s->params[s->tensors[i].offset + j] = 1.0f;
}

void lrc_init_random(lrc_student *s, uint64_t seed) {
    const double two_pi = 6.283185307179586;
    uint64_t state = seed;
    for (size_t i = 0; i < s->n_tensors; i++) {
        const param_tensor *t = &s->tensors[i];
        if (t->norm)
            continue;
        float *p = s->params + t->offset;
        for (size_t j = 0; j < t->numel; j += 2) {
            double u1 = rng_uniform01(&state), u2 = rng_uniform01(&state);
            double radius = 0.02 * sqrt(-2.0 * log(u1));
            p[j] = (float)(radius * cos(two_pi * u2));
            if (j + 1 < t->numel)
                p[j + 1] = (float)(radius * sin(two_pi * u2));
        }
    }
    set_norms_to_one(s);
}

/*
 * The top r singular vectors of W (m, n) on one side, written as the rows
 * of out (r, n) for the right side (rows of Vᵀ) or (r, m) for the left side
 * (columns of U). jobz 'O' applies when the wanted factor is the smaller
 * square one, so the m x m U of a tall matrix such as the embedding is never
 * formed. Otherwise 'A' returns the full square factor, so r may exceed
 * min(m, n), with the extra vectors spanning the null space.
 */
static int svd_vectors(float *out, const float *W, size_t m, size_t n, size_t r, bool right,
                       const char *what, lrc_error *err) {
    size_t k = m < n ? m : n;
    bool wanted_is_smaller = right ? m >= n : m < n;
    char jobz = wanted_is_smaller ? 'O' : 'A';
    size_t u_floats = !right || jobz == 'A' ? m * m : m;
    size_t vt_floats = right || jobz == 'A' ? n * n : n;
    float *a = malloc(m * n * sizeof *a);
    float *sv = malloc(k * sizeof *sv);
    float *u = malloc(u_floats * sizeof *u);
    float *vt = malloc(vt_floats * sizeof *vt);
    if (!a || !sv || !u || !vt) {
        free(a), free(sv), free(u), free(vt);
        return lrc_errorf(err, "SVD of %s: out of memory", what);
    }
    memcpy(a, W, m * n * sizeof *a);
    lapack_int info = LAPACKE_sgesdd(LAPACK_ROW_MAJOR, jobz, (lapack_int)m, (lapack_int)n, a,
                                     (lapack_int)n, sv, u, (lapack_int)m, vt, (lapack_int)n);
    if (info != 0) {
        free(a), free(sv), free(u), free(vt);
        return lrc_errorf(err,
                          "SVD of %s (%zu x %zu): LAPACKE_sgesdd returned %d; use "
                          "--init-method random",
                          what, m, n, (int)info);
    }

    /* Right vectors are rows of vt (n x n), left ones columns of u (m x m):
     * 'O' leaves those in vt for m >= n and in u for m < n, 'A' fills both. */
    for (size_t j = 0; j < r; j++) {
        if (right)
            memcpy(out + j * n, vt + j * n, n * sizeof *out);
        else
            for (size_t i = 0; i < m; i++)
                out[j * m + i] = u[i * m + j];
    }
    free(a), free(sv), free(u), free(vt);
    return 0;
}

/* out (cols, rows) = in (rows, cols)ᵀ */
static void transpose(float *out, const float *in, size_t rows, size_t cols) {
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            out[j * rows + i] = in[i * cols + j];
}

int lrc_init_svd(lrc_student *s, lrc_error *err) {
    const llama_config *c = &s->teacher->cfg;
    const llama_weights *tw = &s->teacher->w;
    size_t d = (size_t)c->d, r = (size_t)s->r, V = (size_t)c->V, I = (size_t)c->I;
    size_t qd = (size_t)c->H * c->h, kvd = (size_t)c->Hkv * c->h;
    float *tmp = malloc(r * d * sizeof *tmp);
    if (!tmp)
        return lrc_errorf(err, "SVD initialisation: out of memory");

    int rc = svd_vectors(s->zoom, tw->embed, V, d, r, true, "model.embed_tokens", err);
    if (rc == 0 && !s->tie_head)
        rc = svd_vectors(s->zoom_head, tw->lm_head, V, d, r, true, "lm_head", err);
    for (int l = 0; rc == 0 && l < c->n_layers; l++) {
        const llama_layer *t = &tw->layers[l];
        lrc_layer_params *p = &s->layer[l];
        const struct {
            float *dst;
            const float *W;
            size_t m, n;
            bool right, as_columns;
            const char *what;
        } jobs[] = {
            {p->zoom_q, t->wq, qd, d, true, true, "q_proj"},
            {p->zoom_k, t->wk, kvd, d, true, true, "k_proj"},
            {p->zoom_v, t->wv, kvd, d, true, true, "v_proj"},
            {p->zoom_o, t->wo, d, qd, false, false, "o_proj"},
            {p->zoom_gate, t->w_gate, I, d, true, false, "gate_proj"},
            {p->zoom_up, t->w_up, I, d, true, false, "up_proj"},
            {p->zoom_down, t->w_down, d, I, false, false, "down_proj"},
        };
        for (size_t j = 0; rc == 0 && j < sizeof jobs / sizeof jobs[0]; j++) {
            char what[64];
            snprintf(what, sizeof what, "layer %d %s", l, jobs[j].what);
            /* A (d, r) holds the vectors as columns; the others as rows (r, d). */
            float *dst = jobs[j].as_columns ? tmp : jobs[j].dst;
            rc = svd_vectors(dst, jobs[j].W, jobs[j].m, jobs[j].n, r, jobs[j].right, what, err);
            if (rc == 0 && jobs[j].as_columns)
                transpose(jobs[j].dst, tmp, r, d);
        }
    }
    free(tmp);
    set_norms_to_one(s);
    return rc;
}

/* ---- import and export of the trainable tensors ----------------------------- */

static void shape_text(char *buf, size_t n, int ndim, const int64_t *shape) {
    if (ndim == 1)
        snprintf(buf, n, "(%lld)", (long long)shape[0]);
    else if (ndim == 2)
        snprintf(buf, n, "(%lld, %lld)", (long long)shape[0], (long long)shape[1]);
    else
        snprintf(buf, n, "(%d dimensions)", ndim);
}

static int check_file_tensor(const safetensors_file *f, const param_tensor *t,
                             const safetensors_tensor **found, lrc_error *err) {
    const safetensors_tensor *ft = safetensors_find(f, t->name);
    char want[64], got[64];
    shape_text(want, sizeof want, t->ndim, t->shape);
    if (!ft)
        return lrc_errorf(err, "%s: tensor %s is missing; expected shape %s", f->path, t->name,
                          want);
    bool same = ft->ndim == t->ndim && ft->shape[0] == t->shape[0] &&
                (t->ndim == 1 || ft->shape[1] == t->shape[1]);
    if (!same) {
        shape_text(got, sizeof got, ft->ndim, ft->shape);
        return lrc_errorf(err, "%s: tensor %s has shape %s; expected %s for this teacher and rank",
                          f->path, t->name, got, want);
    }
    if (ft->dtype != ST_F32 && ft->dtype != ST_F16 && ft->dtype != ST_BF16)
        return lrc_errorf(err, "%s: tensor %s has dtype %s; expected F32, F16 or BF16", f->path,
                          t->name, safetensors_dtype_name(ft->dtype));
    *found = ft;
    return 0;
}

int lrc_import(lrc_student *s, const char *path, lrc_error *err) {
    safetensors_file f;
    if (safetensors_open(&f, path, err) < 0)
        return -1;

    /* Check every tensor before changing any parameter. */
    const safetensors_tensor *tied = NULL;
    param_tensor head = s->tensors[0];
    snprintf(head.name, sizeof head.name, "zoom_down.weight");
    if (s->tie_head && safetensors_find(&f, head.name) &&
        check_file_tensor(&f, &head, &tied, err) < 0)
        goto fail;
    for (size_t i = 0; i < s->n_tensors; i++) {
        const safetensors_tensor *ft;
        if (check_file_tensor(&f, &s->tensors[i], &ft, err) < 0)
            goto fail;
    }

    float *copy = NULL;
    if (tied) {
        copy = malloc(head.numel * sizeof *copy);
        if (!copy) {
            lrc_errorf(err, "%s: out of memory", path);
            goto fail;
        }
        const safetensors_tensor *z = safetensors_find(&f, s->tensors[0].name);
        float *zf = malloc(head.numel * sizeof *zf);
        int bad = !zf || safetensors_read_f32(tied, copy, head.numel, err) < 0 ||
                  safetensors_read_f32(z, zf, head.numel, err) < 0 ||
                  memcmp(copy, zf, head.numel * sizeof *zf) != 0;
        free(zf);
        free(copy);
        if (bad) {
            lrc_errorf(err,
                       "%s: tensor zoom_down.weight differs from model.zoom.weight, but the "
                       "student ties the LM head projection to the embedding's; untie it or "
                       "remove zoom_down.weight from the file",
                       path);
            goto fail;
        }
    }
    /* A tensor the student does not have means the file is for another model; a
     * checkpoint's AdamW moments (adamw.*) are the only extra names allowed. */
    for (size_t i = 0; i < f.n_tensors; i++) {
        const char *name = f.tensors[i].name;
        bool known = strncmp(name, "adamw.", 6) == 0 ||
                     (s->tie_head && strcmp(name, "zoom_down.weight") == 0);
        for (size_t j = 0; j < s->n_tensors && !known; j++)
            known = strcmp(name, s->tensors[j].name) == 0;
        if (!known) {
            lrc_errorf(err,
                       "%s: tensor %s is not a parameter of this student; give a file saved "
                       "for the same teacher and rank, or remove the tensor",
                       path, name);
            goto fail;
        }
    }

    /* Read into a copy and check every value is finite before changing params. */
    float *vals = malloc(s->n_params * sizeof *vals);
    if (!vals) {
        lrc_errorf(err, "%s: out of memory", path);
        goto fail;
    }
    for (size_t i = 0; i < s->n_tensors; i++) {
        const param_tensor *t = &s->tensors[i];
        if (safetensors_read_f32(safetensors_find(&f, t->name), vals + t->offset, t->numel, err) <
            0) {
            free(vals);
            goto fail;
        }
        for (size_t k = 0; k < t->numel; k++) {
            float v = vals[t->offset + k];
            if (!isfinite(v)) {
                lrc_errorf(err,
                           "%s: tensor %s contains %s at element %zu; the file is damaged, "
                           "give another --init",
                           path, t->name, isnan(v) ? "NaN" : "Inf", k);
                free(vals);
                goto fail;
            }
        }
    }
    for (size_t i = 0; i < s->n_tensors; i++) {
        const param_tensor *t = &s->tensors[i];
        memcpy(s->params + t->offset, vals + t->offset, t->numel * sizeof *vals);
    }
    free(vals);
    safetensors_close(&f);
    return 0;

fail:
    safetensors_close(&f);
    return -1;
}

int lrc_export_params(const lrc_student *s, const char *path, lrc_error *err) {
    safetensors_write_tensor *w = calloc(s->n_tensors, sizeof *w);
    if (!w)
        return lrc_errorf(err, "%s: out of memory", path);
    for (size_t i = 0; i < s->n_tensors; i++) {
        const param_tensor *t = &s->tensors[i];
        w[i].name = t->name;
        w[i].dtype = ST_F32;
        w[i].ndim = t->ndim;
        w[i].shape[0] = t->shape[0];
        w[i].shape[1] = t->shape[1];
        w[i].data = s->params + t->offset;
    }
    const char *meta[] = {"format", "pt", NULL};
    int rc = safetensors_write(path, w, s->n_tensors, meta, err);
    free(w);
    return rc;
}

/* ---- generation and the chain rule ------------------------------------------ */

void lrc_generate(lrc_student *s) {
    const llama_config *c = &s->teacher->cfg;
    const llama_weights *tw = &s->teacher->w;
    size_t d = (size_t)c->d, r = (size_t)s->r, V = (size_t)c->V, I = (size_t)c->I;
    size_t qd = (size_t)c->H * c->h, kvd = (size_t)c->Hkv * c->h;

    gemm(false, true, V, r, d, tw->lm_head, s->zoom_head, 0.0f, s->w.lm_head);
    for (int l = 0; l < c->n_layers; l++) {
        const llama_layer *t = &tw->layers[l];
        const lrc_layer_params *p = &s->layer[l];
        llama_layer *w = &s->w.layers[l];
        gemm(false, false, qd, r, d, t->wq, p->zoom_q, 0.0f, w->wq);
        gemm(false, false, kvd, r, d, t->wk, p->zoom_k, 0.0f, w->wk);
        gemm(false, false, kvd, r, d, t->wv, p->zoom_v, 0.0f, w->wv);
        gemm(false, false, r, qd, d, p->zoom_o, t->wo, 0.0f, w->wo);
        gemm(false, true, I, r, d, t->w_gate, p->zoom_gate, 0.0f, w->w_gate);
        gemm(false, true, I, r, d, t->w_up, p->zoom_up, 0.0f, w->w_up);
        gemm(false, false, r, I, d, p->zoom_down, t->w_down, 0.0f, w->w_down);
    }
}

void lrc_embed_rows(lrc_student *s, float *out, const int32_t *tokens, size_t n) {
    size_t d = (size_t)s->teacher->cfg.d;
    for (size_t i = 0; i < n; i++)
        memcpy(s->e_rows + i * d, s->teacher->w.embed + (size_t)tokens[i] * d, d * sizeof(float));
    gemm(false, true, n, (size_t)s->r, d, s->e_rows, s->zoom, 0.0f, out);
}

/* Add layer l's generated-weight gradients (s->gw) into its projections,
 * then clear them for the next layer, which shares their buffer. */
static void project_layer_grads(lrc_student *s, int l) {
    const llama_config *c = &s->teacher->cfg;
    const llama_layer *t = &s->teacher->w.layers[l];
    const llama_layer *g = &s->gw.layers[l];
    lrc_layer_params *p = &s->glayer[l];
    size_t d = (size_t)c->d, r = (size_t)s->r, I = (size_t)c->I;
    size_t qd = (size_t)c->H * c->h, kvd = (size_t)c->Hkv * c->h;

    gemm(true, false, d, r, qd, t->wq, g->wq, 1.0f, p->zoom_q);
    gemm(true, false, d, r, kvd, t->wk, g->wk, 1.0f, p->zoom_k);
    gemm(true, false, d, r, kvd, t->wv, g->wv, 1.0f, p->zoom_v);
    gemm(false, true, r, d, qd, g->wo, t->wo, 1.0f, p->zoom_o);
    gemm(true, false, r, d, I, g->w_gate, t->w_gate, 1.0f, p->zoom_gate);
    gemm(true, false, r, d, I, g->w_up, t->w_up, 1.0f, p->zoom_up);
    gemm(false, true, r, d, I, g->w_down, t->w_down, 1.0f, p->zoom_down);
    memset(g->wq, 0, (generated_floats(c, r, 1) - (size_t)c->V * r) * sizeof(float));
}

/* Add the gradients of the LM head (s->gw) and of the embedding rows
 * (s->student_state.dx, with s->e_rows) into Z_h and Z. */
static void project_head_grads(lrc_student *s) {
    const llama_config *c = &s->teacher->cfg;
    size_t d = (size_t)c->d, r = (size_t)s->r, V = (size_t)c->V;
    size_t N = s->student_state.N;

    gemm(true, false, r, d, N, s->student_state.dx, s->e_rows, 1.0f, s->gzoom);
    gemm(true, false, r, d, V, s->gw.lm_head, s->teacher->w.lm_head, 1.0f, s->gzoom_head);
}

/* ---- the training step ------------------------------------------------------ */

int lrc_forward(lrc_student *s, const int32_t *tokens, size_t ld, lrc_error *err) {
    size_t T = (size_t)s->T, V = (size_t)s->cfg.V;
    for (int b = 0; b < s->B; b++)
        for (size_t t = 0; t < T; t++) {
            int32_t tok = tokens[(size_t)b * ld + t];
            if (tok < 0 || (size_t)tok >= V)
                return lrc_errorf(err,
                                  "training batch: token %d at row %d, position %zu is outside "
                                  "the vocabulary 0..%zu",
                                  tok, b, t, V - 1);
            s->student_state.tokens[(size_t)b * T + t] = tok;
        }
    lrc_generate(s);
    lrc_embed_rows(s, s->x0, s->student_state.tokens, s->student_state.N);
    return llama_train_forward(&s->student_state, &s->w, tokens, ld, s->x0, err);
}

typedef struct clone_ctx {
    lrc_student *s;
    lrc_loss_parts *parts;
    const lrc_loss_config *cfg;
} clone_ctx;

/* The site_grad callback of the backward, called as it reaches layer l:
 * the chain rule for the finished layer l + 1, then layer l's clone losses. */
static void clone_site_grad(void *arg, int l, llama_train_sites *dsites) {
    clone_ctx *c = arg;
    lrc_student *s = c->s;
    if (l + 1 < s->cfg.n_layers)
        project_layer_grads(s, l + 1);
    lrc_clone_loss_layer(c->parts->clone_site, dsites, s->glayer[l].zoom_down,
                         &s->teacher_state.sites[l], &s->student_state.sites[l],
                         s->teacher->w.layers[l].wo, s->layer[l].zoom_down, &s->loss_ws, c->cfg);
}

int lrc_step_loss_and_grad(lrc_student *s, const int32_t *tokens, const lrc_loss_config *cfg,
                           lrc_loss_parts *parts, lrc_error *err) {
    size_t T = (size_t)s->T, ld = T + 1, N = s->student_state.N, V = (size_t)s->cfg.V;
    if (lrc_loss_config_validate(cfg, err) < 0)
        return -1;
    for (int b = 0; b < s->B; b++)
        for (size_t t = 0; t < T; t++) {
            int32_t tok = tokens[(size_t)b * ld + t + 1];
            if (tok < 0 || (size_t)tok >= V)
                return lrc_errorf(err,
                                  "training batch: target %d at row %d, position %zu is outside "
                                  "the vocabulary 0..%zu",
                                  tok, b, t + 1, V - 1);
            s->targets[(size_t)b * T + t] = tok;
        }

    /* Clear every gradient. */
    memset(s->grads, 0, s->n_params * sizeof(float));
    memset(s->ggen_arena, 0, generated_floats(&s->teacher->cfg, (size_t)s->r, 1) * sizeof(float));

    /* Forward passes: the frozen teacher, then the generated student. */
    if (llama_train_forward(&s->teacher_state, &s->teacher->w, tokens, ld, NULL, err) < 0 ||
        lrc_forward(s, tokens, ld, err) < 0)
        return -1;

    /* CE and KL with their gradient at the logits. That gradient overwrites
     * the teacher's logits, which nothing reads afterwards, to save an (N, V)
     * buffer. */
    float *dlogits = s->teacher_state.logits;
    memset(parts, 0, sizeof *parts);
    lrc_logit_loss(dlogits, parts, s->student_state.logits, s->teacher_state.logits, s->targets, N,
                   V, cfg);

    /* Backward through the student. Each layer's clone losses and their
     * gradients are computed as the backward reaches the layer, so only one
     * layer's site gradients are held at a time. The chain rule into each
     * layer's projections runs there too, except for layer 0, the LM head
     * and the embedding, whose gradients are complete only at the end. */
    clone_ctx ctx = {s, parts, cfg};
    llama_train_backward(&s->student_state, &s->w, dlogits, clone_site_grad, &ctx, &s->gw);
    lrc_loss_total(parts, cfg);
    project_layer_grads(s, 0);
    project_head_grads(s);
    return 0;
}
