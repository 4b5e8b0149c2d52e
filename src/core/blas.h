/*
 * Row-major matrix products with PyTorch's (out, in) weight layout: a linear
 * layer computes y = x · Wᵀ (+ bias). One token (T = 1) goes through our own
 * matrix-vector loop, which streams W once and is bound by memory bandwidth;
 * several tokens go through OpenBLAS's cblas_sgemm, which reuses each loaded
 * weight across the T rows and is bound by arithmetic.
 */
#ifndef LRC_CORE_BLAS_H
#define LRC_CORE_BLAS_H

#include <stddef.h>

/* y = x · Wᵀ + bias, overwriting y.
 *   y    (T, out)
 *   x    (T, in)
 *   W    (out, in)
 *   bias (out), or NULL */
void blas_linear_forward(float *y, const float *x, const float *W, const float *bias, size_t T,
                         size_t in, size_t out);

/* y += x · Wᵀ, adding into y (a residual connection without a second pass).
 *   y (T, out)
 *   x (T, in)
 *   W (out, in) */
void blas_linear_accumulate(float *y, const float *x, const float *W, size_t T, size_t in,
                            size_t out);

/* The backward pass of blas_linear_forward. Like every backward in src/core
 * it adds into its gradient outputs (callers zero them once per step) and
 * skips an output passed as NULL:
 *   dx += dy · W,  dW += dyᵀ · x,  dbias += Σ_t dy[t]
 *   dx    (T, in), or NULL
 *   dW    (out, in), or NULL
 *   dbias (out), or NULL
 *   dy    (T, out)
 *   x     (T, in)
 *   W     (out, in) */
void blas_linear_backward(float *dx, float *dW, float *dbias, const float *dy, const float *x,
                          const float *W, size_t T, size_t in, size_t out);

/* Set the number of threads OpenBLAS uses; n <= 0 leaves its default
 * (OPENBLAS_NUM_THREADS, or one thread per core). */
void blas_set_threads(int n);

/* Return the number of threads OpenBLAS will use. */
int blas_get_threads(void);

#endif
