/*
 * Evaluation metrics: records live in one growing array, and every summary
 * is a fresh pass over it, so adding records in any order gives the same
 * numbers. Rates use NaN for a zero denominator and the JSON report turns
 * NaN into null (cJSON would print it as an invalid token otherwise).
 */
#define _POSIX_C_SOURCE 200809L
#include "reason/eval_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void eval_metrics_init(eval_metrics *m) {
    memset(m, 0, sizeof *m);
}

void eval_metrics_free(eval_metrics *m) {
    for (size_t i = 0; i < m->count; i++) {
        free(m->records[i].family);
        free(m->records[i].method);
    }
    free(m->records);
    memset(m, 0, sizeof *m);
}

int eval_metrics_add(eval_metrics *m, const char *family, const char *method, int initial_correct,
                     bool final_correct, lrc_error *err) {
    if (!family || !method)
        return lrc_errorf(err, "eval record: family and method are required");
    if (initial_correct != EVAL_INITIAL_NONE && initial_correct != EVAL_INITIAL_WRONG &&
        initial_correct != EVAL_INITIAL_RIGHT)
        return lrc_errorf(err, "eval record: initial_correct is %d, expected -1, 0 or 1",
                          initial_correct);
    if (m->count == m->capacity) {
        size_t capacity = m->capacity ? 2 * m->capacity : 16;
        eval_record *grown = realloc(m->records, capacity * sizeof *grown);
        if (!grown)
            return lrc_errorf(err, "eval record: out of memory");
        m->records = grown;
        m->capacity = capacity;
    }
    eval_record *r = &m->records[m->count];
    r->family = strdup(family);
    r->method = strdup(method);
    if (!r->family || !r->method) {
        free(r->family);
        free(r->method);
        return lrc_errorf(err, "eval record: out of memory");
    }
    r->initial_correct = initial_correct;
    r->final_correct = final_correct;
    m->count++;
    return 0;
}

static double ratio(size_t numerator, size_t denominator) {
    return denominator ? (double)numerator / (double)denominator : NAN;
}

eval_summary eval_metrics_summarize(const eval_metrics *m, const char *method, const char *family) {
    eval_summary s;
    memset(&s, 0, sizeof s);
    for (size_t i = 0; i < m->count; i++) {
        const eval_record *r = &m->records[i];
        if (strcmp(r->method, method) != 0 || (family && strcmp(r->family, family) != 0))
            continue;
        s.n++;
        s.correct += r->final_correct;
        if (r->initial_correct == EVAL_INITIAL_NONE)
            continue;
        s.initial_n++;
        if (r->initial_correct == EVAL_INITIAL_RIGHT) {
            s.initial_correct++;
            s.regressed += !r->final_correct;
        } else {
            s.corrected += r->final_correct;
        }
    }
    s.accuracy = ratio(s.correct, s.n);
    s.initial_accuracy = ratio(s.initial_correct, s.initial_n);
    s.correction_rate = ratio(s.corrected, s.initial_n - s.initial_correct);
    s.regression_rate = ratio(s.regressed, s.initial_correct);
    return s;
}

/* Collect distinct names from one field of the records, in first-seen order.
 * The quadratic search is fine for the tens of methods and families an
 * evaluation has. */
static const char **distinct_names(const eval_metrics *m, int want_family, size_t *count) {
    *count = 0;
    if (m->count == 0)
        return NULL;
    const char **names = malloc(m->count * sizeof *names);
    if (!names)
        return NULL;
    for (size_t i = 0; i < m->count; i++) {
        const char *name = want_family ? m->records[i].family : m->records[i].method;
        size_t j = 0;
        while (j < *count && strcmp(names[j], name) != 0)
            j++;
        if (j == *count)
            names[(*count)++] = name;
    }
    return names;
}

const char **eval_metrics_methods(const eval_metrics *m, size_t *count) {
    return distinct_names(m, 0, count);
}

const char **eval_metrics_families(const eval_metrics *m, size_t *count) {
    return distinct_names(m, 1, count);
}

void eval_ablation_init(eval_ablation *a) {
    memset(a, 0, sizeof *a);
}

void eval_ablation_free(eval_ablation *a) {
    for (size_t i = 0; i < a->count; i++)
        free(a->rows[i].left_out);
    free(a->rows);
    memset(a, 0, sizeof *a);
}

int eval_ablation_add(eval_ablation *a, const char *left_out, size_t n, size_t correct,
                      lrc_error *err) {
    if (!left_out)
        return lrc_errorf(err, "ablation row: the left-out perspective name is required");
    if (correct > n)
        return lrc_errorf(err, "ablation row '%s': %zu correct out of %zu, expected at most %zu",
                          left_out, correct, n, n);
    eval_ablation_row *grown = realloc(a->rows, (a->count + 1) * sizeof *grown);
    if (!grown)
        return lrc_errorf(err, "ablation row '%s': out of memory", left_out);
    a->rows = grown;
    char *name = strdup(left_out);
    if (!name)
        return lrc_errorf(err, "ablation row '%s': out of memory", left_out);
    a->rows[a->count++] = (eval_ablation_row){.left_out = name, .n = n, .correct = correct};
    return 0;
}

/* Add a number, or null when value is NaN. Returns 0 or -1 when out of memory. */
static int add_rate(cJSON *object, const char *key, double value) {
    cJSON *item = isnan(value) ? cJSON_CreateNull() : cJSON_CreateNumber(value);
    return item && cJSON_AddItemToObject(object, key, item) ? 0 : -1;
}

static int add_count(cJSON *object, const char *key, size_t value) {
    return cJSON_AddNumberToObject(object, key, (double)value) ? 0 : -1;
}

static cJSON *counts_json(const char *name_key, const char *name, size_t n, size_t correct,
                          double accuracy) {
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if ((name_key && !cJSON_AddStringToObject(o, name_key, name)) || add_count(o, "n", n) ||
        add_count(o, "correct", correct) || add_rate(o, "accuracy", accuracy)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *transition_json(size_t count, size_t denominator, double rate) {
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (add_count(o, "count", count) || add_count(o, "denominator", denominator) ||
        add_rate(o, "rate", rate)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Add item to object, deleting it on failure. Returns 0 or -1. */
static int attach(cJSON *object, const char *key, cJSON *item) {
    if (!item)
        return -1;
    if (key ? !cJSON_AddItemToObject(object, key, item) : !cJSON_AddItemToArray(object, item)) {
        cJSON_Delete(item);
        return -1;
    }
    return 0;
}

static cJSON *method_json(const eval_metrics *m, const char *method, const char **families,
                          size_t n_families) {
    eval_summary s = eval_metrics_summarize(m, method, NULL);
    cJSON *o = counts_json("method", method, s.n, s.correct, s.accuracy);
    if (!o)
        return NULL;
    cJSON *family_list = cJSON_CreateArray();
    if (attach(o, "families", family_list))
        goto fail;
    for (size_t i = 0; i < n_families; i++) {
        eval_summary f = eval_metrics_summarize(m, method, families[i]);
        if (f.n == 0)
            continue;
        if (attach(family_list, NULL,
                   counts_json("family", families[i], f.n, f.correct, f.accuracy)))
            goto fail;
    }
    if (s.initial_n > 0) {
        size_t initial_wrong = s.initial_n - s.initial_correct;
        if (attach(o, "initial",
                   counts_json(NULL, NULL, s.initial_n, s.initial_correct, s.initial_accuracy)) ||
            attach(o, "error_correction",
                   transition_json(s.corrected, initial_wrong, s.correction_rate)) ||
            attach(o, "regression",
                   transition_json(s.regressed, s.initial_correct, s.regression_rate)))
            goto fail;
    }
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

cJSON *eval_report_json(const eval_metrics *m, const eval_ablation *ablation) {
    size_t n_methods = 0, n_families = 0;
    const char **methods = eval_metrics_methods(m, &n_methods);
    const char **families = eval_metrics_families(m, &n_families);
    cJSON *report = cJSON_CreateObject();
    cJSON *method_list = NULL;
    if (!report || (m->count > 0 && (!methods || !families)) ||
        !cJSON_AddStringToObject(report, "schema", "lrc-eval/1"))
        goto fail;
    method_list = cJSON_CreateArray();
    if (attach(report, "methods", method_list))
        goto fail;
    for (size_t i = 0; i < n_methods; i++)
        if (attach(method_list, NULL, method_json(m, methods[i], families, n_families)))
            goto fail;
    if (ablation) {
        cJSON *rows = cJSON_CreateArray();
        if (attach(report, "ablation", rows))
            goto fail;
        for (size_t i = 0; i < ablation->count; i++) {
            const eval_ablation_row *row = &ablation->rows[i];
            if (attach(rows, NULL,
                       counts_json("left_out", row->left_out, row->n, row->correct,
                                   ratio(row->correct, row->n))))
                goto fail;
        }
    }
    free(methods);
    free(families);
    return report;
fail:
    free(methods);
    free(families);
    cJSON_Delete(report);
    return NULL;
}
