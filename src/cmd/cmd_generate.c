/*
 * lrc generate: continue a prompt with a model, streaming the text to stdout
 * token by token through the tokenizer's streaming decoder. The prompt goes
 * through one batched forward pass, then each new token through a
 * single-token pass over the KV cache. Timings go to stderr, so stdout holds
 * only the generated text.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "cmd/model_common.h"
#include "core/blas.h"
#include "model/forward.h"
#include "model/llama.h"
#include "model/sampler.h"
#include "model/tokenizer.h"

static const char usage[] =
    "usage: lrc generate PATH --prompt TEXT [options]\n"
    "\n"
    "Continue TEXT with the model at PATH (a Hugging Face directory, a llama2.c\n"
    ".bin file, or ORG/NAME[@REVISION] of a model in the Hugging Face Hub cache, see\n"
    "lrc pull) and print the generated text to stdout as it is produced. The\n"
    "prompt and generation speeds, in tokens per second, go to stderr.\n"
    "\n"
    "Options:\n"
    "  -p, --prompt TEXT      text to continue (required)\n"
    "  -n N                   stop after N generated tokens (default 128); generation\n"
    "                         also stops at the end-of-sequence token or a full context\n"
    "  --temperature T        divide the logits by T before sampling; 0 picks the most\n"
    "                         likely token every time, and so does a T so small that\n"
    "                         the logits divided by it overflow (default 0.8)\n"
    "  --top-p P              sample only from the smallest set of most likely tokens\n"
    "                         whose probabilities add up to P, in (0, 1] (default 0.9)\n"
    "  --seed S               seed of the random generator, a non-negative integer\n"
    "                         (default: the current time, printed on stderr)\n"
    "  --threads N            OpenBLAS threads (default: OPENBLAS_NUM_THREADS or one per core)\n"
    "  --tokenizer PATH       tokenizer file or directory, or a cached Hub model\n"
    "                         ORG/NAME[@REVISION] (default: the model directory, or the\n"
    "                         directory of a .bin file)\n"
    "  -h, --help             show this help\n"
    "\n"
    "Options that take a value also accept the form --option=VALUE. Exit status: 0\n"
    "success, 1 failure (including logits that are not finite), 2 usage error, 130\n"
    "stopped by Ctrl-C.\n";

typedef struct generate_options {
    const char *model_path;
    const char *prompt;
    const char *tokenizer_path;
    long n;
    double temperature;
    double top_p;
    uint64_t seed;
    int seed_given;
    long threads;
} generate_options;

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

static double now_seconds(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int parse_long(const char *opt, const char *s, long min, long max, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        cmd_fail("generate: %s '%s': expected an integer from %ld to %ld", opt, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* A finite number in [min, max], or in (min, max] when min_open; range
 * describes the interval for the message. */
static int parse_double(const char *opt, const char *s, double min, double max, bool min_open,
                        const char *range, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno == ERANGE && fabs(v) < 1.0)
        errno = 0; /* underflow: a tiny value is still a value */
    if (errno || end == s || *end || !isfinite(v) || v < min || (min_open && v == min) || v > max) {
        cmd_fail("generate: %s '%s': expected %s", opt, s, range);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_seed(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-') {
        cmd_fail("generate: --seed '%s': expected an integer from 0 to %llu", s,
                 (unsigned long long)UINT64_MAX);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

/* Parse argv into o; returns 0, or 2 on a usage error (already reported). */
static int parse_args(int argc, char **argv, generate_options *o) {
    *o = (generate_options){.n = 128, .temperature = 0.8, .top_p = 0.9};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        const char *v = has_value ? argv[i + 1] : NULL;
        int takes_value = 1;

        /* --option=VALUE: split at the first '='. */
        char name[64];
        const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
        if (eq && (size_t)(eq - a) < sizeof name) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = '\0';
            a = name;
            v = eq + 1;
            has_value = 1;
        }

        if (strcmp(a, "-p") == 0 || strcmp(a, "--prompt") == 0) {
            if (has_value)
                o->prompt = v;
        } else if (strcmp(a, "-n") == 0) {
            if (has_value && parse_long(a, v, 1, INT_MAX, &o->n) < 0)
                return 2;
        } else if (strcmp(a, "--temperature") == 0) {
            if (has_value && parse_double(a, v, 0.0, FLT_MAX, false, "a number from 0 to 3.4e38",
                                          &o->temperature) < 0)
                return 2;
        } else if (strcmp(a, "--top-p") == 0) {
            if (has_value &&
                parse_double(a, v, 0.0, 1.0, true, "a number in (0, 1]", &o->top_p) < 0)
                return 2;
        } else if (strcmp(a, "--seed") == 0) {
            if (has_value && parse_seed(v, &o->seed) < 0)
                return 2;
            o->seed_given = 1;
        } else if (strcmp(a, "--threads") == 0) {
            if (has_value && parse_long(a, v, 1, 4096, &o->threads) < 0)
                return 2;
        } else if (strcmp(a, "--tokenizer") == 0) {
            if (has_value)
                o->tokenizer_path = v;
        } else if (a[0] == '-' && a[1] != '\0') {
            cmd_fail("generate: unknown option '%s'; run 'lrc generate --help'", argv[i]);
            return 2;
        } else {
            takes_value = 0;
            if (o->model_path) {
                cmd_fail("generate: unexpected argument '%s'; give one model PATH", a);
                return 2;
            }
            o->model_path = a;
        }

        if (takes_value) {
            if (!has_value) {
                cmd_fail("generate: option '%s' needs a value; run 'lrc generate --help'", a);
                return 2;
            }
            if (!eq)
                i++;
        }
    }

    if (!o->model_path) {
        cmd_fail("generate: missing model PATH; run 'lrc generate --help'");
        return 2;
    }
    if (!o->prompt) {
        cmd_fail("generate: missing --prompt TEXT; run 'lrc generate --help'");
        return 2;
    }
    return 0;
}

/* Write text to stdout as soon as it is complete. */
static int emit_token(tokenizer_stream *stream, int32_t id, lrc_error *err) {
    char *text = NULL;
    if (tokenizer_stream_push(stream, id, &text, err) < 0) {
        free(text);
        return -1;
    }
    if (text) {
        fputs(text, stdout);
        fflush(stdout);
    }
    free(text);
    return 0;
}

/* NaN or infinite logits mean broken weights; sampling them is meaningless. */
static void fail_not_finite(const char *model_path, long pos) {
    cmd_fail("generate: %s: the logits are not finite (NaN or infinity) at position %ld; "
             "the weights hold NaN or infinite values or overflow, check the checkpoint",
             model_path, pos);
}

static int run(const generate_options *o, llama_model *m, tokenizer *tok) {
    lrc_error err;
    int32_t *prompt = NULL;
    size_t n_prompt = 0;
    float *logits = NULL;
    llama_state state;
    memset(&state, 0, sizeof state);
    sampler smp = {0};
    tokenizer_stream *stream = NULL;
    int status = 1;

    if (tokenizer_encode(tok, o->prompt, strlen(o->prompt), true, &prompt, &n_prompt, &err) < 0) {
        cmd_fail("generate: --prompt: %s", err.msg);
        goto done;
    }
    if (n_prompt == 0) {
        cmd_fail("generate: --prompt encodes to no tokens; give a non-empty prompt");
        goto done;
    }

    /* Room for the prompt and n new tokens, within the model's trained context. */
    long ctx = (long)n_prompt + o->n;
    if (m->cfg.max_seq > 0 && ctx > m->cfg.max_seq)
        ctx = m->cfg.max_seq;
    if ((long)n_prompt >= ctx) {
        cmd_fail("generate: the prompt has %zu token%s, which %s the model's context of %d "
                 "and leaves no room to generate; shorten the prompt",
                 n_prompt, n_prompt == 1 ? "" : "s", (long)n_prompt == ctx ? "fills" : "exceeds",
                 m->cfg.max_seq);
        goto done;
    }
    int batch = ctx < LLAMA_DEFAULT_BATCH ? (int)ctx : LLAMA_DEFAULT_BATCH;
    logits = malloc((size_t)m->cfg.V * sizeof *logits);
    stream = tokenizer_stream_new(tok);
    if (!logits || !stream) {
        cmd_fail("generate: out of memory");
        goto done;
    }
    if (llama_state_init(&state, &m->cfg, (int)ctx, batch, &err) < 0 ||
        sampler_init(&smp, m->cfg.V, (float)o->temperature, (float)o->top_p, o->seed, &err) < 0) {
        cmd_fail("generate: %s", err.msg);
        goto done;
    }

    if (!o->seed_given && o->temperature > 0.0)
        fprintf(stderr, "seed: %llu\n", (unsigned long long)o->seed);

    double t0 = now_seconds();
    if (llama_forward(m, &state, prompt, (int)n_prompt, 0, logits, false, &err) < 0) {
        cmd_fail("generate: %s: %s", o->model_path, err.msg);
        goto done;
    }
    double t1 = now_seconds();
    if (!sampler_logits_finite(logits, (size_t)m->cfg.V)) {
        fail_not_finite(o->model_path, (long)n_prompt - 1);
        goto done;
    }

    int eos_model = m->cfg.eos_id, eos_tok = tokenizer_eos_id(tok);
    long generated = 0, pos = (long)n_prompt;
    const char *stop = "stopped at the token limit";
    signal(SIGINT, on_sigint);
    for (;;) {
        int32_t next = sampler_sample(&smp, logits);
        if (next == eos_model || next == eos_tok) {
            stop = "stopped at end of sequence";
            break;
        }
        if (emit_token(stream, next, &err) < 0) {
            cmd_fail("generate: decoding token %d: %s", (int)next, err.msg);
            goto done;
        }
        generated++;
        if (generated >= o->n)
            break;
        if (pos >= ctx) {
            stop = "stopped at a full context";
            break;
        }
        if (interrupted) {
            stop = "stopped by interrupt (Ctrl-C)";
            break;
        }
        if (llama_forward(m, &state, &next, 1, (int)pos, logits, false, &err) < 0) {
            cmd_fail("generate: %s", err.msg);
            goto done;
        }
        if (!sampler_logits_finite(logits, (size_t)m->cfg.V)) {
            fail_not_finite(o->model_path, pos);
            goto done;
        }
        pos++;
    }
    double t2 = now_seconds();
    signal(SIGINT, SIG_DFL);
    fputc('\n', stdout);
    fflush(stdout);

    double pp = t1 - t0, tg = t2 - t1;
    fprintf(stderr, "prompt: %zu token%s in %.3f s (%.1f tokens/s)\n", n_prompt,
            n_prompt == 1 ? "" : "s", pp, pp > 0 ? (double)n_prompt / pp : 0.0);
    fprintf(stderr, "generation: %ld token%s in %.3f s (%.1f tokens/s), %s\n", generated,
            generated == 1 ? "" : "s", tg, tg > 0 ? (double)generated / tg : 0.0, stop);
    status = interrupted ? 130 : 0;

done:
    if (stream)
        tokenizer_stream_free(stream);
    sampler_free(&smp);
    llama_state_free(&state);
    free(logits);
    free(prompt);
    return status;
}

int cmd_generate(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }

    generate_options o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;
    if (!o.seed_given)
        o.seed = (uint64_t)time(NULL);
    blas_set_threads((int)o.threads);

    llama_model m;
    tokenizer *tok = NULL;
    if (cmd_load_model("generate", o.model_path, o.tokenizer_path, &m, &tok) != 0)
        return 1;

    rc = run(&o, &m, tok);
    tokenizer_free(tok);
    llama_model_free(&m);
    return rc;
}
