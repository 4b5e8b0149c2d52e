/*
 * Aligned, zeroed float buffers on top of aligned_alloc. The size is rounded
 * up to a multiple of the alignment, as C11 requires of aligned_alloc.
 */
#include "core/tensor.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

float *tensor_alloc(size_t n, const char *what, lrc_error *err) {
    if (n == 0 || n > (SIZE_MAX - TENSOR_ALIGN) / sizeof(float)) {
        lrc_errorf(err, "%s: invalid buffer size of %zu floats", what, n);
        return NULL;
    }

    size_t bytes = (n * sizeof(float) + TENSOR_ALIGN - 1) / TENSOR_ALIGN * TENSOR_ALIGN;
    float *p = aligned_alloc(TENSOR_ALIGN, bytes);
    if (!p) {
        lrc_errorf(err, "%s: out of memory allocating %zu bytes; use a smaller context", what,
                   bytes);
        return NULL;
    }
    memset(p, 0, bytes);
    return p;
}

void tensor_free(float *p) {
    free(p);
}
