/*
 * The studio: a full-screen terminal application over one distillation run.
 * The Setup screen picks a teacher, the rank, the data and the main
 * hyper-parameters; Enter starts the run, and the Distill screen shows it
 * live. The run is the same distill_session as `lrc distill`, on its own
 * thread. The UI thread draws from a snapshot of tui_metrics about ten times
 * a second and never waits on a training step.
 */
#ifndef LRC_TUI_STUDIO_H
#define LRC_TUI_STUDIO_H

#include <stddef.h>

#define STUDIO_MAX_MODELS 64

typedef struct studio_options {
    const char *theme;                     /* --theme, or NULL for config.json or "default" */
    const char *data;                      /* --data, or NULL */
    const char *out;                       /* --out, or NULL for runs/DATE-TEACHER-rR */
    const char *runs;                      /* folder of recent runs, "runs" */
    const char *models[STUDIO_MAX_MODELS]; /* MODEL arguments */
    size_t n_models;
    long rank, steps, batch, seq, probe_every, threads; /* 0 for the defaults */
    long warmup;            /* -1 for the default, a tenth of the steps */
    long save_every;        /* -1 for the default; 0 saves only at the end and on request */
    double lr;              /* 0 for the default */
    double clone_weight;    /* -1 for the default */
    int init_svd;           /* -1 for the default, 0 random, 1 svd */
    const char *endpoint;   /* --endpoint URL for Ask, or NULL for config.json's "endpoint" */
    const char *model_name; /* --model-name, sent to the endpoint */
} studio_options;

/* Run the studio until the user quits. Returns the exit status: 0, or 1
 * when the terminal could not be set up or the theme did not load (after a
 * one-line message on stderr). A run still going when the user quits is
 * stopped with a checkpoint, so `lrc distill --resume RUN` continues it. */
int studio_run(const studio_options *o);

#endif
