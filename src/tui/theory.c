/*
 * The c/√t fit and the sample count of the rank advisor (theory.h).
 */
#include "tui/theory.h"

#include <math.h>

double theory_fit_inv_sqrt(const double *t, const double *y, size_t n) {
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!(t[i] > 0) || !isfinite(y[i]))
            continue;
        num += y[i] / sqrt(t[i]);
        den += 1.0 / t[i];
    }
    return den > 0 ? num / den : 0.0;
}

size_t theory_samples(size_t n_tokens, size_t seq) {
    return seq ? n_tokens / seq : 0;
}
