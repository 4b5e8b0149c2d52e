/*
 * The PR-CoT pipeline and its baselines, over any backend (backend.h).
 *
 *   cot      chain of thought only; its final-answer line is the answer
 *   reflect  chain of thought, one generic reflection (reflect.txt), synthesis
 *   prcot    chain of thought, one reflection per perspective, synthesis
 *
 * Stages are numbered in the order they appear in prcot_result.stages:
 * 0 is the chain of thought, 1..k the reflections, k+1 the synthesis. The
 * reflections depend only on the question and the chain of thought, so they
 * go to the backend in one generate_many call: concurrently over HTTP, with a
 * shared key/value prefix locally.
 *
 * Placeholder values: {{question}} is the question as given, {{cot}} the
 * chain of thought's text without trailing white space, {{perspective}} the
 * perspective's title, {{reflections}} every reflection joined by
 * prompts_join_reflections under its stage title, and {{reflection}} the
 * text of the only reflection when a run has exactly one (reflect, or prcot
 * with one perspective).
 *
 * Callbacks let a UI fill one pane per stage while text streams. They run on
 * the thread that called prcot_run; tokens of concurrent reflections
 * interleave, and the stage index says which pane a piece belongs to. Every
 * reflection's stage_begin comes before the reflections are sent, and their
 * stage_end calls come, in stage order, once the last of them has ended.
 */
#ifndef LRC_REASON_PRCOT_H
#define LRC_REASON_PRCOT_H

#include <stddef.h>

#include "core/error.h"
#include "reason/backend.h"
#include "reason/prompts.h"

typedef enum prcot_method {
    PRCOT_METHOD_COT = 0,
    PRCOT_METHOD_REFLECT,
    PRCOT_METHOD_PRCOT,
} prcot_method;

typedef enum prcot_stage_kind {
    PRCOT_STAGE_COT = 0,
    PRCOT_STAGE_REFLECTION,
    PRCOT_STAGE_SYNTHESIS,
} prcot_stage_kind;

typedef struct prcot_stage {
    prcot_stage_kind kind;
    char *name;     /* template name: "cot", "reflect", "perspective-...", "synthesize" */
    char *title;    /* the template's title line, for headings */
    char *prompt;   /* the rendered template sent as the user message */
    char *text;     /* the model's output ("" until it ends) */
    int n_tokens;   /* as reason_output.n_tokens */
    int truncated;  /* as reason_output.truncated */
    double seconds; /* wall time of this stage */
} prcot_stage;

typedef struct prcot_result {
    prcot_method method;
    prcot_stage *stages; /* [n_stages] in stage order */
    size_t n_stages;
    char *initial_answer; /* from the chain of thought's final-answer line, or NULL */
    char *final_answer;   /* cot: the initial answer; otherwise from the synthesis */
    double seconds;       /* wall time of the whole run */
    /* Wall time of the one generate_many call that ran every reflection; 0
     * for cot. With concurrent reflections it is less than their sum. */
    double reflections_seconds;
    /* 1 when every stage ran but the answer could not be read: the
     * synthesis (or, for cot, the chain of thought) has no final-answer line
     * or an empty one. prcot_run then fails and stages holds every stage. */
    int answer_missing;
    /* 1 when prcot_options.check_prompt refused a stage's prompt, so the run
     * failed before that stage was sent. */
    int prompt_rejected;
} prcot_result;

typedef struct prcot_callbacks {
    /* A stage is about to run; st->prompt is set. */
    void (*stage_begin)(size_t stage, const prcot_stage *st, void *user);
    /* A piece of a stage's output. Return nonzero to cancel the run. */
    int (*token)(size_t stage, const char *text, size_t len, void *user);
    /* A stage has ended; st->text and st->seconds are set. */
    void (*stage_end)(size_t stage, const prcot_stage *st, void *user);
    void *user;
} prcot_callbacks;

typedef struct prcot_options {
    prcot_method method;
    const prompt_set *prompts; /* loaded with prompts_load */
    /* Perspectives for PRCOT_METHOD_PRCOT, as indexes into
     * prompts->perspectives in run order; NULL runs them all. */
    const size_t *perspectives;
    size_t n_perspectives;
    const char *system; /* system message for every stage, or NULL */
    /* May be NULL. Called with each stage's rendered prompt before the stage
     * is sent (every reflection's before any reflection is sent). A nonzero
     * return fails the run there: err, set by the hook, is prefixed with the
     * stage and prcot_result.prompt_rejected is set. lrc ask and lrc eval
     * use it to check that a prompt leaves room in a local model's context. */
    int (*check_prompt)(const prcot_stage *st, const char *system, void *user, lrc_error *err);
    void *check_user;
} prcot_options;

/* "cot", "reflect" or "prcot". */
const char *prcot_method_name(prcot_method m);

/* "cot", "reflection" or "synthesis", as in error messages and JSON output. */
const char *prcot_stage_kind_name(prcot_stage_kind k);

/* Parse a method name; returns 0, or -1 with err listing the valid names. */
int prcot_method_parse(const char *name, prcot_method *m, lrc_error *err);

/* Turn a comma-separated list of perspective names into indexes into
 * set->perspectives. A name may be given with or without the "perspective-"
 * prefix ("logical-consistency" or "perspective-logical-consistency"). An
 * unknown or repeated name is an error listing the available ones. *idx is
 * malloc'd. */
int prcot_select_perspectives(const prompt_set *set, const char *list, size_t **idx, size_t *n,
                              lrc_error *err);

/* Run the method on question. On failure err names the stage that failed
 * ("stage reflection 'Logical consistency': ...") and out contains the
 * stages that ended before it. A synthesis without a final-answer line is an error
 * naming the synthesis stage; when the synthesis was truncated, the error
 * says it was cut short instead of blaming the template. A chain of thought
 * without one is not an error for reflect and prcot (initial_answer stays
 * NULL), but is for cot. A synthesize.txt using {{reflection}} in a run with
 * other than one reflection fails before any stage runs. */
int prcot_run(reason_backend *b, const prcot_options *opt, const char *question,
              const prcot_callbacks *cb, prcot_result *out, lrc_error *err);

void prcot_result_free(prcot_result *r);

#endif
