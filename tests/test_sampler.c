/*
 * Tests of src/model/sampler: greedy picks the argmax, top-p keeps the
 * smallest most-probable set reaching p, a seed fixes the sequence, and
 * empirical frequencies match the softmax probabilities within five
 * standard errors of a binomial proportion, sqrt(p(1-p)/N).
 */
#include <math.h>
#include <string.h>

#include "model/sampler.h"
#include "tap.h"

enum { N_DRAWS = 200000 };

static void test_greedy(void) {
    lrc_error err;
    sampler s;
    ok(sampler_init(&s, 6, 0.0f, 1.0f, 1, &err) == 0, "sampler init greedy");
    float logits[6] = {0.5f, -1.0f, 3.25f, 3.0f, 3.25f, -7.0f};
    ok(sampler_sample(&s, logits) == 2, "greedy returns the first maximum");
    float neg[6] = {-5, -4, -9, -1, -2, -3};
    ok(sampler_sample(&s, neg) == 3, "greedy with all-negative logits");
    sampler_free(&s);
    ok(sampler_argmax(neg, 6) == 3, "argmax of a vector");
}

/* Count draws of ids 0..n-1 from logits at a temperature and top-p. */
static void draw_counts(long *counts, const float *logits, int n, float temperature, float top_p,
                        uint64_t seed, int draws) {
    lrc_error err;
    sampler s;
    sampler_init(&s, n, temperature, top_p, seed, &err);
    memset(counts, 0, sizeof(long) * (size_t)n);
    float buf[16];
    for (int i = 0; i < draws; i++) {
        memcpy(buf, logits, sizeof(float) * (size_t)n);
        counts[sampler_sample(&s, buf)]++;
    }
    sampler_free(&s);
}

static void test_frequencies(void) {
    const float logits[5] = {1.0f, 0.0f, 2.0f, -1.0f, 0.5f};
    long counts[5];
    const float temps[2] = {1.0f, 2.0f};
    for (int k = 0; k < 2; k++) {
        draw_counts(counts, logits, 5, temps[k], 1.0f, 42 + k, N_DRAWS);
        double z = 0, p[5];
        for (int i = 0; i < 5; i++)
            z += p[i] = exp(logits[i] / temps[k]);
        for (int i = 0; i < 5; i++) {
            p[i] /= z;
            double tol = 5 * sqrt(p[i] * (1 - p[i]) / N_DRAWS);
            ok_near((double)counts[i] / N_DRAWS, p[i], tol,
                    "temperature %g frequency of token %d matches softmax", temps[k], i);
        }
    }
}

static void test_top_p(void) {
    /* Probabilities 0.5, 0.2, 0.15, 0.1, 0.05 (shuffled ids). */
    const double probs[5] = {0.1, 0.5, 0.05, 0.2, 0.15};
    float logits[5];
    for (int i = 0; i < 5; i++)
        logits[i] = (float)log(probs[i]);
    long counts[5];

    /* p = 0.8: 0.5 + 0.2 = 0.7 < 0.8, + 0.15 = 0.85 >= 0.8, so ids 1, 3, 4. */
    draw_counts(counts, logits, 5, 1.0f, 0.8f, 7, N_DRAWS);
    ok(counts[0] == 0 && counts[2] == 0, "top-p 0.8 never draws outside the nucleus");
    const int kept[3] = {1, 3, 4};
    for (int j = 0; j < 3; j++) {
        double p = probs[kept[j]] / 0.85;
        double tol = 5 * sqrt(p * (1 - p) / N_DRAWS);
        ok_near((double)counts[kept[j]] / N_DRAWS, p, tol,
                "top-p 0.8 frequency of token %d is renormalised", kept[j]);
    }

    /* p = 0.4: the top token alone already has mass 0.5. */
    draw_counts(counts, logits, 5, 1.0f, 0.4f, 8, 2000);
    ok(counts[1] == 2000, "top-p 0.4 keeps only the most probable token");

    /* p = 0.96: needs all but the 0.05 token (0.95 < 0.96 so all five). */
    draw_counts(counts, logits, 5, 1.0f, 0.96f, 9, N_DRAWS);
    ok(counts[2] > 0, "top-p 0.96 keeps the least probable token");
    draw_counts(counts, logits, 5, 1.0f, 0.9f, 9, N_DRAWS);
    ok(counts[2] == 0 && counts[0] > 0, "top-p 0.9 drops only the least probable token");
}

static void test_seed(void) {
    const float logits[8] = {0.1f, 0.3f, -0.2f, 0.0f, 0.25f, 0.05f, -0.1f, 0.2f};
    int a[64], b[64], c[64];
    uint64_t seeds[3] = {1234, 1234, 1235};
    int *out[3] = {a, b, c};
    for (int k = 0; k < 3; k++) {
        lrc_error err;
        sampler s;
        sampler_init(&s, 8, 0.8f, 0.9f, seeds[k], &err);
        for (int i = 0; i < 64; i++) {
            float buf[8];
            memcpy(buf, logits, sizeof buf);
            out[k][i] = sampler_sample(&s, buf);
        }
        sampler_free(&s);
    }
    ok(memcmp(a, b, sizeof a) == 0, "same seed gives the same sequence");
    ok(memcmp(a, c, sizeof a) != 0, "different seed gives a different sequence");

    lrc_error err;
    sampler s;
    sampler_init(&s, 2, 1.0f, 1.0f, 0, &err);
    double sum = 0;
    int in_range = 1;
    for (int i = 0; i < N_DRAWS; i++) {
        float u = sampler_uniform(&s);
        in_range &= u >= 0.0f && u < 1.0f;
        sum += u;
    }
    sampler_free(&s);
    ok(in_range, "uniform draws lie in [0, 1) with seed 0");
    /* The mean of N uniforms has standard deviation sqrt(1/12/N). */
    ok_near(sum / N_DRAWS, 0.5, 5 * sqrt(1.0 / 12 / N_DRAWS), "uniform draws have mean 1/2");
}

static void test_invalid(void) {
    lrc_error err;
    sampler s;
    ok(sampler_init(&s, 4, -1.0f, 1.0f, 0, &err) < 0 && strstr(err.msg, "temperature"),
       "negative temperature rejected");
    ok(sampler_init(&s, 4, NAN, 1.0f, 0, &err) < 0, "NaN temperature rejected");
    ok(sampler_init(&s, 4, 1.0f, 0.0f, 0, &err) < 0 && strstr(err.msg, "top-p"),
       "top-p 0 rejected");
    ok(sampler_init(&s, 4, 1.0f, 1.5f, 0, &err) < 0, "top-p above 1 rejected");
    ok(sampler_init(&s, 0, 1.0f, 1.0f, 0, &err) < 0, "empty vocabulary rejected");
}

/* A temperature below FLT_MIN turns logits / T into infinities, so the draw
 * must be the argmax. NaN logits must still give an id in range. */
static void test_non_finite(void) {
    const float logits[6] = {0.5f, -1.0f, 3.25f, 3.0f, -2.0f, -7.0f};
    const float tops[2] = {0.9f, 1.0f};
    for (int k = 0; k < 2; k++) {
        lrc_error err;
        sampler s;
        ok(sampler_init(&s, 6, 1e-40f, tops[k], 1, &err) == 0, "temperature 1e-40 accepted");
        int all_greedy = 1;
        for (int i = 0; i < 50; i++) {
            float buf[6];
            memcpy(buf, logits, sizeof buf);
            all_greedy &= sampler_sample(&s, buf) == 2;
        }
        ok(all_greedy, "temperature 1e-40, top-p %g acts as greedy", (double)tops[k]);

        int in_range = 1;
        for (int i = 0; i < 50; i++) {
            float buf[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
            if (i % 2)
                buf[3] = INFINITY;
            int id = sampler_sample(&s, buf);
            in_range &= id >= 0 && id < 6;
        }
        ok(in_range, "NaN logits, top-p %g give an id in 0..V-1", (double)tops[k]);
        sampler_free(&s);
    }
    const float fine[3] = {1.0f, -3e38f, 0.0f}, nan1[3] = {1.0f, NAN, 0.0f},
                inf1[3] = {-INFINITY, 0.0f, 0.0f};
    ok(sampler_logits_finite(fine, 3), "finite logits pass the check");
    ok(!sampler_logits_finite(nan1, 3), "a NaN logit fails the check");
    ok(!sampler_logits_finite(inf1, 3), "an infinite logit fails the check");
}

int main(void) {
    test_non_finite();
    test_greedy();
    test_frequencies();
    test_top_p();
    test_seed();
    test_invalid();
    return done_testing();
}
