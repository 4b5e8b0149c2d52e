/*
 * Safetensors files: an 8-byte little-endian header length N, N bytes of
 * JSON mapping each tensor name to {"dtype", "shape", "data_offsets":
 * [begin, end]} (offsets relative to the data section that follows the
 * header), plus an optional "__metadata__" object of strings.
 *
 * safetensors_open maps the file read-only and checks the whole header
 * before returning: every error is one line naming the file and the tensor
 * key or byte offset. Tensor data stays in the mapping until it is converted
 * with safetensors_read_f32, so opening a large model reads headers only.
 * A safetensors_set adds sharded checkpoints (model.safetensors.index.json).
 */
#ifndef LRC_MODEL_SAFETENSORS_H
#define LRC_MODEL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define SAFETENSORS_MAX_DIMS 8

/* Every dtype the format defines; only F32, F16 and BF16 convert to F32. */
typedef enum safetensors_dtype {
    ST_BOOL,
    ST_U8,
    ST_I8,
    ST_F8_E5M2,
    ST_F8_E4M3,
    ST_I16,
    ST_U16,
    ST_F16,
    ST_BF16,
    ST_I32,
    ST_U32,
    ST_F32,
    ST_F64,
    ST_I64,
    ST_U64,
    ST_N_DTYPES
} safetensors_dtype;

typedef struct safetensors_tensor {
    char *name;
    safetensors_dtype dtype;
    int ndim;
    int64_t shape[SAFETENSORS_MAX_DIMS];
    size_t numel;
    size_t begin, end;   /* data_offsets, relative to the data section */
    const uint8_t *data; /* begin of the bytes inside the mapping */
    const char *path;    /* file the tensor lives in (owned by the file) */
} safetensors_tensor;

typedef struct safetensors_file {
    char path[4096];
    uint8_t *map;
    size_t size;       /* bytes in the file */
    size_t header_len; /* N, the JSON header's length */
    size_t data_start; /* 8 + N */
    safetensors_tensor *tensors;
    size_t n_tensors;
    char *metadata_json; /* the __metadata__ object as JSON text, or NULL */
} safetensors_file;

/* Name of a dtype as the format spells it ("F32", "BF16", ...). */
const char *safetensors_dtype_name(safetensors_dtype dt);
/* Bytes per element of a dtype. */
size_t safetensors_dtype_size(safetensors_dtype dt);

/* Map and validate the file at path. On failure f is left closed. */
int safetensors_open(safetensors_file *f, const char *path, lrc_error *err);
void safetensors_close(safetensors_file *f);
const safetensors_tensor *safetensors_find(const safetensors_file *f, const char *name);

/* Convert a tensor of dtype F32, F16 or BF16 into n floats at dst; n must
 * equal the tensor's element count. Other dtypes are an error. */
int safetensors_read_f32(const safetensors_tensor *t, float *dst, size_t n, lrc_error *err);

/* A checkpoint in one or more files. */
typedef struct safetensors_set {
    char index_path[4096]; /* model.safetensors.index.json, or "" for one file */
    safetensors_file *files;
    size_t n_files;
} safetensors_set;

/*
 * Open dir/model.safetensors.index.json when it exists (every shard named in
 * weight_map is opened and each mapped tensor must be in the shard the index
 * names), else dir/model.safetensors. A tensor name found in two shards is
 * an error.
 */
int safetensors_set_open_dir(safetensors_set *s, const char *dir, lrc_error *err);
/* Open one file as a one-member set. */
int safetensors_set_open_file(safetensors_set *s, const char *path, lrc_error *err);
void safetensors_set_close(safetensors_set *s);
const safetensors_tensor *safetensors_set_find(const safetensors_set *s, const char *name);
size_t safetensors_set_n_tensors(const safetensors_set *s);

/* One tensor to write: data contains numel F32 values stored as dtype (F32, F16
 * or BF16; F16/BF16 round to nearest even). */
typedef struct safetensors_write_tensor {
    const char *name;
    safetensors_dtype dtype;
    int ndim;
    int64_t shape[SAFETENSORS_MAX_DIMS];
    const float *data;
} safetensors_write_tensor;

/*
 * Write tensors to path as safetensors, through a temporary file in the same
 * folder that is fsynced and renamed over path, so a crash leaves either the
 * old file or the complete new one. metadata is NULL or a NULL-terminated
 * list of key, value strings stored in __metadata__. Tensors are laid out in
 * the given order; the header is padded with spaces to a multiple of 8 bytes.
 */
int safetensors_write(const char *path, const safetensors_write_tensor *tensors, size_t n,
                      const char *const *metadata, lrc_error *err);

#endif
