/*
 * Shared internals of the tokenizer modules. A tokenizer is a vocabulary
 * (id -> piece, piece -> id), a merge table ((left, right) -> merged id and
 * rank, lower rank merging first), added tokens matched in the raw text, and
 * three pipelines of tok_step: normalizer, pre-tokenizer and decoder. Every
 * file kind is loaded into this one shape; the loaders differ, the BPE engine
 * is shared. Strings are byte strings with explicit lengths (U+0000 is legal).
 */
#ifndef LRC_MODEL_TOK_INTERNAL_H
#define LRC_MODEL_TOK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "model/tokenizer.h"

/* ---- growable byte buffer and piece lists ------------------------------ */

typedef struct tok_buf {
    char *data;
    size_t len, cap;
} tok_buf;

int tok_buf_reserve(tok_buf *b, size_t extra);
int tok_buf_append(tok_buf *b, const void *p, size_t n);
void tok_buf_free(tok_buf *b);

/* A list of byte strings stored back to back in one buffer. */
typedef struct tok_pieces {
    tok_buf text;
    size_t *off, *len; /* [n] */
    size_t n, cap;
} tok_pieces;

int tok_pieces_add(tok_pieces *p, const char *s, size_t n);
/* Start a piece whose bytes are appended to p->text by the caller, then end it. */
int tok_pieces_begin(tok_pieces *p);
void tok_pieces_end(tok_pieces *p);
void tok_pieces_clear(tok_pieces *p);
void tok_pieces_free(tok_pieces *p);
#define TOK_PIECE(p, i) ((p)->text.data + (p)->off[i])

/* ---- vocabulary --------------------------------------------------------- */

/* SentencePiece piece types; 0 for kinds that have none. */
enum {
    TOK_PIECE_NORMAL = 1,
    TOK_PIECE_UNKNOWN,
    TOK_PIECE_CONTROL,
    TOK_PIECE_USER,
    TOK_PIECE_UNUSED,
    TOK_PIECE_BYTE
};

typedef struct tok_vocab {
    char **piece;     /* [V] NUL-terminated copies, NULL for ids that have no piece */
    uint32_t *len;    /* [V] byte length of piece */
    float *score;     /* [V] SentencePiece / llama2.c score, 0 otherwise */
    uint8_t *type;    /* [V] TOK_PIECE_* */
    int32_t n;        /* V: ids are 0..n-1 */
    int32_t *slot;    /* hash table of ids keyed by piece; -1 marks an empty slot */
    size_t n_slots;   /* power of two */
    size_t n_indexed; /* ids in the hash table */
} tok_vocab;

int tok_vocab_init(tok_vocab *v, int32_t n);
/* Store piece s as id (which must be < v->n); index it for lookup when indexed.
 * A piece already indexed keeps its first id. */
int tok_vocab_set(tok_vocab *v, int32_t id, const char *s, size_t len, bool indexed);
int tok_vocab_grow(tok_vocab *v, int32_t n);
int32_t tok_vocab_find(const tok_vocab *v, const char *s, size_t len);
void tok_vocab_free(tok_vocab *v);

/* ---- merge table -------------------------------------------------------- */

typedef struct tok_merges {
    uint64_t *key;   /* (left << 32 | right) + 1, 0 for an empty slot */
    int32_t *merged; /* id of left + right */
    int32_t *rank;   /* lower merges first; equal ranks merge leftmost first */
    size_t n_slots, n;
} tok_merges;

int tok_merges_add(tok_merges *m, int32_t left, int32_t right, int32_t merged, int32_t rank);
/* Returns the slot index or -1. */
long tok_merges_find(const tok_merges *m, int32_t left, int32_t right);
void tok_merges_free(tok_merges *m);
/* Build merges from scores: every piece that splits into two indexed pieces becomes a merge,
 * ranked by descending score of the result. allowed (may be NULL) filters the results. */
int tok_merges_from_scores(tok_merges *m, const tok_vocab *v,
                           bool (*allowed)(const tok_vocab *, int32_t));

/* Merge adjacent symbols in place, lowest (rank, position) first, until no pair is in the
 * table; *n becomes the new count. Negative ids never merge. */
int tok_bpe_merge(const tok_merges *m, int32_t *sym, size_t *n, lrc_error *err);

/* ---- pipeline steps ----------------------------------------------------- */

typedef enum tok_step_kind {
    /* normalizers */
    TOK_NORM_SEQUENCE,
    TOK_NORM_PREPEND,
    TOK_NORM_REPLACE,
    TOK_NORM_NFC,
    TOK_NORM_NFD,
    TOK_NORM_NFKC,
    TOK_NORM_NFKD,
    TOK_NORM_LOWERCASE,
    TOK_NORM_STRIP,
    /* pre-tokenizers */
    TOK_PRE_SEQUENCE,
    TOK_PRE_SPLIT,
    TOK_PRE_DIGITS,
    TOK_PRE_BYTELEVEL,
    TOK_PRE_METASPACE,
    TOK_PRE_WHITESPACE,
    TOK_PRE_WHITESPACE_SPLIT,
    /* decoders */
    TOK_DEC_SEQUENCE,
    TOK_DEC_BYTELEVEL,
    TOK_DEC_REPLACE,
    TOK_DEC_BYTEFALLBACK,
    TOK_DEC_FUSE,
    TOK_DEC_STRIP,
    TOK_DEC_METASPACE
} tok_step_kind;

/* Split behaviours of the Hugging Face Split pre-tokenizer. */
typedef enum tok_split_behavior {
    TOK_SPLIT_REMOVED,
    TOK_SPLIT_ISOLATED,
    TOK_SPLIT_MERGED_WITH_PREVIOUS,
    TOK_SPLIT_MERGED_WITH_NEXT,
    TOK_SPLIT_CONTIGUOUS
} tok_split_behavior;

/* Metaspace prepend schemes. */
enum { TOK_PREPEND_ALWAYS, TOK_PREPEND_FIRST, TOK_PREPEND_NEVER };

typedef struct tok_regex tok_regex;

typedef struct tok_step {
    tok_step_kind kind;
    char *text; /* Prepend/Replace content, Metaspace replacement, Strip content */
    size_t text_len;
    char *pattern; /* Replace/Split pattern written as a plain string */
    size_t pattern_len;
    tok_regex *re; /* Replace/Split pattern written as a regex */
    tok_split_behavior behavior;
    bool invert;
    bool individual_digits;       /* Digits */
    bool add_prefix_space;        /* ByteLevel */
    bool use_regex;               /* ByteLevel: split with the GPT-2 regex */
    bool split;                   /* Metaspace: split at each replacement */
    bool strip_left, strip_right; /* Strip normalizer */
    int scheme;                   /* Metaspace prepend scheme */
    int start, stop;              /* Strip decoder */
    struct tok_step *sub;         /* [n_sub] for Sequence */
    size_t n_sub;
} tok_step;

void tok_step_free(tok_step *s); /* frees the members, not s itself */

/* Compile an Oniguruma-style pattern with PCRE2 (UTF, UCP, JIT when available); \s and \S
 * are rewritten to Unicode White_Space, the class Rust `tokenizers` uses. */
tok_regex *tok_regex_compile(const char *pattern, size_t len, lrc_error *err);
void tok_regex_free(tok_regex *re);
/* Match state for one caller (one per thread); tok_regex_next allocates it on first use. */
typedef struct tok_match {
    void *data;          /* pcre2_match_data */
    const char *checked; /* subject already checked as valid UTF-8 ... */
    size_t checked_len;  /* ... and its length, so later calls skip the O(n) check */
} tok_match;
/* Find the next match in s[0..n) at or after start. Returns 1 with [*mstart, *mend), 0 when
 * none, -1 on a matching error. */
int tok_regex_next(const tok_regex *re, tok_match *m, const char *s, size_t n, size_t start,
                   size_t *mstart, size_t *mend, lrc_error *err);
void tok_match_free(tok_match *m);

/* The GPT-2 pre-tokenizer regex, compiled once per tokenizer that uses it. */
extern const char tok_gpt2_pattern[];

/* Append in with every non-overlapping occurrence of s->pattern (or match of s->re) replaced
 * by s->text. */
int tok_replace_all(const tok_step *s, const char *in, size_t n, tok_buf *out, lrc_error *err);
int tok_normalize(const tok_step *s, const char *in, size_t n, tok_buf *out, lrc_error *err);
/* seg_at_start: the piece list starts at offset 0 of the input (Metaspace "first"). */
int tok_pre_tokenize(const tok_step *s, const tok_regex *gpt2_re, tok_pieces *p, bool seg_at_start,
                     lrc_error *err);
int tok_decode_steps(const tok_step *s, tok_pieces *tokens, lrc_error *err);

/* ---- byte-level (GPT-2) alphabet ----------------------------------------- */

/* UTF-8 of the character standing for byte b; returns its length (1 or 2). */
size_t tok_bytelevel_char(uint8_t b, char out[2]);
/* Byte for code point c, or -1 when c is not in the alphabet. */
int tok_bytelevel_byte(uint32_t c);

/* ---- UTF-8 helpers ------------------------------------------------------- */

/* Length of the UTF-8 sequence starting at s[0] (1 for an invalid lead byte), clamped to n. */
size_t tok_utf8_len(const char *s, size_t n);
/* Decode one code point; returns its length, or 0 when invalid. */
size_t tok_utf8_decode(const char *s, size_t n, uint32_t *cp);
/* Append s with every maximal invalid subpart replaced by U+FFFD. */
int tok_utf8_lossy(tok_buf *out, const char *s, size_t n);
/* Parse "<0xXX>" into a byte; -1 when s is not of that form. */
int tok_parse_byte_piece(const char *s, size_t n);

/* ---- added tokens ------------------------------------------------------- */

typedef struct tok_added {
    char *content;
    size_t len;
    int32_t id;
    bool special, lstrip, rstrip, single_word, normalized;
} tok_added;

/* ---- the tokenizer ------------------------------------------------------- */

struct tokenizer {
    tokenizer_kind kind;
    char *path; /* file the tokenizer was read from, for messages */

    tok_vocab vocab;
    tok_merges merges;

    /* BPE model options (tokenizer.json) */
    bool byte_fallback, fuse_unk, ignore_merges;
    int32_t unk_id;
    int32_t byte_id[256]; /* id of <0xXX>, -1 when absent */

    tok_added *added; /* [n_added], longest content first */
    size_t n_added;
    bool added_first_byte[256]; /* some added token starts with this byte */
    int32_t *user_ids;          /* [n_user] SentencePiece user-defined pieces */
    size_t n_user;

    tok_step *normalizer, *pre_tokenizer, *decoder; /* NULL when absent */
    tok_regex *gpt2_re;

    /* post-processor for one sequence: prefix ids, the text, suffix ids */
    int32_t *post_prefix, *post_suffix;
    size_t n_post_prefix, n_post_suffix;

    /* SentencePiece normalizer settings (tokenizer.model, tokenizer.bin) */
    bool add_dummy_prefix, remove_extra_ws, escape_ws, ws_as_suffix;
    char *unk_surface;

    int32_t bos_id, eos_id;
};

int tok_load_hf_json(tokenizer *t, const char *path, lrc_error *err);
int tok_load_spm(tokenizer *t, const char *path, lrc_error *err);
int tok_load_llama2c(tokenizer *t, const char *path, lrc_error *err);
int tok_load_gpt2(tokenizer *t, const char *encoder_path, const char *vocab_path, lrc_error *err);

int tok_encode_hf(const tokenizer *t, const char *text, size_t len, bool add_special, int32_t **ids,
                  size_t *n_ids, lrc_error *err);
int tok_encode_spm(const tokenizer *t, const char *text, size_t len, bool add_special,
                   int32_t **ids, size_t *n_ids, lrc_error *err);
int tok_encode_llama2c(const tokenizer *t, const char *text, size_t len, bool add_special,
                       int32_t **ids, size_t *n_ids, lrc_error *err);

/* Copy n bytes of s into a new NUL-terminated string (strdup is not in C11). */
char *tok_strndup(const char *s, size_t n);

/* Read a whole file; *data is NUL-terminated. */
int tok_read_file(const char *path, char **data, size_t *len, lrc_error *err);

/* Growable id list. */
typedef struct tok_ids {
    int32_t *v;
    size_t n, cap;
} tok_ids;
int tok_ids_push(tok_ids *a, int32_t id);

#endif
