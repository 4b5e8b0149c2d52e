/*
 * Task files for evaluation: JSON Lines, one object per line with the string
 * fields "question", "answer" and "family", for example
 *   {"question": "What is 2+3?", "answer": "5", "family": "arith"}
 * Other fields are ignored and blank lines are skipped. A bad line stops the
 * read with a one-line error naming the file and line: malformed JSON, a
 * line that is not an object, a missing, repeated, empty (or only white
 * space) or non-string field, or text that is not valid UTF-8. The path
 * "-" reads standard input.
 */
#ifndef LRC_REASON_TASKS_H
#define LRC_REASON_TASKS_H

#include "core/error.h"

#include <stddef.h>

typedef struct eval_task {
    char *question, *answer, *family; /* owned copies */
    size_t line;                      /* 1-based line in the file */
} eval_task;

typedef struct eval_task_set {
    eval_task *tasks;
    size_t count;
} eval_task_set;

/* Read the tasks of path into out, stopping after limit tasks unless limit
 * is 0; lines after the limit are not read. A file without tasks is an
 * error. Returns 0, or -1 with err set and out empty. */
int eval_tasks_read(const char *path, size_t limit, eval_task_set *out, lrc_error *err);

void eval_tasks_free(eval_task_set *set);

#endif
