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
    char architecture[64];  /* "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM",
                               "llama2.c" */
    char model_type[32];    /* "llama", "mistral", "qwen2" */
    int d;                  /* hidden_size */
    int n_layers;           /* num_hidden_layers */
    int H;                  /* num_attention_heads */
    int Hkv;                /* num_key_value_heads (defaults to H) */
    int h;                  /* head_dim (defaults to d / H) */
    bool head_dim_explicit; /* config.json states head_dim */
    int I;                  /* intermediate_size */
    int V;                  /* vocab_size */
    int max_seq;            /* max_position_embeddings */
    float norm_eps;         /* rms_norm_eps */
    float rope_theta;       /* rope_theta (default 10000) */
    /* RoPE pairing: false is Hugging Face's rotate_half (dimension i with i + h/2);
     * true is llama2.c's adjacent pairs (2i, 2i+1). */
    bool rope_interleaved;
    /* rope_scaling: "none", "linear" (positions divided by factor) or "llama3"
     * (frequency-dependent scaling of inv_freq, as Llama 3.1 configs specify). */
    char rope_scaling_type[16];
    float rope_factor, rope_low_freq_factor, rope_high_freq_factor;
    int rope_original_max_seq;
    bool tied_embeddings; /* tie_word_embeddings */
    bool qkv_bias;        /* q/k/v projections carry biases (Qwen2, or attention_bias) */
    bool o_bias;          /* o_proj carries a bias too (Llama/Mistral attention_bias) */
    int sliding_window;   /* Mistral sliding_window or Qwen2 with use_sliding_window; 0 none */
    int bos_id, eos_id;   /* -1 when the config names none */
    int eos_ids[8];       /* every eos_token_id when the config lists several */
    int n_eos_ids;        /* entries of eos_ids used (eos_id is eos_ids[0]) */
} llama_config;

/* Parse config.json at path. Every error names the file and the key. */
int llama_config_load(llama_config *cfg, const char *path, lrc_error *err);

/* Check internal consistency (positive sizes, H divisible by Hkv, d divisible
 * by H when head_dim is absent, ...). path is used in messages. */
int llama_config_validate(const llama_config *cfg, const char *path, lrc_error *err);

/* Write cfg as a Hugging Face config.json at path (architecture from
 * model_type, head_dim always stated, floats as their shortest decimal). */
int llama_config_write(const llama_config *cfg, const char *path, lrc_error *err);

/* Number of parameters the config implies, including the LM head when untied. */
size_t llama_config_param_count(const llama_config *cfg);

#endif
