/*
 * The training loop, shared by every command that trains: `lrc distill`,
 * `lrc pretrain` and, once it exists, the studio. The loop is independent of the model it
 * trains. A trainer_model supplies a flat parameter array with its
 * gradient, the tensors a checkpoint contains, and two functions: the loss and
 * gradient of one batch, and (optionally) the probe metrics of the held-out
 * batch. trainer_lrc_model builds one for a Low-Rank Clone student.
 *
 * One step k (0-based; the record says step k + 1):
 *   batch k of the sampler → loss and gradient → gradient norm before
 *   clipping → clipping → learning rate of step k → AdamW → step record;
 *   every probe_every steps and at the last step the probe record; every
 *   save_every steps, at the last step, and on a save or stop request, a
 *   checkpoint.
 * The record order within a step (step, probe, checkpoint) is the one
 * runlog_open's truncation relies on when a run resumes.
 *
 * The loop never prints. Each record goes to metrics.jsonl and to a report
 * callback (the studio's ring buffer, the command's progress line). Pause,
 * resume, stop and save are atomic flags set from any thread or a signal
 * handler and read between steps; a snapshot request (trainer_snapshot)
 * gets a copy of the parameters there too. A non-finite loss or gradient norm ends
 * the run with TRAINER_NONFINITE, naming the step and the last good
 * checkpoint. Every buffer is sized by trainer_init; the step loop
 * allocates nothing.
 */
#ifndef LRC_TRAIN_TRAINER_H
#define LRC_TRAIN_TRAINER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "train/adamw.h"
#include "train/checkpoint.h"
#include "train/data.h"
#include "train/lrc.h"
#include "train/mi.h"
#include "train/rundir.h"
#include "train/runlog.h"
#include "train/schedule.h"

/* What the loop trains. The two functions return 0 or -1 with err filled. */
typedef struct trainer_model {
    void *ctx;
    float *params; /* (n_params) */
    float *grads;  /* (n_params) */
    size_t n_params;
    const checkpoint_tensor *tensors; /* what a checkpoint holds, offsets into params */
    size_t n_tensors;

    /* Loss and gradient of one batch: fill the loss fields of rec (loss, ce,
     * kl, clone, clone_site) and leave ∂loss/∂params in grads.
     *   tokens (B, T + 1) */
    int (*loss_and_grad)(void *ctx, const int32_t *tokens, runlog_step *rec, lrc_error *err);

    /* Probe metrics on the held-out batch: fill mi, n_layers, top1 and both
     * perplexities of rec (mi points at the model's own buffer). NULL when
     * the model has no probe.
     *   tokens (P, T + 1) */
    int (*probe)(void *ctx, const int32_t *tokens, runlog_probe *rec, lrc_error *err);
} trainer_model;

typedef struct trainer_config {
    int64_t steps;                                    /* total optimiser steps of the run, >= 1 */
    size_t batch, seq;                                /* B rows of T tokens per step */
    bool shuffle;                                     /* sampler order (data.h) */
    uint64_t seed;                                    /* sampler seed when shuffled */
    lr_schedule schedule;                             /* its total equals steps */
    double clip;                                      /* global-norm clipping; <= 0 disables */
    int64_t probe_every;                              /* 0 disables the probe */
    int64_t save_every;                               /* 0 saves only at the end and on request */
    int keep;                                         /* checkpoints kept on disk; <= 0 keeps all */
    char fingerprint[CHECKPOINT_FINGERPRINT_LEN + 1]; /* of the settings a resume must match */
    /* Another fingerprint a resume accepts (empty for none): that of runs made
     * before a resume could change the schedule. */
    char fingerprint_before[CHECKPOINT_FINGERPRINT_LEN + 1];
} trainer_config;

typedef enum trainer_event_kind {
    TRAINER_EVENT_STEP,   /* ev->step is the record just written */
    TRAINER_EVENT_PROBE,  /* ev->probe */
    TRAINER_EVENT_SAVE,   /* ev->checkpoint; ev->warning when pruning failed */
    TRAINER_EVENT_PAUSED, /* the loop waits until resumed or stopped */
    TRAINER_EVENT_RESUMED
} trainer_event_kind;

typedef struct trainer_event {
    trainer_event_kind kind;
    int64_t total_steps;
    const runlog_step *step;
    const runlog_probe *probe;
    const char *checkpoint;
    const char *warning;
} trainer_event;

/* Called on the trainer's thread after each record; it must not block. */
typedef void (*trainer_report_fn)(void *ctx, const trainer_event *ev);

typedef enum trainer_outcome {
    TRAINER_FINISHED,  /* every step done, final checkpoint saved */
    TRAINER_STOPPED,   /* a stop request: checkpoint saved at the step reached */
    TRAINER_NONFINITE, /* a NaN or Inf loss or gradient norm at failed_step */
} trainer_outcome;

typedef struct trainer {
    trainer_config cfg;
    trainer_model model;
    adamw *opt;
    const train_data *data;
    runlog *log;
    char run_dir[RUNDIR_PATH_MAX];

    int32_t *batch;       /* (B, T + 1) */
    int32_t *probe_batch; /* (P, T + 1), P = data->probe_rows */

    int64_t step;        /* steps completed */
    int64_t saved_step;  /* step of the newest checkpoint, -1 when none */
    int64_t failed_step; /* the step whose loss was not finite */
    double elapsed_s;    /* training time across resumes */
    char last_checkpoint[RUNDIR_PATH_MAX + 64];
    char data_hash[CHECKPOINT_FINGERPRINT_LEN + 1]; /* of data->ids, stored in checkpoints */

    atomic_int pause_requested, stop_requested, save_requested;
    struct trainer_snapshot *_Atomic snapshot; /* a pending trainer_request_snapshot */
} trainer;

/*
 * Set up a run in run_dir whose log is open (or will be opened before
 * trainer_run). opt is sized for m->n_params with its decay mask set; data
 * has its window fixed at cfg->seq with the probe rows held out. The trainer
 * starts at step 0; trainer_resume moves it to a checkpoint.
 */
int trainer_init(trainer *t, const trainer_config *cfg, const trainer_model *m, adamw *opt,
                 const train_data *data, const char *run_dir, runlog *log, lrc_error *err);
void trainer_free(trainer *t);

/* Continue from run_dir's latest checkpoint: remove temporary files a
 * killed save left, load parameters, moments and the step, check the
 * fingerprint and the data length. Open the log at t->step afterwards. */
int trainer_resume(trainer *t, lrc_error *err);

/*
 * Run from t->step to cfg.steps. Returns -1 with err filled on an I/O or
 * model error; otherwise 0 with *outcome set. For TRAINER_NONFINITE, err
 * also contains the one-line message naming the step and the last good
 * checkpoint.
 */
int trainer_run(trainer *t, trainer_report_fn report, void *report_ctx, trainer_outcome *outcome,
                lrc_error *err);

/* Requests, safe from any thread and from a signal handler. */
void trainer_request_pause(trainer *t);
void trainer_request_resume(trainer *t);
void trainer_request_stop(trainer *t);
void trainer_request_save(trainer *t);

/*
 * A copy of the parameters handed from the trainer's thread to another
 * thread, so a UI can use the student while it trains (the studio's Ask
 * screen). The requester owns the buffer. The loop copies n_params floats
 * into it before its next step, while paused, or when trainer_run ends
 * normally, and then sets done. So a request costs the loop one memcpy, and
 * the loop never waits on the requester. After a failed trainer_run a
 * request may stay pending, so withdraw it with trainer_cancel_snapshot.
 */
typedef struct trainer_snapshot {
    float *params;   /* (n_params), written by the loop */
    int64_t step;    /* steps completed when the copy was taken */
    atomic_int done; /* 1 once params and step are written */
} trainer_snapshot;

/* Post a request (snap->done is reset to 0). Returns -1 when another request
 * is still pending. */
int trainer_request_snapshot(trainer *t, trainer_snapshot *snap);

/* Withdraw a pending request: 1 when withdrawn, 0 when the loop has taken it
 * (done becomes 1 once its copy ends). */
int trainer_cancel_snapshot(trainer *t, trainer_snapshot *snap);

/* Principal components per side for the probe's MI: min(r, d, 32, N / 8),
 * at least 1, so the estimate sees at least eight tokens per component. */
size_t trainer_mi_components(size_t N, size_t d, size_t r);

/* A Low-Rank Clone student as a trainer_model. */
typedef struct trainer_lrc {
    lrc_student *s;
    lrc_loss_config loss;
    checkpoint_tensor *tensors; /* (s->n_tensors) */
    mi_cca mi;                  /* sized for N = B·T, p = d, q = r */
    double *mi_values;          /* (n_layers) */
    float *teacher_x;           /* (N, d) teacher residual stream, rebuilt layer by layer */
} trainer_lrc;

/* Size the probe scratch and the tensor table; m receives the model. The
 * probe batch must have s->B rows. */
int trainer_lrc_init(trainer_lrc *lt, lrc_student *s, const lrc_loss_config *loss, trainer_model *m,
                     lrc_error *err);
void trainer_lrc_free(trainer_lrc *lt);

#endif
