/*
 * The trainer's state, shared by bpe_train.c (counting and merging) and
 * bpe_write.c (the JSON files). Every token string is stored in its
 * byte-level form, the form tokenizer.json uses: each byte is replaced by
 * one printable character of the GPT-2 alphabet, so a string is valid UTF-8
 * and contains no space.
 */
#ifndef LRC_TOKENIZER_TRAIN_BPE_INTERNAL_H
#define LRC_TOKENIZER_TRAIN_BPE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/tok_internal.h"
#include "tokenizer_train/bpe_train.h"

/* One token of the vocabulary: a slice of bpe_trainer.text. */
typedef struct bpe_token {
    size_t off, len;     /* byte-level string (for a special token: its content) */
    size_t raw_len;      /* length in bytes of text the token stands for */
    int32_t left, right; /* the merge that made it; -1 for specials and bytes */
} bpe_token;

/* A distinct pre-tokenized word: a slice of bpe_trainer.text and its count. */
typedef struct bpe_word {
    size_t off, len;
    uint64_t count;
    uint64_t hash;
} bpe_word;

/* A learnt merge, in merge order. */
typedef struct bpe_merge {
    int32_t left, right, merged;
} bpe_merge;

struct bpe_trainer {
    size_t n_specials;
    bpe_token *tokens; /* [n_tokens]: specials, 256 bytes, merged tokens */
    size_t n_tokens, cap_tokens;
    tok_buf text; /* token strings and word strings */

    int32_t *token_slot; /* hash table of token ids keyed by string; -1 empty */
    size_t n_token_slots;

    bpe_word *words; /* [n_words] */
    size_t n_words, cap_words;
    int32_t *word_slot; /* hash table of word indices keyed by string; -1 empty */
    size_t n_word_slots;
    uint64_t total_words;

    bpe_merge *merges; /* [n_merges] */
    size_t n_merges;
    bool trained; /* bpe_trainer_train has run; no more text may be added */

    /* Pre-tokenizer: Sequence[Digits(individual), ByteLevel(regex, no prefix space)]. */
    tok_step pre_steps[2];
    tok_step pre_seq;
    tok_regex *gpt2_re;
    bool special_first_byte[256];
};

#endif
