/*
 * lrc distill: train a Low-Rank Clone student of a teacher, headless.
 *
 * A new run validates everything first (options, teacher, rank, data length,
 * --init tensors, the --out folder) and only then creates the run folder,
 * so bad input gets one line and leaves the disk as it was. Its settings go
 * to run.json; --resume RUN reads them back from there (only --steps,
 * --save-every and --threads may change) and continues from the latest
 * checkpoint, checked against a fingerprint of the settings. The loop itself
 * is src/train/trainer.c; this file parses, sets up, shows progress and
 * exports student/ at the end.
 *
 * Exit status: 0 done or stopped by SIGINT/SIGTERM (a checkpoint saved),
 * 1 failure, 2 usage error, 3 non-finite loss.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cmd/cmd.h"
#include "cmd/train_common.h"
#include "core/blas.h"
#include "model/llama.h"
#include "model/tokenizer.h"
#include "train/lrc.h"
#include "train/trainer.h"

#define KEEP_CHECKPOINTS 3

static const char usage[] =
    "usage: lrc distill --teacher DIR --rank R --data FILE [--out RUN] [options]\n"
    "       lrc distill --resume RUN [--steps N] [--save-every N] [--threads N]\n"
    "\n"
    "Distil the teacher at DIR into a Low-Rank Clone student of hidden size R:\n"
    "every student weight is the teacher's multiplied by trainable projections,\n"
    "trained on CE + KL + clone losses (see lrc-distill(1)). Writes RUN/run.json,\n"
    "RUN/metrics.jsonl, RUN/checkpoints/ and, at the end, RUN/student/ (a Hugging\n"
    "Face Llama directory). Ctrl-C saves a checkpoint and exits 0.\n"
    "\n"
    "Options:\n"
    "  --teacher DIR          teacher model directory or file (required)\n"
    "  --rank R               student hidden size, 1..the teacher's (required)\n"
    "  --data FILE            training text, JSONL with a \"text\" field, or .u32 token ids\n"
    "                         (required)\n"
    "  --out RUN              run folder, new or empty (default runs/DATE-TEACHER-rR)\n"
    "  --steps N              optimiser steps (default 1000)\n"
    "  --batch N              sequences per step (default 4)\n"
    "  --seq N                tokens per sequence (default 256)\n"
    "  --lr X                 peak learning rate (default 0.001)\n"
    "  --warmup N             linear warmup steps (default: a tenth of --steps)\n"
    "  --schedule NAME        cosine, linear or constant decay after warmup (default cosine)\n"
    "  --weight-decay X       AdamW decoupled weight decay, not on norms (default 0.01)\n"
    "  --clip X               global gradient-norm clipping, 0 for none (default 1)\n"
    "  --kl-temp X            KL temperature (default 1)\n"
    "  --ce-weight X          weight of the cross-entropy (default 1)\n"
    "  --kl-weight X          weight of the KL divergence (default 1)\n"
    "  --clone-weight X       weight of the summed clone losses (default 1)\n"
    "  --seed N               seed of the random init and the shuffled sampler (default 1)\n"
    "  --shuffle on|off       random windows, or consecutive ones (default on)\n"
    "  --init FILE            load every trainable tensor from a safetensors file\n"
    "  --init-method NAME     random or svd, when no --init is given (default random)\n"
    "  --probe-every N        probe MI, top-1 and perplexities every N steps, 0 for\n"
    "                         never (default 50)\n"
    "  --save-every N         checkpoint every N steps, 0 for only at the end (default 200)\n"
    "  --resume RUN           continue the run in RUN from its latest checkpoint\n"
    "  --threads N            OpenBLAS threads (default: OPENBLAS_NUM_THREADS or one per core)\n"
    "  --no-tui               accepted for scripts; this command never draws the studio\n"
    "  -h, --help             show this help\n";

typedef struct distill_options {
    const char *teacher, *data, *out, *init, *resume;
    long rank, steps, batch, seq, warmup, probe_every, save_every, threads;
    double lr, weight_decay, clip, kl_temp, ce_weight, kl_weight, clone_weight, seed;
    bool shuffle, svd, warmup_given, init_method_given;
    lr_decay schedule;
    /* For --resume: which of the changeable settings were given. */
    bool steps_given, save_every_given;
} distill_options;

/* ------------------------------------------------------------------------ */
/* Arguments                                                                */
/* ------------------------------------------------------------------------ */

static const char *const value_options[] = {
    "--teacher", "--rank",        "--data",        "--out",          "--steps",        "--batch",
    "--seq",     "--lr",          "--warmup",      "--schedule",     "--weight-decay", "--clip",
    "--kl-temp", "--ce-weight",   "--kl-weight",   "--clone-weight", "--seed",         "--shuffle",
    "--init",    "--init-method", "--probe-every", "--save-every",   "--resume",       "--threads"};

/* Options a resumed run may still give: the rest come from run.json. */
static bool resume_may_change(const char *opt) {
    return strcmp(opt, "--steps") == 0 || strcmp(opt, "--save-every") == 0 ||
           strcmp(opt, "--threads") == 0 || strcmp(opt, "--resume") == 0;
}

static void default_options(distill_options *o) {
    *o = (distill_options){.steps = 1000,
                           .batch = 4,
                           .seq = 256,
                           .lr = 1e-3,
                           .weight_decay = 0.01,
                           .clip = 1.0,
                           .kl_temp = 1.0,
                           .ce_weight = 1.0,
                           .kl_weight = 1.0,
                           .clone_weight = 1.0,
                           .seed = 1,
                           .shuffle = true,
                           .schedule = LR_DECAY_COSINE,
                           .probe_every = 50,
                           .save_every = 200};
}

static int parse_value(distill_options *o, const char *a, const char *v) {
    lrc_error err;
    if (v[0] == '\0' &&
        (strcmp(a, "--out") == 0 || strcmp(a, "--data") == 0 || strcmp(a, "--resume") == 0 ||
         strcmp(a, "--teacher") == 0 || strcmp(a, "--init") == 0)) {
        cmd_fail("distill: %s is empty; give a path", a);
        return -1;
    }
    if (strcmp(a, "--teacher") == 0)
        o->teacher = v;
    else if (strcmp(a, "--data") == 0)
        o->data = v;
    else if (strcmp(a, "--out") == 0)
        o->out = v;
    else if (strcmp(a, "--init") == 0)
        o->init = v;
    else if (strcmp(a, "--resume") == 0)
        o->resume = v;
    else if (strcmp(a, "--rank") == 0)
        return train_parse_long("distill", a, v, 1, INT_MAX, &o->rank);
    else if (strcmp(a, "--steps") == 0) {
        o->steps_given = true;
        return train_parse_long("distill", a, v, 1, INT_MAX, &o->steps);
    } else if (strcmp(a, "--batch") == 0)
        return train_parse_long("distill", a, v, 1, 1 << 20, &o->batch);
    else if (strcmp(a, "--seq") == 0)
        return train_parse_long("distill", a, v, 1, 1 << 20, &o->seq);
    else if (strcmp(a, "--warmup") == 0) {
        o->warmup_given = true;
        return train_parse_long("distill", a, v, 0, INT_MAX, &o->warmup);
    } else if (strcmp(a, "--probe-every") == 0)
        return train_parse_long("distill", a, v, 0, INT_MAX, &o->probe_every);
    else if (strcmp(a, "--save-every") == 0) {
        o->save_every_given = true;
        return train_parse_long("distill", a, v, 0, INT_MAX, &o->save_every);
    } else if (strcmp(a, "--threads") == 0)
        return train_parse_long("distill", a, v, 1, 4096, &o->threads);
    else if (strcmp(a, "--lr") == 0)
        return train_parse_double("distill", a, v, 0.0, true, &o->lr);
    else if (strcmp(a, "--weight-decay") == 0)
        return train_parse_double("distill", a, v, 0.0, false, &o->weight_decay);
    else if (strcmp(a, "--clip") == 0)
        return train_parse_double("distill", a, v, 0.0, false, &o->clip);
    else if (strcmp(a, "--kl-temp") == 0)
        return train_parse_double("distill", a, v, 0.0, true, &o->kl_temp);
    else if (strcmp(a, "--ce-weight") == 0)
        return train_parse_double("distill", a, v, 0.0, false, &o->ce_weight);
    else if (strcmp(a, "--kl-weight") == 0)
        return train_parse_double("distill", a, v, 0.0, false, &o->kl_weight);
    else if (strcmp(a, "--clone-weight") == 0)
        return train_parse_double("distill", a, v, 0.0, false, &o->clone_weight);
    else if (strcmp(a, "--seed") == 0)
        return train_parse_seed("distill", v, &o->seed);
    else if (strcmp(a, "--shuffle") == 0) {
        if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0) {
            cmd_fail("distill: --shuffle '%s': expected on or off", v);
            return -1;
        }
        o->shuffle = strcmp(v, "on") == 0;
    } else if (strcmp(a, "--init-method") == 0) {
        if (strcmp(v, "random") != 0 && strcmp(v, "svd") != 0) {
            cmd_fail("distill: --init-method '%s': expected random or svd", v);
            return -1;
        }
        o->svd = strcmp(v, "svd") == 0;
        o->init_method_given = true;
    } else if (strcmp(a, "--schedule") == 0) {
        if (lr_decay_parse(v, &o->schedule, &err) < 0) {
            cmd_fail("distill: --schedule: '%s' is not one of cosine, linear, constant", v);
            return -1;
        }
    }
    return 0;
}

/* Parse argv into o; returns 0, or 2 on a usage error (already reported). */
static int parse_args(int argc, char **argv, distill_options *o) {
    default_options(o);
    bool other_given = false;
    const char *other = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--no-tui") == 0)
            continue;
        /* Accept both "--option value" and "--option=value". */
        const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
        size_t name_len = eq ? (size_t)(eq - a) : strlen(a);
        const char *name = NULL;
        for (size_t j = 0; j < sizeof value_options / sizeof value_options[0]; j++)
            if (strlen(value_options[j]) == name_len && strncmp(a, value_options[j], name_len) == 0)
                name = value_options[j];
        if (!name) {
            cmd_fail("distill: unknown %s '%s'; run 'lrc distill --help'",
                     a[0] == '-' ? "option" : "argument", a);
            return TRAIN_EXIT_USAGE;
        }
        if (!eq && i + 1 >= argc) {
            cmd_fail("distill: option '%s' needs a value; run 'lrc distill --help'", a);
            return TRAIN_EXIT_USAGE;
        }
        const char *value = eq ? eq + 1 : argv[++i];
        if (!resume_may_change(name) && !other_given) {
            other_given = true;
            other = name;
        }
        if (parse_value(o, name, value) < 0)
            return TRAIN_EXIT_USAGE;
    }

    if (o->resume) {
        if (other_given) {
            cmd_fail("distill: %s cannot be changed on --resume (the run's settings come from "
                     "its run.json); give only --steps, --save-every or --threads",
                     other);
            return TRAIN_EXIT_USAGE;
        }
        return 0;
    }
    if (!o->teacher || !o->rank || !o->data) {
        cmd_fail("distill: missing %s; run 'lrc distill --help'", !o->teacher ? "--teacher DIR"
                                                                  : !o->rank  ? "--rank R"
                                                                              : "--data FILE");
        return TRAIN_EXIT_USAGE;
    }
    if (o->init && o->init_method_given) {
        cmd_fail("distill: --init and --init-method cannot be given together (--init loads "
                 "every tensor from its file); drop one of them");
        return TRAIN_EXIT_USAGE;
    }
    if (!o->warmup_given)
        o->warmup = o->steps / 10;
    if (o->warmup > o->steps) {
        cmd_fail("distill: --warmup %ld exceeds --steps %ld; give a warmup of at most the steps",
                 o->warmup, o->steps);
        return TRAIN_EXIT_USAGE;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Settings (run.json)                                                      */
/* ------------------------------------------------------------------------ */

static cJSON *settings_json(const distill_options *o, size_t probe_rows) {
    char teacher[4096], data[4096], init[4096];
    train_absolute_path(teacher, sizeof teacher, o->teacher);
    train_absolute_path(data, sizeof data, o->data);
    if (o->init)
        train_absolute_path(init, sizeof init, o->init);

    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "command", "distill");
    cJSON_AddStringToObject(j, "teacher", teacher);
    cJSON_AddNumberToObject(j, "rank", (double)o->rank);
    cJSON_AddStringToObject(j, "data", data);
    cJSON_AddNumberToObject(j, "steps", (double)o->steps);
    cJSON_AddNumberToObject(j, "batch", (double)o->batch);
    cJSON_AddNumberToObject(j, "seq", (double)o->seq);
    cJSON_AddNumberToObject(j, "lr", o->lr);
    cJSON_AddNumberToObject(j, "lr_min", 0.0);
    cJSON_AddNumberToObject(j, "warmup", (double)o->warmup);
    cJSON_AddStringToObject(j, "schedule", lr_decay_name(o->schedule));
    cJSON_AddNumberToObject(j, "weight_decay", o->weight_decay);
    cJSON_AddNumberToObject(j, "adam_beta1", 0.9);
    cJSON_AddNumberToObject(j, "adam_beta2", 0.999);
    cJSON_AddNumberToObject(j, "adam_eps", 1e-8);
    cJSON_AddNumberToObject(j, "clip", o->clip);
    cJSON_AddNumberToObject(j, "kl_temp", o->kl_temp);
    cJSON_AddNumberToObject(j, "ce_weight", o->ce_weight);
    cJSON_AddNumberToObject(j, "kl_weight", o->kl_weight);
    cJSON_AddNumberToObject(j, "clone_weight", o->clone_weight);
    cJSON_AddNumberToObject(j, "seed", o->seed);
    cJSON_AddStringToObject(j, "shuffle", o->shuffle ? "on" : "off");
    if (o->init)
        cJSON_AddStringToObject(j, "init", init);
    else
        cJSON_AddNullToObject(j, "init");
    cJSON_AddStringToObject(j, "init_method", o->svd ? "svd" : "random");
    cJSON_AddBoolToObject(j, "tie_head", true);
    cJSON_AddNumberToObject(j, "probe_every", (double)o->probe_every);
    cJSON_AddNumberToObject(j, "probe_rows", (double)probe_rows);
    cJSON_AddNumberToObject(j, "save_every", (double)o->save_every);
    cJSON_AddNumberToObject(j, "keep_checkpoints", KEEP_CHECKPOINTS);
    cJSON_AddNumberToObject(j, "threads", (double)o->threads);
    return j;
}

/* Fill o from a run's settings (strings point into settings). */
static int options_from_settings(distill_options *o, const cJSON *s, const char *run) {
    const char *schedule, *shuffle, *method;
    lrc_error err;
    if (train_json_string("distill", s, run, "teacher", false, &o->teacher) < 0 ||
        train_json_string("distill", s, run, "data", false, &o->data) < 0 ||
        train_json_string("distill", s, run, "init", true, &o->init) < 0 ||
        train_json_string("distill", s, run, "schedule", false, &schedule) < 0 ||
        train_json_string("distill", s, run, "shuffle", false, &shuffle) < 0 ||
        train_json_string("distill", s, run, "init_method", false, &method) < 0 ||
        train_json_long("distill", s, run, "rank", &o->rank) < 0 ||
        train_json_long("distill", s, run, "batch", &o->batch) < 0 ||
        train_json_long("distill", s, run, "seq", &o->seq) < 0 ||
        train_json_long("distill", s, run, "warmup", &o->warmup) < 0 ||
        train_json_long("distill", s, run, "probe_every", &o->probe_every) < 0 ||
        train_json_number("distill", s, run, "lr", &o->lr) < 0 ||
        train_json_number("distill", s, run, "weight_decay", &o->weight_decay) < 0 ||
        train_json_number("distill", s, run, "clip", &o->clip) < 0 ||
        train_json_number("distill", s, run, "kl_temp", &o->kl_temp) < 0 ||
        train_json_number("distill", s, run, "ce_weight", &o->ce_weight) < 0 ||
        train_json_number("distill", s, run, "kl_weight", &o->kl_weight) < 0 ||
        train_json_number("distill", s, run, "clone_weight", &o->clone_weight) < 0 ||
        train_json_number("distill", s, run, "seed", &o->seed) < 0)
        return -1;
    if (!o->steps_given && train_json_long("distill", s, run, "steps", &o->steps) < 0)
        return -1;
    if (!o->save_every_given &&
        train_json_long("distill", s, run, "save_every", &o->save_every) < 0)
        return -1;
    if (lr_decay_parse(schedule, &o->schedule, &err) < 0) {
        cmd_fail("distill: %s/run.json: key \"schedule\": %s", run, err.msg);
        return -1;
    }
    o->shuffle = strcmp(shuffle, "on") == 0;
    o->svd = strcmp(method, "svd") == 0;
    if (o->rank < 1 || o->batch < 1 || o->seq < 1 || o->warmup < 0 || o->probe_every < 0 ||
        o->save_every < 0) {
        cmd_fail("distill: %s/run.json: rank, batch, seq, warmup, probe_every or save_every is "
                 "out of range; the run folder is damaged, start a new run",
                 run);
        return -1;
    }
    if (o->warmup > o->steps) {
        cmd_fail("distill: --steps %ld is below the run's warmup of %ld steps; give a larger "
                 "--steps",
                 o->steps, o->warmup);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Progress                                                                 */
/* ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------ */
/* Run                                                                      */
/* ------------------------------------------------------------------------ */

/* Everything a run holds, freed by setup_free in any state. */
typedef struct setup {
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
} setup;

static void setup_free(setup *s) {
    runlog_close(&s->log);
    trainer_free(&s->tr);
    trainer_lrc_free(&s->lt);
    adamw_free(&s->opt);
    lrc_free(&s->student);
    train_data_free(&s->data);
    if (s->tok)
        tokenizer_free(s->tok);
    rundir_unlock(&s->rd);
    llama_model_free(&s->teacher);
    cJSON_Delete(s->settings);
}

/* Load the teacher, data and student and check them against o, creating
 * nothing on disk. With resume, the parameters come later from the
 * checkpoint, so the init is the cheap random one. */
static int prepare(setup *s, const distill_options *o, bool resume) {
    lrc_error err;
    if (llama_model_load(&s->teacher, o->teacher, &err) < 0) {
        train_fail("distill", err.msg);
        return -1;
    }
    const llama_config *tc = &s->teacher.cfg;
    if (o->rank > tc->d) {
        cmd_fail("distill: --rank %ld exceeds the hidden size %d of teacher %s; give a rank in "
                 "1..%d",
                 o->rank, tc->d, o->teacher, tc->d);
        return -1;
    }
    if (tc->max_seq > 0 && o->seq > tc->max_seq) {
        cmd_fail("distill: --seq %ld exceeds the context of %d tokens of teacher %s; give a "
                 "smaller --seq",
                 o->seq, tc->max_seq, o->teacher);
        return -1;
    }

    /* The tokenizer is needed for text and JSONL; .u32 ids need none. */
    lrc_error tok_err;
    if (tokenizer_load(&s->tok, o->teacher, &tok_err) < 0)
        s->tok = NULL;
    if (train_data_load(&s->data, o->data, DATA_FORMAT_AUTO, s->tok, tc->V, &err) < 0) {
        if (!s->tok && strstr(err.msg, "needs a tokenizer"))
            cmd_fail("distill: %s; the teacher's tokenizer did not load (%s); give token ids "
                     "as a .u32 file instead",
                     err.msg, tok_err.msg);
        else
            train_fail("distill", err.msg);
        return -1;
    }
    size_t probe_rows = o->probe_every > 0 ? (size_t)o->batch : 0;
    if (train_data_set_window(&s->data, (size_t)o->seq, probe_rows, &err) < 0) {
        if (probe_rows > 0 && strstr(err.msg, "probe rows"))
            cmd_fail(
                "distill: %s; or give a smaller --batch or --probe-every 0 (the probe holds out "
                "--batch windows)",
                err.msg);
        else
            train_fail("distill", err.msg);
        return -1;
    }

    lrc_options lo = {.rank = (int)o->rank, .tie_head = true, .B = (int)o->batch, .T = (int)o->seq};
    if (lrc_init(&s->student, &s->teacher, &lo, &err) < 0) {
        train_fail("distill", err.msg);
        return -1;
    }
    int rc = 0;
    if (!resume && o->init)
        rc = lrc_import(&s->student, o->init, &err);
    else if (!resume && o->svd)
        rc = lrc_init_svd(&s->student, &err);
    else
        lrc_init_random(&s->student, (uint64_t)o->seed);
    if (rc < 0) {
        train_fail("distill", err.msg);
        return -1;
    }

    adamw_config ac = adamw_config_default();
    ac.weight_decay = o->weight_decay;
    lrc_loss_config loss = lrc_loss_config_default();
    loss.w_ce = o->ce_weight;
    loss.w_kl = o->kl_weight;
    loss.w_clone = o->clone_weight;
    loss.tau = o->kl_temp;
    if (adamw_init(&s->opt, s->student.n_params, &ac, &err) < 0 ||
        param_adamw_exclude_norms(s->student.tensors, s->student.n_tensors, &s->opt, &err) < 0 ||
        trainer_lrc_init(&s->lt, &s->student, &loss, &s->model, &err) < 0) {
        train_fail("distill", err.msg);
        return -1;
    }
    return 0;
}

static trainer_config trainer_settings(const distill_options *o) {
    trainer_config c = {
        .steps = o->steps,
        .batch = (size_t)o->batch,
        .seq = (size_t)o->seq,
        .shuffle = o->shuffle,
        .seed = (uint64_t)o->seed,
        .schedule = {.lr = o->lr,
                     .lr_min = 0.0,
                     .warmup = o->warmup,
                     .total = o->steps,
                     .decay = o->schedule},
        .clip = o->clip,
        .probe_every = o->probe_every,
        .save_every = o->save_every,
        .keep = KEEP_CHECKPOINTS,
    };
    return c;
}

static int export_student(setup *s, const char *teacher_dir) {
    lrc_error err;
    char dir[RUNDIR_PATH_MAX + 16];
    if (rundir_join(dir, sizeof dir, s->rd.path, "student", &err) < 0) {
        train_fail("distill", err.msg);
        return -1;
    }
    char tmp[RUNDIR_PATH_MAX + 32];
    if (train_export_begin("distill", dir, tmp, sizeof tmp) < 0)
        return -1;
    if (lrc_export_hf(&s->student, tmp, &err) < 0 ||
        lrc_copy_tokenizer_files(teacher_dir, tmp, &err) < 0) {
        train_export_abort(tmp);
        cmd_fail("distill: exporting the student: %s; the last checkpoint is saved: fix the cause, "
                 "then 'lrc distill --resume %s' retries the export",
                 err.msg, s->rd.path);
        return -1;
    }
    if (train_export_commit("distill", tmp, dir) < 0)
        return -1;
    printf("student written to %s\n", dir);
    return 0;
}

static int train(setup *s, const distill_options *o) {
    lrc_error err;
    train_progress p;
    train_progress_init(&p, "distill", o->steps);
    trainer_outcome outcome = TRAINER_FINISHED;

    fprintf(stderr,
            "distill: teacher %s (d %d, %d layers), rank %ld, %zu trainable parameters; data %zu "
            "tokens (%zu for training); run %s, from step %lld of %ld\n",
            o->teacher, s->teacher.cfg.d, s->teacher.cfg.n_layers, o->rank, s->student.n_params,
            s->data.n_tokens, s->data.n_train, s->rd.path, (long long)s->tr.step, o->steps);
    train_install_signals(&s->tr);
    int rc = trainer_run(&s->tr, train_progress_report, &p, &outcome, &err);
    train_restore_signals();
    if (p.line_open)
        fputc('\n', stderr);

    train_run run = {"distill", &s->rd, &s->log, &s->tr};
    int status;
    if (train_run_ended_early(&run, rc, outcome, err.msg, &status))
        return status;
    return export_student(s, o->teacher) < 0 ? 1 : 0;
}

static int run_new(distill_options *o) {
    setup s;
    memset(&s, 0, sizeof s);
    int status = 1;

    if (prepare(&s, o, false) < 0)
        goto done;
    s.settings = settings_json(o, s.data.probe_rows);
    trainer_config tc = trainer_settings(o);
    if (!s.settings || train_settings_fingerprint(s.settings, tc.fingerprint) < 0) {
        cmd_fail("distill: out of memory for the settings");
        goto done;
    }

    train_run run = {"distill", &s.rd, &s.log, &s.tr};
    if (train_run_create(&run, o->out, o->teacher, (int)o->rank, s.settings, &tc, &s.model, &s.opt,
                         &s.data) < 0)
        goto done;
    status = train(&s, o);

done:
    setup_free(&s);
    return status;
}

static int run_resume(distill_options *o) {
    setup s;
    memset(&s, 0, sizeof s);
    int status = 1;

    train_run run = {"distill", &s.rd, &s.log, &s.tr};
    if (train_run_open(&run, o->resume, &s.settings) < 0 ||
        options_from_settings(o, s.settings, s.rd.path) < 0 || prepare(&s, o, true) < 0)
        goto done;

    trainer_config tc = trainer_settings(o);
    if (train_run_resume(&run, s.settings, &tc, &s.model, &s.opt, &s.data, o->steps, o->save_every,
                         o->threads) < 0)
        goto done;
    status = train(&s, o);

done:
    setup_free(&s);
    return status;
}

int cmd_distill(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    distill_options o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;
    blas_set_threads((int)o.threads);
    return o.resume ? run_resume(&o) : run_new(&o);
}
