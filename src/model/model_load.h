/*
 * The stages of llama_model_load, exposed for `lrc info` and for callers that
 * want to inspect a checkpoint without loading its weights:
 *
 *   llama_source_open_config   config.json (or the llama2.c header): sizes
 *   llama_model_check_memory   estimate versus available memory, no allocation
 *   llama_source_open_weights  safetensors headers (mapped, not read)
 *   llama_source_check         every expected tensor present, shape and dtype
 *
 * llama_model_load runs all four, then fills the arena.
 */
#ifndef LRC_MODEL_MODEL_LOAD_H
#define LRC_MODEL_MODEL_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "model/config.h"
#include "model/llama.h"
#include "model/safetensors.h"

typedef enum llama_format {
    LLAMA_FORMAT_SAFETENSORS, /* Hugging Face folder */
    LLAMA_FORMAT_LLAMA2C_LEGACY,
    LLAMA_FORMAT_LLAMA2C_V1,
} llama_format;

typedef struct llama_source {
    llama_config cfg;
    llama_format format;
    char path[4096];        /* folder, or the .bin file */
    char config_path[4096]; /* config.json, or the .bin file */
    safetensors_set st;     /* after open_weights, safetensors only */
    bool weights_open;
    size_t file_size;    /* llama2.c: bytes in the file */
    size_t header_bytes; /* llama2.c: 28 (legacy) or 256 (version 1) */
} llama_source;

/* Human-readable name of a format ("safetensors", "llama2.c legacy", ...). */
const char *llama_format_name(llama_format f);

/* Read and validate the config (config.json or the llama2.c header, whose
 * file size must match what the header implies). */
int llama_source_open_config(llama_source *src, const char *path, lrc_error *err);
/* Map the safetensors files; a no-op for llama2.c files. */
int llama_source_open_weights(llama_source *src, lrc_error *err);
/* Check that every tensor the config implies is present with its shape and a
 * convertible dtype. */
int llama_source_check(const llama_source *src, lrc_error *err);
void llama_source_close(llama_source *src);

/* Estimated bytes to load and run the model: F32 weights plus the run state
 * (KV cache for up to 4096 positions, activations, logits) and 64 MiB. */
double llama_model_memory_needed(const llama_config *cfg);
/* Compare llama_model_memory_needed with sysmem_available; path names the
 * model in the message. */
int llama_model_check_memory(const llama_config *cfg, const char *path, lrc_error *err);

/* llama2.c loader internals (llama2c.c). */
int llama2c_read_header(llama_source *src, lrc_error *err);
int llama2c_read_weights(const llama_source *src, llama_model *m, lrc_error *err);

#endif
