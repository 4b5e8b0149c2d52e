/*
 * Shared pieces of the training commands (train_common.h). Nothing here
 * depends on the model being trained, and messages take the command's name.
 */
#define _POSIX_C_SOURCE 200809L

#include "cmd/train_common.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"

/* ------------------------------------------------------------------------ */
/* Arguments                                                                */
/* ------------------------------------------------------------------------ */

int train_parse_long(const char *cmd, const char *opt, const char *s, long min, long max,
                     long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        cmd_fail("%s: %s '%s': expected an integer in %ld..%ld", cmd, opt, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int train_parse_double(const char *cmd, const char *opt, const char *s, double min, bool strict,
                       double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < min || (strict && v == min)) {
        cmd_fail("%s: %s '%s': expected a finite number %s %g", cmd, opt, s,
                 strict ? ">" : ">=", min);
        return -1;
    }
    *out = v;
    return 0;
}

int train_parse_seed(const char *cmd, const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0 && v <= TRAIN_MAX_SEED) || v != floor(v)) {
        cmd_fail("%s: --seed '%s': expected an integer in 0..%.0f", cmd, s, TRAIN_MAX_SEED);
        return -1;
    }
    *out = v;
    return 0;
}

/* Set *shuffle and *align_docs from a --shuffle value. Returns -1, with
 * nothing printed, for a value other than on, off or docs. */
static int shuffle_from_name(const char *s, bool *shuffle, bool *align_docs) {
    if (strcmp(s, "on") != 0 && strcmp(s, "off") != 0 && strcmp(s, "docs") != 0)
        return -1;
    *shuffle = strcmp(s, "off") != 0;
    *align_docs = strcmp(s, "docs") == 0;
    return 0;
}

int train_parse_shuffle(const char *cmd, const char *s, bool *shuffle, bool *align_docs) {
    if (shuffle_from_name(s, shuffle, align_docs) < 0) {
        cmd_fail("%s: --shuffle '%s': expected on, off or docs", cmd, s);
        return -1;
    }
    return 0;
}

int train_resume_shuffle(const char *cmd, const char *run, const char *name, bool *shuffle,
                         bool *align_docs) {
    if (shuffle_from_name(name, shuffle, align_docs) < 0) {
        cmd_fail("%s: %s/run.json: shuffle '%s' is not on, off or docs; the run folder is "
                 "damaged, start a new run",
                 cmd, run, name);
        return -1;
    }
    return 0;
}

const char *train_shuffle_name(bool shuffle, bool align_docs) {
    if (align_docs)
        return "docs";
    return shuffle ? "on" : "off";
}

int train_check_warmup(const char *cmd, bool given, long steps, long *warmup) {
    if (!given)
        *warmup = steps / 10;
    if (*warmup > steps) {
        cmd_fail("%s: --warmup %ld exceeds --steps %ld; give a warmup of at most the steps", cmd,
                 *warmup, steps);
        return TRAIN_EXIT_USAGE;
    }
    return 0;
}

int train_check_decay(const char *cmd, lr_decay schedule, bool given, long steps, long warmup,
                      long *decay_steps) {
    if (schedule != LR_DECAY_WSD) {
        if (given) {
            cmd_fail("%s: --decay-steps applies only to --schedule wsd; drop it or add "
                     "--schedule wsd",
                     cmd);
            return TRAIN_EXIT_USAGE;
        }
        *decay_steps = 0;
        return 0;
    }
    if (!given) {
        *decay_steps = steps / 5;
        if (*decay_steps > steps - warmup)
            *decay_steps = steps - warmup;
        if (*decay_steps < 1)
            *decay_steps = 1;
    }
    if (warmup + *decay_steps > steps) {
        cmd_fail("%s: --warmup %ld plus --decay-steps %ld exceeds --steps %ld; the wsd schedule "
                 "needs steps for both",
                 cmd, warmup, *decay_steps, steps);
        return TRAIN_EXIT_USAGE;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Settings (run.json)                                                      */
/* ------------------------------------------------------------------------ */

void train_json_add_decay(cJSON *settings, lr_decay schedule, long decay_steps) {
    if (schedule == LR_DECAY_WSD)
        cJSON_AddNumberToObject(settings, "decay_steps", (double)decay_steps);
}

int train_json_decay(const char *cmd, const cJSON *settings, const char *run, lr_decay schedule,
                     long *decay_steps) {
    *decay_steps = 0;
    if (schedule != LR_DECAY_WSD)
        return 0;
    return train_json_long(cmd, settings, run, "decay_steps", decay_steps);
}

void train_absolute_path(char *buf, size_t cap, const char *path) {
    char *abs = realpath(path, NULL);
    snprintf(buf, cap, "%s", abs ? abs : path);
    free(abs);
}

int train_resume_decay(const char *cmd, const cJSON *settings, const char *run, bool schedule_given,
                       lr_decay *schedule, bool decay_given, long steps, long warmup,
                       long *decay_steps) {
    const char *name;
    lr_decay stored;
    lrc_error err;
    if (train_json_string(cmd, settings, run, "schedule", false, &name) < 0)
        return -1;
    if (lr_decay_parse(name, &stored, &err) < 0) {
        cmd_fail("%s: %s/run.json: key \"schedule\": %s", cmd, run, err.msg);
        return -1;
    }
    if (!schedule_given)
        *schedule = stored;
    if (!schedule_given && !decay_given)
        return train_json_decay(cmd, settings, run, stored, decay_steps);
    if (!decay_given && *schedule == LR_DECAY_WSD && stored == LR_DECAY_WSD) {
        if (train_json_decay(cmd, settings, run, stored, decay_steps) < 0)
            return -1;
        decay_given = true;
    }
    return train_check_decay(cmd, *schedule, decay_given, steps, warmup, decay_steps) ? -1 : 0;
}

/* Compute the fingerprint of settings without the keys in skip. */
static int fingerprint_without(const cJSON *settings, const char *const *skip, size_t n_skip,
                               char out[CHECKPOINT_FINGERPRINT_LEN + 1]) {
    cJSON *copy = cJSON_Duplicate(settings, 1);
    if (!copy)
        return -1;
    for (size_t i = 0; i < n_skip; i++)
        cJSON_DeleteItemFromObject(copy, skip[i]);
    char *text = cJSON_PrintUnformatted(copy);
    cJSON_Delete(copy);
    if (!text)
        return -1;
    checkpoint_fingerprint(text, out);
    cJSON_free(text);
    return 0;
}

/* The settings a resume may change. Before it could change the schedule,
 * only the first three. */
static const char *const resume_keys[] = {"steps", "threads", "save_every", "schedule",
                                          "decay_steps"};
#define N_RESUME_KEYS (sizeof resume_keys / sizeof resume_keys[0])
#define N_RESUME_KEYS_BEFORE 3

int train_settings_fingerprint(const cJSON *settings, char out[CHECKPOINT_FINGERPRINT_LEN + 1]) {
    return fingerprint_without(settings, resume_keys, N_RESUME_KEYS, out);
}

/* Compute the fingerprint of the older kind, which also covers the schedule
 * and its decay steps. Checkpoints carried it before a resume could change
 * the schedule. */
static int fingerprint_before(const cJSON *settings, char out[CHECKPOINT_FINGERPRINT_LEN + 1]) {
    return fingerprint_without(settings, resume_keys, N_RESUME_KEYS_BEFORE, out);
}

int train_json_number(const char *cmd, const cJSON *j, const char *run, const char *key,
                      double *out) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsNumber(item)) {
        cmd_fail("%s: %s/run.json: key \"%s\" is missing or not a number; the run folder is "
                 "damaged, start a new run",
                 cmd, run, key);
        return -1;
    }
    *out = item->valuedouble;
    return 0;
}

int train_json_long(const char *cmd, const cJSON *j, const char *run, const char *key, long *out) {
    double v;
    if (train_json_number(cmd, j, run, key, &v) < 0)
        return -1;
    *out = (long)v;
    return 0;
}

int train_json_string(const char *cmd, const cJSON *j, const char *run, const char *key,
                      bool nullable, const char **out) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(j, key);
    if (nullable && cJSON_IsNull(item)) {
        *out = NULL;
        return 0;
    }
    if (!cJSON_IsString(item)) {
        cmd_fail("%s: %s/run.json: key \"%s\" is missing or not a string; the run folder is "
                 "damaged, start a new run",
                 cmd, run, key);
        return -1;
    }
    *out = item->valuestring;
    return 0;
}

void train_fail(const char *cmd, const char *msg) {
    static const char generic[] = "; use a smaller context";
    size_t n = strlen(msg), g = sizeof generic - 1;
    if (!strstr(msg, "out of memory")) {
        cmd_fail("%s: %s", cmd, msg);
        return;
    }
    if (n >= g && strcmp(msg + n - g, generic) == 0)
        n -= g;
    if (strcmp(cmd, "pretrain") == 0)
        cmd_fail("%s: %.*s; give a smaller config (hidden_size, num_hidden_layers, vocab_size) "
                 "or a smaller --batch or --seq",
                 cmd, (int)n, msg);
    else
        cmd_fail("%s: %.*s; give a smaller --batch or --seq (the probe needs --batch more "
                 "windows, or turn it off with --probe-every 0)",
                 cmd, (int)n, msg);
}

/* Remove the files in the flat folder path, then the folder. A missing folder is fine. */
static void remove_flat_dir(const char *path) {
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char f[8192];
        snprintf(f, sizeof f, "%s/%s", path, e->d_name);
        unlink(f);
    }
    closedir(d);
    rmdir(path);
}

int train_export_begin(const char *cmd, const char *dst, char *tmp, size_t cap) {
    int n = snprintf(tmp, cap, "%s.tmp", dst);
    if (n < 0 || (size_t)n >= cap) {
        cmd_fail("%s: %s.tmp: path too long; use a shorter run folder", cmd, dst);
        return -1;
    }
    remove_flat_dir(tmp); /* left by an export that was killed */
    if (mkdir(tmp, 0777) < 0) {
        cmd_fail("%s: cannot create %s: %s; check the run folder is writable", cmd, tmp,
                 strerror(errno));
        return -1;
    }
    return 0;
}

int train_export_commit(const char *cmd, const char *tmp, const char *dst) {
    remove_flat_dir(dst);
    if (rename(tmp, dst) < 0) {
        cmd_fail("%s: cannot rename %s to %s: %s; move %s away, then run 'lrc %s --resume' "
                 "on the run again",
                 cmd, tmp, dst, strerror(errno), dst, cmd);
        remove_flat_dir(tmp);
        return -1;
    }
    return 0;
}

void train_export_abort(const char *tmp) {
    remove_flat_dir(tmp);
}

int train_check_command(const char *cmd, const cJSON *j, const char *run) {
    const char *made_by;
    if (train_json_string(cmd, j, run, "command", false, &made_by) < 0)
        return -1;
    if (strcmp(made_by, cmd) == 0)
        return 0;
    if (strcmp(made_by, "distill") == 0 || strcmp(made_by, "pretrain") == 0)
        cmd_fail("%s: %s was made by lrc %s; use lrc %s --resume %s", cmd, run, made_by, made_by,
                 run);
    else
        cmd_fail("%s: %s/run.json: key \"command\" is '%s', expected distill or pretrain; the "
                 "run folder is damaged, start a new run",
                 cmd, run, made_by);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Progress                                                                 */
/* ------------------------------------------------------------------------ */

void train_progress_init(train_progress *p, const char *cmd, int64_t steps) {
    *p = (train_progress){
        .cmd = cmd, .tty = isatty(STDERR_FILENO) == 1, .every = steps >= 20 ? steps / 20 : 1};
}

void train_format_duration(char *buf, size_t cap, double s) {
    if (!(s >= 0) || s > 1e9)
        snprintf(buf, cap, "?");
    else if (s >= 3600)
        snprintf(buf, cap, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else if (s >= 60)
        snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, cap, "%.0fs", s);
}

void train_progress_report(void *ctx, const trainer_event *ev) {
    train_progress *p = ctx;
    if (ev->kind == TRAINER_EVENT_STEP) {
        const runlog_step *r = ev->step;
        bool last = r->step == ev->total_steps;
        if (!p->tty && !(last || r->step == 1 || r->step % p->every == 0))
            return;
        char eta[32];
        train_format_duration(eta, sizeof eta, r->eta_s);
        fprintf(stderr, "%sstep %lld/%lld  loss %.4f  grad-norm %#.3g  %.0f tok/s  ETA %s%s",
                p->tty ? "\r" : "", (long long)r->step, (long long)ev->total_steps, r->loss,
                r->grad_norm, r->tokens_per_s, eta, p->tty ? "\033[K" : "\n");
        p->line_open = p->tty;
    } else if (ev->kind == TRAINER_EVENT_PROBE && !p->tty) {
        const runlog_probe *r = ev->probe;
        if (isfinite(r->ppl_teacher))
            fprintf(stderr, "probe at step %lld: top-1 %.3f  ppl teacher %.4g  student %.4g\n",
                    (long long)r->step, r->top1, r->ppl_teacher, r->ppl_student);
        else
            fprintf(stderr, "probe at step %lld: loss %.4f  ppl %.4g  top-1 %.3f\n",
                    (long long)r->step, log(r->ppl_student), r->ppl_student, r->top1);
    } else if (ev->kind == TRAINER_EVENT_SAVE && ev->warning) {
        fprintf(stderr, "%slrc: %s: %s\n", p->line_open ? "\n" : "", p->cmd, ev->warning);
        p->line_open = false;
    }
    fflush(stderr);
}

/* ------------------------------------------------------------------------ */
/* Signals                                                                  */
/* ------------------------------------------------------------------------ */

static trainer *volatile signal_trainer;

static void on_signal(int sig) {
    (void)sig;
    trainer *t = signal_trainer;
    if (t)
        trainer_request_stop(t);
}

void train_install_signals(trainer *t) {
    signal_trainer = t;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void train_restore_signals(void) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal_trainer = NULL;
}

/* ---- run drivers ------------------------------------------------------------ */

int train_run_create(const train_run *r, const char *out, const char *label, int rank,
                     const cJSON *settings, const trainer_config *tc, const trainer_model *m,
                     adamw *opt, const train_data *data) {
    lrc_error err;
    if (rundir_create(r->rd, out, "runs", label, rank, time(NULL), &err) < 0) {
        train_fail(r->cmd, err.msg);
        return -1;
    }
    if (rundir_lock(r->rd, &err) < 0) {
        train_fail(r->cmd, err.msg);
        rundir_abandon(r->rd);
        return -1;
    }
    if (runlog_write_settings(r->rd->path, settings, &err) < 0 ||
        runlog_open(r->log, r->rd->path, -1, &err) < 0 ||
        trainer_init(r->tr, tc, m, opt, data, r->rd->path, r->log, &err) < 0) {
        train_fail(r->cmd, err.msg);
        runlog_close(r->log);
        rundir_abandon(r->rd);
        return -1;
    }
    return 0;
}

int train_run_open(const train_run *r, const char *path, cJSON **settings) {
    lrc_error err;
    if (rundir_open(r->rd, path, &err) < 0 || rundir_lock(r->rd, &err) < 0 ||
        runlog_read_settings(r->rd->path, settings, &err) < 0) {
        train_fail(r->cmd, err.msg);
        return -1;
    }
    return train_check_command(r->cmd, *settings, r->rd->path);
}

int train_run_resume(const train_run *r, cJSON *settings, trainer_config *tc,
                     const trainer_model *m, adamw *opt, const train_data *data, long steps,
                     long save_every, long threads, lr_decay schedule, long decay_steps) {
    lrc_error err;
    if (train_settings_fingerprint(settings, tc->fingerprint) < 0 ||
        fingerprint_before(settings, tc->fingerprint_before) < 0) {
        cmd_fail("%s: out of memory for the settings", r->cmd);
        return -1;
    }
    if (trainer_init(r->tr, tc, m, opt, data, r->rd->path, r->log, &err) < 0 ||
        trainer_resume(r->tr, &err) < 0) {
        train_fail(r->cmd, err.msg);
        return -1;
    }

    /* The settings a resume may change are written back. */
    cJSON_ReplaceItemInObject(settings, "steps", cJSON_CreateNumber((double)steps));
    cJSON_ReplaceItemInObject(settings, "save_every", cJSON_CreateNumber((double)save_every));
    cJSON_ReplaceItemInObject(settings, "threads", cJSON_CreateNumber((double)threads));
    /* In place, so that an unchanged run.json keeps its fingerprints. */
    cJSON_ReplaceItemInObject(settings, "schedule", cJSON_CreateString(lr_decay_name(schedule)));
    if (schedule != LR_DECAY_WSD)
        cJSON_DeleteItemFromObject(settings, "decay_steps");
    else if (cJSON_GetObjectItemCaseSensitive(settings, "decay_steps"))
        cJSON_ReplaceItemInObject(settings, "decay_steps", cJSON_CreateNumber((double)decay_steps));
    else
        train_json_add_decay(settings, schedule, decay_steps);
    if (runlog_write_settings(r->rd->path, settings, &err) < 0 ||
        runlog_open(r->log, r->rd->path, r->tr->step, &err) < 0) {
        train_fail(r->cmd, err.msg);
        return -1;
    }
    return 0;
}

bool train_run_ended_early(const train_run *r, int rc, trainer_outcome outcome, const char *msg,
                           int *status) {
    if (rc < 0 || outcome == TRAINER_NONFINITE) {
        /* A new run that failed before its first checkpoint has nothing to resume:
         * remove what it wrote, so that the same command can simply be run again. */
        bool removed = r->tr->saved_step < 0 && r->rd->fresh;
        if (removed) {
            runlog_close(r->log);
            rundir_abandon(r->rd);
        }
        cmd_fail("%s: %s%s%s", r->cmd, msg, removed ? "; removed what the run wrote in " : "",
                 removed ? r->rd->path : "");
        *status = rc < 0 ? 1 : TRAIN_EXIT_NONFINITE;
        return true;
    }
    if (outcome == TRAINER_STOPPED) {
        fprintf(stderr,
                "%s: stopped at step %lld; checkpoint %s; continue with 'lrc %s --resume %s'\n",
                r->cmd, (long long)r->tr->step, r->tr->last_checkpoint, r->cmd, r->rd->path);
        *status = 0;
        return true;
    }
    return false;
}
