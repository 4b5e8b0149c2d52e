/*
 * config.json parsing for Llama, Mistral and Qwen2 checkpoints. Each key is
 * read with a typed helper that names the file and the key in its error, so
 * a bad config points at the value to fix. Absent keys take these defaults:
 * num_key_value_heads = num_attention_heads, head_dim = hidden_size /
 * num_attention_heads, rope_theta = 10000, rms_norm_eps = 1e-6,
 * max_position_embeddings = 2048, tie_word_embeddings = false.
 * NOTE: published checkpoints state rms_norm_eps and max_position_embeddings,
 * so those two defaults only matter for hand-written configs.
 */
#define _POSIX_C_SOURCE 200809L
#include "model/config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *architecture;
    const char *model_type;
} supported[] = {
    {"LlamaForCausalLM", "llama"},
    {"MistralForCausalLM", "mistral"},
    {"Qwen2ForCausalLM", "qwen2"},
};
#define N_SUPPORTED (sizeof supported / sizeof supported[0])
#define SUPPORTED_LIST "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM"

static char *read_file(const char *path, size_t *len, lrc_error *err) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        lrc_errorf(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    long size = -1;
    if (fseek(fp, 0, SEEK_END) == 0)
        size = ftell(fp);
    if (size < 0 || size > (1L << 26) || fseek(fp, 0, SEEK_SET) != 0) {
        fclose(fp);
        lrc_errorf(err, "%s: cannot read the file or it is over 64 MiB; expected a config.json",
                   path);
        return NULL;
    }
    buf = malloc((size_t)size + 1);
    if (buf && fread(buf, 1, (size_t)size, fp) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    if (!buf) {
        lrc_errorf(err, "%s: read failed", path);
        return NULL;
    }
    buf[size] = '\0';
    *len = (size_t)size;
    return buf;
}

/* The first key that an object (at any depth) contains twice, or NULL.
 * Python's json keeps the last value silently, but a repeated key in a
 * config is a mistake, so it is an error here. */
static const char *duplicate_key(const cJSON *node) {
    for (const cJSON *a = node ? node->child : NULL; a; a = a->next) {
        if (cJSON_IsObject(node) && a->string)
            for (const cJSON *b = a->next; b; b = b->next)
                if (b->string && strcmp(a->string, b->string) == 0)
                    return a->string;
        const char *inner = duplicate_key(a);
        if (inner)
            return inner;
    }
    return NULL;
}

/* Parse JSON text; on failure name the byte offset and line of the error.
 * Text after the closing brace and repeated keys are errors. */
static cJSON *parse_json(const char *path, const char *text, size_t len, lrc_error *err) {
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (root) {
        size_t after = (size_t)(end - text);
        while (after < len && strchr(" \t\r\n", text[after]))
            after++;
        if (after < len) {
            int line = 1;
            for (size_t i = 0; i < after; i++)
                line += text[i] == '\n';
            lrc_errorf(err,
                       "%s: malformed JSON: text after the closing brace at byte offset %zu "
                       "(line %d); delete it",
                       path, after, line);
            cJSON_Delete(root);
            return NULL;
        }
        const char *dup = duplicate_key(root);
        if (!dup)
            return root;
        lrc_errorf(err,
                   "%s: key %.64s appears twice in one object; keep one value and delete the "
                   "other",
                   path, dup);
        cJSON_Delete(root);
        return NULL;
    }
    size_t at = end ? (size_t)(end - text) : 0;
    int line = 1;
    for (size_t i = 0; i < at && i < len; i++)
        line += text[i] == '\n';
    lrc_errorf(err,
               "%s: malformed JSON near byte offset %zu (line %d); fix the file or "
               "re-download it",
               path, at, line);
    return NULL;
}

/* Present and not JSON null. */
static const cJSON *get(const cJSON *root, const char *key) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, key);
    return cJSON_IsNull(item) ? NULL : item;
}

static int get_int(const cJSON *root, const char *key, int *out, int required, int fallback,
                   const char *path, lrc_error *err) {
    const cJSON *item = get(root, key);
    if (!item) {
        if (required)
            return lrc_errorf(err, "%s: key %s is missing; expected a positive integer", path, key);
        *out = fallback;
        return 0;
    }
    double v = cJSON_IsNumber(item) ? item->valuedouble : NAN;
    if (!(v >= INT32_MIN && v <= INT32_MAX) || v != floor(v))
        return lrc_errorf(err, "%s: key %s is not an integer in the int32 range; fix the value",
                          path, key);
    *out = (int)v;
    return 0;
}

static int get_float(const cJSON *root, const char *key, float *out, int required, float fallback,
                     const char *path, lrc_error *err) {
    const cJSON *item = get(root, key);
    if (!item) {
        if (required)
            return lrc_errorf(err, "%s: key %s is missing; expected a number", path, key);
        *out = fallback;
        return 0;
    }
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble))
        return lrc_errorf(err, "%s: key %s is not a finite number", path, key);
    *out = (float)item->valuedouble;
    return 0;
}

static int get_bool(const cJSON *root, const char *key, bool *out, bool fallback, const char *path,
                    lrc_error *err) {
    const cJSON *item = get(root, key);
    if (!item) {
        *out = fallback;
        return 0;
    }
    if (!cJSON_IsBool(item))
        return lrc_errorf(err, "%s: key %s is not true or false", path, key);
    *out = cJSON_IsTrue(item);
    return 0;
}

/* architectures[0] and model_type must name the same supported family. */
static int read_architecture(llama_config *cfg, const cJSON *root, const char *path,
                             lrc_error *err) {
    const cJSON *archs = get(root, "architectures");
    const cJSON *mtype = get(root, "model_type");
    const char *arch = NULL;

    if (archs) {
        const cJSON *first = cJSON_IsArray(archs) ? cJSON_GetArrayItem(archs, 0) : NULL;
        if (!cJSON_IsString(first))
            return lrc_errorf(err, "%s: key architectures is not a list of class names", path);
        arch = first->valuestring;
    }
    if (mtype && !cJSON_IsString(mtype))
        return lrc_errorf(err, "%s: key model_type is not a string", path);
    if (!arch && !mtype)
        return lrc_errorf(err,
                          "%s: keys architectures and model_type are both missing; "
                          "expected e.g. \"architectures\": [\"LlamaForCausalLM\"]",
                          path);

    int found = -1;
    for (size_t i = 0; i < N_SUPPORTED; i++) {
        if (arch && strcmp(arch, supported[i].architecture) == 0)
            found = (int)i;
        if (!arch && strcmp(mtype->valuestring, supported[i].model_type) == 0)
            found = (int)i;
    }
    if (found < 0 && arch)
        return lrc_errorf(err,
                          "unsupported architecture '%.64s' in %s: key architectures; "
                          "supported: " SUPPORTED_LIST,
                          arch, path);
    if (found < 0)
        return lrc_errorf(err,
                          "unsupported model_type '%.32s' in %s: key model_type; "
                          "supported: llama, mistral, qwen2",
                          mtype->valuestring, path);
    if (mtype && strcmp(mtype->valuestring, supported[found].model_type) != 0)
        return lrc_errorf(err,
                          "%s: key model_type is '%.32s' but architectures names %s; "
                          "expected model_type '%s'",
                          path, mtype->valuestring, supported[found].architecture,
                          supported[found].model_type);
    snprintf(cfg->architecture, sizeof cfg->architecture, "%s", supported[found].architecture);
    snprintf(cfg->model_type, sizeof cfg->model_type, "%s", supported[found].model_type);
    return 0;
}

static int read_rope_scaling(llama_config *cfg, const cJSON *root, const char *path,
                             lrc_error *err) {
    snprintf(cfg->rope_scaling_type, sizeof cfg->rope_scaling_type, "none");
    cfg->rope_factor = 1.0f;
    cfg->rope_low_freq_factor = 1.0f;
    cfg->rope_high_freq_factor = 1.0f;
    cfg->rope_original_max_seq = 0;

    const cJSON *rs = get(root, "rope_scaling");
    if (!rs)
        return 0;
    if (!cJSON_IsObject(rs))
        return lrc_errorf(err, "%s: key rope_scaling is not an object or null", path);
    const cJSON *type = get(rs, "rope_type");
    if (!type)
        type = get(rs, "type");
    if (!cJSON_IsString(type))
        return lrc_errorf(err, "%s: key rope_scaling has no string rope_type or type", path);
    const char *t = type->valuestring;

    if (strcmp(t, "default") == 0)
        return 0;
    if (strcmp(t, "linear") == 0) {
        snprintf(cfg->rope_scaling_type, sizeof cfg->rope_scaling_type, "linear");
        return get_float(rs, "factor", &cfg->rope_factor, 1, 1.0f, path, err);
    }
    if (strcmp(t, "llama3") == 0) {
        snprintf(cfg->rope_scaling_type, sizeof cfg->rope_scaling_type, "llama3");
        const char *keys[] = {"factor", "low_freq_factor", "high_freq_factor",
                              "original_max_position_embeddings"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (!cJSON_IsNumber(get(rs, keys[i])))
                return lrc_errorf(err,
                                  "%s: key rope_scaling.%s is missing or not a number; "
                                  "llama3 scaling needs factor, low_freq_factor, "
                                  "high_freq_factor and original_max_position_embeddings",
                                  path, keys[i]);
        if (get_float(rs, "factor", &cfg->rope_factor, 1, 1.0f, path, err) ||
            get_float(rs, "low_freq_factor", &cfg->rope_low_freq_factor, 1, 1.0f, path, err) ||
            get_float(rs, "high_freq_factor", &cfg->rope_high_freq_factor, 1, 1.0f, path, err) ||
            get_int(rs, "original_max_position_embeddings", &cfg->rope_original_max_seq, 1, 0, path,
                    err))
            return -1;
        return 0;
    }
    return lrc_errorf(err,
                      "%s: key rope_scaling has type '%.32s', which lrc does not "
                      "implement; supported: linear, llama3 (or null)",
                      path, t);
}

/* A special id must name a token: 0..V-1 (V is checked on its own later). */
static int check_special_id(const llama_config *cfg, const char *key, long long id,
                            const char *path, lrc_error *err) {
    if (cfg->V > 0 && (id < 0 || id >= cfg->V))
        return lrc_errorf(err,
                          "%s: key %s has id %lld, outside the vocabulary 0..%d "
                          "(vocab_size %d); fix the id",
                          path, key, id, cfg->V - 1, cfg->V);
    return 0;
}

static int read_special_ids(llama_config *cfg, const cJSON *root, const char *path,
                            lrc_error *err) {
    if (get_int(root, "bos_token_id", &cfg->bos_id, 0, -1, path, err))
        return -1;
    if (get(root, "bos_token_id") &&
        check_special_id(cfg, "bos_token_id", cfg->bos_id, path, err) < 0)
        return -1;

    cfg->eos_id = -1;
    cfg->n_eos_ids = 0;
    const cJSON *eos = get(root, "eos_token_id");
    if (!eos)
        return 0;
    if (cJSON_IsNumber(eos)) {
        if (get_int(root, "eos_token_id", &cfg->eos_id, 1, -1, path, err) ||
            check_special_id(cfg, "eos_token_id", cfg->eos_id, path, err) < 0)
            return -1;
        cfg->eos_ids[cfg->n_eos_ids++] = cfg->eos_id;
        return 0;
    }
    if (!cJSON_IsArray(eos))
        return lrc_errorf(err, "%s: key eos_token_id is not an integer or a list of integers",
                          path);
    /* A list (Llama 3 instruct models stop on several ids): eos_id is the
     * first, eos_ids keeps up to eight for generation to stop on. */
    const cJSON *it;
    cJSON_ArrayForEach(it, eos) {
        double v = cJSON_IsNumber(it) ? it->valuedouble : -1.0;
        if (!(v >= 0 && v <= INT32_MAX) || v != floor(v))
            return lrc_errorf(err,
                              "%s: key eos_token_id has an entry that is not a "
                              "non-negative integer",
                              path);
        if (check_special_id(cfg, "eos_token_id", (long long)v, path, err) < 0)
            return -1;
        if (cfg->n_eos_ids < (int)(sizeof cfg->eos_ids / sizeof cfg->eos_ids[0]))
            cfg->eos_ids[cfg->n_eos_ids++] = (int)v;
    }
    if (cfg->n_eos_ids)
        cfg->eos_id = cfg->eos_ids[0];
    return 0;
}

/* Features of the config classes that the forward pass does not implement. */
static int reject_unsupported(const cJSON *root, const char *path, lrc_error *err) {
    bool mlp_bias = false;
    if (get_bool(root, "mlp_bias", &mlp_bias, false, path, err))
        return -1;
    if (mlp_bias)
        return lrc_errorf(err, "%s: key mlp_bias is true; lrc implements MLPs without biases",
                          path);
    const cJSON *act = get(root, "hidden_act");
    if (act && (!cJSON_IsString(act) || strcmp(act->valuestring, "silu") != 0))
        return lrc_errorf(err,
                          "%s: key hidden_act is '%.32s'; lrc implements SwiGLU with silu "
                          "only",
                          path, cJSON_IsString(act) ? act->valuestring : "(not a string)");
    return 0;
}

static int read_config(llama_config *cfg, const cJSON *root, const char *path, lrc_error *err) {
    if (!cJSON_IsObject(root))
        return lrc_errorf(err, "%s: top level is not a JSON object", path);
    if (read_architecture(cfg, root, path, err) || reject_unsupported(root, path, err))
        return -1;

    if (get_int(root, "hidden_size", &cfg->d, 1, 0, path, err) ||
        get_int(root, "num_hidden_layers", &cfg->n_layers, 1, 0, path, err) ||
        get_int(root, "num_attention_heads", &cfg->H, 1, 0, path, err) ||
        get_int(root, "num_key_value_heads", &cfg->Hkv, 0, cfg->H, path, err) ||
        get_int(root, "intermediate_size", &cfg->I, 1, 0, path, err) ||
        get_int(root, "vocab_size", &cfg->V, 1, 0, path, err) ||
        get_int(root, "max_position_embeddings", &cfg->max_seq, 0, 2048, path, err))
        return -1;

    cfg->head_dim_explicit = get(root, "head_dim") != NULL;
    if (get_int(root, "head_dim", &cfg->h, 0, cfg->H > 0 ? cfg->d / cfg->H : 0, path, err))
        return -1;

    if (get_float(root, "rms_norm_eps", &cfg->norm_eps, 0, 1e-6f, path, err) ||
        get_float(root, "rope_theta", &cfg->rope_theta, 0, 10000.0f, path, err) ||
        read_rope_scaling(cfg, root, path, err) ||
        get_bool(root, "tie_word_embeddings", &cfg->tied_embeddings, false, path, err))
        return -1;

    /* Qwen2 always has q/k/v biases; Llama and Mistral add q/k/v/o biases
     * when attention_bias is true. */
    bool attention_bias = false;
    if (get_bool(root, "attention_bias", &attention_bias, false, path, err))
        return -1;
    bool qwen2 = strcmp(cfg->model_type, "qwen2") == 0;
    cfg->qkv_bias = qwen2 || attention_bias;
    cfg->o_bias = !qwen2 && attention_bias;

    cfg->sliding_window = 0;
    bool use_sliding = !qwen2; /* Qwen2 gates sliding_window with use_sliding_window */
    if (qwen2 && get_bool(root, "use_sliding_window", &use_sliding, false, path, err))
        return -1;
    if (use_sliding && get_int(root, "sliding_window", &cfg->sliding_window, 0, 0, path, err))
        return -1;

    cfg->rope_interleaved = false;
    return read_special_ids(cfg, root, path, err);
}

int llama_config_load(llama_config *cfg, const char *path, lrc_error *err) {
    memset(cfg, 0, sizeof *cfg);
    size_t len;
    char *text = read_file(path, &len, err);
    if (!text)
        return -1;
    cJSON *root = parse_json(path, text, len, err);
    free(text);
    if (!root)
        return -1;
    int rc = read_config(cfg, root, path, err);
    cJSON_Delete(root);
    return rc;
}

int llama_config_validate(const llama_config *cfg, const char *path, lrc_error *err) {
    const struct {
        const char *key;
        int value;
    } sizes[] = {
        {"hidden_size", cfg->d},
        {"num_hidden_layers", cfg->n_layers},
        {"num_attention_heads", cfg->H},
        {"num_key_value_heads", cfg->Hkv},
        {"intermediate_size", cfg->I},
        {"vocab_size", cfg->V},
        {"max_position_embeddings", cfg->max_seq},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (sizes[i].value <= 0)
            return lrc_errorf(err, "%s: key %s is %d; expected a positive integer", path,
                              sizes[i].key, sizes[i].value);

    if (!cfg->head_dim_explicit && cfg->d % cfg->H != 0)
        return lrc_errorf(err,
                          "%s: heads that do not divide the hidden size: hidden_size=%d is not "
                          "a multiple of num_attention_heads=%d and there is no head_dim key; "
                          "fix the sizes or state head_dim",
                          path, cfg->d, cfg->H);
    if (cfg->h <= 0)
        return lrc_errorf(err, "%s: key head_dim is %d; expected a positive integer", path, cfg->h);
    if (cfg->h % 2 != 0)
        return lrc_errorf(err,
                          "%s: head size %d (key %s) is odd; RoPE rotates pairs of "
                          "dimensions, so it must be even",
                          path, cfg->h,
                          cfg->head_dim_explicit ? "head_dim"
                                                 : "hidden_size / "
                                                   "num_attention_heads");
    if (cfg->H % cfg->Hkv != 0)
        return lrc_errorf(err,
                          "%s: num_attention_heads=%d is not a multiple of "
                          "num_key_value_heads=%d; grouped-query attention needs an equal number "
                          "of query heads per key/value head",
                          path, cfg->H, cfg->Hkv);
    /* Bound the size so that element and byte counts cannot overflow size_t. */
    double d = cfg->d, q = (double)cfg->H * cfg->h, kv = (double)cfg->Hkv * cfg->h;
    double params = 2.0 * cfg->V * d +
                    (double)cfg->n_layers *
                        (2 * d + 2 * q * d + 2 * kv * d + 3.0 * cfg->I * d + q + 2 * kv + d) +
                    d;
    if (params > 0x1p56 || (double)cfg->max_seq * cfg->h > 0x1p56)
        return lrc_errorf(err,
                          "%s: the sizes imply %.3g parameters, more than lrc can address; check "
                          "hidden_size, num_hidden_layers, intermediate_size and vocab_size",
                          path, params);
    if (!(cfg->norm_eps > 0.0f))
        return lrc_errorf(err, "%s: key rms_norm_eps is %g; expected a positive number", path,
                          (double)cfg->norm_eps);
    if (!(cfg->rope_theta > 0.0f))
        return lrc_errorf(err, "%s: key rope_theta is %g; expected a positive number", path,
                          (double)cfg->rope_theta);

    if (strcmp(cfg->rope_scaling_type, "none") != 0 && !(cfg->rope_factor > 0.0f))
        return lrc_errorf(err, "%s: key rope_scaling.factor is %g; expected a positive number",
                          path, (double)cfg->rope_factor);
    if (strcmp(cfg->rope_scaling_type, "llama3") == 0 &&
        (!(cfg->rope_low_freq_factor > 0.0f) ||
         !(cfg->rope_high_freq_factor > cfg->rope_low_freq_factor) ||
         cfg->rope_original_max_seq <= 0))
        return lrc_errorf(err,
                          "%s: key rope_scaling (llama3) needs 0 < low_freq_factor < "
                          "high_freq_factor and a positive original_max_position_embeddings",
                          path);
    return 0;
}

size_t llama_config_param_count(const llama_config *cfg) {
    size_t d = (size_t)cfg->d, q = (size_t)cfg->H * (size_t)cfg->h;
    size_t kv = (size_t)cfg->Hkv * (size_t)cfg->h, I = (size_t)cfg->I, V = (size_t)cfg->V;

    size_t layer = 2 * d        /* attention and MLP norms */
                   + q * d      /* wq */
                   + 2 * kv * d /* wk, wv */
                   + d * q      /* wo */
                   + 3 * I * d; /* gate, up, down */
    if (cfg->qkv_bias)
        layer += q + 2 * kv;
    if (cfg->o_bias)
        layer += d;

    size_t total = V * d + (size_t)cfg->n_layers * layer + d;
    if (!cfg->tied_embeddings)
        total += V * d;
    return total;
}

/* ---- writing ---------------------------------------------------------------- */

/* The shortest decimal that reads back as f, so config.json states 1e-05
 * rather than the double nearest the float (9.99999974737875e-06). */
static double float_decimal(float f) {
    char buf[32];
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)f);
        double v = strtod(buf, NULL);
        if ((float)v == f)
            return v;
    }
    return (double)f;
}

int llama_config_write(const llama_config *c, const char *path, lrc_error *err) {
    const char *arch = "LlamaForCausalLM", *type = "llama";
    if (strcmp(c->model_type, "qwen2") == 0) {
        arch = "Qwen2ForCausalLM";
        type = "qwen2";
    } else if (strcmp(c->model_type, "mistral") == 0) {
        arch = "MistralForCausalLM";
        type = "mistral";
    }

    cJSON *root = cJSON_CreateObject();
    cJSON *archs = cJSON_AddArrayToObject(root, "architectures");
    cJSON_AddItemToArray(archs, cJSON_CreateString(arch));
    cJSON_AddStringToObject(root, "model_type", type);
    cJSON_AddNumberToObject(root, "hidden_size", c->d);
    cJSON_AddNumberToObject(root, "intermediate_size", c->I);
    cJSON_AddNumberToObject(root, "num_hidden_layers", c->n_layers);
    cJSON_AddNumberToObject(root, "num_attention_heads", c->H);
    cJSON_AddNumberToObject(root, "num_key_value_heads", c->Hkv);
    cJSON_AddNumberToObject(root, "head_dim", c->h);
    cJSON_AddNumberToObject(root, "vocab_size", c->V);
    cJSON_AddNumberToObject(root, "max_position_embeddings", c->max_seq);
    cJSON_AddNumberToObject(root, "rms_norm_eps", float_decimal(c->norm_eps));
    cJSON_AddNumberToObject(root, "rope_theta", float_decimal(c->rope_theta));
    cJSON_AddStringToObject(root, "hidden_act", "silu");
    cJSON_AddBoolToObject(root, "tie_word_embeddings", c->tied_embeddings);
    cJSON_AddStringToObject(root, "torch_dtype", "float32");
    /* Qwen2 always has q/k/v biases; Llama's attention_bias gives q, k, v
     * and o biases together. */
    if (strcmp(type, "qwen2") != 0)
        cJSON_AddBoolToObject(root, "attention_bias", c->qkv_bias || c->o_bias);
    if (c->sliding_window > 0) {
        cJSON_AddNumberToObject(root, "sliding_window", c->sliding_window);
        if (strcmp(type, "qwen2") == 0)
            cJSON_AddBoolToObject(root, "use_sliding_window", true);
    }
    if (c->bos_id >= 0)
        cJSON_AddNumberToObject(root, "bos_token_id", c->bos_id);
    if (c->n_eos_ids > 1) {
        cJSON *eos = cJSON_AddArrayToObject(root, "eos_token_id");
        for (int i = 0; i < c->n_eos_ids; i++)
            cJSON_AddItemToArray(eos, cJSON_CreateNumber(c->eos_ids[i]));
    } else if (c->eos_id >= 0) {
        cJSON_AddNumberToObject(root, "eos_token_id", c->eos_id);
    }
    if (strcmp(c->rope_scaling_type, "linear") == 0 ||
        strcmp(c->rope_scaling_type, "llama3") == 0) {
        cJSON *rs = cJSON_AddObjectToObject(root, "rope_scaling");
        cJSON_AddStringToObject(rs, "rope_type", c->rope_scaling_type);
        cJSON_AddNumberToObject(rs, "factor", float_decimal(c->rope_factor));
        if (strcmp(c->rope_scaling_type, "llama3") == 0) {
            cJSON_AddNumberToObject(rs, "low_freq_factor", float_decimal(c->rope_low_freq_factor));
            cJSON_AddNumberToObject(rs, "high_freq_factor",
                                    float_decimal(c->rope_high_freq_factor));
            cJSON_AddNumberToObject(rs, "original_max_position_embeddings",
                                    c->rope_original_max_seq);
        }
    }

    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return lrc_errorf(err, "%s: out of memory", path);
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        free(text);
        return lrc_errorf(err, "%s: cannot create: %s; check the folder is writable", path,
                          strerror(errno));
    }
    size_t n = strlen(text);
    int bad = fwrite(text, 1, n, fp) != n;
    bad |= fputc('\n', fp) == EOF;
    bad |= fclose(fp) != 0;
    free(text);
    if (bad)
        return lrc_errorf(err, "%s: write failed: %s", path, strerror(errno));
    return 0;
}
