/*
 * Evaluation metrics for PR-CoT and its baselines. The caller adds one record
 * per (question, method): the task family, the method name ("cot", "reflect",
 * "prcot" or any other), whether the final answer was correct and, when the
 * method starts from a chain of thought, whether that initial answer was
 * correct. Summaries are computed on request from the stored records.
 *
 * Rates:
 *   accuracy          = final correct / records
 *   error correction  = (initial wrong and final right) / initial wrong
 *   regression        = (initial right and final wrong) / initial right
 * A rate whose denominator is zero is NaN in the C structs and null in JSON.
 *
 * JSON report (eval_report_json), schema "lrc-eval/1":
 *   {
 *     "schema": "lrc-eval/1",
 *     "methods": [                                   in first-seen order
 *       { "method": "prcot", "n": 4, "correct": 3, "accuracy": 0.75,
 *         "families": [                              in first-seen order
 *           { "family": "arith", "n": 2, "correct": 2, "accuracy": 1.0 } ],
 *         "initial": { "n": 4, "correct": 2, "accuracy": 0.5 },
 *         "error_correction": { "count": 1, "denominator": 2, "rate": 0.5 },
 *         "regression": { "count": 0, "denominator": 2, "rate": 0.0 } } ],
 *     "ablation": [                                  only when a table is given
 *       { "left_out": "bias", "n": 4, "correct": 2, "accuracy": 0.5 } ]
 *   }
 * "initial", "error_correction" and "regression" appear only for a method
 * with at least one record that has an initial answer; they count only those
 * records. Every "accuracy" and "rate" is a number or null.
 */
#ifndef LRC_REASON_EVAL_METRICS_H
#define LRC_REASON_EVAL_METRICS_H

#include "core/error.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* Values of eval_record.initial_correct. */
enum { EVAL_INITIAL_NONE = -1, EVAL_INITIAL_WRONG = 0, EVAL_INITIAL_RIGHT = 1 };

typedef struct eval_record {
    char *family;        /* owned copy */
    char *method;        /* owned copy */
    int initial_correct; /* EVAL_INITIAL_NONE when the method has no initial answer */
    bool final_correct;
} eval_record;

typedef struct eval_metrics {
    eval_record *records;
    size_t count, capacity;
} eval_metrics;

/* Counts and rates over a set of records; the rates are NaN on a zero
 * denominator. */
typedef struct eval_summary {
    size_t n, correct;
    double accuracy;
    size_t initial_n, initial_correct; /* records with an initial answer */
    double initial_accuracy;
    size_t corrected;       /* initial wrong, final right */
    size_t regressed;       /* initial right, final wrong */
    double correction_rate; /* corrected / (initial_n - initial_correct) */
    double regression_rate; /* regressed / initial_correct */
} eval_summary;

/* PR-CoT accuracy with one perspective left out; the command fills one row
 * per perspective. */
typedef struct eval_ablation_row {
    char *left_out; /* owned copy of the perspective name */
    size_t n, correct;
} eval_ablation_row;

typedef struct eval_ablation {
    eval_ablation_row *rows;
    size_t count;
} eval_ablation;

void eval_metrics_init(eval_metrics *m);
void eval_metrics_free(eval_metrics *m);

/* Append a record. initial_correct is one of the EVAL_INITIAL_ values.
 * Returns 0, or -1 with err set on a bad argument or out of memory. */
int eval_metrics_add(eval_metrics *m, const char *family, const char *method, int initial_correct,
                     bool final_correct, lrc_error *err);

/* Summarize the records of method, restricted to family unless family is
 * NULL. A method or family without records gives n = 0 and NaN rates. */
eval_summary eval_metrics_summarize(const eval_metrics *m, const char *method, const char *family);

/* Return the distinct method names (or family names) in first-seen order as
 * an array of pointers into the records, with *count set. The caller frees
 * the array but not the names. Returns NULL when there are no records or
 * out of memory (then *count is 0). */
const char **eval_metrics_methods(const eval_metrics *m, size_t *count);
const char **eval_metrics_families(const eval_metrics *m, size_t *count);

void eval_ablation_init(eval_ablation *a);
void eval_ablation_free(eval_ablation *a);

/* Append a row. Returns 0, or -1 with err set when correct > n, left_out is
 * NULL or memory runs out. */
int eval_ablation_add(eval_ablation *a, const char *left_out, size_t n, size_t correct,
                      lrc_error *err);

/* Build the JSON report described above; ablation may be NULL. Returns a new
 * cJSON object that the caller frees with cJSON_Delete, or NULL when out of
 * memory. */
cJSON *eval_report_json(const eval_metrics *m, const eval_ablation *ablation);

#endif
