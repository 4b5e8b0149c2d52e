/*
 * Sampling. Temperature divides the logits before the softmax. Top-p keeps
 * the smallest set of most probable tokens whose mass reaches p and draws
 * from it renormalised. Only tokens with probability >= (1 - p) / V can be
 * in that set (if token j is, the tokens ranked from j down hold mass > 1 - p
 * and each is <= p_j), so the rest are dropped before sorting. A temperature
 * so small that the largest logit / T overflows acts as greedy, and NaN
 * logits never make the sampler index outside its buffers.
 */
#include "model/sampler.h"

#include <math.h>
#include <stdlib.h>

#include "core/ops.h"
#include "core/rng.h"

int sampler_init(sampler *s, int V, float temperature, float top_p, uint64_t seed, lrc_error *err) {
    s->candidates = NULL;
    if (V <= 0)
        return lrc_errorf(err, "sampler: vocabulary size %d must be positive", V);
    if (!(temperature >= 0.0f) || isinf(temperature))
        return lrc_errorf(err, "temperature %g: expected a finite number >= 0",
                          (double)temperature);
    if (!(top_p > 0.0f && top_p <= 1.0f))
        return lrc_errorf(err, "top-p %g: expected a number in (0, 1]", (double)top_p);

    s->candidates = malloc((size_t)V * sizeof *s->candidates);
    if (!s->candidates)
        return lrc_errorf(err, "sampler: out of memory for %d candidates", V);
    s->V = V;
    s->temperature = temperature;
    s->top_p = top_p;
    /* Scramble the seed (splitmix64 finaliser) so nearby seeds start far apart;
     * xorshift needs a nonzero state. */
    uint64_t z = rng_hash64(seed);
    s->rng = z ? z : 0x2545F4914F6CDD1Dull;
    return 0;
}

void sampler_free(sampler *s) {
    free(s->candidates);
    s->candidates = NULL;
}

float sampler_uniform(sampler *s) {
    /* xorshift64* (Vigna, "An experimental exploration of Marsaglia's
     * xorshift generators, scrambled", 2016); the top 24 bits make the float. */
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    uint64_t r = s->rng * 0x2545F4914F6CDD1Dull;
    return (float)(r >> 40) / 16777216.0f;
}

int sampler_argmax(const float *x, size_t n) {
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return (int)best;
}

int sampler_logits_finite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

/* Descending probability, then ascending id, so the order is total. */
static int compare_candidates(const void *a, const void *b) {
    const sampler_candidate *x = a, *y = b;
    if (x->prob != y->prob)
        return x->prob > y->prob ? -1 : 1;
    return x->id - y->id;
}

/* Inverse-CDF draw from probabilities summing to 1. */
static int sample_full(const float *probs, int V, float u) {
    float cdf = 0.0f;
    for (int i = 0; i < V; i++) {
        cdf += probs[i];
        if (u < cdf)
            return i;
    }
    /* Rounding left the total just below u: return the last token with mass. */
    for (int i = V - 1; i > 0; i--)
        if (probs[i] > 0.0f)
            return i;
    return 0;
}

static int sample_top_p(sampler *s, const float *probs, float u) {
    float cutoff = (1.0f - s->top_p) / (float)s->V;
    int n = 0;
    for (int i = 0; i < s->V; i++)
        if (probs[i] >= cutoff) /* false for NaN */
            s->candidates[n++] = (sampler_candidate){probs[i], i};
    qsort(s->candidates, (size_t)n, sizeof *s->candidates, compare_candidates);

    /* The smallest prefix whose mass reaches top_p. */
    float mass = 0.0f;
    int keep = n;
    for (int i = 0; i < n; i++) {
        mass += s->candidates[i].prob;
        if (mass >= s->top_p) {
            keep = i + 1;
            break;
        }
    }

    float target = u * mass, cdf = 0.0f;
    for (int i = 0; i < keep; i++) {
        cdf += s->candidates[i].prob;
        if (target < cdf)
            return s->candidates[i].id;
    }
    /* keep is 0 only when no probability reached the cutoff (NaN input). */
    return keep > 0 ? s->candidates[keep - 1].id : sampler_argmax(probs, (size_t)s->V);
}

int sampler_sample(sampler *s, float *logits) {
    int best = sampler_argmax(logits, (size_t)s->V);
    /* A temperature so small that the largest logit / T overflows leaves
     * only the maximum with mass: that is greedy. */
    if (s->temperature == 0.0f || !isfinite(logits[best] / s->temperature))
        return best;

    for (int i = 0; i < s->V; i++)
        logits[i] /= s->temperature;
    softmax_forward(logits, (size_t)s->V);

    float u = sampler_uniform(s);
    if (s->top_p >= 1.0f)
        return sample_full(logits, s->V, u);
    return sample_top_p(s, logits, u);
}
