/*
 * Inference throughput on a SmolLM2-135M-shaped random model, as fractions
 * of what this machine can do, all measured in one run:
 *
 *   prompt processing: achieved FLOP/s of llama_forward over a T-token
 *     prompt, divided by the sgemm peak (best cblas_sgemm FLOP/s on large
 *     square matrices);
 *   generation: tokens/s of one-token steps, divided by the bandwidth bound
 *     (measured copy bandwidth over the weight bytes each token reads).
 *
 * The model is written as a real Hugging Face directory (config.json and a
 * BF16 model.safetensors) in a temporary folder and loaded with
 * llama_model_load, so the bench runs the same code as `lrc generate`.
 *
 * usage: bench_llama [--prompt T] [--gen N] [--threads N] [--dir DIR]
 */
#include "config.h"

#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/tensor.h"
#include "model/forward.h"
#include "model/llama.h"

static void die(const char *what, const lrc_error *err) {
    fprintf(stderr, "bench_llama: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

/* Best memcpy bandwidth in bytes/s, counting bytes read plus bytes written. */
static double measure_copy_bandwidth(size_t bytes) {
    char *src = malloc(bytes), *dst = malloc(bytes);
    if (!src || !dst) {
        fprintf(stderr, "bench_llama: out of memory for the bandwidth test\n");
        exit(1);
    }
    memset(src, 1, bytes);
    memset(dst, 2, bytes);

    double best = 0.0;
    for (int rep = 0; rep < 6; rep++) {
        double t0 = bench_now_seconds();
        memcpy(dst, src, bytes);
        double dt = bench_now_seconds() - t0;
        double bw = 2.0 * (double)bytes / dt;
        if (bw > best)
            best = bw;
    }
    if (dst[bytes / 2] != 1)
        fprintf(stderr, "bench_llama: copy check failed\n");
    free(src);
    free(dst);
    return best;
}

/* Multiply-add FLOPs of one forward pass over T new tokens after pos cached
 * ones: every projection, attention scores and the weighted sum of values,
 * and the LM head for the last token only. */
static double forward_flops(const llama_config *c, int T, int pos) {
    double d = c->d, qd = (double)c->H * c->h, kvd = (double)c->Hkv * c->h, I = c->I;
    double per_token = 2.0 * (d * qd + 2.0 * d * kvd + qd * d + 3.0 * d * I) * c->n_layers;
    double attended = 0.0; /* sum over new tokens of the positions each attends to */
    for (int t = 0; t < T; t++)
        attended += (double)(pos + t + 1);
    double attention = 4.0 * (double)c->H * c->h * attended * c->n_layers;
    return per_token * T + attention + 2.0 * d * c->V;
}

/* Bytes of weights one generated token reads: every projection plus the LM
 * head (the embedding row lookup is negligible). */
static double weight_bytes_per_token(const llama_config *c) {
    double d = c->d, qd = (double)c->H * c->h, kvd = (double)c->Hkv * c->h, I = c->I;
    double per_layer = d * qd + 2.0 * d * kvd + qd * d + 3.0 * d * I + 2.0 * d;
    return 4.0 * (per_layer * c->n_layers + d + d * c->V);
}

int main(int argc, char **argv) {
    int T = 512, n_gen = 64, threads = 0;
    const char *dir_arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--prompt") == 0 && i + 1 < argc)
            T = atoi(argv[++i]);
        else if (strcmp(argv[i], "--gen") == 0 && i + 1 < argc)
            n_gen = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir_arg = argv[++i];
        else {
            fprintf(stderr,
                    "usage: bench_llama [--prompt T] [--gen N] [--threads N] [--dir DIR]\n");
            return 2;
        }
    }
    if (T < 1 || n_gen < 1) {
        fprintf(stderr, "bench_llama: --prompt and --gen must be at least 1\n");
        return 2;
    }
    blas_set_threads(threads);

    char dir[4096];
    if (dir_arg) {
        snprintf(dir, sizeof dir, "%s", dir_arg);
    } else {
        bench_make_temp_dir("bench_llama", dir, sizeof dir);
    }
    fprintf(stderr, "writing a SmolLM2-135M-shaped random model to %s\n", dir);
    bench_write_smollm2_model("bench_llama", dir);

    llama_model m;
    lrc_error err;
    if (llama_model_load(&m, dir, &err) != 0)
        die("loading the model", &err);
    const llama_config *c = &m.cfg;

    llama_state s;
    if (llama_state_init(&s, c, T + n_gen, T, &err) != 0)
        die("allocating the run state", &err);
    float *logits = tensor_alloc((size_t)c->V, "logits", &err);
    int *tokens = malloc((size_t)T * sizeof *tokens);
    if (!logits || !tokens)
        die("allocating buffers", &err);
    for (int t = 0; t < T; t++)
        tokens[t] = (int)((unsigned)(t * 7919 + 13) % (unsigned)c->V);

    fprintf(stderr, "measuring the sgemm peak and the copy bandwidth\n");
    double peak = bench_sgemm_peak("bench_llama", 2048);
    double bandwidth = measure_copy_bandwidth((size_t)512 << 20);

    /* Prompt processing: best of three passes over the same T tokens. */
    double best_prompt = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = bench_now_seconds();
        if (llama_forward(&m, &s, tokens, T, 0, logits, false, &err) != 0)
            die("prompt forward", &err);
        double dt = bench_now_seconds() - t0;
        if (dt < best_prompt)
            best_prompt = dt;
    }
    double prompt_flops = forward_flops(c, T, 0) / best_prompt;

    /* Generation: n_gen single-token steps after the prompt, greedy. */
    int next = 0;
    double t0 = bench_now_seconds();
    for (int i = 0; i < n_gen; i++) {
        if (llama_forward(&m, &s, &next, 1, T + i, logits, false, &err) != 0)
            die("generation forward", &err);
        int best = 0;
        for (int v = 1; v < c->V; v++)
            if (logits[v] > logits[best])
                best = v;
        next = best;
    }
    double gen_time = bench_now_seconds() - t0;
    double gen_tps = n_gen / gen_time;
    double bound_tps = bandwidth / weight_bytes_per_token(c);

    printf("machine: %d BLAS threads, sgemm peak %.1f GFLOP/s (2048^3), copy bandwidth %.2f GB/s "
           "(read+write)\n",
           blas_get_threads(), peak * 1e-9, bandwidth * 1e-9);
    printf("model: %d layers, hidden %d, vocab %d, %.1f MB of F32 weights read per token\n",
           c->n_layers, c->d, c->V, weight_bytes_per_token(c) * 1e-6);
    printf("prompt processing: %d tokens in %.3f s = %.1f tokens/s, %.1f GFLOP/s = %.2f of sgemm "
           "peak\n",
           T, best_prompt, T / best_prompt, prompt_flops * 1e-9, prompt_flops / peak);
    printf("generation: %d tokens in %.3f s = %.2f tokens/s, bound %.2f tokens/s = %.2f of the "
           "bandwidth bound\n",
           n_gen, gen_time, gen_tps, bound_tps, gen_tps / bound_tps);

    free(tokens);
    tensor_free(logits);
    llama_state_free(&s);
    llama_model_free(&m);
    if (!dir_arg)
        bench_remove_model(dir);
    return 0;
}
