/*
 * LRC loss parts and their gradients. The logit losses work one row at a
 * time from three log-sum-exps (student at 1 and at τ, teacher at τ), so
 * they need no scratch:
 *   dCE/dz_s   = (softmax(z_s) - onehot(target)) / N
 *   dKL/dz_s   = (softmax(z_s/τ) - softmax(z_t/τ)) / (τ·N)
 * The clone losses are MSEs whose gradients flow back through the teacher's
 * W_o (attn_out) and through D on both sides (mlp_out).
 */
#include "train/lrc_loss.h"

#include <math.h>
#include <string.h>

#include "core/blas.h"
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

/* log Σ_v exp(z_v / tau), shifted by the maximum. */
static double log_sum_exp(const float *z, size_t V, double tau) {
    double mx = z[0];
    for (size_t v = 1; v < V; v++)
        if (z[v] > mx)
            mx = z[v];
    double sum = 0.0;
    for (size_t v = 0; v < V; v++)
        sum += exp((z[v] - mx) / tau);
    return mx / tau + log(sum);
}

void lrc_logit_loss(float *dlogits, lrc_loss_parts *parts, const float *student_logits,
                    const float *teacher_logits, const int32_t *targets, size_t N, size_t V,
                    const lrc_loss_config *cfg) {
    double tau = cfg->tau, ce = 0.0, kl = 0.0;
    double ce_scale = cfg->w_ce / (double)N, kl_scale = cfg->w_kl / (tau * (double)N);

    for (size_t n = 0; n < N; n++) {
        const float *zs = student_logits + n * V, *zt = teacher_logits + n * V;
        float *dz = dlogits + n * V;
        double lse_s1 = log_sum_exp(zs, V, 1.0);
        double lse_st = log_sum_exp(zs, V, tau);
        double lse_tt = log_sum_exp(zt, V, tau);

        ce += lse_s1 - zs[targets[n]];
        for (size_t v = 0; v < V; v++) {
            double log_ps = zs[v] / tau - lse_st, log_pt = zt[v] / tau - lse_tt;
            double pt = exp(log_pt), ps = exp(log_ps);
            kl += pt * (log_pt - log_ps);
            double p1 = exp(zs[v] - lse_s1);
            dz[v] = (float)(ce_scale * p1 + kl_scale * (ps - pt));
        }
        dz[targets[n]] -= (float)ce_scale;
    }
    parts->ce = ce / (double)N;
    parts->kl = kl / (double)N;
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

    /* attn_out: both attention outputs through the teacher's W_o (d, H*h). */
    blas_linear_forward(ws->proj_s, s->att, wo, NULL, N, qd, d);
    blas_linear_forward(ws->proj_t, t->att, wo, NULL, N, qd, d);
    memset(ws->dproj, 0, N * d * sizeof(float));
    site_loss[LRC_SITE_ATTN_OUT] +=
        lrc_mse(ws->dproj, NULL, ws->proj_s, ws->proj_t, N * d, wc * w[LRC_SITE_ATTN_OUT]);
    blas_linear_backward(ds->att, NULL, NULL, ws->dproj, s->att, wo, N, qd, d);

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
