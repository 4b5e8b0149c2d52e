/*
 * Unit tests of src/core: aligned buffers, the BLAS linear wrappers against
 * plain loops, and each forward op against values worked out by hand or by
 * a float64 loop written here (RMSNorm, RoPE and its scaling rules, softmax,
 * SiLU/SwiGLU, causal grouped-query attention).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/ops.h"
#include "core/tensor.h"
#include "tap.h"

static uint64_t rng_state = 88172645463325252ull;

/* Uniform in [-1, 1). */
static float frand(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static void fill_random(float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        x[i] = frand();
}

static double max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        if (fabs((double)a[i] - b[i]) > m)
            m = fabs((double)a[i] - b[i]);
    return m;
}

static void test_tensor(void) {
    lrc_error err;
    float *p = tensor_alloc(1000, "test buffer", &err);
    ok(p != NULL, "tensor_alloc returns a buffer");
    ok(((uintptr_t)p % TENSOR_ALIGN) == 0, "tensor_alloc aligns to 64 bytes");
    int zero = 1;
    for (size_t i = 0; i < 1000; i++)
        zero &= p[i] == 0.0f;
    ok(zero, "tensor_alloc zeroes the buffer");
    tensor_free(p);

    ok(tensor_alloc(0, "empty buffer", &err) == NULL && strstr(err.msg, "empty buffer"),
       "tensor_alloc rejects size 0 naming the buffer");
    ok(tensor_alloc(SIZE_MAX / 2, "huge buffer", &err) == NULL, "tensor_alloc rejects overflow");
    tensor_free(NULL);
}

/* y = x Wᵀ + b by plain loops in double. */
static void linear_naive(double *y, const float *x, const float *W, const float *b, size_t T,
                         size_t in, size_t out) {
    for (size_t t = 0; t < T; t++)
        for (size_t o = 0; o < out; o++) {
            double s = b ? b[o] : 0.0;
            for (size_t i = 0; i < in; i++)
                s += (double)x[t * in + i] * W[o * in + i];
            y[t * out + o] = s;
        }
}

static void test_blas(void) {
    enum { IN = 37, OUT = 23, TMAX = 5 };
    float x[TMAX * IN], W[OUT * IN], b[OUT], y[TMAX * OUT], base[TMAX * OUT];
    double want[TMAX * OUT];
    fill_random(x, sizeof x / sizeof x[0]);
    fill_random(W, sizeof W / sizeof W[0]);
    fill_random(b, OUT);

    for (size_t T = 1; T <= TMAX; T += TMAX - 1) {
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            const float *bias = with_bias ? b : NULL;
            blas_linear_forward(y, x, W, bias, T, IN, OUT);
            linear_naive(want, x, W, bias, T, IN, OUT);
            double m = 0.0;
            for (size_t i = 0; i < T * OUT; i++)
                m = fmax(m, fabs(y[i] - want[i]));
            ok(m < 1e-5, "linear T=%zu %s bias matches loops (max err %.2g)", T,
               with_bias ? "with" : "without", m);
        }

        fill_random(base, T * OUT);
        memcpy(y, base, sizeof(float) * T * OUT);
        blas_linear_accumulate(y, x, W, T, IN, OUT);
        linear_naive(want, x, W, NULL, T, IN, OUT);
        double m = 0.0;
        for (size_t i = 0; i < T * OUT; i++)
            m = fmax(m, fabs(y[i] - (want[i] + base[i])));
        ok(m < 1e-5, "linear accumulate T=%zu adds into y (max err %.2g)", T, m);
    }

    blas_set_threads(1);
    ok(blas_get_threads() == 1, "blas_set_threads(1) takes effect");
    blas_set_threads(0);
    ok(blas_get_threads() == 1, "blas_set_threads(0) keeps the setting");
}

static void test_rmsnorm(void) {
    /* mean of squares of (1, 2, 3, 4) is 7.5. */
    const float x[4] = {1, 2, 3, 4}, w[4] = {2, 1, 0.5f, 1};
    float out[4];
    rmsnorm_forward(out, x, w, 1, 4, 0.0f);
    double r = sqrt(7.5);
    ok_near(out[0], 2.0 / r, 1e-6, "rmsnorm (1,2,3,4) element 0");
    ok_near(out[1], 2.0 / r, 1e-6, "rmsnorm (1,2,3,4) element 1");
    ok_near(out[2], 1.5 / r, 1e-6, "rmsnorm (1,2,3,4) element 2");
    ok_near(out[3], 4.0 / r, 1e-6, "rmsnorm (1,2,3,4) element 3");

    /* eps matters for a zero-ish row: (0.1, 0.1) with eps 0.01 -> 0.1/sqrt(0.02). */
    const float y[2] = {0.1f, 0.1f}, ones[2] = {1, 1};
    float o2[2];
    rmsnorm_forward(o2, y, ones, 1, 2, 0.01f);
    ok_near(o2[0], 0.1 / sqrt(0.02), 1e-6, "rmsnorm adds eps inside the root");

    /* In place, two rows. */
    float rows[8] = {1, 2, 3, 4, -4, -3, -2, -1};
    rmsnorm_forward(rows, rows, w, 2, 4, 0.0f);
    ok_near(rows[4], -8.0 / r, 1e-6, "rmsnorm in place, second row");
}

static void test_rope(void) {
    /* h = 4, theta = 10000: inv_freq = (1, 0.01). Position 3. */
    double inv[2];
    rope_inv_freq(inv, 4, 10000.0, NULL);
    ok_near(inv[0], 1.0, 1e-15, "rope inv_freq[0] = 1");
    ok_near(inv[1], 0.01, 1e-15, "rope inv_freq[1] = theta^(-2/4)");

    float cos_t[8 * 2], sin_t[8 * 2];
    rope_table_init(cos_t, sin_t, inv, 8, 4);
    float x[4] = {1, 2, 3, 4};
    rope_forward(x, 4, cos_t, sin_t, 1, 1, 4, 3, false);
    double c0 = cos(3.0), s0 = sin(3.0), c1 = cos(0.03), s1 = sin(0.03);
    ok_near(x[0], 1 * c0 - 3 * s0, 1e-6, "rope rotate_half pair (0,2) first");
    ok_near(x[2], 1 * s0 + 3 * c0, 1e-6, "rope rotate_half pair (0,2) second");
    ok_near(x[1], 2 * c1 - 4 * s1, 1e-6, "rope rotate_half pair (1,3) first");
    ok_near(x[3], 2 * s1 + 4 * c1, 1e-6, "rope rotate_half pair (1,3) second");

    float y[4] = {1, 2, 3, 4};
    rope_forward(y, 4, cos_t, sin_t, 1, 1, 4, 3, true);
    ok_near(y[0], 1 * c0 - 2 * s0, 1e-6, "rope interleaved pair (0,1) first");
    ok_near(y[1], 1 * s0 + 2 * c0, 1e-6, "rope interleaved pair (0,1) second");
    ok_near(y[2], 3 * c1 - 4 * s1, 1e-6, "rope interleaved pair (2,3) first");
    ok_near(y[3], 3 * s1 + 4 * c1, 1e-6, "rope interleaved pair (2,3) second");

    /* Norms are preserved and q·k depends only on the position difference. */
    enum { H = 16, S = 40 };
    double invh[H / 2];
    rope_inv_freq(invh, H, 500.0, NULL);
    float ct[S * H / 2], st[S * H / 2];
    rope_table_init(ct, st, invh, S, H);
    for (int interleaved = 0; interleaved < 2; interleaved++) {
        float q[H], k[H], qa[H], ka[H], qb[H], kb[H];
        fill_random(q, H);
        fill_random(k, H);
        memcpy(qa, q, sizeof q);
        rope_forward(qa, H, ct, st, 1, 1, H, 17, interleaved);
        double n0 = 0, n1 = 0;
        for (int i = 0; i < H; i++) {
            n0 += (double)q[i] * q[i];
            n1 += (double)qa[i] * qa[i];
        }
        ok_near(sqrt(n1), sqrt(n0), 1e-5, "rope %s preserves the norm",
                interleaved ? "interleaved" : "rotate_half");

        /* positions (10, 4) and (30, 24): same difference. */
        memcpy(qa, q, sizeof q), memcpy(ka, k, sizeof k);
        memcpy(qb, q, sizeof q), memcpy(kb, k, sizeof k);
        rope_forward(qa, H, ct, st, 1, 1, H, 10, interleaved);
        rope_forward(ka, H, ct, st, 1, 1, H, 4, interleaved);
        rope_forward(qb, H, ct, st, 1, 1, H, 30, interleaved);
        rope_forward(kb, H, ct, st, 1, 1, H, 24, interleaved);
        double da = 0, db = 0;
        for (int i = 0; i < H; i++) {
            da += (double)qa[i] * ka[i];
            db += (double)qb[i] * kb[i];
        }
        ok_near(da, db, 1e-5, "rope %s scores depend on the offset only",
                interleaved ? "interleaved" : "rotate_half");
    }

    /* Several heads and rows: each row uses its own position. */
    float xs[2 * 2 * 4] = {1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4};
    rope_forward(xs, 8, cos_t, sin_t, 2, 2, 4, 2, false);
    ok_near(xs[4 + 0], 1 * cos(2.0) - 3 * sin(2.0), 1e-6, "rope second head, position 2");
    ok_near(xs[8 + 0], 1 * cos(3.0) - 3 * sin(3.0), 1e-6, "rope second row, position 3");
}

static void test_rope_scaling(void) {
    double base[4], inv[4];
    rope_inv_freq(base, 8, 10000.0, NULL);
    rope_scaling lin = {.kind = ROPE_SCALING_LINEAR, .factor = 4.0f};
    rope_inv_freq(inv, 8, 10000.0, &lin);
    ok_near(inv[2], base[2] / 4.0, 1e-15, "rope linear scaling divides by factor");

    /* h = 8, theta = 10000: inv_freq = 1, 0.1, 0.01, 0.001; wavelengths
     * 2π·(1, 10, 100, 1000) = 6.28, 62.8, 628, 6283. With original 1000,
     * low 1, high 4: short limit 250, long limit 1000. */
    rope_scaling l3 = {.kind = ROPE_SCALING_LLAMA3,
                       .factor = 8.0f,
                       .low_freq_factor = 1.0f,
                       .high_freq_factor = 4.0f,
                       .original_max_seq = 1000};
    rope_inv_freq(inv, 8, 10000.0, &l3);
    ok_near(inv[0], 1.0, 1e-15, "rope llama3 keeps short wavelengths");
    ok_near(inv[1], 0.1, 1e-15, "rope llama3 keeps wavelength 62.8 < 250");
    double wl = 2 * 3.14159265358979323846 * 100.0;
    double smooth = (1000.0 / wl - 1.0) / (4.0 - 1.0);
    ok_near(inv[2], (1 - smooth) * 0.01 / 8 + smooth * 0.01, 1e-15,
            "rope llama3 blends wavelength 628 in the band");
    ok_near(inv[3], 0.001 / 8, 1e-15, "rope llama3 slows wavelength 6283 by factor");
}

static void test_softmax(void) {
    float x[3] = {1000, 1001, 1002};
    softmax_forward(x, 3);
    double z = 1 + exp(1.0) + exp(2.0);
    ok_near(x[0], 1 / z, 1e-6, "softmax of large inputs, element 0");
    ok_near(x[2], exp(2.0) / z, 1e-6, "softmax of large inputs, element 2");

    float y[50];
    fill_random(y, 50);
    for (int i = 0; i < 50; i++)
        y[i] *= 30.0f;
    softmax_forward(y, 50);
    double sum = 0;
    int finite = 1;
    for (int i = 0; i < 50; i++) {
        sum += y[i];
        finite &= isfinite(y[i]) && y[i] >= 0;
    }
    ok(finite, "softmax gives finite non-negative values");
    ok_near(sum, 1.0, 1e-6, "softmax sums to 1");

    /* 37 values spanning 13 units, including a tail past a multiple of 4. */
    float z37[37];
    double want[37], zsum = 0;
    for (int i = 0; i < 37; i++) {
        z37[i] = 0.37f * (float)i - 3.0f;
        zsum += want[i] = exp((double)z37[i]);
    }
    softmax_forward(z37, 37);
    double worst = 0;
    for (int i = 0; i < 37; i++)
        worst = fmax(worst, fabs(z37[i] / (want[i] / zsum) - 1));
    ok(worst < 1e-6, "softmax matches double exp to 1e-6 relative (%.2g)", worst);

    float neg[2] = {-1e30f, 0.0f};
    softmax_forward(neg, 2);
    ok_near(neg[1], 1.0, 1e-7, "softmax with a huge negative logit");
}

static void test_silu(void) {
    float x[3] = {0.0f, 2.0f, -3.0f};
    silu_forward(x, 3);
    ok_near(x[0], 0.0, 1e-7, "silu(0) = 0");
    ok_near(x[1], 2.0 / (1 + exp(-2.0)), 1e-6, "silu(2)");
    ok_near(x[2], -3.0 / (1 + exp(3.0)), 1e-6, "silu(-3)");

    /* 41 gates from -20 to 20 against double: 40 in vector lanes, 1 in the tail. */
    float gs[41], us[41], os[41];
    double worst = 0;
    for (int i = 0; i < 41; i++) {
        gs[i] = (float)i - 20.0f;
        us[i] = 0.5f;
    }
    swiglu_forward(os, gs, us, 41);
    for (int i = 0; i < 41; i++) {
        double want = gs[i] / (1 + exp(-(double)gs[i])) * 0.5;
        worst = fmax(worst, fabs(os[i] - want) / fmax(fabs(want), 1e-30));
    }
    ok(worst < 1e-6, "swiglu matches double to 1e-6 relative (%.2g)", worst);

    float g[2] = {1.0f, -0.5f}, u[2] = {3.0f, 2.0f}, o[2];
    swiglu_forward(o, g, u, 2);
    ok_near(o[0], 3.0 / (1 + exp(-1.0)), 1e-6, "swiglu silu(1) * 3");
    ok_near(o[1], 2.0 * -0.5 / (1 + exp(0.5)), 1e-6, "swiglu silu(-0.5) * 2");
}

/* Causal GQA in double: out (T,H,h) for queries at pos.. over cache rows 0..pos+t. */
static void attention_naive(double *out, const float *q, const float *k, const float *v, size_t T,
                            size_t pos, size_t H, size_t Hkv, size_t h) {
    size_t S = pos + T;
    double *w = malloc(S * sizeof *w);
    for (size_t t = 0; t < T; t++)
        for (size_t head = 0; head < H; head++) {
            size_t kvh = head / (H / Hkv), n = pos + t + 1;
            double max = -INFINITY, sum = 0;
            for (size_t s = 0; s < n; s++) {
                double dot = 0;
                for (size_t i = 0; i < h; i++)
                    dot += (double)q[(t * H + head) * h + i] * k[(s * Hkv + kvh) * h + i];
                w[s] = dot / sqrt((double)h);
                max = fmax(max, w[s]);
            }
            for (size_t s = 0; s < n; s++)
                sum += (w[s] = exp(w[s] - max));
            for (size_t i = 0; i < h; i++) {
                double acc = 0;
                for (size_t s = 0; s < n; s++)
                    acc += w[s] / sum * v[(s * Hkv + kvh) * h + i];
                out[(t * H + head) * h + i] = acc;
            }
        }
    free(w);
}

static void test_attention(void) {
    enum { H = 4, HKV = 2, HS = 8, POS = 5, T = 70, S = POS + T };
    lrc_error err;
    float *q = tensor_alloc(T * H * HS, "q", &err);
    float *k = tensor_alloc(S * HKV * HS, "k", &err);
    float *v = tensor_alloc(S * HKV * HS, "v", &err);
    float *out = tensor_alloc(T * H * HS, "out", &err);
    float *out2 = tensor_alloc(T * H * HS, "out2", &err);
    float *scratch = tensor_alloc(attention_scratch_floats(T, S), "scratch", &err);
    double *want = malloc(sizeof(double) * T * H * HS);
    fill_random(q, T * H * HS);
    fill_random(k, S * HKV * HS);
    fill_random(v, S * HKV * HS);
    for (size_t i = 0; i < (size_t)T * H * HS; i++)
        q[i] *= 3.0f; /* sharper weights */

    /* One position: the only value row comes back unchanged. */
    float one[H * HS];
    attention_forward(one, q, k, v, scratch, 1, 0, H, HKV, HS);
    ok(max_abs_diff(one, v, HS) < 1e-6 && max_abs_diff(one + HS, v, HS) < 1e-6 &&
           max_abs_diff(one + 2 * HS, v + HS, HS) < 1e-6,
       "attention at position 0 returns v[0] of its kv head");

    /* 70 queries (two blocks) after 5 cached positions, against the loops. */
    attention_forward(out, q, k, v, scratch, T, POS, H, HKV, HS);
    attention_naive(want, q, k, v, T, POS, H, HKV, HS);
    double m = 0;
    for (size_t i = 0; i < (size_t)T * H * HS; i++)
        m = fmax(m, fabs(out[i] - want[i]));
    ok(m < 1e-5, "attention GQA over two blocks matches loops (max err %.2g)", m);

    /* Query by query gives the same rows as the block. */
    m = 0;
    for (size_t t = 0; t < T; t++) {
        attention_forward(out2 + t * H * HS, q + t * H * HS, k, v, scratch, 1, POS + t, H, HKV, HS);
    }
    m = max_abs_diff(out, out2, (size_t)T * H * HS);
    ok(m < 1e-5, "attention one query at a time matches the block (max err %.2g)", m);

    /* Causality: changing the last position's q, k, v leaves earlier rows alone. */
    for (size_t i = 0; i < H * HS; i++)
        q[(T - 1) * H * HS + i] += 5.0f;
    for (size_t i = 0; i < HKV * HS; i++) {
        k[(S - 1) * HKV * HS + i] -= 7.0f;
        v[(S - 1) * HKV * HS + i] += 9.0f;
    }
    attention_forward(out2, q, k, v, scratch, T, POS, H, HKV, HS);
    ok(memcmp(out, out2, sizeof(float) * (T - 1) * H * HS) == 0,
       "attention earlier rows ignore a changed later token");
    ok(max_abs_diff(out + (T - 1) * H * HS, out2 + (T - 1) * H * HS, H * HS) > 1e-3,
       "attention last row sees its changed token");

    tensor_free(q);
    tensor_free(k);
    tensor_free(v);
    tensor_free(out);
    tensor_free(out2);
    tensor_free(scratch);
    free(want);
}

int main(void) {
    test_tensor();
    test_blas();
    test_rmsnorm();
    test_rope();
    test_rope_scaling();
    test_softmax();
    test_silu();
    test_attention();
    return done_testing();
}
