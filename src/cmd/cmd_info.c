/*
 * lrc info: what a model folder or llama2.c file holds, from its config and
 * tensor headers only. The safetensors files are mapped but no tensor data
 * is read, so the command is instant on a large model. It still runs every
 * check that llama_model_load runs before allocating (tensor presence,
 * shapes, dtypes), so a file that info accepts also loads. The memory estimate is
 * reported, not enforced: info works on a model too large for this machine.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "hub/hub_cache.h"
#include "model/model_load.h"
#include "model/sysmem.h"

static const char usage[] =
    "usage: lrc info [--json] PATH\n"
    "\n"
    "Show what the model at PATH holds: a Hugging Face folder (config.json with\n"
    "model.safetensors or model.safetensors.index.json) or a llama2.c .bin file.\n"
    "Prints the architecture, every dimension, RoPE and normalisation settings, the\n"
    "tensor count, the dtypes, the parameter count, the memory needed in fp32 and\n"
    "the files read. Only headers are read, so this is instant on a large model;\n"
    "the tensors are still checked against the config, so a bad file is reported\n"
    "as it would be by a full load.\n"
    "PATH may also be ORG/NAME[@REVISION] of a model in the Hugging Face Hub\n"
    "cache (see lrc pull).\n"
    "\n"
    "Options:\n"
    "  --json       print one JSON object instead of text\n"
    "  -h, --help   show this help\n"
    "\n"
    "Environment:\n"
    "  LRC_MEMORY_LIMIT   bytes of memory lrc may use (suffix K, M, G or T allowed),\n"
    "                     used instead of MemAvailable from /proc/meminfo\n";

typedef struct info_summary {
    size_t n_tensors;
    size_t dtype_counts[ST_N_DTYPES];
    size_t params;
    size_t weight_bytes;
    double memory_needed;
    size_t available;
    const char *available_source;
} info_summary;

/* Tensor arrays of a llama2.c file: embedding, 9 per layer, final norm, classifier. */
static size_t llama2c_tensor_count(const llama_config *cfg) {
    return 2 + 9 * (size_t)cfg->n_layers + (cfg->tied_embeddings ? 0 : 1);
}

static void summarise(const llama_source *src, info_summary *s) {
    memset(s, 0, sizeof *s);
    if (src->format == LLAMA_FORMAT_SAFETENSORS) {
        for (size_t i = 0; i < src->st.n_files; i++) {
            const safetensors_file *f = &src->st.files[i];
            s->n_tensors += f->n_tensors;
            for (size_t k = 0; k < f->n_tensors; k++)
                s->dtype_counts[f->tensors[k].dtype]++;
        }
    } else {
        s->n_tensors = llama2c_tensor_count(&src->cfg);
        s->dtype_counts[ST_F32] = s->n_tensors;
    }
    s->params = llama_config_param_count(&src->cfg);
    s->weight_bytes = llama_model_weight_bytes(&src->cfg);
    s->memory_needed = llama_model_memory_needed(&src->cfg);
}

/* "1,234,567" */
static const char *grouped(char *buf, size_t cap, size_t n) {
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%zu", n);
    size_t o = 0;
    for (int i = 0; i < len && o + 2 < cap; i++) {
        if (i && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

static const char *human(char *buf, size_t cap, double bytes) {
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024.0 && u < 4) {
        bytes /= 1024.0;
        u++;
    }
    snprintf(buf, cap, u ? "%.2f %s" : "%.0f %s", bytes, units[u]);
    return buf;
}

/* A float as the double with the fewest digits that reads back as it, so 1e-5f
 * prints as 1e-05 rather than 9.99999974737875e-06. */
static double short_double(float x) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.9g", (double)x);
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)x);
        if ((float)strtod(buf, NULL) == x)
            break;
    }
    return strtod(buf, NULL);
}

static void rope_scaling_text(char *buf, size_t cap, const llama_config *c) {
    if (strcmp(c->rope_scaling_type, "linear") == 0)
        snprintf(buf, cap, "linear (factor %.10g)", short_double(c->rope_factor));
    else if (strcmp(c->rope_scaling_type, "llama3") == 0)
        snprintf(buf, cap,
                 "llama3 (factor %.10g, low_freq_factor %.10g, high_freq_factor %.10g, "
                 "original_max_position_embeddings %d)",
                 short_double(c->rope_factor), short_double(c->rope_low_freq_factor),
                 short_double(c->rope_high_freq_factor), c->rope_original_max_seq);
    else
        snprintf(buf, cap, "none");
}

static void print_files(const llama_source *src) {
    printf("%-18s %s\n", "files:", src->config_path);
    if (src->format != LLAMA_FORMAT_SAFETENSORS)
        return;
    if (src->st.index_path[0])
        printf("%-18s %s\n", "", src->st.index_path);
    for (size_t i = 0; i < src->st.n_files; i++)
        printf("%-18s %s\n", "", src->st.files[i].path);
}

static void print_text(const llama_source *src, const info_summary *s) {
    const llama_config *c = &src->cfg;
    char buf[256], a[32], b[32], d[32];

    printf("%-18s %s\n", "path:", src->path);
    if (src->format == LLAMA_FORMAT_SAFETENSORS)
        printf("%-18s safetensors, %zu file%s%s\n", "format:", src->st.n_files,
               src->st.n_files == 1 ? "" : "s", src->st.index_path[0] ? " (sharded)" : "");
    else
        printf("%-18s %s\n", "format:", llama_format_name(src->format));
    printf("%-18s %s (model_type %s)\n", "architecture:", c->architecture, c->model_type);
    printf("%-18s %d\n", "hidden size:", c->d);
    printf("%-18s %d\n", "layers:", c->n_layers);
    printf("%-18s %d\n", "attention heads:", c->H);
    printf("%-18s %d\n", "KV heads:", c->Hkv);
    printf("%-18s %d%s\n", "head size:", c->h, c->head_dim_explicit ? " (head_dim)" : "");
    printf("%-18s %d\n", "MLP width:", c->I);
    printf("%-18s %d\n", "vocab size:", c->V);
    printf("%-18s %d\n", "max positions:", c->max_seq);
    printf("%-18s %.10g\n", "rope theta:", short_double(c->rope_theta));
    rope_scaling_text(buf, sizeof buf, c);
    printf("%-18s %s\n", "rope scaling:", buf);
    printf("%-18s %s\n", "rope pairing:",
           c->rope_interleaved ? "interleaved (2i, 2i+1)" : "rotate_half (i, i+h/2)");
    printf("%-18s %.10g\n", "norm eps:", short_double(c->norm_eps));
    printf("%-18s %s\n", "tied embeddings:", c->tied_embeddings ? "yes" : "no");
    printf("%-18s %s\n", "q/k/v biases:", c->qkv_bias ? "yes" : "no");
    printf("%-18s %s\n", "o_proj bias:", c->o_bias ? "yes" : "no");
    if (c->sliding_window)
        printf("%-18s %d\n", "sliding window:", c->sliding_window);
    printf("%-18s %d\n", "bos id:", c->bos_id);
    printf("%-18s", "eos ids:");
    if (!c->n_eos_ids)
        printf(" -1");
    for (int i = 0; i < c->n_eos_ids; i++)
        printf(" %d", c->eos_ids[i]);
    printf("\n");

    printf("%-18s %zu\n", "tensors:", s->n_tensors);
    printf("%-18s", "dtypes:");
    const char *sep = " ";
    for (int i = 0; i < ST_N_DTYPES; i++)
        if (s->dtype_counts[i]) {
            printf("%s%s x %zu", sep, safetensors_dtype_name((safetensors_dtype)i),
                   s->dtype_counts[i]);
            sep = ", ";
        }
    printf("\n");
    printf("%-18s %s\n", "parameters:", grouped(buf, sizeof buf, s->params));
    printf("%-18s %s of weights, %s with the run state (estimate)\n",
           "memory (fp32):", human(a, sizeof a, (double)s->weight_bytes),
           human(b, sizeof b, s->memory_needed));
    printf("%-18s %s (%s)%s\n", "memory available:", human(d, sizeof d, (double)s->available),
           s->available_source,
           s->memory_needed > (double)s->available ? "; the model does not fit" : "");
    print_files(src);
}

static int print_json(const llama_source *src, const info_summary *s) {
    const llama_config *c = &src->cfg;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return -1;
    cJSON_AddStringToObject(o, "path", src->path);
    cJSON_AddStringToObject(o, "format", llama_format_name(src->format));
    cJSON_AddStringToObject(o, "architecture", c->architecture);
    cJSON_AddStringToObject(o, "model_type", c->model_type);
    cJSON_AddNumberToObject(o, "hidden_size", c->d);
    cJSON_AddNumberToObject(o, "num_hidden_layers", c->n_layers);
    cJSON_AddNumberToObject(o, "num_attention_heads", c->H);
    cJSON_AddNumberToObject(o, "num_key_value_heads", c->Hkv);
    cJSON_AddNumberToObject(o, "head_dim", c->h);
    cJSON_AddNumberToObject(o, "intermediate_size", c->I);
    cJSON_AddNumberToObject(o, "vocab_size", c->V);
    cJSON_AddNumberToObject(o, "max_position_embeddings", c->max_seq);
    cJSON_AddNumberToObject(o, "rope_theta", short_double(c->rope_theta));
    if (strcmp(c->rope_scaling_type, "none") == 0) {
        cJSON_AddNullToObject(o, "rope_scaling");
    } else {
        cJSON *rs = cJSON_AddObjectToObject(o, "rope_scaling");
        cJSON_AddStringToObject(rs, "rope_type", c->rope_scaling_type);
        cJSON_AddNumberToObject(rs, "factor", short_double(c->rope_factor));
        if (strcmp(c->rope_scaling_type, "llama3") == 0) {
            cJSON_AddNumberToObject(rs, "low_freq_factor", short_double(c->rope_low_freq_factor));
            cJSON_AddNumberToObject(rs, "high_freq_factor", short_double(c->rope_high_freq_factor));
            cJSON_AddNumberToObject(rs, "original_max_position_embeddings",
                                    c->rope_original_max_seq);
        }
    }
    cJSON_AddBoolToObject(o, "rope_interleaved", c->rope_interleaved);
    cJSON_AddNumberToObject(o, "rms_norm_eps", short_double(c->norm_eps));
    cJSON_AddBoolToObject(o, "tie_word_embeddings", c->tied_embeddings);
    cJSON_AddBoolToObject(o, "qkv_bias", c->qkv_bias);
    cJSON_AddBoolToObject(o, "o_bias", c->o_bias);
    cJSON_AddNumberToObject(o, "sliding_window", c->sliding_window);
    cJSON_AddNumberToObject(o, "bos_token_id", c->bos_id);
    cJSON *eos = cJSON_AddArrayToObject(o, "eos_token_ids");
    for (int i = 0; i < c->n_eos_ids; i++)
        cJSON_AddItemToArray(eos, cJSON_CreateNumber(c->eos_ids[i]));
    cJSON_AddNumberToObject(o, "tensors", (double)s->n_tensors);
    cJSON *dt = cJSON_AddObjectToObject(o, "dtypes");
    for (int i = 0; i < ST_N_DTYPES; i++)
        if (s->dtype_counts[i])
            cJSON_AddNumberToObject(dt, safetensors_dtype_name((safetensors_dtype)i),
                                    (double)s->dtype_counts[i]);
    cJSON_AddNumberToObject(o, "parameters", (double)s->params);
    cJSON_AddNumberToObject(o, "weight_bytes", (double)s->weight_bytes);
    cJSON_AddNumberToObject(o, "memory_needed_bytes", s->memory_needed);
    cJSON_AddNumberToObject(o, "memory_available_bytes", (double)s->available);
    cJSON_AddStringToObject(o, "memory_available_source", s->available_source);
    cJSON_AddBoolToObject(o, "fits", s->memory_needed <= (double)s->available);
    cJSON *files = cJSON_AddArrayToObject(o, "files");
    cJSON_AddItemToArray(files, cJSON_CreateString(src->config_path));
    if (src->format == LLAMA_FORMAT_SAFETENSORS) {
        if (src->st.index_path[0])
            cJSON_AddItemToArray(files, cJSON_CreateString(src->st.index_path));
        for (size_t i = 0; i < src->st.n_files; i++)
            cJSON_AddItemToArray(files, cJSON_CreateString(src->st.files[i].path));
    }

    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text)
        return -1;
    puts(text);
    free(text);
    return 0;
}

int cmd_info(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    const char *path = NULL;
    int json = 0, options_done = 0;
    for (int i = 1; i < argc; i++) {
        if (!options_done && strcmp(argv[i], "--") == 0) {
            options_done = 1;
        } else if (!options_done && strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (!options_done && argv[i][0] == '-' && argv[i][1]) {
            cmd_fail("info: unknown option '%s'; run 'lrc info --help'", argv[i]);
            return 2;
        } else if (path) {
            cmd_fail("info: more than one PATH ('%s' and '%s'); give one model", path, argv[i]);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        cmd_fail("info: missing PATH; usage: lrc info [--json] PATH");
        return 2;
    }

    llama_source src;
    lrc_error err = {{0}};
    info_summary s;
    int rc = 1;
    char resolved[HUB_PATH_MAX];
    if (hub_resolve_model_arg(resolved, sizeof resolved, path, &err) < 0) {
        cmd_fail("info: %s", err.msg);
        return 1;
    }
    path = resolved;
    if (llama_source_open_config(&src, path, &err) < 0 ||
        llama_source_open_weights(&src, &err) < 0 || llama_source_check(&src, &err) < 0)
        goto done;
    summarise(&src, &s);
    if (sysmem_available(&s.available, &s.available_source, &err) < 0)
        goto done;

    if (json ? print_json(&src, &s) : (print_text(&src, &s), 0)) {
        lrc_errorf(&err, "info: out of memory formatting the output");
        goto done;
    }
    rc = 0;
done:
    if (rc)
        cmd_fail("%s", err.msg);
    llama_source_close(&src);
    return rc;
}
