/*
 * lrc perplexity: mean negative log-likelihood of a text under a model. The
 * file is tokenized without special tokens and cut into non-overlapping
 * windows of --ctx tokens. Each window starts with an empty cache, so its
 * first token is context only and every later token is predicted from the
 * tokens before it in the same window; a last window of one token scores
 * nothing. Windows run through the forward pass in chunks of CHUNK tokens to
 * bound the logits buffer at CHUNK x V floats.
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

#include "cmd/cmd.h"
#include "cmd/model_common.h"
#include "core/blas.h"
#include "model/forward.h"
#include "model/llama.h"
#include "model/tokenizer.h"

#define DEFAULT_CTX 512
#define CHUNK 128

static const char usage[] =
    "usage: lrc perplexity PATH --text FILE [options]\n"
    "\n"
    "Score FILE with the model at PATH (a Hugging Face directory, a llama2.c .bin\n"
    "file, or ORG/NAME[@REVISION] of a model in the Hugging Face Hub cache, see lrc\n"
    "pull). The text is tokenized without special tokens and cut into windows of\n"
    "--ctx tokens; in each window every token after the first is predicted from the\n"
    "ones before it. Prints, one 'key value' pair per line, the tokens in the file,\n"
    "the tokens scored, the windows, the mean negative log-likelihood per scored\n"
    "token (nats) and the perplexity exp(nll), to six significant digits.\n"
    "\n"
    "Options:\n"
    "  --text FILE            text file to score, or - for standard input (required)\n"
    "  --ctx N                window length in tokens, from 2 to the model's context\n"
    "                         (default 512, or the model's context when that is shorter)\n"
    "  --threads N            OpenBLAS threads (default: OPENBLAS_NUM_THREADS or one per core)\n"
    "  --tokenizer PATH       tokenizer file or directory, or a cached Hub model\n"
    "                         ORG/NAME[@REVISION] (default: the model directory, or the\n"
    "                         directory of a .bin file)\n"
    "  -h, --help             show this help\n"
    "\n"
    "Options that take a value also accept the form --option=VALUE. Exit status: 0\n"
    "success, 1 failure (including logits that are not finite), 2 usage error.\n";

typedef struct perplexity_options {
    const char *model_path;
    const char *text_path;
    const char *tokenizer_path;
    long ctx; /* 0: the default */
    long threads;
} perplexity_options;

static int parse_long(const char *opt, const char *s, long min, long max, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        cmd_fail("perplexity: %s '%s': expected an integer from %ld to %ld", opt, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* Parse argv into o; returns 0, or 2 on a usage error (already reported). */
static int parse_args(int argc, char **argv, perplexity_options *o) {
    *o = (perplexity_options){0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int is_option = a[0] == '-' && a[1] != '\0';

        /* --option=VALUE: split at the first '='. */
        char name[64];
        const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
        if (eq && (size_t)(eq - a) < sizeof name) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = '\0';
            a = name;
            v = eq + 1;
        }

        if (!is_option) {
            if (o->model_path) {
                cmd_fail("perplexity: unexpected argument '%s'; give one model PATH", a);
                return 2;
            }
            o->model_path = a;
            continue;
        }
        if (strcmp(a, "--text") != 0 && strcmp(a, "--ctx") != 0 && strcmp(a, "--threads") != 0 &&
            strcmp(a, "--tokenizer") != 0) {
            cmd_fail("perplexity: unknown option '%s'; run 'lrc perplexity --help'", argv[i]);
            return 2;
        }
        if (!v) {
            cmd_fail("perplexity: option '%s' needs a value; run 'lrc perplexity --help'", a);
            return 2;
        }
        if (!eq)
            i++;

        if (strcmp(a, "--text") == 0)
            o->text_path = v;
        else if (strcmp(a, "--tokenizer") == 0)
            o->tokenizer_path = v;
        else if (strcmp(a, "--ctx") == 0 && parse_long(a, v, 2, INT_MAX, &o->ctx) < 0)
            return 2;
        else if (strcmp(a, "--threads") == 0 && parse_long(a, v, 1, 4096, &o->threads) < 0)
            return 2;
    }

    if (!o->model_path) {
        cmd_fail("perplexity: missing model PATH; run 'lrc perplexity --help'");
        return 2;
    }
    if (!o->text_path) {
        cmd_fail("perplexity: missing --text FILE; run 'lrc perplexity --help'");
        return 2;
    }
    return 0;
}

/* Read a whole file, or standard input for "-", into a malloc'd,
 * NUL-terminated buffer. */
static char *read_text(const char *path, size_t *len) {
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        cmd_fail("perplexity: cannot open --text file %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        cmd_fail("perplexity: --text %s is a directory; give a text file", path);
        if (!is_stdin)
            fclose(f);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        char *grown = realloc(buf, cap * 2);
        if (!grown) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    int failed = ferror(f), saved = errno;
    if (!is_stdin)
        fclose(f);
    if (!buf || failed) {
        cmd_fail("perplexity: reading %s failed: %s", path,
                 buf ? strerror(saved) : "out of memory");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* -log softmax(row)[target], in double, or NAN when a value of the row is
 * not finite.
 *   row (V) */
static double token_nll(const float *row, int V, int target) {
    float max = row[0];
    int finite = isfinite(row[0]);
    for (int i = 1; i < V; i++) {
        finite &= isfinite(row[i]);
        if (row[i] > max)
            max = row[i];
    }
    if (!finite)
        return NAN;
    double sum = 0.0;
    for (int i = 0; i < V; i++)
        sum += exp((double)row[i] - max);
    return log(sum) + max - row[target];
}

/* Sum the NLL of tokens[1..n-1] given their prefixes in one window. */
static int score_window(const llama_model *m, const char *model_path, llama_state *s,
                        const int32_t *tokens, int n, float *logits, double *nll, lrc_error *err) {
    int V = m->cfg.V;
    for (int t0 = 0; t0 < n - 1; t0 += CHUNK) {
        /* Rows t0..t1-1 predict tokens t0+1..t1. */
        int t1 = t0 + CHUNK < n - 1 ? t0 + CHUNK : n - 1;
        if (llama_forward(m, s, tokens + t0, t1 - t0, t0, logits, true, err) < 0)
            return -1;
        for (int t = t0; t < t1; t++) {
            double x = token_nll(logits + (size_t)(t - t0) * V, V, tokens[t + 1]);
            if (isnan(x))
                return lrc_errorf(err,
                                  "%s: the logits are not finite (NaN or infinity) at "
                                  "position %d; the weights hold NaN or infinite values or "
                                  "overflow, check the checkpoint",
                                  model_path, t);
            *nll += x;
        }
    }
    return 0;
}

static int run(const perplexity_options *o, const llama_model *m, const tokenizer *tok) {
    lrc_error err;
    size_t text_len = 0, n_tokens = 0;
    int32_t *tokens = NULL;
    float *logits = NULL;
    llama_state state;
    memset(&state, 0, sizeof state);
    int status = 1;

    char *text = read_text(o->text_path, &text_len);
    if (!text)
        return 1;
    if (tokenizer_encode(tok, text, text_len, false, &tokens, &n_tokens, &err) < 0) {
        cmd_fail("perplexity: %s: %s", o->text_path, err.msg);
        goto done;
    }
    if (n_tokens < 2) {
        cmd_fail("perplexity: %s holds %zu token%s; at least 2 are needed to score one",
                 o->text_path, n_tokens, n_tokens == 1 ? "" : "s");
        goto done;
    }

    long ctx = o->ctx;
    if (ctx == 0)
        ctx = m->cfg.max_seq > 0 && m->cfg.max_seq < DEFAULT_CTX ? m->cfg.max_seq : DEFAULT_CTX;
    if (m->cfg.max_seq > 0 && ctx > m->cfg.max_seq) {
        cmd_fail("perplexity: --ctx %ld exceeds the model's context of %d tokens; "
                 "use a smaller --ctx",
                 ctx, m->cfg.max_seq);
        goto done;
    }

    logits = malloc((size_t)CHUNK * m->cfg.V * sizeof *logits);
    if (!logits) {
        cmd_fail("perplexity: out of memory for the logits");
        goto done;
    }
    if (llama_state_init(&state, &m->cfg, (int)ctx, CHUNK, &err) < 0) {
        cmd_fail("perplexity: %s", err.msg);
        goto done;
    }

    double nll = 0.0;
    size_t scored = 0, windows = 0, n_windows = (n_tokens + (size_t)ctx - 1) / (size_t)ctx;
    int progress = isatty(STDERR_FILENO);
    for (size_t start = 0; start < n_tokens; start += (size_t)ctx) {
        size_t n = n_tokens - start < (size_t)ctx ? n_tokens - start : (size_t)ctx;
        if (n < 2)
            break;
        if (score_window(m, o->model_path, &state, tokens + start, (int)n, logits, &nll, &err) <
            0) {
            cmd_fail("perplexity: window at token %zu: %s", start, err.msg);
            goto done;
        }
        scored += n - 1;
        windows++;
        if (progress)
            fprintf(stderr, "\rwindow %zu/%zu, nll %.4f", windows, n_windows, nll / (double)scored);
    }
    if (progress)
        fputc('\n', stderr);

    double mean = nll / (double)scored;
    printf("tokens %zu\nscored %zu\nwindows %zu\nnll %.6g\nperplexity %.6g\n", n_tokens, scored,
           windows, mean, exp(mean));
    status = 0;

done:
    llama_state_free(&state);
    free(logits);
    free(tokens);
    free(text);
    return status;
}

int cmd_perplexity(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }

    perplexity_options o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;
    blas_set_threads((int)o.threads);

    llama_model m;
    tokenizer *tok = NULL;
    if (cmd_load_model("perplexity", o.model_path, o.tokenizer_path, &m, &tok) != 0)
        return 1;

    rc = run(&o, &m, tok);
    tokenizer_free(tok);
    llama_model_free(&m);
    return rc;
}
