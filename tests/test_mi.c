/*
 * Unit tests of src/train/mi: the Gaussian MI estimate against analytic
 * values on synthetic Gaussian data, drawn here from a fixed seed.
 *
 * Tolerances come from sampling theory. A sample canonical correlation has
 * standard error about (1 − ρ²)/√N, and dI/dρ = ρ/(1 − ρ²), so each term of
 * I = −½ Σ log(1 − ρ_i²) has standard error about ρ_i/√N: at N = 20000 and
 * the ρ used below, under 1% of I. The 3% bound is therefore several
 * standard errors wide. For independent X and Y, Bartlett's approximation
 * gives 2·N'·Î ~ χ²(p·q) with N' = N − 1 − (p + q + 1)/2, so Î has mean
 * p·q/(2N') and standard deviation sqrt(2·p·q)/(2N').
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "train/mi.h"

#define N_BIG 20000
#define REL_TOL 0.03

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* Uniform in (0, 1), from xorshift64. */
static double uniform(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return ((double)(rng_state >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Standard normal by Box–Muller. */
static double gauss(void) {
    return sqrt(-2.0 * log(uniform())) * cos(6.283185307179586 * uniform());
}

/* −½ Σ log(1 − ρ_i²) over n correlations. */
static double mi_of_rho(const double *rho, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += log1p(-rho[i] * rho[i]);
    return -0.5 * s;
}

/* Run one estimate with a fresh estimator; returns NAN after a failed check. */
static double estimate(const float *X, const float *Y, size_t N, size_t p, size_t q, size_t k,
                       double ridge, double *rho) {
    lrc_error err;
    mi_cca est;
    double mi = NAN;
    if (mi_cca_init(&est, N, p, q, k, ridge, &err) < 0) {
        ok(0, "mi_cca_init(N=%zu, p=%zu, q=%zu, k=%zu): %s", N, p, q, k, err.msg);
        return NAN;
    }
    if (mi_gaussian_cca(&est, X, Y, &mi, rho, &err) < 0) {
        ok(0, "mi_gaussian_cca: %s", err.msg);
        mi = NAN;
    }
    mi_cca_free(&est);
    return mi;
}

/* Pairs (x_i, y_i) with correlation rho[i], independent across i. Column i
 * of both sides is scaled by scale[i] (or 1 when scale is NULL).
 *   X, Y (N, n) */
static void correlated_pairs(float *X, float *Y, size_t N, size_t n, const double *rho,
                             const double *scale) {
    for (size_t t = 0; t < N; t++) {
        for (size_t i = 0; i < n; i++) {
            double z = gauss(), e = gauss();
            double s = scale ? scale[i] : 1.0;
            X[t * n + i] = (float)(s * z);
            Y[t * n + i] = (float)(s * (rho[i] * z + sqrt(1.0 - rho[i] * rho[i]) * e));
        }
    }
}

/* out = A · M, M (n, m) in double, stored as float.
 *   out (N, m)
 *   A   (N, n) */
static void transform(float *out, const float *A, const double *M, size_t N, size_t n, size_t m) {
    for (size_t t = 0; t < N; t++) {
        for (size_t j = 0; j < m; j++) {
            double s = 0.0;
            for (size_t i = 0; i < n; i++)
                s += (double)A[t * n + i] * M[i * m + j];
            out[t * m + j] = (float)s;
        }
    }
}

/* A random orthogonal (n, n) matrix: Gram–Schmidt on Gaussian rows. */
static void random_orthogonal(double *Q, size_t n) {
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++)
            Q[i * n + j] = gauss();
        for (size_t r = 0; r < i; r++) {
            double d = 0.0;
            for (size_t j = 0; j < n; j++)
                d += Q[i * n + j] * Q[r * n + j];
            for (size_t j = 0; j < n; j++)
                Q[i * n + j] -= d * Q[r * n + j];
        }
        double norm = 0.0;
        for (size_t j = 0; j < n; j++)
            norm += Q[i * n + j] * Q[i * n + j];
        for (size_t j = 0; j < n; j++)
            Q[i * n + j] /= sqrt(norm);
    }
}

/* log det of a symmetric positive definite (n, n) matrix by Cholesky;
 * A is overwritten. */
static double logdet_spd(double *A, size_t n) {
    double logdet = 0.0;
    for (size_t j = 0; j < n; j++) {
        double d = A[j * n + j];
        for (size_t r = 0; r < j; r++)
            d -= A[j * n + r] * A[j * n + r];
        double l = sqrt(d);
        A[j * n + j] = l;
        logdet += 2.0 * log(l);
        for (size_t i = j + 1; i < n; i++) {
            double s = A[i * n + j];
            for (size_t r = 0; r < j; r++)
                s -= A[i * n + r] * A[j * n + r];
            A[i * n + j] = s / l;
        }
    }
    return logdet;
}

static double rel_err(double got, double want) {
    return fabs(got - want) / fabs(want);
}

/* Four independent pairs with known correlations. */
static void test_pairs(float *X, float *Y) {
    const double rho[4] = {0.9, 0.7, 0.5, 0.3};
    double want = mi_of_rho(rho, 4), got_rho[4];
    correlated_pairs(X, Y, N_BIG, 4, rho, NULL);
    double got = estimate(X, Y, N_BIG, 4, 4, 4, MI_DEFAULT_RIDGE, got_rho);
    double e = rel_err(got, want);
    ok(e < REL_TOL, "pairs: MI %.4f vs analytic %.4f (rel err %.2g%%)", got, want, 100 * e);
    diag("pairs: N=%d, rel err %.3g%%", N_BIG, 100 * e);
    /* Standard errors (1 − ρ²)/√N are at most 0.0064 here; 0.025 is 4 of them
     * plus room for the upward bias of the smallest correlation. */
    for (int i = 0; i < 4; i++)
        ok_near(got_rho[i], rho[i], 0.025, "pairs: canonical correlation %d", i + 1);
}

/* X = Z·Wxᵀ + σx·noise, Y = Z·Wyᵀ + σy·noise with a 3-dimensional latent Z.
 * The joint covariance is known, so I = ½ (log|Σxx| + log|Σyy| − log|Σ|). */
static void test_latent(float *X, float *Y) {
    enum { L = 3, P = 6, Q = 5 };
    const double sx = 1.0, sy = 0.7;
    double Wx[P][L], Wy[Q][L];
    for (int i = 0; i < P; i++)
        for (int j = 0; j < L; j++)
            Wx[i][j] = gauss();
    for (int i = 0; i < Q; i++)
        for (int j = 0; j < L; j++)
            Wy[i][j] = 0.5 * gauss();

    /* Joint covariance Σ = [[Σxx, Σxy], [Σyx, Σyy]] of (x, y), order P + Q. */
    double S[(P + Q) * (P + Q)], Sxx[P * P], Syy[Q * Q];
    double W[P + Q][L];
    memcpy(W, Wx, sizeof Wx);
    memcpy(W[P], Wy, sizeof Wy);
    for (int i = 0; i < P + Q; i++) {
        for (int j = 0; j < P + Q; j++) {
            double s = 0.0;
            for (int l = 0; l < L; l++)
                s += W[i][l] * W[j][l];
            if (i == j)
                s += i < P ? sx * sx : sy * sy;
            S[i * (P + Q) + j] = s;
        }
    }
    for (int i = 0; i < P; i++)
        for (int j = 0; j < P; j++)
            Sxx[i * P + j] = S[i * (P + Q) + j];
    for (int i = 0; i < Q; i++)
        for (int j = 0; j < Q; j++)
            Syy[i * Q + j] = S[(P + i) * (P + Q) + P + j];
    double want = 0.5 * (logdet_spd(Sxx, P) + logdet_spd(Syy, Q) - logdet_spd(S, P + Q));

    for (size_t t = 0; t < N_BIG; t++) {
        double z[L];
        for (int l = 0; l < L; l++)
            z[l] = gauss();
        for (int i = 0; i < P; i++) {
            double s = sx * gauss();
            for (int l = 0; l < L; l++)
                s += Wx[i][l] * z[l];
            X[t * P + i] = (float)s;
        }
        for (int i = 0; i < Q; i++) {
            double s = sy * gauss();
            for (int l = 0; l < L; l++)
                s += Wy[i][l] * z[l];
            Y[t * Q + i] = (float)s;
        }
    }

    /* k = 5 < p = 6 drops one pure-noise direction of X. That direction
     * carries no information about Y, so the analytic value still applies. */
    double got = estimate(X, Y, N_BIG, P, Q, 5, MI_DEFAULT_RIDGE, NULL);
    double e = rel_err(got, want);
    ok(e < REL_TOL, "latent: MI %.4f vs analytic %.4f (rel err %.2g%%)", got, want, 100 * e);
    diag("latent: N=%d, rel err %.3g%%", N_BIG, 100 * e);
}

/* Independent X and Y: the estimate is the small-sample bias alone. */
static void test_independent(float *X, float *Y) {
    const size_t p = 8, q = 8;
    for (size_t i = 0; i < (size_t)N_BIG * p; i++)
        X[i] = (float)gauss();
    for (size_t i = 0; i < (size_t)N_BIG * q; i++)
        Y[i] = (float)(3.0 * gauss() + 1.0);

    double n_eff = N_BIG - 1 - (double)(p + q + 1) / 2.0;
    double mean = (double)(p * q) / (2.0 * n_eff);
    double sd = sqrt(2.0 * (double)(p * q)) / (2.0 * n_eff);
    double got = estimate(X, Y, N_BIG, p, q, 8, MI_DEFAULT_RIDGE, NULL);
    ok(got >= 0.0, "independent: MI %.5f is not negative", got);
    ok(fabs(got - mean) < 5.0 * sd, "independent: MI %.5f within 5 sd (%.5f) of the bias %.5f", got,
       sd, mean);
    diag("independent: MI %.3g nats, Bartlett bias %.3g, sd %.2g", got, mean, sd);
}

/* Invertible linear maps of either side leave the estimate unchanged. */
static void test_invariance(float *X, float *Y, float *X2, float *Y2) {
    const double rho[4] = {0.8, 0.6, 0.4, 0.2};
    correlated_pairs(X, Y, N_BIG, 4, rho, NULL);
    double base = estimate(X, Y, N_BIG, 4, 4, 4, 0.0, NULL);

    /* Dense, well-conditioned mixing: I + 0.4·G. */
    double A[16], B[16];
    for (int i = 0; i < 16; i++) {
        A[i] = (i % 5 == 0 ? 1.0 : 0.0) + 0.4 * gauss();
        B[i] = (i % 5 == 0 ? 1.0 : 0.0) + 0.4 * gauss();
    }
    transform(X2, X, A, N_BIG, 4, 4);
    transform(Y2, Y, B, N_BIG, 4, 4);
    double mixed = estimate(X2, Y2, N_BIG, 4, 4, 4, 0.0, NULL);
    ok(rel_err(mixed, base) < 1e-5, "invariance: mixed sides %.8f vs %.8f", mixed, base);

    /* Power-of-two scales are exact in float, and the relative ridge makes
     * the default estimate scale-free. */
    base = estimate(X, Y, N_BIG, 4, 4, 4, MI_DEFAULT_RIDGE, NULL);
    for (size_t i = 0; i < (size_t)N_BIG * 4; i++) {
        X2[i] = X[i] * 1024.0f;
        Y2[i] = Y[i] / 1024.0f;
    }
    double scaled = estimate(X2, Y2, N_BIG, 4, 4, 4, MI_DEFAULT_RIDGE, NULL);
    ok(rel_err(scaled, base) < 1e-12, "invariance: scaling by 1024 and 1/1024 (%.3g)",
       rel_err(scaled, base));

    /* Shifting a side changes nothing after centring. */
    for (size_t i = 0; i < (size_t)N_BIG * 4; i++)
        X2[i] = X[i] + 5.0f;
    double shifted = estimate(X2, Y, N_BIG, 4, 4, 4, MI_DEFAULT_RIDGE, NULL);
    ok(rel_err(shifted, base) < 1e-5, "invariance: shifted X %.8f vs %.8f", shifted, base);

    /* MI is symmetric. */
    double swapped = estimate(Y, X, N_BIG, 4, 4, 4, MI_DEFAULT_RIDGE, NULL);
    ok(rel_err(swapped, base) < 1e-9, "symmetry: MI(Y, X) %.8f vs MI(X, Y) %.8f", swapped, base);
}

/* Six pairs whose variance falls with the index, so the k leading principal
 * components of each side are its first k coordinates. The estimate at k is
 * then the analytic MI of the first k pairs. A rotation of either side turns
 * its principal components with it and leaves the estimate unchanged. */
static void test_pca(float *X, float *Y, float *X2, float *Y2) {
    const double rho[6] = {0.8, 0.6, 0.4, 0.7, 0.5, 0.3};
    const double scale[6] = {6, 5, 4, 3, 2, 1};
    correlated_pairs(X, Y, N_BIG, 6, rho, scale);

    double prev = 0.0, worst = 0.0;
    int rising = 1;
    for (size_t k = 1; k <= 6; k++) {
        double want = mi_of_rho(rho, k);
        double got = estimate(X, Y, N_BIG, 6, 6, k, MI_DEFAULT_RIDGE, NULL);
        double e = rel_err(got, want);
        ok(e < REL_TOL, "pca: k=%zu MI %.4f vs analytic %.4f of the first %zu pairs", k, got, want,
           k);
        worst = fmax(worst, e);
        if (!(got > prev))
            rising = 0;
        prev = got;
    }
    ok(rising, "pca: MI grows with every component kept");
    diag("pca: N=%d, worst rel err over k=1..6 %.3g%%", N_BIG, 100 * worst);

    double Qx[36], Qy[36];
    random_orthogonal(Qx, 6);
    random_orthogonal(Qy, 6);
    transform(X2, X, Qx, N_BIG, 6, 6);
    transform(Y2, Y, Qy, N_BIG, 6, 6);
    double base = estimate(X, Y, N_BIG, 6, 6, 3, MI_DEFAULT_RIDGE, NULL);
    double rotated = estimate(X2, Y2, N_BIG, 6, 6, 3, MI_DEFAULT_RIDGE, NULL);
    ok(rel_err(rotated, base) < 1e-5, "pca: rotations leave k=3 unchanged (%.8f vs %.8f)", rotated,
       base);
}

/* More features than tokens goes through the Gram matrix: X = Z·W with
 * Z (N, 10) and W (10, 500) has the row space of Z, so with k = 10 it must
 * give what Z itself gives through the covariance route. */
static void test_gram_route(void) {
    enum { N = 300, R = 10, P = 500, Q = 12 };
    float *Z = malloc(sizeof(float) * N * R), *Xw = malloc(sizeof(float) * N * P);
    float *Y = malloc(sizeof(float) * N * Q);
    double *W = malloc(sizeof(double) * R * P);
    if (!Z || !Xw || !Y || !W) {
        ok(0, "gram: allocate test data");
        free(Z);
        free(Xw);
        free(Y);
        free(W);
        return;
    }
    for (size_t i = 0; i < (size_t)N * R; i++)
        Z[i] = (float)gauss();
    for (size_t i = 0; i < (size_t)R * P; i++)
        W[i] = gauss();
    transform(Xw, Z, W, N, R, P);
    for (size_t t = 0; t < N; t++)
        for (size_t j = 0; j < Q; j++)
            Y[t * Q + j] = (float)(0.6 * Z[t * R + j % R] + gauss());

    double direct = estimate(Z, Y, N, R, Q, R, 0.0, NULL);
    double wide = estimate(Xw, Y, N, P, Q, R, 0.0, NULL);
    ok(rel_err(wide, direct) < 1e-4, "gram: 500 features via Gram %.6f vs 10 via covariance %.6f",
       wide, direct);
    double wide_swapped = estimate(Y, Xw, N, Q, P, R, 0.0, NULL);
    ok(rel_err(wide_swapped, direct) < 1e-4, "gram: wide side as Y %.6f", wide_swapped);
    free(Z);
    free(Xw);
    free(Y);
    free(W);
}

static void test_edges(void) {
    enum { N = 64, P = 3 };
    float X[N * P], C[N * P];
    for (int i = 0; i < N * P; i++) {
        X[i] = (float)gauss();
        C[i] = 2.5f;
    }

    double rho[P];
    double got = estimate(X, X, N, P, P, P, 0.0, rho);
    double want = -0.5 * P * log1p(-MI_RHO_MAX * MI_RHO_MAX);
    ok_near(got, want, 1e-9 * want, "identical sides clamp every rho to 1 - 1e-6");
    ok(rho[0] == MI_RHO_MAX && rho[P - 1] == MI_RHO_MAX, "clamped rho are returned");

    got = estimate(X, C, N, P, P, 2, MI_DEFAULT_RIDGE, rho);
    ok(got == 0.0 && rho[0] == 0.0, "a constant side gives MI 0");

    lrc_error err;
    mi_cca est;
    ok(mi_cca_init(&est, N, P, P, P + 1, 0.0, &err) < 0 && strstr(err.msg, "k = 4"),
       "k above min(p, q) is rejected");
    ok(mi_cca_init(&est, 3, P, P, 3, 0.0, &err) < 0, "k above N - 1 is rejected");
    ok(mi_cca_init(&est, N, P, P, 0, 0.0, &err) < 0, "k = 0 is rejected");
    ok(mi_cca_init(&est, 1, P, P, 1, 0.0, &err) < 0, "one token is rejected");
    ok(mi_cca_init(&est, N, P, P, 1, -1.0, &err) < 0 && strstr(err.msg, "ridge"),
       "negative ridge is rejected");
    mi_cca_free(&est);

    X[7 * P + 2] = NAN;
    if (mi_cca_init(&est, N, P, P, 2, MI_DEFAULT_RIDGE, &err) == 0) {
        double mi = 1.0;
        int rc = mi_gaussian_cca(&est, C, X, &mi, NULL, &err);
        ok(rc < 0 && strstr(err.msg, "Y row 7 column 2"), "NaN input is named by row and column");
        ok(mi == 0.0, "a failed estimate leaves MI 0");
        mi_cca_free(&est);
    } else {
        ok(0, "mi_cca_init: %s", err.msg);
    }
    mi_cca_free(&est);
}

/* Analytic MI at dimensions 8, 16 and 32 from 4096 samples, within 5%.
 * Pairs (x_i, y_i) get correlations spread evenly from 0.9 down to 0.5, so
 * every direction carries information (0.14 to 0.83 nats each). Each side is
 * then mixed by its own dense matrix I + G/(2√d), whose eigenvalues lie
 * within about 0.5 of 1. Invertible linear maps leave MI unchanged, so the
 * analytic value is still −½ Σ log(1 − ρ_i²): 3.17, 6.21 and 12.31 nats.
 *
 * Expected sampling error at N = 4096: an upward bias of about d²/(2N) nats
 * (0.25%, 0.50% and 1.0% of the MI) and a standard deviation of about
 * sqrt(Σ ρ_i²/N) (1.0%, 0.7% and 0.5%). Over 200 seeds of this generator
 * the relative error had mean +0.13%, +0.45%, +1.0%, standard deviation
 * 1.0%, 0.69%, 0.50% and worst case 3.8%, 2.5%, 2.8%. The 5% bound is thus
 * at least 4.8 standard deviations from the mean. */
static void test_acceptance_dims(float *X, float *Y, float *X2, float *Y2) {
    enum { N = 4096 };
    const size_t dims[3] = {8, 16, 32};
    for (int c = 0; c < 3; c++) {
        size_t d = dims[c];
        double rho[32], A[32 * 32], B[32 * 32];
        for (size_t i = 0; i < d; i++)
            rho[i] = 0.9 - 0.4 * (double)i / (double)(d - 1);
        for (size_t i = 0; i < d * d; i++) {
            A[i] = (i % (d + 1) == 0 ? 1.0 : 0.0) + 0.5 / sqrt((double)d) * gauss();
            B[i] = (i % (d + 1) == 0 ? 1.0 : 0.0) + 0.5 / sqrt((double)d) * gauss();
        }
        correlated_pairs(X, Y, N, d, rho, NULL);
        transform(X2, X, A, N, d, d);
        transform(Y2, Y, B, N, d, d);

        double want = mi_of_rho(rho, d);
        double got = estimate(X2, Y2, N, d, d, d, MI_DEFAULT_RIDGE, NULL);
        double e = rel_err(got, want);
        ok(e < 0.05, "acceptance: d=%zu, N=4096 MI %.4f vs analytic %.4f (rel err %.2f%%)", d, got,
           want, 100 * e);
    }
}

int main(void) {
    size_t n = (size_t)N_BIG * 8;
    float *X = malloc(n * sizeof *X), *Y = malloc(n * sizeof *Y);
    float *X2 = malloc(n * sizeof *X2), *Y2 = malloc(n * sizeof *Y2);
    if (!X || !Y || !X2 || !Y2) {
        free(X);
        free(Y);
        free(X2);
        free(Y2);
        skip_all("out of memory for the synthetic data");
    }

    test_pairs(X, Y);
    test_latent(X, Y);
    test_independent(X, Y);
    test_invariance(X, Y, X2, Y2);
    test_pca(X, Y, X2, Y2);
    test_gram_route();
    test_edges();
    test_acceptance_dims(X, Y, X2, Y2);

    free(X);
    free(Y);
    free(X2);
    free(Y2);
    return done_testing();
}
