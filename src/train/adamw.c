/*
 * AdamW step and gradient clipping. The per-element arithmetic is float32,
 * like PyTorch's for float32 parameters. The step constants (bias
 * corrections, step size, decay factor) are computed in double and rounded
 * once, because PyTorch computes them from Python floats.
 */
#include "train/adamw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/tensor.h"

adamw_config adamw_config_default(void) {
    adamw_config cfg = {.beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01};
    return cfg;
}

static int check_config(const adamw_config *cfg, lrc_error *err) {
    if (!(cfg->beta1 >= 0.0 && cfg->beta1 < 1.0))
        return lrc_errorf(err, "adamw: beta1 = %g is invalid; expected a value in [0, 1)",
                          cfg->beta1);
    if (!(cfg->beta2 >= 0.0 && cfg->beta2 < 1.0))
        return lrc_errorf(err, "adamw: beta2 = %g is invalid; expected a value in [0, 1)",
                          cfg->beta2);
    if (!(cfg->eps >= 0.0 && isfinite(cfg->eps)))
        return lrc_errorf(err, "adamw: eps = %g is invalid; expected a finite value >= 0",
                          cfg->eps);
    if (!(cfg->weight_decay >= 0.0 && isfinite(cfg->weight_decay)))
        return lrc_errorf(err, "adamw: weight_decay = %g is invalid; expected a finite value >= 0",
                          cfg->weight_decay);
    return 0;
}

int adamw_init(adamw *opt, size_t n, const adamw_config *cfg, lrc_error *err) {
    memset(opt, 0, sizeof *opt);
    if (check_config(cfg, err) < 0)
        return -1;
    if (n == 0)
        return lrc_errorf(err, "adamw: no parameters to optimise; expected n >= 1");

    opt->m = tensor_alloc(n, "adamw first moment", err);
    opt->v = opt->m ? tensor_alloc(n, "adamw second moment", err) : NULL;
    if (!opt->v) {
        adamw_free(opt);
        return -1;
    }
    opt->cfg = *cfg;
    opt->n = n;
    return 0;
}

int adamw_set_decay(adamw *opt, size_t offset, size_t count, bool decay, lrc_error *err) {
    if (offset > opt->n || count > opt->n - offset)
        return lrc_errorf(err,
                          "adamw: decay range [%zu, %zu) runs past the %zu parameters; expected "
                          "a range inside the parameter array",
                          offset, offset + count, opt->n);
    if (!opt->decay) {
        if (decay)
            return 0; /* without a mask every parameter already decays */
        opt->decay = malloc(opt->n);
        if (!opt->decay)
            return lrc_errorf(err, "adamw: out of memory for the decay mask of %zu parameters",
                              opt->n);
        memset(opt->decay, 1, opt->n);
    }
    memset(opt->decay + offset, decay ? 1 : 0, count);
    return 0;
}

void adamw_step(adamw *opt, float *params, const float *grads, double lr) {
    const adamw_config *c = &opt->cfg;
    opt->t++;

    /* Constants of this step, formed as in the single-tensor path of
     * torch.optim.AdamW (torch 1.13): step_size = lr / bc1 and
     * denom = sqrt(v) / sqrt(bc2) + eps. */
    double bc1 = 1.0 - pow(c->beta1, (double)opt->t);
    double bc2 = 1.0 - pow(c->beta2, (double)opt->t);
    float step_size = (float)(lr / bc1);
    float bc2_sqrt = (float)sqrt(bc2);
    float keep = (float)(1.0 - lr * c->weight_decay);
    float b1 = (float)c->beta1, one_minus_b1 = (float)(1.0 - c->beta1);
    float b2 = (float)c->beta2, one_minus_b2 = (float)(1.0 - c->beta2);
    float eps = (float)c->eps;

    for (size_t i = 0; i < opt->n; i++) {
        float p = params[i], g = grads[i];

        if (!opt->decay || opt->decay[i])
            p *= keep;

        float m = b1 * opt->m[i] + one_minus_b1 * g;
        float v = b2 * opt->v[i] + one_minus_b2 * g * g;
        opt->m[i] = m;
        opt->v[i] = v;

        float denom = sqrtf(v) / bc2_sqrt + eps;
        params[i] = p - step_size * (m / denom);
    }
}

void adamw_reset(adamw *opt) {
    if (opt->m)
        memset(opt->m, 0, opt->n * sizeof *opt->m);
    if (opt->v)
        memset(opt->v, 0, opt->n * sizeof *opt->v);
    opt->t = 0;
}

void adamw_free(adamw *opt) {
    tensor_free(opt->m);
    tensor_free(opt->v);
    free(opt->decay);
    memset(opt, 0, sizeof *opt);
}

double clip_grad_norm(float *grads, size_t n, double max_norm) {
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += (double)grads[i] * grads[i];
    double norm = sqrt(sum);

    if (!(max_norm > 0.0) || isinf(max_norm) || !isfinite(norm))
        return norm;

    double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0) {
        float scale = (float)coef;
        for (size_t i = 0; i < n; i++)
            grads[i] *= scale;
    }
    return norm;
}
