/*
 * The forward pass against golden logits from tests/reference/gen_llama.py,
 * an independent float64 PyTorch implementation of the Hugging Face Llama
 * and Qwen2 forward: every fixture model (Llama, Qwen2 with biases and tied
 * embeddings, explicit head_dim with Llama 3.1 RoPE scaling, a llama2.c
 * checkpoint with interleaved RoPE) in every stored dtype. Then the KV
 * cache: one token at a time, two chunks, and small internal batches must
 * reproduce the full-sequence logits.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/forward.h"
#include "model/llama.h"
#include "tap.h"

#define GOLDEN_TOL 1e-4 /* logits vs the float64 reference */
#define CACHE_TOL 1e-5  /* cached decoding vs the full forward */
#define MAX_CTX 64

static const char *const fixtures[] = {
    "llama-f32",    "llama-f16",    "llama-bf16",    "qwen2-f32",    "qwen2-f16",
    "qwen2-bf16",   "headdim-f32",  "headdim-f16",   "headdim-bf16", "llama2c",
    "attnbias-f32", "attnbias-f16", "attnbias-bf16",
};

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

static double max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= m))
            m = isnan(e) ? INFINITY : e;
    }
    return m;
}

/* Full-sequence forward of tokens (T) into logits (T, V) with a fresh state. */
static int forward_all(const llama_model *m, const int32_t *tokens, int T, float *logits,
                       int batch) {
    lrc_error err;
    llama_state s;
    if (llama_state_init(&s, &m->cfg, MAX_CTX, batch, &err) < 0) {
        diag("%s", err.msg);
        return -1;
    }
    int rc = llama_forward(m, &s, tokens, T, 0, logits, true, &err);
    if (rc < 0)
        diag("%s", err.msg);
    llama_state_free(&s);
    return rc;
}

/* The cache paths of one sequence against its full-sequence logits (T, V). */
static void check_cache(const char *name, const llama_model *m, const int32_t *tokens, int T,
                        const float *full, double *worst) {
    size_t V = (size_t)m->cfg.V;
    lrc_error err;
    llama_state s;
    if (llama_state_init(&s, &m->cfg, MAX_CTX, LLAMA_DEFAULT_BATCH, &err) < 0) {
        ok(0, "%s: state init: %s", name, err.msg);
        return;
    }
    float *row = malloc(V * sizeof(float));
    float *two = malloc((size_t)T * V * sizeof(float));

    /* One token at a time, last-row logits. */
    double e1 = 0.0;
    for (int t = 0; t < T; t++) {
        llama_forward(m, &s, tokens + t, 1, t, row, false, &err);
        e1 = fmax(e1, max_abs_diff(row, full + (size_t)t * V, V));
    }
    ok(e1 <= CACHE_TOL, "%s T=%d incremental decoding matches full (max err %.2g)", name, T, e1);

    /* Two chunks, the second at position split, reusing the same state. */
    int split = T / 3;
    llama_forward(m, &s, tokens, split, 0, two, true, &err);
    llama_forward(m, &s, tokens + split, T - split, split, two + (size_t)split * V, true, &err);
    double e2 = max_abs_diff(two, full, (size_t)T * V);
    ok(e2 <= CACHE_TOL, "%s T=%d two chunks match full (max err %.2g)", name, T, e2);

    /* Last-row logits of a whole prompt. */
    llama_forward(m, &s, tokens, T, 0, row, false, &err);
    double e3 = max_abs_diff(row, full + (size_t)(T - 1) * V, V);
    ok(e3 <= CACHE_TOL, "%s T=%d last-row logits match full (max err %.2g)", name, T, e3);
    llama_state_free(&s);

    /* Internal batches of 5 tokens. */
    double e4 = INFINITY;
    if (forward_all(m, tokens, T, two, 5) == 0)
        e4 = max_abs_diff(two, full, (size_t)T * V);
    ok(e4 <= CACHE_TOL, "%s T=%d batches of 5 match full (max err %.2g)", name, T, e4);

    *worst = fmax(*worst, fmax(fmax(e1, e2), fmax(e3, e4)));
    free(row);
    free(two);
}

static void check_fixture(const char *dir, const char *name, double *worst_golden,
                          double *worst_cache) {
    char path[2048], model_path[2048];
    snprintf(path, sizeof path, "%s/%s/expected.json", dir, name);
    if (strcmp(name, "llama2c") == 0)
        snprintf(model_path, sizeof model_path, "%s/%s/model.bin", dir, name);
    else
        snprintf(model_path, sizeof model_path, "%s/%s", dir, name);

    size_t len = 0, logits_len = 0;
    char *text = read_file(path, &len);
    cJSON *json = text ? cJSON_Parse(text) : NULL;
    free(text);
    snprintf(path, sizeof path, "%s/%s/logits.bin", dir, name);
    float *expected = (float *)read_file(path, &logits_len);
    if (!json || !expected) {
        ok(0, "%s: read expected.json and logits.bin", name);
        cJSON_Delete(json);
        free(expected);
        return;
    }

    lrc_error err;
    llama_model m;
    memset(&m, 0, sizeof m);
    if (llama_model_load(&m, model_path, &err) < 0) {
        ok(0, "%s: load: %s", name, err.msg);
        cJSON_Delete(json);
        free(expected);
        return;
    }
    size_t V = (size_t)m.cfg.V;
    ok(cJSON_GetObjectItem(json, "vocab_size")->valueint == (int)V, "%s: vocabulary %zu", name, V);

    size_t offset = 0;
    const cJSON *seq;
    cJSON_ArrayForEach(seq, cJSON_GetObjectItem(json, "sequences")) {
        int T = cJSON_GetArraySize(seq);
        int32_t tokens[MAX_CTX];
        for (int t = 0; t < T; t++)
            tokens[t] = cJSON_GetArrayItem(seq, t)->valueint;
        if ((offset + (size_t)T * V) * sizeof(float) > logits_len) {
            ok(0, "%s: logits.bin holds too few rows", name);
            break;
        }

        float *logits = malloc((size_t)T * V * sizeof(float));
        double e = INFINITY;
        if (forward_all(&m, tokens, T, logits, LLAMA_DEFAULT_BATCH) == 0)
            e = max_abs_diff(logits, expected + offset, (size_t)T * V);
        ok(e <= GOLDEN_TOL, "%s T=%d logits match PyTorch (max err %.2g)", name, T, e);
        *worst_golden = fmax(*worst_golden, e);

        check_cache(name, &m, tokens, T, logits, worst_cache);
        free(logits);
        offset += (size_t)T * V;
    }
    ok(offset * sizeof(float) == logits_len, "%s: every row of logits.bin compared", name);

    llama_model_free(&m);
    cJSON_Delete(json);
    free(expected);
}

/* Bad calls fail with a message and leave the state usable. */
static void check_errors(const char *dir) {
    char path[2048];
    snprintf(path, sizeof path, "%s/llama-f32", dir);
    lrc_error err;
    llama_model m;
    memset(&m, 0, sizeof m);
    if (llama_model_load(&m, path, &err) < 0) {
        ok(0, "load llama-f32: %s", err.msg);
        return;
    }
    llama_state s;
    ok(llama_state_init(&s, &m.cfg, 8, 4, &err) == 0, "state with context 8");
    float *logits = malloc((size_t)m.cfg.V * sizeof(float));
    int32_t tokens[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    ok(llama_forward(&m, &s, tokens, 9, 0, logits, false, &err) < 0 && strstr(err.msg, "context"),
       "forward past the context is rejected");
    ok(llama_forward(&m, &s, tokens, 2, 7, logits, false, &err) < 0,
       "forward ending past the context is rejected");
    tokens[1] = m.cfg.V;
    ok(llama_forward(&m, &s, tokens, 3, 0, logits, false, &err) < 0 && strstr(err.msg, "token"),
       "token outside the vocabulary is rejected");
    tokens[1] = -1;
    ok(llama_forward(&m, &s, tokens, 3, 0, logits, false, &err) < 0, "negative token is rejected");
    ok(llama_forward(&m, &s, tokens, 0, 0, logits, false, &err) < 0, "zero tokens are rejected");
    llama_state_free(&s);

    llama_config bad = m.cfg;
    snprintf(bad.rope_scaling_type, sizeof bad.rope_scaling_type, "yarn");
    bad.rope_factor = 4.0f;
    ok(llama_state_init(&s, &bad, 8, 4, &err) < 0 && strstr(err.msg, "yarn"),
       "unsupported rope scaling is rejected by name");
    llama_state_free(&s);

    free(logits);
    llama_model_free(&m);
}

int main(void) {
    const char *testdata = getenv("LRC_TESTDATA");
    if (!testdata)
        testdata = "tests";
    char dir[1024];
    if ((size_t)snprintf(dir, sizeof dir, "%s/reference/data", testdata) >= sizeof dir)
        skip_all("LRC_TESTDATA is too long a path");

    double worst_golden = 0.0, worst_cache = 0.0;
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++)
        check_fixture(dir, fixtures[i], &worst_golden, &worst_cache);
    diag("max abs error: %.3g vs PyTorch, %.3g cached vs full", worst_golden, worst_cache);

    check_errors(dir);
    return done_testing();
}
