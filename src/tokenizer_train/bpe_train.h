/*
 * A byte-level BPE trainer that writes a Hugging Face tokenizer.json.
 *
 * Training runs in two passes. bpe_trainer_add_text splits each text at the
 * special tokens, pre-tokenizes every segment with the same steps the
 * written file names (Digits with individual digits, then ByteLevel with the
 * GPT-2 regex), and counts the distinct words. bpe_trainer_train then merges
 * over that word table: it keeps a count for every adjacent symbol pair,
 * the words each pair occurs in, and a max-heap of pairs, so one merge only
 * touches the words that contain the merged pair.
 *
 * Ids: the special tokens first (0..S-1, in the given order), then the 256
 * byte tokens (S + byte value), then one id per merge in merge order.
 * Tie rule: among pairs with the same count the pair with the smaller left
 * id merges first, then the one with the smaller right id. A merge whose
 * string equals an existing token reuses that id and adds no new id.
 */
#ifndef LRC_TOKENIZER_TRAIN_BPE_TRAIN_H
#define LRC_TOKENIZER_TRAIN_BPE_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Longest merged token, in bytes of text; longer pairs are never merged, so
 * that runs such as a long line of '=' do not turn into one token each. */
#define BPE_MAX_TOKEN_BYTES 128

/* Largest vocabulary the trainer accepts (the id limit of our tokenizer loader). */
#define BPE_MAX_VOCAB 16777216

typedef struct bpe_trainer bpe_trainer;

/* Progress of bpe_trainer_train: called after each merge with the number of
 * merges done and the number requested. */
typedef void (*bpe_progress_fn)(void *user, size_t done, size_t total);

/* specials: [n_specials] distinct, non-empty UTF-8 strings (copied). */
int bpe_trainer_new(bpe_trainer **out, const char *const *specials, size_t n_specials,
                    lrc_error *err);
void bpe_trainer_free(bpe_trainer *tr);

/* Count the words of one document of len bytes of UTF-8. Invalid UTF-8 is an
 * error naming the byte offset; the caller adds the file and line. */
int bpe_trainer_add_text(bpe_trainer *tr, const char *text, size_t len, lrc_error *err);

/* Words counted so far: every occurrence, and the distinct ones. */
uint64_t bpe_trainer_word_count(const bpe_trainer *tr);
size_t bpe_trainer_unique_words(const bpe_trainer *tr);

/* Check that vocab_size can hold the special and byte tokens and is at most
 * BPE_MAX_VOCAB, so a command can reject it before reading any text. */
int bpe_trainer_check_size(const bpe_trainer *tr, size_t vocab_size, lrc_error *err);

/* Learn merges until the vocabulary (specials + 256 bytes + merged tokens)
 * has vocab_size tokens, or no mergeable pair occurs min_frequency times
 * or more. vocab_size must be at least S + 256. progress may be NULL. */
int bpe_trainer_train(bpe_trainer *tr, size_t vocab_size, uint64_t min_frequency,
                      bpe_progress_fn progress, void *user, lrc_error *err);

/* Tokens in the vocabulary, and merges learnt (they differ when a merge
 * reused an existing token). */
size_t bpe_trainer_vocab_size(const bpe_trainer *tr);
size_t bpe_trainer_merge_count(const bpe_trainer *tr);

/* Check that json_path can be written: its folder exists and is writable,
 * and neither it nor tokenizer_config.json beside it is a folder. A command
 * calls it before training so that a bad --out fails at once. */
int bpe_output_check(const char *json_path, lrc_error *err);

/* Write the trained tokenizer to json_path and tokenizer_config.json in the
 * same folder. Each file is written to a temporary file and renamed, so a
 * failure leaves no partial file under either name. */
int bpe_trainer_write(const bpe_trainer *tr, const char *json_path, size_t model_max_length,
                      lrc_error *err);

#endif
