/*
 * The run files a training run writes beside its checkpoints:
 *
 * RUN/run.json: every setting of the run as one JSON object, built by the
 * command and written atomically (rundir_write_atomic). --resume reads it
 * back, so the settings of a resumed run come from here, not from flags.
 *
 * RUN/metrics.jsonl: one JSON object per line, appended and flushed line by
 * line. Real numbers are printed with %.17g, which round-trips a double
 * exactly; a NaN or infinite value is written as null. Two record types:
 *
 *   {"type":"step","step":S,"loss":L,"ce":C,"kl":K,"clone":M,
 *    "clone_sites":{"q":..,"k":..,"v":..,"attn_out":..,"gate":..,"up":..,
 *                   "mlp_out":..},
 *    "grad_norm":G,"lr":R,"tokens_per_s":X,"elapsed_s":E,"eta_s":A}
 *
 *     step          optimiser steps completed, counting this one (1 for the
 *                   first step, whose batch is sampler step 0)
 *     loss          w_ce·ce + w_kl·kl + w_clone·clone, the loss minimised
 *     ce            student next-token cross-entropy, nats per token
 *     kl            KL(teacher ‖ student) at temperature τ, nats per token
 *     clone         Σ over layers and sites of the clone MSEs (unweighted)
 *     clone_sites   that sum split by site, each summed over the layers
 *     grad_norm     global L2 norm of the gradient before clipping
 *     lr            learning rate this step used
 *     tokens_per_s  B·T over this step's wall time
 *     elapsed_s     training wall time since step 0, across resumes
 *     eta_s         estimated seconds to the last step
 *
 *   {"type":"probe","step":S,"mi":[I_0,..,I_{L-1}],"top1":A,
 *    "ppl_teacher":P_t,"ppl_student":P_s}
 *
 *     step          as above; 0 for a probe before the first step
 *     mi            per layer, Gaussian MI in nats between the teacher's and
 *                   the student's residual stream after that layer
 *     top1          fraction of probe tokens where the argmax of both models
 *                   agrees, in [0, 1]
 *     ppl_teacher   exp of the teacher's mean cross-entropy on the probe batch
 *     ppl_student   the same for the student
 *
 * Order within a step: the step record, then the probe record of that step
 * when there is one, then the checkpoint of that step. On resume from the
 * checkpoint of step S, runlog_open keeps the longest prefix of complete lines
 * whose step is at most S and cuts the rest (including a line torn by a
 * kill), so the resumed file matches the straight run's except for timings.
 */
#ifndef LRC_TRAIN_RUNLOG_H
#define LRC_TRAIN_RUNLOG_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"

/* Clone sites in the order of runlog_site_names. */
enum {
    RUNLOG_SITE_Q,
    RUNLOG_SITE_K,
    RUNLOG_SITE_V,
    RUNLOG_SITE_ATTN_OUT,
    RUNLOG_SITE_GATE,
    RUNLOG_SITE_UP,
    RUNLOG_SITE_MLP_OUT,
    RUNLOG_N_SITES
};

/* "q", "k", "v", "attn_out", "gate", "up", "mlp_out". */
extern const char *const runlog_site_names[RUNLOG_N_SITES];

typedef struct runlog_step {
    int64_t step;
    double loss, ce, kl, clone;
    double clone_site[RUNLOG_N_SITES];
    double grad_norm, lr, tokens_per_s, elapsed_s, eta_s;
} runlog_step;

typedef struct runlog_probe {
    int64_t step;
    const double *mi; /* (n_layers) */
    size_t n_layers;
    double top1, ppl_teacher, ppl_student;
} runlog_probe;

typedef struct runlog {
    char path[4096 + 16]; /* RUN/metrics.jsonl */
    FILE *metrics;
} runlog;

/* Write settings to run_dir/run.json (indented JSON and a newline). */
int runlog_write_settings(const char *run_dir, const cJSON *settings, lrc_error *err);

/* Read run_dir/run.json; *settings is the caller's to cJSON_Delete. */
int runlog_read_settings(const char *run_dir, cJSON **settings, lrc_error *err);

/*
 * Open run_dir/metrics.jsonl for appending. resume_step < 0 starts an empty
 * file; resume_step >= 0 first cuts it to the lines of steps <= resume_step.
 */
int runlog_open(runlog *log, const char *run_dir, int64_t resume_step, lrc_error *err);

/* Cut path to the longest prefix of complete JSON-object lines whose "step"
 * is at most step, and fsync it. A missing file is created empty. */
int runlog_truncate(const char *path, int64_t step, lrc_error *err);

/* Format one record as a JSON line with its newline into buf (cap bytes).
 * Returns the length, or the length needed (>= cap) when it does not fit. */
size_t runlog_format_step(char *buf, size_t cap, const runlog_step *r);
size_t runlog_format_probe(char *buf, size_t cap, const runlog_probe *r);

/* Append one record and flush the line. */
int runlog_write_step(runlog *log, const runlog_step *r, lrc_error *err);
int runlog_write_probe(runlog *log, const runlog_probe *r, lrc_error *err);

/* Seconds left at the rate of this session: session_s over steps_done steps,
 * steps_left to go. 0 when no step is done yet. */
double runlog_eta_s(double session_s, int64_t steps_done, int64_t steps_left);

void runlog_close(runlog *log);

#endif
