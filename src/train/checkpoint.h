/*
 * Training checkpoints: one safetensors file per save holding, all as F32,
 *   <name>                         each trainable tensor, under its own name
 *   adamw.exp_avg.<name>           its AdamW first moment
 *   adamw.exp_avg_sq.<name>        its AdamW second moment
 * and in __metadata__ (strings, integers in decimal):
 *   format "lrc-checkpoint-1", step, adamw_t, data_position, data_tokens,
 *   rng_state, elapsed_s (%.17g), fingerprint.
 * Because the tensors keep their plain names, a checkpoint is also a valid
 * --init file.
 *
 * Files live in RUN/checkpoints/ as step-NNNNNN.safetensors (the step,
 * zero-padded to at least six digits). RUN/checkpoints/latest contains the file
 * name of the newest complete checkpoint and a newline. A save goes:
 *   1. safetensors_write: temporary file, fsync, rename, fsync of the folder;
 *   2. latest: temporary file, fsync, rename, fsync of the folder;
 *   3. prune: delete the oldest step-*.safetensors beyond `keep`, never the
 *      one latest names.
 * A kill at any moment leaves latest naming a complete file; at worst an
 * extra old checkpoint or a *.tmpXXXXXX file stays behind, which
 * checkpoint_remove_temps deletes and no listing here mistakes for a
 * checkpoint.
 *
 * Loading checks every name, dtype and shape before it writes anything into
 * the caller's tensors, so a failed load leaves them unchanged.
 */
#ifndef LRC_TRAIN_CHECKPOINT_H
#define LRC_TRAIN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "model/safetensors.h"
#include "train/adamw.h"

#define CHECKPOINT_FORMAT "lrc-checkpoint-1"
#define CHECKPOINT_FINGERPRINT_LEN 16 /* hex digits of a 64-bit hash */

/* One trainable tensor. Its moments are opt->m and opt->v at the same offset. */
typedef struct checkpoint_tensor {
    const char *name;
    int ndim;
    int64_t shape[SAFETENSORS_MAX_DIMS];
    float *data;   /* numel values */
    size_t offset; /* first element of this tensor in the optimiser's flat arrays */
} checkpoint_tensor;

/* Everything beyond tensors that a resumed run needs. */
typedef struct checkpoint_state {
    int64_t step;           /* optimiser steps completed; the next batch is sampler step `step` */
    int64_t adamw_t;        /* opt->t (set from opt by save, restored into it by load) */
    uint64_t data_position; /* token where the next batch's row 0 starts (shuffle off) */
    uint64_t data_tokens;   /* training tokens (n_train) the position refers to */
    uint64_t rng_state;     /* any generator state the trainer keeps (0 when none) */
    double elapsed_s;       /* training time so far, so ETA and elapsed continue */
    char fingerprint[CHECKPOINT_FINGERPRINT_LEN + 1]; /* of the settings a resume must match */
    char data_hash[CHECKPOINT_FINGERPRINT_LEN + 1];   /* of the token ids; "" when not recorded */
} checkpoint_state;

/* Hash of a settings text (FNV-1a 64), as 16 lower-case hex digits into out.
 * Callers hash the canonical JSON of the settings a resume must keep equal. */
void checkpoint_fingerprint(const char *text, char out[CHECKPOINT_FINGERPRINT_LEN + 1]);

/* The same hash of len bytes of data, so a resume can tell that the training
 * tokens changed even when their count did not. */
void checkpoint_hash_bytes(const void *data, size_t len, char out[CHECKPOINT_FINGERPRINT_LEN + 1]);

/* Elements of t (product of its shape). */
size_t checkpoint_tensor_numel(const checkpoint_tensor *t);

/*
 * Save the n tensors, their moments from opt and st to
 * run_dir/checkpoints/step-NNNNNN.safetensors with NNNNNN = st->step, point
 * latest at it, then keep the newest `keep` checkpoints (keep <= 0 keeps all).
 * path_out (may be NULL) receives the checkpoint's path, cap bytes. A
 * failure to delete old checkpoints is returned as an error whose message
 * starts "<path> saved, but", because the new checkpoint and latest are
 * durable by then.
 */
int checkpoint_save(const char *run_dir, const checkpoint_tensor *tensors, size_t n,
                    const adamw *opt, const checkpoint_state *st, int keep, char *path_out,
                    size_t cap, lrc_error *err);

/*
 * Load a checkpoint written by checkpoint_save into the n tensors, the
 * moments and t of opt (NULL skips them) and *st (NULL skips it). Every tensor
 * and moment must be present with its shape and dtype F32, and the file may
 * hold nothing else. When expect_fingerprint is not NULL, the stored one must
 * equal it or, when also_fingerprint is not NULL, that one.
 */
int checkpoint_load(const char *path, const checkpoint_tensor *tensors, size_t n, adamw *opt,
                    checkpoint_state *st, const char *expect_fingerprint,
                    const char *also_fingerprint, lrc_error *err);

/*
 * Load only the tensors, by name, from any safetensors file (--init): F32,
 * F16 or BF16 are converted, other tensors in the file are ignored. A missing
 * or mis-shaped tensor is one line naming the file and the tensor.
 */
int checkpoint_load_tensors(const char *path, const checkpoint_tensor *tensors, size_t n,
                            lrc_error *err);

/* Resolve run_dir/checkpoints/latest into the checkpoint's path (cap bytes).
 * Fails when there is no pointer, it names no step-*.safetensors file, or
 * that file is missing. */
int checkpoint_latest(const char *run_dir, char *path, size_t cap, lrc_error *err);

/* Delete the oldest checkpoints so that `keep` remain, never the one latest
 * names. keep <= 0 deletes nothing. */
int checkpoint_prune(const char *run_dir, int keep, lrc_error *err);

/* Delete temporary files (*.tmpXXXXXX) a killed save left in
 * run_dir/checkpoints. Call it only while no other process writes to the
 * run, as --resume does before training. */
int checkpoint_remove_temps(const char *run_dir, lrc_error *err);

#endif
