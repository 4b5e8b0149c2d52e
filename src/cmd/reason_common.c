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
#include "reason/backend_http.h"
#include "reason/backend_local.h"
#include "reason/prcot.h"

#define DEFAULT_PARALLEL 4
#define DEFAULT_MAX_TOKENS 512

const char reason_cli_help[] =
    "  --model PATH           answer with the local model at PATH (a Hugging Face\n"
    "                         directory or a llama2.c .bin file)\n"
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
    "  --parallel N           endpoint requests in flight at once, 1 to 64 (default 4)\n";

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
        "--model",       "--endpoint", "--model-name", "--perspectives", "--system",
        "--temperature", "--top-p",    "--max-tokens", "--seed",         "--parallel"};
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
        if (strncasecmp(o->endpoint, "http://", 7) != 0 &&
            strncasecmp(o->endpoint, "https://", 8) != 0) {
            cmd_fail("%s: --endpoint '%s': expected an http:// or https:// URL such as "
                     "http://127.0.0.1:8080",
                     cmd, o->endpoint);
            return -1;
        }
        if (!o->model_name || !o->model_name[0]) {
            cmd_fail("%s: --endpoint needs --model-name NAME (a model the server lists at "
                     "/v1/models)",
                     cmd);
            return -1;
        }
    }
    return 0;
}

int reason_cli_open_backend(const char *cmd, const reason_cli *o, reason_backend **b) {
    lrc_error err = {{0}};
    int rc;
    if (o->endpoint) {
        http_backend_config cfg = {0};
        cfg.base_url = o->endpoint;
        cfg.model = o->model_name;
        rc = reason_backend_http_open(&cfg, (size_t)o->parallel, &o->sampling, b, &err);
    } else {
        reason_local_options lo = {0};
        lo.sampling = o->sampling;
        lo.share_prefix = 1;
        rc = reason_backend_local_open(o->model_path, &lo, b, &err);
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
