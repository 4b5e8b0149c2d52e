/*
 * Shared option parsing and set-up for lrc ask and lrc eval. The backend is
 * chosen by --model (local) or by --endpoint with --model-name (http). The
 * API key for an endpoint comes from the environment only: the HTTP client
 * reads LRC_API_KEY, then OPENAI_API_KEY.
 */
#define _POSIX_C_SOURCE 200809L
#include "cmd/reason_common.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/cmd.h"
#include "hub/hub_cache.h"
#include "reason/backend_http.h"
#include "reason/backend_local.h"
#include "reason/http_backend.h"
#include "reason/prcot.h"

#define DEFAULT_PARALLEL 4
#define DEFAULT_MAX_TOKENS 512

const char reason_cli_help[] =
    "  --model PATH           answer with the local model at PATH (a Hugging Face\n"
    "                         directory, a llama2.c .bin file or a cached Hub id\n"
    "                         ORG/NAME[@REV])\n"
    "  --endpoint URL         answer with an OpenAI-compatible server at URL, e.g.\n"
    "                         http://127.0.0.1:8080; the API key is read from\n"
    "                         LRC_API_KEY or OPENAI_API_KEY\n"
    "  --model-name NAME      model name sent to the endpoint (required with --endpoint)\n"
    "  --perspectives LIST    comma-separated perspectives for prcot, such as\n"
    "                         logical-consistency,biases-ethics (default: all)\n"
    "  --system TEXT          system message sent with every stage (default: none)\n"
    "  --temperature T        sampling temperature, 0 or more; 0 is greedy (default 0)\n"
    "  --top-p P              nucleus sampling mass in (0, 1] (default 1)\n"
    "  --max-tokens N         tokens per stage at most (default 512)\n"
    "  --seed S               seed of the local sampler, a non-negative integer\n"
    "                         (default 0; endpoints do not receive it)\n"
    "  --parallel N           endpoint requests in flight at once, 1 to 64 (default 4)\n"
    "  --timeout SECONDS      end an endpoint request that sends nothing for this\n"
    "                         long, 1 to 86400 (default 60)\n";

volatile sig_atomic_t reason_cli_interrupted;

static void on_sigint(int sig) {
    (void)sig;
    reason_cli_interrupted = 1;
}

void reason_cli_catch_sigint(struct sigaction *old) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    reason_cli_interrupted = 0;
    sigaction(SIGINT, &sa, old);
}

void reason_cli_defaults(reason_cli *o) {
    memset(o, 0, sizeof *o);
    o->sampling.temperature = 0;
    o->sampling.top_p = 1;
    o->sampling.max_tokens = DEFAULT_MAX_TOKENS;
    o->sampling.seed = 0;
    o->parallel = DEFAULT_PARALLEL;
}

int reason_cli_long(const char *cmd, const char *opt, const char *s, long min, long max,
                    long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        cmd_fail("%s: %s '%s': expected an integer from %ld to %ld", cmd, opt, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int reason_cli_print_json(cJSON *root) {
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return -1;
    puts(text);
    cJSON_free(text);
    return 0;
}

static int parse_double(const char *cmd, const char *opt, const char *s, double min, double max,
                        int min_open, const char *range, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < min || (min_open && v == min) || v > max) {
        cmd_fail("%s: %s '%s': expected %s", cmd, opt, s, range);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_seed(const char *cmd, const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-') {
        cmd_fail("%s: --seed '%s': expected an integer from 0 to %llu", cmd, s,
                 (unsigned long long)UINT64_MAX);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

int reason_cli_option(const char *cmd, int argc, char **argv, int *i, reason_cli *o) {
    static const char *const names[] = {
        "--model", "--endpoint",   "--model-name", "--perspectives", "--system", "--temperature",
        "--top-p", "--max-tokens", "--seed",       "--parallel",     "--timeout"};
    const char *arg = argv[*i];
    if (strncmp(arg, "--", 2) != 0)
        return 0;
    const char *eq = strchr(arg, '=');
    size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
    const char *name = NULL;
    for (size_t k = 0; k < sizeof names / sizeof *names; k++)
        if (strlen(names[k]) == name_len && memcmp(names[k], arg, name_len) == 0)
            name = names[k];
    if (!name)
        return 0;

    const char *v;
    if (eq) {
        v = eq + 1;
    } else if (*i + 1 < argc) {
        v = argv[*i + 1];
        (*i)++;
    } else {
        cmd_fail("%s: option '%s' needs a value; run 'lrc %s --help'", cmd, name, cmd);
        return -1;
    }

    long n;
    if (!v[0] && (strcmp(name, "--model") == 0 || strcmp(name, "--endpoint") == 0 ||
                  strcmp(name, "--model-name") == 0)) {
        cmd_fail("%s: option '%s' has an empty value; give a %s", cmd, name,
                 strcmp(name, "--model") == 0      ? "model path"
                 : strcmp(name, "--endpoint") == 0 ? "URL"
                                                   : "model name");
        return -1;
    }
    if (strcmp(name, "--model") == 0) {
        o->model_path = v;
    } else if (strcmp(name, "--endpoint") == 0) {
        o->endpoint = v;
    } else if (strcmp(name, "--model-name") == 0) {
        o->model_name = v;
    } else if (strcmp(name, "--perspectives") == 0) {
        o->perspectives = v;
    } else if (strcmp(name, "--system") == 0) {
        o->system = v;
    } else if (strcmp(name, "--temperature") == 0) {
        if (parse_double(cmd, name, v, 0.0, FLT_MAX, 0, "a number from 0 to 3.4e38",
                         &o->sampling.temperature) < 0)
            return -1;
    } else if (strcmp(name, "--top-p") == 0) {
        if (parse_double(cmd, name, v, 0.0, 1.0, 1, "a number in (0, 1]", &o->sampling.top_p) < 0)
            return -1;
    } else if (strcmp(name, "--max-tokens") == 0) {
        if (reason_cli_long(cmd, name, v, 1, 1 << 20, &n) < 0)
            return -1;
        o->sampling.max_tokens = (int)n;
    } else if (strcmp(name, "--seed") == 0) {
        if (parse_seed(cmd, v, &o->sampling.seed) < 0)
            return -1;
    } else if (strcmp(name, "--parallel") == 0) {
        if (reason_cli_long(cmd, name, v, 1, 64, &o->parallel) < 0)
            return -1;
    } else if (strcmp(name, "--timeout") == 0) {
        if (parse_double(cmd, name, v, 1.0, 86400.0, 0, "a number of seconds from 1 to 86400",
                         &o->timeout) < 0)
            return -1;
    }
    return 1;
}

int reason_cli_check(const char *cmd, const reason_cli *o) {
    if (o->model_path && o->endpoint) {
        cmd_fail("%s: --model and --endpoint both given; choose a local model or an endpoint", cmd);
        return -1;
    }
    if (!o->model_path && !o->endpoint) {
        cmd_fail("%s: no backend; pass --model PATH or --endpoint URL --model-name NAME", cmd);
        return -1;
    }
    if (o->model_name && !o->endpoint) {
        cmd_fail("%s: --model-name needs --endpoint URL (a local --model is named by its path)",
                 cmd);
        return -1;
    }
    if (o->endpoint) {
        lrc_error err = {{0}};
        if (http_backend_check_url(o->endpoint, &err) != 0) {
            cmd_fail("%s: %s", cmd, err.msg);
            return -1;
        }
        if (!o->model_name || !o->model_name[0]) {
            cmd_fail("%s: --endpoint needs --model-name NAME (a model the server lists at "
                     "/v1/models)",
                     cmd);
            return -1;
        }
    }
    if (o->timeout > 0 && !o->endpoint) {
        cmd_fail("%s: --timeout applies to --endpoint only; a local --model has no idle timeout",
                 cmd);
        return -1;
    }
    return 0;
}

/* One stderr line per retry of an endpoint request. */
static void print_retry(const http_retry_info *r, void *user) {
    const char *cmd = user;
    char capped[128] = "";
    if (r->retry_after_s > r->wait_s)
        snprintf(capped, sizeof capped,
                 " (the server asked for %.0f s; waits are capped at %.0f s)", r->retry_after_s,
                 r->wait_s);
    fprintf(stderr, "lrc: %s: %s: HTTP %ld on attempt %d of %d; retrying in %.0f s%s\n", cmd,
            r->url, r->status, r->attempt, r->max_attempts, r->wait_s, capped);
    fflush(stderr);
}

int reason_cli_open_backend(const char *cmd, const reason_cli *o, reason_backend **b) {
    lrc_error err = {{0}};
    int rc;
    if (o->endpoint) {
        http_backend_config cfg = {0};
        cfg.base_url = o->endpoint;
        cfg.model = o->model_name;
        cfg.idle_timeout_s = o->timeout;
        cfg.cancel = &reason_cli_interrupted;
        cfg.on_retry = print_retry;
        cfg.retry_user = (void *)cmd;
        rc = reason_backend_http_open(&cfg, (size_t)o->parallel, &o->sampling, b, &err);
    } else {
        reason_local_options lo = {0};
        lo.sampling = o->sampling;
        lo.share_prefix = 1;
        /* A cached Hub id (ORG/NAME[@REV]) stands for its snapshot folder. */
        char resolved[HUB_PATH_MAX];
        rc = hub_resolve_model_arg(resolved, sizeof resolved, o->model_path, &err) < 0
                 ? -1
                 : reason_backend_local_open(resolved, &lo, b, &err);
    }
    if (rc != 0) {
        cmd_fail("%s: %s", cmd, err.msg);
        return -1;
    }
    return 0;
}

int reason_cli_load_prompts(const char *cmd, const reason_cli *o, prompt_set *set, size_t **idx,
                            size_t *n, int *bad_list) {
    lrc_error err = {{0}};
    *idx = NULL;
    *n = 0;
    *bad_list = 0;
    if (prompts_load(set, &err) != 0) {
        cmd_fail("%s: %s", cmd, err.msg);
        return -1;
    }
    if (!o->perspectives) {
        *n = set->n_perspectives;
        return 0;
    }
    if (prcot_select_perspectives(set, o->perspectives, idx, n, &err) != 0) {
        cmd_fail("%s: --perspectives: %s", cmd, err.msg);
        prompts_free(set);
        *bad_list = 1;
        return -1;
    }
    return 0;
}

int reason_cli_check_prompt(const prcot_stage *st, const char *system, void *user, lrc_error *err) {
    const reason_fit *fit = user;
    int ctx = reason_backend_local_context(fit->b);
    if (ctx <= 0)
        return 0;
    size_t n = 0;
    if (reason_backend_local_count(fit->b, system, st->prompt, &n, err) != 0)
        return -1;
    if (n < (size_t)ctx)
        return 0;
    return lrc_errorf(err,
                      "the prompt has %zu tokens, which leaves no room in the model's context of "
                      "%d tokens; lower --max-tokens (now %d; the earlier stages' output is part "
                      "of this prompt), use fewer --perspectives or a model with a longer context",
                      n, ctx, fit->max_tokens);
}

/* Tokens of the synthesis prompt for question with every earlier stage's
 * output empty; -1 after reporting. */
static long empty_synthesis_tokens(const char *cmd, const reason_cli *o, const reason_backend *b,
                                   const prompt_set *set, const size_t *idx, size_t n_ref,
                                   prcot_method method, const char *question) {
    const char **titles = calloc(n_ref ? n_ref : 1, sizeof *titles);
    const char **texts = calloc(n_ref ? n_ref : 1, sizeof *texts);
    char *joined = NULL, *prompt = NULL;
    lrc_error err = {{0}};
    long result = -1;
    if (!titles || !texts)
        goto out;
    for (size_t i = 0; i < n_ref; i++) {
        titles[i] = method == PRCOT_METHOD_REFLECT ? set->reflect.title
                    : idx                          ? set->perspectives[idx[i]].title
                                                   : set->perspectives[i].title;
        texts[i] = "";
    }
    joined = prompts_join_reflections(titles, texts, n_ref);
    if (!joined)
        goto out;
    prompt_var sv[] = {
        {"question", question}, {"cot", ""}, {"reflections", joined}, {"reflection", ""}};
    if (prompts_render(&set->synthesize, sv, 4, &prompt, &err) != 0)
        goto out;
    size_t n = 0;
    if (reason_backend_local_count(b, o->system, prompt, &n, &err) != 0)
        goto out;
    result = (long)n;
out:
    if (result < 0)
        cmd_fail("%s: %s", cmd, err.msg[0] ? err.msg : "out of memory");
    free(titles);
    free(texts);
    free(joined);
    free(prompt);
    return result;
}

int reason_cli_check_context(const char *cmd, const reason_cli *o, const reason_backend *b,
                             const prompt_set *set, const size_t *idx, size_t n_ref,
                             prcot_method method, const char *question) {
    int ctx = reason_backend_local_context(b);
    if (ctx <= 0 || method == PRCOT_METHOD_COT || n_ref == 0)
        return 0; /* the chain of thought's prompt is checked when it runs */
    long base = empty_synthesis_tokens(cmd, o, b, set, idx, n_ref, method, question);
    if (base < 0)
        return -1;
    long stages = (long)n_ref + 1, max_tokens = o->sampling.max_tokens;
    long worst = base + stages * max_tokens;
    if (worst < ctx)
        return 0;
    long fits = (ctx - 1 - base) / stages;
    if (fits < 1) {
        cmd_fail("%s: the synthesis prompt alone has %ld tokens with %ld empty stage outputs, "
                 "which leaves no room in the model's context of %d tokens; use fewer "
                 "--perspectives, a shorter question or a model with a longer context",
                 cmd, base, stages - 1, ctx);
        return -1;
    }
    fprintf(stderr,
            "lrc: %s: warning: the synthesis prompt may reach %ld tokens (%ld stages of up to %ld "
            "tokens before it), more than the model's context of %d; it fails if the stages run "
            "that long. --max-tokens %ld or less always fits; fewer --perspectives or a model "
            "with a longer context also help\n",
            cmd, worst, stages, max_tokens, ctx, fits);
    return 0;
}
