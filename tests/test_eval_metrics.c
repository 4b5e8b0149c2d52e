/*
 * Evaluation metrics and task files: a scripted set of records whose
 * accuracies, error-correction and regression rates are worked out by hand
 * in the comments, zero-denominator cases, the JSON report's fields, and the
 * task reader on good and bad files written to a temporary folder.
 */
#define _POSIX_C_SOURCE 200809L
#include "reason/eval_metrics.h"
#include "reason/tasks.h"
#include "tap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { N = EVAL_INITIAL_NONE, W = EVAL_INITIAL_WRONG, R = EVAL_INITIAL_RIGHT };

typedef struct scripted {
    const char *family, *method;
    int initial;
    bool final;
} scripted;

/* prcot: initial R,W,W,R,R,W (3 right, 3 wrong); final R,R,W,W,R,R (4 right).
 *   corrected (W then right): rows 2 and 6 -> 2/3; regressed (R then wrong):
 *   row 4 -> 1/3. arith: 2/3 correct, corrected 1/2, regressed 0/1.
 *   logic: 2/3 correct, corrected 1/1, regressed 1/2.
 * cot: no initial answers, 1/3 correct.
 * reflect: initial always right, so the error-correction rate is undefined. */
static const scripted script[] = {
    {"arith", "prcot", R, true},   {"arith", "prcot", W, true},   {"arith", "prcot", W, false},
    {"logic", "prcot", R, false},  {"logic", "prcot", R, true},   {"logic", "prcot", W, true},
    {"arith", "cot", N, true},     {"arith", "cot", N, false},    {"logic", "cot", N, false},
    {"arith", "reflect", R, true}, {"arith", "reflect", R, true},
};

static void test_summaries(const eval_metrics *m) {
    eval_summary s = eval_metrics_summarize(m, "prcot", NULL);
    ok(s.n == 6 && s.correct == 4, "prcot counts: n %zu correct %zu", s.n, s.correct);
    ok_near(s.accuracy, 4.0 / 6.0, 1e-12, "prcot accuracy");
    ok(s.initial_n == 6 && s.initial_correct == 3, "prcot initial counts");
    ok_near(s.initial_accuracy, 0.5, 1e-12, "prcot initial accuracy");
    ok(s.corrected == 2 && s.regressed == 1, "prcot transitions: corrected %zu regressed %zu",
       s.corrected, s.regressed);
    ok_near(s.correction_rate, 2.0 / 3.0, 1e-12, "prcot error-correction rate");
    ok_near(s.regression_rate, 1.0 / 3.0, 1e-12, "prcot regression rate");

    s = eval_metrics_summarize(m, "prcot", "arith");
    ok(s.n == 3 && s.correct == 2, "prcot arith counts");
    ok_near(s.correction_rate, 0.5, 1e-12, "prcot arith error-correction rate");
    ok_near(s.regression_rate, 0.0, 1e-12, "prcot arith regression rate");
    s = eval_metrics_summarize(m, "prcot", "logic");
    ok_near(s.correction_rate, 1.0, 1e-12, "prcot logic error-correction rate");
    ok_near(s.regression_rate, 0.5, 1e-12, "prcot logic regression rate");

    s = eval_metrics_summarize(m, "cot", NULL);
    ok(s.n == 3 && s.correct == 1, "cot counts");
    ok_near(s.accuracy, 1.0 / 3.0, 1e-12, "cot accuracy");
    ok(s.initial_n == 0, "cot has no initial answers");
    ok(isnan(s.initial_accuracy), "cot initial accuracy undefined");
    ok(isnan(s.correction_rate), "cot error-correction rate undefined");
    ok(isnan(s.regression_rate), "cot regression rate undefined");

    s = eval_metrics_summarize(m, "reflect", NULL);
    ok(isnan(s.correction_rate), "reflect error-correction rate undefined (0 wrong)");
    ok_near(s.regression_rate, 0.0, 1e-12, "reflect regression rate 0/2");

    s = eval_metrics_summarize(m, "cot", "geometry");
    ok(s.n == 0 && isnan(s.accuracy), "unknown family gives n 0 and undefined accuracy");
    s = eval_metrics_summarize(m, "tot", NULL);
    ok(s.n == 0 && isnan(s.accuracy), "unknown method gives n 0 and undefined accuracy");

    size_t count = 0;
    const char **methods = eval_metrics_methods(m, &count);
    ok(count == 3 && strcmp(methods[0], "prcot") == 0 && strcmp(methods[1], "cot") == 0 &&
           strcmp(methods[2], "reflect") == 0,
       "methods in first-seen order");
    free(methods);
    const char **families = eval_metrics_families(m, &count);
    ok(count == 2 && strcmp(families[0], "arith") == 0 && strcmp(families[1], "logic") == 0,
       "families in first-seen order");
    free(families);
}

static double number_at(const cJSON *object, const char *key) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    return cJSON_IsNumber(item) ? item->valuedouble : -1.0;
}

static bool is_null_at(const cJSON *object, const char *key) {
    return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(object, key));
}

static void test_report(const eval_metrics *m) {
    eval_ablation ablation;
    eval_ablation_init(&ablation);
    lrc_error err = {{0}};
    ok(eval_ablation_add(&ablation, "logic", 6, 3, &err) == 0, "ablation row added");
    ok(eval_ablation_add(&ablation, "bias", 0, 0, &err) == 0, "empty ablation row added");
    ok(eval_ablation_add(&ablation, "bias", 2, 3, &err) == -1 && strstr(err.msg, "bias"),
       "ablation row with correct > n rejected: %s", err.msg);

    cJSON *report = eval_report_json(m, &ablation);
    ok(report != NULL, "report built");
    char *text = cJSON_PrintUnformatted(report);
    cJSON_Delete(report);
    /* Parse the printed text so the test checks what a reader of the file sees. */
    report = cJSON_Parse(text);
    ok(report != NULL, "printed report is valid JSON");
    free(text);

    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(report, "schema");
    ok(cJSON_IsString(schema) && strcmp(schema->valuestring, "lrc-eval/1") == 0, "schema");
    const cJSON *methods = cJSON_GetObjectItemCaseSensitive(report, "methods");
    ok(cJSON_GetArraySize(methods) == 3, "three methods");

    const cJSON *prcot = cJSON_GetArrayItem(methods, 0);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(prcot, "method");
    ok(cJSON_IsString(name) && strcmp(name->valuestring, "prcot") == 0, "first method prcot");
    ok(number_at(prcot, "n") == 6 && number_at(prcot, "correct") == 4, "prcot n and correct");
    ok_near(number_at(prcot, "accuracy"), 4.0 / 6.0, 1e-12, "prcot accuracy in JSON");
    const cJSON *families = cJSON_GetObjectItemCaseSensitive(prcot, "families");
    ok(cJSON_GetArraySize(families) == 2, "prcot has two families");
    const cJSON *logic = cJSON_GetArrayItem(families, 1);
    name = cJSON_GetObjectItemCaseSensitive(logic, "family");
    ok(cJSON_IsString(name) && strcmp(name->valuestring, "logic") == 0, "second family logic");
    ok_near(number_at(logic, "accuracy"), 2.0 / 3.0, 1e-12, "prcot logic accuracy in JSON");
    const cJSON *initial = cJSON_GetObjectItemCaseSensitive(prcot, "initial");
    ok_near(number_at(initial, "accuracy"), 0.5, 1e-12, "prcot initial accuracy in JSON");
    const cJSON *correction = cJSON_GetObjectItemCaseSensitive(prcot, "error_correction");
    ok(number_at(correction, "count") == 2 && number_at(correction, "denominator") == 3,
       "prcot error-correction counts in JSON");
    ok_near(number_at(correction, "rate"), 2.0 / 3.0, 1e-12, "prcot error-correction rate");
    const cJSON *regression = cJSON_GetObjectItemCaseSensitive(prcot, "regression");
    ok(number_at(regression, "count") == 1 && number_at(regression, "denominator") == 3,
       "prcot regression counts in JSON");
    ok_near(number_at(regression, "rate"), 1.0 / 3.0, 1e-12, "prcot regression rate");

    const cJSON *cot = cJSON_GetArrayItem(methods, 1);
    ok(!cJSON_HasObjectItem(cot, "initial") && !cJSON_HasObjectItem(cot, "error_correction") &&
           !cJSON_HasObjectItem(cot, "regression"),
       "cot has no initial or transition fields");
    const cJSON *reflect = cJSON_GetArrayItem(methods, 2);
    correction = cJSON_GetObjectItemCaseSensitive(reflect, "error_correction");
    ok(number_at(correction, "denominator") == 0 && is_null_at(correction, "rate"),
       "zero-denominator rate is null in JSON");

    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(report, "ablation");
    ok(cJSON_GetArraySize(rows) == 2, "two ablation rows");
    ok_near(number_at(cJSON_GetArrayItem(rows, 0), "accuracy"), 0.5, 1e-12,
            "ablation accuracy 3/6");
    ok(is_null_at(cJSON_GetArrayItem(rows, 1), "accuracy"), "empty ablation accuracy is null");
    cJSON_Delete(report);
    eval_ablation_free(&ablation);

    report = eval_report_json(m, NULL);
    ok(report && !cJSON_HasObjectItem(report, "ablation"), "no ablation key without a table");
    cJSON_Delete(report);

    eval_metrics empty;
    eval_metrics_init(&empty);
    report = eval_report_json(&empty, NULL);
    ok(report && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(report, "methods")) == 0,
       "empty metrics give an empty method list");
    cJSON_Delete(report);
}

static char temp_dir[] = "/tmp/lrc-test-eval-XXXXXX";

static char *write_file(const char *name, const char *content) {
    size_t size = strlen(temp_dir) + strlen(name) + 2;
    char *path = malloc(size);
    snprintf(path, size, "%s/%s", temp_dir, name);
    FILE *f = fopen(path, "w");
    fputs(content, f);
    fclose(f);
    return path;
}

/* Read a bad file and check that the error names "path:line" and a phrase. */
static void expect_error(const char *name, const char *content, int line, const char *phrase) {
    char *path = write_file(name, content);
    eval_task_set set;
    lrc_error err = {{0}};
    int rc = eval_tasks_read(path, 0, &set, &err);
    char where[512];
    if (line > 0)
        snprintf(where, sizeof where, "%s:%d:", path, line);
    else
        snprintf(where, sizeof where, "%s:", path);
    ok(rc == -1 && set.count == 0 && set.tasks == NULL, "%s: rejected", name);
    ok(strstr(err.msg, where) != NULL, "%s: error names %s: %s", name, where, err.msg);
    ok(strstr(err.msg, phrase) != NULL, "%s: error says '%s'", name, phrase);
    ok(strchr(err.msg, '\n') == NULL, "%s: error is one line", name);
    unlink(path);
    free(path);
}

static void test_tasks(void) {
    if (!mkdtemp(temp_dir)) {
        ok(0, "temporary folder created");
        return;
    }
    char *path = write_file("good.jsonl",
                            "{\"question\": \"2+3?\", \"answer\": \"5\", \"family\": \"arith\"}\n"
                            "\n"
                            "{\"question\": \"Capital?\", \"answer\": \"Paris\", \"family\": "
                            "\"geo\", \"source\": \"x\"}\r\n"
                            "   \n"
                            "{\"question\": \"q3\", \"answer\": \"(B)\", \"family\": \"mc\"}");
    eval_task_set set;
    lrc_error err = {{0}};
    ok(eval_tasks_read(path, 0, &set, &err) == 0, "good file read: %s", err.msg);
    ok(set.count == 3, "three tasks, blank lines skipped");
    if (set.count == 3) {
        ok(strcmp(set.tasks[0].answer, "5") == 0 && strcmp(set.tasks[0].family, "arith") == 0,
           "first task fields");
        ok(strcmp(set.tasks[1].question, "Capital?") == 0 && set.tasks[1].line == 3,
           "second task on line 3");
        ok(strcmp(set.tasks[2].answer, "(B)") == 0 && set.tasks[2].line == 5,
           "last line without newline");
    }
    eval_tasks_free(&set);

    ok(eval_tasks_read(path, 2, &set, &err) == 0 && set.count == 2, "limit 2 keeps two tasks");
    eval_tasks_free(&set);
    unlink(path);
    free(path);

    /* A bad line after the limit is never read. */
    path = write_file("limit.jsonl",
                      "{\"question\": \"a\", \"answer\": \"1\", \"family\": \"f\"}\nnot json\n");
    ok(eval_tasks_read(path, 1, &set, &err) == 0 && set.count == 1,
       "limit stops before a bad line");
    eval_tasks_free(&set);
    unlink(path);
    free(path);

    const char *good_line = "{\"question\": \"a\", \"answer\": \"1\", \"family\": \"f\"}\n";
    char content[512];
    snprintf(content, sizeof content, "%s{\"question\": \"b\", \"answer\": \"2\"\n", good_line);
    expect_error("malformed.jsonl", content, 2, "malformed JSON");
    snprintf(content, sizeof content, "%s%s{\"question\": \"b\", \"family\": \"f\"}\n", good_line,
             good_line);
    expect_error("missing.jsonl", content, 3, "missing field \"answer\"");
    expect_error("number.jsonl", "{\"question\": \"b\", \"answer\": 2, \"family\": \"f\"}\n", 1,
                 "field \"answer\" is not a string");
    expect_error("null.jsonl", "{\"question\": null, \"answer\": \"2\", \"family\": \"f\"}\n", 1,
                 "field \"question\" is not a string");
    expect_error("array.jsonl", "[\"question\", \"answer\"]\n", 1, "expected a JSON object");
    expect_error("trailing.jsonl",
                 "{\"question\": \"b\", \"answer\": \"2\", \"family\": \"f\"} extra\n", 1,
                 "malformed JSON");
    expect_error("utf8.jsonl", "{\"question\": \"b\xff\", \"answer\": \"2\", \"family\": \"f\"}\n",
                 1, "not valid UTF-8");
    expect_error("empty.jsonl", "\n\n", 0, "no tasks");

    path = write_file("absent.jsonl", "");
    unlink(path);
    ok(eval_tasks_read(path, 0, &set, &err) == -1 && strstr(err.msg, path) &&
           strstr(err.msg, "cannot open"),
       "missing file named: %s", err.msg);
    free(path);
    rmdir(temp_dir);
}

int main(void) {
    eval_metrics m;
    eval_metrics_init(&m);
    lrc_error err = {{0}};
    int added = 0;
    for (size_t i = 0; i < sizeof script / sizeof *script; i++)
        added += eval_metrics_add(&m, script[i].family, script[i].method, script[i].initial,
                                  script[i].final, &err) == 0;
    ok(added == (int)(sizeof script / sizeof *script), "scripted records added");
    ok(eval_metrics_add(&m, "f", "prcot", 2, true, &err) == -1 && strstr(err.msg, "2"),
       "bad initial value rejected: %s", err.msg);
    ok(eval_metrics_add(&m, NULL, "prcot", R, true, &err) == -1, "missing family rejected");
    ok(m.count == sizeof script / sizeof *script, "rejected records are not stored");

    test_summaries(&m);
    test_report(&m);
    eval_metrics_free(&m);
    test_tasks();
    return done_testing();
}
