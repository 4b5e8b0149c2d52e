/*
 * Corpus tasks, checked against solvers written here from the question text
 * alone: arithmetic word problems are re-solved sentence by sentence and
 * every step's column work (each digit, carry and borrow, and the restated
 * result) is checked from its meaning, in chains of thought, attempts and
 * the reviews that work the steps again; orderings are solved from their
 * facts; syllogism answers follow from their form; commonsense comparisons
 * pick the larger or smaller stated figure. For every family the chain of
 * thought and the synthesis end in a final answer that answer_match accepts,
 * a planted mistake gives a first attempt that it rejects, and the reviews
 * flag exactly the perspectives they should.
 */
#define _POSIX_C_SOURCE 200809L
#include "corpus/corpus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "reason/answer.h"
#include "reason/prompts.h"
#include "tap.h"

#define TASKS_PER_FAMILY 400

/* The final answer of text, or NULL (the caller frees). */
static char *final_answer(const char *text) {
    char *ans = NULL;
    lrc_error err;
    if (prompts_parse_final_answer(text, &ans, &err))
        return NULL;
    return ans;
}

static bool matches(const char *text, const char *expected) {
    char *ans = final_answer(text);
    bool m = ans && answer_match(ans, expected);
    free(ans);
    return m;
}

static bool final_answer_of_ok(const char *text) {
    char *ans = final_answer(text);
    free(ans);
    return ans != NULL;
}

static int count_lines(const char *s) {
    int n = 1;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* ------------------------------------------------------------------------ */
/* Independent solvers                                                      */
/* ------------------------------------------------------------------------ */

/* The first and second integers in s (0 when missing). */
static void two_ints(const char *s, int *a, int *b) {
    int got = 0;
    *a = *b = 0;
    for (const char *p = s; *p && got < 2; p++)
        if (*p >= '0' && *p <= '9' && (p == s || p[-1] < '0' || p[-1] > '9')) {
            int v = atoi(p);
            if (got++ == 0)
                *a = v;
            else
                *b = v;
        }
}

/* Solve an arithmetic word problem from its sentences; -1 when a sentence
 * is not understood. */
static int solve_arith(const char *question) {
    char *q = strdup(question);
    int v = 0;
    bool understood = true;
    char *save = NULL;
    for (char *s = strtok_r(q, ".?", &save); s; s = strtok_r(NULL, ".?", &save)) {
        while (*s == ' ')
            s++;
        if (!*s || strncmp(s, "How many", 8) == 0)
            continue;
        int a, b;
        two_ints(s, &a, &b);
        if (strstr(s, " in each ")) {
            if (strstr(s, " has "))
                v = a * b;
            else
                v += a * b;
        } else if (strstr(s, "doubles")) {
            v *= 2;
        } else if (strstr(s, "triples")) {
            v *= 3;
        } else if (strstr(s, " more ")) {
            v += a;
        } else if (strstr(s, " gives ") || strstr(s, " loses ") || strstr(s, " sells ")) {
            v -= a;
        } else if (strstr(s, " has ")) {
            v = a;
        } else {
            understood = false;
        }
        if (v < 0 || v > 999)
            understood = false;
    }
    free(q);
    return understood ? v : -1;
}

/* Column work, checked from the meaning of each line: a step "Step i:
 * ...: A op B." is followed by one line per column from the ones ("ones:
 * 7+8=15, write 5 carry 1.") and "So A op B = C". Each column line must use
 * the digits of A and B at its place (0 where a number has none, the top
 * digit plus 10 when a subtraction borrows, the whole single digit B for a
 * multiplication), add or take the carry or borrow from the column before
 * (and only when there is one), compute its value, write its last digit and
 * pass the rest on; the top column writes its whole value. Two single-digit
 * operands have no column lines. The written digits, read as a number, must
 * be C, and C must be A op B. */

static const char *const places[] = {"ones", "tens", "hundreds", "thousands"};

static int digit_at(int v, int i) {
    while (i-- > 0)
        v /= 10;
    return v % 10;
}

static int n_digits(int v) {
    int n = 1;
    for (; v >= 10; v /= 10)
        n++;
    return n;
}

/* Copy the line at *p into line (without the newline) and advance *p. */
static bool next_line(const char **p, char *line, size_t cap) {
    if (!*p || !**p)
        return false;
    const char *eol = strchr(*p, '\n');
    size_t len = eol ? (size_t)(eol - *p) : strlen(*p);
    if (len >= cap)
        return false;
    memcpy(line, *p, len);
    line[len] = '\0';
    *p = eol ? eol + 1 : *p + len;
    return true;
}

/* The operator at s ("+", "-" or the multiplication sign), its length in
 * *len; 0 when none. */
static char op_at(const char *s, size_t *len) {
    if (strncmp(s, "\xc3\x97", 2) == 0) {
        *len = 2;
        return 'x';
    }
    *len = 1;
    return *s == '+' || *s == '-' ? *s : 0;
}

/* Parse "A op B" at s into a, op, b; returns the text after B or NULL. */
static const char *parse_calc(const char *s, int *a, char *op, int *b) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end != ' ')
        return NULL;
    size_t len;
    *op = op_at(end + 1, &len);
    if (!*op || end[1 + len] != ' ')
        return NULL;
    const char *q = end + 2 + len;
    char *end2;
    long w = strtol(q, &end2, 10);
    if (end2 == q)
        return NULL;
    *a = (int)v;
    *b = (int)w;
    return end2;
}

/* A non-negative integer at *s; advances *s. -1 when there is none. */
static int read_int(const char **s) {
    if (**s < '0' || **s > '9')
        return -1;
    int v = 0;
    for (; **s >= '0' && **s <= '9'; (*s)++)
        v = v * 10 + (**s - '0');
    return v;
}

/* One column line "<place>: XopY[opK]=T, write W[ carry C| borrow 1]."
 * checked against column i of a op b with carry_in; the top column (top)
 * writes its whole value and passes nothing on. Sets *carry_out and
 * *written. */
static bool check_column(const char *line, int i, bool top, int a, char op, int b, int carry_in,
                         int *carry_out, int *written) {
    size_t pl = strlen(places[i]), len;
    if (strncmp(line, places[i], pl) != 0 || strncmp(line + pl, ": ", 2) != 0)
        return false;
    const char *r = line + pl + 2;
    int x = read_int(&r);
    char o = op_at(r, &len);
    if (x < 0 || o != op)
        return false;
    r += len;
    int y = read_int(&r), k = 0;
    if (y < 0)
        return false;
    if (*r == '+' || *r == '-') {
        if (*r != (op == '-' ? '-' : '+'))
            return false;
        r++;
        k = read_int(&r);
        if (k <= 0)
            return false;
    }
    int t, w, c = 0, n = -1;
    char word[8];
    if (sscanf(r, "=%d, write %d %7[a-z] %d.%n", &t, &w, word, &c, &n) == 4 && n >= 0 &&
        r[n] == '\0') {
        if (c <= 0 || strcmp(word, op == '-' ? "borrow" : "carry") != 0)
            return false;
    } else {
        n = -1;
        c = 0;
        if (sscanf(r, "=%d, write %d.%n", &t, &w, &n) != 2 || n < 0 || r[n] != '\0')
            return false;
    }
    if (k != carry_in || y != (op == 'x' ? b : digit_at(b, i)))
        return false;
    int da = digit_at(a, i);
    if (op == '-') {
        bool borrow = da - y - k < 0;
        if (x != (borrow ? da + 10 : da) || t != x - y - k || w != t || c != (borrow ? 1 : 0))
            return false;
    } else {
        int want = op == '+' ? x + y + k : x * y + k;
        if (x != da || t != want)
            return false;
        if (top ? w != t || c != 0 : w != t % 10 || c != t / 10)
            return false;
    }
    *carry_out = c;
    *written = w;
    return true;
}

/* Check the step opened by step_line (its calculation after the last ": ")
 * and its column lines at *p; on success *result is C. The "So" line may go
 * on after C (", not D. Wrong..." or ". Correct."). */
static bool check_step(const char *step_line, const char **p, int *result) {
    const char *calc = NULL;
    for (const char *c = step_line; (c = strstr(c, ": ")) != NULL; c++)
        calc = c + 2;
    int a, b;
    char op;
    const char *r = calc ? parse_calc(calc, &a, &op, &b) : NULL;
    if (!r || strcmp(r, ".") != 0 || (op == 'x' && (b < 2 || b > 9)))
        return false;
    int right = op == '+' ? a + b : op == '-' ? a - b : a * b;
    if (right < 0 || right > 999)
        return false;
    char line[512];
    int value = 0, place = 1, carry = 0, cols = 0;
    if (a >= 10 || b >= 10) {
        cols = n_digits(a);
        if (op == '+' && n_digits(b) > cols)
            cols = n_digits(b);
    }
    for (int i = 0; i < cols; i++) {
        int w;
        if (!next_line(p, line, sizeof line) ||
            !check_column(line, i, i == cols - 1, a, op, b, carry, &carry, &w))
            return false;
        value += w * place;
        place *= 10;
    }
    if (carry)
        return false; /* a borrow out of the top column */
    if (cols == 0)
        value = right;
    int sa, sb, c;
    char sop;
    if (!next_line(p, line, sizeof line) || strncmp(line, "So ", 3) != 0)
        return false;
    r = parse_calc(line + 3, &sa, &sop, &sb);
    if (!r || sscanf(r, " = %d", &c) != 1 || sa != a || sb != b || sop != op)
        return false;
    *result = c;
    return c == value && c == right;
}

/* Check every step of a chain of thought (or a review that recomputes):
 * returns the number of steps, or -(i) when step i fails. *last gets the
 * last step's result. */
static int check_columns(const char *text, int *last) {
    const char *p = text;
    char line[512];
    int steps = 0;
    *last = -1;
    while (next_line(&p, line, sizeof line)) {
        if (strncmp(line, "Step ", 5) != 0)
            continue;
        steps++;
        if (!check_step(line, &p, last))
            return -steps;
    }
    return steps;
}

/* The result C of the i-th (1-based) "So A op B = C" line of text, or -1. */
static int so_result(const char *text, int i) {
    const char *p = text;
    char line[512];
    while (next_line(&p, line, sizeof line)) {
        int a, b, c;
        char op;
        const char *r = strncmp(line, "So ", 3) == 0 ? parse_calc(line + 3, &a, &op, &b) : NULL;
        if (r && sscanf(r, " = %d", &c) == 1 && --i == 0)
            return c;
    }
    return -1;
}

/* A chain of thought: every step's column work right and the last result
 * the final answer. Returns the number of steps, or -1. */
static int check_steps(const char *cot) {
    int last;
    int steps = check_columns(cot, &last);
    char *ans = final_answer(cot);
    bool ok_final = ans && atoi(ans) == last;
    free(ans);
    return steps > 0 && ok_final ? steps : -1;
}

/* Count the "Step " lines of text and, when first is not NULL, store the
 * number of the first in *first (-1 when there is none). */
static int count_steps(const char *text, int *first) {
    const char *p = text;
    char line[512];
    int n = 0, number = -1;
    while (next_line(&p, line, sizeof line)) {
        if (strncmp(line, "Step ", 5) != 0)
            continue;
        if (n++ == 0 && sscanf(line + 5, "%d", &number) != 1)
            number = -1;
    }
    if (first)
        *first = number;
    return n;
}

/* The arith attempt, logical-consistency review and synthesis. After a
 * planted mistake the synthesis's steps are right. Without one the
 * synthesis is the review line and the final answer alone. The review
 * recomputes the attempt's steps in right column work, from the last step
 * back. Without a planted slip the attempt's steps are all right and the review
 * confirms each ("Correct.") and finds no problem. With a slip the
 * attempt's column work first fails at some step i, the review goes from
 * step n down to step i and stops there with "So A op B = C, not D. Wrong"
 * where D is the attempt's result of step i, and the synthesis's first
 * line names step i. */
static bool check_recheck(const corpus_task *t, bool mistake) {
    const char *review = t->reflection[CORPUS_CONSISTENCY];
    int last;
    if (mistake ? check_columns(t->synthesis, &last) < 2
                : strchr(t->synthesis, '\n') != strrchr(t->synthesis, '\n') ||
                      !strstr(t->synthesis, "stands.\nFinal answer: "))
        return false;
    int attempt = check_columns(t->attempt, &last);
    int checked = check_columns(review, &last);
    int first_review;
    int n_steps = count_steps(t->attempt, NULL);
    count_steps(review, &first_review);
    if (checked < 0 || (checked > 0 && first_review != n_steps))
        return false;
    if (!mistake || t->mistake != CORPUS_MISTAKE_CALC) { /* a left-out step may leave none */
        int corrects = 0;
        for (const char *q = review; (q = strstr(q, ". Correct.")) != NULL; q++)
            corrects++;
        return attempt >= (mistake ? 0 : 2) && checked == attempt && corrects == attempt &&
               !strstr(review, "Wrong") && strstr(review, "No problem found.");
    }
    int bad = -attempt;
    char want[96], head[64];
    snprintf(want, sizeof want, ", not %d. Wrong", so_result(t->attempt, bad));
    snprintf(head, sizeof head, "find a problem: step %d should be ", bad);
    return attempt < 0 && checked == n_steps - bad + 1 && strstr(review, want) &&
           strstr(t->synthesis, head) && !strstr(review, "No problem found.");
}

static const char *const more_words[] = {"taller", "older", "faster", "heavier"};

static const char *const less_words[] = {"shorter", "younger", "slower", "lighter"};
static const char *const most_words[] = {"tallest", "oldest", "fastest", "heaviest"};
static const char *const least_words[] = {"shortest", "youngest", "slowest", "lightest"};

/* Return whether w is one of the four words of a relation list. */
static bool is_one_of(const char *w, const char *const list[4]) {
    for (int r = 0; r < 4; r++)
        if (strcmp(w, list[r]) == 0)
            return true;
    return false;
}

/* Solve an ordering question from its facts; NULL when not understood. */
static char *solve_ordering(const char *question) {
    char names[8][32];
    int n = 0, above[8] = {0}, below[8] = {0};
    bool ask_most = false, understood = false;
    char *q = strdup(question);
    char *save = NULL;
    for (char *s = strtok_r(q, ".?", &save); s; s = strtok_r(NULL, ".?", &save)) {
        while (*s == ' ')
            s++;
        char x[32], w[32], y[32];
        if (sscanf(s, "Who is the %31s", w) == 1) {
            if (is_one_of(w, most_words))
                ask_most = understood = true;
            if (is_one_of(w, least_words))
                understood = true;
            continue;
        }
        if (sscanf(s, "%31s is %31s than %31s", x, w, y) != 3)
            continue;
        int ix = -1, iy = -1;
        for (int i = 0; i < n; i++) {
            if (strcmp(names[i], x) == 0)
                ix = i;
            if (strcmp(names[i], y) == 0)
                iy = i;
        }
        if (ix < 0 && n < 8) {
            snprintf(names[n], sizeof names[n], "%s", x);
            ix = n++;
        }
        if (iy < 0 && n < 8) {
            snprintf(names[n], sizeof names[n], "%s", y);
            iy = n++;
        }
        bool more = is_one_of(w, more_words);
        int hi = more ? ix : iy, lo = more ? iy : ix;
        below[hi]++; /* hi has someone below it */
        above[lo]++;
    }
    free(q);
    if (!understood)
        return NULL;
    int found = -1, count = 0;
    for (int i = 0; i < n; i++)
        if ((ask_most && above[i] == 0) || (!ask_most && below[i] == 0)) {
            found = i;
            count++;
        }
    return count == 1 ? strdup(names[found]) : NULL;
}

/* Check an ordering's chain of thought. It opens with "To find the ADJ,
 * walk down with >." for the least or "walk up with <." for the most. One
 * "Fact:" line per question fact follows, "Fact: X is W than Y, so A S B.",
 * where "X is W than Y." is a sentence of the question and "A S B" is that
 * fact with sign S (A > B: A is more; A < B: A is less). Then "Walk:" has
 * sentences "A S B.": the first A starts the first fact's link, each A is
 * the B before it and each sentence is a fact line's link. The last is
 * "Z S no one." with no link leading on from Z, and "So the ADJ is Z."
 * follows. */
static bool check_chain(const char *question, const char *cot) {
    char adj[32];
    const char *ask = strstr(question, "Who is the ");
    if (!ask || sscanf(ask, "Who is the %31[a-z]", adj) != 1)
        return false;
    bool most = is_one_of(adj, most_words);
    const char *sign = most ? "<" : ">";
    char first[96];
    snprintf(first, sizeof first, "To find the %s, walk %s with %s.\n", adj, most ? "up" : "down",
             sign);
    if (strncmp(cot, first, strlen(first)) != 0)
        return false;

    char from[4][32], to[4][32], line[256];
    int n_facts = 0;
    const char *p = cot + strlen(first);
    while (strncmp(p, "Fact: ", 6) == 0) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len >= sizeof line || n_facts == 4)
            return false;
        memcpy(line, p, len);
        line[len] = '\0';
        p = eol ? eol + 1 : p + len;
        char x[32], w[32], y[32], s[8], stated[128];
        int used = 0;
        if (sscanf(line, "Fact: %31s is %31s than %31[^,], so %31s %7s %31[^.].%n", x, w, y,
                   from[n_facts], s, to[n_facts], &used) != 6 ||
            (size_t)used != len || strcmp(s, sign) != 0 ||
            !(is_one_of(w, more_words) || is_one_of(w, less_words)))
            return false;
        snprintf(stated, sizeof stated, "%s is %s than %s.", x, w, y);
        if (!strstr(question, stated))
            return false;
        /* The link puts the fact's people in the order its sign gives. */
        bool stated_order = is_one_of(w, more_words) != most;
        if (strcmp(from[n_facts], stated_order ? x : y) != 0 ||
            strcmp(to[n_facts], stated_order ? y : x) != 0)
            return false;
        n_facts++;
    }
    int n_stated = 0;
    for (const char *q = strstr(question, " than "); q; q = strstr(q + 1, " than "))
        n_stated++;
    if (n_facts < 2 || n_facts != n_stated || strncmp(p, "Walk:", 5) != 0)
        return false;

    /* The walk, one sentence at a time. */
    const char *s = p + 5;
    char cur[32];
    snprintf(cur, sizeof cur, "%s", from[0]);
    for (int step = 0; step <= n_facts; step++) {
        char a[32], sw[8], b[32];
        int used = 0;
        if (sscanf(s, " %31s %7s %31[^.].%n", a, sw, b, &used) != 3 || !used ||
            strcmp(a, cur) != 0 || strcmp(sw, sign) != 0)
            return false;
        s += used;
        int k = 0;
        while (k < n_facts && strcmp(from[k], cur) != 0)
            k++;
        if (strcmp(b, "no one") == 0) {
            char end[80];
            snprintf(end, sizeof end, "\nSo the %s is %s.\n", adj, cur);
            return k == n_facts && strncmp(s, end, strlen(end)) == 0;
        }
        if (k == n_facts || strcmp(to[k], b) != 0)
            return false;
        snprintf(cur, sizeof cur, "%s", b);
    }
    return false;
}

/* Syllogism answers by form: a "No" rule, a "Must" question and an "Is x a
 * kind?" question after "x is not ..." or "x cannot ..." are no; the rest
 * (all A are P, chains) are yes. */
static const char *solve_syllogism(const char *q) {
    if (strncmp(q, "No ", 3) == 0 || strstr(q, "Must "))
        return "no";
    const char *last = strrchr(q, '.');
    if (last && strncmp(last + 2, "Is ", 3) == 0 && strstr(last, " a ") &&
        (strstr(q, " is not ") || strstr(q, " cannot ") || strstr(q, " does not ")))
        return "no";
    return "yes";
}

/* Commonsense comparison: the object whose stated figure is larger or
 * smaller, read from the chain of thought's two figure lines. */
static bool check_comparison(const corpus_task *t) {
    const char *q = t->question;
    bool want_more = strstr(q, "heavier") || strstr(q, "longer");
    char names[2][64];
    int figs[2], n = 0;
    const char *p = t->cot;
    while (n < 2 && p && *p) {
        const char *eol = strchr(p, '\n');
        char line[256];
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len >= sizeof line)
            return false;
        memcpy(line, p, len);
        line[len] = '\0';
        char *about = strstr(line, " about ");
        char *verb = strstr(line, " weighs about ");
        if (!verb)
            verb = strstr(line, " is about ");
        if (about && verb) {
            char *name = strchr(line, ' ') + 1; /* skip "A" or "An" */
            *verb = '\0';
            snprintf(names[n], sizeof names[n], "%s", name);
            figs[n++] = atoi(about + 7);
        }
        p = eol ? eol + 1 : NULL;
    }
    if (n != 2 || figs[0] == figs[1])
        return false;
    char qa[80], qb[80];
    snprintf(qa, sizeof qa, " %s or ", names[0]);
    snprintf(qb, sizeof qb, " or a %s?", names[1]);
    char qb2[80];
    snprintf(qb2, sizeof qb2, " or an %s?", names[1]);
    if (!strstr(q, qa) || (!strstr(q, qb) && !strstr(q, qb2)))
        return false; /* the figures are not about the question's objects */
    int win = (figs[0] > figs[1]) == want_more ? 0 : 1;
    return strcmp(t->answer, names[win]) == 0;
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */
/* ------------------------------------------------------------------------ */

static void test_family(corpus_family f) {
    const char *name = corpus_family_name(f);
    uint64_t rng = 1234 + (uint64_t)f;
    int cot_ok = 0, syn_ok = 0, attempt_ok = 0, reviews_ok = 0, solver_ok = 0, solver_n = 0;
    int repeat_ok = 0, repeat_n = 0;
    int short_ok = 0, made = 0, mistakes = 0, recheck_ok = 0;
    bool shown_recheck = false;
    bool shown = false;
    for (int i = 0; i < TASKS_PER_FAMILY; i++) {
        bool mistake = i % 2 == 1;
        corpus_task t;
        lrc_error err;
        if (corpus_task_make(f, &rng, mistake, &t, &err)) {
            diag("%s task %d: %s", name, i, err.msg);
            continue;
        }
        made++;
        mistakes += mistake;
        cot_ok += matches(t.cot, t.answer);
        syn_ok += matches(t.synthesis, t.answer);

        /* The attempt: the chain of thought itself, or a wrong answer. */
        if (mistake)
            attempt_ok += !matches(t.attempt, t.answer) && final_answer_of_ok(t.attempt);
        else
            attempt_ok += strcmp(t.attempt, t.cot) == 0;

        /* Reviews: the matching perspective flags, the others (but the
         * alternative-solutions one) report no problem. */
        bool good = true;
        for (int p = 0; p < CORPUS_N_PERSPECTIVES; p++) {
            bool clear = strstr(t.reflection[p], "No problem found.") != NULL;
            if (p == CORPUS_ALTERNATIVE)
                continue;
            if (mistake && p == (int)t.caught_by)
                good = good && !clear;
            else
                good = good && clear;
        }
        if (!mistake)
            good = good && strstr(t.reflection[CORPUS_ALTERNATIVE], "No problem found.") &&
                   strstr(t.synthesis, "no problem");
        else
            good = good && strstr(t.synthesis, "find a problem");
        reviews_ok += good;

        /* A consistency review that finds nothing, and a generic reflection
         * that finds the attempt correct, end by repeating its answer. */
        char *attempt_answer = final_answer(t.attempt);
        const char *ends[] = {"No problem found.", "The attempt is correct."};
        const char *reviews[] = {t.reflection[CORPUS_CONSISTENCY], t.reflect};
        for (int k = 0; k < 2; k++) {
            if (!strstr(reviews[k], ends[k]))
                continue;
            char tail[160];
            snprintf(tail, sizeof tail, "%s The attempt's answer is %s.", ends[k],
                     attempt_answer ? attempt_answer : "?");
            size_t review_len = strlen(reviews[k]), tail_len = strlen(tail);
            repeat_n++;
            repeat_ok += attempt_answer && review_len >= tail_len &&
                         strcmp(reviews[k] + review_len - tail_len, tail) == 0;
        }
        free(attempt_answer);

        /* Reflections are short; in arith the two that recompute the steps
         * in columns may take up to six lines a step and two more. */
        int long_limit = f == CORPUS_ARITH ? 20 : 5;
        bool short_enough = count_lines(t.reflect) <= long_limit;
        for (int p = 0; p < CORPUS_N_PERSPECTIVES; p++)
            short_enough = short_enough && count_lines(t.reflection[p]) <=
                                               (p == CORPUS_CONSISTENCY ? long_limit : 5);
        short_ok += short_enough;

        if (f == CORPUS_ARITH) {
            bool good_cols = check_recheck(&t, mistake);
            recheck_ok += good_cols;
            if (!good_cols && !shown_recheck) {
                diag("arith: column review disagrees:\n%s\n--\n%s", t.attempt,
                     t.reflection[CORPUS_CONSISTENCY]);
                shown_recheck = true;
            }
        }

        /* Independent solvers. */
        bool solved = true, tried = true;
        if (f == CORPUS_ARITH) {
            int v = solve_arith(t.question);
            solved =
                v >= 0 && atoi(t.answer) == v && check_steps(t.cot) >= 2 && check_steps(t.cot) <= 3;
        } else if (f == CORPUS_LOGIC && strstr(t.question, "Who is the ")) {
            char *who = solve_ordering(t.question);
            solved = who && strcmp(who, t.answer) == 0 && check_chain(t.question, t.cot);
            free(who);
        } else if (f == CORPUS_LOGIC) {
            solved = strcmp(solve_syllogism(t.question), t.answer) == 0;
        } else if (f == CORPUS_COMMONSENSE && strncmp(t.question, "Which is ", 9) == 0) {
            solved = check_comparison(&t);
        } else if (f == CORPUS_ETHICS) {
            char opt[8];
            snprintf(opt, sizeof opt, "\n%s) ", t.answer);
            solved = strlen(t.answer) == 1 && strstr(t.question, opt) != NULL;
        } else {
            tried = false;
        }
        solver_n += tried;
        solver_ok += tried && solved;
        if (tried && !solved && !shown) {
            diag("%s: solver disagrees on \"%s\" (answer %s)\n%s", name, t.question, t.answer,
                 t.cot);
            shown = true;
        }
        corpus_task_free(&t);
    }
    ok(made == TASKS_PER_FAMILY, "%s: %d tasks made", name, made);
    ok(cot_ok == made, "%s: cot final answer matches (%d/%d)", name, cot_ok, made);
    ok(syn_ok == made, "%s: synthesis final answer matches (%d/%d)", name, syn_ok, made);
    ok(attempt_ok == made, "%s: attempts right or wrong as planted (%d/%d)", name, attempt_ok,
       made);
    ok(reviews_ok == made, "%s: reviews flag the planted mistake (%d/%d)", name, reviews_ok, made);
    ok(repeat_n > made && repeat_ok == repeat_n, "%s: passing reviews repeat the answer (%d/%d)",
       name, repeat_ok, repeat_n);
    ok(short_ok == made, "%s: reflections short (%d/%d)", name, short_ok, made);
    if (f == CORPUS_ARITH)
        ok(recheck_ok == made, "%s: column work of attempts and reviews (%d/%d)", name, recheck_ok,
           made);
    ok(solver_n >= made / 4 && solver_ok == solver_n, "%s: independent solver agrees (%d/%d)", name,
       solver_ok, solver_n);
}

int main(void) {
    for (int f = 0; f < CORPUS_N_FAMILIES; f++)
        test_family((corpus_family)f);

    /* Same stream, same task. */
    for (int f = 0; f < CORPUS_N_FAMILIES; f++) {
        uint64_t r1 = 99, r2 = 99;
        corpus_task a, b;
        lrc_error err;
        int rc = corpus_task_make((corpus_family)f, &r1, true, &a, &err);
        rc |= corpus_task_make((corpus_family)f, &r2, true, &b, &err);
        ok(rc == 0 && strcmp(a.question, b.question) == 0 && strcmp(a.synthesis, b.synthesis) == 0,
           "%s: same seed gives the same task", corpus_family_name((corpus_family)f));
        if (rc == 0) {
            corpus_task_free(&a);
            corpus_task_free(&b);
        }
    }

    /* Names. */
    ok(strcmp(corpus_family_name(CORPUS_ARITH), "arith") == 0 &&
           strcmp(corpus_family_name(CORPUS_COMMONSENSE), "commonsense") == 0 &&
           strcmp(corpus_family_name(CORPUS_ETHICS), "ethics") == 0 &&
           strcmp(corpus_family_name(CORPUS_LOGIC), "logic") == 0,
       "family names");
    double share = 0;
    for (int f = 0; f < CORPUS_N_FAMILIES; f++)
        share += corpus_family_share((corpus_family)f);
    ok(share > 0.999 && share < 1.001, "family shares sum to 1");
    return done_testing();
}
