/*
 * The theory's guidance the studio draws beside its measurements, labelled
 * as guidance. Low-rank distillation theory predicts gradient norms falling
 * like O(1/√t) and an optimal rank r* = O(√n) for n training samples; the
 * constants are unknown, so the studio fits the first and shows the second
 * relative to √n.
 */
#ifndef LRC_TUI_THEORY_H
#define LRC_TUI_THEORY_H

#include <stddef.h>

/*
 * Least-squares c of y ≈ c/√t over the points with t > 0 and finite y:
 * minimising Σ (y_i − c·t_i^{-1/2})² gives c = Σ y_i·t_i^{-1/2} / Σ 1/t_i.
 * Returns 0 when no point qualifies.
 *   t (n)  y (n)
 */
double theory_fit_inv_sqrt(const double *t, const double *y, size_t n);

/* Training samples n of the rank advisor: the disjoint windows of seq
 * tokens in n_tokens, the count of sequences one pass over the data reads. */
size_t theory_samples(size_t n_tokens, size_t seq);

#endif
