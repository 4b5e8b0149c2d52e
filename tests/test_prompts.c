/*
 * PR-CoT templates. The shipped files render with every placeholder filled,
 * and $XDG_CONFIG_HOME overrides the source tree. Broken templates give
 * errors naming the file and line, and a missing one names the folders
 * searched. Perspectives come in file-name order with their titles. The
 * final-answer line is parsed. Expected strings are written by hand.
 */
#define _POSIX_C_SOURCE 200809L
#include "reason/prompts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"

static char tmp[256], cfgdir[512];

static void write_file(const char *name, const char *text) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", cfgdir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        printf("Bail out! cannot write %s\n", path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

static void remove_file(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", cfgdir, name);
    remove(path);
}

static int contains(const char *hay, const char *needle) {
    return hay && strstr(hay, needle) != NULL;
}

static void check_real_templates(void) {
    prompt_set set;
    lrc_error err = {""};
    if (!ok(prompts_load(&set, &err) == 0, "load the shipped template set")) {
        diag("%s", err.msg);
        return;
    }
    const prompt_var vars[] = {
        {"question", "QUESTION-TEXT"},       {"cot", "COT-TEXT"},
        {"reflection", "ONE-REFLECTION"},    {"reflections", "ALL-REFLECTIONS"},
        {"perspective", "PERSPECTIVE-NAME"},
    };
    const prompt_template *all[16];
    size_t n = 0;
    all[n++] = &set.cot;
    all[n++] = &set.reflect;
    all[n++] = &set.synthesize;
    for (size_t i = 0; i < set.n_perspectives && n < 16; i++)
        all[n++] = &set.perspectives[i];
    for (size_t i = 0; i < n; i++) {
        char *out = NULL;
        int rc = prompts_render(all[i], vars, 5, &out, &err);
        ok(rc == 0 && out && !strstr(out, "{{") && !strstr(out, "}}"),
           "%s renders with no leftover braces", all[i]->name);
        ok(contains(out, "QUESTION-TEXT"), "%s includes the question", all[i]->name);
        if (all[i] != &set.cot)
            ok(contains(out, "COT-TEXT"), "%s includes the chain of thought", all[i]->name);
        ok(all[i]->body_line == 3 && !contains(out, "title:"),
           "%s: title line and blank line are not part of the body", all[i]->name);
        free(out);
    }
    char *out = NULL;
    prompts_render(&set.synthesize, vars, 5, &out, &err);
    ok(contains(out, "ALL-REFLECTIONS") && contains(out, "Final answer:"),
       "synthesize includes the reflections and asks for the final-answer line");
    free(out);
    ok(strcmp(set.cot.title, "Chain of thought") == 0 &&
           strcmp(set.synthesize.title, "Synthesis") == 0,
       "stage titles read from the title line");

    static const char *const want_names[] = {
        "perspective-alternative-solutions", "perspective-biases-ethics",
        "perspective-information-completeness", "perspective-logical-consistency"};
    static const char *const want_titles[] = {"Alternative solutions", "Biases and ethics",
                                              "Information completeness", "Logical consistency"};
    int order = set.n_perspectives == 4;
    for (size_t i = 0; order && i < 4; i++)
        order = strcmp(set.perspectives[i].name, want_names[i]) == 0 &&
                strcmp(set.perspectives[i].title, want_titles[i]) == 0;
    ok(order, "four perspectives in file-name order with their titles (got %zu)",
       set.n_perspectives);
    out = NULL;
    const prompt_var pv[] = {
        {"question", "Q"}, {"cot", "C"}, {"perspective", "Logical consistency"}};
    ok(set.n_perspectives == 4 && prompts_render(&set.perspectives[3], pv, 3, &out, &err) == 0 &&
           contains(out, "point of view only: Logical consistency."),
       "{{perspective}} takes the perspective title");
    free(out);
    prompts_free(&set);
}

static void check_override_and_errors(const char *srcdir) {
    lrc_error err = {""};
    prompt_template t;

    /* The XDG folder wins over the source tree. */
    write_file("cot.txt", "title: Custom\n\nMine: {{ question }}\n");
    int rc = prompts_load_template("cot", &t, &err);
    char *out = NULL;
    const prompt_var q = {"question", "why?"};
    ok(rc == 0 && strcmp(t.title, "Custom") == 0 && strncmp(t.path, cfgdir, strlen(cfgdir)) == 0,
       "cot.txt in $XDG_CONFIG_HOME/lrc/prompts/prcot wins over the source tree");
    ok(rc == 0 && prompts_render(&t, &q, 1, &out, &err) == 0 && strcmp(out, "Mine: why?\n") == 0,
       "override renders (spaces inside braces allowed)");
    free(out);
    prompts_template_free(&t);

    /* A new perspective file adds a perspective, in file-name order. */
    write_file("perspective-aaa-units.txt", "title: Units\n\nCheck units in {{cot}}.\n");
    prompt_set set;
    rc = prompts_load(&set, &err);
    ok(rc == 0 && set.n_perspectives == 5 &&
           strcmp(set.perspectives[0].name, "perspective-aaa-units") == 0 &&
           strcmp(set.perspectives[0].title, "Units") == 0 &&
           strcmp(set.perspectives[1].name, "perspective-alternative-solutions") == 0,
       "an added perspective-*.txt joins the list, sorted by file name");
    if (rc == 0)
        prompts_free(&set);
    remove_file("perspective-aaa-units.txt");
    remove_file("cot.txt");

    char where[1024];
    write_file("broken-unknown.txt", "title: Broken\n\nline three\nline four {{foo}} here\n");
    rc = prompts_load_template("broken-unknown", &t, &err);
    snprintf(where, sizeof where, "%s/broken-unknown.txt:4:", cfgdir);
    ok(rc == -1 && contains(err.msg, where) && contains(err.msg, "{{foo}}"),
       "unknown placeholder names the file and line");
    diag("%s", err.msg);

    write_file("broken-open.txt", "title: Broken\n\nfine\n\nhere {{question\nmore }}\n");
    rc = prompts_load_template("broken-open", &t, &err);
    snprintf(where, sizeof where, "%s/broken-open.txt:5:", cfgdir);
    ok(rc == -1 && contains(err.msg, where) && contains(err.msg, "unterminated"),
       "unterminated {{ names the file and line");
    diag("%s", err.msg);

    write_file("broken-title.txt", "Solve {{question}}\n");
    rc = prompts_load_template("broken-title", &t, &err);
    snprintf(where, sizeof where, "%s/broken-title.txt:1:", cfgdir);
    ok(rc == -1 && contains(err.msg, where) && contains(err.msg, "title"),
       "a missing title line names the file and line 1");

    write_file("needs-cot.txt", "title: Needs cot\n\n{{question}}\n{{cot}}\n");
    rc = prompts_load_template("needs-cot", &t, &err);
    out = NULL;
    snprintf(where, sizeof where, "%s/needs-cot.txt:4:", cfgdir);
    ok(rc == 0 && prompts_render(&t, &q, 1, &out, &err) == -1 && out == NULL &&
           contains(err.msg, where) && contains(err.msg, "{{cot}}"),
       "a placeholder with no value at render time names the file and line");
    ok(rc == 0 && prompts_uses(&t, "cot") == 1 && prompts_uses(&t, "reflection") == 0,
       "prompts_uses finds {{cot}} and not {{reflection}}");
    if (rc == 0)
        prompts_template_free(&t);

    /* A stage template using a placeholder its stage has no value for fails
     * at load time, naming the file and line. */
    write_file("cot.txt", "title: Custom\n\nline\n{{question}} {{cot}}\n");
    rc = prompts_load_template("cot", &t, &err);
    snprintf(where, sizeof where, "%s/cot.txt:4:", cfgdir);
    ok(rc == -1 && contains(err.msg, where) && contains(err.msg, "{{cot}} has no value in the cot"),
       "{{cot}} in cot.txt is a load error naming the file and line");
    diag("%s", err.msg);
    write_file("perspective-zz.txt", "title: Z\n\n{{question}}\n{{reflection}}\n");
    rc = prompts_load_template("perspective-zz", &t, &err);
    snprintf(where, sizeof where, "%s/perspective-zz.txt:4:", cfgdir);
    ok(rc == -1 && contains(err.msg, where) && contains(err.msg, "{{reflection}}"),
       "{{reflection}} in a perspective file is a load error naming the file and line");
    write_file("synthesize.txt", "title: S\n\n{{reflection}} {{reflections}} {{cot}}\n");
    rc = prompts_load_template("synthesize", &t, &err);
    ok(rc == 0, "synthesize.txt may use {{reflection}}, {{reflections}} and {{cot}}");
    if (rc == 0)
        prompts_template_free(&t);
    remove_file("synthesize.txt");
    remove_file("perspective-zz.txt");

    /* A title with no body, and a folder in place of a file. */
    write_file("cot.txt", "title: Only a title\n\n  \n");
    rc = prompts_load_template("cot", &t, &err);
    ok(rc == -1 && contains(err.msg, "cot.txt: the template has a title but no body"),
       "a title without a body is an error naming the file");
    remove_file("cot.txt");
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/cot.txt", cfgdir);
    mkdir(dir, 0700);
    rc = prompts_load_template("cot", &t, &err);
    ok(rc == -1 && contains(err.msg, dir) && contains(err.msg, "is a folder"),
       "a folder named cot.txt is reported as a folder");
    diag("%s", err.msg);
    rmdir(dir);

    remove_file("broken-unknown.txt");
    remove_file("broken-open.txt");
    remove_file("broken-title.txt");
    remove_file("needs-cot.txt");

    rc = prompts_load_template("no-such-stage", &t, &err);
    char src_prompts[1100];
    snprintf(src_prompts, sizeof src_prompts, "%s/prompts/prcot", srcdir);
    ok(rc == -1 && contains(err.msg, "no-such-stage.txt") && contains(err.msg, cfgdir) &&
           contains(err.msg, src_prompts) && contains(err.msg, "/prompts/prcot,"),
       "a missing template names the file and every folder searched");
    diag("%s", err.msg);
}

static void check_final_answer(void) {
    lrc_error err = {""};
    char *a = NULL;
    ok(prompts_parse_final_answer("Step 1: 6*7.\nFinal answer: 42\n", &a, &err) == 0 && a &&
           strcmp(a, "42") == 0,
       "final answer parsed");
    free(a);
    a = NULL;
    ok(prompts_parse_final_answer(
           "Final answer: 41\nchecking again\nfinal ANSWER:   (B) 42  \r\nok", &a, &err) == 0 &&
           a && strcmp(a, "(B) 42") == 0,
       "the last final-answer line wins, any case, trimmed");
    free(a);
    a = NULL;
    ok(prompts_parse_final_answer("so:\n  **Final answer:** Paris", &a, &err) == 0 && a &&
           strcmp(a, "Paris") == 0,
       "markdown bold around the label is ignored");
    free(a);
    a = NULL;
    ok(prompts_parse_final_answer("The answer is 42.\nMy final answer: 42", &a, &err) == -1 &&
           a == NULL && contains(err.msg, "synthesize"),
       "no final-answer line is an error naming the stage synthesize");
    ok(prompts_parse_final_answer("Final answer:   \n", &a, &err) == -1 &&
           contains(err.msg, "synthesize"),
       "an empty final answer is an error naming synthesize");
    ok(prompts_parse_final_answer("", &a, &err) == -1, "empty output is an error");
}

static void check_join(void) {
    const char *titles[] = {"Logical consistency", "Alternative solutions"};
    const char *texts[] = {"Step 2 is wrong.\n", "Same result."};
    char *s = prompts_join_reflections(titles, texts, 2);
    ok(s && strcmp(s, "## Logical consistency\nStep 2 is wrong.\n\n## Alternative solutions\n"
                      "Same result.\n") == 0,
       "reflections joined under their titles, each ending in a newline");
    free(s);
}

int main(void) {
    const char *testdata = getenv("LRC_TESTDATA");
    if (!testdata)
        skip_all("LRC_TESTDATA is not set (run through make check)");
    char srcdir[1024];
    snprintf(srcdir, sizeof srcdir, "%s", testdata);
    char *slash = strrchr(srcdir, '/');
    if (slash)
        *slash = '\0';

    snprintf(tmp, sizeof tmp, "/tmp/lrc-prompts-XXXXXX");
    if (!mkdtemp(tmp)) {
        printf("Bail out! mkdtemp failed\n");
        return 1;
    }
    char d[512];
    snprintf(d, sizeof d, "%s/lrc", tmp);
    mkdir(d, 0700);
    snprintf(d, sizeof d, "%s/lrc/prompts", tmp);
    mkdir(d, 0700);
    snprintf(cfgdir, sizeof cfgdir, "%s/lrc/prompts/prcot", tmp);
    mkdir(cfgdir, 0700);
    setenv("XDG_CONFIG_HOME", tmp, 1);

    check_real_templates();
    check_override_and_errors(srcdir);
    check_final_answer();
    check_join();

    rmdir(cfgdir);
    snprintf(d, sizeof d, "%s/lrc/prompts", tmp);
    rmdir(d);
    snprintf(d, sizeof d, "%s/lrc", tmp);
    rmdir(d);
    rmdir(tmp);
    return done_testing();
}
