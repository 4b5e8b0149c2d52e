/*
 * The elementwise and attention operations of a Llama-family block, as
 * forward functions named X_forward so that each backward pass can sit
 * beside its forward. Every array argument is introduced by its shape, with
 * the letters T sequence, d hidden, H/Hkv heads, h head size, I MLP width,
 * S cache positions. All buffers are row-major float32; none is allocated
 * here.
 */
#ifndef LRC_CORE_OPS_H
#define LRC_CORE_OPS_H

#include <stdbool.h>
#include <stddef.h>

/* out = x / sqrt(mean(x²) + eps) * weight, row by row. out may alias x.
 *   out    (T, d)
 *   x      (T, d)
 *   weight (d) */
void rmsnorm_forward(float *out, const float *x, const float *weight, size_t T, size_t d,
                     float eps);

/* How rope_inv_freq rescales the rotary frequencies for long contexts. */
typedef enum rope_scaling_kind {
    ROPE_SCALING_NONE,
    ROPE_SCALING_LINEAR, /* every frequency divided by factor (positions / factor) */
    ROPE_SCALING_LLAMA3, /* low frequencies divided by factor, high kept, a smooth ramp between */
} rope_scaling_kind;

typedef struct rope_scaling {
    rope_scaling_kind kind;
    float factor;
    float low_freq_factor;  /* llama3 only */
    float high_freq_factor; /* llama3 only */
    int original_max_seq;   /* llama3 only: the context the model was trained on */
} rope_scaling;

/* Fill the rotary frequencies inv_freq[i] = theta^(-2i/h), i < h/2, then
 * apply the scaling (Llama 3.1's rule for ROPE_SCALING_LLAMA3).
 *   inv_freq (h/2) */
void rope_inv_freq(double *inv_freq, size_t h, double theta, const rope_scaling *scaling);

/* Tabulate cos and sin of the angle p * inv_freq[i] for positions p < S,
 * computed in double and stored as float.
 *   cos_table (S, h/2)
 *   sin_table (S, h/2)
 *   inv_freq  (h/2) */
void rope_table_init(float *cos_table, float *sin_table, const double *inv_freq, size_t S,
                     size_t h);

/* Rotate each head of x in place by the angles of positions pos..pos+T-1.
 * Pairs are (i, i + h/2) (Hugging Face's rotate_half) or, when interleaved,
 * (2i, 2i+1) (llama2.c); pair i turns by angle p * inv_freq[i] either way.
 *   x         (T, n_heads, h), rows n_heads * h apart (row_stride floats)
 *   cos_table (S, h/2) with S >= pos + T
 *   sin_table (S, h/2) */
void rope_forward(float *x, size_t row_stride, const float *cos_table, const float *sin_table,
                  size_t T, size_t n_heads, size_t h, size_t pos, bool interleaved);

/* Softmax of one row in place, shifted by its maximum so large inputs do not
 * overflow.
 *   x (n) */
void softmax_forward(float *x, size_t n);

/* silu(x) = x * sigmoid(x), in place.
 *   x (n) */
void silu_forward(float *x, size_t n);

/* The SwiGLU gate of a Llama MLP: out = silu(gate) * up. out may alias gate.
 *   out  (T, I), flattened to n = T * I
 *   gate (T, I)
 *   up   (T, I) */
void swiglu_forward(float *out, const float *gate, const float *up, size_t n);

/* Query rows attention_forward processes together with one matrix product. */
#define ATTENTION_BLOCK 64

/* Floats of scratch attention_forward needs for T queries over S positions. */
size_t attention_scratch_floats(size_t T, size_t S);

/* Causal grouped-query attention over a KV cache. Query t (at position
 * pos + t) of head i attends to cache positions 0..pos+t of key/value head
 * i / (H / Hkv), with scores scaled by 1/sqrt(h). The cache must already
 * hold the keys and values of positions 0..pos+T-1.
 *   out     (T, H, h)
 *   q       (T, H, h), RoPE applied
 *   k_cache (S, Hkv, h), RoPE applied, S >= pos + T
 *   v_cache (S, Hkv, h)
 *   scratch (attention_scratch_floats(T, pos + T)) */
void attention_forward(float *out, const float *q, const float *k_cache, const float *v_cache,
                       float *scratch, size_t T, size_t pos, size_t H, size_t Hkv, size_t h);

#endif
