/*
 * The table of trainable tensors shared by the LRC student (train/lrc.h) and
 * the pretraining model (train/pretrain.h). Both keep every tensor in one
 * flat `params` array with a matching `grads`. The table names each slice
 * (its name in files, first element, shape) and marks the norm weights, which
 * take no weight decay. The owners fill the table and this module only reads it.
 */
#ifndef LRC_TRAIN_PARAMS_H
#define LRC_TRAIN_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "train/adamw.h"

#define PARAM_NAME_MAX 96

/* One trainable tensor: its name in files, place in params and shape. */
typedef struct param_tensor {
    char name[PARAM_NAME_MAX];
    size_t offset; /* first element in params and grads */
    size_t numel;
    int ndim;         /* 2 for matrices, 1 for norms and biases */
    int64_t shape[2]; /* (rows, cols) or (n) */
    bool norm;        /* an RMSNorm weight, so no weight decay */
    bool residual;    /* writes into the residual stream (pretraining init only) */
} param_tensor;

/* Return the tensor named `name` among tensors (n), or NULL. */
const param_tensor *param_find_tensor(const param_tensor *tensors, size_t n, const char *name);

/* Turn AdamW's weight decay off for the norm weights among tensors (n). The
 * optimiser opt must cover every offset in the table. */
int param_adamw_exclude_norms(const param_tensor *tensors, size_t n, adamw *opt, lrc_error *err);

#endif
