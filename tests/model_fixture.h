/*
 * Test fixtures for the model loaders: write a small random Llama-family
 * checkpoint (config.json plus safetensors, single file or sharded) or a
 * llama2.c .bin, keeping every value in memory by tensor name so a test can
 * compare what the loader returns. Values are drawn as random F16 or BF16
 * bit patterns (including subnormals) when the file stores those dtypes, and
 * their F32 value is computed here with ldexp, independently of
 * src/model/half.c, so a correct round trip is exact.
 */
#ifndef LRC_TESTS_MODEL_FIXTURE_H
#define LRC_TESTS_MODEL_FIXTURE_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/safetensors.h"

typedef struct fixture_tensor {
    char name[96];
    int ndim;
    int64_t shape[2];
    float *values;
    size_t numel;
} fixture_tensor;

typedef struct fixture {
    fixture_tensor t[512];
    size_t n;
} fixture;

typedef struct fixture_spec {
    const char *arch;       /* "LlamaForCausalLM", ... */
    const char *model_type; /* "llama", ... */
    int d, L, H, Hkv, h, I, V, max_seq;
    int head_dim_in_config; /* write head_dim */
    int tied;
    int attention_bias; /* Llama attention_bias (q/k/v/o biases); Qwen2 always q/k/v */
    safetensors_dtype dtype;
    int shards; /* 0 or 1: model.safetensors; 2+: an index and that many shards */
} fixture_spec;

/* When set, fixture_build records names and shapes but allocates no values. */
static int fixture_shapes_only;

static uint64_t fixture_rng = 0x9e3779b97f4a7c15ull;

static inline uint32_t fixture_rand(void) {
    fixture_rng ^= fixture_rng << 13;
    fixture_rng ^= fixture_rng >> 7;
    fixture_rng ^= fixture_rng << 17;
    return (uint32_t)(fixture_rng >> 16);
}

/* F16 bits to float by the definition: (-1)^s 2^(e-15) (1 + m/1024), or
 * 2^-14 (m/1024) for e = 0. */
static inline float fixture_f16_value(uint16_t b) {
    int s = b >> 15, e = (b >> 10) & 31, m = b & 1023;
    double v = e ? ldexp(1.0 + m / 1024.0, e - 15) : ldexp(m / 1024.0, -14);
    return (float)(s ? -v : v);
}

/* BF16 bits to float by the definition, with an 8-bit exponent (bias 127). */
static inline float fixture_bf16_value(uint16_t b) {
    int s = b >> 15, e = (b >> 7) & 255, m = b & 127;
    double v = e ? ldexp(1.0 + m / 128.0, e - 127) : ldexp(m / 128.0, -126);
    return (float)(s ? -v : v);
}

/* A random value exactly representable in dtype, of modest magnitude
 * (including subnormals for F16 and BF16). */
static inline float fixture_value(safetensors_dtype dt) {
    uint32_t r = fixture_rand();
    if (dt == ST_F16) {
        uint16_t b = (uint16_t)(r & 0xffff);
        int e = (b >> 10) & 31;
        if (e > 17) /* keep |x| < 8 and finite */
            b = (uint16_t)((b & 0x83ff) | ((e % 18) << 10));
        return fixture_f16_value(b);
    }
    if (dt == ST_BF16) {
        uint16_t b = (uint16_t)(r & 0xffff);
        int e = (b >> 7) & 255;
        if (e > 130)
            b = (uint16_t)((b & 0x807f) | ((e % 131) << 7));
        return fixture_bf16_value(b);
    }
    return (float)((int32_t)r) / 2147483648.0f * 0.5f;
}

static inline fixture_tensor *fixture_add(fixture *fx, safetensors_dtype dt, int64_t rows,
                                          int64_t cols, const char *fmt, int layer) {
    fixture_tensor *t = &fx->t[fx->n++];
    snprintf(t->name, sizeof t->name, fmt, layer);
    t->ndim = cols ? 2 : 1;
    t->shape[0] = rows;
    t->shape[1] = cols;
    t->numel = (size_t)rows * (size_t)(cols ? cols : 1);
    t->values = NULL;
    if (fixture_shapes_only)
        return t;
    t->values = malloc(t->numel * sizeof(float));
    for (size_t i = 0; i < t->numel; i++)
        t->values[i] = fixture_value(dt);
    return t;
}

static inline const fixture_tensor *fixture_find(const fixture *fx, const char *name) {
    for (size_t i = 0; i < fx->n; i++)
        if (strcmp(fx->t[i].name, name) == 0)
            return &fx->t[i];
    return NULL;
}

static inline void fixture_free(fixture *fx) {
    for (size_t i = 0; i < fx->n; i++)
        free(fx->t[i].values);
    fx->n = 0;
}

/* Build the Hugging Face tensors of spec (values only, nothing written). */
static inline void fixture_build(fixture *fx, const fixture_spec *s) {
    int64_t d = s->d, q = (int64_t)s->H * s->h, kv = (int64_t)s->Hkv * s->h;
    int qwen = strcmp(s->model_type, "qwen2") == 0;
    int qkv_bias = qwen || s->attention_bias, o_bias = !qwen && s->attention_bias;
    fx->n = 0;
    fixture_add(fx, s->dtype, s->V, d, "model.embed_tokens.weight", 0);
    for (int l = 0; l < s->L; l++) {
        fixture_add(fx, s->dtype, d, 0, "model.layers.%d.input_layernorm.weight", l);
        fixture_add(fx, s->dtype, q, d, "model.layers.%d.self_attn.q_proj.weight", l);
        fixture_add(fx, s->dtype, kv, d, "model.layers.%d.self_attn.k_proj.weight", l);
        fixture_add(fx, s->dtype, kv, d, "model.layers.%d.self_attn.v_proj.weight", l);
        fixture_add(fx, s->dtype, d, q, "model.layers.%d.self_attn.o_proj.weight", l);
        if (qkv_bias) {
            fixture_add(fx, s->dtype, q, 0, "model.layers.%d.self_attn.q_proj.bias", l);
            fixture_add(fx, s->dtype, kv, 0, "model.layers.%d.self_attn.k_proj.bias", l);
            fixture_add(fx, s->dtype, kv, 0, "model.layers.%d.self_attn.v_proj.bias", l);
        }
        if (o_bias)
            fixture_add(fx, s->dtype, d, 0, "model.layers.%d.self_attn.o_proj.bias", l);
        fixture_add(fx, s->dtype, d, 0, "model.layers.%d.post_attention_layernorm.weight", l);
        fixture_add(fx, s->dtype, s->I, d, "model.layers.%d.mlp.gate_proj.weight", l);
        fixture_add(fx, s->dtype, s->I, d, "model.layers.%d.mlp.up_proj.weight", l);
        fixture_add(fx, s->dtype, d, s->I, "model.layers.%d.mlp.down_proj.weight", l);
    }
    fixture_add(fx, s->dtype, d, 0, "model.norm.weight", 0);
    if (!s->tied)
        fixture_add(fx, s->dtype, s->V, d, "lm_head.weight", 0);
}

static inline int fixture_write_config(const char *dir, const fixture_spec *s) {
    char path[1024];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return -1;
    fprintf(fp,
            "{\n  \"architectures\": [\"%s\"],\n  \"model_type\": \"%s\",\n"
            "  \"hidden_size\": %d,\n  \"num_hidden_layers\": %d,\n"
            "  \"num_attention_heads\": %d,\n  \"num_key_value_heads\": %d,\n"
            "  \"intermediate_size\": %d,\n  \"vocab_size\": %d,\n"
            "  \"max_position_embeddings\": %d,\n  \"rms_norm_eps\": 1e-05,\n"
            "  \"rope_theta\": 500000.0,\n  \"tie_word_embeddings\": %s,\n"
            "  \"hidden_act\": \"silu\",\n  \"bos_token_id\": 1,\n  \"eos_token_id\": [2, 7],\n",
            s->arch, s->model_type, s->d, s->L, s->H, s->Hkv, s->I, s->V, s->max_seq,
            s->tied ? "true" : "false");
    if (s->head_dim_in_config)
        fprintf(fp, "  \"head_dim\": %d,\n", s->h);
    if (strcmp(s->model_type, "qwen2") != 0)
        fprintf(fp, "  \"attention_bias\": %s,\n", s->attention_bias ? "true" : "false");
    fprintf(fp, "  \"torch_dtype\": \"float32\"\n}\n");
    return fclose(fp);
}

/* Write fx as the weights of dir, in spec's dtype and sharding. */
static inline int fixture_write_weights(const char *dir, const fixture *fx, const fixture_spec *s) {
    safetensors_write_tensor *wt = calloc(fx->n, sizeof *wt);
    for (size_t i = 0; i < fx->n; i++) {
        wt[i].name = fx->t[i].name;
        wt[i].dtype = s->dtype;
        wt[i].ndim = fx->t[i].ndim;
        wt[i].shape[0] = fx->t[i].shape[0];
        wt[i].shape[1] = fx->t[i].shape[1];
        wt[i].data = fx->t[i].values;
    }
    lrc_error err = {{0}};
    const char *meta[] = {"format", "pt", NULL};
    char path[1024];
    int rc = 0;
    if (s->shards < 2) {
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        rc = safetensors_write(path, wt, fx->n, meta, &err);
    } else {
        /* Tensor i goes to shard i % shards; the index names each. */
        snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
        FILE *fp = fopen(path, "w");
        fprintf(fp, "{\"metadata\": {\"total_size\": 0}, \"weight_map\": {");
        for (size_t i = 0; i < fx->n; i++)
            fprintf(fp, "%s\"%s\": \"model-%05zu-of-%05d.safetensors\"", i ? ", " : "",
                    fx->t[i].name, i % (size_t)s->shards + 1, s->shards);
        fprintf(fp, "}}\n");
        fclose(fp);
        safetensors_write_tensor *part = calloc(fx->n, sizeof *part);
        for (int k = 0; k < s->shards && rc == 0; k++) {
            size_t m = 0;
            for (size_t i = (size_t)k; i < fx->n; i += (size_t)s->shards)
                part[m++] = wt[i];
            snprintf(path, sizeof path, "%s/model-%05d-of-%05d.safetensors", dir, k + 1, s->shards);
            rc = safetensors_write(path, part, m, meta, &err);
        }
        free(part);
    }
    if (rc)
        fprintf(stderr, "fixture: %s\n", err.msg);
    free(wt);
    return rc;
}

/* Build and write a whole model folder; dir must exist. */
static inline int fixture_write_model(const char *dir, fixture *fx, const fixture_spec *s) {
    fixture_build(fx, s);
    if (fixture_write_config(dir, s))
        return -1;
    return fixture_write_weights(dir, fx, s);
}

#endif
