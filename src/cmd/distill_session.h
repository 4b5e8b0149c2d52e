/*
 * One distillation run, set up the same way for `lrc distill` and for the
 * studio: the options, the teacher, the data, the student, the optimiser, the
 * trainer and the run folder. A caller fills distill_options (from argv or
 * from the studio's setup screen), opens a session, runs it with its own
 * trainer_report_fn and frees it.
 *
 * A new run validates everything first (options, teacher, rank, data length,
 * --init tensors, the --out folder) and only then creates the run folder, so
 * bad input gets one line and leaves the disk as it was. A teacher from the
 * Hugging Face Hub cache (an id or a snapshot folder) names the default run
 * folder ORG--NAME. Its id and commit go to run.json, so a resume finds the
 * commit again or names the 'lrc pull' that restores it. Its settings go to
 * run.json; a resumed run reads them back from there (only steps, save_every
 * and threads may change) and continues from the latest checkpoint, checked
 * against a fingerprint of the settings.
 *
 * Like the rest of cmd/, the session reports failures as one line on stderr
 * ("lrc: distill: ..."). The studio routes stderr into its log pane while it
 * owns the terminal.
 */
#ifndef LRC_CMD_DISTILL_SESSION_H
#define LRC_CMD_DISTILL_SESSION_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "hub/hub_cache.h"
#include "model/llama.h"
#include "model/tokenizer.h"
#include "train/lrc.h"
#include "train/trainer.h"

#define DISTILL_KEEP_CHECKPOINTS 3

typedef struct distill_options {
    const char *teacher, *data, *out, *init, *resume;
    long rank, steps, batch, seq, warmup, decay_steps, probe_every, save_every, threads;
    double lr, weight_decay, clip, kl_temp, ce_weight, kl_weight, clone_weight, seed;
    bool shuffle, align_docs, svd, warmup_given, decay_steps_given, init_method_given;
    lr_decay schedule;
    /* For a resume: which of the changeable settings were given. */
    bool steps_given, save_every_given, schedule_given;
} distill_options;

/* Everything a run holds; distill_session_free releases it in any state. */
typedef struct distill_session {
    llama_model teacher;
    tokenizer *tok;
    train_data data;
    lrc_student student;
    adamw opt;
    trainer_lrc lt;
    trainer_model model;
    trainer tr;
    runlog log;
    rundir rd;
    cJSON *settings;
    char student_dir[RUNDIR_PATH_MAX + 16];  /* RUN/student once exported, else "" */
    char teacher_dir[4096];                  /* --teacher as a local path (a Hub id resolved) */
    char teacher_hub[HUB_REPO_ID_MAX + 1];   /* ORG/NAME when the teacher is a Hub snapshot */
    char teacher_commit[HUB_COMMIT_LEN + 1]; /* ... and its commit, else both "" */
} distill_session;

/* The defaults of `lrc distill` (lrc-distill(1)). */
void distill_options_default(distill_options *o);

/* Check a new run's options after they are filled: the required three, the
 * warmup (a tenth of the steps unless given) and --init against
 * --init-method. Returns 0, or 2 after a one-line usage error. */
int distill_options_check(distill_options *o);

/* Open o->resume when it is set, otherwise create a new run from o. Returns
 * 0, or -1 after a one-line error; s is zeroed first and must be freed
 * either way. For a resume, o receives the run's settings, whose strings
 * stay owned by s. */
int distill_session_open(distill_session *s, distill_options *o);

/* Print the start line ("distill: teacher ..., run RUN, from step S of N")
 * on stderr. */
void distill_session_print_start(const distill_session *s, const distill_options *o);

/* Run the trainer to the end or to a stop request, reporting each record to
 * report, then export RUN/student on a finished run. Returns the exit status
 * of `lrc distill`: 0 finished or stopped (a checkpoint saved), 1 failure,
 * 3 non-finite loss. The stop message and every error go to stderr. */
int distill_session_run(distill_session *s, const distill_options *o, trainer_report_fn report,
                        void *report_ctx);

void distill_session_free(distill_session *s);

#endif
