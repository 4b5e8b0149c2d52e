/*
 * Next-token sampling from logits: greedy (temperature 0), temperature, and
 * top-p (nucleus). Randomness comes from our own xorshift64* generator, so a
 * seed gives the same tokens on every platform and libc.
 */
#ifndef LRC_MODEL_SAMPLER_H
#define LRC_MODEL_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct sampler_candidate {
    float prob;
    int id;
} sampler_candidate;

typedef struct sampler {
    int V;
    float temperature;             /* 0 means greedy */
    float top_p;                   /* in (0, 1]; 1 keeps every token */
    uint64_t rng;                  /* xorshift64* state, never 0 */
    sampler_candidate *candidates; /* (V) scratch for top-p */
} sampler;

/* Set up a sampler over V tokens. Fails on a negative temperature or a
 * top_p outside (0, 1]. */
int sampler_init(sampler *s, int V, float temperature, float top_p, uint64_t seed, lrc_error *err);
void sampler_free(sampler *s);

/* Draw the next token. logits is overwritten with probabilities unless the
 * sampler is greedy. A temperature so small that the largest logit divided
 * by it overflows acts as greedy. The id is always in 0..V-1, even for NaN
 * logits; callers should reject those first (sampler_logits_finite).
 *   logits (V) */
int sampler_sample(sampler *s, float *logits);

/* True when every value is finite (no NaN, no infinity).
 *   x (n) */
int sampler_logits_finite(const float *x, size_t n);

/* Index of the largest value, the first one on ties.
 *   x (n) */
int sampler_argmax(const float *x, size_t n);

/* Next uniform float in [0, 1) from the sampler's generator. */
float sampler_uniform(sampler *s);

#endif
