/*
 * Pretraining: a Llama-family model whose every weight is trainable, built
 * from a config alone. The weights live in one contiguous array `params`
 * with a matching `grads`, laid out tensor by tensor in the order of the
 * table `tensors` (Hugging Face names):
 *   model.embed_tokens.weight (V, d)
 *   per layer l: input_layernorm (d), q_proj (H*h, d) [+ bias (H*h)],
 *     k_proj (Hkv*h, d) [+ bias], v_proj (Hkv*h, d) [+ bias],
 *     o_proj (d, H*h) [+ bias (d) with o_bias], post_attention_layernorm (d),
 *     gate_proj (I, d), up_proj (I, d), down_proj (d, I)
 *   model.norm.weight (d)
 *   lm_head.weight (V, d), only when the embeddings are not tied
 * `w` and `gw` are llama_weights pointing into params and grads (lm_head
 * aliases embed when tied), so llama_train runs them directly and its
 * backward adds both uses of a tied matrix into one gradient.
 *
 * The loss is the next-token cross-entropy, mean over the B·T tokens of a
 * batch. Every buffer is sized by pretrain_init; a step allocates nothing.
 */
#ifndef LRC_TRAIN_PRETRAIN_H
#define LRC_TRAIN_PRETRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "model/llama.h"
#include "train/adamw.h"
#include "train/checkpoint.h"
#include "train/llama_train.h"
#include "train/params.h"
#include "train/trainer.h"

typedef struct pretrain_model {
    llama_config cfg;
    size_t n_params;
    float *params; /* (n_params) */
    float *grads;  /* (n_params) */
    param_tensor *tensors;
    size_t n_tensors;
    llama_weights w, gw; /* pointers into params and grads */

    /* Step buffers for B sequences of T tokens, N = B·T. */
    int B, T;
    llama_train_state st;
    float *dlogits;   /* (N, V) */
    int32_t *targets; /* (N) */
} pretrain_model;

/*
 * Lay out the model of cfg (validated with llama_config_validate) and size
 * every buffer for B sequences of T tokens. Weights start at zero; call
 * pretrain_init_random next (or load a checkpoint). A config with
 * interleaved RoPE pairs (llama2.c) is rejected, because the export writes
 * Hugging Face's pairing. On failure m is empty and safe to free.
 */
int pretrain_init(pretrain_model *m, const llama_config *cfg, int B, int T, lrc_error *err);
void pretrain_free(pretrain_model *m);

/*
 * Seeded initialisation (splitmix64 and Box-Muller, so a seed gives the same
 * numbers everywhere): every matrix from N(0, 0.02²), biases 0, norms 1.
 * With scale_residual, as GPT-2 does, o_proj and down_proj use
 * std 0.02/sqrt(2·n_layers), so the residual stream's variance does not grow
 * with depth at the start.
 */
void pretrain_init_random(pretrain_model *m, uint64_t seed, bool scale_residual);

/*
 * Forward pass and loss of one batch, without gradients. top1 (may be NULL)
 * receives the fraction of tokens whose argmax logit is the target.
 *   tokens (B, T + 1): inputs t = 0..T-1, targets t = 1..T
 */
int pretrain_loss(pretrain_model *m, const int32_t *tokens, double *loss, double *top1,
                  lrc_error *err);

/*
 * Loss and gradient of one batch: zero grads, run the forward, write the
 * cross-entropy gradient (softmax − one-hot)/N at the logits and back-
 * propagate into every weight.
 *   tokens (B, T + 1)
 */
int pretrain_loss_and_grad(pretrain_model *m, const int32_t *tokens, double *loss, lrc_error *err);

/*
 * Write dir/config.json and dir/model.safetensors (F32, Hugging Face names)
 * so that llama_model_load reads the model back. dir must exist.
 */
int pretrain_export_hf(const pretrain_model *m, const char *dir, lrc_error *err);

/* A pretrain_model as a trainer_model: loss_and_grad fills loss and ce (kl
 * and clone are 0); the probe fills ppl_student with exp of the probe
 * loss, top1 with the next-token accuracy, ppl_teacher with NaN (written as
 * null) and no MI. The probe batch must have m->B rows. */
typedef struct trainer_pretrain {
    pretrain_model *m;
    checkpoint_tensor *tensors; /* (m->n_tensors) */
} trainer_pretrain;

int trainer_pretrain_init(trainer_pretrain *tp, pretrain_model *m, trainer_model *out,
                          lrc_error *err);
void trainer_pretrain_free(trainer_pretrain *tp);

#endif
