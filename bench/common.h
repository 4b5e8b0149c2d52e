/*
 * Helpers the benchmarks share: a monotonic clock, a seeded uniform
 * generator, the sgemm peak of this machine, and a random model with
 * SmolLM2-135M's shape written as a real Hugging Face folder (config.json
 * and a BF16 model.safetensors), so each bench loads it with
 * llama_model_load as the lrc commands do. On any failure these helpers
 * print one line prefixed with the program name and exit with status 1.
 */
#ifndef LRC_BENCH_COMMON_H
#define LRC_BENCH_COMMON_H

#include <stddef.h>

/* Seconds on the monotonic clock. */
double bench_now_seconds(void);

/* Fill x with uniform values in [-scale, scale) from a fixed-seed
 * xorshift64* generator, so every run writes the same model.
 *   x (n) */
void bench_fill_random(float *x, size_t n, float scale);

/* Best FLOP/s of cblas_sgemm over five n×n×n products after one warm-up. */
double bench_sgemm_peak(const char *prog, int n);

/* Make a temporary folder under $TMPDIR (or /tmp) into dir. */
void bench_make_temp_dir(const char *prog, char *dir, size_t size);

/* Write config.json and a random BF16 model.safetensors with SmolLM2-135M's
 * shape (hidden 576, 30 layers, 9 heads, 3 KV heads, MLP 1536, vocab 49152,
 * tied embeddings) into the existing folder dir. */
void bench_write_smollm2_model(const char *prog, const char *dir);

/* Remove the two files bench_write_smollm2_model wrote, then dir itself. */
void bench_remove_model(const char *dir);

#endif
