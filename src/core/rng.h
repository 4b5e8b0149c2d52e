/*
 * Seeded random numbers for initialisation and data shuffling, all built on
 * splitmix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
 * generators", 2014). Every user computes exactly the same values in the same
 * order, because golden fixtures and resumed runs depend on them. Change none
 * of the arithmetic here.
 */
#ifndef LRC_CORE_RNG_H
#define LRC_CORE_RNG_H

#include <math.h>
#include <stdint.h>

#define RNG_GOLDEN_GAMMA 0x9e3779b97f4a7c15ULL

/* The splitmix64 finaliser: a bijection on 64 bits whose output bits each
 * depend on every input bit. */
static inline uint64_t rng_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Hash x statelessly: one splitmix64 step from state x. */
static inline uint64_t rng_hash64(uint64_t x) {
    return rng_mix64(x + RNG_GOLDEN_GAMMA);
}

/* Return the next value of the splitmix64 stream and advance *state. */
static inline uint64_t rng_splitmix64(uint64_t *state) {
    return rng_mix64(*state += RNG_GOLDEN_GAMMA);
}

/* Return a uniform value in (0, 1] from the top 53 bits of one draw. */
static inline double rng_uniform01(uint64_t *state) {
    return ((double)(rng_splitmix64(state) >> 11) + 1.0) * 0x1p-53;
}

/* Return a standard normal value by Box-Muller (cosine branch only) from two
 * draws. */
static inline double rng_normal(uint64_t *state) {
    double u1 = rng_uniform01(state), u2 = rng_uniform01(state);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

#endif
