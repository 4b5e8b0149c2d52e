/*
 * lrc studio (and `lrc` alone on a terminal): parse the options and open the
 * studio (src/tui/studio.c). Settings given here are the Setup screen's
 * starting values; the user can still change them there.
 */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/train_common.h"
#include "tui/studio.h"

static const char usage[] =
    "usage: lrc studio [options] [MODEL...]\n"
    "       lrc\n"
    "\n"
    "Open the studio, a full-screen terminal application: choose a teacher and a\n"
    "rank, watch the distillation live (loss, gradient norm, mutual information\n"
    "per layer, throughput), stop it with a checkpoint, and ask the student or the\n"
    "teacher a question with PR-CoT, one pane per stage. The run is the same as\n"
    "'lrc distill' with these settings, so 'lrc distill --resume RUN' continues a\n"
    "run the studio stopped. Each MODEL (a model folder, a llama2.c file or a\n"
    "cached Hub id ORG/NAME[@REV]) is added to the teacher list, with the bundled\n"
    "teacher, the models in the Hugging Face cache and the students of recent\n"
    "runs; a Hub id typed on the Setup screen is downloaded.\n"
    "'lrc' with no arguments opens the studio when stdin and stdout are terminals.\n"
    "Press ? in the studio for its keys (also in lrc-studio(1)).\n"
    "\n"
    "Options:\n"
    "  --theme NAME           colour theme: default, light, high-contrast, monochrome or\n"
    "                         a .theme file (default: \"theme\" in config.json, else default)\n"
    "  --data FILE            training data: JSONL with a \"text\" field, text, or token\n"
    "                         ids in a .u32 or .bin file\n"
    "  --rank R               student hidden size (default: half the teacher's)\n"
    "  --steps N              optimiser steps (default 1000)\n"
    "  --batch N              sequences per step (default 4)\n"
    "  --seq N                tokens per sequence (default 256)\n"
    "  --lr X                 peak learning rate (default 0.001)\n"
    "  --warmup N             linear warmup steps (default: a tenth of the steps)\n"
    "  --clone-weight X       weight of the summed clone losses (default 1)\n"
    "  --init-method NAME     random or svd start of the projections (default random)\n"
    "  --probe-every N        probe MI, top-1 and perplexities every N steps, 0 for never\n"
    "                         (default 50)\n"
    "  --save-every N         checkpoint every N steps, 0 for only at the end (default 200)\n"
    "  --out RUN              run folder, new or empty (default runs/DATE-TEACHER-rR;\n"
    "                         TEACHER is ORG--NAME for a Hub model)\n"
    "  --runs DIR             folder whose newest runs' students are listed (default runs)\n"
    "  --threads N            OpenBLAS threads (default: OPENBLAS_NUM_THREADS or one per core)\n"
    "  --endpoint URL         also answer on Ask with an OpenAI-compatible server at URL,\n"
    "                         e.g. http://127.0.0.1:8080 (default: \"endpoint\" in config.json)\n"
    "  --model-name NAME      model name sent to the endpoint (required with --endpoint;\n"
    "                         default: \"model_name\" in config.json)\n"
    "  -h, --help             show this help\n"
    "\n"
    "Environment:\n"
    "  LRC_API_KEY            API key sent to the endpoint (else OPENAI_API_KEY); never shown\n"
    "  NO_COLOR               when set and not empty, draw without colours\n"
    "  HF_HUB_CACHE, HF_HOME  the Hugging Face Hub cache listed on Setup and downloaded\n"
    "                         into (default $HF_HOME/hub, else ~/.cache/huggingface/hub)\n"
    "  HF_ENDPOINT            the Hub to download from (default https://huggingface.co,\n"
    "                         also when set but empty)\n"
    "  HF_TOKEN               access token for gated and private models; never shown\n"
    "  HF_HUB_OFFLINE         1, true, yes or on: use the cache only, download nothing\n"
    "  XDG_CONFIG_HOME        config.json and themes/ are read from $XDG_CONFIG_HOME/lrc\n"
    "                         (default ~/.config/lrc)\n"
    "  XDG_STATE_HOME         the Ask screen's question history is $XDG_STATE_HOME/lrc/history\n"
    "                         (default ~/.local/state/lrc/history)\n"
    "  TERM, LANG, LC_ALL     colours come from the terminal type; UTF-8 locales get braille\n"
    "                         charts, others ASCII\n";

static const char *const value_options[] = {
    "--theme",  "--data",     "--rank",        "--steps",        "--batch",      "--seq",
    "--lr",     "--out",      "--probe-every", "--save-every",   "--runs",       "--threads",
    "--warmup", "--endpoint", "--model-name",  "--clone-weight", "--init-method"};

static int parse_value(studio_options *o, const char *a, const char *v) {
    if (v[0] == '\0') {
        cmd_fail("studio: %s is empty; give a value", a);
        return -1;
    }
    long probe;
    if (strcmp(a, "--theme") == 0)
        o->theme = v;
    else if (strcmp(a, "--data") == 0)
        o->data = v;
    else if (strcmp(a, "--out") == 0)
        o->out = v;
    else if (strcmp(a, "--runs") == 0)
        o->runs = v;
    else if (strcmp(a, "--endpoint") == 0) {
        if (strncasecmp(v, "http://", 7) != 0 && strncasecmp(v, "https://", 8) != 0) {
            cmd_fail("studio: --endpoint '%s': expected an http:// or https:// URL such as "
                     "http://127.0.0.1:8080",
                     v);
            return -1;
        }
        o->endpoint = v;
    } else if (strcmp(a, "--model-name") == 0)
        o->model_name = v;
    else if (strcmp(a, "--rank") == 0)
        return train_parse_long("studio", a, v, 1, INT_MAX, &o->rank);
    else if (strcmp(a, "--steps") == 0)
        return train_parse_long("studio", a, v, 1, INT_MAX, &o->steps);
    else if (strcmp(a, "--batch") == 0)
        return train_parse_long("studio", a, v, 1, 1 << 20, &o->batch);
    else if (strcmp(a, "--seq") == 0)
        return train_parse_long("studio", a, v, 1, 1 << 20, &o->seq);
    else if (strcmp(a, "--lr") == 0)
        return train_parse_double("studio", a, v, 0.0, true, &o->lr);
    else if (strcmp(a, "--save-every") == 0)
        return train_parse_long("studio", a, v, 0, INT_MAX, &o->save_every);
    else if (strcmp(a, "--warmup") == 0)
        return train_parse_long("studio", a, v, 0, INT_MAX, &o->warmup);
    else if (strcmp(a, "--clone-weight") == 0)
        return train_parse_double("studio", a, v, 0.0, false, &o->clone_weight);
    else if (strcmp(a, "--init-method") == 0) {
        if (strcmp(v, "random") != 0 && strcmp(v, "svd") != 0) {
            cmd_fail("studio: --init-method '%s': expected random or svd", v);
            return -1;
        }
        o->init_svd = strcmp(v, "svd") == 0;
    } else if (strcmp(a, "--threads") == 0)
        return train_parse_long("studio", a, v, 1, 4096, &o->threads);
    else if (strcmp(a, "--probe-every") == 0) {
        if (train_parse_long("studio", a, v, 0, INT_MAX, &probe) < 0)
            return -1;
        o->probe_every = probe ? probe : -1; /* -1: never */
    }
    return 0;
}

int cmd_studio(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    studio_options o;
    memset(&o, 0, sizeof o);
    o.warmup = -1;
    o.save_every = -1;
    o.clone_weight = -1;
    o.init_svd = -1;
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        if (options_done || a[0] != '-' || a[1] == '\0') {
            if (o.n_models == STUDIO_MAX_MODELS) {
                cmd_fail("studio: more than %d MODEL arguments; give fewer", STUDIO_MAX_MODELS);
                return 2;
            }
            o.models[o.n_models++] = a;
            continue;
        }
        const char *inline_value;
        const char *name = cmd_value_option(
            a, value_options, sizeof value_options / sizeof value_options[0], &inline_value);
        if (!name) {
            cmd_fail("studio: unknown option '%s'; run 'lrc studio --help'", a);
            return 2;
        }
        if (!inline_value && i + 1 >= argc) {
            cmd_fail("studio: option '%s' needs a value; run 'lrc studio --help'", a);
            return 2;
        }
        if (parse_value(&o, name, inline_value ? inline_value : argv[++i]) < 0)
            return 2;
    }
    if (o.endpoint && !o.model_name) {
        cmd_fail("studio: --endpoint needs --model-name NAME (a model the server lists at "
                 "/v1/models)");
        return 2;
    }
    if (o.model_name && !o.endpoint) {
        cmd_fail("studio: --model-name needs --endpoint URL");
        return 2;
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        cmd_fail("studio: stdin and stdout must be a terminal; for scripts use 'lrc distill'");
        return 2;
    }
    return studio_run(&o);
}
