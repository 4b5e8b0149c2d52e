/*
 * Finite-difference checks of the LRC gradient: for a tiny random teacher in
 * memory and a student with random projections, central differences of the
 * step's loss against lrc_step_loss_and_grad's gradient, on a sample of
 * elements of every trainable tensor, for the full loss and for each part
 * alone, with the two clone sites that pass through teacher weights also
 * checked alone. Two pairs: a tied Llama teacher with interleaved RoPE and a tied
 * head projection, and an untied Qwen2-style teacher with q/k/v biases, a
 * head size that does not divide the hidden size and its own Z_h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tensor.h"
#include "tap.h"
#include "test_lrc_tiny.h"
#include "train/lrc.h"

/* The loss at the current parameters. */
static double loss_at(lrc_student *s, const int32_t *tokens, const lrc_loss_config *cfg) {
    lrc_loss_parts parts;
    lrc_error err;
    if (lrc_step_loss_and_grad(s, tokens, cfg, &parts, &err) < 0) {
        diag("step failed: %s", err.msg);
        return NAN;
    }
    return parts.total;
}

/*
 * Compare analytic and central-difference gradients on up to 8 elements of
 * every tensor (the largest-gradient one among them). The loss is summed in
 * double over float32 activations whose rounding (about 1e-7 relative)
 * divided by 2ε = 2e-3 leaves an error near 1e-4 of the loss; the tolerance
 * 2e-3·(max |g| of the tensor) + 3e-4·|L| covers that and the O(ε²)
 * truncation term, while a wrong factor or a missing path exceeds it.
 */
static void check_pair(const char *label, lrc_student *s, const int32_t *tokens,
                       const lrc_loss_config *cfg) {
    const double eps = 1e-3;
    float *grad = malloc(s->n_params * sizeof *grad);
    double L0 = loss_at(s, tokens, cfg);
    memcpy(grad, s->grads, s->n_params * sizeof *grad);

    for (size_t i = 0; i < s->n_tensors; i++) {
        const param_tensor *t = &s->tensors[i];
        const float *g = grad + t->offset;
        size_t idx[8], n_idx = 0, argmax = 0;
        double gmax = 0.0;
        for (size_t j = 0; j < t->numel; j++)
            if (fabs(g[j]) > gmax)
                gmax = fabs(g[j]), argmax = j;
        idx[n_idx++] = argmax;
        for (size_t k = 1; k < 8 && k < t->numel; k++)
            idx[n_idx++] = (k * 7919 + 13 * i) % t->numel;

        double worst = 0.0;
        for (size_t k = 0; k < n_idx; k++) {
            float *p = s->params + t->offset + idx[k];
            float saved = *p;
            *p = (float)(saved + eps);
            double lp = loss_at(s, tokens, cfg);
            *p = (float)(saved - eps);
            double lm = loss_at(s, tokens, cfg);
            double h = (double)(float)(saved + eps) - (double)(float)(saved - eps);
            *p = saved;
            double fd = (lp - lm) / h;
            double e = fabs(fd - g[idx[k]]);
            if (e > worst)
                worst = e;
        }
        double tol = 2e-3 * gmax + 3e-4 * fabs(L0);
        ok(worst <= tol, "%s: %s", label, t->name);
        if (!(worst <= tol))
            diag("max |fd - analytic| %.3g, tolerance %.3g, max |g| %.3g", worst, tol, gmax);
        else
            diag("  max error %.2g, max |g| %.2g", worst, gmax);
    }
    free(grad);
}

static void run_pair(const char *name, bool qwen2, int h, bool interleaved, bool tie_head) {
    llama_model m;
    make_teacher(&m, qwen2, h, interleaved);
    lrc_student s;
    lrc_error err;
    lrc_options opt = {.rank = 8, .tie_head = tie_head, .B = 2, .T = 5};
    if (lrc_init(&s, &m, &opt, &err) < 0) {
        ok(0, "%s: lrc_init: %s", name, err.msg);
        free_teacher(&m);
        return;
    }
    for (size_t i = 0; i < s.n_tensors; i++) {
        const param_tensor *t = &s.tensors[i];
        fill(s.params + t->offset, t->numel, t->norm ? 1.0 : 0.0, t->norm ? 0.2 : 0.3);
    }
    int32_t tokens[2 * 6];
    for (int i = 0; i < 12; i++)
        tokens[i] = (int32_t)((i * 11 + 3) % 32);

    struct {
        const char *what;
        double ce, kl, clone, tau;
        int site; /* the only clone site weighted, or -1 for all */
    } cases[] = {
        {"all parts", 0.7, 0.5, 0.3, 2.0, -1},
        {"CE only", 1.0, 0.0, 0.0, 1.0, -1},
        {"KL only", 0.0, 1.0, 0.0, 1.5, -1},
        {"clone only", 0.0, 0.0, 1.0, 1.0, -1},
        {"attn_out site only", 0.0, 0.0, 1.0, 1.0, LRC_SITE_ATTN_OUT},
        {"mlp_out site only", 0.0, 0.0, 1.0, 1.0, LRC_SITE_MLP_OUT},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        lrc_loss_config cfg = lrc_loss_config_default();
        cfg.w_ce = cases[c].ce;
        cfg.w_kl = cases[c].kl;
        cfg.w_clone = cases[c].clone;
        cfg.tau = cases[c].tau;
        for (int k = 0; k < LRC_N_SITES && cases[c].site >= 0; k++)
            cfg.site_weight[k] = k == cases[c].site ? 1.0 : 0.0;
        char label[128];
        snprintf(label, sizeof label, "%s, %s", name, cases[c].what);
        check_pair(label, &s, tokens, &cfg);
    }

    /* Each clone site alone, on the tensors it reaches. */
    for (int site = 0; site < LRC_N_SITES; site++) {
        lrc_loss_config cfg = lrc_loss_config_default();
        cfg.w_ce = cfg.w_kl = 0.0;
        for (int k = 0; k < LRC_N_SITES; k++)
            cfg.site_weight[k] = k == site ? 1.0 : 0.0;
        lrc_loss_parts parts;
        ok(lrc_step_loss_and_grad(&s, tokens, &cfg, &parts, &err) == 0 &&
               fabs(parts.total - parts.clone_site[site]) <= 1e-12 * fabs(parts.total) &&
               parts.clone_site[site] > 0.0,
           "%s: clone site %s alone gives its own loss", name, lrc_site_name(site));
    }

    lrc_free(&s);
    free_teacher(&m);
}

int main(void) {
    run_pair("tied llama, interleaved RoPE", false, 4, true, true);
    run_pair("untied qwen2, head_dim 6", true, 6, false, false);
    return done_testing();
}
