/*
 * lrc ask: one question through PR-CoT (or the cot or reflect baseline) on a
 * local model or an endpoint. Text mode prints each stage under a heading as
 * it streams. Reflections may run concurrently, so their tokens interleave.
 * Only the first reflection therefore streams live, and the others are
 * printed in order from their stored text when the reflection stage ends. --json prints one object
 * with every stage instead, after the run.
 */
#define _POSIX_C_SOURCE 200809L

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistr.h>

#include "cmd/cmd.h"
#include "cmd/reason_common.h"
#include "reason/prcot.h"

static const char usage_head[] =
    "usage: lrc ask (--model PATH | --endpoint URL --model-name NAME) [options] QUESTION\n"
    "\n"
    "Answer QUESTION (or standard input, given as -) with poly-reflective chain of\n"
    "thought: a chain of thought, one reflection per perspective, and a synthesis\n"
    "that ends in a final answer. Each stage is printed under its title with its\n"
    "time, then the line \"Final answer: ...\".\n"
    "\n"
    "Options:\n"
    "  --method M             prcot, reflect (chain of thought, one generic reflection,\n"
    "                         synthesis) or cot (chain of thought only); default prcot\n"
    "  --json                 print one JSON object with every stage, the answers and\n"
    "                         the timings instead of text; on failure the object has\n"
    "                         the stages that ended and an \"error\" field\n";

static const char usage_tail[] =
    "  -h, --help             show this help\n"
    "\n"
    "Options that take a value also accept the form --option=VALUE. Templates come\n"
    "from lrc-prompts(5). Exit status: 0 success, 1 failure, 2 usage error, 130\n"
    "stopped by Ctrl-C.\n";

typedef struct ask_options {
    reason_cli cli;
    prcot_method method;
    int json;
    const char *question;
} ask_options;

/* Text output state: which stages stream live. The others are printed from
 * their stored text when they end. */
typedef struct printer {
    int json;
    size_t n_stages;
    size_t live_reflection; /* the reflection that streams live: 1, or 0 for none */
    int mid_line;           /* stdout does not end in a newline */
} printer;

static void print_usage(FILE *f) {
    fputs(usage_head, f);
    fputs(reason_cli_help, f);
    fputs(usage_tail, f);
}

static int parse_args(int argc, char **argv, ask_options *o) {
    memset(o, 0, sizeof *o);
    reason_cli_defaults(&o->cli);
    o->method = PRCOT_METHOD_PRCOT;
    int only_args = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_args) {
            int r = reason_cli_option("ask", argc, argv, &i, &o->cli);
            if (r < 0)
                return 2;
            if (r > 0)
                continue;
            if (strcmp(a, "--") == 0) {
                only_args = 1;
                continue;
            }
            if (strcmp(a, "--json") == 0) {
                o->json = 1;
                continue;
            }
            if (strcmp(a, "--method") == 0 || strncmp(a, "--method=", 9) == 0) {
                const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
                if (!v) {
                    cmd_fail("ask: option '--method' needs a value; run 'lrc ask --help'");
                    return 2;
                }
                lrc_error err;
                if (prcot_method_parse(v, &o->method, &err) != 0) {
                    cmd_fail("ask: --method: %s", err.msg);
                    return 2;
                }
                continue;
            }
            if (a[0] == '-' && a[1] != '\0') {
                cmd_fail("ask: unknown option '%s'; run 'lrc ask --help'", a);
                return 2;
            }
        }
        if (o->question) {
            cmd_fail("ask: unexpected argument '%s'; give one QUESTION (quote it)", a);
            return 2;
        }
        o->question = a;
    }
    if (!o->question) {
        cmd_fail("ask: missing QUESTION; run 'lrc ask --help'");
        return 2;
    }
    if (reason_cli_check("ask", &o->cli) != 0)
        return 2;
    return 0;
}

/* Read all of stdin, without trailing newlines; NULL after reporting. */
static char *read_stdin(void) {
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    while (s) {
        size_t got = fread(s + n, 1, cap - n - 1, stdin);
        n += got;
        if (got == 0)
            break;
        if (cap - n < 2) {
            char *p = realloc(s, cap * 2);
            if (!p) {
                free(s);
                s = NULL;
                break;
            }
            s = p;
            cap *= 2;
        }
    }
    if (!s) {
        cmd_fail("ask: out of memory reading the question from standard input");
        return NULL;
    }
    if (ferror(stdin)) {
        cmd_fail("ask: cannot read the question from standard input");
        free(s);
        return NULL;
    }
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    s[n] = '\0';
    return s;
}

static int is_live(const printer *p, size_t stage) {
    return stage == 0 || stage == p->live_reflection || stage + 1 == p->n_stages;
}

static void on_stage_begin(size_t stage, const prcot_stage *st, void *user) {
    printer *p = user;
    if (p->json || !is_live(p, stage))
        return;
    printf("== %s ==\n", st->title);
    fflush(stdout);
}

static int on_token(size_t stage, const char *text, size_t len, void *user) {
    printer *p = user;
    if (reason_cli_interrupted)
        return 1;
    if (p->json)
        return 0;
    if (is_live(p, stage) && len) {
        fwrite(text, 1, len, stdout);
        fflush(stdout);
        p->mid_line = text[len - 1] != '\n';
    }
    return 0;
}

static void on_stage_end(size_t stage, const prcot_stage *st, void *user) {
    printer *p = user;
    if (p->json)
        return;
    if (!is_live(p, stage)) {
        printf("== %s ==\n%s", st->title, st->text);
    }
    size_t n = strlen(st->text);
    printf("%s(%.2f s, %d token%s%s)\n\n", n && st->text[n - 1] == '\n' ? "" : "\n", st->seconds,
           st->n_tokens, st->n_tokens == 1 ? "" : "s", st->truncated ? ", truncated" : "");
    fflush(stdout);
    p->mid_line = 0;
}

/* The run as one JSON object; error is the failure message, or NULL. */
static int print_json(const ask_options *o, const reason_backend *b, const prcot_result *r,
                      const char *error) {
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return -1;
    cJSON_AddStringToObject(root, "method", prcot_method_name(r->method));
    cJSON *be = cJSON_AddObjectToObject(root, "backend");
    if (be) {
        cJSON_AddStringToObject(be, "kind", b->kind);
        cJSON_AddStringToObject(be, "label", b->label);
    }
    cJSON_AddStringToObject(root, "question", o->question);
    cJSON *stages = cJSON_AddArrayToObject(root, "stages");
    for (size_t i = 0; stages && i < r->n_stages; i++) {
        const prcot_stage *st = &r->stages[i];
        cJSON *s = cJSON_CreateObject();
        if (!s)
            break;
        cJSON_AddItemToArray(stages, s);
        cJSON_AddStringToObject(s, "kind", prcot_stage_kind_name(st->kind));
        cJSON_AddStringToObject(s, "name", st->name);
        cJSON_AddStringToObject(s, "title", st->title);
        cJSON_AddStringToObject(s, "prompt", st->prompt);
        cJSON_AddStringToObject(s, "text", st->text);
        cJSON_AddNumberToObject(s, "seconds", st->seconds);
        cJSON_AddNumberToObject(s, "tokens", st->n_tokens);
        cJSON_AddBoolToObject(s, "truncated", st->truncated);
    }
    if (r->initial_answer)
        cJSON_AddStringToObject(root, "initial_answer", r->initial_answer);
    else
        cJSON_AddNullToObject(root, "initial_answer");
    if (r->final_answer)
        cJSON_AddStringToObject(root, "final_answer", r->final_answer);
    else
        cJSON_AddNullToObject(root, "final_answer");
    if (error)
        cJSON_AddStringToObject(root, "error", error);
    cJSON_AddNumberToObject(root, "reflections_seconds", r->reflections_seconds);
    cJSON_AddNumberToObject(root, "seconds", r->seconds);
    return reason_cli_print_json(root);
}

int cmd_ask(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        print_usage(stdout);
        return 0;
    }
    ask_options o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;

    char *stdin_question = NULL;
    if (strcmp(o.question, "-") == 0) {
        stdin_question = read_stdin();
        if (!stdin_question)
            return 1;
        o.question = stdin_question;
    }
    if (!o.question[0] || strspn(o.question, " \t\r\n") == strlen(o.question)) {
        cmd_fail("ask: the question is empty or only white space; give a QUESTION");
        free(stdin_question);
        return 2;
    }
    const uint8_t *bad = u8_check((const uint8_t *)o.question, strlen(o.question));
    if (bad) {
        cmd_fail("ask: the question is not valid UTF-8 at byte offset %zu; re-encode it as UTF-8",
                 (size_t)(bad - (const uint8_t *)o.question));
        free(stdin_question);
        return 2;
    }
    if (o.cli.perspectives && o.method != PRCOT_METHOD_PRCOT) {
        cmd_fail("ask: --perspectives applies to --method prcot only; drop it or use prcot");
        free(stdin_question);
        return 2;
    }

    prompt_set set;
    size_t *idx = NULL, n_persp = 0;
    int bad_list = 0;
    if (reason_cli_load_prompts("ask", &o.cli, &set, &idx, &n_persp, &bad_list) != 0) {
        free(stdin_question);
        return bad_list ? 2 : 1;
    }
    reason_backend *b = NULL;
    if (reason_cli_open_backend("ask", &o.cli, &b) != 0) {
        prompts_free(&set);
        free(idx);
        free(stdin_question);
        return 1;
    }

    size_t n_ref = o.method == PRCOT_METHOD_PRCOT ? n_persp : o.method == PRCOT_METHOD_REFLECT;
    if (reason_cli_check_context("ask", &o.cli, b, &set, idx, n_ref, o.method, o.question) != 0) {
        reason_backend_free(b);
        prompts_free(&set);
        free(idx);
        free(stdin_question);
        return 1;
    }
    printer pr = {0};
    pr.json = o.json;
    pr.n_stages = n_ref ? n_ref + 2 : 1;
    pr.live_reflection = n_ref ? 1 : 0;

    reason_fit fit = {b, o.cli.sampling.max_tokens};
    prcot_options po = {0};
    po.method = o.method;
    po.prompts = &set;
    po.perspectives = idx;
    po.n_perspectives = n_persp;
    po.system = o.cli.system;
    po.check_prompt = reason_cli_check_prompt;
    po.check_user = &fit;
    prcot_callbacks cb = {on_stage_begin, on_token, on_stage_end, &pr};
    prcot_result res;
    lrc_error err = {{0}};

    struct sigaction old_sa;
    reason_cli_catch_sigint(&old_sa);

    int status = 0;
    if (prcot_run(b, &po, o.question, &cb, &res, &err) != 0) {
        if (pr.mid_line)
            putchar('\n');
        fflush(stdout);
        const char *msg = err.msg;
        if (reason_cli_interrupted) {
            msg = "stopped by interrupt (Ctrl-C)";
            status = 130;
        } else {
            status = 1;
        }
        cmd_fail("ask: %s", msg);
        if (o.json && print_json(&o, b, &res, msg) != 0)
            cmd_fail("ask: out of memory writing the JSON report");
        prcot_result_free(&res);
    } else {
        if (o.json) {
            if (print_json(&o, b, &res, NULL) != 0) {
                cmd_fail("ask: out of memory writing the JSON report");
                status = 1;
            }
        } else {
            printf("Final answer: %s\n", res.final_answer);
        }
        prcot_result_free(&res);
    }
    sigaction(SIGINT, &old_sa, NULL);

    reason_backend_free(b);
    prompts_free(&set);
    free(idx);
    free(stdin_question);
    return status;
}
