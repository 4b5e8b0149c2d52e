/*
 * The studio's copy of a run's records, written by the trainer's thread and
 * read by the UI thread.
 *
 * tui_metrics_report is a trainer_report_fn: it takes the mutex, appends the
 * record to the series and releases it, so the trainer never waits on
 * drawing. The UI takes a snapshot (a plain copy made under the mutex) and
 * draws from it. Each series keeps the whole run in a fixed size: when it is
 * full, every other point is dropped and from then on only every stride-th
 * point is kept, so memory stays constant and old points thin out evenly.
 * The log is a ring of the last TUI_LOG_LINES lines.
 */
#ifndef LRC_TUI_METRICS_H
#define LRC_TUI_METRICS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "train/runlog.h"
#include "train/trainer.h"

#define TUI_SERIES_CAP 1024
#define TUI_MAX_LAYERS 64
#define TUI_LOG_LINES 64
#define TUI_LOG_WIDTH 240

typedef struct tui_series {
    double x[TUI_SERIES_CAP]; /* step */
    double y[TUI_SERIES_CAP];
    size_t n;
    int64_t stride;  /* keep one point in stride; doubles each time the series fills */
    int64_t skipped; /* points offered since the last kept one */
} tui_series;

/* Loss series: the total, its three parts, then the clone sites. */
enum {
    TUI_LOSS_TOTAL,
    TUI_LOSS_CE,
    TUI_LOSS_KL,
    TUI_LOSS_CLONE,
    TUI_LOSS_SITE0,
    TUI_N_LOSS = TUI_LOSS_SITE0 + RUNLOG_N_SITES
};

/* Name of loss series i ("total", "ce", "kl", "clone", "clone q", ...). */
const char *tui_loss_name(int i);

typedef enum tui_run_state {
    TUI_RUN_IDLE,     /* no run yet */
    TUI_RUN_STARTING, /* loading; no step yet */
    TUI_RUN_RUNNING,
    TUI_RUN_PAUSED,
    TUI_RUN_STOPPING, /* stop requested, waiting for the checkpoint */
    TUI_RUN_FINISHED, /* the trainer returned; see status */
} tui_run_state;

typedef struct tui_metrics {
    pthread_mutex_t lock; /* guards everything below */
    uint64_t version;     /* bumped on every change, so the UI redraws only then */

    tui_run_state state;
    int status; /* exit status of the run once finished (distill_session_run) */
    int64_t total_steps;
    runlog_step last; /* last step record; last.step == 0 before the first */

    tui_series loss[TUI_N_LOSS];
    tui_series grad_norm, lr, tokens_per_s;

    runlog_probe probe; /* last probe; probe.mi points at mi below */
    bool have_probe;
    double mi[TUI_MAX_LAYERS];
    tui_series mi_sum; /* Σ_l MI_l at each probe step */

    int64_t saved_step; /* step of the newest checkpoint, -1 when none */
    char checkpoint[1024];

    char log[TUI_LOG_LINES][TUI_LOG_WIDTH];
    size_t log_count; /* lines ever added; the ring holds the last TUI_LOG_LINES */
} tui_metrics;

/* Set up an empty store (state TUI_RUN_IDLE). Returns 0, or -1 when the
 * mutex cannot be made. */
int tui_metrics_init(tui_metrics *m);
void tui_metrics_destroy(tui_metrics *m);

/* Empty the series and the log for a new run (keeps the mutex). */
void tui_metrics_reset(tui_metrics *m);

/* A trainer_report_fn; ctx is a tui_metrics. */
void tui_metrics_report(void *ctx, const trainer_event *ev);

/* Append a log line (a trailing newline is dropped) and set the state. */
void tui_metrics_log(tui_metrics *m, const char *line);
void tui_metrics_set_state(tui_metrics *m, tui_run_state state);
void tui_metrics_finish(tui_metrics *m, int status);

/* The version counter, read under the mutex. */
uint64_t tui_metrics_version(tui_metrics *m);

/* Copy everything under the mutex; dst->probe.mi is pointed at dst->mi. */
void tui_metrics_snapshot(tui_metrics *m, tui_metrics *dst);

/* Offer point (x, y) to a series, which keeps it or skips it by its stride. */
void tui_series_add(tui_series *s, double x, double y);

/* The i-th newest log line of a snapshot (0 the newest), or NULL. */
const char *tui_metrics_log_line(const tui_metrics *m, size_t i);

#endif
