/*
 * Pieces shared by the commands that train (lrc distill, lrc pretrain):
 * number parsing with one-line usage errors, the run.json readers, the
 * settings fingerprint a resume must match, the progress line and the
 * SIGINT/SIGTERM handling that turns Ctrl-C into a checkpoint. Every message
 * starts with the command's name, which each function takes as `cmd`.
 */
#ifndef LRC_CMD_TRAIN_COMMON_H
#define LRC_CMD_TRAIN_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "train/checkpoint.h"
#include "train/rundir.h"
#include "train/runlog.h"
#include "train/trainer.h"

#define TRAIN_EXIT_USAGE 2
#define TRAIN_EXIT_NONFINITE 3
#define TRAIN_MAX_SEED 9007199254740991.0 /* 2^53 − 1: exact in run.json's doubles */

/* An integer in min..max, else a one-line error and -1. */
int train_parse_long(const char *cmd, const char *opt, const char *s, long min, long max,
                     long *out);

/* A finite number >= min (> min when strict), else a one-line error and -1. */
int train_parse_double(const char *cmd, const char *opt, const char *s, double min, bool strict,
                       double *out);

/* --seed: an integer in 0..2^53 − 1, kept as a double for run.json. */
int train_parse_seed(const char *cmd, const char *s, double *out);

/* --shuffle: set *shuffle and *align_docs from on, off or docs (see
 * train/data.h), else print a one-line error and return -1. */
int train_parse_shuffle(const char *cmd, const char *s, bool *shuffle, bool *align_docs);

/* Read run.json's shuffle value for a resume of run, else print a one-line
 * damaged-run error and return -1. */
int train_resume_shuffle(const char *cmd, const char *run, const char *name, bool *shuffle,
                         bool *align_docs);

/* Return the --shuffle value that shuffle and align_docs stand for, as
 * run.json stores it. */
const char *train_shuffle_name(bool shuffle, bool align_docs);

/* --warmup: a tenth of steps when not given; a warmup above steps is a
 * one-line usage error. Returns 0 or TRAIN_EXIT_USAGE. */
int train_check_warmup(const char *cmd, bool given, long steps, long *warmup);

/* Check --decay-steps, which only the wsd schedule takes. It defaults to a
 * fifth of steps, kept within 1..steps − warmup. Warmup plus decay above
 * steps is a one-line usage error. Call after train_check_warmup. Returns 0
 * or TRAIN_EXIT_USAGE. */
int train_check_decay(const char *cmd, lr_decay schedule, bool given, long steps, long warmup,
                      long *decay_steps);

/* On --resume: the schedule and wsd decay steps. Each comes from run.json
 * unless given; a schedule changed to wsd without --decay-steps gets the
 * default of train_check_decay. Returns 0, or -1 after printing the error. */
int train_resume_decay(const char *cmd, const cJSON *settings, const char *run, bool schedule_given,
                       lr_decay *schedule, bool decay_given, long steps, long warmup,
                       long *decay_steps);

/* Write "decay_steps" into run.json settings for wsd, and read it back.
 * Other schedules have no such key, so their settings stay as before. */
void train_json_add_decay(cJSON *settings, lr_decay schedule, long decay_steps);
int train_json_decay(const char *cmd, const cJSON *settings, const char *run, lr_decay schedule,
                     long *decay_steps);

/* An absolute form of an existing path, or the path as given. */
void train_absolute_path(char *buf, size_t cap, const char *path);

/* The fingerprint of the settings a resume must keep: all keys but steps,
 * threads, save_every, schedule and decay_steps. Returns -1 when out of
 * memory. */
int train_settings_fingerprint(const cJSON *settings, char out[CHECKPOINT_FINGERPRINT_LEN + 1]);

/* Readers of run.json keys; a missing or mistyped key is a one-line error
 * saying the run folder is damaged. A nullable string may be null (NULL). */
int train_json_number(const char *cmd, const cJSON *j, const char *run, const char *key,
                      double *out);
int train_json_long(const char *cmd, const cJSON *j, const char *run, const char *key, long *out);
int train_json_string(const char *cmd, const cJSON *j, const char *run, const char *key,
                      bool nullable, const char **out);

/* cmd_fail("CMD: MSG"), except that an out-of-memory message gets training
 * advice (a smaller --batch or --seq, --probe-every 0, or for pretrain a
 * smaller config) in place of the library's generic "use a smaller context". */
void train_fail(const char *cmd, const char *msg);

/* The exported folder (RUN/student, RUN/model) is written complete under
 * dst + ".tmp" and then renamed to dst, replacing an older export, so a failed
 * export leaves no half-made folder. begin makes the empty tmp folder (cap
 * bytes) and abort removes it; both commit and begin report failures. */
int train_export_begin(const char *cmd, const char *dst, char *tmp, size_t cap);
int train_export_commit(const char *cmd, const char *tmp, const char *dst);
void train_export_abort(const char *tmp);

/* Check that run.json's "command" names cmd; a run made by the other training
 * command gets a one-line error naming the command that continues it. */
int train_check_command(const char *cmd, const cJSON *j, const char *run);

/* The progress line on stderr: rewritten in place on a terminal, otherwise
 * one plain line every `every` steps (about twenty per run) and one per
 * probe. A probe whose teacher perplexity is not finite (no teacher) is
 * shown as the model's loss and perplexity alone. */
typedef struct train_progress {
    const char *cmd;
    bool tty;
    int64_t every;
    bool line_open;
} train_progress;

void train_progress_init(train_progress *p, const char *cmd, int64_t steps);

/* Write seconds s as "1h05m", "3m07s" or "42s", or "?" when s is negative,
 * not a number or above 1e9. */
void train_format_duration(char *buf, size_t cap, double s);

/* A trainer_report_fn; ctx is a train_progress. */
void train_progress_report(void *ctx, const trainer_event *ev);

/* Route SIGINT and SIGTERM to trainer_request_stop(t), and back. */
void train_install_signals(trainer *t);
void train_restore_signals(void);

/* The run folder, its log and the trainer of one training command, as
 * pointers into the command's own setup. */
typedef struct train_run {
    const char *cmd;
    rundir *rd;
    runlog *log;
    trainer *tr;
} train_run;

/* Start a new run: create and lock the folder under out (named from label
 * and rank), write settings to run.json, open the log and initialise the
 * trainer. On failure, report it and remove what the run wrote. */
int train_run_create(const train_run *r, const char *out, const char *label, int rank,
                     const cJSON *settings, const trainer_config *tc, const trainer_model *m,
                     adamw *opt, const train_data *data);

/* Open and lock the run folder at path, read its settings (the caller frees
 * them) and check that they belong to r->cmd. */
int train_run_open(const train_run *r, const char *path, cJSON **settings);

/* Continue an opened run: fingerprint the settings into tc, initialise the
 * trainer from the latest checkpoint, write back the settings a resume may
 * change (steps, save_every, threads, schedule, decay_steps) and reopen the
 * log at that step. Checkpoints made before a resume could change the
 * schedule carry an older kind of fingerprint, which is accepted too. */
int train_run_resume(const train_run *r, cJSON *settings, trainer_config *tc,
                     const trainer_model *m, adamw *opt, const train_data *data, long steps,
                     long save_every, long threads, lr_decay schedule, long decay_steps);

/* Report how trainer_run ended (rc, outcome and its message msg). Returns
 * true when the run ended early, with the exit status in *status. A new run
 * that failed before its first checkpoint is removed. */
bool train_run_ended_early(const train_run *r, int rc, trainer_outcome outcome, const char *msg,
                           int *status);

#endif
