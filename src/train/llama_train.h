/*
 * Training forward and backward of a Llama-family model over B sequences of
 * T tokens (N = B·T rows), for any set of llama_weights of hidden size D: the
 * teacher (D = d) or a low-rank student (D = r) whose weights are generated.
 * Every sequence starts at position 0 and attends causally within itself.
 *
 * The forward saves every activation the backward needs, layer by layer, in
 * buffers sized once by llama_train_init; neither pass allocates. It exposes
 * the clone sites of each layer: q, k, v before RoPE, the attention output
 * before W_o, gate and up before SwiGLU, and the MLP output. The backward
 * accepts loss gradients at those sites beside the gradient of the logits.
 */
#ifndef LRC_TRAIN_LLAMA_TRAIN_H
#define LRC_TRAIN_LLAMA_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "model/llama.h"

/* The clone-site activations of one layer, or their gradients. */
typedef struct llama_train_sites {
    float *q;       /* (N, H*h) W_q·xn + b_q, before RoPE */
    float *k;       /* (N, Hkv*h) before RoPE */
    float *v;       /* (N, Hkv*h) */
    float *att;     /* (N, H*h) attention output, before W_o */
    float *gate;    /* (N, I) before SwiGLU */
    float *up;      /* (N, I) */
    float *mlp_out; /* (N, D) W_down·swiglu(gate, up) */
} llama_train_sites;

typedef struct llama_train_state {
    llama_config cfg; /* cfg.d is D, the hidden size of these weights */
    int B, T;
    size_t N;        /* B·T rows */
    int32_t *tokens; /* (N) the inputs of the last forward */
    float *rope_cos; /* (T, h/2) */
    float *rope_sin; /* (T, h/2) */
    float *x;        /* (n_layers + 1, N, D) residual stream entering each layer; last: final */
    float *x_mid;    /* (n_layers, N, D) residual stream after attention */
    float *xn_attn;  /* (n_layers, N, D) rmsnorm(x) feeding q, k, v */
    float *xn_mlp;   /* (n_layers, N, D) rmsnorm(x_mid) feeding gate, up */
    float *q_rot;    /* (n_layers, N, H*h) queries after RoPE */
    float *k_rot;    /* (n_layers, N, Hkv*h) keys after RoPE */
    float *probs;    /* (n_layers, B, H, T, T) attention probabilities */
    float *z;        /* (n_layers, N, I) swiglu(gate, up) */
    float *xn_final; /* (N, D) rmsnorm of the last residual stream */
    float *logits;   /* (N, V) */
    llama_train_sites *sites; /* (n_layers) pointers into the site buffers below */
    float *site_arena;        /* every layer's q, k, v, att, gate, up, mlp_out */

    /* Backward scratch. */
    float *dx;   /* (N, D) gradient of the residual stream; after the backward: of the embeddings */
    float *dxn;  /* (N, D) */
    float *dres; /* (N, D) */
    float *dq;   /* (N, H*h) */
    float *dk;   /* (N, Hkv*h) */
    float *dv;   /* (N, Hkv*h) */
    float *datt; /* (N, H*h) */
    float *dz;   /* (N, I) */
    float *dgate;             /* (N, I) */
    float *dup;               /* (N, I) */
    float *scratch;           /* attention_train_scratch_floats(T) */
    llama_train_sites dsites; /* one layer's site gradients, for the site_grad callback */
    float *dsite_arena;
    bool backward; /* backward scratch allocated */
} llama_train_state;

/*
 * Size every buffer for B sequences of T tokens under cfg (whose d is the
 * hidden size D of the weights it will run). Without `backward` (a frozen
 * teacher) no gradient scratch is allocated and the activations other than
 * the clone sites and logits share one layer's buffers, so only the sites
 * and logits stay valid after the forward. On failure s is empty and safe
 * to free.
 */
int llama_train_init(llama_train_state *s, const llama_config *cfg, int B, int T, bool backward,
                     lrc_error *err);
void llama_train_free(llama_train_state *s);

/* Bytes llama_train_init allocates for these sizes. */
size_t llama_train_bytes(const llama_config *cfg, int B, int T, bool backward);

/*
 * Run the B sequences tokens[b·ld .. b·ld + T-1] and leave the logits and
 * every saved activation in s. When x0 is not NULL it replaces the embedding
 * lookup (w->embed is then not read), so a generated embedding needs only
 * the rows of the batch. Fails on a token outside 0..V-1.
 *   tokens (B, ld), ld >= T
 *   x0     (N, D) or NULL
 */
int llama_train_forward(llama_train_state *s, const llama_weights *w, const int32_t *tokens,
                        size_t ld, const float *x0, lrc_error *err);

/*
 * Loss gradients at the clone sites of one layer: called by the backward as
 * it reaches each layer (last layer first). dsites points at zeroed buffers
 * of one layer's site shapes, into which the callee adds its gradients.
 */
typedef void (*llama_train_site_grad_fn)(void *ctx, int layer, llama_train_sites *dsites);

/*
 * Back-propagate from the last forward, adding into every non-NULL pointer of
 * g (the same shapes as w; biases only when present). When site_grad is not
 * NULL it supplies loss gradients at each layer's clone sites, so that only
 * one layer's worth of them is held at a time. Afterwards s->dx holds the
 * gradient of the input embeddings (N, D), and g->embed, when not NULL, has
 * had it added into the rows of the batch's tokens. The state must have been
 * initialised with `backward`.
 *   dlogits (N, V), or NULL when no loss reads the logits
 */
void llama_train_backward(llama_train_state *s, const llama_weights *w, const float *dlogits,
                          llama_train_site_grad_fn site_grad, void *ctx, llama_weights *g);

#endif
