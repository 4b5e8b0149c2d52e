/*
 * Float buffers for weights, activations and scratch. Every buffer is
 * 64-byte aligned (one cache line, and the widest SIMD load) and zeroed, so
 * BLAS and vector loops see aligned rows and a fresh buffer never holds
 * garbage. Buffers are freed with tensor_free, never with free() alone on
 * platforms where the two differ.
 */
#ifndef LRC_CORE_TENSOR_H
#define LRC_CORE_TENSOR_H

#include <stddef.h>

#include "core/error.h"

#define TENSOR_ALIGN 64

/* Allocate n zeroed floats aligned to TENSOR_ALIGN bytes. Returns NULL and
 * fills err (naming `what`) when n is 0, overflows or the memory is missing. */
float *tensor_alloc(size_t n, const char *what, lrc_error *err);

/* Free a buffer from tensor_alloc; NULL is accepted. */
void tensor_free(float *p);

#endif
