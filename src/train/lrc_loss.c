/*
 * LRC loss parts and their gradients. The logit losses work one row at a
 * time from three log-sum-exps (student at 1 and at τ, teacher at τ), in
 * two vectorised passes that keep the teacher's exponentials in the
 * gradient row, so they need no scratch:
 *   dCE/dz_s   = (softmax(z_s) - onehot(target)) / N
 *   dKL/dz_s   = (softmax(z_s/τ) - softmax(z_t/τ)) / (τ·N)
 * The clone losses are MSEs whose gradients flow back through the teacher's
 * W_o (attn_out) and through D on both sides (mlp_out).
 */
#include "train/lrc_loss.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "core/blas.h"
#include "core/simd.h"
#include "core/tensor.h"

static const char *const site_names[LRC_N_SITES] = {"q",    "k",  "v",      "attn_out",
                                                    "gate", "up", "mlp_out"};

const char *lrc_site_name(lrc_site site) {
    return site >= 0 && site < LRC_N_SITES ? site_names[site] : "?";
}

lrc_loss_config lrc_loss_config_default(void) {
    lrc_loss_config c = {.w_ce = 1.0, .w_kl = 1.0, .w_clone = 1.0, .tau = 1.0};
    for (int i = 0; i < LRC_N_SITES; i++)
        c.site_weight[i] = 1.0;
    return c;
}

static int check_weight(double w, const char *what, lrc_error *err) {
    if (!(isfinite(w) && w >= 0.0))
        return lrc_errorf(err, "%s is %g; expected a finite number >= 0", what, w);
    return 0;
}

int lrc_loss_config_validate(const lrc_loss_config *c, lrc_error *err) {
    if (check_weight(c->w_ce, "CE weight", err) || check_weight(c->w_kl, "KL weight", err) ||
        check_weight(c->w_clone, "clone weight", err))
        return -1;
    for (int i = 0; i < LRC_N_SITES; i++)
        if (check_weight(c->site_weight[i], site_names[i], err))
            return lrc_error_prefix(err, "clone site weight");
    if (!(isfinite(c->tau) && c->tau > 0.0))
        return lrc_errorf(err, "KL temperature is %g; expected a finite number > 0", c->tau);
    return 0;
}

/* exp_f32x4 (core/simd.h) serves here only for x <= 0: logits minus their
 * row maximum, over τ. */

static float exp_f32(float x) {
    return exp_f32x4(f32x4_splat(x))[0];
}

/* Two doubles as one vector, for the sums that decide the loss values. */
typedef double f64x2 __attribute__((vector_size(16)));
typedef int64_t i64x2 __attribute__((vector_size(16)));
typedef uint64_t u64x2 __attribute__((vector_size(16)));

static inline f64x2 f64x2_splat(double v) {
    return (f64x2){v, v};
}

/* exp(x) lane by lane for x <= 0 in double precision: the steps of
 * exp_f32x4 with the Taylor series to f^12. Against libm's exp, sampled
 * every 3.7e-4 over [-708, 0], the relative error stayed below 5e-16.
 * Inputs below -708 are clamped there (about 3e-308). */
static inline f64x2 exp_f64x2(f64x2 x) {
    const f64x2 lo = f64x2_splat(-708.0);
    i64x2 below = x < lo;
    x = (f64x2)(((i64x2)x & ~below) | ((i64x2)lo & below));

    /* Adding 1.5·2^52 rounds x/ln2 to the integer n, held in the low bits. */
    const f64x2 magic = f64x2_splat(6755399441055744.0);
    f64x2 t = x * f64x2_splat(1.4426950408889634074) + magic;
    f64x2 n = t - magic;
    f64x2 f = x - n * f64x2_splat(0.693147180369123816490); /* ln2, high bits */
    f = f - n * f64x2_splat(1.90821492927058770002e-10);    /* ln2, low bits */

    f64x2 p = f64x2_splat(1.0 / 479001600.0);
    static const double coef[] = {
        1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0,
        1.0 / 120.0,      1.0 / 24.0,      1.0 / 6.0,      0.5,           1.0,          1.0};
    for (size_t i = 0; i < sizeof coef / sizeof coef[0]; i++)
        p = p * f + f64x2_splat(coef[i]);

    u64x2 shift = ((u64x2)t - (u64x2)magic) << 52;
    return (f64x2)((u64x2)p + shift);
}

static inline f64x2 f64x2_load_floats(const float *p) {
    return (f64x2){(double)p[0], (double)p[1]};
}

static double exp_f64(double x) {
    return exp_f64x2(f64x2_splat(x))[0];
}

static float max_of(const float *z, size_t V) {
    float mx = z[0];
    for (size_t v = 1; v < V; v++)
        mx = z[v] > mx ? z[v] : mx;
    return mx;
}

/* Sums over one row of logits, the student's zs and the teacher's zt, each
 * shifted by its maximum (ms, mt), in double precision because the KL of
 * two close distributions is a small difference of them:
 *   s1 = Σ exp(zs - ms)        st = Σ exp((zs - ms)/τ)
 *   tt = Σ exp((zt - mt)/τ)    a  = Σ exp((zt - mt)/τ)·(zt - zs)
 * The teacher's terms exp((zt - mt)/τ) are written to et as floats; et may
 * alias zt, since each element is read before it is written. */
typedef struct row_sums {
    double s1, st, tt, a;
} row_sums;

static row_sums row_pass(float *et, const float *zs, const float *zt, size_t V, double ms,
                         double mt, double inv_tau, int tau_is_one) {
    const f64x2 vms = f64x2_splat(ms), vmt = f64x2_splat(mt), vinv = f64x2_splat(inv_tau);
    f64x2 s1 = f64x2_splat(0.0), st = f64x2_splat(0.0), tt = f64x2_splat(0.0), a = f64x2_splat(0.0);
    size_t v = 0;
    for (; v + 2 <= V; v += 2) {
        f64x2 s = f64x2_load_floats(zs + v), t = f64x2_load_floats(zt + v);
        f64x2 es = exp_f64x2(s - vms);
        f64x2 e = exp_f64x2((t - vmt) * vinv);
        s1 += es;
        st += tau_is_one ? es : exp_f64x2((s - vms) * vinv);
        tt += e;
        a += e * (t - s);
        et[v] = (float)e[0];
        et[v + 1] = (float)e[1];
    }
    row_sums r = {s1[0] + s1[1], st[0] + st[1], tt[0] + tt[1], a[0] + a[1]};
    for (; v < V; v++) {
        double s = zs[v], t = zt[v];
        double es = exp_f64(s - ms), e = exp_f64((t - mt) * inv_tau);
        r.s1 += es;
        r.st += tau_is_one ? es : exp_f64((s - ms) * inv_tau);
        r.tt += e;
        r.a += e * (t - s);
        et[v] = (float)e;
    }
    return r;
}

/* dz = ce·softmax(zs) + kl·(softmax(zs/τ) - pt), where et contains the
 * teacher's unnormalised terms and may alias dz. */
static void row_grad(float *dz, const float *zs, const float *et, size_t V, float ms, float inv_tau,
                     int tau_is_one, float ce_s1, float kl_st, float kl_tt) {
    const f32x4 vms = f32x4_splat(ms), vinv = f32x4_splat(inv_tau);
    const f32x4 vce = f32x4_splat(ce_s1), vkls = f32x4_splat(kl_st), vklt = f32x4_splat(kl_tt);
    size_t v = 0;
    for (; v + 4 <= V; v += 4) {
        f32x4 s = f32x4_load(zs + v);
        f32x4 es = exp_f32x4(s - vms);
        f32x4 est = tau_is_one ? es : exp_f32x4((s - vms) * vinv);
        f32x4_store(dz + v, vce * es + vkls * est - vklt * f32x4_load(et + v));
    }
    for (; v < V; v++) {
        float es = exp_f32(zs[v] - ms);
        float est = tau_is_one ? es : exp_f32((zs[v] - ms) * inv_tau);
        dz[v] = ce_s1 * es + kl_st * est - kl_tt * et[v];
    }
}

/* One share of the rows of lrc_logit_loss, with its partial sums. */
typedef struct logit_loss_job {
    float *dlogits;
    const float *student_logits, *teacher_logits;
    const int32_t *targets;
    size_t row_begin, row_end, V;
    double tau, ce_scale, kl_scale;
    double ce, kl; /* sums over the job's rows */
} logit_loss_job;

/*
 * Per row, with S1, Sτ and Tτ the shifted sums of row_pass:
 *   CE = ms + ln S1 - zs[target]
 *   KL = Σ pt·(ln pt - ln ps)
 *      = (Σ et·(zt - zs))/(τ·Tτ) + (ms - mt)/τ - ln Tτ + ln Sτ,
 * using Σ pt = 1. So two passes over the row suffice: row_pass takes the
 * sums in double, and row_grad recomputes the student's exponentials in
 * float for the gradient. At τ = 1 that is three exponentials per logit,
 * where the direct formulas take six.
 */
static void *logit_loss_rows(void *arg) {
    logit_loss_job *job = arg;
    size_t V = job->V;
    double tau = job->tau;
    float inv_tau = (float)(1.0 / tau);
    int tau_is_one = tau == 1.0;

    job->ce = 0.0;
    job->kl = 0.0;
    for (size_t n = job->row_begin; n < job->row_end; n++) {
        const float *zs = job->student_logits + n * V, *zt = job->teacher_logits + n * V;
        float *dz = job->dlogits + n * V;
        float ms = max_of(zs, V), mt = max_of(zt, V);
        row_sums r = row_pass(dz, zs, zt, V, ms, mt, 1.0 / tau, tau_is_one);

        job->ce += (double)ms + log(r.s1) - (double)zs[job->targets[n]];
        job->kl += r.a / (tau * r.tt) + ((double)ms - (double)mt) / tau - log(r.tt) + log(r.st);
        row_grad(dz, zs, dz, V, ms, inv_tau, tau_is_one, (float)(job->ce_scale / r.s1),
                 (float)(job->kl_scale / r.st), (float)(job->kl_scale / r.tt));
        dz[job->targets[n]] -= (float)job->ce_scale;
    }
    return NULL;
}

/* The rows are always split into the same two halves and their sums added
 * in the same order, so the result does not depend on whether a second
 * thread ran one half. It does when OpenBLAS has two or more threads (the
 * rows are independent); if the thread cannot start, this thread runs both
 * halves. */
void lrc_logit_loss(float *dlogits, lrc_loss_parts *parts, const float *student_logits,
                    const float *teacher_logits, const int32_t *targets, size_t N, size_t V,
                    const lrc_loss_config *cfg) {
    logit_loss_job jobs[2];
    for (int i = 0; i < 2; i++)
        jobs[i] = (logit_loss_job){.dlogits = dlogits,
                                   .student_logits = student_logits,
                                   .teacher_logits = teacher_logits,
                                   .targets = targets,
                                   .row_begin = i == 0 ? 0 : N / 2,
                                   .row_end = i == 0 ? N / 2 : N,
                                   .V = V,
                                   .tau = cfg->tau,
                                   .ce_scale = cfg->w_ce / (double)N,
                                   .kl_scale = cfg->w_kl / (cfg->tau * (double)N)};

    pthread_t helper;
    bool threaded = N >= 2 && blas_get_threads() >= 2 &&
                    pthread_create(&helper, NULL, logit_loss_rows, &jobs[1]) == 0;
    logit_loss_rows(&jobs[0]);
    if (threaded)
        pthread_join(helper, NULL);
    else
        logit_loss_rows(&jobs[1]);

    parts->ce = (jobs[0].ce + jobs[1].ce) / (double)N;
    parts->kl = (jobs[0].kl + jobs[1].kl) / (double)N;
}

double lrc_mse(float *ds, float *dt, const float *s, const float *t, size_t n, double scale) {
    double sum = 0.0, g = 2.0 * scale / (double)n;
    for (size_t i = 0; i < n; i++) {
        double diff = (double)s[i] - (double)t[i];
        sum += diff * diff;
        if (ds)
            ds[i] += (float)(g * diff);
        if (dt)
            dt[i] -= (float)(g * diff);
    }
    return sum / (double)n;
}

int lrc_loss_workspace_init(lrc_loss_workspace *ws, const llama_config *tc, size_t N, size_t r,
                            lrc_error *err) {
    memset(ws, 0, sizeof *ws);
    size_t d = (size_t)tc->d;
    ws->N = N;
    ws->d = d;
    ws->r = r;
    ws->qd = (size_t)tc->H * (size_t)tc->h;
    ws->kvd = (size_t)tc->Hkv * (size_t)tc->h;
    ws->I = (size_t)tc->I;
    float **bufs[] = {&ws->proj_s, &ws->proj_t, &ws->dproj, &ws->down_t, &ws->ddown};
    size_t sizes[] = {N * d, N * d, N * d, N * r, N * r};
    for (size_t i = 0; i < 5; i++) {
        *bufs[i] = tensor_alloc(sizes[i], "clone loss scratch", err);
        if (!*bufs[i]) {
            lrc_loss_workspace_free(ws);
            return -1;
        }
    }
    return 0;
}

void lrc_loss_workspace_free(lrc_loss_workspace *ws) {
    tensor_free(ws->proj_s);
    tensor_free(ws->proj_t);
    tensor_free(ws->dproj);
    tensor_free(ws->down_t);
    tensor_free(ws->ddown);
    memset(ws, 0, sizeof *ws);
}

/* The attn_out MSE mean(((s - t)·W_oᵀ)²), adding its gradient times scale
 * into ds. The difference s - t is formed in dproj, as many rows at a time
 * as fit in its N·d floats, and its product with W_oᵀ lands in proj_s.
 * When not even one row fits (N·d < H·h, tiny models only), both products
 * are taken and subtracted instead.
 *   ds, s, t (N, H*h)   wo (d, H*h) */
static double attn_out_mse(float *ds, const float *s, const float *t, const float *wo,
                           lrc_loss_workspace *ws, double scale) {
    size_t N = ws->N, d = ws->d, qd = ws->qd;
    size_t rows = qd <= d ? N : N * d / qd;
    if (rows == 0) {
        blas_linear_forward(ws->proj_s, s, wo, NULL, N, qd, d);
        blas_linear_forward(ws->proj_t, t, wo, NULL, N, qd, d);
        for (size_t i = 0; i < N * d; i++)
            ws->proj_s[i] -= ws->proj_t[i];
    }
    for (size_t r0 = 0; rows > 0 && r0 < N; r0 += rows) {
        size_t n = r0 + rows <= N ? rows : N - r0;
        for (size_t i = 0; i < n * qd; i++)
            ws->dproj[i] = s[r0 * qd + i] - t[r0 * qd + i];
        blas_linear_forward(ws->proj_s + r0 * d, ws->dproj, wo, NULL, n, qd, d);
    }

    size_t count = N * d;
    double sum = 0.0, g = 2.0 * scale / (double)count;
    for (size_t i = 0; i < count; i++) {
        double x = ws->proj_s[i];
        sum += x * x;
        ws->dproj[i] = (float)(g * x);
    }
    blas_linear_backward(ds, NULL, NULL, ws->dproj, s, wo, N, qd, d);
    return sum / (double)count;
}

void lrc_clone_loss_layer(double site_loss[LRC_N_SITES], llama_train_sites *ds, float *dD,
                          const llama_train_sites *t, const llama_train_sites *s, const float *wo,
                          const float *D, lrc_loss_workspace *ws, const lrc_loss_config *cfg) {
    size_t N = ws->N, d = ws->d, r = ws->r, qd = ws->qd, kvd = ws->kvd, I = ws->I;
    const double *w = cfg->site_weight;
    double wc = cfg->w_clone;

    site_loss[LRC_SITE_Q] += lrc_mse(ds->q, NULL, s->q, t->q, N * qd, wc * w[LRC_SITE_Q]);
    site_loss[LRC_SITE_K] += lrc_mse(ds->k, NULL, s->k, t->k, N * kvd, wc * w[LRC_SITE_K]);
    site_loss[LRC_SITE_V] += lrc_mse(ds->v, NULL, s->v, t->v, N * kvd, wc * w[LRC_SITE_V]);
    site_loss[LRC_SITE_GATE] +=
        lrc_mse(ds->gate, NULL, s->gate, t->gate, N * I, wc * w[LRC_SITE_GATE]);
    site_loss[LRC_SITE_UP] += lrc_mse(ds->up, NULL, s->up, t->up, N * I, wc * w[LRC_SITE_UP]);

    /* attn_out: both attention outputs through the teacher's W_o (d, H*h).
     * Since s·W_oᵀ - t·W_oᵀ = (s - t)·W_oᵀ, one product of the difference
     * gives the MSE, saving a third of this site's work. */
    site_loss[LRC_SITE_ATTN_OUT] +=
        attn_out_mse(ds->att, s->att, t->att, wo, ws, wc * w[LRC_SITE_ATTN_OUT]);

    /* mlp_out: the student's own output against D · (teacher's W_down·z). */
    blas_linear_forward(ws->down_t, t->mlp_out, D, NULL, N, d, r);
    memset(ws->ddown, 0, N * r * sizeof(float));
    site_loss[LRC_SITE_MLP_OUT] +=
        lrc_mse(ds->mlp_out, ws->ddown, s->mlp_out, ws->down_t, N * r, wc * w[LRC_SITE_MLP_OUT]);
    blas_linear_backward(NULL, dD, NULL, ws->ddown, t->mlp_out, D, N, d, r);
}

void lrc_loss_total(lrc_loss_parts *parts, const lrc_loss_config *cfg) {
    parts->clone = 0.0;
    for (int i = 0; i < LRC_N_SITES; i++)
        parts->clone += cfg->site_weight[i] * parts->clone_site[i];
    parts->total = cfg->w_ce * parts->ce + cfg->w_kl * parts->kl + cfg->w_clone * parts->clone;
}
