/*
 * Training text for the BPE trainer: a folder's *.jsonl and *.txt files in
 * byte order of their names, or one file. A .jsonl file contains one JSON
 * object per line and each "text" string is one document; lines without a "text"
 * string are skipped and counted. Any other file is one document of plain
 * UTF-8 text.
 */
#ifndef LRC_TOKENIZER_TRAIN_BPE_INPUT_H
#define LRC_TOKENIZER_TRAIN_BPE_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "tokenizer_train/bpe_train.h"

typedef struct bpe_input_stats {
    size_t files;
    uint64_t bytes; /* size of the files read */
    size_t documents;
    size_t skipped_lines; /* .jsonl lines without a "text" string */
} bpe_input_stats;

/* Called before each file is read; bytes is its size. */
typedef void (*bpe_input_file_fn)(void *user, const char *path, uint64_t bytes);

/* Count the words of every document under path into tr. stats is filled even
 * on failure; on_file may be NULL. */
int bpe_input_read(bpe_trainer *tr, const char *path, bpe_input_stats *stats,
                   bpe_input_file_fn on_file, void *user, lrc_error *err);

#endif
