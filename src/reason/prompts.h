/*
 * PR-CoT prompt templates. A template set is a folder of text files: one per
 * stage (cot.txt, reflect.txt, synthesize.txt) and one per reflection
 * perspective (perspective-*.txt). Each file opens with a "title: ..." line
 * and a blank line; the rest is the body, with {{name}} placeholders.
 *
 * Lookup, first match per file: $XDG_CONFIG_HOME/lrc/prompts/prcot (default
 * ~/.config/lrc/prompts/prcot), then LRC_DATADIR/prompts/prcot, then
 * LRC_SRCDIR/prompts/prcot. Perspectives are the union of perspective-*.txt
 * files over those folders, sorted by file name. man/lrc-prompts.5 is the
 * user-facing description; keep the two in step.
 */
#ifndef LRC_REASON_PROMPTS_H
#define LRC_REASON_PROMPTS_H

#include <stddef.h>

#include "core/error.h"

#define PROMPTS_MAX_DIRS 3

typedef struct prompt_template {
    char *name;    /* file name without ".txt", e.g. "perspective-biases-ethics" */
    char *path;    /* the file that was read */
    char *title;   /* text after "title:", trimmed */
    char *body;    /* everything after the title line and its blank line */
    int body_line; /* line number in the file where body starts (1-based) */
} prompt_template;

typedef struct prompt_set {
    prompt_template cot, reflect, synthesize;
    prompt_template *perspectives; /* sorted by file name */
    size_t n_perspectives;
} prompt_set;

/* A placeholder value for prompts_render: {{name}} becomes value. */
typedef struct prompt_var {
    const char *name;
    const char *value;
} prompt_var;

/* The folders searched, in order; returns how many were written (at most
 * PROMPTS_MAX_DIRS). Each dirs[i] is malloc'd; free with free(). */
size_t prompts_search_dirs(char *dirs[PROMPTS_MAX_DIRS]);

/* Load one template by name ("cot", "perspective-biases-ethics", ...). The
 * placeholders are checked: an unknown name, an unterminated "{{" or, for
 * the stage templates, a name without a value in that stage (cot:
 * question; reflect: question, cot; perspective-*: question, cot,
 * perspective; synthesize: question, cot, reflections, reflection) is an
 * error naming the file and line. A folder in place of the file is an
 * error saying so. */
int prompts_load_template(const char *name, prompt_template *t, lrc_error *err);
void prompts_template_free(prompt_template *t);

/* 1 when t's body holds the placeholder {{name}}, else 0. */
int prompts_uses(const prompt_template *t, const char *name);

/* Load the stage templates and every perspective. */
int prompts_load(prompt_set *set, lrc_error *err);
void prompts_free(prompt_set *set);

/* Render t with the given values into a malloc'd string (*out). A known
 * placeholder without a value is an error naming the file and line. */
int prompts_render(const prompt_template *t, const prompt_var *vars, size_t n_vars, char **out,
                   lrc_error *err);

/* Join reflections for {{reflections}}: each as "## title\n" + text without
 * trailing white space + "\n", with a blank line between them. Returns a
 * malloc'd string or NULL when out of memory. */
char *prompts_join_reflections(const char *const *titles, const char *const *texts, size_t n);

/* Find the last line of a synthesis output that starts with "Final answer:"
 * (any case; leading spaces, '*' and '#' ignored) and store the trimmed rest
 * in *answer (malloc'd). None, or an empty answer, is an error naming the
 * stage "synthesize". */
int prompts_parse_final_answer(const char *text, char **answer, lrc_error *err);

#endif
