/*
 * IEEE 754 binary16 (F16) and bfloat16 (BF16) conversions to and from F32,
 * written out bit by bit so that subnormals, infinities and NaN payloads are
 * exact and do not depend on compiler support for _Float16. Narrowing rounds
 * to nearest, ties to even (the IEEE 754 default rounding).
 */
#ifndef LRC_MODEL_HALF_H
#define LRC_MODEL_HALF_H

#include <stddef.h>
#include <stdint.h>

float half_f16_to_f32(uint16_t bits);
uint16_t half_f32_to_f16(float x);
float half_bf16_to_f32(uint16_t bits);
uint16_t half_f32_to_bf16(float x);

/* Widen n little-endian 16-bit values at src (any alignment) into dst. */
void half_f16_to_f32_array(float *dst, const void *src, size_t n);
void half_bf16_to_f32_array(float *dst, const void *src, size_t n);

#endif
