/*
 * Learning-rate schedules: linear warmup, then cosine, linear or constant
 * decay to a floor. The rate of step k (0-based) is a continuous curve f
 * read at t = k + 1, so the first step already moves and the last step of a
 * run of `total` steps lands exactly on lr_min. With W = warmup and
 * D = total − W decay steps:
 *
 *   f(t) = lr · t / W                                  for t <= W
 *   f(t) = lr_min + (lr − lr_min) · c((t − W) / D)     for W < t <= total
 *   f(t) = lr_min                                      for t > total
 *
 *   cosine:   c(x) = (1 + cos(π·x)) / 2
 *   linear:   c(x) = 1 − x
 *   constant: c(x) = 1 (the rate stays at lr until the end)
 *
 * So step 0 gets lr / W, step W − 1 gets lr, and step total − 1 gets lr_min
 * (cosine, linear) or lr (constant). Steps past the end get lr_min.
 */
#ifndef LRC_TRAIN_SCHEDULE_H
#define LRC_TRAIN_SCHEDULE_H

#include <stdint.h>

#include "core/error.h"

typedef enum lr_decay {
    LR_DECAY_COSINE,
    LR_DECAY_LINEAR,
    LR_DECAY_CONSTANT,
} lr_decay;

typedef struct lr_schedule {
    double lr;      /* peak rate, reached at step warmup − 1 */
    double lr_min;  /* floor reached at the last step; 0 by default */
    int64_t warmup; /* warmup steps W, 0 <= W <= total */
    int64_t total;  /* steps in the run, >= 1 */
    lr_decay decay;
} lr_schedule;

/* Check that 0 < lr finite, 0 <= lr_min <= lr, 0 <= warmup <= total and
 * total >= 1. */
int lr_schedule_check(const lr_schedule *s, lrc_error *err);

/* Return the learning rate of step k (0-based); k < 0 counts as 0. */
double lr_schedule_at(const lr_schedule *s, int64_t k);

/* Parse "cosine", "linear" or "constant". */
int lr_decay_parse(const char *name, lr_decay *out, lrc_error *err);

/* Return the name lr_decay_parse accepts for d. */
const char *lr_decay_name(lr_decay d);

#endif
