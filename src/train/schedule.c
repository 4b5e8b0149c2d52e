/*
 * Learning-rate schedules; the formulas are stated in schedule.h.
 */
#include "train/schedule.h"

#include <math.h>
#include <string.h>

/* π to double precision; M_PI is POSIX, not C11. */
static const double PI = 3.14159265358979323846;

int lr_schedule_check(const lr_schedule *s, lrc_error *err) {
    if (!(s->lr > 0.0 && isfinite(s->lr)))
        return lrc_errorf(err, "schedule: lr = %g is invalid; expected a finite value > 0", s->lr);
    if (!(s->lr_min >= 0.0 && s->lr_min <= s->lr))
        return lrc_errorf(err, "schedule: lr_min = %g is invalid; expected a value in [0, lr = %g]",
                          s->lr_min, s->lr);
    if (s->total < 1)
        return lrc_errorf(err, "schedule: total = %lld steps is invalid; expected at least 1",
                          (long long)s->total);
    if (s->warmup < 0 || s->warmup > s->total)
        return lrc_errorf(err,
                          "schedule: warmup = %lld steps is invalid; expected a value in "
                          "[0, total = %lld]",
                          (long long)s->warmup, (long long)s->total);
    if (s->decay != LR_DECAY_COSINE && s->decay != LR_DECAY_LINEAR &&
        s->decay != LR_DECAY_CONSTANT && s->decay != LR_DECAY_WSD)
        return lrc_errorf(err, "schedule: decay kind %d is invalid", (int)s->decay);
    if (s->decay == LR_DECAY_WSD && (s->decay_steps < 1 || s->decay_steps > s->total - s->warmup))
        return lrc_errorf(err,
                          "schedule: wsd decay_steps = %lld is invalid; expected a value in "
                          "[1, total - warmup = %lld]",
                          (long long)s->decay_steps, (long long)(s->total - s->warmup));
    return 0;
}

double lr_schedule_at(const lr_schedule *s, int64_t k) {
    double t = (double)(k < 0 ? 1 : k + 1);
    double W = (double)s->warmup, total = (double)s->total;

    if (t <= W)
        return s->lr * (t / W);
    if (t > total)
        return s->lr_min;

    if (s->decay == LR_DECAY_CONSTANT)
        return s->lr;

    if (s->decay == LR_DECAY_WSD) {
        double stable_end = total - (double)s->decay_steps;
        if (t <= stable_end)
            return s->lr;
        double c = 1.0 - (t - stable_end) / (double)s->decay_steps;
        return s->lr_min + (s->lr - s->lr_min) * c;
    }

    /* W < t <= total here, so total − W >= 1. */
    double x = (t - W) / (total - W);
    double c = s->decay == LR_DECAY_COSINE ? 0.5 * (1.0 + cos(PI * x)) : 1.0 - x;
    return s->lr_min + (s->lr - s->lr_min) * c;
}

static const char *const decay_names[] = {
    [LR_DECAY_COSINE] = "cosine",
    [LR_DECAY_LINEAR] = "linear",
    [LR_DECAY_CONSTANT] = "constant",
    [LR_DECAY_WSD] = "wsd",
};

int lr_decay_parse(const char *name, lr_decay *out, lrc_error *err) {
    for (int d = 0; d < (int)(sizeof decay_names / sizeof decay_names[0]); d++) {
        if (strcmp(name, decay_names[d]) == 0) {
            *out = (lr_decay)d;
            return 0;
        }
    }
    return lrc_errorf(
        err, "schedule: decay '%s' is unknown; expected cosine, linear, constant or wsd", name);
}

const char *lr_decay_name(lr_decay d) {
    if ((int)d < 0 || (int)d >= (int)(sizeof decay_names / sizeof decay_names[0]))
        return "unknown";
    return decay_names[d];
}
