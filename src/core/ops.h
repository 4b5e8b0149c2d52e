/*
 * The elementwise and attention operations of a Llama-family block, as
 * forward functions named X_forward so that each backward pass can sit
 * beside its forward. Every array argument is introduced by its shape, with
 * the letters T sequence, d hidden, H/Hkv heads, h head size, I MLP width,
 * S cache positions, B batch. All buffers are row-major float32; none is
 * allocated here.
 *
 * Each X_backward adds (+=) into its gradient outputs, so a caller zeroes
 * the gradients once per step and several uses of one tensor sum on their
 * own; a gradient output passed as NULL is skipped. rope_backward is the one
 * exception: it works in place, like rope_forward.
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

/* The backward pass of rmsnorm_forward. With s = 1/sqrt(mean(x²) + eps):
 *   dweight[i] += Σ_t dout[t,i] x[t,i] s[t]
 *   dx[t,i]    += s[t] weight[i] dout[t,i] - x[t,i] s[t]³ / d · Σ_j dout[t,j] weight[j] x[t,j]
 *   dx      (T, d), or NULL
 *   dweight (d), or NULL
 *   dout    (T, d), the gradient of out
 *   x       (T, d), the forward's input
 *   weight  (d) */
void rmsnorm_backward(float *dx, float *dweight, const float *dout, const float *x,
                      const float *weight, size_t T, size_t d, float eps);

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

/* The backward pass of rope_forward, in place: on entry dx contains the
 * gradient of rope_forward's output, on return that of its input. A rotation
 * is orthogonal, so this turns each pair by the negative angle. The layout
 * arguments are those of the forward call.
 *   dx (T, n_heads, h), rows row_stride floats apart */
void rope_backward(float *dx, size_t row_stride, const float *cos_table, const float *sin_table,
                   size_t T, size_t n_heads, size_t h, size_t pos, bool interleaved);

/* Softmax of one row in place, shifted by its maximum so large inputs do not
 * overflow.
 *   x (n) */
void softmax_forward(float *x, size_t n);

/* The backward pass of softmax_forward: dx += y * (dout - Σ_j dout[j] y[j]).
 *   dx   (n)
 *   dout (n), the gradient of y
 *   y    (n), the softmax output */
void softmax_backward(float *dx, const float *dout, const float *y, size_t n);

/* silu(x) = x * sigmoid(x), in place.
 *   x (n) */
void silu_forward(float *x, size_t n);

/* The backward pass of silu_forward: dx += dout * σ(x) (1 + x (1 - σ(x))).
 *   dx   (n)
 *   dout (n), the gradient of silu(x)
 *   x    (n), the forward's input */
void silu_backward(float *dx, const float *dout, const float *x, size_t n);

/* The SwiGLU gate of a Llama MLP: out = silu(gate) * up. out may alias gate.
 *   out  (T, I), flattened to n = T * I
 *   gate (T, I)
 *   up   (T, I) */
void swiglu_forward(float *out, const float *gate, const float *up, size_t n);

/* The backward pass of swiglu_forward. It needs the forward's gate, which
 * a forward writing out over gate has overwritten:
 *   dgate += dout * up * silu'(gate),  dup += dout * silu(gate)
 *   dgate (T, I), or NULL
 *   dup   (T, I), or NULL
 *   dout  (T, I), the gradient of out
 *   gate  (T, I), the forward's input
 *   up    (T, I) */
void swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate,
                     const float *up, size_t n);

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

/* Causal grouped-query attention for training: B independent sequences of
 * T tokens at positions 0..T-1, no cache. Query head i attends with key/value
 * head i / (H / Hkv), scores scaled by 1/sqrt(h), and H must be a multiple
 * of Hkv. The softmax probabilities are kept for attention_train_backward.
 *   out   (B, T, H*h)
 *   probs (B, H, T, T), row t holding the weights of positions 0..t and
 *         zeros after
 *   q     (B, T, H*h), RoPE applied
 *   k     (B, T, Hkv*h), RoPE applied
 *   v     (B, T, Hkv*h) */
void attention_train_forward(float *out, float *probs, const float *q, const float *k,
                             const float *v, size_t B, size_t T, size_t H, size_t Hkv, size_t h);

/* Floats of scratch attention_train_backward needs for sequences of T tokens. */
size_t attention_train_scratch_floats(size_t T);

/* The backward pass of attention_train_forward, adding into dq, dk and dv
 * (each skipped when NULL). Query heads that share a key/value head add
 * their parts into the same rows of dk and dv.
 *   dq      (B, T, H*h), or NULL
 *   dk      (B, T, Hkv*h), or NULL
 *   dv      (B, T, Hkv*h), or NULL
 *   dout    (B, T, H*h), the gradient of out
 *   probs   (B, H, T, T), as attention_train_forward left it
 *   q       (B, T, H*h), the forward's inputs
 *   k       (B, T, Hkv*h)
 *   v       (B, T, Hkv*h)
 *   scratch (attention_train_scratch_floats(T)) */
void attention_train_backward(float *dq, float *dk, float *dv, const float *dout,
                              const float *probs, const float *q, const float *k, const float *v,
                              size_t B, size_t T, size_t H, size_t Hkv, size_t h, float *scratch);

#endif
