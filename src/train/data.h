/*
 * Training data: one array of token ids built from a file, training windows
 * drawn from it by step and row, and a fixed held-out probe batch.
 *
 * Inputs, by format (DATA_FORMAT_AUTO picks by extension: .u32 and .bin are
 * ids, .jsonl is JSONL, anything else is plain text):
 *   text   the whole file is one document.
 *   JSONL  one document per line, the string field "text" of a JSON object.
 *          Lines holding only whitespace are skipped. Any other line without
 *          a string "text" is an error naming the file and line.
 *   u32    little-endian uint32 ids, used as they are (no EOS added).
 * Documents are encoded without special tokens (no BOS), and each document,
 * the last one included, is followed by the tokenizer's EOS id when it has
 * one. The EOS after the last document separates it from the first when a
 * window wraps. An empty document adds nothing, not even an EOS.
 *
 * Windows, for T = seq tokens of input per row (T + 1 ids are read so the
 * targets are the inputs shifted by one), B rows per step, and n = n_train:
 *   shuffle off  row j of step k starts at token ((k·B + j)·T) mod n.
 *   shuffle on   row j of step k starts at mix(seed, k, j) mod n, where mix
 *                is splitmix64 applied three times (data_window_start).
 *   shuffle docs as on, but at the start of a document drawn by mix
 *                (train_data_align_docs).
 * Either way a window that runs past n continues at token 0, and the start
 * is a pure function of (settings, k, j): resuming at step k needs no saved
 * sampler state, only k. Step k here counts from 0 for the first batch.
 *
 * Probe: with probe_rows = P > 0, the last P·(T + 1) ids are held out, so
 * n_train = n_tokens − P·(T + 1), and probe row j is ids[n_train + j·(T + 1)
 * .. + T]. Training windows never read them. With P = 0, n_train = n_tokens.
 */
#ifndef LRC_TRAIN_DATA_H
#define LRC_TRAIN_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "model/tokenizer.h"

typedef enum data_format {
    DATA_FORMAT_AUTO, /* by extension, as above */
    DATA_FORMAT_TEXT,
    DATA_FORMAT_JSONL,
    DATA_FORMAT_U32
} data_format;

typedef struct train_data {
    char path[4096];
    data_format format; /* as resolved from AUTO */
    int32_t *ids;       /* (n_tokens) */
    size_t n_tokens;
    size_t n_docs;      /* documents encoded (0 for u32 files) */
    size_t seq;         /* T, set by train_data_set_window */
    size_t probe_rows;  /* P */
    size_t n_train;     /* ids [0, n_train) feed training windows */
    size_t *doc_starts; /* (n_doc_starts) the first id of each text or JSONL document */
    size_t n_doc_starts, cap_doc_starts;
    size_t n_aligned; /* document starts below n_train, once train_data_align_docs ran */
} train_data;

/* Parse "auto", "text", "jsonl" or "u32" (for a --format option). */
int data_format_parse(const char *s, data_format *fmt, lrc_error *err);
const char *data_format_name(data_format fmt);

/*
 * Load path into d. tok encodes text and JSONL (it may be NULL for u32
 * files). Every id must lie in [0, vocab_size), the teacher's embedding rows;
 * a u32 id outside is an error naming its byte offset. On error d is left
 * empty (safe to pass to train_data_free).
 */
int train_data_load(train_data *d, const char *path, data_format fmt, const tokenizer *tok,
                    int vocab_size, lrc_error *err);

/*
 * Fix the window length T >= 1 and hold out probe_rows·(T + 1) ids for the
 * probe. Fails, naming the file, its token count and the window size, when
 * fewer than T + 1 ids remain for training.
 */
int train_data_set_window(train_data *d, size_t seq, size_t probe_rows, lrc_error *err);

/*
 * Make shuffled windows start at documents: row j of step k then starts at
 * the first id of document mix(seed, k, j) mod D, where D counts the
 * documents that start below n_train. So a document shorter than T is
 * trained whole. Call after train_data_set_window. Fails for data without
 * documents (u32).
 * NOTE: the probe rows stay the last P windows, which may start inside a
 * document, so a probe does not measure the aligned case.
 */
int train_data_align_docs(train_data *d, lrc_error *err);

/* Token where row `row` of step `step` starts, in [0, n_train). */
size_t data_window_start(const train_data *d, size_t batch, bool shuffle, uint64_t seed,
                         uint64_t step, size_t row);

/*
 * Fill one training batch for step `step` (0 for the first batch).
 *   out (B, T+1) row-major; out[b][t] is the input at t, out[b][t+1] its target
 */
void train_data_batch(const train_data *d, size_t batch, bool shuffle, uint64_t seed, uint64_t step,
                      int32_t *out);

/*
 * Copy the probe batch.
 *   out (P, T+1) row-major
 */
void train_data_probe(const train_data *d, int32_t *out);

void train_data_free(train_data *d);

#endif
