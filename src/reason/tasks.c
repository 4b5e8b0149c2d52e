/*
 * Task file reader: getline over the file, one cJSON parse per non-blank
 * line, and an array of owned task strings that doubles as it grows. Any
 * failure frees what was read so far, so the caller never sees a partial set.
 */
#define _POSIX_C_SOURCE 200809L
#include "reason/tasks.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

void eval_tasks_free(eval_task_set *set) {
    for (size_t i = 0; i < set->count; i++) {
        free(set->tasks[i].question);
        free(set->tasks[i].answer);
        free(set->tasks[i].family);
    }
    free(set->tasks);
    set->tasks = NULL;
    set->count = 0;
}

static int is_blank(const char *s) {
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return 0;
    return 1;
}

/* Copy the string field key of object into *value. */
static int read_field(const cJSON *object, const char *key, char **value, const char *path,
                      size_t line, lrc_error *err) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    int copies = 0;
    for (const cJSON *c = object->child; c; c = c->next)
        copies += c->string && strcmp(c->string, key) == 0;
    if (copies > 1)
        return lrc_errorf(err, "%s:%zu: field \"%s\" appears %d times; give it once", path, line,
                          key, copies);
    if (!item)
        return lrc_errorf(err,
                          "%s:%zu: missing field \"%s\"; each line needs \"question\", "
                          "\"answer\" and \"family\" strings",
                          path, line, key);
    if (!cJSON_IsString(item) || !item->valuestring)
        return lrc_errorf(err, "%s:%zu: field \"%s\" is not a string; write it in quotes", path,
                          line, key);
    const char *text = item->valuestring;
    if (u8_check((const uint8_t *)text, strlen(text)) != NULL)
        return lrc_errorf(err, "%s:%zu: field \"%s\" is not valid UTF-8; re-encode the file", path,
                          line, key);
    if (is_blank(text))
        return lrc_errorf(err, "%s:%zu: field \"%s\" is empty; give a non-empty string", path, line,
                          key);
    *value = strdup(text);
    if (!*value)
        return lrc_errorf(err, "%s:%zu: out of memory", path, line);
    return 0;
}

/* Parse one line into task. Returns 0 or -1 with err set. */
static int parse_task(const char *text, const char *path, size_t line, eval_task *task,
                      lrc_error *err) {
    memset(task, 0, sizeof *task);
    task->line = line;
    cJSON *object = cJSON_ParseWithOpts(text, NULL, 1); /* no trailing text */
    if (!object)
        return lrc_errorf(err, "%s:%zu: malformed JSON; expected one object per line", path, line);
    int rc = 0;
    if (!cJSON_IsObject(object))
        rc = lrc_errorf(err,
                        "%s:%zu: expected a JSON object with \"question\", \"answer\" and "
                        "\"family\"",
                        path, line);
    else if (read_field(object, "question", &task->question, path, line, err) ||
             read_field(object, "answer", &task->answer, path, line, err) ||
             read_field(object, "family", &task->family, path, line, err))
        rc = -1;
    cJSON_Delete(object);
    if (rc) {
        free(task->question);
        free(task->answer);
        free(task->family);
        memset(task, 0, sizeof *task);
    }
    return rc;
}

int eval_tasks_read(const char *path, size_t limit, eval_task_set *out, lrc_error *err) {
    out->tasks = NULL;
    out->count = 0;
    int from_stdin = strcmp(path, "-") == 0;
    FILE *f = from_stdin ? stdin : fopen(path, "r");
    if (from_stdin)
        path = "(standard input)";
    if (!f)
        return lrc_errorf(err, "%s: cannot open task file: %s", path, strerror(errno));

    char *text = NULL;
    size_t text_size = 0, capacity = 0, line = 0;
    int rc = 0;
    while (limit == 0 || out->count < limit) {
        errno = 0;
        if (getline(&text, &text_size, f) < 0) {
            if (ferror(f))
                rc = lrc_errorf(err, "%s:%zu: read failed: %s", path, line + 1, strerror(errno));
            break;
        }
        line++;
        if (is_blank(text))
            continue;
        if (out->count == capacity) {
            capacity = capacity ? 2 * capacity : 64;
            eval_task *grown = realloc(out->tasks, capacity * sizeof *grown);
            if (!grown) {
                rc = lrc_errorf(err, "%s:%zu: out of memory", path, line);
                break;
            }
            out->tasks = grown;
        }
        if (parse_task(text, path, line, &out->tasks[out->count], err)) {
            rc = -1;
            break;
        }
        out->count++;
    }
    free(text);
    if (!from_stdin)
        fclose(f);
    if (rc == 0 && out->count == 0)
        rc = lrc_errorf(err,
                        "%s: no tasks; expected JSON Lines with \"question\", \"answer\" "
                        "and \"family\"",
                        path);
    if (rc)
        eval_tasks_free(out);
    return rc;
}
