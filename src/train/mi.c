/*
 * Gaussian MI from canonical correlations (the method is described in mi.h).
 * One side at a time goes through the same buffers: centre into `centred`,
 * form the covariance or Gram matrix with dsyrk, take its k largest
 * eigenpairs with dsyevr, and keep the principal-component scores. The
 * cross-covariance of the two score sets is whitened and its singular values
 * (dgesdd, values only) are the canonical correlations. LAPACK is called
 * through the column-major LAPACKE_*_work entry points, which neither
 * transpose nor allocate. The symmetric inputs need no transposition.
 */
#include "train/mi.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

struct mi_scratch {
    double *centred;    /* (N, max(p, q)) one side, centred */
    double *mean;       /* (max(p, q)) column means of that side */
    double *sym;        /* (n, n) covariance or Gram matrix; n <= max(min(p, N), min(q, N)) */
    double *eigval;     /* (n) */
    double *eigvec;     /* (n, k) column-major */
    double *zx, *zy;    /* (N, k) principal-component scores */
    double *ex, *ey;    /* (k) score variances, unnormalised (sums of squares) */
    double *cross;      /* (k, k) whitened cross-covariance */
    double *sv;         /* (k) singular values */
    double *work;       /* LAPACK workspace, shared by dsyevr and dgesdd */
    lapack_int *iwork;  /* LAPACK integer workspace */
    lapack_int *isuppz; /* (2k) dsyevr support */
    lapack_int lwork;
    lapack_int liwork;
};

/* Order of the symmetric matrix that reduces a side of width w. */
static size_t sym_order(size_t N, size_t w) {
    return w <= N ? w : N;
}

static void *alloc_doubles(size_t n) {
    return calloc(n, sizeof(double));
}

/* Ask dsyevr (range 'I', top k) and dgesdd (values only) for their
 * workspace sizes and keep the largest. */
static int query_workspace(mi_scratch *s, const size_t n_list[2], size_t k, lrc_error *err) {
    lapack_int lwork = 1, liwork = 8 * (lapack_int)k;
    double dummy = 0.0;

    for (int side = 0; side < 2; side++) {
        lapack_int n = (lapack_int)n_list[side], m = 0, iw = 0;
        double w = 0.0;
        lapack_int info = LAPACKE_dsyevr_work(LAPACK_COL_MAJOR, 'V', 'I', 'L', n, s->sym, n, 0.0,
                                              0.0, n - (lapack_int)k + 1, n, 0.0, &m, s->eigval,
                                              s->eigvec, n, s->isuppz, &w, -1, &iw, -1);
        if (info != 0)
            return lrc_errorf(err, "mi: LAPACK dsyevr workspace query failed (info %d)", (int)info);
        if ((lapack_int)w > lwork)
            lwork = (lapack_int)w;
        if (iw > liwork)
            liwork = iw;
    }

    double w = 0.0;
    lapack_int kk = (lapack_int)k;
    lapack_int info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'N', kk, kk, s->cross, kk, s->sv,
                                          &dummy, 1, &dummy, 1, &w, -1, s->iwork);
    if (info != 0)
        return lrc_errorf(err, "mi: LAPACK dgesdd workspace query failed (info %d)", (int)info);
    if ((lapack_int)w > lwork)
        lwork = (lapack_int)w;

    s->lwork = lwork;
    s->liwork = liwork;
    return 0;
}

int mi_cca_init(mi_cca *est, size_t N, size_t p, size_t q, size_t k, double ridge, lrc_error *err) {
    memset(est, 0, sizeof *est);
    if (N < 2 || p == 0 || q == 0)
        return lrc_errorf(err,
                          "mi: sizes N = %zu, p = %zu, q = %zu are invalid; expected N >= 2 "
                          "tokens and p, q >= 1",
                          N, p, q);
    size_t kmax = N - 1;
    if (p < kmax)
        kmax = p;
    if (q < kmax)
        kmax = q;
    if (k < 1 || k > kmax)
        return lrc_errorf(err, "mi: k = %zu components is invalid; expected 1 <= k <= %zu", k,
                          kmax);
    if (!(ridge >= 0.0 && isfinite(ridge)))
        return lrc_errorf(err, "mi: ridge = %g is invalid; expected a finite value >= 0", ridge);

    size_t w = p > q ? p : q;
    size_t n = sym_order(N, p) > sym_order(N, q) ? sym_order(N, p) : sym_order(N, q);
    if (N > INT_MAX || w > INT_MAX || N > SIZE_MAX / sizeof(double) / w)
        return lrc_errorf(err, "mi: %zu tokens by %zu features is too large for BLAS", N, w);

    mi_scratch *s = calloc(1, sizeof *s);
    if (!s)
        return lrc_errorf(err, "mi: out of memory for the scratch");
    est->scratch = s;
    s->centred = alloc_doubles(N * w);
    s->mean = alloc_doubles(w);
    s->sym = alloc_doubles(n * n);
    s->eigval = alloc_doubles(n);
    s->eigvec = alloc_doubles(n * k);
    s->zx = alloc_doubles(N * k);
    s->zy = alloc_doubles(N * k);
    s->ex = alloc_doubles(k);
    s->ey = alloc_doubles(k);
    s->cross = alloc_doubles(k * k);
    s->sv = alloc_doubles(k);
    s->isuppz = calloc(2 * k, sizeof(lapack_int));
    s->iwork = calloc(8 * k, sizeof(lapack_int)); /* dgesdd's size; query needs it */
    if (!s->centred || !s->mean || !s->sym || !s->eigval || !s->eigvec || !s->zx || !s->zy ||
        !s->ex || !s->ey || !s->cross || !s->sv || !s->isuppz || !s->iwork) {
        mi_cca_free(est);
        return lrc_errorf(err, "mi: out of memory for %zu tokens by %zu features", N, w);
    }

    size_t orders[2] = {sym_order(N, p), sym_order(N, q)};
    if (query_workspace(s, orders, k, err) < 0) {
        mi_cca_free(est);
        return -1;
    }
    free(s->iwork);
    s->work = alloc_doubles((size_t)s->lwork);
    s->iwork = calloc((size_t)s->liwork, sizeof(lapack_int));
    if (!s->work || !s->iwork) {
        mi_cca_free(est);
        return lrc_errorf(err, "mi: out of memory for the LAPACK workspace");
    }

    est->N = N;
    est->p = p;
    est->q = q;
    est->k = k;
    est->ridge = ridge;
    return 0;
}

void mi_cca_free(mi_cca *est) {
    mi_scratch *s = est->scratch;
    if (s) {
        free(s->centred);
        free(s->mean);
        free(s->sym);
        free(s->eigval);
        free(s->eigvec);
        free(s->zx);
        free(s->zy);
        free(s->ex);
        free(s->ey);
        free(s->cross);
        free(s->sv);
        free(s->work);
        free(s->iwork);
        free(s->isuppz);
        free(s);
    }
    memset(est, 0, sizeof *est);
}

/* Copy A (N, w) into out as double with each column's mean removed. Fails on
 * a non-finite value.
 *   out  (N, w)
 *   mean (w), scratch
 *   A    (N, w) */
static int centre(double *out, double *mean, const float *A, size_t N, size_t w, const char *name,
                  lrc_error *err) {
    memset(mean, 0, w * sizeof *mean);
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < w; j++) {
            float a = A[i * w + j];
            if (!isfinite(a))
                return lrc_errorf(err,
                                  "mi: %s row %zu column %zu is %g; expected finite activations",
                                  name, i, j, (double)a);
            mean[j] += a;
        }
    }
    for (size_t j = 0; j < w; j++)
        mean[j] /= (double)N;

    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < w; j++)
            out[i * w + j] = (double)A[i * w + j] - mean[j];
    return 0;
}

/* Reduce one centred side C (N, w) to its k principal-component scores Z
 * (N, k) and their unnormalised variances e (k), so that Zᵀ Z = diag(e).
 * Returns 1 when the side has zero variance, 0 otherwise, -1 on failure. */
static int reduce(mi_scratch *s, const double *C, size_t N, size_t w, size_t k, double *Z,
                  double *e, const char *name, lrc_error *err) {
    size_t n = sym_order(N, w);
    lapack_int ln = (lapack_int)n, m = 0;

    /* Covariance Cᵀ C (w, w) when w <= N, else Gram C Cᵀ (N, N); both share
     * their nonzero eigenvalues. dsyrk fills the row-major upper triangle,
     * which is LAPACK's column-major lower triangle. */
    if (w <= N)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)w, (int)N, 1.0, C, (int)w, 0.0,
                    s->sym, (int)n);
    else
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)N, (int)w, 1.0, C, (int)w, 0.0,
                    s->sym, (int)n);

    lapack_int info =
        LAPACKE_dsyevr_work(LAPACK_COL_MAJOR, 'V', 'I', 'L', ln, s->sym, ln, 0.0, 0.0,
                            ln - (lapack_int)k + 1, ln, LAPACKE_dlamch('S'), &m, s->eigval,
                            s->eigvec, ln, s->isuppz, s->work, s->lwork, s->iwork, s->liwork);
    if (info != 0 || m != (lapack_int)k)
        return lrc_errorf(err,
                          "mi: LAPACK dsyevr failed on the %s covariance (info %d, %d of %zu "
                          "eigenpairs)",
                          name, (int)info, (int)m, k);

    double total = 0.0;
    for (size_t j = 0; j < k; j++) {
        e[j] = s->eigval[j] > 0.0 ? s->eigval[j] : 0.0;
        total += e[j];
    }
    if (total == 0.0)
        return 1;

    if (w <= N) {
        /* Scores Z = C V, where eigvec is V (w, k) column-major, which is
         * Vᵀ (k, w) row-major. */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)k, (int)w, 1.0, C, (int)w,
                    s->eigvec, (int)w, 0.0, Z, (int)k);
    } else {
        /* Scores Z = U diag(sqrt(e)), U (N, k) the Gram eigenvectors. */
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < k; j++)
                Z[i * k + j] = s->eigvec[j * N + i] * sqrt(e[j]);
    }
    return 0;
}

int mi_gaussian_cca(mi_cca *est, const float *X, const float *Y, double *mi, double *rho,
                    lrc_error *err) {
    mi_scratch *s = est->scratch;
    size_t N = est->N, k = est->k;
    *mi = 0.0;
    if (rho)
        memset(rho, 0, k * sizeof *rho);
    if (!s)
        return lrc_errorf(err, "mi: estimator is not initialised; call mi_cca_init first");

    if (centre(s->centred, s->mean, X, N, est->p, "X", err) < 0)
        return -1;
    int flat_x = reduce(s, s->centred, N, est->p, k, s->zx, s->ex, "X", err);
    if (flat_x < 0)
        return -1;
    if (centre(s->centred, s->mean, Y, N, est->q, "Y", err) < 0)
        return -1;
    int flat_y = reduce(s, s->centred, N, est->q, k, s->zy, s->ey, "Y", err);
    if (flat_y < 0)
        return -1;
    if (flat_x || flat_y)
        return 0; /* a constant side shares no information */

    /* Relative ridges: λ = ridge · mean variance of the kept components. */
    double lx = 0.0, ly = 0.0;
    for (size_t j = 0; j < k; j++) {
        lx += s->ex[j];
        ly += s->ey[j];
    }
    lx *= est->ridge / (double)k;
    ly *= est->ridge / (double)k;

    /* Whitened cross-covariance M = Dx^-1/2 Zxᵀ Zy Dy^-1/2 (k, k). A
     * component with zero variance and no ridge has a zero row or column. */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, (int)k, (int)N, 1.0, s->zx, (int)k,
                s->zy, (int)k, 0.0, s->cross, (int)k);
    for (size_t i = 0; i < k; i++) {
        for (size_t j = 0; j < k; j++) {
            double d = (s->ex[i] + lx) * (s->ey[j] + ly);
            s->cross[i * k + j] = d > 0.0 ? s->cross[i * k + j] / sqrt(d) : 0.0;
        }
    }

    /* Singular values only; row-major M is column-major Mᵀ, which has the
     * same singular values. */
    double unused = 0.0;
    lapack_int lk = (lapack_int)k;
    lapack_int info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'N', lk, lk, s->cross, lk, s->sv,
                                          &unused, 1, &unused, 1, s->work, s->lwork, s->iwork);
    if (info != 0)
        return lrc_errorf(err, "mi: LAPACK dgesdd failed on the cross-covariance (info %d)",
                          (int)info);

    double sum = 0.0;
    for (size_t i = 0; i < k; i++) {
        double r = s->sv[i] < MI_RHO_MAX ? s->sv[i] : MI_RHO_MAX;
        if (rho)
            rho[i] = r;
        sum += log1p(-r * r);
    }
    *mi = -0.5 * sum;
    return 0;
}
