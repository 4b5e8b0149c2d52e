/*
 * The Low-Rank Clone loss over N = B·T tokens:
 *   L = w_ce·CE + w_kl·KL_τ(teacher ‖ student) + w_clone·Σ_l Σ_site w_site·MSE_site
 * CE is the student's next-token cross-entropy, mean over tokens. KL_τ is the
 * per-token mean of Σ_v p_t log(p_t/p_s) with both distributions softmaxed at
 * temperature τ; it is NOT multiplied by τ² (the loss is defined without that
 * factor, so at τ ≠ 1 its gradient is 1/τ times Hinton's convention). Each
 * MSE is a mean over every element of the site. The sites q, k, v (before
 * RoPE, including any bias), attn_out (W_o·att of each model, with the
 * teacher's W_o), gate and up (before SwiGLU) compare in teacher space;
 * mlp_out compares D·W_down·z of each model in student space, so its
 * gradient reaches D through the teacher's side too.
 * Sums are accumulated in double; gradients are float32.
 */
#ifndef LRC_TRAIN_LRC_LOSS_H
#define LRC_TRAIN_LRC_LOSS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "model/llama.h"
#include "train/llama_train.h"

typedef enum lrc_site {
    LRC_SITE_Q,
    LRC_SITE_K,
    LRC_SITE_V,
    LRC_SITE_ATTN_OUT,
    LRC_SITE_GATE,
    LRC_SITE_UP,
    LRC_SITE_MLP_OUT,
    LRC_N_SITES
} lrc_site;

/* "q", "k", "v", "attn_out", "gate", "up", "mlp_out": the names metrics use. */
const char *lrc_site_name(lrc_site site);

typedef struct lrc_loss_config {
    double w_ce;                     /* weight of the cross-entropy, >= 0 */
    double w_kl;                     /* weight of the KL divergence, >= 0 */
    double w_clone;                  /* weight of the summed clone losses, >= 0 */
    double tau;                      /* KL temperature, > 0 */
    double site_weight[LRC_N_SITES]; /* weight of each site inside the clone sum */
} lrc_loss_config;

/* Every weight 1, τ = 1. */
lrc_loss_config lrc_loss_config_default(void);

/* Check the weights are finite and non-negative and τ positive. */
int lrc_loss_config_validate(const lrc_loss_config *cfg, lrc_error *err);

/* Every part of the loss of one batch, unweighted except total. */
typedef struct lrc_loss_parts {
    double total;                   /* the weighted sum L */
    double ce;                      /* cross-entropy, nats per token */
    double kl;                      /* KL_τ, nats per token */
    double clone;                   /* Σ_site w_site · clone_site[site] */
    double clone_site[LRC_N_SITES]; /* each site's MSE summed over layers */
} lrc_loss_parts;

/*
 * Cross-entropy and KL of one batch of logits, writing (not adding) the
 * gradient of w_ce·CE + w_kl·KL into dlogits. Sets parts->ce and parts->kl.
 * Either weight may be 0; with both 0, dlogits is zeroed. dlogits may
 * alias teacher_logits (each element is read before it is written).
 *   dlogits         (N, V)
 *   student_logits  (N, V)
 *   teacher_logits  (N, V)
 *   targets         (N) next tokens, each in 0..V-1
 */
void lrc_logit_loss(float *dlogits, lrc_loss_parts *parts, const float *student_logits,
                    const float *teacher_logits, const int32_t *targets, size_t N, size_t V,
                    const lrc_loss_config *cfg);

/*
 * Mean squared error mean((s - t)²) over n elements. Adds scale·2(s - t)/n
 * into ds and subtracts it from dt, each skipped when NULL.
 */
double lrc_mse(float *ds, float *dt, const float *s, const float *t, size_t n, double scale);

/* Scratch for the clone loss, sized once for N rows. */
typedef struct lrc_loss_workspace {
    size_t N, d, r, qd, kvd, I; /* rows, teacher and student hidden sizes, site widths */
    float *proj_s;              /* (N, d) student att·W_oᵀ */
    float *proj_t;              /* (N, d) teacher att·W_oᵀ */
    float *dproj;               /* (N, d) */
    float *down_t;              /* (N, r) teacher mlp_out·Dᵀ */
    float *ddown;               /* (N, r) */
} lrc_loss_workspace;

/* Size the scratch for N rows of a teacher with config tc and rank r. */
int lrc_loss_workspace_init(lrc_loss_workspace *ws, const llama_config *tc, size_t N, size_t r,
                            lrc_error *err);
void lrc_loss_workspace_free(lrc_loss_workspace *ws);

/*
 * The clone losses of one layer. Adds each site's MSE into site_loss and
 * adds w_clone·w_site times its gradient into dsites (the student's site
 * gradients) and into dD (through the teacher's mlp_out).
 *   teacher, student  the layer's sites in each model
 *   wo                (d, H*h) the teacher's W_o of the layer
 *   D                 (r, d) the layer's mlp.zoom_down
 *   dD                (r, d)
 */
void lrc_clone_loss_layer(double site_loss[LRC_N_SITES], llama_train_sites *dsites, float *dD,
                          const llama_train_sites *teacher, const llama_train_sites *student,
                          const float *wo, const float *D, lrc_loss_workspace *ws,
                          const lrc_loss_config *cfg);

/* Set parts->clone = Σ_site w_site·clone_site and parts->total from the parts. */
void lrc_loss_total(lrc_loss_parts *parts, const lrc_loss_config *cfg);

#endif
