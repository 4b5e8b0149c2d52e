/*
 * The PR-CoT curriculum: seeded task generators for four families and the
 * writer of a corpus folder (train.jsonl, eval.jsonl, corpus.json) for
 * `lrc corpus`.
 *
 *   arith        word problems of 2-3 steps (+, -, x by one digit, every value
 *                below 1000), worked column by column with carries
 *   commonsense  questions over a built-in world of objects and properties
 *   ethics       a situation, two or three options, the letter of the best one
 *   logic        orderings of 3-4 people and syllogisms (yes/no)
 *
 * A task carries its question, its answer and a correct chain of thought
 * ending in "Final answer: X". For PR-CoT episodes it also carries the first
 * attempt shown to the reviewers (the chain of thought, or a copy with one
 * planted mistake), one reflection per built-in perspective, a generic
 * reflection and a synthesis that ends in the correct final answer. The
 * reflection that matches the mistake's kind names the faulty step and the
 * fix. The alternative-solutions reflection solves the question another way,
 * so it also reports a wrong answer it can see (in arith only a left-out
 * step, because it compares plans rather than results). Every other
 * reflection reports what it checked and finds no problem.
 *
 * Everything is a pure function of the seed: splitmix64 streams from
 * core/rng.h, fixed tables, no clock, locale or hash order.
 */
#ifndef LRC_CORPUS_CORPUS_H
#define LRC_CORPUS_CORPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef enum corpus_family {
    CORPUS_ARITH = 0,
    CORPUS_COMMONSENSE,
    CORPUS_ETHICS,
    CORPUS_LOGIC,
    CORPUS_N_FAMILIES
} corpus_family;

/* The built-in reflection perspectives, in the order of their template file
 * names (the order the PR-CoT pipeline runs them in). */
typedef enum corpus_perspective {
    CORPUS_ALTERNATIVE = 0, /* perspective-alternative-solutions */
    CORPUS_BIASES,          /* perspective-biases-ethics */
    CORPUS_COMPLETENESS,    /* perspective-information-completeness */
    CORPUS_CONSISTENCY,     /* perspective-logical-consistency */
    CORPUS_N_PERSPECTIVES
} corpus_perspective;

/* Kinds of planted mistake. */
typedef enum corpus_mistake {
    CORPUS_MISTAKE_NONE = 0,
    CORPUS_MISTAKE_CALC,      /* a wrong calculation (arith) */
    CORPUS_MISTAKE_DROP,      /* a fact of the question left out */
    CORPUS_MISTAKE_REVERSED,  /* a comparison or rule read backwards */
    CORPUS_MISTAKE_FACT,      /* a wrong fact about an object (commonsense) */
    CORPUS_MISTAKE_UNETHICAL, /* the less ethical option chosen (ethics) */
    CORPUS_N_MISTAKES
} corpus_mistake;

/* "arith", "commonsense", "ethics", "logic". */
const char *corpus_family_name(corpus_family f);
/* Template name, e.g. "perspective-logical-consistency". */
const char *corpus_perspective_template(corpus_perspective p);
/* "none", "calc", "drop", "reversed", "fact", "unethical". */
const char *corpus_mistake_name(corpus_mistake m);

typedef struct corpus_task {
    corpus_family family;
    char *question;
    char *answer;
    char *cot; /* correct chain of thought, last line "Final answer: <answer>" */

    /* Episode parts. */
    corpus_mistake mistake;
    corpus_perspective caught_by; /* the perspective that names the mistake */
    char *attempt;                /* the first attempt in {{cot}}: cot, or cot with the mistake */
    char *reflection[CORPUS_N_PERSPECTIVES];
    char *reflect;   /* generic reflection (reflect.txt) */
    char *synthesis; /* one line on the reviews, then the correct chain of thought
                      * (after a mistake) or the final-answer line (without one) */
} corpus_task;

/* Make one task of family f from the stream *rng, with a planted mistake in
 * the attempt when `mistake` is true. Returns 0, or -1 (out of memory) with
 * err set and t empty. */
int corpus_task_make(corpus_family f, uint64_t *rng, bool mistake, corpus_task *t, lrc_error *err);
void corpus_task_free(corpus_task *t);

typedef struct corpus_options {
    uint64_t seed;
    size_t size;             /* training tasks over all families */
    size_t eval_size;        /* held-out tasks per family */
    double episode_fraction; /* share of training tasks that also get an episode */
    double mistake_fraction; /* share of episodes with a planted mistake */
} corpus_options;

#define CORPUS_DEFAULT_EVAL_SIZE 50
#define CORPUS_DEFAULT_EPISODE_FRACTION 0.2
#define CORPUS_DEFAULT_MISTAKE_FRACTION 0.2
#define CORPUS_VERSION 9

/* Return the default --size for an episode fraction: training tasks for
 * about 40 MB of train.jsonl, rounded to a thousand. The divisor is the
 * measured mean size of a cot document (about 560 bytes) plus that of an
 * episode with the four built-in perspectives (about 5600 bytes) times the
 * fraction. 40 MB is about 12 million tokens with a BPE vocabulary of about
 * 2000 tokens trained on the corpus (3.2 bytes per token: digits are single
 * tokens). */
size_t corpus_default_size(double episode_fraction);

/* Training documents by stage. */
typedef enum corpus_stage {
    CORPUS_STAGE_COT = 0,
    CORPUS_STAGE_PERSPECTIVE, /* one per perspective and episode */
    CORPUS_STAGE_REFLECT,
    CORPUS_STAGE_SYNTHESIZE,
    CORPUS_N_STAGES
} corpus_stage;

const char *corpus_stage_name(corpus_stage s); /* "cot", "perspective", "reflect", "synthesize" */

typedef struct corpus_summary {
    size_t tasks[CORPUS_N_FAMILIES];
    size_t episodes[CORPUS_N_FAMILIES];
    size_t mistakes[CORPUS_N_FAMILIES];
    size_t docs[CORPUS_N_FAMILIES][CORPUS_N_STAGES];
    size_t eval_tasks[CORPUS_N_FAMILIES];
    size_t rejected; /* training tasks dropped because a held-out question was in them */
    size_t n_docs;
    uint64_t train_bytes, eval_bytes;
} corpus_summary;

/* Called now and then with a phase name ("tasks", "write") and done/total. */
typedef void (*corpus_progress_fn)(const char *phase, size_t done, size_t total, void *user);

/* Share of the training tasks per family (sums to 1). */
double corpus_family_share(corpus_family f);

/* Generate the corpus into dir, which must exist and be empty. Each file is
 * written as a temporary in dir and renamed when all three are complete; on
 * failure no file is left. Returns 0, or -1 with err set. */
int corpus_write(const corpus_options *opt, const char *dir, corpus_summary *sum,
                 corpus_progress_fn progress, void *user, lrc_error *err);

#endif
