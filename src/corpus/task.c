/*
 * One task: dispatch to the family generator, then assemble the synthesis
 * (the generator's review line followed by the correct chain of thought) and
 * check the invariants every family must keep: the chain of thought ends in
 * the answer, and an attempt with a planted mistake does not.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "corpus/family.h"

const char *const corpus_names[] = {
    "Mia",  "Tom",  "Ana",   "Ben",   "Cara", "Dan",  "Eva",   "Finn", "Gina", "Hugo",
    "Ida",  "Jack", "Kira",  "Leo",   "Maya", "Nico", "Olga",  "Paul", "Rosa", "Sam",
    "Tina", "Umar", "Vera",  "Will",  "Yara", "Zoe",  "Omar",  "Lena", "Ravi", "Nora",
    "Ivan", "Lucy", "Marco", "Sofia", "Amir", "Hana", "Jonas", "Elif", "Kofi", "Priya",
};
const int corpus_n_names = (int)(sizeof corpus_names / sizeof corpus_names[0]);

const char *corpus_family_name(corpus_family f) {
    static const char *const names[] = {"arith", "commonsense", "ethics", "logic"};
    return f < CORPUS_N_FAMILIES ? names[f] : "unknown";
}

const char *corpus_perspective_template(corpus_perspective p) {
    static const char *const names[] = {
        "perspective-alternative-solutions", "perspective-biases-ethics",
        "perspective-information-completeness", "perspective-logical-consistency"};
    return p < CORPUS_N_PERSPECTIVES ? names[p] : "unknown";
}

const char *corpus_mistake_name(corpus_mistake m) {
    static const char *const names[] = {"none", "calc", "drop", "reversed", "fact", "unethical"};
    return m < CORPUS_N_MISTAKES ? names[m] : "unknown";
}

const char *corpus_stage_name(corpus_stage s) {
    static const char *const names[] = {"cot", "perspective", "reflect", "synthesize"};
    return s < CORPUS_N_STAGES ? names[s] : "unknown";
}

void rng_distinct(uint64_t *rng, int n, int k, int *out) {
    for (int i = 0; i < k; i++) {
        int v;
        bool again;
        do {
            v = (int)rng_below(rng, (uint32_t)n);
            again = false;
            for (int j = 0; j < i; j++)
                again = again || out[j] == v;
        } while (again);
        out[i] = v;
    }
}

int take_text(text_buf *b, char **dst) {
    *dst = text_buf_take(b);
    return *dst ? 0 : -1;
}

int take_alternative(text_buf *b, bool mistake, const char *bad, const char *good, char **dst) {
    if (mistake)
        text_buf_printf(b, "The attempt says %s, which does not fit. The answer is %s.", bad, good);
    else
        text_buf_puts(b, "This agrees with the attempt. " NO_PROBLEM);
    return take_text(b, dst);
}

int dup_text(const char *s, char **dst) {
    *dst = strdup(s);
    return *dst ? 0 : -1;
}

void corpus_task_free(corpus_task *t) {
    if (!t)
        return;
    free(t->question);
    free(t->answer);
    free(t->cot);
    free(t->attempt);
    for (int p = 0; p < CORPUS_N_PERSPECTIVES; p++)
        free(t->reflection[p]);
    free(t->reflect);
    free(t->synthesis);
    memset(t, 0, sizeof *t);
}

/* The text after the last "Final answer: " line, or NULL. */
static const char *final_answer_of(const char *text) {
    const char *last = NULL;
    for (const char *p = strstr(text, "Final answer: "); p; p = strstr(p + 1, "Final answer: "))
        if (p == text || p[-1] == '\n')
            last = p + strlen("Final answer: ");
    return last;
}

/* Append " The attempt's answer is ANSWER." to *review when it ends with
 * ending (ANSWER up to its line end). Returns -1 when out of memory. */
static int repeat_answer(char **review, const char *ending, const char *answer) {
    size_t review_len = *review ? strlen(*review) : 0, ending_len = strlen(ending);
    if (review_len < ending_len || strcmp(*review + review_len - ending_len, ending) != 0)
        return 0;
    text_buf text;
    text_buf_init(&text);
    text_buf_printf(&text, "%s The attempt's answer is %.*s.", *review, (int)strcspn(answer, "\n"),
                    answer);
    free(*review);
    return take_text(&text, review);
}

int corpus_task_make(corpus_family f, uint64_t *rng, bool mistake, corpus_task *t, lrc_error *err) {
    memset(t, 0, sizeof *t);
    t->family = f;
    family_out out = {.task = t, .review = NULL};
    int rc;
    switch (f) {
    case CORPUS_ARITH:
        rc = arith_make(rng, mistake, &out);
        break;
    case CORPUS_COMMONSENSE:
        rc = commonsense_make(rng, mistake, &out);
        break;
    case CORPUS_ETHICS:
        rc = ethics_make(rng, mistake, &out);
        break;
    case CORPUS_LOGIC:
        rc = logic_make(rng, mistake, &out);
        break;
    default:
        return lrc_errorf(err, "corpus: unknown task family %d", (int)f);
    }

    /* A consistency review that passes the attempt, and a generic reflection
     * that finds it correct, end by repeating its answer. So that answer is
     * the last one written before the synthesis (the reviews are joined in
     * title order, consistency last). */
    const char *attempt_answer = t->attempt ? final_answer_of(t->attempt) : NULL;
    if (rc == 0 && attempt_answer)
        rc = repeat_answer(&t->reflection[CORPUS_CONSISTENCY], NO_PROBLEM, attempt_answer);
    if (rc == 0 && attempt_answer)
        rc = repeat_answer(&t->reflect, ATTEMPT_CORRECT, attempt_answer);

    text_buf syn;
    text_buf_init(&syn);
    if (rc == 0 && out.review && t->cot) {
        /* Without a mistake the synthesis repeats only the answer, because a
         * small model often slips when it copies a long chain of thought. */
        if (mistake)
            text_buf_printf(&syn, "%s\n%s", out.review, t->cot);
        else
            text_buf_printf(&syn, "%s\nFinal answer: %s", out.review, t->answer);
        rc = take_text(&syn, &t->synthesis);
    } else {
        rc = -1;
    }
    free(out.review);
    if (rc) {
        corpus_task_free(t);
        return lrc_errorf(err, "corpus: out of memory while writing a %s task",
                          corpus_family_name(f));
    }

    /* Invariants of every generator; a failure here is a bug in this module. */
    const char *fa = final_answer_of(t->cot);
    const char *fb = final_answer_of(t->attempt);
    bool ok = fa && strcmp(fa, t->answer) == 0 && fb;
    if (ok && mistake)
        ok = t->mistake != CORPUS_MISTAKE_NONE && strcmp(fb, t->answer) != 0;
    if (ok && !mistake)
        ok = t->mistake == CORPUS_MISTAKE_NONE && strcmp(t->attempt, t->cot) == 0;
    if (!ok) {
        lrc_errorf(err, "corpus: internal error: %s task \"%.80s\" has an inconsistent answer",
                   corpus_family_name(f), t->question ? t->question : "");
        corpus_task_free(t);
        return -1;
    }
    return 0;
}
