/*
 * The PR-CoT pipeline: render a stage's template, hand the stage's requests
 * to the backend in one generate_many call, and store what comes back.
 *
 * prcot_run allocates every stage up front (1 for cot, k + 2 otherwise) and
 * fills them in order; out->n_stages counts the leading stages that ended,
 * so on failure the caller sees exactly those. The rendered prompt of each
 * stage is kept, so a UI or a JSON report can show what the model was sent.
 * A token relay per request tags each streamed piece with its stage index and
 * makes a cancel sticky: once a callback returns nonzero, every request of
 * the run is asked to stop and the run fails with "cancelled".
 */
#define _POSIX_C_SOURCE 200809L
#include "reason/prcot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct run_ctx {
    const prcot_callbacks *cb;
    int cancelled;
} run_ctx;

typedef struct stage_relay {
    run_ctx *run;
    size_t stage;
} stage_relay;

static const char *const method_names[] = {"cot", "reflect", "prcot"};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

const char *prcot_method_name(prcot_method m) {
    if ((size_t)m < sizeof method_names / sizeof *method_names)
        return method_names[m];
    return "unknown";
}

int prcot_method_parse(const char *name, prcot_method *m, lrc_error *err) {
    for (size_t i = 0; i < sizeof method_names / sizeof *method_names; i++)
        if (strcmp(name, method_names[i]) == 0) {
            *m = (prcot_method)i;
            return 0;
        }
    return lrc_errorf(err, "unknown method '%s'; expected cot, reflect or prcot", name);
}

/* The perspective name without its "perspective-" prefix. */
static const char *short_name(const char *name) {
    static const char prefix[] = "perspective-";
    return strncmp(name, prefix, sizeof prefix - 1) == 0 ? name + sizeof prefix - 1 : name;
}

/* Write "a, b, c" (the short perspective names) into buf. */
static void list_available(const prompt_set *set, char *buf, size_t cap) {
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < set->n_perspectives && off < cap; i++) {
        int w = snprintf(buf + off, cap - off, "%s%s", i ? ", " : "",
                         short_name(set->perspectives[i].name));
        if (w < 0)
            break;
        off += (size_t)w;
    }
}

int prcot_select_perspectives(const prompt_set *set, const char *list, size_t **idx, size_t *n,
                              lrc_error *err) {
    *idx = NULL;
    *n = 0;
    char avail[512];
    list_available(set, avail, sizeof avail);
    size_t cap = 1;
    for (const char *p = list; *p; p++)
        cap += *p == ',';
    size_t *sel = malloc(cap * sizeof *sel);
    if (!sel)
        return lrc_errorf(err, "perspective list: out of memory");

    size_t count = 0;
    const char *p = list;
    for (;;) {
        const char *end = p + strcspn(p, ",");
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        size_t len = (size_t)(b - a);
        if (len == 0) {
            free(sel);
            return lrc_errorf(err,
                              "perspective list '%s' has an empty name; expected names separated "
                              "by commas from: %s",
                              list, avail);
        }
        size_t found = set->n_perspectives;
        for (size_t i = 0; i < set->n_perspectives; i++) {
            const char *full = set->perspectives[i].name, *brief = short_name(full);
            if ((strlen(full) == len && memcmp(full, a, len) == 0) ||
                (strlen(brief) == len && memcmp(brief, a, len) == 0))
                found = i;
        }
        if (found == set->n_perspectives) {
            free(sel);
            return lrc_errorf(err, "unknown perspective '%.*s'; available: %s", (int)len, a, avail);
        }
        for (size_t k = 0; k < count; k++)
            if (sel[k] == found) {
                free(sel);
                return lrc_errorf(err, "perspective '%.*s' is listed twice; name each once",
                                  (int)len, a);
            }
        sel[count++] = found;
        if (!*end)
            break;
        p = end + 1;
    }
    *idx = sel;
    *n = count;
    return 0;
}

const char *prcot_stage_kind_name(prcot_stage_kind k) {
    switch (k) {
    case PRCOT_STAGE_COT:
        return "cot";
    case PRCOT_STAGE_REFLECTION:
        return "reflection";
    case PRCOT_STAGE_SYNTHESIS:
        return "synthesis";
    }
    return "unknown";
}

/* Prefix err with the stage, as in "stage reflection 'Logical consistency'". */
static int stage_error(lrc_error *err, const prcot_stage *st) {
    return lrc_error_prefix(err, "stage %s '%s'", prcot_stage_kind_name(st->kind), st->title);
}

static void stage_clear(prcot_stage *st) {
    free(st->name);
    free(st->title);
    free(st->prompt);
    free(st->text);
    memset(st, 0, sizeof *st);
}

/* Render template t into stage st with the given values. */
static int stage_prepare(prcot_stage *st, prcot_stage_kind kind, const prompt_template *t,
                         const prompt_var *vars, size_t n_vars, lrc_error *err) {
    st->kind = kind;
    st->name = strdup(t->name);
    st->title = strdup(t->title);
    st->text = strdup("");
    if (!st->name || !st->title || !st->text)
        return lrc_errorf(err, "%s: out of memory", t->path);
    if (prompts_render(t, vars, n_vars, &st->prompt, err) != 0)
        return stage_error(err, st);
    return 0;
}

/* Ask the caller's hook whether stage st's prompt may be sent. */
static int stage_check(const prcot_options *opt, prcot_result *out, const prcot_stage *st,
                       lrc_error *err) {
    if (!opt->check_prompt || opt->check_prompt(st, opt->system, opt->check_user, err) == 0)
        return 0;
    out->prompt_rejected = 1;
    return stage_error(err, st);
}

/* NOTE: a cancel reaches each request only through its own next token, so a
 * reflection still waiting for its first token runs on until it streams. */
static int relay_token(const char *text, size_t len, void *user) {
    stage_relay *r = user;
    run_ctx *run = r->run;
    if (run->cancelled)
        return 1;
    if (run->cb && run->cb->token && run->cb->token(r->stage, text, len, run->cb->user) != 0) {
        run->cancelled = 1;
        return 1;
    }
    return 0;
}

/*
 * Run stages [first, first + count) of out, whose prompts are set, in one
 * generate_many call. Stages that end are stored and reported; *n_ended is
 * the number of leading stages of the batch that ended. On failure err names
 * the first failed stage.
 */
static int run_batch(reason_backend *b, const prcot_options *opt, run_ctx *run, prcot_result *out,
                     size_t first, size_t count, size_t *n_ended, double *wall, lrc_error *err) {
    const prcot_callbacks *cb = run->cb;
    reason_request *reqs = calloc(count, sizeof *reqs);
    reason_output *outs = calloc(count, sizeof *outs);
    stage_relay *relays = calloc(count, sizeof *relays);
    *n_ended = 0;
    if (!reqs || !outs || !relays) {
        free(reqs);
        free(outs);
        free(relays);
        lrc_errorf(err, "out of memory");
        return stage_error(err, &out->stages[first]);
    }
    for (size_t i = 0; i < count; i++) {
        relays[i] = (stage_relay){run, first + i};
        reqs[i] =
            (reason_request){opt->system, out->stages[first + i].prompt, relay_token, &relays[i]};
        if (cb && cb->stage_begin)
            cb->stage_begin(first + i, &out->stages[first + i], cb->user);
    }

    double t0 = now_s();
    lrc_error call_err = {{0}};
    int rc = b->generate_many(b, reqs, count, outs, &call_err);
    *wall = now_s() - t0;

    int failed = 0;
    for (size_t i = 0; i < count; i++) {
        prcot_stage *st = &out->stages[first + i];
        reason_output *o = &outs[i];
        if (o->failed || (rc != 0 && !o->text)) {
            if (!failed) {
                const char *msg = o->failed ? o->err.msg : call_err.msg;
                lrc_errorf(err, "%s", run->cancelled ? "cancelled" : msg);
                stage_error(err, st);
            }
            failed = 1;
            reason_output_free(o);
            continue;
        }
        free(st->text);
        st->text = o->text ? o->text : strdup("");
        o->text = NULL;
        st->n_tokens = o->n_tokens;
        st->truncated = o->truncated;
        st->seconds = o->seconds > 0 ? o->seconds : *wall;
        if (!st->text && !failed) {
            lrc_errorf(err, "out of memory");
            stage_error(err, st);
            failed = 1;
        }
        if (!failed)
            (*n_ended)++;
    }
    if (!failed && (rc != 0 || run->cancelled)) {
        lrc_errorf(err, "%s", run->cancelled ? "cancelled" : call_err.msg);
        stage_error(err, &out->stages[first]);
        failed = 1;
        *n_ended = 0;
    }
    if (cb && cb->stage_end)
        for (size_t i = 0; i < *n_ended; i++)
            cb->stage_end(first + i, &out->stages[first + i], cb->user);
    free(reqs);
    free(outs);
    free(relays);
    return failed ? -1 : 0;
}

/* Copy text without trailing white space; NULL when out of memory. */
static char *trim_end(const char *text) {
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\n' || text[n - 1] == '\r' ||
                     text[n - 1] == '\t'))
        n--;
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, text, n);
        s[n] = '\0';
    }
    return s;
}

/* Read the final-answer line of a stage's text; on failure err names the
 * stage and its template file (the parser's message names synthesize). */
static int stage_answer(const prcot_stage *st, const prompt_template *t, char **answer,
                        lrc_error *err) {
    if (prompts_parse_final_answer(st->text, answer, err) == 0)
        return 0;
    if (st->truncated)
        return lrc_errorf(err,
                          "stage %s '%s': the output was cut short after %d token%s, before its "
                          "\"Final answer:\" line; raise --max-tokens (or use a model with a "
                          "longer context)",
                          prcot_stage_kind_name(st->kind), st->title, st->n_tokens,
                          st->n_tokens == 1 ? "" : "s");
    static const char parser_prefix[] = "synthesize: ";
    char msg[LRC_ERROR_MAX];
    const char *m = err->msg;
    if (strncmp(m, parser_prefix, sizeof parser_prefix - 1) == 0)
        m += sizeof parser_prefix - 1;
    /* The parser's hint names synthesize.txt; name the stage's own file. */
    const char *file_hint = strstr(m, "synthesize.txt");
    if (file_hint && strcmp(t->name, "synthesize") != 0)
        snprintf(msg, sizeof msg, "%.*s%s.txt%s", (int)(file_hint - m), m, t->name,
                 file_hint + strlen("synthesize.txt"));
    else
        snprintf(msg, sizeof msg, "%s", m);
    lrc_errorf(err, "stage %s '%s': %s", prcot_stage_kind_name(st->kind), st->title, msg);
    return -1;
}

int prcot_run(reason_backend *b, const prcot_options *opt, const char *question,
              const prcot_callbacks *cb, prcot_result *out, lrc_error *err) {
    memset(out, 0, sizeof *out);
    out->method = opt->method;
    const prompt_set *set = opt->prompts;
    if (!set || !question)
        return lrc_errorf(err, "prcot: no prompt set or no question given");
    double t0 = now_s();

    /* The reflection templates of this method, in run order. */
    size_t n_ref = 0;
    const prompt_template **refs = NULL;
    if (opt->method == PRCOT_METHOD_REFLECT) {
        n_ref = 1;
    } else if (opt->method == PRCOT_METHOD_PRCOT) {
        n_ref = opt->perspectives ? opt->n_perspectives : set->n_perspectives;
        if (n_ref == 0)
            return lrc_errorf(err, "prcot: no perspectives to reflect from; add a "
                                   "perspective-*.txt template (see lrc-prompts(5))");
    } else if (opt->method != PRCOT_METHOD_COT) {
        return lrc_errorf(err, "prcot: unknown method %d", (int)opt->method);
    }
    if (n_ref) {
        refs = calloc(n_ref, sizeof *refs);
        if (!refs)
            return lrc_errorf(err, "prcot: out of memory");
    }
    for (size_t i = 0; i < n_ref; i++) {
        if (opt->method == PRCOT_METHOD_REFLECT) {
            refs[i] = &set->reflect;
            continue;
        }
        size_t k = opt->perspectives ? opt->perspectives[i] : i;
        if (k >= set->n_perspectives) {
            free(refs);
            return lrc_errorf(err, "prcot: perspective index %zu is out of range (%zu loaded)", k,
                              set->n_perspectives);
        }
        refs[i] = &set->perspectives[k];
    }

    if (n_ref != 1 && opt->method != PRCOT_METHOD_COT &&
        prompts_uses(&set->synthesize, "reflection")) {
        free(refs);
        return lrc_errorf(err,
                          "%s: {{reflection}} has a value only when one reflection runs (reflect, "
                          "or prcot with one perspective) and this run has %zu; use "
                          "{{reflections}} (see lrc-prompts(5))",
                          set->synthesize.path, n_ref);
    }

    size_t n_total = n_ref ? n_ref + 2 : 1;
    out->stages = calloc(n_total, sizeof *out->stages);
    if (!out->stages) {
        free(refs);
        return lrc_errorf(err, "prcot: out of memory");
    }

    run_ctx run = {cb, 0};
    char *cot_text = NULL, *joined = NULL;
    const char **titles = NULL, **texts = NULL;
    size_t ended = 0;
    double wall = 0;
    int rc = -1;

    /* Stage 0: the chain of thought. */
    prompt_var qv[] = {{"question", question}};
    if (stage_prepare(&out->stages[0], PRCOT_STAGE_COT, &set->cot, qv, 1, err) != 0 ||
        stage_check(opt, out, &out->stages[0], err) != 0)
        goto done;
    if (run_batch(b, opt, &run, out, 0, 1, &ended, &wall, err) != 0)
        goto done;
    out->n_stages = 1;
    lrc_error answer_err;
    if (stage_answer(&out->stages[0], &set->cot, &out->initial_answer, &answer_err) != 0) {
        out->initial_answer = NULL;
        if (opt->method == PRCOT_METHOD_COT) {
            *err = answer_err;
            out->answer_missing = 1;
            goto done;
        }
    }
    if (opt->method == PRCOT_METHOD_COT) {
        out->final_answer = strdup(out->initial_answer);
        if (!out->final_answer) {
            lrc_errorf(err, "prcot: out of memory");
            goto done;
        }
        rc = 0;
        goto done;
    }

    /* Stages 1..k: the reflections, in one call. */
    cot_text = trim_end(out->stages[0].text);
    if (!cot_text) {
        lrc_errorf(err, "prcot: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n_ref; i++) {
        prompt_var rv[] = {{"question", question}, {"cot", cot_text}, {"perspective", NULL}};
        size_t nv = 2;
        if (opt->method == PRCOT_METHOD_PRCOT) {
            rv[2].value = refs[i]->title;
            nv = 3;
        }
        if (stage_prepare(&out->stages[1 + i], PRCOT_STAGE_REFLECTION, refs[i], rv, nv, err) != 0)
            goto done;
    }
    for (size_t i = 0; i < n_ref; i++)
        if (stage_check(opt, out, &out->stages[1 + i], err) != 0)
            goto done;
    rc = run_batch(b, opt, &run, out, 1, n_ref, &ended, &wall, err);
    out->n_stages = 1 + ended;
    out->reflections_seconds = wall;
    if (rc != 0)
        goto done;
    rc = -1;

    /* Stage k+1: the synthesis. */
    titles = calloc(n_ref, sizeof *titles);
    texts = calloc(n_ref, sizeof *texts);
    if (!titles || !texts) {
        lrc_errorf(err, "prcot: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n_ref; i++) {
        titles[i] = out->stages[1 + i].title;
        texts[i] = out->stages[1 + i].text;
    }
    joined = prompts_join_reflections(titles, texts, n_ref);
    if (!joined) {
        lrc_errorf(err, "prcot: out of memory");
        goto done;
    }
    prompt_var sv[] = {{"question", question},
                       {"cot", cot_text},
                       {"reflections", joined},
                       {"reflection", n_ref == 1 ? out->stages[1].text : NULL}};
    prcot_stage *syn = &out->stages[n_total - 1];
    if (stage_prepare(syn, PRCOT_STAGE_SYNTHESIS, &set->synthesize, sv, 4, err) != 0 ||
        stage_check(opt, out, syn, err) != 0)
        goto done;
    if (run_batch(b, opt, &run, out, n_total - 1, 1, &ended, &wall, err) != 0)
        goto done;
    out->n_stages = n_total;
    if (stage_answer(syn, &set->synthesize, &out->final_answer, err) != 0) {
        out->final_answer = NULL;
        out->answer_missing = 1;
        goto done;
    }
    rc = 0;

done:
    for (size_t i = out->n_stages; i < n_total; i++)
        stage_clear(&out->stages[i]);
    out->seconds = now_s() - t0;
    free(refs);
    free(cot_text);
    free(joined);
    free(titles);
    free(texts);
    return rc;
}

void prcot_result_free(prcot_result *r) {
    if (!r)
        return;
    for (size_t i = 0; i < r->n_stages; i++)
        stage_clear(&r->stages[i]);
    free(r->stages);
    free(r->initial_answer);
    free(r->final_answer);
    memset(r, 0, sizeof *r);
}
