/*
 * lrc distill: train a Low-Rank Clone student of a teacher, headless.
 *
 * A new run validates everything first (options, teacher, rank, data length,
 * --init tensors, the --out folder) and only then creates the run folder,
 * so bad input gets one line and leaves the disk as it was. Its settings go
 * to run.json; --resume RUN reads them back from there (only --steps,
 * --save-every and --threads may change) and continues from the latest
 * checkpoint, checked against a fingerprint of the settings. The loop itself
 * is src/train/trainer.c and the setup and export are distill_session.c,
 * shared with the studio; this file parses arguments and shows progress.
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
#include "cmd/distill_session.h"
#include "cmd/train_common.h"
#include "core/blas.h"
#include "model/llama.h"
#include "model/tokenizer.h"
#include "train/lrc.h"
#include "train/trainer.h"

static const char usage[] =
    "usage: lrc distill --teacher DIR --rank R --data FILE [--out RUN] [options]\n"
    "       lrc distill --resume RUN [--steps N] [--save-every N] [--threads N]\n"
    "                          [--schedule NAME] [--decay-steps N]\n"
    "\n"
    "Distil the teacher at DIR into a Low-Rank Clone student of hidden size R:\n"
    "every student weight is the teacher's multiplied by trainable projections,\n"
    "trained on CE + KL + clone losses (see lrc-distill(1)). Writes RUN/run.json,\n"
    "RUN/metrics.jsonl, RUN/checkpoints/ and, at the end, RUN/student/ (a Hugging\n"
    "Face Llama directory). Ctrl-C saves a checkpoint and exits 0.\n"
    "\n"
    "Options:\n"
    "  --teacher DIR          teacher model directory or file, or ORG/NAME[@REVISION] of a\n"
    "                         model in the Hugging Face Hub cache (required)\n"
    "  --rank R               student hidden size, 1..the teacher's (required)\n"
    "  --data FILE            training text, JSONL with a \"text\" field, or .u32 token ids\n"
    "                         (required)\n"
    "  --out RUN              run folder, new or empty (default runs/DATE-TEACHER-rR, with\n"
    "                         TEACHER the folder name, or ORG--NAME for a Hub model)\n"
    "  --steps N              optimiser steps (default 1000)\n"
    "  --batch N              sequences per step (default 4)\n"
    "  --seq N                tokens per sequence (default 256)\n"
    "  --lr X                 peak learning rate (default 0.001)\n"
    "  --warmup N             linear warmup steps (default: a tenth of --steps)\n"
    "  --schedule NAME        cosine, linear, constant or wsd decay after warmup (default\n"
    "                         cosine); wsd keeps the peak rate, then falls linearly to 0\n"
    "                         over the last --decay-steps steps\n"
    "  --decay-steps N        wsd: steps of the final decay (default: a fifth of --steps)\n"
    "  --weight-decay X       AdamW decoupled weight decay, not on norms (default 0.01)\n"
    "  --clip X               global gradient-norm clipping, 0 for none (default 1)\n"
    "  --kl-temp X            KL temperature (default 1)\n"
    "  --ce-weight X          weight of the cross-entropy (default 1)\n"
    "  --kl-weight X          weight of the KL divergence (default 1)\n"
    "  --clone-weight X       weight of the summed clone losses (default 1)\n"
    "  --seed N               seed of the random init and the shuffled sampler (default 1)\n"
    "  --shuffle on|off|docs  random windows, consecutive ones, or random windows that\n"
    "                         start at a document (default on)\n"
    "  --init FILE            load every trainable tensor from a safetensors file\n"
    "  --init-method NAME     random or svd, when no --init is given (default random)\n"
    "  --probe-every N        probe MI, top-1 and perplexities every N steps, 0 for\n"
    "                         never (default 50)\n"
    "  --save-every N         checkpoint every N steps, 0 for only at the end (default 200)\n"
    "  --resume RUN           continue the run in RUN from its latest checkpoint\n"
    "  --threads N            OpenBLAS threads (default: OPENBLAS_NUM_THREADS or one per core)\n"
    "  --no-tui               run headless, the only mode of this command (the live view\n"
    "                         of the same run is 'lrc studio')\n"
    "  -h, --help             show this help\n";

/* ------------------------------------------------------------------------ */
/* Arguments                                                                */
/* ------------------------------------------------------------------------ */

static const char *const value_options[] = {
    "--teacher",      "--rank",       "--data",    "--out",       "--steps",
    "--batch",        "--seq",        "--lr",      "--warmup",    "--schedule",
    "--weight-decay", "--clip",       "--kl-temp", "--ce-weight", "--kl-weight",
    "--clone-weight", "--seed",       "--shuffle", "--init",      "--init-method",
    "--probe-every",  "--save-every", "--resume",  "--threads",   "--decay-steps"};

/* Options a resumed run may still give: the rest come from run.json. */
static bool resume_may_change(const char *opt) {
    return strcmp(opt, "--steps") == 0 || strcmp(opt, "--save-every") == 0 ||
           strcmp(opt, "--threads") == 0 || strcmp(opt, "--resume") == 0 ||
           strcmp(opt, "--schedule") == 0 || strcmp(opt, "--decay-steps") == 0;
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
    } else if (strcmp(a, "--decay-steps") == 0) {
        o->decay_steps_given = true;
        return train_parse_long("distill", a, v, 1, INT_MAX, &o->decay_steps);
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
    else if (strcmp(a, "--shuffle") == 0)
        return train_parse_shuffle("distill", v, &o->shuffle, &o->align_docs);
    else if (strcmp(a, "--init-method") == 0) {
        if (strcmp(v, "random") != 0 && strcmp(v, "svd") != 0) {
            cmd_fail("distill: --init-method '%s': expected random or svd", v);
            return -1;
        }
        o->svd = strcmp(v, "svd") == 0;
        o->init_method_given = true;
    } else if (strcmp(a, "--schedule") == 0) {
        o->schedule_given = true;
        if (lr_decay_parse(v, &o->schedule, &err) < 0) {
            cmd_fail("distill: --schedule: '%s' is not one of cosine, linear, constant, wsd", v);
            return -1;
        }
    }
    return 0;
}

/* Parse argv into o; returns 0, or 2 on a usage error (already reported). */
static int parse_args(int argc, char **argv, distill_options *o) {
    distill_options_default(o);
    bool other_given = false;
    const char *other = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--no-tui") == 0)
            continue;
        /* Accept both "--option value" and "--option=value". */
        const char *inline_value;
        const char *name = cmd_value_option(
            a, value_options, sizeof value_options / sizeof value_options[0], &inline_value);
        if (!name) {
            cmd_fail("distill: unknown %s '%s'; run 'lrc distill --help'",
                     a[0] == '-' ? "option" : "argument", a);
            return TRAIN_EXIT_USAGE;
        }
        if (!inline_value && i + 1 >= argc) {
            cmd_fail("distill: option '%s' needs a value; run 'lrc distill --help'", a);
            return TRAIN_EXIT_USAGE;
        }
        const char *value = inline_value ? inline_value : argv[++i];
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
                     "its run.json); give only --steps, --save-every, --threads, --schedule or "
                     "--decay-steps",
                     other);
            return TRAIN_EXIT_USAGE;
        }
        return 0;
    }
    return distill_options_check(o);
}

/* ------------------------------------------------------------------------ */
/* Run                                                                      */
/* ------------------------------------------------------------------------ */

/* Train with the progress line on stderr and Ctrl-C turned into a stop. */
static int run(distill_options *o) {
    distill_session s;
    int status = 1;
    if (distill_session_open(&s, o) == 0) {
        train_progress p;
        train_progress_init(&p, "distill", o->steps);
        distill_session_print_start(&s, o);
        train_install_signals(&s.tr);
        status = distill_session_run(&s, o, train_progress_report, &p);
        train_restore_signals();
        if (p.line_open)
            fputc('\n', stderr);
        if (s.student_dir[0])
            printf("student written to %s\n", s.student_dir);
    }
    distill_session_free(&s);
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
    return run(&o);
}
