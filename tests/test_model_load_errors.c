/*
 * llama_model_load on bad input: each case must fail with one line that
 * names the file and the key, tensor or byte offset, and leave nothing
 * allocated (the ASan build checks for leaks). Covers missing and
 * mis-shaped tensors, malformed and inconsistent config.json, unsupported
 * architectures and rope scaling, dtypes that do not convert, llama2.c files
 * whose size disagrees with their header, and the memory check (a config
 * claiming about 1 TB, and LRC_MEMORY_LIMIT).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/llama.h"
#include "model/model_load.h"
#include "model/sysmem.h"
#include "model_fixture.h"
#include "tap.h"

static char tmp_root[256];

static const fixture_spec base = {.arch = "LlamaForCausalLM",
                                  .model_type = "llama",
                                  .d = 16,
                                  .L = 2,
                                  .H = 4,
                                  .Hkv = 2,
                                  .h = 4,
                                  .I = 24,
                                  .V = 19,
                                  .max_seq = 32,
                                  .dtype = ST_F32};

static void make_dir(char *dir, size_t cap, const char *label) {
    snprintf(dir, cap, "%s/%s", tmp_root, label);
    mkdir(dir, 0700);
}

/* Load path and check the one-line message contains every needle. */
static void expect_error(const char *label, const char *path, const char *const *needles) {
    llama_model m;
    lrc_error err = {{0}};
    int rc = llama_model_load(&m, path, &err);
    ok(rc < 0 && m.arena == NULL, "%s: rejected, nothing allocated", label);
    int has = !strchr(err.msg, '\n') && err.msg[0];
    for (size_t i = 0; needles[i]; i++)
        has = has && strstr(err.msg, needles[i]);
    if (!ok(has, "%s: one line naming the file and the key or offset", label) ||
        getenv("LRC_TEST_SHOW_ERRORS"))
        diag("message: %s", err.msg);
    if (rc == 0)
        llama_model_free(&m);
}

/* Replace the first occurrence of from with to in dir/config.json. */
static void edit_config(const char *dir, const char *from, const char *to) {
    char path[600], buf[8192];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *fp = fopen(path, "r");
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    char *at = strstr(buf, from);
    if (!at) {
        diag("edit_config: '%s' not in %s", from, path);
        return;
    }
    fp = fopen(path, "w");
    fwrite(buf, 1, (size_t)(at - buf), fp);
    fputs(to, fp);
    fputs(at + strlen(from), fp);
    fclose(fp);
}

static void test_tensor_errors(void) {
    char dir[512], file[600];
    fixture fx;

    /* A missing tensor: drop the second layer's up_proj from the file. */
    make_dir(dir, sizeof dir, "missing");
    fixture_build(&fx, &base);
    fixture_write_config(dir, &base);
    for (size_t i = 0; i < fx.n; i++)
        if (strcmp(fx.t[i].name, "model.layers.1.mlp.up_proj.weight") == 0) {
            free(fx.t[i].values);
            fx.t[i] = fx.t[--fx.n];
        }
    fixture_write_weights(dir, &fx, &base);
    fixture_free(&fx);
    snprintf(file, sizeof file, "%s/model.safetensors", dir);
    expect_error("missing tensor", dir,
                 (const char *[]){file, "'model.layers.1.mlp.up_proj.weight'", "missing", NULL});

    /* Shape disagrees: config sets intermediate_size 24, the file has 25. */
    make_dir(dir, sizeof dir, "shape");
    fixture_spec s = base;
    s.I = 25;
    fixture_build(&fx, &s);
    fixture_write_weights(dir, &fx, &s);
    fixture_free(&fx);
    fixture_write_config(dir, &base);
    snprintf(file, sizeof file, "%s/model.safetensors", dir);
    expect_error("shape disagrees with config", dir,
                 (const char *[]){"shape [25, 16] of model.layers.0.mlp.gate_proj.weight", file,
                                  "disagrees with config.json: expected [24, 16]",
                                  "intermediate_size=24", NULL});

    /* Sharded: the error names the shard that contains the bad tensor. */
    make_dir(dir, sizeof dir, "shape-sharded");
    s = base;
    s.V = 20;
    s.shards = 2;
    fixture_build(&fx, &s);
    fixture_write_weights(dir, &fx, &s);
    fixture_free(&fx);
    s.V = 19;
    fixture_write_config(dir, &s);
    expect_error("shape disagrees, sharded", dir,
                 (const char *[]){"shape [20, 16] of model.embed_tokens.weight",
                                  "model-00001-of-00002.safetensors", "vocab_size=19", NULL});

    /* Biases the config does not announce would be dropped silently. */
    make_dir(dir, sizeof dir, "stray-bias");
    s = base;
    s.attention_bias = 1;
    fixture_write_model(dir, &fx, &s);
    fixture_free(&fx);
    fixture_write_config(dir, &base);
    expect_error("o_proj bias without attention_bias", dir,
                 (const char *[]){"o_proj.bias", "attention_bias", NULL});

    /* Qwen2 needs q/k/v biases; a Llama file lacks them. */
    make_dir(dir, sizeof dir, "qwen-no-bias");
    fixture_write_model(dir, &fx, &base);
    fixture_free(&fx);
    edit_config(dir, "\"LlamaForCausalLM\"", "\"Qwen2ForCausalLM\"");
    edit_config(dir, "\"llama\"", "\"qwen2\"");
    expect_error("qwen2 without biases", dir,
                 (const char *[]){"'model.layers.0.self_attn.q_proj.bias'", "missing", NULL});

    /* F64 weights: valid safetensors, not a weight dtype lrc converts. */
    make_dir(dir, sizeof dir, "f64");
    fixture_write_config(dir, &base);
    snprintf(file, sizeof file, "%s/model.safetensors", dir);
    {
        fixture_build(&fx, &base);
        /* Hand-write a header where the embedding is F64. */
        FILE *fp = fopen(file, "wb");
        char header[16384];
        size_t off = 0, hl = 0;
        hl += (size_t)snprintf(header + hl, sizeof header - hl, "{");
        for (size_t i = 0; i < fx.n; i++) {
            size_t es = i == 0 ? 8 : 4;
            size_t bytes = fx.t[i].numel * es;
            hl += (size_t)snprintf(header + hl, sizeof header - hl,
                                   "%s\"%s\": {\"dtype\": \"%s\", \"shape\": [%lld%s%.0lld], "
                                   "\"data_offsets\": [%zu, %zu]}",
                                   i ? ", " : "", fx.t[i].name, i == 0 ? "F64" : "F32",
                                   (long long)fx.t[i].shape[0], fx.t[i].ndim == 2 ? ", " : "",
                                   fx.t[i].ndim == 2 ? (long long)fx.t[i].shape[1] : 0LL, off,
                                   off + bytes);
            off += bytes;
        }
        hl += (size_t)snprintf(header + hl, sizeof header - hl, "}");
        uint64_t len = hl;
        fwrite(&len, 8, 1, fp);
        fwrite(header, 1, hl, fp);
        for (size_t i = 0; i < off; i++)
            fputc(0, fp);
        fclose(fp);
        fixture_free(&fx);
    }
    expect_error("F64 weights", dir,
                 (const char *[]){file, "'model.embed_tokens.weight'", "dtype F64", NULL});

    /* A truncated weights file: the safetensors check names it. */
    make_dir(dir, sizeof dir, "truncated");
    fixture_write_model(dir, &fx, &base);
    fixture_free(&fx);
    snprintf(file, sizeof file, "%s/model.safetensors", dir);
    if (truncate(file, 4000) != 0)
        diag("truncate failed");
    expect_error("truncated weights", dir,
                 (const char *[]){file, "data_offsets", "outside the data section", NULL});

    /* No weights at all. */
    make_dir(dir, sizeof dir, "no-weights");
    fixture_write_config(dir, &base);
    expect_error(
        "no weights file", dir,
        (const char *[]){dir, "no model.safetensors or model.safetensors.index.json", NULL});
}

/* Tensors the config does not use are an error naming the first one, except
 * RoPE buffers and lm_head.weight under tied embeddings. */
static void test_unused_tensors(void) {
    char dir[512], file[600];
    fixture fx;

    make_dir(dir, sizeof dir, "fewer-layers");
    fixture_write_model(dir, &fx, &base);
    fixture_free(&fx);
    edit_config(dir, "\"num_hidden_layers\": 2", "\"num_hidden_layers\": 1");
    snprintf(file, sizeof file, "%s/model.safetensors", dir);
    expect_error("num_hidden_layers below the stored layers", dir,
                 (const char *[]){file, "tensor 'model.layers.1.", "is not used by",
                                  "num_hidden_layers=1", NULL});

    make_dir(dir, sizeof dir, "extra-tensor");
    fixture_build(&fx, &base);
    fixture_add(&fx, ST_F32, 4, 0, "extra.unused.weight", 0);
    fixture_write_config(dir, &base);
    fixture_write_weights(dir, &fx, &base);
    fixture_free(&fx);
    expect_error("extra tensor", dir,
                 (const char *[]){"tensor 'extra.unused.weight' is not used by", NULL});

    /* Accepted: an inv_freq buffer, and lm_head.weight beside tied embeddings. */
    make_dir(dir, sizeof dir, "ignorable");
    fixture_spec tied = base;
    tied.tied = 1;
    fixture_build(&fx, &tied);
    fixture_add(&fx, ST_F32, 2, 0, "model.layers.%d.self_attn.rotary_emb.inv_freq", 0);
    fixture_add(&fx, ST_F32, tied.V, tied.d, "lm_head.weight", 0);
    fixture_write_config(dir, &tied);
    fixture_write_weights(dir, &fx, &tied);
    fixture_free(&fx);
    llama_model m;
    lrc_error err = {{0}};
    int rc = llama_model_load(&m, dir, &err);
    if (!ok(rc == 0, "inv_freq and a tied lm_head.weight are accepted"))
        diag("message: %s", err.msg);
    if (rc == 0)
        llama_model_free(&m);
}

static void test_config_errors(void) {
    char dir[512], cfg[600];
    fixture fx;
    fixture_spec s;

    make_dir(dir, sizeof dir, "cfg-json");
    fixture_write_config(dir, &base);
    edit_config(dir, "\"hidden_size\": 16,", "\"hidden_size\": 16");
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    expect_error("malformed config.json", dir,
                 (const char *[]){cfg, "malformed JSON near byte offset", "line 5", NULL});

    make_dir(dir, sizeof dir, "cfg-arch");
    fixture_write_config(dir, &base);
    edit_config(dir, "\"LlamaForCausalLM\"", "\"GPT2LMHeadModel\"");
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    char want[800];
    snprintf(want, sizeof want,
             "unsupported architecture 'GPT2LMHeadModel' in %s: key architectures; supported: "
             "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM",
             cfg);
    expect_error("unsupported architecture", dir, (const char *[]){want, NULL});

    make_dir(dir, sizeof dir, "cfg-heads");
    s = base;
    s.d = 18;
    fixture_write_config(dir, &s);
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    expect_error("heads do not divide hidden size", dir,
                 (const char *[]){cfg, "heads that do not divide the hidden size", "hidden_size=18",
                                  "num_attention_heads=4", NULL});

    make_dir(dir, sizeof dir, "cfg-gqa");
    s = base;
    s.Hkv = 3;
    fixture_write_config(dir, &s);
    expect_error("H not a multiple of Hkv", dir,
                 (const char *[]){"num_attention_heads=4", "num_key_value_heads=3", NULL});

    make_dir(dir, sizeof dir, "cfg-odd-head");
    s = base;
    s.h = 5;
    s.head_dim_in_config = 1;
    fixture_write_config(dir, &s);
    expect_error("odd head size", dir, (const char *[]){"head size 5", "head_dim", NULL});

    make_dir(dir, sizeof dir, "cfg-absurd");
    s = base;
    s.d = 2000000000;
    s.L = 2000000000;
    s.H = 1000000000;
    s.Hkv = 1000000000;
    s.h = 2;
    s.I = 2000000000;
    s.V = 2000000000;
    fixture_write_config(dir, &s);
    expect_error("sizes past what size_t addresses", dir,
                 (const char *[]){"parameters, more than lrc can address", NULL});

    make_dir(dir, sizeof dir, "cfg-missing-key");
    fixture_write_config(dir, &base);
    edit_config(dir, "\"vocab_size\"", "\"vocab_sizes\"");
    expect_error("missing key", dir, (const char *[]){"key vocab_size is missing", NULL});

    make_dir(dir, sizeof dir, "cfg-yarn");
    fixture_write_config(dir, &base);
    edit_config(dir, "\"hidden_act\"",
                "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}, \"hidden_act\"");
    expect_error("unsupported rope_scaling", dir,
                 (const char *[]){"rope_scaling", "'yarn'", "linear, llama3", NULL});

    make_dir(dir, sizeof dir, "cfg-llama3-incomplete");
    fixture_write_config(dir, &base);
    edit_config(dir, "\"hidden_act\"",
                "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}, \"hidden_act\"");
    expect_error("llama3 rope_scaling without its keys", dir,
                 (const char *[]){"key rope_scaling.low_freq_factor is missing", NULL});

    make_dir(dir, sizeof dir, "cfg-act");
    fixture_write_config(dir, &base);
    edit_config(dir, "\"silu\"", "\"gelu\"");
    expect_error("hidden_act gelu", dir, (const char *[]){"hidden_act", "'gelu'", NULL});

    make_dir(dir, sizeof dir, "cfg-type");
    fixture_write_config(dir, &base);
    edit_config(dir, "\"num_hidden_layers\": 2", "\"num_hidden_layers\": \"two\"");
    expect_error("non-integer size", dir,
                 (const char *[]){"key num_hidden_layers is not an integer", NULL});

    /* config.json is read as strict JSON: nothing after the closing brace,
     * no key twice in an object. */
    make_dir(dir, sizeof dir, "cfg-trailing");
    fixture_write_config(dir, &base);
    edit_config(dir, "\"torch_dtype\": \"float32\"\n}", "\"torch_dtype\": \"float32\"\n} xyz");
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    expect_error("text after the closing brace", dir,
                 (const char *[]){cfg, "text after the closing brace", "line 19", NULL});

    make_dir(dir, sizeof dir, "cfg-dup");
    fixture_write_config(dir, &base);
    edit_config(dir, "\"torch_dtype\"", "\"hidden_size\": 64, \"torch_dtype\"");
    expect_error("repeated key", dir,
                 (const char *[]){"config.json: key hidden_size appears twice", NULL});

    /* Special ids must lie in 0..vocab_size-1 (19 here). */
    const char *const special[][3] = {
        {"\"bos_token_id\": 1", "\"bos_token_id\": 999", "key bos_token_id has id 999"},
        {"\"eos_token_id\": [2, 7]", "\"eos_token_id\": -5", "key eos_token_id has id -5"},
        {"\"eos_token_id\": [2, 7]", "\"eos_token_id\": [0, 5, 19]", "key eos_token_id has id 19"},
    };
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) {
        make_dir(dir, sizeof dir, "cfg-special");
        fixture_write_config(dir, &base);
        edit_config(dir, special[i][0], special[i][1]);
        snprintf(cfg, sizeof cfg, "%s/config.json", dir);
        expect_error(special[i][1], dir,
                     (const char *[]){cfg, special[i][2], "outside the vocabulary 0..18", NULL});
    }

    make_dir(dir, sizeof dir, "cfg-none");
    expect_error("folder without config.json", dir, (const char *[]){dir, "no config.json", NULL});

    /* Good configs with optional keys: linear and llama3 scaling parse. */
    make_dir(dir, sizeof dir, "cfg-llama3");
    fixture_write_model(dir, &fx, &base);
    fixture_free(&fx);
    edit_config(dir, "\"hidden_act\"",
                "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0, "
                "\"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, "
                "\"original_max_position_embeddings\": 8192}, \"hidden_act\"");
    llama_config c;
    lrc_error err = {{0}};
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    int rc = llama_config_load(&c, cfg, &err);
    ok(rc == 0 && strcmp(c.rope_scaling_type, "llama3") == 0 && c.rope_factor == 8.0f &&
           c.rope_low_freq_factor == 1.0f && c.rope_high_freq_factor == 4.0f &&
           c.rope_original_max_seq == 8192 && llama_config_validate(&c, cfg, &err) == 0,
       "config: llama3 rope_scaling read");
    edit_config(dir, "\"rope_type\": \"llama3\", \"factor\": 8.0",
                "\"type\": \"linear\", \"factor\": 2.0");
    rc = llama_config_load(&c, cfg, &err);
    ok(rc == 0 && strcmp(c.rope_scaling_type, "linear") == 0 && c.rope_factor == 2.0f,
       "config: linear rope_scaling read from the old 'type' key");
    edit_config(dir, "\"num_key_value_heads\": 2,", "");
    edit_config(dir, "\"rope_theta\": 500000.0,", "");
    rc = llama_config_load(&c, cfg, &err);
    ok(rc == 0 && c.Hkv == 4 && c.rope_theta == 10000.0f && c.h == 4 && !c.head_dim_explicit,
       "config: defaults for num_key_value_heads, rope_theta and head_dim");
}

static void test_llama2c_errors(void) {
    char path[600];
    const int32_t hdr[7] = {16, 24, 2, 4, 4, 11, 8};
    /* Legacy size: header + embed + 2 layers + final norm + RoPE tables. */
    size_t floats = 11 * 16 + 2 * (16 + 3 * 256 + 256 + 16 + 3 * 24 * 16) + 16 + 8 * 4;

    snprintf(path, sizeof path, "%s/short.bin", tmp_root);
    FILE *fp = fopen(path, "wb");
    fwrite(hdr, sizeof hdr, 1, fp);
    for (size_t i = 0; i < floats - 10; i++)
        fwrite(&(float){0.5f}, 4, 1, fp);
    fclose(fp);
    char off[64];
    snprintf(off, sizeof off, "truncated at byte offset %zu", 28 + 4 * (floats - 10));
    expect_error("llama2.c file too short", path,
                 (const char *[]){path, off, "dim=16", "llama2.c legacy", NULL});

    snprintf(path, sizeof path, "%s/long.bin", tmp_root);
    fp = fopen(path, "wb");
    fwrite(hdr, sizeof hdr, 1, fp);
    for (size_t i = 0; i < floats + 3; i++)
        fwrite(&(float){0.5f}, 4, 1, fp);
    fclose(fp);
    snprintf(off, sizeof off, "extra bytes start at byte offset %zu", 28 + 4 * floats);
    expect_error("llama2.c file too long", path, (const char *[]){path, off, NULL});

    snprintf(path, sizeof path, "%s/v2.bin", tmp_root);
    fp = fopen(path, "wb");
    uint32_t v2[2] = {0x616b3432, 2};
    fwrite(v2, sizeof v2, 1, fp);
    fwrite(hdr, sizeof hdr, 1, fp);
    fclose(fp);
    expect_error("llama2.c version 2", path, (const char *[]){path, "version 2", "offset 4", NULL});

    snprintf(path, sizeof path, "%s/tiny.bin", tmp_root);
    fp = fopen(path, "wb");
    fputs("hello", fp);
    fclose(fp);
    expect_error("5-byte file", path, (const char *[]){path, "too short", NULL});

    snprintf(path, sizeof path, "%s/zero-heads.bin", tmp_root);
    fp = fopen(path, "wb");
    int32_t bad[7] = {16, 24, 2, 0, 0, 11, 8};
    fwrite(bad, sizeof bad, 1, fp);
    fclose(fp);
    expect_error("llama2.c header with zero heads", path,
                 (const char *[]){path, "header field n_heads at byte offset 12 is 0", NULL});

    /* A huge n_layers must meet the size check before any allocation sized
     * from the header (the ASan build fails on a 2^31-entry allocation). */
    snprintf(path, sizeof path, "%s/huge-layers.bin", tmp_root);
    fp = fopen(path, "wb");
    int32_t huge[7] = {16, 24, 2147483647, 4, 4, 11, 8};
    fwrite(huge, sizeof huge, 1, fp);
    for (size_t i = 0; i < floats; i++)
        fwrite(&(float){0.5f}, 4, 1, fp);
    fclose(fp);
    char has[64];
    snprintf(has, sizeof has, "but the file has %zu", 28 + 4 * floats);
    expect_error("llama2.c header with n_layers 2^31-1", path,
                 (const char *[]){path, "n_layers=2147483647", has, NULL});

    /* Header errors use llama2.c field names and offsets, not config.json keys. */
    snprintf(path, sizeof path, "%s/heads5.bin", tmp_root);
    fp = fopen(path, "wb");
    int32_t heads5[7] = {16, 24, 2, 5, 5, 11, 8};
    fwrite(heads5, sizeof heads5, 1, fp);
    fclose(fp);
    expect_error("llama2.c dim not a multiple of n_heads", path,
                 (const char *[]){path, "header field dim at byte offset 0 is 16",
                                  "n_heads at byte offset 12 (5)", "not a llama2.c checkpoint",
                                  NULL});

    snprintf(path, sizeof path, "%s/passwd.txt", tmp_root);
    fp = fopen(path, "wb");
    fputs("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n", fp);
    fclose(fp);
    expect_error("text file taken for a llama2.c header", path,
                 (const char *[]){path, "not a llama2.c checkpoint", "byte offset", NULL});
    llama_model m;
    lrc_error err = {{0}};
    if (llama_model_load(&m, path, &err) == 0)
        llama_model_free(&m);
    ok(!strstr(err.msg, "key") && !strstr(err.msg, "hidden_size"),
       "text file: no config.json key names in the message");

    snprintf(path, sizeof path, "%s/does-not-exist", tmp_root);
    expect_error("missing path", path, (const char *[]){path, "cannot open", NULL});
}

static void test_memory(void) {
    char dir[512];

    /* About 1 TB of F32 weights from the config alone; no weights file. */
    make_dir(dir, sizeof dir, "huge");
    fixture_spec s = base;
    s.d = 16384;
    s.H = 128;
    s.Hkv = 128;
    s.h = 128;
    s.I = 65536;
    s.L = 80;
    s.V = 128000;
    fixture_write_config(dir, &s);
    unsetenv(SYSMEM_ENV);
    expect_error("1 TB model against MemAvailable", dir,
                 (const char *[]){dir, "model needs", "GiB in fp32 ", "but only",
                                  "GiB is available (MemAvailable in /proc/meminfo)", NULL});

    llama_config c;
    lrc_error err = {{0}};
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    llama_config_load(&c, cfg, &err);
    /* Independent count: embed + lm_head + L x (norms, q, k, v, o, 3 MLP) + final norm. */
    double want = 2.0 * 128000 * 16384 +
                  80.0 * (2 * 16384 + 4.0 * 16384 * 16384 + 3.0 * 65536 * 16384) + 16384;
    ok((double)llama_config_param_count(&c) == want, "param count of the 1 TB config (%zu)",
       llama_config_param_count(&c));
    ok(llama_model_memory_needed(&c) > 4.0 * want, "memory estimate covers the weights");

    /* A small real model under an even smaller limit. */
    make_dir(dir, sizeof dir, "limited");
    fixture fx;
    fixture_write_model(dir, &fx, &base);
    fixture_free(&fx);
    setenv(SYSMEM_ENV, "1M", 1);
    expect_error("LRC_MEMORY_LIMIT=1M", dir,
                 (const char *[]){dir, "model needs", "but only 1.0 MiB is available",
                                  "(LRC_MEMORY_LIMIT)", NULL});
    setenv(SYSMEM_ENV, "lots", 1);
    expect_error("LRC_MEMORY_LIMIT not a number", dir,
                 (const char *[]){"LRC_MEMORY_LIMIT='lots'", "8G", NULL});
    setenv(SYSMEM_ENV, "512M", 1);
    llama_model m;
    int rc = llama_model_load(&m, dir, &err);
    ok(rc == 0, "LRC_MEMORY_LIMIT=512M: the small model loads");
    if (rc == 0)
        llama_model_free(&m);

    size_t bytes = 0;
    ok(sysmem_parse_size("8G", &bytes) == 0 && bytes == 8ull << 30, "size parse: 8G");
    ok(sysmem_parse_size("1536", &bytes) == 0 && bytes == 1536, "size parse: plain bytes");
    ok(sysmem_parse_size("64MiB", &bytes) == 0 && bytes == 64ull << 20, "size parse: 64MiB");
    ok(sysmem_parse_size("-1", &bytes) < 0 && sysmem_parse_size("9X", &bytes) < 0,
       "size parse: rejects -1 and 9X");
    unsetenv(SYSMEM_ENV);
    const char *source = NULL;
    ok(sysmem_available(&bytes, &source, &err) == 0 && bytes > 0 && strstr(source, "MemAvailable"),
       "MemAvailable read from /proc/meminfo");
}

int main(void) {
    snprintf(tmp_root, sizeof tmp_root, "/tmp/lrc-test-model-errors-XXXXXX");
    if (!mkdtemp(tmp_root))
        skip_all("cannot create a temporary folder");
    setenv(SYSMEM_ENV, "1G", 1);

    test_tensor_errors();
    test_config_errors();
    test_unused_tensors();
    test_llama2c_errors();
    test_memory();

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0)
        diag("could not remove %s", tmp_root);
    return done_testing();
}
