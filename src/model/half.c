/*
 * F16 and BF16 conversions. F16 is 1 sign, 5 exponent (bias 15) and 10
 * mantissa bits; BF16 is the upper half of an F32 (1, 8, 7). Every F16 value
 * is exactly representable in F32, so widening never rounds; narrowing
 * rounds to nearest even and keeps NaNs NaN (quiet) rather than letting
 * the payload truncate to an infinity.
 */
#include "model/half.h"

#include <string.h>

static uint32_t f32_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static float f32_from_bits(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

float half_f16_to_f32(uint16_t bits) {
    uint32_t sign = (uint32_t)(bits & 0x8000u) << 16;
    uint32_t exp = (bits >> 10) & 0x1fu;
    uint32_t mant = bits & 0x3ffu;

    if (exp == 0x1f) /* infinity (mant == 0) or NaN, payload kept */
        return f32_from_bits(sign | 0x7f800000u | (mant << 13));
    if (exp != 0) /* normal: rebias 15 -> 127 */
        return f32_from_bits(sign | ((exp + 112u) << 23) | (mant << 13));
    if (mant == 0)
        return f32_from_bits(sign);

    /* Subnormal: value = mant * 2^-24. Shift the leading one into the
     * implicit position; each shift lowers the exponent by one. */
    uint32_t e = 113; /* exponent field of 2^-14, the smallest normal F16 */
    while (!(mant & 0x400u)) {
        mant <<= 1;
        e--;
    }
    return f32_from_bits(sign | (e << 23) | ((mant & 0x3ffu) << 13));
}

uint16_t half_f32_to_f16(float x) {
    uint32_t u = f32_bits(x);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t exp = (u >> 23) & 0xffu;
    uint32_t mant = u & 0x7fffffu;

    if (exp == 0xff) {
        if (mant == 0)
            return sign | 0x7c00u;
        return sign | 0x7e00u | (uint16_t)(mant >> 13); /* quiet NaN, top payload bits */
    }

    int e = (int)exp - 127 + 15; /* F16 exponent field if normal */
    if (e >= 0x1f)
        return sign | 0x7c00u; /* overflow to infinity */

    if (e <= 0) {
        /* Subnormal or zero in F16: shift the full significand (with its
         * implicit one) right so that one unit is 2^-24, then round. */
        if (e < -10)
            return sign; /* below half the smallest subnormal: rounds to zero */
        uint32_t sig = mant | 0x800000u;
        int shift = 14 - e; /* 24-bit significand down to 10 bits, plus 1 - e */
        uint32_t q = sig >> shift;
        uint32_t rem = sig & ((1u << shift) - 1);
        uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1u)))
            q++; /* may carry into the smallest normal, which is correct */
        return sign | (uint16_t)q;
    }

    uint32_t q = ((uint32_t)e << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1u)))
        q++; /* a carry out of the mantissa bumps the exponent, up to infinity */
    return sign | (uint16_t)q;
}

float half_bf16_to_f32(uint16_t bits) {
    return f32_from_bits((uint32_t)bits << 16);
}

uint16_t half_f32_to_bf16(float x) {
    uint32_t u = f32_bits(x);
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x7fffffu))
        return (uint16_t)((u >> 16) | 0x0040u); /* NaN stays NaN, made quiet */
    uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)((u + rounding) >> 16);
}

void half_f16_to_f32_array(float *dst, const void *src, size_t n) {
    const uint8_t *p = src;
    for (size_t i = 0; i < n; i++)
        dst[i] = half_f16_to_f32((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
}

void half_bf16_to_f32_array(float *dst, const void *src, size_t n) {
    const uint8_t *p = src;
    for (size_t i = 0; i < n; i++)
        dst[i] = half_bf16_to_f32((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
}
