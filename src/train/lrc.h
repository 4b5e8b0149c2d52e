/*
 * The Low-Rank Clone student. Its hidden size is the rank r; heads, head
 * size, MLP width and vocabulary stay the teacher's. Every student weight is
 * generated from the frozen teacher weight by trainable projections:
 *   embedding E·Zᵀ   LM head W_head·Z_hᵀ (Z_h = Z when tied)
 *   q, k, v   W·A (A: d×r)   o  B_o·W_o   gate, up  W·Gᵀ   down  D·W_down
 * plus fresh RMSNorm weights (r) initialised to 1. Teacher q/k/v biases are
 * copied and stay frozen. A teacher with an o_proj bias is rejected.
 *
 * The trainable tensors live in one contiguous array `params` with a
 * matching `grads`, so one AdamW call updates them all. The table `tensors`
 * lists each one's file name, offset and shape in the order of the array.
 * lrc_init sizes everything for batches of B sequences of T tokens up
 * front; lrc_step_loss_and_grad allocates nothing.
 */
#ifndef LRC_TRAIN_LRC_H
#define LRC_TRAIN_LRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "model/llama.h"
#include "train/adamw.h"
#include "train/llama_train.h"
#include "train/lrc_loss.h"
#include "train/params.h"

/* The trainable tensors of one layer, as pointers into params or grads. */
typedef struct lrc_layer_params {
    float *zoom_q;    /* (d, r) A_q */
    float *zoom_k;    /* (d, r) A_k */
    float *zoom_v;    /* (d, r) A_v */
    float *zoom_o;    /* (r, d) B_o, self_attn.zoom_down */
    float *zoom_gate; /* (r, d) G_gate */
    float *zoom_up;   /* (r, d) G_up */
    float *zoom_down; /* (r, d) D, mlp.zoom_down */
    float *attn_norm; /* (r) target_input_layernorm */
    float *mlp_norm;  /* (r) target_post_attention_layernorm */
} lrc_layer_params;

typedef struct lrc_options {
    int rank;      /* r, 1 <= r <= d */
    bool tie_head; /* Z_h = Z (the default); otherwise zoom_down.weight is its own tensor */
    int B, T;      /* batch size and sequence length of training steps */
} lrc_options;

typedef struct lrc_student {
    const llama_model *teacher;
    llama_config cfg; /* the student's: d = r, head_dim stated */
    int r;
    bool tie_head;

    size_t n_params;
    float *params; /* (n_params) */
    float *grads;  /* (n_params) */
    param_tensor *tensors;
    size_t n_tensors;
    float *zoom, *zoom_head; /* (r, d) Z and Z_h (the same pointer when tied) */
    float *gzoom, *gzoom_head;
    lrc_layer_params *layer, *glayer; /* (n_layers) into params and grads */
    float *final_norm, *gfinal_norm;  /* (r) model.target_norm */

    /* Generated weights (embed stays NULL: batches use generated rows) and
     * their gradients; norm pointers alias params and grads. */
    llama_weights w, gw;
    float *gen_arena, *ggen_arena;

    /* Step buffers for B sequences of T tokens, N = B·T. */
    int B, T;
    llama_train_state teacher_state, student_state;
    float *x0;        /* (N, r) generated embedding rows of the batch */
    float *e_rows;    /* (N, d) teacher embedding rows of the batch */
    int32_t *targets; /* (N) */
    lrc_loss_workspace loss_ws;
} lrc_student;

/* Lay out the student of `teacher` (which must outlive it) and size every
 * buffer. Parameters start as zero projections and unit norms; call
 * lrc_init_random, lrc_init_svd or lrc_import next. */
int lrc_init(lrc_student *s, const llama_model *teacher, const lrc_options *opt, lrc_error *err);
void lrc_free(lrc_student *s);

/* Projections from N(0, 0.02²) drawn with a seeded generator (splitmix64
 * and Box-Muller, so a seed gives the same numbers everywhere); norms 1. */
void lrc_init_random(lrc_student *s, uint64_t seed);

/*
 * Projections from the leading singular directions of the teacher weight
 * each multiplies, norms 1. With W = U·S·Vᵀ (LAPACKE sgesdd, singular values
 * descending), a projection applied on the input side of W takes the top r
 * right singular vectors: Z = V_rᵀ from E, Z_h = V_rᵀ from W_head,
 * A_q = V_r from W_q (likewise k, v), G_gate = V_rᵀ from W_gate (likewise up).
 * One applied on the output side takes the top r left singular vectors:
 * B_o = U_rᵀ from W_o, D = U_rᵀ from W_down. Every projection is thus
 * orthonormal and keeps the largest part of its weight's energy.
 */
int lrc_init_svd(lrc_student *s, lrc_error *err);

/* Load every trainable tensor from a safetensors file by name (F32, F16 or
 * BF16). A missing, mis-shaped or unknown tensor, or a NaN or infinity in a
 * value, is a one-line error naming the file and tensor, and leaves params
 * unchanged. AdamW moments (adamw.*) are skipped, so a checkpoint is a valid
 * file. With a tied head, a zoom_down.weight in the file must equal
 * model.zoom.weight. */
int lrc_import(lrc_student *s, const char *path, lrc_error *err);

/* Write every trainable tensor as F32 under its name. */
int lrc_export_params(const lrc_student *s, const char *path, lrc_error *err);

/* Generate the student's weights (LM head and every layer) from params. */
void lrc_generate(lrc_student *s);

/* Generated embedding rows for tokens, out[i] = Z · E[tokens[i]], gathered
 * through s->e_rows, so at most N = B·T tokens per call.
 *   out (n, r)  tokens (n) */
void lrc_embed_rows(lrc_student *s, float *out, const int32_t *tokens, size_t n);

/*
 * One step's loss and gradient: tokens contains B rows of T + 1 ids (inputs
 * t = 0..T-1, targets t = 1..T). Zeroes grads, runs the teacher without
 * gradient and the student with, computes every loss part into parts and
 * leaves ∂L/∂params in grads. The student's logits stay in
 * s->student_state.logits; the teacher's are overwritten by the logit
 * gradient. Fails on a token outside the vocabulary.
 *   tokens (B, T + 1)
 */
int lrc_step_loss_and_grad(lrc_student *s, const int32_t *tokens, const lrc_loss_config *cfg,
                           lrc_loss_parts *parts, lrc_error *err);

/* The student's forward only, leaving logits in s->student_state.logits.
 *   tokens (B, ld), ld >= T */
int lrc_forward(lrc_student *s, const int32_t *tokens, size_t ld, lrc_error *err);

/*
 * Write the merged student as a Hugging Face Llama directory: config.json
 * (hidden_size = r, head_dim stated) and model.safetensors (F32). The
 * directory must exist. The LM head is tied when the teacher's is and
 * Z_h = Z. A teacher with interleaved RoPE pairs (llama2.c) gets its q and k
 * rows permuted to Hugging Face's rotate_half pairing.
 */
int lrc_export_hf(lrc_student *s, const char *dir, lrc_error *err);

/* Copy tokenizer.json, tokenizer_config.json, tokenizer.model,
 * tokenizer.bin, special_tokens_map.json and generation_config.json from
 * teacher_dir to out_dir, each when present. When teacher_dir is a llama2.c
 * .bin file, copy the tokenizer.bin beside it and write
 * out_dir/tokenizer_source.txt saying which tokenizer the student carries. */
int lrc_copy_tokenizer_files(const char *teacher_dir, const char *out_dir, lrc_error *err);

#endif
