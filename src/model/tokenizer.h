/*
 * Text to token ids and back. One opaque tokenizer covers four file kinds:
 * Hugging Face tokenizer.json (BPE model, byte-level or SentencePiece-style),
 * SentencePiece tokenizer.model (BPE), llama2.c tokenizer.bin, and OpenAI
 * GPT-2 encoder.json + vocab.bpe. Encoding follows the reference library of
 * each kind (Rust `tokenizers`, SentencePiece, llama2.c, GPT-2's encoder.py),
 * so ids match what the model was trained on.
 */
#ifndef LRC_MODEL_TOKENIZER_H
#define LRC_MODEL_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct tokenizer tokenizer;

/* The file format a tokenizer was loaded from. */
typedef enum tokenizer_kind {
    TOKENIZER_HF_JSON,   /* tokenizer.json */
    TOKENIZER_SPM,       /* SentencePiece tokenizer.model */
    TOKENIZER_LLAMA2C,   /* llama2.c tokenizer.bin */
    TOKENIZER_GPT2_FILES /* encoder.json + vocab.bpe */
} tokenizer_kind;

/* path: a model directory (tokenizer.json, else tokenizer.model, else
 * tokenizer.bin, else encoder.json + vocab.bpe) or one of those files directly.
 * The kind comes from the file name: a .bin whose name starts with "tokenizer" is a
 * llama2.c tokenizer; any other .bin is a llama2.c model file, whose tokenizer is the
 * tokenizer.bin in the same folder (an error names the model file when it is absent). */
int tokenizer_load(tokenizer **out, const char *path, lrc_error *err);
void tokenizer_free(tokenizer *t);

/* Encode len bytes of UTF-8 text. add_special applies the post-processor (BOS etc.).
 * *ids is malloc'd; the caller frees it. Invalid UTF-8 is rejected with the byte offset. */
int tokenizer_encode(const tokenizer *t, const char *text, size_t len, bool add_special,
                     int32_t **ids, size_t *n_ids, lrc_error *err);

/* Decode ids to UTF-8 (*text malloc'd and NUL-terminated, *len without the NUL), special
 * tokens kept. SentencePiece and llama2.c files decode control tokens (BOS, EOS) to nothing,
 * as SentencePiece does. An id outside [0, vocab size) is an error. */
int tokenizer_decode(const tokenizer *t, const int32_t *ids, size_t n, char **text, size_t *len,
                     lrc_error *err);

int tokenizer_vocab_size(const tokenizer *t);
int tokenizer_bos_id(const tokenizer *t);                      /* -1 when none */
int tokenizer_eos_id(const tokenizer *t);                      /* -1 when none */
int tokenizer_token_id(const tokenizer *t, const char *piece); /* -1 when absent */
tokenizer_kind tokenizer_get_kind(const tokenizer *t);
/* The vocabulary string of id (added-token content included), or NULL when id has none. */
const char *tokenizer_piece(const tokenizer *t, int32_t id);

/* Streaming decode for generation: feed one id at a time, get back the bytes that are now
 * complete text (incomplete UTF-8 sequences and pending byte-fallback bytes are held back). */
typedef struct tokenizer_stream tokenizer_stream;
tokenizer_stream *tokenizer_stream_new(const tokenizer *t);
/* Appends the newly complete text to *out (malloc'd, NUL-terminated, may be empty) */
int tokenizer_stream_push(tokenizer_stream *s, int32_t id, char **out, lrc_error *err);
/* The same, with the byte length in *len, for text that may contain U+0000. */
int tokenizer_stream_push_len(tokenizer_stream *s, int32_t id, char **out, size_t *len,
                              lrc_error *err);
void tokenizer_stream_free(tokenizer_stream *s);

#endif
