/*
 * The Llama-family forward pass with a KV cache. A llama_state holds every
 * scratch buffer and the cache, sized once from the config, a maximum
 * context and a maximum batch; llama_forward allocates nothing. Prompts go
 * through sgemm in batches of up to max_batch tokens, single tokens through
 * sgemv.
 */
#ifndef LRC_MODEL_FORWARD_H
#define LRC_MODEL_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "model/llama.h"

typedef struct llama_state {
    int max_ctx;        /* cache positions: pos + T never exceeds it */
    int max_batch;      /* tokens one internal pass processes together */
    float *x;           /* (max_batch, d) residual stream */
    float *xn;          /* (max_batch, d) normalised input of the current sub-block */
    float *q;           /* (max_batch, H*h) queries */
    float *att;         /* (max_batch, H*h) attention output before W_o */
    float *gate;        /* (max_batch, I) gate projection, then the SwiGLU output */
    float *up;          /* (max_batch, I) up projection */
    float *scores;      /* attention_scratch_floats(max_batch, max_ctx) */
    float *key_cache;   /* (n_layers, max_ctx, Hkv*h), RoPE applied */
    float *value_cache; /* (n_layers, max_ctx, Hkv*h) */
    float *rope_cos;    /* (max_ctx, h/2) */
    float *rope_sin;    /* (max_ctx, h/2) */
} llama_state;

/* Default number of tokens processed together by one internal pass. */
#define LLAMA_DEFAULT_BATCH 256

/* Allocate the run state for cfg with room for max_ctx positions, processing
 * prompts max_batch tokens at a time. Fails on an unknown RoPE scaling type
 * or when memory runs out; the state is then empty and safe to free. */
int llama_state_init(llama_state *s, const llama_config *cfg, int max_ctx, int max_batch,
                     lrc_error *err);
void llama_state_free(llama_state *s);

/* Bytes llama_state_init allocates for these sizes. */
size_t llama_state_bytes(const llama_config *cfg, int max_ctx, int max_batch);

/* Run tokens at positions pos..pos+T-1, appending their keys and values to
 * the cache (whose positions 0..pos-1 must already be filled), and write the
 * logits of every position (all_logits) or of the last one only.
 *   tokens (T)
 *   logits (T, V) when all_logits, else (V)
 * Fails, leaving the cache unchanged, on a token outside 0..V-1 or when
 * pos + T exceeds max_ctx. */
int llama_forward(const llama_model *m, llama_state *s, const int32_t *tokens, int T, int pos,
                  float *logits, bool all_logits, lrc_error *err);

#endif
