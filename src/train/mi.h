/*
 * Gaussian mutual information between two sets of activations on the same N
 * tokens (a teacher and a student residual stream), from canonical
 * correlations:
 *
 *   I(X; Y) = −½ Σ_i log(1 − ρ_i²)   nats
 *
 * which is exact when X and Y are jointly Gaussian. Each side is centred and
 * reduced to its k leading principal components. The component scores are
 * uncorrelated, so their covariance is the diagonal of eigenvalues e_i and
 * whitening is a division by sqrt(e_i + λ). The ρ_i are the singular values
 * of the whitened cross-covariance
 *
 *   M_ij = (Zxᵀ Zy)_ij / sqrt((ex_i + λx) · (ey_j + λy))
 *
 * clamped to at most 1 − 1e-6. The ridge λ of each side is relative:
 * λ = ridge · mean(e_1..e_k), so the estimate does not depend on the scale
 * of either side. Everything runs in double. A side with p <= N is reduced
 * through its (p, p) covariance, a side with p > N through its (N, N) Gram
 * matrix, which gives the same scores.
 *
 * mi_cca_init sizes every scratch buffer and LAPACK workspace for (N, p, q,
 * k), so mi_gaussian_cca makes no allocation of its own.
 */
#ifndef LRC_TRAIN_MI_H
#define LRC_TRAIN_MI_H

#include <stddef.h>

#include "core/error.h"

/* A ridge small enough to leave well-conditioned estimates unchanged to about
 * 1e-6 relative, large enough to keep rank-deficient sides finite. */
#define MI_DEFAULT_RIDGE 1e-6

/* Upper clamp of each canonical correlation, so that one perfectly matched
 * direction adds at most −½ log(1 − (1 − 1e-6)²) ≈ 6.6 nats. */
#define MI_RHO_MAX (1.0 - 1e-6)

typedef struct mi_scratch mi_scratch;

typedef struct mi_cca {
    size_t N;     /* tokens */
    size_t p, q;  /* widths of X and Y */
    size_t k;     /* principal components kept per side, 1 <= k <= min(p, q, N − 1) */
    double ridge; /* relative ridge, >= 0 */
    mi_scratch *scratch;
} mi_cca;

/* Validate the sizes and allocate every buffer the estimate needs. On error
 * est is left empty (safe to pass to mi_cca_free). */
int mi_cca_init(mi_cca *est, size_t N, size_t p, size_t q, size_t k, double ridge, lrc_error *err);

/* Estimate the Gaussian MI between X and Y in nats into *mi, and the k
 * canonical correlations in descending order into rho (may be NULL). A side
 * with zero variance gives MI 0. Fails on a non-finite input value (naming
 * its row and column) or a LAPACK failure.
 *   X   (N, p) row-major
 *   Y   (N, q) row-major
 *   rho (k) */
int mi_gaussian_cca(mi_cca *est, const float *X, const float *Y, double *mi, double *rho,
                    lrc_error *err);

/* Free the scratch; est may be empty. */
void mi_cca_free(mi_cca *est);

#endif
