/*
 * Options and set-up shared by the reasoning commands (ask, eval): where the
 * answers come from (a local model or an OpenAI-compatible endpoint), the
 * sampling settings, the perspectives and the prompt templates. Every
 * function here prints its own one-line error with the command's name.
 */
#ifndef LRC_CMD_REASON_COMMON_H
#define LRC_CMD_REASON_COMMON_H

#include <signal.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "reason/backend.h"
#include "reason/prcot.h"
#include "reason/prompts.h"

typedef struct reason_cli {
    const char *model_path;   /* --model */
    const char *endpoint;     /* --endpoint */
    const char *model_name;   /* --model-name */
    const char *perspectives; /* --perspectives, or NULL for all */
    const char *system;       /* --system, or NULL */
    reason_sampling sampling; /* --temperature, --top-p, --max-tokens, --seed */
    long parallel;            /* --parallel */
    double timeout;           /* --timeout: endpoint idle timeout in seconds (0: default) */
} reason_cli;

/* Set by the SIGINT handler of reason_cli_catch_sigint. The endpoint client
 * polls it (through http_backend_config.cancel), so an endpoint wait ends
 * within about a second; token callbacks return nonzero once it is set. */
extern volatile sig_atomic_t reason_cli_interrupted;

/* Catch SIGINT (once; a second Ctrl-C kills) into reason_cli_interrupted,
 * keeping the old action in *old; restore with sigaction(SIGINT, old, NULL). */
void reason_cli_catch_sigint(struct sigaction *old);

/* State of reason_cli_check_prompt. */
typedef struct reason_fit {
    const reason_backend *b;
    int max_tokens;
} reason_fit;

/* A prcot_options.check_prompt hook (user: a reason_fit) refusing, on a local
 * backend, a prompt that leaves no room in the model's context, with advice
 * on what to change. Other backends pass every prompt. */
int reason_cli_check_prompt(const prcot_stage *st, const char *system, void *user, lrc_error *err);

/* Before any stage runs on a local backend: estimate the longest prompt of
 * the run (the synthesis's, with every earlier stage at max_tokens) for
 * question. Returns 0 when it fits or after printing a warning with the
 * largest --max-tokens that fits; -1 after reporting an error when even
 * empty stage outputs cannot fit. n_ref: reflections of the run (0: cot). */
int reason_cli_check_context(const char *cmd, const reason_cli *o, const reason_backend *b,
                             const prompt_set *set, const size_t *idx, size_t n_ref,
                             prcot_method method, const char *question);

/* The option lines of the help text for the options above. */
extern const char reason_cli_help[];

void reason_cli_defaults(reason_cli *o);

/* Read the shared option at argv[*i]: "--name VALUE" or "--name=VALUE".
 * Returns 1 when it was one (and moves *i past its value), 0 when argv[*i]
 * is not a shared option, and -1 on a bad or missing value (reported). */
int reason_cli_option(const char *cmd, int argc, char **argv, int *i, reason_cli *o);

/* Check that exactly one backend is chosen and complete. Returns 0, or -1
 * after reporting the problem (a usage error). */
int reason_cli_check(const char *cmd, const reason_cli *o);

/* Open the chosen backend. Returns 0, or -1 after reporting the error. */
int reason_cli_open_backend(const char *cmd, const reason_cli *o, reason_backend **b);

/* Load the prompt templates and turn --perspectives into indexes (*idx is
 * NULL with *n the total when every perspective runs). Returns 0, or -1
 * after reporting the error; *bad_list is set when --perspectives was the
 * problem (a usage error). */
int reason_cli_load_prompts(const char *cmd, const reason_cli *o, prompt_set *set, size_t **idx,
                            size_t *n, int *bad_list);

/* Parse an integer in [min, max] for option opt; -1 after reporting. */
int reason_cli_long(const char *cmd, const char *opt, const char *s, long min, long max, long *out);

/* Print root as indented JSON on stdout and free it; -1 when out of memory. */
int reason_cli_print_json(cJSON *root);

#endif
