/*
 * Internal interface between task.c and the four family generators. Each
 * generator fills question, answer, cot, attempt, the reflections, reflect
 * and the synthesis's first line (`fix`, without the reasoning, which
 * task.c appends from cot). Strings are malloc'd; on failure the generator
 * returns -1 and task.c frees whatever was set.
 */
#ifndef LRC_CORPUS_FAMILY_H
#define LRC_CORPUS_FAMILY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/rng.h"
#include "corpus/corpus.h"
#include "corpus/text.h"

typedef struct family_out {
    corpus_task *task;
    char *review; /* first line of the synthesis */
} family_out;

int arith_make(uint64_t *rng, bool mistake, family_out *out);
int commonsense_make(uint64_t *rng, bool mistake, family_out *out);
int ethics_make(uint64_t *rng, bool mistake, family_out *out);
int logic_make(uint64_t *rng, bool mistake, family_out *out);

/* A uniform integer in [0, n) from one draw (multiply-shift; the bias is
 * below n / 2^32, far too small to matter for text generation). */
static inline uint32_t rng_below(uint64_t *rng, uint32_t n) {
    return (uint32_t)(((rng_splitmix64(rng) >> 32) * (uint64_t)n) >> 32);
}

/* A uniform integer in [lo, hi]. */
static inline int rng_range(uint64_t *rng, int lo, int hi) {
    return lo + (int)rng_below(rng, (uint32_t)(hi - lo + 1));
}

/* Shuffle idx[0..n) in place (Fisher-Yates). */
static inline void rng_shuffle(uint64_t *rng, int *idx, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rng_below(rng, (uint32_t)i + 1);
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

/* Pick k distinct indexes below n (k <= 8) into out. */
void rng_distinct(uint64_t *rng, int n, int k, int *out);

/* Person names shared by the families (distinct, capitalised, no pronouns
 * are ever needed because the text repeats names). */
extern const char *const corpus_names[];
extern const int corpus_n_names;

/* Standard closing lines of a reflection that found nothing. */
#define NO_PROBLEM "No problem found."

/* Closing sentence of a generic reflection that found nothing. */
#define ATTEMPT_CORRECT "The attempt is correct."

/* "Synthesis" first lines. */
#define REVIEW_OK "The reviews find no problem, so the first attempt stands."

/* Move a text_buf into *dst; returns -1 when the buffer failed. */
int take_text(text_buf *b, char **dst);

/* End the alternative-solutions reflection in b and move it into *dst: on a
 * mistake "The attempt says BAD, which does not fit. The answer is GOOD.",
 * else agreement and NO_PROBLEM. Returns -1 when the buffer failed. */
int take_alternative(text_buf *b, bool mistake, const char *bad, const char *good, char **dst);

/* strdup that returns -1 on failure. */
int dup_text(const char *s, char **dst);

#endif
