/*
 * Learning-rate schedules: linear warmup, then cosine, linear, constant or
 * warmup-stable-decay (wsd) decay to a floor. The rate of step k (0-based) is a continuous curve f
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
 *   wsd:      c = 1 until the last `decay_steps` steps, then falls linearly
 *             to 0:
 *             with S = total − decay_steps, c = 1 for t <= S and
 *             c = 1 − (t − S) / decay_steps for t > S
 *
 * wsd keeps the peak rate for most of the run and anneals only at the end,
 * so a run can learn at a high rate for longer and still finish low. Until
 * step S − 1 it gives exactly the rates of constant.
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
    LR_DECAY_WSD,
} lr_decay;

typedef struct lr_schedule {
    double lr;      /* peak rate, reached at step warmup − 1 */
    double lr_min;  /* floor reached at the last step; 0 by default */
    int64_t warmup; /* warmup steps W, 0 <= W <= total */
    int64_t total;  /* steps in the run, >= 1 */
    lr_decay decay;
    int64_t decay_steps; /* wsd only: steps of the final linear decay, >= 1 */
} lr_schedule;

/* Check that 0 < lr finite, 0 <= lr_min <= lr, 0 <= warmup <= total,
 * total >= 1 and, for wsd, 1 <= decay_steps <= total − warmup. */
int lr_schedule_check(const lr_schedule *s, lrc_error *err);

/* Return the learning rate of step k (0-based); k < 0 counts as 0. */
double lr_schedule_at(const lr_schedule *s, int64_t k);

/* Parse "cosine", "linear", "constant" or "wsd". */
int lr_decay_parse(const char *name, lr_decay *out, lrc_error *err);

/* Return the name lr_decay_parse accepts for d. */
const char *lr_decay_name(lr_decay d);

#endif
