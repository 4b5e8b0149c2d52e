/*
 * lrc eval: accuracy of cot, reflect and prcot on a JSONL task set.
 *
 * Every method runs on its own over every task, in the order given: a cot
 * run is not reused as the chain of thought of reflect or prcot, so each
 * method sees a fresh chain of thought (with greedy sampling on a local
 * model they coincide anyway). For reflect and prcot the chain of thought's
 * answer is scored too, giving the error-correction and regression rates. A
 * run whose answer cannot be read (no final-answer line) counts as wrong and
 * is reported, and so does a run whose prompt did not fit a local model's
 * context (the next task may be shorter); any other failure (an unreachable
 * endpoint, say) would fail every later task too, so it stops the
 * evaluation. --ablate then runs prcot once more per perspective, with that
 * perspective left out. Each task's answers per method are kept for
 * --show-tasks and the JSON report's "task_results".
 */
#define _POSIX_C_SOURCE 200809L

#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/reason_common.h"
#include "reason/answer.h"
#include "reason/eval_metrics.h"
#include "reason/prcot.h"
#include "reason/tasks.h"

#define MAX_METHODS 3

static const char usage_head[] =
    "usage: lrc eval --tasks FILE.jsonl (--model PATH | --endpoint URL --model-name NAME)\n"
    "                [options]\n"
    "\n"
    "Run every task of FILE.jsonl (lines {\"question\", \"answer\", \"family\"}) with\n"
    "each method and score the final answers. Prints, per method and family, the\n"
    "accuracy and, for reflect and prcot, the accuracy of the first chain of thought,\n"
    "the error-correction rate (first answer wrong, final right, over first wrong)\n"
    "and the regression rate (first right, final wrong, over first right).\n"
    "\n"
    "Options:\n"
    "  --tasks FILE           the task file (required); - reads standard input\n"
    "  --method LIST          comma-separated methods from cot, reflect and prcot, or\n"
    "                         all for the three (default prcot)\n"
    "  --limit N              evaluate only the first N tasks\n"
    "  --ablate               also run prcot once per perspective with that perspective\n"
    "                         left out, and report the accuracy of each run\n"
    "  --json                 print the report as JSON (schema lrc-eval/1), with each\n"
    "                         task's answers under \"task_results\"\n"
    "  --show-tasks           also list each task's expected, initial and final answers\n"
    "                         per method after the table\n"
    "  --progress             report each task on stderr even when it is not a terminal\n";

static const char usage_tail[] =
    "  -h, --help             show this help\n"
    "\n"
    "Options that take a value also accept the form --option=VALUE. Answers are\n"
    "compared after normalising numbers, choice letters, case and punctuation. A\n"
    "run without a final-answer line counts as wrong. Exit status: 0 success, 1\n"
    "failure, 2 usage error, 130 stopped by Ctrl-C.\n";

typedef struct eval_options {
    reason_cli cli;
    const char *tasks_path;
    prcot_method methods[MAX_METHODS];
    size_t n_methods;
    long limit;
    int ablate, json, progress, show_tasks;
} eval_options;

/* One method's outcome on one task. */
typedef struct task_result {
    char *initial; /* the chain of thought's answer, or NULL */
    char *final;   /* the final answer, or NULL */
    int initial_correct, correct;
    char *error; /* why the run failed, or NULL */
} task_result;

/* Everything one evaluation needs while it runs. */
typedef struct eval_run {
    const eval_options *o;
    reason_backend *b;
    const prompt_set *set;
    const eval_task_set *tasks;
    int progress; /* report on stderr */
    int terminal; /* stderr is a terminal: rewrite one line */
    /* Runs without a readable answer, per method slot; the ablation's runs
     * count in the last slot. */
    size_t missing[MAX_METHODS + 1];
    /* Runs whose prompt did not fit the context, counted the same way. */
    size_t failed[MAX_METHODS + 1];
    task_result *results[MAX_METHODS]; /* [tasks->count] per method slot */
} eval_run;

static char *dup_or_null(const char *s) {
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* Copy s into dst (cap bytes) for a table cell: control bytes become '?',
 * and text longer than width bytes is cut with a trailing '~'. */
static void cell(char *dst, size_t cap, const char *s, size_t width) {
    size_t j = 0;
    for (size_t i = 0; s[i] && j + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[j++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    dst[j] = '\0';
    if (j > width && width + 1 < cap) {
        /* cut at a UTF-8 character boundary */
        size_t k = width - 1;
        while (k > 0 && ((unsigned char)dst[k] & 0xC0) == 0x80)
            k--;
        dst[k] = '~';
        dst[k + 1] = '\0';
    }
}

static void print_usage(FILE *f) {
    fputs(usage_head, f);
    fputs(reason_cli_help, f);
    fputs(usage_tail, f);
}

static int parse_methods(const char *list, eval_options *o) {
    if (strcmp(list, "all") == 0) {
        o->methods[0] = PRCOT_METHOD_COT;
        o->methods[1] = PRCOT_METHOD_REFLECT;
        o->methods[2] = PRCOT_METHOD_PRCOT;
        o->n_methods = 3;
        return 0;
    }
    o->n_methods = 0;
    const char *p = list;
    for (;;) {
        size_t n = strcspn(p, ",");
        char name[32];
        if (n == 3 && memcmp(p, "all", 3) == 0) {
            cmd_fail("eval: --method '%s': all stands alone; give all, or names from cot, "
                     "reflect and prcot separated by commas",
                     list);
            return -1;
        }
        if (n == 0 || n >= sizeof name) {
            cmd_fail("eval: --method '%s': expected names from cot, reflect and prcot separated "
                     "by commas, or all",
                     list);
            return -1;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        prcot_method m;
        lrc_error err;
        if (prcot_method_parse(name, &m, &err) != 0) {
            cmd_fail("eval: --method: %s, or all alone", err.msg);
            return -1;
        }
        for (size_t i = 0; i < o->n_methods; i++)
            if (o->methods[i] == m) {
                cmd_fail("eval: --method '%s' names %s twice; name each method once", list, name);
                return -1;
            }
        o->methods[o->n_methods++] = m;
        if (!p[n])
            return 0;
        p += n + 1;
    }
}

/* The value of option name at argv[*i] ("--name V" or "--name=V"), or NULL
 * when argv[*i] is another option. Sets *missing when the value is absent. */
static const char *option_value(const char *name, int argc, char **argv, int *i, int *missing) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

static int parse_args(int argc, char **argv, eval_options *o) {
    memset(o, 0, sizeof *o);
    reason_cli_defaults(&o->cli);
    o->methods[0] = PRCOT_METHOD_PRCOT;
    o->n_methods = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = reason_cli_option("eval", argc, argv, &i, &o->cli);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        int missing = 0;
        const char *v;
        if ((v = option_value("--tasks", argc, argv, &i, &missing))) {
            o->tasks_path = v;
        } else if ((v = option_value("--method", argc, argv, &i, &missing))) {
            if (parse_methods(v, o) != 0)
                return 2;
        } else if ((v = option_value("--limit", argc, argv, &i, &missing))) {
            if (reason_cli_long("eval", "--limit", v, 1, 100000000, &o->limit) != 0)
                return 2;
        } else if (missing) {
            cmd_fail("eval: option '%s' needs a value; run 'lrc eval --help'", a);
            return 2;
        } else if (strcmp(a, "--ablate") == 0) {
            o->ablate = 1;
        } else if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "--progress") == 0) {
            o->progress = 1;
        } else if (strcmp(a, "--show-tasks") == 0) {
            o->show_tasks = 1;
        } else if (a[0] == '-') {
            cmd_fail("eval: unknown option '%s'; run 'lrc eval --help'", a);
            return 2;
        } else {
            cmd_fail("eval: unexpected argument '%s'; give the task file with --tasks FILE", a);
            return 2;
        }
    }
    if (!o->tasks_path) {
        cmd_fail("eval: missing --tasks FILE.jsonl; run 'lrc eval --help'");
        return 2;
    }
    if (reason_cli_check("eval", &o->cli) != 0)
        return 2;
    int uses_perspectives = o->ablate;
    for (size_t i = 0; i < o->n_methods; i++)
        uses_perspectives |= o->methods[i] == PRCOT_METHOD_PRCOT;
    if (o->cli.perspectives && !uses_perspectives) {
        cmd_fail("eval: --perspectives applies to the prcot method and --ablate only; drop it or "
                 "add prcot to --method");
        return 2;
    }
    return 0;
}

static int stop_on_interrupt(size_t stage, const char *text, size_t len, void *user) {
    (void)stage;
    (void)text;
    (void)len;
    (void)user;
    return reason_cli_interrupted != 0;
}

static void report_progress(const eval_run *ev, const char *what, size_t i, size_t n,
                            size_t correct) {
    if (!ev->progress)
        return;
    double pct = 100.0 * (double)correct / (double)(i + 1);
    if (ev->terminal)
        fprintf(stderr, "\r\033[Keval: %s: task %zu/%zu, accuracy %zu/%zu (%.1f%%)", what, i + 1, n,
                correct, i + 1, pct);
    else
        fprintf(stderr, "eval: %s: task %zu/%zu, accuracy %zu/%zu (%.1f%%)\n", what, i + 1, n,
                correct, i + 1, pct);
    if (ev->terminal && i + 1 == n)
        fputc('\n', stderr);
    fflush(stderr);
}

/*
 * Run one method over every task. Scores go to metrics (when not NULL) under
 * the method's name; *correct counts the right final answers. Returns 0, 1
 * on a failure (reported) or 130 when interrupted.
 */
static int run_method(eval_run *ev, prcot_method method, const size_t *persp, size_t n_persp,
                      const char *label, size_t slot, eval_metrics *metrics, size_t *correct) {
    const eval_task_set *ts = ev->tasks;
    reason_fit fit = {ev->b, ev->o->cli.sampling.max_tokens};
    prcot_options po = {0};
    po.method = method;
    po.prompts = ev->set;
    po.perspectives = persp;
    po.n_perspectives = n_persp;
    po.system = ev->o->cli.system;
    po.check_prompt = reason_cli_check_prompt;
    po.check_user = &fit;
    prcot_callbacks cb = {NULL, stop_on_interrupt, NULL, NULL};
    task_result *keep = slot < MAX_METHODS ? ev->results[slot] : NULL;
    *correct = 0;
    for (size_t i = 0; i < ts->count; i++) {
        const eval_task *t = &ts->tasks[i];
        prcot_result r;
        lrc_error err = {{0}};
        int rc = prcot_run(ev->b, &po, t->question, &cb, &r, &err);
        if (rc != 0 && reason_cli_interrupted) {
            prcot_result_free(&r);
            if (ev->terminal && ev->progress)
                fputc('\n', stderr);
            cmd_fail("eval: stopped by interrupt (Ctrl-C) at %s:%zu", ev->o->tasks_path, t->line);
            return 130;
        }
        if (rc != 0 && !r.answer_missing && !r.prompt_rejected) {
            prcot_result_free(&r);
            if (ev->terminal && ev->progress)
                fputc('\n', stderr);
            cmd_fail("eval: %s:%zu, %s: %s; stopping, as later tasks would fail the same way",
                     ev->o->tasks_path, t->line, label, err.msg);
            return 1;
        }
        if (rc != 0) {
            if (r.prompt_rejected)
                ev->failed[slot]++;
            else
                ev->missing[slot]++;
            if (ev->terminal && ev->progress)
                fputc('\n', stderr);
            fprintf(stderr, "lrc: eval: %s:%zu, %s: %s; counted as wrong\n", ev->o->tasks_path,
                    t->line, label, err.msg);
        }
        int final_ok = rc == 0 && r.final_answer && answer_match(r.final_answer, t->answer);
        int initial = EVAL_INITIAL_NONE;
        if (method != PRCOT_METHOD_COT)
            initial = r.initial_answer && answer_match(r.initial_answer, t->answer)
                          ? EVAL_INITIAL_RIGHT
                          : EVAL_INITIAL_WRONG;
        if (keep) {
            task_result *k = &keep[i];
            k->initial = dup_or_null(r.initial_answer);
            k->final = rc == 0 ? dup_or_null(r.final_answer) : NULL;
            k->correct = final_ok;
            k->initial_correct = initial == EVAL_INITIAL_RIGHT;
            k->error = rc != 0 ? dup_or_null(err.msg) : NULL;
        }
        prcot_result_free(&r);
        *correct += final_ok;
        if (metrics && eval_metrics_add(metrics, t->family, prcot_method_name(method), initial,
                                        final_ok, &err) != 0) {
            cmd_fail("eval: %s", err.msg);
            return 1;
        }
        report_progress(ev, label, i, ts->count, *correct);
    }
    return 0;
}

static void format_rate(char *buf, size_t cap, size_t count, size_t denom) {
    if (denom == 0)
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%zu/%zu (%.1f%%)", count, denom, 100.0 * (double)count / (double)denom);
}

static void print_row(const char *method, const char *family, const eval_summary *s) {
    char initial[32], corrected[32], regressed[32];
    size_t initial_wrong = s->initial_n - s->initial_correct;
    format_rate(initial, sizeof initial, s->initial_correct, s->initial_n);
    format_rate(corrected, sizeof corrected, s->corrected, initial_wrong);
    format_rate(regressed, sizeof regressed, s->regressed, s->initial_correct);
    char fam[64];
    cell(fam, sizeof fam, family, 16);
    printf("%-8s %-16s %5zu %8zu %8.1f%%  %-16s %-16s %s\n", method, fam, s->n, s->correct,
           100.0 * s->accuracy, initial, corrected, regressed);
}

static void print_table(const eval_run *ev, const eval_metrics *m, const eval_ablation *abl) {
    size_t n_methods = 0, n_families = 0;
    const char **methods = eval_metrics_methods(m, &n_methods);
    const char **families = eval_metrics_families(m, &n_families);
    printf("%s: %zu task%s, %zu %s; %s\n\n", ev->o->tasks_path, ev->tasks->count,
           ev->tasks->count == 1 ? "" : "s", n_families, n_families == 1 ? "family" : "families",
           ev->b->label);
    printf("%-8s %-16s %5s %8s %9s  %-16s %-16s %s\n", "method", "family", "n", "correct",
           "accuracy", "initial", "corrected", "regressed");
    for (size_t i = 0; i < n_methods; i++) {
        eval_summary all = eval_metrics_summarize(m, methods[i], NULL);
        print_row(methods[i], "all", &all);
        for (size_t k = 0; k < n_families; k++) {
            eval_summary s = eval_metrics_summarize(m, methods[i], families[k]);
            if (s.n)
                print_row(methods[i], families[k], &s);
        }
    }
    for (size_t i = 0; i < ev->o->n_methods; i++) {
        if (ev->missing[i])
            printf("\n%s: %zu run%s without a final-answer line, counted as wrong\n",
                   prcot_method_name(ev->o->methods[i]), ev->missing[i],
                   ev->missing[i] == 1 ? "" : "s");
        if (ev->failed[i])
            printf("\n%s: %zu run%s with a prompt too long for the context, counted as wrong\n",
                   prcot_method_name(ev->o->methods[i]), ev->failed[i],
                   ev->failed[i] == 1 ? "" : "s");
    }
    if (abl && abl->count) {
        printf("\nablation: prcot with one perspective left out\n");
        printf("%-28s %5s %8s %9s\n", "left out", "n", "correct", "accuracy");
        for (size_t i = 0; i < abl->count; i++) {
            const eval_ablation_row *r = &abl->rows[i];
            printf("%-28s %5zu %8zu %8.1f%%\n", r->left_out, r->n, r->correct,
                   r->n ? 100.0 * (double)r->correct / (double)r->n : 0.0);
        }
    }
    if (ev->missing[MAX_METHODS])
        printf("\nablation: %zu run%s without a final-answer line, counted as wrong\n",
               ev->missing[MAX_METHODS], ev->missing[MAX_METHODS] == 1 ? "" : "s");
    if (ev->failed[MAX_METHODS])
        printf("\nablation: %zu run%s with a prompt too long for the context, counted as wrong\n",
               ev->failed[MAX_METHODS], ev->failed[MAX_METHODS] == 1 ? "" : "s");
    free(methods);
    free(families);
}

/* Each task with its expected answer and every method's answers. */
static void print_task_list(const eval_run *ev) {
    printf("\ntasks:\n");
    for (size_t i = 0; i < ev->tasks->count; i++) {
        const eval_task *t = &ev->tasks->tasks[i];
        char q[96], want[64];
        cell(q, sizeof q, t->question, 60);
        cell(want, sizeof want, t->answer, 40);
        printf("%s:%zu  %s\n  expected: %s\n", ev->o->tasks_path, t->line, q, want);
        for (size_t m = 0; m < ev->o->n_methods; m++) {
            const task_result *k = &ev->results[m][i];
            char initial[64], final[64];
            cell(initial, sizeof initial, k->initial ? k->initial : "-", 40);
            cell(final, sizeof final, k->final ? k->final : "-", 40);
            printf("  %-8s %-5s final: %s", prcot_method_name(ev->o->methods[m]),
                   k->correct ? "right" : "wrong", final);
            if (ev->o->methods[m] != PRCOT_METHOD_COT)
                printf("  (initial: %s, %s)", initial, k->initial_correct ? "right" : "wrong");
            if (k->error) {
                char why[120];
                cell(why, sizeof why, k->error, 100);
                printf("  [failed: %s]", why);
            }
            putchar('\n');
        }
    }
}

static void add_string_or_null(cJSON *o, const char *key, const char *v) {
    if (v)
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static int print_json(const eval_run *ev, const eval_metrics *m, const eval_ablation *abl) {
    cJSON *root = eval_report_json(m, abl);
    if (!root)
        return -1;
    cJSON_AddStringToObject(root, "tasks", ev->o->tasks_path);
    cJSON_AddNumberToObject(root, "n_tasks", (double)ev->tasks->count);
    cJSON *be = cJSON_AddObjectToObject(root, "backend");
    if (be) {
        cJSON_AddStringToObject(be, "kind", ev->b->kind);
        cJSON_AddStringToObject(be, "label", ev->b->label);
    }
    cJSON *missing = cJSON_AddObjectToObject(root, "without_final_answer");
    for (size_t i = 0; missing && i < ev->o->n_methods; i++)
        cJSON_AddNumberToObject(missing, prcot_method_name(ev->o->methods[i]),
                                (double)ev->missing[i]);
    if (missing && abl)
        cJSON_AddNumberToObject(missing, "ablation", (double)ev->missing[MAX_METHODS]);
    cJSON *failed = cJSON_AddObjectToObject(root, "prompt_too_long");
    for (size_t i = 0; failed && i < ev->o->n_methods; i++)
        cJSON_AddNumberToObject(failed, prcot_method_name(ev->o->methods[i]),
                                (double)ev->failed[i]);
    if (failed && abl)
        cJSON_AddNumberToObject(failed, "ablation", (double)ev->failed[MAX_METHODS]);
    cJSON *list = cJSON_AddArrayToObject(root, "task_results");
    for (size_t i = 0; list && i < ev->tasks->count; i++) {
        const eval_task *t = &ev->tasks->tasks[i];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddItemToArray(list, o);
        cJSON_AddNumberToObject(o, "line", (double)t->line);
        cJSON_AddStringToObject(o, "family", t->family);
        cJSON_AddStringToObject(o, "question", t->question);
        cJSON_AddStringToObject(o, "expected", t->answer);
        cJSON *methods = cJSON_AddObjectToObject(o, "methods");
        for (size_t k = 0; methods && k < ev->o->n_methods; k++) {
            const task_result *r = &ev->results[k][i];
            cJSON *mo = cJSON_AddObjectToObject(methods, prcot_method_name(ev->o->methods[k]));
            if (!mo)
                break;
            if (ev->o->methods[k] != PRCOT_METHOD_COT) {
                add_string_or_null(mo, "initial", r->initial);
                cJSON_AddBoolToObject(mo, "initial_correct", r->initial_correct);
            }
            add_string_or_null(mo, "final", r->final);
            cJSON_AddBoolToObject(mo, "correct", r->correct);
            add_string_or_null(mo, "error", r->error);
        }
    }
    return reason_cli_print_json(root);
}

/* PR-CoT once per perspective of persp[0..n), leaving that one out. */
static int run_ablation(eval_run *ev, const size_t *persp, size_t n, eval_ablation *abl) {
    size_t *rest = malloc(n * sizeof *rest);
    if (!rest) {
        cmd_fail("eval: out of memory");
        return 1;
    }
    int status = 0;
    for (size_t skip = 0; skip < n && status == 0; skip++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (i != skip)
                rest[k++] = persp[i];
        const char *name = ev->set->perspectives[persp[skip]].name;
        const char *brief = strncmp(name, "perspective-", 12) == 0 ? name + 12 : name;
        char label[160];
        snprintf(label, sizeof label, "prcot without %s", brief);
        size_t correct = 0;
        status = run_method(ev, PRCOT_METHOD_PRCOT, rest, k, label, MAX_METHODS, NULL, &correct);
        lrc_error err;
        if (status == 0 && eval_ablation_add(abl, brief, ev->tasks->count, correct, &err) != 0) {
            cmd_fail("eval: %s", err.msg);
            status = 1;
        }
    }
    free(rest);
    return status;
}

int cmd_eval(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        print_usage(stdout);
        return 0;
    }
    eval_options o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;

    eval_task_set tasks = {0};
    lrc_error err = {{0}};
    if (eval_tasks_read(o.tasks_path, (size_t)o.limit, &tasks, &err) != 0) {
        cmd_fail("eval: %s", err.msg);
        return 1;
    }
    if (strcmp(o.tasks_path, "-") == 0)
        o.tasks_path = "(standard input)";
    prompt_set set;
    size_t *idx = NULL, n_persp = 0;
    int bad_list = 0;
    if (reason_cli_load_prompts("eval", &o.cli, &set, &idx, &n_persp, &bad_list) != 0) {
        eval_tasks_free(&tasks);
        return bad_list ? 2 : 1;
    }
    /* The perspectives in run order, as indexes, for the ablation. */
    size_t *persp = idx;
    if (!persp) {
        persp = malloc(n_persp * sizeof *persp);
        for (size_t i = 0; persp && i < n_persp; i++)
            persp[i] = i;
    }
    int status = 0;
    if (!persp) {
        cmd_fail("eval: out of memory");
        status = 1;
    } else if (o.ablate && n_persp < 2) {
        cmd_fail("eval: --ablate needs at least two perspectives (got %zu); widen --perspectives",
                 n_persp);
        status = 2;
    }
    reason_backend *b = NULL;
    if (status == 0 && reason_cli_open_backend("eval", &o.cli, &b) != 0)
        status = 1;

    eval_metrics metrics;
    eval_ablation abl;
    eval_metrics_init(&metrics);
    eval_ablation_init(&abl);
    eval_run ev;
    memset(&ev, 0, sizeof ev);
    ev.o = &o;
    ev.b = b;
    ev.set = &set;
    ev.tasks = &tasks;
    ev.terminal = isatty(STDERR_FILENO);
    ev.progress = o.progress || ev.terminal;
    for (size_t i = 0; status == 0 && i < o.n_methods; i++) {
        ev.results[i] = calloc(tasks.count, sizeof *ev.results[i]);
        if (!ev.results[i]) {
            cmd_fail("eval: out of memory");
            status = 1;
        }
    }
    if (status == 0) {
        /* Warn (or stop) when the longest question may not fit a local
         * model's context. */
        size_t longest = 0;
        for (size_t i = 0; i < tasks.count; i++)
            if (strlen(tasks.tasks[i].question) > strlen(tasks.tasks[longest].question))
                longest = i;
        for (size_t i = 0; status == 0 && i < o.n_methods; i++) {
            prcot_method m = o.methods[i];
            size_t n_ref = m == PRCOT_METHOD_PRCOT ? n_persp : m == PRCOT_METHOD_REFLECT;
            if (reason_cli_check_context("eval", &o.cli, b, &set, idx, n_ref, m,
                                         tasks.tasks[longest].question) != 0)
                status = 1;
        }
    }

    struct sigaction old_sa;
    reason_cli_catch_sigint(&old_sa);

    for (size_t i = 0; status == 0 && i < o.n_methods; i++) {
        size_t correct;
        status = run_method(&ev, o.methods[i], persp, n_persp, prcot_method_name(o.methods[i]), i,
                            &metrics, &correct);
    }
    if (status == 0 && o.ablate)
        status = run_ablation(&ev, persp, n_persp, &abl);
    sigaction(SIGINT, &old_sa, NULL);

    if (status == 0) {
        if (o.json) {
            if (print_json(&ev, &metrics, o.ablate ? &abl : NULL) != 0) {
                cmd_fail("eval: out of memory writing the JSON report");
                status = 1;
            }
        } else {
            print_table(&ev, &metrics, o.ablate ? &abl : NULL);
            if (o.show_tasks)
                print_task_list(&ev);
        }
    }

    for (size_t i = 0; i < MAX_METHODS; i++) {
        for (size_t k = 0; ev.results[i] && k < tasks.count; k++) {
            free(ev.results[i][k].initial);
            free(ev.results[i][k].final);
            free(ev.results[i][k].error);
        }
        free(ev.results[i]);
    }
    eval_metrics_free(&metrics);
    eval_ablation_free(&abl);
    reason_backend_free(b);
    if (persp != idx)
        free(persp);
    free(idx);
    prompts_free(&set);
    eval_tasks_free(&tasks);
    return status;
}
