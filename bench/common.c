/*
 * Helpers the benchmarks share; see common.h. The random model uses
 * uniform weights of scale 0.05 and unit norm weights, which keeps the
 * activations of 30 layers finite in F32.
 */
#include "config.h"

#include "common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>
/* OpenBLAS's cblas.h pulls in complex.h, whose I macro would clash with the
 * MLP width field I of llama_config. */
#undef I

#include "core/error.h"
#include "model/safetensors.h"

/* SmolLM2-135M: hidden 576, 30 layers, 9 heads, 3 KV heads, MLP 1536,
 * vocab 49152, tied embeddings, rope_theta 100000. */
static const char *CONFIG_JSON =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\",\n"
    " \"hidden_size\": 576, \"num_hidden_layers\": 30, \"num_attention_heads\": 9,\n"
    " \"num_key_value_heads\": 3, \"intermediate_size\": 1536, \"vocab_size\": 49152,\n"
    " \"max_position_embeddings\": 8192, \"rms_norm_eps\": 1e-05, \"rope_theta\": 100000,\n"
    " \"tie_word_embeddings\": true, \"bos_token_id\": 1, \"eos_token_id\": 2}\n";

double bench_now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

/* Uniform in [-1, 1) from xorshift64*. */
static float rng_uniform(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint64_t r = rng_state * 0x2545F4914F6CDD1Dull;
    return (float)((double)(r >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

void bench_fill_random(float *x, size_t n, float scale) {
    for (size_t i = 0; i < n; i++)
        x[i] = scale * rng_uniform();
}

double bench_sgemm_peak(const char *prog, int n) {
    size_t nn = (size_t)n * (size_t)n;
    float *a = malloc(nn * sizeof *a), *b = malloc(nn * sizeof *b), *c = malloc(nn * sizeof *c);
    if (!a || !b || !c) {
        fprintf(stderr, "%s: out of memory for the sgemm peak\n", prog);
        exit(1);
    }
    bench_fill_random(a, nn, 1.0f);
    bench_fill_random(b, nn, 1.0f);

    double best = 0.0;
    for (int rep = 0; rep < 6; rep++) {
        double t0 = bench_now_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double dt = bench_now_seconds() - t0;
        double flops = 2.0 * (double)n * (double)n * (double)n / dt;
        if (rep > 0 && flops > best) /* the first product warms up threads and pages */
            best = flops;
    }
    free(a);
    free(b);
    free(c);
    return best;
}

void bench_make_temp_dir(const char *prog, char *dir, size_t size) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, size, "%s/lrc-bench-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "%s: cannot make a temporary folder from %s\n", prog, dir);
        exit(1);
    }
}

void bench_write_smollm2_model(const char *prog, const char *dir) {
    const int d = 576, L = 30, H = 9, Hkv = 3, h = 64, I = 1536, V = 49152;
    char path[4200];

    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    if (!f || fputs(CONFIG_JSON, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "%s: cannot write %s\n", prog, path);
        exit(1);
    }

    size_t n_tensors = 2 + (size_t)L * 9;
    safetensors_write_tensor *t = calloc(n_tensors, sizeof *t);
    char(*names)[96] = calloc(n_tensors, sizeof *names);
    float **data = calloc(n_tensors, sizeof *data);
    if (!t || !names || !data) {
        fprintf(stderr, "%s: out of memory for the model\n", prog);
        exit(1);
    }
    size_t k = 0;

#define ADD_TENSOR(rows, cols, scale, ...)                                                         \
    do {                                                                                           \
        snprintf(names[k], sizeof names[k], __VA_ARGS__);                                          \
        size_t numel = (size_t)(rows) * (size_t)(cols);                                            \
        data[k] = malloc(numel * sizeof(float));                                                   \
        if (!data[k]) {                                                                            \
            fprintf(stderr, "%s: out of memory for tensor %s\n", prog, names[k]);                  \
            exit(1);                                                                               \
        }                                                                                          \
        if ((scale) == 0.0f)                                                                       \
            for (size_t i = 0; i < numel; i++)                                                     \
                data[k][i] = 1.0f;                                                                 \
        else                                                                                       \
            bench_fill_random(data[k], numel, (scale));                                            \
        t[k].name = names[k];                                                                      \
        t[k].dtype = ST_BF16;                                                                      \
        t[k].ndim = (cols) == 1 ? 1 : 2;                                                           \
        t[k].shape[0] = (rows);                                                                    \
        t[k].shape[1] = (cols);                                                                    \
        t[k].data = data[k];                                                                       \
        k++;                                                                                       \
    } while (0)

    ADD_TENSOR(V, d, 0.05f, "model.embed_tokens.weight");
    for (int l = 0; l < L; l++) {
        ADD_TENSOR(d, 1, 0.0f, "model.layers.%d.input_layernorm.weight", l);
        ADD_TENSOR(H * h, d, 0.05f, "model.layers.%d.self_attn.q_proj.weight", l);
        ADD_TENSOR(Hkv * h, d, 0.05f, "model.layers.%d.self_attn.k_proj.weight", l);
        ADD_TENSOR(Hkv * h, d, 0.05f, "model.layers.%d.self_attn.v_proj.weight", l);
        ADD_TENSOR(d, H * h, 0.05f, "model.layers.%d.self_attn.o_proj.weight", l);
        ADD_TENSOR(d, 1, 0.0f, "model.layers.%d.post_attention_layernorm.weight", l);
        ADD_TENSOR(I, d, 0.05f, "model.layers.%d.mlp.gate_proj.weight", l);
        ADD_TENSOR(I, d, 0.05f, "model.layers.%d.mlp.up_proj.weight", l);
        ADD_TENSOR(d, I, 0.05f, "model.layers.%d.mlp.down_proj.weight", l);
    }
    ADD_TENSOR(d, 1, 0.0f, "model.norm.weight");
#undef ADD_TENSOR

    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    lrc_error err;
    if (safetensors_write(path, t, k, NULL, &err) != 0) {
        fprintf(stderr, "%s: writing the model: %s\n", prog, err.msg);
        exit(1);
    }
    for (size_t i = 0; i < k; i++)
        free(data[i]);
    free(data);
    free(names);
    free(t);
}

void bench_remove_model(const char *dir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/config.json", dir);
    unlink(path);
    rmdir(dir);
}
