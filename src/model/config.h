/*
 * Llama-family hyper-parameters, read from a Hugging Face config.json or a
 * llama2.c .bin header. Letters used across the project: d hidden size,
 * H query heads, Hkv key/value heads, h head size, I MLP width, V vocabulary.
 */
#ifndef LRC_MODEL_CONFIG_H
#define LRC_MODEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

typedef struct llama_config {
    char architecture[64]; /* "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "llama2.c" */
    char model_type[32];   /* "llama", "mistral", "qwen2" */
    int d;                 /* hidden_size */
    int n_layers;          /* num_hidden_layers */
    int H;                 /* num_attention_heads */
    int Hkv;               /* num_key_value_heads (defaults to H) */
    int h;                 /* head_dim (defaults to d / H) */
    int I;                 /* intermediate_size */
    int V;                 /* vocab_size */
    int max_seq;           /* max_position_embeddings */
    float norm_eps;        /* rms_norm_eps */
    float rope_theta;      /* rope_theta (default 10000) */
    bool tied_embeddings;  /* tie_word_embeddings */
    bool qkv_bias;         /* q/k/v projections carry biases (Qwen2, or attention_bias) */
    int bos_id, eos_id;    /* -1 when the config names none */
} llama_config;

/* Parse config.json at path. Every error names the file and the key. */
int llama_config_load(llama_config *cfg, const char *path, lrc_error *err);

/* Check internal consistency (positive sizes, H divisible by Hkv, d divisible
 * by H when head_dim is absent, ...). path is used in messages. */
int llama_config_validate(const llama_config *cfg, const char *path, lrc_error *err);

/* Number of parameters the config implies, including the LM head when untied. */
size_t llama_config_param_count(const llama_config *cfg);

#endif
