/*
 * lrc pretrain: train every weight of a Llama-family model described by a
 * config.json, from a seeded random start, on a text, JSONL or token-id
 * file. It is `lrc distill` without a teacher: the same loop
 * (src/train/trainer.c), run folder, checkpoints, resume and progress line,
 * with the next-token cross-entropy as the whole loss
 * (src/train/pretrain.c).
 *
 * A new run validates everything first (options, config, tokenizer, the
 * vocabulary, data length, the --out folder) and only then creates the run
 * folder, so bad input gets one line and leaves the disk as it was. The
 * config's vocab_size must be at least the tokenizer's vocabulary (a larger
 * one pads the embedding, as many models do for alignment). Its settings,
 * with a hash of the config file, go to run.json; --resume RUN reads them
 * back (only --steps, --save-every and --threads may change) and refuses a
 * config file that changed since. At the end RUN/model/ is a Hugging Face
 * Llama directory with the tokenizer files copied beside it.
 *
 * Exit status: 0 done or stopped by SIGINT/SIGTERM (a checkpoint saved),
 * 1 failure, 2 usage error, 3 non-finite loss.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <math.h>
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
#include "model/config.h"
#include "model/tokenizer.h"
#include "train/lrc.h"
#include "train/pretrain.h"
#include "train/trainer.h"

#define KEEP_CHECKPOINTS 3

static const char usage[] =
    "usage: lrc pretrain --config CONFIG.json --tokenizer PATH --data FILE --out RUN [options]\n"
    "       lrc pretrain --resume RUN [--steps N] [--save-every N] [--threads N]\n"
    "                          [--schedule NAME] [--decay-steps N]\n"
    "\n"
    "Train every weight of the Llama-family model that CONFIG.json describes, from a\n"
    "seeded random start, on the next-token cross-entropy (see lrc-pretrain(1)).\n"
    "Writes RUN/run.json, RUN/metrics.jsonl, RUN/checkpoints/ and, at the end,\n"
    "RUN/model/ (a Hugging Face Llama directory with the tokenizer files). Ctrl-C\n"
    "saves a checkpoint and exits 0.\n"
    "\n"
    "Options:\n"
    "  --config FILE          Hugging Face config.json of the model (required); its\n"
    "                         vocab_size must be at least the tokenizer's vocabulary\n"
    "  --tokenizer PATH       tokenizer.json, or a folder holding it (required); the\n"
    "                         tokenizer files of its folder are copied to RUN/model/\n"
    "  --data FILE            training text, JSONL with a \"text\" field, or .u32 token ids\n"
    "                         (required)\n"
    "  --out RUN              run folder, new or empty (required)\n"
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
    "  --seed N               seed of the random init and the shuffled sampler (default 1)\n"
    "  --shuffle on|off|docs  random windows, consecutive ones, or random windows that\n"
    "                         start at a document (default on)\n"
    "  --probe-every N        held-out loss, perplexity and top-1 accuracy every N steps,\n"
    "                         0 for never (default 50)\n"
    "  --save-every N         checkpoint every N steps, 0 for only at the end (default 200)\n"
    "  --resume RUN           continue the run in RUN from its latest checkpoint\n"
    "  --threads N            OpenBLAS threads (default: OPENBLAS_NUM_THREADS or one per core)\n"
    "  -h, --help             show this help\n";

typedef struct pretrain_options {
    const char *config, *tokenizer, *data, *out, *resume;
    long steps, batch, seq, warmup, decay_steps, probe_every, save_every, threads;
    double lr, weight_decay, clip, seed;
    bool shuffle, align_docs, warmup_given, decay_steps_given;
    lr_decay schedule;
    /* For --resume: which of the changeable settings were given. */
    bool steps_given, save_every_given, schedule_given;
} pretrain_options;

/* ------------------------------------------------------------------------ */
/* Arguments                                                                */
/* ------------------------------------------------------------------------ */

static const char *const value_options[] = {
    "--config",       "--tokenizer", "--data",    "--out",        "--steps",
    "--batch",        "--seq",       "--lr",      "--warmup",     "--schedule",
    "--weight-decay", "--clip",      "--seed",    "--shuffle",    "--probe-every",
    "--save-every",   "--resume",    "--threads", "--decay-steps"};

/* Options a resumed run may still give: the rest come from run.json. */
static bool resume_may_change(const char *opt) {
    return strcmp(opt, "--steps") == 0 || strcmp(opt, "--save-every") == 0 ||
           strcmp(opt, "--threads") == 0 || strcmp(opt, "--resume") == 0 ||
           strcmp(opt, "--schedule") == 0 || strcmp(opt, "--decay-steps") == 0;
}

static void default_options(pretrain_options *o) {
    *o = (pretrain_options){.steps = 1000,
                            .batch = 4,
                            .seq = 256,
                            .lr = 1e-3,
                            .weight_decay = 0.01,
                            .clip = 1.0,
                            .seed = 1,
                            .shuffle = true,
                            .schedule = LR_DECAY_COSINE,
                            .probe_every = 50,
                            .save_every = 200};
}

static int parse_value(pretrain_options *o, const char *a, const char *v) {
    static const char cmd[] = "pretrain";
    if (v[0] == '\0' &&
        (strcmp(a, "--out") == 0 || strcmp(a, "--data") == 0 || strcmp(a, "--resume") == 0 ||
         strcmp(a, "--config") == 0 || strcmp(a, "--tokenizer") == 0)) {
        cmd_fail("pretrain: %s is empty; give a path", a);
        return -1;
    }
    lrc_error err;
    if (strcmp(a, "--config") == 0)
        o->config = v;
    else if (strcmp(a, "--tokenizer") == 0)
        o->tokenizer = v;
    else if (strcmp(a, "--data") == 0)
        o->data = v;
    else if (strcmp(a, "--out") == 0)
        o->out = v;
    else if (strcmp(a, "--resume") == 0)
        o->resume = v;
    else if (strcmp(a, "--steps") == 0) {
        o->steps_given = true;
        return train_parse_long(cmd, a, v, 1, INT_MAX, &o->steps);
    } else if (strcmp(a, "--batch") == 0)
        return train_parse_long(cmd, a, v, 1, 1 << 20, &o->batch);
    else if (strcmp(a, "--seq") == 0)
        return train_parse_long(cmd, a, v, 1, 1 << 20, &o->seq);
    else if (strcmp(a, "--warmup") == 0) {
        o->warmup_given = true;
        return train_parse_long(cmd, a, v, 0, INT_MAX, &o->warmup);
    } else if (strcmp(a, "--decay-steps") == 0) {
        o->decay_steps_given = true;
        return train_parse_long(cmd, a, v, 1, INT_MAX, &o->decay_steps);
    } else if (strcmp(a, "--probe-every") == 0)
        return train_parse_long(cmd, a, v, 0, INT_MAX, &o->probe_every);
    else if (strcmp(a, "--save-every") == 0) {
        o->save_every_given = true;
        return train_parse_long(cmd, a, v, 0, INT_MAX, &o->save_every);
    } else if (strcmp(a, "--threads") == 0)
        return train_parse_long(cmd, a, v, 1, 4096, &o->threads);
    else if (strcmp(a, "--lr") == 0)
        return train_parse_double(cmd, a, v, 0.0, true, &o->lr);
    else if (strcmp(a, "--weight-decay") == 0)
        return train_parse_double(cmd, a, v, 0.0, false, &o->weight_decay);
    else if (strcmp(a, "--clip") == 0)
        return train_parse_double(cmd, a, v, 0.0, false, &o->clip);
    else if (strcmp(a, "--seed") == 0)
        return train_parse_seed(cmd, v, &o->seed);
    else if (strcmp(a, "--shuffle") == 0)
        return train_parse_shuffle(cmd, v, &o->shuffle, &o->align_docs);
    else if (strcmp(a, "--schedule") == 0) {
        o->schedule_given = true;
        if (lr_decay_parse(v, &o->schedule, &err) < 0) {
            cmd_fail("pretrain: --schedule: '%s' is not one of cosine, linear, constant, wsd", v);
            return -1;
        }
    }
    return 0;
}

/* Parse argv into o; returns 0, or 2 on a usage error (already reported). */
static int parse_args(int argc, char **argv, pretrain_options *o) {
    default_options(o);
    const char *other = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        /* Accept both "--option value" and "--option=value". */
        const char *inline_value;
        const char *name = cmd_value_option(
            a, value_options, sizeof value_options / sizeof value_options[0], &inline_value);
        if (!name) {
            cmd_fail("pretrain: unknown %s '%s'; run 'lrc pretrain --help'",
                     a[0] == '-' ? "option" : "argument", a);
            return TRAIN_EXIT_USAGE;
        }
        if (!inline_value && i + 1 >= argc) {
            cmd_fail("pretrain: option '%s' needs a value; run 'lrc pretrain --help'", a);
            return TRAIN_EXIT_USAGE;
        }
        const char *value = inline_value ? inline_value : argv[++i];
        if (!resume_may_change(name) && !other)
            other = name;
        if (parse_value(o, name, value) < 0)
            return TRAIN_EXIT_USAGE;
    }

    if (o->resume) {
        if (other) {
            cmd_fail("pretrain: %s cannot be changed on --resume (the run's settings come from "
                     "its run.json); give only --steps, --save-every, --threads, --schedule or "
                     "--decay-steps",
                     other);
            return TRAIN_EXIT_USAGE;
        }
        return 0;
    }
    const char *missing = !o->config      ? "--config CONFIG.json"
                          : !o->tokenizer ? "--tokenizer PATH"
                          : !o->data      ? "--data FILE"
                          : !o->out       ? "--out RUN"
                                          : NULL;
    if (missing) {
        cmd_fail("pretrain: missing %s; run 'lrc pretrain --help'", missing);
        return TRAIN_EXIT_USAGE;
    }
    int rc = train_check_warmup("pretrain", o->warmup_given, o->steps, &o->warmup);
    if (rc != 0)
        return rc;
    return train_check_decay("pretrain", o->schedule, o->decay_steps_given, o->steps, o->warmup,
                             &o->decay_steps);
}

/* ------------------------------------------------------------------------ */
/* Settings (run.json)                                                      */
/* ------------------------------------------------------------------------ */

/* The fingerprint of the config file's bytes, so that a resume notices a
 * changed file. */
static int config_hash(const char *path, char out[CHECKPOINT_FINGERPRINT_LEN + 1]) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        cmd_fail("pretrain: %s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(fp);
        cmd_fail("pretrain: --config %s is a directory; give its config.json file", path);
        return -1;
    }

    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    size_t n;
    while (text && (n = fread(text + len, 1, cap - len - 1, fp)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *bigger = realloc(text, cap * 2);
            if (!bigger) {
                free(text);
                text = NULL;
                break;
            }
            text = bigger;
            cap *= 2;
        }
    }
    int bad = ferror(fp);
    fclose(fp);

    if (!text || bad) {
        free(text);
        cmd_fail("pretrain: %s: cannot read the file", path);
        return -1;
    }

    text[len] = '\0';
    checkpoint_fingerprint(text, out);
    free(text);
    return 0;
}

static cJSON *settings_json(const pretrain_options *o, const char *hash, size_t probe_rows) {
    char config[4096], tok[4096], data[4096];
    train_absolute_path(config, sizeof config, o->config);
    train_absolute_path(tok, sizeof tok, o->tokenizer);
    train_absolute_path(data, sizeof data, o->data);

    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "command", "pretrain");
    cJSON_AddStringToObject(j, "config", config);
    cJSON_AddStringToObject(j, "config_hash", hash);
    cJSON_AddStringToObject(j, "tokenizer", tok);
    cJSON_AddStringToObject(j, "data", data);
    cJSON_AddNumberToObject(j, "steps", (double)o->steps);
    cJSON_AddNumberToObject(j, "batch", (double)o->batch);
    cJSON_AddNumberToObject(j, "seq", (double)o->seq);
    cJSON_AddNumberToObject(j, "lr", o->lr);
    cJSON_AddNumberToObject(j, "lr_min", 0.0);
    cJSON_AddNumberToObject(j, "warmup", (double)o->warmup);
    cJSON_AddStringToObject(j, "schedule", lr_decay_name(o->schedule));
    train_json_add_decay(j, o->schedule, o->decay_steps);
    cJSON_AddNumberToObject(j, "weight_decay", o->weight_decay);
    cJSON_AddNumberToObject(j, "adam_beta1", 0.9);
    cJSON_AddNumberToObject(j, "adam_beta2", 0.999);
    cJSON_AddNumberToObject(j, "adam_eps", 1e-8);
    cJSON_AddNumberToObject(j, "clip", o->clip);
    cJSON_AddNumberToObject(j, "seed", o->seed);
    cJSON_AddStringToObject(j, "shuffle", train_shuffle_name(o->shuffle, o->align_docs));
    cJSON_AddStringToObject(j, "init", "normal 0.02, residual projections 0.02/sqrt(2L)");
    cJSON_AddNumberToObject(j, "probe_every", (double)o->probe_every);
    cJSON_AddNumberToObject(j, "probe_rows", (double)probe_rows);
    cJSON_AddNumberToObject(j, "save_every", (double)o->save_every);
    cJSON_AddNumberToObject(j, "keep_checkpoints", KEEP_CHECKPOINTS);
    cJSON_AddNumberToObject(j, "threads", (double)o->threads);
    return j;
}

/* Fill o from a run's settings (strings point into settings). */
static int options_from_settings(pretrain_options *o, const cJSON *s, const char *run) {
    static const char cmd[] = "pretrain";
    const char *shuffle;
    if (train_json_string(cmd, s, run, "config", false, &o->config) < 0 ||
        train_json_string(cmd, s, run, "tokenizer", false, &o->tokenizer) < 0 ||
        train_json_string(cmd, s, run, "data", false, &o->data) < 0 ||
        train_json_string(cmd, s, run, "shuffle", false, &shuffle) < 0 ||
        train_json_long(cmd, s, run, "batch", &o->batch) < 0 ||
        train_json_long(cmd, s, run, "seq", &o->seq) < 0 ||
        train_json_long(cmd, s, run, "warmup", &o->warmup) < 0 ||
        train_json_long(cmd, s, run, "probe_every", &o->probe_every) < 0 ||
        train_json_number(cmd, s, run, "lr", &o->lr) < 0 ||
        train_json_number(cmd, s, run, "weight_decay", &o->weight_decay) < 0 ||
        train_json_number(cmd, s, run, "clip", &o->clip) < 0 ||
        train_json_number(cmd, s, run, "seed", &o->seed) < 0)
        return -1;
    if (!o->steps_given && train_json_long(cmd, s, run, "steps", &o->steps) < 0)
        return -1;
    if (!o->save_every_given && train_json_long(cmd, s, run, "save_every", &o->save_every) < 0)
        return -1;
    if (train_resume_decay(cmd, s, run, o->schedule_given, &o->schedule, o->decay_steps_given,
                           o->steps, o->warmup, &o->decay_steps) < 0)
        return -1;
    if (train_resume_shuffle(cmd, run, shuffle, &o->shuffle, &o->align_docs) < 0)
        return -1;
    if (o->batch < 1 || o->seq < 1 || o->warmup < 0 || o->probe_every < 0 || o->save_every < 0) {
        cmd_fail("pretrain: %s/run.json: batch, seq, warmup, probe_every or save_every is out of "
                 "range; the run folder is damaged, start a new run",
                 run);
        return -1;
    }
    if (o->warmup + o->decay_steps > o->steps) {
        cmd_fail("pretrain: --steps %ld is below the run's warmup and decay of %ld steps; give a "
                 "larger --steps",
                 o->steps, o->warmup + o->decay_steps);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Run                                                                      */
/* ------------------------------------------------------------------------ */

/* Everything a run holds, freed by setup_free in any state. */
typedef struct setup {
    llama_config cfg;
    tokenizer *tok;
    char tok_dir[4096]; /* the folder whose tokenizer files RUN/model/ receives */
    char hash[CHECKPOINT_FINGERPRINT_LEN + 1];
    train_data data;
    pretrain_model model;
    adamw opt;
    trainer_pretrain tp;
    trainer_model tm;
    trainer tr;
    runlog log;
    rundir rd;
    cJSON *settings;
} setup;

static void setup_free(setup *s) {
    runlog_close(&s->log);
    trainer_free(&s->tr);
    trainer_pretrain_free(&s->tp);
    adamw_free(&s->opt);
    pretrain_free(&s->model);
    train_data_free(&s->data);
    if (s->tok)
        tokenizer_free(s->tok);
    rundir_unlock(&s->rd);
    cJSON_Delete(s->settings);
}

/* Load the config, tokenizer, data and model and check them against o,
 * creating nothing on disk. With resume, the weights come later from the
 * checkpoint. */
static int prepare(setup *s, const pretrain_options *o, bool resume) {
    lrc_error err;
    struct stat sb;

    if (config_hash(o->config, s->hash) < 0)
        return -1;
    if (llama_config_load(&s->cfg, o->config, &err) < 0) {
        train_fail("pretrain", err.msg);
        return -1;
    }
    llama_config *c = &s->cfg;
    if (llama_config_validate(c, o->config, &err) < 0) {
        train_fail("pretrain", err.msg);
        return -1;
    }

    if (tokenizer_load(&s->tok, o->tokenizer, &err) < 0) {
        train_fail("pretrain", err.msg);
        return -1;
    }
    bool is_dir = stat(o->tokenizer, &sb) == 0 && S_ISDIR(sb.st_mode);
    snprintf(s->tok_dir, sizeof s->tok_dir, "%s", is_dir ? o->tokenizer : ".");
    const char *slash = strrchr(o->tokenizer, '/');
    if (!is_dir && slash)
        snprintf(s->tok_dir, sizeof s->tok_dir, "%.*s", (int)(slash - o->tokenizer + 1),
                 o->tokenizer);
    int tok_vocab = tokenizer_vocab_size(s->tok);
    if (c->V < tok_vocab) {
        cmd_fail("pretrain: %s: vocab_size %d is below the %d tokens of tokenizer %s; set "
                 "vocab_size to at least %d",
                 o->config, c->V, tok_vocab, o->tokenizer, tok_vocab);
        return -1;
    }
    /* The exported config names the tokenizer's special ids when the
     * model config names none, so generation stops at EOS. */
    if (c->bos_id < 0)
        c->bos_id = tokenizer_bos_id(s->tok);
    if (c->eos_id < 0 && tokenizer_eos_id(s->tok) >= 0) {
        c->eos_id = c->eos_ids[0] = tokenizer_eos_id(s->tok);
        c->n_eos_ids = 1;
    }
    if (c->max_seq > 0 && o->seq > c->max_seq) {
        cmd_fail("pretrain: --seq %ld exceeds max_position_embeddings %d of %s; give a smaller "
                 "--seq or a larger context in the config",
                 o->seq, c->max_seq, o->config);
        return -1;
    }
    if (c->max_seq <= 0)
        c->max_seq = (int)o->seq;

    if (train_data_load(&s->data, o->data, DATA_FORMAT_AUTO, s->tok, c->V, &err) < 0) {
        train_fail("pretrain", err.msg);
        return -1;
    }
    size_t probe_rows = o->probe_every > 0 ? (size_t)o->batch : 0;
    if (train_data_set_window(&s->data, (size_t)o->seq, probe_rows, &err) < 0) {
        if (probe_rows > 0 && strstr(err.msg, "probe rows"))
            cmd_fail(
                "pretrain: %s; or give a smaller --batch or --probe-every 0 (the probe holds out "
                "--batch windows)",
                err.msg);
        else
            train_fail("pretrain", err.msg);
        return -1;
    }
    if (o->align_docs && train_data_align_docs(&s->data, &err) < 0) {
        train_fail("pretrain", err.msg);
        return -1;
    }

    if (pretrain_init(&s->model, c, (int)o->batch, (int)o->seq, &err) < 0) {
        char msg[LRC_ERROR_MAX + 4200];
        snprintf(msg, sizeof msg, "%s: %s", o->config, err.msg);
        train_fail("pretrain", msg);
        return -1;
    }
    if (!resume)
        pretrain_init_random(&s->model, (uint64_t)o->seed, true);

    adamw_config ac = adamw_config_default();
    ac.weight_decay = o->weight_decay;
    if (adamw_init(&s->opt, s->model.n_params, &ac, &err) < 0 ||
        param_adamw_exclude_norms(s->model.tensors, s->model.n_tensors, &s->opt, &err) < 0 ||
        trainer_pretrain_init(&s->tp, &s->model, &s->tm, &err) < 0) {
        train_fail("pretrain", err.msg);
        return -1;
    }
    return 0;
}

static trainer_config trainer_settings(const pretrain_options *o) {
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
                     .decay = o->schedule,
                     .decay_steps = o->decay_steps},
        .clip = o->clip,
        .probe_every = o->probe_every,
        .save_every = o->save_every,
        .keep = KEEP_CHECKPOINTS,
    };
    return c;
}

static int export_model(setup *s) {
    lrc_error err;
    char dir[RUNDIR_PATH_MAX + 16];
    if (rundir_join(dir, sizeof dir, s->rd.path, "model", &err) < 0) {
        train_fail("pretrain", err.msg);
        return -1;
    }
    char tmp[RUNDIR_PATH_MAX + 32];
    if (train_export_begin("pretrain", dir, tmp, sizeof tmp) < 0)
        return -1;
    if (pretrain_export_hf(&s->model, tmp, &err) < 0 ||
        lrc_copy_tokenizer_files(s->tok_dir, tmp, &err) < 0) {
        train_export_abort(tmp);
        cmd_fail("pretrain: exporting the model: %s; the last checkpoint is saved: fix the cause, "
                 "then 'lrc pretrain --resume %s' retries the export",
                 err.msg, s->rd.path);
        return -1;
    }
    if (train_export_commit("pretrain", tmp, dir) < 0)
        return -1;
    printf("model written to %s\n", dir);
    return 0;
}

static int train(setup *s, const pretrain_options *o) {
    lrc_error err;
    train_progress p;
    train_progress_init(&p, "pretrain", o->steps);
    trainer_outcome outcome = TRAINER_FINISHED;

    fprintf(stderr,
            "pretrain: model %s (d %d, %d layers, vocabulary %d), %zu parameters; data %zu "
            "tokens (%zu for training); run %s, from step %lld of %ld\n",
            o->config, s->cfg.d, s->cfg.n_layers, s->cfg.V, s->model.n_params, s->data.n_tokens,
            s->data.n_train, s->rd.path, (long long)s->tr.step, o->steps);
    train_install_signals(&s->tr);
    int rc = trainer_run(&s->tr, train_progress_report, &p, &outcome, &err);
    train_restore_signals();
    if (p.line_open)
        fputc('\n', stderr);

    train_run run = {"pretrain", &s->rd, &s->log, &s->tr};
    int status;
    if (train_run_ended_early(&run, rc, outcome, err.msg, &status))
        return status;
    return export_model(s) < 0 ? 1 : 0;
}

static int run_new(pretrain_options *o) {
    setup s;
    memset(&s, 0, sizeof s);
    int status = 1;

    if (prepare(&s, o, false) < 0)
        goto done;
    s.settings = settings_json(o, s.hash, s.data.probe_rows);
    trainer_config tc = trainer_settings(o);
    if (!s.settings || train_settings_fingerprint(s.settings, tc.fingerprint) < 0) {
        cmd_fail("pretrain: out of memory for the settings");
        goto done;
    }

    train_run run = {"pretrain", &s.rd, &s.log, &s.tr};
    if (train_run_create(&run, o->out, "pretrain", 0, s.settings, &tc, &s.tm, &s.opt, &s.data) < 0)
        goto done;
    status = train(&s, o);

done:
    setup_free(&s);
    return status;
}

static int run_resume(pretrain_options *o) {
    setup s;
    memset(&s, 0, sizeof s);
    int status = 1;
    const char *hash;

    train_run run = {"pretrain", &s.rd, &s.log, &s.tr};
    if (train_run_open(&run, o->resume, &s.settings) < 0 ||
        options_from_settings(o, s.settings, s.rd.path) < 0 ||
        train_json_string("pretrain", s.settings, s.rd.path, "config_hash", false, &hash) < 0 ||
        prepare(&s, o, true) < 0)
        goto done;
    if (strcmp(hash, s.hash) != 0) {
        cmd_fail("pretrain: %s changed since the run started; restore it or start a new run",
                 o->config);
        goto done;
    }

    trainer_config tc = trainer_settings(o);
    if (train_run_resume(&run, s.settings, &tc, &s.tm, &s.opt, &s.data, o->steps, o->save_every,
                         o->threads, o->schedule, o->decay_steps) < 0)
        goto done;
    status = train(&s, o);

done:
    setup_free(&s);
    return status;
}

int cmd_pretrain(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    pretrain_options o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;
    blas_set_threads((int)o.threads);
    return o.resume ? run_resume(&o) : run_new(&o);
}
