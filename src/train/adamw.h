/*
 * AdamW over one flat parameter array, with the semantics of PyTorch's
 * torch.optim.AdamW (amsgrad off): decoupled weight decay applied first, then
 * the Adam update with bias-corrected moments and eps added after the square
 * root. The moments are allocated once by adamw_init; adamw_step allocates
 * nothing. A per-element decay mask, set range by range, keeps weight decay
 * off tensors such as norm weights. Global-norm gradient clipping sits here
 * too because it runs right before every step.
 */
#ifndef LRC_TRAIN_ADAMW_H
#define LRC_TRAIN_ADAMW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Hyperparameters other than the learning rate, which the schedule supplies
 * to every step. */
typedef struct adamw_config {
    double beta1;        /* decay of the first moment, in [0, 1) */
    double beta2;        /* decay of the second moment, in [0, 1) */
    double eps;          /* added to sqrt(v̂), >= 0 */
    double weight_decay; /* decoupled decay per unit learning rate, >= 0 */
} adamw_config;

typedef struct adamw {
    adamw_config cfg;
    size_t n;       /* number of parameters */
    int64_t t;      /* steps taken; the next step uses t + 1 in the bias corrections */
    float *m;       /* (n) first moment */
    float *v;       /* (n) second moment */
    uint8_t *decay; /* (n) 1 where weight decay applies, 0 where not; NULL means all 1 */
} adamw;

/* PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, weight_decay 0.01. */
adamw_config adamw_config_default(void);

/* Validate cfg and allocate zeroed moments for n parameters, t = 0. On error
 * opt is left empty (safe to pass to adamw_free). */
int adamw_init(adamw *opt, size_t n, const adamw_config *cfg, lrc_error *err);

/* Turn weight decay on or off for params[offset .. offset+count-1], for
 * example one norm weight tensor. The first call that turns decay off
 * allocates the mask (n bytes). Fails when the range runs past n. */
int adamw_set_decay(adamw *opt, size_t offset, size_t count, bool decay, lrc_error *err);

/* One AdamW step at learning rate lr, with t ← t + 1:
 *   p ← p − lr·wd·p            (where the mask allows decay)
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − lr · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + eps)
 *   params (n), updated in place
 *   grads  (n) */
void adamw_step(adamw *opt, float *params, const float *grads, double lr);

/* Zero the moments and the step count, keeping the mask. */
void adamw_reset(adamw *opt);

/* Free the moments and the mask; opt may be empty. */
void adamw_free(adamw *opt);

/* Clip the gradient by its global L2 norm, as torch.nn.utils.clip_grad_norm_
 * does: with coef = max_norm / (norm + 1e-6), the gradient is scaled by coef
 * when coef < 1 (so when norm + 1e-6 > max_norm) and left alone otherwise.
 * The norm is summed in double. max_norm <= 0 or infinite disables clipping,
 * and a NaN or infinite norm leaves the gradient unchanged for the caller to
 * detect. Returns the norm before clipping.
 *   grads (n), scaled in place */
double clip_grad_norm(float *grads, size_t n, double max_norm);

#endif
