/*
 * A Llama-family model in memory: its config, F32 weights and where they came
 * from. Weights are always F32 row-major; the loader converts F16 and BF16.
 * Shapes use the letters of config.h, with PyTorch's (out, in) layout for
 * projection matrices so that y = W x is cblas_sgemv(W, x).
 */
#ifndef LRC_MODEL_LLAMA_H
#define LRC_MODEL_LLAMA_H

#include <stddef.h>

#include "core/error.h"
#include "model/config.h"

typedef struct llama_layer {
    float *attn_norm; /* (d) input_layernorm */
    float *wq;        /* (H*h, d) */
    float *wk;        /* (Hkv*h, d) */
    float *wv;        /* (Hkv*h, d) */
    float *bq;        /* (H*h) or NULL */
    float *bk;        /* (Hkv*h) or NULL */
    float *bv;        /* (Hkv*h) or NULL */
    float *wo;        /* (d, H*h) */
    float *bo;        /* (d) or NULL; only with cfg.o_bias (Llama attention_bias) */
    float *mlp_norm;  /* (d) post_attention_layernorm */
    float *w_gate;    /* (I, d) */
    float *w_up;      /* (I, d) */
    float *w_down;    /* (d, I) */
} llama_layer;

typedef struct llama_weights {
    float *embed; /* (V, d) model.embed_tokens */
    llama_layer *layers;
    float *final_norm; /* (d) model.norm */
    float *lm_head;    /* (V, d); equals embed when tied */
} llama_weights;

typedef struct llama_model {
    llama_config cfg;
    llama_weights w;
    char path[4096]; /* the directory or file it was loaded from */
    float *arena;    /* one allocation holding every F32 weight */
    size_t arena_floats;
} llama_model;

/*
 * Load a model from a Hugging Face directory (config.json with
 * model.safetensors or model.safetensors.index.json) or a llama2.c .bin file.
 * Checks the estimated memory against what the machine has before loading.
 */
int llama_model_load(llama_model *m, const char *path, lrc_error *err);
void llama_model_free(llama_model *m);

/* Bytes of F32 weights a config needs once loaded. */
size_t llama_model_weight_bytes(const llama_config *cfg);

#endif
