/*
 * Gradient checks of the backward passes in src/core. For each op, a random
 * linear functional L = Σ r · out of its output is differentiated two ways:
 * by the backward pass (seeded with dout = r) and by central differences
 * (L(x + ε) - L(x - ε)) / 2ε for every element of every input, with L summed
 * in double. ε = 1e-2 keeps float32 rounding in L (about 1e-7 |L|) small
 * against 2ε while the truncation error ε² f''' / 6 stays near 1e-5, so
 * the two must agree within 1e-3 · max(1, |g|). Further checks: every
 * backward adds into its outputs and skips a NULL one, and the training
 * attention equals the cached attention_forward and is causal.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/ops.h"
#include "tap.h"

#define FD_EPS 1e-2f
#define FD_TOL 1e-3

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

/* Uniform in [-1, 1). */
static float frand(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static void fill_random(float *x, size_t n, float amplitude) {
    for (size_t i = 0; i < n; i++)
        x[i] = amplitude * frand();
}

static float *alloc_floats(size_t n) {
    float *p = calloc(n, sizeof(float));
    if (!p) {
        printf("Bail out! out of memory for %zu floats\n", n);
        exit(1);
    }
    return p;
}

static double dot_double(const float *a, const float *b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* The largest relative error seen per op, for the summary at the end. */
enum { MAX_OPS = 16 };
static const char *worst_name[MAX_OPS];
static double worst_err[MAX_OPS];
static size_t n_worst;

static void record_worst(const char *op, double err) {
    for (size_t i = 0; i < n_worst; i++)
        if (strcmp(worst_name[i], op) == 0) {
            if (err > worst_err[i])
                worst_err[i] = err;
            return;
        }
    if (n_worst < MAX_OPS) {
        worst_name[n_worst] = op;
        worst_err[n_worst++] = err;
    }
}

typedef double (*loss_fn)(const void *ctx);

/* Compare grad (n) with central differences of loss over each element of
 * param (n), which loss reads through ctx. */
static void check_fd(const char *op, const char *what, float *param, size_t n, const float *grad,
                     loss_fn loss, const void *ctx) {
    double worst = 0.0;
    size_t first_bad = n;
    double bad_fd = 0.0;
    for (size_t i = 0; i < n; i++) {
        float saved = param[i];
        float up = saved + FD_EPS, down = saved - FD_EPS;
        param[i] = up;
        double lp = loss(ctx);
        param[i] = down;
        double lm = loss(ctx);
        param[i] = saved;

        double fd = (lp - lm) / ((double)up - (double)down);
        double err = fabs((double)grad[i] - fd) / fmax(1.0, fabs(fd));
        if (err > worst)
            worst = err;
        if (!(err <= FD_TOL) && first_bad == n) {
            first_bad = i;
            bad_fd = fd;
        }
    }
    record_worst(op, worst);
    ok(first_bad == n,
       "%s: %s matches central differences (%zu elements, worst relative error %.2g)", op, what, n,
       worst);
    if (first_bad < n)
        diag("element %zu: backward %.9g, central difference %.9g", first_bad,
             (double)grad[first_bad], bad_fd);
}

/* b == 2 a elementwise, to float rounding: the second call added the same again. */
static int is_double_of(const float *b, const float *a, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (fabsf(b[i] - 2.0f * a[i]) > 1e-5f * fmaxf(1.0f, fabsf(2.0f * a[i])))
            return 0;
    return 1;
}

static int all_zero(const float *a, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (a[i] != 0.0f)
            return 0;
    return 1;
}

static int equal_floats(const float *a, const float *b, size_t n) {
    return memcmp(a, b, n * sizeof(float)) == 0;
}

/* ---- linear layer ---- */

typedef struct linear_case {
    float *x, *W, *bias, *y;
    const float *r;
    size_t T, in, out;
} linear_case;

static double linear_loss(const void *ctx) {
    const linear_case *c = ctx;
    blas_linear_forward(c->y, c->x, c->W, c->bias, c->T, c->in, c->out);
    return dot_double(c->r, c->y, c->T * c->out);
}

static void test_linear(size_t T) {
    enum { IN = 7, OUT = 6 };
    linear_case c = {alloc_floats(T * IN),
                     alloc_floats(OUT * IN),
                     alloc_floats(OUT),
                     alloc_floats(T * OUT),
                     NULL,
                     T,
                     IN,
                     OUT};
    float *r = alloc_floats(T * OUT);
    fill_random(c.x, T * IN, 1.0f);
    fill_random(c.W, OUT * IN, 1.0f);
    fill_random(c.bias, OUT, 1.0f);
    fill_random(r, T * OUT, 1.0f);
    c.r = r;

    float *dx = alloc_floats(T * IN), *dW = alloc_floats(OUT * IN), *db = alloc_floats(OUT);
    blas_linear_backward(dx, dW, db, r, c.x, c.W, T, IN, OUT);
    const char *op = "blas_linear_backward";
    diag("blas_linear_backward with T = %zu", T);
    check_fd(op, "dx", c.x, T * IN, dx, linear_loss, &c);
    check_fd(op, "dW", c.W, OUT * IN, dW, linear_loss, &c);
    check_fd(op, "dbias", c.bias, OUT, db, linear_loss, &c);

    float *dx2 = alloc_floats(T * IN), *dW2 = alloc_floats(OUT * IN), *db2 = alloc_floats(OUT);
    blas_linear_backward(dx2, dW2, db2, r, c.x, c.W, T, IN, OUT);
    blas_linear_backward(dx2, dW2, db2, r, c.x, c.W, T, IN, OUT);
    ok(is_double_of(dx2, dx, T * IN), "blas_linear_backward: dx accumulates");
    ok(is_double_of(dW2, dW, OUT * IN), "blas_linear_backward: dW accumulates");
    ok(is_double_of(db2, db, OUT), "blas_linear_backward: dbias accumulates");

    float *dx3 = alloc_floats(T * IN), *dW3 = alloc_floats(OUT * IN), *db3 = alloc_floats(OUT);
    blas_linear_backward(NULL, dW3, NULL, r, c.x, c.W, T, IN, OUT);
    blas_linear_backward(dx3, NULL, NULL, r, c.x, c.W, T, IN, OUT);
    blas_linear_backward(NULL, NULL, db3, r, c.x, c.W, T, IN, OUT);
    ok(equal_floats(dx3, dx, T * IN), "blas_linear_backward: dx alone, others NULL");
    ok(equal_floats(dW3, dW, OUT * IN), "blas_linear_backward: dW alone, others NULL");
    ok(equal_floats(db3, db, OUT), "blas_linear_backward: dbias alone, others NULL");

    float *bufs[] = {c.x, c.W, c.bias, c.y, r, dx, dW, db, dx2, dW2, db2, dx3, dW3, db3};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
}

/* ---- RMSNorm ---- */

typedef struct rmsnorm_case {
    float *x, *weight, *out;
    const float *r;
    size_t T, d;
    float eps;
} rmsnorm_case;

static double rmsnorm_loss(const void *ctx) {
    const rmsnorm_case *c = ctx;
    rmsnorm_forward(c->out, c->x, c->weight, c->T, c->d, c->eps);
    return dot_double(c->r, c->out, c->T * c->d);
}

static void test_rmsnorm(void) {
    enum { T = 5, D = 12 };
    float x[T * D], weight[D], out[T * D], r[T * D];
    fill_random(x, T * D, 1.0f);
    fill_random(weight, D, 1.0f);
    fill_random(r, T * D, 1.0f);
    rmsnorm_case c = {x, weight, out, r, T, D, 1e-5f};

    float dx[T * D] = {0}, dw[D] = {0};
    rmsnorm_backward(dx, dw, r, x, weight, T, D, c.eps);
    check_fd("rmsnorm_backward", "dx", x, T * D, dx, rmsnorm_loss, &c);
    check_fd("rmsnorm_backward", "dweight", weight, D, dw, rmsnorm_loss, &c);

    float dx2[T * D] = {0}, dw2[D] = {0};
    rmsnorm_backward(dx2, dw2, r, x, weight, T, D, c.eps);
    rmsnorm_backward(dx2, dw2, r, x, weight, T, D, c.eps);
    ok(is_double_of(dx2, dx, T * D), "rmsnorm_backward: dx accumulates");
    ok(is_double_of(dw2, dw, D), "rmsnorm_backward: dweight accumulates");

    float dx3[T * D] = {0}, dw3[D] = {0};
    rmsnorm_backward(dx3, NULL, r, x, weight, T, D, c.eps);
    rmsnorm_backward(NULL, dw3, r, x, weight, T, D, c.eps);
    ok(equal_floats(dx3, dx, T * D), "rmsnorm_backward: dx alone, dweight NULL");
    ok(equal_floats(dw3, dw, D), "rmsnorm_backward: dweight alone, dx NULL");
}

/* ---- RoPE ---- */

enum {
    ROPE_T = 5,
    ROPE_HEADS = 2,
    ROPE_H = 6,
    ROPE_STRIDE = ROPE_HEADS * ROPE_H + 3,
    ROPE_POS = 3
};

typedef struct rope_case {
    float *x, *out;
    const float *r, *cos_table, *sin_table;
    bool interleaved;
} rope_case;

static double rope_loss(const void *ctx) {
    const rope_case *c = ctx;
    size_t n = ROPE_T * ROPE_STRIDE;
    memcpy(c->out, c->x, n * sizeof(float));
    rope_forward(c->out, ROPE_STRIDE, c->cos_table, c->sin_table, ROPE_T, ROPE_HEADS, ROPE_H,
                 ROPE_POS, c->interleaved);
    return dot_double(c->r, c->out, n);
}

static void test_rope(bool interleaved) {
    enum { N = ROPE_T * ROPE_STRIDE, S = ROPE_POS + ROPE_T, HALF = ROPE_H / 2 };
    double inv_freq[HALF];
    float cos_table[S * HALF], sin_table[S * HALF];
    rope_inv_freq(inv_freq, ROPE_H, 10000.0, NULL);
    rope_table_init(cos_table, sin_table, inv_freq, S, ROPE_H);

    /* r is zero on the padding columns, which RoPE leaves alone. */
    float x[N], out[N], r[N];
    fill_random(x, N, 1.0f);
    fill_random(r, N, 1.0f);
    for (size_t t = 0; t < ROPE_T; t++)
        for (size_t j = ROPE_HEADS * ROPE_H; j < ROPE_STRIDE; j++)
            r[t * ROPE_STRIDE + j] = 0.0f;
    rope_case c = {x, out, r, cos_table, sin_table, interleaved};

    float dx[N];
    memcpy(dx, r, sizeof dx);
    for (size_t t = 0; t < ROPE_T; t++)
        for (size_t j = ROPE_HEADS * ROPE_H; j < ROPE_STRIDE; j++)
            dx[t * ROPE_STRIDE + j] = 7.0f;
    rope_backward(dx, ROPE_STRIDE, cos_table, sin_table, ROPE_T, ROPE_HEADS, ROPE_H, ROPE_POS,
                  interleaved);
    int padding_kept = 1;
    for (size_t t = 0; t < ROPE_T; t++)
        for (size_t j = ROPE_HEADS * ROPE_H; j < ROPE_STRIDE; j++) {
            padding_kept &= dx[t * ROPE_STRIDE + j] == 7.0f;
            dx[t * ROPE_STRIDE + j] = 0.0f;
        }
    const char *op =
        interleaved ? "rope_backward (interleaved pairs)" : "rope_backward (half pairs)";
    check_fd(op, "dx", x, N, dx, rope_loss, &c);
    ok(padding_kept, "%s: columns past n_heads * h within the row stride are untouched", op);

    /* Backward after forward is the identity: the rotation is orthogonal. */
    float y[N];
    memcpy(y, x, sizeof y);
    rope_forward(y, ROPE_STRIDE, cos_table, sin_table, ROPE_T, ROPE_HEADS, ROPE_H, ROPE_POS,
                 interleaved);
    rope_backward(y, ROPE_STRIDE, cos_table, sin_table, ROPE_T, ROPE_HEADS, ROPE_H, ROPE_POS,
                  interleaved);
    double diff = 0.0;
    for (size_t i = 0; i < N; i++)
        diff = fmax(diff, fabs((double)y[i] - x[i]));
    ok_near(diff, 0.0, 1e-6, "%s undoes rope_forward", op);
}

/* ---- softmax, SiLU, SwiGLU ---- */

/* 15 = three vectors of four and a tail of three. */
enum { ELEM_N = 15 };

typedef struct elementwise_case {
    float *x, *up, *out;
    const float *r;
    size_t n;
} elementwise_case;

static double softmax_loss(const void *ctx) {
    const elementwise_case *c = ctx;
    memcpy(c->out, c->x, c->n * sizeof(float));
    softmax_forward(c->out, c->n);
    return dot_double(c->r, c->out, c->n);
}

static double silu_loss(const void *ctx) {
    const elementwise_case *c = ctx;
    memcpy(c->out, c->x, c->n * sizeof(float));
    silu_forward(c->out, c->n);
    return dot_double(c->r, c->out, c->n);
}

static double swiglu_loss(const void *ctx) {
    const elementwise_case *c = ctx;
    swiglu_forward(c->out, c->x, c->up, c->n);
    return dot_double(c->r, c->out, c->n);
}

static void test_softmax(void) {
    float x[ELEM_N], y[ELEM_N], out[ELEM_N], r[ELEM_N];
    fill_random(x, ELEM_N, 3.0f);
    fill_random(r, ELEM_N, 1.0f);
    memcpy(y, x, sizeof y);
    softmax_forward(y, ELEM_N);
    elementwise_case c = {x, NULL, out, r, ELEM_N};

    float dx[ELEM_N] = {0}, dx2[ELEM_N] = {0};
    softmax_backward(dx, r, y, ELEM_N);
    check_fd("softmax_backward", "dx", x, ELEM_N, dx, softmax_loss, &c);
    softmax_backward(dx2, r, y, ELEM_N);
    softmax_backward(dx2, r, y, ELEM_N);
    ok(is_double_of(dx2, dx, ELEM_N), "softmax_backward: dx accumulates");
}

/* Inputs spread over [-12, 12], with the first two far into each tail and
 * the scalar tail loop seeing ordinary values. */
static void fill_activation_inputs(float *x, size_t n) {
    fill_random(x, n, 12.0f);
    x[0] = -40.0f;
    x[1] = 40.0f;
}

static void test_silu(void) {
    float x[ELEM_N], out[ELEM_N], r[ELEM_N];
    fill_activation_inputs(x, ELEM_N);
    fill_random(r, ELEM_N, 1.0f);
    elementwise_case c = {x, NULL, out, r, ELEM_N};

    float dx[ELEM_N] = {0}, dx2[ELEM_N] = {0};
    silu_backward(dx, r, x, ELEM_N);
    check_fd("silu_backward", "dx", x, ELEM_N, dx, silu_loss, &c);
    silu_backward(dx2, r, x, ELEM_N);
    silu_backward(dx2, r, x, ELEM_N);
    ok(is_double_of(dx2, dx, ELEM_N), "silu_backward: dx accumulates");
}

static void test_swiglu(void) {
    float gate[ELEM_N], up[ELEM_N], out[ELEM_N], r[ELEM_N];
    fill_activation_inputs(gate, ELEM_N);
    fill_random(up, ELEM_N, 2.0f);
    fill_random(r, ELEM_N, 1.0f);
    elementwise_case c = {gate, up, out, r, ELEM_N};

    float dg[ELEM_N] = {0}, du[ELEM_N] = {0};
    swiglu_backward(dg, du, r, gate, up, ELEM_N);
    check_fd("swiglu_backward", "dgate", gate, ELEM_N, dg, swiglu_loss, &c);
    check_fd("swiglu_backward", "dup", up, ELEM_N, du, swiglu_loss, &c);

    float dg2[ELEM_N] = {0}, du2[ELEM_N] = {0};
    swiglu_backward(dg2, du2, r, gate, up, ELEM_N);
    swiglu_backward(dg2, du2, r, gate, up, ELEM_N);
    ok(is_double_of(dg2, dg, ELEM_N), "swiglu_backward: dgate accumulates");
    ok(is_double_of(du2, du, ELEM_N), "swiglu_backward: dup accumulates");

    float dg3[ELEM_N] = {0}, du3[ELEM_N] = {0};
    swiglu_backward(dg3, NULL, r, gate, up, ELEM_N);
    swiglu_backward(NULL, du3, r, gate, up, ELEM_N);
    ok(equal_floats(dg3, dg, ELEM_N), "swiglu_backward: dgate alone, dup NULL");
    ok(equal_floats(du3, du, ELEM_N), "swiglu_backward: dup alone, dgate NULL");
}

/* ---- training attention ---- */

typedef struct attention_case {
    size_t B, T, H, Hkv, h;
    float *q, *k, *v, *out, *probs, *r;
} attention_case;

static attention_case attention_case_new(size_t B, size_t T, size_t H, size_t Hkv, size_t h) {
    attention_case c = {B, T, H, Hkv, h, NULL, NULL, NULL, NULL, NULL, NULL};
    c.q = alloc_floats(B * T * H * h);
    c.k = alloc_floats(B * T * Hkv * h);
    c.v = alloc_floats(B * T * Hkv * h);
    c.out = alloc_floats(B * T * H * h);
    c.probs = alloc_floats(B * H * T * T);
    c.r = alloc_floats(B * T * H * h);
    /* Amplitude 2 gives scores of order one, so the softmax is neither flat nor saturated. */
    fill_random(c.q, B * T * H * h, 2.0f);
    fill_random(c.k, B * T * Hkv * h, 2.0f);
    fill_random(c.v, B * T * Hkv * h, 1.0f);
    fill_random(c.r, B * T * H * h, 1.0f);
    return c;
}

static void attention_case_free(attention_case *c) {
    float *bufs[] = {c->q, c->k, c->v, c->out, c->probs, c->r};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
}

static double attention_loss(const void *ctx) {
    const attention_case *c = ctx;
    attention_train_forward(c->out, c->probs, c->q, c->k, c->v, c->B, c->T, c->H, c->Hkv, c->h);
    return dot_double(c->r, c->out, c->B * c->T * c->H * c->h);
}

/* The forward against attention_forward over a cache holding each sequence,
 * the probabilities' rows, and causality. */
static void test_attention_forward(size_t B, size_t T, size_t H, size_t Hkv, size_t h) {
    attention_case c = attention_case_new(B, T, H, Hkv, h);
    size_t qd = H * h, kvd = Hkv * h;
    attention_train_forward(c.out, c.probs, c.q, c.k, c.v, B, T, H, Hkv, h);

    float *want = alloc_floats(T * qd);
    float *scratch = alloc_floats(attention_scratch_floats(T, T));
    double diff = 0.0;
    for (size_t b = 0; b < B; b++) {
        attention_forward(want, c.q + b * T * qd, c.k + b * T * kvd, c.v + b * T * kvd, scratch, T,
                          0, H, Hkv, h);
        for (size_t i = 0; i < T * qd; i++)
            diff = fmax(diff, fabs((double)want[i] - c.out[b * T * qd + i]));
    }
    ok_near(diff, 0.0, 1e-6,
            "attention_train_forward equals attention_forward (B=%zu T=%zu H=%zu Hkv=%zu h=%zu)", B,
            T, H, Hkv, h);

    double worst_sum = 0.0;
    int zeros_after = 1;
    for (size_t row = 0; row < B * H * T; row++) {
        size_t t = row % T;
        const float *p = c.probs + row * T;
        double sum = 0.0;
        for (size_t j = 0; j <= t; j++)
            sum += p[j];
        worst_sum = fmax(worst_sum, fabs(sum - 1.0));
        zeros_after &= all_zero(p + t + 1, T - t - 1);
    }
    ok(worst_sum < 1e-5, "attention_train_forward: probability rows sum to 1");
    ok(zeros_after, "attention_train_forward: probabilities after the diagonal are 0");

    /* Changing q, k and v at token s of sequence B-1 leaves tokens before s
     * and every other sequence exactly as they were. */
    size_t s = T / 2, last = B - 1;
    float *before = alloc_floats(B * T * qd);
    memcpy(before, c.out, B * T * qd * sizeof(float));
    for (size_t i = 0; i < qd; i++)
        c.q[(last * T + s) * qd + i] += 0.5f;
    for (size_t i = 0; i < kvd; i++) {
        c.k[(last * T + s) * kvd + i] -= 0.5f;
        c.v[(last * T + s) * kvd + i] += 0.5f;
    }
    attention_train_forward(c.out, c.probs, c.q, c.k, c.v, B, T, H, Hkv, h);
    size_t unchanged = (last * T + s) * qd;
    ok(equal_floats(before, c.out, unchanged),
       "attention_train_forward is causal: changing token %zu of the last sequence keeps "
       "earlier tokens and other sequences",
       s);
    ok(!equal_floats(before + unchanged, c.out + unchanged, qd),
       "attention_train_forward: changing token %zu changes its own output", s);

    free(before);
    free(scratch);
    free(want);
    attention_case_free(&c);
}

static void test_attention_backward(size_t B, size_t T, size_t H, size_t Hkv, size_t h) {
    attention_case c = attention_case_new(B, T, H, Hkv, h);
    size_t nq = B * T * H * h, nkv = B * T * Hkv * h;
    float *scratch = alloc_floats(attention_train_scratch_floats(T));
    float *dq = alloc_floats(nq), *dk = alloc_floats(nkv), *dv = alloc_floats(nkv);

    attention_train_forward(c.out, c.probs, c.q, c.k, c.v, B, T, H, Hkv, h);
    attention_train_backward(dq, dk, dv, c.r, c.probs, c.q, c.k, c.v, B, T, H, Hkv, h, scratch);
    const char *op = "attention_train_backward";
    diag("attention_train_backward with B=%zu T=%zu H=%zu Hkv=%zu h=%zu", B, T, H, Hkv, h);
    check_fd(op, "dq", c.q, nq, dq, attention_loss, &c);
    check_fd(op, "dk", c.k, nkv, dk, attention_loss, &c);
    check_fd(op, "dv", c.v, nkv, dv, attention_loss, &c);

    /* check_fd ran the forward on perturbed inputs; restore the probabilities. */
    attention_train_forward(c.out, c.probs, c.q, c.k, c.v, B, T, H, Hkv, h);
    float *dq2 = alloc_floats(nq), *dk2 = alloc_floats(nkv), *dv2 = alloc_floats(nkv);
    for (int i = 0; i < 2; i++)
        attention_train_backward(dq2, dk2, dv2, c.r, c.probs, c.q, c.k, c.v, B, T, H, Hkv, h,
                                 scratch);
    ok(is_double_of(dq2, dq, nq), "attention_train_backward: dq accumulates");
    ok(is_double_of(dk2, dk, nkv), "attention_train_backward: dk accumulates");
    ok(is_double_of(dv2, dv, nkv), "attention_train_backward: dv accumulates");

    float *dq3 = alloc_floats(nq), *dk3 = alloc_floats(nkv), *dv3 = alloc_floats(nkv);
    attention_train_backward(dq3, NULL, NULL, c.r, c.probs, c.q, c.k, c.v, B, T, H, Hkv, h,
                             scratch);
    attention_train_backward(NULL, dk3, NULL, c.r, c.probs, c.q, c.k, c.v, B, T, H, Hkv, h,
                             scratch);
    attention_train_backward(NULL, NULL, dv3, c.r, c.probs, c.q, c.k, c.v, B, T, H, Hkv, h,
                             scratch);
    ok(equal_floats(dq3, dq, nq), "attention_train_backward: dq alone, others NULL");
    ok(equal_floats(dk3, dk, nkv), "attention_train_backward: dk alone, others NULL");
    ok(equal_floats(dv3, dv, nkv), "attention_train_backward: dv alone, others NULL");

    float *bufs[] = {scratch, dq, dk, dv, dq2, dk2, dv2, dq3, dk3, dv3};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    attention_case_free(&c);
}

int main(void) {
    test_linear(5);
    test_linear(1);
    test_rmsnorm();
    test_rope(false);
    test_rope(true);
    test_softmax();
    test_silu();
    test_swiglu();

    test_attention_forward(2, 5, 4, 2, 6);
    test_attention_forward(2, ATTENTION_BLOCK + 7, 3, 1, 8);
    test_attention_backward(2, 5, 4, 2, 6);
    /* Past one block of query rows, with one key/value head shared by three. */
    test_attention_backward(1, ATTENTION_BLOCK + 6, 3, 1, 4);

    for (size_t i = 0; i < n_worst; i++)
        diag("largest relative error of %s: %.2g", worst_name[i], worst_err[i]);
    return done_testing();
}
