/*
 * Look-ups over the table of trainable tensors (the design is in params.h):
 * a linear search by name (tables are small, about ten entries per layer) and
 * the weight-decay mask for the norm weights.
 */
#include "train/params.h"

#include <string.h>

const param_tensor *param_find_tensor(const param_tensor *tensors, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(tensors[i].name, name) == 0)
            return &tensors[i];
    return NULL;
}

int param_adamw_exclude_norms(const param_tensor *tensors, size_t n, adamw *opt, lrc_error *err) {
    for (size_t i = 0; i < n; i++)
        if (tensors[i].norm &&
            adamw_set_decay(opt, tensors[i].offset, tensors[i].numel, false, err) < 0)
            return -1;
    return 0;
}
